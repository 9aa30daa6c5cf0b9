//! The *ypipe*: a bounded, lock-free single-producer / single-consumer queue
//! with libzmq's write / flush / sleep protocol.
//!
//! Every peer of a socket, whatever its transport, is a pair of these pipes
//! (one per direction) plus a wake-up. The pipe owns no wake-up mechanism: it
//! only *tells* the writer when the reader has gone to sleep, and the caller
//! then signals it (an eventfd in the std backend, an interrupt flag on a
//! microcontroller).
//!
//! # Protocol
//!
//! ```text
//!   writer                                    reader
//!   ------                                    ------
//!   write(a, more=true)   pending, invisible
//!   write(b, more=false)  pending, complete
//!   flush() ──── one atomic swap ───────────▶ read() → a, read() → b
//!        ◀── "reader was asleep" ───────────  read() → None: one CAS marks
//!   caller wakes the reader                   the reader asleep
//! ```
//!
//! - [`Writer::write`] makes an item pending. Items written with
//!   `more = true` are *incomplete*: [`Writer::flush`] never publishes them
//!   until a later item completes the message, so a multipart message
//!   becomes visible all at once.
//! - [`Writer::flush`] publishes every complete pending item with a single
//!   atomic swap and returns `true` when the reader had marked itself asleep;
//!   only then does the caller need to wake it.
//! - [`Reader::read`] hands out published items. While items it already knows
//!   about remain, a read is a slot copy and no atomic operation at all:
//!   consumed slots are handed back to the writer with one release store per
//!   eighth of the capacity (and whenever the reader runs dry). When it runs
//!   out it loads the published index once; only if nothing new arrived does
//!   it mark itself asleep with one compare-and-swap on the same word the
//!   writer swaps, so the two operations are totally ordered and a wake-up
//!   cannot be lost: either the writer's swap sees the asleep mark, or the
//!   reader's CAS fails and sees the new items. [`Reader::try_read`] is the
//!   same without going to sleep, for a reader that polls.
//! - [`Writer::unwrite`] takes back incomplete items, as libzmq does when a
//!   multipart send is rolled back.
//!
//! # Layout
//!
//! The published word (written by the writer) and the consumed index
//! (written by the reader) sit on separate cache lines; each side keeps its
//! own state and a cached copy of the other side's index in its handle, and
//! reloads the shared atomic only when the cache says empty or full.
//!
//! Indices run modulo 2<sup>`usize::BITS` - 1</sup> so that the published
//! word can carry the reader's asleep mark in its low bit:
//!
//! ```text
//!   published word:  [ tail index (usize::BITS - 1 bits) | asleep (1 bit) ]
//! ```
//!
//! # Storage
//!
//! [`YPipe`] keeps its slots inline (capacity a power-of-two const generic),
//! so it can live in a `static`:
//!
//! ```
//! use zlink_mq_core::pipe::YPipe;
//!
//! static PIPE: YPipe<u32, 8> = YPipe::new();
//!
//! let (mut tx, mut rx) = YPipe::split(&PIPE).expect("split once");
//! tx.write(1, true).unwrap(); // first frame of a two-frame message
//! assert!(!tx.flush());       // nothing complete yet: nothing published
//! assert_eq!(rx.read(), None); // reader finds it empty and goes to sleep
//! tx.write(2, false).unwrap(); // last frame
//! assert!(tx.flush());        // published, and the reader was asleep: wake it
//! assert_eq!(rx.read(), Some(1));
//! assert_eq!(rx.read(), Some(2));
//! ```
//!
//! Other owners of storage (a heap buffer sized at run time) implement the
//! [`Storage`] trait; other owners of the pipe (an `Arc`) implement
//! [`PipeRef`].
#![allow(unsafe_code)]

mod sync;

use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ops::Deref;

use sync::{AtomicBool, AtomicUsize, Ordering, UnsafeCell};

/// Indices wrap at 2^(BITS-1): the published word keeps them shifted left by
/// one with the asleep mark in bit 0.
const INDEX_MASK: usize = usize::MAX >> 1;
/// Low bit of the published word: the reader found the pipe empty and went
/// to sleep; the next flush must wake it.
const ASLEEP: usize = 1;
/// The reader releases consumed slots to the writer each time it has read
/// this fraction of the capacity (and whenever it finds the pipe empty), so
/// that a writer waiting on a full pipe sees room in batches instead of
/// pulling the reader's cache line back for every item.
const RELEASE_FRACTION: usize = 8;
/// Largest supported capacity: one quarter of the index space, so that
/// distances between indices are never ambiguous.
pub const MAX_CAPACITY: usize = 1 << (usize::BITS - 2);

#[inline]
const fn next(index: usize) -> usize {
    index.wrapping_add(1) & INDEX_MASK
}

#[inline]
const fn distance(from: usize, to: usize) -> usize {
    to.wrapping_sub(from) & INDEX_MASK
}

/// One slot of a pipe's storage: possibly-uninitialised room for one item.
///
/// Which slots hold a value is tracked by the pipe's indices, never by the
/// slot itself.
pub struct Slot<T> {
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T> Slot<T> {
    /// An empty slot.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// An empty slot.
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// # Safety
    /// The caller is the only one touching this slot and it holds no value.
    unsafe fn put(&self, item: T) {
        // SAFETY: exclusive access is the caller's contract.
        self.value.with_mut(|p| unsafe { (*p).write(item) });
    }

    /// # Safety
    /// The caller is the only one touching this slot and it holds a value,
    /// which the caller now owns (the slot is empty afterwards).
    unsafe fn take(&self) -> T {
        // SAFETY: exclusive access and initialisation are the caller's contract.
        self.value.with(|p| unsafe { (*p).assume_init_read() })
    }

    /// # Safety
    /// The slot holds a value that nobody writes or takes while the returned
    /// reference lives.
    unsafe fn get(&self) -> &T {
        // SAFETY: initialised and not mutated for the reference's lifetime,
        // per the caller's contract.
        self.value.with(|p| unsafe { (*p).assume_init_ref() })
    }
}

// SAFETY: a slot's value is reachable only through the pipe's unsafe,
// crate-private accessors, which the index protocol confines to one thread at
// a time; sharing a slot therefore only moves `T`s between threads.
unsafe impl<T: Send> Sync for Slot<T> {}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> core::fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Slot")
    }
}

/// Room for a pipe's items.
///
/// # Safety
/// [`slots`](Storage::slots) must return the same slice (same address, same
/// length) on every call for as long as the storage lives, and its length
/// must be a power of two between 1 and [`MAX_CAPACITY`].
pub unsafe trait Storage<T> {
    /// The slots; their number is the pipe's capacity.
    fn slots(&self) -> &[Slot<T>];
}

// SAFETY: an array is the same slice on every call; the power-of-two length
// is checked at compile time in `YPipe::new`.
unsafe impl<T, const N: usize> Storage<T> for [Slot<T>; N] {
    #[inline]
    fn slots(&self) -> &[Slot<T>] {
        self
    }
}

/// A value aligned to (and padded to) a cache line, so that the writer's and
/// the reader's shared words never share a line.
#[cfg_attr(
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "powerpc64"
    ),
    repr(align(128))
)]
#[cfg_attr(
    any(target_arch = "arm", target_arch = "riscv32", target_arch = "mips"),
    repr(align(32))
)]
#[cfg_attr(
    not(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "powerpc64",
        target_arch = "arm",
        target_arch = "riscv32",
        target_arch = "mips"
    )),
    repr(align(64))
)]
#[derive(Debug)]
struct CachePadded<T>(T);

impl<T> Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A single-producer / single-consumer pipe over storage `S`.
///
/// Split it once with [`Pipe::split`] into a [`Writer`] and a [`Reader`],
/// which may live on different threads. Items still in the pipe when it is
/// dropped are dropped with it.
pub struct Pipe<T, S: Storage<T>> {
    /// Published tail index and the reader's asleep mark. Written by the
    /// writer (swap on flush) and by the reader (CAS when it goes to sleep).
    published: CachePadded<AtomicUsize>,
    /// The reader's index as last released to the writer: every slot before
    /// it is free. Written by the reader, in batches; read by the writer when
    /// its cached copy says the pipe is full.
    head: CachePadded<AtomicUsize>,
    /// The reader's exact index (slots before it have been moved out). Only
    /// the reader touches it, and the pipe's drop: kept here rather than in
    /// the handle so that a leaked reader cannot make the drop free an item
    /// twice.
    consumed: CachePadded<UnsafeCell<usize>>,
    /// Set by the first `split`; the pipe is never split twice, so there is
    /// at most one writer and one reader.
    split: AtomicBool,
    slots: S,
    _items: PhantomData<T>,
}

// SAFETY: the pipe moves `T`s between threads (so `T: Send`) and never hands
// out shared references to the same item on two threads except through
// `Reader::peek`, which the single reader owns; slot access is serialised by
// the index protocol documented on the module.
unsafe impl<T: Send, S: Storage<T> + Send> Send for Pipe<T, S> {}
// SAFETY: as above; all shared mutation goes through atomics or through
// slots owned exclusively by one side at a time.
unsafe impl<T: Send, S: Storage<T> + Sync> Sync for Pipe<T, S> {}

/// A pipe with `N` inline slots; `N` must be a power of two.
pub type YPipe<T, const N: usize> = Pipe<T, [Slot<T>; N]>;

impl<T, const N: usize> Pipe<T, [Slot<T>; N]> {
    const CAPACITY_OK: () = assert!(
        N.is_power_of_two() && N <= MAX_CAPACITY,
        "pipe capacity must be a power of two"
    );

    /// An empty pipe with `N` inline slots; usable in a `static`.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::CAPACITY_OK;
        Self::from_storage_unchecked([const { Slot::new() }; N])
    }

    /// An empty pipe with `N` inline slots.
    #[cfg(loom)]
    pub fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::CAPACITY_OK;
        Self::from_storage_unchecked(core::array::from_fn(|_| Slot::new()))
    }
}

impl<T, const N: usize> Default for Pipe<T, [Slot<T>; N]> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, S: Storage<T>> Pipe<T, S> {
    #[cfg(not(loom))]
    const fn from_storage_unchecked(slots: S) -> Self {
        Self {
            published: CachePadded(AtomicUsize::new(0)),
            head: CachePadded(AtomicUsize::new(0)),
            consumed: CachePadded(UnsafeCell::new(0)),
            split: AtomicBool::new(false),
            slots,
            _items: PhantomData,
        }
    }

    #[cfg(loom)]
    fn from_storage_unchecked(slots: S) -> Self {
        Self {
            published: CachePadded(AtomicUsize::new(0)),
            head: CachePadded(AtomicUsize::new(0)),
            consumed: CachePadded(UnsafeCell::new(0)),
            split: AtomicBool::new(false),
            slots,
            _items: PhantomData,
        }
    }

    /// An empty pipe over caller-supplied storage.
    ///
    /// # Panics
    /// If the storage's length is not a power of two in
    /// `1..=`[`MAX_CAPACITY`] (a programming error, checked once here).
    pub fn with_storage(slots: S) -> Self {
        let n = slots.slots().len();
        assert!(
            n.is_power_of_two() && n <= MAX_CAPACITY,
            "pipe capacity must be a power of two"
        );
        Self::from_storage_unchecked(slots)
    }

    /// Number of items the pipe holds when full.
    pub fn capacity(&self) -> usize {
        self.slots.slots().len()
    }

    /// Splits the pipe into its writer and reader halves, each holding a
    /// clone of `this`. Returns `None` if the pipe was already split: a pipe
    /// has exactly one writer and one reader for its whole life.
    pub fn split<P>(this: P) -> Option<(Writer<P>, Reader<P>)>
    where
        P: PipeRef<Item = T, Storage = S>,
    {
        let pipe = this.pipe();
        // ORDERING: the flag only guards against a second split; it
        // publishes no data (the indices are still zero), so Relaxed is
        // enough for the RMW's atomicity to elect a single winner.
        if pipe.split.swap(true, Ordering::Relaxed) {
            return None;
        }
        let mask = pipe.capacity() - 1;
        let writer = Writer {
            pipe: this.clone(),
            mask,
            pending: 0,
            complete: 0,
            published: 0,
            cached_head: 0,
        };
        let reader = Reader {
            pipe: this,
            mask,
            release_every: (mask + 1).div_ceil(RELEASE_FRACTION),
            head: 0,
            released: 0,
            cached_tail: 0,
        };
        Some((writer, reader))
    }

    #[inline]
    fn slot(&self, index: usize, mask: usize) -> &Slot<T> {
        // Indexing cannot fail (mask < len) and the bounds check is cheap
        // next to the cache miss that usually precedes it.
        &self.slots.slots()[index & mask]
    }
}

impl<T, S: Storage<T>> Drop for Pipe<T, S> {
    fn drop(&mut self) {
        // No handle is alive (they borrow or own a reference to the pipe), so
        // the indices are final: [consumed, published tail) holds items.
        // Unflushed items were dropped by the writer handle (or leaked with
        // it, which is safe).
        let mut head = self.consumed.with(|p| {
            // SAFETY: `&mut self`: nobody else accesses the cell.
            unsafe { *p }
        });
        // ORDERING: `&mut self` means every other access happened-before
        // this drop (the handles' destruction synchronised with it), so a
        // Relaxed load sees the final value.
        let tail = self.published.load(Ordering::Relaxed) >> 1;
        let mask = self.capacity() - 1;
        while head != tail {
            // SAFETY: slots between the consumed head and the published tail
            // hold values that nobody else can reach any more.
            drop(unsafe { self.slot(head, mask).take() });
            head = next(head);
        }
    }
}

impl<T, S: Storage<T>> core::fmt::Debug for Pipe<T, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pipe")
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

/// A handle to a [`Pipe`] that the writer and reader halves hold.
///
/// Implemented for `&Pipe`; a std backend implements it for its own shared
/// pointer type (an `Arc` newtype).
///
/// # Safety
/// [`pipe`](PipeRef::pipe) must return the same pipe on every call, on
/// every clone, for as long as any clone lives.
pub unsafe trait PipeRef: Clone {
    /// The type of the items.
    type Item;
    /// The pipe's storage.
    type Storage: Storage<Self::Item>;
    /// The pipe this handle points to.
    fn pipe(&self) -> &Pipe<Self::Item, Self::Storage>;
}

// SAFETY: a shared reference always points to the same pipe, which outlives it.
unsafe impl<T, S: Storage<T>> PipeRef for &Pipe<T, S> {
    type Item = T;
    type Storage = S;
    #[inline]
    fn pipe(&self) -> &Pipe<T, S> {
        self
    }
}

/// The writing half of a pipe.
pub struct Writer<P: PipeRef> {
    pipe: P,
    mask: usize,
    /// Index of the next slot to write.
    pending: usize,
    /// Index just past the last complete item: what `flush` may publish.
    complete: usize,
    /// What the last flush published.
    published: usize,
    /// The reader's head as last seen; reloaded only when the pipe looks full.
    cached_head: usize,
}

impl<P: PipeRef> Writer<P> {
    /// Makes `item` pending at the end of the pipe. With `more = true` the
    /// item is incomplete: it stays invisible to the reader, even across
    /// flushes, until an item written with `more = false` completes it.
    ///
    /// Returns the item back if the pipe is full.
    #[inline]
    pub fn write(&mut self, item: P::Item, more: bool) -> Result<(), P::Item> {
        if distance(self.cached_head, self.pending) > self.mask {
            // ORDERING: Acquire pairs with the reader's Release store of
            // `head` after it moved the item out of a slot, so our next write
            // into that slot happens after the reader's read of it.
            self.cached_head = self.pipe.pipe().head.load(Ordering::Acquire);
            if distance(self.cached_head, self.pending) > self.mask {
                return Err(item);
            }
        }
        let pipe = self.pipe.pipe();
        // SAFETY: `pending` lies outside [head, published): the reader does
        // not touch it, and the slot is empty (full check above).
        unsafe { pipe.slot(self.pending, self.mask).put(item) };
        self.pending = next(self.pending);
        if !more {
            self.complete = self.pending;
        }
        Ok(())
    }

    /// Takes back the last item written, if it is incomplete (written with
    /// `more = true` and not yet completed). Used to roll back a multipart
    /// message that cannot be finished.
    pub fn unwrite(&mut self) -> Option<P::Item> {
        if self.pending == self.complete {
            return None;
        }
        self.pending = self.pending.wrapping_sub(1) & INDEX_MASK;
        // SAFETY: incomplete items were never published, so the reader has
        // never seen this slot; it holds the value written last.
        Some(unsafe { self.pipe.pipe().slot(self.pending, self.mask).take() })
    }

    /// Publishes every complete pending item with one atomic operation.
    ///
    /// Returns `true` if the reader had found the pipe empty and gone to
    /// sleep: the caller must then wake it. Returns `false` if it is awake
    /// (it will find the items without help) or there was nothing to publish.
    #[inline]
    #[must_use = "when flush returns true the reader is asleep and must be woken"]
    pub fn flush(&mut self) -> bool {
        if self.complete == self.published {
            return false;
        }
        self.published = self.complete;
        // ORDERING: Release publishes the slot writes above to the reader's
        // Acquire load/CAS of this word. The swap is a read-modify-write on
        // the same word as the reader's "asleep" CAS, so the two are totally
        // ordered: if the reader's CAS came first we see ASLEEP here; if ours
        // came first the reader's CAS fails and it sees the new tail.
        // Acquire pairs with that CAS's Release: whatever the reader did
        // before it went to sleep (such as saying where it wants to be
        // woken) is visible to us, who will wake it.
        let previous = self
            .pipe
            .pipe()
            .published
            .swap(self.complete << 1, Ordering::AcqRel);
        previous & ASLEEP != 0
    }

    /// Number of items the pipe can hold.
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// Whether a `write` would fail now. Refreshes the cached reader index
    /// when the cache says full.
    pub fn is_full(&mut self) -> bool {
        !self.reserve(1)
    }

    /// Whether `n` more items can be written now. Refreshes the cached
    /// reader index when the cache says they cannot. The reader releases
    /// slots in batches, so this may say no while up to an eighth of the
    /// capacity has been read but not yet released.
    pub fn reserve(&mut self, n: usize) -> bool {
        let cap = self.mask + 1;
        if cap - distance(self.cached_head, self.pending) < n {
            // ORDERING: as in `write`.
            self.cached_head = self.pipe.pipe().head.load(Ordering::Acquire);
        }
        cap - distance(self.cached_head, self.pending) >= n
    }

    /// Number of items written but not yet published by a flush (complete
    /// or not).
    pub fn unflushed(&self) -> usize {
        distance(self.published, self.pending)
    }
}

impl<P: PipeRef> Drop for Writer<P> {
    fn drop(&mut self) {
        // Unflushed items are invisible to the reader and to the pipe's own
        // drop: they are ours to drop.
        while self.unwrite_any().is_some() {}
    }
}

impl<P: PipeRef> Writer<P> {
    fn unwrite_any(&mut self) -> Option<P::Item> {
        if self.pending == self.published {
            return None;
        }
        self.pending = self.pending.wrapping_sub(1) & INDEX_MASK;
        // SAFETY: unflushed slots were never published; only we see them.
        Some(unsafe { self.pipe.pipe().slot(self.pending, self.mask).take() })
    }
}

impl<P: PipeRef> core::fmt::Debug for Writer<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Writer")
            .field("capacity", &self.capacity())
            .field("unflushed", &self.unflushed())
            .finish_non_exhaustive()
    }
}

/// The reading half of a pipe.
pub struct Reader<P: PipeRef> {
    pipe: P,
    mask: usize,
    /// Release consumed slots to the writer every this many reads.
    release_every: usize,
    /// Index of the next item to read (mirrored into the pipe's `consumed`).
    head: usize,
    /// What was last stored into the pipe's `head` for the writer.
    released: usize,
    /// The published tail as last seen.
    cached_tail: usize,
}

impl<P: PipeRef> Reader<P> {
    /// Whether an item can be read. If none can, the reader is marked asleep
    /// and the writer's next successful [`Writer::flush`] returns `true`.
    #[inline]
    pub fn check_read(&mut self) -> bool {
        self.head != self.cached_tail || self.refill(true)
    }

    /// Slow path of the reads: release consumed slots, look for newly
    /// published items and, if there are none and `sleep` is set, go to
    /// sleep.
    #[cold]
    fn refill(&mut self, sleep: bool) -> bool {
        // Out of items: hand every consumed slot back before (possibly)
        // sleeping, so a writer waiting on a full pipe is never left behind.
        self.release();
        let published = &self.pipe.pipe().published;
        // ORDERING: Acquire pairs with the writer's Release swap, making the
        // slot writes of every published item visible before we read them.
        let word = published.load(Ordering::Acquire);
        if word >> 1 != self.cached_tail {
            self.cached_tail = word >> 1;
            return true;
        }
        if !sleep || word & ASLEEP != 0 {
            // Not asked to sleep, or already asleep (an earlier empty read).
            return false;
        }
        let expected = self.cached_tail << 1;
        // ORDERING: the CAS and the writer's swap are RMWs on one word, so
        // one of them sees the other (see `Writer::flush`). On failure the
        // word holds a newer tail: Acquire, as for the load above, makes its
        // items visible. On success, Release hands what we did before
        // sleeping to the writer's AcqRel swap that will wake us.
        match published.compare_exchange(
            expected,
            expected | ASLEEP,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => false,
            Err(word) => {
                self.cached_tail = word >> 1;
                self.head != self.cached_tail
            }
        }
    }

    /// Tells the writer that every slot before `head` is free.
    #[inline]
    fn release(&mut self) {
        if self.released != self.head {
            self.released = self.head;
            // ORDERING: Release pairs with the writer's Acquire load of
            // `head`: our moves out of these slots happen before its next
            // writes into them.
            self.pipe.pipe().head.store(self.head, Ordering::Release);
        }
    }

    /// Moves the item at `head` out (there must be one) and advances.
    #[inline]
    fn take(&mut self) -> P::Item {
        let pipe = self.pipe.pipe();
        // SAFETY: head < published tail: the slot holds a published item
        // that the writer will not touch until we release it.
        let item = unsafe { pipe.slot(self.head, self.mask).take() };
        self.head = next(self.head);
        let head = self.head;
        // SAFETY: only the reader touches `consumed` while the pipe lives.
        pipe.consumed.with_mut(|p| unsafe { *p = head });
        if distance(self.released, self.head) >= self.release_every {
            self.release();
        }
        item
    }

    /// Takes the next published item, or returns `None` and marks the reader
    /// asleep if there is none: the writer's next flush then reports it, so
    /// the reader can wait for a wake-up.
    #[inline]
    pub fn read(&mut self) -> Option<P::Item> {
        if !self.check_read() {
            return None;
        }
        Some(self.take())
    }

    /// Takes the next published item, or returns `None` *without* marking
    /// the reader asleep. For a reader that polls (spins a little before it
    /// sleeps, or is driven by something else); costs loads only.
    #[inline]
    pub fn try_read(&mut self) -> Option<P::Item> {
        if self.head == self.cached_tail && !self.refill(false) {
            return None;
        }
        Some(self.take())
    }

    /// A reference to the next published item without taking it, or `None`
    /// (marking the reader asleep) if there is none.
    pub fn peek(&mut self) -> Option<&P::Item> {
        if !self.check_read() {
            return None;
        }
        // SAFETY: as in `read`; the item stays in place and nobody writes or
        // takes it while `&mut self` is borrowed by the returned reference.
        Some(unsafe { self.pipe.pipe().slot(self.head, self.mask).get() })
    }

    /// Number of items the pipe can hold.
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }
}

impl<P: PipeRef> core::fmt::Debug for Reader<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reader")
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests;
