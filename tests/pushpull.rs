//! PUSH / PULL (RFC 30) end to end on every transport, after libzmq's
//! `test_spec_pushpull`.

mod common;

use common::sock::*;
use zlink_mq::{Context, ErrorKind, Flags, SocketType};

#[test]
fn push_round_robins_to_connected_pulls() {
    for t in ALL {
        let ctx = Context::new();
        let (mut push, mut pulls, _) =
            bound_and_connected(&ctx, t, SocketType::Push, SocketType::Pull, 3);
        for i in 0..6 {
            push.send(format!("m{i}").as_str(), Flags::NONE).unwrap();
        }
        // Each PULL gets every third message, in order.
        let mut got: Vec<Vec<String>> = pulls
            .iter_mut()
            .map(|p| vec![recv_str(p), recv_str(p)])
            .collect();
        for p in &mut pulls {
            assert_nothing(p);
        }
        got.sort();
        assert_eq!(
            got,
            [["m0", "m3"], ["m1", "m4"], ["m2", "m5"]],
            "{t:?}: round robin"
        );
    }
}

#[test]
fn pull_fair_queues_from_connected_pushes() {
    for t in ALL {
        let ctx = Context::new();
        let (mut pull, mut pushes, _) =
            bound_and_connected(&ctx, t, SocketType::Pull, SocketType::Push, 2);
        // Two messages queued by each PUSH before PULL reads.
        for (i, p) in pushes.iter_mut().enumerate() {
            p.send(format!("{i}a").as_str(), Flags::NONE).unwrap();
            p.send(format!("{i}b").as_str(), Flags::NONE).unwrap();
        }
        // Wait until all four are in, then check fairness: the first two
        // come from different PUSHes.
        let mut got = Vec::new();
        for _ in 0..4 {
            got.push(recv_str(&mut pull));
        }
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(sorted, ["0a", "0b", "1a", "1b"], "{t:?}");
        // Per-sender order is kept.
        for i in 0..2 {
            let mine: Vec<_> = got
                .iter()
                .filter(|m| m.starts_with(&i.to_string()))
                .collect();
            assert_eq!(mine, [&format!("{i}a"), &format!("{i}b")], "{t:?}");
        }
        assert_nothing(&mut pull);
    }
}

#[test]
fn pull_alternates_between_pushes_with_queued_messages() {
    // Over inproc every message is queued before the first recv, so fair
    // queueing shows exactly: one from each peer in turn.
    let ctx = Context::new();
    let (mut pull, mut pushes, _) = bound_and_connected(
        &ctx,
        Transport::Inproc,
        SocketType::Pull,
        SocketType::Push,
        2,
    );
    for _ in 0..3 {
        pushes[0].send("A", Flags::NONE).unwrap();
        pushes[1].send("B", Flags::NONE).unwrap();
    }
    let got: Vec<String> = (0..6).map(|_| recv_str(&mut pull)).collect();
    for pair in got.chunks(2) {
        assert_ne!(pair[0], pair[1], "fair queueing: {got:?}");
    }
}

#[test]
fn push_without_peers_blocks() {
    for t in ALL {
        let ctx = Context::new();
        let mut push = socket(&ctx, SocketType::Push);
        bind(&mut push, t);
        let e = push.send("x", Flags::DONTWAIT).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock, "{t:?}");
        push.set_sndtimeo(Some(std::time::Duration::from_millis(20)));
        let e = push.send("x", Flags::NONE).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock, "{t:?}: SNDTIMEO expires");
    }
}

#[test]
fn messages_queued_for_a_disconnected_pull_are_dropped() {
    // libzmq's test_destroy_queue_on_disconnect: PUSH binds, PULL connects;
    // messages queued to the PULL die with its connection.
    for t in ALL {
        let ctx = Context::new();
        let (mut push, mut pulls, ep) =
            bound_and_connected(&ctx, t, SocketType::Push, SocketType::Pull, 1);
        let mut pull = pulls.pop().unwrap();
        // Fill the pipe so that messages sit in the PUSH's queue.
        push.send("one", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut pull), "one");
        pull.set_rcvhwm(1);
        pull.disconnect(&ep).unwrap();
        wait_until("the PUSH to see the PULL go", || {
            let _ = push.events();
            push.peer_count() == 0
        });
        assert_eq!(
            push.send("lost", Flags::DONTWAIT).unwrap_err().kind(),
            ErrorKind::WouldBlock,
            "{t:?}: no peer left"
        );
        pull.connect(&ep).unwrap();
        wait_peers(&mut push, 1);
        push.send("two", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut pull), "two", "{t:?}");
    }
}

#[test]
fn multipart_messages_arrive_whole() {
    for t in ALL {
        let ctx = Context::new();
        let (mut push, mut pulls, _) =
            bound_and_connected(&ctx, t, SocketType::Push, SocketType::Pull, 1);
        let big = vec![7u8; 100_000];
        push.send_multipart([&b"a"[..], b"", &big, b"z"], Flags::NONE)
            .unwrap();
        let parts = pulls[0].recv_multipart(Flags::NONE).unwrap();
        assert_eq!(parts.len(), 4, "{t:?}");
        assert_eq!(&parts[0][..], b"a");
        assert!(parts[1].is_empty());
        assert_eq!(&parts[2][..], &big[..]);
        assert_eq!(&parts[3][..], b"z");
        assert!(!pulls[0].rcvmore());
    }
}

#[test]
fn pull_cannot_send_and_push_cannot_receive() {
    let ctx = Context::new();
    let mut push = socket(&ctx, SocketType::Push);
    let mut pull = socket(&ctx, SocketType::Pull);
    assert_eq!(
        pull.send("x", Flags::DONTWAIT).unwrap_err().kind(),
        ErrorKind::NotSupported
    );
    assert_eq!(
        push.recv(Flags::DONTWAIT).unwrap_err().kind(),
        ErrorKind::NotSupported
    );
}

#[test]
fn connect_before_bind() {
    for t in ALL {
        let ctx = Context::new();
        let mut pull = socket(&ctx, SocketType::Pull);
        let ep = match t {
            Transport::Inproc => t.bind_endpoint(),
            // Reserve a concrete address, then free it for the real bind.
            _ => {
                let mut probe = socket(&ctx, SocketType::Pull);
                let ep = bind(&mut probe, t);
                probe.unbind(&ep).unwrap();
                ep
            }
        };
        let mut push = socket(&ctx, SocketType::Push);
        push.connect(&ep).unwrap();
        push.send("early", Flags::NONE).unwrap();
        pull.bind(&ep).unwrap();
        assert_eq!(recv_str(&mut pull), "early", "{t:?}");
    }
}
