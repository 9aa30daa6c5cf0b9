//! I/O threads: they serve every TCP and IPC connection of a context.
//!
//! An I/O thread runs an epoll loop over its listeners and connections. A
//! connection is a core ZMTP state machine ([`engine`]) between a stream
//! socket and a pipe pair to the socket it belongs to. The thread reads in
//! large batches, decodes many frames per read, and writes each flush of a
//! pipe as one `write`: per-message work is a frame decode or encode and a
//! pipe slot, never a system call.
//!
//! Sockets talk to I/O threads through their mailboxes ([`IoCommand`]), and
//! pipes wake them the same way when a socket writes into a pipe whose
//! connection had drained it.

mod any_engine;
mod engine;
pub(crate) mod inproc;
pub mod monitor;
pub(crate) mod pool;
mod raw;
mod socks;
mod thread;
pub(crate) mod zap;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::zmtp::curve::KeyPair;
use zlink_mq_core::zmtp::heartbeat::Heartbeat;

use crate::base::endpoint::TcpSource;
use crate::base::filter::AcceptFilters;
use crate::pipe::handle::{SocketId, SocketShared};
use crate::pipe::mailbox::Mailbox;
use crate::pipe::{Notify, PipeEvent, PipeId, PipeRx, PipeTx};
use crate::sys::net::{Addr, KeepAlive, Listener, Stream};
use crate::transport::monitor::{Event, MonitorSlot};

pub(crate) use thread::spawn;

/// The part of an I/O thread that sockets and pipes hold.
pub(crate) struct IoShared {
    pub mailbox: Mailbox<IoCommand>,
}

impl Notify for IoShared {
    fn pipe_event(&self, id: PipeId, event: PipeEvent) {
        self.mailbox.post(IoCommand::Pipe(id, event));
    }
}

impl fmt::Debug for IoShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IoShared")
    }
}

/// What sockets ask of an I/O thread.
pub(crate) enum IoCommand {
    /// Accept connections on `listener` for `owner`.
    Listen {
        listener: Listener,
        owner: Arc<Owner>,
    },
    /// Connect (and keep reconnecting) to `target` for `owner`. `pipes` are
    /// the connection's ends of a pipe pair already attached to the socket
    /// (libzmq's behaviour without IMMEDIATE: messages queue while the
    /// connection is down); `None` attaches one after each handshake.
    Connect {
        target: Target,
        owner: Arc<Owner>,
        pipes: Option<Box<(PipeTx, PipeRx)>>,
    },
    /// A pipe of one of our connections changed.
    Pipe(PipeId, PipeEvent),
    /// Stop listening on `endpoint` (and close what it accepted). `done`
    /// is dropped once the listener is closed.
    Unbind {
        socket: SocketId,
        endpoint: String,
        done: Done,
    },
    /// Close the connection made by connecting to `endpoint`.
    Disconnect { socket: SocketId, endpoint: String },
    /// The socket closed: close its listeners, and give its connections
    /// `linger` to deliver what is queued. `done` is dropped once the
    /// listeners are closed.
    SocketClosed {
        socket: SocketId,
        linger: Option<Duration>,
        done: Option<Done>,
    },
    /// The context is going away: close everything now.
    Stop,
}

/// Held by a command whose sender waits until it has been handled: the I/O
/// thread drops it when done (and a command that is never handled drops it
/// with itself), which ends the sender's [`wait_done`].
pub(crate) type Done = std::sync::mpsc::SyncSender<()>;

/// Waits until every clone of the [`Done`] paired with `rx` is dropped.
pub(crate) fn wait_done(rx: std::sync::mpsc::Receiver<()>) {
    while rx.recv().is_ok() {}
}

/// Where a connecting session connects to. Names are resolved at each
/// attempt, so a host that moves is found again; so is a TCP `source`
/// (the local address of `tcp://source;host:port`), as in libzmq.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Tcp {
        host: String,
        port: u16,
        ipv6: bool,
        source: Option<TcpSource>,
        /// BINDTODEVICE.
        device: Option<String>,
        /// SOCKS_PROXY: connect through this proxy, which resolves
        /// `host` and connects to it.
        proxy: Option<Box<SocksProxy>>,
    },
    Ipc(Addr),
}

/// A SOCKS5 proxy (ZMQ_SOCKS_PROXY) and the credentials for it
/// (ZMQ_SOCKS_USERNAME / PASSWORD; an empty user name: no
/// authentication, as libzmq).
#[derive(Debug, Clone)]
pub(crate) struct SocksProxy {
    pub host: String,
    pub port: u16,
    /// The local address of the connection to the proxy.
    pub source: Option<TcpSource>,
    pub username: Vec<u8>,
    pub password: Vec<u8>,
}

/// How a connection secures itself.
#[derive(Clone)]
pub(crate) enum Security {
    Null,
    PlainClient {
        username: Vec<u8>,
        password: Vec<u8>,
    },
    PlainServer {
        authenticator: Option<Arc<Authenticator>>,
    },
    /// CURVE client: our long-term key pair (`None`: no secret key was
    /// set, and connections fail), the server's public key.
    CurveClient {
        keys: Option<KeyPair>,
        server_key: [u8; 32],
    },
    /// CURVE server: our long-term key pair; `authenticator` judges each
    /// client's long-term public key (`None`: every key, as libzmq without
    /// a ZAP handler).
    CurveServer {
        keys: Option<KeyPair>,
        authenticator: Option<Arc<CurveAuthenticator>>,
    },
}

/// Decides whether a PLAIN client's username and password are accepted.
pub type Authenticator = dyn Fn(&[u8], &[u8]) -> bool + Send + Sync;

/// Decides whether a CURVE client's long-term public key is accepted.
pub type CurveAuthenticator = dyn Fn(&[u8; 32]) -> bool + Send + Sync;

impl fmt::Debug for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Security::Null => f.write_str("Null"),
            Security::PlainClient { .. } => f.write_str("PlainClient"),
            Security::PlainServer { .. } => f.write_str("PlainServer"),
            Security::CurveClient { .. } => f.write_str("CurveClient"),
            Security::CurveServer { .. } => f.write_str("CurveServer"),
        }
    }
}

/// What a connection needs to know about the socket it serves: a snapshot
/// of its options when `bind` or `connect` was called.
#[derive(Debug)]
pub(crate) struct Owner {
    pub socket: Arc<SocketShared>,
    pub socket_type: SocketType,
    /// The endpoint as the user wrote it (and as resolved, for `bind`).
    pub endpoint: String,
    pub routing_id: Vec<u8>,
    /// ZMQ_METADATA: application properties sent in READY.
    pub metadata: Vec<(String, String)>,
    /// CONNECT_ROUTING_ID given to the connection this owner makes.
    pub assigned_routing_id: Option<Vec<u8>>,
    pub sndhwm: u32,
    pub rcvhwm: u32,
    /// CONFLATE on the socket's outbound and inbound pipes.
    pub conflate: (bool, bool),
    pub reconnect_ivl: Option<Duration>,
    pub reconnect_ivl_max: Option<Duration>,
    pub heartbeat: Heartbeat,
    pub handshake_ivl: Option<Duration>,
    pub maxmsgsize: Option<u64>,
    pub keepalive: KeepAlive,
    pub security: Security,
    /// ZAP: where the handler is looked up, ZAP_DOMAIN, ZAP_ENFORCE_DOMAIN.
    pub zap: zap::ZapConfig,
    pub monitor: Arc<MonitorSlot>,
    /// Whom a listener of this owner keeps (TCP_ACCEPT_FILTER, ...).
    pub accept_filters: AcceptFilters,
    /// STREAM_NOTIFY: a STREAM socket hears of connects and disconnects.
    pub stream_notify: bool,
    /// PROBE_ROUTER on a ROUTER or DEALER: each connection whose pipes the
    /// I/O thread makes starts with an empty message.
    pub probe_router: bool,
}

impl Owner {
    pub(crate) fn event(&self, event: Event) {
        self.monitor.emit(event);
    }

    /// Whether a connection a listener of ours accepted passes the accept
    /// filters (libzmq closes one that does not before anything is read).
    pub(crate) fn admits(&self, stream: &Stream) -> bool {
        match stream {
            Stream::Tcp(_) => stream
                .peer_tcp_addr()
                .is_some_and(|a| self.accept_filters.admits_tcp(a.ip())),
            Stream::Unix(_) => self
                .accept_filters
                .admits_ipc(stream.peer_cred(), crate::sys::users::user_in_group),
        }
    }
}
