//! The core socket never touches the heap: a counting global allocator
//! (its own test binary, so no other test runs under it) sees zero
//! allocations from creating sockets, through the handshake, to sending,
//! receiving, subscribing and disconnecting.

mod core_socket_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use core_socket_common::{End, loopback, settle};
use zlink_mq::core::msg::{Frame, Message};
use zlink_mq::core::routing::{PeerId, Pub, Pull, Push, Rep, Req, Sub};
use zlink_mq::core::socket::{Options, PeerEvent, Socket};
use zlink_mq::core::storage::Fixed;
use zlink_mq::core::time::Instant;
use zlink_mq::core::zmtp::null::Null;

/// Counts allocations made by threads that asked to be counted.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: allocations during thread teardown are not ours.
    let counting = COUNTING.try_with(Cell::get).unwrap_or(false);
    if counting {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: every method forwards to the system allocator with the caller's
// arguments unchanged; counting touches only const-initialised
// thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: as above; `ptr` came from this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above; `ptr` came from this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f`, returning the number of heap allocations it made.
fn allocations(f: impl FnOnce()) -> usize {
    COUNT.with(|c| c.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    COUNT.with(Cell::get)
}

const BUF: usize = 256;
type St = Fixed<1, 4, 16>;
type S<R> = Socket<R, End, Null, 1, BUF>;

#[test]
fn the_counter_counts() {
    assert!(allocations(|| drop(std::hint::black_box(vec![1u8; 8]))) >= 1);
    assert_eq!(allocations(|| {}), 0);
}

#[test]
fn pub_sub_makes_no_allocation() {
    // The streams are the test's; they allocate once, here.
    let (a, b) = loopback(4096, 4096);
    let n = allocations(move || {
        let t = Instant::ZERO;
        let mut publisher: S<Pub<St, PeerId>> = Socket::new(Pub::new(), Options::new());
        let mut subscriber: S<Sub<St, PeerId, Frame<BUF>>> =
            Socket::new(Sub::new(), Options::new());
        subscriber.subscribe(b"temp").unwrap();
        publisher.attach(a, Null::new(true), t).unwrap();
        subscriber.attach(b, Null::new(false), t).unwrap();
        settle(&mut [&mut publisher, &mut subscriber], t);
        assert_eq!(publisher.routing().topic_count(), 1);
        for i in 0..100u32 {
            publisher.send(&[b"other", &i.to_be_bytes()]).unwrap();
            publisher.send(&[b"temp", &i.to_be_bytes()]).unwrap();
            settle(&mut [&mut publisher, &mut subscriber], t);
            let topic = subscriber.recv().unwrap();
            assert_eq!((topic.bytes(), topic.more()), (&b"temp"[..], true));
            assert_eq!(subscriber.recv().unwrap().bytes(), i.to_be_bytes());
        }
        subscriber.unsubscribe(b"temp").unwrap();
        settle(&mut [&mut publisher, &mut subscriber], t);
        assert_eq!(publisher.routing().topic_count(), 0);
    });
    assert_eq!(n, 0);
}

#[test]
fn req_rep_makes_no_allocation() {
    let (a, b) = loopback(4096, 16);
    let n = allocations(move || {
        let t = Instant::ZERO;
        let mut req: S<Req<St, PeerId>> = Socket::new(Req::new(5), Options::new());
        let mut rep: S<Rep<St, PeerId>> = Socket::new(Rep::new(), Options::new());
        req.attach(a, Null::new(false), t).unwrap();
        rep.attach(b, Null::new(true), t).unwrap();
        settle(&mut [&mut req, &mut rep], t);
        for i in 0..100u32 {
            req.send(&[b"request", &i.to_be_bytes()]).unwrap();
            settle(&mut [&mut req, &mut rep], t);
            assert_eq!(rep.recv().unwrap().bytes(), b"request");
            assert_eq!(rep.recv().unwrap().bytes(), i.to_be_bytes());
            rep.send(&[b"reply"]).unwrap();
            settle(&mut [&mut req, &mut rep], t);
            assert_eq!(req.recv().unwrap().bytes(), b"reply");
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn push_pull_and_disconnection_make_no_allocation() {
    let (a, b) = loopback(64, 7);
    let n = allocations(move || {
        let t = Instant::ZERO;
        let mut push: S<Push<St, PeerId>> = Socket::new(Push::new(), Options::new());
        let mut pull: S<Pull<St, PeerId>> = Socket::new(Pull::new(), Options::new());
        push.attach(a, Null::new(false), t).unwrap();
        let peer = pull.attach(b, Null::new(true), t).unwrap();
        settle(&mut [&mut push, &mut pull], t);
        let mut received = 0u32;
        let mut sent = 0u32;
        while received < 300 {
            if sent < 300 && push.send(&[&sent.to_be_bytes(), &[0; 40]]).is_ok() {
                sent += 1;
                continue;
            }
            settle(&mut [&mut push, &mut pull], t);
            while let Ok(frame) = pull.recv() {
                if frame.more() {
                    assert_eq!(frame.bytes(), received.to_be_bytes());
                } else {
                    received += 1;
                }
            }
        }
        // The stream is handed back, not freed; closing it ends the
        // other side's connection.
        drop(pull.detach(peer).unwrap());
        settle(&mut [&mut push, &mut pull], t);
        match push.poll_event() {
            Some(PeerEvent::Connected(_)) => {}
            other => panic!("{other:?}"),
        }
        match push.poll_event() {
            Some(PeerEvent::Disconnected { .. }) => {}
            other => panic!("{other:?}"),
        }
    });
    assert_eq!(n, 0);
}
