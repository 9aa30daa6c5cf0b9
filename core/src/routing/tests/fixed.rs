//! Core's fixed-capacity storage and a fixed-size frame type: running out
//! of room is reported, never a panic.

use super::*;
use crate::msg::Frame;
use crate::routing::{AttachError, Push, Req, Router, Sub, SubscribeError, XPub, XSub};
use crate::storage::Fixed;

/// Two peers, two topics, keys of at most 8 bytes.
type Small = Fixed<2, 2, 8>;
type F16 = Frame<16>;

#[test]
fn fixed_storage_refuses_peers_beyond_its_capacity() {
    let mut pipes = TestPipes::<F16>::new();
    let mut push = Push::<Small, u32>::new();
    attach_all(&mut push, &mut pipes, &[0, 1], 0);
    pipes.add(2, 0);
    assert_eq!(
        push.attach(&mut pipes, 2, PeerIdentity::Anonymous),
        Err(AttachError::CapacityExceeded)
    );
    push.detach(&mut pipes, 1);
    // Index 2 is beyond the per-peer tables even with a free slot.
    assert_eq!(
        push.attach(&mut pipes, 2, PeerIdentity::Anonymous),
        Err(AttachError::CapacityExceeded)
    );
    assert!(push.attach(&mut pipes, 1, PeerIdentity::Anonymous).is_ok());
    send_msg(&mut push, &mut pipes, &[b"a"]).unwrap();
    send_msg(&mut push, &mut pipes, &[b"b"]).unwrap();
    assert_eq!(pipes.take_all(0).len() + pipes.take_all(1).len(), 2);
}

#[test]
fn sub_reports_a_full_subscription_store() {
    let mut pipes = TestPipes::<F16>::new();
    let mut sub = Sub::<Small, u32, F16>::new();
    attach_all(&mut sub, &mut pipes, &[0], 0);
    sub.subscribe(&mut pipes, b"A").unwrap();
    sub.subscribe(&mut pipes, b"B").unwrap();
    sub.subscribe(&mut pipes, b"A").unwrap();
    assert_eq!(
        sub.subscribe(&mut pipes, b"C"),
        Err(SubscribeError::SubscriptionsFull)
    );
    assert_eq!(pipes.take_all(0).len(), 3, "the refused one was not sent");
    sub.unsubscribe(&mut pipes, b"B").unwrap();
    sub.subscribe(&mut pipes, b"C").unwrap();
    assert_eq!(sub.topic_count(), 2);
}

#[test]
fn sub_reports_a_topic_too_long_for_the_frame_type() {
    let mut pipes = TestPipes::<Frame<4>>::new();
    let mut sub = Sub::<Small, u32, Frame<4>>::new();
    attach_all(&mut sub, &mut pipes, &[0], 0);
    assert_eq!(
        sub.subscribe(&mut pipes, b"four"),
        Err(SubscribeError::FrameTooLarge)
    );
    assert_eq!(sub.topic_count(), 0);
    // The store's key limit (8 bytes) is reported as full.
    let mut pipes = TestPipes::<F16>::new();
    let mut sub = Sub::<Small, u32, F16>::new();
    assert_eq!(
        sub.subscribe(&mut pipes, b"ninebytes"),
        Err(SubscribeError::SubscriptionsFull)
    );
}

#[test]
fn xsub_hands_back_a_subscription_it_cannot_store() {
    let mut pipes = TestPipes::<F16>::new();
    let mut xsub = XSub::<Small, u32>::new();
    attach_all(&mut xsub, &mut pipes, &[0], 0);
    send_msg(&mut xsub, &mut pipes, &[b"\x01A"]).unwrap();
    send_msg(&mut xsub, &mut pipes, &[b"\x01B"]).unwrap();
    let refused = xsub.send(&mut pipes, frame(b"\x01C", false)).unwrap_err();
    assert_eq!(
        refused,
        SendError::SubscriptionsFull(frame(b"\x01C", false))
    );
    assert_eq!(pipes.take_all(0).len(), 2);
}

#[test]
fn xpub_counts_subscriptions_it_cannot_store() {
    let mut pipes = TestPipes::<F16>::new();
    let mut xpub = XPub::<Small, u32, F16>::new();
    attach_all(&mut xpub, &mut pipes, &[0], 0);
    for topic in [&b"\x01A"[..], b"\x01B", b"\x01C"] {
        pipes.deliver(0, &[topic]);
        xpub.read_activated(&mut pipes, 0);
        // Receive as we go so the two-slot notification queue has room.
        if let Ok(n) = xpub.recv(&mut pipes) {
            assert_ne!(n.bytes(), b"\x01C");
        }
    }
    assert_eq!(xpub.rejected_subscriptions(), 1);
    assert_eq!(xpub.topic_count(), 2);
    send_msg(&mut xpub, &mut pipes, &[b"C"]).unwrap();
    send_msg(&mut xpub, &mut pipes, &[b"B"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"B"])]);
}

#[test]
fn xpub_leaves_input_in_the_pipe_while_its_queue_is_full() {
    let mut pipes = TestPipes::<F16>::new();
    let mut xpub = XPub::<Fixed<2, 4, 8>, u32, F16>::new();
    attach_all(&mut xpub, &mut pipes, &[0], 0);
    // A four-topic store but... a four-slot queue: fill it with upstream
    // messages first.
    for m in [&b"m1"[..], b"m2", b"m3", b"m4", b"\x01T"] {
        pipes.deliver(0, &[m]);
    }
    xpub.read_activated(&mut pipes, 0);
    assert_eq!(pipes.unread(0), 1, "the subscription waits in the pipe");
    assert_eq!(xpub.topic_count(), 0);
    assert_eq!(recv_msg(&mut xpub, &mut pipes).unwrap(), frames(&[b"m1"]));
    assert_eq!(xpub.topic_count(), 1, "read once the queue had room");
    for expected in [&b"m2"[..], b"m3", b"m4", b"\x01T"] {
        assert_eq!(
            recv_msg(&mut xpub, &mut pipes).unwrap(),
            frames(&[expected])
        );
    }
}

#[test]
fn router_refuses_an_id_longer_than_its_storage() {
    let mut pipes = TestPipes::<F16>::new();
    let mut router = Router::<Small, u32, F16>::new(1);
    pipes.add(0, 0);
    assert_eq!(
        router.attach(&mut pipes, 0, PeerIdentity::Announced(b"ninebytes")),
        Err(AttachError::CapacityExceeded)
    );
    assert_eq!(router.peer_count(), 0);
    assert!(
        router
            .attach(&mut pipes, 0, PeerIdentity::Announced(b"eightbyt"))
            .is_ok()
    );
}

#[test]
fn router_drops_a_message_whose_id_frame_does_not_fit() {
    let mut pipes = TestPipes::<Frame<4>>::new();
    let mut router = Router::<Small, u32, Frame<4>>::new(1);
    // Generated ids take five bytes: more than the frame type holds.
    attach_all(&mut router, &mut pipes, &[0], 0);
    pipes.add(1, 0);
    router
        .attach(&mut pipes, 1, PeerIdentity::Announced(b"B"))
        .unwrap();
    pipes.deliver(0, &[b"a1", b"a2"]);
    pipes.deliver(1, &[b"b"]);
    assert_eq!(router.recv(&mut pipes), Err(RecvError::FrameTooLarge));
    assert_eq!(pipes.unread(0), 0, "the whole message was dropped");
    assert_eq!(
        recv_msg(&mut router, &mut pipes).unwrap(),
        frames(&[b"B", b"b"])
    );
}

#[test]
fn req_reports_a_request_id_that_does_not_fit() {
    let mut pipes = TestPipes::<Frame<2>>::new();
    let mut req = Req::<Small, u32>::new(0);
    req.set_correlate(true);
    attach_all(&mut req, &mut pipes, &[0], 0);
    let refused = req.send(&mut pipes, frame(b"x", false)).unwrap_err();
    assert_eq!(refused, SendError::FrameTooLarge(frame(b"x", false)));
    assert_eq!(pipes.unflushed(0), 0);
    req.set_correlate(false);
    send_msg(&mut req, &mut pipes, &[b"x"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"", b"x"])]);
}
