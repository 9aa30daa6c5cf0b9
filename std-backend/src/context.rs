//! The context: the sockets' common ground — the inproc endpoint registry,
//! the I/O threads, and termination.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
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
    /// Notified when a socket closes (for `terminate`).
    socket_closed: Condvar,
}

/// A running I/O thread.
struct IoThread {
    shared: Arc<IoShared>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl Inner {
    /// Every socket is closed: lets the I/O threads finish what their
    /// sockets' LINGER allows, then stops them. Idempotent.
    fn stop_io(&self) {
        if let Some(threads) = self.io.get() {
            let mut running = Vec::new();
            for t in threads {
                if let Some(h) = lock(&t.handle).take() {
                    t.shared.mailbox.post(IoCommand::Stop);
                    running.push(h);
                }
            }
            let me = std::thread::current().id();
            for h in running {
                // An I/O thread that drops the last handle stops by itself
                // once it has handled Stop; it cannot wait for itself.
                if h.thread().id() != me {
                    let _ = h.join();
                }
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Every socket is closed (each held a handle to us).
        self.stop_io();
    }
}

/// What a socket that binds an inproc name offers to those that connect.
struct Binding {
    socket: Arc<SocketShared>,
    socket_type: SocketType,
    routing_id: Option<Vec<u8>>,
    sndhwm: u32,
    rcvhwm: u32,
    /// CONFLATE on the binder's outbound and inbound pipes.
    conflate: (bool, bool),
}

/// The binder's half of a connection made before anyone bound the name.
struct Pending {
    peer: NewPeer,
    notify: Arc<Deferred>,
    /// The connecter's marks, to sum with the binder's at bind time.
    sndhwm: u32,
    rcvhwm: u32,
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
    /// CONFLATE on the socket's outbound and inbound pipes.
    pub conflate: (bool, bool),
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
                socket_closed: Condvar::new(),
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

    /// Terminates the context, as libzmq's `zmq_ctx_term`: shuts it down
    /// (see [`shutdown`](Self::shutdown)), waits until every socket of the
    /// context is closed (closed by the threads that own them, typically
    /// when their calls fail with [`ErrorKind::Terminated`]), then until
    /// the messages closed sockets still had queued for TCP and IPC peers
    /// are delivered or their LINGER has run out, and stops the I/O
    /// threads.
    ///
    /// Dropping the last handle to a context whose sockets are all closed
    /// does the same without the shutdown.
    ///
    /// Blocks forever if the calling thread itself still owns a socket of
    /// the context, as in libzmq; it does not block on peers that are gone
    /// or on sockets closed with LINGER 0.
    ///
    /// ```
    /// use zlink_mq_std::{Context, ErrorKind, Flags, SocketType};
    ///
    /// let ctx = Context::new();
    /// let mut pull = ctx.socket(SocketType::Pull)?;
    /// pull.bind("inproc://term-doc")?;
    /// let worker = std::thread::spawn(move || {
    ///     // Blocks until the context is terminated, then closes the socket.
    ///     let err = pull.recv(Flags::NONE).unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::Terminated);
    /// });
    /// ctx.terminate();
    /// worker.join().unwrap();
    /// # Ok::<(), zlink_mq_std::Error>(())
    /// ```
    pub fn terminate(self) {
        self.shutdown();
        let mut sockets = lock(&self.inner.sockets);
        while !sockets.is_empty() {
            sockets = self
                .inner
                .socket_closed
                .wait(sockets)
                .unwrap_or_else(|e| e.into_inner());
        }
        drop(sockets);
        self.inner.stop_io();
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

    /// Tells every started I/O thread (`command` makes each one's).
    pub(crate) fn post_io(&self, command: impl Fn(&Arc<IoShared>) -> IoCommand) {
        if let Some(threads) = self.inner.io.get() {
            for t in threads {
                t.shared.mailbox.post(command(&t.shared));
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
        self.inner.socket_closed.notify_all();
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
                conflate: me.conflate,
            },
        );
        let waiting = inproc.pending.remove(name).unwrap_or_default();
        Ok(waiting
            .into_iter()
            .map(|mut p| {
                *lock(&p.notify.0) = Some(me.socket.clone());
                // Now both sides are known: the marks become sums, as if
                // the bind had come first (libzmq's connect_inproc_sockets).
                p.peer.rx.raise_hwm(sum_hwm(p.sndhwm, me.rcvhwm));
                p.peer.tx.set_hwm(sum_hwm(me.sndhwm, p.rcvhwm));
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
            // A direction conflates if its writer conflates what it sends
            // or its reader what it receives.
            let (my_tx, their_rx) = pipe(
                id,
                sum_hwm(me.sndhwm, b.rcvhwm),
                me.conflate.0 || b.conflate.1,
                me.socket.clone(),
                b.socket.clone(),
            );
            let (their_tx, my_rx) = pipe(
                id,
                sum_hwm(b.sndhwm, me.rcvhwm),
                b.conflate.0 || me.conflate.1,
                b.socket.clone(),
                me.socket.clone(),
            );
            b.socket.mailbox.post(Command::Attach(Box::new(NewPeer {
                tx: their_tx,
                rx: their_rx,
                routing_id: me.routing_id,
                assigned_routing_id: None,
                endpoint: Some(endpoint.clone()),
            })));
            return Ok(NewPeer {
                tx: my_tx,
                rx: my_rx,
                routing_id: b.routing_id.clone(),
                assigned_routing_id: None,
                endpoint: Some(endpoint),
            });
        }
        // Nobody bound yet: libzmq lets the connection exist anyway and
        // queue messages, up to our own marks until the binder adds its own
        // (see `inproc_bind`).
        let notify = Arc::new(Deferred::default());
        // The binder's CONFLATE cannot change these pipes any more: the
        // connecting socket's decides.
        let (my_tx, their_rx) = pipe(
            id,
            u64::from(me.sndhwm),
            me.conflate.0,
            me.socket.clone(),
            notify.clone(),
        );
        let (their_tx, my_rx) = pipe(
            id,
            u64::from(me.rcvhwm),
            me.conflate.1,
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
                    assigned_routing_id: None,
                    endpoint: Some(endpoint.clone()),
                },
                notify,
                sndhwm: me.sndhwm,
                rcvhwm: me.rcvhwm,
            });
        Ok(NewPeer {
            tx: my_tx,
            rx: my_rx,
            routing_id: None,
            assigned_routing_id: None,
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
