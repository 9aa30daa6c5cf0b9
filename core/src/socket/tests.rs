//! Socket-level checks that need real links (byte-counted output
//! buffers), which the routing tests' pipes do not model.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::rc::Rc;
use std::vec::Vec;

use super::{Options, SEND_SLACK, Socket};
use crate::msg::{Frame, Message};
use crate::routing::{PeerId, Pub, Sub};
use crate::storage::Fixed;
use crate::time::Instant;
use crate::zmtp::frame::header_len;
use crate::zmtp::null::Null;

/// One end of an in-memory duplex byte stream.
struct End {
    rx: Rc<RefCell<VecDeque<u8>>>,
    tx: Rc<RefCell<VecDeque<u8>>>,
}

fn pair() -> (End, End) {
    let a: Rc<RefCell<VecDeque<u8>>> = Rc::default();
    let b: Rc<RefCell<VecDeque<u8>>> = Rc::default();
    (
        End {
            rx: a.clone(),
            tx: b.clone(),
        },
        End { rx: b, tx: a },
    )
}

impl embedded_io::ErrorType for End {
    type Error = Infallible;
}

impl embedded_io::Read for End {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let mut rx = self.rx.borrow_mut();
        let n = buf.len().min(rx.len());
        for (d, s) in buf.iter_mut().zip(rx.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for End {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(!self.rx.borrow().is_empty())
    }
}

impl embedded_io::Write for End {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.tx.borrow_mut().extend(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl embedded_io::WriteReady for End {
    fn write_ready(&mut self) -> Result<bool, Infallible> {
        Ok(true)
    }
}

const BUF: usize = 128;
type Publisher = Socket<Pub<Fixed<1, 1, 8>, PeerId>, End, Null, 1, BUF>;
type Subscriber = Socket<Sub<Fixed<1, 1, 8>, PeerId, Frame<BUF>>, End, Null, 1, BUF>;

fn connected() -> (Publisher, Subscriber) {
    let (a, b) = pair();
    let now = Instant::ZERO;
    let mut publisher = Publisher::new(Pub::new(), Options::new());
    let mut sub = Subscriber::new(Sub::new(), Options::new());
    publisher.attach(a, Null::new(true), now).unwrap();
    sub.attach(b, Null::new(false), now).unwrap();
    sub.subscribe(b"").unwrap();
    for _ in 0..20 {
        publisher.poll(now);
        sub.poll(now);
    }
    assert_eq!(
        publisher.routing().topic_count(),
        1,
        "the subscription arrived"
    );
    (publisher, sub)
}

fn receive(sub: &mut Subscriber) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    loop {
        let frame = sub.recv().expect("a whole message is buffered");
        frames.push(frame.bytes().to_vec());
        if !frame.more() {
            return frames;
        }
    }
}

#[test]
fn nodrop_sends_a_multipart_message_that_fills_the_buffer_whole() {
    // XPUB_NODROP checks for room once per message: a message whose
    // encoding needs nearly all of the output buffer must not be refused
    // at its second frame because the first already takes part of it
    // (which left the first frame queued, half a message, for ever).
    let (mut publisher, mut sub) = connected();
    publisher.routing_mut().set_nodrop(true);
    let body = [0x5a; 83];
    let frames: [&[u8]; 3] = [b"sensor/temp", b"17", &body];
    let encoded: usize = frames.iter().map(|f| header_len(f.len()) + f.len()).sum();
    assert!(encoded + SEND_SLACK <= BUF && encoded + SEND_SLACK + 13 > BUF);
    let now = Instant::ZERO;
    for round in 0..3 {
        publisher
            .send(&frames)
            .unwrap_or_else(|e| panic!("round {round}: {e:?}"));
        publisher.poll(now);
        sub.poll(now);
        let got = receive(&mut sub);
        assert_eq!(got, frames.map(<[u8]>::to_vec), "round {round}");
    }
}
