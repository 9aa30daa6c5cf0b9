//! CURVE, server role: answers HELLO with WELCOME and a cookie, checks the
//! cookie and the vouch in INITIATE, asks the caller about the client's
//! long-term key, then READY or ERROR.
#![forbid(unsafe_code)]

use x25519_dalek::StaticSecret;

use super::super::Error;
use super::super::frame::Flags;
use super::super::greeting::MechanismName;
use super::super::mechanism::{AuthVerdict, Credentials, Mechanism, Step, status_code_reason};
use super::{
    BoxKey, CLIENT_MESSAGE, COOKIE_KEY_LIFETIME, COOKIE_LEN, COOKIE_PREFIX, CurveCommand,
    CurveError, ERROR_LEN, HELLO_LEN, HELLO_PREFIX, INITIATE_MIN_LEN, INITIATE_PREFIX, KEY_LEN,
    KeyPair, MESSAGE_OVERHEAD, Nonces, READY_MIN_LEN, READY_PREFIX, Random, RandomError,
    SERVER_MESSAGE, Session, TAG_LEN, VOUCH_PREFIX, WELCOME_LEN, WELCOME_PREFIX, ct_eq, nonce,
    short_nonce,
};
use crate::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    WaitHello,
    SendWelcome,
    WaitInitiate,
    WaitVerdict,
    SendReady,
    Done,
    SendError([u8; 3]),
    ErrorSent,
}

/// Randomness a server needs for one connection, drawn in advance.
#[derive(Clone)]
struct Draw {
    cookie_key: [u8; KEY_LEN],
    cookie_nonce: [u8; 16],
    welcome_nonce: [u8; 16],
}

impl Drop for Draw {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.cookie_key);
    }
}

/// CURVE, server role: holds the server's long-term key pair; learns and
/// vouches for each client's long-term public key, which it hands to the
/// caller as [`Credentials::Curve`] for a verdict (a ZAP handler's job in
/// libzmq; accept everyone for encryption without authentication).
///
/// ```
/// use zlink_mq_core::zmtp::curve::{CurveServer, KeyPair, Random, RandomError};
///
/// # struct Os; impl Random for Os { fn fill(&mut self, d: &mut [u8]) -> Result<(), RandomError> { d.fill(7); Ok(()) } }
/// let mut rng = Os; // the platform's generator (`getrandom` on std)
/// let keys = KeyPair::generate(&mut rng).unwrap();
/// let server = CurveServer::new(&keys, &mut rng).unwrap();
/// # let _ = server;
/// ```
#[derive(Clone)]
pub struct CurveServer {
    state: State,
    secret: StaticSecret,
    public: [u8; KEY_LEN],
    /// Our transient key pair (s', S').
    cn_secret: StaticSecret,
    cn_public: [u8; KEY_LEN],
    /// From HELLO: the client's transient key C'.
    cn_client: [u8; KEY_LEN],
    /// Box[..](S->C') for WELCOME, between HELLO and WELCOME.
    welcome_key: Option<BoxKey>,
    /// The cookie key and long nonces; the cookie key is erased once
    /// INITIATE is read (or when this mechanism is dropped).
    draw: Draw,
    cookie_key_live: bool,
    hello_at: Instant,
    /// From INITIATE: the client's long-term key C.
    client_key: [u8; KEY_LEN],
    session: Option<Session>,
    nonces: Nonces,
}

impl core::fmt::Debug for CurveServer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CurveServer")
            .field("state", &self.state)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl CurveServer {
    /// A server with long-term key pair `keys`. Draws its transient key,
    /// cookie key and long nonces from `rng` now: use one server per
    /// connection.
    pub fn new(keys: &KeyPair, rng: &mut impl Random) -> Result<CurveServer, RandomError> {
        let cn_secret = super::SecretKey::generate(rng)?;
        let mut draw = Draw {
            cookie_key: [0; KEY_LEN],
            cookie_nonce: [0; 16],
            welcome_nonce: [0; 16],
        };
        rng.fill(&mut draw.cookie_key)?;
        rng.fill(&mut draw.cookie_nonce)?;
        rng.fill(&mut draw.welcome_nonce)?;
        Ok(CurveServer {
            state: State::WaitHello,
            secret: keys.secret_key().0.clone(),
            public: *keys.public_key(),
            cn_public: cn_secret.public_key(),
            cn_secret: cn_secret.0.clone(),
            cn_client: [0; KEY_LEN],
            welcome_key: None,
            draw,
            cookie_key_live: true,
            hello_at: Instant::ZERO,
            client_key: [0; KEY_LEN],
            session: None,
            nonces: Nonces::new(),
        })
    }

    /// The client's long-term public key, once INITIATE has proved it.
    pub fn client_key(&self) -> Option<&[u8; KEY_LEN]> {
        matches!(
            self.state,
            State::WaitVerdict | State::SendReady | State::Done
        )
        .then_some(&self.client_key)
    }

    fn erase_cookie_key(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.draw.cookie_key);
        self.cookie_key_live = false;
    }

    fn handle_hello(&mut self, body: &mut [u8], now: Instant) -> Result<(), Error> {
        let malformed = CurveError::Malformed(CurveCommand::Hello);
        // Version 1.0, then RFC 26's 72 zero bytes of padding.
        if body.len() != HELLO_LEN || body[6..8] != [1, 0] || body[8..80].iter().any(|&b| b != 0) {
            return Err(malformed.into());
        }
        self.cn_client.copy_from_slice(&body[80..112]);
        let n = self
            .nonces
            .check(short_nonce(&body[112..]), CurveCommand::Hello)?;
        let key = BoxKey::new(&self.secret, &self.cn_client)?;
        let full = nonce(HELLO_PREFIX, &body[112..120]);
        if !key.open(&full, &mut body[120..]) {
            return Err(CurveError::Cryptographic(CurveCommand::Hello).into());
        }
        if body[120 + TAG_LEN..].iter().any(|&b| b != 0) {
            return Err(malformed.into());
        }
        self.nonces.accept(n);
        self.session = Some(Session {
            key: BoxKey::new(&self.cn_secret, &self.cn_client)?,
            send_prefix: SERVER_MESSAGE,
            recv_prefix: CLIENT_MESSAGE,
        });
        self.welcome_key = Some(key);
        self.hello_at = now;
        Ok(())
    }

    fn write_welcome(&mut self, out: &mut [u8]) {
        out[..8].copy_from_slice(b"\x07WELCOME");
        out[8..24].copy_from_slice(&self.draw.welcome_nonce);
        // Box[S' + cookie](S->C'), the cookie Box[C' + s'](cookie key).
        let plain = 24 + TAG_LEN;
        out[plain..plain + 32].copy_from_slice(&self.cn_public);
        let cookie = plain + 32;
        out[cookie..cookie + 16].copy_from_slice(&self.draw.cookie_nonce);
        let cbox = cookie + 16;
        out[cbox + TAG_LEN..cbox + TAG_LEN + 32].copy_from_slice(&self.cn_client);
        let cn_secret = zeroize::Zeroizing::new(self.cn_secret.to_bytes());
        out[cbox + TAG_LEN + 32..cbox + TAG_LEN + 64].copy_from_slice(&cn_secret[..]);
        BoxKey::symmetric(&self.draw.cookie_key).seal(
            &nonce(COOKIE_PREFIX, &self.draw.cookie_nonce),
            &mut out[cbox..cbox + TAG_LEN + 64],
        );
        if let Some(key) = self.welcome_key.take() {
            key.seal(
                &nonce(WELCOME_PREFIX, &self.draw.welcome_nonce),
                &mut out[24..WELCOME_LEN],
            );
        }
    }

    fn handle_initiate<'a>(&mut self, body: &'a mut [u8], now: Instant) -> Result<&'a [u8], Error> {
        if body.len() < INITIATE_MIN_LEN {
            return Err(CurveError::Malformed(CurveCommand::Initiate).into());
        }
        if !self.cookie_key_live
            || now.saturating_duration_since(self.hello_at) > COOKIE_KEY_LIFETIME
        {
            self.erase_cookie_key();
            return Err(CurveError::CookieExpired.into());
        }
        // The cookie: ours, and naming this connection's keys.
        let cookie_nonce = nonce(COOKIE_PREFIX, &body[9..25]);
        if !BoxKey::symmetric(&self.draw.cookie_key)
            .open(&cookie_nonce, &mut body[25..9 + COOKIE_LEN])
        {
            return Err(CurveError::Cryptographic(CurveCommand::Initiate).into());
        }
        let cookie = &body[25 + TAG_LEN..9 + COOKIE_LEN];
        let cn_secret = zeroize::Zeroizing::new(self.cn_secret.to_bytes());
        if !(ct_eq(&cookie[..32], &self.cn_client) & ct_eq(&cookie[32..], &cn_secret[..])) {
            return Err(CurveError::KeyExchange.into());
        }
        self.erase_cookie_key();
        let n = self
            .nonces
            .check(short_nonce(&body[105..]), CurveCommand::Initiate)?;
        let full = nonce(INITIATE_PREFIX, &body[105..113]);
        let opened = self
            .session
            .as_ref()
            .is_some_and(|s| s.key.open(&full, &mut body[113..]));
        if !opened {
            return Err(CurveError::Cryptographic(CurveCommand::Initiate).into());
        }
        self.nonces.accept(n);
        let plain = 113 + TAG_LEN;
        self.client_key.copy_from_slice(&body[plain..plain + 32]);
        let vouch_nonce = nonce(VOUCH_PREFIX, &body[plain + 32..plain + 48]);
        let vouch = plain + 48;
        let key = BoxKey::new(&self.cn_secret, &self.client_key)?;
        if !key.open(&vouch_nonce, &mut body[vouch..vouch + TAG_LEN + 64]) {
            return Err(CurveError::Cryptographic(CurveCommand::Initiate).into());
        }
        let vouched = &body[vouch + TAG_LEN..vouch + TAG_LEN + 64];
        if !(ct_eq(&vouched[..32], &self.cn_client) & ct_eq(&vouched[32..], &self.public)) {
            return Err(CurveError::KeyExchange.into());
        }
        let body: &'a [u8] = body;
        Ok(&body[INITIATE_MIN_LEN..])
    }

    fn write_ready(&mut self, metadata: &[u8], out: &mut [u8]) -> Result<(), CurveError> {
        let n = self.nonces.take()?;
        out[..6].copy_from_slice(b"\x05READY");
        out[6..14].copy_from_slice(&n.to_be_bytes());
        out[READY_MIN_LEN..].copy_from_slice(metadata);
        if let Some(s) = &self.session {
            s.key
                .seal(&nonce(READY_PREFIX, &out[6..14]), &mut out[14..]);
        }
        Ok(())
    }
}

impl Mechanism for CurveServer {
    fn name(&self) -> MechanismName {
        MechanismName::CURVE
    }

    fn as_server(&self) -> bool {
        true
    }

    fn max_command_len(&self, metadata_len: usize) -> usize {
        WELCOME_LEN.max(READY_MIN_LEN + metadata_len)
    }

    fn next_command_len(&self, metadata: &[u8]) -> Option<usize> {
        match self.state {
            State::SendWelcome => Some(WELCOME_LEN),
            State::SendReady => Some(READY_MIN_LEN + metadata.len()),
            State::SendError(_) => Some(ERROR_LEN),
            _ => None,
        }
    }

    fn write_command(&mut self, metadata: &[u8], out: &mut [u8]) {
        match self.state {
            State::SendWelcome => {
                self.write_welcome(out);
                self.state = State::WaitInitiate;
            }
            State::SendReady => {
                // Our first short nonce cannot be exhausted.
                let _ = self.write_ready(metadata, out);
                self.state = State::Done;
            }
            State::SendError(code) => {
                super::super::mechanism::write_command_body(out, b"ERROR", &[&[3], &code]);
                self.state = State::ErrorSent;
            }
            // Not called without `next_command_len` saying so.
            _ => {}
        }
    }

    fn handle_command<'a>(&mut self, body: &'a mut [u8], now: Instant) -> Result<Step<'a>, Error> {
        match self.state {
            State::WaitHello if body.starts_with(b"\x05HELLO") => {
                self.handle_hello(body, now)?;
                self.state = State::SendWelcome;
                Ok(Step::Continue)
            }
            State::WaitInitiate if body.starts_with(b"\x08INITIATE") => {
                let metadata = self.handle_initiate(body, now)?;
                self.state = State::WaitVerdict;
                Ok(Step::AuthRequestAndMetadata(metadata))
            }
            _ => Err(Error::UnexpectedCommand),
        }
    }

    fn credentials(&self) -> Option<Credentials<'_>> {
        (self.state == State::WaitVerdict).then_some(Credentials::Curve {
            public_key: &self.client_key,
        })
    }

    fn handle_auth_verdict(&mut self, verdict: AuthVerdict) -> Result<(), Error> {
        if self.state != State::WaitVerdict {
            return Err(Error::NoAuthRequest);
        }
        self.state = match verdict {
            AuthVerdict::Accept => State::SendReady,
            // ZAP's 300 (temporary failure): libzmq closes without ERROR,
            // so the client retries.
            AuthVerdict::Reject { status_code: 300 } => State::ErrorSent,
            AuthVerdict::Reject { status_code } => {
                State::SendError(status_code_reason(status_code))
            }
        };
        Ok(())
    }

    fn is_complete(&self) -> bool {
        self.state == State::Done
    }

    fn failure(&self) -> Option<Error> {
        (self.state == State::ErrorSent).then_some(Error::AuthenticationFailed)
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
