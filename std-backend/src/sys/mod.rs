//! Everything OS-specific, wrapped once: the wake-up signaler and the epoll
//! selector.
//!
//! A backend for another OS must provide the same two things:
//! - [`Signaler`]: a file descriptor that any thread can make readable and
//!   the owner can wait on (with a timeout) and reset;
//! - [`Selector`]: readiness notification over many file descriptors, each
//!   registered with a `u64` token;
//! - [`poll`](poll::poll): a one-off wait on a few descriptors;
//! - [`OsRandom`]: cryptographically secure random bytes (CURVE);
//! - [`net`]: TCP and Unix stream sockets, interface addresses, peer
//!   credentials; [`users`]: group membership (IPC accept filters).
//!
//! Nothing above this module calls the OS for these.

pub(crate) mod net;
pub(crate) mod poll;
mod random;
mod selector;
mod signaler;
pub(crate) mod users;

pub(crate) use random::OsRandom;
pub use selector::{Interest, Selector};
pub use signaler::Signaler;

use std::time::Duration;

/// Converts an optional timeout to the `Timespec` the OS takes, rounding up
/// to whole milliseconds: epoll and poll count in milliseconds and round
/// *down*, which would turn a 0.5 ms timeout into a busy loop.
pub(crate) fn timespec(timeout: Option<Duration>) -> Option<rustix::event::Timespec> {
    timeout.map(|t| {
        let ms = t.as_nanos().div_ceil(1_000_000);
        let ms = i64::try_from(ms).unwrap_or(i64::MAX / 1_000_000);
        rustix::event::Timespec {
            tv_sec: ms / 1000,
            tv_nsec: (ms % 1000) * 1_000_000,
        }
    })
}
