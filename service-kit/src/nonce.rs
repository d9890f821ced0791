//! Stateless nonces (the issuer's `c_nonce`, the ledger's account nonce): nothing is written
//! when one is handed out, so the endpoint that gives them costs no storage. A nonce is
//! `random(16) ‖ exp(8, big-endian) ‖ HMAC-SHA256(key, label ‖ u64be(24) ‖ random ‖ exp)[..16]`,
//! base64url; the service records a nonce only when it is used, to refuse it a second time.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

fn tag(key: &[u8; 32], label: &[u8], body: &[u8]) -> Option<[u8; 16]> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()?;
    mac.update(label);
    mac.update(&(body.len() as u64).to_be_bytes());
    mac.update(body);
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&full[..16]);
    Some(tag)
}

/// A fresh nonce valid until `expires_at`, under `key` and the service's `label`.
pub fn make(
    key: &[u8; 32],
    label: &[u8],
    expires_at: i64,
) -> Result<String, credential_formats::JoseError> {
    let mut bytes = [0u8; 40];
    credential_formats::crypto::fill_random(&mut bytes[..16])?;
    bytes[16..24].copy_from_slice(&expires_at.to_be_bytes());
    let tag = tag(key, label, &bytes[..24]).ok_or(credential_formats::JoseError::InvalidKey(
        "the nonce MAC key",
    ))?;
    bytes[24..].copy_from_slice(&tag);
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The nonce's expiry, if it was made under `key` and `label` and has not expired at `now`.
pub fn check(key: &[u8; 32], label: &[u8], nonce: &str, now: i64) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(nonce).ok()?;
    if bytes.len() != 40 {
        return None;
    }
    if !bool::from(tag(key, label, &bytes[..24])?.ct_eq(&bytes[24..])) {
        return None;
    }
    let mut exp = [0u8; 8];
    exp.copy_from_slice(&bytes[16..24]);
    let expires_at = i64::from_be_bytes(exp);
    (expires_at > now).then_some(expires_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABEL: &[u8] = b"c_nonce/v1";

    #[test]
    fn nonces_check_until_they_expire_and_only_under_their_key_and_label() {
        let k = [1u8; 32];
        let nonce = make(&k, LABEL, 1_000).unwrap();
        assert_eq!(check(&k, LABEL, &nonce, 999), Some(1_000));
        assert_eq!(check(&k, LABEL, &nonce, 1_000), None);
        assert_eq!(check(&[2u8; 32], LABEL, &nonce, 999), None);
        assert_eq!(check(&k, b"credits c_nonce/v1", &nonce, 999), None);
        assert_ne!(
            make(&k, LABEL, 1_000).unwrap(),
            nonce,
            "128 random bits each"
        );
    }

    #[test]
    fn a_tampered_or_malformed_nonce_is_refused() {
        let k = [1u8; 32];
        let nonce = make(&k, LABEL, 1_000).unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
        // Pushing the expiry forward breaks the MAC.
        bytes[23] ^= 1;
        assert_eq!(check(&k, LABEL, &URL_SAFE_NO_PAD.encode(&bytes), 0), None);
        assert_eq!(check(&k, LABEL, "not base64 !", 0), None);
        assert_eq!(check(&k, LABEL, &nonce[..40], 0), None);
        assert_eq!(check(&k, LABEL, "", 0), None);
    }
}
