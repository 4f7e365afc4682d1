//! A validated run configuration built from the flags and an optional `--config` TOML file
//! (flags win): every value is checked here, once, so the stages never see a bad setting and
//! a bad argument is exit code 1 (docs/design.md §6).

mod file;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::cli::GenerateArgs;
use crate::cli::{
    AuditArgs, CheckArgs, CheckFormat, Cli, Command, DnsArgs, InputArgs, MonitorArgs, NullSender,
    PolicyArgs, ProposeArgs, ReportArgs, ScanArgs,
};
use crate::dns::upstream::UpstreamConfig;
use crate::extract::{ExtractOptions, NullSenderMode};
use crate::inputs::{Glob, ReadOptions};
use crate::model::Sender;
use crate::model::address::{normalize_address, normalize_domain};
use crate::policy::PolicyConfig;
pub use crate::policy::relays::RelaySpec;
use file::FileConfig;

/// Defaults of every setting that has one, in one place: the code reads them here and a test
/// checks that `--help` states the same values.
pub mod defaults {
    pub const TIMEOUT_SECS: f64 = 2.0;
    pub const ATTEMPTS: usize = 2;
    pub const CONCURRENCY: usize = 64;
    pub const LOCK_WAIT_SECS: f64 = 60.0;
    pub const MAX_DEPTH: u32 = crate::policy::DEFAULT_MAX_DEPTH;
    pub const MAX_LOOKUPS: u32 = crate::policy::DEFAULT_MAX_LOOKUPS;
    pub const EVAL_TIMEOUT_SECS: f64 = crate::policy::DEFAULT_EVAL_TIMEOUT.as_secs_f64();
    pub const DNS_PORT: u16 = 53;
    pub const MAX_LINE_BYTES: usize = crate::inputs::oversize::DEFAULT_MAX_LINE_BYTES;
    pub const QUEUE_WINDOW_DAYS: f64 = crate::extract::DEFAULT_QUEUE_WINDOW_SECS as f64 / 86_400.0;
    /// `--max-tempfail`: a healthy resolver leaves tempfail to the odd broken domain, far
    /// below this; a resolver failing one question in ten makes the report's verdicts a
    /// guess for those domains, and the night is better reported than trusted.
    pub const MAX_TEMPFAIL_PCT: f64 = 10.0;
    /// `--cache-max-age`: 0 keeps every answer to its own TTL, as DNS means it.
    pub const CACHE_MAX_AGE_SECS: u64 = 0;
}

/// The most parser threads `--jobs` may ask for: 256 start in milliseconds, 1,000 already
/// take seconds (rayon's pool), and no machine reads mail faster with more.
pub const MAX_JOBS: usize = 256;

#[derive(Clone, Debug)]
pub struct DnsSettings {
    pub upstream: UpstreamConfig,
    pub concurrency: usize,
    pub zones: Vec<PathBuf>,
    pub offline: bool,
    /// `--cache FILE`: answers kept between runs.
    pub cache: Option<PathBuf>,
    /// `--cache-max-age`, seconds: how long a kept answer may be reused past its TTL.
    pub cache_max_age: u64,
}

/// The configuration of one command: each carries only what its command uses.
// One value per run, moved once: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Config {
    Audit(AuditConfig),
    Scan(ScanConfig),
    Check(CheckConfig),
    /// `generate`: writes no report, reads no input; it only prints what it was asked for.
    Generate(GenerateArgs),
    Propose(ProposeConfig),
}

/// What the commands that read inputs share.
#[derive(Clone, Debug)]
pub struct InputSettings {
    pub paths: Vec<PathBuf>,
    /// Extraction settings; `read.extract.perimeter` holds the networks given as IP/CIDR,
    /// host names are added once resolved.
    pub read: ReadOptions,
    pub perimeter: Vec<RelaySpec>,
}

/// How a run that writes files behaves: locks, threads, chatter.
#[derive(Clone, Debug)]
pub struct RunSettings {
    /// How long to wait for another run holding the output locks.
    pub lock_wait: Duration,
    /// The `--config` file read, if any (shown with the settings).
    pub config_file: Option<PathBuf>,
    pub jobs: Option<usize>,
    pub quiet: bool,
    /// `-v`: name every file a walk passed over.
    pub verbose: bool,
}

#[derive(Clone, Debug)]
pub struct ScanConfig {
    pub input: InputSettings,
    pub output: Option<PathBuf>,
    /// `--metrics`, `--json`: flags only (the config file's `[outputs]` are the audit's).
    pub monitor: MonitorSettings,
    pub run: RunSettings,
    /// How to resolve perimeter host names, once, before reading (scan does no other DNS):
    /// the `--config` file's nameservers, zone files, offline and limits.
    pub dns: DnsSettings,
}

#[derive(Clone, Debug)]
pub struct AuditConfig {
    pub input: InputSettings,
    pub output: Option<PathBuf>,
    pub forwarders: Vec<RelaySpec>,
    pub dns: DnsSettings,
    pub policy: PolicyConfig,
    pub reports: ReportSettings,
    pub monitor: MonitorSettings,
    pub run: RunSettings,
}

/// `propose` reads inputs like `scan`, asks DNS like `audit` (reverse names), and writes a
/// zone fragment instead of CSV.
#[derive(Clone, Debug)]
pub struct ProposeConfig {
    pub input: InputSettings,
    pub output: Option<PathBuf>,
    /// Normalised as envelope senders are, deduplicated, in the order given.
    pub domains: Vec<String>,
    /// Relays with at least this many messages are legitimate without authenticated mail.
    pub min_messages: Option<u64>,
    /// `--from-spf`: add what the domain's SPF record authorises.
    pub from_spf: bool,
    pub dns: DnsSettings,
    pub run: RunSettings,
}

/// `check` reads no input: the pair is on the command line, and the evaluation keeps its
/// steps for the explanation.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    pub request: CheckRequest,
    pub perimeter: Vec<RelaySpec>,
    pub forwarders: Vec<RelaySpec>,
    pub dns: DnsSettings,
    pub policy: PolicyConfig,
}

/// What `check` was asked about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRequest {
    /// Normalised as audit normalises envelope senders; a malformed one is reported as
    /// `unknown`, as audit would.
    pub sender: Sender,
    /// The sender as given (surrounding `<>` removed), for SPF, which reads it literally.
    pub raw_sender: String,
    /// `--helo`.
    pub helo: Option<String>,
    pub ip: IpAddr,
    pub format: CheckFormat,
}

/// The reports `audit` writes beside the pairs CSV, and the cron alert threshold.
#[derive(Clone, Debug, Default)]
pub struct ReportSettings {
    pub summary: Option<PathBuf>,
    pub by_day: Option<PathBuf>,
    pub history: Option<PathBuf>,
    pub html: Option<PathBuf>,
    /// Percent of all messages; more repudiated than this is exit code 3.
    pub fail_above: Option<f64>,
    /// Percent of evaluated messages; more tempfail than this is exit code 4.
    pub max_tempfail: f64,
}

/// The run's summary for machines: where `--metrics` and `--json` write it.
#[derive(Clone, Debug, Default)]
pub struct MonitorSettings {
    pub metrics: Option<PathBuf>,
    pub json: Option<PathBuf>,
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config, String> {
        match cli.command {
            Command::Audit(audit) => AuditConfig::new(*audit).map(Config::Audit),
            Command::Scan(scan) => ScanConfig::new(scan).map(Config::Scan),
            Command::Check(check) => CheckConfig::new(check).map(Config::Check),
            Command::Generate(what) => Ok(Config::Generate(what)),
            Command::Propose(propose) => ProposeConfig::new(*propose).map(Config::Propose),
        }
    }

    /// Every file the run writes with the flag that names it: the reports and the `--cache`
    /// file (read, then replaced at the end).
    /// `-` (standard output) is none of them: nothing to lock, link-check or replace.
    pub fn output_files(&self) -> Vec<(&'static str, &Path)> {
        let mut files = self.all_output_files();
        files.retain(|(_, p)| !crate::fileio::output::is_stdout(p));
        files
    }

    /// As [`Config::output_files`], with outputs named `-` too.
    fn all_output_files(&self) -> Vec<(&'static str, &Path)> {
        let (output, reports, monitor, dns) = match self {
            Config::Audit(a) => (&a.output, Some(&a.reports), Some(&a.monitor), Some(&a.dns)),
            Config::Scan(s) => (&s.output, None, Some(&s.monitor), None),
            Config::Propose(p) => (&p.output, None, None, Some(&p.dns)),
            Config::Check(c) => (&None, None, None, Some(&c.dns)),
            Config::Generate(_) => return Vec::new(),
        };
        let mut files = vec![("--output", output)];
        if let Some(r) = reports {
            files.extend([
                ("--summary", &r.summary),
                ("--by-day", &r.by_day),
                ("--html", &r.html),
                ("--history", &r.history),
            ]);
        }
        if let Some(m) = monitor {
            files.extend([("--metrics", &m.metrics), ("--json", &m.json)]);
        }
        if let Some(d) = dns {
            files.push(("--cache", &d.cache));
        }
        files
            .into_iter()
            .filter_map(|(flag, p)| p.as_deref().map(|p| (flag, p)))
            .collect()
    }

    /// What the run writes to standard output, in words for a message: the command's main
    /// output without `-o` (or with `-o -`), and every report named `-`. `None` when nothing.
    /// Two of them would interleave, so a configuration with two is refused.
    pub fn stdout_output(&self) -> Option<String> {
        let named = self.stdout_outputs();
        (!named.is_empty()).then(|| named.join(" and "))
    }

    fn stdout_outputs(&self) -> Vec<String> {
        let main = match self {
            Config::Audit(a) => a.output.is_none(),
            Config::Scan(s) => s.output.is_none(),
            Config::Propose(p) => p.output.is_none(),
            Config::Check(_) => true,
            Config::Generate(_) => false,
        };
        let mut named: Vec<String> = Vec::new();
        if main {
            let what = match self {
                Config::Check(_) => "the explanation",
                Config::Propose(_) => "the zone fragment (no -o, or -o -)",
                _ => "the pairs CSV (no -o, or -o -)",
            };
            named.push(what.to_string());
        }
        named.extend(
            self.all_output_files()
                .into_iter()
                .filter(|(_, p)| crate::fileio::output::is_stdout(p))
                .map(|(flag, _)| format!("{flag} -")),
        );
        named
    }

    /// The input paths the command reads.
    fn input_paths(&self) -> &[PathBuf] {
        match self {
            Config::Audit(a) => &a.input.paths,
            Config::Scan(s) => &s.input.paths,
            Config::Propose(p) => &p.input.paths,
            Config::Check(_) | Config::Generate(_) => &[],
        }
    }

    /// How long to wait for the output locks, and the parser threads asked for.
    pub fn run_settings(&self) -> Option<&RunSettings> {
        match self {
            Config::Audit(a) => Some(&a.run),
            Config::Scan(s) => Some(&s.run),
            Config::Propose(p) => Some(&p.run),
            Config::Check(_) | Config::Generate(_) => None,
        }
    }

    /// Two outputs renamed onto one file would leave only the last, and an output renamed
    /// over an input would destroy it: refuse both up front. Outputs written into rather
    /// than replaced (`/dev/stdout`, a FIFO) replace nothing.
    fn check_outputs_distinct(&self) -> Result<(), String> {
        self.check_stdout()?;
        let outputs = self.output_files();
        for (flag, output) in &outputs {
            if !crate::fileio::output::is_renamed_into_place(output) {
                continue;
            }
            let named = self.input_paths().iter().find(|input| {
                input.as_os_str() != "-" && crate::fileio::output::same_target(input, output)
            });
            if let Some(input) = named {
                return Err(format!(
                    "{flag} {} is the input {}; refusing to replace an input",
                    output.display(),
                    input.display()
                ));
            }
        }
        for (i, (flag_a, a)) in outputs.iter().enumerate() {
            for (flag_b, b) in &outputs[i + 1..] {
                if crate::fileio::output::same_target(a, b) {
                    return Err(format!(
                        "{flag_a} and {flag_b} name the same file {}",
                        a.display()
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Config {
    /// `-` means standard output wherever an output can go there, and at most one output
    /// may: two would interleave into one stream. `--history` and `--cache` are read back
    /// by the next run, so they must be files.
    fn check_stdout(&self) -> Result<(), String> {
        let kept = self.all_output_files().into_iter().find(|(flag, p)| {
            matches!(*flag, "--history" | "--cache") && crate::fileio::output::is_stdout(p)
        });
        if let Some((flag, _)) = kept {
            return Err(format!(
                "{flag} cannot be - (standard output): the next run reads it back, so it must \
                 name a file"
            ));
        }
        let named = self.stdout_outputs();
        if named.len() > 1 {
            let (all, but) = if named.len() == 2 {
                ("both", "one")
            } else {
                ("all", "all but one")
            };
            return Err(format!(
                "{} would {all} go to standard output; give {but} of them a file",
                named.join(" and ")
            ));
        }
        Ok(())
    }
}

impl ScanConfig {
    fn new(args: ScanArgs) -> Result<ScanConfig, String> {
        let file = load_file(args.input.site.config.as_deref())?;
        let (input, output, run) = input_settings(args.input, &file)?;
        let monitor = MonitorSettings {
            metrics: args.monitor.metrics,
            json: args.monitor.json,
        };
        // scan writes only its pairs; of DNS it needs only the perimeter's host names,
        // resolved as the audit would resolve them (the config file's nameservers).
        let dns = dns_settings(&DnsArgs::default(), &file)?;
        let cfg = ScanConfig {
            input,
            output: file_or_stdout(output),
            monitor,
            run,
            dns,
        };
        Config::Scan(cfg.clone()).check_outputs_distinct()?;
        Ok(cfg)
    }
}

impl ProposeConfig {
    fn new(args: ProposeArgs) -> Result<ProposeConfig, String> {
        let ProposeArgs {
            input,
            domain,
            min_messages,
            from_spf,
            dns,
        } = args;
        let mut domains: Vec<String> = Vec::new();
        for raw in &domain {
            match normalize_domain(raw) {
                Sender::Domain(d) if !domains.contains(&d) => domains.push(d),
                Sender::Domain(_) => {}
                _ => return Err(format!("--domain {raw:?} is not a valid domain name")),
            }
        }
        if min_messages == Some(0) {
            return Err("--min-messages must be at least 1".into());
        }
        let file = load_file(input.site.config.as_deref())?;
        let (mut input, output, run) = input_settings(input, &file)?;
        // Relays are named by the name their log recorded where reverse DNS does not.
        input.read.extract.client_names = true;
        let cfg = ProposeConfig {
            input,
            output: file_or_stdout(output),
            domains,
            min_messages,
            from_spf,
            dns: dns_settings(&dns, &file)?,
            run,
        };
        Config::Propose(cfg.clone()).check_outputs_distinct()?;
        Ok(cfg)
    }
}

impl AuditConfig {
    fn new(args: AuditArgs) -> Result<AuditConfig, String> {
        let AuditArgs {
            input,
            reports,
            monitor,
            dns,
            policy,
            no_spf,
        } = args;
        let file = load_file(input.site.config.as_deref())?;
        let (input, output, run) = input_settings(input, &file)?;
        let cfg = AuditConfig {
            input,
            output: file_or_stdout(output.or(file.outputs.pairs.clone())),
            forwarders: relays(pick(&policy.forwarder, &file.forwarders), "--forwarder")?,
            dns: dns_settings(&dns, &file)?,
            policy: PolicyConfig {
                spf: !no_spf,
                ..policy_settings(&policy, &file)?
            },
            reports: report_settings(reports, &file)?,
            monitor: monitor_settings(monitor, &file),
            run,
        };
        Config::Audit(cfg.clone()).check_outputs_distinct()?;
        Ok(cfg)
    }

    /// The settings of the run as (name, value) lines, for the HTML report.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let list = |items: &[RelaySpec]| {
            if items.is_empty() {
                "none".to_string()
            } else {
                items
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let paths = |items: &[PathBuf]| {
            items
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let upstream = &self.dns.upstream;
        let dns = if self.dns.offline {
            "offline (zone files only)".to_string()
        } else if upstream.nameservers.is_empty() {
            "the system resolver configuration".to_string()
        } else {
            upstream
                .nameservers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut lines = vec![
            ("inputs", paths(&self.input.paths)),
            ("perimeter", list(&self.input.perimeter)),
            ("forwarders", list(&self.forwarders)),
            ("nameservers", dns),
            (
                "zone files",
                if self.dns.zones.is_empty() {
                    "none".to_string()
                } else {
                    paths(&self.dns.zones)
                },
            ),
            (
                "DNS limits",
                format!(
                    "timeout {} s, {} attempts, {} in flight",
                    upstream.timeout.as_secs_f64(),
                    upstream.attempts,
                    self.dns.concurrency
                ),
            ),
            (
                "policy limits",
                format!(
                    "max depth {}, max lookups {}, evaluation timeout {} s",
                    self.policy.max_depth,
                    self.policy.max_lookups,
                    self.policy.eval_timeout.as_secs_f64()
                ),
            ),
            (
                "SPF",
                if self.policy.spf {
                    "RFC 7208 check_host for every pair (10 DNS-querying terms, 2 void lookups)"
                } else {
                    "off (--no-spf)"
                }
                .to_string(),
            ),
            (
                "extraction",
                format!(
                    "private clients {}, rejected attempts {}, null sender {}",
                    if self.input.read.extract.skip_private {
                        "internal"
                    } else {
                        "external"
                    },
                    if self.input.read.extract.include_rejected {
                        "counted"
                    } else {
                        "skipped"
                    },
                    match self.input.read.extract.null_sender {
                        NullSenderMode::Report => "not evaluated",
                        NullSenderMode::Helo => "judged by HELO name",
                    }
                ),
            ),
        ];
        if let Some(pct) = self.reports.fail_above {
            lines.push(("fail above", format!("{pct} % repudiated")));
        }
        lines.push((
            "max tempfail",
            format!("{} % of evaluated messages", self.reports.max_tempfail),
        ));
        if let Some(cache) = &self.dns.cache {
            let age = match self.dns.cache_max_age {
                0 => "answers reused within their TTL".to_string(),
                secs => format!("answers reused up to {secs} s old"),
            };
            lines.push(("DNS cache", format!("{}, {age}", cache.display())));
        }
        if let Some(file) = &self.run.config_file {
            lines.push(("config file", file.display().to_string()));
        }
        lines
    }
}

impl CheckConfig {
    /// A `--config` file gives `check` the same perimeter, forwarders, nameservers and
    /// limits as the nightly audit.
    fn new(args: CheckArgs) -> Result<CheckConfig, String> {
        let file = load_file(args.site.config.as_deref())?;
        let request = CheckRequest {
            sender: check_sender(&args.sender),
            raw_sender: literal_sender(&args.sender),
            helo: args.helo.clone(),
            ip: args
                .ip
                .trim()
                .parse::<IpAddr>()
                .map(crate::net::canonical)
                .map_err(|_| format!("{:?} is not an IPv4 or IPv6 address", args.ip))?,
            format: args.format,
        };
        Ok(CheckConfig {
            request,
            perimeter: relays(pick(&args.site.perimeter, &file.perimeter), "--perimeter")?,
            forwarders: relays(
                pick(&args.policy.forwarder, &file.forwarders),
                "--forwarder",
            )?,
            dns: dns_settings(&args.dns, &file)?,
            policy: PolicyConfig {
                trace: true,
                ..policy_settings(&args.policy, &file)?
            },
        })
    }
}

/// `--queue-window DAYS` in seconds of log time.
fn queue_window(days: Option<f64>) -> Result<u32, String> {
    let days = days.unwrap_or(defaults::QUEUE_WINDOW_DAYS);
    // A window under a minute would drop queue ids between their own lines.
    if !(days.is_finite() && (1.0 / 1440.0..=10_000.0).contains(&days)) {
        return Err(format!(
            "--queue-window must be a number of days from 0.001 to 10000, not {days}"
        ));
    }
    Ok((days * 86_400.0).round() as u32)
}

/// The main output's file: `None` (standard output) without `-o` or with `-o -`.
fn file_or_stdout(output: Option<PathBuf>) -> Option<PathBuf> {
    output.filter(|p| !crate::fileio::output::is_stdout(p))
}

/// The input, output and run settings `audit` and `scan` share.
fn input_settings(
    input: InputArgs,
    file: &FileConfig,
) -> Result<(InputSettings, Option<PathBuf>, RunSettings), String> {
    let perimeter = relays(pick(&input.site.perimeter, &file.perimeter), "--perimeter")?;
    // A switch given as a flag turns the setting on whatever the file says; the file can
    // turn it on for every run.
    let extract = ExtractOptions {
        perimeter: perimeter.iter().filter_map(RelaySpec::net).collect(),
        skip_private: !input.no_skip_private && file.skip_private != Some(false),
        include_rejected: input.include_rejected || file.include_rejected == Some(true),
        null_sender: match input.null_sender.or(file.null_sender) {
            None | Some(NullSender::Report) => NullSenderMode::Report,
            Some(NullSender::Helo) => NullSenderMode::Helo,
        },
        queue_window_secs: queue_window(input.queue_window.or(file.limits.queue_window))?,
        client_names: false,
    };
    let jobs = input.jobs.or(file.limits.jobs);
    match jobs {
        Some(0) => return Err("--jobs must be at least 1: a run needs one thread to read".into()),
        Some(n) if n > MAX_JOBS => {
            return Err(format!(
                "--jobs {n} is more than {MAX_JOBS}: reading is bound by the cores and the \
                 disks, and thousands of threads take minutes only to start"
            ));
        }
        _ => {}
    }
    let lock_wait = input
        .lock_wait
        .or(file.limits.lock_wait)
        .unwrap_or(defaults::LOCK_WAIT_SECS);
    if !(lock_wait.is_finite() && (0.0..86_400.0).contains(&lock_wait)) {
        return Err(format!(
            "--lock-wait must be a number of seconds from 0, not {lock_wait}"
        ));
    }
    let settings = InputSettings {
        paths: input.inputs,
        read: ReadOptions {
            extract,
            format: input.format,
            strict: input.strict || file.strict == Some(true),
            max_line_bytes: match input.max_line_bytes.or(file.limits.max_line_bytes) {
                Some(0) => return Err("--max-line-bytes must be at least 1".into()),
                Some(n) => n,
                None => defaults::MAX_LINE_BYTES,
            },
            exclude: pick(&input.exclude, &file.exclude)
                .iter()
                .map(|g| Glob::new(g))
                .collect(),
        },
        perimeter,
    };
    let run = RunSettings {
        lock_wait: Duration::from_secs_f64(lock_wait),
        config_file: input.site.config,
        jobs,
        quiet: input.quiet,
        verbose: input.verbose,
    };
    Ok((settings, input.output, run))
}

fn load_file(path: Option<&Path>) -> Result<FileConfig, String> {
    path.map_or_else(|| Ok(FileConfig::default()), file::load)
}

/// Flags win: a list given on the command line replaces the file's list.
fn pick<'a>(flags: &'a [String], file: &'a [String]) -> &'a [String] {
    if flags.is_empty() { file } else { flags }
}

fn relays(texts: &[String], flag: &str) -> Result<Vec<RelaySpec>, String> {
    texts
        .iter()
        .map(|t| RelaySpec::parse(t).map_err(|e| format!("{flag}: {e}")))
        .collect()
}

fn seconds(value: f64, flag: &str) -> Result<Duration, String> {
    if value.is_finite() && value > 0.0 && value < 86_400.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(format!(
            "{flag} must be a number of seconds above 0, not {value}"
        ))
    }
}

fn dns_settings(d: &DnsArgs, file: &FileConfig) -> Result<DnsSettings, String> {
    let nameservers = pick(&d.nameserver, &file.nameservers)
        .iter()
        .map(|t| parse_nameserver(t))
        .collect::<Result<Vec<_>, _>>()?;
    let attempts = d
        .attempts
        .or(file.limits.attempts)
        .unwrap_or(defaults::ATTEMPTS);
    if attempts == 0 {
        return Err("--attempts must be at least 1: with 0 tries no question is asked".into());
    }
    let concurrency = d
        .concurrency
        .or(file.limits.concurrency)
        .unwrap_or(defaults::CONCURRENCY);
    if concurrency == 0 {
        return Err(
            "--concurrency must be at least 1: with 0 questions in flight none is asked".into(),
        );
    }
    let timeout = d
        .timeout
        .or(file.limits.timeout)
        .unwrap_or(defaults::TIMEOUT_SECS);
    Ok(DnsSettings {
        upstream: UpstreamConfig {
            nameservers,
            timeout: seconds(timeout, "--timeout")?,
            attempts,
        },
        concurrency,
        zones: if d.zone.is_empty() {
            file.zones.clone()
        } else {
            d.zone.clone()
        },
        offline: d.offline || file.offline == Some(true),
        cache: d.cache.clone().or(file.cache.clone()),
        cache_max_age: match d.cache_max_age.clone().or(file
            .limits
            .cache_max_age
            .as_ref()
            .map(file::Age::as_text))
        {
            Some(text) => duration_secs(&text, "--cache-max-age")?,
            None => defaults::CACHE_MAX_AGE_SECS,
        },
    })
}

/// `check`'s first argument as SPF reads it: literally, only one pair of surrounding angle
/// brackets removed (`<>` becomes the empty null sender).
fn literal_sender(text: &str) -> String {
    let t = text.trim();
    t.strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(t)
        .to_string()
}

/// A duration as `--cache-max-age` takes it: a number of seconds, or a number with a unit
/// (`s`, `m`, `h`, `d`, `w`).
fn duration_secs(text: &str, flag: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "{flag} must be a duration such as 36h, 7d, 90m or a number of seconds, not {text:?}"
        )
    };
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let scale = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(scale).ok_or_else(bad)
}

/// `check`'s first argument: an address as an MTA logs it (`user@example.org`, `<>`,
/// `MAILER-DAEMON`) or a bare domain.
fn check_sender(text: &str) -> Sender {
    let t = text.trim();
    if t.contains('@')
        || t.starts_with('<')
        || t.is_empty()
        || t.eq_ignore_ascii_case("mailer-daemon")
    {
        normalize_address(t)
    } else {
        normalize_domain(t)
    }
}

fn policy_settings(p: &PolicyArgs, file: &FileConfig) -> Result<PolicyConfig, String> {
    let eval_timeout = seconds(
        p.eval_timeout
            .or(file.limits.eval_timeout)
            .unwrap_or(defaults::EVAL_TIMEOUT_SECS),
        "--eval-timeout",
    )?;
    let max_lookups = p
        .max_lookups
        .or(file.limits.max_lookups)
        .unwrap_or(defaults::MAX_LOOKUPS);
    if max_lookups == 0 {
        return Err(
            "--max-lookups must be at least 1: every evaluation asks one question (the \
             MAIL-FROM MX) before it can decide anything"
                .into(),
        );
    }
    Ok(PolicyConfig {
        max_depth: p
            .max_depth
            .or(file.limits.max_depth)
            .unwrap_or(defaults::MAX_DEPTH),
        max_lookups,
        eval_timeout,
        trusted: Vec::new(),
        trace: false,
        spf: true,
    })
}

fn report_settings(r: ReportArgs, file: &FileConfig) -> Result<ReportSettings, String> {
    let fail_above = r.fail_above.or(file.limits.fail_above);
    if let Some(pct) = fail_above
        && !(pct.is_finite() && (0.0..=100.0).contains(&pct))
    {
        return Err(format!(
            "--fail-above must be a percentage from 0 to 100, not {pct}"
        ));
    }
    let max_tempfail = r
        .max_tempfail
        .or(file.limits.max_tempfail)
        .unwrap_or(defaults::MAX_TEMPFAIL_PCT);
    if !(max_tempfail.is_finite() && (0.0..=100.0).contains(&max_tempfail)) {
        return Err(format!(
            "--max-tempfail must be a percentage from 0 to 100, not {max_tempfail}"
        ));
    }
    Ok(ReportSettings {
        summary: r.summary.or(file.outputs.summary.clone()),
        by_day: r.by_day.or(file.outputs.by_day.clone()),
        history: r.history.or(file.outputs.history.clone()),
        html: r.html.or(file.outputs.html.clone()),
        fail_above,
        max_tempfail,
    })
}

/// The audit's: flags win over the file's `[outputs]`.
fn monitor_settings(m: MonitorArgs, file: &FileConfig) -> MonitorSettings {
    MonitorSettings {
        metrics: m.metrics.or(file.outputs.metrics.clone()),
        json: m.json.or(file.outputs.json.clone()),
    }
}

/// `IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address.
pub fn parse_nameserver(text: &str) -> Result<SocketAddr, String> {
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Ok(sa);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, defaults::DNS_PORT));
    }
    Err(format!("--nameserver: {text:?} is not IP or IP:PORT"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn cfg(args: &[&str]) -> Result<Config, String> {
        Config::from_cli(Cli::try_parse_from(args).map_err(|e| e.to_string())?)
    }

    fn audit(args: &[&str]) -> Result<AuditConfig, String> {
        match cfg(args)? {
            Config::Audit(a) => Ok(a),
            other => panic!("not an audit: {other:?}"),
        }
    }

    #[test]
    fn nameserver_forms() {
        assert_eq!(
            parse_nameserver("127.0.0.1").unwrap().to_string(),
            "127.0.0.1:53"
        );
        assert_eq!(parse_nameserver("127.0.0.1:5300").unwrap().port(), 5300);
        assert_eq!(parse_nameserver("[::1]:5300").unwrap().port(), 5300);
        assert_eq!(parse_nameserver("::1").unwrap().port(), 53);
        assert!(parse_nameserver("localhost").is_err());
    }

    #[test]
    fn relay_specs() {
        assert_eq!(
            RelaySpec::parse("192.0.2.0/24").unwrap(),
            RelaySpec::Net("192.0.2.0/24".parse().unwrap())
        );
        assert_eq!(
            RelaySpec::parse("MX1.Site.Example").unwrap(),
            RelaySpec::Host("mx1.site.example".into())
        );
        assert!(RelaySpec::parse("10.0.0.0/40").is_err());
        assert!(RelaySpec::parse("not a host").is_err());
    }

    fn check_request(args: &[&str]) -> Result<(CheckRequest, CheckConfig), String> {
        match cfg(args)? {
            Config::Check(c) => Ok((c.request.clone(), c)),
            other => panic!("not a check: {other:?}"),
        }
    }

    #[test]
    fn check_arguments() {
        let sender = |text: &str| {
            check_request(&["repudiate", "check", text, "192.0.2.1"])
                .unwrap()
                .0
                .sender
        };
        assert_eq!(
            sender("Jane@Example.ORG"),
            Sender::Domain("example.org".into())
        );
        assert_eq!(sender("example.org."), Sender::Domain("example.org".into()));
        assert_eq!(
            sender("<user@b\u{fc}cher.example>"),
            Sender::Domain("xn--bcher-kva.example".into())
        );
        assert_eq!(sender("<>"), Sender::Null);
        assert_eq!(sender("MAILER-DAEMON"), Sender::Null);
        assert!(matches!(sender("not a domain"), Sender::Malformed(_)));

        let (r, c) = check_request(&[
            "repudiate",
            "check",
            "a.example",
            "::ffff:192.0.2.7",
            "--format",
            "csv",
            "--cache",
            "dns.cache",
            "--max-lookups",
            "7",
            "--forwarder",
            "198.51.100.0/24",
        ])
        .unwrap();
        assert_eq!(r.ip, "192.0.2.7".parse::<IpAddr>().unwrap(), "canonical");
        assert_eq!(r.format, CheckFormat::Csv);
        assert!(c.policy.trace, "check keeps the steps");
        assert_eq!(c.policy.max_lookups, 7);
        assert_eq!(c.forwarders.len(), 1);
        assert_eq!(c.dns.cache, Some(PathBuf::from("dns.cache")));
        assert!(cfg(&["repudiate", "check", "a.example", "192.0.2.300"]).is_err());
        assert!(
            cfg(&[
                "repudiate",
                "check",
                "a.example",
                "192.0.2.1",
                "--timeout",
                "0"
            ])
            .is_err()
        );
        assert!(
            !audit(&["repudiate", "audit", "x"]).unwrap().policy.trace,
            "audits do not trace"
        );
    }

    #[test]
    fn validation_errors() {
        assert!(cfg(&["repudiate", "audit", "x", "--timeout", "0"]).is_err());
        assert!(cfg(&["repudiate", "audit", "x", "--concurrency", "0"]).is_err());
        assert!(
            cfg(&["repudiate", "scan", "x", "--perimeter", "mx.example.org"]).is_ok(),
            "scan resolves a perimeter host name"
        );
        for (flag, value, why) in [
            (
                "--max-lookups",
                "0",
                "must be at least 1: every evaluation asks",
            ),
            ("--attempts", "0", "with 0 tries no question is asked"),
            ("--jobs", "0", "one thread to read"),
            ("--max-tempfail", "101", "from 0 to 100"),
            ("--cache-max-age", "7 days", "a duration such as"),
            ("--cache-max-age", "soon", "a duration such as"),
        ] {
            let e = cfg(&["repudiate", "audit", "x", flag, value]).unwrap_err();
            assert!(e.contains(why), "{flag} {value}: {e}");
        }
        let c = audit(&[
            "repudiate",
            "audit",
            "x",
            "--perimeter",
            "192.0.2.0/24",
            "--perimeter",
            "mx.example.org",
            "--max-depth",
            "0",
        ])
        .unwrap();
        assert_eq!(c.input.read.extract.perimeter.len(), 1);
        assert_eq!(c.input.perimeter.len(), 2);
        assert_eq!(c.policy.max_depth, 0);
        assert!(c.input.read.extract.skip_private);
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("r.toml");
        std::fs::write(
            &file,
            "nameservers = [\"127.0.0.2:5300\"]\nforwarders = [\"192.0.2.9\"]\n\
             [limits]\ntimeout = 5\nmax_depth = 3\nlock_wait = 0\n\
             [outputs]\nhtml = \"r.html\"\n",
        )
        .unwrap();
        let f = file.to_str().unwrap();
        let from_file = audit(&["repudiate", "audit", "x", "--config", f]).unwrap();
        assert_eq!(from_file.dns.upstream.timeout, Duration::from_secs(5));
        assert_eq!(from_file.policy.max_depth, 3);
        assert_eq!(from_file.run.lock_wait, Duration::ZERO);
        assert_eq!(from_file.forwarders.len(), 1);
        assert_eq!(from_file.dns.upstream.nameservers[0].port(), 5300);
        assert_eq!(from_file.reports.html, Some(d.path().join("r.html")));
        assert_eq!(from_file.policy.max_lookups, 100, "the default");
        let flags = audit(&[
            "repudiate",
            "audit",
            "x",
            "--config",
            f,
            "--timeout",
            "1",
            "--max-depth",
            "0",
            "--nameserver",
            "127.0.0.3",
            "--html",
            "other.html",
        ])
        .unwrap();
        assert_eq!(flags.dns.upstream.timeout, Duration::from_secs(1));
        assert_eq!(flags.policy.max_depth, 0);
        assert_eq!(flags.dns.upstream.nameservers.len(), 1);
        assert_eq!(flags.dns.upstream.nameservers[0].port(), 53);
        assert_eq!(flags.reports.html, Some(PathBuf::from("other.html")));
        let plain = audit(&["repudiate", "audit", "x"]).unwrap();
        assert_eq!(plain.reports.max_tempfail, defaults::MAX_TEMPFAIL_PCT);
        assert_eq!(plain.dns.cache_max_age, 0);
        assert!(!plain.dns.offline && plain.dns.zones.is_empty() && plain.dns.cache.is_none());
        assert_eq!(plain.dns.upstream.timeout, Duration::from_secs(2));
        assert_eq!(plain.dns.concurrency, 64);
        assert_eq!(plain.run.lock_wait, Duration::from_secs(60));
    }

    /// Every "(default: N)" in `--help` is the value the code uses, and every default the
    /// code has is stated: the help text cannot drift from `defaults`.
    #[test]
    fn help_states_the_defaults_the_code_uses() {
        use clap::CommandFactory;
        let expected = [
            ("timeout", defaults::TIMEOUT_SECS.to_string()),
            ("attempts", defaults::ATTEMPTS.to_string()),
            ("concurrency", defaults::CONCURRENCY.to_string()),
            ("lock-wait", defaults::LOCK_WAIT_SECS.to_string()),
            ("max-depth", defaults::MAX_DEPTH.to_string()),
            ("max-lookups", defaults::MAX_LOOKUPS.to_string()),
            ("eval-timeout", defaults::EVAL_TIMEOUT_SECS.to_string()),
            ("max-line-bytes", defaults::MAX_LINE_BYTES.to_string()),
            ("queue-window", defaults::QUEUE_WINDOW_DAYS.to_string()),
            ("max-tempfail", defaults::MAX_TEMPFAIL_PCT.to_string()),
            ("cache-max-age", defaults::CACHE_MAX_AGE_SECS.to_string()),
        ];
        let default_in = regex::Regex::new(r"default: ([0-9.]+)").unwrap();
        let cli = Cli::command();
        let mut stated = 0;
        for sub in cli.get_subcommands() {
            for arg in sub.get_arguments() {
                let (Some(long), Some(help)) = (arg.get_long(), arg.get_help()) else {
                    continue;
                };
                let help = help.to_string();
                let Some(found) = default_in.captures(&help) else {
                    continue;
                };
                let want = expected.iter().find(|(flag, _)| *flag == long);
                let Some((_, value)) = want else {
                    panic!("--{long} states a default the code does not define: {help}");
                };
                assert_eq!(&found[1], value, "{} --{long}", sub.get_name());
                stated += 1;
            }
        }
        for (flag, _) in expected {
            assert!(
                cli.get_subcommands().any(|s| s
                    .get_arguments()
                    .any(|a| a.get_long() == Some(flag)
                        && a.get_help()
                            .is_some_and(|h| h.to_string().contains("default:")))),
                "--{flag} does not state its default"
            );
        }
        assert!(stated >= 9);
    }

    #[test]
    fn durations_take_a_unit() {
        let d = |t: &str| duration_secs(t, "--cache-max-age");
        assert_eq!(d("3600"), Ok(3_600));
        assert_eq!(d("90m"), Ok(5_400));
        assert_eq!(d("36h"), Ok(129_600));
        assert_eq!(d("7d"), Ok(604_800));
        assert_eq!(d("2w"), Ok(1_209_600));
        assert_eq!(d("0"), Ok(0));
        for bad in ["", "d", "7y", "1.5h", "-3", "99999999999999999999"] {
            assert!(d(bad).is_err(), "{bad:?}");
        }
    }

    /// Every audit setting can live in the `--config` file (issue 13): a nightly job's
    /// command line needs nothing but the file and its inputs.
    #[test]
    fn every_audit_setting_can_come_from_the_file() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("nightly.toml");
        std::fs::write(
            &file,
            "zones = [\"what-if.zone\"]\noffline = true\ncache = \"dns.cache\"\n\
             null_sender = \"helo\"\ninclude_rejected = true\nskip_private = false\n\
             strict = true\n\
             [limits]\nmax_tempfail = 25\ncache_max_age = \"7d\"\njobs = 3\nmax_lookups = 9\n",
        )
        .unwrap();
        let f = file.to_str().unwrap();
        let c = audit(&["repudiate", "audit", "x", "--config", f]).unwrap();
        assert_eq!(c.dns.zones, [d.path().join("what-if.zone")]);
        assert!(c.dns.offline);
        assert_eq!(c.dns.cache, Some(d.path().join("dns.cache")));
        assert_eq!(c.dns.cache_max_age, 7 * 86_400);
        let x = &c.input.read.extract;
        assert_eq!(x.null_sender, NullSenderMode::Helo);
        assert!(x.include_rejected && !x.skip_private && c.input.read.strict);
        assert_eq!(c.reports.max_tempfail, 25.0);
        assert_eq!(c.run.jobs, Some(3));
        assert_eq!(c.policy.max_lookups, 9);
        // Flags still win where a flag can say something else.
        let flags = audit(&[
            "repudiate",
            "audit",
            "x",
            "--config",
            f,
            "--zone",
            "other.zone",
            "--cache",
            "c2",
            "--null-sender",
            "skip",
            "--max-tempfail",
            "5",
            "--cache-max-age",
            "1h",
        ])
        .unwrap();
        assert_eq!(flags.dns.zones, [PathBuf::from("other.zone")]);
        assert_eq!(flags.dns.cache, Some(PathBuf::from("c2")));
        assert_eq!(flags.input.read.extract.null_sender, NullSenderMode::Report);
        assert_eq!(flags.reports.max_tempfail, 5.0);
        assert_eq!(flags.dns.cache_max_age, 3_600);
        // scan takes the file's nameservers and zones for its perimeter names.
        let scan = match cfg(&["repudiate", "scan", "x", "--config", f]).unwrap() {
            Config::Scan(s) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(scan.dns.zones, [d.path().join("what-if.zone")]);
        assert!(scan.dns.offline);
    }

    /// Each flag is declared once: a flag that several commands take comes from one shared
    /// definition, so its help is the same everywhere. `--format` is two flags that share a
    /// name (what `check` prints, what the inputs are), the one exception.
    #[test]
    fn flags_shared_by_commands_are_declared_once() {
        use clap::CommandFactory;
        use std::collections::BTreeMap;
        let mut seen: BTreeMap<String, (String, String)> = BTreeMap::new();
        for sub in Cli::command().get_subcommands() {
            for arg in sub.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                if long == "format" {
                    continue;
                }
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                match seen.get(long) {
                    Some((first, help_there)) => assert_eq!(
                        &help,
                        help_there,
                        "--{long} of {} and of {first} are two declarations",
                        sub.get_name()
                    ),
                    None => {
                        seen.insert(long.to_string(), (sub.get_name().to_string(), help));
                    }
                }
            }
        }
        assert!(seen.contains_key("perimeter") && seen.contains_key("config"));
    }
}
