//! The shared strategies on their own, and random sequences of peer
//! events against their invariants.

use proptest::prelude::*;

use super::*;
use crate::routing::{Dealer, FairQueue, Pub, RoundRobin};

#[test]
fn round_robin_returns_the_peer_and_follows_it_across_detaches() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut rr = RoundRobin::<Heap, u32>::new();
    for k in 0..4 {
        pipes.add(k, 0);
        rr.attach(k).unwrap();
    }
    // A message in progress to the last peer survives other peers leaving.
    for expected in 0..3 {
        assert_eq!(rr.send(&mut pipes, frame(b"m", false)), Ok(Some(expected)));
    }
    assert_eq!(rr.send(&mut pipes, frame(b"x1", true)), Ok(Some(3)));
    rr.detach(1);
    rr.detach(0);
    rr.check();
    assert_eq!(rr.send(&mut pipes, frame(b"x2", false)), Ok(Some(3)));
    assert_eq!(pipes.take_all(3), [frames(&[b"x1", b"x2"])]);
    assert!(!rr.in_message());
    assert_eq!(rr.len(), 2);
}

#[test]
fn round_robin_activation_is_idempotent() {
    let mut rr = RoundRobin::<Heap, u32>::new();
    rr.attach(5).unwrap();
    rr.activated(5);
    rr.activated(9);
    assert_eq!(rr.active_len(), 1);
    assert_eq!(
        rr.attach(5),
        Err(crate::routing::AttachError::AlreadyAttached)
    );
    rr.check();
}

#[test]
fn fair_queue_names_the_sender_and_reports_readiness() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut fq = FairQueue::<Heap, u32>::new();
    for k in [3, 8] {
        pipes.add(k, 0);
        fq.attach(k).unwrap();
    }
    assert_eq!(fq.poll_ready(&mut pipes), None);
    pipes.deliver(8, &[b"a", b"b"]);
    fq.activated(8);
    assert_eq!(fq.poll_ready(&mut pipes), Some(8));
    let (peer, first) = fq.recv(&mut pipes).unwrap();
    assert_eq!((peer, first.bytes()), (8, &b"a"[..]));
    assert_eq!(fq.receiving_from(), Some(8));
    assert_eq!(fq.recv(&mut pipes).unwrap().0, 8);
    assert_eq!(fq.receiving_from(), None);
    fq.check();
}

/// One step of a random scenario.
#[derive(Debug, Clone)]
enum Op {
    Attach(u32),
    Detach(u32),
    SetHwm(u32, usize),
    WriteActivated(u32),
    ReadActivated(u32),
    /// A peer sends a message of this many frames.
    Deliver(u32, u8),
    /// A peer reads what it was sent.
    Drain(u32),
    /// The socket sends a message of this many frames.
    Send(u8),
    /// The socket receives one frame.
    Recv,
}

fn op() -> impl Strategy<Value = Op> {
    let peer = 0u32..6;
    prop_oneof![
        peer.clone().prop_map(Op::Attach),
        peer.clone().prop_map(Op::Detach),
        (peer.clone(), 0usize..3).prop_map(|(p, h)| Op::SetHwm(p, h)),
        peer.clone().prop_map(Op::WriteActivated),
        peer.clone().prop_map(Op::ReadActivated),
        (peer.clone(), 1u8..4).prop_map(|(p, n)| Op::Deliver(p, n)),
        peer.prop_map(Op::Drain),
        (1u8..4).prop_map(Op::Send),
        Just(Op::Recv),
    ]
}

/// Frame `i` of `n` of message `id`: the receiving side can tell whether
/// a message arrived whole and unmixed.
fn numbered(id: u32, i: u8, n: u8) -> Vec<u8> {
    let [a, b, c, d] = id.to_be_bytes();
    std::vec![a, b, c, d, i, n]
}

/// Checks that `msg` is frames 0..n of one message.
fn assert_whole(msg: &[Vec<u8>]) {
    let n = msg[0][5];
    assert_eq!(msg.len(), n as usize, "message split: {msg:?}");
    for (i, f) in msg.iter().enumerate() {
        assert_eq!(f[..4], msg[0][..4], "messages mixed: {msg:?}");
        assert_eq!(f[4], i as u8, "frames out of order: {msg:?}");
    }
}

/// Applies the peer-side and membership steps common to both scenarios;
/// returns `false` for steps the caller handles.
fn apply_common<R>(
    socket: &mut R,
    pipes: &mut TestPipes<Msg>,
    attached: &mut [bool; 6],
    next_id: &mut u32,
    op: &Op,
) -> bool
where
    R: Routing<TestPipes<Msg>>,
{
    match *op {
        Op::Attach(p) if !attached[p as usize] => {
            pipes.add(p, 2);
            socket.attach(pipes, p, PeerIdentity::Anonymous).unwrap();
            attached[p as usize] = true;
        }
        Op::Detach(p) if attached[p as usize] => {
            socket.detach(pipes, p);
            pipes.remove(p);
            attached[p as usize] = false;
        }
        Op::SetHwm(p, h) if attached[p as usize] => pipes.peer(p).hwm = h,
        Op::WriteActivated(p) if attached[p as usize] => socket.write_activated(pipes, p),
        Op::ReadActivated(p) if attached[p as usize] => socket.read_activated(pipes, p),
        Op::Deliver(p, n) if attached[p as usize] => {
            *next_id += 1;
            let parts: Vec<Vec<u8>> = (0..n).map(|i| numbered(*next_id, i, n)).collect();
            let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            pipes.deliver(p, &parts);
        }
        Op::Drain(p) if attached[p as usize] => {
            for msg in pipes.take_all(p) {
                assert_whole(&msg);
            }
        }
        Op::Send(_) | Op::Recv => return false,
        _ => {}
    }
    true
}

proptest! {
    #[test]
    fn dealer_keeps_messages_whole_under_random_peer_events(ops in prop::collection::vec(op(), 1..80)) {
        let mut pipes = TestPipes::<Msg>::new();
        let mut dealer = Dealer::<Heap, u32>::new();
        let mut attached = [false; 6];
        let mut next_id = 0;
        // Frames of the message being received.
        let mut partial: Vec<Vec<u8>> = Vec::new();
        for op in &ops {
            if !apply_common(&mut dealer, &mut pipes, &mut attached, &mut next_id, op) {
                match *op {
                    Op::Send(n) => {
                        next_id += 1;
                        // A message is sent whole or not at all.
                        if dealer.send(&mut pipes, frame(&numbered(next_id, 0, n), n > 1)).is_ok() {
                            for i in 1..n {
                                let f = frame(&numbered(next_id, i, n), i + 1 < n);
                                prop_assert!(dealer.send(&mut pipes, f).is_ok());
                            }
                        }
                    }
                    Op::Recv => match dealer.recv(&mut pipes) {
                        Ok(f) => {
                            partial.push(f.bytes().to_vec());
                            if !f.more() {
                                assert_whole(&partial);
                                partial.clear();
                            }
                        }
                        Err(RecvError::Truncated) => partial.clear(),
                        Err(e) => {
                            prop_assert_eq!(e, RecvError::WouldBlock);
                            prop_assert!(partial.is_empty(), "blocked mid-message");
                        }
                    },
                    _ => unreachable!(),
                }
            }
            dealer.check();
        }
    }

    #[test]
    fn pub_keeps_messages_whole_under_random_peer_events(ops in prop::collection::vec(op(), 1..80)) {
        let mut pipes = TestPipes::<Msg>::new();
        let mut publisher = Pub::<Heap, u32>::new();
        let mut attached = [false; 6];
        let mut next_id = 0;
        for op in &ops {
            if let Op::Attach(p) = *op {
                if !attached[p as usize] {
                    apply_common(&mut publisher, &mut pipes, &mut attached, &mut next_id, op);
                    // Every subscriber wants everything.
                    pipes.deliver(p, &[b"\x01"]);
                    publisher.read_activated(&mut pipes, p);
                    continue;
                }
            }
            if !apply_common(&mut publisher, &mut pipes, &mut attached, &mut next_id, op) {
                if let Op::Send(n) = *op {
                    next_id += 1;
                    // Interleave peer events with the frames of one message.
                    for i in 0..n {
                        let f = frame(&numbered(next_id, i, n), i + 1 < n);
                        prop_assert!(publisher.send(&mut pipes, f).is_ok());
                        publisher.check();
                    }
                }
            }
            publisher.check();
        }
        for p in 0..6 {
            if attached[p as usize] {
                for msg in pipes.take_all(p) {
                    assert_whole(&msg);
                }
            }
        }
    }
}

#[test]
fn subscriptions_match_prefixes_of_every_length_in_use() {
    use crate::routing::Subscriptions;
    let mut subs = Subscriptions::<Heap>::new();
    let long = [b'z'; 80];
    assert!(!subs.matches(b"anything"));
    for topic in [&b"a"[..], b"abc", &long[..64], &long[..70]] {
        assert_eq!(subs.add(topic), Ok(true));
    }
    assert_eq!(subs.add(b"a"), Ok(false));
    assert!(subs.matches(b"ab"));
    assert!(subs.matches(b"abcd"));
    assert!(!subs.matches(b"b"));
    assert!(!subs.matches(&long[..63]));
    assert!(subs.matches(&long[..64]));
    assert!(subs.matches(&long));
    assert!(!subs.remove(b"a"), "one reference left");
    assert!(subs.remove(b"a"));
    assert!(subs.matches(b"abc"));
    assert!(!subs.matches(b"ab"));
    assert!(subs.remove(&long[..64]));
    assert!(subs.matches(&long[..75]), "the 70-byte one remains");
    assert!(subs.remove(&long[..70]));
    assert!(!subs.matches(&long));
    assert!(!subs.remove(b"never"));
    assert_eq!(subs.len(), 1);
}

#[test]
fn subscribers_report_topics_a_departing_peer_leaves_empty() {
    use crate::routing::{Removed, Subscribers};
    let mut subs = Subscribers::<Heap, u32>::new();
    assert_eq!(subs.add(b"A", 1), Ok(true));
    assert_eq!(subs.add(b"A", 1), Ok(false), "a set: no double entry");
    assert_eq!(subs.add(b"A", 2), Ok(false));
    assert_eq!(subs.add(b"B", 1), Ok(true));
    let mut seen = Vec::new();
    subs.remove_peer(1, |topic, last| seen.push((topic.to_vec(), last)));
    seen.sort();
    assert_eq!(seen, [(b"A".to_vec(), false), (b"B".to_vec(), true)]);
    let mut matched = Vec::new();
    subs.for_each_match(b"AB", |p| matched.push(p));
    assert_eq!(matched, [2]);
    assert_eq!(subs.remove(b"A", 1), Removed::NotFound);
    assert_eq!(subs.remove(b"A", 2), Removed::LastSubscriber);
    assert!(subs.is_empty());
}
