//! `repudiate generate`: man pages and completions come from the flag definitions, so every
//! flag of every command is in them; the bash script is valid bash. (zsh and fish scripts
//! are parsed by their shells in `scripts/package-deb.sh`, which installs them.)

use crate::support::bin::bin;

use std::process::Command;

use clap::CommandFactory;
use repudiate::cli::Cli;

fn repudiate(args: &[&str]) -> std::process::Output {
    bin().args(args).output().expect("run repudiate")
}

fn stdout_of(args: &[&str]) -> String {
    let out = repudiate(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every long flag of `command`, as roff writes it (`\-\-flag`).
fn long_flags(command: &str) -> Vec<String> {
    let cli = Cli::command();
    let sub = cli.find_subcommand(command).unwrap();
    sub.get_arguments()
        .filter_map(|a| a.get_long())
        .map(|l| format!("\\-\\-{}", l.replace('-', "\\-")))
        .collect()
}

#[test]
fn man_pages_hold_every_command_and_flag() {
    let top = stdout_of(&["generate", "man"]);
    assert!(
        top.contains(".TH repudiate 1"),
        "{}",
        &top[..200.min(top.len())]
    );
    for sub in ["audit", "scan", "check"] {
        assert!(top.contains(sub), "the main page lists {sub}");
    }
    let dir = tempfile::tempdir().unwrap();
    stdout_of(&["generate", "man", dir.path().to_str().unwrap()]);
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .filter(|n| n != "generate")
        .map(|n| format!("repudiate-{n}.1"))
        .collect();
    expected.push("repudiate.1".into());
    expected.sort();
    assert_eq!(files, expected);
    for sub in ["audit", "scan", "check"] {
        let page = std::fs::read_to_string(dir.path().join(format!("repudiate-{sub}.1"))).unwrap();
        assert!(page.contains(&format!(".TH repudiate-{sub} 1")));
        for flag in long_flags(sub) {
            assert!(page.contains(&flag), "repudiate-{sub}.1 lacks {flag}");
        }
    }
}

#[test]
fn completions_name_the_commands_and_bash_parses_its_script() {
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["generate", "complete", shell]);
        for word in ["audit", "scan", "check", "max-lookups", "perimeter"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("repudiate.bash");
    std::fs::write(&file, stdout_of(&["generate", "complete", "bash"])).unwrap();
    let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Sourced, it registers the completion function for the command.
    let sourced = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p repudiate",
            file.display()
        ))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&sourced.stdout).contains("repudiate"),
        "{}",
        String::from_utf8_lossy(&sourced.stderr)
    );
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = repudiate(&["generate", "complete", "tcsh"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tcsh"));
}

/// A man folder that does not exist yet is made, as `install -D` would.
#[test]
fn man_pages_go_into_a_folder_made_for_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("share/man/man1");
    stdout_of(&["generate", "man", dir.to_str().unwrap()]);
    assert!(dir.join("repudiate-audit.1").is_file());
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let out = repudiate(&["generate", "man", file.join("man1").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot make the folder"), "{err}");
}
