//! ROUTER (RFC 28): addresses peers by routing id.

use core::fmt;

use super::peers::PeerTable;
use super::{
    AttachError, Attached, FairQueue, PeerIdentity, PeerKey, Pipes, RecvError, Routing, SendError,
};
use crate::msg::Message;
use crate::storage::{ByteMap, Bytes, Storage};

/// Length of a generated routing id: a zero byte, then a 32-bit counter
/// in network byte order (libzmq's format, so ids never collide with the
/// non-zero first byte libzmq reserves for application ids).
pub const GENERATED_ID_LEN: usize = 5;

/// Where ROUTER's receive side is within a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Receiving<K> {
    /// The next frame returned is the routing id of a new message's peer.
    Start,
    /// The routing-id frame was returned; the message's frames from this
    /// peer follow.
    Body(K),
}

/// ROUTER: every message carries its peer's routing id in front.
///
/// ```text
///   received:  [routing id] frame... (the id frame is added by ROUTER)
///   sent:      [routing id] frame... (the id frame picks the peer and is
///                                     not sent)
/// ```
///
/// - Receives whole messages from each peer in turn (fair-queued).
/// - A peer is known by the routing id it announced in its handshake, the
///   id this socket assigned with CONNECT_ROUTING_ID, or else a generated
///   5-byte id (a zero byte and a counter, as libzmq).
/// - Sending to an unknown id, or to a peer at its high-water mark, drops
///   the message silently; with ROUTER_MANDATORY it is refused instead
///   ([`SendError::Unroutable`], [`SendError::WouldBlock`]).
/// - A second peer announcing an id in use is refused
///   ([`AttachError::DuplicateRoutingId`]); with ROUTER_HANDOVER it takes
///   the id over and the old peer is reported in
///   [`Attached::replaced`] (with a generated id until it is detached).
pub struct Router<S: Storage, K: PeerKey, M> {
    input: FairQueue<S, K>,
    /// Routing id → peer.
    by_id: S::Table<K>,
    /// Peer → routing id.
    ids: PeerTable<S, S::Bytes>,
    next_id: u32,
    mandatory: bool,
    handover: bool,
    receiving: Receiving<K>,
    /// The peer the message being sent goes to; `None` drops it.
    current_out: Option<K>,
    /// The routing-id frame of a message was sent; its frames follow.
    more_out: bool,
    /// The first frame of the message whose routing id was returned: read
    /// together with choosing the peer (as libzmq's prefetch), so a message
    /// costs one read of its pipe, not a readiness check and then a read.
    prefetched: Option<M>,
}

impl<S: Storage, K: PeerKey, M: Message> Router<S, K, M> {
    /// CONFLATE has no effect on ROUTER in libzmq.
    pub const CONFLATE_ALLOWED: bool = false;

    /// No peers. `first_generated_id` seeds the counter of generated
    /// routing ids; libzmq picks it at random, and so should the socket
    /// layer.
    pub fn new(first_generated_id: u32) -> Self {
        Self {
            input: FairQueue::new(),
            by_id: Default::default(),
            ids: PeerTable::new(),
            next_id: first_generated_id,
            mandatory: false,
            handover: false,
            receiving: Receiving::Start,
            current_out: None,
            more_out: false,
            prefetched: None,
        }
    }

    /// ROUTER_MANDATORY: refuse unroutable messages instead of dropping
    /// them.
    pub fn set_mandatory(&mut self, on: bool) {
        self.mandatory = on;
    }

    /// ROUTER_HANDOVER: a new peer announcing a routing id in use takes it
    /// over from the old peer.
    pub fn set_handover(&mut self, on: bool) {
        self.handover = on;
    }

    /// The routing id of `peer`.
    pub fn routing_id(&self, peer: K) -> Option<&[u8]> {
        self.ids.get(peer).map(Bytes::as_slice)
    }

    /// The peer with routing id `id`.
    pub fn peer(&self, id: &[u8]) -> Option<K> {
        self.by_id.get(id).copied()
    }

    /// Number of attached peers.
    pub fn peer_count(&self) -> usize {
        self.input.len()
    }

    /// The peer whose message is being received (its routing-id frame has
    /// been returned), if any. A peer replaced by ROUTER_HANDOVER is best
    /// detached once it is no longer this one.
    pub fn receiving_from(&self) -> Option<K> {
        match self.receiving {
            Receiving::Body(peer) => Some(peer),
            Receiving::Start => None,
        }
    }

    /// A fresh generated routing id, unused by any peer.
    fn generate_id(&mut self) -> [u8; GENERATED_ID_LEN] {
        loop {
            let n = self.next_id;
            self.next_id = n.wrapping_add(1);
            let [a, b, c, d] = n.to_be_bytes();
            let id = [0, a, b, c, d];
            if self.by_id.get(&id).is_none() {
                return id;
            }
        }
    }
}

impl<S: Storage, K: PeerKey, M> fmt::Debug for Router<S, K, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("input", &self.input)
            .field("mandatory", &self.mandatory)
            .field("handover", &self.handover)
            .field("receiving", &self.receiving)
            .field("current_out", &self.current_out)
            .field("more_out", &self.more_out)
            .finish_non_exhaustive()
    }
}

impl<S: Storage, K: PeerKey, M: Message, P: Pipes<Peer = K, Msg = M>> Routing<P>
    for Router<S, K, M>
{
    fn attach(
        &mut self,
        _pipes: &mut P,
        peer: K,
        identity: PeerIdentity<'_>,
    ) -> Result<Attached<K>, AttachError> {
        if self.ids.get(peer).is_some() {
            return Err(AttachError::AlreadyAttached);
        }
        let generated;
        let (id, replaced): (&[u8], Option<K>) = match identity {
            PeerIdentity::Assigned(id) if !id.is_empty() => {
                if self.by_id.get(id).is_some() {
                    return Err(AttachError::DuplicateRoutingId);
                }
                (id, None)
            }
            PeerIdentity::Announced(id) if !id.is_empty() => match self.by_id.get(id) {
                None => (id, None),
                Some(_) if !self.handover => return Err(AttachError::DuplicateRoutingId),
                Some(&old) => (id, Some(old)),
            },
            _ => {
                generated = self.generate_id();
                (&generated, None)
            }
        };
        let stored = S::Bytes::try_from_slice(id).ok_or(AttachError::CapacityExceeded)?;
        let renamed = match replaced {
            Some(_) => {
                let new_id = self.generate_id();
                let stored =
                    S::Bytes::try_from_slice(&new_id).ok_or(AttachError::CapacityExceeded)?;
                Some((new_id, stored))
            }
            None => None,
        };

        self.input.attach(peer)?;
        if self.ids.set(peer, stored).is_err() {
            self.input.detach(peer);
            return Err(AttachError::CapacityExceeded);
        }
        let mapped = match (replaced, renamed) {
            (Some(old), Some((new_id, new_stored))) => {
                // The old peer keeps working under a generated id until the
                // socket layer terminates it; the new one takes its id.
                if self.by_id.insert(&new_id, old).is_ok() {
                    if let Some(owner) = self.by_id.get_mut(id) {
                        *owner = peer;
                    }
                    let _ = self.ids.set(old, new_stored);
                    true
                } else {
                    false
                }
            }
            _ => self.by_id.insert(id, peer).is_ok(),
        };
        if !mapped {
            self.ids.remove(peer);
            self.input.detach(peer);
            return Err(AttachError::CapacityExceeded);
        }
        Ok(Attached { replaced })
    }

    fn detach(&mut self, _pipes: &mut P, peer: K) {
        if let Some(id) = self.ids.remove(peer) {
            if self.by_id.get(id.as_slice()) == Some(&peer) {
                self.by_id.remove(id.as_slice());
            }
        }
        self.input.detach(peer);
        if self.current_out == Some(peer) {
            // The rest of the message being sent to it is dropped.
            self.current_out = None;
        }
        if self.receiving == Receiving::Body(peer) {
            match &self.prefetched {
                // The whole message was read before the peer left: it is
                // still delivered.
                Some(first) if !first.more() => {}
                // The fair queue reports the truncation on the next
                // receive.
                _ => {
                    self.prefetched = None;
                    self.receiving = Receiving::Start;
                }
            }
        }
    }

    fn read_activated(&mut self, _pipes: &mut P, peer: K) {
        self.input.activated(peer);
    }

    /// ROUTER keeps no list of writable peers: it asks the peer's pipe on
    /// each message.
    fn write_activated(&mut self, _pipes: &mut P, _peer: K) {}

    fn send(&mut self, pipes: &mut P, msg: P::Msg) -> Result<(), SendError<P::Msg>> {
        if !self.more_out {
            // The first frame is the routing id. A lone id frame (no
            // message after it) is ignored, as libzmq does.
            if msg.more() {
                match self.by_id.get(msg.bytes()).copied() {
                    Some(peer) if pipes.check_write(peer) => self.current_out = Some(peer),
                    Some(_) if self.mandatory => return Err(SendError::WouldBlock(msg)),
                    None if self.mandatory => return Err(SendError::Unroutable(msg)),
                    _ => self.current_out = None,
                }
                self.more_out = true;
            }
            return Ok(());
        }
        let more = msg.more();
        self.more_out = more;
        if let Some(peer) = self.current_out {
            if pipes.write(peer, msg).is_err() {
                // The HWM was checked on the id frame: the peer is gone.
                pipes.rollback(peer);
                self.current_out = None;
            } else if !more {
                pipes.flush(peer);
                self.current_out = None;
            }
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut P) -> Result<P::Msg, RecvError> {
        if let Receiving::Body(_) = self.receiving {
            if let Some(first) = self.prefetched.take() {
                if !first.more() {
                    self.receiving = Receiving::Start;
                }
                return Ok(first);
            }
            let result = self.input.recv(pipes);
            if !matches!(&result, Ok((_, msg)) if msg.more()) {
                self.receiving = Receiving::Start;
            }
            return result.map(|(_, msg)| msg);
        }
        let (peer, first) = self.input.recv(pipes)?;
        let id = self.ids.get(peer).map_or(&[][..], Bytes::as_slice);
        match P::Msg::try_from_parts(&[id]) {
            Ok(mut frame) => {
                frame.set_more(true);
                frame.inherit_origin(&first);
                self.receiving = Receiving::Body(peer);
                self.prefetched = Some(first);
                Ok(frame)
            }
            Err(_) => {
                // The id cannot be delivered, so neither can the message.
                let mut more = first.more();
                while more {
                    match self.input.recv(pipes) {
                        Ok((_, msg)) => more = msg.more(),
                        Err(_) => break,
                    }
                }
                Err(RecvError::FrameTooLarge)
            }
        }
    }

    fn has_in(&mut self, pipes: &mut P) -> bool {
        matches!(self.receiving, Receiving::Body(_)) || self.input.has_in(pipes)
    }

    /// Always true, except with ROUTER_MANDATORY: then whether some peer
    /// can take a message (libzmq's answer; it scans every peer).
    fn has_out(&mut self, pipes: &mut P) -> bool {
        !self.mandatory || self.input.peers().iter().any(|&p| pipes.check_write(p))
    }
}
