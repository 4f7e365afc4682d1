//! Output files are written to a temporary file beside the target and renamed into place,
//! so a killed run never leaves a half-written report (docs/design.md §6). Two exceptions keep the
//! rename from doing harm: a target that is not a regular file (`/dev/null`, `/dev/stdout`,
//! a FIFO) is written directly — renaming over it would replace the device with a file — and
//! a symlink is followed, so the file it points to is replaced, not the link. Without a path
//! the output goes to standard output.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// An output path of `-`: standard output, as a mail administrator's tools spell it.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Writes through `write` into `path` atomically, or to standard output when `path` is None
/// or `-`.
pub fn write_output(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let Some(path) = path.filter(|p| !is_stdout(p)) else {
        let stdout = io::stdout();
        if stdout_was_closed() {
            return Err(io::Error::other(
                "standard output is closed; the report would be lost (give -o FILE, or \
                 -o /dev/null to discard it)",
            ));
        }
        let mut out = BufWriter::new(stdout.lock());
        write(&mut out)?;
        return out.flush();
    };
    match fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            let mut out = BufWriter::new(fs::OpenOptions::new().write(true).open(path)?);
            write(&mut out)?;
            out.flush()
        }
        _ => write_atomically(&resolve_links(path), write),
    }
}

/// Whether the process started with standard output closed. Rust reopens a closed standard
/// descriptor on `/dev/null` before `main`, read-write, so writes "succeed" and the report
/// is lost with exit 0; a shell's `>/dev/null` opens it write-only. So `/dev/null` opened
/// read-write on descriptor 1 is taken for a closed standard output (Linux `/proc`).
pub fn stdout_was_closed() -> bool {
    let on_null = fs::read_link("/proc/self/fd/1").is_ok_and(|t| t == Path::new("/dev/null"));
    on_null
        && fs::read_to_string("/proc/self/fdinfo/1").is_ok_and(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
                .is_some_and(|flags| flags & 0o3 == 0o2) // O_ACCMODE == O_RDWR
        })
}

/// Whether `path` is written through a temporary file and a rename: a regular file, a
/// symlink to one, or nothing yet. Devices, FIFOs and the like are written into directly.
pub fn is_renamed_into_place(path: &Path) -> bool {
    !matches!(fs::metadata(path), Ok(m) if !m.is_file())
}

/// The file a write to `path` replaces, spelled so that two spellings of one file compare
/// equal: symlinks followed, the folder made absolute (the file itself may not exist yet).
pub fn target_of(path: &Path) -> PathBuf {
    let target = resolve_links(path);
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match (fs::canonicalize(&dir), target.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => target,
    }
}

/// Whether two output paths end up in the same file.
pub fn same_target(a: &Path, b: &Path) -> bool {
    target_of(a) == target_of(b)
}

/// The final target of a chain of symlinks (the path itself when it is none or missing).
fn resolve_links(path: &Path) -> PathBuf {
    let mut target = path.to_path_buf();
    for _ in 0..40 {
        match fs::read_link(&target) {
            Ok(next) => {
                target = match target.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                }
            }
            Err(_) => break,
        }
    }
    target
}

const TMP_SUFFIX: &str = ".tmp";
/// Random characters in a temporary file's name.
const TMP_RANDOM: usize = 6;
/// Bytes of the target's name kept in its temporary files' names, so they stay within
/// NAME_MAX (255) whatever the target is called.
const TMP_NAME_BYTES: usize = 160;

/// `.repudiate-NAME.` for target `path`: a temporary file names the output it will become,
/// so a run holding that output's lock knows every such file is a leftover of a killed run
/// (no other run may write that output meanwhile).
fn temporary_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut end = name.len().min(TMP_NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!(".repudiate-{}.", &name[..end])
}

/// Removes the temporary files a killed run left beside `output` (they carry its name); call
/// it only while holding the output's lock. Returns how many were removed.
pub fn remove_stale_temporaries(output: &Path) -> io::Result<usize> {
    let target = resolve_links(output);
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = temporary_prefix(&target);
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let random = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(TMP_SUFFIX));
        let ours = random
            .is_some_and(|r| r.len() == TMP_RANDOM && r.bytes().all(|b| b.is_ascii_alphanumeric()));
        if ours && entry.file_type()?.is_file() {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = write_temporary(path, write)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes through `write` into a temporary file beside `path`, synced, not yet renamed.
fn write_temporary(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // A replaced file keeps its mode; a new one gets what a shell redirection would give
    // (0666 less the umask), not the temporary file's private 0600, so a web server or a
    // colleague can still read the nightly report.
    let mode = match fs::metadata(path) {
        Ok(m) => m.permissions().mode() & 0o7777,
        Err(_) => 0o666,
    };
    let prefix = temporary_prefix(path);
    let tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(TMP_SUFFIX)
        .rand_bytes(TMP_RANDOM)
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)?;
    {
        // Large: the CSV writer hands over 8 kB at a time, and an audit's pairs file is
        // megabytes (a thousand write calls at the default size, a few dozen at this one).
        let mut out = BufWriter::with_capacity(1 << 18, EarlyWriteback::new(tmp.as_file()));
        write(&mut out)?;
        out.flush()?;
    }
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// A file whose written bytes are handed to the disk as they accumulate (Linux's
/// `sync_file_range`, which starts the writing and does not wait for it), so the `fsync`
/// that ends the output waits for its last few megabytes only, not for all of them: a
/// merge's 30 MB output waited some 20 ms there.
struct EarlyWriteback<'f> {
    file: &'f fs::File,
    written: u64,
    started: u64,
}

/// Bytes written before their writing is started.
const WRITEBACK_STEP: u64 = 4 << 20;

impl<'f> EarlyWriteback<'f> {
    fn new(file: &'f fs::File) -> Self {
        EarlyWriteback {
            file,
            written: 0,
            started: 0,
        }
    }

    #[cfg(target_os = "linux")]
    fn start_writeback(&mut self) {
        use std::os::fd::AsRawFd;
        let (from, len) = (self.started, self.written - self.started);
        // SAFETY: a plain system call on a file descriptor this struct borrows; it only
        // starts writing pages already written, and its failure (an old kernel, a file
        // system without it) leaves the work to the final fsync.
        unsafe {
            libc::sync_file_range(
                self.file.as_raw_fd(),
                from as libc::off64_t,
                len as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
        self.started = self.written;
    }

    #[cfg(not(target_os = "linux"))]
    fn start_writeback(&mut self) {}
}

impl Write for EarlyWriteback<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = (&*self.file).write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= WRITEBACK_STEP {
            self.start_writeback();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&*self.file).flush()
    }
}

/// An output written in full but not yet in place, so that several outputs that must agree
/// (the monitoring files, which say the run's exit status) are all written before any is
/// published: a temporary file beside its target, or, for a target that is not renamed over
/// (standard output, a device, a FIFO), the bytes in memory. Dropped unpublished, it leaves
/// nothing behind. Meant for small outputs: the in-memory case holds the whole text.
pub struct Staged(Stage);

enum Stage {
    Renamed {
        tmp: tempfile::NamedTempFile,
        path: PathBuf,
    },
    Direct {
        path: Option<PathBuf>,
        bytes: Vec<u8>,
    },
}

/// Writes through `write` what [`write_output`] would write to `path`, without putting it in
/// place yet ([`Staged::publish`]).
pub fn stage_output(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<Staged> {
    match path.filter(|p| !is_stdout(p)) {
        Some(path) if is_renamed_into_place(path) => {
            let path = resolve_links(path);
            let tmp = write_temporary(&path, write)?;
            Ok(Staged(Stage::Renamed { tmp, path }))
        }
        _ => {
            let mut bytes = Vec::new();
            write(&mut bytes)?;
            Ok(Staged(Stage::Direct {
                path: path.filter(|p| !is_stdout(p)).map(Path::to_path_buf),
                bytes,
            }))
        }
    }
}

impl Staged {
    /// Whether publishing writes the bytes (standard output, a device, a FIFO): such a write
    /// can fail where a rename in the target's own folder hardly can, so a caller publishing
    /// several outputs that must agree publishes these first.
    pub fn is_written_on_publish(&self) -> bool {
        matches!(self.0, Stage::Direct { .. })
    }

    /// Puts the output in place: renames the temporary file over the target, or writes the
    /// bytes to standard output or the device.
    pub fn publish(self) -> io::Result<()> {
        match self.0 {
            Stage::Renamed { tmp, path } => tmp.persist(path).map(|_| ()).map_err(|e| e.error),
            Stage::Direct { path, bytes } => write_output(path.as_deref(), |w| w.write_all(&bytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_output_appears_only_when_published() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("out.json");
        fs::write(&target, "old\n").unwrap();
        let staged = stage_output(Some(&target), |w| w.write_all(b"new\n")).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "old\n");
        staged.publish().unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new\n");
        // Dropped unpublished: the old file stays, and no temporary file is left.
        drop(stage_output(Some(&target), |w| w.write_all(b"newer\n")).unwrap());
        assert_eq!(fs::read_to_string(&target).unwrap(), "new\n");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn failed_write_leaves_the_old_file_alone() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("out.csv");
        fs::write(&target, "old\n").unwrap();
        let r = write_output(Some(&target), |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("killed"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read_to_string(&target).unwrap(), "old\n");
        assert_eq!(
            fs::read_dir(d.path()).unwrap().count(),
            1,
            "temporary file removed"
        );
        write_output(Some(&target), |w| w.write_all(b"new\n")).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new\n");
    }

    #[test]
    fn leftovers_of_a_killed_run_are_removed_and_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("pairs.csv");
        // What a run killed while writing looks like: its temporary file, never renamed.
        let tmp = tempfile::Builder::new()
            .prefix(&temporary_prefix(&target))
            .suffix(TMP_SUFFIX)
            .rand_bytes(TMP_RANDOM)
            .tempfile_in(d.path())
            .unwrap();
        let (_, left) = tmp.keep().unwrap();
        let keep = [
            ".repudiate-history.csv.abc123.tmp", // another output's
            ".repudiate-pairs.csv.abc123.tmp.bak",
            ".repudiate-pairs.csv.x.tmp",
            "pairs.csv.abc123.tmp",
        ];
        for name in keep {
            fs::write(d.path().join(name), "x").unwrap();
        }
        assert_eq!(remove_stale_temporaries(&target).unwrap(), 1);
        assert!(!left.exists());
        for name in keep {
            assert!(d.path().join(name).exists(), "{name} kept");
        }
        // A write leaves none behind, and its own temporary file has the name cleaned up.
        write_output(Some(&target), |w| w.write_all(b"x\n")).unwrap();
        assert_eq!(remove_stale_temporaries(&target).unwrap(), 0);
        let long = d.path().join("é".repeat(120));
        write_output(Some(&long), |w| w.write_all(b"x\n")).unwrap();
        assert_eq!(fs::read_to_string(&long).unwrap(), "x\n");
    }

    #[test]
    fn new_files_follow_the_umask_and_replaced_files_keep_their_mode() {
        let d = tempfile::tempdir().unwrap();
        let fresh = d.path().join("fresh.csv");
        write_output(Some(&fresh), |w| w.write_all(b"x\n")).unwrap();
        let mode = fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        let umask = umask_of_this_process();
        assert_eq!(mode, 0o666 & !umask, "umask {umask:o}");
        let kept = d.path().join("kept.csv");
        fs::write(&kept, "old\n").unwrap();
        fs::set_permissions(&kept, fs::Permissions::from_mode(0o640)).unwrap();
        write_output(Some(&kept), |w| w.write_all(b"new\n")).unwrap();
        assert_eq!(
            fs::metadata(&kept).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    /// The umask, read from /proc (Linux 4.7+) so the test does not change it.
    fn umask_of_this_process() -> u32 {
        let status = fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
        u32::from_str_radix(line["Umask:".len()..].trim(), 8).unwrap()
    }

    #[test]
    fn two_spellings_of_one_file_are_the_same_target() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("out.csv");
        let b = d.path().join(".").join("out.csv");
        assert!(same_target(&a, &b), "missing file, two spellings");
        let link = d.path().join("link.csv");
        std::os::unix::fs::symlink("out.csv", &link).unwrap();
        assert!(same_target(&a, &link), "a link and its target");
        assert!(!same_target(&a, &d.path().join("other.csv")));
    }

    #[test]
    fn a_symlink_is_followed_not_replaced() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("reports");
        fs::create_dir(&real).unwrap();
        fs::write(real.join("pairs.csv"), "old\n").unwrap();
        let link = d.path().join("pairs.csv");
        std::os::unix::fs::symlink("reports/pairs.csv", &link).unwrap();
        write_output(Some(&link), |w| w.write_all(b"new\n")).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(real.join("pairs.csv")).unwrap(), "new\n");
    }

    #[test]
    fn a_fifo_is_written_into_not_renamed_over() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo (coreutils) is needed for this test");
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
        };
        write_output(Some(&fifo), |w| w.write_all(b"through the pipe\n")).unwrap();
        assert_eq!(reader.join().unwrap(), "through the pipe\n");
        use std::os::unix::fs::FileTypeExt;
        assert!(
            fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(),
            "still a FIFO"
        );
    }
}
