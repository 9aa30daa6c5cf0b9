//! Storage families: where routing keeps its state.
//!
//! Routing state (active-peer lists, the ROUTER routing-id map, subscription
//! stores) must live in fixed-capacity storage on a microcontroller and in
//! growable heap storage on a server with 10,000 peers. A [`Storage`] is a
//! *family* of collection types, named by role through generic associated
//! types; routing is generic over the family and never names a concrete
//! collection.
//!
//! - [`Fixed`] is core's family: `heapless` collections and a small
//!   linear-scan map, capacities as const generics, usable in a `static`.
//! - A std backend supplies its own family over `Vec`, `HashMap` or
//!   `BTreeMap` and `VecDeque`. Because the collection traits belong to this
//!   crate and the std types to `alloc`, it wraps them in newtypes (the
//!   routing tests do exactly that).
//!
//! Running out of room is a value ([`List::push`] hands the item back),
//! never a panic. This module performs no I/O and no allocation.
#![forbid(unsafe_code)]

use core::fmt;

/// A family of collection types, one per role routing needs.
///
/// Capacities (for a fixed family) are per role:
///
/// | role | holds | bounded by |
/// |------|-------|------------|
/// | [`List`](Storage::List) | one entry per peer (active lists, per-peer tables, the peers subscribed to one topic) | number of peers, and peer indices |
/// | [`Bytes`](Storage::Bytes) | one routing id | routing-id length |
/// | [`Table`](Storage::Table) | routing id → peer | number of peers |
/// | [`Topics`](Storage::Topics) | subscription prefix → value, found by prefix of a message | number of distinct subscriptions, prefix length |
/// | [`Queue`](Storage::Queue) | XPUB's pending subscription notifications | notifications not yet received |
pub trait Storage {
    /// A list with room for one entry per peer.
    type List<T>: List<T>;
    /// An owned byte string: a peer's routing id.
    type Bytes: Bytes;
    /// A map from routing ids to values, with room for one entry per peer.
    type Table<V>: ByteMap<V>;
    /// A map from subscription prefixes to values, which finds the keys
    /// that are prefixes of a message.
    type Topics<V>: TopicMap<V>;
    /// A first-in first-out queue (XPUB's pending notifications).
    type Queue<T>: Queue<T>;
}

/// A growable list, in the manner of `Vec`, possibly with a fixed capacity.
pub trait List<T>: Default {
    /// The items, in order.
    fn as_slice(&self) -> &[T];
    /// The items, in order, mutably.
    fn as_mut_slice(&mut self) -> &mut [T];
    /// Appends `item`, or hands it back if the list is full.
    ///
    /// # Errors
    /// The item itself, when there is no room for it.
    fn push(&mut self, item: T) -> Result<(), T>;
    /// Removes and returns the last item.
    fn pop(&mut self) -> Option<T>;

    /// Number of items.
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether the list holds no item.
    fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Removes the item at `index` by moving the last item into its place.
    /// Returns `None` if `index` is out of bounds.
    fn swap_remove(&mut self, index: usize) -> Option<T> {
        let len = self.len();
        if index >= len {
            return None;
        }
        self.as_mut_slice().swap(index, len - 1);
        self.pop()
    }
}

/// An owned byte string, possibly with a fixed capacity.
pub trait Bytes: Sized {
    /// A copy of `bytes`, or `None` if they do not fit.
    fn try_from_slice(bytes: &[u8]) -> Option<Self>;
    /// The bytes.
    fn as_slice(&self) -> &[u8];
}

/// A map keyed by byte strings; the map owns copies of its keys.
pub trait ByteMap<V>: Default {
    /// Number of entries.
    fn len(&self) -> usize;
    /// The value stored under `key`.
    fn get(&self, key: &[u8]) -> Option<&V>;
    /// The value stored under `key`, mutably.
    fn get_mut(&mut self, key: &[u8]) -> Option<&mut V>;
    /// Stores `value` under `key`, which must not be present yet.
    ///
    /// # Errors
    /// The value itself when there is no room for another entry or `key` is
    /// longer than the map can store.
    fn insert(&mut self, key: &[u8], value: V) -> Result<(), V>;
    /// Removes and returns the value stored under `key`.
    fn remove(&mut self, key: &[u8]) -> Option<V>;
    /// Calls `f` on every entry, in no particular order.
    fn for_each(&self, f: impl FnMut(&[u8], &V));
    /// Keeps only the entries for which `f` returns `true`; `f` may change
    /// the values it keeps.
    fn retain(&mut self, f: impl FnMut(&[u8], &mut V) -> bool);

    /// Whether the map has no entry.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A [`ByteMap`] of subscription prefixes, which finds the entries whose
/// key is a prefix of a message (PUB and SUB matching, once per message).
///
/// A store meant for many or long prefixes should do this in time linear
/// in the message's length whatever it holds (libzmq walks a trie): a
/// lookup per subscribed length costs the sum of those lengths per
/// message, gigabytes for one 64 KiB subscription and a 64 KiB message.
pub trait TopicMap<V>: ByteMap<V> {
    /// Calls `f` with every entry whose key is a prefix of `data` (the
    /// empty key included), in no particular order, until `f` returns
    /// `true`; returns whether it did.
    fn any_prefix(&self, data: &[u8], f: impl FnMut(&[u8], &V) -> bool) -> bool;
}

/// A first-in first-out queue, possibly with a fixed capacity.
pub trait Queue<T>: Default {
    /// Number of items.
    fn len(&self) -> usize;
    /// Whether another [`push_back`](Queue::push_back) would succeed.
    fn has_room(&self) -> bool;
    /// Appends `item`, or hands it back if the queue is full.
    ///
    /// # Errors
    /// The item itself, when there is no room for it.
    fn push_back(&mut self, item: T) -> Result<(), T>;
    /// Removes and returns the oldest item.
    fn pop_front(&mut self) -> Option<T>;

    /// Whether the queue holds no item.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Core's fixed-capacity storage family: no allocation, usable in a
/// `static`.
///
/// - `PEERS`: peers per socket; peer indices must also be below it.
/// - `TOPICS`: distinct subscriptions per socket, and XPUB's notification
///   queue length.
/// - `KEY_LEN`: longest routing id and longest subscription prefix, in
///   bytes (ZMTP allows routing ids up to 255 bytes; generated ones take 5).
///
/// Lookups in its maps scan linearly, which is the fast choice for the
/// handful of entries a microcontroller holds.
pub struct Fixed<const PEERS: usize, const TOPICS: usize, const KEY_LEN: usize>;

impl<const P: usize, const T: usize, const L: usize> fmt::Debug for Fixed<P, T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fixed<{P}, {T}, {L}>")
    }
}

impl<const P: usize, const T: usize, const L: usize> Storage for Fixed<P, T, L> {
    type List<X> = heapless::Vec<X, P>;
    type Bytes = heapless::Vec<u8, L>;
    type Table<V> = FixedMap<V, P, L>;
    type Topics<V> = FixedMap<V, T, L>;
    type Queue<X> = heapless::Deque<X, T>;
}

impl<T, const N: usize> List<T> for heapless::Vec<T, N> {
    #[inline]
    fn as_slice(&self) -> &[T] {
        self
    }
    #[inline]
    fn as_mut_slice(&mut self) -> &mut [T] {
        self
    }
    #[inline]
    fn push(&mut self, item: T) -> Result<(), T> {
        heapless::Vec::push(self, item)
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        heapless::Vec::pop(self)
    }
}

impl<const N: usize> Bytes for heapless::Vec<u8, N> {
    fn try_from_slice(bytes: &[u8]) -> Option<Self> {
        heapless::Vec::from_slice(bytes).ok()
    }
    fn as_slice(&self) -> &[u8] {
        self
    }
}

impl<T, const N: usize> Queue<T> for heapless::Deque<T, N> {
    fn len(&self) -> usize {
        heapless::Deque::len(self)
    }
    fn has_room(&self) -> bool {
        !self.is_full()
    }
    fn push_back(&mut self, item: T) -> Result<(), T> {
        heapless::Deque::push_back(self, item)
    }
    fn pop_front(&mut self) -> Option<T> {
        heapless::Deque::pop_front(self)
    }
}

/// A map of at most `N` entries whose keys are at most `KEY_LEN` bytes,
/// stored inline; lookups scan linearly. Finding the prefixes of a message
/// compares each key once, so it costs at most `N * KEY_LEN` byte
/// comparisons, however long the message.
pub struct FixedMap<V, const N: usize, const KEY_LEN: usize> {
    entries: heapless::Vec<(heapless::Vec<u8, KEY_LEN>, V), N>,
}

impl<V, const N: usize, const L: usize> FixedMap<V, N, L> {
    /// An empty map.
    pub const fn new() -> Self {
        Self {
            entries: heapless::Vec::new(),
        }
    }

    fn position(&self, key: &[u8]) -> Option<usize> {
        self.entries.iter().position(|(k, _)| k.as_slice() == key)
    }
}

impl<V, const N: usize, const L: usize> Default for FixedMap<V, N, L> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V, const N: usize, const L: usize> fmt::Debug for FixedMap<V, N, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixedMap")
            .field("len", &self.entries.len())
            .field("capacity", &N)
            .finish()
    }
}

impl<V, const N: usize, const L: usize> ByteMap<V> for FixedMap<V, N, L> {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn get(&self, key: &[u8]) -> Option<&V> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_slice() == key)
            .map(|(_, v)| v)
    }

    fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.as_slice() == key)
            .map(|(_, v)| v)
    }

    fn insert(&mut self, key: &[u8], value: V) -> Result<(), V> {
        debug_assert!(self.position(key).is_none(), "key already present");
        let Ok(key) = heapless::Vec::from_slice(key) else {
            return Err(value);
        };
        self.entries.push((key, value)).map_err(|(_, v)| v)
    }

    fn remove(&mut self, key: &[u8]) -> Option<V> {
        let i = self.position(key)?;
        Some(self.entries.swap_remove(i).1)
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], &V)) {
        for (k, v) in &self.entries {
            f(k, v);
        }
    }

    fn retain(&mut self, mut f: impl FnMut(&[u8], &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| f(k, v));
    }
}

impl<V, const N: usize, const L: usize> TopicMap<V> for FixedMap<V, N, L> {
    #[inline]
    fn any_prefix(&self, data: &[u8], mut f: impl FnMut(&[u8], &V) -> bool) -> bool {
        self.entries
            .iter()
            .any(|(k, v)| data.starts_with(k) && f(k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_list_reports_full_and_swap_removes() {
        let mut l: <Fixed<2, 1, 4> as Storage>::List<u8> = Default::default();
        assert_eq!(List::push(&mut l, 1), Ok(()));
        assert_eq!(List::push(&mut l, 2), Ok(()));
        assert_eq!(List::push(&mut l, 3), Err(3));
        assert_eq!(List::swap_remove(&mut l, 0), Some(1));
        assert_eq!(List::as_slice(&l), &[2]);
        assert_eq!(List::swap_remove(&mut l, 5), None);
    }

    #[test]
    fn fixed_map_rejects_long_keys_and_overflow() {
        let mut m: FixedMap<u32, 2, 3> = FixedMap::new();
        assert_eq!(m.insert(b"toolong", 1), Err(1));
        assert_eq!(m.insert(b"a", 1), Ok(()));
        assert_eq!(m.insert(b"abc", 2), Ok(()));
        assert_eq!(m.insert(b"b", 3), Err(3));
        assert_eq!(m.get(b"abc"), Some(&2));
        *m.get_mut(b"a").unwrap() += 10;
        assert_eq!(m.remove(b"a"), Some(11));
        assert_eq!(m.remove(b"a"), None);
        m.retain(|_, v| *v != 2);
        assert!(m.is_empty());
    }

    #[test]
    fn fixed_map_finds_every_prefix_and_stops_when_told() {
        let mut m: FixedMap<u32, 4, 8> = FixedMap::new();
        for (i, k) in [&b""[..], b"ab", b"abc", b"b"].into_iter().enumerate() {
            m.insert(k, i as u32).unwrap();
        }
        let mut seen = [false; 4];
        assert!(!m.any_prefix(b"abcd", |_, &v| {
            seen[v as usize] = true;
            false
        }));
        assert_eq!(seen, [true, true, true, false]);
        let mut calls = 0;
        assert!(m.any_prefix(b"abcd", |_, _| {
            calls += 1;
            true
        }));
        assert_eq!(calls, 1);
        assert!(!m.any_prefix(b"a", |k, _| !k.is_empty()));
    }

    #[test]
    fn fixed_queue_has_room_until_full() {
        let mut q: heapless::Deque<u8, 1> = Default::default();
        assert!(q.has_room());
        assert_eq!(Queue::push_back(&mut q, 1), Ok(()));
        assert!(!q.has_room());
        assert_eq!(Queue::push_back(&mut q, 2), Err(2));
        assert_eq!(Queue::pop_front(&mut q), Some(1));
    }
}
