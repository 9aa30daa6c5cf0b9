//! The tokio adapter (`zlink_mq::tokio`, feature `tokio`): async send and
//! receive on both runtime flavours and every transport, its cancellation
//! guarantees (a dropped receive loses no message, a dropped send sent the
//! whole message or none), `Stream` / `Sink` split across tasks, and a
//! stress test of many tasks.

mod common;

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use common::sock::{ALL, Transport, bind, wait_peers};
use futures::{FutureExt, SinkExt, StreamExt};
use zlink_mq::tokio::AsyncSocket;
use zlink_mq::{Context, ErrorKind, Flags, Msg, Socket, SocketType};

/// How long one test's async body may run before it fails (generous: the
/// machines are small and shared).
const BODY_TIMEOUT: Duration = Duration::from_secs(120);

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `body` on `rt`, failing the test if it takes longer than
/// [`BODY_TIMEOUT`] instead of hanging.
fn run<F: Future<Output = ()>>(rt: &tokio::runtime::Runtime, what: &str, body: F) {
    rt.block_on(async {
        tokio::time::timeout(BODY_TIMEOUT, body)
            .await
            .unwrap_or_else(|_| panic!("{what}: timed out"));
    });
}

/// A socket whose close drops nothing still queued (LINGER forever is the
/// default, but be explicit: the receiver's counts depend on it).
fn socket(ctx: &Context, kind: SocketType) -> Socket {
    let mut s = ctx.socket(kind).unwrap();
    s.set_linger(None);
    s
}

/// A bound socket of `bound` and a connected one of `connected` over `t`,
/// attached to each other, both async.
fn async_pair(
    ctx: &Context,
    t: Transport,
    bound: SocketType,
    connected: SocketType,
    hwm: Option<u32>,
) -> (AsyncSocket, AsyncSocket) {
    let mut b = socket(ctx, bound);
    let mut c = socket(ctx, connected);
    if let Some(hwm) = hwm {
        for s in [&mut b, &mut c] {
            s.set_sndhwm(hwm);
            s.set_rcvhwm(hwm);
        }
    }
    let ep = bind(&mut b, t);
    c.connect(&ep).unwrap();
    wait_peers(&mut b, 1);
    wait_peers(&mut c, 1);
    (AsyncSocket::new(b).unwrap(), AsyncSocket::new(c).unwrap())
}

fn text(m: &Msg) -> String {
    String::from_utf8(m.to_vec()).unwrap()
}

fn texts(parts: &[Msg]) -> Vec<String> {
    parts.iter().map(text).collect()
}

/// A small deterministic generator for jitter (no `rand` in the tests).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn req_rep_round_trips_on_every_transport_current_thread() {
    let rt = current_thread();
    for t in ALL {
        run(&rt, &format!("{t:?}"), async {
            let ctx = Context::new();
            let (mut rep, mut req) = async_pair(&ctx, t, SocketType::Rep, SocketType::Req, None);
            let server = async move {
                for _ in 0..200 {
                    let request = rep.recv_multipart().await.unwrap();
                    let mut reply = texts(&request);
                    reply.push("ok".into());
                    rep.send_multipart(reply.iter().map(String::as_bytes))
                        .await
                        .unwrap();
                }
                rep
            };
            let client = async move {
                for i in 0..200 {
                    req.send(format!("q{i}").as_bytes()).await.unwrap();
                    let first = req.recv().await.unwrap();
                    assert!(first.more());
                    assert_eq!(text(&first), format!("q{i}"));
                    let second = req.recv().await.unwrap();
                    assert!(!second.more());
                    assert_eq!(text(&second), "ok");
                }
                req
            };
            // Both on one thread: each must yield while it waits.
            let (_rep, _req) = tokio::join!(server, client);
        });
    }
}

#[test]
fn push_pull_across_tasks_multi_thread_on_every_transport() {
    let rt = multi_thread();
    for t in ALL {
        run(&rt, &format!("{t:?}"), async {
            const N: u32 = 20_000;
            let ctx = Context::new();
            // A small HWM so that the sender waits for room too.
            let (mut pull, mut push) =
                async_pair(&ctx, t, SocketType::Pull, SocketType::Push, Some(100));
            // `tokio::spawn` needs `Send` futures: this compiles only if ours are.
            let sender = tokio::spawn(async move {
                for i in 0..N {
                    push.send_multipart([i.to_be_bytes().as_slice(), b"body"])
                        .await
                        .unwrap();
                }
                push
            });
            let receiver = tokio::spawn(async move {
                for i in 0..N {
                    let parts = pull.recv_multipart().await.unwrap();
                    assert_eq!(parts.len(), 2);
                    assert_eq!(parts[0][..], i.to_be_bytes(), "in order, none lost");
                    assert_eq!(&parts[1][..], b"body");
                }
                pull
            });
            let push = sender.await.unwrap();
            let mut pull = receiver.await.unwrap();
            assert_eq!(
                pull.get_mut()
                    .recv(Flags::DONTWAIT)
                    .map_err(|e| e.kind())
                    .unwrap_err(),
                ErrorKind::WouldBlock,
                "nothing more than was sent"
            );
            drop(push);
        });
    }
}

#[test]
fn futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let rt = current_thread();
    rt.block_on(async {
        let ctx = Context::new();
        let mut s = AsyncSocket::new(ctx.socket(SocketType::Pair).unwrap()).unwrap();
        assert_send(&s.recv());
        assert_send(&s.recv_multipart());
        assert_send(&s.send("x"));
        assert_send(&s.send_multipart(["a", "b"]));
        assert_send(&s.flush());
        assert_send(&s.next());
        assert_send(&SinkExt::send(&mut s, vec![Msg::from("x")]));
        assert_send(&s);
    });
}

/// Nothing can arrive while the sender waits for the go-ahead, so each
/// `now_or_never` below drops a receive that was pending (registered with
/// the reactor); the batch that follows must arrive whole and in order,
/// whether received frame by frame, by message or through the `Stream`.
#[test]
fn dropped_receive_loses_no_message() {
    let rt = multi_thread();
    for t in ALL {
        run(&rt, &format!("{t:?}"), async {
            const BATCHES: u32 = 50;
            const BATCH: u32 = 20;
            let ctx = Context::new();
            let (mut pull, mut push) =
                async_pair(&ctx, t, SocketType::Pull, SocketType::Push, None);
            let (go, mut go_rx) = tokio::sync::mpsc::channel::<u32>(1);
            let sender = tokio::spawn(async move {
                while let Some(batch) = go_rx.recv().await {
                    for i in 0..BATCH {
                        let n = batch * BATCH + i;
                        push.send_multipart([n.to_be_bytes().as_slice(), b"x"])
                            .await
                            .unwrap();
                    }
                }
                push
            });
            let mut dropped = 0;
            let mut next = 0u32;
            for batch in 0..BATCHES {
                assert!(pull.recv().now_or_never().is_none());
                assert!(pull.recv_multipart().now_or_never().is_none());
                assert!(pull.next().now_or_never().is_none());
                dropped += 3;
                go.send(batch).await.unwrap();
                for _ in 0..BATCH {
                    // Race each receive against a short timer: some lose
                    // and are dropped mid-wait; the message they would have
                    // taken must still come.
                    let parts = loop {
                        let via = batch % 3;
                        tokio::select! {
                            parts = async {
                                match via {
                                    0 => pull.recv_multipart().await.unwrap(),
                                    1 => pull.next().await.unwrap().unwrap(),
                                    _ => {
                                        let a = pull.recv().await.unwrap();
                                        assert!(a.more());
                                        vec![a, pull.recv().await.unwrap()]
                                    }
                                }
                            } => break parts,
                            _ = tokio::time::sleep(Duration::from_micros(50)) => dropped += 1,
                        }
                    };
                    assert_eq!(parts.len(), 2);
                    assert_eq!(parts[0][..], next.to_be_bytes(), "in order, none lost");
                    assert_eq!(&parts[1][..], b"x");
                    next += 1;
                }
            }
            drop(go);
            let _push = sender.await.unwrap();
            assert_eq!(next, BATCHES * BATCH);
            assert!(dropped >= 3 * BATCHES as usize);
            assert!(pull.recv().now_or_never().is_none(), "nothing extra");
        });
    }
}

/// The std socket's part of the guarantee: at the high-water mark a
/// multipart send with `DONTWAIT` is refused on its first frame or taken
/// whole (the mark counts whole messages), so a refused message leaves
/// nothing behind and the socket is not left in the middle of one.
#[test]
fn std_multipart_dontwait_is_all_or_nothing_at_the_hwm() {
    for t in ALL {
        let ctx = Context::new();
        let mut pull = socket(&ctx, SocketType::Pull);
        pull.set_rcvhwm(2);
        pull.set_rcvtimeo(Some(Duration::from_secs(10)));
        let ep = bind(&mut pull, t);
        let mut push = socket(&ctx, SocketType::Push);
        push.set_sndhwm(2);
        push.connect(&ep).unwrap();
        wait_peers(&mut pull, 1);
        wait_peers(&mut push, 1);
        const PARTS: usize = 50;
        let message = |n: u32| (0..PARTS).map(move |p| format!("{n}.{p:0>100}"));
        let mut received = 0u32;
        let take_one = |pull: &mut Socket, received: &mut u32| {
            let parts = texts(&pull.recv_multipart(Flags::NONE).unwrap());
            assert_eq!(parts, message(*received).collect::<Vec<_>>(), "{t:?}");
            *received += 1;
        };
        let mut accepted = 0u32;
        let mut refused = 0u32;
        // Fill until refused (TCP and IPC move messages on to kernel
        // buffers in the background), taking one message now and then so
        // that both outcomes happen many times.
        while refused < 200 {
            match push.send_multipart(message(accepted), Flags::DONTWAIT) {
                Ok(()) => accepted += 1,
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}");
                    refused += 1;
                    if refused % 20 == 0 {
                        take_one(&mut pull, &mut received);
                    }
                }
            }
            assert!(accepted < 100_000, "{t:?}: never at the mark");
        }
        // What arrives is exactly what was accepted, each message whole.
        while received < accepted {
            take_one(&mut pull, &mut received);
        }
        pull.set_rcvtimeo(Some(Duration::from_millis(200)));
        assert_eq!(
            pull.recv(Flags::NONE).map_err(|e| e.kind()).unwrap_err(),
            ErrorKind::WouldBlock,
            "{t:?}: nothing of a refused message arrived"
        );
        drop(push);
    }
}

/// The async guarantee: a send dropped before it completed sent nothing
/// (PUSH has no later-frame refusals), one that completed sent the whole
/// message. Over every transport, with a small HWM so that many sends are
/// dropped while waiting for room.
#[test]
fn dropped_send_sends_whole_message_or_none() {
    let rt = multi_thread();
    for t in ALL {
        run(&rt, &format!("{t:?}"), async {
            const PARTS: usize = 20;
            const MESSAGES: u32 = 2_000;
            let ctx = Context::new();
            let (mut pull, mut push) =
                async_pair(&ctx, t, SocketType::Pull, SocketType::Push, Some(2));
            // Large enough that the kernel's socket buffers fill too.
            let message = |n: u32| (0..PARTS).map(move |p| format!("{n}.{p:0>100}").into_bytes());
            let (done_tx, mut done_rx) = tokio::sync::oneshot::channel::<Vec<u32>>();
            let receiver = tokio::spawn(async move {
                let mut got = Vec::new();
                let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
                loop {
                    tokio::select! {
                        parts = pull.recv_multipart() => {
                            let parts = parts.unwrap();
                            let n: u32 = text(&parts[0]).split('.').next().unwrap().parse().unwrap();
                            let want: Vec<Vec<u8>> = message(n).collect();
                            let have: Vec<Vec<u8>> = parts.iter().map(|m| m.to_vec()).collect();
                            assert_eq!(have, want, "a whole message");
                            got.push(n);
                            // A slow reader, now and then.
                            if rng.next() % 8 == 0 {
                                tokio::time::sleep(Duration::from_micros(rng.next() % 300)).await;
                            }
                        }
                        sent = &mut done_rx => {
                            let sent = sent.unwrap();
                            // Everything accepted is on its way: take the rest.
                            while got.len() < sent.len() {
                                let parts = pull.recv_multipart().await.unwrap();
                                got.push(text(&parts[0]).split('.').next().unwrap().parse().unwrap());
                            }
                            return (got, sent, pull);
                        }
                    }
                }
            });
            let mut sent = Vec::new();
            let mut dropped = 0u32;
            let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
            for n in 0..MESSAGES {
                // Every other message is polled once and dropped if it
                // cannot go at once; the others race a short timer.
                let done = if n % 2 == 0 {
                    push.send_multipart(message(n)).now_or_never().is_some()
                } else {
                    let wait = Duration::from_micros(rng.next() % 200);
                    tokio::select! {
                        r = push.send_multipart(message(n)) => { r.unwrap(); true }
                        _ = tokio::time::sleep(wait) => false,
                    }
                };
                if done {
                    sent.push(n);
                } else {
                    dropped += 1;
                }
            }
            push.flush().await.unwrap();
            done_tx.send(sent).unwrap();
            let (got, sent, mut pull) = receiver.await.unwrap();
            assert_eq!(got, sent, "{t:?}: exactly the completed sends, in order");
            assert!(dropped > 0, "{t:?}: no send was ever dropped");
            assert!(!sent.is_empty());
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(
                pull.recv().now_or_never().is_none(),
                "{t:?}: nothing of a dropped send"
            );
            drop(push);
        });
    }
}

/// The `Sink` holds the message of a dropped `SinkExt::send`: it goes, whole,
/// at the next `flush` (or `poll_ready`), never twice and never cut.
#[test]
fn sink_keeps_the_message_of_a_dropped_send() {
    let rt = current_thread();
    run(&rt, "sink", async {
        let ctx = Context::new();
        let (mut pull, mut push) = async_pair(
            &ctx,
            Transport::Inproc,
            SocketType::Pull,
            SocketType::Push,
            Some(1),
        );
        let mut accepted = 0u32;
        // Fill the pipes: the first send that cannot complete is dropped
        // with its message held by the sink.
        loop {
            let parts = [format!("{accepted}"), "a".into(), "b".into()];
            match SinkExt::send(&mut push, parts).now_or_never() {
                Some(r) => {
                    r.unwrap();
                    accepted += 1;
                }
                None => break,
            }
            assert!(accepted < 10_000, "never at the mark");
        }
        // The held message goes once there is room.
        let flush = tokio::spawn(async move {
            push.flush().await.unwrap();
            push
        });
        for n in 0..=accepted {
            let parts = texts(&pull.recv_multipart().await.unwrap());
            assert_eq!(parts, [format!("{n}"), "a".into(), "b".into()]);
        }
        let _push = flush.await.unwrap();
        assert!(pull.recv().now_or_never().is_none(), "sent once");
    });
}

/// A DEALER split into a `Sink` half and a `Stream` half in two tasks, each
/// blocked at times (small HWMs) while the other is too, against a ROUTER
/// echoing through `Stream::forward` into its own `Sink`: a lost wake-up in
/// either direction hangs the test.
#[test]
fn stream_and_sink_split_across_tasks() {
    for rt in [multi_thread(), current_thread()] {
        for t in ALL {
            run(&rt, &format!("{t:?}"), async {
                const N: u32 = 5_000;
                let ctx = Context::new();
                let (mut router, dealer) =
                    async_pair(&ctx, t, SocketType::Router, SocketType::Dealer, Some(4));
                // Wait for room instead of dropping replies to a full peer.
                router.get_mut().set_router_mandatory(true);
                let (router_tx, router_rx) = StreamExt::split::<Vec<Msg>>(router);
                let echo = tokio::spawn(router_rx.forward(router_tx));
                let (mut tx, mut rx) = StreamExt::split::<[Vec<u8>; 2]>(dealer);
                let sender = tokio::spawn(async move {
                    for i in 0..N {
                        tx.send([i.to_be_bytes().to_vec(), b"ping".to_vec()])
                            .await
                            .unwrap();
                    }
                    tx
                });
                let receiver = tokio::spawn(async move {
                    for i in 0..N {
                        let parts = rx.next().await.unwrap().unwrap();
                        assert_eq!(parts.len(), 2);
                        assert_eq!(parts[0][..], i.to_be_bytes(), "echoed in order");
                        assert_eq!(&parts[1][..], b"ping");
                    }
                    rx
                });
                let tx = sender.await.unwrap();
                let rx = receiver.await.unwrap();
                drop(tx.reunite(rx).unwrap());
                // The echo ends when its stream does: shut the context down.
                ctx.shutdown();
                echo.await.unwrap().unwrap();
            });
        }
    }
}

/// A receive waiting when the context shuts down returns `Terminated`; the
/// `Stream` ends.
#[test]
fn shutdown_wakes_a_waiting_receive_and_ends_the_stream() {
    let rt = multi_thread();
    run(&rt, "shutdown", async {
        let ctx = Context::new();
        let (mut a, mut b) = async_pair(
            &ctx,
            Transport::Tcp,
            SocketType::Pair,
            SocketType::Pair,
            None,
        );
        let waiting = tokio::spawn(async move {
            let e = a.recv().await.unwrap_err();
            (e.kind(), a)
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        ctx.shutdown();
        let (kind, _a) = waiting.await.unwrap();
        assert_eq!(kind, ErrorKind::Terminated);
        assert!(b.next().await.is_none());
    });
}

/// Many tasks, each with its own DEALER, against one ROUTER task that
/// echoes every request: every client gets exactly its own replies, in
/// order, while receives are cancelled at random by timers. On both
/// runtime flavours, over TCP and IPC.
#[test]
fn many_tasks_stress() {
    const CLIENTS: usize = 32;
    const ROUNDS: u32 = 200;
    for (flavour, rt) in [("multi", multi_thread()), ("current", current_thread())] {
        for t in [Transport::Tcp, Transport::Ipc, Transport::Inproc] {
            run(&rt, &format!("{flavour} {t:?}"), async {
                let ctx = Context::new();
                let mut router = socket(&ctx, SocketType::Router);
                let ep = bind(&mut router, t);
                let mut router = AsyncSocket::new(router).unwrap();
                let server = tokio::spawn(async move {
                    let mut served: HashMap<Vec<u8>, u32> = HashMap::new();
                    for _ in 0..CLIENTS as u32 * ROUNDS {
                        let msg = router.recv_multipart().await.unwrap();
                        assert_eq!(msg.len(), 2, "id and body");
                        *served.entry(msg[0].to_vec()).or_default() += 1;
                        router.send_multipart(msg).await.unwrap();
                    }
                    (served, router)
                });
                let mut clients = Vec::new();
                for c in 0..CLIENTS {
                    let mut dealer = socket(&ctx, SocketType::Dealer);
                    dealer.connect(&ep).unwrap();
                    let mut dealer = AsyncSocket::new(dealer).unwrap();
                    clients.push(tokio::spawn(async move {
                        let mut rng = XorShift(0x1234_5678 + c as u64);
                        let mut cancelled = 0u32;
                        for r in 0..ROUNDS {
                            let body = format!("{c}/{r}");
                            dealer.send(body.as_bytes()).await.unwrap();
                            // Dropped while waiting (the reply cannot be
                            // there yet, or it is taken and returned here).
                            if let Some(m) = dealer.recv().now_or_never() {
                                assert_eq!(text(&m.unwrap()), body);
                                continue;
                            }
                            cancelled += 1;
                            let reply = loop {
                                let wait = Duration::from_micros(rng.next() % 500);
                                tokio::select! {
                                    m = dealer.recv() => break m.unwrap(),
                                    _ = tokio::time::sleep(wait) => cancelled += 1,
                                }
                            };
                            assert_eq!(text(&reply), body, "client {c}: its own reply, in order");
                        }
                        (cancelled, dealer)
                    }));
                }
                let mut all_cancelled = 0;
                let mut dealers = Vec::new();
                for client in clients {
                    let (cancelled, dealer) = client.await.unwrap();
                    all_cancelled += cancelled;
                    dealers.push(dealer);
                }
                let (served, _router) = server.await.unwrap();
                assert_eq!(served.len(), CLIENTS, "every client served");
                assert!(served.values().all(|&n| n == ROUNDS));
                assert!(all_cancelled > 0, "no receive was cancelled");
            });
        }
    }
}

/// A message of more frames than tokio's per-task budget (128) still goes
/// in one poll: the budget is asked once per message, never between its
/// frames, so a dropped send cannot have sent part of one.
#[test]
fn a_message_of_many_frames_goes_in_one_poll() {
    let rt = current_thread();
    run(&rt, "many frames", async {
        let ctx = Context::new();
        let (mut pull, mut push) = async_pair(
            &ctx,
            Transport::Inproc,
            SocketType::Pull,
            SocketType::Push,
            None,
        );
        for round in 0..20 {
            let parts: Vec<String> = (0..300).map(|p| format!("{round}.{p}")).collect();
            let sent = push.send_multipart(parts.iter().map(String::as_bytes));
            assert!(sent.now_or_never().is_some(), "round {round}: in one poll");
            assert_eq!(texts(&pull.recv_multipart().await.unwrap()), parts);
        }
    });
}

/// A ROUTER with ROUTER_MANDATORY, one peer full and another with room:
/// `events` says writable but a send to the full peer would block. The
/// send must neither spin (on a current-thread runtime, nothing else would
/// run: the full peer's reader below could never drain it) nor lose its
/// wake-up, and a send to the other peer must still go.
#[test]
fn router_mandatory_send_to_a_full_peer_waits_without_spinning() {
    let rt = current_thread();
    run(&rt, "router mandatory", async {
        let ctx = Context::new();
        let mut router = socket(&ctx, SocketType::Router);
        router.set_router_mandatory(true);
        router.set_sndhwm(1);
        let ep = bind(&mut router, Transport::Inproc);
        let mut dealers = Vec::new();
        for id in [b"a", b"b"] {
            let mut d = socket(&ctx, SocketType::Dealer);
            d.set_routing_id(id).unwrap();
            d.set_rcvhwm(1);
            d.connect(&ep).unwrap();
            dealers.push(d);
        }
        wait_peers(&mut router, 2);
        let mut router = AsyncSocket::new(router).unwrap();
        let mut b = AsyncSocket::new(dealers.pop().unwrap()).unwrap();
        let mut a = AsyncSocket::new(dealers.pop().unwrap()).unwrap();
        // Fill the pipe to `a`.
        let mut to_a = 0u32;
        while router
            .send_multipart([&b"a"[..], &to_a.to_be_bytes()])
            .now_or_never()
            .is_some()
        {
            to_a += 1;
            assert!(to_a < 10_000, "never full");
        }
        assert!(router.get_mut().events().unwrap().writable, "b has room");
        // `a` starts reading only after the blocked send has been polled a
        // number of times: the send must yield for this task to run.
        let reader = tokio::spawn(async move {
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            let mut got = Vec::new();
            for _ in 0..=to_a {
                let m = a.recv().await.unwrap();
                got.push(u32::from_be_bytes(m[..].try_into().unwrap()));
            }
            got
        });
        router
            .send_multipart([&b"a"[..], &to_a.to_be_bytes()])
            .await
            .unwrap();
        assert_eq!(reader.await.unwrap(), (0..=to_a).collect::<Vec<_>>());
        router.send_multipart(["b", "for b"]).await.unwrap();
        assert_eq!(&b.recv().await.unwrap()[..], b"for b");
    });
}
