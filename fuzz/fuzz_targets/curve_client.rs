//! Our CURVE client (through the connection) fed a server's bytes: a
//! genuine server's greeting, WELCOME, READY and MESSAGEs, altered and cut
//! where the fuzzer says, then any bytes. No panic; a failure is final and
//! consistent; with no alteration every message arrives intact.
#![no_main]

#[path = "common/curve.rs"]
mod curve;

use libfuzzer_sys::fuzz_target;
use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::time::Instant;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let pair = usize::from(data[0]) % curve::PAIRS.len();
    let chunk = usize::from(data[1]) * 4 + 1;
    let small_max = data[2] & 2 != 0;
    let n_edits = usize::from(data[3] % 8);
    let rest = &data[4..];
    let (edits, tail) = rest.split_at((n_edits * 3).min(rest.len()));

    let recorded = &curve::recording(pair).server;
    let stream = curve::mutate(recorded, edits, tail);
    let (client_type, server_type) = curve::PAIRS[pair];
    let mut conn = curve::connection(client_type, curve::new_client(), small_max.then_some(300));
    // The client's own HELLO and INITIATE must go out for its state to
    // advance: `feed` drains its output after every event.
    let (seen, failed) = curve::feed(&mut conn, &stream, chunk, true);

    if let Some(e) = failed {
        assert_eq!(conn.handle_input(b"more", Instant::ZERO).err(), Some(e));
        assert_eq!(conn.failure(), Some(e));
        assert!(!conn.is_active());
    }
    if edits.is_empty() && tail.is_empty() && !small_max {
        assert_eq!(failed, None);
        assert!(conn.is_active());
        let mut expect = vec![curve::Seen::Active];
        if server_type != SocketType::Rep {
            expect.extend(curve::server_messages().iter().map(|m| curve::Seen::Frame(m.to_vec(), false)));
        }
        assert_eq!(seen, expect);
    }
});
