//! Once per record across the files of one run (docs/design.md §3): the same log line reaches a run
//! through `mail.log` and `syslog`, `mail.info` and `mail.log`, `mail.log` and
//! `mail.log.xz`. A record is known by the log line that completed it (time, host,
//! program, pid, queue id and text, so the same line in two files is the same record) or,
//! for a postfix message still open at the end of a file, by its host and queue id. The
//! first file to report a record counts it; the others count it as repeated.
//!
//! Limits: only log records are compared (stored messages have no such identity; identical
//! files are caught whole, see `inputs::identical`); the same line written in two time
//! formats (a journal export beside the syslog file) is not recognised as one; and memory
//! grows by a few tens of bytes per log record while more than one log is read.

use std::hash::{BuildHasher, Hasher, RandomState};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

/// The records counted so far in this run, shared by the threads that read, each with the
/// job (a file, or a rotation set) that counted it. Lines repeated inside one job are left
/// to that job's extractor, as in a run of that job alone: only another job's copy is
/// dropped.
#[derive(Default)]
pub struct Seen {
    ids: DashMap<u64, u32>,
    state: RandomState,
}

impl Seen {
    /// The identity of a log line (line ending excluded): a 64-bit hash keyed per run, so
    /// collisions cannot be prepared, and rare enough (about 3 in a million runs of ten
    /// million records drop one record to a collision) for half the memory of 128 bits.
    pub fn line_id(&self, line: &[u8]) -> u64 {
        let mut line = line;
        while let [rest @ .., b'\n' | b'\r'] = line {
            line = rest;
        }
        let mut h = self.state.build_hasher();
        h.write(line);
        h.finish()
    }

    /// The identity of a postfix message left open at the end of a file.
    pub fn open_id(&self, key: &[u8]) -> u64 {
        let mut h = self.state.build_hasher();
        h.write_u8(0xa5);
        h.write(key);
        h.finish()
    }

    /// True unless another job than `job` counted `id` first.
    pub fn first(&self, id: u64, job: u32) -> bool {
        match self.ids.entry(id) {
            Entry::Occupied(e) => *e.get() == job,
            Entry::Vacant(v) => {
                v.insert(job);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_counts_once_whatever_its_line_end() {
        let seen = Seen::default();
        let a = seen.line_id(b"Jun  1 19:00:56 mx postfix/qmgr[2]: ABC: from=<a@b>, size=1\n");
        let b = seen.line_id(b"Jun  1 19:00:56 mx postfix/qmgr[2]: ABC: from=<a@b>, size=1\r");
        let c = seen.line_id(b"Jun  1 19:00:57 mx postfix/qmgr[2]: ABC: from=<a@b>, size=1");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(seen.first(a, 1));
        assert!(
            seen.first(a, 1),
            "a repeat inside one job is that job's business"
        );
        assert!(!seen.first(b, 2), "another job's copy is dropped");
        assert!(seen.first(c, 2));
        assert_ne!(seen.open_id(b"ABC mx"), seen.line_id(b"ABC mx"));
    }
}
