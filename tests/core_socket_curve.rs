//! The core (no_std) socket with CURVE over the in-memory loopback: our
//! client and our server, messages both ways at every size the buffers
//! allow, and refusals ending in clean disconnects.
#![cfg(feature = "curve")]

mod core_socket_common;

use core_socket_common::{End, connected, disconnection, loopback, recv_msg, settle};
use zlink_mq::core::msg::Frame;
use zlink_mq::core::routing::{Dealer, PeerId, Router};
use zlink_mq::core::socket::{DisconnectReason, Options, SEND_SLACK, SendError, Socket};
use zlink_mq::core::storage::Fixed;
use zlink_mq::core::time::Instant;
use zlink_mq::core::zmtp::Error;
use zlink_mq::core::zmtp::curve::{
    CurveClient, CurveCommand, CurveError, CurveServer, KeyPair, MESSAGE_OVERHEAD, Random,
    RandomError,
};
use zlink_mq::core::zmtp::frame::MAX_HEADER_LEN;
use zlink_mq::core::zmtp::mechanism::{AuthVerdict, Credentials};

const BUF: usize = 1024;
const T0: Instant = Instant::ZERO;

type Client = Socket<Dealer<Fixed<1, 1, 16>, PeerId>, End, CurveClient, 1, BUF>;
type Server = Socket<Router<Fixed<1, 1, 16>, PeerId, Frame<BUF>>, End, CurveServer, 1, BUF>;

/// Deterministic bytes (SplitMix64): repeatable tests. Never outside tests.
struct TestRng(u64);

impl Random for TestRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomError> {
        for b in dest {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            *b = (z ^ (z >> 31)) as u8;
        }
        Ok(())
    }
}

struct Setup {
    client: Client,
    server: Server,
    client_keys: KeyPair,
}

fn setup(
    chunk: usize,
    server_key: Option<[u8; 32]>,
    verdict: Option<fn(Credentials<'_>) -> AuthVerdict>,
) -> Setup {
    let mut rng = TestRng(chunk as u64);
    let server_keys = KeyPair::generate(&mut rng).unwrap();
    let client_keys = KeyPair::generate(&mut rng).unwrap();
    let (a, b) = loopback(4096, chunk);
    let mut client: Client = Socket::new(Dealer::new(), Options::new());
    let mut server: Server = Socket::new(
        Router::new(1),
        Options {
            authenticate: verdict,
            ..Options::new()
        },
    );
    let key = server_key.unwrap_or(*server_keys.public_key());
    client
        .attach(
            a,
            CurveClient::new(&client_keys, key, &mut rng).unwrap(),
            T0,
        )
        .unwrap();
    server
        .attach(b, CurveServer::new(&server_keys, &mut rng).unwrap(), T0)
        .unwrap();
    settle(&mut [&mut client, &mut server], T0);
    Setup {
        client,
        server,
        client_keys,
    }
}

#[test]
fn messages_both_ways_at_every_size() {
    for chunk in [1, 13, 4096] {
        let Setup {
            mut client,
            mut server,
            ..
        } = setup(chunk, None, None);
        assert_eq!(connected(&mut client).len(), 1);
        assert_eq!(connected(&mut server).len(), 1);
        // The largest one-frame message a sealed link sends: the buffer
        // less the slack, the frame header and the MESSAGE overhead (the
        // router's routing-id frame counts too).
        let max = BUF - SEND_SLACK - MAX_HEADER_LEN - MESSAGE_OVERHEAD;
        let router_max = max - (2 + 5) - MESSAGE_OVERHEAD;
        let sizes = [0, 1, 100, 254, 255, 256, 500, router_max, max];
        for (n, size) in sizes.into_iter().enumerate() {
            let body = vec![n as u8; size];
            client.send(&[&body]).unwrap();
            settle(&mut [&mut client, &mut server], T0);
            let got = recv_msg(&mut server).unwrap_or_else(|| panic!("size {size} chunk {chunk}"));
            assert!(got[1] == body, "size {size}");
            let body = &body[..size.min(router_max)];
            server.send(&[&got[0], body]).unwrap();
            settle(&mut [&mut client, &mut server], T0);
            let back = recv_msg(&mut client);
            assert!(
                back == Some(vec![body.to_vec()]),
                "size {size} chunk {chunk}"
            );
        }
        // A multipart message, and many in a row (nonces keep increasing).
        for i in 0..300u32 {
            let seq = i.to_be_bytes();
            client.send(&[b"part", b"", &seq]).unwrap();
            if i % 7 == 0 {
                settle(&mut [&mut client, &mut server], T0);
            }
            while let Some(m) = recv_msg(&mut server) {
                assert_eq!(m.len(), 4);
            }
        }
        settle(&mut [&mut client, &mut server], T0);
        while recv_msg(&mut server).is_some() {}
        assert_eq!(client.connected_peers(), 1);
        assert_eq!(server.connected_peers(), 1);
        assert_eq!(disconnection(&mut client), None);
        assert_eq!(disconnection(&mut server), None);
    }
}

#[test]
fn frames_too_large_to_seal_are_refused_at_send() {
    let Setup { mut client, .. } = setup(4096, None, None);
    let max = BUF - SEND_SLACK - MAX_HEADER_LEN - MESSAGE_OVERHEAD;
    assert_eq!(client.send(&[&vec![0; max + 1]]), Err(SendError::TooLarge));
    // Two frames that would fit in clear, but not sealed each.
    let half = [0u8; 480];
    assert!(SEND_SLACK + 2 * (3 + half.len()) <= BUF);
    assert_eq!(client.send(&[&half, &half]), Err(SendError::TooLarge));
    assert_eq!(client.send(&[&vec![0; max]]), Ok(()));
}

#[test]
fn refusals_end_in_clean_disconnects() {
    fn nobody(_: Credentials<'_>) -> AuthVerdict {
        AuthVerdict::Reject { status_code: 403 }
    }
    let mut s = setup(7, None, Some(nobody));
    assert_eq!(
        disconnection(&mut s.server).map(|(_, r)| r),
        Some(DisconnectReason::Protocol(Error::AuthenticationFailed))
    );
    assert_eq!(
        disconnection(&mut s.client).map(|(_, r)| r),
        Some(DisconnectReason::Protocol(Error::PeerError))
    );
    let _ = &s.client_keys;

    let other = KeyPair::generate(&mut TestRng(99)).unwrap();
    let mut s = setup(7, Some(*other.public_key()), None);
    assert_eq!(
        disconnection(&mut s.server).map(|(_, r)| r),
        Some(DisconnectReason::Protocol(Error::Curve(
            CurveError::Cryptographic(CurveCommand::Hello)
        )))
    );
    settle(&mut [&mut s.client, &mut s.server], T0);
    assert_eq!(
        disconnection(&mut s.client).map(|(_, r)| r),
        Some(DisconnectReason::Eof)
    );
}
