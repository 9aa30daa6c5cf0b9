//! zlink-mq against libzmq with many peers on one ROUTER (issue 14).
//!
//! ```text
//! cargo run --release --example scale                  # both parts, both libraries
//! cargo run --release --example scale -- --help
//! ```
//!
//! - **Round trips**: a ROUTER over tcp echoes every request from its own
//!   thread; `--peers` DEALERs in this process, all driven by one thread
//!   that polls them together (`poll` / `zmq_poll`), keep one request each
//!   in flight for `--seconds`. Reported: round trips per second in total,
//!   the process CPU time per round trip, and each peer's round trips:
//!   slowest, median and fastest peer (fairness: a ROUTER that serves some
//!   connections first starves the others).
//! - **Idle connections**: a ROUTER in a process of its own (this program
//!   again, `--idle-server`); a second process opens `--idle` tcp
//!   connections to it, each a DEALER speaking ZMTP 3.1 by hand (greeting,
//!   NULL READY) that sends one 1-byte message and then stays open and
//!   silent. Once the ROUTER has received every message (so each connection
//!   is established, handshaken and attached to the socket), the server's
//!   RSS growth over its RSS with the ROUTER bound, per connection. Each
//!   run has fresh processes, so memory one run freed cannot flatter the
//!   next, and the clients' memory and descriptors are not the server's.
//!
//! As `compare`: the libraries alternate per repetition (A B, then B A),
//! libzmq is loaded with `dlopen` (the system's `libzmq.so.5`, else the
//! vendored build configured as distributions build it), and both get the
//! same settings (one I/O thread, default HWM, LINGER 0, TCP_NODELAY).
#![allow(unsafe_code)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::libzmq::{self as lz, Choice};
use common::perf::Result;
use common::process_cpu;

/// A run without progress for this long has failed.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How often a blocked ROUTER or poller looks at the stop flag.
const TICK: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lib {
    Zlink,
    Libzmq,
}

impl Lib {
    fn name(self) -> &'static str {
        match self {
            Lib::Zlink => "zlink-mq",
            Lib::Libzmq => "libzmq",
        }
    }

    fn parse(s: &str) -> Option<Lib> {
        [Lib::Zlink, Lib::Libzmq]
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s))
    }
}

/// One round-trip run: every peer's count over `elapsed`, and the process
/// CPU time it took.
#[derive(Debug, Clone)]
struct RoundTrips {
    counts: Vec<u64>,
    elapsed: Duration,
    cpu: Duration,
}

impl RoundTrips {
    fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    fn per_second(&self) -> f64 {
        self.total() as f64 / self.elapsed.as_secs_f64()
    }

    fn cpu_ns(&self) -> f64 {
        self.cpu.as_nanos() as f64 / self.total().max(1) as f64
    }

    /// Slowest, median and fastest peer, in round trips per second.
    fn peers(&self) -> (f64, f64, f64) {
        let mut c = self.counts.clone();
        c.sort_unstable();
        let s = self.elapsed.as_secs_f64();
        (
            c[0] as f64 / s,
            c[c.len() / 2] as f64 / s,
            c[c.len() - 1] as f64 / s,
        )
    }
}

/// Drives the DEALERs: after every peer's first reply (all connected),
/// counts replies for `duration`, sending the next request as each reply
/// comes. `poll` waits for any peer to be readable (at most `TICK`) and
/// returns which; `echo` receives and re-sends what peer `i` has, returning
/// how many it received.
fn drive(
    peers: usize,
    duration: Duration,
    mut poll: impl FnMut(&mut Vec<usize>) -> Result<()>,
    mut echo: impl FnMut(usize) -> Result<u64>,
) -> Result<RoundTrips> {
    let mut ready = Vec::with_capacity(peers);
    let mut answered = vec![false; peers];
    let mut waiting = peers;
    let deadline = Instant::now() + TIMEOUT;
    while waiting > 0 {
        if Instant::now() > deadline {
            return Err(format!("{waiting} of {peers} peers never had a reply").into());
        }
        poll(&mut ready)?;
        for &i in &ready {
            if echo(i)? > 0 && !answered[i] {
                answered[i] = true;
                waiting -= 1;
            }
        }
    }
    let mut counts = vec![0u64; peers];
    let cpu = process_cpu();
    let start = Instant::now();
    while start.elapsed() < duration {
        poll(&mut ready)?;
        for &i in &ready {
            counts[i] += echo(i)?;
        }
    }
    let elapsed = start.elapsed();
    let cpu = process_cpu().saturating_sub(cpu);
    Ok(RoundTrips {
        counts,
        elapsed,
        cpu,
    })
}

mod zlink {
    use super::*;
    use zlink_mq::{Context, Events, Flags, PollItem, Socket, SocketType, poll};

    fn socket(ctx: &Context, kind: SocketType) -> Result<Socket> {
        let mut s = ctx.socket(kind)?;
        s.set_linger(Some(Duration::ZERO));
        s.set_sndtimeo(Some(TIMEOUT));
        Ok(s)
    }

    pub fn round_trips(peers: usize, size: usize, duration: Duration) -> Result<RoundTrips> {
        let ctx = Context::with_io_threads(1);
        let mut router = socket(&ctx, SocketType::Router)?;
        router.set_rcvtimeo(Some(TICK));
        router.bind("tcp://127.0.0.1:*")?;
        let endpoint = router.last_endpoint().ok_or("no endpoint")?.to_owned();
        let stop = Arc::new(AtomicBool::new(false));
        let echo = {
            let stop = stop.clone();
            std::thread::spawn(move || -> Result<()> {
                // ORDERING: the flag carries no data.
                while !stop.load(Ordering::Relaxed) {
                    let id = match router.recv(Flags::NONE) {
                        Ok(m) => m,
                        Err(e) if e.is_would_block() => continue,
                        Err(e) => return Err(e.into()),
                    };
                    let body = router.recv(Flags::NONE)?;
                    router.send(id, Flags::SNDMORE)?;
                    router.send(body, Flags::NONE)?;
                }
                Ok(())
            })
        };
        let result = (|| {
            let mut dealers = Vec::with_capacity(peers);
            for _ in 0..peers {
                let mut d = socket(&ctx, SocketType::Dealer)?;
                d.connect(&endpoint)?;
                d.send(vec![0u8; size], Flags::NONE)?;
                dealers.push(d);
            }
            let items = std::cell::RefCell::new(
                dealers
                    .iter_mut()
                    .map(|d| PollItem::socket(d, Events::READABLE))
                    .collect::<Vec<_>>(),
            );
            drive(
                peers,
                duration,
                |ready| {
                    let mut items = items.borrow_mut();
                    poll(&mut items, Some(TICK))?;
                    ready.clear();
                    ready.extend(
                        items
                            .iter()
                            .enumerate()
                            .filter(|(_, it)| it.is_readable())
                            .map(|(i, _)| i),
                    );
                    Ok(())
                },
                |i| {
                    let mut items = items.borrow_mut();
                    let d = items[i].socket_mut().ok_or("a socket item")?;
                    let mut n = 0;
                    loop {
                        match d.recv(Flags::DONTWAIT) {
                            Ok(m) => {
                                n += 1;
                                d.send(m, Flags::NONE)?;
                            }
                            Err(e) if e.is_would_block() => return Ok(n),
                            Err(e) => return Err(e.into()),
                        }
                    }
                },
            )
        })();
        // ORDERING: as above.
        stop.store(true, Ordering::Relaxed);
        echo.join().map_err(|_| "echo thread panicked")??;
        result
    }

    /// The server of an idle-connections run: a bound ROUTER; `round`
    /// gets its endpoint and the round, and returns once `n` peers have
    /// sent their message, which the ROUTER then receives; `rounds` times.
    pub fn idle_server(
        n: usize,
        rounds: usize,
        mut round: impl FnMut(&str, usize) -> Result<()>,
    ) -> Result<IdleRss> {
        let ctx = Context::with_io_threads(1);
        let mut router = socket(&ctx, SocketType::Router)?;
        router.set_rcvtimeo(Some(TIMEOUT));
        router.bind("tcp://127.0.0.1:*")?;
        let endpoint = router.last_endpoint().ok_or("no endpoint")?.to_owned();
        let before = rss_kib()?;
        for r in 0..rounds {
            round(&endpoint, r)?;
            for i in 0..n {
                router
                    .recv_multipart(Flags::NONE)
                    .map_err(|e| format!("{e} after {i} of {n} messages"))?;
            }
        }
        Ok(IdleRss {
            before,
            after: rss_kib()?,
        })
    }
}

mod libzmq {
    use super::*;
    use lz::{
        CtxPtr, PollItem, ZMQ_DONTWAIT, ZMQ_IO_THREADS, ZMQ_LAST_ENDPOINT, ZMQ_LINGER, ZMQ_POLLIN,
        ZMQ_RCVTIMEO, ZMQ_SNDMORE, ZMQ_SNDTIMEO, ZmqMsg, api, fail, would_block,
    };
    use std::ffi::{CStr, CString, c_int, c_void};

    const ZMQ_MAX_SOCKETS: c_int = 2;
    const ZMQ_DEALER: c_int = 5;
    const ZMQ_ROUTER: c_int = 6;

    /// A socket, closed when dropped (before its context).
    struct Sock(*mut c_void);

    // SAFETY: a libzmq socket may move to another thread when one thread
    // at a time uses it, as here.
    unsafe impl Send for Sock {}

    impl Drop for Sock {
        fn drop(&mut self) {
            // SAFETY: a live socket, closed once.
            unsafe { (api().fns.close)(self.0) };
        }
    }

    impl Sock {
        fn new(ctx: &CtxPtr, kind: c_int) -> Result<Sock> {
            // SAFETY: a live context.
            let s = unsafe { (api().fns.socket)(ctx.0, kind) };
            if s.is_null() {
                return Err(fail("zmq_socket"));
            }
            let s = Sock(s);
            s.set(ZMQ_LINGER, 0)?;
            s.set(ZMQ_SNDTIMEO, TIMEOUT.as_millis() as i32)?;
            Ok(s)
        }

        fn set(&self, option: c_int, value: i32) -> Result<()> {
            // SAFETY: a live socket; a 4-byte int option, copied by libzmq.
            let rc =
                unsafe { (api().fns.setsockopt)(self.0, option, (&raw const value).cast(), 4) };
            if rc == 0 {
                Ok(())
            } else {
                Err(fail(&format!("zmq_setsockopt({option})")))
            }
        }

        fn bind(&self, endpoint: &str) -> Result<String> {
            let f = &api().fns;
            let c = CString::new(endpoint)?;
            // SAFETY: a live socket and a NUL-terminated endpoint.
            if unsafe { (f.bind)(self.0, c.as_ptr()) } != 0 {
                return Err(fail("zmq_bind"));
            }
            let mut buf = [0u8; 256];
            let mut len = buf.len();
            // SAFETY: libzmq writes at most `len` bytes and stores the
            // length it wrote.
            let rc = unsafe {
                (f.getsockopt)(self.0, ZMQ_LAST_ENDPOINT, buf.as_mut_ptr().cast(), &mut len)
            };
            if rc != 0 {
                return Err(fail("zmq_getsockopt(ZMQ_LAST_ENDPOINT)"));
            }
            Ok(CStr::from_bytes_until_nul(&buf[..len])?
                .to_str()?
                .to_owned())
        }

        fn connect(&self, endpoint: &str) -> Result<()> {
            let c = CString::new(endpoint)?;
            // SAFETY: a live socket and a NUL-terminated endpoint.
            if unsafe { (api().fns.connect)(self.0, c.as_ptr()) } != 0 {
                return Err(fail("zmq_connect"));
            }
            Ok(())
        }

        /// Receives into `msg`; `Ok(false)` on EAGAIN (timeout or
        /// DONTWAIT).
        fn recv(&self, msg: &mut Msg, flags: c_int) -> Result<bool> {
            // SAFETY: a live socket and an initialised message.
            if unsafe { (api().fns.msg_recv)(&mut msg.0, self.0, flags) } >= 0 {
                Ok(true)
            } else if would_block() {
                Ok(false)
            } else {
                Err(fail("zmq_msg_recv"))
            }
        }

        /// Sends `msg` (which is left empty).
        fn send(&self, msg: &mut Msg, flags: c_int) -> Result<()> {
            // SAFETY: a live socket and an initialised message; on success
            // libzmq leaves it empty and initialised.
            if unsafe { (api().fns.msg_send)(&mut msg.0, self.0, flags) } < 0 {
                return Err(fail("zmq_msg_send"));
            }
            Ok(())
        }

        fn send_bytes(&self, data: &[u8]) -> Result<()> {
            // SAFETY: a live socket; libzmq copies `data`.
            if unsafe { (api().fns.send)(self.0, data.as_ptr().cast(), data.len(), 0) } < 0 {
                return Err(fail("zmq_send"));
            }
            Ok(())
        }
    }

    /// A `zmq_msg_t`, closed when dropped.
    struct Msg(ZmqMsg);

    impl Msg {
        fn new() -> Msg {
            let mut m = Msg(ZmqMsg([0; 64]));
            // SAFETY: initialises an empty message (cannot fail).
            unsafe { (api().fns.msg_init)(&mut m.0) };
            m
        }
    }

    impl Drop for Msg {
        fn drop(&mut self) {
            // SAFETY: an initialised message, closed once.
            unsafe { (api().fns.msg_close)(&mut self.0) };
        }
    }

    fn context(max_sockets: usize) -> Result<Arc<CtxPtr>> {
        let f = &api().fns;
        // SAFETY: plain constructor; NULL on failure.
        let ctx = unsafe { (f.ctx_new)() };
        if ctx.is_null() {
            return Err(fail("zmq_ctx_new"));
        }
        let ctx = Arc::new(CtxPtr(ctx));
        // SAFETY: a live context, before any socket.
        if unsafe { (f.ctx_set)(ctx.0, ZMQ_IO_THREADS, 1) } != 0 {
            return Err(fail("zmq_ctx_set(ZMQ_IO_THREADS)"));
        }
        let max = i32::try_from(max_sockets)?;
        // SAFETY: as above.
        if unsafe { (f.ctx_set)(ctx.0, ZMQ_MAX_SOCKETS, max) } != 0 {
            return Err(fail("zmq_ctx_set(ZMQ_MAX_SOCKETS)"));
        }
        Ok(ctx)
    }

    pub fn round_trips(peers: usize, size: usize, duration: Duration) -> Result<RoundTrips> {
        let ctx = context(peers + 16)?;
        let router = Sock::new(&ctx, ZMQ_ROUTER)?;
        router.set(ZMQ_RCVTIMEO, TICK.as_millis() as i32)?;
        let endpoint = router.bind("tcp://127.0.0.1:*")?;
        let stop = Arc::new(AtomicBool::new(false));
        let echo = {
            let stop = stop.clone();
            std::thread::spawn(move || -> Result<()> {
                let (mut id, mut body) = (Msg::new(), Msg::new());
                // ORDERING: the flag carries no data.
                while !stop.load(Ordering::Relaxed) {
                    if !router.recv(&mut id, 0)? {
                        continue;
                    }
                    if !router.recv(&mut body, 0)? {
                        return Err("a ROUTER message without its body".into());
                    }
                    router.send(&mut id, ZMQ_SNDMORE)?;
                    router.send(&mut body, 0)?;
                }
                Ok(())
            })
        };
        let result = (|| {
            let mut dealers = Vec::with_capacity(peers);
            for _ in 0..peers {
                let d = Sock::new(&ctx, ZMQ_DEALER)?;
                d.connect(&endpoint)?;
                d.send_bytes(&vec![0u8; size])?;
                dealers.push(d);
            }
            let items = std::cell::RefCell::new(
                dealers
                    .iter()
                    .map(|d| PollItem {
                        socket: d.0,
                        fd: 0,
                        events: ZMQ_POLLIN,
                        revents: 0,
                    })
                    .collect::<Vec<_>>(),
            );
            let mut msg = Msg::new();
            drive(
                peers,
                duration,
                |ready| {
                    let mut items = items.borrow_mut();
                    let len = c_int::try_from(items.len())?;
                    // SAFETY: `len` poll items over live sockets.
                    let rc =
                        unsafe { (api().fns.poll)(items.as_mut_ptr(), len, TICK.as_millis() as _) };
                    if rc < 0 {
                        return Err(fail("zmq_poll"));
                    }
                    ready.clear();
                    ready.extend(
                        items
                            .iter()
                            .enumerate()
                            .filter(|(_, it)| it.revents & ZMQ_POLLIN != 0)
                            .map(|(i, _)| i),
                    );
                    Ok(())
                },
                |i| {
                    let d = &dealers[i];
                    let mut n = 0;
                    while d.recv(&mut msg, ZMQ_DONTWAIT)? {
                        n += 1;
                        d.send(&mut msg, 0)?;
                    }
                    Ok(n)
                },
            )
        })();
        // ORDERING: as above.
        stop.store(true, Ordering::Relaxed);
        echo.join().map_err(|_| "echo thread panicked")??;
        result
    }

    /// As `zlink::idle_server`.
    pub fn idle_server(
        n: usize,
        rounds: usize,
        mut round: impl FnMut(&str, usize) -> Result<()>,
    ) -> Result<IdleRss> {
        let ctx = context(16)?;
        let router = Sock::new(&ctx, ZMQ_ROUTER)?;
        router.set(ZMQ_RCVTIMEO, TIMEOUT.as_millis() as i32)?;
        let endpoint = router.bind("tcp://127.0.0.1:*")?;
        let before = rss_kib()?;
        let mut msg = Msg::new();
        for r in 0..rounds {
            round(&endpoint, r)?;
            for i in 0..2 * n {
                if !router.recv(&mut msg, 0)? {
                    return Err(format!("timed out after {} of {n} messages", i / 2).into());
                }
            }
        }
        Ok(IdleRss {
            before,
            after: rss_kib()?,
        })
    }
}

// ----- idle connections --------------------------------------------------------

/// The server's resident set, in KiB: with the ROUTER bound, and with
/// every connection attached.
#[derive(Debug, Clone, Copy, Default)]
struct IdleRss {
    before: u64,
    after: u64,
}

/// This process's resident set (VmRSS of /proc/self/status), in KiB.
fn rss_kib() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or("no VmRSS in /proc/self/status")?;
    Ok(line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?)
}

/// Raises this process's descriptor limit to at least `n` (the soft limit
/// to the hard one, and the hard one too if we may).
fn raise_nofile(n: u64) -> Result<()> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    let want = libc::rlimit {
        rlim_cur: lim.rlim_max.max(n),
        rlim_max: lim.rlim_max.max(n),
    };
    // SAFETY: setrlimit reads one rlimit. Raising the hard limit needs
    // CAP_SYS_RESOURCE; without it, the soft limit up to the hard one.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } != 0 {
        let soft = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &soft) } != 0 || lim.rlim_max < n {
            return Err(format!(
                "{n} descriptors needed, RLIMIT_NOFILE allows {}",
                lim.rlim_max
            )
            .into());
        }
    }
    Ok(())
}

/// A ZMTP 3.1 greeting: NULL mechanism, as client (RFC 23).
fn greeting() -> [u8; 64] {
    let mut g = [0u8; 64];
    g[0] = 0xFF;
    g[9] = 0x7F;
    g[10] = 3;
    g[11] = 1;
    g[12..16].copy_from_slice(b"NULL");
    g
}

/// The NULL READY command of a DEALER, then a one-frame message of one
/// byte.
fn ready_and_message() -> Vec<u8> {
    let mut body = Vec::new();
    body.push(5);
    body.extend_from_slice(b"READY");
    body.push(11);
    body.extend_from_slice(b"Socket-Type");
    body.extend_from_slice(&6u32.to_be_bytes());
    body.extend_from_slice(b"DEALER");
    let mut out = vec![0x04, u8::try_from(body.len()).expect("a short command")];
    out.extend_from_slice(&body);
    out.extend_from_slice(&[0x00, 1, b'x']);
    out
}

/// Reads the peer's greeting.
fn read_greeting(s: &mut TcpStream) -> Result<()> {
    let mut greeting = [0u8; 64];
    s.read_exact(&mut greeting)?;
    if greeting[0] != 0xFF || greeting[9] != 0x7F {
        return Err("not a ZMTP greeting".into());
    }
    Ok(())
}

/// Reads the peer's first command, READY.
fn read_ready(s: &mut TcpStream) -> Result<()> {
    let mut head = [0u8; 2];
    s.read_exact(&mut head)?;
    let len = match head[0] {
        0x04 => usize::from(head[1]),
        0x06 => {
            let mut rest = [0u8; 7];
            s.read_exact(&mut rest)?;
            let mut be = [0u8; 8];
            be[0] = head[1];
            be[1..].copy_from_slice(&rest);
            usize::try_from(u64::from_be_bytes(be))?
        }
        f => return Err(format!("expected READY, got a frame with flags {f:#x}").into()),
    };
    let mut body = vec![0u8; len];
    s.read_exact(&mut body)?;
    if !body.starts_with(b"\x05READY") {
        return Err("expected READY".into());
    }
    Ok(())
}

/// The client process: `n` handshaken connections to `endpoint`, each
/// having sent one message; says "ready" on stdout, then holds them open
/// until stdin closes. A line on stdin instead closes them all and, after
/// a second (for the server to see them go), opens `n` new ones.
fn idle_clients(endpoint: &str, n: usize) -> Result<()> {
    raise_nofile(n as u64 + 64)?;
    let mut stdin = BufReader::new(std::io::stdin());
    loop {
        let streams = connect_idle(endpoint, n)?;
        println!("ready");
        std::io::stdout().flush()?;
        let mut line = String::new();
        if stdin.read_line(&mut line)? == 0 {
            return Ok(());
        }
        drop(streams);
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// `n` connections to `endpoint`, each handshaken as a DEALER and having
/// sent one 1-byte message.
fn connect_idle(endpoint: &str, n: usize) -> Result<Vec<TcpStream>> {
    let addr = endpoint.trim_start_matches("tcp://");
    let greeting = greeting();
    let rest = ready_and_message();
    let mut streams = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = TcpStream::connect(addr).map_err(|e| format!("connection {i}: {e}"))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(TIMEOUT))?;
        // In turn, as libzmq's peers do: libzmq 4.3.4 drops a connection
        // whose READY arrives before it has sent its own greeting.
        s.write_all(&greeting)?;
        read_greeting(&mut s).map_err(|e| format!("connection {i}: {e}"))?;
        s.write_all(&rest)?;
        read_ready(&mut s).map_err(|e| format!("connection {i}: {e}"))?;
        streams.push(s);
    }
    Ok(streams)
}

/// The server process of one idle run: prints "rss BEFORE AFTER" (KiB).
/// With `rounds` above 1, the clients' connections are closed and opened
/// anew between rounds (churn: later connections reuse freed memory).
fn idle_server(lib: Lib, n: usize, rounds: usize) -> Result<()> {
    raise_nofile(n as u64 + 256)?;
    let mut child: Option<(std::process::Child, BufReader<std::process::ChildStdout>)> = None;
    let round = |endpoint: &str, r: usize| -> Result<()> {
        if r == 0 {
            let mut c = Command::new(std::env::current_exe()?)
                .args(["--idle-clients", endpoint, &n.to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()?;
            let out = BufReader::new(c.stdout.take().ok_or("no child stdout")?);
            child = Some((c, out));
        } else if let Some((c, _)) = &mut child {
            writeln!(c.stdin.as_mut().ok_or("no child stdin")?, "again")?;
        }
        let (_, out) = child.as_mut().ok_or("no client process")?;
        let mut line = String::new();
        out.read_line(&mut line)?;
        if line.trim() != "ready" {
            return Err("the client process failed".into());
        }
        Ok(())
    };
    let result = match lib {
        Lib::Zlink => zlink::idle_server(n, rounds, round),
        Lib::Libzmq => libzmq::idle_server(n, rounds, round),
    };
    if let Some((mut c, _)) = child {
        drop(c.stdin.take());
        c.wait()?;
    }
    let rss = result?;
    println!("rss {} {}", rss.before, rss.after);
    Ok(())
}

/// One idle run in fresh processes: the RSS growth per connection, bytes.
fn idle_run(lib: Lib, n: usize, rounds: usize, which: &str) -> Result<(f64, IdleRss)> {
    let out = Command::new(std::env::current_exe()?)
        .args([
            "--libzmq",
            which,
            "--idle-server",
            lib.name(),
            &n.to_string(),
            &rounds.to_string(),
        ])
        .stderr(Stdio::inherit())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("rss "))
        .ok_or_else(|| format!("{} idle server failed ({})", lib.name(), out.status))?;
    let mut it = line.split(' ').map(str::parse::<u64>);
    let (Some(Ok(before)), Some(Ok(after))) = (it.next(), it.next()) else {
        return Err(format!("unreadable server output: {line}").into());
    };
    let growth = after.saturating_sub(before) as f64 * 1024.0 / n as f64;
    Ok((growth, IdleRss { before, after }))
}

// ----- command line and report -------------------------------------------------

#[derive(Debug, Clone)]
struct Config {
    peers: usize,
    size: usize,
    seconds: f64,
    reps: usize,
    idle: usize,
    idle_reps: usize,
    /// Idle part: times the connections are all closed and opened anew
    /// before the RSS is read.
    churn: usize,
    libs: Vec<Lib>,
    round_trips: bool,
    idle_part: bool,
    which: String,
}

const USAGE: &str = "\
usage: scale [options]

Many peers on one ROUTER, zlink-mq against libzmq, alternating the two.

  --peers N        DEALERs of the round-trip part (default: 1000)
  --size N         request and reply bytes (default: 64)
  --seconds S      timed span of a round-trip run (default: 2)
  --reps N         round-trip runs per library (default: 5)
  --idle N         connections of the idle part (default: 10000)
  --idle-reps N    idle runs per library (default: 3)
  --churn N        idle part: close every connection and open it anew N times
                   before reading the RSS (default: 0)
  --libs LIST      zlink-mq,libzmq (default: both)
  --libzmq WHICH   auto, system, vendored or a path (as compare's)
  --no-round-trips, --no-idle   skip a part
  --help           this text
";

fn parse_args(args: &[String]) -> Result<Config> {
    let mut cfg = Config {
        peers: 1000,
        size: 64,
        seconds: 2.0,
        reps: 5,
        idle: 10_000,
        idle_reps: 3,
        churn: 0,
        libs: vec![Lib::Zlink, Lib::Libzmq],
        round_trips: true,
        idle_part: true,
        which: "auto".into(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--peers" => cfg.peers = value()?.parse()?,
            "--size" => cfg.size = value()?.parse()?,
            "--seconds" => cfg.seconds = value()?.parse()?,
            "--reps" => cfg.reps = value()?.parse()?,
            "--idle" => cfg.idle = value()?.parse()?,
            "--idle-reps" => cfg.idle_reps = value()?.parse()?,
            "--churn" => cfg.churn = value()?.parse()?,
            "--libs" => {
                cfg.libs = value()?
                    .split(',')
                    .map(|s| Lib::parse(s.trim()).ok_or(format!("unknown library: {s}")))
                    .collect::<std::result::Result<_, _>>()?
            }
            "--libzmq" => cfg.which = value()?.clone(),
            "--no-round-trips" => cfg.round_trips = false,
            "--no-idle" => cfg.idle_part = false,
            "--help" | "-h" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument: {other}\n\n{USAGE}").into()),
        }
    }
    if cfg.peers == 0 || cfg.reps == 0 || cfg.idle == 0 || cfg.idle_reps == 0 {
        return Err("--peers, --reps, --idle and --idle-reps must be at least 1".into());
    }
    Ok(cfg)
}

fn choice(which: &str) -> Choice {
    match which {
        "auto" => Choice::Auto,
        "system" => Choice::System,
        "vendored" => Choice::Vendored,
        path => Choice::Path(path.into()),
    }
}

/// Median, min and max.
fn spread(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (median, v[0], v[n - 1])
}

/// The libraries in the order of repetition `rep`: A B, then B A.
fn order(libs: &[Lib], rep: usize) -> Vec<Lib> {
    let mut o = libs.to_vec();
    let n = o.len().max(1);
    o.rotate_left(rep % n);
    o
}

fn run_round_trips(cfg: &Config) -> Result<String> {
    let mut runs: Vec<(Lib, Vec<RoundTrips>)> = cfg.libs.iter().map(|&l| (l, Vec::new())).collect();
    let duration = Duration::from_secs_f64(cfg.seconds);
    for rep in 0..cfg.reps {
        for lib in order(&cfg.libs, rep) {
            eprintln!("round trips: rep {}/{} {}", rep + 1, cfg.reps, lib.name());
            let r = match lib {
                Lib::Zlink => zlink::round_trips(cfg.peers, cfg.size, duration),
                Lib::Libzmq => libzmq::round_trips(cfg.peers, cfg.size, duration),
            }
            .map_err(|e| format!("{} round trips: {e}", lib.name()))?;
            runs.iter_mut()
                .find(|(l, _)| *l == lib)
                .expect("a library")
                .1
                .push(r);
        }
    }
    let mut out = format!(
        "{} DEALERs, one ROUTER echoing, tcp, {} B, one request in flight per peer, {} s per run; \
         median (min-max) of {} runs per library; per peer: round trips/s of the slowest, \
         median and fastest peer in the run of median throughput\n\n\
         | Library | round trips/s | CPU ns per round trip | slowest peer | median peer | \
         fastest peer | slowest / fastest |\n| --- | --- | --- | --- | --- | --- | --- |\n",
        cfg.peers, cfg.size, cfg.seconds, cfg.reps
    );
    for (lib, rs) in &runs {
        let (m, lo, hi) = spread(rs.iter().map(RoundTrips::per_second).collect());
        let (cpu, _, _) = spread(rs.iter().map(RoundTrips::cpu_ns).collect());
        let mid = rs
            .iter()
            .min_by(|a, b| {
                (a.per_second() - m)
                    .abs()
                    .total_cmp(&(b.per_second() - m).abs())
            })
            .expect("at least one run");
        let (slow, med, fast) = mid.peers();
        out.push_str(&format!(
            "| {} | {:.0} ({:.0}-{:.0}) | {:.0} | {:.1} | {:.1} | {:.1} | {:.2} |\n",
            lib.name(),
            m,
            lo,
            hi,
            cpu,
            slow,
            med,
            fast,
            slow / fast
        ));
    }
    Ok(out)
}

fn run_idle(cfg: &Config) -> Result<String> {
    let mut runs: Vec<(Lib, Vec<(f64, IdleRss)>)> =
        cfg.libs.iter().map(|&l| (l, Vec::new())).collect();
    for rep in 0..cfg.idle_reps {
        for lib in order(&cfg.libs, rep) {
            eprintln!("idle: rep {}/{} {}", rep + 1, cfg.idle_reps, lib.name());
            let r = idle_run(lib, cfg.idle, cfg.churn + 1, &cfg.which)?;
            runs.iter_mut()
                .find(|(l, _)| *l == lib)
                .expect("a library")
                .1
                .push(r);
        }
    }
    let churn = if cfg.churn == 0 {
        String::new()
    } else {
        format!(
            ", after {} rounds of closing them all and connecting anew",
            cfg.churn
        )
    };
    let mut out = format!(
        "{} idle tcp connections to one ROUTER (each handshaken, one 1-byte message received{churn}); \
         server process RSS (VmRSS) with the ROUTER bound and with every connection attached; \
         median (min-max) of {} runs per library, each in fresh processes\n\n\
         | Library | RSS growth per connection | RSS before | RSS after (median run) |\n\
         | --- | --- | --- | --- |\n",
        cfg.idle, cfg.idle_reps
    );
    for (lib, rs) in &runs {
        let (m, lo, hi) = spread(rs.iter().map(|r| r.0).collect());
        let mid = rs
            .iter()
            .min_by(|a, b| (a.0 - m).abs().total_cmp(&(b.0 - m).abs()))
            .expect("at least one run");
        out.push_str(&format!(
            "| {} | {:.1} KiB ({:.1}-{:.1}) | {} KiB | {} KiB |\n",
            lib.name(),
            m / 1024.0,
            lo / 1024.0,
            hi / 1024.0,
            mid.1.before,
            mid.1.after
        ));
    }
    Ok(out)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = (|| -> Result<()> {
        // The processes of an idle run.
        if let [flag, endpoint, n] = &args[..] {
            if flag == "--idle-clients" {
                return idle_clients(endpoint, n.parse()?);
            }
        }
        if let [l, which, flag, lib, n, rounds] = &args[..] {
            if l == "--libzmq" && flag == "--idle-server" {
                let lib = Lib::parse(lib).ok_or("unknown library")?;
                if lib == Lib::Libzmq {
                    lz::load(&choice(which))?;
                }
                return idle_server(lib, n.parse()?, rounds.parse()?);
            }
        }
        let cfg = parse_args(&args)?;
        let loaded = lz::load(&choice(&cfg.which))?;
        raise_nofile(3 * cfg.peers as u64 + 256)?;
        let started = Instant::now();
        let (a, b, c) = loaded.version;
        let mut report = String::new();
        if cfg.round_trips {
            report.push_str(&run_round_trips(&cfg)?);
            report.push('\n');
        }
        if cfg.idle_part {
            report.push_str(&run_idle(&cfg)?);
            report.push('\n');
        }
        println!(
            "zlink-mq vs libzmq {a}.{b}.{c} ({}: {}), {}, {} cores, {:.0} s\n",
            loaded.origin,
            loaded.path,
            common::today(),
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            started.elapsed().as_secs_f64()
        );
        print!("{report}");
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("scale: {e}");
        std::process::exit(1);
    }
}
