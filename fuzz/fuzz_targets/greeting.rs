//! The greeting parser under any bytes and any chunking: it never panics,
//! never takes more than it needs, and decides exactly once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zlink_mq_core::zmtp::greeting::{GREETING_LEN, GreetingParser};

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, bytes)) = data.split_first() else { return };
    let chunk = usize::from(chunk % 70) + 1;
    let mut p = GreetingParser::new();
    let mut taken = 0;
    for piece in bytes.chunks(chunk) {
        match p.feed(piece) {
            Ok((used, done)) => {
                assert!(used <= piece.len());
                taken += used;
                assert_eq!(taken, p.received());
                if let Some(g) = done {
                    assert_eq!(taken, GREETING_LEN);
                    assert!(g.major >= 3);
                    return;
                }
                assert_eq!(used, piece.len(), "an unfinished greeting takes all it is given");
            }
            Err(_) => return,
        }
    }
    assert!(taken < GREETING_LEN);
});
