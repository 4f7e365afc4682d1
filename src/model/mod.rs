//! The types every stage shares — the pair, what a record amounts to, skip reasons, the
//! verdicts and SPF results with their report spellings, and the audit row — so that no
//! stage imports them from another. The model imports no stage.

pub mod address;
pub mod date;
mod day_list;
mod pair;
mod row;
mod skip;
mod spf;
pub(crate) mod text;
mod verdict;

pub use date::{Day, Period, UtcTime, When};
pub use day_list::DayList;
pub use pair::{PairKey, Record, Sender};
pub use row::PairRow;
pub use skip::SkipReason;
pub use spf::SpfResult;
pub use verdict::Verdict;

/// `n` as a percentage of `total`; 0 when there is nothing to share.
pub fn pct(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    }
}
