//! Lines to the host over semihosting, and QEMU's exit status.
//!
//! Lines are put together in a fixed buffer from strings, bytes and
//! decimal numbers, without `core::fmt`: formatting an error's cause
//! (the socket's errors nest the ZMTP engine's, each with its text) costs
//! about 6 KiB of flash, a fifth of the firmware. So by default a failure
//! names what failed; the `reasons` feature adds why, formatted, and the
//! panic message.

use core::panic::PanicInfo;

use cortex_m_semihosting::{debug, hio};

use crate::board::stack::StackMeter;

/// One line of output, up to 160 bytes (longer is cut).
#[derive(Debug, Default)]
pub struct Line(heapless::Vec<u8, 160>);

impl Line {
    /// An empty line.
    pub fn new() -> Line {
        Line(heapless::Vec::new())
    }

    /// Appends bytes, as far as they fit.
    pub fn bytes(mut self, b: &[u8]) -> Line {
        let room = self.0.capacity() - self.0.len();
        let _ = self.0.extend_from_slice(&b[..b.len().min(room)]);
        self
    }

    /// Appends text.
    pub fn str(self, s: &str) -> Line {
        self.bytes(s.as_bytes())
    }

    /// Appends a number in decimal.
    pub fn num(self, n: u32) -> Line {
        let mut digits = [0u8; 10];
        self.bytes(decimal(n, &mut digits))
    }

    /// Writes the line and a newline to the host's stdout.
    pub fn print(self) {
        if let Ok(mut out) = hio::hstdout() {
            let _ = out.write_all(&self.0);
            let _ = out.write_all(b"\n");
        }
    }
}

/// `n` in decimal, in the tail of `buf` (32-bit: a 64-bit division
/// would bring in almost 1 KiB of compiler-builtins).
pub fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// Prints `FAIL: what` and ends QEMU with a failure status.
pub fn fail(what: &str) -> ! {
    Line::new().str("FAIL: ").str(what).print();
    exit(false)
}

/// Prints `FAIL: what: why` (with the `reasons` feature; else `FAIL:
/// what`) and ends QEMU with a failure status.
pub fn fail_with(what: &str, why: &impl core::fmt::Display) -> ! {
    #[cfg(feature = "reasons")]
    if let Ok(mut out) = hio::hstdout() {
        use core::fmt::Write as _;
        let _ = writeln!(out, "FAIL: {what}: {why}");
        exit(false)
    }
    let _ = why;
    Line::new()
        .str("FAIL: ")
        .str(what)
        .str(" (--features reasons says why)")
        .print();
    exit(false)
}

/// Prints the stack's peak use: `stack: peak N of M bytes`.
pub fn stack(meter: &StackMeter) {
    Line::new()
        .str("stack: peak ")
        .num(meter.peak() as u32)
        .str(" of ")
        .num(meter.size() as u32)
        .str(" bytes")
        .print();
}

/// Ends QEMU: status 0 if `ok`, else 1 (semihosting SYS_EXIT).
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    // Not under a debugger or QEMU: stay here.
    loop {
        cortex_m::asm::wfi();
    }
}

pub(crate) fn panicked(info: &PanicInfo) -> ! {
    #[cfg(feature = "reasons")]
    if let Ok(mut out) = hio::hstdout() {
        use core::fmt::Write as _;
        let _ = writeln!(out, "PANIC: {info}");
        exit(false)
    }
    let mut line = Line::new().str("PANIC");
    if let Some(at) = info.location() {
        line = line.str(" at ").str(at.file()).str(":").num(at.line());
    }
    line.print();
    exit(false)
}

pub(crate) fn fault(pc: u32) -> ! {
    Line::new()
        .str("FAIL: hard fault at pc 0x")
        .bytes(&hex(pc))
        .print();
    exit(false)
}

fn hex(v: u32) -> [u8; 8] {
    core::array::from_fn(|i| b"0123456789abcdef"[(v >> (28 - 4 * i) & 0xf) as usize])
}
