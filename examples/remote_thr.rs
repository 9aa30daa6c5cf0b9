//! `remote_thr <connect-to> <message-size> <message-count> [<enable_curve>]`:
//! a PUSH socket connects and sends the messages a `local_thr` times; a
//! non-zero `<enable_curve>` makes it a CURVE client with the keys of
//! libzmq's perf tools.
//!
//! Same arguments and output as libzmq's `perf/remote_thr`, so either side can be
//! ours or libzmq's (see `docs/BENCHMARKS.md`).

mod common;

use common::perf;

fn main() {
    let (a, curve) = perf::args_and_flag(
        "remote_thr",
        &["<connect-to>", "<message-size>", "<message-count>"],
        "<enable_curve>",
    );
    let size = perf::number("message size", &a[1]);
    let count = perf::number("message count", &a[2]);
    perf::finish(perf::remote_thr(&a[0], size, count, curve), |()| {
        String::new()
    });
}
