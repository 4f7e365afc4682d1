//! The merge of pairs files (docs/design.md §7): every reading thread adds its rows to one
//! table shared by all of them, so memory follows the distinct pairs, never the number of
//! files or of threads. The table is split into shards by sender name, each behind its own
//! lock: a name's pairs all live in one shard, where the name is interned
//! (`aggregate::names`), so a pair costs a 32-byte slot (`aggregate::table`) instead of a
//! `PairKey` with its own string. Rows arrive in batches ([`Batch`]) so that a shard's lock
//! is taken once per batch, not once per row, and each row's slots are prefetched.
//!
//! A pairs file's row is keyed by its cells as written: the domain cell ([`Kind::Raw`]) is
//! read as a sender once, when a shard first meets that spelling, and the client cell
//! ([`super::client`]) once per pair, not once per row. The rare spellings that are not
//! how the writer spells their sender or address (`Example.COM.`, `::ffff:192.0.2.1`) keep
//! pairs of their own while reading, folded into the writer's spelling's at the end.
//!
//! Counts saturate, like the [`Tally`]'s; what the store holds does not depend on the order
//! in which rows arrive, so a merge is the same whatever the order of its files.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::{Mutex, TryLockError};

use rayon::iter::{IntoParallelRefMutIterator, ParallelIterator};
use rayon::slice::ParallelSliceMut;

use super::client::{Client, IpSpelling, ip_bytes, ip_of, key_of};
use super::names::{self, Canonical, Name, Names};
use super::table::{Slot, Table};
use super::{PairMap, Tally};
use crate::model::{PairKey, Sender};

/// Shards: enough that two or a few threads rarely wait for one another, few enough that
/// a million pairs make tables of 4 MB, in huge pages ([`super::huge`]).
const SHARDS: usize = 16;
/// Rows a batch holds before it is added.
pub const BATCH_ROWS: usize = 4096;

/// A sender as the store keys it: its kind and its text (the domain column's), or a
/// pairs file's domain cell as it stands (`Raw`), to be read as a sender once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    Domain,
    Null,
    Missing,
    Malformed,
    Raw,
}

/// The kind and text of a sender (what the store keys it by).
pub fn parts_of(sender: &Sender) -> (Kind, &str) {
    match sender {
        Sender::Domain(d) => (Kind::Domain, d),
        Sender::Null => (Kind::Null, ""),
        Sender::Missing => (Kind::Missing, ""),
        Sender::Malformed(d) => (Kind::Malformed, d),
    }
}

fn sender_of(kind: Kind, text: &str) -> Sender {
    match kind {
        Kind::Domain => Sender::Domain(text.to_string()),
        Kind::Null => Sender::Null,
        Kind::Missing => Sender::Missing,
        // Never a name's own kind (`Canonical::Same` holds a sender's); what the writer
        // would do with the text is the honest answer anyway.
        Kind::Malformed | Kind::Raw => Sender::Malformed(text.to_string()),
    }
}

/// The sender a name stands for.
fn sender_of_name(name: &Name) -> Sender {
    match &name.canonical {
        Canonical::Same(kind) => sender_of(*kind, &name.text),
        Canonical::Other(sender) => sender.clone(),
    }
}

/// How the domain column spells senders: `pairs_file::sender_from_column` and
/// `pairs_file::sender_column`, utilities this stage does not import.
#[derive(Clone, Copy)]
pub struct Spelling {
    pub read: fn(&str) -> Sender,
    pub write: fn(&Sender) -> &str,
    pub ip: IpSpelling,
}

impl Spelling {
    /// What a name first met under `key` stands for. Every sender has one name of its
    /// own: its domain column as a raw cell when the column reads back as that sender
    /// (nearly all), its kind and text otherwise; any other name is folded into it.
    fn canonical(&self, key: Kind, text: &str) -> Canonical {
        if key == Kind::Raw {
            let sender = (self.read)(text);
            return if (self.write)(&sender) == text {
                Canonical::Same(parts_of(&sender).0)
            } else {
                Canonical::Other(sender)
            };
        }
        let sender = sender_of(key, text);
        if (self.read)((self.write)(&sender)) == sender {
            Canonical::Other(sender)
        } else {
            Canonical::Same(key)
        }
    }
}

/// Rows on their way into the store; the senders' text is copied into one buffer, so a
/// batch owns nothing per row.
#[derive(Default)]
pub struct Batch {
    text: String,
    rows: Vec<BatchRow>,
    /// Scratch: row indices grouped by shard.
    order: Vec<u32>,
    /// Rows refused before they reached the table.
    rejected: Rejected,
}

/// Rows whose client is no address, found when their spelling first reached the table
/// (or before): malformed rows, their messages not counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rejected {
    pub rows: u64,
    /// Their messages, summed without saturating (the caller takes them from its own
    /// sum of every row's).
    pub messages: u128,
}

impl Rejected {
    fn add(&mut self, messages: u64) {
        self.rows += 1;
        self.messages += u128::from(messages);
    }

    pub fn plus(self, other: Rejected) -> Rejected {
        Rejected {
            rows: self.rows + other.rows,
            messages: self.messages + other.messages,
        }
    }
}

struct BatchRow {
    /// The sender's hash, then the pair's.
    hash: u64,
    pair_hash: u64,
    kind: Kind,
    start: u32,
    len: u32,
    family: u8,
    ip: [u8; 16],
    messages: u64,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// A row refused before it was pushed (its client is no address).
    pub fn reject(&mut self, messages: u64) {
        self.rejected.add(messages);
    }

    /// Adds a row of `messages` for the sender (`kind`, `text`) and `client`.
    pub fn push(&mut self, kind: Kind, text: &str, client: Client<'_>, n: u64) {
        let start = self.text.len() as u32;
        self.text.push_str(text);
        // Zeros to the inline width after a short name: the shard reads it as one word
        // (`names::padded_at`).
        const ZEROS: &str = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
        const _: () = assert!(ZEROS.len() == names::INLINE);
        self.text
            .push_str(&ZEROS[..names::INLINE.saturating_sub(text.len())]);
        let (family, ip) = key_of(client);
        self.rows.push(BatchRow {
            hash: 0,
            pair_hash: 0,
            kind,
            start,
            len: text.len() as u32,
            family,
            ip,
            messages: n,
        });
    }
}

/// One shard: its senders, interned, and its pairs.
#[derive(Default)]
struct Shard {
    names: Names,
    pairs: Table,
}

/// Rows ahead of the one being added whose lines are asked for: enough to cover a miss
/// to memory, few enough that the lines are still in cache when their row comes.
const PREFETCH_AHEAD: usize = 12;

impl Shard {
    fn prefetch(&self, row: &BatchRow) {
        self.names.prefetch(row.hash);
        self.pairs.prefetch(row.pair_hash);
    }

    /// Adds the rows of `group` (indices into `rows`), each row's lines asked for a few
    /// rows before its turn.
    fn add_group(
        &mut self,
        (hasher, spelling): (&Hasher, &Spelling),
        rows: &[BatchRow],
        text: &str,
        group: &[u32],
    ) -> Rejected {
        let mut rejected = Rejected::default();
        for &i in group.iter().take(PREFETCH_AHEAD) {
            self.prefetch(&rows[i as usize]);
        }
        for (at, &i) in group.iter().enumerate() {
            if let Some(&ahead) = group.get(at + PREFETCH_AHEAD) {
                self.prefetch(&rows[ahead as usize]);
            }
            let row = &rows[i as usize];
            let t = &text[row.start as usize..(row.start + row.len) as usize];
            let inline = names::padded_at(text.as_bytes(), row.start as usize, row.len as usize);
            let sender = self.names.intern(row.hash, row.kind, t, inline, || {
                spelling.canonical(row.kind, t)
            });
            let senders = self.names.senders();
            let taken = self.pairs.add(
                row.pair_hash,
                (sender, row.family, row.ip),
                row.messages,
                || spelling.ip.accepts(row.family, &row.ip),
                |s| pair_hash(hasher, senders[s.sender as usize].hash, s.family, &s.ip),
            );
            if !taken {
                rejected.add(row.messages);
            }
        }
        rejected
    }
}

type Hasher = foldhash::fast::RandomState;

/// The hash of a pair, from its sender's: known before the sender is interned, so outside
/// the shard's lock, and early enough to prefetch the pair's slot.
fn pair_hash(hasher: &Hasher, sender_hash: u64, family: u8, ip: &[u8; 16]) -> u64 {
    hasher.hash_one((sender_hash, family, ip))
}

/// The shared table of a merge.
pub struct PairStore {
    hasher: Hasher,
    spelling: Spelling,
    shards: Vec<Mutex<Shard>>,
}

impl PairStore {
    pub fn new(spelling: Spelling) -> Self {
        PairStore {
            hasher: foldhash::fast::RandomState::default(),
            spelling,
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

/// Marks on a resolved slot's `family` (`into_sorted`).
const FOLDED: u8 = 0x80;
const GONE: u8 = 0x40;

/// The shard of a sender's hash: bits a shard's names table does not use below four
/// billion slots (it takes the low bits for the position).
fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize % SHARDS
}

impl PairStore {
    /// Adds every row of `batch` and empties it, taking each shard's lock once; returns
    /// the rows refused since the batch was last added.
    #[must_use]
    pub fn add(&self, batch: &mut Batch) -> Rejected {
        let Batch {
            text,
            rows,
            order,
            rejected,
        } = batch;
        let mut refused = std::mem::take(rejected);
        // Hashed here, outside every lock.
        for row in rows.iter_mut() {
            let t = &text[row.start as usize..(row.start + row.len) as usize];
            row.hash = self.hasher.hash_one((row.kind, t));
            row.pair_hash = pair_hash(&self.hasher, row.hash, row.family, &row.ip);
        }
        // Rows grouped by shard, by counting (a sort was a third of this function's cost).
        let mut starts = [0u32; SHARDS + 1];
        for row in rows.iter() {
            starts[shard_of(row.hash) + 1] += 1;
        }
        for i in 1..=SHARDS {
            starts[i] += starts[i - 1];
        }
        order.clear();
        order.resize(rows.len(), 0);
        let mut next = starts;
        for (i, row) in rows.iter().enumerate() {
            let at = &mut next[shard_of(row.hash)];
            order[*at as usize] = i as u32;
            *at += 1;
        }
        // Shards another thread holds are come back to once the others are done.
        let mut waiting = [false; SHARDS];
        for (shard_index, bounds) in starts.windows(2).enumerate() {
            let group = &order[bounds[0] as usize..bounds[1] as usize];
            if group.is_empty() {
                continue;
            }
            let mut shard = match self.shards[shard_index].try_lock() {
                Ok(shard) => shard,
                Err(TryLockError::Poisoned(e)) => e.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    waiting[shard_index] = true;
                    continue;
                }
            };
            let r = shard.add_group((&self.hasher, &self.spelling), rows, text, group);
            refused.rows += r.rows;
            refused.messages += r.messages;
        }
        for (shard_index, bounds) in starts.windows(2).enumerate() {
            if !waiting[shard_index] {
                continue;
            }
            let group = &order[bounds[0] as usize..bounds[1] as usize];
            // A poisoned lock means a reading thread panicked; its rows are as good as
            // any other's.
            let mut shard = self.shards[shard_index]
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let r = shard.add_group((&self.hasher, &self.spelling), rows, text, group);
            refused.rows += r.rows;
            refused.messages += r.messages;
        }
        text.clear();
        rows.clear();
        refused
    }

    /// How many pairs the store holds (a pair spelt two ways counts twice until the end).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).pairs.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves every pair into `tally`. The shards' tables are first packed into exact-size
    /// lists (a table is up to half empty), then moved one shard at a time, each list freed
    /// as its pairs move: at no point are the pairs held both in full tables and in the
    /// tally's map, which is what keeps a million pairs under 200 MB (issue 16 item 3).
    pub fn drain_into(self, tally: &mut Tally) {
        let ip = self.spelling.ip;
        let packed: Vec<Packed> = self
            .shards
            .into_iter()
            .map(|shard| {
                let Shard { names, pairs } = shard.into_inner().unwrap_or_else(|e| e.into_inner());
                Packed {
                    senders: names.into_senders(),
                    slots: pairs
                        .into_slots()
                        .filter_map(|mut slot| {
                            let (family, b, _) = ip.resolve(slot.family, slot.ip)?;
                            (slot.family, slot.ip) = (family, b);
                            Some(slot)
                        })
                        .collect(),
                }
            })
            .collect();
        tally
            .pairs
            .reserve(packed.iter().map(|p| p.slots.len()).sum());
        for shard in packed {
            add_shard(shard, &mut tally.pairs);
        }
    }
}

/// Every pair of a merge, in the report order (`pairs_file::cmp_pairs`), each in
/// 32 bytes and its sender named once: what `scan` writes, without the `PairKey` per pair
/// that the tally's map would cost (a million pairs: about 35 MB instead of 170).
pub struct SortedPairs {
    /// The senders, sorted by their domain column, then as [`Sender`]s.
    senders: Vec<Sender>,
    /// The pairs, their `sender` an index into `senders`.
    slots: Vec<Slot>,
}

impl SortedPairs {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// All their messages, saturating.
    pub fn messages(&self) -> u64 {
        super::saturating_sum(self.slots.iter().map(|s| s.messages))
    }

    /// The pairs in order: sender, client, messages.
    /// Pairs counted elsewhere (a scan's tally, when no pairs file was read), in the report
    /// order: what the merge's table would give for them, without the table, which keys
    /// rows by their cells as written and so spells each pair out and reads it back (a
    /// twentieth of a log scan's instructions for nothing, with no pairs file to merge).
    pub fn from_counted<'a>(
        pairs: impl IntoIterator<Item = (&'a PairKey, u64)>,
        sender_column: fn(&Sender) -> &str,
    ) -> SortedPairs {
        let mut numbers: HashMap<&Sender, u32, foldhash::fast::RandomState> = HashMap::default();
        let (mut senders, mut slots) = (Vec::new(), Vec::new());
        for (key, messages) in pairs {
            let sender = *numbers.entry(&key.sender).or_insert_with(|| {
                senders.push(key.sender.clone());
                senders.len() as u32 - 1
            });
            let (family, ip) = ip_bytes(key.ip);
            slots.push(Slot {
                ip,
                sender,
                family,
                messages,
            });
        }
        sort_pairs(senders, slots, sender_column)
    }

    /// The pairs in order as keys and counts: what tests compare.
    #[cfg(test)]
    pub fn keyed(&self) -> Vec<(PairKey, u64)> {
        let key = |(sender, ip, n): (&Sender, Option<IpAddr>, u64)| {
            let sender = sender.clone();
            (PairKey { sender, ip }, n)
        };
        self.iter().map(key).collect()
    }

    /// The `i`th pair in order: sender, client, messages.
    pub fn get(&self, i: usize) -> (&Sender, Option<IpAddr>, u64) {
        let s = &self.slots[i];
        (
            &self.senders[s.sender as usize],
            ip_of(s.family, s.ip),
            s.messages,
        )
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Sender, Option<IpAddr>, u64)> {
        self.slots.iter().map(|s| {
            (
                &self.senders[s.sender as usize],
                ip_of(s.family, s.ip),
                s.messages,
            )
        })
    }
}

impl PairStore {
    /// Adds pairs counted elsewhere (the tally's, of the inputs that are not pairs files).
    /// A sender that its domain column reads back as goes in under that column, as a pairs
    /// file's row would: one name per sender.
    pub fn add_pairs<'a>(&self, pairs: impl IntoIterator<Item = (&'a PairKey, u64)>) {
        let mut batch = Batch::default();
        let mut ip_text = Vec::new();
        // Whether each sender's column reads back as it: once per sender, not per pair (a
        // scan of a log asked it, with a new string each time, for every pair).
        let mut reads_back: HashMap<&Sender, bool, foldhash::fast::RandomState> =
            HashMap::default();
        for (key, n) in pairs {
            // The client as a pairs file would spell it, likewise.
            ip_text.clear();
            match key.ip {
                Some(IpAddr::V4(v4)) => crate::net::push_ipv4(&mut ip_text, v4),
                Some(ip) => ip_text.extend_from_slice(ip.to_string().as_bytes()),
                None => {}
            }
            let text = std::str::from_utf8(&ip_text).unwrap_or_default();
            let client = Client::text(text).unwrap_or(Client::Parsed(key.ip));
            let column = (self.spelling.write)(&key.sender);
            let own = *reads_back
                .entry(&key.sender)
                .or_insert_with(|| (self.spelling.read)(column) == key.sender);
            if own {
                batch.push(Kind::Raw, column, client, n);
            } else {
                let (kind, text) = parts_of(&key.sender);
                batch.push(kind, text, client, n);
            }
            if batch.len() >= BATCH_ROWS {
                // Addresses counted elsewhere are addresses: nothing is refused.
                let _ = self.add(&mut batch);
            }
        }
        let _ = self.add(&mut batch);
    }

    /// The pairs in the report order. Each shard's table is freed as soon as its pairs are
    /// in the one exact-size list, which is then sorted in place: the pairs are never held
    /// twice over (issue 16 item 3: a million pairs well under 200 MB).
    pub fn into_sorted(self) -> SortedPairs {
        let sender_column = self.spelling.write;
        let mut shards: Vec<Shard> = self
            .shards
            .into_iter()
            .map(|s| s.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect();
        // Clients by address, on every core (a parse per pair): `FOLDED` marks a client
        // spelt otherwise than the writer would, `GONE` one that is no address (which the
        // table refused, so never).
        let ip = self.spelling.ip;
        shards.par_iter_mut().for_each(|shard| {
            shard
                .pairs
                .for_each_pair(|slot| match ip.resolve(slot.family, slot.ip) {
                    Some((family, b, own)) => {
                        slot.family = if own { family } else { family | FOLDED };
                        slot.ip = b;
                    }
                    None => slot.family = GONE,
                });
        });
        let total = shards.iter().map(|s| s.pairs.len()).sum();
        // Senders numbered across shards (those a name stands for itself), pairs by them.
        let mut senders = Vec::new();
        let mut slots = Vec::with_capacity(total);
        let mut folded: HashMap<PairKey, u64> = HashMap::new();
        for shard in shards {
            let names = shard.names.into_senders();
            let numbers: Vec<Option<u32>> = names
                .iter()
                .map(|name| match name.canonical {
                    Canonical::Same(kind) => {
                        senders.push(sender_of(kind, &name.text));
                        Some(senders.len() as u32 - 1)
                    }
                    Canonical::Other(_) => None,
                })
                .collect();
            for mut slot in shard.pairs.into_slots() {
                if slot.family == GONE {
                    continue;
                }
                let own_ip = slot.family & FOLDED == 0;
                slot.family &= !FOLDED;
                let (family, ip) = (slot.family, slot.ip);
                match numbers[slot.sender as usize] {
                    Some(number) if own_ip => {
                        slot.sender = number;
                        slots.push(slot);
                    }
                    _ => {
                        let key = PairKey {
                            sender: sender_of_name(&names[slot.sender as usize]),
                            ip: ip_of(family, ip),
                        };
                        let n = folded.entry(key).or_default();
                        *n = n.saturating_add(slot.messages);
                    }
                }
            }
        }
        if !folded.is_empty() {
            fold(&mut senders, &mut slots, folded);
        }
        sort_pairs(senders, slots, sender_column)
    }
}

/// The pairs in the report order (`pairs_file::cmp_pairs`), `slots` naming their senders by
/// index into `senders`, each sender once.
fn sort_pairs(
    senders: Vec<Sender>,
    mut slots: Vec<Slot>,
    sender_column: fn(&Sender) -> &str,
) -> SortedPairs {
    let mut order: Vec<u32> = (0..senders.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (&senders[a as usize], &senders[b as usize]);
        sender_column(a)
            .cmp(sender_column(b))
            .then_with(|| a.cmp(b))
    });
    let mut rank_of = vec![0u32; senders.len()];
    for (rank, &i) in order.iter().enumerate() {
        rank_of[i as usize] = rank as u32;
    }
    let mut sorted: Vec<Sender> = Vec::with_capacity(senders.len());
    // The rank of each sender's domain column: equal columns, equal ranks.
    let mut column_rank: Vec<u32> = Vec::with_capacity(senders.len());
    let mut taken: Vec<Option<Sender>> = senders.into_iter().map(Some).collect();
    for &i in &order {
        let sender = taken[i as usize].take().unwrap_or(Sender::Missing);
        let same = sorted
            .last()
            .is_some_and(|prev| sender_column(prev) == sender_column(&sender));
        let rank = match column_rank.last() {
            Some(&r) if same => r,
            Some(&r) => r + 1,
            None => 0,
        };
        column_rank.push(rank);
        sorted.push(sender);
    }
    for slot in &mut slots {
        slot.sender = rank_of[slot.sender as usize];
    }
    // A total order (the same as `cmp_pairs`), so an unstable sort is deterministic.
    // Addresses compare as numbers, not as byte arrays (a call to memcmp each).
    let client = |s: &Slot| (s.family, u128::from_be_bytes(s.ip));
    if column_rank
        .last()
        .is_none_or(|&r| r as usize + 1 == column_rank.len())
    {
        // No two senders share a column (the usual case): a sender's rank is its
        // column's, and the ranks order the pairs without a lookup.
        slots.par_sort_unstable_by(|a, b| {
            b.messages
                .cmp(&a.messages)
                .then(a.sender.cmp(&b.sender))
                .then_with(|| client(a).cmp(&client(b)))
        });
    } else {
        slots.par_sort_unstable_by(|a, b| {
            b.messages
                .cmp(&a.messages)
                .then_with(|| column_rank[a.sender as usize].cmp(&column_rank[b.sender as usize]))
                .then_with(|| client(a).cmp(&client(b)))
                .then_with(|| a.sender.cmp(&b.sender))
        });
    }
    SortedPairs {
        senders: sorted,
        slots,
    }
}

/// The pairs of the spellings that are not their sender's own (`folded`) added to their
/// sender's pairs: to the same pair when there is one, as pairs of their own otherwise.
/// Only hand-edited files get here, so this may take its time: a key per pair.
fn fold(senders: &mut Vec<Sender>, slots: &mut Vec<Slot>, mut folded: HashMap<PairKey, u64>) {
    for slot in slots.iter_mut() {
        let key = PairKey {
            sender: senders[slot.sender as usize].clone(),
            ip: ip_of(slot.family, slot.ip),
        };
        if let Some(n) = folded.remove(&key) {
            slot.messages = slot.messages.saturating_add(n);
            if folded.is_empty() {
                return;
            }
        }
    }
    let mut numbers: HashMap<Sender, u32> = senders
        .iter()
        .enumerate()
        .map(|(i, s)| (s.clone(), i as u32))
        .collect();
    for (key, messages) in folded {
        let sender = *numbers.entry(key.sender.clone()).or_insert_with(|| {
            senders.push(key.sender);
            senders.len() as u32 - 1
        });
        let (family, ip) = ip_bytes(key.ip);
        slots.push(Slot {
            ip,
            sender,
            family,
            messages,
        });
    }
}

/// A shard's pairs, packed once reading is over.
struct Packed {
    senders: Vec<Name>,
    slots: Vec<Slot>,
}

fn add_shard(shard: Packed, pairs: &mut PairMap) {
    let Packed { senders, slots } = shard;
    for slot in slots {
        let key = PairKey {
            sender: sender_of_name(&senders[slot.sender as usize]),
            ip: ip_of(slot.family, slot.ip),
        };
        let n = &mut pairs.entry(key).or_default().messages;
        *n = n.saturating_add(slot.messages);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(sender: Sender, ip: &str) -> PairKey {
        PairKey {
            sender,
            ip: ip.parse().ok(),
        }
    }

    fn store() -> PairStore {
        PairStore::new(Spelling {
            read: crate::pairs_file::sender_from_column,
            write: crate::pairs_file::sender_column,
            ip: IpSpelling {
                read: crate::pairs_file::read_ip_column,
            },
        })
    }

    fn add_all(store: &PairStore, rows: &[(Sender, &str, u64)]) {
        let mut batch = Batch::default();
        for (sender, ip, n) in rows {
            let (kind, text) = parts_of(sender);
            batch.push(kind, text, Client::Parsed(ip.parse().ok()), *n);
        }
        assert_eq!(store.add(&mut batch), Rejected::default());
        assert!(batch.is_empty());
    }

    #[test]
    fn rows_of_one_pair_add_up_and_kinds_stay_apart() {
        let store = store();
        let d = |s: &str| Sender::Domain(s.into());
        add_all(
            &store,
            &[
                (d("a.example"), "192.0.2.1", 2),
                (d("a.example"), "2001:db8::1", 1),
                (Sender::Malformed("a.example".into()), "192.0.2.1", 4),
                (Sender::Null, "", 1),
                (Sender::Missing, "", 1),
            ],
        );
        add_all(
            &store,
            &[
                (d("a.example"), "192.0.2.1", 3),
                (Sender::Null, "", u64::MAX),
            ],
        );
        assert_eq!(store.len(), 5);
        let mut tally = Tally::default();
        tally.add_pair(key(d("a.example"), "192.0.2.1"), 10);
        store.drain_into(&mut tally);
        assert_eq!(tally.pairs.len(), 5);
        assert_eq!(tally.pairs[&key(d("a.example"), "192.0.2.1")].messages, 15);
        assert_eq!(tally.pairs[&key(d("a.example"), "2001:db8::1")].messages, 1);
        assert_eq!(
            tally.pairs[&key(Sender::Malformed("a.example".into()), "192.0.2.1")].messages,
            4
        );
        assert_eq!(tally.pairs[&key(Sender::Null, "")].messages, u64::MAX);
        assert_eq!(tally.pairs[&key(Sender::Missing, "")].messages, 1);
    }

    /// Counted pairs sorted without the table come out as the table gives them: senders of
    /// every kind, two senders sharing a column (a malformed one spelt as a domain),
    /// addresses of both families and none, counts that tie.
    #[test]
    fn counted_pairs_sort_as_the_table_sorts_them() {
        let senders = [
            Sender::Domain("b.example".into()),
            Sender::Domain("a.example".into()),
            Sender::Malformed("a.example".into()),
            Sender::Malformed("=x,\"y\"".into()),
            Sender::Null,
            Sender::Missing,
        ];
        // A tally's pairs: each key once.
        let mut counted: HashMap<PairKey, u64> = HashMap::new();
        for i in 0..3_000u32 {
            let ip: Option<IpAddr> = match i % 4 {
                0 => None,
                1 => Some(IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16])),
                _ => Some(IpAddr::from([10, (i >> 16) as u8, (i >> 8) as u8, i as u8])),
            };
            let sender = senders[(i % 6) as usize].clone();
            *counted.entry(PairKey { sender, ip }).or_default() += u64::from(i % 5) + 1;
        }
        let pairs = || counted.iter().map(|(k, n)| (k, *n));
        let table = store();
        table.add_pairs(pairs());
        let want = table.into_sorted().keyed();
        let sorted = SortedPairs::from_counted(pairs(), crate::pairs_file::sender_column);
        let got = sorted.keyed();
        assert_eq!(got.len(), counted.len());
        assert_eq!(got, want);
    }

    #[test]
    fn many_senders_across_shards_keep_their_counts() {
        let store = store();
        let rows: Vec<(Sender, String, u64)> = (0..10_000u32)
            .map(|i| {
                (
                    Sender::Domain(format!("d{}.example", i % 997)),
                    format!("10.0.{}.{}", i / 256 % 256, i % 256),
                    u64::from(i % 7) + 1,
                )
            })
            .collect();
        for chunk in rows.chunks(1000) {
            let refs: Vec<(Sender, &str, u64)> = chunk
                .iter()
                .map(|(s, ip, n)| (s.clone(), ip.as_str(), *n))
                .collect();
            add_all(&store, &refs);
            add_all(&store, &refs);
        }
        let mut tally = Tally::default();
        store.drain_into(&mut tally);
        assert_eq!(tally.pairs.len(), 10_000);
        for (s, ip, n) in &rows {
            assert_eq!(tally.pairs[&key(s.clone(), ip)].messages, 2 * n);
        }
    }

    #[test]
    fn sorted_pairs_follow_the_report_order_and_add_up() {
        let d = |s: &str| Sender::Domain(s.into());
        let m = |s: &str| Sender::Malformed(s.into());
        let rows = [
            (d("b.example"), "2001:db8::1", 2),
            (d("b.example"), "192.0.2.10", 2),
            (m("b.example"), "192.0.2.9", 2),
            (d("b.example"), "192.0.2.9", 2),
            (m("b.example"), "", 2),
            (d("a.example"), "192.0.2.1", 1),
            (d("c.example"), "192.0.2.1", 5),
            (Sender::Null, "192.0.2.1", 1),
            (Sender::Missing, "", 1),
            (m("<>"), "192.0.2.1", 1),
        ];
        let store = store();
        add_all(&store, &rows);
        // One pair again, and pairs counted elsewhere: both add up.
        add_all(&store, &[(d("a.example"), "192.0.2.1", 1)]);
        store.add_pairs([
            (&key(Sender::Missing, ""), 1),
            (&key(d("z.example"), "::1"), 9),
        ]);
        let sorted = store.into_sorted();
        let got = sorted.keyed();
        let mut want: Vec<(PairKey, u64)> = rows
            .iter()
            .map(|(s, ip, n)| (key(s.clone(), ip), *n))
            .filter(|(k, _)| {
                *k != key(d("a.example"), "192.0.2.1") && *k != key(Sender::Missing, "")
            })
            .chain([
                (key(d("a.example"), "192.0.2.1"), 2),
                (key(Sender::Missing, ""), 2),
                (key(d("z.example"), "::1"), 9),
            ])
            .collect();
        want.sort_by(|a, b| crate::pairs_file::cmp_pairs((&a.0, a.1), (&b.0, b.1)));
        assert_eq!(got, want);
        assert_eq!(sorted.len(), 11);
        assert_eq!(sorted.messages(), 30);
    }

    /// Senders whose columns all differ take the sort without the column lookup: the
    /// same order as `cmp_pairs`, addresses numerically, IPv4 first.
    #[test]
    fn distinct_columns_sort_in_the_report_order() {
        let d = |s: &str| Sender::Domain(s.into());
        let mut rows = Vec::new();
        for (i, domain) in ["c.example", "a.example", "b.example"].iter().enumerate() {
            for ip in [
                "2001:db8::1",
                "192.0.2.10",
                "192.0.2.9",
                "10.0.0.1",
                "",
                "::ffff:1",
            ] {
                rows.push((d(domain), ip, 1 + (i as u64 + ip.len() as u64) % 3));
            }
        }
        rows.push((Sender::Null, "192.0.2.1", 2));
        rows.push((Sender::Missing, "", 2));
        let store = store();
        add_all(&store, &rows);
        let got: Vec<(PairKey, u64)> = store
            .into_sorted()
            .iter()
            .map(|(s, ip, n)| {
                (
                    PairKey {
                        sender: s.clone(),
                        ip,
                    },
                    n,
                )
            })
            .collect();
        let mut want: Vec<(PairKey, u64)> = rows
            .iter()
            .map(|(s, ip, n)| (key(s.clone(), ip), *n))
            .collect();
        want.sort_by(|a, b| crate::pairs_file::cmp_pairs((&a.0, a.1), (&b.0, b.1)));
        assert_eq!(got, want);
    }
}
