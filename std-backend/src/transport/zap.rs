//! ZAP (RFC 27): asking the handler bound at `inproc://zeromq.zap.01`
//! about a peer, as libzmq's `zap_client` does, without blocking the I/O
//! thread.
//!
//! A connection whose mechanism wants a verdict opens a pipe pair to the
//! handler's socket (the handler sees an inproc peer, REP or ROUTER),
//! writes the request and waits in its own state: its stream is not read
//! meanwhile, and the handler's reply wakes the I/O thread through the
//! pipe like any other pipe. Every other connection keeps going.
//!
//! ```text
//! request (RFC 27 "Request"):  ""  "1.0"  "1"  domain  address  identity
//!                              mechanism  credentials...
//! reply   (RFC 27 "Reply"):    ""  "1.0"  "1"  status  text  user-id
//!                              metadata
//! ```
#![forbid(unsafe_code)]

use std::sync::Arc;

use zlink_mq_core::zmtp::metadata::Metadata;

use crate::base::msg::Msg;
use crate::pipe::{Notify, PipeId, PipeRx, PipeTx, Read};
use crate::transport::inproc::Registry;

/// The endpoint name a ZAP handler binds (after `inproc://`).
pub(crate) const ZAP_ENDPOINT: &str = "zeromq.zap.01";
const VERSION: &[u8] = b"1.0";
/// libzmq sends one request at a time per connection, always with id "1".
const REQUEST_ID: &[u8] = b"1";
/// Frames of a reply, delimiter included.
const REPLY_FRAMES: usize = 7;

/// A socket's ZAP options, as they were at `bind` or `connect`.
#[derive(Clone)]
pub(crate) struct ZapConfig {
    /// Where the handler is looked up.
    pub registry: Arc<Registry>,
    /// ZMQ_ZAP_DOMAIN.
    pub domain: Vec<u8>,
    /// ZMQ_ZAP_ENFORCE_DOMAIN.
    pub enforce_domain: bool,
}

impl std::fmt::Debug for ZapConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZapConfig")
            .field("domain", &self.domain)
            .field("enforce_domain", &self.enforce_domain)
            .finish_non_exhaustive()
    }
}

/// Why a ZAP exchange failed; each maps onto libzmq's monitor value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ZapError {
    /// No handler is bound and ZAP_ENFORCE_DOMAIN asks for one.
    NoHandler,
    /// The reply's first frame is not the empty delimiter.
    Unspecified,
    /// Too few or too many frames.
    MalformedReply,
    BadRequestId,
    BadVersion,
    InvalidStatusCode,
    InvalidMetadata,
}

impl ZapError {
    /// libzmq's `ZMQ_PROTOCOL_ERROR_ZAP_*` code, for the errors libzmq
    /// reports as HANDSHAKE_FAILED_PROTOCOL.
    pub(crate) fn protocol_code(self) -> Option<u32> {
        Some(match self {
            ZapError::NoHandler => return None,
            ZapError::Unspecified => 0x2000_0000,
            ZapError::MalformedReply => 0x2000_0001,
            ZapError::BadRequestId => 0x2000_0002,
            ZapError::BadVersion => 0x2000_0003,
            ZapError::InvalidStatusCode => 0x2000_0004,
            ZapError::InvalidMetadata => 0x2000_0005,
        })
    }
}

impl ZapError {
    /// The errno libzmq reports with HANDSHAKE_FAILED_NO_DETAIL for the
    /// errors that are not protocol errors: EFAULT (no handler).
    pub(crate) fn errno(self) -> u32 {
        14
    }
}

impl std::fmt::Display for ZapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ZapError::NoHandler => "no ZAP handler bound at inproc://zeromq.zap.01",
            ZapError::Unspecified => "ZAP reply without its empty delimiter",
            ZapError::MalformedReply => "ZAP reply with a wrong number of frames",
            ZapError::BadRequestId => "ZAP reply to another request id",
            ZapError::BadVersion => "ZAP reply with a version other than 1.0",
            ZapError::InvalidStatusCode => "ZAP reply with an invalid status code",
            ZapError::InvalidMetadata => "ZAP reply with malformed metadata",
        })
    }
}

/// The handler's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// 200, 300, 400 or 500.
    pub status: u16,
    /// The User-Id the handler gave the peer.
    pub user_id: Vec<u8>,
    /// The metadata the handler attached (a ZMTP property list, checked).
    pub metadata: Vec<u8>,
}

/// One connection's exchange with the handler.
pub(crate) struct ZapClient {
    tx: PipeTx,
    rx: PipeRx,
    reply: Vec<Msg>,
}

impl std::fmt::Debug for ZapClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZapClient")
            .field("pipe", &self.tx.id())
            .field("reply_frames", &self.reply.len())
            .finish()
    }
}

impl ZapClient {
    /// Opens a pipe pair to the handler, if one is bound; its replies wake
    /// `io`, under the pipe's id.
    pub(crate) fn connect(registry: &Registry, io: Arc<dyn Notify>) -> Option<ZapClient> {
        let (tx, rx) = registry.connect_handler(ZAP_ENDPOINT, io)?;
        Some(ZapClient {
            tx,
            rx,
            reply: Vec::with_capacity(REPLY_FRAMES),
        })
    }

    /// The id of the pipe pair (what the I/O thread's activations carry).
    pub(crate) fn pipe_id(&self) -> PipeId {
        self.tx.id()
    }

    /// Sends the request (RFC 27) for a peer at `address` that used
    /// `mechanism` with these credentials; `identity` is our socket's
    /// routing id, as libzmq sends.
    pub(crate) fn send_request(
        &mut self,
        domain: &[u8],
        address: &[u8],
        identity: &[u8],
        mechanism: &[u8],
        credentials: &[Vec<u8>],
    ) {
        let head: [&[u8]; 7] = [
            b"", VERSION, REQUEST_ID, domain, address, identity, mechanism,
        ];
        let total = head.len() + credentials.len();
        let frames = head
            .iter()
            .copied()
            .chain(credentials.iter().map(Vec::as_slice));
        for (i, f) in frames.enumerate() {
            // The pipe has no high-water mark: a push never waits.
            self.tx
                .push(Msg::copy_from_slice(f).with_more(i + 1 < total));
        }
        self.tx.flush();
        self.rx.activated();
    }

    /// The pipe woke us: the next [`poll_reply`](Self::poll_reply) may
    /// find the reply.
    pub(crate) fn activated(&self) {
        self.rx.activated();
    }

    /// Reads what the handler sent so far: `Ok(None)` while the reply is
    /// incomplete (the pipe wakes us when more comes). A handler that
    /// closed its socket without replying leaves the peer waiting until
    /// the handshake times out or the peer leaves, as libzmq does.
    pub(crate) fn poll_reply(&mut self) -> Result<Option<Verdict>, ZapError> {
        loop {
            match self.rx.read() {
                Read::Msg(m) => {
                    let more = m.more();
                    let i = self.reply.len();
                    // Every frame but the last has MORE; the seventh must not.
                    if more != (i + 1 < REPLY_FRAMES) {
                        return Err(ZapError::MalformedReply);
                    }
                    self.reply.push(m);
                    if !more {
                        return check_reply(&self.reply).map(Some);
                    }
                }
                Read::Empty | Read::Closed => return Ok(None),
            }
        }
    }
}

impl Drop for ZapClient {
    fn drop(&mut self) {
        self.tx.close();
        self.rx.close();
    }
}

/// Checks a whole reply, in libzmq's order.
fn check_reply(reply: &[Msg]) -> Result<Verdict, ZapError> {
    let frame = |i: usize| reply[i].as_slice();
    if !frame(0).is_empty() {
        return Err(ZapError::Unspecified);
    }
    if frame(1) != VERSION {
        return Err(ZapError::BadVersion);
    }
    if frame(2) != REQUEST_ID {
        return Err(ZapError::BadRequestId);
    }
    let status = match *frame(3) {
        [c @ b'2'..=b'5', b'0', b'0'] => u16::from(c - b'0') * 100,
        _ => return Err(ZapError::InvalidStatusCode),
    };
    Metadata::parse(frame(6)).map_err(|_| ZapError::InvalidMetadata)?;
    Ok(Verdict {
        status,
        user_id: frame(5).to_vec(),
        metadata: frame(6).to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(frames: &[&[u8]]) -> Vec<Msg> {
        frames
            .iter()
            .enumerate()
            .map(|(i, f)| Msg::copy_from_slice(f).with_more(i + 1 < frames.len()))
            .collect()
    }

    #[test]
    fn replies_are_checked_in_libzmq_order() {
        let ok = reply(&[b"", b"1.0", b"1", b"200", b"OK", b"anna", b""]);
        assert_eq!(
            check_reply(&ok),
            Ok(Verdict {
                status: 200,
                user_id: b"anna".to_vec(),
                metadata: Vec::new()
            })
        );
        let meta = b"\x04Host\x00\x00\x00\x03lan";
        let v = check_reply(&reply(&[b"", b"1.0", b"1", b"400", b"", b"", meta])).unwrap();
        assert_eq!((v.status, &v.metadata[..]), (400, &meta[..]));
        for (frames, e) in [
            (
                [&b"x"[..], b"1.0", b"1", b"200", b"", b"", b""],
                ZapError::Unspecified,
            ),
            (
                [&b""[..], b"2.0", b"1", b"200", b"", b"", b""],
                ZapError::BadVersion,
            ),
            (
                [&b""[..], b"1.0", b"2", b"200", b"", b"", b""],
                ZapError::BadRequestId,
            ),
            (
                [&b""[..], b"1.0", b"1", b"201", b"", b"", b""],
                ZapError::InvalidStatusCode,
            ),
            (
                [&b""[..], b"1.0", b"1", b"600", b"", b"", b""],
                ZapError::InvalidStatusCode,
            ),
            (
                [&b""[..], b"1.0", b"1", b"200", b"", b"", b"\x09short"],
                ZapError::InvalidMetadata,
            ),
        ] {
            assert_eq!(check_reply(&reply(&frames)), Err(e));
        }
    }
}
