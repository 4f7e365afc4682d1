//! Merging many pairs files (issue 16 item 3, docs/design.md §7): a thousand files merge to
//! exactly what one file holding all their rows gives, with no more than a few files open
//! at a time, and the result is byte-identical whatever the order of the files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::bin::bin;

const FILES: usize = 1000;

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// One row of a host's pairs file: a pool of 300 domains (some spelt in capitals or with a
/// trailing dot, as a hand edit would), IPv4 and IPv6 clients, the null and the missing
/// sender, now and then a quoted cell or a bad row.
fn row(rng: &mut Lcg) -> String {
    let d = rng.next(300);
    let domain = match rng.next(40) {
        0 => "<>".to_string(),
        1 => String::new(),
        2 => format!("D{d}.Example."),
        3 => format!("\"d{d}.example\""),
        _ => format!("d{d}.example"),
    };
    let ip = match rng.next(10) {
        0 => format!("2001:db8::{:x}", rng.next(50)),
        1 => String::new(),
        _ => format!("192.0.2.{}", rng.next(60)),
    };
    match rng.next(500) {
        0 => format!("{domain},{ip},many\n"),
        _ => format!("{domain},{ip},{}\n", 1 + rng.next(1000)),
    }
}

/// Writes the host files and one file with all their rows; returns the host files.
fn write_hosts(dir: &Path) -> Vec<PathBuf> {
    let mut rng = Lcg(16);
    let mut all = String::from("domain,ip,messages\n");
    let mut paths = Vec::new();
    for i in 0..FILES {
        let mut text = String::from("domain,ip,messages\n");
        for _ in 0..rng.next(40) {
            let r = row(&mut rng);
            text.push_str(&r);
            all.push_str(&r);
        }
        let path = dir.join(format!("host-{i:04}.csv"));
        std::fs::write(&path, text).unwrap();
        paths.push(path);
    }
    std::fs::write(dir.join("all.csv"), all).unwrap();
    paths
}

/// `repudiate scan` with at most 64 open files, as a small per-process limit allows.
fn scan(inputs: &[PathBuf], out: &Path) -> Output {
    let script =
        "ulimit -n 64 && out=$1 && shift && exec \"$0\" scan -q -o \"$out\" --jobs 2 \"$@\"";
    let output = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_repudiate"))
        .arg(out)
        .args(inputs)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "scan failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn a_thousand_files_merge_like_one_file_of_all_their_rows_in_any_order() {
    let tmp = tempfile::tempdir().unwrap();
    let hosts = write_hosts(tmp.path());
    let single = tmp.path().join("single.out.csv");
    scan(&[tmp.path().join("all.csv")], &single);
    let want = std::fs::read_to_string(&single).unwrap();
    assert!(want.lines().count() > 1000, "{want}");

    let mut orders = vec![hosts.clone()];
    let mut reversed = hosts.clone();
    reversed.reverse();
    orders.push(reversed);
    let mut shuffled = hosts.clone();
    let mut rng = Lcg(7);
    for i in (1..shuffled.len()).rev() {
        shuffled.swap(i, rng.next(i as u64 + 1) as usize);
    }
    orders.push(shuffled);
    for (n, order) in orders.iter().enumerate() {
        let out = tmp.path().join(format!("merged-{n}.out.csv"));
        scan(order, &out);
        let got = std::fs::read_to_string(&out).unwrap();
        assert!(
            got == want,
            "order {n}: the merge differs from the single file"
        );
    }
}

/// The bad rows of the files are counted (as malformed) exactly as in the single file.
#[test]
fn bad_rows_of_many_files_are_counted_like_those_of_one() {
    let tmp = tempfile::tempdir().unwrap();
    let hosts = write_hosts(tmp.path());
    let skipped = |output: &Output| {
        let text = String::from_utf8_lossy(&output.stderr).to_string();
        text.lines()
            .find(|l| l.trim_start().starts_with("malformed"))
            .map(|l| l.trim().to_string())
    };
    let run = |inputs: &[PathBuf], name: &str| {
        let out = tmp.path().join(name);
        let output = bin()
            .args(["scan", "-o"])
            .arg(&out)
            .args(inputs)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        skipped(&output)
    };
    let single = run(&[tmp.path().join("all.csv")], "single.out.csv");
    assert!(single.is_some(), "the generated rows include bad ones");
    assert_eq!(run(&hosts, "merged.out.csv"), single);
}

/// One pair spelt every way a hand edit or another tool might (capitals, a trailing dot,
/// a quoted cell, the writer's `'` guard, an IPv4-mapped or `IPv6:`-tagged or upper-case
/// address), one spelling per file: the merge holds one row per pair, with every row's
/// messages, written as `scan` writes it.
#[test]
fn mixed_spellings_across_files_merge_to_one_row() {
    let tmp = tempfile::tempdir().unwrap();
    let spellings = [
        "mix.example,192.0.2.1,1",
        "MIX.Example,192.0.2.1,2",
        "mix.example.,::ffff:192.0.2.1,4",
        "\"Mix.Example\",\"192.0.2.1\",8",
        "'mix.example,IPv6:::FFFF:192.0.2.1,16",
        "mix.example,2001:db8::1,32",
        "Mix.example.,2001:DB8:0:0:0:0:0:1,64",
        "mix.example,IPv6:2001:db8::1,128",
        "<>,192.0.2.9,256",
        "<>,::ffff:192.0.2.9,512",
    ];
    let mut files = Vec::new();
    for (i, row) in spellings.iter().enumerate() {
        let path = tmp.path().join(format!("host-{i}.csv"));
        std::fs::write(&path, format!("domain,ip,messages\n{row}\n")).unwrap();
        files.push(path);
    }
    let out = tmp.path().join("merged.out.csv");
    scan(&files, &out);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "domain,ip,messages\n<>,192.0.2.9,768\nmix.example,2001:db8::1,224\nmix.example,192.0.2.1,31\n"
    );
    files.reverse();
    let reversed = tmp.path().join("reversed.out.csv");
    scan(&files, &reversed);
    assert_eq!(
        std::fs::read(&reversed).unwrap(),
        std::fs::read(&out).unwrap()
    );
}
