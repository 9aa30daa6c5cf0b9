//! The inproc registry: names bound in a context, and connections made to
//! a name before anyone bound it (libzmq lets those exist and queue).
//!
//! An inproc connection is a pipe pair between two sockets, no I/O thread
//! in between; the registry builds it and hands each socket its end as a
//! [`NewPeer`] (the binder's through its mailbox).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::base::error::{Error, ErrorKind, Result};
use crate::base::sync::lock;
use crate::pipe::handle::{NewPeer, SocketShared};
use crate::pipe::{Notify, PipeEvent, PipeId, pipe};

/// What a socket that binds an inproc name offers to those that connect.
struct Binding {
    socket: Arc<SocketShared>,
    routing_id: Option<Vec<u8>>,
    sndhwm: u32,
    rcvhwm: u32,
    /// CONFLATE on the binder's outbound and inbound pipes.
    conflate: (bool, bool),
}

/// The binder's half of a connection made before anyone bound the name.
struct Pending {
    peer: NewPeer,
    notify: Arc<Deferred>,
    /// The connecter's marks, to sum with the binder's at bind time.
    sndhwm: u32,
    rcvhwm: u32,
}

#[derive(Default)]
struct Names {
    bound: HashMap<String, Binding>,
    pending: HashMap<String, Vec<Pending>>,
}

/// Forwards pipe events to a binder that does not exist yet: until it binds,
/// its pipe ends have never been read or written, so there is nothing to
/// tell it and events are dropped (a closed peer is still seen: the pipe
/// carries its end).
#[derive(Default)]
struct Deferred(Mutex<Option<Arc<SocketShared>>>);

impl Notify for Deferred {
    fn pipe_event(&self, id: PipeId, event: PipeEvent) {
        if let Some(target) = &*lock(&self.0) {
            target.pipe_event(id, event);
        }
    }
}

/// What a socket tells the registry about itself when it connects or binds.
pub(crate) struct InprocSide<'a> {
    pub socket: &'a Arc<SocketShared>,
    pub routing_id: Option<Vec<u8>>,
    pub sndhwm: u32,
    pub rcvhwm: u32,
    /// CONFLATE on the socket's outbound and inbound pipes.
    pub conflate: (bool, bool),
}

/// libzmq sums both sides' marks for inproc; 0 (unlimited) on either side
/// makes the sum unlimited.
fn sum_hwm(a: u32, b: u32) -> u64 {
    if a == 0 || b == 0 {
        0
    } else {
        u64::from(a) + u64::from(b)
    }
}

/// The names bound in one context and the connections waiting for a binder.
#[derive(Default)]
pub(crate) struct Registry(Mutex<Names>);

impl Registry {
    /// Binds `name` for `me`; returns the connections that were waiting for
    /// it (connect before bind), for `me` to attach.
    pub(crate) fn bind(&self, me: InprocSide<'_>, name: &str) -> Result<Vec<NewPeer>> {
        let mut inproc = lock(&self.0);
        if inproc.bound.contains_key(name) {
            return Err(Error::with_text(
                ErrorKind::AddrInUse,
                format!("inproc://{name} is bound already"),
            ));
        }
        inproc.bound.insert(
            name.to_owned(),
            Binding {
                socket: me.socket.clone(),
                routing_id: me.routing_id,
                sndhwm: me.sndhwm,
                rcvhwm: me.rcvhwm,
                conflate: me.conflate,
            },
        );
        let waiting = inproc.pending.remove(name).unwrap_or_default();
        Ok(waiting
            .into_iter()
            .map(|mut p| {
                *lock(&p.notify.0) = Some(me.socket.clone());
                // Now both sides are known: the marks become sums, as if
                // the bind had come first (libzmq's connect_inproc_sockets).
                p.peer.rx.raise_hwm(sum_hwm(p.sndhwm, me.rcvhwm));
                p.peer.tx.set_hwm(sum_hwm(me.sndhwm, p.rcvhwm));
                p.peer
            })
            .collect())
    }

    /// Removes `me`'s binding of `name`.
    pub(crate) fn unbind(&self, me: &Arc<SocketShared>, name: &str) -> Result<()> {
        let mut inproc = lock(&self.0);
        match inproc.bound.get(name) {
            Some(b) if Arc::ptr_eq(&b.socket, me) => {
                inproc.bound.remove(name);
                Ok(())
            }
            _ => Err(Error::with_text(
                ErrorKind::NotFound,
                format!("inproc://{name} is not bound by this socket"),
            )),
        }
    }

    /// Connects `me` to the socket bound at `name`, or, if none is yet,
    /// leaves the far end waiting for the binder. Returns `me`'s end.
    pub(crate) fn connect(&self, me: InprocSide<'_>, name: &str) -> Result<NewPeer> {
        let endpoint = format!("inproc://{name}");
        let id = crate::pipe::PipeId::fresh();
        let mut inproc = lock(&self.0);
        if let Some(b) = inproc.bound.get(name) {
            // No socket-type check, as libzmq: inproc has no handshake, and
            // a connect before the bind could not be checked anyway (libzmq's
            // test_inproc_connect connects PAIRs to a PULL either way).
            // A direction conflates if its writer conflates what it sends
            // or its reader what it receives.
            let (my_tx, their_rx) = pipe(
                id,
                sum_hwm(me.sndhwm, b.rcvhwm),
                me.conflate.0 || b.conflate.1,
                me.socket.clone(),
                b.socket.clone(),
            );
            let (their_tx, my_rx) = pipe(
                id,
                sum_hwm(b.sndhwm, me.rcvhwm),
                b.conflate.0 || me.conflate.1,
                b.socket.clone(),
                me.socket.clone(),
            );
            b.socket.attach(NewPeer {
                tx: their_tx,
                rx: their_rx,
                routing_id: me.routing_id,
                assigned_routing_id: None,
                endpoint: Some(endpoint.clone()),
                probed: false,
            });
            return Ok(NewPeer {
                tx: my_tx,
                rx: my_rx,
                routing_id: b.routing_id.clone(),
                assigned_routing_id: None,
                endpoint: Some(endpoint),
                probed: false,
            });
        }
        // Nobody bound yet: libzmq lets the connection exist anyway and
        // queue messages, up to our own marks until the binder adds its own
        // (see `inproc_bind`).
        let notify = Arc::new(Deferred::default());
        // The binder's CONFLATE cannot change these pipes any more: the
        // connecting socket's decides.
        let (my_tx, their_rx) = pipe(
            id,
            u64::from(me.sndhwm),
            me.conflate.0,
            me.socket.clone(),
            notify.clone(),
        );
        let (their_tx, my_rx) = pipe(
            id,
            u64::from(me.rcvhwm),
            me.conflate.1,
            notify.clone(),
            me.socket.clone(),
        );
        inproc
            .pending
            .entry(name.to_owned())
            .or_default()
            .push(Pending {
                peer: NewPeer {
                    tx: their_tx,
                    rx: their_rx,
                    routing_id: me.routing_id,
                    assigned_routing_id: None,
                    endpoint: Some(endpoint.clone()),
                    probed: false,
                },
                notify,
                sndhwm: me.sndhwm,
                rcvhwm: me.rcvhwm,
            });
        Ok(NewPeer {
            tx: my_tx,
            rx: my_rx,
            routing_id: None,
            assigned_routing_id: None,
            endpoint: Some(endpoint),
            probed: false,
        })
    }

    /// A socket is closed: its names are free again.
    /// A pipe pair to the socket bound at `name` (a ZAP handler, REP or
    /// ROUTER), for a connection served by an I/O thread: `io` is woken
    /// when the handler writes. Our ends are returned; the handler's socket
    /// gets its own as a new peer. `None` when no such socket is bound.
    pub(crate) fn connect_handler(
        &self,
        name: &str,
        io: Arc<dyn Notify>,
    ) -> Option<(crate::pipe::PipeTx, crate::pipe::PipeRx)> {
        let inproc = lock(&self.0);
        // libzmq asserts that the handler is a REP or ROUTER; any socket
        // bound here gets the request.
        let b = inproc.bound.get(name)?;
        let id = crate::pipe::PipeId::fresh();
        // No high-water marks: a request and its reply are a few frames.
        let (my_tx, their_rx) = pipe(id, 0, false, io.clone(), b.socket.clone());
        let (their_tx, my_rx) = pipe(id, 0, false, b.socket.clone(), io);
        b.socket.attach(NewPeer {
            tx: their_tx,
            rx: their_rx,
            routing_id: None,
            assigned_routing_id: None,
            endpoint: Some(format!("inproc://{name}")),
            probed: false,
        });
        Some((my_tx, my_rx))
    }

    pub(crate) fn forget(&self, socket: &Arc<SocketShared>) {
        lock(&self.0)
            .bound
            .retain(|_, b| !Arc::ptr_eq(&b.socket, socket));
    }
}
