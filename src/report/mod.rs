//! Reports: the pairs CSV, the scan CSV, the summary on standard error, and `check`'s
//! explanation of one verdict.

pub mod check;
pub mod output;
pub mod pairs;
pub mod progress;
pub mod summary;
