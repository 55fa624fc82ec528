//! `medida`: run a two-layer QG model (`simulate`), discover the error of an imperfect model from
//! analysis increments (`increments`, `discover`, `demo`), and find which terms explain any data
//! (`fit`). Thin: each subcommand parses its flags, calls `medida-workflow` and prints.

mod closure;
mod demo;
mod discover;
mod fit;
mod increments;
mod plot;
mod progress;
mod ranks;
mod simulate;

use clap::{CommandFactory, Parser, Subcommand};
use medida_workflow::RunConfig;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc, not glibc's malloc: a step frees and allocates its temporaries again, and glibc
/// hands the freed top of a thread's heap back to the kernel each time (`madvise`), which made a
/// 64 x 64 step with a closure spend as much time in the kernel as in the arithmetic.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "medida", version, about = "Two-layer QG models, model-error discovery and closures", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Simulate(simulate::Simulate),
    Demo(demo::Demo),
    Increments(increments::Increments),
    Discover(discover::Discover),
    Fit(fit::Fit),
    Plot(plot::Plot),
    #[command(subcommand)]
    Closure(closure::Closure),
    /// Inspect configurations.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print a shell completion script, e.g. `medida completions bash >
    /// ~/.local/share/bash-completion/completions/medida` (zsh: into a directory of `$fpath`
    /// as `_medida`; fish: `~/.config/fish/completions/medida.fish`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the complete resolved config as TOML, ready to edit and pass to --config.
    Show {
        /// Preset to start from (default pyqg-eddy).
        #[arg(long)]
        preset: Option<String>,
        /// Config file to start from (only what changes, with --preset: layered on it).
        #[arg(long)]
        config: Option<PathBuf>,
        /// A model-error case: the truth with some coefficients changed (case1001 ... case1009).
        #[arg(long, value_name = "CASE")]
        model_error: Option<String>,
        /// Override a setting (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
}

/// Writes `text` to stdout; a closed pipe or a full disk is an error, never a panic.
fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| anyhow::Error::new(e).context("writing to standard output"))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Simulate(a) => simulate::run(a),
        Command::Fit(a) => fit::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Plot(a) => plot::run(a),
        Command::Closure(c) => closure::run(c),
        Command::Increments(a) => increments::run(a),
        Command::Discover(a) => discover::run(a),
        Command::Config {
            command:
                ConfigCommand::Show {
                    preset,
                    config,
                    model_error,
                    set,
                },
        } => {
            let cfg = RunConfig::resolve(
                preset.as_deref(),
                config.as_deref(),
                model_error.as_deref(),
                &set,
            )?;
            print(&cfg.to_toml())
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "medida", &mut script);
            print(&String::from_utf8_lossy(&script))
        }
    }
}

fn main() -> ExitCode {
    let Err(e) = run(Cli::parse()) else {
        return ExitCode::SUCCESS;
    };
    // A reader that went away (`medida config show | head -1`) ends the output quietly, with the
    // status of a process killed by SIGPIPE.
    let io = e.chain().find_map(|c| c.downcast_ref::<std::io::Error>());
    if io.is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) {
        return ExitCode::from(141);
    }
    let _ = writeln!(std::io::stderr(), "error: {e:#}");
    // Bad input exits 2, like a usage error; a failure during the run exits 1.
    let input = e.chain().any(|c| {
        c.downcast_ref::<medida_workflow::Error>()
            .is_some_and(medida_workflow::Error::is_input)
            || c.downcast_ref::<medida_plot::PlotError>()
                .is_some_and(medida_plot::PlotError::is_input)
    });
    if input {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}
