//! The manual's usage blocks (`docs/usage.md`) must be exactly what `--help` prints, so the
//! flag docs in `src/cli.rs` stay the single source of the reference; its crontab line, with
//! its example config file, must run as written (paths swapped for test ones, its nameserver
//! for an in-process DNS server on 127.0.0.1); and the README's command list and crontab line
//! must agree with the binary and the manual.

use crate::support::bin::{bin, demo};

use crate::support::dns_server;

use std::fs;
use std::process::Command;

use dns_server::{Faults, TestDns};

fn help(sub: &str) -> String {
    let out = bin().args([sub, "--help"]).output().unwrap();
    assert!(out.status.success());
    // editors strip trailing blanks, clap writes some on empty lines
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

fn readme_block(marker: &str) -> String {
    fenced_block(marker, "text")
}

/// The body of the first ```LANG block after `marker`.
fn fenced_block(marker: &str, lang: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/usage.md")).unwrap();
    let start = readme
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} missing from README.md"));
    let body = &readme[start..];
    let fence = format!("```{lang}\n");
    let open = body.find(&fence).unwrap() + fence.len();
    let close = body[open..].find("\n```").unwrap();
    body[open..open + close].to_string()
}

#[test]
fn readme_usage_matches_help() {
    assert_eq!(
        readme_block("<!-- usage:audit"),
        help("audit"),
        "docs/usage.md audit usage is stale: paste `repudiate audit --help`"
    );
    assert_eq!(
        readme_block("<!-- usage:scan"),
        help("scan"),
        "docs/usage.md scan usage is stale: paste `repudiate scan --help`"
    );
    assert_eq!(
        readme_block("<!-- usage:check"),
        help("check"),
        "docs/usage.md check usage is stale: paste `repudiate check --help`"
    );
}

/// The README's paths, and what the test puts in their place.
const CRON_BIN: &str = "/usr/local/bin/repudiate";
const CRON_CONFIG: &str = "/etc/repudiate/repudiate.toml";
const CRON_LOG: &str = "/var/log/mail.log.1";
const CONFIG_OUT_DIR: &str = "/var/lib/repudiate";
const CONFIG_NAMESERVER: &str = "127.0.0.1:53";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_crontab_line_runs_as_written() {
    let cron = fenced_block("<!-- crontab", "crontab");
    let line = cron
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .expect("a crontab line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert!(
        fields.len() > 6,
        "five schedule fields and a command: {line}"
    );
    assert!(!line.contains('%'), "cron turns % into a newline: {line}");
    // the command is everything after the five schedule fields, spacing kept
    let mut command = line;
    for _ in 0..5 {
        command = command.trim_start();
        command = &command[command.find(char::is_whitespace).unwrap()..];
    }
    let command = command.trim();
    for path in [CRON_BIN, CRON_CONFIG, CRON_LOG] {
        assert!(
            command.contains(path),
            "{path} not in the crontab line: {command}"
        );
    }
    let fail_above: f64 = fields
        .iter()
        .position(|f| *f == "--fail-above")
        .map(|i| fields[i + 1].parse().unwrap())
        .expect("the crontab line sets --fail-above");

    let zone = fs::read_to_string(demo().join("what-if.zone")).unwrap();
    let dns = TestDns::start(&[("example.", &zone)], Faults::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("var-lib-repudiate");
    fs::create_dir(&out_dir).unwrap();
    let config_text = fenced_block("<!-- config-example", "toml");
    assert!(config_text.contains(CONFIG_OUT_DIR) && config_text.contains(CONFIG_NAMESERVER));
    let config = tmp.path().join("repudiate.toml");
    fs::write(
        &config,
        config_text
            .replace(CONFIG_OUT_DIR, out_dir.to_str().unwrap())
            .replace(CONFIG_NAMESERVER, &dns.addr.to_string()),
    )
    .unwrap();
    let runnable = command
        .replace(CRON_BIN, env!("CARGO_BIN_EXE_repudiate"))
        .replace(CRON_CONFIG, config.to_str().unwrap())
        .replace(CRON_LOG, demo().join("maillog").to_str().unwrap());
    assert!(
        !runnable.contains("/etc/") && !runnable.contains("/var/"),
        "a path the test does not know how to replace: {runnable}"
    );

    for night in 1..=2 {
        let cmd = runnable.clone();
        let dir = tmp.path().to_path_buf();
        // cron runs the command with /bin/sh, from the user's home folder
        let out = tokio::task::spawn_blocking(move || {
            Command::new("/bin/sh")
                .args(["-c", &cmd])
                .current_dir(dir)
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let history = fs::read_to_string(out_dir.join("history.csv")).unwrap();
        assert_eq!(history.lines().count(), 1 + night, "{history}");
        let last: Vec<&str> = history.lines().last().unwrap().split(',').collect();
        // The demo log holds three foreign messages, one of them (shop.example from
        // 203.0.113.66) outside shop.example's policy: 33.33 %, above the line's threshold.
        assert_eq!(last[11], "33.33", "{history}");
        assert!(33.33 > fail_above, "the README's threshold is {fail_above}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.contains("above --fail-above"),
            "cron mails the alert, and only it: {err}"
        );
        assert_eq!(err.lines().count(), 1, "-q: nothing else is mailed: {err}");
        assert!(
            out.stdout.is_empty(),
            "the pairs went to the configured file"
        );
    }
    for name in ["pairs.csv", "domains.csv", "report.html"] {
        assert!(out_dir.join(name).is_file(), "{name} written");
    }
    let pairs = fs::read_to_string(out_dir.join("pairs.csv")).unwrap();
    assert!(
        pairs.contains(",repudiated,") && pairs.contains(",nonrepudiated,"),
        "verdicts came from the DNS server: {pairs}"
    );
    assert!(dns.queries() > 0, "the configured nameserver was asked");
    dns.stop().await;
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The README's "Commands" block names every command `--help` lists, and only those.
#[test]
fn readme_commands_are_the_binarys() {
    let out = bin().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let mut from_help: Vec<String> = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        // a command's line starts two spaces in; wrapped descriptions further
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| *w != "help")
        .map(String::from)
        .collect();
    from_help.sort();
    let text = readme();
    let block = text
        .split("## Commands")
        .nth(1)
        .expect("a Commands section")
        .split("\n\n")
        .find(|p| p.trim_start().starts_with("repudiate "))
        .expect("the command list");
    let mut from_readme: Vec<String> = block
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(String::from)
        .collect();
    from_readme.sort();
    assert_eq!(
        from_readme, from_help,
        "README's command list against --help"
    );
}

/// The README's crontab line is the one the manual's test runs.
#[test]
fn readme_crontab_line_is_the_manuals() {
    let cron = fenced_block("<!-- crontab", "crontab");
    let line = cron.lines().find(|l| !l.trim().is_empty()).unwrap().trim();
    assert!(
        readme().contains(line),
        "README lacks the crontab line {line}"
    );
}

/// Runs scripts/readme-figures.py --check on a copy of README.md and docs/figures/ in DIR,
/// after `edit` changed the copied figures; returns (success, stdout + stderr).
fn readme_figures_check(edit: impl FnOnce(&std::path::Path)) -> (bool, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let figures = dir.path().join("docs/figures");
    fs::create_dir_all(&figures).unwrap();
    for entry in fs::read_dir(root.join("docs/figures")).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, figures.join(path.file_name().unwrap())).unwrap();
    }
    fs::copy(root.join("README.md"), dir.path().join("README.md")).unwrap();
    edit(&figures);
    let out = Command::new("python3")
        .arg(root.join("scripts/readme-figures.py"))
        .arg("--check")
        .arg("--readme")
        .arg(dir.path().join("README.md"))
        .arg("--figures")
        .arg(&figures)
        .output()
        .expect("python3 runs scripts/readme-figures.py (python3 is a prerequisite of the tests)");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The README's figure blocks are what the committed figures render, and the check that
/// .ci/run makes catches a figure that moved or lost a line the README quotes.
#[test]
fn readme_figures_are_the_committed_ones() {
    let (ok, text) = readme_figures_check(|_| {});
    assert!(
        ok,
        "README.md is stale against docs/figures/: run scripts/readme-figures.py\n{text}"
    );

    let (ok, text) = readme_figures_check(|figures| {
        let path = figures.join("bench-scale.md");
        let fig = fs::read_to_string(&path).unwrap();
        let row = fig
            .lines()
            .find(|l| l.contains("mawk hash (reference)"))
            .unwrap();
        let moved: Vec<String> = row.split_whitespace().map(String::from).collect();
        // the rows/s column: make it a rate no run printed
        let edited = row.replacen(&moved[4], "123456789", 1);
        fs::write(&path, fig.replacen(row, &edited, 1)).unwrap();
    });
    assert!(!ok, "a moved figure must make the check fail");
    assert!(text.contains("mawk hash: 123,456,789 rows/s"), "{text}");

    let (ok, text) = readme_figures_check(|figures| {
        let path = figures.join("bench-scale.md");
        let fig = fs::read_to_string(&path).unwrap();
        let kept: Vec<&str> = fig.lines().filter(|l| !l.starts_with("merge: ")).collect();
        fs::write(&path, kept.join("\n")).unwrap();
    });
    assert!(
        !ok,
        "a figure missing a quoted line must make the check fail"
    );
    assert!(
        text.contains("bench-scale.md: no 'merge: N files' line"),
        "{text}"
    );
}
