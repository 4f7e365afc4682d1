//! Directory walks and detection through the built binary (issues 13.3, 13.4, 13.5, 14.2):
//! trees made in temporary folders with symlink loops, FIFOs, devices, stray files, outgoing
//! maildir folders and copies. Every run has a deadline, so a walk that hangs (a FIFO
//! opened, `/dev/zero` read) fails the test instead of stalling it.

use crate::support::bin::bin;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `scan ARGS` and fails the test if it takes more than 20 seconds.
fn scan(args: &[&str], paths: &[&Path]) -> Output {
    let mut child = bin()
        .arg("scan")
        .args(args)
        .args(paths)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("scan {args:?} {paths:?} did not end within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One postfix message from `ip`, queue id and time from `n` (distinct per call).
fn log(n: u32, ip: &str) -> String {
    format!(
        "Jun  4 10:{:02}:00 mx postfix/smtpd[1]: Q{n:09X}: client=h[{ip}]\n\
         Jun  4 10:{:02}:01 mx postfix/qmgr[2]: Q{n:09X}: from=<a@d{n}.example>, size=1, nrcpt=1 (queue active)\n\
         Jun  4 10:{:02}:02 mx postfix/qmgr[2]: Q{n:09X}: removed\n",
        n % 60,
        n % 60,
        n % 60
    )
}

fn message(ip: &str, id: u32) -> String {
    format!(
        "Return-Path: <a@m.example>\nReceived: from h (h [{ip}]) by mx with ESMTP id {id}; \
         Tue, 4 Jun 2024 10:00:00 +0000\nSubject: x\n\nbody\n"
    )
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Pair rows of a scan's CSV, header dropped.
fn rows(out: &Output) -> Vec<String> {
    text(&out.stdout)
        .lines()
        .skip(1)
        .map(String::from)
        .collect()
}

#[test]
fn stray_files_in_a_walk_are_counted_and_named_with_v_but_named_ones_fail() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    fs::write(root.join("mail.log"), log(1, "192.0.2.1")).unwrap();
    fs::write(
        root.join("README"),
        "Notes about this folder.\nNothing else.\n",
    )
    .unwrap();
    fs::write(root.join("cmds"), "\x00\x01binary").unwrap();
    fs::write(
        root.join("alternatives.log"),
        "update-alternatives 2024-06-04 10:00:00: run with --install x\n",
    )
    .unwrap();
    let out = scan(&[], &[root]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(rows(&out), ["d1.example,192.0.2.1,1"]);
    let err = text(&out.stderr);
    assert!(
        err.contains("not mail: 3 files in walked folders skipped (-v names them)"),
        "{err}"
    );
    assert!(!err.contains("README"), "{err}");
    let out = scan(&["-v"], &[root]);
    let err = text(&out.stderr);
    for name in ["README", "cmds", "alternatives.log"] {
        assert!(
            err.contains(&format!("{}", root.join(name).display())),
            "{name}: {err}"
        );
    }
    // Named on the command line, a file in no format stays an error (exit 2).
    let out = scan(&[], &[&root.join("mail.log"), &root.join("README")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("README: unrecognised format"));
    // --exclude leaves them out before they are looked at.
    let out = scan(
        &[
            "--exclude",
            "README",
            "--exclude",
            "*.log",
            "--exclude",
            "cmd?",
        ],
        &[root],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(rows(&out).is_empty(), "mail.log is excluded too");
    assert!(
        text(&out.stderr).contains("excluded: 4 files"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn input_with_nothing_recognised_is_a_warning_or_under_strict_an_error() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("syslog");
    fs::write(&f, "Jun  4 10:00:00 mx kernel: no mail in this log\n").unwrap();
    let out = scan(&["-q"], &[&f]);
    assert_eq!(out.status.code(), Some(0));
    assert!(rows(&out).is_empty(), "never a ,,1 row");
    let err = text(&out.stderr);
    assert!(
        err.contains("warning:") && err.contains("nothing recognised"),
        "{err}"
    );
    let out = scan(&["-q", "--strict"], &[&f]);
    assert_eq!(out.status.code(), Some(1), "the only input failed");
    assert!(text(&out.stderr).contains("nothing recognised"));
    // The journal as JSON with no mail in it: a warning too, never one stored message.
    let j = d.path().join("journal.json");
    fs::write(
        &j,
        "{\"__REALTIME_TIMESTAMP\":\"1717495200000000\",\"_HOSTNAME\":\"mx\",\"SYSLOG_IDENTIFIER\":\"kernel\",\"MESSAGE\":\"x\"}\n",
    )
    .unwrap();
    let out = scan(&["-q"], &[&j]);
    assert_eq!(out.status.code(), Some(0));
    assert!(rows(&out).is_empty());
    assert!(text(&out.stderr).contains("nothing recognised"));
}

#[test]
fn symlink_loops_and_siblings_are_followed_once() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("logs");
    fs::create_dir_all(root.join("a/b")).unwrap();
    fs::create_dir_all(root.join("c")).unwrap();
    fs::write(root.join("a/b/mail.log"), log(1, "192.0.2.1")).unwrap();
    fs::write(root.join("c/mail.log"), log(2, "192.0.2.2")).unwrap();
    // One loop to an ancestor, a second loop crossing it (2^n paths if followed naively),
    // a link to a sibling folder and a link to a file already read.
    symlink(&root, root.join("a/b/top")).unwrap();
    symlink(root.join("a"), root.join("c/to-a")).unwrap();
    symlink(root.join("c"), root.join("a/to-c")).unwrap();
    symlink(root.join("a/b"), root.join("sibling")).unwrap();
    symlink(root.join("c/mail.log"), root.join("again.log")).unwrap();
    let out = scan(&[], &[&root]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        rows(&out),
        ["d1.example,192.0.2.1,1", "d2.example,192.0.2.2,1"],
        "each message once"
    );
    let err = text(&out.stderr);
    assert!(err.contains("symlink loop:"), "{err}");
    assert!(
        err.contains(&format!("{}", root.join("a/b/top").display())),
        "{err}"
    );
    assert!(err.contains("reached twice"), "{err}");
}

#[test]
fn fifos_and_devices_in_a_walk_are_never_opened() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    fs::write(root.join("mail.log"), log(1, "192.0.2.1")).unwrap();
    mkfifo(&root.join("pipe"));
    symlink("/dev/zero", root.join("zero")).unwrap();
    let out = scan(&["-v"], &[root]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(rows(&out), ["d1.example,192.0.2.1,1"]);
    let err = text(&out.stderr);
    assert!(err.contains("not regular files: 2 files"), "{err}");
    assert!(err.contains("pipe: a FIFO"), "{err}");
    assert!(err.contains("zero: a character device"), "{err}");
    // Named, each is an error that says what it is; the other input is still read.
    let out = scan(
        &[],
        &[
            &root.join("pipe"),
            &root.join("zero"),
            &root.join("mail.log"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("pipe: is a FIFO"), "{err}");
    assert!(err.contains("zero: is a character device"), "{err}");
    assert_eq!(rows(&out), ["d1.example,192.0.2.1,1"]);
}

#[test]
fn outgoing_maildir_folders_are_skipped_and_said() {
    let d = tempfile::tempdir().unwrap();
    let md = d.path().join("Maildir");
    for (folder, ip) in [
        ("cur", "192.0.2.1"),
        (".Sent/cur", "192.0.2.9"),
        (".Drafts/new", "192.0.2.8"),
    ] {
        fs::create_dir_all(md.join(folder)).unwrap();
        fs::write(md.join(folder).join("1.mx:2,S"), message(ip, 1)).unwrap();
    }
    let out = scan(&[], &[&md]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(rows(&out), ["m.example,192.0.2.1,1"]);
    let err = text(&out.stderr);
    assert!(err.contains("outgoing mail folders not read"), "{err}");
    assert!(err.contains(".Sent") && err.contains(".Drafts"), "{err}");
    let sent: PathBuf = md.join(".Sent");
    let out = scan(&[], &[&sent]);
    assert_eq!(rows(&out), ["m.example,192.0.2.9,1"], "named, it is read");
}

#[test]
fn the_same_mail_in_two_files_counts_once() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let both = format!("{}{}", log(1, "192.0.2.1"), log(2, "192.0.2.2"));
    fs::write(root.join("mail.log"), &both).unwrap();
    fs::write(root.join("mail.info"), &both).unwrap();
    // syslog holds the same records among other lines, and one more message.
    let syslog = format!(
        "Jun  4 09:59:00 mx kernel: hello\n{both}{}",
        log(3, "192.0.2.3")
    );
    fs::write(root.join("syslog"), syslog).unwrap();
    let msg = message("192.0.2.4", 7);
    fs::write(root.join("saved.eml"), &msg).unwrap();
    fs::write(root.join("saved-copy.eml"), &msg).unwrap();
    let out = scan(&[], &[root]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        rows(&out),
        [
            "d1.example,192.0.2.1,1",
            "d2.example,192.0.2.2,1",
            "d3.example,192.0.2.3,1",
            "m.example,192.0.2.4,1"
        ]
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("mail.log is a byte-identical copy of"),
        "{err}"
    );
    assert!(
        err.contains("saved.eml is a byte-identical copy of"),
        "{err}"
    );
    assert!(
        err.contains("2 log records found in more than one file"),
        "{err}"
    );
}

/// A walked folder in which nothing is mail is exit 1 with a hint, not a clean empty report.
#[test]
fn a_folder_with_nothing_but_non_mail_is_exit_1() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("README"), "Notes about this folder.\n").unwrap();
    fs::write(d.path().join("case.json"), "{\"message\": \"x\"}\n").unwrap();
    let out = scan(&["-q"], &[d.path()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no input could be read: the 2 files in the walked folders are not mail"),
        "{err}"
    );
    // An empty folder (a quiet night's maildir) stays a clean run.
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(scan(&["-q"], &[empty.path()]).status.code(), Some(0));
}

/// A byte-identical copy of a file that is not mail is counted as not mail, not said to be
/// "read once".
#[test]
fn a_copy_of_a_non_mail_file_is_not_mail_too() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("mail.log"), log(1, "192.0.2.1")).unwrap();
    fs::write(d.path().join("a-case.json"), "{\"message\": \"x\"}\n").unwrap();
    fs::write(d.path().join("b-case.json"), "{\"message\": \"x\"}\n").unwrap();
    let out = scan(&[], &[d.path()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("not mail: 2 files in walked folders skipped"),
        "{err}"
    );
    assert!(!err.contains("byte-identical"), "{err}");
}
