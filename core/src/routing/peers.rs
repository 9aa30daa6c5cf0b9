//! Per-peer bookkeeping shared by the strategies: an ordered array of peers
//! with O(1) lookup of a peer's position, and a table of per-peer values.
//!
//! Both are indexed by [`PeerKey::index`], so no lookup hashes or scans.

use core::fmt;

use super::{AttachError, PeerKey};
use crate::storage::{List, Storage};

/// Marks a peer index that is not in the array.
const ABSENT: u32 = u32::MAX;

/// Peers in an order the strategies partition into regions (active first,
/// then inactive; matching, active, eligible for fan-out), as libzmq's
/// `array_t`; a side table maps each peer index to its position so that
/// moving a peer between regions is a swap.
pub(crate) struct PeerArray<S: Storage, K> {
    items: S::List<K>,
    positions: S::List<u32>,
}

impl<S: Storage, K: PeerKey> PeerArray<S, K> {
    pub(crate) fn new() -> Self {
        Self {
            items: Default::default(),
            positions: Default::default(),
        }
    }

    /// Number of peers.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The peer at `position` (which must be below [`len`](Self::len)).
    #[inline]
    pub(crate) fn at(&self, position: usize) -> K {
        self.items.as_slice()[position]
    }

    /// All peers, in array order.
    pub(crate) fn as_slice(&self) -> &[K] {
        self.items.as_slice()
    }

    /// Where `peer` is in the array.
    #[inline]
    pub(crate) fn position(&self, peer: K) -> Option<usize> {
        match self.positions.as_slice().get(peer.index()) {
            Some(&p) if p != ABSENT => Some(p as usize),
            _ => None,
        }
    }

    /// Appends `peer` at the end; returns its position.
    pub(crate) fn push(&mut self, peer: K) -> Result<usize, AttachError> {
        let index = peer.index();
        while self.positions.len() <= index {
            self.positions
                .push(ABSENT)
                .map_err(|_| AttachError::CapacityExceeded)?;
        }
        if self.positions.as_slice()[index] != ABSENT {
            return Err(AttachError::AlreadyAttached);
        }
        let position = self.items.len();
        let Ok(stored) = u32::try_from(position) else {
            return Err(AttachError::CapacityExceeded);
        };
        if stored == ABSENT {
            return Err(AttachError::CapacityExceeded);
        }
        self.items
            .push(peer)
            .map_err(|_| AttachError::CapacityExceeded)?;
        self.positions.as_mut_slice()[index] = stored;
        Ok(position)
    }

    /// Exchanges the peers at positions `a` and `b`.
    #[inline]
    pub(crate) fn swap(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let items = self.items.as_mut_slice();
        items.swap(a, b);
        let (pa, pb) = (items[a].index(), items[b].index());
        let positions = self.positions.as_mut_slice();
        // Positions fit in u32: `push` refuses arrays that would not.
        positions[pa] = a as u32;
        positions[pb] = b as u32;
    }

    /// Panics unless every peer's recorded position is where it is, and
    /// nothing else is recorded.
    #[cfg(test)]
    pub(crate) fn check(&self) {
        let items = self.items.as_slice();
        for (i, peer) in items.iter().enumerate() {
            assert_eq!(self.position(*peer), Some(i), "position of {peer:?}");
        }
        let recorded = self
            .positions
            .as_slice()
            .iter()
            .filter(|&&p| p != ABSENT)
            .count();
        assert_eq!(recorded, items.len(), "stale positions");
    }

    /// Removes the peer at `position`, moving the last peer into its place
    /// (libzmq's `array_t::erase`).
    pub(crate) fn remove_at(&mut self, position: usize) {
        let last = self.items.len() - 1;
        self.swap(position, last);
        if let Some(peer) = self.items.pop() {
            self.positions.as_mut_slice()[peer.index()] = ABSENT;
        }
    }
}

impl<S: Storage, K: PeerKey> fmt::Debug for PeerArray<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// A value per peer, indexed by [`PeerKey::index`].
pub(crate) struct PeerTable<S: Storage, V> {
    slots: S::List<Option<V>>,
}

impl<S: Storage, V> PeerTable<S, V> {
    pub(crate) fn new() -> Self {
        Self {
            slots: Default::default(),
        }
    }

    pub(crate) fn get<K: PeerKey>(&self, peer: K) -> Option<&V> {
        self.slots.as_slice().get(peer.index())?.as_ref()
    }

    /// Stores `value` for `peer`, replacing any previous value.
    pub(crate) fn set<K: PeerKey>(&mut self, peer: K, value: V) -> Result<(), V> {
        let index = peer.index();
        while self.slots.len() <= index {
            if self.slots.push(None).is_err() {
                return Err(value);
            }
        }
        self.slots.as_mut_slice()[index] = Some(value);
        Ok(())
    }

    pub(crate) fn remove<K: PeerKey>(&mut self, peer: K) -> Option<V> {
        self.slots.as_mut_slice().get_mut(peer.index())?.take()
    }
}

impl<S: Storage, V> fmt::Debug for PeerTable<S, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let used = self.slots.as_slice().iter().flatten().count();
        f.debug_struct("PeerTable").field("len", &used).finish()
    }
}
