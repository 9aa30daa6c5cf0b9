//! DEALER (RFC 28): round-robin out, fair-queue in, no envelope.

use super::{
    AttachError, Attached, FairQueue, PeerIdentity, PeerKey, Pipes, RecvError, RoundRobin, Routing,
    SendError,
};
use crate::storage::Storage;

/// DEALER: sends each message to the next peer with room for it
/// ([`SendError::WouldBlock`] when none has), receives whole messages from
/// each peer in turn. Frames pass unchanged in both directions.
#[derive(Debug)]
pub struct Dealer<S: Storage, K: PeerKey> {
    out: RoundRobin<S, K>,
    input: FairQueue<S, K>,
}

impl<S: Storage, K: PeerKey> Dealer<S, K> {
    /// CONFLATE is allowed on DEALER (see the [module docs](super)).
    pub const CONFLATE_ALLOWED: bool = true;

    /// No peers.
    pub fn new() -> Self {
        Self {
            out: RoundRobin::new(),
            input: FairQueue::new(),
        }
    }

    /// Number of attached peers.
    pub fn peer_count(&self) -> usize {
        self.out.len()
    }

    /// Panics unless both strategies are consistent.
    #[cfg(test)]
    pub(crate) fn check(&self) {
        self.out.check();
        self.input.check();
    }

    /// Sends one frame; returns the peer that took it (`None` when it was
    /// discarded because its message's peer left mid-message). REQ builds
    /// on this.
    pub(crate) fn send_to_peer<P>(
        &mut self,
        pipes: &mut P,
        msg: P::Msg,
    ) -> Result<Option<K>, SendError<P::Msg>>
    where
        P: Pipes<Peer = K>,
    {
        self.out.send(pipes, msg)
    }

    /// Receives one frame with the peer it came from. REQ builds on this.
    pub(crate) fn recv_from_peer<P>(&mut self, pipes: &mut P) -> Result<(K, P::Msg), RecvError>
    where
        P: Pipes<Peer = K>,
    {
        self.input.recv(pipes)
    }
}

impl<S: Storage, K: PeerKey, P: Pipes<Peer = K>> Routing<P> for Dealer<S, K> {
    fn attach(
        &mut self,
        _pipes: &mut P,
        peer: K,
        _identity: PeerIdentity<'_>,
    ) -> Result<Attached<K>, AttachError> {
        self.input.attach(peer)?;
        if let Err(e) = self.out.attach(peer) {
            self.input.detach(peer);
            return Err(e);
        }
        Ok(Attached::default())
    }

    fn detach(&mut self, _pipes: &mut P, peer: K) {
        self.input.detach(peer);
        self.out.detach(peer);
    }

    fn read_activated(&mut self, _pipes: &mut P, peer: K) {
        self.input.activated(peer);
    }

    fn write_activated(&mut self, _pipes: &mut P, peer: K) {
        self.out.activated(peer);
    }

    #[inline]
    fn send(&mut self, pipes: &mut P, msg: P::Msg) -> Result<(), SendError<P::Msg>> {
        self.out.send(pipes, msg).map(drop)
    }

    #[inline]
    fn recv(&mut self, pipes: &mut P) -> Result<P::Msg, RecvError> {
        self.input.recv(pipes).map(|(_, msg)| msg)
    }

    fn has_in(&mut self, pipes: &mut P) -> bool {
        self.input.has_in(pipes)
    }

    fn has_out(&mut self, pipes: &mut P) -> bool {
        self.out.has_out(pipes)
    }
}

impl<S: Storage, K: PeerKey> Default for Dealer<S, K> {
    fn default() -> Self {
        Self::new()
    }
}
