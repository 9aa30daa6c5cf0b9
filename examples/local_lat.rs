//! `local_lat <bind-to> <message-size> <roundtrip-count>`: a REP socket binds
//! and echoes the requests of a `remote_lat`.
//!
//! Same arguments and output as libzmq's `perf/local_lat`, so either side can be
//! ours or libzmq's (see `docs/BENCHMARKS.md`).

mod common;

use common::perf;

fn main() {
    let a = perf::args(
        "local_lat",
        &["<bind-to>", "<message-size>", "<roundtrip-count>"],
    );
    let size = perf::number("message size", &a[1]);
    let count = perf::number("roundtrip count", &a[2]);
    perf::finish(perf::local_lat(&a[0], size, count), |()| String::new());
}
