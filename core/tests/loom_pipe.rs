//! Exhaustive interleaving checks of the ypipe's write / flush / read /
//! sleep / wake protocol with loom.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p zlink-mq-core --test loom_pipe --release`
//!
//! The reader waits on a `loom::sync::Notify` whenever `read` finds the pipe
//! empty, and the writer notifies it only when `flush` reports the reader
//! asleep. A lost wake-up would leave the reader waiting forever, which loom
//! reports as a deadlock.
#![cfg(loom)]
#![allow(unsafe_code, missing_docs)]

use loom::sync::{Arc, Notify};
use loom::thread;
use zlink_mq_core::pipe::{Pipe, PipeRef, Slot, YPipe};

/// The pipe shared by the two loom threads, as a std backend shares it.
struct Shared<const N: usize>(Arc<YPipe<u32, N>>);

impl<const N: usize> Clone for Shared<N> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

// SAFETY: every clone points to the same pipe, kept alive by the Arc.
unsafe impl<const N: usize> PipeRef for Shared<N> {
    type Item = u32;
    type Storage = [Slot<u32>; N];
    fn pipe(&self) -> &YPipe<u32, N> {
        &self.0
    }
}

/// Sends `count` single-frame messages (or, with `multipart`, two-frame
/// messages whose frames must arrive together) through a pipe of capacity
/// `N` and checks that the reader receives them all, in order.
fn model<const N: usize>(count: u32, multipart: bool) {
    loom::model(move || {
        let pipe = Shared::<N>(Arc::new(YPipe::new()));
        let (mut tx, mut rx) = Pipe::split(pipe).expect("fresh pipe");
        let wake = Arc::new(Notify::new());
        let wake_writer = wake.clone();

        let writer = thread::spawn(move || {
            let frames = if multipart { 2 } else { 1 };
            for i in 0..count {
                for f in 0..frames {
                    let more = f + 1 < frames;
                    let mut item = i * frames + f;
                    while let Err(back) = tx.write(item, more) {
                        // Full: publish what we have and let the reader run.
                        if tx.flush() {
                            wake_writer.notify();
                        }
                        item = back;
                        thread::yield_now();
                    }
                }
                if tx.flush() {
                    wake_writer.notify();
                }
            }
        });

        let frames = if multipart { 2 } else { 1 };
        let mut expected = 0;
        while expected < count * frames {
            match rx.read() {
                Some(item) => {
                    assert_eq!(item, expected, "items arrive in order, once");
                    expected += 1;
                    if multipart && item % 2 == 0 {
                        // The second frame was published with the first.
                        assert_eq!(rx.read(), Some(expected), "multipart split");
                        expected += 1;
                    }
                }
                None => wake.wait(),
            }
        }
        writer.join().unwrap();
        assert_eq!(rx.read(), None);
    });
}

#[test]
fn sleep_wake_race() {
    model::<4>(3, false);
}

#[test]
fn wrap_around() {
    model::<2>(5, false);
}

#[test]
fn full_pipe_of_one() {
    model::<1>(3, false);
}

#[test]
fn multipart_is_atomic() {
    model::<4>(2, true);
}
