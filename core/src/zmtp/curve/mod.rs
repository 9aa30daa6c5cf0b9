//! The CURVE mechanism (CurveZMQ, RFC 26; ZMTP-CURVE, RFC 25):
//! authenticated key exchange, then every frame sealed in a MESSAGE.
//!
//! ```text
//!   client (C, C')                                  server (S, S')
//!   HELLO    C', Box[64 zeros](C'->S)  ───────────▶
//!                                      ◀─────────── WELCOME  Box[S' + cookie](S->C')
//!   INITIATE cookie, Box[C + vouch + metadata](C'->S')
//!                                      ───────────▶ (asks the caller about C:
//!                                                    AuthRequest)
//!                                      ◀─────────── READY    Box[metadata](S'->C')
//!                                                   or ERROR (status code)
//!   MESSAGE  Box[flags + frame](C'->S') ◀─────────▶ MESSAGE  Box[flags + frame](S'->C')
//!
//!   cookie = long nonce (16) | Box[C' + s'](cookie key)
//!   vouch  = long nonce (16) | Box[C' + S](C->S')
//! ```
//!
//! Command layouts (body bytes, name included), from RFC 26's grammar:
//!
//! ```text
//!   HELLO     200   [5]"HELLO" | 1 0 | 72 zeros | C' (32) | short nonce (8) | box (80)
//!   WELCOME   168   [7]"WELCOME" | long nonce (16) | box (144)
//!   INITIATE  257+  [8]"INITIATE" | cookie (96) | short nonce (8) | box (144 + metadata)
//!   READY     30+   [5]"READY" | short nonce (8) | box (16 + metadata)
//!   MESSAGE   33+   [7]"MESSAGE" | short nonce (8) | box (16 + 1 flags + frame)
//!   box = Poly1305 tag (16) | XSalsa20 ciphertext  (NaCl crypto_box)
//! ```
//!
//! Nonces: a box's 24-byte nonce is a 16-byte prefix naming the command
//! ("CurveZMQHELLO---", ...) and a short nonce, a per-direction counter that
//! starts at 1 and is sent in the clear; or an 8-byte prefix ("WELCOME-",
//! "COOKIE--", "VOUCH---") and a 16-byte random long nonce. Every short
//! nonce a peer sends must be larger than its last (HELLO, INITIATE,
//! MESSAGE from the client; READY, MESSAGE from the server), as libzmq
//! checks: a replayed or reordered command is refused before its box is
//! opened.
//!
//! As libzmq does: the MESSAGE flags byte carries MORE (bit 0) and COMMAND
//! (bit 1: PING, PONG, SUBSCRIBE and CANCEL travel sealed too), and the
//! MESSAGE itself travels in a ZMTP data frame without flags; either frame
//! kind is accepted. Secret keys (long-term, transient, cookie key and the
//! precomputed box keys) are zeroized when dropped; keys and cookies are
//! compared in constant time; public keys of small order, whose shared
//! secret is all zeros, are refused as libsodium refuses them.
//!
//! Randomness comes from the caller through [`Random`], drawn when a
//! mechanism is built (see [`CurveClient::new`], [`CurveServer::new`]): build
//! one mechanism per connection.
//!
//! The cookie key is drawn anew for every WELCOME and lives
//! [`COOKIE_KEY_LIFETIME`] (measured with the `now` the connection passes
//! in): an INITIATE after that is refused, and the key is erased as soon as
//! a valid INITIATE has been read.
#![forbid(unsafe_code)]

mod client;
mod server;

use core::fmt;
use core::time::Duration;

use crypto_secretbox::aead::{AeadInPlace, KeyInit};
use crypto_secretbox::{Key, Nonce, Tag, XSalsa20Poly1305};
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey as DalekPublic, StaticSecret};

pub use client::{CurveClient, NewClientError};
pub use server::CurveServer;

use super::Error;
use super::frame::Flags;

/// Bytes in a CURVE key (public or secret).
pub const KEY_LEN: usize = 32;
/// How long a server keeps the cookie key of a WELCOME: an INITIATE that
/// comes later is refused (RFC 26 suggests 60 seconds).
pub const COOKIE_KEY_LIFETIME: Duration = Duration::from_secs(60);
/// Bytes MESSAGE adds to a frame: name (8), short nonce (8), tag (16),
/// flags (1).
pub const MESSAGE_OVERHEAD: usize = 33;

/// Poly1305 tag in front of every box.
const TAG_LEN: usize = 16;
const MESSAGE_NAME: &[u8] = b"\x07MESSAGE";
/// MESSAGE flags: bit 0 MORE, bit 1 COMMAND (libzmq's msg_t flags, which
/// it seals unchanged); RFC 26 reserves the rest.
const MESSAGE_MORE: u8 = 0x01;
const MESSAGE_COMMAND: u8 = 0x02;

/// A source of cryptographically secure random bytes, supplied by the
/// caller: the std backend reads the OS (`getrandom`), firmware its
/// hardware generator. It must never return predictable bytes: the
/// transient keys, cookie key and long nonces of every connection come
/// from it.
pub trait Random {
    /// Fills `dest` entirely with random bytes, or fails.
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomError>;
}

impl<R: Random + ?Sized> Random for &mut R {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomError> {
        (**self).fill(dest)
    }
}

/// The random source failed; no key was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomError;

impl fmt::Display for RandomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the random source failed")
    }
}

impl core::error::Error for RandomError {}

/// A long-term or transient CURVE secret key: 32 bytes, zeroized when
/// dropped, never printed.
#[derive(Clone)]
pub struct SecretKey(StaticSecret);

impl SecretKey {
    /// The key with these bytes (libzmq's `ZMQ_CURVE_SECRETKEY`).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> SecretKey {
        SecretKey(StaticSecret::from(bytes))
    }

    /// A new random key.
    pub fn generate(rng: &mut impl Random) -> Result<SecretKey, RandomError> {
        let mut bytes = zeroize::Zeroizing::new([0u8; KEY_LEN]);
        rng.fill(&mut bytes[..])?;
        Ok(SecretKey::from_bytes(*bytes))
    }

    /// The public key that goes with this secret key (libzmq's
    /// `zmq_curve_public`).
    pub fn public_key(&self) -> [u8; KEY_LEN] {
        DalekPublic::from(&self.0).to_bytes()
    }

    /// The secret bytes, to store the key.
    pub fn to_bytes(&self) -> [u8; KEY_LEN] {
        self.0.to_bytes()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// A long-term key pair (libzmq's `zmq_curve_keypair`).
#[derive(Clone, Debug)]
pub struct KeyPair {
    public: [u8; KEY_LEN],
    secret: SecretKey,
}

impl KeyPair {
    /// A new random key pair.
    pub fn generate(rng: &mut impl Random) -> Result<KeyPair, RandomError> {
        Ok(KeyPair::from_secret(SecretKey::generate(rng)?))
    }

    /// The pair of this secret key (its public key is computed).
    pub fn from_secret(secret: SecretKey) -> KeyPair {
        KeyPair {
            public: secret.public_key(),
            secret,
        }
    }

    /// The public key.
    pub fn public_key(&self) -> &[u8; KEY_LEN] {
        &self.public
    }

    /// The secret key.
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret
    }
}

/// Which CURVE command a failure concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveCommand {
    /// HELLO (client to server).
    Hello,
    /// WELCOME (server to client).
    Welcome,
    /// INITIATE (client to server).
    Initiate,
    /// READY (server to client).
    Ready,
    /// MESSAGE (either way).
    Message,
}

/// Why a CURVE handshake or MESSAGE was refused; each maps onto one of
/// libzmq's `ZMQ_PROTOCOL_ERROR_ZMTP_*` codes (named in the variant docs)
/// for monitor events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CurveError {
    /// The command has the wrong size or layout (unknown version, non-zero
    /// padding or reserved flag bits): `MALFORMED_COMMAND_*`.
    Malformed(CurveCommand),
    /// A box did not open: wrong key, or bytes altered on the way
    /// (`CRYPTOGRAPHIC`). A client whose server key is wrong makes the
    /// server fail with `Cryptographic(Hello)`.
    Cryptographic(CurveCommand),
    /// A short nonce not larger than the peer's last one: a replayed or
    /// reordered command (`INVALID_SEQUENCE`).
    InvalidSequence(CurveCommand),
    /// The cookie or the vouch names other keys than this connection's
    /// (`KEY_EXCHANGE`).
    KeyExchange,
    /// INITIATE came after the cookie key had expired.
    CookieExpired,
    /// The peer's public key is of small order (its shared secret is all
    /// zeros), which libsodium refuses too (`CRYPTOGRAPHIC`).
    WeakKey,
    /// This side has sent 2^64 - 1 commands: RFC 26 ends the connection.
    NonceExhausted,
}

impl fmt::Display for CurveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CurveError::Malformed(c) => write!(f, "malformed CURVE {c:?}"),
            CurveError::Cryptographic(c) => write!(f, "CURVE {c:?} box did not open"),
            CurveError::InvalidSequence(c) => {
                write!(f, "CURVE {c:?} nonce replayed or out of order")
            }
            CurveError::KeyExchange => f.write_str("CURVE cookie or vouch does not match"),
            CurveError::CookieExpired => f.write_str("CURVE cookie key expired before INITIATE"),
            CurveError::WeakKey => f.write_str("CURVE peer key of small order"),
            CurveError::NonceExhausted => f.write_str("CURVE nonces exhausted"),
        }
    }
}

impl core::error::Error for CurveError {}

impl From<CurveError> for Error {
    fn from(e: CurveError) -> Self {
        Error::Curve(e)
    }
}

/// A box key precomputed from one side's secret and the other's public key
/// (NaCl `crypto_box_beforenm`: HSalsa20 of the X25519 shared secret);
/// zeroized when dropped.
#[derive(Clone)]
struct BoxKey(XSalsa20Poly1305);

impl BoxKey {
    fn new(secret: &StaticSecret, public: &[u8; KEY_LEN]) -> Result<BoxKey, CurveError> {
        let shared = secret.diffie_hellman(&DalekPublic::from(*public));
        if !shared.was_contributory() {
            return Err(CurveError::WeakKey);
        }
        let key = zeroize::Zeroizing::new(salsa20::hsalsa::<salsa20::cipher::consts::U10>(
            Key::from_slice(shared.as_bytes()),
            &Default::default(),
        ));
        Ok(BoxKey(XSalsa20Poly1305::new(&key)))
    }

    /// A symmetric key used as is (the cookie key: NaCl `crypto_secretbox`).
    fn symmetric(key: &[u8; KEY_LEN]) -> BoxKey {
        BoxKey(XSalsa20Poly1305::new(Key::from_slice(key)))
    }

    /// Seals `region[TAG_LEN..]` in place and writes the tag in front.
    fn seal(&self, nonce: &[u8; 24], region: &mut [u8]) {
        let (tag, text) = region.split_at_mut(TAG_LEN);
        // Fails only for texts longer than XSalsa20 can encrypt (2^70
        // bytes), which no slice is.
        if let Ok(t) = self
            .0
            .encrypt_in_place_detached(Nonce::from_slice(nonce), b"", text)
        {
            tag.copy_from_slice(&t);
        }
    }

    /// Opens `region` (tag, then ciphertext) in place: the plaintext is
    /// `region[TAG_LEN..]` on success. `region` must be at least TAG_LEN.
    fn open(&self, nonce: &[u8; 24], region: &mut [u8]) -> bool {
        let (tag, text) = region.split_at_mut(TAG_LEN);
        self.0
            .decrypt_in_place_detached(Nonce::from_slice(nonce), b"", text, Tag::from_slice(tag))
            .is_ok()
    }
}

impl fmt::Debug for BoxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoxKey(..)")
    }
}

/// A 24-byte nonce: `prefix` then `rest`.
fn nonce(prefix: &[u8], rest: &[u8]) -> [u8; 24] {
    let mut n = [0u8; 24];
    n[..prefix.len()].copy_from_slice(prefix);
    n[prefix.len()..].copy_from_slice(rest);
    n
}

/// Constant-time equality of two byte strings of the same length.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Reads the 8-byte big-endian short nonce at the front of `bytes`.
fn short_nonce(bytes: &[u8]) -> u64 {
    let mut be = [0u8; 8];
    be.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(be)
}

/// The sealing state of an established connection: the transient box key,
/// our next short nonce and the peer's last one.
#[derive(Clone, Debug)]
struct Session {
    key: BoxKey,
    send_prefix: &'static [u8; 16],
    recv_prefix: &'static [u8; 16],
}

/// Short nonces of one connection: ours (next to send) and the peer's
/// (the largest seen).
#[derive(Clone, Copy, Debug)]
struct Nonces {
    next: u64,
    peer: u64,
}

impl Nonces {
    const fn new() -> Nonces {
        Nonces { next: 1, peer: 0 }
    }

    /// Our next short nonce.
    fn take(&mut self) -> Result<u64, CurveError> {
        let n = self.next;
        self.next = n.checked_add(1).ok_or(CurveError::NonceExhausted)?;
        Ok(n)
    }

    /// Refuses a peer nonce not above the last one; the caller accepts it
    /// with [`Nonces::accept`] once its box has opened.
    fn check(&self, n: u64, command: CurveCommand) -> Result<u64, CurveError> {
        if n <= self.peer {
            return Err(CurveError::InvalidSequence(command));
        }
        Ok(n)
    }

    fn accept(&mut self, n: u64) {
        self.peer = n;
    }
}

impl Session {
    /// Seals one frame into `out` (exactly [`MESSAGE_OVERHEAD`] + the parts'
    /// length).
    fn seal(
        &self,
        nonces: &mut Nonces,
        out: &mut [u8],
        flags: Flags,
        parts: &[&[u8]],
    ) -> Result<(), Error> {
        let n = nonces.take()?;
        out[..8].copy_from_slice(MESSAGE_NAME);
        out[8..16].copy_from_slice(&n.to_be_bytes());
        out[32] = if flags.is_command() {
            MESSAGE_COMMAND
        } else if flags.more() {
            MESSAGE_MORE
        } else {
            0
        };
        let mut at = MESSAGE_OVERHEAD;
        for p in parts {
            out[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
        self.key
            .seal(&nonce(self.send_prefix, &out[8..16]), &mut out[16..at]);
        Ok(())
    }

    /// Opens a MESSAGE in place: its frame flags and where its frame
    /// starts in `body`.
    fn open(&self, nonces: &mut Nonces, body: &mut [u8]) -> Result<(Flags, usize), Error> {
        if !body.starts_with(MESSAGE_NAME) {
            return Err(Error::UnexpectedCommand);
        }
        if body.len() < MESSAGE_OVERHEAD {
            return Err(CurveError::Malformed(CurveCommand::Message).into());
        }
        let n = nonces.check(short_nonce(&body[8..]), CurveCommand::Message)?;
        let full = nonce(self.recv_prefix, &body[8..16]);
        if !self.key.open(&full, &mut body[16..]) {
            return Err(CurveError::Cryptographic(CurveCommand::Message).into());
        }
        nonces.accept(n);
        let flags = match body[32] {
            0 => Flags::data(false),
            MESSAGE_MORE => Flags::data(true),
            MESSAGE_COMMAND => Flags::command(),
            // Reserved bits, or a command with MORE.
            _ => return Err(CurveError::Malformed(CurveCommand::Message).into()),
        };
        Ok((flags, MESSAGE_OVERHEAD))
    }
}

const CLIENT_MESSAGE: &[u8; 16] = b"CurveZMQMESSAGEC";
const SERVER_MESSAGE: &[u8; 16] = b"CurveZMQMESSAGES";
const HELLO_PREFIX: &[u8; 16] = b"CurveZMQHELLO---";
const INITIATE_PREFIX: &[u8; 16] = b"CurveZMQINITIATE";
const READY_PREFIX: &[u8; 16] = b"CurveZMQREADY---";
const WELCOME_PREFIX: &[u8; 8] = b"WELCOME-";
const COOKIE_PREFIX: &[u8; 8] = b"COOKIE--";
const VOUCH_PREFIX: &[u8; 8] = b"VOUCH---";

const HELLO_LEN: usize = 200;
const WELCOME_LEN: usize = 168;
/// INITIATE without metadata.
const INITIATE_MIN_LEN: usize = 257;
/// READY without metadata.
const READY_MIN_LEN: usize = 30;
/// ERROR with a three-digit status code.
const ERROR_LEN: usize = 10;
/// A cookie: long nonce, then Box[C' + s'](cookie key).
const COOKIE_LEN: usize = 96;

#[cfg(test)]
pub(crate) mod tests;
