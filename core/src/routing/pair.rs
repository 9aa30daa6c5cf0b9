//! PAIR (RFC 31): exclusive connection to one peer.

use super::{AttachError, Attached, PeerIdentity, PeerKey, Pipes, RecvError, Routing, SendError};
use crate::msg::Message;

/// PAIR: talks to exactly one peer; further peers are refused while it is
/// attached (libzmq terminates them).
///
/// Sending reports [`SendError::WouldBlock`] with no peer or when the
/// peer's pipe is at its high-water mark.
#[derive(Debug, Clone)]
pub struct Pair<K: PeerKey> {
    peer: Option<K>,
    /// Frames of an outgoing message were written; more follow.
    more_out: bool,
    /// The peer left in the middle of an outgoing message: discard the
    /// rest of it rather than start the next peer with a partial message.
    dropping: bool,
    /// Frames of an incoming message were returned; more follow.
    more_in: bool,
    /// The peer left in the middle of an incoming message.
    truncated: bool,
}

impl<K: PeerKey> Pair<K> {
    /// CONFLATE has no effect on PAIR in libzmq.
    pub const CONFLATE_ALLOWED: bool = false;

    /// No peer.
    pub const fn new() -> Self {
        Self {
            peer: None,
            more_out: false,
            dropping: false,
            more_in: false,
            truncated: false,
        }
    }

    /// The attached peer.
    pub fn peer(&self) -> Option<K> {
        self.peer
    }
}

impl<K: PeerKey> Default for Pair<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: PeerKey, P: Pipes<Peer = K>> Routing<P> for Pair<K> {
    fn attach(
        &mut self,
        _pipes: &mut P,
        peer: K,
        _identity: PeerIdentity<'_>,
    ) -> Result<Attached<K>, AttachError> {
        match self.peer {
            Some(p) if p == peer => Err(AttachError::AlreadyAttached),
            Some(_) => Err(AttachError::Occupied),
            None => {
                self.peer = Some(peer);
                Ok(Attached::default())
            }
        }
    }

    fn detach(&mut self, _pipes: &mut P, peer: K) {
        if self.peer == Some(peer) {
            self.peer = None;
            self.dropping = self.more_out;
            self.more_out = false;
            self.truncated = self.more_in;
            self.more_in = false;
        }
    }

    fn read_activated(&mut self, _pipes: &mut P, _peer: K) {}

    fn write_activated(&mut self, _pipes: &mut P, _peer: K) {}

    #[inline]
    fn send(&mut self, pipes: &mut P, msg: P::Msg) -> Result<(), SendError<P::Msg>> {
        let more = msg.more();
        if self.dropping {
            self.dropping = more;
            return Ok(());
        }
        let Some(peer) = self.peer else {
            return Err(SendError::WouldBlock(msg));
        };
        pipes.write(peer, msg).map_err(SendError::WouldBlock)?;
        self.more_out = more;
        if !more {
            pipes.flush(peer);
        }
        Ok(())
    }

    #[inline]
    fn recv(&mut self, pipes: &mut P) -> Result<P::Msg, RecvError> {
        if self.truncated {
            self.truncated = false;
            return Err(RecvError::Truncated);
        }
        let peer = self.peer.ok_or(RecvError::WouldBlock)?;
        let msg = pipes.read(peer).ok_or(RecvError::WouldBlock)?;
        self.more_in = msg.more();
        Ok(msg)
    }

    fn has_in(&mut self, pipes: &mut P) -> bool {
        self.truncated || self.peer.is_some_and(|p| pipes.check_read(p))
    }

    fn has_out(&mut self, pipes: &mut P) -> bool {
        self.dropping || self.more_out || self.peer.is_some_and(|p| pipes.check_write(p))
    }
}
