//! Subscription stores: prefix matching of topics (libzmq's `trie_t` and
//! `mtrie_t`), in storage from a [`Storage`] family.
//!
//! A message matches a subscription when the subscription is a prefix of
//! its first frame; the empty subscription matches everything. The stores
//! keep a [`TopicMap`] from prefix to value, which finds the prefixes of a
//! message itself: core's fixed map compares each of its few keys once,
//! the std backend walks a radix tree, so matching costs at most the
//! message's length in either, whatever the subscriptions' lengths, and
//! cancelling a subscription touches only that subscription.

use core::fmt;

use super::{PeerKey, SubscribeError};
use crate::msg::{FrameTooLarge, Message};
use crate::storage::{ByteMap, List, Storage, TopicMap};

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

/// The subscriptions of a SUB or XSUB socket, with reference counts:
/// subscribing twice needs two cancellations.
pub struct Subscriptions<S: Storage> {
    map: S::Topics<u32>,
}

impl<S: Storage> Subscriptions<S> {
    /// No subscriptions.
    pub fn new() -> Self {
        Self {
            map: Default::default(),
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
        true
    }

    /// Whether some subscription is a prefix of `data`.
    #[inline]
    pub fn matches(&self, data: &[u8]) -> bool {
        self.map.any_prefix(data, |_, _| true)
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
}

impl<S: Storage, K: PeerKey> Subscribers<S, K> {
    /// No subscriptions.
    pub fn new() -> Self {
        Self {
            map: Default::default(),
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
        Removed::LastSubscriber
    }

    /// Unsubscribes `peer` from everything; calls `f` with each topic it
    /// had and whether it was that topic's last subscriber.
    pub fn remove_peer(&mut self, peer: K, mut f: impl FnMut(&[u8], bool)) {
        self.map.retain(|topic, peers| {
            let Some(position) = peers.as_slice().iter().position(|&p| p == peer) else {
                return true;
            };
            peers.swap_remove(position);
            let last = peers.is_empty();
            f(topic, last);
            !last
        });
    }

    /// Calls `f` with every peer subscribed to a prefix of `data` (a peer
    /// with several matching subscriptions comes once per subscription).
    #[inline]
    pub fn for_each_match(&self, data: &[u8], mut f: impl FnMut(K)) {
        self.map.any_prefix(data, |_, peers| {
            peers.as_slice().iter().for_each(|&p| f(p));
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
