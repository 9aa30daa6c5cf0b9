//! A signal ends a blocking receive with `Interrupted` (EINTR), as in
//! libzmq, so that the program's handlers run (pyzmq turns it into Ctrl-C's
//! KeyboardInterrupt and retries otherwise). This file holds one test
//! because it installs a signal handler for its whole process.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::sock::*;
use zlink_mq::{Context, ErrorKind, Flags, SocketType};

static HANDLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // ORDERING: read by the test thread after the interrupted call returned.
    HANDLED.store(true, Ordering::Relaxed);
}

/// Sends SIGUSR1 to `thread` until `done` says its call returned; false
/// if it did not within the tests' timeout (a wait that resumes after a
/// signal instead of returning).
fn interrupt(thread: libc::pthread_t, done: &mpsc::Receiver<()>) -> bool {
    let start = Instant::now();
    while start.elapsed() < TIMEOUT {
        // SAFETY: `thread` is alive until it reports on `done`, which we
        // check right after; the signal's handler only stores a flag.
        unsafe { libc::pthread_kill(thread, libc::SIGUSR1) };
        if done.recv_timeout(Duration::from_millis(50)).is_ok() {
            return true;
        }
    }
    false
}

#[test]
fn a_signal_ends_a_blocking_receive() {
    // SAFETY: installs a handler that only stores to an atomic; without
    // SA_RESTART, as a Python program's handlers are installed.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()), 0);
    }
    let ctx = Context::new();
    let mut pull = socket(&ctx, SocketType::Pull);
    pull.set_rcvtimeo(None);
    let ep = bind(&mut pull, Transport::Tcp);
    let (tx, rx) = mpsc::channel();
    let (me_tx, me_rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        // SAFETY: pthread_self has no preconditions.
        me_tx.send(unsafe { libc::pthread_self() }).unwrap();
        let started = Instant::now();
        let recv = pull.recv(Flags::NONE).map(|_| ()).map_err(|e| e.kind());
        tx.send(()).unwrap();
        (recv, started.elapsed(), pull)
    });
    let thread_id = me_rx.recv().unwrap();
    thread::sleep(Duration::from_millis(50));
    assert!(interrupt(thread_id, &rx), "the receive went on waiting");
    let (recv, elapsed, mut pull) = waiter.join().unwrap();
    assert_eq!(recv, Err(ErrorKind::Interrupted));
    assert!(HANDLED.load(Ordering::Relaxed));
    assert!(elapsed < TIMEOUT, "{elapsed:?}");
    // The socket still works after the interruptions.
    let mut push = socket(&ctx, SocketType::Push);
    push.connect(&ep).unwrap();
    push.send("after", Flags::NONE).unwrap();
    pull.set_rcvtimeo(Some(TIMEOUT));
    assert_eq!(recv_str(&mut pull), "after");
}
