//! Socket options: libzmq 4.3's defaults, and each setter read back by its
//! getter.

use std::time::Duration;

use zlink_mq::{Context, ErrorKind, Flags, SocketType};

#[test]
fn defaults_are_libzmqs() {
    let ctx = Context::new();
    let s = ctx.socket(SocketType::Dealer).unwrap();
    assert_eq!(s.sndhwm(), 1000);
    assert_eq!(s.rcvhwm(), 1000);
    assert_eq!(s.linger(), None, "-1: wait for pending messages");
    assert_eq!(s.sndtimeo(), None);
    assert_eq!(s.rcvtimeo(), None);
    assert_eq!(s.reconnect_ivl(), Some(Duration::from_millis(100)));
    assert_eq!(s.reconnect_ivl_max(), None);
    assert_eq!(s.handshake_ivl(), Some(Duration::from_secs(30)));
    assert_eq!(s.heartbeat_ivl(), None);
    assert_eq!(s.maxmsgsize(), None);
    assert_eq!(s.tcp_keepalive(), None);
    assert_eq!(s.backlog(), 100);
    assert!(!s.immediate());
    assert!(!s.ipv6());
    assert!(!s.plain_server());
    assert_eq!(s.routing_id(), None);
    assert_eq!(s.last_endpoint(), None);
}

#[test]
fn setters_are_read_back() {
    let ctx = Context::new();
    let mut s = ctx.socket(SocketType::Router).unwrap();
    let ms = Duration::from_millis;
    s.set_sndhwm(7);
    s.set_rcvhwm(0);
    s.set_linger(Some(ms(5)));
    s.set_sndtimeo(Some(ms(6)));
    s.set_rcvtimeo(Some(ms(7)));
    s.set_routing_id(b"me").unwrap();
    s.set_router_mandatory(true);
    s.set_router_handover(true);
    s.set_immediate(true);
    s.set_reconnect_ivl(None);
    s.set_reconnect_ivl_max(Some(ms(900)));
    s.set_heartbeat_ivl(Some(ms(10)));
    s.set_heartbeat_ttl(Some(ms(20)));
    s.set_heartbeat_timeout(Some(ms(30)));
    s.set_handshake_ivl(None);
    s.set_maxmsgsize(Some(1 << 20));
    s.set_tcp_keepalive(Some(false));
    s.set_backlog(5);
    s.set_ipv6(true);
    s.set_plain_client(b"user", b"pass").unwrap();
    assert_eq!((s.sndhwm(), s.rcvhwm()), (7, 0));
    assert_eq!(s.linger(), Some(ms(5)));
    assert_eq!((s.sndtimeo(), s.rcvtimeo()), (Some(ms(6)), Some(ms(7))));
    assert_eq!(s.routing_id(), Some(&b"me"[..]));
    assert!(s.router_mandatory() && s.router_handover() && s.immediate());
    assert_eq!(
        (s.reconnect_ivl(), s.reconnect_ivl_max()),
        (None, Some(ms(900)))
    );
    assert_eq!(
        (s.heartbeat_ivl(), s.heartbeat_ttl(), s.heartbeat_timeout()),
        (Some(ms(10)), Some(ms(20)), Some(ms(30)))
    );
    assert_eq!(s.handshake_ivl(), None);
    assert_eq!(s.maxmsgsize(), Some(1 << 20));
    assert_eq!(s.tcp_keepalive(), Some(false));
    assert_eq!(s.backlog(), 5);
    assert!(s.ipv6());
    assert_eq!(s.plain_username(), Some(&b"user"[..]));
    assert!(!s.plain_server());

    let mut x = ctx.socket(SocketType::XPub).unwrap();
    x.set_xpub_verboser(true);
    assert!(x.xpub_verbose() && x.xpub_verboser());
    x.set_xpub_nodrop(true);
    x.set_invert_matching(true);
    assert!(x.xpub_nodrop() && x.invert_matching());
    let mut r = ctx.socket(SocketType::Req).unwrap();
    r.set_req_correlate(true);
    r.set_req_relaxed(true);
    assert!(r.req_correlate() && r.req_relaxed());
}

#[test]
fn inproc_busy_wait_is_read_back_and_messages_flow_at_every_setting() {
    let ctx = Context::new();
    let default = ctx.socket(SocketType::Pair).unwrap().inproc_busy_wait();
    assert_eq!(default, Duration::from_micros(20));
    // Never spin, the default, and a busy-wait too long to add to a clock
    // reading (it then lasts until the receive timeout).
    for (i, spin) in [Duration::ZERO, default, Duration::MAX]
        .into_iter()
        .enumerate()
    {
        let endpoint = format!("inproc://busy-wait-{i}");
        let mut rx = ctx.socket(SocketType::Pair).unwrap();
        rx.set_inproc_busy_wait(spin);
        assert_eq!(rx.inproc_busy_wait(), spin);
        rx.bind(&endpoint).unwrap();
        let mut tx = ctx.socket(SocketType::Pair).unwrap();
        tx.set_inproc_busy_wait(spin);
        tx.connect(&endpoint).unwrap();
        rx.set_rcvtimeo(Some(Duration::from_millis(50)));
        let err = rx.recv(Flags::NONE).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::WouldBlock,
            "{spin:?}: nothing was sent"
        );
        rx.set_rcvtimeo(Some(Duration::from_secs(10)));
        let sender = std::thread::spawn(move || {
            for n in 0..1000u32 {
                tx.send(n.to_le_bytes().as_slice(), Flags::NONE).unwrap();
            }
            tx
        });
        for n in 0..1000u32 {
            assert_eq!(
                rx.recv(Flags::NONE).unwrap().as_slice(),
                n.to_le_bytes(),
                "{spin:?}"
            );
        }
        drop(sender.join().unwrap());
    }
}
