//! The citizen → platform path, and what may and may not settle a check.

use serde_json::{Value, json};
use verifier::attestation;

use crate::Stack;

fn verify_attestation(
    stack: &Stack,
    jwks: &Value,
    token: &str,
    platform: &str,
) -> Result<attestation::Attestation, attestation::AttestationError> {
    let keys: Vec<credential_formats::jose::Jwk> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| credential_formats::jose::Jwk::from_value(k).unwrap())
        .collect();
    attestation::verify(
        token,
        &keys,
        &stack.verifier.base,
        platform,
        credential_formats::time::Clock::now(&credential_formats::time::SystemClock),
        &credential_formats::crypto::RustCrypto,
    )
}

#[tokio::test]
async fn an_age_check_gives_a_signed_attestation_without_a_subject() {
    let stack = Stack::start().await;
    let (platform, key) = stack.platform("Example Social").await;
    let result = stack.verified(&key, &["age_over_18"]).await;
    assert_eq!(result["status"], "completed", "{result}");
    assert_eq!(result["result"], "verified");
    assert!(result.get("pseudonym").is_none());
    let jwks = stack.jwks().await;
    let attestation = verify_attestation(
        &stack,
        &jwks,
        result["attestation"].as_str().unwrap(),
        &platform,
    )
    .unwrap();
    assert_eq!(attestation.sub(), None);
    assert_eq!(
        attestation
            .checks()
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>(),
        vec!["age_over_18"]
    );
    assert_eq!(attestation.check_id(), result["id"].as_str().unwrap());
    // The wallet's record of what it sent: age_over_18 and nothing else.
    let (_, entry) = stack.wallet.log().unwrap().pop().unwrap();
    assert_eq!(entry["platform"], "Example Social");
    assert_eq!(entry["credentials"][0]["claims"], json!(["age_over_18"]));
    // Signed for this platform only.
    let other = verify_attestation(
        &stack,
        &jwks,
        result["attestation"].as_str().unwrap(),
        "another-platform",
    );
    assert_eq!(
        other.unwrap_err(),
        attestation::AttestationError::WrongAudience
    );
}

#[tokio::test]
async fn pseudonyms_are_stable_per_platform_and_unrelated_across_platforms() {
    let stack = Stack::start().await;
    let (social, social_key) = stack.platform("Example Social").await;
    let (_market, market_key) = stack.platform("Example Market").await;
    let jwks = stack.jwks().await;

    let first = stack
        .verified(&social_key, &["verified_person", "age_over_18"])
        .await;
    assert_eq!(first["result"], "verified", "{first}");
    let a1 = verify_attestation(
        &stack,
        &jwks,
        first["attestation"].as_str().unwrap(),
        &social,
    )
    .unwrap();
    let sub = a1.sub().unwrap().to_owned();
    assert_eq!(first["pseudonym"]["sub"], sub.as_str());
    assert_eq!(first["pseudonym"]["verifications"], 1);

    let again = stack.verified(&social_key, &["verified_person"]).await;
    assert_eq!(again["pseudonym"]["sub"], sub.as_str(), "a ban sticks");
    assert_eq!(again["pseudonym"]["verifications"], 2);

    let elsewhere = stack.verified(&market_key, &["verified_person"]).await;
    let other = elsewhere["pseudonym"]["sub"].as_str().unwrap();
    assert_ne!(other, sub);
    // Unrelated: neither is derived from the handle in any visible way.
    let handle = stack.person_handle();
    assert!(!sub.contains(&handle) && !other.contains(&handle));
}

#[tokio::test]
async fn a_declined_check_says_not_verified_and_nothing_else() {
    let stack = Stack::start().await;
    let (platform, key) = stack.platform("Example Social").await;
    let (_, created) = stack
        .create_check(&key, json!({"checks": ["verified_person"]}))
        .await;
    let session = stack
        .wallet
        .receive_request(created["wallet_link"].as_str().unwrap())
        .await
        .unwrap();
    session.decline().await.unwrap();
    let (_, result) = stack.get_check(&key, created["id"].as_str().unwrap()).await;
    assert_eq!(result["status"], "failed");
    assert_eq!(result["result"], "not_verified");
    let jwks = stack.jwks().await;
    let attestation = verify_attestation(
        &stack,
        &jwks,
        result["attestation"].as_str().unwrap(),
        &platform,
    )
    .unwrap();
    assert!(attestation.checks().is_empty());
    assert_eq!(attestation.sub(), None);
    // Nothing says why.
    let text = result.to_string();
    for word in ["declined", "access_denied", "refus"] {
        assert!(!text.contains(word), "{word} in {text}");
    }
}

#[tokio::test]
async fn a_response_is_accepted_once_and_only_by_its_own_check() {
    let stack = Stack::start().await;
    let (_, key) = stack.platform("Example Social").await;
    let result = stack.verified(&key, &["age_over_18"]).await;
    assert_eq!(result["status"], "completed");
    let (url, body) = stack.transport.posted.lock().unwrap()[0].clone();

    // The same answer again, to the same check.
    let replay = stack
        .http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status().as_u16(), 400);
    let error: serde_json::Value = replay.json().await.unwrap();
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .starts_with("already_answered"),
        "{error}"
    );

    // The same answer to another check: not encrypted to its key, so refused, and the
    // check fails.
    let (_, other) = stack
        .create_check(&key, json!({"checks": ["age_over_18"]}))
        .await;
    let other_id = other["id"].as_str().unwrap();
    let other_url = url.replace(result["id"].as_str().unwrap(), other_id);
    let replay = stack
        .http
        .post(&other_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status().as_u16(), 400);
    let error: serde_json::Value = replay.json().await.unwrap();
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .starts_with("decryption_failed"),
        "{error}"
    );
    let (_, failed) = stack.get_check(&key, other_id).await;
    assert_eq!(failed["result"], "not_verified");
}

#[tokio::test]
async fn a_plaintext_response_is_refused_where_encryption_is_required() {
    let stack = Stack::start().await;
    let (_, key) = stack.platform("Example Social").await;
    let (_, created) = stack
        .create_check(&key, json!({"checks": ["age_over_18"]}))
        .await;
    let id = created["id"].as_str().unwrap();
    let response = stack
        .http
        .post(format!("{}/wallet/responses/{id}", stack.verifier.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(r#"vp_token=%7B%22person%22%3A%5B%22x~%22%5D%7D&state=abc"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .starts_with("encryption_required"),
        "{error}"
    );
}

#[tokio::test]
async fn a_restarted_verifier_completes_the_check() {
    let mut stack = Stack::start().await;
    let (_, key) = stack.platform("Example Social").await;
    let (_, created) = stack
        .create_check(&key, json!({"checks": ["age_over_18"]}))
        .await;
    let session = stack
        .wallet
        .receive_request(created["wallet_link"].as_str().unwrap())
        .await
        .unwrap();
    // Stop the verifier between the request and the response, then start it again on the
    // same port over the same database.
    let port: u16 = stack
        .verifier
        .base
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    stack.verifier.stop();
    stack.verifier = restart(stack.dir.path(), addr).await;
    session.accept().await.unwrap();
    let (_, result) = stack.get_check(&key, created["id"].as_str().unwrap()).await;
    assert_eq!(result["status"], "completed", "{result}");
}

async fn restart(dir: &std::path::Path, addr: std::net::SocketAddr) -> verifier::LocalVerifier {
    // The old server lets go of the port once it has stopped accepting.
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        if let Ok(listener) = tokio::net::TcpListener::bind(addr).await {
            return verifier::LocalVerifier::start_on(
                dir,
                &verifier::LocalOptions::default(),
                listener,
                addr,
            )
            .await
            .unwrap();
        }
    }
    panic!("the port was not released");
}

#[tokio::test]
async fn the_full_path_on_postgresql() {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("TEST_POSTGRES_URL is not set: the PostgreSQL run is skipped");
        return;
    };
    let stack = Stack::start_with_db(Some(&url)).await;
    let (platform, key) = stack.platform("Example Social").await;
    let first = stack
        .verified(&key, &["verified_person", "age_over_18"])
        .await;
    assert_eq!(first["result"], "verified", "{first}");
    let again = stack.verified(&key, &["verified_person"]).await;
    assert_eq!(again["pseudonym"]["sub"], first["pseudonym"]["sub"]);
    assert_eq!(again["pseudonym"]["verifications"], 2);
    let jwks = stack.jwks().await;
    let attestation = verify_attestation(
        &stack,
        &jwks,
        again["attestation"].as_str().unwrap(),
        &platform,
    )
    .unwrap();
    assert_eq!(attestation.check_id(), again["id"].as_str().unwrap());
}

#[tokio::test]
async fn an_answer_after_expiry_is_refused_and_the_check_reads_expired() {
    let stack = Stack::start_with(None, Some(2)).await;
    let (_, key) = stack.platform("Example Social").await;
    let (_, created) = stack
        .create_check(&key, json!({"checks": ["age_over_18"]}))
        .await;
    let session = stack
        .wallet
        .receive_request(created["wallet_link"].as_str().unwrap())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(session.accept().await.is_err());
    let (url, body) = stack.transport.posted.lock().unwrap()[0].clone();
    let late = stack
        .http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(late.status().as_u16(), 400);
    let error: Value = late.json().await.unwrap();
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .starts_with("expired"),
        "{error}"
    );
    let (_, result) = stack.get_check(&key, created["id"].as_str().unwrap()).await;
    assert_eq!(result["status"], "expired");
    assert_eq!(result["result"], "not_verified");
    assert!(result.get("attestation").is_none());
}

#[tokio::test]
async fn a_revoked_credential_fails_the_check_with_its_reason_kept_inside() {
    let stack = Stack::start().await;
    // Find the demo citizen in the register (enrolling again finds the same person) and
    // revoke their person attestations.
    let enrolment: issuer::register::Enrolment = serde_json::from_value(json!({
        "family_name": "Peeters", "given_name": "An", "birthdate": "1990-05-01",
        "nationalities": ["BE"], "personal_administrative_number": "90050112345",
        "address": {"street_address": "Veldstraat 1", "locality": "Gent", "country": "BE"}
    }))
    .unwrap();
    let person = stack.issuer.issuer.enrol(enrolment).await.unwrap();
    let issued = stack
        .issuer
        .issuer
        .credentials_of(&person.person_id)
        .await
        .unwrap();
    let mut revoked = 0;
    for credential in issued.iter().filter(|c| c.vct == crate::PERSON) {
        stack
            .issuer
            .issuer
            .set_status(&credential.id, issuer::store::CredentialStatus::Revoked)
            .await
            .unwrap();
        revoked += 1;
    }
    assert!(revoked > 0);

    let (_, key) = stack.platform("Example Social").await;
    let (_, created) = stack
        .create_check(&key, json!({"checks": ["age_over_18"]}))
        .await;
    let id = created["id"].as_str().unwrap();
    let session = stack
        .wallet
        .receive_request(created["wallet_link"].as_str().unwrap())
        .await
        .unwrap();
    assert!(session.accept().await.is_err());
    let (_, result) = stack.get_check(&key, id).await;
    assert_eq!(result["result"], "not_verified");
    let stored = stack
        .verifier
        .verifier
        .store()
        .check(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.refusal.as_deref(), Some("revoked"));
}

#[tokio::test]
async fn a_same_device_flow_returns_the_browser_with_a_code_only_it_has() {
    let stack = Stack::start().await;
    let (_, key) = stack.platform("Example Social").await;
    let (_, created) = stack
        .create_check(
            &key,
            json!({"checks": ["age_over_18"], "return_url": "https://social.example/verified?step=2"}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let outcome = stack
        .wallet
        .receive_request(created["wallet_link"].as_str().unwrap())
        .await
        .unwrap()
        .accept()
        .await
        .unwrap();
    let redirect = outcome.redirect_uri.unwrap();
    let code = redirect
        .strip_prefix("https://social.example/verified?step=2&response_code=")
        .unwrap();
    assert!(code.len() >= 22, "at least 128 bits");
    let get = |code: String| {
        let url = format!(
            "{}/v1/checks/{id}?response_code={code}",
            stack.verifier.base
        );
        let request = stack.http.get(url).bearer_auth(&key);
        async move { request.send().await.unwrap() }
    };
    let right = get(code.to_owned()).await;
    assert_eq!(right.status().as_u16(), 200);
    let result: Value = right.json().await.unwrap();
    assert_eq!(result["result"], "verified");
    let wrong = get("A".repeat(code.len())).await;
    assert_eq!(wrong.status().as_u16(), 400);
}

#[tokio::test]
async fn a_cloned_wallet_cannot_present_a_copy_twice() {
    let stack = Stack::start().await;
    // A copy of the phone's storage, taken while every copy is unused (the wallet is idle:
    // its database, WAL and shared memory files are consistent).
    let clone_dir = stack.dir.path().join("clone");
    std::fs::create_dir_all(&clone_dir).unwrap();
    for name in ["wallet.db", "wallet.db-wal", "wallet.db-shm"] {
        let from = stack.dir.path().join(name);
        if from.exists() {
            std::fs::copy(&from, clone_dir.join(name)).unwrap();
        }
    }
    let anchor = issuer::trust::public_jwk_from_file(&stack.issuer.anchor).unwrap();
    let clone = wallet_core::Wallet::open(
        &clone_dir.join("wallet.db"),
        zeroize::Zeroizing::new([7u8; 32]),
        None,
        stack.transport.clone(),
        wallet_core::WalletConfig::new(stack.issuer.trust_list_url.clone(), anchor),
        std::sync::Arc::new(credential_formats::time::SystemClock),
    )
    .unwrap();

    let (_, key) = stack.platform("Example Social").await;
    let first = stack.verified(&key, &["age_over_18"]).await;
    assert_eq!(first["result"], "verified");
    // The clone presents the same first unused copy, to a new check.
    let (_, created) = stack
        .create_check(&key, json!({"checks": ["age_over_18"]}))
        .await;
    let id = created["id"].as_str().unwrap();
    let refused = clone
        .receive_request(created["wallet_link"].as_str().unwrap())
        .await
        .unwrap()
        .accept()
        .await;
    assert!(refused.is_err());
    let (_, result) = stack.get_check(&key, id).await;
    assert_eq!(result["result"], "not_verified");
    let stored = stack
        .verifier
        .verifier
        .store()
        .check(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.refusal.as_deref(), Some("copy_reused"));
}
