//! Errors of reading and writing medida's files.

use std::path::PathBuf;
use thiserror::Error;

/// What can go wrong with a file.
#[derive(Debug, Error)]
pub enum DataError {
    /// HDF5 refused an operation (unreadable, truncated or not an HDF5 file, disk full, ...).
    #[error("{path}: {what}: {}", concise(error))]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// What was being done.
        what: String,
        /// HDF5's error (not a `source`: its text is shown once, shortened).
        error: hdf5::Error,
    },
    /// An operating-system error (rename, fsync, ...).
    #[error("{path}: {what}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file that must not be replaced exists (another run's output).
    #[error(
        "{path}: exists (a second run must not replace a first: choose another output, continue it, or replace it on purpose)"
    )]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// Another process has the file open for writing (a run in progress).
    #[error("{path}: being written by another run ({}): wait for it to end or stop it", match writer { Some(pid) => format!("process {pid}"), None => "its process id unknown".to_string() })]
    Busy {
        /// The file.
        path: PathBuf,
        /// The writing process, when the system says.
        writer: Option<u32>,
    },
    /// The file opened but does not hold what it should.
    #[error("{path}: {what}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong.
        what: String,
    },
}

/// HDF5's message, or where it reports a failed system call only the operating system's error
/// (`No space left on device (errno 28)`), which HDF5 otherwise buries in a long report.
fn concise(e: &hdf5::Error) -> String {
    let text = e.to_string();
    let field = |key: &str, end: char| {
        let start = text.find(key)? + key.len();
        text[start..].split(end).next().map(str::to_string)
    };
    match (field("error message = '", '\''), field("errno = ", ',')) {
        (Some(message), Some(errno)) => format!("{message} (errno {errno})"),
        _ => text,
    }
}

/// Attaches the file and the action to HDF5 and I/O errors.
pub(crate) trait Context<T> {
    fn at(self, path: &std::path::Path, what: impl Into<String>) -> Result<T, DataError>;
}

impl<T> Context<T> for Result<T, hdf5::Error> {
    fn at(self, path: &std::path::Path, what: impl Into<String>) -> Result<T, DataError> {
        self.map_err(|error| DataError::Hdf5 {
            path: path.to_path_buf(),
            what: what.into(),
            error,
        })
    }
}

impl<T> Context<T> for Result<T, std::io::Error> {
    fn at(self, path: &std::path::Path, what: impl Into<String>) -> Result<T, DataError> {
        self.map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            what: what.into(),
            source,
        })
    }
}
