//! Reports: the pairs CSV, the scan CSV, and the summary on standard error.

pub mod output;
pub mod pairs;
pub mod progress;
pub mod summary;
