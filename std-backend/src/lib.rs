//! `zlink-mq-std`: the std backend of zlink-mq for Linux servers.
//!
//! It re-exports the core ([`core`]) and will host the epoll reactor, the
//! TCP / IPC / inproc transports and the Context / Socket / Poller API.

#![deny(unsafe_code)]

pub use zlink_mq_core as core;

pub mod endpoint;
pub mod error;
// The socket layer that drives the mailbox and the pipes is being built on
// top of them; until it lands only their own tests use them.
#[allow(dead_code)]
mod mailbox;
pub mod msg;
#[allow(dead_code)]
mod pipe;
#[allow(dead_code)]
mod sys;

pub use endpoint::Endpoint;
pub use error::{Error, ErrorKind, Result};
pub use msg::Msg;
