//! The greeting: the 64 bytes each peer sends first (RFC 23 section "The
//! Greeting", RFC 37 section "Version Negotiation").
//!
//! ```text
//!   offset 0      1..9       9      10      11      12..32      32          33..64
//!        +------+---------+------+-------+-------+-----------+-----------+----------+
//!        | 0xFF | padding | 0x7F | major | minor | mechanism | as-server | filler   |
//!        |      | 8 bytes |      |  = 3  | 0 / 1 | 20 bytes, | 0 or 1    | 31 zeros |
//!        |      |         |      |       |       | NUL-padded|           |          |
//!        +------+---------+------+-------+-------+-----------+-----------+----------+
//!        \______ signature (10) _______/
//! ```
//!
//! We send major 3, minor 1. A peer with minor 0 speaks ZMTP 3.0 (no
//! SUBSCRIBE / CANCEL / PING / PONG commands: subscriptions travel as data
//! frames); any minor above 0, or a major above 3, is treated as 3.1, as
//! libzmq does.
//!
//! # Older peers are refused
//!
//! ZMTP 1.0 and 2.0 peers are detected from their first bytes, the way
//! libzmq tells them apart, and refused with
//! [`GreetingError::UnsupportedVersion`]: a first byte other than `0xFF`
//! (a 1.0 identity frame), bit 0 of byte 9 clear (also 1.0), or a major
//! version below 3 in byte 10 (2.0). We never need more than 11 bytes to
//! decide, so an old peer waiting for our reply cannot stall us.
#![forbid(unsafe_code)]

use core::fmt;

/// Length of a ZMTP 3.x greeting.
pub const GREETING_LEN: usize = 64;
/// Length of the signature (bytes 0 to 9).
pub const SIGNATURE_LEN: usize = 10;
/// Length of the mechanism name field.
pub const MECHANISM_LEN: usize = 20;
/// The version we announce.
pub const VERSION: (u8, u8) = (3, 1);

/// A security mechanism name as it appears in the greeting: 1 to 20 of the
/// characters `A-Z 0-9 - _ . +`, NUL-padded to 20 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MechanismName([u8; MECHANISM_LEN]);

impl MechanismName {
    /// `NULL` (RFC 23).
    pub const NULL: MechanismName = MechanismName::new_const(b"NULL");
    /// `PLAIN` (RFC 24).
    pub const PLAIN: MechanismName = MechanismName::new_const(b"PLAIN");
    /// `CURVE` (RFC 26).
    pub const CURVE: MechanismName = MechanismName::new_const(b"CURVE");

    const fn new_const(name: &[u8]) -> MechanismName {
        let mut out = [0u8; MECHANISM_LEN];
        let mut i = 0;
        while i < name.len() {
            out[i] = name[i];
            i += 1;
        }
        MechanismName(out)
    }

    /// A name from its text; `None` if it is empty, longer than 20 bytes or
    /// holds a character the RFC does not allow.
    pub fn new(name: &[u8]) -> Option<MechanismName> {
        let ok = !name.is_empty()
            && name.len() <= MECHANISM_LEN
            && name
                .iter()
                .all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || b"-_.+".contains(&c));
        ok.then(|| MechanismName::new_const(name))
    }

    /// The 20-byte field as sent.
    pub const fn as_field(&self) -> &[u8; MECHANISM_LEN] {
        &self.0
    }

    /// The name without its padding.
    pub fn as_bytes(&self) -> &[u8] {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(MECHANISM_LEN);
        &self.0[..end]
    }
}

impl fmt::Debug for MechanismName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MechanismName({self})")
    }
}

impl fmt::Display for MechanismName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.as_bytes() {
            if b.is_ascii_graphic() {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// A peer's greeting, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Greeting {
    /// Major version (3 or more: older peers are refused while parsing).
    pub major: u8,
    /// Minor version.
    pub minor: u8,
    /// The 20-byte mechanism field, as received.
    pub mechanism: [u8; MECHANISM_LEN],
    /// The peer claims the server role of the mechanism.
    pub as_server: bool,
}

impl Greeting {
    /// Our greeting for `mechanism` in the given role.
    pub const fn ours(mechanism: MechanismName, as_server: bool) -> Greeting {
        Greeting {
            major: VERSION.0,
            minor: VERSION.1,
            mechanism: mechanism.0,
            as_server,
        }
    }

    /// Whether the peer speaks ZMTP 3.1 or later (SUBSCRIBE / CANCEL /
    /// PING / PONG commands).
    pub const fn is_v3_1(&self) -> bool {
        self.major > 3 || self.minor >= 1
    }

    /// The 64 bytes on the wire.
    pub fn to_bytes(&self) -> [u8; GREETING_LEN] {
        let mut b = [0u8; GREETING_LEN];
        b[0] = 0xFF;
        b[9] = 0x7F;
        b[10] = self.major;
        b[11] = self.minor;
        b[12..32].copy_from_slice(&self.mechanism);
        b[32] = u8::from(self.as_server);
        b
    }
}

/// Why a peer's greeting was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GreetingError {
    /// The peer speaks ZMTP 1.0 or 2.0 (`major` is 1 or 2; 1 also for the
    /// unversioned 1.0 form).
    UnsupportedVersion {
        /// The peer's major version.
        major: u8,
    },
}

impl fmt::Display for GreetingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GreetingError::UnsupportedVersion { major } => write!(
                f,
                "peer speaks ZMTP {major}.0; only ZMTP 3.0 and later are supported"
            ),
        }
    }
}

impl core::error::Error for GreetingError {}

/// Collects a peer's greeting from input of any chunking.
///
/// ```
/// use zlink_mq_core::zmtp::greeting::{Greeting, GreetingParser, MechanismName};
///
/// let wire = Greeting::ours(MechanismName::NULL, false).to_bytes();
/// let mut p = GreetingParser::new();
/// let mut got = None;
/// for b in wire.chunks(1) {
///     let (used, done) = p.feed(b).unwrap();
///     assert_eq!(used, 1);
///     got = got.or(done);
/// }
/// assert_eq!(got.unwrap().minor, 1);
/// ```
#[derive(Debug, Clone)]
pub struct GreetingParser {
    buf: [u8; GREETING_LEN],
    have: usize,
}

impl Default for GreetingParser {
    fn default() -> Self {
        GreetingParser::new()
    }
}

impl GreetingParser {
    /// An empty parser.
    pub const fn new() -> GreetingParser {
        GreetingParser {
            buf: [0; GREETING_LEN],
            have: 0,
        }
    }

    /// Bytes of the greeting received so far.
    pub const fn received(&self) -> usize {
        self.have
    }

    /// Takes bytes from `input` (never more than the greeting needs) and
    /// returns how many were used and, once all 64 bytes are in, the
    /// greeting. Older protocol versions are refused as soon as they can be
    /// recognised. After an error or a complete greeting, do not feed again.
    pub fn feed(&mut self, input: &[u8]) -> Result<(usize, Option<Greeting>), GreetingError> {
        let take = (GREETING_LEN - self.have).min(input.len());
        let start = self.have;
        self.buf[start..start + take].copy_from_slice(&input[..take]);
        self.have += take;
        // Check each decisive byte once, as soon as it has arrived.
        if start == 0 && self.have > 0 && self.buf[0] != 0xFF {
            return Err(GreetingError::UnsupportedVersion { major: 1 });
        }
        if start <= 9 && self.have > 9 && self.buf[9] & 0x01 == 0 {
            return Err(GreetingError::UnsupportedVersion { major: 1 });
        }
        if start <= 10 && self.have > 10 && self.buf[10] < 3 {
            return Err(GreetingError::UnsupportedVersion {
                major: self.buf[10].max(1),
            });
        }
        if self.have < GREETING_LEN {
            return Ok((take, None));
        }
        let mut mechanism = [0u8; MECHANISM_LEN];
        mechanism.copy_from_slice(&self.buf[12..32]);
        Ok((
            take,
            Some(Greeting {
                major: self.buf[10],
                minor: self.buf[11],
                mechanism,
                // libzmq writes 0 or 1; read any non-zero as "server".
                as_server: self.buf[32] != 0,
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 23 / RFC 37 layout, written out by hand.
    const NULL_CLIENT_3_1: [u8; 64] = [
        0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0x7F, 3, 1, b'N', b'U', b'L', b'L', 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    #[test]
    fn golden_greeting() {
        assert_eq!(
            Greeting::ours(MechanismName::NULL, false).to_bytes(),
            NULL_CLIENT_3_1
        );
        let mut plain = NULL_CLIENT_3_1;
        plain[12..17].copy_from_slice(b"PLAIN");
        plain[32] = 1;
        assert_eq!(Greeting::ours(MechanismName::PLAIN, true).to_bytes(), plain);
    }

    #[test]
    fn parses_whole_and_bytewise() {
        let mut p = GreetingParser::new();
        let (used, g) = p.feed(&[&NULL_CLIENT_3_1[..], b"extra"].concat()).unwrap();
        assert_eq!(used, 64);
        let g = g.unwrap();
        assert_eq!((g.major, g.minor, g.as_server), (3, 1, false));
        assert_eq!(g.mechanism, *MechanismName::NULL.as_field());
        assert!(g.is_v3_1());

        let mut v30 = NULL_CLIENT_3_1;
        v30[11] = 0;
        let mut p = GreetingParser::new();
        for (i, b) in v30.iter().enumerate() {
            let (used, g) = p.feed(core::slice::from_ref(b)).unwrap();
            assert_eq!(used, 1);
            assert_eq!(g.is_some(), i == 63);
            if let Some(g) = g {
                assert!(!g.is_v3_1());
            }
        }
    }

    #[test]
    fn refuses_older_peers_early() {
        // ZMTP 1.0: a length-prefixed identity frame, e.g. empty identity.
        assert_eq!(
            GreetingParser::new().feed(&[0x01, 0x00]),
            Err(GreetingError::UnsupportedVersion { major: 1 })
        );
        // ZMTP 1.0 with a long identity length: 0xFF then flags without bit 0.
        let v1_long = [0xFF, 0, 0, 0, 0, 0, 0, 0, 0x05, 0x00];
        assert_eq!(
            GreetingParser::new().feed(&v1_long),
            Err(GreetingError::UnsupportedVersion { major: 1 })
        );
        // ZMTP 2.0: signature then revision 1 and a socket type.
        let v2 = [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 1, 5];
        let mut p = GreetingParser::new();
        for b in &v2[..10] {
            assert!(p.feed(core::slice::from_ref(b)).unwrap().1.is_none());
        }
        assert_eq!(
            p.feed(&v2[10..]),
            Err(GreetingError::UnsupportedVersion { major: 1 })
        );
        let mut v2_0 = v2;
        v2_0[10] = 2;
        assert_eq!(
            GreetingParser::new().feed(&v2_0),
            Err(GreetingError::UnsupportedVersion { major: 2 })
        );
    }

    #[test]
    fn mechanism_names() {
        assert_eq!(MechanismName::new(b"CURVE"), Some(MechanismName::CURVE));
        assert_eq!(MechanismName::new(b"plain"), None);
        assert_eq!(MechanismName::new(b""), None);
        assert_eq!(MechanismName::new(&[b'A'; 21]), None);
        assert_eq!(MechanismName::PLAIN.as_bytes(), b"PLAIN");
        let full = MechanismName::new(&[b'X'; 20]).unwrap();
        assert_eq!(full.as_bytes().len(), 20);
    }
}
