//! Fixed keys, clock and helpers shared by the fuzz targets. Everything here is deterministic so
//! that a crash reproduces from its input alone.
#![allow(dead_code)]

use credential_formats::crypto::{AwsLc, CryptoProvider, PublicKey, SecretKey, Signer};
use credential_formats::jose::{JwsHeader, PrivateJwk, sign_compact};
use credential_formats::time::UnixTime;
use std::sync::OnceLock;

/// RFC 9901 Appendix A.5 example issuer key: the specification's SD-JWT examples verify with
/// it, so `spec/vectors/` make useful seeds. Used as the fixed key of every signed format.
pub const ISSUER_JWK: &str = r#"{"kty":"EC","d":"Ur2bNKuBPOrAaxsRnbSH6hIhmNTxSGXshDSUD1a1y7g","crv":"P-256","x":"b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ","y":"Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}"#;

/// RFC 9901 examples' holder key (`cnf.jwk`).
pub const HOLDER_JWK: &str = r#"{"kty":"EC","d":"5K5SCos8zf9zRemGGUl6yfok-_NiiryNZsvANWMhF-I","crv":"P-256","x":"TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc","y":"ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}"#;

/// The fixed "now": after the RFC 9901 examples' `iat`, before any example `exp`.
pub const NOW: UnixTime = 1_750_000_000;

/// The fixed verifier audience and nonce for key binding.
pub const AUD: &str = "https://verifier.example.org";
pub const NONCE: &str = "1234567890";

/// AWS-LC: several times faster than the pure Rust provider, and its C code is not
/// instrumented, so executions go to the parsers. `jws_decode` and `jwe_decrypt` also drive
/// `RustCrypto`.
pub fn provider() -> &'static dyn CryptoProvider {
    &AwsLc
}

fn load(text: &str) -> SecretKey {
    match PrivateJwk::from_json(text) {
        Ok(jwk) => jwk.secret().clone(),
        Err(err) => panic!("fixed key does not load: {err}"),
    }
}

pub fn issuer_secret() -> &'static SecretKey {
    static KEY: OnceLock<SecretKey> = OnceLock::new();
    KEY.get_or_init(|| load(ISSUER_JWK))
}

pub fn issuer_public() -> PublicKey {
    issuer_secret().public_key()
}

pub fn holder_secret() -> &'static SecretKey {
    static KEY: OnceLock<SecretKey> = OnceLock::new();
    KEY.get_or_init(|| load(HOLDER_JWK))
}

pub fn issuer_signer() -> &'static dyn Signer {
    static SIGNER: OnceLock<Box<dyn Signer>> = OnceLock::new();
    SIGNER
        .get_or_init(|| match AwsLc.signer(issuer_secret()) {
            Ok(s) => s,
            Err(err) => panic!("fixed signer: {err}"),
        })
        .as_ref()
}

pub fn holder_signer() -> &'static dyn Signer {
    static SIGNER: OnceLock<Box<dyn Signer>> = OnceLock::new();
    SIGNER
        .get_or_init(|| match AwsLc.signer(holder_secret()) {
            Ok(s) => s,
            Err(err) => panic!("fixed signer: {err}"),
        })
        .as_ref()
}

/// Signs `payload` under `header` with the fixed issuer key: lets a target get past the
/// signature check with a mutated payload.
pub fn resign(header: &JwsHeader, payload: &[u8]) -> Option<String> {
    sign_compact(header, payload, issuer_signer()).ok()
}

/// Splits fuzz input into a selector byte and UTF-8 text.
pub fn selector_and_text(data: &[u8]) -> Option<(u8, &str)> {
    let (&first, rest) = data.split_first()?;
    Some((first, std::str::from_utf8(rest).ok()?))
}

/// The RFC 9901 examples' issuer JWT `typ`.
pub const EXAMPLE_TYP: &str = "example+sd-jwt";

/// Checks what every accepted SD-JWT must satisfy (RFC 9901 §7.1 steps 3–5): each disclosed
/// path selects a value in the processed claims, and no `_sd`, `_sd_alg` or `{"...": digest}`
/// array element is left anywhere in them.
pub fn check_processed(verified: &credential_formats::sd_jwt::VerifiedSdJwt) {
    let root = serde_json::Value::Object(verified.claims().clone());
    for path in verified.disclosed_paths() {
        assert!(
            path.select(&root).is_ok_and(|v| !v.is_empty()),
            "disclosed path {path:?} absent from the processed claims"
        );
    }
    assert!(
        !has_sd_artifacts(&root, 0),
        "SD-JWT artifacts left in the processed claims"
    );
}

fn has_sd_artifacts(value: &serde_json::Value, depth: usize) -> bool {
    use serde_json::Value;
    if depth > 200 {
        return false;
    }
    match value {
        Value::Object(map) => {
            map.contains_key("_sd")
                || map.contains_key("_sd_alg")
                || map.values().any(|v| has_sd_artifacts(v, depth + 1))
        }
        Value::Array(items) => items.iter().any(|item| {
            matches!(item, Value::Object(map) if map.len() == 1 && map.contains_key("..."))
                || has_sd_artifacts(item, depth + 1)
        }),
        _ => false,
    }
}
