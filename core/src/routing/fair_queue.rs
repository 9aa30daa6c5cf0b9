//! Fair-queueing over the peers that have input (libzmq's `fq_t`): the
//! receive side of PULL, DEALER, REQ, REP, ROUTER, SUB, XSUB, and XPUB's
//! reading of subscriptions.

use core::fmt;

use super::peers::PeerArray;
use super::{AttachError, PeerKey, Pipes, RecvError};
use crate::msg::Message;
use crate::storage::Storage;

/// Receives whole messages from each peer with input in turn.
///
/// The peers are one array whose first `active` entries may have input; a
/// peer found empty leaves that region until
/// [`activated`](FairQueue::activated). After the first frame of a message
/// the rest comes from the same peer; after the last frame the next peer
/// gets its turn, so a busy peer cannot starve the others.
pub struct FairQueue<S: Storage, K: PeerKey> {
    peers: PeerArray<S, K>,
    /// Peers at positions below this may have input.
    active: usize,
    /// Position of the peer whose turn it is.
    current: usize,
    /// The peer a message is being read from: either frames of it were
    /// returned and more follow (`more`), or [`poll_ready`] chose it.
    ///
    /// [`poll_ready`]: FairQueue::poll_ready
    reading: Option<K>,
    /// Frames of a message from `reading` were returned; more follow.
    more: bool,
    /// `reading` was detached in the middle of a message; the next
    /// [`recv`](FairQueue::recv) reports it.
    truncated: bool,
}

impl<S: Storage, K: PeerKey> FairQueue<S, K> {
    /// No peers.
    pub fn new() -> Self {
        Self {
            peers: PeerArray::new(),
            active: 0,
            current: 0,
            reading: None,
            more: false,
            truncated: false,
        }
    }

    /// Adds `peer`, presumed to have input until a read finds none.
    ///
    /// # Errors
    /// [`AttachError::CapacityExceeded`] or
    /// [`AttachError::AlreadyAttached`].
    pub fn attach(&mut self, peer: K) -> Result<(), AttachError> {
        self.peers.push(peer)?;
        self.activated(peer);
        Ok(())
    }

    /// Removes `peer`. If a message from it was partly received, the next
    /// [`recv`](FairQueue::recv) reports [`RecvError::Truncated`].
    pub fn detach(&mut self, peer: K) {
        let Some(mut position) = self.peers.position(peer) else {
            return;
        };
        if self.reading == Some(peer) {
            self.truncated = self.more;
            self.reading = None;
            self.more = false;
        }
        if position < self.active {
            self.active -= 1;
            self.peers.swap(position, self.active);
            if self.current == self.active {
                self.current = position;
            }
            if self.current >= self.active {
                self.current = 0;
            }
            position = self.active;
        }
        self.peers.remove_at(position);
    }

    /// `peer` has input again. Harmless if it was already active.
    pub fn activated(&mut self, peer: K) {
        if let Some(position) = self.peers.position(peer) {
            if position >= self.active {
                self.peers.swap(position, self.active);
                self.active += 1;
            }
        }
    }

    /// Receives the next frame, with the peer it came from.
    ///
    /// # Errors
    /// [`RecvError::WouldBlock`] when no peer has input;
    /// [`RecvError::Truncated`] once after the peer of a partly received
    /// message was detached (or its pipe broke the whole-message promise).
    #[inline]
    pub fn recv<P>(&mut self, pipes: &mut P) -> Result<(K, P::Msg), RecvError>
    where
        P: Pipes<Peer = K>,
    {
        if self.truncated {
            self.truncated = false;
            return Err(RecvError::Truncated);
        }
        if let Some(peer) = self.reading {
            if let Some(msg) = pipes.read(peer) {
                self.after_frame(peer, msg.more());
                return Ok((peer, msg));
            }
            // Chosen by `poll_ready` but emptied since (its input was
            // taken back), or a pipe that broke the whole-message promise.
            let truncated = self.more;
            self.reading = None;
            self.more = false;
            if truncated {
                return Err(RecvError::Truncated);
            }
        }
        while self.active > 0 {
            let peer = self.peers.at(self.current);
            if let Some(msg) = pipes.read(peer) {
                if msg.more() {
                    self.reading = Some(peer);
                    self.more = true;
                } else {
                    self.current += 1;
                    if self.current >= self.active {
                        self.current = 0;
                    }
                }
                return Ok((peer, msg));
            }
            self.deactivate_current();
        }
        Err(RecvError::WouldBlock)
    }

    /// The peer the next [`recv`](FairQueue::recv) reads from, if any has
    /// input (libzmq's `has_in`); it stays chosen until its message has
    /// been read. Peers found empty are deactivated on the way.
    pub fn poll_ready<P>(&mut self, pipes: &mut P) -> Option<K>
    where
        P: Pipes<Peer = K>,
    {
        if let Some(peer) = self.reading {
            return Some(peer);
        }
        while self.active > 0 {
            let peer = self.peers.at(self.current);
            if pipes.check_read(peer) {
                self.reading = Some(peer);
                return Some(peer);
            }
            self.deactivate_current();
        }
        None
    }

    /// Starts a message: chooses the peer it comes from, as
    /// [`poll_ready`](FairQueue::poll_ready), and counts the message as
    /// begun, so that detaching that peer before its last frame is read is
    /// reported as [`RecvError::Truncated`]. ROUTER uses it to hand out the
    /// routing-id frame before the message's own frames.
    ///
    /// # Errors
    /// [`RecvError::WouldBlock`] when no peer has input;
    /// [`RecvError::Truncated`] as for [`recv`](FairQueue::recv).
    pub fn begin<P>(&mut self, pipes: &mut P) -> Result<K, RecvError>
    where
        P: Pipes<Peer = K>,
    {
        if self.truncated {
            self.truncated = false;
            return Err(RecvError::Truncated);
        }
        let peer = self.poll_ready(pipes).ok_or(RecvError::WouldBlock)?;
        self.more = true;
        Ok(peer)
    }

    /// Whether [`recv`](FairQueue::recv) would return without blocking
    /// (a frame, or the [`RecvError::Truncated`] report).
    pub fn has_in<P>(&mut self, pipes: &mut P) -> bool
    where
        P: Pipes<Peer = K>,
    {
        self.truncated || self.poll_ready(pipes).is_some()
    }

    /// The peer whose message is partly received, if any.
    pub fn receiving_from(&self) -> Option<K> {
        if self.more { self.reading } else { None }
    }

    /// Panics unless the regions and cursor are consistent.
    #[cfg(test)]
    pub(crate) fn check(&self) {
        self.peers.check();
        assert!(self.active <= self.peers.len());
        assert!(self.current < self.active.max(1));
        if let Some(peer) = self.reading {
            assert!(
                self.peers.position(peer).is_some(),
                "reading a detached peer"
            );
        }
    }

    /// Number of attached peers.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether no peer is attached.
    pub fn is_empty(&self) -> bool {
        self.peers.len() == 0
    }

    /// All attached peers, in no particular order.
    pub fn peers(&self) -> &[K] {
        self.peers.as_slice()
    }

    /// Bookkeeping after a frame from the chosen peer.
    fn after_frame(&mut self, peer: K, more: bool) {
        self.more = more;
        if more {
            return;
        }
        self.reading = None;
        // Its message is done: the turn passes to the next peer.
        if let Some(position) = self.peers.position(peer) {
            if position < self.active {
                self.current = position + 1;
                if self.current >= self.active {
                    self.current = 0;
                }
            }
        }
    }

    /// Moves the current peer out of the active region; `current` then
    /// names the peer swapped into its place.
    fn deactivate_current(&mut self) {
        self.active -= 1;
        if self.current < self.active {
            self.peers.swap(self.current, self.active);
        } else {
            self.current = 0;
        }
    }
}

impl<S: Storage, K: PeerKey> Default for FairQueue<S, K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage, K: PeerKey> fmt::Debug for FairQueue<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FairQueue")
            .field("peers", &self.peers)
            .field("active", &self.active)
            .field("current", &self.current)
            .field("reading", &self.reading)
            .field("more", &self.more)
            .finish()
    }
}
