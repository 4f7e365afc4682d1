//! The layering of `src/` (issue 10, `docs/design.md`): `main` → the command layer (`app`,
//! `config`, `cli`) → the stages in data-flow order → the model and the utilities. This test
//! reads every `crate::` path in the shipped code (test modules excluded) and checks it
//! against the table below, and that no two top-level modules import each other, directly
//! or in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What each top-level module may import. Stages import a stage they drive or one before
/// them in the data flow; the model and utilities import no stage; nothing imports `app`.
const ALLOWED: &[(&str, &[&str])] = &[
    // the model and the utilities
    ("model", &[]),
    ("net", &[]),
    ("fileio", &[]),
    ("allocator", &[]),
    ("pairs_file", &["model", "net", "fileio"]),
    // the stages, in data-flow order
    ("extract", &["model", "net"]),
    ("aggregate", &["model", "net"]),
    (
        "inputs",
        &[
            "extract",
            "aggregate",
            "model",
            "net",
            "pairs_file",
            "fileio",
        ],
    ),
    ("dns", &["model", "net", "fileio"]),
    ("policy", &["dns", "model", "net"]),
    (
        "report",
        &[
            "aggregate",
            "dns",
            "policy",
            "model",
            "net",
            "pairs_file",
            "fileio",
        ],
    ),
    // the command layer
    (
        "config",
        &[
            "cli", "extract", "inputs", "dns", "policy", "model", "net", "fileio",
        ],
    ),
    ("cli", &["inputs", "report"]),
    (
        "app",
        &[
            "cli",
            "config",
            "inputs",
            "extract",
            "aggregate",
            "dns",
            "policy",
            "report",
            "model",
            "net",
            "fileio",
            "pairs_file",
            "allocator",
        ],
    ),
    ("main", &["app", "cli", "config", "allocator"]),
];

/// The top-level module a source file belongs to.
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// `crate::NAME` (and, in main.rs, `repudiate::NAME`) paths in the code before any test
/// module, including the names inside `use crate::{a, b::c}` groups.
fn imports(text: &str, root: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = BTreeSet::new();
    let path = regex::Regex::new(&format!(r"\b{root}::(\{{[^;]*\}}|[a-z_]+)")).unwrap();
    let name = regex::Regex::new(r"(?:^|[{,]\s*)([a-z_]+)").unwrap();
    for cap in path.captures_iter(code) {
        let target = &cap[1];
        if let Some(group) = target.strip_prefix('{') {
            // Only the first segment of each item names a module.
            for item in split_top_level(group.trim_end_matches('}')) {
                if let Some(m) = name.captures(item.trim()) {
                    out.insert(m[1].to_string());
                }
            }
        } else {
            out.insert(target.to_string());
        }
    }
    out
}

/// Splits `a::{b, c}, d` at the commas outside braces.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
    for (i, ch) in s.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = top_module(&src, &file);
        if module == "lib" {
            continue;
        }
        let root = if module == "main" {
            "repudiate"
        } else {
            "crate"
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let entry = edges.entry(module.clone()).or_default();
        for target in imports(&text, root) {
            if target != module {
                entry.insert(target);
            }
        }
    }
    edges
}

#[test]
fn every_import_follows_the_layers() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, targets) in graph() {
        let Some(ok) = allowed.get(module.as_str()) else {
            wrong.push(format!(
                "{module}: a top-level module missing from the table"
            ));
            continue;
        };
        for t in targets {
            if !ok.contains(&t.as_str()) {
                wrong.push(format!("{module} imports {t}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_module_imports_another_that_imports_it_back() {
    let edges = graph();
    // Depth-first search for a cycle through the module graph.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            return Some(path[i..].to_vec());
        }
        if !done.insert(node.to_string()) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for start in edges.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(start, &edges, &mut path, &mut done) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_reader_sees_grouped_and_inline_paths() {
    let text = "use crate::{model::{PairKey, Sender}, net};\nfn f() { crate::dns::x(); }\n\
                #[cfg(test)]\nmod tests { use crate::app; }";
    let found = imports(text, "crate");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["dns", "model", "net"],
        "test modules are not shipped code"
    );
}

/// With `autotests = false`, a test file that is not a module of the integration crate is
/// never compiled: it would skip silently. Every `.rs` under `tests/` must be reachable.
#[test]
fn every_test_file_is_compiled() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut files = Vec::new();
    rust_files(&tests, &mut files);
    let main = std::fs::read_to_string(tests.join("integration/main.rs")).unwrap();
    let support = std::fs::read_to_string(tests.join("integration/support/mod.rs")).unwrap();
    let mut stray = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(&tests)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let declared = match rel.as_str() {
            "integration/main.rs" | "integration/support/mod.rs" => true,
            r if r.starts_with("integration/support/") => support.contains(&format!("mod {stem};")),
            r if r.starts_with("integration/") && !r["integration/".len()..].contains('/') => {
                main.contains(&format!("mod {stem};"))
            }
            _ => false,
        };
        if !declared {
            stray.push(rel);
        }
    }
    assert!(
        stray.is_empty(),
        "test files no crate compiles (declare them in tests/integration/main.rs or \
         support/mod.rs): {stray:?}"
    );
}
