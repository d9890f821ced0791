#![no_main]
//! JWK decoding: `Jwk::from_value` on strictly parsed JSON and `PrivateJwk::from_json`. An
//! accepted key must survive a round trip through its own serialisation.

use credential_formats::jose::{Jwk, PrivateJwk};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = credential_formats::json::parse(data, 64 * 1024)
        && let Ok(jwk) = Jwk::from_value(&value)
    {
        let again = Jwk::from_value(&jwk.to_value());
        assert!(
            again.as_ref().is_ok_and(|k| k == &jwk),
            "public JWK round trip"
        );
        let _ = jwk.thumbprint();
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(private) = PrivateJwk::from_json(text)
    {
        let public = private.public();
        assert!(public.key() == &private.secret().public_key());
        let again = PrivateJwk::from_json(&private.to_json());
        assert!(
            again.is_ok_and(|k| k.secret().to_bytes() == private.secret().to_bytes()),
            "private JWK round trip"
        );
    }
});
