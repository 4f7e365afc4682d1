//! Output files are written to a temporary file beside the target and renamed into place,
//! so a killed run never leaves a half-written report (SPEC §6). Without a path the
//! output goes to standard output.

use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes through `write` into `path` atomically, or to standard output when `path` is None.
pub fn write_output(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    match path {
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            write(&mut out)?;
            out.flush()
        }
        Some(path) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let mut tmp = tempfile::Builder::new()
                .prefix(".repudiate-")
                .suffix(".tmp")
                .tempfile_in(dir)?;
            {
                let mut out = BufWriter::new(tmp.as_file_mut());
                write(&mut out)?;
                out.flush()?;
            }
            tmp.as_file().sync_all()?;
            tmp.persist(path).map_err(|e| e.error)?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_the_old_file_alone() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("out.csv");
        std::fs::write(&target, "old\n").unwrap();
        let r = write_output(Some(&target), |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("killed"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
        assert_eq!(
            std::fs::read_dir(d.path()).unwrap().count(),
            1,
            "temporary file removed"
        );
        write_output(Some(&target), |w| w.write_all(b"new\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new\n");
    }
}
