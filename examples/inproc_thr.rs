//! `inproc_thr <message-size> <message-count>`: PUSH to PULL over inproc
//! between two threads, timed on the receiver.
//!
//! Same arguments and output as libzmq's `perf/inproc_thr`, so either side can be
//! ours or libzmq's (see `docs/BENCHMARKS.md`).

mod common;

use common::perf;

fn main() {
    let a = perf::args("inproc_thr", &["<message-size>", "<message-count>"]);
    let size = perf::number("message size", &a[0]);
    let count = perf::number("message count", &a[1]);
    perf::finish(perf::inproc_thr(size, count), perf::Throughput::report);
}
