//! [`Context`]'s public face: creating sockets, shutting down, terminating.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use zlink_mq_core::socket_type::SocketType;

use crate::base::error::{ErrorKind, Result};
use crate::base::sync::lock;
use crate::pipe::handle::{Command, SocketShared};
use crate::socket::Socket;
use crate::socket::context::Context;

impl Context {
    /// A context with one I/O thread.
    pub fn new() -> Self {
        Self::with_io_threads(1)
    }

    /// A context whose TCP and IPC connections are served by `n` I/O
    /// threads (at least one).
    pub fn with_io_threads(n: usize) -> Self {
        Self::with_pool(n)
    }

    /// Number of I/O threads.
    pub fn io_threads(&self) -> usize {
        self.inner.pool.threads()
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
        self.register(&shared);
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
    /// the context, as in libzmq. Queued messages are waited for as their
    /// socket's LINGER says, even for a peer that never comes (forever by
    /// default, as libzmq); with LINGER 0 or nothing queued, nothing waits.
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
        self.inner.pool.stop();
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_terminated(&self) -> bool {
        // ORDERING: see `shutdown`.
        self.inner.terminated.load(Ordering::SeqCst)
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
            .field("io_threads", &self.inner.pool.threads())
            .field("terminated", &self.is_terminated())
            .finish_non_exhaustive()
    }
}
