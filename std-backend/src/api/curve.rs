//! CURVE keys, as libzmq's `zmq_curve_keypair` and `zmq_curve_public` give
//! them: 40 Z85 characters each. The mechanism itself is the core's
//! ([`zlink_mq_core::zmtp::curve`]); sockets take keys through
//! [`Socket::set_curve_secretkey`](crate::Socket::set_curve_secretkey) and
//! the other `set_curve_*` options.
//!
//! ```
//! let (public, secret) = zlink_mq_std::curve::keypair()?;
//! assert_eq!(zlink_mq_std::curve::public_key(&secret)?, public);
//! # Ok::<(), zlink_mq_std::Error>(())
//! ```

use zlink_mq_core::z85::{self, KEY_TEXT_LEN};
use zlink_mq_core::zmtp::curve::{KeyPair, SecretKey};

use crate::base::error::{Error, ErrorKind, Result};
use crate::sys::OsRandom;

/// A new long-term key pair from the OS's generator: (public, secret), in
/// Z85 (`zmq_curve_keypair`).
///
/// # Errors
/// [`ErrorKind::Io`] if the OS generator fails.
pub fn keypair() -> Result<([u8; KEY_TEXT_LEN], [u8; KEY_TEXT_LEN])> {
    let pair = KeyPair::generate(&mut OsRandom)
        .map_err(|e| Error::with_text(ErrorKind::Io, e.to_string()))?;
    let secret = zeroize::Zeroizing::new(pair.secret_key().to_bytes());
    Ok((z85::encode_key(pair.public_key()), z85::encode_key(&secret)))
}

/// The public key of a secret key (32 bytes or 40 Z85 characters), in Z85
/// (`zmq_curve_public`).
///
/// # Errors
/// [`ErrorKind::InvalidArgument`] for another length or bad Z85.
pub fn public_key(secret: &[u8]) -> Result<[u8; KEY_TEXT_LEN]> {
    let bytes = zeroize::Zeroizing::new(crate::socket::options::curve_key(secret)?);
    Ok(z85::encode_key(&SecretKey::from_bytes(*bytes).public_key()))
}

/// A key given as libzmq's options take it (32 bytes or 40 Z85
/// characters), as its 32 bytes.
///
/// # Errors
/// [`ErrorKind::InvalidArgument`] for another length or bad Z85.
pub fn raw_key(key: &[u8]) -> Result<[u8; 32]> {
    crate::socket::options::curve_key(key)
}
