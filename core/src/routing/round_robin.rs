//! Round-robin over the peers that can take a message (libzmq's `lb_t`):
//! the send side of PUSH, DEALER and REQ.

use core::fmt;

use super::peers::PeerArray;
use super::{AttachError, PeerKey, Pipes, SendError};
use crate::msg::Message;
use crate::storage::Storage;

/// Sends each message to the next peer in turn that has room for it.
///
/// The peers are kept as one array whose first `active` entries may take a
/// message; a peer that refuses one is moved out of that region until
/// [`activated`](RoundRobin::activated). All frames of a multipart message
/// go to the same peer, which is flushed after the last one. When no
/// active peer is left, [`send`](RoundRobin::send) reports
/// [`SendError::WouldBlock`].
pub struct RoundRobin<S: Storage, K: PeerKey> {
    peers: PeerArray<S, K>,
    /// Peers at positions below this may take a message.
    active: usize,
    /// Position of the peer that gets the next message (or the rest of the
    /// current one).
    current: usize,
    /// Frames of a message have been sent to `current`; more will follow.
    more: bool,
    /// The rest of the current message is discarded (its peer went away).
    dropping: bool,
}

impl<S: Storage, K: PeerKey> RoundRobin<S, K> {
    /// No peers.
    pub fn new() -> Self {
        Self {
            peers: PeerArray::new(),
            active: 0,
            current: 0,
            more: false,
            dropping: false,
        }
    }

    /// Adds `peer`, ready to take messages.
    ///
    /// # Errors
    /// [`AttachError::CapacityExceeded`] or
    /// [`AttachError::AlreadyAttached`].
    pub fn attach(&mut self, peer: K) -> Result<(), AttachError> {
        self.peers.push(peer)?;
        self.activated(peer);
        Ok(())
    }

    /// Removes `peer`. If a message was partly sent to it, the rest of that
    /// message is discarded.
    pub fn detach(&mut self, peer: K) {
        let Some(mut position) = self.peers.position(peer) else {
            return;
        };
        if position == self.current && self.more {
            self.dropping = true;
        }
        if position < self.active {
            self.active -= 1;
            self.peers.swap(position, self.active);
            // Keep `current` on the same peer when that peer moved.
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

    /// `peer` can take messages again. Harmless if it already could.
    pub fn activated(&mut self, peer: K) {
        if let Some(position) = self.peers.position(peer) {
            if position >= self.active {
                self.peers.swap(position, self.active);
                self.active += 1;
            }
        }
    }

    /// Sends one frame to the current peer; after the last frame of a
    /// message the next message goes to the next peer.
    ///
    /// Returns the peer that took the frame, or `None` when the frame was
    /// discarded because the message's peer went away in the middle of it
    /// (the frames already written are rolled back and the rest of the
    /// message is dropped, as libzmq does).
    ///
    /// # Errors
    /// [`SendError::WouldBlock`] when no peer can take a new message.
    #[inline]
    pub fn send<P>(&mut self, pipes: &mut P, msg: P::Msg) -> Result<Option<K>, SendError<P::Msg>>
    where
        P: Pipes<Peer = K>,
    {
        let more = msg.more();
        if self.dropping {
            self.more = more;
            self.dropping = more;
            return Ok(None);
        }
        let mut msg = msg;
        while self.active > 0 {
            let peer = self.peers.at(self.current);
            match pipes.write(peer, msg) {
                Ok(()) => {
                    self.more = more;
                    if !more {
                        pipes.flush(peer);
                        self.current += 1;
                        if self.current >= self.active {
                            self.current = 0;
                        }
                    }
                    return Ok(Some(peer));
                }
                Err(refused) if self.more => {
                    // The HWM counts whole messages, so a peer that took the
                    // first frame refuses a later one only when it is gone.
                    drop(refused);
                    pipes.rollback(peer);
                    self.more = false;
                    self.dropping = more;
                    return Ok(None);
                }
                Err(refused) => {
                    msg = refused;
                    self.deactivate_current();
                }
            }
        }
        Err(SendError::WouldBlock(msg))
    }

    /// Whether a frame can be sent now (libzmq's `has_out`): true in the
    /// middle of a message, else whether some peer can take a new message.
    /// Peers found full are deactivated on the way.
    pub fn has_out<P>(&mut self, pipes: &mut P) -> bool
    where
        P: Pipes<Peer = K>,
    {
        if self.more {
            return true;
        }
        while self.active > 0 {
            if pipes.check_write(self.peers.at(self.current)) {
                return true;
            }
            self.deactivate_current();
        }
        false
    }

    /// Panics unless the regions and cursor are consistent.
    #[cfg(test)]
    pub(crate) fn check(&self) {
        self.peers.check();
        assert!(self.active <= self.peers.len());
        assert!(self.current < self.active.max(1));
    }

    /// Number of attached peers.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether no peer is attached.
    pub fn is_empty(&self) -> bool {
        self.peers.len() == 0
    }

    /// Number of peers that may take a message.
    pub fn active_len(&self) -> usize {
        self.active
    }

    /// Whether a message is partly sent (its last frame is still to come).
    pub fn in_message(&self) -> bool {
        self.more || self.dropping
    }

    /// Moves the current peer out of the active region; `current` then
    /// names the peer swapped into its place (libzmq's order).
    fn deactivate_current(&mut self) {
        self.active -= 1;
        if self.current < self.active {
            self.peers.swap(self.current, self.active);
        } else {
            self.current = 0;
        }
    }
}

impl<S: Storage, K: PeerKey> Default for RoundRobin<S, K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage, K: PeerKey> fmt::Debug for RoundRobin<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoundRobin")
            .field("peers", &self.peers)
            .field("active", &self.active)
            .field("current", &self.current)
            .field("more", &self.more)
            .field("dropping", &self.dropping)
            .finish()
    }
}
