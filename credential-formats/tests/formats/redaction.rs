//! `Debug` output of the types a service is tempted to log never carries a secret or a claim
//! value: tokens, codes, nonces and payloads stay out of it.

use credential_formats::crypto::{CryptoProvider, RustCrypto, SecretKey, SignatureAlgorithm};
use credential_formats::jose::{DecodedJws, JwsHeader, sign_compact};
use credential_formats::oid4vci::TokenRequest;
use credential_formats::oid4vp::VpToken;

#[test]
fn debug_output_holds_no_token_code_or_claim() {
    let key = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let jws = sign_compact(
        &JwsHeader::new("JWT"),
        br#"{"family_name":"Secret-Surname"}"#,
        &*RustCrypto.signer(&key).unwrap(),
    )
    .unwrap();
    let decoded = DecodedJws::decode(&jws).unwrap();
    let verified = decoded
        .clone()
        .verify(&RustCrypto, &key.public_key(), "JWT")
        .unwrap();
    let payload_b64 = jws.split('.').nth(1).unwrap();
    for shown in [
        format!("{decoded:?}"),
        format!("{verified:?}"),
        format!("{key:?}"),
    ] {
        assert!(!shown.contains("Secret-Surname"), "{shown}");
        assert!(!shown.contains(payload_b64), "{shown}");
    }

    let request = TokenRequest::parse_form(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code\
         &pre-authorized_code=SplxlOBeZQQYbYS6WxSbIA&tx_code=493536",
    )
    .unwrap();
    let shown = format!("{request:?}");
    assert!(
        !shown.contains("SplxlOBeZQQYbYS6WxSbIA") && !shown.contains("493536"),
        "{shown}"
    );
    assert!(shown.contains("has_tx_code: true"), "{shown}");

    let token = VpToken::new(vec![("age".to_owned(), vec![jws.clone() + "~"])]).unwrap();
    let shown = format!("{token:?}");
    assert!(
        !shown.contains(payload_b64) && shown.contains("\"age\": 1"),
        "{shown}"
    );
}
