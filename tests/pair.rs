//! PAIR (RFC 31) end to end on every transport, after libzmq's
//! `test_pair_*` and `test_spec_pair`.

mod common;

use std::time::Duration;

use common::sock::*;
use zlink_mq::{Context, ErrorKind, Flags, SocketType};

#[test]
fn pair_talks_both_ways_with_multipart() {
    for t in ALL {
        let ctx = Context::new();
        let (mut a, mut bs, _) =
            bound_and_connected(&ctx, t, SocketType::Pair, SocketType::Pair, 1);
        let b = &mut bs[0];
        send_strs(&mut a, &["to", "b"]);
        send_strs(b, &["to", "a"]);
        assert_eq!(recv_strs(b), ["to", "b"], "{t:?}");
        assert_eq!(recv_strs(&mut a), ["to", "a"], "{t:?}");
        let big = vec![3u8; 300_000];
        a.send(&big[..], Flags::NONE).unwrap();
        assert_eq!(&b.recv(Flags::NONE).unwrap()[..], &big[..]);
    }
}

#[test]
fn a_second_peer_is_refused() {
    for t in ALL {
        let ctx = Context::new();
        let (mut a, mut bs, ep) =
            bound_and_connected(&ctx, t, SocketType::Pair, SocketType::Pair, 1);
        let mut intruder = socket(&ctx, SocketType::Pair);
        intruder.connect(&ep).unwrap();
        // Whatever the intruder sends never reaches `a`.
        let _ = intruder.send("intrusion", Flags::DONTWAIT);
        bs[0].send("legit", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut a), "legit", "{t:?}");
        assert_nothing_for(&mut a, Duration::from_millis(20));
        a.send("reply", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut bs[0]), "reply", "{t:?}");
        assert_nothing(&mut intruder);
    }
}

#[test]
fn pair_without_a_peer_blocks() {
    for t in ALL {
        let ctx = Context::new();
        let mut a = socket(&ctx, SocketType::Pair);
        bind(&mut a, t);
        assert_eq!(
            a.send("x", Flags::DONTWAIT).unwrap_err().kind(),
            ErrorKind::WouldBlock,
            "{t:?}"
        );
    }
}

#[test]
fn a_new_peer_may_take_the_place_of_one_that_left() {
    for t in ALL {
        let ctx = Context::new();
        let (mut a, mut bs, ep) =
            bound_and_connected(&ctx, t, SocketType::Pair, SocketType::Pair, 1);
        drop(bs.pop());
        wait_until("the peer to leave", || {
            let _ = a.events();
            a.peer_count() == 0
        });
        let mut b2 = socket(&ctx, SocketType::Pair);
        b2.connect(&ep).unwrap();
        b2.send("second", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut a), "second", "{t:?}");
    }
}
