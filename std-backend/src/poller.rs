//! Waiting on many sockets and file descriptors at once: libzmq's
//! `zmq_poll` ([`poll`] over [`PollItem`]s) and `zmq_poller` (the reusable
//! [`Poller`]).
//!
//! A socket is ready for input when a receive would not block, for output
//! when a send would not block: what [`Socket::events`] says. Like
//! `zmq_poll`, the poller asks each socket first and sleeps only when none
//! is ready, on the sockets' wake-up descriptors and the raw descriptors
//! together (poll(2)); every wake-up of a socket's descriptor makes it ask
//! that socket again. That is correct whatever the descriptor's triggering
//! (see [`Socket::fd`]): a socket that has nothing now is woken by whatever
//! changes that.
#![forbid(unsafe_code)]

use std::fmt;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::socket::{Events, Socket, SocketShared};
use crate::sys::Interest;
use crate::sys::poll::{Revents, poll as poll_fds};

enum Target<'a> {
    Socket(&'a mut Socket),
    Fd(BorrowedFd<'a>),
}

/// One thing to wait on: a socket or a file descriptor, with what to wait
/// for, and (after a poll) what it is ready for.
pub struct PollItem<'a> {
    target: Target<'a>,
    interest: Events,
    ready: Events,
}

impl<'a> PollItem<'a> {
    /// Waits on `socket` for `interest` ([`Events::READABLE`],
    /// [`Events::WRITABLE`] or both).
    pub fn socket(socket: &'a mut Socket, interest: Events) -> Self {
        Self {
            target: Target::Socket(socket),
            interest,
            ready: Events::NONE,
        }
    }

    /// Waits on a file descriptor (a pipe, a TCP socket of your own, ...)
    /// for `interest`. A descriptor that hangs up or fails counts as
    /// readable, as poll(2) reports it.
    pub fn fd(fd: BorrowedFd<'a>, interest: Events) -> Self {
        Self {
            target: Target::Fd(fd),
            interest,
            ready: Events::NONE,
        }
    }

    /// What the item was found ready for by the last poll (within its
    /// interest).
    pub fn ready(&self) -> Events {
        self.ready
    }

    /// Whether the last poll found it readable (`ZMQ_POLLIN`).
    pub fn is_readable(&self) -> bool {
        self.ready.readable
    }

    /// Whether the last poll found it writable (`ZMQ_POLLOUT`).
    pub fn is_writable(&self) -> bool {
        self.ready.writable
    }

    /// What the item waits for.
    pub fn interest(&self) -> Events {
        self.interest
    }

    /// Changes what the item waits for.
    pub fn set_interest(&mut self, interest: Events) {
        self.interest = interest;
    }

    /// The socket, to receive or send on it between polls (`None` for a
    /// file descriptor item).
    pub fn socket_mut(&mut self) -> Option<&mut Socket> {
        match &mut self.target {
            Target::Socket(s) => Some(s),
            Target::Fd(_) => None,
        }
    }
}

impl fmt::Debug for PollItem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("PollItem");
        match &self.target {
            Target::Socket(s) => d.field("socket", s),
            Target::Fd(fd) => d.field("fd", fd),
        };
        d.field("interest", &self.interest)
            .field("ready", &self.ready)
            .finish()
    }
}

/// Waits until at least one item is ready for what it waits for, or
/// `timeout` passes (`None`: forever; zero: just look), like `zmq_poll`.
/// Sets each item's [`ready`](PollItem::ready) and returns how many are
/// ready (0 on timeout).
///
/// ```
/// use std::time::Duration;
/// use zlink_mq_std::{Context, Events, Flags, PollItem, SocketType, poll};
///
/// let ctx = Context::new();
/// let mut a = ctx.socket(SocketType::Pair)?;
/// a.bind("inproc://poll-doc")?;
/// let mut b = ctx.socket(SocketType::Pair)?;
/// b.connect("inproc://poll-doc")?;
/// b.send("ping", Flags::NONE)?;
///
/// let mut items = [PollItem::socket(&mut a, Events::READABLE)];
/// assert_eq!(poll(&mut items, Some(Duration::from_secs(5)))?, 1);
/// let a = items[0].socket_mut().unwrap();
/// assert_eq!(&a.recv(Flags::DONTWAIT)?[..], b"ping");
/// # Ok::<(), zlink_mq_std::Error>(())
/// ```
///
/// # Errors
/// [`ErrorKind::Terminated`](crate::ErrorKind::Terminated) if a socket's
/// context was shut down; [`ErrorKind::Io`](crate::ErrorKind::Io) if
/// poll(2) fails (a closed descriptor, ...).
pub fn poll(items: &mut [PollItem<'_>], timeout: Option<Duration>) -> Result<usize> {
    let mut revents = Vec::new();
    let result = poll_with(items, timeout, &mut revents);
    // Give back the level-triggered descriptors of sockets that expose one.
    for item in items.iter_mut() {
        if let Target::Socket(s) = &mut item.target {
            s.update_fd();
        }
    }
    result
}

fn poll_with(
    items: &mut [PollItem<'_>],
    timeout: Option<Duration>,
    revents: &mut Vec<Revents>,
) -> Result<usize> {
    // A timeout too long to add to `now` is no deadline at all.
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    // The sockets' wake-up descriptors, held apart from the sockets so that
    // they can be waited on while the sockets are asked.
    let wakeups: Vec<Option<Arc<SocketShared>>> = items
        .iter()
        .map(|item| match &item.target {
            Target::Socket(s) => Some(s.shared().clone()),
            Target::Fd(_) => None,
        })
        .collect();
    loop {
        let mut any = false;
        for item in items.iter_mut() {
            item.ready = match &mut item.target {
                Target::Socket(s) if !item.interest.is_empty() => s.poll_events()? & item.interest,
                _ => Events::NONE,
            };
            any |= !item.ready.is_empty();
        }
        let wait = if any {
            Some(Duration::ZERO)
        } else {
            deadline.map(|d| d.saturating_duration_since(Instant::now()))
        };
        let fds: Vec<(BorrowedFd<'_>, Interest)> = items
            .iter()
            .zip(&wakeups)
            .map(|(item, wakeup)| match (&item.target, wakeup) {
                (Target::Socket(_), Some(w)) => (w.mailbox.signaler().fd(), Interest::READ),
                (Target::Fd(fd), _) => (fd.as_fd(), interest(item.interest)),
                (Target::Socket(_), None) => unreachable!("every socket has its wake-up"),
            })
            .collect();
        // Sockets' mailboxes signal only while someone may be blocked on
        // them: register as that someone. A socket with commands already
        // queued is asked again without blocking.
        let pending: Vec<bool> = wakeups
            .iter()
            .map(|w| w.as_ref().is_some_and(|w| !w.mailbox.watch()))
            .collect();
        let wait = if pending.contains(&true) {
            Some(Duration::ZERO)
        } else {
            wait
        };
        let woken = poll_fds(&fds, wait, revents);
        for (w, p) in wakeups.iter().zip(&pending) {
            if let (Some(w), false) = (w, p) {
                w.mailbox.unwatch();
            }
        }
        let woken = woken?;
        drop(fds);
        if woken > 0 || pending.contains(&true) {
            for ((item, r), pending) in items.iter_mut().zip(revents.iter()).zip(&pending) {
                match &mut item.target {
                    Target::Fd(_) => {
                        item.ready = Events {
                            readable: r.readable,
                            writable: r.writable,
                        } & item.interest;
                    }
                    // Something happened to the socket: ask it again.
                    Target::Socket(s) if (r.readable || *pending) && item.ready.is_empty() => {
                        if !item.interest.is_empty() {
                            item.ready = s.poll_events()? & item.interest;
                        }
                    }
                    Target::Socket(_) => {}
                }
            }
        }
        let n = items.iter().filter(|i| !i.ready.is_empty()).count();
        if n > 0 || wait.is_some_and(|w| w.is_zero()) {
            return Ok(n);
        }
    }
}

fn interest(events: Events) -> Interest {
    Interest {
        read: events.readable,
        write: events.writable,
    }
}

/// A reusable set of sockets and file descriptors to wait on (libzmq's
/// `zmq_poller`). Each is named by the index [`add_socket`](Self::add_socket)
/// or [`add_fd`](Self::add_fd) returned.
///
/// ```
/// use std::time::Duration;
/// use zlink_mq_std::{Context, Events, Flags, Poller, SocketType};
///
/// let ctx = Context::new();
/// let mut pull = ctx.socket(SocketType::Pull)?;
/// pull.bind("inproc://poller-doc")?;
/// let mut push = ctx.socket(SocketType::Push)?;
/// push.connect("inproc://poller-doc")?;
///
/// let mut poller = Poller::new();
/// let input = poller.add_socket(&mut pull, Events::READABLE);
/// let output = poller.add_socket(&mut push, Events::WRITABLE);
/// assert_eq!(poller.wait(Some(Duration::from_secs(5)))?, 1);
/// assert!(poller.ready(output).writable);
/// poller.socket(output).unwrap().send("hi", Flags::NONE)?;
/// poller.wait(Some(Duration::from_secs(5)))?;
/// assert!(poller.ready(input).readable);
/// assert_eq!(&poller.socket(input).unwrap().recv(Flags::NONE)?[..], b"hi");
/// # Ok::<(), zlink_mq_std::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct Poller<'a> {
    items: Vec<PollItem<'a>>,
    revents: Vec<Revents>,
}

impl<'a> Poller<'a> {
    /// An empty poller.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a socket; returns its index.
    pub fn add_socket(&mut self, socket: &'a mut Socket, interest: Events) -> usize {
        self.items.push(PollItem::socket(socket, interest));
        self.items.len() - 1
    }

    /// Adds a file descriptor; returns its index.
    pub fn add_fd(&mut self, fd: BorrowedFd<'a>, interest: Events) -> usize {
        self.items.push(PollItem::fd(fd, interest));
        self.items.len() - 1
    }

    /// Changes what item `index` waits for (nothing: [`Events::NONE`]).
    ///
    /// # Panics
    /// If there is no such item.
    pub fn set_interest(&mut self, index: usize, interest: Events) {
        self.items[index].set_interest(interest);
    }

    /// Waits as [`poll`] does; returns how many items are ready.
    ///
    /// # Errors
    /// As [`poll`].
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<usize> {
        let result = poll_with(&mut self.items, timeout, &mut self.revents);
        for item in &mut self.items {
            if let Target::Socket(s) = &mut item.target {
                s.update_fd();
            }
        }
        result
    }

    /// What item `index` was found ready for by the last wait.
    ///
    /// # Panics
    /// If there is no such item.
    pub fn ready(&self, index: usize) -> Events {
        self.items[index].ready
    }

    /// The socket of item `index` (`None` for a file descriptor, or no
    /// such item).
    pub fn socket(&mut self, index: usize) -> Option<&mut Socket> {
        self.items.get_mut(index)?.socket_mut()
    }

    /// Every item, in the order added.
    pub fn items_mut(&mut self) -> &mut [PollItem<'a>] {
        &mut self.items
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is no item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}
