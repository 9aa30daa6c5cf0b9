//! The message frame of the std backend.
//!
//! Small payloads (up to [`Msg::INLINE_CAPACITY`] bytes, which covers the
//! 64-byte messages that dominate benchmarks and most real traffic) live
//! inside the `Msg` itself: creating, moving and dropping one never touches
//! the allocator. Larger payloads live in a reference-counted [`Bytes`]
//! buffer, so fan-out to many peers shares one buffer, a `Vec<u8>` becomes a
//! message without a copy, and a receive buffer can hand out frames that
//! point into it. A received frame also points to the properties of the
//! connection it came from (one shared [`Properties`] per connection).

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use bytes::Bytes;

use crate::base::properties::Properties;

/// Inline payload bytes: with the length, the MORE flag and the enum's tag
/// they fill 72 bytes, so that with the properties pointer a `Msg` is 80
/// (a pipe slot).
const INLINE: usize = 69;

#[derive(Clone)]
enum Repr {
    Inline {
        len: u8,
        more: bool,
        data: [u8; INLINE],
    },
    Shared {
        bytes: Bytes,
        more: bool,
    },
}

/// One frame of a message, with its MORE flag (more frames follow) and, if
/// it was received over TCP or IPC, its connection's [`Properties`].
#[derive(Clone)]
pub struct Msg {
    repr: Repr,
    properties: Option<Arc<Properties>>,
}

impl Msg {
    /// Payloads up to this many bytes are stored inline, without allocating.
    pub const INLINE_CAPACITY: usize = INLINE;

    /// An empty frame.
    pub const fn new() -> Self {
        Self {
            repr: Repr::Inline {
                len: 0,
                more: false,
                data: [0; INLINE],
            },
            properties: None,
        }
    }

    /// A frame holding a copy of `data` (inline when small).
    pub fn copy_from_slice(data: &[u8]) -> Self {
        if data.len() <= INLINE {
            let mut inline = [0; INLINE];
            inline[..data.len()].copy_from_slice(data);
            Self {
                repr: Repr::Inline {
                    len: data.len() as u8,
                    more: false,
                    data: inline,
                },
                properties: None,
            }
        } else {
            // Large payloads go to a recycled buffer (see `bufpool`).
            let bytes =
                crate::base::bufpool::copy(data).unwrap_or_else(|| Bytes::copy_from_slice(data));
            Self::shared(bytes)
        }
    }

    fn shared(bytes: Bytes) -> Self {
        Self {
            repr: Repr::Shared { bytes, more: false },
            properties: None,
        }
    }

    /// A frame over a shared buffer, without copying large payloads (small
    /// ones are copied inline so the buffer can be released early).
    pub fn from_bytes(bytes: Bytes) -> Self {
        if bytes.len() <= INLINE {
            Self::copy_from_slice(&bytes)
        } else {
            Self::shared(bytes)
        }
    }

    /// The payload.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match &self.repr {
            Repr::Inline { len, data, .. } => &data[..*len as usize],
            Repr::Shared { bytes, .. } => bytes,
        }
    }

    /// Whether more frames of the same message follow this one.
    #[inline]
    pub fn more(&self) -> bool {
        match self.repr {
            Repr::Inline { more, .. } | Repr::Shared { more, .. } => more,
        }
    }

    /// Sets the MORE flag.
    #[inline]
    pub fn set_more(&mut self, more: bool) {
        match &mut self.repr {
            Repr::Inline { more: m, .. } | Repr::Shared { more: m, .. } => *m = more,
        }
    }

    /// This frame with the MORE flag set to `more`.
    #[inline]
    pub fn with_more(mut self, more: bool) -> Self {
        self.set_more(more);
        self
    }

    /// The properties of the connection this frame was received from: the
    /// peer's address, socket type and metadata, the User-Id its ZAP handler
    /// gave it (libzmq's `zmq_msg_gets`). `None` for frames made locally
    /// and for inproc.
    #[inline]
    pub fn properties(&self) -> Option<&Properties> {
        self.properties.as_deref()
    }

    /// One property of the connection this frame was received from (see
    /// [`properties`](Self::properties)), e.g. `"Peer-Address"`,
    /// `"User-Id"`, `"Socket-Type"`.
    pub fn property(&self, name: &str) -> Option<&[u8]> {
        self.properties()?.get(name)
    }

    /// Takes the frame's connection properties out of it (a binding that
    /// keeps them apart from the payload), leaving none.
    pub fn take_properties(&mut self) -> Option<Arc<Properties>> {
        self.properties.take()
    }

    /// Attaches the properties of the connection the frame came from.
    #[inline]
    pub(crate) fn set_properties(&mut self, properties: Option<Arc<Properties>>) {
        self.properties = properties;
    }

    /// Whether the payload is stored inline (no heap buffer).
    pub fn is_inline(&self) -> bool {
        matches!(self.repr, Repr::Inline { .. })
    }

    /// The payload as a shared buffer (copies inline payloads).
    pub fn into_bytes(self) -> Bytes {
        match self.repr {
            Repr::Inline { len, data, .. } => Bytes::copy_from_slice(&data[..len as usize]),
            Repr::Shared { bytes, .. } => bytes,
        }
    }
}

impl Default for Msg {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for Msg {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Msg {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for Msg {
    fn eq(&self, other: &Self) -> bool {
        self.more() == other.more() && self.as_slice() == other.as_slice()
    }
}

impl Eq for Msg {}

impl fmt::Debug for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Msg")
            .field("len", &self.len())
            .field("more", &self.more())
            .field(
                "data",
                &Bytes::copy_from_slice(&self.as_slice()[..self.len().min(32)]),
            )
            .finish()
    }
}

impl From<&[u8]> for Msg {
    fn from(data: &[u8]) -> Self {
        Self::copy_from_slice(data)
    }
}

impl<const N: usize> From<&[u8; N]> for Msg {
    fn from(data: &[u8; N]) -> Self {
        Self::copy_from_slice(data)
    }
}

impl From<&str> for Msg {
    fn from(data: &str) -> Self {
        Self::copy_from_slice(data.as_bytes())
    }
}

impl From<Vec<u8>> for Msg {
    /// Takes the vector's buffer without copying when the payload is large.
    fn from(data: Vec<u8>) -> Self {
        if data.len() <= INLINE {
            Self::copy_from_slice(&data)
        } else {
            Self::from_bytes(Bytes::from(data))
        }
    }
}

impl From<String> for Msg {
    fn from(data: String) -> Self {
        Self::from(data.into_bytes())
    }
}

impl From<Bytes> for Msg {
    fn from(data: Bytes) -> Self {
        Self::from_bytes(data)
    }
}

impl zlink_mq_core::msg::Message for Msg {
    #[inline]
    fn bytes(&self) -> &[u8] {
        self.as_slice()
    }

    #[inline]
    fn more(&self) -> bool {
        Msg::more(self)
    }

    #[inline]
    fn set_more(&mut self, more: bool) {
        Msg::set_more(self, more);
    }

    #[inline]
    fn inherit_origin(&mut self, source: &Self) {
        if source.properties.is_some() {
            self.properties = source.properties.clone();
        }
    }

    fn try_from_parts(parts: &[&[u8]]) -> Result<Self, zlink_mq_core::msg::FrameTooLarge> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len <= INLINE {
            let mut data = [0; INLINE];
            let mut at = 0;
            for p in parts {
                data[at..at + p.len()].copy_from_slice(p);
                at += p.len();
            }
            Ok(Self {
                repr: Repr::Inline {
                    len: len as u8,
                    more: false,
                    data,
                },
                properties: None,
            })
        } else {
            Ok(Self::from(parts.concat()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_payloads_are_inline_and_large_ones_shared() {
        let small = Msg::from(&[7u8; 64]);
        assert!(small.is_inline());
        assert_eq!(small.len(), 64);
        let large = Msg::from(vec![1u8; 1000]);
        assert!(!large.is_inline());
        assert_eq!(&large[..], &[1u8; 1000][..]);
        assert_eq!(Msg::from(vec![3u8; INLINE]).len(), INLINE);
        assert!(Msg::from(vec![3u8; INLINE]).is_inline());
    }

    #[test]
    fn large_vec_is_not_copied() {
        let v = vec![9u8; 4096];
        let ptr = v.as_ptr();
        let m = Msg::from(v);
        assert_eq!(m.as_ptr(), ptr);
        let clone = m.clone();
        assert_eq!(clone.as_ptr(), ptr, "clones share the buffer");
    }

    #[test]
    fn more_flag_is_part_of_equality() {
        let a = Msg::from("x");
        let b = Msg::from("x").with_more(true);
        assert!(!a.more() && b.more());
        assert_ne!(a, b);
    }

    #[test]
    fn stays_small() {
        assert!(std::mem::size_of::<Msg>() <= 80);
    }

    #[test]
    fn the_more_flag_survives_both_representations() {
        for len in [0, INLINE, INLINE + 1, 4096] {
            let mut m = Msg::from(vec![5u8; len]);
            assert!(!m.more());
            m.set_more(true);
            assert!(m.more(), "len {len}");
            assert_eq!(m.len(), len);
            assert!(!m.with_more(false).more());
        }
    }
}
