//! Aggregation: dedupes observations into (sender, client) pairs with message counts and
//! counts everything skipped by reason. Each parser thread fills its own [`Tally`]; tallies
//! merge at the end, so memory follows the number of distinct pairs, not the input size.
//! Counts saturate: a pairs file may claim any count, and hostile input must not overflow.
//! Pairs files, many small ones at a time, merge through one shared [`store::PairStore`].
//!
//! Dates (issue 15): a dated message is also counted under its pair's UTC day, because
//! `--by-day` needs each pair's verdict, known only after the DNS stage. The days live in
//! the pair's own value ([`PairCount`]): one key and one lookup per message, dated or not,
//! and one short list per pair (one entry per day it was seen, not pairs × days). The tally
//! also keeps the period covered and the messages it could not date.

pub mod client;
mod huge;
mod names;
pub mod store;
mod table;

use crate::model::{Day, DayList, PairKey, Period, Record, SkipReason, When};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// A pair's messages, and those of them that were dated, by day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PairCount {
    pub messages: u64,
    pub days: DayList,
}

/// The hasher of the pair maps: foldhash's, not SipHash. The keys are not chosen by anyone
/// who gains from aiming at its buckets (a degraded map is slow, never wrong), and the map
/// is probed once per message.
pub type PairHasher = foldhash::fast::FixedState;

/// Every pair's count.
pub type PairMap = HashMap<PairKey, PairCount, PairHasher>;

/// Days read from pairs files' `.days` files, by pair; their messages are counted in the
/// merge's store, so they join their pairs when the store is drained
/// ([`Tally::attach_file_days`]).
pub type DayMap = HashMap<PairKey, DayList, PairHasher>;

#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub pairs: PairMap,
    pub skipped: [u64; SkipReason::ALL.len()],
    /// Messages of a pair known to be authenticated, for the pairs whose input could tell
    /// (DMARC reports); a pair absent here has no such evidence. Kept beside `pairs` so the
    /// hot map of the other inputs stays as small and fast as it was.
    pub authenticated: HashMap<PairKey, u64>,
    /// The name logs recorded for each client, where one did (`Record::ClientName`); the
    /// smallest name when logs disagree, so the result does not depend on reading order.
    pub client_names: BTreeMap<IpAddr, Box<str>>,
    /// Days from pairs files' `.days` files, until their pairs are known.
    pub file_days: DayMap,
    /// The period the observed messages cover, and those without a usable date.
    pub period: Period,
}

impl Tally {
    /// A record whose input said nothing of its date (its date is counted absent).
    pub fn add(&mut self, record: Record) {
        self.add_at(record, When::Absent);
    }

    /// A record and when it happened; only observations have a part in the period.
    pub fn add_at(&mut self, record: Record, when: When) {
        match record {
            Record::Observed(key) => self.add_dated_pair(key, 1, when),
            Record::Skipped(reason) => {
                let n = &mut self.skipped[reason.index()];
                *n = n.saturating_add(1);
            }
            Record::ClientName { ip, name } => self.add_client_name(ip, name),
        }
    }

    fn add_client_name(&mut self, ip: IpAddr, name: Box<str>) {
        match self.client_names.get_mut(&ip) {
            Some(known) if *known <= name => {}
            Some(known) => *known = name,
            None => {
                self.client_names.insert(ip, name);
            }
        }
    }

    /// `messages` of one pair, all at `when`: one lookup of the pair.
    pub fn add_dated_pair(&mut self, key: PairKey, messages: u64, when: When) {
        self.period.see(when, messages);
        let count = self.pairs.entry(key).or_default();
        count.messages = count.messages.saturating_add(messages);
        if let When::At(t) = when {
            count.days.bump(t.day(), messages);
        }
    }

    /// `messages` of `key` on `day` from a pairs file's `.days` file; the pair's messages
    /// are counted by the merge's store.
    pub fn add_file_day(&mut self, key: &PairKey, day: Day, messages: u64) {
        match self.file_days.get_mut(key) {
            Some(days) => days.bump(day, messages),
            None => {
                let mut days = DayList::default();
                days.bump(day, messages);
                self.file_days.insert(key.clone(), days);
            }
        }
    }

    /// Moves the pairs files' days into their pairs' values. Days of a pair that no input
    /// counted (only a hand-edited `.days` file names one) are dropped unless `keep_orphans`.
    pub fn attach_file_days(&mut self, keep_orphans: bool) {
        for (key, days) in std::mem::take(&mut self.file_days) {
            match self.pairs.get_mut(&key) {
                Some(count) => count.days.merge(days),
                None if keep_orphans => {
                    let count = PairCount { messages: 0, days };
                    self.pairs.insert(key, count);
                }
                None => {}
            }
        }
    }

    pub fn add_pair(&mut self, key: PairKey, messages: u64) {
        let n = &mut self.pairs.entry(key).or_default().messages;
        *n = n.saturating_add(messages);
    }

    /// A pair from an input that knows how many of its messages were authenticated, all
    /// counted at `when`.
    pub fn add_evidenced_pair(
        &mut self,
        key: PairKey,
        messages: u64,
        authenticated: u64,
        when: When,
    ) {
        let n = self.authenticated.entry(key.clone()).or_insert(0);
        *n = n.saturating_add(authenticated);
        self.add_dated_pair(key, messages, when);
    }

    /// The evidence for one pair; `None` when no input could tell.
    pub fn authenticated_of(&self, key: &PairKey) -> Option<u64> {
        self.authenticated.get(key).copied()
    }

    pub fn merge(&mut self, mut other: Tally) {
        for (ip, name) in other.client_names {
            self.add_client_name(ip, name);
        }
        self.period.merge(&other.period);
        if self.file_days.len() < other.file_days.len() {
            std::mem::swap(&mut self.file_days, &mut other.file_days);
        }
        for (k, days) in other.file_days {
            self.file_days.entry(k).or_default().merge(days);
        }
        for (k, n) in other.authenticated {
            let mine = self.authenticated.entry(k).or_insert(0);
            *mine = mine.saturating_add(n);
        }
        if self.pairs.len() < other.pairs.len() {
            std::mem::swap(&mut self.pairs, &mut other.pairs);
        }
        for (k, count) in other.pairs {
            let mine = self.pairs.entry(k).or_default();
            mine.messages = mine.messages.saturating_add(count.messages);
            mine.days.merge(count.days);
        }
        for (a, b) in self.skipped.iter_mut().zip(other.skipped) {
            *a = a.saturating_add(b);
        }
    }

    /// Every message counted.
    pub fn messages(&self) -> u64 {
        saturating_sum(self.pairs.values().map(|c| c.messages))
    }

    pub fn skipped_total(&self) -> u64 {
        saturating_sum(self.skipped.iter().copied())
    }
}

/// A sum that stops at `u64::MAX` instead of overflowing.
pub fn saturating_sum(values: impl IntoIterator<Item = u64>) -> u64 {
    values.into_iter().fold(0, u64::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sender;

    fn obs(d: &str, ip: &str) -> Record {
        Record::Observed(PairKey {
            sender: Sender::Domain(d.into()),
            ip: ip.parse().ok(),
        })
    }

    #[test]
    fn dedupes_and_merges() {
        let mut a = Tally::default();
        a.add(obs("example.org", "192.0.2.1"));
        a.add(obs("example.org", "192.0.2.1"));
        a.add(Record::Skipped(SkipReason::Local));
        let mut b = Tally::default();
        b.add(obs("example.org", "192.0.2.1"));
        b.add(obs("example.net", "192.0.2.1"));
        b.add(Record::Skipped(SkipReason::Local));
        a.merge(b);
        assert_eq!(a.pairs.len(), 2);
        assert_eq!(a.messages(), 4);
        assert_eq!(a.skipped[SkipReason::Local.index()], 2);
        let key = PairKey {
            sender: Sender::Domain("example.org".into()),
            ip: "192.0.2.1".parse().ok(),
        };
        assert_eq!(a.pairs[&key].messages, 3);
    }

    #[test]
    fn authenticated_counts_merge_beside_the_pairs() {
        let key = |d: &str| PairKey {
            sender: Sender::Domain(d.into()),
            ip: "192.0.2.1".parse().ok(),
        };
        let mut a = Tally::default();
        a.add_evidenced_pair(key("owner.example"), 10, 4, When::Absent);
        a.add(obs("owner.example", "192.0.2.1"));
        let mut b = Tally::default();
        b.add_evidenced_pair(key("owner.example"), 5, 5, When::Absent);
        b.add_evidenced_pair(key("other.example"), 3, 0, When::Absent);
        a.merge(b);
        assert_eq!(a.pairs[&key("owner.example")].messages, 16);
        assert_eq!(a.authenticated_of(&key("owner.example")), Some(9));
        assert_eq!(a.authenticated_of(&key("other.example")), Some(0));
        assert_eq!(a.authenticated_of(&key("third.example")), None);
    }

    #[test]
    fn dated_messages_count_by_pair_and_day_and_merge() {
        use crate::model::UtcTime;
        let at = |d: u32, h: u32| When::At(UtcTime::from_civil(2026, 11, d, h * 3600));
        let key = |d: &str| PairKey {
            sender: Sender::Domain(d.into()),
            ip: "192.0.2.1".parse().ok(),
        };
        let mut a = Tally::default();
        a.add_at(obs("a.example", "192.0.2.1"), at(2, 1));
        a.add_at(obs("a.example", "192.0.2.1"), at(2, 23));
        a.add_at(obs("a.example", "192.0.2.1"), at(1, 5));
        a.add_at(obs("a.example", "192.0.2.1"), When::Unparseable);
        a.add_at(Record::Skipped(SkipReason::Local), at(9, 0));
        let mut b = Tally::default();
        b.add_dated_pair(key("a.example"), 4, at(3, 0));
        b.add_dated_pair(key("a.example"), 1, at(1, 0));
        b.add(obs("b.example", "192.0.2.1"));
        a.merge(b);
        let day = |d| UtcTime::from_civil(2026, 11, d, 0).day();
        assert_eq!(
            a.pairs[&key("a.example")].days.iter().collect::<Vec<_>>(),
            [(day(1), 2), (day(2), 2), (day(3), 4)]
        );
        assert!(a.pairs[&key("b.example")].days.is_empty());
        assert_eq!(a.pairs[&key("a.example")].messages, 9);
        assert_eq!(a.period.first, Some(UtcTime::from_civil(2026, 11, 1, 0)));
        assert_eq!(a.period.last, Some(UtcTime::from_civil(2026, 11, 3, 0)));
        assert_eq!((a.period.unparseable, a.period.absent), (1, 1));
    }

    #[test]
    fn pairs_files_days_join_their_pairs_and_orphans_only_when_kept() {
        use crate::model::UtcTime;
        let key = |d: &str| PairKey {
            sender: Sender::Domain(d.into()),
            ip: "192.0.2.1".parse().ok(),
        };
        let day = |d| UtcTime::from_civil(2026, 11, d, 0).day();
        let tally = || {
            let mut t = Tally::default();
            t.add_pair(key("counted.example"), 3);
            t.add_file_day(&key("counted.example"), day(2), 2);
            t.add_file_day(&key("counted.example"), day(1), 1);
            t.add_file_day(&key("orphan.example"), day(1), 5);
            let mut other = Tally::default();
            other.add_file_day(&key("counted.example"), day(2), 1);
            t.merge(other);
            t
        };
        let mut audit = tally();
        audit.attach_file_days(false);
        assert!(audit.file_days.is_empty());
        let counted = &audit.pairs[&key("counted.example")];
        assert_eq!(counted.messages, 3, "days never add messages");
        assert_eq!(
            counted.days.iter().collect::<Vec<_>>(),
            [(day(1), 1), (day(2), 3)]
        );
        assert!(!audit.pairs.contains_key(&key("orphan.example")));
        let mut scan = tally();
        scan.attach_file_days(true);
        let orphan = &scan.pairs[&key("orphan.example")];
        assert_eq!((orphan.messages, orphan.days.iter().count()), (0, 1));
    }

    #[test]
    fn counts_saturate_instead_of_overflowing() {
        let key = PairKey {
            sender: Sender::Null,
            ip: None,
        };
        let mut a = Tally::default();
        a.add_pair(key.clone(), u64::MAX);
        a.add_pair(key.clone(), 1);
        a.add_pair(
            PairKey {
                sender: Sender::Missing,
                ip: None,
            },
            5,
        );
        let mut b = Tally::default();
        b.add_pair(key.clone(), u64::MAX);
        b.skipped = [u64::MAX; SkipReason::ALL.len()];
        a.skipped[0] = 1;
        a.merge(b);
        assert_eq!(a.pairs[&key].messages, u64::MAX);
        assert_eq!(a.messages(), u64::MAX);
        assert_eq!(a.skipped[0], u64::MAX);
        assert_eq!(a.skipped_total(), u64::MAX);
    }
}
