//! The top layer: what applications call besides [`Socket`](crate::Socket)
//! itself — waiting on many sockets and descriptors ([`poller`]) and
//! libzmq's `zmq_proxy` ([`proxy`]). The public face of
//! [`Context`](crate::Context) lives in [`context`].
//!
//! May import: every layer below (`socket`, `transport`, `pipe`, `sys`,
//! `base`).

pub(crate) mod context;
pub mod curve;
pub(crate) mod poller;
pub(crate) mod proxy;
