//! The PLAIN mechanism (RFC 24): a user name and password in clear text,
//! for trusted networks or beneath an encrypting transport.
//!
//! ```text
//!   client                                   server
//!   HELLO (username, password)  ───────────▶ (asks the caller: AuthRequest)
//!                               ◀─────────── WELCOME            or ERROR
//!   INITIATE (metadata)         ───────────▶
//!                               ◀─────────── READY (metadata)   or ERROR
//!
//!   HELLO     %d5 "HELLO"    | size (1) | username | size (1) | password |
//!   WELCOME   %d7 "WELCOME"
//!   INITIATE  %d8 "INITIATE" | metadata |
//! ```
//!
//! The as-server byte of the greeting is sent as the RFC says but not
//! checked: libzmq 4.3 never sets it (its greeting code leaves it zero for
//! every mechanism), so two clients or two servers meet as an unexpected
//! command instead.
//!
//! The server never judges credentials itself: it raises
//! [`Step::AuthRequest`] and waits for the caller's verdict, which a ZAP
//! handler (RFC 27) may give asynchronously. A rejected client gets ERROR
//! with the three-digit status code as reason, as libzmq sends.
#![forbid(unsafe_code)]

use heapless::Vec;

use super::Error;
use super::command::Command;
use super::greeting::MechanismName;
use super::mechanism::{
    AuthVerdict, Credentials, Mechanism, Step, command_len, parse_command, status_code_reason,
    write_command_body,
};
use crate::time::Instant;

/// Longest user name or password PLAIN can carry.
pub const MAX_CREDENTIAL_LEN: usize = 255;

/// A credential longer than [`MAX_CREDENTIAL_LEN`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialTooLong;

impl core::fmt::Display for CredentialTooLong {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PLAIN user names and passwords are at most 255 bytes")
    }
}

impl core::error::Error for CredentialTooLong {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    SendHello,
    WaitWelcome,
    SendInitiate,
    WaitReady,
    Done,
}

/// PLAIN, client role.
#[derive(Debug, Clone)]
pub struct PlainClient {
    username: Vec<u8, MAX_CREDENTIAL_LEN>,
    password: Vec<u8, MAX_CREDENTIAL_LEN>,
    state: ClientState,
}

impl PlainClient {
    /// A client that will log in with these credentials.
    pub fn new(username: &[u8], password: &[u8]) -> Result<PlainClient, CredentialTooLong> {
        Ok(PlainClient {
            username: Vec::from_slice(username).map_err(|_| CredentialTooLong)?,
            password: Vec::from_slice(password).map_err(|_| CredentialTooLong)?,
            state: ClientState::SendHello,
        })
    }

    fn hello_len(&self) -> usize {
        command_len(b"HELLO", 2 + self.username.len() + self.password.len())
    }
}

impl Mechanism for PlainClient {
    fn name(&self) -> MechanismName {
        MechanismName::PLAIN
    }

    fn as_server(&self) -> bool {
        false
    }

    fn max_command_len(&self, metadata_len: usize) -> usize {
        self.hello_len().max(command_len(b"INITIATE", metadata_len))
    }

    fn next_command_len(&self, metadata: &[u8]) -> Option<usize> {
        match self.state {
            ClientState::SendHello => Some(self.hello_len()),
            ClientState::SendInitiate => Some(command_len(b"INITIATE", metadata.len())),
            _ => None,
        }
    }

    fn write_command(&mut self, metadata: &[u8], out: &mut [u8]) {
        match self.state {
            ClientState::SendHello => {
                let u = [self.username.len() as u8];
                let p = [self.password.len() as u8];
                write_command_body(out, b"HELLO", &[&u, &self.username, &p, &self.password]);
                self.state = ClientState::WaitWelcome;
            }
            ClientState::SendInitiate => {
                write_command_body(out, b"INITIATE", &[metadata]);
                self.state = ClientState::WaitReady;
            }
            // Not called without `next_command_len` saying so.
            _ => {}
        }
    }

    fn handle_command<'a>(&mut self, body: &'a mut [u8], _now: Instant) -> Result<Step<'a>, Error> {
        match (self.state, parse_command(body)?) {
            (
                ClientState::WaitWelcome,
                Command::Other {
                    name: b"WELCOME",
                    data,
                },
            ) => {
                if !data.is_empty() {
                    return Err(Error::MalformedCommand);
                }
                self.state = ClientState::SendInitiate;
                Ok(Step::Continue)
            }
            (ClientState::WaitReady, Command::Ready { metadata }) => {
                self.state = ClientState::Done;
                Ok(Step::PeerMetadata(metadata))
            }
            _ => Err(Error::UnexpectedCommand),
        }
    }

    fn is_complete(&self) -> bool {
        self.state == ClientState::Done
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    WaitHello,
    WaitVerdict,
    SendWelcome,
    WaitInitiate,
    SendReady,
    Done,
    SendError([u8; 3]),
    ErrorSent,
}

/// PLAIN, server role.
#[derive(Debug, Clone)]
pub struct PlainServer {
    username: Vec<u8, MAX_CREDENTIAL_LEN>,
    password: Vec<u8, MAX_CREDENTIAL_LEN>,
    state: ServerState,
}

impl Default for PlainServer {
    fn default() -> Self {
        PlainServer::new()
    }
}

impl PlainServer {
    /// A server waiting for a client's HELLO.
    pub const fn new() -> PlainServer {
        PlainServer {
            username: Vec::new(),
            password: Vec::new(),
            state: ServerState::WaitHello,
        }
    }

    /// The user name the client logged in with, once it has sent HELLO.
    pub fn username(&self) -> Option<&[u8]> {
        (self.state != ServerState::WaitHello).then_some(&self.username[..])
    }

    fn handle_hello(&mut self, data: &[u8]) -> Result<(), Error> {
        let (&ulen, rest) = data.split_first().ok_or(Error::MalformedCommand)?;
        let (username, rest) = rest
            .split_at_checked(usize::from(ulen))
            .ok_or(Error::MalformedCommand)?;
        let (&plen, password) = rest.split_first().ok_or(Error::MalformedCommand)?;
        // Nothing may follow the password (libzmq is as strict).
        if password.len() != usize::from(plen) {
            return Err(Error::MalformedCommand);
        }
        // Both are at most 255 bytes: their length prefix is one byte.
        self.username = Vec::from_slice(username).map_err(|_| Error::MalformedCommand)?;
        self.password = Vec::from_slice(password).map_err(|_| Error::MalformedCommand)?;
        Ok(())
    }
}

impl Mechanism for PlainServer {
    fn name(&self) -> MechanismName {
        MechanismName::PLAIN
    }

    fn as_server(&self) -> bool {
        true
    }

    fn max_command_len(&self, metadata_len: usize) -> usize {
        // ERROR with a 3-byte reason and WELCOME are shorter than 12 bytes.
        command_len(b"READY", metadata_len).max(12)
    }

    fn next_command_len(&self, metadata: &[u8]) -> Option<usize> {
        match self.state {
            ServerState::SendWelcome => Some(command_len(b"WELCOME", 0)),
            ServerState::SendReady => Some(command_len(b"READY", metadata.len())),
            ServerState::SendError(_) => Some(command_len(b"ERROR", 4)),
            _ => None,
        }
    }

    fn write_command(&mut self, metadata: &[u8], out: &mut [u8]) {
        match self.state {
            ServerState::SendWelcome => {
                write_command_body(out, b"WELCOME", &[]);
                self.state = ServerState::WaitInitiate;
            }
            ServerState::SendReady => {
                write_command_body(out, b"READY", &[metadata]);
                self.state = ServerState::Done;
            }
            ServerState::SendError(code) => {
                write_command_body(out, b"ERROR", &[&[3], &code]);
                self.state = ServerState::ErrorSent;
            }
            // Not called without `next_command_len` saying so.
            _ => {}
        }
    }

    fn handle_command<'a>(&mut self, body: &'a mut [u8], _now: Instant) -> Result<Step<'a>, Error> {
        match (self.state, parse_command(body)?) {
            (
                ServerState::WaitHello,
                Command::Other {
                    name: b"HELLO",
                    data,
                },
            ) => {
                self.handle_hello(data)?;
                self.state = ServerState::WaitVerdict;
                Ok(Step::AuthRequest)
            }
            (
                ServerState::WaitInitiate,
                Command::Other {
                    name: b"INITIATE",
                    data,
                },
            ) => {
                self.state = ServerState::SendReady;
                Ok(Step::PeerMetadata(data))
            }
            _ => Err(Error::UnexpectedCommand),
        }
    }

    fn credentials(&self) -> Option<Credentials<'_>> {
        (self.state == ServerState::WaitVerdict).then_some(Credentials::Plain {
            username: &self.username,
            password: &self.password,
        })
    }

    fn handle_auth_verdict(&mut self, verdict: AuthVerdict) -> Result<(), Error> {
        if self.state != ServerState::WaitVerdict {
            return Err(Error::NoAuthRequest);
        }
        self.state = match verdict {
            AuthVerdict::Accept => ServerState::SendWelcome,
            // ZAP's 300 (temporary failure): libzmq closes without ERROR,
            // so the client retries.
            AuthVerdict::Reject { status_code: 300 } => ServerState::ErrorSent,
            AuthVerdict::Reject { status_code } => {
                ServerState::SendError(status_code_reason(status_code))
            }
        };
        Ok(())
    }

    fn is_complete(&self) -> bool {
        self.state == ServerState::Done
    }

    fn failure(&self) -> Option<Error> {
        (self.state == ServerState::ErrorSent).then_some(Error::AuthenticationFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zmtp::mechanism::body;

    fn send(m: &mut impl Mechanism, meta: &[u8], out: &mut [u8]) -> usize {
        let len = m.next_command_len(meta).expect("a command is due");
        m.write_command(meta, &mut out[..len]);
        len
    }

    #[test]
    fn golden_exchange() {
        let meta = b"\x0bSocket-Type\x00\x00\x00\x03REQ";
        let mut c = PlainClient::new(b"admin", b"secret").unwrap();
        let mut s = PlainServer::new();
        let mut buf = [0u8; 128];

        let n = send(&mut c, meta, &mut buf);
        assert_eq!(&buf[..n], b"\x05HELLO\x05admin\x06secret");
        assert_eq!(c.next_command_len(meta), None);
        assert_eq!(
            s.handle_command(&mut buf[..n], Instant::ZERO),
            Ok(Step::AuthRequest)
        );
        assert_eq!(
            s.credentials(),
            Some(Credentials::Plain {
                username: b"admin",
                password: b"secret"
            })
        );
        assert_eq!(s.next_command_len(meta), None, "nothing before the verdict");
        s.handle_auth_verdict(AuthVerdict::Accept).unwrap();
        assert_eq!(s.credentials(), None);

        let n = send(&mut s, meta, &mut buf);
        assert_eq!(&buf[..n], b"\x07WELCOME");
        assert_eq!(
            c.handle_command(&mut buf[..n], Instant::ZERO),
            Ok(Step::Continue)
        );
        let n = send(&mut c, meta, &mut buf);
        assert_eq!(&buf[..n], b"\x08INITIATE\x0bSocket-Type\x00\x00\x00\x03REQ");
        assert_eq!(
            s.handle_command(&mut buf[..n], Instant::ZERO),
            Ok(Step::PeerMetadata(&meta[..]))
        );
        let n = send(&mut s, meta, &mut buf);
        assert_eq!(&buf[..n], b"\x05READY\x0bSocket-Type\x00\x00\x00\x03REQ");
        assert!(s.is_complete());
        assert_eq!(
            c.handle_command(&mut buf[..n], Instant::ZERO),
            Ok(Step::PeerMetadata(&meta[..]))
        );
        assert!(c.is_complete());
        assert_eq!(s.username(), Some(&b"admin"[..]));
    }

    #[test]
    fn temporary_failure_sends_no_error() {
        let mut s = PlainServer::new();
        s.handle_command(&mut body(b"HELLO", b"\x01u\x01p"), Instant::ZERO)
            .unwrap();
        s.handle_auth_verdict(AuthVerdict::Reject { status_code: 300 })
            .unwrap();
        assert_eq!(s.next_command_len(b""), None);
        assert_eq!(s.failure(), Some(Error::AuthenticationFailed));
    }

    #[test]
    fn rejection_sends_the_status_code() {
        let mut s = PlainServer::new();
        s.handle_command(&mut body(b"HELLO", b"\x00\x00"), Instant::ZERO)
            .unwrap();
        assert_eq!(
            s.credentials(),
            Some(Credentials::Plain {
                username: b"",
                password: b""
            })
        );
        s.handle_auth_verdict(AuthVerdict::Reject { status_code: 400 })
            .unwrap();
        assert_eq!(
            s.handle_auth_verdict(AuthVerdict::Accept),
            Err(Error::NoAuthRequest)
        );
        let mut buf = [0u8; 16];
        let n = send(&mut s, b"", &mut buf);
        assert_eq!(&buf[..n], b"\x05ERROR\x03400");
        assert_eq!(s.failure(), Some(Error::AuthenticationFailed));
        assert!(!s.is_complete());

        let mut s = PlainServer::new();
        s.handle_command(&mut body(b"HELLO", b"\x00\x00"), Instant::ZERO)
            .unwrap();
        s.handle_auth_verdict(AuthVerdict::Reject { status_code: 42 })
            .unwrap();
        let n = send(&mut s, b"", &mut buf);
        assert_eq!(&buf[..n], b"\x05ERROR\x03400");
    }

    #[test]
    fn malformed_hello() {
        for bad in [&b""[..], b"\x03ab", b"\x01a", b"\x01a\x02b", b"\x01a\x01bc"] {
            let mut s = PlainServer::new();
            assert_eq!(
                s.handle_command(&mut body(b"HELLO", bad), Instant::ZERO),
                Err(Error::MalformedCommand),
                "{bad:?}"
            );
        }
        let mut c = PlainClient::new(b"u", b"p").unwrap();
        let mut buf = [0u8; 16];
        send(&mut c, b"", &mut buf);
        assert_eq!(
            c.handle_command(&mut body(b"WELCOME", b"x"), Instant::ZERO),
            Err(Error::MalformedCommand)
        );
        assert_eq!(
            PlainClient::new(&[0; 256], b"").err(),
            Some(CredentialTooLong)
        );
    }
}
