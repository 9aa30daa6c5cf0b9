//! Async throughput and latency side by side: our tokio adapter
//! (`zlink_mq::tokio::AsyncSocket`) against our blocking API and against
//! zmq.rs (the `zeromq` crate, pure-Rust async ZeroMQ on tokio), over TCP
//! and IPC, in one run, interleaved.
//!
//! ```sh
//! cargo run --release --example async_compare --features tokio
//! cargo run --release --example async_compare --features tokio -- --help
//! ```
//!
//! Throughput: PUSH to PULL, 64-byte messages, timed on the receiver from
//! the first message to the last, the sender in another thread (blocking)
//! or task. Latency: REQ / REP ping-pong, one-way = half the mean round
//! trip. Async runs use a multi-thread tokio runtime with two workers
//! (both sides spawned as tasks); ours also on a current-thread runtime.
//! Both libraries keep their defaults (ours: HWM 1000, one I/O thread,
//! TCP_NODELAY; zmq.rs has no HWM option). CPU is the whole process's
//! (`CLOCK_PROCESS_CPUTIME_ID`: both ends, our I/O thread, the runtime's
//! workers) per message or round trip.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Instant;

use zeromq::{Socket as _, SocketRecv as _, SocketSend as _};
use zlink_mq::tokio::AsyncSocket;
use zlink_mq::{Context, Flags, SocketType};

const SIZE: usize = 64;
const WARMUP_ROUNDTRIPS: u64 = 200;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Result<T> = std::result::Result<T, BoxError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Tcp,
    Ipc,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Ipc => "ipc",
        }
    }

    /// Ours resolves `*` (ephemeral port, generated path) itself.
    fn ours(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp://127.0.0.1:*",
            Transport::Ipc => "ipc://*",
        }
    }

    /// zmq.rs: port 0 for TCP, a fresh path for IPC.
    fn zmqrs(self) -> String {
        static N: AtomicU64 = AtomicU64::new(0);
        match self {
            Transport::Tcp => "tcp://127.0.0.1:0".into(),
            Transport::Ipc => format!(
                "ipc://{}/zlink-async-compare-{}-{}.sock",
                std::env::temp_dir().display(),
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lib {
    Blocking,
    AsyncMulti,
    AsyncCurrent,
    ZmqRs,
}

const LIBS: [Lib; 4] = [
    Lib::Blocking,
    Lib::AsyncMulti,
    Lib::AsyncCurrent,
    Lib::ZmqRs,
];

impl Lib {
    fn name(self) -> &'static str {
        match self {
            Lib::Blocking => "zlink-mq blocking",
            Lib::AsyncMulti => "zlink-mq async (mt)",
            Lib::AsyncCurrent => "zlink-mq async (ct)",
            Lib::ZmqRs => "zmq.rs (mt)",
        }
    }
}

/// One measured run: wall seconds of the timed part, process CPU seconds
/// over the whole run, and how many messages (or round trips) were timed.
#[derive(Debug, Clone, Copy)]
struct Run {
    secs: f64,
    cpu_secs: f64,
    n: u64,
}

/// CPU seconds of this process so far, every thread (finished ones too).
fn cpu_secs() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

// ----- throughput: PUSH -> PULL ------------------------------------------

fn thr_blocking(t: Transport, count: u64) -> Result<Run> {
    let ctx = Context::new();
    let mut pull = ctx.socket(SocketType::Pull)?;
    pull.bind(t.ours())?;
    let mut push = ctx.socket(SocketType::Push)?;
    push.connect(pull.last_endpoint().unwrap_or_default())?;
    let cpu0 = cpu_secs();
    let sender = thread::spawn(move || -> zlink_mq::Result<()> {
        let payload = [0u8; SIZE];
        for _ in 0..count {
            push.send(&payload[..], Flags::NONE)?;
        }
        Ok(())
    });
    pull.recv(Flags::NONE)?;
    let start = Instant::now();
    for _ in 1..count {
        pull.recv(Flags::NONE)?;
    }
    let secs = start.elapsed().as_secs_f64();
    sender.join().expect("sender")?;
    Ok(Run {
        secs,
        cpu_secs: cpu_secs() - cpu0,
        n: count - 1,
    })
}

fn thr_async(rt: &tokio::runtime::Runtime, t: Transport, count: u64) -> Result<Run> {
    let ctx = Context::new();
    rt.block_on(async {
        let mut pull = ctx.socket(SocketType::Pull)?;
        pull.bind(t.ours())?;
        let mut push = ctx.socket(SocketType::Push)?;
        push.connect(pull.last_endpoint().unwrap_or_default())?;
        let (mut pull, mut push) = (AsyncSocket::new(pull)?, AsyncSocket::new(push)?);
        let cpu0 = cpu_secs();
        let sender = tokio::spawn(async move {
            let payload = [0u8; SIZE];
            for _ in 0..count {
                push.send(&payload[..]).await?;
            }
            Ok::<_, zlink_mq::Error>(push)
        });
        let receiver = tokio::spawn(async move {
            pull.recv().await?;
            let start = Instant::now();
            for _ in 1..count {
                pull.recv().await?;
            }
            Ok::<_, zlink_mq::Error>(start.elapsed().as_secs_f64())
        });
        let secs = receiver.await??;
        sender.await??;
        Ok(Run {
            secs,
            cpu_secs: cpu_secs() - cpu0,
            n: count - 1,
        })
    })
}

fn thr_zmqrs(rt: &tokio::runtime::Runtime, t: Transport, count: u64) -> Result<Run> {
    rt.block_on(async {
        let mut pull = zeromq::PullSocket::new();
        let endpoint = pull.bind(&t.zmqrs()).await?.to_string();
        let mut push = zeromq::PushSocket::new();
        push.connect(&endpoint).await?;
        let cpu0 = cpu_secs();
        let sender = tokio::spawn(async move {
            let payload = bytes::Bytes::from_static(&[0u8; SIZE]);
            for _ in 0..count {
                push.send(zeromq::ZmqMessage::from(payload.clone())).await?;
            }
            Ok::<_, zeromq::ZmqError>(push)
        });
        let receiver = tokio::spawn(async move {
            pull.recv().await?;
            let start = Instant::now();
            for _ in 1..count {
                pull.recv().await?;
            }
            Ok::<_, zeromq::ZmqError>(start.elapsed().as_secs_f64())
        });
        let secs = receiver.await??;
        sender.await??;
        Ok(Run {
            secs,
            cpu_secs: cpu_secs() - cpu0,
            n: count - 1,
        })
    })
}

// ----- latency: REQ <-> REP ----------------------------------------------

fn lat_blocking(t: Transport, roundtrips: u64) -> Result<Run> {
    let ctx = Context::new();
    let mut rep = ctx.socket(SocketType::Rep)?;
    rep.bind(t.ours())?;
    let mut req = ctx.socket(SocketType::Req)?;
    req.connect(rep.last_endpoint().unwrap_or_default())?;
    let total = WARMUP_ROUNDTRIPS + roundtrips;
    let server = thread::spawn(move || -> zlink_mq::Result<()> {
        for _ in 0..total {
            let m = rep.recv(Flags::NONE)?;
            rep.send(m, Flags::NONE)?;
        }
        Ok(())
    });
    let payload = [0u8; SIZE];
    for _ in 0..WARMUP_ROUNDTRIPS {
        req.send(&payload[..], Flags::NONE)?;
        req.recv(Flags::NONE)?;
    }
    let cpu0 = cpu_secs();
    let start = Instant::now();
    for _ in 0..roundtrips {
        req.send(&payload[..], Flags::NONE)?;
        req.recv(Flags::NONE)?;
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    server.join().expect("server")?;
    Ok(Run {
        secs,
        cpu_secs: cpu,
        n: roundtrips,
    })
}

fn lat_async(rt: &tokio::runtime::Runtime, t: Transport, roundtrips: u64) -> Result<Run> {
    let ctx = Context::new();
    rt.block_on(async {
        let mut rep = ctx.socket(SocketType::Rep)?;
        rep.bind(t.ours())?;
        let mut req = ctx.socket(SocketType::Req)?;
        req.connect(rep.last_endpoint().unwrap_or_default())?;
        let (mut rep, mut req) = (AsyncSocket::new(rep)?, AsyncSocket::new(req)?);
        let total = WARMUP_ROUNDTRIPS + roundtrips;
        let server = tokio::spawn(async move {
            for _ in 0..total {
                let m = rep.recv().await?;
                rep.send(m).await?;
            }
            Ok::<_, zlink_mq::Error>(rep)
        });
        let client = tokio::spawn(async move {
            let payload = [0u8; SIZE];
            for _ in 0..WARMUP_ROUNDTRIPS {
                req.send(&payload[..]).await?;
                req.recv().await?;
            }
            let cpu0 = cpu_secs();
            let start = Instant::now();
            for _ in 0..roundtrips {
                req.send(&payload[..]).await?;
                req.recv().await?;
            }
            let secs = start.elapsed().as_secs_f64();
            Ok::<_, zlink_mq::Error>((secs, cpu_secs() - cpu0))
        });
        let (secs, cpu_secs) = client.await??;
        server.await??;
        Ok(Run {
            secs,
            cpu_secs,
            n: roundtrips,
        })
    })
}

fn lat_zmqrs(rt: &tokio::runtime::Runtime, t: Transport, roundtrips: u64) -> Result<Run> {
    rt.block_on(async {
        let mut rep = zeromq::RepSocket::new();
        let endpoint = rep.bind(&t.zmqrs()).await?.to_string();
        let mut req = zeromq::ReqSocket::new();
        req.connect(&endpoint).await?;
        let total = WARMUP_ROUNDTRIPS + roundtrips;
        let server = tokio::spawn(async move {
            for _ in 0..total {
                let m = rep.recv().await?;
                rep.send(m).await?;
            }
            Ok::<_, zeromq::ZmqError>(rep)
        });
        let client = tokio::spawn(async move {
            let payload = bytes::Bytes::from_static(&[0u8; SIZE]);
            for _ in 0..WARMUP_ROUNDTRIPS {
                req.send(zeromq::ZmqMessage::from(payload.clone())).await?;
                req.recv().await?;
            }
            let cpu0 = cpu_secs();
            let start = Instant::now();
            for _ in 0..roundtrips {
                req.send(zeromq::ZmqMessage::from(payload.clone())).await?;
                req.recv().await?;
            }
            let secs = start.elapsed().as_secs_f64();
            Ok::<_, zeromq::ZmqError>((secs, cpu_secs() - cpu0))
        });
        let (secs, cpu_secs) = client.await??;
        server.await??;
        Ok(Run {
            secs,
            cpu_secs,
            n: roundtrips,
        })
    })
}

// ----- the run -------------------------------------------------------------

struct Options {
    count: u64,
    roundtrips: u64,
    reps: usize,
    transports: Vec<Transport>,
}

fn usage() -> ! {
    eprintln!(
        "usage: async_compare [--count N] [--roundtrips N] [--reps N] [--transports tcp,ipc] [--quick]\n\
         defaults: --count 1000000 --roundtrips 10000 --reps 5 --transports tcp,ipc"
    );
    std::process::exit(2);
}

fn options() -> Options {
    let mut o = Options {
        count: 1_000_000,
        roundtrips: 10_000,
        reps: 5,
        transports: vec![Transport::Tcp, Transport::Ipc],
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--count" => o.count = value().parse().unwrap_or_else(|_| usage()),
            "--roundtrips" => o.roundtrips = value().parse().unwrap_or_else(|_| usage()),
            "--reps" => o.reps = value().parse().unwrap_or_else(|_| usage()),
            "--transports" => {
                o.transports = value()
                    .split(',')
                    .map(|t| match t {
                        "tcp" => Transport::Tcp,
                        "ipc" => Transport::Ipc,
                        _ => usage(),
                    })
                    .collect()
            }
            "--quick" => {
                o.count = 20_000;
                o.roundtrips = 1_000;
                o.reps = 1;
            }
            _ => usage(),
        }
    }
    if o.count < 2 || o.roundtrips == 0 || o.reps == 0 {
        usage();
    }
    o
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let mid = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    (mid, v[0], v[v.len() - 1])
}

/// Median (min-max) of msg/s, and the median CPU microseconds per message.
fn thr_summary(runs: &[Run]) -> (f64, String) {
    let (m, lo, hi) = median(runs.iter().map(|r| r.n as f64 / r.secs).collect());
    let (cpu, _, _) = median(runs.iter().map(|r| r.cpu_secs * 1e9 / r.n as f64).collect());
    (
        m,
        format!(
            "{:.3} M ({:.3}-{:.3}), {cpu:.0} ns CPU",
            m / 1e6,
            lo / 1e6,
            hi / 1e6
        ),
    )
}

/// Median (min-max) of one-way latency in microseconds, and CPU per round
/// trip.
fn lat_summary(runs: &[Run]) -> (f64, String) {
    let (m, lo, hi) = median(
        runs.iter()
            .map(|r| r.secs * 1e6 / r.n as f64 / 2.0)
            .collect(),
    );
    let (cpu, _, _) = median(runs.iter().map(|r| r.cpu_secs * 1e6 / r.n as f64).collect());
    (m, format!("{m:.2} ({lo:.2}-{hi:.2}), {cpu:.1} us CPU"))
}

fn main() -> Result<()> {
    let o = options();
    let mt = multi_thread();
    let ct = current_thread();
    let started = Instant::now();
    let mut thr: Vec<Vec<Vec<Run>>> = vec![vec![Vec::new(); LIBS.len()]; o.transports.len()];
    let mut lat = thr.clone();
    for rep in 0..o.reps {
        for (ti, &t) in o.transports.iter().enumerate() {
            // Rotate the order each repetition, so that no library always
            // runs right after the same other one.
            for k in 0..LIBS.len() {
                let li = (k + rep) % LIBS.len();
                let run = match LIBS[li] {
                    Lib::Blocking => thr_blocking(t, o.count),
                    Lib::AsyncMulti => thr_async(&mt, t, o.count),
                    Lib::AsyncCurrent => thr_async(&ct, t, o.count),
                    Lib::ZmqRs => thr_zmqrs(&mt, t, o.count),
                };
                thr[ti][li]
                    .push(run.map_err(|e| format!("{} {}: {e}", LIBS[li].name(), t.name()))?);
                let run = match LIBS[li] {
                    Lib::Blocking => lat_blocking(t, o.roundtrips),
                    Lib::AsyncMulti => lat_async(&mt, t, o.roundtrips),
                    Lib::AsyncCurrent => lat_async(&ct, t, o.roundtrips),
                    Lib::ZmqRs => lat_zmqrs(&mt, t, o.roundtrips),
                };
                lat[ti][li]
                    .push(run.map_err(|e| format!("{} {}: {e}", LIBS[li].name(), t.name()))?);
            }
        }
        eprintln!("repetition {} of {} done", rep + 1, o.reps);
    }

    println!(
        "zlink-mq async (tokio) vs blocking vs zmq.rs 0.4, {} cores, {:.0} s\n",
        thread::available_parallelism().map_or(0, |n| n.get()),
        started.elapsed().as_secs_f64()
    );
    println!(
        "{SIZE} B messages; throughput: {} messages per run (PUSH_PULL); latency: {} round trips per run (REQ_REP); median (min-max) of {} runs; CPU per message (throughput) or per round trip (latency), whole process; ratios of msg/s (higher is better) or of latencies (lower is better)\n",
        o.count, o.roundtrips, o.reps
    );
    let header: Vec<&str> = LIBS.iter().map(|l| l.name()).collect();
    println!(
        "| Pattern | Transport | {} | async (mt) / zmq.rs | async (mt) / blocking |",
        header.join(" | ")
    );
    println!("| --- | --- |{}", " --- |".repeat(LIBS.len() + 2));
    let mut verdicts = Vec::new();
    for (ti, t) in o.transports.iter().enumerate() {
        let cells: Vec<(f64, String)> = thr[ti].iter().map(|r| thr_summary(r)).collect();
        let vs_zmqrs = cells[1].0 / cells[3].0;
        let vs_blocking = cells[1].0 / cells[0].0;
        println!(
            "| PUSH_PULL msg/s | {} | {} | {vs_zmqrs:.2}x | {vs_blocking:.2}x |",
            t.name(),
            cells
                .iter()
                .map(|c| c.1.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        );
        verdicts.push(format!(
            "throughput {}: async (mt) {vs_zmqrs:.2}x zmq.rs (target >= 3x): {}",
            t.name(),
            if vs_zmqrs >= 3.0 { "met" } else { "NOT met" }
        ));
    }
    for (ti, t) in o.transports.iter().enumerate() {
        let cells: Vec<(f64, String)> = lat[ti].iter().map(|r| lat_summary(r)).collect();
        // Ratios of latencies: lower is better.
        let vs_zmqrs = cells[1].0 / cells[3].0;
        let vs_blocking = cells[1].0 / cells[0].0;
        println!(
            "| REQ_REP one-way us | {} | {} | {vs_zmqrs:.2}x | {vs_blocking:.2}x |",
            t.name(),
            cells
                .iter()
                .map(|c| c.1.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        );
        verdicts.push(format!(
            "latency {}: async (mt) {vs_blocking:.2}x blocking (target <= 1.2x): {}",
            t.name(),
            if vs_blocking <= 1.2 { "met" } else { "NOT met" }
        ));
    }
    println!();
    for v in verdicts {
        println!("{v}");
    }
    Ok(())
}
