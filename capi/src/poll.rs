//! `zmq_poll`: waiting on sockets and raw file descriptors together, over
//! zlink-mq's [`poll`].
//!
//! A socket may appear in several items (libzmq allows it): each socket is
//! waited on once, for the union of what its items ask, and every item gets
//! its own share of the answer.

use std::ffi::{c_int, c_long, c_short, c_void};
use std::os::fd::BorrowedFd;
use std::time::Duration;

use zlink_mq_std::{Events, PollItem, poll};

use crate::error::Errno;
use crate::ffi;
use crate::socket::sock_mut;

const ZMQ_POLLIN: c_short = 1;
const ZMQ_POLLOUT: c_short = 2;

/// libzmq's `zmq_pollitem_t`: a socket, or (socket NULL) a descriptor.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct zmq_pollitem_t {
    socket: *mut c_void,
    fd: c_int,
    events: c_short,
    revents: c_short,
}

fn interest(events: c_short) -> Events {
    Events {
        readable: events & ZMQ_POLLIN != 0,
        writable: events & ZMQ_POLLOUT != 0,
    }
}

fn revents(ready: Events) -> c_short {
    (if ready.readable { ZMQ_POLLIN } else { 0 }) | if ready.writable { ZMQ_POLLOUT } else { 0 }
}

/// Waits until one of `nitems` items is ready or `timeout` ms pass (-1:
/// forever; 0: just look); sets each item's `revents`. Returns how many
/// items are ready.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_poll(items: *mut zmq_pollitem_t, nitems: c_int, timeout: c_long) -> c_int {
    ffi(-1, || {
        let timeout = (timeout >= 0).then(|| Duration::from_millis(timeout as u64));
        if nitems < 0 {
            return Err(Errno(libc::EINVAL));
        }
        if nitems == 0 {
            // libzmq sleeps for the timeout with nothing to wait on.
            if let Some(t) = timeout {
                std::thread::sleep(t);
            }
            return Ok(0);
        }
        if items.is_null() {
            return Err(Errno(libc::EFAULT));
        }
        // SAFETY: the C caller passes `nitems` poll items at `items`.
        let items = unsafe { std::slice::from_raw_parts_mut(items, nitems as usize) };
        // Which poll entry answers each item.
        let mut slot = Vec::with_capacity(items.len());
        let mut sockets: Vec<(*mut c_void, Events)> = Vec::new();
        let mut fds: Vec<(c_int, Events)> = Vec::new();
        for item in items.iter_mut() {
            item.revents = 0;
            let want = interest(item.events);
            if !item.socket.is_null() {
                // SAFETY: the C caller passes socket handles (checked); each
                // is looked at once here, then borrowed once below.
                unsafe { sock_mut(item.socket) }?;
                let at = match sockets.iter().position(|(p, _)| *p == item.socket) {
                    Some(at) => at,
                    None => {
                        sockets.push((item.socket, Events::NONE));
                        sockets.len() - 1
                    }
                };
                sockets[at].1 = sockets[at].1 | want;
                slot.push(Some(at));
            } else if item.fd >= 0 {
                fds.push((item.fd, want));
                // Descriptors follow the sockets in the poll list.
                slot.push(Some(usize::MAX));
            } else {
                // poll(2) ignores negative descriptors.
                slot.push(None);
            }
        }
        let mut poll_items: Vec<PollItem<'_>> = Vec::with_capacity(sockets.len() + fds.len());
        for (p, want) in &sockets {
            // SAFETY: checked above; the pointers are distinct, so each
            // socket is borrowed once, for this call only (the C caller's
            // thread owns them).
            let sock = unsafe { sock_mut(*p) }?;
            poll_items.push(PollItem::socket(&mut sock.socket, *want));
        }
        for (fd, want) in &fds {
            // SAFETY: the C caller's descriptor, open for the duration of
            // the call (libzmq's contract); not -1 (checked above).
            let fd = unsafe { BorrowedFd::borrow_raw(*fd) };
            poll_items.push(PollItem::fd(fd, *want));
        }
        poll(&mut poll_items, timeout)?;
        let mut ready = 0;
        let mut next_fd = sockets.len();
        for (item, slot) in items.iter_mut().zip(&slot) {
            let Some(slot) = *slot else { continue };
            let at = if slot == usize::MAX {
                next_fd += 1;
                next_fd - 1
            } else {
                slot
            };
            item.revents = revents(poll_items[at].ready() & interest(item.events));
            if item.revents != 0 {
                ready += 1;
            }
        }
        Ok(ready)
    })
}
