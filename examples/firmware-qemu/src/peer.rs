//! A socket's one peer, over a UART.

use zlink_mq_core::routing::Routing;
use zlink_mq_core::socket::{Peers, Socket, SocketKind};
use zlink_mq_core::zmtp::null::Null;

use crate::board::Idle;
use crate::board::clock::Clock;
use crate::board::uart::Uart;
use crate::exchange::BUF;
use crate::report;

/// The firmware's sockets: one peer on a UART, NULL security, [`BUF`]-byte
/// buffers.
pub type UartSocket<R> = Socket<R, Uart, Null, 1, BUF>;

/// Waits until the peer at the other end of `uart` speaks (see
/// [`Idle::until_input`]), then attaches it to `socket`, as the client
/// side of a NULL handshake.
///
/// Never inlined: the peer's connection state (about `6 * BUF` bytes) is
/// built on the stack and moved into the socket, and that room should be
/// taken only while attaching, not for the whole of `main`.
#[inline(never)]
pub fn attach<R>(socket: &mut UartSocket<R>, uart: Uart, idle: &mut Idle, clock: &mut Clock)
where
    R: SocketKind + Routing<Peers<Uart, Null, 1, BUF>>,
{
    idle.until_input(uart.port());
    if let Err(rejected) = socket.attach(uart, Null::new(false), clock.now()) {
        report::fail_with("attach", &rejected.error);
    }
}
