//! `zmq_timers_*`: libzmq's timer set for event loops (stable since 4.2):
//! handlers run by `zmq_timers_execute` on the caller's thread once their
//! interval has passed, then rescheduled.

use std::ffi::{c_int, c_long, c_void};
use std::time::{Duration, Instant};

use crate::error::Errno;
use crate::ffi;

/// A timer handler: `handler(timer_id, arg)`.
type TimerFn = unsafe extern "C" fn(c_int, *mut c_void);

const TIMERS_TAG: u32 = 0xcafe_da7a;

struct Timer {
    id: c_int,
    interval: Duration,
    due: Instant,
    handler: TimerFn,
    arg: *mut c_void,
}

/// A timer set; the tag first (repr(C)) for the handle check.
#[repr(C)]
struct Timers {
    tag: u32,
    next_id: c_int,
    timers: Vec<Timer>,
}

/// # Safety
/// `p` is NULL or a pointer from `zmq_timers_new` not yet destroyed.
unsafe fn timers_mut<'a>(p: *mut c_void) -> Result<&'a mut Timers, Errno> {
    if p.is_null() {
        return Err(Errno(libc::EFAULT));
    }
    // SAFETY: by the caller's contract `p` is readable for the tag.
    if unsafe { p.cast::<u32>().read_unaligned() } != TIMERS_TAG {
        return Err(Errno(libc::EFAULT));
    }
    // SAFETY: the tag says it is a live Timers, used by one thread.
    Ok(unsafe { &mut *p.cast::<Timers>() })
}

impl Timers {
    fn find(&mut self, id: c_int) -> Result<&mut Timer, Errno> {
        self.timers
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or(Errno(libc::EINVAL))
    }
}

/// A new timer set.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_timers_new() -> *mut c_void {
    Box::into_raw(Box::new(Timers {
        tag: TIMERS_TAG,
        next_id: 1,
        timers: Vec::new(),
    }))
    .cast()
}

/// Frees the set and NULLs the caller's pointer.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_timers_destroy(timers_p: *mut *mut c_void) -> c_int {
    ffi(-1, || {
        if timers_p.is_null() {
            return Err(Errno(libc::EFAULT));
        }
        // SAFETY: the C caller passes a pointer to its handle.
        let p = unsafe { *timers_p };
        // SAFETY: checked to be a live set.
        unsafe { timers_mut(p) }?;
        // SAFETY: made by Box::into_raw in zmq_timers_new; the tag is
        // cleared so a second destroy of the same pointer fails.
        unsafe {
            (*p.cast::<Timers>()).tag = 0;
            drop(Box::from_raw(p.cast::<Timers>()));
            *timers_p = std::ptr::null_mut();
        }
        Ok(0)
    })
}

/// Adds a timer running `handler(id, arg)` every `interval` ms; returns
/// its id.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_timers_add(
    timers: *mut c_void,
    interval: usize,
    handler: Option<TimerFn>,
    arg: *mut c_void,
) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a timer set (checked).
        let t = unsafe { timers_mut(timers) }?;
        let handler = handler.ok_or(Errno(libc::EFAULT))?;
        let id = t.next_id;
        t.next_id = t.next_id.checked_add(1).ok_or(Errno(libc::ENOMEM))?;
        let interval = Duration::from_millis(interval as u64);
        t.timers.push(Timer {
            id,
            interval,
            due: Instant::now() + interval,
            handler,
            arg,
        });
        Ok(id)
    })
}

/// Removes a timer.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_timers_cancel(timers: *mut c_void, timer_id: c_int) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a timer set (checked).
        let t = unsafe { timers_mut(timers) }?;
        let at = t
            .timers
            .iter()
            .position(|x| x.id == timer_id)
            .ok_or(Errno(libc::EINVAL))?;
        t.timers.remove(at);
        Ok(0)
    })
}

/// Changes a timer's interval (counted from now).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_timers_set_interval(
    timers: *mut c_void,
    timer_id: c_int,
    interval: usize,
) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a timer set (checked).
        let t = unsafe { timers_mut(timers) }?.find(timer_id)?;
        t.interval = Duration::from_millis(interval as u64);
        t.due = Instant::now() + t.interval;
        Ok(0)
    })
}

/// Restarts a timer's interval from now.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_timers_reset(timers: *mut c_void, timer_id: c_int) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a timer set (checked).
        let t = unsafe { timers_mut(timers) }?.find(timer_id)?;
        t.due = Instant::now() + t.interval;
        Ok(0)
    })
}

/// Milliseconds until the next timer is due (0 if one is), -1 if none.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_timers_timeout(timers: *mut c_void) -> c_long {
    ffi(-1, || {
        // SAFETY: the C caller passes a timer set (checked).
        let t = unsafe { timers_mut(timers) }?;
        let now = Instant::now();
        Ok(t.timers.iter().map(|x| x.due).min().map_or(-1, |due| {
            // Round up, so a caller sleeping this long finds the timer due.
            let left = due.saturating_duration_since(now);
            left.as_micros().div_ceil(1000) as c_long
        }))
    })
}

/// Runs the handlers of the timers that are due and reschedules them.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_timers_execute(timers: *mut c_void) -> c_int {
    ffi(-1, || {
        // SAFETY: the C caller passes a timer set (checked).
        let t = unsafe { timers_mut(timers) }?;
        let now = Instant::now();
        let due: Vec<(c_int, TimerFn, *mut c_void)> = t
            .timers
            .iter_mut()
            .filter(|x| x.due <= now)
            .map(|x| {
                x.due = now + x.interval;
                (x.id, x.handler, x.arg)
            })
            .collect();
        for (id, handler, arg) in due {
            // A handler may have cancelled a timer that was due too.
            // SAFETY: as above; the set is not borrowed across handlers.
            if !unsafe { timers_mut(timers) }?
                .timers
                .iter()
                .any(|x| x.id == id)
            {
                continue;
            }
            // SAFETY: the handler and argument the C caller registered.
            unsafe { handler(id, arg) };
        }
        Ok(0)
    })
}
