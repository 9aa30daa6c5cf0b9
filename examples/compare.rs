//! zlink-mq against libzmq, side by side, in one run.
//!
//! ```text
//! cargo run --release --example compare                 # the full default run
//! cargo run --release --example compare -- --quick      # a smoke test
//! cargo run --release --example compare -- --help
//! ```
//!
//! For every pattern (PAIR, PUBSUB, DEALER_DEALER, DEALER_ROUTER,
//! PUSH_PULL), transport (inproc, ipc, tcp) and message size, both libraries
//! move the same number of messages from a sender thread to a receiver
//! thread, and REQ_REP ping-pong measures one-way latency. libzmq is the
//! real thing: 4.3.4 built from source by the `zmq` crate.
//!
//! Method (see `BENCHMARKING.md`):
//! - the libraries alternate within each measurement cell, A B then B A, for
//!   every repetition, so slow phases of a shared machine hit both alike;
//! - both get the same settings: a fresh context with one I/O thread per
//!   run, SNDHWM = RCVHWM (1000 by default, libzmq's default), LINGER 0
//!   (every counted message has arrived before anything closes), and
//!   TCP_NODELAY (both set it on every TCP connection, unconditionally);
//! - PUBSUB: the publisher blocks instead of dropping (XPUB_NODROP on both),
//!   so every message is counted; before timing, the publisher sends probe
//!   messages until the subscriber has seen one (the subscription has
//!   arrived), and the subscriber skips them;
//! - throughput is timed on the receiver, first message to last; DEALER_ROUTER
//!   counts a message per identity + payload pair;
//! - the table shows medians and the min-max spread; the ratio is zlink-mq's
//!   median over libzmq's (above 1 is faster for throughput; below 1 is
//!   faster for latency).
#![allow(unsafe_code)]

use std::error::Error;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// A run that takes longer than this per message wait has failed: it is
/// reported as failed instead of hanging the whole comparison.
const TIMEOUT: Duration = Duration::from_secs(10);

// ----- what is measured ---------------------------------------------------

/// A messaging pattern: which socket types, and who receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    Pair,
    PubSub,
    DealerDealer,
    DealerRouter,
    PushPull,
}

impl Pattern {
    const ALL: [Pattern; 5] = [
        Pattern::Pair,
        Pattern::PubSub,
        Pattern::DealerDealer,
        Pattern::DealerRouter,
        Pattern::PushPull,
    ];

    fn name(self) -> &'static str {
        match self {
            Pattern::Pair => "PAIR",
            Pattern::PubSub => "PUBSUB",
            Pattern::DealerDealer => "DEALER_DEALER",
            Pattern::DealerRouter => "DEALER_ROUTER",
            Pattern::PushPull => "PUSH_PULL",
        }
    }

    /// Sender's and receiver's socket types.
    fn kinds(self) -> (Kind, Kind) {
        match self {
            Pattern::Pair => (Kind::Pair, Kind::Pair),
            Pattern::PubSub => (Kind::Pub, Kind::Sub),
            Pattern::DealerDealer => (Kind::Dealer, Kind::Dealer),
            Pattern::DealerRouter => (Kind::Dealer, Kind::Router),
            Pattern::PushPull => (Kind::Push, Kind::Pull),
        }
    }
}

/// The socket types the harness uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pair,
    Pub,
    Sub,
    Dealer,
    Router,
    Push,
    Pull,
    Req,
    Rep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Inproc,
    Ipc,
    Tcp,
}

impl Transport {
    const ALL: [Transport; 3] = [Transport::Inproc, Transport::Ipc, Transport::Tcp];

    fn name(self) -> &'static str {
        match self {
            Transport::Inproc => "inproc",
            Transport::Ipc => "ipc",
            Transport::Tcp => "tcp",
        }
    }

    /// Where the receiver binds (each run has a fresh context, so one
    /// inproc name does).
    fn bind_endpoint(self) -> &'static str {
        match self {
            Transport::Inproc => "inproc://compare",
            Transport::Ipc => "ipc://*",
            Transport::Tcp => "tcp://127.0.0.1:*",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Library {
    Zlink,
    Libzmq,
}

impl Library {
    fn name(self) -> &'static str {
        match self {
            Library::Zlink => "zlink-mq",
            Library::Libzmq => "libzmq",
        }
    }
}

// ----- the two libraries behind one small interface -------------------------

/// What the harness does with a socket; implemented over both libraries so
/// one measurement loop drives both.
trait Sock: Send + 'static {
    /// Binds; returns the endpoint to connect to (the chosen port or path).
    fn bind(&mut self, endpoint: &str) -> Result<String>;
    fn connect(&mut self, endpoint: &str) -> Result<()>;
    fn subscribe_all(&mut self) -> Result<()>;
    /// Sends a new message holding `data` (as libzmq's `remote_thr`
    /// creates one per send); blocks at the high-water mark.
    fn send(&mut self, data: &[u8], more: bool) -> Result<()>;
    /// As `send` without blocking; `false` if it would have blocked.
    fn try_send(&mut self, data: &[u8]) -> Result<bool>;
    /// Receives a frame into the socket's held message; its length and
    /// whether more frames follow.
    fn recv(&mut self) -> Result<(usize, bool)>;
    /// Sends the held message (the last one received, or the initial
    /// payload), as libzmq's latency tools pass one `zmq_msg_t` back and
    /// forth.
    fn send_held(&mut self) -> Result<()>;
    /// Sets the held message to `data`.
    fn hold(&mut self, data: &[u8]);
}

/// A library: how to make a context and sockets with the shared settings.
trait Lib {
    type Ctx: Clone + Send + 'static;
    type Sock: Sock;
    fn context() -> Result<Self::Ctx>;
    fn socket(ctx: &Self::Ctx, kind: Kind, hwm: u32) -> Result<Self::Sock>;
}

mod zlink {
    use super::*;
    use zlink_mq::{Context, Flags, Msg, Socket, SocketType};

    pub struct Zlink;

    pub struct ZSock {
        socket: Socket,
        held: Option<Msg>,
    }

    impl Lib for Zlink {
        type Ctx = Context;
        type Sock = ZSock;

        fn context() -> Result<Context> {
            Ok(Context::with_io_threads(1))
        }

        fn socket(ctx: &Context, kind: Kind, hwm: u32) -> Result<ZSock> {
            let mut socket = ctx.socket(match kind {
                Kind::Pair => SocketType::Pair,
                Kind::Pub => SocketType::Pub,
                Kind::Sub => SocketType::Sub,
                Kind::Dealer => SocketType::Dealer,
                Kind::Router => SocketType::Router,
                Kind::Push => SocketType::Push,
                Kind::Pull => SocketType::Pull,
                Kind::Req => SocketType::Req,
                Kind::Rep => SocketType::Rep,
            })?;
            socket.set_sndhwm(hwm);
            socket.set_rcvhwm(hwm);
            socket.set_linger(Some(Duration::ZERO));
            socket.set_sndtimeo(Some(TIMEOUT));
            socket.set_rcvtimeo(Some(TIMEOUT));
            if kind == Kind::Pub {
                socket.set_xpub_nodrop(true);
            }
            Ok(ZSock { socket, held: None })
        }
    }

    impl Sock for ZSock {
        fn bind(&mut self, endpoint: &str) -> Result<String> {
            self.socket.bind(endpoint)?;
            Ok(self
                .socket
                .last_endpoint()
                .ok_or("no last endpoint")?
                .to_owned())
        }

        fn connect(&mut self, endpoint: &str) -> Result<()> {
            Ok(self.socket.connect(endpoint)?)
        }

        fn subscribe_all(&mut self) -> Result<()> {
            Ok(self.socket.subscribe(b"")?)
        }

        #[inline]
        fn send(&mut self, data: &[u8], more: bool) -> Result<()> {
            let flags = if more { Flags::SNDMORE } else { Flags::NONE };
            Ok(self.socket.send(data, flags)?)
        }

        fn try_send(&mut self, data: &[u8]) -> Result<bool> {
            match self.socket.send(data, Flags::DONTWAIT) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == zlink_mq::ErrorKind::WouldBlock => Ok(false),
                Err(e) => Err(e.into()),
            }
        }

        #[inline]
        fn recv(&mut self) -> Result<(usize, bool)> {
            let msg = self.socket.recv(Flags::NONE)?;
            let r = (msg.len(), msg.more());
            self.held = Some(msg);
            Ok(r)
        }

        fn send_held(&mut self) -> Result<()> {
            let msg = self.held.take().ok_or("no message held")?;
            Ok(self.socket.send(msg, Flags::NONE)?)
        }

        fn hold(&mut self, data: &[u8]) {
            self.held = Some(Msg::copy_from_slice(data));
        }
    }
}

mod libzmq {
    use super::*;

    pub struct Libzmq;

    pub struct LSock {
        socket: zmq::Socket,
        held: zmq::Message,
    }

    fn set_int(socket: &mut zmq::Socket, option: u32, value: i32) -> Result<()> {
        // SAFETY: `socket` is a live libzmq socket (owned by `zmq::Socket`),
        // and the option value is a 4-byte int as libzmq expects for
        // integer options; libzmq copies it before returning.
        let rc = unsafe {
            zmq_sys::zmq_setsockopt(
                socket.as_mut_ptr(),
                option as i32,
                (&raw const value).cast(),
                std::mem::size_of::<i32>(),
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(format!("zmq_setsockopt({option}) failed").into())
        }
    }

    impl Lib for Libzmq {
        type Ctx = zmq::Context;
        type Sock = LSock;

        fn context() -> Result<zmq::Context> {
            let ctx = zmq::Context::new();
            ctx.set_io_threads(1)?;
            Ok(ctx)
        }

        fn socket(ctx: &zmq::Context, kind: Kind, hwm: u32) -> Result<LSock> {
            let mut socket = ctx.socket(match kind {
                Kind::Pair => zmq::PAIR,
                Kind::Pub => zmq::PUB,
                Kind::Sub => zmq::SUB,
                Kind::Dealer => zmq::DEALER,
                Kind::Router => zmq::ROUTER,
                Kind::Push => zmq::PUSH,
                Kind::Pull => zmq::PULL,
                Kind::Req => zmq::REQ,
                Kind::Rep => zmq::REP,
            })?;
            socket.set_sndhwm(hwm as i32)?;
            socket.set_rcvhwm(hwm as i32)?;
            socket.set_linger(0)?;
            socket.set_sndtimeo(TIMEOUT.as_millis() as i32)?;
            socket.set_rcvtimeo(TIMEOUT.as_millis() as i32)?;
            if kind == Kind::Pub {
                set_int(&mut socket, zmq_sys::ZMQ_XPUB_NODROP, 1)?;
            }
            Ok(LSock {
                socket,
                held: zmq::Message::new(),
            })
        }
    }

    impl Sock for LSock {
        fn bind(&mut self, endpoint: &str) -> Result<String> {
            self.socket.bind(endpoint)?;
            self.socket
                .get_last_endpoint()?
                .map_err(|_| "last endpoint is not UTF-8".into())
        }

        fn connect(&mut self, endpoint: &str) -> Result<()> {
            Ok(self.socket.connect(endpoint)?)
        }

        fn subscribe_all(&mut self) -> Result<()> {
            Ok(self.socket.set_subscribe(b"")?)
        }

        #[inline]
        fn send(&mut self, data: &[u8], more: bool) -> Result<()> {
            let flags = if more { zmq::SNDMORE } else { 0 };
            Ok(self.socket.send(data, flags)?)
        }

        fn try_send(&mut self, data: &[u8]) -> Result<bool> {
            match self.socket.send(data, zmq::DONTWAIT) {
                Ok(()) => Ok(true),
                Err(zmq::Error::EAGAIN) => Ok(false),
                Err(e) => Err(e.into()),
            }
        }

        #[inline]
        fn recv(&mut self) -> Result<(usize, bool)> {
            self.socket.recv(&mut self.held, 0)?;
            Ok((self.held.len(), self.held.get_more()))
        }

        fn send_held(&mut self) -> Result<()> {
            let msg = std::mem::replace(&mut self.held, zmq::Message::new());
            Ok(self.socket.send(msg, 0)?)
        }

        fn hold(&mut self, data: &[u8]) {
            self.held = zmq::Message::from(data);
        }
    }
}

// ----- the measurements ----------------------------------------------------

/// Moves `count` messages of `size` bytes from a sender thread to this
/// thread; returns messages per second, timed here from the first message
/// received to the last.
fn throughput<L: Lib>(
    pattern: Pattern,
    transport: Transport,
    size: usize,
    count: u64,
    hwm: u32,
) -> Result<f64> {
    let ctx = L::context()?;
    let (send_kind, recv_kind) = pattern.kinds();
    let mut rx = L::socket(&ctx, recv_kind, hwm)?;
    let endpoint = rx.bind(transport.bind_endpoint())?;
    if recv_kind == Kind::Sub {
        rx.subscribe_all()?;
    }
    let mut tx = L::socket(&ctx, send_kind, hwm)?;
    let subscribed = Arc::new(AtomicBool::new(pattern != Pattern::PubSub));
    let sender = {
        let subscribed = subscribed.clone();
        std::thread::spawn(move || -> Result<L::Sock> {
            tx.connect(&endpoint)?;
            // A probe is one byte longer than a message, so the receiver can
            // tell them apart at any size.
            let probe = vec![1u8; size + 1];
            let start = Instant::now();
            // ORDERING: the flag carries no data; the probes and the
            // messages travel through the sockets.
            while !subscribed.load(Ordering::Relaxed) {
                tx.try_send(&probe)?;
                if start.elapsed() > TIMEOUT {
                    return Err("the subscription never arrived".into());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            let payload = vec![0u8; size];
            for _ in 0..count {
                tx.send(&payload, false)?;
            }
            Ok(tx)
        })
    };
    let router = recv_kind == Kind::Router;
    let next = |rx: &mut L::Sock| -> Result<usize> {
        if router {
            let (_, more) = rx.recv()?;
            if !more {
                return Err("ROUTER received no identity frame".into());
            }
        }
        Ok(rx.recv()?.0)
    };
    let mut received = 0u64;
    let result = (|| -> Result<f64> {
        // First message: skip probes, then start the clock.
        loop {
            let len = next(&mut rx).map_err(|e| format!("{e} (before the first message)"))?;
            if len == size + 1 && pattern == Pattern::PubSub {
                // ORDERING: see the sender.
                subscribed.store(true, Ordering::Relaxed);
                continue;
            }
            if len != size {
                return Err(format!("message of {len} B, expected {size} B").into());
            }
            break;
        }
        received = 1;
        let start = Instant::now();
        while received < count {
            let len = next(&mut rx).map_err(|e| format!("{e} after {received} messages"))?;
            if len != size {
                return Err(format!("message of {len} B, expected {size} B").into());
            }
            received += 1;
        }
        let us = (start.elapsed().as_micros() as u64).max(1);
        Ok(count as f64 * 1e6 / us as f64)
    })();
    // Let a sender blocked on a failed run give up (its send timeout) before
    // the sockets and the context go.
    subscribed.store(true, Ordering::Relaxed);
    let sent = sender.join().map_err(|_| "sender thread panicked")?;
    drop(rx);
    drop(sent);
    drop(ctx);
    result
}

/// `roundtrips` REQ -> REP -> REQ round trips; returns the one-way latency
/// in microseconds (half the mean round trip).
fn latency<L: Lib>(transport: Transport, size: usize, roundtrips: u64, hwm: u32) -> Result<f64> {
    let ctx = L::context()?;
    let mut rep = L::socket(&ctx, Kind::Rep, hwm)?;
    let endpoint = rep.bind(transport.bind_endpoint())?;
    let echo = std::thread::spawn(move || -> Result<()> {
        for _ in 0..roundtrips {
            rep.recv()?;
            rep.send_held()?;
        }
        Ok(())
    });
    let result = (|| -> Result<f64> {
        let mut req = L::socket(&ctx, Kind::Req, hwm)?;
        req.connect(&endpoint)?;
        req.hold(&vec![0u8; size]);
        let start = Instant::now();
        for _ in 0..roundtrips {
            req.send_held()?;
            let (len, _) = req.recv()?;
            if len != size {
                return Err(format!("reply of {len} B, expected {size} B").into());
            }
        }
        Ok(start.elapsed().as_secs_f64() * 1e6 / (2.0 * roundtrips as f64))
    })();
    echo.join().map_err(|_| "echo thread panicked")??;
    drop(ctx);
    result
}

fn measure(lib: Library, job: &Job, cfg: &Config) -> Result<f64> {
    match (lib, job) {
        (Library::Zlink, Job::Thr(p, t, s)) => {
            throughput::<zlink::Zlink>(*p, *t, *s, cfg.count, cfg.hwm)
        }
        (Library::Libzmq, Job::Thr(p, t, s)) => {
            throughput::<libzmq::Libzmq>(*p, *t, *s, cfg.count, cfg.hwm)
        }
        (Library::Zlink, Job::Lat(t, s)) => {
            latency::<zlink::Zlink>(*t, *s, cfg.roundtrips, cfg.hwm)
        }
        (Library::Libzmq, Job::Lat(t, s)) => {
            latency::<libzmq::Libzmq>(*t, *s, cfg.roundtrips, cfg.hwm)
        }
    }
}

// ----- command line ----------------------------------------------------------

#[derive(Debug, Clone)]
struct Config {
    patterns: Vec<Pattern>,
    transports: Vec<Transport>,
    sizes: Vec<usize>,
    count: u64,
    roundtrips: u64,
    reps: usize,
    hwm: u32,
    latency: bool,
    throughput: bool,
    /// Which libraries to run (both for a comparison; one to profile it).
    libs: Vec<Library>,
    json: Option<String>,
    svg: Option<String>,
}

const USAGE: &str = "\
usage: compare [options]

Measures zlink-mq against libzmq 4.3.4 in one run, alternating the two.

  --patterns LIST    PAIR,PUBSUB,DEALER_DEALER,DEALER_ROUTER,PUSH_PULL (default: all)
  --transports LIST  inproc,ipc,tcp (default: all)
  --sizes LIST       message sizes in bytes (default: 64)
  --count N          messages per throughput run (default: 1000000)
  --roundtrips N     round trips per latency run (default: 20000)
  --reps N           repetitions per library (default: 5)
  --hwm N            SNDHWM and RCVHWM on both (default: 1000)
  --quick            smoke test: --count 20000 --roundtrips 500 --reps 2
  --libs LIST        zlink-mq,libzmq (default: both; one alone, e.g. to profile it)
  --no-latency       skip the REQ_REP latency rows
  --no-throughput    skip the throughput rows
  --json FILE        also write every sample as JSON
  --svg FILE         also draw throughput by message size as SVG
  --help             this text
";

fn parse_list<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>> {
    text.split(',')
        .map(|s| parse(s.trim()).ok_or_else(|| format!("unknown value: {s}").into()))
        .collect()
}

fn parse_args() -> Result<Config> {
    let mut cfg = Config {
        patterns: Pattern::ALL.to_vec(),
        transports: Transport::ALL.to_vec(),
        sizes: vec![64],
        count: 1_000_000,
        roundtrips: 20_000,
        reps: 5,
        hwm: 1000,
        latency: true,
        throughput: true,
        libs: vec![Library::Zlink, Library::Libzmq],
        json: None,
        svg: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--patterns" => {
                cfg.patterns = parse_list(&value()?, |s| {
                    Pattern::ALL
                        .into_iter()
                        .find(|p| p.name().eq_ignore_ascii_case(s))
                })?
            }
            "--transports" => {
                cfg.transports = parse_list(&value()?, |s| {
                    Transport::ALL
                        .into_iter()
                        .find(|t| t.name().eq_ignore_ascii_case(s))
                })?
            }
            "--sizes" => cfg.sizes = parse_list(&value()?, |s| s.parse().ok())?,
            "--count" => cfg.count = value()?.parse()?,
            "--roundtrips" => cfg.roundtrips = value()?.parse()?,
            "--reps" => cfg.reps = value()?.parse()?,
            "--hwm" => cfg.hwm = value()?.parse()?,
            "--quick" => {
                cfg.count = 20_000;
                cfg.roundtrips = 500;
                cfg.reps = 2;
            }
            "--libs" => {
                cfg.libs = parse_list(&value()?, |s| {
                    [Library::Zlink, Library::Libzmq]
                        .into_iter()
                        .find(|l| l.name().eq_ignore_ascii_case(s))
                })?
            }
            "--no-latency" => cfg.latency = false,
            "--no-throughput" => cfg.throughput = false,
            "--json" => cfg.json = Some(value()?),
            "--svg" => cfg.svg = Some(value()?),
            "--help" | "-h" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument: {other}\n\n{USAGE}").into()),
        }
    }
    if cfg.count == 0 || cfg.roundtrips == 0 || cfg.reps == 0 {
        return Err("--count, --roundtrips and --reps must be at least 1".into());
    }
    Ok(cfg)
}

// ----- running and reporting ---------------------------------------------------

/// One cell of the table.
#[derive(Debug, Clone, Copy)]
enum Job {
    Thr(Pattern, Transport, usize),
    Lat(Transport, usize),
}

impl Job {
    fn describe(&self) -> String {
        match self {
            Job::Thr(p, t, s) => format!("{} {} {s} B", p.name(), t.name()),
            Job::Lat(t, s) => format!("REQ_REP latency {} {s} B", t.name()),
        }
    }
}

/// A cell's samples per library (`None`: that run failed).
#[derive(Debug)]
struct Cell {
    job: Job,
    zlink: Vec<Option<f64>>,
    libzmq: Vec<Option<f64>>,
}

/// Median, min and max of the successful samples.
fn stats(samples: &[Option<f64>]) -> Option<(f64, f64, f64)> {
    let mut ok: Vec<f64> = samples.iter().flatten().copied().collect();
    if ok.is_empty() {
        return None;
    }
    ok.sort_by(f64::total_cmp);
    let n = ok.len();
    let median = if n % 2 == 1 {
        ok[n / 2]
    } else {
        (ok[n / 2 - 1] + ok[n / 2]) / 2.0
    };
    Some((median, ok[0], ok[n - 1]))
}

fn run(cfg: &Config) -> Vec<Cell> {
    let mut jobs = Vec::new();
    for &size in &cfg.sizes {
        if cfg.throughput {
            for &p in &cfg.patterns {
                for &t in &cfg.transports {
                    jobs.push(Job::Thr(p, t, size));
                }
            }
        }
        if cfg.latency {
            for &t in &cfg.transports {
                jobs.push(Job::Lat(t, size));
            }
        }
    }
    let total = jobs.len() * cfg.reps * cfg.libs.len();
    let tty = std::io::stderr().is_terminal();
    let mut done = 0;
    let mut cells = Vec::new();
    for job in jobs {
        let mut cell = Cell {
            job,
            zlink: Vec::new(),
            libzmq: Vec::new(),
        };
        for rep in 0..cfg.reps {
            // A B, then B A: neither library always runs first.
            let order = if rep % 2 == 0 {
                [Library::Zlink, Library::Libzmq]
            } else {
                [Library::Libzmq, Library::Zlink]
            };
            for lib in order.into_iter().filter(|l| cfg.libs.contains(l)) {
                done += 1;
                let line = format!(
                    "[{done}/{total}] {} rep {}/{} {}",
                    job.describe(),
                    rep + 1,
                    cfg.reps,
                    lib.name()
                );
                if tty {
                    eprint!("\r{line:<72}");
                } else {
                    eprintln!("{line}");
                }
                let sample = match measure(lib, &job, cfg) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        eprintln!("\n{}: {} failed: {e}", job.describe(), lib.name());
                        None
                    }
                };
                match lib {
                    Library::Zlink => cell.zlink.push(sample),
                    Library::Libzmq => cell.libzmq.push(sample),
                }
            }
        }
        cells.push(cell);
    }
    if tty {
        eprintln!();
    }
    cells
}

/// A cell's text: median (min-max), "failed" if every run failed, "not
/// run" if the library was left out.
fn fmt_cell(samples: &[Option<f64>], one: impl Fn(f64) -> String) -> String {
    match stats(samples) {
        Some((m, lo, hi)) => format!("{} ({}-{})", one(m), one(lo), one(hi)),
        None if samples.is_empty() => "not run".into(),
        None => "failed".into(),
    }
}

fn fmt_rate(samples: &[Option<f64>]) -> String {
    fmt_cell(samples, |v| format!("{:.3}", v / 1e6)).replacen(" (", " M (", 1)
}

fn fmt_us(samples: &[Option<f64>]) -> String {
    fmt_cell(samples, |v| format!("{v:.2}")).replacen(" (", " us (", 1)
}

fn ratio(a: Option<(f64, f64, f64)>, b: Option<(f64, f64, f64)>) -> Option<f64> {
    Some(a?.0 / b?.0)
}

fn table(cfg: &Config, cells: &[Cell]) -> String {
    let mut out = String::new();
    for &size in &cfg.sizes {
        let rows: Vec<&Cell> = cells
            .iter()
            .filter(|c| matches!(c.job, Job::Thr(_, _, s) | Job::Lat(_, s) if s == size))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let mut what = Vec::new();
        if cfg.throughput {
            what.push(format!("throughput: {} messages per run", cfg.count));
        }
        if cfg.latency {
            what.push(format!("latency: {} round trips per run", cfg.roundtrips));
        }
        let _ = writeln!(
            out,
            "{size} B messages; {}; median (min-max) of {} runs per library\n",
            what.join("; "),
            cfg.reps
        );
        out.push_str("| Pattern | Transport | zlink-mq msg/s | libzmq msg/s | ratio |\n");
        out.push_str("| --- | --- | --- | --- | --- |\n");
        for c in &rows {
            let (z, l) = (stats(&c.zlink), stats(&c.libzmq));
            let r = ratio(z, l).map_or("-".into(), |r| format!("{r:.2}x"));
            match c.job {
                Job::Thr(p, t, _) => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} | {r} |",
                        p.name(),
                        t.name(),
                        fmt_rate(&c.zlink),
                        fmt_rate(&c.libzmq)
                    );
                }
                Job::Lat(t, _) => {
                    let _ = writeln!(
                        out,
                        "| REQ_REP one-way latency | {} | {} | {} | {r} |",
                        t.name(),
                        fmt_us(&c.zlink),
                        fmt_us(&c.libzmq)
                    );
                }
            }
        }
        out.push_str(
            "\nratio = zlink-mq / libzmq (medians): above 1 is faster for throughput, \
             below 1 is faster for latency.\n\n",
        );
    }
    out
}

/// Today's date (UTC) as YYYY-MM-DD, without a date crate.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Howard Hinnant's days-to-civil algorithm.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn json(cfg: &Config, cells: &[Cell]) -> serde_json::Value {
    use serde_json::json;
    let stat = |s: Option<(f64, f64, f64)>| {
        s.map(|(median, min, max)| json!({"median": median, "min": min, "max": max}))
    };
    let rows: Vec<serde_json::Value> = cells
        .iter()
        .map(|c| {
            let (z, l) = (stats(&c.zlink), stats(&c.libzmq));
            let (kind, pattern, transport, size, unit) = match c.job {
                Job::Thr(p, t, s) => ("throughput", p.name(), t.name(), s, "msg/s"),
                Job::Lat(t, s) => ("latency", "REQ_REP", t.name(), s, "us"),
            };
            json!({
                "kind": kind,
                "pattern": pattern,
                "transport": transport,
                "size": size,
                "unit": unit,
                "zlink_mq": {"samples": c.zlink, "stats": stat(z)},
                "libzmq": {"samples": c.libzmq, "stats": stat(l)},
                "ratio": ratio(z, l),
            })
        })
        .collect();
    json!({
        "date": today(),
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "libzmq_version": format!("{:?}", zmq::version()),
        "count": cfg.count,
        "roundtrips": cfg.roundtrips,
        "reps": cfg.reps,
        "hwm": cfg.hwm,
        "results": rows,
    })
}

/// Throughput by message size: a panel per transport, a colour per pattern,
/// zlink-mq solid, libzmq dashed.
fn svg(cfg: &Config, cells: &[Cell], path: &str) -> Result<()> {
    use plotters::prelude::*;

    let median = |samples: &[Option<f64>]| stats(samples).map(|s| s.0);
    let mut lo = f64::MAX;
    let mut hi = f64::MIN;
    for c in cells {
        if let Job::Thr(..) = c.job {
            for v in [median(&c.zlink), median(&c.libzmq)].into_iter().flatten() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if lo > hi {
        return Err("no throughput results to draw".into());
    }
    let (ylo, yhi) = (lo / 1.5, hi * 1.5);
    let smin = *cfg.sizes.iter().min().expect("at least one size") as f64;
    let smax = *cfg.sizes.iter().max().expect("at least one size") as f64;
    let (xlo, xhi) = (smin / 1.5, smax * 1.5);

    let width = 520 * cfg.transports.len() as u32;
    let root = SVGBackend::new(path, (width, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        &format!(
            "zlink-mq (solid) vs libzmq 4.3.4 (dashed): throughput by message size, {} msgs, median of {}",
            cfg.count, cfg.reps
        ),
        ("sans-serif", 18),
    )?;
    let panels = root.split_evenly((1, cfg.transports.len()));
    for (panel, &t) in panels.iter().zip(&cfg.transports) {
        let mut chart = ChartBuilder::on(panel)
            .caption(t.name(), ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((xlo..xhi).log_scale(), (ylo..yhi).log_scale())?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(8)
            .x_desc("message size [B]")
            .y_desc("msg/s")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{:.2}M", y / 1e6))
            .draw()?;
        for (i, &p) in cfg.patterns.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let points = |lib: Library| -> Vec<(f64, f64)> {
                cells
                    .iter()
                    .filter_map(|c| match c.job {
                        Job::Thr(cp, ct, s) if cp == p && ct == t => {
                            let samples = match lib {
                                Library::Zlink => &c.zlink,
                                Library::Libzmq => &c.libzmq,
                            };
                            median(samples).map(|m| (s as f64, m))
                        }
                        _ => None,
                    })
                    .collect()
            };
            let ours = points(Library::Zlink);
            chart
                .draw_series(LineSeries::new(ours.clone(), color.stroke_width(2)))?
                .label(p.name())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart.draw_series(ours.iter().map(|&xy| Circle::new(xy, 3, color.filled())))?;
            chart.draw_series(DashedLineSeries::new(
                points(Library::Libzmq),
                6,
                4,
                color.stroke_width(1),
            ))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn main() {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let cells = run(&cfg);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "zlink-mq vs libzmq {:?}, {}, {cores} cores, {:.0} s\n",
        zmq::version(),
        today(),
        started.elapsed().as_secs_f64()
    );
    print!("{}", table(&cfg, &cells));
    let _ = std::io::stdout().flush();
    if let Some(path) = &cfg.json {
        let text = serde_json::to_string_pretty(&json(&cfg, &cells)).expect("JSON values");
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("writing {path}: {e}");
            std::process::exit(1);
        }
    }
    if let Some(path) = &cfg.svg {
        if let Err(e) = svg(&cfg, &cells, path) {
            eprintln!("drawing {path}: {e}");
            std::process::exit(1);
        }
    }
    let failed = cells
        .iter()
        .any(|c| c.zlink.iter().chain(&c.libzmq).any(Option::is_none));
    if failed {
        std::process::exit(1);
    }
}
