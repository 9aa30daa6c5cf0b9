//! libzmq 4.3.4 built from the sources the `zeromq-src` crate vendors, but
//! configured as Linux distributions build it (see `platform.hpp`): eventfd
//! signaler, epoll with CLOEXEC, accept4, clock_gettime, SO_KEEPALIVE.
//!
//! The `compare` example loads it at run time when the machine has no
//! system libzmq (or when asked to): a shared library opened with
//! RTLD_LOCAL, so its symbols never meet the static libzmq the `zmq` crate
//! links for the interop tests.

/// Path of the shared library this crate's build script linked; empty on a
/// target where it builds none (not Linux).
pub const SHARED_LIBRARY: &str = env!("COMPARE_LIBZMQ_SO");

/// The `platform.hpp` it was compiled with.
pub const PLATFORM_HPP: &str = include_str!("../platform.hpp");
