#![no_main]
//! OpenID4VCI messages: `CredentialOfferUri::parse`, `CredentialOffer::parse`,
//! `CredentialIssuerMetadata::parse`, `TokenRequest::parse_form`, and `verify_proof` (on
//! arbitrary text, and on arbitrary claims signed by a key carried in the `jwk` header). What
//! parses must survive its own serialisation.

mod common;

use credential_formats::jose::{Jwk, JwsHeader, sign_compact};
use credential_formats::oid4vci::{
    CredentialIssuerMetadata, CredentialOffer, CredentialOfferUri, ProofTimePolicy, TokenRequest,
    verify_proof,
};
use libfuzzer_sys::fuzz_target;

const ISSUER: &str = "https://issuer.example.com";

fuzz_target!(|data: &[u8]| {
    let Some((selector, text)) = common::selector_and_text(data) else {
        return;
    };
    match selector % 6 {
        0 => {
            if let Ok(uri) = CredentialOfferUri::parse(text) {
                let again = CredentialOfferUri::parse(&uri.to_uri());
                assert!(again.is_ok_and(|u| u == uri), "offer URI round trip");
            }
        }
        1 => {
            if let Ok(offer) = CredentialOffer::parse(text.as_bytes()) {
                let again = CredentialOffer::parse(offer.to_json().as_bytes());
                assert!(again.is_ok_and(|o| o == offer), "offer round trip");
            }
        }
        2 => {
            if let Ok(metadata) = CredentialIssuerMetadata::parse(text.as_bytes()) {
                let json = metadata.to_json();
                let again = CredentialIssuerMetadata::parse(json.as_bytes());
                assert!(
                    again.is_ok_and(|m| m.to_json() == json),
                    "metadata round trip"
                );
                let _ = metadata.check_issuer(ISSUER);
            }
        }
        3 => {
            if let Ok(request) = TokenRequest::parse_form(text) {
                let again = TokenRequest::parse_form(&request.to_form());
                assert!(
                    again.is_ok_and(|r| r == request),
                    "token request round trip"
                );
            }
        }
        4 => {
            let _ = verify_proof(
                common::provider(),
                text,
                ISSUER,
                common::NOW,
                ProofTimePolicy::default(),
            );
        }
        _ => {
            // Arbitrary claims in a validly signed proof, its key in the `jwk` header.
            let holder = common::holder_signer();
            let header = JwsHeader::new("openid4vci-proof+jwt")
                .with_jwk(Jwk::new(common::holder_secret().public_key()));
            let Ok(compact) = sign_compact(&header, text.as_bytes(), holder) else {
                return;
            };
            if let Ok(proof) = verify_proof(
                common::provider(),
                &compact,
                ISSUER,
                common::NOW,
                ProofTimePolicy::default(),
            ) {
                assert!(proof.iat <= common::NOW + 60 && proof.iat >= common::NOW - 300);
            }
        }
    }
});
