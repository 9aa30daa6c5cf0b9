//! CURVE at the mechanism level: the handshake between our client and our
//! server, sealing both ways, and every refusal RFC 26 asks for (wrong
//! keys, altered boxes, replayed nonces, malformed commands) as an error,
//! never a panic.

use std::vec;
use std::vec::Vec;

use super::*;
use crate::time::Instant;
use crate::z85;
use crate::zmtp::mechanism::{AuthVerdict, Credentials, Mechanism, Step};

/// A deterministic generator (SplitMix64): tests must be repeatable. Never
/// use anything like it outside tests.
pub(crate) struct TestRng(pub(crate) u64);

impl Random for TestRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomError> {
        for chunk in dest.chunks_mut(8) {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

struct BrokenRng;

impl Random for BrokenRng {
    fn fill(&mut self, _: &mut [u8]) -> Result<(), RandomError> {
        Err(RandomError)
    }
}

const CLIENT_META: &[u8] = b"\x0bSocket-Type\x00\x00\x00\x06DEALER";
const SERVER_META: &[u8] = b"\x0bSocket-Type\x00\x00\x00\x06ROUTER\x08Identity\x00\x00\x00\x00";

/// libzmq's documented test keys (zmq_curve(7), testutil_security.cpp).
pub(crate) const CLIENT_PUBLIC: &[u8] = b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const CLIENT_SECRET: &[u8] = b"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
const SERVER_PUBLIC: &[u8] = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const SERVER_SECRET: &[u8] = b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

fn pair_from_z85(secret: &[u8]) -> KeyPair {
    KeyPair::from_secret(SecretKey::from_bytes(z85::decode_key(secret).unwrap()))
}

pub(crate) fn client_keys() -> KeyPair {
    pair_from_z85(CLIENT_SECRET)
}

pub(crate) fn server_keys() -> KeyPair {
    pair_from_z85(SERVER_SECRET)
}

/// The next command `m` sends.
fn command(m: &mut impl Mechanism, meta: &[u8]) -> Vec<u8> {
    let len = m.next_command_len(meta).expect("a command is due");
    assert!(len <= m.max_command_len(meta.len()));
    let mut out = vec![0u8; len];
    m.write_command(meta, &mut out);
    out
}

/// The mechanisms at each point of a handshake, and what was sent.
#[derive(Clone)]
struct Run {
    client: CurveClient,
    server: CurveServer,
    hello: Vec<u8>,
    welcome: Vec<u8>,
    initiate: Vec<u8>,
    ready: Vec<u8>,
}

fn new_pair(seed: u64) -> (CurveClient, CurveServer) {
    let mut rng = TestRng(seed);
    let server_public = *server_keys().public_key();
    let client = CurveClient::new(&client_keys(), server_public, &mut rng).unwrap();
    let server = CurveServer::new(&server_keys(), &mut rng).unwrap();
    (client, server)
}

/// A whole handshake between the mechanisms of `new_pair(seed)`, checking
/// every step.
fn handshake(seed: u64) -> Run {
    let (mut client, mut server) = new_pair(seed);
    let now = Instant::from_millis(1000);

    let hello = command(&mut client, CLIENT_META);
    assert_eq!(hello.len(), HELLO_LEN);
    assert_eq!(client.next_command_len(CLIENT_META), None);
    assert_eq!(
        server.handle_command(&mut hello.clone(), now),
        Ok(Step::Continue)
    );

    let welcome = command(&mut server, SERVER_META);
    assert_eq!(welcome.len(), WELCOME_LEN);
    assert_eq!(server.next_command_len(SERVER_META), None);
    assert_eq!(
        client.handle_command(&mut welcome.clone(), now),
        Ok(Step::Continue)
    );

    let initiate = command(&mut client, CLIENT_META);
    assert_eq!(initiate.len(), INITIATE_MIN_LEN + CLIENT_META.len());
    let mut body = initiate.clone();
    assert_eq!(
        server.handle_command(&mut body, now),
        Ok(Step::AuthRequestAndMetadata(CLIENT_META))
    );
    let client_public = z85::decode_key(CLIENT_PUBLIC).unwrap();
    assert_eq!(
        server.credentials(),
        Some(Credentials::Curve {
            public_key: &client_public
        })
    );
    assert_eq!(server.client_key(), Some(&client_public));
    assert_eq!(server.next_command_len(SERVER_META), None);
    server.handle_auth_verdict(AuthVerdict::Accept).unwrap();
    assert_eq!(server.credentials(), None);

    let ready = command(&mut server, SERVER_META);
    assert_eq!(ready.len(), READY_MIN_LEN + SERVER_META.len());
    assert!(server.is_complete());
    assert!(!client.is_complete());
    assert_eq!(
        client.handle_command(&mut ready.clone(), now),
        Ok(Step::PeerMetadata(SERVER_META))
    );
    assert!(client.is_complete());
    assert_eq!(client.next_command_len(CLIENT_META), None);
    assert_eq!(server.next_command_len(SERVER_META), None);
    Run {
        client,
        server,
        hello,
        welcome,
        initiate,
        ready,
    }
}

/// The mechanisms just before `step` (0 HELLO, 1 WELCOME, 2 INITIATE,
/// 3 READY) is handled.
fn before(run: &Run, step: usize) -> (CurveClient, CurveServer) {
    let (mut client, mut server) = new_pair(7);
    let now = Instant::from_millis(1000);
    command(&mut client, CLIENT_META);
    if step > 0 {
        server.handle_command(&mut run.hello.clone(), now).unwrap();
        command(&mut server, SERVER_META);
    }
    if step > 1 {
        client
            .handle_command(&mut run.welcome.clone(), now)
            .unwrap();
        command(&mut client, CLIENT_META);
    }
    if step > 2 {
        server
            .handle_command(&mut run.initiate.clone(), now)
            .unwrap();
        server.handle_auth_verdict(AuthVerdict::Accept).unwrap();
        command(&mut server, SERVER_META);
    }
    (client, server)
}

fn seal(m: &mut impl Mechanism, flags: Flags, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; data.len() + m.seal_overhead().unwrap()];
    m.seal(&mut out, flags, &[data]).unwrap();
    out
}

fn open(m: &mut impl Mechanism, mut sealed: Vec<u8>) -> Result<(Flags, Vec<u8>), Error> {
    let (flags, start) = m.open(&mut sealed)?;
    Ok((flags, sealed[start..].to_vec()))
}

#[test]
fn keys_match_libzmq_test_keys() {
    // Public from secret, as zmq_curve_public gives them.
    assert_eq!(&z85::encode_key(client_keys().public_key()), CLIENT_PUBLIC);
    assert_eq!(&z85::encode_key(server_keys().public_key()), SERVER_PUBLIC);
    let secret = client_keys().secret_key().to_bytes();
    assert_eq!(&z85::encode_key(&secret), CLIENT_SECRET);
    // Secrets never print.
    assert_eq!(
        std::format!("{:?}", client_keys().secret_key()),
        "SecretKey(..)"
    );
}

#[test]
fn box_key_is_nacl_beforenm() {
    // RFC 7748 section 6.1: Alice's secret key and Bob's public key; their
    // X25519 shared secret through HSalsa20 is NaCl's `firstkey`
    // (crypto_box_beforenm, tests/core_hsalsa20.c).
    let alice = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let bob_public = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    let firstkey = hex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389");
    let bob_secret = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    assert_eq!(SecretKey::from_bytes(bob_secret).public_key(), bob_public);
    let derived = BoxKey::new(&StaticSecret::from(alice), &bob_public).unwrap();
    let known = BoxKey::symmetric(&firstkey);
    // Same key: same box for the same nonce and text.
    let n = [0x69; 24];
    let mut a = [0u8; TAG_LEN + 40];
    a[TAG_LEN..].copy_from_slice(&[0x42; 40]);
    let mut b = a;
    derived.seal(&n, &mut a);
    known.seal(&n, &mut b);
    assert_eq!(a, b);
    assert_ne!(&a[TAG_LEN..], &[0x42; 40][..]);
    assert!(known.open(&n, &mut a));
    assert_eq!(&a[TAG_LEN..], &[0x42; 40][..]);
}

fn hex(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

#[test]
fn command_layouts() {
    let run = handshake(7);
    let client_keys = client_keys();
    // HELLO: name, version 1.0, 72 zero bytes, C', short nonce 1, box.
    assert_eq!(&run.hello[..8], b"\x05HELLO\x01\x00");
    assert!(run.hello[8..80].iter().all(|&b| b == 0));
    assert_ne!(&run.hello[80..112], &client_keys.public_key()[..]);
    assert_eq!(&run.hello[112..120], &1u64.to_be_bytes());
    // WELCOME: name, long nonce, box.
    assert_eq!(&run.welcome[..8], b"\x07WELCOME");
    // INITIATE: name, the cookie from WELCOME (sealed: not visible), short
    // nonce 2; the client's long-term key never travels in clear.
    assert_eq!(&run.initiate[..9], b"\x08INITIATE");
    assert_eq!(&run.initiate[105..113], &2u64.to_be_bytes());
    assert!(
        !run.initiate
            .windows(32)
            .any(|w| w == &client_keys.public_key()[..])
    );
    assert!(!run.initiate.windows(6).any(|w| w == b"DEALER"));
    // READY: name, short nonce 1 (the server's first), box.
    assert_eq!(&run.ready[..6], b"\x05READY");
    assert_eq!(&run.ready[6..14], &1u64.to_be_bytes());
    assert!(!run.ready.windows(6).any(|w| w == b"ROUTER"));
}

#[test]
fn messages_both_ways_with_increasing_nonces() {
    let mut run = handshake(7);
    let (c, s) = (&mut run.client, &mut run.server);
    // Client nonces continue after HELLO (1) and INITIATE (2).
    for (i, (flags, data)) in [
        (Flags::data(true), &b"first"[..]),
        (Flags::data(false), b""),
        (Flags::command(), b"\x04PING\x00\x00"),
        (Flags::data(false), &[0xAB; 3000][..]),
    ]
    .into_iter()
    .enumerate()
    {
        let sealed = seal(c, flags, data);
        assert_eq!(&sealed[..8], b"\x07MESSAGE");
        assert_eq!(&sealed[8..16], &(3 + i as u64).to_be_bytes());
        assert_eq!(sealed.len(), MESSAGE_OVERHEAD + data.len());
        assert_eq!(open(s, sealed), Ok((flags, data.to_vec())));
        // The server's nonces continue after READY (1).
        let back = seal(s, flags, data);
        assert_eq!(&back[8..16], &(2 + i as u64).to_be_bytes());
        assert_eq!(open(c, back), Ok((flags, data.to_vec())));
    }
    // A frame sealed from several parts opens as their concatenation.
    let mut out = vec![0u8; MESSAGE_OVERHEAD + 7];
    c.seal(&mut out, Flags::command(), &[b"\x06", b"CANCEL", b""])
        .unwrap();
    assert_eq!(open(s, out), Ok((Flags::command(), b"\x06CANCEL".to_vec())));
}

#[test]
fn a_message_does_not_open_the_other_way_or_for_another_session() {
    let mut run = handshake(7);
    let mut other = handshake(8);
    let sealed = seal(&mut run.client, Flags::data(false), b"secret");
    // The client's own MESSAGE, reflected back at it: other nonce prefix.
    assert_eq!(
        open(&mut run.client, sealed.clone()),
        Err(CurveError::Cryptographic(CurveCommand::Message).into())
    );
    // Another connection's server: other transient keys.
    assert_eq!(
        open(&mut other.server, sealed.clone()),
        Err(CurveError::Cryptographic(CurveCommand::Message).into())
    );
    // The refusals did not move the nonces: the right peer still opens it.
    assert_eq!(
        open(&mut run.server, sealed),
        Ok((Flags::data(false), b"secret".to_vec()))
    );
}

#[test]
fn replayed_and_reordered_messages_are_refused() {
    let mut run = handshake(7);
    let first = seal(&mut run.client, Flags::data(false), b"1");
    let second = seal(&mut run.client, Flags::data(false), b"2");
    let third = seal(&mut run.client, Flags::data(false), b"3");
    assert!(open(&mut run.server, second.clone()).is_ok());
    // Older than the last one seen, though never seen: reordered.
    assert_eq!(
        open(&mut run.server, first),
        Err(CurveError::InvalidSequence(CurveCommand::Message).into())
    );
    // The same one again: replayed.
    assert_eq!(
        open(&mut run.server, second),
        Err(CurveError::InvalidSequence(CurveCommand::Message).into())
    );
    // A gap is allowed (libzmq only asks for increasing nonces).
    assert_eq!(
        open(&mut run.server, third),
        Ok((Flags::data(false), b"3".to_vec()))
    );
    // A MESSAGE whose nonce was moved forward does not open (the nonce is
    // part of the box), and does not move the expected nonce either.
    let mut forged = seal(&mut run.client, Flags::data(false), b"4");
    let good = forged.clone();
    forged[8..16].copy_from_slice(&100u64.to_be_bytes());
    assert_eq!(
        open(&mut run.server, forged),
        Err(CurveError::Cryptographic(CurveCommand::Message).into())
    );
    assert!(open(&mut run.server, good).is_ok());
}

#[test]
fn replayed_handshake_commands_are_refused() {
    let mut run = handshake(7);
    let now = Instant::from_millis(2000);
    for cmd in [&run.hello, &run.initiate] {
        assert_eq!(
            run.server.handle_command(&mut cmd.clone(), now),
            Err(Error::UnexpectedCommand)
        );
    }
    for cmd in [&run.welcome, &run.ready] {
        assert_eq!(
            run.client.handle_command(&mut cmd.clone(), now),
            Err(Error::UnexpectedCommand)
        );
    }
    // INITIATE replayed on another connection of the same server (after
    // the same HELLO): its cookie was sealed with another connection's
    // cookie key.
    let mut server = CurveServer::new(&server_keys(), &mut TestRng(99)).unwrap();
    server.handle_command(&mut run.hello.clone(), now).unwrap();
    command(&mut server, SERVER_META);
    assert_eq!(
        server.handle_command(&mut run.initiate.clone(), now),
        Err(CurveError::Cryptographic(CurveCommand::Initiate).into())
    );
}

#[test]
fn every_altered_byte_of_every_command_is_refused() {
    let run = handshake(7);
    let now = Instant::from_millis(1000);
    let commands: [(&Vec<u8>, usize); 4] = [
        (&run.hello, 0),
        (&run.welcome, 1),
        (&run.initiate, 2),
        (&run.ready, 3),
    ];
    for (cmd, step) in commands {
        let (client, server) = before(&run, step);
        for i in 0..cmd.len() {
            let mut altered = cmd.clone();
            altered[i] ^= 0x10;
            let r = if step % 2 == 0 {
                server.clone().handle_command(&mut altered, now).err()
            } else {
                client.clone().handle_command(&mut altered, now).err()
            };
            assert!(r.is_some(), "step {step}, byte {i} altered and accepted");
        }
    }
    // And a MESSAGE.
    let mut run = run;
    let sealed = seal(&mut run.client, Flags::data(true), b"payload");
    for i in 0..sealed.len() {
        let mut altered = sealed.clone();
        altered[i] ^= 0x01;
        assert!(
            open(&mut run.server.clone(), altered).is_err(),
            "MESSAGE byte {i} altered and accepted"
        );
    }
}

#[test]
fn typical_alterations_give_the_matching_error() {
    let run = handshake(7);
    let now = Instant::from_millis(1000);
    let (client, server) = before(&run, 0);
    let _ = client;
    let hello_err = |f: fn(&mut Vec<u8>)| {
        let mut h = run.hello.clone();
        f(&mut h);
        server.clone().handle_command(&mut h, now).err()
    };
    let malformed = Some(CurveError::Malformed(CurveCommand::Hello).into());
    assert_eq!(hello_err(|h| h[6] = 2), malformed);
    assert_eq!(hello_err(|h| h[7] = 1), malformed);
    assert_eq!(hello_err(|h| h[40] = 1), malformed);
    assert_eq!(hello_err(|h| h.push(0)), malformed);
    assert_eq!(
        hello_err(|h| h[150] ^= 1),
        Some(CurveError::Cryptographic(CurveCommand::Hello).into())
    );
    assert_eq!(
        hello_err(|h| h[112..120].fill(0)),
        Some(CurveError::InvalidSequence(CurveCommand::Hello).into())
    );
    // A transient key of small order (here: zero) is refused before any
    // box is tried.
    assert_eq!(
        hello_err(|h| h[80..112].fill(0)),
        Some(CurveError::WeakKey.into())
    );

    let (client, _) = before(&run, 1);
    let mut w = run.welcome.clone();
    w[100] ^= 1;
    assert_eq!(
        client.clone().handle_command(&mut w, now),
        Err(CurveError::Cryptographic(CurveCommand::Welcome).into())
    );

    let (_, server) = before(&run, 2);
    let mut i = run.initiate.clone();
    i[30] ^= 1; // inside the cookie box
    assert_eq!(
        server.clone().handle_command(&mut i, now),
        Err(CurveError::Cryptographic(CurveCommand::Initiate).into())
    );
    let mut i = run.initiate.clone();
    i[200] ^= 1; // inside the INITIATE box
    assert_eq!(
        server.clone().handle_command(&mut i, now),
        Err(CurveError::Cryptographic(CurveCommand::Initiate).into())
    );

    let (client, _) = before(&run, 3);
    let mut r = run.ready.clone();
    r[6..14].fill(0);
    assert_eq!(
        client.clone().handle_command(&mut r, now),
        Err(CurveError::InvalidSequence(CurveCommand::Ready).into())
    );
    let mut r = run.ready.clone();
    r[20] ^= 1;
    assert_eq!(
        client.clone().handle_command(&mut r, now),
        Err(CurveError::Cryptographic(CurveCommand::Ready).into())
    );
}

#[test]
fn truncated_padded_and_misnamed_commands_are_refused() {
    let run = handshake(7);
    let now = Instant::from_millis(1000);
    let commands: [(&Vec<u8>, usize); 4] = [
        (&run.hello, 0),
        (&run.welcome, 1),
        (&run.initiate, 2),
        (&run.ready, 3),
    ];
    for (cmd, step) in commands {
        let (client, server) = before(&run, step);
        let handle = |mut body: Vec<u8>| {
            if step % 2 == 0 {
                server.clone().handle_command(&mut body, now).err()
            } else {
                client.clone().handle_command(&mut body, now).err()
            }
        };
        for len in 0..cmd.len() {
            assert!(
                handle(cmd[..len].to_vec()).is_some(),
                "step {step} cut to {len}"
            );
        }
        // HELLO and WELCOME have fixed sizes.
        if step < 2 {
            let mut longer = cmd.clone();
            longer.push(0);
            assert!(handle(longer).is_some(), "step {step} lengthened");
        }
        // Each command only in its turn.
        for (other, other_step) in commands {
            if other_step != step {
                assert!(handle(other.clone()).is_some());
            }
        }
        assert_eq!(
            handle(b"\x05ERROR\x03400".to_vec()),
            Some(Error::UnexpectedCommand)
        );
        assert_eq!(handle(vec![]), Some(Error::UnexpectedCommand));
    }
}

#[test]
fn wrong_server_key_fails_at_hello() {
    let mut rng = TestRng(3);
    let impostor_key = KeyPair::generate(&mut rng).unwrap();
    let mut client =
        CurveClient::new(&client_keys(), *impostor_key.public_key(), &mut rng).unwrap();
    let mut server = CurveServer::new(&server_keys(), &mut rng).unwrap();
    let mut hello = command(&mut client, CLIENT_META);
    assert_eq!(
        server.handle_command(&mut hello, Instant::ZERO),
        Err(CurveError::Cryptographic(CurveCommand::Hello).into())
    );
    // And a client that meets a server other than the one it expects
    // cannot open its WELCOME.
    let mut impostor = CurveServer::new(&impostor_key, &mut rng).unwrap();
    let (mut client, _) = new_pair(5);
    let mut hello = command(&mut client, CLIENT_META);
    let mut impostor_hello = hello.clone();
    assert_eq!(
        impostor.handle_command(&mut impostor_hello, Instant::ZERO),
        Err(CurveError::Cryptographic(CurveCommand::Hello).into())
    );
    let run = handshake(9);
    let _ = &mut hello;
    let mut foreign_welcome = run.welcome.clone();
    assert_eq!(
        client.handle_command(&mut foreign_welcome, Instant::ZERO),
        Err(CurveError::Cryptographic(CurveCommand::Welcome).into())
    );
}

#[test]
fn a_client_without_the_secret_of_its_public_key_fails_the_vouch() {
    let mut rng = TestRng(11);
    // Claims the libzmq test client's public key, holds another secret.
    let liar = KeyPair {
        public: *client_keys().public_key(),
        secret: SecretKey::generate(&mut rng).unwrap(),
    };
    let mut client = CurveClient::new(&liar, *server_keys().public_key(), &mut rng).unwrap();
    let mut server = CurveServer::new(&server_keys(), &mut rng).unwrap();
    let now = Instant::ZERO;
    let mut c = command(&mut client, CLIENT_META);
    server.handle_command(&mut c, now).unwrap();
    let mut c = command(&mut server, SERVER_META);
    client.handle_command(&mut c, now).unwrap();
    let mut c = command(&mut client, CLIENT_META);
    assert_eq!(
        server.handle_command(&mut c, now),
        Err(CurveError::Cryptographic(CurveCommand::Initiate).into())
    );
    assert_eq!(server.credentials(), None);
    assert_eq!(server.client_key(), None);
}

#[test]
fn the_cookie_key_expires() {
    let run = handshake(7);
    let (_, server) = before(&run, 2);
    // HELLO was handled at 1 s.
    let in_time = Instant::from_millis(1000) + COOKIE_KEY_LIFETIME;
    assert!(
        server
            .clone()
            .handle_command(&mut run.initiate.clone(), in_time)
            .is_ok()
    );
    let late = in_time + core::time::Duration::from_millis(1);
    let mut server = server;
    assert_eq!(
        server.handle_command(&mut run.initiate.clone(), late),
        Err(CurveError::CookieExpired.into())
    );
    // Erased: even a clock that went back does not revive it.
    assert_eq!(
        server.handle_command(&mut run.initiate.clone(), in_time),
        Err(CurveError::CookieExpired.into())
    );
}

#[test]
fn rejection_sends_error_and_fails() {
    let run = handshake(7);
    let (_, mut server) = before(&run, 2);
    let now = Instant::from_millis(1000);
    assert_eq!(
        server.handle_auth_verdict(AuthVerdict::Accept),
        Err(Error::NoAuthRequest)
    );
    server
        .handle_command(&mut run.initiate.clone(), now)
        .unwrap();
    server
        .handle_auth_verdict(AuthVerdict::Reject { status_code: 403 })
        .unwrap();
    assert_eq!(
        server.handle_auth_verdict(AuthVerdict::Accept),
        Err(Error::NoAuthRequest)
    );
    assert_eq!(command(&mut server, SERVER_META), b"\x05ERROR\x03403");
    assert_eq!(server.failure(), Some(Error::AuthenticationFailed));
    assert!(!server.is_complete());
    let mut out = vec![0u8; 40];
    assert_eq!(
        server.seal(&mut out, Flags::data(false), &[b"x"]),
        Err(Error::UnexpectedData)
    );
}

#[test]
fn nothing_is_sealed_or_opened_before_the_handshake() {
    let run = handshake(7);
    let sealed = seal(&mut run.client.clone(), Flags::data(false), b"x");
    for step in 0..4 {
        let (mut client, mut server) = before(&run, step);
        let mut out = vec![0u8; MESSAGE_OVERHEAD + 1];
        assert_eq!(
            client.seal(&mut out, Flags::data(false), &[b"x"]),
            Err(Error::UnexpectedData)
        );
        if step < 3 {
            assert_eq!(
                server.seal(&mut out, Flags::data(false), &[b"x"]),
                Err(Error::UnexpectedData)
            );
            assert_eq!(server.open(&mut sealed.clone()), Err(Error::UnexpectedData));
        }
        assert_eq!(client.open(&mut sealed.clone()), Err(Error::UnexpectedData));
    }
}

#[test]
fn message_flags_and_sizes() {
    // A session pair over one symmetric key, to write MESSAGE bodies the
    // mechanisms would never send.
    let key = BoxKey::symmetric(&[5; KEY_LEN]);
    let receiver = Session {
        key: key.clone(),
        send_prefix: SERVER_MESSAGE,
        recv_prefix: CLIENT_MESSAGE,
    };
    let raw = |flags: u8, n: u64| {
        let mut out = vec![0u8; MESSAGE_OVERHEAD + 2];
        out[..8].copy_from_slice(MESSAGE_NAME);
        out[8..16].copy_from_slice(&n.to_be_bytes());
        out[32] = flags;
        out[33..].copy_from_slice(b"hi");
        key.seal(&nonce(CLIENT_MESSAGE, &out[8..16]), &mut out[16..]);
        out
    };
    let mut nonces = Nonces::new();
    for (n, (flags, expect)) in [
        (0, Ok(Flags::data(false))),
        (MESSAGE_MORE, Ok(Flags::data(true))),
        (MESSAGE_COMMAND, Ok(Flags::command())),
        (MESSAGE_COMMAND | MESSAGE_MORE, Err(())),
        (0x04, Err(())),
        (0x80, Err(())),
    ]
    .into_iter()
    .enumerate()
    {
        let r = receiver.open(&mut nonces, &mut raw(flags, n as u64 + 1));
        match expect {
            Ok(f) => assert_eq!(r, Ok((f, MESSAGE_OVERHEAD))),
            Err(()) => assert_eq!(
                r,
                Err(CurveError::Malformed(CurveCommand::Message).into()),
                "flags {flags:#x}"
            ),
        }
    }
    // Shorter than the overhead, or not a MESSAGE at all.
    let mut short = raw(0, 100);
    assert_eq!(
        receiver.open(&mut nonces, &mut short[..MESSAGE_OVERHEAD - 1]),
        Err(CurveError::Malformed(CurveCommand::Message).into())
    );
    assert_eq!(
        receiver.open(&mut nonces, &mut b"\x05READY".to_vec()),
        Err(Error::UnexpectedCommand)
    );
    // An empty frame is exactly the overhead.
    let mut empty = raw(0, 101);
    empty.truncate(MESSAGE_OVERHEAD);
    empty[16..].fill(0);
    empty[..8].copy_from_slice(MESSAGE_NAME);
    key.seal(&nonce(CLIENT_MESSAGE, &empty[8..16]), &mut empty[16..]);
    assert_eq!(
        receiver.open(&mut nonces, &mut empty),
        Ok((Flags::data(false), MESSAGE_OVERHEAD))
    );
}

#[test]
fn nonces_end_before_they_wrap() {
    let mut n = Nonces {
        next: u64::MAX - 1,
        peer: 0,
    };
    assert_eq!(n.take(), Ok(u64::MAX - 1));
    assert_eq!(n.take(), Err(CurveError::NonceExhausted));
    let n = Nonces {
        next: 1,
        peer: u64::MAX,
    };
    assert_eq!(
        n.check(u64::MAX, CurveCommand::Message),
        Err(CurveError::InvalidSequence(CurveCommand::Message))
    );
}

#[test]
fn weak_keys_and_broken_randomness_are_refused() {
    let mut rng = TestRng(1);
    assert_eq!(
        CurveClient::new(&client_keys(), [0; KEY_LEN], &mut rng).err(),
        Some(NewClientError::WeakServerKey)
    );
    // The identity point's encoding (1) is of small order too.
    let mut one = [0; KEY_LEN];
    one[0] = 1;
    assert_eq!(
        CurveClient::new(&client_keys(), one, &mut rng).err(),
        Some(NewClientError::WeakServerKey)
    );
    assert_eq!(
        CurveClient::new(&client_keys(), *server_keys().public_key(), &mut BrokenRng).err(),
        Some(NewClientError::Random(RandomError))
    );
    assert_eq!(
        CurveServer::new(&server_keys(), &mut BrokenRng).err(),
        Some(RandomError)
    );
    assert_eq!(KeyPair::generate(&mut BrokenRng).err(), Some(RandomError));
}

#[test]
fn transient_keys_differ_per_connection() {
    let a = handshake(7);
    let b = handshake(8);
    assert_ne!(a.hello[80..112], b.hello[80..112]);
    assert_ne!(a.welcome[8..24], b.welcome[8..24]);
}
