//! A complete `no_std` ZeroMQ socket over `embedded_io` byte streams:
//! [`Socket`], for firmware.
//!
//! A [`Socket`] owns everything a socket needs, inline and of fixed size
//! (no allocation anywhere, so it can live in a `static`): its socket
//! type's [routing](crate::routing) with [`Fixed`](crate::storage::Fixed)
//! storage, and `PEERS` peer slots, each holding a stream, its
//! [`zmtp::Connection`](crate::zmtp::Connection) and three `BUF`-byte
//! buffers. The caller supplies the streams (any
//! [`embedded_io`] `Read + Write + ReadReady + WriteReady`, already
//! connected: TCP, a UART, a USB CDC pipe) and the time; the socket does
//! the rest: greeting, security handshake, framing, heartbeats, the socket
//! type's routing, subscriptions.
//!
//! ```text
//!   application:  send(&[frames]) ─▶ routing ─▶ peer's tx buffer ─▶ stream
//!                 recv() ◀─ routing ◀─ peer's inbound queue ◀─ rx ◀─ stream
//!   poll(now):    moves bytes between streams and buffers, runs timers
//! ```
//!
//! # Driving it
//!
//! - [`attach`](Socket::attach) a connected stream with the security
//!   mechanism for its side of the handshake (`Null::new(false)` as
//!   client, `Null::new(true)` as server, `PlainClient`, `PlainServer`).
//! - Call [`poll`](Socket::poll) whenever a stream may be readable or
//!   writable, after sending, and no later than
//!   [`poll_at`](Socket::poll_at). It never blocks: it reads only when
//!   `read_ready()` and writes only when `write_ready()` say so (the
//!   non-blocking convention of `embedded_io`).
//! - Take [`PeerEvent`]s with [`poll_event`](Socket::poll_event): a peer
//!   finished its handshake, or its connection ended (the stream is handed
//!   back, to close or reconnect).
//! - [`send`](Socket::send) whole messages, [`recv`](Socket::recv) frames.
//!   Both only touch buffers: bytes move in the next `poll`.
//!
//! # Sizes
//!
//! `BUF` sizes each peer's connection (its largest command, metadata and
//! handshake staging: about `4 * BUF` bytes) and its three buffers; a peer
//! slot takes about `7 * BUF` bytes plus the mechanism. 256 bytes suit NULL
//! security and short messages; PLAIN needs room for its credentials.
//! Received data frames are limited to [`Socket::MAX_FRAME_LEN`] (a larger
//! one is a protocol error, as libzmq's MAXMSGSIZE), and a sent message,
//! encoded, to `BUF` less [`SEND_SLACK`] bytes. CURVE seals every frame in
//! a MESSAGE of [`MESSAGE_OVERHEAD`](crate::zmtp::curve::MESSAGE_OVERHEAD)
//! more bytes, which come off both limits (per frame); CURVE's INITIATE
//! needs `BUF` of at least 257 bytes plus the metadata.
//!
//! Subscriptions: a PUB or XPUB takes a peer's SUBSCRIBE or CANCEL command
//! of up to `BUF` bytes (the topic, the name and its length byte); a longer
//! one is refused as libzmq refuses a frame over MAXMSGSIZE, by ending that
//! peer's connection with [`FrameError::CommandTooLarge`] (other peers are
//! not affected). A topic that arrives but does not fit the routing's
//! storage (`KEY_LEN`, `TOPICS`) is not stored and that peer misses it
//! (counted by the routing's `rejected_subscriptions`). A SUB refuses, with
//! [`SubscribeError::FrameTooLarge`], to subscribe to a topic whose
//! SUBSCRIBE command would not fit `BUF`.
//!
//! [`FrameError::CommandTooLarge`]: crate::zmtp::frame::FrameError::CommandTooLarge
//!
//! High-water marks are in bytes: a peer can take a message when its output
//! buffer has room for all of it, and holds as many received whole
//! messages as its inbound queue fits. What happens at the mark is the
//! socket type's (PUB drops, PUSH and DEALER report
//! [`SendError::WouldBlock`], ...).
//!
//! # Why no ypipe
//!
//! The ypipe exists to hand messages between threads with one atomic
//! operation per batch and a sleep/wake protocol. This socket is owned by
//! one execution context (every method takes `&mut self`) and moves bytes
//! in `poll`, so plain buffers suffice: no atomics (thumbv6m has no
//! compare-and-swap), no signaler, and no message objects in flight, just
//! encoded bytes. Outbound messages are encoded straight into the peer's
//! output buffer when routing writes them, so they are copied once;
//! inbound frames are copied once out of the read buffer into the inbound
//! queue. To share a socket with an interrupt handler, put it in a
//! `critical_section::Mutex<RefCell<_>>`.
//!
//! # Example
//!
//! A PUSH and a PULL over an in-memory stream pair:
//!
//! ```
//! # use std::{cell::RefCell, collections::VecDeque, convert::Infallible, rc::Rc};
//! # /// One end of an in-memory duplex byte stream.
//! # struct End { rx: Rc<RefCell<VecDeque<u8>>>, tx: Rc<RefCell<VecDeque<u8>>> }
//! # fn pair() -> (End, End) {
//! #     let a: Rc<RefCell<VecDeque<u8>>> = Rc::default();
//! #     let b: Rc<RefCell<VecDeque<u8>>> = Rc::default();
//! #     (End { rx: a.clone(), tx: b.clone() }, End { rx: b, tx: a })
//! # }
//! # impl embedded_io::ErrorType for End { type Error = Infallible; }
//! # impl embedded_io::Read for End {
//! #     fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
//! #         let mut rx = self.rx.borrow_mut();
//! #         let n = buf.len().min(rx.len());
//! #         for (d, s) in buf.iter_mut().zip(rx.drain(..n)) { *d = s }
//! #         Ok(n)
//! #     }
//! # }
//! # impl embedded_io::ReadReady for End {
//! #     fn read_ready(&mut self) -> Result<bool, Infallible> { Ok(!self.rx.borrow().is_empty()) }
//! # }
//! # impl embedded_io::Write for End {
//! #     fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
//! #         self.tx.borrow_mut().extend(buf);
//! #         Ok(buf.len())
//! #     }
//! #     fn flush(&mut self) -> Result<(), Infallible> { Ok(()) }
//! # }
//! # impl embedded_io::WriteReady for End {
//! #     fn write_ready(&mut self) -> Result<bool, Infallible> { Ok(true) }
//! # }
//! use zlink_mq_core::msg::Message;
//! use zlink_mq_core::routing::{PeerId, Pull, Push};
//! use zlink_mq_core::socket::{Options, PeerEvent, Socket};
//! use zlink_mq_core::storage::Fixed;
//! use zlink_mq_core::time::Instant;
//! use zlink_mq_core::zmtp::null::Null;
//!
//! // One peer, 256-byte buffers; routing storage for one peer.
//! type Pusher = Socket<Push<Fixed<1, 1, 8>, PeerId>, End, Null, 1, 256>;
//! type Puller = Socket<Pull<Fixed<1, 1, 8>, PeerId>, End, Null, 1, 256>;
//!
//! let (a, b) = pair();
//! let now = Instant::ZERO;
//! let mut push = Pusher::new(Push::new(), Options::new());
//! let mut pull = Puller::new(Pull::new(), Options::new());
//! push.attach(a, Null::new(false), now).unwrap();
//! pull.attach(b, Null::new(true), now).unwrap();
//!
//! // Handshake.
//! while push.connected_peers() == 0 || pull.connected_peers() == 0 {
//!     push.poll(now);
//!     pull.poll(now);
//! }
//! assert!(matches!(push.poll_event(), Some(PeerEvent::Connected(_))));
//!
//! push.send(&[b"temperature", b"21.5"]).unwrap();
//! push.poll(now);
//! pull.poll(now);
//! let topic = pull.recv().unwrap();
//! assert_eq!((topic.bytes(), topic.more()), (&b"temperature"[..], true));
//! assert_eq!(pull.recv().unwrap().bytes(), b"21.5");
//! ```
#![forbid(unsafe_code)]

use core::fmt;
use core::time::Duration;

use embedded_io::{Read, ReadReady, Write, WriteReady};

use crate::msg::Frame;
use crate::routing::{
    Dealer, Pair, PeerId, PeerIdentity, PeerKey, Pub, Pull, Push, RecvError, Rep, Req, Router,
    Routing, Sub, SubscribeError, XPub, XSub,
};
use crate::socket_type::SocketType;
use crate::storage::Storage;
use crate::time::Instant;
use crate::zmtp::connection::DEFAULT_HANDSHAKE_IVL;
use crate::zmtp::frame::{MAX_HEADER_LEN, header_len};
use crate::zmtp::heartbeat::Heartbeat;
use crate::zmtp::mechanism::{AuthVerdict, Credentials, Mechanism};
use crate::zmtp::metadata::MAX_IDENTITY_LEN;
use crate::zmtp::{Config, Connection};

mod buffer;
mod error;
mod link;
mod peers;

pub use error::{AttachError, DisconnectReason, Rejected, SendError};
pub use peers::Peers;

use link::{Ctx, State};

/// Bytes of a peer's output buffer that a sent message leaves free for
/// what routing and the protocol add to it: REQ's envelope (an empty
/// delimiter, and with REQ_CORRELATE a 4-byte request id) or, for XSUB,
/// a subscription message turned into a longer SUBSCRIBE command.
pub const SEND_SLACK: usize = 16;

/// The socket type a routing implements: ties each core routing type to
/// the type the socket announces in its handshake.
pub trait SocketKind {
    /// The type announced in READY and checked against the peer's.
    const SOCKET_TYPE: SocketType;
}

macro_rules! socket_kind {
    ($($kind:ident <$($p:ident),*> => $t:ident),* $(,)?) => {$(
        impl<S: Storage, K: PeerKey $(, $p)*> SocketKind for $kind<S, K $(, $p)*> {
            const SOCKET_TYPE: SocketType = SocketType::$t;
        }
    )*};
}

socket_kind! {
    Pub<> => Pub,
    Sub<M> => Sub,
    XPub<M> => XPub,
    XSub<> => XSub,
    Dealer<> => Dealer,
    Router<M> => Router,
    Req<> => Req,
    Rep<> => Rep,
    Push<> => Push,
    Pull<> => Pull,
}

impl<K: PeerKey> SocketKind for Pair<K> {
    const SOCKET_TYPE: SocketType = SocketType::Pair;
}

/// A socket's connection options (libzmq's names in parentheses).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Our routing id (ROUTING_ID), announced by REQ, DEALER and ROUTER
    /// sockets: at most 255 bytes, not starting with a zero byte. Empty
    /// for none.
    pub routing_id: &'static [u8],
    /// The handshake must complete within this (HANDSHAKE_IVL; `None`:
    /// no limit).
    pub handshake_ivl: Option<Duration>,
    /// Heartbeats (HEARTBEAT_IVL, HEARTBEAT_TIMEOUT, HEARTBEAT_TTL).
    pub heartbeat: Heartbeat,
    /// Largest data frame accepted from a peer (MAXMSGSIZE, checked per
    /// frame); never more than [`Socket::MAX_FRAME_LEN`].
    pub max_msg_size: Option<u64>,
    /// The verdict on a PLAIN client's credentials, for peers attached
    /// with a PLAIN server mechanism (`None`: accept everyone, as libzmq
    /// does without a ZAP handler).
    pub authenticate: Option<fn(Credentials<'_>) -> AuthVerdict>,
}

impl Options {
    /// libzmq's defaults: no routing id, a 30 s handshake limit, no
    /// heartbeats, no size limit beyond the buffers, anyone accepted.
    pub const fn new() -> Options {
        Options {
            routing_id: &[],
            handshake_ivl: Some(DEFAULT_HANDSHAKE_IVL),
            heartbeat: Heartbeat {
                ivl: None,
                timeout: None,
                ttl: None,
            },
            max_msg_size: None,
            authenticate: None,
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

/// Something that happened to a peer, from
/// [`Socket::poll_event`].
pub enum PeerEvent<T> {
    /// The peer completed its handshake: messages flow.
    Connected(PeerId),
    /// The peer's connection ended. Its slot is free again; here is its
    /// stream, to close or to reconnect and attach anew.
    Disconnected {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: DisconnectReason,
        /// Its stream.
        stream: T,
    },
}

impl<T> fmt::Debug for PeerEvent<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerEvent::Connected(peer) => f.debug_tuple("Connected").field(peer).finish(),
            PeerEvent::Disconnected { peer, reason, .. } => f
                .debug_struct("Disconnected")
                .field("peer", peer)
                .field("reason", reason)
                .finish_non_exhaustive(),
        }
    }
}

/// Where a peer is, from [`Socket::peer_state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    /// Greeting and security handshake under way.
    Handshaking,
    /// Handshake complete: messages flow.
    Connected,
    /// The connection ended; the [`PeerEvent::Disconnected`] carrying its
    /// stream has not been taken yet.
    Disconnected(DisconnectReason),
}

/// A ZeroMQ socket for firmware: `no_std`, no allocation, over
/// `embedded_io` streams. See the [module documentation](self) for how to
/// drive it.
///
/// - `R`: the socket type's routing, e.g. `Pub<Fixed<PEERS, TOPICS,
///   KEY_LEN>, PeerId>` ([`SocketKind`] names its type). Its storage must
///   have room for `PEERS` peers.
/// - `T`: the stream type, `Read + Write + ReadReady + WriteReady`.
/// - `X`: the security mechanism of every peer (`Null`, `PlainClient`,
///   `PlainServer`, or `AnyMechanism` to mix them).
/// - `PEERS`: peer slots.
/// - `BUF`: bytes per peer buffer; frames are [`Frame<BUF>`].
pub struct Socket<R, T, X: Mechanism, const PEERS: usize, const BUF: usize> {
    routing: R,
    peers: Peers<T, X, PEERS, BUF>,
    options: Options,
}

impl<R, T, X: Mechanism, const PEERS: usize, const BUF: usize> fmt::Debug
    for Socket<R, T, X, PEERS, BUF>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("peers", &self.peers)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<R, T, X, const PEERS: usize, const BUF: usize> Socket<R, T, X, PEERS, BUF>
where
    R: SocketKind + Routing<Peers<T, X, PEERS, BUF>>,
    T: Read + Write + ReadReady + WriteReady,
    X: Mechanism,
{
    /// The largest data frame a peer may send us: `BUF` less the longest
    /// frame header, so that a whole frame fits the read buffer (less
    /// CURVE's sealing overhead on a CURVE link).
    pub const MAX_FRAME_LEN: usize = BUF.saturating_sub(MAX_HEADER_LEN);

    /// A socket with no peers yet.
    pub fn new(routing: R, options: Options) -> Self {
        let subscriptions_out = matches!(R::SOCKET_TYPE, SocketType::Sub | SocketType::XSub);
        Self {
            routing,
            peers: Peers::new(subscriptions_out),
            options,
        }
    }

    /// The socket type.
    pub fn socket_type(&self) -> SocketType {
        R::SOCKET_TYPE
    }

    /// The routing, to read its state (e.g. a ROUTER peer's routing id).
    pub fn routing(&self) -> &R {
        &self.routing
    }

    /// The routing, to set the options it owns (ROUTER_MANDATORY,
    /// REQ_CORRELATE, INVERT_MATCHING, ...).
    pub fn routing_mut(&mut self) -> &mut R {
        &mut self.routing
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The options, for peers attached from now on.
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.options
    }

    /// Takes a connected stream as a new peer. `mechanism` is this side's
    /// security mechanism and role (NULL's role only shows in the
    /// greeting; PLAIN's decides who authenticates whom). The greeting is
    /// sent at the next [`poll`](Socket::poll); the handshake deadline
    /// runs from `now`.
    ///
    /// # Errors
    /// [`Rejected`], with the stream: no free slot, or the options do not
    /// fit `BUF`.
    pub fn attach(&mut self, stream: T, mechanism: X, now: Instant) -> Result<PeerId, Rejected<T>> {
        let Some(index) = self.peers.links.iter().position(|l| l.state == State::Free) else {
            return Err(Rejected {
                error: AttachError::NoRoom,
                stream,
            });
        };
        let mut config = Config::new(R::SOCKET_TYPE);
        config.identity = self.options.routing_id;
        // A sealed frame (CURVE) must fit the buffers with its overhead.
        let seal = mechanism.seal_overhead().unwrap_or(0);
        let max = Self::MAX_FRAME_LEN.saturating_sub(seal) as u64;
        config.max_msg_size = Some(self.options.max_msg_size.map_or(max, |m| m.min(max)));
        config.handshake_ivl = self.options.handshake_ivl;
        config.heartbeat = self.options.heartbeat;
        match Connection::new(&config, mechanism, now) {
            Ok(conn) => {
                self.peers.links[index].open(stream, conn);
                Ok(PeerId(index as u32))
            }
            Err(e) => Err(Rejected {
                error: AttachError::Config(e),
                stream,
            }),
        }
    }

    /// Ends a peer's connection now and hands its stream back. Output
    /// still buffered is written as far as the stream takes it without
    /// blocking; the rest is dropped. `None` if the slot holds no stream.
    pub fn detach(&mut self, peer: PeerId) -> Option<T> {
        let link = self.peers.link_mut(peer)?;
        let attached = link.state == State::Attached || link.draining;
        if link.is_open() {
            // The reason is never seen: the slot is freed right away.
            link.close(DisconnectReason::Eof, false);
        }
        link.draining = false;
        if attached {
            self.routing.detach(&mut self.peers, peer);
        }
        self.peers.link_mut(peer)?.free()
    }

    /// Where `peer` is; `None` for a free slot.
    pub fn peer_state(&self, peer: PeerId) -> Option<PeerState> {
        match self.peers.link(peer)?.state {
            State::Free => None,
            State::Handshake => Some(PeerState::Handshaking),
            State::Attached => Some(PeerState::Connected),
            State::Closed(reason) => Some(PeerState::Disconnected(reason)),
        }
    }

    /// The protocol state of `peer`'s connection (its metadata, its PLAIN
    /// user name, ...), while it is open.
    pub fn connection(&self, peer: PeerId) -> Option<&Connection<X, BUF>> {
        self.peers.link(peer)?.conn.as_ref()
    }

    /// Number of peers whose handshake is complete.
    pub fn connected_peers(&self) -> usize {
        self.peers
            .links
            .iter()
            .filter(|l| l.state == State::Attached)
            .count()
    }

    /// Moves bytes between every stream and its buffers, without blocking:
    /// writes queued output, reads and decodes input (as far as the
    /// inbound queues have room), runs the handshakes and fires the
    /// protocol timers due at `now` (handshake timeout, heartbeats).
    /// Peers whose connection ends are reported by
    /// [`poll_event`](Socket::poll_event).
    pub fn poll(&mut self, now: Instant) {
        let ctx = Ctx {
            socket_type: R::SOCKET_TYPE,
            authenticate: self.options.authenticate,
        };
        // What routing writes here (SUB's subscriptions on attach) is
        // small and has no message size to reserve.
        self.peers.reserve = 0;
        self.peers.frames = 1;
        for index in 0..PEERS {
            let peer = PeerId(index as u32);
            self.finish_draining(peer);
            loop {
                let link = &mut self.peers.links[index];
                if !link.is_open() {
                    break;
                }
                let wake = match link.pump(now, &ctx) {
                    Ok(wake) => wake,
                    Err(reason) => {
                        self.close(peer, reason);
                        break;
                    }
                };
                if wake.readable {
                    self.routing.read_activated(&mut self.peers, peer);
                }
                if wake.writable {
                    self.routing.write_activated(&mut self.peers, peer);
                }
                if !wake.handshake {
                    break;
                }
                // Attached now; pump again for the input that followed
                // the handshake.
                self.attach_routing(peer);
            }
        }
    }

    /// The next [`PeerEvent`], if any. Take them all after each
    /// [`poll`](Socket::poll): a disconnected peer's slot is freed only
    /// when its event is taken. A peer that delivered whole messages
    /// before its connection ended is reported once they have been
    /// received (libzmq too delivers what a closed peer sent).
    pub fn poll_event(&mut self) -> Option<PeerEvent<T>> {
        for (index, link) in self.peers.links.iter_mut().enumerate() {
            if link.connected_unreported {
                link.connected_unreported = false;
                return Some(PeerEvent::Connected(PeerId(index as u32)));
            }
        }
        for index in 0..PEERS {
            self.finish_draining(PeerId(index as u32));
        }
        for (index, link) in self.peers.links.iter_mut().enumerate() {
            if let (State::Closed(reason), false) = (link.state, link.draining) {
                if let Some(stream) = link.free() {
                    return Some(PeerEvent::Disconnected {
                        peer: PeerId(index as u32),
                        reason,
                        stream,
                    });
                }
            }
        }
        None
    }

    /// When [`poll`](Socket::poll) must run at the latest for the protocol
    /// timers (handshake timeout, heartbeats), if any is armed.
    pub fn poll_at(&self) -> Option<Instant> {
        self.peers
            .links
            .iter()
            .filter_map(|l| l.conn.as_ref()?.poll_timeout())
            .min()
    }

    /// Queues a whole message, one slice per frame, for the peer(s) the
    /// socket type picks; it is written by the next [`poll`](Socket::poll).
    ///
    /// # Errors
    /// [`SendError`]; nothing was queued.
    pub fn send(&mut self, frames: &[&[u8]]) -> Result<(), SendError> {
        let Some(last) = frames.len().checked_sub(1) else {
            return Err(SendError::Empty);
        };
        let mut need = SEND_SLACK;
        for frame in frames {
            if frame.len() > BUF {
                return Err(SendError::TooLarge);
            }
            need += header_len(frame.len()) + frame.len();
        }
        // Sealing (CURVE) adds to every frame on the wire.
        let sealed = need + frames.len() * self.peers.seal_overhead();
        if sealed > BUF {
            return Err(SendError::TooLarge);
        }
        self.peers.reserve = need;
        self.peers.frames = frames.len();
        for (i, bytes) in frames.iter().enumerate() {
            let frame = Frame::new(bytes)
                .map_err(|_| SendError::TooLarge)?
                .with_more(i < last);
            self.routing
                .send(&mut self.peers, frame)
                .map_err(SendError::from_routing)?;
        }
        Ok(())
    }

    /// Receives the next frame from the input the last
    /// [`poll`](Socket::poll)s buffered; its `more()` says whether another
    /// frame of the message follows (whole messages are always there).
    ///
    /// # Errors
    /// [`RecvError::WouldBlock`] when nothing is buffered (poll, then
    /// retry); the socket type's other refusals.
    pub fn recv(&mut self) -> Result<Frame<BUF>, RecvError> {
        self.peers.reserve = 0;
        self.routing.recv(&mut self.peers)
    }

    /// Whether [`recv`](Socket::recv) would return a frame now (POLLIN).
    pub fn has_in(&mut self) -> bool {
        self.routing.has_in(&mut self.peers)
    }

    /// Whether [`send`](Socket::send) would accept a short message now
    /// (POLLOUT).
    pub fn has_out(&mut self) -> bool {
        self.peers.reserve = SEND_SLACK + header_len(0);
        self.peers.frames = 1;
        self.routing.has_out(&mut self.peers)
    }

    /// Attaches a peer whose handshake completed to the routing (or closes
    /// it if the socket type refuses it).
    fn attach_routing(&mut self, peer: PeerId) {
        let mut identity = heapless::Vec::<u8, MAX_IDENTITY_LEN>::new();
        let Some(link) = self.peers.link_mut(peer) else {
            return;
        };
        if let Some(id) = link
            .conn
            .as_ref()
            .and_then(Connection::peer_metadata)
            .and_then(|m| m.identity())
        {
            // An announced identity is at most 255 bytes (checked in the
            // handshake).
            let _ = identity.extend_from_slice(id);
        }
        link.state = State::Attached;
        link.connected_unreported = true;
        let announced = if identity.is_empty() {
            PeerIdentity::Anonymous
        } else {
            PeerIdentity::Announced(&identity)
        };
        match self.routing.attach(&mut self.peers, peer, announced) {
            Ok(attached) => {
                if let Some(old) = attached.replaced {
                    self.close(old, DisconnectReason::Replaced);
                }
            }
            Err(e) => {
                if let Some(link) = self.peers.link_mut(peer) {
                    // Never attached: routing must not hear of it again.
                    link.state = State::Handshake;
                    link.connected_unreported = false;
                }
                self.close(peer, DisconnectReason::Refused(e));
            }
        }
    }

    /// Ends a peer's connection: buffers dropped, stream kept for its
    /// [`PeerEvent::Disconnected`]. Whole messages it delivered stay
    /// readable; it is detached from routing once they are read (at once
    /// if there are none, or for PUSH, which never reads).
    fn close(&mut self, peer: PeerId, reason: DisconnectReason) {
        let Some(link) = self.peers.link_mut(peer) else {
            return;
        };
        if !link.is_open() {
            return;
        }
        let attached = link.state == State::Attached;
        link.close(reason, attached && R::SOCKET_TYPE != SocketType::Push);
        if attached && !link.draining {
            self.routing.detach(&mut self.peers, peer);
        } else if link.draining {
            // Messages decoded in the pump that then met the end of the
            // stream: the pump's wake-up was lost with its error.
            self.routing.read_activated(&mut self.peers, peer);
        }
    }

    /// Detaches a closed peer from routing once its last message is read.
    fn finish_draining(&mut self, peer: PeerId) {
        let Some(link) = self.peers.link_mut(peer) else {
            return;
        };
        if link.draining && !link.check_read() {
            link.draining = false;
            self.routing.detach(&mut self.peers, peer);
        }
    }
}

impl<S, T, X, const PEERS: usize, const BUF: usize>
    Socket<Sub<S, PeerId, Frame<BUF>>, T, X, PEERS, BUF>
where
    S: Storage,
    T: Read + Write + ReadReady + WriteReady,
    X: Mechanism,
{
    /// SUBSCRIBE: receive messages whose first frame starts with `topic`
    /// (the empty topic matches everything). Sent to every connected
    /// publisher at the next [`poll`](Socket::poll), and to every
    /// publisher that connects later. Counted: subscribing twice needs two
    /// unsubscribes.
    ///
    /// # Errors
    /// [`SubscribeError`]: the store is full, or the SUBSCRIBE command for
    /// `topic` does not fit `BUF` (nothing is stored: a publisher could
    /// never be told).
    pub fn subscribe(&mut self, topic: &[u8]) -> Result<(), SubscribeError> {
        if subscription_len(topic) > BUF {
            return Err(SubscribeError::FrameTooLarge);
        }
        self.peers.reserve = subscription_len(topic);
        self.peers.frames = 1;
        self.routing.subscribe(&mut self.peers, topic)
    }

    /// UNSUBSCRIBE: removes one reference to `topic`; the last one is
    /// cancelled at the publishers.
    ///
    /// # Errors
    /// [`SubscribeError::FrameTooLarge`] if the CANCEL command for `topic`
    /// does not fit `BUF` (such a topic cannot have been subscribed).
    pub fn unsubscribe(&mut self, topic: &[u8]) -> Result<(), SubscribeError> {
        if subscription_len(topic) > BUF {
            return Err(SubscribeError::FrameTooLarge);
        }
        self.peers.reserve = subscription_len(topic);
        self.peers.frames = 1;
        self.routing.unsubscribe(&mut self.peers, topic)
    }
}

/// Encoded length of a SUBSCRIBE or CANCEL command for `topic` (the
/// longer of the two names).
fn subscription_len(topic: &[u8]) -> usize {
    let body = 1 + "SUBSCRIBE".len() + topic.len();
    header_len(body) + body
}

#[cfg(test)]
mod tests;
