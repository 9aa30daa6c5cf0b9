//! The socket: one of the eleven ZeroMQ socket types, owned by one thread at
//! a time, talking to any number of peers over inproc, IPC and TCP.
//!
//! A socket is a peer table (a pipe pair per peer), the core routing of its
//! type deciding which pipe each frame goes to or comes from, and a mailbox
//! through which pipes and the context report state changes. Blocking calls
//! wait on the mailbox's signaler: a pipe that a receive found empty is
//! marked asleep, and the writer that next fills it wakes the socket.

pub(crate) mod context;
mod endpoints;
mod readiness;
mod sockopt;

pub use readiness::Events;
pub(crate) mod options;
pub(crate) mod peers;
pub(crate) mod routing;

use std::fmt;
use std::ops::BitOr;
use std::sync::Arc;
use std::time::Duration;

use zlink_mq_core::routing::{PeerId, PeerIdentity, Pipes, RecvError, SendError};
use zlink_mq_core::socket_type::SocketType;

use crate::base::endpoint::Endpoint;
use crate::base::error::{Error, ErrorKind, Result};
use crate::base::msg::Msg;
use crate::pipe::PipeEvent;
use crate::pipe::handle::{Command, NewPeer, SocketShared};
use crate::socket::context::Context;
use crate::socket::options::Options;
use crate::socket::peers::{Peer, Peers};
use crate::socket::routing::AnyRouting;
use crate::transport::monitor::{Event, Monitor, MonitorSlot};
use crate::transport::{IoCommand, IoShared, wait_done};

/// How long, by default, a blocking call of a socket whose endpoints are
/// all inproc busy-waits on its mailbox before sleeping (see
/// [`Socket::set_inproc_busy_wait`]).
pub(crate) const INPROC_BUSY_WAIT: Duration = Duration::from_micros(20);

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
    /// Shared with every endpoint's listener, connector and session.
    monitor: Arc<MonitorSlot>,
    rcvmore: bool,
    terminated: bool,
    /// `fd()` was called: keep the descriptor level-triggered for input.
    fd_exposed: bool,
    /// The descriptor is readable: we signalled it since the last reset.
    fd_signaled: bool,
    /// The descriptor may be readable: we signalled it, or drained commands
    /// without consuming their signal, since the last reset.
    fd_dirty: bool,
    /// Blocking waits left that sleep at once, without busy-waiting: after
    /// busy-waits that found nothing (see `Socket::wait`).
    spin_skip: u8,
    /// Busy-waits in a row that found nothing (at most `SPIN_BACKOFF_MAX`).
    spin_misses: u8,
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
            commands: Vec::with_capacity(crate::pipe::mailbox::INITIAL_COMMANDS),
            attachments: Vec::new(),
            last_endpoint: None,
            monitor: Arc::default(),
            rcvmore: false,
            terminated: false,
            fd_exposed: false,
            fd_signaled: false,
            fd_dirty: false,
            spin_skip: 0,
            spin_misses: 0,
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

    /// Whether CONFLATE applies to this socket's outbound and inbound
    /// pipes.
    fn conflates(&self) -> (bool, bool) {
        crate::pipe::conflate::directions(self.kind, self.options.conflate)
    }

    /// Attaches a new peer; a peer routing refuses is closed at once.
    fn attach(&mut self, new: NewPeer) {
        let NewPeer {
            tx,
            rx,
            routing_id,
            assigned_routing_id,
            endpoint,
            probed,
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
                if self.options.probe_router && !probed && self.probes() {
                    // PROBE_ROUTER: an empty message opens the peer's pipe.
                    if self.peers.write(id, Msg::new()).is_ok() {
                        self.peers.flush(id);
                    }
                }
                if let Some(welcome) = &self.options.xpub_welcome_msg {
                    // XPUB_WELCOME_MSG (only ever set on an XPUB): the
                    // peer's first message, as libzmq's `xattach_pipe`.
                    if self.peers.write(id, Msg::copy_from_slice(welcome)).is_ok() {
                        self.peers.flush(id);
                    }
                }
                if assigned_routing_id.is_none() {
                    if let Some(generated) = self.routing.stream_routing_id(id) {
                        // STREAM reports the id it generated last as its
                        // ROUTING_ID, as libzmq (its tests read it there).
                        self.options.routing_id = Some(generated.to_vec());
                    }
                }
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

    /// Whether PROBE_ROUTER applies to this socket's type (ROUTER, DEALER
    /// and REQ).
    fn probes(&self) -> bool {
        matches!(
            self.kind,
            SocketType::Router | SocketType::Dealer | SocketType::Req
        )
    }

    /// SNDHWM or RCVHWM changed from `old` to `new`: the attached peers'
    /// pipes follow. A pipe's mark is ours plus, for inproc, the peer's
    /// (0 if either is unlimited), so the peer's share is what the mark
    /// holds beyond our old one; TCP and IPC pipes carry ours alone.
    pub(crate) fn change_hwms(&mut self, snd: Option<(u32, u32)>, rcv: Option<(u32, u32)>) {
        fn changed(current: u64, old: u32, new: u32) -> u64 {
            let (old, new) = (u64::from(old), u64::from(new));
            match (current, old, new) {
                (_, _, 0) => 0,
                // Unlimited because the peer is: it stays so.
                (0, 1.., _) => 0,
                // Unlimited because we were: the peer's share is unknown.
                (0, 0, _) => new,
                _ => current.saturating_sub(old) + new,
            }
        }
        self.process_commands();
        let ids: Vec<PeerId> = self.peers.ids().collect();
        for id in ids {
            let Some(peer) = self.peers.get_mut(id) else {
                continue;
            };
            let mut reactivate = false;
            if let Some((old, new)) = snd {
                if !peer.tx.conflates() {
                    reactivate = peer.tx.change_hwm(changed(peer.tx.hwm(), old, new));
                }
            }
            if let Some((old, new)) = rcv {
                if !peer.rx.conflates() {
                    let hwm = changed(peer.rx.hwm(), old, new);
                    peer.rx.raise_hwm(hwm);
                }
            }
            if reactivate {
                self.routing.write_activated(&mut self.peers, id);
            }
        }
        self.update_fd();
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
                            } else {
                                self.peers.leave(id);
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
        if msg.properties().is_some() {
            // A received frame sent on (a proxy): its properties describe
            // where it came from, not where it goes, and dropping them here
            // keeps their count on this thread.
            msg.set_properties(None);
        }
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

    /// `ZMQ_SUBSCRIBE` on a SUB socket: receive messages starting with
    /// `topic` (empty: everything). Subscribing twice needs two
    /// unsubscribes. On an XPUB with
    /// [`set_xpub_manual`](Socket::set_xpub_manual): the peer of the last
    /// subscription received gets messages starting with `topic`.
    ///
    /// # Errors
    /// [`ErrorKind::NotSupported`] on other socket types (an XSUB
    /// subscribes by sending `\x01topic`).
    pub fn subscribe(&mut self, topic: &[u8]) -> Result<()> {
        self.subscription(topic, true)
    }

    /// `ZMQ_UNSUBSCRIBE` on a SUB socket: drops one reference to `topic`
    /// (on an XPUB with XPUB_MANUAL: see [`subscribe`](Socket::subscribe)).
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
                Error::with_text(
                    ErrorKind::NotSupported,
                    "only SUB sockets (and XPUB sockets with XPUB_MANUAL) subscribe",
                )
            })?;
        self.reap();
        self.update_fd();
        result.map_err(|e| Error::with_text(ErrorKind::InvalidArgument, e.to_string()))
    }

    /// Starts monitoring: events of the kinds in `mask` ([`crate::transport::monitor::EVENT_ALL`]
    /// for all; `EventKind::code` values or-ed together) arrive on the
    /// returned channel from now on, for every endpoint of the socket (those
    /// bound or connected before too, as libzmq).
    pub fn monitor_channel(&mut self, mask: u16) -> std::sync::mpsc::Receiver<Event> {
        let (m, rx) = Monitor::channel(mask);
        self.set_monitor(m);
        rx
    }

    /// Replaces the monitor; the old one stops (and reports nothing more).
    fn set_monitor(&mut self, monitor: Monitor) {
        if let Some(old) = self.monitor.replace(Some(monitor)) {
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
        self.set_monitor(Monitor::custom(mask, move |event| {
            // libzmq's format: frame 1 = event number (u16) and value
            // (u32), native byte order; frame 2 = the endpoint. Never
            // blocks: an event the consumer has no room for is dropped.
            let mut head = [0u8; 6];
            head[..2].copy_from_slice(&event.kind.code().to_ne_bytes());
            head[2..].copy_from_slice(&event.value.to_ne_bytes());
            if pair.send(&head, Flags::DONTWAIT | Flags::SNDMORE).is_ok() {
                let _ = pair.send(event.endpoint.as_bytes(), Flags::DONTWAIT);
            }
        }));
        Ok(())
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
        // Peers that were on their way in (an Attach not handled yet) are
        // refused, now and from now on: their pipes drop, so their
        // connections close. Left queued, the pipes would live as long as
        // the mailbox, which their own sessions keep alive: the connection
        // would stay up with nobody behind it, and a peer that connected
        // to us would never learn that it must reconnect.
        self.shared.mailbox.close();
        // After the listeners' CLOSED events; connections still lingering
        // report nothing more (as libzmq, whose monitor ends with its
        // socket).
        if let Some(m) = self.monitor.replace(None) {
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
