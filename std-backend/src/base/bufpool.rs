//! Recycled payload buffers for large messages.
//!
//! A large message's buffer is allocated by the sending thread and freed by
//! the receiving one. glibc gives such a chunk back to the sender's arena,
//! where a free next to the top of the heap can shrink the heap, and the
//! sender's next allocation then faults the pages in again (with TLB
//! shoot-downs in a multi-threaded process). At 64 KiB over inproc that
//! decided throughput: the same run swung by 3 to 4 times with the heap's
//! state, for libzmq as for us (docs/BENCHMARKS.md). Buffers from
//! [`MIN_LEN`] to [`MAX_LEN`] bytes are therefore returned to a small
//! process-wide pool when their message is dropped, and the next large
//! message is copied into warm, mapped memory.
//!
//! The pool is bounded: per power-of-two size class it keeps at most
//! [`CLASS_BYTES`] bytes of idle buffers; the rest go back to the allocator.

use std::sync::Mutex;

use bytes::Bytes;

/// Smaller payloads are cheap for the allocator (thread caches, bins).
pub(crate) const MIN_LEN: usize = 1 << MIN_SHIFT;
/// Larger payloads are rare enough not to keep idle.
pub(crate) const MAX_LEN: usize = 1 << MAX_SHIFT;
/// Idle bytes kept per size class.
pub(crate) const CLASS_BYTES: usize = 4 << 20;

const MIN_SHIFT: u32 = 14;
const MAX_SHIFT: u32 = 20;
const CLASSES: usize = (MAX_SHIFT - MIN_SHIFT + 1) as usize;

static POOL: [Mutex<Vec<Vec<u8>>>; CLASSES] = [const { Mutex::new(Vec::new()) }; CLASSES];

/// The size class of a payload of `len` bytes, if pooled.
fn class(len: usize) -> Option<usize> {
    if !(MIN_LEN..=MAX_LEN).contains(&len) {
        return None;
    }
    Some((len.next_power_of_two().trailing_zeros() - MIN_SHIFT) as usize)
}

fn capacity(class: usize) -> usize {
    1 << (class as u32 + MIN_SHIFT)
}

/// A copy of `data` in a pooled buffer, or `None` if its length is not
/// pooled.
pub(crate) fn copy(data: &[u8]) -> Option<Bytes> {
    let mut buf = buffer(data.len())?;
    buf.extend_from_slice(data);
    Some(Bytes::from_owner(Pooled(buf)))
}

/// An empty buffer for a payload of `len` bytes, from the pool (with its
/// class's capacity) when `len` is pooled. Fill it, then [`freeze`] it.
pub(crate) fn buffer(len: usize) -> Option<Vec<u8>> {
    let class = class(len)?;
    let reused = POOL[class].lock().unwrap_or_else(|e| e.into_inner()).pop();
    Some(reused.unwrap_or_else(|| Vec::with_capacity(capacity(class))))
}

/// A payload over `buf`, which returns to the pool when the last message
/// referring to it is dropped if it came from [`buffer`] (any other
/// vector is simply freed then).
pub(crate) fn freeze(buf: Vec<u8>) -> Bytes {
    if class(buf.capacity()).is_some_and(|c| capacity(c) == buf.capacity()) {
        Bytes::from_owner(Pooled(buf))
    } else {
        Bytes::from(buf)
    }
}

/// A pooled buffer: goes back to its class's pool when the last message
/// referring to it is dropped.
struct Pooled(Vec<u8>);

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let mut buf = std::mem::take(&mut self.0);
        let cap = buf.capacity();
        let Some(class) = class(cap).filter(|&c| capacity(c) == cap) else {
            return;
        };
        buf.clear();
        let mut pool = POOL[class].lock().unwrap_or_else(|e| e.into_inner());
        let limit = CLASS_BYTES / cap;
        if pool.len() < limit {
            // The first return sizes the list once: no growth later.
            let missing = limit - pool.len();
            pool.reserve_exact(missing);
            pool.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_large_payloads_are_pooled() {
        assert!(copy(&[1; MIN_LEN - 1]).is_none());
        assert!(copy(&[1; MAX_LEN + 1]).is_none());
        let b = copy(&[7; MIN_LEN]).unwrap();
        assert_eq!(&b[..], &[7; MIN_LEN][..]);
    }

    #[test]
    fn a_dropped_buffer_is_reused_with_the_new_contents() {
        // A size class no other test uses (512 KiB), so none takes the
        // buffer in between.
        let len = 300 << 10;
        let first = copy(&vec![1; len]).unwrap();
        let ptr = first.as_ptr();
        drop(first);
        let second = copy(&vec![2; len - 5]).unwrap();
        assert_eq!(second.as_ptr(), ptr, "the same buffer, warm");
        assert_eq!(&second[..], &vec![2; len - 5][..]);
        // Clones share the buffer; it returns when the last one goes.
        let clone = second.clone();
        drop(second);
        assert_eq!(&clone[..], &vec![2; len - 5][..]);
    }

    #[test]
    fn a_filled_buffer_returns_to_the_pool_and_others_do_not() {
        // The 128 KiB class, used by no other test.
        let len = 100 << 10;
        let mut buf = buffer(len).unwrap();
        assert_eq!(buf.capacity(), 128 << 10);
        buf.extend_from_slice(&vec![3; len]);
        let ptr = buf.as_ptr();
        let bytes = freeze(buf);
        assert_eq!(&bytes[..], &vec![3; len][..]);
        drop(bytes);
        let again = buffer(len).unwrap();
        assert_eq!(again.as_ptr(), ptr, "reused");
        // A vector of another capacity is taken as is and freed later.
        let plain = freeze(vec![4; len]);
        assert_eq!(&plain[..], &vec![4; len][..]);
    }

    #[test]
    fn idle_buffers_are_bounded_per_class() {
        // The 256 KiB class, used by no other test.
        let len = 200 << 10;
        let cap = 256 << 10;
        let many: Vec<Bytes> = (0..CLASS_BYTES / cap + 3)
            .map(|_| copy(&vec![0; len]).unwrap())
            .collect();
        drop(many);
        let idle = POOL[class(len).unwrap()]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len();
        assert_eq!(idle, CLASS_BYTES / cap);
    }
}
