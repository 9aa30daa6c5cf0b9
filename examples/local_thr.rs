//! `local_thr <bind-to> <message-size> <message-count>`: a PULL socket binds
//! and reports the throughput of the messages a `remote_thr` sends.
//!
//! Same arguments and output as libzmq's `perf/local_thr`, so either side can be
//! ours or libzmq's (see `docs/BENCHMARKS.md`).

mod common;

use common::perf;

fn main() {
    let a = perf::args(
        "local_thr",
        &["<bind-to>", "<message-size>", "<message-count>"],
    );
    let size = perf::number("message size", &a[1]);
    let count = perf::number("message count", &a[2]);
    perf::finish(
        perf::local_thr(&a[0], size, count),
        perf::Throughput::report,
    );
}
