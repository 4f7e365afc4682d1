//! The allocator's options, set in one place. mimalloc is the global allocator (`main.rs`):
//! glibc's returned too little of what an audit frees while it evaluates (peak RSS more than
//! twice the peak heap); mimalloc keeps RSS near the heap (docs/performance.md).
//!
//! [`set_options`] runs before the first allocation: freed pages go back to the system at once
//! (purge delay 0), and a purge decommits them (arena eager commit off) rather than resetting
//! them, which Linux would leave in RSS until short of memory (the 1 GB log's audit, in
//! scripts/bench-domeval.sh, stood some 20 MB higher, for no gain in CPU time).
//!
//! [`Resolving`] then keeps freed pages for a few milliseconds while the audit resolves: the
//! same memory is freed and taken again thousands of times a second there (answers, replies,
//! evaluations), and returning it at once made the kernel clear the same pages again and
//! again, about a tenth of the DNS stage's CPU in `perf`, for a few MB of RSS.
//!
//! [`finishing`] stops purging once a command's outputs are written: what is freed after that
//! is freed only for the process to end.

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

/// `mi_option_purge_delay` in the mimalloc (v3) that libmimalloc-sys builds; the crate's
/// bindings predate the option's name.
const PURGE_DELAY: mi_option_t = 15;
/// `mi_option_arena_eager_commit` (v3), likewise.
const ARENA_EAGER_COMMIT: mi_option_t = 4;
/// mimalloc's own default delay.
const RESOLVING_MS: std::ffi::c_long = 10;

/// Sets the allocator's options for the whole run. mimalloc reads the eager-commit option
/// when it reserves its first arena, at the first allocation: on Linux `main.rs` runs this
/// from the ELF initialisers, before the runtime allocates; elsewhere first thing in `main`.
pub extern "C" fn set_options() {
    // SAFETY: sets process-wide options; mimalloc reads them when it reserves and purges
    // memory, and setting one before or while allocating is allowed.
    unsafe {
        mi_option_set(PURGE_DELAY, 0);
        mi_option_set(ARENA_EAGER_COMMIT, 0);
    }
}

/// Keeps freed pages 10 ms (mimalloc's default) before purging them, until dropped; the delay set
/// before is then put back.
pub struct Resolving {
    before: std::ffi::c_long,
}

impl Resolving {
    pub fn start() -> Resolving {
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

/// The command's work is done (its outputs written): from here no freed page goes back to
/// the system, so tearing down the run's tables, answers and rows costs no system calls. An
/// audit of the DNS bench's 20,000 domains made some 500 `madvise` calls after renaming its
/// last output into place, each a page-table walk and a wake-up of the other threads' CPUs.
pub fn finishing() {
    // SAFETY: as in `Resolving::start`; a negative delay is mimalloc's "never purge".
    unsafe { mi_option_set(PURGE_DELAY, -1) };
}
