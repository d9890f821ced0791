//! The Nonce and Credential Endpoints (OpenID4VCI 1.0 §7, §8) refusing bad requests, each
//! with the error code of §8.3.1 (RFC 6750 §3.1 for authorization errors).

use credential_formats::crypto::{CryptoProvider, RustCrypto, SecretKey, SignatureAlgorithm};
use credential_formats::jose::{Jwk, JwsHeader, sign_compact};
use credential_formats::oid4vci::create_proof;
use serde_json::{Value, json};

use crate::harness::{Options, TestIssuer, credential_request, error_of};

const PID: &str = "pid_sd_jwt";
const PA: &str = "person_attestation_sd_jwt";
const PROOF_TYP: &str = "openid4vci-proof+jwt";

/// An issuer with an offer of `configurations` redeemed: (issuer, access token).
async fn redeemed(configurations: &[&str]) -> (TestIssuer, String) {
    redeemed_with(Options::default(), configurations).await
}

async fn redeemed_with(options: Options, configurations: &[&str]) -> (TestIssuer, String) {
    let issuer = TestIssuer::start_with(options).await;
    let (code, tx_code) = issuer.person_offer(configurations).await;
    let token = issuer.token(&code, &tx_code).await;
    (issuer, token)
}

fn es256() -> SecretKey {
    SecretKey::generate(SignatureAlgorithm::Es256).unwrap()
}

/// A key proof built by hand: `header` and `claims` signed by `key`.
fn signed(key: &SecretKey, header: &JwsHeader, claims: &Value) -> String {
    let signer = RustCrypto.signer(key).unwrap();
    sign_compact(header, claims.to_string().as_bytes(), &*signer).unwrap()
}

fn proof_header(key: &SecretKey) -> JwsHeader {
    JwsHeader::new(PROOF_TYP).with_jwk(Jwk::new(key.public_key()))
}

/// Sends one hand-made proof for `configuration` and returns (status, error).
async fn refused(
    issuer: &TestIssuer,
    token: &str,
    configuration: &str,
    proof: String,
) -> (u16, String) {
    let response = issuer
        .credential_response(token, &credential_request(configuration, &[proof]))
        .await;
    error_of(response).await
}

#[tokio::test]
async fn a_proof_without_nonce_is_an_invalid_proof() {
    let (issuer, token) = redeemed(&[PID]).await;
    let key = es256();
    let proof = signed(
        &key,
        &proof_header(&key),
        &json!({"aud": issuer.base, "iat": issuer.clock_now()}),
    );
    assert_eq!(
        refused(&issuer, &token, PID, proof).await,
        (400, "invalid_proof".into())
    );
    issuer.stop().await;
}

#[tokio::test]
async fn a_nonce_the_issuer_never_gave_is_an_invalid_nonce() {
    let (issuer, token) = redeemed(&[PID]).await;
    let (_, proofs) = issuer.proofs(1, "a-nonce-of-my-own-making");
    let response = issuer
        .credential_response(&token, &credential_request(PID, &proofs))
        .await;
    assert_eq!(error_of(response).await, (400, "invalid_nonce".into()));
    // The request is refused before anything is issued: a fresh nonce works.
    let nonce = issuer.nonce().await;
    let (_, proofs) = issuer.proofs(1, &nonce);
    let response = issuer
        .credential_response(&token, &credential_request(PID, &proofs))
        .await;
    assert_eq!(response.status(), 200);
    issuer.stop().await;
}

#[tokio::test]
async fn a_nonce_is_good_for_one_request_only() {
    let (issuer, token) = redeemed(&[PID, PA]).await;
    let nonce = issuer.nonce().await;
    let (_, proofs) = issuer.proofs(1, &nonce);
    let response = issuer
        .credential_response(&token, &credential_request(PID, &proofs))
        .await;
    assert_eq!(response.status(), 200);
    // The second configuration of the same offer, with the same nonce.
    let (_, proofs) = issuer.proofs(2, &nonce);
    let response = issuer
        .credential_response(&token, &credential_request(PA, &proofs))
        .await;
    assert_eq!(error_of(response).await, (400, "invalid_nonce".into()));
    let fresh = issuer.nonce().await;
    let (_, proofs) = issuer.proofs(2, &fresh);
    let response = issuer
        .credential_response(&token, &credential_request(PA, &proofs))
        .await;
    assert_eq!(response.status(), 200);
    issuer.stop().await;
}

#[tokio::test]
async fn an_expired_nonce_is_an_invalid_nonce() {
    let issuer = TestIssuer::start().await;
    let (code, tx_code) = issuer.person_offer(&[PID]).await;
    let nonce = issuer.nonce().await;
    // The token is fetched later so that it outlives the nonce (both live 300 s).
    issuer.clock.advance(200);
    let token = issuer.token(&code, &tx_code).await;
    issuer.clock.advance(101);
    let (_, proofs) = issuer.proofs(1, &nonce);
    let response = issuer
        .credential_response(&token, &credential_request(PID, &proofs))
        .await;
    assert_eq!(error_of(response).await, (400, "invalid_nonce".into()));
    issuer.stop().await;
}

#[tokio::test]
async fn proofs_with_a_wrong_audience_type_algorithm_key_or_age_are_invalid_proofs() {
    let (issuer, token) = redeemed(&[PID]).await;
    let now = issuer.clock_now();
    let claims = |nonce: &str| json!({"aud": issuer.base, "iat": now, "nonce": nonce});

    // aud: another issuer.
    let nonce = issuer.nonce().await;
    let key = es256();
    let proof = create_proof(
        &*RustCrypto.signer(&key).unwrap(),
        "https://other-issuer.example",
        &nonce,
        now,
        None,
    )
    .unwrap();
    assert_eq!(
        refused(&issuer, &token, PID, proof).await,
        (400, "invalid_proof".into()),
        "wrong aud"
    );

    // typ: a plain JWT is not a key proof.
    let nonce = issuer.nonce().await;
    let key = es256();
    let header = JwsHeader::new("JWT").with_jwk(Jwk::new(key.public_key()));
    let proof = signed(&key, &header, &claims(&nonce));
    assert_eq!(
        refused(&issuer, &token, PID, proof).await,
        (400, "invalid_proof".into()),
        "wrong typ"
    );

    // alg: EdDSA is not among proof_signing_alg_values_supported (ES256 only).
    let nonce = issuer.nonce().await;
    let ed = SecretKey::generate(SignatureAlgorithm::EdDsa).unwrap();
    let proof = signed(&ed, &proof_header(&ed), &claims(&nonce));
    assert_eq!(
        refused(&issuer, &token, PID, proof).await,
        (400, "invalid_proof".into()),
        "EdDSA"
    );

    // Signed by another key than the one in its jwk header.
    let nonce = issuer.nonce().await;
    let (named, signing) = (es256(), es256());
    let proof = signed(&signing, &proof_header(&named), &claims(&nonce));
    assert_eq!(
        refused(&issuer, &token, PID, proof).await,
        (400, "invalid_proof".into()),
        "foreign signature"
    );

    // iat ten minutes ago (the policy allows five).
    let nonce = issuer.nonce().await;
    let key = es256();
    let proof = create_proof(
        &*RustCrypto.signer(&key).unwrap(),
        &issuer.base,
        &nonce,
        now - 600,
        None,
    )
    .unwrap();
    assert_eq!(
        refused(&issuer, &token, PID, proof).await,
        (400, "invalid_proof".into()),
        "old iat"
    );

    // Two proofs made with one key would bind two copies to one key: linkable.
    let nonce = issuer.nonce().await;
    let key = es256();
    let signer = RustCrypto.signer(&key).unwrap();
    let proofs: Vec<String> = (0..2)
        .map(|_| create_proof(&*signer, &issuer.base, &nonce, now, None).unwrap())
        .collect();
    let response = issuer
        .credential_response(&token, &credential_request(PID, &proofs))
        .await;
    assert_eq!(
        error_of(response).await,
        (400, "invalid_proof".into()),
        "one key twice"
    );

    // Nothing above spent the configuration.
    let nonce = issuer.nonce().await;
    let (_, proofs) = issuer.proofs(1, &nonce);
    let response = issuer
        .credential_response(&token, &credential_request(PID, &proofs))
        .await;
    assert_eq!(response.status(), 200);
    issuer.stop().await;
}

#[tokio::test]
async fn a_request_without_proofs_is_an_invalid_proof() {
    let (issuer, token) = redeemed(&[PID]).await;
    let response = issuer
        .credential_response(&token, &json!({"credential_configuration_id": PID}))
        .await;
    assert_eq!(error_of(response).await, (400, "invalid_proof".into()));
    issuer.stop().await;
}

#[tokio::test]
async fn a_batch_over_the_advertised_size_is_an_invalid_credential_request() {
    let (issuer, token) = redeemed_with(
        Options {
            batch_size: Some(3),
            ..Options::default()
        },
        &[PA],
    )
    .await;
    let nonce = issuer.nonce().await;
    let (_, proofs) = issuer.proofs(4, &nonce);
    let response = issuer
        .credential_response(&token, &credential_request(PA, &proofs))
        .await;
    assert_eq!(
        error_of(response).await,
        (400, "invalid_credential_request".into())
    );
    let (_, proofs) = issuer.proofs(3, &nonce);
    let response = issuer
        .credential_response(&token, &credential_request(PA, &proofs))
        .await;
    assert_eq!(response.status(), 200);
    issuer.stop().await;
}

#[tokio::test]
async fn configurations_must_exist_be_offered_and_be_issued_once() {
    let (issuer, token) = redeemed(&[PID]).await;
    let nonce = issuer.nonce().await;
    let (_, proofs) = issuer.proofs(1, &nonce);

    let response = issuer
        .credential_response(&token, &credential_request("mdl_mso_mdoc", &proofs))
        .await;
    assert_eq!(
        error_of(response).await,
        (400, "unknown_credential_configuration".into())
    );

    // Known to the issuer, but not in this offer: the token does not cover it. RFC 6750 §3:
    // the refusal MUST carry a WWW-Authenticate challenge.
    let response = issuer
        .credential_response(&token, &credential_request(PA, &proofs))
        .await;
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer error=\"insufficient_scope\"")
    );
    assert_eq!(error_of(response).await, (403, "insufficient_scope".into()));

    let response = issuer
        .credential_response(&token, &credential_request(PID, &proofs))
        .await;
    assert_eq!(response.status(), 200);

    let nonce = issuer.nonce().await;
    let (_, proofs) = issuer.proofs(1, &nonce);
    let response = issuer
        .credential_response(&token, &credential_request(PID, &proofs))
        .await;
    assert_eq!(
        error_of(response).await,
        (400, "credential_request_denied".into())
    );
    issuer.stop().await;
}

#[tokio::test]
async fn the_access_token_goes_in_the_authorization_header_only() {
    let (issuer, token) = redeemed(&[PID]).await;
    let nonce = issuer.nonce().await;
    let (_, proofs) = issuer.proofs(1, &nonce);
    let body = credential_request(PID, &proofs);

    let in_query = issuer
        .client
        .post(issuer.url(&format!("/credential?access_token={token}")))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(in_query).await, (400, "invalid_request".into()));

    let anonymous = issuer
        .client
        .post(issuer.url("/credential"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let challenge = anonymous.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    // RFC 6750 §3.1: a request without credentials gets a bare challenge, no error code.
    assert_eq!(challenge, "Bearer");
    assert_eq!(error_of(anonymous).await, (401, "invalid_request".into()));

    // Neither request spent the nonce or the configuration.
    let response = issuer.credential_response(&token, &body).await;
    assert_eq!(response.status(), 200);
    issuer.stop().await;
}

#[tokio::test]
async fn an_expired_access_token_is_an_invalid_token() {
    let (issuer, token) = redeemed(&[PID]).await;
    // token_ttl is 300 s.
    issuer.clock.advance(301);
    let nonce = issuer.nonce().await;
    let (_, proofs) = issuer.proofs(1, &nonce);
    let response = issuer
        .credential_response(&token, &credential_request(PID, &proofs))
        .await;
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(error_of(response).await, (401, "invalid_token".into()));
    issuer.stop().await;
}

#[tokio::test]
async fn malformed_bodies_unsupported_encryption_and_credential_identifiers_are_refused() {
    let (issuer, token) = redeemed(&[PID]).await;
    let post = |body: &'static str| {
        issuer
            .client
            .post(issuer.url("/credential"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let response = post("{\"credential_configuration_id\": \"pid_sd_jwt\", ")
        .await
        .unwrap();
    assert_eq!(
        error_of(response).await,
        (400, "invalid_credential_request".into())
    );
    // §8.3.1.2: a repeated parameter is an invalid_credential_request too.
    let response = post(
        "{\"credential_configuration_id\": \"pid_sd_jwt\", \"credential_configuration_id\": \"pid_sd_jwt\"}",
    )
    .await
    .unwrap();
    assert_eq!(
        error_of(response).await,
        (400, "invalid_credential_request".into())
    );
    let response = post("[]").await.unwrap();
    assert_eq!(
        error_of(response).await,
        (400, "invalid_credential_request".into())
    );

    let nonce = issuer.nonce().await;
    let (_, proofs) = issuer.proofs(1, &nonce);
    let mut body = credential_request(PID, &proofs);
    let wallet_key = es256();
    body["credential_response_encryption"] = json!({
        "jwk": Jwk::new(wallet_key.public_key()).with_alg("ECDH-ES").with_use("enc").to_value(),
        "enc": "A128GCM",
    });
    let response = issuer.credential_response(&token, &body).await;
    assert_eq!(
        error_of(response).await,
        (400, "invalid_encryption_parameters".into())
    );

    // §8.3.1.2: this issuer returns no credential_identifiers, so none is known.
    let body = json!({"credential_identifier": "PID-2026", "proofs": {"jwt": proofs}});
    let response = issuer.credential_response(&token, &body).await;
    assert_eq!(
        error_of(response).await,
        (400, "unknown_credential_identifier".into())
    );
    issuer.stop().await;
}
