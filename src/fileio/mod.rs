//! Writing files so a reader never sees half of one: atomic replacement of outputs and the
//! locks that keep two runs from writing the same reports. Every command writes through
//! here; no stage does its own file replacement.

pub mod lock;
pub mod output;
