//! Signatures, key agreement and randomness behind one small provider trait.
//!
//! Following rustls, the formats never call a cryptographic library directly: they hold a
//! `&dyn CryptoProvider`. Two providers exist:
//!
//! * [`RustCrypto`]: pure Rust (`p256`, `ed25519-dalek`), the default, and the one the wallet and
//!   mobile builds use because it cross-compiles without a C toolchain;
//! * `AwsLc` (feature `aws-lc`): `aws-lc-rs`, for services, where ES256 verification is ~3.8×
//!   faster on our machines.
//!
//! Keys are plain data ([`PublicKey`], [`SecretKey`]); a provider turns a secret key into a
//! [`Signer`]. Device keys held by a platform keystore implement [`Signer`] themselves, so the
//! formats never need their private bytes.

#[cfg(feature = "aws-lc")]
mod aws_lc;
pub(crate) mod rust;

use crate::jose::JoseError;
use std::fmt;
use zeroize::Zeroizing;

#[cfg(feature = "aws-lc")]
pub use aws_lc::AwsLc;
pub use rust::RustCrypto;

/// The JWS algorithms we accept (RFC 7518 §3.4, RFC 8037 §3.1). Anything else — `none`, HMAC,
/// RSA — cannot even be named, so it cannot be accepted by mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// ECDSA with P-256 and SHA-256; the signature is `r ‖ s`, 64 bytes.
    Es256,
    /// Ed25519 (`EdDSA` with `crv: Ed25519`); the signature is 64 bytes.
    EdDsa,
}

impl SignatureAlgorithm {
    /// The `alg` value this algorithm is written as.
    pub fn name(self) -> &'static str {
        match self {
            SignatureAlgorithm::Es256 => "ES256",
            SignatureAlgorithm::EdDsa => "EdDSA",
        }
    }

    /// Reads an `alg` value. `Ed25519` (the fully specified name of RFC 9864) is read as EdDSA.
    pub fn from_name(name: &str) -> Option<SignatureAlgorithm> {
        match name {
            "ES256" => Some(SignatureAlgorithm::Es256),
            "EdDSA" | "Ed25519" => Some(SignatureAlgorithm::EdDsa),
            _ => None,
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A public key of a type we accept. The point is validated when the key is built, so an
/// invalid-curve point never reaches a signature check or a key agreement.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PublicKey {
    /// A P-256 point, as its affine coordinates (32 bytes each, big-endian).
    P256 {
        /// The x coordinate.
        x: [u8; 32],
        /// The y coordinate.
        y: [u8; 32],
    },
    /// An Ed25519 public key (RFC 8032 encoding).
    Ed25519([u8; 32]),
}

impl PublicKey {
    /// Builds a P-256 key from its coordinates, refusing points that are not on the curve.
    pub fn p256(x: [u8; 32], y: [u8; 32]) -> Result<PublicKey, JoseError> {
        rust::check_p256_point(&x, &y)?;
        Ok(PublicKey::P256 { x, y })
    }

    /// Builds an Ed25519 key, refusing encodings that are not a valid point.
    pub fn ed25519(bytes: [u8; 32]) -> Result<PublicKey, JoseError> {
        rust::check_ed25519_point(&bytes)?;
        Ok(PublicKey::Ed25519(bytes))
    }

    /// The only algorithm this key may verify: the key type decides, never the token.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            PublicKey::P256 { .. } => SignatureAlgorithm::Es256,
            PublicKey::Ed25519(_) => SignatureAlgorithm::EdDsa,
        }
    }

    /// The SEC1 uncompressed encoding `04 ‖ x ‖ y` of a P-256 key.
    pub(crate) fn sec1_uncompressed(x: &[u8; 32], y: &[u8; 32]) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[0] = 0x04;
        out[1..33].copy_from_slice(x);
        out[33..].copy_from_slice(y);
        out
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublicKey::P256 { x, .. } => write!(f, "PublicKey::P256(x={})", crate::b64::encode(x)),
            PublicKey::Ed25519(k) => write!(f, "PublicKey::Ed25519({})", crate::b64::encode(k)),
        }
    }
}

/// A private key held in process memory (server keys, software wallet keys, JWE ephemeral
/// keys). Validated when built, zeroized on drop; its `Debug` shows only the key type.
#[derive(Clone)]
pub struct SecretKey(pub(crate) rust::SecretInner);

impl SecretKey {
    /// Generates a key from the operating system's CSPRNG.
    pub fn generate(algorithm: SignatureAlgorithm) -> Result<SecretKey, JoseError> {
        rust::generate(algorithm).map(SecretKey)
    }

    /// Builds a P-256 key from its scalar, refusing zero and values not below the group order.
    pub fn p256(scalar: &[u8; 32]) -> Result<SecretKey, JoseError> {
        rust::p256_secret(scalar).map(SecretKey)
    }

    /// Builds an Ed25519 key from its seed.
    pub fn ed25519(seed: &[u8; 32]) -> SecretKey {
        SecretKey(rust::ed25519_secret(seed))
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.0.algorithm()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        self.0.public_key()
    }

    /// The private scalar (P-256) or seed (Ed25519), for writing a key file.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        self.0.to_bytes()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({}, …)", self.algorithm())
    }
}

/// Something that signs JWS signing inputs. Implemented by the providers' in-memory keys and,
/// outside this crate, by keys in a platform keystore (Android Keystore, Secure Enclave).
pub trait Signer: Send + Sync + fmt::Debug {
    /// The algorithm of the signatures this signer makes.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// The public key that verifies them.
    fn public_key(&self) -> PublicKey;
    /// Signs `message`, returning the JWS signature encoding (`r ‖ s` for ES256).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError>;
}

/// The cryptographic operations the formats need.
pub trait CryptoProvider: Send + Sync + fmt::Debug {
    /// A short name for logs and benchmarks.
    fn name(&self) -> &'static str;

    /// Checks `signature` over `message` with `key`. The algorithm is the key's own
    /// ([`PublicKey::algorithm`]); callers have already refused a token whose `alg` differs.
    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), JoseError>;

    /// Wraps a secret key as a [`Signer`].
    fn signer(&self, key: &SecretKey) -> Result<Box<dyn Signer>, JoseError>;

    /// ECDH over P-256: the shared secret `Z` (the x coordinate, 32 bytes) of `secret` and
    /// `peer` (RFC 7518 §4.6).
    fn ecdh_p256(
        &self,
        secret: &SecretKey,
        peer: &PublicKey,
    ) -> Result<Zeroizing<[u8; 32]>, JoseError>;
}

/// The default provider: pure Rust.
pub fn default_provider() -> &'static dyn CryptoProvider {
    &RustCrypto
}

/// Fills `out` from the operating system's CSPRNG.
pub fn fill_random(out: &mut [u8]) -> Result<(), JoseError> {
    getrandom::fill(out).map_err(|_| JoseError::RandomUnavailable)
}

/// A fresh random value of `bytes` bytes, base64url-encoded: nonces, `state`, salts, ids
/// (≥ 16 bytes gives the ≥ 128 bits OpenID4VP §5.2 and RFC 9901 §9.3 ask for).
pub fn random_token(bytes: usize) -> Result<String, JoseError> {
    let mut buf = Zeroizing::new(vec![0u8; bytes]);
    fill_random(&mut buf)?;
    Ok(crate::b64::encode(&*buf))
}

/// A fresh random identifier of `bytes` bytes in lower-case hex: for ids people type or
/// pass on a command line, where base64url's leading `-` would read as an option.
pub fn random_hex(bytes: usize) -> Result<String, JoseError> {
    let mut buf = vec![0u8; bytes];
    fill_random(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests;
