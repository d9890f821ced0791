#![no_main]
//! Compact JWS decoding and verification: any input either decodes to a header with an allowed
//! `alg` or fails with a `JoseError`; verification with a fixed key never panics.

use credential_formats::crypto::{RustCrypto, SecretKey};
use credential_formats::jose::DecodedJws;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(jws) = DecodedJws::decode(text) {
        let key = SecretKey::p256(&[1u8; 32]).expect("valid scalar").public_key();
        let _ = jws.verify(&RustCrypto, &key, "JWT");
    }
});
