//! **zlink-mq**: a ZeroMQ-compatible messaging library.
//!
//! With the default `std` feature this crate re-exports the std backend
//! (`zlink_mq_std`), for Linux servers. With `default-features = false` it
//! is `#![no_std]` and re-exports the allocation-free core
//! ([`zlink_mq_core`]), for firmware and bare-metal targets. Either way the
//! core is also reachable as [`zlink_mq::core`](crate::core). The `tokio`
//! feature adds async sockets for tokio (`zlink_mq::tokio::AsyncSocket`).
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

pub use zlink_mq_core as core;

// The std backend's API: Context, Socket, Msg, Poller, proxy, errors.
#[cfg(feature = "std")]
pub use zlink_mq_std::*;

#[cfg(not(feature = "std"))]
pub use zlink_mq_core::*;

#[cfg(feature = "tokio")]
pub mod tokio;

/// The README's Rust examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
