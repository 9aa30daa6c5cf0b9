//! Heap allocations per message in steady state, with a counting global
//! allocator: 64-byte messages must never touch the allocator on any
//! transport, in any thread (sender, receiver, I/O thread).
//!
//! The test warms a PUSH -> PULL connection up (pipes grown to their
//! high-water marks, buffers allocated), then counts every allocation made
//! by any thread of the process while the receiver takes `MEASURED` more
//! messages. Run with `--nocapture` to see the counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use std::time::{Duration, Instant};

use zlink_mq::{Context, ErrorKind, Flags, SocketType};

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

/// Allocations per message while `MEASURED` messages of `SIZE` bytes go
/// from a PUSH in another thread to a PULL bound at `endpoint`.
///
/// Warm-up first fills the connection to its high-water marks while the
/// receiver does not read (sends without waiting until they keep failing),
/// so every pipe has grown to its largest size; then `WARMUP` messages
/// flow before the count starts.
fn allocations_per_message(endpoint: &str) -> f64 {
    let ctx = Context::new();
    let mut pull = ctx.socket(SocketType::Pull).unwrap();
    pull.bind(endpoint).unwrap();
    let resolved = pull.last_endpoint().unwrap().to_owned();
    let mut push = ctx.socket(SocketType::Push).unwrap();
    let (filled_tx, filled) = std::sync::mpsc::channel();
    let sender = std::thread::spawn(move || {
        push.connect(&resolved).unwrap();
        let payload = [7u8; SIZE];
        let mut queued = 0u64;
        let mut refused_since = None;
        while refused_since.is_none_or(|t: Instant| t.elapsed() < Duration::from_millis(200)) {
            match push.send(&payload[..], Flags::DONTWAIT) {
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
            push.send(&payload[..], Flags::NONE).unwrap();
        }
        push
    });
    let queued = filled.recv().unwrap();
    for _ in 0..queued + WARMUP {
        assert_eq!(pull.recv(Flags::NONE).unwrap().len(), SIZE);
    }
    // ORDERING: Relaxed reads of a counter; the window is approximate by
    // nature (the sender runs up to a high-water mark ahead).
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..MEASURED {
        assert_eq!(pull.recv(Flags::NONE).unwrap().len(), SIZE);
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    drop(sender.join().unwrap());
    let per_message = (after - before) as f64 / MEASURED as f64;
    println!(
        "{endpoint}: {} allocations for {MEASURED} messages of {SIZE} B \
         ({queued} queued at the marks before): {per_message:.4} per message",
        after - before
    );
    per_message
}

/// At most this many allocations per message: a cost per message, or per
/// read / write batch of the I/O thread (a few hundred messages), shows up
/// as hundreds or more in the window; the one-off growth of a command
/// queue to a new peak burst (the sockets' and I/O threads' mailboxes are
/// `Vec`s) as a handful, now and then.
const AT_MOST_PER_MESSAGE: f64 = 1e-4;

/// One test for the three transports, one after the other: the counter
/// sees every thread of the process, so nothing else may run meanwhile.
#[test]
fn messages_of_64_bytes_do_not_allocate() {
    let counts: Vec<(&str, f64)> = ["ipc://*", "inproc://alloc", "tcp://127.0.0.1:*"]
        .into_iter()
        .map(|e| (e, allocations_per_message(e)))
        .collect();
    for (endpoint, per_message) in counts {
        assert!(
            per_message < AT_MOST_PER_MESSAGE,
            "{endpoint} allocates in steady state: {per_message} per message"
        );
    }
}
