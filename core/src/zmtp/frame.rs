//! Frames: the unit of everything after the greeting (RFC 23 section
//! "Framing"; unchanged in RFC 37).
//!
//! ```text
//!   short frame (size 0..=255):      long frame (any size):
//!   +-------+------+---------+       +-------+----------------+---------+
//!   | flags | size | body... |       | flags | size (8 bytes, | body... |
//!   +-------+------+---------+       |       | network order) |         |
//!      1       1      size           +-------+----------------+---------+
//!                                       1            8           size
//!   flags:  bit 0  MORE     another frame of this message follows
//!           bit 1  LONG     size is 8 bytes instead of 1
//!           bit 2  COMMAND  a command frame (never has MORE)
//!           bits 3-7        reserved, must be zero: a protocol error otherwise
//! ```
//!
//! [`Decoder`] takes the byte stream in any chunking. A frame whose body lies
//! whole in the input is handed out as a slice of that input
//! ([`Decoded::Frame`], zero-copy); a frame that does not is announced with
//! its total length ([`Decoded::Head`]) and then delivered in pieces
//! ([`Decoded::Part`]), so that a caller with a heap can allocate once, after
//! the size limit has been checked.
//!
//! [`FrameWriter`] appends frames to a caller buffer, many messages per
//! buffer (one `write` per batch); [`encode_header`] writes a header alone
//! so that a large body can be gathered (`writev`) without being copied.
#![forbid(unsafe_code)]

use core::fmt;

/// Flag bit: another frame of the same message follows.
pub const FLAG_MORE: u8 = 0x01;
/// Flag bit: the size field is 8 bytes (network order) instead of 1.
pub const FLAG_LONG: u8 = 0x02;
/// Flag bit: this frame is a command, not message data.
pub const FLAG_COMMAND: u8 = 0x04;
/// Bits that must be zero.
pub const FLAGS_RESERVED: u8 = !(FLAG_MORE | FLAG_LONG | FLAG_COMMAND);
/// Largest frame header: flags plus an 8-byte size.
pub const MAX_HEADER_LEN: usize = 9;
/// Largest body a short frame can carry.
pub const SHORT_MAX_LEN: usize = 255;

/// The flags of a received frame (the LONG bit already interpreted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags(u8);

impl Flags {
    /// Flags of a data frame.
    pub const fn data(more: bool) -> Flags {
        Flags(if more { FLAG_MORE } else { 0 })
    }

    /// Flags of a command frame.
    pub const fn command() -> Flags {
        Flags(FLAG_COMMAND)
    }

    /// Another frame of this message follows.
    #[inline]
    pub const fn more(self) -> bool {
        self.0 & FLAG_MORE != 0
    }

    /// This frame is a command.
    #[inline]
    pub const fn is_command(self) -> bool {
        self.0 & FLAG_COMMAND != 0
    }
}

/// Why a frame could not be decoded. Every variant is fatal for the
/// connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// A reserved flag bit (3 to 7) was set; the byte is handed back.
    ReservedFlags(u8),
    /// A data frame is larger than the MAXMSGSIZE limit.
    TooLarge {
        /// The size the peer announced.
        len: u64,
        /// The configured limit.
        max: u64,
    },
    /// A command frame is larger than the connection can hold (or, for
    /// a SUBSCRIBE or CANCEL, than MAXMSGSIZE).
    CommandTooLarge {
        /// The size the peer announced.
        len: u64,
        /// The connection's command capacity, or MAXMSGSIZE.
        max: u64,
    },
    /// The announced size does not fit this target's `usize`.
    LengthOverflow(u64),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FrameError::ReservedFlags(b) => write!(f, "frame flags {b:#04x} set reserved bits"),
            FrameError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the {max}-byte limit")
            }
            FrameError::CommandTooLarge { len, max } => {
                write!(f, "command of {len} bytes exceeds the {max}-byte limit")
            }
            FrameError::LengthOverflow(len) => {
                write!(
                    f,
                    "frame length {len} does not fit this target's address space"
                )
            }
        }
    }
}

impl core::error::Error for FrameError {}

/// One step of decoding, borrowing from the input given to
/// [`Decoder::decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A whole frame whose body lay in the input: no copy was made.
    Frame {
        /// Data or command, and MORE.
        flags: Flags,
        /// The frame body.
        body: &'a [u8],
    },
    /// The header of a frame whose body did not lie whole in the input; its
    /// body follows as one or more [`Decoded::Part`]s. `len` is never 0:
    /// empty bodies always come as [`Decoded::Frame`].
    Head {
        /// Data or command, and MORE.
        flags: Flags,
        /// Total body length, already checked against the limits.
        len: usize,
    },
    /// The next piece of the body announced by the last [`Decoded::Head`].
    Part {
        /// The bytes (never empty).
        data: &'a [u8],
        /// This piece completes the body.
        last: bool,
    },
}

#[derive(Debug, Clone, Copy)]
enum State {
    /// Collecting a header; `have` bytes of it are in `hdr`.
    Header { have: u8 },
    /// Inside a body announced with `Head`; `remaining` bytes still to come.
    Body { remaining: usize },
}

/// Incremental frame decoder: bytes in any chunking, frames out.
///
/// ```
/// use zlink_mq_core::zmtp::frame::{Decoded, Decoder, FrameWriter};
///
/// let mut wire = [0u8; 64];
/// let mut w = FrameWriter::new(&mut wire);
/// w.push(b"hello", true).unwrap();
/// w.push(b"world", false).unwrap();
/// let n = w.len();
///
/// let mut d = Decoder::new(u64::MAX, 1024);
/// let (used, first) = d.decode(&wire[..n]).unwrap();
/// let Some(Decoded::Frame { flags, body }) = first else { panic!() };
/// assert_eq!((body, flags.more()), (&b"hello"[..], true));
/// let (_, second) = d.decode(&wire[used..n]).unwrap();
/// assert!(matches!(second, Some(Decoded::Frame { body: b"world", .. })));
/// ```
#[derive(Debug, Clone)]
pub struct Decoder {
    state: State,
    hdr: [u8; MAX_HEADER_LEN],
    max_data: u64,
    max_command: u64,
}

impl Decoder {
    /// A decoder that refuses data frames over `max_data` bytes (MAXMSGSIZE;
    /// `u64::MAX` for no limit) and command frames over `max_command` bytes.
    pub const fn new(max_data: u64, max_command: u64) -> Decoder {
        Decoder {
            state: State::Header { have: 0 },
            hdr: [0; MAX_HEADER_LEN],
            max_data,
            max_command,
        }
    }

    /// Changes the size limits for the frames that follow (a connection
    /// whose frames are sealed after the handshake raises them by the
    /// sealing overhead).
    pub fn set_limits(&mut self, max_data: u64, max_command: u64) {
        self.max_data = max_data;
        self.max_command = max_command;
    }

    /// Whether the decoder sits between frames (no partial header or body).
    pub const fn is_idle(&self) -> bool {
        matches!(self.state, State::Header { have: 0 })
    }

    /// Decodes the next step from `input`: returns the bytes used and what
    /// they completed. `None` means every byte of `input` was used (kept in
    /// a partial header) and more input is needed. After an error the
    /// decoder must not be used again.
    #[inline]
    pub fn decode<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<(usize, Option<Decoded<'a>>), FrameError> {
        match self.state {
            State::Header { have: 0 } => {
                // Hot path: a whole short header at the front of the input.
                let Some(&flags) = input.first() else {
                    return Ok((0, None));
                };
                if flags & (FLAGS_RESERVED | FLAG_LONG) == 0 {
                    if let Some(&len) = input.get(1) {
                        return self.header_done(flags, u64::from(len), input, 2);
                    }
                }
                self.header_slow(0, input)
            }
            State::Header { have } => self.header_slow(have, input),
            State::Body { remaining } => {
                if input.is_empty() {
                    return Ok((0, None));
                }
                let take = remaining.min(input.len());
                let remaining = remaining - take;
                self.state = if remaining == 0 {
                    State::Header { have: 0 }
                } else {
                    State::Body { remaining }
                };
                Ok((
                    take,
                    Some(Decoded::Part {
                        data: &input[..take],
                        last: remaining == 0,
                    }),
                ))
            }
        }
    }

    /// Header bytes one at a time into `hdr`, for headers split across
    /// inputs and for long headers.
    fn header_slow<'a>(
        &mut self,
        have: u8,
        input: &'a [u8],
    ) -> Result<(usize, Option<Decoded<'a>>), FrameError> {
        let mut have = usize::from(have);
        let mut used = 0;
        while let Some(&b) = input.get(used) {
            if have == 0 && b & FLAGS_RESERVED != 0 {
                return Err(FrameError::ReservedFlags(b));
            }
            self.hdr[have] = b;
            have += 1;
            used += 1;
            let need = if self.hdr[0] & FLAG_LONG != 0 { 9 } else { 2 };
            if have == need {
                self.state = State::Header { have: 0 };
                let len = if need == 2 {
                    u64::from(self.hdr[1])
                } else {
                    let mut be = [0u8; 8];
                    be.copy_from_slice(&self.hdr[1..9]);
                    u64::from_be_bytes(be)
                };
                return self.header_done(self.hdr[0], len, input, used);
            }
        }
        // `have` is at most 8 here: a complete header returned above.
        self.state = State::Header { have: have as u8 };
        Ok((used, None))
    }

    /// A complete header: check the limits, then hand out the body whole or
    /// announce it.
    #[inline]
    fn header_done<'a>(
        &mut self,
        flags: u8,
        len: u64,
        input: &'a [u8],
        used: usize,
    ) -> Result<(usize, Option<Decoded<'a>>), FrameError> {
        let flags = Flags(flags & !FLAG_LONG);
        let max = if flags.is_command() {
            self.max_command
        } else {
            self.max_data
        };
        if len > max {
            return Err(if flags.is_command() {
                FrameError::CommandTooLarge { len, max }
            } else {
                FrameError::TooLarge { len, max }
            });
        }
        let Ok(len) = usize::try_from(len) else {
            return Err(FrameError::LengthOverflow(len));
        };
        let rest = &input[used..];
        if let Some(body) = rest.get(..len) {
            return Ok((used + len, Some(Decoded::Frame { flags, body })));
        }
        self.state = State::Body { remaining: len };
        Ok((used, Some(Decoded::Head { flags, len })))
    }
}

/// Length of the header of a frame with a `len`-byte body.
#[inline]
pub const fn header_len(len: usize) -> usize {
    if len <= SHORT_MAX_LEN { 2 } else { 9 }
}

/// Writes the header of a frame with a `len`-byte body into `out`; returns
/// its length, or `None` if `out` is too short. With [`FLAG_COMMAND`] in
/// `flags` it is a command header; [`FLAG_LONG`] is chosen from `len`.
#[inline]
pub fn encode_header(out: &mut [u8], len: usize, flags: u8) -> Option<usize> {
    let flags = flags & (FLAG_MORE | FLAG_COMMAND);
    if len <= SHORT_MAX_LEN {
        let hdr = out.get_mut(..2)?;
        hdr[0] = flags;
        hdr[1] = len as u8;
        Some(2)
    } else {
        let hdr = out.get_mut(..9)?;
        hdr[0] = flags | FLAG_LONG;
        hdr[1..9].copy_from_slice(&(len as u64).to_be_bytes());
        Some(9)
    }
}

/// The caller's buffer is too small for what was pushed; nothing was
/// written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferFull;

impl fmt::Display for BufferFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("output buffer full")
    }
}

impl core::error::Error for BufferFull {}

/// Appends frames to a caller buffer: batch many messages, then write the
/// filled prefix with one system call.
///
/// ```
/// use zlink_mq_core::zmtp::frame::FrameWriter;
///
/// let mut buf = [0u8; 32];
/// let mut w = FrameWriter::new(&mut buf);
/// w.push_message(&[b"key", b"value"]).unwrap();
/// assert_eq!(w.filled(), b"\x01\x03key\x00\x05value");
/// ```
#[derive(Debug)]
pub struct FrameWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> FrameWriter<'a> {
    /// A writer appending to `buf`, starting at its front.
    pub fn new(buf: &'a mut [u8]) -> FrameWriter<'a> {
        FrameWriter { buf, len: 0 }
    }

    /// A writer appending to `buf` after its first `filled` bytes (clamped
    /// to the buffer's length).
    pub fn with_filled(buf: &'a mut [u8], filled: usize) -> FrameWriter<'a> {
        let len = filled.min(buf.len());
        FrameWriter { buf, len }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Nothing written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.len
    }

    /// The bytes written so far.
    pub fn filled(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Appends one data frame; `more` says another frame of the message
    /// follows.
    #[inline]
    pub fn push(&mut self, body: &[u8], more: bool) -> Result<(), BufferFull> {
        let out = &mut self.buf[self.len..];
        let h = header_len(body.len());
        if out.len() < h + body.len() {
            return Err(BufferFull);
        }
        encode_header(out, body.len(), if more { FLAG_MORE } else { 0 });
        out[h..h + body.len()].copy_from_slice(body);
        self.len += h + body.len();
        Ok(())
    }

    /// Appends a whole multipart message, or nothing if it does not fit.
    pub fn push_message(&mut self, frames: &[&[u8]]) -> Result<(), BufferFull> {
        let need: usize = frames.iter().map(|f| header_len(f.len()) + f.len()).sum();
        if need > self.remaining() {
            return Err(BufferFull);
        }
        for (i, f) in frames.iter().enumerate() {
            self.push(f, i + 1 < frames.len())?;
        }
        Ok(())
    }

    /// Appends only the header of a data frame of `len` bytes: the caller
    /// sends the body itself right after the buffer (gather write).
    pub fn push_header(&mut self, len: usize, more: bool) -> Result<(), BufferFull> {
        let n = encode_header(
            &mut self.buf[self.len..],
            len,
            if more { FLAG_MORE } else { 0 },
        )
        .ok_or(BufferFull)?;
        self.len += n;
        Ok(())
    }

    /// Appends one data frame whose body is `prefix` followed by `body`
    /// (ZMTP 3.0 subscriptions: a 1 or 0 byte, then the topic).
    pub fn push_with_prefix(
        &mut self,
        prefix: u8,
        body: &[u8],
        more: bool,
    ) -> Result<(), BufferFull> {
        let len = 1 + body.len();
        let h = header_len(len);
        let out = &mut self.buf[self.len..];
        if out.len() < h + len {
            return Err(BufferFull);
        }
        encode_header(out, len, if more { FLAG_MORE } else { 0 });
        out[h] = prefix;
        out[h + 1..h + len].copy_from_slice(body);
        self.len += h + len;
        Ok(())
    }

    /// Appends one frame of `len` body bytes whose body `fill` writes in
    /// place (`flags`: [`FLAG_MORE`], [`FLAG_COMMAND`]). Nothing is kept if
    /// it does not fit (the outer error) or `fill` fails (the inner one).
    pub fn push_with<E>(
        &mut self,
        len: usize,
        flags: u8,
        fill: impl FnOnce(&mut [u8]) -> Result<(), E>,
    ) -> Result<Result<(), E>, BufferFull> {
        let h = header_len(len);
        let out = &mut self.buf[self.len..];
        if out.len() < h + len {
            return Err(BufferFull);
        }
        encode_header(out, len, flags);
        let r = fill(&mut out[h..h + len]);
        if r.is_ok() {
            self.len += h + len;
        }
        Ok(r)
    }

    /// Appends the header of a command frame and the start of its body,
    /// `name` (1 to 255 bytes, not checked) with its length prefix; the
    /// caller sends the `data_len` bytes of data that follow itself
    /// (gather write).
    pub fn push_command_head(&mut self, name: &[u8], data_len: usize) -> Result<(), BufferFull> {
        let body_len = 1 + name.len() + data_len;
        let h = header_len(body_len);
        let out = &mut self.buf[self.len..];
        if out.len() < h + 1 + name.len() {
            return Err(BufferFull);
        }
        encode_header(out, body_len, FLAG_COMMAND);
        out[h] = name.len() as u8;
        out[h + 1..h + 1 + name.len()].copy_from_slice(name);
        self.len += h + 1 + name.len();
        Ok(())
    }

    /// Appends a command frame whose body is `name` (1 to 255 bytes, not
    /// checked) with its length prefix, followed by `data`.
    pub fn push_command(&mut self, name: &[u8], data: &[u8]) -> Result<(), BufferFull> {
        let body_len = 1 + name.len() + data.len();
        let h = header_len(body_len);
        let out = &mut self.buf[self.len..];
        if out.len() < h + body_len {
            return Err(BufferFull);
        }
        encode_header(out, body_len, FLAG_COMMAND);
        out[h] = name.len() as u8;
        out[h + 1..h + 1 + name.len()].copy_from_slice(name);
        out[h + 1 + name.len()..h + body_len].copy_from_slice(data);
        self.len += h + body_len;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_headers() {
        let mut b = [0u8; 9];
        assert_eq!(encode_header(&mut b, 0, 0), Some(2));
        assert_eq!(&b[..2], [0x00, 0x00]);
        assert_eq!(encode_header(&mut b, 255, FLAG_MORE), Some(2));
        assert_eq!(&b[..2], [0x01, 0xff]);
        assert_eq!(encode_header(&mut b, 256, FLAG_MORE), Some(9));
        assert_eq!(b, [0x03, 0, 0, 0, 0, 0, 0, 1, 0]);
        assert_eq!(encode_header(&mut b, 5, FLAG_COMMAND), Some(2));
        assert_eq!(&b[..2], [0x04, 0x05]);
        assert_eq!(encode_header(&mut b[..1], 5, 0), None);
        assert_eq!(encode_header(&mut b[..8], 300, 0), None);
    }

    #[test]
    fn reserved_bits_are_errors_in_both_paths() {
        for bit in 3..8 {
            let flags = 1u8 << bit;
            let mut d = Decoder::new(u64::MAX, 64);
            assert_eq!(d.decode(&[flags, 0]), Err(FrameError::ReservedFlags(flags)));
            let mut d = Decoder::new(u64::MAX, 64);
            assert_eq!(d.decode(&[flags]), Err(FrameError::ReservedFlags(flags)));
        }
    }

    #[test]
    fn limits_are_checked_before_the_body() {
        let mut d = Decoder::new(10, 20);
        assert_eq!(
            d.decode(&[0x00, 11]),
            Err(FrameError::TooLarge { len: 11, max: 10 })
        );
        let mut d = Decoder::new(10, 20);
        assert_eq!(
            d.decode(&[0x00, 10]),
            Ok((
                2,
                Some(Decoded::Head {
                    flags: Flags::data(false),
                    len: 10
                })
            ))
        );
        let mut d = Decoder::new(10, 20);
        assert_eq!(
            d.decode(&[0x04, 21]),
            Err(FrameError::CommandTooLarge { len: 21, max: 20 })
        );
        let mut d = Decoder::new(u64::MAX, 20);
        let huge = [0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let r = d.decode(&huge);
        if usize::BITS < 64 {
            assert_eq!(r, Err(FrameError::LengthOverflow(u64::MAX)));
        } else {
            assert_eq!(
                r,
                Ok((
                    9,
                    Some(Decoded::Head {
                        flags: Flags::data(false),
                        len: usize::MAX
                    })
                ))
            );
        }
    }

    #[test]
    fn long_form_for_a_short_body_is_accepted() {
        let mut d = Decoder::new(u64::MAX, 64);
        let wire = [0x03, 0, 0, 0, 0, 0, 0, 0, 2, b'h', b'i'];
        assert_eq!(
            d.decode(&wire),
            Ok((
                11,
                Some(Decoded::Frame {
                    flags: Flags::data(true),
                    body: b"hi"
                })
            ))
        );
    }

    #[test]
    fn split_header_then_whole_body_is_zero_copy() {
        let mut d = Decoder::new(u64::MAX, 64);
        assert_eq!(d.decode(&[0x01]), Ok((1, None)));
        assert!(!d.is_idle());
        assert_eq!(
            d.decode(&[3, b'a', b'b', b'c', 0xAA]),
            Ok((
                4,
                Some(Decoded::Frame {
                    flags: Flags::data(true),
                    body: b"abc"
                })
            ))
        );
        assert!(d.is_idle());
    }

    #[test]
    fn large_body_comes_in_parts() {
        let mut d = Decoder::new(u64::MAX, 64);
        let mut wire = [0u8; 9 + 300];
        let n = {
            let mut w = FrameWriter::new(&mut wire);
            w.push(&[7u8; 300], false).unwrap();
            w.len()
        };
        assert_eq!(n, 309);
        let (u, e) = d.decode(&wire[..100]).unwrap();
        assert_eq!(
            (u, e),
            (
                9,
                Some(Decoded::Head {
                    flags: Flags::data(false),
                    len: 300
                })
            )
        );
        let (u, e) = d.decode(&wire[9..100]).unwrap();
        assert_eq!(
            (u, e),
            (
                91,
                Some(Decoded::Part {
                    data: &[7u8; 91][..],
                    last: false
                })
            )
        );
        assert_eq!(d.decode(&[]), Ok((0, None)));
        let (u, e) = d.decode(&wire[100..]).unwrap();
        assert_eq!(
            (u, e),
            (
                209,
                Some(Decoded::Part {
                    data: &[7u8; 209][..],
                    last: true
                })
            )
        );
        assert!(d.is_idle());
    }

    #[test]
    fn gathered_header_and_body_decode_as_one_frame() {
        // The caller writes the header from the buffer and the body from its
        // own storage (writev); the peer sees an ordinary frame.
        let body = [3u8; 1000];
        let mut hdr = [0u8; 16];
        let mut w = FrameWriter::new(&mut hdr);
        w.push_header(body.len(), true).unwrap();
        let mut wire = w.filled().to_vec();
        wire.extend_from_slice(&body);
        let mut d = Decoder::new(u64::MAX, 64);
        assert_eq!(
            d.decode(&wire),
            Ok((
                1009,
                Some(Decoded::Frame {
                    flags: Flags::data(true),
                    body: &body[..]
                })
            ))
        );
    }

    #[test]
    fn writer_batches_and_refuses_what_does_not_fit() {
        let mut buf = [0u8; 16];
        let mut w = FrameWriter::new(&mut buf);
        w.push(b"abc", false).unwrap();
        assert_eq!(w.push_message(&[b"0123456789", b"x"]), Err(BufferFull));
        assert_eq!(w.len(), 5);
        w.push_header(1000, true).unwrap();
        assert_eq!(
            w.filled(),
            &[0, 3, b'a', b'b', b'c', 3, 0, 0, 0, 0, 0, 0, 3, 0xe8]
        );
        assert_eq!(w.push_command(b"PING", b""), Err(BufferFull));
        let mut buf = [0u8; 16];
        let mut w = FrameWriter::with_filled(&mut buf, 2);
        w.push_command(b"PING", &[0, 0]).unwrap();
        assert_eq!(&w.filled()[2..], b"\x04\x07\x04PING\x00\x00");
    }
}
