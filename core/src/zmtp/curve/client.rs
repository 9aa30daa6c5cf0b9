//! CURVE, client role: HELLO, then INITIATE once WELCOME has proved the
//! server holds the secret key of the public key we were given.
#![forbid(unsafe_code)]

use x25519_dalek::StaticSecret;

use super::super::Error;
use super::super::frame::Flags;
use super::super::greeting::MechanismName;
use super::super::mechanism::{Mechanism, Step};
use super::{
    BoxKey, CLIENT_MESSAGE, COOKIE_LEN, CurveCommand, CurveError, HELLO_LEN, HELLO_PREFIX,
    INITIATE_MIN_LEN, INITIATE_PREFIX, KEY_LEN, KeyPair, MESSAGE_OVERHEAD, Nonces, READY_MIN_LEN,
    READY_PREFIX, Random, RandomError, SERVER_MESSAGE, Session, TAG_LEN, VOUCH_PREFIX, WELCOME_LEN,
    WELCOME_PREFIX, nonce, short_nonce,
};
use crate::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    SendHello,
    WaitWelcome,
    SendInitiate,
    WaitReady,
    Done,
}

/// CURVE, client role: knows the server's long-term public key, proves its
/// own long-term key pair inside INITIATE.
///
/// ```
/// use zlink_mq_core::zmtp::curve::{CurveClient, KeyPair, Random, RandomError, SecretKey};
///
/// # struct Os; impl Random for Os { fn fill(&mut self, d: &mut [u8]) -> Result<(), RandomError> { d.fill(7); Ok(()) } }
/// let mut rng = Os; // the platform's generator (`getrandom` on std)
/// let ours = KeyPair::generate(&mut rng).unwrap();
/// let server_public = SecretKey::from_bytes([9; 32]).public_key();
/// let client = CurveClient::new(&ours, server_public, &mut rng).unwrap();
/// # let _ = client;
/// ```
#[derive(Clone)]
pub struct CurveClient {
    state: State,
    /// Our long-term secret key c (for the vouch).
    secret: StaticSecret,
    /// Our long-term public key C.
    public: [u8; KEY_LEN],
    /// The server's long-term public key S.
    server: [u8; KEY_LEN],
    /// Our transient key pair (c', C').
    cn_secret: StaticSecret,
    cn_public: [u8; KEY_LEN],
    /// Box[..](C'->S), for HELLO and the WELCOME box; dropped after.
    hello_key: Option<BoxKey>,
    /// Long nonce of the vouch, drawn in advance.
    vouch_nonce: [u8; 16],
    /// From WELCOME: the server's transient key S' and its cookie.
    cn_server: [u8; KEY_LEN],
    cookie: [u8; COOKIE_LEN],
    /// Box[..](C->S') for the vouch, between WELCOME and INITIATE.
    vouch_key: Option<BoxKey>,
    /// Box[..](C'->S'): INITIATE, READY and every MESSAGE.
    session: Option<Session>,
    nonces: Nonces,
}

impl core::fmt::Debug for CurveClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CurveClient")
            .field("state", &self.state)
            .field("public", &self.public)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl CurveClient {
    /// A client with long-term key pair `keys` for a server whose long-term
    /// public key is `server_key`. Draws the transient key and the vouch's
    /// long nonce from `rng` now: use one client per connection.
    pub fn new(
        keys: &KeyPair,
        server_key: [u8; KEY_LEN],
        rng: &mut impl Random,
    ) -> Result<CurveClient, NewClientError> {
        let cn_secret = super::SecretKey::generate(rng)?;
        let mut vouch_nonce = [0u8; 16];
        rng.fill(&mut vouch_nonce)?;
        let hello_key = BoxKey::new(&cn_secret.0, &server_key)?;
        Ok(CurveClient {
            state: State::SendHello,
            secret: keys.secret_key().0.clone(),
            public: *keys.public_key(),
            server: server_key,
            cn_public: cn_secret.public_key(),
            cn_secret: cn_secret.0.clone(),
            hello_key: Some(hello_key),
            vouch_nonce,
            cn_server: [0; KEY_LEN],
            cookie: [0; COOKIE_LEN],
            vouch_key: None,
            session: None,
            nonces: Nonces::new(),
        })
    }

    /// The server's long-term public key this client expects.
    pub fn server_key(&self) -> &[u8; KEY_LEN] {
        &self.server
    }

    fn write_hello(&mut self, out: &mut [u8]) -> Result<(), CurveError> {
        let n = self.nonces.take()?;
        out[..6].copy_from_slice(b"\x05HELLO");
        out[6] = 1;
        out[7] = 0;
        out[8..80].fill(0);
        out[80..112].copy_from_slice(&self.cn_public);
        out[112..120].copy_from_slice(&n.to_be_bytes());
        // Signature: Box[64 zeros](C'->S).
        out[120 + TAG_LEN..HELLO_LEN].fill(0);
        if let Some(key) = &self.hello_key {
            key.seal(
                &nonce(HELLO_PREFIX, &out[112..120]),
                &mut out[120..HELLO_LEN],
            );
        }
        Ok(())
    }

    fn handle_welcome(&mut self, body: &mut [u8]) -> Result<(), Error> {
        if body.len() != WELCOME_LEN {
            return Err(CurveError::Malformed(CurveCommand::Welcome).into());
        }
        let full = nonce(WELCOME_PREFIX, &body[8..24]);
        let opened = self
            .hello_key
            .as_ref()
            .is_some_and(|key| key.open(&full, &mut body[24..]));
        if !opened {
            return Err(CurveError::Cryptographic(CurveCommand::Welcome).into());
        }
        self.hello_key = None;
        let plain = &body[24 + TAG_LEN..];
        self.cn_server.copy_from_slice(&plain[..KEY_LEN]);
        self.cookie
            .copy_from_slice(&plain[KEY_LEN..KEY_LEN + COOKIE_LEN]);
        self.vouch_key = Some(BoxKey::new(&self.secret, &self.cn_server)?);
        self.session = Some(Session {
            key: BoxKey::new(&self.cn_secret, &self.cn_server)?,
            send_prefix: CLIENT_MESSAGE,
            recv_prefix: SERVER_MESSAGE,
        });
        Ok(())
    }

    fn write_initiate(&mut self, metadata: &[u8], out: &mut [u8]) -> Result<(), CurveError> {
        let n = self.nonces.take()?;
        out[..9].copy_from_slice(b"\x08INITIATE");
        out[9..105].copy_from_slice(&self.cookie);
        out[105..113].copy_from_slice(&n.to_be_bytes());
        // Box[C + vouch + metadata](C'->S'), the vouch Box[C' + S](C->S').
        let plain = 113 + TAG_LEN;
        out[plain..plain + 32].copy_from_slice(&self.public);
        out[plain + 32..plain + 48].copy_from_slice(&self.vouch_nonce);
        let vouch = plain + 48;
        out[vouch + TAG_LEN..vouch + TAG_LEN + 32].copy_from_slice(&self.cn_public);
        out[vouch + TAG_LEN + 32..vouch + TAG_LEN + 64].copy_from_slice(&self.server);
        if let Some(key) = self.vouch_key.take() {
            key.seal(
                &nonce(VOUCH_PREFIX, &self.vouch_nonce),
                &mut out[vouch..vouch + TAG_LEN + 64],
            );
        }
        out[INITIATE_MIN_LEN..].copy_from_slice(metadata);
        if let Some(s) = &self.session {
            s.key
                .seal(&nonce(INITIATE_PREFIX, &out[105..113]), &mut out[113..]);
        }
        Ok(())
    }

    fn handle_ready<'a>(&mut self, body: &'a mut [u8]) -> Result<&'a [u8], Error> {
        if body.len() < READY_MIN_LEN {
            return Err(CurveError::Malformed(CurveCommand::Ready).into());
        }
        let n = self
            .nonces
            .check(short_nonce(&body[6..]), CurveCommand::Ready)?;
        let full = nonce(READY_PREFIX, &body[6..14]);
        let opened = self
            .session
            .as_ref()
            .is_some_and(|s| s.key.open(&full, &mut body[14..]));
        if !opened {
            return Err(CurveError::Cryptographic(CurveCommand::Ready).into());
        }
        self.nonces.accept(n);
        let body: &'a [u8] = body;
        Ok(&body[READY_MIN_LEN..])
    }
}

/// Why a [`CurveClient`] could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NewClientError {
    /// The random source failed.
    Random(RandomError),
    /// The server key is of small order: no box can be made for it.
    WeakServerKey,
}

impl core::fmt::Display for NewClientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NewClientError::Random(e) => e.fmt(f),
            NewClientError::WeakServerKey => f.write_str("CURVE server key of small order"),
        }
    }
}

impl core::error::Error for NewClientError {}

impl From<RandomError> for NewClientError {
    fn from(e: RandomError) -> Self {
        NewClientError::Random(e)
    }
}

impl From<CurveError> for NewClientError {
    fn from(_: CurveError) -> Self {
        NewClientError::WeakServerKey
    }
}

impl Mechanism for CurveClient {
    fn name(&self) -> MechanismName {
        MechanismName::CURVE
    }

    fn as_server(&self) -> bool {
        false
    }

    fn max_command_len(&self, metadata_len: usize) -> usize {
        HELLO_LEN.max(INITIATE_MIN_LEN + metadata_len)
    }

    fn next_command_len(&self, metadata: &[u8]) -> Option<usize> {
        match self.state {
            State::SendHello => Some(HELLO_LEN),
            State::SendInitiate => Some(INITIATE_MIN_LEN + metadata.len()),
            _ => None,
        }
    }

    fn write_command(&mut self, metadata: &[u8], out: &mut [u8]) {
        // Our first two short nonces cannot be exhausted.
        match self.state {
            State::SendHello => {
                let _ = self.write_hello(out);
                self.state = State::WaitWelcome;
            }
            State::SendInitiate => {
                let _ = self.write_initiate(metadata, out);
                self.state = State::WaitReady;
            }
            // Not called without `next_command_len` saying so.
            _ => {}
        }
    }

    fn handle_command<'a>(&mut self, body: &'a mut [u8], _now: Instant) -> Result<Step<'a>, Error> {
        match self.state {
            State::WaitWelcome if body.starts_with(b"\x07WELCOME") => {
                self.handle_welcome(body)?;
                self.state = State::SendInitiate;
                Ok(Step::Continue)
            }
            State::WaitReady if body.starts_with(b"\x05READY") => {
                let metadata = self.handle_ready(body)?;
                self.state = State::Done;
                Ok(Step::PeerMetadata(metadata))
            }
            _ => Err(Error::UnexpectedCommand),
        }
    }

    fn is_complete(&self) -> bool {
        self.state == State::Done
    }

    fn seal_overhead(&self) -> Option<usize> {
        Some(MESSAGE_OVERHEAD)
    }

    fn seal(&mut self, out: &mut [u8], flags: Flags, parts: &[&[u8]]) -> Result<(), Error> {
        match (&self.session, self.state) {
            (Some(s), State::Done) => s.seal(&mut self.nonces, out, flags, parts),
            _ => Err(Error::UnexpectedData),
        }
    }

    fn open(&mut self, body: &mut [u8]) -> Result<(Flags, usize), Error> {
        match (&self.session, self.state) {
            (Some(s), State::Done) => s.open(&mut self.nonces, body),
            _ => Err(Error::UnexpectedData),
        }
    }
}
