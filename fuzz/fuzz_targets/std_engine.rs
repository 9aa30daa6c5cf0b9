//! The std backend's connection engine as a whole
//! (`std-backend/src/transport/engine.rs`: greeting, security handshake,
//! decoder and frame assembly, HWM, MAXMSGSIZE, subscriptions,
//! heartbeats, the write path), reached through the public API only: a
//! zlink-mq-std socket of a drawn type with drawn options, bound on TCP or
//! IPC, and a raw stream connected to it that writes the fuzzer's bytes.
//! A valid greeting and handshake (NULL, NULL judged with no ZAP handler,
//! PLAIN, or a real CURVE client's) can be drawn in front, so that most
//! cases get past them.
//!
//! The input is a header (socket type, transport, security, options,
//! prefix) and a script for the hostile side: raw bytes, frames of any
//! size and flags, commands, pauses, the application receiving or sending
//! meanwhile, the hostile peer reading, half-closing or starting over.
//!
//! Oracle: no panic, no sanitizer report, memory bounded (run with
//! `-rss_limit_mb`), no frame handed to the application larger than
//! MAXMSGSIZE, and at the end a well-behaved zlink-mq peer of the matching
//! type still gets a message through the socket within [`DEADLINE`]:
//! whatever the hostile connection did, the socket does not stall.
#![no_main]

#[path = "common/curve.rs"]
#[allow(dead_code)]
mod curve;
#[path = "common/hostile.rs"]
mod hostile;

use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant as StdInstant};

use hostile::{Input, Mech, Opening};
use libfuzzer_sys::fuzz_target;
use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::time::Instant;
use zlink_mq_core::zmtp::{Connection, Event};
use zlink_mq_std::{Context, ErrorKind, Flags, Msg, Socket};

/// How long the good peer may take to get its message through.
const DEADLINE: Duration = Duration::from_secs(20);
/// Bytes one case writes to the hostile streams at most.
const MAX_CASE_BYTES: usize = 2 << 20;
/// Time one case spends in pauses at most.
const MAX_PAUSE: Duration = Duration::from_millis(5);
/// A write that the socket does not take within this is abandoned (its
/// high-water mark holds the input back, as it should).
const WRITE_TIMEOUT: Duration = Duration::from_millis(20);

/// Socket type bound and the type of the well-behaved peer.
const TYPES: [(SocketType, SocketType); 11] = [
    (SocketType::Pull, SocketType::Push),
    (SocketType::Push, SocketType::Pull),
    (SocketType::Pub, SocketType::Sub),
    (SocketType::Sub, SocketType::Pub),
    (SocketType::XPub, SocketType::Sub),
    (SocketType::XSub, SocketType::Pub),
    (SocketType::Router, SocketType::Dealer),
    (SocketType::Dealer, SocketType::Dealer),
    (SocketType::Rep, SocketType::Req),
    (SocketType::Req, SocketType::Rep),
    (SocketType::Pair, SocketType::Pair),
];

fn ctx() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(Context::new)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Tcp,
    IpcPath,
    IpcAbstract,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    Null,
    /// NULL with a ZAP domain: the engine asks for a verdict, and with no
    /// handler bound lets the peer in.
    NullJudged,
    Plain,
    Curve,
}

#[derive(Debug)]
struct Case {
    ours: SocketType,
    good: SocketType,
    transport: Transport,
    security: Security,
    maxmsgsize: Option<u64>,
    rcvhwm: u32,
    sndhwm: u32,
    heartbeat: [Option<Duration>; 3],
    handshake_ivl: Option<Duration>,
    options: u8,
    opening: Opening,
    close_at_end: bool,
}

const OPT_ROUTING_ID: u8 = 1;
const OPT_CONFLATE: u8 = 2;
const OPT_ROUTER_MANDATORY: u8 = 4;
const OPT_ROUTER_HANDOVER: u8 = 8;
const OPT_XPUB_VERBOSE: u8 = 16;
const OPT_PROBE_ROUTER: u8 = 32;
const OPT_WELCOME: u8 = 64;
/// The hostile script starts only after a first exchange with the good
/// peer (whose connection is then up before any hostile one).
const OPT_GOOD_FIRST: u8 = 128;

fn ms(n: u64) -> Option<Duration> {
    Some(Duration::from_millis(n))
}

impl Case {
    fn draw(input: &mut Input<'_>) -> Case {
        let (b0, b1, b2, b3, b4) = (
            input.byte(),
            input.byte(),
            input.byte(),
            input.byte(),
            input.byte(),
        );
        let (ours, good) = TYPES[usize::from(b0 & 0x0f) % TYPES.len()];
        let transport = [
            Transport::Tcp,
            Transport::IpcPath,
            Transport::IpcAbstract,
            Transport::Tcp,
        ][usize::from(b0 >> 4 & 3)];
        let security = [
            Security::Null,
            Security::NullJudged,
            Security::Plain,
            Security::Curve,
        ][usize::from(b0 >> 6)];
        let maxmsgsize = [
            None,
            Some(16),
            Some(64),
            Some(255),
            Some(300),
            Some(8192),
            Some(20_000),
            Some(70_000),
        ][usize::from(b1 & 7)];
        let rcvhwm = [1000, 0, 1, 2, 3, 5, 16, 100][usize::from(b1 >> 3 & 7)];
        let sndhwm = [1000, 1, 2, 0][usize::from(b1 >> 6)];
        // PINGs often (1 ms), but timeouts (HEARTBEAT_TIMEOUT, the TTL we
        // ask of peers, HANDSHAKE_IVL) of a second or more: the good peer
        // is a real peer on this machine and its connection must survive
        // scheduling delays. Fuzzing at nice 19 on a loaded machine, this
        // process goes without the CPU for tens of milliseconds at a time,
        // and a first run with 20 ms timeouts dropped the good peer over
        // and over until the deadline (in libzmq too a timeout of a few
        // clock ticks drops healthy peers). Timeouts firing are tested in
        // tests/heartbeat.rs and tests/bad_input.rs.
        let ivl = [None, ms(1), ms(10), ms(100)][usize::from(b2 & 3)];
        // Never `None`, which means the interval.
        let timeout = [ms(1000), ms(2000), ms(5000), ms(30_000)][usize::from(b2 >> 2 & 3)];
        let ttl = [None, ms(5000), ms(0), ms(6_553_500)][usize::from(b2 >> 4 & 3)];
        let handshake_ivl = [ms(30_000), ms(1000), None, ms(30_000)][usize::from(b2 >> 6)];
        Case {
            ours,
            good,
            transport,
            security,
            maxmsgsize,
            rcvhwm,
            sndhwm,
            heartbeat: [ivl, timeout, ttl],
            handshake_ivl,
            options: b3,
            opening: Opening::draw(b4, good),
            close_at_end: b4 & 0x80 != 0,
        }
    }

    fn has(&self, option: u8) -> bool {
        self.options & option != 0
    }

    fn mech(&self) -> Mech {
        match self.security {
            Security::Null | Security::NullJudged => Mech::Null,
            Security::Plain => Mech::Plain,
            Security::Curve => Mech::Curve,
        }
    }
}

/// The hostile side's stream.
enum Raw {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Raw {
    fn connect(endpoint: &str) -> Raw {
        let raw = if let Some(addr) = endpoint.strip_prefix("tcp://") {
            let s = TcpStream::connect(addr).unwrap();
            s.set_nodelay(true).unwrap();
            Raw::Tcp(s)
        } else if let Some(name) = endpoint.strip_prefix("ipc://@") {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name).unwrap();
            Raw::Unix(UnixStream::connect_addr(&addr).unwrap())
        } else {
            Raw::Unix(UnixStream::connect(endpoint.strip_prefix("ipc://").unwrap()).unwrap())
        };
        raw.set_timeouts(WRITE_TIMEOUT);
        raw
    }

    fn set_nonblocking(&self, on: bool) {
        match self {
            Raw::Tcp(s) => s.set_nonblocking(on).unwrap(),
            Raw::Unix(s) => s.set_nonblocking(on).unwrap(),
        }
    }

    fn set_timeouts(&self, d: Duration) {
        match self {
            Raw::Tcp(s) => {
                s.set_write_timeout(Some(d)).unwrap();
                s.set_read_timeout(Some(d)).unwrap();
            }
            Raw::Unix(s) => {
                s.set_write_timeout(Some(d)).unwrap();
                s.set_read_timeout(Some(d)).unwrap();
            }
        }
    }

    /// Writes as std does on Linux, without raising SIGPIPE (which a
    /// libFuzzer binary, unlike a Rust `main`, does not ignore) when our
    /// side has closed the connection, as it often has here.
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            Raw::Tcp(s) => s.write(bytes),
            Raw::Unix(s) => s.write(bytes),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Raw::Tcp(s) => s.read(buf),
            Raw::Unix(s) => s.read(buf),
        }
    }

    fn shutdown(&self, how: std::net::Shutdown) {
        let _ = match self {
            Raw::Tcp(s) => s.shutdown(how),
            Raw::Unix(s) => s.shutdown(how),
        };
    }
}

/// One hostile connection and the bytes it has yet to write.
struct Hostile {
    raw: Raw,
    out: Vec<u8>,
    /// Writing stopped: our side closed, or stopped reading.
    stuck: bool,
    /// A real CURVE client's connection, once its handshake is done: its
    /// frames are sealed.
    curve: Option<Connection>,
}

impl Hostile {
    fn open(endpoint: &str, case: &Case) -> Hostile {
        let raw = Raw::connect(endpoint);
        let mut h = Hostile {
            raw,
            out: Vec::new(),
            stuck: false,
            curve: None,
        };
        if case.opening.curve_client(case.mech()) {
            let client = case.opening.new_curve_client(CASE.load(Ordering::Relaxed));
            h.curve = client.and_then(|c| curve_handshake(&mut h.raw, c));
        } else {
            h.out = case.opening.bytes(case.mech());
        }
        h
    }

    /// Writes what is pending; abandons it if the socket does not take it
    /// in time or has gone.
    fn flush(&mut self) {
        let mut at = 0;
        while at < self.out.len() && !self.stuck {
            match self.raw.send(&self.out[at..]) {
                Ok(0) => self.stuck = true,
                Ok(n) => at += n,
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(_) => self.stuck = true,
            }
        }
        self.out.clear();
    }

    /// Reads what our side has written so far, without waiting for more
    /// (PINGs every millisecond would keep a waiting read busy: inputs
    /// made of many such reads took a minute).
    fn drain(&mut self) {
        let mut buf = [0u8; 16 * 1024];
        self.raw.set_nonblocking(true);
        for _ in 0..64 {
            match self.raw.read(&mut buf) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
        self.raw.set_nonblocking(false);
    }

    /// A data frame; sealed on a CURVE connection (then only its MORE flag
    /// is kept).
    fn frame(&mut self, flags: u8, long: bool, body: &[u8]) {
        match &mut self.curve {
            Some(conn) => hostile::sealed_frame(conn, flags, body, &mut self.out),
            None => hostile::push_frame(&mut self.out, flags, long, body),
        }
    }
}

/// A real CURVE client's handshake over the hostile stream, so that the
/// script's frames reach the sealed data path. `None` if it does not
/// complete (a short HANDSHAKE_IVL on a loaded machine, say).
fn curve_handshake(raw: &mut Raw, mut conn: Connection) -> Option<Connection> {
    let start = StdInstant::now();
    let mut out = [0u8; 1024];
    let mut input = Vec::new();
    let mut buf = [0u8; 4096];
    while !conn.is_active() && start.elapsed() < Duration::from_secs(2) {
        loop {
            let n = conn.poll_transmit(&mut out);
            if n == 0 {
                break;
            }
            raw.send(&out[..n]).ok()?;
        }
        match raw.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => input.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) => {}
            Err(_) => return None,
        }
        let mut pos = 0;
        loop {
            let (used, ev) = conn.handle_input(&input[pos..], Instant::ZERO).ok()?;
            pos += used;
            if used == 0 || matches!(ev, Some(Event::HandshakeComplete { .. })) {
                break;
            }
        }
        input.drain(..pos);
    }
    while conn.poll_transmit(&mut out) > 0 {}
    conn.is_active().then_some(conn)
}

static CASE: AtomicU64 = AtomicU64::new(0);

fn socket(kind: SocketType) -> Socket {
    let mut s = ctx().socket(kind).unwrap();
    s.set_linger(Some(Duration::ZERO));
    // Short: the exchange at the end retries (the good peer's first
    // message can go before its connection or subscription is there).
    s.set_sndtimeo(Some(Duration::from_millis(2)));
    s.set_rcvtimeo(Some(Duration::from_millis(2)));
    s
}

/// The socket under test, bound; returns the endpoint to connect to.
fn bound(case: &Case, n: u64) -> (Socket, String) {
    let mut s = socket(case.ours);
    s.set_maxmsgsize(case.maxmsgsize);
    s.set_rcvhwm(case.rcvhwm);
    s.set_sndhwm(case.sndhwm);
    s.set_heartbeat_ivl(case.heartbeat[0]);
    s.set_heartbeat_timeout(case.heartbeat[1]);
    s.set_heartbeat_ttl(case.heartbeat[2]);
    s.set_handshake_ivl(case.handshake_ivl);
    if case.has(OPT_ROUTING_ID) {
        s.set_routing_id(b"bound").unwrap();
    }
    let kind = case.ours;
    if case.has(OPT_CONFLATE)
        && matches!(
            kind,
            SocketType::Pull | SocketType::Sub | SocketType::Dealer
        )
    {
        s.set_conflate(true);
    }
    if kind == SocketType::Router {
        s.set_router_mandatory(case.has(OPT_ROUTER_MANDATORY));
        s.set_router_handover(case.has(OPT_ROUTER_HANDOVER));
    }
    if matches!(kind, SocketType::Router | SocketType::Dealer) && case.has(OPT_PROBE_ROUTER) {
        s.set_probe_router(true).unwrap();
    }
    if kind == SocketType::XPub {
        s.set_xpub_verbose(case.has(OPT_XPUB_VERBOSE));
        if case.has(OPT_WELCOME) {
            s.set_xpub_welcome_msg(Some(b"welcome")).unwrap();
        }
    }
    if kind == SocketType::Req {
        // A strict REQ whose request went to a peer that never answers
        // waits for ever, as libzmq's does: not a stall of ours.
        s.set_req_relaxed(true);
        s.set_req_correlate(true);
    }
    match case.security {
        Security::Null => {}
        Security::NullJudged => s.set_zap_domain(b"fuzz").unwrap(),
        Security::Plain => s.set_plain_server(None::<fn(&[u8], &[u8]) -> bool>),
        Security::Curve => {
            s.set_curve_secretkey(&curve::server_keys().secret_key().to_bytes())
                .unwrap();
            s.set_curve_server(true);
        }
    }
    if kind == SocketType::Sub {
        s.subscribe(b"").unwrap();
    }
    if kind == SocketType::XSub {
        s.send(&b"\x01"[..], Flags::DONTWAIT).unwrap();
    }
    let endpoint = match case.transport {
        Transport::Tcp => "tcp://127.0.0.1:*".to_owned(),
        Transport::IpcPath => "ipc://*".to_owned(),
        Transport::IpcAbstract => format!("ipc://@zlink-fuzz-{}-{n}", std::process::id()),
    };
    if let Err(e) = s.bind(&endpoint) {
        panic!("bind {endpoint}: {e}");
    }
    let endpoint = s.last_endpoint().unwrap().to_owned();
    (s, endpoint)
}

/// The well-behaved peer, connected.
fn good_peer(case: &Case, endpoint: &str, n: u64) -> Socket {
    let mut s = socket(case.good);
    s.set_reconnect_ivl(ms(5));
    match case.security {
        Security::Null | Security::NullJudged => {}
        Security::Plain => s.set_plain_client(b"good", b"peer").unwrap(),
        Security::Curve => {
            s.set_curve_secretkey(&curve::client_keys().secret_key().to_bytes())
                .unwrap();
            s.set_curve_serverkey(curve::server_keys().public_key())
                .unwrap();
        }
    }
    if matches!(case.good, SocketType::Dealer | SocketType::Req) {
        s.set_routing_id(format!("good-{n}").as_bytes()).unwrap();
    }
    if case.good == SocketType::Req {
        s.set_req_relaxed(true);
        s.set_req_correlate(true);
    }
    if case.good == SocketType::Sub {
        s.subscribe(b"").unwrap();
    }
    s.connect(endpoint).unwrap();
    s
}

/// Checks every frame the application is handed.
fn check(case: &Case, frames: &[Msg]) {
    if let Some(max) = case.maxmsgsize {
        // PUB / XPUB get subscriptions as messages: not frames of the
        // peer's, and not bounded by MAXMSGSIZE beyond the command itself.
        // A ROUTER puts the peer's routing id in front (its own, up to
        // 255 bytes).
        let skip = usize::from(case.ours == SocketType::Router);
        if !matches!(case.ours, SocketType::Pub | SocketType::XPub) {
            for f in frames.iter().skip(skip) {
                assert!(
                    f.len() as u64 <= max,
                    "a {}-byte frame passed MAXMSGSIZE {max}",
                    f.len()
                );
            }
        }
    }
}

/// Receives a message; checks it when `bound` (the socket under test).
fn recv(bound: Option<&Case>, s: &mut Socket, flags: Flags) -> Option<Vec<Msg>> {
    match s.recv_multipart(flags) {
        Ok(m) => {
            if let Some(case) = bound {
                check(case, &m);
            }
            Some(m)
        }
        Err(e) => {
            assert!(
                matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::InvalidState | ErrorKind::NotSupported
                ),
                "recv: {e}"
            );
            None
        }
    }
}

/// What the application does to the socket under test during the script.
fn app_send(case: &Case, s: &mut Socket, size: u8, tag: u8) {
    let len = [5, 9000, 70_000, 300][usize::from(size & 3)];
    let mut body = vec![tag; len];
    match case.ours {
        SocketType::Pull => {}
        SocketType::Sub => {
            let _ = if tag & 1 == 0 {
                s.subscribe(&body)
            } else {
                s.unsubscribe(&body)
            };
        }
        SocketType::XSub => {
            body[0] = tag & 1;
            let _ = s.send(body, Flags::DONTWAIT);
        }
        SocketType::Router => {
            if s.send(case.opening.identity, Flags::DONTWAIT | Flags::SNDMORE)
                .is_ok()
            {
                let _ = s.send(body, Flags::DONTWAIT);
            }
        }
        _ => {
            let _ = s.send(body, Flags::DONTWAIT);
        }
    }
}

/// Runs the script against the socket.
fn script(case: &Case, input: &mut Input<'_>, s: &mut Socket, endpoint: &str) -> Vec<Hostile> {
    let mut hostiles = vec![Hostile::open(endpoint, case)];
    let mut paused = Duration::ZERO;
    let mut written = 0usize;
    while !input.is_empty() && written < MAX_CASE_BYTES {
        let op = input.byte();
        let p = op & 0x1f;
        let h = hostiles.last_mut().unwrap();
        let before = h.out.len();
        match op >> 5 {
            // Raw bytes.
            0 => {
                let n = usize::from(input.byte()) + 1;
                h.out.extend_from_slice(input.take(n));
            }
            // A frame of any length: flags from `p` (reserved bits too),
            // body of one repeated byte.
            1 => {
                let mut len = usize::from(input.u16());
                if p & 0x10 != 0 {
                    len *= 32;
                }
                len = len.min(MAX_CASE_BYTES - written);
                let fill = input.byte();
                let flags = (p & 0x07)
                    | if p & 0x08 != 0 {
                        0xf8 & input.byte()
                    } else {
                        0
                    };
                h.frame(flags, p & 0x10 != 0, &vec![fill; len]);
            }
            // A command with a body from the input.
            2 => {
                let n = usize::from(input.byte());
                let body = input.take(n).to_vec();
                let claim = match p & 7 {
                    7 => u64::from(input.u16()) << (8 * (p >> 3)),
                    _ => 0,
                };
                hostile::push_script_command(&mut h.out, h.curve.as_mut(), p, &body, claim);
            }
            // Written so far goes out, then a short pause.
            3 => {
                h.flush();
                let d = Duration::from_micros(50 * (u64::from(p) + 1))
                    .min(MAX_PAUSE.saturating_sub(paused));
                paused += d;
                std::thread::sleep(d);
            }
            // The application receives a few messages.
            4 => {
                h.flush();
                for _ in 0..=p {
                    if recv(Some(case), s, Flags::DONTWAIT).is_none() {
                        break;
                    }
                }
            }
            // The application sends (or subscribes).
            5 => app_send(case, s, p, input.byte()),
            // The hostile peer reads what it was sent.
            6 => {
                h.flush();
                h.drain();
            }
            // Half-close either way (no more reading makes our writes
            // fail with EPIPE), or a new hostile connection (at most 4).
            _ => {
                h.flush();
                match p & 3 {
                    0 => {
                        h.raw.shutdown(std::net::Shutdown::Write);
                        h.stuck = true;
                    }
                    2 => h.raw.shutdown(std::net::Shutdown::Read),
                    _ if hostiles.len() < 4 => {
                        hostiles.push(Hostile::open(endpoint, case));
                        continue;
                    }
                    _ => {}
                }
            }
        }
        written += hostiles.last().unwrap().out.len().saturating_sub(before);
    }
    for h in &mut hostiles {
        h.flush();
    }
    hostiles
}

/// The well-behaved peer's message gets through, in the direction the
/// socket type allows; panics after [`DEADLINE`].
fn exchange(case: &Case, s: &mut Socket, good: &mut Socket, n: u64) {
    let start = StdInstant::now();
    let mut round = 0u32;
    loop {
        assert!(
            start.elapsed() < DEADLINE,
            "the well-behaved peer got nothing through in {DEADLINE:?} ({round} rounds): {case:?}"
        );
        round += 1;
        let marker = format!("g{n}.{round}");
        let marker = marker.as_bytes();
        let done = match case.ours {
            // The good peer sends; the socket receives.
            SocketType::Pull | SocketType::Router | SocketType::Dealer | SocketType::Pair => {
                let _ = good.send(marker, Flags::DONTWAIT);
                receive_until(Some(case), s, marker)
            }
            SocketType::Sub | SocketType::XSub => {
                let _ = good.send(marker, Flags::DONTWAIT);
                receive_until(Some(case), s, marker)
            }
            // The socket sends; the good peer receives.
            SocketType::Push | SocketType::Pub => {
                let _ = s.send(marker, Flags::DONTWAIT);
                receive_until(None, good, marker)
            }
            SocketType::XPub => {
                // The good SUB's subscription (to everything) reached
                // routing once the XPUB can send to it.
                while recv(Some(case), s, Flags::DONTWAIT).is_some() {}
                let _ = s.send(marker, Flags::DONTWAIT);
                receive_until(None, good, marker)
            }
            SocketType::Rep => {
                let _ = good.send(marker, Flags::DONTWAIT);
                rep_answers((Some(case), s), (None, good), marker)
            }
            SocketType::Req => {
                let _ = s.send(marker, Flags::DONTWAIT);
                rep_answers((None, good), (Some(case), s), marker)
            }
            SocketType::Stream => unreachable!("not drawn"),
        };
        if done {
            return;
        }
    }
}

/// Receives (RCVTIMEO each) until a message ending with `marker`; `false`
/// once nothing more comes.
fn receive_until(bound: Option<&Case>, s: &mut Socket, marker: &[u8]) -> bool {
    while let Some(m) = recv(bound, s, Flags::NONE) {
        if m.last().is_some_and(|f| &f[..] == marker) {
            return true;
        }
    }
    false
}

/// A REP answers every request it gets (the hostile peers' and earlier
/// rounds' too: it may not receive again before it has) until `marker`;
/// then the REQ that sent it must get the answer.
fn rep_answers(
    (rep_bound, rep): (Option<&Case>, &mut Socket),
    (req_bound, req): (Option<&Case>, &mut Socket),
    marker: &[u8],
) -> bool {
    // The script may have left a request unanswered.
    let _ = rep.send(&b"answer"[..], Flags::DONTWAIT);
    while let Some(m) = recv(rep_bound, rep, Flags::NONE) {
        let mine = m.last().is_some_and(|f| &f[..] == marker);
        let _ = rep.send(&b"answer"[..], Flags::DONTWAIT);
        if mine {
            return matches!(recv(req_bound, req, Flags::NONE).as_deref(), Some([a]) if &a[..] == b"answer");
        }
    }
    false
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let case = Case::draw(&mut input);
    let n = CASE.fetch_add(1, Ordering::Relaxed);
    let (mut s, endpoint) = bound(&case, n);
    let mut good = good_peer(&case, &endpoint, n);
    if case.ours == SocketType::Pair || case.has(OPT_GOOD_FIRST) {
        // PAIR takes one peer: the good one first, hostile ones refused.
        exchange(&case, &mut s, &mut good, n);
    }
    let hostiles = script(&case, &mut input, &mut s, &endpoint);
    if case.close_at_end {
        drop(hostiles);
        exchange(&case, &mut s, &mut good, n);
    } else {
        exchange(&case, &mut s, &mut good, n);
        drop(hostiles);
    }
});
