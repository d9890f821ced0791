//! The State register resolves a handle only for an order logged at the verifier: the same
//! judge-signed order and the verifier's log proof, checked against the trust list; the
//! resolution is in the register's own log, whose key the trust list names.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use credential_formats::court_order::{OrderRequest, sign_order};
use credential_formats::crypto::{CryptoProvider, RustCrypto};
use credential_formats::escrow::{SealedRecord, open};
use credential_formats::jose::PrivateJwk;
use credential_formats::time::{Clock, SystemClock};
use credential_formats::translog::{leaf_hash, verify_inclusion};
use credential_formats::trust_list::{Role, TrustList};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::Stack;

fn judge(stack: &Stack) -> PrivateJwk {
    let text = std::fs::read_to_string(stack.dir.path().join("court/judge-1.jwk")).unwrap();
    PrivateJwk::from_json(&text).unwrap()
}

fn order(key: &PrivateJwk, platform: &str, pseudonym: &str, embargo: Option<i64>) -> String {
    let now = SystemClock.now();
    sign_order(
        &OrderRequest {
            case: "2026/REG/7".into(),
            ground: "Art. 442bis harassment".into(),
            platform: platform.into(),
            pseudonym: pseudonym.into(),
            deadline: now + 86_400,
            embargo_until: embargo,
        },
        verifier::DEV_JUDGE_ID,
        key.kid().unwrap(),
        &*RustCrypto.signer(key.secret()).unwrap(),
        now,
    )
    .unwrap()
}

async fn post(stack: &Stack, url: String, content_type: &str, body: String) -> (u16, Value) {
    let response = stack
        .http
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn submit(stack: &Stack, jwt: &str) -> Value {
    let (status, answer) = post(
        stack,
        format!("{}/court/orders", stack.verifier.base),
        "application/jwt",
        jwt.to_owned(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn resolve(stack: &Stack, jwt: &str, handle: &str, log: &Value) -> (u16, Value) {
    post(
        stack,
        format!("{}/register/resolve", stack.issuer.base),
        "application/json",
        json!({"order": jwt, "person_handle": handle, "verifier_log": log}).to_string(),
    )
    .await
}

fn trust_list(stack: &Stack) -> TrustList {
    let jwt = std::fs::read_to_string(stack.dir.path().join("trust/trust-list.jwt")).unwrap();
    let anchor = issuer::trust::public_jwk_from_file(&stack.issuer.anchor).unwrap();
    TrustList::verify(
        jwt.trim(),
        &RustCrypto,
        anchor.key(),
        SystemClock.now(),
        None,
    )
    .unwrap()
}

#[tokio::test]
async fn the_register_resolves_a_logged_order_once_and_logs_it() {
    let stack = Stack::start().await;
    let (platform, key) = stack.platform("Example Social").await;
    let result = stack.verified(&key, &["verified_person"]).await;
    let pseudonym = result["pseudonym"]["sub"].as_str().unwrap().to_owned();
    let judge = judge(&stack);
    let jwt = order(&judge, &platform, &pseudonym, None);
    let answer = submit(&stack, &jwt).await;
    let secret: [u8; 32] = std::fs::read(stack.dir.path().join("court/escrow.key"))
        .unwrap()
        .try_into()
        .unwrap();
    let sealed =
        SealedRecord::from_compact(answer["records"][0]["sealed"].as_str().unwrap()).unwrap();
    let handle = open(&secret, &platform, &pseudonym, &sealed)
        .unwrap()
        .person_handle
        .clone();

    let (status, resolved) = resolve(&stack, &jwt, &handle, &answer["log"]).await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["person"]["family_name"], "Peeters");
    assert_eq!(
        resolved["person"]["personal_administrative_number"],
        "90050112345"
    );
    assert_eq!(resolved["person_handle"], handle);

    // The resolution is in the register's log, whose key and origin the trust list names.
    let list = trust_list(&stack);
    let register = list
        .entities()
        .iter()
        .find(|e| e.has_role(Role::PidIssuer))
        .unwrap();
    let log_key = register.transparency_log().unwrap();
    let log = &resolved["log"];
    let checkpoint = log_key
        .verify_checkpoint(log["checkpoint"].as_str().unwrap(), &RustCrypto)
        .unwrap();
    assert_eq!(checkpoint.size, 1);
    let entry = STANDARD.decode(log["entry"].as_str().unwrap()).unwrap();
    verify_inclusion(0, 1, &leaf_hash(&entry), &[], &checkpoint.root).unwrap();
    let entry: Value = serde_json::from_slice(&entry).unwrap();
    assert_eq!(entry["type"], "register_resolution");
    assert_eq!(
        entry["order_sha256"],
        URL_SAFE_NO_PAD.encode(Sha256::digest(jwt.as_bytes()))
    );
    assert_eq!(entry["found"], true);
    // The entry commits to exactly what was returned, and holds no personal data.
    assert_eq!(
        entry["returned_sha256"],
        URL_SAFE_NO_PAD.encode(Sha256::digest(credential_formats::json::canonical(
            &resolved["person"]
        )))
    );
    let text = entry.to_string();
    for secret in [
        handle.as_str(),
        "Peeters",
        "90050112345",
        pseudonym.as_str(),
    ] {
        assert!(
            !text.contains(secret),
            "personal data in the register's log"
        );
    }
    let published = stack
        .http
        .get(format!("{}/transparency/checkpoint", stack.issuer.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        log_key
            .verify_checkpoint(&published, &RustCrypto)
            .unwrap()
            .size,
        1
    );

    // Once: the same order again is refused.
    let (status, error) = resolve(&stack, &jwt, &handle, &answer["log"]).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["error"], "order_replayed");
}

#[tokio::test]
async fn the_register_refuses_an_order_not_in_the_verifiers_log() {
    let stack = Stack::start().await;
    let (platform, key) = stack.platform("Example Social").await;
    let result = stack.verified(&key, &["verified_person"]).await;
    let pseudonym = result["pseudonym"]["sub"].as_str().unwrap().to_owned();
    let judge = judge(&stack);
    let logged = order(&judge, &platform, &pseudonym, None);
    let answer = submit(&stack, &logged).await;
    let handle = stack.person_handle();

    // A valid order, signed by the judge, but never sent to the verifier, carrying another
    // order's log proof: not shown to be logged.
    let unlogged = order(&judge, &platform, &pseudonym, None);
    let (status, error) = resolve(&stack, &unlogged, &handle, &answer["log"]).await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["error"], "order_not_logged");
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .contains("another order's"),
        "{error}"
    );

    // The logged order with its proof altered: a hash, the entry, the size, the checkpoint.
    let mut altered = answer["log"].clone();
    altered["entry"] = json!(STANDARD.encode(b"{\"type\":\"court_order\"}"));
    let (status, error) = resolve(&stack, &logged, &handle, &altered).await;
    assert_eq!(status, 403, "{error}");
    let mut altered = answer["log"].clone();
    altered["tree_size"] = json!(5);
    let (status, error) = resolve(&stack, &logged, &handle, &altered).await;
    assert_eq!(status, 403, "{error}");
    let mut altered = answer["log"].clone();
    let note = altered["checkpoint"]
        .as_str()
        .unwrap()
        .replacen("\n1\n", "\n2\n", 1);
    altered["checkpoint"] = json!(note);
    let (status, error) = resolve(&stack, &logged, &handle, &altered).await;
    assert_eq!(status, 403, "{error}");
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .contains("signature"),
        "{error}"
    );
    // A checkpoint signed by a log key no verifier of the trust list has: the register's own.
    let (status, resolved) = resolve(&stack, &logged, &handle, &answer["log"]).await;
    assert_eq!(status, 200, "{resolved}");
    let second = order(&judge, &platform, &pseudonym, None);
    let (status, error) = resolve(&stack, &second, &handle, &resolved["log"]).await;
    assert_eq!(status, 403, "{error}");
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .contains("no verifier's log"),
        "{error}"
    );

    // Not a judge's order at all.
    let not_a_judge = PrivateJwk::from_json(
        &std::fs::read_to_string(stack.dir.path().join("verifier/keys/attestation.jwk")).unwrap(),
    )
    .unwrap();
    let forged = order(&not_a_judge, &platform, &pseudonym, None);
    let (status, error) = resolve(&stack, &forged, &handle, &answer["log"]).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "invalid_order");

    // Malformed requests.
    let (status, _) = post(
        &stack,
        format!("{}/register/resolve", stack.issuer.base),
        "application/json",
        json!({"order": logged, "person_handle": handle}).to_string(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = resolve(&stack, &second, "not-a-handle", &answer["log"]).await;
    assert_eq!(status, 400);

    // Only the one good resolution was logged.
    let note = stack
        .http
        .get(format!("{}/transparency/checkpoint", stack.issuer.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(note.lines().nth(1), Some("1"), "{note}");
}

#[tokio::test]
async fn a_handle_the_register_does_not_hold_is_logged_and_not_found() {
    let stack = Stack::start().await;
    let (platform, _) = stack.platform("Example Social").await;
    let judge = judge(&stack);
    let pseudonym = URL_SAFE_NO_PAD.encode([9u8; 32]);
    let jwt = order(&judge, &platform, &pseudonym, None);
    let answer = submit(&stack, &jwt).await;
    let (status, answer) = resolve(
        &stack,
        &jwt,
        &URL_SAFE_NO_PAD.encode([1u8; 32]),
        &answer["log"],
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["error"], "unknown_person");
    assert!(answer["person"].is_null());
    let entry: Value = serde_json::from_slice(
        &STANDARD
            .decode(answer["log"]["entry"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(entry["found"], false);
}
