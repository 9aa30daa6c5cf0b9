//! REP (RFC 28): answers each request, envelope and all, to its sender.

use core::fmt;

use super::{
    AttachError, Attached, FairQueue, PeerIdentity, PeerKey, Pipes, RecvError, Routing, SendError,
};
use crate::msg::Message;
use crate::storage::Storage;

/// REP: receives one request at a time (fair-queued over the peers),
/// hands the application only its body, and sends the reply back to the
/// requester with the request's envelope in front.
///
/// ```text
///   request:  label... "" body...      (labels: routing ids added by
///   reply:    label... "" reply...      ROUTERs on the way, or REQ's id)
/// ```
///
/// As libzmq does, the envelope is written to the requester's pipe while
/// the request is received (unflushed, so invisible until the reply is
/// complete), so it needs no storage. A request whose envelope has no
/// delimiter is discarded. If the requester's pipe is at its high-water
/// mark when the request arrives, or the requester leaves, the reply is
/// dropped silently. Receive and send alternate strictly
/// ([`RecvError::State`], [`SendError::State`]).
pub struct Rep<S: Storage, K: PeerKey> {
    input: FairQueue<S, K>,
    /// A request was received; its reply is owed.
    sending_reply: bool,
    /// The next frame received starts a request (its envelope).
    request_begins: bool,
    /// Where the reply goes; `None` drops it.
    reply_to: Option<K>,
}

impl<S: Storage, K: PeerKey> Rep<S, K> {
    /// CONFLATE has no effect on REP in libzmq.
    pub const CONFLATE_ALLOWED: bool = false;

    /// No peers.
    pub fn new() -> Self {
        Self {
            input: FairQueue::new(),
            sending_reply: false,
            request_begins: true,
            reply_to: None,
        }
    }

    /// Number of attached peers.
    pub fn peer_count(&self) -> usize {
        self.input.len()
    }

    /// Reads the envelope of the next request from `peer`, copying it to
    /// `peer`'s outbound pipe when `copy`. Returns whether a delimiter
    /// ended it (else it was malformed and has been consumed whole).
    fn read_envelope<P>(
        &mut self,
        pipes: &mut P,
        peer: K,
        copy: &mut bool,
    ) -> Result<bool, RecvError>
    where
        P: Pipes<Peer = K>,
    {
        loop {
            let msg = match self.input.recv(pipes) {
                Ok((_, msg)) => msg,
                Err(e) => {
                    if *copy {
                        pipes.rollback(peer);
                    }
                    return Err(e);
                }
            };
            if !msg.more() {
                // No delimiter before the end: not a request.
                if *copy {
                    pipes.rollback(peer);
                }
                return Ok(false);
            }
            let bottom = msg.is_empty();
            if *copy && pipes.write(peer, msg).is_err() {
                pipes.rollback(peer);
                *copy = false;
            }
            if bottom {
                return Ok(true);
            }
        }
    }
}

impl<S: Storage, K: PeerKey> Default for Rep<S, K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage, K: PeerKey> fmt::Debug for Rep<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rep")
            .field("input", &self.input)
            .field("sending_reply", &self.sending_reply)
            .field("request_begins", &self.request_begins)
            .field("reply_to", &self.reply_to)
            .finish()
    }
}

impl<S: Storage, K: PeerKey, P: Pipes<Peer = K>> Routing<P> for Rep<S, K> {
    fn attach(
        &mut self,
        _pipes: &mut P,
        peer: K,
        _identity: PeerIdentity<'_>,
    ) -> Result<Attached<K>, AttachError> {
        self.input.attach(peer)?;
        Ok(Attached::default())
    }

    fn detach(&mut self, _pipes: &mut P, peer: K) {
        if self.reply_to == Some(peer) {
            self.reply_to = None;
        }
        self.input.detach(peer);
    }

    fn read_activated(&mut self, _pipes: &mut P, peer: K) {
        self.input.activated(peer);
    }

    fn write_activated(&mut self, _pipes: &mut P, _peer: K) {}

    fn send(&mut self, pipes: &mut P, msg: P::Msg) -> Result<(), SendError<P::Msg>> {
        if !self.sending_reply {
            return Err(SendError::State(msg));
        }
        let more = msg.more();
        if let Some(peer) = self.reply_to {
            if pipes.write(peer, msg).is_err() {
                pipes.rollback(peer);
                self.reply_to = None;
            } else if !more {
                pipes.flush(peer);
            }
        }
        if !more {
            self.sending_reply = false;
            self.reply_to = None;
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut P) -> Result<P::Msg, RecvError> {
        if self.sending_reply {
            return Err(RecvError::State);
        }
        while self.request_begins {
            let peer = self.input.begin(pipes)?;
            // The reply's HWM is checked once, when the request arrives.
            let mut copy = pipes.check_write(peer);
            if self.read_envelope(pipes, peer, &mut copy)? {
                self.reply_to = copy.then_some(peer);
                self.request_begins = false;
            }
        }
        let msg = match self.input.recv(pipes) {
            Ok((_, msg)) => msg,
            Err(e) => {
                if e == RecvError::Truncated {
                    // The requester left mid-request: nobody to answer.
                    self.request_begins = true;
                    self.reply_to = None;
                }
                return Err(e);
            }
        };
        if !msg.more() {
            self.sending_reply = true;
            self.request_begins = true;
        }
        Ok(msg)
    }

    fn has_in(&mut self, pipes: &mut P) -> bool {
        !self.sending_reply && self.input.has_in(pipes)
    }

    fn has_out(&mut self, _pipes: &mut P) -> bool {
        self.sending_reply
    }
}
