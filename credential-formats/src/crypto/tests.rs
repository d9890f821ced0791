//! Provider equivalence: whatever one provider signs, every provider verifies; key agreement
//! gives the same secret everywhere; keys survive their serialisations and never print.

use super::*;
use crate::jose::{Jwk, PrivateJwk};

fn providers() -> Vec<&'static dyn CryptoProvider> {
    #[allow(unused_mut)]
    let mut out: Vec<&'static dyn CryptoProvider> = vec![&RustCrypto];
    #[cfg(feature = "aws-lc")]
    out.push(&AwsLc);
    out
}

const ALGORITHMS: [SignatureAlgorithm; 2] = [SignatureAlgorithm::Es256, SignatureAlgorithm::EdDsa];

#[test]
fn signatures_from_each_provider_verify_with_each_provider() {
    for algorithm in ALGORITHMS {
        let secret = SecretKey::generate(algorithm).unwrap();
        for signer_provider in providers() {
            let signer = signer_provider.signer(&secret).unwrap();
            assert_eq!(signer.algorithm(), algorithm);
            assert_eq!(signer.public_key(), secret.public_key());
            let signature = signer.sign(b"message").unwrap();
            assert_eq!(signature.len(), 64);
            for verifier in providers() {
                verifier
                    .verify(&secret.public_key(), b"message", &signature)
                    .unwrap();
                assert_eq!(
                    verifier.verify(&secret.public_key(), b"massage", &signature),
                    Err(JoseError::InvalidSignature),
                    "{} -> {}",
                    signer_provider.name(),
                    verifier.name()
                );
            }
        }
    }
}

#[test]
fn rfc8032_ed25519_signatures_are_identical_across_providers() {
    let secret = SecretKey::ed25519(&[9u8; 32]);
    let signatures: Vec<Vec<u8>> = providers()
        .into_iter()
        .map(|p| p.signer(&secret).unwrap().sign(b"deterministic").unwrap())
        .collect();
    assert!(signatures.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn rfc7518_4_6_ecdh_agreement_is_equal_across_providers_and_sides() {
    let alice = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let bob = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let mut secrets = Vec::new();
    for provider in providers() {
        secrets.push(*provider.ecdh_p256(&alice, &bob.public_key()).unwrap());
        secrets.push(*provider.ecdh_p256(&bob, &alice.public_key()).unwrap());
    }
    assert!(secrets.windows(2).all(|w| w[0] == w[1]));
    // Ed25519 keys are not ECDH keys.
    let ed = SecretKey::generate(SignatureAlgorithm::EdDsa).unwrap();
    for provider in providers() {
        assert!(matches!(
            provider.ecdh_p256(&ed, &bob.public_key()),
            Err(JoseError::InvalidKey(_))
        ));
        assert!(matches!(
            provider.ecdh_p256(&alice, &ed.public_key()),
            Err(JoseError::InvalidKey(_))
        ));
    }
}

#[test]
fn secret_keys_round_trip_through_bytes_and_private_jwks() {
    for algorithm in ALGORITHMS {
        let secret = SecretKey::generate(algorithm).unwrap();
        let bytes = secret.to_bytes();
        let again = match algorithm {
            SignatureAlgorithm::Es256 => SecretKey::p256(&bytes).unwrap(),
            SignatureAlgorithm::EdDsa => SecretKey::ed25519(&bytes),
        };
        assert_eq!(again.public_key(), secret.public_key());

        let jwk = PrivateJwk::new(secret.clone(), Some("k-1".into()));
        let json = jwk.to_json();
        let back = PrivateJwk::from_json(&json).unwrap();
        assert_eq!(back.secret().public_key(), secret.public_key());
        assert_eq!(back.kid(), Some("k-1"));
        assert_eq!(back.public(), Jwk::new(secret.public_key()).with_kid("k-1"));
    }
    // A `d` that does not match the public members is refused.
    let a = PrivateJwk::new(
        SecretKey::generate(SignatureAlgorithm::Es256).unwrap(),
        None,
    );
    let b = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
    value["d"] = serde_json::Value::from(crate::b64::encode(*b.to_bytes()));
    assert!(matches!(
        PrivateJwk::from_json(&value.to_string()),
        Err(JoseError::InvalidKey(_))
    ));
}

#[test]
fn p256_scalars_zero_and_not_below_the_order_are_refused() {
    assert!(SecretKey::p256(&[0u8; 32]).is_err());
    assert!(SecretKey::p256(&[0xff; 32]).is_err());
}

#[test]
fn debug_output_never_shows_secret_key_bytes() {
    for algorithm in ALGORITHMS {
        let secret = SecretKey::generate(algorithm).unwrap();
        let bytes = secret.to_bytes();
        let encodings = [
            crate::b64::encode(*bytes),
            crate::b64::encode_standard(*bytes),
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            format!("{:?}", &bytes[..]),
        ];
        let jwk = PrivateJwk::new(secret.clone(), None);
        let mut printed = vec![format!("{secret:?}"), format!("{jwk:?}")];
        for provider in providers() {
            printed.push(format!("{:?}", provider.signer(&secret).unwrap()));
        }
        for text in printed {
            for encoding in &encodings {
                assert!(!text.contains(encoding.as_str()), "{text}");
            }
        }
    }
}

#[test]
fn random_hex_ids_are_lower_case_hex_and_never_start_like_an_option() {
    for _ in 0..64 {
        let id = super::random_hex(16).unwrap();
        assert_eq!(id.len(), 32);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }
    assert_ne!(
        super::random_hex(16).unwrap(),
        super::random_hex(16).unwrap()
    );
}
