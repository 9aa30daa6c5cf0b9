//! The whole connection state machine fed by a hostile peer: any socket
//! type, mechanism and role, any chunking, timers firing and verdicts
//! given along the way. Optional valid prefixes (greeting, then READY or
//! HELLO / INITIATE) let the fuzzer reach the later states quickly.
#![no_main]

use core::time::Duration;

use libfuzzer_sys::fuzz_target;
use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::time::Instant;
use zlink_mq_core::zmtp::greeting::{Greeting, MechanismName};
use zlink_mq_core::zmtp::heartbeat::Heartbeat;
use zlink_mq_core::zmtp::null::Null;
use zlink_mq_core::zmtp::plain::{PlainClient, PlainServer};
use zlink_mq_core::zmtp::{AnyMechanism, AuthVerdict, Config, Connection, Event};

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let socket_type = SocketType::ALL[usize::from(data[0] % 11)];
    let mech = (data[0] / 11) % 3;
    let heartbeat = data[1] & 1 != 0;
    let accept = data[1] & 2 != 0;
    let small_max = data[1] & 4 != 0;
    let chunk = usize::from(data[2]) + 1;
    let prefix = data[3] % 3;
    let body = &data[4..];

    let (mechanism, name, peer_server): (AnyMechanism, _, _) = match mech {
        0 => (Null::new(false).into(), MechanismName::NULL, false),
        1 => (PlainClient::new(b"user", b"pass").unwrap().into(), MechanismName::PLAIN, true),
        _ => (PlainServer::new().into(), MechanismName::PLAIN, false),
    };
    let config = Config {
        max_msg_size: small_max.then_some(100),
        heartbeat: Heartbeat {
            ivl: heartbeat.then_some(Duration::from_millis(50)),
            timeout: None,
            ttl: Some(Duration::from_millis(300)),
        },
        ..Config::new(socket_type)
    };
    let mut now = Instant::ZERO;
    let mut conn: Connection = Connection::new(&config, mechanism, now).unwrap();

    // A plausible peer: right greeting, then its first handshake command.
    let mut stream = Vec::new();
    if prefix > 0 {
        stream.extend_from_slice(&Greeting::ours(name, peer_server).to_bytes());
    }
    if prefix > 1 {
        let peer_type = SocketType::ALL
            .into_iter()
            .find(|t| t.is_compatible(socket_type))
            .unwrap_or(socket_type);
        let mut meta = vec![11];
        meta.extend_from_slice(b"Socket-Type");
        meta.extend_from_slice(&(peer_type.zmtp_name().len() as u32).to_be_bytes());
        meta.extend_from_slice(peer_type.zmtp_name().as_bytes());
        let mut cmd = |body: &[u8]| {
            stream.extend_from_slice(&[0x04, body.len() as u8]);
            stream.extend_from_slice(body);
        };
        match mech {
            0 => cmd(&[b"\x05READY", &meta[..]].concat()),
            1 => cmd(b"\x07WELCOME"),
            _ => {
                cmd(b"\x05HELLO\x04user\x04pass");
                cmd(&[b"\x08INITIATE", &meta[..]].concat());
            }
        }
    }
    stream.extend_from_slice(body);

    let mut out = [0u8; 29];
    let mut failed = None;
    let mut pos = 0;
    while pos < stream.len() {
        let end = (pos + chunk).min(stream.len());
        let mut verdict = false;
        match conn.handle_input(&stream[pos..end], now) {
            Ok((used, ev)) => {
                assert!(used <= end - pos);
                if matches!(ev, Some(Event::AuthRequest(_))) {
                    verdict = true;
                }
                if used == 0 && ev.is_none() && !verdict {
                    // Waiting for a verdict that was already refused, or
                    // nothing left: move on.
                    pos = end;
                }
                pos += used;
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
        if verdict {
            let v = if accept { AuthVerdict::Accept } else { AuthVerdict::Reject { status_code: 400 } };
            if let Err(e) = conn.handle_auth_verdict(v) {
                failed = Some(e);
                break;
            }
        }
        while conn.poll_transmit(&mut out) > 0 {}
        now += Duration::from_millis(u64::from(stream[pos.min(stream.len() - 1)] % 8));
        if let Some(t) = conn.poll_timeout() {
            if t <= now {
                if let Err(e) = conn.handle_timeout(now) {
                    failed = Some(e);
                    break;
                }
            }
        }
    }
    if let Some(e) = failed {
        assert_eq!(conn.handle_input(b"more", now).err(), Some(e));
        assert_eq!(conn.failure(), Some(e));
        assert!(!conn.is_active());
        while conn.poll_transmit(&mut out) > 0 {}
        assert!(!conn.has_pending_transmit());
    }
});
