//! Streams and helpers for the core socket's tests: an in-memory loopback
//! (bounded, chunked, allocation-free once built), an adapter for a
//! non-blocking `std::net::TcpStream`, and a pump for pairs of sockets.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, ErrorKind as IoKind};
use std::net::TcpStream;
use std::rc::Rc;
use std::time::Instant as StdInstant;

use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};
use zlink_mq::core::msg::Message;
use zlink_mq::core::routing::{PeerId, Routing};
use zlink_mq::core::socket::{DisconnectReason, PeerEvent, Peers, Socket, SocketKind};
use zlink_mq::core::time::Instant;
use zlink_mq::core::zmtp::mechanism::Mechanism;

/// A stream error carrying only its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamError(pub ErrorKind);

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for StreamError {}

impl embedded_io::Error for StreamError {
    fn kind(&self) -> ErrorKind {
        self.0
    }
}

/// One direction of a loopback: bytes in flight, at most `cap` of them.
#[derive(Debug)]
struct Wire {
    bytes: VecDeque<u8>,
    cap: usize,
    /// The writing end is gone: EOF once drained.
    closed: bool,
}

/// One end of an in-memory duplex stream. Reads and writes move at most
/// `chunk` bytes each, so frames split across calls; writes stop at the
/// wire's capacity (`write_ready` turns false), so back-pressure shows.
/// Dropping an end closes both directions.
#[derive(Debug)]
pub struct End {
    rx: Rc<RefCell<Wire>>,
    tx: Rc<RefCell<Wire>>,
    chunk: usize,
}

/// Two connected ends; each direction holds `cap` bytes in flight.
pub fn loopback(cap: usize, chunk: usize) -> (End, End) {
    let wire = || {
        Rc::new(RefCell::new(Wire {
            // Never grows past its capacity: no allocation after this.
            bytes: VecDeque::with_capacity(cap),
            cap,
            closed: false,
        }))
    };
    let (ab, ba) = (wire(), wire());
    (
        End {
            rx: ba.clone(),
            tx: ab.clone(),
            chunk,
        },
        End {
            rx: ab,
            tx: ba,
            chunk,
        },
    )
}

impl End {
    /// Bytes the other end wrote that this end has not read.
    pub fn pending(&self) -> usize {
        self.rx.borrow().bytes.len()
    }

    /// Everything the other end wrote so far.
    pub fn drain(&mut self) -> Vec<u8> {
        self.rx.borrow_mut().bytes.drain(..).collect()
    }

    /// Writes all of `bytes` (the test's own side of a conversation).
    pub fn put(&mut self, bytes: &[u8]) {
        let mut tx = self.tx.borrow_mut();
        assert!(tx.bytes.len() + bytes.len() <= tx.cap, "wire full");
        tx.bytes.extend(bytes);
    }
}

impl Drop for End {
    fn drop(&mut self) {
        self.tx.borrow_mut().closed = true;
        self.rx.borrow_mut().closed = true;
    }
}

impl ErrorType for End {
    type Error = StreamError;
}

impl Read for End {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        let mut rx = self.rx.borrow_mut();
        if rx.bytes.is_empty() && !rx.closed {
            // A blocking read would hang this single-threaded test.
            return Err(StreamError(ErrorKind::Other));
        }
        let n = buf.len().min(rx.bytes.len()).min(self.chunk);
        for (dst, src) in buf.iter_mut().zip(rx.bytes.drain(..n)) {
            *dst = src;
        }
        Ok(n)
    }
}

impl ReadReady for End {
    fn read_ready(&mut self) -> Result<bool, StreamError> {
        let rx = self.rx.borrow();
        Ok(!rx.bytes.is_empty() || rx.closed)
    }
}

impl Write for End {
    fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError> {
        let mut tx = self.tx.borrow_mut();
        if tx.closed {
            return Err(StreamError(ErrorKind::BrokenPipe));
        }
        let room = tx.cap - tx.bytes.len();
        let n = buf.len().min(room).min(self.chunk);
        if n == 0 && !buf.is_empty() {
            return Err(StreamError(ErrorKind::WriteZero));
        }
        tx.bytes.extend(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
}

impl WriteReady for End {
    fn write_ready(&mut self) -> Result<bool, StreamError> {
        let tx = self.tx.borrow();
        Ok(tx.closed || tx.bytes.len() < tx.cap)
    }
}

/// A `TcpStream` as an `embedded_io` stream: non-blocking reads behind
/// `read_ready` (a one-byte peek), blocking writes (embedded-io's `write`
/// blocks until it can take a byte; `write_ready` is always true).
#[derive(Debug)]
pub struct Tcp(TcpStream);

impl Tcp {
    pub fn new(stream: TcpStream) -> Tcp {
        stream.set_nonblocking(true).unwrap();
        stream.set_nodelay(true).unwrap();
        Tcp(stream)
    }
}

fn kind(e: &io::Error) -> ErrorKind {
    match e.kind() {
        IoKind::ConnectionReset => ErrorKind::ConnectionReset,
        IoKind::ConnectionAborted => ErrorKind::ConnectionAborted,
        IoKind::BrokenPipe => ErrorKind::BrokenPipe,
        IoKind::NotConnected => ErrorKind::NotConnected,
        IoKind::TimedOut => ErrorKind::TimedOut,
        _ => ErrorKind::Other,
    }
}

impl ErrorType for Tcp {
    type Error = StreamError;
}

impl Read for Tcp {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        loop {
            match io::Read::read(&mut self.0, buf) {
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                Err(e) => return Err(StreamError(kind(&e))),
                Ok(n) => return Ok(n),
            }
        }
    }
}

impl ReadReady for Tcp {
    fn read_ready(&mut self) -> Result<bool, StreamError> {
        match self.0.peek(&mut [0u8; 1]) {
            // Data, or EOF (a read returns 0 at once).
            Ok(_) => Ok(true),
            Err(e) if e.kind() == IoKind::WouldBlock => Ok(false),
            Err(e) if e.kind() == IoKind::Interrupted => Ok(false),
            Err(e) => Err(StreamError(kind(&e))),
        }
    }
}

impl Write for Tcp {
    fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError> {
        loop {
            match io::Write::write(&mut self.0, buf) {
                Err(e) if e.kind() == IoKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(1))
                }
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                Err(e) => return Err(StreamError(kind(&e))),
                Ok(n) => return Ok(n),
            }
        }
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
}

impl WriteReady for Tcp {
    fn write_ready(&mut self) -> Result<bool, StreamError> {
        Ok(true)
    }
}

/// Milliseconds since the first call, as the socket's clock.
pub fn wall_clock() -> Instant {
    use std::sync::OnceLock;
    static EPOCH: OnceLock<StdInstant> = OnceLock::new();
    let epoch = EPOCH.get_or_init(StdInstant::now);
    Instant::from_millis(epoch.elapsed().as_millis() as u64)
}

/// Anything [`settle`] can poll.
pub trait Poll {
    fn poll(&mut self, now: Instant);
}

impl<R, T, X, const PEERS: usize, const BUF: usize> Poll for Socket<R, T, X, PEERS, BUF>
where
    R: SocketKind + Routing<Peers<T, X, PEERS, BUF>>,
    T: Read + Write + ReadReady + WriteReady,
    X: Mechanism,
{
    fn poll(&mut self, now: Instant) {
        Socket::poll(self, now)
    }
}

/// Polls every socket, round after round, long enough for everything in
/// flight to arrive (the loopback moves bytes instantly; a round moves at
/// least a chunk each way).
pub fn settle(sockets: &mut [&mut dyn Poll], now: Instant) {
    for _ in 0..64 {
        for s in sockets.iter_mut() {
            s.poll(now);
        }
    }
}

/// Takes the socket's pending events: which peers connected.
pub fn connected<R, T, X, const PEERS: usize, const BUF: usize>(
    s: &mut Socket<R, T, X, PEERS, BUF>,
) -> Vec<PeerId>
where
    R: SocketKind + Routing<Peers<T, X, PEERS, BUF>>,
    T: Read + Write + ReadReady + WriteReady,
    X: Mechanism,
{
    let mut out = Vec::new();
    while let Some(event) = s.poll_event() {
        match event {
            PeerEvent::Connected(peer) => out.push(peer),
            PeerEvent::Disconnected { peer, reason, .. } => {
                panic!("{peer:?} disconnected: {reason}")
            }
        }
    }
    out
}

/// Takes the socket's pending events up to the next disconnection.
pub fn disconnection<R, T, X, const PEERS: usize, const BUF: usize>(
    s: &mut Socket<R, T, X, PEERS, BUF>,
) -> Option<(PeerId, DisconnectReason)>
where
    R: SocketKind + Routing<Peers<T, X, PEERS, BUF>>,
    T: Read + Write + ReadReady + WriteReady,
    X: Mechanism,
{
    while let Some(event) = s.poll_event() {
        if let PeerEvent::Disconnected { peer, reason, .. } = event {
            return Some((peer, reason));
        }
    }
    None
}

/// Receives a whole message, if one is buffered.
pub fn recv_msg<R, T, X, const PEERS: usize, const BUF: usize>(
    s: &mut Socket<R, T, X, PEERS, BUF>,
) -> Option<Vec<Vec<u8>>>
where
    R: SocketKind + Routing<Peers<T, X, PEERS, BUF>>,
    T: Read + Write + ReadReady + WriteReady,
    X: Mechanism,
{
    let mut out = Vec::new();
    loop {
        match s.recv() {
            Ok(frame) => {
                out.push(frame.bytes().to_vec());
                if !frame.more() {
                    return Some(out);
                }
            }
            Err(e) => {
                assert!(out.is_empty(), "message cut short: {e}");
                return None;
            }
        }
    }
}
