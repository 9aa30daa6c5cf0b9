//! XPUB and XSUB, after libzmq's `test_xpub_verbose`, `test_xpub_nodrop`,
//! `test_xsub_verbose` and `test_pubsub`'s XPUB/XSUB cases.

use super::*;
use crate::routing::{XPub, XSub};

type TXPub = XPub<Heap, u32, Msg>;
type TXSub = XSub<Heap, u32>;

fn deliver_sub(xpub: &mut TXPub, pipes: &mut TestPipes<Msg>, peer: u32, bytes: &[u8]) {
    pipes.deliver(peer, &[bytes]);
    xpub.read_activated(pipes, peer);
}

#[test]
fn xpub_shows_first_subscriptions_only() {
    // test_xpub_verbose_one_sub / two_subs, without VERBOSE.
    let mut pipes = TestPipes::<Msg>::new();
    let mut xpub = TXPub::new();
    attach_all(&mut xpub, &mut pipes, &[0, 1], 0);
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x01A");
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"\x01A"])
    );
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x01B");
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"\x01B"])
    );
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x01A");
    deliver_sub(&mut xpub, &mut pipes, 1, b"\x01A");
    assert_eq!(
        xpub.recv(&mut pipes),
        Err(RecvError::WouldBlock),
        "duplicates filtered"
    );
    // Both subscribers get A; only 0 gets B.
    send_msg(&mut xpub, &mut pipes, &[b"A"]).unwrap();
    send_msg(&mut xpub, &mut pipes, &[b"B"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"A"]), frames(&[b"B"])]);
    assert_eq!(pipes.take_all(1), [frames(&[b"A"])]);
}

#[test]
fn xpub_verbose_shows_every_subscription() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut xpub = TXPub::new();
    attach_all(&mut xpub, &mut pipes, &[0, 1], 0);
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x01A");
    xpub.set_verbose(true);
    deliver_sub(&mut xpub, &mut pipes, 1, b"\x01A");
    deliver_sub(&mut xpub, &mut pipes, 1, b"\x01A");
    for _ in 0..3 {
        assert_eq!(
            recv_msg(&mut xpub, &mut pipes).unwrap(),
            frames(&[b"\x01A"])
        );
    }
    // VERBOSE does not show cancellations while others remain.
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x00A");
    assert_eq!(xpub.recv(&mut pipes), Err(RecvError::WouldBlock));
    deliver_sub(&mut xpub, &mut pipes, 1, b"\x00A");
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"\x00A"])
    );
}

#[test]
fn xpub_verboser_shows_every_cancellation() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut xpub = TXPub::new();
    xpub.set_verboser(true);
    attach_all(&mut xpub, &mut pipes, &[0, 1], 0);
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x01A");
    deliver_sub(&mut xpub, &mut pipes, 1, b"\x01A");
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x00A");
    deliver_sub(&mut xpub, &mut pipes, 1, b"\x00A");
    let got: Vec<_> = (0..4)
        .map(|_| recv_msg(&mut xpub, &mut pipes).unwrap())
        .collect();
    assert_eq!(
        got,
        [
            frames(&[b"\x01A"]),
            frames(&[b"\x01A"]),
            frames(&[b"\x00A"]),
            frames(&[b"\x00A"])
        ]
    );
}

#[test]
fn xpub_cancels_the_topics_of_a_departed_peer() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut xpub = TXPub::new();
    attach_all(&mut xpub, &mut pipes, &[0, 1], 0);
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x01A");
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x01B");
    deliver_sub(&mut xpub, &mut pipes, 1, b"\x01B");
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"\x01A"])
    );
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"\x01B"])
    );
    xpub.detach(&mut pipes, 0);
    pipes.remove(0);
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"\x00A"])
    );
    assert_eq!(xpub.recv(&mut pipes), Err(RecvError::WouldBlock));
    assert_eq!(xpub.topic_count(), 1);
}

#[test]
fn xpub_takes_subscriptions_into_account_without_recv() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut xpub = TXPub::new();
    attach_all(&mut xpub, &mut pipes, &[0], 0);
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x01A");
    send_msg(&mut xpub, &mut pipes, &[b"A"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"A"])]);
}

#[test]
fn xpub_nodrop_would_block_on_a_full_recipient() {
    // test_xpub_nodrop: with XPUB_NODROP the publisher sees EAGAIN at the
    // HWM instead of silently dropping.
    let mut pipes = TestPipes::<Msg>::new();
    let mut xpub = TXPub::new();
    xpub.set_nodrop(true);
    attach_all(&mut xpub, &mut pipes, &[0, 1], 0);
    pipes.peer(0).hwm = 3;
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x01data");
    deliver_sub(&mut xpub, &mut pipes, 1, b"\x01other");
    let mut sent = 0;
    while xpub.send(&mut pipes, frame(b"data", false)).is_ok() {
        sent += 1;
    }
    assert_eq!(sent, 3);
    // A message nobody full wants still goes out.
    send_msg(&mut xpub, &mut pipes, &[b"other"]).unwrap();
    assert_eq!(pipes.take_all(1), [frames(&[b"other"])]);
}

#[test]
fn xpub_receives_what_xsub_sends_upstream() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut xpub = TXPub::new();
    attach_all(&mut xpub, &mut pipes, &[0], 0);
    pipes.deliver(0, &[b"hello", b"world"]);
    pipes.deliver(0, &[b"\x01T"]);
    xpub.read_activated(&mut pipes, 0);
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"hello", b"world"])
    );
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"\x01T"])
    );
}

#[test]
fn xpub_only_first_subscribe_leaves_later_frames_alone() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut xpub = TXPub::new();
    xpub.set_only_first_subscribe(true);
    attach_all(&mut xpub, &mut pipes, &[0], 0);
    pipes.deliver(0, &[b"data", b"\x01notasub"]);
    xpub.read_activated(&mut pipes, 0);
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"data", b"\x01notasub"])
    );
    assert_eq!(xpub.topic_count(), 0);
}

#[test]
fn xpub_without_only_first_subscribe_parses_every_frame() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut xpub = TXPub::new();
    attach_all(&mut xpub, &mut pipes, &[0], 0);
    pipes.deliver(0, &[b"\x01A", b"\x01B"]);
    xpub.read_activated(&mut pipes, 0);
    assert_eq!(xpub.topic_count(), 2);
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"\x01A"])
    );
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"\x01B"])
    );
}

#[test]
fn xsub_forwards_subscriptions_and_counts_cancellations() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut xsub = TXSub::new();
    attach_all(&mut xsub, &mut pipes, &[0, 1], 0);
    send_msg(&mut xsub, &mut pipes, &[b"\x01A"]).unwrap();
    send_msg(&mut xsub, &mut pipes, &[b"\x01A"]).unwrap();
    for p in [0, 1] {
        assert_eq!(pipes.take_all(p).len(), 2, "duplicates forwarded");
    }
    send_msg(&mut xsub, &mut pipes, &[b"\x00A"]).unwrap();
    assert!(pipes.take_all(0).is_empty(), "one reference remains");
    send_msg(&mut xsub, &mut pipes, &[b"\x00A"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"\x00A"])]);
    send_msg(&mut xsub, &mut pipes, &[b"\x00A"]).unwrap();
    assert!(pipes.take_all(0).is_empty(), "nothing left to cancel");
}

#[test]
fn xsub_sends_its_subscriptions_to_a_new_publisher() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut xsub = TXSub::new();
    send_msg(&mut xsub, &mut pipes, &[b"\x01A"]).unwrap();
    attach_all(&mut xsub, &mut pipes, &[0], 0);
    assert_eq!(pipes.take_all(0), [frames(&[b"\x01A"])]);
    assert_eq!(xsub.topic_count(), 1);
}

#[test]
fn xsub_receives_everything_unfiltered() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut xsub = TXSub::new();
    attach_all(&mut xsub, &mut pipes, &[0], 0);
    pipes.deliver(0, &[b"anything", b"at all"]);
    assert_eq!(
        recv_msg(&mut xsub, &mut pipes).unwrap(),
        frames(&[b"anything", b"at all"])
    );
}

#[test]
fn xsub_sends_other_messages_upstream_to_every_publisher() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut xsub = TXSub::new();
    attach_all(&mut xsub, &mut pipes, &[0, 1], 0);
    send_msg(
        &mut xsub,
        &mut pipes,
        &[b"up", b"\x01not-a-sub-when-only-first"],
    )
    .unwrap();
    for p in [0, 1] {
        assert_eq!(
            pipes.take_all(p),
            [frames(&[b"up", b"\x01not-a-sub-when-only-first"])]
        );
    }
    // Without ONLY_FIRST_SUBSCRIBE the second frame counted as a
    // subscription (libzmq's default).
    assert_eq!(xsub.topic_count(), 1);
}

#[test]
fn xpub_and_xsub_talk_through_the_pipes() {
    // A proxy's two halves: subscriptions flow up, data flows down.
    let mut up = TestPipes::<Msg>::new();
    let mut down = TestPipes::<Msg>::new();
    let mut xsub = TXSub::new();
    let mut xpub = TXPub::new();
    attach_all(&mut xsub, &mut up, &[0], 0);
    attach_all(&mut xpub, &mut down, &[0], 0);
    deliver_sub(&mut xpub, &mut down, 0, b"\x01T");
    let sub = recv_msg(&mut xpub, &mut down).unwrap();
    send_msg(&mut xsub, &mut up, &[&sub[0]]).unwrap();
    assert_eq!(up.take_all(0), [frames(&[b"\x01T"])]);
    up.deliver(0, &[b"T1"]);
    let data = recv_msg(&mut xsub, &mut up).unwrap();
    send_msg(&mut xpub, &mut down, &[&data[0]]).unwrap();
    assert_eq!(down.take_all(0), [frames(&[b"T1"])]);
}

#[test]
fn xpub_manual_shows_every_subscription_and_applies_only_the_applications() {
    // test_xpub_manual's test_basic and test_unsubscribe_manual.
    let mut pipes = TestPipes::<Msg>::new();
    let mut xpub = TXPub::new();
    xpub.set_manual(true);
    attach_all(&mut xpub, &mut pipes, &[0, 1], 0);
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x01A");
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x01A");
    deliver_sub(&mut xpub, &mut pipes, 1, b"\x01B");
    // Nothing applied, nobody subscribed yet.
    xpub.subscribe(b"none").unwrap();
    send_msg(&mut xpub, &mut pipes, &[b"A"]).unwrap();
    assert!(pipes.take_all(0).is_empty());
    // Every notification, duplicates included; each SUBSCRIBE is for the
    // peer of the notification received last.
    for _ in 0..2 {
        assert_eq!(
            recv_msg(&mut xpub, &mut pipes).unwrap(),
            frames(&[b"\x01A"])
        );
    }
    xpub.subscribe(b"XA").unwrap();
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"\x01B"])
    );
    xpub.subscribe(b"XB").unwrap();
    for topic in [&b"A"[..], b"B", b"XA", b"XB"] {
        send_msg(&mut xpub, &mut pipes, &[topic]).unwrap();
    }
    assert_eq!(pipes.take_all(0), [frames(&[b"XA"])]);
    assert_eq!(pipes.take_all(1), [frames(&[b"XB"])]);
    assert_eq!(xpub.topic_count(), 2);
    // A cancellation is shown and not applied either; UNSUBSCRIBE is.
    deliver_sub(&mut xpub, &mut pipes, 0, b"\x00A");
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"\x00A"])
    );
    send_msg(&mut xpub, &mut pipes, &[b"XA"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"XA"])]);
    xpub.unsubscribe(b"XA");
    send_msg(&mut xpub, &mut pipes, &[b"XA"]).unwrap();
    assert!(pipes.take_all(0).is_empty());
}

#[test]
fn a_departing_peer_cancels_what_it_asked_for_under_xpub_manual() {
    // test_xpub_manual's test_xpub_proxy_unsubscribe_on_disconnect: two
    // peers with the same topic each cancel it.
    let mut pipes = TestPipes::<Msg>::new();
    let mut xpub = TXPub::new();
    xpub.set_manual(true);
    attach_all(&mut xpub, &mut pipes, &[0, 1], 0);
    for peer in [0, 1] {
        deliver_sub(&mut xpub, &mut pipes, peer, b"\x011");
        assert_eq!(
            recv_msg(&mut xpub, &mut pipes).unwrap(),
            frames(&[b"\x011"])
        );
        xpub.subscribe(b"1").unwrap();
    }
    // A notification of peer 1 still queued when it leaves.
    deliver_sub(&mut xpub, &mut pipes, 1, b"\x012");
    xpub.detach(&mut pipes, 0);
    xpub.detach(&mut pipes, 1);
    assert_eq!(
        xpub.topic_count(),
        0,
        "the application's subscriptions go too"
    );
    assert_eq!(
        recv_msg(&mut xpub, &mut pipes).unwrap(),
        frames(&[b"\x012"])
    );
    let mut cancels: Vec<_> = (0..3)
        .map(|_| recv_msg(&mut xpub, &mut pipes).unwrap())
        .collect();
    cancels.sort();
    assert_eq!(
        cancels,
        [
            frames(&[b"\x001"]),
            frames(&[b"\x001"]),
            frames(&[b"\x002"])
        ]
    );
    // Peer 1's key comes back for another peer: the SUBSCRIBE after the
    // departed peer's notification reaches nobody.
    attach_all(&mut xpub, &mut pipes, &[1], 0);
    xpub.subscribe(b"1").unwrap();
    send_msg(&mut xpub, &mut pipes, &[b"1"]).unwrap();
    assert!(pipes.take_all(1).is_empty());
    assert_eq!(xpub.recv(&mut pipes), Err(RecvError::WouldBlock));
}
