//! Pipes, and the vocabulary sockets and I/O threads exchange through them.
//!
//! - [`ypipe`]: one direction of a peer connection, the core lock-free
//!   ypipe on the heap with libzmq's high-water-mark accounting;
//! - [`conflate`]: the CONFLATE variant of a pipe's end;
//! - [`mailbox`]: the command queue every socket and I/O thread owns, with
//!   its wake-up signaler;
//! - [`handle`]: the part of a socket other threads hold (its mailbox), the
//!   [`Command`](handle::Command)s they post to it and the
//!   [`NewPeer`](handle::NewPeer) they hand it, so that the transport can
//!   attach peers without knowing the socket.
//!
//! Pipes sit below the transport: engines and I/O threads read and write
//! them. May import: `sys`, `base`; never `transport`, `socket` or `api`.

pub(crate) mod conflate;
pub(crate) mod handle;
pub(crate) mod mailbox;
mod ypipe;

pub(crate) use ypipe::{Notify, PipeEvent, PipeId, PipeRx, PipeTx, Read, pipe};
