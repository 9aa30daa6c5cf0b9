//! What real libzmq 4.3.4 puts on the wire, captured once into
//! `tests/data/` and checked on every run.
//!
//! Re-capture (needs nothing but this crate's dev-dependencies):
//!
//! ```sh
//! cargo test --test zmtp_capture -- --ignored capture_libzmq
//! ```
//!
//! The capture side speaks ZMTP by hand (fixed bytes built from the RFC
//! layouts) over a raw TCP connection, so what it records is libzmq's, not
//! an echo of our engine. The checks then parse the recordings with our
//! greeting / frame / command / metadata code and feed them to a
//! `Connection`.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use zlink_mq::core::socket_type::SocketType;
use zlink_mq::core::time::Instant;
use zlink_mq::core::zmtp::command::Command;
use zlink_mq::core::zmtp::frame::{Decoded, Decoder};
use zlink_mq::core::zmtp::greeting::{GREETING_LEN, GreetingParser, MechanismName};
use zlink_mq::core::zmtp::metadata::Metadata;
use zlink_mq::core::zmtp::null::Null;
use zlink_mq::core::zmtp::plain::{PlainClient, PlainServer};
use zlink_mq::core::zmtp::{AnyMechanism, AuthVerdict, Config, Connection, Credentials, Event};

fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

const NULL_CAPTURE: &str = "libzmq-4.3.4-null-dealer.bin";
const PLAIN_SERVER_CAPTURE: &str = "libzmq-4.3.4-plain-server.bin";
const PLAIN_CLIENT_CAPTURE: &str = "libzmq-4.3.4-plain-client.bin";
const SUB_CAPTURE: &str = "libzmq-4.3.4-sub.bin";
const PING_CAPTURE: &str = "libzmq-4.3.4-ping.bin";

// ---- the hand-made peer used for capturing ----

fn greeting(mechanism: &[u8], as_server: bool) -> Vec<u8> {
    let mut g = vec![0u8; 64];
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = 1;
    g[12..12 + mechanism.len()].copy_from_slice(mechanism);
    g[32] = u8::from(as_server);
    g
}

fn command(body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 256);
    let mut v = vec![0x04, body.len() as u8];
    v.extend_from_slice(body);
    v
}

fn socket_type_prop(name: &str) -> Vec<u8> {
    let mut v = b"\x0bSocket-Type".to_vec();
    v.extend_from_slice(&(name.len() as u32).to_be_bytes());
    v.extend_from_slice(name.as_bytes());
    v
}

/// Number of complete frames after the greeting in `rec`.
fn frames_after_greeting(rec: &[u8]) -> usize {
    if rec.len() < GREETING_LEN {
        return 0;
    }
    let mut d = Decoder::new(u64::MAX, u64::MAX);
    let mut rest = &rec[GREETING_LEN..];
    let mut n = 0;
    loop {
        match d.decode(rest) {
            Ok((used, Some(Decoded::Frame { .. }))) => {
                n += 1;
                rest = &rest[used..];
            }
            _ => return n,
        }
    }
}

/// Reads into `rec` until it holds the greeting and `frames` frames.
fn read_until(s: &mut TcpStream, rec: &mut Vec<u8>, frames: usize) {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 4096];
    while frames_after_greeting(rec) < frames {
        let n = s.read(&mut buf).expect("libzmq sent too little");
        assert!(n > 0, "libzmq closed the connection");
        rec.extend_from_slice(&buf[..n]);
    }
}

fn save(name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(data_path("")).unwrap();
    std::fs::write(data_path(name), bytes).unwrap();
}

#[test]
#[ignore = "re-captures tests/data from libzmq; run by hand"]
fn capture_libzmq() {
    let ctx = zmq::Context::new();
    let _zap = common::zmtp::spawn_zap_handler(&ctx);
    let sock = |kind| {
        let s = ctx.socket(kind).unwrap();
        s.set_linger(0).unwrap();
        s.set_sndtimeo(10_000).unwrap();
        s
    };

    // NULL: a DEALER with identity "cap" greets us, says READY, and sends a
    // two-frame message.
    let dealer = sock(zmq::DEALER);
    dealer.set_identity(b"cap").unwrap();
    dealer.bind("tcp://127.0.0.1:*").unwrap();
    let mut s = TcpStream::connect(common::zmtp::endpoint(&dealer)).unwrap();
    s.write_all(&greeting(b"NULL", false)).unwrap();
    s.write_all(&command(
        &[b"\x05READY", &socket_type_prop("DEALER")[..]].concat(),
    ))
    .unwrap();
    let mut rec = Vec::new();
    read_until(&mut s, &mut rec, 1);
    dealer.send_multipart([&b"hello"[..], b"world"], 0).unwrap();
    read_until(&mut s, &mut rec, 3);
    save(NULL_CAPTURE, &rec);

    // PLAIN server (REP with ZAP): its greeting, WELCOME, READY.
    let rep = sock(zmq::REP);
    rep.set_plain_server(true).unwrap();
    rep.set_zap_domain("capture").unwrap();
    rep.bind("tcp://127.0.0.1:*").unwrap();
    let mut s = TcpStream::connect(common::zmtp::endpoint(&rep)).unwrap();
    s.write_all(&greeting(b"PLAIN", false)).unwrap();
    s.write_all(&command(b"\x05HELLO\x05admin\x06secret"))
        .unwrap();
    let mut rec = Vec::new();
    read_until(&mut s, &mut rec, 1);
    s.write_all(&command(
        &[b"\x08INITIATE", &socket_type_prop("REQ")[..]].concat(),
    ))
    .unwrap();
    read_until(&mut s, &mut rec, 2);
    save(PLAIN_SERVER_CAPTURE, &rec);

    // PLAIN client (DEALER): its greeting, HELLO, INITIATE.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = sock(zmq::DEALER);
    client.set_plain_username(Some("admin")).unwrap();
    client.set_plain_password(Some("secret")).unwrap();
    client
        .connect(&format!("tcp://{}", l.local_addr().unwrap()))
        .unwrap();
    let (mut s, _) = l.accept().unwrap();
    s.write_all(&greeting(b"PLAIN", true)).unwrap();
    let mut rec = Vec::new();
    read_until(&mut s, &mut rec, 1);
    s.write_all(&command(b"\x07WELCOME")).unwrap();
    read_until(&mut s, &mut rec, 2);
    save(PLAIN_CLIENT_CAPTURE, &rec);

    // SUB: greeting, READY, then its subscription.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let sub = sock(zmq::SUB);
    sub.set_subscribe(b"topic").unwrap();
    sub.connect(&format!("tcp://{}", l.local_addr().unwrap()))
        .unwrap();
    let (mut s, _) = l.accept().unwrap();
    s.write_all(&greeting(b"NULL", true)).unwrap();
    s.write_all(&command(
        &[b"\x05READY", &socket_type_prop("PUB")[..]].concat(),
    ))
    .unwrap();
    let mut rec = Vec::new();
    read_until(&mut s, &mut rec, 2);
    save(SUB_CAPTURE, &rec);

    // Heartbeats: a PAIR with HEARTBEAT_IVL 100 ms and TTL 2 s sends PING.
    let pair = sock(zmq::PAIR);
    pair.set_heartbeat_ivl(100).unwrap();
    pair.set_heartbeat_ttl(2_000).unwrap();
    pair.bind("tcp://127.0.0.1:*").unwrap();
    let mut s = TcpStream::connect(common::zmtp::endpoint(&pair)).unwrap();
    s.write_all(&greeting(b"NULL", false)).unwrap();
    s.write_all(&command(
        &[b"\x05READY", &socket_type_prop("PAIR")[..]].concat(),
    ))
    .unwrap();
    let mut rec = Vec::new();
    read_until(&mut s, &mut rec, 2);
    save(PING_CAPTURE, &rec);
}

// ---- checks on the committed captures ----

fn load(name: &str) -> Vec<u8> {
    std::fs::read(data_path(name)).unwrap_or_else(|e| panic!("{name}: {e}; run capture_libzmq"))
}

/// The greeting and the frame bodies (with their command flag) of a
/// capture, parsed by our code.
fn parse(
    rec: &[u8],
) -> (
    zlink_mq::core::zmtp::greeting::Greeting,
    Vec<(bool, Vec<u8>)>,
) {
    let mut p = GreetingParser::new();
    let (used, g) = p.feed(rec).unwrap();
    assert_eq!(used, GREETING_LEN);
    let g = g.expect("a whole greeting");
    let mut d = Decoder::new(u64::MAX, u64::MAX);
    let mut rest = &rec[GREETING_LEN..];
    let mut frames = Vec::new();
    while !rest.is_empty() {
        let (used, f) = d.decode(rest).unwrap();
        let Some(Decoded::Frame { flags, body }) = f else {
            panic!("truncated capture")
        };
        frames.push((flags.is_command(), body.to_vec()));
        rest = &rest[used..];
    }
    (g, frames)
}

fn metadata_of(body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let meta = match Command::parse(body).unwrap() {
        Command::Ready { metadata } => metadata,
        Command::Other {
            name: b"INITIATE",
            data,
        } => data,
        other => panic!("not a metadata command: {other:?}"),
    };
    Metadata::parse(meta)
        .unwrap()
        .iter()
        .map(|(k, v)| (String::from_utf8(k.to_vec()).unwrap(), v.to_vec()))
        .collect()
}

#[test]
fn libzmq_null_greeting_ready_and_message() {
    let rec = load(NULL_CAPTURE);
    let (g, frames) = parse(&rec);
    assert_eq!((g.major, g.minor, g.as_server), (3, 1, false));
    assert_eq!(g.mechanism, *MechanismName::NULL.as_field());
    // libzmq's greeting is the RFC layout we build, except that its padding
    // (bytes 1 to 8) carries its routing-id length + 1 as a 64-bit number,
    // for ZMTP 1.0 peers; the RFC says padding is ignored.
    let mut ours =
        zlink_mq::core::zmtp::greeting::Greeting::ours(MechanismName::NULL, false).to_bytes();
    ours[1..9].copy_from_slice(&(b"cap".len() as u64 + 1).to_be_bytes());
    assert_eq!(&rec[..GREETING_LEN], &ours[..]);
    assert_eq!(frames.len(), 3);
    assert!(frames[0].0);
    assert_eq!(
        metadata_of(&frames[0].1),
        [
            ("Socket-Type".to_string(), b"DEALER".to_vec()),
            ("Identity".to_string(), b"cap".to_vec())
        ]
    );
    assert_eq!(
        &rec[GREETING_LEN + 2 + frames[0].1.len()..],
        b"\x01\x05hello\x00\x05world"
    );
}

#[test]
fn libzmq_plain_server_and_client() {
    let (g, frames) = parse(&load(PLAIN_SERVER_CAPTURE));
    assert_eq!(g.mechanism, *MechanismName::PLAIN.as_field());
    // libzmq 4.3 leaves the as-server byte zero even for a PLAIN server.
    assert!(!g.as_server);
    assert_eq!(frames[0], (true, b"\x07WELCOME".to_vec()));
    assert_eq!(
        metadata_of(&frames[1].1),
        [("Socket-Type".to_string(), b"REP".to_vec())]
    );

    let (g, frames) = parse(&load(PLAIN_CLIENT_CAPTURE));
    assert!(!g.as_server);
    assert_eq!(frames[0], (true, b"\x05HELLO\x05admin\x06secret".to_vec()));
    assert_eq!(
        metadata_of(&frames[1].1),
        [
            ("Socket-Type".to_string(), b"DEALER".to_vec()),
            ("Identity".to_string(), vec![])
        ]
    );
}

#[test]
fn libzmq_sub_sends_a_subscribe_command_and_ping_has_ttl() {
    let (_, frames) = parse(&load(SUB_CAPTURE));
    assert_eq!(
        metadata_of(&frames[0].1),
        [("Socket-Type".to_string(), b"SUB".to_vec())]
    );
    assert_eq!(frames[1], (true, b"\x09SUBSCRIBEtopic".to_vec()));

    let (_, frames) = parse(&load(PING_CAPTURE));
    // TTL 2000 ms is 20 tenths of a second; libzmq sends no context.
    assert_eq!(frames[1], (true, b"\x04PING\x00\x14".to_vec()));
    assert_eq!(
        Command::parse(&frames[1].1),
        Ok(Command::Ping {
            ttl_deciseconds: 20,
            context: b""
        })
    );
}

/// Feeds a capture to a connection one byte at a time; returns a summary
/// of the events and the connection.
fn replay(rec: &[u8], config: &Config<'_>, mechanism: AnyMechanism) -> (Vec<String>, Connection) {
    let mut c = Connection::new(config, mechanism, Instant::ZERO).unwrap();
    let mut events = Vec::new();
    let mut partial: Option<(Vec<u8>, bool)> = None;
    let mut sink = [0u8; 256];
    for b in rec.chunks(1) {
        let mut at = 0;
        loop {
            while c.poll_transmit(&mut sink) > 0 {}
            let (used, ev) = c.handle_input(&b[at..], Instant::ZERO).unwrap();
            at += used;
            let Some(ev) = ev else { break };
            events.push(match ev {
                Event::HandshakeComplete { peer_type, .. } => format!("ready {peer_type}"),
                Event::AuthRequest(Credentials::Plain { username, password }) => {
                    let s = format!(
                        "auth {}:{}",
                        String::from_utf8_lossy(username),
                        String::from_utf8_lossy(password)
                    );
                    c.handle_auth_verdict(AuthVerdict::Accept).unwrap();
                    s
                }
                Event::Frame { data, more } => {
                    format!("frame {} {more}", String::from_utf8_lossy(data))
                }
                Event::FrameHead { len, more } => {
                    partial = Some((Vec::with_capacity(len), more));
                    continue;
                }
                Event::FramePart { data, last } => {
                    let p = partial.as_mut().expect("part after head");
                    p.0.extend_from_slice(data);
                    if !last {
                        continue;
                    }
                    let (data, more) = partial.take().unwrap();
                    format!("frame {} {more}", String::from_utf8_lossy(&data))
                }
                Event::Subscribe { topic } => {
                    format!("subscribe {}", String::from_utf8_lossy(topic))
                }
                Event::Ping { ttl } => format!("ping {ttl:?}"),
                other => format!("{other:?}"),
            });
        }
    }
    (events, c)
}

#[test]
fn our_connection_accepts_every_capture() {
    let (ev, c) = replay(
        &load(NULL_CAPTURE),
        &Config::new(SocketType::Dealer),
        Null::new(false).into(),
    );
    assert_eq!(
        ev,
        ["ready DEALER", "frame hello true", "frame world false"]
    );
    assert_eq!(c.peer_metadata().unwrap().identity(), Some(&b"cap"[..]));

    let client = PlainClient::new(b"admin", b"secret").unwrap();
    let (ev, _) = replay(
        &load(PLAIN_SERVER_CAPTURE),
        &Config::new(SocketType::Req),
        client.into(),
    );
    assert_eq!(ev, ["ready REP"]);

    let (ev, _) = replay(
        &load(PLAIN_CLIENT_CAPTURE),
        &Config::new(SocketType::Router),
        PlainServer::new().into(),
    );
    assert_eq!(ev, ["auth admin:secret", "ready DEALER"]);

    let (ev, _) = replay(
        &load(SUB_CAPTURE),
        &Config::new(SocketType::Pub),
        Null::new(true).into(),
    );
    assert_eq!(ev, ["ready SUB", "subscribe topic"]);

    let (ev, _) = replay(
        &load(PING_CAPTURE),
        &Config::new(SocketType::Pair),
        Null::new(false).into(),
    );
    assert_eq!(ev, ["ready PAIR", "ping Some(2s)"]);
}
