//! Tests of the routing layer, and the harness they share:
//!
//! - [`Heap`]: a storage family over `Vec`, `HashMap`, `BTreeMap` and
//!   `VecDeque`, wrapped in newtypes exactly as the std backend must (the
//!   collection traits are core's, the types `alloc`'s);
//! - [`Msg`]: a heap message type, cloned for fan-out;
//! - [`TestPipes`]: in-memory pipes keyed by `u32` with libzmq's
//!   whole-message HWM accounting, and helpers playing the remote peers.
//!
//! The per-type tests mirror what libzmq's `test_spec_*`, `test_hwm*`,
//! `test_pubsub`, `test_xpub_*`, `test_req_*` and `test_router_*` check.

use std::boxed::Box;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::vec::Vec;

use super::{PeerIdentity, Pipes, RecvError, Routing, SendError};
use crate::msg::{FrameTooLarge, Message};
use crate::storage::{ByteMap, Bytes, List, Queue, Storage, TopicMap};

mod dealer;
mod fixed;
mod pair;
mod pub_sub;
mod push_pull;
mod rep;
mod req;
mod router;
mod strategies;
mod stream;
mod xpub_xsub;

/// The std-style storage family.
#[derive(Debug)]
pub(super) struct Heap;

impl Storage for Heap {
    type List<T> = HeapList<T>;
    type Bytes = HeapBytes;
    type Table<V> = HashTable<V>;
    type Topics<V> = TreeTopics<V>;
    type Queue<T> = HeapQueue<T>;
}

pub(super) struct HeapList<T>(Vec<T>);

impl<T> Default for HeapList<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> List<T> for HeapList<T> {
    fn as_slice(&self) -> &[T] {
        &self.0
    }
    fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.0
    }
    fn push(&mut self, item: T) -> Result<(), T> {
        self.0.push(item);
        Ok(())
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
}

pub(super) struct HeapBytes(Box<[u8]>);

impl Bytes for HeapBytes {
    fn try_from_slice(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.into()))
    }
    fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

/// Routing ids: hashed, so a ROUTER send with 10,000 peers is one lookup.
pub(super) struct HashTable<V>(HashMap<Vec<u8>, V>);

impl<V> Default for HashTable<V> {
    fn default() -> Self {
        Self(HashMap::new())
    }
}

impl<V> ByteMap<V> for HashTable<V> {
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
        self.0.insert(key.to_vec(), value);
        Ok(())
    }
    fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.0.remove(key)
    }
    fn for_each(&self, mut f: impl FnMut(&[u8], &V)) {
        self.0.iter().for_each(|(k, v)| f(k, v));
    }
    fn retain(&mut self, mut f: impl FnMut(&[u8], &mut V) -> bool) {
        self.0.retain(|k, v| f(k, v));
    }
}

/// Subscriptions: ordered, to show a second map flavour works.
pub(super) struct TreeTopics<V>(BTreeMap<Vec<u8>, V>);

impl<V> Default for TreeTopics<V> {
    fn default() -> Self {
        Self(BTreeMap::new())
    }
}

impl<V> ByteMap<V> for TreeTopics<V> {
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
        self.0.insert(key.to_vec(), value);
        Ok(())
    }
    fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.0.remove(key)
    }
    fn for_each(&self, mut f: impl FnMut(&[u8], &V)) {
        self.0.iter().for_each(|(k, v)| f(k, v));
    }
    fn retain(&mut self, mut f: impl FnMut(&[u8], &mut V) -> bool) {
        self.0.retain(|k, v| f(k, v));
    }
}

impl<V> TopicMap<V> for TreeTopics<V> {
    fn any_prefix(&self, data: &[u8], mut f: impl FnMut(&[u8], &V) -> bool) -> bool {
        // Each prefix of `data` by itself: slow, and plainly right.
        (0..=data.len()).any(|len| self.0.get(&data[..len]).is_some_and(|v| f(&data[..len], v)))
    }
}

pub(super) struct HeapQueue<T>(VecDeque<T>);

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

/// A heap frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Msg {
    data: Vec<u8>,
    more: bool,
}

impl Message for Msg {
    fn bytes(&self) -> &[u8] {
        &self.data
    }
    fn more(&self) -> bool {
        self.more
    }
    fn set_more(&mut self, more: bool) {
        self.more = more;
    }
    fn try_from_parts(parts: &[&[u8]]) -> Result<Self, FrameTooLarge> {
        Ok(Self {
            data: parts.concat(),
            more: false,
        })
    }
}

/// A frame of `bytes` with the given MORE flag.
pub(super) fn frame<M: Message>(bytes: &[u8], more: bool) -> M {
    let mut m = M::try_from_parts(&[bytes]).expect("test frame fits");
    m.set_more(more);
    m
}

/// One peer's pipe pair, seen from the socket.
pub(super) struct TestPeer<M> {
    /// Whole-message high-water mark toward the peer; 0 is unlimited.
    pub(super) hwm: usize,
    /// Flushed frames: what the peer can read.
    sent: VecDeque<M>,
    /// Frames written since the last flush.
    unflushed: Vec<M>,
    /// Whole messages written (flushed or not) that the peer has not taken.
    queued: usize,
    /// Frames the peer sent us (whole messages only).
    incoming: VecDeque<M>,
    /// The peer is gone: every write fails.
    pub(super) gone: bool,
}

/// In-memory pipes for peers keyed by `u32`.
pub(super) struct TestPipes<M> {
    peers: Vec<Option<TestPeer<M>>>,
}

impl<M: Message> TestPipes<M> {
    pub(super) fn new() -> Self {
        Self { peers: Vec::new() }
    }

    /// Creates the pipes of peer `key`, with a sending HWM (0: none).
    pub(super) fn add(&mut self, key: u32, hwm: usize) {
        let i = key as usize;
        if self.peers.len() <= i {
            self.peers.resize_with(i + 1, || None);
        }
        self.peers[i] = Some(TestPeer {
            hwm,
            sent: VecDeque::new(),
            unflushed: Vec::new(),
            queued: 0,
            incoming: VecDeque::new(),
            gone: false,
        });
    }

    /// Destroys the pipes of peer `key` (after the socket detached it).
    pub(super) fn remove(&mut self, key: u32) {
        self.peers[key as usize] = None;
    }

    pub(super) fn peer(&mut self, key: u32) -> &mut TestPeer<M> {
        self.peers[key as usize]
            .as_mut()
            .expect("routing used a peer without pipes")
    }

    /// The peer sends a whole message to the socket.
    pub(super) fn deliver(&mut self, key: u32, frames: &[&[u8]]) {
        let last = frames.len() - 1;
        let peer = self.peer(key);
        for (i, f) in frames.iter().enumerate() {
            peer.incoming.push_back(frame(f, i < last));
        }
    }

    /// The peer reads the next whole message the socket flushed to it.
    pub(super) fn take(&mut self, key: u32) -> Option<Vec<Vec<u8>>> {
        let peer = self.peer(key);
        let mut out = Vec::new();
        loop {
            let f = peer.sent.pop_front()?;
            out.push(f.bytes().to_vec());
            if !f.more() {
                peer.queued -= 1;
                return Some(out);
            }
        }
    }

    /// Every whole message flushed to the peer, taken.
    pub(super) fn take_all(&mut self, key: u32) -> Vec<Vec<Vec<u8>>> {
        core::iter::from_fn(|| self.take(key)).collect()
    }

    /// Number of frames written to the peer but not flushed.
    pub(super) fn unflushed(&mut self, key: u32) -> usize {
        self.peer(key).unflushed.len()
    }

    /// Number of frames the peer sent that the socket has not read.
    pub(super) fn unread(&mut self, key: u32) -> usize {
        self.peer(key).incoming.len()
    }
}

impl<M: Message> Pipes for TestPipes<M> {
    type Peer = u32;
    type Msg = M;

    fn check_write(&mut self, key: u32) -> bool {
        let peer = self.peer(key);
        !peer.gone && (peer.hwm == 0 || peer.queued < peer.hwm)
    }

    fn write(&mut self, key: u32, f: M) -> Result<(), M> {
        let starts_message = self.peer(key).unflushed.last().is_none_or(|l| !l.more());
        if self.peer(key).gone || (starts_message && !self.check_write(key)) {
            return Err(f);
        }
        let peer = self.peer(key);
        if !f.more() {
            peer.queued += 1;
        }
        peer.unflushed.push(f);
        Ok(())
    }

    fn rollback(&mut self, key: u32) {
        let peer = self.peer(key);
        while peer.unflushed.last().is_some_and(|l| l.more()) {
            peer.unflushed.pop();
        }
    }

    fn flush(&mut self, key: u32) {
        let peer = self.peer(key);
        let complete = peer
            .unflushed
            .iter()
            .rposition(|f| !f.more())
            .map_or(0, |i| i + 1);
        peer.sent.extend(peer.unflushed.drain(..complete));
    }

    fn check_read(&mut self, key: u32) -> bool {
        !self.peer(key).incoming.is_empty()
    }

    fn read(&mut self, key: u32) -> Option<M> {
        self.peer(key).incoming.pop_front()
    }
}

/// Sends a whole message, frame by frame; stops at the first refusal.
pub(super) fn send_msg<R, M>(
    socket: &mut R,
    pipes: &mut TestPipes<M>,
    frames: &[&[u8]],
) -> Result<(), SendError<M>>
where
    R: Routing<TestPipes<M>>,
    M: Message,
{
    let last = frames.len() - 1;
    for (i, f) in frames.iter().enumerate() {
        socket.send(pipes, frame(f, i < last))?;
    }
    Ok(())
}

/// Receives a whole message, frame by frame.
pub(super) fn recv_msg<R, M>(
    socket: &mut R,
    pipes: &mut TestPipes<M>,
) -> Result<Vec<Vec<u8>>, RecvError>
where
    R: Routing<TestPipes<M>>,
    M: Message,
{
    let mut out = Vec::new();
    loop {
        let f = socket.recv(pipes)?;
        out.push(f.bytes().to_vec());
        if !f.more() {
            return Ok(out);
        }
    }
}

/// Creates pipes for peers `keys` (HWM `hwm`) and attaches them
/// anonymously.
pub(super) fn attach_all<R, M>(socket: &mut R, pipes: &mut TestPipes<M>, keys: &[u32], hwm: usize)
where
    R: Routing<TestPipes<M>>,
    M: Message,
{
    for &k in keys {
        pipes.add(k, hwm);
        socket
            .attach(pipes, k, PeerIdentity::Anonymous)
            .expect("attach");
    }
}

/// Shorthand for a message's expected frames.
pub(super) fn frames(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// The peer sends a whole message and its pipe announces the input, as
/// the socket layer does on a wake-up.
pub(super) fn deliver_to<R, M>(socket: &mut R, pipes: &mut TestPipes<M>, peer: u32, parts: &[&[u8]])
where
    R: Routing<TestPipes<M>>,
    M: Message,
{
    pipes.deliver(peer, parts);
    socket.read_activated(pipes, peer);
}
