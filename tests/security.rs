//! PLAIN (RFC 24) and CURVE (RFC 26) between our sockets: the
//! authenticator callback decides, rejected clients get nothing through,
//! mismatched mechanisms and wrong keys fail the handshake. CURVE against
//! libzmq is in tests/curve_interop.rs.

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
        offer_refused(&mut client, "intrusion");
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
    let server_events = server.monitor_channel(
        EventKind::HandshakeFailedProtocol.code() | EventKind::HandshakeSucceeded.code(),
    );
    let mut null_client = socket(&ctx, SocketType::Push);
    let events = null_client.monitor_channel(
        EventKind::HandshakeFailedProtocol.code()
            | EventKind::HandshakeFailedNoDetail.code()
            | EventKind::HandshakeSucceeded.code(),
    );
    null_client.connect(&ep).unwrap();
    offer_refused(&mut null_client, "no credentials");
    // The server reads the client's greeting, so it always sees the
    // mismatch. The client sees it too unless the server's close, with the
    // client's bytes unread, reset the connection before the client read
    // the server's greeting (a reset drops them): then the stream failed.
    let e = server_events.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(e.kind, EventKind::HandshakeFailedProtocol, "{e:?}");
    let e = events.recv_timeout(TIMEOUT).unwrap();
    assert!(
        matches!(
            e.kind,
            EventKind::HandshakeFailedProtocol | EventKind::HandshakeFailedNoDetail
        ),
        "{e:?}"
    );
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

/// The client keys a CURVE server's authenticator was asked about.
type Asked = Arc<std::sync::Mutex<Vec<[u8; 32]>>>;

/// A CURVE server of type `kind` bound on `t`, its public key, and the
/// client keys its authenticator was asked about.
fn curve_server(
    ctx: &Context,
    kind: SocketType,
    t: Transport,
    allow: Option<[u8; 32]>,
) -> (Socket, String, [u8; 40], Asked) {
    let (public, secret) = zlink_mq::curve::keypair().unwrap();
    let mut server = socket(ctx, kind);
    server.set_curve_secretkey(&secret).unwrap();
    server.set_curve_server(true);
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = asked.clone();
    server.set_curve_authenticator(Some(move |key: &[u8; 32]| {
        seen.lock().unwrap().push(*key);
        allow.is_none_or(|a| a == *key)
    }));
    let ep = bind(&mut server, t);
    (server, ep, public, asked)
}

fn curve_client(ctx: &Context, kind: SocketType, server_public: &[u8]) -> (Socket, [u8; 32]) {
    let (public, secret) = zlink_mq::curve::keypair().unwrap();
    let mut client = socket(ctx, kind);
    client.set_curve_secretkey(&secret).unwrap();
    client.set_curve_serverkey(server_public).unwrap();
    let raw = zlink_mq::core::z85::decode_key(&public).unwrap();
    assert_eq!(client.curve_publickey(), Some(raw));
    (client, raw)
}

#[test]
fn curve_messages_of_every_size_both_ways() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = Context::new();
        let (mut server, ep, public, asked) = curve_server(&ctx, SocketType::Dealer, t, None);
        let (mut client, client_key) = curve_client(&ctx, SocketType::Dealer, &public);
        client.connect(&ep).unwrap();
        // Around the connection's buffer (1 KiB), the write buffer (64 KiB)
        // and a large frame read straight into its message.
        let sizes = [0usize, 1, 255, 256, 1_000, 1_100, 9_000, 70_000, 300_000];
        for (i, &n) in sizes.iter().enumerate() {
            let body = vec![i as u8; n];
            client
                .send_multipart([&b"head"[..], &body[..]], Flags::NONE)
                .unwrap();
            let got = server.recv_multipart(Flags::NONE).unwrap();
            assert_eq!(got.len(), 2, "{t:?} {n}");
            assert!(
                got[0][..] == b"head"[..] && got[1][..] == body[..],
                "{t:?} {n}"
            );
            server.send(&body[..], Flags::NONE).unwrap();
            assert!(
                client.recv(Flags::NONE).unwrap()[..] == body[..],
                "{t:?} {n}"
            );
        }
        // Many small ones in a row: one batch, nonces in order.
        for i in 0..500u32 {
            client.send(&i.to_be_bytes()[..], Flags::NONE).unwrap();
        }
        for i in 0..500u32 {
            assert_eq!(&server.recv(Flags::NONE).unwrap()[..], &i.to_be_bytes()[..]);
        }
        assert_eq!(*asked.lock().unwrap(), [client_key], "{t:?}");
    }
}

#[test]
fn curve_subscriptions_and_heartbeats_travel_sealed() {
    let ctx = Context::new();
    let (mut publisher, ep, public, _) = curve_server(&ctx, SocketType::Pub, Transport::Tcp, None);
    publisher.set_heartbeat_ivl(Some(Duration::from_millis(20)));
    let (mut subscriber, _) = curve_client(&ctx, SocketType::Sub, &public);
    subscriber.set_heartbeat_ivl(Some(Duration::from_millis(20)));
    subscriber.subscribe(b"a").unwrap();
    subscriber.subscribe(&[b'L'; 2_000]).unwrap();
    subscriber.connect(&ep).unwrap();
    sync_subscriptions(&mut publisher, &mut subscriber);
    publisher
        .send_multipart([&b"b-other"[..], b"x"], Flags::NONE)
        .unwrap();
    publisher
        .send_multipart([&b"a-topic"[..], b"1"], Flags::NONE)
        .unwrap();
    let mut long = vec![b'L'; 2_000];
    long.extend_from_slice(b"-long");
    publisher.send(&long[..], Flags::NONE).unwrap();
    let got = subscriber.recv_multipart(Flags::NONE).unwrap();
    assert!(got[0][..] == b"a-topic"[..] && got[1][..] == b"1"[..]);
    assert!(subscriber.recv(Flags::NONE).unwrap()[..] == long[..]);
    // Several heartbeat intervals: PINGs and PONGs sealed both ways keep
    // the connection up.
    std::thread::sleep(Duration::from_millis(150));
    publisher
        .send_multipart([&b"a-again"[..], b"2"], Flags::NONE)
        .unwrap();
    assert!(subscriber.recv_multipart(Flags::NONE).unwrap()[0][..] == b"a-again"[..]);
}

#[test]
fn curve_refusals_get_nothing_through() {
    let ctx = Context::new();
    let allowed = [7u8; 32];
    let (mut server, ep, public, asked) =
        curve_server(&ctx, SocketType::Pull, Transport::Tcp, Some(allowed));
    // An unknown client key: ERROR 400, as with libzmq's ZAP.
    let (mut stranger, stranger_key) = curve_client(&ctx, SocketType::Push, &public);
    let events = stranger.monitor_channel(EventKind::HandshakeFailedAuth.code());
    stranger.connect(&ep).unwrap();
    offer_refused(&mut stranger, "intrusion");
    let e = events.recv_timeout(TIMEOUT).unwrap();
    assert_eq!((e.kind, e.value), (EventKind::HandshakeFailedAuth, 400));
    assert!(asked.lock().unwrap().contains(&stranger_key));
    // The wrong server key: the server cannot open HELLO and answers
    // nothing; the client never connects.
    let (other_public, _) = zlink_mq::curve::keypair().unwrap();
    let (mut lost, lost_key) = curve_client(&ctx, SocketType::Push, &other_public);
    let events = lost.monitor_channel(EventKind::HandshakeSucceeded.code());
    lost.connect(&ep).unwrap();
    lost.send("lost", Flags::NONE).unwrap();
    assert!(events.recv_timeout(Duration::from_millis(200)).is_err());
    assert!(!asked.lock().unwrap().contains(&lost_key));
    // A NULL client: mechanism mismatch.
    let mut null_client = socket(&ctx, SocketType::Push);
    let events = null_client.monitor_channel(EventKind::HandshakeFailedProtocol.code());
    null_client.connect(&ep).unwrap();
    assert_eq!(
        events.recv_timeout(TIMEOUT).unwrap().kind,
        EventKind::HandshakeFailedProtocol
    );
    assert_nothing_for(&mut server, Duration::from_millis(30));
}

#[test]
fn curve_options_as_libzmq() {
    let ctx = Context::new();
    let mut s = socket(&ctx, SocketType::Req);
    assert!(s.set_curve_serverkey(b"too short").is_err());
    assert!(s.set_curve_secretkey(&[0; 31]).is_err());
    let (public, secret) = zlink_mq::curve::keypair().unwrap();
    assert_eq!(zlink_mq::curve::public_key(&secret).unwrap(), public);
    s.set_curve_secretkey(&secret).unwrap();
    let raw = zlink_mq::core::z85::decode_key(&public).unwrap();
    assert_eq!(s.curve_publickey(), Some(raw));
    // SERVERKEY makes a client, CURVE_SERVER a server, PLAIN replaces both.
    s.set_curve_serverkey(&raw).unwrap();
    assert_eq!((s.curve_serverkey(), s.curve_server()), (Some(raw), false));
    s.set_curve_server(true);
    assert_eq!((s.curve_serverkey(), s.curve_server()), (None, true));
    s.set_plain_client(b"u", b"p").unwrap();
    assert!(!s.curve_server());
    assert_eq!(s.plain_username(), Some(&b"u"[..]));
    s.set_curve_server(true);
    assert_eq!(s.plain_username(), None);
    // A CURVE client without a secret key connects to nothing, cleanly.
    let mut keyless = socket(&ctx, SocketType::Push);
    keyless.set_curve_serverkey(&public).unwrap();
    let (mut server, ep, _, _) = curve_server(&ctx, SocketType::Pull, Transport::Tcp, None);
    keyless.connect(&ep).unwrap();
    keyless.send("nothing", Flags::NONE).unwrap();
    assert_nothing_for(&mut server, Duration::from_millis(50));
}
