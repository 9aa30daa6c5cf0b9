//! The core (no_std) socket and the std socket, each as a CURVE client and
//! as a CURVE server over TCP, against real libzmq 4.3.5 with CURVE (pyzmq's bundled libzmq, built
//! with libsodium; the `zmq` crate's libzmq has no CURVE) and a libzmq ZAP
//! handler (pyzmq's `ThreadAuthenticator`): messages both ways, refusals of
//! unknown client keys and of wrong server keys in both roles.
//!
//! The libzmq side is tests/pyzmq/curve_peer.py. Without python3 and pyzmq
//! the tests print SKIPPED and pass, unless `ZLINK_MQ_REQUIRE_PYZMQ` is set
//! (CI sets it).
#![cfg(feature = "curve")]

mod core_socket_common;

use std::io::{BufRead, BufReader, Read as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::thread;
use std::time::{Duration, Instant as StdInstant};

use core_socket_common::{Poll, Tcp, disconnection, recv_msg, wall_clock};
use zlink_mq::core::msg::Frame;
use zlink_mq::core::routing::{Dealer, PeerId, Router};
use zlink_mq::core::socket::{DisconnectReason, Options, Socket};
use zlink_mq::core::storage::Fixed;
use zlink_mq::core::z85;
use zlink_mq::core::zmtp::Error;
use zlink_mq::core::zmtp::curve::{
    CurveClient, CurveCommand, CurveError, CurveServer, KeyPair, Random, RandomError, SecretKey,
};
use zlink_mq::core::zmtp::mechanism::{AuthVerdict, Credentials};

const BUF: usize = 4096;
const DEADLINE: Duration = Duration::from_secs(20);

// libzmq's documented test keys, as in curve_peer.py.
const CLIENT_PUBLIC: &[u8] = b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const CLIENT_SECRET: &[u8] = b"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
const SERVER_PUBLIC: &[u8] = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const SERVER_SECRET: &[u8] = b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

type Client = Socket<Dealer<Fixed<1, 1, 16>, PeerId>, Tcp, CurveClient, 1, BUF>;
type Server = Socket<Router<Fixed<1, 1, 16>, PeerId, Frame<BUF>>, Tcp, CurveServer, 1, BUF>;

/// The OS's generator, as the std backend would use it.
struct OsRandom;

impl Random for OsRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomError> {
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(dest))
            .map_err(|_| RandomError)
    }
}

fn keys(secret: &[u8]) -> KeyPair {
    KeyPair::from_secret(SecretKey::from_bytes(z85::decode_key(secret).unwrap()))
}

/// The running libzmq peer and the lines it printed.
struct Peer {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Peer {
    /// Starts curve_peer.py with `args`; `None` (after printing why) when
    /// python3 or pyzmq with CURVE is missing and CI does not require them.
    fn start(args: &[&str]) -> Option<Peer> {
        let probe = Command::new("python3")
            .args([
                "-c",
                "import sys, zmq; sys.exit(0 if zmq.has('curve') else 1)",
            ])
            .stderr(Stdio::null())
            .status();
        if !probe.is_ok_and(|s| s.success()) {
            let why = "python3 with pyzmq (with CURVE) is not installed: pip install pyzmq";
            assert!(
                std::env::var_os("ZLINK_MQ_REQUIRE_PYZMQ").is_none(),
                "ZLINK_MQ_REQUIRE_PYZMQ is set but {why}"
            );
            println!("SKIPPED: {why}");
            return None;
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pyzmq/curve_peer.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Some(Peer {
            child,
            lines,
            seen: Vec::new(),
        })
    }

    /// Waits for the next line starting with `prefix` (earlier lines are
    /// kept in `seen`), calling `tick` meanwhile (to poll our socket);
    /// returns the rest of the line.
    #[track_caller]
    fn expect_polling(&mut self, prefix: &str, mut tick: impl FnMut()) -> String {
        let start = StdInstant::now();
        loop {
            match self.lines.try_recv() {
                Ok(line) => {
                    self.seen.push(line.clone());
                    assert!(!line.starts_with("FAIL"), "libzmq peer: {line}");
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.trim().to_string();
                    }
                }
                Err(TryRecvError::Empty) => {
                    assert!(
                        start.elapsed() < DEADLINE,
                        "no {prefix:?} from the libzmq peer; it said {:?}",
                        self.tail()
                    );
                    tick();
                    thread::sleep(Duration::from_millis(1));
                }
                Err(TryRecvError::Disconnected) => {
                    panic!(
                        "libzmq peer ended before {prefix:?}; it said {:?}",
                        self.tail()
                    )
                }
            }
        }
    }

    /// [`expect_polling`](Peer::expect_polling) with nothing to poll.
    #[track_caller]
    fn expect(&mut self, prefix: &str) -> String {
        self.expect_polling(prefix, || {})
    }

    /// The last lines it printed.
    fn tail(&self) -> &[String] {
        &self.seen[self.seen.len().saturating_sub(5)..]
    }

    /// Waits for it to exit; asserts success.
    #[track_caller]
    fn finish(mut self) -> Vec<String> {
        // Drain the rest of its output (it ends with the process).
        while let Ok(line) = self.lines.recv() {
            self.seen.push(line);
        }
        let status = self.child.wait().unwrap();
        assert!(status.success(), "libzmq peer failed: {:?}", self.seen);
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // A failed test must not leave the python process behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[track_caller]
fn until<S: Poll>(socket: &mut S, mut done: impl FnMut(&mut S) -> bool) {
    let start = StdInstant::now();
    while !done(socket) {
        assert!(start.elapsed() < DEADLINE, "timed out");
        socket.poll(wall_clock());
        thread::sleep(Duration::from_millis(1));
    }
}

/// The messages curve_peer.py's client sends, which our server echoes.
fn messages() -> Vec<Vec<Vec<u8>>> {
    let mut m: Vec<Vec<Vec<u8>>> = vec![
        vec![b"hello".to_vec()],
        vec![vec![]],
        vec![vec![b'x'; 255]],
        vec![vec![b'y'; 256]],
        vec![(0..=255u8).cycle().take(2048).collect()],
        vec![b"multi".to_vec(), vec![], b"part".repeat(100)],
    ];
    m.extend((0..100).map(|i| vec![format!("seq {i}").into_bytes()]));
    m
}

fn hexes(frames: &[Vec<u8>]) -> String {
    frames
        .iter()
        .map(|f| {
            if f.is_empty() {
                "-".to_string()
            } else {
                f.iter().map(|b| format!("{b:02x}")).collect()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Our server's ZAP-like verdict: the libzmq test client's key only.
fn only_the_test_client(c: Credentials<'_>) -> AuthVerdict {
    match c {
        Credentials::Curve { public_key }
            if public_key[..] == z85::decode_key(CLIENT_PUBLIC).unwrap() =>
        {
            AuthVerdict::Accept
        }
        _ => AuthVerdict::Reject { status_code: 400 },
    }
}

fn client_to(port: &str, server_key: [u8; 32], client: &KeyPair) -> Client {
    let mut dealer: Client = Socket::new(
        Dealer::new(),
        Options {
            handshake_ivl: Some(Duration::from_secs(5)),
            ..Options::new()
        },
    );
    let stream = Tcp::new(TcpStream::connect(format!("127.0.0.1:{port}")).unwrap());
    let mechanism = CurveClient::new(client, server_key, &mut OsRandom).unwrap();
    dealer.attach(stream, mechanism, wall_clock()).unwrap();
    dealer
}

#[test]
fn our_curve_dealer_to_a_libzmq_curve_router_with_zap() {
    let Some(mut py) = Peer::start(&["server", std::str::from_utf8(CLIENT_PUBLIC).unwrap()]) else {
        return;
    };
    let port = py.expect("PORT");
    let server_key = z85::decode_key(SERVER_PUBLIC).unwrap();
    let mut dealer = client_to(&port, server_key, &keys(CLIENT_SECRET));
    until(&mut dealer, |d| d.connected_peers() == 1);
    // libzmq's ZAP handler was asked about our long-term key.
    assert_eq!(
        py.expect("KEY"),
        std::str::from_utf8(CLIENT_PUBLIC).unwrap()
    );
    assert_eq!(py.expect("EVENT"), "SUCCEEDED 0");

    let mut sent = messages();
    sent.push(vec![b"bye".to_vec()]);
    // Several in flight at once, then one at a time.
    for m in sent.iter().take(6) {
        let frames: Vec<&[u8]> = m.iter().map(|f| &f[..]).collect();
        dealer.send(&frames).unwrap();
    }
    let mut got = Vec::new();
    for (i, m) in sent.iter().enumerate() {
        if i >= 6 {
            let frames: Vec<&[u8]> = m.iter().map(|f| &f[..]).collect();
            until(&mut dealer, |d| d.send(&frames).is_ok());
        }
        let mut reply = None;
        let start = StdInstant::now();
        while reply.is_none() {
            if start.elapsed() > DEADLINE {
                while let Ok(l) = py.lines.try_recv() {
                    py.seen.push(l);
                }
                panic!(
                    "no echo of message {i}; peer {:?}; {:?}",
                    dealer.peer_state(PeerId(0)),
                    &py.seen[py.seen.len().saturating_sub(4)..]
                );
            }
            dealer.poll(wall_clock());
            reply = recv_msg(&mut dealer);
            thread::sleep(Duration::from_millis(1));
        }
        got.push(reply.unwrap());
    }
    for (m, reply) in sent.iter().zip(&got) {
        let mut want = vec![b"echo".to_vec()];
        want.extend(m.iter().cloned());
        assert_eq!(reply, &want);
    }
    // What libzmq received, frame for frame.
    for m in &sent {
        assert_eq!(py.expect("GOT"), hexes(m));
    }
    py.expect("OK");
    py.finish();
}

#[test]
fn libzmq_curve_dealer_to_our_curve_router() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let Some(py) = Peer::start(&["client", &port, "good"]) else {
        return;
    };
    let stream = accept(&listener);
    let mut router: Server = Socket::new(
        Router::new(1),
        Options {
            authenticate: Some(only_the_test_client),
            ..Options::new()
        },
    );
    // Refuse (WouldBlock) rather than drop a reply when the peer's buffer
    // is full.
    router.routing_mut().set_mandatory(true);
    let mechanism = CurveServer::new(&keys(SERVER_SECRET), &mut OsRandom).unwrap();
    router.attach(stream, mechanism, wall_clock()).unwrap();
    until(&mut router, |r| r.connected_peers() == 1);
    let expected = {
        let mut m = messages();
        m.push(vec![b"bye".to_vec()]);
        m
    };
    for want in &expected {
        let mut msg = None;
        until(&mut router, |r| {
            msg = recv_msg(r);
            msg.is_some()
        });
        let msg = msg.unwrap();
        assert_eq!(&msg[1..], &want[..]);
        let mut reply: Vec<&[u8]> = vec![&msg[0], b"echo"];
        reply.extend(msg[1..].iter().map(|f| &f[..]));
        until(&mut router, |r| r.send(&reply).is_ok());
    }
    // Until the client has read every echo.
    let mut py = py;
    py.expect_polling("OK", || router.poll(wall_clock()));
    py.finish();
}

fn accept(listener: &TcpListener) -> Tcp {
    listener.set_nonblocking(true).unwrap();
    let start = StdInstant::now();
    loop {
        match listener.accept() {
            Ok((s, _)) => return Tcp::new(s),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    start.elapsed() < DEADLINE,
                    "the libzmq client never connected"
                );
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Polls until the peer's connection ends; its reason.
fn disconnected<S: Poll>(
    s: &mut S,
    next: impl Fn(&mut S) -> Option<(PeerId, DisconnectReason)>,
) -> DisconnectReason {
    let mut reason = None;
    until(s, |s| {
        reason = next(s).map(|(_, r)| r);
        reason.is_some()
    });
    reason.unwrap()
}

#[test]
fn libzmq_zap_refuses_our_unknown_client_key() {
    // The ZAP handler accepts only the libzmq test client's key.
    let Some(mut py) = Peer::start(&["server", std::str::from_utf8(CLIENT_PUBLIC).unwrap()]) else {
        return;
    };
    let port = py.expect("PORT");
    let stranger = KeyPair::generate(&mut OsRandom).unwrap();
    let server_key = z85::decode_key(SERVER_PUBLIC).unwrap();
    let mut dealer = client_to(&port, server_key, &stranger);
    let reason = disconnected(&mut dealer, disconnection);
    // libzmq's ERROR, with the ZAP handler's status code.
    assert_eq!(reason, DisconnectReason::Protocol(Error::PeerError));
    assert_eq!(
        py.expect("KEY").as_bytes(),
        z85::encode_key(stranger.public_key())
    );
    assert_eq!(py.expect("EVENT"), "FAILED_AUTH 400");
    py.finish();
}

#[test]
fn libzmq_refuses_our_client_with_the_wrong_server_key() {
    let Some(mut py) = Peer::start(&["server", "any"]) else {
        return;
    };
    let port = py.expect("PORT");
    let wrong = *KeyPair::generate(&mut OsRandom).unwrap().public_key();
    let mut dealer = client_to(&port, wrong, &keys(CLIENT_SECRET));
    // libzmq cannot open HELLO: a protocol failure (CRYPTOGRAPHIC), and it
    // closes the connection without a word.
    assert_eq!(
        py.expect_polling("EVENT", || dealer.poll(wall_clock())),
        format!("FAILED_PROTOCOL {}", 0x1100_0001)
    );
    let reason = disconnected(&mut dealer, disconnection);
    assert!(
        matches!(
            reason,
            DisconnectReason::Eof
                | DisconnectReason::Io(_)
                | DisconnectReason::Protocol(Error::HandshakeTimeout)
        ),
        "{reason}"
    );
    py.finish();
}

#[test]
fn our_curve_router_refuses_libzmq_clients() {
    for (keys_arg, expect) in [
        ("stranger", Error::AuthenticationFailed),
        (
            "wrong-server",
            Error::Curve(CurveError::Cryptographic(CurveCommand::Hello)),
        ),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let Some(mut py) = Peer::start(&["client", &port, keys_arg]) else {
            return;
        };
        let stream = accept(&listener);
        let mut router: Server = Socket::new(
            Router::new(1),
            Options {
                authenticate: Some(only_the_test_client),
                ..Options::new()
            },
        );
        let mechanism = CurveServer::new(&keys(SERVER_SECRET), &mut OsRandom).unwrap();
        router.attach(stream, mechanism, wall_clock()).unwrap();
        let reason = disconnected(&mut router, disconnection);
        assert_eq!(reason, DisconnectReason::Protocol(expect), "{keys_arg}");
        let event = py.expect("EVENT");
        if keys_arg == "stranger" {
            // Our ERROR reached libzmq with its status code.
            assert_eq!(event, "FAILED_AUTH 400");
        } else {
            // We answer nothing and hang up, as libzmq's server does:
            // libzmq's client then reports the same as against libzmq.
            assert!(event.starts_with("FAILED_NO_DETAIL"), "{event}");
        }
        py.finish();
    }
}

/// The std socket: our DEALER (CURVE options as libzmq's) to libzmq's
/// ROUTER behind its ZAP handler, then libzmq's DEALER to our ROUTER.
#[test]
fn std_curve_sockets_and_libzmq_both_ways() {
    use zlink_mq::{Context, Flags, SocketType};

    let Some(mut py) = Peer::start(&["server", std::str::from_utf8(CLIENT_PUBLIC).unwrap()]) else {
        return;
    };
    let port = py.expect("PORT");
    let ctx = Context::new();
    let mut dealer = ctx.socket(SocketType::Dealer).unwrap();
    dealer.set_rcvtimeo(Some(DEADLINE));
    dealer.set_curve_secretkey(CLIENT_SECRET).unwrap();
    dealer.set_curve_serverkey(SERVER_PUBLIC).unwrap();
    dealer.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let mut sent = messages();
    sent.push(vec![b"bye".to_vec()]);
    for m in &sent {
        dealer
            .send_multipart(m.iter().map(|f| &f[..]), Flags::NONE)
            .unwrap();
    }
    for m in &sent {
        let got: Vec<Vec<u8>> = dealer
            .recv_multipart(Flags::NONE)
            .unwrap()
            .iter()
            .map(|f| f.to_vec())
            .collect();
        assert_eq!(got[0], b"echo");
        assert_eq!(&got[1..], &m[..]);
    }
    assert_eq!(
        py.expect("KEY"),
        std::str::from_utf8(CLIENT_PUBLIC).unwrap()
    );
    for m in &sent {
        assert_eq!(py.expect("GOT"), hexes(m));
    }
    py.expect("OK");
    py.finish();

    let mut router = ctx.socket(SocketType::Router).unwrap();
    router.set_rcvtimeo(Some(DEADLINE));
    router.set_curve_secretkey(SERVER_SECRET).unwrap();
    router.set_curve_server(true);
    let client_key = z85::decode_key(CLIENT_PUBLIC).unwrap();
    router.set_curve_authenticator(Some(move |key: &[u8; 32]| *key == client_key));
    router.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = router.last_endpoint().unwrap();
    let port = endpoint.rsplit(':').next().unwrap().to_string();
    let Some(mut py) = Peer::start(&["client", &port, "good"]) else {
        return;
    };
    for want in &sent {
        let msg = router.recv_multipart(Flags::NONE).unwrap();
        let frames: Vec<&[u8]> = msg.iter().map(|f| &f[..]).collect();
        assert_eq!(frames.len(), want.len() + 1);
        assert!(frames[1..].iter().zip(want).all(|(a, b)| *a == &b[..]));
        let mut reply: Vec<&[u8]> = vec![frames[0], b"echo"];
        reply.extend(&frames[1..]);
        router.send_multipart(reply, Flags::NONE).unwrap();
    }
    py.expect("OK");
    py.finish();
}
