//! End-to-end smoke tests: each transport and the main socket pairs move
//! messages through the public API.

use zlink_mq::{Context, ErrorKind, Flags, SocketType};

#[test]
fn push_pull() {
    let ctx = Context::new();
    let mut pull = ctx.socket(SocketType::Pull).unwrap();
    pull.bind("inproc://pp").unwrap();
    let mut push = ctx.socket(SocketType::Push).unwrap();
    push.connect("inproc://pp").unwrap();
    for i in 0..10u8 {
        push.send(&[i][..], Flags::NONE).unwrap();
    }
    for i in 0..10u8 {
        assert_eq!(&pull.recv(Flags::NONE).unwrap()[..], &[i]);
    }
    assert_eq!(
        pull.recv(Flags::DONTWAIT).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}

#[test]
fn hwm_2000() {
    let ctx = Context::new();
    let mut pull = ctx.socket(SocketType::Pull).unwrap();
    pull.bind("inproc://hwm").unwrap();
    let mut push = ctx.socket(SocketType::Push).unwrap();
    push.connect("inproc://hwm").unwrap();
    let mut n = 0;
    while push.send("x", Flags::DONTWAIT).is_ok() {
        n += 1;
    }
    assert_eq!(n, 2000);
    for _ in 0..2000 {
        pull.recv(Flags::NONE).unwrap();
    }
    assert!(pull.recv(Flags::DONTWAIT).is_err());
}

#[test]
fn req_rep_threads() {
    let ctx = Context::new();
    let mut rep = ctx.socket(SocketType::Rep).unwrap();
    rep.bind("inproc://rr").unwrap();
    let t = std::thread::spawn(move || {
        for _ in 0..1000 {
            let m = rep.recv(Flags::NONE).unwrap();
            rep.send(m, Flags::NONE).unwrap();
        }
    });
    let mut req = ctx.socket(SocketType::Req).unwrap();
    req.connect("inproc://rr").unwrap();
    for i in 0..1000u32 {
        req.send(&i.to_le_bytes()[..], Flags::NONE).unwrap();
        assert_eq!(&req.recv(Flags::NONE).unwrap()[..], &i.to_le_bytes());
    }
    t.join().unwrap();
}

#[test]
fn pub_sub() {
    let ctx = Context::new();
    let mut p = ctx.socket(SocketType::Pub).unwrap();
    p.bind("inproc://ps").unwrap();
    let mut s = ctx.socket(SocketType::Sub).unwrap();
    s.connect("inproc://ps").unwrap();
    s.subscribe(b"a").unwrap();
    // the subscription travels to the publisher when it next processes commands
    p.send("b-no", Flags::NONE).unwrap();
    p.send("a-yes", Flags::NONE).unwrap();
    assert_eq!(&s.recv(Flags::NONE).unwrap()[..], b"a-yes");
}

#[test]
fn dealer_router() {
    let ctx = Context::new();
    let mut r = ctx.socket(SocketType::Router).unwrap();
    r.bind("inproc://dr").unwrap();
    let mut d = ctx.socket(SocketType::Dealer).unwrap();
    d.set_routing_id(b"D1").unwrap();
    d.connect("inproc://dr").unwrap();
    d.send("hi", Flags::NONE).unwrap();
    let parts = r.recv_multipart(Flags::NONE).unwrap();
    assert_eq!(&parts[0][..], b"D1");
    assert_eq!(&parts[1][..], b"hi");
    r.send_multipart([&b"D1"[..], b"back"], Flags::NONE)
        .unwrap();
    assert_eq!(&d.recv(Flags::NONE).unwrap()[..], b"back");
}

#[test]
fn tcp_push_pull() {
    let ctx = Context::new();
    let mut pull = ctx.socket(SocketType::Pull).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let ep = pull.last_endpoint().unwrap().to_owned();
    eprintln!("bound {ep}");
    let mut push = ctx.socket(SocketType::Push).unwrap();
    push.connect(&ep).unwrap();
    for i in 0..1000u32 {
        push.send(&i.to_le_bytes()[..], Flags::NONE).unwrap();
    }
    for i in 0..1000u32 {
        assert_eq!(&pull.recv(Flags::NONE).unwrap()[..], &i.to_le_bytes());
    }
}

#[test]
fn ipc_req_rep() {
    let ctx = Context::new();
    let mut rep = ctx.socket(SocketType::Rep).unwrap();
    rep.bind("ipc://*").unwrap();
    let ep = rep.last_endpoint().unwrap().to_owned();
    let mut req = ctx.socket(SocketType::Req).unwrap();
    req.connect(&ep).unwrap();
    for i in 0..100u32 {
        req.send(&i.to_le_bytes()[..], Flags::NONE).unwrap();
        let m = rep.recv(Flags::NONE).unwrap();
        rep.send(m, Flags::NONE).unwrap();
        assert_eq!(&req.recv(Flags::NONE).unwrap()[..], &i.to_le_bytes());
    }
}
