//! A job's log extractor, made when one of its files is first read as a log. Building one
//! (its literal searcher, its postfix and sendmail joiners) cost each file of a merge of
//! pairs files, which never reads a log line, about as much as 300 of its rows.

use std::sync::Arc;

use crate::extract::ExtractOptions;
use crate::extract::logs::LogExtractor;
use crate::extract::once::Seen;
use crate::model::{Record, UtcTime};

pub struct JobLog<'a> {
    opts: &'a ExtractOptions,
    /// What [`LogExtractor::once_with`] is given, for the job's `index`.
    seen: Option<(&'a Arc<Seen>, u32)>,
    anchor: Option<UtcTime>,
    log: Option<LogExtractor>,
}

impl<'a> JobLog<'a> {
    pub fn new(opts: &'a ExtractOptions, seen: Option<&'a Arc<Seen>>, index: u32) -> Self {
        JobLog {
            opts,
            seen: seen.map(|s| (s, index)),
            anchor: None,
            log: None,
        }
    }

    /// As [`LogExtractor::set_anchor`], kept for the extractor not yet made.
    pub fn set_anchor(&mut self, anchor: UtcTime) {
        self.anchor = Some(anchor);
        if let Some(log) = &mut self.log {
            log.set_anchor(anchor);
        }
    }

    /// The extractor, made now if it was not yet.
    pub fn get(&mut self) -> &mut LogExtractor {
        let (opts, seen, anchor) = (self.opts, self.seen, self.anchor);
        self.log.get_or_insert_with(|| {
            let mut log = LogExtractor::new(opts.clone());
            if let Some((seen, index)) = seen {
                log = log.once_with(Arc::clone(seen), index);
            }
            if let Some(anchor) = anchor {
                log.set_anchor(anchor);
            }
            log
        })
    }

    /// Records repeated from another job so far (none before a log was read).
    pub fn repeated(&self) -> u64 {
        self.log.as_ref().map_or(0, |log| log.repeated)
    }

    /// As [`LogExtractor::finish`]; an extractor never made has nothing to emit.
    pub fn finish(self, emit: &mut dyn FnMut(Record)) -> u64 {
        self.log.map_or(0, |log| log.finish(emit))
    }
}
