//! Reports: the pairs CSV, the scan CSV, the domain summary CSV, the history CSV, the HTML
//! page, and the summary on standard error — every file written through `output` (a
//! temporary file renamed into place) under the run's `lock`.

pub mod domains;
pub mod history;
pub mod html;
pub mod lock;
pub mod output;
pub mod pairs;
pub mod summary;
