//! Helpers for end-to-end tests of our sockets: transports to run every
//! behaviour over, endpoints that never collide, and waits bounded by a
//! generous timeout so a broken test fails instead of hanging.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use zlink_mq::{Context, ErrorKind, Flags, Msg, Socket, SocketType};

/// How long any single wait in a test may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The transports every semantic test runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Inproc,
    Ipc,
    Tcp,
}

pub const ALL: [Transport; 3] = [Transport::Inproc, Transport::Ipc, Transport::Tcp];

impl Transport {
    /// An endpoint to bind: a fresh inproc name, or an ephemeral ipc path or
    /// tcp port (read the real one back with `last_endpoint`).
    pub fn bind_endpoint(self) -> String {
        static N: AtomicU64 = AtomicU64::new(0);
        match self {
            Transport::Inproc => format!(
                "inproc://test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ),
            Transport::Ipc => "ipc://*".into(),
            Transport::Tcp => "tcp://127.0.0.1:*".into(),
        }
    }
}

/// A socket with send and receive timeouts, so a test that waits for
/// something that never comes fails instead of hanging.
pub fn socket(ctx: &Context, kind: SocketType) -> Socket {
    let mut s = ctx.socket(kind).unwrap();
    s.set_rcvtimeo(Some(TIMEOUT));
    s.set_sndtimeo(Some(TIMEOUT));
    s.set_linger(Some(Duration::ZERO));
    s
}

/// Binds `s` over `t` and returns the endpoint to connect to.
pub fn bind(s: &mut Socket, t: Transport) -> String {
    s.bind(&t.bind_endpoint()).unwrap();
    s.last_endpoint().unwrap().to_owned()
}

/// A bound socket and `n` sockets connected to it.
pub fn bound_and_connected(
    ctx: &Context,
    t: Transport,
    bound: SocketType,
    connected: SocketType,
    n: usize,
) -> (Socket, Vec<Socket>, String) {
    let mut b = socket(ctx, bound);
    let ep = bind(&mut b, t);
    let cs = (0..n)
        .map(|_| {
            let mut c = socket(ctx, connected);
            c.connect(&ep).unwrap();
            c
        })
        .collect();
    wait_peers(&mut b, n);
    (b, cs, ep)
}

/// Polls `cond` until it holds; panics after [`TIMEOUT`].
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < TIMEOUT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until `s` has at least `n` peers attached (the handshakes of TCP
/// and IPC connections complete asynchronously).
pub fn wait_peers(s: &mut Socket, n: usize) {
    wait_until("peers to attach", || {
        let _ = s.events();
        s.peer_count() >= n
    });
}

/// Receives one frame as text.
pub fn recv_str(s: &mut Socket) -> String {
    let m = s.recv(Flags::NONE).unwrap();
    String::from_utf8(m.to_vec()).unwrap()
}

/// Receives a whole message, each frame as text.
pub fn recv_strs(s: &mut Socket) -> Vec<String> {
    s.recv_multipart(Flags::NONE)
        .unwrap()
        .iter()
        .map(|m| String::from_utf8(m.to_vec()).unwrap())
        .collect()
}

/// Sends a whole message of text frames.
pub fn send_strs(s: &mut Socket, parts: &[&str]) {
    s.send_multipart(parts.iter().map(|p| p.as_bytes()), Flags::NONE)
        .unwrap();
}

/// Asserts that nothing is waiting to be received on `s` right now.
pub fn assert_nothing(s: &mut Socket) {
    match s.recv(Flags::DONTWAIT) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}"),
        Ok(m) => panic!("unexpected message {m:?}"),
    }
}

/// Asserts that nothing arrives on `s` for a short while: for messages that
/// must have been dropped, where only absence can be observed.
pub fn assert_nothing_for(s: &mut Socket, d: Duration) {
    let old = s.rcvtimeo();
    s.set_rcvtimeo(Some(d));
    match s.recv(Flags::NONE) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}"),
        Ok(m) => panic!("unexpected message {m:?}"),
    }
    s.set_rcvtimeo(old);
}

/// Sends `msg` on `publisher` until `subscriber` receives something, then
/// returns it: subscriptions reach a publisher asynchronously, so a test
/// cannot know when the first message will pass.
pub fn pub_until_received(publisher: &mut Socket, subscriber: &mut Socket, msg: &[u8]) -> Msg {
    let start = Instant::now();
    loop {
        publisher.send(msg, Flags::NONE).unwrap();
        if let Ok(m) = subscriber.recv(Flags::DONTWAIT) {
            return m;
        }
        assert!(start.elapsed() < TIMEOUT, "the subscription never arrived");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Makes sure every subscription `subscriber` made so far has reached
/// `publisher`: subscriptions travel in order, so once a fresh probe
/// subscription passes, the earlier ones have arrived too. Leaves no probe
/// behind.
pub fn sync_subscriptions(publisher: &mut Socket, subscriber: &mut Socket) {
    static N: AtomicU64 = AtomicU64::new(0);
    let topic = format!("\u{7f}sync{}-", N.fetch_add(1, Ordering::Relaxed));
    subscriber.subscribe(topic.as_bytes()).unwrap();
    let start = Instant::now();
    let mut sent = 0u64;
    let first = loop {
        publisher
            .send(format!("{topic}{sent}").as_str(), Flags::NONE)
            .unwrap();
        sent += 1;
        if let Ok(m) = subscriber.recv(Flags::DONTWAIT) {
            break m;
        }
        assert!(start.elapsed() < TIMEOUT, "the subscription never arrived");
        std::thread::sleep(Duration::from_millis(1));
    };
    // Probes sent after the first that passed may still be on their way:
    // they arrive in order, the last one last.
    let last = format!("{topic}{}", sent - 1);
    let mut m = first;
    while m[..] != *last.as_bytes() {
        assert!(m.starts_with(topic.as_bytes()), "unexpected {m:?}");
        m = subscriber.recv(Flags::NONE).unwrap();
    }
    subscriber.unsubscribe(topic.as_bytes()).unwrap();
}

/// Offers `msg` to a socket whose only connection is being refused (bad
/// credentials): queued while that connection's pipe exists, refused with
/// EAGAIN once the refusal has ended it (a refused handshake is not retried,
/// as in libzmq, which ends such a session). Either way it must never
/// arrive, which the caller checks.
pub fn offer_refused(s: &mut Socket, msg: &str) {
    match s.send(msg, Flags::DONTWAIT) {
        Ok(()) => {}
        Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}"),
    }
}
