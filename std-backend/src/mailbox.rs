//! A thread's command queue: how other threads tell a socket (or an I/O
//! thread) that something changed — a pipe became readable or writable
//! again, a peer attached, a peer went away.
//!
//! Commands are rare state changes, never data: messages travel through the
//! pipes. Posting takes a short lock and signals the owner's [`Signaler`];
//! the owner checks a flag (one relaxed load) on every operation and drains
//! the queue only when it is set.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::sys::Signaler;

/// A multi-producer, single-consumer command queue with a wake-up.
#[derive(Debug)]
pub(crate) struct Mailbox<C> {
    signaler: Signaler,
    pending: AtomicBool,
    queue: Mutex<Queue<C>>,
}

#[derive(Debug)]
struct Queue<C> {
    commands: Vec<C>,
    /// The owner is gone: commands are dropped on arrival (so a sender
    /// waiting for a command to be handled, or dropped, never hangs).
    closed: bool,
}

impl<C> Mailbox<C> {
    pub(crate) fn new() -> std::io::Result<Self> {
        Ok(Self {
            signaler: Signaler::new()?,
            pending: AtomicBool::new(false),
            queue: Mutex::new(Queue {
                commands: Vec::new(),
                closed: false,
            }),
        })
    }

    /// Queues `command` and wakes the owner.
    pub(crate) fn post(&self, command: C) {
        {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            if q.closed {
                drop(q);
                drop(command);
                return;
            }
            q.commands.push(command);
        }
        // ORDERING: Release after the push, paired with the Acquire in
        // `has_pending`: an owner that sees the flag sees the command. A
        // command pushed after the owner's drain sets the flag after the
        // owner cleared it (the lock orders the two), so it is never missed.
        self.pending.store(true, Ordering::Release);
        self.signaler.signal();
    }

    /// Whether commands may be waiting (cheap; call on every operation).
    #[inline]
    pub(crate) fn has_pending(&self) -> bool {
        // ORDERING: Acquire pairs with the Release in `post`.
        self.pending.load(Ordering::Acquire)
    }

    /// Moves every queued command into `out` (owner only).
    pub(crate) fn drain_into(&self, out: &mut Vec<C>) {
        // ORDERING: cleared before taking the lock, so a post that lands
        // after our drain re-sets it (see `post`). Relaxed: the lock below
        // orders the queue contents.
        self.pending.store(false, Ordering::Relaxed);
        out.append(
            &mut self
                .queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .commands,
        );
    }

    /// The owner stops for good: drops every queued command, and every
    /// command posted from now on.
    pub(crate) fn close(&self) {
        let commands = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.closed = true;
            std::mem::take(&mut q.commands)
        };
        // Dropped outside the lock: a command's drop may post to us.
        drop(commands);
    }

    /// The owner's wake-up.
    pub(crate) fn signaler(&self) -> &Signaler {
        &self.signaler
    }
}
