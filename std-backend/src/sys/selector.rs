//! Readiness notification over many descriptors: epoll.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use rustix::buffer::spare_capacity;
use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
use rustix::io::Errno;

/// What a registration waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest {
    /// Wake when readable (or hung up).
    pub read: bool,
    /// Wake when writable.
    pub write: bool,
}

impl Interest {
    /// Readable only.
    pub const READ: Self = Self {
        read: true,
        write: false,
    };
    /// Readable and writable.
    pub const READ_WRITE: Self = Self {
        read: true,
        write: true,
    };

    fn flags(self) -> EventFlags {
        // Level-triggered: a registration keeps reporting readiness until the
        // owner acts on it, so a partially drained socket is never forgotten.
        let mut f = EventFlags::RDHUP;
        if self.read {
            f |= EventFlags::IN;
        }
        if self.write {
            f |= EventFlags::OUT;
        }
        f
    }
}

/// One readiness report: the registration's token and what is ready.
#[derive(Debug, Clone, Copy)]
pub struct Ready {
    /// The token given at registration.
    pub token: u64,
    /// Readable, or the peer hung up / an error is pending (a read will say
    /// which).
    pub readable: bool,
    /// Writable, or an error is pending.
    pub writable: bool,
}

/// An epoll instance.
pub struct Selector {
    epoll: OwnedFd,
    events: Vec<Event>,
}

impl Selector {
    /// A new, empty selector.
    pub fn new() -> io::Result<Self> {
        Ok(Self {
            epoll: epoll::create(CreateFlags::CLOEXEC)?,
            events: Vec::with_capacity(256),
        })
    }

    /// Starts watching `fd` for `interest`, reporting `token`.
    pub fn add(&self, fd: impl AsFd, token: u64, interest: Interest) -> io::Result<()> {
        Ok(epoll::add(
            &self.epoll,
            fd,
            EventData::new_u64(token),
            interest.flags(),
        )?)
    }

    /// Changes what `fd` is watched for.
    pub fn modify(&self, fd: impl AsFd, token: u64, interest: Interest) -> io::Result<()> {
        Ok(epoll::modify(
            &self.epoll,
            fd,
            EventData::new_u64(token),
            interest.flags(),
        )?)
    }

    /// Stops watching `fd`.
    pub fn delete(&self, fd: impl AsFd) -> io::Result<()> {
        Ok(epoll::delete(&self.epoll, fd)?)
    }

    /// Waits until something is ready or `timeout` passes (`None`: forever)
    /// and calls `f` for every readiness report.
    pub fn wait(&mut self, timeout: Option<Duration>, mut f: impl FnMut(Ready)) -> io::Result<()> {
        let ts = super::timespec(timeout);
        self.events.clear();
        loop {
            match epoll::wait(&self.epoll, spare_capacity(&mut self.events), ts.as_ref()) {
                Ok(_) => break,
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        for ev in &self.events {
            let flags = ev.flags;
            let bad = flags.intersects(EventFlags::ERR | EventFlags::HUP | EventFlags::RDHUP);
            f(Ready {
                token: ev.data.u64(),
                readable: flags.contains(EventFlags::IN) || bad,
                writable: flags.contains(EventFlags::OUT) || flags.contains(EventFlags::ERR),
            });
        }
        Ok(())
    }
}

impl std::fmt::Debug for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Selector")
            .field("epoll", &self.epoll)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Signaler;

    #[test]
    fn reports_a_signaled_fd_with_its_token() {
        let mut sel = Selector::new().unwrap();
        let sig = Signaler::new().unwrap();
        sel.add(sig.fd(), 42, Interest::READ).unwrap();
        let mut seen = Vec::new();
        sel.wait(Some(Duration::ZERO), |r| seen.push(r.token))
            .unwrap();
        assert!(seen.is_empty());
        sig.signal();
        sel.wait(Some(Duration::from_secs(1)), |r| {
            assert!(r.readable);
            seen.push(r.token)
        })
        .unwrap();
        assert_eq!(seen, [42]);
        sel.delete(sig.fd()).unwrap();
    }
}
