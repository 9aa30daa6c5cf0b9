//! Two real threads move sequence numbers through a ypipe, sleeping and
//! waking with `thread::park` exactly as the protocol says: the reader parks
//! when `read` finds the pipe empty, the writer unparks it only when `flush`
//! reports it asleep. Every number must arrive once, in order; a lost
//! wake-up would hang the test.
#![cfg(not(loom))]
#![allow(missing_docs)]

use std::thread;

use zlink_mq_core::pipe::{Pipe, YPipe};

/// Ten million messages natively; far fewer under Miri, which is slow.
const COUNT: u64 = if cfg!(miri) { 2_000 } else { 10_000_000 };

fn run<const N: usize>(count: u64, batch: u64, multipart_every: u64) {
    let pipe: Box<YPipe<u64, N>> = Box::new(YPipe::new());
    let (mut tx, mut rx) = Pipe::split(&*pipe).expect("fresh pipe");
    thread::scope(|s| {
        let reader = thread::current();
        let writer = s.spawn(move || {
            let mut seq = 0;
            while seq < count {
                // Every `multipart_every`-th message has two frames.
                let frames = if multipart_every != 0 && seq % multipart_every == 0 {
                    2
                } else {
                    1
                };
                let frames = frames.min(count - seq);
                for f in 0..frames {
                    let more = f + 1 < frames;
                    let mut item = seq;
                    while let Err(back) = tx.write(item, more) {
                        if tx.flush() {
                            reader.unpark();
                        }
                        item = back;
                        thread::yield_now();
                    }
                    seq += 1;
                }
                if seq % batch == 0 && tx.flush() {
                    reader.unpark();
                }
            }
            if tx.flush() {
                reader.unpark();
            }
        });
        let mut expected = 0;
        while expected < count {
            match rx.read() {
                Some(item) => {
                    assert_eq!(item, expected);
                    expected += 1;
                }
                None => thread::park(),
            }
        }
        writer.join().unwrap();
    });
    assert_eq!(rx.read(), None);
}

#[test]
fn ten_million_in_order_flush_each() {
    run::<1024>(COUNT, 1, 0);
}

#[test]
fn batched_flushes_and_multipart() {
    run::<256>(COUNT / 4, 17, 5);
}

#[test]
fn tiny_pipe_mostly_full() {
    run::<2>(COUNT / 20, 1, 3);
}
