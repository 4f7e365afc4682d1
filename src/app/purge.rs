//! The allocator's purge delay while the audit resolves: freed pages are kept for a few
//! milliseconds there instead of being handed back at once.
//!
//! Why: `main` makes mimalloc return freed pages at once, which keeps the peak RSS of
//! reading large inputs near the heap (docs/performance.md). While the policies are
//! resolved the same memory is freed and taken again thousands of times a second (answers,
//! replies, evaluations), and returning it at once made the kernel clear the same pages
//! again and again: about a tenth of the DNS stage's CPU in `perf`, for a few MB of RSS.

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

/// `mi_option_purge_delay` in the mimalloc (v3) the crate builds (as in `main.rs`).
const PURGE_DELAY: mi_option_t = 15;
/// mimalloc's own default delay.
const RESOLVING_MS: std::ffi::c_long = 10;

/// Keeps freed pages [`RESOLVING_MS`] before purging them, until dropped; the delay set
/// before is then put back.
pub(super) struct Resolving {
    before: std::ffi::c_long,
}

impl Resolving {
    pub(super) fn start() -> Resolving {
        // SAFETY: reads and sets a process-wide option; mimalloc reads options when it
        // purges, so changing one while other threads allocate is allowed.
        let before = unsafe { mi_option_get(PURGE_DELAY) };
        unsafe { mi_option_set(PURGE_DELAY, RESOLVING_MS) };
        Resolving { before }
    }
}

impl Drop for Resolving {
    fn drop(&mut self) {
        // SAFETY: as in `start`.
        unsafe { mi_option_set(PURGE_DELAY, self.before) };
    }
}
