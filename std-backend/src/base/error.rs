//! The one error type of the std API, with libzmq-like kinds.

use std::fmt;
use std::io;

/// What went wrong, in libzmq's terms (the errno each kind corresponds to
/// is given in brackets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The operation would block: no message to receive, or the high-water
    /// mark is reached (`EAGAIN`). Returned by non-blocking calls and when a
    /// send or receive timeout expires.
    WouldBlock,
    /// The context was terminated (`ETERM`).
    Terminated,
    /// The socket is closed (`ENOTSOCK`).
    Closed,
    /// The endpoint string is malformed (`EINVAL`).
    InvalidEndpoint,
    /// The endpoint's transport is not supported (`EPROTONOSUPPORT`).
    TransportNotSupported,
    /// The address is already in use (`EADDRINUSE`).
    AddrInUse,
    /// The address is not local, or cannot be resolved (`EADDRNOTAVAIL`).
    AddrNotAvailable,
    /// No such endpoint to unbind or disconnect, or no inproc endpoint bound
    /// by that name (`ENOENT`).
    NotFound,
    /// The operation is not valid in the socket's current state, e.g. a REQ
    /// sending twice without receiving (`EFSM`).
    InvalidState,
    /// The socket type does not support the operation, e.g. receiving on a
    /// PUB (`ENOTSUP`).
    NotSupported,
    /// An option value is out of range or of the wrong kind (`EINVAL`).
    InvalidArgument,
    /// A ROUTER with ROUTER_MANDATORY has no peer with that routing id
    /// (`EHOSTUNREACH`).
    HostUnreachable,
    /// A message or frame exceeds a limit (`EMSGSIZE`).
    MessageTooLarge,
    /// The peer violated the protocol (`EPROTO`).
    Protocol,
    /// A signal interrupted a blocking send or receive (`EINTR`), as
    /// in libzmq, so that the program's signal handlers run (a Python
    /// program's Ctrl-C, say); call again to go on waiting.
    Interrupted,
    /// An operating-system error not covered above.
    Io,
}

/// An error from the std API: a [`kind`](Error::kind), plus the detail that
/// explains it where there is one.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    detail: Detail,
}

#[derive(Debug)]
enum Detail {
    None,
    Text(Box<str>),
    Io(io::Error),
}

impl Error {
    /// An error of `kind` without further detail.
    pub fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            detail: Detail::None,
        }
    }

    /// An error of `kind` explained by `text`.
    pub fn with_text(kind: ErrorKind, text: impl Into<Box<str>>) -> Self {
        Self {
            kind,
            detail: Detail::Text(text.into()),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether this is [`ErrorKind::WouldBlock`] (libzmq's `EAGAIN`).
    pub fn is_would_block(&self) -> bool {
        self.kind == ErrorKind::WouldBlock
    }
}

impl PartialEq<ErrorKind> for Error {
    fn eq(&self, kind: &ErrorKind) -> bool {
        self.kind == *kind
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        let kind = match e.kind() {
            io::ErrorKind::WouldBlock => ErrorKind::WouldBlock,
            io::ErrorKind::AddrInUse => ErrorKind::AddrInUse,
            io::ErrorKind::AddrNotAvailable => ErrorKind::AddrNotAvailable,
            io::ErrorKind::NotFound => ErrorKind::NotFound,
            io::ErrorKind::InvalidInput => ErrorKind::InvalidArgument,
            io::ErrorKind::Interrupted => ErrorKind::Interrupted,
            _ => ErrorKind::Io,
        };
        Self {
            kind,
            detail: Detail::Io(e),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::WouldBlock => "operation would block",
            ErrorKind::Terminated => "context was terminated",
            ErrorKind::Closed => "socket is closed",
            ErrorKind::InvalidEndpoint => "invalid endpoint",
            ErrorKind::TransportNotSupported => "transport not supported",
            ErrorKind::AddrInUse => "address in use",
            ErrorKind::AddrNotAvailable => "address not available",
            ErrorKind::NotFound => "no such endpoint",
            ErrorKind::InvalidState => "operation not valid in the socket's current state",
            ErrorKind::NotSupported => "operation not supported by this socket type",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::HostUnreachable => "no peer with that routing id",
            ErrorKind::MessageTooLarge => "message too large",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Interrupted => "interrupted by a signal",
            ErrorKind::Io => "I/O error",
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail {
            Detail::None => write!(f, "{}", self.kind),
            Detail::Text(t) => write!(f, "{}: {t}", self.kind),
            Detail::Io(e) => write!(f, "{}: {e}", self.kind),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.detail {
            Detail::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// The std API's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
