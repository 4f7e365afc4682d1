//! MTA logs: routes each line to the extractor of the MTA that wrote it. Syslog lines go by
//! program name (`postfix*`, `sendmail`/`sm-*`, `exim`/`exim4`); Exim's own mainlog has no
//! syslog prefix and is recognised by its timestamp. One [`LogExtractor`] reads a whole
//! rotation set in order, so postfix records that straddle two files are still joined.

use super::postfix::PostfixJoiner;
use super::sendmail::{SendmailLog, is_sendmail};
use super::{ExtractOptions, Record, exim, syslog};

pub struct LogExtractor {
    opts: ExtractOptions,
    postfix: PostfixJoiner,
    sendmail: SendmailLog,
}

impl LogExtractor {
    pub fn new(opts: ExtractOptions) -> Self {
        LogExtractor {
            postfix: PostfixJoiner::new(opts.clone()),
            sendmail: SendmailLog::new(opts.clone()),
            opts,
        }
    }

    /// Feeds one line (without its line ending).
    pub fn feed(&mut self, text: &str, emit: &mut dyn FnMut(Record)) {
        if let Some(line) = syslog::split(text) {
            if line.program.starts_with("postfix") {
                self.postfix.feed(&line, emit);
            } else if is_sendmail(line.program) {
                self.sendmail.feed(&line, emit);
            } else if exim::is_exim(line.program) {
                exim::message(line.message, &self.opts).map(emit);
            }
        } else if let Some(message) = exim::mainlog_message(text) {
            exim::message(message, &self.opts).map(emit);
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
