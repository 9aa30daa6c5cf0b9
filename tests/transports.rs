//! Transport details: TCP with IPv4, IPv6 and host names, wildcard and
//! ephemeral binds; IPC paths, `ipc://*` and the abstract namespace, and the
//! socket file's life; inproc connect-before-bind; TCP options.

mod common;

use std::time::Duration;

use common::sock::*;
use zlink_mq::{Context, Flags, Socket, SocketType};

fn roundtrip(pull: &mut Socket, push: &mut Socket) {
    push.send("ping", Flags::NONE).unwrap();
    assert_eq!(recv_str(pull), "ping");
}

fn pair(ctx: &Context, bind_ep: &str, ipv6: bool) -> (Socket, Socket, String) {
    let mut pull = socket(ctx, SocketType::Pull);
    pull.set_ipv6(ipv6);
    pull.bind(bind_ep).unwrap();
    let ep = pull.last_endpoint().unwrap().to_owned();
    let mut push = socket(ctx, SocketType::Push);
    push.set_ipv6(ipv6);
    (pull, push, ep)
}

#[test]
fn tcp_ephemeral_and_wildcard_binds_report_the_real_endpoint() {
    let ctx = Context::new();
    for bind_ep in ["tcp://127.0.0.1:*", "tcp://127.0.0.1:0", "tcp://*:*"] {
        let (mut pull, mut push, ep) = pair(&ctx, bind_ep, false);
        let port: u16 = ep.rsplit(':').next().unwrap().parse().unwrap();
        assert_ne!(port, 0, "{bind_ep} -> {ep}");
        push.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
        roundtrip(&mut pull, &mut push);
        // As libzmq, a wildcard endpoint unbinds by its resolved name only
        // (tests/endpoints.rs has the details).
        pull.unbind(&ep).unwrap();
    }
}

#[test]
fn tcp_host_names_are_resolved() {
    let ctx = Context::new();
    let (mut pull, mut push, ep) = pair(&ctx, "tcp://localhost:*", false);
    let port = ep.rsplit(':').next().unwrap();
    push.connect(&format!("tcp://localhost:{port}")).unwrap();
    roundtrip(&mut pull, &mut push);
}

fn ipv6_loopback_available() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

#[test]
fn tcp_over_ipv6() {
    if !ipv6_loopback_available() {
        eprintln!("skipped: no IPv6 loopback on this machine");
        return;
    }
    let ctx = Context::new();
    let (mut pull, mut push, ep) = pair(&ctx, "tcp://[::1]:*", true);
    assert!(ep.starts_with("tcp://[::1]:"), "{ep}");
    push.connect(&ep).unwrap();
    roundtrip(&mut pull, &mut push);
    // A dual-stack wildcard bind with IPV6 serves IPv4 clients too.
    let (mut pull, mut push, ep) = pair(&ctx, "tcp://*:*", true);
    let port = ep.rsplit(':').next().unwrap();
    push.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    roundtrip(&mut pull, &mut push);
    let mut push6 = socket(&ctx, SocketType::Push);
    push6.set_ipv6(true);
    push6.connect(&format!("tcp://[::1]:{port}")).unwrap();
    roundtrip(&mut pull, &mut push6);
}

#[test]
fn ipc_paths_and_the_socket_file() {
    let ctx = Context::new();
    let path = std::env::temp_dir().join(format!("zlink-transports-{}.ipc", std::process::id()));
    let ep = format!("ipc://{}", path.display());
    let (mut pull, mut push, last) = pair(&ctx, &ep, false);
    assert_eq!(last, ep);
    assert!(path.exists());
    push.connect(&ep).unwrap();
    roundtrip(&mut pull, &mut push);
    pull.unbind(&ep).unwrap();
    assert!(!path.exists(), "unbind removes the socket file");
    pull.bind(&ep).unwrap();
    assert!(path.exists());
    drop(pull);
    assert!(!path.exists(), "close removes the socket file");
}

#[test]
fn ipc_wildcard_binds_a_fresh_path() {
    let ctx = Context::new();
    let (mut pull, mut push, ep) = pair(&ctx, "ipc://*", false);
    let (_other, _, ep2) = pair(&ctx, "ipc://*", false);
    assert_ne!(ep, ep2);
    let path = ep.strip_prefix("ipc://").unwrap().to_owned();
    assert!(std::path::Path::new(&path).exists());
    push.connect(&ep).unwrap();
    roundtrip(&mut pull, &mut push);
    drop(pull);
    assert!(!std::path::Path::new(&path).exists());
}

#[test]
fn ipc_abstract_namespace() {
    let ctx = Context::new();
    let ep = format!("ipc://@zlink-abstract-{}", std::process::id());
    let (mut pull, mut push, last) = pair(&ctx, &ep, false);
    assert_eq!(last, ep);
    push.connect(&ep).unwrap();
    roundtrip(&mut pull, &mut push);
    pull.unbind(&ep).unwrap();
    // The name is free again at once.
    pull.bind(&ep).unwrap();
}

#[test]
fn tcp_options_are_accepted_on_live_connections() {
    let ctx = Context::new();
    let (mut pull, mut push, ep) = pair(&ctx, "tcp://127.0.0.1:*", false);
    for s in [&mut pull, &mut push] {
        s.set_tcp_keepalive(Some(true));
        s.set_tcp_keepalive_params(
            Some(3),
            Some(Duration::from_secs(30)),
            Some(Duration::from_secs(5)),
        );
        s.set_backlog(10);
    }
    pull.unbind(&ep).unwrap();
    pull.bind(&ep).unwrap();
    push.connect(&ep).unwrap();
    roundtrip(&mut pull, &mut push);
}

#[test]
fn connect_before_bind_on_every_transport() {
    for t in ALL {
        let ctx = Context::new();
        // Learn a free address, then free it.
        let ep = {
            let mut probe = socket(&ctx, SocketType::Pull);
            let ep = bind(&mut probe, t);
            probe.unbind(&ep).unwrap();
            ep
        };
        let mut push = socket(&ctx, SocketType::Push);
        push.connect(&ep).unwrap();
        for i in 0..3 {
            push.send(i.to_string().as_str(), Flags::NONE).unwrap();
        }
        let mut pull = socket(&ctx, SocketType::Pull);
        pull.bind(&ep).unwrap();
        for i in 0..3 {
            assert_eq!(recv_str(&mut pull), i.to_string(), "{t:?}");
        }
    }
}

#[test]
fn several_io_threads_share_the_connections() {
    let ctx = Context::with_io_threads(3);
    assert_eq!(ctx.io_threads(), 3);
    let mut pull = socket(&ctx, SocketType::Pull);
    let ep = bind(&mut pull, Transport::Tcp);
    let mut pushes: Vec<Socket> = (0..6)
        .map(|_| {
            let mut p = socket(&ctx, SocketType::Push);
            p.connect(&ep).unwrap();
            p
        })
        .collect();
    for (i, p) in pushes.iter_mut().enumerate() {
        p.send(i.to_string().as_str(), Flags::NONE).unwrap();
    }
    let mut got: Vec<String> = (0..6).map(|_| recv_str(&mut pull)).collect();
    got.sort();
    assert_eq!(got, ["0", "1", "2", "3", "4", "5"]);
}

/// Sizes around every receive path: inline, shared, a frame cut by the
/// 64 KiB read buffer, bodies read straight into a recycled buffer (16 KiB
/// to 1 MiB), and larger ones assembled in a growing buffer.
const LARGE_SIZES: [usize; 12] = [
    0, 1, 70, 71, 8_191, 16_384, 65_536, 65_545, 300_000, 1_048_576, 1_048_577, 5_000_000,
];

/// One part of every size in [`LARGE_SIZES`], each with its own contents.
fn large_parts(seed: usize) -> Vec<Vec<u8>> {
    LARGE_SIZES
        .iter()
        .enumerate()
        .map(|(i, &len)| (0..len).map(|b| (b * 31 + (i + seed) * 7) as u8).collect())
        .collect()
}

fn assert_same_parts(t: Transport, got: &[zlink_mq::Msg], parts: &[Vec<u8>]) {
    assert_eq!(got.len(), parts.len(), "{t:?}");
    for (g, p) in got.iter().zip(parts) {
        assert!(
            g.as_slice() == &p[..],
            "{t:?}: a {} B part differs",
            p.len()
        );
    }
}

#[test]
fn large_frames_arrive_intact_over_ipc_and_tcp() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = Context::new();
        let mut pull = socket(&ctx, SocketType::Pull);
        let ep = bind(&mut pull, t);
        let mut push = socket(&ctx, SocketType::Push);
        push.connect(&ep).unwrap();
        for round in 0..2 {
            // One multipart message of every size, then each alone.
            let parts = large_parts(round);
            push.send_multipart(parts.iter().map(|p| &p[..]), Flags::NONE)
                .unwrap();
            for part in &parts {
                push.send(&part[..], Flags::NONE).unwrap();
            }
            assert_same_parts(t, &pull.recv_multipart(Flags::NONE).unwrap(), &parts);
            for p in &parts {
                let g = pull.recv(Flags::NONE).unwrap();
                assert!(!g.more());
                assert!(
                    g.as_slice() == &p[..],
                    "{t:?}: a {} B message differs",
                    p.len()
                );
            }
        }
    }
}

#[test]
fn large_frames_from_libzmq_arrive_intact() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = Context::new();
        let mut pull = socket(&ctx, SocketType::Pull);
        let ep = bind(&mut pull, t);
        let zctx = zmq::Context::new();
        let push = zctx.socket(zmq::PUSH).unwrap();
        push.set_linger(0).unwrap();
        push.connect(&ep).unwrap();
        let parts = large_parts(0);
        push.send_multipart(parts.iter(), 0).unwrap();
        assert_same_parts(t, &pull.recv_multipart(Flags::NONE).unwrap(), &parts);
    }
}
