//! A connection's input: reads from the stream, frames decoded in place or
//! assembled across reads, and handed to the socket's pipe.

use std::io::{self, Read};

use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::time::Instant;
use zlink_mq_core::zmtp::Event;

use super::{
    ASSEMBLE_RESERVE_MAX, DIRECT_READ_MIN, Engine, Failure, Judged, Pipes, Progress, READ_BUDGET,
    SMALL_READ, count_frame, judge,
};
use crate::base::msg::Msg;

impl Engine {
    /// Reads what the stream has and hands every complete frame to the
    /// socket.
    pub(crate) fn readable(
        &mut self,
        pipes: &mut Option<Pipes>,
        now: Instant,
        progress: &mut Progress,
    ) -> Result<(), Failure> {
        let mut budget = READ_BUDGET;
        loop {
            self.decode(pipes, now, progress)?;
            if self.zap.is_some() {
                self.read_while_judged()?;
                break;
            }
            if self.input_blocked || progress.handshake.is_some() {
                // Blocked, or the pipes must be attached before the frames
                // that follow the handshake can be delivered.
                break;
            }
            if self.rstart == self.rend {
                self.rstart = 0;
                self.rend = 0;
            } else if self.rstart > 0 && self.rend == self.rbuf.len() {
                self.rbuf.copy_within(self.rstart..self.rend, 0);
                self.rend -= self.rstart;
                self.rstart = 0;
            }
            if budget == 0 {
                // Fair share used: the rest waits for the next wake-up.
                break;
            }
            budget -= 1;
            if self.rstart == self.rend {
                match self.read_body_direct(pipes, now)? {
                    Some(true) => break,
                    Some(false) => continue,
                    None => {}
                }
            }
            // While large frames arrive, a short read takes the next header
            // and the body follows by `read_body_direct`; otherwise read
            // as much as fits (many small frames per system call).
            let limit = if self.large_frames {
                (self.rend + SMALL_READ).min(self.rbuf.len())
            } else {
                self.rbuf.len()
            };
            let room = limit - self.rend;
            let n = match self.stream.read(&mut self.rbuf[self.rend..limit]) {
                Ok(0) => return Err(Failure::Eof),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            self.rend += n;
            if n < room {
                // The kernel had less than we asked for: it is drained.
                self.decode(pipes, now, progress)?;
                break;
            }
        }
        if let Some(p) = pipes {
            p.tx.flush();
        }
        // Input can make the protocol answer (the next handshake command).
        progress.control |= self.conn.has_pending_transmit();
        Ok(())
    }

    /// While the body of a large frame is being assembled and nothing else
    /// is buffered, reads the rest of the body straight into the message's
    /// buffer: the bytes skip the read buffer and its copy. `None` when
    /// this does not apply; otherwise whether the kernel had less than
    /// asked (drained).
    fn read_body_direct(
        &mut self,
        pipes: &mut Option<Pipes>,
        now: Instant,
    ) -> Result<Option<bool>, Failure> {
        let Some((buf, _)) = &mut self.assembling else {
            return Ok(None);
        };
        let remaining = self.assembling_len.saturating_sub(buf.len());
        if remaining < DIRECT_READ_MIN || buf.capacity() - buf.len() < remaining {
            return Ok(None);
        }
        let start = buf.len();
        let n = match self.stream.read_append(buf, remaining) {
            Ok(0) => return Err(Failure::Eof),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Some(true)),
            Err(e) => return Err(e.into()),
        };
        let (buf, more) = self.assembling.take().expect("matched above");
        // The protocol state machine accounts for the bytes as usual; a
        // body is passed through as it is, so it hands back the very bytes
        // already in place.
        let end = start + n;
        let mut pos = start;
        let mut last = false;
        while pos < end {
            let (used, event) = self.conn.handle_input(&buf[pos..end], now)?;
            match event {
                Some(Event::FramePart { data, last: l })
                    if used > 0 && data.as_ptr() == buf[pos..].as_ptr() =>
                {
                    last = l;
                }
                _ => {
                    return Err(Failure::Io(io::Error::other(
                        "a frame body was not passed through as it arrived",
                    )));
                }
            }
            pos += used;
        }
        if last {
            self.finish_assembled(buf, more, pipes, now)?;
        } else {
            self.assembling = Some((buf, more));
        }
        Ok(Some(n < remaining))
    }

    /// A frame assembled in `buf` is complete: to the socket, once opened
    /// if it was sealed.
    fn finish_assembled(
        &mut self,
        buf: Vec<u8>,
        more: bool,
        pipes: &mut Option<Pipes>,
        now: Instant,
    ) -> Result<(), Failure> {
        if std::mem::take(&mut self.assembling_sealed) {
            self.open_assembled(buf, pipes, now)
        } else {
            self.deliver_assembled(buf, more, pipes)
        }
    }

    /// Opens a sealed frame (CURVE MESSAGE) assembled in `buf` and hands
    /// what it held to the socket: a frame (in place: the buffer becomes
    /// the message), a subscription, or nothing (PING / PONG, which the
    /// connection answers itself).
    fn open_assembled(
        &mut self,
        mut buf: Vec<u8>,
        pipes: &mut Option<Pipes>,
        now: Instant,
    ) -> Result<(), Failure> {
        enum Opened {
            Frame(usize, usize, bool),
            Subscription(u8, usize, usize),
        }
        let base = buf.as_ptr() as usize;
        let at = |data: &[u8]| data.as_ptr() as usize - base;
        let opened = match self.conn.open_frame(&mut buf, now)? {
            Some(Event::Frame { data, more }) => Some(Opened::Frame(at(data), data.len(), more)),
            Some(Event::Subscribe { topic }) => {
                Some(Opened::Subscription(1, at(topic), topic.len()))
            }
            Some(Event::Cancel { topic }) => Some(Opened::Subscription(0, at(topic), topic.len())),
            _ => None,
        };
        match opened {
            Some(Opened::Frame(start, len, more)) => {
                buf.truncate(start + len);
                buf.drain(..start);
                self.deliver_assembled(buf, more, pipes)
            }
            Some(Opened::Subscription(flag, start, len))
                if matches!(self.socket_type, SocketType::Pub | SocketType::XPub) =>
            {
                let mut m = Vec::with_capacity(len + 1);
                m.push(flag);
                m.extend_from_slice(&buf[start..start + len]);
                if let Some(p) = pipes {
                    p.tx.push(Msg::from(m));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Hands a frame assembled in `buf` to the socket.
    fn deliver_assembled(
        &mut self,
        buf: Vec<u8>,
        more: bool,
        pipes: &mut Option<Pipes>,
    ) -> Result<(), Failure> {
        self.count_frame(more)?;
        let msg = if buf.len() <= Msg::INLINE_CAPACITY {
            let msg = Msg::copy_from_slice(&buf);
            self.small = buf;
            msg
        } else {
            Msg::from_bytes(crate::base::bufpool::freeze(buf))
        };
        if let Some(p) = pipes {
            p.tx.push(msg.with_more(more));
        }
        Ok(())
    }

    /// Accounts for one inbound frame about to go to the socket: the
    /// message it belongs to may not grow past [`MAX_MSG_FRAMES`].
    #[inline]
    fn count_frame(&mut self, more: bool) -> Result<(), Failure> {
        count_frame(&mut self.in_message, &mut self.in_frames, more)
    }

    /// Decodes buffered input until it runs out or the socket is full.
    pub(super) fn decode(
        &mut self,
        pipes: &mut Option<Pipes>,
        now: Instant,
        progress: &mut Progress,
    ) -> Result<(), Failure> {
        loop {
            if self.zap.is_some() && !self.poll_zap(progress)? {
                // The handler has not answered: nothing is read meanwhile.
                return Ok(());
            }
            if !self.in_message && self.assembling.is_none() {
                if let Some(p) = pipes {
                    if self.conn.is_active() && !p.tx.check_write() {
                        self.input_blocked = true;
                        return Ok(());
                    }
                }
            }
            let (used, event) = self
                .conn
                .handle_input(&self.rbuf[self.rstart..self.rend], now)?;
            self.rstart += used;
            let Some(event) = event else {
                return Ok(());
            };
            match event {
                Event::Frame { data, more } => {
                    count_frame(&mut self.in_message, &mut self.in_frames, more)?;
                    self.large_frames = data.len() >= DIRECT_READ_MIN;
                    if let Some(p) = pipes {
                        p.tx.push(Msg::copy_from_slice(data).with_more(more));
                    }
                }
                Event::FrameHead { len, more } => {
                    let buf = if len <= Msg::INLINE_CAPACITY {
                        let mut small = std::mem::take(&mut self.small);
                        small.clear();
                        small
                    } else if let Some(pooled) = crate::base::bufpool::buffer(len) {
                        // A recycled buffer (at most `bufpool::MAX_LEN`):
                        // the receiving thread's free does not shrink the
                        // I/O thread's heap.
                        pooled
                    } else {
                        // The length is the peer's claim (bounded only by
                        // MAXMSGSIZE, unlimited by default): reserve a
                        // bounded amount and grow as the bytes arrive.
                        Vec::with_capacity(len.min(ASSEMBLE_RESERVE_MAX))
                    };
                    self.assembling = Some((buf, more));
                    self.assembling_len = len;
                    self.large_frames = len >= DIRECT_READ_MIN;
                }
                Event::SealedHead { len } => {
                    // A CURVE MESSAGE larger than the connection's buffer:
                    // assembled here, opened once whole (its length was
                    // checked against MAXMSGSIZE, which is unlimited by
                    // default: reserve a bounded amount).
                    let buf = match crate::base::bufpool::buffer(len) {
                        Some(pooled) => pooled,
                        None => Vec::with_capacity(len.min(ASSEMBLE_RESERVE_MAX)),
                    };
                    self.assembling = Some((buf, false));
                    self.assembling_len = len;
                    self.assembling_sealed = true;
                    self.large_frames = len >= DIRECT_READ_MIN;
                }
                Event::FramePart { data, last } => {
                    if let Some((buf, _)) = &mut self.assembling {
                        buf.extend_from_slice(data);
                        if last {
                            let (buf, more) = self.assembling.take().expect("assembling");
                            self.finish_assembled(buf, more, pipes, now)?;
                        }
                    }
                }
                Event::Subscribe { topic } | Event::Cancel { topic }
                    if matches!(self.socket_type, SocketType::Pub | SocketType::XPub) =>
                {
                    // Subscriptions travel to PUB / XPUB routing as libzmq
                    // represents them: one frame, 1 (subscribe) or 0
                    // (cancel), then the prefix. Any other socket ignores
                    // them, as libzmq does: they are not data.
                    let flag = u8::from(matches!(event, Event::Subscribe { .. }));
                    let mut m = Vec::with_capacity(topic.len() + 1);
                    m.push(flag);
                    m.extend_from_slice(topic);
                    if let Some(p) = pipes {
                        p.tx.push(Msg::from(m));
                    }
                }
                Event::SubscriptionHead { subscribe, len }
                    if matches!(self.socket_type, SocketType::Pub | SocketType::XPub) =>
                {
                    // A topic longer than the connection's command buffer
                    // (libzmq sends any length): its length is the peer's
                    // claim, bounded by MAXMSGSIZE only, so reserve a
                    // bounded amount and grow as the bytes arrive.
                    let mut m = Vec::with_capacity(len.saturating_add(1).min(ASSEMBLE_RESERVE_MAX));
                    m.push(u8::from(subscribe));
                    self.subscription = Some(m);
                }
                Event::SubscriptionPart { data, last } => {
                    if let Some(m) = &mut self.subscription {
                        m.extend_from_slice(data);
                    }
                    if last {
                        if let (Some(m), Some(p)) = (self.subscription.take(), pipes.as_mut()) {
                            p.tx.push(Msg::from(m));
                        }
                    }
                }
                Event::HandshakeComplete { peer, .. } => {
                    self.handshaken = true;
                    let id = peer
                        .get("Identity")
                        .filter(|id| !id.is_empty())
                        .map(<[u8]>::to_vec);
                    progress.handshake = Some(id);
                    return Ok(());
                }
                Event::AuthRequest(credentials) => {
                    let verdict = judge(
                        self.authenticator.as_deref(),
                        self.curve_authenticator.as_deref(),
                        &self.zap_config,
                        credentials,
                    );
                    match verdict {
                        Judged::Now(verdict) => {
                            self.conn.handle_auth_verdict(verdict)?;
                            progress.control = true;
                        }
                        Judged::Zap(mechanism, parts) => {
                            if let Some(verdict) = self.ask_zap(mechanism, &parts, progress)? {
                                self.conn.handle_auth_verdict(verdict)?;
                                progress.control = true;
                            }
                        }
                    }
                }
                Event::Ping { .. } => progress.control = true,
                Event::Pong => {}
                _ => {}
            }
        }
    }
}
