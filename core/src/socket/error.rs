//! Errors of the socket verbs: small `Copy` enums, the rejected stream
//! handed back where the caller still needs it.

use core::fmt;

use crate::routing;
use crate::zmtp::{self, ConfigError};

/// Why [`Socket::send`](super::Socket::send) refused a message. Nothing
/// of it was queued.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// No peer can take the message now: none is connected yet, or every
    /// candidate's output buffer is full (libzmq's `EAGAIN`). Poll, then
    /// retry.
    WouldBlock,
    /// The socket's state machine forbids sending now: a REQ awaiting its
    /// reply, a REP with no request to answer (libzmq's `EFSM`).
    State,
    /// ROUTER with ROUTER_MANDATORY: no peer has this routing id (libzmq's
    /// `EHOSTUNREACH`).
    Unroutable,
    /// This socket type does not send (PULL, SUB).
    NotSupported,
    /// A frame, or the whole message with its headers, is larger than the
    /// socket's buffers (`BUF`) can ever hold.
    TooLarge,
    /// XSUB: the subscription store is full.
    SubscriptionsFull,
    /// A message needs at least one frame.
    Empty,
}

impl SendError {
    pub(crate) fn from_routing<M>(e: routing::SendError<M>) -> SendError {
        match e {
            routing::SendError::WouldBlock(_) => SendError::WouldBlock,
            routing::SendError::State(_) => SendError::State,
            routing::SendError::Unroutable(_) => SendError::Unroutable,
            routing::SendError::NotSupported(_) => SendError::NotSupported,
            routing::SendError::FrameTooLarge(_) => SendError::TooLarge,
            routing::SendError::SubscriptionsFull(_) => SendError::SubscriptionsFull,
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendError::WouldBlock => "no peer can take the message now",
            SendError::State => "sending is not allowed in the socket's current state",
            SendError::Unroutable => "no peer has this routing id",
            SendError::NotSupported => "this socket type cannot send",
            SendError::TooLarge => "the message does not fit the socket's buffers",
            SendError::SubscriptionsFull => "the subscription store is full",
            SendError::Empty => "a message needs at least one frame",
        })
    }
}

impl core::error::Error for SendError {}

/// Why [`Socket::attach`](super::Socket::attach) refused a stream.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachError {
    /// Every peer slot is in use (a slot is freed when its
    /// [`PeerEvent::Disconnected`](super::PeerEvent::Disconnected) is
    /// taken, or by [`Socket::detach`](super::Socket::detach)).
    NoRoom,
    /// The options do not fit a connection of capacity `BUF` (identity
    /// too long, or `BUF` too small for the handshake).
    Config(ConfigError),
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachError::NoRoom => f.write_str("every peer slot is in use"),
            AttachError::Config(e) => write!(f, "connection options: {e}"),
        }
    }
}

impl core::error::Error for AttachError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            AttachError::Config(e) => Some(e),
            AttachError::NoRoom => None,
        }
    }
}

/// A stream [`Socket::attach`](super::Socket::attach) did not take, handed
/// back with the reason.
pub struct Rejected<T> {
    /// Why.
    pub error: AttachError,
    /// The stream, untouched.
    pub stream: T,
}

impl<T> fmt::Debug for Rejected<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejected")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// Why a peer's connection ended.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The peer closed the stream (a read returned 0 bytes).
    Eof,
    /// The stream reported an error.
    Io(embedded_io::ErrorKind),
    /// A write returned `Ok(0)` for a non-empty buffer (embedded-io's
    /// contract forbids it; the stream cannot take bytes any more).
    WriteZero,
    /// The peer broke ZMTP, the handshake failed or timed out, or a
    /// heartbeat timed out.
    Protocol(zmtp::Error),
    /// The peer sent a multipart message with more frames than fit the
    /// socket's inbound buffer at once: it could never be delivered whole.
    MessageTooLarge,
    /// The socket type refused the peer after its handshake (a second PAIR
    /// peer, a duplicate ROUTER routing id, no room in the routing
    /// storage).
    Refused(routing::AttachError),
    /// ROUTER_HANDOVER: a new peer took this peer's routing id.
    Replaced,
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::Eof => f.write_str("the peer closed the stream"),
            DisconnectReason::Io(kind) => write!(f, "stream error: {kind:?}"),
            DisconnectReason::WriteZero => f.write_str("the stream accepted no bytes"),
            DisconnectReason::Protocol(e) => write!(f, "protocol: {e}"),
            DisconnectReason::MessageTooLarge => {
                f.write_str("a message has more frames than the inbound buffer holds")
            }
            DisconnectReason::Refused(e) => write!(f, "refused by the socket type: {e}"),
            DisconnectReason::Replaced => f.write_str("another peer took over its routing id"),
        }
    }
}

impl core::error::Error for DisconnectReason {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            DisconnectReason::Protocol(e) => Some(e),
            DisconnectReason::Refused(e) => Some(e),
            _ => None,
        }
    }
}

impl From<zmtp::Error> for DisconnectReason {
    fn from(e: zmtp::Error) -> Self {
        DisconnectReason::Protocol(e)
    }
}
