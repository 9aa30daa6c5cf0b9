//! XSUB (RFC 29): subscriptions sent as messages; and the subscriber core
//! it shares with SUB.

use core::fmt;

use super::{
    AttachError, Attached, FairQueue, FanOut, PeerIdentity, PeerKey, Pipes, RecvError, Routing,
    SendError, Subscription, Subscriptions,
};
use crate::msg::Message;
use crate::storage::Storage;

/// What SUB and XSUB share: messages fair-queued from the publishers, and
/// subscriptions fanned out to every publisher (remembered, so that a
/// publisher attached later gets them all too).
pub(crate) struct SubCore<S: Storage, K: PeerKey> {
    pub(crate) input: FairQueue<S, K>,
    pub(crate) out: FanOut<S, K>,
    pub(crate) subscriptions: Subscriptions<S>,
}

impl<S: Storage, K: PeerKey> SubCore<S, K> {
    pub(crate) fn new() -> Self {
        Self {
            input: FairQueue::new(),
            out: FanOut::new(),
            subscriptions: Subscriptions::new(),
        }
    }

    /// Adds a publisher and sends it every current subscription (each
    /// topic once). A subscription that does not fit its pipe is dropped,
    /// as libzmq does.
    pub(crate) fn attach<P>(&mut self, pipes: &mut P, peer: K) -> Result<(), AttachError>
    where
        P: Pipes<Peer = K>,
    {
        self.input.attach(peer)?;
        if let Err(e) = self.out.attach(peer) {
            self.input.detach(peer);
            return Err(e);
        }
        self.subscriptions.for_each(|topic| {
            if let Ok(msg) = Subscription::Subscribe(topic).to_message::<P::Msg>() {
                let _ = pipes.write(peer, msg);
            }
        });
        pipes.flush(peer);
        Ok(())
    }

    pub(crate) fn detach(&mut self, peer: K) {
        self.input.detach(peer);
        self.out.detach(peer);
    }
}

impl<S: Storage, K: PeerKey> fmt::Debug for SubCore<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubCore")
            .field("input", &self.input)
            .field("out", &self.out)
            .field("subscriptions", &self.subscriptions)
            .finish()
    }
}

/// XSUB: the application subscribes by *sending* subscription messages
/// (first byte 1 to subscribe, 0 to cancel, then the topic) and may send
/// other messages upstream to the publishers (XPUBs); it receives every
/// message the publishers send, unfiltered (they filter).
///
/// Subscriptions are counted: only the cancellation of the last reference
/// to a topic is forwarded. Every subscription is forwarded, duplicates
/// included, so that an XPUB upstream with XPUB_VERBOSE sees them all.
/// When a fixed-capacity store is full, sending a subscription reports
/// [`SendError::SubscriptionsFull`].
pub struct XSub<S: Storage, K: PeerKey> {
    core: SubCore<S, K>,
    more_send: bool,
    /// Later frames of the outgoing message are parsed as subscriptions.
    process_subscribe: bool,
    only_first_subscribe: bool,
}

impl<S: Storage, K: PeerKey> XSub<S, K> {
    /// CONFLATE has no effect on XSUB in libzmq.
    pub const CONFLATE_ALLOWED: bool = false;

    /// No peers, no subscriptions.
    pub fn new() -> Self {
        Self {
            core: SubCore::new(),
            more_send: false,
            process_subscribe: false,
            only_first_subscribe: false,
        }
    }

    /// ONLY_FIRST_SUBSCRIBE: parse only the first frame of an outgoing
    /// multipart message as a subscription.
    pub fn set_only_first_subscribe(&mut self, on: bool) {
        self.only_first_subscribe = on;
    }

    /// Number of distinct subscribed topics (TOPICS_COUNT).
    pub fn topic_count(&self) -> usize {
        self.core.subscriptions.len()
    }

    /// Number of attached peers.
    pub fn peer_count(&self) -> usize {
        self.core.out.len()
    }
}

impl<S: Storage, K: PeerKey> Default for XSub<S, K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage, K: PeerKey> fmt::Debug for XSub<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XSub")
            .field("core", &self.core)
            .field("more_send", &self.more_send)
            .finish_non_exhaustive()
    }
}

impl<S, K, P> Routing<P> for XSub<S, K>
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

    fn send(&mut self, pipes: &mut P, msg: P::Msg) -> Result<(), SendError<P::Msg>> {
        let more = msg.more();
        let first_part = !self.more_send;
        let parse = if first_part {
            self.process_subscribe = !self.only_first_subscribe;
            true
        } else {
            self.process_subscribe
        };
        let forward = match parse.then(|| Subscription::parse(msg.bytes())).flatten() {
            Some(Subscription::Subscribe(topic)) => {
                if self.core.subscriptions.add(topic).is_err() {
                    return Err(SendError::SubscriptionsFull(msg));
                }
                self.process_subscribe = true;
                true
            }
            Some(Subscription::Cancel(topic)) => {
                self.process_subscribe = true;
                self.core.subscriptions.remove(topic)
            }
            None => true,
        };
        self.more_send = more;
        if forward {
            self.core.out.send_to_all(pipes, msg);
        }
        Ok(())
    }

    #[inline]
    fn recv(&mut self, pipes: &mut P) -> Result<P::Msg, RecvError> {
        self.core.input.recv(pipes).map(|(_, msg)| msg)
    }

    fn has_in(&mut self, pipes: &mut P) -> bool {
        self.core.input.has_in(pipes)
    }

    fn has_out(&mut self, _pipes: &mut P) -> bool {
        true
    }
}
