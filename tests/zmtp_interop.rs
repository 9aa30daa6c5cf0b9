//! Our ZMTP engine, driven over a `std::net::TcpStream`, against real
//! libzmq 4.3.4 (built from source by the `zmq` crate): NULL and PLAIN
//! handshakes in both roles, multipart messages and subscriptions both
//! ways, heartbeats.

mod common;

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::zmtp::{Driver, Ev, endpoint, spawn_zap_handler};
use zlink_mq::core::socket_type::SocketType;
use zlink_mq::core::zmtp::heartbeat::Heartbeat;
use zlink_mq::core::zmtp::null::Null;
use zlink_mq::core::zmtp::plain::{PlainClient, PlainServer};
use zlink_mq::core::zmtp::{Config, Error};

fn libzmq(ctx: &zmq::Context, kind: zmq::SocketType) -> zmq::Socket {
    let s = ctx.socket(kind).unwrap();
    s.set_linger(0).unwrap();
    s.set_rcvtimeo(10_000).unwrap();
    s.set_sndtimeo(10_000).unwrap();
    s
}

fn bound(ctx: &zmq::Context, kind: zmq::SocketType) -> (zmq::Socket, String) {
    let s = libzmq(ctx, kind);
    s.bind("tcp://127.0.0.1:*").unwrap();
    let ep = endpoint(&s);
    (s, ep)
}

fn listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = format!("tcp://{}", l.local_addr().unwrap());
    (l, ep)
}

#[test]
fn null_we_connect_as_dealer_to_a_libzmq_router() {
    let ctx = zmq::Context::new();
    let (router, ep) = bound(&ctx, zmq::ROUTER);
    let config = Config {
        identity: b"us",
        ..Config::new(SocketType::Dealer)
    };
    let mut us = Driver::new(TcpStream::connect(&ep).unwrap(), &config, Null::new(false));
    assert_eq!(us.handshake(), Ok(SocketType::Router));
    assert_eq!(
        us.conn.peer_greeting().map(|g| (g.major, g.minor)),
        Some((3, 1))
    );

    us.send(&[b"hello", b"", &[7u8; 1000]]);
    let got = router.recv_multipart(0).unwrap();
    assert_eq!(
        got,
        [b"us".to_vec(), b"hello".to_vec(), vec![], vec![7u8; 1000]]
    );

    router
        .send_multipart([&b"us"[..], b"reply", &[9u8; 70_000]], 0)
        .unwrap();
    assert_eq!(us.recv_message(), [b"reply".to_vec(), vec![9u8; 70_000]]);
}

#[test]
fn null_a_libzmq_dealer_connects_to_us_as_router() {
    let ctx = zmq::Context::new();
    let (l, ep) = listener();
    let dealer = libzmq(&ctx, zmq::DEALER);
    dealer.set_identity(b"them").unwrap();
    dealer.connect(&ep).unwrap();
    let (stream, _) = l.accept().unwrap();
    let mut us = Driver::new(stream, &Config::new(SocketType::Router), Null::new(true));
    assert_eq!(us.handshake(), Ok(SocketType::Dealer));
    let meta = us.conn.peer_metadata().unwrap();
    assert_eq!(meta.identity(), Some(&b"them"[..]));
    assert_eq!(meta.socket_type(), Some(SocketType::Dealer));

    dealer.send_multipart([&b"a"[..], b"b"], 0).unwrap();
    assert_eq!(us.recv_message(), [b"a".to_vec(), b"b".to_vec()]);
    us.send(&[b"c", b"d"]);
    assert_eq!(
        dealer.recv_multipart(0).unwrap(),
        [b"c".to_vec(), b"d".to_vec()]
    );
}

#[test]
fn null_invalid_pair_is_refused_by_both() {
    let ctx = zmq::Context::new();
    let (_pull, ep) = bound(&ctx, zmq::PULL);
    let mut us = Driver::new(
        TcpStream::connect(&ep).unwrap(),
        &Config::new(SocketType::Pull),
        Null::new(false),
    );
    let err = us.handshake().unwrap_err();
    assert!(
        matches!(err, Error::Metadata(_) | Error::PeerError),
        "{err:?}"
    );
}

#[test]
fn plain_we_are_the_client_of_a_libzmq_rep() {
    let ctx = zmq::Context::new();
    let _zap = spawn_zap_handler(&ctx);
    let (rep, ep) = {
        let s = libzmq(&ctx, zmq::REP);
        s.set_plain_server(true).unwrap();
        s.set_zap_domain("test").unwrap();
        s.bind("tcp://127.0.0.1:*").unwrap();
        let ep = endpoint(&s);
        (s, ep)
    };
    let mut us = Driver::new(
        TcpStream::connect(&ep).unwrap(),
        &Config::new(SocketType::Req),
        PlainClient::new(b"admin", b"secret").unwrap(),
    );
    assert_eq!(us.handshake(), Ok(SocketType::Rep));
    // REQ framing is ours to do: empty delimiter, then the body.
    us.send(&[b"", b"ping"]);
    assert_eq!(rep.recv_bytes(0).unwrap(), b"ping");
    rep.send("pong", 0).unwrap();
    assert_eq!(us.recv_message(), [b"".to_vec(), b"pong".to_vec()]);

    // Wrong password: libzmq's ZAP says 400 and the server sends ERROR.
    let mut bad = Driver::new(
        TcpStream::connect(&ep).unwrap(),
        &Config::new(SocketType::Req),
        PlainClient::new(b"admin", b"wrong").unwrap(),
    );
    assert_eq!(bad.handshake(), Err(Error::PeerError));
    assert_eq!(bad.conn.peer_error_reason(), Some(&b"400"[..]));
}

#[test]
fn plain_we_are_the_server_of_a_libzmq_dealer() {
    let ctx = zmq::Context::new();
    let (l, ep) = listener();
    let dealer = libzmq(&ctx, zmq::DEALER);
    dealer.set_plain_username(Some("admin")).unwrap();
    dealer.set_plain_password(Some("secret")).unwrap();
    dealer.connect(&ep).unwrap();
    let (stream, _) = l.accept().unwrap();
    let mut us = Driver::new(stream, &Config::new(SocketType::Dealer), PlainServer::new());
    assert_eq!(us.handshake(), Ok(SocketType::Dealer));
    dealer.send_multipart([&b"x"[..], b"y"], 0).unwrap();
    assert_eq!(us.recv_message(), [b"x".to_vec(), b"y".to_vec()]);
    us.send(&[b"z"]);
    assert_eq!(dealer.recv_bytes(0).unwrap(), b"z");

    // A client with the wrong password gets ERROR "400" from us and gives
    // up. libzmq 4.3.4's PLAIN client only recognises its own misspelt
    // ERROR ("^RROR", see `command`), so it reports our RFC-conformant one
    // as an unexpected command; either way its handshake fails.
    let bad = libzmq(&ctx, zmq::DEALER);
    bad.set_plain_username(Some("admin")).unwrap();
    bad.set_plain_password(Some("nope")).unwrap();
    let monitor_ep = "inproc://bad-client-monitor";
    bad.monitor(monitor_ep, zmq::SocketEvent::ALL as i32)
        .unwrap();
    let monitor = ctx.socket(zmq::PAIR).unwrap();
    monitor.set_rcvtimeo(10_000).unwrap();
    monitor.connect(monitor_ep).unwrap();
    bad.connect(&ep).unwrap();
    let (stream, _) = l.accept().unwrap();
    let mut us = Driver::new(stream, &Config::new(SocketType::Dealer), PlainServer::new());
    assert_eq!(us.handshake(), Err(Error::AuthenticationFailed));
    loop {
        let event = monitor.recv_multipart(0).expect("a monitor event");
        let id = u16::from_le_bytes([event[0][0], event[0][1]]);
        assert_ne!(id, zmq::SocketEvent::HANDSHAKE_SUCCEEDED as u16);
        if id == zmq::SocketEvent::HANDSHAKE_FAILED_PROTOCOL as u16
            || id == zmq::SocketEvent::HANDSHAKE_FAILED_AUTH as u16
        {
            break;
        }
    }
}

#[test]
fn subscriptions_from_a_libzmq_sub_to_our_pub() {
    let ctx = zmq::Context::new();
    let (l, ep) = listener();
    let sub = libzmq(&ctx, zmq::SUB);
    sub.set_subscribe(b"A").unwrap();
    sub.connect(&ep).unwrap();
    let (stream, _) = l.accept().unwrap();
    let mut us = Driver::new(stream, &Config::new(SocketType::Pub), Null::new(true));
    assert_eq!(us.handshake(), Ok(SocketType::Sub));
    // libzmq 4.3 sends its subscriptions as ZMTP 3.1 SUBSCRIBE commands.
    assert_eq!(us.next_event(), Ok(Ev::Subscribe(b"A".to_vec())));
    us.send(&[b"A1", b"more"]);
    assert_eq!(
        sub.recv_multipart(0).unwrap(),
        [b"A1".to_vec(), b"more".to_vec()]
    );
    sub.set_unsubscribe(b"A").unwrap();
    assert_eq!(us.next_event(), Ok(Ev::Cancel(b"A".to_vec())));
}

#[test]
fn our_sub_subscribes_to_a_libzmq_xpub() {
    let ctx = zmq::Context::new();
    let (xpub, ep) = bound(&ctx, zmq::XPUB);
    let mut us = Driver::new(
        TcpStream::connect(&ep).unwrap(),
        &Config::new(SocketType::Sub),
        Null::new(false),
    );
    assert_eq!(us.handshake(), Ok(SocketType::XPub));
    us.subscribe(b"T", true);
    assert_eq!(xpub.recv_bytes(0).unwrap(), b"\x01T");
    xpub.send_multipart([&b"T-data"[..], b"2"], 0).unwrap();
    assert_eq!(us.recv_message(), [b"T-data".to_vec(), b"2".to_vec()]);
    us.subscribe(b"T", false);
    assert_eq!(xpub.recv_bytes(0).unwrap(), b"\x00T");
}

#[test]
fn a_libzmq_xsub_sends_subscriptions_as_messages_too() {
    let ctx = zmq::Context::new();
    let (l, ep) = listener();
    let xsub = libzmq(&ctx, zmq::XSUB);
    xsub.connect(&ep).unwrap();
    let (stream, _) = l.accept().unwrap();
    let mut us = Driver::new(stream, &Config::new(SocketType::XPub), Null::new(true));
    assert_eq!(us.handshake(), Ok(SocketType::XSub));
    // A user message starting with 1 goes out as a data frame, even over
    // ZMTP 3.1; we report it as a subscription all the same.
    xsub.send(&b"\x01news"[..], 0).unwrap();
    assert_eq!(us.next_event(), Ok(Ev::Subscribe(b"news".to_vec())));
    xsub.send(&b"\x00news"[..], 0).unwrap();
    assert_eq!(us.next_event(), Ok(Ev::Cancel(b"news".to_vec())));
}

#[test]
fn heartbeats_both_ways_with_libzmq() {
    let ctx = zmq::Context::new();
    // libzmq copies a listener's options when it binds: set them first.
    let pair = libzmq(&ctx, zmq::PAIR);
    pair.set_heartbeat_ivl(50).unwrap();
    pair.set_heartbeat_ttl(2_000).unwrap();
    pair.bind("tcp://127.0.0.1:*").unwrap();
    let ep = endpoint(&pair);
    let config = Config {
        heartbeat: Heartbeat {
            ivl: Some(Duration::from_millis(50)),
            timeout: Some(Duration::from_millis(2_000)),
            ttl: Some(Duration::from_millis(1_000)),
        },
        ..Config::new(SocketType::Pair)
    };
    let mut us = Driver::new(TcpStream::connect(&ep).unwrap(), &config, Null::new(false));
    assert_eq!(us.handshake(), Ok(SocketType::Pair));
    let (mut pings, mut pongs) = (0, 0);
    while pings < 3 || pongs < 3 {
        match us.next_event().unwrap() {
            Ev::Ping => pings += 1,
            Ev::Pong => pongs += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    // Still a working connection.
    us.send(&[b"alive"]);
    assert_eq!(pair.recv_bytes(0).unwrap(), b"alive");
}
