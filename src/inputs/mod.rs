//! Inputs: expands paths, opens each file, detects its format and streams it through the
//! matching extractor into a per-input [`Tally`]. Files are read in parallel (rayon); a file
//! that fails is named in an [`InputError`] and the others are still read (docs/design.md §6).

pub mod decompress;
pub mod detect;
pub(crate) mod glob;
mod gzip;
pub(crate) mod identical;
mod job_log;
pub(crate) mod journal;
mod lent;
pub mod log_reader;
pub mod mbox;
mod mbox_ranges;
#[cfg(test)]
mod merge_tests;
pub(crate) mod notes;
pub mod oversize;
mod reports;
pub(crate) mod rotation;
pub mod said;
pub mod walk;

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::PathBuf;
use std::sync::Arc;

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::aggregate::Tally;
use crate::aggregate::client::{Client, IpSpelling};
use crate::aggregate::store::{self, Batch, PairStore, Rejected, SortedPairs};
use crate::extract::logs::LogExtractor;
use crate::extract::once::Seen;
use crate::extract::{ExtractOptions, dated, message};
use crate::model::{Record, SkipReason, UtcTime, When, date};
use crate::pairs_file;
pub use detect::Format;
pub use glob::Glob;
use mbox::{MboxReader, MboxSplit};
use oversize::{BoundedLines, Line, LineLimit, Oversized};
pub use said::{Said, Setting};
pub use walk::Input;

/// How many bytes detection looks at.
const DETECT_BYTES: usize = 8192;
const READ_BUFFER: usize = 256 * 1024;

#[derive(Clone, Debug)]
pub struct ReadOptions {
    pub extract: ExtractOptions,
    /// `--format`: skip detection.
    pub format: Option<Format>,
    /// `--strict`: the first malformed record fails its input.
    pub strict: bool,
    /// `--max-line-bytes`: a longer line or header block is skipped as oversized.
    pub max_line_bytes: usize,
    /// `--exclude`: entries left out of walks (and named paths they match).
    pub exclude: Vec<Glob>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            extract: ExtractOptions::default(),
            format: None,
            strict: false,
            max_line_bytes: oversize::DEFAULT_MAX_LINE_BYTES,
            exclude: Vec::new(),
        }
    }
}

/// An input that could not be read completely, and where it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub input: String,
    pub message: Said,
}

impl InputError {
    /// `INPUT: MESSAGE`, each setting spelled by `name`.
    pub fn render(&self, name: impl Fn(Setting) -> &'static str) -> String {
        format!("{}: {}", self.input, self.message.render(name))
    }
}

/// An input in which lines or header blocks over the limit were skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OversizedInput {
    pub input: String,
    pub oversized: Oversized,
    /// The limit they were over.
    pub max: usize,
}

impl OversizedInput {
    /// What was skipped, and the setting that raises the limit.
    pub fn said(&self) -> Said {
        let n = self.oversized.count;
        let mut text = format!(
            "{}: {n} line{} or header block{} longer than {} bytes skipped as oversized",
            self.input,
            if n == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
            self.max
        );
        if let Some(at) = self.oversized.first_offset {
            text.push_str(&format!(", the first at byte {at}"));
        }
        Said::from(text)
            .text(" (")
            .setting(Setting::MaxLineBytes)
            .text(" raises the limit)")
    }
}

/// Everything the inputs stage produced.
#[derive(Debug, Default)]
pub struct ReadReport {
    pub tally: Tally,
    pub errors: Vec<InputError>,
    /// The inputs that held oversized items, in input order.
    pub oversized: Vec<OversizedInput>,
    /// Inputs read to the end without error (files passed over are not inputs).
    pub inputs_ok: usize,
    pub inputs_total: usize,
    /// What the inputs were, for a pairs file's sidecar: the command line's paths, a pairs
    /// file with a sidecar replaced by the paths its sidecar names.
    pub sources: Vec<String>,
    /// Files met in walked folders that are no mail format ("not mail").
    pub not_mail: Vec<String>,
    /// Inputs read without error from which nothing was recognised; errors under
    /// `--strict` instead.
    pub warnings: Vec<InputError>,
    /// What the walk passed over (special files, exclusions, outgoing folders, loops).
    pub passed: walk::Passed,
    /// Byte-identical copies not read: (copy, the input it repeats).
    pub copies: Vec<(String, String)>,
    /// Log records read in more than one file and counted once.
    pub repeated: u64,
}

/// What one input amounted to.
enum Outcome {
    /// Read to the end; `nothing` when it held bytes but no record came out of it.
    Read {
        nothing: bool,
        merged: Merged,
    },
    Failed(Said),
    /// A walked file in no mail format.
    NotMail,
}

/// What a pairs file's sidecar added: how many inputs it stands for and their paths, or
/// why it was ignored.
#[derive(Default)]
enum Merged {
    #[default]
    No,
    From {
        inputs: usize,
        sources: Vec<String>,
    },
    Ignored(String),
}

/// Per-thread fold of the jobs.
#[derive(Default)]
struct Fold {
    tally: Tally,
    errors: Vec<InputError>,
    oversized: Vec<OversizedInput>,
    warnings: Vec<InputError>,
    not_mail: Vec<String>,
    /// Inputs read; a pairs file counts the inputs its sidecar names.
    read: usize,
    /// Pairs files with a sidecar, and the paths it names.
    merged: Vec<(String, Vec<String>)>,
    repeated: u64,
}

impl Fold {
    fn merge(mut self, other: Fold) -> Fold {
        self.tally.merge(other.tally);
        self.errors.extend(other.errors);
        self.oversized.extend(other.oversized);
        self.warnings.extend(other.warnings);
        self.not_mail.extend(other.not_mail);
        self.read += other.read;
        self.merged.extend(other.merged);
        self.repeated += other.repeated;
        self
    }
}

/// Reads every path; never stops at the first failure. `progress` counts the bytes read
/// from disk (compressed bytes for compressed files) against their total size.
pub fn read_all(paths: &[PathBuf], opts: &ReadOptions, progress: &ProgressBar) -> ReadReport {
    let (mut report, store) = read_to_store(paths, opts, progress);
    store.drain_into(&mut report.tally);
    report.tally.attach_file_days(false);
    report
}

/// As [`read_all`], with every pair (the pairs files' and the other inputs') in the report
/// order, straight from the merge's shared table: the report's tally holds only the dated
/// pairs, for their days (their counts are not all there: a pairs file's are in the table). This
/// is what `scan` writes; it never builds the tally's map of a merge's pairs, which would
/// cost a million pairs some 170 MB (issue 16 item 3).
pub fn read_all_sorted(
    paths: &[PathBuf],
    opts: &ReadOptions,
    progress: &ProgressBar,
) -> (ReadReport, SortedPairs) {
    let (mut report, store) = read_to_store(paths, opts, progress);
    let tally = &mut report.tally;
    let counted = tally.pairs.iter().map(|(k, c)| (k, c.messages));
    // With no pairs file read, there is nothing to merge the tally's pairs with.
    let sorted = if store.is_empty() {
        SortedPairs::from_counted(counted, pairs_file::sender_column)
    } else {
        store.add_pairs(counted);
        store.into_sorted()
    };
    // What stays is for the `.days` file: the dated pairs, with the pairs files' days.
    tally.pairs.retain(|_, c| !c.days.is_empty());
    tally.attach_file_days(true);
    (report, sorted)
}

/// Reads every input: the pairs files' rows into the returned store, everything else into
/// the report's tally.
fn read_to_store(
    paths: &[PathBuf],
    opts: &ReadOptions,
    progress: &ProgressBar,
) -> (ReadReport, PairStore) {
    let expanded = walk::expand(paths, &opts.exclude);
    let (inputs, copies) = identical::drop_copies(expanded.inputs);
    if !progress.is_hidden() {
        // A stat per file is only worth it when someone watches the bar.
        match walk::total_size(&inputs) {
            Some(total) => progress.set_length(total),
            None => progress.unset_length(),
        }
    }
    let mut errors: Vec<InputError> = expanded
        .errors
        .into_iter()
        .map(|e| InputError {
            input: e.path.display().to_string(),
            message: e.error.to_string().into(),
        })
        .collect();
    // Each rayon thread folds its jobs into one tally, so memory follows the distinct
    // pairs, not the number of files (a maildir may hold millions). A job is one file, or
    // a rotation set read in order.
    let jobs = rotation::group(inputs.clone());
    // With one job there is nothing to count twice, and nothing to remember.
    let seen = (jobs.len() > 1).then(|| Arc::new(Seen::default()));
    // Pairs files' rows go to one table shared by every thread (memory: the distinct
    // pairs, whatever the number of files or threads), returned beside the report.
    let store = PairStore::new(spelling());
    let ctx = JobContext {
        opts,
        named: &expanded.named,
        seen: seen.as_ref(),
        progress,
        store: &store,
    };
    let fold = jobs
        .par_iter()
        .enumerate()
        .fold(Fold::default, |mut fold, (i, job)| {
            read_job(job, i as u32, &ctx, &mut fold);
            fold
        })
        .reduce(Fold::default, Fold::merge);
    let Fold {
        tally,
        errors: mut read_errors,
        mut oversized,
        mut warnings,
        mut not_mail,
        read: inputs_ok,
        merged,
        repeated,
    } = fold;
    // Threads finish in any order; everything is reported in input order. The order map
    // costs a name per input (a maildir may hold millions): built only when needed.
    if read_errors.len() > 1 || oversized.len() > 1 || warnings.len() > 1 || not_mail.len() > 1 {
        let order: std::collections::HashMap<String, usize> = inputs
            .iter()
            .enumerate()
            .map(|(i, input)| (input.name(), i))
            .collect();
        let rank = |name: &String| order.get(name).copied();
        read_errors.sort_by_key(|e| rank(&e.input));
        oversized.sort_by_key(|o| rank(&o.input));
        warnings.sort_by_key(|e| rank(&e.input));
        not_mail.sort_by_key(rank);
    }
    // A copy of a file that is not mail is not mail either: said as a copy "read once", it
    // claimed a read that never happened (a folder of test cases printed six such lines).
    let mut copies = copies;
    if !not_mail.is_empty() && !copies.is_empty() {
        let junk: std::collections::HashSet<&str> = not_mail.iter().map(String::as_str).collect();
        let (of_junk, rest): (Vec<_>, Vec<_>) = copies
            .into_iter()
            .partition(|(_, original)| junk.contains(original.display().to_string().as_str()));
        not_mail.extend(of_junk.iter().map(|(copy, _)| copy.display().to_string()));
        copies = rest;
    }
    let inputs_total = inputs_ok + read_errors.len() + errors.len();
    let merged: std::collections::HashMap<String, Vec<String>> = merged.into_iter().collect();
    let sources = paths
        .iter()
        .flat_map(|p| {
            let name = if walk::is_stdin(p) {
                Input::Stdin.name()
            } else {
                p.display().to_string()
            };
            merged.get(&name).cloned().unwrap_or_else(|| vec![name])
        })
        .collect();
    errors.extend(read_errors);
    let show = |p: &PathBuf| p.display().to_string();
    let report = ReadReport {
        tally,
        inputs_total,
        inputs_ok,
        errors,
        oversized,
        sources,
        not_mail,
        warnings,
        passed: expanded.passed,
        copies: copies.iter().map(|(c, o)| (show(c), show(o))).collect(),
        repeated,
    };
    (report, store)
}

/// How pairs files spell senders and clients, for the merge's table.
fn spelling() -> store::Spelling {
    store::Spelling {
        read: pairs_file::sender_from_column,
        write: pairs_file::sender_column,
        ip: IpSpelling {
            read: pairs_file::read_ip_column,
        },
    }
}

/// What every job needs besides its inputs.
struct JobContext<'a> {
    opts: &'a ReadOptions,
    named: &'a HashSet<PathBuf>,
    seen: Option<&'a Arc<Seen>>,
    progress: &'a ProgressBar,
    store: &'a PairStore,
}

/// Reads the inputs of one job in order; log lines of all of them go through one
/// extractor, which is finished after the last. Its records go to a tally of its own
/// first, so that a job from which nothing came is known.
fn read_job(job: &[Input], index: u32, ctx: &JobContext<'_>, fold: &mut Fold) {
    let mut log = job_log::JobLog::new(&ctx.opts.extract, ctx.seen, index);
    let mut tally = Tally::default();
    let mut held_bytes = Vec::new();
    let anchors = anchors(job);
    for (input, anchor) in job.iter().zip(anchors) {
        log.set_anchor(anchor);
        let mut limit = LineLimit::new(ctx.opts.max_line_bytes);
        let outcome = read_input(input, ctx, &mut tally, &mut log, &mut limit);
        if limit.oversized.count > 0 {
            fold.oversized.push(OversizedInput {
                input: input.name(),
                oversized: limit.oversized,
                max: limit.max,
            });
        }
        match outcome {
            Outcome::Read { nothing, merged } => {
                match merged {
                    Merged::From { inputs, sources } => {
                        fold.read += inputs;
                        fold.merged.push((input.name(), sources));
                    }
                    Merged::Ignored(why) => {
                        fold.read += 1;
                        fold.warnings.push(InputError {
                            input: input.name(),
                            message: why.into(),
                        });
                    }
                    Merged::No => fold.read += 1,
                }
                if nothing {
                    held_bytes.push(input.name());
                }
            }
            Outcome::Failed(message) => fold.errors.push(InputError {
                input: input.name(),
                message,
            }),
            Outcome::NotMail => fold.not_mail.push(input.name()),
        }
    }
    let repeated = log.finish(&mut |record| tally.add(record));
    fold.repeated += repeated;
    // Records repeated from another file were recognised, just not counted again.
    let nothing = tally.pairs.is_empty() && tally.skipped_total() == 0 && repeated == 0;
    if nothing {
        for name in held_bytes {
            let message =
                Said::from("nothing recognised in it (no message, log record or pair); use ")
                    .setting(Setting::Format)
                    .text(" to say what it is");
            let e = InputError {
                input: name,
                message,
            };
            if ctx.opts.strict {
                fold.read -= 1;
                fold.errors.push(InputError {
                    message: e.message.text(" (").setting(Setting::Strict).text(")"),
                    ..e
                });
            } else {
                fold.warnings.push(e);
            }
        }
    }
    fold.tally.merge(tally);
}

/// When each input of a job (a rotation set, oldest first) was last written, for the year
/// of its traditional syslog stamps (docs/inputs.md): its modification time, but never
/// later than that of a file rotated after it (`mail.log.2.gz` is older than `mail.log.1`,
/// which is older than `mail.log`, whatever copying did to their times). Standard input
/// and a file whose time cannot be read are taken as written now.
fn anchors(job: &[Input]) -> Vec<UtcTime> {
    let now = UtcTime::now();
    let mut anchors: Vec<UtcTime> = job
        .iter()
        .map(|input| match input {
            Input::File(path) => std::fs::metadata(path)
                .and_then(|m| m.modified())
                .map_or(now, UtcTime::of),
            Input::Stdin => now,
        })
        .collect();
    for i in (0..anchors.len().saturating_sub(1)).rev() {
        anchors[i] = anchors[i].min(anchors[i + 1]);
    }
    anchors
}

/// Reads one input into `tally`. What was read before a failure is kept; the error says
/// where it stopped.
fn read_input(
    input: &Input,
    ctx: &JobContext<'_>,
    tally: &mut Tally,
    log: &mut job_log::JobLog<'_>,
    limit: &mut LineLimit,
) -> Outcome {
    let (opts, progress) = (ctx.opts, ctx.progress);
    let reader: Box<dyn Read + Send> = match input {
        Input::Stdin => Box::new(progress.wrap_read(io::stdin())),
        Input::File(path) => {
            let file = match File::open(path) {
                Ok(f) => f,
                Err(e) => return Outcome::Failed(e.to_string().into()),
            };
            // Positional reads only: when the range reader declines, the file is still
            // at its start for the stream below, so each input is opened once.
            if let Some(result) = mbox_ranges::read_if_suited(&file, opts, tally, limit, progress) {
                return match result {
                    Ok(()) => Outcome::Read {
                        nothing: false,
                        merged: Merged::No,
                    },
                    Err(e) => Outcome::Failed(ReadError::Io(e).said()),
                };
            }
            Box::new(progress.wrap_read(file))
        }
    };
    let (head, rest) = match read_head(reader)
        .and_then(decompressed)
        .and_then(skip_leading_nuls)
    {
        Ok(x) => x,
        Err(e) => return Outcome::Failed(e.to_string().into()),
    };
    let named = match input {
        Input::File(path) => ctx.named.contains(path),
        Input::Stdin => true,
    };
    let format = match opts.format.or_else(|| detect::detect(&head)) {
        Some(f) => f,
        None if head.is_empty() => {
            return Outcome::Read {
                nothing: false,
                merged: Merged::No,
            };
        }
        None if journal::looks_like_cat(&head) => {
            return Outcome::Failed(journal::CAT_REFUSED.into());
        }
        None if named => {
            let message = Said::from("unrecognised format (use ")
                .setting(Setting::Format)
                .text(" to say what it is)");
            return Outcome::Failed(message);
        }
        None => return Outcome::NotMail,
    };
    let reader = Cursor::new(head).chain(rest);
    let buffered = |reader| BufReader::with_capacity(READ_BUFFER, reader);
    let before = (tally.pairs.len(), tally.skipped_total(), log.repeated());
    let mut sink = Sink {
        tally,
        strict: opts.strict,
        limit,
    };
    if format == Format::Pairs {
        // The checksum is only worth its cost when a sidecar will be checked against it.
        let sidecars = match input {
            Input::File(path) => has_sidecar(path),
            Input::Stdin => false,
        };
        let mut summed = if sidecars {
            pairs_file::meta::Summing::new(reader)
        } else {
            pairs_file::meta::Summing::unsummed(reader)
        };
        let read = lent::with_scratch(READ_BUFFER, |scratch| {
            let reader = lent::LentBuf::new(&mut summed, &mut scratch.buffer);
            read_pairs(reader, &mut sink, ctx.store, &mut scratch.batch)
        });
        let messages = match read {
            Ok(n) => n,
            Err(e) => return Outcome::Failed(e.said()),
        };
        // A pairs file with no rows is still a pairs file: a host that saw no mail.
        return Outcome::Read {
            nothing: false,
            merged: match input {
                Input::File(path) if sidecars => {
                    let merged = apply_sidecar(path, summed.sum, sink.tally);
                    apply_days(path, summed.sum, messages, sink.tally, merged)
                }
                // What both would do when neither sidecar exists.
                Input::File(_) | Input::Stdin => {
                    sink.tally.period.see(When::Absent, messages);
                    Merged::No
                }
            },
        };
    }
    let result = match format {
        Format::Mbox => read_mbox(buffered(reader), opts, &mut sink),
        Format::Message => read_message(buffered(reader), opts, &mut sink),
        // Reads in windows of its own, no BufReader copy.
        Format::Log => read_log(reader, opts, &mut sink, log.get()),
        Format::Journal => read_log(
            journal::JsonToSyslog::new(buffered(reader)),
            opts,
            &mut sink,
            log.get(),
        ),
        Format::Pairs => unreachable!("read above, with its sidecar"),
        Format::Dmarc => {
            reports::read_report_file(reader, opts, sink.tally).map_err(ReadError::Report)
        }
        Format::ReportMailbox => reports::read_report_mailbox(buffered(reader), opts, sink.tally)
            .map_err(ReadError::Report),
    };
    match result {
        Ok(()) => Outcome::Read {
            nothing: before
                == (
                    sink.tally.pairs.len(),
                    sink.tally.skipped_total(),
                    log.repeated(),
                ),
            merged: Merged::No,
        },
        Err(e) => Outcome::Failed(e.said()),
    }
}

/// Whether the pairs file at `path` has a `.meta` or a `.days` file beside it: anything
/// but "not found" counts as one, so [`apply_sidecar`] and [`apply_days`] still see (and
/// report) a sidecar that cannot be read.
fn has_sidecar(path: &std::path::Path) -> bool {
    [
        pairs_file::meta::sidecar_path(path),
        pairs_file::days::days_path(path),
    ]
    .iter()
    .any(|side| !matches!(std::fs::metadata(side), Err(e) if e.kind() == io::ErrorKind::NotFound))
}

/// Adds what the sidecar of the pairs file at `path` says (skipped records, the inputs it
/// was made from) when it belongs to the bytes just read (`sum`).
fn apply_sidecar(path: &std::path::Path, sum: pairs_file::meta::Sum, tally: &mut Tally) -> Merged {
    let side = pairs_file::meta::sidecar_path(path);
    let text = match std::fs::read(&side) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Merged::No,
        Err(e) => return Merged::Ignored(format!("sidecar {}: {e}; ignored", side.display())),
    };
    match pairs_file::meta::parse(&text) {
        Ok(meta) if meta.pairs == sum => {
            for (n, add) in tally.skipped.iter_mut().zip(meta.skipped) {
                *n = n.saturating_add(add);
            }
            Merged::From {
                inputs: meta.inputs_read,
                sources: meta.inputs,
            }
        }
        Ok(_) => Merged::Ignored(format!(
            "sidecar {} belongs to other contents (the file was changed after scan wrote \
             it); its skipped counts and inputs are ignored",
            side.display()
        )),
        Err(e) => Merged::Ignored(format!("sidecar {}: {e}; ignored", side.display())),
    }
}

/// Adds what the days file of the pairs file at `path` says (the period, each pair's
/// messages by day) when it belongs to the bytes just read (`sum`); without one, the
/// file's `messages` count as undated. Kept apart from the sidecar and the row reading, so
/// the merge path changes in this one place.
fn apply_days(
    path: &std::path::Path,
    sum: pairs_file::meta::Sum,
    messages: u64,
    tally: &mut Tally,
    merged: Merged,
) -> Merged {
    use pairs_file::days;
    let side = days::days_path(path);
    let why = match std::fs::read(&side) {
        Ok(text) => match days::parse(&text) {
            Ok(d) if d.pairs == sum => {
                tally.period.merge(&d.period);
                for (key, day, n) in &d.rows {
                    tally.add_file_day(key, *day, *n);
                }
                return merged;
            }
            Ok(_) => format!(
                "days file {} belongs to other contents; its dates are ignored",
                side.display()
            ),
            Err(e) => format!("days file {}: {e}; ignored", side.display()),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            tally.period.see(When::Absent, messages);
            return merged;
        }
        Err(e) => format!("days file {}: {e}; ignored", side.display()),
    };
    tally.period.see(When::Absent, messages);
    match merged {
        Merged::Ignored(other) => Merged::Ignored(format!("{other}; {why}")),
        Merged::No => Merged::Ignored(why),
        // The sidecar's inputs still count; the messages are in the period as undated.
        from @ Merged::From { .. } => from,
    }
}

/// Where and why reading stopped.
#[derive(Debug)]
enum ReadError {
    Io(io::Error),
    Malformed {
        line: u64,
        what: &'static str,
        /// Which field was wrong, when it can be said.
        why: Option<String>,
    },
    /// `--strict`: a line or header block over the limit, at this byte offset.
    Oversized {
        offset: u64,
        max: usize,
    },
    /// A DMARC report (or a message delivering one) that could not be read.
    Report(Said),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

impl ReadError {
    /// Where and why, naming the settings that stopped the read or would let it go on.
    fn said(self) -> Said {
        match self {
            ReadError::Io(e) => format!("read error: {e}").into(),
            ReadError::Malformed { line, what, why } => {
                let said = Said::from(format!("line {line}: malformed {what} ("))
                    .setting(Setting::Strict)
                    .text(")");
                match why {
                    Some(why) => said.text(&format!(": {why}")),
                    None => said,
                }
            }
            ReadError::Oversized { offset, max } => Said::from(format!(
                "byte {offset}: line or header block longer than {max} bytes ("
            ))
            .setting(Setting::Strict)
            .text("; ")
            .setting(Setting::MaxLineBytes)
            .text(" raises the limit)"),
            ReadError::Report(e) => e,
        }
    }
}

/// Replaces a compressed stream by its decompressed one, and re-reads the head from it.
fn decompressed(
    (head, rest): (Vec<u8>, Box<dyn Read + Send>),
) -> io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    match decompress::Compression::sniff(&head) {
        None => Ok((head, rest)),
        Some(c) => read_head(decompress::on_own_thread(
            c.decoder(Box::new(Cursor::new(head).chain(rest)))?,
        )?),
    }
}

/// Drops NUL bytes at the start of a stream. logrotate's `copytruncate` leaves the new file
/// starting with a hole of NULs as long as the old file (the daemon goes on writing at its
/// old offset), far longer than detection looks. NUL is no line break, so line numbers stay.
fn skip_leading_nuls(
    (mut head, mut rest): (Vec<u8>, Box<dyn Read + Send>),
) -> io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    loop {
        match head.iter().position(|&b| b != 0) {
            Some(0) => return Ok((head, rest)),
            Some(n) => {
                head.drain(..n);
                return read_head(Box::new(Cursor::new(head).chain(rest)));
            }
            None if head.is_empty() => return Ok((head, rest)),
            None => (head, rest) = read_head(rest)?,
        }
    }
}

fn read_head(mut reader: Box<dyn Read + Send>) -> io::Result<(Vec<u8>, Box<dyn Read + Send>)> {
    let mut head = Vec::with_capacity(DETECT_BYTES);
    (&mut reader)
        .take(DETECT_BYTES as u64)
        .read_to_end(&mut head)?;
    Ok((head, reader))
}

/// What a pairs row must be, said when `--strict` stops at one that is not.
const PAIRS_ROW_RULE: &str =
    "a row needs a domain, an IP address (or nothing) and a whole number of messages";

/// Why a malformed item of kind `what` is malformed, where its kind says it.
fn why_for(what: &str) -> Option<String> {
    match what {
        "pairs row" => Some(PAIRS_ROW_RULE.to_string()),
        "message" => Some("its header block holds no header field (Name: value)".to_string()),
        _ => None,
    }
}

/// Where the records of one input go.
struct Sink<'a> {
    tally: &'a mut Tally,
    strict: bool,
    limit: &'a mut LineLimit,
}

impl Sink<'_> {
    /// Adds a record; in strict mode a malformed one stops the input at `line`.
    fn add(
        &mut self,
        record: Record,
        when: When,
        line: u64,
        what: &'static str,
    ) -> Result<(), ReadError> {
        if self.strict && record == Record::Skipped(SkipReason::Malformed) {
            return Err(ReadError::Malformed {
                line,
                what,
                why: why_for(what),
            });
        }
        self.tally.add_at(record, when);
        Ok(())
    }

    /// Counts an item over the limit at `offset`; in strict mode it stops the input.
    fn oversized(&mut self, offset: u64) -> Result<(), ReadError> {
        self.limit.oversized.note(offset);
        if self.strict {
            return Err(ReadError::Oversized {
                offset,
                max: self.limit.max,
            });
        }
        self.tally.add(Record::Skipped(SkipReason::Oversized));
        Ok(())
    }

    /// [`Self::add`] for an item of a split mbox, which says where it started.
    fn add_split(&mut self, split: Split) -> Result<(), ReadError> {
        match split.offset {
            Some(offset) => self.oversized(offset),
            None => self.add(split.record, split.when, split.line, split.what),
        }
    }
}

/// Header bytes split off before a batch of messages is parsed: enough to keep every thread
/// busy, few enough that memory stays bounded whatever the size of the mbox.
const MBOX_BATCH_BYTES: usize = 2 << 20;
const MBOX_BATCH_MESSAGES: usize = 4096;

/// Split messages waiting to be parsed; their header blocks share one buffer.
#[derive(Default)]
struct MboxBatch {
    headers: Vec<u8>,
    items: Vec<MboxSplit>,
}

/// One mbox file: split sequentially (cheap, memmem), header blocks parsed in parallel one
/// batch at a time while the next batch is split (docs/design.md §7). Records are added in file
/// order, so `--strict` stops at the same message as a sequential read. A large plain mbox
/// file read without `--strict` goes by byte ranges instead ([`mbox_ranges`]).
fn read_mbox(
    reader: impl BufRead + Send,
    opts: &ReadOptions,
    sink: &mut Sink<'_>,
) -> Result<(), ReadError> {
    read_mbox_batches(reader, opts, sink)
}

fn read_mbox_batches(
    reader: impl BufRead + Send,
    opts: &ReadOptions,
    sink: &mut Sink<'_>,
) -> Result<(), ReadError> {
    let mut mbox = MboxReader::new(reader).with_limit(opts.max_line_bytes);
    if !opts.strict {
        mbox = mbox.without_line_numbers();
    }
    let mut batch = MboxBatch::default();
    let mut next = MboxBatch::default();
    let mut split = split_batch(&mut mbox, &mut batch);
    while !batch.items.is_empty() {
        let (records, next_split) = if matches!(split, Ok(true)) {
            rayon::join(
                || parse_batch(&batch, opts),
                || split_batch(&mut mbox, &mut next),
            )
        } else {
            (parse_batch(&batch, opts), Ok(false))
        };
        for split in records {
            sink.add_split(split)?;
        }
        // A read error counts only after everything read before it.
        split?;
        std::mem::swap(&mut batch, &mut next);
        next.headers.clear();
        next.items.clear();
        split = next_split;
    }
    split.map(drop).map_err(ReadError::from)
}

/// Splits messages into `batch` until it is full; false when the input has ended.
fn split_batch<R: Read>(mbox: &mut MboxReader<R>, batch: &mut MboxBatch) -> io::Result<bool> {
    while batch.headers.len() < MBOX_BATCH_BYTES && batch.items.len() < MBOX_BATCH_MESSAGES {
        match mbox.next_into(&mut batch.headers)? {
            Some(item) => batch.items.push(item),
            None => return Ok(false),
        }
    }
    Ok(true)
}

/// Each item of a batch to its record, in order.
fn parse_batch(batch: &MboxBatch, opts: &ReadOptions) -> Vec<Split> {
    batch
        .items
        .par_iter()
        .with_min_len(32)
        .map(|item| split_record(item, &batch.headers, opts))
        .collect()
}

/// What one item of a split mbox amounts to.
struct Split {
    record: Record,
    /// When the message arrived (issue 15).
    when: When,
    /// The line it starts at (0 when lines are not counted).
    line: u64,
    what: &'static str,
    /// Set for a message whose header block was over the limit: where it starts.
    offset: Option<u64>,
}

/// A split item's record; `headers` holds its header block.
fn split_record(item: &MboxSplit, headers: &[u8], opts: &ReadOptions) -> Split {
    match item {
        MboxSplit::Preamble { line } => Split {
            record: Record::Skipped(SkipReason::Malformed),
            when: When::Absent,
            line: *line,
            what: "text before the first From line",
            offset: None,
        },
        MboxSplit::Message {
            line,
            oversized: true,
            offset,
            ..
        } => Split {
            record: Record::Skipped(SkipReason::Oversized),
            when: When::Absent,
            line: *line,
            what: "message (header block too large)",
            offset: Some(*offset),
        },
        MboxSplit::Message {
            envelope,
            date,
            header,
            line,
            ..
        } => {
            let header = &headers[header.clone()];
            let record = message::extract(header, Some(envelope), &opts.extract);
            Split {
                when: when_observed(&record, || dated::message_date(header, *date)),
                record,
                line: *line,
                what: "message",
                offset: None,
            }
        }
    }
}

/// The date of a record, looked for only when it is an observation (skipped records have
/// no part in the period).
fn when_observed(record: &Record, date: impl FnOnce() -> When) -> When {
    match record {
        Record::Observed(_) => date(),
        _ => When::Absent,
    }
}

/// A single stored message: its header block, read line by line up to the limit.
fn read_message(
    reader: impl BufRead,
    opts: &ReadOptions,
    sink: &mut Sink<'_>,
) -> Result<(), ReadError> {
    let mut lines = BoundedLines::new(reader, opts.max_line_bytes);
    let mut header = Vec::new();
    let mut line = Vec::new();
    let mut envelope = None;
    let mut envelope_date = When::Absent;
    loop {
        match lines.next_line(&mut line)? {
            Line::End => break,
            // One line over the limit is a header block over it too.
            Line::Oversized(_) => return sink.oversized(0),
            Line::Read if matches!(&line[..], b"\n" | b"\r\n") => break,
            Line::Read => {}
        }
        // Some tools save one message behind an undated `From addr` line: an envelope line,
        // not a header field (`From:` and the obsolete `From  :` are fields).
        if header.is_empty() && envelope.is_none() && detect::is_envelope_line(&line) {
            envelope = Some(mbox::envelope_sender(&line));
            // Such a line is often undated: no date there is an absent one.
            envelope_date = date::parse_from_line(&String::from_utf8_lossy(&line))
                .map_or(When::Absent, When::At);
            continue;
        }
        if header.len() + line.len() > opts.max_line_bytes {
            return sink.oversized(0);
        }
        header.extend_from_slice(&line);
    }
    if reports::read_report_message(&header, &line, lines.into_inner(), opts, sink.tally, "")
        .map_err(ReadError::Report)?
    {
        return Ok(());
    }
    let record = message::extract(&header, envelope.as_deref(), &opts.extract);
    let when = when_observed(&record, || dated::message_date(&header, envelope_date));
    sink.add(record, when, 1, "message")
}

fn read_log(
    reader: impl Read + Send,
    opts: &ReadOptions,
    sink: &mut Sink<'_>,
    log: &mut LogExtractor,
) -> Result<(), ReadError> {
    let max = sink.limit.max;
    log_reader::read_log(reader, log, sink.tally, opts.strict, sink.limit).map_err(
        |stop| match stop {
            log_reader::Stop::Io(e) => ReadError::Io(e),
            log_reader::Stop::Malformed { line, text } => ReadError::Malformed {
                line,
                what: "log line",
                why: Some(why_malformed(&text)),
            },
            log_reader::Stop::Oversized { offset } => ReadError::Oversized { offset, max },
        },
    )
}

/// The field at fault, or the line itself (cut short) when no field can be blamed.
fn why_malformed(text: &str) -> String {
    crate::extract::malformed::explain(text).unwrap_or_else(|| {
        let shown: String = text.chars().take(160).collect();
        format!("the line reads {shown:?}")
    })
}

/// A pairs file, its rows added to the merge's shared table a batch at a time. Rows read
/// before a failure (`--strict`) are kept, like every other input's. Returns the messages
/// its rows hold (which its `.days` file dates, or which count as undated).
///
/// A row's client cell is read by the table, once per spelling (issue 16 item 3), so a
/// row whose client is no address is known bad only when its batch is added: it is counted
/// malformed then, like a row refused here. `--strict` must stop at that row's line, so
/// there every client is read here, as it comes.
fn read_pairs(
    reader: impl BufRead,
    sink: &mut Sink<'_>,
    store: &PairStore,
    batch: &mut Batch,
) -> Result<u64, ReadError> {
    // Every row's messages, less those of the refused rows at the end: no saturation
    // before then (u128 holds any file's sum).
    let mut messages = 0u128;
    let mut refused = Rejected::default();
    let result = pairs_file::read(reader, sink.limit.max, &mut |item| match item {
        pairs_file::Item::Row {
            row: Some(row),
            line,
        } => {
            let client = if sink.strict {
                match row.client() {
                    Some(ip) => Client::Parsed(ip),
                    None => return malformed_row(sink, line),
                }
            } else {
                match Client::text(row.ip).or_else(|| row.client().map(Client::Parsed)) {
                    Some(client) => client,
                    None => {
                        batch.reject(row.messages);
                        messages += u128::from(row.messages);
                        return Ok(());
                    }
                }
            };
            messages += u128::from(row.messages);
            batch.push(store::Kind::Raw, row.domain, client, row.messages);
            if batch.len() >= store::BATCH_ROWS {
                refused = refused.plus(store.add(batch));
            }
            Ok(())
        }
        pairs_file::Item::Row { line, row: None } => malformed_row(sink, line),
        pairs_file::Item::Oversized { offset } => sink.oversized(offset),
    });
    refused = refused.plus(store.add(batch));
    for _ in 0..refused.rows {
        // Not strict (a strict read refuses nothing there), so this never stops the read.
        malformed_row(sink, 0)?;
    }
    let kept = messages.saturating_sub(refused.messages);
    result.map(|()| u64::try_from(kept).unwrap_or(u64::MAX))
}

fn malformed_row(sink: &mut Sink<'_>, line: u64) -> Result<(), ReadError> {
    sink.add(
        Record::Skipped(SkipReason::Malformed),
        When::Absent,
        line,
        "pairs row",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PairKey;
    use crate::model::Sender;

    fn read_bytes(bytes: &[u8], strict: bool) -> Result<Tally, ReadError> {
        let opts = ReadOptions {
            strict,
            ..ReadOptions::default()
        };
        let mut tally = Tally::default();
        let mut limit = LineLimit::new(opts.max_line_bytes);
        let mut sink = Sink {
            tally: &mut tally,
            strict,
            limit: &mut limit,
        };
        read_mbox(bytes, &opts, &mut sink).map(|_| tally)
    }

    fn key(sender: Sender, ip: &str) -> PairKey {
        PairKey {
            sender,
            ip: ip.parse().ok(),
        }
    }

    #[test]
    fn crlf_mbox_without_return_path_next_to_null_sender() {
        let mbox = b"From a@x.example Tue Jun  4 10:00:00 2024\r\nReceived: from m (m [192.0.2.1]) by mx with ESMTP id 1; Tue, 4 Jun 2024 10:00:00 +0000\r\n\r\nFrom the start of the body\r\n\r\n>From quoted\r\n\r\nFrom b@y.example Tue Jun  4 10:00:01 2024\r\nReturn-Path: <>\r\nReceived: from n (n [192.0.2.2]) by mx with ESMTP id 2; Tue, 4 Jun 2024 10:00:01 +0000\r\n\r\nbody\r\n";
        assert_eq!(detect::detect(mbox), Some(Format::Mbox));
        let t = read_bytes(mbox, true).unwrap();
        assert_eq!(t.pairs.len(), 2, "{:?}", t.pairs);
        assert_eq!(
            t.pairs[&key(Sender::Domain("x.example".into()), "192.0.2.1")].messages,
            1,
            "From_ line fills in"
        );
        assert_eq!(
            t.pairs[&key(Sender::Null, "192.0.2.2")].messages,
            1,
            "Return-Path <> wins over the From_ line"
        );
        assert_eq!(t.skipped_total(), 0);
    }

    #[test]
    fn strict_stops_at_the_first_malformed_message() {
        let mbox = b"preamble\n\nFrom a@x.example Tue Jun  4 10:00:00 2024\nReturn-Path: <a@x.example>\n\n";
        assert!(matches!(
            read_bytes(mbox, true),
            Err(ReadError::Malformed { line: 1, .. })
        ));
        let t = read_bytes(mbox, false).unwrap();
        assert_eq!(t.skipped[SkipReason::Malformed.index()], 1);
        assert_eq!(t.messages(), 1);
    }

    #[test]
    fn a_leading_hole_of_nuls_is_skipped_before_detection() {
        let line = b"Jun  4 10:01:00 mx postfix/smtpd[100]: 4A1B2C3D4E: client=x[192.0.2.1]\n";
        let mut bytes = vec![0u8; 3 * DETECT_BYTES + 5];
        bytes.extend_from_slice(line);
        let (head, mut rest) = read_head(Box::new(Cursor::new(bytes)))
            .and_then(skip_leading_nuls)
            .unwrap();
        assert_eq!(head, line, "the whole first line survives");
        assert_eq!(detect::detect(&head), Some(Format::Log));
        assert_eq!(rest.read(&mut [0u8; 8]).unwrap(), 0);
        // NULs inside the text are left alone; a file of NULs only holds nothing.
        let (head, _) = read_head(Box::new(Cursor::new(b"a\0b".to_vec())))
            .and_then(skip_leading_nuls)
            .unwrap();
        assert_eq!(head, b"a\0b");
        let (head, _) = read_head(Box::new(Cursor::new(vec![0u8; 20_000])))
            .and_then(skip_leading_nuls)
            .unwrap();
        assert!(head.is_empty());
    }

    /// A rotation set whose log turns a year (issue 15): `mail.log.1` ends on Dec 31,
    /// `mail.log` starts on Jan 1. Its file times are wrong the way copies make them wrong
    /// (the older file touched a year later); the rotation order still dates both right.
    #[test]
    fn a_rotation_set_across_a_year_is_dated_by_file_time_and_order() {
        let d = tempfile::tempdir().unwrap();
        let line = |stamp: &str, qid: &str, ip: &str| {
            format!(
                "{stamp} mx postfix/smtpd[1]: {qid}: client=c.example[{ip}]\n\
                 {stamp} mx postfix/qmgr[2]: {qid}: from=<a@x.example>, size=1, nrcpt=1 (queue active)\n\
                 {stamp} mx postfix/qmgr[2]: {qid}: removed\n"
            )
        };
        let older = d.path().join("mail.log.1");
        let newer = d.path().join("mail.log");
        std::fs::write(&older, line("Dec 31 23:59:00", "4A1B2C3D4E", "192.0.2.1")).unwrap();
        std::fs::write(&newer, line("Jan  1 00:01:00", "5B2C3D4E5F", "192.0.2.2")).unwrap();
        let at = |t: UtcTime| std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.0 as u64);
        let set = |p: &std::path::Path, t: UtcTime| {
            File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(at(t))
                .unwrap();
        };
        let jan2 = UtcTime::from_civil(2027, 1, 2, 3600);
        set(&newer, jan2);
        set(&older, UtcTime::from_civil(2028, 1, 5, 0));
        let jobs = [Input::File(older.clone()), Input::File(newer.clone())];
        assert_eq!(anchors(&jobs), [jan2, jan2], "no newer than mail.log");
        let r = read_all(
            &[newer.clone(), older.clone()],
            &ReadOptions::default(),
            &ProgressBar::hidden(),
        );
        assert_eq!(
            r.tally.messages(),
            2,
            "{:?} {:?}",
            r.errors,
            r.tally.skipped
        );
        assert_eq!(
            r.tally.period.first,
            Some(UtcTime::from_civil(2026, 12, 31, 86_340))
        );
        assert_eq!(
            r.tally.period.last,
            Some(UtcTime::from_civil(2027, 1, 1, 60))
        );
        assert_eq!((r.tally.period.unparseable, r.tally.period.absent), (0, 0));
        let days = &r.tally.pairs[&key(Sender::Domain("x.example".into()), "192.0.2.1")].days;
        assert_eq!(
            days.iter().collect::<Vec<_>>(),
            [(UtcTime::from_civil(2026, 12, 31, 0).day(), 1)]
        );
    }

    /// Stored messages are dated From_ line first, then Received, then Date; a message
    /// with none is counted absent, never dated by guess.
    #[test]
    fn stored_messages_carry_their_dates_into_the_period() {
        let d = tempfile::tempdir().unwrap();
        let mbox = "From a@x.example Tue Jun  4 10:00:00 2024\n\
                    Return-Path: <a@x.example>\n\
                    Received: from m (m [192.0.2.1]) by mx; Wed, 5 Jun 2024 10:00:00 +0000\n\n\
                    body\n";
        std::fs::write(d.path().join("a.mbox"), mbox).unwrap();
        std::fs::write(
            d.path().join("b.eml"),
            "Return-Path: <a@x.example>\nReceived: from m (m [192.0.2.1]) by mx with ESMTP id 1\n\n",
        )
        .unwrap();
        let r = read_all(
            &[d.path().to_path_buf()],
            &ReadOptions::default(),
            &ProgressBar::hidden(),
        );
        assert_eq!(r.tally.messages(), 2);
        let june4 = UtcTime::from_civil(2024, 6, 4, 36_000);
        assert_eq!(
            (r.tally.period.first, r.tally.period.last),
            (Some(june4), Some(june4))
        );
        assert_eq!((r.tally.period.unparseable, r.tally.period.absent), (0, 1));
    }

    #[test]
    fn read_all_folds_every_file_and_reports_errors_in_input_order() {
        let d = tempfile::tempdir().unwrap();
        for i in 0..20 {
            let msg = format!(
                "Return-Path: <a@x.example>\nReceived: from m (m [192.0.2.1]) by mx with ESMTP id {i}; Tue, 4 Jun 2024 10:00:00 +0000\n\n"
            );
            std::fs::write(d.path().join(format!("m{i:02}.eml")), msg).unwrap();
        }
        std::fs::write(d.path().join("z-bad1"), "\x00junk1").unwrap();
        std::fs::write(d.path().join("a-bad0"), "\x00junk").unwrap();
        let named_bad = d.path().join("z-bad1");
        let opts = ReadOptions::default();
        let missing = d.path().join("missing");
        let r = read_all(
            &[d.path().to_path_buf(), missing, named_bad],
            &opts,
            &ProgressBar::hidden(),
        );
        assert_eq!(r.inputs_ok, 20);
        assert_eq!(
            r.inputs_total, 21,
            "walked files in no format are no inputs"
        );
        assert_eq!(
            r.tally.pairs[&key(Sender::Domain("x.example".into()), "192.0.2.1")].messages,
            20
        );
        let base = |s: &str| s.rsplit('/').next().unwrap().to_string();
        let names: Vec<String> = r.errors.iter().map(|e| base(&e.input)).collect();
        assert_eq!(names, ["missing"], "z-bad1 was reached first by the walk");
        let not_mail: Vec<String> = r.not_mail.iter().map(|n| base(n)).collect();
        assert_eq!(not_mail, ["a-bad0", "z-bad1"]);
        let r = read_all(&[d.path().join("a-bad0")], &opts, &ProgressBar::hidden());
        assert_eq!(r.errors.len(), 1, "named, it is an error");
        let said = r.errors[0].render(|s| if s == Setting::Format { "FORMAT" } else { "?" });
        assert!(
            said.ends_with(": unrecognised format (use FORMAT to say what it is)"),
            "{said}"
        );
    }

    #[test]
    fn copies_and_repeated_records_count_once() {
        let d = tempfile::tempdir().unwrap();
        let log = "Jun  1 19:00:55 mx postfix/smtpd[1]: ABCDE12345: client=h[192.0.2.7]\n\
                   Jun  1 19:00:56 mx postfix/qmgr[2]: ABCDE12345: from=<a@d.example>, size=1, nrcpt=1 (queue active)\n\
                   Jun  1 19:00:57 mx postfix/qmgr[2]: ABCDE12345: removed\n";
        let noise = "Jun  1 19:00:50 mx kernel: something else\n";
        std::fs::write(d.path().join("mail.log"), log).unwrap();
        std::fs::write(d.path().join("mail.log.copy"), log).unwrap();
        std::fs::write(d.path().join("syslog"), format!("{noise}{log}")).unwrap();
        let r = read_all(
            &[d.path().to_path_buf()],
            &ReadOptions::default(),
            &ProgressBar::hidden(),
        );
        assert_eq!(r.tally.messages(), 1, "{:?}", r.tally.pairs);
        assert_eq!(r.repeated, 1, "syslog repeats mail.log's record");
        assert_eq!(r.copies.len(), 1);
        assert!(r.copies[0].0.ends_with("mail.log.copy"));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn nothing_recognised_is_a_warning_or_a_strict_error() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("syslog");
        std::fs::write(&f, "Jun  1 19:00:50 mx kernel: no mail here\n").unwrap();
        let r = read_all(
            std::slice::from_ref(&f),
            &ReadOptions::default(),
            &ProgressBar::hidden(),
        );
        assert!(r.errors.is_empty());
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.inputs_ok, 1);
        let strict = ReadOptions {
            strict: true,
            ..ReadOptions::default()
        };
        let r = read_all(&[f], &strict, &ProgressBar::hidden());
        assert_eq!(r.errors.len(), 1);
        let said = r.errors[0].render(|s| if s == Setting::Strict { "STRICT" } else { "?" });
        assert!(said.contains("nothing recognised"), "{said}");
        assert!(said.ends_with(" (STRICT)"), "{said}");
        assert_eq!(r.inputs_ok, 0);
    }

    #[test]
    fn a_large_mbox_is_read_in_batches_in_order() {
        // More messages than one batch holds; one message with no header field at all.
        let bad = 6_000;
        let mut mbox = Vec::new();
        for i in 0..10_000u32 {
            mbox.extend_from_slice(b"From a@x.example Tue Jun  4 10:00:00 2024\n");
            if i == bad {
                mbox.extend_from_slice(b"no field here\n\nbody\n\n");
            } else {
                let ip = format!("192.0.2.{}", i % 200 + 1);
                mbox.extend_from_slice(
                    format!("Return-Path: <a@x{}.example>\nReceived: from m (m [{ip}]) by mx with ESMTP id 1; Tue, 4 Jun 2024 10:00:00 +0000\n\nbody\n\n", i % 3).as_bytes(),
                );
            }
        }
        let t = read_bytes(&mbox, false).unwrap();
        assert_eq!(t.messages(), 9_999);
        assert_eq!(t.skipped_total(), 1);
        assert_eq!(t.skipped[SkipReason::Malformed.index()], 1);
        assert_eq!(
            t.pairs[&key(Sender::Domain("x1.example".into()), "192.0.2.2")].messages,
            10_000 / 600 + 1,
            "i = 1 + 600k: x1 and 192.0.2.2 together"
        );
        match read_bytes(&mbox, true) {
            Err(ReadError::Malformed { line, .. }) => assert_eq!(line, u64::from(bad) * 6 + 1),
            other => panic!("{other:?}"),
        }
    }
}
