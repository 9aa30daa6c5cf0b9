//! REP, after libzmq's `test_spec_rep`.

use super::*;
use crate::routing::Rep;

type TRep = Rep<Heap, u32>;

#[test]
fn rep_fair_queues_requests() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut rep = TRep::new();
    attach_all(&mut rep, &mut pipes, &[0, 1, 2], 0);
    for p in 0..3u32 {
        pipes.deliver(p, &[b"", &[b'A' + p as u8]]);
    }
    let mut got = Vec::new();
    for _ in 0..3 {
        let request = recv_msg(&mut rep, &mut pipes).unwrap();
        send_msg(&mut rep, &mut pipes, &[&request[0]]).unwrap();
        got.push(request[0][0]);
    }
    got.sort_unstable();
    assert_eq!(got, b"ABC");
    for p in 0..3u32 {
        assert_eq!(pipes.take_all(p), [frames(&[b"", &[b'A' + p as u8]])]);
    }
}

#[test]
fn rep_keeps_the_envelope_and_returns_it() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut rep = TRep::new();
    attach_all(&mut rep, &mut pipes, &[0], 0);
    // Minimal envelope.
    pipes.deliver(0, &[b"", b"A"]);
    assert_eq!(recv_msg(&mut rep, &mut pipes).unwrap(), frames(&[b"A"]));
    send_msg(&mut rep, &mut pipes, &[b"A"]).unwrap();
    assert_eq!(pipes.take(0), Some(frames(&[b"", b"A"])));
    // Big envelope: labels added by ROUTERs on the way.
    pipes.deliver(0, &[b"X", b"Y", b"", b"A", b"B"]);
    rep.read_activated(&mut pipes, 0);
    assert_eq!(
        recv_msg(&mut rep, &mut pipes).unwrap(),
        frames(&[b"A", b"B"])
    );
    assert_eq!(pipes.take(0), None, "envelope unflushed until the reply");
    send_msg(&mut rep, &mut pipes, &[b"C", b"D"]).unwrap();
    assert_eq!(pipes.take(0), Some(frames(&[b"X", b"Y", b"", b"C", b"D"])));
}

#[test]
fn rep_discards_requests_without_delimiter() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut rep = TRep::new();
    attach_all(&mut rep, &mut pipes, &[0], 0);
    pipes.deliver(0, &[b"X", b"no-delimiter"]);
    pipes.deliver(0, &[b"", b"ok"]);
    assert_eq!(recv_msg(&mut rep, &mut pipes).unwrap(), frames(&[b"ok"]));
    send_msg(&mut rep, &mut pipes, &[b"r"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"", b"r"])]);
}

#[test]
fn rep_alternates_strictly() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut rep = TRep::new();
    attach_all(&mut rep, &mut pipes, &[0], 0);
    assert!(matches!(
        rep.send(&mut pipes, frame(b"r", false)),
        Err(SendError::State(_))
    ));
    pipes.deliver(0, &[b"", b"q1"]);
    pipes.deliver(0, &[b"", b"q2"]);
    recv_msg(&mut rep, &mut pipes).unwrap();
    assert_eq!(rep.recv(&mut pipes), Err(RecvError::State));
    assert!(!rep.has_in(&mut pipes));
    assert!(rep.has_out(&mut pipes));
    send_msg(&mut rep, &mut pipes, &[b"r1"]).unwrap();
    assert_eq!(recv_msg(&mut rep, &mut pipes).unwrap(), frames(&[b"q2"]));
}

#[test]
fn rep_drops_the_reply_when_the_requester_is_full() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut rep = TRep::new();
    attach_all(&mut rep, &mut pipes, &[0], 1);
    pipes.deliver(0, &[b"", b"q1"]);
    pipes.deliver(0, &[b"", b"q2"]);
    recv_msg(&mut rep, &mut pipes).unwrap();
    send_msg(&mut rep, &mut pipes, &[b"r1"]).unwrap();
    // The requester has not read r1: its pipe is at HWM 1.
    recv_msg(&mut rep, &mut pipes).unwrap();
    send_msg(&mut rep, &mut pipes, &[b"r2"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"", b"r1"])]);
    assert_eq!(pipes.unflushed(0), 0);
}

#[test]
fn rep_drops_the_reply_when_the_requester_left() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut rep = TRep::new();
    attach_all(&mut rep, &mut pipes, &[0, 1], 0);
    pipes.deliver(0, &[b"", b"q0"]);
    assert_eq!(recv_msg(&mut rep, &mut pipes).unwrap(), frames(&[b"q0"]));
    rep.detach(&mut pipes, 0);
    pipes.remove(0);
    send_msg(&mut rep, &mut pipes, &[b"r0"]).unwrap();
    pipes.deliver(1, &[b"", b"q1"]);
    rep.read_activated(&mut pipes, 1);
    assert_eq!(recv_msg(&mut rep, &mut pipes).unwrap(), frames(&[b"q1"]));
    send_msg(&mut rep, &mut pipes, &[b"r1"]).unwrap();
    assert_eq!(pipes.take_all(1), [frames(&[b"", b"r1"])]);
}
