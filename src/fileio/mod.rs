//! Writing files so a reader never sees half of one: atomic replacement of outputs and the
//! locks that keep two runs from writing the same reports. Every command writes through
//! here; no stage does its own file replacement. And what goes into a CSV file: cells a
//! spreadsheet cannot take for formulas ([`csv_cell`]).

pub mod csv_cell;
pub mod lock;
pub mod output;
