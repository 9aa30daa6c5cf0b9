//! A connection's output: control bytes and queued messages encoded into the
//! write buffer, large frames gathered from the message itself.

use std::io::{self, IoSlice, Write};

use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::time::Instant;
use zlink_mq_core::zmtp::frame::FrameWriter;
use zlink_mq_core::zmtp::mechanism::AnyMechanism;
use zlink_mq_core::zmtp::{Connection, EncodeError};

use super::{Engine, Failure, GATHER_MIN, Pipes, Progress};
use crate::base::msg::Msg;
use crate::pipe::Read as PipeRead;

/// An outbound frame written around the write buffer.
#[derive(Debug)]
pub(super) enum Gather {
    /// Not started: its header did not fit; it goes first into the next
    /// batch.
    Pending(Msg),
    /// Its header is in the buffer; its payload is written from the
    /// message itself, this many bytes so far.
    Body(Msg, usize),
}

impl Engine {
    /// Whether output waits for the stream to become writable: bytes in the
    /// write buffer, a frame being gathered, or control output that did
    /// not fit. This is the connection's state, not what one pass saw: the
    /// I/O thread derives its write interest from it after every pass,
    /// whatever woke it, so readiness is never lost (a read-only wake-up
    /// while output is backed up keeps watching for writability).
    pub(crate) fn output_pending(&self) -> bool {
        self.wstart != self.wend || self.gather.is_some() || self.conn.has_pending_transmit()
    }

    /// Writes control bytes and queued messages until the stream or the
    /// pipe runs out; what the full stream did not take stays pending (see
    /// [`output_pending`](Self::output_pending)).
    pub(crate) fn writable(
        &mut self,
        pipes: &mut Option<Pipes>,
        now: Instant,
        progress: &mut Progress,
    ) -> Result<(), Failure> {
        loop {
            let was_active = self.conn.is_active();
            self.wend += self.conn.poll_transmit(&mut self.wbuf[self.wend..]);
            if !was_active {
                // Sending our last handshake command can complete the
                // handshake; the connection reports that on its next input
                // call, which may carry no bytes.
                self.decode(pipes, now, progress)?;
            }
            if self.gather.is_none() && self.conn.is_active() && !self.conn.has_pending_transmit() {
                self.encode(pipes)?;
            }
            if self.wstart == self.wend && self.gather.is_none() {
                if self.outbound_done && !self.conn.has_pending_transmit() {
                    return Err(Failure::Done);
                }
                return Ok(());
            }
            if !self.flush_out()? {
                // The stream is full; `output_pending` says so until the
                // bytes are out.
                return Ok(());
            }
        }
    }

    /// Moves messages from the pipe into the write buffer.
    fn encode(&mut self, pipes: &mut Option<Pipes>) -> Result<(), Failure> {
        let Some(p) = pipes else {
            return Ok(());
        };
        let subscriptions = matches!(self.socket_type, SocketType::Sub | SocketType::XSub);
        let mut w = FrameWriter::with_filled(&mut self.wbuf, self.wend);
        loop {
            // Room for a small frame and its header, or stop here.
            if w.remaining() < 64 + 9 {
                break;
            }
            let msg = match p.rx.read() {
                PipeRead::Msg(m) => m,
                PipeRead::Empty => break,
                PipeRead::Closed => {
                    self.outbound_done = true;
                    break;
                }
            };
            if self.skip_outbound {
                self.skip_outbound = msg.more();
                continue;
            }
            let starts_message = !self.out_more;
            self.out_more = msg.more();
            if self.conn.seals_frames() {
                // CURVE: every frame sealed whole into the buffer; one that
                // does not fit opens the next batch.
                let subscription = subscriptions && starts_message && !msg.more();
                if !encode_sealed(&mut self.conn, &mut w, &msg, subscription)? {
                    self.gather = Some(Gather::Pending(msg));
                    break;
                }
                continue;
            }
            if subscriptions && starts_message && !msg.more() {
                if let Some((&flag, topic)) = msg.split_first() {
                    if flag <= 1 && msg.len() >= GATHER_MIN {
                        // Too long to copy: the head goes in the buffer,
                        // the topic from the message itself.
                        let subscribe = flag == 1;
                        let topic_len = topic.len();
                        self.gather = Some(
                            match self
                                .conn
                                .encode_subscription_head(&mut w, subscribe, topic_len)
                            {
                                Ok(from) => Gather::Body(msg, from),
                                Err(_) => Gather::Pending(msg),
                            },
                        );
                        break;
                    }
                    if flag <= 1 {
                        let r = if flag == 1 {
                            self.conn.encode_subscribe(&mut w, topic)
                        } else {
                            self.conn.encode_cancel(&mut w, topic)
                        };
                        if r.is_err() {
                            // No room after all: it opens the next batch.
                            self.gather = Some(Gather::Pending(msg));
                            break;
                        }
                        continue;
                    }
                }
            }
            if msg.len() >= GATHER_MIN || w.push(&msg, msg.more()).is_err() {
                self.gather = Some(if w.push_header(msg.len(), msg.more()).is_ok() {
                    Gather::Body(msg, 0)
                } else {
                    Gather::Pending(msg)
                });
                break;
            }
        }
        self.wend = w.len();
        Ok(())
    }

    /// Writes the buffer (and a gathered payload). Returns `false` if the
    /// stream is full.
    fn flush_out(&mut self) -> Result<bool, Failure> {
        loop {
            if self.wstart == self.wend {
                match self.gather.take() {
                    // A frame whose header did not fit the last batch: it
                    // opens this one, as a subscription or a data frame.
                    Some(Gather::Pending(msg)) if self.conn.seals_frames() => {
                        self.wstart = 0;
                        self.wend = 0;
                        let subscription =
                            matches!(self.socket_type, SocketType::Sub | SocketType::XSub)
                                && !msg.more();
                        let mut w = FrameWriter::new(&mut self.wbuf);
                        if encode_sealed(&mut self.conn, &mut w, &msg, subscription)? {
                            self.wend = w.len();
                        } else {
                            // Larger than the whole buffer: sealed into its
                            // own, written from there.
                            let len = self.conn.encoded_len(msg.len() + 1 + "SUBSCRIBE".len());
                            let mut frame = vec![0u8; len];
                            let mut w = FrameWriter::new(&mut frame);
                            if encode_sealed(&mut self.conn, &mut w, &msg, subscription)? {
                                let n = w.len();
                                frame.truncate(n);
                                self.gather = Some(Gather::Body(Msg::from(frame), 0));
                            }
                        }
                        continue;
                    }
                    Some(Gather::Pending(msg)) => {
                        self.wstart = 0;
                        self.wend = 0;
                        let mut w = FrameWriter::new(&mut self.wbuf);
                        let subscription =
                            matches!(self.socket_type, SocketType::Sub | SocketType::XSub)
                                && !msg.more()
                                && msg.first().is_some_and(|&f| f <= 1);
                        if subscription {
                            let (&flag, topic) = msg.split_first().expect("non-empty");
                            let (subscribe, topic_len) = (flag == 1, topic.len());
                            let r = if subscribe {
                                self.conn.encode_subscribe(&mut w, topic)
                            } else {
                                self.conn.encode_cancel(&mut w, topic)
                            };
                            if r.is_err() {
                                // Larger than the whole buffer: its head
                                // here, the topic from the message.
                                // (Only a connection no longer active
                                // refuses that; nothing goes out then.)
                                if let Ok(from) = self
                                    .conn
                                    .encode_subscription_head(&mut w, subscribe, topic_len)
                                {
                                    self.gather = Some(Gather::Body(msg, from));
                                }
                            }
                            self.wend = w.len();
                        } else {
                            if w.push_header(msg.len(), msg.more()).is_err() {
                                unreachable!("an empty buffer holds a frame header");
                            }
                            self.wend = w.len();
                            self.gather = Some(Gather::Body(msg, 0));
                        }
                        continue;
                    }
                    Some(body @ Gather::Body(..)) => self.gather = Some(body),
                    None => return Ok(true),
                }
            }
            let head = &self.wbuf[self.wstart..self.wend];
            let written = match &self.gather {
                Some(Gather::Body(msg, done)) => self
                    .stream
                    .write_vectored(&[IoSlice::new(head), IoSlice::new(&msg[*done..])]),
                _ => self.stream.write(head),
            };
            let mut n = match written {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            let from_buf = n.min(self.wend - self.wstart);
            self.wstart += from_buf;
            n -= from_buf;
            if let Some(Gather::Body(msg, done)) = &mut self.gather {
                *done += n;
                if *done == msg.len() {
                    self.gather = None;
                }
            }
            if self.wstart == self.wend {
                self.wstart = 0;
                self.wend = 0;
                if self.gather.is_none() {
                    return Ok(true);
                }
            }
        }
    }

    /// Writes what can be written without blocking; used before closing so
    /// a final ERROR command reaches the peer.
    pub(crate) fn flush_best_effort(&mut self) {
        self.wend += self.conn.poll_transmit(&mut self.wbuf[self.wend..]);
        let _ = self.stream.write(&self.wbuf[self.wstart..self.wend]);
    }
}

/// Seals one outbound frame whole into `w`: a subscription message (flag
/// 1 or 0, then the topic) as SUBSCRIBE / CANCEL when `subscription`, any
/// other frame as is. `false` if it does not fit.
fn encode_sealed(
    conn: &mut Connection<AnyMechanism>,
    w: &mut FrameWriter<'_>,
    msg: &Msg,
    subscription: bool,
) -> Result<bool, Failure> {
    let r = match msg.split_first() {
        Some((&1, topic)) if subscription => conn.encode_subscribe(w, topic),
        Some((&0, topic)) if subscription => conn.encode_cancel(w, topic),
        _ => conn.encode_frame(w, msg, msg.more()),
    };
    match r {
        Ok(()) => Ok(true),
        Err(EncodeError::BufferFull) => Ok(false),
        Err(EncodeError::Failed(e)) => Err(e.into()),
        Err(e) => Err(Failure::Io(io::Error::other(e.to_string()))),
    }
}
