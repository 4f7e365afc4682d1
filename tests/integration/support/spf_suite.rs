//! The RFC 7208 test suite (`corpora/spf-test-suites/rfc7208-tests.yml` of the shared data),
//! read into scenarios: each one's DNS data and its tests. Shared by the unit test that runs
//! it through a fake lookup (`src/policy/spf/tests.rs`) and the integration test that serves
//! it over real sockets (`tests/integration/spf_suite.rs`).
//!
//! The DNS data follows the suite's own driver (pyspf's `testspf.py`): records of type SPF
//! are copied as TXT records, after all others, unless the name lists a TXT record itself
//! (`TXT: NONE` says "no TXT record"); `TIMEOUT` makes a question time out unless a record
//! of the asked type came before it. Type SPF itself is never asked (RFC 7208 §3.1).
//!
//! The file is found under `$REPUDIATE_SHARED`, else `../shared` beside the crate; missing,
//! the test fails.

// Each user compiles this module and uses only part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use yaml_rust2::{Yaml, YamlLoader};

/// One record of a name, in the order the suite lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rec {
    Timeout,
    A(String),
    Aaaa(String),
    /// The strings of one TXT record, joined.
    Txt(String),
    Mx(u16, String),
    Ptr(String),
    Cname(String),
}

#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub helo: String,
    pub host: String,
    pub mailfrom: String,
    /// Any of these is right; the first is preferred.
    pub results: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub description: String,
    /// Lowercase names without the trailing dot.
    pub zone: BTreeMap<String, Vec<Rec>>,
    pub cases: Vec<Case>,
}

pub fn suite_path() -> PathBuf {
    let shared = std::env::var_os("REPUDIATE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    shared.join("corpora/spf-test-suites/rfc7208-tests.yml")
}

/// Every scenario of the suite; panics (failing the test) when the file is missing or
/// not what it should be.
pub fn load() -> Vec<Scenario> {
    let path = suite_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the RFC 7208 suite is needed at {} (set REPUDIATE_SHARED): {e}",
            path.display()
        )
    });
    let docs = YamlLoader::load_from_str(&text).expect("the suite is valid YAML");
    let scenarios: Vec<Scenario> = docs.iter().map(scenario).collect();
    assert!(
        scenarios.len() >= 10,
        "{}: too few scenarios",
        path.display()
    );
    scenarios
}

fn scenario(doc: &Yaml) -> Scenario {
    let description = doc["description"].as_str().unwrap_or("").to_string();
    let mut cases: Vec<Case> = doc["tests"]
        .as_hash()
        .expect("a scenario has tests")
        .iter()
        .map(|(name, t)| Case {
            name: name.as_str().unwrap().to_string(),
            helo: text(&t["helo"]),
            host: text(&t["host"]),
            mailfrom: text(&t["mailfrom"]),
            results: match &t["result"] {
                Yaml::Array(list) => list.iter().map(text).collect(),
                one => vec![text(one)],
            },
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    let zone = doc["zonedata"]
        .as_hash()
        .map(|h| {
            h.iter()
                .map(|(name, recs)| {
                    let name = text(name).to_ascii_lowercase();
                    let name = name.strip_suffix('.').unwrap_or(&name).to_string();
                    (name, records(recs))
                })
                .collect()
        })
        .unwrap_or_default();
    Scenario {
        description,
        zone,
        cases,
    }
}

fn text(y: &Yaml) -> String {
    match y {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Null | Yaml::BadValue => String::new(),
        Yaml::Boolean(b) => b.to_string(),
        other => panic!("unexpected YAML value {other:?}"),
    }
}

fn host_name(y: &Yaml) -> String {
    let name = text(y).to_ascii_lowercase();
    name.strip_suffix('.').unwrap_or(&name).to_string()
}

/// One name's records as the suite's driver sees them (module doc).
fn records(list: &Yaml) -> Vec<Rec> {
    let mut out = Vec::new();
    let mut generated = Vec::new();
    let mut lists_txt = false;
    for item in list.as_vec().expect("a name's records are a list") {
        let Some(map) = item.as_hash() else {
            assert_eq!(text(item), "TIMEOUT", "a bare entry must be TIMEOUT");
            out.push(Rec::Timeout);
            continue;
        };
        for (kind, value) in map {
            let strings = || match value {
                Yaml::Array(parts) => parts.iter().map(text).collect::<String>(),
                one => text(one),
            };
            match text(kind).as_str() {
                "SPF" => generated.push(Rec::Txt(strings())),
                "TXT" => {
                    lists_txt = true;
                    if !matches!(value, Yaml::String(s) if s == "NONE") {
                        out.push(Rec::Txt(strings()));
                    }
                }
                "A" => out.push(Rec::A(text(value))),
                "AAAA" => out.push(Rec::Aaaa(text(value))),
                "PTR" => out.push(Rec::Ptr(host_name(value))),
                "CNAME" => out.push(Rec::Cname(host_name(value))),
                "MX" => {
                    let pair = value.as_vec().expect("MX is [preference, exchange]");
                    let preference = pair[0].as_i64().expect("MX preference") as u16;
                    out.push(Rec::Mx(preference, host_name(&pair[1])));
                }
                other => panic!("record type {other} in the suite"),
            }
        }
    }
    if !lists_txt {
        out.extend(generated);
    }
    out
}
