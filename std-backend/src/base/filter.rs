//! Who may connect: the accept filters of libzmq's ZMQ_TCP_ACCEPT_FILTER
//! (client addresses, in CIDR notation) and ZMQ_IPC_FILTER_UID / GID / PID
//! (the credentials of an IPC client).

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use crate::base::error::{Error, ErrorKind, Result};

/// A network and prefix length, `address[/bits]`, as libzmq's
/// `tcp_address_mask_t` parses it: a numeric address (no name lookups), an
/// optional prefix length of 0 to 32 (IPv4) or 128 (IPv6), the whole
/// address without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AddrMask {
    net: IpAddr,
    bits: u8,
}

impl AddrMask {
    /// Parses a filter. As in libzmq, an IPv6 address needs `ipv6` (the
    /// socket's ZMQ_IPV6 when the filter is set), and a prefix length is
    /// `0` or a number from 1 up to the address's length, nothing else.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for anything else.
    pub(crate) fn parse(text: &str, ipv6: bool) -> Result<Self> {
        let invalid = || {
            Error::with_text(
                ErrorKind::InvalidArgument,
                format!("{text:?}: a TCP accept filter is address[/bits]"),
            )
        };
        let (addr, bits) = match text.rsplit_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (text, None),
        };
        let net: IpAddr = addr.parse().map_err(|_| invalid())?;
        if net.is_ipv6() && !ipv6 {
            return Err(invalid());
        }
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some("0") => 0,
            Some(b) => match b.parse::<u8>() {
                Ok(n) if (1..=max).contains(&n) && b.bytes().all(|c| c.is_ascii_digit()) => n,
                _ => return Err(invalid()),
            },
        };
        // An IPv4-mapped IPv6 network is an IPv4 one: clients are compared
        // as IPv4 whichever way the listener sees them.
        if let IpAddr::V6(v6) = net {
            if let (Some(v4), true) = (v6.to_ipv4_mapped(), bits >= 96) {
                return Ok(Self {
                    net: IpAddr::V4(v4),
                    bits: bits - 96,
                });
            }
        }
        Ok(Self { net, bits })
    }

    /// Whether `peer` is in the network (an IPv4-mapped IPv6 peer counts
    /// as IPv4).
    pub(crate) fn matches(&self, peer: IpAddr) -> bool {
        let peer = match peer {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
            v4 => v4,
        };
        let (ours, theirs, len) = match (self.net, peer) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                (u128::from(a.to_bits()), u128::from(b.to_bits()), 32)
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => (a.to_bits(), b.to_bits(), 128),
            _ => return false,
        };
        let shift = len - u32::from(self.bits);
        shift >= len || (ours >> shift) == (theirs >> shift)
    }
}

/// The filters a listener applies to each connection it accepts (a
/// snapshot of the socket's options at `bind`, as in libzmq).
#[derive(Debug, Clone, Default)]
pub(crate) struct AcceptFilters {
    /// ZMQ_TCP_ACCEPT_FILTER: a TCP client must be in one of these
    /// networks (none: every client is).
    pub tcp: Vec<AddrMask>,
    /// ZMQ_IPC_FILTER_UID, _GID and _PID: with any set, an IPC client
    /// must match one of them.
    pub uids: BTreeSet<u32>,
    pub gids: BTreeSet<u32>,
    pub pids: BTreeSet<i32>,
}

impl AcceptFilters {
    /// Whether a TCP client at `peer` may stay connected.
    pub(crate) fn admits_tcp(&self, peer: IpAddr) -> bool {
        self.tcp.is_empty() || self.tcp.iter().any(|m| m.matches(peer))
    }

    /// Whether an IPC client with these credentials (`None`: unknown) may
    /// stay connected, as libzmq decides: no IPC filter, or its uid, gid
    /// or pid is listed, or (asked through `in_group(uid, gid)` for each
    /// listed gid) its user is a member of a listed group.
    pub(crate) fn admits_ipc(
        &self,
        cred: Option<(i32, u32, u32)>,
        in_group: impl Fn(u32, u32) -> bool,
    ) -> bool {
        if self.uids.is_empty() && self.gids.is_empty() && self.pids.is_empty() {
            return true;
        }
        let Some((pid, uid, gid)) = cred else {
            return false;
        };
        self.uids.contains(&uid)
            || self.gids.contains(&gid)
            || self.pids.contains(&pid)
            || self.gids.iter().any(|&g| in_group(uid, g))
    }
}

impl fmt::Display for AddrMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.bits)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_what_libzmq_accepts_and_refuses_the_rest() {
        for bad in [
            "foo",
            "0.0.0.0foo",
            "0.0.0.0/foo",
            "0.0.0.0/",
            "0.0.0.0/-1",
            "0.0.0.0/33",
            "0.0.0.0/00",
            "::1",
            "",
        ] {
            assert!(AddrMask::parse(bad, false).is_err(), "{bad:?}");
        }
        assert!(AddrMask::parse("::1/129", true).is_err());
        let text = |s: &str, v6| AddrMask::parse(s, v6).unwrap().to_string();
        assert_eq!(text("127.0.0.1", false), "127.0.0.1/32");
        assert_eq!(text("10.0.0.0/8", false), "10.0.0.0/8");
        assert_eq!(text("0.0.0.0/0", false), "0.0.0.0/0");
        assert_eq!(text("::1", true), "::1/128");
        assert_eq!(text("::ffff:10.0.0.0/104", true), "10.0.0.0/8");
    }

    #[test]
    fn matches_by_prefix_and_family() {
        let m = |s: &str| AddrMask::parse(s, true).unwrap();
        assert!(m("127.0.0.1/32").matches(ip("127.0.0.1")));
        assert!(!m("127.0.0.255/32").matches(ip("127.0.0.1")));
        assert!(m("127.0.0.0/24").matches(ip("127.0.0.200")));
        assert!(!m("127.0.0.0/25").matches(ip("127.0.0.200")));
        assert!(m("10.0.0.0/7").matches(ip("11.1.2.3")));
        assert!(!m("10.0.0.0/8").matches(ip("11.1.2.3")));
        assert!(m("0.0.0.0/0").matches(ip("192.0.2.1")));
        assert!(!m("0.0.0.0/0").matches(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
        assert!(m("::/0").matches(ip("::1")));
        assert!(m("fe80::/10").matches(ip("febf::1")));
        assert!(!m("fe80::/10").matches(ip("fec0::1")));
        // A client seen through a dual-stack listener.
        assert!(m("127.0.0.1").matches(ip("::ffff:127.0.0.1")));
    }

    #[test]
    fn ipc_clients_pass_on_any_listed_credential_or_group() {
        let no_groups = |_, _| false;
        let mut f = AcceptFilters::default();
        assert!(f.admits_ipc(None, no_groups), "no filter");
        f.uids.insert(1000);
        assert!(f.admits_ipc(Some((7, 1000, 5)), no_groups));
        assert!(!f.admits_ipc(Some((7, 1001, 5)), no_groups));
        assert!(!f.admits_ipc(None, |_, _| true), "unknown credentials");
        f.pids.insert(7);
        assert!(f.admits_ipc(Some((7, 1001, 5)), no_groups));
        f.gids.insert(20);
        assert!(
            f.admits_ipc(Some((8, 1001, 20)), no_groups),
            "primary group"
        );
        assert!(!f.admits_ipc(Some((8, 1001, 21)), no_groups));
        let member_of_20 = |uid, gid| uid == 1001 && gid == 20;
        assert!(f.admits_ipc(Some((8, 1001, 21)), member_of_20), "member");
        assert!(!f.admits_ipc(Some((8, 1002, 21)), member_of_20));
    }
}
