//! `zmq_setsockopt` and `zmq_getsockopt`: every option zlink-mq's socket
//! has, with libzmq's numbers, value types, ranges and errors (EINVAL for
//! an unknown option, a wrong size or a value out of range).
//!
//! A few options concern features zlink-mq does not have or leaves to the
//! OS (multicast rate, kernel buffer sizes, TOS, ...): they are accepted
//! and read back, as libzmq built without the feature accepts them, and
//! change nothing; docs/CAPI.md lists them.

use std::ffi::{c_int, c_void};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::time::Duration;

use crate::error::Errno;
use crate::ffi;
use crate::socket::{CSocket, sock_mut, type_number};

const ZMQ_AFFINITY: c_int = 4;
const ZMQ_ROUTING_ID: c_int = 5;
const ZMQ_SUBSCRIBE: c_int = 6;
const ZMQ_UNSUBSCRIBE: c_int = 7;
const ZMQ_RATE: c_int = 8;
const ZMQ_RECOVERY_IVL: c_int = 9;
const ZMQ_SNDBUF: c_int = 11;
const ZMQ_RCVBUF: c_int = 12;
const ZMQ_RCVMORE: c_int = 13;
const ZMQ_FD: c_int = 14;
const ZMQ_EVENTS: c_int = 15;
const ZMQ_TYPE: c_int = 16;
const ZMQ_LINGER: c_int = 17;
const ZMQ_RECONNECT_IVL: c_int = 18;
const ZMQ_BACKLOG: c_int = 19;
const ZMQ_RECONNECT_IVL_MAX: c_int = 21;
const ZMQ_MAXMSGSIZE: c_int = 22;
const ZMQ_SNDHWM: c_int = 23;
const ZMQ_RCVHWM: c_int = 24;
const ZMQ_MULTICAST_HOPS: c_int = 25;
const ZMQ_RCVTIMEO: c_int = 27;
const ZMQ_SNDTIMEO: c_int = 28;
const ZMQ_IPV4ONLY: c_int = 31;
const ZMQ_LAST_ENDPOINT: c_int = 32;
const ZMQ_ROUTER_MANDATORY: c_int = 33;
const ZMQ_TCP_KEEPALIVE: c_int = 34;
const ZMQ_TCP_KEEPALIVE_CNT: c_int = 35;
const ZMQ_TCP_KEEPALIVE_IDLE: c_int = 36;
const ZMQ_TCP_KEEPALIVE_INTVL: c_int = 37;
const ZMQ_TCP_ACCEPT_FILTER: c_int = 38;
const ZMQ_IMMEDIATE: c_int = 39;
const ZMQ_XPUB_VERBOSE: c_int = 40;
const ZMQ_IPV6: c_int = 42;
const ZMQ_MECHANISM: c_int = 43;
const ZMQ_PLAIN_SERVER: c_int = 44;
const ZMQ_PLAIN_USERNAME: c_int = 45;
const ZMQ_PLAIN_PASSWORD: c_int = 46;
const ZMQ_CURVE_SERVER: c_int = 47;
const ZMQ_CURVE_PUBLICKEY: c_int = 48;
const ZMQ_CURVE_SECRETKEY: c_int = 49;
const ZMQ_CURVE_SERVERKEY: c_int = 50;
const ZMQ_PROBE_ROUTER: c_int = 51;
const ZMQ_REQ_CORRELATE: c_int = 52;
const ZMQ_REQ_RELAXED: c_int = 53;
const ZMQ_CONFLATE: c_int = 54;
const ZMQ_ZAP_DOMAIN: c_int = 55;
/// A draft option of libzmq 4.3 (zmq.h declares it with the draft API).
const ZMQ_ZAP_ENFORCE_DOMAIN: c_int = 93;
const ZMQ_LOOPBACK_FASTPATH: c_int = 94;
const ZMQ_METADATA: c_int = 95;
const ZMQ_MULTICAST_LOOP: c_int = 96;
/// Draft options of libzmq 4.3, here always (as ZAP_ENFORCE_DOMAIN).
const ZMQ_SOCKS_USERNAME: c_int = 99;
const ZMQ_SOCKS_PASSWORD: c_int = 100;

/// The options libzmq clears only with a NULL value: a non-NULL empty
/// one is EINVAL (its `do_setsockopt_string_allow_empty_strict` and
/// `do_setsockopt_set`).
const CLEARED_BY_NULL: [c_int; 6] = [
    ZMQ_TCP_ACCEPT_FILTER,
    ZMQ_IPC_FILTER_PID,
    ZMQ_IPC_FILTER_UID,
    ZMQ_IPC_FILTER_GID,
    ZMQ_BINDTODEVICE,
    ZMQ_SOCKS_PROXY,
];
const ZMQ_ROUTER_HANDOVER: c_int = 56;
const ZMQ_TOS: c_int = 57;
const ZMQ_IPC_FILTER_PID: c_int = 58;
const ZMQ_IPC_FILTER_UID: c_int = 59;
const ZMQ_IPC_FILTER_GID: c_int = 60;
const ZMQ_CONNECT_ROUTING_ID: c_int = 61;
const ZMQ_HANDSHAKE_IVL: c_int = 66;
const ZMQ_SOCKS_PROXY: c_int = 68;
const ZMQ_XPUB_NODROP: c_int = 69;
const ZMQ_XPUB_MANUAL: c_int = 71;
const ZMQ_XPUB_WELCOME_MSG: c_int = 72;
const ZMQ_STREAM_NOTIFY: c_int = 73;
const ZMQ_INVERT_MATCHING: c_int = 74;
const ZMQ_HEARTBEAT_IVL: c_int = 75;
const ZMQ_HEARTBEAT_TTL: c_int = 76;
const ZMQ_HEARTBEAT_TIMEOUT: c_int = 77;
const ZMQ_XPUB_VERBOSER: c_int = 78;
const ZMQ_CONNECT_TIMEOUT: c_int = 79;
const ZMQ_TCP_MAXRT: c_int = 80;
const ZMQ_THREAD_SAFE: c_int = 81;
const ZMQ_MULTICAST_MAXTPDU: c_int = 84;
const ZMQ_USE_FD: c_int = 89;
const ZMQ_BINDTODEVICE: c_int = 92;

const ZMQ_POLLIN: c_int = 1;
const ZMQ_POLLOUT: c_int = 2;

/// Option values libzmq keeps that our socket has no field for (see the
/// module doc), with libzmq's defaults; and the PLAIN credentials as set
/// one at a time.
#[derive(Debug)]
pub(crate) struct Extra {
    affinity: u64,
    rate: c_int,
    recovery_ivl: c_int,
    sndbuf: c_int,
    rcvbuf: c_int,
    multicast_hops: c_int,
    tos: c_int,
    connect_timeout: c_int,
    tcp_maxrt: c_int,
    multicast_maxtpdu: c_int,
    tcp_keepalive_cnt: c_int,
    tcp_keepalive_idle: c_int,
    tcp_keepalive_intvl: c_int,
    /// LOOPBACK_FASTPATH (libzmq applies it on Windows only).
    loopback_fastpath: bool,
    /// MULTICAST_LOOP (for udp and pgm, which we do not build).
    multicast_loop: bool,
    plain_username: Vec<u8>,
    plain_password: Vec<u8>,
    /// CURVE_SECRETKEY as set, for getsockopt (the socket keeps no way to
    /// read its secret back); wiped on drop.
    curve_secretkey: Option<zeroize::Zeroizing<[u8; 32]>>,
    /// USE_FD as set (-1: none), and whether a bind took it since.
    use_fd: c_int,
    use_fd_taken: bool,
}

impl Default for Extra {
    fn default() -> Self {
        Extra {
            affinity: 0,
            rate: 100,
            recovery_ivl: 10_000,
            sndbuf: -1,
            rcvbuf: -1,
            multicast_hops: 1,
            tos: 0,
            connect_timeout: 0,
            tcp_maxrt: 0,
            multicast_maxtpdu: 1500,
            tcp_keepalive_cnt: -1,
            tcp_keepalive_idle: -1,
            tcp_keepalive_intvl: -1,
            loopback_fastpath: false,
            multicast_loop: true,
            plain_username: Vec::new(),
            plain_password: Vec::new(),
            curve_secretkey: None,
            use_fd: -1,
            use_fd_taken: false,
        }
    }
}

impl CSocket {
    /// `zmq_bind`, with ZMQ_USE_FD: the descriptor last set is handed to
    /// the first tcp or ipc bind after it was set, for that call only.
    /// libzmq's listener takes the descriptor as its own (it closes it at
    /// unbind and close) and does so at each bind; a descriptor can be
    /// owned once, so later binds make their own sockets. A bind that
    /// fails before taking it gives it back, open, as libzmq's would.
    pub(crate) fn bind(&mut self, endpoint: &str) -> zlink_mq_std::Result<()> {
        let x = &mut self.extra;
        let stream = endpoint.starts_with("tcp://") || endpoint.starts_with("ipc://");
        if x.use_fd < 0 || x.use_fd_taken || !stream {
            return self.socket.bind(endpoint);
        }
        // SAFETY: ZMQ_USE_FD's contract (libzmq's documentation): the
        // application gives the socket this descriptor, a bound socket,
        // for the bind to listen on and close; it is wrapped once (and
        // unwrapped below if the bind does not take it).
        let fd = unsafe { OwnedFd::from_raw_fd(x.use_fd) };
        self.socket.set_use_fd(Some(fd));
        let result = self.socket.bind(endpoint);
        match self.socket.set_use_fd(None) {
            Some(untaken) => {
                let _ = untaken.into_raw_fd();
            }
            None => self.extra.use_fd_taken = true,
        }
        result
    }
}

fn einval<T>() -> Result<T, Errno> {
    Err(Errno(libc::EINVAL))
}

/// An `int` option value (libzmq wants exactly `sizeof (int)` bytes).
fn int(v: &[u8]) -> Result<c_int, Errno> {
    match <[u8; 4]>::try_from(v) {
        Ok(b) => Ok(c_int::from_ne_bytes(b)),
        Err(_) => einval(),
    }
}

fn int_at_least(v: &[u8], min: c_int) -> Result<c_int, Errno> {
    let i = int(v)?;
    if i < min { einval() } else { Ok(i) }
}

/// A 0 / 1 option (libzmq accepts any non-negative int; 0 is off).
fn flag(v: &[u8]) -> Result<bool, Errno> {
    Ok(int_at_least(v, 0)? != 0)
}

fn i64_value(v: &[u8]) -> Result<i64, Errno> {
    match <[u8; 8]>::try_from(v) {
        Ok(b) => Ok(i64::from_ne_bytes(b)),
        Err(_) => einval(),
    }
}

fn ms(i: c_int) -> Duration {
    Duration::from_millis(u64::try_from(i).unwrap_or(0))
}

/// -1 is "forever" / "none"; other negatives are invalid.
fn ms_or_none(v: &[u8]) -> Result<Option<Duration>, Errno> {
    match int_at_least(v, -1)? {
        -1 => Ok(None),
        i => Ok(Some(ms(i))),
    }
}

/// 0 is "off".
fn ms_or_off(v: &[u8]) -> Result<Option<Duration>, Errno> {
    match int_at_least(v, 0)? {
        0 => Ok(None),
        i => Ok(Some(ms(i))),
    }
}

fn ms_of(d: Option<Duration>, none: c_int) -> c_int {
    d.map_or(none, |d| {
        c_int::try_from(d.as_millis()).unwrap_or(c_int::MAX)
    })
}

fn hwm(v: &[u8]) -> Result<u32, Errno> {
    Ok(int_at_least(v, 0)? as u32)
}

/// A CURVE key option's value: 32 bytes, or 40 Z85 characters (41 with
/// the NUL a C string brings, as libzmq accepts).
fn curve_key(v: &[u8]) -> Result<&[u8], Errno> {
    match v.len() {
        32 | 40 => Ok(v),
        41 if v[40] == 0 => Ok(&v[..40]),
        _ => einval(),
    }
}

fn set(sock: &mut CSocket, option: c_int, v: &[u8]) -> Result<(), Errno> {
    let s = &mut sock.socket;
    let x = &mut sock.extra;
    match option {
        ZMQ_SNDHWM => s.set_sndhwm(hwm(v)?),
        ZMQ_RCVHWM => s.set_rcvhwm(hwm(v)?),
        ZMQ_LINGER => s.set_linger(ms_or_none(v)?),
        ZMQ_SNDTIMEO => s.set_sndtimeo(ms_or_none(v)?),
        ZMQ_RCVTIMEO => s.set_rcvtimeo(ms_or_none(v)?),
        ZMQ_ROUTING_ID => s.set_routing_id(v)?,
        ZMQ_CONNECT_ROUTING_ID => s.set_connect_routing_id(v)?,
        ZMQ_SUBSCRIBE | ZMQ_UNSUBSCRIBE => {
            let r = if option == ZMQ_SUBSCRIBE {
                s.subscribe(v)
            } else {
                s.unsubscribe(v)
            };
            match r {
                Ok(()) => {}
                // libzmq answers EINVAL for an option the type lacks.
                Err(e) if e.kind() == zlink_mq_std::ErrorKind::NotSupported => return einval(),
                Err(e) => return Err(e.into()),
            }
        }
        ZMQ_ROUTER_MANDATORY => s.set_router_mandatory(flag(v)?),
        ZMQ_ROUTER_HANDOVER => s.set_router_handover(flag(v)?),
        ZMQ_PROBE_ROUTER => s.set_probe_router(flag(v)?)?,
        ZMQ_XPUB_WELCOME_MSG => s.set_xpub_welcome_msg(Some(v))?,
        // A STREAM option only, taking 0 or 1 (libzmq's strict boolean).
        ZMQ_STREAM_NOTIFY => match int_at_least(v, 0)? {
            on @ (0 | 1) if s.socket_type() == zlink_mq_std::SocketType::Stream => {
                s.set_stream_notify(on == 1)
            }
            _ => return einval(),
        },
        ZMQ_REQ_CORRELATE => s.set_req_correlate(flag(v)?),
        ZMQ_REQ_RELAXED => s.set_req_relaxed(flag(v)?),
        ZMQ_XPUB_VERBOSE => s.set_xpub_verbose(flag(v)?),
        ZMQ_XPUB_VERBOSER => s.set_xpub_verboser(flag(v)?),
        ZMQ_XPUB_NODROP => s.set_xpub_nodrop(flag(v)?),
        // Set only, as libzmq (its getsockopt does not know it).
        ZMQ_XPUB_MANUAL => s.set_xpub_manual(flag(v)?)?,
        ZMQ_INVERT_MATCHING => s.set_invert_matching(flag(v)?),
        ZMQ_CONFLATE => s.set_conflate(flag(v)?),
        ZMQ_IMMEDIATE => s.set_immediate(flag(v)?),
        ZMQ_RECONNECT_IVL => s.set_reconnect_ivl(ms_or_none(v)?),
        ZMQ_RECONNECT_IVL_MAX => s.set_reconnect_ivl_max(ms_or_off(v)?),
        ZMQ_HEARTBEAT_IVL => s.set_heartbeat_ivl(ms_or_off(v)?),
        ZMQ_HEARTBEAT_TTL => {
            // Carried in deciseconds on the wire, at most 0xffff of them.
            let i = int_at_least(v, 0)?;
            if i / 100 > 0xffff {
                return einval();
            }
            s.set_heartbeat_ttl(if i < 100 {
                None
            } else {
                Some(ms(i / 100 * 100))
            });
        }
        ZMQ_HEARTBEAT_TIMEOUT => s.set_heartbeat_timeout(ms_or_none(v)?),
        ZMQ_HANDSHAKE_IVL => s.set_handshake_ivl(ms_or_off(v)?),
        ZMQ_MAXMSGSIZE => {
            let i = i64_value(v)?;
            if i < -1 {
                return einval();
            }
            s.set_maxmsgsize(u64::try_from(i).ok());
        }
        ZMQ_TCP_KEEPALIVE => {
            let i = int_at_least(v, -1)?;
            if i > 1 {
                return einval();
            }
            s.set_tcp_keepalive(if i == -1 { None } else { Some(i == 1) });
        }
        ZMQ_TCP_KEEPALIVE_CNT | ZMQ_TCP_KEEPALIVE_IDLE | ZMQ_TCP_KEEPALIVE_INTVL => {
            let i = int_at_least(v, -1)?;
            if i == 0 {
                return einval();
            }
            match option {
                ZMQ_TCP_KEEPALIVE_CNT => x.tcp_keepalive_cnt = i,
                ZMQ_TCP_KEEPALIVE_IDLE => x.tcp_keepalive_idle = i,
                _ => x.tcp_keepalive_intvl = i,
            }
            let opt = |i: c_int| u32::try_from(i).ok();
            s.set_tcp_keepalive_params(
                opt(x.tcp_keepalive_cnt),
                opt(x.tcp_keepalive_idle).map(|secs| Duration::from_secs(secs.into())),
                opt(x.tcp_keepalive_intvl).map(|secs| Duration::from_secs(secs.into())),
            );
        }
        ZMQ_TCP_ACCEPT_FILTER => {
            // Empty (NULL) clears. A C string's NUL ends the text, as it
            // does for libzmq's parser.
            if v.len() > 255 {
                return einval();
            }
            let text = v.strip_suffix(&[0]).unwrap_or(v);
            if text.is_empty() {
                s.clear_tcp_accept_filters();
            } else {
                let text = std::str::from_utf8(text).map_err(|_| Errno(libc::EINVAL))?;
                s.add_tcp_accept_filter(text)?;
            }
        }
        // An id of exactly its C type's size adds; NULL clears.
        ZMQ_IPC_FILTER_UID | ZMQ_IPC_FILTER_GID | ZMQ_IPC_FILTER_PID if v.is_empty() => {
            match option {
                ZMQ_IPC_FILTER_UID => s.clear_ipc_filter_uids(),
                ZMQ_IPC_FILTER_GID => s.clear_ipc_filter_gids(),
                _ => s.clear_ipc_filter_pids(),
            }
        }
        ZMQ_IPC_FILTER_UID => s.add_ipc_filter_uid(int(v)? as libc::uid_t),
        ZMQ_IPC_FILTER_GID => s.add_ipc_filter_gid(int(v)? as libc::gid_t),
        ZMQ_IPC_FILTER_PID => s.add_ipc_filter_pid(int(v)? as libc::pid_t),
        ZMQ_USE_FD => {
            // Only a number here: the descriptor is taken at the next
            // tcp or ipc bind (`Extra::take_use_fd`), as libzmq's listener
            // takes it, so a socket closed without binding leaves it open.
            x.use_fd = int_at_least(v, -1)?;
            x.use_fd_taken = false;
        }
        ZMQ_BINDTODEVICE => {
            // At most IFNAMSIZ bytes, as libzmq; empty: none. A C string's
            // NUL ends the name.
            if v.len() > 16 {
                return einval();
            }
            let name = v.strip_suffix(&[0]).unwrap_or(v);
            let name = std::str::from_utf8(name).map_err(|_| Errno(libc::EINVAL))?;
            s.set_bindtodevice(Some(name).filter(|n| !n.is_empty()))?;
        }
        ZMQ_SOCKS_PROXY => {
            // Empty (NULL): none. A C string's NUL ends the address.
            let text = v.strip_suffix(&[0]).unwrap_or(v);
            let text = std::str::from_utf8(text).map_err(|_| Errno(libc::EINVAL))?;
            s.set_socks_proxy(Some(text).filter(|t| !t.is_empty()))?;
        }
        // NULL or empty: none (libzmq makes them equivalent).
        ZMQ_SOCKS_USERNAME => s.set_socks_username(v)?,
        ZMQ_SOCKS_PASSWORD => s.set_socks_password(v)?,
        ZMQ_BACKLOG => s.set_backlog(int_at_least(v, 0)? as u32),
        ZMQ_IPV6 => s.set_ipv6(flag(v)?),
        ZMQ_IPV4ONLY => {
            let i = int_at_least(v, 0)?;
            if i > 1 {
                return einval();
            }
            s.set_ipv6(i == 0);
        }
        ZMQ_PLAIN_SERVER => match int(v)? {
            1 => s.set_plain_server(None::<fn(&[u8], &[u8]) -> bool>),
            // Our socket cannot go back from PLAIN server to NULL.
            0 if !s.plain_server() => {}
            _ => return einval(),
        },
        ZMQ_PLAIN_USERNAME | ZMQ_PLAIN_PASSWORD => {
            if v.len() > 255 {
                return einval();
            }
            if option == ZMQ_PLAIN_USERNAME {
                x.plain_username = v.to_vec();
            } else {
                x.plain_password = v.to_vec();
            }
            s.set_plain_client(&x.plain_username, &x.plain_password)?;
        }
        ZMQ_CURVE_SERVER => s.set_curve_server(flag(v)?),
        ZMQ_CURVE_PUBLICKEY => s.set_curve_publickey(curve_key(v)?).or_else(|_| einval())?,
        ZMQ_CURVE_SECRETKEY => {
            let key = curve_key(v)?;
            s.set_curve_secretkey(key).or_else(|_| einval())?;
            x.curve_secretkey = Some(zeroize::Zeroizing::new(
                zlink_mq_std::curve::raw_key(key).or_else(|_| einval())?,
            ));
        }
        ZMQ_CURVE_SERVERKEY => s.set_curve_serverkey(curve_key(v)?).or_else(|_| einval())?,
        ZMQ_ZAP_DOMAIN => s.set_zap_domain(v)?,
        ZMQ_METADATA => {
            // "X-name:value"; like libzmq, a value of an int's size is
            // taken for an int and refused.
            if v.is_empty() || v.len() == std::mem::size_of::<c_int>() {
                return einval();
            }
            let text = std::str::from_utf8(v).map_err(|_| Errno(libc::EINVAL))?;
            match text.split_once(':') {
                Some((name, value)) if !name.is_empty() => s.add_metadata(name, value)?,
                _ => return einval(),
            }
        }
        ZMQ_ZAP_ENFORCE_DOMAIN => s.set_zap_enforce_domain(flag(v)?),
        ZMQ_AFFINITY => x.affinity = i64_value(v)? as u64,
        ZMQ_RATE => x.rate = int_at_least(v, 1)?,
        // Any int, non-zero meaning on (libzmq's "relaxed" booleans).
        ZMQ_LOOPBACK_FASTPATH => x.loopback_fastpath = int_at_least(v, c_int::MIN)? != 0,
        ZMQ_MULTICAST_LOOP => x.multicast_loop = int_at_least(v, c_int::MIN)? != 0,
        ZMQ_RECOVERY_IVL => x.recovery_ivl = int_at_least(v, 0)?,
        ZMQ_SNDBUF => x.sndbuf = int_at_least(v, -1)?,
        ZMQ_RCVBUF => x.rcvbuf = int_at_least(v, -1)?,
        ZMQ_MULTICAST_HOPS => x.multicast_hops = int_at_least(v, 1)?,
        ZMQ_TOS => x.tos = int_at_least(v, 0)?,
        ZMQ_CONNECT_TIMEOUT => x.connect_timeout = int_at_least(v, 0)?,
        ZMQ_TCP_MAXRT => x.tcp_maxrt = int_at_least(v, 0)?,
        ZMQ_MULTICAST_MAXTPDU => x.multicast_maxtpdu = int_at_least(v, 1)?,
        _ => return einval(),
    }
    Ok(())
}

/// What `zmq_getsockopt` writes.
enum Value {
    Int(c_int),
    I64(i64),
    U64(u64),
    /// Binary: exactly its bytes.
    Bin(Vec<u8>),
    /// A C string: its bytes and a NUL.
    Str(Vec<u8>),
    /// A CURVE key: 32 bytes into a buffer of 32, else 40 Z85 characters
    /// and a NUL (libzmq decides by the buffer's size).
    Key([u8; 32]),
}

fn get(sock: &mut CSocket, option: c_int) -> Result<Value, Errno> {
    use Value::{Bin, I64, Int, Key, Str, U64};
    let s = &mut sock.socket;
    let x = &sock.extra;
    let b = |on: bool| Int(c_int::from(on));
    Ok(match option {
        ZMQ_SNDHWM => Int(s.sndhwm() as c_int),
        ZMQ_RCVHWM => Int(s.rcvhwm() as c_int),
        ZMQ_LINGER => Int(ms_of(s.linger(), -1)),
        ZMQ_SNDTIMEO => Int(ms_of(s.sndtimeo(), -1)),
        ZMQ_RCVTIMEO => Int(ms_of(s.rcvtimeo(), -1)),
        ZMQ_ROUTING_ID => Bin(s.routing_id().unwrap_or_default().to_vec()),
        ZMQ_TYPE => Int(type_number(s.socket_type())),
        ZMQ_RCVMORE => b(s.rcvmore()),
        ZMQ_FD => Int(s.fd().as_raw_fd()),
        ZMQ_EVENTS => {
            let e = s.events()?;
            Int(if e.readable { ZMQ_POLLIN } else { 0 } | if e.writable { ZMQ_POLLOUT } else { 0 })
        }
        ZMQ_LAST_ENDPOINT => Str(s.last_endpoint().unwrap_or_default().as_bytes().to_vec()),
        ZMQ_ROUTER_MANDATORY => b(s.router_mandatory()),
        ZMQ_ROUTER_HANDOVER => b(s.router_handover()),
        ZMQ_REQ_CORRELATE => b(s.req_correlate()),
        ZMQ_REQ_RELAXED => b(s.req_relaxed()),
        ZMQ_XPUB_VERBOSE => b(s.xpub_verbose()),
        ZMQ_XPUB_VERBOSER => b(s.xpub_verboser()),
        ZMQ_XPUB_NODROP => b(s.xpub_nodrop()),
        ZMQ_INVERT_MATCHING => b(s.invert_matching()),
        ZMQ_CONFLATE => b(s.conflate()),
        ZMQ_IMMEDIATE => b(s.immediate()),
        ZMQ_RECONNECT_IVL => Int(ms_of(s.reconnect_ivl(), -1)),
        ZMQ_RECONNECT_IVL_MAX => Int(ms_of(s.reconnect_ivl_max(), 0)),
        ZMQ_HEARTBEAT_IVL => Int(ms_of(s.heartbeat_ivl(), 0)),
        ZMQ_HEARTBEAT_TTL => Int(ms_of(s.heartbeat_ttl(), 0)),
        ZMQ_HEARTBEAT_TIMEOUT => Int(ms_of(s.heartbeat_timeout(), -1)),
        ZMQ_HANDSHAKE_IVL => Int(ms_of(s.handshake_ivl(), 0)),
        ZMQ_MAXMSGSIZE => I64(s.maxmsgsize().map_or(-1, |m| m as i64)),
        ZMQ_TCP_KEEPALIVE => Int(s.tcp_keepalive().map_or(-1, c_int::from)),
        ZMQ_TCP_KEEPALIVE_CNT => Int(x.tcp_keepalive_cnt),
        ZMQ_TCP_KEEPALIVE_IDLE => Int(x.tcp_keepalive_idle),
        ZMQ_TCP_KEEPALIVE_INTVL => Int(x.tcp_keepalive_intvl),
        ZMQ_BACKLOG => Int(s.backlog() as c_int),
        ZMQ_IPV6 => b(s.ipv6()),
        ZMQ_IPV4ONLY => b(!s.ipv6()),
        ZMQ_MECHANISM => Int(if s.curve_server() || s.curve_serverkey().is_some() {
            2
        } else if s.plain_server() || s.plain_username().is_some() {
            1
        } else {
            0
        }),
        ZMQ_PLAIN_SERVER => b(s.plain_server()),
        ZMQ_CURVE_SERVER => b(s.curve_server()),
        ZMQ_CURVE_PUBLICKEY => Key(s.curve_publickey().unwrap_or_default()),
        ZMQ_CURVE_SECRETKEY => Key(x.curve_secretkey.as_deref().copied().unwrap_or_default()),
        ZMQ_CURVE_SERVERKEY => Key(s.curve_serverkey().unwrap_or_default()),
        ZMQ_PLAIN_USERNAME => Str(x.plain_username.clone()),
        ZMQ_PLAIN_PASSWORD => Str(x.plain_password.clone()),
        ZMQ_ZAP_DOMAIN => Str(s.zap_domain().to_vec()),
        ZMQ_ZAP_ENFORCE_DOMAIN => b(s.zap_enforce_domain()),
        ZMQ_THREAD_SAFE => Int(0),
        ZMQ_USE_FD => Int(x.use_fd),
        ZMQ_SOCKS_PROXY => Str(s.socks_proxy().unwrap_or_default().as_bytes().to_vec()),
        ZMQ_SOCKS_USERNAME => Str(s.socks_username().to_vec()),
        ZMQ_SOCKS_PASSWORD => Str(s.socks_password().to_vec()),
        ZMQ_BINDTODEVICE => Str(s.bindtodevice().unwrap_or_default().as_bytes().to_vec()),
        ZMQ_AFFINITY => U64(x.affinity),
        ZMQ_RATE => Int(x.rate),
        ZMQ_LOOPBACK_FASTPATH => b(x.loopback_fastpath),
        ZMQ_MULTICAST_LOOP => b(x.multicast_loop),
        ZMQ_RECOVERY_IVL => Int(x.recovery_ivl),
        ZMQ_SNDBUF => Int(x.sndbuf),
        ZMQ_RCVBUF => Int(x.rcvbuf),
        ZMQ_MULTICAST_HOPS => Int(x.multicast_hops),
        ZMQ_TOS => Int(x.tos),
        ZMQ_CONNECT_TIMEOUT => Int(x.connect_timeout),
        ZMQ_TCP_MAXRT => Int(x.tcp_maxrt),
        ZMQ_MULTICAST_MAXTPDU => Int(x.multicast_maxtpdu),
        _ => return einval(),
    })
}

/// Sets a socket option.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_setsockopt(
    s: *mut c_void,
    option: c_int,
    optval: *const c_void,
    optvallen: usize,
) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a socket handle (checked).
        let sock = unsafe { sock_mut(s) }?;
        let v: &[u8] = if optvallen == 0 {
            if !optval.is_null() && CLEARED_BY_NULL.contains(&option) {
                return einval();
            }
            &[]
        } else if optval.is_null() {
            return einval();
        } else {
            // SAFETY: the C caller passes `optvallen` readable bytes.
            unsafe { std::slice::from_raw_parts(optval.cast(), optvallen) }
        };
        set(sock, option, v)?;
        Ok(0)
    })
}

/// Reads a socket option into `optval` (`*optvallen` bytes of room; set to
/// the size written).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_getsockopt(
    s: *mut c_void,
    option: c_int,
    optval: *mut c_void,
    optvallen: *mut usize,
) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a socket handle (checked).
        let sock = unsafe { sock_mut(s) }?;
        if optvallen.is_null() {
            return Err(Errno(libc::EFAULT));
        }
        // SAFETY: checked non-NULL; the C caller passes a size_t.
        let room = unsafe { *optvallen };
        let value = get(sock, option)?;
        let numeric = matches!(value, Value::Int(_) | Value::I64(_) | Value::U64(_));
        let (bytes, nul): (Vec<u8>, bool) = match value {
            Value::Int(i) => (i.to_ne_bytes().to_vec(), false),
            Value::I64(i) => (i.to_ne_bytes().to_vec(), false),
            Value::U64(i) => (i.to_ne_bytes().to_vec(), false),
            Value::Bin(b) => (b, false),
            Value::Str(b) => (b, true),
            Value::Key(k) if room == k.len() => (k.to_vec(), false),
            Value::Key(k) => (zlink_mq_std::core::z85::encode_key(&k).to_vec(), true),
        };
        let need = bytes.len() + usize::from(nul);
        if room < need {
            return einval();
        }
        if need > 0 && optval.is_null() {
            return Err(Errno(libc::EFAULT));
        }
        // SAFETY: `optval` has `room >= need` writable bytes (the C
        // caller's contract), and `optvallen` is valid (checked above).
        unsafe {
            if numeric {
                // As libzmq: a number in a larger buffer has the rest zeroed.
                std::ptr::write_bytes(optval.cast::<u8>(), 0, room);
            }
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), optval.cast::<u8>(), bytes.len());
            if nul {
                *optval.cast::<u8>().add(bytes.len()) = 0;
            }
            *optvallen = need;
        }
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::c_char;

    use super::*;
    use crate::ctx::{zmq_ctx_new, zmq_ctx_term};
    use crate::socket::{zmq_bind, zmq_close, zmq_connect, zmq_recv, zmq_send, zmq_socket};
    use crate::util::zmq_curve_keypair;

    const ZMQ_REQ: c_int = 3;
    const ZMQ_REP: c_int = 4;

    fn setopt(s: *mut c_void, option: c_int, v: &[u8]) -> c_int {
        zmq_setsockopt(s, option, v.as_ptr().cast(), v.len())
    }

    fn getopt(s: *mut c_void, option: c_int, room: usize) -> Vec<u8> {
        let mut buf = vec![0u8; room];
        let mut len = room;
        assert_eq!(
            zmq_getsockopt(s, option, buf.as_mut_ptr().cast(), &mut len),
            0
        );
        buf.truncate(len);
        buf
    }

    fn keypair() -> ([u8; 40], [u8; 40]) {
        let (mut public, mut secret) = ([0 as c_char; 41], [0 as c_char; 41]);
        assert_eq!(
            zmq_curve_keypair(public.as_mut_ptr(), secret.as_mut_ptr()),
            0
        );
        let text = |k: [c_char; 41]| std::array::from_fn(|i| k[i] as u8);
        (text(public), text(secret))
    }

    /// LOOPBACK_FASTPATH and MULTICAST_LOOP, which libzmq 4.3 takes on
    /// every platform (pyzmq reads them): relaxed booleans with libzmq's
    /// defaults, and ZMQ_METADATA's "X-name:value" checks.
    #[test]
    fn relaxed_booleans_and_metadata_are_taken_as_libzmq_takes_them() {
        let ctx = zmq_ctx_new();
        let s = zmq_socket(ctx, ZMQ_REQ);
        assert_eq!(getopt(s, ZMQ_LOOPBACK_FASTPATH, 4), 0i32.to_ne_bytes());
        assert_eq!(getopt(s, ZMQ_MULTICAST_LOOP, 4), 1i32.to_ne_bytes());
        assert_eq!(setopt(s, ZMQ_LOOPBACK_FASTPATH, &(-5i32).to_ne_bytes()), 0);
        assert_eq!(getopt(s, ZMQ_LOOPBACK_FASTPATH, 4), 1i32.to_ne_bytes());
        assert_eq!(setopt(s, ZMQ_MULTICAST_LOOP, &0i32.to_ne_bytes()), 0);
        assert_eq!(getopt(s, ZMQ_MULTICAST_LOOP, 4), 0i32.to_ne_bytes());
        assert_eq!(setopt(s, ZMQ_MULTICAST_LOOP, &[1u8]), -1, "not an int");
        assert_eq!(setopt(s, ZMQ_METADATA, b"X-key:value"), 0);
        assert_eq!(setopt(s, ZMQ_METADATA, b"key:value"), -1, "no X- prefix");
        assert_eq!(setopt(s, ZMQ_METADATA, b"X-key:"), -1, "no value");
        assert_eq!(setopt(s, ZMQ_METADATA, b"X-ab"), -1, "an int's size");
        assert_eq!(zmq_close(s), 0);
        assert_eq!(zmq_ctx_term(ctx), 0);
    }

    /// A CURVE REQ and REP through the C ABI's options, as a C program
    /// sets them: Z85 keys, read back as Z85 or as 32 bytes.
    #[test]
    fn curve_options_make_a_secure_round_trip() {
        let ctx = zmq_ctx_new();
        let server = zmq_socket(ctx, ZMQ_REP);
        let (server_public, server_secret) = keypair();
        assert_eq!(setopt(server, ZMQ_CURVE_SERVER, &1i32.to_ne_bytes()), 0);
        assert_eq!(setopt(server, ZMQ_CURVE_SECRETKEY, &server_secret), 0);
        assert_eq!(getopt(server, ZMQ_MECHANISM, 4), 2i32.to_ne_bytes());
        let mut z85 = server_public.to_vec();
        z85.push(0);
        assert_eq!(getopt(server, ZMQ_CURVE_PUBLICKEY, 41), z85);
        assert_eq!(getopt(server, ZMQ_CURVE_PUBLICKEY, 32).len(), 32);
        // A key of another length is refused.
        assert_eq!(
            setopt(server, ZMQ_CURVE_SECRETKEY, &server_secret[..39]),
            -1
        );
        assert_eq!(zmq_bind(server, c"tcp://127.0.0.1:*".as_ptr()), 0);
        let endpoint = getopt(server, ZMQ_LAST_ENDPOINT, 256);

        let client = zmq_socket(ctx, ZMQ_REQ);
        let (client_public, client_secret) = keypair();
        assert_eq!(setopt(client, ZMQ_CURVE_SERVERKEY, &server_public), 0);
        assert_eq!(setopt(client, ZMQ_CURVE_PUBLICKEY, &client_public), 0);
        assert_eq!(setopt(client, ZMQ_CURVE_SECRETKEY, &client_secret), 0);
        let mut secret = client_secret.to_vec();
        secret.push(0);
        assert_eq!(getopt(client, ZMQ_CURVE_SECRETKEY, 41), secret);
        let timeout = 10_000i32.to_ne_bytes();
        assert_eq!(setopt(client, ZMQ_RCVTIMEO, &timeout), 0);
        assert_eq!(setopt(server, ZMQ_RCVTIMEO, &timeout), 0);
        assert_eq!(zmq_connect(client, endpoint.as_ptr().cast()), 0);

        assert_eq!(zmq_send(client, b"secret".as_ptr().cast(), 6, 0), 6);
        let mut buf = [0u8; 16];
        assert_eq!(zmq_recv(server, buf.as_mut_ptr().cast(), 16, 0), 6);
        assert_eq!(&buf[..6], b"secret");
        assert_eq!(zmq_send(server, b"ok".as_ptr().cast(), 2, 0), 2);
        assert_eq!(zmq_recv(client, buf.as_mut_ptr().cast(), 16, 0), 2);
        assert_eq!(&buf[..2], b"ok");
        let linger = 0i32.to_ne_bytes();
        setopt(client, ZMQ_LINGER, &linger);
        setopt(server, ZMQ_LINGER, &linger);
        assert_eq!(zmq_close(client), 0);
        assert_eq!(zmq_close(server), 0);
        assert_eq!(zmq_ctx_term(ctx), 0);
    }
}
