//! STREAM sockets end to end: raw TCP and IPC peers (plain
//! `std::net::TcpStream` / `UnixStream`), after libzmq's `test_stream*`
//! and `test_connect_rid`.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::sock::*;
use zlink_mq::{Context, ErrorKind, Flags, Msg, Socket, SocketType};

/// The port of a `tcp://host:port` endpoint.
fn tcp_addr(endpoint: &str) -> String {
    endpoint.strip_prefix("tcp://").unwrap().to_owned()
}

/// Receives one STREAM message: `(routing id, data)`.
fn recv_pair(s: &mut Socket) -> (Vec<u8>, Vec<u8>) {
    let parts = s.recv_multipart(Flags::NONE).unwrap();
    assert_eq!(parts.len(), 2, "a STREAM message has two frames");
    (parts[0].to_vec(), parts[1].to_vec())
}

fn send_pair(s: &mut Socket, id: &[u8], data: &[u8]) {
    s.send_multipart([id, data], Flags::NONE).unwrap();
}

/// A plain client with a read timeout, so a broken test fails.
fn client(endpoint: &str) -> TcpStream {
    let c = TcpStream::connect(tcp_addr(endpoint)).unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    c
}

/// Reads from `c` until `n` bytes have arrived.
fn read_exactly(c: &mut impl Read, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    c.read_exact(&mut buf).unwrap();
    buf
}

#[test]
fn stream_server_answers_an_http_client() {
    let ctx = Context::new();
    let mut server = socket(&ctx, SocketType::Stream);
    let ep = bind(&mut server, Transport::Tcp);
    let mut c = client(&ep);
    // Connect notification: the id, then an empty frame.
    let (id, data) = recv_pair(&mut server);
    assert_eq!(id.len(), 5);
    assert_eq!(id[0], 0, "a generated id starts with a zero byte");
    assert!(data.is_empty());
    let request = b"GET / HTTP/1.0\r\nHost: test\r\n\r\n";
    c.write_all(request).unwrap();
    let mut got = Vec::new();
    while got.len() < request.len() {
        let (from, data) = recv_pair(&mut server);
        assert_eq!(from, id);
        got.extend_from_slice(&data);
    }
    assert_eq!(got, request);
    let response = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nHello, World!";
    send_pair(&mut server, &id, response);
    // An empty data frame closes the connection, after what was sent.
    send_pair(&mut server, &id, b"");
    let mut all = Vec::new();
    c.read_to_end(&mut all).unwrap();
    assert_eq!(all, response);
    // The connection is gone, so is its id.
    wait_until("the closed peer is forgotten", || {
        server
            .send_multipart([&id[..], b"late"], Flags::DONTWAIT)
            .is_err_and(|e| e.kind() == ErrorKind::HostUnreachable)
    });
}

#[test]
fn stream_client_talks_to_a_plain_tcp_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ctx = Context::new();
    let mut s = socket(&ctx, SocketType::Stream);
    s.set_connect_routing_id(b"web").unwrap();
    s.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let (mut peer, _) = listener.accept().unwrap();
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();
    // CONNECT_ROUTING_ID names the connection.
    assert_eq!(recv_pair(&mut s), (b"web".to_vec(), Vec::new()));
    send_pair(&mut s, b"web", b"GET /index.html HTTP/1.0\r\n\r\n");
    assert_eq!(
        read_exactly(&mut peer, 28),
        b"GET /index.html HTTP/1.0\r\n\r\n"
    );
    peer.write_all(b"HTTP/1.0 404 Not Found\r\n\r\n").unwrap();
    let mut got = Vec::new();
    while got.len() < 26 {
        let (id, data) = recv_pair(&mut s);
        assert_eq!(id, b"web");
        got.extend_from_slice(&data);
    }
    assert_eq!(got, b"HTTP/1.0 404 Not Found\r\n\r\n");
    // The server closing is a disconnect notification.
    drop(peer);
    assert_eq!(recv_pair(&mut s), (b"web".to_vec(), Vec::new()));
    wait_until("the closed peer is forgotten", || {
        s.send_multipart([&b"web"[..], b"x"], Flags::DONTWAIT)
            .is_err_and(|e| e.kind() == ErrorKind::HostUnreachable)
    });
}

#[test]
fn stream_to_stream_over_tcp_and_ipc_notifies_both_ends() {
    for t in [Transport::Tcp, Transport::Ipc] {
        let ctx = Context::new();
        let mut server = socket(&ctx, SocketType::Stream);
        let ep = bind(&mut server, t);
        let mut client = socket(&ctx, SocketType::Stream);
        client.connect(&ep).unwrap();
        let (server_side, hello) = recv_pair(&mut server);
        assert!(hello.is_empty());
        let (client_side, hello) = recv_pair(&mut client);
        assert!(hello.is_empty());
        // libzmq's tests read the id of the last connection here.
        assert_eq!(client.routing_id(), Some(&client_side[..]));
        send_pair(&mut client, &client_side, b"ping");
        assert_eq!(
            recv_pair(&mut server),
            (server_side.clone(), b"ping".to_vec())
        );
        send_pair(&mut server, &server_side, b"pong");
        assert_eq!(
            recv_pair(&mut client),
            (client_side.clone(), b"pong".to_vec())
        );
        // The client closes: the server hears of it.
        send_pair(&mut client, &client_side, b"");
        assert_eq!(recv_pair(&mut server), (server_side, Vec::new()));
        assert_nothing_for(&mut client, Duration::from_millis(100));
    }
}

#[test]
fn stream_notify_off_delivers_data_only() {
    let ctx = Context::new();
    let mut server = socket(&ctx, SocketType::Stream);
    server.set_stream_notify(false);
    assert!(!server.stream_notify());
    let ep = bind(&mut server, Transport::Tcp);
    let mut c = client(&ep);
    c.write_all(b"first").unwrap();
    let (id, data) = recv_pair(&mut server);
    assert_eq!(data, b"first");
    drop(c);
    // No disconnect notification; the id goes away all the same.
    assert_nothing_for(&mut server, Duration::from_millis(200));
    wait_until("the peer is forgotten", || {
        server
            .send_multipart([&id[..], b"x"], Flags::DONTWAIT)
            .is_err_and(|e| e.kind() == ErrorKind::HostUnreachable)
    });
}

#[test]
fn stream_serves_many_connections_each_by_its_id() {
    const N: usize = 20;
    let ctx = Context::new();
    let mut server = socket(&ctx, SocketType::Stream);
    let ep = bind(&mut server, Transport::Tcp);
    let mut clients: Vec<TcpStream> = (0..N).map(|_| client(&ep)).collect();
    let mut ids = std::collections::HashSet::new();
    for _ in 0..N {
        let (id, data) = recv_pair(&mut server);
        assert!(data.is_empty());
        assert!(ids.insert(id), "ids are unique");
    }
    for (i, c) in clients.iter_mut().enumerate() {
        c.write_all(format!("client {i:02}").as_bytes()).unwrap();
    }
    // Each answer goes back on the connection it came from.
    let mut answered = 0;
    while answered < N {
        let (id, data) = recv_pair(&mut server);
        assert_eq!(data.len(), 9, "{:?}", String::from_utf8_lossy(&data));
        let mut reply = b"echo ".to_vec();
        reply.extend_from_slice(&data);
        send_pair(&mut server, &id, &reply);
        answered += 1;
    }
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(
            read_exactly(c, 14),
            format!("echo client {i:02}").into_bytes()
        );
    }
    drop(clients);
    for _ in 0..N {
        let (id, data) = recv_pair(&mut server);
        assert!(data.is_empty());
        assert!(ids.remove(&id), "a disconnect for each connection");
    }
}

#[test]
fn stream_large_payload_arrives_in_chunks_and_goes_out_whole() {
    const LEN: usize = 3 * 1024 * 1024 + 17;
    let payload: Vec<u8> = (0..LEN).map(|i| (i * 7 % 251) as u8).collect();
    let ctx = Context::new();
    let mut server = socket(&ctx, SocketType::Stream);
    let ep = bind(&mut server, Transport::Tcp);
    let mut c = client(&ep);
    let (id, _) = recv_pair(&mut server);
    let sent = payload.clone();
    let mut writer = c.try_clone().unwrap();
    let t = std::thread::spawn(move || writer.write_all(&sent).unwrap());
    let mut got = Vec::with_capacity(LEN);
    let mut chunks = 0;
    while got.len() < LEN {
        let (from, data) = recv_pair(&mut server);
        assert_eq!(from, id);
        assert!(!data.is_empty());
        got.extend_from_slice(&data);
        chunks += 1;
    }
    t.join().unwrap();
    assert_eq!(got, payload);
    assert!(chunks > 1, "raw input is delivered as it is read");
    // And back, as one message written raw.
    server
        .send_multipart(
            [Msg::from(id.clone()), Msg::from(payload.clone())],
            Flags::NONE,
        )
        .unwrap();
    assert_eq!(read_exactly(&mut c, LEN), payload);
}

#[test]
fn stream_refuses_unknown_ids_and_inproc() {
    let ctx = Context::new();
    let mut s = socket(&ctx, SocketType::Stream);
    let e = s
        .send_multipart([&b"\0nope"[..], b"data"], Flags::NONE)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::HostUnreachable);
    // A refused id leaves the socket ready for the next message.
    let e = s
        .send_multipart([&b"\0nope"[..], b"data"], Flags::NONE)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::HostUnreachable);
    assert_eq!(
        s.bind("inproc://stream").unwrap_err().kind(),
        ErrorKind::TransportNotSupported
    );
    assert_eq!(
        s.connect("inproc://stream").unwrap_err().kind(),
        ErrorKind::TransportNotSupported
    );
}

#[test]
fn stream_connect_queues_for_its_routing_id_before_the_connection_is_up() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ctx = Context::new();
    let mut s = socket(&ctx, SocketType::Stream);
    s.set_stream_notify(false);
    s.set_connect_routing_id(b"conn1").unwrap();
    s.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    // The peer exists from `connect` on, as in libzmq (test_connect_rid).
    send_pair(&mut s, b"conn1", b"hi 1");
    let (mut peer, _) = listener.accept().unwrap();
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();
    assert_eq!(read_exactly(&mut peer, 4), b"hi 1");
    // A generated id names the next connection, and ROUTING_ID reports it.
    s.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let generated = s.routing_id().unwrap().to_vec();
    assert_eq!(generated.len(), 5);
    send_pair(&mut s, &generated, b"second");
    let (mut peer2, _) = listener.accept().unwrap();
    peer2.set_read_timeout(Some(TIMEOUT)).unwrap();
    assert_eq!(read_exactly(&mut peer2, 6), b"second");
}

#[test]
fn stream_interoperates_with_libzmqs_stream_both_ways() {
    let ctx = Context::new();
    let zctx = zmq::Context::new();
    // libzmq's STREAM connects to ours.
    let mut ours = socket(&ctx, SocketType::Stream);
    let ep = bind(&mut ours, Transport::Tcp);
    let theirs = zctx.socket(zmq::STREAM).unwrap();
    theirs.set_rcvtimeo(TIMEOUT.as_millis() as i32).unwrap();
    theirs.set_linger(0).unwrap();
    theirs.connect(&ep).unwrap();
    let (our_id, hello) = recv_pair(&mut ours);
    assert!(hello.is_empty());
    let parts = theirs.recv_multipart(0).unwrap();
    assert_eq!(parts.len(), 2);
    assert!(parts[1].is_empty(), "libzmq's connect notification");
    let their_id = parts[0].clone();
    theirs
        .send_multipart([&their_id[..], b"from libzmq"], 0)
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 11 {
        let (id, data) = recv_pair(&mut ours);
        assert_eq!(id, our_id);
        got.extend_from_slice(&data);
    }
    assert_eq!(got, b"from libzmq");
    send_pair(&mut ours, &our_id, b"from zlink-mq");
    let mut got = Vec::new();
    while got.len() < 13 {
        let parts = theirs.recv_multipart(0).unwrap();
        assert_eq!(parts[0], their_id);
        got.extend_from_slice(&parts[1]);
    }
    assert_eq!(got, b"from zlink-mq");
    // We close: libzmq hears of it.
    send_pair(&mut ours, &our_id, b"");
    let parts = theirs.recv_multipart(0).unwrap();
    assert_eq!(parts, [their_id, Vec::new()]);

    // Ours connects to libzmq's.
    let server = zctx.socket(zmq::STREAM).unwrap();
    server.set_rcvtimeo(TIMEOUT.as_millis() as i32).unwrap();
    server.set_linger(0).unwrap();
    server.bind("tcp://127.0.0.1:*").unwrap();
    let zep = server.get_last_endpoint().unwrap().unwrap();
    let mut client = socket(&ctx, SocketType::Stream);
    client.set_connect_routing_id(b"srv").unwrap();
    client.connect(&zep).unwrap();
    assert_eq!(recv_pair(&mut client), (b"srv".to_vec(), Vec::new()));
    let parts = server.recv_multipart(0).unwrap();
    assert!(parts[1].is_empty());
    let server_side = parts[0].clone();
    send_pair(&mut client, b"srv", b"ping");
    let parts = server.recv_multipart(0).unwrap();
    assert_eq!(parts, [server_side.clone(), b"ping".to_vec()]);
    // libzmq closes: we hear of it (libzmq's socket closes the connection
    // as it handles its commands, so it is called while we wait).
    server.send_multipart([&server_side[..], b""], 0).unwrap();
    let mut got = None;
    wait_until("the disconnect notification", || {
        let _ = server.get_events();
        got = client.recv_multipart(Flags::DONTWAIT).ok();
        got.is_some()
    });
    let got: Vec<Vec<u8>> = got.unwrap().iter().map(|m| m.to_vec()).collect();
    assert_eq!(got, [b"srv".to_vec(), Vec::new()]);
}
