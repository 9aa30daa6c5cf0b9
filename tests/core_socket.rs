//! The core (no_std) socket over an in-memory loopback: each socket-type
//! pair end to end, back-pressure, timers, and hostile peers (which must
//! end in a clean disconnect, never a panic).

mod core_socket_common;

use core::time::Duration;

use core_socket_common::{End, connected, disconnection, loopback, recv_msg, settle};
use zlink_mq::core::msg::Frame;
use zlink_mq::core::routing::{
    AttachError as RoutingAttachError, Dealer, Pair, PeerId, Pub, Pull, Push, RecvError, Rep, Req,
    Router, Sub, XPub, XSub,
};
use zlink_mq::core::socket::{
    AttachError, DisconnectReason, Options, PeerEvent, PeerState, SendError, Socket,
};
use zlink_mq::core::storage::Fixed;
use zlink_mq::core::time::Instant;
use zlink_mq::core::zmtp::frame::FrameError;
use zlink_mq::core::zmtp::heartbeat::Heartbeat;
use zlink_mq::core::zmtp::mechanism::{AuthVerdict, Credentials};
use zlink_mq::core::zmtp::metadata::MetadataError;
use zlink_mq::core::zmtp::null::Null;
use zlink_mq::core::zmtp::plain::{PlainClient, PlainServer};
use zlink_mq::core::zmtp::{self, greeting::GreetingError};

const BUF: usize = 256;
/// Routing storage for `P` peers, 4 topics, keys up to 16 bytes.
type St<const P: usize> = Fixed<P, 4, 16>;
/// A socket of routing `R` with `P` peers over the loopback, NULL security.
type S<R, const P: usize> = Socket<R, End, Null, P, BUF>;
type F = Frame<BUF>;

const T0: Instant = Instant::ZERO;

fn msg(parts: &[&[u8]]) -> Option<Vec<Vec<u8>>> {
    Some(parts.iter().map(|p| p.to_vec()).collect())
}

fn wide() -> (End, End) {
    loopback(4096, 4096)
}

#[test]
fn pub_sub_filters_by_topic_and_keeps_multipart_whole() {
    let (a, b) = wide();
    let mut publisher: S<Pub<St<1>, PeerId>, 1> = Socket::new(Pub::new(), Options::new());
    let mut subscriber: S<Sub<St<1>, PeerId, F>, 1> = Socket::new(Sub::new(), Options::new());
    // Before connecting: sent when the publisher attaches.
    subscriber.subscribe(b"temp").unwrap();
    publisher.attach(a, Null::new(true), T0).unwrap();
    subscriber.attach(b, Null::new(false), T0).unwrap();
    settle(&mut [&mut publisher, &mut subscriber], T0);
    assert_eq!(connected(&mut publisher).len(), 1);
    assert_eq!(connected(&mut subscriber).len(), 1);
    assert_eq!(publisher.routing().topic_count(), 1);

    publisher.send(&[b"humidity", b"40%"]).unwrap();
    publisher.send(&[b"temp/room", b"21.5", b"C"]).unwrap();
    settle(&mut [&mut publisher, &mut subscriber], T0);
    assert_eq!(
        recv_msg(&mut subscriber),
        msg(&[b"temp/room", b"21.5", b"C"])
    );
    assert_eq!(recv_msg(&mut subscriber), None);

    // After connecting: sent at once; unsubscribing stops delivery.
    subscriber.subscribe(b"hum").unwrap();
    subscriber.unsubscribe(b"temp").unwrap();
    settle(&mut [&mut publisher, &mut subscriber], T0);
    assert_eq!(publisher.routing().topic_count(), 1);
    publisher.send(&[b"temp/room", b"22.0"]).unwrap();
    publisher.send(&[b"humidity", b"41%"]).unwrap();
    settle(&mut [&mut publisher, &mut subscriber], T0);
    assert_eq!(recv_msg(&mut subscriber), msg(&[b"humidity", b"41%"]));
    assert_eq!(recv_msg(&mut subscriber), None);

    assert_eq!(publisher.recv(), Err(RecvError::NotSupported));
    assert_eq!(subscriber.send(&[b"x"]), Err(SendError::NotSupported));
}

#[test]
fn req_rep_alternate_strictly() {
    let (a, b) = wide();
    let mut req: S<Req<St<1>, PeerId>, 1> = Socket::new(Req::new(7), Options::new());
    let mut rep: S<Rep<St<1>, PeerId>, 1> = Socket::new(Rep::new(), Options::new());
    req.attach(a, Null::new(false), T0).unwrap();
    rep.attach(b, Null::new(true), T0).unwrap();
    assert_eq!(rep.send(&[b"unasked"]), Err(SendError::State));

    for i in 0..3 {
        let request = format!("request {i}");
        req.send(&[request.as_bytes()]).unwrap_or_else(|e| {
            // The first request may come before the handshake is done.
            assert_eq!(e, SendError::WouldBlock);
            settle(&mut [&mut req, &mut rep], T0);
            req.send(&[request.as_bytes()]).unwrap();
        });
        assert_eq!(req.send(&[b"again"]), Err(SendError::State));
        settle(&mut [&mut req, &mut rep], T0);
        // REP hands over the body only; the envelope waits for the reply.
        assert_eq!(recv_msg(&mut rep), msg(&[request.as_bytes()]));
        let reply = format!("reply {i}");
        rep.send(&[reply.as_bytes(), b"part 2"]).unwrap();
        settle(&mut [&mut req, &mut rep], T0);
        assert_eq!(recv_msg(&mut req), msg(&[reply.as_bytes(), b"part 2"]));
    }
}

#[test]
fn req_correlate_sends_and_checks_a_request_id() {
    let (a, b) = wide();
    let mut req: S<Req<St<1>, PeerId>, 1> = Socket::new(Req::new(41), Options::new());
    req.routing_mut().set_correlate(true);
    let mut rep: S<Rep<St<1>, PeerId>, 1> = Socket::new(Rep::new(), Options::new());
    req.attach(a, Null::new(false), T0).unwrap();
    rep.attach(b, Null::new(true), T0).unwrap();
    settle(&mut [&mut req, &mut rep], T0);
    req.send(&[b"ping"]).unwrap();
    settle(&mut [&mut req, &mut rep], T0);
    assert_eq!(recv_msg(&mut rep), msg(&[b"ping"]));
    rep.send(&[b"pong"]).unwrap();
    settle(&mut [&mut req, &mut rep], T0);
    assert_eq!(recv_msg(&mut req), msg(&[b"pong"]));
}

#[test]
fn dealers_and_a_router_address_each_other_by_routing_id() {
    let (r1, d1) = wide();
    let (r2, d2) = wide();
    let mut router: S<Router<St<2>, PeerId, F>, 2> = Socket::new(Router::new(1), Options::new());
    let named = Options {
        routing_id: b"dealer-1",
        ..Options::new()
    };
    let mut dealer1: S<Dealer<St<1>, PeerId>, 1> = Socket::new(Dealer::new(), named);
    let mut dealer2: S<Dealer<St<1>, PeerId>, 1> = Socket::new(Dealer::new(), Options::new());
    router.attach(r1, Null::new(true), T0).unwrap();
    router.attach(r2, Null::new(true), T0).unwrap();
    dealer1.attach(d1, Null::new(false), T0).unwrap();
    dealer2.attach(d2, Null::new(false), T0).unwrap();
    settle(&mut [&mut router, &mut dealer1, &mut dealer2], T0);
    assert_eq!(connected(&mut router).len(), 2);

    dealer1.send(&[b"hello from 1"]).unwrap();
    dealer2.send(&[b"hello", b"from 2"]).unwrap();
    settle(&mut [&mut router, &mut dealer1, &mut dealer2], T0);
    let mut ids = Vec::new();
    while let Some(mut m) = recv_msg(&mut router) {
        let id = m.remove(0);
        ids.push((id, m));
    }
    ids.sort();
    assert_eq!(ids.len(), 2);
    // The anonymous dealer got a generated id: a zero byte, then 4 bytes.
    let (generated, body2) = &ids[0];
    assert_eq!((generated.len(), generated[0]), (5, 0));
    assert_eq!(Some(body2.clone()), msg(&[b"hello", b"from 2"]));
    let (announced, body1) = &ids[1];
    assert_eq!(announced, b"dealer-1");
    assert_eq!(Some(body1.clone()), msg(&[b"hello from 1"]));

    router.send(&[b"dealer-1", b"to 1"]).unwrap();
    router.send(&[generated, b"to 2"]).unwrap();
    // Unknown ids are dropped silently, unless ROUTER_MANDATORY.
    router.send(&[b"nobody", b"lost"]).unwrap();
    router.routing_mut().set_mandatory(true);
    assert_eq!(
        router.send(&[b"nobody", b"lost"]),
        Err(SendError::Unroutable)
    );
    settle(&mut [&mut router, &mut dealer1, &mut dealer2], T0);
    assert_eq!(recv_msg(&mut dealer1), msg(&[b"to 1"]));
    assert_eq!(recv_msg(&mut dealer2), msg(&[b"to 2"]));
    assert_eq!(recv_msg(&mut dealer1), None);
}

#[test]
fn push_pull_back_pressure_over_a_narrow_chunked_stream() {
    // 64 bytes in flight, 7 bytes per read or write: frames arrive split.
    let (a, b) = loopback(64, 7);
    let mut push: S<Push<St<1>, PeerId>, 1> = Socket::new(Push::new(), Options::new());
    let mut pull: S<Pull<St<1>, PeerId>, 1> = Socket::new(Pull::new(), Options::new());
    push.attach(a, Null::new(false), T0).unwrap();
    pull.attach(b, Null::new(true), T0).unwrap();
    assert_eq!(push.send(&[b"early"]), Err(SendError::WouldBlock));
    settle(&mut [&mut push, &mut pull], T0);

    let count = 200;
    let (mut sent, mut received, mut blocked) = (0, Vec::new(), 0);
    // Every message is delivered, in order, with no loss: sending blocks
    // when the output buffer is full instead of dropping.
    for _ in 0..100_000 {
        if received.len() == count {
            break;
        }
        if sent < count {
            let body = format!("reading {sent:03} {}", "x".repeat(sent % 40));
            match push.send(&[b"sensor", body.as_bytes()]) {
                Ok(()) => {
                    sent += 1;
                    continue;
                }
                Err(SendError::WouldBlock) => blocked += 1,
                Err(e) => panic!("{e}"),
            }
        }
        push.poll(T0);
        pull.poll(T0);
        while let Some(m) = recv_msg(&mut pull) {
            received.push(m);
        }
    }
    assert_eq!((sent, received.len()), (count, count));
    assert!(blocked > 0, "the output buffer never filled");
    for (i, m) in received.iter().enumerate() {
        let body = format!("reading {i:03} {}", "x".repeat(i % 40));
        assert_eq!(Some(m.clone()), msg(&[b"sensor", body.as_bytes()]));
    }
}

#[test]
fn push_round_robins_over_two_pulls() {
    let (a1, b1) = wide();
    let (a2, b2) = wide();
    let mut push: S<Push<St<2>, PeerId>, 2> = Socket::new(Push::new(), Options::new());
    let mut pull1: S<Pull<St<1>, PeerId>, 1> = Socket::new(Pull::new(), Options::new());
    let mut pull2: S<Pull<St<1>, PeerId>, 1> = Socket::new(Pull::new(), Options::new());
    push.attach(a1, Null::new(false), T0).unwrap();
    push.attach(a2, Null::new(false), T0).unwrap();
    pull1.attach(b1, Null::new(true), T0).unwrap();
    pull2.attach(b2, Null::new(true), T0).unwrap();
    settle(&mut [&mut push, &mut pull1, &mut pull2], T0);
    for i in 0..4u8 {
        push.send(&[&[i]]).unwrap();
    }
    settle(&mut [&mut push, &mut pull1, &mut pull2], T0);
    let mut got1 = Vec::new();
    while let Some(m) = recv_msg(&mut pull1) {
        got1.push(m[0][0]);
    }
    let mut got2 = Vec::new();
    while let Some(m) = recv_msg(&mut pull2) {
        got2.push(m[0][0]);
    }
    assert_eq!(got1.len(), 2);
    assert_eq!(got2.len(), 2);
    got1.extend(got2);
    got1.sort();
    assert_eq!(got1, [0, 1, 2, 3]);
}

#[test]
fn pair_talks_both_ways_and_refuses_a_second_peer() {
    let (a, b) = wide();
    let (c, d) = wide();
    let mut one: S<Pair<PeerId>, 2> = Socket::new(Pair::new(), Options::new());
    let mut two: S<Pair<PeerId>, 1> = Socket::new(Pair::new(), Options::new());
    let mut three: S<Pair<PeerId>, 1> = Socket::new(Pair::new(), Options::new());
    one.attach(a, Null::new(true), T0).unwrap();
    two.attach(b, Null::new(false), T0).unwrap();
    settle(&mut [&mut one, &mut two], T0);
    assert_eq!(connected(&mut one).len(), 1);

    one.send(&[b"a", b"b"]).unwrap();
    two.send(&[b"c"]).unwrap();
    settle(&mut [&mut one, &mut two], T0);
    assert_eq!(recv_msg(&mut two), msg(&[b"a", b"b"]));
    assert_eq!(recv_msg(&mut one), msg(&[b"c"]));

    let second = one.attach(c, Null::new(true), T0).unwrap();
    three.attach(d, Null::new(false), T0).unwrap();
    settle(&mut [&mut one, &mut three], T0);
    match one.poll_event() {
        Some(PeerEvent::Disconnected {
            peer,
            reason,
            stream,
        }) => {
            assert_eq!(peer, second);
            assert_eq!(
                reason,
                DisconnectReason::Refused(RoutingAttachError::Occupied)
            );
            // Closing the stream tells the refused peer.
            drop(stream);
        }
        other => panic!("{other:?}"),
    }
    settle(&mut [&mut one, &mut three], T0);
    let (_, reason) = disconnection(&mut three).expect("the refused peer sees the close");
    assert_eq!(reason, DisconnectReason::Eof);
    // The first pair is unaffected.
    two.send(&[b"still here"]).unwrap();
    settle(&mut [&mut one, &mut two], T0);
    assert_eq!(recv_msg(&mut one), msg(&[b"still here"]));
}

#[test]
fn xsub_subscribes_an_xpub_by_sending_messages() {
    let (a, b) = wide();
    let mut xpub: S<XPub<St<1>, PeerId, F>, 1> = Socket::new(XPub::new(), Options::new());
    let mut xsub: S<XSub<St<1>, PeerId>, 1> = Socket::new(XSub::new(), Options::new());
    xpub.attach(a, Null::new(true), T0).unwrap();
    xsub.attach(b, Null::new(false), T0).unwrap();
    settle(&mut [&mut xpub, &mut xsub], T0);
    xsub.send(&[b"\x01alerts"]).unwrap();
    settle(&mut [&mut xpub, &mut xsub], T0);
    // Sent as a SUBSCRIBE command, handed to XPUB as a message.
    assert_eq!(recv_msg(&mut xpub), msg(&[b"\x01alerts"]));
    xpub.send(&[b"alerts/fire"]).unwrap();
    xpub.send(&[b"news"]).unwrap();
    settle(&mut [&mut xpub, &mut xsub], T0);
    assert_eq!(recv_msg(&mut xsub), msg(&[b"alerts/fire"]));
    assert_eq!(recv_msg(&mut xsub), None);
}

#[test]
fn plain_authentication_accepts_and_rejects() {
    fn judge(c: Credentials<'_>) -> AuthVerdict {
        match c {
            Credentials::Plain {
                username: b"admin",
                password: b"secret",
            } => AuthVerdict::Accept,
            _ => AuthVerdict::Reject { status_code: 400 },
        }
    }
    let options = Options {
        authenticate: Some(judge),
        ..Options::new()
    };
    let mut server: Socket<Rep<St<2>, PeerId>, End, PlainServer, 2, BUF> =
        Socket::new(Rep::new(), options);
    let mut good: Socket<Req<St<1>, PeerId>, End, PlainClient, 1, BUF> =
        Socket::new(Req::new(1), Options::new());
    let mut bad: Socket<Req<St<1>, PeerId>, End, PlainClient, 1, BUF> =
        Socket::new(Req::new(1), Options::new());
    let (a, b) = wide();
    let (c, d) = wide();
    server.attach(a, PlainServer::new(), T0).unwrap();
    server.attach(c, PlainServer::new(), T0).unwrap();
    good.attach(b, PlainClient::new(b"admin", b"secret").unwrap(), T0)
        .unwrap();
    bad.attach(d, PlainClient::new(b"admin", b"guess").unwrap(), T0)
        .unwrap();
    settle(&mut [&mut server, &mut good, &mut bad], T0);

    let (_, reason) = disconnection(&mut bad).expect("rejected");
    assert_eq!(reason, DisconnectReason::Protocol(zmtp::Error::PeerError));
    let (_, reason) = disconnection(&mut server).expect("rejected");
    assert_eq!(
        reason,
        DisconnectReason::Protocol(zmtp::Error::AuthenticationFailed)
    );

    assert_eq!(connected(&mut good).len(), 1);
    good.send(&[b"hi"]).unwrap();
    settle(&mut [&mut server, &mut good], T0);
    assert_eq!(recv_msg(&mut server), msg(&[b"hi"]));
    let peer = PeerId(0);
    let user = server
        .connection(peer)
        .and_then(|c| c.mechanism().username());
    assert_eq!(user, Some(&b"admin"[..]));
}

#[test]
fn handshake_timeout_ends_a_silent_peer() {
    let (a, _silent) = wide();
    let options = Options {
        handshake_ivl: Some(Duration::from_millis(100)),
        ..Options::new()
    };
    let mut pull: S<Pull<St<1>, PeerId>, 1> = Socket::new(Pull::new(), options);
    let peer = pull.attach(a, Null::new(true), T0).unwrap();
    pull.poll(T0);
    assert_eq!(pull.poll_at(), Some(Instant::from_millis(100)));
    pull.poll(Instant::from_millis(99));
    assert_eq!(pull.peer_state(peer), Some(PeerState::Handshaking));
    pull.poll(Instant::from_millis(100));
    assert_eq!(
        pull.peer_state(peer),
        Some(PeerState::Disconnected(DisconnectReason::Protocol(
            zmtp::Error::HandshakeTimeout
        )))
    );
    let (_, reason) = disconnection(&mut pull).unwrap();
    assert_eq!(
        reason,
        DisconnectReason::Protocol(zmtp::Error::HandshakeTimeout)
    );
    assert_eq!(pull.peer_state(peer), None, "the slot is free again");
    assert_eq!(pull.poll_at(), None);
}

#[test]
fn heartbeats_keep_a_quiet_connection_and_end_a_dead_one() {
    let options = Options {
        heartbeat: Heartbeat {
            ivl: Some(Duration::from_secs(1)),
            timeout: Some(Duration::from_secs(3)),
            ttl: None,
        },
        ..Options::new()
    };
    let (a, b) = wide();
    let mut one: S<Pair<PeerId>, 1> = Socket::new(Pair::new(), options);
    let mut two: S<Pair<PeerId>, 1> = Socket::new(Pair::new(), options);
    one.attach(a, Null::new(true), T0).unwrap();
    two.attach(b, Null::new(false), T0).unwrap();
    settle(&mut [&mut one, &mut two], T0);
    assert_eq!(connected(&mut one).len(), 1);
    assert_eq!(connected(&mut two).len(), 1);

    // Ten quiet seconds, both polling: PING and PONG keep it alive.
    for s in 1..=10 {
        let now = Instant::from_millis(s * 1000);
        assert!(one.poll_at().is_some_and(|t| t <= now));
        settle(&mut [&mut one, &mut two], now);
    }
    assert!(one.poll_event().is_none() && two.poll_event().is_none());
    assert_eq!(one.connected_peers(), 1);

    // The other side stops answering.
    let mut reason = None;
    for s in 11..=20 {
        one.poll(Instant::from_millis(s * 1000));
        if let Some((_, r)) = disconnection(&mut one) {
            reason = Some(r);
            break;
        }
    }
    assert_eq!(
        reason,
        Some(DisconnectReason::Protocol(zmtp::Error::HeartbeatTimeout))
    );
}

#[test]
fn a_slow_rep_keeps_heartbeating_while_it_owes_a_reply() {
    let options = Options {
        heartbeat: Heartbeat {
            ivl: Some(Duration::from_secs(1)),
            timeout: Some(Duration::from_secs(3)),
            ttl: None,
        },
        ..Options::new()
    };
    let (a, b) = wide();
    let mut req: S<Req<St<1>, PeerId>, 1> = Socket::new(Req::new(1), options);
    let mut rep: S<Rep<St<1>, PeerId>, 1> = Socket::new(Rep::new(), options);
    req.attach(a, Null::new(false), T0).unwrap();
    rep.attach(b, Null::new(true), T0).unwrap();
    settle(&mut [&mut req, &mut rep], T0);
    req.send(&[b"slow question"]).unwrap();
    settle(&mut [&mut req, &mut rep], T0);
    // REP holds the reply's envelope, unsent, until the reply is complete;
    // PINGs and PONGs go out in front of it meanwhile.
    assert_eq!(recv_msg(&mut rep), msg(&[b"slow question"]));
    for s in 1..=10 {
        settle(&mut [&mut req, &mut rep], Instant::from_millis(s * 1000));
    }
    assert_eq!((req.connected_peers(), rep.connected_peers()), (1, 1));
    rep.send(&[b"late answer"]).unwrap();
    settle(&mut [&mut req, &mut rep], Instant::from_millis(10_000));
    assert_eq!(recv_msg(&mut req), msg(&[b"late answer"]));
}

#[test]
fn attach_hands_the_stream_back_when_full_and_detach_frees_a_slot() {
    let mut pull: S<Pull<St<1>, PeerId>, 1> = Socket::new(Pull::new(), Options::new());
    let (a, _a) = wide();
    let (b, _b) = wide();
    let peer = pull.attach(a, Null::new(true), T0).unwrap();
    let rejected = pull.attach(b, Null::new(true), T0).unwrap_err();
    assert_eq!(rejected.error, AttachError::NoRoom);
    let b = rejected.stream;
    assert!(pull.detach(peer).is_some());
    assert!(pull.detach(peer).is_none());
    assert!(pull.attach(b, Null::new(true), T0).is_ok());

    // An identity the handshake cannot carry is refused up front.
    let bad_id = Options {
        routing_id: b"\0starts with zero",
        ..Options::new()
    };
    let mut dealer: S<Dealer<St<1>, PeerId>, 1> = Socket::new(Dealer::new(), bad_id);
    let (c, _c) = wide();
    let rejected = dealer.attach(c, Null::new(false), T0).unwrap_err();
    assert!(matches!(rejected.error, AttachError::Config(_)));
}

#[test]
fn sending_checks_sizes_before_queueing_anything() {
    let (a, b) = wide();
    let mut push: S<Push<St<1>, PeerId>, 1> = Socket::new(Push::new(), Options::new());
    let mut pull: S<Pull<St<1>, PeerId>, 1> = Socket::new(Pull::new(), Options::new());
    push.attach(a, Null::new(false), T0).unwrap();
    pull.attach(b, Null::new(true), T0).unwrap();
    settle(&mut [&mut push, &mut pull], T0);
    assert_eq!(push.send(&[]), Err(SendError::Empty));
    assert_eq!(push.send(&[&[0; BUF + 1]]), Err(SendError::TooLarge));
    assert_eq!(push.send(&[&[0; 200], &[0; 200]]), Err(SendError::TooLarge));
    let largest = BUF - zlink_mq::core::socket::SEND_SLACK - 3;
    push.send(&[&vec![7; largest]]).unwrap();
    settle(&mut [&mut push, &mut pull], T0);
    assert_eq!(recv_msg(&mut pull), Some(vec![vec![7; largest]]));
}

// --- hostile peers: a raw stream plays the other side ----------------------

/// A ZMTP 3.1 NULL greeting and READY announcing `socket_type`, as a peer
/// would send them (RFC 23: signature, version, mechanism, as-server,
/// filler; then READY with its Socket-Type property).
fn handshake(socket_type: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 1];
    let mut mechanism = [0u8; 20];
    mechanism[..4].copy_from_slice(b"NULL");
    out.extend_from_slice(&mechanism);
    out.push(0);
    out.extend_from_slice(&[0; 31]);
    let mut body = b"\x05READY\x0bSocket-Type".to_vec();
    body.extend_from_slice(&(socket_type.len() as u32).to_be_bytes());
    body.extend_from_slice(socket_type.as_bytes());
    out.extend_from_slice(&[0x04, body.len() as u8]);
    out.extend_from_slice(&body);
    out
}

/// A PULL socket whose peer is the raw stream returned.
fn pull_with_raw_peer() -> (S<Pull<St<1>, PeerId>, 1>, End) {
    let (a, raw) = wide();
    let mut pull: S<Pull<St<1>, PeerId>, 1> = Socket::new(Pull::new(), Options::new());
    pull.attach(a, Null::new(true), T0).unwrap();
    (pull, raw)
}

fn settle_one(s: &mut S<Pull<St<1>, PeerId>, 1>) {
    settle(&mut [s], T0);
}

/// Why a PULL drops a hand-made peer that writes `input`, chunk by chunk.
fn reason_for(input: &[&[u8]]) -> DisconnectReason {
    let (mut pull, mut raw) = pull_with_raw_peer();
    for chunk in input {
        raw.put(chunk);
    }
    settle_one(&mut pull);
    disconnection(&mut pull).unwrap().1
}

#[test]
fn a_hand_made_peer_completes_the_handshake_and_delivers() {
    let (mut pull, mut raw) = pull_with_raw_peer();
    raw.put(&handshake("PUSH"));
    // A message in the same write as the handshake's end.
    raw.put(b"\x01\x03abc\x00\x02de");
    settle_one(&mut pull);
    assert_eq!(connected(&mut pull).len(), 1);
    assert_eq!(recv_msg(&mut pull), msg(&[b"abc", b"de"]));
    // What the socket sent: its greeting, then its READY.
    let sent = raw.drain();
    assert_eq!(&sent[..2], b"\xff\x00");
    assert!(sent.windows(4).any(|w| w == b"PULL"));
}

#[test]
fn a_non_zmtp_peer_is_disconnected() {
    let reason = reason_for(&[b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"]);
    assert!(
        matches!(
            reason,
            DisconnectReason::Protocol(zmtp::Error::Greeting(
                GreetingError::UnsupportedVersion { .. }
            ))
        ),
        "{reason:?}"
    );
}

#[test]
fn an_incompatible_socket_type_is_refused() {
    let (mut pull, mut raw) = pull_with_raw_peer();
    raw.put(&handshake("PUB"));
    settle_one(&mut pull);
    // The peer is told why before the connection ends.
    let sent = raw.drain();
    assert!(sent.windows(5).any(|w| w == b"ERROR"));
    let (_, reason) = disconnection(&mut pull).unwrap();
    assert!(
        matches!(
            reason,
            DisconnectReason::Protocol(zmtp::Error::Metadata(
                MetadataError::IncompatibleSocketType { .. }
            ))
        ),
        "{reason:?}"
    );
}

#[test]
fn data_before_the_handshake_is_a_protocol_error() {
    let reason = reason_for(&[&handshake("PUSH")[..64], b"\x00\x03abc"]);
    assert_eq!(
        reason,
        DisconnectReason::Protocol(zmtp::Error::UnexpectedData)
    );
}

#[test]
fn a_huge_frame_length_is_refused_from_its_header() {
    // A long frame claiming 2^40 bytes.
    let reason = reason_for(&[&handshake("PUSH"), &[0x02, 0, 0, 1, 0, 0, 0, 0, 0]]);
    assert!(
        matches!(
            reason,
            DisconnectReason::Protocol(zmtp::Error::Frame(FrameError::TooLarge { .. }))
        ),
        "{reason:?}"
    );
}

#[test]
fn a_frame_length_of_u64_max_is_refused_without_overflow() {
    // The largest length the wire can carry, as data and as a command: the
    // link adds its record header to it before the connection refuses it.
    for flags in [0x02u8, 0x06] {
        let mut header = vec![flags];
        header.extend_from_slice(&u64::MAX.to_be_bytes());
        let reason = reason_for(&[&handshake("PUSH"), &header]);
        assert!(
            matches!(
                reason,
                DisconnectReason::Protocol(zmtp::Error::Frame(
                    FrameError::TooLarge { .. } | FrameError::CommandTooLarge { .. }
                ))
            ),
            "{flags:#x}: {reason:?}"
        );
    }
}

/// A SUBSCRIBE command for `topic`, as a ZMTP 3.1 SUB sends it.
fn subscribe_command(topic: &[u8]) -> Vec<u8> {
    let len = 10 + topic.len();
    let mut out = if len <= 255 {
        vec![0x04, len as u8]
    } else {
        let mut v = vec![0x06];
        v.extend_from_slice(&(len as u64).to_be_bytes());
        v
    };
    out.extend_from_slice(b"\x09SUBSCRIBE");
    out.extend_from_slice(topic);
    out
}

#[test]
fn a_subscription_longer_than_the_buffer_ends_only_that_peer() {
    // Routing that could store topics of any length the buffer allows.
    type Wide = Fixed<2, 4, BUF>;
    let (a, mut raw) = wide();
    let (c, d) = wide();
    let mut publisher: S<Pub<Wide, PeerId>, 2> = Socket::new(Pub::new(), Options::new());
    let mut subscriber: S<Sub<Wide, PeerId, F>, 1> = Socket::new(Sub::new(), Options::new());
    publisher.attach(a, Null::new(true), T0).unwrap();
    publisher.attach(c, Null::new(true), T0).unwrap();
    subscriber.attach(d, Null::new(false), T0).unwrap();
    subscriber.subscribe(b"t").unwrap();
    raw.put(&handshake("SUB"));
    // The largest command that fits, then one byte more.
    let fits = vec![b'f'; BUF - 10];
    raw.put(&subscribe_command(&fits));
    settle(&mut [&mut publisher, &mut subscriber], T0);
    assert_eq!(connected(&mut publisher).len(), 2);
    assert_eq!(publisher.routing().topic_count(), 2);
    raw.put(&subscribe_command(&vec![b'g'; BUF - 9]));
    settle(&mut [&mut publisher, &mut subscriber], T0);
    let (peer, reason) = disconnection(&mut publisher).unwrap();
    assert_eq!(peer, PeerId(0));
    assert!(
        matches!(
            reason,
            DisconnectReason::Protocol(zmtp::Error::Frame(FrameError::CommandTooLarge {
                len,
                max
            })) if len == BUF as u64 + 1 && max == BUF as u64
        ),
        "{reason:?}"
    );
    // The other subscriber keeps its subscription and its messages.
    assert_eq!(publisher.routing().topic_count(), 1);
    publisher.send(&[b"topic", b"1"]).unwrap();
    settle(&mut [&mut publisher, &mut subscriber], T0);
    assert_eq!(recv_msg(&mut subscriber), msg(&[b"topic", b"1"]));
}

#[test]
fn a_sub_refuses_a_topic_whose_subscribe_command_does_not_fit() {
    type Wide = Fixed<1, 4, BUF>;
    let (a, b) = wide();
    let mut publisher: S<Pub<Wide, PeerId>, 1> = Socket::new(Pub::new(), Options::new());
    let mut subscriber: S<Sub<Wide, PeerId, F>, 1> = Socket::new(Sub::new(), Options::new());
    publisher.attach(a, Null::new(true), T0).unwrap();
    subscriber.attach(b, Null::new(false), T0).unwrap();
    settle(&mut [&mut publisher, &mut subscriber], T0);
    // 244 bytes: a 254-byte command body, 256 bytes with its header; one
    // more does not fit.
    let fits = vec![b'a'; BUF - 12];
    let too_long = vec![b'a'; BUF - 11];
    assert_eq!(
        subscriber.subscribe(&too_long),
        Err(zlink_mq::core::routing::SubscribeError::FrameTooLarge)
    );
    assert_eq!(
        subscriber.unsubscribe(&too_long),
        Err(zlink_mq::core::routing::SubscribeError::FrameTooLarge)
    );
    assert_eq!(subscriber.routing().topic_count(), 0);
    subscriber.subscribe(&fits).unwrap();
    settle(&mut [&mut publisher, &mut subscriber], T0);
    // It reached the publisher.
    assert_eq!(publisher.routing().topic_count(), 1);
    assert_eq!(publisher.routing().rejected_subscriptions(), 0);
    assert_eq!(connected(&mut publisher).len(), 1);
    assert_eq!(disconnection(&mut publisher), None);
}

#[test]
fn a_frame_over_the_buffer_limit_is_refused_even_when_it_fits_the_wire() {
    let len = S::<Pull<St<1>, PeerId>, 1>::MAX_FRAME_LEN + 1;
    let reason = reason_for(&[&handshake("PUSH"), &[0x00, len as u8], &vec![b'x'; len]]);
    assert!(
        matches!(
            reason,
            DisconnectReason::Protocol(zmtp::Error::Frame(FrameError::TooLarge { .. }))
        ),
        "{reason:?}"
    );
}

#[test]
fn a_message_with_more_frames_than_the_queue_holds_is_refused() {
    let (mut pull, mut raw) = pull_with_raw_peer();
    raw.put(&handshake("PUSH"));
    for _ in 0..100 {
        raw.put(b"\x01\x01x");
    }
    settle_one(&mut pull);
    assert_eq!(recv_msg(&mut pull), None, "never a partial message");
    let (_, reason) = disconnection(&mut pull).unwrap();
    assert_eq!(reason, DisconnectReason::MessageTooLarge);
}

#[test]
fn reserved_flag_bits_are_a_protocol_error() {
    let reason = reason_for(&[&handshake("PUSH"), b"\x80\x01x"]);
    assert!(
        matches!(
            reason,
            DisconnectReason::Protocol(zmtp::Error::Frame(FrameError::ReservedFlags(0x80)))
        ),
        "{reason:?}"
    );
}

#[test]
fn the_peer_closing_the_stream_is_reported_and_a_partial_message_dropped() {
    let (mut pull, mut raw) = pull_with_raw_peer();
    raw.put(&handshake("PUSH"));
    settle_one(&mut pull);
    assert_eq!(connected(&mut pull).len(), 1);
    raw.put(b"\x00\x04done\x01\x04half");
    drop(raw);
    settle_one(&mut pull);
    assert_eq!(
        pull.peer_state(PeerId(0)),
        Some(PeerState::Disconnected(DisconnectReason::Eof))
    );
    // What arrived whole before the close is still delivered.
    assert_eq!(recv_msg(&mut pull), msg(&[b"done"]));
    assert_eq!(recv_msg(&mut pull), None);
    let (_, reason) = disconnection(&mut pull).unwrap();
    assert_eq!(reason, DisconnectReason::Eof);
}

#[test]
fn a_message_read_with_the_end_of_the_stream_wakes_the_reader() {
    let (mut pull, mut raw) = pull_with_raw_peer();
    raw.put(&handshake("PUSH"));
    settle_one(&mut pull);
    assert_eq!(connected(&mut pull).len(), 1);
    // A read that finds nothing puts the peer to sleep in the fair queue.
    assert_eq!(recv_msg(&mut pull), None);
    // The last message and the end of the stream, met in one pump.
    raw.put(b"\x00\x04last");
    drop(raw);
    settle_one(&mut pull);
    assert_eq!(recv_msg(&mut pull), msg(&[b"last"]));
    let (_, reason) = disconnection(&mut pull).unwrap();
    assert_eq!(reason, DisconnectReason::Eof);
}

#[test]
fn random_bytes_after_the_handshake_never_panic() {
    // A small deterministic generator: no extra dependency.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..300 {
        let (mut pull, mut raw) = pull_with_raw_peer();
        raw.put(&handshake("PUSH"));
        let len = (next() % 600) as usize;
        let noise: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        raw.put(&noise);
        settle_one(&mut pull);
        while recv_msg(&mut pull).is_some() {}
        settle_one(&mut pull);
        // Whatever happened, the socket is in a defined state.
        let state = pull.peer_state(PeerId(0));
        assert!(
            matches!(
                state,
                Some(PeerState::Connected) | Some(PeerState::Disconnected(_))
            ),
            "round {round}: {state:?}"
        );
    }
}
