//! Shared by the targets that play a hostile peer against a whole socket
//! (`std_engine`, `core_link`): the reader of the fuzzer's bytes, what the
//! hostile peer opens with (nothing, a greeting, a whole handshake, a real
//! CURVE client's), and ZMTP frames built by hand, so that reserved bits,
//! wrong lengths and odd commands can be sent too.

use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::time::Instant;
use zlink_mq_core::zmtp::curve::CurveClient;
use zlink_mq_core::zmtp::frame::FrameWriter;
use zlink_mq_core::zmtp::{Config, Connection};

use crate::curve;

/// The fuzzer's bytes, read front to back; zeros once exhausted.
pub struct Input<'a>(pub &'a [u8]);

impl Input<'_> {
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    pub fn take(&mut self, n: usize) -> &[u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The security mechanism the socket under test is the server of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mech {
    Null,
    Plain,
    Curve,
}

impl Mech {
    fn name(self) -> &'static [u8] {
        match self {
            Mech::Null => b"NULL",
            Mech::Plain => b"PLAIN",
            Mech::Curve => b"CURVE",
        }
    }
}

/// What the hostile stream starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    None,
    /// A greeting for the socket's mechanism.
    Greeting,
    /// Greeting and the whole handshake, announcing a compatible type.
    Handshake,
    /// The same, with an `Identity` property.
    HandshakeWithId,
    /// Greeting and handshake announcing any type (often refused).
    AnyType,
    /// A ZMTP 3.0 greeting, then the handshake.
    Zmtp30,
}

/// How a hostile peer opens, drawn from one byte.
#[derive(Debug, Clone, Copy)]
pub struct Opening {
    pub prefix: Prefix,
    /// The type its READY (or INITIATE) announces.
    pub announced: SocketType,
    /// Its `Identity` property, with [`Prefix::HandshakeWithId`].
    pub identity: &'static [u8],
}

impl Opening {
    /// `compatible`: the type a well-behaved peer of the socket has.
    pub fn draw(b: u8, compatible: SocketType) -> Opening {
        // A whole handshake most often: the interesting part comes after.
        let prefix = [
            Prefix::Handshake,
            Prefix::Handshake,
            Prefix::Handshake,
            Prefix::HandshakeWithId,
            Prefix::None,
            Prefix::Greeting,
            Prefix::AnyType,
            Prefix::Zmtp30,
        ][usize::from(b & 7)];
        let announced = match prefix {
            Prefix::AnyType => SocketType::ALL[usize::from(b >> 3 & 0x0f) % SocketType::ALL.len()],
            _ => compatible,
        };
        let identity: &'static [u8] =
            [&b"hostile"[..], b"", b"\0reserved", &[b'x'; 255]][usize::from(b >> 3 & 3)];
        Opening {
            prefix,
            announced,
            identity,
        }
    }

    /// Whether a real CURVE client opens (the fuzzer cannot forge boxes):
    /// its handshake is run by the target, and its frames are sealed.
    pub fn curve_client(&self, mech: Mech) -> bool {
        mech == Mech::Curve && !matches!(self.prefix, Prefix::None | Prefix::Greeting)
    }

    /// The metadata the hostile peer announces.
    fn metadata(&self) -> Vec<u8> {
        let name = self.announced.zmtp_name().as_bytes();
        match self.prefix {
            Prefix::HandshakeWithId => {
                properties(&[(b"Socket-Type", name), (b"Identity", self.identity)])
            }
            _ => properties(&[(b"Socket-Type", name)]),
        }
    }

    /// What a NULL or PLAIN hostile peer writes first, without waiting for
    /// our side (a CURVE one: at most the greeting; see
    /// [`new_curve_client`]).
    pub fn bytes(&self, mech: Mech) -> Vec<u8> {
        let mut out = Vec::new();
        if self.prefix == Prefix::None || self.curve_client(mech) {
            return out;
        }
        let minor = if self.prefix == Prefix::Zmtp30 { 0 } else { 1 };
        out.extend_from_slice(&greeting(mech.name(), minor));
        if self.prefix == Prefix::Greeting {
            return out;
        }
        if mech == Mech::Plain {
            push_command(&mut out, b"HELLO", b"\x04user\x08password");
            push_command(&mut out, b"INITIATE", &self.metadata());
        } else {
            push_command(&mut out, b"READY", &self.metadata());
        }
        out
    }

    /// A real CURVE client's connection to our server (of keys
    /// `curve::server_keys`), announcing what this opening says; the target
    /// moves its bytes until the handshake is done. `None` for an identity
    /// the connection refuses to announce.
    pub fn new_curve_client(&self, seed: u64) -> Option<Connection> {
        let client = CurveClient::new(
            &curve::client_keys(),
            *curve::server_keys().public_key(),
            // Deterministic: the handshake itself is not under test.
            &mut curve::Rng(seed),
        )
        .unwrap();
        let identity: &[u8] = match self.prefix {
            Prefix::HandshakeWithId => self.identity,
            _ => b"",
        };
        let config = Config {
            identity,
            ..Config::new(self.announced)
        };
        Connection::new(&config, client.into(), Instant::ZERO).ok()
    }
}

/// A data frame, sealed by a CURVE client's connection (only MORE of the
/// flags is kept); nothing if the connection refuses.
pub fn sealed_frame(conn: &mut Connection, flags: u8, body: &[u8], out: &mut Vec<u8>) {
    let mut buf = vec![0u8; conn.encoded_len(body.len())];
    let mut w = FrameWriter::new(&mut buf);
    if conn.encode_frame(&mut w, body, flags & 1 != 0).is_ok() {
        let n = w.len();
        out.extend_from_slice(&buf[..n]);
    }
}

/// A SUBSCRIBE or CANCEL sealed by a CURVE client's connection.
pub fn sealed_subscription(
    conn: &mut Connection,
    subscribe: bool,
    topic: &[u8],
    out: &mut Vec<u8>,
) {
    let mut buf = vec![0u8; conn.encoded_len(topic.len() + 10)];
    let mut w = FrameWriter::new(&mut buf);
    let r = if subscribe {
        conn.encode_subscribe(&mut w, topic)
    } else {
        conn.encode_cancel(&mut w, topic)
    };
    if r.is_ok() {
        let n = w.len();
        out.extend_from_slice(&buf[..n]);
    }
}

/// A frame header (short or long: `long`, or whatever the length needs;
/// the flags' LONG bit follows) and body.
pub fn push_frame(out: &mut Vec<u8>, flags: u8, long: bool, body: &[u8]) {
    if long || body.len() > 255 {
        out.push(flags | 0x02);
        out.extend_from_slice(&(body.len() as u64).to_be_bytes());
    } else {
        out.push(flags & !0x02);
        out.push(body.len() as u8);
    }
    out.extend_from_slice(body);
}

/// A command frame: name (with its length byte) and body.
pub fn push_command(out: &mut Vec<u8>, name: &[u8], body: &[u8]) {
    let mut cmd = vec![name.len() as u8];
    cmd.extend_from_slice(name);
    cmd.extend_from_slice(body);
    push_frame(out, 0x04, false, &cmd);
}

/// One of the commands a script can send, `kind` 0 to 7, with `body`
/// (SUBSCRIBE and CANCEL go through `conn` when it seals). Kind 7 is a
/// long command header claiming `claim` bytes, then `body`.
pub fn push_script_command(
    out: &mut Vec<u8>,
    conn: Option<&mut Connection>,
    kind: u8,
    body: &[u8],
    claim: u64,
) {
    let name: &[u8] = match kind & 7 {
        0 | 1 => {
            let subscribe = kind & 7 == 0;
            match conn {
                Some(conn) => sealed_subscription(conn, subscribe, body, out),
                None => push_command(out, if subscribe { b"SUBSCRIBE" } else { b"CANCEL" }, body),
            }
            return;
        }
        2 => b"PING",
        3 => b"PONG",
        4 => b"READY",
        5 => b"ERROR",
        6 => b"UNKNOWN",
        _ => {
            out.push(0x06);
            out.extend_from_slice(&claim.to_be_bytes());
            out.extend_from_slice(body);
            return;
        }
    };
    push_command(out, name, body);
}

/// A ZMTP property list (RFC 37 §3.3).
pub fn properties(props: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in props {
        out.push(name.len() as u8);
        out.extend_from_slice(name);
        out.extend_from_slice(&(value.len() as u32).to_be_bytes());
        out.extend_from_slice(value);
    }
    out
}

/// The 64-byte greeting of a client of `mechanism`, ZMTP 3.`minor`.
pub fn greeting(mechanism: &[u8], minor: u8) -> Vec<u8> {
    let mut g = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, minor];
    let mut name = [0u8; 20];
    name[..mechanism.len()].copy_from_slice(mechanism);
    g.extend_from_slice(&name);
    g.push(0);
    g.extend_from_slice(&[0; 31]);
    g
}
