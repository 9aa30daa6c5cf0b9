//! PULL (RFC 30): fair-queues from the pushers, never sends.

use super::{
    AttachError, Attached, FairQueue, PeerIdentity, PeerKey, Pipes, RecvError, Routing, SendError,
};
use crate::storage::Storage;

/// PULL: receives whole messages from each pushing peer in turn.
#[derive(Debug)]
pub struct Pull<S: Storage, K: PeerKey> {
    input: FairQueue<S, K>,
}

impl<S: Storage, K: PeerKey> Pull<S, K> {
    /// CONFLATE is allowed on PULL (see the [module docs](super)).
    pub const CONFLATE_ALLOWED: bool = true;

    /// No peers.
    pub fn new() -> Self {
        Self {
            input: FairQueue::new(),
        }
    }

    /// Number of attached peers.
    pub fn peer_count(&self) -> usize {
        self.input.len()
    }
}

impl<S: Storage, K: PeerKey, P: Pipes<Peer = K>> Routing<P> for Pull<S, K> {
    fn attach(
        &mut self,
        _pipes: &mut P,
        peer: K,
        _identity: PeerIdentity<'_>,
    ) -> Result<Attached<K>, AttachError> {
        self.input.attach(peer)?;
        Ok(Attached::default())
    }

    fn detach(&mut self, _pipes: &mut P, peer: K) {
        self.input.detach(peer);
    }

    fn read_activated(&mut self, _pipes: &mut P, peer: K) {
        self.input.activated(peer);
    }

    fn write_activated(&mut self, _pipes: &mut P, _peer: K) {}

    fn send(&mut self, _pipes: &mut P, msg: P::Msg) -> Result<(), SendError<P::Msg>> {
        Err(SendError::NotSupported(msg))
    }

    #[inline]
    fn recv(&mut self, pipes: &mut P) -> Result<P::Msg, RecvError> {
        self.input.recv(pipes).map(|(_, msg)| msg)
    }

    fn has_in(&mut self, pipes: &mut P) -> bool {
        self.input.has_in(pipes)
    }

    fn has_out(&mut self, _pipes: &mut P) -> bool {
        false
    }
}

impl<S: Storage, K: PeerKey> Default for Pull<S, K> {
    fn default() -> Self {
        Self::new()
    }
}
