//! PUB and SUB, after libzmq's `test_pubsub`, `test_hwm_pubsub`,
//! `test_pub_invert_matching` and RFC 29.

use super::*;
use crate::routing::{Pub, Sub};

type TPub = Pub<Heap, u32>;
type TSub = Sub<Heap, u32, Msg>;

/// The subscriber `peer` subscribes to `topic` upstream of `publisher`.
fn subscribe(publisher: &mut TPub, pipes: &mut TestPipes<Msg>, peer: u32, topic: &[u8]) {
    pipes.deliver(peer, &[&[&[1u8][..], topic].concat()]);
    publisher.read_activated(pipes, peer);
}

fn unsubscribe(publisher: &mut TPub, pipes: &mut TestPipes<Msg>, peer: u32, topic: &[u8]) {
    pipes.deliver(peer, &[&[&[0u8][..], topic].concat()]);
    publisher.read_activated(pipes, peer);
}

#[test]
fn pub_sends_each_message_to_the_matching_subscribers() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut publisher = TPub::new();
    attach_all(&mut publisher, &mut pipes, &[0, 1, 2], 0);
    subscribe(&mut publisher, &mut pipes, 0, b"A");
    subscribe(&mut publisher, &mut pipes, 1, b"AB");
    subscribe(&mut publisher, &mut pipes, 2, b"");
    for m in [&b"ABC"[..], b"AX", b"B"] {
        send_msg(&mut publisher, &mut pipes, &[m]).unwrap();
    }
    assert_eq!(pipes.take_all(0), [frames(&[b"ABC"]), frames(&[b"AX"])]);
    assert_eq!(pipes.take_all(1), [frames(&[b"ABC"])]);
    assert_eq!(pipes.take_all(2).len(), 3, "the empty prefix matches all");
}

#[test]
fn pub_matches_on_the_first_frame_and_sends_the_whole_message() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut publisher = TPub::new();
    attach_all(&mut publisher, &mut pipes, &[0], 0);
    subscribe(&mut publisher, &mut pipes, 0, b"topic");
    send_msg(&mut publisher, &mut pipes, &[b"topic", b"other", b"body"]).unwrap();
    send_msg(&mut publisher, &mut pipes, &[b"nope", b"topic"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"topic", b"other", b"body"])]);
}

#[test]
fn pub_without_subscribers_drops_silently() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut publisher = TPub::new();
    send_msg(&mut publisher, &mut pipes, &[b"x"]).unwrap();
    attach_all(&mut publisher, &mut pipes, &[0], 0);
    send_msg(&mut publisher, &mut pipes, &[b"x"]).unwrap();
    assert!(pipes.take_all(0).is_empty(), "no subscription, no message");
    assert_eq!(publisher.recv(&mut pipes), Err(RecvError::NotSupported));
}

#[test]
fn pub_unsubscribe_removes_the_peer_from_the_topic() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut publisher = TPub::new();
    attach_all(&mut publisher, &mut pipes, &[0, 1], 0);
    subscribe(&mut publisher, &mut pipes, 0, b"A");
    subscribe(&mut publisher, &mut pipes, 1, b"A");
    assert_eq!(publisher.topic_count(), 1);
    unsubscribe(&mut publisher, &mut pipes, 0, b"A");
    send_msg(&mut publisher, &mut pipes, &[b"A1"]).unwrap();
    assert!(pipes.take_all(0).is_empty());
    assert_eq!(pipes.take_all(1), [frames(&[b"A1"])]);
    unsubscribe(&mut publisher, &mut pipes, 1, b"A");
    assert_eq!(publisher.topic_count(), 0);
}

#[test]
fn pub_drops_messages_for_a_full_subscriber_only() {
    // test_hwm_pubsub: a slow subscriber gets HWM messages, the rest are
    // dropped for it; others are unaffected; once drained it gets new
    // messages again.
    let mut pipes = TestPipes::<Msg>::new();
    let mut publisher = TPub::new();
    attach_all(&mut publisher, &mut pipes, &[0, 1], 0);
    pipes.peer(0).hwm = 3;
    subscribe(&mut publisher, &mut pipes, 0, b"");
    subscribe(&mut publisher, &mut pipes, 1, b"");
    for i in 0..6u8 {
        send_msg(&mut publisher, &mut pipes, &[&[i], b"body"]).unwrap();
    }
    assert_eq!(pipes.unflushed(0), 0, "no partial message left behind");
    let slow: Vec<u8> = pipes.take_all(0).iter().map(|m| m[0][0]).collect();
    assert_eq!(slow, [0, 1, 2]);
    assert_eq!(pipes.take_all(1).len(), 6);
    send_msg(&mut publisher, &mut pipes, &[&[6], b"body"]).unwrap();
    assert!(pipes.take_all(0).is_empty(), "inactive until activated");
    publisher.write_activated(&mut pipes, 0);
    send_msg(&mut publisher, &mut pipes, &[&[7], b"body"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[&[7], b"body"])]);
}

#[test]
fn pub_nodrop_would_block_while_a_recipient_is_full() {
    // test_xpub_nodrop, on PUB (libzmq accepts the option there too).
    let mut pipes = TestPipes::<Msg>::new();
    let mut publisher = TPub::new();
    publisher.set_nodrop(true);
    attach_all(&mut publisher, &mut pipes, &[0], 2);
    subscribe(&mut publisher, &mut pipes, 0, b"");
    send_msg(&mut publisher, &mut pipes, &[b"1"]).unwrap();
    send_msg(&mut publisher, &mut pipes, &[b"2"]).unwrap();
    assert!(matches!(
        publisher.send(&mut pipes, frame(b"3", false)),
        Err(SendError::WouldBlock(_))
    ));
    pipes.take(0);
    send_msg(&mut publisher, &mut pipes, &[b"3"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"2"]), frames(&[b"3"])]);
}

#[test]
fn pub_peer_attached_mid_message_waits_for_the_next_one() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut publisher = TPub::new();
    attach_all(&mut publisher, &mut pipes, &[0], 0);
    subscribe(&mut publisher, &mut pipes, 0, b"");
    publisher.send(&mut pipes, frame(b"a1", true)).unwrap();
    attach_all(&mut publisher, &mut pipes, &[1], 0);
    subscribe(&mut publisher, &mut pipes, 1, b"");
    publisher.send(&mut pipes, frame(b"a2", false)).unwrap();
    send_msg(&mut publisher, &mut pipes, &[b"b"]).unwrap();
    assert_eq!(
        pipes.take_all(0),
        [frames(&[b"a1", b"a2"]), frames(&[b"b"])]
    );
    assert_eq!(pipes.take_all(1), [frames(&[b"b"])]);
}

#[test]
fn pub_invert_matching_sends_to_the_others() {
    // test_pub_invert_matching.
    let mut pipes = TestPipes::<Msg>::new();
    let mut publisher = TPub::new();
    publisher.set_invert_matching(true);
    attach_all(&mut publisher, &mut pipes, &[0, 1], 0);
    subscribe(&mut publisher, &mut pipes, 0, b"prefix1");
    subscribe(&mut publisher, &mut pipes, 1, b"p");
    send_msg(&mut publisher, &mut pipes, &[b"prefix1:x"]).unwrap();
    send_msg(&mut publisher, &mut pipes, &[b"prefix2:y"]).unwrap();
    send_msg(&mut publisher, &mut pipes, &[b"q"]).unwrap();
    assert_eq!(
        pipes.take_all(0),
        [frames(&[b"prefix2:y"]), frames(&[b"q"])]
    );
    assert_eq!(pipes.take_all(1), [frames(&[b"q"])]);
}

#[test]
fn pub_forgets_the_subscriptions_of_a_detached_peer() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut publisher = TPub::new();
    attach_all(&mut publisher, &mut pipes, &[0, 1], 0);
    subscribe(&mut publisher, &mut pipes, 0, b"A");
    subscribe(&mut publisher, &mut pipes, 0, b"B");
    subscribe(&mut publisher, &mut pipes, 1, b"B");
    publisher.detach(&mut pipes, 0);
    pipes.remove(0);
    assert_eq!(publisher.topic_count(), 1);
    send_msg(&mut publisher, &mut pipes, &[b"B"]).unwrap();
    assert_eq!(pipes.take_all(1), [frames(&[b"B"])]);
}

#[test]
fn pub_matches_long_prefixes() {
    let long = [b'x'; 100];
    let mut pipes = TestPipes::<Msg>::new();
    let mut publisher = TPub::new();
    attach_all(&mut publisher, &mut pipes, &[0, 1], 0);
    subscribe(&mut publisher, &mut pipes, 0, &long[..70]);
    subscribe(&mut publisher, &mut pipes, 1, &long[..90]);
    send_msg(&mut publisher, &mut pipes, &[&long[..80]]).unwrap();
    send_msg(&mut publisher, &mut pipes, &[&long]).unwrap();
    assert_eq!(pipes.take_all(0).len(), 2);
    assert_eq!(pipes.take_all(1).len(), 1);
    unsubscribe(&mut publisher, &mut pipes, 1, &long[..90]);
    send_msg(&mut publisher, &mut pipes, &[&long]).unwrap();
    assert_eq!(pipes.take_all(0).len(), 1);
    assert!(pipes.take_all(1).is_empty());
}

#[test]
fn sub_sends_subscriptions_to_every_publisher() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut sub = TSub::new();
    attach_all(&mut sub, &mut pipes, &[0, 1], 0);
    sub.subscribe(&mut pipes, b"A").unwrap();
    for p in [0, 1] {
        assert_eq!(pipes.take_all(p), [frames(&[b"\x01A"])]);
    }
    // A publisher attached later gets every topic.
    sub.subscribe(&mut pipes, b"B").unwrap();
    pipes.take_all(0);
    pipes.take_all(1);
    attach_all(&mut sub, &mut pipes, &[2], 0);
    let mut late = pipes.take_all(2);
    late.sort();
    assert_eq!(late, [frames(&[b"\x01A"]), frames(&[b"\x01B"])]);
}

#[test]
fn sub_counts_subscriptions() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut sub = TSub::new();
    attach_all(&mut sub, &mut pipes, &[0], 0);
    sub.subscribe(&mut pipes, b"A").unwrap();
    sub.subscribe(&mut pipes, b"A").unwrap();
    // Each subscribe is forwarded (XPUB_VERBOSE upstream wants them all).
    assert_eq!(pipes.take_all(0).len(), 2);
    assert_eq!(sub.topic_count(), 1);
    sub.unsubscribe(&mut pipes, b"A").unwrap();
    assert!(pipes.take_all(0).is_empty(), "one reference remains");
    pipes.deliver(0, &[b"A1"]);
    assert_eq!(recv_msg(&mut sub, &mut pipes).unwrap(), frames(&[b"A1"]));
    sub.unsubscribe(&mut pipes, b"A").unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"\x00A"])]);
    sub.unsubscribe(&mut pipes, b"never").unwrap();
    assert!(pipes.take_all(0).is_empty());
    assert_eq!(sub.topic_count(), 0);
}

#[test]
fn sub_filters_whole_messages() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut sub = TSub::new();
    attach_all(&mut sub, &mut pipes, &[0], 0);
    sub.subscribe(&mut pipes, b"A").unwrap();
    pipes.deliver(0, &[b"B", b"b-body"]);
    pipes.deliver(0, &[b"AB", b"A-body"]);
    pipes.deliver(0, &[b"C"]);
    assert!(sub.has_in(&mut pipes));
    assert_eq!(
        recv_msg(&mut sub, &mut pipes).unwrap(),
        frames(&[b"AB", b"A-body"])
    );
    assert!(!sub.has_in(&mut pipes), "only non-matching input left");
    assert_eq!(pipes.unread(0), 0);
    assert_eq!(sub.recv(&mut pipes), Err(RecvError::WouldBlock));
}

#[test]
fn sub_without_subscriptions_receives_nothing() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut sub = TSub::new();
    attach_all(&mut sub, &mut pipes, &[0], 0);
    pipes.deliver(0, &[b"x"]);
    assert_eq!(sub.recv(&mut pipes), Err(RecvError::WouldBlock));
}

#[test]
fn sub_invert_matching_receives_the_rest() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut sub = TSub::new();
    sub.set_invert_matching(true);
    attach_all(&mut sub, &mut pipes, &[0], 0);
    sub.subscribe(&mut pipes, b"prefix1").unwrap();
    pipes.deliver(0, &[b"prefix1:x"]);
    pipes.deliver(0, &[b"prefix2:y"]);
    assert_eq!(
        recv_msg(&mut sub, &mut pipes).unwrap(),
        frames(&[b"prefix2:y"])
    );
    assert_eq!(sub.recv(&mut pipes), Err(RecvError::WouldBlock));
}

#[test]
fn sub_fair_queues_between_publishers() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut sub = TSub::new();
    attach_all(&mut sub, &mut pipes, &[0, 1], 0);
    sub.subscribe(&mut pipes, b"").unwrap();
    pipes.deliver(0, &[b"a1"]);
    pipes.deliver(0, &[b"a2"]);
    pipes.deliver(1, &[b"b1"]);
    let got: Vec<Vec<u8>> = (0..3)
        .map(|_| recv_msg(&mut sub, &mut pipes).unwrap().remove(0))
        .collect();
    assert_eq!(got, frames(&[b"a1", b"b1", b"a2"]));
}

#[test]
fn sub_loses_a_subscription_to_a_full_publisher_pipe() {
    // As libzmq: a subscription that hits the SNDHWM is dropped for that
    // publisher; the others get it.
    let mut pipes = TestPipes::<Msg>::new();
    let mut sub = TSub::new();
    attach_all(&mut sub, &mut pipes, &[0, 1], 0);
    pipes.peer(0).hwm = 1;
    sub.subscribe(&mut pipes, b"A").unwrap();
    sub.subscribe(&mut pipes, b"B").unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"\x01A"])]);
    assert_eq!(pipes.take_all(1).len(), 2);
    assert!(matches!(
        sub.send(&mut pipes, frame(b"x", false)),
        Err(SendError::NotSupported(_))
    ));
}
