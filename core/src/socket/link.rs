//! One peer of a socket: its stream, its ZMTP connection and three byte
//! buffers, pumped by [`Link::pump`].
//!
//! ```text
//!   stream ──read──▶ rx ──Connection::handle_input──▶ inbound queue ──▶ routing
//!   stream ◀─write── tx ◀──FrameWriter / poll_transmit──────────────── routing
//! ```
//!
//! - **rx** holds raw bytes from the stream. Once the handshake is over, the
//!   connection is fed one *whole* data frame at a time: the link reads the
//!   frame header itself (two or nine bytes, RFC 23 "Framing") so that it
//!   knows the frame's size before decoding it. That makes room checks
//!   exact (a frame is decoded only when the inbound queue can take it, so
//!   nothing decoded is ever dropped) and spares an assembly buffer for
//!   frames that arrive in pieces. Commands may be fed in pieces: the
//!   connection assembles them itself.
//! - **inbound queue**: decoded frames as records (`flags`, `len` as u32
//!   LE, payload). Records before the mark are whole messages, visible to
//!   routing; records after it are frames of a message still arriving.
//! - **tx**: encoded output. Before the mark: control bytes and whole
//!   messages, written to the stream as it accepts them; after it: the
//!   message routing is writing (or REP's reply envelope), not written
//!   before routing flushes it and dropped if routing rolls it back.

use embedded_io::{Read, ReadReady, Write, WriteReady};

use super::buffer::Buffer;
use super::error::DisconnectReason;
use crate::msg::{Frame, Message};
use crate::socket_type::SocketType;
use crate::time::Instant;
use crate::zmtp::frame::{FLAG_COMMAND, FLAG_LONG, FrameWriter, MAX_HEADER_LEN};
use crate::zmtp::mechanism::{AuthVerdict, Credentials, Mechanism};
use crate::zmtp::{Connection, Event};

/// Bytes in front of each frame in the inbound queue: a flags byte, then
/// the payload length as a little-endian `u32`.
pub(crate) const RECORD_HEADER_LEN: usize = 5;

/// Bytes a SUBSCRIBE command adds to a subscription message `1 + topic`:
/// the name with its length byte (10) less the flag byte (1).
const SUBSCRIBE_EXTRA: usize = 9;

/// Read / decode / write rounds per [`Link::pump`] at most, so that a peer
/// that floods us with commands cannot keep `poll` from returning.
const PUMP_ROUNDS: usize = 16;

/// Where a link is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// No stream: the slot can take one.
    Free,
    /// Greeting and security handshake.
    Handshake,
    /// Attached to routing: messages flow.
    Attached,
    /// Gone; the stream waits to be handed back.
    Closed(DisconnectReason),
}

/// What the socket must tell routing after a pump.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Wake {
    /// The handshake is complete: attach the peer, then pump again (bytes
    /// that followed the handshake are decoded only once it is attached).
    pub(crate) handshake: bool,
    /// A whole message arrived (routing's `read_activated`).
    pub(crate) readable: bool,
    /// Output buffer space was freed after routing was refused
    /// (routing's `write_activated`).
    pub(crate) writable: bool,
}

/// What a link needs to know about its socket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx {
    pub(crate) socket_type: SocketType,
    pub(crate) authenticate: Option<fn(Credentials<'_>) -> AuthVerdict>,
}

/// A frame header read ahead of the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    command: bool,
    /// Header plus body, in bytes.
    total: u64,
    body: u64,
}

/// Reads the frame header at the front of `bytes` (RFC 23 "Framing"):
///
/// ```text
///   short: flags (LONG clear) | size: 1 byte  | body
///   long:  flags (LONG set)   | size: 8 bytes, network order | body
/// ```
///
/// `None` if the header is not complete yet. Reserved flag bits are left
/// for the decoder to refuse.
fn peek_header(bytes: &[u8]) -> Option<Header> {
    let &flags = bytes.first()?;
    let (header, body) = if flags & FLAG_LONG != 0 {
        let size: [u8; 8] = bytes.get(1..MAX_HEADER_LEN)?.try_into().ok()?;
        (MAX_HEADER_LEN as u64, u64::from_be_bytes(size))
    } else {
        (2, u64::from(*bytes.get(1)?))
    };
    Some(Header {
        command: flags & FLAG_COMMAND != 0,
        total: header.saturating_add(body),
        body,
    })
}

/// Appends a record of `parts` concatenated to the inbound queue; `false`
/// if there is no room.
fn push_record<const N: usize>(queue: &mut Buffer<N>, parts: &[&[u8]], more: bool) -> bool {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let Ok(len32) = u32::try_from(len) else {
        return false;
    };
    if !queue.make_room(RECORD_HEADER_LEN + len) {
        return false;
    }
    let mut at = queue.end;
    queue.bytes[at] = u8::from(more);
    queue.bytes[at + 1..at + RECORD_HEADER_LEN].copy_from_slice(&len32.to_le_bytes());
    at += RECORD_HEADER_LEN;
    for part in parts {
        queue.bytes[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    queue.end = at;
    if !more {
        queue.mark = queue.end;
    }
    true
}

fn io<E: embedded_io::Error>(e: E) -> DisconnectReason {
    DisconnectReason::Io(e.kind())
}

/// One peer: stream, connection, buffers. Lives in place in its socket's
/// slot array for the socket's whole life; only the stream and the
/// connection come and go.
pub(crate) struct Link<T, X: Mechanism, const BUF: usize> {
    pub(crate) stream: Option<T>,
    pub(crate) conn: Option<Connection<X, BUF>>,
    pub(crate) state: State,
    /// Attached, and the application has not been told yet.
    pub(crate) connected_unreported: bool,
    /// Closed, but still attached to routing until the whole messages it
    /// had received are read (as libzmq delivers what a pipe holds before
    /// it terminates).
    pub(crate) draining: bool,
    rx: Buffer<BUF>,
    /// Bytes of a command frame not yet handed to the connection.
    cmd_remaining: u64,
    inbound: Buffer<BUF>,
    tx: Buffer<BUF>,
    /// The last frame written to `tx` had MORE set.
    out_more: bool,
    /// Routing was refused a write: tell it when bytes leave `tx`.
    write_refused: bool,
}

impl<T, X: Mechanism, const BUF: usize> Link<T, X, BUF> {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        Self {
            stream: None,
            conn: None,
            state: State::Free,
            connected_unreported: false,
            draining: false,
            rx: Buffer::new(),
            cmd_remaining: 0,
            inbound: Buffer::new(),
            tx: Buffer::new(),
            out_more: false,
            write_refused: false,
        }
    }

    /// The slot takes a new stream and its connection (greeting queued).
    pub(crate) fn open(&mut self, stream: T, conn: Connection<X, BUF>) {
        self.stream = Some(stream);
        self.conn = Some(conn);
        self.state = State::Handshake;
        self.connected_unreported = false;
        self.draining = false;
        self.rx.clear();
        self.cmd_remaining = 0;
        self.inbound.clear();
        self.tx.clear();
        self.out_more = false;
        self.write_refused = false;
    }

    /// Handshaking or attached.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.state, State::Handshake | State::Attached)
    }

    /// Frees the slot, handing back its stream.
    pub(crate) fn free(&mut self) -> Option<T> {
        self.state = State::Free;
        self.connected_unreported = false;
        self.draining = false;
        self.inbound.clear();
        self.conn = None;
        self.stream.take()
    }

    /// Whether routing may write to this peer at all.
    fn attached(&self) -> bool {
        self.state == State::Attached
    }

    // --- the pipe routing sees -------------------------------------------

    /// `reserve` encoded bytes of a message of `frames` frames, plus what
    /// sealing adds to each frame on this link.
    fn sealed_reserve(&self, reserve: usize, frames: usize) -> usize {
        match self
            .conn
            .as_ref()
            .and_then(|c| c.mechanism().seal_overhead())
        {
            Some(overhead) => reserve.saturating_add(frames.saturating_mul(overhead)),
            None => reserve,
        }
    }

    /// Whether a message of `reserve` encoded bytes in `frames` frames fits
    /// the output buffer.
    pub(crate) fn check_write(&mut self, reserve: usize, frames: usize) -> bool {
        if !self.attached() {
            return false;
        }
        let reserve = self.sealed_reserve(reserve, frames);
        self.transmit_control();
        let fits = self.tx.make_room(reserve);
        self.write_refused |= !fits;
        fits
    }

    /// Encodes one frame into the output buffer, after the message's
    /// earlier frames. The first frame of a message is refused unless the
    /// whole message (`reserve` bytes in `frames` frames, before sealing)
    /// fits, so that its later frames
    /// always do (the high-water mark counts whole messages). On SUB and
    /// XSUB sockets (`subscriptions`) a single-frame message starting with
    /// 1 or 0 is a subscription and is sent as SUBSCRIBE or CANCEL (or as
    /// is, to a ZMTP 3.0 peer).
    pub(crate) fn write(
        &mut self,
        frame: Frame<BUF>,
        subscriptions: bool,
        reserve: usize,
        frames: usize,
    ) -> Result<(), Frame<BUF>> {
        if !self.attached() {
            return Err(frame);
        }
        let reserve = self.sealed_reserve(reserve, frames);
        let first = !self.out_more;
        if first {
            // Control bytes already due go before this message.
            self.transmit_control();
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(frame);
        };
        let bytes = frame.bytes();
        let more = frame.more();
        let subscription = match bytes.split_first() {
            Some((&flag @ (0 | 1), topic)) if subscriptions && first && !more => {
                Some((flag, topic))
            }
            _ => None,
        };
        let body = bytes.len()
            + if subscription.is_some() {
                SUBSCRIBE_EXTRA
            } else {
                0
            };
        let mut need = conn.encoded_len(body);
        if first {
            need = need.max(reserve);
        }
        if !self.tx.make_room(need) {
            self.write_refused = true;
            return Err(frame);
        }
        let mut w = FrameWriter::with_filled(&mut self.tx.bytes, self.tx.end);
        let written = match subscription {
            Some((1, topic)) => conn.encode_subscribe(&mut w, topic).is_ok(),
            Some((_, topic)) => conn.encode_cancel(&mut w, topic).is_ok(),
            None => conn.encode_frame(&mut w, bytes, more).is_ok(),
        };
        let end = w.len();
        if !written {
            self.write_refused = true;
            return Err(frame);
        }
        self.tx.end = end;
        self.out_more = more;
        Ok(())
    }

    /// Drops the frames of the message being written.
    pub(crate) fn rollback(&mut self) {
        self.tx.end = self.tx.mark;
        self.out_more = false;
    }

    /// The message being written is complete: it may go to the stream.
    pub(crate) fn flush(&mut self) {
        self.tx.mark = self.tx.end;
    }

    /// Whether a whole message waits in the inbound queue.
    pub(crate) fn check_read(&self) -> bool {
        (self.attached() || self.draining) && !self.inbound.before_mark().is_empty()
    }

    /// The next frame of a whole message from the inbound queue.
    pub(crate) fn read(&mut self) -> Option<Frame<BUF>> {
        if !self.attached() && !self.draining {
            return None;
        }
        let visible = self.inbound.before_mark();
        let header = visible.get(..RECORD_HEADER_LEN)?;
        let more = header[0] != 0;
        let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let payload = visible.get(RECORD_HEADER_LEN..RECORD_HEADER_LEN + len)?;
        let frame = Frame::new(payload).ok()?.with_more(more);
        self.inbound.consume(RECORD_HEADER_LEN + len);
        Some(frame)
    }

    // --- I/O ----------------------------------------------------------------

    /// Moves the connection's control output (greeting, handshake
    /// commands, PING, PONG, ERROR) into the output buffer, in front of a
    /// message being written.
    fn transmit_control(&mut self) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if !conn.has_pending_transmit() {
            return;
        }
        let tx = &mut self.tx;
        tx.compact();
        let unflushed = tx.after_mark();
        if unflushed == 0 {
            let n = conn.poll_transmit(&mut tx.bytes[tx.end..]);
            tx.end += n;
            tx.mark = tx.end;
        } else {
            // Park the partial message at the very back, put the control
            // bytes where it was, and bring it back behind them.
            let parked = BUF - unflushed;
            tx.bytes.copy_within(tx.mark..tx.end, parked);
            let n = conn.poll_transmit(&mut tx.bytes[tx.mark..parked]);
            tx.bytes.copy_within(parked..BUF, tx.mark + n);
            tx.mark += n;
            tx.end = tx.mark + unflushed;
        }
    }

    /// Writes flushed output while the stream is ready; whether any byte
    /// went out.
    fn write_out(&mut self) -> Result<bool, DisconnectReason>
    where
        T: Write + WriteReady,
    {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(false);
        };
        let mut wrote = false;
        while !self.tx.before_mark().is_empty() {
            if !stream.write_ready().map_err(io)? {
                break;
            }
            let n = stream.write(self.tx.before_mark()).map_err(io)?;
            if n == 0 {
                return Err(DisconnectReason::WriteZero);
            }
            self.tx.consume(n);
            wrote = true;
        }
        if wrote {
            stream.flush().map_err(io)?;
        }
        Ok(wrote)
    }

    /// Reads once if the stream has bytes and `rx` has room; whether any
    /// byte came in.
    fn read_in(&mut self) -> Result<bool, DisconnectReason>
    where
        T: Read + ReadReady,
    {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(false);
        };
        self.rx.compact();
        if self.rx.end == BUF || !stream.read_ready().map_err(io)? {
            return Ok(false);
        }
        let n = stream.read(&mut self.rx.bytes[self.rx.end..]).map_err(io)?;
        if n == 0 {
            return Err(DisconnectReason::Eof);
        }
        self.rx.end += n;
        Ok(true)
    }

    /// Runs the connection: fires due timers, decodes buffered input,
    /// writes output and reads input until nothing moves (or a handshake
    /// completes, which the socket must act on first).
    pub(crate) fn pump(&mut self, now: Instant, ctx: &Ctx) -> Result<Wake, DisconnectReason>
    where
        T: Read + Write + ReadReady + WriteReady,
    {
        let mut wake = Wake::default();
        let Some(conn) = self.conn.as_mut() else {
            return Ok(wake);
        };
        if conn.poll_timeout().is_some_and(|at| at <= now) {
            conn.handle_timeout(now)?;
        }
        for _ in 0..PUMP_ROUNDS {
            self.decode(now, ctx, &mut wake)?;
            if wake.handshake {
                break;
            }
            self.transmit_control();
            let wrote = self.write_out()?;
            if wrote && self.write_refused {
                self.write_refused = false;
                wake.writable = true;
            }
            let read = self.read_in()?;
            if !wrote && !read {
                break;
            }
        }
        Ok(wake)
    }

    /// Feeds buffered input to the connection.
    fn decode(&mut self, now: Instant, ctx: &Ctx, wake: &mut Wake) -> Result<(), DisconnectReason> {
        match self.state {
            State::Handshake => self.decode_handshake(now, ctx, wake),
            State::Attached => self.decode_frames(now, ctx, wake),
            State::Free | State::Closed(_) => Ok(()),
        }
    }

    /// Greeting and handshake: everything buffered goes to the connection,
    /// up to the end of the handshake.
    fn decode_handshake(
        &mut self,
        now: Instant,
        ctx: &Ctx,
        wake: &mut Wake,
    ) -> Result<(), DisconnectReason> {
        enum Next {
            Idle,
            Complete,
            Verdict(AuthVerdict),
            Continue,
        }
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        loop {
            // With no new input this still reports a handshake completed
            // by our own output.
            let (used, next) = match conn.handle_input(self.rx.live(), now)? {
                (used, None) => (used, Next::Idle),
                (used, Some(Event::HandshakeComplete { .. })) => (used, Next::Complete),
                (used, Some(Event::AuthRequest(credentials))) => {
                    let verdict = ctx
                        .authenticate
                        .map_or(AuthVerdict::Accept, |judge| judge(credentials));
                    (used, Next::Verdict(verdict))
                }
                (used, Some(_)) => (used, Next::Continue),
            };
            self.rx.consume(used);
            match next {
                Next::Idle => return Ok(()),
                Next::Complete => {
                    wake.handshake = true;
                    return Ok(());
                }
                Next::Verdict(verdict) => conn.handle_auth_verdict(verdict)?,
                Next::Continue => {}
            }
        }
    }

    /// After the handshake: whole data frames, as the inbound queue has
    /// room for them.
    fn decode_frames(
        &mut self,
        now: Instant,
        ctx: &Ctx,
        wake: &mut Wake,
    ) -> Result<(), DisconnectReason> {
        // PUB and XPUB get subscriptions (also from commands) as messages.
        let subscriber_input = matches!(ctx.socket_type, SocketType::Pub | SocketType::XPub);
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        loop {
            let live = self.rx.live();
            let feed = if self.cmd_remaining > 0 {
                // The rest of a command the connection is assembling.
                let n = (live.len() as u64).min(self.cmd_remaining);
                self.cmd_remaining -= n;
                n as usize
            } else {
                let Some(header) = peek_header(live) else {
                    return Ok(());
                };
                // A sealed frame (CURVE) may hold data whatever its flags;
                // its record is shorter by the sealing overhead.
                let seal = conn
                    .mechanism()
                    .seal_overhead()
                    .filter(|_| conn.seals_frames());
                if !header.command || subscriber_input || seal.is_some() {
                    // Room for the record this frame may become. Capped:
                    // a command's record is shorter than the command.
                    let body = header.body.saturating_sub(seal.unwrap_or(0) as u64);
                    let need = (RECORD_HEADER_LEN as u64)
                        .saturating_add(body)
                        .min(BUF as u64) as usize;
                    if self.inbound.room() < need {
                        if self.inbound.before_mark().is_empty() {
                            // Only frames of an incomplete message hold the
                            // room: it can never be delivered whole.
                            return Err(DisconnectReason::MessageTooLarge);
                        }
                        return Ok(());
                    }
                }
                let available = live.len() as u64;
                if header.total <= available {
                    header.total as usize
                } else if header.command {
                    self.cmd_remaining = header.total - available;
                    live.len()
                } else if header.total > BUF as u64 {
                    // Larger than MAXMSGSIZE (at most BUF less a header):
                    // the connection refuses it from its header.
                    live.len()
                } else {
                    return Ok(());
                }
            };
            if feed == 0 {
                return Ok(());
            }
            let input = &self.rx.bytes[self.rx.start..self.rx.start + feed];
            let mut pos = 0;
            loop {
                let (used, event) = conn.handle_input(&input[pos..], now)?;
                pos += used;
                let Some(event) = event else {
                    break;
                };
                let stored = match event {
                    Event::Frame { data, more } => {
                        wake.readable |= !more;
                        push_record(&mut self.inbound, &[data], more)
                    }
                    Event::Subscribe { topic } if subscriber_input => {
                        wake.readable = true;
                        push_record(&mut self.inbound, &[&[1], topic], false)
                    }
                    Event::Cancel { topic } if subscriber_input => {
                        wake.readable = true;
                        push_record(&mut self.inbound, &[&[0], topic], false)
                    }
                    // Whole frames are fed, so the connection never splits
                    // one; if it did, the frame could not be stored. Nor
                    // does it announce long subscriptions: MAXMSGSIZE is
                    // below `BUF` (see `Socket::attach`).
                    Event::FrameHead { .. }
                    | Event::SealedHead { .. }
                    | Event::FramePart { .. }
                    | Event::SubscriptionHead { .. }
                    | Event::SubscriptionPart { .. } => false,
                    _ => true,
                };
                if !stored {
                    return Err(DisconnectReason::MessageTooLarge);
                }
            }
            self.rx.consume(pos);
        }
    }

    /// Ends the connection: queued output (including an ERROR the
    /// connection has for the peer) is written as far as the stream takes
    /// it without blocking, then buffers are dropped, except, with
    /// `keep_messages`, the whole messages received (the link is then
    /// [`draining`](Self::draining)). The stream stays until
    /// [`free`](Self::free).
    pub(crate) fn close(&mut self, reason: DisconnectReason, keep_messages: bool)
    where
        T: Write + WriteReady,
    {
        self.rollback();
        self.transmit_control();
        // Best effort: the stream may be what failed.
        let _ = self.write_out();
        self.state = State::Closed(reason);
        self.conn = None;
        self.rx.clear();
        self.tx.clear();
        self.cmd_remaining = 0;
        // Frames of a message that will never be completed go.
        self.inbound.end = self.inbound.mark;
        self.draining = keep_messages && !self.inbound.before_mark().is_empty();
        if !self.draining {
            self.inbound.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_ahead_short_and_long() {
        assert_eq!(peek_header(&[]), None);
        assert_eq!(peek_header(&[0x01]), None);
        assert_eq!(
            peek_header(&[0x01, 5, b'h']),
            Some(Header {
                command: false,
                total: 7,
                body: 5
            })
        );
        assert_eq!(peek_header(&[0x06, 0, 0, 0, 0, 0, 0, 1]), None);
        assert_eq!(
            peek_header(&[0x06, 0, 0, 0, 0, 0, 0, 1, 0]),
            Some(Header {
                command: true,
                total: 9 + 256,
                body: 256
            })
        );
        // A hostile length saturates rather than wrapping.
        let huge = peek_header(&[0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).unwrap();
        assert_eq!(huge.total, u64::MAX);
    }

    #[test]
    fn records_keep_frames_and_mark_whole_messages() {
        let mut q = Buffer::<32>::new();
        assert!(push_record(&mut q, &[b"ab"], true));
        assert!(q.before_mark().is_empty(), "half a message is invisible");
        assert!(push_record(&mut q, &[&[1], b"cd"], false));
        assert_eq!(q.before_mark().len(), 2 * RECORD_HEADER_LEN + 5);
        assert!(!push_record(&mut q, &[&[0; 20]], false), "no room");
    }
}
