//! Our CURVE server (through the connection, so the sealed data path too)
//! fed a client's bytes: a genuine client's greeting, HELLO, INITIATE and
//! MESSAGEs, altered and cut where the fuzzer says, then any bytes. No
//! panic; a failure is final and consistent; with no alteration the
//! handshake completes and every message arrives intact.
#![no_main]

#[path = "common/curve.rs"]
mod curve;

use libfuzzer_sys::fuzz_target;
use zlink_mq_core::socket_type::SocketType;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let pair = usize::from(data[0]) % curve::PAIRS.len();
    let chunk = usize::from(data[1]) * 4 + 1;
    let accept = data[2] & 1 != 0;
    let small_max = data[2] & 2 != 0;
    let n_edits = usize::from(data[3] % 8);
    let rest = &data[4..];
    let (edits, tail) = rest.split_at((n_edits * 3).min(rest.len()));

    let recorded = &curve::recording(pair).client;
    let stream = curve::mutate(recorded, edits, tail);
    let (client_type, server_type) = curve::PAIRS[pair];
    let mut conn = curve::connection(server_type, curve::new_server(), small_max.then_some(300));
    let (seen, failed) = curve::feed(&mut conn, &stream, chunk, accept);

    if let Some(e) = failed {
        assert_eq!(conn.handle_input(b"more", zlink_mq_core::time::Instant::ZERO).err(), Some(e));
        assert_eq!(conn.failure(), Some(e));
        assert!(!conn.is_active());
        let mut out = [0u8; 64];
        while conn.poll_transmit(&mut out) > 0 {}
        assert!(!conn.has_pending_transmit());
    }
    if edits.is_empty() && tail.is_empty() && accept && !small_max {
        // The genuine conversation: the oracle.
        assert_eq!(failed, None);
        assert!(conn.is_active());
        let mut expect = vec![curve::Seen::Auth, curve::Seen::Active];
        if client_type == SocketType::Sub {
            expect.push(curve::Seen::Subscribe(b"topic".to_vec()));
            expect.push(curve::Seen::Cancel(vec![]));
        } else {
            expect.extend(curve::client_messages().iter().map(|m| curve::Seen::Frame(m.to_vec(), false)));
        }
        assert_eq!(seen, expect);
    }
});
