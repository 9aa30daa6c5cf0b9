//! Subscription matching as the std sockets do it (the core's
//! [`Subscribers`] and [`Subscriptions`] over the std backend's [`Heap`]
//! storage), one thread, no I/O:
//!
//! - `pub_match`: a PUB / XPUB finding the peers whose subscriptions are a
//!   prefix of a message;
//! - `sub_match`: a SUB / XSUB deciding whether a message matches one of its
//!   subscriptions;
//! - `cancel_longest`: subscribing to and cancelling the longest topic.
//!
//! Each store holds 1, 100 or 10 000 topics, one of them 64 KiB long, the
//! others 1 to 100 bytes over a four-letter alphabet (so they share
//! prefixes and come in many lengths). Messages are 16 B and 64 KiB long;
//! the 64 KiB one is the long topic itself, which matches it and every
//! short topic that is a prefix of it. Figures are per message. Run:
//! `cargo bench --bench topics` (add a filter such as `pub_match/` to run
//! one group).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use zlink_mq::core::routing::{Subscribers, Subscriptions};
use zlink_mq::storage::Heap;

const LONG_TOPIC: usize = 64 * 1024;
const PEERS: u32 = 4;

/// A deterministic byte source (xorshift64).
struct Bytes(u64);

impl Bytes {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// `len` bytes of `a`..`d`.
    fn topic(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| b'a' + (self.next() % 4) as u8).collect()
    }
}

/// The long topic, then `count - 1` short ones.
fn topics(count: usize) -> Vec<Vec<u8>> {
    let mut bytes = Bytes(0x9e37_79b9_7f4a_7c15);
    let mut topics = vec![bytes.topic(LONG_TOPIC)];
    while topics.len() < count {
        let len = 1 + (bytes.next() % 100) as usize;
        let t = bytes.topic(len);
        if !topics.contains(&t) {
            topics.push(t);
        }
    }
    topics
}

fn messages(long_topic: &[u8]) -> [(&'static str, Vec<u8>); 2] {
    let mut bytes = Bytes(0x2545_f491_4f6c_dd1d);
    [("16B", bytes.topic(16)), ("64KiB", long_topic.to_vec())]
}

fn publisher(topics: &[Vec<u8>]) -> Subscribers<Heap, u32> {
    let mut s = Subscribers::new();
    for (i, t) in topics.iter().enumerate() {
        s.add(t, i as u32 % PEERS).unwrap();
    }
    s
}

fn subscriber(topics: &[Vec<u8>]) -> Subscriptions<Heap> {
    let mut s = Subscriptions::new();
    for t in topics {
        s.add(t).unwrap();
    }
    s
}

fn pub_match(c: &mut Criterion) {
    let mut g = c.benchmark_group("pub_match");
    g.throughput(Throughput::Elements(1));
    for count in [1, 100, 10_000] {
        let topics = topics(count);
        let store = publisher(&topics);
        for (size, msg) in messages(&topics[0]) {
            g.bench_function(format!("{count}_topics/{size}"), |b| {
                b.iter(|| {
                    let mut matched = 0u32;
                    store.for_each_match(black_box(&msg), |p| matched += p + 1);
                    black_box(matched)
                })
            });
        }
    }
    g.finish();
}

fn sub_match(c: &mut Criterion) {
    let mut g = c.benchmark_group("sub_match");
    g.throughput(Throughput::Elements(1));
    for count in [1, 100, 10_000] {
        let topics = topics(count);
        let store = subscriber(&topics);
        for (size, msg) in messages(&topics[0]) {
            // The message with its first byte changed: it matches only
            // if a short topic is its prefix, so the store looks it up
            // in full.
            let mut miss = msg.clone();
            miss[0] = b'z';
            g.bench_function(format!("{count}_topics/{size}"), |b| {
                b.iter(|| black_box(store.matches(black_box(&msg))))
            });
            g.bench_function(format!("{count}_topics/{size}_no_match"), |b| {
                b.iter(|| black_box(store.matches(black_box(&miss))))
            });
        }
    }
    g.finish();
}

fn cancel_longest(c: &mut Criterion) {
    let mut g = c.benchmark_group("cancel_longest");
    g.throughput(Throughput::Elements(1));
    for count in [1, 100, 10_000] {
        let topics = topics(count);
        let long = &topics[0];
        let mut store = publisher(&topics[1..]);
        g.bench_function(format!("{count}_topics"), |b| {
            b.iter(|| {
                store.add(black_box(long), 0).unwrap();
                black_box(store.remove(black_box(long), 0))
            })
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10)
        .configure_from_args();
    pub_match(&mut c);
    sub_match(&mut c);
    cancel_longest(&mut c);
    c.final_summary();
}
