//! Message properties (libzmq's `zmq_msg_gets`): every frame received over
//! TCP or IPC carries its connection's Peer-Address, the peer's READY
//! metadata (Socket-Type, Identity, `X-` application metadata set with
//! ZMQ_METADATA) and the User-Id and metadata a ZAP handler gave it; a
//! reconnection brings the new peer's properties from its first frame on.
//! Checked against libzmq (the `zmq` crate) in both directions.

mod common;

use std::thread;
use std::time::Duration;

use common::sock::*;
use zlink_mq::{Context, Flags, Msg, SocketType};

fn prop(m: &Msg, name: &str) -> Option<String> {
    m.property(name)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

#[test]
fn frames_from_a_libzmq_dealer_carry_its_address_type_and_identity() {
    let ctx = Context::new();
    let mut router = socket(&ctx, SocketType::Router);
    let ep = bind(&mut router, Transport::Tcp);

    let zctx = zmq::Context::new();
    let dealer = zctx.socket(zmq::DEALER).unwrap();
    dealer.set_identity(b"peer-1").unwrap();
    dealer.set_linger(0).unwrap();
    dealer.connect(&ep).unwrap();
    dealer.send_multipart(["a", "b"], 0).unwrap();

    let frames = router.recv_multipart(Flags::NONE).unwrap();
    assert_eq!(frames.len(), 3, "routing id, a, b");
    assert_eq!(&frames[0][..], b"peer-1");
    for f in &frames {
        assert_eq!(prop(f, "Peer-Address").as_deref(), Some("127.0.0.1"));
        assert_eq!(prop(f, "Socket-Type").as_deref(), Some("DEALER"));
        assert_eq!(prop(f, "Identity").as_deref(), Some("peer-1"));
        assert_eq!(prop(f, "User-Id"), None, "no ZAP handler was asked");
        assert!(f.properties().unwrap().source_fd().unwrap() >= 0);
    }
    // Names match exactly, as in libzmq.
    assert_eq!(prop(&frames[1], "socket-type"), None);
}

#[test]
fn our_application_metadata_reaches_libzmq_and_libzmqs_reaches_us() {
    let zctx = zmq::Context::new();
    let zrouter = zctx.socket(zmq::ROUTER).unwrap();
    zrouter.set_linger(0).unwrap();
    zrouter.set_rcvtimeo(10_000).unwrap();
    zrouter.bind("tcp://127.0.0.1:*").unwrap();
    let ep = zrouter.get_last_endpoint().unwrap().unwrap();

    let ctx = Context::new();
    let mut dealer = socket(&ctx, SocketType::Dealer);
    dealer.add_metadata("X-Hello", "World").unwrap();
    dealer.add_metadata("X-Hello", "again").unwrap();
    dealer.add_metadata("X-Empty-Name-Is-Fine", "1").unwrap();
    assert!(
        dealer.add_metadata("Hello", "World").is_err(),
        "no X- prefix"
    );
    assert!(dealer.add_metadata("X-Key", "").is_err(), "empty value");
    assert_eq!(
        dealer.metadata().collect::<Vec<_>>(),
        [("X-Empty-Name-Is-Fine", "1"), ("X-Hello", "World")]
    );
    dealer.connect(&ep).unwrap();
    dealer.send("hi", Flags::NONE).unwrap();

    let id = zrouter.recv_msg(0).unwrap();
    let mut body = zrouter.recv_msg(0).unwrap();
    assert_eq!(&body[..], b"hi");
    assert_eq!(body.gets("X-Hello"), Some("World"), "the first value stays");
    assert_eq!(body.gets("Socket-Type"), Some("DEALER"));
    assert_eq!(body.gets("Peer-Address"), Some("127.0.0.1"));

    zrouter.send(&id[..], zmq::SNDMORE).unwrap();
    zrouter.send("back", 0).unwrap();
    let reply = dealer.recv(Flags::NONE).unwrap();
    assert_eq!(&reply[..], b"back");
    assert_eq!(prop(&reply, "Socket-Type").as_deref(), Some("ROUTER"));
}

#[test]
fn ipc_peers_are_named_by_their_credentials() {
    let ctx = Context::new();
    let mut pull = socket(&ctx, SocketType::Pull);
    let ep = bind(&mut pull, Transport::Ipc);
    let mut push = socket(&ctx, SocketType::Push);
    push.connect(&ep).unwrap();
    push.send("x", Flags::NONE).unwrap();
    let m = pull.recv(Flags::NONE).unwrap();
    let addr = prop(&m, "Peer-Address").unwrap();
    // Both ends are this process: localhost:uid:gid:pid, as libzmq builds
    // it from SO_PEERCRED.
    let parts: Vec<&str> = addr.split(':').collect();
    assert_eq!(parts.len(), 4, "{addr}");
    assert_eq!(parts[0], "localhost");
    assert_eq!(parts[3], std::process::id().to_string(), "{addr}");
    assert!(parts[1].parse::<u32>().is_ok() && parts[2].parse::<u32>().is_ok());
    assert_eq!(prop(&m, "Socket-Type").as_deref(), Some("PUSH"));
}

#[test]
fn inproc_and_local_frames_have_no_properties() {
    let ctx = Context::new();
    let mut pull = socket(&ctx, SocketType::Pull);
    let ep = bind(&mut pull, Transport::Inproc);
    let mut push = socket(&ctx, SocketType::Push);
    push.connect(&ep).unwrap();
    push.send("x", Flags::NONE).unwrap();
    let m = pull.recv(Flags::NONE).unwrap();
    assert_eq!(&m[..], b"x");
    assert!(m.properties().is_none());
    assert!(Msg::from("local").properties().is_none());
}

#[test]
fn a_reconnection_brings_the_new_peers_properties_from_its_first_frame() {
    let ctx = Context::new();
    let path = std::env::temp_dir().join(format!("zlink-props-{}.ipc", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let ep = format!("ipc://{}", path.display());
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.set_reconnect_ivl(Some(Duration::from_millis(10)));
    pull.connect(&ep).unwrap();

    for generation in ["1", "2"] {
        let mut push = socket(&ctx, SocketType::Push);
        push.add_metadata("X-Generation", generation).unwrap();
        push.set_linger(None);
        push.bind(&ep).unwrap();
        for i in 0..3 {
            push.send(format!("{generation}.{i}"), Flags::NONE).unwrap();
        }
        for i in 0..3 {
            let m = pull.recv(Flags::NONE).unwrap();
            assert_eq!(&m[..], format!("{generation}.{i}").as_bytes());
            assert_eq!(prop(&m, "X-Generation").as_deref(), Some(generation));
        }
        drop(push);
        // Let the connection's end reach the PULL before the next bind.
        thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_forwarded_frame_leaves_its_properties_behind() {
    let ctx = Context::new();
    let mut pull = socket(&ctx, SocketType::Pull);
    let ep = bind(&mut pull, Transport::Tcp);
    let mut push = socket(&ctx, SocketType::Push);
    push.connect(&ep).unwrap();
    push.send("x", Flags::NONE).unwrap();
    let m = pull.recv(Flags::NONE).unwrap();
    assert!(m.properties().is_some());

    let mut out_pull = socket(&ctx, SocketType::Pull);
    let ep2 = bind(&mut out_pull, Transport::Inproc);
    let mut out = socket(&ctx, SocketType::Push);
    out.connect(&ep2).unwrap();
    out.send(m, Flags::NONE).unwrap();
    let fwd = out_pull.recv(Flags::NONE).unwrap();
    assert_eq!(&fwd[..], b"x");
    assert!(fwd.properties().is_none(), "an inproc frame has none");
}
