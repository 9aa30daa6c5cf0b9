//! REQ firmware: [`ROUND_TRIPS`] request / reply round trips with a libzmq
//! REP over UART0, every reply checked byte for byte.
//!
//! Request `i` is `["req", i in decimal, payload(i)]`; the REP (`peer.py
//! req`) checks it and answers `["rep", i, payload(i) reversed]`. The
//! result goes to the host over semihosting, and QEMU exits with status 0
//! only if every reply was right.
#![no_std]
#![no_main]

use core::time::Duration;

use firmware_qemu::board::Board;
use firmware_qemu::board::uart::Port;
use firmware_qemu::exchange::{PAYLOAD_SPAN, ROUND_TRIPS, Stored, payload, payload_buf};
use firmware_qemu::peer::{self, UartSocket};
use firmware_qemu::report::{self, Line, decimal};
use static_cell::StaticCell;
use zlink_mq_core::routing::{PeerId, RecvError, Req};
use zlink_mq_core::socket::{Options, PeerEvent};
use zlink_mq_core::storage::Fixed;
use zlink_mq_core::zmtp::heartbeat::Heartbeat;

/// One peer (the REP); routing storage for one peer, no topics, 8-byte
/// keys (REQ stores none).
type Requester = UartSocket<Req<Fixed<1, 1, 8>, PeerId>>;

/// The socket, in `.bss`.
static REQ: StaticCell<Requester> = StaticCell::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    let Some(Board {
        uart0,
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
    let req = REQ.init_with(|| Requester::new(Req::new(1), options));
    // run.sh binds the REP only after this line, so that no byte reaches
    // the UART before it is set up.
    Line::new().str("req: ready").print();
    peer::attach(req, uart0, &mut idle, &mut clock);

    let start = clock.now();
    let mut scratch = payload_buf();
    let mut reply = Stored::new();
    let mut sent = false;
    let mut done = 0u32;
    let mut bytes = 0usize;
    while done < ROUND_TRIPS {
        req.poll(clock.now());
        while let Some(event) = req.poll_event() {
            if let PeerEvent::Disconnected { reason, .. } = event {
                report::fail_with("the REP went away", &reason);
            }
        }
        let mut busy = false;
        if !sent && req.connected_peers() == 1 {
            let mut digits = [0u8; 10];
            let body = payload(done, &mut scratch);
            bytes += body.len();
            if let Err(e) = req.send(&[b"req", decimal(done, &mut digits), body]) {
                report::fail_with("send", &e);
            }
            sent = true;
            busy = true;
        }
        // REQ refuses to receive before its request is out.
        while sent {
            match req.recv() {
                Ok(frame) => {
                    if reply.push(&frame).is_err() {
                        report::fail("a reply larger than expected");
                    }
                    busy = true;
                }
                Err(RecvError::WouldBlock) => break,
                Err(e) => report::fail_with("recv", &e),
            }
            if reply.is_complete() {
                check_reply(&reply, done, &mut scratch);
                reply.clear();
                bytes += payload(done, &mut scratch).len();
                done += 1;
                sent = false;
                break;
            }
        }
        if !busy {
            idle.wait(&[Port::Uart0]);
        }
    }
    let ms = clock.now().saturating_duration_since(start).as_millis();
    Line::new()
        .str("req: ")
        .num(done)
        .str(" round trips, ")
        .num(bytes as u32)
        .str(" payload bytes, ")
        .num(ms as u32)
        .str(" ms")
        .print();
    report::stack(&stack);
    report::exit(true)
}

/// Fails the run unless `reply` is `["rep", i, payload(i) reversed]`.
fn check_reply(reply: &Stored, i: u32, scratch: &mut [u8; PAYLOAD_SPAN]) {
    let mut digits = [0u8; 10];
    let number = decimal(i, &mut digits);
    let body = payload(i, scratch);
    let ok = reply.len() == 3
        && reply.frame(0) == b"rep"
        && reply.frame(1) == number
        && reply.frame(2).len() == body.len()
        && reply.frame(2).iter().eq(body.iter().rev());
    if !ok {
        Line::new()
            .str("FAIL: reply ")
            .bytes(number)
            .str(" is wrong (")
            .num(reply.len() as u32)
            .str(" frames)")
            .print();
        report::exit(false);
    }
}
