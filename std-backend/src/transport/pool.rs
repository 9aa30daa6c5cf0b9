//! The I/O threads of a context, started on first use, picked round-robin.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use crate::base::error::Result;
use crate::base::sync::lock;
use crate::transport::{IoCommand, IoShared, spawn};

/// A running I/O thread.
struct IoThread {
    shared: Arc<IoShared>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

/// A context's I/O threads.
pub(crate) struct Pool {
    threads: usize,
    /// Started on the first TCP or IPC endpoint.
    io: OnceLock<Vec<IoThread>>,
    next: AtomicU64,
}

impl Pool {
    /// `threads` I/O threads (at least one), none started yet.
    pub(crate) fn new(threads: usize) -> Self {
        Self {
            threads: threads.max(1),
            io: OnceLock::new(),
            next: AtomicU64::new(0),
        }
    }

    /// How many I/O threads the pool runs once started.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// The I/O threads, started on first use.
    fn started(&self) -> Result<&[IoThread]> {
        if let Some(t) = self.io.get() {
            return Ok(t);
        }
        let mut started = Vec::with_capacity(self.threads);
        for i in 0..self.threads {
            let (shared, handle) = spawn(format!("zlink-mq-io-{i}"))?;
            started.push(IoThread {
                shared,
                handle: Mutex::new(Some(handle)),
            });
        }
        // A racing caller may have started its own set: keep one, stop the
        // other.
        if let Err(extra) = self.io.set(started) {
            for t in extra {
                t.shared.mailbox.post(IoCommand::Stop);
            }
        }
        Ok(self.io.get().expect("set above"))
    }

    /// An I/O thread for a new listener or connection, round-robin.
    pub(crate) fn pick(&self) -> Result<Arc<IoShared>> {
        let threads = self.started()?;
        // ORDERING: only spreading matters.
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Ok(threads[(n % threads.len() as u64) as usize].shared.clone())
    }

    /// Tells every started I/O thread (`command` makes each one's).
    pub(crate) fn post(&self, command: impl Fn(&Arc<IoShared>) -> IoCommand) {
        if let Some(threads) = self.io.get() {
            for t in threads {
                t.shared.mailbox.post(command(&t.shared));
            }
        }
    }

    /// Every socket is closed: lets the I/O threads finish what their
    /// sockets' LINGER allows, then stops them. Idempotent.
    pub(crate) fn stop(&self) {
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
