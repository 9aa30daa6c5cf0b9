//! `inproc_lat <message-size> <roundtrip-count>`: REQ to REP over inproc
//! between two threads; reports the one-way latency.
//!
//! Same arguments and output as libzmq's `perf/inproc_lat`, so either side can be
//! ours or libzmq's (see `docs/BENCHMARKS.md`).

mod common;

use common::perf;

fn main() {
    let a = perf::args("inproc_lat", &["<message-size>", "<roundtrip-count>"]);
    let size = perf::number("message size", &a[0]);
    let count = perf::number("roundtrip count", &a[1]);
    perf::finish(perf::inproc_lat(size, count), perf::Latency::report);
}
