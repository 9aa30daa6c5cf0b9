//! Messages: `zmq_msg_t` and the `zmq_msg_*` functions.
//!
//! A `zmq_msg_t` is 64 bytes of the caller's memory, aligned to a pointer,
//! that C code may move with `memcpy` (nothing in it points into itself).
//! Its layout is ours:
//!
//! ```text
//!  0                             48       53    54     55     56            64
//! +------------------------------+--------+-----+------+------+-------------+
//! | Store: inline bytes, or a    | inline | len | flags| kind | properties  |
//! | Bytes, or a Vec (init_size)  | 48..53 |     |      |      | (or NULL)   |
//! +------------------------------+--------+-----+------+------+-------------+
//! ```
//!
//! - `kind` says which: up to [`INLINE_MAX`] (53) bytes live inside the
//!   struct itself (bytes 0..53); larger payloads are a [`Bytes`]
//!   (reference counted: received messages, `zmq_msg_init_data`,
//!   `zmq_msg_copy`) or a `Vec<u8>` (`zmq_msg_init_size`, frozen into a
//!   `Bytes` without a copy when sent or copied). A closed message has
//!   kind [`KIND_CLOSED`]; anything else there is not a message (EFAULT).
//! - Sending hands the payload to the socket without copying it (payloads
//!   up to 70 bytes are copied into the socket's inline message anyway);
//!   receiving takes the socket's buffer without copying.
//! - `properties` points to the connection properties a received message
//!   carries (`zmq_msg_gets`, `ZMQ_SRCFD`), shared by every frame of the
//!   connection and by copies (`zmq_msg_copy`); NULL otherwise.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::mem::{ManuallyDrop, size_of};
use std::ptr;
use std::sync::Arc;

use bytes::Bytes;
use zlink_mq_std::{Flags, Msg, Properties};

use crate::error::Errno;
use crate::ffi;
use crate::socket::sock_mut;

/// The most payload bytes kept inside the `zmq_msg_t`.
pub const INLINE_MAX: usize = 53;

const KIND_INLINE: u8 = 0xa1;
const KIND_BYTES: u8 = 0xa2;
const KIND_VEC: u8 = 0xa3;
const KIND_SMALL: u8 = 0xa4;

/// The most payload bytes kept in a [`SmallBuf`] (`len` is a byte).
pub const SMALL_MAX: usize = 255;

/// A buffer for payloads too large to be inline but small (64-byte
/// messages, the common case, among them): taken from and given back to a
/// per-thread pool, so that `zmq_msg_init_size` / `zmq_msg_close` and a
/// receive cost no allocation once the pool is warm.
type SmallBuf = Box<[u8; SMALL_MAX]>;

/// At most this many idle small buffers per thread (64 KiB).
const SMALL_POOL_MAX: usize = 256;

thread_local! {
    static SMALL_POOL: std::cell::RefCell<Vec<SmallBuf>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn small_take() -> SmallBuf {
    SMALL_POOL
        .try_with(|p| p.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_else(|| Box::new([0; SMALL_MAX]))
}

fn small_give(buf: SmallBuf) {
    // During the thread's teardown the pool may be gone: the buffer is
    // freed instead.
    let _ = SMALL_POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < SMALL_POOL_MAX {
            p.push(buf);
        }
    });
}
const KIND_CLOSED: u8 = 0x5e;

/// More frames follow (`ZMQ_MORE`).
const FLAG_MORE: u8 = 1;
/// The payload is the caller's constant data (init_data without a free
/// function, `zmq_send_const`): libzmq reports such a message as shared.
const FLAG_CONST: u8 = 2;

const ZMQ_MORE: c_int = 1;
const ZMQ_SRCFD: c_int = 2;
const ZMQ_SHARED: c_int = 3;

/// Bytes of the inline payload inside [`Store`].
const STORE: usize = 48;

/// The large payload, overlaid on the first 48 bytes.
#[repr(C)]
union Store {
    inline: [u8; STORE],
    bytes: ManuallyDrop<Bytes>,
    vec: ManuallyDrop<Vec<u8>>,
    small: ManuallyDrop<SmallBuf>,
}

/// What a `zmq_msg_t` holds (see the module doc).
#[repr(C, align(8))]
pub struct CMsg {
    store: Store,
    inline_tail: [u8; INLINE_MAX - STORE],
    len: u8,
    flags: u8,
    kind: u8,
    properties: ManuallyDrop<Option<Arc<Properties>>>,
}

// The C header promises 64 bytes aligned to a pointer.
const _: () = assert!(size_of::<CMsg>() == 64);
const _: () = assert!(std::mem::align_of::<CMsg>() <= 8);

/// The C caller's `zmq_msg_t`.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct zmq_msg_t {
    _opaque: [u8; 64],
}

impl std::fmt::Debug for CMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CMsg")
            .field("kind", &self.kind)
            .field("len", &self.payload().len())
            .finish()
    }
}

impl CMsg {
    /// An empty message.
    pub fn empty() -> Self {
        CMsg {
            store: Store { inline: [0; STORE] },
            inline_tail: [0; INLINE_MAX - STORE],
            len: 0,
            flags: 0,
            kind: KIND_INLINE,
            properties: ManuallyDrop::new(None),
        }
    }

    fn with_bytes(bytes: Bytes, flags: u8) -> Self {
        let mut m = CMsg::empty();
        m.store = Store {
            bytes: ManuallyDrop::new(bytes),
        };
        m.kind = KIND_BYTES;
        m.flags = flags;
        m
    }

    fn with_inline(data: &[u8], flags: u8) -> Self {
        debug_assert!(data.len() <= INLINE_MAX);
        let mut m = CMsg::empty();
        m.inline_mut()[..data.len()].copy_from_slice(data);
        m.len = data.len() as u8;
        m.flags = flags;
        m
    }

    /// A small message: `data` in a pooled buffer.
    fn with_small(data: &[u8], flags: u8) -> Self {
        let mut m = CMsg::with_small_size(data.len());
        m.flags = flags;
        // SAFETY: kind SMALL was just written with `store.small`.
        unsafe { (*m.store.small)[..data.len()].copy_from_slice(data) };
        m
    }

    fn with_small_size(size: usize) -> Self {
        debug_assert!(size <= SMALL_MAX);
        let mut m = CMsg::empty();
        m.store = Store {
            small: ManuallyDrop::new(small_take()),
        };
        m.kind = KIND_SMALL;
        m.len = size as u8;
        m
    }

    /// A message of `size` bytes for the caller to fill (`zmq_msg_init_size`).
    fn with_size(size: usize) -> Self {
        if size <= INLINE_MAX {
            let mut m = CMsg::empty();
            m.len = size as u8;
            return m;
        }
        if size <= SMALL_MAX {
            return CMsg::with_small_size(size);
        }
        let mut m = CMsg::empty();
        m.store = Store {
            vec: ManuallyDrop::new(vec![0; size]),
        };
        m.kind = KIND_VEC;
        m
    }

    /// A received frame, taking the socket's buffer and the connection's
    /// properties.
    pub fn from_msg(mut msg: Msg) -> Self {
        let flags = if msg.more() { FLAG_MORE } else { 0 };
        let properties = msg.take_properties();
        let mut m = if msg.len() <= INLINE_MAX {
            CMsg::with_inline(&msg, flags)
        } else if msg.len() <= SMALL_MAX {
            CMsg::with_small(&msg, flags)
        } else {
            CMsg::with_bytes(msg.into_bytes(), flags)
        };
        m.properties = ManuallyDrop::new(properties);
        m
    }

    /// The properties of the connection the message came from.
    fn properties(&self) -> Option<&Properties> {
        self.properties.as_deref()
    }

    fn inline_all(&self) -> &[u8; INLINE_MAX] {
        // SAFETY: `CMsg` is repr(C) with `store` (48 bytes) directly followed
        // by `inline_tail` (5 bytes), no padding between: the first 53 bytes
        // are initialised bytes whatever the kind (an overlaid Bytes or Vec is
        // plain data too), and the reference lives as long as `self`.
        unsafe { &*ptr::from_ref(self).cast::<[u8; INLINE_MAX]>() }
    }

    fn inline_mut(&mut self) -> &mut [u8; INLINE_MAX] {
        // SAFETY: as in `inline_all`; only called on inline messages, where
        // no Bytes or Vec is overlaid that a write could corrupt.
        unsafe { &mut *ptr::from_mut(self).cast::<[u8; INLINE_MAX]>() }
    }

    fn bytes(&self) -> &Bytes {
        debug_assert_eq!(self.kind, KIND_BYTES);
        // SAFETY: kind BYTES means `store.bytes` was written last.
        unsafe { &self.store.bytes }
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        match self.kind {
            KIND_BYTES => self.bytes(),
            // SAFETY: kind VEC means `store.vec` was written last.
            KIND_VEC => unsafe { &self.store.vec },
            KIND_INLINE => &self.inline_all()[..self.len as usize],
            // SAFETY: kind SMALL means `store.small` was written last.
            KIND_SMALL => unsafe { &self.store.small[..self.len as usize] },
            _ => &[],
        }
    }

    fn data_ptr(&mut self) -> *mut u8 {
        match self.kind {
            // The caller may write into a large received message, as with
            // libzmq; a Bytes shared by several messages shows the change in
            // each (ZMQ_SHARED tells).
            KIND_BYTES => self.bytes().as_ptr().cast_mut(),
            // SAFETY: kind VEC means `store.vec` was written last.
            KIND_VEC => unsafe { (*self.store.vec).as_mut_ptr() },
            // SAFETY: kind SMALL means `store.small` was written last.
            KIND_SMALL => unsafe { (*self.store.small).as_mut_ptr() },
            _ => self.inline_mut().as_mut_ptr(),
        }
    }

    fn more(&self) -> bool {
        self.flags & FLAG_MORE != 0
    }

    /// Turns a `Vec` payload into a `Bytes` (no copy) so it can be shared.
    fn freeze(&mut self) {
        if self.kind == KIND_VEC {
            // SAFETY: kind VEC means `store.vec` holds a live Vec; it is
            // taken out once, and the kind changes with it.
            let vec = unsafe { ManuallyDrop::take(&mut self.store.vec) };
            self.store = Store {
                bytes: ManuallyDrop::new(Bytes::from(vec)),
            };
            self.kind = KIND_BYTES;
        }
    }

    /// A second message with the same payload (shared, not copied, when
    /// large).
    fn share(&mut self) -> CMsg {
        if self.kind == KIND_SMALL {
            // Shared from now on, as libzmq shares a copied message of this
            // size: its payload moves to a Bytes.
            let bytes = Bytes::copy_from_slice(self.payload());
            // SAFETY: kind SMALL means `store.small` holds a live buffer;
            // it is taken out once, and the kind changes with it.
            small_give(unsafe { ManuallyDrop::take(&mut self.store.small) });
            self.store = Store {
                bytes: ManuallyDrop::new(bytes),
            };
            self.kind = KIND_BYTES;
        }
        self.freeze();
        let mut copy = match self.kind {
            KIND_BYTES => CMsg::with_bytes(self.bytes().clone(), self.flags),
            _ => CMsg::with_inline(self.payload(), self.flags),
        };
        copy.properties = self.properties.clone();
        copy
    }

    /// The frame to hand to a socket; `self` keeps its payload until the
    /// send succeeds.
    pub fn frame(&mut self) -> Msg {
        if self.kind != KIND_BYTES && self.payload().len() <= Msg::INLINE_CAPACITY {
            // The socket keeps it inline: one copy, no buffer made.
            return Msg::copy_from_slice(self.payload()).with_more(self.more());
        }
        self.freeze();
        let msg = match self.kind {
            KIND_BYTES => Msg::from_bytes(self.bytes().clone()),
            _ => Msg::copy_from_slice(self.payload()),
        };
        msg.with_more(self.more())
    }

    /// Frees the payload; the message is closed.
    fn release(&mut self) {
        match self.kind {
            // SAFETY: the kind says which field holds a live value; it is
            // dropped once, as the kind changes to CLOSED right after.
            KIND_BYTES => unsafe { ManuallyDrop::drop(&mut self.store.bytes) },
            // SAFETY: as above.
            KIND_VEC => unsafe { ManuallyDrop::drop(&mut self.store.vec) },
            // SAFETY: as above; the buffer goes back to this thread's pool.
            KIND_SMALL => small_give(unsafe { ManuallyDrop::take(&mut self.store.small) }),
            _ => {}
        }
        // SAFETY: a valid message's properties are live (None or a share),
        // dropped once: the take leaves None behind.
        drop(unsafe { ManuallyDrop::take(&mut self.properties) });
        self.properties = ManuallyDrop::new(None);
        self.kind = KIND_CLOSED;
    }

    fn is_valid(&self) -> bool {
        matches!(self.kind, KIND_INLINE | KIND_BYTES | KIND_VEC | KIND_SMALL)
    }
}

/// A buffer the caller gave to `zmq_msg_init_data`, freed by its function
/// when the last message sharing it is gone.
struct Foreign {
    data: *mut u8,
    len: usize,
    ffn: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    hint: *mut c_void,
}

// SAFETY: libzmq's contract for `zmq_msg_init_data`: the buffer stays valid
// and unchanged until the free function is called, and the free function
// may be called from any thread. Nothing else is shared.
unsafe impl Send for Foreign {}

impl AsRef<[u8]> for Foreign {
    fn as_ref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: the caller gave `len` readable bytes at `data`, valid until
        // `ffn` runs (in our Drop, after the last reader).
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }
}

impl Drop for Foreign {
    fn drop(&mut self) {
        if let Some(ffn) = self.ffn {
            // SAFETY: the free function the caller gave with this buffer,
            // called exactly once, with the buffer and hint it was given.
            unsafe { ffn(self.data.cast(), self.hint) };
        }
    }
}

/// A message wrapping the caller's buffer without copying it (with no free
/// function: constant data that outlives the message).
///
/// # Safety
/// `data` points to `len` bytes valid until `ffn` is called (or forever
/// without `ffn`).
pub(crate) unsafe fn foreign(
    data: *mut u8,
    len: usize,
    ffn: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    hint: *mut c_void,
) -> CMsg {
    let flags = if ffn.is_none() { FLAG_CONST } else { 0 };
    CMsg::with_bytes(
        Bytes::from_owner(Foreign {
            data,
            len,
            ffn,
            hint,
        }),
        flags,
    )
}

/// The message behind a caller's pointer, checked to be one.
///
/// # Safety
/// `p` is NULL or points to a `zmq_msg_t` (64 writable, aligned bytes).
unsafe fn msg_mut<'a>(p: *mut zmq_msg_t) -> Result<&'a mut CMsg, Errno> {
    if p.is_null() {
        return Err(Errno(libc::EFAULT));
    }
    // SAFETY: by the caller's contract `p` is a zmq_msg_t, which has the
    // size and alignment of CMsg; every bit pattern of its bytes is read
    // only through `kind` before use.
    let m = unsafe { &mut *p.cast::<CMsg>() };
    if m.is_valid() {
        Ok(m)
    } else {
        Err(Errno(libc::EFAULT))
    }
}

/// Writes a new message over `p` without reading what was there.
///
/// # Safety
/// `p` points to a `zmq_msg_t`; what it held is not a live message (or is
/// leaked, as libzmq does when `zmq_msg_init` is called twice).
unsafe fn write_new(p: *mut zmq_msg_t, m: CMsg) -> Result<c_int, Errno> {
    if p.is_null() {
        return Err(Errno(libc::EFAULT));
    }
    // SAFETY: by the caller's contract, 64 writable aligned bytes.
    unsafe { ptr::write(p.cast::<CMsg>(), m) };
    Ok(0)
}

/// Replaces the message at `p` (which must be valid) with `m`.
pub(crate) fn replace(dst: &mut CMsg, m: CMsg) {
    dst.release();
    *dst = m;
}

/// Initialises an empty message.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_init(msg: *mut zmq_msg_t) -> c_int {
    // SAFETY: the C caller passes a zmq_msg_t to initialise.
    ffi(-1, || unsafe { write_new(msg, CMsg::empty()) })
}

/// Initialises a message of `size` bytes for the caller to fill.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_init_size(msg: *mut zmq_msg_t, size: usize) -> c_int {
    ffi(-1, || {
        if isize::try_from(size).is_err() {
            return Err(Errno(libc::ENOMEM));
        }
        // SAFETY: the C caller passes a zmq_msg_t to initialise.
        unsafe { write_new(msg, CMsg::with_size(size)) }
    })
}

/// Initialises a message over the caller's buffer, without copying it;
/// `ffn(data, hint)` frees it when the message (and every copy) is gone,
/// on whatever thread that happens.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_init_data(
    msg: *mut zmq_msg_t,
    data: *mut c_void,
    size: usize,
    ffn: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    hint: *mut c_void,
) -> c_int {
    ffi(-1, || {
        if data.is_null() && size != 0 {
            return Err(Errno(libc::EFAULT));
        }
        // SAFETY: libzmq's contract: `size` bytes at `data`, valid until
        // `ffn` is called; the C caller passes a zmq_msg_t to initialise.
        unsafe { write_new(msg, foreign(data.cast(), size, ffn, hint)) }
    })
}

/// Frees the message's payload (or drops its share of it).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_close(msg: *mut zmq_msg_t) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a zmq_msg_t (checked).
        let m = unsafe { msg_mut(msg) }?;
        m.release();
        Ok(0)
    })
}

/// Moves `src`'s content to `dest` (whose old content is freed); `src`
/// becomes empty.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_move(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int {
    ffi(-1, || {
        if dest == src {
            // SAFETY: the C caller passes a zmq_msg_t (checked).
            unsafe { msg_mut(src) }?;
            return Ok(0);
        }
        // SAFETY: the C caller passes two distinct zmq_msg_t (checked).
        let s = unsafe { msg_mut(src) }?;
        // SAFETY: as above.
        let d = unsafe { msg_mut(dest) }?;
        let taken = std::mem::replace(s, CMsg::empty());
        replace(d, taken);
        Ok(0)
    })
}

/// Makes `dest` a copy of `src` (sharing a large payload, not copying it).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_copy(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int {
    ffi(-1, || {
        if dest == src {
            // SAFETY: the C caller passes a zmq_msg_t (checked).
            unsafe { msg_mut(src) }?;
            return Ok(0);
        }
        // SAFETY: the C caller passes two distinct zmq_msg_t (checked).
        let s = unsafe { msg_mut(src) }?;
        let copy = s.share();
        // SAFETY: as above.
        let d = unsafe { msg_mut(dest) }?;
        replace(d, copy);
        Ok(0)
    })
}

/// The payload's first byte (NULL for a closed message).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_data(msg: *mut zmq_msg_t) -> *mut c_void {
    ffi(ptr::null_mut(), || {
        // SAFETY: the C caller passes a zmq_msg_t (checked).
        let m = unsafe { msg_mut(msg) }?;
        Ok(m.data_ptr().cast())
    })
}

/// The payload's size in bytes.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_size(msg: *const zmq_msg_t) -> usize {
    ffi(usize::MAX, || {
        // SAFETY: the C caller passes a zmq_msg_t (checked); it is only read.
        let m = unsafe { msg_mut(msg.cast_mut()) }?;
        Ok(m.payload().len())
    })
}

/// 1 if more frames of the message follow this one.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_more(msg: *const zmq_msg_t) -> c_int {
    ffi(0, || {
        // SAFETY: the C caller passes a zmq_msg_t (checked); it is only read.
        let m = unsafe { msg_mut(msg.cast_mut()) }?;
        Ok(c_int::from(m.more()))
    })
}

/// A property: `ZMQ_MORE`, `ZMQ_SHARED` (the payload is shared with other
/// messages, or is the caller's constant data), `ZMQ_SRCFD` (the descriptor
/// of the connection a received message came from; EINVAL for others, as
/// libzmq).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_get(msg: *const zmq_msg_t, property: c_int) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a zmq_msg_t (checked); it is only read.
        let m = unsafe { msg_mut(msg.cast_mut()) }?;
        match property {
            ZMQ_MORE => Ok(c_int::from(m.more())),
            ZMQ_SHARED => Ok(c_int::from(
                m.flags & FLAG_CONST != 0 || (m.kind == KIND_BYTES && !m.bytes().is_unique()),
            )),
            ZMQ_SRCFD => m
                .properties()
                .and_then(Properties::source_fd)
                .ok_or(Errno(libc::EINVAL)),
            _ => Err(Errno(libc::EINVAL)),
        }
    })
}

/// Sets a property: none is settable (EINVAL), as in libzmq.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_set(msg: *mut zmq_msg_t, _property: c_int, _value: c_int) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a zmq_msg_t (checked).
        unsafe { msg_mut(msg) }?;
        Err(Errno(libc::EINVAL))
    })
}

/// A metadata property of the connection the message came from
/// ("Socket-Type", "Identity", "Peer-Address", "User-Id", the peer's
/// `X-` metadata, the ZAP handler's metadata); NULL with EINVAL for a
/// property the message lacks, as libzmq. The string lives as long as the
/// message.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_gets(msg: *const zmq_msg_t, property: *const c_char) -> *const c_char {
    ffi(ptr::null(), || {
        // SAFETY: the C caller passes a zmq_msg_t (checked); it is only read.
        let m = unsafe { msg_mut(msg.cast_mut()) }?;
        if property.is_null() {
            return Err(Errno(libc::EINVAL));
        }
        // SAFETY: the C caller passes a NUL-terminated property name.
        let name = unsafe { CStr::from_ptr(property) };
        let name = name.to_str().map_err(|_| Errno(libc::EINVAL))?;
        m.properties()
            .and_then(|p| p.get_c(name))
            .map(CStr::as_ptr)
            .ok_or(Errno(libc::EINVAL))
    })
}

/// Sends the message on socket `s`; on success the message is left empty,
/// on failure unchanged. Returns the number of bytes sent.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_send(msg: *mut zmq_msg_t, s: *mut c_void, flags: c_int) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a socket handle (checked).
        let sock = unsafe { sock_mut(s) }?;
        // SAFETY: the C caller passes a zmq_msg_t (checked).
        let m = unsafe { msg_mut(msg) }?;
        send(sock, m, flags)
    })
}

pub(crate) fn send(
    sock: &mut crate::socket::CSocket,
    m: &mut CMsg,
    flags: c_int,
) -> Result<c_int, Errno> {
    let len = m.payload().len();
    let frame = m.frame();
    sock.send(frame, send_flags(flags))?;
    replace(m, CMsg::empty());
    Ok(c_int::try_from(len).unwrap_or(c_int::MAX))
}

/// libzmq's flags as ours (unknown bits are ignored, as libzmq does).
pub(crate) fn send_flags(flags: c_int) -> Flags {
    let mut f = Flags::NONE;
    if flags & 1 != 0 {
        f = f | Flags::DONTWAIT;
    }
    if flags & 2 != 0 {
        f = f | Flags::SNDMORE;
    }
    f
}

/// Receives a frame into the message (its old content is freed). Returns
/// its size.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_msg_recv(msg: *mut zmq_msg_t, s: *mut c_void, flags: c_int) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a socket handle (checked).
        let sock = unsafe { sock_mut(s) }?;
        // SAFETY: the C caller passes a zmq_msg_t (checked).
        let m = unsafe { msg_mut(msg) }?;
        recv(sock, m, flags)
    })
}

pub(crate) fn recv(
    sock: &mut crate::socket::CSocket,
    m: &mut CMsg,
    flags: c_int,
) -> Result<c_int, Errno> {
    let frame = sock.recv(send_flags(flags & 1))?;
    let len = frame.len();
    replace(m, CMsg::from_msg(frame));
    Ok(c_int::try_from(len).unwrap_or(c_int::MAX))
}

/// libzmq's older name of `zmq_msg_send`, arguments swapped.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_sendmsg(s: *mut c_void, msg: *mut zmq_msg_t, flags: c_int) -> c_int {
    zmq_msg_send(msg, s, flags)
}

/// libzmq's older name of `zmq_msg_recv`, arguments swapped.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_recvmsg(s: *mut c_void, msg: *mut zmq_msg_t, flags: c_int) -> c_int {
    zmq_msg_recv(msg, s, flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_msg() -> zmq_msg_t {
        zmq_msg_t { _opaque: [0; 64] }
    }

    fn kind(m: &mut zmq_msg_t) -> u8 {
        // SAFETY: an initialised zmq_msg_t is a CMsg.
        unsafe { (*ptr::from_mut(m).cast::<CMsg>()).kind }
    }

    #[test]
    fn sizes_choose_the_storage() {
        let mut m = new_msg();
        assert_eq!(zmq_msg_init_size(&mut m, INLINE_MAX), 0);
        assert_eq!(kind(&mut m), KIND_INLINE);
        assert_eq!(zmq_msg_size(&m), INLINE_MAX);
        assert_eq!(zmq_msg_close(&mut m), 0);
        assert_eq!(zmq_msg_init_size(&mut m, INLINE_MAX + 1), 0);
        assert_eq!(kind(&mut m), KIND_SMALL);
        assert_eq!(zmq_msg_size(&m), INLINE_MAX + 1);
        assert_eq!(zmq_msg_close(&mut m), 0);
        assert_eq!(zmq_msg_init_size(&mut m, SMALL_MAX), 0);
        assert_eq!(kind(&mut m), KIND_SMALL);
        assert_eq!(zmq_msg_close(&mut m), 0);
        assert_eq!(zmq_msg_init_size(&mut m, 1000), 0);
        assert_eq!(kind(&mut m), KIND_VEC);
        assert_eq!(zmq_msg_size(&m), 1000);
        assert_eq!(zmq_msg_close(&mut m), 0);
        // A closed message is no message.
        assert_eq!(zmq_msg_close(&mut m), -1);
        assert_eq!(crate::error::zmq_errno(), libc::EFAULT);
    }

    #[test]
    fn small_payloads_keep_their_bytes_through_copy_and_reuse() {
        let mut a = new_msg();
        let mut b = new_msg();
        for round in 0..3u8 {
            assert_eq!(zmq_msg_init_size(&mut a, 64), 0);
            assert_eq!(kind(&mut a), KIND_SMALL);
            let data = zmq_msg_data(&mut a).cast::<u8>();
            // SAFETY: the message has 64 writable bytes at `data`.
            unsafe { std::ptr::write_bytes(data, 0x40 + round, 64) };
            zmq_msg_init(&mut b);
            assert_eq!(zmq_msg_copy(&mut b, &mut a), 0);
            assert_eq!(zmq_msg_get(&b, ZMQ_SHARED), 1, "a copy shares, as libzmq");
            assert_eq!(zmq_msg_size(&b), 64);
            // SAFETY: as above, for `b`.
            let got = unsafe { std::slice::from_raw_parts(zmq_msg_data(&mut b).cast::<u8>(), 64) };
            assert_eq!(got, &[0x40 + round; 64][..]);
            zmq_msg_close(&mut a);
            zmq_msg_close(&mut b);
        }
    }

    #[test]
    fn copies_share_large_payloads() {
        let mut a = new_msg();
        let mut b = new_msg();
        assert_eq!(zmq_msg_init_size(&mut a, 1024), 0);
        assert_eq!(zmq_msg_get(&a, ZMQ_SHARED), 0);
        zmq_msg_init(&mut b);
        assert_eq!(zmq_msg_copy(&mut b, &mut a), 0);
        assert_eq!(zmq_msg_get(&b, ZMQ_SHARED), 1);
        assert_eq!(zmq_msg_data(&mut a), zmq_msg_data(&mut b));
        zmq_msg_close(&mut a);
        assert_eq!(zmq_msg_get(&b, ZMQ_SHARED), 0);
        zmq_msg_close(&mut b);
    }

    static FREED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    unsafe extern "C" fn count_free(_data: *mut c_void, hint: *mut c_void) {
        // ORDERING: read after the messages are closed on this thread.
        FREED.fetch_add(hint as usize, std::sync::atomic::Ordering::Relaxed);
    }

    #[test]
    fn init_data_frees_once_after_the_last_copy() {
        let mut buf = *b"hello world";
        let mut a = new_msg();
        let mut b = new_msg();
        let r = zmq_msg_init_data(
            &mut a,
            buf.as_mut_ptr().cast(),
            buf.len(),
            Some(count_free),
            ptr::without_provenance_mut(1),
        );
        assert_eq!(r, 0);
        zmq_msg_init(&mut b);
        zmq_msg_copy(&mut b, &mut a);
        zmq_msg_close(&mut a);
        // ORDERING: same thread.
        assert_eq!(FREED.load(std::sync::atomic::Ordering::Relaxed), 0);
        // SAFETY: b is a live message of 11 bytes.
        let data = unsafe { std::slice::from_raw_parts(zmq_msg_data(&mut b).cast::<u8>(), 11) };
        assert_eq!(data, b"hello world");
        zmq_msg_close(&mut b);
        // ORDERING: same thread.
        assert_eq!(FREED.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[test]
    fn move_leaves_the_source_empty() {
        let mut a = new_msg();
        let mut b = new_msg();
        zmq_msg_init_size(&mut a, 5000);
        zmq_msg_init_size(&mut b, 3);
        let p = zmq_msg_data(&mut a);
        assert_eq!(zmq_msg_move(&mut b, &mut a), 0);
        assert_eq!(zmq_msg_size(&a), 0);
        assert_eq!(zmq_msg_size(&b), 5000);
        assert_eq!(zmq_msg_data(&mut b), p);
        zmq_msg_close(&mut a);
        zmq_msg_close(&mut b);
    }
}
