//! MTA logs: routes each line to the extractor of the MTA that wrote it. Syslog lines go by
//! program name (`postfix*`, `sendmail`/`sm-*`, `exim`/`exim4`); Exim's own mainlog has no
//! syslog prefix and is recognised by its timestamp. One [`LogExtractor`] reads a whole
//! rotation set in order, so postfix records that straddle two files are still joined.
//!
//! Reading is cut in two (SPEC §7): [`LogLineParser::classify`] turns one line's bytes into
//! a [`LogEvent`] without touching any state, so chunks of a log can be classified on many
//! threads; [`LogExtractor::apply`] then runs the events in log order through the state that
//! joins lines (postfix queue ids, sendmail AUTH marks). Most lines are dismissed by the
//! classifier on their first bytes, before any UTF-8 check.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, Input, MatchKind};

use super::log_time::{self, LogTime};
use super::postfix::{PostfixEvent, PostfixJoiner, PostfixParser};
use super::sendmail::{SendmailLog, is_sendmail, wants};
use super::{ExtractOptions, exim, syslog};
use crate::model::Record;

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
            if line.program.starts_with(b"postfix") {
                let event = self.postfix.classify(&line)?;
                Some(LogEvent::Postfix(event, log_time::parse(text)))
            } else if is_sendmail(line.program) {
                wants(line.message).then(|| LogEvent::Sendmail(syslog::text(text)))
            } else if exim::is_exim(line.program) {
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
        }
    }

    /// The classifier whose events [`Self::apply`] accepts.
    pub fn parser(&self) -> &LogLineParser {
        &self.parser
    }

    /// Feeds one line (without its line ending).
    pub fn feed(&mut self, text: &str, emit: &mut dyn FnMut(Record)) {
        if let Some(event) = self.parser.classify(text.as_bytes()) {
            self.apply(event, emit);
        }
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

    /// End of the log (of the last file of a rotation set): reports records still open.
    pub fn finish(self, emit: &mut dyn FnMut(Record)) {
        self.postfix.finish(emit);
    }
}

/// True when a line looks like a log line of any kind this module reads (for detection).
pub fn is_log_line(text: &str) -> bool {
    syslog::split(text).is_some() || exim::mainlog_message(text).is_some()
}
