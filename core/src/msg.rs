//! What routing needs to know about a message frame.
//!
//! Core fixes no message type. Routing and pipes are generic over
//! [`Message`]: it gives a frame's bytes and its MORE flag, and lets routing
//! build the few frames it must create itself (the ROUTER routing-id frame
//! on receive, the REQ envelope delimiter and request id, the subscription
//! messages SUB and XSUB send upstream). Building may fail for a type with a
//! fixed capacity; callers handle [`FrameTooLarge`].
//!
//! [`Frame`] is a ready fixed-capacity frame for firmware and tests; the
//! std backend brings its own type (inline small payloads, reference-counted
//! large ones).
//!
//! This module owns no I/O, no allocation and no policy.
#![forbid(unsafe_code)]

use core::fmt;

/// One frame of a (possibly multipart) message, as routing sees it.
///
/// A multipart message is a run of frames whose MORE flag is set on every
/// frame but the last. libzmq's `msg_t` is the model: one frame, one flag.
pub trait Message: Sized {
    /// The frame's payload.
    fn bytes(&self) -> &[u8];

    /// Whether another frame of the same message follows this one.
    fn more(&self) -> bool;

    /// Sets or clears the MORE flag.
    fn set_more(&mut self, more: bool);

    /// Builds a frame (MORE clear) whose payload is `parts` concatenated.
    ///
    /// # Errors
    /// [`FrameTooLarge`] if the type cannot hold that many bytes.
    fn try_from_parts(parts: &[&[u8]]) -> Result<Self, FrameTooLarge>;

    /// Takes what `source` says of the connection it came from (a
    /// backend's message properties) for a frame routing makes on its
    /// behalf: a ROUTER's routing-id frame carries the properties of the
    /// message it names, as in libzmq. Nothing by default.
    fn inherit_origin(&mut self, source: &Self) {
        let _ = source;
    }

    /// Length of the payload in bytes.
    fn len(&self) -> usize {
        self.bytes().len()
    }

    /// Whether the payload is empty (an envelope delimiter, for example).
    fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }
}

/// A frame could not be built: the message type cannot hold `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameTooLarge {
    /// Number of bytes that were asked for.
    pub len: usize,
}

impl fmt::Display for FrameTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a frame of {} bytes does not fit the message type",
            self.len
        )
    }
}

impl core::error::Error for FrameTooLarge {}

/// A frame with room for `N` payload bytes, stored inline.
///
/// Suits firmware with static storage and small messages. Cloning copies
/// the payload, so a PUB fanning out to many peers copies once per peer;
/// a reference-counted type avoids that where a heap exists.
///
/// ```
/// use zlink_mq_core::msg::{Frame, Message};
///
/// let mut f = Frame::<8>::try_from_parts(&[b"ab", b"cd"]).unwrap();
/// assert_eq!(f.bytes(), b"abcd");
/// f.set_more(true);
/// assert!(f.more());
/// assert!(Frame::<2>::try_from_parts(&[b"abc"]).is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Frame<const N: usize> {
    payload: heapless::Vec<u8, N>,
    more: bool,
}

impl<const N: usize> Frame<N> {
    /// A frame holding a copy of `bytes`, MORE clear.
    ///
    /// # Errors
    /// [`FrameTooLarge`] if `bytes` is longer than `N`.
    pub fn new(bytes: &[u8]) -> Result<Self, FrameTooLarge> {
        Self::try_from_parts(&[bytes])
    }

    /// The same frame with its MORE flag set to `more`.
    #[must_use]
    pub fn with_more(mut self, more: bool) -> Self {
        self.more = more;
        self
    }
}

impl<const N: usize> Message for Frame<N> {
    #[inline]
    fn bytes(&self) -> &[u8] {
        &self.payload
    }

    #[inline]
    fn more(&self) -> bool {
        self.more
    }

    #[inline]
    fn set_more(&mut self, more: bool) {
        self.more = more;
    }

    fn try_from_parts(parts: &[&[u8]]) -> Result<Self, FrameTooLarge> {
        let len = parts.iter().map(|p| p.len()).sum();
        let mut payload = heapless::Vec::new();
        for part in parts {
            payload
                .extend_from_slice(part)
                .map_err(|_| FrameTooLarge { len })?;
        }
        Ok(Self {
            payload,
            more: false,
        })
    }
}

impl<const N: usize> fmt::Debug for Frame<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("len", &self.payload.len())
            .field("more", &self.more)
            .finish()
    }
}
