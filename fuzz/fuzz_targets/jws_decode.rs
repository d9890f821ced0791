#![no_main]
//! Compact JWS decoding and verification: any input either decodes to a header with an allowed
//! `alg` or fails with a `JoseError`; verification with a fixed key never panics.

mod common;

use credential_formats::crypto::{AwsLc, RustCrypto, SecretKey};
use credential_formats::jose::DecodedJws;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(jws) = DecodedJws::decode(text) {
        let _ = jws.header().alg();
        let _ = jws.unverified_payload();
        let p256 = common::issuer_public();
        let ed25519 = SecretKey::ed25519(&[1u8; 32]).public_key();
        for key in [&p256, &ed25519] {
            if let Ok(verified) = jws.clone().verify(&RustCrypto, key, "JWT") {
                let _ = verified.claims(64 * 1024);
            }
            let _ = jws.clone().verify(&AwsLc, key, "JWT");
        }
    }
});
