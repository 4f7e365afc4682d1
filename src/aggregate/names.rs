//! The senders of one merge shard, interned (issue 16 item 3). Every row of a merge looks
//! its sender up here before its pair; a short name is kept in the 32-byte slot that its
//! hash points at, so the look-up reads one cache line, which [`Names::prefetch`] asks for
//! before the row's turn. A hashbrown table of indices into a list of boxed names cost
//! three dependent reads (control bytes, entry, name), and a call to memcmp.

use super::store::Kind;
use super::table::prefetch_line;

/// Names up to this many bytes live in their slot (a domain of the kind most mail comes
/// from: `d19825.example` is 14).
pub const INLINE: usize = 18;

/// `len` of a free slot, and of a name too long to keep inline.
const EMPTY: u8 = 0xff;
const LONG: u8 = 0xfe;

#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Slot {
    hash: u64,
    id: u32,
    kind: Kind,
    len: u8,
    text: [u8; INLINE],
}

const FREE: Slot = Slot {
    hash: 0,
    id: 0,
    kind: Kind::Missing,
    len: EMPTY,
    text: [0; INLINE],
};

const FIRST_CAPACITY: usize = 16;

/// A sender as interned: its hash, the text it was added with (its kind is in its slot),
/// and which sender that is.
pub struct Name {
    pub hash: u64,
    pub text: Box<str>,
    pub canonical: Canonical,
}

/// What a name stands for: the sender of its own key (`Kind::Raw` keys: the one whose
/// domain column is that text, as a merge nearly always meets them), or another one's
/// (`Example.COM.` for `example.com`), whose pairs are folded into that one's at the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Canonical {
    Same(Kind),
    Other(crate::model::Sender),
}

/// The senders of a shard, each numbered once.
#[derive(Default)]
pub struct Names {
    slots: Vec<Slot>,
    /// By number.
    senders: Vec<Name>,
}

/// A name's text padded with zeros to the inline width (compared in one go), or `None`
/// when it is too long to be kept inline. The merge's batches keep their names padded
/// already ([`padded_at`]): copying a name's few bytes here, then reading them as one
/// word, stalled every row on the store that had not yet reached memory.
pub fn padded(text: &str) -> Option<[u8; INLINE]> {
    let bytes = text.as_bytes();
    let mut out = [0; INLINE];
    out.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(out)
}

/// [`padded`] for the name of `len` bytes at `start` in `text`, which is followed by
/// zeros up to the inline width.
pub fn padded_at(text: &[u8], start: usize, len: usize) -> Option<[u8; INLINE]> {
    if len > INLINE {
        return None;
    }
    text.get(start..start + INLINE)?.try_into().ok()
}

impl Names {
    /// The senders by number.
    pub fn senders(&self) -> &[Name] {
        &self.senders
    }

    pub fn into_senders(self) -> Vec<Name> {
        self.senders
    }

    /// Asks the processor for the cache line a sender of this hash is looked for at first.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        if !self.slots.is_empty() {
            prefetch_line(self.slots.as_ptr().wrapping_add(self.home(hash)).cast());
        }
    }

    fn home(&self, hash: u64) -> usize {
        hash as usize & (self.slots.len() - 1)
    }

    /// The number of the sender (`kind`, `text`) whose hash is `hash`, numbered now when
    /// it is new (and then told apart by `canonical`, once per name); `inline` is
    /// `padded(text)`.
    #[inline]
    pub fn intern(
        &mut self,
        hash: u64,
        kind: Kind,
        text: &str,
        inline: Option<[u8; INLINE]>,
        canonical: impl FnOnce() -> Canonical,
    ) -> u32 {
        debug_assert_eq!(inline, padded(text));
        if (self.senders.len() + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let len = inline.map_or(LONG, |_| text.len() as u8);
        let mask = self.slots.len() - 1;
        let mut at = self.home(hash);
        loop {
            let slot = &self.slots[at];
            if slot.len == EMPTY {
                break;
            }
            if slot.hash == hash && slot.kind == kind && slot.len == len {
                let same = match inline {
                    Some(text) => slot.text == text,
                    None => &*self.senders[slot.id as usize].text == text,
                };
                if same {
                    return slot.id;
                }
            }
            at = (at + 1) & mask;
        }
        let id = self.senders.len() as u32;
        self.senders.push(Name {
            hash,
            text: text.into(),
            canonical: canonical(),
        });
        self.slots[at] = Slot {
            hash,
            id,
            kind,
            len,
            text: inline.unwrap_or_default(),
        };
        id
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(FIRST_CAPACITY);
        let old = std::mem::replace(&mut self.slots, vec![FREE; capacity]);
        let mask = capacity - 1;
        for slot in old.into_iter().filter(|s| s.len != EMPTY) {
            let mut at = self.home(slot.hash);
            while self.slots[at].len != EMPTY {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Short and long names, of every kind, under a poor hash (collisions on purpose):
    /// each gets one number, the same every time it is met, and keeps its text.
    #[test]
    fn each_name_gets_one_number_whatever_the_collisions() {
        let mut names = Names::default();
        let kinds = [
            Kind::Domain,
            Kind::Null,
            Kind::Missing,
            Kind::Malformed,
            Kind::Raw,
        ];
        let text = |i: usize| match i % 4 {
            0 => String::new(),
            1 => format!("d{i}.example"),
            2 => format!("a-rather-long-name-{i}.example"),
            _ => "x".repeat(i % 40),
        };
        let mut seen = std::collections::HashMap::new();
        for round in 0..3 {
            for i in 0..2_000 {
                let (kind, t) = (kinds[i / 7 % 5], text(i));
                // A poor hash of the name: equal names, equal hashes; many others too.
                let hash = (t.len() as u64 * 7 + kind as u64) % 29;
                names.prefetch(hash);
                let id = names.intern(hash, kind, &t, padded(&t), || Canonical::Same(kind));
                let first = *seen.entry((kind, t.clone())).or_insert(id);
                assert_eq!(id, first, "round {round}, {kind:?} {t:?}");
            }
        }
        assert_eq!(names.senders().len(), seen.len());
        let mut buffer = b"ab".to_vec();
        buffer.resize(2 + INLINE, 0);
        assert_eq!(padded_at(&buffer, 0, 2), padded("ab"));
        assert_eq!(padded_at(&buffer, 1, 1), padded("b"));
        assert_eq!(
            padded_at(&buffer, 3, 1),
            None,
            "the buffer ends before the width"
        );
        assert_eq!(padded_at(&buffer, 0, INLINE + 1), None);
        for ((kind, t), id) in seen {
            let name = &names.senders()[id as usize];
            assert_eq!(&*name.text, t.as_str());
            assert_eq!(name.canonical, Canonical::Same(kind));
        }
    }
}
