//! Output locks, so that two overlapping runs (a slow nightly cron job and the next one, or
//! a hand-started run) cannot interleave their writes to the same reports — above all the
//! history, which is read, extended and renamed back. Each output file has a lock file
//! beside it, `.NAME.lock` in the same folder, locked with `flock` (std `File::try_lock`).
//! A run takes every lock before it reads any input and holds them until it exits; the
//! kernel releases them when the process ends, however it ends. A second run polls for up
//! to `--lock-wait` seconds and then fails with a message naming the lock. Lock files are
//! left in place: deleting one while another run waits on it would let a third run lock a
//! new file of the same name, and the two would overlap. Holding an output's lock, a run
//! removes the temporary files earlier runs killed mid-write left beside it.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::output::{is_renamed_into_place, remove_stale_temporaries, target_of};

/// How often a waiting run tries again.
const POLL: Duration = Duration::from_millis(50);

/// Why the outputs could not be locked.
#[derive(Debug)]
pub enum LockError {
    /// Another run held a lock for the whole wait; the command layer names the flag that
    /// sets the wait.
    Busy {
        output: PathBuf,
        lock: PathBuf,
        waited: Duration,
    },
    /// The lock file could not be made or locked, or stale temporaries not removed.
    Failed(String),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Busy {
                output,
                lock,
                waited,
            } => write!(
                f,
                "another repudiate run is writing {} (it holds {}); gave up after waiting {} s",
                output.display(),
                lock.display(),
                waited.as_secs_f64()
            ),
            LockError::Failed(message) => f.write_str(message),
        }
    }
}

/// Held locks; dropping this releases them.
#[derive(Debug)]
pub struct OutputLocks {
    _held: Vec<File>,
}

/// The lock file guarding writes to `output`.
pub fn lock_path(output: &Path) -> PathBuf {
    let target = target_of(output);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.lock"))
}

/// Locks every output (in one fixed order, so two runs never hold one lock each while
/// waiting for the other's). Outputs that are not renamed into place (`/dev/stdout`, a FIFO)
/// need no lock and get none.
pub fn lock_outputs(outputs: &[&Path], wait: Duration) -> Result<OutputLocks, LockError> {
    let mut locks: Vec<(PathBuf, &Path)> = outputs
        .iter()
        .filter(|p| is_renamed_into_place(p))
        .map(|p| (lock_path(p), *p))
        .collect();
    locks.sort();
    locks.dedup_by(|a, b| a.0 == b.0);
    let deadline = Instant::now() + wait;
    let mut held = Vec::with_capacity(locks.len());
    for (lock, output) in locks {
        held.push(lock_one(&lock, output, deadline, wait)?);
    }
    Ok(OutputLocks { _held: held })
}

fn lock_one(
    lock: &Path,
    output: &Path,
    deadline: Instant,
    wait: Duration,
) -> Result<File, LockError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock)
        .map_err(|e| {
            LockError::Failed(format!(
                "cannot write {}: cannot create its lock file {}: {e}",
                output.display(),
                lock.display()
            ))
        })?;
    loop {
        match file.try_lock() {
            Ok(()) => {
                // Only a run holding this lock writes this output: any temporary file of it
                // now present was left by a killed run.
                remove_stale_temporaries(output).map_err(|e| {
                    LockError::Failed(format!(
                        "cannot remove temporary files left beside {}: {e}",
                        output.display()
                    ))
                })?;
                return Ok(file);
            }
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => sleep(POLL),
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Busy {
                    output: output.to_path_buf(),
                    lock: lock.to_path_buf(),
                    waited: wait,
                });
            }
            Err(TryLockError::Error(e)) => {
                return Err(LockError::Failed(format!(
                    "cannot lock {}: {e}",
                    lock.display()
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_locker_waits_then_fails_naming_the_output() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("pairs.csv");
        let first = lock_outputs(&[&out], Duration::ZERO).unwrap();
        assert!(d.path().join(".pairs.csv.lock").is_file());
        let started = Instant::now();
        let err = lock_outputs(&[&out], Duration::from_millis(200)).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(200), "it waited");
        assert!(matches!(err, LockError::Busy { .. }), "{err}");
        assert!(err.to_string().contains("pairs.csv"), "{err}");
        drop(first);
        lock_outputs(&[&out], Duration::ZERO).expect("free once the first run ends");
    }

    #[test]
    fn a_waiting_locker_gets_the_lock_when_it_is_released() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("history.csv");
        let first = lock_outputs(&[&out], Duration::ZERO).unwrap();
        let releaser = std::thread::spawn(move || {
            sleep(Duration::from_millis(150));
            drop(first);
        });
        lock_outputs(&[&out], Duration::from_secs(10)).expect("got the lock after the release");
        releaser.join().unwrap();
    }

    #[test]
    fn devices_get_no_lock_and_unwritable_folders_are_errors() {
        lock_outputs(&[Path::new("/dev/null")], Duration::ZERO).unwrap();
        assert!(!Path::new("/dev/.null.lock").exists());
        let err = lock_outputs(&[Path::new("/nonexistent-dir/x.csv")], Duration::ZERO)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot write /nonexistent-dir/x.csv"), "{err}");
    }
}
