//! XPUB (RFC 29): PUB that shows its subscriptions to the application;
//! and the fan-out core it shares with PUB.

use core::fmt;

use super::{
    AttachError, Attached, FairQueue, FanOut, PeerIdentity, PeerKey, Pipes, RecvError, Removed,
    Routing, SendError, Subscribers, Subscription,
};
use crate::msg::Message;
use crate::storage::{Queue, Storage};

/// What PUB and XPUB share: subscribers read from the peers, and fan-out
/// of each message to the peers whose subscriptions match it.
pub(crate) struct PubCore<S: Storage, K: PeerKey> {
    /// Subscriptions (and, for XPUB, messages) arriving from the peers.
    input: FairQueue<S, K>,
    out: FanOut<S, K>,
    subscribers: Subscribers<S, K>,
    verbose_subs: bool,
    verbose_unsubs: bool,
    /// Drop messages for full peers (false with XPUB_NODROP).
    lossy: bool,
    invert_matching: bool,
    only_first_subscribe: bool,
    more_send: bool,
    more_recv: bool,
    /// Later frames of the incoming message are parsed as subscriptions.
    process_subscribe: bool,
    /// Subscriptions refused because the store was full.
    rejected: usize,
    /// XPUB_MANUAL: the peers' subscriptions are shown, all of them, but
    /// not applied; the application applies what it decides.
    manual: bool,
    /// With XPUB_MANUAL, what each peer asked for (libzmq's
    /// `_manual_subscriptions`): cancelled on the application's behalf
    /// when the peer leaves.
    manual_subs: Subscribers<S, K>,
}

/// Where a message waiting for an XPUB's application came from: what
/// XPUB_MANUAL's SUBSCRIBE applies to once the application received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin<K> {
    /// A subscription or cancellation of this peer.
    Subscriber(K),
    /// The cancellation of a departed peer's topic.
    Departed,
    /// A message an XSUB sent upstream.
    Upstream,
}

impl<S: Storage, K: PeerKey> PubCore<S, K> {
    pub(crate) fn new() -> Self {
        Self {
            input: FairQueue::new(),
            out: FanOut::new(),
            subscribers: Subscribers::new(),
            verbose_subs: false,
            verbose_unsubs: false,
            lossy: true,
            invert_matching: false,
            only_first_subscribe: false,
            more_send: false,
            more_recv: false,
            process_subscribe: false,
            rejected: 0,
            manual: false,
            manual_subs: Subscribers::new(),
        }
    }

    pub(crate) fn set_nodrop(&mut self, on: bool) {
        self.lossy = !on;
    }

    pub(crate) fn set_invert_matching(&mut self, on: bool) {
        self.invert_matching = on;
    }

    pub(crate) fn topic_count(&self) -> usize {
        self.subscribers.len()
    }

    pub(crate) fn rejected_subscriptions(&self) -> usize {
        self.rejected
    }

    pub(crate) fn peer_count(&self) -> usize {
        self.out.len()
    }

    #[cfg(test)]
    pub(crate) fn check(&self) {
        self.out.check();
        self.input.check();
    }

    pub(crate) fn attach(&mut self, peer: K) -> Result<(), AttachError> {
        self.input.attach(peer)?;
        if let Err(e) = self.out.attach(peer) {
            self.input.detach(peer);
            return Err(e);
        }
        Ok(())
    }

    /// Removes `peer` and its subscriptions; calls `cancelled` with each
    /// topic nobody subscribes to any more (every topic the peer had, with
    /// XPUB_VERBOSER; with XPUB_MANUAL, every topic the peer had asked
    /// for, as libzmq, while what the application subscribed it to goes
    /// silently).
    pub(crate) fn detach(&mut self, peer: K, mut cancelled: impl FnMut(&[u8])) {
        if self.manual {
            self.manual_subs
                .remove_peer(peer, |topic, _| cancelled(topic));
            self.subscribers.remove_peer(peer, |_, _| {});
        } else {
            let verbose = self.verbose_unsubs;
            self.subscribers.remove_peer(peer, |topic, last| {
                if last || verbose {
                    cancelled(topic);
                }
            });
        }
        self.input.detach(peer);
        self.out.detach(peer);
    }

    pub(crate) fn read_activated(&mut self, peer: K) {
        self.input.activated(peer);
    }

    pub(crate) fn write_activated(&mut self, peer: K) {
        self.out.activated(peer);
    }

    /// Reads what the peers sent and applies their subscriptions. With a
    /// `queue` (XPUB), new subscriptions and cancellations (all of them
    /// with XPUB_VERBOSE / XPUB_VERBOSER / XPUB_MANUAL, which applies
    /// none) and the peers' other messages are queued for the
    /// application with their [`Origin`], and reading stops while the
    /// queue is full; without one (PUB) everything but the subscriptions
    /// is discarded.
    pub(crate) fn process<P, Q>(&mut self, pipes: &mut P, mut queue: Option<&mut Q>)
    where
        P: Pipes<Peer = K>,
        Q: Queue<(P::Msg, Origin<K>)>,
    {
        loop {
            if queue.as_ref().is_some_and(|q| !q.has_room()) {
                return;
            }
            let (peer, mut msg) = match self.input.recv(pipes) {
                Ok(received) => received,
                Err(RecvError::Truncated) => {
                    self.more_recv = false;
                    continue;
                }
                Err(_) => return,
            };
            let first_part = !self.more_recv;
            self.more_recv = msg.more();
            let subscription = if first_part || self.process_subscribe {
                Subscription::parse(msg.bytes())
            } else {
                None
            };
            if first_part {
                self.process_subscribe = !self.only_first_subscribe || subscription.is_some();
            }
            let store = if self.manual {
                &mut self.manual_subs
            } else {
                &mut self.subscribers
            };
            let deliver = match subscription {
                Some(Subscription::Subscribe(topic)) => match store.add(topic, peer) {
                    Ok(first_added) => first_added || self.verbose_subs || self.manual,
                    Err(_) => {
                        self.rejected += 1;
                        self.manual
                    }
                },
                Some(Subscription::Cancel(topic)) => {
                    let removed = store.remove(topic, peer);
                    removed != Removed::SubscribersRemain || self.verbose_unsubs || self.manual
                }
                // Not a subscription: a message an XSUB sent upstream.
                None => true,
            };
            let origin = if subscription.is_some() {
                // Notifications stand alone, whatever frame carried them.
                msg.set_more(false);
                Origin::Subscriber(peer)
            } else {
                Origin::Upstream
            };
            if let (true, Some(q)) = (deliver, queue.as_deref_mut()) {
                // Room was checked before reading.
                let _ = q.push_back((msg, origin));
            }
        }
    }

    pub(crate) fn send<P>(&mut self, pipes: &mut P, msg: P::Msg) -> Result<(), SendError<P::Msg>>
    where
        P: Pipes<Peer = K>,
        P::Msg: Clone,
    {
        let more = msg.more();
        if !self.more_send {
            // The first frame decides who gets the whole message.
            self.out.unmatch();
            let Self {
                subscribers, out, ..
            } = self;
            subscribers.for_each_match(msg.bytes(), |peer| out.match_peer(peer));
            if self.invert_matching {
                self.out.reverse_match();
            }
        }
        // XPUB_NODROP asks once per message, before its first frame: that
        // frame's write reserves room for the whole message, so the later
        // frames always fit, and asking again for a whole message's room
        // in the middle of one would refuse a frame whose predecessors are
        // already queued.
        if !self.lossy && !self.more_send && !self.out.check_write_matching(pipes) {
            return Err(SendError::WouldBlock(msg));
        }
        self.out.send_to_matching(pipes, msg);
        if !more {
            self.out.unmatch();
        }
        self.more_send = more;
        Ok(())
    }
}

impl<S: Storage, K: PeerKey> fmt::Debug for PubCore<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PubCore")
            .field("out", &self.out)
            .field("subscribers", &self.subscribers)
            .field("lossy", &self.lossy)
            .field("invert_matching", &self.invert_matching)
            .field("more_send", &self.more_send)
            .finish_non_exhaustive()
    }
}

/// XPUB: a PUB whose application also receives the subscriptions, as
/// messages whose first byte is 1 (subscribe) or 0 (cancel) followed by
/// the topic, and any other message the peers (XSUBs) send upstream.
///
/// - Only the first subscription to a topic and the last cancellation are
///   shown, unless XPUB_VERBOSE (every subscription) or XPUB_VERBOSER
///   (every subscription and cancellation). A peer that leaves cancels
///   its topics that nobody else wants.
/// - Each message goes to the peers subscribed to a prefix of its first
///   frame (or to the others, with INVERT_MATCHING). A peer at its
///   high-water mark misses the message; with XPUB_NODROP sending reports
///   [`SendError::WouldBlock`] instead while any recipient is full.
/// - Subscriptions take effect as soon as they are read (on
///   [`read_activated`](Routing::read_activated) and attach), not when the
///   application receives them. The notifications wait in a
///   [`Queue`](crate::storage::Storage::Queue); when a fixed-capacity
///   queue is full, XPUB leaves further input in the pipes (subscriptions
///   then wait too) until the application receives.
pub struct XPub<S: Storage, K: PeerKey, M> {
    core: PubCore<S, K>,
    pending: S::Queue<(M, Origin<K>)>,
    /// Cancellations of departed peers' topics that did not fit the queue
    /// or the message type.
    lost_notifications: usize,
    /// XPUB_MANUAL: the peer of the last subscription or cancellation the
    /// application received (libzmq's `_last_pipe`), whom
    /// [`subscribe`](XPub::subscribe) subscribes.
    last_peer: Option<K>,
}

impl<S: Storage, K: PeerKey, M: Message> XPub<S, K, M> {
    /// CONFLATE has no effect on XPUB in libzmq.
    pub const CONFLATE_ALLOWED: bool = false;

    /// No peers, no subscriptions.
    pub fn new() -> Self {
        Self {
            core: PubCore::new(),
            pending: Default::default(),
            lost_notifications: 0,
            last_peer: None,
        }
    }

    /// XPUB_MANUAL: the peers' subscriptions and cancellations are all
    /// shown to the application and none is applied; the application
    /// decides what the peer of the last one it received gets, with
    /// [`subscribe`](XPub::subscribe) and [`unsubscribe`](XPub::unsubscribe)
    /// (a proxy confirming subscriptions upstream first, a last-value
    /// cache sending the current value to a new subscriber first). A peer
    /// that leaves cancels every topic it had asked for.
    pub fn set_manual(&mut self, on: bool) {
        self.core.manual = on;
    }

    /// Whether XPUB_MANUAL is on.
    pub fn manual(&self) -> bool {
        self.core.manual
    }

    /// XPUB_MANUAL's SUBSCRIBE: subscribes the peer of the last
    /// subscription or cancellation the application received to `topic`
    /// (nobody if there is none, it was a departed peer's, or XPUB_MANUAL
    /// is off, as in libzmq).
    ///
    /// # Errors
    /// [`SubscribeError::SubscriptionsFull`](super::SubscribeError) when
    /// the store has no room.
    pub fn subscribe(&mut self, topic: &[u8]) -> Result<(), super::SubscribeError> {
        if let (true, Some(peer)) = (self.core.manual, self.last_peer) {
            self.core.subscribers.add(topic, peer)?;
        }
        Ok(())
    }

    /// XPUB_MANUAL's UNSUBSCRIBE: the peer of the last subscription or
    /// cancellation received no longer gets `topic` (see
    /// [`subscribe`](XPub::subscribe)).
    pub fn unsubscribe(&mut self, topic: &[u8]) {
        if let (true, Some(peer)) = (self.core.manual, self.last_peer) {
            self.core.subscribers.remove(topic, peer);
        }
    }

    /// XPUB_VERBOSE: show every subscription, not only the first to each
    /// topic (cancellations still only when a topic loses its last
    /// subscriber).
    pub fn set_verbose(&mut self, on: bool) {
        self.core.verbose_subs = on;
        self.core.verbose_unsubs = false;
    }

    /// XPUB_VERBOSER: show every subscription and every cancellation.
    pub fn set_verboser(&mut self, on: bool) {
        self.core.verbose_subs = on;
        self.core.verbose_unsubs = on;
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

    /// ONLY_FIRST_SUBSCRIBE: parse only the first frame of an incoming
    /// multipart message as a subscription.
    pub fn set_only_first_subscribe(&mut self, on: bool) {
        self.core.only_first_subscribe = on;
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

    /// Cancellation notifications lost because the queue was full or the
    /// message type could not hold them.
    pub fn lost_notifications(&self) -> usize {
        self.lost_notifications
    }

    /// Number of attached peers.
    pub fn peer_count(&self) -> usize {
        self.core.peer_count()
    }
}

impl<S: Storage, K: PeerKey, M: Message> Default for XPub<S, K, M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage, K: PeerKey, M> fmt::Debug for XPub<S, K, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XPub")
            .field("core", &self.core)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl<S, K, P> Routing<P> for XPub<S, K, P::Msg>
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
        self.core.process(pipes, Some(&mut self.pending));
        Ok(Attached::default())
    }

    fn detach(&mut self, _pipes: &mut P, peer: K) {
        // The peer's notifications still queued name nobody now (its key
        // may come back for another peer): XPUB_MANUAL's SUBSCRIBE after
        // them must not reach whoever gets it.
        for _ in 0..self.pending.len() {
            if let Some((msg, origin)) = self.pending.pop_front() {
                let origin = match origin {
                    Origin::Subscriber(p) if p == peer => Origin::Departed,
                    o => o,
                };
                let _ = self.pending.push_back((msg, origin));
            }
        }
        if self.last_peer == Some(peer) {
            self.last_peer = None;
        }
        let Self {
            core,
            pending,
            lost_notifications,
            last_peer,
        } = self;
        let manual = core.manual;
        core.detach(peer, |topic| {
            let queued = Subscription::Cancel(topic)
                .to_message::<P::Msg>()
                .map(|m| pending.push_back((m, Origin::Departed)));
            if !matches!(queued, Ok(Ok(()))) {
                *lost_notifications += 1;
            }
            if manual {
                // As libzmq's `send_unsubscription`.
                *last_peer = None;
            }
        });
    }

    fn read_activated(&mut self, pipes: &mut P, peer: K) {
        self.core.read_activated(peer);
        self.core.process(pipes, Some(&mut self.pending));
    }

    fn write_activated(&mut self, _pipes: &mut P, peer: K) {
        self.core.write_activated(peer);
    }

    fn send(&mut self, pipes: &mut P, msg: P::Msg) -> Result<(), SendError<P::Msg>> {
        self.core.send(pipes, msg)
    }

    fn recv(&mut self, pipes: &mut P) -> Result<P::Msg, RecvError> {
        self.core.process(pipes, Some(&mut self.pending));
        let (msg, origin) = self.pending.pop_front().ok_or(RecvError::WouldBlock)?;
        if self.core.manual {
            // libzmq pops one pipe per message received, whatever it is,
            // so that an XSUB's own message shifts which peer the next
            // SUBSCRIBE reaches; here such a message leaves it alone.
            match origin {
                Origin::Subscriber(peer) => self.last_peer = Some(peer),
                Origin::Departed => self.last_peer = None,
                Origin::Upstream => {}
            }
        }
        // A full queue may have left subscriptions in the pipes: apply
        // them now that there is room, not at the next receive.
        self.core.process(pipes, Some(&mut self.pending));
        Ok(msg)
    }

    fn has_in(&mut self, pipes: &mut P) -> bool {
        self.core.process(pipes, Some(&mut self.pending));
        !self.pending.is_empty()
    }

    fn has_out(&mut self, _pipes: &mut P) -> bool {
        true
    }
}
