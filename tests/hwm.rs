//! High-water marks, after libzmq's `test_hwm`: over inproc the marks of
//! both sides add up, exactly; over TCP and IPC they bound the queues (the
//! kernel's buffers come on top, so counts there are not exact).

mod common;

use common::sock::*;
use zlink_mq::{Context, ErrorKind, Flags, SocketType};

const MAX_SENDS: usize = 10_000;

#[derive(Clone, Copy)]
enum Order {
    BindFirst,
    ConnectFirst,
}

/// libzmq's `count_msg`: PULL binds with `rcvhwm`, PUSH connects with
/// `sndhwm`; sends until the PUSH would block, receives everything, and
/// checks one more message passes after that.
fn count_msg(sndhwm: u32, rcvhwm: u32, order: Order) -> usize {
    let ctx = Context::new();
    let ep = Transport::Inproc.bind_endpoint();
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.set_rcvhwm(rcvhwm);
    let mut push = socket(&ctx, SocketType::Push);
    push.set_sndhwm(sndhwm);
    match order {
        Order::BindFirst => {
            pull.bind(&ep).unwrap();
            push.connect(&ep).unwrap();
        }
        Order::ConnectFirst => {
            push.connect(&ep).unwrap();
            pull.bind(&ep).unwrap();
        }
    }
    let mut sent = 0;
    while sent < MAX_SENDS && push.send("", Flags::DONTWAIT).is_ok() {
        sent += 1;
    }
    let mut received = 0;
    while pull.recv(Flags::DONTWAIT).is_ok() {
        received += 1;
    }
    assert_eq!(sent, received);
    // Room again: one more goes through.
    push.send("", Flags::NONE).unwrap();
    pull.recv(Flags::NONE).unwrap();
    sent
}

#[test]
fn inproc_defaults_queue_exactly_2000() {
    assert_eq!(count_msg(1000, 1000, Order::BindFirst), 2000);
    assert_eq!(count_msg(1000, 1000, Order::ConnectFirst), 2000);
}

#[test]
fn inproc_marks_add_up_and_zero_is_unlimited() {
    for order in [Order::BindFirst, Order::ConnectFirst] {
        assert_eq!(count_msg(0, 0, order), MAX_SENDS);
        assert_eq!(count_msg(1, 0, order), MAX_SENDS);
        assert_eq!(count_msg(0, 1, order), MAX_SENDS);
        assert_eq!(count_msg(1, 1, order), 2);
        assert_eq!(count_msg(3, 5, order), 8);
    }
}

#[test]
fn inproc_send_before_bind_is_bounded_by_the_senders_mark() {
    // libzmq's test_inproc_connect_and_close_first.
    let ctx = Context::new();
    let ep = Transport::Inproc.bind_endpoint();
    let mut push = socket(&ctx, SocketType::Push);
    push.set_sndhwm(1);
    push.connect(&ep).unwrap();
    let mut sent = 0;
    while sent < MAX_SENDS && push.send("", Flags::DONTWAIT).is_ok() {
        sent += 1;
    }
    assert_eq!(sent, 1);
    drop(push);
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.set_rcvhwm(0);
    pull.bind(&ep).unwrap();
    let mut received = 0;
    while pull.recv(Flags::DONTWAIT).is_ok() {
        received += 1;
    }
    assert_eq!(received, 1, "what was queued before the close is delivered");
}

#[test]
fn the_mark_counts_whole_messages() {
    let ctx = Context::new();
    let ep = Transport::Inproc.bind_endpoint();
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.set_rcvhwm(1);
    pull.bind(&ep).unwrap();
    let mut push = socket(&ctx, SocketType::Push);
    push.set_sndhwm(1);
    push.connect(&ep).unwrap();
    let mut sent = 0;
    while push
        .send_multipart([&b"a"[..], b"b", b"c"], Flags::DONTWAIT)
        .is_ok()
    {
        sent += 1;
    }
    assert_eq!(sent, 2);
    for _ in 0..2 {
        assert_eq!(pull.recv_multipart(Flags::NONE).unwrap().len(), 3);
    }
}

#[test]
fn a_blocked_sender_resumes_as_the_receiver_catches_up() {
    for t in ALL {
        let ctx = Context::new();
        let mut pull = socket(&ctx, SocketType::Pull);
        pull.set_rcvhwm(4);
        let ep = bind(&mut pull, t);
        let mut push = socket(&ctx, SocketType::Push);
        push.set_sndhwm(4);
        push.connect(&ep).unwrap();
        let receiver = std::thread::spawn(move || {
            for i in 0..5000u32 {
                let m = pull.recv(Flags::NONE).unwrap();
                assert_eq!(&m[..], &i.to_le_bytes(), "in order");
            }
        });
        // Far more than the marks: the sender blocks and is woken many
        // times.
        for i in 0..5000u32 {
            push.send(&i.to_le_bytes()[..], Flags::NONE).unwrap();
        }
        receiver.join().unwrap();
    }
}

/// A PULL bound over `t` with RCVHWM 10 and a PUSH connected to it with
/// SNDHWM 10.
fn pair_with_marks_of_ten(ctx: &Context, t: Transport) -> (zlink_mq::Socket, zlink_mq::Socket) {
    let mut pull = socket(ctx, SocketType::Pull);
    pull.set_rcvhwm(10);
    let ep = bind(&mut pull, t);
    let mut push = socket(ctx, SocketType::Push);
    push.set_sndhwm(10);
    push.connect(&ep).unwrap();
    (pull, push)
}

#[test]
fn stream_transports_stop_the_sender_at_the_marks() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = Context::new();
        let (mut pull, mut push) = pair_with_marks_of_ten(&ctx, t);
        wait_peers(&mut pull, 1);
        // 10 kB messages: the kernel's buffers hold some, but not 100 MB.
        let payload = vec![1u8; 10_000];
        let sent = send_until_stalled(&mut push, &payload);
        assert!(sent < MAX_SENDS, "{t:?}: the sender was never stopped");
        assert!(sent >= 10, "{t:?}: the send queue fills first ({sent})");
        for _ in 0..sent {
            assert_eq!(pull.recv(Flags::NONE).unwrap().len(), payload.len());
        }
        assert_nothing(&mut pull);
    }
}

/// Sends `payload` without blocking until the sender stays stopped (at
/// most [`MAX_SENDS`] times); returns how many were sent.
fn send_until_stalled(push: &mut zlink_mq::Socket, payload: &[u8]) -> usize {
    let mut sent = 0;
    let mut stalled = 0;
    while sent < MAX_SENDS {
        match push.send(payload, Flags::DONTWAIT) {
            Ok(()) => {
                sent += 1;
                stalled = 0;
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::WouldBlock);
                // The I/O thread may still be moving messages into the
                // kernel: only a sender stuck for a while is at the mark.
                stalled += 1;
                if stalled == 200 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }
    sent
}

/// CPU time this process has used (user + system), from /proc.
fn process_cpu() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name, which is in parentheses.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // The kernel reports clock ticks of 1/100 s (USER_HZ) on Linux.
    std::time::Duration::from_millis(ticks * 10)
}

/// A receiver that stops reading makes its connection's input wait: the I/O
/// thread must then stop watching the stream, not spin on the unread bytes
/// (and the sender blocks at its mark). Behaviour, not speed: a spinning
/// thread burns the whole window; an idle process almost nothing.
#[test]
fn a_full_receive_queue_leaves_the_io_thread_idle() {
    for t in [Transport::Tcp, Transport::Ipc] {
        let ctx = Context::new();
        let (mut pull, mut push) = pair_with_marks_of_ten(&ctx, t);
        // Fill the receiver's queue, the kernel's buffers and the sender's
        // queue until sending would block.
        let payload = [0u8; 512];
        let sent = send_until_stalled(&mut push, &payload);
        let before = process_cpu();
        std::thread::sleep(std::time::Duration::from_millis(500));
        let used = process_cpu() - before;
        assert!(
            used < std::time::Duration::from_millis(150),
            "{t:?}: {used:?} of CPU in 500 ms while nothing could move"
        );
        // Nothing was lost by pausing: every message arrives.
        for _ in 0..sent {
            assert_eq!(pull.recv(Flags::NONE).unwrap().len(), payload.len());
        }
    }
}

/// Sends empty messages until the socket would block.
fn fill(push: &mut zlink_mq::Socket) -> usize {
    let mut sent = 0;
    while sent < MAX_SENDS && push.send("", Flags::DONTWAIT).is_ok() {
        sent += 1;
    }
    sent
}

#[test]
fn marks_changed_after_attaching_apply_to_the_existing_pipes() {
    // libzmq's test_sockopt_hwm: marks of 1 and 1, then SNDHWM 5 on the
    // attached PUSH: 5 + 1 over inproc.
    let ctx = Context::new();
    let ep = Transport::Inproc.bind_endpoint();
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.set_rcvhwm(1);
    let mut push = socket(&ctx, SocketType::Push);
    push.set_sndhwm(1);
    pull.connect(&ep).unwrap();
    push.bind(&ep).unwrap();
    push.set_sndhwm(5);
    assert_eq!(push.sndhwm(), 5);
    assert_eq!(fill(&mut push), 6);
    // A sender blocked at the mark resumes when the mark is raised.
    push.set_sndhwm(10);
    assert_eq!(fill(&mut push), 5);
    // RCVHWM on the receiver raises the same pipe's mark (10 + 4).
    pull.set_rcvhwm(4);
    assert_eq!(fill(&mut push), 3);
    let mut received = 0;
    while pull.recv(Flags::DONTWAIT).is_ok() {
        received += 1;
    }
    assert_eq!(received, 14);
}

#[test]
fn the_receivers_unlimited_mark_keeps_an_inproc_pipe_unlimited() {
    let ctx = Context::new();
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.set_rcvhwm(0);
    let ep = bind(&mut pull, Transport::Inproc);
    let mut push = socket(&ctx, SocketType::Push);
    push.set_sndhwm(3);
    push.connect(&ep).unwrap();
    assert_eq!(fill(&mut push), MAX_SENDS, "unlimited: the receiver's 0");
    // The receiver's 0 keeps the inproc pipe unlimited, whatever SNDHWM.
    push.set_sndhwm(2);
    assert_eq!(fill(&mut push), MAX_SENDS);
}

#[test]
fn the_reader_reports_progress_every_half_mark() {
    // libzmq's test_reset_hwm, over inproc so that it is exact: a pipe of
    // mark 11024 (5512 + 5512), 9999 messages sent and read, then 1100
    // more. The reader reports what it read every half mark (as libzmq
    // 4.3's compute_lwm), so the PUB knows 5512 were read and drops none; a
    // report only every `mark - 1024` (10000) left it believing the 9999
    // were still queued, and it dropped 75.
    let ctx = Context::new();
    let mut publisher = socket(&ctx, SocketType::Pub);
    publisher.set_sndhwm(5_512);
    let ep = bind(&mut publisher, Transport::Inproc);
    let mut sub = socket(&ctx, SocketType::Sub);
    sub.set_rcvhwm(5_512);
    sub.connect(&ep).unwrap();
    sub.subscribe(b"").unwrap();
    // The subscription has arrived once a probe gets through; the probes
    // read count in the 9999 of the first batch.
    let mut read = 0;
    wait_until("the subscription", || {
        publisher.send("probe", Flags::DONTWAIT).unwrap();
        sub.recv(Flags::DONTWAIT).is_ok()
    });
    read += 1;
    while sub.recv(Flags::DONTWAIT).is_ok() {
        read += 1;
    }
    for n in [9_999 - read, 1_100] {
        for _ in 0..n {
            publisher.send("", Flags::DONTWAIT).unwrap();
        }
        let mut received = 0;
        while sub.recv(Flags::DONTWAIT).is_ok() {
            received += 1;
        }
        assert_eq!(received, n);
        read += n;
    }
    assert_eq!(read, 9_999 + 1_100);
}
