//! Writing files so a reader never sees half of one: atomic replacement of outputs and the
//! locks that keep two runs from writing the same reports. Every command writes through
//! here; no stage does its own file replacement. [`guard`] refuses, before a run, outputs that
//! would destroy a file the flag does not own; [`csv_cell`] makes CSV cells a spreadsheet
//! cannot take for formulas.

pub mod csv_cell;
pub mod guard;
pub mod lock;
pub mod output;
