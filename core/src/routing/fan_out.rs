//! Fan-out to many peers (libzmq's `dist_t`): the send side of PUB and
//! XPUB (to the matching subscribers) and of SUB and XSUB (subscriptions
//! and messages upstream, to every peer).

use core::fmt;

use super::peers::PeerArray;
use super::{AttachError, PeerKey, Pipes};
use crate::msg::Message;
use crate::storage::Storage;

/// Copies each message to a set of peers, dropping it for peers that are
/// full.
///
/// The peers are one array split into regions, as in libzmq:
///
/// ```text
///  0          matching       active        eligible          len
///  [ matching  |  active, not  | eligible, not | full: wait for  ]
///  [ this msg  |  matching     | yet active    | write_activated ]
/// ```
///
/// - *eligible* peers may take messages; a peer that refuses a frame
///   leaves all three regions until [`activated`](FanOut::activated), and
///   misses the message (PUB's drop on HWM).
/// - *active* peers may take the current message. A peer attached or
///   re-activated in the middle of a multipart message is eligible but not
///   active, so it never gets a message without its first frames.
/// - *matching* peers get the current message; the caller marks them
///   before the first frame ([`match_peer`](FanOut::match_peer),
///   [`match_all`](FanOut::match_all)).
///
/// Every peer gets a clone of the frame but the last, which gets the frame
/// itself; with a reference-counted message type a clone is a count
/// increment.
pub struct FanOut<S: Storage, K: PeerKey> {
    peers: PeerArray<S, K>,
    matching: usize,
    active: usize,
    eligible: usize,
    /// A multipart message is being sent; its last frame is still to come.
    more: bool,
}

impl<S: Storage, K: PeerKey> FanOut<S, K> {
    /// No peers.
    pub fn new() -> Self {
        Self {
            peers: PeerArray::new(),
            matching: 0,
            active: 0,
            eligible: 0,
            more: false,
        }
    }

    /// Adds `peer`. It gets messages from the next one that starts.
    ///
    /// # Errors
    /// [`AttachError::CapacityExceeded`] or
    /// [`AttachError::AlreadyAttached`].
    pub fn attach(&mut self, peer: K) -> Result<(), AttachError> {
        let position = self.peers.push(peer)?;
        self.peers.swap(position, self.eligible);
        if self.more {
            self.eligible += 1;
        } else {
            self.peers.swap(self.eligible, self.active);
            self.active += 1;
            self.eligible += 1;
        }
        Ok(())
    }

    /// Removes `peer`.
    pub fn detach(&mut self, peer: K) {
        let Some(mut position) = self.peers.position(peer) else {
            return;
        };
        if position < self.matching {
            self.matching -= 1;
            self.peers.swap(position, self.matching);
            position = self.matching;
        }
        if position < self.active {
            self.active -= 1;
            self.peers.swap(position, self.active);
            position = self.active;
        }
        if position < self.eligible {
            self.eligible -= 1;
            self.peers.swap(position, self.eligible);
            position = self.eligible;
        }
        self.peers.remove_at(position);
    }

    /// `peer` can take messages again; it gets messages from the next one
    /// that starts. Harmless if it already could.
    pub fn activated(&mut self, peer: K) {
        let Some(mut position) = self.peers.position(peer) else {
            return;
        };
        if position >= self.eligible {
            self.peers.swap(position, self.eligible);
            position = self.eligible;
            self.eligible += 1;
        }
        if !self.more && position >= self.active {
            self.peers.swap(position, self.active);
            self.active += 1;
        }
    }

    /// Marks `peer` as a recipient of the current message, if it may take
    /// one.
    #[inline]
    pub fn match_peer(&mut self, peer: K) {
        if let Some(position) = self.peers.position(peer) {
            if position >= self.matching && position < self.eligible {
                self.peers.swap(position, self.matching);
                self.matching += 1;
            }
        }
    }

    /// Marks every peer that may take the current message as a recipient.
    pub fn match_all(&mut self) {
        self.matching = self.active;
    }

    /// Swaps recipients and non-recipients among the peers that may take
    /// messages (INVERT_MATCHING).
    pub fn reverse_match(&mut self) {
        let previous = self.matching;
        self.matching = 0;
        for position in previous..self.eligible {
            self.peers.swap(position, self.matching);
            self.matching += 1;
        }
    }

    /// Clears the recipients.
    pub fn unmatch(&mut self) {
        self.matching = 0;
    }

    /// Sends a frame to every peer that may take the current message.
    pub fn send_to_all<P>(&mut self, pipes: &mut P, msg: P::Msg)
    where
        P: Pipes<Peer = K>,
        P::Msg: Clone,
    {
        self.matching = self.active;
        self.send_to_matching(pipes, msg);
    }

    /// Sends a frame to the marked recipients; a recipient that refuses it
    /// is dropped from every region until [`activated`](FanOut::activated).
    /// With no recipient the frame is dropped. After the last frame of a
    /// message, peers that became eligible meanwhile become active.
    pub fn send_to_matching<P>(&mut self, pipes: &mut P, msg: P::Msg)
    where
        P: Pipes<Peer = K>,
        P::Msg: Clone,
    {
        let more = msg.more();
        self.distribute(pipes, msg, more);
        if !more {
            self.active = self.eligible;
        }
        self.more = more;
    }

    /// Whether every recipient can take a whole new message (XPUB_NODROP
    /// asks before sending).
    pub fn check_write_matching<P>(&mut self, pipes: &mut P) -> bool
    where
        P: Pipes<Peer = K>,
    {
        self.peers.as_slice()[..self.matching]
            .iter()
            .all(|&peer| pipes.check_write(peer))
    }

    /// Panics unless the regions are consistent.
    #[cfg(test)]
    pub(crate) fn check(&self) {
        self.peers.check();
        assert!(self.matching <= self.active);
        assert!(self.active <= self.eligible);
        assert!(self.eligible <= self.peers.len());
        if !self.more {
            assert_eq!(self.active, self.eligible);
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

    /// Number of recipients of the current message.
    pub fn matching_len(&self) -> usize {
        self.matching
    }

    /// Whether a multipart message is being sent.
    pub fn in_message(&self) -> bool {
        self.more
    }

    /// All attached peers, in no particular order.
    pub fn peers(&self) -> &[K] {
        self.peers.as_slice()
    }

    fn distribute<P>(&mut self, pipes: &mut P, msg: P::Msg, more: bool)
    where
        P: Pipes<Peer = K>,
        P::Msg: Clone,
    {
        // A refused write removes the recipient by swapping the last one
        // into its position, so the position is examined again.
        let mut position = 0;
        while position + 1 < self.matching {
            let peer = self.peers.at(position);
            if self.write(pipes, peer, msg.clone(), more) {
                position += 1;
            }
        }
        if position < self.matching {
            let peer = self.peers.at(position);
            self.write(pipes, peer, msg, more);
        }
    }

    fn write<P>(&mut self, pipes: &mut P, peer: K, frame: P::Msg, more: bool) -> bool
    where
        P: Pipes<Peer = K>,
    {
        if pipes.write(peer, frame).is_ok() {
            if !more {
                pipes.flush(peer);
            }
            return true;
        }
        if self.more {
            // Refused in the middle of a message: the peer is gone. Take
            // back the frames it got so far.
            pipes.rollback(peer);
        }
        if let Some(mut position) = self.peers.position(peer) {
            self.matching -= 1;
            self.peers.swap(position, self.matching);
            position = self.matching;
            self.active -= 1;
            self.peers.swap(position, self.active);
            self.eligible -= 1;
            self.peers.swap(self.active, self.eligible);
        }
        false
    }
}

impl<S: Storage, K: PeerKey> Default for FanOut<S, K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage, K: PeerKey> fmt::Debug for FanOut<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanOut")
            .field("peers", &self.peers)
            .field("matching", &self.matching)
            .field("active", &self.active)
            .field("eligible", &self.eligible)
            .field("more", &self.more)
            .finish()
    }
}
