//! CURVE through the connection: two connections back to back, every frame
//! sealed, under any chunking; refusals fail the connection cleanly.

use super::*;
use crate::z85;
use crate::zmtp::connection::DEFAULT_HANDSHAKE_IVL;
use crate::zmtp::curve::tests::{CLIENT_PUBLIC, TestRng, client_keys, server_keys};
use crate::zmtp::curve::{
    CurveClient, CurveCommand, CurveError, CurveServer, KeyPair, MESSAGE_OVERHEAD,
};

/// Accepts the libzmq test client's key only.
fn allow_test_client(key: &[u8], _: &[u8]) -> Option<AuthVerdict> {
    Some(if key == z85::decode_key(CLIENT_PUBLIC).unwrap() {
        AuthVerdict::Accept
    } else {
        AuthVerdict::Reject { status_code: 400 }
    })
}

fn curve_peers_with(
    client: (&Config<'_>, &KeyPair),
    server: &Config<'_>,
    server_public: [u8; 32],
    seed: u64,
) -> Pair {
    let mut rng = TestRng(seed);
    let c = Peer::new(
        client.0,
        CurveClient::new(client.1, server_public, &mut rng).unwrap(),
    );
    let mut s = Peer::new(server, CurveServer::new(&server_keys(), &mut rng).unwrap());
    s.judge = allow_test_client;
    Pair::new(c, s)
}

fn curve_pair(client: SocketType, server: SocketType) -> Pair {
    curve_peers_with(
        (&Config::new(client), &client_keys()),
        &Config::new(server),
        *server_keys().public_key(),
        1,
    )
}

fn client_public() -> Vec<u8> {
    z85::decode_key(CLIENT_PUBLIC).unwrap().to_vec()
}

#[test]
fn handshake_and_messages_both_ways_in_any_chunking() {
    for (client, server) in [
        (SocketType::Dealer, SocketType::Router),
        (SocketType::Router, SocketType::Dealer),
        (SocketType::Push, SocketType::Pull),
        (SocketType::Pull, SocketType::Push),
    ] {
        for chunk in [1, 7, 200, usize::MAX] {
            let mut p = curve_pair(client, server);
            p.chunk = chunk;
            p.drive();
            assert_eq!((p.a.error, p.b.error), (None, None), "{client}-{server}");
            assert!(p.a.conn.is_active() && p.b.conn.is_active());
            assert!(p.a.conn.seals_frames() && p.b.conn.seals_frames());
            assert_eq!(p.a.take_events(), [Ev::Ready(server)]);
            assert_eq!(
                p.b.take_events(),
                [Ev::CurveAuth(client_public()), Ev::Ready(client)]
            );
            // Metadata travelled inside the boxes.
            assert_eq!(p.b.conn.peer_socket_type(), Some(client));
            assert!(
                !p.a.sent
                    .windows(4)
                    .any(|w| w == client.zmtp_name().as_bytes())
            );

            // Small, empty, multipart and larger than the capacity N (which
            // then comes as SealedHead and parts), both ways.
            let big = vec![0x5a; 4000];
            let frames: &[&[u8]] = &[b"\x02id", b"", &big, b"tail"];
            let expect: Vec<Ev> = frames
                .iter()
                .enumerate()
                .map(|(i, f)| Ev::Frame(f.to_vec(), i + 1 < frames.len()))
                .collect();
            let before = p.a.sent.len();
            p.a_to_b(frames);
            assert_eq!(p.b.take_events(), expect, "{client}-{server} chunk {chunk}");
            let wire = &p.a.sent[before..];
            assert_eq!(&wire[..2], &[0x00, 3 + MESSAGE_OVERHEAD as u8]);
            assert_eq!(&wire[2..10], b"\x07MESSAGE");
            assert!(!wire.windows(4).any(|w| w == b"tail"));
            assert!(!wire.windows(64).any(|w| w == &big[..64]));
            let mut out = Vec::new();
            p.b.send(frames, &mut out);
            p.a.inbox.extend_from_slice(&out);
            p.drive();
            assert_eq!(p.a.take_events(), expect);
            assert_eq!((p.a.error, p.b.error), (None, None));
        }
    }
}

#[test]
fn wire_layout_of_the_handshake() {
    let mut p = curve_pair(SocketType::Dealer, SocketType::Router);
    p.drive();
    assert_eq!(&p.a.sent[12..17], b"CURVE");
    assert_eq!(p.a.sent[32], 0, "client: as-server 0");
    assert_eq!(p.b.sent[32], 1, "server: as-server 1");
    // HELLO (200), then INITIATE (257 + metadata), as command frames.
    let c = &p.a.sent[GREETING_LEN..];
    assert_eq!(&c[..3], b"\x04\xc8\x05");
    assert_eq!(&c[3..8], b"HELLO");
    // Socket-Type DEALER and an empty Identity.
    let meta_len = (1 + 11 + 4 + 6) + (1 + 8 + 4);
    let initiate = &c[202..];
    assert_eq!(initiate[0], 0x06, "long command frame");
    assert_eq!(initiate[1..9], ((257 + meta_len) as u64).to_be_bytes());
    assert_eq!(&initiate[9..18], b"\x08INITIATE");
    assert_eq!(initiate.len(), 9 + 257 + meta_len);
    // WELCOME (168), then READY (30 + metadata).
    let s = &p.b.sent[GREETING_LEN..];
    assert_eq!(&s[..10], b"\x04\xa8\x07WELCOME");
    assert_eq!(&s[170..178], b"\x04\x41\x05READY");
    assert_eq!(s.len(), 170 + 2 + 30 + meta_len);
}

#[test]
fn subscriptions_travel_sealed_to_3_1_and_3_0_publishers() {
    for (pub_type, sub_type) in [
        (SocketType::Pub, SocketType::Sub),
        (SocketType::XPub, SocketType::XSub),
    ] {
        for v30 in [false, true] {
            for chunk in [1, usize::MAX] {
                // The subscriber is the CURVE client here.
                let mut p = curve_pair(sub_type, pub_type);
                p.b.as_v3_0 = v30;
                p.chunk = chunk;
                p.drive();
                assert!(p.a.conn.is_active() && p.b.conn.is_active());
                p.a.take_events();
                p.b.take_events();
                let mut buf = [0u8; 1000];
                let mut w = FrameWriter::new(&mut buf);
                p.a.conn.encode_subscribe(&mut w, b"topic").unwrap();
                p.a.conn.encode_cancel(&mut w, b"").unwrap();
                let long = [b'L'; 300];
                p.a.conn.encode_subscribe(&mut w, &long).unwrap();
                let n = w.len();
                assert!(!buf[..n].windows(5).any(|w| w == b"topic"));
                assert_eq!(&buf[2..10], b"\x07MESSAGE");
                p.b.inbox.extend_from_slice(&buf[..n]);
                p.drive();
                assert_eq!(
                    p.b.take_events(),
                    [
                        Ev::Subscribe(b"topic".to_vec()),
                        Ev::Cancel(vec![]),
                        Ev::Subscribe(long.to_vec())
                    ],
                    "{pub_type} v3.0={v30} chunk={chunk}"
                );
                // Messages to the subscriber.
                let mut out = Vec::new();
                p.b.send(&[b"topic", b"body"], &mut out);
                p.a.inbox.extend_from_slice(&out);
                p.drive();
                assert_eq!(
                    p.a.take_events(),
                    [
                        Ev::Frame(b"topic".to_vec(), true),
                        Ev::Frame(b"body".to_vec(), false)
                    ]
                );
            }
        }
    }
}

#[test]
fn heartbeats_travel_sealed() {
    let mut p = curve_peers_with(
        (
            &heartbeat_cfg(SocketType::Dealer, 1_000, Some(3_000)),
            &client_keys(),
        ),
        &Config::new(SocketType::Dealer),
        *server_keys().public_key(),
        2,
    );
    p.drive();
    assert!(p.a.conn.is_active() && p.b.conn.is_active());
    p.a.take_events();
    p.b.take_events();
    let (a_before, b_before) = (p.a.sent.len(), p.b.sent.len());
    p.advance(Duration::from_millis(3_000));
    assert_eq!(
        p.b.take_events(),
        vec![Ev::Ping(Some(Duration::from_secs(3))); 3]
    );
    assert_eq!(p.a.take_events(), vec![Ev::Pong; 3]);
    // Each PING and PONG a MESSAGE in a data frame, nothing in clear.
    let pings = &p.a.sent[a_before..];
    let pongs = &p.b.sent[b_before..];
    assert_eq!(pings.len(), 3 * (2 + MESSAGE_OVERHEAD + 7));
    assert_eq!(pongs.len(), 3 * (2 + MESSAGE_OVERHEAD + 5));
    assert_eq!(&pings[..10], b"\x00\x28\x07MESSAGE");
    assert!(!pings.windows(4).any(|w| w == b"PING"));
    assert!(!pongs.windows(4).any(|w| w == b"PONG"));
    // b goes silent: the timeout still applies.
    p.cut_ba = true;
    p.advance(Duration::from_millis(2_000));
    assert_eq!(p.a.error, Some(Error::HeartbeatTimeout));
}

#[test]
fn unknown_client_key_is_rejected_with_error() {
    let mut rng = TestRng(40);
    let stranger = KeyPair::generate(&mut rng).unwrap();
    let mut p = curve_peers_with(
        (&Config::new(SocketType::Req), &stranger),
        &Config::new(SocketType::Rep),
        *server_keys().public_key(),
        3,
    );
    p.drive();
    assert_eq!(
        p.b.take_events(),
        [Ev::CurveAuth(stranger.public_key().to_vec())]
    );
    assert_eq!(p.b.error, Some(Error::AuthenticationFailed));
    assert_eq!(p.a.error, Some(Error::PeerError));
    assert_eq!(p.a.conn.peer_error_reason(), Some(&b"400"[..]));
    assert!(!p.a.conn.is_active() && !p.b.conn.is_active());
}

#[test]
fn verdict_may_come_later() {
    let mut p = curve_pair(SocketType::Push, SocketType::Pull);
    p.b.judge = |_, _| None;
    p.drive();
    assert_eq!(p.b.take_events(), [Ev::CurveAuth(client_public())]);
    assert!(!p.b.conn.is_active());
    p.b.conn.handle_auth_verdict(AuthVerdict::Accept).unwrap();
    p.drive();
    assert!(p.a.conn.is_active() && p.b.conn.is_active());
    assert_eq!(p.b.take_events(), [Ev::Ready(SocketType::Push)]);
    p.a_to_b(&[b"late"]);
    assert_eq!(p.b.take_events(), [Ev::Frame(b"late".to_vec(), false)]);
}

#[test]
fn wrong_server_key_fails_the_server_without_an_answer() {
    let mut rng = TestRng(41);
    let other = KeyPair::generate(&mut rng).unwrap();
    let mut p = curve_peers_with(
        (&Config::new(SocketType::Dealer), &client_keys()),
        &Config::new(SocketType::Router),
        *other.public_key(),
        4,
    );
    p.drive();
    assert_eq!(
        p.b.error,
        Some(Error::Curve(CurveError::Cryptographic(CurveCommand::Hello)))
    );
    // Nothing but the greeting: RFC 26 sends no ERROR to a client that
    // has not proved anything.
    assert_eq!(p.b.sent.len(), GREETING_LEN);
    assert_eq!(p.a.error, None);
    assert!(!p.a.conn.is_active());
    // The client gives up at the handshake deadline.
    p.advance(DEFAULT_HANDSHAKE_IVL);
    assert_eq!(p.a.error, Some(Error::HandshakeTimeout));
}

#[test]
fn altered_replayed_or_clear_frames_fail_the_connection() {
    // Altered on the way.
    let mut p = curve_pair(SocketType::Dealer, SocketType::Dealer);
    p.drive();
    let mut out = Vec::new();
    p.a.send(&[b"hello"], &mut out);
    *out.last_mut().unwrap() ^= 1;
    p.b.inbox.extend_from_slice(&out);
    p.drive();
    assert_eq!(
        p.b.error,
        Some(Error::Curve(CurveError::Cryptographic(
            CurveCommand::Message
        )))
    );
    assert!(
        p.b.take_events()
            .iter()
            .all(|e| !matches!(e, Ev::Frame(..)))
    );

    // Replayed: the second copy fails, the first was delivered.
    let mut p = curve_pair(SocketType::Dealer, SocketType::Dealer);
    p.drive();
    p.b.take_events();
    let mut out = Vec::new();
    p.a.send(&[b"once"], &mut out);
    let copy = out.clone();
    out.extend_from_slice(&copy);
    p.b.inbox.extend_from_slice(&out);
    p.drive();
    assert_eq!(p.b.take_events(), [Ev::Frame(b"once".to_vec(), false)]);
    assert_eq!(
        p.b.error,
        Some(Error::Curve(CurveError::InvalidSequence(
            CurveCommand::Message
        )))
    );

    // A frame in clear after a CURVE handshake.
    let mut p = curve_pair(SocketType::Dealer, SocketType::Dealer);
    p.drive();
    p.b.inbox.extend_from_slice(b"\x00\x05hello");
    p.drive();
    assert_eq!(p.b.error, Some(Error::UnexpectedCommand));
    // A large one (SealedHead, then open_frame).
    let mut p = curve_pair(SocketType::Dealer, SocketType::Dealer);
    p.drive();
    let mut raw = vec![0x02, 0, 0, 0, 0, 0, 0, 0x10, 0];
    raw.extend_from_slice(&[7; 0x1000]);
    p.b.inbox.extend_from_slice(&raw);
    p.drive();
    assert_eq!(p.b.error, Some(Error::UnexpectedCommand));
    // Too short to be a MESSAGE.
    let mut p = curve_pair(SocketType::Dealer, SocketType::Dealer);
    p.drive();
    p.b.inbox.extend_from_slice(b"\x00\x0a\x07MESSAGE\x00\x00");
    p.drive();
    assert_eq!(
        p.b.error,
        Some(Error::Curve(CurveError::Malformed(CurveCommand::Message)))
    );
}

#[test]
fn max_msg_size_counts_the_frame_not_the_seal() {
    let server_cfg = Config {
        max_msg_size: Some(100),
        ..Config::new(SocketType::Pull)
    };
    for (len, ok) in [(100, true), (101, false)] {
        let mut p = curve_peers_with(
            (&Config::new(SocketType::Push), &client_keys()),
            &server_cfg,
            *server_keys().public_key(),
            5,
        );
        p.drive();
        p.b.take_events();
        p.a_to_b(&[&vec![1u8; len]]);
        if ok {
            assert_eq!(p.b.take_events(), [Ev::Frame(vec![1u8; len], false)]);
            assert_eq!(p.b.error, None);
        } else {
            assert!(p.b.take_events().is_empty());
            assert!(
                matches!(p.b.error, Some(Error::Frame(_))),
                "{:?}",
                p.b.error
            );
        }
    }
}

#[test]
fn curve_meets_other_mechanisms_cleanly() {
    let mut rng = TestRng(6);
    let curve_server = CurveServer::new(&server_keys(), &mut rng).unwrap();
    let mut p = Pair::new(
        Peer::null(SocketType::Push),
        Peer::new(&Config::new(SocketType::Pull), curve_server),
    );
    p.drive();
    assert_eq!(p.a.error, Some(Error::MechanismMismatch));
    assert_eq!(p.b.error, Some(Error::MechanismMismatch));
    // Two CURVE servers: HELLO never comes; neither side panics.
    let mut p = Pair::new(
        Peer::new(
            &Config::new(SocketType::Push),
            CurveServer::new(&server_keys(), &mut rng).unwrap(),
        ),
        Peer::new(
            &Config::new(SocketType::Pull),
            CurveServer::new(&server_keys(), &mut rng).unwrap(),
        ),
    );
    p.drive();
    assert!(!p.a.conn.is_active() && !p.b.conn.is_active());
}

#[test]
fn open_frame_is_refused_without_sealing() {
    let mut p = connected(
        Peer::null(SocketType::Pair),
        Peer::null(SocketType::Pair),
        usize::MAX,
    );
    let mut sealed = vec![0u8; 40];
    assert_eq!(
        p.a.conn.open_frame(&mut sealed, Instant::ZERO),
        Err(Error::UnexpectedData)
    );
}
