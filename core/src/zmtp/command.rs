//! Commands: the bodies of frames with the COMMAND flag (RFC 23 section
//! "Commands"; PING, PONG, SUBSCRIBE and CANCEL from RFC 37).
//!
//! ```text
//!   command body:  +-----------+----------------+------------------+
//!                  | name size | name           | data             |
//!                  | 1 byte    | 1..=255 bytes  | rest of the frame|
//!                  +-----------+----------------+------------------+
//!
//!   READY      %d5 "READY"      metadata                (see `metadata`)
//!   ERROR      %d5 "ERROR"      reason size (1) reason  (0..=255 bytes)
//!   PING       %d4 "PING"       TTL (2, network order, tenths of a second)
//!                               context (0..=16 bytes)
//!   PONG       %d4 "PONG"       context (echoed from the PING)
//!   SUBSCRIBE  %d9 "SUBSCRIBE"  topic (rest of the frame)
//!   CANCEL     %d6 "CANCEL"     topic (rest of the frame)
//! ```
//!
//! Mechanism commands (HELLO, WELCOME, INITIATE, ...) are left to the
//! mechanism as [`Command::Other`]: their layout depends on the mechanism.
//!
//! libzmq's PLAIN mechanism (4.2 to at least 4.3.5) writes ERROR as
//! `"^RROR" reason-size reason`: its C literal `"\x05ERROR"` reads `\x05E` as
//! one hex escape (0x5E, `^`). [`Command::parse`] accepts that form as ERROR
//! too, so a libzmq PLAIN server's rejection is reported as such; we always
//! send the RFC form.
#![forbid(unsafe_code)]

use core::time::Duration;

/// The first bytes of libzmq's PLAIN ERROR command (see the module doc).
const LIBZMQ_PLAIN_ERROR: &[u8] = b"^RROR";

/// Longest PING context the RFC allows; longer ones are truncated when
/// echoed, as libzmq does.
pub const MAX_PING_CONTEXT_LEN: usize = 16;

/// A command, parsed from a command frame's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// READY with its (not yet validated) metadata bytes.
    Ready {
        /// The property list.
        metadata: &'a [u8],
    },
    /// ERROR: the peer gives up on the connection.
    Error {
        /// Human-readable reason, up to 255 bytes.
        reason: &'a [u8],
    },
    /// PING (ZMTP 3.1 heartbeat).
    Ping {
        /// How long the peer may stay silent before we may drop it, in
        /// tenths of a second; 0 means no limit.
        ttl_deciseconds: u16,
        /// Up to 16 bytes to echo in the PONG (a longer context is cut).
        context: &'a [u8],
    },
    /// PONG: the answer to our PING.
    Pong {
        /// The context we sent.
        context: &'a [u8],
    },
    /// SUBSCRIBE (ZMTP 3.1): the peer wants messages starting with `topic`.
    Subscribe {
        /// The prefix.
        topic: &'a [u8],
    },
    /// CANCEL (ZMTP 3.1): the peer withdraws a subscription.
    Cancel {
        /// The prefix.
        topic: &'a [u8],
    },
    /// Any other command: a mechanism's own, or one we do not know (which
    /// the RFC says to ignore).
    Other {
        /// The command name.
        name: &'a [u8],
        /// Everything after the name.
        data: &'a [u8],
    },
}

/// A command frame's body is not a valid command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedCommand;

impl core::fmt::Display for MalformedCommand {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("malformed command")
    }
}

impl core::error::Error for MalformedCommand {}

impl<'a> Command<'a> {
    /// Parses a command frame's body.
    pub fn parse(body: &'a [u8]) -> Result<Command<'a>, MalformedCommand> {
        if let Some(data) = body.strip_prefix(LIBZMQ_PLAIN_ERROR) {
            return Command::parse_error(data);
        }
        let (&name_len, rest) = body.split_first().ok_or(MalformedCommand)?;
        let name_len = usize::from(name_len);
        if name_len == 0 || rest.len() < name_len {
            return Err(MalformedCommand);
        }
        let (name, data) = rest.split_at(name_len);
        Ok(match name {
            b"READY" => Command::Ready { metadata: data },
            b"ERROR" => Command::parse_error(data)?,
            b"PING" => {
                if data.len() < 2 {
                    return Err(MalformedCommand);
                }
                let ttl = u16::from_be_bytes([data[0], data[1]]);
                let context = &data[2..];
                Command::Ping {
                    ttl_deciseconds: ttl,
                    context: &context[..context.len().min(MAX_PING_CONTEXT_LEN)],
                }
            }
            b"PONG" => Command::Pong { context: data },
            b"SUBSCRIBE" => Command::Subscribe { topic: data },
            b"CANCEL" => Command::Cancel { topic: data },
            _ => Command::Other { name, data },
        })
    }

    fn parse_error(data: &'a [u8]) -> Result<Command<'a>, MalformedCommand> {
        let (&len, reason) = data.split_first().ok_or(MalformedCommand)?;
        // Bytes after the reason are ignored, as libzmq does.
        let reason = reason.get(..usize::from(len)).ok_or(MalformedCommand)?;
        Ok(Command::Error { reason })
    }

    /// The PING's TTL as a duration.
    pub fn ttl(ttl_deciseconds: u16) -> Duration {
        Duration::from_millis(u64::from(ttl_deciseconds) * 100)
    }
}

/// Converts a TTL to the wire's tenths of a second, rounding down and
/// saturating at 6553.5 s.
pub fn ttl_to_deciseconds(ttl: Duration) -> u16 {
    u16::try_from(ttl.as_millis() / 100).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_rfc_commands() {
        assert_eq!(
            Command::parse(b"\x05READY\x0bSocket-Type\x00\x00\x00\x03REQ"),
            Ok(Command::Ready {
                metadata: b"\x0bSocket-Type\x00\x00\x00\x03REQ"
            })
        );
        assert_eq!(
            Command::parse(b"\x05ERROR\x03bad"),
            Ok(Command::Error { reason: b"bad" })
        );
        assert_eq!(
            Command::parse(b"\x05ERROR\x00"),
            Ok(Command::Error { reason: b"" })
        );
        assert_eq!(
            Command::parse(b"\x05ERROR\x02bad"),
            Ok(Command::Error { reason: b"ba" })
        );
        // What libzmq 4.3.4's PLAIN server really sends on rejection.
        assert_eq!(
            Command::parse(b"^RROR\x03400"),
            Ok(Command::Error { reason: b"400" })
        );
        assert_eq!(Command::parse(b"^RROR\x04400"), Err(MalformedCommand));
        assert_eq!(
            Command::parse(b"\x04PING\x00\x64ctx"),
            Ok(Command::Ping {
                ttl_deciseconds: 100,
                context: b"ctx"
            })
        );
        assert_eq!(
            Command::parse(b"\x04PONGctx"),
            Ok(Command::Pong { context: b"ctx" })
        );
        assert_eq!(
            Command::parse(b"\x09SUBSCRIBEab"),
            Ok(Command::Subscribe { topic: b"ab" })
        );
        assert_eq!(
            Command::parse(b"\x09SUBSCRIBE"),
            Ok(Command::Subscribe { topic: b"" })
        );
        assert_eq!(
            Command::parse(b"\x06CANCELab"),
            Ok(Command::Cancel { topic: b"ab" })
        );
        assert_eq!(
            Command::parse(b"\x07WELCOME"),
            Ok(Command::Other {
                name: b"WELCOME",
                data: b""
            })
        );
    }

    #[test]
    fn long_ping_context_is_cut_to_sixteen_bytes() {
        let mut body = [0u8; 7 + 20];
        body[..7].copy_from_slice(b"\x04PING\x00\x01");
        assert_eq!(
            Command::parse(&body),
            Ok(Command::Ping {
                ttl_deciseconds: 1,
                context: &[0u8; 16]
            })
        );
    }

    #[test]
    fn malformed() {
        for bad in [
            &b""[..],
            b"\x00",
            b"\x06READY",
            b"\x05ERROR",
            b"\x05ERROR\x04bad",
            b"\x04PING\x00",
        ] {
            assert_eq!(Command::parse(bad), Err(MalformedCommand), "{bad:?}");
        }
    }

    #[test]
    fn ttl_conversion() {
        assert_eq!(ttl_to_deciseconds(Duration::from_millis(1_999)), 19);
        assert_eq!(ttl_to_deciseconds(Duration::from_secs(10_000)), u16::MAX);
        assert_eq!(Command::ttl(25), Duration::from_millis(2_500));
    }
}
