//! Expands the command line's paths into the list of files to read: files as given,
//! directories walked recursively in name order (so runs are reproducible). In a maildir
//! (a folder with `cur/` or `new/`) only `cur/`, `new/` and subfolders are read: `tmp/` holds
//! messages still being delivered, and loose files beside them are the IMAP server's indexes.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One thing to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "<stdin>".to_string(),
        }
    }
}

/// The bytes on disk of `inputs` (what the progress bar counts against); `None` when
/// standard input is among them, whose length nobody knows.
pub fn total_size(inputs: &[Input]) -> Option<u64> {
    inputs
        .iter()
        .map(|input| match input {
            Input::File(path) => Some(fs::metadata(path).map_or(0, |m| m.len())),
            Input::Stdin => None,
        })
        .sum()
}

/// A path that could not be expanded, with the reason.
#[derive(Debug)]
pub struct WalkError {
    pub path: PathBuf,
    pub error: io::Error,
}

/// Expands paths; errors are returned beside the inputs so one bad path does not stop the run.
pub fn expand(paths: &[PathBuf]) -> (Vec<Input>, Vec<WalkError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => walk_dir(path, &mut inputs, &mut errors),
            Ok(_) => inputs.push(Input::File(path.clone())),
            Err(error) => errors.push(WalkError {
                path: path.clone(),
                error,
            }),
        }
    }
    (inputs, errors)
}

fn walk_dir(dir: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<WalkError>) {
    let entries = match sorted_entries(dir) {
        Ok(e) => e,
        Err(error) => {
            errors.push(WalkError {
                path: dir.to_path_buf(),
                error,
            });
            return;
        }
    };
    let is_maildir = entries
        .iter()
        .any(|(p, is_dir)| *is_dir && matches!(file_name(p), "cur" | "new"));
    for (path, is_dir) in entries {
        let name = file_name(&path);
        if is_dir {
            if is_maildir && name == "tmp" {
                continue;
            }
            walk_dir(&path, inputs, errors);
        } else if !is_maildir && !name.starts_with('.') {
            inputs.push(Input::File(path));
        }
    }
}

fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// Entries in byte order of their names; symlinks to directories are followed.
fn sorted_entries(dir: &Path) -> io::Result<Vec<(PathBuf, bool)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let is_dir = fs::metadata(&path).map(|m| m.is_dir()).unwrap_or(false);
        out.push((path, is_dir));
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maildir_tmp_is_skipped_and_order_is_stable() {
        let d = tempfile::tempdir().unwrap();
        let md = d.path().join("Maildir");
        for sub in [
            "cur",
            "new",
            "tmp",
            ".Lists/cur",
            ".Lists/new",
            ".Lists/tmp",
        ] {
            fs::create_dir_all(md.join(sub)).unwrap();
        }
        fs::write(md.join("new/2.host"), "x").unwrap();
        fs::write(md.join("cur/1.host:2,S"), "x").unwrap();
        fs::write(md.join("tmp/3.host"), "x").unwrap();
        fs::write(md.join(".Lists/cur/4.host:2,"), "x").unwrap();
        fs::write(md.join(".Lists/tmp/5.host"), "x").unwrap();
        fs::write(md.join("dovecot.index"), "x").unwrap();
        let (inputs, errors) = expand(std::slice::from_ref(&md));
        assert!(errors.is_empty());
        let names: Vec<String> = inputs
            .iter()
            .map(|i| match i {
                Input::File(p) => p.strip_prefix(&md).unwrap().display().to_string(),
                Input::Stdin => unreachable!(),
            })
            .collect();
        assert_eq!(
            names,
            [".Lists/cur/4.host:2,", "cur/1.host:2,S", "new/2.host"]
        );
    }

    #[test]
    fn missing_path_is_an_error_not_a_stop() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.mbox");
        fs::write(&f, "x").unwrap();
        let (inputs, errors) = expand(&[d.path().join("nope"), f.clone(), PathBuf::from("-")]);
        assert_eq!(inputs, [Input::File(f), Input::Stdin]);
        assert_eq!(errors.len(), 1);
    }
}
