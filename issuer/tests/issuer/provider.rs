//! The provider profile: an accredited training provider issues qualifications for the
//! courses the trust list grants it, and nothing else.

use credential_formats::credentials::CredentialType;
use credential_formats::crypto::RustCrypto;
use credential_formats::sd_jwt::{KeyBindingPolicy, SdJwt};
use credential_formats::sd_jwt_vc::{self, VcVerification};
use credential_formats::time::FixedClock;
use credential_formats::trust_list::TrustList;
use serde_json::{Value, json};

use crate::harness::{Options, TestIssuer, error_of, person};

const PROVIDER_TRUST: &str = r#"
iss = "https://trust.example"
sequence = 1
[[entity]]
id = "__BASE__"
name = "Welding Academy"
key_files = ["{key_file}"]
roles = ["training_provider"]
courses = ["WELD-101"]
"#;

async fn academy() -> TestIssuer {
    TestIssuer::start_with(Options {
        provider: Some("Welding Academy".to_owned()),
        trust_description: Some(PROVIDER_TRUST.to_owned()),
        ..Options::default()
    })
    .await
}

fn qualification_offer(course: &str) -> Value {
    json!({
        "credential_configuration_ids": ["qualification_sd_jwt"],
        "qualification": {
            "course_reference": course, "title": "Welding, level 1", "eqf_level": 3,
            "hours": 120, "completion_date": "2026-06-30", "result": "passed"
        }
    })
}

fn kid_of(compact: &str) -> String {
    use base64::Engine as _;
    let header = compact.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let header: Value = serde_json::from_slice(&bytes).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_qualification_of_an_accredited_course_is_issued_and_verifies_against_the_trust_list() {
    let issuer = academy().await;
    let (created, code) = issuer.offer(qualification_offer("WELD-101")).await;
    let (keys, credentials) = issuer
        .issue(
            &code,
            created["tx_code"].as_str().unwrap(),
            "qualification_sd_jwt",
            1,
        )
        .await;

    let now = issuer.clock_now();
    let anchor = issuer.anchor.as_ref().unwrap().public_key();
    let list_jwt = issuer
        .client
        .get(issuer.url("/trust-list"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let trust = TrustList::verify(&list_jwt, &RustCrypto, &anchor, now, None).unwrap();
    let sd = SdJwt::parse(&credentials[0]).unwrap();
    let key = trust
        .resolve_key(&issuer.base, &kid_of(&credentials[0]))
        .unwrap()
        .clone();
    let clock = FixedClock(now);
    let verified = sd_jwt_vc::verify(
        &sd,
        &key,
        &RustCrypto,
        &VcVerification::new(KeyBindingPolicy::NotRequired, &clock)
            .with_expected_vct(CredentialType::Qualification.vct()),
    )
    .unwrap();
    assert_eq!(verified.vct(), "urn:be:identity:qualification:1");
    assert_eq!(verified.claims()["provider"], "Welding Academy");
    assert_eq!(verified.claims()["course_reference"], "WELD-101");
    assert_eq!(verified.cnf_jwk().unwrap().key(), &keys[0].public_key());
    let entity = trust.provider_for_course(&key, "WELD-101", now).unwrap();
    assert_eq!(entity.id(), issuer.base);
    assert_eq!(entity.name(), "Welding Academy");
    assert!(trust.provider_for_course(&key, "COOK-1", now).is_err());
    issuer.stop().await;
}

#[tokio::test]
async fn a_provider_offers_nothing_outside_its_accreditation_and_keeps_no_register() {
    let issuer = academy().await;
    let response = issuer
        .admin_post("/admin/offers", qualification_offer("COOK-1"))
        .await;
    assert_eq!(error_of(response).await, (409, "conflict".into()));

    let response = issuer
        .admin_post(
            "/admin/offers",
            json!({"credential_configuration_ids": ["pid_sd_jwt"]}),
        )
        .await;
    assert_eq!(error_of(response).await, (400, "invalid_request".into()));

    let response = issuer
        .admin_post("/admin/persons", person("1990-05-01", "90050112345"))
        .await;
    assert_eq!(error_of(response).await, (409, "conflict".into()));

    // Its metadata offers qualifications only.
    let metadata: Value = issuer
        .client
        .get(issuer.url("/.well-known/openid-credential-issuer"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let configurations: Vec<&String> = metadata["credential_configurations_supported"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(configurations, ["qualification_sd_jwt"]);
    issuer.stop().await;
}
