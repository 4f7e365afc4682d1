//! Reports: the pairs CSV, the scan CSV, the domain summary CSV, the history CSV, the HTML
//! page, `check`'s explanation of one verdict, and the summary and progress bars on
//! standard error — every file written through `output` (a temporary file renamed into
//! place) under the run's `lock`.

pub mod check;
pub mod domains;
pub mod history;
pub mod html;
pub mod lock;
pub mod output;
pub mod pairs;
pub mod progress;
pub mod summary;
