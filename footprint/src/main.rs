//! What a firmware pays for a security mechanism of the core: two
//! connections (client and server) of capacity 512 run their handshake in
//! memory and exchange a message each way. Built without features it runs
//! NULL; with `curve`, CURVE in both roles; with `curve-client`, a CURVE
//! client alone (the usual device), fed bytes the optimizer cannot see.
//! The difference of two images is what the mechanism adds to flash.
//! `SIZES` holds the bytes of the per-connection state on the target.
//!
//! ```text
//! cargo build --release --target thumbv7em-none-eabihf [--features curve]
//! llvm-size -A target/thumbv7em-none-eabihf/release/zlink-mq-footprint
//! llvm-nm target/thumbv7em-none-eabihf/release/zlink-mq-footprint | grep SIZES
//! llvm-objdump -s -j .rodata target/thumbv7em-none-eabihf/release/zlink-mq-footprint
//! ```
#![no_std]
#![no_main]

use core::hint::black_box;

use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::time::Instant;
use zlink_mq_core::zmtp::frame::FrameWriter;
use zlink_mq_core::zmtp::mechanism::{AuthVerdict, Mechanism};
use zlink_mq_core::zmtp::{Config, Connection, Event};

const N: usize = 512;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

/// Moves bytes both ways until both are active; then one message each way.
#[cfg_attr(feature = "curve-client", allow(dead_code))]
fn exchange<A: Mechanism, B: Mechanism>(
    c: &mut Connection<A, N>,
    s: &mut Connection<B, N>,
) -> usize {
    let mut wire = [0u8; 2 * N];
    let mut got = 0;
    for _ in 0..8 {
        got += hop(c, s, &mut wire);
        got += hop(s, c, &mut wire);
    }
    for (from_c, msg) in [(true, &b"reading"[..]), (false, &b"ack"[..])] {
        let (tx, rx): (&mut dyn Pump, &mut dyn Pump) = if from_c { (c, s) } else { (s, c) };
        let n = tx.encode(black_box(msg), &mut wire);
        got += rx.take(&mut wire[..n]);
    }
    got
}

#[cfg_attr(feature = "curve-client", allow(dead_code))]
fn hop<A: Mechanism, B: Mechanism>(
    from: &mut Connection<A, N>,
    to: &mut Connection<B, N>,
    wire: &mut [u8],
) -> usize {
    let n = from.poll_transmit(wire);
    to.take(&mut wire[..n])
}

/// The two verbs the exchange needs, object-safe so that one loop serves
/// both directions.
trait Pump {
    fn encode(&mut self, msg: &[u8], out: &mut [u8]) -> usize;
    fn take(&mut self, input: &mut [u8]) -> usize;
}

impl<M: Mechanism> Pump for Connection<M, N> {
    fn encode(&mut self, msg: &[u8], out: &mut [u8]) -> usize {
        let mut w = FrameWriter::new(out);
        let _ = self.encode_frame(&mut w, msg, false);
        w.len()
    }

    fn take(&mut self, input: &mut [u8]) -> usize {
        let mut got = 0;
        let mut pos = 0;
        let now = Instant::from_millis(black_box(1));
        while let Ok((used, ev)) = self.handle_input(&input[pos..], now) {
            pos += used;
            match ev {
                Some(Event::AuthRequest(_)) => {
                    let _ = self.handle_auth_verdict(AuthVerdict::Accept);
                }
                Some(Event::Frame { data, .. }) => got += data.len(),
                Some(_) => {}
                None if used == 0 => break,
                None => {}
            }
        }
        got
    }
}

/// Stands in for the board's hardware generator.
#[cfg(any(feature = "curve", feature = "curve-client"))]
struct Trng(u32);

#[cfg(any(feature = "curve", feature = "curve-client"))]
impl zlink_mq_core::zmtp::curve::Random for Trng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), zlink_mq_core::zmtp::curve::RandomError> {
        for b in dest {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            *b = self.0 as u8;
        }
        Ok(())
    }
}

#[cfg(feature = "curve-client")]
fn run() -> usize {
    use zlink_mq_core::zmtp::curve::{CurveClient, KeyPair, SecretKey};

    let mut rng = Trng(black_box(7));
    let keys = KeyPair::from_secret(SecretKey::from_bytes(black_box([1; 32])));
    let Ok(client) = CurveClient::new(&keys, black_box([2; 32]), &mut rng) else {
        return 0;
    };
    let Ok(mut c) =
        Connection::<_, N>::new(&Config::new(SocketType::Dealer), client, Instant::ZERO)
    else {
        return 0;
    };
    // The server's bytes: whatever the network brings.
    let mut wire = [0u8; 2 * N];
    let mut got = 0;
    for _ in 0..4 {
        let n = c.poll_transmit(&mut wire);
        black_box(&mut wire[..n]);
        got += c.take(black_box(&mut wire[..]));
    }
    got + c.encode(black_box(b"reading"), &mut wire)
}

#[cfg(all(feature = "curve", not(feature = "curve-client")))]
fn run() -> usize {
    use zlink_mq_core::zmtp::curve::{CurveClient, CurveServer, KeyPair, SecretKey};

    let mut rng = Trng(black_box(7));
    let client_keys = KeyPair::from_secret(SecretKey::from_bytes(black_box([1; 32])));
    let server_keys = KeyPair::from_secret(SecretKey::from_bytes(black_box([2; 32])));
    let client = CurveClient::new(&client_keys, *server_keys.public_key(), &mut rng);
    let server = CurveServer::new(&server_keys, &mut rng);
    let (Ok(client), Ok(server)) = (client, server) else {
        return 0;
    };
    let (Ok(mut c), Ok(mut s)) = (
        Connection::<_, N>::new(&Config::new(SocketType::Dealer), client, Instant::ZERO),
        Connection::<_, N>::new(&Config::new(SocketType::Router), server, Instant::ZERO),
    ) else {
        return 0;
    };
    exchange(&mut c, &mut s)
}

#[cfg(not(any(feature = "curve", feature = "curve-client")))]
fn run() -> usize {
    use zlink_mq_core::zmtp::null::Null;

    let (Ok(mut c), Ok(mut s)) = (
        Connection::<_, N>::new(
            &Config::new(SocketType::Dealer),
            Null::new(false),
            Instant::ZERO,
        ),
        Connection::<_, N>::new(
            &Config::new(SocketType::Router),
            Null::new(true),
            Instant::ZERO,
        ),
    ) else {
        return 0;
    };
    exchange(&mut c, &mut s)
}

/// Bytes of the per-connection state on the target: a NULL connection of
/// capacity 512, then (with CURVE) a CURVE client and server mechanism and
/// connections of capacity 512 holding them.
#[used]
#[unsafe(no_mangle)]
pub static SIZES: [u32; 5] = {
    use core::mem::size_of;
    use zlink_mq_core::zmtp::null::Null;
    #[cfg(any(feature = "curve", feature = "curve-client"))]
    {
        use zlink_mq_core::zmtp::curve::{CurveClient, CurveServer};
        [
            size_of::<Connection<Null, N>>() as u32,
            size_of::<CurveClient>() as u32,
            size_of::<CurveServer>() as u32,
            size_of::<Connection<CurveClient, N>>() as u32,
            size_of::<Connection<CurveServer, N>>() as u32,
        ]
    }
    #[cfg(not(any(feature = "curve", feature = "curve-client")))]
    [size_of::<Connection<Null, N>>() as u32, 0, 0, 0, 0]
};

/// The reset handler a vector table would point at.
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    black_box(run());
    loop {}
}
