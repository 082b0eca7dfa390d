//! Replacing a file's contents atomically, so a crash or power cut at any moment leaves either the
//! whole old file or the whole new one, never a mix or a truncated file.
//!
//! The recipe (POSIX gives `rename` no other guarantee): write the new contents to a temporary file in
//! the same directory (a rename across file systems would be a copy), `fsync` it so its data is on disk
//! before its name is, `rename` it over the target, then `fsync` the directory so the rename itself
//! survives a crash.
//!
//! The temporary file has a fixed name, [`temp_path`]: a stale one left by an interrupted write is
//! simply truncated and overwritten by the next write. Only the target path is ever read, so a
//! half-written temporary file is never taken for the real one. There is no lock: two writers at once
//! must not share the temporary file, so callers (the `hyperjwt users` commands) are run by one
//! administrator at a time.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Permissions for a file this module creates: owner read/write only. A file that already exists keeps
/// its own mode and, where the process may set them, its owner and group.
#[cfg(unix)]
const NEW_FILE_MODE: u32 = 0o600;

/// Where the new contents of `path` are written before the rename: `<name>.tmp` beside it.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Replaces the contents of `path` with `bytes`, atomically and durably (see the module docs). When
/// `path` is a symbolic link, the file it points to is replaced and the link is kept.
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (_, target) = replace_keep_open(path, bytes)?;
    sync_parent_dir(&target)
}

/// Creates `path` with `bytes`, owner-only, atomically and durably, and only if nothing is there:
/// not a file, not a link (a private key must not land where someone else pointed it). The new
/// contents are written to the temporary file, made afresh (`O_EXCL`), then hard-linked to `path`,
/// which fails if `path` exists; a crash leaves either no `path` or the whole file.
pub fn create_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path);
    // A stale temporary file (or a link someone left there) is removed, never written through.
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(NEW_FILE_MODE);
    }
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::hard_link(&tmp, path)
    });
    let _ = fs::remove_file(&tmp);
    written?;
    sync_parent_dir(path)
}

/// The steps of [`replace`] up to the rename: once this returns, `path` names the new contents and
/// the returned file (open for writing, at its end) is that file, so a caller can keep appending to
/// it (the denylist journal does). The rename is durable only once [`sync_parent_dir`] of the
/// returned path (the link's target, if `path` was a link) has succeeded.
pub fn replace_keep_open(path: &Path, bytes: &[u8]) -> io::Result<(File, PathBuf)> {
    if path.file_name().is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a path to a file",
        ));
    }
    // Resolve a link so the rename replaces its target, not the link itself.
    let target = match fs::canonicalize(path) {
        Ok(resolved) => resolved,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(e),
    };
    let existing = match fs::metadata(&target) {
        Ok(metadata) => Some(metadata),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let tmp = temp_path(&target);
    let written = write_temp(&tmp, existing.as_ref(), bytes)
        .and_then(|file| fs::rename(&tmp, &target).map(|()| file));
    match written {
        Ok(file) => Ok((file, target)),
        Err(e) => {
            // Tidy up; if this fails too, the next write overwrites the leftover anyway.
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Creates (or truncates a stale) temporary file, gives it the target's permissions, writes and
/// fsyncs it.
fn write_temp(tmp: &Path, existing: Option<&fs::Metadata>, bytes: &[u8]) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(NEW_FILE_MODE);
    }
    let mut file = options.open(tmp)?;
    set_permissions(&file, existing)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(file)
}

/// A stale temporary file keeps whatever mode it had, so the mode is always set explicitly.
#[cfg(unix)]
fn set_permissions(file: &File, existing: Option<&fs::Metadata>) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mode = existing.map_or(NEW_FILE_MODE, |m| m.permissions().mode() & 0o7777);
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    if let Some(existing) = existing {
        // Keep the owner and group, so root editing a service's file doesn't lock the service out.
        // Best effort: an ordinary user may not give a file away, and then the file is simply theirs,
        // as it would be after any editor's save.
        let _ = std::os::unix::fs::fchown(file, Some(existing.uid()), Some(existing.gid()));
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_permissions(file: &File, existing: Option<&fs::Metadata>) -> io::Result<()> {
    match existing {
        Some(existing) => file.set_permissions(existing.permissions()),
        None => Ok(()),
    }
}

/// Makes a rename in `path`'s directory durable. Directories can't be opened for syncing on Windows;
/// there the rename is as durable as the file system makes it.
pub fn sync_parent_dir(path: &Path) -> io::Result<()> {
    if cfg!(unix) {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_new_writes_owner_only_and_never_over_a_file_or_a_link() {
        let dir = std::env::temp_dir().join(format!("hyperjwt-create-new-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key.pem");
        create_new(&path, b"secret").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"secret");
        assert!(!temp_path(&path).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let again = create_new(&path, b"other").unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"secret");
        #[cfg(unix)]
        {
            // A link planted where the key goes, pointing at a file someone else can read.
            let planted = dir.join("planted");
            fs::write(&planted, "").unwrap();
            let link = dir.join("linked.pem");
            std::os::unix::fs::symlink(&planted, &link).unwrap();
            assert!(create_new(&link, b"secret").is_err());
            assert_eq!(fs::read(&planted).unwrap(), b"");
        }
        let _ = fs::remove_dir_all(&dir);
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hyperjwt-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn creates_then_replaces_and_leaves_no_temporary_file() {
        let dir = temp_dir("replace");
        let path = dir.join("users.json");
        replace(&path, b"first").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"first");
        replace(&path, b"second, longer").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second, longer");
        replace(&path, b"3").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"3");
        assert!(!temp_path(&path).exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stale_temporary_file_is_overwritten_not_used() {
        let dir = temp_dir("stale");
        let path = dir.join("users.json");
        replace(&path, b"old").unwrap();
        // An interrupted write left a longer, half-written temporary file.
        fs::write(temp_path(&path), b"{\"mallory\": \"half-writ").unwrap();
        replace(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert!(!temp_path(&path).exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn temp_path_is_beside_the_file() {
        assert_eq!(
            temp_path(Path::new("/etc/hyperjwt/users.json")),
            PathBuf::from("/etc/hyperjwt/users.json.tmp")
        );
        assert_eq!(
            temp_path(Path::new("users.json")),
            PathBuf::from("users.json.tmp")
        );
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = temp_dir("fail");
        let path = dir.join("users.json");
        replace(&path, b"kept").unwrap();
        // The temporary file's name is taken by a directory: the write fails before any rename.
        fs::create_dir(temp_path(&path)).unwrap();
        assert!(replace(&path, b"lost").is_err());
        assert_eq!(fs::read(&path).unwrap(), b"kept");
        // A file in a directory that doesn't exist can't be written either.
        assert!(replace(&dir.join("nope").join("users.json"), b"x").is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_private_and_existing_modes_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("mode");
        let path = dir.join("users.json");
        replace(&path, b"a").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        // Even a stale temporary file with another mode doesn't leak its mode into the result.
        fs::write(temp_path(&path), b"stale").unwrap();
        fs::set_permissions(temp_path(&path), fs::Permissions::from_mode(0o666)).unwrap();
        replace(&path, b"b").unwrap();
        assert_eq!(mode(&path), 0o640);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_followed_and_kept() {
        let dir = temp_dir("link");
        let real = dir.join("real.json");
        let link = dir.join("users.json");
        fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        replace(&link, b"new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).unwrap(), b"new");
        fs::remove_dir_all(&dir).unwrap();
    }
}
