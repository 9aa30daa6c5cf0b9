//! Milliseconds since boot from SysTick, the timer every Cortex-M has:
//! the `now` that the socket's `poll(now)` and `attach(.., now)` take.
//!
//! SysTick interrupts once a millisecond and its handler counts; a 32-bit
//! count wraps after 49 days, so [`Clock::now`] widens it to 64 bits (it
//! must be called at least once per wrap, which any main loop does).

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use zlink_mq_core::time::Instant;

/// Milliseconds since [`Clock::start`], modulo 2^32. Written only by the
/// SysTick handler (a load and a store, so ARMv6-M, which has no atomic
/// read-modify-write, needs nothing more).
static TICKS: AtomicU32 = AtomicU32::new(0);

/// The millisecond clock.
pub struct Clock {
    /// The SysTick peripheral, kept so nothing else reprograms it.
    _syst: SYST,
    /// The 32-bit count at the last [`now`](Clock::now), and the wraps
    /// seen so far.
    last: u32,
    wraps: u64,
}

impl Clock {
    /// Starts SysTick from the processor clock at 1 kHz.
    pub(crate) fn start(mut syst: SYST, sysclk_hz: u32) -> Clock {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(sysclk_hz / 1000 - 1);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        Clock {
            _syst: syst,
            last: 0,
            wraps: 0,
        }
    }

    /// Milliseconds since [`start`](Clock::start).
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

impl core::fmt::Debug for Clock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Clock")
            .field("last", &self.last)
            .field("wraps", &self.wraps)
            .finish_non_exhaustive()
    }
}

#[cortex_m_rt::exception]
fn SysTick() {
    // ORDERING: Relaxed: this handler is the only writer (it cannot
    // preempt itself), so load + store cannot lose a tick; readers only
    // need the value.
    let ticks = TICKS.load(Ordering::Relaxed);
    TICKS.store(ticks.wrapping_add(1), Ordering::Relaxed);
}
