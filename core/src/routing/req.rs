//! REQ (RFC 28): strict request/reply with an envelope delimiter.

use super::{
    AttachError, Attached, Dealer, PeerIdentity, PeerKey, Pipes, RecvError, Routing, SendError,
};
use crate::msg::Message;
use crate::storage::Storage;

/// REQ: a DEALER that wraps each request in an envelope and accepts only
/// the reply to its last request.
///
/// ```text
///   request on the wire:  [request id] (REQ_CORRELATE only), "" , body...
///   reply accepted:       [same id],                         "" , body...
/// ```
///
/// - Requests are load-balanced over the peers like DEALER's messages;
///   sending reports [`SendError::WouldBlock`] when no peer can take one.
/// - Send and receive alternate strictly ([`SendError::State`],
///   [`RecvError::State`] otherwise) unless REQ_RELAXED allows a new
///   request before the reply, abandoning the old one.
/// - Replies from other peers than the one the request went to, and
///   replies without the delimiter (or, with REQ_CORRELATE, the current
///   request id), are discarded; so are messages waiting when a new
///   request starts.
#[derive(Debug)]
pub struct Req<S: Storage, K: PeerKey> {
    dealer: Dealer<S, K>,
    /// A request was sent; its reply is awaited.
    receiving_reply: bool,
    /// The next frame sent or received starts a message.
    message_begins: bool,
    /// The peer the current request went to (`None`: accept any, as
    /// libzmq does once that peer is gone).
    reply_peer: Option<K>,
    correlate: bool,
    strict: bool,
    request_id: u32,
}

impl<S: Storage, K: PeerKey> Req<S, K> {
    /// CONFLATE has no effect on REQ in libzmq.
    pub const CONFLATE_ALLOWED: bool = false;

    /// No peers. `first_request_id` seeds REQ_CORRELATE's request ids;
    /// libzmq picks it at random, and so should the socket layer.
    pub fn new(first_request_id: u32) -> Self {
        Self {
            dealer: Dealer::new(),
            receiving_reply: false,
            message_begins: true,
            reply_peer: None,
            correlate: false,
            strict: true,
            request_id: first_request_id,
        }
    }

    /// REQ_CORRELATE: prefix each request with a request id and accept
    /// only replies that carry it back.
    pub fn set_correlate(&mut self, on: bool) {
        self.correlate = on;
    }

    /// REQ_RELAXED: allow a new request before the reply to the previous
    /// one arrived (the old reply is then discarded).
    pub fn set_relaxed(&mut self, on: bool) {
        self.strict = !on;
    }

    /// Number of attached peers.
    pub fn peer_count(&self) -> usize {
        self.dealer.peer_count()
    }

    /// Receives one frame of a reply from the peer the request went to,
    /// discarding frames from anyone else.
    fn recv_reply<P>(&mut self, pipes: &mut P) -> Result<P::Msg, RecvError>
    where
        P: Pipes<Peer = K>,
    {
        loop {
            let (peer, msg) = self.dealer.recv_from_peer(pipes)?;
            if self.reply_peer.is_none_or(|p| p == peer) {
                return Ok(msg);
            }
        }
    }

    /// Discards the rest of the reply whose frame `msg` was just read.
    fn skip_rest<P>(&mut self, pipes: &mut P, msg: &P::Msg) -> Result<(), RecvError>
    where
        P: Pipes<Peer = K>,
    {
        let mut more = msg.more();
        while more {
            more = self.recv_reply(pipes)?.more();
        }
        Ok(())
    }

    /// Sends the envelope that starts a request; returns the peer it went
    /// to.
    fn send_envelope<P>(&mut self, pipes: &mut P) -> Result<Option<K>, EnvelopeError>
    where
        P: Pipes<Peer = K>,
    {
        let mut peer = None;
        if self.correlate {
            self.request_id = self.request_id.wrapping_add(1);
            // libzmq sends the id in host byte order; only this socket
            // reads it back, so the order is invisible to peers.
            let mut id = P::Msg::try_from_parts(&[&self.request_id.to_ne_bytes()])
                .map_err(|_| EnvelopeError::TooLarge)?;
            id.set_more(true);
            peer = self
                .dealer
                .send_to_peer(pipes, id)
                .map_err(|_| EnvelopeError::WouldBlock)?;
        }
        let mut bottom = P::Msg::try_from_parts(&[]).map_err(|_| EnvelopeError::TooLarge)?;
        bottom.set_more(true);
        let bottom_peer = self
            .dealer
            .send_to_peer(pipes, bottom)
            .map_err(|_| EnvelopeError::WouldBlock)?;
        Ok(peer.or(bottom_peer))
    }
}

/// Why the envelope of a request could not be sent.
enum EnvelopeError {
    WouldBlock,
    TooLarge,
}

impl<S: Storage, K: PeerKey, P: Pipes<Peer = K>> Routing<P> for Req<S, K> {
    fn attach(
        &mut self,
        pipes: &mut P,
        peer: K,
        identity: PeerIdentity<'_>,
    ) -> Result<Attached<K>, AttachError> {
        self.dealer.attach(pipes, peer, identity)
    }

    fn detach(&mut self, pipes: &mut P, peer: K) {
        if self.reply_peer == Some(peer) {
            self.reply_peer = None;
        }
        self.dealer.detach(pipes, peer);
    }

    fn read_activated(&mut self, pipes: &mut P, peer: K) {
        self.dealer.read_activated(pipes, peer);
    }

    fn write_activated(&mut self, pipes: &mut P, peer: K) {
        self.dealer.write_activated(pipes, peer);
    }

    fn send(&mut self, pipes: &mut P, msg: P::Msg) -> Result<(), SendError<P::Msg>> {
        if self.receiving_reply {
            if self.strict {
                return Err(SendError::State(msg));
            }
            self.receiving_reply = false;
            self.message_begins = true;
        }
        if self.message_begins {
            self.reply_peer = match self.send_envelope(pipes) {
                Ok(peer) => peer,
                Err(EnvelopeError::WouldBlock) => return Err(SendError::WouldBlock(msg)),
                Err(EnvelopeError::TooLarge) => return Err(SendError::FrameTooLarge(msg)),
            };
            self.message_begins = false;
            // Discard whatever arrived before this request: a late reply to
            // an abandoned request must not pass for this one's.
            while self.dealer.recv_from_peer(pipes).is_ok() {}
        }
        let more = msg.more();
        self.dealer.send_to_peer(pipes, msg)?;
        if !more {
            self.receiving_reply = true;
            self.message_begins = true;
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut P) -> Result<P::Msg, RecvError> {
        if !self.receiving_reply {
            return Err(RecvError::State);
        }
        while self.message_begins {
            if self.correlate {
                let id = self.recv_reply(pipes)?;
                if !id.more() || id.bytes() != self.request_id.to_ne_bytes() {
                    self.skip_rest(pipes, &id)?;
                    continue;
                }
            }
            let bottom = self.recv_reply(pipes)?;
            if !bottom.more() || !bottom.is_empty() {
                self.skip_rest(pipes, &bottom)?;
                continue;
            }
            self.message_begins = false;
        }
        let msg = match self.recv_reply(pipes) {
            Ok(msg) => msg,
            Err(RecvError::Truncated) => {
                // The reply's peer left mid-reply: wait for a whole one.
                self.message_begins = true;
                return Err(RecvError::Truncated);
            }
            Err(e) => return Err(e),
        };
        if !msg.more() {
            self.receiving_reply = false;
            self.message_begins = true;
        }
        Ok(msg)
    }

    fn has_in(&mut self, pipes: &mut P) -> bool {
        self.receiving_reply && self.dealer.has_in(pipes)
    }

    fn has_out(&mut self, pipes: &mut P) -> bool {
        !(self.receiving_reply && self.strict) && self.dealer.has_out(pipes)
    }
}
