//! Shared by the CURVE fuzz targets: a genuine CURVE conversation between
//! our client and our server (deterministic keys and randomness), recorded
//! once per socket pair, so that a target can replay one side's bytes,
//! mutated, against a fresh copy of the other side. Only a replay can get
//! the fuzzer past the boxes: it cannot forge a box that opens, but it can
//! alter, cut and extend real ones at every step.

use std::sync::OnceLock;

use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::time::Instant;
use zlink_mq_core::zmtp::curve::{CurveClient, CurveServer, KeyPair, Random, RandomError, SecretKey};
use zlink_mq_core::zmtp::frame::FrameWriter;
use zlink_mq_core::zmtp::{AnyMechanism, AuthVerdict, Config, Connection, Event};

/// Socket pairs (client, server) the conversations are recorded for.
pub const PAIRS: [(SocketType, SocketType); 3] = [
    (SocketType::Dealer, SocketType::Router),
    (SocketType::Sub, SocketType::XPub),
    (SocketType::Req, SocketType::Rep),
];

/// Messages the client sends once connected (each a single frame; the
/// 2000-byte one is larger than the connection's capacity).
pub fn client_messages() -> [&'static [u8]; 4] {
    static BIG: [u8; 2000] = [0x5a; 2000];
    [b"hello", b"", &[7; 300], &BIG]
}

/// Messages the server sends once connected.
pub fn server_messages() -> [&'static [u8]; 3] {
    static BIG: [u8; 1500] = [0xa5; 1500];
    [b"welcome", &[1; 255], &BIG]
}

/// SplitMix64: deterministic bytes, so a fresh mechanism built with the
/// same seed draws the same keys, cookie and nonces as the recorded one.
pub struct Rng(pub u64);

impl Random for Rng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomError> {
        for b in dest {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            *b = (z ^ (z >> 31)) as u8;
        }
        Ok(())
    }
}

pub const CLIENT_SEED: u64 = 1;
pub const SERVER_SEED: u64 = 2;

pub fn server_keys() -> KeyPair {
    KeyPair::from_secret(SecretKey::from_bytes([0x42; 32]))
}

pub fn client_keys() -> KeyPair {
    KeyPair::from_secret(SecretKey::from_bytes([0x24; 32]))
}

pub fn new_client() -> CurveClient {
    CurveClient::new(&client_keys(), *server_keys().public_key(), &mut Rng(CLIENT_SEED)).unwrap()
}

pub fn new_server() -> CurveServer {
    CurveServer::new(&server_keys(), &mut Rng(SERVER_SEED)).unwrap()
}

pub fn connection(socket_type: SocketType, m: impl Into<AnyMechanism>, max: Option<u64>) -> Connection {
    let config = Config {
        max_msg_size: max,
        ..Config::new(socket_type)
    };
    Connection::new(&config, m.into(), Instant::ZERO).unwrap()
}

/// What each side of pair `index` sent in the genuine conversation.
pub struct Recording {
    pub client: Vec<u8>,
    pub server: Vec<u8>,
}

pub fn recording(index: usize) -> &'static Recording {
    static CELLS: [OnceLock<Recording>; PAIRS.len()] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    CELLS[index].get_or_init(|| record(PAIRS[index]))
}

fn record((client_type, server_type): (SocketType, SocketType)) -> Recording {
    let mut c = connection(client_type, new_client(), None);
    let mut s = connection(server_type, new_server(), None);
    let mut rec = Recording {
        client: Vec::new(),
        server: Vec::new(),
    };
    let (mut c_in, mut s_in) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        transmit(&mut c, &mut rec.client, &mut s_in);
        transmit(&mut s, &mut rec.server, &mut c_in);
        drain(&mut s, &mut s_in);
        drain(&mut c, &mut c_in);
        if c.is_active() && s.is_active() {
            break;
        }
    }
    assert!(c.is_active() && s.is_active(), "the recorded handshake completes");
    transmit(&mut c, &mut rec.client, &mut s_in);
    transmit(&mut s, &mut rec.server, &mut c_in);
    let mut buf = vec![0u8; 8192];
    if client_type == SocketType::Sub {
        let mut w = FrameWriter::new(&mut buf);
        c.encode_subscribe(&mut w, b"topic").unwrap();
        c.encode_cancel(&mut w, b"").unwrap();
        let n = w.len();
        rec.client.extend_from_slice(&buf[..n]);
    } else {
        for m in client_messages() {
            let mut w = FrameWriter::new(&mut buf);
            c.encode_frame(&mut w, m, false).unwrap();
            let n = w.len();
            rec.client.extend_from_slice(&buf[..n]);
        }
    }
    if server_type != SocketType::Rep {
        for m in server_messages() {
            let mut w = FrameWriter::new(&mut buf);
            s.encode_frame(&mut w, m, false).unwrap();
            let n = w.len();
            rec.server.extend_from_slice(&buf[..n]);
        }
    }
    rec
}

fn transmit(conn: &mut Connection, sent: &mut Vec<u8>, peer_in: &mut Vec<u8>) {
    let mut out = [0u8; 512];
    loop {
        let n = conn.poll_transmit(&mut out);
        if n == 0 {
            return;
        }
        sent.extend_from_slice(&out[..n]);
        peer_in.extend_from_slice(&out[..n]);
    }
}

fn drain(conn: &mut Connection, input: &mut Vec<u8>) {
    let mut pos = 0;
    loop {
        let (used, ev) = conn.handle_input(&input[pos..], Instant::ZERO).unwrap();
        pos += used;
        match ev {
            Some(Event::AuthRequest(_)) => conn.handle_auth_verdict(AuthVerdict::Accept).unwrap(),
            None if used == 0 => break,
            _ => {}
        }
    }
    input.drain(..pos);
}

/// Applies the fuzzer's edits to a recorded stream: `edits` is read as
/// (offset: u16 BE, xor: u8) triples, each flipping bits of one byte (an
/// xor of 0 truncates the stream there), then `tail` is appended.
pub fn mutate(recorded: &[u8], edits: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut stream = recorded.to_vec();
    for e in edits.chunks_exact(3) {
        if stream.is_empty() {
            break;
        }
        let at = usize::from(u16::from_be_bytes([e[0], e[1]])) % stream.len();
        if e[2] == 0 {
            stream.truncate(at);
        } else {
            stream[at] ^= e[2];
        }
    }
    stream.extend_from_slice(tail);
    stream
}

/// What a connection reported, copied out; sealed frames larger than the
/// capacity are assembled and opened as a caller must.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    Active,
    Auth,
    Frame(Vec<u8>, bool),
    Subscribe(Vec<u8>),
    Cancel(Vec<u8>),
    Ping,
    Pong,
}

/// An event with its bytes copied out (so the connection can be used
/// again before it is handled).
enum Owned {
    Seen(Seen),
    Auth,
    SealedHead(usize),
    Part(Vec<u8>, bool),
    Other,
}

fn own(ev: Event<'_>) -> Owned {
    match ev {
        Event::HandshakeComplete { .. } => Owned::Seen(Seen::Active),
        Event::AuthRequest(_) => Owned::Auth,
        Event::SealedHead { len } => Owned::SealedHead(len),
        Event::FrameHead { .. } => panic!("a sealing connection never announces clear frames"),
        Event::FramePart { data, last } => Owned::Part(data.to_vec(), last),
        ev => match opened(ev) {
            Some(seen) => Owned::Seen(seen),
            None => Owned::Other,
        },
    }
}

/// What a frame event (from the input or from `open_frame`) carried.
fn opened(ev: Event<'_>) -> Option<Seen> {
    Some(match ev {
        Event::Frame { data, more } => Seen::Frame(data.to_vec(), more),
        Event::Subscribe { topic } => Seen::Subscribe(topic.to_vec()),
        Event::Cancel { topic } => Seen::Cancel(topic.to_vec()),
        Event::Ping { .. } => Seen::Ping,
        Event::Pong => Seen::Pong,
        _ => return None,
    })
}

/// Feeds `stream` to `conn` in `chunk`-byte pieces, answering verdicts
/// with `accept`; returns what it saw and the error it ended with.
pub fn feed(
    conn: &mut Connection,
    stream: &[u8],
    chunk: usize,
    accept: bool,
) -> (Vec<Seen>, Option<zlink_mq_core::zmtp::Error>) {
    let mut seen = Vec::new();
    // A sealed frame larger than the capacity, being assembled.
    let mut sealed: Option<(Vec<u8>, usize)> = None;
    let mut out = [0u8; 64];
    let mut pos = 0;
    let mut now = Instant::ZERO;
    while pos < stream.len() {
        let end = (pos + chunk).min(stream.len());
        let (used, ev) = match conn.handle_input(&stream[pos..end], now) {
            Ok((used, ev)) => (used, ev.map(own)),
            Err(e) => return (seen, Some(e)),
        };
        assert!(used <= end - pos);
        pos += used;
        match ev {
            // The connection takes every byte it is offered, unless it
            // waits for a verdict (answered at once here) or has failed.
            None if used == 0 => break,
            None | Some(Owned::Other) => {}
            Some(Owned::Seen(s)) => seen.push(s),
            Some(Owned::Auth) => {
                seen.push(Seen::Auth);
                let v = if accept {
                    AuthVerdict::Accept
                } else {
                    AuthVerdict::Reject { status_code: 400 }
                };
                if let Err(e) = conn.handle_auth_verdict(v) {
                    return (seen, Some(e));
                }
            }
            Some(Owned::SealedHead(len)) => {
                assert!(sealed.is_none());
                // Without MAXMSGSIZE `len` is whatever the peer announced:
                // grow with what actually arrives.
                sealed = Some((Vec::with_capacity(len.min(1 << 16)), len));
            }
            Some(Owned::Part(data, last)) => {
                let (buf, len) = sealed.as_mut().expect("parts follow a SealedHead");
                buf.extend_from_slice(&data);
                assert!(buf.len() <= *len);
                if last {
                    let (mut buf, len) = sealed.take().unwrap();
                    assert_eq!(buf.len(), len);
                    match conn.open_frame(&mut buf, now) {
                        Ok(Some(ev)) => seen.push(opened(ev).expect("a frame or command")),
                        Ok(None) => {}
                        Err(e) => return (seen, Some(e)),
                    }
                }
            }
        }
        while conn.poll_transmit(&mut out) > 0 {}
        if let Some(e) = conn.failure() {
            return (seen, Some(e));
        }
        now += core::time::Duration::from_millis(3);
    }
    (seen, conn.failure())
}
