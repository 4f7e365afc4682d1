//! `repudiate`: measures what Vixie's "Repudiating MAIL FROM" check would have done to mail
//! a site already received. The modules follow the pipeline — [`inputs`] → [`extract`] →
//! [`aggregate`] → [`dns`] → [`policy`] → [`report`] — and [`app`] runs them in that order
//! from a validated [`config::Config`] built from the [`cli`] flags.

pub mod net;

pub mod aggregate;
pub mod dns;
pub mod extract;
pub mod inputs;
pub mod policy;
pub mod report;

pub mod app;
pub mod cli;
pub mod config;
