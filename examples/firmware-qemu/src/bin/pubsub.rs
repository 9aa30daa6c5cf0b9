//! PUB + SUB firmware: a SUB on UART0 subscribed to `sensor/` and `ctl/`
//! at a libzmq XPUB, and a PUB on UART1 publishing to a libzmq SUB; every
//! `sensor/` message received is published again, frame for frame.
//!
//! The order makes the exchange exact, with no message lost to a slow
//! joiner: the SUB subscribes only once the libzmq SUB's subscription has
//! reached our PUB, and `peer.py pubsub` publishes only once our
//! subscriptions have reached its XPUB. It publishes [`ECHOES`] `sensor/`
//! messages among others that must not match, checks the echoes, then
//! sends `["ctl/stop", count]`; the firmware checks the count, reports
//! over semihosting and exits QEMU with status 0 only if all was right.
#![no_std]
#![no_main]

use core::time::Duration;

use firmware_qemu::board::Board;
use firmware_qemu::board::uart::Port;
use firmware_qemu::exchange::{BUF, ECHOES, Stored};
use firmware_qemu::peer::{self, UartSocket};
use firmware_qemu::report::{self, Line, decimal};
use static_cell::StaticCell;
use zlink_mq_core::msg::Frame;
use zlink_mq_core::routing::{PeerId, Pub, RecvError, Sub};
use zlink_mq_core::socket::{Options, PeerEvent, SendError};
use zlink_mq_core::storage::Fixed;
use zlink_mq_core::zmtp::heartbeat::Heartbeat;

/// One publisher; two subscriptions of up to 8 bytes.
type Subscriber = UartSocket<Sub<Fixed<1, 2, 8>, PeerId, Frame<BUF>>>;
/// One subscriber, holding one subscription of up to 8 bytes.
type Publisher = UartSocket<Pub<Fixed<1, 1, 8>, PeerId>>;

/// The sockets, in `.bss`.
static SUB: StaticCell<Subscriber> = StaticCell::new();
static PUB: StaticCell<Publisher> = StaticCell::new();

const SENSOR: &[u8] = b"sensor/";
const STOP: &[u8] = b"ctl/stop";

#[cortex_m_rt::entry]
fn main() -> ! {
    let Some(Board {
        uart0,
        uart1,
        mut clock,
        stack,
        mut idle,
        ..
    }) = Board::take()
    else {
        report::fail("board already taken")
    };
    let options = Options {
        // A dead link ends the run with a reason, not at the timeout.
        heartbeat: Heartbeat {
            ivl: Some(Duration::from_secs(1)),
            timeout: Some(Duration::from_secs(3)),
            ttl: None,
        },
        ..Options::new()
    };
    let sub = SUB.init_with(|| Subscriber::new(Sub::new(), options));
    let publisher = PUB.init_with(|| Publisher::new(Pub::new(), options));
    // XPUB_NODROP: at the high-water mark, `send` says so instead of
    // dropping the echo; it is kept and sent again after a poll.
    publisher.routing_mut().set_nodrop(true);

    // run.sh starts the libzmq peers only after this line (see
    // `Idle::until_input`).
    Line::new().str("pubsub: ready").print();
    peer::attach(sub, uart0, &mut idle, &mut clock);
    peer::attach(publisher, uart1, &mut idle, &mut clock);

    let start = clock.now();
    let mut subscribed = false;
    let mut message = Stored::new();
    let mut received = 0u32;
    let mut echoed = 0u32;
    loop {
        let now = clock.now();
        sub.poll(now);
        publisher.poll(now);
        while let Some(event) = sub.poll_event() {
            if let PeerEvent::Disconnected { reason, .. } = event {
                report::fail_with("the XPUB went away", &reason);
            }
        }
        while let Some(event) = publisher.poll_event() {
            if let PeerEvent::Disconnected { reason, .. } = event {
                report::fail_with("the SUB went away", &reason);
            }
        }

        let mut busy = false;
        if !subscribed && publisher.routing().topic_count() > 0 {
            for topic in [SENSOR, b"ctl/"] {
                if let Err(e) = sub.subscribe(topic) {
                    report::fail_with("subscribe", &e);
                }
            }
            subscribed = true;
            busy = true;
        }

        if message.is_complete() {
            // A received `sensor/` message, to echo.
            let frames = message.frames();
            match publisher.send(&frames[..message.len()]) {
                Ok(()) => {
                    echoed += 1;
                    message.clear();
                    busy = true;
                }
                Err(SendError::WouldBlock) => {}
                Err(e) => report::fail_with("publish", &e),
            }
        }
        // Whole messages only are ever buffered: once the first frame is
        // there, so are the others.
        let mut fresh = false;
        while !message.is_complete() {
            match sub.recv() {
                Ok(frame) => {
                    if message.push(&frame).is_err() {
                        report::fail("a message larger than expected");
                    }
                    fresh = message.is_complete();
                    busy = true;
                }
                Err(RecvError::WouldBlock) => break,
                Err(e) => report::fail_with("recv", &e),
            }
        }
        if fresh {
            let topic = message.frame(0);
            if topic == STOP {
                let mut digits = [0u8; 10];
                if message.len() != 2 || message.frame(1) != decimal(echoed, &mut digits) {
                    report::fail("the stop message's count is not ours");
                }
                break;
            } else if topic.starts_with(SENSOR) {
                received += 1;
            } else {
                report::fail("a message whose topic we did not subscribe to");
            }
        }

        if !busy {
            idle.wait(&[Port::Uart0, Port::Uart1]);
        }
    }
    if received != ECHOES || echoed != ECHOES {
        report::fail("not the expected number of messages");
    }
    let ms = clock.now().saturating_duration_since(start).as_millis();
    Line::new()
        .str("pubsub: received ")
        .num(received)
        .str(" sensor/ messages, echoed ")
        .num(echoed)
        .str(", ")
        .num(ms as u32)
        .str(" ms")
        .print();
    report::stack(&stack);
    report::exit(true)
}
