//! The memory of the merge's big tables, in 2 MB pages where the system lends them
//! (issue 16 item 3). A row of a merge reads one slot at a random place in tables that
//! hold a million pairs (64 MB): with 4 KB pages nearly every read also missed the
//! address-translation cache, and a page walk under a virtual machine costs several more
//! reads of memory. Linux maps 2 MB pages into a region marked `MADV_HUGEPAGE` (the
//! default `madvise` setting of transparent huge pages) when the region is aligned to them.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::ptr::NonNull;

/// The size of a huge page, and the alignment asked for regions at least that big.
const HUGE: usize = 2 << 20;

/// A fixed-size array of `T`, every element `fill` at first, its memory marked for huge
/// pages when it spans one.
pub struct Slots<T: Copy> {
    ptr: NonNull<T>,
    len: usize,
    layout: Layout,
}

// SAFETY: `Slots` owns its elements like a `Vec<T>` does.
unsafe impl<T: Copy + Send> Send for Slots<T> {}
// SAFETY: as above; shared access only reads.
unsafe impl<T: Copy + Sync> Sync for Slots<T> {}

impl<T: Copy> Slots<T> {
    pub fn new(len: usize, fill: T) -> Self {
        let size = std::mem::size_of::<T>() * len;
        if size == 0 {
            return Slots {
                ptr: NonNull::dangling(),
                len,
                layout: Layout::new::<()>(),
            };
        }
        let align = if size >= HUGE {
            HUGE
        } else {
            std::mem::align_of::<T>()
        };
        let layout = match Layout::from_size_align(size, align.max(std::mem::align_of::<T>())) {
            Ok(l) => l,
            Err(_) => handle_alloc_error(Layout::new::<T>()),
        };
        // SAFETY: `layout` has a non-zero size.
        let raw = unsafe { alloc(layout) };
        let Some(ptr) = NonNull::new(raw.cast::<T>()) else {
            handle_alloc_error(layout)
        };
        if size >= HUGE {
            // Before the first write, so that the pages are faulted in huge. A refusal
            // (another setting, another system) leaves the pages small: only slower.
            // SAFETY: the range is the allocation just made.
            #[cfg(target_os = "linux")]
            unsafe {
                libc::madvise(raw.cast(), size, libc::MADV_HUGEPAGE);
            }
        }
        for i in 0..len {
            // SAFETY: `i < len`, inside the allocation; `T: Copy` needs no drop.
            unsafe { ptr.as_ptr().add(i).write(fill) };
        }
        Slots { ptr, len, layout }
    }
}

impl<T: Copy> std::ops::Deref for Slots<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        // SAFETY: `len` initialised elements at `ptr` (or a dangling pointer and no
        // element, or zero-sized ones).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: Copy> std::ops::DerefMut for Slots<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`, and `&mut self` is the only access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: Copy> Default for Slots<T> {
    fn default() -> Self {
        Slots {
            ptr: NonNull::dangling(),
            len: 0,
            layout: Layout::new::<()>(),
        }
    }
}

impl<T: Copy> Drop for Slots<T> {
    fn drop(&mut self) {
        if self.layout.size() != 0 {
            // SAFETY: allocated in `new` with this layout.
            unsafe { dealloc(self.ptr.as_ptr().cast(), self.layout) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_huge_arrays_start_filled_and_keep_what_is_written() {
        for len in [0usize, 1, 7, (HUGE / 8) + 3] {
            let mut slots = Slots::new(len, 7u64);
            assert_eq!(slots.len(), len);
            assert!(slots.iter().all(|&v| v == 7));
            if let Some(last) = slots.last_mut() {
                *last = 9;
            }
            assert_eq!(slots.iter().filter(|&&v| v == 9).count(), len.min(1));
        }
        assert!(Slots::<u64>::default().is_empty());
    }
}
