//! Errors of the routing verbs: small enums, the rejected frame handed back.

use core::fmt;

/// Why [`Routing::send`](super::Routing::send) refused a frame. Every
/// variant hands the frame back.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError<M> {
    /// No peer can take the message now: none attached, or all at their
    /// high-water mark (libzmq's `EAGAIN`). Retry after a
    /// [`write_activated`](super::Routing::write_activated) or attach.
    WouldBlock(M),
    /// The socket's state machine forbids sending now: a REQ awaiting its
    /// reply, a REP with no request to answer (libzmq's `EFSM`).
    State(M),
    /// ROUTER with ROUTER_MANDATORY: no peer has this routing id (libzmq's
    /// `EHOSTUNREACH`).
    Unroutable(M),
    /// This socket type does not send (PULL, SUB; libzmq's `ENOTSUP`).
    NotSupported(M),
    /// A frame routing had to build for this message (REQ's delimiter or
    /// request id) does not fit the message type.
    FrameTooLarge(M),
    /// XSUB: the subscription store is full; the subscription was neither
    /// stored nor forwarded.
    SubscriptionsFull(M),
}

impl<M> SendError<M> {
    /// The frame that was not sent.
    pub fn into_inner(self) -> M {
        match self {
            Self::WouldBlock(m)
            | Self::State(m)
            | Self::Unroutable(m)
            | Self::NotSupported(m)
            | Self::FrameTooLarge(m)
            | Self::SubscriptionsFull(m) => m,
        }
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WouldBlock(_) => "no peer can take the message now",
            Self::State(_) => "sending is not allowed in the socket's current state",
            Self::Unroutable(_) => "no peer has this routing id",
            Self::NotSupported(_) => "this socket type cannot send",
            Self::FrameTooLarge(_) => "an envelope frame does not fit the message type",
            Self::SubscriptionsFull(_) => "the subscription store is full",
        })
    }
}

impl<M: fmt::Debug> core::error::Error for SendError<M> {}

/// Why [`Routing::recv`](super::Routing::recv) returned no frame.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// Nothing to receive now (libzmq's `EAGAIN`). Retry after a
    /// [`read_activated`](super::Routing::read_activated).
    WouldBlock,
    /// The socket's state machine forbids receiving now: a REQ that sent
    /// no request, a REP that owes a reply (libzmq's `EFSM`).
    State,
    /// This socket type does not receive (PUSH, PUB; libzmq's `ENOTSUP`).
    NotSupported,
    /// The peer of a partly received message was detached: the rest of
    /// that message is lost. The next receive starts a new message.
    Truncated,
    /// ROUTER: the routing-id frame does not fit the message type; the
    /// message it belonged to was dropped.
    FrameTooLarge,
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WouldBlock => "no message to receive now",
            Self::State => "receiving is not allowed in the socket's current state",
            Self::NotSupported => "this socket type cannot receive",
            Self::Truncated => "the peer left in the middle of a message",
            Self::FrameTooLarge => "the routing-id frame does not fit the message type",
        })
    }
}

impl core::error::Error for RecvError {}

/// Why [`Routing::attach`](super::Routing::attach) refused a peer. The
/// socket layer then closes the connection.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachError {
    /// No room in the storage: too many peers, a peer index beyond a fixed
    /// capacity, or a routing id longer than it can hold.
    CapacityExceeded,
    /// This key is already attached.
    AlreadyAttached,
    /// ROUTER: another peer has this routing id (and ROUTER_HANDOVER is
    /// off, or the id was assigned with CONNECT_ROUTING_ID).
    DuplicateRoutingId,
    /// PAIR: the socket already has its one peer.
    Occupied,
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CapacityExceeded => "no room for another peer",
            Self::AlreadyAttached => "the peer is already attached",
            Self::DuplicateRoutingId => "another peer has this routing id",
            Self::Occupied => "the socket already has its only peer",
        })
    }
}

impl core::error::Error for AttachError {}

/// Why SUB's [`subscribe`](super::Sub::subscribe) or
/// [`unsubscribe`](super::Sub::unsubscribe) failed. Nothing was changed
/// or sent.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeError {
    /// The subscription store is full.
    SubscriptionsFull,
    /// The subscription message does not fit the message type.
    FrameTooLarge,
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SubscriptionsFull => "the subscription store is full",
            Self::FrameTooLarge => "the subscription message does not fit the message type",
        })
    }
}

impl core::error::Error for SubscribeError {}
