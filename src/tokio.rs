//! Async sockets for [tokio](https://tokio.rs) (feature `tokio`).
//!
//! [`AsyncSocket`] wraps a [`Socket`] and waits on its descriptor
//! ([`Socket::fd`]) with tokio's [`AsyncFd`] instead of blocking a thread:
//! `send(..).await`, `recv().await`, `send_multipart` / `recv_multipart`,
//! and [`Stream`] / [`Sink`] of whole messages. It never blocks the
//! executor, works on current-thread and multi-thread runtimes (with I/O
//! enabled), and its futures are `Send`.
//!
//! ```
//! use zlink_mq::tokio::AsyncSocket;
//! use zlink_mq::{Context, SocketType};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), zlink_mq::Error> {
//! let ctx = Context::new();
//! let mut rep = ctx.socket(SocketType::Rep)?;
//! rep.bind("tcp://127.0.0.1:*")?;
//! let mut req = ctx.socket(SocketType::Req)?;
//! req.connect(rep.last_endpoint().unwrap())?;
//! let (mut req, mut rep) = (AsyncSocket::new(req)?, AsyncSocket::new(rep)?);
//!
//! req.send("hello").await?;
//! assert_eq!(&rep.recv().await?[..], b"hello");
//! rep.send_multipart(["wor", "ld"]).await?;
//! let reply = req.recv_multipart().await?;
//! assert_eq!((&reply[0][..], &reply[1][..]), (&b"wor"[..], &b"ld"[..]));
//! # Ok(())
//! # }
//! ```
//!
//! # How it waits
//!
//! Every operation is first tried with [`Flags::DONTWAIT`]. Only when the
//! socket says [`ErrorKind::WouldBlock`] does the task wait for the
//! descriptor, which is readable when input arrives (level-triggered) and,
//! after a send would have blocked, when the socket may have become
//! writable (see [`Socket::fd`]). tokio's readiness for the descriptor is
//! cleared only after the socket, asked again, still says `WouldBlock` and
//! [`Socket::events`] agrees (the failed call itself may have consumed the
//! change that would have woken us), and tokio keeps any event that
//! arrived in between: no wake-up is lost. One case the descriptor cannot
//! report: a ROUTER with ROUTER_MANDATORY whose addressed peer is full
//! while other peers have room (`events` says writable, the send says
//! `WouldBlock`); such a send yields and tries again each time the task is
//! scheduled, until the peer has room. Each message costs one budget
//! unit of tokio's cooperative scheduling, so a task that always finds a
//! message still lets the others run.
//! Receiving and sending wait on two registrations of the descriptor (a
//! duplicate, so two more descriptors per socket): a task blocked on
//! receive and another blocked on send (a [`Stream`] / [`Sink`] split in
//! two tasks) each get their wake-up.
//!
//! # Cancellation
//!
//! Dropping a future of this module before it completes is safe:
//!
//! - **`recv` / `recv_multipart` / the `Stream` lose no message.** A
//!   message is taken from the socket only in the same poll that returns
//!   it; a dropped future has taken nothing, and the next receive gets it.
//!   `recv_multipart` takes a whole message at once (the socket delivers
//!   messages whole, so once the first frame is there, the rest are).
//! - **`send` / `send_multipart` send the whole message or none of it.**
//!   The future waits until the socket accepts the first frame; once it
//!   has, the socket's high-water mark counts whole messages, so it takes
//!   the remaining frames at once, in the same poll (tokio's budget is
//!   asked once per message, never between frames). Should a later frame
//!   still be refused (a PAIR peer leaving in the middle of the message),
//!   the remaining frames stay in the `AsyncSocket`, even if the future is
//!   dropped, and go out before the next message (or on
//!   [`flush`](AsyncSocket::flush)), so no message is ever interleaved
//!   with another or cut short.
//! - The [`Sink`] holds one message: `poll_ready` completes the previous
//!   one, `poll_flush` sends what it holds.
//!
//! Messages are whole in both directions: use `send_multipart` and
//! `recv_multipart` (or [`recv`](AsyncSocket::recv) frame by frame, with
//! [`Msg::more`]). There is no async `send` of a single frame with
//! `SNDMORE`: a message left half-sent by a dropped future would break the
//! guarantee above.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, Waker, ready};

use ::tokio::io::Interest;
use ::tokio::io::unix::AsyncFd;
use ::tokio::task::coop;
use futures_core::Stream;
use futures_sink::Sink;

use crate::{Error, ErrorKind, Flags, Msg, Result, Socket};

/// A [`Socket`] for tokio: async send and receive of whole messages, a
/// [`Stream`] of received messages and a [`Sink`] of messages to send.
///
/// Create it inside a tokio runtime with I/O enabled
/// (`Runtime::new`, `#[tokio::main]`, or a builder with `enable_io`).
/// Options, `bind` and `connect` stay on the [`Socket`]
/// ([`get_mut`](Self::get_mut)). See the [module docs](self) for the
/// cancellation guarantees.
#[derive(Debug)]
pub struct AsyncSocket {
    /// Readiness for receiving: a duplicate of the socket's descriptor.
    rx: AsyncFd<OwnedFd>,
    /// Readiness for sending: another duplicate, so that a task waiting to
    /// receive and one waiting to send do not take each other's wake-up
    /// (tokio keeps one waker per registration and direction).
    tx: AsyncFd<OwnedFd>,
    socket: Socket,
    /// Frames of a message whose first frame the socket accepted, not yet
    /// taken (see "Cancellation").
    tail: VecDeque<Msg>,
    /// The message handed to the [`Sink`] and not yet accepted.
    queued: VecDeque<Msg>,
    /// The task whose send is waiting for room, if any (see
    /// [`wake_blocked_sender`](Self::wake_blocked_sender)).
    blocked_sender: Option<Waker>,
}

impl AsyncSocket {
    /// Wraps `socket`, registering its descriptor with the current tokio
    /// runtime's reactor.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when called outside a runtime with I/O enabled
    /// (tokio's error says so), or when the descriptor cannot be
    /// duplicated or registered.
    pub fn new(mut socket: Socket) -> Result<Self> {
        let fd = socket.fd();
        let rx = register(fd.try_clone_to_owned()?)?;
        let tx = register(fd.try_clone_to_owned()?)?;
        Ok(Self {
            rx,
            tx,
            socket,
            tail: VecDeque::new(),
            queued: VecDeque::new(),
            blocked_sender: None,
        })
    }

    /// The socket, for its options and endpoints.
    pub fn get_ref(&self) -> &Socket {
        &self.socket
    }

    /// The socket, to set options, bind and connect. Sending and receiving
    /// through it directly is allowed (the descriptor's readiness is kept
    /// by the socket's own calls), but do not leave a message half-sent
    /// with [`Flags::SNDMORE`].
    pub fn get_mut(&mut self) -> &mut Socket {
        &mut self.socket
    }

    /// The socket back, for blocking use (its descriptor stays exposed:
    /// every command keeps signalling it). Frames of a message left by a
    /// cancelled send (see the [module docs](self)) are offered to the
    /// socket once more without waiting; await [`flush`](Self::flush)
    /// first to be sure they went.
    pub fn into_inner(mut self) -> Socket {
        while let Some(part) = self.tail.pop_front() {
            let flags = frame_flags(self.tail.len());
            if self.socket.send(part, flags).is_err() {
                break;
            }
        }
        self.socket
    }

    /// Receives one frame; [`Msg::more`] says whether more frames of the
    /// same message follow. Cancel-safe: a dropped future took nothing.
    ///
    /// # Errors
    /// As [`Socket::recv`] but never [`ErrorKind::WouldBlock`].
    pub async fn recv(&mut self) -> Result<Msg> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Receives the next message, every frame of it. Cancel-safe: a
    /// dropped future took nothing.
    ///
    /// # Errors
    /// As [`Socket::recv_multipart`] but never [`ErrorKind::WouldBlock`].
    pub async fn recv_multipart(&mut self) -> Result<Vec<Msg>> {
        poll_fn(|cx| self.poll_recv_multipart(cx)).await
    }

    /// Sends `msg` as a message of one frame. Cancel-safe: a dropped
    /// future sent the message or nothing.
    ///
    /// # Errors
    /// As [`Socket::send`] but never [`ErrorKind::WouldBlock`]; nothing was
    /// sent.
    pub async fn send(&mut self, msg: impl Into<Msg>) -> Result<()> {
        let mut msg = Some(msg.into());
        poll_fn(|cx| self.poll_send_parts(cx, &mut msg)).await
    }

    /// Sends every frame of `parts` as one message (nothing when `parts`
    /// is empty). Cancel-safe: a dropped future sent the whole message or
    /// none of it.
    ///
    /// # Errors
    /// As [`Socket::send_multipart`] but never [`ErrorKind::WouldBlock`];
    /// an error on the first frame means nothing was sent.
    pub async fn send_multipart<I, M>(&mut self, parts: I) -> Result<()>
    where
        I: IntoIterator<Item = M>,
        M: Into<Msg>,
    {
        let mut parts: VecDeque<Msg> = parts.into_iter().map(Into::into).collect();
        poll_fn(|cx| self.poll_send_parts(cx, &mut parts)).await
    }

    /// Waits until every frame of the messages sent so far has been
    /// handed to the socket: the rest of a message left by a cancelled
    /// send, and the message the [`Sink`] holds.
    ///
    /// # Errors
    /// As [`Socket::send`] but never [`ErrorKind::WouldBlock`].
    pub async fn flush(&mut self) -> Result<()> {
        poll_fn(|cx| self.poll_flush_all(cx)).await
    }

    /// Polls for one frame (see [`recv`](Self::recv)), for hand-written
    /// futures and streams. On `Pending` the task is woken when a frame
    /// may have arrived.
    pub fn poll_recv(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<Msg>> {
        let poll = poll_op_budgeted(&self.rx, &mut self.socket, cx, Want::Input, |s| {
            s.recv(Flags::DONTWAIT)
        });
        self.wake_blocked_sender();
        poll
    }

    /// Polls for a whole message (see [`recv_multipart`](Self::recv_multipart)).
    pub fn poll_recv_multipart(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<Vec<Msg>>> {
        let poll = poll_op_budgeted(&self.rx, &mut self.socket, cx, Want::Input, |s| {
            s.recv_multipart(Flags::DONTWAIT)
        });
        self.wake_blocked_sender();
        poll
    }

    /// A receive may handle the command that gives a waiting send room (a
    /// write activation) and quiet the descriptor before the reactor saw
    /// the signal, so the sending task, when it is another task (a split
    /// `Stream` / `Sink`), would never hear of it: if the socket is now
    /// writable, wake it. (Input needs no such care: it is level-triggered,
    /// so a send that handles an input command leaves the descriptor
    /// readable.)
    fn wake_blocked_sender(&mut self) {
        if self.blocked_sender.is_none() {
            return;
        }
        // An error (shut down) is news for the sender too.
        let wake = match self.socket.events() {
            Ok(events) => events.writable,
            Err(_) => true,
        };
        if let Some(waker) = self.blocked_sender.take_if(|_| wake) {
            waker.wake();
        }
    }

    /// Sends `parts` as one message: first whatever an earlier message
    /// left, then the first frame (waiting for room), then the rest. On
    /// return `parts` is empty unless nothing of it was sent.
    fn poll_send_parts(
        &mut self,
        cx: &mut TaskContext<'_>,
        parts: &mut impl Parts,
    ) -> Poll<Result<()>> {
        let poll = self.poll_send_parts_now(cx, parts);
        if poll.is_pending() {
            match &mut self.blocked_sender {
                Some(waker) => waker.clone_from(cx.waker()),
                None => self.blocked_sender = Some(cx.waker().clone()),
            }
        } else {
            self.blocked_sender = None;
        }
        poll
    }

    fn poll_send_parts_now(
        &mut self,
        cx: &mut TaskContext<'_>,
        parts: &mut impl Parts,
    ) -> Poll<Result<()>> {
        ready!(self.poll_tail(cx))?;
        let Some(first) = parts.first() else {
            return Poll::Ready(Ok(()));
        };
        let flags = frame_flags(parts.after_first());
        // `Socket::send` consumes the frame even when it refuses it: offer a
        // copy (inline bytes or a reference count), keep the original.
        ready!(poll_op_budgeted(
            &self.tx,
            &mut self.socket,
            cx,
            Want::Output,
            |s| { s.send(first.clone(), flags) }
        ))?;
        parts.rest_into(&mut self.tail);
        self.poll_tail(cx)
    }

    /// Hands the socket the rest of a started message. The socket takes
    /// them without waiting but when a peer left in the middle of it.
    fn poll_tail(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<()>> {
        while let Some(part) = self.tail.front() {
            let flags = frame_flags(self.tail.len() - 1);
            match ready!(poll_op(&self.tx, &mut self.socket, cx, Want::Output, |s| {
                s.send(part.clone(), flags)
            })) {
                Ok(()) => {
                    self.tail.pop_front();
                }
                Err(e) => {
                    // Terminated (or worse): no later frame can go either.
                    self.tail.clear();
                    return Poll::Ready(Err(e));
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    fn poll_flush_all(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<()>> {
        let mut queued = std::mem::take(&mut self.queued);
        match self.poll_send_parts(cx, &mut queued) {
            // Still waiting for room: keep the message for the next poll.
            Poll::Pending => {
                self.queued = queued;
                Poll::Pending
            }
            // Sent, or refused for good (the error is the message's fate).
            Poll::Ready(result) => Poll::Ready(result),
        }
    }
}

/// The frames of a message to send: one frame without a queue (the
/// common case, no allocation), or several.
trait Parts {
    fn first(&self) -> Option<&Msg>;
    /// How many frames follow the first.
    fn after_first(&self) -> usize;
    /// The first frame was accepted: moves the others to `tail`.
    fn rest_into(&mut self, tail: &mut VecDeque<Msg>);
}

impl Parts for Option<Msg> {
    fn first(&self) -> Option<&Msg> {
        self.as_ref()
    }
    fn after_first(&self) -> usize {
        0
    }
    fn rest_into(&mut self, _tail: &mut VecDeque<Msg>) {
        *self = None;
    }
}

impl Parts for VecDeque<Msg> {
    fn first(&self) -> Option<&Msg> {
        self.front()
    }
    fn after_first(&self) -> usize {
        self.len().saturating_sub(1)
    }
    fn rest_into(&mut self, tail: &mut VecDeque<Msg>) {
        self.pop_front();
        tail.append(self);
    }
}

/// Registers `fd` with the current runtime's reactor, for readability.
///
/// tokio 1.54 deprecated the safe constructors in favour of unsafe ones:
/// an arbitrary `AsRawFd` could close or change its descriptor while
/// registered. An `OwnedFd` cannot (it owns the descriptor and closes it
/// only when dropped, after `AsyncFd` deregistered it), so the safe call is
/// sound here and this crate stays free of `unsafe`.
#[allow(deprecated)]
fn register(fd: OwnedFd) -> std::io::Result<AsyncFd<OwnedFd>> {
    AsyncFd::with_interest(fd, Interest::READABLE)
}

/// The flags of a frame with `after` frames after it in its message.
fn frame_flags(after: usize) -> Flags {
    if after > 0 {
        Flags::DONTWAIT | Flags::SNDMORE
    } else {
        Flags::DONTWAIT
    }
}

/// Runs `op` (a `DONTWAIT` call) until it does something other than
/// would-block, waiting on `ready` in between.
fn poll_op<T>(
    ready: &AsyncFd<OwnedFd>,
    socket: &mut Socket,
    cx: &mut TaskContext<'_>,
    want: Want,
    mut op: impl FnMut(&mut Socket) -> Result<T>,
) -> Poll<Result<T>> {
    // The fast path: the socket can do it now, no readiness involved.
    match op(socket) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        done => return Poll::Ready(done),
    }
    // Each time `events` claims the operation can go and it still cannot
    // (a ROUTER with ROUTER_MANDATORY, writable to some peers but not the
    // one addressed), one retry; past a few, yield instead of spinning.
    let mut retries = 0;
    loop {
        // Registers the waker when there is no readiness, *before* the
        // socket is asked again: whatever changes after that question
        // signals the descriptor and wakes us.
        let guard = match ready.poll_read_ready(cx) {
            Poll::Ready(Ok(guard)) => Some(guard),
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
            Poll::Pending => None,
        };
        match op(socket) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            done => return Poll::Ready(done),
        }
        // The operation's own bookkeeping may have drained the very change
        // that makes it possible now (a write activation) and quieted the
        // descriptor: `events` says whether to retry or to wait.
        let events = match socket.events() {
            Ok(events) => events,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if want.met_by(events) {
            retries += 1;
            if retries < MAX_RETRIES {
                continue;
            }
            // The descriptor may not tell us when the addressed peer has
            // room (its activation may have been consumed by the call
            // that failed): poll again after the other tasks had a turn.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match guard {
            // Readiness that did not help: forget it (tokio keeps it if a
            // newer event arrived since it was reported) and wait.
            Some(mut guard) => guard.clear_ready(),
            None => return Poll::Pending,
        }
    }
}

/// How many times in one poll an operation is retried because
/// [`Socket::events`] says it can go.
const MAX_RETRIES: u32 = 3;

/// What an operation waits for.
#[derive(Debug, Clone, Copy)]
enum Want {
    Input,
    Output,
}

impl Want {
    fn met_by(self, events: crate::Events) -> bool {
        match self {
            Want::Input => events.readable,
            Want::Output => events.writable,
        }
    }
}

/// Runs `op` as [`poll_op`] does, within tokio's budget: a task that
/// always finds a message must still let the others run now and then.
/// Asked once per message, never between the frames of one.
fn poll_op_budgeted<T>(
    ready: &AsyncFd<OwnedFd>,
    socket: &mut Socket,
    cx: &mut TaskContext<'_>,
    want: Want,
    op: impl FnMut(&mut Socket) -> Result<T>,
) -> Poll<Result<T>> {
    let coop = ready!(coop::poll_proceed(cx));
    let done = ready!(poll_op(ready, socket, cx, want, op));
    coop.made_progress();
    Poll::Ready(done)
}

/// Whole messages received; ends when the context is shut down
/// ([`ErrorKind::Terminated`]). Cancel-safe as
/// [`recv_multipart`](AsyncSocket::recv_multipart).
impl Stream for AsyncSocket {
    type Item = Result<Vec<Msg>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        match ready!(self.get_mut().poll_recv_multipart(cx)) {
            Err(e) if e.kind() == ErrorKind::Terminated => Poll::Ready(None),
            other => Poll::Ready(Some(other)),
        }
    }
}

/// Whole messages to send, each given as its frames (`[id, body]`,
/// `vec![msg]`, ...). Holds one message: see the [module docs](self).
impl<I, M> Sink<I> for AsyncSocket
where
    I: IntoIterator<Item = M>,
    M: Into<Msg>,
{
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<()>> {
        self.get_mut().poll_flush_all(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: I) -> Result<()> {
        let this = self.get_mut();
        if !this.queued.is_empty() {
            return Err(Error::with_text(
                ErrorKind::InvalidState,
                "Sink::start_send without a successful poll_ready",
            ));
        }
        this.queued.extend(item.into_iter().map(Into::into));
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<()>> {
        self.get_mut().poll_flush_all(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<()>> {
        self.get_mut().poll_flush_all(cx)
    }
}
