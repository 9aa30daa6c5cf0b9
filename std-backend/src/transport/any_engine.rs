//! A connection's engine, whichever protocol it speaks: ZMTP
//! ([`Engine`]) for every socket type but STREAM, raw bytes
//! ([`RawEngine`]) for STREAM. The I/O thread drives both through the
//! same verbs.

use std::io;
use std::os::fd::{AsFd, AsRawFd};

use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::time::Instant;

use super::Owner;
use super::engine::{Engine, Failure, Pipes, Progress};
use super::raw::RawEngine;
use crate::base::properties::{PEER_ADDRESS, Properties};
use crate::pipe::PipeId;
use crate::sys::net::Stream;

/// The engine of one connection. It lives boxed in its session, so the
/// variants' sizes need not match.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum AnyEngine {
    Zmtp(Engine),
    Raw(RawEngine),
}

macro_rules! both {
    ($self:expr, $e:ident => $body:expr) => {
        match $self {
            AnyEngine::Zmtp($e) => $body,
            AnyEngine::Raw($e) => $body,
        }
    };
}

impl AnyEngine {
    /// The engine for a connection of `owner`'s socket.
    pub(crate) fn new(stream: Stream, owner: &Owner, now: Instant) -> Result<Self, Failure> {
        if owner.socket_type == SocketType::Stream {
            return Ok(AnyEngine::Raw(RawEngine::new(stream, owner.stream_notify)));
        }
        Engine::new(stream, owner, now).map(AnyEngine::Zmtp)
    }

    /// The properties the connection's frames carry (see
    /// [`Properties`]): for STREAM the peer's address and descriptor only,
    /// as libzmq's raw engine.
    pub(crate) fn properties(&self) -> Properties {
        match self {
            AnyEngine::Zmtp(e) => e.properties(),
            AnyEngine::Raw(e) => {
                let mut p = Properties::new();
                p.insert(PEER_ADDRESS, e.stream.peer_address().as_bytes());
                p.set_source_fd(e.stream.as_fd().as_raw_fd());
                p
            }
        }
    }

    pub(crate) fn stream(&self) -> &Stream {
        both!(self, e => &e.stream)
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self {
            AnyEngine::Zmtp(e) => e.deadline(),
            AnyEngine::Raw(_) => None,
        }
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Result<(), Failure> {
        match self {
            AnyEngine::Zmtp(e) => e.handle_timeout(now),
            AnyEngine::Raw(_) => Ok(()),
        }
    }

    pub(crate) fn peer_error_status(&self) -> Option<u16> {
        match self {
            AnyEngine::Zmtp(e) => e.peer_error_status(),
            AnyEngine::Raw(_) => None,
        }
    }

    /// Only ZMTP connections keep their pipes across reconnections, so
    /// only they can inherit half a message.
    pub(crate) fn skip_partial_outbound(&mut self) {
        if let AnyEngine::Zmtp(e) = self {
            e.skip_partial_outbound();
        }
    }

    pub(crate) fn in_message(&self) -> bool {
        match self {
            AnyEngine::Zmtp(e) => e.in_message(),
            AnyEngine::Raw(_) => false,
        }
    }

    pub(crate) fn out_message_open(&self) -> bool {
        match self {
            AnyEngine::Zmtp(e) => e.out_message_open(),
            AnyEngine::Raw(_) => false,
        }
    }

    /// The connection failed (not closed by its socket): a raw engine
    /// tells its socket, with STREAM_NOTIFY.
    pub(crate) fn lost(&mut self, pipes: &mut Option<Pipes>) {
        if let AnyEngine::Raw(e) = self {
            e.lost(pipes);
        }
    }

    /// Where the pipes a ZMTP engine opens (to a ZAP handler) report.
    pub(crate) fn set_io(&mut self, io: std::sync::Arc<dyn crate::pipe::Notify>) {
        if let AnyEngine::Zmtp(e) = self {
            e.set_io(io);
        }
    }

    pub(crate) fn zap_pipe(&self) -> Option<PipeId> {
        match self {
            AnyEngine::Zmtp(e) => e.zap_pipe(),
            AnyEngine::Raw(_) => None,
        }
    }

    pub(crate) fn zap_activated(&mut self, id: PipeId) -> bool {
        match self {
            AnyEngine::Zmtp(e) => e.zap_activated(id),
            AnyEngine::Raw(_) => false,
        }
    }

    pub(crate) fn handshaken(&self) -> bool {
        match self {
            AnyEngine::Zmtp(e) => e.handshaken(),
            AnyEngine::Raw(_) => true,
        }
    }

    pub(crate) fn zap_status(&self) -> Option<u16> {
        match self {
            AnyEngine::Zmtp(e) => e.zap_status(),
            AnyEngine::Raw(_) => None,
        }
    }

    pub(crate) fn unblock_input(&mut self) {
        both!(self, e => e.unblock_input())
    }

    pub(crate) fn input_blocked(&self) -> bool {
        both!(self, e => e.input_blocked())
    }

    pub(crate) fn shutdown_write(&mut self) -> io::Result<()> {
        both!(self, e => e.shutdown_write())
    }

    pub(crate) fn unsent(&self) -> io::Result<usize> {
        both!(self, e => e.unsent())
    }

    pub(crate) fn drain_input(&mut self) -> io::Result<bool> {
        both!(self, e => e.drain_input())
    }

    pub(crate) fn readable(
        &mut self,
        pipes: &mut Option<Pipes>,
        now: Instant,
        progress: &mut Progress,
    ) -> Result<(), Failure> {
        match self {
            AnyEngine::Zmtp(e) => e.readable(pipes, now, progress),
            AnyEngine::Raw(e) => e.readable(pipes, progress),
        }
    }

    pub(crate) fn writable(
        &mut self,
        pipes: &mut Option<Pipes>,
        now: Instant,
        progress: &mut Progress,
    ) -> Result<(), Failure> {
        match self {
            AnyEngine::Zmtp(e) => e.writable(pipes, now, progress),
            AnyEngine::Raw(e) => e.writable(pipes, progress),
        }
    }

    pub(crate) fn output_pending(&self) -> bool {
        both!(self, e => e.output_pending())
    }

    pub(crate) fn flush_best_effort(&mut self) {
        both!(self, e => e.flush_best_effort())
    }
}
