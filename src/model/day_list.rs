//! A pair's dated messages by UTC day (issue 15), kept in the pair's own value so a dated
//! message costs one lookup of its pair, as an undated one does. Small on purpose: most pairs
//! are seen on one day, so that day and its count sit inline (16 bytes in all) and only a
//! pair seen on two or more days (or more than `u32::MAX` times on one) has a list of its
//! own.

use super::Day;

/// Messages of one pair by day, sorted by day, each day once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DayList {
    /// No dated message.
    #[default]
    Empty,
    /// One day and its messages.
    One(Day, u32),
    /// Two days or more, sorted (or one whose count does not fit in a `u32`).
    Many(Box<Vec<(Day, u64)>>),
}

impl DayList {
    pub fn is_empty(&self) -> bool {
        matches!(self, DayList::Empty)
    }

    /// The days and their messages, in day order.
    pub fn iter(&self) -> impl Iterator<Item = (Day, u64)> + '_ {
        let (one, many) = match self {
            DayList::Empty => (None, &[][..]),
            DayList::One(day, n) => (Some((*day, u64::from(*n))), &[][..]),
            DayList::Many(list) => (None, &list[..]),
        };
        one.into_iter().chain(many.iter().copied())
    }

    /// The first and last day; `None` when no message was dated.
    pub fn span(&self) -> Option<(Day, Day)> {
        match self {
            DayList::Empty => None,
            DayList::One(day, _) => Some((*day, *day)),
            DayList::Many(list) => Some((list.first()?.0, list.last()?.0)),
        }
    }

    /// Adds `n` messages on `day` (saturating). Logs come in time order, so the last day is
    /// nearly always the one.
    pub fn bump(&mut self, day: Day, n: u64) {
        match self {
            DayList::Empty => *self = one(day, n),
            DayList::One(d, m) if *d == day => {
                *self = one(day, u64::from(*m).saturating_add(n));
            }
            DayList::One(d, m) => {
                let mut list = vec![(*d, u64::from(*m))];
                bump_sorted(&mut list, day, n);
                *self = DayList::Many(Box::new(list));
            }
            DayList::Many(list) => bump_sorted(list, day, n),
        }
    }

    /// Adds every day of `other`.
    pub fn merge(&mut self, other: DayList) {
        if self.is_empty() {
            *self = other;
            return;
        }
        other.iter().for_each(|(d, n)| self.bump(d, n));
    }
}

fn one(day: Day, n: u64) -> DayList {
    match u32::try_from(n) {
        Ok(n) => DayList::One(day, n),
        Err(_) => DayList::Many(Box::new(vec![(day, n)])),
    }
}

fn bump_sorted(days: &mut Vec<(Day, u64)>, day: Day, n: u64) {
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

impl FromIterator<(Day, u64)> for DayList {
    fn from_iter<I: IntoIterator<Item = (Day, u64)>>(iter: I) -> Self {
        let mut list = DayList::Empty;
        iter.into_iter().for_each(|(d, n)| list.bump(d, n));
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(list: &DayList) -> Vec<(i32, u64)> {
        list.iter().map(|(d, n)| (d.0, n)).collect()
    }

    #[test]
    fn one_day_inline_then_a_sorted_list() {
        assert_eq!(std::mem::size_of::<DayList>(), 16);
        let mut l = DayList::default();
        assert!(l.is_empty() && days(&l).is_empty() && l.span().is_none());
        l.bump(Day(5), 2);
        l.bump(Day(5), 1);
        assert_eq!(l, DayList::One(Day(5), 3));
        l.bump(Day(3), 1);
        l.bump(Day(9), 4);
        l.bump(Day(5), 1);
        assert_eq!(days(&l), [(3, 1), (5, 4), (9, 4)]);
        assert_eq!(l.span(), Some((Day(3), Day(9))));
        let mut m: DayList = [(Day(9), 1), (Day(1), 1)].into_iter().collect();
        m.merge(l);
        assert_eq!(days(&m), [(1, 1), (3, 1), (5, 4), (9, 5)]);
    }

    #[test]
    fn counts_past_u32_spill_and_saturate() {
        let mut l = DayList::default();
        l.bump(Day(1), u64::from(u32::MAX));
        assert_eq!(l, DayList::One(Day(1), u32::MAX));
        l.bump(Day(1), 1);
        assert_eq!(days(&l), [(1, u64::from(u32::MAX) + 1)]);
        l.bump(Day(1), u64::MAX);
        assert_eq!(days(&l), [(1, u64::MAX)]);
        let mut e = DayList::default();
        e.merge(DayList::default());
        assert!(e.is_empty());
    }
}
