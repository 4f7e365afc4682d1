//! The pairs table of one merge shard (issue 16 item 3): open addressing over 32-byte
//! slots that hold the key and the count together, probed linearly, with no control bytes
//! beside them. A row costs one cache line of the table, whose address is known from its
//! hash before the row's turn comes, so [`Table::prefetch`] can fetch it while earlier rows
//! are added: with a million pairs nearly every row's slot is a miss, and hashbrown's
//! tables (control bytes, then the slot) cost two dependent misses with no way to ask for
//! the bucket early. The slots are in huge pages ([`super::huge`]).

use super::huge::Slots;

/// A pair and its count, the sender by its index in the shard. 32 bytes, aligned so that
/// no slot straddles two cache lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(32))]
pub struct Slot {
    pub ip: [u8; 16],
    pub sender: u32,
    /// 0 (no address), 4 or 6; [`EMPTY`] marks a free slot.
    pub family: u8,
    pub messages: u64,
}

/// The `family` of a free slot.
const EMPTY: u8 = 0xff;

const FREE: Slot = Slot {
    ip: [0; 16],
    sender: 0,
    family: EMPTY,
    messages: 0,
};

/// Slots of a table that has never been added to.
const FIRST_CAPACITY: usize = 64;

/// A set of pairs with their counts, keyed by the caller's hash of each pair.
#[derive(Default)]
pub struct Table {
    slots: Slots<Slot>,
    len: usize,
}

impl Table {
    pub fn len(&self) -> usize {
        self.len
    }

    /// Asks the processor for the cache line a pair of this hash is looked for at first.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        if self.slots.is_empty() {
            return;
        }
        let at = self.slots.as_ptr().wrapping_add(self.home(hash));
        prefetch_line(at.cast());
    }

    fn home(&self, hash: u64) -> usize {
        hash as usize & (self.slots.len() - 1)
    }

    /// Adds `messages` (saturating) to the pair (`sender`, `family`, `ip`) whose hash is
    /// `hash`, inserting it when new and `accept` says it may be; `rehash` gives a stored
    /// pair's hash when the table grows (the hashes are not kept: 8 more bytes a slot).
    /// False when the pair was new and refused.
    #[inline]
    pub fn add(
        &mut self,
        hash: u64,
        key: (u32, u8, [u8; 16]),
        messages: u64,
        accept: impl FnOnce() -> bool,
        rehash: impl Fn(&Slot) -> u64,
    ) -> bool {
        let (sender, family, ip) = key;
        debug_assert_ne!(family, EMPTY);
        // Grows at three quarters full: linear probing stays short below that.
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow(rehash);
        }
        let mask = self.slots.len() - 1;
        let mut at = self.home(hash);
        loop {
            let slot = &mut self.slots[at];
            if slot.family == EMPTY {
                if !accept() {
                    return false;
                }
                *slot = Slot {
                    ip,
                    sender,
                    family,
                    messages,
                };
                self.len += 1;
                return true;
            }
            if slot.sender == sender && slot.family == family && slot.ip == ip {
                slot.messages = slot.messages.saturating_add(messages);
                return true;
            }
            at = (at + 1) & mask;
        }
    }

    fn grow(&mut self, rehash: impl Fn(&Slot) -> u64) {
        let capacity = (self.slots.len() * 2).max(FIRST_CAPACITY);
        let old = std::mem::replace(&mut self.slots, Slots::new(capacity, FREE));
        let mask = capacity - 1;
        for &slot in old.iter().filter(|s| s.family != EMPTY) {
            let mut at = self.home(rehash(&slot));
            while self.slots[at].family != EMPTY {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
    }

    /// Calls `f` on every pair, which may change its key: the table is only emptied
    /// ([`Self::into_slots`]) after this, never looked up in again.
    pub fn for_each_pair(&mut self, mut f: impl FnMut(&mut Slot)) {
        for slot in self.slots.iter_mut().filter(|s| s.family != EMPTY) {
            f(slot);
            debug_assert_ne!(slot.family, EMPTY);
        }
    }

    /// The pairs, in no particular order; the table is freed as they are taken.
    pub fn into_slots(self) -> impl Iterator<Item = Slot> {
        let slots = self.slots;
        (0..slots.len())
            .map(move |i| slots[i])
            .filter(|s| s.family != EMPTY)
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
pub(super) fn prefetch_line(at: *const i8) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: SSE is part of every x86_64 processor, and a prefetch is a hint that never
    // faults, whatever the address (the caller's is inside the table anyway).
    unsafe { _mm_prefetch::<_MM_HINT_T0>(at) };
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
pub(super) fn prefetch_line(_at: *const i8) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Random adds (few hashes on purpose, so that collisions and long probes happen),
    /// against a map of the same keys.
    #[test]
    fn adds_agree_with_a_map_through_growth_and_collisions() {
        let mut table = Table::default();
        let mut want: HashMap<(u32, u8, [u8; 16]), u64> = HashMap::new();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..50_000 {
            let r = next();
            let sender = (r % 300) as u32;
            let family = [0, 4, 6][(r >> 12) as usize % 3];
            let mut ip = [0u8; 16];
            ip[0] = (r >> 20) as u8 % 7;
            let n = if r >> 60 == 0 {
                u64::MAX
            } else {
                r >> 40 & 0xff
            };
            // A poor hash: one of 512 values, the pair's sender and first byte only.
            let poor =
                |sender: u32, ip: &[u8; 16]| (u64::from(sender) * 31 + u64::from(ip[0])) % 512;
            let hash = poor(sender, &ip);
            table.prefetch(hash);
            // Pairs of sender 13 are refused: never stored, never counted.
            let taken = table.add(
                hash,
                (sender, family, ip),
                n,
                || sender != 13,
                |s| poor(s.sender, &s.ip),
            );
            assert_eq!(taken, sender != 13);
            if taken {
                let e = want.entry((sender, family, ip)).or_default();
                *e = e.saturating_add(n);
            }
        }
        assert_eq!(table.len(), want.len());
        let got: HashMap<(u32, u8, [u8; 16]), u64> = table
            .into_slots()
            .map(|s| ((s.sender, s.family, s.ip), s.messages))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn slots_fill_half_a_cache_line_each() {
        assert_eq!(std::mem::size_of::<Slot>(), 32);
        assert_eq!(std::mem::align_of::<Slot>(), 32);
        let empty = Table::default();
        empty.prefetch(7);
        assert_eq!(empty.into_slots().count(), 0);
    }
}
