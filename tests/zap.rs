//! ZAP (RFC 27): a handler written with our own sockets, bound at
//! `inproc://zeromq.zap.01`, judges NULL (with a domain), PLAIN and CURVE
//! peers; the request frames are libzmq's; statuses 300/400/500 and
//! malformed replies reach the monitor as libzmq reports them; a slow
//! handler holds up only the connection it judges.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::sock::*;
use zlink_mq::monitor::EventKind;
use zlink_mq::{Context, Flags, Socket, SocketType};

const ZAP: &str = "inproc://zeromq.zap.01";

/// A REP handler answering `n` requests: each request's frames go to the
/// returned channel, the reply is what `answer` makes of them.
fn rep_handler(
    ctx: &Context,
    n: usize,
    answer: impl Fn(&[Vec<u8>]) -> Vec<Vec<u8>> + Send + 'static,
) -> (mpsc::Receiver<Vec<Vec<u8>>>, thread::JoinHandle<()>) {
    rep_handler_waiting(ctx, n, TIMEOUT, answer)
}

/// As [`rep_handler`], giving up when a request after the first does not
/// come within `patience`.
fn rep_handler_waiting(
    ctx: &Context,
    n: usize,
    patience: Duration,
    answer: impl Fn(&[Vec<u8>]) -> Vec<Vec<u8>> + Send + 'static,
) -> (mpsc::Receiver<Vec<Vec<u8>>>, thread::JoinHandle<()>) {
    let mut handler = socket(ctx, SocketType::Rep);
    handler.bind(ZAP).unwrap();
    handler.set_rcvtimeo(Some(TIMEOUT));
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        for i in 0..n {
            if i == 1 {
                handler.set_rcvtimeo(Some(patience));
            }
            // A request that never comes (a test that expects none) ends
            // the handler after RCVTIMEO.
            let Ok(req) = handler.recv_multipart(Flags::NONE) else {
                return;
            };
            let req: Vec<Vec<u8>> = req.iter().map(|m| m[..].to_vec()).collect();
            let reply = answer(&req);
            let _ = tx.send(req);
            let parts: Vec<&[u8]> = reply.iter().map(Vec::as_slice).collect();
            handler
                .send_multipart(parts.iter().copied(), Flags::NONE)
                .unwrap();
        }
        // Keep the socket until the test's connections are judged.
        thread::sleep(Duration::from_millis(200));
    });
    (rx, t)
}

fn reply(status: &str, user: &str) -> Vec<Vec<u8>> {
    ["1.0", "1", status, "text", user, ""]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect()
}

fn strs(frames: &[Vec<u8>]) -> Vec<String> {
    frames
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}

#[test]
fn plain_peers_are_judged_by_the_handler_with_libzmq_frames() {
    let ctx = Context::new();
    let (requests, handler) = rep_handler(&ctx, 2, |req| {
        if req[6] == b"admin" && req[7] == b"secret" {
            reply("200", "anna")
        } else {
            reply("400", "")
        }
    });
    let mut server = socket(&ctx, SocketType::Pull);
    server.set_plain_server(None::<fn(&[u8], &[u8]) -> bool>);
    server.set_zap_domain(b"global").unwrap();
    server.set_routing_id(b"srv").unwrap();
    let ep = bind(&mut server, Transport::Tcp);

    let mut good = socket(&ctx, SocketType::Push);
    good.set_plain_client(b"admin", b"secret").unwrap();
    good.connect(&ep).unwrap();
    good.send("welcome", Flags::NONE).unwrap();
    assert_eq!(recv_str(&mut server), "welcome");
    let req = requests.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(
        strs(&req),
        [
            "1.0",
            "1",
            "global",
            "127.0.0.1",
            "srv",
            "PLAIN",
            "admin",
            "secret"
        ]
    );

    let mut bad = socket(&ctx, SocketType::Push);
    bad.set_plain_client(b"admin", b"guess").unwrap();
    let events = bad.monitor_channel(EventKind::HandshakeFailedAuth.code());
    bad.connect(&ep).unwrap();
    offer_refused(&mut bad, "intrusion");
    let e = events.recv_timeout(TIMEOUT).unwrap();
    assert_eq!((e.kind, e.value), (EventKind::HandshakeFailedAuth, 400));
    assert_eq!(strs(&requests.recv_timeout(TIMEOUT).unwrap())[7], "guess");
    assert_nothing_for(&mut server, Duration::from_millis(30));
    handler.join().unwrap();
}

#[test]
fn null_peers_are_judged_only_with_a_domain() {
    let ctx = Context::new();
    let (requests, handler) = rep_handler(&ctx, 1, |req| {
        assert_eq!(req.len(), 6, "NULL sends no credentials");
        reply("400", "")
    });
    // No domain: the handler is not asked, the peer passes.
    let mut open = socket(&ctx, SocketType::Pull);
    let ep = bind(&mut open, Transport::Ipc);
    let mut client = socket(&ctx, SocketType::Push);
    client.connect(&ep).unwrap();
    client.send("open", Flags::NONE).unwrap();
    assert_eq!(recv_str(&mut open), "open");

    let mut guarded = socket(&ctx, SocketType::Pull);
    guarded.set_zap_domain(b"dom").unwrap();
    let server_events = guarded.monitor_channel(EventKind::HandshakeFailedAuth.code());
    let ep = bind(&mut guarded, Transport::Tcp);
    let mut client = socket(&ctx, SocketType::Push);
    let events = client.monitor_channel(EventKind::HandshakeFailedAuth.code());
    client.connect(&ep).unwrap();
    offer_refused(&mut client, "refused");
    let e = events.recv_timeout(TIMEOUT).unwrap();
    assert_eq!((e.kind, e.value), (EventKind::HandshakeFailedAuth, 400));
    let e = server_events.recv_timeout(TIMEOUT).unwrap();
    assert_eq!((e.kind, e.value), (EventKind::HandshakeFailedAuth, 400));
    let req = requests.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(strs(&req), ["1.0", "1", "dom", "127.0.0.1", "", "NULL"]);
    assert!(requests.try_recv().is_err(), "asked once");
    assert_nothing_for(&mut guarded, Duration::from_millis(30));
    handler.join().unwrap();
}

#[test]
fn curve_client_keys_go_to_the_handler() {
    let ctx = Context::new();
    let (public, secret) = zlink_mq::curve::keypair().unwrap();
    let (client_public, client_secret) = zlink_mq::curve::keypair().unwrap();
    let client_raw = zlink_mq::core::z85::decode_key(&client_public).unwrap();
    let (requests, handler) = rep_handler(&ctx, 1, move |req| {
        if req[6] == client_raw {
            reply("200", "")
        } else {
            reply("400", "")
        }
    });
    let mut server = socket(&ctx, SocketType::Pull);
    server.set_curve_secretkey(&secret).unwrap();
    server.set_curve_server(true);
    let ep = bind(&mut server, Transport::Ipc);
    let mut client = socket(&ctx, SocketType::Push);
    client.set_curve_secretkey(&client_secret).unwrap();
    client.set_curve_serverkey(&public).unwrap();
    client.connect(&ep).unwrap();
    client.send("sealed", Flags::NONE).unwrap();
    assert_eq!(recv_str(&mut server), "sealed");
    let req = requests.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(strs(&req[..6]), ["1.0", "1", "", "", "", "CURVE"]);
    assert_eq!(req[6], client_raw);
    assert_eq!(req.len(), 7);
    handler.join().unwrap();
}

#[test]
fn statuses_300_and_500_reach_the_server_monitor() {
    for status in [300u32, 500] {
        let ctx = Context::new();
        let (_requests, handler) = rep_handler(&ctx, 1, move |_| reply(&status.to_string(), ""));
        let mut server = socket(&ctx, SocketType::Pull);
        server.set_zap_domain(b"d").unwrap();
        let events = server.monitor_channel(EventKind::HandshakeFailedAuth.code());
        let ep = bind(&mut server, Transport::Tcp);
        let mut client = socket(&ctx, SocketType::Push);
        client.connect(&ep).unwrap();
        let e = events.recv_timeout(TIMEOUT).unwrap();
        assert_eq!((e.kind, e.value), (EventKind::HandshakeFailedAuth, status));
        handler.join().unwrap();
    }
}

#[test]
fn malformed_replies_are_protocol_errors_with_zap_codes() {
    let cases: [(Vec<Vec<u8>>, u32); 4] = [
        (
            [&b"2.0"[..], b"1", b"200", b"", b"", b""]
                .map(<[u8]>::to_vec)
                .to_vec(),
            0x2000_0003,
        ),
        (
            [&b"1.0"[..], b"7", b"200", b"", b"", b""]
                .map(<[u8]>::to_vec)
                .to_vec(),
            0x2000_0002,
        ),
        (
            [&b"1.0"[..], b"1", b"201", b"", b"", b""]
                .map(<[u8]>::to_vec)
                .to_vec(),
            0x2000_0004,
        ),
        (
            [&b"1.0"[..], b"1", b"200", b"", b""]
                .map(<[u8]>::to_vec)
                .to_vec(),
            0x2000_0001,
        ),
    ];
    for (bad, code) in cases {
        let ctx = Context::new();
        let (_requests, handler) = rep_handler(&ctx, 1, move |_| bad.clone());
        let mut server = socket(&ctx, SocketType::Pull);
        server.set_zap_domain(b"d").unwrap();
        let events = server.monitor_channel(EventKind::HandshakeFailedProtocol.code());
        let ep = bind(&mut server, Transport::Tcp);
        let mut client = socket(&ctx, SocketType::Push);
        client.connect(&ep).unwrap();
        let e = events.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(
            (e.kind, e.value),
            (EventKind::HandshakeFailedProtocol, code),
            "{code:#x}"
        );
        handler.join().unwrap();
    }
}

#[test]
fn a_slow_handler_holds_up_only_the_connection_it_judges() {
    let ctx = Context::new();
    let mut handler = socket(&ctx, SocketType::Router);
    handler.bind(ZAP).unwrap();
    let mut server = socket(&ctx, SocketType::Pull);
    server.set_plain_server(None::<fn(&[u8], &[u8]) -> bool>);
    let ep = bind(&mut server, Transport::Tcp);

    let mut slow = socket(&ctx, SocketType::Push);
    slow.set_plain_client(b"slow", b"x").unwrap();
    slow.connect(&ep).unwrap();
    slow.send("late", Flags::NONE).unwrap();
    // ROUTER: routing id, delimiter, then the request.
    let held = handler.recv_multipart(Flags::NONE).unwrap();
    assert_eq!(&held[8][..], b"slow");

    let mut fast = socket(&ctx, SocketType::Push);
    fast.set_plain_client(b"fast", b"x").unwrap();
    fast.connect(&ep).unwrap();
    fast.send("early", Flags::NONE).unwrap();
    let req = handler.recv_multipart(Flags::NONE).unwrap();
    assert_eq!(&req[8][..], b"fast");
    let answer = |req: &[zlink_mq::Msg], handler: &mut Socket| {
        let mut parts: Vec<&[u8]> = vec![&req[0][..], b""];
        let rest = reply("200", "");
        parts.extend(rest.iter().map(Vec::as_slice));
        handler
            .send_multipart(parts.iter().copied(), Flags::NONE)
            .unwrap();
    };
    answer(&req, &mut handler);
    // The fast client's message flows while the slow one still waits.
    assert_eq!(recv_str(&mut server), "early");
    assert_nothing_for(&mut server, Duration::from_millis(50));
    answer(&held, &mut handler);
    assert_eq!(recv_str(&mut server), "late");
}

#[test]
fn without_a_handler_enforce_domain_decides() {
    for enforce in [false, true] {
        let ctx = Context::new();
        let mut server = socket(&ctx, SocketType::Pull);
        server.set_zap_domain(b"d").unwrap();
        server.set_zap_enforce_domain(enforce);
        assert_eq!(server.zap_enforce_domain(), enforce);
        assert_eq!(server.zap_domain(), b"d");
        let events = server.monitor_channel(EventKind::HandshakeFailedNoDetail.code());
        let ep = bind(&mut server, Transport::Ipc);
        let mut client = socket(&ctx, SocketType::Push);
        client.connect(&ep).unwrap();
        client.send("hi", Flags::NONE).unwrap();
        if enforce {
            let e = events.recv_timeout(TIMEOUT).unwrap();
            assert_eq!((e.kind, e.value), (EventKind::HandshakeFailedNoDetail, 14));
            assert_nothing_for(&mut server, Duration::from_millis(30));
        } else {
            assert_eq!(recv_str(&mut server), "hi");
        }
    }
}

#[test]
fn a_refused_client_does_not_reconnect_but_a_temporary_failure_does() {
    // libzmq 4.3: ERROR from the server is a protocol error that ends the
    // connecter; 300 sends no ERROR, so the client tries again.
    for (status, retries) in [("400", false), ("300", true)] {
        let ctx = Context::new();
        let patience = Duration::from_secs(1);
        let (requests, handler) =
            rep_handler_waiting(&ctx, 2, patience, move |_| reply(status, ""));
        let mut server = socket(&ctx, SocketType::Pull);
        server.set_zap_domain(b"d").unwrap();
        let ep = bind(&mut server, Transport::Tcp);
        let mut client = socket(&ctx, SocketType::Push);
        client.set_reconnect_ivl(Some(Duration::from_millis(10)));
        client.connect(&ep).unwrap();
        requests.recv_timeout(TIMEOUT).unwrap();
        let again = requests.recv_timeout(Duration::from_millis(500));
        assert_eq!(again.is_ok(), retries, "status {status}");
        drop(client);
        handler.join().unwrap();
    }
}

#[test]
fn a_handler_that_leaves_without_replying_lets_nobody_in() {
    let ctx = Context::new();
    let mut handler = socket(&ctx, SocketType::Rep);
    handler.bind(ZAP).unwrap();
    let mut server = socket(&ctx, SocketType::Pull);
    server.set_zap_domain(b"d").unwrap();
    let ep = bind(&mut server, Transport::Ipc);
    let mut client = socket(&ctx, SocketType::Push);
    client.connect(&ep).unwrap();
    client.send("waits", Flags::NONE).unwrap();
    assert_eq!(handler.recv_multipart(Flags::NONE).unwrap().len(), 6);
    drop(handler);
    // As libzmq: the peer waits (until the handshake times out), it is
    // neither let in nor refused because the handler went away.
    assert_nothing_for(&mut server, Duration::from_millis(200));
}

/// A ZMTP property list (RFC 37's metadata), as a ZAP reply's frame 6.
fn property_list(props: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in props {
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(value.len() as u32).to_be_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

#[test]
fn the_user_id_and_metadata_a_handler_gives_reach_every_frame() {
    let ctx = Context::new();
    let (_requests, handler) = rep_handler(&ctx, 1, |_| {
        let mut r = reply("200", "anna");
        r[5] = property_list(&[("X-Role", "admin"), ("Hello", "World")]);
        r
    });
    let mut server = socket(&ctx, SocketType::Pull);
    server.set_plain_server(None::<fn(&[u8], &[u8]) -> bool>);
    let ep = bind(&mut server, Transport::Tcp);

    let mut client = socket(&ctx, SocketType::Push);
    client.set_plain_client(b"admin", b"secret").unwrap();
    // The peer's own claim to a name the handler set loses, as in libzmq.
    client.add_metadata("X-Role", "guest").unwrap();
    client.add_metadata("X-Own", "mine").unwrap();
    client.connect(&ep).unwrap();
    client.send_multipart(["one", "two"], Flags::NONE).unwrap();
    let frames = server.recv_multipart(Flags::NONE).unwrap();
    assert_eq!(frames.len(), 2);
    for f in &frames {
        let p = |n| {
            f.property(n)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(p("User-Id").as_deref(), Some("anna"));
        assert_eq!(p("X-Role").as_deref(), Some("admin"));
        assert_eq!(p("Hello").as_deref(), Some("World"));
        assert_eq!(p("X-Own").as_deref(), Some("mine"));
        assert_eq!(p("Socket-Type").as_deref(), Some("PUSH"));
    }
    handler.join().unwrap();
}
