//! Connections through a SOCKS proxy: between the TCP connection to the
//! proxy and the engine, the SOCKS handshake ([`Socks`]).

use super::*;

impl IoThread {
    /// Drives the SOCKS handshake of a session connected to its proxy;
    /// starts the engine once the proxy connected us to the peer, or
    /// retries later if it did not.
    pub(super) fn socks_ready(&mut self, key: usize) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let Link::Socks(socks) = &mut session.link else {
            return;
        };
        match socks.advance() {
            Ok(false) => {
                let interest = socks.interest();
                self.set_interest(key, Some(interest));
            }
            Ok(true) => {
                // The stream leaves epoll here and comes back with its
                // engine.
                self.set_interest(key, None);
                let session = self.sessions.get_mut(key).expect("present");
                let Link::Socks(socks) = std::mem::replace(&mut session.link, Link::Idle) else {
                    unreachable!("matched above");
                };
                let stream = socks.stream;
                let owner = session.owner.clone();
                // As libzmq, CONNECTED once the proxy has connected us.
                owner.event(Event::new(
                    EventKind::Connected,
                    raw_fd(&stream),
                    &owner.endpoint,
                ));
                if let Role::Connecter { next_ivl, .. } = &mut session.role {
                    *next_ivl = owner.reconnect_ivl.unwrap_or(Duration::ZERO);
                }
                self.start_engine(key, stream);
            }
            Err(_) => {
                self.set_interest(key, None);
                if let Some(session) = self.sessions.get_mut(key) {
                    session.link = Link::Idle;
                }
                self.retry_later(key);
            }
        }
    }
}
