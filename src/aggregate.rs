//! Aggregation: dedupes observations into (sender, client) pairs with message counts and
//! counts everything skipped by reason. Each parser thread fills its own [`Tally`]; tallies
//! merge at the end, so memory follows the number of distinct pairs, not the input size.
//! Counts saturate: a pairs file may claim any count, and hostile input must not overflow.
//! Pairs files, many small ones at a time, merge through one shared [`store::PairStore`].
//!
//! Dates (issue 15): a dated message is also counted under its pair and UTC day, because
//! `--by-day` needs each pair's verdict, known only after the DNS stage. A pair keeps one
//! short list of (day, messages) — one entry per day it was seen, not pairs × days — and the
//! tally keeps the period covered and the messages it could not date.

pub mod store;

use crate::model::{Day, PairKey, Period, Record, SkipReason, When};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// A pair's dated messages by UTC day, sorted by day.
pub type DayCounts = Vec<(Day, u64)>;

/// A pair's days, and its dated messages not yet added to its total in `pairs`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PairDays {
    list: DayCounts,
    pending: u64,
}

impl std::ops::Deref for PairDays {
    type Target = DayCounts;
    fn deref(&self) -> &DayCounts {
        &self.list
    }
}

impl From<DayCounts> for PairDays {
    fn from(list: DayCounts) -> Self {
        PairDays { list, pending: 0 }
    }
}

/// Each pair's days. A dated message is counted here only, with one lookup as an undated
/// one costs in `pairs` (issue 15 item 5); [`Tally::settle`] adds the pending counts to
/// `pairs` when an input is done. The hasher is foldhash's, not SipHash: the keys are not
/// chosen by anyone who gains from aiming at its buckets (a degraded map is slow, never
/// wrong).
pub type DayMap = HashMap<PairKey, PairDays, foldhash::fast::FixedState>;

#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub pairs: HashMap<PairKey, u64>,
    pub skipped: [u64; SkipReason::ALL.len()],
    /// Messages of a pair known to be authenticated, for the pairs whose input could tell
    /// (DMARC reports); a pair absent here has no such evidence. Kept beside `pairs` so the
    /// hot map of the other inputs stays as small and fast as it was.
    pub authenticated: HashMap<PairKey, u64>,
    /// The name logs recorded for each client, where one did (`Record::ClientName`); the
    /// smallest name when logs disagree, so the result does not depend on reading order.
    pub client_names: BTreeMap<IpAddr, Box<str>>,
    /// Dated messages of each pair by UTC day; a pair none of whose messages was dated is
    /// absent.
    pub days: DayMap,
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

    /// `messages` of one pair, all at `when`.
    pub fn add_dated_pair(&mut self, key: PairKey, messages: u64, when: When) {
        self.period.see(when, messages);
        let When::At(t) = when else {
            return self.add_pair(key, messages);
        };
        let day = t.day();
        match self.days.get_mut(&key) {
            Some(days) => {
                bump(&mut days.list, day, messages);
                days.pending = days.pending.saturating_add(messages);
            }
            None => {
                let days = PairDays {
                    list: vec![(day, messages)],
                    pending: messages,
                };
                self.days.insert(key, days);
            }
        }
    }

    /// Adds the dated messages counted since the last call to their pairs' totals. Every
    /// reader of `pairs` settles first: the readers of inputs at the end of each input, and
    /// [`Self::merge`] on both sides.
    pub fn settle(&mut self) {
        for (key, days) in &mut self.days {
            if days.pending > 0 {
                let n = self.pairs.entry(key.clone()).or_insert(0);
                *n = n.saturating_add(std::mem::take(&mut days.pending));
            }
        }
    }

    /// `messages` of `key` on `day`, beside the pair's total (which the caller adds).
    pub fn add_day(&mut self, key: &PairKey, day: Day, messages: u64) {
        match self.days.get_mut(key) {
            Some(days) => bump(&mut days.list, day, messages),
            None => {
                self.days.insert(key.clone(), vec![(day, messages)].into());
            }
        }
    }

    pub fn add_pair(&mut self, key: PairKey, messages: u64) {
        let n = self.pairs.entry(key).or_insert(0);
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
        self.settle();
        other.settle();
        for (ip, name) in other.client_names {
            self.add_client_name(ip, name);
        }
        self.period.merge(&other.period);
        for (k, days) in other.days {
            match self.days.get_mut(&k) {
                Some(mine) => days
                    .list
                    .into_iter()
                    .for_each(|(d, n)| bump(&mut mine.list, d, n)),
                None => {
                    self.days.insert(k, days);
                }
            }
        }
        for (k, n) in other.authenticated {
            let mine = self.authenticated.entry(k).or_insert(0);
            *mine = mine.saturating_add(n);
        }
        if self.pairs.len() < other.pairs.len() {
            let mine = std::mem::replace(&mut self.pairs, other.pairs);
            for (k, n) in mine {
                self.add_pair(k, n);
            }
        } else {
            for (k, n) in other.pairs {
                self.add_pair(k, n);
            }
        }
        for (a, b) in self.skipped.iter_mut().zip(other.skipped) {
            *a = a.saturating_add(b);
        }
    }

    /// Every message counted, settled or not.
    pub fn messages(&self) -> u64 {
        let pending = self.days.values().map(|d| d.pending);
        saturating_sum(self.pairs.values().copied().chain(pending))
    }

    pub fn skipped_total(&self) -> u64 {
        saturating_sum(self.skipped.iter().copied())
    }
}

/// Adds `n` messages on `day` to a sorted day list. Logs come in time order, so the last
/// day is nearly always the one.
pub fn bump(days: &mut DayCounts, day: Day, n: u64) {
    if let Some((last, m)) = days.last_mut()
        && *last == day
    {
        *m = m.saturating_add(n);
        return;
    }
    match days.binary_search_by_key(&day, |(d, _)| *d) {
        Ok(i) => days[i].1 = days[i].1.saturating_add(n),
        Err(i) => days.insert(i, (day, n)),
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
        assert_eq!(a.pairs[&key], 3);
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
        assert_eq!(a.pairs[&key("owner.example")], 16);
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
            a.days[&key("a.example")][..],
            [(day(1), 2), (day(2), 2), (day(3), 4)]
        );
        assert!(!a.days.contains_key(&key("b.example")));
        assert_eq!(a.pairs[&key("a.example")], 9);
        assert_eq!(a.period.first, Some(UtcTime::from_civil(2026, 11, 1, 0)));
        assert_eq!(a.period.last, Some(UtcTime::from_civil(2026, 11, 3, 0)));
        assert_eq!((a.period.unparseable, a.period.absent), (1, 1));
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
        assert_eq!(a.pairs[&key], u64::MAX);
        assert_eq!(a.messages(), u64::MAX);
        assert_eq!(a.skipped[0], u64::MAX);
        assert_eq!(a.skipped_total(), u64::MAX);
    }
}
