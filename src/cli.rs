//! Command-line flags. The doc comments here are the `--help` text and the README's usage
//! block is checked against it, so this file is the single source of the flag reference.
//! Flags that a `--config` file may also set are `Option`s without a clap default, so
//! `config` can tell "not given" from "given as the default" (flags win over the file);
//! their defaults live in `config::defaults` and are spelled out in the help text.

// These doc comments are `--help` text, where `IP[:PORT]` and `MAIL-FROM.<relay>` are meant
// literally, not as rustdoc links or HTML.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::inputs::Format;
pub use crate::report::check::CheckFormat;

/// Measure what the "Repudiating MAIL FROM" check (MAIL-FROM MX records) would have done
/// to mail you already received.
#[derive(Debug, Parser)]
#[command(name = "repudiate", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Extract (sender domain, client IP) pairs, resolve each domain's MAIL-FROM policy and
    /// write the verdict of every pair as CSV.
    Audit(Box<AuditArgs>),
    /// Extract and dedupe pairs only, without policy lookups (a perimeter host name is
    /// resolved once); the output merges into a later audit.
    Scan(ScanArgs),
    /// Explain one verdict: every DNS question asked, its answer, TTL and source, the
    /// delegation depth, the lookup count, and the rule that decided.
    Check(CheckArgs),
    /// Propose the MAIL-FROM.<domain> MX set that would make a domain's legitimate observed
    /// mail nonrepudiated, as a zone fragment `audit --zone` loads; the coverage goes to
    /// standard error. For domain owners, from their DMARC aggregate reports.
    Propose(Box<ProposeArgs>),
    /// Write the man pages or a shell completion script (for packagers and installs).
    #[command(subcommand)]
    Generate(GenerateArgs),
}

#[derive(Debug, Clone, Subcommand)]
pub enum GenerateArgs {
    /// Print the man page (roff) on standard output, or with DIR write repudiate.1 and one
    /// page per command (repudiate-audit.1, ...) into DIR.
    Man {
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print the completion script for SHELL on standard output.
    Complete {
        #[arg(value_enum, value_name = "SHELL")]
        shell: CompletionShell,
    },
}

/// The shells `generate complete` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub reports: ReportArgs,
    #[command(flatten)]
    pub monitor: MonitorArgs,
    #[command(flatten)]
    pub dns: DnsArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Do not evaluate SPF beside the MAIL-FROM check: the spf column stays empty.
    #[arg(long)]
    pub no_spf: bool,
}

#[derive(Debug, Args)]
pub struct ProposeArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// The envelope domain to propose records for (repeatable).
    #[arg(long, required = true, value_name = "DOMAIN")]
    pub domain: Vec<String>,

    /// Relays with at least N messages are legitimate even without authenticated mail
    /// (default: only relays that sent authenticated mail, i.e. DKIM-aligned in DMARC
    /// reports).
    #[arg(long, value_name = "N")]
    pub min_messages: Option<u64>,

    /// Add the relays the domain's SPF record already authorises (a, mx, single ip4/ip6
    /// addresses); terms with no MAIL-FROM equivalent (networks, include:, ...) are listed
    /// as left out.
    #[arg(long)]
    pub from_spf: bool,

    #[command(flatten)]
    pub dns: DnsArgs,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub monitor: MonitorArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The envelope sender: an address (user@example.org), '<>' for the null sender (quoted,
    /// or the shell reads it as a redirection), or a bare domain.
    #[arg(value_name = "ADDRESS-OR-DOMAIN", allow_hyphen_values = true)]
    pub sender: String,

    /// The connecting client's IP address (IPv4 or IPv6).
    #[arg(value_name = "IP")]
    pub ip: String,

    /// How to print the explanation: an indented tree for people, or CSV with one row per
    /// DNS question (the verdict repeated on each).
    #[arg(long, value_enum, default_value_t = CheckFormat::Text, value_name = "FORMAT")]
    pub format: CheckFormat,

    /// The client's HELO/EHLO name: SPF's %{h}, and with <> as the sender the identity SPF
    /// checks (postmaster@NAME). Without it, <> has no SPF result (none).
    #[arg(long, value_name = "NAME")]
    pub helo: Option<String>,

    #[command(flatten)]
    pub site: SiteArgs,

    #[command(flatten)]
    pub dns: DnsArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// The site's settings every command that judges mail takes: its own relays and its
/// settings file. Declared once, flattened where needed.
#[derive(Debug, Args)]
pub struct SiteArgs {
    /// The site's own border relays and networks: IP, CIDR or host name (repeatable).
    /// Received hops and log clients from them are internal, and they are permitted relays
    /// for every domain with a policy.
    #[arg(long, value_name = "IP|CIDR|HOST")]
    pub perimeter: Vec<String>,

    /// Read settings from this TOML file (perimeter, forwarders, nameservers, zones, offline,
    /// cache, what to count, limits, outputs; each command takes the keys it uses); flags
    /// given on the command line win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files, directories (walked recursively; maildirs by their cur/ and new/), or - for
    /// standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Write the CSV here (via a temporary file and a rename) instead of standard output; -
    /// is standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub site: SiteArgs,

    /// Seconds to wait for another run that is writing the same output files before giving
    /// up (default: 60).
    #[arg(long, value_name = "SECS")]
    pub lock_wait: Option<f64>,

    /// Input format for every input; by default it is detected per file from its content.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Count clients in private, CGNAT, link-local and unique-local ranges as external.
    #[arg(long)]
    pub no_skip_private: bool,

    /// Count attempts the MTA already refused (postfix NOQUEUE reject lines) as pairs.
    #[arg(long)]
    pub include_rejected: bool,

    /// What to do with the null sender (MAIL FROM:<>): report it as null-sender, or use the
    /// client's HELO name as the domain when the input records it (default: report).
    #[arg(long, value_enum, value_name = "MODE")]
    pub null_sender: Option<NullSender>,

    /// Stop reading an input at its first malformed message or line, naming file and line;
    /// an input from which nothing was recognised is then an error, not a warning.
    #[arg(long)]
    pub strict: bool,

    /// Skip a line, or a message's header block, longer than this many bytes as oversized,
    /// without holding it in memory (default: 33554432).
    #[arg(long, value_name = "BYTES")]
    pub max_line_bytes: Option<usize>,

    /// Days of log time after which a postfix queue id that no line has named is dropped
    /// (counted incomplete if its record never came), so logs without `removed` lines keep
    /// memory bounded (default: 3).
    #[arg(long, value_name = "DAYS")]
    pub queue_window: Option<f64>,

    /// Leave out walked files and folders whose name matches GLOB (`*`, `?`, `[...]`), or
    /// whose path does when GLOB holds a `/` (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Name every file a walk passed over (not mail, excluded, special, reached twice).
    #[arg(short, long)]
    pub verbose: bool,

    /// Parser threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,

    /// No summary on standard error (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
}

/// The reports beside the pairs CSV, and the cron alert.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write one row per sender domain here (messages, pairs, messages per verdict,
    /// repudiated share).
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    /// Write one row per day (UTC) here: messages by verdict, and by SPF result when SPF is
    /// evaluated. Messages without a usable date are in no row.
    #[arg(long, value_name = "FILE")]
    pub by_day: Option<PathBuf>,

    /// Append one row for this run here (totals by verdict); the header is written when the
    /// file is new or empty.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,

    /// Write a self-contained HTML page here: totals, a chart by verdict, the domains and
    /// relays that would be repudiated, and the settings used.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Exit with code 3 when repudiated messages are more than PCT percent of all messages
    /// in the report (for cron alerts).
    #[arg(long, value_name = "PCT")]
    pub fail_above: Option<f64>,

    /// Exit with code 4 when tempfail messages are more than PCT percent of the evaluated
    /// messages (all but null-sender and unknown): DNS was too unreliable to trust the report
    /// (default: 10; 100 turns it off).
    #[arg(long, value_name = "PCT")]
    pub max_tempfail: Option<f64>,
}

/// The run's summary for machines, written by `audit` and `scan` alike.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// Write the run's totals here in the Prometheus text format, for node_exporter's textfile
    /// collector: gauges with HELP and TYPE lines and the run's time as
    /// repudiate_last_run_timestamp_seconds (docs/monitoring.md).
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,

    /// Write the run's summary here as JSON (the schema is docs/summary.schema.json).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NullSender {
    /// A `null-sender` row, not evaluated (once named `skip`, still accepted)
    #[value(alias = "skip")]
    #[serde(alias = "skip")]
    Report,
    /// The client's HELO name as the sender domain, as SPF does
    Helo,
}

#[derive(Debug, Default, Args)]
pub struct DnsArgs {
    /// DNS server to ask, IP[:PORT] (repeatable; default: the system configuration).
    #[arg(long, value_name = "IP[:PORT]")]
    pub nameserver: Vec<String>,

    /// Seconds to wait for one DNS reply (default: 2).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,

    /// Tries per DNS question (default: 2).
    #[arg(long, value_name = "N")]
    pub attempts: Option<usize>,

    /// DNS questions in flight at once (default: 64).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// RFC 1035 master file consulted before DNS (repeatable; needs $ORIGIN). A
    /// MAIL-FROM name inside its origin that it does not hold has no policy.
    #[arg(long, value_name = "FILE")]
    pub zone: Vec<PathBuf>,

    /// Never use the network: what the zone files and the cache cannot answer is tempfail
    /// (offline).
    #[arg(long)]
    pub offline: bool,

    /// Keep DNS answers in FILE between runs and reuse them until their TTLs expire
    /// (failures and zone-file answers are not kept). A damaged file is reported and ignored.
    #[arg(long, value_name = "FILE")]
    pub cache: Option<PathBuf>,

    /// Reuse --cache answers up to this old even after their TTL ran out: 36h, 7d, 90m or
    /// seconds (default: 0, each answer's own TTL).
    #[arg(long, value_name = "DURATION")]
    pub cache_max_age: Option<String>,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// A forwarder whose relays are permitted for every domain: IP, CIDR or host name
    /// (repeatable).
    #[arg(long, value_name = "IP|CIDR|HOST")]
    pub forwarder: Vec<String>,

    /// Delegation levels followed through MAIL-FROM.<relay> (0: the draft's one level;
    /// default: 10).
    #[arg(long, value_name = "N")]
    pub max_depth: Option<u32>,

    /// Distinct DNS questions one evaluation may ask before it is permerror (default: 100).
    #[arg(long, value_name = "N")]
    pub max_lookups: Option<u32>,

    /// Seconds one evaluation may take before it is tempfail (default: 20).
    #[arg(long, value_name = "SECS")]
    pub eval_timeout: Option<f64>,
}
