//! Socket options, with libzmq's names and defaults.
//!
//! The socket exposes typed getters and setters (`Socket::set_sndhwm`,
//! `Socket::sndhwm`, ...); this module holds the values and checks them.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

use zlink_mq_core::z85;
use zlink_mq_core::zmtp::curve::SecretKey;

use crate::transport::{Authenticator, CurveAuthenticator};

use crate::base::error::{Error, ErrorKind, Result};
use crate::base::filter::AcceptFilters;
use crate::socket::INPROC_BUSY_WAIT;

/// Every option a socket carries. Defaults are libzmq 4.3's.
pub(crate) struct Options {
    pub sndhwm: u32,
    pub rcvhwm: u32,
    /// `None`: wait forever for pending messages at close (libzmq's -1).
    pub linger: Option<Duration>,
    pub routing_id: Option<Vec<u8>>,
    /// ZMQ_METADATA: application properties (`X-...`) sent in READY,
    /// sorted by name as libzmq's map keeps them.
    pub metadata: std::collections::BTreeMap<String, String>,
    /// Routing id to assign to the next connected peer (ROUTER).
    pub connect_routing_id: Option<Vec<u8>>,
    pub router_mandatory: bool,
    pub router_handover: bool,
    /// STREAM_NOTIFY: a STREAM socket receives `[id, ""]` on connect and
    /// disconnect.
    pub stream_notify: bool,
    /// PROBE_ROUTER: ROUTER and DEALER send an empty message to each new
    /// peer.
    pub probe_router: bool,
    /// XPUB_WELCOME_MSG: what an XPUB sends each new subscriber first.
    pub xpub_welcome_msg: Option<Vec<u8>>,
    pub xpub_verbose: bool,
    pub xpub_verboser: bool,
    pub xpub_nodrop: bool,
    /// XPUB_MANUAL: the application applies the peers' subscriptions.
    pub xpub_manual: bool,
    pub invert_matching: bool,
    pub req_correlate: bool,
    pub req_relaxed: bool,
    pub immediate: bool,
    pub conflate: bool,
    pub reconnect_ivl: Option<Duration>,
    pub reconnect_ivl_max: Option<Duration>,
    pub heartbeat_ivl: Option<Duration>,
    pub heartbeat_ttl: Option<Duration>,
    pub heartbeat_timeout: Option<Duration>,
    pub handshake_ivl: Option<Duration>,
    pub maxmsgsize: Option<u64>,
    pub sndtimeo: Option<Duration>,
    pub rcvtimeo: Option<Duration>,
    /// How long a blocking call busy-waits before it sleeps when every
    /// endpoint is inproc (no libzmq equivalent; zero: never).
    pub inproc_busy_wait: Duration,
    /// `None`: leave the OS default (libzmq's -1).
    pub tcp_keepalive: Option<bool>,
    pub tcp_keepalive_cnt: Option<u32>,
    pub tcp_keepalive_idle: Option<Duration>,
    pub tcp_keepalive_intvl: Option<Duration>,
    pub backlog: u32,
    pub ipv6: bool,
    /// TCP_ACCEPT_FILTER and the IPC filters, applied by listeners.
    pub accept_filters: AcceptFilters,
    /// USE_FD: the listening socket the next tcp or ipc bind takes.
    pub use_fd: Option<OwnedFd>,
    /// BINDTODEVICE: the network device of tcp sockets (SO_BINDTODEVICE).
    pub bindtodevice: Option<String>,
    /// SOCKS_PROXY (`[source;]host:port`, checked), SOCKS_USERNAME and
    /// SOCKS_PASSWORD.
    pub socks_proxy: Option<String>,
    pub socks_username: Vec<u8>,
    pub socks_password: Vec<u8>,
    pub plain_server: bool,
    pub plain_username: Option<Vec<u8>>,
    pub plain_password: Option<Vec<u8>>,
    pub plain_authenticator: Option<Arc<Authenticator>>,
    pub curve_server: bool,
    pub curve_publickey: Option<[u8; 32]>,
    pub curve_secretkey: Option<SecretKey>,
    pub curve_serverkey: Option<[u8; 32]>,
    pub curve_authenticator: Option<Arc<CurveAuthenticator>>,
    pub zap_domain: Vec<u8>,
    pub zap_enforce_domain: bool,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("sndhwm", &self.sndhwm)
            .field("rcvhwm", &self.rcvhwm)
            .finish_non_exhaustive()
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sndhwm: 1000,
            rcvhwm: 1000,
            linger: None,
            routing_id: None,
            metadata: std::collections::BTreeMap::new(),
            connect_routing_id: None,
            router_mandatory: false,
            router_handover: false,
            stream_notify: true,
            probe_router: false,
            xpub_welcome_msg: None,
            xpub_verbose: false,
            xpub_verboser: false,
            xpub_nodrop: false,
            xpub_manual: false,
            invert_matching: false,
            req_correlate: false,
            req_relaxed: false,
            immediate: false,
            conflate: false,
            reconnect_ivl: Some(Duration::from_millis(100)),
            reconnect_ivl_max: None,
            heartbeat_ivl: None,
            heartbeat_ttl: None,
            heartbeat_timeout: None,
            handshake_ivl: Some(Duration::from_secs(30)),
            maxmsgsize: None,
            sndtimeo: None,
            rcvtimeo: None,
            inproc_busy_wait: INPROC_BUSY_WAIT,
            tcp_keepalive: None,
            tcp_keepalive_cnt: None,
            tcp_keepalive_idle: None,
            tcp_keepalive_intvl: None,
            backlog: 100,
            ipv6: false,
            accept_filters: AcceptFilters::default(),
            use_fd: None,
            bindtodevice: None,
            socks_proxy: None,
            socks_username: Vec::new(),
            socks_password: Vec::new(),
            plain_server: false,
            zap_domain: Vec::new(),
            zap_enforce_domain: false,
            plain_username: None,
            plain_password: None,
            plain_authenticator: None,
            curve_server: false,
            curve_publickey: None,
            curve_secretkey: None,
            curve_serverkey: None,
            curve_authenticator: None,
        }
    }
}

/// Checks a routing id: 1 to 255 bytes, not starting with a zero byte
/// (those are reserved for ids a ROUTER generates).
pub(crate) fn check_routing_id(id: &[u8]) -> Result<()> {
    if id.is_empty() || id.len() > 255 {
        return Err(Error::with_text(
            ErrorKind::InvalidArgument,
            "a routing id has 1 to 255 bytes",
        ));
    }
    if id[0] == 0 {
        return Err(Error::with_text(
            ErrorKind::InvalidArgument,
            "a routing id must not start with a zero byte",
        ));
    }
    Ok(())
}

/// A CURVE key as libzmq takes it: 32 bytes, or their 40 Z85 characters
/// (optionally followed by a terminating zero byte, as C strings are).
pub(crate) fn curve_key(bytes: &[u8]) -> Result<[u8; 32]> {
    let text = bytes
        .strip_suffix(&[0])
        .filter(|t| t.len() == 40)
        .unwrap_or(bytes);
    match text.len() {
        32 => {
            let mut key = [0u8; 32];
            key.copy_from_slice(text);
            Ok(key)
        }
        40 => z85::decode_key(text)
            .map_err(|e| Error::with_text(ErrorKind::InvalidArgument, format!("CURVE key: {e}"))),
        _ => Err(Error::with_text(
            ErrorKind::InvalidArgument,
            "a CURVE key is 32 bytes or 40 Z85 characters",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_keys_are_raw_or_z85() {
        let z = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
        let raw = curve_key(z).unwrap();
        assert_eq!(curve_key(&raw).unwrap(), raw);
        let mut c_string = z.to_vec();
        c_string.push(0);
        assert_eq!(curve_key(&c_string).unwrap(), raw);
        assert!(curve_key(&z[..39]).is_err());
        assert!(curve_key(b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf ").is_err());
        assert!(curve_key(&[0; 33]).is_err());
    }

    #[test]
    fn routing_ids_are_checked_as_libzmq_does() {
        assert!(check_routing_id(b"a").is_ok());
        assert!(check_routing_id(&[1; 255]).is_ok());
        assert!(check_routing_id(b"").is_err());
        assert!(check_routing_id(&[1; 256]).is_err());
        assert!(check_routing_id(b"\0abc").is_err());
    }
}
