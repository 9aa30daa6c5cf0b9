//! `zlink-mq-core`: the `no_std`, allocation-free heart of zlink-mq.
//!
//! This crate owns the parts of a ZeroMQ implementation that need neither an
//! operating system nor a heap:
//!
//! - [`pipe`]: the lock-free single-producer / single-consumer *ypipe* that
//!   carries messages between a socket and each of its peers.
//! - [`socket_type`]: the eleven socket types, their ZMTP names and which
//!   pairs may talk.
//! - [`time`]: the caller-supplied clock ([`time::Instant`]).
//! - [`zmtp`]: ZMTP 3.1 (with 3.0 fallback) as a sans-IO state machine:
//!   greeting, NULL / PLAIN handshakes, metadata, frames, heartbeats.
//!
//! It never performs I/O, never reads a clock and never allocates: storage is
//! supplied by the caller (often as a `static`) and time is passed in.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod pipe;
pub mod socket_type;
pub mod time;
pub mod zmtp;
