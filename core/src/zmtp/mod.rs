//! ZMTP 3.1 (RFC 37, with RFC 23's 3.0 as fallback) as a sans-IO state
//! machine: bytes from the peer in, events out; bytes for the peer out.
//!
//! This layer owns the protocol: the greeting, the security handshake
//! (NULL, PLAIN, CURVE), connection metadata, framing, commands and heartbeats. It
//! never does I/O, never reads a clock (`now` is always a parameter) and
//! never allocates: the caller owns sockets, buffers and time. No input,
//! however hostile, makes it panic.
//!
//! ```text
//!   peer A                                              peer B
//!   greeting (64 bytes) ─────────────────────────────▶
//!                       ◀─────────────────────────────  greeting
//!   mechanism handshake: commands only (NULL: READY; PLAIN: HELLO,
//!   WELCOME, INITIATE, READY), ending with each side's metadata
//!   messages: data frames ◀──────────────────────────▶ data frames,
//!   with commands (PING, PONG, SUBSCRIBE, CANCEL) interleaved
//! ```
//!
//! One file per concept:
//!
//! - [`greeting`]: the 64-byte greeting; version detection (pre-3.0 peers
//!   are refused).
//! - [`frame`]: the frame codec (zero-copy decoder, batching encoder).
//! - [`command`]: command bodies (READY, ERROR, PING, PONG, SUBSCRIBE,
//!   CANCEL).
//! - [`metadata`]: READY / INITIATE property lists and the socket-pair
//!   check.
//! - [`mechanism`], [`null`], [`plain`], `curve` (feature `curve`): the
//!   security mechanisms.
//! - [`heartbeat`]: handshake and heartbeat timers.
//! - [`connection`]: the state machine tying them together.
//!
//! [`Connection`] is the entry point; its documentation shows the I/O loop
//! a caller writes around it.
#![forbid(unsafe_code)]

use core::fmt;

pub mod command;
pub mod connection;
#[cfg(feature = "curve")]
pub mod curve;
pub mod frame;
pub mod greeting;
pub mod heartbeat;
pub mod mechanism;
pub mod metadata;
pub mod null;
pub mod plain;

#[cfg(test)]
mod tests;

pub use connection::{Config, ConfigError, Connection, EncodeError, Event};
pub use mechanism::{AnyMechanism, AuthVerdict, Credentials, Mechanism};

use frame::FrameError;
use greeting::GreetingError;
use metadata::MetadataError;

/// Why a connection failed. Every variant except [`Error::NoAuthRequest`]
/// is fatal: flush [`Connection::poll_transmit`] (it may hold an ERROR
/// command for the peer) and close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The peer's greeting was refused (e.g. a ZMTP 1.0 / 2.0 peer).
    Greeting(GreetingError),
    /// The peer uses a different security mechanism.
    MechanismMismatch,
    /// A frame was invalid (reserved bits, size limits).
    Frame(FrameError),
    /// A command's body does not follow its layout.
    MalformedCommand,
    /// A command arrived that the handshake does not allow at this point.
    UnexpectedCommand,
    /// A data frame arrived before the handshake was complete.
    UnexpectedData,
    /// The peer's metadata was refused (invalid socket pair, identity, ...).
    Metadata(MetadataError),
    /// We (as PLAIN server) rejected the peer's credentials; an ERROR
    /// command is queued for it.
    AuthenticationFailed,
    /// The peer sent ERROR; its reason is in
    /// [`Connection::peer_error_reason`].
    PeerError,
    /// The handshake did not complete within HANDSHAKE_IVL.
    HandshakeTimeout,
    /// No input within HEARTBEAT_TIMEOUT of our PING.
    HeartbeatTimeout,
    /// No input within the TTL the peer's PING asked for.
    PeerTtlExpired,
    /// A verdict was given while no authentication request was pending
    /// (a caller mistake; the connection is unaffected).
    NoAuthRequest,
    /// CURVE refused a command or a sealed frame (no ERROR is sent, as
    /// libzmq and RFC 26 say).
    #[cfg(feature = "curve")]
    Curve(curve::CurveError),
}

impl Error {
    /// The reason we put in an ERROR command for this failure, if the peer
    /// should get one (handshake failures it can act on).
    pub(crate) fn error_reason(&self) -> Option<&'static [u8]> {
        Some(match self {
            Error::Metadata(MetadataError::IncompatibleSocketType { .. })
            | Error::Metadata(MetadataError::UnknownSocketType)
            | Error::Metadata(MetadataError::MissingSocketType) => b"Invalid socket type",
            Error::Metadata(_) => b"Invalid metadata",
            Error::MalformedCommand => b"Malformed command",
            Error::UnexpectedCommand => b"Unexpected command",
            Error::UnexpectedData => b"Unexpected message before READY",
            Error::Frame(FrameError::CommandTooLarge { .. }) => b"Command too large",
            _ => return None,
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Greeting(e) => write!(f, "greeting: {e}"),
            Error::MechanismMismatch => f.write_str("peer uses a different security mechanism"),
            Error::Frame(e) => write!(f, "framing: {e}"),
            Error::MalformedCommand => f.write_str("malformed command"),
            Error::UnexpectedCommand => f.write_str("unexpected command during the handshake"),
            Error::UnexpectedData => f.write_str("message frame before the handshake completed"),
            Error::Metadata(e) => write!(f, "metadata: {e}"),
            Error::AuthenticationFailed => f.write_str("peer credentials rejected"),
            Error::PeerError => f.write_str("peer sent ERROR"),
            Error::HandshakeTimeout => f.write_str("handshake timed out"),
            Error::HeartbeatTimeout => f.write_str("peer silent past the heartbeat timeout"),
            Error::PeerTtlExpired => f.write_str("peer silent past the TTL it asked for"),
            Error::NoAuthRequest => f.write_str("no authentication request is pending"),
            #[cfg(feature = "curve")]
            Error::Curve(e) => write!(f, "CURVE: {e}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Greeting(e) => Some(e),
            Error::Frame(e) => Some(e),
            Error::Metadata(e) => Some(e),
            #[cfg(feature = "curve")]
            Error::Curve(e) => Some(e),
            _ => None,
        }
    }
}

impl From<GreetingError> for Error {
    fn from(e: GreetingError) -> Self {
        Error::Greeting(e)
    }
}

impl From<FrameError> for Error {
    fn from(e: FrameError) -> Self {
        Error::Frame(e)
    }
}

impl From<MetadataError> for Error {
    fn from(e: MetadataError) -> Self {
        Error::Metadata(e)
    }
}
