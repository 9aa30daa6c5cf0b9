//! The NULL mechanism (RFC 23 section "The NULL Security Mechanism"): no
//! authentication, no encryption, just metadata.
//!
//! ```text
//!   client                         server
//!   READY (metadata)  ───────────▶
//!                     ◀───────────  READY (metadata) or ERROR
//! ```
//!
//! Each side sends READY as soon as the greeting is exchanged and accepts
//! the peer's READY in either order, as libzmq does (its peers do not wait
//! for the client's READY either), so the as-server flag does not matter.
//! A server that refuses the client (invalid socket pair) answers ERROR;
//! the connection does that.
#![forbid(unsafe_code)]

use super::Error;
use super::command::Command;
use super::greeting::MechanismName;
use super::mechanism::{Mechanism, Step, command_len, parse_command, write_command_body};
use crate::time::Instant;

/// The NULL mechanism, either role.
#[derive(Debug, Clone, Default)]
pub struct Null {
    as_server: bool,
    ready_sent: bool,
    ready_received: bool,
}

impl Null {
    /// A NULL mechanism announcing `as_server` in the greeting (libzmq sends
    /// 0 for NULL whatever the role; the flag has no effect on NULL).
    pub const fn new(as_server: bool) -> Null {
        Null {
            as_server,
            ready_sent: false,
            ready_received: false,
        }
    }
}

impl Mechanism for Null {
    fn name(&self) -> MechanismName {
        MechanismName::NULL
    }

    fn as_server(&self) -> bool {
        self.as_server
    }

    fn max_command_len(&self, metadata_len: usize) -> usize {
        command_len(b"READY", metadata_len)
    }

    fn next_command_len(&self, metadata: &[u8]) -> Option<usize> {
        (!self.ready_sent).then(|| command_len(b"READY", metadata.len()))
    }

    fn write_command(&mut self, metadata: &[u8], out: &mut [u8]) {
        write_command_body(out, b"READY", &[metadata]);
        self.ready_sent = true;
    }

    fn handle_command<'a>(&mut self, body: &'a mut [u8], _now: Instant) -> Result<Step<'a>, Error> {
        match parse_command(body)? {
            Command::Ready { metadata } if !self.ready_received => {
                self.ready_received = true;
                Ok(Step::PeerMetadata(metadata))
            }
            _ => Err(Error::UnexpectedCommand),
        }
    }

    fn is_complete(&self) -> bool {
        self.ready_sent && self.ready_received
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zmtp::mechanism::body;

    #[test]
    fn ready_both_ways_in_either_order() {
        let meta = b"\x0bSocket-Type\x00\x00\x00\x04PAIR";
        let mut m = Null::new(false);
        assert_eq!(
            m.handle_command(&mut body(b"READY", meta), Instant::ZERO),
            Ok(Step::PeerMetadata(&meta[..]))
        );
        assert!(!m.is_complete());
        let len = m.next_command_len(meta).unwrap();
        let mut out = [0u8; 64];
        m.write_command(meta, &mut out[..len]);
        assert_eq!(&out[..len], b"\x05READY\x0bSocket-Type\x00\x00\x00\x04PAIR");
        assert!(m.is_complete());
        assert_eq!(m.next_command_len(meta), None);
        assert_eq!(
            m.handle_command(&mut body(b"READY", meta), Instant::ZERO),
            Err(Error::UnexpectedCommand)
        );
    }

    #[test]
    fn other_commands_are_unexpected() {
        let mut m = Null::new(true);
        assert_eq!(
            m.handle_command(&mut body(b"HELLO", b""), Instant::ZERO),
            Err(Error::UnexpectedCommand)
        );
        assert_eq!(
            m.handle_command(&mut body(b"PING", &[0, 0]), Instant::ZERO),
            Err(Error::UnexpectedCommand)
        );
    }
}
