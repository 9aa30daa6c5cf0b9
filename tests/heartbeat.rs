//! ZMTP heartbeats (RFC 37 PING / PONG), after libzmq's `test_heartbeats`:
//! a silent peer is dropped after HEARTBEAT_TIMEOUT, a live one never is.

mod common;

use std::io::Read;
use std::time::Duration;

use common::raw;
use common::sock::*;
use zlink_mq::monitor::EventKind;
use zlink_mq::{Context, Flags, SocketType};

#[test]
fn pings_are_sent_and_a_silent_peer_is_dropped() {
    let ctx = Context::new();
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.set_heartbeat_ivl(Some(Duration::from_millis(20)));
    pull.set_heartbeat_timeout(Some(Duration::from_millis(100)));
    let ep = bind(&mut pull, Transport::Tcp);
    let mut peer = raw::handshaken(&ep, "PUSH");
    // Everything we send, until we hang up on the peer that never answers.
    let mut seen = Vec::new();
    peer.read_to_end(&mut seen).unwrap();
    let ping = b"\x04PING";
    assert!(
        seen.windows(ping.len()).any(|w| w == ping),
        "a PING command was sent"
    );
}

#[test]
fn peers_that_answer_stay_connected() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = Context::new();
        let mut pull = socket(&ctx, SocketType::Pull);
        pull.set_heartbeat_ivl(Some(Duration::from_millis(5)));
        pull.set_heartbeat_timeout(Some(Duration::from_millis(100)));
        let ep = bind(&mut pull, t);
        let mut push = socket(&ctx, SocketType::Push);
        push.set_heartbeat_ivl(Some(Duration::from_millis(5)));
        let events = push.monitor_channel(EventKind::Disconnected.code());
        push.connect(&ep).unwrap();
        push.send("one", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut pull), "one");
        // Many intervals of silence on the application side.
        std::thread::sleep(Duration::from_millis(100));
        push.send("two", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut pull), "two", "{t:?}");
        assert!(events.try_recv().is_err(), "{t:?}: never disconnected");
    }
}

#[test]
fn the_connecting_side_detects_a_dead_server_and_reconnects() {
    let ctx = Context::new();
    // A "server" that accepts, completes the handshake and then freezes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = format!("tcp://{}", listener.local_addr().unwrap());
    let mut push = socket(&ctx, SocketType::Push);
    push.set_heartbeat_ivl(Some(Duration::from_millis(10)));
    push.set_heartbeat_timeout(Some(Duration::from_millis(50)));
    let events = push.monitor_channel(EventKind::Disconnected.code() | EventKind::Connected.code());
    push.connect(&ep).unwrap();
    let (mut frozen, _) = listener.accept().unwrap();
    std::io::Write::write_all(&mut frozen, &raw::greeting()).unwrap();
    std::io::Write::write_all(&mut frozen, &raw::ready("PULL")).unwrap();
    assert_eq!(
        events.recv_timeout(TIMEOUT).unwrap().kind,
        EventKind::Connected
    );
    let e = events.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(e.kind, EventKind::Disconnected, "{e:?}");
    // And it tries again.
    let (_again, _) = listener.accept().unwrap();
    drop(frozen);
}

#[test]
fn our_pings_carry_heartbeat_ttl() {
    let ctx = Context::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = format!("tcp://{}", listener.local_addr().unwrap());
    let mut push = socket(&ctx, SocketType::Push);
    push.set_heartbeat_ivl(Some(Duration::from_millis(10)));
    push.set_heartbeat_ttl(Some(Duration::from_millis(2500)));
    push.connect(&ep).unwrap();
    let (mut peer, _) = listener.accept().unwrap();
    peer.set_read_timeout(Some(TIMEOUT)).unwrap();
    std::io::Write::write_all(&mut peer, &raw::greeting()).unwrap();
    std::io::Write::write_all(&mut peer, &raw::ready("PULL")).unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    let ping = b"\x04PING";
    let at = loop {
        let n = peer.read(&mut buf).unwrap();
        assert!(n > 0, "closed before a PING");
        seen.extend_from_slice(&buf[..n]);
        if let Some(i) = seen.windows(ping.len()).position(|w| w == ping) {
            if seen.len() >= i + ping.len() + 2 {
                break i + ping.len();
            }
        }
    };
    // RFC 37: the TTL in tenths of a second, network order.
    assert_eq!(u16::from_be_bytes([seen[at], seen[at + 1]]), 25);
}

#[test]
fn a_peer_whose_ttl_runs_out_is_dropped() {
    let ctx = Context::new();
    let mut pull = socket(&ctx, SocketType::Pull);
    let ep = bind(&mut pull, Transport::Tcp);
    // A PING without TTL, then silence: nothing to enforce.
    let mut patient = raw::handshaken(&ep, "PUSH");
    std::io::Write::write_all(&mut patient, &[0x04, 7, 4, b'P', b'I', b'N', b'G', 0, 0]).unwrap();
    assert!(raw::still_open_after(
        &mut patient,
        Duration::from_millis(150)
    ));
    let mut peer = raw::handshaken(&ep, "PUSH");
    // PING with a TTL of 0.1 s, then silence: we must hang up on it.
    std::io::Write::write_all(&mut peer, &[0x04, 7, 4, b'P', b'I', b'N', b'G', 0, 1]).unwrap();
    raw::expect_closed(&mut peer);
}
