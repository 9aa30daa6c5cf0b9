//! PUSH (RFC 30): round-robin to the pullers, never receives.

use super::{
    AttachError, Attached, PeerIdentity, PeerKey, Pipes, RecvError, RoundRobin, Routing, SendError,
};
use crate::storage::Storage;

/// PUSH: each message goes to the next peer with room for it; when every
/// peer is at its high-water mark (or there is none) sending reports
/// [`SendError::WouldBlock`].
#[derive(Debug)]
pub struct Push<S: Storage, K: PeerKey> {
    out: RoundRobin<S, K>,
}

impl<S: Storage, K: PeerKey> Push<S, K> {
    /// CONFLATE is allowed on PUSH (see the [module docs](super)).
    pub const CONFLATE_ALLOWED: bool = true;

    /// No peers.
    pub fn new() -> Self {
        Self {
            out: RoundRobin::new(),
        }
    }

    /// Number of attached peers.
    pub fn peer_count(&self) -> usize {
        self.out.len()
    }
}

impl<S: Storage, K: PeerKey, P: Pipes<Peer = K>> Routing<P> for Push<S, K> {
    fn attach(
        &mut self,
        _pipes: &mut P,
        peer: K,
        _identity: PeerIdentity<'_>,
    ) -> Result<Attached<K>, AttachError> {
        self.out.attach(peer)?;
        Ok(Attached::default())
    }

    fn detach(&mut self, _pipes: &mut P, peer: K) {
        self.out.detach(peer);
    }

    fn read_activated(&mut self, _pipes: &mut P, _peer: K) {}

    fn write_activated(&mut self, _pipes: &mut P, peer: K) {
        self.out.activated(peer);
    }

    #[inline]
    fn send(&mut self, pipes: &mut P, msg: P::Msg) -> Result<(), SendError<P::Msg>> {
        self.out.send(pipes, msg).map(drop)
    }

    fn recv(&mut self, _pipes: &mut P) -> Result<P::Msg, RecvError> {
        Err(RecvError::NotSupported)
    }

    fn has_in(&mut self, _pipes: &mut P) -> bool {
        false
    }

    fn has_out(&mut self, pipes: &mut P) -> bool {
        self.out.has_out(pipes)
    }
}

impl<S: Storage, K: PeerKey> Default for Push<S, K> {
    fn default() -> Self {
        Self::new()
    }
}
