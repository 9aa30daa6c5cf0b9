//! Our sockets against real libzmq 4.3.4 (the `zmq` crate builds it from
//! source): every valid socket pair, with our socket on either side, each
//! side binding in turn, over TCP and IPC. Single and multipart messages,
//! subscriptions with prefixes and unsubscribe, ROUTER identities, PLAIN
//! accepted and rejected, heartbeats.

mod common;

use std::time::{Duration, Instant};

use common::sock::{TIMEOUT, Transport};
use common::zmtp::spawn_zap_handler;
use zlink_mq::monitor::EventKind;
use zlink_mq::{Context, Flags, Socket, SocketType};

/// One end of a test connection: ours, or libzmq's.
enum Side {
    Ours(Box<Socket>),
    Theirs(zmq::Socket),
}

fn zmq_type(kind: SocketType) -> zmq::SocketType {
    match kind {
        SocketType::Pair => zmq::PAIR,
        SocketType::Pub => zmq::PUB,
        SocketType::Sub => zmq::SUB,
        SocketType::XPub => zmq::XPUB,
        SocketType::XSub => zmq::XSUB,
        SocketType::Dealer => zmq::DEALER,
        SocketType::Router => zmq::ROUTER,
        SocketType::Req => zmq::REQ,
        SocketType::Rep => zmq::REP,
        SocketType::Push => zmq::PUSH,
        SocketType::Pull => zmq::PULL,
        SocketType::Stream => zmq::STREAM,
    }
}

impl Side {
    fn new(ours: bool, kind: SocketType, ctx: &Context, zctx: &zmq::Context) -> Self {
        if ours {
            Side::Ours(Box::new(common::sock::socket(ctx, kind)))
        } else {
            let s = zctx.socket(zmq_type(kind)).unwrap();
            s.set_linger(0).unwrap();
            s.set_rcvtimeo(TIMEOUT.as_millis() as i32).unwrap();
            s.set_sndtimeo(TIMEOUT.as_millis() as i32).unwrap();
            Side::Theirs(s)
        }
    }

    fn who(&self) -> &'static str {
        match self {
            Side::Ours(_) => "ours",
            Side::Theirs(_) => "libzmq",
        }
    }

    fn bind(&mut self, t: Transport) -> String {
        let ep = t.bind_endpoint();
        match self {
            Side::Ours(s) => {
                s.bind(&ep).unwrap();
                s.last_endpoint().unwrap().to_owned()
            }
            Side::Theirs(s) => {
                s.bind(&ep).unwrap();
                s.get_last_endpoint().unwrap().unwrap()
            }
        }
    }

    fn connect(&mut self, ep: &str) {
        match self {
            Side::Ours(s) => s.connect(ep).unwrap(),
            Side::Theirs(s) => s.connect(ep).unwrap(),
        }
    }

    fn set_routing_id(&mut self, id: &str) {
        match self {
            Side::Ours(s) => s.set_routing_id(id.as_bytes()).unwrap(),
            Side::Theirs(s) => s.set_identity(id.as_bytes()).unwrap(),
        }
    }

    fn set_router_mandatory(&mut self) {
        match self {
            Side::Ours(s) => s.set_router_mandatory(true),
            Side::Theirs(s) => s.set_router_mandatory(true).unwrap(),
        }
    }

    fn send(&mut self, parts: &[&[u8]]) {
        assert!(self.try_send(parts, false), "{} send", self.who());
    }

    /// Sends; with `dontwait`, reports whether it could.
    fn try_send(&mut self, parts: &[&[u8]], dontwait: bool) -> bool {
        match self {
            Side::Ours(s) => {
                let flags = if dontwait {
                    Flags::DONTWAIT
                } else {
                    Flags::NONE
                };
                s.send_multipart(parts.iter().copied(), flags).is_ok()
            }
            Side::Theirs(s) => {
                let flags = if dontwait { zmq::DONTWAIT } else { 0 };
                s.send_multipart(parts.iter().copied(), flags).is_ok()
            }
        }
    }

    fn recv(&mut self) -> Vec<Vec<u8>> {
        match self {
            Side::Ours(s) => s
                .recv_multipart(Flags::NONE)
                .unwrap()
                .iter()
                .map(|m| m.to_vec())
                .collect(),
            Side::Theirs(s) => s.recv_multipart(0).unwrap(),
        }
    }

    fn try_recv(&mut self) -> Option<Vec<Vec<u8>>> {
        match self {
            Side::Ours(s) => s
                .recv_multipart(Flags::DONTWAIT)
                .ok()
                .map(|parts| parts.iter().map(|m| m.to_vec()).collect()),
            Side::Theirs(s) => s.recv_multipart(zmq::DONTWAIT).ok(),
        }
    }

    /// Subscribes: the SUBSCRIBE option on a SUB, a message on an XSUB.
    fn subscription(&mut self, kind: SocketType, topic: &str, on: bool) {
        if kind == SocketType::XSub {
            let mut m = vec![u8::from(on)];
            m.extend_from_slice(topic.as_bytes());
            self.send(&[&m]);
            return;
        }
        match (self, on) {
            (Side::Ours(s), true) => s.subscribe(topic.as_bytes()).unwrap(),
            (Side::Ours(s), false) => s.unsubscribe(topic.as_bytes()).unwrap(),
            (Side::Theirs(s), true) => s.set_subscribe(topic.as_bytes()).unwrap(),
            (Side::Theirs(s), false) => s.set_unsubscribe(topic.as_bytes()).unwrap(),
        }
    }
}

fn strs(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// A scenario between a side of type A and a side of type B.
struct Case {
    a: SocketType,
    b: SocketType,
    /// Options set before binding and connecting.
    setup: fn(&mut Side, &mut Side),
    /// The exchange; the flag says whether A is the side that bound.
    run: fn(&mut Side, &mut Side, bool),
}

/// Runs `case` with our socket as A (`ours_a`) or as B, each side binding
/// in turn, over TCP and IPC.
fn interop(case: &Case, ours_a: bool) {
    for t in [Transport::Tcp, Transport::Ipc] {
        for a_binds in [true, false] {
            let zctx = zmq::Context::new();
            let ctx = Context::new();
            let mut a = Side::new(ours_a, case.a, &ctx, &zctx);
            let mut b = Side::new(!ours_a, case.b, &ctx, &zctx);
            (case.setup)(&mut a, &mut b);
            if a_binds {
                let ep = a.bind(t);
                b.connect(&ep);
            } else {
                let ep = b.bind(t);
                a.connect(&ep);
            }
            eprintln!(
                "{:?} ({}) - {:?} ({}) over {t:?}, {} binds",
                case.a,
                a.who(),
                case.b,
                b.who(),
                if a_binds { "A" } else { "B" }
            );
            (case.run)(&mut a, &mut b, a_binds);
        }
    }
}

fn no_setup(_: &mut Side, _: &mut Side) {}

macro_rules! pair_tests {
    ($name:ident, $case:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn ours_first_type() {
                interop(&$case, true);
            }

            #[test]
            fn ours_second_type() {
                interop(&$case, false);
            }
        }
    };
}

// ----- PUSH / PULL ---------------------------------------------------------

pair_tests!(
    push_pull,
    Case {
        a: SocketType::Push,
        b: SocketType::Pull,
        setup: no_setup,
        run: |push, pull, _| {
            let big = vec![0x5a; 100_000];
            push.send(&[b"hello"]);
            push.send(&[b"multi", b"", &big]);
            assert_eq!(pull.recv(), strs(&["hello"]));
            assert_eq!(pull.recv(), [b"multi".to_vec(), vec![], big]);
        },
    }
);

// ----- PAIR ----------------------------------------------------------------

pair_tests!(
    pair,
    Case {
        a: SocketType::Pair,
        b: SocketType::Pair,
        setup: no_setup,
        run: |a, b, _| {
            a.send(&[b"ping", b"1"]);
            assert_eq!(b.recv(), strs(&["ping", "1"]));
            b.send(&[b"pong"]);
            assert_eq!(a.recv(), strs(&["pong"]));
        },
    }
);

// ----- REQ / REP, REQ / ROUTER, DEALER / REP, DEALER / ROUTER, DEALER / DEALER

pair_tests!(
    req_rep,
    Case {
        a: SocketType::Req,
        b: SocketType::Rep,
        setup: no_setup,
        run: |req, rep, _| {
            for i in 0..3 {
                let i = i.to_string();
                req.send(&[b"request", i.as_bytes()]);
                assert_eq!(rep.recv(), strs(&["request", &i]));
                rep.send(&[b"reply", i.as_bytes()]);
                assert_eq!(req.recv(), strs(&["reply", &i]));
            }
        },
    }
);

pair_tests!(
    req_router,
    Case {
        a: SocketType::Req,
        b: SocketType::Router,
        setup: |req, _| req.set_routing_id("the-req"),
        run: |req, router, _| {
            req.send(&[b"hello"]);
            assert_eq!(router.recv(), strs(&["the-req", "", "hello"]));
            router.send(&[b"the-req", b"", b"world"]);
            assert_eq!(req.recv(), strs(&["world"]));
        },
    }
);

pair_tests!(
    dealer_rep,
    Case {
        a: SocketType::Dealer,
        b: SocketType::Rep,
        setup: no_setup,
        run: |dealer, rep, _| {
            dealer.send(&[b"", b"question"]);
            assert_eq!(rep.recv(), strs(&["question"]));
            rep.send(&[b"answer"]);
            assert_eq!(dealer.recv(), strs(&["", "answer"]));
        },
    }
);

pair_tests!(
    dealer_router,
    Case {
        a: SocketType::Dealer,
        b: SocketType::Router,
        setup: |dealer, _| dealer.set_routing_id("the-dealer"),
        run: |dealer, router, _| {
            dealer.send(&[b"x", b"y"]);
            assert_eq!(router.recv(), strs(&["the-dealer", "x", "y"]));
            router.send(&[b"the-dealer", b"back"]);
            assert_eq!(dealer.recv(), strs(&["back"]));
        },
    }
);

pair_tests!(
    dealer_dealer,
    Case {
        a: SocketType::Dealer,
        b: SocketType::Dealer,
        setup: no_setup,
        run: |a, b, _| {
            a.send(&[b"to b"]);
            assert_eq!(b.recv(), strs(&["to b"]));
            b.send(&[b"to a", b"two parts"]);
            assert_eq!(a.recv(), strs(&["to a", "two parts"]));
        },
    }
);

pair_tests!(
    router_router,
    Case {
        a: SocketType::Router,
        b: SocketType::Router,
        setup: |a, b| {
            a.set_routing_id("router-a");
            b.set_routing_id("router-b");
            a.set_router_mandatory();
            b.set_router_mandatory();
        },
        run: |a, b, a_binds| {
            // The connecting side learns the binder's id in the handshake
            // and can address it once the connection is up.
            let (connecter, binder, c_id, b_id) = if a_binds {
                (b, a, "router-b", "router-a")
            } else {
                (a, b, "router-a", "router-b")
            };
            let start = Instant::now();
            while !connecter.try_send(&[b_id.as_bytes(), b"hello"], true) {
                assert!(start.elapsed() < TIMEOUT, "never routable");
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(binder.recv(), strs(&[c_id, "hello"]));
            binder.send(&[c_id.as_bytes(), b"welcome"]);
            assert_eq!(connecter.recv(), strs(&[b_id, "welcome"]));
        },
    }
);

// ----- PUB / SUB and the X variants ---------------------------------------

/// Publishes probes under `prefix` until the subscriber gets one, then
/// consumes the probes still on their way (see `sync_subscriptions`).
fn sync_topic(publisher: &mut Side, subscriber: &mut Side, prefix: &str) {
    let start = Instant::now();
    let mut sent = 0;
    let first = loop {
        let probe = format!("{prefix}\u{7f}sync{sent}");
        publisher.send(&[probe.as_bytes()]);
        sent += 1;
        if let Some(m) = subscriber.try_recv() {
            break m;
        }
        assert!(start.elapsed() < TIMEOUT, "the subscription never arrived");
        std::thread::sleep(Duration::from_millis(1));
    };
    let last = format!("{prefix}\u{7f}sync{}", sent - 1).into_bytes();
    let mut m = first;
    while m[0] != last {
        m = subscriber.recv();
    }
}

fn pubsub(a: SocketType, b: SocketType, publisher: &mut Side, subscriber: &mut Side) {
    let xpub = a == SocketType::XPub;
    subscriber.subscription(b, "topic", true);
    sync_topic(publisher, subscriber, "topic");
    if xpub {
        assert_eq!(publisher.recv(), [b"\x01topic".to_vec()]);
    }
    // Prefix matching on the first frame; multipart kept whole.
    publisher.send(&[b"other"]);
    publisher.send(&[b"to", b"pic"]);
    publisher.send(&[b"topic.x", b"part 2"]);
    assert_eq!(subscriber.recv(), strs(&["topic.x", "part 2"]));

    // Unsubscribe; a later subscription, once through, shows the
    // unsubscription went through too (they travel in order).
    subscriber.subscription(b, "topic", false);
    subscriber.subscription(b, "extra", true);
    sync_topic(publisher, subscriber, "extra");
    if xpub {
        assert_eq!(publisher.recv(), [b"\x00topic".to_vec()]);
        assert_eq!(publisher.recv(), [b"\x01extra".to_vec()]);
    }
    publisher.send(&[b"topic.y"]);
    publisher.send(&[b"extra.z"]);
    assert_eq!(subscriber.recv(), strs(&["extra.z"]));
    assert!(subscriber.try_recv().is_none());
}

pair_tests!(
    pub_sub,
    Case {
        a: SocketType::Pub,
        b: SocketType::Sub,
        setup: no_setup,
        run: |p, s, _| pubsub(SocketType::Pub, SocketType::Sub, p, s),
    }
);

pair_tests!(
    pub_xsub,
    Case {
        a: SocketType::Pub,
        b: SocketType::XSub,
        setup: no_setup,
        run: |p, s, _| pubsub(SocketType::Pub, SocketType::XSub, p, s),
    }
);

pair_tests!(
    xpub_sub,
    Case {
        a: SocketType::XPub,
        b: SocketType::Sub,
        setup: no_setup,
        run: |p, s, _| pubsub(SocketType::XPub, SocketType::Sub, p, s),
    }
);

pair_tests!(
    xpub_xsub,
    Case {
        a: SocketType::XPub,
        b: SocketType::XSub,
        setup: no_setup,
        run: |p, s, _| pubsub(SocketType::XPub, SocketType::XSub, p, s),
    }
);

// ----- Long subscriptions ----------------------------------------------------

/// libzmq 4.3.3+ sends every subscription as a SUBSCRIBE / CANCEL command
/// to a ZMTP 3.1 peer, whatever its length, and takes any length itself:
/// topics of 1 KiB, 64 KiB and 1 MiB subscribe, filter (down to their
/// last byte) and cancel like short ones, both ways.
///
/// libzmq's SUB and XSUB keep their subscriptions in a trie whose `add`
/// and `rm` recurse once per topic byte (4.3.4 `trie.cpp`): subscribing a
/// libzmq SUB to 1 MiB overflows an ordinary thread's stack, so the
/// exchange runs on a thread with a deep one (reserved, touched only as
/// used). Each topic is cancelled before the next, so libzmq's trie is
/// shallow again when its sockets close.
fn long_pubsub(a: SocketType, b: SocketType, publisher: &mut Side, subscriber: &mut Side) {
    std::thread::scope(|scope| {
        let run = std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn_scoped(scope, || long_pubsub_rounds(a, b, publisher, subscriber))
            .unwrap();
        if let Err(panic) = run.join() {
            std::panic::resume_unwind(panic);
        }
    });
}

fn long_pubsub_rounds(a: SocketType, b: SocketType, publisher: &mut Side, subscriber: &mut Side) {
    let xpub = a == SocketType::XPub;
    // What the XPUB reads, in any order: subscriptions made before the
    // connection exists travel in the order the store lists them.
    let notified = |publisher: &mut Side, expected: &[(u8, &str)]| {
        if !xpub {
            return;
        }
        let mut expected: Vec<Vec<u8>> = expected
            .iter()
            .map(|&(flag, topic)| [&[flag][..], topic.as_bytes()].concat())
            .collect();
        let mut got: Vec<Vec<u8>> = expected
            .iter()
            .map(|_| {
                let mut parts = publisher.recv();
                assert_eq!(parts.len(), 1, "XPUB notification in one frame");
                parts.remove(0)
            })
            .collect();
        got.sort();
        expected.sort();
        assert!(got == expected, "XPUB notifications");
    };
    for (round, len) in [1024usize, 64 * 1024, 1024 * 1024].into_iter().enumerate() {
        let topic: String = (0..len)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let sync_a = format!("s{round}a");
        subscriber.subscription(b, &topic, true);
        subscriber.subscription(b, &sync_a, true);
        sync_topic(publisher, subscriber, &sync_a);
        notified(publisher, &[(1, &topic), (1, &sync_a)]);

        // A message under the topic, one that differs in its last byte,
        // then a probe: the probe comes after whatever passed.
        let matching = [topic.as_bytes(), b"!"].concat();
        let mut other = topic.clone().into_bytes();
        *other.last_mut().unwrap() ^= 1;
        let end_a = format!("{sync_a}.end");
        publisher.send(&[&matching, b"part 2"]);
        publisher.send(&[&other]);
        publisher.send(&[end_a.as_bytes()]);
        assert!(
            subscriber.recv() == [matching, b"part 2".to_vec()],
            "{len}-byte topic"
        );
        assert_eq!(subscriber.recv(), strs(&[&end_a]));

        // The cancellation travels before a later subscription.
        let sync_b = format!("s{round}b");
        subscriber.subscription(b, &topic, false);
        subscriber.subscription(b, &sync_b, true);
        sync_topic(publisher, subscriber, &sync_b);
        notified(publisher, &[(0, &topic), (1, &sync_b)]);
        let end_b = format!("{sync_b}.end");
        publisher.send(&[topic.as_bytes()]);
        publisher.send(&[end_b.as_bytes()]);
        assert_eq!(
            subscriber.recv(),
            strs(&[&end_b]),
            "{len}-byte topic cancelled"
        );
    }
    assert!(subscriber.try_recv().is_none());
}

pair_tests!(
    long_pub_sub,
    Case {
        a: SocketType::Pub,
        b: SocketType::Sub,
        setup: no_setup,
        run: |p, s, _| long_pubsub(SocketType::Pub, SocketType::Sub, p, s),
    }
);

pair_tests!(
    long_xpub_sub,
    Case {
        a: SocketType::XPub,
        b: SocketType::Sub,
        setup: no_setup,
        run: |p, s, _| long_pubsub(SocketType::XPub, SocketType::Sub, p, s),
    }
);

pair_tests!(
    long_xpub_xsub,
    Case {
        a: SocketType::XPub,
        b: SocketType::XSub,
        setup: no_setup,
        run: |p, s, _| long_pubsub(SocketType::XPub, SocketType::XSub, p, s),
    }
);

/// MAXMSGSIZE bounds a subscription as it bounds every frame (libzmq
/// counts the command's name: `\x09SUBSCRIBE` and the topic). A libzmq SUB
/// whose topic is one byte over it loses its connection each time it
/// connects, with a clear reason; a subscription at the limit and the other
/// subscribers of the same PUB carry on, over tcp and ipc.
#[test]
fn long_subscriptions_over_maxmsgsize_fail_that_connection_only() {
    const LIMIT: usize = 8 * 1024;
    for t in [Transport::Tcp, Transport::Ipc] {
        let ctx = Context::new();
        let zctx = zmq::Context::new();
        let mut publisher = common::sock::socket(&ctx, SocketType::Pub);
        publisher.set_maxmsgsize(Some(LIMIT as u64));
        let events = publisher.monitor_channel(EventKind::Disconnected.code());
        let ep = common::sock::bind(&mut publisher, t);
        let libzmq_sub = |topic: &[u8]| {
            let s = zctx.socket(zmq::SUB).unwrap();
            s.set_linger(0).unwrap();
            s.set_rcvtimeo(TIMEOUT.as_millis() as i32).unwrap();
            s.set_subscribe(topic).unwrap();
            s.connect(&ep).unwrap();
            s
        };
        let at_limit: Vec<u8> = (0..LIMIT - 10).map(|i| b'a' + (i % 26) as u8).collect();
        let over = [&at_limit[..], b"!"].concat();

        let refused = libzmq_sub(&over);
        let event = events.recv_timeout(TIMEOUT).expect("a Disconnected event");
        let expected = format!(
            "framing: command of {} bytes exceeds the {LIMIT}-byte limit",
            LIMIT + 1
        );
        assert_eq!(event.reason.as_deref(), Some(expected.as_str()), "{t:?}");

        let good = libzmq_sub(b"good");
        let limited = libzmq_sub(&at_limit);
        // Both subscriptions arrive while the refused one keeps
        // reconnecting and failing.
        let start = Instant::now();
        let (mut good_got, mut limited_got) = (0, 0);
        while good_got == 0 || limited_got == 0 {
            assert!(
                start.elapsed() < TIMEOUT,
                "{t:?}: the subscriptions never arrived"
            );
            publisher.send(&b"good"[..], Flags::NONE).unwrap();
            publisher.send(&over[..], Flags::NONE).unwrap();
            std::thread::sleep(Duration::from_millis(2));
            while let Ok(m) = good.recv_bytes(zmq::DONTWAIT) {
                assert_eq!(m, b"good");
                good_got += 1;
            }
            while let Ok(m) = limited.recv_bytes(zmq::DONTWAIT) {
                // `over` starts with the limited topic: it matches.
                assert_eq!(m, over);
                limited_got += 1;
            }
        }
        publisher.send(&b"good end"[..], Flags::NONE).unwrap();
        loop {
            let m = good.recv_bytes(0).unwrap();
            if m == b"good end" {
                break;
            }
            assert_eq!(m, b"good");
        }
        assert!(
            refused.recv_bytes(zmq::DONTWAIT).is_err(),
            "{t:?}: refused got data"
        );
        // Every disconnection was the refused subscriber's.
        let more: Vec<_> = events.try_iter().collect();
        for e in &more {
            assert_eq!(e.reason.as_deref(), Some(expected.as_str()), "{t:?}");
        }
        eprintln!(
            "{t:?}: {} disconnections, {good_got} + {limited_got} messages through",
            1 + more.len()
        );
    }
}

// ----- PLAIN ---------------------------------------------------------------

fn plain_libzmq_server(zctx: &zmq::Context, t: Transport) -> (zmq::Socket, String) {
    let s = zctx.socket(zmq::PULL).unwrap();
    s.set_linger(0).unwrap();
    s.set_rcvtimeo(TIMEOUT.as_millis() as i32).unwrap();
    s.set_plain_server(true).unwrap();
    s.set_zap_domain("test").unwrap();
    s.bind(&t.bind_endpoint()).unwrap();
    let ep = s.get_last_endpoint().unwrap().unwrap();
    (s, ep)
}

#[test]
fn plain_our_client_to_a_libzmq_server() {
    for t in [Transport::Tcp, Transport::Ipc] {
        let zctx = zmq::Context::new();
        let _zap = spawn_zap_handler(&zctx);
        let (server, ep) = plain_libzmq_server(&zctx, t);
        let ctx = Context::new();

        let mut good = common::sock::socket(&ctx, SocketType::Push);
        good.set_plain_client(b"admin", b"secret").unwrap();
        good.connect(&ep).unwrap();
        good.send_multipart([&b"accepted"[..], b"two"], Flags::NONE)
            .unwrap();
        assert_eq!(
            server.recv_multipart(0).unwrap(),
            strs(&["accepted", "two"])
        );

        let mut bad = common::sock::socket(&ctx, SocketType::Push);
        bad.set_plain_client(b"admin", b"wrong").unwrap();
        let events = bad.monitor_channel(EventKind::HandshakeFailedAuth.code());
        bad.connect(&ep).unwrap();
        common::sock::offer_refused(&mut bad, "refused");
        let e = events.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(
            (e.kind, e.value),
            (EventKind::HandshakeFailedAuth, 400),
            "{t:?}"
        );
        good.send("still fine", Flags::NONE).unwrap();
        assert_eq!(server.recv_multipart(0).unwrap(), strs(&["still fine"]));
        // The zmq context ends the ZAP handler when it terminates.
        drop(server);
    }
}

#[test]
fn plain_libzmq_client_to_our_server() {
    for t in [Transport::Tcp, Transport::Ipc] {
        let ctx = Context::new();
        let mut server = common::sock::socket(&ctx, SocketType::Pull);
        server.set_plain_server(Some(|user: &[u8], pass: &[u8]| {
            user == b"admin" && pass == b"secret"
        }));
        let events = server.monitor_channel(EventKind::HandshakeFailedAuth.code());
        let ep = common::sock::bind(&mut server, t);
        let zctx = zmq::Context::new();

        let bad = zctx.socket(zmq::PUSH).unwrap();
        bad.set_linger(0).unwrap();
        bad.set_plain_username(Some("admin")).unwrap();
        bad.set_plain_password(Some("guess")).unwrap();
        bad.connect(&ep).unwrap();
        bad.send("refused", zmq::DONTWAIT).unwrap();
        assert_eq!(
            events.recv_timeout(TIMEOUT).unwrap().kind,
            EventKind::HandshakeFailedAuth
        );

        let good = zctx.socket(zmq::PUSH).unwrap();
        good.set_linger(0).unwrap();
        good.set_plain_username(Some("admin")).unwrap();
        good.set_plain_password(Some("secret")).unwrap();
        good.connect(&ep).unwrap();
        good.send_multipart(["accepted", "two"], 0).unwrap();
        let got = server.recv_multipart(Flags::NONE).unwrap();
        let got: Vec<Vec<u8>> = got.iter().map(|m| m.to_vec()).collect();
        assert_eq!(
            got,
            strs(&["accepted", "two"]),
            "{t:?}: only the good client"
        );
    }
}

// ----- Heartbeats ----------------------------------------------------------

#[test]
fn libzmq_heartbeats_are_answered() {
    let ctx = Context::new();
    let mut pull = common::sock::socket(&ctx, SocketType::Pull);
    let ep = common::sock::bind(&mut pull, Transport::Tcp);
    let zctx = zmq::Context::new();
    let push = zctx.socket(zmq::PUSH).unwrap();
    push.set_linger(0).unwrap();
    push.set_heartbeat_ivl(10).unwrap();
    push.set_heartbeat_timeout(100).unwrap();
    let monitor_ep = "inproc://interop-heartbeat-monitor";
    push.monitor(monitor_ep, zmq::SocketEvent::DISCONNECTED as i32)
        .unwrap();
    let watcher = zctx.socket(zmq::PAIR).unwrap();
    watcher.set_rcvtimeo(200).unwrap();
    watcher.connect(monitor_ep).unwrap();
    push.connect(&ep).unwrap();
    push.send("one", 0).unwrap();
    assert_eq!(&pull.recv(Flags::NONE).unwrap()[..], b"one");
    // Twenty intervals: libzmq would have dropped a peer that did not
    // answer its PINGs.
    assert!(watcher.recv_multipart(0).is_err(), "libzmq disconnected us");
    push.send("two", 0).unwrap();
    assert_eq!(&pull.recv(Flags::NONE).unwrap()[..], b"two");
}

#[test]
fn our_heartbeats_keep_a_libzmq_peer() {
    let zctx = zmq::Context::new();
    let pull = zctx.socket(zmq::PULL).unwrap();
    pull.set_linger(0).unwrap();
    pull.set_rcvtimeo(TIMEOUT.as_millis() as i32).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let ep = pull.get_last_endpoint().unwrap().unwrap();
    // A relay between the two records both directions, so that the PINGs
    // and PONGs can be counted.
    let relay = Relay::start(ep.trim_start_matches("tcp://"));
    let ctx = Context::new();
    let mut push = common::sock::socket(&ctx, SocketType::Push);
    push.set_heartbeat_ivl(Some(Duration::from_millis(10)));
    push.set_heartbeat_timeout(Some(Duration::from_millis(100)));
    let events = push.monitor_channel(EventKind::Disconnected.code());
    push.connect(&format!("tcp://{}", relay.addr)).unwrap();
    push.send("one", Flags::NONE).unwrap();
    assert_eq!(pull.recv_bytes(0).unwrap(), b"one");
    assert!(
        events.recv_timeout(Duration::from_millis(300)).is_err(),
        "libzmq answers our PINGs"
    );
    push.send("two", Flags::NONE).unwrap();
    assert_eq!(pull.recv_bytes(0).unwrap(), b"two");
    // 300 ms at one PING per 10 ms: many, whatever the scheduling.
    let pings = relay.count(true, b"\x04PING");
    let pongs = relay.count(false, b"\x04PONG");
    assert!(pings >= 5, "{pings} PINGs from us in 300 ms");
    assert!(pongs >= 5, "{pongs} PONGs from libzmq in 300 ms");
}

/// A TCP relay for one connection that keeps every byte it forwards.
struct Relay {
    addr: std::net::SocketAddr,
    /// Bytes from the connecting side, and from the far side.
    seen: [std::sync::Arc<std::sync::Mutex<Vec<u8>>>; 2],
}

impl Relay {
    fn start(far: &str) -> Relay {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: [std::sync::Arc<std::sync::Mutex<Vec<u8>>>; 2] = Default::default();
        let far = far.to_owned();
        let keep = seen.clone();
        std::thread::spawn(move || {
            let (near, _) = listener.accept().unwrap();
            let far = std::net::TcpStream::connect(&far).unwrap();
            let pairs = [
                (
                    near.try_clone().unwrap(),
                    far.try_clone().unwrap(),
                    keep[0].clone(),
                ),
                (far, near, keep[1].clone()),
            ];
            for (mut from, mut to, log) in pairs {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 || to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        log.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Relay { addr, seen }
    }

    /// Occurrences of `pattern` in what the connecting side (`near`) or the
    /// far side sent.
    fn count(&self, near: bool, pattern: &[u8]) -> usize {
        let bytes = self.seen[usize::from(!near)].lock().unwrap();
        bytes
            .windows(pattern.len())
            .filter(|w| *w == pattern)
            .count()
    }
}
