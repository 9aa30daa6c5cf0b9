//! REQ, after libzmq's `test_spec_req`, `test_req_correlate` and
//! `test_req_relaxed`.

use super::*;
use crate::routing::Req;

type TReq = Req<Heap, u32>;

/// A REQ with `n` peers (0..n) attached and no HWM.
fn req_with(n: u32) -> (TReq, TestPipes<Msg>) {
    let mut pipes = TestPipes::new();
    let mut req = TReq::new(0x1000);
    let keys: Vec<u32> = (0..n).collect();
    attach_all(&mut req, &mut pipes, &keys, 0);
    (req, pipes)
}

#[test]
fn req_round_robins_requests_and_gets_each_reply() {
    let (mut req, mut pipes) = req_with(5);
    for peer in 0..5 {
        send_msg(&mut req, &mut pipes, &[b"ABC"]).unwrap();
        assert_eq!(pipes.take(peer), Some(frames(&[b"", b"ABC"])));
        deliver_to(&mut req, &mut pipes, peer, &[b"", b"DEF"]);
        assert_eq!(recv_msg(&mut req, &mut pipes).unwrap(), frames(&[b"DEF"]));
    }
}

#[test]
fn req_message_format() {
    let (mut req, mut pipes) = req_with(1);
    send_msg(&mut req, &mut pipes, &[b"ABC", b"DEF"]).unwrap();
    assert_eq!(pipes.take(0), Some(frames(&[b"", b"ABC", b"DEF"])));
    deliver_to(&mut req, &mut pipes, 0, &[b"", b"GHI"]);
    assert_eq!(recv_msg(&mut req, &mut pipes).unwrap(), frames(&[b"GHI"]));
}

#[test]
fn req_without_peers_would_block() {
    let (mut req, mut pipes) = req_with(0);
    assert!(matches!(
        req.send(&mut pipes, frame(b"", false)),
        Err(SendError::WouldBlock(_))
    ));
    // Nothing was sent, so sending again is allowed, not EFSM.
    assert!(matches!(
        req.send(&mut pipes, frame(b"", false)),
        Err(SendError::WouldBlock(_))
    ));
}

#[test]
fn req_only_listens_to_the_peer_it_asked() {
    let (mut req, mut pipes) = req_with(3);
    for asked in 0..3 {
        send_msg(&mut req, &mut pipes, &[b"ABC"]).unwrap();
        assert_eq!(pipes.take(asked), Some(frames(&[b"", b"ABC"])));
        for p in 0..3 {
            let reply: &[u8] = if p == asked { b"GOOD" } else { b"WRONG" };
            deliver_to(&mut req, &mut pipes, p, &[b"", reply]);
        }
        assert_eq!(recv_msg(&mut req, &mut pipes).unwrap(), frames(&[b"GOOD"]));
    }
}

#[test]
fn req_alternates_strictly() {
    let (mut req, mut pipes) = req_with(1);
    assert_eq!(req.recv(&mut pipes), Err(RecvError::State));
    send_msg(&mut req, &mut pipes, &[b"1"]).unwrap();
    assert!(matches!(
        req.send(&mut pipes, frame(b"2", false)),
        Err(SendError::State(_))
    ));
    assert!(!req.has_out(&mut pipes));
    assert_eq!(req.recv(&mut pipes), Err(RecvError::WouldBlock));
}

#[test]
fn req_discards_replies_without_delimiter() {
    let (mut req, mut pipes) = req_with(1);
    send_msg(&mut req, &mut pipes, &[b"Q"]).unwrap();
    deliver_to(&mut req, &mut pipes, 0, &[b"no", b"delimiter"]);
    deliver_to(&mut req, &mut pipes, 0, &[b"nodelimiter"]);
    deliver_to(&mut req, &mut pipes, 0, &[b"", b"A"]);
    assert_eq!(recv_msg(&mut req, &mut pipes).unwrap(), frames(&[b"A"]));
}

#[test]
fn req_relaxed_resends_and_ignores_the_stale_reply() {
    // test_req_relaxed: with REQ_RELAXED a second request may go out
    // before the first reply; the first reply is then discarded.
    let (mut req, mut pipes) = req_with(2);
    req.set_relaxed(true);
    req.set_correlate(true);
    send_msg(&mut req, &mut pipes, &[b"A"]).unwrap();
    let first = pipes.take(0).unwrap();
    assert_eq!(first[1..], frames(&[b"", b"A"]));
    send_msg(&mut req, &mut pipes, &[b"B"]).unwrap();
    let second = pipes.take(1).unwrap();
    assert_eq!(second[1..], frames(&[b"", b"B"]));
    // Peer 0 answers the abandoned request, peer 1 the current one.
    deliver_to(&mut req, &mut pipes, 0, &[&first[0], b"", b"A-reply"]);
    deliver_to(&mut req, &mut pipes, 1, &[&second[0], b"", b"B-reply"]);
    assert_eq!(
        recv_msg(&mut req, &mut pipes).unwrap(),
        frames(&[b"B-reply"])
    );
}

#[test]
fn req_relaxed_drains_replies_that_arrived_before_a_request() {
    let (mut req, mut pipes) = req_with(1);
    req.set_relaxed(true);
    send_msg(&mut req, &mut pipes, &[b"A"]).unwrap();
    deliver_to(&mut req, &mut pipes, 0, &[b"", b"late"]);
    send_msg(&mut req, &mut pipes, &[b"B"]).unwrap();
    assert_eq!(pipes.unread(0), 0, "the stale reply was discarded");
    deliver_to(&mut req, &mut pipes, 0, &[b"", b"B-reply"]);
    assert_eq!(
        recv_msg(&mut req, &mut pipes).unwrap(),
        frames(&[b"B-reply"])
    );
}

#[test]
fn req_correlate_prefixes_a_request_id_and_checks_it() {
    // test_req_correlate: the request carries a 4-byte id before the
    // delimiter; a reply with another id is discarded.
    let (mut req, mut pipes) = req_with(1);
    req.set_correlate(true);
    send_msg(&mut req, &mut pipes, &[b"X"]).unwrap();
    let sent = pipes.take(0).unwrap();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0], 0x1001u32.to_ne_bytes());
    assert_eq!(sent[1..], frames(&[b"", b"X"]));
    deliver_to(
        &mut req,
        &mut pipes,
        0,
        &[&0x1000u32.to_ne_bytes(), b"", b"old"],
    );
    deliver_to(&mut req, &mut pipes, 0, &[&sent[0], b"", b"new"]);
    assert_eq!(recv_msg(&mut req, &mut pipes).unwrap(), frames(&[b"new"]));
    // The next request uses the next id.
    send_msg(&mut req, &mut pipes, &[b"Y"]).unwrap();
    assert_eq!(pipes.take(0).unwrap()[0], 0x1002u32.to_ne_bytes());
}

#[test]
fn req_accepts_any_reply_once_the_asked_peer_left() {
    let (mut req, mut pipes) = req_with(2);
    send_msg(&mut req, &mut pipes, &[b"Q"]).unwrap();
    req.detach(&mut pipes, 0);
    pipes.remove(0);
    deliver_to(&mut req, &mut pipes, 1, &[b"", b"from-1"]);
    assert_eq!(
        recv_msg(&mut req, &mut pipes).unwrap(),
        frames(&[b"from-1"])
    );
}
