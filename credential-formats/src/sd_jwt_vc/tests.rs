//! SD-JWT VC tests (draft-ietf-oauth-sd-jwt-vc-13).

use super::*;
use crate::Error;
use crate::claims_path::ClaimsPath;
use crate::crypto::{CryptoProvider, RustCrypto, SecretKey, SignatureAlgorithm, Signer};
use crate::jose::{Jwk, JwsHeader};
use crate::sd_jwt::{
    KeyBinding, KeyBindingPolicy, KeyBindingRequirements, SdJwt, SdJwtBuilder, SdJwtError,
};
use crate::status_list::StatusReference;
use crate::time::FixedClock;
use serde_json::{Value, json};

const NOW: i64 = 1_700_000_000;
const ISS: &str = "https://issuer.example.gov";
const VCT: &str = "https://credentials.example.gov/person-attestation";

fn signer() -> (SecretKey, Box<dyn Signer>) {
    let key = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let signer = RustCrypto.signer(&key).unwrap();
    (key, signer)
}

fn path(v: Value) -> ClaimsPath {
    serde_json::from_value(v).unwrap()
}

fn builder(holder: &SecretKey) -> SdJwtVcBuilder {
    SdJwtVcBuilder::new(ISS, VCT)
        .issued_at(NOW - 60)
        .expires_at(NOW + 3600)
        .holder_key(Jwk::new(holder.public_key()))
        .status(StatusReference::new(42, "https://issuer.example.gov/status/1").unwrap())
        .kid("key-1")
        .claim("age_over_18", json!(true))
        .unwrap()
        .claim("person_handle", json!("h-123"))
        .unwrap()
        .disclosable(path(json!(["age_over_18"])))
        .unwrap()
        .disclosable(path(json!(["person_handle"])))
        .unwrap()
        .decoys(2)
}

fn not_required(clock: &FixedClock) -> VcVerification<'_> {
    VcVerification::new(KeyBindingPolicy::NotRequired, clock)
}

#[test]
fn draft13_3_2_2_2_builder_refuses_to_hide_the_profile_claims() {
    for claim in NON_DISCLOSABLE_CLAIMS {
        let err = SdJwtVcBuilder::new(ISS, VCT)
            .disclosable(ClaimsPath::keys([claim]).unwrap())
            .unwrap_err();
        assert_eq!(err, SdJwtVcError::NotDisclosable(claim));
    }
    let err = SdJwtVcBuilder::new(ISS, VCT)
        .disclosable(path(json!(["cnf", "jwk"])))
        .unwrap_err();
    assert_eq!(err, SdJwtVcError::NotDisclosable("cnf"));
    let err = SdJwtVcBuilder::new(ISS, VCT)
        .claim("exp", json!(1))
        .unwrap_err();
    assert_eq!(err, SdJwtVcError::ManagedClaim("exp"));
}

#[test]
fn draft13_3_issue_present_verify_with_typed_accessors() {
    let (issuer, issuer_signer) = signer();
    let (holder, holder_signer) = signer();
    let issued = builder(&holder).issue(&*issuer_signer).unwrap();
    assert_eq!(issued.unverified_header().typ(), Some(TYP));
    assert_eq!(issued.unverified_kid(), Some("key-1"));
    let presented = issued
        .present(&[path(json!(["age_over_18"]))])
        .unwrap()
        .bind(
            &KeyBinding::new("https://rp.example", "nonce-1", NOW),
            &*holder_signer,
        )
        .unwrap();
    let clock = FixedClock(NOW);
    let verification = VcVerification::new(
        KeyBindingPolicy::Required(KeyBindingRequirements::new("https://rp.example", "nonce-1")),
        &clock,
    )
    .with_expected_vct(VCT);
    let parsed = SdJwt::parse(&presented.serialize()).unwrap();
    let verified = verify(&parsed, &issuer.public_key(), &RustCrypto, &verification).unwrap();
    assert_eq!(verified.vct(), VCT);
    assert_eq!(verified.iss(), ISS);
    assert_eq!(verified.iat(), Some(NOW - 60));
    assert_eq!(verified.exp(), Some(NOW + 3600));
    assert_eq!(verified.nbf(), None);
    assert_eq!(verified.cnf_jwk(), Some(&Jwk::new(holder.public_key())));
    let status = verified.status_reference().unwrap();
    assert_eq!(
        (status.idx(), status.uri()),
        (42, "https://issuer.example.gov/status/1")
    );
    assert_eq!(verified.claims()["age_over_18"], json!(true));
    assert!(!verified.claims().contains_key("person_handle"));
    assert_eq!(verified.disclosed_paths(), [path(json!(["age_over_18"]))]);
    assert_eq!(verified.key_binding().unwrap()["nonce"], "nonce-1");
    assert_eq!(
        verify(&parsed, &issuer.public_key(), &RustCrypto, &verification).unwrap(),
        verified
    );
}

#[test]
fn draft13_3_2_2_2_time_claims_are_checked_and_must_be_integers() {
    let (issuer, issuer_signer) = signer();
    let (holder, _) = signer();
    let clock = FixedClock(NOW);
    let check = |sd_jwt: &SdJwt, v: &VcVerification<'_>| {
        verify(sd_jwt, &issuer.public_key(), &RustCrypto, v).unwrap_err()
    };
    let expired = builder(&holder)
        .expires_at(NOW - 3600)
        .issue(&*issuer_signer)
        .unwrap();
    assert_eq!(
        check(&expired, &not_required(&clock)),
        Error::SdJwt(SdJwtError::Expired)
    );
    let early = builder(&holder)
        .not_before(NOW + 3600)
        .issue(&*issuer_signer)
        .unwrap();
    assert_eq!(
        check(&early, &not_required(&clock)),
        Error::SdJwt(SdJwtError::NotYetValid)
    );
    let no_exp = SdJwtVcBuilder::new(ISS, VCT)
        .issue(&*issuer_signer)
        .unwrap();
    assert_eq!(
        check(&no_exp, &not_required(&clock)),
        Error::SdJwtVc(SdJwtVcError::MissingExpiry)
    );
    assert!(
        verify(
            &no_exp,
            &issuer.public_key(),
            &RustCrypto,
            &not_required(&clock).exp_optional()
        )
        .is_ok()
    );
    for bad in [json!("1900000000"), json!(1.9e9), json!(true)] {
        let raw = SdJwtBuilder::new(
            json!({"iss": ISS, "vct": VCT, "exp": bad})
                .as_object()
                .unwrap()
                .clone(),
            JwsHeader::new(TYP),
        )
        .issue(&*issuer_signer)
        .unwrap();
        assert_eq!(
            check(&raw, &not_required(&clock)),
            Error::SdJwt(SdJwtError::InvalidTimeClaim("exp")),
            "exp as a non-integer is never treated as absent"
        );
    }
}

#[test]
fn draft13_3_2_profile_claims_and_typ() {
    let (issuer, issuer_signer) = signer();
    let clock = FixedClock(NOW);
    let raw = |claims: Value, typ: &str| {
        SdJwtBuilder::new(claims.as_object().unwrap().clone(), JwsHeader::new(typ))
            .issue(&*issuer_signer)
            .unwrap()
    };
    let check = |sd_jwt: &SdJwt, v: &VcVerification<'_>| {
        verify(sd_jwt, &issuer.public_key(), &RustCrypto, v)
    };
    let v = not_required(&clock).exp_optional();
    assert_eq!(
        check(&raw(json!({"iss": ISS}), TYP), &v).unwrap_err(),
        SdJwtVcError::MissingVct.into()
    );
    assert_eq!(
        check(&raw(json!({"iss": ISS, "vct": 1}), TYP), &v).unwrap_err(),
        SdJwtVcError::MissingVct.into()
    );
    assert_eq!(
        check(&raw(json!({"vct": VCT}), TYP), &v).unwrap_err(),
        SdJwtVcError::MissingIssuer.into()
    );
    assert_eq!(
        check(
            &raw(json!({"iss": ISS, "vct": "other"}), TYP),
            &v.clone().with_expected_vct(VCT)
        )
        .unwrap_err(),
        SdJwtVcError::UnexpectedVct.into()
    );
    assert_eq!(
        check(&raw(json!({"iss": ISS, "vct": VCT, "status": {"status_list": {"idx": "1", "uri": "x"}}}), TYP), &v).unwrap_err(),
        crate::StatusListError::Invalid("idx").into()
    );
    assert_eq!(
        check(&raw(json!({"iss": ISS, "vct": VCT, "sub": 7}), TYP), &v).unwrap_err(),
        SdJwtVcError::InvalidClaim("sub").into()
    );
    // Legacy typ: accepted by default (draft-13 §3.2.1 RECOMMENDS it), refusable.
    let legacy = raw(json!({"iss": ISS, "vct": VCT}), LEGACY_TYP);
    assert!(check(&legacy, &v).is_ok());
    assert!(matches!(
        check(&legacy, &v.clone().reject_legacy_typ()).unwrap_err(),
        Error::SdJwt(SdJwtError::IssuerJwt(
            crate::jose::JoseError::UnexpectedType { .. }
        ))
    ));
    assert!(matches!(
        check(&raw(json!({"iss": ISS, "vct": VCT}), "example+sd-jwt"), &v).unwrap_err(),
        Error::SdJwt(SdJwtError::IssuerJwt(
            crate::jose::JoseError::UnexpectedType { .. }
        ))
    ));
}

#[test]
fn draft13_rfc9901_a3_pid_presentation_verifies_as_an_sd_jwt_vc() {
    let text = include_str!("../../../spec/vectors/rfc9901-a3-presentation.txt");
    let sd_jwt = SdJwt::parse(text.trim()).unwrap();
    let clock = FixedClock(1_748_537_244);
    let verification = VcVerification::new(
        KeyBindingPolicy::Required(KeyBindingRequirements::new(
            "https://verifier.example.org",
            "1234567890",
        )),
        &clock,
    )
    .with_expected_vct("urn:eudi:pid:de:1");
    let key = crate::sd_jwt::vectors::issuer_key();
    let verified = verify(&sd_jwt, &key, &RustCrypto, &verification).unwrap();
    assert_eq!(verified.iss(), "https://pid-issuer.bund.de.example");
    assert_eq!(verified.exp(), Some(1_883_000_000));
    assert_eq!(verified.claims()["age_equal_or_over"]["18"], json!(true));
}

#[test]
fn draft13_4_issuer_metadata_has_exactly_one_key_source() {
    let (issuer, _) = signer();
    let jwk = Jwk::new(issuer.public_key()).to_value();
    let ok = JwtVcIssuerMetadata::parse(
        serde_json::to_vec(&json!({"issuer": ISS, "jwks": {"keys": [jwk]}}))
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    assert!(matches!(ok.keys(), IssuerKeys::Jwks(keys) if keys.len() == 1));
    assert!(ok.check_issuer(ISS).is_ok());
    assert_eq!(
        ok.check_issuer("https://other.example"),
        Err(SdJwtVcError::MetadataIssuerMismatch)
    );
    let by_uri = JwtVcIssuerMetadata::parse(
        br#"{"issuer": "https://issuer.example.gov", "jwks_uri": "https://issuer.example.gov/jwks"}"#,
    )
    .unwrap();
    assert_eq!(
        by_uri.keys(),
        &IssuerKeys::JwksUri("https://issuer.example.gov/jwks".into())
    );
    let round_trip: JwtVcIssuerMetadata =
        serde_json::from_value(serde_json::to_value(&by_uri).unwrap()).unwrap();
    assert_eq!(round_trip, by_uri);
    for bad in [
        json!({"issuer": ISS}),
        json!({"issuer": ISS, "jwks": {"keys": [jwk]}, "jwks_uri": "https://x.example/jwks"}),
        json!({"issuer": "http://issuer.example", "jwks_uri": "https://x.example/jwks"}),
        json!({"issuer": ISS, "jwks_uri": "http://x.example/jwks"}),
        json!({"issuer": ISS, "jwks": {"keys": []}}),
        json!({"issuer": ISS, "jwks": {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}}),
    ] {
        let err = JwtVcIssuerMetadata::parse(&serde_json::to_vec(&bad).unwrap()).unwrap_err();
        assert!(matches!(err, Error::Json(_)), "{bad}: {err}");
    }
    assert_eq!(
        JwtVcIssuerMetadata::new(
            "https:///path",
            IssuerKeys::JwksUri("https://x.example".into())
        )
        .unwrap_err(),
        SdJwtVcError::InvalidMetadata("issuer is not an https URL")
    );
}

#[test]
fn draft13_4_2_printed_issuer_metadata_examples_decode() {
    let jwks = JwtVcIssuerMetadata::parse(include_bytes!(
        "../../../spec/vectors/sd-jwt-vc-13-4.2-issuer-metadata-jwks.json"
    ))
    .unwrap();
    assert_eq!(jwks.issuer(), "https://example.com");
    assert!(jwks.check_issuer("https://example.com").is_ok());
    match jwks.keys() {
        IssuerKeys::Jwks(keys) => {
            let kids: Vec<Option<&str>> = keys.iter().map(|k| k.kid()).collect();
            assert_eq!(
                kids,
                [Some("doc-signer-05-25-2022"), Some("doc-signer-06-05-2025")]
            );
        }
        other => panic!("expected jwks, got {other:?}"),
    }
    let by_uri = JwtVcIssuerMetadata::parse(include_bytes!(
        "../../../spec/vectors/sd-jwt-vc-13-4.2-issuer-metadata-jwks-uri.json"
    ))
    .unwrap();
    assert_eq!(
        by_uri.keys(),
        &IssuerKeys::JwksUri("https://jwt-vc-issuer.example.com/my_public_keys.jwks".into())
    );
    assert_eq!(
        by_uri.check_issuer("https://example.com/").unwrap_err(),
        SdJwtVcError::MetadataIssuerMismatch
    );
}
