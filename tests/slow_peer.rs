//! Output to a peer that reads slowly while it keeps sending: the traffic
//! of any two-way application. Our output backs up behind the peer's full
//! receive buffer; whatever arrives meanwhile (data, heartbeats) must not
//! make us forget that output waits, or we never send again.
//!
//! The peer is real libzmq (the `zmq` crate), so the test shows what a user
//! with a libzmq program on the other side would see.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::sock::{TIMEOUT, Transport};
use zlink_mq::{Context, Flags, SocketType};

/// How long the libzmq peer reads nothing, sending a message every
/// millisecond meanwhile.
const PAUSE: Duration = Duration::from_millis(1500);

fn zmq_type(kind: SocketType) -> zmq::SocketType {
    match kind {
        SocketType::Pair => zmq::PAIR,
        SocketType::Dealer => zmq::DEALER,
        _ => unreachable!("only two-way peers here"),
    }
}

/// Our socket of `kind` connects to a libzmq socket of the same kind that
/// sends one small message a millisecond, reads nothing for [`PAUSE`], then
/// reads everything. We send `count` x 1 KiB with blocking sends: all of
/// them must arrive, in order, and our sends must never block for good.
fn slow_reader_that_talks(kind: SocketType, t: Transport, count: usize) {
    let zctx = zmq::Context::new();
    let theirs = zctx.socket(zmq_type(kind)).unwrap();
    theirs.set_linger(0).unwrap();
    theirs.set_rcvhwm(0).unwrap();
    theirs.set_sndhwm(0).unwrap();
    let ep = match t {
        Transport::Tcp => {
            theirs.bind("tcp://127.0.0.1:*").unwrap();
            theirs.get_last_endpoint().unwrap().unwrap()
        }
        Transport::Ipc => {
            let path = std::env::temp_dir().join(format!(
                "zlink-slow-peer-{}-{kind:?}.sock",
                std::process::id()
            ));
            let ep = format!("ipc://{}", path.display());
            theirs.bind(&ep).unwrap();
            ep
        }
        Transport::Inproc => unreachable!("libzmq cannot share our inproc"),
    };

    let ctx = Context::new();
    let mut ours = common::sock::socket(&ctx, kind);
    // Long enough for the pause; a send that never completes fails the
    // test instead of hanging it.
    ours.set_sndtimeo(Some(TIMEOUT));
    ours.connect(&ep).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let peer = {
        let stop = stop.clone();
        thread::spawn(move || {
            let start = Instant::now();
            let mut sent = 0u32;
            // Talk without listening.
            while start.elapsed() < PAUSE {
                theirs.send(&sent.to_be_bytes()[..], 0).unwrap();
                sent += 1;
                thread::sleep(Duration::from_millis(1));
            }
            // Then read everything, still talking now and then.
            theirs.set_rcvtimeo(TIMEOUT.as_millis() as i32).unwrap();
            let mut got = Vec::with_capacity(count);
            while got.len() < count {
                match theirs.recv_bytes(0) {
                    Ok(m) => got.push(m),
                    Err(e) => panic!("libzmq peer: {} of {count} arrived ({e})", got.len()),
                }
                if got.len() % 1000 == 0 && !stop.load(Ordering::Relaxed) {
                    theirs.send(&sent.to_be_bytes()[..], 0).unwrap();
                    sent += 1;
                }
            }
            // The socket goes back with the results: closed here (LINGER
            // 0) it would drop what it has not written yet.
            (got, sent, theirs)
        })
    };

    for i in 0..count {
        let mut m = vec![0u8; 1024];
        m[..8].copy_from_slice(&(i as u64).to_be_bytes());
        if let Err(e) = ours.send(m, Flags::NONE) {
            stop.store(true, Ordering::Relaxed);
            panic!("{kind:?} over {t:?}: send {i} of {count} failed: {e}");
        }
    }
    let (got, sent, _theirs) = peer.join().expect("libzmq peer");
    assert_eq!(got.len(), count);
    for (i, m) in got.iter().enumerate() {
        assert_eq!(m.len(), 1024, "message {i}");
        assert_eq!(
            &m[..8],
            &(i as u64).to_be_bytes(),
            "message {i} out of order"
        );
    }
    // And everything the peer said reached us, in order.
    let mut n = 0u32;
    while n < sent {
        let m = ours.recv(Flags::NONE).unwrap_or_else(|e| {
            panic!("{kind:?} over {t:?}: {n} of the peer's {sent} arrived ({e})")
        });
        assert_eq!(&m[..], &n.to_be_bytes()[..]);
        n += 1;
    }
}

#[test]
fn dealer_keeps_sending_to_a_slow_talking_libzmq_dealer_tcp() {
    slow_reader_that_talks(SocketType::Dealer, Transport::Tcp, 30_000);
}

#[test]
fn dealer_keeps_sending_to_a_slow_talking_libzmq_dealer_ipc() {
    slow_reader_that_talks(SocketType::Dealer, Transport::Ipc, 30_000);
}

#[test]
fn pair_keeps_sending_to_a_slow_talking_libzmq_pair_tcp() {
    slow_reader_that_talks(SocketType::Pair, Transport::Tcp, 30_000);
}

#[test]
fn pair_keeps_sending_to_a_slow_talking_libzmq_pair_ipc() {
    slow_reader_that_talks(SocketType::Pair, Transport::Ipc, 30_000);
}

/// Which implementation serves the echo ROUTER.
#[derive(Debug, Clone, Copy)]
enum Server {
    Ours,
    Libzmq,
}

/// An echo ROUTER serves a libzmq DEALER client that first floods it with
/// requests while reading nothing for [`PAUSE`] (the replies back up behind
/// the client's full receive buffer; a ROUTER may drop those beyond its
/// high-water mark), then reads what came and makes 1 000 more requests one
/// at a time. Every one of those must be answered: libzmq's ROUTER answers
/// all of them, and so must ours. Returns how many of the flood's replies
/// arrived (any number is allowed; they must be in order).
fn echo_router_after_a_paused_client(server: Server, t: Transport) -> Result<usize, String> {
    const FLOOD: u64 = 20_000;
    const AFTER: u64 = 1_000;
    let path = std::env::temp_dir().join(format!(
        "zlink-slow-router-{}-{server:?}-{t:?}.sock",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    let stop = Arc::new(AtomicBool::new(false));
    // The highest request the server received, plus one: tells a request
    // that never arrived from a reply that never came back.
    let seen = Arc::new(AtomicU64::new(0));
    let (ep_tx, ep_rx) = std::sync::mpsc::channel::<String>();
    let echo = {
        let stop = stop.clone();
        let seen = seen.clone();
        let note = move |body: Option<&[u8]>| {
            if let Some(body) = body.filter(|b| b.len() >= 8) {
                let i = u64::from_be_bytes(body[..8].try_into().unwrap());
                seen.fetch_max(i + 1, Ordering::Relaxed);
            }
        };
        thread::spawn(move || match server {
            Server::Ours => {
                let ctx = Context::new();
                let mut s = common::sock::socket(&ctx, SocketType::Router);
                s.set_rcvtimeo(Some(Duration::from_millis(100)));
                let ep = match t {
                    Transport::Ipc => format!("ipc://{}", path.display()),
                    _ => "tcp://127.0.0.1:*".into(),
                };
                s.bind(&ep).unwrap();
                ep_tx.send(s.last_endpoint().unwrap().to_owned()).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(parts) = s.recv_multipart(Flags::NONE) {
                        note(parts.last().map(|m| &m[..]));
                        // A full pipe drops the reply (ROUTER semantics);
                        // a send that fails otherwise is a fault.
                        s.send_multipart(parts, Flags::NONE).unwrap();
                    }
                }
            }
            Server::Libzmq => {
                let zctx = zmq::Context::new();
                let s = zctx.socket(zmq::ROUTER).unwrap();
                s.set_linger(0).unwrap();
                s.set_rcvtimeo(100).unwrap();
                let ep = match t {
                    Transport::Ipc => format!("ipc://{}", path.display()),
                    _ => "tcp://127.0.0.1:*".into(),
                };
                s.bind(&ep).unwrap();
                ep_tx.send(s.get_last_endpoint().unwrap().unwrap()).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(parts) = s.recv_multipart(0) {
                        note(parts.last().map(|m| &m[..]));
                        s.send_multipart(parts, 0).unwrap();
                    }
                }
            }
        })
    };
    let ep = ep_rx.recv_timeout(TIMEOUT).expect("server bound");

    let zctx = zmq::Context::new();
    let client = zctx.socket(zmq::DEALER).unwrap();
    client.set_linger(0).unwrap();
    client.set_sndhwm(0).unwrap();
    client.connect(&ep).unwrap();
    let start = Instant::now();
    let body = vec![0u8; 1024];
    for i in 0..FLOOD {
        let mut m = body.clone();
        m[..8].copy_from_slice(&i.to_be_bytes());
        client.send(m, 0).unwrap();
        if i % 100 == 0 && start.elapsed() < PAUSE {
            thread::sleep(Duration::from_millis(1));
        }
    }
    let left = PAUSE.saturating_sub(start.elapsed());
    thread::sleep(left);
    // Read what the flood brought back, until it stops coming.
    client.set_rcvtimeo(500).unwrap();
    let mut flood_back = 0usize;
    let mut last = None;
    while let Ok(m) = client.recv_bytes(0) {
        let i = u64::from_be_bytes(m[..8].try_into().unwrap());
        assert!(
            i < FLOOD,
            "{server:?} over {t:?}: reply {i} before its request"
        );
        assert!(
            last.is_none_or(|l| i > l),
            "{server:?} over {t:?}: replies out of order"
        );
        last = Some(i);
        flood_back += 1;
    }
    // Then one request at a time: each must be answered. Replies to the
    // flood may still trail in (a loaded machine can pause any thread for
    // longer than the quiet window above); they come first, in order.
    client.set_rcvtimeo(TIMEOUT.as_millis() as i32).unwrap();
    let mut late = 0usize;
    let outcome = (FLOOD..FLOOD + AFTER).try_for_each(|i| {
        let mut m = body.clone();
        m[..8].copy_from_slice(&i.to_be_bytes());
        client.send(m, 0).unwrap();
        loop {
            let r = client.recv_bytes(0).map_err(|e| {
                format!(
                    "{server:?} over {t:?}: {} of {AFTER} requests after the pause answered ({e}); \
                     the server received requests up to {}",
                    i - FLOOD,
                    seen.load(Ordering::Relaxed) as i64 - 1
                )
            })?;
            match u64::from_be_bytes(r[..8].try_into().unwrap()) {
                got if got == i => return Ok(()),
                got if got < FLOOD && last.is_none_or(|l| got > l) => {
                    last = Some(got);
                    flood_back += 1;
                    late += 1;
                }
                got => {
                    return Err(format!(
                        "{server:?} over {t:?}: reply {got} while waiting for {i} \
                         (last flood reply {last:?})"
                    ));
                }
            }
        }
    });
    stop.store(true, Ordering::Relaxed);
    echo.join().expect("echo server");
    if late > 0 {
        eprintln!("{server:?} over {t:?}: {late} flood replies came after the quiet window");
    }
    outcome.map(|()| flood_back)
}

/// Ours must answer every request after the pause. libzmq in the same
/// script is the reference: what it did is reported, so that a failure of
/// ours can be set beside it, but it is not what this test checks.
fn router_answers_a_client_that_paused(t: Transport) {
    match echo_router_after_a_paused_client(Server::Libzmq, t) {
        Ok(n) => eprintln!("libzmq over {t:?}: {n} flood replies, all later requests answered"),
        Err(e) => eprintln!("reference only: {e}"),
    }
    let ours = echo_router_after_a_paused_client(Server::Ours, t).unwrap_or_else(|e| panic!("{e}"));
    // Of the flood, a ROUTER keeps what its high-water marks and buffers
    // held: some, never none.
    assert!(ours > 0, "ours over {t:?}: no flood reply came back");
}

#[test]
fn router_answers_a_client_that_paused_tcp() {
    router_answers_a_client_that_paused(Transport::Tcp);
}

#[test]
fn router_answers_a_client_that_paused_ipc() {
    router_answers_a_client_that_paused(Transport::Ipc);
}
