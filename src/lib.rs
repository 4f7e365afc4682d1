//! `repudiate`: measures what Vixie's "Repudiating MAIL FROM" check would have done to mail
//! a site already received. The modules follow the pipeline: inputs → extract → aggregate →
//! dns → policy → report; [`app`] runs them in that order.

pub mod net;
pub mod extract;
pub mod aggregate;
pub mod inputs;
pub mod dns;
pub mod policy;
