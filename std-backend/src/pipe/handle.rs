//! The part of a socket other threads hold, and what they tell it.
//!
//! The transport (I/O threads, the inproc registry) and pipes report to a
//! socket through its [`SocketShared`] mailbox only: a new peer's pipe ends
//! ([`NewPeer`]), a pipe's state change, the context's shutdown. Defined
//! here, below both, so that neither names the other (quinn-proto's
//! `shared.rs` idea).

use std::fmt;

use crate::base::error::Result;
use crate::pipe::mailbox::Mailbox;
use crate::pipe::{Notify, PipeEvent, PipeId, PipeRx, PipeTx};

/// What other threads tell a socket.
pub(crate) enum Command {
    /// A new peer: its pipe ends, for this socket to attach.
    Attach(Box<NewPeer>),
    /// A pipe's state changed.
    Pipe(PipeId, PipeEvent),
    /// The context was shut down.
    Terminate,
}

/// One end of a new peer connection.
pub(crate) struct NewPeer {
    pub tx: PipeTx,
    pub rx: PipeRx,
    /// The routing id the peer announced, if any.
    pub routing_id: Option<Vec<u8>>,
    /// The id CONNECT_ROUTING_ID gave this peer: only ever set for a
    /// connection this socket initiated, as in libzmq.
    pub assigned_routing_id: Option<Vec<u8>>,
    /// The endpoint the connection belongs to, as the user wrote it.
    pub endpoint: Option<String>,
    /// The connection already wrote PROBE_ROUTER's empty message into `tx`
    /// (it made the pipes): the socket must not write another.
    pub probed: bool,
}

/// A socket's name, unique in its context: I/O threads name the socket
/// whose listeners and connections a command is about by it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(crate) struct SocketId(pub(crate) u64);

/// The part of a socket other threads hold: its mailbox.
pub(crate) struct SocketShared {
    pub id: SocketId,
    pub mailbox: Mailbox<Command>,
}

impl SocketShared {
    pub(crate) fn new(id: SocketId) -> Result<Self> {
        Ok(Self {
            id,
            mailbox: Mailbox::new()?,
        })
    }

    /// Hands the socket a new peer to attach.
    pub(crate) fn attach(&self, peer: NewPeer) {
        self.mailbox.post(Command::Attach(Box::new(peer)));
    }
}

impl fmt::Debug for SocketShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketShared")
            .field("id", &self.id)
            .finish()
    }
}

impl Notify for SocketShared {
    fn pipe_event(&self, id: PipeId, event: PipeEvent) {
        self.mailbox.post(Command::Pipe(id, event));
    }
}
