//! The connection state machine: one per peer, whatever the transport.
//!
//! ```text
//!   Greeting ──(peer greeting ok)──▶ Handshake ──(both sides' metadata)──▶ Active
//!       │                                │                                  │
//!       └──── any error, timeout, peer ERROR ───────────────────────────────┴──▶ Failed
//! ```
//!
//! Input verbs: [`Connection::handle_input`], [`Connection::handle_timeout`],
//! [`Connection::handle_auth_verdict`]. Output verbs:
//! [`Connection::poll_transmit`] (greeting, handshake commands, PING, PONG,
//! ERROR) and [`Connection::poll_timeout`]. Messages are encoded by the
//! caller straight into its own buffer with
//! [`FrameWriter`], once the connection
//! [`is_active`](Connection::is_active) and after `poll_transmit` has been
//! drained, so that control bytes always precede data.
//!
//! A mechanism that seals frames after the handshake (CURVE) needs the
//! connection on the data path: encode frames with
//! [`Connection::encode_frame`] (which for NULL and PLAIN is
//! [`FrameWriter::push`]); sealed frames larger than the capacity `N` come
//! as [`Event::SealedHead`] and parts for the caller to assemble and open
//! with [`Connection::open_frame`]. NULL and PLAIN connections never take
//! these paths.
#![forbid(unsafe_code)]

use core::fmt;
use core::time::Duration;

use heapless::{Deque, Vec};

use super::Error;
use super::command::{Command, MAX_PING_CONTEXT_LEN, ttl_to_deciseconds};

/// PINGs answered at most per [`Connection::poll_transmit`] backlog.
const MAX_PENDING_PONGS: usize = 4;
use super::frame::{
    BufferFull, Decoded, Decoder, FLAG_COMMAND, Flags, FrameError, FrameWriter, MAX_HEADER_LEN,
    encode_header, header_len,
};
use super::greeting::{GREETING_LEN, Greeting, GreetingParser};
use super::heartbeat::{Heartbeat, Timer, Timers};
use super::mechanism::{AnyMechanism, AuthVerdict, Credentials, Mechanism, Step};
use super::metadata::{self, MAX_IDENTITY_LEN, Metadata, write_property};
use crate::socket_type::SocketType;
use crate::time::Instant;

/// libzmq's default `ZMQ_HANDSHAKE_IVL`.
pub const DEFAULT_HANDSHAKE_IVL: Duration = Duration::from_secs(30);
/// Default capacity `N` of a [`Connection`]: see there.
pub const DEFAULT_CAPACITY: usize = 1024;

/// What a connection needs to know about its own socket.
#[derive(Debug, Clone, Copy)]
pub struct Config<'a> {
    /// Our socket type: sent as `Socket-Type`, and checked against the
    /// peer's.
    pub socket_type: SocketType,
    /// Our routing id (0 to 255 bytes, first byte not 0), sent as
    /// `Identity` by REQ, DEALER and ROUTER sockets, as libzmq does.
    pub identity: &'a [u8],
    /// `Resource` property (ZMTP 3.1), if any.
    pub resource: Option<&'a [u8]>,
    /// Application metadata: extra `(name, value)` properties for READY.
    pub properties: &'a [(&'a str, &'a [u8])],
    /// MAXMSGSIZE: a data frame larger than this is a protocol error,
    /// detected from its header before any of its body is accepted. Checked
    /// per frame, as libzmq does (`None`: no limit).
    pub max_msg_size: Option<u64>,
    /// HANDSHAKE_IVL: the handshake must complete within this (`None`:
    /// forever).
    pub handshake_ivl: Option<Duration>,
    /// Heartbeat settings.
    pub heartbeat: Heartbeat,
}

impl Config<'static> {
    /// Defaults for a socket of type `socket_type`: no identity, no extra
    /// properties, no size limit, libzmq's 30 s handshake limit, no
    /// heartbeats.
    pub const fn new(socket_type: SocketType) -> Config<'static> {
        Config {
            socket_type,
            identity: &[],
            resource: None,
            properties: &[],
            max_msg_size: None,
            handshake_ivl: Some(DEFAULT_HANDSHAKE_IVL),
            heartbeat: Heartbeat {
                ivl: None,
                timeout: None,
                ttl: None,
            },
        }
    }
}

/// Why a [`Config`] cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The identity is longer than 255 bytes or starts with a zero byte.
    BadIdentity,
    /// A property name is empty or longer than 255 bytes.
    BadPropertyName,
    /// Our metadata (or the mechanism's largest command) does not fit the
    /// connection's capacity `N`.
    CapacityTooSmall,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigError::BadIdentity => {
                "identity longer than 255 bytes or starting with a zero byte"
            }
            ConfigError::BadPropertyName => "property name empty or longer than 255 bytes",
            ConfigError::CapacityTooSmall => "metadata does not fit the connection's capacity",
        })
    }
}

impl core::error::Error for ConfigError {}

/// Why a message or subscription could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The handshake is not complete (or the connection failed).
    NotReady,
    /// The output buffer has no room; nothing was written.
    BufferFull,
    /// Sealing failed (CURVE's nonces are exhausted): the connection has
    /// failed with this error.
    Failed(Error),
    /// The connection seals frames (CURVE): a frame cannot be written in
    /// pieces; encode it whole ([`Connection::encode_subscribe`], ...).
    Sealed,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncodeError::NotReady => "connection not ready",
            EncodeError::BufferFull => "output buffer full",
            EncodeError::Failed(_) => "connection failed while sealing",
            EncodeError::Sealed => "sealed frames are encoded whole",
        })
    }
}

impl core::error::Error for EncodeError {}

impl From<BufferFull> for EncodeError {
    fn from(_: BufferFull) -> Self {
        EncodeError::BufferFull
    }
}

/// What [`Connection::handle_input`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The handshake is complete: messages may flow. The peer's metadata
    /// stays available through [`Connection::peer_metadata`].
    HandshakeComplete {
        /// The peer's socket type (already checked against ours).
        peer_type: SocketType,
        /// The peer's READY (or INITIATE) properties.
        peer: Metadata<'a>,
    },
    /// The peer's credentials await a verdict: answer with
    /// [`Connection::handle_auth_verdict`] (now or later; input is not
    /// consumed meanwhile).
    AuthRequest(Credentials<'a>),
    /// A whole message frame, borrowed from the input (or, for short
    /// single-frame messages to a PUB / XPUB socket that arrived split,
    /// from the connection).
    Frame {
        /// The frame body.
        data: &'a [u8],
        /// Another frame of this message follows.
        more: bool,
    },
    /// A message frame too large to lie whole in the input: its body
    /// follows as [`Event::FramePart`]s. `len` has been checked against
    /// MAXMSGSIZE, so it is safe to allocate.
    FrameHead {
        /// Total body length.
        len: usize,
        /// Another frame of this message follows.
        more: bool,
    },
    /// A sealed frame (CURVE MESSAGE) larger than the connection's capacity
    /// `N`: its `len` sealed bytes follow as [`Event::FramePart`]s; assemble
    /// them in a buffer of that size and open it with
    /// [`Connection::open_frame`]. `len` has been checked against
    /// MAXMSGSIZE (plus the sealing overhead).
    SealedHead {
        /// Sealed length.
        len: usize,
    },
    /// The next piece of the frame announced by [`Event::FrameHead`] (or
    /// [`Event::SealedHead`]).
    FramePart {
        /// The bytes.
        data: &'a [u8],
        /// This piece completes the frame.
        last: bool,
    },
    /// The peer subscribes to `topic` (a ZMTP 3.1 SUBSCRIBE command, or a
    /// single-frame message starting with byte 1). Only PUB and XPUB
    /// connections report subscriptions: other socket types ignore
    /// SUBSCRIBE and CANCEL commands (only subscribers send them, to
    /// publishers: RFC 29).
    Subscribe {
        /// The prefix.
        topic: &'a [u8],
    },
    /// The peer cancels a subscription (CANCEL, or byte 0 as above).
    Cancel {
        /// The prefix.
        topic: &'a [u8],
    },
    /// A SUBSCRIBE or CANCEL command too long for the connection's
    /// capacity `N` (PUB / XPUB only): its topic follows as
    /// [`Event::SubscriptionPart`]s. `len` (never 0) has been checked
    /// against MAXMSGSIZE (which, as in libzmq, bounds the whole command
    /// frame), so it is safe to allocate; without MAXMSGSIZE it is the
    /// peer's claim, as a data frame's length is.
    SubscriptionHead {
        /// SUBSCRIBE (`true`) or CANCEL (`false`).
        subscribe: bool,
        /// Length of the topic.
        len: usize,
    },
    /// The next piece of the topic announced by
    /// [`Event::SubscriptionHead`].
    SubscriptionPart {
        /// The bytes (never empty).
        data: &'a [u8],
        /// This piece completes the topic.
        last: bool,
    },
    /// The peer sent PING; a PONG is queued for
    /// [`Connection::poll_transmit`].
    Ping {
        /// The TTL the peer asked for (`None` for no limit).
        ttl: Option<Duration>,
    },
    /// The peer answered one of our PINGs.
    Pong,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Greeting,
    Handshake,
    Active,
    Failed(Error),
}

/// Where a frame body that spans inputs is being put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collect {
    /// Into `cmd`, as a command.
    Command,
    /// Into `cmd`, as a single-frame message to a PUB / XPUB socket (a
    /// possible ZMTP 3.0 subscription).
    Data,
    /// To the caller, as `FramePart`s.
    Passthrough,
    /// Into `cmd`, as a sealed frame to open there.
    Sealed,
    /// The first bytes of a command longer than `N` (a publisher's), into
    /// `cmd`: just enough to read its name. `len` is the body's length.
    LongName { len: usize },
    /// The topic of a long SUBSCRIBE or CANCEL, to the caller as
    /// `SubscriptionPart`s.
    LongSubscription,
}

#[derive(Debug, Clone, Copy)]
enum Src {
    Input,
    Buffer,
}

/// An event whose data is described by position, built before the borrow
/// that carries it out is taken.
#[derive(Debug, Clone, Copy)]
enum Raw {
    Ready,
    AuthRequest,
    Ping(u16),
    Pong,
    Frame(Src, usize, usize, bool),
    Subscribe(Src, usize, usize),
    Cancel(Src, usize, usize),
}

/// A ZMTP connection: greeting, security handshake, metadata, frames,
/// commands and heartbeats, as a sans-IO state machine.
///
/// `M` is the security mechanism. `N` is the connection's capacity in
/// bytes, the one limit of its fixed storage (about `4 * N` bytes in all):
/// the largest command it assembles (READY metadata, PING, short SUBSCRIBE
/// topics, ...: a larger one is [`FrameError::CommandTooLarge`], whatever
/// the chunking), the largest metadata it keeps and sends, and the longest
/// single-frame message a PUB / XPUB connection inspects for a ZMTP 3.0
/// subscription (longer ones are delivered as ordinary frames). The one
/// exception: a PUB / XPUB connection takes SUBSCRIBE and CANCEL commands
/// of any length up to MAXMSGSIZE, as libzmq does, and hands a topic
/// longer than `N` out in pieces ([`Event::SubscriptionHead`]); a longer
/// one fails the connection with [`FrameError::CommandTooLarge`] from its
/// header. (Commands of up to `N` bytes are taken even over a smaller
/// MAXMSGSIZE, where libzmq refuses them: the no_std socket sets
/// MAXMSGSIZE to its buffer less a frame header, and such a command costs
/// no memory beyond the connection's own.)
///
/// # The I/O loop
///
/// Two connections over an in-memory byte stream; a real caller reads from
/// and writes to a socket instead of the `wire` arrays:
///
/// ```
/// use zlink_mq_core::socket_type::SocketType;
/// use zlink_mq_core::time::Instant;
/// use zlink_mq_core::zmtp::frame::FrameWriter;
/// use zlink_mq_core::zmtp::null::Null;
/// use zlink_mq_core::zmtp::{Config, Connection, Event};
///
/// let now = Instant::ZERO;
/// let mut a: Connection<Null> = Connection::new(&Config::new(SocketType::Push), Null::new(false), now).unwrap();
/// let mut b: Connection<Null> = Connection::new(&Config::new(SocketType::Pull), Null::new(true), now).unwrap();
///
/// let mut wire = [0u8; 512];
/// // Handshake: move control bytes both ways until both are active.
/// fn exchange(from: &mut Connection<Null>, to: &mut Connection<Null>, wire: &mut [u8]) {
///     let n = from.poll_transmit(wire);
///     let mut pos = 0;
///     while let (used, Some(ev)) = to.handle_input(&wire[pos..n], Instant::ZERO).unwrap() {
///         pos += used;
///         assert!(matches!(ev, Event::HandshakeComplete { .. }));
///     }
/// }
/// for _ in 0..2 {
///     exchange(&mut a, &mut b, &mut wire);
///     exchange(&mut b, &mut a, &mut wire);
/// }
/// assert!(a.is_active() && b.is_active());
///
/// // Data: drain control output first, then batch messages after it.
/// let mut filled = a.poll_transmit(&mut wire);
/// let mut w = FrameWriter::with_filled(&mut wire, filled);
/// w.push_message(&[b"hello", b"world"]).unwrap();
/// filled = w.len();
///
/// // Read side: decode until the connection needs more bytes.
/// let mut pos = 0;
/// let mut got = Vec::new();
/// while pos < filled {
///     match b.handle_input(&wire[pos..filled], now).unwrap() {
///         (used, Some(Event::Frame { data, more })) => { got.push((data.to_vec(), more)); pos += used }
///         (used, _) => pos += used,
///     }
/// }
/// assert_eq!(got, [(b"hello".to_vec(), true), (b"world".to_vec(), false)]);
/// ```
#[derive(Debug)]
pub struct Connection<M: Mechanism = AnyMechanism, const N: usize = DEFAULT_CAPACITY> {
    state: State,
    mechanism: M,
    socket_type: SocketType,
    greeting: GreetingParser,
    peer_greeting: Option<Greeting>,
    peer_type: Option<SocketType>,
    decoder: Decoder,
    collect: Collect,
    /// Reassembly of frames that span inputs (commands, and PUB / XPUB
    /// single-frame messages).
    cmd: [u8; N],
    cmd_len: usize,
    /// We are PUB / XPUB: subscriptions are ours to apply. SUBSCRIBE and
    /// CANCEL commands of any length (up to MAXMSGSIZE) are accepted, and
    /// single-frame messages starting with 0 or 1 are subscriptions too
    /// (ZMTP 3.0, and libzmq's XSUB passing user messages).
    publisher: bool,
    /// The last data frame had MORE set.
    in_message: bool,
    our_meta: Vec<u8, N>,
    peer_meta: Vec<u8, N>,
    /// Staged control output: `tx[tx_start..tx_end]`.
    tx: [u8; N],
    tx_start: usize,
    tx_end: usize,
    timers: Timers,
    heartbeat: Heartbeat,
    ping_due: bool,
    /// Contexts of the PINGs still to answer, oldest first: several PINGs
    /// can arrive in one read, and each gets its PONG (as libzmq, which
    /// answers each before decoding on). Bounded: a peer that pings faster
    /// than it reads loses the excess PONGs.
    pongs: Deque<Vec<u8, MAX_PING_CONTEXT_LEN>, MAX_PENDING_PONGS>,
    awaiting_verdict: bool,
    peer_error: Vec<u8, 255>,
    /// Active with a mechanism that seals every frame (CURVE).
    sealed: bool,
    /// Bytes of a sealed frame larger than `N`, lying whole in the input,
    /// still to hand out as `FramePart`s.
    sealed_pass: usize,
    /// MAXMSGSIZE (`u64::MAX`: none).
    max_data: u64,
}

impl<M: Mechanism, const N: usize> Connection<M, N> {
    /// A connection that has sent nothing yet; its greeting is queued for
    /// [`poll_transmit`](Connection::poll_transmit) and its handshake
    /// deadline runs from `now`.
    pub fn new(config: &Config<'_>, mechanism: M, now: Instant) -> Result<Self, ConfigError> {
        if config.identity.len() > MAX_IDENTITY_LEN || config.identity.first() == Some(&0) {
            return Err(ConfigError::BadIdentity);
        }
        let mut meta = [0u8; N];
        let mut len = 0;
        let mut add = |name: &str, value: &[u8]| -> Result<(), ConfigError> {
            if name.is_empty() || name.len() > 255 {
                return Err(ConfigError::BadPropertyName);
            }
            len += write_property(&mut meta[len..], name, value)
                .ok_or(ConfigError::CapacityTooSmall)?;
            Ok(())
        };
        add(
            metadata::SOCKET_TYPE,
            config.socket_type.zmtp_name().as_bytes(),
        )?;
        if matches!(
            config.socket_type,
            SocketType::Req | SocketType::Dealer | SocketType::Router
        ) {
            add(metadata::IDENTITY, config.identity)?;
        }
        if let Some(r) = config.resource {
            add(metadata::RESOURCE, r)?;
        }
        for (name, value) in config.properties {
            add(name, value)?;
        }
        let our_meta = Vec::from_slice(&meta[..len]).map_err(|_| ConfigError::CapacityTooSmall)?;
        // Room for our greeting, the largest command with its header, and a
        // few short commands (WELCOME, PONG) staged behind it.
        if GREETING_LEN + 2 * MAX_HEADER_LEN + 16 + mechanism.max_command_len(len) > N {
            return Err(ConfigError::CapacityTooSmall);
        }
        // Zero or sub-millisecond intervals would fire forever: treat them
        // as "off", as libzmq treats 0.
        let nonzero = |d: Option<Duration>| d.filter(|d| d.as_millis() > 0);
        let heartbeat = Heartbeat {
            ivl: nonzero(config.heartbeat.ivl),
            timeout: nonzero(config.heartbeat.timeout.or(config.heartbeat.ivl)),
            ttl: config.heartbeat.ttl,
        };
        let mut timers = Timers::default();
        if let Some(ivl) = nonzero(config.handshake_ivl) {
            timers.set(Timer::Handshake, now + ivl);
        }
        // Commands fit `N`, except a publisher's subscriptions: libzmq sends
        // topics of any length as commands to ZMTP 3.1 peers, bounded only
        // by MAXMSGSIZE (which bounds every frame, commands included).
        let publisher = matches!(config.socket_type, SocketType::Pub | SocketType::XPub);
        let max_data = config.max_msg_size.unwrap_or(u64::MAX);
        let max_command = if publisher {
            max_data.max(N as u64)
        } else {
            N as u64
        };
        let mut tx = [0u8; N];
        tx[..GREETING_LEN]
            .copy_from_slice(&Greeting::ours(mechanism.name(), mechanism.as_server()).to_bytes());
        Ok(Connection {
            state: State::Greeting,
            socket_type: config.socket_type,
            greeting: GreetingParser::new(),
            peer_greeting: None,
            peer_type: None,
            decoder: Decoder::new(max_data, max_command),
            collect: Collect::Passthrough,
            cmd: [0; N],
            cmd_len: 0,
            publisher,
            in_message: false,
            our_meta,
            peer_meta: Vec::new(),
            tx,
            tx_start: 0,
            tx_end: GREETING_LEN,
            timers,
            heartbeat,
            ping_due: false,
            pongs: Deque::new(),
            awaiting_verdict: false,
            peer_error: Vec::new(),
            sealed: false,
            sealed_pass: 0,
            max_data: config.max_msg_size.unwrap_or(u64::MAX),
            mechanism,
        })
    }

    /// Our socket type.
    pub fn socket_type(&self) -> SocketType {
        self.socket_type
    }

    /// The handshake is complete and the connection has not failed:
    /// messages may be encoded (after draining
    /// [`poll_transmit`](Connection::poll_transmit)).
    pub fn is_active(&self) -> bool {
        self.state == State::Active
    }

    /// Why the connection failed, if it did.
    pub fn failure(&self) -> Option<Error> {
        match self.state {
            State::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The peer's greeting, once received.
    pub fn peer_greeting(&self) -> Option<&Greeting> {
        self.peer_greeting.as_ref()
    }

    /// The peer's socket type, once its metadata has been accepted.
    pub fn peer_socket_type(&self) -> Option<SocketType> {
        self.peer_type
    }

    /// The peer's metadata, once accepted (READY, or INITIATE for a PLAIN
    /// server).
    pub fn peer_metadata(&self) -> Option<Metadata<'_>> {
        self.peer_type
            .and_then(|_| Metadata::parse(&self.peer_meta).ok())
    }

    /// The reason the peer gave in its ERROR command, after
    /// [`Error::PeerError`].
    pub fn peer_error_reason(&self) -> Option<&[u8]> {
        (self.state == State::Failed(Error::PeerError)).then_some(&self.peer_error[..])
    }

    /// The mechanism (for example to read a PLAIN server's user name).
    pub fn mechanism(&self) -> &M {
        &self.mechanism
    }

    /// Feeds bytes received from the peer.
    ///
    /// Returns how many bytes of `input` were used and at most one event,
    /// which may borrow from `input`. Call again with the unused rest (and
    /// then with new input) until it returns `(_, None)`: then every byte
    /// was used, except while an [`Event::AuthRequest`] awaits its verdict,
    /// when nothing more is read. An event that became due without new
    /// input (a handshake completed by [`poll_transmit`] or a verdict) is
    /// reported by a call with empty input.
    ///
    /// After an error the connection is failed: every later call returns
    /// the same error. Flush [`poll_transmit`] (it may hold an ERROR for
    /// the peer), then close.
    ///
    /// [`poll_transmit`]: Connection::poll_transmit
    pub fn handle_input<'a>(
        &'a mut self,
        input: &'a [u8],
        now: Instant,
    ) -> Result<(usize, Option<Event<'a>>), Error> {
        let mut pos = 0;
        match self.state {
            State::Active => {}
            State::Failed(e) => return Err(e),
            State::Greeting => {
                let (used, greeting) = match self.greeting.feed(input) {
                    Ok(r) => r,
                    Err(e) => return Err(self.fail(e.into())),
                };
                pos = used;
                let Some(greeting) = greeting else {
                    return Ok((pos, None));
                };
                if let Err(e) = self.on_greeting(greeting) {
                    return Err(self.fail(e));
                }
                if self.mechanism.verdict_first() {
                    // NULL with a ZAP domain: judged before READY.
                    self.awaiting_verdict = true;
                    return Ok((pos, Some(self.materialize(Raw::AuthRequest, input))));
                }
            }
            State::Handshake => {
                if self.try_complete(now)? {
                    return Ok((0, Some(self.materialize(Raw::Ready, input))));
                }
            }
        }
        loop {
            if self.awaiting_verdict {
                return Ok((pos, None));
            }
            if self.sealed_pass > 0 {
                let rest = &input[pos..];
                if rest.is_empty() {
                    return Ok((pos, None));
                }
                let take = self.sealed_pass.min(rest.len());
                self.sealed_pass -= take;
                let last = self.sealed_pass == 0;
                let data = &rest[..take];
                return Ok((pos + take, Some(Event::FramePart { data, last })));
            }
            let rest = &input[pos..];
            // While a long command's name is read, take no byte of what
            // follows it: the topic goes out as parts, not into `cmd`.
            let rest = match self.collect {
                Collect::LongName { .. } => &rest[..rest.len().min(self.long_name_missing())],
                _ => rest,
            };
            let (used, decoded) = match self.decoder.decode(rest) {
                Ok(r) => r,
                Err(e) => return Err(self.fail(e.into())),
            };
            pos += used;
            let Some(decoded) = decoded else {
                return Ok((pos, None));
            };
            if matches!(
                decoded,
                Decoded::Frame { .. } | Decoded::Part { last: true, .. }
            ) {
                // A whole frame proves the peer alive; a byte of one does
                // not (libzmq cancels these timers per decoded frame).
                self.timers.clear(Timer::Timeout);
                self.timers.clear(Timer::Ttl);
            }
            let raw = match decoded {
                Decoded::Frame { body, .. } if self.sealed => {
                    let len = body.len();
                    if len > N {
                        // Too large to open here: the caller assembles it.
                        self.sealed_pass = len;
                        return Ok((pos - len, Some(Event::SealedHead { len })));
                    }
                    self.cmd[..len].copy_from_slice(body);
                    match self.open_in_buffer(len, input, now) {
                        Ok(Some(raw)) => raw,
                        Ok(None) => continue,
                        Err(e) => return Err(self.fail(e)),
                    }
                }
                Decoded::Head { len, .. } if self.sealed => {
                    self.cmd_len = 0;
                    if len <= N {
                        self.collect = Collect::Sealed;
                        continue;
                    }
                    self.collect = Collect::Passthrough;
                    return Ok((pos, Some(Event::SealedHead { len })));
                }
                Decoded::Frame { flags, body } if !flags.is_command() => {
                    if self.state != State::Active {
                        return Err(self.fail(Error::UnexpectedData));
                    }
                    if self.publisher {
                        let whole_message = !self.in_message && !flags.more();
                        self.in_message = flags.more();
                        // Same size rule as for split frames, so that the
                        // chunking never changes the meaning.
                        if whole_message && body.len() <= N {
                            if let Some((&b @ (0 | 1), topic)) = body.split_first() {
                                return Ok((pos, Some(subscription(b, topic))));
                            }
                        }
                    }
                    return Ok((
                        pos,
                        Some(Event::Frame {
                            data: body,
                            more: flags.more(),
                        }),
                    ));
                }
                Decoded::Frame { body, .. } => {
                    match self.on_command(Src::Input, pos - body.len(), pos, input, now) {
                        Ok(Some(raw)) => raw,
                        Ok(None) => continue,
                        Err(e) => return Err(self.fail(e)),
                    }
                }
                Decoded::Head { flags, len } => {
                    self.cmd_len = 0;
                    if flags.is_command() {
                        if len <= N {
                            self.collect = Collect::Command;
                        } else if self.state == State::Active {
                            // A publisher's (the decoder refuses others'):
                            // a subscription, or refused once named.
                            self.collect = Collect::LongName { len };
                        } else {
                            let e = FrameError::CommandTooLarge {
                                len: len as u64,
                                max: N as u64,
                            };
                            return Err(self.fail(e.into()));
                        }
                        continue;
                    }
                    if self.state != State::Active {
                        return Err(self.fail(Error::UnexpectedData));
                    }
                    if self.publisher {
                        let whole_message = !self.in_message && !flags.more();
                        self.in_message = flags.more();
                        if whole_message && len <= N {
                            self.collect = Collect::Data;
                            continue;
                        }
                    }
                    self.collect = Collect::Passthrough;
                    return Ok((
                        pos,
                        Some(Event::FrameHead {
                            len,
                            more: flags.more(),
                        }),
                    ));
                }
                Decoded::Part { data, last } => {
                    match self.collect {
                        Collect::Passthrough => {
                            return Ok((pos, Some(Event::FramePart { data, last })));
                        }
                        Collect::LongSubscription => {
                            return Ok((pos, Some(Event::SubscriptionPart { data, last })));
                        }
                        Collect::LongName { len } => match self.long_name(data, len) {
                            Ok(Some(subscribe)) => {
                                self.collect = Collect::LongSubscription;
                                let len = len - self.cmd_len;
                                return Ok((pos, Some(Event::SubscriptionHead { subscribe, len })));
                            }
                            Ok(None) => continue,
                            Err(e) => return Err(self.fail(e)),
                        },
                        Collect::Command | Collect::Data | Collect::Sealed => {}
                    }
                    let end = self.cmd_len + data.len();
                    // The decoder checked the body against N: this always fits.
                    let Some(dst) = self.cmd.get_mut(self.cmd_len..end) else {
                        let e = FrameError::CommandTooLarge {
                            len: end as u64,
                            max: N as u64,
                        };
                        return Err(self.fail(e.into()));
                    };
                    dst.copy_from_slice(data);
                    self.cmd_len = end;
                    if !last {
                        continue;
                    }
                    if self.collect == Collect::Data {
                        match self.cmd[..end].first() {
                            Some(&1) => Raw::Subscribe(Src::Buffer, 1, end),
                            Some(&0) => Raw::Cancel(Src::Buffer, 1, end),
                            _ => Raw::Frame(Src::Buffer, 0, end, false),
                        }
                    } else if self.collect == Collect::Sealed {
                        match self.open_in_buffer(end, input, now) {
                            Ok(Some(raw)) => raw,
                            Ok(None) => continue,
                            Err(e) => return Err(self.fail(e)),
                        }
                    } else {
                        match self.on_command(Src::Buffer, 0, end, input, now) {
                            Ok(Some(raw)) => raw,
                            Ok(None) => continue,
                            Err(e) => return Err(self.fail(e)),
                        }
                    }
                }
            };
            return Ok((pos, Some(self.materialize(raw, input))));
        }
    }

    /// The caller's verdict on an [`Event::AuthRequest`]. Afterwards, flush
    /// [`poll_transmit`](Connection::poll_transmit) and resume
    /// [`handle_input`](Connection::handle_input) with the input it left
    /// unused. A rejection fails the connection with
    /// [`Error::AuthenticationFailed`] after queueing ERROR for the peer.
    pub fn handle_auth_verdict(&mut self, verdict: AuthVerdict) -> Result<(), Error> {
        if let State::Failed(e) = self.state {
            return Err(e);
        }
        if !self.awaiting_verdict {
            return Err(Error::NoAuthRequest);
        }
        self.awaiting_verdict = false;
        if let Err(e) = self.mechanism.handle_auth_verdict(verdict) {
            return Err(self.fail(e));
        }
        self.pump();
        match self.mechanism.failure() {
            Some(e) => Err(self.fail(e)),
            None => Ok(()),
        }
    }

    /// The earliest deadline at which [`handle_timeout`] must be called, if
    /// any.
    ///
    /// [`handle_timeout`]: Connection::handle_timeout
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Fires every timer due at `now`: queues a PING, or fails the
    /// connection (handshake or heartbeat timeout).
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        if let State::Failed(e) = self.state {
            return Err(e);
        }
        while let Some(timer) = self.timers.pop_expired(now) {
            match timer {
                Timer::Handshake => return Err(self.fail(Error::HandshakeTimeout)),
                Timer::Timeout => return Err(self.fail(Error::HeartbeatTimeout)),
                Timer::Ttl => return Err(self.fail(Error::PeerTtlExpired)),
                Timer::Ping => {
                    self.ping_due = true;
                    if let Some(ivl) = self.heartbeat.ivl {
                        self.timers.set(Timer::Ping, now + ivl);
                    }
                    if let Some(timeout) = self.heartbeat.timeout {
                        if self.timers.get(Timer::Timeout).is_none() {
                            self.timers.set(Timer::Timeout, now + timeout);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes pending control output (greeting, handshake commands, PING,
    /// PONG, a final ERROR) into `out`; returns the bytes written. Any size
    /// of `out` works: what does not fit stays queued. Drain it before
    /// encoding messages after it.
    pub fn poll_transmit(&mut self, out: &mut [u8]) -> usize {
        let mut written = 0;
        while written < out.len() {
            if self.tx_start == self.tx_end {
                self.tx_start = 0;
                self.tx_end = 0;
                self.stage_output();
                if self.tx_end == 0 {
                    break;
                }
            }
            let n = (self.tx_end - self.tx_start).min(out.len() - written);
            out[written..written + n].copy_from_slice(&self.tx[self.tx_start..self.tx_start + n]);
            self.tx_start += n;
            written += n;
        }
        written
    }

    /// Whether [`poll_transmit`](Connection::poll_transmit) has anything to
    /// write.
    pub fn has_pending_transmit(&self) -> bool {
        self.tx_start < self.tx_end
            || match self.state {
                State::Handshake => self.mechanism.next_command_len(&self.our_meta).is_some(),
                State::Active => self.ping_due || !self.pongs.is_empty(),
                _ => false,
            }
    }

    /// Whether frames are sealed (CURVE, once active): they must then be
    /// encoded with [`encode_frame`](Connection::encode_frame), never with
    /// a bare [`FrameWriter`] or a gathered header and body.
    #[inline]
    pub fn seals_frames(&self) -> bool {
        self.sealed
    }

    /// Bytes a data frame with a `len`-byte body takes on the wire: header,
    /// body and, when sealing, the sealing overhead.
    #[inline]
    pub fn encoded_len(&self, len: usize) -> usize {
        let len = if self.sealed {
            len + self.mechanism.seal_overhead().unwrap_or(0)
        } else {
            len
        };
        header_len(len) + len
    }

    /// Appends one data frame of a message (`more`: another frame
    /// follows), after draining [`poll_transmit`](Connection::poll_transmit).
    /// NULL and PLAIN: exactly [`FrameWriter::push`]. CURVE: sealed in a
    /// MESSAGE ([`encoded_len`](Connection::encoded_len) bytes).
    #[inline]
    pub fn encode_frame(
        &mut self,
        out: &mut FrameWriter<'_>,
        body: &[u8],
        more: bool,
    ) -> Result<(), EncodeError> {
        if self.state != State::Active {
            return Err(EncodeError::NotReady);
        }
        if !self.sealed {
            return Ok(out.push(body, more)?);
        }
        self.encode_sealed(out, Flags::data(more), &[body])
    }

    fn encode_sealed(
        &mut self,
        out: &mut FrameWriter<'_>,
        flags: Flags,
        parts: &[&[u8]],
    ) -> Result<(), EncodeError> {
        let len = parts.iter().map(|p| p.len()).sum::<usize>()
            + self.mechanism.seal_overhead().unwrap_or(0);
        let mechanism = &mut self.mechanism;
        match out.push_with(len, 0, |dst| mechanism.seal(dst, flags, parts))? {
            Ok(()) => Ok(()),
            Err(e) => Err(EncodeError::Failed(self.fail(e))),
        }
    }

    /// Opens a sealed frame announced by [`Event::SealedHead`], assembled
    /// by the caller in `sealed` (exactly `len` bytes), in place, and
    /// returns what it held: [`Event::Frame`] borrowing from `sealed`, a
    /// subscription, PING or PONG, or nothing (a command to ignore). A
    /// frame that does not open fails the connection.
    pub fn open_frame<'b>(
        &'b mut self,
        sealed: &'b mut [u8],
        now: Instant,
    ) -> Result<Option<Event<'b>>, Error> {
        if let State::Failed(e) = self.state {
            return Err(e);
        }
        if !self.sealed {
            return Err(self.fail(Error::UnexpectedData));
        }
        let (flags, start) = match self.mechanism.open(sealed) {
            Ok(x) => x,
            Err(e) => return Err(self.fail(e)),
        };
        let sealed: &'b [u8] = sealed;
        match self.on_opened(flags, Src::Input, start, sealed.len(), sealed, now) {
            Ok(raw) => Ok(raw.map(|raw| self.materialize(raw, sealed))),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Appends a SUBSCRIBE for `topic` in the form the peer understands: a
    /// SUBSCRIBE command for ZMTP 3.1, a data frame `1 + topic` for 3.0
    /// (sealed, when the mechanism seals).
    pub fn encode_subscribe(
        &mut self,
        out: &mut FrameWriter<'_>,
        topic: &[u8],
    ) -> Result<(), EncodeError> {
        self.encode_subscription(out, topic, true)
    }

    /// Appends a CANCEL for `topic` (a CANCEL command for ZMTP 3.1, a data
    /// frame `0 + topic` for 3.0).
    pub fn encode_cancel(
        &mut self,
        out: &mut FrameWriter<'_>,
        topic: &[u8],
    ) -> Result<(), EncodeError> {
        self.encode_subscription(out, topic, false)
    }

    /// Appends only the head of a SUBSCRIBE (`subscribe`) or CANCEL for a
    /// topic of `topic_len` bytes, for a topic too long to copy (or to fit
    /// the buffer): the caller sends the rest itself right after the buffer
    /// (gather write), from the subscription message as libzmq represents
    /// it inside a socket, `1` or `0` followed by the topic. Returns where
    /// in that message the rest starts: 1 for a ZMTP 3.1 command (its name
    /// stands for the flag byte), 0 for a 3.0 data frame (which is the
    /// message itself).
    pub fn encode_subscription_head(
        &self,
        out: &mut FrameWriter<'_>,
        subscribe: bool,
        topic_len: usize,
    ) -> Result<usize, EncodeError> {
        let (State::Active, Some(peer)) = (self.state, self.peer_greeting) else {
            return Err(EncodeError::NotReady);
        };
        if self.sealed {
            // A sealed frame cannot be sent in two pieces.
            return Err(EncodeError::Sealed);
        }
        if peer.is_v3_1() {
            let name: &[u8] = if subscribe { b"SUBSCRIBE" } else { b"CANCEL" };
            out.push_command_head(name, topic_len)?;
            Ok(1)
        } else {
            out.push_header(1 + topic_len, false)?;
            Ok(0)
        }
    }

    fn encode_subscription(
        &mut self,
        out: &mut FrameWriter<'_>,
        topic: &[u8],
        subscribe: bool,
    ) -> Result<(), EncodeError> {
        let (State::Active, Some(peer)) = (self.state, self.peer_greeting) else {
            return Err(EncodeError::NotReady);
        };
        if self.sealed {
            return if peer.is_v3_1() {
                let name: &[u8] = if subscribe {
                    b"\x09SUBSCRIBE"
                } else {
                    b"\x06CANCEL"
                };
                self.encode_sealed(out, Flags::command(), &[name, topic])
            } else {
                self.encode_sealed(out, Flags::data(false), &[&[u8::from(subscribe)], topic])
            };
        }
        if peer.is_v3_1() {
            out.push_command(if subscribe { b"SUBSCRIBE" } else { b"CANCEL" }, topic)?;
        } else {
            out.push_with_prefix(u8::from(subscribe), topic, false)?;
        }
        Ok(())
    }

    /// Bytes still needed to know a long command's name: its length
    /// byte, then the name.
    fn long_name_missing(&self) -> usize {
        match self.cmd[..self.cmd_len].first() {
            None => 1,
            Some(&name_len) => 1 + usize::from(name_len) - self.cmd_len,
        }
    }

    /// Takes the next bytes of a long command's name (never more than
    /// [`long_name_missing`](Self::long_name_missing)). Once the name is
    /// complete: `Some(true)` for SUBSCRIBE, `Some(false)` for CANCEL;
    /// any other command this long is refused. `len` is the body's length.
    fn long_name(&mut self, data: &[u8], len: usize) -> Result<Option<bool>, Error> {
        let too_large = Error::Frame(FrameError::CommandTooLarge {
            len: len as u64,
            max: N as u64,
        });
        let end = self.cmd_len + data.len();
        let Some(dst) = self.cmd.get_mut(self.cmd_len..end) else {
            return Err(too_large);
        };
        dst.copy_from_slice(data);
        self.cmd_len = end;
        match long_command_name(&self.cmd[..end]) {
            None => Ok(None),
            Some(Ok(subscribe)) => Ok(Some(subscribe)),
            Some(Err(())) => Err(too_large),
        }
    }

    fn on_greeting(&mut self, greeting: Greeting) -> Result<(), Error> {
        if greeting.mechanism != *self.mechanism.name().as_field() {
            return Err(Error::MechanismMismatch);
        }
        self.peer_greeting = Some(greeting);
        self.state = State::Handshake;
        self.pump();
        Ok(())
    }

    fn on_command(
        &mut self,
        src: Src,
        start: usize,
        end: usize,
        input: &[u8],
        now: Instant,
    ) -> Result<Option<Raw>, Error> {
        let body = match src {
            Src::Input => &input[start..end],
            Src::Buffer => &self.cmd[start..end],
        };
        if body.len() > N {
            // A publisher's decoder lets commands longer than `N` through
            // for its subscriptions; one that lay whole in the input gets
            // here, and is judged as if it had come in parts.
            let too_large = Error::Frame(FrameError::CommandTooLarge {
                len: body.len() as u64,
                max: N as u64,
            });
            if self.state != State::Active {
                return Err(too_large);
            }
            return match long_command_name(body) {
                Some(Ok(true)) => Ok(Some(Raw::Subscribe(src, start + 10, end))),
                Some(Ok(false)) => Ok(Some(Raw::Cancel(src, start + 7, end))),
                _ => Err(too_large),
            };
        }
        let command = Command::parse(body).map_err(|_| Error::MalformedCommand)?;
        if let Command::Error { reason } = command {
            self.peer_error.clear();
            // At most 255 bytes: its length prefix is one byte.
            let _ = self.peer_error.extend_from_slice(reason);
            return Err(Error::PeerError);
        }
        if self.state == State::Handshake {
            // The mechanism may open boxes in place: it gets the body in
            // `cmd` (the decoder bounds commands by N).
            let len = end - start;
            if let Src::Input = src {
                self.cmd[..len].copy_from_slice(&input[start..end]);
            } else if start > 0 {
                self.cmd.copy_within(start..end, 0);
            }
            let step = self.mechanism.handle_command(&mut self.cmd[..len], now)?;
            let (raw, auth) = match step {
                Step::Continue => (None, false),
                Step::PeerMetadata(raw) => (Some(raw), false),
                Step::AuthRequestAndMetadata(raw) => (Some(raw), true),
                Step::AuthRequest => (None, true),
            };
            if let Some(raw) = raw {
                let peer = Metadata::parse(raw)?.validate_peer(self.socket_type)?;
                self.peer_meta.clear();
                self.peer_meta
                    .extend_from_slice(raw)
                    .map_err(|_| FrameError::CommandTooLarge {
                        len: raw.len() as u64,
                        max: N as u64,
                    })?;
                self.peer_type = Some(peer);
            }
            if auth {
                // The trait's contract; a mechanism that breaks it fails
                // the connection rather than asking about nothing.
                if self.mechanism.credentials().is_none() {
                    return Err(Error::UnexpectedCommand);
                }
                self.awaiting_verdict = true;
                return Ok(Some(Raw::AuthRequest));
            }
            return Ok(self.try_complete(now)?.then_some(Raw::Ready));
        }
        Ok(match command {
            Command::Ping {
                ttl_deciseconds,
                context,
            } => {
                if ttl_deciseconds > 0 && self.timers.get(Timer::Ttl).is_none() {
                    self.timers
                        .set(Timer::Ttl, now + Command::ttl(ttl_deciseconds));
                }
                if let Ok(ctx) = Vec::from_slice(context) {
                    let _ = self.pongs.push_back(ctx);
                }
                Some(Raw::Ping(ttl_deciseconds))
            }
            Command::Pong { .. } => Some(Raw::Pong),
            Command::Subscribe { topic } if self.publisher => {
                Some(Raw::Subscribe(src, end - topic.len(), end))
            }
            Command::Cancel { topic } if self.publisher => {
                Some(Raw::Cancel(src, end - topic.len(), end))
            }
            // RFC 23: unknown commands are ignored; so is a late READY.
            _ => None,
        })
    }

    /// Stages what the mechanism wants to send, then, if both sides are
    /// done, becomes active. Errors are not yet recorded as the failure.
    fn try_complete(&mut self, now: Instant) -> Result<bool, Error> {
        self.pump();
        if let Some(e) = self.mechanism.failure() {
            return Err(self.fail(e));
        }
        if self.awaiting_verdict || !self.mechanism.is_complete() || self.peer_type.is_none() {
            return Ok(false);
        }
        self.state = State::Active;
        self.timers.clear(Timer::Handshake);
        if let Some(overhead) = self.mechanism.seal_overhead() {
            // Every frame is a sealed MESSAGE from now on, in a data frame or
            // (some peers) a command frame: both are bounded as data.
            self.sealed = true;
            let max = self.max_data.saturating_add(overhead as u64);
            self.decoder.set_limits(max, max.max(N as u64));
        }
        // PING is ZMTP 3.1's, but libzmq sends it to 3.0 peers too (and
        // so times out a 3.0 peer that stays silent): as libzmq.
        if let Some(ivl) = self.heartbeat.ivl {
            self.timers.set(Timer::Ping, now + ivl);
        }
        Ok(true)
    }

    fn materialize<'a>(&'a self, raw: Raw, input: &'a [u8]) -> Event<'a> {
        let slice = |src: Src, start: usize, end: usize| -> &'a [u8] {
            match src {
                Src::Input => &input[start..end],
                Src::Buffer => &self.cmd[start..end],
            }
        };
        match raw {
            Raw::Ready => Event::HandshakeComplete {
                // Set before `Raw::Ready` is produced.
                peer_type: self.peer_type.unwrap_or(self.socket_type),
                peer: Metadata::parse(&self.peer_meta).unwrap_or(Metadata::EMPTY),
            },
            Raw::AuthRequest => match self.mechanism.credentials() {
                Some(c) => Event::AuthRequest(c),
                None => Event::AuthRequest(Credentials::Plain {
                    username: &[],
                    password: &[],
                }),
            },
            Raw::Ping(ttl) => Event::Ping {
                ttl: (ttl > 0).then(|| Command::ttl(ttl)),
            },
            Raw::Pong => Event::Pong,
            Raw::Frame(src, s, e, more) => Event::Frame {
                data: slice(src, s, e),
                more,
            },
            Raw::Subscribe(src, s, e) => Event::Subscribe {
                topic: slice(src, s, e),
            },
            Raw::Cancel(src, s, e) => Event::Cancel {
                topic: slice(src, s, e),
            },
        }
    }

    /// Records the failure (once), queues ERROR for handshake failures the
    /// peer should hear about, and stops every timer.
    fn fail(&mut self, e: Error) -> Error {
        if let State::Failed(first) = self.state {
            return first;
        }
        if self.state == State::Handshake {
            if let Some(reason) = e.error_reason() {
                self.stage_command(b"ERROR", &[&[reason.len() as u8], reason]);
            }
        }
        self.state = State::Failed(e);
        self.timers.clear_all();
        self.ping_due = false;
        self.pongs.clear();
        self.awaiting_verdict = false;
        e
    }

    fn stage_output(&mut self) {
        match self.state {
            State::Handshake => self.pump(),
            State::Active => {
                while let Some(ctx) = self.pongs.pop_front() {
                    if !self.stage_command(b"PONG", &[&ctx]) {
                        // No room: it goes first next time (it came out of
                        // the front, so there is room for it there).
                        let _ = self.pongs.push_front(ctx);
                        break;
                    }
                }
                if self.ping_due {
                    let ttl = self.heartbeat.ttl.map_or(0, ttl_to_deciseconds);
                    if self.stage_command(b"PING", &[&ttl.to_be_bytes()]) {
                        self.ping_due = false;
                    }
                }
            }
            State::Greeting | State::Failed(_) => {}
        }
    }

    /// Stages every command the mechanism has ready, while there is room.
    fn pump(&mut self) {
        while self.state == State::Handshake {
            let Some(len) = self.mechanism.next_command_len(&self.our_meta) else {
                break;
            };
            let h = header_len(len);
            if !self.reserve(h + len) {
                break;
            }
            let at = self.tx_end;
            encode_header(&mut self.tx[at..], len, FLAG_COMMAND);
            self.mechanism
                .write_command(&self.our_meta, &mut self.tx[at + h..at + h + len]);
            self.tx_end += h + len;
        }
    }

    /// Stages one command frame (sealed once a sealing handshake is done);
    /// `false` if there is no room.
    fn stage_command(&mut self, name: &[u8], parts: &[&[u8]]) -> bool {
        let len = 1 + name.len() + parts.iter().map(|p| p.len()).sum::<usize>();
        if self.sealed {
            return self.stage_sealed(name, parts, len);
        }
        let h = header_len(len);
        if !self.reserve(h + len) {
            return false;
        }
        let out = &mut self.tx[self.tx_end..];
        encode_header(out, len, FLAG_COMMAND);
        super::mechanism::write_command_body(&mut out[h..], name, parts);
        self.tx_end += h + len;
        true
    }

    /// Stages a command (PING, PONG: at most two parts) sealed in a data
    /// frame; `false` if there is no room. A sealing failure fails the
    /// connection.
    fn stage_sealed(&mut self, name: &[u8], parts: &[&[u8]], len: usize) -> bool {
        let overhead = self.mechanism.seal_overhead().unwrap_or(0);
        let sealed = len + overhead;
        let h = header_len(sealed);
        if parts.len() > 2 || !self.reserve(h + sealed) {
            return false;
        }
        let name_len = [name.len() as u8];
        let mut segments: [&[u8]; 4] = [&name_len, name, &[], &[]];
        segments[2..2 + parts.len()].copy_from_slice(parts);
        let at = self.tx_end;
        encode_header(&mut self.tx[at..], sealed, 0);
        let out = &mut self.tx[at + h..at + h + sealed];
        match self.mechanism.seal(out, Flags::command(), &segments) {
            Ok(()) => {
                self.tx_end += h + sealed;
                true
            }
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    /// Opens the sealed frame in `cmd[..len]` and handles what it holds.
    fn open_in_buffer(
        &mut self,
        len: usize,
        input: &[u8],
        now: Instant,
    ) -> Result<Option<Raw>, Error> {
        let (flags, start) = self.mechanism.open(&mut self.cmd[..len])?;
        self.on_opened(flags, Src::Buffer, start, len, input, now)
    }

    /// A frame that came out of a sealed one: a command, or data (with the
    /// PUB / XPUB subscription rule of plain frames).
    fn on_opened(
        &mut self,
        flags: Flags,
        src: Src,
        start: usize,
        end: usize,
        input: &[u8],
        now: Instant,
    ) -> Result<Option<Raw>, Error> {
        if flags.is_command() {
            return self.on_command(src, start, end, input, now);
        }
        if self.publisher {
            let whole_message = !self.in_message && !flags.more();
            self.in_message = flags.more();
            // The size rule of clear frames: longer than N is a message.
            if whole_message && end - start <= N {
                let first = match src {
                    Src::Input => input.get(start),
                    Src::Buffer => self.cmd.get(start),
                };
                match first.filter(|_| start < end) {
                    Some(&1) => return Ok(Some(Raw::Subscribe(src, start + 1, end))),
                    Some(&0) => return Ok(Some(Raw::Cancel(src, start + 1, end))),
                    _ => {}
                }
            }
        }
        Ok(Some(Raw::Frame(src, start, end, flags.more())))
    }

    /// Makes room for `n` more staged bytes, compacting if needed.
    fn reserve(&mut self, n: usize) -> bool {
        if N - self.tx_end >= n {
            return true;
        }
        self.tx.copy_within(self.tx_start..self.tx_end, 0);
        self.tx_end -= self.tx_start;
        self.tx_start = 0;
        N - self.tx_end >= n
    }
}

/// Reads the name at the front of a command longer than a connection's
/// capacity: `Some(Ok(true))` for SUBSCRIBE, `Some(Ok(false))` for CANCEL,
/// `Some(Err(()))` for any other (refused: only subscriptions may be this
/// long), `None` while `prefix` is too short to tell.
fn long_command_name(prefix: &[u8]) -> Option<Result<bool, ()>> {
    let (&name_len, name) = prefix.split_first()?;
    // Decide on the length byte alone when it names neither.
    if !matches!(name_len, 6 | 9) {
        return Some(Err(()));
    }
    match name.get(..usize::from(name_len))? {
        b"SUBSCRIBE" => Some(Ok(true)),
        b"CANCEL" => Some(Ok(false)),
        _ => Some(Err(())),
    }
}

fn subscription(first: u8, topic: &[u8]) -> Event<'_> {
    if first == 1 {
        Event::Subscribe { topic }
    } else {
        Event::Cancel { topic }
    }
}
