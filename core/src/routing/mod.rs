//! Routing: the behaviour of every standard socket type, written once.
//!
//! Routing decides *which pipe*: which peer gets the next outgoing frame,
//! which peer the next incoming frame comes from, which frames are dropped.
//! It owns the per-type state (active-peer lists, the ROUTER routing-id map,
//! subscription stores, the REQ/REP envelope state machines) and nothing
//! else. It never performs I/O, never blocks, never reads a clock and never
//! allocates: storage comes from a [`Storage`](crate::storage::Storage)
//! family, messages are any [`Message`], and pipes are
//! reached through the [`Pipes`] trait that the socket layer implements.
//!
//! # Contract with the socket layer
//!
//! - Peers are named by a small `Copy` key the socket layer chooses
//!   ([`PeerKey`], typically an index into its peer table, such as
//!   [`PeerId`]). Routing stores keys, never pipes.
//! - [`Pipes`] is modelled on libzmq's `pipe_t`. The socket layer counts
//!   the high-water mark there, in whole messages, so routing only asks
//!   [`check_write`](Pipes::check_write) and reacts to a refused
//!   [`write`](Pipes::write) with the effect libzmq gives each type
//!   (PUB/XPUB/ROUTER drop, PUSH/DEALER/REQ/PAIR report
//!   [`SendError::WouldBlock`]).
//! - The socket layer calls [`Routing::attach`] and [`Routing::detach`] as
//!   peers come and go, and [`Routing::read_activated`] /
//!   [`Routing::write_activated`] when a pipe that had refused a read or a
//!   write can be used again (libzmq's `activate_read` / `activate_write`).
//!   Extra activations are harmless.
//! - Options that libzmq implements in the pipe (SNDHWM/RCVHWM, CONFLATE)
//!   stay in the pipe; see [CONFLATE](#conflate).
//!
//! # Strategies and socket types
//!
//! | type | send | receive |
//! |------|------|---------|
//! | [`Pair`] | the one peer | the one peer |
//! | [`Push`] / [`Pull`] | [`RoundRobin`] | [`FairQueue`] |
//! | [`Dealer`] | [`RoundRobin`] | [`FairQueue`] |
//! | [`Req`] | [`RoundRobin`] + envelope | [`FairQueue`], reply peer only |
//! | [`Rep`] | back to the requester | [`FairQueue`] + envelope |
//! | [`Router`] | by routing id | [`FairQueue`] + routing-id frame |
//! | [`Stream`] | by routing id, raw bytes | [`FairQueue`] + routing-id frame |
//! | [`Pub`] / [`XPub`] | [`FanOut`] to matching subscribers | subscriptions |
//! | [`Sub`] / [`XSub`] | subscriptions, [`FanOut`] upstream | [`FairQueue`] (+ filter) |
//!
//! # Driving a socket type
//!
//! ```
//! use zlink_mq_core::msg::{Frame, Message};
//! use zlink_mq_core::routing::{Pipes, Push, Routing, PeerIdentity};
//! use zlink_mq_core::storage::Fixed;
//!
//! /// Two peers whose outbound pipes hold at most one message each.
//! struct Outboxes([Option<Frame<16>>; 2]);
//!
//! impl Pipes for Outboxes {
//!     type Peer = u8;
//!     type Msg = Frame<16>;
//!     fn check_write(&mut self, p: u8) -> bool { self.0[p as usize].is_none() }
//!     fn write(&mut self, p: u8, f: Frame<16>) -> Result<(), Frame<16>> {
//!         let slot = &mut self.0[p as usize];
//!         if slot.is_some() { return Err(f) }
//!         *slot = Some(f);
//!         Ok(())
//!     }
//!     fn rollback(&mut self, _: u8) {}
//!     fn flush(&mut self, _: u8) {}
//!     fn check_read(&mut self, _: u8) -> bool { false }
//!     fn read(&mut self, _: u8) -> Option<Frame<16>> { None }
//! }
//!
//! let mut pipes = Outboxes([None, None]);
//! let mut push: Push<Fixed<2, 1, 8>, u8> = Push::new();
//! push.attach(&mut pipes, 0, PeerIdentity::Anonymous).unwrap();
//! push.attach(&mut pipes, 1, PeerIdentity::Anonymous).unwrap();
//! for text in [b"a", b"b"] {
//!     push.send(&mut pipes, Frame::new(text).unwrap()).unwrap();
//! }
//! // Round-robin: one message each; a third would block (both are full).
//! assert_eq!(pipes.0[0].as_ref().unwrap().bytes(), b"a");
//! assert_eq!(pipes.0[1].as_ref().unwrap().bytes(), b"b");
//! assert!(push.send(&mut pipes, Frame::new(b"c").unwrap()).is_err());
//! ```
//!
//! # CONFLATE
//!
//! In libzmq CONFLATE is a property of the pipes, not of routing: each
//! peer's pipes keep only the most recent message (libzmq's
//! `ypipe_conflate`, a double buffer), the high-water mark is ignored, and
//! multipart messages are not supported. It takes effect only on DEALER,
//! PULL, PUSH, PUB and SUB; each type here says so in its
//! `CONFLATE_ALLOWED` constant. A socket layer realises it by giving each
//! peer of such a socket a pipe that overwrites its one unread message
//! (its [`check_write`](Pipes::check_write) always true) when the option
//! is set; routing is unchanged.
#![forbid(unsafe_code)]

use core::fmt;

use crate::msg::Message;

mod error;
mod fair_queue;
mod fan_out;
mod peers;
mod round_robin;
mod topics;

mod dealer;
mod pair;
#[path = "pub.rs"]
mod r#pub;
mod pull;
mod push;
mod rep;
mod req;
mod router;
mod stream;
mod sub;
mod xpub;
mod xsub;

pub use error::{AttachError, RecvError, SendError, SubscribeError};
pub use fair_queue::FairQueue;
pub use fan_out::FanOut;
pub use round_robin::RoundRobin;
pub use topics::{Removed, Subscribers, Subscription, Subscriptions};

pub use dealer::Dealer;
pub use pair::Pair;
pub use r#pub::Pub;
pub use pull::Pull;
pub use push::Push;
pub use rep::Rep;
pub use req::Req;
pub use router::{GENERATED_ID_LEN, Router};
pub use stream::Stream;
pub use sub::Sub;
pub use xpub::XPub;
pub use xsub::XSub;

/// How routing names a peer: a small key chosen by the socket layer.
///
/// [`index`](PeerKey::index) must be unique among the attached peers and
/// small (an index into the socket's peer table): routing keeps per-peer
/// state in lists indexed by it, which makes every per-peer lookup O(1)
/// without hashing. With [`Fixed`](crate::storage::Fixed) storage indices
/// must be below its `PEERS`. A key may be reused once its peer has been
/// detached.
pub trait PeerKey: Copy + Eq + fmt::Debug {
    /// Dense index of the peer in the socket layer's peer table.
    fn index(self) -> usize;
}

macro_rules! peer_key_for_int {
    ($($t:ty),*) => {$(
        impl PeerKey for $t {
            #[inline]
            fn index(self) -> usize {
                self as usize
            }
        }
    )*};
}
peer_key_for_int!(u8, u16, u32, usize);

/// A ready-made peer key: an index into the socket layer's peer table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerId(pub u32);

impl PeerKey for PeerId {
    #[inline]
    fn index(self) -> usize {
        self.0 as usize
    }
}

/// The socket layer's peers, seen one pipe pair at a time.
///
/// Modelled on libzmq's `pipe_t`. Each attached peer has an outbound pipe
/// (written by routing) and an inbound pipe (read by routing). The
/// implementation counts the high-water mark, in whole messages:
///
/// - [`check_write`](Pipes::check_write) says whether a whole new message
///   can be accepted. Once [`write`](Pipes::write) has accepted the first
///   frame of a message it must accept the remaining frames (the HWM
///   counts whole messages), unless the peer is gone; routing treats a
///   refusal in the middle of a message as "peer gone", rolls back and
///   drops the rest of that message.
/// - Written frames become visible to the peer at [`flush`](Pipes::flush),
///   which routing calls after the last frame of each message.
/// - When `check_write` or `write` refused, the implementation must later
///   tell routing through [`Routing::write_activated`] once the peer can
///   take a message again; likewise [`Routing::read_activated`] after
///   `check_read` or `read` found nothing. (With the ypipe this is its
///   sleep/wake protocol; with HWM it is libzmq's low-water mark.)
/// - Inbound messages are complete when visible: after the first frame of a
///   message, [`read`](Pipes::read) yields the rest without waiting.
///
/// Routing calls these only with peers that are attached.
pub trait Pipes {
    /// The key naming a peer.
    type Peer: PeerKey;
    /// The frame type carried by the pipes.
    type Msg: Message;

    /// Whether `peer`'s outbound pipe can accept a whole new message.
    fn check_write(&mut self, peer: Self::Peer) -> bool;
    /// Writes one frame to `peer`'s outbound pipe, or hands it back.
    ///
    /// # Errors
    /// The frame, when the pipe cannot take it (full, or the peer is gone).
    fn write(&mut self, peer: Self::Peer, frame: Self::Msg) -> Result<(), Self::Msg>;
    /// Removes the frames of the incomplete message last written to `peer`.
    fn rollback(&mut self, peer: Self::Peer);
    /// Publishes the complete messages written to `peer` (and wakes it if
    /// needed).
    fn flush(&mut self, peer: Self::Peer);
    /// Whether a frame can be read from `peer`'s inbound pipe.
    fn check_read(&mut self, peer: Self::Peer) -> bool;
    /// Reads the next frame from `peer`'s inbound pipe.
    fn read(&mut self, peer: Self::Peer) -> Option<Self::Msg>;
}

/// Who a newly attached peer says it is, for [`Routing::attach`].
///
/// Only [`Router`] uses it; every other type ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerIdentity<'a> {
    /// The peer announced no routing id (or an empty one).
    Anonymous,
    /// The routing id the peer announced in its handshake (the `Identity`
    /// property of its READY command).
    Announced(&'a [u8]),
    /// The id this socket assigned to a connection it initiated
    /// (CONNECT_ROUTING_ID); it wins over whatever the peer announced.
    Assigned(&'a [u8]),
}

/// The outcome of a successful [`Routing::attach`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attached<K> {
    /// A peer that lost its routing id to the new one (ROUTER_HANDOVER).
    /// It now carries a generated id; the socket layer should terminate it
    /// and [`detach`](Routing::detach) it, after the message being received
    /// from it (if any) has been read, as libzmq does.
    pub replaced: Option<K>,
}

impl<K> Default for Attached<K> {
    fn default() -> Self {
        Self { replaced: None }
    }
}

/// The verbs every socket type's routing offers to the socket layer.
///
/// `P` is the socket layer's [`Pipes`]. Types that cannot send (PULL, SUB)
/// or receive (PUSH, PUB) answer [`SendError::NotSupported`] /
/// [`RecvError::NotSupported`], as libzmq answers `ENOTSUP`.
pub trait Routing<P: Pipes> {
    /// A new peer. The socket type may send it frames right away (SUB and
    /// XSUB send their subscriptions) or read from it (XPUB reads its
    /// subscriptions).
    ///
    /// # Errors
    /// [`AttachError`]: no room, a PAIR that already has its peer, a
    /// duplicate routing id, ...; the socket layer then closes that peer.
    fn attach(
        &mut self,
        pipes: &mut P,
        peer: P::Peer,
        identity: PeerIdentity<'_>,
    ) -> Result<Attached<P::Peer>, AttachError>;

    /// A peer is gone; its pipes must not be used any more. A message
    /// being sent to it is dropped; a message being received from it is
    /// cut short ([`RecvError::Truncated`]).
    fn detach(&mut self, pipes: &mut P, peer: P::Peer);

    /// `peer`'s inbound pipe has frames again after a read found none.
    fn read_activated(&mut self, pipes: &mut P, peer: P::Peer);

    /// `peer`'s outbound pipe can take a message again after a write was
    /// refused.
    fn write_activated(&mut self, pipes: &mut P, peer: P::Peer);

    /// Sends one frame; set its MORE flag on all but the last frame of a
    /// message.
    ///
    /// # Errors
    /// [`SendError`], handing the frame back.
    fn send(&mut self, pipes: &mut P, msg: P::Msg) -> Result<(), SendError<P::Msg>>;

    /// Receives one frame; its MORE flag says whether another follows.
    ///
    /// # Errors
    /// [`RecvError`].
    fn recv(&mut self, pipes: &mut P) -> Result<P::Msg, RecvError>;

    /// Whether [`recv`](Routing::recv) would return a frame now (POLLIN).
    fn has_in(&mut self, pipes: &mut P) -> bool;

    /// Whether [`send`](Routing::send) would accept a frame now (POLLOUT).
    fn has_out(&mut self, pipes: &mut P) -> bool;
}

#[cfg(test)]
mod tests;
