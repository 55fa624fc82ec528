//! Who writes an output: a run holds an exclusive open-file-description lock (`fcntl`'s
//! `F_OFD_SETLK`) on its output for as long as it writes it. Readers never see it: HDF5 and h5py
//! take `flock` locks, which on Linux are independent of `fcntl` locks (and the writer opens its
//! file with HDF5's own locking off), so xarray opens a running output as any other file. A
//! second run does see it ([`check_not_written`]) and refuses, naming the writer.

use crate::error::{Context, DataError};
use std::os::fd::AsRawFd;
use std::path::Path;

/// An `fcntl` lock request of `kind` (`F_WRLCK`, `F_RDLCK`) over the whole file.
fn whole_file(kind: libc::c_int) -> libc::flock {
    // SAFETY: `flock` is plain data; all-zero is a valid value (start 0, length 0 = to the end).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl
}

/// Takes the exclusive write lock on the file at `path`, held until the returned handle is
/// dropped: [`DataError::Busy`] if another run holds it. On a file system without locks, the
/// handle holds nothing (as before locks existed).
pub(crate) fn lock_for_writing(path: &Path) -> Result<std::fs::File, DataError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .at(path, "open to lock")?;
    let mut fl = whole_file(libc::F_WRLCK);
    // SAFETY: a valid descriptor and a valid `flock` that outlives the call.
    let r = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &mut fl) };
    if r == 0 {
        return Ok(file);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EAGAIN | libc::EACCES) => Err(DataError::Busy {
            path: path.into(),
            writer: writer_pid(&file),
        }),
        Some(libc::ENOLCK | libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => Ok(file),
        _ => Err(e).at(path, "lock for writing"),
    }
}

/// Refuses `path` while a run writes it ([`DataError::Busy`], naming the writing process where
/// the system says). A missing file, or a file system without locks, is not being written as far
/// as anyone can tell.
pub fn check_not_written(path: &Path) -> Result<(), DataError> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let mut fl = whole_file(libc::F_RDLCK);
    // SAFETY: a valid descriptor and a valid `flock` that outlives the call.
    let r = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_GETLK, &mut fl) };
    if r == 0 && fl.l_type != libc::F_UNLCK as libc::c_short {
        return Err(DataError::Busy {
            path: path.into(),
            writer: writer_pid(&file),
        });
    }
    Ok(())
}

/// The process holding the write lock on `file`: open-file-description locks carry no process
/// id (`/proc/locks` shows -1), so the process with a descriptor whose `/proc/PID/fdinfo/FD`
/// lists it, `lock: 1: OFDLCK ADVISORY WRITE -1 <major>:<minor>:<inode> 0 EOF`. Only processes
/// this user may inspect are seen.
fn writer_pid(file: &std::fs::File) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let inode = file.metadata().ok()?.ino();
    let holds = |info: &str| {
        info.lines().any(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            f.first() == Some(&"lock:")
                && f.contains(&"WRITE")
                && f.iter()
                    .any(|x| x.rsplit(':').next().and_then(|i| i.parse().ok()) == Some(inode))
        })
    };
    let me = std::process::id();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|p| {
        let pid: u32 = p.file_name().to_str()?.parse().ok()?;
        let fds = std::fs::read_dir(p.path().join("fdinfo")).ok()?;
        let found = fds
            .flatten()
            .any(|fd| std::fs::read_to_string(fd.path()).is_ok_and(|i| holds(&i)));
        (found && pid != me).then_some(pid)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A held write lock makes the file busy (for this process's other descriptors too) and is
    /// gone with its handle; a missing file is not busy.
    #[test]
    fn a_write_lock_makes_the_file_busy_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.h5");
        assert!(check_not_written(&path).is_ok());
        std::fs::write(&path, b"data").unwrap();
        assert!(check_not_written(&path).is_ok());
        let lock = lock_for_writing(&path).unwrap();
        assert!(matches!(
            check_not_written(&path),
            Err(DataError::Busy { .. })
        ));
        assert!(matches!(
            lock_for_writing(&path),
            Err(DataError::Busy { .. })
        ));
        drop(lock);
        assert!(check_not_written(&path).is_ok());
    }
}
