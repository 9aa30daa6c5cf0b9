//! CONFLATE, after libzmq's `test_conflate`: a conflating queue keeps only
//! the latest message (whole, here, even when multipart), never blocks the
//! sender, and applies to DEALER, PULL, PUSH, PUB and SUB only.

mod common;

use common::sock::*;
use zlink_mq::{Context, Flags, SocketType};

fn num(m: &[u8]) -> u32 {
    u32::from_le_bytes(m.try_into().unwrap())
}

#[test]
fn a_conflating_pull_keeps_the_latest_message() {
    for t in ALL {
        let ctx = Context::new();
        let mut pull = socket(&ctx, SocketType::Pull);
        pull.set_conflate(true);
        let ep = bind(&mut pull, t);
        let mut push = socket(&ctx, SocketType::Push);
        push.connect(&ep).unwrap();
        wait_peers(&mut pull, 1);
        for i in 1..=100u32 {
            push.send(&i.to_le_bytes()[..], Flags::NONE).unwrap();
        }
        // Messages may be read while others are still arriving (TCP, IPC),
        // but what is read only ever moves forward, and the last one is
        // never lost.
        let mut got = vec![num(&pull.recv(Flags::NONE).unwrap())];
        while *got.last().unwrap() != 100 {
            got.push(num(&pull.recv(Flags::NONE).unwrap()));
        }
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{t:?}: {got:?}");
        if t == Transport::Inproc {
            assert_eq!(got, [100], "everything was queued before the read");
        }
        assert_nothing(&mut pull);
    }
}

#[test]
fn a_conflating_sender_never_blocks_and_replaces_whole_messages() {
    let ctx = Context::new();
    let mut pull = socket(&ctx, SocketType::Pull);
    let ep = bind(&mut pull, Transport::Inproc);
    let mut push = socket(&ctx, SocketType::Push);
    push.set_conflate(true);
    push.set_sndhwm(1);
    push.connect(&ep).unwrap();
    for i in 0..1000u32 {
        push.send_multipart([&b"head"[..], &i.to_le_bytes()], Flags::DONTWAIT)
            .unwrap();
    }
    let parts = pull.recv_multipart(Flags::NONE).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(&parts[0][..], b"head");
    assert_eq!(num(&parts[1]), 999);
    assert_nothing(&mut pull);
}

#[test]
fn a_conflating_dealer_conflates_both_ways() {
    let ctx = Context::new();
    let mut router = socket(&ctx, SocketType::Router);
    let ep = bind(&mut router, Transport::Inproc);
    let mut dealer = socket(&ctx, SocketType::Dealer);
    dealer.set_conflate(true);
    dealer.set_routing_id(b"D").unwrap();
    dealer.connect(&ep).unwrap();
    for i in 0..5u32 {
        dealer.send(&i.to_le_bytes()[..], Flags::NONE).unwrap();
    }
    let parts = router.recv_multipart(Flags::NONE).unwrap();
    assert_eq!((&parts[0][..], num(&parts[1])), (&b"D"[..], 4));
    assert_nothing(&mut router);
    for i in 10..15u32 {
        router
            .send_multipart([&b"D"[..], &i.to_le_bytes()], Flags::NONE)
            .unwrap();
    }
    assert_eq!(num(&dealer.recv(Flags::NONE).unwrap()), 14);
    assert_nothing(&mut dealer);
}

#[test]
fn a_conflating_sub_keeps_every_subscription() {
    for t in ALL {
        let ctx = Context::new();
        let mut publisher = socket(&ctx, SocketType::Pub);
        let ep = bind(&mut publisher, t);
        let mut sub = socket(&ctx, SocketType::Sub);
        sub.set_conflate(true);
        sub.connect(&ep).unwrap();
        // Two subscriptions in a row: both must reach the publisher.
        sub.subscribe(b"a").unwrap();
        sub.subscribe(b"b").unwrap();
        sync_subscriptions(&mut publisher, &mut sub);
        publisher.send("a1", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut sub), "a1", "{t:?}");
        publisher.send("b1", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut sub), "b1", "{t:?}");
    }
}

#[test]
fn other_types_ignore_conflate() {
    // CONFLATE applies to PUSH, PULL, PUB, SUB and DEALER only (libzmq);
    // on other types every message is kept. One peer per socket, so that
    // a conflating pipe would have to drop.
    for (a, b) in [
        (SocketType::Pair, SocketType::Pair),
        (SocketType::Router, SocketType::Dealer),
    ] {
        let ctx = Context::new();
        let mut receiver = socket(&ctx, a);
        receiver.set_conflate(true);
        assert!(receiver.conflate());
        let ep = bind(&mut receiver, Transport::Inproc);
        let mut sender = socket(&ctx, b);
        // A DEALER honours CONFLATE itself: only the receiver's is ignored.
        sender.set_conflate(b != SocketType::Dealer);
        sender.connect(&ep).unwrap();
        for i in 0..5 {
            sender.send(i.to_string().as_str(), Flags::NONE).unwrap();
        }
        for i in 0..5 {
            let frames = receiver.recv_multipart(Flags::NONE).unwrap();
            assert_eq!(
                &frames.last().unwrap()[..],
                i.to_string().as_bytes(),
                "{a:?}"
            );
        }
        assert_nothing(&mut receiver);
    }
    // REP: three requests queued on one REQ-facing socket all answered.
    let ctx = Context::new();
    let mut rep = socket(&ctx, SocketType::Rep);
    rep.set_conflate(true);
    let ep = bind(&mut rep, Transport::Inproc);
    let mut reqs: Vec<_> = (0..3)
        .map(|_| {
            let mut r = socket(&ctx, SocketType::Req);
            r.connect(&ep).unwrap();
            r
        })
        .collect();
    for (i, r) in reqs.iter_mut().enumerate() {
        r.send(i.to_string().as_str(), Flags::NONE).unwrap();
    }
    let mut got: Vec<String> = (0..3)
        .map(|_| {
            let m = recv_str(&mut rep);
            rep.send(format!("re {m}").as_str(), Flags::NONE).unwrap();
            m
        })
        .collect();
    got.sort();
    assert_eq!(got, ["0", "1", "2"]);
    for (i, r) in reqs.iter_mut().enumerate() {
        assert_eq!(recv_str(r), format!("re {i}"));
    }
}
