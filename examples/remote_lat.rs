//! `remote_lat <connect-to> <message-size> <roundtrip-count>`: a REQ socket
//! connects to a `local_lat` and reports the one-way latency (half the mean
//! round trip).
//!
//! Same arguments and output as libzmq's `perf/remote_lat`, so either side can be
//! ours or libzmq's (see `docs/BENCHMARKS.md`).

mod common;

use common::perf;

fn main() {
    let a = perf::args(
        "remote_lat",
        &["<connect-to>", "<message-size>", "<roundtrip-count>"],
    );
    let size = perf::number("message size", &a[1]);
    let count = perf::number("roundtrip count", &a[2]);
    perf::finish(perf::remote_lat(&a[0], size, count), perf::Latency::report);
}
