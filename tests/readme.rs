//! The README's usage blocks must be exactly what `--help` prints, so the flag docs in
//! `src/cli.rs` stay the single source of the reference.

use std::process::Command;

fn help(sub: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_repudiate"))
        .args([sub, "--help"])
        .output()
        .unwrap();
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
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} missing from README.md"));
    let body = &readme[start..];
    let open = body.find("```text\n").unwrap() + "```text\n".len();
    let close = body[open..].find("\n```").unwrap();
    body[open..open + close].to_string()
}

#[test]
fn readme_usage_matches_help() {
    assert_eq!(
        readme_block("<!-- usage:audit"),
        help("audit"),
        "README audit usage is stale: paste `repudiate audit --help`"
    );
    assert_eq!(
        readme_block("<!-- usage:scan"),
        help("scan"),
        "README scan usage is stale: paste `repudiate scan --help`"
    );
    assert_eq!(
        readme_block("<!-- usage:check"),
        help("check"),
        "README check usage is stale: paste `repudiate check --help`"
    );
}
