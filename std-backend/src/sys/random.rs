//! The OS's random generator (`getrandom(2)`), for CURVE's transient keys,
//! cookie keys and nonces.

use zlink_mq_core::zmtp::curve::{Random, RandomError};

/// `getrandom(2)` without flags: blocks only until the kernel's pool is
/// first initialized, then never.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OsRandom;

impl Random for OsRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomError> {
        let mut done = 0;
        while done < dest.len() {
            match rustix::rand::getrandom(&mut dest[done..], rustix::rand::GetRandomFlags::empty())
            {
                Ok(n) => done += n,
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => return Err(RandomError),
            }
        }
        Ok(())
    }
}
