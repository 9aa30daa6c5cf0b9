//! The frame decoder under any bytes, limits and chunking: no panic, every
//! byte accounted for, and announced bodies delivered exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zlink_mq_core::zmtp::frame::{Decoded, Decoder};

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let chunk = usize::from(data[0]) + 1;
    let max_data = u64::from(data[1]) * 16;
    let max_command = u64::from(data[2]) * 4;
    let bytes = &data[3..];
    let mut d = Decoder::new(max_data, max_command);
    let mut owed: Option<usize> = None;
    for piece in bytes.chunks(chunk) {
        let mut at = 0;
        loop {
            let (used, ev) = match d.decode(&piece[at..]) {
                Ok(r) => r,
                Err(_) => return,
            };
            at += used;
            assert!(at <= piece.len());
            match ev {
                None => {
                    assert_eq!(at, piece.len(), "None means all input was used");
                    break;
                }
                Some(Decoded::Frame { flags, body }) => {
                    assert!(owed.is_none());
                    let max = if flags.is_command() { max_command } else { max_data };
                    assert!(body.len() as u64 <= max);
                }
                Some(Decoded::Head { flags, len }) => {
                    assert!(owed.is_none());
                    let max = if flags.is_command() { max_command } else { max_data };
                    assert!(len as u64 <= max && len > 0);
                    owed = Some(len);
                }
                Some(Decoded::Part { data, last }) => {
                    let left = owed.expect("a part follows a head");
                    assert!(!data.is_empty() && data.len() <= left);
                    let left = left - data.len();
                    assert_eq!(last, left == 0);
                    owed = if last { None } else { Some(left) };
                }
            }
        }
    }
    if owed.is_some() {
        assert!(!d.is_idle());
    }
});
