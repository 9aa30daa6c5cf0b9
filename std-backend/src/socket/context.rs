//! The context as the socket layer sees it: the sockets' common ground (the
//! I/O pool, the inproc registry, the registry of open sockets for
//! termination). Its public face is in `api/context.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::base::error::Result;
use crate::base::sync::lock;
use crate::pipe::handle::{NewPeer, SocketId, SocketShared};
use crate::transport::inproc::{InprocSide, Registry};
use crate::transport::pool::Pool;
use crate::transport::{IoCommand, IoShared};

/// The environment sockets live in, as libzmq's context.
///
/// Cheap to clone (clones share one context). Sockets of one context reach
/// each other over `inproc://`; TCP and IPC connections are served by the
/// context's I/O threads.
///
/// ```
/// use zlink_mq_std::{Context, Flags, SocketType};
///
/// let ctx = Context::new();
/// let mut pull = ctx.socket(SocketType::Pull)?;
/// pull.bind("inproc://doc-example")?;
/// let mut push = ctx.socket(SocketType::Push)?;
/// push.connect("inproc://doc-example")?;
/// push.send("hello", Flags::NONE)?;
/// assert_eq!(&pull.recv(Flags::NONE)?[..], b"hello");
/// # Ok::<(), zlink_mq_std::Error>(())
/// ```
#[derive(Clone)]
pub struct Context {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: Pool,
    next_id: AtomicU64,
    pub(crate) terminated: AtomicBool,
    pub(crate) inproc: Arc<Registry>,
    pub(crate) sockets: Mutex<HashMap<SocketId, Arc<SocketShared>>>,
    /// Notified when a socket closes (for `terminate`).
    pub(crate) socket_closed: Condvar,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Every socket is closed (each held a handle to us).
        self.pool.stop();
    }
}

impl Context {
    /// A context whose TCP and IPC connections are served by `io_threads`
    /// I/O threads (at least one), none started yet.
    pub(crate) fn with_pool(io_threads: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool: Pool::new(io_threads),
                next_id: AtomicU64::new(1),
                terminated: AtomicBool::new(false),
                inproc: Arc::default(),
                sockets: Mutex::new(HashMap::new()),
                socket_closed: Condvar::new(),
            }),
        }
    }

    /// An I/O thread for a new listener or connection, round-robin.
    pub(crate) fn pick_io(&self) -> Result<Arc<IoShared>> {
        self.inner.pool.pick()
    }

    /// Tells every started I/O thread (`command` makes each one's).
    pub(crate) fn post_io(&self, command: impl Fn(&Arc<IoShared>) -> IoCommand) {
        self.inner.pool.post(command);
    }

    /// A fresh socket id, never handed out before in this context.
    pub(crate) fn next_id(&self) -> SocketId {
        // ORDERING: only uniqueness matters.
        SocketId(self.inner.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// A new socket: registered for shutdown and termination.
    pub(crate) fn register(&self, socket: &Arc<SocketShared>) {
        lock(&self.inner.sockets).insert(socket.id, socket.clone());
    }

    /// A socket is closed: forget it.
    pub(crate) fn unregister(&self, socket: &Arc<SocketShared>) {
        lock(&self.inner.sockets).remove(&socket.id);
        self.inner.socket_closed.notify_all();
        self.inner.inproc.forget(socket);
    }

    /// Binds `name` for `me`; returns the connections that were waiting for
    /// it (connect before bind), for `me` to attach.
    pub(crate) fn inproc_bind(&self, me: InprocSide<'_>, name: &str) -> Result<Vec<NewPeer>> {
        self.inner.inproc.bind(me, name)
    }

    /// Removes `me`'s binding of `name`.
    pub(crate) fn inproc_unbind(&self, me: &Arc<SocketShared>, name: &str) -> Result<()> {
        self.inner.inproc.unbind(me, name)
    }

    /// Connects `me` to the socket bound at `name`, or, if none is yet,
    /// leaves the far end waiting for the binder. Returns `me`'s end.
    pub(crate) fn inproc_connect(&self, me: InprocSide<'_>, name: &str) -> Result<NewPeer> {
        self.inner.inproc.connect(me, name)
    }
}
