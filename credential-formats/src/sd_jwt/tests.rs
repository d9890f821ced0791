//! Behaviour and bad-input tests: every refusal asserts its own variant.

use super::vectors::{holder_secret, providers};
use super::*;
use crate::b64;
use crate::claims_path::{ClaimsPath, PathElement};
use crate::crypto::{
    CryptoProvider, RustCrypto, SecretKey, SignatureAlgorithm, Signer, default_provider,
};
use crate::jose::{JoseError, Jwk, JwsHeader, sign_compact};
use crate::json::JsonError;
use crate::time::FixedClock;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const NOW: i64 = 1_700_000_000;
const AUD: &str = "https://verifier.example.org";
const NONCE: &str = "n-0S6_WzA2Mj";
const TYP: &str = "example+sd-jwt";

struct Keys {
    issuer: SecretKey,
    issuer_signer: Box<dyn Signer>,
    holder: SecretKey,
    holder_signer: Box<dyn Signer>,
}

fn keys() -> Keys {
    let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let holder = holder_secret();
    Keys {
        issuer_signer: RustCrypto.signer(&issuer).unwrap(),
        holder_signer: RustCrypto.signer(&holder).unwrap(),
        issuer,
        holder,
    }
}

fn obj(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn path(value: Value) -> ClaimsPath {
    serde_json::from_value(value).unwrap()
}

fn required() -> KeyBindingPolicy {
    KeyBindingPolicy::Required(KeyBindingRequirements::new(AUD, NONCE))
}

fn verify_at(
    sd_jwt: &SdJwt,
    k: &Keys,
    policy: KeyBindingPolicy,
    now: i64,
) -> Result<VerifiedSdJwt, SdJwtError> {
    let clock = FixedClock(now);
    let verification = Verification::new(TYP, policy, &clock);
    let mut results = providers()
        .into_iter()
        .map(|provider| sd_jwt.verify(&k.issuer.public_key(), provider, &verification));
    let first = results.next().unwrap();
    for other in results {
        assert_eq!(other, first, "providers disagree");
    }
    first
}

fn verify_text(
    text: &str,
    k: &Keys,
    policy: KeyBindingPolicy,
) -> Result<VerifiedSdJwt, SdJwtError> {
    verify_at(&SdJwt::parse(text)?, k, policy, NOW)
}

fn credential() -> Map<String, Value> {
    obj(json!({
        "iss": "https://issuer.example",
        "iat": NOW - 10,
        "exp": NOW + 3600,
        "given_name": "Erika",
        "address": {"street_address": "Heidestraße 17", "locality": "Köln", "country": "DE"},
        "nationalities": ["DE", "FR"]
    }))
}

fn issue(k: &Keys) -> SdJwt {
    SdJwtBuilder::new(credential(), JwsHeader::new(TYP))
        .disclosable(path(json!(["given_name"])))
        .disclosable(path(json!(["address"])))
        .disclosable(path(json!(["address", "locality"])))
        .disclosable(path(json!(["nationalities", null])))
        .decoys(3)
        .holder_key(Jwk::new(k.holder.public_key()))
        .issue(&*k.issuer_signer)
        .unwrap()
}

/// Signs `payload` with the issuer key and appends `disclosures`: for structures the builder
/// would never make.
fn forge(k: &Keys, payload: Value, disclosures: &[&str]) -> String {
    let jwt = sign_compact(
        &JwsHeader::new(TYP),
        &serde_json::to_vec(&payload).unwrap(),
        &*k.issuer_signer,
    )
    .unwrap();
    let mut out = jwt + "~";
    for d in disclosures {
        out.push_str(d);
        out.push('~');
    }
    out
}

fn disclosure(value: Value) -> (String, String) {
    let text = b64::encode(serde_json::to_vec(&value).unwrap());
    let digest = HashAlgorithm::Sha256.digest(&text);
    (text, digest)
}

// --- issuance, presentation, verification ---------------------------------------------------

#[test]
fn rfc9901_4_2_issued_payload_hides_disclosable_claims_and_sorts_digests() {
    let k = keys();
    let sd_jwt = issue(&k);
    let payload = sd_jwt.unverified_payload();
    assert!(!payload.contains_key("given_name") && !payload.contains_key("address"));
    assert_eq!(payload["_sd_alg"], "sha-256");
    let sd: Vec<&str> = payload["_sd"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(sd.len(), 2 + 3, "two claims and three decoys");
    assert!(sd.windows(2).all(|w| w[0] <= w[1]), "sorted");
    assert!(payload["nationalities"][0].get("...").is_some());
    // 4 Disclosures: given_name, address, locality, and two nationalities.
    assert_eq!(sd_jwt.disclosures().len(), 5);
    for d in sd_jwt.disclosures() {
        assert_eq!(b64::decode(d.salt()).unwrap().len(), 16, "128-bit salt");
    }
    let text = sd_jwt.serialize();
    assert!(text.ends_with('~'));
    assert_eq!(SdJwt::parse(&text).unwrap().serialize(), text);
}

#[test]
fn rfc9901_7_1_full_issuance_processes_back_to_the_claims() {
    let k = keys();
    let verified = verify_at(&issue(&k), &k, KeyBindingPolicy::NotRequired, NOW).unwrap();
    let mut expected = credential();
    expected.insert(
        "cnf".into(),
        json!({"jwk": Jwk::new(k.holder.public_key()).to_value()}),
    );
    assert_eq!(verified.claims(), &expected);
    assert_eq!(
        verified.holder_key(),
        Some(&Jwk::new(k.holder.public_key()))
    );
}

#[test]
fn rfc9901_7_1_nested_claim_presentation_includes_its_parent_and_nothing_else() {
    let k = keys();
    let presented = issue(&k)
        .present(&[path(json!(["address", "locality"]))])
        .unwrap();
    assert_eq!(
        presented.disclosures().len(),
        2,
        "locality and its parent address"
    );
    let verified = verify_at(&presented, &k, KeyBindingPolicy::NotRequired, NOW).unwrap();
    assert_eq!(
        verified.claims()["address"],
        json!({"street_address": "Heidestraße 17", "country": "DE", "locality": "Köln"})
    );
    assert!(!verified.claims().contains_key("given_name"));
    assert_eq!(verified.claims()["nationalities"], json!([]));
    assert_eq!(
        presented
            .present(&[path(json!(["given_name"]))])
            .unwrap_err(),
        SdJwtError::ClaimNotFound,
        "a presentation cannot reveal what it does not hold"
    );
}

#[test]
fn rfc9901_4_3_key_binding_with_extra_claims_verifies() {
    let k = keys();
    let kb = KeyBinding::new(AUD, NONCE, NOW)
        .with_claim("transaction_data_hashes", json!(["abc"]))
        .with_claim("transaction_data_hashes_alg", json!("sha-256"))
        .with_claim("nonce", json!("ignored: managed"));
    let presented = issue(&k)
        .present(&[path(json!(["nationalities", 1]))])
        .unwrap()
        .bind(&kb, &*k.holder_signer)
        .unwrap();
    let verified = verify_at(&presented, &k, required(), NOW + 5).unwrap();
    assert_eq!(verified.claims()["nationalities"], json!(["FR"]));
    let claims = verified.key_binding().unwrap();
    assert_eq!(claims["transaction_data_hashes"], json!(["abc"]));
    assert_eq!(claims["nonce"], NONCE);
    // Verifying twice gives the same result.
    assert_eq!(
        verify_at(&presented, &k, required(), NOW + 5).unwrap(),
        verified
    );
}

#[test]
fn rfc9901_7_3_not_required_still_checks_a_present_kb_jwt() {
    let k = keys();
    let sd_jwt = issue(&k);
    let bound = sd_jwt
        .bind(&KeyBinding::new("other", "other", 0), &*k.holder_signer)
        .unwrap();
    assert!(
        verify_at(&bound, &k, KeyBindingPolicy::NotRequired, NOW)
            .unwrap()
            .key_binding()
            .is_some()
    );
    let other = RustCrypto
        .signer(&SecretKey::generate(SignatureAlgorithm::Es256).unwrap())
        .unwrap();
    let forged = sd_jwt
        .bind(&KeyBinding::new(AUD, NONCE, NOW), &*other)
        .unwrap();
    assert_eq!(
        verify_at(&forged, &k, KeyBindingPolicy::NotRequired, NOW).unwrap_err(),
        SdJwtError::KeyBindingJwt(JoseError::InvalidSignature)
    );
}

// --- key binding failures (RFC 9901 §7.3) ---------------------------------------------------

fn bound(k: &Keys, kb: &KeyBinding) -> SdJwt {
    issue(k)
        .present(&[path(json!(["given_name"]))])
        .unwrap()
        .bind(kb, &*k.holder_signer)
        .unwrap()
}

#[test]
fn rfc9901_7_3_stripped_kb_jwt_is_refused_when_required() {
    let k = keys();
    let stripped = bound(&k, &KeyBinding::new(AUD, NONCE, NOW)).presentation_without_key_binding();
    assert_eq!(
        verify_text(&stripped, &k, required()).unwrap_err(),
        SdJwtError::MissingKeyBinding
    );
}

#[test]
fn rfc9901_7_3_wrong_aud_nonce_and_times_are_refused() {
    let k = keys();
    let cases = [
        (
            KeyBinding::new("https://evil.example", NONCE, NOW),
            SdJwtError::AudienceMismatch,
        ),
        (
            KeyBinding::new(AUD, "replayed", NOW),
            SdJwtError::NonceMismatch,
        ),
        (
            KeyBinding::new(AUD, NONCE, NOW + 3600),
            SdJwtError::KeyBindingIssuedInFuture,
        ),
        (
            KeyBinding::new(AUD, NONCE, NOW - 3600),
            SdJwtError::KeyBindingTooOld,
        ),
    ];
    for (kb, expected) in cases {
        assert_eq!(
            verify_at(&bound(&k, &kb), &k, required(), NOW).unwrap_err(),
            expected
        );
    }
    // Within the skew either way is fine.
    assert!(
        verify_at(
            &bound(&k, &KeyBinding::new(AUD, NONCE, NOW + 30)),
            &k,
            required(),
            NOW
        )
        .is_ok()
    );
}

#[test]
fn rfc9901_7_3_sd_hash_covers_the_disclosures_as_received() {
    let k = keys();
    let good = bound(&k, &KeyBinding::new(AUD, NONCE, NOW));
    // Move the KB-JWT onto a presentation with one more Disclosure: sd_hash no longer matches.
    let more = issue_same_jwt_more_disclosures(&k, &good);
    assert_eq!(
        verify_text(&more, &k, required()).unwrap_err(),
        SdJwtError::SdHashMismatch
    );
}

fn issue_same_jwt_more_disclosures(_k: &Keys, good: &SdJwt) -> String {
    // Dropping the one Disclosure keeps the issuer JWT valid and changes the presented text.
    format!("{}~{}", good.issuer_jwt(), good.key_binding_jwt().unwrap())
}

#[test]
fn rfc9901_7_3_kb_jwt_with_wrong_typ_or_key_is_refused() {
    let k = keys();
    let presentation = issue(&k).present(&[]).unwrap();
    let text = presentation.presentation_without_key_binding();
    let sd_hash = HashAlgorithm::Sha256.digest(&text);
    let payload =
        serde_json::to_vec(&json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash}))
            .unwrap();
    let wrong_typ = sign_compact(&JwsHeader::new("jwt"), &payload, &*k.holder_signer).unwrap();
    assert_eq!(
        verify_text(&(text.clone() + &wrong_typ), &k, required()).unwrap_err(),
        SdJwtError::KeyBindingType
    );
    let other = RustCrypto
        .signer(&SecretKey::generate(SignatureAlgorithm::Es256).unwrap())
        .unwrap();
    let other_key = sign_compact(&JwsHeader::new(KB_JWT_TYP), &payload, &*other).unwrap();
    assert_eq!(
        verify_text(&(text.clone() + &other_key), &k, required()).unwrap_err(),
        SdJwtError::KeyBindingJwt(JoseError::InvalidSignature)
    );
    let wrong_hash =
        serde_json::to_vec(&json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": "AAAA"}))
            .unwrap();
    let wrong_hash =
        sign_compact(&JwsHeader::new(KB_JWT_TYP), &wrong_hash, &*k.holder_signer).unwrap();
    assert_eq!(
        verify_text(&(text.clone() + &wrong_hash), &k, required()).unwrap_err(),
        SdJwtError::SdHashMismatch
    );
    let no_iat =
        serde_json::to_vec(&json!({"iat": "now", "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash}))
            .unwrap();
    let no_iat = sign_compact(&JwsHeader::new(KB_JWT_TYP), &no_iat, &*k.holder_signer).unwrap();
    assert_eq!(
        verify_text(&(text + &no_iat), &k, required()).unwrap_err(),
        SdJwtError::KeyBindingClaim("iat")
    );
}

#[test]
fn rfc9901_7_3_kb_jwt_without_holder_key_is_refused() {
    let k = keys();
    let sd_jwt = SdJwtBuilder::new(credential(), JwsHeader::new(TYP))
        .issue(&*k.issuer_signer)
        .unwrap();
    let bound = sd_jwt
        .bind(&KeyBinding::new(AUD, NONCE, NOW), &*k.holder_signer)
        .unwrap();
    assert_eq!(
        verify_at(&bound, &k, required(), NOW).unwrap_err(),
        SdJwtError::MissingHolderKey
    );
}

#[test]
fn rfc9901_7_3_invalid_cnf_jwk_is_refused_not_treated_as_absent() {
    let k = keys();
    let mut claims = credential();
    let zero = crate::b64::encode([0u8; 32]);
    claims.insert(
        "cnf".into(),
        json!({"jwk": {"kty": "EC", "crv": "P-256", "x": zero, "y": zero}}),
    );
    let sd_jwt = SdJwtBuilder::new(claims, JwsHeader::new(TYP))
        .issue(&*k.issuer_signer)
        .unwrap();
    let bound = sd_jwt
        .bind(&KeyBinding::new(AUD, NONCE, NOW), &*k.holder_signer)
        .unwrap();
    assert!(matches!(
        verify_at(&bound, &k, required(), NOW).unwrap_err(),
        SdJwtError::InvalidHolderKey(JoseError::InvalidKey(_))
    ));
    // Without key binding the broken key is still refused.
    assert!(matches!(
        verify_at(&sd_jwt, &k, KeyBindingPolicy::NotRequired, NOW).unwrap_err(),
        SdJwtError::InvalidHolderKey(_)
    ));
}

// --- issuer JWT ------------------------------------------------------------------------------

#[test]
fn rfc9901_7_1_issuer_signature_alg_none_hs256_and_bad_ecdsa_values_are_refused() {
    let k = keys();
    let good = issue(&k).serialize();
    let (jwt, rest) = good.split_once('~').unwrap();
    let mut parts = jwt.split('.');
    let (_, payload, _) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    for (alg, expected) in [
        ("none", JoseError::AlgorithmNotAllowed),
        ("HS256", JoseError::AlgorithmNotAllowed),
    ] {
        let header = b64::encode(format!(r#"{{"alg":"{alg}","typ":"{TYP}"}}"#));
        let text = format!("{header}.{payload}.~{rest}");
        assert_eq!(
            SdJwt::parse(&text).unwrap_err(),
            SdJwtError::IssuerJwt(expected.clone())
        );
        let text = format!("{header}.{payload}.{}~{rest}", b64::encode([1u8; 32]));
        assert_eq!(
            SdJwt::parse(&text).unwrap_err(),
            SdJwtError::IssuerJwt(expected)
        );
    }
    let header = jwt.split('.').next().unwrap();
    for signature in [[0u8; 64], [0xff; 64]] {
        let text = format!("{header}.{payload}.{}~{rest}", b64::encode(signature));
        assert_eq!(
            verify_text(&text, &k, KeyBindingPolicy::NotRequired).unwrap_err(),
            SdJwtError::IssuerJwt(JoseError::InvalidSignature)
        );
    }
    // Another issuer's key, and the wrong typ.
    let other = keys();
    assert_eq!(
        verify_text(&good, &other, KeyBindingPolicy::NotRequired).unwrap_err(),
        SdJwtError::IssuerJwt(JoseError::InvalidSignature)
    );
    let clock = FixedClock(NOW);
    assert!(matches!(
        SdJwt::parse(&good).unwrap().verify(
            &k.issuer.public_key(),
            default_provider(),
            &Verification::new("dc+sd-jwt", KeyBindingPolicy::NotRequired, &clock)
        ),
        Err(SdJwtError::IssuerJwt(JoseError::UnexpectedType { .. }))
    ));
}

#[test]
fn rfc9901_7_1_exp_and_nbf_must_be_integers_in_range() {
    let k = keys();
    for (claim, value, expected) in [
        ("exp", json!(NOW - 3600), SdJwtError::Expired),
        ("nbf", json!(NOW + 3600), SdJwtError::NotYetValid),
        (
            "exp",
            json!("2000000000"),
            SdJwtError::InvalidTimeClaim("exp"),
        ),
        ("exp", json!(2.0e9), SdJwtError::InvalidTimeClaim("exp")),
        ("nbf", json!(true), SdJwtError::InvalidTimeClaim("nbf")),
        (
            "iat",
            json!("yesterday"),
            SdJwtError::InvalidTimeClaim("iat"),
        ),
    ] {
        let mut claims = credential();
        claims.insert(claim.into(), value);
        let sd_jwt = SdJwtBuilder::new(claims, JwsHeader::new(TYP))
            .issue(&*k.issuer_signer)
            .unwrap();
        assert_eq!(
            verify_at(&sd_jwt, &k, KeyBindingPolicy::NotRequired, NOW).unwrap_err(),
            expected,
            "{claim}"
        );
    }
}

// --- digests and disclosures (RFC 9901 §7.1) -------------------------------------------------

#[test]
fn rfc9901_7_1_duplicate_digests_are_refused() {
    let k = keys();
    let (d, digest) = disclosure(json!(["salt", "given_name", "Erika"]));
    let twice_in_payload = forge(&k, json!({"_sd": [digest, digest]}), &[&d]);
    assert_eq!(
        verify_text(&twice_in_payload, &k, KeyBindingPolicy::NotRequired).unwrap_err(),
        SdJwtError::DuplicateDigest
    );
    let decoy_twice = forge(&k, json!({"_sd": ["decoy", "decoy"]}), &[]);
    assert_eq!(
        verify_text(&decoy_twice, &k, KeyBindingPolicy::NotRequired).unwrap_err(),
        SdJwtError::DuplicateDigest
    );
    let disclosure_twice = forge(&k, json!({"_sd": [digest]}), &[&d, &d]);
    assert_eq!(
        verify_text(&disclosure_twice, &k, KeyBindingPolicy::NotRequired).unwrap_err(),
        SdJwtError::DuplicateDigest
    );
    let (inner, inner_digest) = disclosure(json!(["s2", "x", 1]));
    let (outer, outer_digest) = disclosure(json!(["s1", "o", {"_sd": [inner_digest]}]));
    let in_payload_and_disclosure = forge(
        &k,
        json!({"_sd": [outer_digest, inner_digest]}),
        &[&outer, &inner],
    );
    assert_eq!(
        verify_text(
            &in_payload_and_disclosure,
            &k,
            KeyBindingPolicy::NotRequired
        )
        .unwrap_err(),
        SdJwtError::DuplicateDigest
    );
}

#[test]
fn rfc9901_7_1_unreferenced_disclosure_is_refused() {
    let k = keys();
    let (d, _) = disclosure(json!(["salt", "given_name", "Erika"]));
    let text = forge(&k, json!({"_sd": []}), &[&d]);
    assert_eq!(
        verify_text(&text, &k, KeyBindingPolicy::NotRequired).unwrap_err(),
        SdJwtError::UnreferencedDisclosure
    );
}

#[test]
fn rfc9901_7_1_disclosure_colliding_with_a_plain_claim_is_refused() {
    let k = keys();
    let (d, digest) = disclosure(json!(["salt", "given_name", "Mallory"]));
    let text = forge(&k, json!({"_sd": [digest], "given_name": "Erika"}), &[&d]);
    assert_eq!(
        verify_text(&text, &k, KeyBindingPolicy::NotRequired).unwrap_err(),
        SdJwtError::ClaimNameCollision
    );
    let (d2, digest2) = disclosure(json!(["salt2", "given_name", "Eve"]));
    let two_disclosures = forge(&k, json!({"_sd": [digest, digest2]}), &[&d, &d2]);
    assert_eq!(
        verify_text(&two_disclosures, &k, KeyBindingPolicy::NotRequired).unwrap_err(),
        SdJwtError::ClaimNameCollision
    );
}

#[test]
fn rfc9901_7_1_disclosure_kind_must_fit_its_place() {
    let k = keys();
    let (object_property, d3) = disclosure(json!(["salt", "name", "value"]));
    let in_array = forge(&k, json!({"list": [{"...": d3}]}), &[&object_property]);
    assert_eq!(
        verify_text(&in_array, &k, KeyBindingPolicy::NotRequired).unwrap_err(),
        SdJwtError::ObjectPropertyDisclosureInArray
    );
    let (array_element, d2) = disclosure(json!(["salt", "value"]));
    let in_sd = forge(&k, json!({"_sd": [d2]}), &[&array_element]);
    assert_eq!(
        verify_text(&in_sd, &k, KeyBindingPolicy::NotRequired).unwrap_err(),
        SdJwtError::ArrayElementDisclosureInObject
    );
}

#[test]
fn rfc9901_7_1_malformed_digest_containers_and_sd_alg_are_refused() {
    let k = keys();
    for (payload, expected) in [
        (json!({"_sd": "abc"}), SdJwtError::InvalidSdArray),
        (json!({"_sd": [1]}), SdJwtError::InvalidSdArray),
        (
            json!({"list": [{"...": 1}]}),
            SdJwtError::InvalidArrayDigest,
        ),
        (
            json!({"_sd_alg": "md5"}),
            SdJwtError::UnsupportedHashAlgorithm,
        ),
        (
            json!({"_sd_alg": "sha-256-32"}),
            SdJwtError::UnsupportedHashAlgorithm,
        ),
        (
            json!({"_sd_alg": 256}),
            SdJwtError::UnsupportedHashAlgorithm,
        ),
        (
            json!({"o": {"_sd_alg": "sha-256"}}),
            SdJwtError::MisplacedSdAlg,
        ),
    ] {
        let text = forge(&k, payload, &[]);
        assert_eq!(
            verify_text(&text, &k, KeyBindingPolicy::NotRequired).unwrap_err(),
            expected
        );
    }
    // Decoys and undisclosed array elements vanish; an object with "..." and more is plain.
    let text = forge(
        &k,
        json!({"_sd": ["decoy"], "list": [{"...": "decoy2"}, 1, {"...": "x", "y": 2}]}),
        &[],
    );
    let verified = verify_text(&text, &k, KeyBindingPolicy::NotRequired).unwrap();
    assert_eq!(
        Value::Object(verified.claims().clone()),
        json!({"list": [1, {"...": "x", "y": 2}]})
    );
}

#[test]
fn rfc9901_7_1_recursion_through_disclosures_is_bounded() {
    let k = keys();
    // A chain of 80 Disclosures, each an object holding the next one's digest.
    let mut texts = Vec::new();
    let (mut text, mut digest) = disclosure(json!(["s", "leaf", 1]));
    for i in 0..80 {
        texts.push(text);
        (text, digest) = disclosure(json!([format!("s{i}"), "n", {"_sd": [digest]}]));
    }
    texts.push(text);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let chain = forge(&k, json!({"_sd": [digest]}), &refs);
    assert_eq!(
        verify_text(&chain, &k, KeyBindingPolicy::NotRequired).unwrap_err(),
        SdJwtError::TooDeep(MAX_PROCESSED_DEPTH)
    );
}

#[test]
fn rfc9901_4_2_1_malformed_disclosures_are_refused() {
    let enc = |v: &[u8]| b64::encode(v);
    let cases: Vec<(String, SdJwtError)> = vec![
        ("!!!".into(), SdJwtError::DisclosureBase64),
        ("WyJh==".into(), SdJwtError::DisclosureBase64),
        (
            enc(b"\"\xff\""),
            SdJwtError::DisclosureJson(JsonError::NotUtf8),
        ),
        (enc(b"{\"a\":1}"), SdJwtError::DisclosureNotArray),
        (enc(b"[\"salt\"]"), SdJwtError::DisclosureWrongLength(1)),
        (
            enc(b"[\"s\",\"n\",\"v\",\"x\"]"),
            SdJwtError::DisclosureWrongLength(4),
        ),
        (enc(b"[]"), SdJwtError::DisclosureWrongLength(0)),
        (enc(b"[1,\"n\",\"v\"]"), SdJwtError::SaltNotString),
        (enc(b"[null,\"v\"]"), SdJwtError::SaltNotString),
        (enc(b"[\"s\",1,\"v\"]"), SdJwtError::ClaimNameNotString),
        (
            enc(b"[\"s\",\"_sd\",\"v\"]"),
            SdJwtError::ReservedClaimName("_sd"),
        ),
        (
            enc(b"[\"s\",\"...\",\"v\"]"),
            SdJwtError::ReservedClaimName("..."),
        ),
        (
            enc(b"[\"s\",\"n\",\"v\"] x"),
            SdJwtError::DisclosureJson(JsonError::Syntax {
                line: 1,
                column: 15,
            }),
        ),
        (
            enc(b"[\"s\",\"n\",1,\"n\"]".as_slice()),
            SdJwtError::DisclosureWrongLength(4),
        ),
        (
            enc(format!("[\"s\",\"n\",{}1{}]", "[".repeat(40), "]".repeat(40)).as_bytes()),
            SdJwtError::DisclosureJson(JsonError::TooDeep(crate::json::MAX_DEPTH)),
        ),
        (
            enc(b"[\"s\",\"n\",{\"a\":1,\"a\":2}]"),
            SdJwtError::DisclosureJson(JsonError::DuplicateMember),
        ),
        (String::new(), SdJwtError::EmptyDisclosure),
    ];
    for (text, expected) in cases {
        assert_eq!(Disclosure::parse(&text).unwrap_err(), expected);
    }
}

#[test]
fn rfc9901_4_compact_form_limits_and_empty_parts() {
    let k = keys();
    let good = issue(&k).serialize();
    let jwt = good.split('~').next().unwrap();
    assert_eq!(SdJwt::parse(jwt).unwrap_err(), SdJwtError::MissingSeparator);
    assert_eq!(
        SdJwt::parse(&format!("{jwt}~~")).unwrap_err(),
        SdJwtError::EmptyDisclosure
    );
    assert_eq!(
        SdJwt::parse(&format!("{jwt}~~~")).unwrap_err(),
        SdJwtError::EmptyDisclosure
    );
    assert_eq!(
        SdJwt::parse("~").unwrap_err(),
        SdJwtError::IssuerJwt(JoseError::WrongPartCount { expected: 3 })
    );
    let huge = "A".repeat(MAX_SD_JWT_LEN + 1);
    assert_eq!(
        SdJwt::parse(&huge).unwrap_err(),
        SdJwtError::TooLarge {
            len: MAX_SD_JWT_LEN + 1,
            limit: MAX_SD_JWT_LEN
        }
    );
    let big_jwt = format!("{}~", "A".repeat(MAX_ISSUER_JWT_LEN + 1));
    assert!(matches!(
        SdJwt::parse(&big_jwt).unwrap_err(),
        SdJwtError::TooLarge {
            limit: MAX_ISSUER_JWT_LEN,
            ..
        }
    ));
    let (d, _) = disclosure(json!(["s", "v"]));
    let many = format!("{jwt}~{}", format!("{d}~").repeat(MAX_DISCLOSURES + 1));
    assert_eq!(
        SdJwt::parse(&many).unwrap_err(),
        SdJwtError::TooManyDisclosures(MAX_DISCLOSURES)
    );
    let tildes = format!("{jwt}{}", "~".repeat(100_000));
    assert_eq!(
        SdJwt::parse(&tildes).unwrap_err(),
        SdJwtError::EmptyDisclosure
    );
    // Payload that is not an object.
    let array_payload =
        sign_compact(&JwsHeader::new(TYP), b"[1]", &*k.issuer_signer).unwrap() + "~";
    assert!(matches!(
        SdJwt::parse(&array_payload).unwrap_err(),
        SdJwtError::InvalidPayload(_)
    ));
}

#[test]
fn rfc9901_4_2_builder_refuses_reserved_names_and_unknown_paths() {
    let k = keys();
    let build = |claims: Value, paths: &[Value]| {
        paths
            .iter()
            .fold(
                SdJwtBuilder::new(obj(claims), JwsHeader::new(TYP)),
                |b, p| b.disclosable(path(p.clone())),
            )
            .holder_key(Jwk::new(k.holder.public_key()))
            .issue(&*k.issuer_signer)
            .unwrap_err()
    };
    assert_eq!(
        build(json!({"_sd": 1}), &[]),
        SdJwtError::ReservedClaimName("_sd")
    );
    assert_eq!(
        build(json!({"a": {"...": 1}}), &[]),
        SdJwtError::ReservedClaimName("...")
    );
    assert_eq!(
        build(json!({"_sd_alg": "x"}), &[]),
        SdJwtError::ReservedClaimName("_sd_alg")
    );
    assert_eq!(
        build(json!({"a": 1}), &[json!(["b"])]),
        SdJwtError::ClaimNotFound
    );
    assert_eq!(
        build(json!({"a": [1]}), &[json!(["a", 3])]),
        SdJwtError::ClaimNotFound
    );
    assert_eq!(
        build(json!({"cnf": 1}), &[]),
        SdJwtError::ClaimNameCollision
    );
    assert_eq!(
        build(json!({"cnf": 1}), &[json!(["cnf"])]),
        SdJwtError::NotDisclosable
    );
}

#[test]
fn rfc9901_4_2_deterministic_issuance_uses_the_given_salts() {
    let k = keys();
    let sd_jwt = SdJwtBuilder::new(
        obj(json!({"given_name": "John", "nationalities": ["US"]})),
        JwsHeader::new(TYP),
    )
    .disclosable(path(json!(["given_name"])))
    .disclosable(path(json!(["nationalities", 0])))
    .issue_with_salts(
        &*k.issuer_signer,
        [
            "2GLC42sKQveCfGfryNRN9w".to_owned(),
            "lklxF5jMYlGTPUovMNIvCA".to_owned(),
        ],
    )
    .unwrap();
    let texts: Vec<&str> = sd_jwt
        .disclosures()
        .iter()
        .map(Disclosure::as_str)
        .collect();
    // RFC 9901 §5.1's Disclosures for given_name and the first nationality.
    assert_eq!(
        texts,
        [
            "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd",
            "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0"
        ]
    );
    assert_eq!(
        sd_jwt.unverified_payload()["nationalities"],
        json!([{"...": "pFndjkZ_VCzmyTa6UjlZo3dh-ko8aIKQc9DlGzhaVYo"}])
    );
    let short = SdJwtBuilder::new(obj(json!({"a": 1})), JwsHeader::new(TYP))
        .disclosable(path(json!(["a"])))
        .issue_with_salts(&*k.issuer_signer, []);
    assert_eq!(short.unwrap_err(), SdJwtError::SaltsExhausted);
}

#[test]
fn errors_and_debug_never_show_values_salts_or_tokens() {
    let k = keys();
    let sd_jwt = bound(&k, &KeyBinding::new(AUD, NONCE, NOW));
    let debug = format!(
        "{sd_jwt:?} {:?} {:?}",
        sd_jwt.disclosures(),
        verify_at(&sd_jwt, &k, required(), NOW).unwrap()
    );
    for secret in [
        "Erika",
        NONCE,
        sd_jwt.disclosures()[0].salt(),
        sd_jwt.issuer_jwt(),
    ] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

// --- properties ------------------------------------------------------------------------------

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        "[a-zé ]{0,6}".prop_map(Value::from),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn all_paths(value: &Value, prefix: &mut Vec<PathElement>, out: &mut Vec<ClaimsPath>) {
    let children: Vec<(PathElement, &Value)> = match value {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| (PathElement::Key(k.clone()), v))
            .collect(),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (PathElement::Index(i), v))
            .collect(),
        _ => return,
    };
    for (element, child) in children {
        prefix.push(element);
        out.push(ClaimsPath::new(prefix.clone()).unwrap());
        all_paths(child, prefix, out);
        prefix.pop();
    }
}

fn case() -> impl Strategy<Value = (Map<String, Value>, Vec<bool>, Vec<bool>, usize)> {
    (
        prop::collection::btree_map("k[a-z]{1,3}", tree(), 1..5)
            .prop_map(|m| m.into_iter().collect()),
        prop::collection::vec(any::<bool>(), 64),
        prop::collection::vec(any::<bool>(), 8),
        any::<usize>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn issue_present_verify_round_trip((claims, sd, wanted, flip) in case()) {
        let k = keys();
        let mut paths = Vec::new();
        all_paths(&Value::Object(claims.clone()), &mut Vec::new(), &mut paths);
        let disclosable: Vec<ClaimsPath> = paths.iter().enumerate().filter(|(i, _)| sd[i % 64]).map(|(_, p)| p.clone()).collect();
        let builder = disclosable.iter().fold(SdJwtBuilder::new(claims.clone(), JwsHeader::new(TYP)), |b, p| b.disclosable(p.clone()))
            .decoys(1)
            .holder_key(Jwk::new(k.holder.public_key()));
        let issued = builder.issue(&*k.issuer_signer).unwrap();

        // Everything disclosed: the original claims come back.
        let all = verify_at(&issued, &k, KeyBindingPolicy::NotRequired, NOW).unwrap();
        let mut without_cnf = all.claims().clone();
        without_cnf.remove("cnf");
        prop_assert_eq!(&without_cnf, &claims);

        // A random subset of top-level claims: exactly those come back whole.
        let names: Vec<&String> = claims.keys().collect();
        let requested: Vec<&String> = names.iter().enumerate().filter(|(i, _)| wanted[i % 8]).map(|(_, n)| *n).collect();
        let request: Vec<ClaimsPath> = requested.iter().map(|n| ClaimsPath::keys([n.as_str()]).unwrap()).collect();
        let presented = issued.present(&request).unwrap()
            .bind(&KeyBinding::new(AUD, NONCE, NOW), &*k.holder_signer).unwrap();
        let text = presented.serialize();
        let verified = verify_text(&text, &k, required()).unwrap();
        for name in &names {
            let top = ClaimsPath::keys([name.as_str()]).unwrap();
            if requested.contains(name) {
                prop_assert_eq!(verified.claims().get(name.as_str()), claims.get(name.as_str()));
            } else if disclosable.contains(&top) {
                prop_assert!(!verified.claims().contains_key(name.as_str()));
            }
        }
        prop_assert_eq!(&verify_text(&text, &k, required()).unwrap(), &verified);

        // Flipping any one character anywhere makes verification fail.
        let at = flip % text.len();
        let original = text.as_bytes()[at];
        let replacement = match original { b'A' => b'B', b'~' | b'.' => b'A', _ => b'A' };
        let mut bytes = text.clone().into_bytes();
        bytes[at] = replacement;
        let tampered = String::from_utf8(bytes).unwrap();
        prop_assert!(verify_text(&tampered, &k, required()).is_err(), "flip at {} accepted", at);
    }
}

// --- fuzz regressions ------------------------------------------------------------------------

/// Found by `fuzz/fuzz_targets/sd_jwt_structured.rs`: a Disclosure named `_sd_alg` came out as
/// an `_sd_alg` claim of the processed payload, at the top level (where the payload's own
/// `_sd_alg` had already been removed, so there was no collision) and below it.
#[test]
fn fuzz_regression_disclosure_named_sd_alg() {
    let k = keys();
    let (text, digest) = disclosure(json!(["salt-0", "_sd_alg", null]));
    for payload in [
        json!({"_sd": [digest.clone()], "_sd_alg": "sha-256", "a": 1}),
        json!({"_sd": [digest.clone()], "a": 1}),
        json!({"a": {"_sd": [digest.clone()]}, "_sd_alg": "sha-256"}),
    ] {
        let sd_jwt = SdJwt::parse(&forge(&k, payload, &[&text])).unwrap();
        assert_eq!(
            verify_at(&sd_jwt, &k, KeyBindingPolicy::NotRequired, NOW).unwrap_err(),
            SdJwtError::MisplacedSdAlg
        );
    }
}

/// Found by `sd_jwt_structured`: an array-element Disclosure whose value is itself shaped like
/// an array-element digest (`{"...": …}`) landed in the processed claims, where a later
/// reader could take it for an undisclosed element. Our issuer never writes `...`; the
/// verifier refuses the ambiguity. (An object with `...` *and* other members stays a plain
/// object, as RFC 9901 §7.1 reads: see the malformed-containers test.)
#[test]
fn fuzz_regression_disclosed_value_shaped_like_an_array_digest() {
    let k = keys();
    let (text, digest) =
        disclosure(json!(["salt-0", {"...": "z3TO5YUuM3vzTZ4m9wdtGpQbm1UJzgIQ00NXxiCJNLs"}]));
    let payload = json!({"iss": [1, {"...": digest}, 2], "_sd_alg": "sha-256"});
    let sd_jwt = SdJwt::parse(&forge(&k, payload, &[&text])).unwrap();
    assert_eq!(
        verify_at(&sd_jwt, &k, KeyBindingPolicy::NotRequired, NOW).unwrap_err(),
        SdJwtError::AmbiguousArrayElement
    );
    // Found next by the same target: `...` beside an `_sd` whose digests are all decoys.
    let payload = json!({"b": [{"...": "vUrzixAqhN0cuxGnE8Wh5v7SWLo_vTWLOqxmcbthRmA", "_sd": ["vUrzixAqhN0cuxGnE8Wh5v7SWLo_vTWLOqxmcbthRmA"]}, -7]});
    let sd_jwt = SdJwt::parse(&forge(&k, payload, &[])).unwrap();
    assert_eq!(
        verify_at(&sd_jwt, &k, KeyBindingPolicy::NotRequired, NOW).unwrap_err(),
        SdJwtError::AmbiguousArrayElement
    );
}
