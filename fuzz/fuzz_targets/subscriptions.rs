//! A publisher's connection fed a hostile subscriber's bytes after a valid
//! handshake: SUBSCRIBE / CANCEL commands of any length (whole in the
//! input, or handed out as a head and parts), data frames and other
//! commands, with MAXMSGSIZE and the capacity `N` drawn per case.
//!
//! The oracle is the chunking itself: the same bytes fed at once and in
//! pieces of drawn sizes must give the same subscriptions, frames and
//! error, once pieces are put back together. Along the way: parts are
//! never empty, add up to the announced length, and only the last says so.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::time::Instant;
use zlink_mq_core::zmtp::greeting::{Greeting, MechanismName};
use zlink_mq_core::zmtp::mechanism::Mechanism;
use zlink_mq_core::zmtp::null::Null;
use zlink_mq_core::zmtp::{Config, Connection, Error, Event};

/// What the connection reported, with pieces put back together.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Subscribe(Vec<u8>),
    Cancel(Vec<u8>),
    Frame(Vec<u8>, bool),
    Failed(Error),
}

/// A whole item being reassembled from a head and parts.
enum Partial {
    Frame(Vec<u8>, usize, bool),
    Subscription(Vec<u8>, usize, bool),
}

fn run<const N: usize>(config: &Config<'_>, stream: &[u8], cuts: &[u8]) -> Vec<Seen> {
    let mut conn: Connection<Null, N> =
        Connection::new(config, Null::new(false), Instant::ZERO).unwrap();
    let mut out = [0u8; 64];
    let mut seen = Vec::new();
    let mut partial: Option<Partial> = None;
    let mut pos = 0;
    let mut cut = 0;
    while pos < stream.len() {
        let size = cuts.get(cut).map_or(usize::MAX, |&c| usize::from(c) * 37 + 1);
        cut += 1;
        let end = pos.saturating_add(size).min(stream.len());
        let mut chunk = &stream[pos..end];
        pos = end;
        loop {
            let (used, event) = match conn.handle_input(chunk, Instant::ZERO) {
                Ok(r) => r,
                Err(e) => {
                    seen.push(Seen::Failed(e));
                    return seen;
                }
            };
            assert!(used <= chunk.len());
            chunk = &chunk[used..];
            let Some(event) = event else {
                assert!(chunk.is_empty(), "bytes left without an event");
                break;
            };
            match event {
                Event::Subscribe { topic } => seen.push(Seen::Subscribe(topic.to_vec())),
                Event::Cancel { topic } => seen.push(Seen::Cancel(topic.to_vec())),
                Event::Frame { data, more } => seen.push(Seen::Frame(data.to_vec(), more)),
                Event::FrameHead { len, more } => {
                    assert!(partial.is_none() && len > 0);
                    partial = Some(Partial::Frame(Vec::new(), len, more));
                }
                Event::SubscriptionHead { subscribe, len } => {
                    assert!(partial.is_none() && len > 0 && len > N - 10);
                    partial = Some(Partial::Subscription(Vec::new(), len, subscribe));
                }
                Event::FramePart { data, last } | Event::SubscriptionPart { data, last } => {
                    assert!(!data.is_empty());
                    let is_frame = matches!(event, Event::FramePart { .. });
                    let (buf, len) = match partial.as_mut() {
                        Some(Partial::Frame(buf, len, _)) if is_frame => (buf, *len),
                        Some(Partial::Subscription(buf, len, _)) if !is_frame => (buf, *len),
                        _ => panic!("a part of nothing announced"),
                    };
                    buf.extend_from_slice(data);
                    assert!(buf.len() <= len);
                    assert_eq!(last, buf.len() == len);
                    if last {
                        seen.push(match partial.take() {
                            Some(Partial::Frame(buf, _, more)) => Seen::Frame(buf, more),
                            Some(Partial::Subscription(buf, _, true)) => Seen::Subscribe(buf),
                            Some(Partial::Subscription(buf, _, false)) => Seen::Cancel(buf),
                            None => unreachable!(),
                        });
                    }
                }
                Event::Ping { .. } | Event::Pong | Event::HandshakeComplete { .. } => {}
                other => panic!("unexpected after the handshake: {other:?}"),
            }
        }
        while conn.poll_transmit(&mut out) > 0 {}
    }
    seen
}

/// Greeting and READY of a ZMTP 3.1 NULL peer of type `peer`.
fn handshake(peer: SocketType) -> Vec<u8> {
    let mut stream = Greeting::ours(MechanismName::NULL, false).to_bytes().to_vec();
    let name = peer.zmtp_name();
    let mut body = b"\x05READY\x0bSocket-Type".to_vec();
    body.extend_from_slice(&(name.len() as u32).to_be_bytes());
    body.extend_from_slice(name.as_bytes());
    stream.extend_from_slice(&[0x04, body.len() as u8]);
    stream.extend_from_slice(&body);
    stream
}

fuzz_target!(|data: &[u8]| {
    let Some((&[kind, limit, ncuts], rest)) = data.split_first_chunk::<3>() else {
        return;
    };
    let (ours, peer) = [
        (SocketType::Pub, SocketType::Sub),
        (SocketType::XPub, SocketType::XSub),
        (SocketType::Pub, SocketType::XSub),
        (SocketType::Dealer, SocketType::Router),
    ][usize::from(kind % 4)];
    let cuts_len = usize::from(ncuts).min(rest.len());
    let (cuts, body) = rest.split_at(cuts_len);
    let max_msg_size = match limit % 4 {
        0 => None,
        l => Some(u64::from(limit) * 16 * u64::from(l)),
    };
    let config = Config {
        max_msg_size,
        ..Config::new(ours)
    };
    // The handshake must complete for the interesting part; a mechanism
    // that needs more room than N cannot be configured.
    assert!(Null::new(false).max_command_len(0) < 256);
    let mut stream = handshake(peer);
    stream.extend_from_slice(body);
    if kind & 0x80 == 0 {
        let whole = run::<256>(&config, &stream, &[]);
        let pieces = run::<256>(&config, &stream, cuts);
        assert_eq!(whole, pieces);
    } else {
        let whole = run::<1024>(&config, &stream, &[]);
        let pieces = run::<1024>(&config, &stream, cuts);
        assert_eq!(whole, pieces);
    }
});
