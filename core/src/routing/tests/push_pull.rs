//! PUSH and PULL, after libzmq's `test_spec_pushpull` and `test_hwm`.

use super::*;
use crate::routing::{Pull, Push};

type TPush = Push<Heap, u32>;
type TPull = Pull<Heap, u32>;

#[test]
fn push_round_robins_over_its_peers() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut push = TPush::new();
    let peers = [0, 1, 2, 3, 4];
    attach_all(&mut push, &mut pipes, &peers, 0);
    for _ in peers {
        send_msg(&mut push, &mut pipes, &[b"ABC"]).unwrap();
    }
    for _ in peers {
        send_msg(&mut push, &mut pipes, &[b"DEF"]).unwrap();
    }
    for p in peers {
        assert_eq!(
            pipes.take_all(p),
            [frames(&[b"ABC"]), frames(&[b"DEF"])],
            "peer {p} got one of each, in order"
        );
    }
}

#[test]
fn push_keeps_a_multipart_message_on_one_peer() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut push = TPush::new();
    attach_all(&mut push, &mut pipes, &[0, 1], 0);
    send_msg(&mut push, &mut pipes, &[b"a1", b"a2", b"a3"]).unwrap();
    send_msg(&mut push, &mut pipes, &[b"b1", b"b2"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"a1", b"a2", b"a3"])]);
    assert_eq!(pipes.take_all(1), [frames(&[b"b1", b"b2"])]);
}

#[test]
fn push_publishes_a_multipart_message_only_when_complete() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut push = TPush::new();
    attach_all(&mut push, &mut pipes, &[0], 0);
    push.send(&mut pipes, frame(b"1", true)).unwrap();
    push.send(&mut pipes, frame(b"2", true)).unwrap();
    assert_eq!(pipes.take(0), None, "nothing visible before the last frame");
    assert_eq!(pipes.unflushed(0), 2);
    push.send(&mut pipes, frame(b"3", false)).unwrap();
    assert_eq!(pipes.take(0), Some(frames(&[b"1", b"2", b"3"])));
}

#[test]
fn push_without_peers_would_block() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut push = TPush::new();
    let err = push.send(&mut pipes, frame(b"x", false)).unwrap_err();
    assert_eq!(err, SendError::WouldBlock(frame(b"x", false)));
    assert!(!push.has_out(&mut pipes));
}

#[test]
fn push_counts_whole_messages_against_the_hwm() {
    // test_hwm: with SNDHWM n exactly n messages go out, then EAGAIN.
    let mut pipes = TestPipes::<Msg>::new();
    let mut push = TPush::new();
    attach_all(&mut push, &mut pipes, &[0], 3);
    for i in 0..3u8 {
        // Three frames each: the HWM counts messages, not frames.
        send_msg(&mut push, &mut pipes, &[&[i], b"x", b"y"]).unwrap();
    }
    assert!(!push.has_out(&mut pipes));
    let err = push.send(&mut pipes, frame(b"4", false)).unwrap_err();
    assert!(matches!(err, SendError::WouldBlock(_)));
    assert_eq!(pipes.unflushed(0), 0, "a refused message leaves no frame");

    // The peer reads one; the pipe reports it writable; one more fits.
    assert_eq!(pipes.take(0), Some(frames(&[&[0], b"x", b"y"])));
    push.write_activated(&mut pipes, 0);
    assert!(push.has_out(&mut pipes));
    send_msg(&mut push, &mut pipes, &[b"4"]).unwrap();
    assert!(push.send(&mut pipes, frame(b"5", false)).is_err());
}

#[test]
fn push_skips_full_peers_and_takes_them_back_when_activated() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut push = TPush::new();
    attach_all(&mut push, &mut pipes, &[0, 1, 2], 1);
    pipes.peer(1).hwm = 2;
    for m in [b"a", b"b", b"c", b"d"] {
        send_msg(&mut push, &mut pipes, &[m]).unwrap();
    }
    // 0 and 2 are full after one message each; 1 takes a second; then
    // every peer is full.
    assert!(push.send(&mut pipes, frame(b"e", false)).is_err());
    assert_eq!(pipes.take_all(0), [frames(&[b"a"])]);
    assert_eq!(pipes.take_all(1), [frames(&[b"b"]), frames(&[b"d"])]);
    assert_eq!(pipes.take_all(2), [frames(&[b"c"])]);
    // Drained, but no pipe told the socket: it still believes all full.
    assert!(push.send(&mut pipes, frame(b"e", false)).is_err());
    push.write_activated(&mut pipes, 2);
    push.write_activated(&mut pipes, 2);
    send_msg(&mut push, &mut pipes, &[b"e"]).unwrap();
    assert_eq!(pipes.take_all(2), [frames(&[b"e"])]);
}

#[test]
fn push_drops_the_rest_of_a_message_whose_peer_left() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut push = TPush::new();
    attach_all(&mut push, &mut pipes, &[0, 1], 0);
    push.send(&mut pipes, frame(b"a1", true)).unwrap();
    push.detach(&mut pipes, 0);
    pipes.remove(0);
    // The rest of the message is discarded, not sent to peer 1 headless.
    push.send(&mut pipes, frame(b"a2", true)).unwrap();
    push.send(&mut pipes, frame(b"a3", false)).unwrap();
    send_msg(&mut push, &mut pipes, &[b"b"]).unwrap();
    assert_eq!(pipes.take_all(1), [frames(&[b"b"])]);
}

#[test]
fn push_rolls_back_when_a_peer_refuses_mid_message() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut push = TPush::new();
    attach_all(&mut push, &mut pipes, &[0, 1], 0);
    push.send(&mut pipes, frame(b"a1", true)).unwrap();
    pipes.peer(0).gone = true;
    push.send(&mut pipes, frame(b"a2", true)).unwrap();
    assert_eq!(pipes.unflushed(0), 0, "the partial message was rolled back");
    push.send(&mut pipes, frame(b"a3", false)).unwrap();
    send_msg(&mut push, &mut pipes, &[b"b"]).unwrap();
    assert_eq!(pipes.take_all(1), [frames(&[b"b"])]);
}

#[test]
fn push_after_reconnect_sends_again() {
    // test_destroy_queue_on_disconnect, routing side: a detached peer is
    // forgotten, a new one is used.
    let mut pipes = TestPipes::<Msg>::new();
    let mut push = TPush::new();
    attach_all(&mut push, &mut pipes, &[0], 1);
    send_msg(&mut push, &mut pipes, &[b"ABC"]).unwrap();
    assert!(push.send(&mut pipes, frame(b"DEF", false)).is_err());
    push.detach(&mut pipes, 0);
    pipes.remove(0);
    assert!(push.send(&mut pipes, frame(b"DEF", false)).is_err());
    attach_all(&mut push, &mut pipes, &[0], 1);
    send_msg(&mut push, &mut pipes, &[b"DEF"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"DEF"])]);
}

#[test]
fn push_never_receives() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut push = TPush::new();
    assert_eq!(push.recv(&mut pipes), Err(RecvError::NotSupported));
    assert!(!push.has_in(&mut pipes));
}

#[test]
fn pull_fair_queues_one_message_from_each_peer_in_turn() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut pull = TPull::new();
    let peers = [0u32, 1, 2, 3, 4];
    attach_all(&mut pull, &mut pipes, &peers, 0);
    for p in peers {
        let first = [b'A' + p as u8];
        let second = [b'A' + p as u8 + 5];
        pipes.deliver(p, &[&first]);
        pipes.deliver(p, &[&second]);
    }
    let mut got: Vec<u8> = (0..10)
        .map(|_| recv_msg(&mut pull, &mut pipes).unwrap()[0][0])
        .collect();
    let second_half = got.split_off(5);
    got.sort_unstable();
    assert_eq!(got, b"ABCDE", "one from each peer first");
    assert_eq!(second_half, b"FGHIJ", "then the second batch, same order");
    assert_eq!(pull.recv(&mut pipes), Err(RecvError::WouldBlock));
}

#[test]
fn pull_receives_a_multipart_message_whole() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut pull = TPull::new();
    attach_all(&mut pull, &mut pipes, &[0, 1], 0);
    pipes.deliver(0, &[b"a1", b"a2"]);
    pipes.deliver(1, &[b"b1", b"b2", b"b3"]);
    pipes.deliver(0, &[b"c"]);
    assert_eq!(
        recv_msg(&mut pull, &mut pipes).unwrap(),
        frames(&[b"a1", b"a2"])
    );
    assert_eq!(
        recv_msg(&mut pull, &mut pipes).unwrap(),
        frames(&[b"b1", b"b2", b"b3"])
    );
    assert_eq!(recv_msg(&mut pull, &mut pipes).unwrap(), frames(&[b"c"]));
}

#[test]
fn pull_waits_for_read_activated_after_finding_a_peer_empty() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut pull = TPull::new();
    attach_all(&mut pull, &mut pipes, &[0], 0);
    assert!(!pull.has_in(&mut pipes));
    pipes.deliver(0, &[b"x"]);
    // The pipe must announce new input, as libzmq's activate_read.
    assert_eq!(pull.recv(&mut pipes), Err(RecvError::WouldBlock));
    pull.read_activated(&mut pipes, 0);
    assert!(pull.has_in(&mut pipes));
    assert_eq!(recv_msg(&mut pull, &mut pipes).unwrap(), frames(&[b"x"]));
}

#[test]
fn pull_reports_a_message_cut_short_by_a_detach() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut pull = TPull::new();
    attach_all(&mut pull, &mut pipes, &[0, 1], 0);
    pipes.deliver(0, &[b"a1", b"a2"]);
    pipes.deliver(1, &[b"b"]);
    assert_eq!(pull.recv(&mut pipes).unwrap().bytes(), b"a1");
    pull.detach(&mut pipes, 0);
    pipes.remove(0);
    assert!(pull.has_in(&mut pipes));
    assert_eq!(pull.recv(&mut pipes), Err(RecvError::Truncated));
    assert_eq!(recv_msg(&mut pull, &mut pipes).unwrap(), frames(&[b"b"]));
}

#[test]
fn pull_never_sends() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut pull = TPull::new();
    assert!(matches!(
        pull.send(&mut pipes, frame(b"x", false)),
        Err(SendError::NotSupported(_))
    ));
    assert!(!pull.has_out(&mut pipes));
}
