//! A command's settings from its command-line flags outside the command line (the Python
//! package's keywords become flags), with the command line's defaults and messages.

use crate::error::{Error, input_err};

/// The flags of one command, alone.
#[derive(clap::Parser)]
struct Flags<A: clap::Args> {
    #[command(flatten)]
    args: A,
}

/// The settings that `flags` (`["--optimizer", "rvm", "--select", "threshold=0.1"]`, ...) give
/// `command` (named in messages) on the command line; a bad flag is an input error with the
/// command line's message.
pub fn parse<A: clap::Args>(command: &str, flags: &[String]) -> Result<A, Error> {
    let args = std::iter::once(command).chain(flags.iter().map(String::as_str));
    let cmd = <Flags<A> as clap::CommandFactory>::command().bin_name(command);
    match cmd
        .try_get_matches_from(args)
        .and_then(|mut m| <Flags<A> as clap::FromArgMatches>::from_arg_matches_mut(&mut m))
    {
        Ok(f) => Ok(f.args),
        Err(e) => input_err!("{}", e.render().to_string().trim_end()),
    }
}
