//! `remote_thr <connect-to> <message-size> <message-count>`: a PUSH socket
//! connects and sends the messages a `local_thr` times.
//!
//! Same arguments and output as libzmq's `perf/remote_thr`, so either side can be
//! ours or libzmq's (see `docs/BENCHMARKS.md`).

mod common;

use common::perf;

fn main() {
    let a = perf::args(
        "remote_thr",
        &["<connect-to>", "<message-size>", "<message-count>"],
    );
    let size = perf::number("message size", &a[1]);
    let count = perf::number("message count", &a[2]);
    perf::finish(perf::remote_thr(&a[0], size, count), |()| String::new());
}
