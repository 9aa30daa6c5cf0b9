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
//! Not covered yet: mechanisms that also transform messages after the
//! handshake. CURVE (RFC 26) wraps every frame in an encrypted MESSAGE
//! command; adding it needs, besides an implementation of this trait, a
//! data-phase hook (seal on encode, open into a buffer on decode) in the
//! connection, which then cannot hand out frames straight from the input.
//!
//! Implemented: [`Null`] (RFC 23) and
//! [`PlainClient`] /
//! [`PlainServer`] (RFC 24). [`AnyMechanism`]
//! picks one at run time.
//!
//! [`Connection`]: super::connection::Connection
#![forbid(unsafe_code)]

use super::Error;
use super::command::Command;
use super::greeting::MechanismName;
use super::null::Null;
use super::plain::{PlainClient, PlainServer};

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
    /// 100..=599 are sent as 400.
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

    /// Consumes a command the peer sent during the handshake. ERROR never
    /// reaches the mechanism: the connection handles it.
    fn handle_command<'a>(&mut self, command: Command<'a>) -> Result<Step<'a>, Error>;

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
}

macro_rules! delegate {
    ($self:ident, $m:ident => $e:expr) => {
        match $self {
            AnyMechanism::Null($m) => $e,
            AnyMechanism::PlainClient($m) => $e,
            AnyMechanism::PlainServer($m) => $e,
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
    fn handle_command<'a>(&mut self, command: Command<'a>) -> Result<Step<'a>, Error> {
        delegate!(self, m => m.handle_command(command))
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

/// Length of a command body with `name` and `data_len` bytes of data.
pub(crate) const fn command_len(name: &[u8], data_len: usize) -> usize {
    1 + name.len() + data_len
}
