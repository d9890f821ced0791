//! The pre-authorized flow end to end, and what the issued credentials look like.

use credential_formats::credentials::CredentialType;
use credential_formats::crypto::RustCrypto;
use credential_formats::oid4vci::{CredentialIssuerMetadata, CredentialOffer, CredentialOfferUri};
use credential_formats::sd_jwt::{KeyBindingPolicy, SdJwt};
use credential_formats::sd_jwt_vc::{self, VcVerification};
use credential_formats::status_list::{StatusListToken, StatusListValidation, StatusType};
use credential_formats::time::FixedClock;
use credential_formats::trust_list::TrustList;
use serde_json::{Value, json};

use crate::harness::{Options, TestIssuer};

pub const STATE_TRUST: &str = r#"
iss = "https://trust.example"
sequence = 1
[[entity]]
id = "__BASE__"
name = "State issuer"
key_files = ["{key_file}"]
roles = ["pid_issuer", "person_attestation_issuer"]
vct = ["urn:eudi:pid:1", "urn:be:identity:person-attestation:1", "urn:be:identity:training-account:1", "urn:be:identity:qualification:1"]
"#;

/// The State issuer with a trust list naming it (the harness puts the issuer's URL, known
/// once the port is bound, in place of `__BASE__`).
async fn state_issuer() -> TestIssuer {
    TestIssuer::start_with(Options {
        trust_description: Some(STATE_TRUST.to_owned()),
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn a_batch_of_person_attestations_verifies_against_the_published_keys_and_trust_list() {
    let issuer = state_issuer().await;
    let person = issuer.enrol("1990-05-01", "90.05.01-123.45").await;
    let (created, code) = issuer
        .offer(json!({"person_id": person, "credential_configuration_ids": ["person_attestation_sd_jwt"]}))
        .await;
    let tx_code = created["tx_code"].as_str().unwrap();
    assert_eq!(tx_code.len(), 6);
    assert!(created["qr_svg"].as_str().unwrap().contains("<svg"));
    assert!(!created["qr_png_base64"].as_str().unwrap().is_empty());

    // The wallet's side: the link carries a credential_offer_uri, fetched over https.
    let link = CredentialOfferUri::parse(created["offer_uri"].as_str().unwrap()).unwrap();
    let CredentialOfferUri::ByReference(uri) = link else {
        panic!("expected a reference")
    };
    let fetched = issuer.client.get(&uri).send().await.unwrap();
    assert_eq!(fetched.headers()["cache-control"], "no-store");
    let offer = CredentialOffer::parse(&fetched.bytes().await.unwrap()).unwrap();
    assert_eq!(offer.credential_issuer(), issuer.base);
    assert!(!created["offer_uri"].as_str().unwrap().contains(tx_code));

    let metadata = issuer
        .client
        .get(issuer.url("/.well-known/openid-credential-issuer"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let metadata = CredentialIssuerMetadata::parse(&metadata).unwrap();
    metadata.check_issuer(&issuer.base).unwrap();
    assert_eq!(metadata.batch_credential_issuance().unwrap().batch_size, 50);

    let (keys, credentials) = issuer
        .issue(&code, tx_code, "person_attestation_sd_jwt", 30)
        .await;
    assert_eq!(credentials.len(), 30);

    // Everyone's side: the trust list names the issuer's key; each copy verifies with it.
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
    let trust =
        TrustList::verify(&list_jwt, &RustCrypto, &anchor, issuer.clock_now(), None).unwrap();
    let clock = FixedClock(issuer.clock_now());
    let mut indices = std::collections::BTreeSet::new();
    let mut salts = std::collections::BTreeSet::new();
    for (credential, key) in credentials.iter().zip(&keys) {
        let sd = SdJwt::parse(credential).unwrap();
        let kid = sd_kid(credential);
        let issuer_key = trust.resolve_key(&issuer.base, &kid).unwrap().clone();
        let verified = sd_jwt_vc::verify(
            &sd,
            &issuer_key,
            &RustCrypto,
            &VcVerification::new(KeyBindingPolicy::NotRequired, &clock)
                .with_expected_vct(CredentialType::PersonAttestation.vct()),
        )
        .unwrap();
        trust
            .issuer_for_vct(&issuer_key, verified.vct(), issuer.clock_now())
            .unwrap();
        assert_eq!(verified.cnf_jwk().unwrap().key(), &key.public_key());
        assert_eq!(verified.claims()["age_over_18"], true);
        assert_eq!(verified.claims()["age_over_21"], true);
        // Copies cannot be linked by time: iat is the start of the day.
        assert_eq!(verified.iat().unwrap() % 86_400, 0);
        assert!(indices.insert(verified.status_reference().unwrap().idx()));
        for d in sd.disclosures() {
            salts.insert(d.salt().to_owned());
        }
    }
    assert_eq!(indices.len(), 30, "every copy has its own status index");
    assert_eq!(salts.len(), 30 * 5, "every disclosure has its own salt");
    issuer.stop().await;
}

fn sd_kid(compact: &str) -> String {
    let header = compact.split('.').next().unwrap();
    let bytes = base64_decode(header);
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    v["kid"].as_str().unwrap().to_owned()
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

#[tokio::test]
async fn a_revoked_credential_shows_in_the_next_status_list() {
    let issuer = TestIssuer::start().await;
    let person = issuer.enrol("1990-05-01", "90050112345").await;
    let (created, code) = issuer
        .offer(json!({"person_id": person, "credential_configuration_ids": ["pid_sd_jwt"]}))
        .await;
    let (_keys, credentials) = issuer
        .issue(&code, created["tx_code"].as_str().unwrap(), "pid_sd_jwt", 1)
        .await;
    let sd = SdJwt::parse(&credentials[0]).unwrap();
    let jwks: Value = issuer
        .client
        .get(issuer.url("/.well-known/jwt-vc-issuer"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["issuer"], issuer.base);
    let key = credential_formats::jose::Jwk::from_value(&jwks["jwks"]["keys"][0]).unwrap();
    let clock = FixedClock(issuer.clock_now());
    let verified = sd_jwt_vc::verify(
        &sd,
        key.key(),
        &RustCrypto,
        &VcVerification::new(KeyBindingPolicy::NotRequired, &clock),
    )
    .unwrap();
    let reference = verified.status_reference().unwrap().clone();

    let status_of = |jwt: String| {
        let token = StatusListToken::verify(
            &jwt,
            &RustCrypto,
            key.key(),
            &StatusListValidation::for_reference(&reference, issuer.clock_now()),
        )
        .unwrap();
        token.status_of(&reference).unwrap()
    };
    let fetch = || async {
        let response = issuer.client.get(reference.uri()).send().await.unwrap();
        assert_eq!(
            response.headers()["content-type"],
            "application/statuslist+jwt"
        );
        assert_eq!(response.headers()["cache-control"], "public, max-age=300");
        response.text().await.unwrap()
    };
    assert_eq!(status_of(fetch().await), StatusType::Valid);

    let listed: Value = issuer
        .client
        .get(issuer.url(&format!("/admin/persons/{person}/credentials")))
        .bearer_auth(&issuer.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = listed["credentials"][0]["id"].as_str().unwrap().to_owned();
    let suspend = issuer
        .admin_post(&format!("/admin/credentials/{id}/suspend"), json!({}))
        .await;
    assert_eq!(suspend.status(), 200);
    assert_eq!(status_of(fetch().await), StatusType::Suspended);
    let revoke = issuer
        .admin_post(&format!("/admin/credentials/{id}/revoke"), json!({}))
        .await;
    assert_eq!(revoke.status(), 200);
    assert_eq!(status_of(fetch().await), StatusType::Invalid);
    // Revocation is final.
    let back = issuer
        .admin_post(&format!("/admin/credentials/{id}/unsuspend"), json!({}))
        .await;
    assert_eq!(back.status(), 409);
    issuer.stop().await;
}
