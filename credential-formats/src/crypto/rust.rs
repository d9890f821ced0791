//! The pure-Rust provider: `p256` and `ed25519-dalek`.

use super::{CryptoProvider, PublicKey, SecretKey, SignatureAlgorithm, Signer};
use crate::jose::JoseError;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use zeroize::Zeroizing;

/// The pure-Rust provider (`p256` 0.14, `ed25519-dalek` 3). Cross-compiles anywhere; the
/// wallet's choice.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCrypto;

impl CryptoProvider for RustCrypto {
    fn name(&self) -> &'static str {
        "rust-crypto"
    }

    fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        match key {
            PublicKey::P256 { x, y } => {
                let key = p256_verifying_key(x, y)?;
                // `from_slice` refuses r or s equal to zero or not below the group order, the
                // "psychic signature" inputs (CVE-2022-21449).
                let signature = p256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| JoseError::InvalidSignature)?;
                key.verify(message, &signature)
                    .map_err(|_| JoseError::InvalidSignature)
            }
            PublicKey::Ed25519(bytes) => {
                let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
                    .map_err(|_| JoseError::InvalidKey("Ed25519 point"))?;
                let signature = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| JoseError::InvalidSignature)?;
                // Strict verification refuses small-order keys and non-canonical `s`.
                key.verify_strict(message, &signature)
                    .map_err(|_| JoseError::InvalidSignature)
            }
        }
    }

    fn signer(&self, key: &SecretKey) -> Result<Box<dyn Signer>, JoseError> {
        Ok(match &key.0 {
            SecretInner::P256(secret) => Box::new(P256Signer {
                key: p256::ecdsa::SigningKey::from(secret.to_nonzero_scalar()),
            }),
            SecretInner::Ed25519(key) => Box::new(Ed25519Signer { key: key.clone() }),
        })
    }

    fn ecdh_p256(
        &self,
        secret: &SecretKey,
        peer: &PublicKey,
    ) -> Result<Zeroizing<[u8; 32]>, JoseError> {
        let (SecretInner::P256(secret), PublicKey::P256 { x, y }) = (&secret.0, peer) else {
            return Err(JoseError::InvalidKey("ECDH-ES needs P-256 keys"));
        };
        let peer = p256_verifying_key(x, y)?;
        let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.as_affine());
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(shared.raw_secret_bytes());
        Ok(out)
    }
}

/// The validated private key behind [`SecretKey`]; both types zeroize on drop.
#[derive(Clone)]
pub(crate) enum SecretInner {
    P256(p256::SecretKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl SecretInner {
    pub(super) fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            SecretInner::P256(_) => SignatureAlgorithm::Es256,
            SecretInner::Ed25519(_) => SignatureAlgorithm::EdDsa,
        }
    }

    pub(super) fn public_key(&self) -> PublicKey {
        match self {
            SecretInner::P256(secret) => p256_public(&secret.public_key()),
            SecretInner::Ed25519(key) => PublicKey::Ed25519(key.verifying_key().to_bytes()),
        }
    }

    pub(super) fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        match self {
            SecretInner::P256(secret) => out.copy_from_slice(&secret.to_bytes()),
            SecretInner::Ed25519(key) => out.copy_from_slice(key.as_bytes()),
        }
        out
    }
}

pub(super) fn p256_secret(scalar: &[u8; 32]) -> Result<SecretInner, JoseError> {
    p256::SecretKey::from_bytes(&p256::FieldBytes::from(*scalar))
        .map(SecretInner::P256)
        .map_err(|_| JoseError::InvalidKey("P-256 scalar"))
}

pub(super) fn ed25519_secret(seed: &[u8; 32]) -> SecretInner {
    SecretInner::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed))
}

pub(super) fn generate(algorithm: SignatureAlgorithm) -> Result<SecretInner, JoseError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    match algorithm {
        SignatureAlgorithm::Es256 => loop {
            // Rejection sampling: 32 random bytes are a valid scalar with probability
            // 1 - 2^-32, so this practically never loops.
            super::fill_random(bytes.as_mut())?;
            if let Ok(key) = p256_secret(&bytes) {
                return Ok(key);
            }
        },
        SignatureAlgorithm::EdDsa => {
            super::fill_random(bytes.as_mut())?;
            Ok(ed25519_secret(&bytes))
        }
    }
}

fn p256_verifying_key(x: &[u8; 32], y: &[u8; 32]) -> Result<p256::ecdsa::VerifyingKey, JoseError> {
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&PublicKey::sec1_uncompressed(x, y))
        .map_err(|_| JoseError::InvalidKey("P-256 point"))
}

pub(super) fn check_p256_point(x: &[u8; 32], y: &[u8; 32]) -> Result<(), JoseError> {
    p256_verifying_key(x, y).map(|_| ())
}

pub(super) fn check_ed25519_point(bytes: &[u8; 32]) -> Result<(), JoseError> {
    let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
        .map_err(|_| JoseError::InvalidKey("Ed25519 point"))?;
    if key.is_weak() {
        return Err(JoseError::InvalidKey("Ed25519 small-order point"));
    }
    Ok(())
}

fn p256_public(key: &p256::PublicKey) -> PublicKey {
    let point = p256::ecdsa::VerifyingKey::from(*key).to_sec1_point(false);
    let bytes = point.as_bytes();
    let mut x = [0u8; 32];
    let mut y = [0u8; 32];
    x.copy_from_slice(&bytes[1..33]);
    y.copy_from_slice(&bytes[33..65]);
    PublicKey::P256 { x, y }
}

#[derive(Debug)]
struct P256Signer {
    key: p256::ecdsa::SigningKey,
}

impl Signer for P256Signer {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::Es256
    }
    fn public_key(&self) -> PublicKey {
        p256_public(&p256::PublicKey::from(self.key.verifying_key()))
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        // RFC 6979 deterministic nonces: no RNG failure can leak the key.
        let signature: p256::ecdsa::Signature = self
            .key
            .try_sign(message)
            .map_err(|_| JoseError::SigningFailed)?;
        Ok(signature.to_bytes().to_vec())
    }
}

#[derive(Debug)]
struct Ed25519Signer {
    key: ed25519_dalek::SigningKey,
}

impl Signer for Ed25519Signer {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::EdDsa
    }
    fn public_key(&self) -> PublicKey {
        PublicKey::Ed25519(self.key.verifying_key().to_bytes())
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        Ok(self.key.sign(message).to_bytes().to_vec())
    }
}
