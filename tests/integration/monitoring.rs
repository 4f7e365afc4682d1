//! `--metrics` and `--json` through the binary: their figures are the history row's and the
//! table's of the same run (compared, never written down here), the JSON has exactly the
//! fields docs/summary.schema.json documents, the metric names are docs/monitoring.md's
//! table, and an existing file that is not ours is refused and left alone.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::bin::{self, bin, stderr};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The demo (offline, what-if zone) run by `command` with extra arguments.
fn demo(command: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        command,
        "mail.mbox",
        "maillog",
        "--perimeter",
        "198.51.100.0/28",
    ];
    if command == "audit" {
        args.extend(["--zone", "what-if.zone", "--offline"]);
    }
    bin()
        .args(args)
        .args(extra)
        .current_dir(bin::demo())
        .output()
        .unwrap()
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `series → value` of an exposition file (`name{labels} value` lines).
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect(l);
            (series.to_string(), value.parse().expect(l))
        })
        .collect()
}

/// The families a file declares, in order.
fn families(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect()
}

fn sample(m: &BTreeMap<String, f64>, series: &str) -> f64 {
    *m.get(series)
        .unwrap_or_else(|| panic!("no {series} in {m:?}"))
}

/// The sum of the samples of `family` whose labels hold every `label="value"` given.
fn sum(m: &BTreeMap<String, f64>, family: &str, labels: &[&str]) -> f64 {
    m.iter()
        .filter(|(s, _)| s.starts_with(&format!("{family}{{")))
        .filter(|(s, _)| labels.iter().all(|l| s.contains(l)))
        .map(|(_, v)| v)
        .sum()
}

/// The words of the table line that starts with `first`.
fn table_line(table: &str, first: &str) -> Vec<String> {
    let line = table
        .lines()
        .find(|l| l.trim_start().starts_with(first))
        .unwrap_or_else(|| panic!("no {first:?} line in\n{table}"));
    line.split_whitespace().map(String::from).collect()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("{v} is not a count"))
}

#[test]
fn metrics_and_json_say_what_the_history_and_the_table_say() {
    let tmp = tempfile::tempdir().unwrap();
    let (metrics, json, history) = (
        tmp.path().join("repudiate.prom"),
        tmp.path().join("summary.json"),
        tmp.path().join("history.csv"),
    );
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    // --fail-above 1: the demo's repudiated share is above it, so the run ends with 3 and
    // the files must say so.
    let out = demo(
        "audit",
        &[
            "-o",
            arg(&tmp.path().join("pairs.csv")),
            "--history",
            arg(&history),
            "--metrics",
            arg(&metrics),
            "--json",
            arg(&json),
            "--fail-above",
            "1",
        ],
    );
    let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let code = out.status.code().unwrap();
    assert_eq!(code, 3, "{}", stderr(&out));
    let table = stderr(&out);
    let m = samples(&fs::read_to_string(&metrics).unwrap());
    let j: Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    let text = fs::read_to_string(&history).unwrap();
    let mut lines = text.lines();
    let h: BTreeMap<&str, &str> = lines
        .next()
        .unwrap()
        .split(',')
        .zip(lines.next().unwrap().split(','))
        .collect();
    let hn = |col: &str| -> f64 { h[col].parse().unwrap() };
    let a = |name: &str| format!("{name}{{command=\"audit\"}}");

    assert_eq!(j["exit_status"], code);
    assert_eq!(sample(&m, &a("repudiate_exit_status")), code as f64);
    assert_eq!(j["run_at"], h["run_at"]);
    let stamp = sample(&m, &a("repudiate_last_run_timestamp_seconds"));
    assert_eq!(stamp, u(&j["run_at_unix"]) as f64);
    assert!(
        (before.as_secs() as f64..=after.as_secs() as f64).contains(&stamp),
        "{before:?} <= {stamp} <= {after:?}"
    );
    assert_eq!(u(&j["messages"]) as f64, hn("messages"));
    assert_eq!(sample(&m, &a("repudiate_messages")), hn("messages"));
    assert_eq!(u(&j["inputs"]["read"]) as f64, hn("inputs"));
    let first = table_line(&table, "repudiate audit:");
    assert_eq!(j["pairs"].to_string(), first[5], "{table}");
    assert_eq!(sample(&m, &a("repudiate_pairs")), u(&j["pairs"]) as f64);

    let verdicts = j["verdicts"].as_object().unwrap();
    assert_eq!(verdicts.len(), 7);
    for (verdict, counts) in verdicts {
        let label = format!("verdict=\"{verdict}\"");
        let messages = u(&counts["messages"]) as f64;
        assert_eq!(messages, hn(&verdict.replace('-', "_")), "{verdict}");
        assert_eq!(
            sum(&m, "repudiate_verdict_messages", &[&label]),
            messages,
            "{verdict}"
        );
        // the table: `verdict messages % pairs`
        let row = table_line(&table, &format!("{verdict} "));
        assert_eq!(row[1], counts["messages"].to_string(), "{verdict}");
        assert_eq!(row[3], counts["pairs"].to_string(), "{verdict}");
        assert_eq!(
            sum(&m, "repudiate_verdict_pairs", &[&label]),
            u(&counts["pairs"]) as f64
        );
    }
    let skipped: u64 = j["skipped"].as_object().unwrap().values().map(u).sum();
    assert_eq!(skipped as f64, hn("skipped"));
    assert_eq!(sum(&m, "repudiate_skipped_records", &[]), hn("skipped"));
    for (reason, n) in j["skipped"].as_object().unwrap() {
        let label = format!("reason=\"{reason}\"");
        assert_eq!(sum(&m, "repudiate_skipped_records", &[&label]), u(n) as f64);
    }

    // SPF: the history has one column per result, the JSON and metrics the cross-table.
    let spf = j["spf"].as_object().unwrap();
    for result in spf["repudiated"].as_object().unwrap().keys() {
        let by_json: u64 = spf.values().map(|row| u(&row[result])).sum();
        assert_eq!(by_json as f64, hn(&format!("spf_{result}")), "{result}");
        let label = format!("spf_result=\"{result}\"");
        assert_eq!(sum(&m, "repudiate_spf_messages", &[&label]), by_json as f64);
    }

    let pct = j["repudiated_pct"].as_f64().unwrap();
    assert_eq!(format!("{pct:.2}"), h["repudiated_pct"]);
    let ratio = sample(&m, &a("repudiate_repudiated_ratio"));
    assert!((ratio * 100.0 - pct).abs() < 1e-9, "{ratio} {pct}");
    let tempfail = j["tempfail_pct"].as_f64().unwrap();
    assert!((sample(&m, &a("repudiate_tempfail_ratio")) * 100.0 - tempfail).abs() < 1e-9);

    // The period: `period: FIRST to LAST (UTC)[; without a usable date: N messages (U
    // unparseable, A absent)]`
    let period = table_line(&table, "period:");
    let p = &j["period"];
    assert_eq!(p["first"].as_str(), Some(period[1].as_str()), "{table}");
    assert_eq!(p["last"].as_str(), Some(period[3].as_str()), "{table}");
    assert_eq!(
        sample(&m, &a("repudiate_period_first_timestamp_seconds")),
        p["first_unix"].as_i64().unwrap() as f64
    );
    assert_eq!(
        sample(&m, &a("repudiate_period_last_timestamp_seconds")),
        p["last_unix"].as_i64().unwrap() as f64
    );
    let undated = u(&p["unparseable"]) + u(&p["absent"]);
    assert_eq!(sum(&m, "repudiate_undated_messages", &[]), undated as f64);
    if undated > 0 {
        let said = table.split("without a usable date: ").nth(1).expect(&table);
        assert!(
            said.starts_with(&format!(
                "{undated} messages ({} unparseable, {} absent)",
                p["unparseable"], p["absent"]
            )),
            "{table}"
        );
    }

    // DNS, against the table's lines
    let dns = &j["dns"];
    let zone = table_line(&table, "answered by zone files");
    assert_eq!(zone[4], dns["zone_file_answers"].to_string());
    assert_eq!(
        sample(&m, &a("repudiate_dns_zone_file_answers")),
        u(&dns["zone_file_answers"]) as f64
    );
    let sent = table_line(&table, "sent to a server");
    assert_eq!(sent[4], dns["queries_sent"].to_string());
    let failed = table_line(&table, "failed");
    assert_eq!(failed.last().unwrap(), &dns["failed_questions"].to_string());
    assert_eq!(
        sample(&m, &a("repudiate_dns_failed_questions")),
        u(&dns["failed_questions"]) as f64
    );
    assert!(u(&dns["offline_questions"]) > 0, "the demo runs --offline");
    assert_eq!(
        sample(&m, &a("repudiate_dns_offline_questions")),
        u(&dns["offline_questions"]) as f64
    );
}

#[test]
fn a_scan_says_what_its_table_says() {
    let tmp = tempfile::tempdir().unwrap();
    let (metrics, json) = (tmp.path().join("scan.prom"), tmp.path().join("scan.json"));
    let out = demo(
        "scan",
        &[
            "-o",
            arg(&tmp.path().join("pairs.csv")),
            "--metrics",
            arg(&metrics),
            "--json",
            arg(&json),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stderr(&out);
    // `repudiate scan: N messages in M pairs from K inputs`
    let first = table_line(&table, "repudiate scan:");
    let j: Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    let m = samples(&fs::read_to_string(&metrics).unwrap());
    assert_eq!(j["command"], "scan");
    assert_eq!(j["messages"].to_string(), first[2]);
    assert_eq!(j["pairs"].to_string(), first[5]);
    assert_eq!(
        (u(&j["inputs"]["read"]) + u(&j["inputs"]["failed"])).to_string(),
        first[8]
    );
    assert_eq!(
        sample(&m, "repudiate_messages{command=\"scan\"}"),
        u(&j["messages"]) as f64
    );
    let total = table_line(&table, "total");
    assert_eq!(
        sum(&m, "repudiate_skipped_records", &["command=\"scan\""]).to_string(),
        total[1]
    );
    assert!(j["verdicts"].is_null() && j["dns"].is_null(), "{j}");
    assert!(
        families(&fs::read_to_string(&metrics).unwrap())
            .iter()
            .all(|f| !f.contains("verdict") && !f.contains("dns"))
    );
}

/// Checks `value` against the schema node `node`: an object has exactly the documented
/// properties (all required, no others), `null` only where the type allows it, and the
/// JSON type is the documented one.
fn conforms(schema: &Value, node: &Value, value: &Value, at: &str) {
    if let Some(r) = node["$ref"].as_str() {
        let name = r.strip_prefix("#/$defs/").expect(r);
        return conforms(schema, &schema["$defs"][name], value, at);
    }
    let types: Vec<&str> = match &node["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
        _ => Vec::new(),
    };
    if let Some(c) = node.get("const") {
        assert_eq!(value, c, "{at}");
    }
    if let Some(options) = node["enum"].as_array() {
        assert!(options.contains(value), "{at}: {value} not in {options:?}");
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed = types.is_empty()
        || types.contains(&kind)
        || (kind == "integer" && types.contains(&"number"));
    assert!(allowed, "{at}: {kind} where the schema says {types:?}");
    let Value::Object(fields) = value else { return };
    let documented = node["properties"].as_object().expect(at);
    let got: BTreeSet<&String> = fields.keys().collect();
    let want: BTreeSet<&String> = documented.keys().collect();
    assert_eq!(
        got, want,
        "{at}: the fields written and the fields documented"
    );
    let required: BTreeSet<&str> = node["required"]
        .as_array()
        .expect(at)
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(
        required,
        want.iter().map(|s| s.as_str()).collect(),
        "{at}: every field is required"
    );
    assert_eq!(node["additionalProperties"], false, "{at}");
    for (name, v) in fields {
        conforms(schema, &documented[name], v, &format!("{at}.{name}"));
    }
}

#[test]
fn the_json_has_exactly_the_fields_its_schema_documents() {
    let schema: Value =
        serde_json::from_slice(&fs::read(root().join("docs/summary.schema.json")).unwrap())
            .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let runs: [(&str, &[&str]); 3] = [("audit", &[]), ("audit", &["--no-spf"]), ("scan", &[])];
    for (i, (command, extra)) in runs.into_iter().enumerate() {
        let json = tmp.path().join(format!("{i}.json"));
        let mut args = vec!["-q", "-o", "/dev/null", "--json", arg(&json)];
        args.extend(extra);
        let out = demo(command, &args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let value: Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
        conforms(&schema, &schema, &value, &format!("{command} {extra:?}"));
        let nulls: Vec<&String> = value
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| v.is_null())
            .map(|(k, _)| k)
            .collect();
        match (command, extra.is_empty()) {
            ("audit", true) => assert!(nulls.is_empty(), "{nulls:?}"),
            ("audit", false) => assert_eq!(nulls, ["spf"]),
            _ => assert!(nulls.len() == 6 && !nulls.contains(&&"messages".to_string())),
        }
    }
}

/// The metric names of docs/monitoring.md's table.
fn documented_metrics() -> Vec<String> {
    let doc = fs::read_to_string(root().join("docs/monitoring.md")).unwrap();
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `repudiate_"))
        .map(|l| format!("repudiate_{}", l.split('`').next().unwrap()))
        .collect()
}

#[test]
fn the_metric_names_are_the_documented_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let (audit, scan) = (tmp.path().join("a.prom"), tmp.path().join("s.prom"));
    let out = demo(
        "audit",
        &["-q", "-o", "/dev/null", "--metrics", arg(&audit)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = demo("scan", &["-q", "-o", "/dev/null", "--metrics", arg(&scan)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let audit = families(&fs::read_to_string(&audit).unwrap());
    assert_eq!(audit, documented_metrics(), "docs/monitoring.md's table");
    assert!(
        audit.contains(&"repudiate_period_first_timestamp_seconds".to_string()),
        "the demo's messages are dated"
    );
    let scan = families(&fs::read_to_string(&scan).unwrap());
    assert!(
        !scan.is_empty() && scan.iter().all(|f| audit.contains(f)),
        "{scan:?}"
    );
}

#[test]
fn a_file_that_is_not_ours_is_refused_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let pairs = tmp.path().join("pairs.csv");
    for (flag, name) in [("--metrics", "node.prom"), ("--json", "other.json")] {
        let theirs = tmp.path().join(name);
        let content = "# HELP node_cpu_seconds_total Seconds.\n{\"not\": \"ours\"}\n";
        fs::write(&theirs, content).unwrap();
        let out = demo("audit", &["-q", "-o", arg(&pairs), flag, arg(&theirs)]);
        assert_eq!(out.status.code(), Some(1), "{flag}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("{flag} "))
                && stderr(&out).contains("refusing to replace it"),
            "{}",
            stderr(&out)
        );
        assert_eq!(fs::read_to_string(&theirs).unwrap(), content);
        assert!(!pairs.exists(), "refused before the run wrote anything");
    }
    // Our own files, and an empty one, are replaced.
    let ours = tmp.path().join("repudiate.prom");
    let json = tmp.path().join("summary.json");
    fs::write(&json, "").unwrap();
    for _ in 0..2 {
        let out = demo(
            "scan",
            &[
                "-q",
                "-o",
                "/dev/null",
                "--metrics",
                arg(&ours),
                "--json",
                arg(&json),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    // Only the file itself ends in `.prom` beside it (the collector reads `*.prom`): no
    // temporary or lock file does.
    let proms: Vec<PathBuf> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".prom"))
        .collect();
    assert_eq!(proms.len(), 2, "{proms:?}"); // node.prom and repudiate.prom
}

#[test]
fn the_metrics_file_may_not_be_an_input_or_another_output() {
    let tmp = tempfile::tempdir().unwrap();
    let same = tmp.path().join("x");
    let out = demo(
        "audit",
        &[
            "-q",
            "-o",
            "/dev/null",
            "--metrics",
            arg(&same),
            "--json",
            arg(&same),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--metrics and --json name the same file"),
        "{}",
        stderr(&out)
    );
    let out = demo("scan", &["-q", "-o", "/dev/null", "--json", "maillog"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--json maillog is the input"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_run_whose_inputs_failed_says_exit_status_2_and_counts_the_failed_input() {
    let tmp = tempfile::tempdir().unwrap();
    let (metrics, json) = (tmp.path().join("m.prom"), tmp.path().join("s.json"));
    let missing = tmp.path().join("no-such.log");
    let out = demo(
        "scan",
        &[
            arg(&missing),
            "-q",
            "-o",
            "/dev/null",
            "--metrics",
            arg(&metrics),
            "--json",
            arg(&json),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no-such.log"), "{}", stderr(&out));
    let j: Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    let m = samples(&fs::read_to_string(&metrics).unwrap());
    assert_eq!(j["exit_status"], 2);
    assert_eq!(sample(&m, "repudiate_exit_status{command=\"scan\"}"), 2.0);
    assert_eq!(j["inputs"]["failed"], 1);
    assert_eq!(
        sample(&m, "repudiate_inputs{command=\"scan\",state=\"failed\"}"),
        1.0
    );
    assert_eq!(
        sample(&m, "repudiate_inputs{command=\"scan\",state=\"read\"}"),
        u(&j["inputs"]["read"]) as f64
    );
}
