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
//!
//! [`Null::with_verdict`] asks the caller to judge the peer first (a ZAP
//! handler, when libzmq's ZAP_DOMAIN is set): right after the greeting
//! the connection reports an authentication request with
//! [`Credentials::Null`], and READY waits for the verdict; a rejection
//! sends ERROR with the status code (none for 300, as libzmq).
#![forbid(unsafe_code)]

use super::Error;
use super::command::Command;
use super::greeting::MechanismName;
use super::mechanism::{
    AuthVerdict, Credentials, Mechanism, Step, command_len, parse_command, status_code_reason,
    write_command_body,
};
use crate::time::Instant;

/// The NULL mechanism, either role.
#[derive(Debug, Clone, Default)]
pub struct Null {
    as_server: bool,
    ready_sent: bool,
    ready_received: bool,
    verdict: Verdict,
}

/// Where a NULL mechanism that asks for a verdict stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Verdict {
    /// No verdict is asked for (plain NULL), or it accepted.
    #[default]
    Accepted,
    /// Asked, not answered: READY waits.
    Pending,
    /// Refused: ERROR with this reason goes out, then the mechanism fails.
    SendError([u8; 3]),
    /// Refused and ERROR sent, or refused with 300 (no ERROR).
    Failed,
}

impl Null {
    /// A NULL mechanism announcing `as_server` in the greeting (libzmq sends
    /// 0 for NULL whatever the role; the flag has no effect on NULL).
    pub const fn new(as_server: bool) -> Null {
        Null {
            as_server,
            ready_sent: false,
            ready_received: false,
            verdict: Verdict::Accepted,
        }
    }

    /// A NULL mechanism whose READY waits for the caller's verdict on the
    /// peer ([`Mechanism::verdict_first`]), as libzmq's when ZAP_DOMAIN is
    /// set.
    pub const fn with_verdict(as_server: bool) -> Null {
        Null {
            as_server,
            ready_sent: false,
            ready_received: false,
            verdict: Verdict::Pending,
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
        command_len(b"READY", metadata_len).max(command_len(b"ERROR", 4))
    }

    fn next_command_len(&self, metadata: &[u8]) -> Option<usize> {
        match self.verdict {
            Verdict::Accepted => (!self.ready_sent).then(|| command_len(b"READY", metadata.len())),
            Verdict::SendError(_) => Some(command_len(b"ERROR", 4)),
            Verdict::Pending | Verdict::Failed => None,
        }
    }

    fn write_command(&mut self, metadata: &[u8], out: &mut [u8]) {
        if let Verdict::SendError(reason) = self.verdict {
            write_command_body(out, b"ERROR", &[&[3], &reason]);
            self.verdict = Verdict::Failed;
            return;
        }
        write_command_body(out, b"READY", &[metadata]);
        self.ready_sent = true;
    }

    fn verdict_first(&self) -> bool {
        self.verdict == Verdict::Pending
    }

    fn credentials(&self) -> Option<Credentials<'_>> {
        (self.verdict == Verdict::Pending).then_some(Credentials::Null)
    }

    fn handle_auth_verdict(&mut self, verdict: AuthVerdict) -> Result<(), Error> {
        if self.verdict != Verdict::Pending {
            return Err(Error::NoAuthRequest);
        }
        self.verdict = match verdict {
            AuthVerdict::Accept => Verdict::Accepted,
            // ZAP's 300 (temporary failure): libzmq closes without ERROR.
            AuthVerdict::Reject { status_code: 300 } => Verdict::Failed,
            AuthVerdict::Reject { status_code } => {
                Verdict::SendError(status_code_reason(status_code))
            }
        };
        Ok(())
    }

    fn failure(&self) -> Option<Error> {
        (self.verdict == Verdict::Failed).then_some(Error::AuthenticationFailed)
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
    fn with_verdict_holds_ready_until_accepted() {
        let meta = b"\x0bSocket-Type\x00\x00\x00\x04PAIR";
        let mut m = Null::with_verdict(false);
        assert!(m.verdict_first());
        assert_eq!(m.credentials(), Some(Credentials::Null));
        assert_eq!(
            m.next_command_len(meta),
            None,
            "no READY before the verdict"
        );
        m.handle_auth_verdict(AuthVerdict::Accept).unwrap();
        assert!(!m.verdict_first());
        assert_eq!(m.credentials(), None);
        let len = m.next_command_len(meta).unwrap();
        let mut out = [0u8; 64];
        m.write_command(meta, &mut out[..len]);
        assert_eq!(&out[..len], b"\x05READY\x0bSocket-Type\x00\x00\x00\x04PAIR");
        assert_eq!(m.failure(), None);
    }

    #[test]
    fn with_verdict_rejection_sends_error_except_for_300() {
        let meta = b"";
        let mut m = Null::with_verdict(true);
        m.handle_auth_verdict(AuthVerdict::Reject { status_code: 500 })
            .unwrap();
        let len = m.next_command_len(meta).unwrap();
        let mut out = [0u8; 16];
        m.write_command(meta, &mut out[..len]);
        assert_eq!(&out[..len], b"\x05ERROR\x03500");
        assert_eq!(m.next_command_len(meta), None);
        assert_eq!(m.failure(), Some(Error::AuthenticationFailed));

        let mut m = Null::with_verdict(true);
        m.handle_auth_verdict(AuthVerdict::Reject { status_code: 300 })
            .unwrap();
        assert_eq!(m.next_command_len(meta), None, "300 closes without ERROR");
        assert_eq!(m.failure(), Some(Error::AuthenticationFailed));
        assert_eq!(
            m.handle_auth_verdict(AuthVerdict::Accept),
            Err(Error::NoAuthRequest)
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
