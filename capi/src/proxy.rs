//! `zmq_proxy`, `zmq_proxy_steerable` and the older `zmq_device`, over
//! zlink-mq's [`proxy`] and [`proxy_steerable`].

use std::ffi::{c_int, c_void};

use zlink_mq_std::{proxy, proxy_single_socket, proxy_steerable};

use crate::error::Errno;
use crate::ffi;
use crate::socket::{CSocket, sock_mut};

/// The proxy's sockets, checked to be distinct live handles (a frontend
/// that is also the backend is passed as frontend only).
///
/// # Safety
/// Each pointer is NULL or a socket handle the calling thread owns.
unsafe fn sockets<'a>(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
    control: *mut c_void,
) -> Result<[Option<&'a mut CSocket>; 4], Errno> {
    let given: Vec<*mut c_void> = [frontend, backend, capture, control]
        .into_iter()
        .filter(|p| !p.is_null())
        .collect();
    for (i, p) in given.iter().enumerate() {
        if given[..i].contains(p) {
            // Only the frontend may be the backend too (the callers pass
            // a NULL backend then); any other pair is refused.
            return Err(Errno(libc::EINVAL));
        }
    }
    let get = |p: *mut c_void| -> Result<Option<&'a mut CSocket>, Errno> {
        if p.is_null() {
            Ok(None)
        } else {
            // SAFETY: by the caller's contract; the pointers are distinct
            // (checked above), so each socket is borrowed once.
            unsafe { sock_mut(p) }.map(Some)
        }
    };
    Ok([get(frontend)?, get(backend)?, get(capture)?, get(control)?])
}

/// Moves messages between `frontend` and `backend` (copying each frame to
/// `capture` if not NULL) until the context is terminated (-1, ETERM).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_proxy(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
) -> c_int {
    ffi(-1, || {
        if !frontend.is_null() && frontend == backend {
            // SAFETY: as below, with the backend the frontend itself.
            let [f, _, c, _] = unsafe {
                sockets(
                    frontend,
                    std::ptr::null_mut(),
                    capture,
                    std::ptr::null_mut(),
                )
            }?;
            let f = f.ok_or(Errno(libc::EFAULT))?;
            proxy_single_socket(&mut f.socket, c.map(|c| &mut c.socket), None)?;
            return Ok(0);
        }
        // SAFETY: the C caller passes socket handles it owns (checked).
        let [f, b, c, _] = unsafe { sockets(frontend, backend, capture, std::ptr::null_mut()) }?;
        let (Some(f), Some(b)) = (f, b) else {
            return Err(Errno(libc::EFAULT));
        };
        proxy(&mut f.socket, &mut b.socket, c.map(|c| &mut c.socket))?;
        Ok(0)
    })
}

/// [`zmq_proxy`] steered by `control` (PAUSE, RESUME, TERMINATE,
/// STATISTICS); returns 0 after TERMINATE.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_proxy_steerable(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
    control: *mut c_void,
) -> c_int {
    ffi(-1, || {
        if !frontend.is_null() && frontend == backend {
            // SAFETY: as below, with the backend the frontend itself.
            let [f, _, c, k] =
                unsafe { sockets(frontend, std::ptr::null_mut(), capture, control) }?;
            let f = f.ok_or(Errno(libc::EFAULT))?;
            proxy_single_socket(
                &mut f.socket,
                c.map(|c| &mut c.socket),
                k.map(|k| &mut k.socket),
            )?;
            return Ok(0);
        }
        // SAFETY: the C caller passes socket handles it owns (checked).
        let [f, b, c, k] = unsafe { sockets(frontend, backend, capture, control) }?;
        let (Some(f), Some(b)) = (f, b) else {
            return Err(Errno(libc::EFAULT));
        };
        match k {
            Some(k) => proxy_steerable(
                &mut f.socket,
                &mut b.socket,
                c.map(|c| &mut c.socket),
                &mut k.socket,
            )?,
            None => proxy(&mut f.socket, &mut b.socket, c.map(|c| &mut c.socket))?,
        }
        Ok(0)
    })
}

/// libzmq's older `zmq_device(type, frontend, backend)`: a proxy.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_device(_type: c_int, frontend: *mut c_void, backend: *mut c_void) -> c_int {
    zmq_proxy(frontend, backend, std::ptr::null_mut())
}
