//! CONFLATE: a pipe direction that keeps only the latest message.
//!
//! libzmq realises `ZMQ_CONFLATE` in the pipe (core routing leaves it
//! there too): the writer never waits (the high-water mark is ignored)
//! and each new message replaces the one the reader has not taken yet.
//! Unlike libzmq's double buffer, which keeps the last *frame*, whole
//! multipart messages are kept and replaced, so the reader never sees half
//! a message.
//!
//! A conflating pipe is an ordinary [`pipe`](crate::pipe) whose data goes
//! through a [`Latest`] slot instead of the ring; the ring still carries
//! the writer's end, so closing works as for any pipe.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::base::msg::Msg;
use crate::base::sync::lock;
use zlink_mq_core::socket_type::SocketType;

/// The one-message slot both ends share.
#[derive(Debug, Default)]
pub(crate) struct Latest {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The newest complete message the reader has not taken.
    message: Option<Vec<Msg>>,
    /// The reader found the slot empty: the next message wakes it.
    reader_waiting: bool,
}

impl Latest {
    /// A new, empty slot shared by a writer and a reader.
    pub(crate) fn pair() -> (ConflateTx, ConflateRx) {
        let latest = Arc::new(Latest::default());
        (
            ConflateTx {
                latest: latest.clone(),
                partial: Vec::new(),
            },
            ConflateRx {
                latest,
                current: VecDeque::new(),
            },
        )
    }
}

/// The writer's side: frames gather until the message is complete.
#[derive(Debug)]
pub(crate) struct ConflateTx {
    latest: Arc<Latest>,
    partial: Vec<Msg>,
}

impl ConflateTx {
    /// Adds a frame; the last frame of a message replaces whatever message
    /// was waiting. Returns whether the reader waits to be woken.
    pub(crate) fn push(&mut self, frame: Msg) -> bool {
        let last = !frame.more();
        self.partial.push(frame);
        if !last {
            return false;
        }
        let message = std::mem::take(&mut self.partial);
        let mut state = lock(&self.latest.state);
        state.message = Some(message);
        std::mem::take(&mut state.reader_waiting)
    }

    /// Drops the frames of an incomplete message.
    pub(crate) fn rollback(&mut self) {
        self.partial.clear();
    }
}

/// The reader's side: the message being read, frame by frame.
#[derive(Debug)]
pub(crate) struct ConflateRx {
    latest: Arc<Latest>,
    current: VecDeque<Msg>,
}

impl ConflateRx {
    /// The next frame: of the message being read, or of the latest one.
    /// `None` when there is none; the reader is then marked waiting.
    pub(crate) fn next(&mut self) -> Option<Msg> {
        if self.current.is_empty() && !self.take_latest() {
            return None;
        }
        self.current.pop_front()
    }

    /// Whether a frame can be read (if not, the reader is marked waiting).
    pub(crate) fn check(&mut self) -> bool {
        !self.current.is_empty() || self.take_latest()
    }

    fn take_latest(&mut self) -> bool {
        let mut state = lock(&self.latest.state);
        match state.message.take() {
            Some(m) => {
                self.current.extend(m);
                true
            }
            None => {
                state.reader_waiting = true;
                false
            }
        }
    }
}

/// Whether a socket of type `kind` with CONFLATE set conflates its
/// outbound and inbound pipes: `(outbound, inbound)`.
///
/// libzmq honours CONFLATE on DEALER, PULL, PUSH, PUB and SUB, and
/// conflates both directions of their pipes. Here the direction that
/// carries subscriptions (into a PUB, out of a SUB) is left alone: there
/// every message matters, and conflating it loses subscriptions (a SUB
/// subscribing to two topics in a row would only get the second).
pub(crate) fn directions(kind: SocketType, conflate: bool) -> (bool, bool) {
    if !conflate {
        return (false, false);
    }
    match kind {
        SocketType::Dealer => (true, true),
        SocketType::Push | SocketType::Pub => (true, false),
        SocketType::Pull | SocketType::Sub => (false, true),
        _ => (false, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(b: &[u8], more: bool) -> Msg {
        Msg::copy_from_slice(b).with_more(more)
    }

    #[test]
    fn keeps_only_the_latest_whole_message() {
        let (mut tx, mut rx) = Latest::pair();
        assert_eq!(rx.next(), None);
        assert!(tx.push(frame(b"1", false)), "the waiting reader is woken");
        assert!(!tx.push(frame(b"2a", true)));
        assert!(!tx.push(frame(b"2b", false)), "nobody waits now");
        assert_eq!(rx.next(), Some(frame(b"2a", true)));
        // A newer message does not cut the one being read.
        tx.push(frame(b"3", false));
        assert_eq!(rx.next(), Some(frame(b"2b", false)));
        assert!(rx.check());
        assert_eq!(rx.next(), Some(frame(b"3", false)));
        assert!(!rx.check());
        tx.push(frame(b"x", true));
        tx.rollback();
        assert_eq!(rx.next(), None);
    }

    #[test]
    fn only_the_types_libzmq_allows() {
        assert_eq!(directions(SocketType::Dealer, true), (true, true));
        assert_eq!(directions(SocketType::Pub, true), (true, false));
        assert_eq!(directions(SocketType::Sub, true), (false, true));
        assert_eq!(directions(SocketType::Router, true), (false, false));
        assert_eq!(directions(SocketType::Push, false), (false, false));
    }
}
