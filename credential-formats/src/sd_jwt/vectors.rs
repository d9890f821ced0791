//! RFC 9901's own examples, from `spec/vectors/rfc9901-*`, checked byte for byte where the
//! RFC prints bytes.

use super::*;
use crate::claims_path::ClaimsPath;
use crate::crypto::{CryptoProvider, PublicKey, RustCrypto, SecretKey};
use crate::jose::Jwk;
use crate::time::FixedClock;
use serde_json::{Value, json};

const KEYS: &str = include_str!("../../../spec/vectors/rfc9901-a5-keys.json");
const S51_ISSUANCE: &str = include_str!("../../../spec/vectors/rfc9901-5.1-issuance.txt");
const S52_PRESENTATION: &str = include_str!("../../../spec/vectors/rfc9901-5.2-presentation.txt");
const S52_PROCESSED: &str = include_str!("../../../spec/vectors/rfc9901-5.2-processed.json");
const A1_PRESENTATION: &str = include_str!("../../../spec/vectors/rfc9901-a1-presentation.txt");
const A1_PROCESSED: &str = include_str!("../../../spec/vectors/rfc9901-a1-processed.json");
const A3_PRESENTATION: &str = include_str!("../../../spec/vectors/rfc9901-a3-presentation.txt");
const A3_PROCESSED: &str = include_str!("../../../spec/vectors/rfc9901-a3-processed.json");
const DIGESTS: &str = include_str!("../../../spec/vectors/rfc9901-6-disclosure-digests.json");

/// The KB-JWT `iat` of the RFC's examples.
const KB_IAT: i64 = 1_748_537_244;

pub(super) fn providers() -> Vec<&'static dyn CryptoProvider> {
    #[allow(unused_mut)]
    let mut providers: Vec<&'static dyn CryptoProvider> = vec![&RustCrypto];
    #[cfg(feature = "aws-lc")]
    providers.push(&crate::crypto::AwsLc);
    providers
}

fn keys() -> Value {
    serde_json::from_str(KEYS).unwrap()
}

pub(crate) fn issuer_key() -> PublicKey {
    let mut jwk = keys()["issuer_key"].clone();
    jwk.as_object_mut().unwrap().remove("d");
    Jwk::from_value(&jwk).unwrap().key().clone()
}

pub(super) fn holder_secret() -> SecretKey {
    let d = crate::b64::decode(keys()["holder_key"]["d"].as_str().unwrap()).unwrap();
    SecretKey::p256(&d.try_into().unwrap()).unwrap()
}

fn issuer_secret() -> SecretKey {
    let d = crate::b64::decode(keys()["issuer_key"]["d"].as_str().unwrap()).unwrap();
    SecretKey::p256(&d.try_into().unwrap()).unwrap()
}

fn rfc_kb() -> KeyBindingPolicy {
    KeyBindingPolicy::Required(KeyBindingRequirements::new(
        "https://verifier.example.org",
        "1234567890",
    ))
}

#[test]
fn rfc9901_a5_example_keys_are_a_pair() {
    assert_eq!(issuer_secret().public_key(), issuer_key());
    let holder = Jwk::from_value(&{
        let mut jwk = keys()["holder_key"].clone();
        jwk.as_object_mut().unwrap().remove("d");
        jwk
    })
    .unwrap();
    assert_eq!(&holder_secret().public_key(), holder.key());
}

#[test]
fn rfc9901_4_2_3_printed_digests_of_printed_disclosures() {
    let vectors: Value = serde_json::from_str(DIGESTS).unwrap();
    for pair in vectors["pairs"].as_array().unwrap() {
        let digest = pair[0].as_str().unwrap();
        let disclosure = Disclosure::parse(pair[1].as_str().unwrap()).unwrap();
        assert_eq!(disclosure.digest(HashAlgorithm::Sha256), digest);
        assert_eq!(disclosure.as_str(), pair[1].as_str().unwrap());
    }
}

#[test]
fn rfc9901_5_1_disclosures_are_reproduced_byte_for_byte_from_their_salts() {
    let sd_jwt = SdJwt::parse(S51_ISSUANCE.trim()).unwrap();
    assert_eq!(sd_jwt.serialize(), S51_ISSUANCE.trim());
    assert_eq!(sd_jwt.disclosures().len(), 10);
    for disclosure in sd_jwt.disclosures() {
        let again = match disclosure.claim_name() {
            Some(name) => Disclosure::object_property(
                disclosure.salt(),
                name,
                disclosure.claim_value().clone(),
            )
            .unwrap(),
            None => Disclosure::array_element(disclosure.salt(), disclosure.claim_value().clone()),
        };
        assert_eq!(again.as_str(), disclosure.as_str());
    }
}

#[test]
fn rfc9901_5_1_issuance_verifies_with_the_printed_issuer_key() {
    let sd_jwt = SdJwt::parse(S51_ISSUANCE.trim()).unwrap();
    assert_eq!(
        sd_jwt.unverified_issuer(),
        Some("https://issuer.example.com")
    );
    let clock = FixedClock(KB_IAT);
    for provider in providers() {
        let verified = sd_jwt
            .verify(
                &issuer_key(),
                provider,
                &Verification::new("example+sd-jwt", KeyBindingPolicy::NotRequired, &clock),
            )
            .unwrap();
        let claims = verified.claims();
        assert_eq!(claims["given_name"], "John");
        assert_eq!(claims["nationalities"], json!(["US", "DE"]));
        assert_eq!(claims["address"]["locality"], "Anytown");
        assert!(!claims.contains_key("_sd") && !claims.contains_key("_sd_alg"));
        assert_eq!(verified.disclosed_paths().len(), 10);
        assert!(verified.key_binding().is_none());
    }
}

#[test]
fn rfc9901_5_2_presentation_with_key_binding_verifies_and_processes_as_printed() {
    let sd_jwt = SdJwt::parse(S52_PRESENTATION.trim()).unwrap();
    assert_eq!(sd_jwt.serialize(), S52_PRESENTATION.trim());
    let expected: Value = serde_json::from_str(S52_PROCESSED).unwrap();
    let clock = FixedClock(KB_IAT + 5);
    for provider in providers() {
        let verification = Verification::new("example+sd-jwt", rfc_kb(), &clock);
        let verified = sd_jwt
            .verify(&issuer_key(), provider, &verification)
            .unwrap();
        assert_eq!(Value::Object(verified.claims().clone()), expected);
        let kb = verified.key_binding().unwrap();
        assert_eq!(kb["nonce"], "1234567890");
        assert_eq!(kb["aud"], "https://verifier.example.org");
        // Verifying twice gives the same result.
        assert_eq!(
            sd_jwt
                .verify(&issuer_key(), provider, &verification)
                .unwrap(),
            verified
        );
    }
}

#[test]
fn rfc9901_4_3_1_sd_hash_of_the_5_2_presentation() {
    let sd_jwt = SdJwt::parse(S52_PRESENTATION.trim()).unwrap();
    let without_kb = sd_jwt.presentation_without_key_binding();
    assert!(S52_PRESENTATION.trim().starts_with(&without_kb) && without_kb.ends_with('~'));
    // The sd_hash the RFC prints in the KB-JWT payload of §5.2.
    assert_eq!(
        HashAlgorithm::Sha256.digest(&without_kb),
        "0_Af-2B-EhLWX5ydh_w2xzwmO6iM66B_2QCEanI4fUY"
    );
}

#[test]
fn rfc9901_5_2_holder_selects_the_same_disclosures_from_the_5_1_issuance() {
    let issued = SdJwt::parse(S51_ISSUANCE.trim()).unwrap();
    let paths: Vec<ClaimsPath> = [
        json!(["family_name"]),
        json!(["address"]),
        json!(["given_name"]),
        json!(["nationalities", 0]),
    ]
    .into_iter()
    .map(|p| serde_json::from_value(p).unwrap())
    .collect();
    let presented = issued.present(&paths).unwrap();
    let rfc = SdJwt::parse(S52_PRESENTATION.trim()).unwrap();
    let mut ours: Vec<&str> = presented
        .disclosures()
        .iter()
        .map(Disclosure::as_str)
        .collect();
    let mut theirs: Vec<&str> = rfc.disclosures().iter().map(Disclosure::as_str).collect();
    ours.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(ours, theirs);
    // Bound with the example holder key, it verifies as the RFC's does.
    let signer = RustCrypto.signer(&holder_secret()).unwrap();
    let bound = presented
        .bind(
            &KeyBinding::new("https://verifier.example.org", "1234567890", KB_IAT),
            &*signer,
        )
        .unwrap();
    let clock = FixedClock(KB_IAT);
    let verified = bound
        .verify(
            &issuer_key(),
            &RustCrypto,
            &Verification::new("example+sd-jwt", rfc_kb(), &clock),
        )
        .unwrap();
    let expected: Value = serde_json::from_str(S52_PROCESSED).unwrap();
    assert_eq!(Value::Object(verified.claims().clone()), expected);
}

#[test]
fn rfc9901_a1_structured_presentation_with_decoys_processes_as_printed() {
    let sd_jwt = SdJwt::parse(A1_PRESENTATION.trim()).unwrap();
    let expected: Value = serde_json::from_str(A1_PROCESSED).unwrap();
    let clock = FixedClock(KB_IAT);
    for provider in providers() {
        let verified = sd_jwt
            .verify(
                &issuer_key(),
                provider,
                &Verification::new("example+sd-jwt", KeyBindingPolicy::NotRequired, &clock),
            )
            .unwrap();
        assert_eq!(Value::Object(verified.claims().clone()), expected);
    }
    // Key binding required: the A.1 presentation has none, so it is refused.
    assert_eq!(
        sd_jwt
            .verify(
                &issuer_key(),
                &RustCrypto,
                &Verification::new("example+sd-jwt", rfc_kb(), &clock),
            )
            .unwrap_err(),
        SdJwtError::MissingKeyBinding
    );
}

#[test]
fn rfc9901_a3_recursive_disclosure_presentation_processes_as_printed() {
    let sd_jwt = SdJwt::parse(A3_PRESENTATION.trim()).unwrap();
    let expected: Value = serde_json::from_str(A3_PROCESSED).unwrap();
    let clock = FixedClock(KB_IAT);
    for provider in providers() {
        let verified = sd_jwt
            .verify(
                &issuer_key(),
                provider,
                &Verification::new("dc+sd-jwt", rfc_kb(), &clock),
            )
            .unwrap();
        assert_eq!(Value::Object(verified.claims().clone()), expected);
        let mut paths: Vec<String> = verified
            .disclosed_paths()
            .iter()
            .map(ToString::to_string)
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                r#"["age_equal_or_over","18"]"#,
                r#"["age_equal_or_over"]"#,
                r#"["nationalities"]"#
            ]
        );
    }
}

const S82_ISSUANCE: &str =
    include_str!("../../../spec/vectors/rfc9901-8.2-flattened-issuance.json");
const S82_PRESENTATION: &str =
    include_str!("../../../spec/vectors/rfc9901-8.2-flattened-presentation.json");
const S83_PRESENTATION: &str =
    include_str!("../../../spec/vectors/rfc9901-8.3-general-presentation.json");

/// The claims of the §8 examples' processed payloads (the RFC prints the payload and the
/// Disclosures; these are the four Disclosures' claims plus the always-visible ones).
fn s8_claims(all: bool) -> Value {
    let mut claims = json!({
        "iss": "https://issuer.example.com",
        "iat": 1683000000,
        "exp": 1883000000,
        "cnf": {"jwk": {
            "kty": "EC", "crv": "P-256",
            "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
            "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"
        }},
        "given_name": "John",
        "family_name": "Doe"
    });
    if all {
        claims["sub"] = json!("john_doe_42");
        claims["birthdate"] = json!("1940-01-01");
    }
    claims
}

fn verify_json(sd_jwt: &SdJwt, policy: KeyBindingPolicy) -> Result<VerifiedSdJwt, SdJwtError> {
    let clock = FixedClock(KB_IAT);
    let mut results = providers().into_iter().map(|provider| {
        sd_jwt.verify(
            &issuer_key(),
            provider,
            &Verification::new("example+sd-jwt", policy.clone(), &clock),
        )
    });
    let first = results.next().unwrap();
    for other in results {
        assert_eq!(other, first);
    }
    first
}

#[test]
fn rfc9901_8_2_flattened_issuance_verifies_and_round_trips() {
    let sd_jwt = SdJwt::parse_json(S82_ISSUANCE.as_bytes()).unwrap();
    assert_eq!(sd_jwt.disclosures().len(), 4);
    assert!(sd_jwt.key_binding_jwt().is_none());
    let verified = verify_json(&sd_jwt, KeyBindingPolicy::NotRequired).unwrap();
    assert_eq!(Value::Object(verified.claims().clone()), s8_claims(true));
    // Value for value, the RFC's JSON (its printed form only adds line breaks).
    let printed: Value = serde_json::from_str(S82_ISSUANCE).unwrap();
    assert_eq!(sd_jwt.to_json_flattened(), printed);
    // The compact form of the same content verifies to the same result.
    let compact = SdJwt::parse(&sd_jwt.serialize()).unwrap();
    assert_eq!(
        verify_json(&compact, KeyBindingPolicy::NotRequired).unwrap(),
        verified
    );
    assert_eq!(compact.to_json_flattened(), printed);
}

#[test]
fn rfc9901_8_2_flattened_presentation_with_key_binding_verifies() {
    let sd_jwt = SdJwt::parse_json(S82_PRESENTATION.as_bytes()).unwrap();
    let verified = verify_json(&sd_jwt, rfc_kb()).unwrap();
    assert_eq!(Value::Object(verified.claims().clone()), s8_claims(false));
    let kb = verified.key_binding().unwrap();
    // §8.1: sd_hash is over the compact form built from protected, payload, signature and
    // the `disclosures` member.
    assert_eq!(
        kb["sd_hash"],
        HashAlgorithm::Sha256.digest(&sd_jwt.presentation_without_key_binding())
    );
    assert_eq!(kb["sd_hash"], "VjtPsgZpQTRxKJvDpSJ-nXlZKE9Z9LgD4FyCwwoNMRw");
    let printed: Value = serde_json::from_str(S82_PRESENTATION).unwrap();
    assert_eq!(sd_jwt.to_json_flattened(), printed);
    let compact = SdJwt::parse(&sd_jwt.serialize()).unwrap();
    assert_eq!(verify_json(&compact, rfc_kb()).unwrap(), verified);
}

#[test]
fn rfc9901_8_2_presentation_is_the_holders_selection_from_the_issuance() {
    let issued = SdJwt::parse_json(S82_ISSUANCE.as_bytes()).unwrap();
    let presented = SdJwt::parse_json(S82_PRESENTATION.as_bytes()).unwrap();
    assert_eq!(issued.issuer_jwt(), presented.issuer_jwt());
    let chosen = issued
        .present(&[
            ClaimsPath::keys(["family_name"]).unwrap(),
            ClaimsPath::keys(["given_name"]).unwrap(),
        ])
        .unwrap();
    let mut ours: Vec<&str> = chosen
        .disclosures()
        .iter()
        .map(Disclosure::as_str)
        .collect();
    let mut theirs: Vec<&str> = presented
        .disclosures()
        .iter()
        .map(Disclosure::as_str)
        .collect();
    ours.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(ours, theirs);
}

#[test]
fn rfc9901_8_3_general_presentation_verifies_with_the_first_signature() {
    let sd_jwt = SdJwt::parse_json(S83_PRESENTATION.as_bytes()).unwrap();
    assert_eq!(
        sd_jwt.unverified_unprotected_header().get("kid"),
        Some(&json!("issuer-key-1"))
    );
    let verified = verify_json(&sd_jwt, rfc_kb()).unwrap();
    assert_eq!(Value::Object(verified.claims().clone()), s8_claims(false));
    assert_eq!(
        verified.key_binding().unwrap()["sd_hash"],
        "qbyIWP3phVgxEsDRiwdw9W6BJ3dxiPLumcYpPbu4Eb8"
    );
    let printed: Value = serde_json::from_str(S83_PRESENTATION).unwrap();
    assert_eq!(sd_jwt.to_json_general(), printed);
    // Its compact equivalent verifies the same.
    let compact = SdJwt::parse(&sd_jwt.serialize()).unwrap();
    assert_eq!(verify_json(&compact, rfc_kb()).unwrap(), verified);
}

#[test]
fn rfc9901_8_1_disclosure_injected_into_the_unprotected_header_fails_sd_hash() {
    let issued: Value = serde_json::from_str(S82_ISSUANCE).unwrap();
    let sub = issued["header"]["disclosures"][0].clone();
    for (text, general) in [(S82_PRESENTATION, false), (S83_PRESENTATION, true)] {
        let mut tampered: Value = serde_json::from_str(text).unwrap();
        let header = if general {
            &mut tampered["signatures"][0]["header"]
        } else {
            &mut tampered["header"]
        };
        header["disclosures"]
            .as_array_mut()
            .unwrap()
            .push(sub.clone());
        let sd_jwt = SdJwt::parse_json(tampered.to_string().as_bytes()).unwrap();
        assert_eq!(
            verify_json(&sd_jwt, rfc_kb()).unwrap_err(),
            SdJwtError::SdHashMismatch
        );
        // Checked even when the policy does not require key binding.
        assert_eq!(
            verify_json(&sd_jwt, KeyBindingPolicy::NotRequired).unwrap_err(),
            SdJwtError::SdHashMismatch
        );
        // Removing one fails the same way.
        let mut removed: Value = serde_json::from_str(text).unwrap();
        let header = if general {
            &mut removed["signatures"][0]["header"]
        } else {
            &mut removed["header"]
        };
        header["disclosures"].as_array_mut().unwrap().pop();
        let sd_jwt = SdJwt::parse_json(removed.to_string().as_bytes()).unwrap();
        assert_eq!(
            verify_json(&sd_jwt, rfc_kb()).unwrap_err(),
            SdJwtError::SdHashMismatch
        );
    }
}

#[test]
fn rfc9901_8_3_the_kb_jwt_binds_the_first_signature_only() {
    // Swapping the two signatures of the §8.3 example: the KB-JWT's sd_hash no longer fits.
    let mut swapped: Value = serde_json::from_str(S83_PRESENTATION).unwrap();
    let signatures = swapped["signatures"].as_array_mut().unwrap();
    let first = signatures[0]["signature"].clone();
    signatures[0]["signature"] = signatures[1]["signature"].clone();
    signatures[1]["signature"] = first;
    let sd_jwt = SdJwt::parse_json(swapped.to_string().as_bytes()).unwrap();
    assert!(verify_json(&sd_jwt, rfc_kb()).is_err());
}

const A2_PRESENTATION: &str = include_str!("../../../spec/vectors/rfc9901-a2-presentation.txt");
const A2_PROCESSED: &str = include_str!("../../../spec/vectors/rfc9901-a2-processed.json");
const A4_PRESENTATION: &str = include_str!("../../../spec/vectors/rfc9901-a4-presentation.txt");
const A4_PROCESSED: &str = include_str!("../../../spec/vectors/rfc9901-a4-processed.json");

#[test]
fn rfc9901_a2_complex_structured_presentation_processes_as_printed() {
    let sd_jwt = SdJwt::parse(A2_PRESENTATION.trim()).unwrap();
    assert_eq!(sd_jwt.serialize(), A2_PRESENTATION.trim());
    let expected: Value = serde_json::from_str(A2_PROCESSED).unwrap();
    // The payload's digests the RFC prints: each presented Disclosure's digest is in it.
    let payload = Value::Object(sd_jwt.unverified_payload().clone()).to_string();
    for disclosure in sd_jwt.disclosures() {
        let digest = disclosure.digest(HashAlgorithm::Sha256);
        let in_payload = payload.contains(&digest);
        let in_disclosure = sd_jwt
            .disclosures()
            .iter()
            .any(|other| other.claim_value().to_string().contains(&digest));
        assert!(
            in_payload || in_disclosure,
            "digest {digest} not referenced"
        );
    }
    let verified = verify_json(&sd_jwt, KeyBindingPolicy::NotRequired).unwrap();
    assert_eq!(Value::Object(verified.claims().clone()), expected);
    // Also in the JWS JSON Serialization.
    let json = SdJwt::parse_json(sd_jwt.to_json_general().to_string().as_bytes()).unwrap();
    assert_eq!(
        verify_json(&json, KeyBindingPolicy::NotRequired).unwrap(),
        verified
    );
}

#[test]
fn rfc9901_a4_w3c_vcdm_presentation_with_key_binding_processes_as_printed() {
    let sd_jwt = SdJwt::parse(A4_PRESENTATION.trim()).unwrap();
    assert_eq!(sd_jwt.serialize(), A4_PRESENTATION.trim());
    let expected: Value = serde_json::from_str(A4_PROCESSED).unwrap();
    let verified = verify_json(&sd_jwt, rfc_kb()).unwrap();
    assert_eq!(Value::Object(verified.claims().clone()), expected);
    assert_eq!(
        verified.key_binding().unwrap()["sd_hash"],
        HashAlgorithm::Sha256.digest(&sd_jwt.presentation_without_key_binding())
    );
    let json = SdJwt::parse_json(sd_jwt.to_json_flattened().to_string().as_bytes()).unwrap();
    assert_eq!(verify_json(&json, rfc_kb()).unwrap(), verified);
}

mod serialization_properties {
    use super::*;
    use proptest::prelude::*;

    fn s8_issued() -> SdJwt {
        SdJwt::parse_json(S82_ISSUANCE.as_bytes()).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any selection of the §8.2 issuance's Disclosures, bound or not, verifies to the same
        /// result in the compact form and both JSON forms.
        #[test]
        fn rfc9901_8_compact_and_json_forms_verify_alike(keep in proptest::collection::vec(any::<bool>(), 4), bind in any::<bool>()) {
            let issued = s8_issued();
            let disclosures: Vec<Disclosure> = issued
                .disclosures()
                .iter()
                .zip(&keep)
                .filter(|&(_d, keep)| *keep)
                .map(|(d, _keep)| d.clone())
                .collect();
            let mut presented = SdJwt::parse(&format!(
                "{}~{}",
                issued.issuer_jwt(),
                disclosures.iter().map(|d| format!("{}~", d.as_str())).collect::<String>()
            ))
            .unwrap();
            let policy = if bind {
                let signer = RustCrypto.signer(&holder_secret()).unwrap();
                presented = presented
                    .bind(&KeyBinding::new("https://verifier.example.org", "1234567890", KB_IAT), &*signer)
                    .unwrap();
                rfc_kb()
            } else {
                KeyBindingPolicy::NotRequired
            };
            let compact = verify_json(&presented, policy.clone()).unwrap();
            for json in [presented.to_json_flattened(), presented.to_json_general()] {
                let parsed = SdJwt::parse_json(json.to_string().as_bytes()).unwrap();
                prop_assert_eq!(parsed.serialize(), presented.serialize());
                prop_assert_eq!(&verify_json(&parsed, policy.clone()).unwrap(), &compact);
            }
        }

        /// Any single-byte change to the §8.2 SD-JWT+KB, compact or JSON, fails.
        #[test]
        fn rfc9901_8_any_single_byte_change_fails(at in any::<prop::sample::Index>(), byte in any::<u8>(), json in any::<bool>()) {
            let sd_jwt = SdJwt::parse_json(S82_PRESENTATION.as_bytes()).unwrap();
            let text = if json { sd_jwt.to_json_flattened().to_string() } else { sd_jwt.serialize() };
            let mut bytes = text.into_bytes();
            let i = at.index(bytes.len());
            prop_assume!(bytes[i] != byte);
            bytes[i] = byte;
            let result = if json {
                SdJwt::parse_json(&bytes)
            } else {
                std::str::from_utf8(&bytes)
                    .map_err(|_| SdJwtError::MissingSeparator)
                    .and_then(SdJwt::parse)
            };
            if let Ok(tampered) = result {
                prop_assert!(verify_json(&tampered, rfc_kb()).is_err());
            }
        }
    }
}
