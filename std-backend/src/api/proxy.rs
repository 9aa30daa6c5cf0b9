//! libzmq's `zmq_proxy` and `zmq_proxy_steerable`: move every message
//! between two sockets, optionally copying it to a third.
#![forbid(unsafe_code)]

use crate::api::poller::{PollItem, poll};
use crate::base::error::{ErrorKind, Result};
use crate::base::msg::Msg;
use crate::socket::{Events, Flags, Socket};

/// What one direction of a proxy has moved (`ZMQ_PROXY_STATISTICS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    msgs: u64,
    bytes: u64,
}

/// Connects `frontend` and `backend`: every message that arrives on one is
/// sent on the other, frame by frame, as `zmq_proxy` does; with a
/// `capture` socket every frame is also sent there (with its MORE flag).
///
/// A message is taken from one side only while the other can take it, so a
/// slow side holds the other back (its high-water mark) instead of messages
/// being dropped, and the other direction keeps flowing meanwhile.
///
/// Runs until the context is shut down, then returns
/// [`ErrorKind::Terminated`], as `zmq_proxy` returns `ETERM`.
///
/// ```no_run
/// use zlink_mq_std::{Context, SocketType, proxy};
///
/// // A request broker: clients connect REQ sockets to 5559, services
/// // connect REP sockets to 5560.
/// let ctx = Context::new();
/// let mut frontend = ctx.socket(SocketType::Router)?;
/// frontend.bind("tcp://*:5559")?;
/// let mut backend = ctx.socket(SocketType::Dealer)?;
/// backend.bind("tcp://*:5560")?;
/// let err = proxy(&mut frontend, &mut backend, None).unwrap_err();
/// # Ok::<(), zlink_mq_std::Error>(())
/// ```
///
/// # Errors
/// [`ErrorKind::Terminated`] when the context is shut down; any error a
/// receive or send returns (for example
/// [`ErrorKind::HostUnreachable`] from a ROUTER with ROUTER_MANDATORY).
pub fn proxy(
    frontend: &mut Socket,
    backend: &mut Socket,
    capture: Option<&mut Socket>,
) -> Result<()> {
    run(frontend, backend, capture, None)
}

/// [`proxy`] with a control socket, as `zmq_proxy_steerable`: a message
/// `PAUSE` on `control` stops moving messages, `RESUME` resumes, and
/// `TERMINATE` makes the proxy return `Ok(())`. `STATISTICS` answers (on a
/// REP or ROUTER-like control socket, through `control.send`) with eight
/// 8-byte frames: messages and bytes received by the frontend, sent by the
/// frontend, received by the backend, sent by the backend (native byte
/// order, as libzmq). Other commands are ignored.
///
/// # Errors
/// As [`proxy`].
pub fn proxy_steerable(
    frontend: &mut Socket,
    backend: &mut Socket,
    capture: Option<&mut Socket>,
    control: &mut Socket,
) -> Result<()> {
    run(frontend, backend, capture, Some(control))
}

/// [`proxy`] with one socket as both frontend and backend, as
/// `zmq_proxy(s, s, capture)` (a ROUTER that answers every request with
/// itself, say): every message it receives it sends back out, through its
/// own routing. With `control`, steered as [`proxy_steerable`]; its
/// statistics count the socket's input as the frontend's and its output
/// as the backend's, as libzmq.
///
/// # Errors
/// As [`proxy`].
pub fn proxy_single_socket(
    socket: &mut Socket,
    mut capture: Option<&mut Socket>,
    mut control: Option<&mut Socket>,
) -> Result<()> {
    let mut paused = false;
    let mut stats = [Counts::default(); 4];
    loop {
        match command(control.as_deref_mut(), &stats, &mut paused)? {
            Some(Steer::Terminate) => return Ok(()),
            Some(_) => continue,
            None => {}
        }
        // Readable is enough, as in libzmq: a REP (or REQ) becomes
        // writable only once it has received, so the send after the
        // receive is the one that may wait.
        if !paused && socket.events()?.readable {
            forward(
                &mut One(&mut *socket),
                capture.as_deref_mut(),
                &mut stats,
                0,
            )?;
            continue;
        }
        let wants = if paused {
            Events::NONE
        } else {
            Events::READABLE
        };
        let mut items = vec![PollItem::socket(socket, wants)];
        if let Some(c) = control.as_deref_mut() {
            items.push(PollItem::socket(c, Events::READABLE));
        }
        poll(&mut items, None)?;
    }
}

fn run(
    frontend: &mut Socket,
    backend: &mut Socket,
    mut capture: Option<&mut Socket>,
    mut control: Option<&mut Socket>,
) -> Result<()> {
    let mut paused = false;
    // [frontend in, frontend out, backend in, backend out]
    let mut stats = [Counts::default(); 4];
    loop {
        match command(control.as_deref_mut(), &stats, &mut paused)? {
            Some(Steer::Terminate) => return Ok(()),
            Some(_) => continue,
            None => {}
        }
        let front = frontend.events()?;
        let back = backend.events()?;
        let mut moved = false;
        if !paused {
            if front.readable && back.writable {
                let mut ends = Two(&mut *frontend, &mut *backend);
                forward(&mut ends, capture.as_deref_mut(), &mut stats, 0)?;
                moved = true;
            }
            if back.readable && front.writable {
                let mut ends = Two(&mut *backend, &mut *frontend);
                forward(&mut ends, capture.as_deref_mut(), &mut stats, 2)?;
                moved = true;
            }
        }
        if moved {
            continue;
        }
        // Nothing can move: wait for exactly what is missing, so that a
        // side with input blocked by a full peer does not spin.
        let (front_wants, back_wants) = if paused {
            (Events::NONE, Events::NONE)
        } else {
            wants(front, back)
        };
        let mut items = vec![
            PollItem::socket(frontend, front_wants),
            PollItem::socket(backend, back_wants),
        ];
        if let Some(c) = control.as_deref_mut() {
            items.push(PollItem::socket(c, Events::READABLE));
        }
        poll(&mut items, None)?;
    }
}

/// What each side must become for a message to move: readable where it has
/// no input, writable where the other side's input waits for it.
fn wants(front: Events, back: Events) -> (Events, Events) {
    let front_wants = Events {
        readable: !front.readable,
        writable: back.readable && !front.writable,
    };
    let back_wants = Events {
        readable: !back.readable,
        writable: front.readable && !back.writable,
    };
    (front_wants, back_wants)
}

/// Where a proxy takes a message from and sends it to.
trait Ends {
    fn recv(&mut self) -> Result<Msg>;
    fn send(&mut self, frame: Msg, flags: Flags) -> Result<()>;
}

/// From one socket to another.
struct Two<'a>(&'a mut Socket, &'a mut Socket);

/// From a socket back to itself.
struct One<'a>(&'a mut Socket);

impl Ends for Two<'_> {
    fn recv(&mut self) -> Result<Msg> {
        self.0.recv(Flags::DONTWAIT)
    }
    fn send(&mut self, frame: Msg, flags: Flags) -> Result<()> {
        self.1.send(frame, flags)
    }
}

impl Ends for One<'_> {
    fn recv(&mut self) -> Result<Msg> {
        self.0.recv(Flags::DONTWAIT)
    }
    fn send(&mut self, frame: Msg, flags: Flags) -> Result<()> {
        self.0.send(frame, flags)
    }
}

/// Moves one whole message between `ends` (and to `capture`). The first
/// frame is known to be there and the sending end to be writable; the
/// other frames of a message arrive and are accepted with the first.
fn forward(
    ends: &mut impl Ends,
    mut capture: Option<&mut Socket>,
    stats: &mut [Counts; 4],
    from_index: usize,
) -> Result<()> {
    loop {
        let frame = ends.recv()?;
        let more = frame.more();
        let len = frame.len() as u64;
        let flags = if more { Flags::SNDMORE } else { Flags::NONE };
        if let Some(c) = capture.as_deref_mut() {
            c.send(frame.clone(), flags)?;
        }
        ends.send(frame, flags)?;
        // The receiving side's "in" and the other side's "out" counters.
        let to_index = if from_index == 0 { 3 } else { 1 };
        stats[from_index].bytes += len;
        stats[to_index].bytes += len;
        if !more {
            stats[from_index].msgs += 1;
            stats[to_index].msgs += 1;
            return Ok(());
        }
    }
}

/// Takes the command waiting on `control`, if any, and applies PAUSE /
/// RESUME to `paused`.
fn command(
    control: Option<&mut Socket>,
    stats: &[Counts; 4],
    paused: &mut bool,
) -> Result<Option<Steer>> {
    let Some(c) = control else {
        return Ok(None);
    };
    if !c.events()?.readable {
        return Ok(None);
    }
    let s = steer(c, stats)?;
    match s {
        Steer::Pause => *paused = true,
        Steer::Resume => *paused = false,
        Steer::Terminate | Steer::Other => {}
    }
    Ok(Some(s))
}

enum Steer {
    Pause,
    Resume,
    Terminate,
    Other,
}

fn steer(control: &mut Socket, stats: &[Counts; 4]) -> Result<Steer> {
    let command = match control.recv_multipart(Flags::DONTWAIT) {
        Ok(parts) => parts,
        Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Steer::Other),
        Err(e) => return Err(e),
    };
    let Some(last) = command.last() else {
        return Ok(Steer::Other);
    };
    Ok(match &last[..] {
        b"PAUSE" => Steer::Pause,
        b"RESUME" => Steer::Resume,
        b"TERMINATE" => Steer::Terminate,
        b"STATISTICS" => {
            let frames: Vec<[u8; 8]> = stats
                .iter()
                .flat_map(|c| [c.msgs.to_ne_bytes(), c.bytes.to_ne_bytes()])
                .collect();
            control.send_multipart(frames.iter().map(|f| &f[..]), Flags::NONE)?;
            Steer::Other
        }
        _ => Steer::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_only_for_what_is_missing() {
        let idle = Events::WRITABLE;
        // Nothing to read anywhere: wait for input on both sides.
        assert_eq!(wants(idle, idle), (Events::READABLE, Events::READABLE));
        // Frontend input blocked by a full backend: wait for the backend
        // to drain, not for the frontend (which is readable already).
        let (f, b) = wants(Events::READABLE, Events::NONE);
        assert_eq!(f, Events::NONE | Events::NONE);
        assert_eq!(b, Events::READABLE | Events::WRITABLE);
    }
}
