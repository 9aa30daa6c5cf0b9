//! libzmq through its C API, loaded at run time with `dlopen`: the system's
//! `libzmq.so.5` when there is one (the libzmq users run), else the
//! vendored 4.3.4 sources built as distributions configure them (the
//! `compare-libzmq` crate). RTLD_LOCAL keeps its symbols apart from the
//! static libzmq the `zmq` crate links for the tests. Shared by `compare`
//! and `scale`, which wrap it in their own harness types.
#![allow(dead_code, unsafe_code)]

use std::error::Error;
use std::ffi::{CStr, CString, c_char, c_int, c_short, c_void};
use std::sync::OnceLock;

use super::perf::Result;

pub const ZMQ_IO_THREADS: c_int = 1;
pub const ZMQ_SUBSCRIBE: c_int = 6;
pub const ZMQ_LINGER: c_int = 17;
pub const ZMQ_SNDHWM: c_int = 23;
pub const ZMQ_RCVHWM: c_int = 24;
pub const ZMQ_RCVTIMEO: c_int = 27;
pub const ZMQ_SNDTIMEO: c_int = 28;
pub const ZMQ_LAST_ENDPOINT: c_int = 32;
pub const ZMQ_CURVE_SERVER: c_int = 47;
pub const ZMQ_CURVE_PUBLICKEY: c_int = 48;
pub const ZMQ_CURVE_SECRETKEY: c_int = 49;
pub const ZMQ_CURVE_SERVERKEY: c_int = 50;
pub const ZMQ_XPUB_NODROP: c_int = 69;
pub const ZMQ_DONTWAIT: c_int = 1;
pub const ZMQ_SNDMORE: c_int = 2;

pub const ZMQ_POLLIN: c_short = 1;

/// `zmq_pollitem_t` (zmq.h, POSIX): a socket (or, with a NULL socket, a
/// descriptor), the events asked for and those that happened.
#[repr(C)]
#[derive(Debug)]
pub struct PollItem {
    pub socket: *mut c_void,
    pub fd: c_int,
    pub events: c_short,
    pub revents: c_short,
}

/// `zmq_msg_t`: 64 opaque bytes, pointer-aligned (zmq.h).
#[repr(C, align(8))]
pub struct ZmqMsg(pub [u8; 64]);

/// The loaded library and what the table header says about it.
pub struct Loaded {
    /// The C functions.
    pub fns: Fns,
    /// Where it came from: "system, /usr/lib/.../libzmq.so.5.2.4" or
    /// "vendored, configured as distributions build it".
    pub origin: String,
    /// Its file.
    pub path: String,
    /// `zmq_version`.
    pub version: (i32, i32, i32),
    /// The wake-up a context's mailbox uses, seen from the descriptors
    /// `zmq_ctx_new` opens: "eventfd" or "socketpair".
    pub signaler: String,
    /// `zmq_has("curve")`: built with CURVE (libsodium or tweetnacl).
    pub curve: bool,
}

static LOADED: OnceLock<Loaded> = OnceLock::new();

/// Which libzmq `--libzmq` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// The system's, else the configured vendored build.
    Auto,
    System,
    Vendored,
    Path(String),
}

fn dl_error() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated string owned by
    // the loader, valid until the next dl* call on this thread.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown dlopen error".into()
    } else {
        // SAFETY: as above; copied out at once.
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

fn open(name: &str) -> std::result::Result<*mut c_void, String> {
    let c = CString::new(name).map_err(|e| e.to_string())?;
    // SAFETY: `c` is NUL-terminated; RTLD_LOCAL keeps the library's
    // symbols out of the global namespace (the tests' static libzmq
    // uses the same names).
    let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        Err(format!("{name}: {}", dl_error()))
    } else {
        Ok(handle)
    }
}

fn sym(handle: *mut c_void, name: &str) -> Result<*mut c_void> {
    let c = CString::new(name)?;
    // SAFETY: `handle` is a live dlopen handle (never closed), `c` is
    // NUL-terminated.
    let p = unsafe { libc::dlsym(handle, c.as_ptr()) };
    if p.is_null() {
        Err(format!("libzmq has no {name}: {}", dl_error()).into())
    } else {
        Ok(p)
    }
}

/// Declares `Fns`, the C functions the harness calls, and `fns`, which
/// looks them up: each symbol's address becomes a function pointer of
/// the signature zmq.h (the 4.x stable API) declares for it.
macro_rules! c_functions {
    ($($field:ident = $symbol:literal: $ty:ty;)*) => {
        /// The C functions, as zmq.h declares them.
        pub struct Fns {
            $(pub $field: $ty,)*
        }

        fn fns(handle: *mut c_void) -> Result<Fns> {
            Ok(Fns {
                $(
                    // SAFETY: the symbol is the libzmq function of that
                    // name, whose C signature is the field's type.
                    $field: unsafe {
                        std::mem::transmute::<*mut c_void, $ty>(sym(handle, $symbol)?)
                    },
                )*
            })
        }
    };
}

c_functions! {
    version = "zmq_version": unsafe extern "C" fn(*mut c_int, *mut c_int, *mut c_int);
    has = "zmq_has": unsafe extern "C" fn(*const c_char) -> c_int;
    errno = "zmq_errno": unsafe extern "C" fn() -> c_int;
    strerror = "zmq_strerror": unsafe extern "C" fn(c_int) -> *const c_char;
    ctx_new = "zmq_ctx_new": unsafe extern "C" fn() -> *mut c_void;
    ctx_set = "zmq_ctx_set": unsafe extern "C" fn(*mut c_void, c_int, c_int) -> c_int;
    ctx_term = "zmq_ctx_term": unsafe extern "C" fn(*mut c_void) -> c_int;
    socket = "zmq_socket": unsafe extern "C" fn(*mut c_void, c_int) -> *mut c_void;
    close = "zmq_close": unsafe extern "C" fn(*mut c_void) -> c_int;
    setsockopt = "zmq_setsockopt": unsafe extern "C" fn(*mut c_void, c_int, *const c_void, usize) -> c_int;
    getsockopt = "zmq_getsockopt": unsafe extern "C" fn(*mut c_void, c_int, *mut c_void, *mut usize) -> c_int;
    bind = "zmq_bind": unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int;
    connect = "zmq_connect": unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int;
    send = "zmq_send": unsafe extern "C" fn(*mut c_void, *const c_void, usize, c_int) -> c_int;
    msg_init = "zmq_msg_init": unsafe extern "C" fn(*mut ZmqMsg) -> c_int;
    msg_init_size = "zmq_msg_init_size": unsafe extern "C" fn(*mut ZmqMsg, usize) -> c_int;
    msg_data = "zmq_msg_data": unsafe extern "C" fn(*mut ZmqMsg) -> *mut c_void;
    msg_size = "zmq_msg_size": unsafe extern "C" fn(*const ZmqMsg) -> usize;
    msg_more = "zmq_msg_more": unsafe extern "C" fn(*const ZmqMsg) -> c_int;
    msg_recv = "zmq_msg_recv": unsafe extern "C" fn(*mut ZmqMsg, *mut c_void, c_int) -> c_int;
    msg_send = "zmq_msg_send": unsafe extern "C" fn(*mut ZmqMsg, *mut c_void, c_int) -> c_int;
    msg_close = "zmq_msg_close": unsafe extern "C" fn(*mut ZmqMsg) -> c_int;
    poll = "zmq_poll": unsafe extern "C" fn(*mut PollItem, c_int, std::ffi::c_long) -> c_int;
}

/// The file a loaded symbol lives in.
fn file_of(p: *mut c_void) -> String {
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: `p` is a symbol address inside a loaded object; dladdr
    // fills `info` (zeroed, so a failure leaves NULL pointers).
    let ok = unsafe { libc::dladdr(p, info.as_mut_ptr()) };
    // SAFETY: zero-initialised, then written by dladdr.
    let info = unsafe { info.assume_init() };
    if ok == 0 || info.dli_fname.is_null() {
        return "?".into();
    }
    // SAFETY: dli_fname is a NUL-terminated path owned by the loader.
    let name = unsafe { CStr::from_ptr(info.dli_fname) }.to_string_lossy();
    std::fs::canonicalize(&*name).map_or(name.to_string(), |p| p.display().to_string())
}

/// The link targets of this process's open descriptors.
fn open_fds() -> Vec<String> {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.flatten()
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .map(|l| l.display().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The signaler behind the descriptors that appeared between `before`
/// and `after`: "eventfd" if one is an eventfd, else "socketpair" if
/// one is a socket.
fn signaler_of(before: &[String], mut after: Vec<String>) -> String {
    for b in before {
        if let Some(i) = after.iter().position(|n| n == b) {
            after.swap_remove(i);
        }
    }
    if after.iter().any(|l| l.contains("eventfd")) {
        "eventfd".into()
    } else if after.iter().any(|l| l.starts_with("socket:")) {
        "socketpair".into()
    } else {
        format!("unknown (new descriptors: {})", after.join(", "))
    }
}

/// Loads the libzmq `choice` names; call once, before any run.
pub fn load(choice: &Choice) -> Result<&'static Loaded> {
    let vendored = compare_libzmq::SHARED_LIBRARY;
    let (handle, origin) = match choice {
        Choice::Path(p) => (open(p)?, "given with --libzmq"),
        Choice::System => (open("libzmq.so.5")?, "system"),
        Choice::Vendored if vendored.is_empty() => {
            return Err("no configured libzmq was built for this target".into());
        }
        Choice::Vendored => (
            open(vendored)?,
            "vendored 4.3.4 sources, configured as distributions build them",
        ),
        Choice::Auto => match open("libzmq.so.5") {
            Ok(h) => (h, "system"),
            Err(system) if vendored.is_empty() => return Err(system.into()),
            Err(_) => (
                open(vendored)?,
                "vendored 4.3.4 sources, configured as distributions build them \
                 (no system libzmq.so.5)",
            ),
        },
    };
    let fns = fns(handle)?;
    let path = file_of(sym(handle, "zmq_ctx_new")?);
    let mut v = (0, 0, 0);
    // SAFETY: zmq_version writes three ints.
    unsafe { (fns.version)(&mut v.0, &mut v.1, &mut v.2) };
    // A context's mailbox opens its signaler's descriptors at once;
    // nothing else runs yet to open others.
    let before = open_fds();
    // SAFETY: plain constructor; NULL on failure.
    let ctx = unsafe { (fns.ctx_new)() };
    if ctx.is_null() {
        return Err("zmq_ctx_new failed".into());
    }
    let signaler = signaler_of(&before, open_fds());
    // SAFETY: a live context without sockets, terminated once.
    unsafe { (fns.ctx_term)(ctx) };
    // SAFETY: a NUL-terminated capability name.
    let curve = unsafe { (fns.has)(c"curve".as_ptr()) } != 0;
    let loaded = Loaded {
        fns,
        origin: origin.into(),
        path,
        version: v,
        signaler,
        curve,
    };
    LOADED.set(loaded).map_err(|_| "libzmq is already loaded")?;
    Ok(api())
}

/// The loaded library (after [`load`]).
pub fn api() -> &'static Loaded {
    LOADED
        .get()
        .expect("libzmq::load runs before any measurement")
}

/// An error naming `what` and libzmq's errno text.
pub fn fail(what: &str) -> Box<dyn Error + Send + Sync> {
    let f = &api().fns;
    // SAFETY: zmq_strerror returns a static NUL-terminated string.
    let text = unsafe { CStr::from_ptr((f.strerror)((f.errno)())) };
    format!("{what}: {}", text.to_string_lossy()).into()
}

/// Whether the last call failed with EAGAIN.
pub fn would_block() -> bool {
    // SAFETY: zmq_errno reads this thread's errno.
    unsafe { (api().fns.errno)() == libc::EAGAIN }
}

/// A context, terminated when the last clone goes (after its sockets:
/// the harness drops them first).
pub struct CtxPtr(pub *mut c_void);

// SAFETY: a libzmq context is thread-safe (zmq_ctx_* may be called from
// any thread).
unsafe impl Send for CtxPtr {}
// SAFETY: as above.
unsafe impl Sync for CtxPtr {}

impl Drop for CtxPtr {
    fn drop(&mut self) {
        // SAFETY: the context is live, and this is its only termination.
        unsafe { (api().fns.ctx_term)(self.0) };
    }
}
