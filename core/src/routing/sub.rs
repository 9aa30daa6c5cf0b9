//! SUB (RFC 29): receives the messages matching its subscriptions.

use core::fmt;

use super::xsub::SubCore;
use super::{
    AttachError, Attached, PeerIdentity, PeerKey, Pipes, RecvError, Routing, SendError,
    SubscribeError, Subscription,
};
use crate::msg::Message;
use crate::storage::Storage;

/// SUB: receives, fair-queued from the publishers, the messages whose
/// first frame starts with one of its subscriptions (or with none of
/// them, with INVERT_MATCHING), whole; other messages are discarded.
///
/// [`subscribe`](Sub::subscribe) and [`unsubscribe`](Sub::unsubscribe)
/// are counted (subscribing twice needs two unsubscribes); each subscribe
/// is sent to every publisher, and the last unsubscribe of a topic too.
/// A publisher attached later is sent every topic. A subscription that
/// does not fit a publisher's pipe (high-water mark) is lost for that
/// publisher, as in libzmq. SUB never sends.
pub struct Sub<S: Storage, K: PeerKey, M> {
    core: SubCore<S, K>,
    invert_matching: bool,
    /// Frames of a matching message were returned; more follow.
    more_recv: bool,
    /// The first frame of a matching message, read by
    /// [`has_in`](Routing::has_in) to answer truthfully.
    prefetched: Option<M>,
}

impl<S: Storage, K: PeerKey, M: Message> Sub<S, K, M> {
    /// CONFLATE is allowed on SUB (see the [module docs](super)).
    pub const CONFLATE_ALLOWED: bool = true;

    /// No peers, no subscriptions (so nothing is received).
    pub fn new() -> Self {
        Self {
            core: SubCore::new(),
            invert_matching: false,
            more_recv: false,
            prefetched: None,
        }
    }

    /// INVERT_MATCHING: receive the messages that match *no* subscription.
    pub fn set_invert_matching(&mut self, on: bool) {
        self.invert_matching = on;
    }

    /// SUBSCRIBE: adds a reference to `topic` and sends the subscription
    /// to every publisher.
    ///
    /// # Errors
    /// [`SubscribeError`]; nothing was stored or sent.
    pub fn subscribe<P>(&mut self, pipes: &mut P, topic: &[u8]) -> Result<(), SubscribeError>
    where
        P: Pipes<Peer = K, Msg = M>,
        M: Clone,
    {
        let msg = Subscription::Subscribe(topic)
            .to_message::<M>()
            .map_err(|_| SubscribeError::FrameTooLarge)?;
        self.core.subscriptions.add(topic)?;
        self.core.out.send_to_all(pipes, msg);
        Ok(())
    }

    /// UNSUBSCRIBE: removes a reference to `topic`; when it was the last,
    /// sends the cancellation to every publisher. Unsubscribing from a
    /// topic not subscribed to does nothing.
    ///
    /// # Errors
    /// [`SubscribeError::FrameTooLarge`]; nothing was changed or sent.
    pub fn unsubscribe<P>(&mut self, pipes: &mut P, topic: &[u8]) -> Result<(), SubscribeError>
    where
        P: Pipes<Peer = K, Msg = M>,
        M: Clone,
    {
        let msg = Subscription::Cancel(topic)
            .to_message::<M>()
            .map_err(|_| SubscribeError::FrameTooLarge)?;
        if self.core.subscriptions.remove(topic) {
            self.core.out.send_to_all(pipes, msg);
        }
        Ok(())
    }

    /// Number of distinct subscribed topics (TOPICS_COUNT).
    pub fn topic_count(&self) -> usize {
        self.core.subscriptions.len()
    }

    /// Number of attached peers.
    pub fn peer_count(&self) -> usize {
        self.core.out.len()
    }

    /// Reads the first frame of the next matching message, discarding
    /// non-matching messages whole.
    fn next_match<P>(&mut self, pipes: &mut P) -> Result<M, RecvError>
    where
        P: Pipes<Peer = K, Msg = M>,
    {
        loop {
            let msg = match self.core.input.recv(pipes) {
                Ok((_, msg)) => msg,
                // Cut short while being discarded: nothing to report.
                Err(RecvError::Truncated) => continue,
                Err(e) => return Err(e),
            };
            if self.core.subscriptions.matches(msg.bytes()) != self.invert_matching {
                return Ok(msg);
            }
            let mut more = msg.more();
            while more {
                more = match self.core.input.recv(pipes) {
                    Ok((_, msg)) => msg.more(),
                    Err(RecvError::Truncated) => false,
                    Err(e) => return Err(e),
                };
            }
        }
    }
}

impl<S: Storage, K: PeerKey, M: Message> Default for Sub<S, K, M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage, K: PeerKey, M> fmt::Debug for Sub<S, K, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sub")
            .field("core", &self.core)
            .field("invert_matching", &self.invert_matching)
            .field("more_recv", &self.more_recv)
            .field("prefetched", &self.prefetched.is_some())
            .finish()
    }
}

impl<S, K, P> Routing<P> for Sub<S, K, P::Msg>
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
        self.core.attach(pipes, peer)?;
        Ok(Attached::default())
    }

    fn detach(&mut self, _pipes: &mut P, peer: K) {
        self.core.detach(peer);
    }

    fn read_activated(&mut self, _pipes: &mut P, peer: K) {
        self.core.input.activated(peer);
    }

    fn write_activated(&mut self, _pipes: &mut P, peer: K) {
        self.core.out.activated(peer);
    }

    fn send(&mut self, _pipes: &mut P, msg: P::Msg) -> Result<(), SendError<P::Msg>> {
        Err(SendError::NotSupported(msg))
    }

    fn recv(&mut self, pipes: &mut P) -> Result<P::Msg, RecvError> {
        let result = if let Some(msg) = self.prefetched.take() {
            Ok(msg)
        } else if self.more_recv {
            self.core.input.recv(pipes).map(|(_, msg)| msg)
        } else {
            self.next_match(pipes)
        };
        self.more_recv = matches!(&result, Ok(msg) if msg.more());
        result
    }

    fn has_in(&mut self, pipes: &mut P) -> bool {
        if self.more_recv || self.prefetched.is_some() {
            return true;
        }
        match self.next_match(pipes) {
            Ok(msg) => {
                self.prefetched = Some(msg);
                true
            }
            Err(_) => false,
        }
    }

    fn has_out(&mut self, _pipes: &mut P) -> bool {
        false
    }
}
