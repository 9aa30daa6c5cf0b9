//! `local_thr <bind-to> <message-size> <message-count> [<enable_curve>]`: a
//! PULL socket binds and reports the throughput of the messages a
//! `remote_thr` sends; a non-zero `<enable_curve>` makes it a CURVE server
//! with the keys of libzmq's perf tools.
//!
//! Same arguments and output as libzmq's `perf/local_thr`, so either side can be
//! ours or libzmq's (see `docs/BENCHMARKS.md`).

mod common;

use common::perf;

fn main() {
    let (a, curve) = perf::args_and_flag(
        "local_thr",
        &["<bind-to>", "<message-size>", "<message-count>"],
        "<enable_curve>",
    );
    let size = perf::number("message size", &a[1]);
    let count = perf::number("message count", &a[2]);
    perf::finish(
        perf::local_thr(&a[0], size, count, curve),
        perf::Throughput::report,
    );
}
