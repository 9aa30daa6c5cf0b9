//! Our perf tools against libzmq's, both ways, over TCP and IPC.
//!
//! The tools' logic (`examples/common/perf.rs`, what the example binaries
//! run) is driven here against peers written with the `zmq` crate (libzmq
//! 4.3.4) that do exactly what libzmq's `perf/local_thr.cpp`,
//! `remote_thr.cpp`, `local_lat.cpp` and `remote_lat.cpp` do: the same
//! socket types, roles and message sizes, so a mixed pair of tools works
//! across processes as it does here across contexts.

#[path = "../examples/common/perf.rs"]
mod perf;

use std::thread;

/// Counts kept small: this checks compatibility, not speed.
const COUNT: u64 = 20_000;
const ROUNDTRIPS: u64 = 500;
/// The libzmq peers give up after this long instead of hanging the test.
const TIMEOUT_MS: i32 = 20_000;

/// A fresh endpoint for `transport` ("tcp" or "ipc").
fn endpoint(transport: &str, tag: &str) -> String {
    match transport {
        "tcp" => {
            // The OS picks a free port; libzmq and we both bind it again
            // right away (SO_REUSEADDR), and connecters retry until then.
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("tcp://127.0.0.1:{}", l.local_addr().unwrap().port())
        }
        _ => format!(
            "ipc://{}",
            std::env::temp_dir()
                .join(format!("zlink-perf-{}-{tag}.ipc", std::process::id()))
                .display()
        ),
    }
}

fn zmq_socket(ctx: &zmq::Context, kind: zmq::SocketType) -> zmq::Socket {
    let s = ctx.socket(kind).unwrap();
    s.set_rcvtimeo(TIMEOUT_MS).unwrap();
    s.set_sndtimeo(TIMEOUT_MS).unwrap();
    s
}

/// libzmq's `local_thr`: returns how many messages of `size` bytes arrived.
fn libzmq_local_thr(bind_to: &str, size: usize, count: u64) -> u64 {
    let ctx = zmq::Context::new();
    let s = zmq_socket(&ctx, zmq::PULL);
    s.bind(bind_to).unwrap();
    let mut msg = zmq::Message::new();
    let mut received = 0;
    for _ in 0..count {
        if let Err(e) = s.recv(&mut msg, 0) {
            panic!("libzmq local_thr: {e} after {received} messages");
        }
        assert_eq!(msg.len(), size, "message of incorrect size received");
        received += 1;
    }
    received
}

/// libzmq's `remote_thr`.
fn libzmq_remote_thr(connect_to: &str, size: usize, count: u64) {
    let ctx = zmq::Context::new();
    let s = zmq_socket(&ctx, zmq::PUSH);
    s.connect(connect_to).unwrap();
    for _ in 0..count {
        s.send(zmq::Message::with_size(size), 0).unwrap();
    }
}

/// libzmq's `local_lat`.
fn libzmq_local_lat(bind_to: &str, size: usize, roundtrips: u64) {
    let ctx = zmq::Context::new();
    let s = zmq_socket(&ctx, zmq::REP);
    s.bind(bind_to).unwrap();
    let mut msg = zmq::Message::new();
    for _ in 0..roundtrips {
        s.recv(&mut msg, 0).expect("libzmq local_lat receives");
        assert_eq!(msg.len(), size, "message of incorrect size received");
        s.send(&msg[..], 0).unwrap();
    }
}

/// libzmq's `remote_lat`: returns the round trips completed.
fn libzmq_remote_lat(connect_to: &str, size: usize, roundtrips: u64) -> u64 {
    let ctx = zmq::Context::new();
    let s = zmq_socket(&ctx, zmq::REQ);
    s.connect(connect_to).unwrap();
    let payload = vec![0u8; size];
    let mut msg = zmq::Message::new();
    let mut done = 0;
    for _ in 0..roundtrips {
        s.send(&payload[..], 0).unwrap();
        s.recv(&mut msg, 0).expect("libzmq remote_lat receives");
        assert_eq!(msg.len(), size, "message of incorrect size received");
        done += 1;
    }
    done
}

/// Checks that a report has libzmq's lines, in order, with these values.
fn assert_report(report: &str, first: &[String], last: &[&str]) {
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), first.len() + last.len(), "{report}");
    for (line, want) in lines.iter().zip(first) {
        assert_eq!(line, want, "{report}");
    }
    for (line, pattern) in lines[first.len()..].iter().zip(last) {
        let (head, unit) = pattern.split_once('#').unwrap();
        let value = line
            .strip_prefix(head)
            .and_then(|v| v.strip_suffix(unit))
            .unwrap_or_else(|| panic!("line {line:?} is not {pattern:?}"));
        let value: f64 = value.parse().unwrap();
        assert!(value > 0.0, "{report}");
    }
}

fn our_local_thr_with_libzmq_remote_thr(transport: &str, size: usize) {
    let ep = endpoint(transport, &format!("thr-ours-{size}"));
    let local = {
        let ep = ep.clone();
        thread::spawn(move || perf::local_thr(&ep, size, COUNT, false).unwrap())
    };
    libzmq_remote_thr(&ep, size, COUNT);
    let result = local.join().unwrap();
    assert_eq!(result.count, COUNT);
    assert_report(
        &result.report(),
        &[
            format!("message size: {size} [B]"),
            format!("message count: {COUNT}"),
        ],
        &["mean throughput: # [msg/s]", "mean throughput: # [Mb/s]"],
    );
}

/// Our `remote_thr` returns once its context has delivered everything:
/// libzmq's `local_thr`, slower to read, must still count every message
/// (over ipc this needs the half-close of a lingering connection).
fn libzmq_local_thr_with_our_remote_thr(transport: &str, size: usize) {
    let ep = endpoint(transport, &format!("thr-libzmq-{size}"));
    let local = {
        let ep = ep.clone();
        thread::spawn(move || libzmq_local_thr(&ep, size, COUNT))
    };
    perf::remote_thr(&ep, size, COUNT, false).unwrap();
    assert_eq!(local.join().unwrap(), COUNT);
}

fn our_lat_pair_with_libzmq(transport: &str, size: usize) {
    // Our local_lat serves libzmq's remote_lat.
    let ep = endpoint(transport, &format!("lat-ours-{size}"));
    let local = {
        let ep = ep.clone();
        thread::spawn(move || perf::local_lat(&ep, size, ROUNDTRIPS).unwrap())
    };
    assert_eq!(libzmq_remote_lat(&ep, size, ROUNDTRIPS), ROUNDTRIPS);
    local.join().unwrap();

    // libzmq's local_lat serves our remote_lat.
    let ep = endpoint(transport, &format!("lat-libzmq-{size}"));
    let local = {
        let ep = ep.clone();
        thread::spawn(move || libzmq_local_lat(&ep, size, ROUNDTRIPS))
    };
    let result = perf::remote_lat(&ep, size, ROUNDTRIPS).unwrap();
    local.join().unwrap();
    assert_eq!(result.roundtrips, ROUNDTRIPS);
    assert_report(
        &result.report(),
        &[
            format!("message size: {size} [B]"),
            format!("roundtrip count: {ROUNDTRIPS}"),
        ],
        &["average latency: # [us]"],
    );
}

// 64 B is the benchmark size (inline messages); 1000 B takes the
// shared-buffer path.

#[test]
fn local_thr_accepts_libzmq_remote_thr_tcp() {
    our_local_thr_with_libzmq_remote_thr("tcp", 64);
    our_local_thr_with_libzmq_remote_thr("tcp", 1000);
}

#[test]
fn local_thr_accepts_libzmq_remote_thr_ipc() {
    our_local_thr_with_libzmq_remote_thr("ipc", 64);
    our_local_thr_with_libzmq_remote_thr("ipc", 1000);
}

#[test]
fn remote_thr_feeds_libzmq_local_thr_tcp() {
    libzmq_local_thr_with_our_remote_thr("tcp", 64);
    libzmq_local_thr_with_our_remote_thr("tcp", 1000);
}

#[test]
fn remote_thr_feeds_libzmq_local_thr_ipc() {
    libzmq_local_thr_with_our_remote_thr("ipc", 64);
    libzmq_local_thr_with_our_remote_thr("ipc", 1000);
}

#[test]
fn latency_tools_pair_with_libzmq_tcp() {
    our_lat_pair_with_libzmq("tcp", 64);
}

#[test]
fn latency_tools_pair_with_libzmq_ipc() {
    our_lat_pair_with_libzmq("ipc", 64);
}

#[test]
fn inproc_tools_report_libzmq_lines() {
    let thr = perf::inproc_thr(64, COUNT).unwrap();
    assert_eq!(thr.count, COUNT);
    assert_report(
        &thr.report(),
        &[
            "message size: 64 [B]".into(),
            format!("message count: {COUNT}"),
        ],
        &["mean throughput: # [msg/s]", "mean throughput: # [Mb/s]"],
    );
    let lat = perf::inproc_lat(64, ROUNDTRIPS).unwrap();
    assert_eq!(lat.roundtrips, ROUNDTRIPS);
    assert_report(
        &lat.report(),
        &[
            "message size: 64 [B]".into(),
            format!("roundtrip count: {ROUNDTRIPS}"),
        ],
        &["average latency: # [us]"],
    );
}

/// `<enable_curve>`: libzmq's perf-tool keys are two valid pairs, and our
/// `local_thr` and `remote_thr` count every message over CURVE. (The
/// libzmq these tests link has no CURVE; tests/curve_interop.rs covers
/// CURVE against libzmq 4.3.5.)
#[test]
fn thr_tools_with_curve_enabled() {
    use perf::curve_keys::*;
    for (public, secret) in [
        (SERVER_PUBLIC, SERVER_SECRET),
        (CLIENT_PUBLIC, CLIENT_SECRET),
    ] {
        let derived = zlink_mq::curve::public_key(secret.as_bytes()).unwrap();
        assert_eq!(&derived[..], public.as_bytes());
    }
    let ep = endpoint("tcp", "thr-curve");
    let local = {
        let ep = ep.clone();
        thread::spawn(move || perf::local_thr(&ep, 64, COUNT, true).unwrap())
    };
    perf::remote_thr(&ep, 64, COUNT, true).unwrap();
    assert_eq!(local.join().unwrap().count, COUNT);
}
