//! The nRF51's UART (the one without DMA) as an `embedded_io` stream:
//! what the socket's [`attach`] takes.
//!
//! The socket never blocks on its stream: it reads only when
//! [`ReadReady`] says a byte waits and writes only when [`WriteReady`]
//! says the last one has gone. Bytes are received through RXD (behind a
//! 6-byte FIFO) and sent one at a time through TXD; the receive interrupt
//! only wakes the processor from [`Idle::wait`](super::Idle::wait).
//!
//! [`attach`]: zlink_mq_core::socket::Socket::attach

use core::fmt;
use core::ptr;

use cortex_m::interrupt::InterruptNumber;
use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};

const BASE: usize = 0x4000_2000;

// Register offsets (nRF51 reference manual, "UART").
const TASKS_STARTRX: usize = 0x000;
const TASKS_STARTTX: usize = 0x008;
const EVENTS_RXDRDY: usize = 0x108;
const EVENTS_TXDRDY: usize = 0x11c;
const EVENTS_ERROR: usize = 0x124;
const INTENSET: usize = 0x304;
const INTENCLR: usize = 0x308;
const ERRORSRC: usize = 0x480;
const ENABLE: usize = 0x500;
const PSELTXD: usize = 0x50c;
const PSELRXD: usize = 0x514;
const RXD: usize = 0x518;
const TXD: usize = 0x51c;
const BAUDRATE: usize = 0x524;

const ENABLE_UART: u32 = 4;
/// INTENSET / INTENCLR: RXDRDY.
const INT_RXDRDY: u32 = 1 << 2;
const ERRORSRC_OVERRUN: u32 = 1 << 0;
const ERRORSRC_PARITY: u32 = 1 << 1;
const ERRORSRC_FRAMING: u32 = 1 << 2;
/// The micro:bit's UART pins (to its USB interface chip).
const PIN_TXD: u32 = 24;
const PIN_RXD: u32 = 25;

/// The UART: the nRF51 has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// UART0, at 0x4000_2000, interrupt 2.
    Uart0 = 0,
}

impl Port {
    /// Its interrupt line.
    pub(crate) const fn irq(self) -> Irq {
        Irq(2)
    }
}

fn read(offset: usize) -> u32 {
    // SAFETY: `BASE + offset` is one of the UART's 32-bit registers (the
    // offsets above); reading RXD takes the received byte, which only
    // `Uart::read` does.
    unsafe { ptr::read_volatile((BASE + offset) as *const u32) }
}

fn write(offset: usize, value: u32) {
    // SAFETY: as in `read`: a UART register, written as the reference
    // manual allows.
    unsafe { ptr::write_volatile((BASE + offset) as *mut u32, value) }
}

/// An NVIC interrupt number of this part.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Irq(pub(crate) u16);

// SAFETY: the numbers used are the nRF51's UART0 (2) and TIMER0 (8)
// lines, below its 32 interrupts.
unsafe impl InterruptNumber for Irq {
    fn number(self) -> u16 {
        self.0
    }
}

/// A receive line error: the byte stream has lost or corrupted bytes, so
/// the ZMTP connection over it cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UartError {
    /// A byte arrived before the previous one was read: bytes were lost.
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

/// The UART, 8 data bits, no parity, one stop bit, no flow control.
#[derive(Debug)]
pub struct Uart {
    port: Port,
    /// A byte was written to TXD and TXDRDY has not said it is gone.
    sending: bool,
}

impl Uart {
    /// Configures the UART for `baud` (115200 or 9600) and starts both
    /// directions.
    pub(crate) fn new(port: Port, baud: u32) -> Uart {
        write(PSELTXD, PIN_TXD);
        write(PSELRXD, PIN_RXD);
        // BAUDRATE register values from the reference manual.
        write(
            BAUDRATE,
            if baud == 9600 {
                0x0027_5000
            } else {
                0x01d7_e000
            },
        );
        write(ENABLE, ENABLE_UART);
        write(EVENTS_RXDRDY, 0);
        write(EVENTS_TXDRDY, 0);
        write(EVENTS_ERROR, 0);
        write(TASKS_STARTRX, 1);
        write(TASKS_STARTTX, 1);
        Uart {
            port,
            sending: false,
        }
    }

    /// Which UART this is.
    pub fn port(&self) -> Port {
        self.port
    }

    fn tx_free(&mut self) -> bool {
        if self.sending && read(EVENTS_TXDRDY) != 0 {
            self.sending = false;
        }
        !self.sending
    }

    fn line_error(&self) -> Option<UartError> {
        if read(EVENTS_ERROR) == 0 {
            return None;
        }
        let src = read(ERRORSRC);
        // ERRORSRC bits are cleared by writing them back.
        write(ERRORSRC, src);
        write(EVENTS_ERROR, 0);
        Some(if src & ERRORSRC_OVERRUN != 0 {
            UartError::Overrun
        } else if src & ERRORSRC_PARITY != 0 {
            UartError::Parity
        } else if src & ERRORSRC_FRAMING != 0 {
            UartError::Framing
        } else {
            UartError::Break
        })
    }
}

impl ErrorType for Uart {
    type Error = UartError;
}

impl ReadReady for Uart {
    fn read_ready(&mut self) -> Result<bool, UartError> {
        Ok(read(EVENTS_RXDRDY) != 0)
    }
}

impl Read for Uart {
    /// Waits for one byte, then takes what else has arrived.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, UartError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut n = 0;
        while n < buf.len() {
            if let Some(e) = self.line_error() {
                return Err(e);
            }
            if read(EVENTS_RXDRDY) == 0 {
                if n > 0 {
                    break;
                }
                continue;
            }
            // The event first, then RXD: reading RXD moves the next byte
            // in and raises the event again.
            write(EVENTS_RXDRDY, 0);
            buf[n] = read(RXD) as u8;
            n += 1;
        }
        Ok(n)
    }
}

impl WriteReady for Uart {
    fn write_ready(&mut self) -> Result<bool, UartError> {
        Ok(self.tx_free())
    }
}

impl Write for Uart {
    /// Waits until the last byte has gone, then writes as many as go out
    /// at once (one, on a real line).
    fn write(&mut self, buf: &[u8]) -> Result<usize, UartError> {
        if buf.is_empty() {
            return Ok(0);
        }
        while !self.tx_free() {}
        let mut n = 0;
        while n < buf.len() && self.tx_free() {
            write(EVENTS_TXDRDY, 0);
            write(TXD, u32::from(buf[n]));
            self.sending = true;
            n += 1;
        }
        Ok(n)
    }

    /// Waits until the last byte has gone.
    fn flush(&mut self) -> Result<(), UartError> {
        while !self.tx_free() {}
        Ok(())
    }
}

/// The part of the UART that [`Idle::wait`](super::Idle::wait) uses while
/// the socket owns the [`Uart`]: the interrupt mask, and a look at the
/// receive event (never the data).
#[derive(Debug)]
pub(crate) struct RxWake {
    _port: Port,
}

impl RxWake {
    pub(crate) fn new(port: Port) -> RxWake {
        RxWake { _port: port }
    }

    /// Lets a received byte raise the UART's interrupt (masked again by
    /// the handler).
    pub(crate) fn arm(&mut self) {
        write(INTENSET, INT_RXDRDY);
    }

    /// Whether a received byte waits.
    pub(crate) fn has_input(&self) -> bool {
        read(EVENTS_RXDRDY) != 0
    }
}

/// The UART's interrupt: mask it again (its only job was to end a WFI;
/// the main loop reads the bytes).
pub(crate) fn on_interrupt(irqn: i16) {
    if irqn == 2 {
        write(INTENCLR, INT_RXDRDY);
    }
}
