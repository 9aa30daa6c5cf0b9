//! Heap allocations per message in steady state, with a counting global
//! allocator: 64-byte messages must never touch the allocator on any
//! transport, in any thread (sender, receiver, I/O thread), for PUSH ->
//! PULL, three-frame messages, DEALER -> ROUTER and PUB -> SUB.
//!
//! Each case warms a connection up (pipes grown, buffers allocated), then
//! counts every allocation made by any thread of the process while the
//! receiver takes `MEASURED` more messages: the count must be 0. Run with
//! `--nocapture` to see the counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use std::time::{Duration, Instant};

use zlink_mq::{Context, ErrorKind, Flags, Socket, SocketType};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is the only addition.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // ORDERING: a statistic read after the threads it counts have been
        // synchronised with (see `allocations_per_message`); Relaxed is
        // enough for a counter.
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout, as `GlobalAlloc`
        // requires of the caller.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through `alloc` / `realloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // ORDERING: as in `alloc`.
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System`, the layout is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SIZE: usize = 64;
const WARMUP: u64 = 50_000;
const MEASURED: u64 = 200_000;

/// What travels, between which sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    PushPull,
    /// PUSH -> PULL, three frames of `SIZE` bytes per message.
    Multipart,
    DealerRouter,
    PubSub,
}

impl Pattern {
    fn sockets(self) -> (SocketType, SocketType) {
        match self {
            Pattern::PushPull | Pattern::Multipart => (SocketType::Push, SocketType::Pull),
            Pattern::DealerRouter => (SocketType::Dealer, SocketType::Router),
            Pattern::PubSub => (SocketType::Pub, SocketType::Sub),
        }
    }

    fn frames(self) -> usize {
        if self == Pattern::Multipart { 3 } else { 1 }
    }
}

/// Messages per acknowledged batch for PUB -> SUB, which drops instead of
/// blocking: the publisher never runs more than this ahead, far below the
/// marks, so nothing is dropped and the count stays exact.
const BATCH: u64 = 100;

fn send_one(
    s: &mut Socket,
    pattern: Pattern,
    payload: &[u8],
    flags: Flags,
) -> zlink_mq::Result<()> {
    for _ in 1..pattern.frames() {
        s.send(payload, flags | Flags::SNDMORE)?;
    }
    s.send(payload, flags)
}

/// Receives one message and checks its shape (and, for ROUTER, the
/// routing id before it).
fn recv_one(s: &mut Socket, pattern: Pattern) -> u8 {
    if pattern == Pattern::DealerRouter {
        let id = s.recv(Flags::NONE).unwrap();
        assert!(id.more() && !id.is_empty());
    }
    let mut first = 0;
    for i in 0..pattern.frames() {
        let m = s.recv(Flags::NONE).unwrap();
        assert_eq!(m.len(), SIZE);
        assert_eq!(m.more(), i + 1 < pattern.frames());
        if i == 0 {
            first = m[0];
        }
    }
    first
}

/// Allocations while `MEASURED` messages of `pattern` go from a sender in
/// another thread to a receiver bound at `endpoint`.
///
/// Warm-up first fills the connection to its high-water marks while the
/// receiver does not read (sends without waiting until they keep failing),
/// so every pipe has grown to its largest size; then `WARMUP` messages
/// flow before the count starts. PUB -> SUB instead goes in acknowledged
/// batches (see [`BATCH`]).
fn allocations(pattern: Pattern, endpoint: &str) -> u64 {
    let ctx = Context::new();
    let (sender_type, receiver_type) = pattern.sockets();
    let mut receiver = ctx.socket(receiver_type).unwrap();
    if pattern == Pattern::PubSub {
        receiver.subscribe(b"").unwrap();
    }
    receiver.bind(endpoint).unwrap();
    let resolved = receiver.last_endpoint().unwrap().to_owned();
    let mut sender = ctx.socket(sender_type).unwrap();
    let (filled_tx, filled) = std::sync::mpsc::channel();
    // Acknowledgements for PUB -> SUB: a bounded channel never allocates
    // per message.
    let (ack_tx, acks) = std::sync::mpsc::sync_channel::<()>(1024);
    let thread = std::thread::spawn(move || {
        sender.connect(&resolved).unwrap();
        let payload = [7u8; SIZE];
        let mut queued = 0u64;
        if pattern == Pattern::PubSub {
            // Until the subscription has arrived, probes (first byte 0).
            let probe = [0u8; SIZE];
            while acks.try_recv().is_err() {
                send_one(&mut sender, pattern, &probe, Flags::DONTWAIT).unwrap();
                std::thread::sleep(Duration::from_millis(1));
            }
            filled_tx.send(0).unwrap();
            for i in 0..WARMUP + MEASURED {
                if i > 0 && i % BATCH == 0 {
                    acks.recv().unwrap();
                }
                send_one(&mut sender, pattern, &payload, Flags::NONE).unwrap();
            }
            return sender;
        }
        let mut refused_since = None;
        while refused_since.is_none_or(|t: Instant| t.elapsed() < Duration::from_millis(200)) {
            match send_one(&mut sender, pattern, &payload, Flags::DONTWAIT) {
                Ok(()) => {
                    queued += 1;
                    refused_since = None;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    refused_since.get_or_insert_with(Instant::now);
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => panic!("send: {e}"),
            }
        }
        filled_tx.send(queued).unwrap();
        for _ in 0..WARMUP + MEASURED {
            send_one(&mut sender, pattern, &payload, Flags::NONE).unwrap();
        }
        sender
    });
    if pattern == Pattern::PubSub {
        // The first probe in means the subscription is in place.
        assert_eq!(recv_one(&mut receiver, pattern), 0);
        ack_tx.send(()).unwrap();
    }
    let queued = filled.recv().unwrap();
    let mut received = 0u64;
    let mut take = |receiver: &mut Socket| {
        loop {
            if recv_one(receiver, pattern) != 0 {
                break;
            }
            // A late probe.
        }
        received += 1;
        if pattern == Pattern::PubSub && received % BATCH == 0 {
            // The last one finds the sender done.
            let _ = ack_tx.send(());
        }
    };
    for _ in 0..queued + WARMUP {
        take(&mut receiver);
    }
    // ORDERING: Relaxed reads of a counter; the window is approximate by
    // nature (the sender runs up to a high-water mark ahead).
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..MEASURED {
        take(&mut receiver);
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    drop(thread.join().unwrap());
    println!(
        "{pattern:?} over {endpoint}: {} allocations for {MEASURED} messages of \
         {} x {SIZE} B ({queued} queued at the marks before)",
        after - before,
        pattern.frames(),
    );
    after - before
}

/// One test for every pattern and transport, one after the other: the
/// counter sees every thread of the process, so nothing else may run
/// meanwhile.
#[test]
fn messages_of_64_bytes_do_not_allocate() {
    let mut counts = Vec::new();
    for pattern in [
        Pattern::PushPull,
        Pattern::Multipart,
        Pattern::DealerRouter,
        Pattern::PubSub,
    ] {
        for endpoint in ["ipc://*", "inproc://alloc", "tcp://127.0.0.1:*"] {
            counts.push((pattern, endpoint, allocations(pattern, endpoint)));
        }
    }
    let allocating: Vec<_> = counts.iter().filter(|c| c.2 != 0).collect();
    assert!(
        allocating.is_empty(),
        "allocations in steady state (pattern, transport, count): {allocating:?}"
    );
}
