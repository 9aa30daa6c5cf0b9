//! Contexts: `zmq_ctx_new`, `_term`, `_shutdown`, `_set`, `_get` and their
//! older names.
//!
//! The handle is a heap `CContext`. Its zlink-mq [`Context`] is made when
//! the first socket is, so that `ZMQ_IO_THREADS` set before that applies.

use std::ffi::{c_int, c_void};
use std::sync::{Arc, Mutex, MutexGuard};

use zlink_mq_std::{Context, SocketType};

use crate::error::{ETERM, Errno};
use crate::ffi;

/// Marks a live context handle (libzmq checks its handles the same way).
const CTX_TAG: u32 = 0xabad_cafe;

const ZMQ_IO_THREADS: c_int = 1;
const ZMQ_MAX_SOCKETS: c_int = 2;
const ZMQ_SOCKET_LIMIT: c_int = 3;
const ZMQ_THREAD_PRIORITY: c_int = 3;
const ZMQ_THREAD_SCHED_POLICY: c_int = 4;
const ZMQ_MAX_MSGSZ: c_int = 5;
const ZMQ_MSG_T_SIZE: c_int = 6;
const ZMQ_THREAD_AFFINITY_CPU_ADD: c_int = 7;
const ZMQ_THREAD_AFFINITY_CPU_REMOVE: c_int = 8;
const ZMQ_THREAD_NAME_PREFIX: c_int = 9;
const ZMQ_IPV6: c_int = 42;
const ZMQ_BLOCKY: c_int = 70;

/// The most sockets a context may be set to allow (libzmq's value on
/// Linux, where the limit is not the descriptor set's size).
const SOCKET_LIMIT: c_int = 65535;

/// A context handle as C holds it (repr(C): the tag first, for the handle check).
#[repr(C)]
pub(crate) struct CContext {
    tag: u32,
    shared: Arc<CtxShared>,
}

/// What the context's sockets share with it (they outlive its handle by
/// the time `zmq_ctx_term` takes to return).
#[derive(Debug)]
pub(crate) struct CtxShared {
    state: Mutex<CtxState>,
}

#[derive(Debug)]
struct CtxState {
    ctx: Option<Context>,
    terminated: bool,
    sockets: usize,
    io_threads: c_int,
    max_sockets: c_int,
    ipv6: bool,
    blocky: bool,
    max_msgsz: c_int,
    // Scheduling of I/O threads: kept and reported, not applied (see
    // docs/CAPI.md), as libzmq does on systems without the feature.
    thread_sched_policy: c_int,
    thread_name_prefix: c_int,
    /// The process that made the context: a child forked from it has none
    /// of its I/O threads, so terminating there must not wait for them.
    pid: u32,
}

/// The options a new socket inherits from its context.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SocketDefaults {
    pub ipv6: bool,
    pub blocky: bool,
}

impl CtxShared {
    fn lock(&self) -> MutexGuard<'_, CtxState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes a socket of `kind`, counting it against ZMQ_MAX_SOCKETS.
    pub(crate) fn socket(
        &self,
        kind: SocketType,
    ) -> Result<(zlink_mq_std::Socket, SocketDefaults), Errno> {
        let mut st = self.lock();
        if st.terminated {
            return Err(Errno(ETERM));
        }
        if st.sockets >= st.max_sockets as usize {
            return Err(Errno(libc::EMFILE));
        }
        let threads = st.io_threads.max(1) as usize;
        let ctx = st
            .ctx
            .get_or_insert_with(|| Context::with_io_threads(threads))
            .clone();
        let socket = ctx.socket(kind)?;
        st.sockets += 1;
        Ok((
            socket,
            SocketDefaults {
                ipv6: st.ipv6,
                blocky: st.blocky,
            },
        ))
    }

    /// Whether `zmq_ctx_shutdown` or `zmq_ctx_term` was called.
    pub(crate) fn is_terminated(&self) -> bool {
        self.lock().terminated
    }

    /// A socket of this context was closed.
    pub(crate) fn socket_closed(&self) {
        let mut st = self.lock();
        st.sockets = st.sockets.saturating_sub(1);
    }
}

/// The context behind a handle.
///
/// # Safety
/// `p` is NULL or a pointer returned by `zmq_ctx_new` and not yet passed to
/// `zmq_ctx_term` (libzmq's contract; the tag catches other pointers that
/// point to readable memory, such as a socket).
pub(crate) unsafe fn ctx_ref<'a>(p: *mut c_void) -> Result<&'a CContext, Errno> {
    if p.is_null() {
        return Err(Errno(libc::EFAULT));
    }
    // SAFETY: by the caller's contract `p` points to readable memory at
    // least as large as the tag; a live CContext starts with it.
    let tag = unsafe { p.cast::<u32>().read_unaligned() };
    if tag != CTX_TAG {
        return Err(Errno(libc::EFAULT));
    }
    // SAFETY: the tag says `p` is a live CContext made by `zmq_ctx_new`;
    // it is only freed by `zmq_ctx_term`, which the caller has not called.
    Ok(unsafe { &*p.cast::<CContext>() })
}

impl CContext {
    pub(crate) fn shared(&self) -> &Arc<CtxShared> {
        &self.shared
    }
}

/// A new context.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_ctx_new() -> *mut c_void {
    ffi(std::ptr::null_mut(), || {
        let ctx = Box::new(CContext {
            tag: CTX_TAG,
            shared: Arc::new(CtxShared {
                state: Mutex::new(CtxState {
                    ctx: None,
                    terminated: false,
                    sockets: 0,
                    io_threads: 1,
                    max_sockets: 1023,
                    ipv6: false,
                    blocky: true,
                    max_msgsz: c_int::MAX,
                    thread_sched_policy: -1,
                    thread_name_prefix: -1,
                    pid: std::process::id(),
                }),
            }),
        });
        // `tag` must be the first bytes for `ctx_ref`'s check.
        debug_assert_eq!(std::mem::offset_of!(CContext, tag), 0);
        Ok(Box::into_raw(ctx).cast())
    })
}

/// libzmq's older `zmq_init(io_threads)`.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_init(io_threads: c_int) -> *mut c_void {
    if io_threads < 0 {
        crate::error::set_errno(libc::EINVAL);
        return std::ptr::null_mut();
    }
    let ctx = zmq_ctx_new();
    if !ctx.is_null() {
        zmq_ctx_set(ctx, ZMQ_IO_THREADS, io_threads);
    }
    ctx
}

/// Shuts the context down: blocking calls on its sockets fail with ETERM
/// now, and so does every later call but `zmq_close`.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_ctx_shutdown(context: *mut c_void) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a context handle (checked).
        let c = unsafe { ctx_ref(context) }?;
        let ctx = {
            let mut st = c.shared.lock();
            st.terminated = true;
            st.ctx.clone()
        };
        if let Some(ctx) = ctx {
            ctx.shutdown();
        }
        Ok(0)
    })
}

/// Shuts the context down, waits until its sockets are closed and their
/// LINGER has passed, and frees it.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_ctx_term(context: *mut c_void) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a context handle (checked).
        let c = unsafe { ctx_ref(context) }?;
        let (ctx, forked) = {
            let mut st = c.shared.lock();
            st.terminated = true;
            (st.ctx.take(), st.pid != std::process::id())
        };
        match ctx {
            // In a forked child (libzmq's test_fork does this) the parent's
            // I/O threads do not exist: waiting for them would never end.
            // The child owns nothing of the context to free.
            Some(ctx) if forked => std::mem::forget(ctx),
            Some(ctx) => ctx.terminate(),
            None => {}
        }
        let raw = context.cast::<CContext>();
        // SAFETY: `raw` is the live CContext checked above; marking it dead
        // first lets a second zmq_ctx_term on a not yet reused block fail
        // with EFAULT, as libzmq's does; `Box::from_raw` takes back the box
        // `zmq_ctx_new` leaked. The C caller no longer uses the handle.
        unsafe {
            (*raw).tag = 0;
            drop(Box::from_raw(raw));
        }
        Ok(0)
    })
}

/// libzmq's older name of `zmq_ctx_term`.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_term(context: *mut c_void) -> c_int {
    zmq_ctx_term(context)
}

/// libzmq's older name of `zmq_ctx_term`.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_ctx_destroy(context: *mut c_void) -> c_int {
    zmq_ctx_term(context)
}

/// Sets a context option.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_ctx_set(context: *mut c_void, option: c_int, value: c_int) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a context handle (checked).
        let c = unsafe { ctx_ref(context) }?;
        let mut st = c.shared.lock();
        let ok = match option {
            ZMQ_MAX_SOCKETS if (1..=SOCKET_LIMIT).contains(&value) => {
                st.max_sockets = value;
                true
            }
            ZMQ_IO_THREADS if value >= 0 => {
                // Takes effect if no socket exists yet (as libzmq, whose
                // I/O threads start with the first socket).
                st.io_threads = value;
                true
            }
            ZMQ_IPV6 if value >= 0 => {
                st.ipv6 = value != 0;
                true
            }
            ZMQ_BLOCKY if value >= 0 => {
                st.blocky = value != 0;
                true
            }
            ZMQ_MAX_MSGSZ if value >= 0 => {
                st.max_msgsz = value;
                true
            }
            // Shares its number with ZMQ_SOCKET_LIMIT, which only `get` knows.
            ZMQ_THREAD_PRIORITY => value >= 0,
            ZMQ_THREAD_SCHED_POLICY if value >= 0 => {
                st.thread_sched_policy = value;
                true
            }
            ZMQ_THREAD_AFFINITY_CPU_ADD | ZMQ_THREAD_AFFINITY_CPU_REMOVE if value >= 0 => true,
            ZMQ_THREAD_NAME_PREFIX if value >= 0 => {
                st.thread_name_prefix = value;
                true
            }
            _ => false,
        };
        if ok { Ok(0) } else { Err(Errno(libc::EINVAL)) }
    })
}

/// Reads a context option.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_ctx_get(context: *mut c_void, option: c_int) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a context handle (checked).
        let c = unsafe { ctx_ref(context) }?;
        let st = c.shared.lock();
        Ok(match option {
            ZMQ_MAX_SOCKETS => st.max_sockets,
            ZMQ_SOCKET_LIMIT => SOCKET_LIMIT,
            ZMQ_IO_THREADS => st.io_threads,
            ZMQ_IPV6 => c_int::from(st.ipv6),
            ZMQ_BLOCKY => c_int::from(st.blocky),
            ZMQ_MAX_MSGSZ => st.max_msgsz,
            ZMQ_MSG_T_SIZE => 64,
            ZMQ_THREAD_SCHED_POLICY => st.thread_sched_policy,
            ZMQ_THREAD_NAME_PREFIX => st.thread_name_prefix,
            _ => return Err(Errno(libc::EINVAL)),
        })
    })
}
