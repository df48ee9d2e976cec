//! The attachment files: `<data_dir>/attachments/<first 2 hex>/<other 62 hex>`, named
//! by the SHA-256 of their content, so one file serves every upload of the same bytes.
//! A file is written under a temporary name, synced, renamed into place and its
//! directory synced before anyone is told its URL.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The directory under the data directory.
pub const DIR: &str = "attachments";

#[derive(Debug, Clone)]
pub struct Files {
    root: PathBuf,
}

/// True for a lowercase hex SHA-256.
pub fn is_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Files {
    pub fn new(data_dir: &Path) -> Files {
        Files {
            root: data_dir.join(DIR),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the file of `hash` lives; `None` for anything but a SHA-256.
    pub fn path_of(&self, hash: &str) -> Option<PathBuf> {
        is_hash(hash).then(|| self.root.join(&hash[..2]).join(&hash[2..]))
    }

    /// Stores `bytes` durably; returns their hash. Content already stored is not
    /// written again.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let hash = hex::encode(Sha256::digest(bytes));
        let path = self
            .path_of(&hash)
            .ok_or_else(|| std::io::Error::other("bad hash"))?;
        if path.is_file() {
            return Ok(hash);
        }
        let tmp_dir = self.root.join("tmp");
        std::fs::create_dir_all(&tmp_dir)?;
        let tmp = tmp_dir.join(uuid::Uuid::new_v4().simple().to_string());
        let written = (|| -> std::io::Result<()> {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            let dir = path
                .parent()
                .ok_or_else(|| std::io::Error::other("no parent"))?;
            let new_dir = !dir.is_dir();
            std::fs::create_dir_all(dir)?;
            std::fs::rename(&tmp, &path)?;
            sync_dir(dir)?;
            if new_dir {
                sync_dir(&self.root)?;
            }
            Ok(())
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map(|()| hash)
    }

    pub fn read(&self, hash: &str) -> std::io::Result<Vec<u8>> {
        let path = self
            .path_of(hash)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
        std::fs::read(path)
    }

    /// Removes the files of `hashes` (those no row names any more); a missing file
    /// is no error.
    pub fn remove(&self, hashes: &[String]) -> std::io::Result<()> {
        for hash in hashes {
            if let Some(path) = self.path_of(hash) {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Removes every file no hash of `referenced` names and older than `min_age` (a
    /// younger one may be an upload whose row is not committed yet); returns how many.
    pub fn sweep(
        &self,
        referenced: &std::collections::HashSet<String>,
        min_age: std::time::Duration,
    ) -> std::io::Result<usize> {
        let Ok(dirs) = std::fs::read_dir(&self.root) else {
            return Ok(0);
        };
        let mut removed = 0;
        for dir in dirs.filter_map(Result::ok) {
            let prefix = dir.file_name().to_string_lossy().into_owned();
            if prefix.len() != 2 || !dir.path().is_dir() {
                continue;
            }
            for file in std::fs::read_dir(dir.path())?.filter_map(Result::ok) {
                let hash = format!("{prefix}{}", file.file_name().to_string_lossy());
                if !is_hash(&hash) || referenced.contains(&hash) {
                    continue;
                }
                let age = file
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .unwrap_or_default();
                if age >= min_age {
                    std::fs::remove_file(file.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// Puts the file of `hash` from `from` (another attachments directory, e.g. a
    /// backup's) into this one: a hard link where possible, else a synced copy.
    pub fn import(&self, from: &Files, hash: &str) -> std::io::Result<()> {
        let (Some(src), Some(dst)) = (from.path_of(hash), self.path_of(hash)) else {
            return Ok(());
        };
        if dst.is_file() || !src.is_file() {
            return Ok(());
        }
        let dir = dst
            .parent()
            .ok_or_else(|| std::io::Error::other("no parent"))?;
        std::fs::create_dir_all(dir)?;
        if std::fs::hard_link(&src, &dst).is_err() {
            let tmp = dir.join(format!(".{}", uuid::Uuid::new_v4().simple()));
            std::fs::copy(&src, &tmp)?;
            File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, &dst)?;
        }
        sync_dir(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_stored_once_under_its_hash_and_removed_by_it() {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::new(dir.path());
        let hash = files.put(b"hello").unwrap();
        assert_eq!(
            hash,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let path = files.path_of(&hash).unwrap();
        assert!(path.ends_with("2c/f24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
        assert_eq!(files.put(b"hello").unwrap(), hash);
        assert_eq!(files.read(&hash).unwrap(), b"hello");
        assert!(files.path_of("../../etc/passwd").is_none());
        let copy = Files::new(&dir.path().join("other"));
        copy.import(&files, &hash).unwrap();
        assert_eq!(copy.read(&hash).unwrap(), b"hello");
        let kept: std::collections::HashSet<String> = [hash.clone()].into();
        let none = std::time::Duration::ZERO;
        assert_eq!(files.sweep(&kept, none).unwrap(), 0, "a named file stays");
        let young = std::time::Duration::from_secs(600);
        assert_eq!(
            files.sweep(&Default::default(), young).unwrap(),
            0,
            "so does a new one"
        );
        assert_eq!(files.sweep(&Default::default(), none).unwrap(), 1);
        assert!(files.read(&hash).is_err());
        files.remove(std::slice::from_ref(&hash)).unwrap();
    }
}
