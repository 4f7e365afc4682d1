//! Reports: the domain summary CSV, the by-day CSV, the history CSV, the HTML page, the run's
//! summary for machines (`--json`, `--metrics`), `check`'s explanation of one verdict, and the
//! summary and progress bars on standard error. The pairs CSV itself is
//! [`crate::pairs_file`]'s; every file is written through [`crate::fileio`].

pub mod by_day;
pub mod check;
pub mod domains;
pub mod hints;
pub mod history;
pub mod html;
mod html_days;
pub mod json;
pub mod metrics;
pub mod numbers;
pub mod progress;
pub mod proposal;
pub mod snapshot;
pub mod summary;
