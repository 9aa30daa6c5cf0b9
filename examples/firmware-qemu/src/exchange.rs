//! What the firmware and its libzmq peers (`peer.py`) exchange, so that
//! each side can check every byte it receives: message counts, the
//! payload pattern, and a small store for a received message.
//!
//! Payloads cover every byte value (0x00 and 0xff included) and lengths
//! from 0 up, so a UART that drops, adds or alters a byte breaks the
//! exchange instead of passing unnoticed. `peer.py` computes the same
//! pattern; `run.sh` hands it the counts and [`PAYLOAD_SPAN`] from this
//! file.

use zlink_mq_core::msg::{Frame, Message};
use zlink_mq_core::socket::SEND_SLACK;
use zlink_mq_core::zmtp::frame::header_len;

/// Bytes per peer buffer of every socket in these firmwares (a peer slot
/// takes about 7 of these, see `zlink_mq_core::socket`): the smallest
/// that the REQ socket's handshake fits, so that the PUB + SUB firmware
/// stays under 8 KiB of RAM. A connection needs room for the greeting
/// (64), two frame headers (2 x 9), 16 bytes of slack and its READY,
/// which for REQ names the socket type and an empty Identity (38): 136.
pub const BUF: usize = 144;

/// Round trips the REQ firmware makes.
pub const ROUND_TRIPS: u32 = 100;

/// Matching messages the PUB + SUB firmware echoes.
pub const ECHOES: u32 = 100;

/// One more than the longest payload: the largest message, a 3-frame
/// `["sensor/temp", "99", payload]` echo, then needs all but a few bytes
/// of [`BUF`], so that the exchanges run at the edge of the buffers.
/// (A REQ request `["req", "99", payload]` with its empty delimiter needs
/// 138; a receiving socket's inbound queue stores each frame behind a
/// 5-byte record header, 137 bytes for the largest echo.)
pub const PAYLOAD_SPAN: usize = 110;

/// Encoded size of the largest message as `Socket::send` counts it:
/// frames with their headers, plus its slack.
const LARGEST_SEND: usize = SEND_SLACK
    + header_len(11)
    + 11
    + header_len(2)
    + 2
    + header_len(PAYLOAD_SPAN - 1)
    + PAYLOAD_SPAN
    - 1;
const _: () = assert!(LARGEST_SEND <= BUF, "the largest message must fit a send");
const _: () = assert!(
    LARGEST_SEND + 16 > BUF,
    "the exchange should reach the edge of BUF"
);

/// The payload of message `i`: `(i * 23) % PAYLOAD_SPAN` bytes (23 being
/// prime to the span, `PAYLOAD_SPAN` messages take every length from 0
/// to `PAYLOAD_SPAN - 1`; the longest comes at `i = 43`, within the 100
/// of each exchange), byte `j` being `(7 i + 13 j) mod 256`, written into
/// `buf`.
pub fn payload(i: u32, buf: &mut [u8; PAYLOAD_SPAN]) -> &[u8] {
    let len = (i as usize * 23) % PAYLOAD_SPAN;
    for (j, b) in buf[..len].iter_mut().enumerate() {
        *b = (i as usize * 7 + j * 13) as u8;
    }
    &buf[..len]
}

/// A scratch buffer for [`payload`].
pub fn payload_buf() -> [u8; PAYLOAD_SPAN] {
    [0; PAYLOAD_SPAN]
}

/// Most frames a stored message may have.
pub const MAX_FRAMES: usize = 4;

/// Why a message could not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooLarge {
    /// More than [`MAX_FRAMES`] frames.
    Frames,
    /// More than [`BUF`] bytes in all.
    Bytes,
}

/// One received message, frame by frame, in fixed storage.
#[derive(Debug, Default)]
pub struct Stored {
    bytes: heapless::Vec<u8, BUF>,
    ends: heapless::Vec<usize, MAX_FRAMES>,
    complete: bool,
}

impl Stored {
    /// No frames.
    pub const fn new() -> Stored {
        Stored {
            bytes: heapless::Vec::new(),
            ends: heapless::Vec::new(),
            complete: false,
        }
    }

    /// Appends a received frame; the message is complete after the frame
    /// without MORE.
    ///
    /// # Errors
    /// [`TooLarge`] when the message does not fit.
    pub fn push<const N: usize>(&mut self, frame: &Frame<N>) -> Result<(), TooLarge> {
        if self.complete {
            self.clear();
        }
        self.bytes
            .extend_from_slice(frame.bytes())
            .map_err(|_| TooLarge::Bytes)?;
        self.ends
            .push(self.bytes.len())
            .map_err(|_| TooLarge::Frames)?;
        self.complete = !frame.more();
        Ok(())
    }

    /// Whether the last frame pushed ended the message.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Forgets the message.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.complete = false;
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no frame.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Frame `i`.
    pub fn frame(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// The frames as slices, as `Socket::send` takes them: the first
    /// [`len`](Stored::len) entries of the array.
    pub fn frames(&self) -> [&[u8]; MAX_FRAMES] {
        core::array::from_fn(|i| if i < self.len() { self.frame(i) } else { &[] })
    }
}
