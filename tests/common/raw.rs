//! A raw TCP peer that speaks just enough ZMTP 3.1 by hand (NULL greeting,
//! READY, frames) to misbehave in precise ways: for tests of how our
//! sockets treat hostile or broken peers.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::sock::TIMEOUT;

/// Connects to a `tcp://host:port` endpoint.
pub fn connect(endpoint: &str) -> TcpStream {
    let s = TcpStream::connect(endpoint.trim_start_matches("tcp://")).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s
}

/// The 64-byte ZMTP 3.1 greeting of a NULL client (RFC 37 §3).
pub fn greeting() -> Vec<u8> {
    let mut g = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 1];
    let mut mechanism = [0u8; 20];
    mechanism[..4].copy_from_slice(b"NULL");
    g.extend_from_slice(&mechanism);
    g.push(0); // as-server
    g.extend_from_slice(&[0; 31]);
    g
}

/// A READY command announcing `socket_type` (RFC 37 §3.3).
pub fn ready(socket_type: &str) -> Vec<u8> {
    let mut body = vec![5];
    body.extend_from_slice(b"READY");
    body.push(11);
    body.extend_from_slice(b"Socket-Type");
    body.extend_from_slice(&(socket_type.len() as u32).to_be_bytes());
    body.extend_from_slice(socket_type.as_bytes());
    let mut cmd = vec![0x04, body.len() as u8];
    cmd.extend_from_slice(&body);
    cmd
}

/// A long-form message frame header claiming `len` bytes.
pub fn long_frame_header(len: u64) -> Vec<u8> {
    let mut h = vec![0x02];
    h.extend_from_slice(&len.to_be_bytes());
    h
}

/// A short message frame (at most 255 bytes).
pub fn short_frame(body: &[u8]) -> Vec<u8> {
    let mut f = vec![0x00, body.len() as u8];
    f.extend_from_slice(body);
    f
}

/// Connects and completes a NULL handshake as `socket_type` (the peer's
/// greeting and READY are left unread in the kernel).
pub fn handshaken(endpoint: &str, socket_type: &str) -> TcpStream {
    let mut s = connect(endpoint);
    s.write_all(&greeting()).unwrap();
    s.write_all(&ready(socket_type)).unwrap();
    s
}

/// Reads until the other side closes the connection; panics if it does not
/// within [`TIMEOUT`].
pub fn expect_closed(s: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("the peer kept the connection open")
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// Reads for `d` and says whether the connection is still open then.
pub fn still_open_after(s: &mut TcpStream, d: Duration) -> bool {
    s.set_read_timeout(Some(d)).unwrap();
    let mut buf = [0u8; 4096];
    let open = loop {
        match s.read(&mut buf) {
            Ok(0) => break false,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break true;
            }
            Err(_) => break false,
        }
    };
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    open
}
