//! The no_std core socket (`core/src/socket/`: `Socket`, its links and
//! their buffers) with a hostile peer on one of its two slots, over an
//! in-memory stream implementing the embedded-io traits the core uses, and
//! a well-behaved core socket of the matching type on the other. Drawn per
//! case: the socket type, `BUF` (three instantiations: 96, 256, 1024
//! bytes), NULL, PLAIN (accepting everyone or judging) or CURVE (a real
//! client's handshake, then sealed frames), MAXMSGSIZE, HANDSHAKE_IVL,
//! heartbeats, routing id, and the hostile stream's behaviour (bytes per
//! read, room for our writes, errors, end of stream).
//!
//! The input is a header and a script: raw bytes, frames, commands, time
//! passing, the application receiving and sending, the hostile peer
//! reading, closing or failing, a new hostile stream in the freed slot.
//!
//! Oracle: no panic; the socket calls `read` / `write` only when
//! `read_ready` / `write_ready` say so; every frame the application gets
//! fits MAXMSGSIZE and `BUF`, and messages are whole; a disconnected peer's
//! stream is its own; the good peer is never disconnected and still gets a
//! message through afterwards; once the hostile peer falls silent, a
//! handshake it left unfinished ends by HANDSHAKE_IVL and a connection it
//! keeps silent ends by the heartbeat timeout; a slot freed by a hostile
//! peer takes a new peer whose handshake completes.
#![no_main]

#[path = "common/curve.rs"]
#[allow(dead_code)]
mod curve;
#[path = "common/hostile.rs"]
mod hostile;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};
use hostile::{Input, Mech, Opening, Prefix};
use libfuzzer_sys::fuzz_target;
use zlink_mq_core::msg::{Frame, Message};
use zlink_mq_core::routing::{
    Dealer, Pair, PeerId, Pub, Pull, Push, RecvError, Rep, Req, Router, Routing, Sub, XPub, XSub,
};
use zlink_mq_core::socket::{Options, PeerEvent, PeerState, Peers, SendError, Socket, SocketKind};
use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::storage::Fixed;
use zlink_mq_core::time::Instant;
use zlink_mq_core::zmtp::curve::CurveServer;
use zlink_mq_core::zmtp::heartbeat::Heartbeat;
use zlink_mq_core::zmtp::null::Null;
use zlink_mq_core::zmtp::plain::{PlainClient, PlainServer};
use zlink_mq_core::zmtp::{AnyMechanism, AuthVerdict, Connection, Credentials};

// --- the in-memory stream ---------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct StreamError(ErrorKind);

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for StreamError {}

impl embedded_io::Error for StreamError {
    fn kind(&self) -> ErrorKind {
        self.0
    }
}

/// One direction of a stream: bytes in flight, and whether the writer is
/// gone (EOF once drained).
#[derive(Debug, Default)]
struct Wire {
    bytes: VecDeque<u8>,
    closed: bool,
}

/// How the far end of a stream behaves towards the socket, set by the
/// script.
#[derive(Debug)]
struct Behaviour {
    /// Bytes one `read` hands out at most.
    read_chunk: usize,
    /// Bytes the far end takes before `write_ready` turns false (until it
    /// reads them: [`Far::drain`]).
    room: usize,
    /// What [`Far::drain`] restores `room` to.
    capacity: usize,
    /// The next read (or `read_ready`) fails so.
    fail_read: Option<ErrorKind>,
    /// The next write (or `write_ready`) fails so.
    fail_write: Option<ErrorKind>,
}

impl Behaviour {
    fn unlimited() -> Behaviour {
        Behaviour {
            read_chunk: usize::MAX,
            room: usize::MAX,
            capacity: usize::MAX,
            fail_read: None,
            fail_write: None,
        }
    }
}

/// The socket's end of a stream.
#[derive(Debug)]
struct End {
    /// Which stream this is (a disconnected peer's must come back).
    id: u32,
    rx: Rc<RefCell<Wire>>,
    tx: Rc<RefCell<Wire>>,
    how: Rc<RefCell<Behaviour>>,
}

/// The other end, driven by the target.
struct Far {
    rx: Rc<RefCell<Wire>>,
    tx: Rc<RefCell<Wire>>,
    how: Rc<RefCell<Behaviour>>,
}

impl Far {
    fn put(&self, bytes: &[u8]) {
        let mut tx = self.tx.borrow_mut();
        if !tx.closed {
            tx.bytes.extend(bytes);
        }
    }

    /// Takes what the socket wrote; it may write as much again.
    fn drain(&self) -> Vec<u8> {
        let mut how = self.how.borrow_mut();
        how.room = how.capacity;
        self.rx.borrow_mut().bytes.drain(..).collect()
    }

    fn close(&self) {
        self.tx.borrow_mut().closed = true;
        self.rx.borrow_mut().closed = true;
    }
}

/// Two ends joined (the good pair's link): what one writes the other
/// reads.
fn joined() -> (End, End) {
    let (a, b): (Rc<RefCell<Wire>>, Rc<RefCell<Wire>>) = Default::default();
    let end = |rx: &Rc<RefCell<Wire>>, tx: &Rc<RefCell<Wire>>| End {
        id: 0,
        rx: rx.clone(),
        tx: tx.clone(),
        how: Rc::new(RefCell::new(Behaviour::unlimited())),
    };
    (end(&a, &b), end(&b, &a))
}

fn stream(id: u32, how: Behaviour) -> (End, Far) {
    let (a, b): (Rc<RefCell<Wire>>, Rc<RefCell<Wire>>) = Default::default();
    let how = Rc::new(RefCell::new(how));
    (
        End {
            id,
            rx: a.clone(),
            tx: b.clone(),
            how: how.clone(),
        },
        Far { rx: b, tx: a, how },
    )
}

impl ErrorType for End {
    type Error = StreamError;
}

impl ReadReady for End {
    fn read_ready(&mut self) -> Result<bool, StreamError> {
        if let Some(kind) = self.how.borrow().fail_read {
            return Err(StreamError(kind));
        }
        let rx = self.rx.borrow();
        Ok(!rx.bytes.is_empty() || rx.closed)
    }
}

impl Read for End {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        if let Some(kind) = self.how.borrow_mut().fail_read.take() {
            return Err(StreamError(kind));
        }
        let mut rx = self.rx.borrow_mut();
        // embedded-io's read blocks until a byte comes: the socket must
        // have asked `read_ready` first.
        assert!(
            !rx.bytes.is_empty() || rx.closed || buf.is_empty(),
            "read without read_ready"
        );
        let n = buf
            .len()
            .min(rx.bytes.len())
            .min(self.how.borrow().read_chunk);
        for (d, s) in buf.iter_mut().zip(rx.bytes.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }
}

impl WriteReady for End {
    fn write_ready(&mut self) -> Result<bool, StreamError> {
        let how = self.how.borrow();
        if let Some(kind) = how.fail_write {
            return Err(StreamError(kind));
        }
        Ok(how.room > 0 || self.tx.borrow().closed)
    }
}

impl Write for End {
    fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError> {
        let mut how = self.how.borrow_mut();
        if let Some(kind) = how.fail_write.take() {
            return Err(StreamError(kind));
        }
        let mut tx = self.tx.borrow_mut();
        if tx.closed {
            return Err(StreamError(ErrorKind::BrokenPipe));
        }
        // Blocks when there is no room: the socket must have asked.
        assert!(how.room > 0 || buf.is_empty(), "write without write_ready");
        let n = buf.len().min(how.room);
        how.room -= n;
        tx.bytes.extend(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
}

// --- sockets of every type behind one interface ----------------------------

/// What the target does with a socket, whatever its type and `BUF`.
trait Sock {
    fn poll(&mut self, now: Instant);
    fn send(&mut self, frames: &[&[u8]]) -> Result<(), SendError>;
    fn recv(&mut self) -> Result<(Vec<u8>, bool), RecvError>;
    fn poll_event(&mut self) -> Option<PeerEvent<End>>;
    fn attach(&mut self, stream: End, mechanism: AnyMechanism, now: Instant) -> Option<PeerId>;
    fn detach(&mut self, peer: PeerId) -> Option<End>;
    fn peer_state(&self, peer: PeerId) -> Option<PeerState>;
    fn max_frame_len(&self) -> usize;
    fn buf(&self) -> usize;
}

impl<R, const P: usize, const BUF: usize> Sock for Socket<R, End, AnyMechanism, P, BUF>
where
    R: SocketKind + Routing<Peers<End, AnyMechanism, P, BUF>>,
{
    fn poll(&mut self, now: Instant) {
        Socket::poll(self, now)
    }
    fn send(&mut self, frames: &[&[u8]]) -> Result<(), SendError> {
        Socket::send(self, frames)
    }
    fn recv(&mut self) -> Result<(Vec<u8>, bool), RecvError> {
        Socket::recv(self).map(|f| (f.bytes().to_vec(), f.more()))
    }
    fn poll_event(&mut self) -> Option<PeerEvent<End>> {
        Socket::poll_event(self)
    }
    fn attach(&mut self, stream: End, mechanism: AnyMechanism, now: Instant) -> Option<PeerId> {
        Socket::attach(self, stream, mechanism, now).ok()
    }
    fn detach(&mut self, peer: PeerId) -> Option<End> {
        Socket::detach(self, peer)
    }
    fn peer_state(&self, peer: PeerId) -> Option<PeerState> {
        Socket::peer_state(self, peer)
    }
    fn max_frame_len(&self) -> usize {
        Self::MAX_FRAME_LEN
    }
    fn buf(&self) -> usize {
        BUF
    }
}

/// Routing storage: the socket under test has two peers, the good one one.
type St<const P: usize> = Fixed<P, 4, 16>;
type Ours<R, const BUF: usize> = Socket<R, End, AnyMechanism, 2, BUF>;
type Good<R, const BUF: usize> = Socket<R, End, AnyMechanism, 1, BUF>;

/// The good peer's routing id (DEALER, REQ): one a hostile peer would have
/// to guess to take over.
const GOOD_ID: &[u8] = b"good\xfe\x17";

/// The socket under test and the good peer of socket pair `kind`.
fn sockets<const BUF: usize>(
    kind: usize,
    ours: Options,
    case: &Case,
) -> (Box<dyn Sock>, Box<dyn Sock>) {
    let good = Options {
        routing_id: GOOD_ID,
        handshake_ivl: None,
        ..Options::new()
    };
    macro_rules! both {
        ($o:expr, $g:expr) => {
            (Box::new($o) as Box<dyn Sock>, Box::new($g) as Box<dyn Sock>)
        };
    }
    match kind {
        0 => both!(
            Ours::<Pull<St<2>, PeerId>, BUF>::new(Pull::new(), ours),
            Good::<Push<St<1>, PeerId>, BUF>::new(Push::new(), good)
        ),
        1 => both!(
            Ours::<Push<St<2>, PeerId>, BUF>::new(Push::new(), ours),
            Good::<Pull<St<1>, PeerId>, BUF>::new(Pull::new(), good)
        ),
        2 | 4 => {
            let mut sub = Good::<Sub<St<1>, PeerId, Frame<BUF>>, BUF>::new(Sub::new(), good);
            sub.subscribe(b"").unwrap();
            if kind == 2 {
                both!(Ours::<Pub<St<2>, PeerId>, BUF>::new(Pub::new(), ours), sub)
            } else {
                let mut xpub = Ours::<XPub<St<2>, PeerId, Frame<BUF>>, BUF>::new(XPub::new(), ours);
                xpub.routing_mut().set_verbose(case.flag(FLAG_VERBOSE));
                both!(xpub, sub)
            }
        }
        3 => {
            let mut sub = Ours::<Sub<St<2>, PeerId, Frame<BUF>>, BUF>::new(Sub::new(), ours);
            sub.subscribe(b"").unwrap();
            both!(sub, Good::<Pub<St<1>, PeerId>, BUF>::new(Pub::new(), good))
        }
        5 => both!(
            Ours::<XSub<St<2>, PeerId>, BUF>::new(XSub::new(), ours),
            Good::<Pub<St<1>, PeerId>, BUF>::new(Pub::new(), good)
        ),
        6 => {
            let mut router =
                Ours::<Router<St<2>, PeerId, Frame<BUF>>, BUF>::new(Router::new(1), ours);
            router
                .routing_mut()
                .set_mandatory(case.flag(FLAG_MANDATORY));
            both!(
                router,
                Good::<Dealer<St<1>, PeerId>, BUF>::new(Dealer::new(), good)
            )
        }
        7 => both!(
            Ours::<Dealer<St<2>, PeerId>, BUF>::new(Dealer::new(), ours),
            Good::<Dealer<St<1>, PeerId>, BUF>::new(Dealer::new(), good)
        ),
        8 => {
            let mut req = Good::<Req<St<1>, PeerId>, BUF>::new(Req::new(100), good);
            req.routing_mut().set_relaxed(true);
            req.routing_mut().set_correlate(true);
            both!(Ours::<Rep<St<2>, PeerId>, BUF>::new(Rep::new(), ours), req)
        }
        9 => {
            // Relaxed: a strict REQ whose request went to a peer that never
            // answers waits for ever, as libzmq's does.
            let mut req = Ours::<Req<St<2>, PeerId>, BUF>::new(Req::new(200), ours);
            req.routing_mut().set_relaxed(true);
            req.routing_mut().set_correlate(true);
            both!(req, Good::<Rep<St<1>, PeerId>, BUF>::new(Rep::new(), good))
        }
        _ => both!(
            Ours::<Pair<PeerId>, BUF>::new(Pair::new(), ours),
            Good::<Pair<PeerId>, BUF>::new(Pair::new(), good)
        ),
    }
}

const TYPES: [(SocketType, SocketType); 11] = [
    (SocketType::Pull, SocketType::Push),
    (SocketType::Push, SocketType::Pull),
    (SocketType::Pub, SocketType::Sub),
    (SocketType::Sub, SocketType::Pub),
    (SocketType::XPub, SocketType::Sub),
    (SocketType::XSub, SocketType::Pub),
    (SocketType::Router, SocketType::Dealer),
    (SocketType::Dealer, SocketType::Dealer),
    (SocketType::Rep, SocketType::Req),
    (SocketType::Req, SocketType::Rep),
    (SocketType::Pair, SocketType::Pair),
];

// --- the case ----------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    Null,
    /// PLAIN, everyone accepted (no verdict function).
    Plain,
    /// PLAIN, only user "user" with password "password".
    PlainJudged,
    Curve,
}

const FLAG_VERBOSE: u8 = 1;
const FLAG_MANDATORY: u8 = 2;

#[derive(Debug)]
struct Case {
    kind: usize,
    ours: SocketType,
    buf_index: usize,
    security: Security,
    max_msg_size: Option<u64>,
    handshake_ivl: Option<Duration>,
    heartbeat: Heartbeat,
    routing_id: &'static [u8],
    read_chunk: usize,
    capacity: usize,
    flags: u8,
    opening: Opening,
}

fn ms(n: u64) -> Option<Duration> {
    Some(Duration::from_millis(n))
}

impl Case {
    fn draw(input: &mut Input<'_>) -> Case {
        let (b0, b1, b2, b3) = (input.byte(), input.byte(), input.byte(), input.byte());
        let kind = usize::from(b0 & 0x0f) % TYPES.len();
        let buf_index = usize::from(b0 >> 4 & 3) % 3;
        let mut security = [
            Security::Null,
            Security::Plain,
            Security::PlainJudged,
            Security::Curve,
        ][usize::from(b0 >> 6)];
        if security == Security::Curve && buf_index < 2 {
            // CURVE's INITIATE needs more than 257 bytes of buffer.
            security = Security::Null;
        }
        let ivl = [None, ms(10), ms(100), ms(1000)][usize::from(b1 >> 5 & 3)];
        let heartbeat = Heartbeat {
            ivl,
            timeout: [None, ms(30)][usize::from(b1 >> 7)],
            // The TTL our PINGs ask of the good peer outlasts our interval
            // (else the good peer rightly drops us between two PINGs).
            ttl: match b2 >> 4 & 3 {
                0 => None,
                1 => ms(0),
                2 => ivl.map(|i| i * 2 + Duration::from_millis(100)),
                _ => ms(6_553_500),
            },
        };
        Case {
            kind,
            ours: TYPES[kind].0,
            buf_index,
            security,
            // At least the good peer's messages ("good 63", "answer") and,
            // sealed by CURVE, its subscription (10 bytes).
            max_msg_size: [None, Some(12), Some(16), Some(100)][usize::from(b1 & 3)],
            handshake_ivl: [ms(30_000), ms(50), None, ms(5)][usize::from(b1 >> 2 & 3)],
            heartbeat,
            routing_id: [&b""[..], b"ours"][usize::from(b1 >> 4 & 1)],
            read_chunk: [usize::MAX, 1, 7, 64][usize::from(b2 & 3)],
            capacity: [usize::MAX, 0, 16, 300][usize::from(b2 >> 2 & 3)],
            flags: b2 >> 6,
            opening: Opening::draw(b3, TYPES[kind].1),
        }
    }

    fn flag(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    fn mech(&self) -> Mech {
        match self.security {
            Security::Null => Mech::Null,
            Security::Plain | Security::PlainJudged => Mech::Plain,
            Security::Curve => Mech::Curve,
        }
    }

    /// Our side's mechanism for a new peer.
    fn server(&self) -> AnyMechanism {
        match self.security {
            Security::Null => Null::new(true).into(),
            Security::Plain | Security::PlainJudged => PlainServer::new().into(),
            Security::Curve => {
                CurveServer::new(&curve::server_keys(), &mut curve::Rng(curve::SERVER_SEED))
                    .unwrap()
                    .into()
            }
        }
    }

    /// The good peer's mechanism.
    fn client(&self) -> AnyMechanism {
        match self.security {
            Security::Null => Null::new(false).into(),
            Security::Plain | Security::PlainJudged => {
                PlainClient::new(b"user", b"password").unwrap().into()
            }
            Security::Curve => zlink_mq_core::zmtp::curve::CurveClient::new(
                &curve::client_keys(),
                *curve::server_keys().public_key(),
                &mut curve::Rng(curve::CLIENT_SEED),
            )
            .unwrap()
            .into(),
        }
    }

    fn options(&self) -> Options {
        fn judge(c: Credentials<'_>) -> AuthVerdict {
            match c {
                Credentials::Plain {
                    username: b"user",
                    password: b"password",
                } => AuthVerdict::Accept,
                _ => AuthVerdict::Reject { status_code: 400 },
            }
        }
        Options {
            routing_id: self.routing_id,
            handshake_ivl: self.handshake_ivl,
            heartbeat: self.heartbeat,
            max_msg_size: self.max_msg_size,
            authenticate: (self.security == Security::PlainJudged)
                .then_some(judge as fn(Credentials<'_>) -> AuthVerdict),
        }
    }
}

// --- the run -------------------------------------------------------------------

/// A hostile peer in slot `peer`: its far end, and a real CURVE client's
/// connection when it has one.
struct Hostile {
    peer: PeerId,
    id: u32,
    far: Far,
    curve: Option<Connection>,
    /// Its handshake bytes are all written (a CURVE client's exchange
    /// takes polls).
    handshaking: bool,
}

struct Run {
    case: Case,
    ours: Box<dyn Sock>,
    good: Box<dyn Sock>,
    good_peer: PeerId,
    /// Its connection was reported (once).
    good_connected: bool,
    /// What the good peer received, taken at every poll (a peer that does
    /// not read is rightly dropped by heartbeats: its link stops reading,
    /// PINGs too, as libzmq's engine does at its high-water mark).
    good_inbox: Vec<Vec<u8>>,
    hostile: Option<Hostile>,
    now: Instant,
    next_id: u32,
    /// The script detached a peer: a message cut short may be reported.
    detached: bool,
}

impl Run {
    /// Polls both sockets and takes their events (checking them), and
    /// moves a CURVE client's bytes.
    fn poll(&mut self) {
        for _ in 0..2 {
            self.ours.poll(self.now);
            self.good.poll(self.now);
            if let Some(h) = &mut self.hostile {
                if let Some(conn) = &mut h.curve {
                    if h.handshaking {
                        let input = h.far.drain();
                        let mut pos = 0;
                        while pos < input.len() {
                            match conn.handle_input(&input[pos..], Instant::ZERO) {
                                Ok((used, _)) if used > 0 => pos += used,
                                _ => break,
                            }
                        }
                        let mut out = [0u8; 512];
                        loop {
                            let n = conn.poll_transmit(&mut out);
                            if n == 0 {
                                break;
                            }
                            h.far.put(&out[..n]);
                        }
                        h.handshaking = !conn.is_active() && conn.failure().is_none();
                    }
                }
            }
        }
        self.events();
        while let Some(m) = recv_msg(&mut *self.good, false) {
            if self.case.ours == SocketType::Req {
                // The good REP answers at once.
                let _ = self.good.send(&[b"answer"]);
            }
            self.good_inbox
                .push(m.last().map(|(f, _)| f.clone()).unwrap_or_default());
        }
    }

    /// Whether the good peer received `marker` (forgetting all it has).
    fn good_received(&mut self, marker: &[u8]) -> bool {
        self.good_inbox.drain(..).any(|m| m == marker)
    }

    fn events(&mut self) {
        while let Some(event) = self.ours.poll_event() {
            match event {
                PeerEvent::Connected(peer) if peer == self.good_peer => {
                    assert!(!self.good_connected, "the good peer connects once");
                    self.good_connected = true;
                }
                PeerEvent::Connected(peer) => {
                    assert!(
                        self.hostile.as_ref().is_some_and(|h| h.peer == peer),
                        "{peer:?} connected, not the hostile peer"
                    );
                }
                PeerEvent::Disconnected {
                    peer,
                    reason,
                    stream,
                } => {
                    assert_ne!(
                        peer, self.good_peer,
                        "the good peer was disconnected: {reason}"
                    );
                    let h = self.hostile.take().expect("only the hostile peer goes");
                    assert_eq!(
                        (peer, stream.id),
                        (h.peer, h.id),
                        "a stream not its own came back"
                    );
                    assert_eq!(self.ours.peer_state(peer), None, "its slot is free");
                }
            }
        }
        while let Some(event) = self.good.poll_event() {
            match event {
                PeerEvent::Connected(_) => {}
                PeerEvent::Disconnected { reason, .. } => {
                    panic!("the good peer lost its link: {reason}")
                }
            }
        }
    }

    /// Checks a message the socket under test hands over.
    fn check(&self, frames: &[(Vec<u8>, bool)]) {
        // A ROUTER puts the peer's routing id in front; PUB and XPUB get
        // subscriptions as messages (a flag byte, then the topic).
        let skip = usize::from(self.case.ours == SocketType::Router);
        let subscriptions = matches!(self.case.ours, SocketType::Pub | SocketType::XPub);
        for (f, _) in frames.iter().skip(skip) {
            assert!(
                f.len() <= self.ours.buf(),
                "a {}-byte frame in a {}-byte buffer",
                f.len(),
                self.ours.buf()
            );
            if !subscriptions {
                assert!(
                    f.len() <= self.ours.max_frame_len(),
                    "a {}-byte frame over MAX_FRAME_LEN",
                    f.len()
                );
                if let Some(max) = self.case.max_msg_size {
                    assert!(
                        f.len() as u64 <= max,
                        "a {}-byte frame over MAXMSGSIZE {max}",
                        f.len()
                    );
                }
            }
        }
    }

    /// A whole message from the socket under test, checked.
    fn recv_ours(&mut self) -> Option<Vec<(Vec<u8>, bool)>> {
        let m = recv_msg(&mut *self.ours, self.detached)?;
        self.check(&m);
        Some(m)
    }

    fn advance(&mut self, d: Duration) {
        if self.case.heartbeat.ivl.is_none() {
            // The good peer's link has no timer once it is up.
            self.now += d;
            self.poll();
            return;
        }
        // In steps the good peer keeps up with (its heartbeats answered):
        // after a jump past a heartbeat timeout, timers fire before the
        // PONG waiting in the stream is read (libzmq's loop too runs its
        // timers first), and the good peer would be dropped.
        let mut left = d;
        while !left.is_zero() {
            let step = left.min(Duration::from_millis(5));
            self.now += step;
            left -= step;
            self.poll();
        }
    }

    /// A new hostile stream in a free slot, with the case's opening.
    fn new_hostile(&mut self) {
        let (end, far) = stream(
            self.next_id,
            Behaviour {
                read_chunk: self.case.read_chunk,
                room: self.case.capacity,
                capacity: self.case.capacity,
                fail_read: None,
                fail_write: None,
            },
        );
        let id = self.next_id;
        self.next_id += 1;
        let Some(peer) = self.ours.attach(end, self.case.server(), self.now) else {
            return;
        };
        let mech = self.case.mech();
        let curve = match self.case.opening.curve_client(mech) {
            true => self.case.opening.new_curve_client(u64::from(id)),
            false => None,
        };
        far.put(&self.case.opening.bytes(mech));
        self.hostile = Some(Hostile {
            peer,
            id,
            far,
            handshaking: curve.is_some(),
            curve,
        });
    }
}

/// A whole message (its frames and MORE flags), or `None` when nothing is
/// there; a message cut short is a failure unless `detached` allows it.
fn recv_msg(s: &mut dyn Sock, detached: bool) -> Option<Vec<(Vec<u8>, bool)>> {
    let mut frames = Vec::new();
    loop {
        match s.recv() {
            Ok((bytes, more)) => {
                frames.push((bytes, more));
                if !more {
                    return Some(frames);
                }
            }
            Err(RecvError::Truncated) if detached => return None,
            // ROUTER: a routing id longer than its frames can hold.
            Err(RecvError::FrameTooLarge) if frames.is_empty() => return None,
            Err(e) => {
                assert!(frames.is_empty(), "a message cut short: {e}");
                assert!(
                    matches!(
                        e,
                        RecvError::WouldBlock | RecvError::State | RecvError::NotSupported
                    ),
                    "recv: {e}"
                );
                return None;
            }
        }
    }
}

/// Script: what the hostile peer and the application do.
fn script(run: &mut Run, input: &mut Input<'_>) {
    let mut ops = 0;
    while !input.is_empty() && ops < 512 {
        ops += 1;
        let op = input.byte();
        let p = op & 0x1f;
        let mut out = Vec::new();
        match op >> 5 {
            0 => {
                let n = usize::from(input.byte()) + 1;
                out.extend_from_slice(input.take(n));
            }
            1 => {
                let len = usize::from(input.u16()) % 4096;
                let fill = input.byte();
                let flags = (p & 0x07)
                    | if p & 0x08 != 0 {
                        0xf8 & input.byte()
                    } else {
                        0
                    };
                let body = vec![fill; len];
                match run.hostile.as_mut().and_then(|h| h.curve.as_mut()) {
                    Some(conn) => hostile::sealed_frame(conn, flags, &body, &mut out),
                    None => hostile::push_frame(&mut out, flags, p & 0x10 != 0, &body),
                }
            }
            2 => {
                let n = usize::from(input.byte());
                let body = input.take(n).to_vec();
                let claim = match p & 7 {
                    7 => u64::from(input.u16()) << (8 * (p >> 3)),
                    _ => 0,
                };
                let conn = run.hostile.as_mut().and_then(|h| h.curve.as_mut());
                hostile::push_script_command(&mut out, conn, p, &body, claim);
            }
            // Time passes.
            3 => run.advance(Duration::from_millis(u64::from(p) * u64::from(p) + 1)),
            // The application receives.
            4 => {
                for _ in 0..=p {
                    if run.recv_ours().is_none() {
                        break;
                    }
                }
            }
            // The application sends: small, as large as fits, too large,
            // multipart.
            5 => {
                let tag = input.byte();
                let fit = run.ours.buf() - zlink_mq_core::socket::SEND_SLACK - 9;
                let big = vec![tag; [5, fit, run.ours.buf() + 1, 1][usize::from(p & 3)]];
                let frames: Vec<&[u8]> = if p & 3 == 3 {
                    vec![b"a", &big, b""]
                } else {
                    vec![&big]
                };
                let _ = run.ours.send(&frames);
                if p & 4 != 0 {
                    // A subscription message, on an XSUB.
                    let _ = run.ours.send(&[&[tag & 1, tag]]);
                }
            }
            // The hostile stream: read, close, fail.
            6 => {
                if let Some(h) = &run.hostile {
                    match p & 3 {
                        0 => {
                            h.far.drain();
                        }
                        1 => h.far.close(),
                        2 => h.far.how.borrow_mut().fail_read = Some(error_kind(p >> 2)),
                        _ => h.far.how.borrow_mut().fail_write = Some(error_kind(p >> 2)),
                    }
                }
            }
            // A new hostile peer once the slot is free, or the application
            // detaches the hostile one.
            _ => match &run.hostile {
                None => run.new_hostile(),
                Some(h) if p & 1 != 0 => {
                    let peer = h.peer;
                    let id = h.id;
                    let stream = run.ours.detach(peer).expect("an attached peer's stream");
                    assert_eq!(stream.id, id, "detach handed back another stream");
                    run.hostile = None;
                    run.detached = true;
                }
                Some(_) => {}
            },
        }
        if let Some(h) = &run.hostile {
            h.far.put(&out);
        }
        run.poll();
    }
}

fn error_kind(k: u8) -> ErrorKind {
    [
        ErrorKind::ConnectionReset,
        ErrorKind::BrokenPipe,
        ErrorKind::TimedOut,
        ErrorKind::Other,
    ][usize::from(k & 3)]
}

/// The good peer's message gets through, in the direction the socket type
/// allows, within a bounded number of rounds.
fn exchange(run: &mut Run) {
    for round in 0..64u32 {
        let marker = format!("good {round}");
        let marker = marker.as_bytes();
        let done = match run.case.ours {
            SocketType::Push | SocketType::Pub | SocketType::XPub => {
                while run.recv_ours().is_some() {}
                let _ = run.ours.send(&[marker]);
                run.poll();
                run.good_received(marker)
            }
            SocketType::Req => {
                // The good REP answers as it receives (see `Run::poll`).
                let _ = run.ours.send(&[marker]);
                run.poll();
                run.good_received(marker) && {
                    run.poll();
                    matches!(run.recv_ours().as_deref(), Some([(a, false)]) if a == b"answer")
                }
            }
            SocketType::Rep => {
                // The script may have left a request unanswered.
                let _ = run.ours.send(&[b"answer"]);
                let _ = run.good.send(&[marker]);
                run.poll();
                let mut done = false;
                while let Some(m) = run.recv_ours() {
                    let _ = run.ours.send(&[b"answer"]);
                    if m.last().is_some_and(|(f, _)| f == marker) {
                        run.poll();
                        done = run.good_received(b"answer");
                        break;
                    }
                }
                done
            }
            _ => {
                if run.case.ours == SocketType::XSub {
                    // The script may have cancelled it: as libzmq, a
                    // publisher takes every frame of a message starting
                    // with 0 or 1 as a subscription (not only the first).
                    let _ = run.ours.send(&[b"\x01"]);
                }
                let _ = run.good.send(&[marker]);
                run.poll();
                let mut done = false;
                while let Some(m) = run.recv_ours() {
                    done |= m.last().is_some_and(|(f, _)| f == marker);
                }
                done
            }
        };
        if done {
            return;
        }
        run.advance(Duration::from_millis(1));
    }
    panic!("the good peer got nothing through: {:?}", run.case);
}

/// Once the hostile peer is silent and reads everything: its handshake
/// ends by HANDSHAKE_IVL, its silence by the heartbeat timeout.
fn silence(run: &mut Run) {
    let Some(h) = &mut run.hostile else {
        return;
    };
    {
        let mut how = h.far.how.borrow_mut();
        how.capacity = usize::MAX;
        how.room = usize::MAX;
    }
    // A CURVE client's handshake is over or never will be: nothing more
    // from it.
    h.curve = None;
    let peer = h.peer;
    // The deadline for the state it is in; a handshake can still complete
    // meanwhile (bytes already sent), which restarts the wait.
    let limit = |run: &Run| match run.ours.peer_state(peer) {
        Some(PeerState::Handshaking) => run.case.handshake_ivl,
        Some(PeerState::Connected) => {
            let hb = run.case.heartbeat;
            hb.ivl.map(|ivl| ivl + hb.timeout.unwrap_or(ivl))
        }
        _ => None,
    };
    // Bytes it sent before falling silent that the socket has not read
    // yet (a slow stream): while they come in, it is not silent.
    let unread = |run: &Run| {
        run.hostile
            .as_ref()
            .map_or(0, |h| h.far.tx.borrow().bytes.len())
    };
    let mut state = None;
    let mut end = run.now;
    let mut pending = usize::MAX;
    while run.hostile.is_some() {
        if run.ours.peer_state(peer) != state || unread(run) < pending {
            state = run.ours.peer_state(peer);
            pending = unread(run);
            let Some(limit) = limit(run) else {
                return;
            };
            end = run.now + limit + Duration::from_millis(20);
        }
        assert!(
            run.now < end,
            "a silent hostile peer is still {state:?} after its deadline: {:?}",
            run.case
        );
        if let Some(h) = &run.hostile {
            h.far.drain();
        }
        // The application reads what the hostile peer sent.
        while run.recv_ours().is_some() {}
        let _ = run.ours.send(&[b"answer"]);
        // Without heartbeats nothing happens before the deadline: half the
        // way there at a time.
        let step = match run.case.heartbeat.ivl {
            Some(_) => Duration::from_millis(5),
            None => (end.saturating_duration_since(run.now) / 2).max(Duration::from_millis(5)),
        };
        run.advance(step);
    }
}

/// A slot freed by a hostile peer takes a new, well-behaved one.
fn reuse(run: &mut Run) {
    if run.hostile.is_some()
        || run.case.security != Security::Null
        || run.case.ours == SocketType::Pair
    {
        return;
    }
    run.case.opening = Opening {
        prefix: Prefix::Handshake,
        announced: TYPES[run.case.kind].1,
        identity: b"",
    };
    run.case.read_chunk = usize::MAX;
    run.case.capacity = usize::MAX;
    run.new_hostile();
    let peer = run.hostile.as_ref().expect("a free slot").peer;
    for _ in 0..8 {
        run.poll();
    }
    assert_eq!(
        run.ours.peer_state(peer),
        Some(PeerState::Connected),
        "the reused slot connects"
    );
}

fn run_case<const BUF: usize>(case: Case, input: &mut Input<'_>) {
    let (mut ours, mut good) = sockets::<BUF>(case.kind, case.options(), &case);
    let (good_end, good_side) = joined();
    let now = Instant::ZERO;
    let Some(good_peer) = ours.attach(good_end, case.server(), now) else {
        // The options do not fit `BUF` (a routing id in 96 bytes, say).
        return;
    };
    good.attach(good_side, case.client(), now)
        .expect("the good peer's options fit");
    let mut run = Run {
        case,
        ours,
        good,
        good_peer,
        good_connected: false,
        good_inbox: Vec::new(),
        hostile: None,
        now,
        next_id: 1,
        detached: false,
    };
    for _ in 0..8 {
        run.poll();
    }
    assert_eq!(
        run.ours.peer_state(good_peer),
        Some(PeerState::Connected),
        "the good peer connects: {:?}",
        run.case
    );
    exchange(&mut run);
    run.new_hostile();
    script(&mut run, input);
    exchange(&mut run);
    silence(&mut run);
    reuse(&mut run);
    exchange(&mut run);
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let case = Case::draw(&mut input);
    match case.buf_index {
        0 => run_case::<96>(case, &mut input),
        1 => run_case::<256>(case, &mut input),
        _ => run_case::<1024>(case, &mut input),
    }
});
