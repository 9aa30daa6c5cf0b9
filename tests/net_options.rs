//! What acts on the OS sockets under a socket's connections, as libzmq
//! 4.3: source addresses (`tcp://source;host:port`).

mod common;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use common::sock::*;
use zlink_mq::{Context, ErrorKind, Flags, SocketType};

/// A TCP port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Accepts one connection on a plain listener and returns the peer's
/// address (the connecting socket's local address).
fn accepted_peer(listener: &TcpListener) -> SocketAddr {
    listener.set_nonblocking(true).unwrap();
    let mut peer = None;
    wait_until("a connection", || {
        peer = listener.accept().ok().map(|(_, a)| a);
        peer.is_some()
    });
    peer.unwrap()
}

fn bounce(server: &mut zlink_mq::Socket, client: &mut zlink_mq::Socket) {
    client.send("ping", Flags::NONE).unwrap();
    assert_eq!(recv_str(server), "ping");
    server.send("pong", Flags::NONE).unwrap();
    assert_eq!(recv_str(client), "pong");
}

#[test]
fn a_connect_with_a_source_leaves_from_that_address_and_port() {
    let ctx = Context::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let dest = listener.local_addr().unwrap();
    let port = free_port();
    let mut s = socket(&ctx, SocketType::Dealer);
    s.connect(&format!("tcp://127.0.0.1:{port};{dest}"))
        .unwrap();
    assert_eq!(
        accepted_peer(&listener),
        SocketAddr::from(([127, 0, 0, 1], port))
    );

    // An interface name and a wildcard port: the interface's address.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let dest = listener.local_addr().unwrap();
    let mut s = socket(&ctx, SocketType::Dealer);
    s.connect(&format!("tcp://lo:*;{dest}")).unwrap();
    assert_eq!(accepted_peer(&listener).ip().to_string(), "127.0.0.1");
}

#[test]
fn two_sockets_share_one_source_port_towards_different_peers() {
    // libzmq's test_reqrep_tcp `test_multi_connect_same_port`.
    let ctx = Context::new();
    let (mut rep0, mut rep1) = (socket(&ctx, SocketType::Rep), socket(&ctx, SocketType::Rep));
    let ep0 = bind(&mut rep0, Transport::Tcp);
    let ep1 = bind(&mut rep1, Transport::Tcp);
    let (pa, pb) = (free_port(), free_port());
    let addr = |port: u16, ep: &str| format!("tcp://127.0.0.1:{port};{}", &ep[6..]);
    let mut req0 = socket(&ctx, SocketType::Req);
    req0.connect(&addr(pa, &ep0)).unwrap();
    req0.connect(&addr(pb, &ep1)).unwrap();
    let mut req1 = socket(&ctx, SocketType::Req);
    req1.connect(&addr(pb, &ep0)).unwrap();
    req1.connect(&addr(pa, &ep1)).unwrap();
    wait_peers(&mut rep0, 2);
    wait_peers(&mut rep1, 2);
    for _ in 0..2 {
        bounce(&mut rep0, &mut req0);
        bounce(&mut rep1, &mut req0);
        bounce(&mut rep0, &mut req1);
        bounce(&mut rep1, &mut req1);
    }
    // The endpoint, source included, names the connection.
    req1.disconnect(&addr(pb, &ep0)).unwrap();
    assert_eq!(
        req1.disconnect(&addr(pb, &ep0)).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn a_source_that_cannot_be_bound_is_retried_not_refused() {
    // As libzmq: the source is resolved at each connection attempt, so
    // connect succeeds and the session keeps retrying.
    let ctx = Context::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let dest = listener.local_addr().unwrap();
    let mut s = socket(&ctx, SocketType::Dealer);
    s.connect(&format!("tcp://no-such-nic0:0;{dest}")).unwrap();
    s.connect(&format!("tcp://localhost:5555;{dest}")).unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(listener.accept().is_err(), "no connection was made");
}

#[test]
fn a_source_is_refused_where_it_means_nothing() {
    let ctx = Context::new();
    let mut s = socket(&ctx, SocketType::Rep);
    for bad in [
        "tcp://127.0.0.1:5556;127.0.0.1:*",
        "tcp://127.0.0.1;127.0.0.1:5555",
        "tcp://127.0.0.1:x;127.0.0.1:5555",
    ] {
        assert_eq!(
            s.connect(bad).unwrap_err().kind(),
            ErrorKind::InvalidEndpoint,
            "{bad}"
        );
    }
    assert_eq!(
        s.bind("tcp://127.0.0.1:5556;127.0.0.1:*")
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidEndpoint
    );
}
