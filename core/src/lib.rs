//! `zlink-mq-core`: the `no_std`, allocation-free heart of zlink-mq.
//!
//! This crate owns the parts of a ZeroMQ implementation that need neither an
//! operating system nor a heap:
//!
//! - [`pipe`]: the lock-free single-producer / single-consumer *ypipe* that
//!   carries messages between a socket and each of its peers.
//! - [`routing`]: the behaviour of every standard socket type (which peer
//!   gets or gives the next frame), over [`msg::Message`] frames and
//!   [`storage::Storage`] families.
//! - [`msg`]: what routing needs to know about a message frame.
//! - [`storage`]: fixed-capacity collections for routing state, and the
//!   traits a heap-backed family implements.
//! - [`socket`]: a complete socket for firmware ([`socket::Socket`]):
//!   routing, ZMTP connections and buffers in fixed storage, over
//!   `embedded_io` streams.
//! - [`socket_type`]: the eleven socket types, their ZMTP names and which
//!   pairs may talk.
//! - [`time`]: the caller-supplied clock ([`time::Instant`]).
//! - [`zmtp`]: ZMTP 3.1 (with 3.0 fallback) as a sans-IO state machine:
//!   greeting, NULL / PLAIN / CURVE handshakes, metadata, frames, heartbeats.
//! - [`z85`]: the printable form of CURVE keys (RFC 32).
//!
//! Feature `curve` (default): the CURVE mechanism, with RustCrypto's
//! X25519 / XSalsa20-Poly1305 (no_std, no C).
//!
//! It never performs I/O, never reads a clock and never allocates: storage is
//! supplied by the caller (often as a `static`) and time is passed in.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod msg;
pub mod pipe;
pub mod routing;
pub mod socket;
pub mod socket_type;
pub mod storage;
pub mod time;
pub mod z85;
pub mod zmtp;
