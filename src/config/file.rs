//! The `--config` TOML file, for runs that should not carry a long command line (cron).
//! It holds what a site sets once — perimeter, forwarders, nameservers, excludes, limits, output
//! paths — and nothing else: an unknown key is an error naming the key, because a misspelt
//! `perimeter` silently ignored would change every verdict. The file only supplies values;
//! `config` decides that flags win over it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

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
    pub lock_wait: Option<f64>,
    pub max_line_bytes: Option<usize>,
    pub queue_window: Option<f64>,
}

/// `[outputs]`: where `audit` writes; relative paths are relative to the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outputs {
    pub pairs: Option<PathBuf>,
    pub summary: Option<PathBuf>,
    pub history: Option<PathBuf>,
    pub html: Option<PathBuf>,
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
        &mut cfg.outputs.history,
        &mut cfg.outputs.html,
    ]
    .into_iter()
    .flatten()
    {
        if out.is_relative() {
            *out = base.join(&*out);
        }
    }
    Ok(cfg)
}

pub fn parse(text: &str) -> Result<FileConfig, String> {
    toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
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
[limits]
timeout = 1.5
attempts = 3
concurrency = 8
max_depth = 0
max_lookups = 50
eval_timeout = 10
fail_above = 5
lock_wait = 0
[outputs]
pairs = "pairs.csv"
summary = "/abs/domains.csv"
history = "history.csv"
html = "report.html"
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
            "[outputs]\npairs = \"out/pairs.csv\"\nhtml = \"/srv/r.html\"\n",
        )
        .unwrap();
        let cfg = load(&path).unwrap();
        assert_eq!(cfg.outputs.pairs, Some(d.path().join("out/pairs.csv")));
        assert_eq!(cfg.outputs.html, Some(PathBuf::from("/srv/r.html")));
        let missing = load(&d.path().join("nope.toml")).unwrap_err();
        assert!(missing.contains("nope.toml"), "{missing}");
    }
}
