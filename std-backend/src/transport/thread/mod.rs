//! The I/O thread's event loop: listeners, connections, timers.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant as StdInstant};

use zlink_mq_core::time::Instant;

use super::any_engine::AnyEngine;
use super::engine::{Failure, Pipes, Progress};
use super::socks::{Socks, SocksClient};
use super::{IoCommand, IoShared, Owner, Target};
use crate::base::slab::Slab;
use crate::pipe::handle::NewPeer;
use crate::pipe::mailbox::Mailbox;
use crate::pipe::{self, PipeEvent, PipeId};
use crate::sys::net::{Addr, Connecting, Listener, Stream, resolve_source, resolve_tcp};
use crate::sys::{Interest, Selector};
use crate::transport::monitor::{Event, EventKind};

mod closing;
mod proxy;
mod timers;

const MAILBOX: u64 = 0;
const LISTENER: u64 = 1 << 56;
const SESSION: u64 = 2 << 56;
const KEY_MASK: u64 = (1 << 56) - 1;

/// Starts an I/O thread.
pub(crate) fn spawn(name: String) -> io::Result<(Arc<IoShared>, JoinHandle<()>)> {
    let shared = Arc::new(IoShared {
        mailbox: Mailbox::new()?,
    });
    let for_thread = shared.clone();
    // The selector is made on the thread that uses it (its event buffer is
    // not `Send`); setup errors come back through this channel.
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
    let handle = std::thread::Builder::new().name(name).spawn(move || {
        let selector = match Selector::new().and_then(|sel| {
            sel.add(for_thread.mailbox.signaler().fd(), MAILBOX, Interest::READ)?;
            Ok(sel)
        }) {
            Ok(sel) => {
                let _ = ready_tx.send(Ok(()));
                sel
            }
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        let mut thread = IoThread {
            shared: for_thread.clone(),
            selector,
            listeners: Slab::default(),
            sessions: Slab::default(),
            by_pipe: HashMap::new(),
            timers: BinaryHeap::new(),
            epoch: StdInstant::now(),
            stopping: false,
        };
        thread.run();
        // Whatever is posted from now on is dropped on arrival, so a socket
        // waiting for us to handle a command does not wait forever.
        for_thread.mailbox.close();
        drop(thread);
    })?;
    ready_rx
        .recv()
        .unwrap_or_else(|_| Err(io::Error::other("I/O thread died during setup")))?;
    Ok((shared, handle))
}

struct ListenerEntry {
    listener: Listener,
    owner: Arc<Owner>,
}

enum Link {
    /// Waiting to (re)connect.
    Idle,
    Connecting(Connecting),
    /// Connected to a SOCKS proxy, asking it for the peer.
    Socks(Box<Socks>),
    Up(Box<AnyEngine>),
    /// Everything queued was written and our direction of the stream is
    /// shut; see [`Drain`].
    Draining(Box<AnyEngine>, Drain),
}

enum Role {
    /// Accepted by a listener.
    Accepted { listener: usize },
    /// Made by `connect`; reconnects with backoff.
    Connecter { target: Target, next_ivl: Duration },
}

struct Session {
    owner: Arc<Owner>,
    role: Role,
    link: Link,
    /// This side's ends of the pipes to the socket, once attached.
    pipes: Option<Pipes>,
    pipe_id: Option<PipeId>,
    /// The socket keeps the pipes across reconnections (no IMMEDIATE).
    persistent: bool,
    /// The last connection died in the middle of an outbound message: the
    /// next one drops the rest of it.
    skip_outbound: bool,
    /// The socket is closed: the session only delivers what is queued
    /// (LINGER), then ends; it never reconnects.
    closing: bool,
    /// When a closing session must give up delivering (`None`: LINGER is
    /// infinite).
    linger_until: Option<Instant>,
    /// When the session next wants the timer to fire.
    deadline: Option<Instant>,
    /// The one timer-heap entry that counts for this session (others with
    /// its key are stale). A later deadline pushes nothing: the entry fires
    /// first and re-queues; an earlier one replaces it. So the heap holds
    /// O(sessions) live entries however often deadlines move (a heartbeat
    /// timeout reset per message would otherwise push one per message).
    queued: Option<Instant>,
    interest: Option<Interest>,
}

/// A session whose socket has nothing more to send waits before closing
/// the stream until the peer has taken every byte (the kernel's send queue
/// is empty), the peer closes its side, LINGER runs out, or the peer stops
/// taking bytes for [`Drain::STALL`]. Closing at once would make the peer
/// see a hang-up while our last bytes are still unread in its receive
/// buffer: libzmq 4.3 drops those when its input is paused by a full queue
/// (libzmq issue #4660, lost messages over ipc); and a TCP close with input
/// unread resets the connection, discarding what is still unsent.
#[derive(Debug, Clone, Copy)]
struct Drain {
    /// Bytes the peer had not taken at the last look.
    unsent: usize,
    /// When that count last went down.
    progress_at: Instant,
    /// When to look again, and the gap after that.
    next_check: Instant,
    interval: Duration,
}

impl Drain {
    /// A peer that takes nothing for this long is not waited for: a
    /// process that stopped reading must not hold the context's end
    /// (libzmq closes at once).
    const STALL: Duration = Duration::from_secs(1);
    const FIRST_CHECK: Duration = Duration::from_millis(1);
    const MAX_INTERVAL: Duration = Duration::from_millis(50);
}

struct IoThread {
    shared: Arc<IoShared>,
    selector: Selector,
    listeners: Slab<ListenerEntry>,
    sessions: Slab<Session>,
    by_pipe: HashMap<PipeId, usize>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    epoch: StdInstant,
    stopping: bool,
}

impl IoThread {
    fn now(&self) -> Instant {
        Instant::from_millis(self.epoch.elapsed().as_millis() as u64)
    }

    fn run(&mut self) {
        let mut ready = Vec::new();
        let mut commands = Vec::with_capacity(crate::pipe::mailbox::INITIAL_COMMANDS);
        loop {
            let now = self.now();
            // Sockets signal our eventfd only while we may be blocked in
            // epoll: register as a waiter, or poll without blocking when
            // commands are already queued.
            let watching = self.shared.mailbox.watch();
            let timeout = if watching {
                self.timers
                    .peek()
                    .map(|Reverse((at, _))| at.saturating_duration_since(now))
            } else {
                Some(Duration::ZERO)
            };
            let waited = self.selector.wait(timeout, |r| ready.push(r));
            if watching {
                self.shared.mailbox.unwatch();
            }
            if let Err(e) = waited {
                // epoll itself failing leaves nothing to serve.
                eprintln!("zlink-mq: I/O thread stops: epoll_wait failed: {e}");
                return;
            }
            for r in ready.drain(..) {
                let key = (r.token & KEY_MASK) as usize;
                match r.token & !KEY_MASK {
                    MAILBOX => self.shared.mailbox.signaler().reset(),
                    LISTENER => self.accept(key),
                    _ => self.session_ready(key, r.readable, r.writable),
                }
            }
            if self.shared.mailbox.has_pending() {
                self.shared.mailbox.drain_into(&mut commands);
                for c in commands.drain(..) {
                    self.command(c);
                }
            }
            self.fire_timers();
            if self.stopping && self.sessions.len() == 0 {
                return;
            }
        }
    }

    fn command(&mut self, command: IoCommand) {
        match command {
            IoCommand::Listen { listener, owner } => {
                let key = self.listeners.insert(ListenerEntry { listener, owner });
                let entry = self.listeners.get(key).expect("just inserted");
                if let Err(e) =
                    self.selector
                        .add(&entry.listener, LISTENER | key as u64, Interest::READ)
                {
                    entry.owner.event(
                        Event::new(EventKind::BindFailed, 0, &entry.owner.endpoint).because(e),
                    );
                    self.listeners.remove(key);
                }
            }
            IoCommand::Connect {
                target,
                owner,
                pipes,
            } => {
                let persistent = pipes.is_some();
                let pipe_id = pipes.as_ref().map(|p| p.0.id());
                let next_ivl = owner.reconnect_ivl.unwrap_or(Duration::ZERO);
                let key = self.sessions.insert(Session {
                    owner,
                    role: Role::Connecter { target, next_ivl },
                    link: Link::Idle,
                    pipes: pipes.map(|p| {
                        let (tx, rx) = *p;
                        rx.activated();
                        Pipes { tx, rx }
                    }),
                    pipe_id,
                    persistent,
                    skip_outbound: false,
                    closing: false,
                    linger_until: None,
                    deadline: None,
                    queued: None,
                    interest: None,
                });
                if let Some(id) = pipe_id {
                    self.by_pipe.insert(id, key);
                }
                self.connect(key);
            }
            IoCommand::Pipe(id, event) => {
                let Some(&key) = self.by_pipe.get(&id) else {
                    return;
                };
                if let Some(session) = self.sessions.get_mut(key) {
                    if session.pipe_id != Some(id) {
                        // A pipe to the ZAP handler: its reply came.
                        if let Link::Up(engine) = &mut session.link {
                            if engine.zap_activated(id) {
                                self.pump_input(key);
                            }
                        }
                        return;
                    }
                }
                match event {
                    PipeEvent::ReadActivated => {
                        if let Some(p) = self.sessions.get(key).and_then(|s| s.pipes.as_ref()) {
                            p.rx.activated();
                        }
                        self.pump_output(key);
                    }
                    PipeEvent::WriteActivated => {
                        if let Some(Link::Up(engine)) =
                            self.sessions.get_mut(key).map(|s| &mut s.link)
                        {
                            engine.unblock_input();
                        }
                        self.pump_input(key);
                    }
                    // The socket no longer reads this connection: it is
                    // closing; the end of its outbound pipe follows.
                    PipeEvent::ReaderClosed => self.pump_output(key),
                }
            }
            IoCommand::Unbind {
                socket,
                endpoint,
                done,
            } => {
                let keys: Vec<usize> = self
                    .listeners
                    .iter()
                    .filter(|(_, l)| l.owner.socket.id == socket && l.owner.endpoint == endpoint)
                    .map(|(k, _)| k)
                    .collect();
                for k in keys {
                    self.close_listener(k);
                    let accepted: Vec<usize> = self
                        .sessions
                        .iter()
                        .filter(
                            |(_, s)| matches!(s.role, Role::Accepted { listener } if listener == k),
                        )
                        .map(|(k, _)| k)
                        .collect();
                    for s in accepted {
                        self.close_session(s);
                    }
                }
                drop(done);
            }
            IoCommand::Disconnect { socket, endpoint } => {
                let keys: Vec<usize> = self
                    .sessions
                    .iter()
                    .filter(|(_, s)| {
                        s.owner.socket.id == socket
                            && s.owner.endpoint == endpoint
                            && matches!(s.role, Role::Connecter { .. })
                    })
                    .map(|(k, _)| k)
                    .collect();
                for k in keys {
                    self.close_session(k);
                }
            }
            IoCommand::SocketClosed {
                socket,
                linger,
                done,
            } => {
                let listeners: Vec<usize> = self
                    .listeners
                    .iter()
                    .filter(|(_, l)| l.owner.socket.id == socket)
                    .map(|(k, _)| k)
                    .collect();
                for k in listeners {
                    self.close_listener(k);
                }
                drop(done);
                let now = self.now();
                let sessions: Vec<usize> = self
                    .sessions
                    .iter()
                    .filter(|(_, s)| s.owner.socket.id == socket)
                    .map(|(k, _)| k)
                    .collect();
                for k in sessions {
                    let session = self.sessions.get_mut(k).expect("listed");
                    // A connection that is up delivers what it can. One
                    // not yet made, or waiting to reconnect, keeps trying
                    // while messages are queued for it, until they are
                    // delivered or LINGER runs out (forever by default), as
                    // in libzmq: "connect, send, close" programs rely on it,
                    // and dropping the context waits for it as
                    // `zmq_ctx_term` does. With nothing queued there is
                    // nothing to linger for.
                    let deliverable = match &mut session.link {
                        Link::Up(_) | Link::Draining(..) => true,
                        Link::Connecting(_) | Link::Socks(_) | Link::Idle => session
                            .pipes
                            .as_mut()
                            .is_some_and(|p| p.rx.check_read() && !p.rx.at_end()),
                    };
                    match linger {
                        Some(d) if d.is_zero() => {
                            session.closing = true;
                            self.close_session(k);
                        }
                        _ if !deliverable => {
                            session.closing = true;
                            self.close_session(k);
                        }
                        _ => {
                            session.closing = true;
                            session.linger_until = linger.and_then(|d| now.checked_add(d));
                            self.reschedule(k);
                            self.pump_output(k);
                        }
                    }
                }
            }
            IoCommand::Stop => {
                // Every socket is closed by now. Sessions still delivering
                // what their socket queued before closing keep going until
                // done or until LINGER runs out (libzmq's zmq_ctx_term);
                // the thread ends with the last of them.
                self.stopping = true;
                let listeners: Vec<usize> = self.listeners.iter().map(|(k, _)| k).collect();
                for k in listeners {
                    self.close_listener(k);
                }
                let idle: Vec<usize> = self
                    .sessions
                    .iter()
                    .filter(|(_, s)| !s.closing)
                    .map(|(k, _)| k)
                    .collect();
                for k in idle {
                    self.close_session(k);
                }
            }
        }
    }

    fn close_listener(&mut self, key: usize) {
        if let Some(entry) = self.listeners.remove(key) {
            let _ = self.selector.delete(&entry.listener);
            let owner = entry.owner;
            match entry.listener.close() {
                Ok(()) => owner.event(Event::new(EventKind::Closed, 0, &owner.endpoint)),
                Err(e) => owner.event(
                    Event::new(
                        EventKind::CloseFailed,
                        e.raw_os_error().unwrap_or(0) as u32,
                        &owner.endpoint,
                    )
                    .because(e),
                ),
            }
        }
    }

    fn accept(&mut self, key: usize) {
        loop {
            let Some(entry) = self.listeners.get(key) else {
                return;
            };
            let owner = entry.owner.clone();
            let stream = match entry.listener.accept() {
                Ok(Some(s)) => s,
                Ok(None) => return,
                Err(e) => {
                    owner.event(
                        Event::new(
                            EventKind::AcceptFailed,
                            e.raw_os_error().unwrap_or(0) as u32,
                            &owner.endpoint,
                        )
                        .because(e),
                    );
                    return;
                }
            };
            if !owner.admits(&stream) {
                // Closed at once, as libzmq (which reports ACCEPT_FAILED).
                owner.event(
                    Event::new(
                        EventKind::AcceptFailed,
                        crate::sys::net::EACCES,
                        &owner.endpoint,
                    )
                    .because("refused by the accept filters"),
                );
                continue;
            }
            let fd = raw_fd(&stream);
            owner.event(Event::new(EventKind::Accepted, fd, &owner.endpoint));
            let session = self.sessions.insert(Session {
                owner,
                role: Role::Accepted { listener: key },
                link: Link::Idle,
                pipes: None,
                pipe_id: None,
                persistent: false,
                skip_outbound: false,
                closing: false,
                linger_until: None,
                deadline: None,
                queued: None,
                interest: None,
            });
            self.start_engine(session, stream);
        }
    }

    /// Starts (or restarts) a connecter's connection attempt.
    fn connect(&mut self, key: usize) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let Role::Connecter { target, .. } = &session.role else {
            return;
        };
        let mut device = None;
        let addr = match target {
            Target::Tcp {
                host,
                port,
                ipv6,
                source,
                device: dev,
                proxy,
            } => {
                device = dev.as_deref();
                // Through a proxy, the TCP connection goes to the proxy,
                // which is asked for the peer once it is up.
                let (host, port, source) = match proxy {
                    Some(p) => (&p.host, &p.port, &p.source),
                    None => (host, port, source),
                };
                resolve_tcp(host, *port, *ipv6).and_then(|a| {
                    let dest = a[0];
                    let source = source
                        .as_ref()
                        .map(|s| resolve_source(&s.host, s.port.unwrap_or(0), &dest))
                        .transpose()?;
                    Ok((Addr::Tcp(dest), source))
                })
            }
            Target::Ipc(addr) => Ok((addr.clone(), None)),
        };
        // A source that cannot be bound now (an interface without an
        // address yet, a port in use) fails this attempt only, as in
        // libzmq: the session retries.
        let attempt = addr.and_then(|(a, source)| Connecting::start(&a, source, device));
        match attempt {
            Ok(c) => {
                let owner = session.owner.clone();
                owner.event(Event::new(EventKind::ConnectDelayed, 0, &owner.endpoint));
                session.link = Link::Connecting(c);
                self.set_interest(key, Some(Interest::READ_WRITE));
            }
            Err(_) => self.retry_later(key),
        }
    }

    /// Schedules the next connection attempt with backoff.
    fn retry_later(&mut self, key: usize) {
        let now = self.now();
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let owner = session.owner.clone();
        let closing = session.closing;
        let Role::Connecter { next_ivl, .. } = &mut session.role else {
            return;
        };
        // A closed socket's session retries only while it has messages
        // to deliver (LINGER bounds it, see `SocketClosed`).
        let queued = closing
            && session
                .pipes
                .as_mut()
                .is_some_and(|p| p.rx.check_read() && !p.rx.at_end());
        let Some(base) = owner.reconnect_ivl.filter(|_| !closing || queued) else {
            // RECONNECT_IVL of -1: never reconnect.
            self.close_session(key);
            return;
        };
        let ivl = *next_ivl;
        // Exponential backoff up to RECONNECT_IVL_MAX, as libzmq.
        *next_ivl = match owner.reconnect_ivl_max {
            Some(max) if max > base => ivl.saturating_mul(2).min(max),
            _ => base,
        };
        owner.event(Event::new(
            EventKind::ConnectRetried,
            ivl.as_millis() as u32,
            &owner.endpoint,
        ));
        session.link = Link::Idle;
        session.deadline = None;
        let at = now.checked_add(ivl).unwrap_or(Instant::MAX);
        self.set_interest(key, None);
        let session = self.sessions.get_mut(key).expect("present");
        session.deadline = Some(at);
        Self::queue(&mut self.timers, session, key);
    }

    fn start_engine(&mut self, key: usize, stream: Stream) {
        let now = self.now();
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let owner = session.owner.clone();
        if let Err(e) = stream.configure(&owner.keepalive) {
            owner.event(Event::new(EventKind::Closed, 0, &owner.endpoint).because(e));
        }
        match AnyEngine::new(stream, &owner, now) {
            Ok(mut engine) => {
                engine.set_io(self.shared.clone());
                if std::mem::take(&mut session.skip_outbound) {
                    // A message whose first frames left with the previous
                    // connection cannot be finished on this one.
                    engine.skip_partial_outbound();
                }
                session.link = Link::Up(Box::new(engine));
                self.set_interest(key, Some(Interest::READ_WRITE));
                self.pump_output(key);
                self.reschedule(key);
            }
            Err(e) => {
                owner.event(Event::new(EventKind::Closed, 0, &owner.endpoint).because(e));
                self.connection_lost(key);
            }
        }
    }

    fn set_interest(&mut self, key: usize, interest: Option<Interest>) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        if session.interest == interest {
            return;
        }
        let fd = match &session.link {
            Link::Idle => None,
            Link::Connecting(c) => Some(c.as_fd()),
            Link::Socks(s) => Some(s.stream.as_fd()),
            Link::Up(e) | Link::Draining(e, _) => Some(e.stream().as_fd()),
        };
        let token = SESSION | key as u64;
        let result = match (fd, session.interest, interest) {
            (Some(fd), None, Some(i)) => self.selector.add(fd, token, i),
            (Some(fd), Some(_), Some(i)) => self.selector.modify(fd, token, i),
            (Some(fd), Some(_), None) => self.selector.delete(fd),
            _ => Ok(()),
        };
        if result.is_ok() {
            session.interest = interest;
        }
    }

    fn session_ready(&mut self, key: usize, readable: bool, writable: bool) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        match &session.link {
            Link::Connecting(_) => {
                if !(readable || writable) {
                    return;
                }
                let Link::Connecting(c) = std::mem::replace(&mut session.link, Link::Idle) else {
                    unreachable!("matched above");
                };
                // The fd leaves epoll with the connecting socket.
                let _ = self.selector.delete(c.as_fd());
                session.interest = None;
                let finished = c.finish().map(|s| {
                    let socks = socks_client(&session.role);
                    (s, socks)
                });
                match finished {
                    Ok((stream, Some(socks))) => match socks {
                        Ok(client) => {
                            session.link = Link::Socks(Box::new(Socks::new(stream, client)));
                            self.socks_ready(key);
                        }
                        // A host name too long to ask for: libzmq asserts.
                        Err(_) => self.retry_later(key),
                    },
                    Ok((stream, None)) => {
                        let owner = session.owner.clone();
                        owner.event(Event::new(
                            EventKind::Connected,
                            raw_fd(&stream),
                            &owner.endpoint,
                        ));
                        // Reset the backoff after a successful connect.
                        if let Role::Connecter { next_ivl, .. } = &mut session.role {
                            *next_ivl = owner.reconnect_ivl.unwrap_or(Duration::ZERO);
                        }
                        self.start_engine(key, stream);
                    }
                    Err(_) => self.retry_later(key),
                }
            }
            Link::Draining(..) => {
                if readable {
                    self.drain(key);
                }
            }
            Link::Socks(_) => self.socks_ready(key),
            Link::Up(_) => {
                if readable {
                    self.pump_input(key);
                }
                if writable {
                    self.pump_output(key);
                }
            }
            Link::Idle => {}
        }
    }

    /// Reads and delivers input.
    fn pump_input(&mut self, key: usize) {
        let now = self.now();
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let Link::Up(engine) = &mut session.link else {
            return;
        };
        let mut progress = Progress::default();
        let result = engine.readable(&mut session.pipes, now, &mut progress);
        self.after(key, result, progress);
    }

    /// Writes queued output.
    fn pump_output(&mut self, key: usize) {
        let now = self.now();
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let Link::Up(engine) = &mut session.link else {
            return;
        };
        let mut progress = Progress::default();
        let result = engine.writable(&mut session.pipes, now, &mut progress);
        self.after(key, result, progress);
    }

    /// Acts on what an engine call reported: attaches the pipes when the
    /// handshake completes, writes new control output, and watches for
    /// writability while output is blocked.
    fn after(&mut self, key: usize, mut result: Result<(), Failure>, mut progress: Progress) {
        loop {
            if let Some(id) = progress.zap_opened.take() {
                self.by_pipe.insert(id, key);
            }
            if let Some(id) = progress.zap_closed.take() {
                self.by_pipe.remove(&id);
            }
            if let Err(failure) = result {
                self.engine_failed(key, failure);
                return;
            }
            let now = self.now();
            if let Some(routing_id) = progress.handshake.take() {
                self.handshake_done(key, routing_id);
                // The pipes exist now: deliver the frames that came with the
                // handshake, then send what the socket has queued.
                let Some(session) = self.sessions.get_mut(key) else {
                    return;
                };
                let Link::Up(engine) = &mut session.link else {
                    return;
                };
                progress.control = true;
                result = engine.readable(&mut session.pipes, now, &mut progress);
                continue;
            }
            if !std::mem::take(&mut progress.control) {
                break;
            }
            let Some(session) = self.sessions.get_mut(key) else {
                return;
            };
            let Link::Up(engine) = &mut session.link else {
                return;
            };
            result = engine.writable(&mut session.pipes, now, &mut progress);
        }
        // While input waits for the socket the stream is not read: watching
        // it would report the same unread bytes in a busy loop.
        // Write interest is the connection's state (output pending), not
        // this pass's: a pass woken for input alone must keep watching for
        // writability while earlier output is backed up.
        let (read, write) = match self.sessions.get(key).map(|s| &s.link) {
            Some(Link::Up(engine)) => (!engine.input_blocked(), engine.output_pending()),
            _ => (true, false),
        };
        let interest = Interest { read, write };
        self.set_interest(key, (read || write).then_some(interest));
        self.reschedule(key);
    }

    fn handshake_done(&mut self, key: usize, routing_id: Option<Vec<u8>>) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let owner = session.owner.clone();
        owner.event(Event::new(
            EventKind::HandshakeSucceeded,
            0,
            &owner.endpoint,
        ));
        // Every frame of this connection carries its properties. The
        // engines deliver nothing before this call, so the marker goes
        // ahead of the connection's first frame.
        let properties = match &session.link {
            Link::Up(engine) => Some(Arc::new(engine.properties())),
            _ => None,
        };
        if let Some(pipes) = &mut session.pipes {
            if let Some(p) = properties {
                pipes.tx.set_properties(p);
            }
            return;
        }
        // Attach a fresh pipe pair to the socket now that the peer is known.
        let id = pipe::PipeId::fresh();
        let io: Arc<dyn pipe::Notify> = self.shared.clone();
        let (mut to_socket, socket_rx) = pipe::pipe(
            id,
            u64::from(owner.rcvhwm),
            owner.conflate.1,
            io.clone(),
            owner.socket.clone(),
        );
        if let Some(p) = properties {
            to_socket.set_properties(p);
        }
        let (mut socket_tx, from_socket) = pipe::pipe(
            id,
            u64::from(owner.sndhwm),
            owner.conflate.0,
            owner.socket.clone(),
            io,
        );
        if owner.probe_router {
            // The probe goes first, without waiting for the socket to take
            // the pipes (as libzmq, where a connecting socket attaches its
            // pipe in `connect`).
            if socket_tx.write(crate::base::msg::Msg::new()).is_ok() {
                socket_tx.flush();
            }
        }
        owner.socket.attach(NewPeer {
            tx: socket_tx,
            rx: socket_rx,
            routing_id,
            assigned_routing_id: owner.assigned_routing_id.clone(),
            endpoint: Some(owner.endpoint.clone()),
            probed: owner.probe_router,
        });
        session.pipes = Some(Pipes {
            tx: to_socket,
            rx: from_socket,
        });
        session.pipe_id = Some(id);
        self.by_pipe.insert(id, key);
    }
}

/// The SOCKS handshake a connecter's connection needs, if it goes
/// through a proxy.
fn socks_client(role: &Role) -> Option<Result<SocksClient, super::socks::SocksError>> {
    let Role::Connecter {
        target:
            Target::Tcp {
                host,
                port,
                proxy: Some(proxy),
                ..
            },
        ..
    } = role
    else {
        return None;
    };
    let credentials =
        (!proxy.username.is_empty()).then(|| (proxy.username.clone(), proxy.password.clone()));
    Some(SocksClient::new(host, *port, credentials))
}

fn raw_fd(stream: &Stream) -> u32 {
    stream.as_fd().as_raw_fd() as u32
}
