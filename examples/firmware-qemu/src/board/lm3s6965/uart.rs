//! The LM3S6965's UARTs (an ARM PL011 with Stellaris additions) as
//! `embedded_io` streams: what the socket's [`attach`] takes.
//!
//! The socket never blocks on its stream: it reads only when
//! [`ReadReady`] says bytes wait in the receive FIFO and writes only when
//! [`WriteReady`] says the transmit FIFO has room. So the driver is plain
//! polled I/O over the 16-byte FIFOs; the receive interrupt only wakes
//! the processor from [`Idle::wait`](super::Idle::wait).
//!
//! On a real LM3S6965 the UART's pins must also be given to it (GPIO
//! alternate function, e.g. PA0 / PA1 for UART0); QEMU needs no pins, so
//! this driver does not touch the GPIO ports.
//!
//! [`attach`]: zlink_mq_core::socket::Socket::attach

use core::fmt;
use core::ptr;

use cortex_m::interrupt::InterruptNumber;
use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};

// Register offsets and bits (LM3S6965 data sheet, "UART Register Map").
const DR: usize = 0x000;
const ECR: usize = 0x004;
const FR: usize = 0x018;
const IBRD: usize = 0x024;
const FBRD: usize = 0x028;
const LCRH: usize = 0x02c;
const CTL: usize = 0x030;
const IM: usize = 0x038;

const DR_OE: u32 = 1 << 11;
const DR_BE: u32 = 1 << 10;
const DR_PE: u32 = 1 << 9;
const DR_FE: u32 = 1 << 8;
const FR_TXFF: u32 = 1 << 5;
const FR_RXFE: u32 = 1 << 4;
const FR_BUSY: u32 = 1 << 3;
const LCRH_WLEN_8: u32 = 0b11 << 5;
const LCRH_FEN: u32 = 1 << 4;
const CTL_RXE: u32 = 1 << 9;
const CTL_TXE: u32 = 1 << 8;
const CTL_UARTEN: u32 = 1 << 0;
/// Receive and receive-timeout interrupts.
const IM_RX: u32 = (1 << 4) | (1 << 6);

/// System control: run-mode clock gating of the UARTs (RCGC1, bit n =
/// UARTn).
const SYSCTL_RCGC1: usize = 0x400f_e104;

/// One of the three UARTs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// UART0, at 0x4000_C000, interrupt 5.
    Uart0 = 0,
    /// UART1, at 0x4000_D000, interrupt 6.
    Uart1 = 1,
    /// UART2, at 0x4000_E000, interrupt 33.
    Uart2 = 2,
}

impl Port {
    const fn base(self) -> usize {
        0x4000_c000 + 0x1000 * self as usize
    }

    /// Its interrupt line.
    pub(crate) const fn irq(self) -> Irq {
        match self {
            Port::Uart0 => Irq(5),
            Port::Uart1 => Irq(6),
            Port::Uart2 => Irq(33),
        }
    }

    fn from_irq(irqn: i16) -> Option<Port> {
        match irqn {
            5 => Some(Port::Uart0),
            6 => Some(Port::Uart1),
            33 => Some(Port::Uart2),
            _ => None,
        }
    }

    fn read(self, offset: usize) -> u32 {
        // SAFETY: `base + offset` is one of this UART's 32-bit registers
        // (the offsets above); a volatile read of a PL011 register has no
        // effect beyond the documented ones (reading DR pops the FIFO,
        // which only `Uart::read` does).
        unsafe { ptr::read_volatile((self.base() + offset) as *const u32) }
    }

    fn write(self, offset: usize, value: u32) {
        // SAFETY: as in `read`: a register of this UART, written as the
        // data sheet allows.
        unsafe { ptr::write_volatile((self.base() + offset) as *mut u32, value) }
    }
}

/// An NVIC interrupt number of this part.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Irq(u16);

// SAFETY: the numbers are the LM3S6965's UART interrupt lines, all below
// its 43 interrupts.
unsafe impl InterruptNumber for Irq {
    fn number(self) -> u16 {
        self.0
    }
}

/// Gives `port` its clock (the registers do not respond before).
pub(crate) fn enable_clock(port: Port) {
    // SAFETY: RCGC1 is a read-write system-control register; setting a
    // UART's bit only enables that UART's clock. Called from
    // `Board::take` only, before interrupts use the UARTs.
    unsafe {
        let rcgc1 = SYSCTL_RCGC1 as *mut u32;
        let v = ptr::read_volatile(rcgc1);
        ptr::write_volatile(rcgc1, v | 1 << port as u32);
    }
    // The data sheet asks for a few clocks before the registers respond.
    cortex_m::asm::delay(3);
}

/// A receive line error: the byte stream has lost or corrupted bytes, so
/// the ZMTP connection over it cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UartError {
    /// The receive FIFO overflowed: bytes were lost.
    Overrun,
    /// The line was held low for longer than a character (BREAK).
    Break,
    /// A character failed its parity check.
    Parity,
    /// A character had no valid stop bit.
    Framing,
}

impl fmt::Display for UartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UartError::Overrun => "UART receive overrun",
            UartError::Break => "UART break",
            UartError::Parity => "UART parity error",
            UartError::Framing => "UART framing error",
        })
    }
}

impl core::error::Error for UartError {}

impl embedded_io::Error for UartError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidData
    }
}

/// A UART, 8 data bits, no parity, one stop bit, FIFOs on.
#[derive(Debug)]
pub struct Uart {
    port: Port,
}

impl Uart {
    /// Configures `port` for `baud` with a `sysclk_hz` processor clock.
    pub(crate) fn new(port: Port, sysclk_hz: u32, baud: u32) -> Uart {
        port.write(CTL, 0);
        // Divisor = sysclk / (16 * baud), as 16.6 fixed point, rounded.
        let div64 = (u64::from(sysclk_hz) * 4 + u64::from(baud) / 2) / u64::from(baud);
        port.write(IBRD, (div64 >> 6) as u32);
        port.write(FBRD, (div64 & 0x3f) as u32);
        // LCRH last: it latches the divisor.
        port.write(LCRH, LCRH_WLEN_8 | LCRH_FEN);
        port.write(ECR, 0);
        port.write(CTL, CTL_UARTEN | CTL_TXE | CTL_RXE);
        Uart { port }
    }

    /// Which UART this is.
    pub fn port(&self) -> Port {
        self.port
    }

    fn rx_empty(&self) -> bool {
        self.port.read(FR) & FR_RXFE != 0
    }

    fn tx_full(&self) -> bool {
        self.port.read(FR) & FR_TXFF != 0
    }
}

impl ErrorType for Uart {
    type Error = UartError;
}

impl ReadReady for Uart {
    fn read_ready(&mut self) -> Result<bool, UartError> {
        Ok(!self.rx_empty())
    }
}

impl Read for Uart {
    /// Waits for one byte, then takes what else the FIFO holds.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, UartError> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.rx_empty() {}
        let mut n = 0;
        while n < buf.len() && !self.rx_empty() {
            let word = self.port.read(DR);
            if word & (DR_OE | DR_BE | DR_PE | DR_FE) != 0 {
                self.port.write(ECR, 0);
                return Err(if word & DR_OE != 0 {
                    UartError::Overrun
                } else if word & DR_BE != 0 {
                    UartError::Break
                } else if word & DR_PE != 0 {
                    UartError::Parity
                } else {
                    UartError::Framing
                });
            }
            buf[n] = word as u8;
            n += 1;
        }
        Ok(n)
    }
}

impl WriteReady for Uart {
    fn write_ready(&mut self) -> Result<bool, UartError> {
        Ok(!self.tx_full())
    }
}

impl Write for Uart {
    /// Waits for room for one byte, then fills the FIFO.
    fn write(&mut self, buf: &[u8]) -> Result<usize, UartError> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.tx_full() {}
        let mut n = 0;
        while n < buf.len() && !self.tx_full() {
            self.port.write(DR, u32::from(buf[n]));
            n += 1;
        }
        Ok(n)
    }

    /// Waits until the last byte has left the shift register.
    fn flush(&mut self) -> Result<(), UartError> {
        while self.port.read(FR) & FR_BUSY != 0 {}
        Ok(())
    }
}

/// The part of a UART that [`Idle::wait`](super::Idle::wait) uses while
/// the socket owns the [`Uart`]: the interrupt mask, and a look at the
/// receive FIFO's state (never its data).
#[derive(Debug)]
pub(crate) struct RxWake {
    port: Port,
}

impl RxWake {
    pub(crate) fn new(port: Port) -> RxWake {
        RxWake { port }
    }

    /// Lets received bytes raise the UART's interrupt (masked again by
    /// the handler).
    pub(crate) fn arm(&mut self) {
        self.port.write(IM, IM_RX);
    }

    /// Whether bytes wait in the receive FIFO.
    pub(crate) fn has_input(&self) -> bool {
        self.port.read(FR) & FR_RXFE == 0
    }
}

/// A UART interrupt: mask it again (its only job was to end a WFI; the
/// main loop reads the bytes).
pub(crate) fn on_interrupt(irqn: i16) {
    if let Some(port) = Port::from_irq(irqn) {
        port.write(IM, 0);
    }
}
