//! The checks that keep a flag from destroying a file it does not own (docs/design.md §6), made before
//! a run reads any input, so a refused output costs nothing:
//! - an existing file is replaced only when it is empty or already holds what the flag
//!   writes (each format says how it recognises itself: [`Kind::is_ours`]); a cache file
//!   that is not a cache, or notes given as `--history`, are refused, never replaced;
//! - a symlink is written through only when every link on the way is owned by the running
//!   user or by root: the rename replaces the link's target, and a link someone else planted
//!   (in `/tmp`, say) must not steer root's writes — the kernel's `protected_symlinks` rule,
//!   which a rename does not apply by itself;
//! - a file that must be read back (`--cache`) must be a regular file: a FIFO would block
//!   the run and `/dev/zero` would be read forever.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// What an output flag writes, for recognising a file it may replace.
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    /// What it writes, for messages: `a repudiate DNS cache`.
    pub what: &'static str,
    /// Whether the first bytes of an existing file (up to [`PREFIX`]) are of this kind.
    pub is_ours: fn(&[u8]) -> bool,
    /// Only a regular file (or nothing yet) will do: the flag's file is read back.
    pub regular_only: bool,
}

/// How much of an existing file is read to recognise it.
pub const PREFIX: usize = 4096;

/// Whether `path` may be written as `kind` (see the module doc); the error says why not,
/// naming the file (the command layer adds the flag).
pub fn check_output(path: &Path, kind: &Kind) -> Result<(), String> {
    let refuse = |why: String| format!("{}: {why}", path.display());
    check_links(path, effective_uid()).map_err(refuse)?;
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        // Unreadable metadata (a folder without permission): the write will say why.
        Err(_) => return Ok(()),
    };
    if !meta.is_file() {
        if kind.regular_only || meta.is_dir() {
            return Err(refuse(format!(
                "is {}, not a regular file; refusing to use it",
                file_type_name(&meta)
            )));
        }
        return Ok(()); // /dev/null, /dev/stdout, a FIFO: written into, never replaced
    }
    let prefix = read_prefix(path).map_err(|e| refuse(format!("cannot read it: {e}")))?;
    if prefix.is_empty() || (kind.is_ours)(&prefix) {
        return Ok(());
    }
    let first_line = prefix.split(|&b| b == b'\n').next().unwrap_or_default();
    let first_line = String::from_utf8_lossy(&first_line[..first_line.len().min(60)]);
    Err(refuse(format!(
        "the file exists and is not {} (it begins {:?}); refusing to replace it",
        kind.what, first_line
    )))
}

/// Follows the symlinks at `path` and fails at the first one owned by neither `uid` nor
/// root (`uid` is `None` when unknown: then only root's links are followed).
pub fn check_links(path: &Path, uid: Option<u32>) -> Result<(), String> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        let Ok(meta) = fs::symlink_metadata(&current) else {
            return Ok(());
        };
        if !meta.file_type().is_symlink() {
            return Ok(());
        }
        if !link_trusted(meta.uid(), uid) {
            return Err(format!(
                "{} is a symlink owned by uid {}, neither you nor root; refusing to write \
                 through it (write to its target directly if that is meant)",
                current.display(),
                meta.uid()
            ));
        }
        let next = fs::read_link(&current).map_err(|e| e.to_string())?;
        current = match current.parent() {
            Some(dir) if next.is_relative() => dir.join(next),
            _ => next,
        };
    }
    Err("too many levels of symlinks".to_owned())
}

/// A link is followed when root or the running user owns it.
fn link_trusted(owner: u32, running: Option<u32>) -> bool {
    owner == 0 || Some(owner) == running
}

/// The effective user ID of this process, from `/proc/self/status` (Linux).
pub fn effective_uid() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

fn read_prefix(path: &Path) -> io::Result<Vec<u8>> {
    let mut prefix = Vec::with_capacity(PREFIX);
    fs::File::open(path)?
        .take(PREFIX as u64)
        .read_to_end(&mut prefix)?;
    Ok(prefix)
}

fn file_type_name(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts_with_magic(b: &[u8]) -> bool {
        b.starts_with(b"magic ")
    }

    const CACHE: Kind = Kind {
        what: "a test cache",
        is_ours: starts_with_magic,
        regular_only: true,
    };
    const REPORT: Kind = Kind {
        regular_only: false,
        ..CACHE
    };

    #[test]
    fn only_missing_empty_or_own_files_may_be_replaced() {
        let d = tempfile::tempdir().unwrap();
        let p = |n: &str| d.path().join(n);
        assert_eq!(check_output(&p("new"), &CACHE), Ok(()));
        fs::write(p("empty"), "").unwrap();
        assert_eq!(check_output(&p("empty"), &CACHE), Ok(()));
        fs::write(p("ours"), "magic 1\nrest").unwrap();
        assert_eq!(check_output(&p("ours"), &CACHE), Ok(()));
        fs::write(p("notes.txt"), "my notes\nkeep them\n").unwrap();
        let err = check_output(&p("notes.txt"), &CACHE).unwrap_err();
        assert!(
            !err.starts_with("--")
                && err.contains("notes.txt: the file exists and is not a test cache")
                && err.contains("\"my notes\""),
            "{err}"
        );
        assert_eq!(
            fs::read_to_string(p("notes.txt")).unwrap(),
            "my notes\nkeep them\n"
        );
    }

    #[test]
    fn devices_and_fifos_are_refused_where_the_file_is_read_back() {
        let err = check_output(Path::new("/dev/zero"), &CACHE).unwrap_err();
        assert!(err.contains("is a character device"), "{err}");
        assert_eq!(check_output(Path::new("/dev/null"), &REPORT), Ok(()));
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo (coreutils) is needed for this test");
        // Checked without opening it: opening a FIFO with no writer would block here.
        let err = check_output(&fifo, &CACHE).unwrap_err();
        assert!(err.contains("is a FIFO"), "{err}");
        let err = check_output(d.path(), &REPORT).unwrap_err();
        assert!(err.contains("is a directory"), "{err}");
    }

    #[test]
    fn links_are_followed_only_when_the_user_or_root_owns_them() {
        assert!(link_trusted(0, Some(1000)), "root's link");
        assert!(link_trusted(1000, Some(1000)), "one's own link");
        assert!(!link_trusted(1001, Some(1000)), "another user's link");
        assert!(
            !link_trusted(1001, Some(0)),
            "root does not follow a user's link"
        );
        assert!(!link_trusted(1000, None), "unknown user: root's links only");
        let d = tempfile::tempdir().unwrap();
        let link = d.path().join("link.csv");
        std::os::unix::fs::symlink("target.csv", &link).unwrap();
        assert_eq!(check_links(&link, effective_uid()), Ok(()), "our own link");
        let uid = fs::symlink_metadata(&link).unwrap().uid();
        assert_eq!(Some(uid), effective_uid());
        // Someone else's link: as root, a link given away to `nobody`; as a user, the link
        // seen by another user.
        let (owner, reader) = if uid == 0 {
            std::os::unix::fs::lchown(&link, Some(65534), None).unwrap();
            (65534, Some(0))
        } else {
            (uid, Some(uid + 1))
        };
        let err = check_links(&link, reader).unwrap_err();
        assert!(
            err.contains(&format!("is a symlink owned by uid {owner},")),
            "{err}"
        );
    }
}
