//! PAIR, after RFC 31 and libzmq's `test_pair_*`.

use super::*;
use crate::routing::{AttachError, Pair};

#[test]
fn pair_talks_to_its_one_peer() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut pair = Pair::<u32>::new();
    attach_all(&mut pair, &mut pipes, &[7], 0);
    send_msg(&mut pair, &mut pipes, &[b"a", b"b"]).unwrap();
    assert_eq!(pipes.take_all(7), [frames(&[b"a", b"b"])]);
    pipes.deliver(7, &[b"c", b"d"]);
    assert_eq!(
        recv_msg(&mut pair, &mut pipes).unwrap(),
        frames(&[b"c", b"d"])
    );
}

#[test]
fn pair_refuses_a_second_peer() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut pair = Pair::<u32>::new();
    attach_all(&mut pair, &mut pipes, &[0], 0);
    pipes.add(1, 0);
    assert_eq!(
        pair.attach(&mut pipes, 1, PeerIdentity::Anonymous),
        Err(AttachError::Occupied)
    );
    pair.detach(&mut pipes, 0);
    assert!(pair.attach(&mut pipes, 1, PeerIdentity::Anonymous).is_ok());
    assert_eq!(pair.peer(), Some(1));
}

#[test]
fn pair_would_block_without_peer_or_room() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut pair = Pair::<u32>::new();
    assert!(matches!(
        pair.send(&mut pipes, frame(b"x", false)),
        Err(SendError::WouldBlock(_))
    ));
    assert_eq!(pair.recv(&mut pipes), Err(RecvError::WouldBlock));
    attach_all(&mut pair, &mut pipes, &[0], 2);
    send_msg(&mut pair, &mut pipes, &[b"1", b"1"]).unwrap();
    send_msg(&mut pair, &mut pipes, &[b"2"]).unwrap();
    assert!(!pair.has_out(&mut pipes));
    assert!(matches!(
        pair.send(&mut pipes, frame(b"3", false)),
        Err(SendError::WouldBlock(_))
    ));
    pipes.take(0);
    assert!(pair.has_out(&mut pipes));
}

#[test]
fn pair_does_not_start_a_new_peer_with_half_a_message() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut pair = Pair::<u32>::new();
    attach_all(&mut pair, &mut pipes, &[0], 0);
    pair.send(&mut pipes, frame(b"a1", true)).unwrap();
    pair.detach(&mut pipes, 0);
    pipes.remove(0);
    attach_all(&mut pair, &mut pipes, &[1], 0);
    pair.send(&mut pipes, frame(b"a2", false)).unwrap();
    send_msg(&mut pair, &mut pipes, &[b"b"]).unwrap();
    assert_eq!(pipes.take_all(1), [frames(&[b"b"])]);
}

#[test]
fn pair_reports_an_incoming_message_cut_short() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut pair = Pair::<u32>::new();
    attach_all(&mut pair, &mut pipes, &[0], 0);
    pipes.deliver(0, &[b"a1", b"a2"]);
    assert!(pair.recv(&mut pipes).unwrap().more());
    pair.detach(&mut pipes, 0);
    pipes.remove(0);
    assert_eq!(pair.recv(&mut pipes), Err(RecvError::Truncated));
    assert_eq!(pair.recv(&mut pipes), Err(RecvError::WouldBlock));
}
