//! The raw engine of STREAM sockets: a connection's bytes as they come, no
//! ZMTP (libzmq's `raw_engine_t`, `raw_decoder_t`, `raw_encoder_t`).
//!
//! - **Input**: each `read` becomes one single-frame message of the bytes
//!   it returned (the socket's routing puts the connection's routing id in
//!   front). With STREAM_NOTIFY the socket first gets an empty message for
//!   the connection, and another when the peer goes.
//! - **Output**: each message from the socket is written as it is; an
//!   empty one closes the connection once what was queued before it is
//!   written.
//!
//! Raw input has no structure to check: nothing a peer sends can be
//! malformed. What is read at most per wake-up is bounded by
//! [`READ_BUF`] × [`READ_BUDGET`] and by the socket's RCVHWM.

use std::io::{self, IoSlice, Read};

use super::engine::{Failure, Pipes, Progress};
use crate::base::msg::Msg;
use crate::pipe::Read as PipeRead;
use crate::sys::net::Stream;

/// Bytes read per system call at most, so the largest message a read makes.
const READ_BUF: usize = 64 * 1024;
/// Reads per wake-up of the I/O thread (as the ZMTP engine's budget).
const READ_BUDGET: u32 = 16;
/// Messages gathered into one `writev`.
const WRITE_BATCH: usize = 64;

/// One raw connection.
pub(crate) struct RawEngine {
    pub stream: Stream,
    /// STREAM_NOTIFY: tell the socket of the connection and its end.
    notify: bool,
    /// The socket was told of the connection (its pipes exist).
    started: bool,
    /// The connect notification went to the socket.
    announced: bool,
    rbuf: Box<[u8]>,
    /// Messages being written, the first one `written` bytes in.
    out: Vec<Msg>,
    written: usize,
    /// An empty message (close) or the end of the pipe was read: once `out`
    /// is written the connection is done.
    done: bool,
    /// The socket is at its RCVHWM: input waits.
    input_blocked: bool,
}

impl RawEngine {
    pub(crate) fn new(stream: Stream, notify: bool) -> Self {
        Self {
            stream,
            notify,
            started: false,
            announced: false,
            rbuf: vec![0; READ_BUF].into_boxed_slice(),
            out: Vec::new(),
            written: 0,
            done: false,
            input_blocked: false,
        }
    }

    pub(crate) fn unblock_input(&mut self) {
        self.input_blocked = false;
    }

    pub(crate) fn input_blocked(&self) -> bool {
        self.input_blocked
    }

    pub(crate) fn output_pending(&self) -> bool {
        !self.out.is_empty()
    }

    /// There is no handshake: the first call reports the connection ready,
    /// so that the session attaches its pipes to the socket.
    fn start(&mut self, progress: &mut Progress) -> bool {
        if self.started {
            return false;
        }
        self.started = true;
        progress.handshake = Some(None);
        true
    }

    /// Sends the connect notification once the pipes exist.
    fn announce(&mut self, pipes: &mut Option<Pipes>) {
        if self.announced {
            return;
        }
        if let Some(p) = pipes {
            self.announced = true;
            if self.notify {
                p.tx.push(Msg::new());
            }
        }
    }

    /// The connection is lost (not closed by the socket): with
    /// STREAM_NOTIFY the socket gets an empty message for it, after
    /// everything read before.
    pub(crate) fn lost(&mut self, pipes: &mut Option<Pipes>) {
        if self.notify && self.announced {
            if let Some(p) = pipes {
                p.tx.push(Msg::new());
                p.tx.flush();
            }
        }
    }

    pub(crate) fn readable(
        &mut self,
        pipes: &mut Option<Pipes>,
        progress: &mut Progress,
    ) -> Result<(), Failure> {
        if self.start(progress) {
            return Ok(());
        }
        self.announce(pipes);
        let Some(p) = pipes else {
            return Ok(());
        };
        let mut result = Ok(());
        for _ in 0..READ_BUDGET {
            if !p.tx.check_write() {
                self.input_blocked = true;
                break;
            }
            let n = match self.stream.read(&mut self.rbuf) {
                Ok(0) => {
                    result = Err(Failure::Eof);
                    break;
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    result = Err(e.into());
                    break;
                }
            };
            p.tx.push(Msg::copy_from_slice(&self.rbuf[..n]));
            if n < self.rbuf.len() {
                // The kernel had less than we asked for: it is drained.
                break;
            }
        }
        p.tx.flush();
        result
    }

    pub(crate) fn writable(
        &mut self,
        pipes: &mut Option<Pipes>,
        progress: &mut Progress,
    ) -> Result<(), Failure> {
        if self.start(progress) {
            return Ok(());
        }
        self.announce(pipes);
        loop {
            if let Some(p) = pipes {
                while !self.done && self.out.len() < WRITE_BATCH {
                    match p.rx.read() {
                        PipeRead::Msg(m) if m.is_empty() => self.done = true,
                        PipeRead::Msg(m) => self.out.push(m),
                        PipeRead::Empty => break,
                        PipeRead::Closed => self.done = true,
                    }
                }
            }
            if self.out.is_empty() {
                return if self.done {
                    Err(Failure::Done)
                } else {
                    Ok(())
                };
            }
            if !self.flush_out()? {
                return Ok(());
            }
        }
    }

    /// Writes the queued messages. `false` if the stream is full.
    fn flush_out(&mut self) -> Result<bool, Failure> {
        while !self.out.is_empty() {
            let mut slices = [IoSlice::new(&[]); WRITE_BATCH];
            slices[0] = IoSlice::new(&self.out[0][self.written..]);
            for (slot, m) in slices[1..].iter_mut().zip(&self.out[1..]) {
                *slot = IoSlice::new(m);
            }
            let count = self.out.len().min(WRITE_BATCH);
            let mut n = match self.stream.write_vectored(&slices[..count]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            // Whole messages written leave the queue; a partly written one
            // keeps its offset.
            let mut whole = 0;
            let mut offset = self.written;
            for m in &self.out {
                let left = m.len() - offset;
                if n < left {
                    offset += n;
                    break;
                }
                n -= left;
                whole += 1;
                offset = 0;
            }
            self.written = offset;
            self.out.drain(..whole);
        }
        self.written = 0;
        Ok(true)
    }

    /// Writes what can be written without blocking, before closing.
    pub(crate) fn flush_best_effort(&mut self) {
        let _ = self.flush_out();
    }

    pub(crate) fn shutdown_write(&mut self) -> io::Result<()> {
        self.stream.shutdown_write()
    }

    pub(crate) fn unsent(&self) -> io::Result<usize> {
        self.stream.unsent()
    }

    /// Reads and discards what the peer still sends; `Ok(true)` once it
    /// has closed too.
    pub(crate) fn drain_input(&mut self) -> io::Result<bool> {
        self.stream.discard_input(&mut self.rbuf)
    }
}

impl std::fmt::Debug for RawEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawEngine")
            .field("started", &self.started)
            .field("queued", &self.out.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
