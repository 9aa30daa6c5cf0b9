//! Subscription stores: prefix matching of topics (libzmq's `trie_t` and
//! `mtrie_t`), in storage from a [`Storage`] family.
//!
//! A message matches a subscription when the subscription is a prefix of
//! its first frame; the empty subscription matches everything. Instead of a
//! trie (which would need a node allocator) the stores keep a map from
//! prefix to value plus an index of which prefix lengths exist, so matching
//! a message looks up only the prefixes of the lengths in use: usually one
//! or two lookups, each a hash or a short scan.

use core::fmt;

use super::{PeerKey, SubscribeError};
use crate::msg::{FrameTooLarge, Message};
use crate::storage::{ByteMap, List, Storage};

/// A subscription or a cancellation, as libzmq represents them inside a
/// socket: a message whose first byte is 1 (subscribe) or 0 (cancel),
/// followed by the topic prefix. The transport turns these into ZMTP 3.1
/// SUBSCRIBE/CANCEL commands and back (ZMTP 3.0 sends them as is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscription<'a> {
    /// Subscribe to messages starting with this prefix.
    Subscribe(&'a [u8]),
    /// Cancel one subscription to this prefix.
    Cancel(&'a [u8]),
}

impl<'a> Subscription<'a> {
    /// Reads a subscription message; `None` for any other message.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        match bytes.split_first() {
            Some((1, topic)) => Some(Self::Subscribe(topic)),
            Some((0, topic)) => Some(Self::Cancel(topic)),
            _ => None,
        }
    }

    /// The topic prefix.
    pub fn topic(self) -> &'a [u8] {
        match self {
            Self::Subscribe(t) | Self::Cancel(t) => t,
        }
    }

    /// Builds the message for this subscription (MORE clear).
    ///
    /// # Errors
    /// [`FrameTooLarge`] if the message type cannot hold it.
    pub fn to_message<M: Message>(self) -> Result<M, FrameTooLarge> {
        let flag: &[u8] = match self {
            Self::Subscribe(_) => &[1],
            Self::Cancel(_) => &[0],
        };
        M::try_from_parts(&[flag, self.topic()])
    }
}

/// Lengths at or above this share one slot of the index.
const LONG: usize = 63;

/// Which prefix lengths have subscriptions: a count per length below
/// [`LONG`], one shared count for longer ones, and a bit mask of the
/// non-zero counts.
struct Lengths {
    counts: [u32; LONG + 1],
    mask: u64,
    /// Longest subscription of [`LONG`] bytes or more.
    long_max: usize,
}

impl Lengths {
    const fn new() -> Self {
        Self {
            counts: [0; LONG + 1],
            mask: 0,
            long_max: 0,
        }
    }

    fn add(&mut self, len: usize) {
        let slot = len.min(LONG);
        self.counts[slot] += 1;
        self.mask |= 1 << slot;
        if len >= LONG {
            self.long_max = self.long_max.max(len);
        }
    }

    /// Returns `true` when the longest long subscription went away and
    /// [`long_max`](Self::long_max) must be recomputed.
    fn remove(&mut self, len: usize) -> bool {
        let slot = len.min(LONG);
        self.counts[slot] -= 1;
        if self.counts[slot] == 0 {
            self.mask &= !(1 << slot);
            if slot == LONG {
                self.long_max = 0;
            }
            return false;
        }
        len >= LONG && len == self.long_max
    }

    /// Calls `f` with every subscribed length not above `max`, shortest
    /// first, until it returns `true`; returns whether it did.
    #[inline]
    fn any(&self, max: usize, mut f: impl FnMut(usize) -> bool) -> bool {
        let short_limit = max.min(LONG - 1);
        let mut bits = self.mask & ((1u64 << (short_limit + 1)) - 1);
        while bits != 0 {
            if f(bits.trailing_zeros() as usize) {
                return true;
            }
            bits &= bits - 1;
        }
        if self.mask & (1 << LONG) != 0 {
            for len in LONG..=max.min(self.long_max) {
                if f(len) {
                    return true;
                }
            }
        }
        false
    }
}

/// Recomputes the longest long key of `map`.
fn long_max<V>(map: &impl ByteMap<V>) -> usize {
    let mut max = 0;
    map.for_each(|key, _| {
        if key.len() >= LONG {
            max = max.max(key.len());
        }
    });
    max
}

/// The subscriptions of a SUB or XSUB socket, with reference counts:
/// subscribing twice needs two cancellations.
pub struct Subscriptions<S: Storage> {
    map: S::Topics<u32>,
    lengths: Lengths,
}

impl<S: Storage> Subscriptions<S> {
    /// No subscriptions.
    pub fn new() -> Self {
        Self {
            map: Default::default(),
            lengths: Lengths::new(),
        }
    }

    /// Adds one reference to `topic`; returns `true` if it is new.
    ///
    /// # Errors
    /// [`SubscribeError::SubscriptionsFull`] when the store has no room.
    pub fn add(&mut self, topic: &[u8]) -> Result<bool, SubscribeError> {
        if let Some(count) = self.map.get_mut(topic) {
            *count = count
                .checked_add(1)
                .ok_or(SubscribeError::SubscriptionsFull)?;
            return Ok(false);
        }
        self.map
            .insert(topic, 1)
            .map_err(|_| SubscribeError::SubscriptionsFull)?;
        self.lengths.add(topic.len());
        Ok(true)
    }

    /// Removes one reference to `topic`; returns `true` if that was the
    /// last one (the subscription is gone). `false` also when there was no
    /// such subscription.
    pub fn remove(&mut self, topic: &[u8]) -> bool {
        let Some(count) = self.map.get_mut(topic) else {
            return false;
        };
        *count -= 1;
        if *count > 0 {
            return false;
        }
        self.map.remove(topic);
        if self.lengths.remove(topic.len()) {
            self.lengths.long_max = long_max(&self.map);
        }
        true
    }

    /// Whether some subscription is a prefix of `data`.
    #[inline]
    pub fn matches(&self, data: &[u8]) -> bool {
        self.lengths
            .any(data.len(), |len| self.map.get(&data[..len]).is_some())
    }

    /// Calls `f` with each distinct subscribed topic.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        self.map.for_each(|topic, _| f(topic));
    }

    /// Number of distinct topics (libzmq's TOPICS_COUNT).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there is no subscription.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl<S: Storage> Default for Subscriptions<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage> fmt::Debug for Subscriptions<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriptions")
            .field("topics", &self.map.len())
            .finish()
    }
}

/// What [`Subscribers::remove`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// The peer had no such subscription.
    NotFound,
    /// The peer was the topic's last subscriber: the topic is gone.
    LastSubscriber,
    /// Other peers still subscribe to the topic.
    SubscribersRemain,
}

/// The subscriptions of a PUB or XPUB socket: for each topic, the set of
/// peers subscribed to it. A peer subscribing twice to a topic is in the
/// set once (libzmq's `mtrie_t`; its SUB counts references).
pub struct Subscribers<S: Storage, K: PeerKey> {
    map: S::Topics<S::List<K>>,
    lengths: Lengths,
}

impl<S: Storage, K: PeerKey> Subscribers<S, K> {
    /// No subscriptions.
    pub fn new() -> Self {
        Self {
            map: Default::default(),
            lengths: Lengths::new(),
        }
    }

    /// Subscribes `peer` to `topic`; returns `true` if nobody subscribed
    /// to it before.
    ///
    /// # Errors
    /// [`SubscribeError::SubscriptionsFull`] when the store has no room.
    pub fn add(&mut self, topic: &[u8], peer: K) -> Result<bool, SubscribeError> {
        if let Some(peers) = self.map.get_mut(topic) {
            if !peers.as_slice().contains(&peer) {
                peers
                    .push(peer)
                    .map_err(|_| SubscribeError::SubscriptionsFull)?;
            }
            return Ok(false);
        }
        let mut peers = S::List::<K>::default();
        peers
            .push(peer)
            .map_err(|_| SubscribeError::SubscriptionsFull)?;
        self.map
            .insert(topic, peers)
            .map_err(|_| SubscribeError::SubscriptionsFull)?;
        self.lengths.add(topic.len());
        Ok(true)
    }

    /// Unsubscribes `peer` from `topic`.
    pub fn remove(&mut self, topic: &[u8], peer: K) -> Removed {
        let Some(peers) = self.map.get_mut(topic) else {
            return Removed::NotFound;
        };
        let Some(position) = peers.as_slice().iter().position(|&p| p == peer) else {
            return Removed::NotFound;
        };
        peers.swap_remove(position);
        if !peers.is_empty() {
            return Removed::SubscribersRemain;
        }
        self.map.remove(topic);
        if self.lengths.remove(topic.len()) {
            self.lengths.long_max = long_max(&self.map);
        }
        Removed::LastSubscriber
    }

    /// Unsubscribes `peer` from everything; calls `f` with each topic it
    /// had and whether it was that topic's last subscriber.
    pub fn remove_peer(&mut self, peer: K, mut f: impl FnMut(&[u8], bool)) {
        let Self { map, lengths } = self;
        let mut recompute = false;
        map.retain(|topic, peers| {
            let Some(position) = peers.as_slice().iter().position(|&p| p == peer) else {
                return true;
            };
            peers.swap_remove(position);
            let last = peers.is_empty();
            f(topic, last);
            if last {
                recompute |= lengths.remove(topic.len());
            }
            !last
        });
        if recompute {
            self.lengths.long_max = long_max(&self.map);
        }
    }

    /// Calls `f` with every peer subscribed to a prefix of `data` (a peer
    /// with several matching subscriptions comes once per subscription).
    #[inline]
    pub fn for_each_match(&self, data: &[u8], mut f: impl FnMut(K)) {
        self.lengths.any(data.len(), |len| {
            if let Some(peers) = self.map.get(&data[..len]) {
                peers.as_slice().iter().for_each(|&p| f(p));
            }
            false
        });
    }

    /// Number of distinct topics (libzmq's TOPICS_COUNT).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there is no subscription.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl<S: Storage, K: PeerKey> Default for Subscribers<S, K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage, K: PeerKey> fmt::Debug for Subscribers<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscribers")
            .field("topics", &self.map.len())
            .finish()
    }
}
