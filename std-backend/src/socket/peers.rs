//! A socket's peer table: every peer's pipe pair, reached by routing
//! through the core's `Pipes` trait.
//!
//! Peers are named by dense indices ([`PeerId`]) reused after detach, which
//! routing uses to index its own per-peer state; pipe ids (unique per pipe
//! pair in a context) map to them for the notifications pipes send.

use std::collections::HashMap;

use zlink_mq_core::routing::{PeerId, Pipes};

use crate::base::msg::Msg;
use crate::base::slab::Slab;
use crate::pipe::{PipeId, PipeRx, PipeTx, Read};

/// One peer: what the socket writes to it and reads from it.
#[derive(Debug)]
pub(crate) struct Peer {
    pub tx: PipeTx,
    pub rx: PipeRx,
    /// The endpoint (as the user wrote it) this peer came from, for
    /// `unbind` and `disconnect`.
    pub endpoint: Option<String>,
}

/// The peer table.
#[derive(Debug, Default)]
pub(crate) struct Peers {
    slots: Slab<Peer>,
    by_pipe: HashMap<PipeId, PeerId>,
    /// Peers whose inbound pipe reached its end during a routing call; the
    /// socket detaches them once the call returns.
    ended: Vec<PeerId>,
    /// Peers that stopped reading while their input was still unread: each
    /// ends once that input has been read, which a routing call that does
    /// not read past it (ROUTER and STREAM stop after a message) would not
    /// notice by itself.
    leaving: Vec<PeerId>,
}

impl Peers {
    /// Adds a peer and names it.
    pub(crate) fn insert(&mut self, peer: Peer) -> PeerId {
        let pipe_id = peer.tx.id();
        let key = self.slots.insert(peer);
        let id = PeerId(u32::try_from(key).expect("fewer than 2^32 peers"));
        self.by_pipe.insert(pipe_id, id);
        id
    }

    /// Removes a peer (its pipes close as they drop).
    pub(crate) fn remove(&mut self, id: PeerId) -> Option<Peer> {
        let peer = self.slots.remove(id.0 as usize)?;
        self.by_pipe.remove(&peer.tx.id());
        // The id names the next peer inserted: an end noted for this one
        // and not reaped yet (it was detached another way) would detach
        // that newcomer.
        self.ended.retain(|&p| p != id);
        self.leaving.retain(|&p| p != id);
        Some(peer)
    }

    /// The peer a pipe notification is about.
    pub(crate) fn by_pipe(&self, pipe_id: PipeId) -> Option<PeerId> {
        self.by_pipe.get(&pipe_id).copied()
    }

    pub(crate) fn get(&self, id: PeerId) -> Option<&Peer> {
        self.slots.get(id.0 as usize)
    }

    pub(crate) fn get_mut(&mut self, id: PeerId) -> Option<&mut Peer> {
        self.slots.get_mut(id.0 as usize)
    }

    /// Every attached peer.
    pub(crate) fn ids(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.slots.iter().map(|(k, _)| PeerId(k as u32))
    }

    /// Whether everything `id` sent has been read, up to the end of its
    /// inbound pipe.
    pub(crate) fn at_end(&mut self, id: PeerId) -> bool {
        self.slots
            .get_mut(id.0 as usize)
            .is_some_and(|p| p.rx.at_end())
    }

    /// The owner handles a read activation of `id` (or attached it).
    pub(crate) fn activated(&self, id: PeerId) {
        if let Some(peer) = self.slots.get(id.0 as usize) {
            peer.rx.activated();
        }
    }

    /// Peers whose inbound pipe ended since the last call.
    #[inline]
    pub(crate) fn take_ended(&mut self) -> Option<PeerId> {
        if !self.leaving.is_empty() {
            self.check_leaving();
        }
        self.ended.pop()
    }

    /// `id` stopped reading (it is gone) but what it sent is still to be
    /// read: it ends once that is read.
    pub(crate) fn leave(&mut self, id: PeerId) {
        if !self.leaving.contains(&id) {
            self.leaving.push(id);
        }
    }

    #[cold]
    fn check_leaving(&mut self) {
        let mut i = 0;
        while i < self.leaving.len() {
            let id = self.leaving[i];
            if self.at_end(id) {
                self.leaving.swap_remove(i);
                self.end(id);
            } else {
                i += 1;
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.by_pipe.len()
    }

    fn end(&mut self, peer: PeerId) {
        if !self.ended.contains(&peer) {
            self.ended.push(peer);
        }
    }

    #[inline]
    fn peer(&mut self, id: PeerId) -> &mut Peer {
        // Routing only names attached peers (the `Pipes` contract).
        self.slots
            .get_mut(id.0 as usize)
            .expect("routing named a detached peer")
    }
}

impl Pipes for Peers {
    type Peer = PeerId;
    type Msg = Msg;

    #[inline]
    fn check_write(&mut self, peer: PeerId) -> bool {
        let tx = &mut self.peer(peer).tx;
        // A peer whose reader is gone never becomes writable again: routing
        // parks it until its inbound end is read and it is detached.
        !tx.reader_closed() && tx.check_write()
    }

    #[inline]
    fn write(&mut self, peer: PeerId, frame: Msg) -> Result<(), Msg> {
        let tx = &mut self.peer(peer).tx;
        if tx.reader_closed() {
            return Err(frame);
        }
        tx.write(frame)
    }

    fn rollback(&mut self, peer: PeerId) {
        self.peer(peer).tx.rollback();
    }

    #[inline]
    fn flush(&mut self, peer: PeerId) {
        self.peer(peer).tx.flush();
    }

    fn check_read(&mut self, peer: PeerId) -> bool {
        let rx = &mut self.peer(peer).rx;
        if !rx.check_read() {
            return false;
        }
        // `check_read` is true at the end too: look at what is there.
        if rx.at_end() {
            self.end(peer);
            return false;
        }
        true
    }

    #[inline]
    fn read(&mut self, peer: PeerId) -> Option<Msg> {
        match self.peer(peer).rx.read() {
            Read::Msg(m) => Some(m),
            Read::Empty => None,
            Read::Closed => {
                self.end(peer);
                None
            }
        }
    }
}
