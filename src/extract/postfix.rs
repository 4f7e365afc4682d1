//! Postfix logs: joins the `smtpd` line `QID: client=HOST[IP]` with the `qmgr` line
//! `QID: from=<ADDR>, ...` by queue id (per host), as docs/design.md §3 describes.
//!
//! Postscreen, dnsblog and TLS chatter outnumber the few lines that matter by orders of
//! magnitude, so a line is dismissed on its service name and first bytes before anything
//! else happens, and nothing is allocated unless a record is opened.
//!
//! The work is cut in two so that one log can be parsed on several threads: [`PostfixParser`]
//! turns a line into a [`PostfixEvent`] on its own (any thread, any order), and
//! [`PostfixJoiner::apply`] runs the events through the join state in log order. The event
//! carries the hash of its (host, queue id) key, so applying it costs one table probe.
//!
//! Memory is bounded by log time, not by log length (issue 14.3): a queue id that saw no
//! line for `--queue-window` of log time is evicted, and counted `incomplete` if it still
//! owed a record, as at the end of the input.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::net::IpAddr;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use super::ExtractOptions;
use super::log_time::{LogClock, LogTime};
use super::syslog::{RawSyslogLine, SyslogLine, text};
use crate::model::address::normalize_address;
use crate::model::{Record, SkipReason};
use crate::net::parse_ip;

/// What is known about one queue file so far.
#[derive(Default)]
struct Open {
    client: Option<IpAddr>,
    /// `orig_client=` (XFORWARD) named an internal peer: a content filter re-injected this
    /// copy and `client=` repeats the original client, which the first copy already counts.
    reinjected: bool,
    authenticated: bool,
    /// `pickup` saw it: submitted on this host.
    local: bool,
    /// A reject with this queue id was logged; decides between rejected and incomplete if
    /// the message never reaches qmgr.
    rejected: bool,
    /// Its one [`Record`] is out; deferred retries repeat the qmgr line.
    emitted: bool,
}

impl Open {
    /// The record owed by a message that ended (or the input did) without a qmgr `from=`.
    fn unfinished(&self) -> Option<Record> {
        if self.emitted || self.client.is_none() {
            return None;
        }
        Some(Record::Skipped(if self.rejected {
            SkipReason::Rejected
        } else {
            SkipReason::Incomplete
        }))
    }
}

/// A queue file's identity, `QID HOST` (a queue id holds no space, so the split is
/// unambiguous), with its hash. A host name that is not valid UTF-8 is taken lossily, so
/// that keys compare as the text the rest of the tool would see. The bytes are copied out
/// of the line, inline when short (nearly always): applying an event then touches neither
/// the log buffer, which another core may have read, nor the heap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueKey {
    bytes: KeyBytes,
    hash: u64,
}

/// Longest key held inline.
const INLINE_KEY: usize = 46;

#[derive(Clone, Debug, PartialEq, Eq)]
enum KeyBytes {
    /// Zero-padded, so that equal keys are equal arrays.
    Inline {
        len: u8,
        bytes: [u8; INLINE_KEY],
    },
    Heap(Box<[u8]>),
}

impl KeyBytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            KeyBytes::Inline { len, bytes } => &bytes[..usize::from(*len)],
            KeyBytes::Heap(b) => b,
        }
    }

    fn new(qid: &[u8], host: &[u8]) -> Self {
        let len = qid.len() + 1 + host.len();
        match u8::try_from(len) {
            Ok(short) if len <= INLINE_KEY => {
                let mut bytes = [0; INLINE_KEY];
                bytes[..qid.len()].copy_from_slice(qid);
                bytes[qid.len()] = b' ';
                bytes[qid.len() + 1..len].copy_from_slice(host);
                KeyBytes::Inline { len: short, bytes }
            }
            _ => KeyBytes::Heap([qid, b" ", host].concat().into_boxed_slice()),
        }
    }
}

/// One postfix line that matters to the join, in the order of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostfixEvent<'a> {
    /// `client=`: a new message; `None` when the client could not be read.
    Client {
        key: QueueKey,
        client: Option<Client>,
        /// The `Record::ClientName` of the line's `HOST`, when names are asked for.
        name: Option<Record>,
    },
    /// `pickup`'s `uid=` line: submitted on this host.
    Pickup(QueueKey),
    /// qmgr's `from=<ADDR>, size=` line; `None` when the address could not be read.
    QmgrFrom {
        key: QueueKey,
        sender: Option<Cow<'a, str>>,
    },
    Removed(QueueKey),
    /// A reject that carries a queue id.
    Reject(QueueKey),
    /// A record decided by its line alone (`NOQUEUE: reject`).
    Record(Record),
}

/// What a `client=` line says about the message it opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Client {
    ip: IpAddr,
    authenticated: bool,
    reinjected: bool,
}

/// Turns single postfix lines into [`PostfixEvent`]s; shared by the threads that parse.
#[derive(Clone)]
pub struct PostfixParser {
    opts: ExtractOptions,
    hasher: KeyHasher,
}

impl PostfixParser {
    /// Classifies one postfix line (`line.program` starts with `postfix`); `None` for the
    /// lines the join does not need.
    pub fn classify<'a>(&self, line: &RawSyslogLine<'a>) -> Option<PostfixEvent<'a>> {
        let msg = line.message;
        if let Some(rest) = msg.strip_prefix(b"NOQUEUE: ") {
            return self.noqueue(&text(rest)).map(PostfixEvent::Record);
        }
        let (qid, rest) = split_queue_id(msg)?;
        let service = match line.program.iter().rposition(|&c| c == b'/') {
            Some(slash) => &line.program[slash + 1..],
            None => line.program,
        };
        let key = || self.key(line.host, qid);
        // `journalctl -o with-unit` names the unit (`postfix@-.service`), not the service:
        // each line is then known by its text alone, which only that service writes.
        let unit = line.program.ends_with(b".service");
        match service {
            _ if rest.starts_with(b"client=")
                && (unit || matches!(service, b"smtpd" | b"qmqpd")) =>
            {
                let value = text(&rest[b"client=".len()..]);
                Some(PostfixEvent::Client {
                    client: self.client(&value),
                    name: self.client_name(&value),
                    key: key(),
                })
            }
            _ if rest.starts_with(b"uid=") && (unit || service == b"pickup") => {
                Some(PostfixEvent::Pickup(key()))
            }
            _ if rest.starts_with(b"from=") && (unit || service == b"qmgr") => {
                let sender = match qmgr_sender(&rest[b"from=".len()..])? {
                    QmgrSender::Sender(sender) => Some(sender),
                    QmgrSender::Malformed => None,
                };
                Some(PostfixEvent::QmgrFrom { key: key(), sender })
            }
            _ if rest == b"removed" => Some(PostfixEvent::Removed(key())),
            _ if is_reject(rest) => Some(PostfixEvent::Reject(key())),
            _ => None,
        }
    }

    fn key(&self, host: &[u8], qid: &[u8]) -> QueueKey {
        // Host names are short and nearly always ASCII: no call into the UTF-8 validator.
        let host = if host.is_ascii() {
            Cow::Borrowed(host)
        } else {
            match text(host) {
                Cow::Borrowed(_) => Cow::Borrowed(host),
                Cow::Owned(lossy) => Cow::Owned(lossy.into_bytes()),
            }
        };
        QueueKey {
            hash: self.hasher.hash(&host, qid),
            bytes: KeyBytes::new(qid, &host),
        }
    }

    /// `client=HOST[IP][:PORT][, sasl_method=M, sasl_username=U][, orig_queue_id=Q,
    /// orig_client=HOST[IP]]`.
    fn client(&self, value: &str) -> Option<Client> {
        let (ip, tail) = bracketed_ip(value)?;
        // Most `client=` lines end at the address (or its port): no field to look for.
        let fields = memchr::memchr(b'=', tail.as_bytes()).is_some();
        Some(Client {
            ip,
            authenticated: fields && find(tail, "sasl_username=").is_some(),
            reinjected: fields
                && find(tail, "orig_client=")
                    .and_then(|p| bracketed_ip(&tail[p..]))
                    .is_some_and(|(orig, _)| self.opts.is_internal(orig)),
        })
    }

    /// `HOST` of `client=HOST[IP]...`, as a `Record::ClientName` (postfix writes `unknown`
    /// for a client whose reverse name did not confirm).
    fn client_name(&self, value: &str) -> Option<Record> {
        if !self.opts.client_names {
            return None;
        }
        let open = value.find('[')?;
        let (ip, _) = bracketed_ip(value)?;
        self.opts.client_name(&value[..open], ip)
    }

    /// `KIND: STAGE from CLIENT: REPLY; from=<ADDR> to=<RCPT> proto=P helo=<HELO>` (smtpd)
    /// or the same with `, ` between the fields and `[IP]:PORT` as client (postscreen).
    fn noqueue(&self, rest: &str) -> Option<Record> {
        let (kind, rest) = rest.split_once(": ")?;
        // reject_warning, discard, filter, hold, ...: the mail was not refused (or not here).
        if !matches!(kind, "reject" | "milter-reject" | "proxy-reject") {
            return None;
        }
        let (stage, rest) = rest.split_once(" from ")?;
        // Earlier stages (CONNECT, HELO, ...) carry no sender, so no attempted message.
        if !matches!(stage, "MAIL" | "RCPT" | "DATA" | "BDAT" | "END-OF-MESSAGE") {
            return None;
        }
        let malformed = Some(Record::Skipped(SkipReason::Malformed));
        let client = &rest[..rest.find(' ').unwrap_or(rest.len())];
        let Some((ip, _)) = bracketed_ip(client) else {
            return malformed;
        };
        let Some(from) = rest.find("; from=") else {
            return malformed;
        };
        let Some((addr, fields)) = rest[from + "; from=".len()..]
            .strip_prefix('<')
            .and_then(take_address)
        else {
            return malformed;
        };
        if !self.opts.include_rejected {
            return Some(Record::Skipped(SkipReason::Rejected));
        }
        if fields.contains("sasl_username=") {
            return Some(Record::Skipped(SkipReason::Authenticated));
        }
        if self.opts.is_internal(ip) {
            return Some(Record::Skipped(SkipReason::Internal));
        }
        let helo = fields
            .find("helo=<")
            .and_then(|p| take_address(&fields[p + "helo=<".len()..]))
            .map(|(helo, _)| helo);
        Some(self.opts.observe(normalize_address(addr), Some(ip), helo))
    }
}

/// Hashes (host, queue id) keys for the open-record table: a few multiplications per 8
/// bytes (SipHash cost more than the rest of a line's parsing). Seeded per run from std's
/// random keys, so collisions cannot be prepared in advance.
#[derive(Clone, Copy)]
struct KeyHasher {
    seed: u64,
}

impl KeyHasher {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    const L: u64 = 0xd6e8_feb8_6659_fd93;

    fn new() -> Self {
        KeyHasher {
            seed: std::hash::RandomState::new().hash_one(0x5eed_u64) | 1,
        }
    }

    /// Multiplies as 128 bits and folds the halves, so every input bit reaches every
    /// output bit (hashbrown reads both the low and the high bits).
    fn mix(a: u64, b: u64) -> u64 {
        let product = u128::from(a) * u128::from(b);
        (product as u64) ^ ((product >> 64) as u64)
    }

    fn bytes(mut h: u64, bytes: &[u8]) -> u64 {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let word = u64::from_le_bytes(word.try_into().expect("chunks of 8"));
            h = Self::mix(h ^ word, Self::K);
        }
        // A loop, not a copy into a zeroed word: a copy of variable length calls memcpy.
        let last = (words.remainder().iter().rev()).fold(0u64, |w, &c| w << 8 | u64::from(c));
        Self::mix(h ^ last, Self::K)
    }

    fn hash(&self, host: &[u8], qid: &[u8]) -> u64 {
        let lengths = (host.len() as u64) << 32 | qid.len() as u64;
        let h = Self::bytes(self.seed ^ lengths, host);
        Self::mix(Self::bytes(h, qid), Self::L)
    }
}

enum QmgrSender<'a> {
    Sender(Cow<'a, str>),
    Malformed,
}

/// The address of qmgr's `from=<ADDR>, size=N, nrcpt=M (queue active)`. qmgr also logs
/// `from=<ADDR>, status=expired, returned to sender` for deferred mail that gave up; only
/// the `size=` line is the message entering the queue, so the others are `None`.
fn qmgr_sender(value: &[u8]) -> Option<QmgrSender<'_>> {
    let Some(bracketed) = value.strip_prefix(b"<") else {
        return Some(QmgrSender::Malformed);
    };
    let Some(end) = address_end(bracketed) else {
        return Some(QmgrSender::Malformed);
    };
    if !bracketed[end + 1..].starts_with(b", size=") {
        return None;
    }
    // Only the address is decoded; the cut is at an ASCII `>`, so it reads as the same
    // piece of the whole line decoded would.
    Some(QmgrSender::Sender(text(&bracketed[..end])))
}

/// One open queue file in the table, with the hash it was filed under.
struct Slot {
    hash: u64,
    key: KeyBytes,
    open: Open,
    /// The log clock when a line last named it.
    seen: u32,
}

impl Slot {
    fn is(&self, key: &QueueKey) -> bool {
        self.hash == key.hash && self.key == key.bytes
    }
}

/// Open records keyed by (host, queue id); emits one [`Record`] per message.
pub struct PostfixJoiner {
    parser: PostfixParser,
    open: HashTable<Slot>,
    clock: LogClock,
    /// The log clock at which queue ids idle for a window are next looked for.
    next_sweep: u32,
}

impl PostfixJoiner {
    pub fn new(opts: ExtractOptions) -> Self {
        PostfixJoiner {
            next_sweep: sweep_interval(&opts),
            parser: PostfixParser {
                opts,
                hasher: KeyHasher::new(),
            },
            open: HashTable::new(),
            clock: LogClock::default(),
        }
    }

    /// The parser whose events this joiner accepts (their keys are hashed its way).
    pub fn parser(&self) -> &PostfixParser {
        &self.parser
    }

    /// Feeds one postfix line (`line.program` starts with `postfix`) written at `time`.
    /// The binary applies pre-classified events ([`Self::apply`]); this line-by-line path is
    /// part of the library API the property tests use.
    pub fn feed(
        &mut self,
        line: &SyslogLine<'_>,
        time: Option<LogTime>,
        emit: &mut dyn FnMut(Record),
    ) {
        if let Some(event) = self.parser.classify(&RawSyslogLine::of(line)) {
            self.apply(event, time, emit);
        }
    }

    /// Applies one event of [`Self::parser`], from a line written at `time`; events must
    /// come in log order.
    pub fn apply(
        &mut self,
        event: PostfixEvent<'_>,
        time: Option<LogTime>,
        emit: &mut dyn FnMut(Record),
    ) {
        if let Some(t) = time
            && self.clock.see(t) >= self.next_sweep
        {
            self.evict_idle(emit);
        }
        match event {
            PostfixEvent::Record(record) => emit(record),
            PostfixEvent::Client { key, client, name } => {
                if let Some(name) = name {
                    emit(name);
                }
                self.client(&key, client, emit)
            }
            PostfixEvent::Pickup(key) => self.entry(&key).local = true,
            PostfixEvent::QmgrFrom { key, sender } => self.qmgr_from(&key, sender, emit),
            PostfixEvent::Removed(key) => {
                let removed = self.open.find_entry(key.hash, |s| s.is(&key)).ok();
                if let Some(record) = removed.and_then(|e| e.remove().0.open.unfinished()) {
                    emit(record);
                }
            }
            PostfixEvent::Reject(key) => {
                if let Some(slot) = self.open.find_mut(key.hash, |s| s.is(&key)) {
                    slot.open.rejected = true;
                    slot.seen = self.clock.now();
                }
            }
        }
    }

    /// Drops the queue ids no line named for a window of log time; those that still owed a
    /// record report it, as at the end of the input.
    fn evict_idle(&mut self, emit: &mut dyn FnMut(Record)) {
        let now = self.clock.now();
        let window = self.parser.opts.queue_window_secs;
        let idle = |slot: &Slot| now - slot.seen > window;
        let kept = self.open.iter().filter(|s| !idle(s)).count();
        // The survivors move to a table of their own size: `retain` would leave a tombstone
        // per evicted id, and hashbrown doubles a table whose tombstones run out its room
        // while it is more than half full, which on a steady log keeps it at four times the
        // ids it holds. A quarter more room takes the ids of the next sweep interval.
        let mut fresh = HashTable::with_capacity(kept + kept / 4 + 64);
        for slot in std::mem::take(&mut self.open) {
            if idle(&slot) {
                if let Some(record) = slot.open.unfinished() {
                    emit(record);
                }
            } else {
                fresh.insert_unique(slot.hash, slot, |s| s.hash);
            }
        }
        self.open = fresh;
        self.next_sweep = now.saturating_add(sweep_interval(&self.parser.opts));
    }

    /// Open queue ids (for tests and the memory check).
    pub fn open_ids(&self) -> usize {
        self.open.len()
    }

    /// End of input: reports records still open.
    pub fn finish(self, emit: &mut dyn FnMut(Record)) {
        self.finish_keyed(&mut |_, record| emit(record));
    }

    /// [`Self::finish`], each record with its `QID HOST` key (its identity across files).
    pub fn finish_keyed(self, emit: &mut dyn FnMut(&[u8], Record)) {
        for slot in self.open {
            if let Some(record) = slot.open.unfinished() {
                emit(slot.key.as_slice(), record);
            }
        }
    }

    fn entry(&mut self, key: &QueueKey) -> &mut Open {
        entry(&mut self.open, key, self.clock.now())
    }

    /// A `client=` line: a new message, even when the queue id is an old one.
    fn client(&mut self, key: &QueueKey, client: Option<Client>, emit: &mut dyn FnMut(Record)) {
        let mut fresh = Open::default();
        match client {
            Some(c) => {
                fresh.client = Some(c.ip);
                fresh.authenticated = c.authenticated;
                fresh.reinjected = c.reinjected;
            }
            None => {
                // Emitted now and marked so, so that the qmgr line does not count it again.
                fresh.emitted = true;
                emit(Record::Skipped(SkipReason::Malformed));
            }
        }
        let open = self.entry(key);
        // A `removed` line went missing: the earlier message still owes its record.
        if let Some(record) = open.unfinished() {
            emit(record);
        }
        *open = fresh;
    }

    /// qmgr's `from=` line; the first one per message decides.
    fn qmgr_from(
        &mut self,
        key: &QueueKey,
        sender: Option<Cow<'_, str>>,
        emit: &mut dyn FnMut(Record),
    ) {
        let opts = &self.parser.opts;
        let open = entry(&mut self.open, key, self.clock.now());
        if open.emitted {
            return;
        }
        open.emitted = true;
        let Some(addr) = sender else {
            emit(Record::Skipped(SkipReason::Malformed));
            return;
        };
        let record = match open.client {
            _ if open.local => Record::Skipped(SkipReason::Local),
            // No smtpd behind it: pickup, a local forward, a bounce postfix wrote itself.
            None => Record::Skipped(SkipReason::Local),
            Some(_) if open.authenticated => Record::Skipped(SkipReason::Authenticated),
            Some(ip) if open.reinjected || opts.is_internal(ip) => {
                Record::Skipped(SkipReason::Internal)
            }
            Some(ip) => opts.observe(normalize_address(&addr), Some(ip), None),
        };
        emit(record);
    }
}

/// The open record of `key`, opened now if there is none; either way seen at `now`.
fn entry<'t>(table: &'t mut HashTable<Slot>, key: &QueueKey, now: u32) -> &'t mut Open {
    let slot = match table.entry(key.hash, |s| s.is(key), |s| s.hash) {
        Entry::Occupied(e) => e.into_mut(),
        Entry::Vacant(e) => e
            .insert(Slot {
                hash: key.hash,
                key: key.bytes.clone(),
                open: Open::default(),
                seen: now,
            })
            .into_mut(),
    };
    slot.seen = now;
    &mut slot.open
}

/// How much log time passes between two looks for idle queue ids: an eighth of the window
/// (at least a minute), so an id is dropped at most an eighth late and the looks, each a
/// pass over the open ids, cost a constant share per line.
fn sweep_interval(opts: &ExtractOptions) -> u32 {
    (opts.queue_window_secs / 8).max(60)
}

/// Splits `QID: rest`, accepting only the two queue id alphabets of postconf(5)
/// `enable_long_queue_ids`, so that `NOQUEUE`, `warning` or `statistics` never open records.
fn split_queue_id(msg: &[u8]) -> Option<(&[u8], &[u8])> {
    // One pass over a class table: every postfix line of the log comes here.
    let (mut all, mut any, mut len) = (u8::MAX, 0, 0);
    for &c in msg {
        let class = QUEUE_ID_CLASS[usize::from(c)];
        if class & ALNUM == 0 {
            break;
        }
        (all, any, len) = (all & class, any | class, len + 1);
    }
    if len < 5 || msg.get(len..len + 2) != Some(b": ") {
        return None;
    }
    let short = all & HEX_UPPER != 0;
    let long = len >= 10 && any & VOWEL == 0;
    (short || long).then(|| (&msg[..len], &msg[len + 2..]))
}

const ALNUM: u8 = 1;
/// The short queue id alphabet, `0-9A-F`.
const HEX_UPPER: u8 = 2;
/// Never in a long queue id.
const VOWEL: u8 = 4;

static QUEUE_ID_CLASS: [u8; 256] = {
    let mut table = [0; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        if c.is_ascii_alphanumeric() {
            table[i] |= ALNUM;
        }
        if c.is_ascii_digit() || matches!(c, b'A'..=b'F') {
            table[i] |= HEX_UPPER;
        }
        if matches!(c.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u') {
            table[i] |= VOWEL;
        }
        i += 1;
    }
    table
};

/// `str::find` for the short needles here, without the searcher set-up `str::find` pays.
fn find(haystack: &str, needle: &str) -> Option<usize> {
    memchr::memmem::find(haystack.as_bytes(), needle.as_bytes())
}

/// Rejects that carry a queue id: whole-message ones (`DATA`, `BDAT`, `END-OF-MESSAGE`,
/// cleanup's header/body checks) and single-recipient `RCPT` ones alike, since a later qmgr
/// `from=` shows the message was accepted for other recipients and wins.
fn is_reject(rest: &[u8]) -> bool {
    rest.starts_with(b"reject: ")
        || rest.starts_with(b"milter-reject: ")
        || rest.starts_with(b"proxy-reject: ")
}

/// `HOST[IP]...` or `[IP]:PORT...`: the address in the first brackets and what follows.
pub(super) fn bracketed_ip(text: &str) -> Option<(IpAddr, &str)> {
    let b = text.as_bytes();
    let open = memchr::memchr(b'[', b)?;
    let close = open + memchr::memchr(b']', &b[open..])?;
    let inside = &text[open + 1..close];
    Some((parse_ip(inside)?, &text[close + 1..]))
}

/// The address after `from=<` up to its closing `>`: the first one outside a quoted local
/// part (`"jane> doe"@example.com`) that is followed by `,`, a space or the end of the line.
pub(super) fn take_address(text: &str) -> Option<(&str, &str)> {
    let end = address_end(text.as_bytes())?;
    Some((&text[..end], &text[end + 1..]))
}

/// [`take_address`] on bytes: the index of the closing `>`. Only ASCII bytes decide, so
/// raw bytes and their lossy decoding give the same cut.
fn address_end(b: &[u8]) -> Option<usize> {
    let closes = |i: usize| matches!(b.get(i + 1), None | Some(b',' | b' '));
    // Usual case: no quote before the first `>`, which closes the address.
    if let Some(gt) = memchr::memchr(b'>', b)
        && closes(gt)
        && memchr::memchr(b'"', &b[..gt]).is_none()
    {
        return Some(gt);
    }
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, &c) in b.iter().enumerate() {
        match c {
            _ if escaped => escaped = false,
            b'\\' if in_quotes => escaped = true,
            b'"' => in_quotes = !in_quotes,
            b'>' if !in_quotes && closes(i) => return Some(i),
            _ => {}
        }
    }
    // An unbalanced quote is junk, but its end is still where the next field starts.
    memchr::memchr_iter(b'>', b).find(|&i| closes(i))
}

#[cfg(test)]
mod tests {
    use super::super::{NullSenderMode, syslog};
    use super::*;
    use crate::model::{PairKey, Sender};

    fn run_with(opts: ExtractOptions, log: &str) -> Vec<Record> {
        let mut joiner = PostfixJoiner::new(opts);
        let mut out = Vec::new();
        for text in log.lines().filter(|l| !l.trim().is_empty()) {
            let line = syslog::split(text.trim()).unwrap_or_else(|| panic!("not syslog: {text:?}"));
            assert!(line.program.starts_with("postfix"), "{text}");
            joiner.feed(
                &line,
                super::super::log_time::parse(text.trim().as_bytes()),
                &mut |r| out.push(r),
            );
        }
        joiner.finish(&mut |r| out.push(r));
        out
    }

    fn run(log: &str) -> Vec<Record> {
        run_with(ExtractOptions::default(), log)
    }

    fn obs(domain: &str, ip: &str) -> Record {
        Record::Observed(PairKey {
            sender: Sender::Domain(domain.to_string()),
            ip: Some(ip.parse().unwrap()),
        })
    }

    fn skip(reason: SkipReason) -> Record {
        Record::Skipped(reason)
    }

    /// Sorted, for comparing the records of interleaved messages.
    fn sorted(v: Vec<Record>) -> Vec<String> {
        let mut s: Vec<String> = v.into_iter().map(|r| format!("{r:?}")).collect();
        s.sort();
        s
    }

    const NORMAL: &str = "
        Jun  1 19:00:55 mx postfix/smtpd[10]: 3F2A81C0A5D: client=mail.example.org[192.0.2.10]
        Jun  1 19:00:55 mx postfix/cleanup[11]: 3F2A81C0A5D: message-id=<1@example.org>
        Jun  1 19:00:56 mx postfix/qmgr[12]: 3F2A81C0A5D: from=<Alice@Example.ORG>, size=1234, nrcpt=1 (queue active)
        Jun  1 19:00:56 mx postfix/smtp[13]: 3F2A81C0A5D: to=<b@example.net>, relay=x[192.0.2.9]:25, status=sent (250 ok)
        Jun  1 19:00:56 mx postfix/qmgr[12]: 3F2A81C0A5D: removed";

    #[test]
    fn normal_message() {
        assert_eq!(run(NORMAL), vec![obs("example.org", "192.0.2.10")]);
    }

    #[test]
    fn client_names_only_when_asked_and_only_confirmed_ones() {
        let named = ExtractOptions {
            client_names: true,
            ..ExtractOptions::default()
        };
        let log = format!(
            "{NORMAL}
            Jun  1 19:10:00 mx postfix/smtpd[10]: 4A1B2C3D4E5: client=unknown[198.51.100.20]
            Jun  1 19:10:01 mx postfix/qmgr[12]: 4A1B2C3D4E5: from=<bob@example.com>, size=99, nrcpt=2 (queue active)
            Jun  1 19:10:02 mx postfix/qmgr[12]: 4A1B2C3D4E5: removed"
        );
        let name = Record::ClientName {
            ip: "192.0.2.10".parse().unwrap(),
            name: "mail.example.org".into(),
        };
        let records = run_with(named, &log);
        assert_eq!(
            records,
            vec![
                name,
                obs("example.org", "192.0.2.10"),
                obs("example.com", "198.51.100.20")
            ]
        );
        assert!(
            !run(&log)
                .iter()
                .any(|r| matches!(r, Record::ClientName { .. }))
        );
    }

    #[test]
    fn queue_id_reuse_is_a_new_message() {
        let log = format!(
            "{NORMAL}
            Jun  1 19:10:00 mx postfix/smtpd[10]: 3F2A81C0A5D: client=other.example[198.51.100.20]:4711
            Jun  1 19:10:01 mx postfix/qmgr[12]: 3F2A81C0A5D: from=<bob@example.com>, size=99, nrcpt=2 (queue active)
            Jun  1 19:10:02 mx postfix/qmgr[12]: 3F2A81C0A5D: removed"
        );
        assert_eq!(
            run(&log),
            vec![
                obs("example.org", "192.0.2.10"),
                obs("example.com", "198.51.100.20")
            ]
        );
    }

    #[test]
    fn content_filter_reinjection_counts_once() {
        let log = "
            2023-03-14T00:08:33.579644+01:00 helga postfix/smtpd[297535]: 4PbC4x469Jz3tBr: client=mail.nistoresio.co.cz[203.0.113.120]
            2023-03-14T00:08:33.628392+01:00 helga postfix/cleanup[302604]: 4PbC4x469Jz3tBr: message-id=<7@ajmyjyz>
            2023-03-14T00:08:33.787870+01:00 helga postfix/qmgr[3163066]: 4PbC4x469Jz3tBr: from=<ajmyjyz@nistoresio.co.cz>, size=175061, nrcpt=1 (queue active)
            2023-03-14T00:08:35.917122+01:00 helga postfix/10025/smtpd[302614]: 4PbC4z6W5Qz3tG3: client=localhost[127.0.0.1]
            2023-03-14T00:08:35.925875+01:00 helga postfix/qmgr[3163066]: 4PbC4z6W5Qz3tG3: from=<ajmyjyz@nistoresio.co.cz>, size=175919, nrcpt=1 (queue active)
            2023-03-14T00:08:35.948047+01:00 helga postfix/amavis/smtp[302609]: 4PbC4x469Jz3tBr: to=<u@example.net>, relay=127.0.0.1[127.0.0.1]:10024, status=sent (250 2.0.0 Ok: queued as 4PbC4z6W5Qz3tG3)
            2023-03-14T00:08:35.948639+01:00 helga postfix/qmgr[3163066]: 4PbC4x469Jz3tBr: removed
            2023-03-14T00:08:36.037498+01:00 helga postfix/qmgr[3163066]: 4PbC4z6W5Qz3tG3: removed";
        assert_eq!(
            run(log),
            vec![
                obs("nistoresio.co.cz", "203.0.113.120"),
                skip(SkipReason::Internal)
            ]
        );
    }

    #[test]
    fn xforward_reinjection_with_orig_client_is_internal() {
        let log = "
            Jun  1 19:00:55 mx postfix/smtpd[10]: ABCDE1: client=mail.example.org[192.0.2.10]
            Jun  1 19:00:56 mx postfix/qmgr[12]: ABCDE1: from=<a@example.org>, size=1, nrcpt=1 (queue active)
            Jun  1 19:00:57 mx postfix/10025/smtpd[14]: ABCDE2: client=mail.example.org[192.0.2.10], orig_queue_id=ABCDE1, orig_client=localhost[127.0.0.1]
            Jun  1 19:00:57 mx postfix/qmgr[12]: ABCDE2: from=<a@example.org>, size=2, nrcpt=1 (queue active)";
        assert_eq!(
            run(log),
            vec![obs("example.org", "192.0.2.10"), skip(SkipReason::Internal)]
        );
    }

    #[test]
    fn pickup_is_local_and_bounces_are_local() {
        let log = "
            2023-03-14T06:27:34.913959+01:00 helga postfix/pickup[320974]: 4PbMVG6Tmjz3tG3: uid=0 from=<root>
            2023-03-14T06:27:35.000000+01:00 helga postfix/qmgr[3163066]: 4PbMVG6Tmjz3tG3: from=<root@mail.example.org>, size=500, nrcpt=1 (queue active)
            2023-03-14T06:27:35.100000+01:00 helga postfix/qmgr[3163066]: 4PbMVH1yTpz3tG3: from=<>, size=900, nrcpt=1 (queue active)
            2023-03-14T06:27:35.200000+01:00 helga postfix/qmgr[3163066]: 4PbMVH1yTpz3tG3: from=<>, size=900, nrcpt=1 (queue active)
            2023-03-14T06:27:35.281454+01:00 helga postfix/qmgr[3163066]: 4PbMVG6Tmjz3tG3: removed";
        assert_eq!(
            run(log),
            vec![skip(SkipReason::Local), skip(SkipReason::Local)]
        );
    }

    #[test]
    fn pickup_without_qmgr_line_reports_nothing() {
        let log = "Jun  1 19:00:55 mx postfix/pickup[1]: ABCDEF: uid=1000 from=<user>";
        assert_eq!(run(log), vec![]);
    }

    #[test]
    fn sasl_submission_is_authenticated() {
        let log = "
            2023-03-14T00:31:06.621091+01:00 helga postfix/submission/smtpd[303987]: 4PbCZy4PWKz3tBr: client=unknown[2001:db8::15c8], sasl_method=PLAIN, sasl_username=vmail@example.net
            2023-03-14T00:31:06.700000+01:00 helga postfix/qmgr[3163066]: 4PbCZy4PWKz3tBr: from=<vmail@example.net>, size=10, nrcpt=1 (queue active)
            2023-03-14T00:31:07.000000+01:00 helga postfix/qmgr[3163066]: 4PbCZy4PWKz3tBr: removed";
        assert_eq!(run(log), vec![skip(SkipReason::Authenticated)]);
    }

    const SMTPD_REJECT: &str = "Jun  1 19:00:55 mx postfix/smtpd[304356]: NOQUEUE: reject: RCPT from smtp.example.in[198.51.100.50]: 450 4.1.8 <s@S510.gigasys>: Sender address rejected: Domain not found; from=<s@S510.gigasys> to=<u@example.net> proto=ESMTP helo=<galaxy.example.in>";
    const NULL_REJECT: &str = "Jun  1 19:00:56 mx postfix/smtpd[304356]: NOQUEUE: reject: RCPT from smtp.example.in[198.51.100.50]: 554 5.7.1 <u@example.net>: Relay access denied; from=<> to=<u@example.net> proto=ESMTP helo=<Galaxy.Example.IN>";
    const POSTSCREEN_REJECT: &str = "2023-03-14T00:26:51.985219+01:00 helga postfix/postscreen[3163107]: NOQUEUE: reject: RCPT from [203.0.113.193]:62795: 550 5.7.1 Service unavailable; client [203.0.113.193] blocked using zen.spamhaus.org; from=<ripe@example.de>, to=<zz@example.com>, proto=ESMTP, helo=<3BqSwxw>";

    #[test]
    fn noqueue_rejects_are_rejected_by_default() {
        let log = format!("{SMTPD_REJECT}\n{NULL_REJECT}\n{POSTSCREEN_REJECT}");
        assert_eq!(run(&log), vec![skip(SkipReason::Rejected); 3]);
    }

    #[test]
    fn noqueue_rejects_observed_with_include_rejected() {
        let mut o = ExtractOptions {
            include_rejected: true,
            ..ExtractOptions::default()
        };
        let log = format!("{SMTPD_REJECT}\n{NULL_REJECT}\n{POSTSCREEN_REJECT}");
        let null = Record::Observed(PairKey {
            sender: Sender::Null,
            ip: Some("198.51.100.50".parse().unwrap()),
        });
        assert_eq!(
            run_with(o.clone(), &log),
            vec![
                obs("s510.gigasys", "198.51.100.50"),
                null,
                obs("example.de", "203.0.113.193"),
            ]
        );
        o.null_sender = NullSenderMode::Helo;
        assert_eq!(
            run_with(o, NULL_REJECT),
            vec![obs("galaxy.example.in", "198.51.100.50")]
        );
    }

    #[test]
    fn noqueue_internal_client_and_non_rejects() {
        let o = ExtractOptions {
            include_rejected: true,
            ..ExtractOptions::default()
        };
        let log = "
            Jun  1 19:00:55 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[10.0.0.7]: 554 no; from=<a@example.org> to=<b@example.net> proto=ESMTP helo=<x>
            Jun  1 19:00:55 mx postfix/smtpd[1]: NOQUEUE: reject_warning: RCPT from x[192.0.2.7]: 554 no; from=<a@example.org> to=<b@example.net> proto=ESMTP helo=<x>
            Jun  1 19:00:55 mx postfix/smtpd[1]: NOQUEUE: reject: CONNECT from x[192.0.2.7]: 554 no; proto=SMTP
            Jun  1 19:00:55 mx postfix/smtpd[1]: NOQUEUE: milter-reject: RCPT from x[192.0.2.8]: 451 4.7.1 later; from=<a@example.org> to=<b@example.net> proto=ESMTP helo=<x>
            Jun  1 19:00:55 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.9]: 550 no; to=<b@example.net> proto=ESMTP helo=<x>";
        assert_eq!(
            run_with(o, log),
            vec![
                skip(SkipReason::Internal),
                obs("example.org", "192.0.2.8"),
                skip(SkipReason::Malformed),
            ]
        );
    }

    #[test]
    fn quoted_local_part_with_spaces_and_brackets() {
        let o = ExtractOptions {
            include_rejected: true,
            ..ExtractOptions::default()
        };
        let log = r#"
            Jun  1 19:00:55 mx postfix/smtpd[1]: ABCDE9: client=x[192.0.2.1]
            Jun  1 19:00:56 mx postfix/qmgr[2]: ABCDE9: from=<"jane> doe"@Example.com>, size=5, nrcpt=1 (queue active)
            Jun  1 19:00:57 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.2]: 550 no; from=<"a, b"@example.net> to=<c@example.org> proto=ESMTP helo=<h.example>"#;
        assert_eq!(
            run_with(o, log),
            vec![
                obs("example.com", "192.0.2.1"),
                obs("example.net", "192.0.2.2")
            ]
        );
    }

    #[test]
    fn short_hex_ids_and_deferred_retries() {
        let log = "
            Aug 13 15:45:46 server postfix/smtpd[13844]: 00ADB3C0899: client=example.com[192.0.2.1]
            Aug 13 15:45:47 server postfix/qmgr[2]: 00ADB3C0899: from=<x@example.com>, size=10, nrcpt=1 (queue active)
            Aug 13 15:45:48 server postfix/smtp[3]: 00ADB3C0899: to=<y@example.net>, relay=none, status=deferred (connect timed out)
            Aug 13 16:15:47 server postfix/qmgr[2]: 00ADB3C0899: from=<x@example.com>, size=10, nrcpt=1 (queue active)
            Aug 18 16:15:47 server postfix/qmgr[2]: 00ADB3C0899: from=<x@example.com>, status=expired, returned to sender
            Aug 18 16:15:48 server postfix/qmgr[2]: 00ADB3C0899: removed";
        assert_eq!(run(log), vec![obs("example.com", "192.0.2.1")]);
    }

    #[test]
    fn client_without_from_is_incomplete_or_rejected() {
        let log = "
            Jun  1 19:00:55 mx postfix/smtpd[1]: ABCDE1: client=a[192.0.2.1]
            Jun  1 19:00:56 mx postfix/qmgr[2]: ABCDE1: removed
            Jun  1 19:00:57 mx postfix/smtpd[1]: 4104E3D: client=b[192.0.2.2]
            Jun  1 19:00:58 mx postfix/cleanup[3]: 4104E3D: milter-reject: END-OF-MESSAGE from b[192.0.2.2]: 5.7.1 Blocked by SpamAssassin; from=<w@example.com> to=<u@example.net> proto=ESMTP helo=<b>
            Jun  1 19:00:58 mx postfix/cleanup[3]: 4104E3D: removed
            Jun  1 19:00:59 mx postfix-smo/submission/smtpd[4]: 44JCRG5tYPzCqt2: client=c[192.0.2.3]
            Jun  1 19:00:59 mx postfix-smo/submission/smtpd[4]: 44JCRG5tYPzCqt2: reject: BDAT from c[192.0.2.3]: 552 too big; from=<w@example.com> to=<u@example.net> proto=ESMTP helo=<c>
            Jun  1 19:01:00 mx postfix/smtpd[1]: ABCDE2: client=d[192.0.2.4]
            Jun  1 19:01:01 mx postfix/smtpd[1]: ABCDE3: client=e[192.0.2.5]
            Jun  1 19:01:01 mx postfix/smtpd[1]: ABCDE3: reject_warning: RCPT from e[192.0.2.5]: 550 meh; from=<w@example.com> to=<u@example.net> proto=ESMTP helo=<e>";
        let mut expected = vec![
            skip(SkipReason::Incomplete),
            skip(SkipReason::Rejected),
            skip(SkipReason::Rejected),
            skip(SkipReason::Incomplete),
            skip(SkipReason::Incomplete),
        ];
        let mut got = run(log);
        // The first two are reported at `removed`, the rest at the end in no set order.
        assert_eq!(got[..2], expected[..2]);
        assert_eq!(sorted(got.split_off(2)), sorted(expected.split_off(2)));
    }

    #[test]
    fn rcpt_reject_with_queue_id_then_accepted() {
        let log = "
            Aug 13 15:45:45 server postfix/smtpd[13844]: 00ADB3C0899: client=example.com[192.0.2.1]
            Aug 13 15:45:46 server postfix/smtpd[13844]: 00ADB3C0899: reject: RCPT from example.com[192.0.2.1]: 550 5.1.1 <nobody@example.net>: Recipient address rejected; from=<x@example.com> to=<nobody@example.net> proto=ESMTP helo=<example.com>
            Aug 13 15:45:47 server postfix/qmgr[2]: 00ADB3C0899: from=<x@example.com>, size=10, nrcpt=1 (queue active)
            Aug 13 15:45:48 server postfix/qmgr[2]: 00ADB3C0899: removed";
        assert_eq!(run(log), vec![obs("example.com", "192.0.2.1")]);
    }

    #[test]
    fn private_and_perimeter_clients_are_internal() {
        let log = "
            Jun  1 19:00:55 mx postfix/smtpd[1]: ABCDE1: client=relay[10.1.2.3]
            Jun  1 19:00:56 mx postfix/qmgr[2]: ABCDE1: from=<a@example.org>, size=1, nrcpt=1 (queue active)
            Jun  1 19:00:57 mx postfix/smtpd[1]: ABCDE2: client=edge[198.51.100.77]
            Jun  1 19:00:58 mx postfix/qmgr[2]: ABCDE2: from=<a@example.org>, size=1, nrcpt=1 (queue active)";
        let mut o = ExtractOptions {
            perimeter: vec!["198.51.100.0/24".parse().unwrap()],
            ..ExtractOptions::default()
        };
        assert_eq!(
            run_with(o.clone(), log),
            vec![skip(SkipReason::Internal), skip(SkipReason::Internal)]
        );
        o.skip_private = false;
        assert_eq!(
            run_with(o, log),
            vec![obs("example.org", "10.1.2.3"), skip(SkipReason::Internal)]
        );
    }

    #[test]
    fn ipv6_clients_are_canonical() {
        let log = "
            Jun  1 19:00:55 mx postfix/smtpd[1]: ABCDE1: client=unknown[2001:db8::25]
            Jun  1 19:00:56 mx postfix/qmgr[2]: ABCDE1: from=<a@example.org>, size=1, nrcpt=1 (queue active)
            Jun  1 19:00:57 mx postfix/smtpd[1]: ABCDE2: client=host.example[2001:DB8:0:0::1]:25
            Jun  1 19:00:58 mx postfix/qmgr[2]: ABCDE2: from=<a@example.org>, size=1, nrcpt=1 (queue active)
            Jun  1 19:00:59 mx postfix/smtpd[1]: ABCDE3: client=host.example[::ffff:192.0.2.44]
            Jun  1 19:01:00 mx postfix/qmgr[2]: ABCDE3: from=<a@example.org>, size=1, nrcpt=1 (queue active)";
        let got = run(log);
        assert_eq!(
            got,
            vec![
                obs("example.org", "2001:db8::25"),
                obs("example.org", "2001:db8::1"),
                obs("example.org", "192.0.2.44"),
            ]
        );
    }

    #[test]
    fn interleaved_messages_and_hosts_sharing_a_queue_id() {
        let log = "
            Jun  1 19:00:55 mx1 postfix/smtpd[1]: ABCDE1: client=a[192.0.2.1]
            Jun  1 19:00:55 mx2 postfix-in/smtpd[1]: ABCDE1: client=b[192.0.2.2]
            Jun  1 19:00:55 mx1 postfix/smtpd[5]: ABCDE7: client=c[192.0.2.3]
            Jun  1 19:00:56 mx2 postfix-in/qmgr[2]: ABCDE1: from=<x@two.example>, size=1, nrcpt=1 (queue active)
            Jun  1 19:00:56 mx1 postfix/qmgr[2]: ABCDE7: from=<x@seven.example>, size=1, nrcpt=1 (queue active)
            Jun  1 19:00:56 mx2 postfix-in/qmgr[2]: ABCDE1: removed
            Jun  1 19:00:57 mx1 postfix/qmgr[2]: ABCDE1: from=<x@one.example>, size=1, nrcpt=1 (queue active)";
        assert_eq!(
            run(log),
            vec![
                obs("two.example", "192.0.2.2"),
                obs("seven.example", "192.0.2.3"),
                obs("one.example", "192.0.2.1"),
            ]
        );
    }

    #[test]
    fn malformed_lines_count_once() {
        let log = "
            Jun  1 19:00:55 mx postfix/smtpd[1]: ABCDE1: client=anon[123.456.789.1]
            Jun  1 19:00:56 mx postfix/qmgr[2]: ABCDE1: from=<a@example.org>, size=1, nrcpt=1 (queue active)
            Jun  1 19:00:56 mx postfix/qmgr[2]: ABCDE1: removed
            Jun  1 19:00:57 mx postfix/smtpd[1]: ABCDE2: client=anon
            Jun  1 19:00:58 mx postfix/smtpd[1]: ABCDE3: client=x[192.0.2.1]
            Jun  1 19:00:59 mx postfix/qmgr[2]: ABCDE3: from=a@example.org, size=1, nrcpt=1 (queue active)
            Jun  1 19:01:00 mx postfix/qmgr[2]: ABCDE3: from=<a@example.org>, size=1, nrcpt=1 (queue active)
            Jun  1 19:01:01 mx postfix/qmgr[2]: ABCDE4: from=<unterminated, size=1";
        assert_eq!(run(log), vec![skip(SkipReason::Malformed); 4]);
    }

    #[test]
    fn other_lines_are_ignored() {
        let log = "
            2023-03-14T00:00:31.185246+01:00 helga postfix/postscreen[3163107]: CONNECT from [192.0.2.128]:36942 to [198.51.100.246]:25
            2023-03-14T00:00:31.292246+01:00 helga postfix/postscreen[3163107]: PASS OLD [192.0.2.128]:36942
            2023-03-14T00:00:31.296623+01:00 helga postfix/smtpd[297535]: connect from host1.example.de[192.0.2.128]
            2023-03-14T00:00:31.300000+01:00 helga postfix/dnsblog[1]: addr 192.0.2.128 listed by domain zen.spamhaus.org as 127.0.0.2
            2023-03-14T00:00:31.343561+01:00 helga postfix/smtpd[297535]: disconnect from host1.example.de[192.0.2.128] ehlo=2 starttls=1 quit=1 commands=4
            2023-03-14T00:00:32.000000+01:00 helga postfix/smtp[9]: 4PbC4x469Jz3tBr: to=<a@example.net>, relay=x[192.0.2.9]:25, delay=1, status=sent (250 ok)
            2023-03-14T00:00:32.000000+01:00 helga postfix/smtpd[1]: warning: hostname x does not resolve to address 192.0.2.9
            2023-03-14T00:00:32.000000+01:00 helga postfix/anvil[1]: statistics: max connection rate 1/60s for (smtp:192.0.2.9) at Mar 14 00:00:31
            2023-03-14T00:00:32.000000+01:00 helga postfix/cleanup[1]: 4PbC4x469Jz3tBr: client=spoofed[192.0.2.66]
            2023-03-14T00:00:33.000000+01:00 helga postfix/qmgr[1]: 4PbC4x469Jz3tBr: removed";
        assert_eq!(run(log), vec![]);
    }

    #[test]
    fn keys_longer_than_inline_join_too() {
        let long = "relay-with-a-rather-long-name.mail.example.org";
        assert!(matches!(
            KeyBytes::new(b"4PbC4x469Jz3tBr", long.as_bytes()),
            KeyBytes::Heap(_)
        ));
        let log = format!(
            "
            Jun  1 19:00:55 {long} postfix/smtpd[1]: 4PbC4x469Jz3tBr: client=a[192.0.2.1]
            Jun  1 19:00:55 {long}x postfix/smtpd[1]: 4PbC4x469Jz3tBr: client=b[192.0.2.2]
            Jun  1 19:00:56 {long} postfix/qmgr[2]: 4PbC4x469Jz3tBr: from=<x@one.example>, size=1, nrcpt=1 (queue active)
            Jun  1 19:00:56 {long} postfix/qmgr[2]: 4PbC4x469Jz3tBr: removed"
        );
        assert_eq!(
            run(&log),
            vec![
                obs("one.example", "192.0.2.1"),
                skip(SkipReason::Incomplete)
            ]
        );
    }

    #[test]
    fn queue_id_alphabets() {
        let split = |msg: &'static str| {
            split_queue_id(msg.as_bytes()).map(|(id, rest)| {
                (
                    std::str::from_utf8(id).unwrap(),
                    std::str::from_utf8(rest).unwrap(),
                )
            })
        };
        assert_eq!(
            split("4PbC4x469Jz3tBr: removed"),
            Some(("4PbC4x469Jz3tBr", "removed"))
        );
        assert_eq!(
            split("ED06590130AA1C9D6D862: x"),
            Some(("ED06590130AA1C9D6D862", "x"))
        );
        assert_eq!(split("4104E3D: x"), Some(("4104E3D", "x")));
        for msg in [
            "NOQUEUE: x",
            "warning: x",
            "abcde: x",
            "4104: x",
            "4PbC4x469J z3tBr: x",
            "4PbCax469Jz3tBr: x",
        ] {
            assert_eq!(split(msg), None, "{msg}");
        }
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let pieces = [
            "ABCDE1: ",
            "NOQUEUE: ",
            "reject: ",
            "RCPT",
            " from ",
            "client=",
            "from=",
            "<",
            ">",
            "[",
            "]",
            "192.0.2.1",
            "::1",
            ", size=",
            "; from=",
            "helo=<",
            "\"",
            "removed",
            "uid=0 ",
            "é",
            " ",
            ",",
            "sasl_username=",
            "orig_client=",
        ];
        let programs = [
            "postfix/smtpd",
            "postfix/qmgr",
            "postfix/pickup",
            "postfix/postscreen",
        ];
        let mut o = ExtractOptions {
            include_rejected: true,
            ..ExtractOptions::default()
        };
        o.null_sender = NullSenderMode::Helo;
        let mut joiner = PostfixJoiner::new(o);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut n = 0usize;
        for _ in 0..20_000 {
            let mut msg = String::new();
            for _ in 0..next() % 12 {
                msg.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            let program = programs[(next() % programs.len() as u64) as usize];
            let line = SyslogLine {
                host: "h",
                program,
                pid: "1",
                message: &msg,
            };
            joiner.feed(&line, None, &mut |_| n += 1);
        }
        joiner.finish(&mut |_| n += 1);
        assert!(n > 0);
    }

    #[test]
    fn queue_ids_idle_for_a_window_of_log_time_are_evicted() {
        let opts = ExtractOptions {
            queue_window_secs: 86_400,
            ..ExtractOptions::default()
        };
        let mut joiner = PostfixJoiner::new(opts);
        let mut out = Vec::new();
        let feed = |joiner: &mut PostfixJoiner, out: &mut Vec<Record>, text: &str| {
            let line = syslog::split(text).unwrap();
            let time = super::super::log_time::parse(text.as_bytes());
            joiner.feed(&line, time, &mut |r| out.push(r));
        };
        // A: its qmgr line never comes. B: counted, but its `removed` line never comes.
        // C: deferred, retried every hour for three days: kept open by its qmgr lines.
        for text in [
            "Jun  1 10:00:00 mx postfix/smtpd[1]: AAAAA11111: client=a[192.0.2.1]",
            "Jun  1 10:00:01 mx postfix/smtpd[1]: BBBBB22222: client=b[192.0.2.2]",
            "Jun  1 10:00:02 mx postfix/qmgr[2]: BBBBB22222: from=<x@b.example>, size=1, nrcpt=1 (queue active)",
            "Jun  1 10:00:03 mx postfix/smtpd[1]: CCCCC33333: client=c[192.0.2.3]",
        ] {
            feed(&mut joiner, &mut out, text);
        }
        for hour in 0..72 {
            let (day, h) = (1 + (10 + hour) / 24, (10 + hour) % 24);
            feed(
                &mut joiner,
                &mut out,
                &format!(
                    "Jun  {day} {h:02}:00:05 mx postfix/qmgr[2]: CCCCC33333: from=<y@c.example>, size=1, nrcpt=1 (queue active)"
                ),
            );
        }
        assert_eq!(joiner.open_ids(), 1, "only the deferred one is left");
        assert_eq!(
            out,
            [
                obs("b.example", "192.0.2.2"),
                obs("c.example", "192.0.2.3"),
                skip(SkipReason::Incomplete),
            ]
        );
        // Log time that goes back a little (another host's lines) evicts nothing more.
        feed(
            &mut joiner,
            &mut out,
            "Jun  3 01:00:00 mx postfix/smtpd[1]: DDDDD44444: client=d[192.0.2.4]",
        );
        assert_eq!(joiner.open_ids(), 2);
        joiner.finish(&mut |r| out.push(r));
        assert_eq!(out.len(), 4, "D is incomplete at the end: {out:?}");
    }
}
