//! zlink-mq's `no_std` socket as Cortex-M firmware: the board support
//! for QEMU's `lm3s6965evb` and `microbit` ([`board`]), result lines and the exit status
//! over semihosting ([`report`]), and a panic handler that reports there
//! too. The programs are in `src/bin/`; `run.sh` boots them against
//! libzmq (pyzmq) over the emulated UARTs.
#![no_std]
#![deny(unsafe_code)]

// The board is the one place with `unsafe` (registers at fixed addresses,
// the linker's stack symbols), as `sys/` is in the std backend.
#[allow(unsafe_code)]
pub mod board;
pub mod exchange;
pub mod peer;
pub mod report;

use core::panic::PanicInfo;

/// Reports the panic on the host's stderr and ends QEMU with a failure
/// status (a firmware in the field would log it and reset instead).
#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    report::panicked(info)
}

/// A fault (a bad address, an ARMv7-M instruction on the M0, ...):
/// reported like a panic rather than left to hang until the timeout.
#[cortex_m_rt::exception]
#[allow(unsafe_code)] // cortex-m-rt's signature for HardFault is `unsafe fn`.
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    report::fault(frame.pc())
}
