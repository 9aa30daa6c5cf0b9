//! REQ / REP (RFC 28) end to end on every transport, after libzmq's
//! `test_spec_req`, `test_spec_rep` and `test_reqrep_*`.

mod common;

use common::sock::*;
use zlink_mq::{Context, ErrorKind, Flags, SocketType};

#[test]
fn request_reply_both_ways_of_binding() {
    for t in ALL {
        let ctx = Context::new();
        // REP binds.
        let (mut rep, mut reqs, _) =
            bound_and_connected(&ctx, t, SocketType::Rep, SocketType::Req, 1);
        let req = &mut reqs[0];
        for i in 0..3 {
            send_strs(req, &["ping", &i.to_string()]);
            assert_eq!(recv_strs(&mut rep), ["ping", &i.to_string()]);
            send_strs(&mut rep, &["pong", &i.to_string()]);
            assert_eq!(recv_strs(req), ["pong", &i.to_string()], "{t:?}");
        }
        // REQ binds.
        let (mut req, mut reps, _) =
            bound_and_connected(&ctx, t, SocketType::Req, SocketType::Rep, 1);
        send_strs(&mut req, &["hello"]);
        assert_eq!(recv_strs(&mut reps[0]), ["hello"]);
        send_strs(&mut reps[0], &["world"]);
        assert_eq!(recv_strs(&mut req), ["world"], "{t:?}");
    }
}

#[test]
fn req_round_robins_requests() {
    for t in ALL {
        let ctx = Context::new();
        let (mut req, mut reps, _) =
            bound_and_connected(&ctx, t, SocketType::Req, SocketType::Rep, 3);
        let mut served = [0; 3];
        for _ in 0..6 {
            req.send("q", Flags::NONE).unwrap();
            // Exactly one REP has the request: find it, answer it.
            let mut answered = false;
            wait_until("a REP to get the request", || {
                for (i, rep) in reps.iter_mut().enumerate() {
                    if rep.recv(Flags::DONTWAIT).is_ok() {
                        served[i] += 1;
                        rep.send("a", Flags::NONE).unwrap();
                        answered = true;
                    }
                }
                answered
            });
            assert_eq!(recv_str(&mut req), "a");
        }
        assert_eq!(served, [2, 2, 2], "{t:?}: round robin");
    }
}

#[test]
fn req_accepts_the_reply_only_from_the_peer_it_asked() {
    // libzmq's test_req_only_listens_to_current_peer: two ROUTERs stand in
    // for REPs; the one not asked replies too, and must be ignored.
    for t in ALL {
        let ctx = Context::new();
        let mut req = socket(&ctx, SocketType::Req);
        req.set_routing_id(b"A").unwrap();
        let ep = bind(&mut req, t);
        let mut routers: Vec<_> = (0..2)
            .map(|_| {
                let mut r = socket(&ctx, SocketType::Router);
                r.connect(&ep).unwrap();
                r
            })
            .collect();
        wait_peers(&mut req, 2);
        for round in 0..2 {
            req.send("ABC", Flags::NONE).unwrap();
            let mut asked = None;
            wait_until("a ROUTER to get the request", || {
                for (i, r) in routers.iter_mut().enumerate() {
                    if let Ok(first) = r.recv(Flags::DONTWAIT) {
                        assert_eq!(&first[..], b"A", "the REQ's routing id");
                        let rest = r.recv_multipart(Flags::NONE).unwrap();
                        assert_eq!(rest.len(), 2);
                        assert!(rest[0].is_empty(), "the empty delimiter");
                        assert_eq!(&rest[1][..], b"ABC");
                        asked = Some(i);
                    }
                }
                asked.is_some()
            });
            let asked = asked.unwrap();
            // The other ROUTER answers first; its reply must be dropped.
            send_strs(&mut routers[1 - asked], &["A", "", "WRONG"]);
            send_strs(&mut routers[asked], &["A", "", "GOOD"]);
            assert_eq!(recv_strs(&mut req), ["GOOD"], "{t:?} round {round}");
        }
    }
}

#[test]
fn req_wire_format_has_an_empty_delimiter() {
    for t in ALL {
        let ctx = Context::new();
        let (mut router, mut reqs, _) =
            bound_and_connected(&ctx, t, SocketType::Router, SocketType::Req, 1);
        let req = &mut reqs[0];
        send_strs(req, &["x", "y"]);
        let parts = router.recv_multipart(Flags::NONE).unwrap();
        assert_eq!(parts.len(), 4, "{t:?}: id, delimiter, x, y");
        assert!(parts[1].is_empty());
        assert_eq!((&parts[2][..], &parts[3][..]), (&b"x"[..], &b"y"[..]));
        router
            .send_multipart([&parts[0][..], b"", b"reply"], Flags::NONE)
            .unwrap();
        assert_eq!(recv_strs(req), ["reply"]);
    }
}

#[test]
fn rep_keeps_the_envelope_of_each_request() {
    // A DEALER speaks to REP with its own envelope: address frames, the
    // delimiter, then the body; the reply comes back with the same envelope.
    for t in ALL {
        let ctx = Context::new();
        let (mut rep, mut dealers, _) =
            bound_and_connected(&ctx, t, SocketType::Rep, SocketType::Dealer, 1);
        let dealer = &mut dealers[0];
        send_strs(dealer, &["A", "B", "", "body"]);
        assert_eq!(recv_strs(&mut rep), ["body"]);
        send_strs(&mut rep, &["answer"]);
        assert_eq!(recv_strs(dealer), ["A", "B", "", "answer"], "{t:?}");
        // A request without a delimiter is malformed: REP drops it.
        send_strs(dealer, &["no-delimiter"]);
        send_strs(dealer, &["", "ok"]);
        assert_eq!(recv_strs(&mut rep), ["ok"], "{t:?}");
    }
}

#[test]
fn rep_fair_queues_requests() {
    for t in ALL {
        let ctx = Context::new();
        let (mut rep, mut reqs, _) =
            bound_and_connected(&ctx, t, SocketType::Rep, SocketType::Req, 3);
        for (i, r) in reqs.iter_mut().enumerate() {
            r.send(i.to_string().as_str(), Flags::NONE).unwrap();
        }
        let mut seen = Vec::new();
        for _ in 0..3 {
            let m = recv_str(&mut rep);
            rep.send(format!("re {m}").as_str(), Flags::NONE).unwrap();
            seen.push(m);
        }
        seen.sort();
        assert_eq!(seen, ["0", "1", "2"], "{t:?}");
        for (i, r) in reqs.iter_mut().enumerate() {
            assert_eq!(recv_str(r), format!("re {i}"), "{t:?}: reply to its sender");
        }
    }
}

#[test]
fn strict_alternation_is_enforced() {
    let ctx = Context::new();
    let (mut rep, mut reqs, _) =
        bound_and_connected(&ctx, Transport::Inproc, SocketType::Rep, SocketType::Req, 1);
    let req = &mut reqs[0];
    assert_eq!(
        req.recv(Flags::DONTWAIT).unwrap_err().kind(),
        ErrorKind::InvalidState,
        "REQ receives before sending"
    );
    assert_eq!(
        rep.send("x", Flags::DONTWAIT).unwrap_err().kind(),
        ErrorKind::InvalidState,
        "REP sends before receiving"
    );
    req.send("1", Flags::NONE).unwrap();
    assert_eq!(
        req.send("2", Flags::NONE).unwrap_err().kind(),
        ErrorKind::InvalidState,
        "REQ sends twice"
    );
    assert_eq!(recv_str(&mut rep), "1");
    assert_eq!(
        rep.recv(Flags::DONTWAIT).unwrap_err().kind(),
        ErrorKind::InvalidState,
        "REP receives twice"
    );
    rep.send("r1", Flags::NONE).unwrap();
    assert_eq!(recv_str(req), "r1");
    // The socket is still usable after every refusal.
    req.send("3", Flags::NONE).unwrap();
    assert_eq!(recv_str(&mut rep), "3");
}

#[test]
fn req_without_peers_blocks() {
    for t in ALL {
        let ctx = Context::new();
        let mut req = socket(&ctx, SocketType::Req);
        bind(&mut req, t);
        assert_eq!(
            req.send("x", Flags::DONTWAIT).unwrap_err().kind(),
            ErrorKind::WouldBlock,
            "{t:?}"
        );
    }
}

#[test]
fn relaxed_and_correlated_req_drops_stale_replies() {
    for t in ALL {
        let ctx = Context::new();
        let (mut router, mut reqs, _) =
            bound_and_connected(&ctx, t, SocketType::Router, SocketType::Req, 1);
        let req = &mut reqs[0];
        req.set_req_relaxed(true);
        req.set_req_correlate(true);
        req.send("first", Flags::NONE).unwrap();
        let first = router.recv_multipart(Flags::NONE).unwrap();
        // Sending again without waiting for the reply is allowed...
        req.send("second", Flags::NONE).unwrap();
        let second = router.recv_multipart(Flags::NONE).unwrap();
        // id, request id, delimiter, body
        assert_eq!(first.len(), 4, "{t:?}: the request id travels");
        assert_ne!(first[1], second[1]);
        // ...and the late reply to the first request is dropped.
        router
            .send_multipart([&first[0][..], &first[1], b"", b"stale"], Flags::NONE)
            .unwrap();
        router
            .send_multipart([&second[0][..], &second[1], b"", b"fresh"], Flags::NONE)
            .unwrap();
        assert_eq!(recv_strs(req), ["fresh"], "{t:?}");
    }
}

#[test]
fn rep_survives_a_requester_that_goes_away() {
    for t in ALL {
        let ctx = Context::new();
        let (mut rep, mut reqs, _) =
            bound_and_connected(&ctx, t, SocketType::Rep, SocketType::Req, 2);
        reqs[0].send("gone", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut rep), "gone");
        drop(reqs.remove(0));
        // The reply to a peer that left is dropped; the REP goes on.
        rep.send("nobody", Flags::NONE).unwrap();
        reqs[0].send("still here", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut rep), "still here");
        rep.send("yes", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut reqs[0]), "yes", "{t:?}");
    }
}
