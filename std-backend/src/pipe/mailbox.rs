//! A thread's command queue: how other threads tell a socket (or an I/O
//! thread) that something changed — a pipe became readable or writable
//! again, a peer attached, a peer went away.
//!
//! Commands are rare state changes, never data: messages travel through the
//! pipes. Posting takes a short lock and sets a flag; the owner checks the
//! flag (one load) on every operation and drains the queue only when it is
//! set. The owner's [`Signaler`] (an eventfd) is written only while someone
//! may be blocked on it — the owner in a blocking call, a poller, an
//! external event loop holding the descriptor — so a busy owner costs its
//! peers no system call.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::sys::Signaler;

/// Room for this many queued commands before the queue first grows. The
/// owner's buffer that [`Mailbox::drain_into`] swaps with the queue's must
/// start with as much, or the queue gets an empty buffer at the first swap
/// and allocates at the first post after it: in steady state, whenever a
/// command comes for the first time (a loaded machine's first write
/// activation, for instance).
pub(crate) const INITIAL_COMMANDS: usize = 16;

/// A multi-producer, single-consumer command queue with a wake-up.
#[derive(Debug)]
pub(crate) struct Mailbox<C> {
    signaler: Signaler,
    pending: AtomicBool,
    /// How many waiters may be blocked on the signaler (or a permanent
    /// watcher: an exposed descriptor). Posts signal only when non-zero.
    watchers: AtomicUsize,
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
            watchers: AtomicUsize::new(0),
            queue: Mutex::new(Queue {
                commands: Vec::with_capacity(INITIAL_COMMANDS),
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
        // ORDERING: SeqCst store then SeqCst load of `watchers`, mirrored
        // by `watch` (SeqCst increment, then SeqCst load of `pending`): in
        // the single total order either the waiter sees the flag and does
        // not block, or we see the waiter and signal. The store also
        // releases the command to `has_pending`'s Acquire; a command pushed
        // after the owner's drain sets the flag after the owner cleared it
        // (the lock orders the two), so it is never missed.
        self.pending.store(true, Ordering::SeqCst);
        if self.watchers.load(Ordering::SeqCst) != 0 {
            self.signaler.signal();
        }
    }

    /// Registers a waiter about to block on the signaler. Returns `false`
    /// (and registers nothing) if commands are already pending: handle them
    /// instead of blocking. Pair every `true` with [`unwatch`](Self::unwatch).
    pub(crate) fn watch(&self) -> bool {
        // ORDERING: see `post`.
        self.watchers.fetch_add(1, Ordering::SeqCst);
        if self.pending.load(Ordering::SeqCst) {
            self.unwatch();
            return false;
        }
        true
    }

    /// The waiter registered by [`watch`](Self::watch) stopped waiting.
    pub(crate) fn unwatch(&self) {
        // ORDERING: a late post that still sees us only signals needlessly.
        self.watchers.fetch_sub(1, Ordering::Relaxed);
    }

    /// From now on every post signals (the descriptor was handed to an
    /// event loop we cannot see).
    pub(crate) fn watch_forever(&self) {
        // ORDERING: as `watch`; the caller resynchronises its descriptor
        // right after, so a post racing with this call is not lost.
        self.watchers.fetch_add(1, Ordering::SeqCst);
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
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if out.is_empty() {
            // Swap buffers instead of moving commands: both keep their
            // capacity, so a steady stream of commands never allocates.
            std::mem::swap(out, &mut q.commands);
        } else {
            out.append(&mut q.commands);
        }
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
