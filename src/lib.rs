//! `repudiate`: measures what Vixie's "Repudiating MAIL FROM" check would have done to mail
//! a site already received. The stages follow the pipeline — [`inputs`] → [`extract`] →
//! [`aggregate`] → [`dns`] → [`policy`] → `report` — over the types of [`model`], with
//! [`net`], `fileio` and [`pairs_file`] as utilities every stage may use. [`app`] wires
//! the stages, one file per command, from a validated [`config`] built from the [`cli`] flags.
//! `tests/layers.rs` checks that imports follow these layers.
//!
//! Besides the binary, the library API serves the fuzz targets (`fuzz/`) and the property
//! tests (`tests/integration/properties.rs`): a few line-by-line entry points (such as
//! [`extract::logs::LogExtractor::feed`] and [`inputs::mbox::MboxReader::next_item`]) exist
//! for them, as the reference the bulk readers the binary uses must agree with.

// The shared types and utilities: they import no stage.
pub mod allocator;
pub(crate) mod fileio;
pub mod model;
pub mod net;
pub mod pairs_file;

// The stages, in data-flow order.
pub mod aggregate;
pub mod dns;
pub mod extract;
pub mod inputs;
pub mod policy;
pub(crate) mod report;

// The command layer.
pub mod app;
pub mod cli;
pub mod config;
