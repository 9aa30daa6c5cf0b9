//! The std sockets' subscription store: a radix tree over the topics'
//! bytes, so that finding every subscription that is a prefix of a message
//! walks the message once (libzmq walks a trie with a node per byte; this
//! one has a node per subscription or branch).
//!
//! ```text
//!   subscriptions "", "ab", "abc", "abd", "b"
//!
//!   (root) = ""
//!     +- "ab" = "ab"
//!     |    +- "c" = "abc"
//!     |    +- "d" = "abd"
//!     +- "b" = "b"
//! ```
//!
//! Each node holds the bytes of the edge from its parent and maybe a value.
//! Nodes live in one `Vec` and name each other by index, so no operation
//! recurses (a peer may subscribe to 100 000 nested prefixes) and dropping
//! the tree is flat. Invariants: every label but the root's is non-empty;
//! a node's children start with distinct bytes, kept sorted; a node other
//! than the root without a value has at least two children (removal merges
//! a node left with one child into it), so there are at most two nodes per
//! topic, and the tree's labels hold each topic's bytes at most once.

use std::mem;

use zlink_mq_core::storage::{ByteMap, TopicMap};

const ROOT: usize = 0;

#[derive(Debug)]
struct Node<V> {
    /// The bytes from the parent to this node.
    label: Box<[u8]>,
    value: Option<V>,
    /// `(first byte of the child's label, child)`, sorted by byte.
    children: Vec<(u8, usize)>,
}

impl<V> Node<V> {
    fn new(label: &[u8], value: Option<V>) -> Self {
        Self {
            label: label.into(),
            value,
            children: Vec::new(),
        }
    }

    #[inline]
    fn child(&self, byte: u8) -> Option<usize> {
        self.position(byte).ok().map(|i| self.children[i].1)
    }

    #[inline]
    fn position(&self, byte: u8) -> Result<usize, usize> {
        self.children.binary_search_by_key(&byte, |&(b, _)| b)
    }
}

/// A map from subscription prefixes to values, as a radix tree.
///
/// [`ByteMap::for_each`] lists the topics in lexicographic order (as
/// libzmq's trie does when a SUB resends its subscriptions to a new peer).
///
/// Matching a message ([`TopicMap::any_prefix`]), looking a topic up,
/// adding and removing one each cost time linear in the length of the
/// message or topic (plus a binary search among at most 256 children per
/// node passed), whatever else the tree holds.
#[derive(Debug)]
pub struct HeapTopics<V> {
    nodes: Vec<Node<V>>,
    /// Indices of unused nodes, reused first.
    free: Vec<usize>,
    len: usize,
}

impl<V> Default for HeapTopics<V> {
    fn default() -> Self {
        Self {
            nodes: vec![Node::new(&[], None)],
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<V> HeapTopics<V> {
    /// The node whose path from the root spells `key`, with or without a
    /// value.
    fn find(&self, key: &[u8]) -> Option<usize> {
        let mut node = ROOT;
        let mut at = 0;
        while let Some(&byte) = key.get(at) {
            let child = self.nodes[node].child(byte)?;
            let label = &self.nodes[child].label;
            if !key[at..].starts_with(label) {
                return None;
            }
            at += label.len();
            node = child;
        }
        Some(node)
    }

    fn alloc(&mut self, node: Node<V>) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.nodes[i] = node;
                i
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        }
    }

    fn release(&mut self, i: usize) {
        self.nodes[i] = Node::new(&[], None);
        self.free.push(i);
    }

    /// Merges `node` (not the root, no value, one child) with its child,
    /// which keeps its index in the parent.
    fn merge_with_child(&mut self, node: usize) {
        let child = self.nodes[node].children[0].1;
        let child_node = mem::replace(&mut self.nodes[child], Node::new(&[], None));
        let n = &mut self.nodes[node];
        n.label = [&n.label[..], &child_node.label[..]].concat().into();
        n.value = child_node.value;
        n.children = child_node.children;
        self.free.push(child);
    }

    /// Every entry, with its key, depth first; `f` may change values and
    /// tells for each entry whether it stays.
    fn walk(&mut self, mut f: impl FnMut(&[u8], &mut V) -> bool) -> Vec<Vec<u8>> {
        let mut dropped = Vec::new();
        let mut key = Vec::new();
        let mut stack = vec![(ROOT, 0)];
        while let Some((i, depth)) = stack.pop() {
            key.truncate(depth);
            let node = &mut self.nodes[i];
            key.extend_from_slice(&node.label);
            if node.value.as_mut().is_some_and(|v| !f(&key, v)) {
                dropped.push(key.clone());
            }
            stack.extend(node.children.iter().rev().map(|&(_, c)| (c, key.len())));
        }
        dropped
    }
}

impl<V> ByteMap<V> for HeapTopics<V> {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, key: &[u8]) -> Option<&V> {
        self.nodes[self.find(key)?].value.as_ref()
    }

    fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let i = self.find(key)?;
        self.nodes[i].value.as_mut()
    }

    fn insert(&mut self, key: &[u8], value: V) -> Result<(), V> {
        let mut node = ROOT;
        let mut at = 0;
        while let Some(&byte) = key.get(at) {
            let position = match self.nodes[node].position(byte) {
                Ok(p) => p,
                Err(p) => {
                    let leaf = self.alloc(Node::new(&key[at..], Some(value)));
                    self.nodes[node].children.insert(p, (byte, leaf));
                    self.len += 1;
                    return Ok(());
                }
            };
            let child = self.nodes[node].children[position].1;
            let label = &self.nodes[child].label;
            let common = label
                .iter()
                .zip(&key[at..])
                .take_while(|(a, b)| a == b)
                .count();
            if common < label.len() {
                // The key leaves (or ends inside) the child's label: a new
                // node for the shared part takes the child's place.
                let label = mem::take(&mut self.nodes[child].label);
                self.nodes[child].label = label[common..].into();
                let mut middle = Node::new(&label[..common], None);
                middle.children.push((label[common], child));
                let middle = self.alloc(middle);
                self.nodes[node].children[position].1 = middle;
                node = middle;
            } else {
                node = child;
            }
            at += common;
        }
        if self.nodes[node].value.replace(value).is_none() {
            self.len += 1;
        }
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) -> Option<V> {
        // The node, its parent and its place among the parent's children.
        let mut parent = None;
        let mut node = ROOT;
        let mut at = 0;
        while let Some(&byte) = key.get(at) {
            let position = self.nodes[node].position(byte).ok()?;
            let child = self.nodes[node].children[position].1;
            let label = &self.nodes[child].label;
            if !key[at..].starts_with(label) {
                return None;
            }
            at += label.len();
            parent = Some((node, position));
            node = child;
        }
        let value = self.nodes[node].value.take()?;
        self.len -= 1;
        if let Some((parent, position)) = parent {
            match self.nodes[node].children.len() {
                0 => {
                    self.nodes[parent].children.remove(position);
                    self.release(node);
                    let p = &self.nodes[parent];
                    if parent != ROOT && p.value.is_none() && p.children.len() == 1 {
                        self.merge_with_child(parent);
                    }
                }
                1 => self.merge_with_child(node),
                _ => {}
            }
        }
        Some(value)
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], &V)) {
        let mut key = Vec::new();
        let mut stack = vec![(ROOT, 0)];
        while let Some((i, depth)) = stack.pop() {
            key.truncate(depth);
            let node = &self.nodes[i];
            key.extend_from_slice(&node.label);
            if let Some(v) = &node.value {
                f(&key, v);
            }
            stack.extend(node.children.iter().rev().map(|&(_, c)| (c, key.len())));
        }
    }

    fn retain(&mut self, f: impl FnMut(&[u8], &mut V) -> bool) {
        for key in self.walk(f) {
            self.remove(&key);
        }
    }
}

impl<V> TopicMap<V> for HeapTopics<V> {
    #[inline]
    fn any_prefix(&self, data: &[u8], mut f: impl FnMut(&[u8], &V) -> bool) -> bool {
        let mut node = &self.nodes[ROOT];
        let mut at = 0;
        loop {
            if node.value.as_ref().is_some_and(|v| f(&data[..at], v)) {
                return true;
            }
            let Some(&byte) = data.get(at) else {
                return false;
            };
            let Some(child) = node.child(byte) else {
                return false;
            };
            node = &self.nodes[child];
            if !data[at..].starts_with(&node.label) {
                return false;
            }
            at += node.label.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    impl<V> HeapTopics<V> {
        /// Checks the invariants of the module doc; returns the number of
        /// nodes reachable from the root.
        fn check(&self) -> usize {
            let mut reached = 0;
            let mut values = 0;
            let mut stack = vec![ROOT];
            while let Some(i) = stack.pop() {
                reached += 1;
                let n = &self.nodes[i];
                values += usize::from(n.value.is_some());
                if i != ROOT {
                    assert!(!n.label.is_empty(), "empty label");
                    assert!(
                        n.value.is_some() || n.children.len() >= 2,
                        "a node without value has {} children",
                        n.children.len()
                    );
                }
                assert!(n.children.windows(2).all(|w| w[0].0 < w[1].0), "unsorted");
                for &(b, c) in &n.children {
                    assert_eq!(self.nodes[c].label[0], b, "child's first byte");
                    stack.push(c);
                }
            }
            assert_eq!(values, self.len);
            assert_eq!(reached + self.free.len(), self.nodes.len(), "lost nodes");
            assert!(
                reached <= 2 * self.len + 1,
                "{reached} nodes for {}",
                self.len
            );
            reached
        }
    }

    /// xorshift64: the same operations on every run.
    struct Draw(u64);

    impl Draw {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }

        /// A short key over three letters, so keys share prefixes.
        fn key(&mut self) -> Vec<u8> {
            let len = self.below(7) as usize;
            (0..len).map(|_| b'a' + self.below(3) as u8).collect()
        }
    }

    fn entries<V: Copy>(t: &HeapTopics<V>) -> BTreeMap<Vec<u8>, V> {
        let mut listed = Vec::new();
        t.for_each(|k, &v| listed.push((k.to_vec(), v)));
        assert!(listed.is_sorted_by(|a, b| a.0 < b.0), "in order, once each");
        listed.into_iter().collect()
    }

    /// Random inserts, removals, retains and lookups against a `BTreeMap`.
    #[test]
    fn agrees_with_a_sorted_map() {
        let mut d = Draw(0x1234_5678_9abc_def1);
        let mut t = HeapTopics::default();
        let mut model = BTreeMap::new();
        for step in 0..20_000u32 {
            let key = d.key();
            match d.below(10) {
                0..=3 => {
                    if let Some(v) = model.get_mut(&key) {
                        *v = step;
                        *t.get_mut(&key).unwrap() = step;
                    } else {
                        model.insert(key.clone(), step);
                        t.insert(&key, step).unwrap();
                    }
                }
                4..=6 => assert_eq!(t.remove(&key), model.remove(&key), "remove {key:?}"),
                7 => {
                    let odd = d.below(2) as u32;
                    model.retain(|_, v| *v % 2 != odd);
                    t.retain(|_, v| *v % 2 != odd);
                }
                _ => {
                    let mut data = key.clone();
                    data.extend(d.key());
                    let mut found = Vec::new();
                    assert!(!t.any_prefix(&data, |k, &v| {
                        found.push((k.to_vec(), v));
                        false
                    }));
                    // Shortest first: the walk goes down the tree.
                    let expected: Vec<_> = (0..=data.len())
                        .filter_map(|l| model.get(&data[..l]).map(|&v| (data[..l].to_vec(), v)))
                        .collect();
                    assert_eq!(found, expected, "prefixes of {data:?}");
                    assert_eq!(t.any_prefix(&data, |_, _| true), !expected.is_empty());
                }
            }
            assert_eq!(t.get(&key), model.get(&key));
            assert_eq!(t.len(), model.len());
            if step % 64 == 0 {
                t.check();
                assert_eq!(entries(&t), model);
            }
        }
        t.check();
        assert_eq!(entries(&t), model);
    }

    /// Deep trees take no stack: 20 000 nested prefixes (longest first,
    /// so that each splits the last) go in, match and go out again, and the
    /// tree shrinks back to its root.
    #[test]
    fn nested_prefixes_need_no_recursion() {
        const DEPTH: usize = 20_000;
        let long = vec![b'x'; DEPTH];
        let mut t = HeapTopics::default();
        for len in (1..=DEPTH).rev() {
            t.insert(&long[..len], len).unwrap();
        }
        assert_eq!(t.check(), DEPTH + 1);
        let mut sum = 0;
        t.any_prefix(&long, |k, &v| {
            assert_eq!(k.len(), v);
            sum += v;
            false
        });
        assert_eq!(sum, DEPTH * (DEPTH + 1) / 2);
        t.retain(|k, _| k.len() % 2 == 0);
        assert_eq!(t.len(), DEPTH / 2);
        t.check();
        for len in 1..=DEPTH {
            assert_eq!(t.remove(&long[..len]).is_some(), len % 2 == 0);
        }
        assert_eq!(t.check(), 1);
        assert!(t.is_empty());
    }

    /// The tree keeps one copy of a long topic's bytes, and taking a
    /// prefix of it away merges the rest back.
    #[test]
    fn splits_and_merges_long_labels() {
        let long: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        let mut t = HeapTopics::default();
        t.insert(&long, 1).unwrap();
        t.insert(&long[..10], 2).unwrap();
        let mut other = long[..5000].to_vec();
        other.push(0xff);
        t.insert(&other, 3).unwrap();
        assert_eq!(t.check(), 5);
        assert_eq!(t.get(&long[..5000]), None);
        assert_eq!(t.remove(&long[..11]), None);
        assert_eq!(t.remove(&long[..10]), Some(2));
        assert_eq!(t.remove(&other), Some(3));
        // Root and one node holding the whole topic.
        assert_eq!(t.check(), 2);
        assert_eq!(t.nodes[t.nodes[ROOT].children[0].1].label.len(), long.len());
        assert_eq!(t.get(&long), Some(&1));
        assert!(!t.any_prefix(&long[..69_999], |_, _| true));
        assert!(t.any_prefix(&[&long[..], b"more"].concat(), |_, _| true));
    }

    #[test]
    fn the_empty_topic_lives_at_the_root() {
        let mut t = HeapTopics::default();
        t.insert(b"", 7).unwrap();
        t.insert(b"a", 8).unwrap();
        assert!(t.any_prefix(b"", |k, &v| k.is_empty() && v == 7));
        assert_eq!(t.remove(b""), Some(7));
        assert_eq!(t.remove(b""), None);
        assert!(!t.any_prefix(b"b", |_, _| true));
        assert_eq!(t.len(), 1);
        t.check();
    }
}
