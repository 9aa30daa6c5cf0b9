//! Time as the caller tells it.
//!
//! The core never reads a clock: every operation that depends on time takes
//! `now` as an [`Instant`], a count of milliseconds since an epoch of the
//! caller's choosing (boot, process start, `CLOCK_MONOTONIC`'s origin). Only
//! differences between instants mean anything, so any monotonic source
//! works. Durations are `core::time::Duration`, truncated to whole
//! milliseconds, which is the resolution of every ZeroMQ timer option.
#![forbid(unsafe_code)]

use core::ops::{Add, AddAssign, Sub};
use core::time::Duration;

/// A point in time: milliseconds since an arbitrary, caller-chosen epoch.
///
/// Arithmetic saturates instead of overflowing, so an absurd timeout (for
/// example `Duration::MAX`) means "never" rather than a panic.
///
/// ```
/// use core::time::Duration;
/// use zlink_mq_core::time::Instant;
///
/// let t0 = Instant::from_millis(1_000);
/// let t1 = t0 + Duration::from_millis(250);
/// assert_eq!(t1.as_millis(), 1_250);
/// assert_eq!(t1 - t0, Duration::from_millis(250));
/// assert_eq!(t0 - t1, Duration::ZERO); // saturates
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The epoch itself.
    pub const ZERO: Instant = Instant(0);
    /// The latest representable instant; used as "never".
    pub const MAX: Instant = Instant(u64::MAX);

    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Instant {
        Instant(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The instant `d` after this one, or `None` if that overflows.
    pub fn checked_add(self, d: Duration) -> Option<Instant> {
        let ms = u64::try_from(d.as_millis()).ok()?;
        self.0.checked_add(ms).map(Instant)
    }

    /// The time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Saturates at [`Instant::MAX`].
    fn add(self, d: Duration) -> Instant {
        self.checked_add(d).unwrap_or(Instant::MAX)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturates at zero.
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_millis(u64::MAX - 1);
        assert_eq!(t + Duration::from_millis(5), Instant::MAX);
        assert_eq!(Instant::ZERO + Duration::MAX, Instant::MAX);
        assert_eq!(Instant::ZERO.checked_add(Duration::MAX), None);
        let mut u = Instant::from_millis(10);
        u += Duration::from_micros(1_999); // truncated to 1 ms
        assert_eq!(u, Instant::from_millis(11));
        assert_eq!(Instant::ZERO - u, Duration::ZERO);
    }
}
