//! Security mechanisms: the handshake between the greeting and the first
//! message (RFC 23 section "Authentication and Confidentiality").
//!
//! A mechanism is a small state machine that the [`Connection`] drives: it
//! says which command it wants to send next ([`Mechanism::next_command_len`],
//! [`Mechanism::write_command`]), consumes the commands the peer sends
//! ([`Mechanism::handle_command`]), may ask the caller to authenticate the
//! peer ([`Step::AuthRequest`], answered through
//! [`Mechanism::handle_auth_verdict`]), and hands the peer's metadata to the
//! connection ([`Step::PeerMetadata`]), which checks it. Framing, ERROR
//! commands, metadata checks and timers stay in the connection, so a new
//! mechanism is one more implementation of this trait.
//!
//! A mechanism may also transform every frame after the handshake
//! ([`Mechanism::seal_overhead`], [`Mechanism::seal`], [`Mechanism::open`]):
//! CURVE seals each frame in an encrypted MESSAGE. NULL and PLAIN do not,
//! and the connection then never calls into them after the handshake.
//!
//! Implemented: [`Null`] (RFC 23),
//! [`PlainClient`] /
//! [`PlainServer`] (RFC 24) and, with the `curve` feature,
//! [`CurveClient`] / [`CurveServer`] (RFC 26). [`AnyMechanism`] picks one
//! at run time.
//!
//! [`Connection`]: super::connection::Connection
//! [`CurveClient`]: super::curve::CurveClient
//! [`CurveServer`]: super::curve::CurveServer
#![forbid(unsafe_code)]

use super::Error;
use super::command::Command;
#[cfg(feature = "curve")]
use super::curve::{CurveClient, CurveServer};
use super::frame::Flags;
use super::greeting::MechanismName;
use super::null::Null;
use super::plain::{PlainClient, PlainServer};
use crate::time::Instant;

/// What a received handshake command did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// Nothing for the connection to do beyond asking for the next command.
    Continue,
    /// The peer's metadata (READY or INITIATE property list), for the
    /// connection to check and keep.
    PeerMetadata(&'a [u8]),
    /// The peer's credentials are ready for a verdict: the connection stops
    /// reading until [`Mechanism::handle_auth_verdict`] is called, and
    /// [`Mechanism::credentials`] must return them meanwhile.
    AuthRequest,
    /// Both at once (a CURVE server's INITIATE): the connection checks and
    /// keeps the metadata, then asks for the verdict.
    AuthRequestAndMetadata(&'a [u8]),
}

/// Credentials a server-side mechanism asks the caller to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials<'a> {
    /// PLAIN's user name and password (RFC 24), each 0 to 255 bytes.
    Plain {
        /// The user name.
        username: &'a [u8],
        /// The password.
        password: &'a [u8],
    },
    /// NULL: nothing but the peer's address, which the caller knows (a ZAP
    /// request for NULL carries no credentials).
    Null,
    /// CURVE's client long-term public key (RFC 26), which INITIATE's
    /// vouch has proved the client holds the secret key of.
    Curve {
        /// The client's public key.
        public_key: &'a [u8; 32],
    },
}

/// The caller's answer to an authentication request, with ZAP's (RFC 27)
/// status codes in mind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVerdict {
    /// Let the peer in (ZAP 200).
    Accept,
    /// Refuse the peer: the mechanism sends ERROR with this three-digit
    /// status code as the reason (ZAP uses 300 temporary, 400
    /// authentication failure, 500 internal error). Codes outside
    /// 100..=599 are sent as 400. 300 sends nothing: the connection just
    /// fails, as libzmq's servers do on a temporary failure.
    Reject {
        /// The status code.
        status_code: u16,
    },
}

/// A security mechanism, driven by the connection.
pub trait Mechanism {
    /// The name we announce in our greeting; the peer's must be the same.
    fn name(&self) -> MechanismName;

    /// Our greeting's as-server flag.
    fn as_server(&self) -> bool;

    /// The largest command body this mechanism will ever send, given our
    /// metadata length: the connection checks at construction that it fits.
    fn max_command_len(&self, metadata_len: usize) -> usize;

    /// The body length of the command we should send now, if any.
    /// `metadata` is our encoded property list.
    fn next_command_len(&self, metadata: &[u8]) -> Option<usize>;

    /// Writes the command announced by [`next_command_len`] into `out`
    /// (exactly that long) and moves past it. Called only right after
    /// `next_command_len` returned `Some`.
    ///
    /// [`next_command_len`]: Mechanism::next_command_len
    fn write_command(&mut self, metadata: &[u8], out: &mut [u8]);

    /// Consumes a command the peer sent during the handshake: `body` is the
    /// whole command frame body (name included), writable so that a
    /// mechanism can open boxes in place. ERROR never reaches the
    /// mechanism: the connection handles it.
    fn handle_command<'a>(&mut self, body: &'a mut [u8], now: Instant) -> Result<Step<'a>, Error>;

    /// Whether the mechanism wants a verdict on the peer before anything
    /// else, right after the greeting (NULL with a ZAP domain): the
    /// connection then reports [`Credentials`] at once and waits.
    fn verdict_first(&self) -> bool {
        false
    }

    /// The credentials awaiting a verdict, after [`Step::AuthRequest`].
    fn credentials(&self) -> Option<Credentials<'_>> {
        None
    }

    /// The caller's verdict on [`credentials`](Mechanism::credentials).
    fn handle_auth_verdict(&mut self, verdict: AuthVerdict) -> Result<(), Error> {
        let _ = verdict;
        Err(Error::NoAuthRequest)
    }

    /// The handshake is over: every command we had to send has been written
    /// and everything we expected has arrived.
    fn is_complete(&self) -> bool;

    /// The mechanism has failed on its own after sending its final command
    /// (a server that wrote ERROR after a rejected verdict).
    fn failure(&self) -> Option<Error> {
        None
    }

    /// Bytes [`seal`](Mechanism::seal) adds to each frame body once the
    /// handshake is complete; `None` (NULL, PLAIN): frames travel as they
    /// are and `seal` / `open` are never called.
    fn seal_overhead(&self) -> Option<usize> {
        None
    }

    /// Seals one frame with these flags, made of `parts` in order, into
    /// `out` (exactly the parts' length plus the overhead), which goes to
    /// the peer as the body of a data frame. May panic if `out` has
    /// another length (the connection sizes it with `seal_overhead`).
    fn seal(&mut self, out: &mut [u8], flags: Flags, parts: &[&[u8]]) -> Result<(), Error> {
        let _ = (out, flags, parts);
        Err(Error::UnexpectedData)
    }

    /// Opens a sealed frame body in place: its frame flags and the offset in
    /// `body` where the frame starts.
    fn open(&mut self, body: &mut [u8]) -> Result<(Flags, usize), Error> {
        let _ = body;
        Err(Error::UnexpectedData)
    }
}

/// One of the mechanisms built into this crate, chosen at run time (the
/// std backend's `ZMQ_MECHANISM`-like option).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnyMechanism {
    /// NULL, either role.
    Null(Null),
    /// PLAIN client.
    PlainClient(PlainClient),
    /// PLAIN server.
    PlainServer(PlainServer),
    /// CURVE client.
    #[cfg(feature = "curve")]
    CurveClient(CurveClient),
    /// CURVE server.
    #[cfg(feature = "curve")]
    CurveServer(CurveServer),
}

macro_rules! delegate {
    ($self:ident, $m:ident => $e:expr) => {
        match $self {
            AnyMechanism::Null($m) => $e,
            AnyMechanism::PlainClient($m) => $e,
            AnyMechanism::PlainServer($m) => $e,
            #[cfg(feature = "curve")]
            AnyMechanism::CurveClient($m) => $e,
            #[cfg(feature = "curve")]
            AnyMechanism::CurveServer($m) => $e,
        }
    };
}

impl Mechanism for AnyMechanism {
    fn name(&self) -> MechanismName {
        delegate!(self, m => m.name())
    }
    fn as_server(&self) -> bool {
        delegate!(self, m => m.as_server())
    }
    fn max_command_len(&self, metadata_len: usize) -> usize {
        delegate!(self, m => m.max_command_len(metadata_len))
    }
    fn next_command_len(&self, metadata: &[u8]) -> Option<usize> {
        delegate!(self, m => m.next_command_len(metadata))
    }
    fn write_command(&mut self, metadata: &[u8], out: &mut [u8]) {
        delegate!(self, m => m.write_command(metadata, out))
    }
    fn handle_command<'a>(&mut self, body: &'a mut [u8], now: Instant) -> Result<Step<'a>, Error> {
        delegate!(self, m => m.handle_command(body, now))
    }
    fn verdict_first(&self) -> bool {
        delegate!(self, m => m.verdict_first())
    }
    fn credentials(&self) -> Option<Credentials<'_>> {
        delegate!(self, m => m.credentials())
    }
    fn handle_auth_verdict(&mut self, verdict: AuthVerdict) -> Result<(), Error> {
        delegate!(self, m => m.handle_auth_verdict(verdict))
    }
    fn is_complete(&self) -> bool {
        delegate!(self, m => m.is_complete())
    }
    fn failure(&self) -> Option<Error> {
        delegate!(self, m => m.failure())
    }
    #[inline]
    fn seal_overhead(&self) -> Option<usize> {
        delegate!(self, m => m.seal_overhead())
    }
    fn seal(&mut self, out: &mut [u8], flags: Flags, parts: &[&[u8]]) -> Result<(), Error> {
        delegate!(self, m => m.seal(out, flags, parts))
    }
    fn open(&mut self, body: &mut [u8]) -> Result<(Flags, usize), Error> {
        delegate!(self, m => m.open(body))
    }
}

impl From<Null> for AnyMechanism {
    fn from(m: Null) -> Self {
        AnyMechanism::Null(m)
    }
}

impl From<PlainClient> for AnyMechanism {
    fn from(m: PlainClient) -> Self {
        AnyMechanism::PlainClient(m)
    }
}

impl From<PlainServer> for AnyMechanism {
    fn from(m: PlainServer) -> Self {
        AnyMechanism::PlainServer(m)
    }
}

#[cfg(feature = "curve")]
impl From<CurveClient> for AnyMechanism {
    fn from(m: CurveClient) -> Self {
        AnyMechanism::CurveClient(m)
    }
}

#[cfg(feature = "curve")]
impl From<CurveServer> for AnyMechanism {
    fn from(m: CurveServer) -> Self {
        AnyMechanism::CurveServer(m)
    }
}

/// The three-digit ERROR reason for a rejecting verdict's status code
/// (codes outside 100..=599 become 400), as libzmq's PLAIN and CURVE
/// servers send it.
pub(crate) fn status_code_reason(status_code: u16) -> [u8; 3] {
    let code = if (100..=599).contains(&status_code) {
        status_code
    } else {
        400
    };
    [
        b'0' + (code / 100) as u8,
        b'0' + (code / 10 % 10) as u8,
        b'0' + (code % 10) as u8,
    ]
}

/// Writes `name` with its length prefix, then `parts`, into `out`; returns
/// the length written. `out` must be large enough (callers size it with
/// [`command_len`]).
pub(crate) fn write_command_body(out: &mut [u8], name: &[u8], parts: &[&[u8]]) -> usize {
    out[0] = name.len() as u8;
    out[1..1 + name.len()].copy_from_slice(name);
    let mut at = 1 + name.len();
    for p in parts {
        out[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    at
}

/// Parses a handshake command body handed to [`Mechanism::handle_command`].
pub(crate) fn parse_command(body: &mut [u8]) -> Result<Command<'_>, Error> {
    let body: &[u8] = body;
    Command::parse(body).map_err(|_| Error::MalformedCommand)
}

/// The body of a command frame with `name` and `data`, for tests.
#[cfg(test)]
pub(crate) fn body(name: &[u8], data: &[u8]) -> std::vec::Vec<u8> {
    let mut b = std::vec![name.len() as u8];
    b.extend_from_slice(name);
    b.extend_from_slice(data);
    b
}

/// Length of a command body with `name` and `data_len` bytes of data.
pub(crate) const fn command_len(name: &[u8], data_len: usize) -> usize {
    1 + name.len() + data_len
}
