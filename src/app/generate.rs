//! `generate`: the man pages and shell completions, made from the same flag definitions as
//! `--help`, so an installed page never disagrees with the binary.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Fatal, RunStatus, output_error};
use crate::cli::{Cli, CompletionShell, GenerateArgs};
use crate::fileio::output::write_output;

pub(super) fn run(what: &GenerateArgs) -> Result<RunStatus, Fatal> {
    match what {
        GenerateArgs::Man { dir: None } => {
            write_output(None, |w| render_man(&Cli::command(), w))
                .map_err(|e| output_error(None, e))?;
        }
        GenerateArgs::Man { dir: Some(dir) } => write_man_pages(dir)?,
        GenerateArgs::Complete { shell } => {
            let shell = match shell {
                CompletionShell::Bash => Shell::Bash,
                CompletionShell::Zsh => Shell::Zsh,
                CompletionShell::Fish => Shell::Fish,
            };
            write_output(None, |w| {
                clap_complete::generate(shell, &mut Cli::command(), "repudiate", w);
                Ok(())
            })
            .map_err(|e| output_error(None, e))?;
        }
    }
    Ok(RunStatus::Clean)
}

fn render_man(cmd: &clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    clap_mangen::Man::new(cmd.clone()).render(out)
}

/// `repudiate.1` and `repudiate-COMMAND.1` for every command but `generate` itself. The
/// folder is made if missing (`generate man target/man` on a fresh checkout), as `install -D`
/// would: refusing it only sent the user to mkdir after an error about a temporary file.
fn write_man_pages(dir: &Path) -> Result<(), Fatal> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Fatal(format!("cannot make the folder {}: {e}", dir.display())))?;
    let cli = Cli::command().name("repudiate");
    let mut pages = vec![("repudiate.1".to_string(), cli.clone())];
    for sub in cli.get_subcommands().filter(|s| s.get_name() != "generate") {
        let name = format!("repudiate-{}", sub.get_name());
        pages.push((format!("{name}.1"), sub.clone().name(name)));
    }
    for (file, cmd) in pages {
        let path = dir.join(file);
        write_output(Some(&path), |w| render_man(&cmd, w))
            .map_err(|e| output_error(Some(&path), e))?;
    }
    Ok(())
}
