//! The socket: one of the eleven ZeroMQ socket types, owned by one thread at
//! a time, talking to any number of peers over inproc, IPC and TCP.
//!
//! A socket is a peer table (a pipe pair per peer), the core routing of its
//! type deciding which pipe each frame goes to or comes from, and a mailbox
//! through which pipes and the context report state changes. Blocking calls
//! wait on the mailbox's signaler: a pipe that a receive found empty is
//! marked asleep, and the writer that next fills it wakes the socket.

use std::fmt;
use std::ops::BitOr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use zlink_mq_core::routing::{PeerId, PeerIdentity, RecvError, SendError};
use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::zmtp::curve::{KeyPair, SecretKey};

use crate::Msg;
use crate::context::{Context, InprocSide};
use crate::endpoint::{Endpoint, IpcAddr};
use crate::error::{Error, ErrorKind, Result};
use crate::io::{IoCommand, IoShared, Owner, Security, Target, wait_done};
use crate::mailbox::Mailbox;
use crate::monitor::{Event, EventKind, Monitor};
use crate::options::{Options, check_routing_id};
use crate::peers::{Peer, Peers};
use crate::pipe::{Notify, PipeEvent, PipeRx, PipeTx};
use crate::routing::{self, AnyRouting};
use crate::sys::net::{Addr, KeepAlive, Listener, resolve_tcp};

/// How long a blocking call of a socket whose endpoints are all inproc
/// spins on its mailbox before sleeping (see `Socket::spin`).
const INPROC_SPIN: Duration = Duration::from_micros(20);

/// Flags of [`Socket::send`] and [`Socket::recv`], as libzmq's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(u8);

impl Flags {
    /// No flag: block until the operation can complete (or its timeout).
    pub const NONE: Flags = Flags(0);
    /// Do not block: fail with [`ErrorKind::WouldBlock`] instead
    /// (`ZMQ_DONTWAIT`).
    pub const DONTWAIT: Flags = Flags(1);
    /// More frames of this message follow (`ZMQ_SNDMORE`); send only.
    pub const SNDMORE: Flags = Flags(2);

    /// Whether every flag of `other` is set in `self`.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// What other threads tell a socket.
pub(crate) enum Command {
    /// A new peer: its pipe ends, for this socket to attach.
    Attach(Box<NewPeer>),
    /// A pipe's state changed.
    Pipe(u64, PipeEvent),
    /// The context was shut down.
    Terminate,
}

/// One end of a new peer connection.
pub(crate) struct NewPeer {
    pub tx: PipeTx,
    pub rx: PipeRx,
    /// The routing id the peer announced, if any.
    pub routing_id: Option<Vec<u8>>,
    /// The id CONNECT_ROUTING_ID gave this peer: only ever set for a
    /// connection this socket initiated, as in libzmq.
    pub assigned_routing_id: Option<Vec<u8>>,
    /// The endpoint the connection belongs to, as the user wrote it.
    pub endpoint: Option<String>,
}

/// The part of a socket other threads hold: its mailbox.
pub(crate) struct SocketShared {
    pub id: u64,
    pub mailbox: Mailbox<Command>,
}

impl SocketShared {
    pub(crate) fn new(id: u64) -> Result<Self> {
        Ok(Self {
            id,
            mailbox: Mailbox::new()?,
        })
    }
}

impl fmt::Debug for SocketShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketShared")
            .field("id", &self.id)
            .finish()
    }
}

impl Notify for SocketShared {
    fn pipe_event(&self, id: u64, event: PipeEvent) {
        self.mailbox.post(Command::Pipe(id, event));
    }
}

/// An endpoint this socket bound or connected, for unbind / disconnect.
#[derive(Debug)]
struct Attachment {
    /// As the user wrote it.
    endpoint: String,
    /// As resolved (e.g. the port chosen for `tcp://*:*`).
    resolved: String,
    bound: bool,
    /// The I/O thread serving it (TCP and IPC).
    io: Option<Arc<IoShared>>,
}

/// A ZeroMQ socket.
///
/// `Send` but not `Sync`: one thread uses it at a time, as in libzmq.
pub struct Socket {
    ctx: Context,
    kind: SocketType,
    shared: Arc<SocketShared>,
    options: Options,
    routing: AnyRouting,
    peers: Peers,
    commands: Vec<Command>,
    attachments: Vec<Attachment>,
    last_endpoint: Option<String>,
    monitor: Option<Arc<Monitor>>,
    rcvmore: bool,
    terminated: bool,
    /// `fd()` was called: keep the descriptor level-triggered for input.
    fd_exposed: bool,
    /// The descriptor is readable: we signalled it since the last reset.
    fd_signaled: bool,
    /// The descriptor may be readable: we signalled it, or drained commands
    /// without consuming their signal, since the last reset.
    fd_dirty: bool,
}

impl Socket {
    pub(crate) fn new(ctx: Context, kind: SocketType, shared: Arc<SocketShared>) -> Self {
        let options = Options::default();
        Self {
            routing: routing::new(kind, &options),
            ctx,
            kind,
            shared,
            options,
            peers: Peers::default(),
            commands: Vec::new(),
            attachments: Vec::new(),
            last_endpoint: None,
            monitor: None,
            rcvmore: false,
            terminated: false,
            fd_exposed: false,
            fd_signaled: false,
            fd_dirty: false,
        }
    }

    /// The socket's type.
    pub fn socket_type(&self) -> SocketType {
        self.kind
    }

    /// The context the socket belongs to.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The last endpoint bound or connected, resolved (the port chosen for
    /// `tcp://*:*`, the path chosen for `ipc://*`): `ZMQ_LAST_ENDPOINT`.
    pub fn last_endpoint(&self) -> Option<&str> {
        self.last_endpoint.as_deref()
    }

    /// Number of peers attached now.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    fn check_alive(&self) -> Result<()> {
        if self.terminated {
            Err(ErrorKind::Terminated.into())
        } else {
            Ok(())
        }
    }

    /// Accepts connections on `endpoint`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidEndpoint`], [`ErrorKind::TransportNotSupported`],
    /// [`ErrorKind::AddrInUse`], [`ErrorKind::Terminated`], ...
    pub fn bind(&mut self, endpoint: &str) -> Result<()> {
        self.process_commands();
        self.check_alive()?;
        let parsed = Endpoint::parse(endpoint)?;
        let mut io = None;
        let resolved = match parsed {
            Endpoint::Inproc(name) => {
                let side = self.inproc_side();
                let waiting = self.ctx.inproc_bind(side, &name)?;
                for peer in waiting {
                    self.attach(peer);
                }
                endpoint.to_owned()
            }
            Endpoint::Tcp { host, port } => {
                let result = resolve_tcp(&host, port.unwrap_or(0), self.options.ipv6)
                    .and_then(|addrs| Listener::bind(&Addr::Tcp(addrs[0]), self.options.backlog))
                    .and_then(|l| {
                        let local = l.local_tcp_addr()?;
                        Ok((l, local))
                    });
                let (listener, local) = self.bind_result(endpoint, result)?;
                let resolved = format!("tcp://{local}");
                io = Some(self.listen(listener, &resolved)?);
                resolved
            }
            Endpoint::Ipc(addr) => {
                let (addr, resolved) = match addr {
                    IpcAddr::Path(p) => {
                        // As libzmq: a stale socket file from an earlier run
                        // does not block the bind.
                        let _ = std::fs::remove_file(&p);
                        (Addr::Path(p), endpoint.to_owned())
                    }
                    IpcAddr::Abstract(name) => (Addr::Abstract(name), endpoint.to_owned()),
                    IpcAddr::Wildcard => {
                        let path = wildcard_ipc_path();
                        let resolved = format!("ipc://{}", path.display());
                        (Addr::Path(path), resolved)
                    }
                };
                let result = Listener::bind(&addr, self.options.backlog);
                let listener = self.bind_result(endpoint, result)?;
                io = Some(self.listen(listener, &resolved)?);
                resolved
            }
        };
        self.attachments.push(Attachment {
            endpoint: endpoint.to_owned(),
            resolved: resolved.clone(),
            bound: true,
            io,
        });
        self.last_endpoint = Some(resolved);
        Ok(())
    }

    /// Maps a bind failure to our error and reports it to the monitor.
    fn bind_result<T>(&self, endpoint: &str, result: std::io::Result<T>) -> Result<T> {
        result.map_err(|e| {
            self.emit(
                Event::new(
                    EventKind::BindFailed,
                    e.raw_os_error().unwrap_or(0) as u32,
                    endpoint,
                )
                .because(&e),
            );
            let kind = Error::from(e);
            let text = format!("{endpoint}: {kind}");
            Error::with_text(kind.kind(), text)
        })
    }

    /// Hands a listener to an I/O thread; returns the thread.
    fn listen(&mut self, listener: Listener, resolved: &str) -> Result<Arc<IoShared>> {
        let io = self.ctx.pick_io()?;
        let owner = self.owner(resolved.to_owned(), None);
        io.mailbox.post(IoCommand::Listen { listener, owner });
        self.emit(Event::new(EventKind::Listening, 0, resolved));
        Ok(io)
    }

    /// What connections made for `endpoint` need to know about us now.
    fn owner(&self, endpoint: String, assigned_routing_id: Option<Vec<u8>>) -> Arc<Owner> {
        let o = &self.options;
        let security = if o.curve_server {
            Security::CurveServer {
                keys: o.curve_secretkey.clone().map(KeyPair::from_secret),
                authenticator: o.curve_authenticator.clone(),
            }
        } else if let Some(server_key) = o.curve_serverkey {
            Security::CurveClient {
                keys: o.curve_secretkey.clone().map(KeyPair::from_secret),
                server_key,
            }
        } else if o.plain_server {
            Security::PlainServer {
                authenticator: o.plain_authenticator.clone(),
            }
        } else if let (Some(u), Some(p)) = (&o.plain_username, &o.plain_password) {
            Security::PlainClient {
                username: u.clone(),
                password: p.clone(),
            }
        } else {
            Security::Null
        };
        Arc::new(Owner {
            socket: self.shared.clone(),
            socket_type: self.kind,
            endpoint,
            routing_id: o.routing_id.clone().unwrap_or_default(),
            assigned_routing_id,
            sndhwm: o.sndhwm,
            rcvhwm: o.rcvhwm,
            conflate: self.conflates(),
            reconnect_ivl: o.reconnect_ivl,
            reconnect_ivl_max: o.reconnect_ivl_max,
            heartbeat: zlink_mq_core::zmtp::heartbeat::Heartbeat {
                ivl: o.heartbeat_ivl,
                timeout: o.heartbeat_timeout,
                ttl: o.heartbeat_ttl,
            },
            handshake_ivl: o.handshake_ivl,
            maxmsgsize: o.maxmsgsize,
            keepalive: KeepAlive {
                enabled: o.tcp_keepalive,
                count: o.tcp_keepalive_cnt,
                idle: o.tcp_keepalive_idle,
                interval: o.tcp_keepalive_intvl,
            },
            security,
            monitor: self.monitor.clone(),
        })
    }

    fn emit(&self, event: Event) {
        if let Some(m) = &self.monitor {
            m.emit(event);
        }
    }

    /// Connects to `endpoint`. As in libzmq, connecting does not wait for
    /// the peer: messages queue (up to the high-water mark) until it is
    /// there, and an inproc connect may precede the bind.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidEndpoint`], [`ErrorKind::TransportNotSupported`],
    /// [`ErrorKind::Terminated`], ...
    pub fn connect(&mut self, endpoint: &str) -> Result<()> {
        self.process_commands();
        self.check_alive()?;
        let target = match Endpoint::parse(endpoint)? {
            Endpoint::Inproc(name) => {
                let side = self.inproc_side();
                let mut peer = self.ctx.inproc_connect(side, &name)?;
                peer.assigned_routing_id = self.options.connect_routing_id.take();
                self.attach(peer);
                None
            }
            Endpoint::Tcp { host, port } => {
                let Some(port) = port else {
                    return Err(Error::with_text(
                        ErrorKind::InvalidEndpoint,
                        format!("{endpoint}: connect needs a port"),
                    ));
                };
                if host == "*" {
                    return Err(Error::with_text(
                        ErrorKind::InvalidEndpoint,
                        format!("{endpoint}: connect needs a host"),
                    ));
                }
                Some(Target::Tcp {
                    host,
                    port,
                    ipv6: self.options.ipv6,
                })
            }
            Endpoint::Ipc(IpcAddr::Path(p)) => Some(Target::Ipc(Addr::Path(p))),
            Endpoint::Ipc(IpcAddr::Abstract(n)) => Some(Target::Ipc(Addr::Abstract(n))),
            Endpoint::Ipc(IpcAddr::Wildcard) => {
                return Err(Error::with_text(
                    ErrorKind::InvalidEndpoint,
                    format!("{endpoint}: connect needs a path"),
                ));
            }
        };
        let mut io_thread = None;
        if let Some(target) = target {
            let io = self.ctx.pick_io()?;
            io_thread = Some(io.clone());
            let assigned = self.options.connect_routing_id.take();
            let owner = self.owner(endpoint.to_owned(), assigned);
            // Without IMMEDIATE the peer exists for routing from now on and
            // messages queue for it while the connection is down, as in
            // libzmq. A ROUTER learns its peers' ids only in the handshake,
            // so it attaches them then.
            let pipes = if self.options.immediate || self.kind == SocketType::Router {
                None
            } else {
                let id = crate::pipe::next_id();
                let notify: Arc<dyn Notify> = io.clone();
                let (conflate_out, conflate_in) = self.conflates();
                let (tx, engine_rx) = crate::pipe::pipe(
                    id,
                    u64::from(self.options.sndhwm),
                    conflate_out,
                    self.shared.clone(),
                    notify.clone(),
                );
                let (engine_tx, rx) = crate::pipe::pipe(
                    id,
                    u64::from(self.options.rcvhwm),
                    conflate_in,
                    notify,
                    self.shared.clone(),
                );
                self.attach(NewPeer {
                    tx,
                    rx,
                    routing_id: None,
                    assigned_routing_id: owner.assigned_routing_id.clone(),
                    endpoint: Some(endpoint.to_owned()),
                });
                Some((engine_tx, engine_rx))
            };
            io.mailbox.post(IoCommand::Connect {
                target,
                owner,
                pipes: pipes.map(Box::new),
            });
        }
        self.attachments.push(Attachment {
            endpoint: endpoint.to_owned(),
            resolved: endpoint.to_owned(),
            bound: false,
            io: io_thread,
        });
        self.last_endpoint = Some(endpoint.to_owned());
        Ok(())
    }

    /// Stops accepting connections on `endpoint` (as given to `bind`, or as
    /// resolved) and closes the connections accepted through it.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the socket is not bound there.
    pub fn unbind(&mut self, endpoint: &str) -> Result<()> {
        self.detach_endpoint(endpoint, true)
    }

    /// Closes the connection made by `connect(endpoint)`.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the socket is not connected there.
    pub fn disconnect(&mut self, endpoint: &str) -> Result<()> {
        self.detach_endpoint(endpoint, false)
    }

    fn detach_endpoint(&mut self, endpoint: &str, bound: bool) -> Result<()> {
        self.process_commands();
        self.check_alive()?;
        let Some(at) = self
            .attachments
            .iter()
            .position(|a| a.bound == bound && (a.endpoint == endpoint || a.resolved == endpoint))
        else {
            return Err(Error::with_text(
                ErrorKind::NotFound,
                format!(
                    "not {} {endpoint}",
                    if bound { "bound to" } else { "connected to" }
                ),
            ));
        };
        let attachment = self.attachments.remove(at);
        match Endpoint::parse(&attachment.resolved) {
            Ok(Endpoint::Inproc(name)) if bound => self.ctx.inproc_unbind(&self.shared, &name)?,
            Ok(Endpoint::Inproc(_)) => {}
            _ => {
                let socket = self.shared.id;
                let endpoint = attachment.resolved.clone();
                if let Some(io) = &attachment.io {
                    if bound {
                        // Wait for the listener to close, so that the
                        // address is free when `unbind` returns (binding it
                        // again at once is common, in tests especially).
                        let (done, closed) = std::sync::mpsc::sync_channel(0);
                        io.mailbox.post(IoCommand::Unbind {
                            socket,
                            endpoint,
                            done,
                        });
                        wait_done(closed);
                    } else {
                        io.mailbox.post(IoCommand::Disconnect { socket, endpoint });
                    }
                }
            }
        }
        let gone: Vec<PeerId> = self
            .peers
            .ids()
            .filter(|&p| {
                self.peers
                    .get(p)
                    .and_then(|peer| peer.endpoint.as_deref())
                    .is_some_and(|e| e == attachment.endpoint || e == attachment.resolved)
            })
            .collect();
        for p in gone {
            self.detach(p);
        }
        Ok(())
    }

    fn inproc_side(&self) -> InprocSide<'_> {
        InprocSide {
            socket: &self.shared,
            socket_type: self.kind,
            routing_id: self.options.routing_id.clone(),
            sndhwm: self.options.sndhwm,
            rcvhwm: self.options.rcvhwm,
            conflate: self.conflates(),
        }
    }

    /// Whether CONFLATE applies to this socket's outbound and inbound
    /// pipes.
    fn conflates(&self) -> (bool, bool) {
        crate::conflate::directions(self.kind, self.options.conflate)
    }

    /// Attaches a new peer; a peer routing refuses is closed at once.
    fn attach(&mut self, new: NewPeer) {
        let NewPeer {
            tx,
            rx,
            routing_id,
            assigned_routing_id,
            endpoint,
        } = new;
        // Activations posted before we knew the pipe were dropped.
        rx.activated();
        let id = self.peers.insert(Peer { tx, rx, endpoint });
        let identity = match (&assigned_routing_id, &routing_id) {
            (Some(a), _) => PeerIdentity::Assigned(a),
            (None, Some(r)) if !r.is_empty() => PeerIdentity::Announced(r),
            _ => PeerIdentity::Anonymous,
        };
        match self.routing.attach(&mut self.peers, id, identity) {
            Ok(attached) => {
                if let Some(replaced) = attached.replaced {
                    self.detach(replaced);
                }
            }
            Err(_) => {
                // Refused (a second PAIR peer, a duplicate routing id, ...):
                // dropping the pipes closes the connection.
                self.peers.remove(id);
            }
        }
        self.reap();
    }

    fn detach(&mut self, id: PeerId) {
        if self.peers.get(id).is_some() {
            self.routing.detach(&mut self.peers, id);
            self.peers.remove(id);
        }
    }

    /// Detaches the peers whose inbound pipes reached their end.
    #[inline]
    fn reap(&mut self) {
        while let Some(id) = self.peers.take_ended() {
            self.detach(id);
        }
    }

    /// Handles what other threads told us, if anything (one load when not).
    #[inline]
    fn process_commands(&mut self) {
        if self.shared.mailbox.has_pending() {
            self.drain_commands();
        }
    }

    #[cold]
    fn drain_commands(&mut self) {
        // The commands' signal is left on the descriptor.
        self.fd_dirty = true;
        let mut commands = std::mem::take(&mut self.commands);
        self.shared.mailbox.drain_into(&mut commands);
        for command in commands.drain(..) {
            match command {
                Command::Attach(peer) => self.attach(*peer),
                Command::Pipe(pipe_id, event) => {
                    let Some(id) = self.peers.by_pipe(pipe_id) else {
                        continue;
                    };
                    match event {
                        PipeEvent::ReadActivated => {
                            self.peers.activated(id);
                            self.routing.read_activated(&mut self.peers, id);
                        }
                        PipeEvent::WriteActivated => {
                            self.routing.write_activated(&mut self.peers, id);
                        }
                        // The peer stopped reading: routing finds its pipe
                        // unwritable from now on, and the peer is detached
                        // once what it sent before leaving has been read.
                        PipeEvent::ReaderClosed => {
                            self.routing.read_activated(&mut self.peers, id);
                            // A peer whose inbound pipe is drained already
                            // (or never read: a PUSH receives nothing) is
                            // gone now; waiting for a read that never comes
                            // would keep it attached forever.
                            if self.kind == SocketType::Push || self.peers.at_end(id) {
                                self.detach(id);
                            }
                        }
                    }
                }
                Command::Terminate => self.terminated = true,
            }
        }
        self.commands = commands;
        self.reap();
    }

    /// Blocks until something may have changed or `deadline` passes.
    /// Returns `false` on timeout.
    fn wait(&mut self, deadline: Option<Instant>) -> Result<bool> {
        let timeout = match deadline {
            None => None,
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Ok(false);
                }
                Some(d - now)
            }
        };
        let signaler = self.shared.mailbox.signaler();
        // Spin first without registering as a waiter: a peer that posts
        // meanwhile sets `pending` and makes no system call.
        // A command that arrives while spinning costs no sleep and no
        // wake-up.
        let spun = self.spin_first() && self.spin(deadline);
        if !spun {
            if !self.shared.mailbox.watch() {
                // A command arrived after our last look: handle it instead.
                self.process_commands();
                self.check_alive()?;
                return Ok(true);
            }
            let woken = signaler.wait(timeout);
            self.shared.mailbox.unwatch();
            if !woken? {
                return Ok(false);
            }
        }
        // Reset before draining: a signal that lands after the reset comes
        // with a command the drain below (or the next one) sees. After a
        // spin nobody signalled (we were not watching) unless the
        // descriptor is exposed, which every post signals: no system call.
        if !spun || self.fd_exposed {
            signaler.reset();
            self.fd_signaled = false;
            self.fd_dirty = false;
        }
        self.process_commands();
        self.check_alive()?;
        Ok(true)
    }

    /// Whether a blocking call should spin before it sleeps: only when
    /// every endpoint is inproc (whoever wakes us is another user thread,
    /// not an I/O thread that would compete with the spin for a core) and
    /// there is more than one core.
    fn spin_first(&self) -> bool {
        static MULTI_CORE: OnceLock<bool> = OnceLock::new();
        *MULTI_CORE.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
            && self
                .attachments
                .iter()
                .all(|a| a.resolved.starts_with("inproc://"))
    }

    /// Spins until a command is pending (`true`), or `INPROC_SPIN` or the
    /// deadline has passed (`false`). A sleep and its wake-up (a `poll`,
    /// the peer's eventfd write and a context switch each way) cost several
    /// microseconds; over inproc the peer's answer often comes sooner.
    fn spin(&self, deadline: Option<Instant>) -> bool {
        let now = Instant::now();
        let until = deadline.map_or(now + INPROC_SPIN, |d| d.min(now + INPROC_SPIN));
        loop {
            if self.shared.mailbox.has_pending() {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            for _ in 0..64 {
                std::hint::spin_loop();
            }
        }
    }

    fn deadline(flags: Flags, timeout: Option<Duration>) -> Option<Option<Instant>> {
        if flags.contains(Flags::DONTWAIT) {
            None
        } else {
            // A timeout too long to add to `now` (SNDTIMEO / RCVTIMEO
            // near `Duration::MAX`) is no deadline at all.
            Some(timeout.and_then(|t| Instant::now().checked_add(t)))
        }
    }

    /// Sends one frame; with [`Flags::SNDMORE`], more frames of the same
    /// message follow. Blocks while no peer can take it (up to SNDTIMEO)
    /// unless [`Flags::DONTWAIT`].
    ///
    /// # Errors
    /// [`ErrorKind::WouldBlock`] (`EAGAIN`), [`ErrorKind::InvalidState`]
    /// (`EFSM`), [`ErrorKind::NotSupported`], [`ErrorKind::HostUnreachable`],
    /// [`ErrorKind::Terminated`].
    pub fn send(&mut self, msg: impl Into<Msg>, flags: Flags) -> Result<()> {
        let msg = msg.into().with_more(flags.contains(Flags::SNDMORE));
        let result = self.send_msg(msg, flags);
        self.update_fd();
        result
    }

    fn send_msg(&mut self, mut msg: Msg, flags: Flags) -> Result<()> {
        self.process_commands();
        self.check_alive()?;
        let mut deadline = None;
        loop {
            match self.routing.send(&mut self.peers, msg) {
                Ok(()) => {
                    self.reap();
                    return Ok(());
                }
                Err(SendError::WouldBlock(back)) => {
                    self.reap();
                    msg = back;
                }
                Err(e) => {
                    self.reap();
                    return Err(send_error(&e));
                }
            }
            let deadline = match deadline {
                Some(d) => d,
                None => {
                    let Some(d) = Self::deadline(flags, self.options.sndtimeo) else {
                        return Err(ErrorKind::WouldBlock.into());
                    };
                    deadline = Some(d);
                    d
                }
            };
            if !self.wait(deadline)? {
                return Err(ErrorKind::WouldBlock.into());
            }
        }
    }

    /// Sends every frame of `parts` as one message.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_multipart<I, M>(&mut self, parts: I, flags: Flags) -> Result<()>
    where
        I: IntoIterator<Item = M>,
        M: Into<Msg>,
    {
        let mut parts = parts.into_iter().peekable();
        let mut result = Ok(());
        while let Some(part) = parts.next() {
            let more = parts.peek().is_some();
            result = self.send_msg(part.into().with_more(more), flags);
            if result.is_err() {
                break;
            }
        }
        self.update_fd();
        result
    }

    /// Receives one frame; [`Msg::more`] says whether more frames of the
    /// same message follow. Blocks while there is none (up to RCVTIMEO)
    /// unless [`Flags::DONTWAIT`].
    ///
    /// # Errors
    /// [`ErrorKind::WouldBlock`] (`EAGAIN`), [`ErrorKind::InvalidState`]
    /// (`EFSM`), [`ErrorKind::NotSupported`], [`ErrorKind::Terminated`].
    pub fn recv(&mut self, flags: Flags) -> Result<Msg> {
        let result = self.recv_frame(flags);
        self.update_fd();
        result
    }

    fn recv_frame(&mut self, flags: Flags) -> Result<Msg> {
        self.process_commands();
        self.check_alive()?;
        let mut deadline = None;
        loop {
            match self.routing.recv(&mut self.peers) {
                Ok(msg) => {
                    self.reap();
                    self.rcvmore = msg.more();
                    return Ok(msg);
                }
                Err(RecvError::WouldBlock) => self.reap(),
                Err(e) => {
                    self.reap();
                    return Err(recv_error(e));
                }
            }
            let deadline = match deadline {
                Some(d) => d,
                None => {
                    let Some(d) = Self::deadline(flags, self.options.rcvtimeo) else {
                        return Err(ErrorKind::WouldBlock.into());
                    };
                    deadline = Some(d);
                    d
                }
            };
            if !self.wait(deadline)? {
                return Err(ErrorKind::WouldBlock.into());
            }
        }
    }

    /// Receives every frame of the next message.
    ///
    /// # Errors
    /// As [`recv`](Self::recv); once the first frame has arrived the rest
    /// are already there (messages are delivered whole).
    pub fn recv_multipart(&mut self, flags: Flags) -> Result<Vec<Msg>> {
        let mut parts = vec![self.recv_frame(flags)?];
        while self.rcvmore {
            match self.recv_frame(flags) {
                Ok(part) => parts.push(part),
                Err(e) => {
                    self.update_fd();
                    return Err(e);
                }
            }
        }
        self.update_fd();
        Ok(parts)
    }

    /// Whether the last frame received has more frames after it
    /// (`ZMQ_RCVMORE`).
    pub fn rcvmore(&self) -> bool {
        self.rcvmore
    }

    /// Closes the socket. Messages already handed to inproc peers stay
    /// readable by them. Dropping the socket does the same.
    pub fn close(self) {}

    // ----- options -------------------------------------------------------

    /// Sets `ZMQ_SNDHWM`: at most this many outbound messages queue per
    /// peer (0: no limit). Applies to peers attached afterwards.
    pub fn set_sndhwm(&mut self, hwm: u32) {
        self.options.sndhwm = hwm;
    }

    /// `ZMQ_SNDHWM`.
    pub fn sndhwm(&self) -> u32 {
        self.options.sndhwm
    }

    /// Sets `ZMQ_RCVHWM`: at most this many inbound messages queue per peer
    /// (0: no limit). Applies to peers attached afterwards.
    pub fn set_rcvhwm(&mut self, hwm: u32) {
        self.options.rcvhwm = hwm;
    }

    /// `ZMQ_RCVHWM`.
    pub fn rcvhwm(&self) -> u32 {
        self.options.rcvhwm
    }

    /// Sets `ZMQ_SNDTIMEO`: how long a blocking send waits (`None`:
    /// forever).
    pub fn set_sndtimeo(&mut self, timeout: Option<Duration>) {
        self.options.sndtimeo = timeout;
    }

    /// `ZMQ_SNDTIMEO`.
    pub fn sndtimeo(&self) -> Option<Duration> {
        self.options.sndtimeo
    }

    /// Sets `ZMQ_RCVTIMEO`: how long a blocking receive waits (`None`:
    /// forever).
    pub fn set_rcvtimeo(&mut self, timeout: Option<Duration>) {
        self.options.rcvtimeo = timeout;
    }

    /// `ZMQ_RCVTIMEO`.
    pub fn rcvtimeo(&self) -> Option<Duration> {
        self.options.rcvtimeo
    }

    /// Sets `ZMQ_LINGER`: how long closing waits for unsent messages to
    /// leave (`None`: until they have).
    pub fn set_linger(&mut self, linger: Option<Duration>) {
        self.options.linger = linger;
    }

    /// `ZMQ_LINGER`.
    pub fn linger(&self) -> Option<Duration> {
        self.options.linger
    }

    /// Sets `ZMQ_ROUTING_ID`: the id this socket announces to its peers
    /// (1 to 255 bytes, not starting with a zero byte).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for an invalid id.
    pub fn set_routing_id(&mut self, id: &[u8]) -> Result<()> {
        check_routing_id(id)?;
        self.options.routing_id = Some(id.to_vec());
        Ok(())
    }

    /// `ZMQ_ROUTING_ID`.
    pub fn routing_id(&self) -> Option<&[u8]> {
        self.options.routing_id.as_deref()
    }

    /// Sets `ZMQ_CONNECT_ROUTING_ID`: the routing id this ROUTER gives the
    /// peer of its next `connect` (instead of the one the peer announces).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for an invalid id.
    pub fn set_connect_routing_id(&mut self, id: &[u8]) -> Result<()> {
        check_routing_id(id)?;
        self.options.connect_routing_id = Some(id.to_vec());
        Ok(())
    }

    /// `ZMQ_SUBSCRIBE` on a SUB socket: receive messages starting with
    /// `topic` (empty: everything). Subscribing twice needs two
    /// unsubscribes.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`] on other socket types (an XSUB
    /// subscribes by sending `\x01topic`).
    pub fn subscribe(&mut self, topic: &[u8]) -> Result<()> {
        self.subscription(topic, true)
    }

    /// `ZMQ_UNSUBSCRIBE` on a SUB socket: drops one reference to `topic`.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`] on other socket types.
    pub fn unsubscribe(&mut self, topic: &[u8]) -> Result<()> {
        self.subscription(topic, false)
    }

    fn subscription(&mut self, topic: &[u8], subscribe: bool) -> Result<()> {
        self.process_commands();
        self.check_alive()?;
        let result = self
            .routing
            .subscription(&mut self.peers, topic, subscribe)
            .ok_or_else(|| {
                Error::with_text(ErrorKind::NotSupported, "only SUB sockets subscribe")
            })?;
        self.reap();
        self.update_fd();
        result.map_err(|e| Error::with_text(ErrorKind::InvalidArgument, e.to_string()))
    }

    /// What the socket can do now without blocking (`ZMQ_EVENTS`).
    ///
    /// # Errors
    /// [`ErrorKind::Terminated`] once the context is shut down.
    pub fn events(&mut self) -> Result<Events> {
        let events = self.current_events();
        self.update_fd();
        events
    }

    fn current_events(&mut self) -> Result<Events> {
        self.process_commands();
        self.check_alive()?;
        let events = Events {
            readable: self.routing.has_in(&mut self.peers),
            writable: self.routing.has_out(&mut self.peers),
        };
        self.reap();
        Ok(events)
    }

    /// A file descriptor to put in another event loop (epoll, poll, mio,
    /// tokio's `AsyncFd`, ...) so the socket can live there: wait for it to
    /// be **readable**, then call [`events`](Self::events) or receive with
    /// [`Flags::DONTWAIT`]. Never read or write the descriptor itself.
    ///
    /// Readiness, once `fd` has been called:
    ///
    /// - **Input is level-triggered.** Whenever a receive would not block
    ///   (or the context was shut down), the descriptor is readable, and it
    ///   stays readable until the input is consumed: no wake-up is lost, an
    ///   event loop may handle one message per wake-up.
    /// - **Output is reported on change.** After a send failed with
    ///   [`ErrorKind::WouldBlock`] (or [`events`](Self::events) said not
    ///   writable), the descriptor becomes readable when the socket may
    ///   have become writable again; check with [`events`](Self::events).
    /// - It may also be readable with nothing to do (a peer came or went):
    ///   `events` then says so, and the descriptor is quiet again.
    ///
    /// This is the socket's own wake-up descriptor (an eventfd): the level
    /// for input is kept by the socket's calls, so the guarantee holds as
    /// long as the socket is used only through its methods.
    pub fn fd(&mut self) -> std::os::fd::BorrowedFd<'_> {
        if !self.fd_exposed {
            self.fd_exposed = true;
            // An event loop we cannot see waits on the descriptor now:
            // every command must make it readable.
            self.shared.mailbox.watch_forever();
            self.sync_fd();
        }
        self.shared.mailbox.signaler().fd()
    }

    /// Keeps the descriptor's input readiness level-triggered (see
    /// [`fd`](Self::fd)); one branch when `fd` was never called.
    #[inline]
    pub(crate) fn update_fd(&mut self) {
        if self.fd_exposed {
            self.sync_fd();
        }
    }

    #[cold]
    fn sync_fd(&mut self) {
        loop {
            self.process_commands();
            let readable = self.terminated || self.routing.has_in(&mut self.peers);
            self.reap();
            let signaler = self.shared.mailbox.signaler();
            if readable {
                if !self.fd_signaled {
                    signaler.signal();
                    self.fd_signaled = true;
                    self.fd_dirty = true;
                }
                return;
            }
            if !self.fd_dirty {
                return;
            }
            // Quiet the descriptor; a command posted before the reset is
            // pending and handled by the next round (a later one signals
            // again by itself).
            signaler.reset();
            self.fd_signaled = false;
            self.fd_dirty = false;
            if !self.shared.mailbox.has_pending() {
                return;
            }
        }
    }

    /// For a poller: consumes every signal, handles the commands, and says
    /// what the socket can do. The descriptor is left quiet (not
    /// level-triggered) so that a poller waiting for output is not woken
    /// by pending input; [`update_fd`](Self::update_fd) restores the level.
    pub(crate) fn poll_events(&mut self) -> Result<Events> {
        self.shared.mailbox.signaler().reset();
        self.fd_signaled = false;
        self.fd_dirty = false;
        self.current_events()
    }

    /// The part other threads hold (with the wake-up a poller waits on).
    pub(crate) fn shared(&self) -> &Arc<SocketShared> {
        &self.shared
    }

    /// Starts monitoring: events of the kinds in `mask` ([`crate::monitor::EVENT_ALL`]
    /// for all; `EventKind::code` values or-ed together) for endpoints bound
    /// or connected from now on arrive on the returned channel.
    pub fn monitor_channel(&mut self, mask: u16) -> std::sync::mpsc::Receiver<Event> {
        let (m, rx) = Monitor::channel(mask);
        self.set_monitor(m);
        rx
    }

    /// Replaces the monitor; the old one stops (connections made under it
    /// report nothing more).
    fn set_monitor(&mut self, monitor: Monitor) {
        if let Some(old) = self.monitor.replace(Arc::new(monitor)) {
            old.stop();
        }
    }

    /// libzmq's `zmq_socket_monitor`: events of the kinds in `mask` are sent,
    /// in libzmq's two-frame format (event number and value, then the
    /// endpoint), by a PAIR socket bound to `endpoint` (an `inproc://`
    /// name); connect a PAIR to it to read them.
    ///
    /// # Errors
    /// [`ErrorKind::TransportNotSupported`] unless `endpoint` is
    /// `inproc://`; otherwise as [`Socket::bind`] for the monitor's PAIR
    /// socket.
    pub fn monitor(&mut self, endpoint: &str, mask: u16) -> Result<()> {
        if !matches!(Endpoint::parse(endpoint)?, Endpoint::Inproc(_)) {
            // As libzmq: monitor events stay in the process.
            return Err(Error::with_text(
                ErrorKind::TransportNotSupported,
                format!("{endpoint}: a monitor endpoint must be inproc://"),
            ));
        }
        let mut pair = self.ctx.socket(SocketType::Pair)?;
        pair.bind(endpoint)?;
        self.set_monitor(Monitor::socket(mask, pair));
        Ok(())
    }

    fn set_routing_flag(&mut self, set: impl FnOnce(&mut Options)) {
        set(&mut self.options);
        self.routing.apply(&self.options);
    }

    /// `ZMQ_ROUTER_MANDATORY`: a ROUTER fails with
    /// [`ErrorKind::HostUnreachable`] (or blocks / [`ErrorKind::WouldBlock`]
    /// when the peer is full) instead of dropping unroutable messages.
    pub fn set_router_mandatory(&mut self, on: bool) {
        self.set_routing_flag(|o| o.router_mandatory = on);
    }

    /// `ZMQ_ROUTER_HANDOVER`: a new peer with a routing id in use takes it
    /// over instead of being refused.
    pub fn set_router_handover(&mut self, on: bool) {
        self.set_routing_flag(|o| o.router_handover = on);
    }

    /// `ZMQ_REQ_CORRELATE`: a REQ matches replies to requests by id.
    pub fn set_req_correlate(&mut self, on: bool) {
        self.set_routing_flag(|o| o.req_correlate = on);
    }

    /// `ZMQ_REQ_RELAXED`: a REQ may send a new request without waiting for
    /// the reply to the last.
    pub fn set_req_relaxed(&mut self, on: bool) {
        self.set_routing_flag(|o| o.req_relaxed = on);
    }

    /// `ZMQ_XPUB_VERBOSE`: an XPUB passes every subscription up, not only
    /// new ones.
    pub fn set_xpub_verbose(&mut self, on: bool) {
        self.set_routing_flag(|o| o.xpub_verbose = on);
    }

    /// `ZMQ_XPUB_VERBOSER`: as verbose, and unsubscriptions too.
    pub fn set_xpub_verboser(&mut self, on: bool) {
        self.set_routing_flag(|o| o.xpub_verboser = on);
    }

    /// `ZMQ_XPUB_NODROP`: a PUB / XPUB blocks (or fails with
    /// [`ErrorKind::WouldBlock`]) instead of dropping when a subscriber is
    /// full.
    pub fn set_xpub_nodrop(&mut self, on: bool) {
        self.set_routing_flag(|o| o.xpub_nodrop = on);
    }

    /// `ZMQ_INVERT_MATCHING`: PUB / XPUB / SUB deliver what does *not*
    /// match the subscriptions.
    pub fn set_invert_matching(&mut self, on: bool) {
        self.set_routing_flag(|o| o.invert_matching = on);
    }

    /// `ZMQ_CONFLATE`: keep only the latest message in each peer's queue
    /// (the high-water marks are ignored), on DEALER, PULL, PUSH, PUB and
    /// SUB, as libzmq; other types ignore it. Whole multipart messages are
    /// kept and replaced (libzmq keeps the last frame). Subscriptions are
    /// never conflated. Applies to connections made afterwards; with an
    /// inproc connect made before the bind, the connecting socket's setting
    /// decides.
    pub fn set_conflate(&mut self, on: bool) {
        self.options.conflate = on;
    }

    /// `ZMQ_CONFLATE`.
    pub fn conflate(&self) -> bool {
        self.options.conflate
    }

    /// `ZMQ_IMMEDIATE`: queue messages only to completed connections (a
    /// connecting socket's pipe exists only while connected).
    pub fn set_immediate(&mut self, on: bool) {
        self.options.immediate = on;
    }

    /// `ZMQ_RECONNECT_IVL`: wait this long before reconnecting (`None`:
    /// never reconnect, libzmq's -1).
    pub fn set_reconnect_ivl(&mut self, ivl: Option<Duration>) {
        self.options.reconnect_ivl = ivl;
    }

    /// `ZMQ_RECONNECT_IVL_MAX`: double the reconnect interval after each
    /// failure up to this (`None`: no backoff).
    pub fn set_reconnect_ivl_max(&mut self, max: Option<Duration>) {
        self.options.reconnect_ivl_max = max;
    }

    /// `ZMQ_HEARTBEAT_IVL`: send a PING this often (`None`: never).
    pub fn set_heartbeat_ivl(&mut self, ivl: Option<Duration>) {
        self.options.heartbeat_ivl = ivl;
    }

    /// `ZMQ_HEARTBEAT_TTL`: ask peers to drop us after this much silence.
    pub fn set_heartbeat_ttl(&mut self, ttl: Option<Duration>) {
        self.options.heartbeat_ttl = ttl;
    }

    /// `ZMQ_HEARTBEAT_TIMEOUT`: drop a peer silent this long after a PING
    /// (`None`: the heartbeat interval).
    pub fn set_heartbeat_timeout(&mut self, timeout: Option<Duration>) {
        self.options.heartbeat_timeout = timeout;
    }

    /// `ZMQ_HANDSHAKE_IVL`: drop connections whose handshake takes longer
    /// (`None`: no limit).
    pub fn set_handshake_ivl(&mut self, ivl: Option<Duration>) {
        self.options.handshake_ivl = ivl;
    }

    /// `ZMQ_MAXMSGSIZE`: drop peers that send a larger frame (`None`: no
    /// limit).
    pub fn set_maxmsgsize(&mut self, max: Option<u64>) {
        self.options.maxmsgsize = max;
    }

    /// `ZMQ_TCP_KEEPALIVE` (`None`: the OS default).
    pub fn set_tcp_keepalive(&mut self, on: Option<bool>) {
        self.options.tcp_keepalive = on;
    }

    /// `ZMQ_TCP_KEEPALIVE_CNT`, `_IDLE` and `_INTVL` (`None`: OS default).
    pub fn set_tcp_keepalive_params(
        &mut self,
        count: Option<u32>,
        idle: Option<Duration>,
        interval: Option<Duration>,
    ) {
        self.options.tcp_keepalive_cnt = count;
        self.options.tcp_keepalive_idle = idle;
        self.options.tcp_keepalive_intvl = interval;
    }

    /// `ZMQ_BACKLOG`: pending connections a listener queues.
    pub fn set_backlog(&mut self, backlog: u32) {
        self.options.backlog = backlog;
    }

    /// `ZMQ_IPV6`: resolve and bind IPv6 too (`tcp://*` binds dual-stack).
    pub fn set_ipv6(&mut self, on: bool) {
        self.options.ipv6 = on;
    }

    /// `ZMQ_PLAIN_SERVER`: act as PLAIN server (CURVE settings give way);
    /// `authenticator` judges each
    /// client's user name and password (`None` accepts every client, as
    /// libzmq does without a ZAP handler).
    pub fn set_plain_server(
        &mut self,
        authenticator: Option<impl Fn(&[u8], &[u8]) -> bool + Send + Sync + 'static>,
    ) {
        self.clear_curve();
        self.options.plain_server = true;
        self.options.plain_authenticator =
            authenticator.map(|a| Arc::new(a) as Arc<crate::io::Authenticator>);
    }

    /// `ZMQ_PLAIN_USERNAME` and `ZMQ_PLAIN_PASSWORD`: act as PLAIN client
    /// with these credentials (each at most 255 bytes).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] if either is longer than 255 bytes.
    pub fn set_plain_client(&mut self, username: &[u8], password: &[u8]) -> Result<()> {
        if username.len() > 255 || password.len() > 255 {
            return Err(Error::with_text(
                ErrorKind::InvalidArgument,
                "PLAIN user names and passwords have at most 255 bytes",
            ));
        }
        self.options.plain_server = false;
        self.options.plain_username = Some(username.to_vec());
        self.options.plain_password = Some(password.to_vec());
        self.clear_curve();
        Ok(())
    }

    /// `ZMQ_CURVE_SERVER`: act as CURVE server (with the key pair of
    /// [`set_curve_secretkey`](Socket::set_curve_secretkey)); `false`
    /// returns to NULL security, as libzmq. Each client's long-term key is
    /// accepted unless a [`set_curve_authenticator`](Socket::set_curve_authenticator)
    /// callback refuses it (then the client gets ERROR 400).
    pub fn set_curve_server(&mut self, on: bool) {
        self.options.curve_server = on;
        if on {
            self.options.curve_serverkey = None;
            self.clear_plain();
        }
    }

    /// Judges each CURVE client's long-term public key on a CURVE server
    /// (`None`: every key, as libzmq without a ZAP handler). It runs on an
    /// I/O thread; a panic in it refuses the client.
    pub fn set_curve_authenticator(
        &mut self,
        authenticator: Option<impl Fn(&[u8; 32]) -> bool + Send + Sync + 'static>,
    ) {
        self.options.curve_authenticator =
            authenticator.map(|a| Arc::new(a) as Arc<crate::io::CurveAuthenticator>);
    }

    /// `ZMQ_CURVE_PUBLICKEY`: our long-term public key, 32 bytes or 40 Z85
    /// characters. Optional: connections compute it from the secret key;
    /// the one set here is only what [`curve_publickey`](Socket::curve_publickey)
    /// reports until a secret key is set.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for another length or bad Z85.
    pub fn set_curve_publickey(&mut self, key: &[u8]) -> Result<()> {
        self.options.curve_publickey = Some(crate::options::curve_key(key)?);
        Ok(())
    }

    /// `ZMQ_CURVE_SECRETKEY`: our long-term secret key, 32 bytes or 40 Z85
    /// characters (kept zeroized on drop).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for another length or bad Z85.
    pub fn set_curve_secretkey(&mut self, key: &[u8]) -> Result<()> {
        let bytes = zeroize::Zeroizing::new(crate::options::curve_key(key)?);
        self.options.curve_secretkey = Some(SecretKey::from_bytes(*bytes));
        Ok(())
    }

    /// `ZMQ_CURVE_SERVERKEY`: act as CURVE client of the server with this
    /// long-term public key (32 bytes or 40 Z85 characters), with our key
    /// pair from [`set_curve_secretkey`](Socket::set_curve_secretkey).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for another length or bad Z85.
    pub fn set_curve_serverkey(&mut self, key: &[u8]) -> Result<()> {
        self.options.curve_serverkey = Some(crate::options::curve_key(key)?);
        self.options.curve_server = false;
        self.clear_plain();
        Ok(())
    }

    fn clear_plain(&mut self) {
        self.options.plain_server = false;
        self.options.plain_username = None;
        self.options.plain_password = None;
    }

    fn clear_curve(&mut self) {
        self.options.curve_server = false;
        self.options.curve_serverkey = None;
    }
}

impl Socket {
    /// `ZMQ_ROUTER_MANDATORY`.
    pub fn router_mandatory(&self) -> bool {
        self.options.router_mandatory
    }

    /// `ZMQ_ROUTER_HANDOVER`.
    pub fn router_handover(&self) -> bool {
        self.options.router_handover
    }

    /// `ZMQ_REQ_CORRELATE`.
    pub fn req_correlate(&self) -> bool {
        self.options.req_correlate
    }

    /// `ZMQ_REQ_RELAXED`.
    pub fn req_relaxed(&self) -> bool {
        self.options.req_relaxed
    }

    /// `ZMQ_XPUB_VERBOSE` (also true with VERBOSER).
    pub fn xpub_verbose(&self) -> bool {
        self.options.xpub_verbose || self.options.xpub_verboser
    }

    /// `ZMQ_XPUB_VERBOSER`.
    pub fn xpub_verboser(&self) -> bool {
        self.options.xpub_verboser
    }

    /// `ZMQ_XPUB_NODROP`.
    pub fn xpub_nodrop(&self) -> bool {
        self.options.xpub_nodrop
    }

    /// `ZMQ_INVERT_MATCHING`.
    pub fn invert_matching(&self) -> bool {
        self.options.invert_matching
    }

    /// `ZMQ_IMMEDIATE`.
    pub fn immediate(&self) -> bool {
        self.options.immediate
    }

    /// `ZMQ_RECONNECT_IVL` (`None`: never reconnect).
    pub fn reconnect_ivl(&self) -> Option<Duration> {
        self.options.reconnect_ivl
    }

    /// `ZMQ_RECONNECT_IVL_MAX` (`None`: no backoff).
    pub fn reconnect_ivl_max(&self) -> Option<Duration> {
        self.options.reconnect_ivl_max
    }

    /// `ZMQ_HEARTBEAT_IVL`.
    pub fn heartbeat_ivl(&self) -> Option<Duration> {
        self.options.heartbeat_ivl
    }

    /// `ZMQ_HEARTBEAT_TTL`.
    pub fn heartbeat_ttl(&self) -> Option<Duration> {
        self.options.heartbeat_ttl
    }

    /// `ZMQ_HEARTBEAT_TIMEOUT` (`None`: the heartbeat interval).
    pub fn heartbeat_timeout(&self) -> Option<Duration> {
        self.options.heartbeat_timeout
    }

    /// `ZMQ_HANDSHAKE_IVL` (`None`: no limit).
    pub fn handshake_ivl(&self) -> Option<Duration> {
        self.options.handshake_ivl
    }

    /// `ZMQ_MAXMSGSIZE` (`None`: no limit).
    pub fn maxmsgsize(&self) -> Option<u64> {
        self.options.maxmsgsize
    }

    /// `ZMQ_TCP_KEEPALIVE` (`None`: the OS default).
    pub fn tcp_keepalive(&self) -> Option<bool> {
        self.options.tcp_keepalive
    }

    /// `ZMQ_BACKLOG`.
    pub fn backlog(&self) -> u32 {
        self.options.backlog
    }

    /// `ZMQ_IPV6`.
    pub fn ipv6(&self) -> bool {
        self.options.ipv6
    }

    /// `ZMQ_PLAIN_SERVER`.
    pub fn plain_server(&self) -> bool {
        self.options.plain_server
    }

    /// `ZMQ_PLAIN_USERNAME`, when the socket is a PLAIN client.
    pub fn plain_username(&self) -> Option<&[u8]> {
        self.options.plain_username.as_deref()
    }

    /// `ZMQ_CURVE_SERVER`.
    pub fn curve_server(&self) -> bool {
        self.options.curve_server
    }

    /// `ZMQ_CURVE_PUBLICKEY`: the public key of our secret key (or the one
    /// set, before a secret key is).
    pub fn curve_publickey(&self) -> Option<[u8; 32]> {
        match &self.options.curve_secretkey {
            Some(secret) => Some(secret.public_key()),
            None => self.options.curve_publickey,
        }
    }

    /// `ZMQ_CURVE_SERVERKEY`, when the socket is a CURVE client.
    pub fn curve_serverkey(&self) -> Option<[u8; 32]> {
        self.options.curve_serverkey
    }
}

/// What a socket can do without blocking (`ZMQ_EVENTS`), or what a poller
/// waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Events {
    /// A receive would not block (`ZMQ_POLLIN`).
    pub readable: bool,
    /// A send would not block (`ZMQ_POLLOUT`).
    pub writable: bool,
}

impl Events {
    /// Neither.
    pub const NONE: Events = Events {
        readable: false,
        writable: false,
    };
    /// Readable (`ZMQ_POLLIN`).
    pub const READABLE: Events = Events {
        readable: true,
        writable: false,
    };
    /// Writable (`ZMQ_POLLOUT`).
    pub const WRITABLE: Events = Events {
        readable: false,
        writable: true,
    };

    /// Whether neither is set.
    pub const fn is_empty(self) -> bool {
        !self.readable && !self.writable
    }
}

impl BitOr for Events {
    type Output = Events;
    fn bitor(self, rhs: Events) -> Events {
        Events {
            readable: self.readable || rhs.readable,
            writable: self.writable || rhs.writable,
        }
    }
}

impl std::ops::BitAnd for Events {
    type Output = Events;
    fn bitand(self, rhs: Events) -> Events {
        Events {
            readable: self.readable && rhs.readable,
            writable: self.writable && rhs.writable,
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let socket = self.shared.id;
        let linger = self.options.linger;
        // As `unbind`: the listeners are closed when `close` returns.
        let (done, closed) = std::sync::mpsc::sync_channel(0);
        let listening: Vec<&Arc<IoShared>> = self
            .attachments
            .iter()
            .filter(|a| a.bound)
            .filter_map(|a| a.io.as_ref())
            .collect();
        self.ctx.post_io(|io| IoCommand::SocketClosed {
            socket,
            linger,
            done: listening
                .iter()
                .any(|l| Arc::ptr_eq(l, io))
                .then(|| done.clone()),
        });
        drop(done);
        wait_done(closed);
        // After the listeners' CLOSED events; connections still lingering
        // report nothing more (as libzmq, whose monitor ends with its
        // socket).
        if let Some(m) = self.monitor.take() {
            m.stop();
        }
        // Unregistered last: `Context::terminate` stops the I/O threads once
        // every socket is unregistered, and they must have seen
        // `SocketClosed` (which makes sessions linger) by then.
        self.ctx.unregister(&self.shared);
        // Dropping the peer table closes every pipe: peers read what we sent
        // and then the end.
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("type", &self.kind)
            .field("peers", &self.peers.len())
            .field("last_endpoint", &self.last_endpoint)
            .finish_non_exhaustive()
    }
}

/// A fresh path for `ipc://*`, in the temporary directory.
fn wildcard_ipc_path() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    // ORDERING: only uniqueness matters.
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("zlink-mq-{}-{n}.ipc", std::process::id()))
}

fn send_error<M>(e: &SendError<M>) -> Error {
    match e {
        SendError::WouldBlock(_) => ErrorKind::WouldBlock.into(),
        SendError::State(_) => ErrorKind::InvalidState.into(),
        SendError::Unroutable(_) => ErrorKind::HostUnreachable.into(),
        SendError::NotSupported(_) => ErrorKind::NotSupported.into(),
        SendError::FrameTooLarge(_) => ErrorKind::MessageTooLarge.into(),
        other => Error::with_text(ErrorKind::InvalidArgument, other.to_string()),
    }
}

fn recv_error(e: RecvError) -> Error {
    match e {
        RecvError::WouldBlock => ErrorKind::WouldBlock.into(),
        RecvError::State => ErrorKind::InvalidState.into(),
        RecvError::NotSupported => ErrorKind::NotSupported.into(),
        RecvError::FrameTooLarge => ErrorKind::MessageTooLarge.into(),
        other => Error::with_text(ErrorKind::Protocol, other.to_string()),
    }
}
