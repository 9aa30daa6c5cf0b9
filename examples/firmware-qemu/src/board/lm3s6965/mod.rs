//! QEMU's `lm3s6965evb` (TI Stellaris LM3S6965: a Cortex-M3 with 256 KiB
//! of flash, 64 KiB of SRAM and three UARTs; with `-cpu cortex-m0` QEMU
//! runs the same machine with an ARMv6-M core, which is how the
//! `thumbv6m-none-eabi` build runs here).

pub mod uart;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{NVIC, SYST};

use super::clock::{self, Clock};
use super::stack::StackMeter;
use uart::{Port, RxWake, Uart};

/// The processor clock after reset: the LM3S6965's RCC resets with SYSDIV
/// = 16 and the PLL bypassed, which QEMU models as 200 MHz / 16.
pub const SYSCLK_HZ: u32 = 12_500_000;

/// The UART line rate. QEMU ignores it; a real board's peer must match.
pub const BAUD: u32 = 115_200;

/// Everything the firmware uses, handed out once; take it apart
/// (`let Board { uart0, clock, .. } = board`) to give each socket its
/// UART.
#[derive(Debug)]
pub struct Board {
    /// UART0 (QEMU's first `-serial`).
    pub uart0: Uart,
    /// UART1 (the second `-serial`).
    pub uart1: Uart,
    /// UART2 (the third `-serial`).
    pub uart2: Uart,
    /// Milliseconds since [`Board::take`].
    pub clock: Clock,
    /// The stack's high-water mark since [`Board::take`].
    pub stack: StackMeter,
    /// The low-power wait of the main loop.
    pub idle: Idle,
}

impl Board {
    /// Brings the board up: paints the free stack, starts the 1 kHz
    /// SysTick, clocks and configures the three UARTs (8N1, FIFOs on).
    /// `None` after the first call.
    pub fn take() -> Option<Board> {
        let core = cortex_m::Peripherals::take()?;
        let stack = StackMeter::paint();
        start_systick(core.SYST, SYSCLK_HZ);
        let ports = [Port::Uart0, Port::Uart1, Port::Uart2];
        for port in ports {
            uart::enable_clock(port);
            // SAFETY: the UART handlers only mask their own UART's RX
            // interrupt (`uart::on_interrupt`); nothing relies on them
            // staying masked.
            unsafe { NVIC::unmask(port.irq()) };
        }
        Some(Board {
            uart0: Uart::new(Port::Uart0, SYSCLK_HZ, BAUD),
            uart1: Uart::new(Port::Uart1, SYSCLK_HZ, BAUD),
            uart2: Uart::new(Port::Uart2, SYSCLK_HZ, BAUD),
            clock: Clock::new(),
            stack,
            idle: Idle {
                wake: ports.map(RxWake::new),
            },
        })
    }
}

/// Starts SysTick from the processor clock at 1 kHz, its interrupt
/// counting milliseconds for [`Clock`]. It keeps running once `syst` is
/// gone; nothing else takes the core peripherals.
fn start_systick(mut syst: SYST, sysclk_hz: u32) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(sysclk_hz / 1000 - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

#[cortex_m_rt::exception]
fn SysTick() {
    clock::tick();
}

/// Sleeping between polls.
#[derive(Debug)]
pub struct Idle {
    wake: [RxWake; 3],
}

impl Idle {
    /// Sleeps until one of `ports` has received a byte or the next SysTick
    /// (at most 1 ms). Interrupts are masked while the receive interrupts
    /// are armed and the FIFOs checked, so a byte that arrives in between
    /// still ends the sleep (WFI wakes on a pending interrupt even when
    /// masked; its handler runs once they are unmasked).
    pub fn wait(&mut self, ports: &[Port]) {
        cortex_m::interrupt::free(|_| {
            let mut input = false;
            for &port in ports {
                let wake = &mut self.wake[port as usize];
                wake.arm();
                input |= wake.has_input();
            }
            if !input {
                cortex_m::asm::wfi();
            }
        });
    }

    /// Sleeps until `port` has received a byte: how the firmware learns
    /// that its peer is there. A UART has no connection to open, so ZMTP
    /// over one starts when the peer speaks; libzmq sends its greeting as
    /// soon as it has a connection. Attaching the socket only then keeps
    /// its own greeting from going into a line nobody listens to yet
    /// (it would not be sent again, and the handshake would stall).
    pub fn until_input(&mut self, port: Port) {
        while !self.wake[port as usize].has_input() {
            self.wait(&[port]);
        }
    }
}

/// Every interrupt without a handler of its own: the UARTs' (the others
/// are never enabled).
#[cortex_m_rt::exception]
// SAFETY (cortex-m-rt asks `unsafe fn` of a DefaultHandler, since it runs
// for any vector): it only masks a UART's receive interrupt.
unsafe fn DefaultHandler(irqn: i16) {
    uart::on_interrupt(irqn);
}
