//! What reading the inputs passed over or noticed, said on standard error (issues 13, 14):
//! counts of the routine things (files that are not mail, exclusions, outgoing-mail folders,
//! special files, paths reached twice), named one by one with `-v`; and the warnings that
//! are printed even with `--quiet`, because a cron job must notice them (symlink loops,
//! inputs from which nothing was recognised, sidecars that do not match their pairs file).
//! Identical copies are always named: the user must know which file was not read.

use std::path::Path;

use super::ReadReport;
use super::said::{Said, Setting};

/// Copies named without `-v`.
const NAMED_COPIES: usize = 10;

/// The notes, one message per line without the `repudiate: ` prefix (the caller prints
/// them with it, control characters escaped): routine, silenced by `--quiet`.
pub fn notes(report: &ReadReport, verbose: bool) -> Vec<Said> {
    let mut out = Vec::new();
    let passed = &report.passed;
    let shown = |p: &Path| p.display().to_string();
    count(
        &mut out,
        "not mail",
        "in walked folders skipped".into(),
        &report.not_mail,
        verbose,
    );
    let excluded: Vec<String> = passed.excluded.iter().map(|p| shown(p)).collect();
    let by_exclude = Said::from("(").setting(Setting::Exclude).text(")");
    count(&mut out, "excluded", by_exclude, &excluded, verbose);
    let special: Vec<String> = passed
        .special
        .iter()
        .map(|(p, what)| format!("{}: {what}", p.display()))
        .collect();
    count(
        &mut out,
        "not regular files",
        "skipped unopened (FIFOs, sockets, devices, dangling symlinks)".into(),
        &special,
        verbose,
    );
    let again: Vec<String> = passed
        .again
        .iter()
        .map(|(p, first)| format!("{} (already read as {})", p.display(), first.display()))
        .collect();
    count(
        &mut out,
        "reached twice",
        "read once".into(),
        &again,
        verbose,
    );
    if !passed.outgoing.is_empty() {
        let names: Vec<String> = passed.outgoing.iter().map(|p| shown(p)).collect();
        out.push(
            format!(
                "outgoing mail folders not read (name one to read it): {}",
                names.join(", ")
            )
            .into(),
        );
    }
    // Named, for the user must know which file was not read; past a few, only with -v.
    let shown_copies = if verbose { usize::MAX } else { NAMED_COPIES };
    for (copy, first) in report.copies.iter().take(shown_copies) {
        out.push(format!("{copy} is a byte-identical copy of {first}; read once").into());
    }
    if report.copies.len() > shown_copies {
        let more = report.copies.len() - shown_copies;
        out.push(
            Said::from(format!("and {more} more byte-identical copies read once"))
                .then(names_them()),
        );
    }
    if report.repeated > 0 {
        out.push(
            format!(
                "{} log records found in more than one file were counted once",
                report.repeated
            )
            .into(),
        );
    }
    out
}

/// The warnings, as [`notes`]: printed even with `--quiet`. One warning repeated for many
/// inputs (a walked folder of files with nothing recognised) names the first few and counts
/// the rest, as copies are, so a folder of 100 such files does not bury the table.
pub fn warnings(report: &ReadReport, verbose: bool) -> Vec<Said> {
    let mut out = Vec::new();
    for (link, dir) in &report.passed.loops {
        out.push(
            format!(
                "symlink loop: {} leads back to {}; not followed",
                link.display(),
                dir.display()
            )
            .into(),
        );
    }
    let shown = if verbose { usize::MAX } else { NAMED_COPIES };
    let mut groups: Vec<(&Said, usize)> = Vec::new();
    for w in &report.warnings {
        let seen = match groups.iter_mut().find(|(m, _)| *m == &w.message) {
            Some((_, n)) => n,
            None => &mut groups.push_mut((&w.message, 0)).1,
        };
        *seen += 1;
        if *seen <= shown {
            let warning = Said::from(format!("warning: {}: ", w.input));
            out.push(warning.then(w.message.clone()));
        }
    }
    for (message, seen) in groups.into_iter().filter(|(_, n)| *n > shown) {
        let more = seen - shown;
        let inputs = if more == 1 { "input" } else { "inputs" };
        out.push(
            Said::from(format!("warning: and {more} more {inputs}: "))
                .then(message.clone())
                .then(names_them()),
        );
    }
    out
}

/// `LABEL: N files WHAT`, then the names with `-v`.
fn count(out: &mut Vec<Said>, label: &str, what: Said, names: &[String], verbose: bool) {
    if names.is_empty() {
        return;
    }
    let files = if names.len() == 1 { "file" } else { "files" };
    let line = Said::from(format!("{label}: {} {files} ", names.len())).then(what);
    out.push(if verbose {
        line
    } else {
        line.then(names_them())
    });
    if verbose {
        for name in names {
            out.push(format!("  {name}").into());
        }
    }
}

/// ` (-v names them)`, after a count whose names are not shown.
fn names_them() -> Said {
    Said::from(" (")
        .setting(Setting::Verbose)
        .text(" names them)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::InputError;
    use std::path::PathBuf;

    #[test]
    fn counts_then_names_with_verbose() {
        let mut r = ReadReport {
            not_mail: vec!["d/README".into(), "d/cmds".into()],
            copies: vec![("b.log".into(), "a.log".into())],
            repeated: 3,
            ..Default::default()
        };
        r.passed.outgoing.push(PathBuf::from("Maildir/.Sent"));
        r.passed.loops.push(("d/up".into(), "d".into()));
        r.warnings.push(InputError {
            input: "x".into(),
            message: "nothing recognised".into(),
        });
        let flag = |s: Setting| match s {
            Setting::Verbose => "-v",
            _ => "--other",
        };
        let said =
            |lines: Vec<Said>| -> Vec<String> { lines.iter().map(|l| l.render(flag)).collect() };
        let quiet = said(notes(&r, false)).join("\n");
        assert!(quiet.contains("not mail: 2 files in walked folders skipped (-v names them)"));
        assert!(!quiet.contains("d/README"));
        assert!(quiet.contains("Maildir/.Sent"));
        assert!(quiet.contains("b.log is a byte-identical copy of a.log"));
        assert!(quiet.contains("3 log records"));
        let loud = said(notes(&r, true));
        assert!(loud.contains(&"  d/README".to_string()), "{loud:?}");
        let warnings = said(warnings(&r, false)).join("\n");
        assert!(warnings.contains("symlink loop: d/up leads back to d"));
        assert!(warnings.contains("warning: x: nothing recognised"));
        assert!(notes(&ReadReport::default(), true).is_empty());
    }

    #[test]
    fn one_warning_for_many_inputs_names_ten_and_counts_the_rest() {
        let mut r = ReadReport::default();
        for i in 0..13 {
            r.warnings.push(InputError {
                input: format!("log/{i:04}"),
                message: "nothing recognised".into(),
            });
        }
        r.warnings.push(InputError {
            input: "other".into(),
            message: "sidecar does not match".into(),
        });
        let flag = |_: Setting| "-v";
        let said =
            |v: bool| -> Vec<String> { warnings(&r, v).iter().map(|l| l.render(flag)).collect() };
        let quiet = said(false);
        assert_eq!(quiet.len(), 12, "{quiet:?}");
        assert!(quiet.contains(&"warning: log/0009: nothing recognised".to_string()));
        assert!(!quiet.iter().any(|l| l.contains("log/0010")), "{quiet:?}");
        assert!(quiet.contains(&"warning: other: sidecar does not match".to_string()));
        assert_eq!(
            quiet.last().unwrap(),
            "warning: and 3 more inputs: nothing recognised (-v names them)"
        );
        assert_eq!(said(true).len(), 14);
    }
}
