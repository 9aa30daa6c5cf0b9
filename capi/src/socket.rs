//! Sockets: `zmq_socket`, `zmq_close`, `zmq_bind` / `connect` / `unbind` /
//! `disconnect`, `zmq_send` / `send_const` / `recv` and
//! `zmq_socket_monitor`. Options are in `sockopt`.
//!
//! The handle is a heap `CSocket` starting with a tag, as libzmq's handles
//! do, so that a pointer to something else (a context, a closed socket not
//! yet reused) fails with ENOTSOCK instead of being used.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::Arc;

use zlink_mq_std::{Flags, Msg, Socket, SocketType};

use crate::ctx::{CtxShared, ctx_ref};
use crate::error::{ETERM, Errno};
use crate::ffi;
use crate::msg;
use crate::sockopt::Extra;

/// Marks a live socket handle.
const SOCKET_TAG: u32 = 0xbaad_f00d;

/// A socket handle as C holds it (repr(C): the tag first, for the handle check).
#[repr(C)]
pub(crate) struct CSocket {
    tag: u32,
    pub(crate) socket: Socket,
    ctx: Arc<CtxShared>,
    /// Options libzmq has that our socket keeps no value for.
    pub(crate) extra: Extra,
}

impl CSocket {
    pub(crate) fn send(&mut self, msg: Msg, flags: Flags) -> Result<(), Errno> {
        self.socket.send(msg, flags).map_err(Errno::from)
    }

    pub(crate) fn recv(&mut self, flags: Flags) -> Result<Msg, Errno> {
        self.socket.recv(flags).map_err(Errno::from)
    }
}

/// The socket behind a handle.
///
/// # Safety
/// `p` is NULL or a pointer the C caller got from `zmq_socket` (or any
/// pointer to at least 4 readable bytes: the tag rejects it); no other
/// thread uses the socket meanwhile (libzmq's contract: sockets are not
/// thread-safe).
pub(crate) unsafe fn sock_mut<'a>(p: *mut c_void) -> Result<&'a mut CSocket, Errno> {
    if p.is_null() {
        return Err(Errno(libc::ENOTSOCK));
    }
    // SAFETY: by the caller's contract `p` points to readable memory at
    // least as large as the tag; a live CSocket starts with it.
    let tag = unsafe { p.cast::<u32>().read_unaligned() };
    if tag != SOCKET_TAG {
        return Err(Errno(libc::ENOTSOCK));
    }
    // SAFETY: the tag says `p` is a live CSocket made by `zmq_socket`,
    // freed only by `zmq_close`; the caller's thread is its only user.
    Ok(unsafe { &mut *p.cast::<CSocket>() })
}

fn socket_type(t: c_int) -> Option<SocketType> {
    Some(match t {
        0 => SocketType::Pair,
        1 => SocketType::Pub,
        2 => SocketType::Sub,
        3 => SocketType::Req,
        4 => SocketType::Rep,
        5 => SocketType::Dealer,
        6 => SocketType::Router,
        7 => SocketType::Pull,
        8 => SocketType::Push,
        9 => SocketType::XPub,
        10 => SocketType::XSub,
        11 => SocketType::Stream,
        _ => return None,
    })
}

/// libzmq's number for a socket type (`ZMQ_TYPE`).
pub(crate) fn type_number(t: SocketType) -> c_int {
    match t {
        SocketType::Pair => 0,
        SocketType::Pub => 1,
        SocketType::Sub => 2,
        SocketType::Req => 3,
        SocketType::Rep => 4,
        SocketType::Dealer => 5,
        SocketType::Router => 6,
        SocketType::Pull => 7,
        SocketType::Push => 8,
        SocketType::XPub => 9,
        SocketType::XSub => 10,
        SocketType::Stream => 11,
    }
}

/// A new socket of `type_` (ZMQ_PAIR ... ZMQ_STREAM; the draft types are
/// not provided: EINVAL).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_socket(context: *mut c_void, type_: c_int) -> *mut c_void {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: the C caller passes a context handle (checked).
        let c = unsafe { ctx_ref(context) }?;
        let kind = socket_type(type_).ok_or(Errno(libc::EINVAL))?;
        let (mut socket, defaults) = c.shared().socket(kind)?;
        socket.set_ipv6(defaults.ipv6);
        if !defaults.blocky {
            socket.set_linger(Some(std::time::Duration::ZERO));
        }
        let handle = Box::new(CSocket {
            tag: SOCKET_TAG,
            socket,
            ctx: c.shared().clone(),
            extra: Extra::default(),
        });
        Ok(Box::into_raw(handle).cast())
    })
}

/// Closes the socket (its queued messages leave within LINGER, in the
/// background).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_close(s: *mut c_void) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a socket handle (checked).
        unsafe { sock_mut(s) }?;
        let raw = s.cast::<CSocket>();
        // SAFETY: `raw` is the live CSocket checked above, made by
        // `Box::into_raw` in `zmq_socket`; the tag is cleared first so that
        // a second close of the not yet reused block is ENOTSOCK, as in
        // libzmq. The caller no longer uses the handle.
        let handle = unsafe {
            (*raw).tag = 0;
            Box::from_raw(raw)
        };
        let ctx = handle.ctx.clone();
        drop(handle);
        ctx.socket_closed();
        Ok(0)
    })
}

/// A C string argument as UTF-8 (EINVAL if it is not).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string.
pub(crate) unsafe fn c_str<'a>(p: *const c_char) -> Result<&'a str, Errno> {
    if p.is_null() {
        return Err(Errno(libc::EINVAL));
    }
    // SAFETY: by the caller's contract.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| Errno(libc::EINVAL))
}

fn endpoint_call(
    s: *mut c_void,
    addr: *const c_char,
    call: impl FnOnce(&mut CSocket, &str) -> zlink_mq_std::Result<()>,
) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a socket handle (checked).
        let sock = unsafe { sock_mut(s) }?;
        // SAFETY: the C caller passes a NUL-terminated endpoint.
        let endpoint = unsafe { c_str(addr) }?;
        if sock.ctx.is_terminated() {
            return Err(Errno(ETERM));
        }
        call(sock, endpoint)?;
        Ok(0)
    })
}

/// Accepts connections on `addr`.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_bind(s: *mut c_void, addr: *const c_char) -> c_int {
    endpoint_call(s, addr, |sock, e| sock.bind(e))
}

/// Connects to `addr`.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_connect(s: *mut c_void, addr: *const c_char) -> c_int {
    endpoint_call(s, addr, |sock, e| sock.socket.connect(e))
}

/// Stops accepting on `addr` (as bound, or as ZMQ_LAST_ENDPOINT resolved).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_unbind(s: *mut c_void, addr: *const c_char) -> c_int {
    endpoint_call(s, addr, |sock, e| sock.socket.unbind(e))
}

/// Drops the connection to `addr`.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_disconnect(s: *mut c_void, addr: *const c_char) -> c_int {
    endpoint_call(s, addr, |sock, e| sock.socket.disconnect(e))
}

/// Sends `len` bytes at `buf` as one frame (copied). Returns `len`.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_send(s: *mut c_void, buf: *const c_void, len: usize, flags: c_int) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a socket handle (checked).
        let sock = unsafe { sock_mut(s) }?;
        let data: &[u8] = if len == 0 {
            &[]
        } else if buf.is_null() {
            return Err(Errno(libc::EFAULT));
        } else {
            // SAFETY: the C caller passes `len` readable bytes at `buf`.
            unsafe { std::slice::from_raw_parts(buf.cast(), len) }
        };
        sock.send(Msg::copy_from_slice(data), msg::send_flags(flags))?;
        Ok(c_int::try_from(len).unwrap_or(c_int::MAX))
    })
}

/// Sends `len` bytes at `buf` without copying them: the buffer must stay
/// valid and unchanged until the message is sent (libzmq's contract).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_send_const(
    s: *mut c_void,
    buf: *const c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a socket handle (checked).
        let sock = unsafe { sock_mut(s) }?;
        if buf.is_null() && len != 0 {
            return Err(Errno(libc::EFAULT));
        }
        // SAFETY: libzmq's contract for zmq_send_const: `len` bytes at
        // `buf` stay valid for as long as any message refers to them.
        let mut m = unsafe { msg::foreign(buf.cast_mut().cast(), len, None, std::ptr::null_mut()) };
        msg::send(sock, &mut m, flags)
    })
}

/// Receives one frame into `buf`: at most `len` bytes are stored (the rest
/// is cut off); returns the frame's full size.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_recv(s: *mut c_void, buf: *mut c_void, len: usize, flags: c_int) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a socket handle (checked).
        let sock = unsafe { sock_mut(s) }?;
        if buf.is_null() && len != 0 {
            return Err(Errno(libc::EFAULT));
        }
        let frame = sock.recv(msg::send_flags(flags & 1))?;
        let n = frame.len().min(len);
        if n > 0 {
            // SAFETY: the C caller passes `len` writable bytes at `buf`; `n`
            // is at most that, and the frame is our own memory.
            unsafe { std::ptr::copy_nonoverlapping(frame.as_ptr(), buf.cast::<u8>(), n) };
        }
        Ok(c_int::try_from(frame.len()).unwrap_or(c_int::MAX))
    })
}

/// Reports the socket's connection events (`events` a mask of
/// ZMQ_EVENT_*) on a PAIR bound to the inproc endpoint `addr`, in libzmq's
/// two-frame format; `addr` NULL stops monitoring.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_socket_monitor(s: *mut c_void, addr: *const c_char, events: c_int) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a socket handle (checked).
        let sock = unsafe { sock_mut(s) }?;
        if sock.ctx.is_terminated() {
            return Err(Errno(ETERM));
        }
        if addr.is_null() {
            // A monitor that reports nothing replaces (and stops) the last.
            drop(sock.socket.monitor_channel(0));
            return Ok(0);
        }
        // SAFETY: the C caller passes a NUL-terminated endpoint.
        let endpoint = unsafe { c_str(addr) }?;
        sock.socket.monitor(endpoint, events as u16)?;
        Ok(0)
    })
}

/// Sends the `count` buffers of `iov` (copied), as one multipart message
/// with ZMQ_SNDMORE; returns the size of the last, as libzmq.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_sendiov(
    s: *mut c_void,
    iov: *mut libc::iovec,
    count: usize,
    flags: c_int,
) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a socket handle (checked).
        let sock = unsafe { sock_mut(s) }?;
        if count == 0 || iov.is_null() {
            return Err(Errno(libc::EINVAL));
        }
        // SAFETY: the C caller passes `count` iovecs at `iov`.
        let iovs = unsafe { std::slice::from_raw_parts(iov, count) };
        let mut last = 0;
        for (i, v) in iovs.iter().enumerate() {
            let data: &[u8] = if v.iov_len == 0 {
                &[]
            } else {
                // SAFETY: each iovec names `iov_len` readable bytes.
                unsafe { std::slice::from_raw_parts(v.iov_base.cast(), v.iov_len) }
            };
            // As libzmq: the caller's flags for each part, SNDMORE cleared on
            // the last (so without SNDMORE each part is a message).
            let more = if i + 1 < count { flags & 2 } else { 0 };
            sock.send(
                Msg::copy_from_slice(data),
                msg::send_flags((flags & 1) | more),
            )?;
            last = v.iov_len;
        }
        Ok(c_int::try_from(last).unwrap_or(c_int::MAX))
    })
}

/// Receives up to `*count` frames of a message into newly allocated
/// buffers (the caller frees each `iov_base` with `free`); `*count` is set
/// to, and the call returns, the number received.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_recviov(
    s: *mut c_void,
    iov: *mut libc::iovec,
    count: *mut usize,
    flags: c_int,
) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a socket handle (checked).
        let sock = unsafe { sock_mut(s) }?;
        if count.is_null() || iov.is_null() {
            return Err(Errno(libc::EINVAL));
        }
        // SAFETY: the C caller passes a valid count.
        let max = unsafe { *count };
        if max == 0 {
            return Err(Errno(libc::EINVAL));
        }
        let mut n = 0usize;
        while n < max {
            let frame = sock.recv(msg::send_flags(flags & 1))?;
            // SAFETY: malloc of the frame's size (1 for an empty frame so the
            // pointer is freeable); checked for NULL below.
            let buf = unsafe { libc::malloc(frame.len().max(1)) }.cast::<u8>();
            if buf.is_null() {
                return Err(Errno(libc::ENOMEM));
            }
            // SAFETY: `buf` has room for the frame; `iov` has `max` entries
            // and `n < max`.
            unsafe {
                std::ptr::copy_nonoverlapping(frame.as_ptr(), buf, frame.len());
                *iov.add(n) = libc::iovec {
                    iov_base: buf.cast(),
                    iov_len: frame.len(),
                };
            }
            n += 1;
            if !frame.more() {
                break;
            }
        }
        // SAFETY: as above.
        unsafe { *count = n };
        Ok(c_int::try_from(n).unwrap_or(c_int::MAX))
    })
}
