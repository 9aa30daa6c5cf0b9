//! STREAM: ROUTER-style routing over raw connections (no ZMTP).

use core::fmt;

use super::{
    AttachError, Attached, PeerIdentity, PeerKey, Pipes, RecvError, Router, Routing, SendError,
};
use crate::msg::Message;
use crate::storage::Storage;

/// STREAM: every message is `[routing id, data]`, as libzmq's `ZMQ_STREAM`.
///
/// ```text
///   received:  [routing id] [bytes as they arrived]   (one read's worth)
///              [routing id] []                        (connect / disconnect,
///                                                      with STREAM_NOTIFY)
///   sent:      [routing id] [bytes]                   (written raw)
///              [routing id] []                        (closes the connection)
/// ```
///
/// The peers speak no ZMTP, so none announces an id: each gets a generated
/// 5-byte id (a zero byte and a counter, as ROUTER) or, on a connection
/// this socket made, the id set with CONNECT_ROUTING_ID. Routing is
/// [`Router`]'s with three differences, all libzmq's:
///
/// - sending to an unknown id is always refused
///   ([`SendError::Unroutable`], libzmq's `EHOSTUNREACH`), and to a peer at
///   its high-water mark with [`SendError::WouldBlock`];
/// - a message has exactly two frames: the MORE flag of the data frame is
///   ignored, so the frame after it starts a new message;
/// - an empty data frame asks the socket layer to close that connection.
///   It is written to the peer's pipe like any frame, after the data sent
///   before it; the connection's engine closes the stream when it reaches
///   it (libzmq terminates the pipe instead, dropping what is still
///   queued).
pub struct Stream<S: Storage, K: PeerKey, M> {
    router: Router<S, K, M>,
    /// The routing-id frame was accepted; the data frame comes next.
    more_out: bool,
}

impl<S: Storage, K: PeerKey, M: Message> Stream<S, K, M> {
    /// CONFLATE has no effect on STREAM in libzmq.
    pub const CONFLATE_ALLOWED: bool = false;

    /// No peers. `first_generated_id` seeds the counter of generated
    /// routing ids (libzmq picks it at random).
    pub fn new(first_generated_id: u32) -> Self {
        let mut router = Router::new(first_generated_id);
        router.set_mandatory(true);
        Self {
            router,
            more_out: false,
        }
    }

    /// The routing id of `peer`.
    pub fn routing_id(&self, peer: K) -> Option<&[u8]> {
        self.router.routing_id(peer)
    }

    /// The peer with routing id `id`.
    pub fn peer(&self, id: &[u8]) -> Option<K> {
        self.router.peer(id)
    }

    /// Number of attached peers.
    pub fn peer_count(&self) -> usize {
        self.router.peer_count()
    }
}

impl<S: Storage, K: PeerKey, M> fmt::Debug for Stream<S, K, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("router", &self.router)
            .field("more_out", &self.more_out)
            .finish()
    }
}

impl<S: Storage, K: PeerKey, M: Message, P: Pipes<Peer = K, Msg = M>> Routing<P>
    for Stream<S, K, M>
{
    /// A raw peer announces nothing: only an id assigned with
    /// CONNECT_ROUTING_ID is kept, anything else gets a generated id.
    fn attach(
        &mut self,
        pipes: &mut P,
        peer: K,
        identity: PeerIdentity<'_>,
    ) -> Result<Attached<K>, AttachError> {
        let identity = match identity {
            PeerIdentity::Assigned(id) => PeerIdentity::Assigned(id),
            _ => PeerIdentity::Anonymous,
        };
        self.router.attach(pipes, peer, identity)
    }

    fn detach(&mut self, pipes: &mut P, peer: K) {
        self.router.detach(pipes, peer);
    }

    fn read_activated(&mut self, pipes: &mut P, peer: K) {
        self.router.read_activated(pipes, peer);
    }

    fn write_activated(&mut self, pipes: &mut P, peer: K) {
        self.router.write_activated(pipes, peer);
    }

    fn send(&mut self, pipes: &mut P, mut msg: M) -> Result<(), SendError<M>> {
        if self.more_out {
            // The data frame ends the message whatever its MORE flag says.
            msg.set_more(false);
            self.more_out = false;
            return self.router.send(pipes, msg);
        }
        let more = msg.more();
        self.router.send(pipes, msg)?;
        self.more_out = more;
        Ok(())
    }

    fn recv(&mut self, pipes: &mut P) -> Result<M, RecvError> {
        self.router.recv(pipes)
    }

    fn has_in(&mut self, pipes: &mut P) -> bool {
        self.router.has_in(pipes)
    }

    /// Always true, as libzmq: whether a message goes out depends on the
    /// peer its routing id names.
    fn has_out(&mut self, _pipes: &mut P) -> bool {
        true
    }
}
