//! Running the built binary: the command, the fixture folders, and the output as text.
//! One definition for every test module that runs `repudiate`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A command for the binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_repudiate"))
}

/// Runs the binary with `args` and asserts it succeeded, naming its standard error if not.
pub fn run_ok(args: &[&str]) -> Output {
    let out = bin().args(args).output().expect("run repudiate");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The repository's `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The shipped demo: `fixtures/demo`.
pub fn demo() -> PathBuf {
    fixtures().join("demo")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `cmd` on a blocking thread, so a test's in-process DNS server (which needs the async
/// runtime's workers to answer) keeps serving it; with the wall time the run took.
pub async fn output_beside_server(mut cmd: Command) -> (Output, std::time::Duration) {
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let out = cmd.output().expect("run repudiate");
        (out, started.elapsed())
    })
    .await
    .unwrap()
}
