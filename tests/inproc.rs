//! Inproc connect-before-bind under concurrency, after libzmq's
//! test_inproc_connect: many threads connect and send before (or while)
//! the name is bound; the binder must receive every message. As libzmq,
//! inproc does not check socket types (that test connects PAIRs to a PULL).

mod common;

use std::sync::Arc;
use std::sync::Barrier;

use common::sock::*;
use zlink_mq::{Context, Flags, SocketType};

const SENDERS: usize = 30;

#[test]
fn senders_that_connect_before_and_during_the_bind_all_get_through() {
    // The race is between the senders' connect / send / close and the
    // bind: repeated, so that its windows are hit.
    for round in 0..200 {
        let ctx = Context::new();
        let ep = format!("inproc://sink-{round}");
        let start = Arc::new(Barrier::new(SENDERS + 1));
        let senders: Vec<_> = (0..SENDERS)
            .map(|_| {
                let (ctx, ep, start) = (ctx.clone(), ep.clone(), start.clone());
                std::thread::spawn(move || {
                    // The default linger: what was sent outlives the socket.
                    let mut s = ctx.socket(SocketType::Pair).unwrap();
                    s.set_sndtimeo(Some(TIMEOUT));
                    start.wait();
                    s.connect(&ep).unwrap();
                    s.send("foobar", Flags::NONE).unwrap();
                })
            })
            .collect();
        start.wait();
        let mut pull = socket(&ctx, SocketType::Pull);
        pull.bind(&ep).unwrap();
        for i in 0..SENDERS {
            assert_eq!(recv_str(&mut pull), "foobar", "round {round}, message {i}");
        }
        for s in senders {
            s.join().unwrap();
        }
    }
}

#[test]
fn inproc_does_not_check_socket_types_before_or_after_the_bind() {
    let ctx = Context::new();
    let mut early = socket(&ctx, SocketType::Pair);
    early.connect("inproc://any-type").unwrap();
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.bind("inproc://any-type").unwrap();
    let mut late = socket(&ctx, SocketType::Pair);
    late.connect("inproc://any-type").unwrap();
    early.send("early", Flags::NONE).unwrap();
    late.send("late", Flags::NONE).unwrap();
    let mut got = [recv_str(&mut pull), recv_str(&mut pull)];
    got.sort();
    assert_eq!(got, ["early", "late"]);
}
