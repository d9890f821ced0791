//! JOSE: JWK (RFC 7517, 7638, 8037), JWS compact serialization (RFC 7515), JWE with ECDH-ES
//! (RFC 7516, 7518 §4.6) and X.509 chains for `x5c` and the OpenID4VP `x509_hash` client
//! identifier.
//!
//! The rules every caller gets for free: the key decides the algorithm (never `none`, never
//! HMAC, never RSA); `typ` is always compared with what the caller expects; an unknown `crit`
//! is refused; keys are never taken from `jku`, `x5u`, `jwk` or `x5c` headers — a caller that
//! wants a header key (a holder's proof of possession) reads it and passes it back explicitly.

mod jwe;
mod jwk;
mod jws;
mod x509;

use thiserror::Error;

pub use jwe::{ContentEncryption, JweHeader, decrypt_compact, encrypt_compact};
pub use jwk::{Jwk, PrivateJwk};
pub use jws::{DecodedJws, JwsHeader, VerifiedJws, sign_compact};
pub use x509::{MAX_CERT_LEN, MAX_CHAIN_LEN, X509Certificate, X509Chain, x509_hash};

/// Size limit for any one compact JWS or JWE we decode (1 MiB): far above any credential we
/// issue, far below what would hurt a service.
pub const MAX_COMPACT_LEN: usize = 1 << 20;

/// Why a JOSE object was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoseError {
    /// The compact serialization does not have the expected number of parts.
    #[error("malformed compact serialization: expected {expected} parts")]
    WrongPartCount {
        /// 3 for JWS, 5 for JWE.
        expected: usize,
    },
    /// A part is not canonical base64url.
    #[error("the {0} is not base64url")]
    Base64(&'static str),
    /// A protected header or payload is not acceptable JSON.
    #[error("the {part} is not acceptable JSON: {source}")]
    Json {
        /// Which part.
        part: &'static str,
        /// Why.
        source: crate::json::JsonError,
    },
    /// The object is larger than [`MAX_COMPACT_LEN`] or the caller's limit.
    #[error("too large: {len} bytes, limit {limit}")]
    TooLarge {
        /// Length.
        len: usize,
        /// Limit.
        limit: usize,
    },
    /// `alg` is missing.
    #[error("no alg header")]
    MissingAlgorithm,
    /// `alg` names an algorithm outside the allow-list (`none`, HMAC, RSA, …).
    #[error("algorithm not allowed")]
    AlgorithmNotAllowed,
    /// `alg` is allowed, but not for the verification key's type.
    #[error("algorithm does not match the key type")]
    AlgorithmKeyMismatch,
    /// `typ` differs from what the caller expects (or is missing).
    #[error("unexpected typ: expected {expected}")]
    UnexpectedType {
        /// The media type the caller required.
        expected: &'static str,
    },
    /// `crit` lists an extension we do not understand (or is malformed).
    #[error("unsupported critical header")]
    UnsupportedCritical,
    /// A header parameter has the wrong JSON type or an invalid value.
    #[error("invalid header parameter {0}")]
    InvalidHeader(&'static str),
    /// The signature does not verify (including out-of-range or zero ECDSA values).
    #[error("signature verification failed")]
    InvalidSignature,
    /// A key is malformed, of an unsupported type, or not a valid curve point.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// A private key was found where only a public key is allowed.
    #[error("private key material in a public JWK")]
    PrivateKeyMaterial,
    /// Signing failed (a keystore refused, for example).
    #[error("signing failed")]
    SigningFailed,
    /// The operating system's random number generator failed.
    #[error("the system random number generator is unavailable")]
    RandomUnavailable,
    /// `enc` is missing or not A128GCM/A256GCM.
    #[error("content encryption not allowed")]
    EncryptionNotAllowed,
    /// A JWE made with direct key agreement (`ECDH-ES`) carries a non-empty JWE Encrypted Key
    /// (RFC 7518 §4.6 requires it to be empty).
    #[error("the JWE encrypted key must be empty for ECDH-ES")]
    EncryptedKeyNotEmpty,
    /// A decoded part has the wrong length (a JWE Initialization Vector that is not 96 bits, an
    /// Authentication Tag that is not 128 bits).
    #[error("the {0} has the wrong length")]
    InvalidLength(&'static str),
    /// The JWE does not decrypt (wrong key, tampered ciphertext, tag, IV or header).
    #[error("decryption failed")]
    DecryptionFailed,
    /// An X.509 certificate or chain is malformed.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(&'static str),
    /// An X.509 chain does not verify (signature, validity period, anchor).
    #[error("certificate chain not trusted: {0}")]
    UntrustedCertificate(&'static str),
}

#[cfg(test)]
mod tests;
