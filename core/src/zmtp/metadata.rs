//! Connection metadata: the property list carried by READY (and by PLAIN's
//! INITIATE), RFC 23 section "Connection Metadata", RFC 37 for `Resource`.
//!
//! ```text
//!   metadata = *property
//!   property:  +-----------+-------------+----------------+----------------+
//!              | name size | name        | value size     | value          |
//!              | 1 byte    | 1..=255     | 4 bytes,       | value size     |
//!              |           | bytes       | network order  | bytes          |
//!              +-----------+-------------+----------------+----------------+
//! ```
//!
//! Names are compared without regard to ASCII case, as the RFC says. The
//! properties ZMTP itself defines:
//!
//! - `Socket-Type`: required; the sender's [`SocketType`] name.
//! - `Identity`: the sender's routing id, 0 to 255 bytes, first byte not 0
//!   (REQ, DEALER and ROUTER send it).
//! - `Resource` (3.1): the resource the client asks for on the endpoint.
//!
//! Any other property is application metadata, passed through untouched.
#![forbid(unsafe_code)]

use core::fmt;

use crate::socket_type::SocketType;

/// The `Socket-Type` property name.
pub const SOCKET_TYPE: &str = "Socket-Type";
/// The `Identity` property name.
pub const IDENTITY: &str = "Identity";
/// The `Resource` property name.
pub const RESOURCE: &str = "Resource";
/// Longest identity (routing id) a peer may announce.
pub const MAX_IDENTITY_LEN: usize = 255;

/// Why a peer's metadata was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataError {
    /// A property runs past the end of the command.
    Malformed,
    /// No `Socket-Type` property.
    MissingSocketType,
    /// `Socket-Type` names no socket type we know.
    UnknownSocketType,
    /// The peer's socket type cannot talk to ours.
    IncompatibleSocketType {
        /// Our type.
        ours: SocketType,
        /// The peer's type.
        peer: SocketType,
    },
    /// `Identity` is longer than 255 bytes or starts with a zero byte.
    BadIdentity,
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataError::Malformed => f.write_str("malformed metadata"),
            MetadataError::MissingSocketType => f.write_str("peer sent no Socket-Type"),
            MetadataError::UnknownSocketType => f.write_str("peer sent an unknown Socket-Type"),
            MetadataError::IncompatibleSocketType { ours, peer } => {
                write!(f, "a {ours} socket cannot talk to a {peer} socket")
            }
            MetadataError::BadIdentity => {
                f.write_str("peer identity is longer than 255 bytes or starts with a zero byte")
            }
        }
    }
}

impl core::error::Error for MetadataError {}

/// A checked view over a property list: once built with
/// [`Metadata::parse`], nothing in it can fail.
///
/// ```
/// use zlink_mq_core::zmtp::metadata::{Metadata, write_property};
/// use zlink_mq_core::socket_type::SocketType;
///
/// let mut buf = [0u8; 64];
/// let mut n = write_property(&mut buf, "Socket-Type", b"DEALER").unwrap();
/// n += write_property(&mut buf[n..], "X-Colour", b"blue").unwrap();
/// let meta = Metadata::parse(&buf[..n]).unwrap();
/// assert_eq!(meta.socket_type(), Some(SocketType::Dealer));
/// assert_eq!(meta.get("x-colour"), Some(&b"blue"[..]));
/// assert_eq!(meta.iter().count(), 2);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Metadata<'a> {
    raw: &'a [u8],
}

impl fmt::Debug for Metadata<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in self.iter() {
            m.entry(&Bytes(k), &Bytes(v));
        }
        m.finish()
    }
}

/// Shows bytes as text where printable.
struct Bytes<'a>(&'a [u8]);

impl fmt::Debug for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.0 {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

impl<'a> Metadata<'a> {
    /// An empty property list.
    pub const EMPTY: Metadata<'static> = Metadata { raw: &[] };

    /// Checks that `raw` is a well-formed property list.
    pub fn parse(raw: &'a [u8]) -> Result<Metadata<'a>, MetadataError> {
        let mut rest = raw;
        while !rest.is_empty() {
            let (_, _, tail) = split_property(rest).ok_or(MetadataError::Malformed)?;
            rest = tail;
        }
        Ok(Metadata { raw })
    }

    /// The encoded property list.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// Every property, in the order sent: `(name, value)`.
    pub fn iter(&self) -> MetadataIter<'a> {
        MetadataIter { rest: self.raw }
    }

    /// The value of the first property called `name` (any ASCII case).
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The `Socket-Type` property, if it names a known type.
    pub fn socket_type(&self) -> Option<SocketType> {
        self.get(SOCKET_TYPE).and_then(SocketType::from_zmtp_name)
    }

    /// The `Identity` property (the peer's routing id), if sent.
    pub fn identity(&self) -> Option<&'a [u8]> {
        self.get(IDENTITY)
    }

    /// The `Resource` property, if sent.
    pub fn resource(&self) -> Option<&'a [u8]> {
        self.get(RESOURCE)
    }

    /// Checks what ZMTP requires of a peer's metadata for a socket of type
    /// `ours`: a known, compatible `Socket-Type` and a valid `Identity`.
    pub fn validate_peer(&self, ours: SocketType) -> Result<SocketType, MetadataError> {
        let name = self
            .get(SOCKET_TYPE)
            .ok_or(MetadataError::MissingSocketType)?;
        let peer = SocketType::from_zmtp_name(name).ok_or(MetadataError::UnknownSocketType)?;
        if !ours.is_compatible(peer) {
            return Err(MetadataError::IncompatibleSocketType { ours, peer });
        }
        if let Some(id) = self.identity() {
            if id.len() > MAX_IDENTITY_LEN || id.first() == Some(&0) {
                return Err(MetadataError::BadIdentity);
            }
        }
        Ok(peer)
    }
}

/// Iterator over a [`Metadata`]'s properties.
#[derive(Debug, Clone)]
pub struct MetadataIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for MetadataIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        // The list was checked by `Metadata::parse`: `None` only at the end.
        let (name, value, rest) = split_property(self.rest)?;
        self.rest = rest;
        Some((name, value))
    }
}

/// Splits the first property off `raw`: `(name, value, rest)`.
fn split_property(raw: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (&name_len, rest) = raw.split_first()?;
    let (name, rest) = rest.split_at_checked(usize::from(name_len))?;
    let (len, rest) = rest.split_at_checked(4)?;
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
    let (value, rest) = rest.split_at_checked(usize::try_from(len).ok()?)?;
    Some((name, value, rest))
}

/// Bytes a property takes on the wire.
pub const fn property_len(name: &str, value_len: usize) -> usize {
    1 + name.len() + 4 + value_len
}

/// Writes one property into `out`; returns its length, or `None` if `out`
/// is too short, the name is empty or longer than 255 bytes, or the value
/// is longer than 2^31 - 1 bytes.
pub fn write_property(out: &mut [u8], name: &str, value: &[u8]) -> Option<usize> {
    let name_len = u8::try_from(name.len()).ok().filter(|&n| n > 0)?;
    let value_len = u32::try_from(value.len())
        .ok()
        .filter(|&n| n <= 0x7FFF_FFFF)?;
    let total = property_len(name, value.len());
    let out = out.get_mut(..total)?;
    out[0] = name_len;
    out[1..1 + name.len()].copy_from_slice(name.as_bytes());
    let v = 1 + name.len();
    out[v..v + 4].copy_from_slice(&value_len.to_be_bytes());
    out[v + 4..].copy_from_slice(value);
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_property() {
        let mut b = [0u8; 32];
        let n = write_property(&mut b, "Socket-Type", b"ROUTER").unwrap();
        assert_eq!(&b[..n], b"\x0bSocket-Type\x00\x00\x00\x06ROUTER");
        assert_eq!(write_property(&mut b[..10], "Socket-Type", b"ROUTER"), None);
        assert_eq!(write_property(&mut b, "", b""), None);
    }

    #[test]
    fn parse_rejects_truncation_anywhere() {
        let good = b"\x0bSocket-Type\x00\x00\x00\x03REQ\x08Identity\x00\x00\x00\x00";
        assert!(Metadata::parse(good).is_ok());
        for cut in 1..good.len() {
            let r = Metadata::parse(&good[..cut]);
            // Cutting exactly between the two properties leaves a valid list.
            if cut == 19 {
                assert!(r.is_ok());
            } else {
                assert_eq!(r, Err(MetadataError::Malformed), "cut at {cut}");
            }
        }
    }

    #[test]
    fn peer_validation() {
        let mut b = [0u8; 600];
        let n = write_property(&mut b, "socket-type", b"REP").unwrap();
        let m = Metadata::parse(&b[..n]).unwrap();
        assert_eq!(m.validate_peer(SocketType::Req), Ok(SocketType::Rep));
        assert_eq!(
            m.validate_peer(SocketType::Rep),
            Err(MetadataError::IncompatibleSocketType {
                ours: SocketType::Rep,
                peer: SocketType::Rep
            })
        );
        assert_eq!(
            Metadata::EMPTY.validate_peer(SocketType::Req),
            Err(MetadataError::MissingSocketType)
        );

        let n = write_property(&mut b, "Socket-Type", b"STREAM").unwrap();
        let m = Metadata::parse(&b[..n]).unwrap();
        assert_eq!(
            m.validate_peer(SocketType::Router),
            Err(MetadataError::UnknownSocketType)
        );

        for (id, ok) in [
            (&[][..], true),
            (&[1, 0][..], true),
            (&[0, 1][..], false),
            (&[7u8; 256][..], false),
        ] {
            let mut n = write_property(&mut b, "Socket-Type", b"DEALER").unwrap();
            n += write_property(&mut b[n..], "Identity", id).unwrap();
            let m = Metadata::parse(&b[..n]).unwrap();
            assert_eq!(m.identity(), Some(id));
            assert_eq!(m.validate_peer(SocketType::Router).is_ok(), ok, "{id:?}");
        }
    }
}
