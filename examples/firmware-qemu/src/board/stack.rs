//! The stack's high-water mark, for the RAM footprint: the free stack is
//! painted with a pattern at boot and scanned from the bottom for the
//! first word that is no longer the pattern.
//!
//! ```text
//!   _stack_end (end of .bss)                      _stack_start (end of RAM)
//!   [ pattern, never touched | used at some point | in use at boot  ]
//!                            ^ found by peak()               SP at paint()
//! ```

use core::ptr;

const PAINT: u32 = 0x5a5a_a5a5;

unsafe extern "C" {
    /// Top of the stack (end of RAM), from cortex-m-rt's `link.x`.
    static _stack_start: u32;
    /// Lowest address the stack may grow to (after `.bss` and `.uninit`),
    /// from cortex-m-rt's `link.x`.
    static _stack_end: u32;
}

/// Measures the stack's peak use.
#[derive(Debug)]
pub struct StackMeter {
    bottom: usize,
    top: usize,
}

impl StackMeter {
    /// Paints every word between the lowest stack address and the current
    /// stack pointer (less a margin for this function's own calls).
    pub(crate) fn paint() -> StackMeter {
        let bottom = ptr::addr_of!(_stack_end) as usize;
        let top = ptr::addr_of!(_stack_start) as usize;
        let sp = cortex_m::register::msp::read() as usize;
        let mut at = bottom;
        while at + 4 <= sp - 64 {
            // SAFETY: `[bottom, sp)` is RAM below the stack pointer and
            // above every static (there is no heap): nothing lives there,
            // and an interrupt frame pushed there meanwhile is gone again
            // before the painting resumes.
            unsafe { ptr::write_volatile(at as *mut u32, PAINT) };
            at += 4;
        }
        StackMeter { bottom, top }
    }

    /// Bytes of stack used at the deepest point so far.
    pub fn peak(&self) -> usize {
        let mut at = self.bottom;
        // SAFETY: as in `paint`: RAM owned by nobody but the stack, read
        // one aligned word at a time; the scan ends at the first word the
        // stack has written, well below the current stack pointer.
        while at < self.top && unsafe { ptr::read_volatile(at as *const u32) } == PAINT {
            at += 4;
        }
        self.top - at
    }

    /// Bytes between the end of the statics and the top of RAM.
    pub fn size(&self) -> usize {
        self.top - self.bottom
    }
}
