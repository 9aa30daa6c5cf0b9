//! Waiting and readiness: how a blocking call sleeps on the socket's
//! mailbox (after a short spin when every endpoint is inproc), the events a
//! socket reports ([`Events`]) and the descriptor foreign event loops wait
//! on.

use std::ops::BitOr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::base::error::Result;
use crate::pipe::handle::SocketShared;
use crate::socket::{Flags, Socket};

/// Misses in a row that make the most waits skip busy-waiting:
/// 2^(7-1) - 1 = 63.
const SPIN_BACKOFF_MAX: u8 = 7;

impl Socket {
    /// Blocks until something may have changed or `deadline` passes.
    /// Returns `false` on timeout.
    pub(super) fn wait(&mut self, deadline: Option<Instant>) -> Result<bool> {
        let timeout = match deadline {
            None => None,
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Ok(false);
                }
                Some(d - now)
            }
        };
        // Spin first without registering as a waiter: a peer that posts
        // meanwhile sets `pending` and makes no system call.
        // A command that arrives while spinning costs no sleep and no
        // wake-up.
        let spun = self.spin_first() && self.adaptive_spin(deadline);
        let signaler = self.shared.mailbox.signaler();
        if !spun {
            if !self.shared.mailbox.watch() {
                // A command arrived after our last look: handle it instead.
                self.process_commands();
                self.check_alive()?;
                return Ok(true);
            }
            let woken = signaler.wait(timeout);
            self.shared.mailbox.unwatch();
            if !woken? {
                return Ok(false);
            }
        }
        // Reset before draining: a signal that lands after the reset comes
        // with a command the drain below (or the next one) sees. After a
        // spin nobody signalled (we were not watching) unless the
        // descriptor is exposed, which every post signals: no system call.
        if !spun || self.fd_exposed {
            signaler.reset();
            self.fd_signaled = false;
            self.fd_dirty = false;
        }
        self.process_commands();
        self.check_alive()?;
        Ok(true)
    }

    /// Whether a blocking call should spin before it sleeps: only when
    /// spinning is enabled (`set_inproc_busy_wait`), every endpoint is
    /// inproc (whoever wakes us is another user thread, not an I/O thread
    /// that would compete with the spin for a core) and there is more than
    /// one core.
    pub(super) fn spin_first(&self) -> bool {
        if self.options.inproc_busy_wait.is_zero() {
            return false;
        }
        static MULTI_CORE: OnceLock<bool> = OnceLock::new();
        *MULTI_CORE.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
            && self
                .attachments
                .iter()
                .all(|a| a.resolved.starts_with("inproc://"))
    }

    /// Busy-waits unless recent busy-waits found nothing: the peer is then
    /// not running (more runnable threads than cores) or not about to
    /// answer, and spinning would only take a core from it. After `n`
    /// misses in a row the next `2^(n-1) - 1` waits (up to 63) sleep at
    /// once; a busy-wait that finds a command resets the count. Measured
    /// in docs/BENCHMARKS.md: a fixed spin cut inproc latency 16x on an
    /// idle machine but tripled it (and cost 20% of throughput) with one
    /// more runnable thread than cores; this one keeps the first and loses
    /// nothing in the second.
    fn adaptive_spin(&mut self, deadline: Option<Instant>) -> bool {
        if self.spin_skip > 0 {
            self.spin_skip -= 1;
            return false;
        }
        let found = self.spin(deadline);
        if found {
            self.spin_misses = 0;
        } else {
            self.spin_misses = (self.spin_misses + 1).min(SPIN_BACKOFF_MAX);
            self.spin_skip = (1u8 << (self.spin_misses - 1)) - 1;
        }
        found
    }

    /// Spins until a command is pending (`true`), or the busy-wait time or
    /// the deadline has passed (`false`). A sleep and its wake-up (a `poll`,
    /// the peer's eventfd write and a context switch each way) cost several
    /// microseconds; over inproc the peer's answer often comes sooner.
    pub(super) fn spin(&self, deadline: Option<Instant>) -> bool {
        // A busy-wait too long to add to `now` lasts until the deadline.
        let until = match (
            Instant::now().checked_add(self.options.inproc_busy_wait),
            deadline,
        ) {
            (Some(spin), Some(d)) => Some(spin.min(d)),
            (spin, None) => spin,
            (None, d) => d,
        };
        loop {
            if self.shared.mailbox.has_pending() {
                return true;
            }
            if until.is_some_and(|u| Instant::now() >= u) {
                return false;
            }
            for _ in 0..64 {
                std::hint::spin_loop();
            }
        }
    }

    pub(super) fn deadline(flags: Flags, timeout: Option<Duration>) -> Option<Option<Instant>> {
        if flags.contains(Flags::DONTWAIT) {
            None
        } else {
            // A timeout too long to add to `now` (SNDTIMEO / RCVTIMEO
            // near `Duration::MAX`) is no deadline at all.
            Some(timeout.and_then(|t| Instant::now().checked_add(t)))
        }
    }

    /// What the socket can do now without blocking (`ZMQ_EVENTS`).
    ///
    /// # Errors
    /// [`ErrorKind::Terminated`] once the context is shut down.
    pub fn events(&mut self) -> Result<Events> {
        // Quiet the descriptor first, then look. The other order loses a
        // wake-up: a write activation drained (and its signal reset) by
        // the sync after the look is in neither the answer nor the
        // descriptor, and a caller told "not writable" waits forever. This
        // way a command the sync drains is in the answer, and one the look
        // drains leaves its signal on the descriptor.
        self.update_fd();
        self.current_events()
    }

    pub(super) fn current_events(&mut self) -> Result<Events> {
        self.process_commands();
        self.check_alive()?;
        let events = Events {
            readable: self.routing.has_in(&mut self.peers),
            writable: self.routing.has_out(&mut self.peers),
        };
        self.reap();
        Ok(events)
    }

    /// A file descriptor to put in another event loop (epoll, poll, mio,
    /// tokio's `AsyncFd`, ...) so the socket can live there: wait for it to
    /// be **readable**, then call [`events`](Self::events) or receive with
    /// [`Flags::DONTWAIT`]. Never read or write the descriptor itself.
    ///
    /// Readiness, once `fd` has been called:
    ///
    /// - **Input is level-triggered.** Whenever a receive would not block
    ///   (or the context was shut down), the descriptor is readable, and it
    ///   stays readable until the input is consumed: no wake-up is lost, an
    ///   event loop may handle one message per wake-up.
    /// - **Output is reported on change.** After a send failed with
    ///   [`ErrorKind::WouldBlock`] (or [`events`](Self::events) said not
    ///   writable), the descriptor becomes readable when the socket may
    ///   have become writable again; check with [`events`](Self::events).
    /// - It may also be readable with nothing to do (a peer came or went):
    ///   `events` then says so, and the descriptor is quiet again (unless
    ///   a command arrived while `events` looked: then it stays readable,
    ///   and the next call says what changed).
    ///
    /// This is the socket's own wake-up descriptor (an eventfd): the level
    /// for input is kept by the socket's calls, so the guarantee holds as
    /// long as the socket is used only through its methods.
    pub fn fd(&mut self) -> std::os::fd::BorrowedFd<'_> {
        if !self.fd_exposed {
            self.fd_exposed = true;
            // An event loop we cannot see waits on the descriptor now:
            // every command must make it readable.
            self.shared.mailbox.watch_forever();
            self.sync_fd();
        }
        self.shared.mailbox.signaler().fd()
    }

    /// Keeps the descriptor's input readiness level-triggered (see
    /// [`fd`](Self::fd)); one branch when `fd` was never called.
    #[inline]
    pub(crate) fn update_fd(&mut self) {
        if self.fd_exposed {
            self.sync_fd();
        }
    }

    #[cold]
    pub(super) fn sync_fd(&mut self) {
        loop {
            self.process_commands();
            let readable = self.terminated || self.routing.has_in(&mut self.peers);
            self.reap();
            let signaler = self.shared.mailbox.signaler();
            if readable {
                if !self.fd_signaled {
                    signaler.signal();
                    self.fd_signaled = true;
                    self.fd_dirty = true;
                }
                return;
            }
            if !self.fd_dirty {
                return;
            }
            // Quiet the descriptor; a command posted before the reset is
            // pending and handled by the next round (a later one signals
            // again by itself).
            signaler.reset();
            self.fd_signaled = false;
            self.fd_dirty = false;
            if !self.shared.mailbox.has_pending() {
                return;
            }
        }
    }

    /// For a poller: consumes every signal, handles the commands, and says
    /// what the socket can do. The descriptor is left quiet (not
    /// level-triggered) so that a poller waiting for output is not woken
    /// by pending input; [`update_fd`](Self::update_fd) restores the level.
    pub(crate) fn poll_events(&mut self) -> Result<Events> {
        self.shared.mailbox.signaler().reset();
        self.fd_signaled = false;
        self.fd_dirty = false;
        self.current_events()
    }

    /// The part other threads hold (with the wake-up a poller waits on).
    pub(crate) fn shared(&self) -> &Arc<SocketShared> {
        &self.shared
    }
}

/// What a socket can do without blocking (`ZMQ_EVENTS`), or what a poller
/// waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Events {
    /// A receive would not block (`ZMQ_POLLIN`).
    pub readable: bool,
    /// A send would not block (`ZMQ_POLLOUT`).
    pub writable: bool,
}

impl Events {
    /// Neither.
    pub const NONE: Events = Events {
        readable: false,
        writable: false,
    };
    /// Readable (`ZMQ_POLLIN`).
    pub const READABLE: Events = Events {
        readable: true,
        writable: false,
    };
    /// Writable (`ZMQ_POLLOUT`).
    pub const WRITABLE: Events = Events {
        readable: false,
        writable: true,
    };

    /// Whether neither is set.
    pub const fn is_empty(self) -> bool {
        !self.readable && !self.writable
    }
}

impl BitOr for Events {
    type Output = Events;
    fn bitor(self, rhs: Events) -> Events {
        Events {
            readable: self.readable || rhs.readable,
            writable: self.writable || rhs.writable,
        }
    }
}

impl std::ops::BitAnd for Events {
    type Output = Events;
    fn bitand(self, rhs: Events) -> Events {
        Events {
            readable: self.readable && rhs.readable,
            writable: self.writable && rhs.writable,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::socket::context::Context;
    use crate::socket::{Flags, SocketType};

    #[test]
    fn busy_waits_that_find_nothing_back_off_and_one_that_finds_resets() {
        if !std::thread::available_parallelism().is_ok_and(|n| n.get() > 1) {
            return; // a single core never busy-waits
        }
        let ctx = Context::new();
        let mut rx = ctx.socket(SocketType::Pair).unwrap();
        rx.bind("inproc://adaptive-spin").unwrap();
        let mut tx = ctx.socket(SocketType::Pair).unwrap();
        tx.connect("inproc://adaptive-spin").unwrap();
        let soon = || Some(Instant::now() + Duration::from_millis(1));
        // Handle the commands the connection posted, then start counting.
        while rx.wait(soon()).unwrap() {}
        (rx.spin_misses, rx.spin_skip) = (0, 0);
        // Nothing arrives: every wait times out after its busy-wait, or
        // sleeps at once while backing off.
        let mut skips = Vec::new();
        for _ in 0..12 {
            assert!(!rx.wait(soon()).unwrap());
            skips.push(rx.spin_skip);
        }
        // Misses 1, 2, 3 set 0, 1, 3 skipped waits, each skip counted down.
        assert_eq!(skips, [0, 1, 0, 3, 2, 1, 0, 7, 6, 5, 4, 3]);
        assert_eq!(rx.spin_misses, 4);
        // Skip the rest of the back-off; a receive that finds the pipe empty
        // marks it asleep, so the next message posts a command, which the
        // busy-wait finds pending: the count starts over.
        rx.spin_skip = 0;
        assert!(rx.recv(Flags::DONTWAIT).is_err());
        tx.send(&b"x"[..], Flags::NONE).unwrap();
        assert!(
            rx.wait(Some(Instant::now() + Duration::from_secs(10)))
                .unwrap()
        );
        assert_eq!((rx.spin_misses, rx.spin_skip), (0, 0));
    }
}
