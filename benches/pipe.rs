//! Two threads moving 64-byte items through single-producer /
//! single-consumer queues: our ypipe against `rtrb`, `crossbeam-channel`
//! (bounded) and `heapless::spsc`, in one criterion run.
//!
//! Both threads spin when the queue is empty or full, so the figures compare
//! the queues themselves, not a wake-up mechanism. The ypipe is measured
//! twice: flushing after every item (what a socket does for a lone message)
//! and flushing once per batch of 32 items (what a socket does when the
//! caller sends faster than the peer reads).
//!
//! The machines we run on are small and shared, so the queues are measured
//! interleaved: `ROUNDS` rounds, each measuring every queue once in turn.
//! Every timed sample is also recorded, and after criterion's own report the
//! bench prints one markdown table of medians over all rounds, with the
//! min-max spread and each queue's time relative to the ypipe's.
//!
//! Run: `cargo bench --bench pipe`

use std::collections::BTreeMap;
use std::hint::{black_box, spin_loop};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use zlink_mq::core::pipe::{Pipe, YPipe};

const CAPACITY: usize = 1024;
const BATCH: u64 = 32;

/// A 64-byte message stand-in.
#[derive(Clone, Copy)]
struct Item(#[allow(dead_code)] [u64; 8]);

impl Item {
    fn new(seq: u64) -> Self {
        Item([seq; 8])
    }
}

fn ypipe(iters: u64, batch: u64) -> Duration {
    let pipe: Box<YPipe<Item, CAPACITY>> = Box::new(YPipe::new());
    let (mut tx, mut rx) = Pipe::split(&*pipe).expect("fresh pipe");
    std::thread::scope(|s| {
        s.spawn(move || {
            for i in 0..iters {
                let mut item = Item::new(i);
                while let Err(back) = tx.write(item, false) {
                    let _ = tx.flush();
                    item = back;
                    spin_loop();
                }
                if (i + 1) % batch == 0 {
                    let _ = tx.flush();
                }
            }
            let _ = tx.flush();
        });
        let start = Instant::now();
        for _ in 0..iters {
            loop {
                if let Some(item) = rx.try_read() {
                    black_box(item);
                    break;
                }
                spin_loop();
            }
        }
        start.elapsed()
    })
}

fn rtrb(iters: u64) -> Duration {
    let (mut tx, mut rx) = rtrb::RingBuffer::<Item>::new(CAPACITY);
    std::thread::scope(|s| {
        s.spawn(move || {
            for i in 0..iters {
                let mut item = Item::new(i);
                while let Err(rtrb::PushError::Full(back)) = tx.push(item) {
                    item = back;
                    spin_loop();
                }
            }
        });
        let start = Instant::now();
        for _ in 0..iters {
            loop {
                if let Ok(item) = rx.pop() {
                    black_box(item);
                    break;
                }
                spin_loop();
            }
        }
        start.elapsed()
    })
}

fn crossbeam(iters: u64) -> Duration {
    let (tx, rx) = crossbeam_channel::bounded::<Item>(CAPACITY);
    std::thread::scope(|s| {
        s.spawn(move || {
            for i in 0..iters {
                tx.send(Item::new(i)).expect("receiver alive");
            }
        });
        let start = Instant::now();
        for _ in 0..iters {
            black_box(rx.recv().expect("sender alive"));
        }
        start.elapsed()
    })
}

fn heapless_spsc(iters: u64) -> Duration {
    let mut queue: Box<heapless::spsc::Queue<Item, CAPACITY>> =
        Box::new(heapless::spsc::Queue::new());
    let (mut tx, mut rx) = queue.split();
    std::thread::scope(|s| {
        s.spawn(move || {
            for i in 0..iters {
                let mut item = Item::new(i);
                while let Err(back) = tx.enqueue(item) {
                    item = back;
                    spin_loop();
                }
            }
        });
        let start = Instant::now();
        for _ in 0..iters {
            loop {
                if let Some(item) = rx.dequeue() {
                    black_box(item);
                    break;
                }
                spin_loop();
            }
        }
        start.elapsed()
    })
}

const ROUNDS: usize = 5;
/// Samples shorter than this many items are warm-up noise: not recorded.
const MIN_RECORDED_ITEMS: u64 = 100_000;

type Queue = (&'static str, fn(u64) -> Duration);

const QUEUES: [Queue; 5] = [
    ("ypipe, flush each item", |n| ypipe(n, 1)),
    ("ypipe, flush every 32", |n| ypipe(n, BATCH)),
    ("rtrb", rtrb),
    ("crossbeam-channel bounded", crossbeam),
    ("heapless::spsc", heapless_spsc),
];

/// Nanoseconds per item of every recorded sample, by queue.
static SAMPLES: Mutex<BTreeMap<&'static str, Vec<f64>>> = Mutex::new(BTreeMap::new());

fn record(name: &'static str, iters: u64, elapsed: Duration) {
    if iters >= MIN_RECORDED_ITEMS {
        let ns = elapsed.as_nanos() as f64 / iters as f64;
        SAMPLES.lock().unwrap().entry(name).or_default().push(ns);
    }
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn summary() {
    let samples = SAMPLES.lock().unwrap();
    let Some(base) = samples.get(QUEUES[0].0).map(|v| {
        let mut v = v.clone();
        v.sort_by(f64::total_cmp);
        median(&v)
    }) else {
        return;
    };
    println!();
    println!(
        "| queue (64-byte items, 2 threads) | median ns/item | min-max ns/item | M items/s | time vs ypipe flush-each |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for (name, _) in QUEUES {
        let Some(v) = samples.get(name) else { continue };
        let mut v = v.clone();
        v.sort_by(f64::total_cmp);
        let m = median(&v);
        println!(
            "| {name} | {m:.1} | {:.1}-{:.1} | {:.1} | {:.2}x |",
            v[0],
            v[v.len() - 1],
            1e3 / m,
            m / base
        );
    }
    println!(
        "\n{} rounds, {} samples per queue",
        ROUNDS,
        samples.values().map(Vec::len).min().unwrap_or(0)
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    for round in 1..=ROUNDS {
        let mut group = c.benchmark_group(format!("spsc_64B/round{round}"));
        group.throughput(Throughput::Elements(1));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(300));
        group.measurement_time(Duration::from_secs(1));
        for (name, run) in QUEUES {
            group.bench_function(name, |b| {
                b.iter_custom(|n| {
                    let elapsed = run(n);
                    record(name, n, elapsed);
                    elapsed
                })
            });
        }
        group.finish();
    }
    c.final_summary();
    summary();
}
