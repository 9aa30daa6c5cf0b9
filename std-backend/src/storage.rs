//! The heap storage family the std backend gives the core routing: no
//! capacity limits, hash maps where core's fixed family scans linearly (a
//! ROUTER with 10,000 peers looks each routing id up in O(1)), and a radix
//! tree for subscriptions ([`HeapTopics`]: matching a message costs its
//! length, whatever the subscriptions).
//!
//! The routing-id maps hash with foldhash rather than std's SipHash: ROUTER
//! looks a routing id up for every message, and SipHash cost more per
//! message than the rest of the routing. Keys come from peers, so each map
//! still gets its own random seed.
//!
//! Public so that benchmarks and programs that drive core routing
//! themselves can use the sockets' own stores
//! (`zlink_mq_core::routing::Subscribers<Heap, _>`, ...).

use std::collections::{HashMap, VecDeque};

use zlink_mq_core::storage::{ByteMap, Bytes, List, Queue, Storage};

mod topics;
pub use topics::HeapTopics;

/// Unbounded heap storage.
#[derive(Debug)]
pub struct Heap;

impl Storage for Heap {
    type List<T> = HeapList<T>;
    type Bytes = HeapBytes;
    type Table<V> = HeapMap<V>;
    type Topics<V> = HeapTopics<V>;
    type Queue<T> = HeapQueue<T>;
}

/// A `Vec`.
#[derive(Debug)]
pub struct HeapList<T>(Vec<T>);

impl<T> Default for HeapList<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> List<T> for HeapList<T> {
    #[inline]
    fn as_slice(&self) -> &[T] {
        &self.0
    }
    #[inline]
    fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.0
    }
    #[inline]
    fn push(&mut self, item: T) -> Result<(), T> {
        self.0.push(item);
        Ok(())
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
}

/// A boxed byte string.
#[derive(Debug, Clone)]
pub struct HeapBytes(Box<[u8]>);

impl Bytes for HeapBytes {
    fn try_from_slice(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.into()))
    }
    fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

/// A `HashMap` keyed by byte strings.
#[derive(Debug)]
pub struct HeapMap<V>(HashMap<Box<[u8]>, V, foldhash::fast::RandomState>);

impl<V> Default for HeapMap<V> {
    fn default() -> Self {
        Self(HashMap::default())
    }
}

impl<V> ByteMap<V> for HeapMap<V> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, key: &[u8]) -> Option<&V> {
        self.0.get(key)
    }
    fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        self.0.get_mut(key)
    }
    fn insert(&mut self, key: &[u8], value: V) -> Result<(), V> {
        self.0.insert(key.into(), value);
        Ok(())
    }
    fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.0.remove(key)
    }
    fn for_each(&self, mut f: impl FnMut(&[u8], &V)) {
        for (k, v) in &self.0 {
            f(k, v);
        }
    }
    fn retain(&mut self, mut f: impl FnMut(&[u8], &mut V) -> bool) {
        self.0.retain(|k, v| f(k, v));
    }
}

/// A `VecDeque`.
#[derive(Debug)]
pub struct HeapQueue<T>(VecDeque<T>);

impl<T> Default for HeapQueue<T> {
    fn default() -> Self {
        Self(VecDeque::new())
    }
}

impl<T> Queue<T> for HeapQueue<T> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn has_room(&self) -> bool {
        true
    }
    fn push_back(&mut self, item: T) -> Result<(), T> {
        self.0.push_back(item);
        Ok(())
    }
    fn pop_front(&mut self) -> Option<T> {
        self.0.pop_front()
    }
}
