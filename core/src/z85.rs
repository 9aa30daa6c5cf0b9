//! Z85 (RFC 32, ZeroMQ's base-85): the printable form of CURVE keys, 40
//! characters for 32 bytes.
//!
//! ```text
//!   4 bytes, read as a big-endian u32 ──▶ 5 digits base 85, most
//!   significant first, each one character of
//!   0-9 a-z A-Z . - : + = ^ ! / * ? & < > ( ) [ ] { } @ % $ #
//! ```
//!
//! Input lengths must be multiples of 4 (encode) and 5 (decode), as the RFC
//! says; nothing here allocates or panics.
//!
//! ```
//! use zlink_mq_core::z85;
//!
//! let mut text = [0u8; 10];
//! let n = z85::encode(&[0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B], &mut text).unwrap();
//! assert_eq!(&text[..n], b"HelloWorld");
//! let mut bytes = [0u8; 8];
//! assert_eq!(z85::decode(b"HelloWorld", &mut bytes), Ok(8));
//! assert_eq!(bytes, [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]);
//! ```
#![forbid(unsafe_code)]

use core::fmt;

/// The 85 characters, in digit order (RFC 32).
const ALPHABET: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Characters in the printable form of a 32-byte key.
pub const KEY_TEXT_LEN: usize = 40;

/// Why Z85 text or bytes were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Z85Error {
    /// Encode input not a multiple of 4 bytes, or decode input not a
    /// multiple of 5 characters (or not 40 for a key).
    BadLength,
    /// The output buffer is too short.
    BufferTooSmall,
    /// A character outside the alphabet, at this index.
    BadCharacter(usize),
    /// Five characters whose value exceeds 2^32 - 1, starting at this index.
    Overflow(usize),
}

impl fmt::Display for Z85Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Z85Error::BadLength => {
                f.write_str("Z85 length is not a multiple of 4 bytes / 5 characters")
            }
            Z85Error::BufferTooSmall => f.write_str("Z85 output buffer too small"),
            Z85Error::BadCharacter(i) => write!(f, "character {i} is not a Z85 digit"),
            Z85Error::Overflow(i) => write!(f, "Z85 group at {i} exceeds 32 bits"),
        }
    }
}

impl core::error::Error for Z85Error {}

/// Length of the text for `len` bytes (`None` unless a multiple of 4).
pub const fn encoded_len(len: usize) -> Option<usize> {
    if len % 4 == 0 {
        Some(len / 4 * 5)
    } else {
        None
    }
}

/// Length of the bytes for `len` characters (`None` unless a multiple of 5).
pub const fn decoded_len(len: usize) -> Option<usize> {
    if len % 5 == 0 {
        Some(len / 5 * 4)
    } else {
        None
    }
}

/// Writes the Z85 text of `bytes` into `out`; returns its length.
pub fn encode(bytes: &[u8], out: &mut [u8]) -> Result<usize, Z85Error> {
    let len = encoded_len(bytes.len()).ok_or(Z85Error::BadLength)?;
    let out = out.get_mut(..len).ok_or(Z85Error::BufferTooSmall)?;
    for (group, text) in bytes.chunks_exact(4).zip(out.chunks_exact_mut(5)) {
        let mut value = u32::from_be_bytes([group[0], group[1], group[2], group[3]]);
        for digit in text.iter_mut().rev() {
            *digit = ALPHABET[(value % 85) as usize];
            value /= 85;
        }
    }
    Ok(len)
}

/// Writes the bytes of the Z85 `text` into `out`; returns their length.
pub fn decode(text: &[u8], out: &mut [u8]) -> Result<usize, Z85Error> {
    let len = decoded_len(text.len()).ok_or(Z85Error::BadLength)?;
    let out = out.get_mut(..len).ok_or(Z85Error::BufferTooSmall)?;
    for (g, (group, bytes)) in text
        .chunks_exact(5)
        .zip(out.chunks_exact_mut(4))
        .enumerate()
    {
        let mut value: u64 = 0;
        for (i, &c) in group.iter().enumerate() {
            let digit = digit(c).ok_or(Z85Error::BadCharacter(g * 5 + i))?;
            value = value * 85 + u64::from(digit);
        }
        let value = u32::try_from(value).map_err(|_| Z85Error::Overflow(g * 5))?;
        bytes.copy_from_slice(&value.to_be_bytes());
    }
    Ok(len)
}

/// The 40-character text of a 32-byte key (libzmq's `zmq_z85_encode` for
/// CURVE keys).
pub fn encode_key(key: &[u8; 32]) -> [u8; KEY_TEXT_LEN] {
    let mut text = [0u8; KEY_TEXT_LEN];
    // 32 bytes always encode into 40 characters.
    let _ = encode(key, &mut text);
    text
}

/// The 32-byte key written as 40 Z85 characters.
pub fn decode_key(text: &[u8]) -> Result<[u8; 32], Z85Error> {
    if text.len() != KEY_TEXT_LEN {
        return Err(Z85Error::BadLength);
    }
    let mut key = [0u8; 32];
    decode(text, &mut key)?;
    Ok(key)
}

fn digit(c: u8) -> Option<u8> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 32's example.
    const HELLO: [u8; 8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];

    #[test]
    fn rfc_32_vector() {
        let mut text = [0u8; 10];
        assert_eq!(encode(&HELLO, &mut text), Ok(10));
        assert_eq!(&text, b"HelloWorld");
        let mut bytes = [0u8; 8];
        assert_eq!(decode(b"HelloWorld", &mut bytes), Ok(8));
        assert_eq!(bytes, HELLO);
    }

    #[test]
    fn libzmq_test_keys() {
        // The keys zmq_curve(7) gives for test cases, hex and Z85.
        let public = [
            0xBB, 0x88, 0x47, 0x1D, 0x65, 0xE2, 0x65, 0x9B, 0x30, 0xC5, 0x5A, 0x53, 0x21, 0xCE,
            0xBB, 0x5A, 0xAB, 0x2B, 0x70, 0xA3, 0x98, 0x64, 0x5C, 0x26, 0xDC, 0xA2, 0xB2, 0xFC,
            0xB4, 0x3F, 0xC5, 0x18,
        ];
        assert_eq!(
            &encode_key(&public),
            b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
        );
        assert_eq!(
            decode_key(b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"),
            Ok(public)
        );
    }

    #[test]
    fn extremes_and_errors() {
        let mut text = [0u8; 5];
        encode(&[0xff; 4], &mut text).unwrap();
        assert_eq!(&text, b"%nSc0");
        encode(&[0; 4], &mut text).unwrap();
        assert_eq!(&text, b"00000");
        let mut out = [0u8; 8];
        assert_eq!(decode(b"%nSc0", &mut out), Ok(4));
        assert_eq!(out[..4], [0xff; 4]);
        assert_eq!(decode(b"%nSc1", &mut out), Err(Z85Error::Overflow(0)));
        assert_eq!(decode(b"00000#####", &mut out), Err(Z85Error::Overflow(5)));
        assert_eq!(decode(b"0000 ", &mut out), Err(Z85Error::BadCharacter(4)));
        assert_eq!(decode(b"0000", &mut out), Err(Z85Error::BadLength));
        assert_eq!(encode(b"abc", &mut out), Err(Z85Error::BadLength));
        assert_eq!(
            encode(b"abcd", &mut out[..4]),
            Err(Z85Error::BufferTooSmall)
        );
        assert_eq!(
            decode(b"0000000000", &mut out[..7]),
            Err(Z85Error::BufferTooSmall)
        );
        assert_eq!(decode_key(b"HelloWorld"), Err(Z85Error::BadLength));
        assert_eq!(encode(b"", &mut out), Ok(0));
    }

    proptest::proptest! {
        #[test]
        fn roundtrip(words in proptest::collection::vec(proptest::prelude::any::<[u8; 4]>(), 0..20)) {
            let bytes: std::vec::Vec<u8> = words.concat();
            let mut text = std::vec![0u8; bytes.len() / 4 * 5];
            encode(&bytes, &mut text).unwrap();
            proptest::prop_assert!(text.iter().all(|c| ALPHABET.contains(c)));
            let mut back = std::vec![0u8; bytes.len()];
            decode(&text, &mut back).unwrap();
            proptest::prop_assert_eq!(back, bytes);
        }

        #[test]
        fn decode_never_panics(text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..50)) {
            let mut out = [0u8; 40];
            let _ = decode(&text, &mut out);
        }
    }
}
