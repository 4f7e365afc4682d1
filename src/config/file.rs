//! The `--config` TOML file, for runs that should not carry a long command line (cron).
//! It holds every setting of an audit a site sets once — perimeter, forwarders, nameservers,
//! excludes, zone files, offline, the DNS cache, what to count (null sender, rejected
//! attempts, private clients), limits, output paths — and nothing else: an unknown key is an
//! error naming the key, because a misspelt `perimeter` silently ignored would change every
//! verdict. The file only supplies values; `config` decides that flags win over it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::NullSender;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub perimeter: Vec<String>,
    #[serde(default)]
    pub forwarders: Vec<String>,
    /// `--exclude` globs.
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub nameservers: Vec<String>,
    /// `--zone` files; relative paths are relative to the config file.
    #[serde(default, alias = "zone")]
    pub zones: Vec<PathBuf>,
    pub offline: Option<bool>,
    /// `--cache` file; a relative path is relative to the config file.
    pub cache: Option<PathBuf>,
    pub null_sender: Option<NullSender>,
    pub include_rejected: Option<bool>,
    /// `false` is `--no-skip-private`.
    pub skip_private: Option<bool>,
    pub strict: Option<bool>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub outputs: Outputs,
}

/// `[limits]`: the numbers of the flags of the same names (with `_` for `-`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub timeout: Option<f64>,
    pub attempts: Option<usize>,
    pub concurrency: Option<usize>,
    pub max_depth: Option<u32>,
    pub max_lookups: Option<u32>,
    pub eval_timeout: Option<f64>,
    pub fail_above: Option<f64>,
    pub max_tempfail: Option<f64>,
    pub lock_wait: Option<f64>,
    pub max_line_bytes: Option<usize>,
    pub queue_window: Option<f64>,
    pub jobs: Option<usize>,
    /// `--cache-max-age`: `"7d"`, `"36h"`, or seconds as a number.
    pub cache_max_age: Option<Age>,
}

/// A duration as the file may write it: text with a unit, or a number of seconds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Age {
    Seconds(u64),
    Text(String),
}

impl Age {
    /// The text `config` parses, the same as the flag's.
    pub fn as_text(&self) -> String {
        match self {
            Age::Seconds(n) => n.to_string(),
            Age::Text(t) => t.clone(),
        }
    }
}

/// `[outputs]`: where `audit` writes; relative paths are relative to the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outputs {
    pub pairs: Option<PathBuf>,
    pub summary: Option<PathBuf>,
    pub by_day: Option<PathBuf>,
    pub history: Option<PathBuf>,
    pub html: Option<PathBuf>,
    /// `--metrics` and `--json` of the audit (`scan` takes them as flags only).
    pub metrics: Option<PathBuf>,
    pub json: Option<PathBuf>,
}

/// Reads and parses the file; errors name the file (and, from the parser, line and key).
pub fn load(path: &Path) -> Result<FileConfig, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("--config {}: {e}", path.display()))?;
    let mut cfg = parse(&text).map_err(|e| format!("--config {}: {e}", path.display()))?;
    // Relative to the file, so a cron job's working directory does not move the reports.
    let base = path.parent().unwrap_or(Path::new(""));
    for out in [
        &mut cfg.outputs.pairs,
        &mut cfg.outputs.summary,
        &mut cfg.outputs.by_day,
        &mut cfg.outputs.history,
        &mut cfg.outputs.html,
        &mut cfg.outputs.metrics,
        &mut cfg.outputs.json,
        &mut cfg.cache,
    ]
    .into_iter()
    .flatten()
    .chain(cfg.zones.iter_mut())
    {
        if out.is_relative() {
            *out = base.join(&*out);
        }
    }
    Ok(cfg)
}

/// The settings in `text`. An error is one line, `line L, column C: what`: the toml crate's
/// own rendering draws the line with a caret over several lines, which reached the terminal
/// as literal `\n`s once escaped for a one-line message.
pub fn parse(text: &str) -> Result<FileConfig, String> {
    toml::from_str(text).map_err(|e| {
        let what = e.message().trim_end();
        match e.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                format!("line {line}, column {column}: {what}")
            }
            None => what.to_string(),
        }
    })
}

/// The 1-based line and column (in characters) of byte `at` of `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses() {
        let cfg = parse(
            r#"
perimeter = ["192.0.2.0/28", "mx1.example.net"]
forwarders = ["198.51.100.7"]
nameservers = ["127.0.0.1:53"]
exclude = ["*.pos", "*/spam/*"]
zones = ["what-if.zone"]
offline = true
cache = "dns.cache"
null_sender = "helo"
include_rejected = true
skip_private = false
strict = true
[limits]
timeout = 1.5
attempts = 3
concurrency = 8
max_depth = 0
max_lookups = 50
eval_timeout = 10
fail_above = 5
max_tempfail = 20
lock_wait = 0
jobs = 2
cache_max_age = "7d"
[outputs]
pairs = "pairs.csv"
summary = "/abs/domains.csv"
history = "history.csv"
html = "report.html"
metrics = "/var/lib/node_exporter/textfile/repudiate.prom"
json = "summary.json"
"#,
        )
        .unwrap();
        assert_eq!(cfg.perimeter, ["192.0.2.0/28", "mx1.example.net"]);
        assert_eq!(cfg.exclude, ["*.pos", "*/spam/*"]);
        assert_eq!(cfg.limits.timeout, Some(1.5));
        assert_eq!(
            cfg.limits.eval_timeout,
            Some(10.0),
            "integers are seconds too"
        );
        assert_eq!(cfg.limits.max_depth, Some(0));
        assert_eq!(cfg.outputs.html, Some(PathBuf::from("report.html")));
        assert_eq!(cfg.outputs.json, Some(PathBuf::from("summary.json")));
        assert!(
            cfg.outputs
                .metrics
                .is_some_and(|p| p.ends_with("repudiate.prom"))
        );
        assert_eq!(cfg.zones, [PathBuf::from("what-if.zone")]);
        assert_eq!(
            (
                cfg.offline,
                cfg.include_rejected,
                cfg.skip_private,
                cfg.strict
            ),
            (Some(true), Some(true), Some(false), Some(true))
        );
        assert_eq!(cfg.null_sender, Some(NullSender::Helo));
        assert_eq!(cfg.limits.cache_max_age, Some(Age::Text("7d".into())));
        assert_eq!(cfg.limits.max_tempfail, Some(20.0));
        assert_eq!(
            parse("zone = [\"a.zone\"]\n[limits]\ncache_max_age = 3600\n")
                .map(|c| (c.zones, c.limits.cache_max_age)),
            Ok((vec![PathBuf::from("a.zone")], Some(Age::Seconds(3600)))),
            "the flag's name for the list, and seconds as a number"
        );
        assert!(parse("null_sender = \"maybe\"\n").is_err());
        // The value's old name still reads.
        let old_name = parse("null_sender = \"skip\"\n").unwrap();
        assert_eq!(old_name.null_sender, Some(NullSender::Report));
    }

    #[test]
    fn unknown_keys_are_errors_that_name_the_key() {
        let top = parse("perimiter = [\"192.0.2.1\"]\n").unwrap_err();
        assert!(top.contains("perimiter"), "{top}");
        let nested = parse("[limits]\nmax_dept = 3\n").unwrap_err();
        assert!(nested.contains("max_dept"), "{nested}");
        let table = parse("[dns]\nx = 1\n").unwrap_err();
        assert!(table.contains("dns"), "{table}");
    }

    #[test]
    fn an_error_is_one_line_with_its_line_and_column() {
        let e = parse("perimeter = []\n[limits]\n  max_dept = 3\n").unwrap_err();
        assert!(!e.contains('\n'), "{e:?}");
        assert!(
            e.starts_with("line 3, column 3: unknown field `max_dept`, expected one of"),
            "{e}"
        );
    }

    #[test]
    fn wrong_types_and_bad_toml_are_errors() {
        assert!(parse("perimeter = \"192.0.2.1\"\n").is_err());
        assert!(parse("[limits]\nattempts = -1\n").is_err());
        assert!(parse("perimeter = [\n").is_err());
    }

    #[test]
    fn relative_outputs_are_relative_to_the_file() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("repudiate.toml");
        std::fs::write(
            &path,
            "zones = [\"z/a.zone\"]\ncache = \"dns.cache\"\n\
             [outputs]\npairs = \"out/pairs.csv\"\nhtml = \"/srv/r.html\"\nmetrics = \"r.prom\"\n",
        )
        .unwrap();
        let cfg = load(&path).unwrap();
        assert_eq!(cfg.outputs.pairs, Some(d.path().join("out/pairs.csv")));
        assert_eq!(cfg.zones, [d.path().join("z/a.zone")]);
        assert_eq!(cfg.cache, Some(d.path().join("dns.cache")));
        assert_eq!(cfg.outputs.html, Some(PathBuf::from("/srv/r.html")));
        assert_eq!(cfg.outputs.metrics, Some(d.path().join("r.prom")));
        let missing = load(&d.path().join("nope.toml")).unwrap_err();
        assert!(missing.contains("nope.toml"), "{missing}");
    }
}
