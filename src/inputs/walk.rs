//! Expands the command line's paths into the list of files to read: files as given,
//! directories walked recursively in name order (so runs are reproducible). In a maildir
//! (a folder with `cur/` or `new/`) only `cur/`, `new/` and subfolders are read: `tmp/` holds
//! messages still being delivered, and loose files beside them are the IMAP server's indexes.
//!
//! A walk must end and read each file once whatever the tree holds (issue 14): directories
//! are entered at most once per device and inode, so a symlink to a sibling adds nothing and
//! a symlink loop is named instead of followed; a file reached by two paths is read once;
//! FIFOs, sockets and devices found in a walk are counted and never opened (a FIFO blocks in
//! `open`, `/dev/zero` never ends). Named on the command line, such a file is an error that
//! says what it is. Maildir folders of outgoing mail are left out of a walk (they hold the
//! site's own messages, not mail it received); naming one reads it.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::glob::Glob;

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

/// Maildir folder names of outgoing mail, compared without case on each level of a
/// Maildir++ name (`.Sent`, `.INBOX.Sent`, `.Sent.2024`) or of a folder path (`Sent/cur`).
/// Trash and Junk stay: they hold received mail (Junk the most interesting of all).
pub const OUTGOING_FOLDERS: [&str; 8] = [
    "sent",
    "sent messages",
    "sent items",
    "sent mail",
    "drafts",
    "outbox",
    "templates",
    "sent-mail",
];

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

/// What a walk passed over, for the summary (counts) and `-v` (names).
#[derive(Debug, Default)]
pub struct Passed {
    /// FIFOs, sockets and devices met in walked folders, with what each is.
    pub special: Vec<(PathBuf, &'static str)>,
    /// Entries matched by `--exclude`.
    pub excluded: Vec<PathBuf>,
    /// Maildir folders of outgoing mail.
    pub outgoing: Vec<PathBuf>,
    /// Symlinks that lead back into a folder being walked: (link, the folder it reaches).
    pub loops: Vec<(PathBuf, PathBuf)>,
    /// Paths to a file or folder already reached: (this path, the first path).
    pub again: Vec<(PathBuf, PathBuf)>,
}

/// The result of expanding the command line.
#[derive(Debug, Default)]
pub struct Expanded {
    pub inputs: Vec<Input>,
    pub errors: Vec<WalkError>,
    /// Files named on the command line (not found by a walk): for them an unrecognised
    /// format stays an error.
    pub named: HashSet<PathBuf>,
    pub passed: Passed,
}

/// Expands paths; errors are returned beside the inputs so one bad path does not stop the run.
pub fn expand(paths: &[PathBuf], exclude: &[Glob]) -> Expanded {
    let mut walk = Walk {
        exclude,
        out: Expanded::default(),
        seen_files: HashMap::new(),
        seen_dirs: HashMap::new(),
        stack: Vec::new(),
    };
    for path in paths {
        walk.named(path);
    }
    walk.out
}

/// `-` and `/dev/stdin` read standard input; any other path is opened by name.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-" || path == Path::new("/dev/stdin")
}

/// What a non-regular, non-directory file is, in words.
fn special_kind(ft: &fs::FileType) -> &'static str {
    if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

type DevIno = (u64, u64);

fn dev_ino(m: &fs::Metadata) -> DevIno {
    (m.dev(), m.ino())
}

struct Walk<'a> {
    exclude: &'a [Glob],
    out: Expanded,
    /// Regular files by device and inode, with the first path that reached them.
    seen_files: HashMap<DevIno, PathBuf>,
    /// Folders entered, with the path they were entered by.
    seen_dirs: HashMap<DevIno, PathBuf>,
    /// The folders being walked, outermost first (a link to one of them is a loop).
    stack: Vec<DevIno>,
}

impl Walk<'_> {
    fn error(&mut self, path: &Path, error: io::Error) {
        self.out.errors.push(WalkError {
            path: path.to_path_buf(),
            error,
        });
    }

    fn excluded(&self, path: &Path) -> bool {
        let name = path.file_name().map(|n| n.to_string_lossy());
        let whole = path.to_string_lossy();
        let name = name.as_deref().unwrap_or(&whole);
        self.exclude.iter().any(|g| g.matches(&whole, name))
    }

    /// A path from the command line.
    fn named(&mut self, path: &Path) {
        if is_stdin(path) {
            self.out.inputs.push(Input::Stdin);
            return;
        }
        if self.excluded(path) {
            self.out.passed.excluded.push(path.to_path_buf());
            return;
        }
        let meta = match fs::metadata(path) {
            Ok(m) => m,
            Err(e) => return self.error(path, e),
        };
        let ft = meta.file_type();
        if ft.is_dir() {
            self.dir(path, &meta);
        } else if ft.is_file() {
            if self.file(path, &meta) {
                self.out.named.insert(path.to_path_buf());
            }
        } else {
            let what = special_kind(&ft);
            let error = io::Error::other(format!(
                "is {what}, not a file or folder (pipe it to `-` to read it)"
            ));
            self.error(path, error);
        }
    }

    /// A regular file; false when it was reached before (it is then read once).
    fn file(&mut self, path: &Path, meta: &fs::Metadata) -> bool {
        match self.seen_files.get(&dev_ino(meta)) {
            Some(first) => {
                let again = (path.to_path_buf(), first.clone());
                self.out.passed.again.push(again);
                false
            }
            None => {
                self.seen_files.insert(dev_ino(meta), path.to_path_buf());
                self.out.inputs.push(Input::File(path.to_path_buf()));
                true
            }
        }
    }

    fn dir(&mut self, dir: &Path, meta: &fs::Metadata) {
        let id = dev_ino(meta);
        if let Some(first) = self.seen_dirs.get(&id) {
            let first = first.clone();
            if self.stack.contains(&id) {
                self.out.passed.loops.push((dir.to_path_buf(), first));
            } else {
                self.out.passed.again.push((dir.to_path_buf(), first));
            }
            return;
        }
        self.seen_dirs.insert(id, dir.to_path_buf());
        let entries = match sorted_entries(dir) {
            Ok(e) => e,
            Err(error) => return self.error(dir, error),
        };
        self.stack.push(id);
        let is_maildir = entries.iter().any(|(p, m)| {
            m.as_ref().is_ok_and(|m| m.is_dir()) && matches!(file_name(p), "cur" | "new")
        });
        for (path, meta) in entries {
            self.entry(&path, meta, is_maildir);
        }
        self.stack.pop();
    }

    /// One entry of a walked folder.
    fn entry(&mut self, path: &Path, meta: io::Result<fs::Metadata>, in_maildir: bool) {
        let name = file_name(path);
        if self.excluded(path) {
            self.out.passed.excluded.push(path.to_path_buf());
            return;
        }
        let meta = match meta {
            Ok(m) => m,
            // A symlink to nothing holds no mail: passed over like a FIFO, not an error. One
            // that cannot be followed (ELOOP, a denied folder on its way) stays an error.
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) =>
            {
                let what = "a symlink to nothing";
                self.out.passed.special.push((path.to_path_buf(), what));
                return;
            }
            Err(e) => return self.error(path, e),
        };
        let ft = meta.file_type();
        if ft.is_dir() {
            if in_maildir && name == "tmp" {
                return;
            }
            if is_outgoing_folder(name) && (in_maildir || has_maildir_folders(path)) {
                self.out.passed.outgoing.push(path.to_path_buf());
                return;
            }
            self.dir(path, &meta);
        } else if !ft.is_file() {
            self.out
                .passed
                .special
                .push((path.to_path_buf(), special_kind(&ft)));
        } else if !in_maildir && !name.starts_with('.') {
            self.file(path, &meta);
        }
    }
}

/// `.Sent`, `.INBOX.Sent`, `.Sent.2024`, `Sent`: any level of the folder name is an
/// outgoing folder's name.
pub fn is_outgoing_folder(name: &str) -> bool {
    name.split('.')
        .filter(|level| !level.is_empty())
        .any(|level| {
            OUTGOING_FOLDERS
                .iter()
                .any(|o| level.eq_ignore_ascii_case(o))
        })
}

/// A folder that is itself a maildir (holds `cur/` or `new/`).
fn has_maildir_folders(dir: &Path) -> bool {
    ["cur", "new"].iter().any(|sub| dir.join(sub).is_dir())
}

fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// Entries in byte order of their names, each with what it is after following symlinks.
fn sorted_entries(dir: &Path) -> io::Result<Vec<(PathBuf, io::Result<fs::Metadata>)>> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir)? {
        paths.push(entry?.path());
    }
    paths.sort();
    Ok(paths
        .into_iter()
        .map(|p| {
            let meta = fs::metadata(&p);
            (p, meta)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn rel(inputs: &[Input], root: &Path) -> Vec<String> {
        inputs
            .iter()
            .map(|i| match i {
                Input::File(p) => p.strip_prefix(root).unwrap().display().to_string(),
                Input::Stdin => "-".into(),
            })
            .collect()
    }

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
        let e = expand(std::slice::from_ref(&md), &[]);
        assert!(e.errors.is_empty());
        assert_eq!(
            rel(&e.inputs, &md),
            [".Lists/cur/4.host:2,", "cur/1.host:2,S", "new/2.host"]
        );
        assert!(e.named.is_empty(), "walked, not named");
    }

    #[test]
    fn missing_path_is_an_error_not_a_stop() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.mbox");
        fs::write(&f, "x").unwrap();
        let e = expand(&[d.path().join("nope"), f.clone(), PathBuf::from("-")], &[]);
        assert_eq!(e.inputs, [Input::File(f.clone()), Input::Stdin]);
        assert_eq!(e.errors.len(), 1);
        assert!(e.named.contains(&f));
    }

    #[test]
    fn outgoing_folders_are_passed_over_unless_named() {
        let d = tempfile::tempdir().unwrap();
        let md = d.path().join("Maildir");
        for sub in [
            "cur",
            ".Sent/cur",
            ".INBOX.Drafts/new",
            ".Junk/cur",
            ".Trash/cur",
        ] {
            fs::create_dir_all(md.join(sub)).unwrap();
            fs::write(md.join(sub).join("1.host"), "x").unwrap();
        }
        let e = expand(std::slice::from_ref(&md), &[]);
        assert_eq!(
            rel(&e.inputs, &md),
            [".Junk/cur/1.host", ".Trash/cur/1.host", "cur/1.host"]
        );
        let outgoing: Vec<String> = e
            .passed
            .outgoing
            .iter()
            .map(|p| file_name(p).to_string())
            .collect();
        assert_eq!(outgoing, [".INBOX.Drafts", ".Sent"]);
        let e = expand(&[md.join(".Sent")], &[]);
        assert_eq!(e.inputs.len(), 1, "a named outgoing folder is read");
        assert!(is_outgoing_folder("Sent Items") && !is_outgoing_folder("Sentinel"));
    }

    #[test]
    fn excluded_entries_are_passed_over() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("spam")).unwrap();
        fs::write(d.path().join("spam/1"), "x").unwrap();
        fs::write(d.path().join("mail.log"), "x").unwrap();
        fs::write(d.path().join("alternatives.log"), "x").unwrap();
        let globs = [Glob::new("alt*"), Glob::new("*/spam")];
        let e = expand(&[d.path().to_path_buf()], &globs);
        assert_eq!(rel(&e.inputs, d.path()), ["mail.log"]);
        assert_eq!(e.passed.excluded.len(), 2);
    }

    #[test]
    fn symlinked_folders_are_entered_once_and_loops_named() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::write(root.join("a/b/mail.log"), "x").unwrap();
        symlink(root.join("a"), root.join("a/b/up")).unwrap();
        symlink(root.join("a/b"), root.join("a/b/self")).unwrap();
        symlink(root.join("a/b"), root.join("sibling")).unwrap();
        symlink(root.join("a/b/mail.log"), root.join("link.log")).unwrap();
        let e = expand(&[root.to_path_buf()], &[]);
        assert_eq!(rel(&e.inputs, root), ["a/b/mail.log"]);
        assert_eq!(e.passed.loops.len(), 2, "{:?}", e.passed.loops);
        assert_eq!(e.passed.again.len(), 2, "{:?}", e.passed.again);
        assert!(e.errors.is_empty());
    }

    #[test]
    fn special_files_are_counted_in_walks_and_errors_when_named() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        symlink("/dev/zero", d.path().join("zero")).unwrap();
        symlink(d.path().join("nowhere"), d.path().join("dangling")).unwrap();
        let e = expand(&[d.path().to_path_buf()], &[]);
        assert!(e.inputs.is_empty());
        assert!(e.errors.is_empty());
        let kinds: Vec<&str> = e.passed.special.iter().map(|(_, k)| *k).collect();
        assert_eq!(
            kinds,
            [
                "a symlink to nothing",
                "a FIFO (named pipe)",
                "a character device"
            ]
        );
        let e = expand(&[fifo, d.path().join("zero")], &[]);
        assert!(e.inputs.is_empty());
        let messages: Vec<String> = e.errors.iter().map(|e| e.error.to_string()).collect();
        assert!(messages[0].starts_with("is a FIFO"), "{messages:?}");
        assert!(
            messages[1].starts_with("is a character device"),
            "{messages:?}"
        );
    }
}
