//! Errors of a workflow. [`Error::is_input`] tells bad input (a user's setting, file or flag:
//! nothing was written) from a failure while running (an unstable model, a full disk).

use thiserror::Error;

/// What can go wrong in a run.
#[derive(Debug, Error)]
pub enum Error {
    /// Bad input, named with the key or flag, the value and what is allowed.
    #[error("{0}")]
    Input(String),
    /// The solver refused a setting or went unstable.
    #[error(transparent)]
    Solver(#[from] medida_solver::SolverError),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Data(#[from] medida_data::DataError),
    /// A fit or a discovery failed.
    #[error(transparent)]
    Discovery(#[from] medida_discovery::DiscoveryError),
    /// A failure with what was being done. The failure is part of the message and not an
    /// error `source`, so that printing the chain (`{:#}`) does not repeat it.
    #[error("{context}: {inner}")]
    Context {
        /// What was being done.
        context: String,
        /// The failure.
        inner: Box<Error>,
    },
    /// An operating-system error on a path.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// The caller asked the run to stop ([`crate::Progress::interrupted`]); what it was doing.
    #[error("interrupted {0}")]
    Interrupted(String),
}

impl Error {
    /// Whether the error is bad input (exit code 2, nothing written) rather than a failure of the
    /// run (exit code 1).
    pub fn is_input(&self) -> bool {
        use medida_solver::SolverError;
        match self {
            Self::Input(_) => true,
            Self::Solver(e) => !matches!(e, SolverError::Unstable { .. }),
            Self::Discovery(medida_discovery::DiscoveryError::Solver(e))
            | Self::Discovery(medida_discovery::DiscoveryError::Member { error: e, .. }) => {
                !matches!(e, SolverError::Unstable { .. })
            }
            Self::Discovery(_) => true,
            Self::Context { inner, .. } => inner.is_input(),
            Self::Data(medida_data::DataError::Exists { .. }) => true,
            Self::Data(medida_data::DataError::Busy { .. }) => true,
            Self::Data(_) | Self::Io(..) | Self::Interrupted(_) => false,
        }
    }

    /// The same error with what was being done.
    pub fn context(self, context: impl Into<String>) -> Self {
        Self::Context {
            context: context.into(),
            inner: Box::new(self),
        }
    }
}

/// `Err(Error::Input(...))` with a formatted message.
macro_rules! input_err {
    ($($arg:tt)*) => { Err($crate::Error::Input(format!($($arg)*))) };
}
pub(crate) use input_err;

/// Adds context to results.
pub trait Context<T> {
    /// On error, says what was being done.
    fn context(self, c: impl Into<String>) -> Result<T, Error>;
    /// On error, says (lazily) what was being done.
    fn with_context<S: Into<String>>(self, c: impl FnOnce() -> S) -> Result<T, Error>;
}

impl<T, E: Into<Error>> Context<T> for Result<T, E> {
    fn context(self, c: impl Into<String>) -> Result<T, Error> {
        self.map_err(|e| e.into().context(c))
    }
    fn with_context<S: Into<String>>(self, c: impl FnOnce() -> S) -> Result<T, Error> {
        self.map_err(|e| e.into().context(c()))
    }
}

/// An error as bad input, after a prefix naming the flag or file: `.map_err(input("--init"))`.
pub(crate) fn input<E: std::fmt::Display>(
    prefix: impl std::fmt::Display,
) -> impl FnOnce(E) -> Error {
    move |e| Error::Input(format!("{prefix}: {e}"))
}
