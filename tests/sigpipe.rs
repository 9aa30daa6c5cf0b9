//! A peer that is gone is an error on its connection, never a SIGPIPE: a
//! C program using our libzmq.so keeps SIGPIPE's default action (a Rust
//! `main` ignores the signal), under which a raised SIGPIPE kills the
//! process. libzmq's I/O threads block every signal; ours write with
//! `MSG_NOSIGNAL`. This file holds a single test because it sets that
//! default action for its whole process.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use common::raw;
use common::sock::*;
use zlink_mq::monitor::EventKind;
use zlink_mq::{Context, Flags, SocketType};

/// Found while writing the `std_engine` fuzz target, whose libFuzzer
/// binary keeps SIGPIPE's default action too: frames larger than the
/// engine's write buffer went out with std's `write_vectored`, a `writev`
/// (std's `write` on a socket is a `send` with `MSG_NOSIGNAL`).
#[test]
fn a_large_frame_to_a_peer_that_stopped_reading_raises_no_sigpipe() {
    // SAFETY: setting a signal's action to its default installs no
    // handler; it only decides what a SIGPIPE does to this process.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let ctx = Context::new();
    let mut push = socket(&ctx, SocketType::Push);
    let events =
        push.monitor_channel(EventKind::HandshakeSucceeded.code() | EventKind::Disconnected.code());
    let ep = bind(&mut push, Transport::Ipc);
    let mut peer = UnixStream::connect(ep.trim_start_matches("ipc://")).unwrap();
    peer.write_all(&raw::greeting()).unwrap();
    peer.write_all(&raw::ready("PULL")).unwrap();
    let e = events.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(e.kind, EventKind::HandshakeSucceeded, "{e:?}");
    // Read our greeting and READY, so that they are out (the handshake
    // completes on the peer's READY, perhaps before ours is written, and
    // a READY written after the shutdown would fail the connection
    // before the message is sent); every write from now on is EPIPE.
    let mut greeting = [0u8; 64];
    peer.read_exact(&mut greeting).unwrap();
    let mut head = [0u8; 2];
    peer.read_exact(&mut head).unwrap();
    assert_eq!(head[0], 0x04, "a short command: READY");
    let mut ready = vec![0u8; usize::from(head[1])];
    peer.read_exact(&mut ready).unwrap();
    assert!(ready.starts_with(b"\x05READY"));
    peer.shutdown(std::net::Shutdown::Read).unwrap();
    // Larger than the engine copies into its write buffer: written from the
    // message's own buffer, behind its header (a gather write).
    push.send(&vec![7u8; 100_000][..], Flags::NONE).unwrap();
    let e = events.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(e.kind, EventKind::Disconnected, "{e:?}");
    drop(peer);
}
