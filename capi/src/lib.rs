//! `zlink-mq-capi`: libzmq 4.3's C ABI over zlink-mq's std backend.
//!
//! Built as `libzmq.so` (SONAME `libzmq.so.5`) and `libzmq.a`, with
//! `include/zmq.h`: programs written for libzmq (C, C++, pyzmq, ...) link
//! against it unchanged. Every exported function follows libzmq's
//! conventions: -1 or NULL and `errno` on failure, the same error numbers,
//! the same handle checks (`ENOTSOCK`, `EFAULT`), and no Rust panic ever
//! unwinds into the caller (it becomes `EFAULT`).
//!
//! What is missing from libzmq's API, and what each missing part answers,
//! is listed in `docs/CAPI.md`.
//!
//! Every `unsafe` block here is at the C boundary: a pointer the caller
//! passed is trusted as far as libzmq trusts it, and each block says so.

use std::panic::{AssertUnwindSafe, catch_unwind};

mod ctx;
pub mod error;
mod msg;
mod poll;
mod proxy;
mod socket;
mod sockopt;
mod timers;
mod util;

use error::{Errno, set_errno};

/// Runs the body of an exported function: its error becomes `errno` and
/// `on_error` is returned; a panic is caught (it must not unwind into C)
/// and reported as `EFAULT`.
pub(crate) fn ffi<T>(on_error: T, body: impl FnOnce() -> Result<T, Errno>) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(Errno(e))) => {
            set_errno(e);
            on_error
        }
        Err(_) => {
            set_errno(libc::EFAULT);
            on_error
        }
    }
}
