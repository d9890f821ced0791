//! Files sealed under a judge's passphrase: argon2id (RFC 9106) derives a 256-bit key from
//! the passphrase and a random salt, XChaCha20-Poly1305 seals the secret under a random
//! 192-bit nonce. The KDF parameters travel in the file and, with the file's public header,
//! are the AEAD's associated data: changing any of them makes the file not open.

use crate::error::{Error, Result};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit as _, Payload};
use credential_formats::crypto::fill_random;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The AEAD's name in the files.
const AEAD: &str = "XChaCha20-Poly1305";
/// The KDF's name in the files.
const KDF: &str = "argon2id";
/// Argon2 version 1.3 (0x13), the one RFC 9106 specifies.
const KDF_VERSION: u32 = 0x13;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The most memory a file may ask for (4 GiB): a file that asks for more is refused rather
/// than allowed to exhaust the machine.
const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
/// The most passes a file may ask for.
const MAX_PASSES: u32 = 64;
/// The most lanes a file may ask for.
const MAX_LANES: u32 = 16;

/// argon2id's cost: memory in KiB, passes over it, lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    memory_kib: u32,
    passes: u32,
    lanes: u32,
}

impl KdfParams {
    /// The default: 64 MiB, 3 passes, 1 lane — a second or less on a server core, and each
    /// guess at a passphrase costs an attacker as much.
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        passes: 3,
        lanes: 1,
    };

    /// Parameters within argon2's rules and our limits (at most 4 GiB, 64 passes, 16 lanes).
    pub fn new(memory_kib: u32, passes: u32, lanes: u32) -> Result<KdfParams> {
        let params = KdfParams {
            memory_kib,
            passes,
            lanes,
        };
        params.argon2().map(|_| params)
    }

    /// Memory in KiB.
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }
    /// Passes.
    pub fn passes(&self) -> u32 {
        self.passes
    }
    /// Lanes.
    pub fn lanes(&self) -> u32 {
        self.lanes
    }

    /// Whether this costs an attacker less than the default (tests use such parameters).
    pub fn is_below_default(&self) -> bool {
        self.memory_kib < KdfParams::DEFAULT.memory_kib || self.passes < KdfParams::DEFAULT.passes
    }

    fn argon2(&self) -> Result<Argon2<'static>> {
        if self.memory_kib > MAX_MEMORY_KIB || self.passes > MAX_PASSES || self.lanes > MAX_LANES {
            return Err(Error::Invalid("KDF parameters (over the limits)".into()));
        }
        let params = Params::new(self.memory_kib, self.passes, self.lanes, Some(32))
            .map_err(|_| Error::Invalid("KDF parameters".into()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// The KDF as a file records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kdf {
    alg: String,
    version: u32,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
}

/// A secret sealed under a passphrase, as it is stored: the `sealed` member of a key or
/// share file.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sealed {
    kdf: Kdf,
    aead: String,
    nonce: String,
    ciphertext: String,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("kdf", &self.kdf.alg)
            .field("m_cost", &self.kdf.m_cost)
            .finish_non_exhaustive()
    }
}

/// Why a sealed secret did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// The passphrase is wrong, or the file was altered.
    WrongPassphrase,
    /// The file breaks a rule (named).
    Format(&'static str),
}

impl Sealed {
    /// The KDF parameters this file was sealed with.
    pub(crate) fn params(&self) -> Result<KdfParams, OpenError> {
        if self.kdf.alg != KDF || self.kdf.version != KDF_VERSION {
            return Err(OpenError::Format("unsupported KDF"));
        }
        KdfParams::new(self.kdf.m_cost, self.kdf.t_cost, self.kdf.p_cost)
            .map_err(|_| OpenError::Format("KDF parameters out of range"))
    }
}

fn key(passphrase: &[u8], params: KdfParams, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    let mut key = Zeroizing::new([0u8; 32]);
    params
        .argon2()?
        .hash_password_into(passphrase, salt, &mut key[..])
        .map_err(|_| Error::Crypto("argon2id"))?;
    Ok(key)
}

/// The associated data: the file's public header, the KDF record and the AEAD's name, so
/// none of them can be changed without the file failing to open.
fn aad(header: &[u8], kdf: &Kdf) -> Result<Vec<u8>> {
    let kdf = serde_json::to_vec(kdf).map_err(|_| Error::Crypto("serialising the KDF record"))?;
    let mut out = Vec::with_capacity(header.len() + kdf.len() + AEAD.len() + 2);
    out.extend_from_slice(header);
    out.push(0);
    out.extend_from_slice(&kdf);
    out.push(0);
    out.extend_from_slice(AEAD.as_bytes());
    Ok(out)
}

/// Seals `secret` under `passphrase`, bound to `header` (the file's public fields).
pub(crate) fn seal(
    passphrase: &[u8],
    params: KdfParams,
    header: &[u8],
    secret: &[u8],
) -> Result<Sealed> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut salt).map_err(|_| Error::Random)?;
    fill_random(&mut nonce).map_err(|_| Error::Random)?;
    let kdf = Kdf {
        alg: KDF.into(),
        version: KDF_VERSION,
        m_cost: params.memory_kib,
        t_cost: params.passes,
        p_cost: params.lanes,
        salt: URL_SAFE_NO_PAD.encode(salt),
    };
    let key = key(passphrase, params, &salt)?;
    let ciphertext = XChaCha20Poly1305::new((&*key).into())
        .encrypt(
            (&nonce).into(),
            Payload {
                msg: secret,
                aad: &aad(header, &kdf)?,
            },
        )
        .map_err(|_| Error::Crypto("XChaCha20-Poly1305"))?;
    Ok(Sealed {
        kdf,
        aead: AEAD.into(),
        nonce: URL_SAFE_NO_PAD.encode(nonce),
        ciphertext: URL_SAFE_NO_PAD.encode(ciphertext),
    })
}

/// Opens a secret sealed by [`seal`] with the same `header`.
pub(crate) fn open(
    passphrase: &[u8],
    sealed: &Sealed,
    header: &[u8],
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    let params = sealed.params()?;
    if sealed.aead != AEAD {
        return Err(OpenError::Format("unsupported AEAD"));
    }
    let salt = URL_SAFE_NO_PAD
        .decode(&sealed.kdf.salt)
        .map_err(|_| OpenError::Format("salt is not base64url"))?;
    if !(SALT_LEN..=64).contains(&salt.len()) {
        return Err(OpenError::Format("salt length"));
    }
    let nonce: [u8; NONCE_LEN] = URL_SAFE_NO_PAD
        .decode(&sealed.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or(OpenError::Format("nonce"))?;
    let ciphertext = URL_SAFE_NO_PAD
        .decode(&sealed.ciphertext)
        .map_err(|_| OpenError::Format("ciphertext is not base64url"))?;
    if ciphertext.len() < TAG_LEN {
        return Err(OpenError::Format("ciphertext truncated"));
    }
    let aad = aad(header, &sealed.kdf).map_err(|_| OpenError::Format("KDF record"))?;
    let key = key(passphrase, params, &salt).map_err(|_| OpenError::Format("KDF"))?;
    XChaCha20Poly1305::new((&*key).into())
        .decrypt(
            (&nonce).into(),
            Payload {
                msg: &ciphertext,
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| OpenError::WrongPassphrase)
}

#[cfg(test)]
pub(crate) fn test_params() -> KdfParams {
    // The smallest argon2 allows: tests need the format, not the cost.
    KdfParams {
        memory_kib: 8,
        passes: 1,
        lanes: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_with_its_passphrase_and_header_only() {
        let sealed = seal(b"correct horse", test_params(), b"header", b"secret").unwrap();
        assert_eq!(
            &**open(b"correct horse", &sealed, b"header").unwrap(),
            b"secret"
        );
        assert_eq!(
            open(b"correct horsf", &sealed, b"header"),
            Err(OpenError::WrongPassphrase)
        );
        assert_eq!(
            open(b"correct horse", &sealed, b"headex"),
            Err(OpenError::WrongPassphrase)
        );
    }

    #[test]
    fn changed_kdf_parameters_do_not_open() {
        let sealed = seal(b"pw", test_params(), b"h", b"secret").unwrap();
        let mut more = sealed.clone();
        more.kdf.t_cost = 2;
        assert_eq!(open(b"pw", &more, b"h"), Err(OpenError::WrongPassphrase));
        let mut salt = sealed.clone();
        salt.kdf.salt = URL_SAFE_NO_PAD.encode([7u8; SALT_LEN]);
        assert_eq!(open(b"pw", &salt, b"h"), Err(OpenError::WrongPassphrase));
    }

    #[test]
    fn out_of_range_or_unknown_parameters_are_refused_before_any_work() {
        let sealed = seal(b"pw", test_params(), b"h", b"secret").unwrap();
        let mut huge = sealed.clone();
        huge.kdf.m_cost = MAX_MEMORY_KIB + 1;
        assert_eq!(
            open(b"pw", &huge, b"h"),
            Err(OpenError::Format("KDF parameters out of range"))
        );
        let mut argon2i = sealed.clone();
        argon2i.kdf.alg = "argon2i".into();
        assert_eq!(
            open(b"pw", &argon2i, b"h"),
            Err(OpenError::Format("unsupported KDF"))
        );
        let mut aead = sealed.clone();
        aead.aead = "AES-256-GCM".into();
        assert_eq!(
            open(b"pw", &aead, b"h"),
            Err(OpenError::Format("unsupported AEAD"))
        );
        let mut nonce = sealed;
        nonce.nonce = URL_SAFE_NO_PAD.encode([0u8; 12]);
        assert_eq!(open(b"pw", &nonce, b"h"), Err(OpenError::Format("nonce")));
        assert!(KdfParams::new(4, 1, 1).is_err());
        assert!(KdfParams::new(1024, 0, 1).is_err());
        assert!(KdfParams::new(1024, 1, 17).is_err());
    }

    #[test]
    fn two_seals_differ_in_salt_and_nonce() {
        let a = seal(b"pw", test_params(), b"h", b"secret").unwrap();
        let b = seal(b"pw", test_params(), b"h", b"secret").unwrap();
        assert_ne!(a.kdf.salt, b.kdf.salt);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        assert!(!format!("{a:?}").contains(&a.ciphertext));
    }

    #[test]
    fn the_default_cost_is_the_documented_one() {
        let d = KdfParams::DEFAULT;
        assert_eq!((d.memory_kib(), d.passes(), d.lanes()), (65_536, 3, 1));
        assert!(!d.is_below_default());
        assert!(test_params().is_below_default());
    }
}
