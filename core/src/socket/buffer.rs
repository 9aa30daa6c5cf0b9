//! A fixed byte buffer used as a queue: bytes are appended at the back and
//! consumed from the front; the live bytes are moved to the front when the
//! back runs out of room (one `copy_within`, no ring arithmetic).
//!
//! ```text
//!   0        start          mark            end             N
//!   [ consumed | live, before | live, after  |   free        ]
//!                the mark       the mark
//! ```
//!
//! The mark splits the live bytes in two: the output buffer keeps flushed
//! bytes (whole messages, may go to the stream) before it and the message
//! being written after it; the inbound queue keeps whole messages (visible
//! to routing) before it and the frames of an incomplete one after it.

/// `N` bytes with a consumed front, a mark and a free back.
pub(crate) struct Buffer<const N: usize> {
    pub(crate) bytes: [u8; N],
    pub(crate) start: usize,
    pub(crate) mark: usize,
    pub(crate) end: usize,
}

impl<const N: usize> Buffer<N> {
    /// Empty.
    pub(crate) const fn new() -> Self {
        Self {
            bytes: [0; N],
            start: 0,
            mark: 0,
            end: 0,
        }
    }

    /// Forgets every byte.
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.mark = 0;
        self.end = 0;
    }

    /// The live bytes.
    pub(crate) fn live(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    /// The live bytes before the mark.
    pub(crate) fn before_mark(&self) -> &[u8] {
        &self.bytes[self.start..self.mark]
    }

    /// Number of live bytes after the mark.
    pub(crate) fn after_mark(&self) -> usize {
        self.end - self.mark
    }

    /// Consumes `n` bytes from the front (at most up to the mark's side
    /// the caller reads from; the caller keeps `start <= mark`).
    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n;
        if self.mark < self.start {
            self.mark = self.start;
        }
        if self.start == self.end {
            self.clear();
        }
    }

    /// Room there would be after [`compact`](Self::compact).
    pub(crate) fn room(&self) -> usize {
        N - (self.end - self.start)
    }

    /// Moves the live bytes to the front.
    pub(crate) fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        self.bytes.copy_within(self.start..self.end, 0);
        self.mark -= self.start;
        self.end -= self.start;
        self.start = 0;
    }

    /// Makes `n` bytes free at the back, compacting if needed; `false` if
    /// there cannot be that much room.
    pub(crate) fn make_room(&mut self, n: usize) -> bool {
        if N - self.end < n {
            self.compact();
        }
        N - self.end >= n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compaction_keeps_the_live_bytes_and_the_mark() {
        let mut b = Buffer::<8>::new();
        b.bytes[..6].copy_from_slice(b"abcdef");
        b.end = 6;
        b.mark = 4;
        b.consume(3);
        assert_eq!(b.live(), b"def");
        assert_eq!(b.before_mark(), b"d");
        assert_eq!(b.room(), 5);
        assert!(b.make_room(5));
        assert_eq!((b.start, b.mark, b.end), (0, 1, 3));
        assert_eq!(b.live(), b"def");
        assert!(!b.make_room(6));
        b.consume(3);
        assert!(b.live().is_empty());
        assert_eq!((b.start, b.mark, b.end), (0, 0, 0));
    }
}
