//! ROUTER, after libzmq's `test_spec_router`, `test_router_mandatory`,
//! `test_router_mandatory_hwm` and `test_router_handover`.

use super::*;
use crate::routing::{AttachError, Attached, Router};

type TRouter = Router<Heap, u32, Msg>;

fn attach_named(router: &mut TRouter, pipes: &mut TestPipes<Msg>, key: u32, id: &[u8], hwm: usize) {
    pipes.add(key, hwm);
    router
        .attach(pipes, key, PeerIdentity::Announced(id))
        .expect("attach");
}

#[test]
fn router_fair_queues_in_and_prepends_routing_ids() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(1);
    for p in 0..5u32 {
        attach_named(&mut router, &mut pipes, p, &[b'A' + p as u8], 0);
    }
    pipes.deliver(0, &[b"M"]);
    assert_eq!(
        recv_msg(&mut router, &mut pipes).unwrap(),
        frames(&[b"A", b"M"])
    );
    pipes.deliver(0, &[b"M"]);
    router.read_activated(&mut pipes, 0);
    assert_eq!(
        recv_msg(&mut router, &mut pipes).unwrap(),
        frames(&[b"A", b"M"])
    );
    for p in 0..5u32 {
        pipes.deliver(p, &[b"M"]);
        router.read_activated(&mut pipes, p);
    }
    let mut ids: Vec<u8> = (0..5)
        .map(|_| {
            let m = recv_msg(&mut router, &mut pipes).unwrap();
            assert_eq!(m[1], b"M");
            m[0][0]
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, b"ABCDE");
}

#[test]
fn router_routes_by_the_first_frame_and_consumes_it() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(1);
    attach_named(&mut router, &mut pipes, 0, b"A", 0);
    attach_named(&mut router, &mut pipes, 1, b"B", 0);
    send_msg(&mut router, &mut pipes, &[b"B", b"", b"to-b"]).unwrap();
    send_msg(&mut router, &mut pipes, &[b"A", b"to-a"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"to-a"])]);
    assert_eq!(pipes.take_all(1), [frames(&[b"", b"to-b"])]);
    assert_eq!(router.peer(b"B"), Some(1));
    assert_eq!(router.routing_id(0), Some(&b"A"[..]));
}

#[test]
fn router_generates_five_byte_ids_for_anonymous_peers() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(0x0102_0304);
    attach_all(&mut router, &mut pipes, &[0, 1], 0);
    pipes.add(2, 0);
    router
        .attach(&mut pipes, 2, PeerIdentity::Announced(b""))
        .unwrap();
    assert_eq!(router.routing_id(0), Some(&[0, 1, 2, 3, 4][..]));
    assert_eq!(router.routing_id(1), Some(&[0, 1, 2, 3, 5][..]));
    assert_eq!(router.routing_id(2), Some(&[0, 1, 2, 3, 6][..]));
    pipes.deliver(1, &[b"hi"]);
    assert_eq!(
        recv_msg(&mut router, &mut pipes).unwrap(),
        frames(&[&[0, 1, 2, 3, 5], b"hi"])
    );
    send_msg(&mut router, &mut pipes, &[&[0, 1, 2, 3, 6], b"back"]).unwrap();
    assert_eq!(pipes.take_all(2), [frames(&[b"back"])]);
}

#[test]
fn router_generated_ids_skip_ids_in_use() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(7);
    attach_named(&mut router, &mut pipes, 0, &[0, 0, 0, 0, 7], 0);
    attach_all(&mut router, &mut pipes, &[1], 0);
    assert_eq!(router.routing_id(1), Some(&[0, 0, 0, 0, 8][..]));
}

#[test]
fn router_drops_unroutable_messages_silently() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(1);
    attach_named(&mut router, &mut pipes, 0, b"A", 0);
    send_msg(&mut router, &mut pipes, &[b"UNKNOWN", b"DATA"]).unwrap();
    send_msg(&mut router, &mut pipes, &[b"A", b"DATA"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"DATA"])]);
}

#[test]
fn router_mandatory_refuses_unroutable_messages() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(1);
    router.set_mandatory(true);
    attach_named(&mut router, &mut pipes, 0, b"X", 0);
    let err = router
        .send(&mut pipes, frame(b"UNKNOWN", true))
        .unwrap_err();
    assert_eq!(err, SendError::Unroutable(frame(b"UNKNOWN", true)));
    // The socket is not stuck mid-message: a routable message goes out.
    send_msg(&mut router, &mut pipes, &[b"X", b"DATA"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"DATA"])]);
}

#[test]
fn router_mandatory_reports_a_full_peer_as_would_block() {
    // test_router_mandatory_hwm.
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(1);
    router.set_mandatory(true);
    attach_named(&mut router, &mut pipes, 0, b"X", 2);
    assert!(router.has_out(&mut pipes));
    send_msg(&mut router, &mut pipes, &[b"X", b"1", b"1"]).unwrap();
    send_msg(&mut router, &mut pipes, &[b"X", b"2"]).unwrap();
    assert!(!router.has_out(&mut pipes));
    assert!(matches!(
        router.send(&mut pipes, frame(b"X", true)),
        Err(SendError::WouldBlock(_))
    ));
    pipes.take(0);
    send_msg(&mut router, &mut pipes, &[b"X", b"3"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"2"]), frames(&[b"3"])]);
}

#[test]
fn router_drops_whole_messages_for_a_full_peer() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(1);
    attach_named(&mut router, &mut pipes, 0, b"X", 1);
    send_msg(&mut router, &mut pipes, &[b"X", b"1"]).unwrap();
    send_msg(&mut router, &mut pipes, &[b"X", b"2a", b"2b"]).unwrap();
    assert_eq!(pipes.unflushed(0), 0);
    assert_eq!(pipes.take_all(0), [frames(&[b"1"])]);
}

#[test]
fn router_ignores_a_lone_routing_id_frame() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(1);
    router.set_mandatory(true);
    attach_named(&mut router, &mut pipes, 0, b"X", 0);
    router.send(&mut pipes, frame(b"X", false)).unwrap();
    send_msg(&mut router, &mut pipes, &[b"X", b"after"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"after"])]);
}

#[test]
fn router_refuses_a_duplicate_routing_id() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(1);
    attach_named(&mut router, &mut pipes, 0, b"X", 0);
    pipes.add(1, 0);
    assert_eq!(
        router.attach(&mut pipes, 1, PeerIdentity::Announced(b"X")),
        Err(AttachError::DuplicateRoutingId)
    );
    assert_eq!(router.peer_count(), 1);
    assert_eq!(router.peer(b"X"), Some(0));
}

#[test]
fn router_handover_gives_the_id_to_the_new_peer() {
    // test_router_handover.
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(0x10);
    router.set_handover(true);
    attach_named(&mut router, &mut pipes, 0, b"X", 0);
    pipes.add(1, 0);
    let attached = router
        .attach(&mut pipes, 1, PeerIdentity::Announced(b"X"))
        .unwrap();
    assert_eq!(attached, Attached { replaced: Some(0) });
    assert_eq!(router.peer(b"X"), Some(1));
    assert_eq!(router.routing_id(0), Some(&[0, 0, 0, 0, 0x10][..]));
    send_msg(&mut router, &mut pipes, &[b"X", b"to-new"]).unwrap();
    assert_eq!(pipes.take_all(1), [frames(&[b"to-new"])]);
    assert!(pipes.take_all(0).is_empty());
    // The socket layer terminates the old peer; its new id goes with it.
    router.detach(&mut pipes, 0);
    assert_eq!(router.peer(&[0, 0, 0, 0, 0x10]), None);
    assert_eq!(router.peer(b"X"), Some(1));
}

#[test]
fn router_connect_routing_id_wins_and_must_be_unique() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(1);
    pipes.add(0, 0);
    router
        .attach(&mut pipes, 0, PeerIdentity::Assigned(b"mine"))
        .unwrap();
    assert_eq!(router.peer(b"mine"), Some(0));
    pipes.add(1, 0);
    router.set_handover(true);
    assert_eq!(
        router.attach(&mut pipes, 1, PeerIdentity::Assigned(b"mine")),
        Err(AttachError::DuplicateRoutingId)
    );
}

#[test]
fn router_detach_forgets_the_id() {
    // test_spec_router's destroy-queue-on-disconnect, routing side.
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(1);
    router.set_mandatory(true);
    attach_named(&mut router, &mut pipes, 0, b"B", 0);
    pipes.deliver(0, &[b"DEF"]);
    router.detach(&mut pipes, 0);
    pipes.remove(0);
    assert!(matches!(
        router.send(&mut pipes, frame(b"B", true)),
        Err(SendError::Unroutable(_))
    ));
    assert_eq!(router.recv(&mut pipes), Err(RecvError::WouldBlock));
    // The id is free again.
    attach_named(&mut router, &mut pipes, 0, b"B", 0);
    assert_eq!(router.recv(&mut pipes), Err(RecvError::WouldBlock));
}

#[test]
fn router_reports_a_message_cut_short_after_its_id_frame() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(1);
    attach_named(&mut router, &mut pipes, 0, b"A", 0);
    attach_named(&mut router, &mut pipes, 1, b"B", 0);
    pipes.deliver(0, &[b"a1", b"a2"]);
    pipes.deliver(1, &[b"b1", b"b2"]);
    let id = router.recv(&mut pipes).unwrap();
    assert!(id.more());
    let who = router.receiving_from().unwrap();
    router.detach(&mut pipes, who);
    pipes.remove(who);
    assert_eq!(router.recv(&mut pipes), Err(RecvError::Truncated));
    let other = recv_msg(&mut router, &mut pipes).unwrap();
    assert_eq!(other.len(), 3);
    assert_ne!(other[0], id.bytes());
}

#[test]
fn router_delivers_a_whole_message_read_before_its_peer_left() {
    // A single-frame message is read with its id frame (libzmq's
    // prefetch): the peer leaving after that takes nothing away.
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(1);
    attach_named(&mut router, &mut pipes, 0, b"A", 0);
    pipes.deliver(0, &[b"only"]);
    let id = router.recv(&mut pipes).unwrap();
    assert_eq!((id.bytes(), id.more()), (&b"A"[..], true));
    router.detach(&mut pipes, 0);
    pipes.remove(0);
    let body = router.recv(&mut pipes).unwrap();
    assert_eq!((body.bytes(), body.more()), (&b"only"[..], false));
    assert_eq!(router.recv(&mut pipes), Err(RecvError::WouldBlock));
}

#[test]
fn router_drops_the_rest_of_a_message_to_a_peer_that_left() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut router = TRouter::new(1);
    attach_named(&mut router, &mut pipes, 0, b"A", 0);
    router.send(&mut pipes, frame(b"A", true)).unwrap();
    router.send(&mut pipes, frame(b"1", true)).unwrap();
    router.detach(&mut pipes, 0);
    pipes.remove(0);
    router.send(&mut pipes, frame(b"2", false)).unwrap();
    attach_named(&mut router, &mut pipes, 0, b"A", 0);
    send_msg(&mut router, &mut pipes, &[b"A", b"next"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"next"])]);
}
