//! One established connection: a stream socket, the core ZMTP state machine
//! and the buffers between them, moving frames to and from a pipe pair.
//!
//! - **Input** (`input.rs`): one `read` fills a large buffer; the decoder hands out every
//!   frame in it (borrowed, copied once into a message — inline when small,
//!   one allocation of the announced size when large); the pipe to the
//!   socket is flushed once per read. When the socket's high-water mark is
//!   reached the engine stops decoding (and reading) until the socket
//!   catches up.
//! - **Output** (`output.rs`): control bytes (greeting, handshake, PING/PONG) first, then
//!   every message the pipe holds, encoded back to back into one buffer
//!   and written with one `write`. A frame larger than the buffer is sent
//!   as its header plus the payload straight from the message
//!   (`writev`, no copy). When the pipe runs dry its reader is marked
//!   asleep and the socket's next flush wakes this thread.

use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd};

use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::time::Instant;
use zlink_mq_core::zmtp::curve::{CurveClient, CurveServer};
use zlink_mq_core::zmtp::mechanism::{AnyMechanism, AuthVerdict, Credentials};
use zlink_mq_core::zmtp::metadata::Metadata;
use zlink_mq_core::zmtp::null::Null;
use zlink_mq_core::zmtp::plain::{PlainClient, PlainServer};
use zlink_mq_core::zmtp::{Config, Connection};

use super::zap::{Verdict, ZapClient, ZapConfig, ZapError};
use super::{Owner, Security};
use crate::base::msg::Msg;
use crate::base::properties::{PEER_ADDRESS, Properties, USER_ID};
use crate::pipe::{Notify, PipeId, PipeRx, PipeTx};
use crate::sys::OsRandom;
use crate::sys::net::Stream;

mod input;
mod output;

use output::Gather;

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
    pub zap_opened: Option<PipeId>,
    /// The pipe pair to the ZAP handler with this id is closed.
    pub zap_closed: Option<PipeId>,
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
        let properties: Vec<(&str, &[u8])> = owner
            .metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_bytes()))
            .collect();
        config.properties = &properties;
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
    pub(crate) fn zap_pipe(&self) -> Option<PipeId> {
        self.zap.as_ref().map(ZapClient::pipe_id)
    }

    /// The ZAP pipe `id` woke us: `false` if it is not (or no longer) ours.
    pub(crate) fn zap_activated(&mut self, id: PipeId) -> bool {
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

    /// The properties every frame of this connection carries once its
    /// handshake is done, in libzmq's order (the first value of a name
    /// stays): the peer's address and descriptor, the User-Id and metadata
    /// the ZAP handler gave it, the peer's READY metadata.
    pub(crate) fn properties(&self) -> Properties {
        let mut p = Properties::new();
        p.insert(PEER_ADDRESS, self.stream.peer_address().as_bytes());
        p.set_source_fd(self.stream.as_fd().as_raw_fd());
        if let Some(v) = self.zap_verdict.as_ref().filter(|v| v.status == 200) {
            p.insert(USER_ID, &v.user_id);
            if let Ok(m) = Metadata::parse(&v.metadata) {
                add_all(&mut p, m);
            }
        }
        if let Some(m) = self.conn.peer_metadata() {
            add_all(&mut p, m);
        }
        p
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
}

/// Adds every property of a ZMTP property list (names are ASCII by RFC 37's
/// grammar; a name that is not text is skipped).
fn add_all(p: &mut Properties, m: Metadata<'_>) {
    for (name, value) in m.iter() {
        if let Ok(name) = std::str::from_utf8(name) {
            p.insert(name, value);
        }
    }
}

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

/// A CURVE connection without a secret key to prove.
fn no_secret_key() -> Failure {
    Failure::Io(io::Error::new(
        io::ErrorKind::InvalidInput,
        "CURVE needs our secret key (CURVE_SECRETKEY)",
    ))
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("active", &self.conn.is_active())
            .finish_non_exhaustive()
    }
}
