//! The context: the sockets' common ground — the inproc endpoint registry,
//! the I/O threads, and termination.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;

use zlink_mq_core::socket_type::SocketType;

use crate::error::{Error, ErrorKind, Result};
use crate::io::{self, IoCommand, IoShared};
use crate::pipe::{Notify, PipeEvent, pipe};
use crate::socket::{Command, NewPeer, Socket, SocketShared};

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
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    io_threads: usize,
    /// Started on the first TCP or IPC endpoint.
    io: OnceLock<Vec<IoThread>>,
    next_io: AtomicU64,
    next_id: AtomicU64,
    terminated: AtomicBool,
    inproc: Mutex<Inproc>,
    sockets: Mutex<HashMap<u64, Arc<SocketShared>>>,
}

/// A running I/O thread.
struct IoThread {
    shared: Arc<IoShared>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Every socket is closed (each held a handle to us): let the I/O
        // threads finish what their sockets' LINGER allows, then stop.
        if let Some(threads) = self.io.get() {
            for t in threads {
                t.shared.mailbox.post(IoCommand::Stop);
            }
            for t in threads {
                if let Some(h) = lock(&t.handle).take() {
                    let _ = h.join();
                }
            }
        }
    }
}

/// What a socket that binds an inproc name offers to those that connect.
struct Binding {
    socket: Arc<SocketShared>,
    socket_type: SocketType,
    routing_id: Option<Vec<u8>>,
    sndhwm: u32,
    rcvhwm: u32,
}

/// The binder's half of a connection made before anyone bound the name.
struct Pending {
    peer: NewPeer,
    notify: Arc<Deferred>,
}

#[derive(Default)]
struct Inproc {
    bound: HashMap<String, Binding>,
    pending: HashMap<String, Vec<Pending>>,
}

/// Forwards pipe events to a binder that does not exist yet: until it binds,
/// its pipe ends have never been read or written, so there is nothing to
/// tell it and events are dropped (a closed peer is still seen: the pipe
/// carries its end).
#[derive(Default)]
struct Deferred(Mutex<Option<Arc<SocketShared>>>);

impl Notify for Deferred {
    fn pipe_event(&self, id: u64, event: PipeEvent) {
        if let Some(target) = &*lock(&self.0) {
            target.pipe_event(id, event);
        }
    }
}

/// Locks a mutex, ignoring poisoning: no invariant of ours spans a panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a socket tells the registry about itself when it connects or binds.
pub(crate) struct InprocSide<'a> {
    pub socket: &'a Arc<SocketShared>,
    pub socket_type: SocketType,
    pub routing_id: Option<Vec<u8>>,
    pub sndhwm: u32,
    pub rcvhwm: u32,
}

/// libzmq sums both sides' marks for inproc; 0 (unlimited) on either side
/// makes the sum unlimited.
fn sum_hwm(a: u32, b: u32) -> u64 {
    if a == 0 || b == 0 {
        0
    } else {
        u64::from(a) + u64::from(b)
    }
}

impl Context {
    /// A context with one I/O thread.
    pub fn new() -> Self {
        Self::with_io_threads(1)
    }

    /// A context whose TCP and IPC connections are served by `n` I/O
    /// threads (at least one).
    pub fn with_io_threads(n: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                io_threads: n.max(1),
                io: OnceLock::new(),
                next_io: AtomicU64::new(0),
                next_id: AtomicU64::new(1),
                terminated: AtomicBool::new(false),
                inproc: Mutex::new(Inproc::default()),
                sockets: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Number of I/O threads.
    pub fn io_threads(&self) -> usize {
        self.inner.io_threads
    }

    /// Creates a socket of type `kind`.
    ///
    /// # Errors
    /// [`ErrorKind::Terminated`] once the context is shut down.
    pub fn socket(&self, kind: SocketType) -> Result<Socket> {
        if self.is_terminated() {
            return Err(ErrorKind::Terminated.into());
        }
        let shared = Arc::new(SocketShared::new(self.next_id())?);
        lock(&self.inner.sockets).insert(shared.id, shared.clone());
        Ok(Socket::new(self.clone(), kind, shared))
    }

    /// Shuts the context down (libzmq's `zmq_ctx_shutdown`): every blocking
    /// call on its sockets returns [`ErrorKind::Terminated`] at once, and so
    /// does every later call but `close`. Does not wait.
    pub fn shutdown(&self) {
        // ORDERING: sockets learn it through the Terminate command (their
        // mailbox synchronises); this flag only stops new sockets, and a
        // racing `socket()` that misses it gets the command below.
        if self.inner.terminated.swap(true, Ordering::SeqCst) {
            return;
        }
        for socket in lock(&self.inner.sockets).values() {
            socket.mailbox.post(Command::Terminate);
        }
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_terminated(&self) -> bool {
        // ORDERING: see `shutdown`.
        self.inner.terminated.load(Ordering::SeqCst)
    }

    /// The I/O threads, started on first use.
    fn io(&self) -> Result<&[IoThread]> {
        if let Some(t) = self.inner.io.get() {
            return Ok(t);
        }
        let mut started = Vec::with_capacity(self.inner.io_threads);
        for i in 0..self.inner.io_threads {
            let (shared, handle) = io::spawn(format!("zlink-mq-io-{i}"))?;
            started.push(IoThread {
                shared,
                handle: Mutex::new(Some(handle)),
            });
        }
        // A racing caller may have started its own set: keep one, stop the
        // other.
        if let Err(extra) = self.inner.io.set(started) {
            for t in extra {
                t.shared.mailbox.post(IoCommand::Stop);
            }
        }
        Ok(self.inner.io.get().expect("set above"))
    }

    /// An I/O thread for a new listener or connection, round-robin.
    pub(crate) fn pick_io(&self) -> Result<Arc<IoShared>> {
        let threads = self.io()?;
        // ORDERING: only spreading matters.
        let n = self.inner.next_io.fetch_add(1, Ordering::Relaxed);
        Ok(threads[(n % threads.len() as u64) as usize].shared.clone())
    }

    /// Tells every started I/O thread.
    pub(crate) fn post_io(&self, command: impl Fn() -> IoCommand) {
        if let Some(threads) = self.inner.io.get() {
            for t in threads {
                t.shared.mailbox.post(command());
            }
        }
    }

    pub(crate) fn next_id(&self) -> u64 {
        // ORDERING: only uniqueness matters.
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A socket is closed: forget it.
    pub(crate) fn unregister(&self, socket: &Arc<SocketShared>) {
        lock(&self.inner.sockets).remove(&socket.id);
        lock(&self.inner.inproc)
            .bound
            .retain(|_, b| !Arc::ptr_eq(&b.socket, socket));
    }

    /// Binds `name` for `me`; returns the connections that were waiting for
    /// it (connect before bind), for `me` to attach.
    pub(crate) fn inproc_bind(&self, me: InprocSide<'_>, name: &str) -> Result<Vec<NewPeer>> {
        let mut inproc = lock(&self.inner.inproc);
        if inproc.bound.contains_key(name) {
            return Err(Error::with_text(
                ErrorKind::AddrInUse,
                format!("inproc://{name} is bound already"),
            ));
        }
        inproc.bound.insert(
            name.to_owned(),
            Binding {
                socket: me.socket.clone(),
                socket_type: me.socket_type,
                routing_id: me.routing_id,
                sndhwm: me.sndhwm,
                rcvhwm: me.rcvhwm,
            },
        );
        let waiting = inproc.pending.remove(name).unwrap_or_default();
        Ok(waiting
            .into_iter()
            .map(|p| {
                *lock(&p.notify.0) = Some(me.socket.clone());
                p.peer
            })
            .collect())
    }

    /// Removes `me`'s binding of `name`.
    pub(crate) fn inproc_unbind(&self, me: &Arc<SocketShared>, name: &str) -> Result<()> {
        let mut inproc = lock(&self.inner.inproc);
        match inproc.bound.get(name) {
            Some(b) if Arc::ptr_eq(&b.socket, me) => {
                inproc.bound.remove(name);
                Ok(())
            }
            _ => Err(Error::with_text(
                ErrorKind::NotFound,
                format!("inproc://{name} is not bound by this socket"),
            )),
        }
    }

    /// Connects `me` to the socket bound at `name`, or, if none is yet,
    /// leaves the far end waiting for the binder. Returns `me`'s end.
    pub(crate) fn inproc_connect(&self, me: InprocSide<'_>, name: &str) -> Result<NewPeer> {
        let endpoint = format!("inproc://{name}");
        let id = crate::pipe::next_id();
        let mut inproc = lock(&self.inner.inproc);
        if let Some(b) = inproc.bound.get(name) {
            if !me.socket_type.is_compatible(b.socket_type) {
                return Err(Error::with_text(
                    ErrorKind::InvalidArgument,
                    format!(
                        "a {} socket cannot talk to the {} bound at {endpoint}",
                        me.socket_type, b.socket_type
                    ),
                ));
            }
            let (my_tx, their_rx) = pipe(
                id,
                sum_hwm(me.sndhwm, b.rcvhwm),
                me.socket.clone(),
                b.socket.clone(),
            );
            let (their_tx, my_rx) = pipe(
                id,
                sum_hwm(b.sndhwm, me.rcvhwm),
                b.socket.clone(),
                me.socket.clone(),
            );
            b.socket.mailbox.post(Command::Attach(Box::new(NewPeer {
                tx: their_tx,
                rx: their_rx,
                routing_id: me.routing_id,
                endpoint: Some(endpoint.clone()),
            })));
            return Ok(NewPeer {
                tx: my_tx,
                rx: my_rx,
                routing_id: b.routing_id.clone(),
                endpoint: Some(endpoint),
            });
        }
        // Nobody bound yet: libzmq lets the connection exist anyway and
        // queue messages. Without the binder's options, our own marks stand
        // in for its side of the sums.
        let notify = Arc::new(Deferred::default());
        let (my_tx, their_rx) = pipe(
            id,
            sum_hwm(me.sndhwm, me.rcvhwm),
            me.socket.clone(),
            notify.clone(),
        );
        let (their_tx, my_rx) = pipe(
            id,
            sum_hwm(me.sndhwm, me.rcvhwm),
            notify.clone(),
            me.socket.clone(),
        );
        inproc
            .pending
            .entry(name.to_owned())
            .or_default()
            .push(Pending {
                peer: NewPeer {
                    tx: their_tx,
                    rx: their_rx,
                    routing_id: me.routing_id,
                    endpoint: Some(endpoint.clone()),
                },
                notify,
            });
        Ok(NewPeer {
            tx: my_tx,
            rx: my_rx,
            routing_id: None,
            endpoint: Some(endpoint),
        })
    }
}

impl Default for Context {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("io_threads", &self.inner.io_threads)
            .field("terminated", &self.is_terminated())
            .finish_non_exhaustive()
    }
}
