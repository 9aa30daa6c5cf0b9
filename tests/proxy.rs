//! `proxy` and `proxy_steerable`, after libzmq's `test_proxy`,
//! `test_proxy_single_socket` and `test_proxy_steerable`.

mod common;

use std::thread;

use common::sock::*;
use zlink_mq::{
    Context, ErrorKind, Flags, SocketType, proxy, proxy_single_socket, proxy_steerable,
};

#[test]
fn router_dealer_broker_serves_many_clients_and_workers() {
    for t in ALL {
        let ctx = Context::new();
        let mut frontend = socket(&ctx, SocketType::Router);
        let front_ep = bind(&mut frontend, t);
        let mut backend = socket(&ctx, SocketType::Dealer);
        let back_ep = bind(&mut backend, t);
        let broker = thread::spawn(move || proxy(&mut frontend, &mut backend, None));

        let workers: Vec<_> = (0..2)
            .map(|w| {
                let mut rep = socket(&ctx, SocketType::Rep);
                rep.connect(&back_ep).unwrap();
                thread::spawn(move || {
                    let mut served = 0;
                    // Serves until the context is shut down.
                    while let Ok(m) = rep.recv(Flags::NONE) {
                        let reply = format!("{}:w{w}", String::from_utf8_lossy(&m));
                        if rep.send(reply.as_str(), Flags::NONE).is_err() {
                            break;
                        }
                        served += 1;
                    }
                    served
                })
            })
            .collect();
        let clients: Vec<_> = (0..3)
            .map(|c| {
                let mut req = socket(&ctx, SocketType::Req);
                req.connect(&front_ep).unwrap();
                thread::spawn(move || {
                    for i in 0..20 {
                        let q = format!("c{c}-{i}");
                        req.send(q.as_str(), Flags::NONE).unwrap();
                        let r = recv_str(&mut req);
                        assert!(r.starts_with(&format!("{q}:w")), "{r}");
                    }
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        ctx.shutdown();
        let err = broker.join().unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Terminated, "{t:?}");
        let served: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
        assert_eq!(served, 60, "{t:?}");
    }
}

#[test]
fn capture_gets_a_copy_of_every_frame() {
    for t in ALL {
        let ctx = Context::new();
        let mut frontend = socket(&ctx, SocketType::Pull);
        let front_ep = bind(&mut frontend, t);
        let mut backend = socket(&ctx, SocketType::Push);
        let back_ep = bind(&mut backend, t);
        let mut capture = socket(&ctx, SocketType::Push);
        let capture_ep = bind(&mut capture, t);
        let mut tap = socket(&ctx, SocketType::Pull);
        tap.connect(&capture_ep).unwrap();
        let forwarder =
            thread::spawn(move || proxy(&mut frontend, &mut backend, Some(&mut capture)));

        let mut source = socket(&ctx, SocketType::Push);
        source.connect(&front_ep).unwrap();
        let mut sink = socket(&ctx, SocketType::Pull);
        sink.connect(&back_ep).unwrap();
        send_strs(&mut source, &["one"]);
        send_strs(&mut source, &["two", "parts"]);
        assert_eq!(recv_strs(&mut sink), ["one"], "{t:?}");
        assert_eq!(recv_strs(&mut sink), ["two", "parts"], "{t:?}");
        assert_eq!(recv_strs(&mut tap), ["one"], "{t:?}");
        assert_eq!(recv_strs(&mut tap), ["two", "parts"], "{t:?}");
        ctx.shutdown();
        assert_eq!(
            forwarder.join().unwrap().unwrap_err().kind(),
            ErrorKind::Terminated
        );
    }
}

#[test]
fn messages_wait_for_a_backend_peer_instead_of_being_dropped() {
    let ctx = Context::new();
    let mut frontend = socket(&ctx, SocketType::Pull);
    let front_ep = bind(&mut frontend, Transport::Tcp);
    let mut backend = socket(&ctx, SocketType::Push);
    let back_ep = bind(&mut backend, Transport::Tcp);
    let forwarder = thread::spawn(move || proxy(&mut frontend, &mut backend, None));
    let mut source = socket(&ctx, SocketType::Push);
    source.connect(&front_ep).unwrap();
    for i in 0..10 {
        source.send(i.to_string().as_str(), Flags::NONE).unwrap();
    }
    // Only now a consumer appears: it gets everything, in order.
    let mut sink = socket(&ctx, SocketType::Pull);
    sink.connect(&back_ep).unwrap();
    for i in 0..10 {
        assert_eq!(recv_str(&mut sink), i.to_string());
    }
    ctx.shutdown();
    assert!(forwarder.join().unwrap().is_err());
}

#[test]
fn xpub_xsub_forwarder_passes_subscriptions_up_and_messages_down() {
    let ctx = Context::new();
    let mut frontend = socket(&ctx, SocketType::XSub);
    let front_ep = bind(&mut frontend, Transport::Inproc);
    let mut backend = socket(&ctx, SocketType::XPub);
    let back_ep = bind(&mut backend, Transport::Inproc);
    let forwarder = thread::spawn(move || proxy(&mut frontend, &mut backend, None));
    let mut publisher = socket(&ctx, SocketType::Pub);
    publisher.connect(&front_ep).unwrap();
    let mut sub = socket(&ctx, SocketType::Sub);
    sub.subscribe(b"news").unwrap();
    sub.connect(&back_ep).unwrap();
    let m = pub_until_received(&mut publisher, &mut sub, b"news: up");
    assert_eq!(&m[..], b"news: up");
    publisher.send("weather", Flags::NONE).unwrap();
    publisher.send("news: end", Flags::NONE).unwrap();
    loop {
        let m = recv_str(&mut sub);
        assert!(m.starts_with("news"), "{m}");
        if m == "news: end" {
            break;
        }
    }
    ctx.shutdown();
    assert!(forwarder.join().unwrap().is_err());
}

#[test]
fn steerable_proxy_pauses_resumes_reports_and_terminates() {
    let ctx = Context::new();
    let mut frontend = socket(&ctx, SocketType::Pull);
    let front_ep = bind(&mut frontend, Transport::Inproc);
    let mut backend = socket(&ctx, SocketType::Push);
    let back_ep = bind(&mut backend, Transport::Inproc);
    let mut control = socket(&ctx, SocketType::Pair);
    let control_ep = bind(&mut control, Transport::Inproc);
    let mut steer = socket(&ctx, SocketType::Pair);
    steer.connect(&control_ep).unwrap();
    let forwarder =
        thread::spawn(move || proxy_steerable(&mut frontend, &mut backend, None, &mut control));
    let mut source = socket(&ctx, SocketType::Push);
    source.connect(&front_ep).unwrap();
    let mut sink = socket(&ctx, SocketType::Pull);
    sink.connect(&back_ep).unwrap();

    source.send("before", Flags::NONE).unwrap();
    assert_eq!(recv_str(&mut sink), "before");
    steer.send("PAUSE", Flags::NONE).unwrap();
    // The proxy handles control before data: once STATISTICS answers, the
    // pause is in effect.
    steer.send("STATISTICS", Flags::NONE).unwrap();
    let stats = steer.recv_multipart(Flags::NONE).unwrap();
    assert_eq!(stats.len(), 8);
    let n = |i: usize| u64::from_ne_bytes(stats[i][..].try_into().unwrap());
    assert_eq!((n(0), n(1)), (1, 6), "frontend received 1 message, 6 bytes");
    assert_eq!((n(6), n(7)), (1, 6), "backend sent the same");
    source.send("during", Flags::NONE).unwrap();
    assert_nothing_for(&mut sink, std::time::Duration::from_millis(30));
    steer.send("RESUME", Flags::NONE).unwrap();
    assert_eq!(recv_str(&mut sink), "during");
    steer.send("TERMINATE", Flags::NONE).unwrap();
    assert!(forwarder.join().unwrap().is_ok(), "TERMINATE returns Ok");
}

/// One socket as both frontend and backend (libzmq's
/// test_proxy_single_socket): a ROUTER that sends every request back out
/// answers its clients with their own requests, captured and steered.
#[test]
fn a_single_socket_proxy_sends_each_message_back_through_itself() {
    let ctx = Context::new();
    let mut server = socket(&ctx, SocketType::Router);
    let ep = bind(&mut server, Transport::Tcp);
    let mut capture = socket(&ctx, SocketType::Pull);
    let cap_ep = bind(&mut capture, Transport::Inproc);
    let mut capture_tx = socket(&ctx, SocketType::Push);
    capture_tx.connect(&cap_ep).unwrap();
    let mut control = socket(&ctx, SocketType::Pair);
    let control_ep = bind(&mut control, Transport::Inproc);
    let mut steer = socket(&ctx, SocketType::Pair);
    steer.connect(&control_ep).unwrap();
    let echo = thread::spawn(move || {
        proxy_single_socket(&mut server, Some(&mut capture_tx), Some(&mut control))
    });
    let mut clients: Vec<_> = (0..3).map(|_| socket(&ctx, SocketType::Req)).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.connect(&ep).unwrap();
        send_strs(c, &[&format!("request {i}")]);
    }
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(recv_strs(c), [format!("request {i}")]);
    }
    // Capture saw every frame: routing id, delimiter, body per request.
    for _ in 0..9 {
        capture.recv(Flags::NONE).unwrap();
    }
    steer.send("STATISTICS", Flags::NONE).unwrap();
    let stats = steer.recv_multipart(Flags::NONE).unwrap();
    let n = |i: usize| u64::from_ne_bytes(stats[i][..].try_into().unwrap());
    assert_eq!(n(0), 3, "the socket's input counts as the frontend's");
    assert_eq!(n(6), 3, "its output as the backend's");
    steer.send("TERMINATE", Flags::NONE).unwrap();
    assert!(echo.join().unwrap().is_ok());
}

/// The same with a REP, which can send only after it has received
/// (libzmq's test_proxy_single_socket uses one).
#[test]
fn a_single_rep_socket_proxy_echoes_each_request() {
    let ctx = Context::new();
    let mut rep = socket(&ctx, SocketType::Rep);
    let ep = bind(&mut rep, Transport::Tcp);
    let mut control = socket(&ctx, SocketType::Pair);
    let control_ep = bind(&mut control, Transport::Inproc);
    let mut steer = socket(&ctx, SocketType::Pair);
    steer.connect(&control_ep).unwrap();
    let echo = thread::spawn(move || proxy_single_socket(&mut rep, None, Some(&mut control)));
    let mut req = socket(&ctx, SocketType::Req);
    req.connect(&ep).unwrap();
    for text in ["msg1", "msg22"] {
        send_strs(&mut req, &[text]);
        assert_eq!(recv_strs(&mut req), [text]);
    }
    steer.send("TERMINATE", Flags::NONE).unwrap();
    assert!(echo.join().unwrap().is_ok());
}
