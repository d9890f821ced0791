//! The `court` binary, run as the court runs it: files on disk, arguments, passphrase files,
//! exit status and output.

// Test code: a failed setup step should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod escrow;
mod journey;
mod orders;
mod services;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit as _, Payload};
use serde_json::{Map, Value};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The cheapest argon2id the tool accepts: the tests check the format, not the cost.
const TEST_KDF: [&str; 4] = ["--kdf-memory-kib", "64", "--kdf-passes", "1"];

pub(crate) fn court(args: &[&str]) -> Output {
    court_with_stdin(args, "")
}

pub(crate) fn court_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_court"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub(crate) fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "court failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub(crate) fn failure(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "court succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr(out)
}

pub(crate) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

pub(crate) fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub(crate) fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[cfg(unix)]
pub(crate) fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A sealed file opened as `spec/escrow-and-court.md` describes it, from outside the tool:
/// argon2id over the passphrase and salt, XChaCha20-Poly1305 with the associated data
/// header JSON ‖ 0x00 ‖ KDF JSON ‖ 0x00 ‖ "XChaCha20-Poly1305".
pub(crate) struct SpecSeal {
    cipher: XChaCha20Poly1305,
    nonce: [u8; 24],
    aad: Vec<u8>,
}

impl SpecSeal {
    /// Opens `file`, whose public header is the members `header` (in that order).
    pub(crate) fn open(file: &Value, header: &[&str], passphrase: &str) -> (SpecSeal, Vec<u8>) {
        let sealed = &file["sealed"];
        let kdf = &sealed["kdf"];
        assert_eq!(kdf["alg"], "argon2id");
        assert_eq!(kdf["version"], 19);
        let cost = |name: &str| u32::try_from(kdf[name].as_u64().unwrap()).unwrap();
        let params = Params::new(cost("m_cost"), cost("t_cost"), cost("p_cost"), Some(32)).unwrap();
        let mut key = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(
                passphrase.as_bytes(),
                &URL_SAFE_NO_PAD
                    .decode(kdf["salt"].as_str().unwrap())
                    .unwrap(),
                &mut key,
            )
            .unwrap();
        let header: Map<String, Value> = header
            .iter()
            .map(|name| (name.to_string(), file[*name].clone()))
            .collect();
        let mut aad = serde_json::to_vec(&header).unwrap();
        aad.push(0);
        aad.extend(serde_json::to_vec(kdf).unwrap());
        aad.push(0);
        aad.extend(b"XChaCha20-Poly1305");
        assert_eq!(sealed["aead"], "XChaCha20-Poly1305");
        let seal = SpecSeal {
            cipher: XChaCha20Poly1305::new((&key).into()),
            nonce: URL_SAFE_NO_PAD
                .decode(sealed["nonce"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
            aad,
        };
        let ciphertext = URL_SAFE_NO_PAD
            .decode(sealed["ciphertext"].as_str().unwrap())
            .unwrap();
        let plaintext = seal
            .cipher
            .decrypt(
                (&seal.nonce).into(),
                Payload {
                    msg: &ciphertext,
                    aad: &seal.aad,
                },
            )
            .expect("the spec's construction opens the tool's file");
        (seal, plaintext)
    }

    /// Seals `plaintext` the same way (same key, nonce and header): a file its holder
    /// rewrote with their own passphrase.
    pub(crate) fn seal(&self, plaintext: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(
            self.cipher
                .encrypt(
                    (&self.nonce).into(),
                    Payload {
                        msg: plaintext,
                        aad: &self.aad,
                    },
                )
                .unwrap(),
        )
    }
}
