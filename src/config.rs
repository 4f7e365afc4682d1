//! A validated run configuration built from the flags: every value is checked here, once,
//! so the stages never see a bad setting and a bad argument is exit code 1 (SPEC §6).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{
    AuditArgs, CheckArgs, CheckFormat, Cli, Command, DnsArgs, InputArgs, NullSender, PolicyArgs,
    ScanArgs,
};
use crate::dns::upstream::UpstreamConfig;
use crate::extract::address::{normalize_address, normalize_domain};
use crate::extract::{ExtractOptions, NullSenderMode, Sender};
use crate::inputs::ReadOptions;
use crate::net::IpNet;
use crate::policy::PolicyConfig;

/// A relay given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelaySpec {
    Net(IpNet),
    /// A host name, resolved once at start-up.
    Host(String),
}

impl RelaySpec {
    pub fn parse(text: &str) -> Result<RelaySpec, String> {
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(RelaySpec::Net(net));
        }
        match normalize_domain(text) {
            Sender::Domain(d) if !text.contains('/') => Ok(RelaySpec::Host(d)),
            _ => Err(format!(
                "{text:?} is not an IP address, a CIDR network or a host name"
            )),
        }
    }
}

#[derive(Clone, Debug)]
pub struct DnsSettings {
    pub upstream: UpstreamConfig,
    pub concurrency: usize,
    pub zones: Vec<PathBuf>,
    pub offline: bool,
    /// `--cache FILE`: answers kept between runs.
    pub cache: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Audit,
    Scan,
    Check(CheckRequest),
}

/// What `check` was asked about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRequest {
    /// Normalised as audit normalises envelope senders; a malformed one is reported as
    /// `unknown`, as audit would.
    pub sender: Sender,
    pub ip: IpAddr,
    pub format: CheckFormat,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Mode,
    pub inputs: Vec<PathBuf>,
    pub output: Option<PathBuf>,
    /// Extraction settings; `read.extract.perimeter` holds the networks given as IP/CIDR,
    /// host names are added once resolved.
    pub read: ReadOptions,
    pub perimeter: Vec<RelaySpec>,
    pub forwarders: Vec<RelaySpec>,
    pub dns: DnsSettings,
    pub policy: PolicyConfig,
    pub jobs: Option<usize>,
    pub quiet: bool,
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config, String> {
        match cli.command {
            Command::Audit(AuditArgs { input, dns, policy }) => {
                let mut cfg = Config::base(Mode::Audit, input, Some(&dns))?;
                cfg.apply_policy(&policy)?;
                Ok(cfg)
            }
            Command::Check(args) => Config::for_check(args),
            Command::Scan(ScanArgs { input }) => {
                let cfg = Config::base(Mode::Scan, input, None)?;
                if let Some(RelaySpec::Host(h)) = cfg
                    .perimeter
                    .iter()
                    .find(|r| matches!(r, RelaySpec::Host(_)))
                {
                    return Err(format!(
                        "scan does no DNS: give --perimeter {h} as an IP address or CIDR network"
                    ));
                }
                Ok(cfg)
            }
        }
    }

    fn apply_policy(&mut self, policy: &PolicyArgs) -> Result<(), String> {
        self.forwarders = relays(&policy.forwarder, "--forwarder")?;
        self.policy.max_depth = policy.max_depth;
        self.policy.max_lookups = policy.max_lookups;
        self.policy.eval_timeout = seconds(policy.eval_timeout, "--eval-timeout")?;
        Ok(())
    }

    /// `check` reads no input: the pair is on the command line, and the evaluation keeps
    /// its steps for the explanation.
    fn for_check(args: CheckArgs) -> Result<Config, String> {
        let request = CheckRequest {
            sender: check_sender(&args.sender),
            ip: args
                .ip
                .trim()
                .parse::<IpAddr>()
                .map(crate::net::canonical)
                .map_err(|_| format!("{:?} is not an IPv4 or IPv6 address", args.ip))?,
            format: args.format,
        };
        let mut cfg = Config {
            mode: Mode::Check(request),
            inputs: Vec::new(),
            output: None,
            read: ReadOptions::default(),
            perimeter: relays(&args.perimeter, "--perimeter")?,
            forwarders: Vec::new(),
            dns: dns_settings(&args.dns)?,
            policy: PolicyConfig {
                trace: true,
                ..PolicyConfig::default()
            },
            jobs: None,
            quiet: true,
        };
        cfg.apply_policy(&args.policy)?;
        Ok(cfg)
    }

    fn base(mode: Mode, input: InputArgs, dns: Option<&DnsArgs>) -> Result<Config, String> {
        let perimeter = relays(&input.perimeter, "--perimeter")?;
        let extract = ExtractOptions {
            perimeter: perimeter
                .iter()
                .filter_map(|r| match r {
                    RelaySpec::Net(n) => Some(*n),
                    RelaySpec::Host(_) => None,
                })
                .collect(),
            skip_private: !input.no_skip_private,
            include_rejected: input.include_rejected,
            null_sender: match input.null_sender {
                NullSender::Skip => NullSenderMode::Skip,
                NullSender::Helo => NullSenderMode::Helo,
            },
        };
        if input.jobs == Some(0) {
            return Err("--jobs must be at least 1".into());
        }
        let dns = match dns {
            Some(d) => dns_settings(d)?,
            None => DnsSettings {
                upstream: UpstreamConfig {
                    nameservers: Vec::new(),
                    timeout: Duration::from_secs(2),
                    attempts: 2,
                },
                concurrency: 1,
                zones: Vec::new(),
                offline: true,
                cache: None,
            },
        };
        Ok(Config {
            mode,
            inputs: input.inputs,
            output: input.output,
            read: ReadOptions {
                extract,
                format: input.format,
                strict: input.strict,
            },
            perimeter,
            forwarders: Vec::new(),
            dns,
            policy: PolicyConfig::default(),
            jobs: input.jobs,
            quiet: input.quiet,
        })
    }
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

fn dns_settings(d: &DnsArgs) -> Result<DnsSettings, String> {
    let nameservers = d
        .nameserver
        .iter()
        .map(|t| parse_nameserver(t))
        .collect::<Result<Vec<_>, _>>()?;
    if d.attempts == 0 {
        return Err("--attempts must be at least 1".into());
    }
    if d.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    Ok(DnsSettings {
        upstream: UpstreamConfig {
            nameservers,
            timeout: seconds(d.timeout, "--timeout")?,
            attempts: d.attempts,
        },
        concurrency: d.concurrency,
        zones: d.zone.clone(),
        offline: d.offline,
        cache: d.cache.clone(),
    })
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

/// `IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address.
pub fn parse_nameserver(text: &str) -> Result<SocketAddr, String> {
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Ok(sa);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
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

    fn check_request(args: &[&str]) -> Result<(CheckRequest, Config), String> {
        let c = cfg(args)?;
        match &c.mode {
            Mode::Check(r) => Ok((r.clone(), c)),
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
            !cfg(&["repudiate", "audit", "x"]).unwrap().policy.trace,
            "audits do not trace"
        );
    }

    #[test]
    fn validation_errors() {
        assert!(cfg(&["repudiate", "audit", "x", "--timeout", "0"]).is_err());
        assert!(cfg(&["repudiate", "audit", "x", "--concurrency", "0"]).is_err());
        assert!(cfg(&["repudiate", "scan", "x", "--perimeter", "mx.example.org"]).is_err());
        let c = cfg(&[
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
        assert_eq!(c.read.extract.perimeter.len(), 1);
        assert_eq!(c.perimeter.len(), 2);
        assert_eq!(c.policy.max_depth, 0);
        assert!(c.read.extract.skip_private);
    }
}
