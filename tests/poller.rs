//! The poller (`zmq_poll` / `zmq_poller`) and the pollable descriptor of a
//! socket, on every transport.

mod common;

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::sock::*;
use zlink_mq::{Context, ErrorKind, Events, Flags, PollItem, Poller, Socket, SocketType, poll};

/// Whether a descriptor is readable right now (poll(2) through our own
/// poller, as any event loop would see it).
fn fd_readable(fd: &OwnedFd) -> bool {
    let mut items = [PollItem::fd(fd.as_fd(), Events::READABLE)];
    poll(&mut items, Some(Duration::ZERO)).unwrap() == 1
}

/// Waits (bounded) for a descriptor to become readable.
fn fd_wait(fd: &OwnedFd) -> bool {
    let mut items = [PollItem::fd(fd.as_fd(), Events::READABLE)];
    poll(&mut items, Some(TIMEOUT)).unwrap() == 1
}

/// The socket's descriptor, duplicated so the test can hold it while using
/// the socket (a duplicate shares the readiness).
fn dup_fd(s: &mut Socket) -> OwnedFd {
    s.fd().try_clone_to_owned().unwrap()
}

#[test]
fn poll_reports_readable_sockets_and_times_out() {
    for t in ALL {
        let ctx = Context::new();
        let (mut pull, mut pushes, _) =
            bound_and_connected(&ctx, t, SocketType::Pull, SocketType::Push, 1);
        let mut other = socket(&ctx, SocketType::Pull);
        {
            let mut items = [
                PollItem::socket(&mut pull, Events::READABLE),
                PollItem::socket(&mut other, Events::READABLE),
            ];
            assert_eq!(
                poll(&mut items, Some(Duration::from_millis(10))).unwrap(),
                0
            );
            assert!(!items[0].is_readable());
        }
        pushes[0].send("wake", Flags::NONE).unwrap();
        let mut items = [
            PollItem::socket(&mut pull, Events::READABLE),
            PollItem::socket(&mut other, Events::READABLE),
        ];
        assert_eq!(poll(&mut items, Some(TIMEOUT)).unwrap(), 1, "{t:?}");
        assert!(items[0].is_readable());
        assert!(!items[1].is_readable());
        let m = items[0]
            .socket_mut()
            .unwrap()
            .recv(Flags::DONTWAIT)
            .unwrap();
        assert_eq!(&m[..], b"wake");
    }
}

#[test]
fn poll_wakes_a_blocked_poller_from_another_thread() {
    for t in ALL {
        let ctx = Context::new();
        let mut pull = socket(&ctx, SocketType::Pull);
        let ep = bind(&mut pull, t);
        let ctx2 = ctx.clone();
        let sender = std::thread::spawn(move || {
            let mut push = socket(&ctx2, SocketType::Push);
            push.connect(&ep).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            push.send("late", Flags::NONE).unwrap();
            push
        });
        let mut poller = Poller::new();
        let i = poller.add_socket(&mut pull, Events::READABLE);
        assert_eq!(poller.wait(Some(TIMEOUT)).unwrap(), 1, "{t:?}");
        assert!(poller.ready(i).readable);
        assert_eq!(
            &poller.socket(i).unwrap().recv(Flags::NONE).unwrap()[..],
            b"late"
        );
        drop(poller);
        drop(sender.join().unwrap());
    }
}

#[test]
fn poll_reports_writable_once_a_peer_can_take_messages() {
    for t in ALL {
        let ctx = Context::new();
        let mut push = socket(&ctx, SocketType::Push);
        let ep = bind(&mut push, t);
        {
            let mut items = [PollItem::socket(&mut push, Events::WRITABLE)];
            assert_eq!(
                poll(&mut items, Some(Duration::from_millis(10))).unwrap(),
                0,
                "{t:?}: no peer, not writable"
            );
        }
        let mut pull = socket(&ctx, SocketType::Pull);
        pull.set_rcvhwm(1);
        pull.connect(&ep).unwrap();
        let mut items = [PollItem::socket(&mut push, Events::WRITABLE)];
        assert_eq!(poll(&mut items, Some(TIMEOUT)).unwrap(), 1, "{t:?}");
        assert_eq!(items[0].ready(), Events::WRITABLE);
    }
}

#[test]
fn a_full_sender_becomes_writable_when_the_receiver_drains() {
    let ctx = Context::new();
    let ep = Transport::Inproc.bind_endpoint();
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.set_rcvhwm(1);
    pull.bind(&ep).unwrap();
    let mut push = socket(&ctx, SocketType::Push);
    push.set_sndhwm(1);
    push.connect(&ep).unwrap();
    while push.send("x", Flags::DONTWAIT).is_ok() {}
    let receiver = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        while pull.recv(Flags::DONTWAIT).is_ok() {}
        pull
    });
    let mut items = [PollItem::socket(&mut push, Events::WRITABLE)];
    assert_eq!(poll(&mut items, Some(TIMEOUT)).unwrap(), 1);

    push.send("again", Flags::DONTWAIT).unwrap();
    drop(receiver.join().unwrap());
}

#[test]
fn poll_mixes_sockets_and_file_descriptors() {
    let ctx = Context::new();
    let mut pair = socket(&ctx, SocketType::Pair);
    bind(&mut pair, Transport::Inproc);
    let (mut a, b) = UnixStream::pair().unwrap();
    {
        let mut items = [
            PollItem::socket(&mut pair, Events::READABLE),
            PollItem::fd(b.as_fd(), Events::READABLE),
        ];
        assert_eq!(
            poll(&mut items, Some(Duration::from_millis(10))).unwrap(),
            0
        );
    }
    a.write_all(b"!").unwrap();
    let mut poller = Poller::new();
    let s = poller.add_socket(&mut pair, Events::READABLE);
    let f = poller.add_fd(b.as_fd(), Events::READABLE | Events::WRITABLE);
    assert_eq!(poller.wait(Some(TIMEOUT)).unwrap(), 1);
    assert_eq!(poller.ready(s), Events::NONE);
    assert_eq!(poller.ready(f), Events::READABLE | Events::WRITABLE);
    assert!(poller.socket(f).is_none());
    // A hung-up descriptor counts as readable.
    poller.set_interest(f, Events::READABLE);
    drop(a);
    poller.wait(Some(TIMEOUT)).unwrap();
    assert!(poller.ready(f).readable);
}

#[test]
fn socket_fd_is_level_triggered_for_input() {
    for t in ALL {
        let ctx = Context::new();
        let (mut pull, mut pushes, _) =
            bound_and_connected(&ctx, t, SocketType::Pull, SocketType::Push, 1);
        let fd = dup_fd(&mut pull);
        // Drain what the connection set-up left behind.
        let _ = pull.events();
        assert!(!fd_readable(&fd), "{t:?}: quiet with nothing to read");
        for i in 0..3u8 {
            pushes[0].send(&[i][..], Flags::NONE).unwrap();
        }
        assert!(fd_wait(&fd), "{t:?}: input wakes the descriptor");
        // It stays readable while input remains, whatever reads it.
        let mut got = Vec::new();
        while got.len() < 3 {
            assert!(fd_wait(&fd), "{t:?}: still input, still readable");
            match pull.recv(Flags::DONTWAIT) {
                Ok(m) => got.push(m[0]),
                Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock),
            }
        }
        assert_eq!(got, [0, 1, 2]);
        let _ = pull.events();
        assert!(!fd_readable(&fd), "{t:?}: quiet once drained");
        // A message that arrives while nobody looks is never lost.
        pushes[0].send("later", Flags::NONE).unwrap();
        assert!(fd_wait(&fd), "{t:?}");
        assert!(pull.events().unwrap().readable);
        // events() does not consume the level.
        assert!(fd_readable(&fd));
        assert_eq!(&pull.recv(Flags::DONTWAIT).unwrap()[..], b"later");
        assert!(!fd_readable(&fd));
    }
}

#[test]
fn socket_fd_wakes_when_output_may_have_become_possible() {
    let ctx = Context::new();
    let mut push = socket(&ctx, SocketType::Push);
    let ep = bind(&mut push, Transport::Inproc);
    let fd = dup_fd(&mut push);
    assert!(!push.events().unwrap().writable);
    assert!(!fd_readable(&fd));
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.connect(&ep).unwrap();
    assert!(fd_wait(&fd), "a peer attached");
    assert!(push.events().unwrap().writable);
    assert!(
        !fd_readable(&fd),
        "output does not hold the descriptor readable"
    );
}

#[test]
fn shutdown_wakes_pollers_and_descriptors() {
    let ctx = Context::new();
    let mut pull = socket(&ctx, SocketType::Pull);
    bind(&mut pull, Transport::Inproc);
    let fd = dup_fd(&mut pull);
    let ctx2 = ctx.clone();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        ctx2.shutdown();
    });
    let mut items = [PollItem::socket(&mut pull, Events::READABLE)];
    let e = poll(&mut items, Some(TIMEOUT)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Terminated);

    assert!(
        fd_readable(&fd),
        "a terminated socket's descriptor stays readable"
    );
    killer.join().unwrap();
}

#[test]
fn an_empty_interest_is_never_ready() {
    let ctx = Context::new();
    let (mut pull, mut pushes, _) = bound_and_connected(
        &ctx,
        Transport::Inproc,
        SocketType::Pull,
        SocketType::Push,
        1,
    );
    pushes[0].send("x", Flags::NONE).unwrap();
    let mut items = [PollItem::socket(&mut pull, Events::NONE)];
    assert_eq!(
        poll(&mut items, Some(Duration::from_millis(10))).unwrap(),
        0
    );
    items[0].set_interest(Events::READABLE);
    assert_eq!(poll(&mut items, Some(Duration::ZERO)).unwrap(), 1);
}
