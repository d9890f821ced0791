//! Server keys in files: loaded at start, generated on first run when absent.
//!
//! A generated file is created with mode 0600 (never overwriting an existing one), and an
//! existing file that group or others can read is refused, as OpenSSH refuses such keys.
//! Key material stays in zeroizing buffers and never reaches a log line.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential_formats::crypto::{SecretKey, SignatureAlgorithm};
use credential_formats::jose::{Jwk, PrivateJwk};
use zeroize::Zeroizing;

use crate::Error;

/// Whether a key was read from its file or made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Read from an existing file.
    Loaded,
    /// Generated and written to the file now.
    Generated,
}

/// Loads an ES256 signing key (a private JWK) from `path`, or generates one and writes it.
/// A generated key's `kid` is its RFC 7638 thumbprint.
pub fn load_or_generate_signing_key(path: &Path) -> Result<(PrivateJwk, KeyOrigin), Error> {
    if let Some(text) = read_private(path)? {
        let key = PrivateJwk::from_json(&text).map_err(|_| Error::KeyFile {
            path: path.display().to_string(),
            reason: "not a private JWK",
        })?;
        return Ok((key, KeyOrigin::Loaded));
    }
    let secret = SecretKey::generate(SignatureAlgorithm::Es256)?;
    let kid = Jwk::new(secret.public_key()).thumbprint();
    let key = PrivateJwk::new(secret, Some(kid));
    write_private(path, key.to_json().as_bytes())?;
    Ok((key, KeyOrigin::Generated))
}

/// Loads a 256-bit secret (base64url in the file) from `path`, or generates one and writes
/// it. For HMAC keys such as the register key `K_reg`.
pub fn load_or_generate_secret(path: &Path) -> Result<(Zeroizing<[u8; 32]>, KeyOrigin), Error> {
    let bad = |reason| Error::KeyFile {
        path: path.display().to_string(),
        reason,
    };
    if let Some(text) = read_private(path)? {
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(text.trim())
                .map_err(|_| bad("not base64url"))?,
        );
        let mut secret = Zeroizing::new([0u8; 32]);
        if bytes.len() != secret.len() {
            return Err(bad("a secret is 32 bytes"));
        }
        secret.copy_from_slice(&bytes);
        return Ok((secret, KeyOrigin::Loaded));
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    credential_formats::crypto::fill_random(&mut secret[..])?;
    let text = Zeroizing::new(URL_SAFE_NO_PAD.encode(&secret[..]));
    write_private(path, text.as_bytes())?;
    Ok((secret, KeyOrigin::Generated))
}

/// Reads a key file that only its owner may read; `None` if there is no file.
fn read_private(path: &Path) -> Result<Option<Zeroizing<String>>, Error> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path, e)),
    };
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::KeyFile {
            path: path.display().to_string(),
            reason: "readable by group or others (chmod 600 it)",
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| io_err(path, e))?;
    Ok(Some(Zeroizing::new(text)))
}

/// Creates `path` with mode 0600 and writes `bytes`; never replaces an existing file.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| io_err(path, e))?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_err(path, e))?;
    file.write_all(bytes).map_err(|e| io_err(path, e))?;
    file.sync_all().map_err(|e| io_err(path, e))?;
    Ok(())
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source: e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_signing_key_is_private_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/issuer.jwk");
        let (made, origin) = load_or_generate_signing_key(&path).unwrap();
        assert_eq!(origin, KeyOrigin::Generated);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (loaded, origin) = load_or_generate_signing_key(&path).unwrap();
        assert_eq!(origin, KeyOrigin::Loaded);
        assert_eq!(made.public(), loaded.public());
        assert_eq!(loaded.kid(), Some(made.public().thumbprint().as_str()));
    }

    #[test]
    fn a_generated_secret_reloads_identically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k_reg");
        let (a, _) = load_or_generate_secret(&path).unwrap();
        let (b, origin) = load_or_generate_secret(&path).unwrap();
        assert_eq!(origin, KeyOrigin::Loaded);
        assert_eq!(*a, *b);
    }

    #[test]
    fn key_files_others_can_read_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        load_or_generate_secret(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_generate_secret(&path).unwrap_err();
        assert!(
            err.to_string().contains("readable by group or others"),
            "{err}"
        );
    }

    #[test]
    fn malformed_key_files_are_refused_without_quoting_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write_private(&path, b"secret-looking-garbage").unwrap();
        let err = load_or_generate_secret(&path).unwrap_err().to_string();
        assert!(!err.contains("garbage"), "{err}");
        let err = load_or_generate_signing_key(&path).unwrap_err().to_string();
        assert!(err.contains("not a private JWK"), "{err}");
    }
}
