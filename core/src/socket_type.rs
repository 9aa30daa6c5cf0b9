//! The eleven standard ZeroMQ socket types, with their ZMTP names and the
//! rule that says which two may talk to each other.
//!
//! A peer announces its type in the `Socket-Type` property of its READY
//! command (RFC 23 / RFC 37, "The Socket-Type Property"); the names are the
//! upper-case strings below, compared exactly. Routing (`routing/`) and the
//! protocol engine (`zmtp/`) share this one enum.
#![forbid(unsafe_code)]

use core::fmt;

/// A ZeroMQ socket type.
///
/// ```
/// use zlink_mq_core::socket_type::SocketType;
///
/// assert_eq!(SocketType::Dealer.zmtp_name(), "DEALER");
/// assert_eq!(SocketType::from_zmtp_name(b"ROUTER"), Some(SocketType::Router));
/// assert!(SocketType::Req.is_compatible(SocketType::Router));
/// assert!(!SocketType::Req.is_compatible(SocketType::Req));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketType {
    /// Exclusive pair (RFC 31).
    Pair,
    /// Publisher (RFC 29).
    Pub,
    /// Subscriber (RFC 29).
    Sub,
    /// Publisher that sees subscriptions (RFC 29).
    XPub,
    /// Subscriber that sends subscriptions as messages (RFC 29).
    XSub,
    /// Asynchronous request / reply, round-robin out, fair-queue in (RFC 28).
    Dealer,
    /// Identity-routed request / reply (RFC 28).
    Router,
    /// Synchronous requester (RFC 28).
    Req,
    /// Synchronous replier (RFC 28).
    Rep,
    /// Pipeline sender (RFC 30).
    Push,
    /// Pipeline receiver (RFC 30).
    Pull,
    /// Raw TCP / IPC connections, no ZMTP (libzmq's `ZMQ_STREAM`): every
    /// message is a routing id and the bytes of one read. It has no
    /// ZMTP peer type, so it is not in [`ALL`](Self::ALL).
    Stream,
}

impl SocketType {
    /// Every socket type that speaks ZMTP, in declaration order (all but
    /// [`Stream`](Self::Stream)).
    pub const ALL: [SocketType; 11] = [
        SocketType::Pair,
        SocketType::Pub,
        SocketType::Sub,
        SocketType::XPub,
        SocketType::XSub,
        SocketType::Dealer,
        SocketType::Router,
        SocketType::Req,
        SocketType::Rep,
        SocketType::Push,
        SocketType::Pull,
    ];

    /// The name this type carries in a READY command's `Socket-Type`
    /// property.
    pub const fn zmtp_name(self) -> &'static str {
        match self {
            SocketType::Pair => "PAIR",
            SocketType::Pub => "PUB",
            SocketType::Sub => "SUB",
            SocketType::XPub => "XPUB",
            SocketType::XSub => "XSUB",
            SocketType::Dealer => "DEALER",
            SocketType::Router => "ROUTER",
            SocketType::Req => "REQ",
            SocketType::Rep => "REP",
            SocketType::Push => "PUSH",
            SocketType::Pull => "PULL",
            SocketType::Stream => "STREAM",
        }
    }

    /// The type a `Socket-Type` property names, if any. The comparison is
    /// exact (case-sensitive), as libzmq's is.
    pub fn from_zmtp_name(name: &[u8]) -> Option<SocketType> {
        SocketType::ALL
            .into_iter()
            .find(|t| t.zmtp_name().as_bytes() == name)
    }

    /// Whether a socket of this type may talk to a peer of type `peer`.
    ///
    /// The valid pairs (either way round) are REQ-REP, REQ-ROUTER,
    /// DEALER-REP, DEALER-DEALER, DEALER-ROUTER, ROUTER-ROUTER, PUB-SUB,
    /// PUB-XSUB, XPUB-SUB, XPUB-XSUB, PUSH-PULL and PAIR-PAIR (RFC 23,
    /// "The Socket-Type Property"; the same table as libzmq's
    /// `mechanism_t::check_socket_type`).
    pub const fn is_compatible(self, peer: SocketType) -> bool {
        use SocketType::*;
        matches!(
            (self, peer),
            (Req, Rep | Router)
                | (Rep, Req | Dealer)
                | (Dealer, Rep | Dealer | Router)
                | (Router, Req | Dealer | Router)
                | (Pub, Sub | XSub)
                | (XPub, Sub | XSub)
                | (Sub, Pub | XPub)
                | (XSub, Pub | XPub)
                | (Push, Pull)
                | (Pull, Push)
                | (Pair, Pair)
        )
    }
}

impl fmt::Display for SocketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.zmtp_name())
    }
}

#[cfg(test)]
mod tests {
    use super::SocketType::{self, *};

    #[test]
    fn names_round_trip() {
        for t in SocketType::ALL {
            assert_eq!(
                SocketType::from_zmtp_name(t.zmtp_name().as_bytes()),
                Some(t)
            );
        }
        assert_eq!(SocketType::from_zmtp_name(b"dealer"), None);
        assert_eq!(SocketType::from_zmtp_name(b""), None);
        assert_eq!(SocketType::from_zmtp_name(b"STREAM"), None);
    }

    #[test]
    fn compatibility_is_the_rfc_table_and_symmetric() {
        let valid = [
            (Req, Rep),
            (Req, Router),
            (Dealer, Rep),
            (Dealer, Dealer),
            (Dealer, Router),
            (Router, Router),
            (Pub, Sub),
            (Pub, XSub),
            (XPub, Sub),
            (XPub, XSub),
            (Push, Pull),
            (Pair, Pair),
        ];
        for a in SocketType::ALL {
            assert!(!a.is_compatible(Stream) && !Stream.is_compatible(a));
            for b in SocketType::ALL {
                let expected = valid.contains(&(a, b)) || valid.contains(&(b, a));
                assert_eq!(a.is_compatible(b), expected, "{a} - {b}");
            }
        }
    }
}
