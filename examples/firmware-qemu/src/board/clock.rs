//! Milliseconds since boot: the `now` that the socket's `poll(now)` and
//! `attach(.., now)` take.
//!
//! The board's 1 kHz timer interrupt calls [`tick`] (SysTick on the
//! LM3S6965, TIMER0 on the nRF51, which has no SysTick); a 32-bit count
//! wraps after 49 days, so [`Clock::now`] widens it to 64 bits (it must be
//! called at least once per wrap, which any main loop does).

use core::sync::atomic::{AtomicU32, Ordering};

use zlink_mq_core::time::Instant;

/// Milliseconds since the timer started, modulo 2^32. Written only by the
/// timer's interrupt handler (a load and a store, so ARMv6-M, which has no
/// atomic read-modify-write, needs nothing more).
static TICKS: AtomicU32 = AtomicU32::new(0);

/// One millisecond has passed: called by the board's timer interrupt
/// handler only.
pub(crate) fn tick() {
    // ORDERING: Relaxed: the handler is the only writer (it cannot
    // preempt itself), so load + store cannot lose a tick; readers only
    // need the value.
    let ticks = TICKS.load(Ordering::Relaxed);
    TICKS.store(ticks.wrapping_add(1), Ordering::Relaxed);
}

/// The millisecond clock, handed out by the board once its timer runs.
#[derive(Debug)]
pub struct Clock {
    /// The 32-bit count at the last [`now`](Clock::now), and the wraps
    /// seen so far.
    last: u32,
    wraps: u64,
}

impl Clock {
    /// The clock of a timer that has just been started.
    pub(crate) fn new() -> Clock {
        Clock { last: 0, wraps: 0 }
    }

    /// Milliseconds since the board's timer started.
    pub fn now(&mut self) -> Instant {
        // ORDERING: Relaxed: the count is the only thing the handler
        // publishes; no other memory is read on the strength of it.
        let ticks = TICKS.load(Ordering::Relaxed);
        if ticks < self.last {
            self.wraps += 1;
        }
        self.last = ticks;
        Instant::from_millis(self.wraps << 32 | u64::from(ticks))
    }
}
