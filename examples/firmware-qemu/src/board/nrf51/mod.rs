//! QEMU's `microbit` (BBC micro:bit v1: a Nordic nRF51822, Cortex-M0 with
//! 256 KiB of flash, 16 KiB of RAM and one UART).
//!
//! The nRF51 has no SysTick (QEMU provides one anyway, the part does
//! not): the millisecond clock is TIMER0, at 1 MHz with a compare every
//! 1000 counts.

pub mod uart;

use core::ptr;

use cortex_m::peripheral::NVIC;

use super::clock::{self, Clock};
use super::stack::StackMeter;
use uart::{Port, RxWake, Uart};

/// HFCLK, the clock of the UART's baud-rate generator and of TIMER0:
/// 16 MHz on every nRF51.
pub const SYSCLK_HZ: u32 = 16_000_000;

/// The UART line rate. QEMU ignores it; a real board's peer must match.
pub const BAUD: u32 = 115_200;

/// CLOCK: start the 16 MHz crystal oscillator (the internal RC one is too
/// inaccurate for a UART), and its "started" event.
const CLOCK_TASKS_HFCLKSTART: usize = 0x4000_0000;
const CLOCK_EVENTS_HFCLKSTARTED: usize = 0x4000_0100;

/// TIMER0 and the registers the clock uses (nRF51 reference manual,
/// "Timer/counter").
const TIMER0: usize = 0x4000_8000;
const TIMER_TASKS_START: usize = 0x000;
const TIMER_EVENTS_COMPARE0: usize = 0x140;
const TIMER_SHORTS: usize = 0x200;
const TIMER_INTENSET: usize = 0x304;
const TIMER_MODE: usize = 0x504;
const TIMER_BITMODE: usize = 0x508;
const TIMER_PRESCALER: usize = 0x510;
const TIMER_CC0: usize = 0x540;
/// SHORTS: COMPARE[0] clears the counter.
const SHORTS_COMPARE0_CLEAR: u32 = 1 << 0;
/// INTENSET: COMPARE[0].
const INT_COMPARE0: u32 = 1 << 16;
/// TIMER0's interrupt line (its address bits 12..16).
const TIMER0_IRQ: u16 = 8;

fn write(addr: usize, value: u32) {
    // SAFETY: `addr` is one of the CLOCK or TIMER0 registers above, all
    // 32-bit, written as the reference manual allows; only `Board::take`
    // and the TIMER0 handler write them.
    unsafe { ptr::write_volatile(addr as *mut u32, value) }
}

fn read(addr: usize) -> u32 {
    // SAFETY: as in `write`; reading an event register has no effect.
    unsafe { ptr::read_volatile(addr as *const u32) }
}

/// Everything the firmware uses, handed out once; take it apart
/// (`let Board { uart0, clock, .. } = board`).
#[derive(Debug)]
pub struct Board {
    /// The UART (QEMU's `-serial`), on the micro:bit's USB interface
    /// pins P0.24 (TXD) and P0.25 (RXD).
    pub uart0: Uart,
    /// Milliseconds since [`Board::take`].
    pub clock: Clock,
    /// The stack's high-water mark since [`Board::take`].
    pub stack: StackMeter,
    /// The low-power wait of the main loop.
    pub idle: Idle,
}

impl Board {
    /// Brings the board up: paints the free stack, starts the crystal
    /// oscillator, TIMER0 at 1 kHz and the UART (8N1). `None` after the
    /// first call.
    pub fn take() -> Option<Board> {
        cortex_m::Peripherals::take()?;
        let stack = StackMeter::paint();
        write(CLOCK_TASKS_HFCLKSTART, 1);
        while read(CLOCK_EVENTS_HFCLKSTARTED) == 0 {}
        start_timer0();
        // SAFETY: the UART handler only masks the RX interrupt
        // (`uart::on_interrupt`), TIMER0's clears its event and counts a
        // millisecond; nothing relies on either staying masked.
        unsafe {
            NVIC::unmask(Port::Uart0.irq());
            NVIC::unmask(uart::Irq(TIMER0_IRQ));
        }
        Some(Board {
            uart0: Uart::new(Port::Uart0, BAUD),
            clock: Clock::new(),
            stack,
            idle: Idle {
                wake: RxWake::new(Port::Uart0),
            },
        })
    }
}

/// TIMER0 as a 1 kHz tick: 16 MHz / 2^4 = 1 MHz, a compare at 1000 that
/// clears the counter and interrupts.
fn start_timer0() {
    write(TIMER0 + TIMER_MODE, 0);
    write(TIMER0 + TIMER_BITMODE, 0);
    write(TIMER0 + TIMER_PRESCALER, 4);
    write(TIMER0 + TIMER_CC0, 1000);
    write(TIMER0 + TIMER_SHORTS, SHORTS_COMPARE0_CLEAR);
    write(TIMER0 + TIMER_INTENSET, INT_COMPARE0);
    write(TIMER0 + TIMER_TASKS_START, 1);
}

/// Sleeping between polls.
#[derive(Debug)]
pub struct Idle {
    wake: RxWake,
}

impl Idle {
    /// Sleeps until the UART has received a byte or the next tick (at most
    /// 1 ms). Interrupts are masked while the receive interrupt is armed
    /// and the event checked, so a byte that arrives in between still ends
    /// the sleep (WFI wakes on a pending interrupt even when masked; its
    /// handler runs once they are unmasked).
    pub fn wait(&mut self, ports: &[Port]) {
        cortex_m::interrupt::free(|_| {
            let mut input = false;
            for _ in ports {
                self.wake.arm();
                input |= self.wake.has_input();
            }
            if !input {
                cortex_m::asm::wfi();
            }
        });
    }

    /// Sleeps until `port` has received a byte: how the firmware learns
    /// that its peer is there (see the LM3S6965 board's `until_input`).
    pub fn until_input(&mut self, port: Port) {
        while !self.wake.has_input() {
            self.wait(&[port]);
        }
    }
}

/// Every interrupt without a handler of its own: the UART's and TIMER0's
/// (the others are never enabled).
#[cortex_m_rt::exception]
// SAFETY (cortex-m-rt asks `unsafe fn` of a DefaultHandler, since it runs
// for any vector): it masks the UART's receive interrupt or clears
// TIMER0's compare event and counts a millisecond.
unsafe fn DefaultHandler(irqn: i16) {
    if irqn == TIMER0_IRQ as i16 {
        write(TIMER0 + TIMER_EVENTS_COMPARE0, 0);
        clock::tick();
    } else {
        uart::on_interrupt(irqn);
    }
}
