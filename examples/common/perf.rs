//! The logic of the six perf tools, shared by `examples/{local,remote}_{thr,lat}.rs`,
//! `examples/inproc_{thr,lat}.rs` and `tests/perf_tools_interop.rs`.
//!
//! Each function does what the libzmq 4.3 tool of the same name does
//! (`perf/*.cpp`): the same socket types, which side binds, which side
//! times, the same size checks, and the same output lines, so our tools and
//! libzmq's can be mixed across a TCP or IPC connection and their results
//! read side by side.
#![allow(dead_code)]

use std::error::Error;
use std::time::{Duration, Instant};

use zlink_mq::{Context, Flags, SocketType};

/// What a tool can fail with.
pub type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// A throughput measurement, timed on the receiver from the first message
/// to the last.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Bytes per message.
    pub size: usize,
    /// Messages received.
    pub count: u64,
    /// From the first message received to the last.
    pub elapsed: Duration,
}

impl Throughput {
    /// Messages per second, as libzmq computes it: `count / elapsed`, with
    /// the elapsed time in whole microseconds (at least one).
    pub fn msgs_per_sec(&self) -> f64 {
        let us = (self.elapsed.as_micros() as u64).max(1);
        self.count as f64 / us as f64 * 1_000_000.0
    }

    /// libzmq's four output lines.
    pub fn report(&self) -> String {
        let throughput = self.msgs_per_sec();
        let megabits = throughput * self.size as f64 * 8.0 / 1_000_000.0;
        format!(
            "message size: {} [B]\nmessage count: {}\nmean throughput: {} [msg/s]\nmean throughput: {:.3} [Mb/s]\n",
            self.size, self.count, throughput as u64, megabits
        )
    }
}

/// A latency measurement: `roundtrips` request-reply round trips.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// Bytes per message.
    pub size: usize,
    /// Round trips made.
    pub roundtrips: u64,
    /// For all of them.
    pub elapsed: Duration,
}

impl Latency {
    /// One-way latency in microseconds: half the mean round trip.
    pub fn one_way_us(&self) -> f64 {
        self.elapsed.as_micros() as f64 / (self.roundtrips as f64 * 2.0)
    }

    /// libzmq's three output lines.
    pub fn report(&self) -> String {
        format!(
            "message size: {} [B]\nroundtrip count: {}\naverage latency: {:.3} [us]\n",
            self.size,
            self.roundtrips,
            self.one_way_us()
        )
    }
}

/// The command line of a tool: exactly `names.len()` arguments, or the
/// usage line and exit code 1, as libzmq's tools do.
pub fn args(tool: &str, names: &[&str]) -> Vec<String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != names.len() {
        println!("usage: {tool} {}", names.join(" "));
        std::process::exit(1);
    }
    args
}

/// The command line of a tool with one optional last argument, as libzmq's
/// `local_thr` / `remote_thr` take `[<enable_curve>]`: the required ones and
/// whether the optional one is a non-zero number (C's `atoi`: anything
/// else is 0).
pub fn args_and_flag(tool: &str, names: &[&str], flag: &str) -> (Vec<String>, bool) {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != names.len() && args.len() != names.len() + 1 {
        println!("usage: {tool} {} [{flag}]", names.join(" "));
        std::process::exit(1);
    }
    let on = args.len() > names.len()
        && args
            .pop()
            .is_some_and(|a| a.trim().parse::<i64>().is_ok_and(|n| n != 0));
    (args, on)
}

/// The CURVE keys of libzmq's perf tools (`perf/local_thr.cpp`,
/// `remote_thr.cpp`), so that ours and libzmq's interoperate with
/// `<enable_curve>` on. Test keys, published with libzmq: never use them
/// for anything else.
pub mod curve_keys {
    /// The server's (`local_thr`'s) public key.
    pub const SERVER_PUBLIC: &str = "DX4nh=yUn{-9ugra0X3Src4SU-4xTgqxcYY.+<SH";
    /// The server's secret key.
    pub const SERVER_SECRET: &str = "{X}#>t#jRGaQ}gMhv=30r(Mw+87YGs+5%kh=i@f8";
    /// The client's (`remote_thr`'s) public key.
    pub const CLIENT_PUBLIC: &str = "<n^oA}I:66W+*ds3tAmi1+KJzv-}k&fC2aA5Bj0K";
    /// The client's secret key.
    pub const CLIENT_SECRET: &str = "9R9bV}[6z6DC-%$!jTVTKvWc=LEL{4i4gzUe$@Zx";
}

/// Parses a numeric argument, or exits with a message.
pub fn number<T: std::str::FromStr>(what: &str, text: &str) -> T {
    text.parse().unwrap_or_else(|_| {
        eprintln!("invalid {what}: {text}");
        std::process::exit(1);
    })
}

/// Prints a tool's result, or its error with exit code 1.
pub fn finish<T>(result: Result<T>, report: impl FnOnce(&T) -> String) {
    match result {
        Ok(r) => print!("{}", report(&r)),
        Err(e) => {
            println!("error: {e}");
            std::process::exit(1);
        }
    }
}

fn check_size(got: usize, want: usize) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(format!("message of incorrect size received ({got} B, expected {want} B)").into())
    }
}

/// Receives `count` messages of `size` bytes on `socket`; times from the
/// first to the last.
fn receive_timed(socket: &mut zlink_mq::Socket, size: usize, count: u64) -> Result<Throughput> {
    if count == 0 {
        return Err("message count must be at least 1".into());
    }
    check_size(socket.recv(Flags::NONE)?.len(), size)?;
    let start = Instant::now();
    for _ in 1..count {
        check_size(socket.recv(Flags::NONE)?.len(), size)?;
    }
    Ok(Throughput {
        size,
        count,
        elapsed: start.elapsed(),
    })
}

/// Sends `count` messages of `size` zero bytes.
fn send_all(socket: &mut zlink_mq::Socket, size: usize, count: u64) -> Result<()> {
    let payload = vec![0u8; size];
    for _ in 0..count {
        socket.send(&payload[..], Flags::NONE)?;
    }
    Ok(())
}

/// `local_thr`: a PULL socket binds `bind_to` and receives `count`
/// messages; with `curve`, as the CURVE server of [`curve_keys`].
pub fn local_thr(bind_to: &str, size: usize, count: u64, curve: bool) -> Result<Throughput> {
    let ctx = Context::new();
    let mut pull = ctx.socket(SocketType::Pull)?;
    if curve {
        pull.set_curve_secretkey(curve_keys::SERVER_SECRET.as_bytes())?;
        pull.set_curve_server(true);
    }
    pull.bind(bind_to)?;
    receive_timed(&mut pull, size, count)
}

/// `remote_thr`: a PUSH socket connects to `connect_to` and sends `count`
/// messages; returns once the context has delivered them (the socket's
/// default linger). With `curve`, as the CURVE client of [`curve_keys`].
pub fn remote_thr(connect_to: &str, size: usize, count: u64, curve: bool) -> Result<()> {
    let ctx = Context::new();
    let mut push = ctx.socket(SocketType::Push)?;
    if curve {
        push.set_curve_secretkey(curve_keys::CLIENT_SECRET.as_bytes())?;
        push.set_curve_publickey(curve_keys::CLIENT_PUBLIC.as_bytes())?;
        push.set_curve_serverkey(curve_keys::SERVER_PUBLIC.as_bytes())?;
    }
    push.connect(connect_to)?;
    send_all(&mut push, size, count)?;
    drop(push);
    drop(ctx);
    Ok(())
}

/// `local_lat`: a REP socket binds `bind_to` and echoes `roundtrips`
/// requests.
pub fn local_lat(bind_to: &str, size: usize, roundtrips: u64) -> Result<()> {
    let ctx = Context::new();
    let mut rep = ctx.socket(SocketType::Rep)?;
    rep.bind(bind_to)?;
    echo(&mut rep, size, roundtrips)
}

fn echo(rep: &mut zlink_mq::Socket, size: usize, roundtrips: u64) -> Result<()> {
    for _ in 0..roundtrips {
        let msg = rep.recv(Flags::NONE)?;
        check_size(msg.len(), size)?;
        rep.send(msg, Flags::NONE)?;
    }
    Ok(())
}

/// Sends a request and waits for the reply `roundtrips` times.
fn ping_pong(req: &mut zlink_mq::Socket, size: usize, roundtrips: u64) -> Result<Latency> {
    let mut msg = zlink_mq::Msg::copy_from_slice(&vec![0u8; size]);
    let start = Instant::now();
    for _ in 0..roundtrips {
        req.send(msg, Flags::NONE)?;
        msg = req.recv(Flags::NONE)?;
        check_size(msg.len(), size)?;
    }
    Ok(Latency {
        size,
        roundtrips,
        elapsed: start.elapsed(),
    })
}

/// `remote_lat`: a REQ socket connects to `connect_to` and times
/// `roundtrips` round trips.
pub fn remote_lat(connect_to: &str, size: usize, roundtrips: u64) -> Result<Latency> {
    let ctx = Context::new();
    let mut req = ctx.socket(SocketType::Req)?;
    req.connect(connect_to)?;
    ping_pong(&mut req, size, roundtrips)
}

/// `inproc_thr`: PULL binds `inproc://thr_test` in this thread, a worker
/// thread's PUSH connects and sends `count` messages.
pub fn inproc_thr(size: usize, count: u64) -> Result<Throughput> {
    let ctx = Context::new();
    let mut pull = ctx.socket(SocketType::Pull)?;
    pull.bind("inproc://thr_test")?;
    let mut push = ctx.socket(SocketType::Push)?;
    let worker = std::thread::spawn(move || -> Result<()> {
        push.connect("inproc://thr_test")?;
        send_all(&mut push, size, count)
    });
    let result = receive_timed(&mut pull, size, count);
    worker.join().map_err(|_| "sender thread panicked")??;
    result
}

/// `inproc_lat`: REQ binds `inproc://lat_test` in this thread and times
/// `roundtrips` round trips to a worker thread's REP.
pub fn inproc_lat(size: usize, roundtrips: u64) -> Result<Latency> {
    let ctx = Context::new();
    let mut req = ctx.socket(SocketType::Req)?;
    req.bind("inproc://lat_test")?;
    let mut rep = ctx.socket(SocketType::Rep)?;
    let worker = std::thread::spawn(move || -> Result<()> {
        rep.connect("inproc://lat_test")?;
        echo(&mut rep, size, roundtrips)
    });
    let result = ping_pong(&mut req, size, roundtrips);
    worker.join().map_err(|_| "echo thread panicked")??;
    result
}
