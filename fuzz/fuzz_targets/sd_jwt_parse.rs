#![no_main]
//! SD-JWT: `SdJwt::parse` on arbitrary text, then `verify` with the fixed issuer key (RFC 9901
//! A.5) under both key binding policies, `sd_jwt_vc::verify`, and `Disclosure::parse`. Accepted
//! results must satisfy the processing invariants.

mod common;

use credential_formats::sd_jwt::{
    Disclosure, KeyBindingPolicy, KeyBindingRequirements, SdJwt, Verification,
};
use credential_formats::sd_jwt_vc::{self, VcVerification};
use credential_formats::time::FixedClock;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(disclosure) = Disclosure::parse(text) {
        assert_eq!(disclosure.as_str(), text);
        assert!(!matches!(disclosure.claim_name(), Some("_sd" | "...")));
    }
    let Ok(sd_jwt) = SdJwt::parse(text) else {
        return;
    };
    let _ = SdJwt::parse(&sd_jwt.serialize());
    let _ = sd_jwt.presentation_without_key_binding();
    let key = common::issuer_public();
    let provider = common::provider();
    let clock = FixedClock(common::NOW);
    let required =
        || KeyBindingPolicy::Required(KeyBindingRequirements::new(common::AUD, common::NONCE));
    for policy in [KeyBindingPolicy::NotRequired, required()] {
        let is_required = matches!(policy, KeyBindingPolicy::Required(_));
        let verification = Verification::new(common::EXAMPLE_TYP, policy, &clock);
        if let Ok(verified) = sd_jwt.verify(&key, provider, &verification) {
            common::check_processed(&verified);
            assert!(!is_required || verified.key_binding().is_some());
        }
        let vc = VcVerification::new(
            if is_required {
                required()
            } else {
                KeyBindingPolicy::NotRequired
            },
            &clock,
        );
        if let Ok(verified) = sd_jwt_vc::verify(&sd_jwt, &key, provider, &vc) {
            common::check_processed(verified.sd_jwt());
        }
    }
});
