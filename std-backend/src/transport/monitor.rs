//! Socket monitor events, as libzmq's `zmq_socket_monitor`: delivered on a
//! channel, or on an inproc PAIR socket in libzmq's two-frame format.

use std::fmt;
use std::sync::{Arc, Mutex, mpsc};

use crate::base::sync::lock;

/// What happened, with libzmq's event numbers (`ZMQ_EVENT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A connection was established (`ZMQ_EVENT_CONNECTED`).
    Connected,
    /// A connect is in progress (`ZMQ_EVENT_CONNECT_DELAYED`).
    ConnectDelayed,
    /// A reconnect is scheduled; the value is the interval in ms
    /// (`ZMQ_EVENT_CONNECT_RETRIED`).
    ConnectRetried,
    /// The socket listens on the endpoint (`ZMQ_EVENT_LISTENING`).
    Listening,
    /// Binding failed; the value is the errno (`ZMQ_EVENT_BIND_FAILED`).
    BindFailed,
    /// A connection was accepted (`ZMQ_EVENT_ACCEPTED`).
    Accepted,
    /// Accepting failed; the value is the errno (`ZMQ_EVENT_ACCEPT_FAILED`).
    AcceptFailed,
    /// A listener or connection was closed (`ZMQ_EVENT_CLOSED`).
    Closed,
    /// Closing a listener failed: its socket file could not be removed;
    /// the value is the errno (`ZMQ_EVENT_CLOSE_FAILED`).
    CloseFailed,
    /// A connection was lost (`ZMQ_EVENT_DISCONNECTED`).
    Disconnected,
    /// The monitor stopped (`ZMQ_EVENT_MONITOR_STOPPED`).
    MonitorStopped,
    /// The ZMTP handshake failed for a reason other than protocol or
    /// authentication (`ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL`).
    HandshakeFailedNoDetail,
    /// The ZMTP handshake succeeded (`ZMQ_EVENT_HANDSHAKE_SUCCEEDED`).
    HandshakeSucceeded,
    /// The peer broke the protocol during the handshake
    /// (`ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL`).
    HandshakeFailedProtocol,
    /// Authentication failed (`ZMQ_EVENT_HANDSHAKE_FAILED_AUTH`).
    HandshakeFailedAuth,
}

impl EventKind {
    /// libzmq's number for the event.
    pub const fn code(self) -> u16 {
        match self {
            EventKind::Connected => 0x0001,
            EventKind::ConnectDelayed => 0x0002,
            EventKind::ConnectRetried => 0x0004,
            EventKind::Listening => 0x0008,
            EventKind::BindFailed => 0x0010,
            EventKind::Accepted => 0x0020,
            EventKind::AcceptFailed => 0x0040,
            EventKind::Closed => 0x0080,
            EventKind::CloseFailed => 0x0100,
            EventKind::Disconnected => 0x0200,
            EventKind::MonitorStopped => 0x0400,
            EventKind::HandshakeFailedNoDetail => 0x0800,
            EventKind::HandshakeSucceeded => 0x1000,
            EventKind::HandshakeFailedProtocol => 0x2000,
            EventKind::HandshakeFailedAuth => 0x4000,
        }
    }
}

/// Every event (`ZMQ_EVENT_ALL`).
pub const EVENT_ALL: u16 = 0xffff;

/// A monitor event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The event's value: a file descriptor, an errno or an interval in
    /// milliseconds, as libzmq documents per event (0 where it has none).
    pub value: u32,
    /// The endpoint it concerns.
    pub endpoint: String,
    /// Why, for failures (a protocol or OS error message), if known.
    pub reason: Option<String>,
}

impl Event {
    pub(crate) fn new(kind: EventKind, value: u32, endpoint: &str) -> Self {
        Self {
            kind,
            value,
            endpoint: endpoint.to_owned(),
            reason: None,
        }
    }

    pub(crate) fn because(mut self, reason: impl fmt::Display) -> Self {
        self.reason = Some(reason.to_string());
        self
    }
}

/// What consumes a socket's events: a channel, or a closure given from
/// above (the socket layer's inproc PAIR in libzmq's format).
enum Sink {
    Channel(mpsc::Sender<Event>),
    Custom(Box<dyn FnMut(&Event) + Send>),
}

/// Where a socket's events go. Connections may hold it (and report) after
/// their socket closed, but the sink goes with the socket: see
/// [`stop`](Monitor::stop).
pub(crate) struct Monitor {
    mask: u16,
    /// `None` once stopped.
    sink: Mutex<Option<Sink>>,
}

impl Monitor {
    pub(crate) fn channel(mask: u16) -> (Self, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel();
        (
            Self {
                mask,
                sink: Mutex::new(Some(Sink::Channel(tx))),
            },
            rx,
        )
    }

    /// Events go to `sink`, called under the monitor's lock; it must not
    /// block (an event it cannot take is dropped, as libzmq's monitor).
    pub(crate) fn custom(mask: u16, sink: impl FnMut(&Event) + Send + 'static) -> Self {
        Self {
            mask,
            sink: Mutex::new(Some(Sink::Custom(Box::new(sink)))),
        }
    }

    /// The monitored socket closes (or gets another monitor): reports
    /// MONITOR_STOPPED and lets the sink go, here, on the caller's thread.
    /// A custom sink (the PAIR of `zmq_socket_monitor`) may hold a handle to the context; left
    /// to the last connection that reports, it could be dropped on an I/O
    /// thread, which would then wait for itself.
    pub(crate) fn stop(&self) {
        // One critical section: an I/O thread's event cannot slip in
        // between MONITOR_STOPPED and the end of the stream.
        let mut sink = lock(&self.sink);
        self.deliver(&mut sink, Event::new(EventKind::MonitorStopped, 0, ""));
        let last = sink.take();
        drop(sink);
        drop(last);
    }

    /// Delivers `event` if the mask selects it. Never blocks: an event the
    /// consumer has no room for is dropped, as libzmq's monitor does.
    pub(crate) fn emit(&self, event: Event) {
        self.deliver(&mut lock(&self.sink), event);
    }

    fn deliver(&self, sink: &mut Option<Sink>, event: Event) {
        if self.mask & event.kind.code() == 0 {
            return;
        }
        match sink {
            None => {}
            Some(Sink::Channel(tx)) => {
                let _ = tx.send(event);
            }
            Some(Sink::Custom(sink)) => sink(&event),
        }
    }
}

/// A socket's current monitor, shared by the socket and every listener,
/// connector and session it made: an event goes to whichever monitor is
/// current when it happens, so a monitor started after `bind` or `connect`
/// sees the later events of those endpoints too, as libzmq's does.
#[derive(Debug, Default)]
pub(crate) struct MonitorSlot {
    current: Mutex<Option<Arc<Monitor>>>,
}

impl MonitorSlot {
    /// Makes `monitor` current (`None`: no monitor); returns the previous
    /// one, for the caller to [`stop`](Monitor::stop).
    pub(crate) fn replace(&self, monitor: Option<Monitor>) -> Option<Arc<Monitor>> {
        std::mem::replace(&mut *lock(&self.current), monitor.map(Arc::new))
    }

    /// Delivers `event` to the current monitor, if any.
    pub(crate) fn emit(&self, event: Event) {
        // Emitted outside the slot's lock: a replaced monitor's `stop` takes
        // only its own lock, so an event racing with it is either delivered
        // before MONITOR_STOPPED or dropped (its sink is gone).
        let current = lock(&self.current).clone();
        if let Some(m) = current {
            m.emit(event);
        }
    }
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor").field("mask", &self.mask).finish()
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        if lock(&self.sink).is_some() {
            self.stop();
        }
    }
}
