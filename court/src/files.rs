//! Writing the tool's outputs: never over an existing file, private ones readable by their
//! owner only (mode 0600).

use crate::error::{Error, Result};
use std::io::Write as _;
use std::path::Path;

/// Writes a new file readable by its owner only; an existing file is left alone and the
/// write refused.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    write_new(path, contents, 0o600)
}

/// Writes a new public file (mode 0644); an existing file is left alone and the write
/// refused.
pub fn write_public(path: &Path, contents: &[u8]) -> Result<()> {
    write_new(path, contents, 0o644)
}

fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|e| Error::io(path, &e))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(path, &e))
}

/// Reads a text file.
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_owner_only_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("share.json");
        write_private(&path, b"one").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(write_private(&path, b"two").is_err());
        assert!(write_public(&path, b"two").is_err());
        assert_eq!(read_text(&path).unwrap(), "one");
    }
}
