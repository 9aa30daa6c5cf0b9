//! ROUTER and DEALER (RFC 28) end to end on every transport, after
//! libzmq's `test_spec_router`, `test_spec_dealer`, `test_router_mandatory`
//! and `test_router_handover`.

mod common;

use std::time::Duration;

use common::sock::*;
use zlink_mq::monitor::{EVENT_ALL, EventKind};
use zlink_mq::{Context, ErrorKind, Flags, SocketType};

#[test]
fn router_prefixes_the_routing_id_and_routes_back_by_it() {
    for t in ALL {
        let ctx = Context::new();
        let mut router = socket(&ctx, SocketType::Router);
        let ep = bind(&mut router, t);
        let mut dealers = Vec::new();
        for name in ["alpha", "beta"] {
            let mut d = socket(&ctx, SocketType::Dealer);
            d.set_routing_id(name.as_bytes()).unwrap();
            d.connect(&ep).unwrap();
            dealers.push(d);
        }
        for d in &mut dealers {
            let id = d.routing_id().unwrap().to_vec();
            d.send_multipart([&b"from"[..], &id], Flags::NONE).unwrap();
        }
        for _ in 0..2 {
            let parts = recv_strs(&mut router);
            assert_eq!(parts[1], "from");
            assert_eq!(parts[0], parts[2], "{t:?}: the id frame names the sender");
        }
        send_strs(&mut router, &["beta", "to", "beta"]);
        send_strs(&mut router, &["alpha", "to", "alpha"]);
        assert_eq!(recv_strs(&mut dealers[0]), ["to", "alpha"], "{t:?}");
        assert_eq!(recv_strs(&mut dealers[1]), ["to", "beta"], "{t:?}");
    }
}

#[test]
fn router_generates_ids_for_anonymous_peers() {
    for t in ALL {
        let ctx = Context::new();
        let (mut router, mut dealers, _) =
            bound_and_connected(&ctx, t, SocketType::Router, SocketType::Dealer, 2);
        let mut ids = Vec::new();
        for d in &mut dealers {
            d.send("hi", Flags::NONE).unwrap();
        }
        for _ in 0..2 {
            let parts = router.recv_multipart(Flags::NONE).unwrap();
            // libzmq's generated ids: a zero byte, then a 32-bit counter.
            assert_eq!(parts[0].len(), 5, "{t:?}");
            assert_eq!(parts[0][0], 0);
            ids.push(parts[0].to_vec());
        }
        assert_ne!(ids[0], ids[1]);
        for id in &ids {
            router
                .send_multipart([&id[..], b"back"], Flags::NONE)
                .unwrap();
        }
        for d in &mut dealers {
            assert_eq!(recv_str(d), "back", "{t:?}");
        }
    }
}

#[test]
fn unroutable_messages_are_dropped_or_refused_with_mandatory() {
    for t in ALL {
        let ctx = Context::new();
        let (mut router, mut dealers, _) =
            bound_and_connected(&ctx, t, SocketType::Router, SocketType::Dealer, 1);
        // Without ROUTER_MANDATORY an unknown id is silently dropped.
        send_strs(&mut router, &["nobody", "lost"]);
        router.set_router_mandatory(true);
        let e = router
            .send_multipart([&b"nobody"[..], b"refused"], Flags::NONE)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::HostUnreachable, "{t:?}");
        // The socket stays usable: a known peer still gets messages.
        dealers[0].send("hello", Flags::NONE).unwrap();
        let id = router.recv_multipart(Flags::NONE).unwrap()[0].to_vec();
        router
            .send_multipart([&id[..], b"ok"], Flags::NONE)
            .unwrap();
        assert_eq!(recv_str(&mut dealers[0]), "ok", "{t:?}");
    }
}

#[test]
fn mandatory_router_reports_a_full_peer() {
    // test_router_mandatory_hwm: with ROUTER_MANDATORY a full peer makes a
    // non-blocking send fail with EAGAIN instead of dropping.
    let ctx = Context::new();
    let mut router = socket(&ctx, SocketType::Router);
    router.set_router_mandatory(true);
    router.set_sndhwm(1);
    let ep = bind(&mut router, Transport::Inproc);
    let mut dealer = socket(&ctx, SocketType::Dealer);
    dealer.set_routing_id(b"D").unwrap();
    dealer.set_rcvhwm(1);
    dealer.connect(&ep).unwrap();
    wait_peers(&mut router, 1);
    let mut sent = 0;
    loop {
        match router.send_multipart([&b"D"[..], b"m"], Flags::DONTWAIT) {
            Ok(()) => sent += 1,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::WouldBlock);
                break;
            }
        }
        assert!(sent < 100, "the high-water mark never applied");
    }
    assert_eq!(sent, 2, "inproc: the two marks add up");
}

#[test]
fn router_fair_queues_and_forgets_a_leaving_peer() {
    for t in ALL {
        let ctx = Context::new();
        let (mut router, mut dealers, ep) =
            bound_and_connected(&ctx, t, SocketType::Router, SocketType::Dealer, 2);
        dealers[0].set_routing_id(b"ignored-now").unwrap();
        for (i, d) in dealers.iter_mut().enumerate() {
            d.send(i.to_string().as_str(), Flags::NONE).unwrap();
        }
        let mut got: Vec<Vec<u8>> = (0..2)
            .map(|_| router.recv_multipart(Flags::NONE).unwrap()[1].to_vec())
            .collect();
        got.sort();
        assert_eq!(got, [b"0", b"1"]);
        // A reconnecting DEALER is a new peer: messages sent to the old one
        // after it left are not delivered to the new one.
        let mut d = dealers.remove(0);
        d.disconnect(&ep).unwrap();
        wait_until("the ROUTER to see the peer go", || {
            let _ = router.events();
            router.peer_count() == 1
        });
        d.connect(&ep).unwrap();
        wait_peers(&mut router, 2);
        d.send("again", Flags::NONE).unwrap();
        assert_eq!(
            &router.recv_multipart(Flags::NONE).unwrap()[1][..],
            b"again",
            "{t:?}"
        );
    }
}

#[test]
fn dealer_round_robins_and_fair_queues() {
    for t in ALL {
        let ctx = Context::new();
        let (mut dealer, mut peers, _) =
            bound_and_connected(&ctx, t, SocketType::Dealer, SocketType::Dealer, 3);
        for i in 0..6 {
            dealer.send(i.to_string().as_str(), Flags::NONE).unwrap();
        }
        let mut got: Vec<Vec<String>> = peers
            .iter_mut()
            .map(|p| vec![recv_str(p), recv_str(p)])
            .collect();
        got.sort();
        assert_eq!(got, [["0", "3"], ["1", "4"], ["2", "5"]], "{t:?}");
        for (i, p) in peers.iter_mut().enumerate() {
            p.send(format!("back{i}").as_str(), Flags::NONE).unwrap();
        }
        let mut back: Vec<String> = (0..3).map(|_| recv_str(&mut dealer)).collect();
        back.sort();
        assert_eq!(back, ["back0", "back1", "back2"], "{t:?}");
    }
}

#[test]
fn dealer_without_peers_blocks() {
    for t in ALL {
        let ctx = Context::new();
        let mut dealer = socket(&ctx, SocketType::Dealer);
        bind(&mut dealer, t);
        assert_eq!(
            dealer.send("x", Flags::DONTWAIT).unwrap_err().kind(),
            ErrorKind::WouldBlock,
            "{t:?}"
        );
    }
}

#[test]
fn router_to_router_with_connect_routing_id() {
    for t in ALL {
        let ctx = Context::new();
        let mut server = socket(&ctx, SocketType::Router);
        server.set_routing_id(b"server").unwrap();
        let ep = bind(&mut server, t);
        let mut client = socket(&ctx, SocketType::Router);
        client.set_routing_id(b"client").unwrap();
        client.set_connect_routing_id(b"srv").unwrap();
        client.set_router_mandatory(true);
        client.connect(&ep).unwrap();
        // The client may address the server by the id it assigned at once:
        // over tcp and ipc the message waits for the connection, as in
        // libzmq (`test_connect_rid`).
        client
            .send_multipart([&b"srv"[..], b"hello"], Flags::DONTWAIT)
            .unwrap();
        assert_eq!(recv_strs(&mut server), ["client", "hello"], "{t:?}");
        send_strs(&mut server, &["client", "welcome"]);
        assert_eq!(recv_strs(&mut client), ["srv", "welcome"], "{t:?}");
    }
}

#[test]
fn duplicate_routing_id_is_refused_unless_handover() {
    for handover in [false, true] {
        let ctx = Context::new();
        let mut router = socket(&ctx, SocketType::Router);
        router.set_router_handover(handover);
        let ep = bind(&mut router, Transport::Inproc);
        let mut first = socket(&ctx, SocketType::Dealer);
        first.set_routing_id(b"X").unwrap();
        first.connect(&ep).unwrap();
        first.send("first", Flags::NONE).unwrap();
        assert_eq!(recv_strs(&mut router), ["X", "first"]);
        let mut second = socket(&ctx, SocketType::Dealer);
        second.set_routing_id(b"X").unwrap();
        second.connect(&ep).unwrap();
        second.send("second", Flags::NONE).unwrap();
        send_strs(&mut router, &["X", "to X"]);
        if handover {
            // The newcomer takes the id over.
            assert_eq!(recv_strs(&mut router), ["X", "second"]);
            assert_eq!(recv_str(&mut second), "to X");
            assert_nothing(&mut first);
        } else {
            // The newcomer is refused; the first keeps the id.
            assert_eq!(recv_str(&mut first), "to X");
            assert_nothing_for(&mut router, std::time::Duration::from_millis(50));
        }
    }
}

/// CONNECT_ROUTING_ID names the next connection this socket initiates,
/// never a peer it accepted: a peer whose handshake finished just before
/// `set_connect_routing_id(X); connect(..)` keeps its own id (issue 9,
/// fault 5).
#[test]
fn connect_routing_id_is_not_taken_by_an_accepted_peer() {
    for t in [Transport::Tcp, Transport::Ipc, Transport::Inproc] {
        let ctx = Context::new();
        let mut router = socket(&ctx, SocketType::Router);
        router.set_router_mandatory(true);
        let events = router.monitor_channel(EVENT_ALL);
        let ep = bind(&mut router, t);
        let mut accepted = socket(&ctx, SocketType::Dealer);
        accepted.set_routing_id(b"accepted").unwrap();
        accepted.connect(&ep).unwrap();
        if t != Transport::Inproc {
            while events.recv_timeout(TIMEOUT).expect("an event").kind
                != EventKind::HandshakeSucceeded
            {}
        }
        // The handshake is done and its peer waits in the router's mailbox.
        std::thread::sleep(Duration::from_millis(100));

        let mut far = socket(&ctx, SocketType::Dealer);
        let far_ep = bind(&mut far, t);
        router.set_connect_routing_id(b"X").unwrap();
        router.connect(&far_ep).unwrap();

        accepted.send("from accepted", Flags::NONE).unwrap();
        assert_eq!(
            recv_strs(&mut router),
            ["accepted", "from accepted"],
            "{t:?}"
        );
        wait_until("the connected peer to be routable as X", || {
            router
                .send_multipart([&b"X"[..], b"to X"], Flags::DONTWAIT)
                .is_ok()
        });
        assert_eq!(recv_str(&mut far), "to X", "{t:?}");
        send_strs(&mut router, &["accepted", "to accepted"]);
        assert_eq!(recv_str(&mut accepted), "to accepted", "{t:?}");
    }
}

#[test]
fn probe_router_announces_each_connection_to_the_router() {
    for t in ALL {
        // With IMMEDIATE the connection makes the pipes (at the
        // handshake), without it the socket does (in `connect`).
        for (kind, immediate) in [
            (SocketType::Router, false),
            (SocketType::Dealer, false),
            (SocketType::Dealer, true),
        ] {
            let ctx = Context::new();
            let mut server = socket(&ctx, SocketType::Router);
            let ep = bind(&mut server, t);
            let mut client = socket(&ctx, kind);
            client.set_immediate(immediate);
            client.set_routing_id(b"X").unwrap();
            client.set_probe_router(true).unwrap();
            client.connect(&ep).unwrap();
            // The probe: the client's id and an empty frame, unasked.
            assert_eq!(recv_strs(&mut server), ["X", ""], "{t:?} {kind:?}");
            send_strs(&mut server, &["X", "Hello"]);
            let got = client.recv_multipart(Flags::NONE).unwrap();
            let body = got.last().unwrap();
            assert_eq!(&body[..], b"Hello", "{t:?} {kind:?}");
        }
    }
    // A REQ's probe comes outside its request / reply cycle, which then
    // runs as usual.
    for t in ALL {
        let ctx = Context::new();
        let mut server = socket(&ctx, SocketType::Router);
        let ep = bind(&mut server, t);
        let mut req = socket(&ctx, SocketType::Req);
        req.set_routing_id(b"R").unwrap();
        req.set_probe_router(true).unwrap();
        req.connect(&ep).unwrap();
        assert_eq!(recv_strs(&mut server), ["R", ""], "{t:?}");
        send_strs(&mut req, &["ping"]);
        assert_eq!(recv_strs(&mut server), ["R", "", "ping"], "{t:?}");
        send_strs(&mut server, &["R", "", "pong"]);
        assert_eq!(recv_strs(&mut req), ["pong"], "{t:?}");
    }
    let ctx = Context::new();
    let mut push = socket(&ctx, SocketType::Push);
    assert_eq!(
        push.set_probe_router(true).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}
