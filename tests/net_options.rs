//! What acts on the OS sockets under a socket's connections, as libzmq
//! 4.3: source addresses (`tcp://source;host:port`), accept filters
//! (ZMQ_TCP_ACCEPT_FILTER, ZMQ_IPC_FILTER_UID / GID / PID), listening
//! sockets made by the application (ZMQ_USE_FD), network devices
//! (ZMQ_BINDTODEVICE), SOCKS5 proxies (ZMQ_SOCKS_PROXY, _USERNAME,
//! _PASSWORD).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use common::sock::*;
use zlink_mq::{Context, ErrorKind, Flags, SocketType};

/// A TCP port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Accepts one connection on a plain listener and returns the peer's
/// address (the connecting socket's local address).
fn accepted_peer(listener: &TcpListener) -> SocketAddr {
    listener.set_nonblocking(true).unwrap();
    let mut peer = None;
    wait_until("a connection", || {
        peer = listener.accept().ok().map(|(_, a)| a);
        peer.is_some()
    });
    peer.unwrap()
}

fn bounce(server: &mut zlink_mq::Socket, client: &mut zlink_mq::Socket) {
    client.send("ping", Flags::NONE).unwrap();
    assert_eq!(recv_str(server), "ping");
    server.send("pong", Flags::NONE).unwrap();
    assert_eq!(recv_str(client), "pong");
}

#[test]
fn a_connect_with_a_source_leaves_from_that_address_and_port() {
    let ctx = Context::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let dest = listener.local_addr().unwrap();
    let port = free_port();
    let mut s = socket(&ctx, SocketType::Dealer);
    s.connect(&format!("tcp://127.0.0.1:{port};{dest}"))
        .unwrap();
    assert_eq!(
        accepted_peer(&listener),
        SocketAddr::from(([127, 0, 0, 1], port))
    );

    // An interface name and a wildcard port: the interface's address.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let dest = listener.local_addr().unwrap();
    let mut s = socket(&ctx, SocketType::Dealer);
    s.connect(&format!("tcp://lo:*;{dest}")).unwrap();
    assert_eq!(accepted_peer(&listener).ip().to_string(), "127.0.0.1");
}

#[test]
fn two_sockets_share_one_source_port_towards_different_peers() {
    // libzmq's test_reqrep_tcp `test_multi_connect_same_port`.
    let ctx = Context::new();
    let (mut rep0, mut rep1) = (socket(&ctx, SocketType::Rep), socket(&ctx, SocketType::Rep));
    let ep0 = bind(&mut rep0, Transport::Tcp);
    let ep1 = bind(&mut rep1, Transport::Tcp);
    let (pa, pb) = (free_port(), free_port());
    let addr = |port: u16, ep: &str| format!("tcp://127.0.0.1:{port};{}", &ep[6..]);
    let mut req0 = socket(&ctx, SocketType::Req);
    req0.connect(&addr(pa, &ep0)).unwrap();
    req0.connect(&addr(pb, &ep1)).unwrap();
    let mut req1 = socket(&ctx, SocketType::Req);
    req1.connect(&addr(pb, &ep0)).unwrap();
    req1.connect(&addr(pa, &ep1)).unwrap();
    wait_peers(&mut rep0, 2);
    wait_peers(&mut rep1, 2);
    for _ in 0..2 {
        bounce(&mut rep0, &mut req0);
        bounce(&mut rep1, &mut req0);
        bounce(&mut rep0, &mut req1);
        bounce(&mut rep1, &mut req1);
    }
    // The endpoint, source included, names the connection.
    req1.disconnect(&addr(pb, &ep0)).unwrap();
    assert_eq!(
        req1.disconnect(&addr(pb, &ep0)).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn a_source_that_cannot_be_bound_is_retried_not_refused() {
    // As libzmq: the source is resolved at each connection attempt, so
    // connect succeeds and the session keeps retrying.
    let ctx = Context::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let dest = listener.local_addr().unwrap();
    let mut s = socket(&ctx, SocketType::Dealer);
    s.connect(&format!("tcp://no-such-nic0:0;{dest}")).unwrap();
    s.connect(&format!("tcp://localhost:5555;{dest}")).unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(listener.accept().is_err(), "no connection was made");
}

#[test]
fn a_source_is_refused_where_it_means_nothing() {
    let ctx = Context::new();
    let mut s = socket(&ctx, SocketType::Rep);
    for bad in [
        "tcp://127.0.0.1:5556;127.0.0.1:*",
        "tcp://127.0.0.1;127.0.0.1:5555",
        "tcp://127.0.0.1:x;127.0.0.1:5555",
    ] {
        assert_eq!(
            s.connect(bad).unwrap_err().kind(),
            ErrorKind::InvalidEndpoint,
            "{bad}"
        );
    }
    assert_eq!(
        s.bind("tcp://127.0.0.1:5556;127.0.0.1:*")
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidEndpoint
    );
}

/// Connects a plain TCP client to `ep` (`tcp://a.b.c.d:port`) and tells
/// whether the server kept the connection (it sends its ZMTP greeting) or
/// closed it at once (end of stream before any byte).
fn kept(ep: &str) -> bool {
    let mut client = TcpStream::connect(&ep["tcp://".len()..]).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut byte = [0u8; 1];
    match client.read(&mut byte) {
        Ok(n) => n == 1,
        Err(e) => panic!("no greeting and no close: {e}"),
    }
}

#[test]
fn tcp_accept_filters_keep_only_the_clients_they_match() {
    let ctx = Context::new();
    let bound = |filters: &[&str], clear: bool| {
        let mut s = socket(&ctx, SocketType::Pair);
        for f in filters {
            s.add_tcp_accept_filter(f).unwrap();
        }
        if clear {
            s.clear_tcp_accept_filters();
        }
        let ep = bind(&mut s, Transport::Tcp);
        (s, ep)
    };
    let (_s, ep) = bound(&[], false);
    assert!(kept(&ep), "no filter: every client");
    let (_s, ep) = bound(&["127.0.0.1/32"], false);
    assert!(kept(&ep));
    let (_s, ep) = bound(&["0.0.0.0/0"], false);
    assert!(kept(&ep));
    let (_s, ep) = bound(&["10.0.0.0/8", "127.0.0.0/8"], false);
    assert!(kept(&ep), "any filter that matches");
    let (_s, ep) = bound(&["127.0.0.255/32"], false);
    assert!(!kept(&ep), "closed at once");
    let (_s, ep) = bound(&["127.0.0.255/32"], true);
    assert!(kept(&ep), "cleared");

    // A refused client never becomes a peer: nothing is delivered either
    // way (libzmq's test_tcp_accept_filter `test_set_non_matching`).
    let (mut server, ep) = bound(&["127.0.0.255/32"], false);
    let mut client = socket(&ctx, SocketType::Pair);
    client.connect(&ep).unwrap();
    client.send("hi", Flags::NONE).unwrap();
    server.set_rcvtimeo(Some(Duration::from_millis(200)));
    assert_eq!(
        server.recv(Flags::NONE).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    assert_eq!(server.peer_count(), 0);

    // Filters are the listener's from its bind on, as in libzmq.
    let mut s = socket(&ctx, SocketType::Pair);
    let ep = bind(&mut s, Transport::Tcp);
    s.add_tcp_accept_filter("127.0.0.255").unwrap();
    assert!(kept(&ep), "set after the bind");
}

#[test]
fn tcp_accept_filters_are_checked_and_read_back() {
    let ctx = Context::new();
    let mut s = socket(&ctx, SocketType::Pair);
    for bad in [
        "foo",
        "0.0.0.0foo",
        "0.0.0.0/foo",
        "0.0.0.0/",
        "0.0.0.0/-1",
        "0.0.0.0/33",
        "::1",
    ] {
        assert_eq!(
            s.add_tcp_accept_filter(bad).unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{bad}"
        );
    }
    s.add_tcp_accept_filter("127.0.0.1").unwrap();
    s.set_ipv6(true);
    s.add_tcp_accept_filter("fe80::/10").unwrap();
    assert_eq!(
        s.tcp_accept_filters().collect::<Vec<_>>(),
        ["127.0.0.1/32", "fe80::/10"]
    );
    s.clear_tcp_accept_filters();
    assert_eq!(s.tcp_accept_filters().count(), 0);
}

/// Options set on a socket before it binds.
type Setup<'a> = dyn Fn(&mut zlink_mq::Socket) + 'a;

/// Connects a plain Unix-socket client to `ep` (`ipc://path`): whether
/// the server kept it (sends its greeting) or closed it at once.
fn kept_ipc(ep: &str) -> bool {
    let mut client = std::os::unix::net::UnixStream::connect(&ep["ipc://".len()..]).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut byte = [0u8; 1];
    match client.read(&mut byte) {
        Ok(n) => n == 1,
        Err(e) => panic!("no greeting and no close: {e}"),
    }
}

#[test]
fn ipc_filters_keep_only_the_listed_credentials() {
    use std::os::unix::fs::MetadataExt;
    // Our effective ids, without unsafe code: /proc/self belongs to them.
    let me = std::fs::metadata("/proc/self").unwrap();
    let (uid, gid, pid) = (me.uid(), me.gid(), std::process::id() as i32);
    let ctx = Context::new();
    let bound = |set: &Setup<'_>| {
        let mut s = socket(&ctx, SocketType::Dealer);
        set(&mut s);
        let ep = bind(&mut s, Transport::Ipc);
        (s, ep)
    };
    let cases: [(&str, &Setup<'_>, bool); 9] = [
        ("none", &|_| {}, true),
        ("our uid", &|s| s.add_ipc_filter_uid(uid), true),
        ("another uid", &|s| s.add_ipc_filter_uid(uid + 1), false),
        ("our gid", &|s| s.add_ipc_filter_gid(gid), true),
        (
            "a gid we are not in",
            &|s| s.add_ipc_filter_gid(u32::MAX - 7),
            false,
        ),
        ("our pid", &|s| s.add_ipc_filter_pid(pid), true),
        ("another pid", &|s| s.add_ipc_filter_pid(pid + 1), false),
        (
            "any listed matches",
            &|s| {
                s.add_ipc_filter_uid(uid + 1);
                s.add_ipc_filter_pid(pid);
            },
            true,
        ),
        (
            "cleared",
            &|s| {
                s.add_ipc_filter_uid(uid + 1);
                s.add_ipc_filter_gid(u32::MAX - 7);
                s.add_ipc_filter_pid(pid + 1);
                s.clear_ipc_filter_uids();
                s.clear_ipc_filter_gids();
                s.clear_ipc_filter_pids();
            },
            true,
        ),
    ];
    for (what, set, want) in cases {
        let (_s, ep) = bound(set);
        assert_eq!(kept_ipc(&ep), want, "{what}");
    }

    // TCP clients are not IPC clients.
    let mut s = socket(&ctx, SocketType::Dealer);
    s.add_ipc_filter_uid(uid + 1);
    let ep = bind(&mut s, Transport::Tcp);
    assert!(kept(&ep));

    let mut s = socket(&ctx, SocketType::Dealer);
    s.add_ipc_filter_uid(7);
    s.add_ipc_filter_uid(3);
    s.add_ipc_filter_uid(7);
    s.add_ipc_filter_pid(-1);
    assert_eq!(s.ipc_filter_uids().collect::<Vec<_>>(), [3, 7]);
    assert_eq!(s.ipc_filter_pids().collect::<Vec<_>>(), [-1]);
    assert_eq!(s.ipc_filter_gids().count(), 0);
}

#[test]
fn use_fd_binds_listen_on_the_applications_socket() {
    use std::os::fd::{AsRawFd, OwnedFd};
    let ctx = Context::new();

    // TCP: the endpoint's address is not bound; the socket's own is the
    // endpoint.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let fd = OwnedFd::from(listener);
    let raw = fd.as_raw_fd();
    let mut rep = socket(&ctx, SocketType::Rep);
    assert!(rep.set_use_fd(Some(fd)).is_none());
    assert_eq!(rep.use_fd().map(|f| f.as_raw_fd()), Some(raw));
    rep.bind("tcp://127.0.0.1:1").unwrap();
    assert!(rep.use_fd().is_none(), "taken by the bind");
    let ep = format!("tcp://{addr}");
    assert_eq!(rep.last_endpoint(), Some(ep.as_str()));
    let mut req = socket(&ctx, SocketType::Req);
    req.connect(&ep).unwrap();
    bounce(&mut rep, &mut req);
    // The next bind makes its own socket.
    rep.bind("tcp://127.0.0.1:*").unwrap();
    assert_ne!(rep.last_endpoint(), Some(ep.as_str()));
    // Unbinding closes the descriptor: nothing listens there any more.
    rep.unbind(&ep).unwrap();
    assert!(TcpStream::connect(addr).is_err());
    drop((rep, req));

    // IPC: the socket file is the application's, before and after.
    let path = std::env::temp_dir().join(format!("zlink-use-fd-{}.ipc", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let ep = format!("ipc://{}", path.display());
    let mut rep = socket(&ctx, SocketType::Rep);
    rep.set_use_fd(Some(OwnedFd::from(listener)));
    rep.bind(&ep).unwrap();
    assert_eq!(rep.last_endpoint(), Some(ep.as_str()));
    let mut req = socket(&ctx, SocketType::Req);
    req.connect(&ep).unwrap();
    bounce(&mut rep, &mut req);
    drop((rep, req));
    ctx.terminate();
    assert!(path.exists(), "left to the application");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn bindtodevice_binds_tcp_sockets_to_the_device() {
    use std::error::Error as _;
    let ctx = Context::new();
    let mut s = socket(&ctx, SocketType::Rep);
    assert_eq!(s.bindtodevice(), None);
    for bad in ["", "seventeen-bytes-x", "a\0b"] {
        assert_eq!(
            s.set_bindtodevice(Some(bad)).unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{bad:?}"
        );
    }
    // A device that does not exist: the bind fails with ENODEV, and a
    // connect never connects (each attempt fails and is retried).
    s.set_bindtodevice(Some("no-such-dev0")).unwrap();
    assert_eq!(s.bindtodevice(), Some("no-such-dev0"));
    let err = s.bind("tcp://127.0.0.1:*").unwrap_err();
    let os = err
        .source()
        .and_then(|e| e.downcast_ref::<std::io::Error>());
    assert_eq!(
        os.and_then(std::io::Error::raw_os_error),
        Some(19),
        "ENODEV: {err}"
    );
    s.bind("ipc://*").unwrap(); // not a tcp socket: no device
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut c = socket(&ctx, SocketType::Dealer);
    c.set_bindtodevice(Some("no-such-dev0")).unwrap();
    c.connect(&format!("tcp://{}", listener.local_addr().unwrap()))
        .unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(listener.accept().is_err(), "no connection was made");

    // The loopback device: both ends bound to it talk.
    s.set_bindtodevice(Some("lo")).unwrap();
    let ep = bind(&mut s, Transport::Tcp);
    let mut req = socket(&ctx, SocketType::Req);
    req.set_bindtodevice(Some("lo")).unwrap();
    req.connect(&ep).unwrap();
    bounce(&mut s, &mut req);
    s.set_bindtodevice(None).unwrap();
    assert_eq!(s.bindtodevice(), None);
}

/// What a connection asked of [`socks_proxy`]: the user name and password
/// (if it authenticated) and the host it asked for, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SocksAsk {
    credentials: Option<(String, String)>,
    host: String,
}

/// A SOCKS5 proxy on 127.0.0.1 for one connection, as libzmq's test_socks
/// has: it wants user / password authentication with `password` when
/// given, maps the name `somedomainname.org` and the address ::1 to
/// 127.0.0.1, connects and relays both ways. Returns its address and what
/// the client asked for.
fn socks_proxy(password: Option<&'static str>) -> (SocketAddr, std::thread::JoinHandle<SocksAsk>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let serve = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        let read = |n: usize, c: &mut TcpStream| {
            let mut b = vec![0u8; n];
            c.read_exact(&mut b).unwrap();
            b
        };
        let hello = read(2, &mut c);
        assert_eq!(hello[0], 5);
        let methods = read(usize::from(hello[1]), &mut c);
        let method = if password.is_some() { 2 } else { 0 };
        assert!(methods.contains(&method), "offered {methods:?}");
        c.write_all(&[5, method]).unwrap();
        let mut credentials = None;
        if let Some(want) = password {
            assert_eq!(read(1, &mut c), [1]);
            let n = read(1, &mut c)[0];
            let user = String::from_utf8(read(usize::from(n), &mut c)).unwrap();
            let n = read(1, &mut c)[0];
            let pass = String::from_utf8(read(usize::from(n), &mut c)).unwrap();
            let ok = pass == want;
            credentials = Some((user, pass));
            c.write_all(&[1, u8::from(!ok)]).unwrap();
            if !ok {
                return SocksAsk {
                    credentials,
                    host: String::new(),
                };
            }
        }
        let head = read(4, &mut c);
        assert_eq!(&head[..3], [5, 1, 0]);
        let host = match head[3] {
            1 => {
                std::net::Ipv4Addr::from(<[u8; 4]>::try_from(read(4, &mut c)).unwrap()).to_string()
            }
            4 => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(read(16, &mut c)).unwrap())
                .to_string(),
            _ => {
                let n = read(1, &mut c)[0];
                String::from_utf8(read(usize::from(n), &mut c)).unwrap()
            }
        };
        let port = u16::from_be_bytes(read(2, &mut c).try_into().unwrap());
        let ip = if host == "somedomainname.org" || host == "::1" {
            "127.0.0.1"
        } else {
            &host
        };
        let remote = TcpStream::connect((ip, port)).unwrap();
        let local = remote.local_addr().unwrap();
        let mut reply = vec![5, 0, 0, 1];
        if let SocketAddr::V4(a) = local {
            reply.extend_from_slice(&a.ip().octets());
        }
        reply.extend_from_slice(&local.port().to_be_bytes());
        c.write_all(&reply).unwrap();
        let (mut c2, mut r2) = (c.try_clone().unwrap(), remote.try_clone().unwrap());
        let mut r = remote;
        std::thread::spawn(move || std::io::copy(&mut r2, &mut c2));
        std::thread::spawn(move || std::io::copy(&mut c, &mut r));
        SocksAsk { credentials, host }
    });
    (addr, serve)
}

#[test]
fn connects_go_through_a_socks5_proxy() {
    let ctx = Context::new();
    let cases = [
        ("tcp://127.0.0.1", "127.0.0.1"),
        // A name goes to the proxy as a name: it is not looked up here.
        ("tcp://somedomainname.org", "somedomainname.org"),
        ("tcp://[::1]", "::1"),
        ("tcp://::1", "::1"),
    ];
    for (prefix, host) in cases {
        // One PUSH per PULL: a PUSH shares its messages between its peers.
        let mut push = socket(&ctx, SocketType::Push);
        let ep = bind(&mut push, Transport::Tcp);
        let endpoint = format!("{prefix}:{}", ep.rsplit(':').next().unwrap());
        let (proxy, asked) = socks_proxy(None);
        let mut pull = socket(&ctx, SocketType::Pull);
        pull.set_socks_proxy(Some(&proxy.to_string())).unwrap();
        pull.connect(&endpoint).unwrap();
        push.send("ABC", Flags::NONE).unwrap();
        assert_eq!(recv_str(&mut pull), "ABC", "{endpoint}");
        let ask = asked.join().unwrap();
        assert_eq!(ask.host, host);
        assert_eq!(ask.credentials, None);
    }

    // With a source address for the connection to the proxy.
    let mut push = socket(&ctx, SocketType::Push);
    let ep = bind(&mut push, Transport::Tcp);
    let (proxy, asked) = socks_proxy(None);
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.set_socks_proxy(Some(&format!("127.0.0.1:0;{proxy}")))
        .unwrap();
    pull.connect(&ep).unwrap();
    push.send("DEF", Flags::NONE).unwrap();
    assert_eq!(recv_str(&mut pull), "DEF");
    asked.join().unwrap();
}

#[test]
fn a_socks_proxy_is_authenticated_with_user_and_password() {
    let ctx = Context::new();
    let mut push = socket(&ctx, SocketType::Push);
    let ep = bind(&mut push, Transport::Tcp);
    let (proxy, asked) = socks_proxy(Some("somepass"));
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.set_socks_proxy(Some(&proxy.to_string())).unwrap();
    pull.set_socks_username(b"someuser").unwrap();
    pull.set_socks_password(b"somepass").unwrap();
    pull.connect(&ep).unwrap();
    push.send("ABC", Flags::NONE).unwrap();
    assert_eq!(recv_str(&mut pull), "ABC");
    let ask = asked.join().unwrap();
    assert_eq!(
        ask.credentials,
        Some(("someuser".into(), "somepass".into()))
    );

    // Refused credentials: no connection to the peer.
    let (proxy, asked) = socks_proxy(Some("somepass"));
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.set_reconnect_ivl(None);
    pull.set_socks_proxy(Some(&proxy.to_string())).unwrap();
    pull.set_socks_username(b"someuser").unwrap();
    pull.set_socks_password(b"wrong").unwrap();
    pull.connect(&ep).unwrap();
    let ask = asked.join().unwrap();
    assert_eq!(ask.credentials, Some(("someuser".into(), "wrong".into())));
    assert_eq!(ask.host, "", "asked for nothing");
    pull.set_rcvtimeo(Some(Duration::from_millis(200)));
    assert_eq!(
        pull.recv(Flags::NONE).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}

#[test]
fn socks_options_are_checked_and_read_back() {
    let ctx = Context::new();
    let mut s = socket(&ctx, SocketType::Sub);
    assert_eq!(s.socks_proxy(), None);
    s.set_socks_proxy(Some("somehost:1080")).unwrap();
    assert_eq!(s.socks_proxy(), Some("somehost:1080"));
    for bad in ["", "somehost", "somehost:0", "*:1080", "a b:1"] {
        assert_eq!(
            s.set_socks_proxy(Some(bad)).unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{bad:?}"
        );
    }
    s.set_socks_proxy(None).unwrap();
    assert_eq!(s.socks_proxy(), None);
    s.set_socks_username(&[b'a'; 255]).unwrap();
    assert_eq!(s.socks_username().len(), 255);
    assert!(s.set_socks_username(&[b'a'; 256]).is_err());
    assert!(s.set_socks_password(&[b'a'; 256]).is_err());
    s.set_socks_password(b"p").unwrap();
    assert_eq!(s.socks_password(), b"p");
    // A source address belongs to the proxy's address.
    s.set_socks_proxy(Some("somehost:1080")).unwrap();
    assert_eq!(
        s.connect("tcp://127.0.0.1:1;127.0.0.1:2")
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidEndpoint
    );
}
