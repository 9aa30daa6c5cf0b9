//! A hostile peer against a PULL: it completes the ZMTP handshake, then
//! sends empty frames with MORE set, a message that never ends. Prints the
//! receiving process's peak memory (VmHWM), whether the hostile connection
//! was cut, and how many messages a well-behaved peer got through
//! meanwhile.
//!
//! ```text
//! cargo run --release --example flood -- [--frames N] [--receiver ours|libzmq]
//! ```
//!
//! Run it once per receiver (the peak is per process). With `ours`, the
//! connection fails once its message under way holds 2^20 frames
//! (`MAX_MSG_FRAMES`); libzmq sets no limit and holds every frame.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use zlink_mq::{Context, Flags, SocketType};

/// A kB figure from `/proc/self/status`, in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// ZMTP 3.1 greeting (NULL, as client) and READY for a PUSH.
fn handshake() -> Vec<u8> {
    let mut g = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1];
    let mut mech = [0u8; 20];
    mech[..4].copy_from_slice(b"NULL");
    g.extend_from_slice(&mech);
    g.extend_from_slice(&[0; 32]);
    let body: Vec<u8> = [
        &[5][..],
        b"READY",
        &[11],
        b"Socket-Type",
        &[0, 0, 0, 4],
        b"PUSH",
    ]
    .concat();
    g.push(0x04);
    g.push(body.len() as u8);
    g.extend_from_slice(&body);
    g
}

/// Writes the handshake and `frames` empty frames with MORE; returns
/// whether the receiver cut the connection.
fn flood(addr: &str, frames: u64) -> (u64, bool) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(&handshake()).expect("handshake");
    // The receiver's greeting and READY, so that the flood starts after
    // the handshake on its side too.
    let mut theirs = [0u8; 64 + 28];
    s.read_exact(&mut theirs)
        .expect("the receiver's greeting and READY");
    let chunk = [0x01u8, 0x00].repeat(32 * 1024);
    let per_chunk = (chunk.len() / 2) as u64;
    let mut sent = 0;
    while sent < frames {
        if let Err(e) = s.write_all(&chunk) {
            if std::env::var_os("FLOOD_DEBUG").is_some() {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                eprintln!("write: {e}; the receiver had sent {:?}", &buf[..n]);
            }
            return (sent, true);
        }
        sent += per_chunk;
    }
    // Whether the receiver closes on us within a second of the last byte.
    s.set_read_timeout(Some(Duration::from_secs(1))).ok();
    let mut buf = [0u8; 4096];
    let cut = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (sent, cut)
}

fn main() {
    let mut frames: u64 = 20_000_000;
    let mut receiver = String::from("ours");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--frames" => {
                frames = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--frames N")
            }
            "--receiver" => receiver = args.next().expect("--receiver ours|libzmq"),
            other => panic!("unknown argument {other}"),
        }
    }
    let start_mib = status_mib("VmRSS:");
    let done = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let (sent, cut, good) = match receiver.as_str() {
        "ours" => {
            let ctx = Context::new();
            let mut pull = ctx.socket(SocketType::Pull).unwrap();
            pull.set_rcvtimeo(Some(Duration::from_millis(100)));
            pull.bind("tcp://127.0.0.1:*").unwrap();
            let ep = pull.last_endpoint().unwrap().to_owned();
            let mut good = ctx.socket(SocketType::Push).unwrap();
            good.connect(&ep).unwrap();
            let addr = ep.trim_start_matches("tcp://").to_owned();
            let d = done.clone();
            let hostile = std::thread::spawn(move || {
                let r = flood(&addr, frames);
                d.store(true, Ordering::Relaxed);
                r
            });
            let mut got = 0u64;
            while !done.load(Ordering::Relaxed) {
                good.send("good", Flags::NONE).unwrap();
                if pull.recv(Flags::NONE).is_ok() {
                    got += 1;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let (sent, cut) = hostile.join().unwrap();
            (sent, cut, got)
        }
        "libzmq" => {
            let ctx = zmq::Context::new();
            let pull = ctx.socket(zmq::PULL).unwrap();
            pull.set_rcvtimeo(100).unwrap();
            pull.bind("tcp://127.0.0.1:*").unwrap();
            let ep = pull.get_last_endpoint().unwrap().unwrap();
            let good = ctx.socket(zmq::PUSH).unwrap();
            good.connect(&ep).unwrap();
            let addr = ep.trim_start_matches("tcp://").to_owned();
            let d = done.clone();
            let hostile = std::thread::spawn(move || {
                let r = flood(&addr, frames);
                d.store(true, Ordering::Relaxed);
                r
            });
            let mut got = 0u64;
            while !done.load(Ordering::Relaxed) {
                good.send("good", 0).unwrap();
                if pull.recv_bytes(0).is_ok() {
                    got += 1;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let (sent, cut) = hostile.join().unwrap();
            (sent, cut, got)
        }
        other => panic!("--receiver ours|libzmq, not {other}"),
    };
    println!(
        "receiver {receiver}: {sent} empty MORE frames sent in {:.1} s, connection cut: {cut}, \
         good peer's messages received meanwhile: {good}",
        started.elapsed().as_secs_f64()
    );
    println!(
        "memory: RSS at start {start_mib:.0} MiB, peak (VmHWM) {:.0} MiB, now {:.0} MiB",
        status_mib("VmHWM:"),
        status_mib("VmRSS:")
    );
}
