//! `zlink-mq-std`: the std backend of zlink-mq for Linux servers.
//!
//! [`Context`], [`Socket`], [`Msg`] and [`Poller`] are the API; the core
//! ([`zlink_mq_core`], re-exported as [`core`]) provides the pipes, the
//! ZMTP engine and the routing of every socket type.
//!
//! - [`Context`]: sockets of the eleven types, the inproc registry, the
//!   I/O threads; [`Context::shutdown`] and [`Context::terminate`] as
//!   libzmq's `zmq_ctx_shutdown` / `zmq_ctx_term`.
//! - [`Socket`]: `bind`, `connect`, `unbind`, `disconnect` over `inproc://`,
//!   `ipc://` and `tcp://`; frames and multipart messages; the options;
//!   monitor events ([`monitor`]); [`Socket::fd`] for foreign event loops.
//! - [`poll`] / [`Poller`]: waiting on sockets and file descriptors;
//!   [`proxy`] / [`proxy_steerable`]: libzmq's `zmq_proxy`.
//!
//! ```
//! use zlink_mq_std::{Context, Flags, SocketType};
//!
//! let ctx = Context::new();
//! let mut rep = ctx.socket(SocketType::Rep)?;
//! rep.bind("inproc://lib-doc")?;
//! let mut req = ctx.socket(SocketType::Req)?;
//! req.connect("inproc://lib-doc")?;
//! req.send("ping", Flags::NONE)?;
//! assert_eq!(&rep.recv(Flags::NONE)?[..], b"ping");
//! rep.send("pong", Flags::NONE)?;
//! assert_eq!(&req.recv(Flags::NONE)?[..], b"pong");
//! # Ok::<(), zlink_mq_std::Error>(())
//! ```
#![deny(unsafe_code)]

pub use zlink_mq_core as core;

// The layers, bottom to top: base, sys, pipe, transport, socket, api; each
// imports only the ones below it (`.ci/layers.sh` checks it;
// docs/ARCHITECTURE.md draws it).
mod api;
mod base;
mod pipe;
mod socket;
mod sys;
mod transport;

pub use api::curve;
pub use base::{endpoint, error, msg, properties, storage};
pub use transport::monitor;

pub use api::poller::{PollItem, Poller, poll};
pub use api::proxy::{proxy, proxy_single_socket, proxy_steerable};
pub use base::endpoint::Endpoint;
pub use base::error::{Error, ErrorKind, Result};
pub use base::msg::Msg;
pub use base::properties::Properties;
pub use socket::context::Context;
pub use socket::{Events, Flags, Socket};
pub use zlink_mq_core::socket_type::SocketType;
