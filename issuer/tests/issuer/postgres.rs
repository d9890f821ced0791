//! The happy path on PostgreSQL (`TEST_POSTGRES_URL`), in a fresh schema.

use credential_formats::crypto::RustCrypto;
use credential_formats::jose::Jwk;
use credential_formats::sd_jwt::{KeyBindingPolicy, SdJwt};
use credential_formats::sd_jwt_vc::{self, VcVerification};
use credential_formats::status_list::{StatusListToken, StatusListValidation, StatusType};
use credential_formats::time::FixedClock;
use serde_json::{Value, json};

use crate::harness::{Options, TestIssuer};

#[tokio::test]
async fn person_attestations_are_issued_and_revoked_on_postgres() {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("TEST_POSTGRES_URL is not set: the PostgreSQL flow is skipped");
        return;
    };
    let issuer = TestIssuer::start_with(Options {
        postgres: Some(url),
        ..Options::default()
    })
    .await;
    let person = issuer.enrol("1990-05-01", "90.05.01-123.45").await;
    let (created, code) = issuer
        .offer(json!({"person_id": person, "credential_configuration_ids": ["person_attestation_sd_jwt"]}))
        .await;
    let (keys, credentials) = issuer
        .issue(
            &code,
            created["tx_code"].as_str().unwrap(),
            "person_attestation_sd_jwt",
            30,
        )
        .await;
    assert_eq!(credentials.len(), 30);

    let jwks: Value = issuer
        .client
        .get(issuer.url("/.well-known/jwt-vc-issuer"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = Jwk::from_value(&jwks["jwks"]["keys"][0]).unwrap();
    let clock = FixedClock(issuer.clock_now());
    let mut references = Vec::new();
    for (credential, holder) in credentials.iter().zip(&keys) {
        let verified = sd_jwt_vc::verify(
            &SdJwt::parse(credential).unwrap(),
            key.key(),
            &RustCrypto,
            &VcVerification::new(KeyBindingPolicy::NotRequired, &clock),
        )
        .unwrap();
        assert_eq!(verified.cnf_jwk().unwrap().key(), &holder.public_key());
        references.push(verified.status_reference().unwrap().clone());
    }
    let indices: std::collections::BTreeSet<u64> = references.iter().map(|r| r.idx()).collect();
    assert_eq!(indices.len(), 30, "every copy has its own status index");

    // The admin lists the person's credentials; which one is which copy is not recorded,
    // so revoking one shows as exactly one INVALID entry among the thirty.
    let listed: Value = issuer
        .admin_get(&format!("/admin/persons/{person}/credentials"))
        .await
        .json()
        .await
        .unwrap();
    let listed = listed["credentials"].as_array().unwrap();
    assert_eq!(listed.len(), 30);
    let id = listed[7]["id"].as_str().unwrap();
    let revoke = issuer
        .admin_post(&format!("/admin/credentials/{id}/revoke"), json!({}))
        .await;
    assert_eq!(revoke.status(), 200);

    let mut revoked = 0;
    for reference in &references {
        let jwt = issuer
            .client
            .get(reference.uri())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = StatusListToken::verify(
            &jwt,
            &RustCrypto,
            key.key(),
            &StatusListValidation::for_reference(reference, issuer.clock_now()),
        )
        .unwrap();
        match token.status_of(reference).unwrap() {
            StatusType::Valid => {}
            StatusType::Invalid => revoked += 1,
            other => panic!("unexpected status {other:?}"),
        }
    }
    assert_eq!(revoked, 1);
    let listed: Value = issuer
        .admin_get(&format!("/admin/persons/{person}/credentials"))
        .await
        .json()
        .await
        .unwrap();
    let statuses: Vec<&str> = listed["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "revoked").count(), 1);
    issuer.stop().await;
}
