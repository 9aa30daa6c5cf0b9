//! Everything else of libzmq's stable API: `zmq_version`, `zmq_has`, Z85
//! (RFC 32), the CURVE key helpers, atomic
//! counters, stopwatches, `zmq_sleep` and threads.

use std::ffi::{CStr, c_char, c_int, c_ulong, c_void};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Errno, set_errno};
use crate::ffi;
use zlink_mq_std::core::z85;

/// The libzmq API level implemented.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_version(major: *mut c_int, minor: *mut c_int, patch: *mut c_int) {
    for (p, v) in [(major, 4), (minor, 3), (patch, 4)] {
        if !p.is_null() {
            // SAFETY: the C caller passes NULL or a writable int.
            unsafe { *p = v };
        }
    }
}

/// 1 if the library has `capability`: "ipc" and "curve" of libzmq's list
/// ("ipc", "pgm", "tipc", "norm", "curve", "gssapi", "draft").
#[unsafe(no_mangle)]
pub extern "C" fn zmq_has(capability: *const c_char) -> c_int {
    if capability.is_null() {
        return 0;
    }
    // SAFETY: the C caller passes a NUL-terminated string.
    let cap = unsafe { CStr::from_ptr(capability) };
    c_int::from(matches!(cap.to_bytes(), b"ipc" | b"curve"))
}

/// Encodes `size` bytes (a multiple of 4) as Z85 into `dest` (room for
/// `size * 5 / 4 + 1` characters, NUL included); NULL and EINVAL otherwise.
/// The codec is the core's ([`zlink_mq_std::core::z85`]).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_z85_encode(dest: *mut c_char, data: *const u8, size: usize) -> *mut c_char {
    if size % 4 != 0 || dest.is_null() || (data.is_null() && size != 0) {
        set_errno(libc::EINVAL);
        return std::ptr::null_mut();
    }
    let input: &[u8] = if size == 0 {
        &[]
    } else {
        // SAFETY: the C caller passes `size` readable bytes at `data`.
        unsafe { std::slice::from_raw_parts(data, size) }
    };
    let len = size / 4 * 5;
    // SAFETY: `dest` has room for size * 5 / 4 + 1 characters (the C
    // caller's contract), that is `len + 1`.
    let out = unsafe { std::slice::from_raw_parts_mut(dest.cast::<u8>(), len + 1) };
    match z85::encode(input, &mut out[..len]) {
        Ok(_) => {
            out[len] = 0;
            dest
        }
        Err(_) => {
            set_errno(libc::EINVAL);
            std::ptr::null_mut()
        }
    }
}

/// Decodes a Z85 string (length a multiple of 5) into `dest` (room for
/// `len * 4 / 5` bytes); NULL and EINVAL for a bad string.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_z85_decode(dest: *mut u8, string: *const c_char) -> *mut u8 {
    if dest.is_null() || string.is_null() {
        set_errno(libc::EINVAL);
        return std::ptr::null_mut();
    }
    // SAFETY: the C caller passes a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(string) }.to_bytes();
    if text.len() % 5 != 0 {
        set_errno(libc::EINVAL);
        return std::ptr::null_mut();
    }
    // Decoded whole before `dest` is touched, so a bad string leaves it as
    // it was.
    let mut out = vec![0u8; text.len() / 5 * 4];
    if z85::decode(text, &mut out).is_err() {
        set_errno(libc::EINVAL);
        return std::ptr::null_mut();
    }
    // SAFETY: `dest` has room for len * 4 / 5 bytes (the C caller's
    // contract), which is `out.len()`.
    unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), dest, out.len()) };
    dest
}

/// Copies a 40-character Z85 key and its terminating NUL into `dest`.
///
/// # Safety
/// `dest` points to at least 41 writable bytes (libzmq's contract).
unsafe fn put_key(dest: *mut c_char, key: &[u8; 40]) {
    // SAFETY: the caller's contract gives 41 bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(key.as_ptr(), dest.cast::<u8>(), key.len());
        *dest.add(key.len()) = 0;
    }
}

/// A new CURVE key pair, each key as 40 Z85 characters and a NUL: 0, or -1
/// with EINVAL for a null buffer (EIO if the OS generator fails).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_curve_keypair(public: *mut c_char, secret: *mut c_char) -> c_int {
    if public.is_null() || secret.is_null() {
        set_errno(libc::EINVAL);
        return -1;
    }
    match zlink_mq_std::curve::keypair() {
        Ok((p, s)) => {
            let s = zeroize::Zeroizing::new(s);
            // SAFETY: both buffers hold 41 bytes (the C caller's contract).
            unsafe {
                put_key(public, &p);
                put_key(secret, &s);
            }
            0
        }
        Err(_) => {
            set_errno(libc::EIO);
            -1
        }
    }
}

/// The public key of a secret key given as a C string of 40 Z85 characters:
/// 0, or -1 with EINVAL for a null pointer, another length or bad Z85.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_curve_public(public: *mut c_char, secret: *const c_char) -> c_int {
    if public.is_null() || secret.is_null() {
        set_errno(libc::EINVAL);
        return -1;
    }
    // SAFETY: the C caller passes a NUL-terminated string (libzmq reads it
    // with strlen too).
    let text = unsafe { CStr::from_ptr(secret) }.to_bytes();
    if text.len() != 40 {
        set_errno(libc::EINVAL);
        return -1;
    }
    match zlink_mq_std::curve::public_key(text) {
        Ok(p) => {
            // SAFETY: `public` holds 41 bytes (the C caller's contract).
            unsafe { put_key(public, &p) };
            0
        }
        Err(_) => {
            set_errno(libc::EINVAL);
            -1
        }
    }
}

/// A new atomic counter, at 0.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_atomic_counter_new() -> *mut c_void {
    Box::into_raw(Box::new(AtomicI32::new(0))).cast()
}

/// # Safety
/// `p` is a pointer from `zmq_atomic_counter_new` not yet destroyed.
unsafe fn counter<'a>(p: *mut c_void) -> &'a AtomicI32 {
    // SAFETY: by the caller's contract.
    unsafe { &*p.cast::<AtomicI32>() }
}

/// Sets the counter.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_atomic_counter_set(counter_: *mut c_void, value: c_int) {
    // SAFETY: the C caller passes a live counter.
    // ORDERING: SeqCst, as libzmq's counters are full barriers.
    unsafe { counter(counter_) }.store(value, Ordering::SeqCst);
}

/// Adds one; returns the value before.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_atomic_counter_inc(counter_: *mut c_void) -> c_int {
    // SAFETY: the C caller passes a live counter.
    // ORDERING: SeqCst, as libzmq's counters are full barriers.
    unsafe { counter(counter_) }.fetch_add(1, Ordering::SeqCst)
}

/// Subtracts one; returns 1 if the counter is still above 0, else 0.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_atomic_counter_dec(counter_: *mut c_void) -> c_int {
    // SAFETY: the C caller passes a live counter.
    // ORDERING: SeqCst, as libzmq's counters are full barriers.
    let before = unsafe { counter(counter_) }.fetch_sub(1, Ordering::SeqCst);
    c_int::from(before - 1 > 0)
}

/// The counter's value.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_atomic_counter_value(counter_: *mut c_void) -> c_int {
    // SAFETY: the C caller passes a live counter.
    // ORDERING: SeqCst, as libzmq's counters are full barriers.
    unsafe { counter(counter_) }.load(Ordering::SeqCst)
}

/// Frees the counter and NULLs the caller's pointer.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_atomic_counter_destroy(counter_p: *mut *mut c_void) {
    if counter_p.is_null() {
        return;
    }
    // SAFETY: the C caller passes a pointer to its counter handle, made by
    // Box::into_raw in zmq_atomic_counter_new (or NULL).
    unsafe {
        let p = *counter_p;
        if !p.is_null() {
            drop(Box::from_raw(p.cast::<AtomicI32>()));
        }
        *counter_p = std::ptr::null_mut();
    }
}

/// Starts a stopwatch.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_stopwatch_start() -> *mut c_void {
    Box::into_raw(Box::new(Instant::now())).cast()
}

/// Microseconds since the stopwatch started.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_stopwatch_intermediate(watch: *mut c_void) -> c_ulong {
    if watch.is_null() {
        return 0;
    }
    // SAFETY: the C caller passes a live stopwatch.
    let start = unsafe { *watch.cast::<Instant>() };
    start.elapsed().as_micros() as c_ulong
}

/// Microseconds since the stopwatch started; frees it.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_stopwatch_stop(watch: *mut c_void) -> c_ulong {
    let us = zmq_stopwatch_intermediate(watch);
    if !watch.is_null() {
        // SAFETY: made by Box::into_raw in zmq_stopwatch_start; the C caller
        // no longer uses it.
        drop(unsafe { Box::from_raw(watch.cast::<Instant>()) });
    }
    us
}

/// Sleeps `seconds`.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_sleep(seconds: c_int) {
    std::thread::sleep(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)));
}

/// A thread function and its argument, moved to the new thread.
struct Start {
    func: unsafe extern "C" fn(*mut c_void),
    arg: *mut c_void,
}

// SAFETY: libzmq's contract for zmq_threadstart: the argument is handed to
// the new thread, which may use it.
unsafe impl Send for Start {}

/// Runs `func(arg)` on a new thread; `zmq_threadclose` joins it.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_threadstart(
    func: Option<unsafe extern "C" fn(*mut c_void)>,
    arg: *mut c_void,
) -> *mut c_void {
    ffi(std::ptr::null_mut(), || {
        let func = func.ok_or(Errno(libc::EINVAL))?;
        let start = Start { func, arg };
        let handle = std::thread::Builder::new()
            .name("zmq-thread".into())
            .spawn(move || {
                let start = start;
                // SAFETY: the function and argument the C caller gave.
                unsafe { (start.func)(start.arg) }
            })
            .map_err(|_| Errno(libc::EAGAIN))?;
        Ok(Box::into_raw(Box::new(handle)).cast())
    })
}

/// Waits for a thread of `zmq_threadstart` to end, and frees its handle.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_threadclose(thread: *mut c_void) {
    if thread.is_null() {
        return;
    }
    // SAFETY: made by Box::into_raw in zmq_threadstart; closed once.
    let handle = unsafe { Box::from_raw(thread.cast::<std::thread::JoinHandle<()>>()) };
    let _ = handle.join();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z85_matches_rfc32_test_vector() {
        let data = [0x86u8, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b];
        let mut out = [0 as c_char; 11];
        assert!(!zmq_z85_encode(out.as_mut_ptr(), data.as_ptr(), 8).is_null());
        // SAFETY: NUL-terminated by the encoder.
        let s = unsafe { CStr::from_ptr(out.as_ptr()) };
        assert_eq!(s.to_bytes(), b"HelloWorld");
        let mut back = [0u8; 8];
        assert!(!zmq_z85_decode(back.as_mut_ptr(), out.as_ptr()).is_null());
        assert_eq!(back, data);
        assert!(zmq_z85_encode(out.as_mut_ptr(), data.as_ptr(), 7).is_null());
    }

    #[test]
    fn curve_keypair_and_public_agree() {
        let mut public = [0 as c_char; 41];
        let mut secret = [0 as c_char; 41];
        assert_eq!(
            zmq_curve_keypair(public.as_mut_ptr(), secret.as_mut_ptr()),
            0
        );
        assert_eq!(public[40], 0);
        assert_eq!(secret[40], 0);
        let mut derived = [0 as c_char; 41];
        assert_eq!(zmq_curve_public(derived.as_mut_ptr(), secret.as_ptr()), 0);
        assert_eq!(derived, public);
        // The keys are Z85 of 32 bytes.
        let mut raw = [0u8; 32];
        assert!(!zmq_z85_decode(raw.as_mut_ptr(), public.as_ptr()).is_null());
        // A secret that is not Z85 is refused.
        let mut bad = secret;
        bad[3] = b' ' as c_char;
        assert_eq!(zmq_curve_public(derived.as_mut_ptr(), bad.as_ptr()), -1);
        let has = c"curve";
        assert_eq!(zmq_has(has.as_ptr()), 1);
    }
}
