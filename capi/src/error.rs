//! errno as libzmq sets it: every failing call stores an error number in the
//! calling thread's `errno` and returns -1 (or NULL); `zmq_errno` and
//! `zmq_strerror` read and explain it.

use std::ffi::{CStr, c_char, c_int};

use zlink_mq_std::{Error, ErrorKind};

/// libzmq's base for the error numbers it defines itself.
pub const HAUSNUMERO: c_int = 156_384_712;
/// The operation is not valid in the socket's state (a REQ sending twice).
pub const EFSM: c_int = HAUSNUMERO + 51;
/// The peer speaks an incompatible protocol.
pub const ENOCOMPATPROTO: c_int = HAUSNUMERO + 52;
/// The context was terminated.
pub const ETERM: c_int = HAUSNUMERO + 53;
/// No I/O thread is available.
pub const EMTHREAD: c_int = HAUSNUMERO + 54;

/// A failed call's error number, as the C caller will see it in `errno`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub c_int);

impl From<&Error> for Errno {
    fn from(e: &Error) -> Self {
        Errno(match e.kind() {
            ErrorKind::WouldBlock => libc::EAGAIN,
            ErrorKind::Terminated => ETERM,
            ErrorKind::Closed => libc::ENOTSOCK,
            ErrorKind::InvalidEndpoint => libc::EINVAL,
            ErrorKind::TransportNotSupported => libc::EPROTONOSUPPORT,
            ErrorKind::AddrInUse => libc::EADDRINUSE,
            ErrorKind::AddrNotAvailable => libc::EADDRNOTAVAIL,
            ErrorKind::NotFound => libc::ENOENT,
            ErrorKind::InvalidState => EFSM,
            ErrorKind::NotSupported => libc::ENOTSUP,
            ErrorKind::InvalidArgument => libc::EINVAL,
            ErrorKind::HostUnreachable => libc::EHOSTUNREACH,
            ErrorKind::MessageTooLarge => libc::EMSGSIZE,
            ErrorKind::Protocol => libc::EPROTO,
            ErrorKind::Interrupted => libc::EINTR,
            // An OS error keeps its own number (ECONNREFUSED, EACCES, ...).
            _ => std::error::Error::source(e)
                .and_then(|s| s.downcast_ref::<std::io::Error>())
                .and_then(std::io::Error::raw_os_error)
                .unwrap_or(libc::EIO),
        })
    }
}

impl From<Error> for Errno {
    fn from(e: Error) -> Self {
        Errno::from(&e)
    }
}

/// Stores `errno` for the calling thread.
pub fn set_errno(errno: c_int) {
    // SAFETY: `__errno_location` returns the calling thread's errno, a
    // valid, aligned int for the thread's whole life.
    unsafe { *libc::__errno_location() = errno };
}

/// The calling thread's `errno`.
fn errno() -> c_int {
    // SAFETY: as in `set_errno`.
    unsafe { *libc::__errno_location() }
}

/// The error number of the calling thread's last failed call.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_errno() -> c_int {
    errno()
}

/// A message for `errnum` (one of ZeroMQ's, or the system's).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_strerror(errnum: c_int) -> *const c_char {
    let ours: Option<&'static CStr> = match errnum {
        EFSM => Some(c"Operation cannot be accomplished in current state"),
        ENOCOMPATPROTO => Some(c"The protocol is not compatible with the socket type"),
        ETERM => Some(c"Context was terminated"),
        EMTHREAD => Some(c"No thread available"),
        _ => None,
    };
    match ours {
        Some(s) => s.as_ptr(),
        // SAFETY: strerror accepts any number and returns a NUL-terminated
        // string that stays valid until the next strerror call, the same
        // contract libzmq's zmq_strerror passes on.
        None => unsafe { libc::strerror(errnum) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_libzmq_errnos() {
        assert_eq!(
            Errno::from(Error::new(ErrorKind::WouldBlock)).0,
            libc::EAGAIN
        );
        assert_eq!(Errno::from(Error::new(ErrorKind::Terminated)).0, ETERM);
        assert_eq!(Errno::from(Error::new(ErrorKind::InvalidState)).0, EFSM);
        assert_eq!(
            Errno::from(Error::new(ErrorKind::HostUnreachable)).0,
            libc::EHOSTUNREACH
        );
        let refused = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(Errno::from(Error::from(refused)).0, libc::ECONNREFUSED);
    }

    #[test]
    fn strerror_knows_zmq_errors() {
        // SAFETY: zmq_strerror returns a NUL-terminated static string.
        let s = unsafe { CStr::from_ptr(zmq_strerror(ETERM)) };
        assert_eq!(s.to_str().unwrap(), "Context was terminated");
        // SAFETY: as above (the system's strerror).
        let s = unsafe { CStr::from_ptr(zmq_strerror(libc::EAGAIN)) };
        assert!(!s.to_bytes().is_empty());
    }
}
