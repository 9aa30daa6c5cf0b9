//! A blocking driver for a core ZMTP [`Connection`] over a `TcpStream`: the
//! I/O loop the std backend will run, in its simplest form, for interop
//! tests against real libzmq.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant as StdInstant};

use zlink_mq::core::socket_type::SocketType;
use zlink_mq::core::time::Instant;
use zlink_mq::core::zmtp::frame::FrameWriter;
use zlink_mq::core::zmtp::{
    AnyMechanism, AuthVerdict, Config, Connection, Credentials, Error, Event,
};

/// An event with its data copied out; frames that came in pieces are
/// reassembled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Ready(SocketType),
    Frame(Vec<u8>, bool),
    Subscribe(Vec<u8>),
    Cancel(Vec<u8>),
    Ping,
    Pong,
}

pub struct Driver {
    pub conn: Connection,
    stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
    filled: usize,
    epoch: StdInstant,
    partial: Option<(Vec<u8>, bool)>,
    /// Verdict on PLAIN credentials, for a server.
    pub judge: fn(&[u8], &[u8]) -> AuthVerdict,
}

pub const TIMEOUT: Duration = Duration::from_secs(10);

impl Driver {
    pub fn new(
        stream: TcpStream,
        config: &Config<'_>,
        mechanism: impl Into<AnyMechanism>,
    ) -> Driver {
        stream.set_nodelay(true).unwrap();
        let epoch = StdInstant::now();
        Driver {
            conn: Connection::new(config, mechanism.into(), Instant::ZERO).unwrap(),
            stream,
            buf: vec![0; 64 * 1024],
            pos: 0,
            filled: 0,
            epoch,
            partial: None,
            judge: |u, p| {
                if u == b"admin" && p == b"secret" {
                    AuthVerdict::Accept
                } else {
                    AuthVerdict::Reject { status_code: 400 }
                }
            },
        }
    }

    pub fn now(&self) -> Instant {
        Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }

    /// Writes all pending control output.
    pub fn flush(&mut self) {
        let mut out = [0u8; 4096];
        loop {
            let n = self.conn.poll_transmit(&mut out);
            if n == 0 {
                break;
            }
            // The peer may already have closed after an ERROR.
            if self.stream.write_all(&out[..n]).is_err() {
                break;
            }
        }
    }

    /// The next event, reading from the socket as needed; errors are the
    /// connection's (after flushing what it queued for the peer).
    pub fn next_event(&mut self) -> Result<Ev, Error> {
        let deadline = StdInstant::now() + TIMEOUT;
        loop {
            self.flush();
            // Decode what we have.
            loop {
                let now = self.now();
                let r = self
                    .conn
                    .handle_input(&self.buf[self.pos..self.filled], now);
                let (used, ev) = match r {
                    Ok(x) => x,
                    Err(e) => {
                        self.flush();
                        return Err(e);
                    }
                };
                self.pos += used;
                let ev = match ev {
                    None => break,
                    Some(Event::HandshakeComplete { peer_type, .. }) => Some(Ev::Ready(peer_type)),
                    Some(Event::AuthRequest(Credentials::Plain { username, password })) => {
                        let v = (self.judge)(username, password);
                        if let Err(e) = self.conn.handle_auth_verdict(v) {
                            self.flush();
                            return Err(e);
                        }
                        self.flush();
                        None
                    }
                    Some(Event::Frame { data, more }) => Some(Ev::Frame(data.to_vec(), more)),
                    Some(Event::FrameHead { len, more }) => {
                        self.partial = Some((Vec::with_capacity(len), more));
                        None
                    }
                    Some(Event::FramePart { data, last }) => {
                        let p = self.partial.as_mut().expect("part after head");
                        p.0.extend_from_slice(data);
                        if last {
                            let (b, more) = self.partial.take().unwrap();
                            Some(Ev::Frame(b, more))
                        } else {
                            None
                        }
                    }
                    Some(Event::Subscribe { topic }) => Some(Ev::Subscribe(topic.to_vec())),
                    Some(Event::Cancel { topic }) => Some(Ev::Cancel(topic.to_vec())),
                    Some(Event::Ping { .. }) => Some(Ev::Ping),
                    Some(Event::Pong) => Some(Ev::Pong),
                    Some(other) => panic!("unexpected event {other:?}"),
                };
                if let Some(ev) = ev {
                    return Ok(ev);
                }
            }
            // Compact, then read more, waking for timers.
            self.buf.copy_within(self.pos..self.filled, 0);
            self.filled -= self.pos;
            self.pos = 0;
            self.flush();
            let now = self.now();
            let wait = match self.conn.poll_timeout() {
                Some(t) => {
                    Duration::from_millis(t.as_millis().saturating_sub(now.as_millis()).max(1))
                }
                None => Duration::from_millis(50),
            };
            assert!(StdInstant::now() < deadline, "no event within {TIMEOUT:?}");
            self.stream
                .set_read_timeout(Some(wait.min(Duration::from_millis(50))))
                .unwrap();
            match self.stream.read(&mut self.buf[self.filled..]) {
                Ok(0) => panic!("peer closed the connection"),
                Ok(n) => self.filled += n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("read: {e}"),
            }
            let now = self.now();
            if self.conn.poll_timeout().is_some_and(|t| t <= now) {
                self.conn.handle_timeout(now)?;
            }
        }
    }

    /// Runs the handshake; returns the peer's socket type.
    pub fn handshake(&mut self) -> Result<SocketType, Error> {
        match self.next_event()? {
            Ev::Ready(t) => {
                self.flush();
                Ok(t)
            }
            other => panic!("expected the handshake to complete, got {other:?}"),
        }
    }

    /// Sends one multipart message (after pending control output).
    pub fn send(&mut self, frames: &[&[u8]]) {
        self.flush();
        let mut buf = vec![0u8; frames.iter().map(|f| f.len() + 9).sum()];
        let mut w = FrameWriter::new(&mut buf);
        w.push_message(frames).unwrap();
        let n = w.len();
        self.stream.write_all(&buf[..n]).unwrap();
    }

    pub fn subscribe(&mut self, topic: &[u8], subscribe: bool) {
        self.flush();
        let mut buf = vec![0u8; topic.len() + 32];
        let mut w = FrameWriter::new(&mut buf);
        if subscribe {
            self.conn.encode_subscribe(&mut w, topic).unwrap();
        } else {
            self.conn.encode_cancel(&mut w, topic).unwrap();
        }
        let n = w.len();
        self.stream.write_all(&buf[..n]).unwrap();
    }

    /// The next whole message, skipping heartbeat events.
    pub fn recv_message(&mut self) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        loop {
            match self.next_event().unwrap() {
                Ev::Frame(f, more) => {
                    frames.push(f);
                    if !more {
                        return frames;
                    }
                }
                Ev::Ping | Ev::Pong => {}
                other => panic!("expected a frame, got {other:?}"),
            }
        }
    }
}

/// A ZAP handler (RFC 27) for libzmq PLAIN servers: accepts admin/secret,
/// refuses everything else with 400. Runs until the context terminates.
pub fn spawn_zap_handler(ctx: &zmq::Context) -> std::thread::JoinHandle<()> {
    let sock = ctx.socket(zmq::REP).unwrap();
    sock.bind("inproc://zeromq.zap.01").unwrap();
    std::thread::spawn(move || {
        while let Ok(req) = sock.recv_multipart(0) {
            // version, request id, domain, address, identity, mechanism,
            // credentials...
            let ok =
                req.len() >= 8 && req[5] == b"PLAIN" && req[6] == b"admin" && req[7] == b"secret";
            let (code, text): (&[u8], &[u8]) = if ok {
                (b"200", b"OK")
            } else {
                (b"400", b"Denied")
            };
            let reply: [&[u8]; 6] = [b"1.0", &req[1], code, text, b"admin", b""];
            if sock.send_multipart(reply, 0).is_err() {
                break;
            }
        }
    })
}

pub fn endpoint(sock: &zmq::Socket) -> String {
    let ep = sock.get_last_endpoint().unwrap().unwrap();
    ep.trim_start_matches("tcp://").to_string()
}
