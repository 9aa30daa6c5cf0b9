//! LINGER and context termination, after libzmq's `test_linger`,
//! `test_ctx_destroy` and `test_term_endpoint`: closing never loses what
//! LINGER promises to deliver, and never hangs when LINGER is 0 or the
//! peers are gone.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::sock::*;
use zlink_mq::{Context, ErrorKind, Flags, SocketType};

/// Runs `f` on a thread and fails the test if it does not finish within
/// [`TIMEOUT`] (instead of hanging the suite).
fn must_finish(what: &str, f: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    finished
        .recv_timeout(TIMEOUT)
        .unwrap_or_else(|_| panic!("{what} hung"));
}

#[test]
fn messages_queued_before_close_are_delivered_by_default() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let receiver_ctx = Context::new();
        let mut pull = socket(&receiver_ctx, SocketType::Pull);
        let ep = bind(&mut pull, t);
        must_finish("closing with default LINGER", move || {
            // Another context: dropping it waits for its I/O threads.
            let ctx = Context::new();
            let mut push = ctx.socket(SocketType::Push).unwrap();
            assert_eq!(push.linger(), None, "libzmq's default: -1");
            push.connect(&ep).unwrap();
            for i in 0..1000u32 {
                push.send(&i.to_le_bytes()[..], Flags::NONE).unwrap();
            }
            drop(push);
            drop(ctx);
        });
        for i in 0..1000u32 {
            assert_eq!(
                &pull.recv(Flags::NONE).unwrap()[..],
                &i.to_le_bytes(),
                "{t:?}"
            );
        }
    }
}

#[test]
fn linger_zero_drops_pending_messages_and_returns_at_once() {
    let receiver_ctx = Context::new();
    let mut pull = socket(&receiver_ctx, SocketType::Pull);
    pull.set_rcvhwm(1);
    let ep = bind(&mut pull, Transport::Tcp);
    must_finish("closing with LINGER 0", move || {
        let ctx = Context::new();
        let mut push = ctx.socket(SocketType::Push).unwrap();
        push.set_linger(Some(Duration::ZERO));
        push.set_sndhwm(0);
        push.connect(&ep).unwrap();
        // Far more than the receiver (which never reads) and the kernel
        // can hold.
        let big = vec![0u8; 1 << 20];
        for _ in 0..64 {
            push.send(&big[..], Flags::NONE).unwrap();
        }
        drop(push);
        drop(ctx);
    });
    drop(pull);
}

#[test]
fn a_finite_linger_gives_up_on_a_peer_that_does_not_read() {
    let receiver_ctx = Context::new();
    let mut pull = socket(&receiver_ctx, SocketType::Pull);
    pull.set_rcvhwm(1);
    let ep = bind(&mut pull, Transport::Tcp);
    must_finish("closing with LINGER 50 ms", move || {
        let ctx = Context::new();
        let mut push = ctx.socket(SocketType::Push).unwrap();
        push.set_linger(Some(Duration::from_millis(50)));
        push.set_sndhwm(0);
        push.connect(&ep).unwrap();
        let big = vec![0u8; 1 << 20];
        for _ in 0..64 {
            push.send(&big[..], Flags::NONE).unwrap();
        }
        drop(push);
        drop(ctx);
    });
    drop(pull);
}

#[test]
fn closing_with_the_peer_gone_never_hangs() {
    must_finish("closing with nobody to deliver to", || {
        let ctx = Context::new();
        let mut push = ctx.socket(SocketType::Push).unwrap();
        // Infinite LINGER, and a peer that never existed.
        push.connect("tcp://127.0.0.1:1").unwrap();
        push.connect("ipc:///nonexistent-dir/zlink.ipc").unwrap();
        for _ in 0..10 {
            push.send("x", Flags::NONE).unwrap();
        }
        drop(push);
        drop(ctx);
    });
    must_finish("closing after the peer left", || {
        let ctx = Context::new();
        let mut pull = ctx.socket(SocketType::Pull).unwrap();
        let ep = bind(&mut pull, Transport::Tcp);
        let mut push = ctx.socket(SocketType::Push).unwrap();
        push.connect(&ep).unwrap();
        push.send("x", Flags::NONE).unwrap();
        recv_str(&mut pull);
        drop(pull);
        for _ in 0..10 {
            let _ = push.send("y", Flags::DONTWAIT);
        }
        drop(push);
        drop(ctx);
    });
}

#[test]
fn terminate_unblocks_every_thread_and_waits_for_its_sockets() {
    let ctx = Context::new();
    let mut workers = Vec::new();
    for t in ALL {
        let mut pull = socket(&ctx, SocketType::Pull);
        pull.set_rcvtimeo(None);
        bind(&mut pull, t);
        let mut req = socket(&ctx, SocketType::Req);
        req.set_sndtimeo(None);
        bind(&mut req, t);
        workers.push(thread::spawn(move || {
            assert_eq!(
                pull.recv(Flags::NONE).unwrap_err().kind(),
                ErrorKind::Terminated
            );
            assert_eq!(
                req.send("no peer", Flags::NONE).unwrap_err().kind(),
                ErrorKind::Terminated
            );
            // The sockets close here; terminate returns only after that.
        }));
    }
    thread::sleep(Duration::from_millis(20));
    must_finish("terminate", move || ctx.terminate());
    for w in workers {
        w.join().unwrap();
    }
}

#[test]
fn terminate_delivers_what_closed_sockets_queued() {
    let receiver_ctx = Context::new();
    let mut pull = socket(&receiver_ctx, SocketType::Pull);
    let ep = bind(&mut pull, Transport::Tcp);
    let ctx = Context::new();
    let mut push = ctx.socket(SocketType::Push).unwrap();
    push.connect(&ep).unwrap();
    for i in 0..100u32 {
        push.send(&i.to_le_bytes()[..], Flags::NONE).unwrap();
    }
    push.close();
    must_finish("terminate", move || ctx.terminate());
    for i in 0..100u32 {
        assert_eq!(&pull.recv(Flags::NONE).unwrap()[..], &i.to_le_bytes());
    }
}

#[test]
fn inproc_messages_survive_the_senders_close() {
    let ctx = Context::new();
    let mut pull = socket(&ctx, SocketType::Pull);
    let ep = bind(&mut pull, Transport::Inproc);
    let mut push = socket(&ctx, SocketType::Push);
    push.connect(&ep).unwrap();
    send_strs(&mut push, &["last", "words"]);
    drop(push);
    assert_eq!(recv_strs(&mut pull), ["last", "words"]);
}
