//! PLAIN (RFC 24) between our sockets: the authenticator callback decides,
//! rejected clients get nothing through, mismatched mechanisms fail the
//! handshake.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::sock::*;
use zlink_mq::monitor::EventKind;
use zlink_mq::{Context, Flags, Socket, SocketType};

fn plain_server(ctx: &Context, t: Transport, calls: Arc<AtomicUsize>) -> (Socket, String) {
    let mut server = socket(ctx, SocketType::Pull);
    server.set_plain_server(Some(move |user: &[u8], pass: &[u8]| {
        calls.fetch_add(1, Ordering::Relaxed);
        user == b"admin" && pass == b"secret"
    }));
    let ep = bind(&mut server, t);
    (server, ep)
}

#[test]
fn accepted_credentials_pass() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = Context::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let (mut server, ep) = plain_server(&ctx, t, calls.clone());
        let mut client = socket(&ctx, SocketType::Push);
        client.set_plain_client(b"admin", b"secret").unwrap();
        client.connect(&ep).unwrap();
        send_strs(&mut client, &["authenticated", "multipart"]);
        assert_eq!(
            recv_strs(&mut server),
            ["authenticated", "multipart"],
            "{t:?}"
        );
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }
}

#[test]
fn rejected_credentials_get_nothing_through() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = Context::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let (mut server, ep) = plain_server(&ctx, t, calls.clone());
        let mut client = socket(&ctx, SocketType::Push);
        client.set_plain_client(b"admin", b"guess").unwrap();
        let events = client.monitor_channel(EventKind::HandshakeFailedAuth.code());
        client.connect(&ep).unwrap();
        client.send("intrusion", Flags::NONE).unwrap();
        let e = events.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(
            (e.kind, e.value),
            (EventKind::HandshakeFailedAuth, 400),
            "{t:?}"
        );
        assert!(calls.load(Ordering::Relaxed) >= 1);
        assert_nothing_for(&mut server, Duration::from_millis(30));

        // A good client on the same server is not disturbed.
        let mut good = socket(&ctx, SocketType::Push);
        good.set_plain_client(b"admin", b"secret").unwrap();
        good.connect(&ep).unwrap();
        good.send("welcome", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut server), "welcome", "{t:?}");
    }
}

#[test]
fn a_server_without_authenticator_accepts_every_plain_client() {
    let ctx = Context::new();
    let mut server = socket(&ctx, SocketType::Pull);
    server.set_plain_server(None::<fn(&[u8], &[u8]) -> bool>);
    let ep = bind(&mut server, Transport::Tcp);
    let mut client = socket(&ctx, SocketType::Push);
    client.set_plain_client(b"anyone", b"").unwrap();
    client.connect(&ep).unwrap();
    client.send("hello", Flags::NONE).unwrap();
    assert_eq!(recv_str(&mut server), "hello");
}

#[test]
fn mismatched_mechanisms_fail_the_handshake() {
    let ctx = Context::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let (mut server, ep) = plain_server(&ctx, Transport::Tcp, calls.clone());
    let mut null_client = socket(&ctx, SocketType::Push);
    let events = null_client.monitor_channel(
        EventKind::HandshakeFailedProtocol.code() | EventKind::HandshakeSucceeded.code(),
    );
    null_client.connect(&ep).unwrap();
    null_client.send("no credentials", Flags::NONE).unwrap();
    let e = events.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(e.kind, EventKind::HandshakeFailedProtocol, "{e:?}");
    assert_nothing_for(&mut server, Duration::from_millis(30));
    assert_eq!(calls.load(Ordering::Relaxed), 0);
}

#[test]
fn a_panicking_authenticator_refuses_instead_of_killing_the_io_thread() {
    let ctx = Context::new();
    let mut server = socket(&ctx, SocketType::Pull);
    server.set_plain_server(Some(|user: &[u8], _: &[u8]| {
        assert_ne!(user, b"evil", "the application's own bug");
        true
    }));
    let ep = bind(&mut server, Transport::Tcp);
    // Another connection on the same I/O thread, up before the panic.
    let mut other = socket(&ctx, SocketType::Push);
    other.set_plain_client(b"good", b"").unwrap();
    other.connect(&ep).unwrap();
    other.send("before", Flags::NONE).unwrap();
    assert_eq!(recv_str(&mut server), "before");

    let mut evil = socket(&ctx, SocketType::Push);
    evil.set_plain_client(b"evil", b"").unwrap();
    let events = evil.monitor_channel(EventKind::HandshakeFailedAuth.code());
    evil.connect(&ep).unwrap();
    assert_eq!(
        events.recv_timeout(TIMEOUT).unwrap().kind,
        EventKind::HandshakeFailedAuth
    );
    other.send("after", Flags::NONE).unwrap();
    assert_eq!(recv_str(&mut server), "after");
}
