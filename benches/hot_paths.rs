//! Micro-benchmarks of the per-message hot paths, one thread, no I/O:
//!
//! - `frame`: ZMTP frame encoding ([`FrameWriter`]) and decoding
//!   ([`Decoder`]) of a 64 KiB batch, as the TCP/IPC engine does per
//!   `write` / `read`;
//! - `routing`: the core's routing decisions with the std backend's
//!   [`Msg`] over pipes that accept everything (round-robin, fair-queue,
//!   ROUTER by routing id, PUB fan-out with prefix matching), so only the
//!   decision and the message move are timed;
//! - `msg`: creating, cloning and dropping [`Msg`]s inline (64 B) and
//!   shared (1 KiB, 4 KiB).
//!
//! Figures are per message (criterion's "elements"). Run:
//! `cargo bench --bench hot_paths` (add a filter such as `routing/` to run
//! one group).

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput};
use zlink_mq::Msg;
use zlink_mq::core::routing::{PeerIdentity, Pipes, Pub, Pull, Push, Router, Routing};
use zlink_mq::core::storage::Fixed;
use zlink_mq::core::zmtp::frame::{Decoded, Decoder, FrameWriter};

/// The engine's batch size.
const BATCH_BYTES: usize = 64 * 1024;

fn frames(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame");
    for size in [64usize, 1024] {
        let body = vec![0xa5u8; size];
        let mut buf = vec![0u8; BATCH_BYTES];
        // How many frames one batch holds.
        let per_batch = {
            let mut w = FrameWriter::new(&mut buf);
            let mut n = 0u64;
            while w.push(&body, false).is_ok() {
                n += 1;
            }
            n
        };
        g.throughput(Throughput::Elements(per_batch));
        g.bench_function(format!("encode_{size}B"), |b| {
            b.iter(|| {
                let mut w = FrameWriter::new(&mut buf);
                while w.push(black_box(&body), false).is_ok() {}
                black_box(w.len())
            })
        });
        let wire = {
            let mut w = FrameWriter::new(&mut buf);
            while w.push(&body, false).is_ok() {}
            let n = w.len();
            buf[..n].to_vec()
        };
        g.bench_function(format!("decode_{size}B"), |b| {
            b.iter(|| {
                let mut d = Decoder::new(u64::MAX, 1024);
                let mut at = 0;
                let mut bytes = 0;
                while at < wire.len() {
                    match d.decode(black_box(&wire[at..])) {
                        Ok((used, Some(Decoded::Frame { body, .. }))) => {
                            bytes += body.len();
                            at += used;
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
                black_box(bytes)
            })
        });
    }
    g.finish();
}

/// Peers whose outbound pipes take every frame (and drop it), and whose
/// inbound pipes hold queued frames then, if `endless` is set, always one
/// more copy of it.
struct Sink {
    written: u64,
    inbound: Vec<VecDeque<Msg>>,
    endless: Option<Msg>,
}

impl Sink {
    fn new(peers: usize) -> Self {
        Self {
            written: 0,
            inbound: (0..peers).map(|_| VecDeque::new()).collect(),
            endless: None,
        }
    }
}

impl Pipes for Sink {
    type Peer = u8;
    type Msg = Msg;

    #[inline]
    fn check_write(&mut self, _: u8) -> bool {
        true
    }

    #[inline]
    fn write(&mut self, _: u8, frame: Msg) -> Result<(), Msg> {
        black_box(&frame);
        self.written += 1;
        Ok(())
    }

    fn rollback(&mut self, _: u8) {}

    #[inline]
    fn flush(&mut self, _: u8) {}

    #[inline]
    fn check_read(&mut self, peer: u8) -> bool {
        !self.inbound[peer as usize].is_empty() || self.endless.is_some()
    }

    #[inline]
    fn read(&mut self, peer: u8) -> Option<Msg> {
        self.inbound[peer as usize]
            .pop_front()
            .or_else(|| self.endless.clone())
    }
}

/// Up to 16 peers, 16 subscriptions, 16-byte ids and prefixes.
type Store = Fixed<16, 16, 16>;

const PEERS: u8 = 4;

fn routing(c: &mut Criterion) {
    let mut g = c.benchmark_group("routing");
    g.throughput(Throughput::Elements(1));
    let payload = [7u8; 64];

    g.bench_function("push_round_robin_4_peers", |b| {
        let mut pipes = Sink::new(PEERS.into());
        let mut push: Push<Store, u8> = Push::new();
        for p in 0..PEERS {
            push.attach(&mut pipes, p, PeerIdentity::Anonymous).unwrap();
        }
        b.iter(|| {
            push.send(&mut pipes, Msg::copy_from_slice(black_box(&payload)))
                .unwrap()
        });
    });

    g.bench_function("pull_fair_queue_4_peers", |b| {
        let mut pipes = Sink::new(PEERS.into());
        pipes.endless = Some(Msg::copy_from_slice(&payload));
        let mut pull: Pull<Store, u8> = Pull::new();
        for p in 0..PEERS {
            pull.attach(&mut pipes, p, PeerIdentity::Anonymous).unwrap();
        }
        b.iter(|| black_box(pull.recv(&mut pipes).unwrap()));
    });

    g.bench_function("router_send_by_id_16_peers", |b| {
        let mut pipes = Sink::new(16);
        let mut router: Router<Store, u8, Msg> = Router::new(1);
        let ids: Vec<Vec<u8>> = (0..16u8)
            .map(|p| format!("peer-{p:02}").into_bytes())
            .collect();
        for (p, id) in ids.iter().enumerate() {
            router
                .attach(&mut pipes, p as u8, PeerIdentity::Announced(id))
                .unwrap();
        }
        let mut next = 0;
        b.iter(|| {
            let id = Msg::copy_from_slice(&ids[next]).with_more(true);
            next = (next + 7) % ids.len();
            router.send(&mut pipes, id).unwrap();
            router
                .send(&mut pipes, Msg::copy_from_slice(black_box(&payload)))
                .unwrap();
        });
    });

    for subscribers in [1u8, 8] {
        g.bench_function(format!("pub_fan_out_{subscribers}_subscribers"), |b| {
            let mut pipes = Sink::new(subscribers.into());
            let mut publisher: Pub<Store, u8> = Pub::new();
            for p in 0..subscribers {
                // Each subscriber subscribes to a prefix of the message and
                // to one that does not match.
                pipes.inbound[p as usize].push_back(Msg::copy_from_slice(b"\x01\x07\x07"));
                pipes.inbound[p as usize].push_back(Msg::copy_from_slice(b"\x01nomatch"));
                publisher
                    .attach(&mut pipes, p, PeerIdentity::Anonymous)
                    .unwrap();
            }
            b.iter(|| {
                publisher
                    .send(&mut pipes, Msg::copy_from_slice(black_box(&payload)))
                    .unwrap()
            });
            assert!(pipes.written > 0, "the subscriptions match");
        });
    }
    g.finish();
}

fn msg(c: &mut Criterion) {
    let mut g = c.benchmark_group("msg");
    g.throughput(Throughput::Elements(1));
    for size in [64usize, 1024] {
        let data = vec![3u8; size];
        g.bench_function(format!("copy_from_slice_and_drop_{size}B"), |b| {
            b.iter(|| black_box(Msg::copy_from_slice(black_box(&data))))
        });
        let m = Msg::copy_from_slice(&data);
        g.bench_function(format!("clone_and_drop_{size}B"), |b| {
            b.iter(|| black_box(black_box(&m).clone()))
        });
    }
    g.bench_function("from_vec_4096B", |b| {
        b.iter_batched(
            || vec![5u8; 4096],
            |v| black_box(Msg::from(v)),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args();
    frames(&mut c);
    routing(&mut c);
    msg(&mut c);
    c.final_summary();
}
