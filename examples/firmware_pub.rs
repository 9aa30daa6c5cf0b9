//! A sensor node publishing readings over ZeroMQ: the shape of a firmware
//! main loop with zlink-mq's `no_std` core socket.
//!
//! ```text
//! cargo run --example firmware_pub
//! ```
//!
//! Everything the socket needs (its routing, the peer's ZMTP state machine
//! and buffers) lives in one `static`, sized at compile time; nothing is
//! allocated. The socket runs over any stream that implements
//! `embedded_io::{Read, Write, ReadReady, WriteReady}` and never blocks:
//! the main loop calls `poll(now)` and does its own work in between.
//!
//! On a board, the stream is the network stack's TCP socket (smoltcp,
//! embassy-net, a modem driver), `now()` reads a hardware timer, and the
//! loop sleeps until the next interrupt or deadline. On the host, so that
//! this runs as is: a `std::net::TcpStream` behind a small adapter is the
//! stream, `std::time::Instant` is the timer, and the collector at the
//! other end is real libzmq (a SUB in a thread, printing what it gets).
//! The program publishes ten readings and exits.

use core::fmt::Write as _;
use core::time::Duration;

use static_cell::StaticCell;
use zlink_mq::core::routing::{PeerId, Pub};
use zlink_mq::core::socket::{Options, PeerEvent, SendError, Socket};
use zlink_mq::core::storage::Fixed;
use zlink_mq::core::zmtp::heartbeat::Heartbeat;
use zlink_mq::core::zmtp::null::Null;

// --- 1. Sizes, fixed at compile time -----------------------------------------

/// One subscriber (the collector); one subscription topic of up to 16 bytes.
type RoutingStorage = Fixed<1, 1, 16>;
/// Bytes per buffer: the peer slot takes about 7 of these.
const BUF: usize = 256;
/// A PUB socket with one peer over our stream type, NULL security.
type Publisher = Socket<Pub<RoutingStorage, PeerId>, host::Stream, Null, 1, BUF>;

const TOPIC: &[u8] = b"sensor/temperature";
const READING_PERIOD: Duration = Duration::from_millis(100);
const READINGS: u32 = 10;

// --- 2. Static storage ---------------------------------------------------------

/// The socket, in `.bss`: no heap, no stack copy to size for.
static PUBLISHER: StaticCell<Publisher> = StaticCell::new();

fn main() {
    // Host only: the collector listens; on a board it is somewhere on the
    // network.
    let (collector_addr, collector) = host::start_collector(READINGS);

    // --- 3. Bring-up: socket, then the stream --------------------------------
    let options = Options {
        // Notice a dead link within 3 s even when there is nothing to send.
        heartbeat: Heartbeat {
            ivl: Some(Duration::from_secs(1)),
            timeout: Some(Duration::from_secs(3)),
            ttl: None,
        },
        ..Options::new()
    };
    let socket: &'static mut Publisher =
        PUBLISHER.init_with(|| Publisher::new(Pub::new(), options));
    let stream = host::Stream::connect(&collector_addr);
    // We opened the connection: the client side of the handshake.
    socket
        .attach(stream, Null::new(false), host::now())
        .expect("a free peer slot");

    // --- 4. The main loop ------------------------------------------------------
    let mut sequence = 0u32;
    let mut next_reading = host::now();
    while sequence < READINGS {
        let now = host::now();
        // Moves bytes, runs the handshake and heartbeats. Never blocks.
        socket.poll(now);

        while let Some(event) = socket.poll_event() {
            match event {
                PeerEvent::Connected(peer) => println!("node: connected ({peer:?})"),
                PeerEvent::Disconnected { reason, stream, .. } => {
                    // On a board: close the TCP socket, reconnect, attach
                    // again. Here the collector went away: stop.
                    drop(stream);
                    println!("node: disconnected: {reason}");
                    return;
                }
            }
        }

        // A PUB drops messages nobody subscribed to; until the collector's
        // subscription has arrived, there is no point measuring.
        let listening = socket.routing().topic_count() > 0;
        if listening && now >= next_reading {
            let reading = sensor::read_temperature(sequence);
            // Format into a fixed buffer: no allocation here either.
            let mut text = heapless::String::<16>::new();
            write!(text, "{}.{}", reading / 10, reading % 10).expect("fits");
            match socket.send(&[TOPIC, text.as_bytes()]) {
                Ok(()) => {
                    println!("node: published {text} C");
                    sequence += 1;
                }
                // The output buffer is full: the link is slow. Skip this
                // reading rather than wait.
                Err(SendError::WouldBlock) => {}
                Err(e) => panic!("send: {e}"),
            }
            next_reading = now + READING_PERIOD;
        }

        // On a board: sleep until an interrupt, the next reading, or the
        // socket's next protocol deadline, whichever comes first.
        let wake_at = socket
            .poll_at()
            .map_or(next_reading, |t| t.min(next_reading));
        host::sleep_until(wake_at.min(now + Duration::from_millis(5)));
    }
    // Let the last reading leave before the process ends.
    for _ in 0..10 {
        socket.poll(host::now());
        host::sleep_until(host::now() + Duration::from_millis(5));
    }
    collector.join().expect("the collector got every reading");
}

/// Stands in for an ADC read.
mod sensor {
    /// A temperature in tenths of a degree Celsius.
    pub fn read_temperature(sequence: u32) -> u32 {
        215 + sequence % 7
    }
}

/// What the board support and network stack provide on a device, done with
/// `std` for the host.
mod host {
    use std::io::{self, ErrorKind as IoKind};
    use std::net::TcpStream;
    use std::sync::OnceLock;
    use std::thread::{self, JoinHandle};
    use std::time::Instant as StdInstant;

    use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};
    use zlink_mq::core::time::Instant;

    /// Milliseconds since start: the "hardware timer".
    pub fn now() -> Instant {
        static BOOT: OnceLock<StdInstant> = OnceLock::new();
        let boot = BOOT.get_or_init(StdInstant::now);
        Instant::from_millis(boot.elapsed().as_millis() as u64)
    }

    /// The "low-power wait".
    pub fn sleep_until(t: Instant) {
        thread::sleep(t - now());
    }

    /// A TCP connection as an `embedded_io` stream: reads only when
    /// `read_ready` says bytes (or EOF) are there; writes block until the
    /// kernel takes a byte, as `embedded_io::Write` specifies.
    pub struct Stream(TcpStream);

    impl Stream {
        pub fn connect(addr: &str) -> Stream {
            let s = TcpStream::connect(addr).expect("the collector listens");
            s.set_nonblocking(true).unwrap();
            s.set_nodelay(true).unwrap();
            Stream(s)
        }
    }

    #[derive(Debug)]
    pub struct NetError(ErrorKind);

    impl core::fmt::Display for NetError {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "{:?}", self.0)
        }
    }

    impl core::error::Error for NetError {}

    impl embedded_io::Error for NetError {
        fn kind(&self) -> ErrorKind {
            self.0
        }
    }

    fn net_error(e: io::Error) -> NetError {
        NetError(match e.kind() {
            IoKind::ConnectionReset => ErrorKind::ConnectionReset,
            IoKind::BrokenPipe => ErrorKind::BrokenPipe,
            _ => ErrorKind::Other,
        })
    }

    impl ErrorType for Stream {
        type Error = NetError;
    }

    impl ReadReady for Stream {
        fn read_ready(&mut self) -> Result<bool, NetError> {
            match self.0.peek(&mut [0u8; 1]) {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == IoKind::WouldBlock => Ok(false),
                Err(e) => Err(net_error(e)),
            }
        }
    }

    impl Read for Stream {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
            io::Read::read(&mut self.0, buf).map_err(net_error)
        }
    }

    impl WriteReady for Stream {
        fn write_ready(&mut self) -> Result<bool, NetError> {
            Ok(true)
        }
    }

    impl Write for Stream {
        fn write(&mut self, buf: &[u8]) -> Result<usize, NetError> {
            loop {
                match io::Write::write(&mut self.0, buf) {
                    Err(e) if e.kind() == IoKind::WouldBlock => {
                        thread::sleep(std::time::Duration::from_millis(1))
                    }
                    other => return other.map_err(net_error),
                }
            }
        }

        fn flush(&mut self) -> Result<(), NetError> {
            Ok(())
        }
    }

    /// A libzmq SUB, bound on loopback, subscribed to `sensor/`; its thread
    /// prints `count` readings and ends (or panics after 5 s of silence).
    pub fn start_collector(count: u32) -> (String, JoinHandle<()>) {
        let ctx = zmq::Context::new();
        let sub = ctx.socket(zmq::SUB).unwrap();
        sub.set_subscribe(b"sensor/").unwrap();
        sub.set_rcvtimeo(5_000).unwrap();
        sub.set_linger(0).unwrap();
        sub.bind("tcp://127.0.0.1:*").unwrap();
        let endpoint = sub.get_last_endpoint().unwrap().unwrap();
        let addr = endpoint.trim_start_matches("tcp://").to_string();
        let handle = thread::spawn(move || {
            for _ in 0..count {
                let parts = sub.recv_multipart(0).expect("a reading within 5 s");
                let text: Vec<_> = parts.iter().map(|p| String::from_utf8_lossy(p)).collect();
                println!("collector (libzmq SUB): {}", text.join(" = "));
            }
        });
        (addr, handle)
    }
}
