//! How a connection ends: engine failures, draining after the socket
//! closed, reconnection or removal of the session.

use zlink_mq_core::socket_type::SocketType;

use super::*;

/// Whether `failure` ended the handshake on a protocol error (libzmq's
/// `protocol_error`, after which a connecter does not reconnect).
fn refused_handshake(failure: &Failure, link: &Link) -> bool {
    let Link::Up(engine) = link else {
        return false;
    };
    matches!(failure, Failure::Protocol(e)
        if !engine.handshaken() && *e != zlink_mq_core::zmtp::Error::HandshakeTimeout)
}

impl IoThread {
    pub(super) fn engine_failed(&mut self, key: usize, failure: Failure) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let owner = session.owner.clone();
        if let Link::Up(engine) = &mut session.link {
            if let Some(id) = engine.zap_pipe() {
                self.by_pipe.remove(&id);
            }
            engine.flush_best_effort();
            if !matches!(failure, Failure::Done) {
                engine.lost(&mut session.pipes);
            }
            // Not `is_active`: a connection that failed after its
            // handshake (heartbeat timeout, a bad frame) is not active any
            // more, yet its handshake did not fail.
            let handshaken = engine.handshaken();
            match &failure {
                Failure::Done => {}
                Failure::Protocol(e) if !handshaken => {
                    use zlink_mq_core::zmtp::Error;
                    // As libzmq: an authentication failure carries the ZAP
                    // status code, on the server that refused (the ZAP
                    // handler's, 400 from a callback) and on the client it
                    // refused.
                    let (kind, value) = match e {
                        Error::AuthenticationFailed => (
                            EventKind::HandshakeFailedAuth,
                            u32::from(engine.zap_status().unwrap_or(400)),
                        ),
                        Error::PeerError => match engine.peer_error_status() {
                            Some(status) => (EventKind::HandshakeFailedAuth, u32::from(status)),
                            None => (EventKind::HandshakeFailedProtocol, 0),
                        },
                        Error::HandshakeTimeout => (EventKind::HandshakeFailedNoDetail, 0),
                        _ => (EventKind::HandshakeFailedProtocol, 0),
                    };
                    owner.event(Event::new(kind, value, &owner.endpoint).because(e));
                }
                Failure::Zap(e) => {
                    // As libzmq: a malformed reply is a protocol error with
                    // its ZAP code; no handler under ZAP_ENFORCE_DOMAIN
                    // fails with EFAULT and no detail.
                    let (kind, value) = match e.protocol_code() {
                        Some(code) => (EventKind::HandshakeFailedProtocol, code),
                        None => (EventKind::HandshakeFailedNoDetail, e.errno()),
                    };
                    owner.event(Event::new(kind, value, &owner.endpoint).because(e));
                }
                // As libzmq: the stream ending during the handshake is a
                // handshake failure without detail, with the errno.
                Failure::Eof if !handshaken => owner.event(
                    Event::new(EventKind::HandshakeFailedNoDetail, 32, &owner.endpoint)
                        .because(&failure),
                ),
                Failure::Io(e) if !handshaken => owner.event(
                    Event::new(
                        EventKind::HandshakeFailedNoDetail,
                        e.raw_os_error().unwrap_or(0) as u32,
                        &owner.endpoint,
                    )
                    .because(e),
                ),
                _ => {}
            }
        }
        if matches!(failure, Failure::Done) {
            self.start_draining(key);
            return;
        }
        owner.event(Event::new(EventKind::Disconnected, 0, &owner.endpoint).because(&failure));
        if refused_handshake(&failure, &session.link)
            && matches!(session.role, Role::Connecter { .. })
        {
            // As libzmq 4.3: a handshake that failed on a protocol error
            // (the server's ERROR, a refused peer, a malformed command) is
            // not retried; a timeout or a lost stream is.
            self.close_session(key);
            return;
        }
        self.connection_lost(key);
    }

    /// Everything is written: shuts our direction and waits for the peer
    /// to close (see [`Drain`]).
    pub(super) fn start_draining(&mut self, key: usize) {
        let now = self.now();
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let Link::Up(engine) = &mut session.link else {
            // Draining already, or not connected.
            if !matches!(session.link, Link::Draining(..)) {
                self.close_session(key);
            }
            return;
        };
        let unsent = match engine.unsent() {
            Ok(n) if n > 0 && engine.shutdown_write().is_ok() => n,
            // All taken already, or the stream is broken: nothing to wait for.
            _ => {
                self.close_session(key);
                return;
            }
        };
        let Link::Up(engine) = std::mem::replace(&mut session.link, Link::Idle) else {
            unreachable!("matched above");
        };
        let drain = Drain {
            unsent,
            progress_at: now,
            next_check: now + Drain::FIRST_CHECK,
            interval: Drain::FIRST_CHECK,
        };
        session.link = Link::Draining(engine, drain);
        self.set_interest(key, Some(Interest::READ));
        self.reschedule(key);
        self.drain(key);
    }

    /// A draining session's timer: closes it once the peer has taken every
    /// byte or stopped taking them; otherwise looks again later.
    pub(super) fn check_drain(&mut self, key: usize, now: Instant) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let Link::Draining(engine, drain) = &mut session.link else {
            return;
        };
        let done = match engine.unsent() {
            Ok(0) | Err(_) => true,
            Ok(n) => {
                if n < drain.unsent {
                    drain.unsent = n;
                    drain.progress_at = now;
                }
                now.saturating_duration_since(drain.progress_at) >= Drain::STALL
            }
        };
        if done {
            self.close_session(key);
            return;
        }
        drain.interval = (drain.interval * 2).min(Drain::MAX_INTERVAL);
        drain.next_check = now + drain.interval;
        self.reschedule(key);
    }

    /// Discards what a draining session's peer sends; closes the session
    /// once the peer has closed its side.
    pub(super) fn drain(&mut self, key: usize) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let Link::Draining(engine, _) = &mut session.link else {
            return;
        };
        if !matches!(engine.drain_input(), Ok(false)) {
            self.close_session(key);
        }
    }

    /// The stream is gone: an accepted session ends; a connecter keeps its
    /// pipes (unless IMMEDIATE) and reconnects (but for STREAM's).
    pub(super) fn connection_lost(&mut self, key: usize) {
        self.set_interest(key, None);
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let link = std::mem::replace(&mut session.link, Link::Idle);
        let closing = session.closing;
        match (&session.role, session.persistent) {
            // A STREAM connection is not remade once lost: the socket knew
            // it by a routing id that ends with it (libzmq ends a raw
            // session with its pipe).
            _ if session.owner.socket_type == SocketType::Stream => {
                drop(link);
                self.close_session(key);
            }
            // A closed socket's session reconnects too while it has
            // messages to deliver (`retry_later` decides).
            (Role::Connecter { .. }, true) => {
                if let Link::Up(engine) = &link {
                    if let Some(p) = &mut session.pipes {
                        if engine.in_message() {
                            // The socket must not see half a message.
                            p.tx.rollback();
                        }
                    }
                    session.skip_outbound = engine.out_message_open();
                }
                drop(link);
                self.retry_later(key);
            }
            (Role::Connecter { .. }, false) if !closing => {
                drop(link);
                self.detach_pipes(key);
                self.retry_later(key);
            }
            _ => {
                drop(link);
                self.close_session(key);
            }
        }
    }

    pub(super) fn detach_pipes(&mut self, key: usize) {
        if let Some(session) = self.sessions.get_mut(key) {
            session.pipes = None;
            if let Some(id) = session.pipe_id.take() {
                self.by_pipe.remove(&id);
            }
        }
    }

    pub(super) fn close_session(&mut self, key: usize) {
        self.set_interest(key, None);
        if let Some(session) = self.sessions.remove(key) {
            if let Some(id) = session.pipe_id {
                self.by_pipe.remove(&id);
            }
            // A closed socket's monitor is gone or going (it stops with
            // its socket): nothing is reported for the connections it
            // drops, so that no event races MONITOR_STOPPED.
            if !session.closing && matches!(session.link, Link::Up(_) | Link::Draining(..)) {
                session
                    .owner
                    .event(Event::new(EventKind::Closed, 0, &session.owner.endpoint));
            }
            // Dropping the pipes ends them for the socket.
        }
    }
}
