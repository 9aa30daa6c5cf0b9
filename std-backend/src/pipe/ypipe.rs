//! One direction of a peer connection: the core ypipe on the heap, growing
//! on demand, with libzmq's high-water-mark accounting and wake-ups.
//!
//! Every peer of a socket, whatever its transport, is a pair of these (one
//! per direction). The writer and the reader are each owned by one thread (a
//! socket's user thread, or an I/O thread for TCP and IPC connections) and
//! tell the other side about state changes through its [`Notify`]:
//!
//! - **read activation**: the writer's flush found the reader asleep (it had
//!   drained the pipe); the reader's owner re-activates the pipe and retries.
//! - **write activation**: the writer stopped at the high-water mark and the
//!   reader has since consumed enough (the low-water mark) for it to go on.
//! - **closed**: the other end is gone.
//!
//! In the steady state none of these happen: a message costs a slot write
//! and, per flush, one atomic swap (see `zlink_mq_core::pipe`).
//!
//! # Growth
//!
//! The ring starts small and doubles when full, so memory follows the queue
//! depth the high-water mark allows (unbounded when the mark is 0, as in
//! libzmq). To grow, the writer takes back the incomplete frames of the
//! message it is writing, writes a link to a new ring into the last slot
//! (one slot is always kept free for it), publishes, and writes the taken
//! frames into the new ring: a multipart message never spans two rings, so
//! it still becomes visible all at once. The reader follows the link.
#![allow(unsafe_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use zlink_mq_core::pipe::{Pipe, PipeRef, Reader, Slot, Storage, Writer};

use crate::base::msg::Msg;
use crate::base::properties::Properties;
use crate::pipe::conflate::{ConflateRx, ConflateTx, Latest};

/// Slots of a fresh ring; it doubles from there.
const INITIAL_CAPACITY: usize = 256;

/// Where a pipe end's state changes are reported.
pub(crate) trait Notify: Send + Sync {
    /// Pipe `id` changed as `event` says, seen from the notified end.
    fn pipe_event(&self, id: PipeId, event: PipeEvent);
}

/// A state change of a pipe, reported to one of its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PipeEvent {
    /// To the reader: messages arrived while it was asleep.
    ReadActivated,
    /// To the writer: the reader consumed enough for writing to resume.
    WriteActivated,
    /// To the writer: the reader end is gone.
    ReaderClosed,
}

/// Heap storage for a ring.
struct HeapSlots(Box<[Slot<Item>]>);

// SAFETY: the boxed slice never moves or changes length while the ring
// lives, and `ring` only creates power-of-two lengths.
unsafe impl Storage<Item> for HeapSlots {
    #[inline]
    fn slots(&self) -> &[Slot<Item>] {
        &self.0
    }
}

type Ring = Pipe<Item, HeapSlots>;

/// A shared owner of a heap ring, held by both halves.
#[derive(Clone)]
struct ArcRing(Arc<Ring>);

// SAFETY: every clone points to the same ring, kept alive by the Arc.
unsafe impl PipeRef for ArcRing {
    type Item = Item;
    type Storage = HeapSlots;
    #[inline]
    fn pipe(&self) -> &Ring {
        &self.0
    }
}

fn ring(capacity: usize) -> (Writer<ArcRing>, Reader<ArcRing>) {
    let slots = (0..capacity.next_power_of_two())
        .map(|_| Slot::new())
        .collect();
    Pipe::split(ArcRing(Arc::new(Pipe::with_storage(HeapSlots(slots)))))
        .expect("a new ring is split once")
}

/// What travels in a ring.
enum Item {
    Msg(Msg),
    /// The frames that follow come from a connection with these properties
    /// (written once per handshake, not a message: no mark counts it).
    Properties(Arc<Properties>),
    /// The writer moved to a bigger ring: read on from this one.
    Next(Reader<ArcRing>),
    /// The writer closed the pipe: nothing follows.
    End,
}

/// State both ends of one pipe share besides the ring.
#[derive(Debug)]
struct Shared {
    id: PipeId,
    /// Whole messages the reader has consumed, published every low-water
    /// mark's worth.
    msgs_read: AtomicU64,
    /// The writer stopped at the high-water mark and waits for a
    /// write activation.
    writer_waiting: AtomicBool,
    /// The reader end has been closed: further writes are discarded.
    reader_closed: AtomicBool,
    /// A read activation is on its way to the reader's owner: later
    /// flushes that find the reader asleep do not post another, so the
    /// owner's command queue holds at most one per pipe.
    read_activation: AtomicBool,
    /// The high-water mark (0: none). It only ever grows, when an inproc
    /// connection made before the bind learns the binder's mark; the writer
    /// caches it and reloads it only when its cached mark is reached.
    hwm: AtomicU64,
}

/// A pipe's name, unique in the process: both ends' owners (a socket, an
/// I/O thread) name the pipe by it in the events it reports, so that
/// neither holds a reference to the other.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(crate) struct PipeId(u64);

impl PipeId {
    /// A fresh id, never handed out before in this process.
    pub(crate) fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        // ORDERING: only uniqueness matters.
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The capacity a full ring of `current` slots grows to. It doubles; but
/// once doubling reaches the high-water mark it goes straight to the size a
/// full mark needs: `hwm` single-frame messages, plus the slots the reader
/// has consumed but not yet handed back (up to an eighth of the ring, see
/// `zlink_mq_core::pipe`), plus the link slot. Otherwise the last growth
/// comes late, the first time the reader's hand-back lags at a full mark,
/// and allocates in what should be the steady state.
fn grown_capacity(current: usize, hwm: u64) -> usize {
    let doubled = current * 2;
    let Ok(hwm) = usize::try_from(hwm) else {
        return doubled;
    };
    if hwm == 0 || doubled < hwm {
        return doubled;
    }
    let at_mark = (hwm + 2).saturating_mul(8).div_ceil(7);
    doubled.max(at_mark.checked_next_power_of_two().unwrap_or(doubled))
}

/// libzmq 4.3's low-water mark (`pipe_t::compute_lwm`): the reader reports
/// progress every this many messages, half the mark. (`hwm - 1024` for
/// large marks, which this pipe had, reported too rarely: a writer that had
/// seen no report for most of a drained queue dropped or blocked at the
/// mark with the queue nearly empty, as libzmq's test_reset_hwm shows.)
fn low_water_mark(hwm: u64) -> u64 {
    hwm.div_ceil(2)
}

/// Creates a pipe whose writer reports to `writer_owner` and whose reader
/// reports to `reader_owner`. `hwm` is the number of whole messages that may
/// be queued (0: unlimited). `id` names the pipe in both owners'
/// notifications. With `conflate` the pipe keeps only the latest message
/// (CONFLATE, see [`crate::pipe::conflate`]) and `hwm` is ignored.
pub(crate) fn pipe(
    id: PipeId,
    hwm: u64,
    conflate: bool,
    writer_owner: Arc<dyn Notify>,
    reader_owner: Arc<dyn Notify>,
) -> (PipeTx, PipeRx) {
    let hwm = if conflate { 0 } else { hwm };
    let (ctx, crx) = if conflate {
        let (t, r) = Latest::pair();
        (Some(Box::new(t)), Some(Box::new(r)))
    } else {
        (None, None)
    };
    let (w, r) = ring(INITIAL_CAPACITY);
    let shared = Arc::new(Shared {
        id,
        msgs_read: AtomicU64::new(0),
        writer_waiting: AtomicBool::new(false),
        reader_closed: AtomicBool::new(false),
        read_activation: AtomicBool::new(false),
        hwm: AtomicU64::new(hwm),
    });
    let lwm = low_water_mark(hwm);
    let tx = PipeTx {
        ring: w,
        shared: shared.clone(),
        reader: reader_owner,
        hwm,
        msgs_written: 0,
        peers_msgs_read: 0,
        in_message: false,
        closed: false,
        conflate: ctx,
        conflate_properties: None,
    };
    let rx = PipeRx {
        ring: r,
        shared,
        writer: writer_owner,
        lwm,
        msgs_read: 0,
        until_report: lwm,
        closed: false,
        properties: None,
        conflate: crx,
    };
    (tx, rx)
}

/// The writing end of a pipe.
pub(crate) struct PipeTx {
    ring: Writer<ArcRing>,
    shared: Arc<Shared>,
    reader: Arc<dyn Notify>,
    hwm: u64,
    msgs_written: u64,
    /// The reader's `msgs_read` as last seen.
    peers_msgs_read: u64,
    /// The last frame written had MORE set.
    in_message: bool,
    closed: bool,
    /// CONFLATE: messages go to a one-message slot, not the ring.
    conflate: Option<Box<ConflateTx>>,
    /// CONFLATE: the properties the writer attaches to each frame (the slot
    /// keeps no order with the ring, so they cannot go through it).
    conflate_properties: Option<Arc<Properties>>,
}

impl PipeTx {
    /// The pipe's id.
    pub(crate) fn id(&self) -> PipeId {
        self.shared.id
    }

    /// Whether the reader end has been closed.
    pub(crate) fn reader_closed(&self) -> bool {
        // ORDERING: a hint only (the closing end also sends ReaderClosed
        // through the owner's mailbox, which synchronises properly).
        self.shared.reader_closed.load(Ordering::Relaxed)
    }

    /// Whether a new message may be started: the high-water mark is not
    /// reached. When it is, the writer is registered for a write activation
    /// (a [`PipeEvent::WriteActivated`] once the reader has caught up).
    pub(crate) fn check_write(&mut self) -> bool {
        if self.closed {
            return false;
        }
        if self.hwm == 0 || self.msgs_written - self.peers_msgs_read < self.hwm {
            return true;
        }
        // ORDERING: Acquire is not needed for data (the count carries no
        // data with it) but costs nothing where this runs: only at the mark.
        self.peers_msgs_read = self.shared.msgs_read.load(Ordering::Acquire);
        if self.msgs_written - self.peers_msgs_read < self.hwm {
            return true;
        }
        // ORDERING: SeqCst store then SeqCst loads, mirrored by the reader's
        // SeqCst store of `msgs_read` (or of a raised `hwm`) then load of
        // `writer_waiting`: in the single total order one of the two loads
        // sees the other's store, so either we see the progress (or the new
        // mark) now or the reader sees us waiting and activates us. A stale
        // `true` left behind only causes a spurious activation.
        self.shared.writer_waiting.store(true, Ordering::SeqCst);
        self.peers_msgs_read = self.shared.msgs_read.load(Ordering::SeqCst);
        self.hwm = self.shared.hwm.load(Ordering::SeqCst);
        self.hwm == 0 || self.msgs_written - self.peers_msgs_read < self.hwm
    }

    /// Sets the high-water mark before the pipe is used (an inproc
    /// connection made before the bind gets the sum of both sides' marks
    /// once the binder is known).
    pub(crate) fn set_hwm(&mut self, hwm: u64) {
        self.hwm = hwm;
        // ORDERING: nobody has written through this end yet; the pipe
        // reaches its reader through a mailbox, which synchronises.
        self.shared.hwm.store(hwm, Ordering::Relaxed);
    }

    /// The high-water mark in force (0: none; a conflating pipe has none).
    pub(crate) fn hwm(&self) -> u64 {
        // ORDERING: only the reader stores it besides us (`raise_hwm`, at
        // an inproc bind, which reaches us through the mailbox first).
        self.shared.hwm.load(Ordering::Relaxed)
    }

    /// Whether the pipe conflates (its mark is not a queue length).
    pub(crate) fn conflates(&self) -> bool {
        self.conflate.is_some()
    }

    /// Changes the high-water mark while the pipe is in use (SNDHWM set
    /// after the peer attached, as libzmq 4.3 allows). Returns whether the
    /// writer was waiting at the old mark: the caller then treats the pipe
    /// as write-activated (the reader will not, as it sees no wait now).
    pub(crate) fn change_hwm(&mut self, hwm: u64) -> bool {
        self.hwm = hwm;
        // ORDERING: SeqCst as in `check_write`; the swap takes the wait
        // exactly once, against the reader's swap in `report_progress`.
        self.shared.hwm.store(hwm, Ordering::SeqCst);
        self.shared.writer_waiting.load(Ordering::SeqCst)
            && self.shared.writer_waiting.swap(false, Ordering::SeqCst)
    }

    /// Writes one frame, as libzmq's `pipe_t::write`: the first frame of a
    /// message is refused (handed back) at the high-water mark; later frames
    /// of a started message are always accepted (the mark counts whole
    /// messages).
    #[inline]
    pub(crate) fn write(&mut self, msg: Msg) -> Result<(), Msg> {
        if !self.in_message && !self.check_write() {
            return Err(msg);
        }
        self.push(msg);
        Ok(())
    }

    /// Writes one frame regardless of the high-water mark: for a connection
    /// handing the socket a frame it already read off the wire (it checked
    /// the mark before decoding the message).
    #[inline]
    pub(crate) fn push(&mut self, msg: Msg) {
        if self.conflate.is_some() {
            return self.push_conflated(msg);
        }
        // One slot always stays free for a link to a bigger ring.
        if !self.ring.reserve(2) {
            self.grow();
        }
        let more = msg.more();
        if self.ring.write(Item::Msg(msg), more).is_err() {
            unreachable!("room was reserved above");
        }
        self.in_message = more;
        if !more {
            self.msgs_written += 1;
        }
    }

    /// The frames written from now on come from a connection with
    /// `properties` (its handshake just completed): the reader attaches them
    /// to each frame it reads. Written between messages, so that no frame
    /// of one connection's message is read with another's properties.
    pub(crate) fn set_properties(&mut self, properties: Arc<Properties>) {
        if self.conflate.is_some() {
            self.conflate_properties = Some(properties);
            return;
        }
        if !self.ring.reserve(2) {
            self.grow();
        }
        if self
            .ring
            .write(Item::Properties(properties), self.in_message)
            .is_err()
        {
            unreachable!("room was reserved above");
        }
        self.flush();
    }

    #[cold]
    fn push_conflated(&mut self, mut msg: Msg) {
        self.in_message = msg.more();
        if self.conflate_properties.is_some() {
            msg.set_properties(self.conflate_properties.clone());
        }
        let Some(c) = &mut self.conflate else {
            return;
        };
        if c.push(msg) {
            self.reader
                .pipe_event(self.shared.id, PipeEvent::ReadActivated);
        }
    }

    #[cold]
    fn grow(&mut self) {
        let mut incomplete = Vec::new();
        while let Some(item) = self.ring.unwrite() {
            incomplete.push(item);
        }
        let (mut w, r) = ring(grown_capacity(self.ring.capacity(), self.hwm));
        if self.ring.write(Item::Next(r), false).is_err() {
            unreachable!("one slot is always kept free for the link");
        }
        self.flush();
        std::mem::swap(&mut self.ring, &mut w);
        for item in incomplete.into_iter().rev() {
            if self.ring.write(item, true).is_err() {
                unreachable!("a fresh ring twice the size holds the message");
            }
        }
    }

    /// Takes back the frames of an incomplete message.
    pub(crate) fn rollback(&mut self) {
        if let Some(c) = &mut self.conflate {
            c.rollback();
        }
        while self.ring.unwrite().is_some() {}
        self.in_message = false;
    }

    /// Publishes what was written; wakes the reader if it was asleep.
    #[inline]
    pub(crate) fn flush(&mut self) {
        // ORDERING: the swap runs after `ring.flush` saw the reader asleep
        // (an acquire of the reader's sleep), and the reader clears the
        // flag (`PipeRx::activated`) before it can sleep again, so we see
        // the clear and post; AcqRel keeps the swap after that acquire.
        if self.ring.flush() && !self.shared.read_activation.swap(true, Ordering::AcqRel) {
            self.reader
                .pipe_event(self.shared.id, PipeEvent::ReadActivated);
        }
    }

    /// Closes the writing end: the reader reads what was sent, then sees the
    /// end. Incomplete messages are dropped.
    pub(crate) fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.rollback();
        if !self.ring.reserve(1) {
            self.grow();
        }
        if self.ring.write(Item::End, false).is_err() {
            unreachable!("one slot is always kept free");
        }
        self.flush();
    }
}

impl Drop for PipeTx {
    fn drop(&mut self) {
        self.close();
    }
}

impl std::fmt::Debug for PipeTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipeTx")
            .field("id", &self.shared.id)
            .field("hwm", &self.hwm)
            .field("msgs_written", &self.msgs_written)
            .finish_non_exhaustive()
    }
}

/// What a read found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Read {
    /// A frame.
    Msg(Msg),
    /// Nothing now; the reader is marked asleep and will get a
    /// [`PipeEvent::ReadActivated`] when something arrives.
    Empty,
    /// The writer closed the pipe and everything it sent has been read.
    Closed,
}

/// The reading end of a pipe.
pub(crate) struct PipeRx {
    ring: Reader<ArcRing>,
    shared: Arc<Shared>,
    writer: Arc<dyn Notify>,
    lwm: u64,
    msgs_read: u64,
    /// Messages left before the next progress report to the writer.
    until_report: u64,
    closed: bool,
    /// The properties of the connection the frames now read come from.
    properties: Option<Arc<Properties>>,
    /// CONFLATE: messages come from a one-message slot, not the ring.
    conflate: Option<Box<ConflateRx>>,
}

impl PipeRx {
    /// The reader's owner took the read activation (or attached the pipe):
    /// the next sleep may be reported again. Call before reading.
    #[inline]
    pub(crate) fn activated(&self) {
        // ORDERING: Release orders the clear before our next sleep's CAS,
        // which the writer acquires before its swap of this flag.
        self.shared.read_activation.store(false, Ordering::Release);
    }

    /// Reads one frame. When the pipe is empty the reader is marked asleep.
    #[inline]
    pub(crate) fn read(&mut self) -> Read {
        if self.conflate.is_some() {
            if let Some(m) = self.read_conflated() {
                return Read::Msg(m);
            }
        }
        loop {
            match self.ring.read() {
                Some(Item::Msg(mut msg)) => {
                    if !msg.more() {
                        self.message_consumed();
                    }
                    if self.properties.is_some() {
                        msg.set_properties(self.properties.clone());
                    }
                    return Read::Msg(msg);
                }
                Some(Item::Next(next)) => self.ring = next,
                Some(Item::Properties(p)) => self.properties = Some(p),
                Some(Item::End) => {
                    self.closed = true;
                    // A conflated message written just before the end.
                    return self.read_conflated().map_or(Read::Closed, Read::Msg);
                }
                None if self.closed => return Read::Closed,
                None => return Read::Empty,
            }
        }
    }

    /// Whether a frame (or the end) can be read now; if not, the reader is
    /// marked asleep as by an empty [`read`](Self::read).
    pub(crate) fn check_read(&mut self) -> bool {
        if self.conflate.as_mut().is_some_and(|c| c.check()) {
            return true;
        }
        loop {
            match self.ring.peek() {
                Some(Item::Next(_) | Item::Properties(_)) => self.take_marker(),
                Some(_) => return true,
                None => return self.closed,
            }
        }
    }

    /// Takes the link to a bigger ring or the properties at the head.
    fn take_marker(&mut self) {
        match self.ring.read() {
            Some(Item::Next(next)) => self.ring = next,
            Some(Item::Properties(p)) => self.properties = Some(p),
            _ => unreachable!("the head was peeked as a marker"),
        }
    }

    /// Whether the writer's end is the next thing to read.
    pub(crate) fn at_end(&mut self) -> bool {
        if self.conflate.as_mut().is_some_and(|c| c.check()) {
            return false;
        }
        loop {
            match self.ring.peek() {
                Some(Item::Next(_) | Item::Properties(_)) => self.take_marker(),
                Some(Item::End) => return true,
                _ => return self.closed,
            }
        }
    }

    #[cold]
    fn read_conflated(&mut self) -> Option<Msg> {
        self.conflate.as_mut()?.next()
    }

    #[inline]
    fn message_consumed(&mut self) {
        self.msgs_read += 1;
        if self.lwm == 0 {
            return;
        }
        self.until_report -= 1;
        if self.until_report == 0 {
            self.until_report = self.lwm;
            self.report_progress();
        }
    }

    #[cold]
    fn report_progress(&mut self) {
        // ORDERING: SeqCst store then SeqCst load; see `PipeTx::check_write`.
        self.shared
            .msgs_read
            .store(self.msgs_read, Ordering::SeqCst);
        if self.shared.writer_waiting.load(Ordering::SeqCst)
            // ORDERING: the swap elects one activation per wait; Relaxed is
            // enough since the activation travels through the owner's
            // mailbox, which synchronises.
            && self.shared.writer_waiting.swap(false, Ordering::Relaxed)
        {
            self.writer
                .pipe_event(self.shared.id, PipeEvent::WriteActivated);
        }
    }

    /// The writer's high-water mark in force (0: none).
    pub(crate) fn hwm(&self) -> u64 {
        // ORDERING: a value we or the mailbox-synchronised setup stored.
        self.shared.hwm.load(Ordering::Relaxed)
    }

    /// Whether the pipe conflates (its mark is not a queue length).
    pub(crate) fn conflates(&self) -> bool {
        self.conflate.is_some()
    }

    /// Changes the writer's high-water mark (0: none) while the writer may
    /// be at work: an inproc connection made before the bind learns the
    /// binder's mark, or RCVHWM is set after the peer attached. A writer
    /// waiting at the old mark is activated; a lowered mark takes effect
    /// for the writer once it reaches the old one (it caches the mark).
    pub(crate) fn raise_hwm(&mut self, hwm: u64) {
        // ORDERING: SeqCst store then SeqCst load; see `PipeTx::check_write`.
        self.shared.hwm.store(hwm, Ordering::SeqCst);
        self.lwm = low_water_mark(hwm);
        self.until_report = self.until_report.min(self.lwm).max(1);
        if self.shared.writer_waiting.load(Ordering::SeqCst)
            // ORDERING: as in `report_progress`.
            && self.shared.writer_waiting.swap(false, Ordering::Relaxed)
        {
            self.writer
                .pipe_event(self.shared.id, PipeEvent::WriteActivated);
        }
    }

    /// Closes the reading end: the writer is told, and what is still queued
    /// is dropped with the pipe.
    pub(crate) fn close(&mut self) {
        // ORDERING: a hint for the writer (see `PipeTx::reader_closed`); the
        // notification below is what it acts on.
        if !self.shared.reader_closed.swap(true, Ordering::Relaxed) && !self.closed {
            self.writer
                .pipe_event(self.shared.id, PipeEvent::ReaderClosed);
        }
    }
}

impl Drop for PipeRx {
    fn drop(&mut self) {
        self.close();
    }
}

impl std::fmt::Debug for PipeRx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipeRx")
            .field("id", &self.shared.id)
            .field("msgs_read", &self.msgs_read)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Log(Mutex<Vec<(PipeId, PipeEvent)>>);

    impl Notify for Log {
        fn pipe_event(&self, id: PipeId, event: PipeEvent) {
            self.0.lock().unwrap().push((id, event));
        }
    }

    impl Log {
        fn take(&self) -> Vec<(PipeId, PipeEvent)> {
            std::mem::take(&mut self.0.lock().unwrap())
        }
    }

    fn setup(hwm: u64) -> (PipeTx, PipeRx, Arc<Log>, Arc<Log>) {
        let w = Arc::new(Log::default());
        let r = Arc::new(Log::default());
        let (tx, rx) = pipe(PipeId(7), hwm, false, w.clone(), r.clone());
        (tx, rx, w, r)
    }

    fn msg(n: u32) -> Msg {
        Msg::copy_from_slice(&n.to_le_bytes())
    }

    #[test]
    fn hwm_counts_whole_messages() {
        let (mut tx, mut rx, wlog, _) = setup(4);
        for i in 0..4 {
            assert!(tx.check_write());
            tx.push(msg(i).with_more(true));
            tx.push(msg(i).with_more(true));
            tx.push(msg(i));
        }
        assert!(
            !tx.check_write(),
            "4 three-frame messages reach a mark of 4"
        );
        tx.flush();
        // The low-water mark of 4 is 2: two messages read report progress.
        for _ in 0..6 {
            assert!(matches!(rx.read(), Read::Msg(_)));
        }
        assert_eq!(wlog.take(), [(PipeId(7), PipeEvent::WriteActivated)]);
        assert!(tx.check_write());
    }

    #[test]
    fn a_raised_hwm_activates_the_waiting_writer() {
        let (mut tx, mut rx, wlog, _) = setup(1);
        assert!(tx.check_write());
        tx.push(msg(1));
        assert!(!tx.check_write(), "at the mark of 1");
        rx.raise_hwm(2);
        assert_eq!(wlog.take(), [(PipeId(7), PipeEvent::WriteActivated)]);
        assert!(tx.check_write());
        tx.push(msg(2));
        assert!(!tx.check_write(), "at the mark of 2");
        rx.raise_hwm(0);
        assert!(tx.check_write(), "no mark any more");
    }

    #[test]
    fn a_conflating_pipe_keeps_the_latest_and_then_the_end() {
        let w = Arc::new(Log::default());
        let r = Arc::new(Log::default());
        let (mut tx, mut rx) = pipe(PipeId(9), 1, true, w, r.clone());
        assert_eq!(rx.read(), Read::Empty);
        for i in 0..10 {
            assert!(tx.check_write(), "CONFLATE ignores the mark");
            tx.write(msg(i)).unwrap();
            tx.flush();
        }
        assert_eq!(
            r.take(),
            [(PipeId(9), PipeEvent::ReadActivated)],
            "woken once"
        );
        assert!(rx.check_read());
        assert!(!rx.at_end());
        assert_eq!(rx.read(), Read::Msg(msg(9)));
        assert_eq!(rx.read(), Read::Empty);
        tx.push(msg(10));
        drop(tx);
        assert!(!rx.at_end(), "the last message comes before the end");
        assert_eq!(rx.read(), Read::Msg(msg(10)));
        assert_eq!(rx.read(), Read::Closed);
    }

    #[test]
    fn flush_to_a_sleeping_reader_activates_it() {
        let (mut tx, mut rx, _, rlog) = setup(0);
        assert_eq!(rx.read(), Read::Empty);
        tx.push(msg(1));
        tx.flush();
        assert_eq!(rlog.take(), [(PipeId(7), PipeEvent::ReadActivated)]);
        assert_eq!(rx.read(), Read::Msg(msg(1)));
        tx.push(msg(2));
        tx.flush();
        assert!(rlog.take().is_empty(), "the reader is awake");
    }

    #[test]
    fn grows_without_splitting_a_multipart_message() {
        let (mut tx, mut rx, _, _) = setup(0);
        let frames = INITIAL_CAPACITY as u32 * 5;
        // One message larger than the first ring, plus single frames around.
        tx.push(msg(0));
        for i in 0..frames {
            tx.push(msg(i).with_more(i + 1 < frames));
            if i == INITIAL_CAPACITY as u32 {
                tx.flush();
                // Only the first, complete message is visible mid-way.
                assert_eq!(rx.read(), Read::Msg(msg(0)));
                assert_eq!(rx.read(), Read::Empty);
            }
        }
        tx.flush();
        for i in 0..frames {
            assert_eq!(rx.read(), Read::Msg(msg(i).with_more(i + 1 < frames)));
        }
        assert_eq!(rx.read(), Read::Empty);
    }

    #[test]
    fn rings_grow_to_what_a_full_mark_needs() {
        // Far below the mark (or without one): doubling.
        assert_eq!(grown_capacity(256, 0), 512);
        assert_eq!(grown_capacity(256, 2000), 512);
        // Reaching the mark: room for it plus the reader's hand-back lag.
        assert_eq!(grown_capacity(1024, 2000), 4096);
        assert_eq!(grown_capacity(512, 1000), 2048);
        assert_eq!(grown_capacity(4096, 2000), 8192);
        // Filled to a mark of 2000 single-frame messages with nothing read,
        // then drained and refilled: the ring grows only while first filling.
        let (mut tx, mut rx, _, _) = setup(2000);
        for round in 0..3 {
            let mut n = 0;
            while tx.check_write() {
                tx.push(msg(n));
                n += 1;
            }
            tx.flush();
            assert_eq!(n, 2000, "round {round}");
            if round == 0 {
                assert_eq!(tx.ring.capacity(), 4096);
            }
            for i in 0..n {
                assert_eq!(rx.read(), Read::Msg(msg(i)));
            }
        }
        assert_eq!(tx.ring.capacity(), 4096, "no growth after the first fill");
    }

    #[test]
    fn rollback_drops_the_incomplete_message() {
        let (mut tx, mut rx, _, _) = setup(0);
        tx.push(msg(1));
        tx.push(msg(2).with_more(true));
        tx.rollback();
        tx.flush();
        assert_eq!(rx.read(), Read::Msg(msg(1)));
        assert_eq!(rx.read(), Read::Empty);
    }

    #[test]
    fn close_is_seen_after_the_queued_messages() {
        let (mut tx, mut rx, wlog, _) = setup(0);
        tx.push(msg(1));
        drop(tx);
        assert!(rx.check_read());
        assert_eq!(rx.read(), Read::Msg(msg(1)));
        assert_eq!(rx.read(), Read::Closed);
        assert_eq!(rx.read(), Read::Closed);
        drop(rx);
        assert!(wlog.take().is_empty(), "the writer is gone already");
    }

    #[test]
    fn reader_close_tells_the_writer() {
        let (tx, rx, wlog, _) = setup(0);
        drop(rx);
        assert_eq!(wlog.take(), [(PipeId(7), PipeEvent::ReaderClosed)]);
        assert!(tx.reader_closed());
    }

    #[test]
    fn two_threads_with_hwm_and_wakeups() {
        use crate::sys::Signaler;
        struct Wake(Signaler);
        impl Notify for Wake {
            fn pipe_event(&self, _: PipeId, _: PipeEvent) {
                self.0.signal();
            }
        }
        let wwake = Arc::new(Wake(Signaler::new().unwrap()));
        let rwake = Arc::new(Wake(Signaler::new().unwrap()));
        let (mut tx, mut rx) = pipe(PipeId(1), 100, false, wwake.clone(), rwake.clone());
        const N: u32 = 200_000;
        let writer = std::thread::spawn(move || {
            for i in 0..N {
                while !tx.check_write() {
                    tx.flush();
                    wwake.0.wait(None).unwrap();
                    wwake.0.reset();
                }
                tx.push(msg(i).with_more(true));
                tx.push(msg(i));
                if i % 7 == 0 {
                    tx.flush();
                }
            }
            tx.flush();
        });
        let mut next = 0;
        loop {
            match rx.read() {
                Read::Msg(m) => {
                    assert_eq!(m, msg(next).with_more(true));
                    assert_eq!(rx.read(), Read::Msg(msg(next)), "multipart is atomic");
                    next += 1;
                }
                Read::Empty => {
                    rwake.0.wait(None).unwrap();
                    rwake.0.reset();
                    // As a socket does on taking the activation: the
                    // next sleep may be reported again.
                    rx.activated();
                }
                Read::Closed => break,
            }
        }
        writer.join().unwrap();
        assert_eq!(next, N);
    }
}
