//! PUB (RFC 29): fan-out to the subscribers of each message's topic.

use core::fmt;

use super::xpub::{Origin, PubCore};
use super::{AttachError, Attached, PeerIdentity, PeerKey, Pipes, RecvError, Routing, SendError};
use crate::storage::Storage;

/// PUB: each message goes to every peer subscribed to a prefix of its
/// first frame (or to the others, with INVERT_MATCHING). A peer at its
/// high-water mark misses the message, whole; with XPUB_NODROP (which
/// libzmq also accepts on PUB) sending reports [`SendError::WouldBlock`]
/// instead. Subscriptions are read from the peers on attach and on
/// [`read_activated`](Routing::read_activated). PUB never receives.
pub struct Pub<S: Storage, K: PeerKey> {
    core: PubCore<S, K>,
}

impl<S: Storage, K: PeerKey> Pub<S, K> {
    /// CONFLATE is allowed on PUB (see the [module docs](super)).
    pub const CONFLATE_ALLOWED: bool = true;

    /// No peers, no subscriptions.
    pub fn new() -> Self {
        Self {
            core: PubCore::new(),
        }
    }

    /// XPUB_NODROP: report [`SendError::WouldBlock`] instead of dropping
    /// the message for a recipient at its high-water mark.
    pub fn set_nodrop(&mut self, on: bool) {
        self.core.set_nodrop(on);
    }

    /// INVERT_MATCHING: send each message to the peers *not* subscribed to
    /// it.
    pub fn set_invert_matching(&mut self, on: bool) {
        self.core.set_invert_matching(on);
    }

    /// Number of distinct subscribed topics (TOPICS_COUNT).
    pub fn topic_count(&self) -> usize {
        self.core.topic_count()
    }

    /// Subscriptions that were not stored because the store was full
    /// (fixed-capacity storage only); those peers miss those topics.
    pub fn rejected_subscriptions(&self) -> usize {
        self.core.rejected_subscriptions()
    }

    /// Panics unless the fan-out and input are consistent.
    #[cfg(test)]
    pub(crate) fn check(&self) {
        self.core.check();
    }

    /// Number of attached peers.
    pub fn peer_count(&self) -> usize {
        self.core.peer_count()
    }
}

impl<S: Storage, K: PeerKey> Default for Pub<S, K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage, K: PeerKey> fmt::Debug for Pub<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pub").field("core", &self.core).finish()
    }
}

impl<S, K, P> Routing<P> for Pub<S, K>
where
    S: Storage,
    K: PeerKey,
    P: Pipes<Peer = K>,
    P::Msg: Clone,
{
    fn attach(
        &mut self,
        pipes: &mut P,
        peer: K,
        _identity: PeerIdentity<'_>,
    ) -> Result<Attached<K>, AttachError> {
        self.core.attach(peer)?;
        self.core
            .process::<P, S::Queue<(P::Msg, Origin<K>)>>(pipes, None);
        Ok(Attached::default())
    }

    fn detach(&mut self, _pipes: &mut P, peer: K) {
        self.core.detach(peer, |_| {});
    }

    fn read_activated(&mut self, pipes: &mut P, peer: K) {
        self.core.read_activated(peer);
        self.core
            .process::<P, S::Queue<(P::Msg, Origin<K>)>>(pipes, None);
    }

    fn write_activated(&mut self, _pipes: &mut P, peer: K) {
        self.core.write_activated(peer);
    }

    #[inline]
    fn send(&mut self, pipes: &mut P, msg: P::Msg) -> Result<(), SendError<P::Msg>> {
        self.core.send(pipes, msg)
    }

    fn recv(&mut self, _pipes: &mut P) -> Result<P::Msg, RecvError> {
        Err(RecvError::NotSupported)
    }

    fn has_in(&mut self, _pipes: &mut P) -> bool {
        false
    }

    fn has_out(&mut self, _pipes: &mut P) -> bool {
        true
    }
}
