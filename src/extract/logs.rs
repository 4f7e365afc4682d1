//! MTA logs: routes each line to the extractor of the MTA that wrote it. Syslog lines go by
//! program name (`postfix*`, `sendmail`/`sm-*`, `exim`/`exim4`); Exim's own mainlog has no
//! syslog prefix and is recognised by its timestamp. One [`LogExtractor`] reads a whole
//! rotation set in order, so postfix records that straddle two files are still joined.
//!
//! Reading is cut in two (docs/design.md §7): [`LogLineParser::classify`] turns one line's bytes into
//! a [`LogEvent`] without touching any state, so chunks of a log can be classified on many
//! threads; [`LogExtractor::apply`] then runs the events in log order through the state that
//! joins lines (postfix queue ids, sendmail AUTH marks). Most lines are dismissed by the
//! classifier on their first bytes, before any UTF-8 check.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, Input, MatchKind};

use super::log_time::{self, LogTime};
use super::once::Seen;
use super::postfix::{PostfixEvent, PostfixJoiner, PostfixParser};
use super::sendmail::{SendmailLog, is_sendmail, wants};
use super::{ExtractOptions, exim, syslog};
use crate::model::{Record, UtcTime, When};
use std::sync::Arc;

/// What one log line amounts to, for [`LogExtractor::apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEvent<'a> {
    /// With the line's time, which keeps the joiner's window of open queue ids.
    Postfix(PostfixEvent<'a>, Option<LogTime>),
    /// A sendmail line that its extractor reads (the whole line, lossily decoded), applied
    /// in order because AUTH lines mark the process for the `from=` line after them.
    Sendmail(Cow<'a, str>),
    /// A record decided by its line alone (Exim).
    Record(Record),
}

/// Substrings of which every line [`LogLineParser::classify`] makes an event of holds one:
/// pieces of what the extractors look for — postfix `client=`, `uid=`, `from=`, `removed`,
/// `reject: ` (also `NOQUEUE: reject: `, `milter-reject: `, `proxy-reject: `); sendmail
/// `AUTH=server, `, `from=`, `ruleset=check_mail, `; Exim `<= ` and ` rejected `. A bulk
/// reader searches a whole buffer for them at once and classifies only the lines they occur
/// in, so the lines that cannot matter (most of a log) cost no per-line work at all. Each is
/// cut to a part whose first three bytes are rare in log chatter (`from` is in every
/// `connect from` line, `om=` seldom), which is what the vector search keys on.
const NEEDLES: [&str; 8] = [
    "ient=",  // client=
    "uid=",   // uid=
    "om=",    // from=
    "oved",   // removed
    "ject",   // reject: , rejected
    "AUTH=",  // AUTH=server,
    "k_mail", // ruleset=check_mail,
    "<= ",    // Exim arrivals
];

/// Classifies lines on any thread; a clone of [`LogExtractor::parser`].
#[derive(Clone)]
pub struct LogLineParser {
    opts: ExtractOptions,
    postfix: PostfixParser,
    needles: AhoCorasick,
}

impl LogLineParser {
    /// Where the next line that may matter holds one of its needles: the first needle at or
    /// after `from` in `text` (which may hold many lines). Lines without one are never
    /// events, so a reader may skip them without classifying them.
    pub fn next_candidate(&self, text: &[u8], from: usize) -> Option<usize> {
        let input = Input::new(text).span(from.min(text.len())..text.len());
        self.needles.find(input).map(|m| m.start())
    }

    /// The event of one line (without its line ending), `None` for the lines no extractor
    /// needs. Invalid UTF-8 reads as `U+FFFD`, as everywhere else in the tool.
    pub fn classify<'a>(&self, text: &'a [u8]) -> Option<LogEvent<'a>> {
        if let Some(line) = syslog::split_bytes(text) {
            let program = unit_program(line.program);
            if program.starts_with(b"postfix") {
                let event = self.postfix.classify(&line)?;
                Some(LogEvent::Postfix(event, log_time::parse(text)))
            } else if is_sendmail(program) {
                wants(line.message).then(|| LogEvent::Sendmail(syslog::text(text)))
            } else if exim::is_exim(program) {
                exim::message(&syslog::text(line.message), &self.opts).map(LogEvent::Record)
            } else {
                None
            }
        } else if exim::may_be_mainlog(text) {
            let text = syslog::text(text);
            exim::message(exim::mainlog_message(&text)?, &self.opts).map(LogEvent::Record)
        } else {
            None
        }
    }
}

pub struct LogExtractor {
    parser: LogLineParser,
    postfix: PostfixJoiner,
    sendmail: SendmailLog,
    /// Records already counted from another file of the run, when more than one is read.
    seen: Option<(Arc<Seen>, u32)>,
    /// Records this extractor found already counted.
    pub repeated: u64,
    /// When the file being read was last written: yearless stamps take their year from it.
    anchor: UtcTime,
}

impl LogExtractor {
    pub fn new(opts: ExtractOptions) -> Self {
        let postfix = PostfixJoiner::new(opts.clone());
        LogExtractor {
            parser: LogLineParser {
                postfix: postfix.parser().clone(),
                opts: opts.clone(),
                // Leftmost matching lets aho-corasick use its vector (Teddy) search.
                needles: AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(NEEDLES)
                    .expect("a few short literals build"),
            },
            postfix,
            sendmail: SendmailLog::new(opts),
            seen: None,
            repeated: 0,
            anchor: UtcTime::now(),
        }
    }

    /// Says when the file about to be read was last written (docs/inputs.md: the year of
    /// a traditional syslog stamp); until said, the time the extractor was made.
    pub fn set_anchor(&mut self, anchor: UtcTime) {
        self.anchor = anchor;
    }

    pub fn anchor(&self) -> UtcTime {
        self.anchor
    }

    /// Counts each record once across every extractor sharing `seen` (docs/design.md §3); `job`
    /// tells this extractor's records from the others'.
    pub fn once_with(mut self, seen: Arc<Seen>, job: u32) -> Self {
        self.seen = Some((seen, job));
        self
    }

    /// The classifier whose events [`Self::apply`] accepts.
    pub fn parser(&self) -> &LogLineParser {
        &self.parser
    }

    /// Feeds one line (without its line ending). The binary reads logs in bulk
    /// (`inputs::log_reader`); this line-by-line path is part of the library API the fuzz
    /// targets and property tests use as the reference the bulk reader must match.
    pub fn feed(&mut self, text: &str, emit: &mut dyn FnMut(Record)) {
        if let Some(event) = self.parser.classify(text.as_bytes()) {
            self.apply(event, emit);
        }
    }

    /// [`Self::feed`], each record with the date the log reader gives it: a message is
    /// dated by the line that completes it (its stamp through the year rule from the
    /// anchor), anything else not at all. Read from the line's text alone, this is the
    /// reference the bulk reader's days are tested against.
    pub fn feed_dated(&mut self, text: &str, emit: &mut dyn FnMut(Record, When)) {
        let when = log_time::line_date(text.as_bytes(), self.anchor);
        self.feed(text, &mut |record| match record {
            Record::Observed(_) => emit(record, when),
            _ => emit(record, When::Absent),
        });
    }

    /// Applies the event of one line; events must come in log order.
    pub fn apply(&mut self, event: LogEvent<'_>, emit: &mut dyn FnMut(Record)) {
        match event {
            LogEvent::Postfix(event, time) => self.postfix.apply(event, time, emit),
            LogEvent::Sendmail(text) => {
                if let Some(line) = syslog::split(&text) {
                    self.sendmail.feed(&line, emit);
                }
            }
            LogEvent::Record(record) => emit(record),
        }
    }

    /// [`Self::apply`] for the event of `line` (the whole log line): with a shared
    /// [`Seen`], the records it completes are emitted only if no other file did first.
    pub fn apply_line(&mut self, event: LogEvent<'_>, line: &[u8], emit: &mut dyn FnMut(Record)) {
        if self.seen.is_none() {
            return self.apply(event, emit);
        }
        let LogExtractor {
            postfix,
            sendmail,
            seen: Some((seen, job)),
            repeated,
            ..
        } = self
        else {
            return;
        };
        let job = *job;
        // Most events complete no record (a `client=` line, a `removed` line): the line is
        // hashed only when one does.
        let mut id = None;
        let mut nth = 0u64;
        let mut once = |record| {
            // A client's name is no message: it is neither counted nor deduplicated.
            if matches!(record, Record::ClientName { .. }) {
                return emit(record);
            }
            let base = *id.get_or_insert_with(|| seen.line_id(line));
            if seen.first(base.wrapping_add(nth), job) {
                emit(record);
            } else {
                *repeated += 1;
            }
            nth += 1;
        };
        match event {
            LogEvent::Postfix(event, time) => postfix.apply(event, time, &mut once),
            LogEvent::Sendmail(text) => {
                if let Some(line) = syslog::split(&text) {
                    sendmail.feed(&line, &mut once);
                }
            }
            LogEvent::Record(record) => once(record),
        }
    }

    /// End of the log (of the last file of a rotation set): reports records still open,
    /// and returns how many records were found already counted.
    pub fn finish(self, emit: &mut dyn FnMut(Record)) -> u64 {
        let mut repeated = self.repeated;
        match self.seen {
            None => self.postfix.finish(emit),
            Some((seen, job)) => self.postfix.finish_keyed(&mut |key, record| {
                if seen.first(seen.open_id(key), job) {
                    emit(record);
                } else {
                    repeated += 1;
                }
            }),
        }
        repeated
    }
}

/// The program a systemd unit name stands for: `journalctl -o with-unit` writes the unit
/// (`postfix@-.service`, `exim4.service`, `sendmail.service`) where the program name was.
/// Other names are returned as they are.
pub fn unit_program(program: &[u8]) -> &[u8] {
    let Some(unit) = program.strip_suffix(b".service") else {
        return program;
    };
    match memchr::memchr(b'@', unit) {
        Some(at) => &unit[..at],
        None => unit,
    }
}

/// True when a line looks like a log line of any kind this module reads (for detection).
pub fn is_log_line(text: &str) -> bool {
    syslog::split(text).is_some() || exim::mainlog_message(text).is_some()
}
