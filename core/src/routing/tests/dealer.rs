//! DEALER, after libzmq's `test_spec_dealer`.

use super::*;
use crate::routing::Dealer;

type TDealer = Dealer<Heap, u32>;

#[test]
fn dealer_round_robins_out() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut dealer = TDealer::new();
    let peers = [0, 1, 2, 3, 4];
    attach_all(&mut dealer, &mut pipes, &peers, 0);
    for _ in peers {
        send_msg(&mut dealer, &mut pipes, &[b"", b"ABC"]).unwrap();
    }
    for p in peers {
        assert_eq!(pipes.take_all(p), [frames(&[b"", b"ABC"])]);
    }
}

#[test]
fn dealer_fair_queues_in() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut dealer = TDealer::new();
    let peers = [0, 1, 2, 3, 4];
    attach_all(&mut dealer, &mut pipes, &peers, 0);
    pipes.deliver(0, &[b"A"]);
    assert_eq!(recv_msg(&mut dealer, &mut pipes).unwrap(), frames(&[b"A"]));
    pipes.deliver(0, &[b"A"]);
    // Peer 0 has gone inactive after it ran dry: its pipe re-activates it.
    dealer.read_activated(&mut pipes, 0);
    assert_eq!(recv_msg(&mut dealer, &mut pipes).unwrap(), frames(&[b"A"]));
    for p in peers {
        pipes.deliver(p, &[b"B"]);
        dealer.read_activated(&mut pipes, p);
    }
    for _ in peers {
        assert_eq!(recv_msg(&mut dealer, &mut pipes).unwrap(), frames(&[b"B"]));
    }
    assert_eq!(dealer.recv(&mut pipes), Err(RecvError::WouldBlock));
}

#[test]
fn dealer_without_peers_would_block() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut dealer = TDealer::new();
    assert!(matches!(
        dealer.send(&mut pipes, frame(b"", false)),
        Err(SendError::WouldBlock(_))
    ));
    assert_eq!(dealer.recv(&mut pipes), Err(RecvError::WouldBlock));
}

#[test]
fn dealer_blocks_when_every_peer_is_full() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut dealer = TDealer::new();
    attach_all(&mut dealer, &mut pipes, &[0, 1], 2);
    for _ in 0..4 {
        send_msg(&mut dealer, &mut pipes, &[b"m"]).unwrap();
    }
    assert!(!dealer.has_out(&mut pipes));
    assert!(matches!(
        dealer.send(&mut pipes, frame(b"m", false)),
        Err(SendError::WouldBlock(_))
    ));
    assert_eq!(pipes.take_all(0).len(), 2);
    assert_eq!(pipes.take_all(1).len(), 2);
}

#[test]
fn dealer_detach_forgets_the_peer_both_ways() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut dealer = TDealer::new();
    attach_all(&mut dealer, &mut pipes, &[0], 0);
    pipes.deliver(0, &[b"DEF"]);
    dealer.detach(&mut pipes, 0);
    pipes.remove(0);
    assert!(matches!(
        dealer.send(&mut pipes, frame(b"", false)),
        Err(SendError::WouldBlock(_))
    ));
    assert_eq!(dealer.recv(&mut pipes), Err(RecvError::WouldBlock));
}
