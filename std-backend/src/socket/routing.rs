//! The core routing of each socket type, instantiated for the std backend
//! (heap storage, [`Msg`] frames, the socket's peer table) and dispatched
//! without dynamic calls.

use std::hash::{BuildHasher, RandomState};

use zlink_mq_core::routing::{
    AttachError, Attached, Dealer, Pair, PeerId, PeerIdentity, Pub, Pull, Push, RecvError, Rep,
    Req, Router, Routing, SendError, Stream, Sub, SubscribeError, XPub, XSub,
};
use zlink_mq_core::socket_type::SocketType;

use crate::base::msg::Msg;
use crate::base::storage::Heap;
use crate::socket::options::Options;
use crate::socket::peers::Peers;

/// One socket type's routing.
#[derive(Debug)]
pub(crate) enum AnyRouting {
    Pair(Pair<PeerId>),
    Pub(Pub<Heap, PeerId>),
    Sub(Sub<Heap, PeerId, Msg>),
    XPub(XPub<Heap, PeerId, Msg>),
    XSub(XSub<Heap, PeerId>),
    Dealer(Dealer<Heap, PeerId>),
    Router(Router<Heap, PeerId, Msg>),
    Req(Req<Heap, PeerId>),
    Rep(Rep<Heap, PeerId>),
    Push(Push<Heap, PeerId>),
    Pull(Pull<Heap, PeerId>),
    Stream(Stream<Heap, PeerId, Msg>),
}

/// A random start for generated routing ids and request ids, as libzmq
/// seeds them randomly.
fn random_u32() -> u32 {
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}

/// The routing for a new socket of type `kind`.
pub(crate) fn new(kind: SocketType, options: &Options) -> AnyRouting {
    let mut r = match kind {
        SocketType::Pair => AnyRouting::Pair(Pair::default()),
        SocketType::Pub => AnyRouting::Pub(Pub::new()),
        SocketType::Sub => AnyRouting::Sub(Sub::new()),
        SocketType::XPub => AnyRouting::XPub(XPub::new()),
        SocketType::XSub => AnyRouting::XSub(XSub::new()),
        SocketType::Dealer => AnyRouting::Dealer(Dealer::new()),
        SocketType::Router => AnyRouting::Router(Router::new(random_u32())),
        SocketType::Req => AnyRouting::Req(Req::new(random_u32())),
        SocketType::Rep => AnyRouting::Rep(Rep::new()),
        SocketType::Push => AnyRouting::Push(Push::new()),
        SocketType::Pull => AnyRouting::Pull(Pull::new()),
        SocketType::Stream => AnyRouting::Stream(Stream::new(random_u32())),
    };
    r.apply(options);
    r
}

macro_rules! dispatch {
    ($self:expr, $r:ident => $e:expr) => {
        match $self {
            AnyRouting::Pair($r) => $e,
            AnyRouting::Pub($r) => $e,
            AnyRouting::Sub($r) => $e,
            AnyRouting::XPub($r) => $e,
            AnyRouting::XSub($r) => $e,
            AnyRouting::Dealer($r) => $e,
            AnyRouting::Router($r) => $e,
            AnyRouting::Req($r) => $e,
            AnyRouting::Rep($r) => $e,
            AnyRouting::Push($r) => $e,
            AnyRouting::Pull($r) => $e,
            AnyRouting::Stream($r) => $e,
        }
    };
}

impl AnyRouting {
    /// Applies the options routing knows about.
    pub(crate) fn apply(&mut self, o: &Options) {
        match self {
            AnyRouting::Router(r) => {
                r.set_mandatory(o.router_mandatory);
                r.set_handover(o.router_handover);
            }
            AnyRouting::Req(r) => {
                r.set_correlate(o.req_correlate);
                r.set_relaxed(o.req_relaxed);
            }
            AnyRouting::Pub(r) => {
                r.set_nodrop(o.xpub_nodrop);
                r.set_invert_matching(o.invert_matching);
            }
            AnyRouting::XPub(r) => {
                // VERBOSER implies VERBOSE; each setter sets both flags, so
                // one call decides (calling both let `verboser = false`
                // switch VERBOSE off again).
                if o.xpub_verboser {
                    r.set_verboser(true);
                } else {
                    r.set_verbose(o.xpub_verbose);
                }
                r.set_nodrop(o.xpub_nodrop);
                r.set_invert_matching(o.invert_matching);
                r.set_manual(o.xpub_manual);
            }
            AnyRouting::Sub(r) => r.set_invert_matching(o.invert_matching),
            _ => {}
        }
    }

    /// A STREAM peer's routing id (`None` for other types).
    pub(crate) fn stream_routing_id(&self, peer: PeerId) -> Option<&[u8]> {
        match self {
            AnyRouting::Stream(s) => s.routing_id(peer),
            _ => None,
        }
    }

    /// SUBSCRIBE / UNSUBSCRIBE on a SUB socket, or an XPUB with
    /// XPUB_MANUAL. `None` if the socket has no such option.
    pub(crate) fn subscription(
        &mut self,
        peers: &mut Peers,
        topic: &[u8],
        subscribe: bool,
    ) -> Option<Result<(), SubscribeError>> {
        match self {
            AnyRouting::Sub(s) => Some(if subscribe {
                s.subscribe(peers, topic)
            } else {
                s.unsubscribe(peers, topic)
            }),
            AnyRouting::XPub(x) if x.manual() => Some(if subscribe {
                x.subscribe(topic)
            } else {
                x.unsubscribe(topic);
                Ok(())
            }),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn attach(
        &mut self,
        peers: &mut Peers,
        peer: PeerId,
        identity: PeerIdentity<'_>,
    ) -> Result<Attached<PeerId>, AttachError> {
        dispatch!(self, r => r.attach(peers, peer, identity))
    }

    #[inline]
    pub(crate) fn detach(&mut self, peers: &mut Peers, peer: PeerId) {
        dispatch!(self, r => r.detach(peers, peer))
    }

    #[inline]
    pub(crate) fn read_activated(&mut self, peers: &mut Peers, peer: PeerId) {
        dispatch!(self, r => r.read_activated(peers, peer))
    }

    #[inline]
    pub(crate) fn write_activated(&mut self, peers: &mut Peers, peer: PeerId) {
        dispatch!(self, r => r.write_activated(peers, peer))
    }

    #[inline]
    pub(crate) fn send(&mut self, peers: &mut Peers, msg: Msg) -> Result<(), SendError<Msg>> {
        dispatch!(self, r => r.send(peers, msg))
    }

    #[inline]
    pub(crate) fn recv(&mut self, peers: &mut Peers) -> Result<Msg, RecvError> {
        dispatch!(self, r => r.recv(peers))
    }

    #[inline]
    pub(crate) fn has_in(&mut self, peers: &mut Peers) -> bool {
        dispatch!(self, r => r.has_in(peers))
    }

    #[inline]
    pub(crate) fn has_out(&mut self, peers: &mut Peers) -> bool {
        dispatch!(self, r => r.has_out(peers))
    }
}
