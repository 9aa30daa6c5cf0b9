//! Two connections wired back to back with a virtual clock: handshakes,
//! messages, subscriptions, heartbeats and failures, under any chunking of
//! the byte streams.

use std::string::String;
use std::vec;
use std::vec::Vec;

use core::time::Duration;

use proptest::prelude::*;

use super::connection::Config;
use super::frame::{Decoder, FrameError, FrameWriter};
use super::greeting::{GREETING_LEN, GreetingError};
use super::heartbeat::Heartbeat;
use super::metadata::MetadataError;
use super::null::Null;
use super::plain::{PlainClient, PlainServer};
use super::{AnyMechanism, AuthVerdict, Connection, Credentials, Error, Event};
use crate::socket_type::SocketType;
use crate::time::Instant;

/// An event with its data copied out; frames announced in pieces are
/// reassembled into one `Frame`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Ready(SocketType),
    Auth(Vec<u8>, Vec<u8>),
    /// A CURVE client's long-term public key.
    CurveAuth(Vec<u8>),
    Frame(Vec<u8>, bool),
    Subscribe(Vec<u8>),
    Cancel(Vec<u8>),
    Ping(Option<Duration>),
    Pong,
}

type Judge = fn(&[u8], &[u8]) -> Option<AuthVerdict>;

struct Peer {
    conn: Connection,
    /// Bytes received and not yet consumed.
    inbox: Vec<u8>,
    events: Vec<Ev>,
    error: Option<Error>,
    /// Reassembly of a frame delivered as head + parts.
    partial: Option<(Vec<u8>, bool)>,
    /// Reassembly of a sealed frame delivered as head + parts.
    sealed: Option<Vec<u8>>,
    /// Reassembly of a long subscription (SUBSCRIBE or not, topic).
    long_subscription: Option<(bool, Vec<u8>)>,
    /// Answers authentication requests at once; `None` leaves them pending.
    judge: Judge,
    /// Everything this peer sent, for wire-level assertions.
    sent: Vec<u8>,
    /// Pretend to be a ZMTP 3.0 peer: rewrite our greeting's minor version.
    as_v3_0: bool,
}

impl Peer {
    fn new(config: &Config<'_>, mechanism: impl Into<AnyMechanism>) -> Peer {
        Peer {
            conn: Connection::new(config, mechanism.into(), Instant::ZERO).expect("valid config"),
            inbox: Vec::new(),
            events: Vec::new(),
            error: None,
            partial: None,
            sealed: None,
            long_subscription: None,
            judge: |u, p| {
                Some(if u == b"admin" && p == b"secret" {
                    AuthVerdict::Accept
                } else {
                    AuthVerdict::Reject { status_code: 400 }
                })
            },
            sent: Vec::new(),
            as_v3_0: false,
        }
    }

    fn null(t: SocketType) -> Peer {
        Peer::new(&Config::new(t), Null::new(false))
    }

    /// Feeds the inbox in chunks of at most `chunk` bytes; true if anything
    /// happened.
    fn process(&mut self, now: Instant, chunk: usize) -> bool {
        let mut progress = false;
        let mut pos: usize = 0;
        loop {
            let end = pos.saturating_add(chunk).min(self.inbox.len());
            let r = self.conn.handle_input(&self.inbox[pos..end], now);
            let (used, ev) = match r {
                Ok(x) => x,
                Err(e) => {
                    if self.error.is_none() {
                        self.error = Some(e);
                        progress = true;
                    }
                    break;
                }
            };
            pos += used;
            progress |= used > 0 || ev.is_some();
            let auth = match ev {
                None if used == 0 => break,
                None => None,
                Some(Event::HandshakeComplete { peer_type, .. }) => {
                    self.events.push(Ev::Ready(peer_type));
                    None
                }
                Some(Event::AuthRequest(Credentials::Plain { username, password })) => {
                    self.events
                        .push(Ev::Auth(username.to_vec(), password.to_vec()));
                    (self.judge)(username, password)
                }
                Some(Event::Frame { data, more }) => {
                    self.events.push(Ev::Frame(data.to_vec(), more));
                    None
                }
                Some(Event::FrameHead { len, more }) => {
                    assert!(self.partial.is_none());
                    self.partial = Some((Vec::with_capacity(len), more));
                    None
                }
                Some(Event::AuthRequest(Credentials::Null)) => {
                    self.events.push(Ev::Auth(Vec::new(), Vec::new()));
                    (self.judge)(b"", b"")
                }
                Some(Event::AuthRequest(Credentials::Curve { public_key })) => {
                    self.events.push(Ev::CurveAuth(public_key.to_vec()));
                    (self.judge)(public_key, b"")
                }
                Some(Event::SealedHead { len }) => {
                    assert!(self.sealed.is_none() && self.partial.is_none());
                    self.sealed = Some(Vec::with_capacity(len));
                    None
                }
                Some(Event::FramePart { data, last }) if self.sealed.is_some() => {
                    let buf = self.sealed.as_mut().unwrap();
                    buf.extend_from_slice(data);
                    if last {
                        let mut buf = self.sealed.take().unwrap();
                        match self.conn.open_frame(&mut buf, now) {
                            Ok(Some(ev)) => record_opened(&mut self.events, ev),
                            Ok(None) => {}
                            Err(e) => {
                                self.error.get_or_insert(e);
                            }
                        }
                    }
                    None
                }
                Some(Event::FramePart { data, last }) => {
                    let (buf, more) = self.partial.as_mut().expect("part after head");
                    buf.extend_from_slice(data);
                    if last {
                        let more = *more;
                        let (buf, _) = self.partial.take().unwrap();
                        self.events.push(Ev::Frame(buf, more));
                    }
                    None
                }
                Some(Event::Subscribe { topic }) => {
                    self.events.push(Ev::Subscribe(topic.to_vec()));
                    None
                }
                Some(Event::Cancel { topic }) => {
                    self.events.push(Ev::Cancel(topic.to_vec()));
                    None
                }
                Some(Event::SubscriptionHead { subscribe, len }) => {
                    assert!(self.long_subscription.is_none() && len > 0);
                    self.long_subscription = Some((subscribe, Vec::with_capacity(len)));
                    None
                }
                Some(Event::SubscriptionPart { data, last }) => {
                    let (_, topic) = self.long_subscription.as_mut().expect("part after head");
                    assert!(!data.is_empty());
                    topic.extend_from_slice(data);
                    if last {
                        let (subscribe, topic) = self.long_subscription.take().unwrap();
                        self.events.push(if subscribe {
                            Ev::Subscribe(topic)
                        } else {
                            Ev::Cancel(topic)
                        });
                    }
                    None
                }
                Some(Event::Ping { ttl }) => {
                    self.events.push(Ev::Ping(ttl));
                    None
                }
                Some(Event::Pong) => {
                    self.events.push(Ev::Pong);
                    None
                }
            };
            if let Some(verdict) = auth {
                if let Err(e) = self.conn.handle_auth_verdict(verdict) {
                    self.error.get_or_insert(e);
                }
            }
        }
        self.inbox.drain(..pos);
        progress
    }

    /// Moves pending output into `out` through a small buffer.
    fn transmit(&mut self, out: &mut Vec<u8>) -> bool {
        let mut buf = [0u8; 37];
        let mut any = false;
        loop {
            let n = self.conn.poll_transmit(&mut buf);
            if n == 0 {
                break;
            }
            any = true;
            let start = self.sent.len();
            self.sent.extend_from_slice(&buf[..n]);
            if self.as_v3_0 && start <= 11 && self.sent.len() > 11 {
                self.sent[11] = 0;
            }
            out.extend_from_slice(&self.sent[start..]);
        }
        assert!(!self.conn.has_pending_transmit());
        any
    }

    /// Queues a message for the peer (after pending control output).
    fn send(&mut self, frames: &[&[u8]], out: &mut Vec<u8>) {
        self.transmit(out);
        let mut buf = vec![0u8; frames.iter().map(|f| self.conn.encoded_len(f.len())).sum()];
        let mut w = FrameWriter::new(&mut buf);
        for (i, f) in frames.iter().enumerate() {
            self.conn
                .encode_frame(&mut w, f, i + 1 < frames.len())
                .unwrap();
        }
        let n = w.len();
        assert_eq!(n, buf.len());
        self.sent.extend_from_slice(&buf[..n]);
        out.extend_from_slice(&buf[..n]);
    }

    fn take_events(&mut self) -> Vec<Ev> {
        core::mem::take(&mut self.events)
    }
}

/// Records what a sealed frame opened into.
fn record_opened(events: &mut Vec<Ev>, ev: Event<'_>) {
    events.push(match ev {
        Event::Frame { data, more } => Ev::Frame(data.to_vec(), more),
        Event::Subscribe { topic } => Ev::Subscribe(topic.to_vec()),
        Event::Cancel { topic } => Ev::Cancel(topic.to_vec()),
        Event::Ping { ttl } => Ev::Ping(ttl),
        Event::Pong => Ev::Pong,
        other => panic!("open_frame gave {other:?}"),
    });
}

struct Pair {
    a: Peer,
    b: Peer,
    now: Instant,
    chunk: usize,
    /// Bytes from a to b (and b to a) are dropped while set.
    cut_ab: bool,
    cut_ba: bool,
}

impl Pair {
    fn new(a: Peer, b: Peer) -> Pair {
        Pair {
            a,
            b,
            now: Instant::ZERO,
            chunk: usize::MAX,
            cut_ab: false,
            cut_ba: false,
        }
    }

    /// Moves bytes both ways until nothing changes.
    fn drive(&mut self) {
        for _ in 0..1000 {
            let mut ab = Vec::new();
            let mut ba = Vec::new();
            let mut progress = self.a.transmit(&mut ab) | self.b.transmit(&mut ba);
            if !self.cut_ab {
                self.b.inbox.extend_from_slice(&ab);
            }
            if !self.cut_ba {
                self.a.inbox.extend_from_slice(&ba);
            }
            progress |= self.a.process(self.now, self.chunk);
            progress |= self.b.process(self.now, self.chunk);
            if !progress {
                return;
            }
        }
        panic!("drive did not settle");
    }

    /// Advances the clock to each deadline in turn until `until`, firing
    /// timers and driving after each.
    fn advance(&mut self, by: Duration) {
        let until = self.now + by;
        loop {
            let next = [self.a.conn.poll_timeout(), self.b.conn.poll_timeout()]
                .into_iter()
                .flatten()
                .filter(|&t| t <= until)
                .min();
            let Some(t) = next else { break };
            self.now = t.max(self.now);
            for p in [&mut self.a, &mut self.b] {
                if let Err(e) = p.conn.handle_timeout(self.now) {
                    p.error.get_or_insert(e);
                }
            }
            self.drive();
        }
        self.now = until;
        self.drive();
    }

    fn a_to_b(&mut self, frames: &[&[u8]]) {
        let mut out = Vec::new();
        self.a.send(frames, &mut out);
        self.b.inbox.extend_from_slice(&out);
        self.drive();
    }
}

fn connected(a: Peer, b: Peer, chunk: usize) -> Pair {
    let mut p = Pair::new(a, b);
    p.chunk = chunk;
    p.drive();
    assert_eq!(p.a.error, None);
    assert_eq!(p.b.error, None);
    assert!(p.a.conn.is_active() && p.b.conn.is_active());
    p
}

const VALID_PAIRS: [(SocketType, SocketType); 12] = {
    use SocketType::*;
    [
        (Req, Rep),
        (Req, Router),
        (Dealer, Rep),
        (Dealer, Dealer),
        (Dealer, Router),
        (Router, Router),
        (Pub, Sub),
        (Pub, XSub),
        (XPub, Sub),
        (XPub, XSub),
        (Push, Pull),
        (Pair, Pair),
    ]
};

#[test]
fn null_handshake_for_every_valid_pair_in_any_chunking() {
    for (x, y) in VALID_PAIRS {
        for chunk in [1, 7, usize::MAX] {
            for (a, b) in [(x, y), (y, x)] {
                let mut p = connected(Peer::null(a), Peer::null(b), chunk);
                assert_eq!(p.a.take_events(), [Ev::Ready(b)], "{a}-{b} chunk {chunk}");
                assert_eq!(p.b.take_events(), [Ev::Ready(a)]);
                assert_eq!(p.a.conn.peer_socket_type(), Some(b));
                assert_eq!(p.b.conn.peer_metadata().unwrap().socket_type(), Some(a));
                let frames: &[&[u8]] = &[b"\x02id", b"", &[9u8; 300]];
                p.a_to_b(frames);
                let got = p.b.take_events();
                let expect: Vec<Ev> = frames
                    .iter()
                    .enumerate()
                    .map(|(i, f)| Ev::Frame(f.to_vec(), i < 2))
                    .collect();
                assert_eq!(got, expect, "{a}-{b} chunk {chunk}");
            }
        }
    }
}

#[test]
fn greeting_and_ready_golden_bytes() {
    let cfg = Config {
        identity: b"me",
        ..Config::new(SocketType::Dealer)
    };
    let mut p = Pair::new(
        Peer::new(&cfg, Null::new(false)),
        Peer::null(SocketType::Router),
    );
    p.drive();
    let a = p.a;
    let mut expect = Vec::new();
    expect.extend_from_slice(b"\xff\0\0\0\0\0\0\0\0\x7f\x03\x01NULL");
    expect.extend_from_slice(&[0; 16 + 1 + 31]);
    let ready: &[u8] = b"\x05READY\x0bSocket-Type\0\0\0\x06DEALER\x08Identity\0\0\0\x02me";
    expect.extend_from_slice(&[0x04, ready.len() as u8]);
    expect.extend_from_slice(ready);
    assert_eq!(a.sent, expect);
    assert_eq!(a.sent.len(), GREETING_LEN + 2 + ready.len());
}

#[test]
fn metadata_reaches_the_peer() {
    let props: &[(&str, &[u8])] = &[("X-Colour", b"blue"), ("X-Empty", b"")];
    let cfg = Config {
        identity: b"\x01client",
        resource: Some(b"/orders"),
        properties: props,
        ..Config::new(SocketType::Req)
    };
    let mut p = connected(
        Peer::new(&cfg, Null::new(false)),
        Peer::null(SocketType::Router),
        3,
    );
    let m = p.b.conn.peer_metadata().unwrap();
    assert_eq!(m.identity(), Some(&b"\x01client"[..]));
    assert_eq!(m.resource(), Some(&b"/orders"[..]));
    assert_eq!(m.get("x-colour"), Some(&b"blue"[..]));
    assert_eq!(m.get("X-Empty"), Some(&b""[..]));
    assert_eq!(m.iter().count(), 5);
    // ROUTER sends Identity too, empty here, as libzmq does.
    let pm = p.a.conn.peer_metadata().unwrap();
    assert_eq!(pm.identity(), Some(&b""[..]));
    p.a.take_events();
}

#[test]
fn config_errors() {
    let bad_id = Config {
        identity: b"\0x",
        ..Config::new(SocketType::Router)
    };
    assert!(matches!(
        Connection::<Null>::new(&bad_id, Null::new(false), Instant::ZERO),
        Err(super::ConfigError::BadIdentity)
    ));
    let big = [0u8; 1000];
    let props: &[(&str, &[u8])] = &[("X-Big", &big)];
    let cfg = Config {
        properties: props,
        ..Config::new(SocketType::Pair)
    };
    assert!(matches!(
        Connection::<Null>::new(&cfg, Null::new(false), Instant::ZERO),
        Err(super::ConfigError::CapacityTooSmall)
    ));
    // A bigger capacity takes it.
    assert!(Connection::<Null, 2048>::new(&cfg, Null::new(false), Instant::ZERO).is_ok());
}

fn plain_pair(client: SocketType, server: SocketType, user: &[u8], pass: &[u8]) -> Pair {
    let c = Peer::new(&Config::new(client), PlainClient::new(user, pass).unwrap());
    let s = Peer::new(&Config::new(server), PlainServer::new());
    Pair::new(c, s)
}

#[test]
fn plain_handshake_both_roles() {
    for (client, server) in [
        (SocketType::Req, SocketType::Rep),
        (SocketType::Rep, SocketType::Req),
    ] {
        // Chunkings, and each side in turn posing as a ZMTP 3.0 peer.
        for (chunk, v30) in [
            (1, None),
            (usize::MAX, None),
            (3, Some(true)),
            (3, Some(false)),
        ] {
            let mut p = plain_pair(client, server, b"admin", b"secret");
            p.chunk = chunk;
            match v30 {
                Some(true) => p.a.as_v3_0 = true,
                Some(false) => p.b.as_v3_0 = true,
                None => {}
            }
            p.drive();
            if let Some(client_is_old) = v30 {
                let g = if client_is_old {
                    p.b.conn.peer_greeting()
                } else {
                    p.a.conn.peer_greeting()
                };
                assert!(!g.unwrap().is_v3_1());
            }
            assert_eq!(p.a.error, None);
            assert_eq!(p.b.error, None);
            assert_eq!(p.a.take_events(), [Ev::Ready(server)]);
            assert_eq!(
                p.b.take_events(),
                [
                    Ev::Auth(b"admin".to_vec(), b"secret".to_vec()),
                    Ev::Ready(client)
                ]
            );
            let AnyMechanism::PlainServer(m) = p.b.conn.mechanism() else {
                panic!()
            };
            assert_eq!(m.username(), Some(&b"admin"[..]));
            p.a_to_b(&[b"hi"]);
            assert_eq!(p.b.take_events(), [Ev::Frame(b"hi".to_vec(), false)]);
        }
    }
}

#[test]
fn plain_wire_bytes() {
    let mut p = plain_pair(SocketType::Push, SocketType::Pull, b"admin", b"secret");
    p.drive();
    let c = &p.a.sent[GREETING_LEN..];
    assert_eq!(&p.a.sent[12..17], b"PLAIN");
    assert_eq!(p.a.sent[32], 0);
    assert_eq!(p.b.sent[32], 1);
    let hello = b"\x04\x13\x05HELLO\x05admin\x06secret";
    let initiate = b"\x04\x1d\x08INITIATE\x0bSocket-Type\0\0\0\x04PUSH";
    assert_eq!(c, [&hello[..], &initiate[..]].concat());
    let s = &p.b.sent[GREETING_LEN..];
    assert_eq!(
        s,
        &b"\x04\x08\x07WELCOME\x04\x1a\x05READY\x0bSocket-Type\0\0\0\x04PULL"[..]
    );
}

#[test]
fn plain_rejection_reaches_the_client() {
    let mut p = plain_pair(SocketType::Dealer, SocketType::Router, b"admin", b"wrong");
    p.drive();
    assert_eq!(p.b.error, Some(Error::AuthenticationFailed));
    assert_eq!(p.a.error, Some(Error::PeerError));
    assert_eq!(p.a.conn.peer_error_reason(), Some(&b"400"[..]));
    assert!(!p.a.conn.is_active());
    assert_eq!(p.a.conn.poll_timeout(), None);
}

#[test]
fn plain_verdict_may_come_later() {
    let mut p = plain_pair(SocketType::Push, SocketType::Pull, b"u", b"p");
    p.b.judge = |_, _| None;
    p.drive();
    assert_eq!(p.b.take_events(), [Ev::Auth(b"u".to_vec(), b"p".to_vec())]);
    assert!(!p.b.conn.is_active());
    assert_eq!(p.b.conn.handle_auth_verdict(AuthVerdict::Accept), Ok(()));
    assert_eq!(
        p.b.conn.handle_auth_verdict(AuthVerdict::Accept),
        Err(Error::NoAuthRequest)
    );
    p.drive();
    assert!(p.a.conn.is_active() && p.b.conn.is_active());
    assert_eq!(p.b.take_events(), [Ev::Ready(SocketType::Push)]);
}

#[test]
fn mechanism_mismatch_and_two_clients_fail_cleanly() {
    let mut p = Pair::new(
        Peer::null(SocketType::Push),
        Peer::new(&Config::new(SocketType::Pull), PlainServer::new()),
    );
    p.drive();
    assert_eq!(p.a.error, Some(Error::MechanismMismatch));
    assert_eq!(p.b.error, Some(Error::MechanismMismatch));

    let mut p = Pair::new(
        Peer::new(
            &Config::new(SocketType::Push),
            PlainClient::new(b"", b"").unwrap(),
        ),
        Peer::new(
            &Config::new(SocketType::Pull),
            PlainClient::new(b"", b"").unwrap(),
        ),
    );
    // Two PLAIN clients: the greeting's as-server flag is not checked
    // (libzmq never sets it), so each refuses the other's HELLO.
    p.drive();
    assert_eq!(p.a.error, Some(Error::UnexpectedCommand));
    assert_eq!(p.b.error, Some(Error::UnexpectedCommand));
    assert!(
        p.a.sent
            .ends_with(b"\x04\x19\x05ERROR\x12Unexpected command")
    );
}

#[test]
fn invalid_socket_pair_gets_error_and_close() {
    for (a, b) in [
        (SocketType::Req, SocketType::Req),
        (SocketType::Pub, SocketType::Pull),
    ] {
        let mut p = Pair::new(Peer::null(a), Peer::null(b));
        p.drive();
        assert_eq!(
            p.a.error,
            Some(Error::Metadata(MetadataError::IncompatibleSocketType {
                ours: a,
                peer: b
            }))
        );
        let error_cmd = b"\x04\x1a\x05ERROR\x13Invalid socket type";
        assert!(
            p.a.sent.ends_with(error_cmd),
            "{:?}",
            String::from_utf8_lossy(&p.a.sent)
        );
    }
    // A peer that receives that ERROR before noticing anything reports it.
    let mut a = Peer::null(SocketType::Pair);
    let mut out = Vec::new();
    a.transmit(&mut out);
    let mut greeting = out[..GREETING_LEN].to_vec();
    greeting.extend_from_slice(b"\x04\x1a\x05ERROR\x13Invalid socket type");
    a.inbox = greeting;
    a.process(Instant::ZERO, usize::MAX);
    assert_eq!(a.error, Some(Error::PeerError));
    assert_eq!(
        a.conn.peer_error_reason(),
        Some(&b"Invalid socket type"[..])
    );
}

/// A NULL peer's greeting followed by a READY from a DEALER.
fn null_preamble(minor: u8) -> Vec<u8> {
    let mut v = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, minor];
    v.extend_from_slice(b"NULL");
    v.extend_from_slice(&[0; 16 + 1 + 31]);
    v.extend_from_slice(b"\x04\x1c\x05READY\x0bSocket-Type\0\0\0\x06DEALER");
    v
}

fn feed(conn: &mut Connection, bytes: &[u8]) -> Result<Vec<Ev>, Error> {
    let mut p = Peer {
        conn: core::mem::replace(
            conn,
            Connection::new(
                &Config::new(SocketType::Pair),
                Null::new(false).into(),
                Instant::ZERO,
            )
            .unwrap(),
        ),
        ..Peer::null(SocketType::Pair)
    };
    p.inbox = bytes.to_vec();
    p.process(Instant::ZERO, usize::MAX);
    *conn = p.conn;
    match p.error {
        Some(e) => Err(e),
        None => Ok(p.events),
    }
}

fn router() -> Connection {
    Connection::new(
        &Config::new(SocketType::Router),
        Null::new(false).into(),
        Instant::ZERO,
    )
    .unwrap()
}

#[test]
fn pre_3_0_peers_are_refused() {
    // ZMTP 1.0: identity frame (length 1, flags 0), no signature.
    assert_eq!(
        feed(&mut router(), b"\x01\x00"),
        Err(Error::Greeting(GreetingError::UnsupportedVersion {
            major: 1
        }))
    );
    // ZMTP 2.0: signature, revision 1, socket type DEALER (5).
    assert_eq!(
        feed(&mut router(), b"\xff\0\0\0\0\0\0\0\x01\x7f\x01\x05"),
        Err(Error::Greeting(GreetingError::UnsupportedVersion {
            major: 1
        }))
    );
    let mut c = router();
    assert_eq!(
        feed(&mut c, b"\xff\0\0\0\0\0\0\0\x01\x7f\x02"),
        Err(Error::Greeting(GreetingError::UnsupportedVersion {
            major: 2
        }))
    );
    // Nothing but our greeting goes out to such a peer, and it stays failed.
    let mut out = [0u8; 256];
    assert_eq!(c.poll_transmit(&mut out), GREETING_LEN);
    assert!(c.handle_input(b"more", Instant::ZERO).is_err());
}

#[test]
fn frame_errors_after_the_handshake() {
    let mut c = router();
    assert_eq!(
        feed(&mut c, &null_preamble(1)),
        Ok(vec![Ev::Ready(SocketType::Dealer)])
    );
    assert_eq!(
        feed(&mut c, b"\x08\x00"),
        Err(Error::Frame(FrameError::ReservedFlags(0x08)))
    );

    // Data before the handshake completed.
    let mut c = router();
    let mut bytes = null_preamble(1);
    bytes.truncate(GREETING_LEN);
    bytes.extend_from_slice(b"\x00\x01x");
    assert_eq!(feed(&mut c, &bytes), Err(Error::UnexpectedData));

    // Unknown commands are ignored once active; malformed ones are not.
    let mut c = router();
    feed(&mut c, &null_preamble(1)).unwrap();
    assert_eq!(
        feed(&mut c, b"\x04\x07\x05HELLOx\x00\x01y"),
        Ok(vec![Ev::Frame(b"y".to_vec(), false)])
    );
    assert_eq!(feed(&mut c, b"\x04\x00"), Err(Error::MalformedCommand));
}

#[test]
fn oversize_frames_are_refused_before_their_body() {
    let cfg = Config {
        max_msg_size: Some(100),
        ..Config::new(SocketType::Pull)
    };
    let mut p = connected(
        Peer::null(SocketType::Push),
        Peer::new(&cfg, Null::new(false)),
        usize::MAX,
    );
    p.b.take_events();
    p.a_to_b(&[&[1u8; 100]]);
    assert_eq!(p.b.take_events(), [Ev::Frame(vec![1u8; 100], false)]);
    // Only the header of the 101-byte frame is needed to refuse it.
    p.b.inbox.extend_from_slice(b"\x00\x65");
    p.drive();
    assert_eq!(
        p.b.error,
        Some(Error::Frame(FrameError::TooLarge { len: 101, max: 100 }))
    );
}

#[test]
fn commands_larger_than_the_capacity_are_refused() {
    let mut c = router();
    feed(&mut c, &null_preamble(1)).unwrap();
    // A long command header announcing 1025 bytes.
    assert_eq!(
        feed(&mut c, b"\x06\0\0\0\0\0\0\x04\x01"),
        Err(Error::Frame(FrameError::CommandTooLarge {
            len: 1025,
            max: 1024
        }))
    );
}

#[test]
fn large_frames_come_in_parts_and_reassemble() {
    for chunk in [1, 100, 5000] {
        let mut p = connected(
            Peer::null(SocketType::Dealer),
            Peer::null(SocketType::Dealer),
            chunk,
        );
        p.b.take_events();
        let big = vec![0x5a; 4000];
        p.a_to_b(&[&big, b"tail"]);
        assert_eq!(
            p.b.take_events(),
            [Ev::Frame(big, true), Ev::Frame(b"tail".to_vec(), false)]
        );
    }
}

#[test]
fn subscriptions_as_commands_to_3_1_and_as_messages_to_3_0() {
    for (pub_type, sub_type) in [
        (SocketType::Pub, SocketType::Sub),
        (SocketType::XPub, SocketType::XSub),
    ] {
        for v30 in [false, true] {
            for chunk in [1, usize::MAX] {
                let mut publisher = Peer::null(pub_type);
                publisher.as_v3_0 = v30;
                let mut p = connected(publisher, Peer::null(sub_type), chunk);
                p.a.take_events();
                p.b.take_events();
                let mut buf = [0u8; 600];
                let mut w = FrameWriter::new(&mut buf);
                p.b.conn.encode_subscribe(&mut w, b"topic").unwrap();
                p.b.conn.encode_cancel(&mut w, b"").unwrap();
                let long = [b'L'; 300];
                p.b.conn.encode_subscribe(&mut w, &long).unwrap();
                let n = w.len();
                if v30 {
                    assert_eq!(&buf[..10], b"\x00\x06\x01topic\x00\x01");
                } else {
                    assert_eq!(&buf[..19], b"\x04\x0f\x09SUBSCRIBEtopic\x04\x07");
                }
                p.a.inbox.extend_from_slice(&buf[..n]);
                p.drive();
                assert_eq!(
                    p.a.take_events(),
                    [
                        Ev::Subscribe(b"topic".to_vec()),
                        Ev::Cancel(vec![]),
                        Ev::Subscribe(long.to_vec())
                    ],
                    "{pub_type} v3.0={v30} chunk={chunk}"
                );
            }
        }
    }
    // A libzmq XSUB forwards user messages starting with 1 as data frames even to
    // 3.1 peers: a PUB takes them as subscriptions too. Multipart messages
    // and empty frames are just messages.
    let mut p = connected(
        Peer::null(SocketType::XPub),
        Peer::null(SocketType::XSub),
        usize::MAX,
    );
    p.a.take_events();
    let mut out = Vec::new();
    p.b.send(&[b"\x01abc"], &mut out);
    p.b.send(&[b"\x01m", b"\x00n"], &mut out);
    p.b.send(&[b""], &mut out);
    p.a.inbox.extend_from_slice(&out);
    p.drive();
    assert_eq!(
        p.a.take_events(),
        [
            Ev::Subscribe(b"abc".to_vec()),
            Ev::Frame(b"\x01m".to_vec(), true),
            Ev::Frame(b"\x00n".to_vec(), false),
            Ev::Frame(vec![], false),
        ]
    );
}

#[test]
fn subscribe_before_the_handshake_is_refused() {
    let mut c = router();
    let mut buf = [0u8; 32];
    let mut w = FrameWriter::new(&mut buf);
    assert_eq!(
        c.encode_subscribe(&mut w, b"x"),
        Err(super::EncodeError::NotReady)
    );
}

fn heartbeat_cfg(t: SocketType, ivl_ms: u64, ttl_ms: Option<u64>) -> Config<'static> {
    Config {
        heartbeat: Heartbeat {
            ivl: Some(Duration::from_millis(ivl_ms)),
            timeout: None,
            ttl: ttl_ms.map(Duration::from_millis),
        },
        ..Config::new(t)
    }
}

#[test]
fn heartbeats_ping_pong_and_timeouts() {
    let a = Peer::new(
        &heartbeat_cfg(SocketType::Dealer, 1_000, Some(3_000)),
        Null::new(false),
    );
    let mut p = connected(a, Peer::null(SocketType::Dealer), usize::MAX);
    p.a.take_events();
    p.b.take_events();
    assert_eq!(p.a.conn.poll_timeout(), Some(Instant::from_millis(1_000)));
    assert_eq!(
        p.b.conn.poll_timeout(),
        None,
        "no heartbeats, handshake timer gone"
    );
    p.advance(Duration::from_millis(999));
    assert!(p.b.take_events().is_empty());
    p.advance(Duration::from_millis(1));
    let ping = b"\x04\x07\x04PING\x00\x1e";
    assert!(p.a.sent.ends_with(ping));
    assert_eq!(p.b.take_events(), [Ev::Ping(Some(Duration::from_secs(3)))]);
    assert!(p.b.sent.ends_with(b"\x04\x05\x04PONG"));
    assert_eq!(p.a.take_events(), [Ev::Pong]);
    // Several intervals: one PING each, all answered.
    p.advance(Duration::from_millis(5_000));
    assert_eq!(p.a.take_events(), vec![Ev::Pong; 5]);
    assert_eq!(p.a.error, None);

    // b goes silent: a declares it dead one timeout (= ivl) after its PING.
    p.cut_ba = true;
    p.advance(Duration::from_millis(1_000));
    assert_eq!(p.a.error, None);
    p.advance(Duration::from_millis(1_000));
    assert_eq!(p.a.error, Some(Error::HeartbeatTimeout));
    assert_eq!(p.b.error, None);
    // a is dead and sends nothing: b applies the 3 s TTL of a's last PING,
    // sent one second before a gave up.
    p.advance(Duration::from_millis(1_999));
    assert_eq!(p.b.error, None);
    p.advance(Duration::from_millis(1));
    assert_eq!(p.b.error, Some(Error::PeerTtlExpired));
}

/// The heartbeat timeout is reset by each decoded frame, as in libzmq,
/// not by any byte: a peer that trickles one byte of a frame at a time
/// while answering no PING is declared dead (issue 9, fault 8).
#[test]
fn heartbeat_timeout_counts_frames_not_bytes() {
    for whole_frames in [false, true] {
        let a = Peer::new(
            &heartbeat_cfg(SocketType::Dealer, 1_000, None),
            Null::new(false),
        );
        let mut p = connected(a, Peer::null(SocketType::Dealer), usize::MAX);
        p.a.take_events();
        p.cut_ba = true;
        // A 100-byte frame, one byte every half second; or a whole empty
        // frame every half second.
        let mut trickle = vec![0x00, 100];
        trickle.resize(102, b'x');
        for &byte in trickle.iter().take(20) {
            if whole_frames {
                p.a.inbox.extend_from_slice(&[0x00, 0x00]);
            } else {
                p.a.inbox.push(byte);
            }
            p.advance(Duration::from_millis(500));
        }
        if whole_frames {
            assert_eq!(p.a.error, None, "a frame each half second is alive");
            assert_eq!(p.a.take_events(), vec![Ev::Frame(Vec::new(), false); 20]);
        } else {
            assert_eq!(p.a.error, Some(Error::HeartbeatTimeout));
        }
    }
}

#[test]
fn ping_context_is_echoed_and_3_0_peers_get_pings_too() {
    let mut c = router();
    feed(&mut c, &null_preamble(1)).unwrap();
    let mut out = [0u8; 256];
    c.poll_transmit(&mut out);
    assert_eq!(
        feed(&mut c, b"\x04\x09\x04PING\x00\x00ab"),
        Ok(vec![Ev::Ping(None)])
    );
    let n = c.poll_transmit(&mut out);
    assert_eq!(&out[..n], b"\x04\x07\x04PONGab");
    assert_eq!(c.poll_timeout(), None, "TTL 0 arms nothing");
    // Two PINGs in one read: each gets its PONG, in order (libzmq's
    // test_heartbeats sends them back to back); the second's long context
    // is cut to 16 bytes.
    let mut two = b"\x04\x0a\x04PING\x00\x00LOL".to_vec();
    two.extend_from_slice(b"\x04\x41\x04PING\x00\x00LOL");
    two.extend_from_slice(&[b'z'; 55]);
    assert_eq!(feed(&mut c, &two), Ok(vec![Ev::Ping(None), Ev::Ping(None)]));
    let n = c.poll_transmit(&mut out);
    let mut want = b"\x04\x08\x04PONGLOL\x04\x15\x04PONGLOL".to_vec();
    want.extend_from_slice(&[b'z'; 13]);
    assert_eq!(&out[..n], &want[..]);

    let mut v30 = Peer::null(SocketType::Dealer);
    v30.as_v3_0 = true;
    let b = Peer::new(
        &heartbeat_cfg(SocketType::Dealer, 100, None),
        Null::new(false),
    );
    let mut p = connected(v30, b, usize::MAX);
    // As libzmq: a 3.0 peer gets PINGs too (ours answers them).
    assert!(p.b.conn.poll_timeout().is_some());
    p.advance(Duration::from_secs(10));
    assert_eq!(p.b.error, None);
    assert_eq!(p.a.error, None);
    // ... and one that goes silent times out (libzmq's test_heartbeats
    // mocks such a peer).
    p.cut_ab = true;
    p.advance(Duration::from_secs(1));
    assert_eq!(p.b.error, Some(Error::HeartbeatTimeout));
}

#[test]
fn handshake_deadline() {
    let mut p = Pair::new(Peer::null(SocketType::Push), Peer::null(SocketType::Pull));
    p.cut_ab = true;
    p.cut_ba = true;
    p.advance(Duration::from_millis(29_999));
    assert_eq!(p.a.error, None);
    p.advance(Duration::from_millis(1));
    assert_eq!(p.a.error, Some(Error::HandshakeTimeout));
    assert_eq!(p.b.error, Some(Error::HandshakeTimeout));

    // A slow PLAIN verdict counts against the deadline too.
    let mut p = plain_pair(SocketType::Push, SocketType::Pull, b"u", b"p");
    p.b.judge = |_, _| None;
    p.advance(Duration::from_secs(30));
    assert_eq!(p.b.error, Some(Error::HandshakeTimeout));
}

#[test]
fn capacity_limits_pub_3_0_subscriptions_not_messages() {
    // Longer than N: delivered as an ordinary frame, whatever the chunking.
    for chunk in [1, usize::MAX] {
        let mut p = connected(
            Peer::null(SocketType::XPub),
            Peer::null(SocketType::XSub),
            chunk,
        );
        p.a.take_events();
        let mut long = vec![1u8; 1025];
        long[1] = b'x';
        let mut out = Vec::new();
        p.b.send(&[&long], &mut out);
        p.a.inbox.extend_from_slice(&out);
        p.drive();
        assert_eq!(p.a.take_events(), [Ev::Frame(long, false)]);
    }
}

/// `SUBSCRIBE` (or `CANCEL`) for `topic` as a ZMTP 3.1 command frame.
fn subscription_command(subscribe: bool, topic: &[u8]) -> Vec<u8> {
    let name: &[u8] = if subscribe { b"SUBSCRIBE" } else { b"CANCEL" };
    let mut buf = vec![0u8; 9 + 1 + name.len() + topic.len()];
    let mut w = FrameWriter::new(&mut buf);
    w.push_command(name, topic).unwrap();
    let n = w.len();
    buf.truncate(n);
    buf
}

#[test]
fn long_subscriptions_reach_a_publisher_in_parts() {
    // libzmq 4.3.3+ sends topics of any length as commands to 3.1 peers.
    let topics: [Vec<u8>; 3] = [
        (0..1015u32).map(|i| i as u8).collect(),
        vec![b'x'; 5000],
        (0..70_000u32).map(|i| (i % 251) as u8).collect(),
    ];
    for pub_type in [SocketType::Pub, SocketType::XPub] {
        for chunk in [1, 100, 4096, usize::MAX] {
            if chunk == 1 && pub_type == SocketType::XPub {
                continue; // Slow, and the same code path as PUB.
            }
            let mut p = connected(Peer::null(pub_type), Peer::null(SocketType::Sub), chunk);
            p.a.take_events();
            let mut wire = Vec::new();
            for topic in &topics {
                wire.extend(subscription_command(true, topic));
            }
            wire.extend(subscription_command(true, b"short"));
            wire.extend(subscription_command(false, &topics[1]));
            p.a.inbox.extend_from_slice(&wire);
            p.drive();
            assert_eq!(p.a.error, None);
            let mut expected: Vec<Ev> = topics.iter().cloned().map(Ev::Subscribe).collect();
            expected.push(Ev::Subscribe(b"short".to_vec()));
            expected.push(Ev::Cancel(topics[1].clone()));
            // (Not `assert_eq!`: the topics are too long to print.)
            assert!(p.a.take_events() == expected, "{pub_type} chunk={chunk}");
            // Messages still flow.
            p.b.take_events();
            p.a_to_b(&[b"after"]);
            assert_eq!(p.b.take_events(), [Ev::Frame(b"after".to_vec(), false)]);
        }
    }
}

#[test]
fn long_subscription_heads_gather_their_topic() {
    // The head from `encode_subscription_head`, then the subscription
    // message from the offset it returns: a 3.1 command or a 3.0 message.
    for v30 in [false, true] {
        let mut publisher = Peer::null(SocketType::XPub);
        publisher.as_v3_0 = v30;
        let mut p = connected(publisher, Peer::null(SocketType::XSub), 999);
        p.a.take_events();
        let mut wire = Vec::new();
        for (subscribe, len) in [(true, 3000usize), (false, 3000), (true, 2)] {
            let mut message = vec![u8::from(subscribe)];
            message.extend((0..len).map(|i| i as u8));
            let mut buf = [0u8; 32];
            let mut w = FrameWriter::new(&mut buf);
            let from =
                p.b.conn
                    .encode_subscription_head(&mut w, subscribe, len)
                    .unwrap();
            assert_eq!(from, usize::from(!v30));
            wire.extend_from_slice(w.filled());
            wire.extend_from_slice(&message[from..]);
        }
        p.a.inbox.extend_from_slice(&wire);
        p.drive();
        assert_eq!(p.a.error, None);
        let topic = |len: usize| (0..len).map(|i| i as u8).collect::<Vec<u8>>();
        let events = p.a.take_events();
        if v30 {
            // Messages longer than N are not inspected (see
            // `capacity_limits_pub_3_0_subscriptions_not_messages`): the
            // socket's routing reads them as subscriptions.
            let message = |flag: u8| [vec![flag], topic(3000)].concat();
            assert!(
                events
                    == [
                        Ev::Frame(message(1), false),
                        Ev::Frame(message(0), false),
                        Ev::Subscribe(topic(2)),
                    ]
            );
        } else {
            assert!(
                events
                    == [
                        Ev::Subscribe(topic(3000)),
                        Ev::Cancel(topic(3000)),
                        Ev::Subscribe(topic(2)),
                    ]
            );
        }
    }
    let c = router();
    let mut buf = [0u8; 32];
    let mut w = FrameWriter::new(&mut buf);
    assert_eq!(
        c.encode_subscription_head(&mut w, true, 5),
        Err(super::EncodeError::NotReady)
    );
}

#[test]
fn long_subscriptions_are_bounded_by_maxmsgsize() {
    // As libzmq: MAXMSGSIZE bounds the whole command frame (name included).
    let cfg = Config {
        max_msg_size: Some(2000),
        ..Config::new(SocketType::Pub)
    };
    let fits = vec![b'a'; 2000 - 10];
    let mut p = connected(
        Peer::new(&cfg, Null::new(false)),
        Peer::null(SocketType::Sub),
        usize::MAX,
    );
    p.a.take_events();
    p.a.inbox.extend(subscription_command(true, &fits));
    p.drive();
    assert_eq!(p.a.take_events(), [Ev::Subscribe(fits.clone())]);
    // One byte more is refused from the header alone.
    let too_long = subscription_command(true, &[fits.clone(), vec![b'a']].concat());
    p.a.inbox.extend_from_slice(&too_long[..9]);
    p.drive();
    assert_eq!(
        p.a.error,
        Some(Error::Frame(FrameError::CommandTooLarge {
            len: 2001,
            max: 2000
        }))
    );
}

#[test]
fn long_commands_other_than_subscriptions_are_refused() {
    let too_large = Error::Frame(FrameError::CommandTooLarge {
        len: 1100,
        max: 1024,
    });
    // Once active, a long command is refused as soon as its name shows it
    // is neither SUBSCRIBE nor CANCEL (by the length byte, or by the name).
    for body_start in [&b"\x04PING"[..], b"\x00", b"\x09SUBSCRIBF", b"\x06CANCEX"] {
        for chunk in [1, usize::MAX] {
            let mut p = connected(
                Peer::null(SocketType::Pub),
                Peer::null(SocketType::Sub),
                chunk,
            );
            p.a.take_events();
            let mut body = body_start.to_vec();
            body.resize(1100, 0);
            let mut frame = vec![0x06];
            frame.extend_from_slice(&(body.len() as u64).to_be_bytes());
            frame.extend_from_slice(&body);
            p.a.inbox.extend_from_slice(&frame);
            p.drive();
            assert_eq!(p.a.error, Some(too_large), "{body_start:?} chunk={chunk}");
            assert_eq!(p.a.take_events(), []);
        }
    }
    // During the handshake every command must fit, a publisher's too.
    let mut c = Connection::new(
        &Config::new(SocketType::Pub),
        Null::new(false).into(),
        Instant::ZERO,
    )
    .unwrap();
    let mut bytes = null_preamble(1);
    bytes.truncate(GREETING_LEN);
    bytes.extend_from_slice(b"\x06\0\0\0\0\0\0\x04\x4c");
    assert_eq!(feed(&mut c, &bytes), Err(too_large));
}

#[test]
fn only_publishers_take_subscriptions() {
    // A ROUTER ignores short SUBSCRIBE and CANCEL commands, and refuses
    // long ones from their header as any other oversized command.
    let mut c = router();
    feed(&mut c, &null_preamble(1)).unwrap();
    let mut wire = subscription_command(true, b"abc");
    wire.extend(subscription_command(false, b"abc"));
    wire.extend_from_slice(b"\x00\x01y");
    assert_eq!(
        feed(&mut c, &wire),
        Ok(vec![Ev::Frame(b"y".to_vec(), false)])
    );
    let long = subscription_command(true, &[7u8; 2000]);
    assert_eq!(
        feed(&mut c, &long[..9]),
        Err(Error::Frame(FrameError::CommandTooLarge {
            len: 2010,
            max: 1024
        }))
    );
}

fn message_strategy() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
    let frame = prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..70),
        1 => proptest::collection::vec(any::<u8>(), 200..1500),
    ];
    proptest::collection::vec(proptest::collection::vec(frame, 1..4), 1..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Encode-then-decode is the identity for any multipart messages under
    /// any chunking, through the frame decoder alone and through a
    /// connection (which reassembles split PUB subscriptions and commands).
    #[test]
    fn roundtrip_any_chunking(msgs in message_strategy(), cuts in proptest::collection::vec(1usize..600, 1..40)) {
        let mut wire = vec![0u8; msgs.iter().flatten().map(|f| f.len() + 9).sum()];
        let mut w = FrameWriter::new(&mut wire);
        for m in &msgs {
            let frames: Vec<&[u8]> = m.iter().map(|f| &f[..]).collect();
            w.push_message(&frames).unwrap();
        }
        let n = w.len();
        let wire = &wire[..n];
        let expect: Vec<Ev> = msgs
            .iter()
            .flat_map(|m| m.iter().enumerate().map(|(i, f)| Ev::Frame(f.clone(), i + 1 < m.len())))
            .collect();

        // Connection: the stream cut at the given sizes.
        let mut c = Connection::<Null>::new(&Config::new(SocketType::Pull), Null::new(false), Instant::ZERO).unwrap();
        let pre = {
            let mut v = null_preamble(1)[..GREETING_LEN].to_vec();
            v.extend_from_slice(b"\x04\x1a\x05READY\x0bSocket-Type\0\0\0\x04PUSH");
            v
        };
        let mut stream = pre.clone();
        stream.extend_from_slice(wire);
        let mut got = Vec::new();
        let mut partial: Option<(Vec<u8>, bool)> = None;
        let mut pos = 0;
        let mut i = 0;
        while pos < stream.len() {
            let end = (pos + cuts[i % cuts.len()]).min(stream.len());
            i += 1;
            let mut at = pos;
            while let (used, Some(ev)) = c.handle_input(&stream[at..end], Instant::ZERO).unwrap() {
                at += used;
                match ev {
                    Event::Frame { data, more } => got.push(Ev::Frame(data.to_vec(), more)),
                    Event::FrameHead { len, more } => partial = Some((Vec::with_capacity(len), more)),
                    Event::FramePart { data, last } => {
                        partial.as_mut().unwrap().0.extend_from_slice(data);
                        if last {
                            let (b, m) = partial.take().unwrap();
                            got.push(Ev::Frame(b, m));
                        }
                    }
                    Event::HandshakeComplete { .. } => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
            pos = end;
        }
        prop_assert_eq!(&got, &expect);

        // Bare decoder, same cuts.
        let mut d = Decoder::new(u64::MAX, 1024);
        let mut got2 = Vec::new();
        let mut pos = 0;
        let mut i = 0;
        while pos < wire.len() {
            let end = (pos + cuts[i % cuts.len()]).min(wire.len());
            i += 1;
            let mut at = pos;
            while let (used, Some(x)) = d.decode(&wire[at..end]).unwrap() {
                at += used;
                match x {
                    super::frame::Decoded::Frame { flags, body } => got2.push(Ev::Frame(body.to_vec(), flags.more())),
                    super::frame::Decoded::Head { len, flags } => partial = Some((Vec::with_capacity(len), flags.more())),
                    super::frame::Decoded::Part { data, last } => {
                        partial.as_mut().unwrap().0.extend_from_slice(data);
                        if last {
                            let (b, m) = partial.take().unwrap();
                            got2.push(Ev::Frame(b, m));
                        }
                    }
                }
            }
            pos = end;
        }
        prop_assert_eq!(&got2, &expect);
    }

    /// Arbitrary bytes never panic the decoder, a fresh connection, or an
    /// active one; failures are sticky.
    #[test]
    fn arbitrary_input_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000), cut in 1usize..300, v in 0u8..4) {
        let mut d = Decoder::new(500, 300);
        let mut pos = 0;
        while pos < bytes.len() {
            match d.decode(&bytes[pos..]) {
                Ok((used, ev)) => {
                    if used == 0 && ev.is_none() { break; }
                    pos += used;
                }
                Err(_) => break,
            }
        }
        for prefix in [&[][..], &null_preamble(v)[..], &null_preamble(1)[..GREETING_LEN]] {
            let mut c = router();
            let mut stream = prefix.to_vec();
            stream.extend_from_slice(&bytes);
            let mut pos = 0;
            let mut failed = None;
            while pos < stream.len() {
                let end = (pos + cut).min(stream.len());
                match c.handle_input(&stream[pos..end], Instant::from_millis(pos as u64)) {
                    Ok((used, _)) => pos += used,
                    Err(e) => { failed = Some(e); break; }
                }
                if c.handle_auth_verdict(AuthVerdict::Accept).is_ok() { break; }
            }
            if let Some(e) = failed {
                prop_assert_eq!(c.handle_input(b"x", Instant::ZERO).err(), Some(e));
            }
            let mut out = [0u8; 64];
            while c.poll_transmit(&mut out) > 0 {}
            let _ = c.handle_timeout(Instant::MAX);
        }
    }
}

#[cfg(feature = "curve")]
mod curve;

#[test]
fn null_with_verdict_is_judged_before_ready() {
    // Both sides ask (libzmq asks on any NULL socket with a ZAP domain):
    // neither waits for the other's READY, so this cannot deadlock.
    let mut p = Pair::new(
        Peer::new(&Config::new(SocketType::Push), Null::with_verdict(false)),
        Peer::new(&Config::new(SocketType::Pull), Null::with_verdict(false)),
    );
    p.a.judge = |_, _| Some(AuthVerdict::Accept);
    p.b.judge = |_, _| None;
    p.drive();
    assert_eq!(p.b.take_events(), [Ev::Auth(Vec::new(), Vec::new())]);
    assert!(!p.a.conn.is_active() && !p.b.conn.is_active());
    assert_eq!(p.b.conn.handle_auth_verdict(AuthVerdict::Accept), Ok(()));
    p.drive();
    assert!(p.a.conn.is_active() && p.b.conn.is_active());
    assert_eq!(p.b.take_events(), [Ev::Ready(SocketType::Push)]);
    p.a_to_b(&[b"hi"]);
    assert_eq!(p.b.take_events(), [Ev::Frame(b"hi".to_vec(), false)]);
}

#[test]
fn null_with_verdict_rejection_reaches_the_peer() {
    let mut p = Pair::new(
        Peer::null(SocketType::Dealer),
        Peer::new(&Config::new(SocketType::Router), Null::with_verdict(false)),
    );
    p.b.judge = |_, _| Some(AuthVerdict::Reject { status_code: 400 });
    p.drive();
    assert_eq!(p.b.error, Some(Error::AuthenticationFailed));
    assert_eq!(p.a.error, Some(Error::PeerError));
    assert_eq!(p.a.conn.peer_error_reason(), Some(&b"400"[..]));
}
