//! `zlink-mq-std`: the std backend of zlink-mq for Linux servers.
//!
//! It re-exports the core ([`core`]) and will host the epoll reactor, the
//! TCP / IPC / inproc transports and the Context / Socket / Poller API.

pub use zlink_mq_core as core;
