//! Board support: what the socket needs from a board, and nothing else:
//! - `uart::Uart`: a UART as an `embedded_io` byte stream;
//! - [`clock::Clock`]: milliseconds since boot, from SysTick;
//! - `Idle`: sleep until a UART has input or the next tick;
//! - [`stack::StackMeter`]: the stack's high-water mark, for the footprint.
//!
//! Two boards, chosen by feature: `lm3s6965` (the default: QEMU's
//! `lm3s6965evb`, three UARTs) and `microbit` (QEMU's `microbit`, an
//! nRF51822 Cortex-M0 with one UART). Both offer the same names
//! (`Board`, `Idle`, `uart::{Port, Uart}`), so the programs do not
//! change with the board.
//!
//! This is the only module with `unsafe`: register access at fixed
//! addresses, and the linker's stack symbols.

pub mod clock;
pub mod stack;

#[cfg(all(feature = "lm3s6965", feature = "microbit"))]
compile_error!("features `lm3s6965` and `microbit` choose the board: enable one");
#[cfg(not(any(feature = "lm3s6965", feature = "microbit")))]
compile_error!("no board: enable feature `lm3s6965` (the default) or `microbit`");

#[cfg(feature = "lm3s6965")]
mod lm3s6965;
#[cfg(feature = "lm3s6965")]
pub use lm3s6965::{BAUD, Board, Idle, SYSCLK_HZ, uart};

#[cfg(feature = "microbit")]
mod nrf51;
#[cfg(feature = "microbit")]
pub use nrf51::{BAUD, Board, Idle, SYSCLK_HZ, uart};
