//! Connecting through a SOCKS5 proxy (RFC 1928, with the username /
//! password method of RFC 1929), as libzmq's `socks_connecter_t` does for
//! ZMQ_SOCKS_PROXY: once the TCP connection to the proxy is up, the
//! client offers one method, authenticates if the proxy asks, and asks
//! for a CONNECT to the endpoint's host and port; then the stream carries
//! ZMTP as if it went to the peer directly.
//!
//! ```text
//!  client                              proxy
//!  05 01 <method>                 ->              greeting (method 00: none, 02: user / password)
//!                                 <-  05 <method> choice
//!  01 <ulen> user <plen> pass     ->              (method 02 only, RFC 1929)
//!                                 <-  01 <status> 00: accepted
//!  05 01 00 <atyp> <addr> <port>  ->              CONNECT: atyp 01 IPv4, 04 IPv6, 03 a name
//!                                 <-  05 <rep> 00 <atyp> <addr> <port>   rep 00: connected
//! ```
//!
//! [`SocksClient`] is the sans-IO handshake; [`Socks`] drives it over a
//! non-blocking stream, reading no byte past the proxy's last reply (the
//! peer's ZMTP greeting may follow it at once).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::IpAddr;

use crate::sys::Interest;
use crate::sys::net::Stream;

const VERSION: u8 = 0x05;
const AUTH_VERSION: u8 = 0x01;
const NO_AUTH: u8 = 0x00;
const USER_PASS: u8 = 0x02;
const CONNECT: u8 = 0x01;
const ATYP_IPV4: u8 = 0x01;
const ATYP_NAME: u8 = 0x03;
const ATYP_IPV6: u8 = 0x04;
/// The longest reply: a name of 255 bytes and the port.
const MAX_REPLY: usize = 4 + 1 + 255 + 2;

/// Why a SOCKS handshake failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SocksError {
    /// The host name does not fit a request (more than 255 bytes).
    HostTooLong,
    /// The proxy sent what RFC 1928 does not allow.
    BadReply,
    /// The proxy accepts neither method.
    NoMethod,
    /// The proxy refused the user name and password.
    AuthFailed,
    /// The proxy did not connect us (its reply code: 1 general failure,
    /// 2 not allowed, 3 network unreachable, 4 host unreachable, 5
    /// refused, ...).
    Refused(u8),
}

impl fmt::Display for SocksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocksError::HostTooLong => f.write_str("SOCKS: host name longer than 255 bytes"),
            SocksError::BadReply => f.write_str("SOCKS: malformed reply from the proxy"),
            SocksError::NoMethod => f.write_str("SOCKS: the proxy accepts no offered method"),
            SocksError::AuthFailed => f.write_str("SOCKS: the proxy refused the credentials"),
            SocksError::Refused(code) => {
                write!(f, "SOCKS: the proxy did not connect (reply {code})")
            }
        }
    }
}

impl std::error::Error for SocksError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The greeting is queued or sent; the proxy's choice is next.
    Choice,
    /// The credentials are queued or sent; their verdict is next.
    AuthReply,
    /// The CONNECT request is queued or sent; its reply is next.
    Reply,
    /// Connected through the proxy.
    Done,
}

/// The client side of a SOCKS5 handshake, sans IO: bytes to write come
/// from [`output`](Self::output), the proxy's bytes go to
/// [`handle_input`](Self::handle_input), at most [`wanted`](Self::wanted)
/// at a time.
#[derive(Debug)]
pub(crate) struct SocksClient {
    state: State,
    out: Vec<u8>,
    written: usize,
    reply: Vec<u8>,
    request: Vec<u8>,
    credentials: Option<(Vec<u8>, Vec<u8>)>,
}

impl SocksClient {
    /// A handshake asking for a connection to `host:port` (an IP address
    /// is sent as one, anything else as a name for the proxy to resolve);
    /// with `credentials` (user name, password; at most 255 bytes each)
    /// it offers the user / password method, else no authentication, as
    /// libzmq does with and without ZMQ_SOCKS_USERNAME.
    pub(crate) fn new(
        host: &str,
        port: u16,
        credentials: Option<(Vec<u8>, Vec<u8>)>,
    ) -> Result<Self, SocksError> {
        let mut request = vec![VERSION, CONNECT, 0x00];
        match host.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => {
                request.push(ATYP_IPV4);
                request.extend_from_slice(&ip.octets());
            }
            Ok(IpAddr::V6(ip)) => {
                request.push(ATYP_IPV6);
                request.extend_from_slice(&ip.octets());
            }
            Err(_) => {
                let len = u8::try_from(host.len()).map_err(|_| SocksError::HostTooLong)?;
                request.extend_from_slice(&[ATYP_NAME, len]);
                request.extend_from_slice(host.as_bytes());
            }
        }
        request.extend_from_slice(&port.to_be_bytes());
        let method = if credentials.is_some() {
            USER_PASS
        } else {
            NO_AUTH
        };
        Ok(Self {
            state: State::Choice,
            out: vec![VERSION, 1, method],
            written: 0,
            reply: Vec::with_capacity(MAX_REPLY),
            request,
            credentials,
        })
    }

    /// Bytes to write to the proxy now.
    pub(crate) fn output(&self) -> &[u8] {
        &self.out[self.written..]
    }

    /// `n` bytes of [`output`](Self::output) were written.
    pub(crate) fn wrote(&mut self, n: usize) {
        self.written = (self.written + n).min(self.out.len());
    }

    /// Whether the proxy connected us.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// How many bytes of the proxy's current reply are still to come (0
    /// while output is pending or once done).
    pub(crate) fn wanted(&self) -> usize {
        if !self.output().is_empty() {
            return 0;
        }
        let have = self.reply.len();
        let total = match self.state {
            State::Choice | State::AuthReply => 2,
            // Up to the name's length byte, then the rest.
            State::Reply if have < 5 => 5,
            State::Reply => match self.reply[3] {
                ATYP_IPV4 => 4 + 4 + 2,
                ATYP_IPV6 => 4 + 16 + 2,
                _ => 4 + 1 + usize::from(self.reply[4]) + 2,
            },
            State::Done => return 0,
        };
        total - have
    }

    /// Takes bytes the proxy sent (at most [`wanted`](Self::wanted)).
    ///
    /// # Errors
    /// [`SocksError`] when the proxy refuses or breaks the protocol: the
    /// connection is then to be closed.
    pub(crate) fn handle_input(&mut self, bytes: &[u8]) -> Result<(), SocksError> {
        debug_assert!(bytes.len() <= self.wanted());
        self.reply.extend_from_slice(bytes);
        self.check_partial()?;
        if self.wanted() > 0 {
            return Ok(());
        }
        let reply = std::mem::take(&mut self.reply);
        match self.state {
            State::Choice => match reply[1] {
                // As libzmq, either method the proxy picks is followed,
                // with empty credentials if none were set.
                USER_PASS => {
                    let (user, pass) = self.credentials.take().unwrap_or_default();
                    let mut auth = vec![AUTH_VERSION, user.len() as u8];
                    auth.extend_from_slice(&user);
                    auth.push(pass.len() as u8);
                    auth.extend_from_slice(&pass);
                    self.send(auth);
                    self.state = State::AuthReply;
                }
                NO_AUTH => self.send_request(),
                _ => return Err(SocksError::NoMethod),
            },
            State::AuthReply if reply[1] == 0 => self.send_request(),
            State::AuthReply => return Err(SocksError::AuthFailed),
            State::Reply if reply[1] == 0 => self.state = State::Done,
            State::Reply => return Err(SocksError::Refused(reply[1])),
            State::Done => {}
        }
        Ok(())
    }

    /// Checks the reply so far, as libzmq's decoders do byte by byte.
    fn check_partial(&self) -> Result<(), SocksError> {
        let r = &self.reply;
        let version = if self.state == State::AuthReply {
            AUTH_VERSION
        } else {
            VERSION
        };
        let bad = r.first().is_some_and(|&v| v != version)
            || (self.state == State::Reply
                && (r.get(1).is_some_and(|&rep| rep > 0x08)
                    || r.get(2).is_some_and(|&rsv| rsv != 0)
                    || r.get(3)
                        .is_some_and(|&a| ![ATYP_IPV4, ATYP_NAME, ATYP_IPV6].contains(&a))));
        if bad {
            Err(SocksError::BadReply)
        } else {
            Ok(())
        }
    }

    fn send_request(&mut self) {
        let request = std::mem::take(&mut self.request);
        self.send(request);
        self.state = State::Reply;
    }

    fn send(&mut self, bytes: Vec<u8>) {
        self.out = bytes;
        self.written = 0;
    }
}

/// A stream to a SOCKS proxy and the handshake under way on it.
#[derive(Debug)]
pub(crate) struct Socks {
    pub stream: Stream,
    client: SocksClient,
}

impl Socks {
    pub(crate) fn new(stream: Stream, client: SocksClient) -> Self {
        Self { stream, client }
    }

    /// Writes and reads what the stream takes and has now. `Ok(true)` once
    /// the proxy connected us; `Ok(false)` to be called again when the
    /// stream is ready for [`interest`](Self::interest).
    ///
    /// # Errors
    /// The stream's, or the handshake's ([`SocksError`] as an
    /// [`io::Error`]); the proxy closing the stream is `UnexpectedEof`.
    pub(crate) fn advance(&mut self) -> io::Result<bool> {
        let mut buf = [0u8; MAX_REPLY];
        loop {
            if self.client.is_done() {
                return Ok(true);
            }
            let result = if !self.client.output().is_empty() {
                self.stream
                    .write(self.client.output())
                    .inspect(|&n| self.client.wrote(n))
            } else {
                let want = self.client.wanted();
                self.stream.read(&mut buf[..want]).and_then(|n| {
                    self.client
                        .handle_input(&buf[..n])
                        .map_err(io::Error::other)?;
                    Ok(n)
                })
            };
            match result {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// What the handshake waits for.
    pub(crate) fn interest(&self) -> Interest {
        if self.client.output().is_empty() {
            Interest::READ
        } else {
            Interest {
                read: false,
                write: true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a handshake against a scripted proxy: `replies[i]` answers the
    /// i-th message the client sends; returns what the client sent.
    fn converse(
        mut client: SocksClient,
        replies: &[&[u8]],
    ) -> (Vec<Vec<u8>>, Result<(), SocksError>) {
        let mut sent = Vec::new();
        for reply in replies {
            let out = client.output().to_vec();
            client.wrote(out.len());
            sent.push(out);
            // Byte by byte, as a slow proxy would deliver.
            for b in reply.iter() {
                assert!(client.wanted() > 0, "wants more than the reply");
                if let Err(e) = client.handle_input(&[*b]) {
                    return (sent, Err(e));
                }
            }
            assert_eq!(client.wanted(), 0, "reads no byte past the reply");
        }
        (sent, Ok(()))
    }

    #[test]
    fn connects_without_authentication() {
        let c = SocksClient::new("127.0.0.1", 5555, None).unwrap();
        let (sent, r) = converse(c, &[&[5, 0], &[5, 0, 0, 1, 127, 0, 0, 1, 0x12, 0x34]]);
        r.unwrap();
        assert_eq!(
            sent,
            [vec![5, 1, 0], vec![5, 1, 0, 1, 127, 0, 0, 1, 0x15, 0xb3]]
        );
    }

    #[test]
    fn sends_names_and_ipv6_addresses_as_such() {
        let c = SocksClient::new("somedomainname.org", 80, None).unwrap();
        let reply_name: &[u8] = &[
            5, 0, 0, 3, 9, b'l', b'o', b'c', b'a', b'l', b'h', b'o', b's', b't', 0, 80,
        ];
        let (sent, r) = converse(c, &[&[5, 0], reply_name]);
        r.unwrap();
        let mut want = vec![5, 1, 0, 3, 18];
        want.extend_from_slice(b"somedomainname.org");
        want.extend_from_slice(&[0, 80]);
        assert_eq!(sent[1], want);

        let c = SocksClient::new("::1", 1, None).unwrap();
        let mut reply = vec![5, 0, 0, 4];
        reply.extend_from_slice(&[0; 15]);
        reply.extend_from_slice(&[1, 0, 1]);
        let (sent, r) = converse(c, &[&[5, 0], &reply]);
        r.unwrap();
        assert_eq!(&sent[1][..4], &[5, 1, 0, 4]);
        assert_eq!(sent[1].len(), 4 + 16 + 2);
        assert!(SocksClient::new(&"h".repeat(256), 1, None).is_err());
    }

    #[test]
    fn authenticates_with_user_and_password() {
        let creds = Some((b"someuser".to_vec(), b"somepass".to_vec()));
        let c = SocksClient::new("10.0.0.1", 7, creds.clone()).unwrap();
        let (sent, r) = converse(c, &[&[5, 2], &[1, 0], &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]]);
        r.unwrap();
        assert_eq!(sent[0], [5, 1, 2]);
        assert_eq!(sent[1], b"\x01\x08someuser\x08somepass");
        let c = SocksClient::new("10.0.0.1", 7, creds).unwrap();
        assert_eq!(
            converse(c, &[&[5, 2], &[1, 1]]).1,
            Err(SocksError::AuthFailed)
        );
    }

    #[test]
    fn refusals_and_malformed_replies_fail() {
        let new = || SocksClient::new("10.0.0.1", 7, None).unwrap();
        assert_eq!(converse(new(), &[&[5, 0xff]]).1, Err(SocksError::NoMethod));
        assert_eq!(converse(new(), &[&[4, 0]]).1, Err(SocksError::BadReply));
        let refused: &[u8] = &[5, 5, 0, 1, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            converse(new(), &[&[5, 0], refused]).1,
            Err(SocksError::Refused(5))
        );
        for bad in [&[5, 9][..], &[5, 0, 1], &[5, 0, 0, 2]] {
            assert_eq!(
                converse(new(), &[&[5, 0], bad]).1,
                Err(SocksError::BadReply),
                "{bad:?}"
            );
        }
    }
}
