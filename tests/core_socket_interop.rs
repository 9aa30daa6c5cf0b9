//! The core (no_std) socket over `std::net::TcpStream` against real
//! libzmq 4.3.4 (the `zmq` crate): as REQ to a REP, as SUB to a PUB, and
//! as PUB to a SUB.

mod core_socket_common;

use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant as StdInstant};

use core_socket_common::{Poll, Tcp, connected, recv_msg, wall_clock};
use zlink_mq::core::routing::{PeerId, Pub, Req, Sub};
use zlink_mq::core::socket::{Options, Socket};
use zlink_mq::core::storage::Fixed;
use zlink_mq::core::zmtp::heartbeat::Heartbeat;
use zlink_mq::core::zmtp::null::Null;

const BUF: usize = 512;
const DEADLINE: Duration = Duration::from_secs(10);

/// A libzmq socket bound to an ephemeral TCP port, and the port's address.
fn libzmq_bound(ctx: &zmq::Context, kind: zmq::SocketType) -> (zmq::Socket, String) {
    let s = ctx.socket(kind).unwrap();
    s.set_linger(0).unwrap();
    s.set_rcvtimeo(DEADLINE.as_millis() as i32).unwrap();
    s.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = s.get_last_endpoint().unwrap().unwrap();
    let addr = endpoint.trim_start_matches("tcp://").to_string();
    (s, addr)
}

/// Polls `socket` on the wall clock until `done` holds, at most
/// [`DEADLINE`].
#[track_caller]
fn until<S: Poll + std::fmt::Debug>(socket: &mut S, mut done: impl FnMut(&mut S) -> bool) {
    let start = StdInstant::now();
    while !done(socket) {
        assert!(start.elapsed() < DEADLINE, "timed out: {socket:?}");
        socket.poll(wall_clock());
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn our_req_to_a_libzmq_rep() {
    let ctx = zmq::Context::new();
    let (rep, addr) = libzmq_bound(&ctx, zmq::REP);
    let server = thread::spawn(move || {
        for _ in 0..3 {
            let request = rep.recv_multipart(0).unwrap();
            let mut reply = b"echo: ".to_vec();
            reply.extend_from_slice(&request.concat());
            rep.send_multipart([reply, b"done".to_vec()], 0).unwrap();
        }
        // Closed (with linger 0) only once the last reply has been read.
        rep
    });

    let options = Options {
        // libzmq answers PINGs: heartbeats pass through the exchange.
        heartbeat: Heartbeat {
            ivl: Some(Duration::from_millis(20)),
            timeout: Some(Duration::from_secs(2)),
            ttl: None,
        },
        ..Options::new()
    };
    let mut req: Socket<Req<Fixed<1, 1, 16>, PeerId>, Tcp, Null, 1, BUF> =
        Socket::new(Req::new(1), options);
    let stream = Tcp::new(TcpStream::connect(&addr).unwrap());
    req.attach(stream, Null::new(false), wall_clock()).unwrap();
    until(&mut req, |req| req.connected_peers() == 1);
    assert_eq!(connected(&mut req).len(), 1);

    for i in 0..3 {
        let part = format!("#{i}");
        req.send(&[b"request ", part.as_bytes()]).unwrap();
        let mut reply = None;
        until(&mut req, |req| {
            reply = recv_msg(req);
            reply.is_some()
        });
        let expected = format!("echo: request #{i}");
        assert_eq!(
            reply.unwrap(),
            [expected.as_bytes().to_vec(), b"done".to_vec()]
        );
        // Long enough for a few heartbeats between requests.
        let pause = StdInstant::now();
        until(&mut req, |_| pause.elapsed() > Duration::from_millis(60));
        assert_eq!(req.connected_peers(), 1);
    }
    drop(server.join().unwrap());
}

#[test]
fn our_sub_to_a_libzmq_pub() {
    let ctx = zmq::Context::new();
    let (publisher, addr) = libzmq_bound(&ctx, zmq::PUB);
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    // PUB drops until the subscription arrives: publish until told to stop.
    let server = thread::spawn(move || {
        let mut n = 0u32;
        while !stopping.load(Ordering::Relaxed) {
            let seq = n.to_string();
            publisher
                .send_multipart([b"B-noise".as_slice(), seq.as_bytes()], 0)
                .unwrap();
            publisher
                .send_multipart([b"A-reading".as_slice(), seq.as_bytes()], 0)
                .unwrap();
            n += 1;
            thread::sleep(Duration::from_millis(2));
        }
    });

    let mut sub: Socket<Sub<Fixed<1, 2, 16>, PeerId, _>, Tcp, Null, 1, BUF> =
        Socket::new(Sub::new(), Options::new());
    sub.subscribe(b"A").unwrap();
    let stream = Tcp::new(TcpStream::connect(&addr).unwrap());
    sub.attach(stream, Null::new(false), wall_clock()).unwrap();
    let mut got = Vec::new();
    until(&mut sub, |sub| {
        while let Some(m) = recv_msg(sub) {
            got.push(m);
        }
        got.len() >= 20
    });
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();

    // Only the subscribed topic, whole, in publication order.
    let mut last = None;
    for m in &got {
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], b"A-reading");
        let seq: u32 = std::str::from_utf8(&m[1]).unwrap().parse().unwrap();
        assert!(last.is_none_or(|l| seq > l), "{seq} after {last:?}");
        last = Some(seq);
    }
}

#[test]
fn our_pub_to_a_libzmq_sub() {
    let ctx = zmq::Context::new();
    let (sub, addr) = libzmq_bound(&ctx, zmq::SUB);
    sub.set_subscribe(b"temp").unwrap();

    let mut publisher: Socket<Pub<Fixed<1, 2, 16>, PeerId>, Tcp, Null, 1, BUF> =
        Socket::new(Pub::new(), Options::new());
    let stream = Tcp::new(TcpStream::connect(&addr).unwrap());
    publisher
        .attach(stream, Null::new(false), wall_clock())
        .unwrap();
    // The subscription arrives after the handshake.
    until(&mut publisher, |p| {
        // libzmq attaches the new connection to its socket, and so sends
        // the subscription, only inside a call on that socket.
        sub.get_events().unwrap();
        p.routing().topic_count() == 1
    });
    publisher.send(&[b"pressure", b"1013"]).unwrap();
    publisher.send(&[b"temp", b"21.5"]).unwrap();
    publisher.poll(wall_clock());
    let got = sub.recv_multipart(0).unwrap();
    assert_eq!(got, [b"temp".to_vec(), b"21.5".to_vec()]);
    sub.set_rcvtimeo(100).unwrap();
    assert!(
        sub.recv_multipart(0).is_err(),
        "the other topic was filtered"
    );
}
