//! Timers: the handshake deadline and ZMTP 3.1 heartbeats (RFC 37 section
//! "Connection Heartbeating"), with libzmq's option semantics.
//!
//! ```text
//!   HEARTBEAT_IVL      every ivl, send PING (TTL = our HEARTBEAT_TTL)
//!   HEARTBEAT_TIMEOUT  armed when a PING goes out (default: ivl); any input
//!                      from the peer disarms it; firing = connection dead
//!   peer's TTL         armed when the peer's PING carries a TTL > 0; any
//!                      later input disarms it; firing = connection dead
//!   HANDSHAKE_IVL      armed at construction; disarmed when the handshake
//!                      completes; firing = connection dead
//! ```
//!
//! Timers sit in a fixed array indexed by [`Timer`]; the connection exposes
//! the earliest deadline as `poll_timeout` and fires expired ones in
//! `handle_timeout(now)`. Nothing here reads a clock.
#![forbid(unsafe_code)]

use core::time::Duration;

use crate::time::Instant;

/// The connection's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The handshake must be over by then (HANDSHAKE_IVL).
    Handshake = 0,
    /// Time to send the next PING (HEARTBEAT_IVL).
    Ping = 1,
    /// No input since our PING went out (HEARTBEAT_TIMEOUT).
    Timeout = 2,
    /// No input within the TTL the peer's PING asked for.
    Ttl = 3,
}

const TIMERS: [Timer; 4] = [Timer::Handshake, Timer::Ping, Timer::Timeout, Timer::Ttl];

/// Heartbeat settings, as libzmq's `ZMQ_HEARTBEAT_*` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Heartbeat {
    /// Send a PING this often once the handshake is done (`None`: never).
    pub ivl: Option<Duration>,
    /// Declare the peer dead when it sends nothing for this long after a
    /// PING; `None` means "same as `ivl`", as in libzmq.
    pub timeout: Option<Duration>,
    /// The TTL our PINGs ask the peer to apply to us (sent in tenths of a
    /// second, at most 6553.5 s); `None` or zero for no limit.
    pub ttl: Option<Duration>,
}

/// Deadlines, one slot per [`Timer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timers([Option<Instant>; 4]);

impl Timers {
    /// Arms `t` to fire at `at` (replacing any earlier deadline).
    pub fn set(&mut self, t: Timer, at: Instant) {
        self.0[t as usize] = Some(at);
    }

    /// Disarms `t`.
    pub fn clear(&mut self, t: Timer) {
        self.0[t as usize] = None;
    }

    /// Disarms every timer.
    pub fn clear_all(&mut self) {
        self.0 = [None; 4];
    }

    /// The deadline of `t`, if armed.
    pub fn get(&self, t: Timer) -> Option<Instant> {
        self.0[t as usize]
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }

    /// Disarms and returns the first timer (in [`Timer`] order) whose
    /// deadline is at or before `now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let t = TIMERS
            .into_iter()
            .find(|&t| self.get(t).is_some_and(|at| at <= now))?;
        self.clear(t);
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_and_expiry_order() {
        let mut t = Timers::default();
        assert_eq!(t.next(), None);
        t.set(Timer::Ping, Instant::from_millis(50));
        t.set(Timer::Handshake, Instant::from_millis(100));
        t.set(Timer::Ttl, Instant::from_millis(50));
        assert_eq!(t.next(), Some(Instant::from_millis(50)));
        assert_eq!(t.pop_expired(Instant::from_millis(49)), None);
        assert_eq!(t.pop_expired(Instant::from_millis(60)), Some(Timer::Ping));
        assert_eq!(t.pop_expired(Instant::from_millis(60)), Some(Timer::Ttl));
        assert_eq!(t.pop_expired(Instant::from_millis(60)), None);
        assert_eq!(t.next(), Some(Instant::from_millis(100)));
        t.clear_all();
        assert_eq!(t.next(), None);
    }
}
