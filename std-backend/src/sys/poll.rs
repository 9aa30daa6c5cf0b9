//! poll(2) over a few descriptors, for the user-facing poller (the I/O
//! threads use the epoll [`Selector`](super::Selector)).

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags};
use rustix::io::Errno;

use super::Interest;

/// What poll reported for one descriptor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Revents {
    /// Readable, hung up, or an error is pending (a read will say which).
    pub readable: bool,
    /// Writable, or an error is pending.
    pub writable: bool,
}

/// Waits until one of `fds` is ready as its interest says, or `timeout`
/// passes (`None`: forever; zero: just look), and writes what each is
/// ready for into `out` (same order). Returns the number of ready
/// descriptors. Interrupted waits are resumed with the time left.
pub(crate) fn poll(
    fds: &[(BorrowedFd<'_>, Interest)],
    timeout: Option<Duration>,
    out: &mut Vec<Revents>,
) -> io::Result<usize> {
    let mut pollfds: Vec<PollFd<'_>> = fds
        .iter()
        .map(|(fd, interest)| {
            let mut flags = PollFlags::empty();
            if interest.read {
                flags |= PollFlags::IN;
            }
            if interest.write {
                flags |= PollFlags::OUT;
            }
            PollFd::from_borrowed_fd(*fd, flags)
        })
        .collect();
    // A timeout too long to add to `now` is no deadline at all.
    let deadline = timeout.and_then(|t| std::time::Instant::now().checked_add(t));
    let n = loop {
        let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        let ts = super::timespec(left);
        match rustix::event::poll(&mut pollfds, ts.as_ref()) {
            Ok(n) => break n,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    out.clear();
    out.extend(pollfds.iter().map(|p| {
        let r = p.revents();
        let bad = r.intersects(PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL);
        Revents {
            readable: r.contains(PollFlags::IN) || bad,
            writable: r.contains(PollFlags::OUT) || r.contains(PollFlags::ERR),
        }
    }));
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Signaler;

    #[test]
    fn reports_each_descriptor_in_order() {
        let a = Signaler::new().unwrap();
        let b = Signaler::new().unwrap();
        let mut out = Vec::new();
        let fds = [(a.fd(), Interest::READ), (b.fd(), Interest::READ)];
        assert_eq!(poll(&fds, Some(Duration::ZERO), &mut out).unwrap(), 0);
        assert_eq!(out, [Revents::default(); 2]);
        b.signal();
        assert_eq!(poll(&fds, None, &mut out).unwrap(), 1);
        assert!(!out[0].readable);
        assert!(out[1].readable);
    }
}
