//! LINGER and context termination, after libzmq's `test_linger`,
//! `test_ctx_destroy` and `test_term_endpoint`: closing never loses what
//! LINGER promises to deliver, and never hangs when LINGER is 0 or the
//! peers are gone.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::sock::*;
use zlink_mq::monitor::{EVENT_ALL, EventKind};
use zlink_mq::{Context, ErrorKind, Flags, Socket, SocketType};

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

/// Runs `f` (which closes a socket and drops its context) on a thread and
/// returns how long it took; fails the test if it takes over [`TIMEOUT`].
fn time_to_finish(what: &str, f: impl FnOnce() + Send + 'static) -> Duration {
    let started = Instant::now();
    must_finish(what, f);
    started.elapsed()
}

/// Reads 1 MiB messages until none comes for half a second; each must be
/// whole. Returns how many arrived.
fn count_big_messages(pull: &mut Socket) -> usize {
    pull.set_rcvtimeo(Some(Duration::from_millis(500)));
    let mut n = 0;
    loop {
        match pull.recv(Flags::NONE) {
            Ok(m) => {
                assert_eq!(m.len(), 1 << 20, "message {n} is whole");
                n += 1;
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::WouldBlock);
                return n;
            }
        }
    }
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
        assert_nothing(&mut pull);
    }
}

/// "Connect, send, close" to an endpoint nobody has bound yet: with the
/// default LINGER (infinite) the messages wait for the peer, and dropping
/// the context waits until they are delivered, as `zmq_ctx_term` does
/// (issue 9, fault 4).
#[test]
fn messages_queued_for_a_peer_not_yet_bound_wait_for_it() {
    for t in [Transport::Tcp, Transport::Ipc] {
        let receiver_ctx = Context::new();
        // An endpoint that was free a moment ago and is free again.
        let ep = {
            let mut probe = socket(&receiver_ctx, SocketType::Pull);
            bind(&mut probe, t)
        };
        let (returned, returned_at) = mpsc::channel();
        let target = ep.clone();
        let closer = thread::spawn(move || {
            let ctx = Context::new();
            let mut push = ctx.socket(SocketType::Push).unwrap();
            push.connect(&target).unwrap();
            for i in 0..10u32 {
                push.send(&i.to_le_bytes()[..], Flags::NONE).unwrap();
            }
            drop(push);
            drop(ctx);
            returned.send(Instant::now()).unwrap();
        });
        thread::sleep(Duration::from_secs(2));
        assert!(
            returned_at.try_recv().is_err(),
            "{t:?}: dropping the context must wait for the 10 queued messages"
        );
        let bound_at = Instant::now();
        let mut pull = socket(&receiver_ctx, SocketType::Pull);
        pull.bind(&ep).unwrap();
        for i in 0..10u32 {
            assert_eq!(
                &pull.recv(Flags::NONE).unwrap()[..],
                &i.to_le_bytes(),
                "{t:?}"
            );
        }
        let at = returned_at
            .recv_timeout(TIMEOUT)
            .expect("the context drop returns once the messages are delivered");
        assert!(at >= bound_at, "{t:?}: returned before the peer existed");
        closer.join().unwrap();
        assert_nothing(&mut pull);
    }
}

#[test]
fn linger_zero_drops_pending_messages_and_returns_at_once() {
    let receiver_ctx = Context::new();
    let mut pull = socket(&receiver_ctx, SocketType::Pull);
    pull.set_rcvhwm(1);
    let ep = bind(&mut pull, Transport::Tcp);
    let (connected, is_connected) = mpsc::channel();
    let (closed, is_closed) = mpsc::channel();
    let closer = thread::spawn(move || {
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
        connected.send(()).unwrap();
        let started = Instant::now();
        drop(push);
        drop(ctx);
        closed.send(started.elapsed()).unwrap();
    });
    is_connected.recv_timeout(TIMEOUT).unwrap();
    let took = is_closed
        .recv_timeout(TIMEOUT)
        .expect("closing with LINGER 0");
    closer.join().unwrap();
    assert!(took < Duration::from_secs(1), "LINGER 0 waited {took:?}");
    let n = count_big_messages(&mut pull);
    assert!(
        n < 64,
        "LINGER 0 dropped what was queued, yet {n} of 64 came"
    );
}

#[test]
fn a_finite_linger_gives_up_on_a_peer_that_does_not_read() {
    let receiver_ctx = Context::new();
    let mut pull = socket(&receiver_ctx, SocketType::Pull);
    pull.set_rcvhwm(1);
    let ep = bind(&mut pull, Transport::Tcp);
    let (closed, is_closed) = mpsc::channel();
    let closer = thread::spawn(move || {
        let ctx = Context::new();
        let mut push = ctx.socket(SocketType::Push).unwrap();
        push.set_linger(Some(Duration::from_millis(300)));
        push.set_sndhwm(0);
        push.connect(&ep).unwrap();
        let big = vec![0u8; 1 << 20];
        for _ in 0..64 {
            push.send(&big[..], Flags::NONE).unwrap();
        }
        let started = Instant::now();
        drop(push);
        drop(ctx);
        closed.send(started.elapsed()).unwrap();
    });
    let took = is_closed
        .recv_timeout(TIMEOUT)
        .expect("closing with LINGER 300 ms");
    closer.join().unwrap();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "LINGER 300 ms with a peer that never reads took {took:?}"
    );
    let n = count_big_messages(&mut pull);
    assert!(n < 64, "the linger ran out, yet {n} of 64 came");
}

/// With nobody to deliver to, closing waits for LINGER and no longer; with
/// nothing queued it does not wait at all.
#[test]
fn closing_with_the_peer_gone_waits_for_linger_only() {
    let linger = Duration::from_millis(300);
    let took = time_to_finish("closing with nobody to deliver to", move || {
        let ctx = Context::new();
        let mut push = ctx.socket(SocketType::Push).unwrap();
        push.set_linger(Some(linger));
        // Peers that never exist.
        push.connect("tcp://127.0.0.1:1").unwrap();
        push.connect("ipc:///nonexistent-dir/zlink.ipc").unwrap();
        for _ in 0..10 {
            push.send("x", Flags::NONE).unwrap();
        }
        drop(push);
        drop(ctx);
    });
    assert!(
        took >= linger && took < linger + Duration::from_secs(3),
        "{took:?}"
    );

    let took = time_to_finish("closing after the peer left", move || {
        let ctx = Context::new();
        let mut pull = ctx.socket(SocketType::Pull).unwrap();
        let ep = bind(&mut pull, Transport::Tcp);
        let mut push = ctx.socket(SocketType::Push).unwrap();
        push.set_linger(Some(linger));
        let events = push.monitor_channel(EVENT_ALL);
        push.connect(&ep).unwrap();
        push.send("x", Flags::NONE).unwrap();
        recv_str(&mut pull);
        drop(pull);
        // Once the loss is known, what is sent waits for a reconnection.
        while events.recv_timeout(TIMEOUT).expect("an event").kind != EventKind::Disconnected {}
        for _ in 0..10 {
            let _ = push.send("y", Flags::DONTWAIT);
        }
        let started = Instant::now();
        drop(push);
        drop(ctx);
        let took = started.elapsed();
        assert!(
            took >= linger && took < linger + Duration::from_secs(3),
            "{took:?}"
        );
    });
    assert!(took >= linger, "{took:?}");

    let took = time_to_finish("closing with nothing queued", || {
        let ctx = Context::new();
        let mut push = ctx.socket(SocketType::Push).unwrap();
        // Infinite LINGER, but nothing to deliver.
        push.connect("tcp://127.0.0.1:1").unwrap();
        drop(push);
        drop(ctx);
    });
    assert!(took < Duration::from_secs(1), "{took:?}");
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
