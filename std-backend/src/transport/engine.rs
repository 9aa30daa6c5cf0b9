//! One established connection: a stream socket, the core ZMTP state machine
//! and the buffers between them, moving frames to and from a pipe pair.
//!
//! - **Input**: one `read` fills a large buffer; the decoder hands out every
//!   frame in it (borrowed, copied once into a message — inline when small,
//!   one allocation of the announced size when large); the pipe to the
//!   socket is flushed once per read. When the socket's high-water mark is
//!   reached the engine stops decoding (and reading) until the socket
//!   catches up.
//! - **Output**: control bytes (greeting, handshake, PING/PONG) first, then
//!   every message the pipe holds, encoded back to back into one buffer
//!   and written with one `write`. A frame larger than the buffer is sent
//!   as its header plus the payload straight from the message
//!   (`writev`, no copy). When the pipe runs dry its reader is marked
//!   asleep and the socket's next flush wakes this thread.

use std::io::{self, IoSlice, Read, Write};

use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::time::Instant;
use zlink_mq_core::zmtp::curve::{CurveClient, CurveServer};
use zlink_mq_core::zmtp::frame::FrameWriter;
use zlink_mq_core::zmtp::mechanism::{AnyMechanism, AuthVerdict, Credentials};
use zlink_mq_core::zmtp::null::Null;
use zlink_mq_core::zmtp::plain::{PlainClient, PlainServer};
use zlink_mq_core::zmtp::{Config, Connection, EncodeError, Event};

use super::zap::{Verdict, ZapClient, ZapConfig, ZapError};
use super::{Owner, Security};
use crate::base::msg::Msg;
use crate::pipe::{Notify, PipeRx, PipeTx, Read as PipeRead};
use crate::sys::OsRandom;
use crate::sys::net::Stream;

/// Bytes read per system call at most (and the largest frame decoded in
/// place; larger ones are assembled).
const READ_BUF: usize = 64 * 1024;
/// Bytes batched per write.
const WRITE_BUF: usize = 64 * 1024;
/// Frames at least this large are written from the message itself rather
/// than copied into the write buffer.
const GATHER_MIN: usize = 8 * 1024;
/// The rest of a frame body at least this large is read straight into the
/// message's buffer instead of through the read buffer (one copy less).
const DIRECT_READ_MIN: usize = 16 * 1024;
/// How much is read into the read buffer while large frames arrive.
const SMALL_READ: usize = 8 * 1024;
/// At most this much is reserved up front for a frame assembled from many
/// reads; the rest grows with the bytes received.
const ASSEMBLE_RESERVE_MAX: usize = 4 * 1024 * 1024;

/// The most frames one inbound message may have. The socket sees a message
/// only once it is whole, so until its last frame arrives every frame is
/// held (about 200 bytes each for empty frames, see `docs/RELIABILITY.md`);
/// libzmq sets no limit, and a peer that sends empty frames with MORE
/// forever grows its memory without bound. Reaching this fails that
/// connection alone and frees what it held.
pub(crate) const MAX_MSG_FRAMES: u32 = 1 << 20;

/// Accounts for one inbound frame about to go to the socket (see
/// [`MAX_MSG_FRAMES`]).
#[inline]
fn count_frame(in_message: &mut bool, in_frames: &mut u32, more: bool) -> Result<(), Failure> {
    *in_message = more;
    if more {
        *in_frames += 1;
        if *in_frames >= MAX_MSG_FRAMES {
            return Err(Failure::TooManyFrames);
        }
    } else {
        *in_frames = 0;
    }
    Ok(())
}

/// Reads one connection may make per wake-up of its I/O thread: a fast
/// peer leaves the thread to its other connections, its timers and its
/// mailbox after this many (the selector is level-triggered, so the rest
/// is read at the next wake-up).
const READ_BUDGET: u32 = 16;

/// Why a connection ended.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The peer closed the stream.
    Eof,
    /// A system call failed.
    Io(io::Error),
    /// The peer broke the protocol, or the handshake failed.
    Protocol(zlink_mq_core::zmtp::Error),
    /// The socket side closed the pipes and everything queued was sent.
    Done,
    /// The peer's message under way reached [`MAX_MSG_FRAMES`] frames.
    TooManyFrames,
    /// Asking the ZAP handler about the peer failed.
    Zap(ZapError),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Eof => f.write_str("connection closed by peer"),
            Failure::Io(e) => write!(f, "{e}"),
            Failure::Protocol(e) => write!(f, "{e}"),
            Failure::Done => f.write_str("closed"),
            Failure::Zap(e) => write!(f, "{e}"),
            Failure::TooManyFrames => write!(
                f,
                "the peer's message reached {MAX_MSG_FRAMES} frames without its end"
            ),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

impl From<zlink_mq_core::zmtp::Error> for Failure {
    fn from(e: zlink_mq_core::zmtp::Error) -> Self {
        Failure::Protocol(e)
    }
}

/// An outbound frame written around the write buffer.
#[derive(Debug)]
enum Gather {
    /// Not started: its header did not fit; it goes first into the next
    /// batch.
    Pending(Msg),
    /// Its header is in the buffer; its payload is written from the
    /// message itself, this many bytes so far.
    Body(Msg, usize),
}

/// The pipe pair between a connection and its socket, seen from the
/// connection.
#[derive(Debug)]
pub(crate) struct Pipes {
    /// Frames from the peer, to the socket.
    pub tx: PipeTx,
    /// Frames from the socket, to the peer.
    pub rx: PipeRx,
}

/// What the engine tells the session after handling readiness.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// The handshake completed now, with the peer's routing id if it
    /// announced one.
    pub handshake: Option<Option<Vec<u8>>>,
    /// New control output (a PONG, a handshake reply) waits to be written.
    pub control: bool,
    /// A pipe pair to the ZAP handler was opened, with this id: its
    /// activations are this connection's.
    pub zap_opened: Option<u64>,
    /// The pipe pair to the ZAP handler with this id is closed.
    pub zap_closed: Option<u64>,
}

/// A connection's protocol state and buffers.
pub(crate) struct Engine {
    pub stream: Stream,
    conn: Connection<AnyMechanism>,
    authenticator: Option<std::sync::Arc<super::Authenticator>>,
    curve_authenticator: Option<std::sync::Arc<super::CurveAuthenticator>>,
    /// ZAP options, our routing id (the request's identity) and the peer's
    /// address, for the request.
    zap_config: ZapConfig,
    identity: Vec<u8>,
    peer_address: String,
    /// What the I/O thread's pipes report to (set before the first use).
    io: Option<std::sync::Arc<dyn Notify>>,
    /// The exchange with the ZAP handler under way: input waits.
    zap: Option<ZapClient>,
    /// The handler's last verdict on this peer (status, User-Id and
    /// metadata are kept for the connection's life).
    zap_verdict: Option<Verdict>,
    /// The handshake completed once (the connection may have failed since).
    handshaken: bool,
    socket_type: SocketType,
    rbuf: Box<[u8]>,
    rstart: usize,
    rend: usize,
    wbuf: Box<[u8]>,
    wstart: usize,
    wend: usize,
    /// A frame that did not go through the write buffer whole.
    gather: Option<Gather>,
    /// The last outbound frame had MORE set (the next one continues a
    /// message, so it cannot be a subscription).
    out_more: bool,
    /// A frame too large for the read buffer, or split across two reads,
    /// being assembled.
    assembling: Option<(Vec<u8>, bool)>,
    /// The length of the frame being assembled.
    assembling_len: usize,
    /// The frame being assembled is sealed (CURVE): opened once whole.
    assembling_sealed: bool,
    /// A subscription too long for the connection's command buffer, being
    /// assembled as the socket's subscription message (flag, topic).
    subscription: Option<Vec<u8>>,
    /// The last frame was large: read little into the read buffer, so that
    /// the next large body goes straight into its message's buffer.
    large_frames: bool,
    /// The buffer small split frames are assembled in, kept between frames
    /// so that a frame cut by a read boundary costs no allocation.
    small: Vec<u8>,
    /// The socket is at its high-water mark: input waits.
    input_blocked: bool,
    /// Inside an inbound multipart message.
    in_message: bool,
    /// Frames of the inbound message under way handed to the socket.
    in_frames: u32,
    /// Drop outbound frames up to the end of the current message (its start
    /// went to a connection that died).
    skip_outbound: bool,
    /// The socket closed its end: send what is queued, then finish.
    outbound_done: bool,
}

impl Engine {
    /// Wraps a freshly connected or accepted stream. `as_server` is the
    /// connection's role in the security handshake.
    pub(crate) fn new(stream: Stream, owner: &Owner, now: Instant) -> Result<Self, Failure> {
        let (mechanism, authenticator) = match &owner.security {
            // libzmq asks the ZAP handler about NULL peers only when a
            // domain is set.
            Security::Null if !owner.zap.domain.is_empty() => {
                (AnyMechanism::Null(Null::with_verdict(false)), None)
            }
            Security::Null => (AnyMechanism::Null(Null::new(false)), None),
            Security::PlainClient { username, password } => (
                AnyMechanism::PlainClient(PlainClient::new(username, password).map_err(|_| {
                    Failure::Io(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "PLAIN user name or password longer than 255 bytes",
                    ))
                })?),
                None,
            ),
            Security::PlainServer { authenticator } => (
                AnyMechanism::PlainServer(PlainServer::new()),
                authenticator.clone(),
            ),
            Security::CurveClient { keys, server_key } => {
                let keys = keys.as_ref().ok_or_else(no_secret_key)?;
                let m = CurveClient::new(keys, *server_key, &mut OsRandom).map_err(|e| {
                    Failure::Io(io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))
                })?;
                (AnyMechanism::CurveClient(m), None)
            }
            Security::CurveServer { keys, .. } => {
                let keys = keys.as_ref().ok_or_else(no_secret_key)?;
                let m = CurveServer::new(keys, &mut OsRandom)
                    .map_err(|e| Failure::Io(io::Error::other(e.to_string())))?;
                (AnyMechanism::CurveServer(m), None)
            }
        };
        let curve_authenticator = match &owner.security {
            Security::CurveServer { authenticator, .. } => authenticator.clone(),
            _ => None,
        };
        let mut config = Config::new(owner.socket_type);
        config.identity = &owner.routing_id;
        config.max_msg_size = owner.maxmsgsize;
        config.handshake_ivl = owner.handshake_ivl;
        config.heartbeat = owner.heartbeat;
        let conn = Connection::new(&config, mechanism, now)
            .map_err(|e| Failure::Io(io::Error::new(io::ErrorKind::InvalidInput, e.to_string())))?;
        let peer_address = stream.peer_ip();
        Ok(Self {
            stream,
            conn,
            authenticator,
            curve_authenticator,
            zap_config: owner.zap.clone(),
            identity: owner.routing_id.clone(),
            peer_address,
            io: None,
            zap: None,
            zap_verdict: None,
            handshaken: false,
            socket_type: owner.socket_type,
            rbuf: vec![0; READ_BUF].into_boxed_slice(),
            rstart: 0,
            rend: 0,
            wbuf: vec![0; WRITE_BUF].into_boxed_slice(),
            wstart: 0,
            wend: 0,
            gather: None,
            out_more: false,
            assembling: None,
            assembling_len: 0,
            assembling_sealed: false,
            subscription: None,
            large_frames: false,
            small: Vec::with_capacity(Msg::INLINE_CAPACITY),
            input_blocked: false,
            in_message: false,
            in_frames: 0,
            skip_outbound: false,
            outbound_done: false,
        })
    }

    /// Where the pipes this engine opens (to a ZAP handler) report: the
    /// I/O thread serving it.
    pub(crate) fn set_io(&mut self, io: std::sync::Arc<dyn Notify>) {
        self.io = Some(io);
    }

    /// The id of the pipe pair to the ZAP handler, while a reply is
    /// awaited.
    pub(crate) fn zap_pipe(&self) -> Option<u64> {
        self.zap.as_ref().map(ZapClient::pipe_id)
    }

    /// The ZAP pipe `id` woke us: `false` if it is not (or no longer) ours.
    pub(crate) fn zap_activated(&mut self, id: u64) -> bool {
        match &self.zap {
            Some(z) if z.pipe_id() == id => {
                z.activated();
                true
            }
            _ => false,
        }
    }

    /// Whether the handshake completed, even if the connection failed
    /// afterwards.
    pub(crate) fn handshaken(&self) -> bool {
        self.handshaken
    }

    /// The status code of the ZAP handler's verdict on the peer (200, 300,
    /// 400 or 500), if it was asked.
    pub(crate) fn zap_status(&self) -> Option<u16> {
        self.zap_verdict.as_ref().map(|v| v.status)
    }

    /// The User-Id the ZAP handler gave the peer, and the metadata it
    /// attached (a ZMTP property list), if it was asked: kept for the
    /// message properties of issue 12 (`zmq_msg_gets`), which are not
    /// built yet, so nothing reads them today.
    #[allow(dead_code)]
    pub(crate) fn zap_user(&self) -> Option<(&[u8], &[u8])> {
        self.zap_verdict
            .as_ref()
            .map(|v| (&v.user_id[..], &v.metadata[..]))
    }

    /// The next protocol deadline (handshake, heartbeat).
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.conn.poll_timeout()
    }

    /// Fires due protocol timers.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Result<(), Failure> {
        self.conn.handle_timeout(now)?;
        Ok(())
    }

    /// The ZAP status code (RFC 27: 300, 400 or 500) of the ERROR the peer
    /// sent, if its reason is one: how a PLAIN (or ZAP) server says it
    /// rejected us.
    pub(crate) fn peer_error_status(&self) -> Option<u16> {
        match *self.conn.peer_error_reason()? {
            [a @ b'3'..=b'5', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
                Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
            }
            _ => None,
        }
    }

    /// Drops outbound frames up to the end of the message under way (its
    /// first frames left with a previous connection).
    pub(crate) fn skip_partial_outbound(&mut self) {
        self.skip_outbound = true;
    }

    /// Whether a message was cut in the middle: inbound frames written to
    /// the socket without their last frame.
    pub(crate) fn in_message(&self) -> bool {
        self.in_message
    }

    /// Whether outbound frames of a message were sent without its end.
    pub(crate) fn out_message_open(&self) -> bool {
        self.out_more || self.skip_outbound
    }

    /// The socket caught up: input may resume.
    pub(crate) fn unblock_input(&mut self) {
        self.input_blocked = false;
    }

    /// Whether input waits for the socket to read (the stream is not read
    /// meanwhile, so it need not be watched for readability).
    pub(crate) fn input_blocked(&self) -> bool {
        self.input_blocked || (self.zap.is_some() && self.rend == self.rbuf.len())
    }

    /// While the ZAP handler judges the peer, the stream is still read (so
    /// a peer that goes away is noticed, as libzmq does) into the read
    /// buffer, which is decoded once the verdict is in; when the buffer is
    /// full, input waits (see [`input_blocked`](Self::input_blocked)).
    fn read_while_judged(&mut self) -> Result<(), Failure> {
        if self.rstart > 0 && self.rend == self.rbuf.len() {
            self.rbuf.copy_within(self.rstart..self.rend, 0);
            self.rend -= self.rstart;
            self.rstart = 0;
        }
        while self.rend < self.rbuf.len() {
            match self.stream.read(&mut self.rbuf[self.rend..]) {
                Ok(0) => return Err(Failure::Eof),
                Ok(n) => self.rend += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Everything is written: tells the peer we are done (it reads the end
    /// after our last byte) without closing, so the peer reads all of it.
    pub(crate) fn shutdown_write(&mut self) -> io::Result<()> {
        self.stream.shutdown_write()
    }

    /// Bytes written that the peer has not taken yet.
    pub(crate) fn unsent(&self) -> io::Result<usize> {
        self.stream.unsent()
    }

    /// After [`shutdown_write`](Self::shutdown_write): reads and discards
    /// what the peer still sends. `Ok(true)` once the peer has closed too.
    pub(crate) fn drain_input(&mut self) -> io::Result<bool> {
        self.stream.discard_input(&mut self.rbuf)
    }

    /// Reads what the stream has and hands every complete frame to the
    /// socket.
    pub(crate) fn readable(
        &mut self,
        pipes: &mut Option<Pipes>,
        now: Instant,
        progress: &mut Progress,
    ) -> Result<(), Failure> {
        let mut budget = READ_BUDGET;
        loop {
            self.decode(pipes, now, progress)?;
            if self.zap.is_some() {
                self.read_while_judged()?;
                break;
            }
            if self.input_blocked || progress.handshake.is_some() {
                // Blocked, or the pipes must be attached before the frames
                // that follow the handshake can be delivered.
                break;
            }
            if self.rstart == self.rend {
                self.rstart = 0;
                self.rend = 0;
            } else if self.rstart > 0 && self.rend == self.rbuf.len() {
                self.rbuf.copy_within(self.rstart..self.rend, 0);
                self.rend -= self.rstart;
                self.rstart = 0;
            }
            if budget == 0 {
                // Fair share used: the rest waits for the next wake-up.
                break;
            }
            budget -= 1;
            if self.rstart == self.rend {
                match self.read_body_direct(pipes, now)? {
                    Some(true) => break,
                    Some(false) => continue,
                    None => {}
                }
            }
            // While large frames arrive, a short read takes the next header
            // and the body follows by `read_body_direct`; otherwise read
            // as much as fits (many small frames per system call).
            let limit = if self.large_frames {
                (self.rend + SMALL_READ).min(self.rbuf.len())
            } else {
                self.rbuf.len()
            };
            let room = limit - self.rend;
            let n = match self.stream.read(&mut self.rbuf[self.rend..limit]) {
                Ok(0) => return Err(Failure::Eof),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            self.rend += n;
            if n < room {
                // The kernel had less than we asked for: it is drained.
                self.decode(pipes, now, progress)?;
                break;
            }
        }
        if let Some(p) = pipes {
            p.tx.flush();
        }
        // Input can make the protocol answer (the next handshake command).
        progress.control |= self.conn.has_pending_transmit();
        Ok(())
    }

    /// While the body of a large frame is being assembled and nothing else
    /// is buffered, reads the rest of the body straight into the message's
    /// buffer: the bytes skip the read buffer and its copy. `None` when
    /// this does not apply; otherwise whether the kernel had less than
    /// asked (drained).
    fn read_body_direct(
        &mut self,
        pipes: &mut Option<Pipes>,
        now: Instant,
    ) -> Result<Option<bool>, Failure> {
        let Some((buf, _)) = &mut self.assembling else {
            return Ok(None);
        };
        let remaining = self.assembling_len.saturating_sub(buf.len());
        if remaining < DIRECT_READ_MIN || buf.capacity() - buf.len() < remaining {
            return Ok(None);
        }
        let start = buf.len();
        let n = match self.stream.read_append(buf, remaining) {
            Ok(0) => return Err(Failure::Eof),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Some(true)),
            Err(e) => return Err(e.into()),
        };
        let (buf, more) = self.assembling.take().expect("matched above");
        // The protocol state machine accounts for the bytes as usual; a
        // body is passed through as it is, so it hands back the very bytes
        // already in place.
        let end = start + n;
        let mut pos = start;
        let mut last = false;
        while pos < end {
            let (used, event) = self.conn.handle_input(&buf[pos..end], now)?;
            match event {
                Some(Event::FramePart { data, last: l })
                    if used > 0 && data.as_ptr() == buf[pos..].as_ptr() =>
                {
                    last = l;
                }
                _ => {
                    return Err(Failure::Io(io::Error::other(
                        "a frame body was not passed through as it arrived",
                    )));
                }
            }
            pos += used;
        }
        if last {
            self.finish_assembled(buf, more, pipes, now)?;
        } else {
            self.assembling = Some((buf, more));
        }
        Ok(Some(n < remaining))
    }

    /// A frame assembled in `buf` is complete: to the socket, once opened
    /// if it was sealed.
    fn finish_assembled(
        &mut self,
        buf: Vec<u8>,
        more: bool,
        pipes: &mut Option<Pipes>,
        now: Instant,
    ) -> Result<(), Failure> {
        if std::mem::take(&mut self.assembling_sealed) {
            self.open_assembled(buf, pipes, now)
        } else {
            self.deliver_assembled(buf, more, pipes)
        }
    }

    /// Opens a sealed frame (CURVE MESSAGE) assembled in `buf` and hands
    /// what it held to the socket: a frame (in place: the buffer becomes
    /// the message), a subscription, or nothing (PING / PONG, which the
    /// connection answers itself).
    fn open_assembled(
        &mut self,
        mut buf: Vec<u8>,
        pipes: &mut Option<Pipes>,
        now: Instant,
    ) -> Result<(), Failure> {
        enum Opened {
            Frame(usize, usize, bool),
            Subscription(u8, usize, usize),
        }
        let base = buf.as_ptr() as usize;
        let at = |data: &[u8]| data.as_ptr() as usize - base;
        let opened = match self.conn.open_frame(&mut buf, now)? {
            Some(Event::Frame { data, more }) => Some(Opened::Frame(at(data), data.len(), more)),
            Some(Event::Subscribe { topic }) => {
                Some(Opened::Subscription(1, at(topic), topic.len()))
            }
            Some(Event::Cancel { topic }) => Some(Opened::Subscription(0, at(topic), topic.len())),
            _ => None,
        };
        match opened {
            Some(Opened::Frame(start, len, more)) => {
                buf.truncate(start + len);
                buf.drain(..start);
                self.deliver_assembled(buf, more, pipes)
            }
            Some(Opened::Subscription(flag, start, len))
                if matches!(self.socket_type, SocketType::Pub | SocketType::XPub) =>
            {
                let mut m = Vec::with_capacity(len + 1);
                m.push(flag);
                m.extend_from_slice(&buf[start..start + len]);
                if let Some(p) = pipes {
                    p.tx.push(Msg::from(m));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Hands a frame assembled in `buf` to the socket.
    fn deliver_assembled(
        &mut self,
        buf: Vec<u8>,
        more: bool,
        pipes: &mut Option<Pipes>,
    ) -> Result<(), Failure> {
        self.count_frame(more)?;
        let msg = if buf.len() <= Msg::INLINE_CAPACITY {
            let msg = Msg::copy_from_slice(&buf);
            self.small = buf;
            msg
        } else {
            Msg::from_bytes(crate::base::bufpool::freeze(buf))
        };
        if let Some(p) = pipes {
            p.tx.push(msg.with_more(more));
        }
        Ok(())
    }

    /// Accounts for one inbound frame about to go to the socket: the
    /// message it belongs to may not grow past [`MAX_MSG_FRAMES`].
    #[inline]
    fn count_frame(&mut self, more: bool) -> Result<(), Failure> {
        count_frame(&mut self.in_message, &mut self.in_frames, more)
    }

    /// Decodes buffered input until it runs out or the socket is full.
    fn decode(
        &mut self,
        pipes: &mut Option<Pipes>,
        now: Instant,
        progress: &mut Progress,
    ) -> Result<(), Failure> {
        loop {
            if self.zap.is_some() && !self.poll_zap(progress)? {
                // The handler has not answered: nothing is read meanwhile.
                return Ok(());
            }
            if !self.in_message && self.assembling.is_none() {
                if let Some(p) = pipes {
                    if self.conn.is_active() && !p.tx.check_write() {
                        self.input_blocked = true;
                        return Ok(());
                    }
                }
            }
            let (used, event) = self
                .conn
                .handle_input(&self.rbuf[self.rstart..self.rend], now)?;
            self.rstart += used;
            let Some(event) = event else {
                return Ok(());
            };
            match event {
                Event::Frame { data, more } => {
                    count_frame(&mut self.in_message, &mut self.in_frames, more)?;
                    self.large_frames = data.len() >= DIRECT_READ_MIN;
                    if let Some(p) = pipes {
                        p.tx.push(Msg::copy_from_slice(data).with_more(more));
                    }
                }
                Event::FrameHead { len, more } => {
                    let buf = if len <= Msg::INLINE_CAPACITY {
                        let mut small = std::mem::take(&mut self.small);
                        small.clear();
                        small
                    } else if let Some(pooled) = crate::base::bufpool::buffer(len) {
                        // A recycled buffer (at most `bufpool::MAX_LEN`):
                        // the receiving thread's free does not shrink the
                        // I/O thread's heap.
                        pooled
                    } else {
                        // The length is the peer's claim (bounded only by
                        // MAXMSGSIZE, unlimited by default): reserve a
                        // bounded amount and grow as the bytes arrive.
                        Vec::with_capacity(len.min(ASSEMBLE_RESERVE_MAX))
                    };
                    self.assembling = Some((buf, more));
                    self.assembling_len = len;
                    self.large_frames = len >= DIRECT_READ_MIN;
                }
                Event::SealedHead { len } => {
                    // A CURVE MESSAGE larger than the connection's buffer:
                    // assembled here, opened once whole (its length was
                    // checked against MAXMSGSIZE, which is unlimited by
                    // default: reserve a bounded amount).
                    let buf = match crate::base::bufpool::buffer(len) {
                        Some(pooled) => pooled,
                        None => Vec::with_capacity(len.min(ASSEMBLE_RESERVE_MAX)),
                    };
                    self.assembling = Some((buf, false));
                    self.assembling_len = len;
                    self.assembling_sealed = true;
                    self.large_frames = len >= DIRECT_READ_MIN;
                }
                Event::FramePart { data, last } => {
                    if let Some((buf, _)) = &mut self.assembling {
                        buf.extend_from_slice(data);
                        if last {
                            let (buf, more) = self.assembling.take().expect("assembling");
                            self.finish_assembled(buf, more, pipes, now)?;
                        }
                    }
                }
                Event::Subscribe { topic } | Event::Cancel { topic }
                    if matches!(self.socket_type, SocketType::Pub | SocketType::XPub) =>
                {
                    // Subscriptions travel to PUB / XPUB routing as libzmq
                    // represents them: one frame, 1 (subscribe) or 0
                    // (cancel), then the prefix. Any other socket ignores
                    // them, as libzmq does: they are not data.
                    let flag = u8::from(matches!(event, Event::Subscribe { .. }));
                    let mut m = Vec::with_capacity(topic.len() + 1);
                    m.push(flag);
                    m.extend_from_slice(topic);
                    if let Some(p) = pipes {
                        p.tx.push(Msg::from(m));
                    }
                }
                Event::SubscriptionHead { subscribe, len }
                    if matches!(self.socket_type, SocketType::Pub | SocketType::XPub) =>
                {
                    // A topic longer than the connection's command buffer
                    // (libzmq sends any length): its length is the peer's
                    // claim, bounded by MAXMSGSIZE only, so reserve a
                    // bounded amount and grow as the bytes arrive.
                    let mut m = Vec::with_capacity(len.saturating_add(1).min(ASSEMBLE_RESERVE_MAX));
                    m.push(u8::from(subscribe));
                    self.subscription = Some(m);
                }
                Event::SubscriptionPart { data, last } => {
                    if let Some(m) = &mut self.subscription {
                        m.extend_from_slice(data);
                    }
                    if last {
                        if let (Some(m), Some(p)) = (self.subscription.take(), pipes.as_mut()) {
                            p.tx.push(Msg::from(m));
                        }
                    }
                }
                Event::HandshakeComplete { peer, .. } => {
                    self.handshaken = true;
                    let id = peer
                        .get("Identity")
                        .filter(|id| !id.is_empty())
                        .map(<[u8]>::to_vec);
                    progress.handshake = Some(id);
                    return Ok(());
                }
                Event::AuthRequest(credentials) => {
                    let verdict = judge(
                        self.authenticator.as_deref(),
                        self.curve_authenticator.as_deref(),
                        &self.zap_config,
                        credentials,
                    );
                    match verdict {
                        Judged::Now(verdict) => {
                            self.conn.handle_auth_verdict(verdict)?;
                            progress.control = true;
                        }
                        Judged::Zap(mechanism, parts) => {
                            if let Some(verdict) = self.ask_zap(mechanism, &parts, progress)? {
                                self.conn.handle_auth_verdict(verdict)?;
                                progress.control = true;
                            }
                        }
                    }
                }
                Event::Ping { .. } => progress.control = true,
                Event::Pong => {}
                _ => {}
            }
        }
    }

    /// Sends the ZAP request; `Some` verdict at once when no handler is
    /// bound (libzmq lets the peer in, unless ZAP_ENFORCE_DOMAIN).
    fn ask_zap(
        &mut self,
        mechanism: &[u8],
        credentials: &[Vec<u8>],
        progress: &mut Progress,
    ) -> Result<Option<AuthVerdict>, Failure> {
        let client = self
            .io
            .clone()
            .and_then(|io| ZapClient::connect(&self.zap_config.registry, io));
        let Some(mut client) = client else {
            if self.zap_config.enforce_domain {
                return Err(Failure::Zap(ZapError::NoHandler));
            }
            return Ok(Some(AuthVerdict::Accept));
        };
        client.send_request(
            &self.zap_config.domain,
            self.peer_address.as_bytes(),
            &self.identity,
            mechanism,
            credentials,
        );
        progress.zap_opened = Some(client.pipe_id());
        self.zap = Some(client);
        Ok(None)
    }

    /// Looks for the ZAP handler's reply; `true` once it came and was
    /// applied.
    fn poll_zap(&mut self, progress: &mut Progress) -> Result<bool, Failure> {
        let Some(client) = &mut self.zap else {
            return Ok(true);
        };
        let reply = client.poll_reply();
        if let Ok(None) = reply {
            return Ok(false);
        }
        progress.zap_closed = Some(client.pipe_id());
        self.zap = None;
        let verdict = reply.map_err(Failure::Zap)?.expect("checked above");
        let status_code = verdict.status;
        self.zap_verdict = Some(verdict);
        self.conn.handle_auth_verdict(if status_code == 200 {
            AuthVerdict::Accept
        } else {
            AuthVerdict::Reject { status_code }
        })?;
        progress.control = true;
        Ok(true)
    }

    /// Whether output waits for the stream to become writable: bytes in the
    /// write buffer, a frame being gathered, or control output that did
    /// not fit. This is the connection's state, not what one pass saw: the
    /// I/O thread derives its write interest from it after every pass,
    /// whatever woke it, so readiness is never lost (a read-only wake-up
    /// while output is backed up keeps watching for writability).
    pub(crate) fn output_pending(&self) -> bool {
        self.wstart != self.wend || self.gather.is_some() || self.conn.has_pending_transmit()
    }

    /// Writes control bytes and queued messages until the stream or the
    /// pipe runs out; what the full stream did not take stays pending (see
    /// [`output_pending`](Self::output_pending)).
    pub(crate) fn writable(
        &mut self,
        pipes: &mut Option<Pipes>,
        now: Instant,
        progress: &mut Progress,
    ) -> Result<(), Failure> {
        loop {
            let was_active = self.conn.is_active();
            self.wend += self.conn.poll_transmit(&mut self.wbuf[self.wend..]);
            if !was_active {
                // Sending our last handshake command can complete the
                // handshake; the connection reports that on its next input
                // call, which may carry no bytes.
                self.decode(pipes, now, progress)?;
            }
            if self.gather.is_none() && self.conn.is_active() && !self.conn.has_pending_transmit() {
                self.encode(pipes)?;
            }
            if self.wstart == self.wend && self.gather.is_none() {
                if self.outbound_done && !self.conn.has_pending_transmit() {
                    return Err(Failure::Done);
                }
                return Ok(());
            }
            if !self.flush_out()? {
                // The stream is full; `output_pending` says so until the
                // bytes are out.
                return Ok(());
            }
        }
    }

    /// Moves messages from the pipe into the write buffer.
    fn encode(&mut self, pipes: &mut Option<Pipes>) -> Result<(), Failure> {
        let Some(p) = pipes else {
            return Ok(());
        };
        let subscriptions = matches!(self.socket_type, SocketType::Sub | SocketType::XSub);
        let mut w = FrameWriter::with_filled(&mut self.wbuf, self.wend);
        loop {
            // Room for a small frame and its header, or stop here.
            if w.remaining() < 64 + 9 {
                break;
            }
            let msg = match p.rx.read() {
                PipeRead::Msg(m) => m,
                PipeRead::Empty => break,
                PipeRead::Closed => {
                    self.outbound_done = true;
                    break;
                }
            };
            if self.skip_outbound {
                self.skip_outbound = msg.more();
                continue;
            }
            let starts_message = !self.out_more;
            self.out_more = msg.more();
            if self.conn.seals_frames() {
                // CURVE: every frame sealed whole into the buffer; one that
                // does not fit opens the next batch.
                let subscription = subscriptions && starts_message && !msg.more();
                if !encode_sealed(&mut self.conn, &mut w, &msg, subscription)? {
                    self.gather = Some(Gather::Pending(msg));
                    break;
                }
                continue;
            }
            if subscriptions && starts_message && !msg.more() {
                if let Some((&flag, topic)) = msg.split_first() {
                    if flag <= 1 && msg.len() >= GATHER_MIN {
                        // Too long to copy: the head goes in the buffer,
                        // the topic from the message itself.
                        let subscribe = flag == 1;
                        let topic_len = topic.len();
                        self.gather = Some(
                            match self
                                .conn
                                .encode_subscription_head(&mut w, subscribe, topic_len)
                            {
                                Ok(from) => Gather::Body(msg, from),
                                Err(_) => Gather::Pending(msg),
                            },
                        );
                        break;
                    }
                    if flag <= 1 {
                        let r = if flag == 1 {
                            self.conn.encode_subscribe(&mut w, topic)
                        } else {
                            self.conn.encode_cancel(&mut w, topic)
                        };
                        if r.is_err() {
                            // No room after all: it opens the next batch.
                            self.gather = Some(Gather::Pending(msg));
                            break;
                        }
                        continue;
                    }
                }
            }
            if msg.len() >= GATHER_MIN || w.push(&msg, msg.more()).is_err() {
                self.gather = Some(if w.push_header(msg.len(), msg.more()).is_ok() {
                    Gather::Body(msg, 0)
                } else {
                    Gather::Pending(msg)
                });
                break;
            }
        }
        self.wend = w.len();
        Ok(())
    }

    /// Writes the buffer (and a gathered payload). Returns `false` if the
    /// stream is full.
    fn flush_out(&mut self) -> Result<bool, Failure> {
        loop {
            if self.wstart == self.wend {
                match self.gather.take() {
                    // A frame whose header did not fit the last batch: it
                    // opens this one, as a subscription or a data frame.
                    Some(Gather::Pending(msg)) if self.conn.seals_frames() => {
                        self.wstart = 0;
                        self.wend = 0;
                        let subscription =
                            matches!(self.socket_type, SocketType::Sub | SocketType::XSub)
                                && !msg.more();
                        let mut w = FrameWriter::new(&mut self.wbuf);
                        if encode_sealed(&mut self.conn, &mut w, &msg, subscription)? {
                            self.wend = w.len();
                        } else {
                            // Larger than the whole buffer: sealed into its
                            // own, written from there.
                            let len = self.conn.encoded_len(msg.len() + 1 + "SUBSCRIBE".len());
                            let mut frame = vec![0u8; len];
                            let mut w = FrameWriter::new(&mut frame);
                            if encode_sealed(&mut self.conn, &mut w, &msg, subscription)? {
                                let n = w.len();
                                frame.truncate(n);
                                self.gather = Some(Gather::Body(Msg::from(frame), 0));
                            }
                        }
                        continue;
                    }
                    Some(Gather::Pending(msg)) => {
                        self.wstart = 0;
                        self.wend = 0;
                        let mut w = FrameWriter::new(&mut self.wbuf);
                        let subscription =
                            matches!(self.socket_type, SocketType::Sub | SocketType::XSub)
                                && !msg.more()
                                && msg.first().is_some_and(|&f| f <= 1);
                        if subscription {
                            let (&flag, topic) = msg.split_first().expect("non-empty");
                            let (subscribe, topic_len) = (flag == 1, topic.len());
                            let r = if subscribe {
                                self.conn.encode_subscribe(&mut w, topic)
                            } else {
                                self.conn.encode_cancel(&mut w, topic)
                            };
                            if r.is_err() {
                                // Larger than the whole buffer: its head
                                // here, the topic from the message.
                                // (Only a connection no longer active
                                // refuses that; nothing goes out then.)
                                if let Ok(from) = self
                                    .conn
                                    .encode_subscription_head(&mut w, subscribe, topic_len)
                                {
                                    self.gather = Some(Gather::Body(msg, from));
                                }
                            }
                            self.wend = w.len();
                        } else {
                            if w.push_header(msg.len(), msg.more()).is_err() {
                                unreachable!("an empty buffer holds a frame header");
                            }
                            self.wend = w.len();
                            self.gather = Some(Gather::Body(msg, 0));
                        }
                        continue;
                    }
                    Some(body @ Gather::Body(..)) => self.gather = Some(body),
                    None => return Ok(true),
                }
            }
            let head = &self.wbuf[self.wstart..self.wend];
            let written = match &self.gather {
                Some(Gather::Body(msg, done)) => self
                    .stream
                    .write_vectored(&[IoSlice::new(head), IoSlice::new(&msg[*done..])]),
                _ => self.stream.write(head),
            };
            let mut n = match written {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            let from_buf = n.min(self.wend - self.wstart);
            self.wstart += from_buf;
            n -= from_buf;
            if let Some(Gather::Body(msg, done)) = &mut self.gather {
                *done += n;
                if *done == msg.len() {
                    self.gather = None;
                }
            }
            if self.wstart == self.wend {
                self.wstart = 0;
                self.wend = 0;
                if self.gather.is_none() {
                    return Ok(true);
                }
            }
        }
    }

    /// Writes what can be written without blocking; used before closing so
    /// a final ERROR command reaches the peer.
    pub(crate) fn flush_best_effort(&mut self) {
        self.wend += self.conn.poll_transmit(&mut self.wbuf[self.wend..]);
        let _ = self.stream.write(&self.wbuf[self.wstart..self.wend]);
    }
}

/// A CURVE connection without a secret key to prove.
/// How credentials are judged.
enum Judged {
    /// By the socket's callback (or no one): this verdict.
    Now(AuthVerdict),
    /// By the ZAP handler: this mechanism name and these credential frames.
    Zap(&'static [u8], Vec<Vec<u8>>),
}

/// Judges credentials with the socket's callback if it has one, or says
/// what to ask the ZAP handler.
fn judge(
    authenticator: Option<&super::Authenticator>,
    curve_authenticator: Option<&super::CurveAuthenticator>,
    zap: &ZapConfig,
    credentials: Credentials<'_>,
) -> Judged {
    // The application's callbacks run on the I/O thread: a panic in one
    // refuses this client instead of killing every connection the
    // thread serves.
    let run = |f: &dyn Fn() -> bool| {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(false);
        Judged::Now(if ok {
            AuthVerdict::Accept
        } else {
            AuthVerdict::Reject { status_code: 400 }
        })
    };
    match credentials {
        Credentials::Plain { username, password } => match authenticator {
            Some(auth) => run(&|| auth(username, password)),
            None => Judged::Zap(b"PLAIN", vec![username.to_vec(), password.to_vec()]),
        },
        Credentials::Curve { public_key } => match curve_authenticator {
            Some(auth) => run(&|| auth(public_key)),
            // libzmq's Stonehouse: encryption without authentication
            // when the domain is strict but none is set.
            None if zap.domain.is_empty() && zap.enforce_domain => Judged::Now(AuthVerdict::Accept),
            None => Judged::Zap(b"CURVE", vec![public_key.to_vec()]),
        },
        Credentials::Null => Judged::Zap(b"NULL", Vec::new()),
        // A mechanism added later without a ZAP name is refused.
        _ => Judged::Now(AuthVerdict::Reject { status_code: 400 }),
    }
}

fn no_secret_key() -> Failure {
    Failure::Io(io::Error::new(
        io::ErrorKind::InvalidInput,
        "CURVE needs our secret key (CURVE_SECRETKEY)",
    ))
}

/// Seals one outbound frame whole into `w`: a subscription message (flag
/// 1 or 0, then the topic) as SUBSCRIBE / CANCEL when `subscription`, any
/// other frame as is. `false` if it does not fit.
fn encode_sealed(
    conn: &mut Connection<AnyMechanism>,
    w: &mut FrameWriter<'_>,
    msg: &Msg,
    subscription: bool,
) -> Result<bool, Failure> {
    let r = match msg.split_first() {
        Some((&1, topic)) if subscription => conn.encode_subscribe(w, topic),
        Some((&0, topic)) if subscription => conn.encode_cancel(w, topic),
        _ => conn.encode_frame(w, msg, msg.more()),
    };
    match r {
        Ok(()) => Ok(true),
        Err(EncodeError::BufferFull) => Ok(false),
        Err(EncodeError::Failed(e)) => Err(e.into()),
        Err(e) => Err(Failure::Io(io::Error::other(e.to_string()))),
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("active", &self.conn.is_active())
            .finish_non_exhaustive()
    }
}
