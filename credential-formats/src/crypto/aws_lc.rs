//! The fast provider for services: `aws-lc-rs`.

use super::{CryptoProvider, PublicKey, SecretKey, SignatureAlgorithm, Signer};
use crate::jose::JoseError;
use aws_lc_rs::{agreement, rand, signature};
use zeroize::Zeroizing;

/// The `aws-lc-rs` provider (feature `aws-lc`): ~3.8× the ES256 verification rate of the
/// pure-Rust provider on our machines. For services; the wallet keeps [`super::RustCrypto`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AwsLc;

impl CryptoProvider for AwsLc {
    fn name(&self) -> &'static str {
        "aws-lc-rs"
    }

    fn verify(&self, key: &PublicKey, message: &[u8], sig: &[u8]) -> Result<(), JoseError> {
        match key {
            PublicKey::P256 { x, y } => {
                // FIXED is the JWS encoding `r ‖ s`; aws-lc refuses zero and out-of-range values.
                signature::ParsedPublicKey::new(
                    &signature::ECDSA_P256_SHA256_FIXED,
                    PublicKey::sec1_uncompressed(x, y),
                )
                .map_err(|_| JoseError::InvalidKey("P-256 point"))?
                .verify_sig(message, sig)
                .map_err(|_| JoseError::InvalidSignature)
            }
            // Ed25519 is not on a hot path here (our credentials are ES256); the pure-Rust
            // `verify_strict` keeps one verdict on edge-case encodings across providers.
            PublicKey::Ed25519(_) => super::rust::RustCrypto.verify(key, message, sig),
        }
    }

    fn signer(&self, key: &SecretKey) -> Result<Box<dyn Signer>, JoseError> {
        let public = key.public_key();
        let secret = key.to_bytes();
        match &public {
            PublicKey::P256 { x, y } => {
                let pair = signature::EcdsaKeyPair::from_private_key_and_public_key(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    secret.as_ref(),
                    &PublicKey::sec1_uncompressed(x, y),
                )
                .map_err(|_| JoseError::InvalidKey("P-256 key pair"))?;
                Ok(Box::new(EcdsaSigner { pair, public }))
            }
            PublicKey::Ed25519(_) => {
                let pair = signature::Ed25519KeyPair::from_seed_unchecked(secret.as_ref())
                    .map_err(|_| JoseError::InvalidKey("Ed25519 seed"))?;
                Ok(Box::new(EdSigner { pair, public }))
            }
        }
    }

    fn ecdh_p256(
        &self,
        secret: &SecretKey,
        peer: &PublicKey,
    ) -> Result<Zeroizing<[u8; 32]>, JoseError> {
        let PublicKey::P256 { x, y } = peer else {
            return Err(JoseError::InvalidKey("ECDH-ES needs P-256 keys"));
        };
        if secret.algorithm() != SignatureAlgorithm::Es256 {
            return Err(JoseError::InvalidKey("ECDH-ES needs P-256 keys"));
        }
        let private = agreement::PrivateKey::from_private_key(
            &agreement::ECDH_P256,
            secret.to_bytes().as_ref(),
        )
        .map_err(|_| JoseError::InvalidKey("P-256 scalar"))?;
        let peer = agreement::UnparsedPublicKey::new(
            &agreement::ECDH_P256,
            PublicKey::sec1_uncompressed(x, y),
        );
        agreement::agree(&private, peer, JoseError::InvalidKey("P-256 point"), |z| {
            let mut out = Zeroizing::new([0u8; 32]);
            if z.len() != 32 {
                return Err(JoseError::InvalidKey("P-256 shared secret"));
            }
            out.copy_from_slice(z);
            Ok(out)
        })
    }
}

struct EcdsaSigner {
    pair: signature::EcdsaKeyPair,
    public: PublicKey,
}

impl std::fmt::Debug for EcdsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AwsLcSigner(ES256)")
    }
}

impl Signer for EcdsaSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::Es256
    }
    fn public_key(&self) -> PublicKey {
        self.public.clone()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        self.pair
            .sign(&rand::SystemRandom::new(), message)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(|_| JoseError::SigningFailed)
    }
}

struct EdSigner {
    pair: signature::Ed25519KeyPair,
    public: PublicKey,
}

impl std::fmt::Debug for EdSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AwsLcSigner(EdDSA)")
    }
}

impl Signer for EdSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::EdDsa
    }
    fn public_key(&self) -> PublicKey {
        self.public.clone()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        Ok(self.pair.sign(message).as_ref().to_vec())
    }
}
