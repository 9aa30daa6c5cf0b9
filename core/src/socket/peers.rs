//! The socket's peer table, seen by routing as its [`Pipes`].

use core::fmt;

use super::link::Link;
use crate::msg::Frame;
use crate::routing::{PeerId, Pipes};
use crate::zmtp::mechanism::Mechanism;

/// A [`Socket`](super::Socket)'s peers: `PEERS` slots, each a stream, its
/// ZMTP connection and its buffers. Routing reaches them through
/// [`Pipes`]; applications only name this type in the bounds of their own
/// generic code.
///
/// The high-water marks are in bytes: a peer "can take a message" when its
/// output buffer has room for the whole encoded message, and its inbound
/// queue holds as many whole messages as fit in `BUF` bytes.
pub struct Peers<T, X: Mechanism, const PEERS: usize, const BUF: usize> {
    pub(crate) links: [Link<T, X, BUF>; PEERS],
    /// Encoded size of the message about to be sent: the room
    /// [`check_write`](Pipes::check_write) asks for, and that the first
    /// frame of a message needs to be written.
    pub(crate) reserve: usize,
    /// Frames of that message: a link that seals frames (CURVE) reserves
    /// its sealing overhead for each.
    pub(crate) frames: usize,
    /// SUB / XSUB: outbound subscription messages become SUBSCRIBE /
    /// CANCEL commands.
    pub(crate) subscriptions_out: bool,
}

impl<T, X: Mechanism, const PEERS: usize, const BUF: usize> Peers<T, X, PEERS, BUF> {
    pub(crate) fn new(subscriptions_out: bool) -> Self {
        Self {
            links: core::array::from_fn(|_| Link::new()),
            reserve: 0,
            frames: 0,
            subscriptions_out,
        }
    }

    pub(crate) fn link(&self, peer: PeerId) -> Option<&Link<T, X, BUF>> {
        self.links.get(peer.0 as usize)
    }

    /// The largest sealing overhead per frame among the attached peers
    /// (CURVE's MESSAGE; 0 for NULL and PLAIN).
    pub(crate) fn seal_overhead(&self) -> usize {
        self.links
            .iter()
            .filter_map(|l| l.conn.as_ref()?.mechanism().seal_overhead())
            .max()
            .unwrap_or(0)
    }

    pub(crate) fn link_mut(&mut self, peer: PeerId) -> Option<&mut Link<T, X, BUF>> {
        self.links.get_mut(peer.0 as usize)
    }
}

impl<T, X: Mechanism, const PEERS: usize, const BUF: usize> fmt::Debug for Peers<T, X, PEERS, BUF> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.links.iter().map(|l| l.state))
            .finish()
    }
}

impl<T, X: Mechanism, const PEERS: usize, const BUF: usize> Pipes for Peers<T, X, PEERS, BUF> {
    type Peer = PeerId;
    type Msg = Frame<BUF>;

    fn check_write(&mut self, peer: PeerId) -> bool {
        let (reserve, frames) = (self.reserve, self.frames);
        self.link_mut(peer)
            .is_some_and(|link| link.check_write(reserve, frames))
    }

    fn write(&mut self, peer: PeerId, frame: Frame<BUF>) -> Result<(), Frame<BUF>> {
        let (subscriptions, reserve, frames) = (self.subscriptions_out, self.reserve, self.frames);
        match self.link_mut(peer) {
            Some(link) => link.write(frame, subscriptions, reserve, frames),
            None => Err(frame),
        }
    }

    fn rollback(&mut self, peer: PeerId) {
        if let Some(link) = self.link_mut(peer) {
            link.rollback();
        }
    }

    fn flush(&mut self, peer: PeerId) {
        if let Some(link) = self.link_mut(peer) {
            link.flush();
        }
    }

    fn check_read(&mut self, peer: PeerId) -> bool {
        self.link(peer).is_some_and(Link::check_read)
    }

    fn read(&mut self, peer: PeerId) -> Option<Frame<BUF>> {
        self.link_mut(peer)?.read()
    }
}
