//! A cross-thread wake-up: an eventfd, or a pipe where eventfd is missing.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::event::{EventfdFlags, PollFd, PollFlags, eventfd, poll};
use rustix::io::Errno;

/// Wakes one waiting thread from any number of others.
///
/// `signal` makes the descriptor readable; `wait` blocks until it is (or the
/// timeout passes); `reset` makes it unreadable again. Signals do not queue
/// beyond "readable": many signals before a reset wake the owner once, which
/// is all a pipe reader needs (it drains every pipe after waking).
#[derive(Debug)]
pub struct Signaler {
    /// The descriptor the owner waits on (eventfd, or the pipe's read end).
    read: OwnedFd,
    /// The pipe's write end; `None` for an eventfd, which is written through
    /// `read` itself.
    write: Option<OwnedFd>,
}

impl Signaler {
    /// A new signaler, not signalled.
    pub fn new() -> io::Result<Self> {
        match eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK) {
            Ok(fd) => Ok(Self {
                read: fd,
                write: None,
            }),
            // Kernels or sandboxes without eventfd: fall back to a pipe.
            Err(Errno::NOSYS) | Err(Errno::INVAL) => {
                let (read, write) = rustix::pipe::pipe_with(
                    rustix::pipe::PipeFlags::CLOEXEC | rustix::pipe::PipeFlags::NONBLOCK,
                )?;
                Ok(Self {
                    read,
                    write: Some(write),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Makes the descriptor readable, waking a thread blocked in `wait`.
    pub fn signal(&self) {
        let one = 1u64.to_ne_bytes();
        let fd = self.write.as_ref().unwrap_or(&self.read);
        let buf: &[u8] = if self.write.is_some() {
            &one[..1]
        } else {
            &one
        };
        loop {
            match rustix::io::write(fd, buf) {
                // EAGAIN: the eventfd counter is at its maximum or the pipe
                // is full; either way the descriptor is already readable, so
                // the wake-up is not lost.
                Ok(_) | Err(Errno::AGAIN) => return,
                Err(Errno::INTR) => continue,
                // Any other error means the descriptor is broken; there is no
                // one to report it to from a writer thread, and the owner's
                // next wait will fail loudly on the same descriptor.
                Err(_) => return,
            }
        }
    }

    /// Blocks until signalled or until `timeout` passes (`None`: forever).
    /// Returns whether the descriptor is readable. Does not reset it.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let ts = super::timespec(timeout);
        let mut fds = [PollFd::new(&self.read, PollFlags::IN)];
        // A signal ends the wait (EINTR), as libzmq's blocking calls end,
        // so that the caller's signal handlers get to run.
        Ok(poll(&mut fds, ts.as_ref())? > 0)
    }

    /// Makes the descriptor unreadable again (consumes every signal so far).
    pub fn reset(&self) {
        let mut buf = [0u8; 64];
        loop {
            match rustix::io::read(&self.read, &mut buf) {
                // A pipe may hold more than one byte per read; an eventfd
                // counter is reset by one read.
                Ok(n) if self.write.is_some() && n == buf.len() => continue,
                Err(Errno::INTR) => continue,
                // Ok: drained. EAGAIN: was not signalled.
                _ => return,
            }
        }
    }

    /// The descriptor to register with a selector or poll: readable while
    /// signalled.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn signal_wakes_wait_and_reset_clears() {
        let s = Signaler::new().unwrap();
        assert!(!s.wait(Some(Duration::ZERO)).unwrap());
        s.signal();
        s.signal();
        assert!(s.wait(Some(Duration::ZERO)).unwrap());
        s.reset();
        assert!(!s.wait(Some(Duration::ZERO)).unwrap());
    }

    #[test]
    fn wakes_a_blocked_thread() {
        let s = Arc::new(Signaler::new().unwrap());
        let s2 = s.clone();
        let t = std::thread::spawn(move || s2.wait(None).unwrap());
        std::thread::sleep(Duration::from_millis(20));
        s.signal();
        assert!(t.join().unwrap());
    }

    #[test]
    fn wait_times_out() {
        let s = Signaler::new().unwrap();
        let start = Instant::now();
        assert!(!s.wait(Some(Duration::from_millis(10))).unwrap());
        assert!(start.elapsed() >= Duration::from_millis(10));
    }
}
