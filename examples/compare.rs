//! zlink-mq against libzmq, side by side, in one run.
//!
//! ```text
//! cargo run --release --example compare                 # the full default run
//! cargo run --release --example compare -- --quick      # a smoke test
//! cargo run --release --example compare -- --help
//! ```
//!
//! For every pattern (PAIR, PUBSUB, DEALER_DEALER, DEALER_ROUTER,
//! PUSH_PULL), transport (inproc, ipc, tcp) and message size, both libraries
//! move the same number of messages from a sender thread to a receiver
//! thread, and REQ_REP ping-pong measures one-way latency. libzmq is the
//! one users run: the system's `libzmq.so.5` when the machine has one
//! (Debian / Ubuntu: `libzmq5`), else the vendored 4.3.4 sources built as
//! distributions configure them (eventfd signaler, epoll, accept4, ...; the
//! `compare-libzmq` crate), loaded with `dlopen`. The header names which,
//! its version and its signaler. (The `zmq` crate's own build, which the
//! interop tests use, has an empty `platform.hpp`: no eventfd, every
//! wake-up a socketpair write and read; no distribution ships that.)
//!
//! Method (see `BENCHMARKING.md`):
//! - the libraries alternate within each measurement cell, A B then B A, for
//!   every repetition, so slow phases of a shared machine hit both alike;
//! - both get the same settings: a fresh context with one I/O thread per
//!   run, SNDHWM = RCVHWM (1000 by default, libzmq's default), LINGER 0
//!   (every counted message has arrived before anything closes), and
//!   TCP_NODELAY (both set it on every TCP connection, unconditionally);
//! - PUBSUB: the publisher blocks instead of dropping (XPUB_NODROP on both),
//!   so every message is counted; before timing, the publisher sends probe
//!   messages until the subscriber has seen one (the subscription has
//!   arrived), and the subscriber skips them;
//! - throughput is timed on the receiver, first message to last; DEALER_ROUTER
//!   counts a message per identity + payload pair;
//! - CPU per message: the process CPU time (getrusage, user + system, every
//!   thread) over the timed span, divided by the messages (a latency round
//!   trip is two). The runs take turns in this one process and each joins
//!   its threads before the next, so the time is the run's own;
//! - `tcp+curve` (not in the default run): tcp with the binding socket (the
//!   receiver, or REP) a CURVE server and the other its client, the same
//!   key pairs for both libraries; a libzmq built without CURVE
//!   (`zmq_has("curve")` is 0) has no figure there, and its cell says so;
//! - zlink-mq's inproc sockets busy-wait before they sleep
//!   (`set_inproc_busy_wait`; libzmq never does): the inproc rows show
//!   zlink-mq with each `--busy-wait` setting, against the same libzmq runs;
//! - the table shows medians and the min-max spread; the ratio is zlink-mq's
//!   median over libzmq's (above 1 is faster for throughput; below 1 is
//!   faster for latency).
#![allow(unsafe_code)]

mod common;

use common::{process_cpu, today};

use std::error::Error;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// A run that takes longer than this per message wait has failed: it is
/// reported as failed instead of hanging the whole comparison.
const TIMEOUT: Duration = Duration::from_secs(10);

// ----- what is measured ---------------------------------------------------

/// A messaging pattern: which socket types, and who receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    Pair,
    PubSub,
    DealerDealer,
    DealerRouter,
    PushPull,
}

impl Pattern {
    const ALL: [Pattern; 5] = [
        Pattern::Pair,
        Pattern::PubSub,
        Pattern::DealerDealer,
        Pattern::DealerRouter,
        Pattern::PushPull,
    ];

    fn name(self) -> &'static str {
        match self {
            Pattern::Pair => "PAIR",
            Pattern::PubSub => "PUBSUB",
            Pattern::DealerDealer => "DEALER_DEALER",
            Pattern::DealerRouter => "DEALER_ROUTER",
            Pattern::PushPull => "PUSH_PULL",
        }
    }

    /// Sender's and receiver's socket types.
    fn kinds(self) -> (Kind, Kind) {
        match self {
            Pattern::Pair => (Kind::Pair, Kind::Pair),
            Pattern::PubSub => (Kind::Pub, Kind::Sub),
            Pattern::DealerDealer => (Kind::Dealer, Kind::Dealer),
            Pattern::DealerRouter => (Kind::Dealer, Kind::Router),
            Pattern::PushPull => (Kind::Push, Kind::Pull),
        }
    }
}

/// The socket types the harness uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pair,
    Pub,
    Sub,
    Dealer,
    Router,
    Push,
    Pull,
    Req,
    Rep,
}

/// A transport, or tcp with CURVE: the security mechanism changes the
/// work per message as much as a transport does, so it is measured as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Inproc,
    Ipc,
    Tcp,
    /// tcp, the binding (receiving, or REP) socket a CURVE server, the
    /// other its client.
    TcpCurve,
}

impl Transport {
    /// Every transport `--transports` accepts.
    const ALL: [Transport; 4] = [
        Transport::Inproc,
        Transport::Ipc,
        Transport::Tcp,
        Transport::TcpCurve,
    ];
    /// The default run: the three transports, without CURVE (its cost is
    /// the ciphers', libsodium's against RustCrypto's, more than the
    /// messaging's; and a libzmq built without libsodium has no CURVE).
    const DEFAULT: [Transport; 3] = [Transport::Inproc, Transport::Ipc, Transport::Tcp];

    /// The name `--transports` and the JSON use.
    fn name(self) -> &'static str {
        match self {
            Transport::Inproc => "inproc",
            Transport::Ipc => "ipc",
            Transport::Tcp => "tcp",
            Transport::TcpCurve => "tcp+curve",
        }
    }

    /// The name in the table.
    fn label(self) -> &'static str {
        match self {
            Transport::TcpCurve => "tcp, CURVE",
            t => t.name(),
        }
    }

    fn curve(self) -> bool {
        self == Transport::TcpCurve
    }

    /// Where the receiver binds (each run has a fresh context, so one
    /// inproc name does).
    fn bind_endpoint(self) -> &'static str {
        match self {
            Transport::Inproc => "inproc://compare",
            Transport::Ipc => "ipc://*",
            Transport::Tcp | Transport::TcpCurve => "tcp://127.0.0.1:*",
        }
    }
}

/// The CURVE key pairs of every `tcp+curve` run (both libraries get the
/// same), raw 32-byte keys.
#[derive(Debug, Clone, Copy)]
struct CurveKeys {
    server_public: [u8; 32],
    server_secret: [u8; 32],
    client_public: [u8; 32],
    client_secret: [u8; 32],
}

impl CurveKeys {
    /// The keys, made once (from the OS generator, by zlink-mq's
    /// `curve::keypair`).
    fn get() -> &'static CurveKeys {
        static KEYS: std::sync::OnceLock<CurveKeys> = std::sync::OnceLock::new();
        KEYS.get_or_init(|| {
            let pair = || {
                let (public, secret) = zlink_mq::curve::keypair().expect("OS random generator");
                (
                    zlink_mq::curve::raw_key(&public).expect("a Z85 key"),
                    zlink_mq::curve::raw_key(&secret).expect("a Z85 key"),
                )
            };
            let (server_public, server_secret) = pair();
            let (client_public, client_secret) = pair();
            CurveKeys {
                server_public,
                server_secret,
                client_public,
                client_secret,
            }
        })
    }
}

/// What is measured: zlink-mq with one inproc busy-wait setting, or libzmq.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Library {
    /// zlink-mq, its sockets' `set_inproc_busy_wait` set to this.
    Zlink {
        busy_wait: Duration,
    },
    Libzmq,
}

impl Library {
    /// The name with the setting, for progress lines and JSON.
    fn describe(self) -> String {
        match self {
            Library::Zlink { busy_wait } => format!("zlink-mq ({})", busy_wait_text(busy_wait)),
            Library::Libzmq => "libzmq".into(),
        }
    }
}

/// "busy-wait 20 us" or "no busy-wait".
fn busy_wait_text(d: Duration) -> String {
    if d.is_zero() {
        "no busy-wait".into()
    } else {
        format!("busy-wait {} us", d.as_micros())
    }
}

/// One run's result: its figure (msg/s or us) and the process CPU time it
/// took per message (user + system, all threads).
#[derive(Debug, Clone, Copy)]
struct Sample {
    value: f64,
    cpu_ns: f64,
}

// ----- the two libraries behind one small interface -------------------------

/// What the harness does with a socket; implemented over both libraries so
/// one measurement loop drives both.
trait Sock: Send + 'static {
    /// Binds; returns the endpoint to connect to (the chosen port or path).
    fn bind(&mut self, endpoint: &str) -> Result<String>;
    fn connect(&mut self, endpoint: &str) -> Result<()>;
    fn subscribe_all(&mut self) -> Result<()>;
    /// Sends a new message holding `data` (as libzmq's `remote_thr`
    /// creates one per send); blocks at the high-water mark.
    fn send(&mut self, data: &[u8], more: bool) -> Result<()>;
    /// As `send` without blocking; `false` if it would have blocked.
    fn try_send(&mut self, data: &[u8]) -> Result<bool>;
    /// Receives a frame into the socket's held message; its length and
    /// whether more frames follow.
    fn recv(&mut self) -> Result<(usize, bool)>;
    /// Sends the held message (the last one received, or the initial
    /// payload), as libzmq's latency tools pass one `zmq_msg_t` back and
    /// forth.
    fn send_held(&mut self) -> Result<()>;
    /// Sets the held message to `data`.
    fn hold(&mut self, data: &[u8]);
    /// Makes this (binding) socket a CURVE server with the server's keys.
    fn curve_server(&mut self, keys: &CurveKeys) -> Result<()>;
    /// Makes this (connecting) socket a CURVE client of that server, with
    /// the client's keys.
    fn curve_client(&mut self, keys: &CurveKeys) -> Result<()>;
}

/// A library: how to make a context and sockets with the shared settings.
trait Lib {
    type Ctx: Clone + Send + 'static;
    type Sock: Sock;
    /// A fresh context for one run of `lib` (the setting it carries).
    fn context(lib: Library) -> Result<Self::Ctx>;
    fn socket(ctx: &Self::Ctx, kind: Kind, hwm: u32) -> Result<Self::Sock>;
}

mod zlink {
    use super::*;
    use zlink_mq::{Context, Flags, Msg, Socket, SocketType};

    pub struct Zlink;

    pub struct ZSock {
        socket: Socket,
        held: Option<Msg>,
    }

    /// A context and the busy-wait its sockets get.
    #[derive(Clone)]
    pub struct ZCtx {
        ctx: Context,
        busy_wait: Duration,
    }

    impl Lib for Zlink {
        type Ctx = ZCtx;
        type Sock = ZSock;

        fn context(lib: Library) -> Result<ZCtx> {
            let Library::Zlink { busy_wait } = lib else {
                return Err("not a zlink-mq setting".into());
            };
            Ok(ZCtx {
                ctx: Context::with_io_threads(1),
                busy_wait,
            })
        }

        fn socket(ctx: &ZCtx, kind: Kind, hwm: u32) -> Result<ZSock> {
            let mut socket = ctx.ctx.socket(match kind {
                Kind::Pair => SocketType::Pair,
                Kind::Pub => SocketType::Pub,
                Kind::Sub => SocketType::Sub,
                Kind::Dealer => SocketType::Dealer,
                Kind::Router => SocketType::Router,
                Kind::Push => SocketType::Push,
                Kind::Pull => SocketType::Pull,
                Kind::Req => SocketType::Req,
                Kind::Rep => SocketType::Rep,
            })?;
            socket.set_sndhwm(hwm);
            socket.set_rcvhwm(hwm);
            socket.set_linger(Some(Duration::ZERO));
            socket.set_sndtimeo(Some(TIMEOUT));
            socket.set_rcvtimeo(Some(TIMEOUT));
            socket.set_inproc_busy_wait(ctx.busy_wait);
            if kind == Kind::Pub {
                socket.set_xpub_nodrop(true);
            }
            Ok(ZSock { socket, held: None })
        }
    }

    impl Sock for ZSock {
        fn bind(&mut self, endpoint: &str) -> Result<String> {
            self.socket.bind(endpoint)?;
            Ok(self
                .socket
                .last_endpoint()
                .ok_or("no last endpoint")?
                .to_owned())
        }

        fn connect(&mut self, endpoint: &str) -> Result<()> {
            Ok(self.socket.connect(endpoint)?)
        }

        fn subscribe_all(&mut self) -> Result<()> {
            Ok(self.socket.subscribe(b"")?)
        }

        #[inline]
        fn send(&mut self, data: &[u8], more: bool) -> Result<()> {
            let flags = if more { Flags::SNDMORE } else { Flags::NONE };
            Ok(self.socket.send(data, flags)?)
        }

        fn try_send(&mut self, data: &[u8]) -> Result<bool> {
            match self.socket.send(data, Flags::DONTWAIT) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == zlink_mq::ErrorKind::WouldBlock => Ok(false),
                Err(e) => Err(e.into()),
            }
        }

        #[inline]
        fn recv(&mut self) -> Result<(usize, bool)> {
            let msg = self.socket.recv(Flags::NONE)?;
            let r = (msg.len(), msg.more());
            self.held = Some(msg);
            Ok(r)
        }

        fn send_held(&mut self) -> Result<()> {
            let msg = self.held.take().ok_or("no message held")?;
            Ok(self.socket.send(msg, Flags::NONE)?)
        }

        fn hold(&mut self, data: &[u8]) {
            self.held = Some(Msg::copy_from_slice(data));
        }

        fn curve_server(&mut self, keys: &CurveKeys) -> Result<()> {
            self.socket.set_curve_server(true);
            self.socket.set_curve_publickey(&keys.server_public)?;
            Ok(self.socket.set_curve_secretkey(&keys.server_secret)?)
        }

        fn curve_client(&mut self, keys: &CurveKeys) -> Result<()> {
            self.socket.set_curve_serverkey(&keys.server_public)?;
            self.socket.set_curve_publickey(&keys.client_public)?;
            Ok(self.socket.set_curve_secretkey(&keys.client_secret)?)
        }
    }
}

mod libzmq {
    //! The harness over libzmq's C API (loaded by `common::libzmq`).
    use super::*;
    pub use crate::common::libzmq::{Choice, Loaded, load};
    use crate::common::libzmq::{
        CtxPtr, ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY, ZMQ_CURVE_SERVER, ZMQ_CURVE_SERVERKEY,
        ZMQ_DONTWAIT, ZMQ_IO_THREADS, ZMQ_LAST_ENDPOINT, ZMQ_LINGER, ZMQ_RCVHWM, ZMQ_RCVTIMEO,
        ZMQ_SNDHWM, ZMQ_SNDMORE, ZMQ_SNDTIMEO, ZMQ_SUBSCRIBE, ZMQ_XPUB_NODROP, ZmqMsg, api, fail,
        would_block,
    };
    use std::ffi::{CStr, CString, c_int, c_void};

    pub struct Libzmq;

    pub struct LSock {
        socket: *mut c_void,
        held: ZmqMsg,
        _ctx: Arc<CtxPtr>,
    }

    // SAFETY: a libzmq socket may move between threads when, as here, one
    // thread at a time uses it (the `Sock` is moved, never shared).
    unsafe impl Send for LSock {}

    impl Drop for LSock {
        fn drop(&mut self) {
            let f = &api().fns;
            // SAFETY: `held` is initialised (by `socket` and after every
            // operation) and `socket` is live; both are released once.
            unsafe {
                (f.msg_close)(&mut self.held);
                (f.close)(self.socket);
            }
        }
    }

    impl LSock {
        fn set_int(&mut self, option: c_int, value: i32) -> Result<()> {
            // SAFETY: a live socket; integer options take a 4-byte int,
            // which libzmq copies before returning.
            let rc = unsafe {
                (api().fns.setsockopt)(
                    self.socket,
                    option,
                    (&raw const value).cast(),
                    std::mem::size_of::<i32>(),
                )
            };
            if rc == 0 {
                Ok(())
            } else {
                Err(fail(&format!("zmq_setsockopt({option})")))
            }
        }

        fn set_bytes(&mut self, option: c_int, value: &[u8]) -> Result<()> {
            // SAFETY: a live socket; libzmq copies the bytes before
            // returning.
            let rc = unsafe {
                (api().fns.setsockopt)(self.socket, option, value.as_ptr().cast(), value.len())
            };
            if rc == 0 {
                Ok(())
            } else {
                Err(fail(&format!("zmq_setsockopt({option})")))
            }
        }
    }

    /// Whether the loaded libzmq has CURVE.
    pub fn has_curve() -> bool {
        api().curve
    }

    impl Lib for Libzmq {
        type Ctx = Arc<CtxPtr>;
        type Sock = LSock;

        fn context(_: Library) -> Result<Arc<CtxPtr>> {
            let f = &api().fns;
            // SAFETY: plain constructor; NULL on failure.
            let ctx = unsafe { (f.ctx_new)() };
            if ctx.is_null() {
                return Err(fail("zmq_ctx_new"));
            }
            let ctx = Arc::new(CtxPtr(ctx));
            // SAFETY: a live context, before any socket.
            if unsafe { (f.ctx_set)(ctx.0, ZMQ_IO_THREADS, 1) } != 0 {
                return Err(fail("zmq_ctx_set(ZMQ_IO_THREADS)"));
            }
            Ok(ctx)
        }

        fn socket(ctx: &Arc<CtxPtr>, kind: Kind, hwm: u32) -> Result<LSock> {
            let f = &api().fns;
            let kind_code = match kind {
                Kind::Pair => 0,
                Kind::Pub => 1,
                Kind::Sub => 2,
                Kind::Req => 3,
                Kind::Rep => 4,
                Kind::Dealer => 5,
                Kind::Router => 6,
                Kind::Pull => 7,
                Kind::Push => 8,
            };
            // SAFETY: a live context.
            let socket = unsafe { (f.socket)(ctx.0, kind_code) };
            if socket.is_null() {
                return Err(fail("zmq_socket"));
            }
            let mut held = ZmqMsg([0; 64]);
            // SAFETY: initialises the message (never fails for an empty one).
            unsafe { (f.msg_init)(&mut held) };
            let mut s = LSock {
                socket,
                held,
                _ctx: ctx.clone(),
            };
            let hwm = i32::try_from(hwm)?;
            let timeout = i32::try_from(TIMEOUT.as_millis())?;
            s.set_int(ZMQ_SNDHWM, hwm)?;
            s.set_int(ZMQ_RCVHWM, hwm)?;
            s.set_int(ZMQ_LINGER, 0)?;
            s.set_int(ZMQ_SNDTIMEO, timeout)?;
            s.set_int(ZMQ_RCVTIMEO, timeout)?;
            if kind == Kind::Pub {
                s.set_int(ZMQ_XPUB_NODROP, 1)?;
            }
            Ok(s)
        }
    }

    impl Sock for LSock {
        fn bind(&mut self, endpoint: &str) -> Result<String> {
            let f = &api().fns;
            let c = CString::new(endpoint)?;
            // SAFETY: a live socket and a NUL-terminated endpoint.
            if unsafe { (f.bind)(self.socket, c.as_ptr()) } != 0 {
                return Err(fail(&format!("zmq_bind({endpoint})")));
            }
            let mut buf = [0u8; 512];
            let mut len = buf.len();
            // SAFETY: libzmq writes at most `len` bytes (NUL included) and
            // stores the length it wrote in `len`.
            let rc = unsafe {
                (f.getsockopt)(
                    self.socket,
                    ZMQ_LAST_ENDPOINT,
                    buf.as_mut_ptr().cast(),
                    &mut len,
                )
            };
            if rc != 0 {
                return Err(fail("zmq_getsockopt(ZMQ_LAST_ENDPOINT)"));
            }
            let text = CStr::from_bytes_until_nul(&buf[..len])?;
            Ok(text.to_str()?.to_owned())
        }

        fn connect(&mut self, endpoint: &str) -> Result<()> {
            let c = CString::new(endpoint)?;
            // SAFETY: a live socket and a NUL-terminated endpoint.
            if unsafe { (api().fns.connect)(self.socket, c.as_ptr()) } != 0 {
                return Err(fail(&format!("zmq_connect({endpoint})")));
            }
            Ok(())
        }

        fn subscribe_all(&mut self) -> Result<()> {
            // SAFETY: a live socket; an empty prefix (length 0).
            let rc =
                unsafe { (api().fns.setsockopt)(self.socket, ZMQ_SUBSCRIBE, std::ptr::null(), 0) };
            if rc == 0 {
                Ok(())
            } else {
                Err(fail("zmq_setsockopt(ZMQ_SUBSCRIBE)"))
            }
        }

        #[inline]
        fn send(&mut self, data: &[u8], more: bool) -> Result<()> {
            let flags = if more { ZMQ_SNDMORE } else { 0 };
            // SAFETY: a live socket; libzmq copies `data` into a new
            // message before returning (as remote_thr's
            // zmq_msg_init_size + memcpy + zmq_sendmsg).
            let rc =
                unsafe { (api().fns.send)(self.socket, data.as_ptr().cast(), data.len(), flags) };
            if rc < 0 {
                Err(fail("zmq_send"))
            } else {
                Ok(())
            }
        }

        fn try_send(&mut self, data: &[u8]) -> Result<bool> {
            // SAFETY: as `send`.
            let rc = unsafe {
                (api().fns.send)(self.socket, data.as_ptr().cast(), data.len(), ZMQ_DONTWAIT)
            };
            if rc >= 0 {
                Ok(true)
            } else if would_block() {
                Ok(false)
            } else {
                Err(fail("zmq_send"))
            }
        }

        #[inline]
        fn recv(&mut self) -> Result<(usize, bool)> {
            let f = &api().fns;
            // SAFETY: a live socket and an initialised message, which
            // libzmq closes before it stores the received one.
            if unsafe { (f.msg_recv)(&mut self.held, self.socket, 0) } < 0 {
                return Err(fail("zmq_msg_recv"));
            }
            // SAFETY: an initialised message.
            let (len, more) = unsafe { ((f.msg_size)(&self.held), (f.msg_more)(&self.held)) };
            Ok((len, more != 0))
        }

        fn send_held(&mut self) -> Result<()> {
            // SAFETY: a live socket and an initialised message; on success
            // libzmq leaves it empty and initialised, on failure untouched.
            if unsafe { (api().fns.msg_send)(&mut self.held, self.socket, 0) } < 0 {
                return Err(fail("zmq_msg_send"));
            }
            Ok(())
        }

        fn hold(&mut self, data: &[u8]) {
            let f = &api().fns;
            // SAFETY: the held message is initialised; it is closed, then
            // initialised with room for `data`, which is copied in.
            unsafe {
                (f.msg_close)(&mut self.held);
                if (f.msg_init_size)(&mut self.held, data.len()) != 0 {
                    (f.msg_init)(&mut self.held);
                    return;
                }
                std::ptr::copy_nonoverlapping(
                    data.as_ptr(),
                    (f.msg_data)(&mut self.held).cast::<u8>(),
                    data.len(),
                );
            }
        }

        fn curve_server(&mut self, keys: &CurveKeys) -> Result<()> {
            self.set_int(ZMQ_CURVE_SERVER, 1)?;
            self.set_bytes(ZMQ_CURVE_PUBLICKEY, &keys.server_public)?;
            self.set_bytes(ZMQ_CURVE_SECRETKEY, &keys.server_secret)
        }

        fn curve_client(&mut self, keys: &CurveKeys) -> Result<()> {
            self.set_bytes(ZMQ_CURVE_SERVERKEY, &keys.server_public)?;
            self.set_bytes(ZMQ_CURVE_PUBLICKEY, &keys.client_public)?;
            self.set_bytes(ZMQ_CURVE_SECRETKEY, &keys.client_secret)
        }
    }
}

// ----- the measurements ----------------------------------------------------

/// Moves `count` messages of `size` bytes from a sender thread to this
/// thread; returns messages per second, timed here from the first message
/// received to the last, and the process CPU time over that span per
/// message.
fn throughput<L: Lib>(
    lib: Library,
    pattern: Pattern,
    transport: Transport,
    size: usize,
    count: u64,
    hwm: u32,
) -> Result<Sample> {
    let ctx = L::context(lib)?;
    let (send_kind, recv_kind) = pattern.kinds();
    let mut rx = L::socket(&ctx, recv_kind, hwm)?;
    if transport.curve() {
        rx.curve_server(CurveKeys::get())?;
    }
    let endpoint = rx.bind(transport.bind_endpoint())?;
    if recv_kind == Kind::Sub {
        rx.subscribe_all()?;
    }
    let mut tx = L::socket(&ctx, send_kind, hwm)?;
    if transport.curve() {
        tx.curve_client(CurveKeys::get())?;
    }
    let subscribed = Arc::new(AtomicBool::new(pattern != Pattern::PubSub));
    let sender = {
        let subscribed = subscribed.clone();
        std::thread::spawn(move || -> Result<L::Sock> {
            tx.connect(&endpoint)?;
            // A probe is one byte longer than a message, so the receiver can
            // tell them apart at any size.
            let probe = vec![1u8; size + 1];
            let start = Instant::now();
            // ORDERING: the flag carries no data; the probes and the
            // messages travel through the sockets.
            while !subscribed.load(Ordering::Relaxed) {
                tx.try_send(&probe)?;
                if start.elapsed() > TIMEOUT {
                    return Err("the subscription never arrived".into());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            let payload = vec![0u8; size];
            for _ in 0..count {
                tx.send(&payload, false)?;
            }
            Ok(tx)
        })
    };
    let router = recv_kind == Kind::Router;
    let next = |rx: &mut L::Sock| -> Result<usize> {
        if router {
            let (_, more) = rx.recv()?;
            if !more {
                return Err("ROUTER received no identity frame".into());
            }
        }
        Ok(rx.recv()?.0)
    };
    let mut received = 0u64;
    let result = (|| -> Result<Sample> {
        // First message: skip probes, then start the clock.
        loop {
            let len = next(&mut rx).map_err(|e| format!("{e} (before the first message)"))?;
            if len == size + 1 && pattern == Pattern::PubSub {
                // ORDERING: see the sender.
                subscribed.store(true, Ordering::Relaxed);
                continue;
            }
            if len != size {
                return Err(format!("message of {len} B, expected {size} B").into());
            }
            break;
        }
        received = 1;
        let cpu = process_cpu();
        let start = Instant::now();
        while received < count {
            let len = next(&mut rx).map_err(|e| format!("{e} after {received} messages"))?;
            if len != size {
                return Err(format!("message of {len} B, expected {size} B").into());
            }
            received += 1;
        }
        let us = (start.elapsed().as_micros() as u64).max(1);
        let cpu = process_cpu().saturating_sub(cpu);
        Ok(Sample {
            value: count as f64 * 1e6 / us as f64,
            cpu_ns: cpu.as_nanos() as f64 / count as f64,
        })
    })();
    // Let a sender blocked on a failed run give up (its send timeout) before
    // the sockets and the context go.
    subscribed.store(true, Ordering::Relaxed);
    let sent = sender.join().map_err(|_| "sender thread panicked")?;
    drop(rx);
    drop(sent);
    drop(ctx);
    result
}

/// `roundtrips` REQ -> REP -> REQ round trips; returns the one-way latency
/// in microseconds (half the mean round trip) and the process CPU time per
/// message (a round trip is two messages).
fn latency<L: Lib>(
    lib: Library,
    transport: Transport,
    size: usize,
    roundtrips: u64,
    hwm: u32,
) -> Result<Sample> {
    let ctx = L::context(lib)?;
    let mut rep = L::socket(&ctx, Kind::Rep, hwm)?;
    if transport.curve() {
        rep.curve_server(CurveKeys::get())?;
    }
    let endpoint = rep.bind(transport.bind_endpoint())?;
    let echo = std::thread::spawn(move || -> Result<()> {
        for _ in 0..roundtrips {
            rep.recv()?;
            rep.send_held()?;
        }
        Ok(())
    });
    let result = (|| -> Result<Sample> {
        let mut req = L::socket(&ctx, Kind::Req, hwm)?;
        if transport.curve() {
            req.curve_client(CurveKeys::get())?;
        }
        req.connect(&endpoint)?;
        req.hold(&vec![0u8; size]);
        let cpu = process_cpu();
        let start = Instant::now();
        for _ in 0..roundtrips {
            req.send_held()?;
            let (len, _) = req.recv()?;
            if len != size {
                return Err(format!("reply of {len} B, expected {size} B").into());
            }
        }
        let elapsed = start.elapsed();
        let cpu = process_cpu().saturating_sub(cpu);
        let messages = 2.0 * roundtrips as f64;
        Ok(Sample {
            value: elapsed.as_secs_f64() * 1e6 / messages,
            cpu_ns: cpu.as_nanos() as f64 / messages,
        })
    })();
    echo.join().map_err(|_| "echo thread panicked")??;
    drop(ctx);
    result
}

fn measure(lib: Library, job: &Job, cfg: &Config) -> Result<Sample> {
    match (lib, job) {
        (Library::Zlink { .. }, Job::Thr(p, t, s)) => {
            throughput::<zlink::Zlink>(lib, *p, *t, *s, cfg.count(*s), cfg.hwm)
        }
        (Library::Libzmq, Job::Thr(p, t, s)) => {
            throughput::<libzmq::Libzmq>(lib, *p, *t, *s, cfg.count(*s), cfg.hwm)
        }
        (Library::Zlink { .. }, Job::Lat(t, s)) => {
            latency::<zlink::Zlink>(lib, *t, *s, cfg.roundtrips, cfg.hwm)
        }
        (Library::Libzmq, Job::Lat(t, s)) => {
            latency::<libzmq::Libzmq>(lib, *t, *s, cfg.roundtrips, cfg.hwm)
        }
    }
}

// ----- command line ----------------------------------------------------------

#[derive(Debug, Clone)]
struct Config {
    patterns: Vec<Pattern>,
    transports: Vec<Transport>,
    sizes: Vec<usize>,
    /// Messages per throughput run: one for every size, or one per size
    /// (16 MiB messages cannot take as many as 64 B ones in a second).
    counts: Vec<u64>,
    roundtrips: u64,
    reps: usize,
    hwm: u32,
    latency: bool,
    throughput: bool,
    /// Which libraries to run (both for a comparison; one to profile it).
    zlink: bool,
    libzmq: bool,
    /// zlink-mq's inproc busy-wait settings, each a row of its own on
    /// inproc; the first is the one ipc and tcp rows run with (where no
    /// socket busy-waits).
    busy_waits: Vec<Duration>,
    which_libzmq: libzmq::Choice,
    json: Option<String>,
    svg: Option<String>,
}

impl Config {
    /// Messages per throughput run of `size`-byte messages.
    fn count(&self, size: usize) -> u64 {
        match self.sizes.iter().position(|&s| s == size) {
            Some(i) if self.counts.len() == self.sizes.len() => self.counts[i],
            _ => self.counts[0],
        }
    }
}

const USAGE: &str = "\
usage: compare [options]

Measures zlink-mq against libzmq in one run, alternating the two, with the
process CPU time per message of each.

  --patterns LIST    PAIR,PUBSUB,DEALER_DEALER,DEALER_ROUTER,PUSH_PULL (default: all)
  --transports LIST  inproc,ipc,tcp,tcp+curve (default: inproc,ipc,tcp; tcp+curve
                     is tcp with the receiver a CURVE server, the sender its
                     client)
  --sizes LIST       message sizes in bytes (default: 64)
  --count N          messages per throughput run (default: 1000000); or a list,
                     one per size of --sizes
  --roundtrips N     round trips per latency run (default: 20000)
  --reps N           repetitions per library (default: 5)
  --hwm N            SNDHWM and RCVHWM on both (default: 1000)
  --quick            smoke test: --count 20000 --roundtrips 500 --reps 2
  --libs LIST        zlink-mq,libzmq (default: both; one alone, e.g. to profile it)
  --busy-wait LIST   zlink-mq's inproc busy-wait settings in microseconds, a row
                     each on inproc (default: zlink-mq's default, then the
                     other of 0 and 20; libzmq has no such setting and never
                     busy-waits)
  --libzmq WHICH     auto: the system's libzmq.so.5 if there is one, else the
                     vendored 4.3.4 configured as distributions build it;
                     system; vendored; or a path to a libzmq.so (default: auto)
  --no-latency       skip the REQ_REP latency rows
  --no-throughput    skip the throughput rows
  --json FILE        also write every sample as JSON
  --svg FILE         also draw throughput by message size as SVG
  --help             this text
";

fn parse_list<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>> {
    text.split(',')
        .map(|s| parse(s.trim()).ok_or_else(|| format!("unknown value: {s}").into()))
        .collect()
}

/// zlink-mq's default busy-wait, read from a socket.
fn default_busy_wait() -> Duration {
    zlink_mq::Context::with_io_threads(1)
        .socket(zlink_mq::SocketType::Pair)
        .map_or(Duration::ZERO, |s| s.inproc_busy_wait())
}

fn parse_args() -> Result<Config> {
    let default = default_busy_wait();
    let other = if default.is_zero() {
        Duration::from_micros(20)
    } else {
        Duration::ZERO
    };
    let mut cfg = Config {
        patterns: Pattern::ALL.to_vec(),
        transports: Transport::DEFAULT.to_vec(),
        sizes: vec![64],
        counts: vec![1_000_000],
        roundtrips: 20_000,
        reps: 5,
        hwm: 1000,
        latency: true,
        throughput: true,
        zlink: true,
        libzmq: true,
        busy_waits: vec![default, other],
        which_libzmq: libzmq::Choice::Auto,
        json: None,
        svg: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--patterns" => {
                cfg.patterns = parse_list(&value()?, |s| {
                    Pattern::ALL
                        .into_iter()
                        .find(|p| p.name().eq_ignore_ascii_case(s))
                })?
            }
            "--transports" => {
                cfg.transports = parse_list(&value()?, |s| {
                    Transport::ALL
                        .into_iter()
                        .find(|t| t.name().eq_ignore_ascii_case(s))
                })?
            }
            "--sizes" => cfg.sizes = parse_list(&value()?, |s| s.parse().ok())?,
            "--count" => cfg.counts = parse_list(&value()?, |s| s.parse().ok())?,
            "--roundtrips" => cfg.roundtrips = value()?.parse()?,
            "--reps" => cfg.reps = value()?.parse()?,
            "--hwm" => cfg.hwm = value()?.parse()?,
            "--quick" => {
                cfg.counts = vec![20_000];
                cfg.roundtrips = 500;
                cfg.reps = 2;
            }
            "--libs" => {
                let libs = parse_list(&value()?, |s| {
                    ["zlink-mq", "libzmq"]
                        .into_iter()
                        .find(|l| l.eq_ignore_ascii_case(s))
                })?;
                cfg.zlink = libs.contains(&"zlink-mq");
                cfg.libzmq = libs.contains(&"libzmq");
            }
            "--busy-wait" => {
                cfg.busy_waits =
                    parse_list(&value()?, |s| s.parse().ok().map(Duration::from_micros))?
            }
            "--libzmq" => {
                cfg.which_libzmq = match value()?.as_str() {
                    "auto" => libzmq::Choice::Auto,
                    "system" => libzmq::Choice::System,
                    "vendored" => libzmq::Choice::Vendored,
                    path => libzmq::Choice::Path(path.into()),
                }
            }
            "--no-latency" => cfg.latency = false,
            "--no-throughput" => cfg.throughput = false,
            "--json" => cfg.json = Some(value()?),
            "--svg" => cfg.svg = Some(value()?),
            "--help" | "-h" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument: {other}\n\n{USAGE}").into()),
        }
    }
    if cfg.counts.contains(&0) || cfg.roundtrips == 0 || cfg.reps == 0 {
        return Err("--count, --roundtrips and --reps must be at least 1".into());
    }
    if cfg.counts.len() != 1 && cfg.counts.len() != cfg.sizes.len() {
        return Err("--count takes one number, or one per size of --sizes".into());
    }
    if cfg.busy_waits.is_empty() {
        return Err("--busy-wait needs at least one setting".into());
    }
    Ok(cfg)
}

// ----- running and reporting ---------------------------------------------------

/// One cell of the table.
#[derive(Debug, Clone, Copy)]
enum Job {
    Thr(Pattern, Transport, usize),
    Lat(Transport, usize),
}

impl Job {
    fn describe(&self) -> String {
        match self {
            Job::Thr(p, t, s) => format!("{} {} {s} B", p.name(), t.name()),
            Job::Lat(t, s) => format!("REQ_REP latency {} {s} B", t.name()),
        }
    }

    fn transport(&self) -> Transport {
        match *self {
            Job::Thr(_, t, _) | Job::Lat(t, _) => t,
        }
    }
}

/// What a cell measures: every busy-wait setting of zlink-mq on inproc
/// (the only transport where one applies), the first elsewhere, and libzmq.
fn libraries(cfg: &Config, job: &Job) -> Vec<Library> {
    let mut libs = Vec::new();
    if cfg.zlink {
        let settings = if job.transport() == Transport::Inproc {
            cfg.busy_waits.len()
        } else {
            1
        };
        for &busy_wait in &cfg.busy_waits[..settings] {
            libs.push(Library::Zlink { busy_wait });
        }
    }
    // A libzmq without CURVE (built without libsodium) has no tcp+curve
    // runs; its cell says so.
    if cfg.libzmq && (!job.transport().curve() || libzmq::has_curve()) {
        libs.push(Library::Libzmq);
    }
    libs
}

/// A cell's samples per library (`None`: that run failed).
#[derive(Debug)]
struct Cell {
    job: Job,
    runs: Vec<(Library, Vec<Option<Sample>>)>,
}

impl Cell {
    fn libzmq(&self) -> &[Option<Sample>] {
        self.runs
            .iter()
            .find(|(l, _)| *l == Library::Libzmq)
            .map_or(&[], |(_, s)| s.as_slice())
    }

    fn zlink(&self) -> impl Iterator<Item = (Duration, &[Option<Sample>])> {
        self.runs.iter().filter_map(|(l, s)| match l {
            Library::Zlink { busy_wait } => Some((*busy_wait, s.as_slice())),
            Library::Libzmq => None,
        })
    }
}

/// Median, min and max of the successful samples' figures (`value`) or
/// CPU times (`cpu`).
fn stats(samples: &[Option<Sample>], pick: fn(&Sample) -> f64) -> Option<(f64, f64, f64)> {
    let mut ok: Vec<f64> = samples.iter().flatten().map(pick).collect();
    if ok.is_empty() {
        return None;
    }
    ok.sort_by(f64::total_cmp);
    let n = ok.len();
    let median = if n % 2 == 1 {
        ok[n / 2]
    } else {
        (ok[n / 2 - 1] + ok[n / 2]) / 2.0
    };
    Some((median, ok[0], ok[n - 1]))
}

fn value(s: &Sample) -> f64 {
    s.value
}

fn cpu(s: &Sample) -> f64 {
    s.cpu_ns
}

fn run(cfg: &Config) -> Vec<Cell> {
    let mut jobs = Vec::new();
    for &size in &cfg.sizes {
        if cfg.throughput {
            for &p in &cfg.patterns {
                for &t in &cfg.transports {
                    jobs.push(Job::Thr(p, t, size));
                }
            }
        }
        if cfg.latency {
            for &t in &cfg.transports {
                jobs.push(Job::Lat(t, size));
            }
        }
    }
    let total: usize = jobs.iter().map(|j| libraries(cfg, j).len()).sum::<usize>() * cfg.reps;
    let tty = std::io::stderr().is_terminal();
    let mut done = 0;
    let mut cells = Vec::new();
    for job in jobs {
        let libs = libraries(cfg, &job);
        let mut cell = Cell {
            job,
            runs: libs.iter().map(|&l| (l, Vec::new())).collect(),
        };
        for rep in 0..cfg.reps {
            // A B, then B A (with more settings, a rotation): no library
            // always runs first.
            let mut order: Vec<usize> = (0..libs.len()).collect();
            order.rotate_left(rep % libs.len().max(1));
            for i in order {
                let lib = libs[i];
                done += 1;
                let line = format!(
                    "[{done}/{total}] {} rep {}/{} {}",
                    job.describe(),
                    rep + 1,
                    cfg.reps,
                    lib.describe()
                );
                if tty {
                    eprint!("\r{line:<80}");
                } else {
                    eprintln!("{line}");
                }
                let sample = match measure(lib, &job, cfg) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        eprintln!("\n{}: {} failed: {e}", job.describe(), lib.describe());
                        None
                    }
                };
                cell.runs[i].1.push(sample);
            }
        }
        cells.push(cell);
    }
    if tty {
        eprintln!();
    }
    cells
}

/// A cell's text: median (min-max), "failed" if every run failed, "not
/// run" if the library was left out (or has no CURVE, for a CURVE row).
fn fmt_cell(samples: &[Option<Sample>], one: impl Fn(f64) -> String) -> String {
    match stats(samples, value) {
        Some((m, lo, hi)) => format!("{} ({}-{})", one(m), one(lo), one(hi)),
        None if samples.is_empty() => "not run".into(),
        None => "failed".into(),
    }
}

/// libzmq's cell of a row: as `fmt_cell`, but a CURVE row of a libzmq
/// without CURVE says why it has no figure.
fn libzmq_cell(cfg: &Config, job: &Job, text: String) -> String {
    if cfg.libzmq && job.transport().curve() && !libzmq::has_curve() {
        "no CURVE in this libzmq (zmq_has)".into()
    } else {
        text
    }
}

/// msg/s in M, or in k below 100 000 (large messages), with the median's
/// unit for the whole cell.
fn fmt_rate(samples: &[Option<Sample>]) -> String {
    let (div, unit) = match stats(samples, value) {
        Some((m, _, _)) if m < 1e5 => (1e3, " k ("),
        _ => (1e6, " M ("),
    };
    fmt_cell(samples, |v| format!("{:.3}", v / div)).replacen(" (", unit, 1)
}

fn fmt_us(samples: &[Option<Sample>]) -> String {
    fmt_cell(samples, |v| format!("{v:.2}")).replacen(" (", " us (", 1)
}

/// The median CPU time per message, "-" without samples.
fn fmt_cpu(samples: &[Option<Sample>]) -> String {
    stats(samples, cpu).map_or("-".into(), |(m, _, _)| format!("{m:.0}"))
}

fn ratio(a: Option<(f64, f64, f64)>, b: Option<(f64, f64, f64)>) -> Option<f64> {
    Some(a?.0 / b?.0)
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.2}x"))
}

fn table(cfg: &Config, cells: &[Cell]) -> String {
    let mut out = String::new();
    for &size in &cfg.sizes {
        let rows: Vec<&Cell> = cells
            .iter()
            .filter(|c| matches!(c.job, Job::Thr(_, _, s) | Job::Lat(_, s) if s == size))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let mut what = Vec::new();
        if cfg.throughput {
            what.push(format!("throughput: {} messages per run", cfg.count(size)));
        }
        if cfg.latency {
            what.push(format!("latency: {} round trips per run", cfg.roundtrips));
        }
        let _ = writeln!(
            out,
            "{size} B messages; {}; median (min-max) of {} runs per library; \
             CPU: process CPU time per message (user + system, every thread), median\n",
            what.join("; "),
            cfg.reps
        );
        out.push_str(
            "| Pattern | Transport | zlink-mq | zlink-mq CPU ns/msg | libzmq | libzmq CPU ns/msg \
             | ratio | CPU ratio |\n",
        );
        out.push_str("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for c in &rows {
            let l = c.libzmq();
            let mut zlink: Vec<(Option<Duration>, &[Option<Sample>])> =
                c.zlink().map(|(d, s)| (Some(d), s)).collect();
            if zlink.is_empty() {
                zlink.push((None, &[]));
            }
            let inproc = c.job.transport() == Transport::Inproc;
            for (busy_wait, z) in zlink {
                let r = fmt_ratio(ratio(stats(z, value), stats(l, value)));
                let rc = fmt_ratio(ratio(stats(z, cpu), stats(l, cpu)));
                let transport = match busy_wait {
                    Some(d) if inproc && cfg.zlink => {
                        format!("{}, {}", c.job.transport().label(), busy_wait_text(d))
                    }
                    _ => c.job.transport().label().to_owned(),
                };
                let (pattern, zf, lf) = match c.job {
                    Job::Thr(p, _, _) => (p.name(), fmt_rate(z), fmt_rate(l)),
                    Job::Lat(..) => ("REQ_REP one-way latency", fmt_us(z), fmt_us(l)),
                };
                let lf = libzmq_cell(cfg, &c.job, lf);
                let _ = writeln!(
                    out,
                    "| {pattern} | {transport} | {zf} | {} | {lf} | {} | {r} | {rc} |",
                    fmt_cpu(z),
                    fmt_cpu(l)
                );
            }
        }
        out.push_str(
            "\nzlink-mq and libzmq: msg/s for throughput, us for latency. ratio = zlink-mq / \
             libzmq (medians): above 1 is faster for throughput, below 1 is faster for \
             latency. CPU ratio = zlink-mq / libzmq CPU time per message: below 1 is \
             cheaper.\n\n",
        );
    }
    out
}

fn json(cfg: &Config, cells: &[Cell], loaded: &libzmq::Loaded) -> serde_json::Value {
    use serde_json::json;
    let stat = |s: Option<(f64, f64, f64)>| {
        s.map(|(median, min, max)| json!({"median": median, "min": min, "max": max}))
    };
    let side = |samples: &[Option<Sample>]| {
        json!({
            "samples": samples.iter().map(|s| s.map(|s| s.value)).collect::<Vec<_>>(),
            "cpu_ns_per_msg": samples.iter().map(|s| s.map(|s| s.cpu_ns)).collect::<Vec<_>>(),
            "stats": stat(stats(samples, value)),
            "cpu_stats": stat(stats(samples, cpu)),
        })
    };
    let rows: Vec<serde_json::Value> = cells
        .iter()
        .map(|c| {
            let (kind, pattern, transport, size, unit) = match c.job {
                Job::Thr(p, t, s) => ("throughput", p.name(), t.name(), s, "msg/s"),
                Job::Lat(t, s) => ("latency", "REQ_REP", t.name(), s, "us"),
            };
            let l = c.libzmq();
            let zlink: Vec<serde_json::Value> = c
                .zlink()
                .map(|(d, z)| {
                    let mut v = side(z);
                    v["busy_wait_us"] = json!(d.as_micros() as u64);
                    v["ratio"] = json!(ratio(stats(z, value), stats(l, value)));
                    v["cpu_ratio"] = json!(ratio(stats(z, cpu), stats(l, cpu)));
                    v
                })
                .collect();
            json!({
                "kind": kind,
                "pattern": pattern,
                "transport": transport,
                "size": size,
                "unit": unit,
                "zlink_mq": zlink,
                "libzmq": side(l),
            })
        })
        .collect();
    json!({
        "date": today(),
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "libzmq": {
            "version": format!("{}.{}.{}", loaded.version.0, loaded.version.1, loaded.version.2),
            "origin": loaded.origin,
            "path": loaded.path,
            "signaler": loaded.signaler,
            "curve": loaded.curve,
        },
        "count": if cfg.counts.len() == 1 { json!(cfg.counts[0]) } else { json!(cfg.counts) },
        "roundtrips": cfg.roundtrips,
        "reps": cfg.reps,
        "hwm": cfg.hwm,
        "results": rows,
    })
}

/// Throughput by message size: a panel per transport, a colour per pattern,
/// zlink-mq solid, libzmq dashed.
fn svg(cfg: &Config, cells: &[Cell], loaded: &libzmq::Loaded, path: &str) -> Result<()> {
    use plotters::prelude::*;

    let median = |samples: &[Option<Sample>]| stats(samples, value).map(|s| s.0);
    // zlink-mq's first busy-wait setting (its default unless --busy-wait
    // says otherwise).
    let ours = |c: &Cell| -> Vec<Option<Sample>> {
        c.zlink().next().map_or(Vec::new(), |(_, s)| s.to_vec())
    };
    let mut lo = f64::MAX;
    let mut hi = f64::MIN;
    for c in cells {
        if let Job::Thr(..) = c.job {
            for v in [median(&ours(c)), median(c.libzmq())].into_iter().flatten() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if lo > hi {
        return Err("no throughput results to draw".into());
    }
    let (ylo, yhi) = (lo / 1.5, hi * 1.5);
    let smin = *cfg.sizes.iter().min().expect("at least one size") as f64;
    let smax = *cfg.sizes.iter().max().expect("at least one size") as f64;
    let (xlo, xhi) = (smin / 1.5, smax * 1.5);

    let width = 520 * cfg.transports.len() as u32;
    let root = SVGBackend::new(path, (width, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        &format!(
            "zlink-mq (solid) vs libzmq {}.{}.{} (dashed): throughput by message size, {} msgs, median of {}",
            loaded.version.0,
            loaded.version.1,
            loaded.version.2,
            cfg.counts.iter().map(u64::to_string).collect::<Vec<_>>().join("/"),
            cfg.reps
        ),
        ("sans-serif", 18),
    )?;
    let panels = root.split_evenly((1, cfg.transports.len()));
    for (panel, &t) in panels.iter().zip(&cfg.transports) {
        let mut chart = ChartBuilder::on(panel)
            .caption(t.label(), ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((xlo..xhi).log_scale(), (ylo..yhi).log_scale())?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(8)
            .x_desc("message size [B]")
            .y_desc("msg/s")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{:.2}M", y / 1e6))
            .draw()?;
        for (i, &p) in cfg.patterns.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let points = |lib: Library| -> Vec<(f64, f64)> {
                cells
                    .iter()
                    .filter_map(|c| match c.job {
                        Job::Thr(cp, ct, s) if cp == p && ct == t => {
                            let samples = match lib {
                                Library::Zlink { .. } => ours(c),
                                Library::Libzmq => c.libzmq().to_vec(),
                            };
                            median(&samples).map(|m| (s as f64, m))
                        }
                        _ => None,
                    })
                    .collect()
            };
            let zlink_points = points(Library::Zlink {
                busy_wait: Duration::ZERO,
            });
            chart
                .draw_series(LineSeries::new(zlink_points.clone(), color.stroke_width(2)))?
                .label(p.name())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart.draw_series(
                zlink_points
                    .iter()
                    .map(|&xy| Circle::new(xy, 3, color.filled())),
            )?;
            chart.draw_series(DashedLineSeries::new(
                points(Library::Libzmq),
                6,
                4,
                color.stroke_width(1),
            ))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn main() {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let loaded = match libzmq::load(&cfg.which_libzmq) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("loading libzmq: {e}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let cells = run(&cfg);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let (a, b, c) = loaded.version;
    println!(
        "zlink-mq vs libzmq {a}.{b}.{c} ({}: {}; signaler: {}; CURVE: {}), {}, {cores} cores, {:.0} s\n",
        loaded.origin,
        loaded.path,
        loaded.signaler,
        if loaded.curve { "yes" } else { "no" },
        today(),
        started.elapsed().as_secs_f64()
    );
    print!("{}", table(&cfg, &cells));
    let _ = std::io::stdout().flush();
    if let Some(path) = &cfg.json {
        let text = serde_json::to_string_pretty(&json(&cfg, &cells, loaded)).expect("JSON values");
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("writing {path}: {e}");
            std::process::exit(1);
        }
    }
    if let Some(path) = &cfg.svg {
        if let Err(e) = svg(&cfg, &cells, loaded, path) {
            eprintln!("drawing {path}: {e}");
            std::process::exit(1);
        }
    }
    let failed = cells
        .iter()
        .any(|c| c.runs.iter().any(|(_, s)| s.iter().any(Option::is_none)));
    if failed {
        std::process::exit(1);
    }
}
