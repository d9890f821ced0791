//! A court lifts a pseudonym at the verifier: a judge-signed order for one account, logged
//! in the transparency log before the sealed records are returned; the court opens them with
//! the escrow key, which the verifier does not have.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use credential_formats::court_order::{OrderRequest, sign_order};
use credential_formats::crypto::{CryptoProvider, PublicKey, RustCrypto};
use credential_formats::escrow::{SealedRecord, open};
use credential_formats::jose::PrivateJwk;
use credential_formats::time::{Clock, SystemClock};
use credential_formats::translog::{Checkpoint, leaf_hash, verify_inclusion};
use serde_json::{Value, json};

use crate::Stack;

fn judge(stack: &Stack) -> PrivateJwk {
    let text = std::fs::read_to_string(stack.dir.path().join("court/judge-1.jwk")).unwrap();
    PrivateJwk::from_json(&text).unwrap()
}

fn order(key: &PrivateJwk, platform: &str, pseudonym: &str) -> String {
    let now = SystemClock.now();
    sign_order(
        &OrderRequest {
            case: "2026/ABC/123".into(),
            ground: "Art. 442bis harassment".into(),
            platform: platform.into(),
            pseudonym: pseudonym.into(),
            deadline: now + 86_400,
            embargo_until: None,
        },
        verifier::DEV_JUDGE_ID,
        key.kid().unwrap(),
        &*RustCrypto.signer(key.secret()).unwrap(),
        now,
    )
    .unwrap()
}

async fn submit(stack: &Stack, jwt: &str) -> (u16, Value) {
    let response = stack
        .http
        .post(format!("{}/court/orders", stack.verifier.base))
        .header("content-type", "application/jwt")
        .body(jwt.to_owned())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn text(stack: &Stack, path: &str) -> String {
    stack
        .http
        .get(format!("{}{path}", stack.verifier.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_order_gets_one_accounts_records_logged_first_and_only_the_court_opens_them() {
    let stack = Stack::start().await;
    let (platform, key) = stack.platform("Example Social").await;
    let result = stack.verified(&key, &["verified_person"]).await;
    let pseudonym = result["pseudonym"]["sub"].as_str().unwrap().to_owned();
    // A second account at the same platform, which the order must not reach.
    let (_, other_platform_key) = stack.platform("Example Market").await;
    stack
        .verified(&other_platform_key, &["verified_person"])
        .await;

    let judge = judge(&stack);
    let jwt = order(&judge, &platform, &pseudonym);
    let started = std::time::Instant::now();
    let (status, answer) = submit(&stack, &jwt).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{answer}");
    let records = answer["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "exactly this account's record");
    eprintln!("order answered in {:.1} ms", elapsed.as_secs_f64() * 1000.0);

    // The court opens it with its escrow key: the person handle the wallet holds.
    let secret: [u8; 32] = std::fs::read(stack.dir.path().join("court/escrow.key"))
        .unwrap()
        .try_into()
        .unwrap();
    let sealed = SealedRecord::from_compact(records[0]["sealed"].as_str().unwrap()).unwrap();
    let record = open(&secret, &platform, &pseudonym, &sealed).unwrap();
    assert_eq!(record.person_handle, stack.person_handle());
    assert_eq!(record.pseudonym, pseudonym);
    // The verifier's own secrets do not open it.
    for own in ["pseudonym.key", "mac.key", "log.key"] {
        let text =
            std::fs::read_to_string(stack.dir.path().join("verifier/keys").join(own)).unwrap();
        let bytes: [u8; 32] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .unwrap()
            .try_into()
            .unwrap();
        assert!(
            open(&bytes, &platform, &pseudonym, &sealed).is_err(),
            "{own}"
        );
    }

    // The order is in the log: the checkpoint verifies with the published key, and the
    // entry's inclusion proof leads to its root. The entry holds no personal data.
    let vkey = text(&stack, "/transparency/key").await;
    let mut parts = vkey.splitn(3, '+');
    let (name, _, typed) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let typed = STANDARD.decode(typed).unwrap();
    let log_key = PublicKey::ed25519(typed[1..].try_into().unwrap()).unwrap();
    let log = &answer["log"];
    let checkpoint = Checkpoint::verify(
        log["checkpoint"].as_str().unwrap(),
        name,
        &log_key,
        &RustCrypto,
    )
    .unwrap();
    let entry = STANDARD.decode(log["entry"].as_str().unwrap()).unwrap();
    let proof: Vec<[u8; 32]> = log["inclusion_proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            STANDARD
                .decode(h.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect();
    verify_inclusion(
        log["index"].as_u64().unwrap(),
        checkpoint.size,
        &leaf_hash(&entry),
        &proof,
        &checkpoint.root,
    )
    .unwrap();
    let entry_text = String::from_utf8(entry).unwrap();
    for secret in [
        pseudonym.as_str(),
        platform.as_str(),
        &stack.person_handle(),
    ] {
        assert!(
            !entry_text.contains(secret),
            "personal data in the log entry"
        );
    }

    // The same order again is refused: one order, one opening.
    let (status, error) = submit(&stack, &jwt).await;
    assert_eq!(status, 409, "{error}");
    // An order for an account that never verified is logged too, and gets nothing.
    let (status, empty) = submit(
        &stack,
        &order(
            &judge,
            &platform,
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
    )
    .await;
    assert_eq!(status, 200, "{empty}");
    assert!(empty["records"].as_array().unwrap().is_empty());
    assert_eq!(empty["log"]["index"].as_u64(), Some(1));
}

#[tokio::test]
async fn orders_not_from_a_judge_or_not_for_one_account_are_refused() {
    let stack = Stack::start().await;
    let (platform, _) = stack.platform("Example Social").await;
    let judge = judge(&stack);
    let pseudonym = &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 32]);
    // Altered after signing.
    let jwt = order(&judge, &platform, pseudonym);
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let mut claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&parts[1])
            .unwrap(),
    )
    .unwrap();
    claims["case"] = json!("2026/OTHER/1");
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    let (status, error) = submit(&stack, &parts.join(".")).await;
    assert_eq!(status, 400);
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .starts_with("bad_signature"),
        "{error}"
    );
    // Signed by a key that is not a judge's (the verifier's own attestation key).
    let not_a_judge = PrivateJwk::from_json(
        &std::fs::read_to_string(stack.dir.path().join("verifier/keys/attestation.jwk")).unwrap(),
    )
    .unwrap();
    let (status, error) = submit(&stack, &order(&not_a_judge, &platform, pseudonym)).await;
    assert_eq!(status, 400);
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .starts_with("not_a_judge"),
        "{error}"
    );
    // Unsigned.
    let unsigned = format!("{}.{}.", parts[0], parts[1]);
    let (status, _) = submit(&stack, &unsigned).await;
    assert_eq!(status, 400);
    // Nothing was logged for any of them.
    let note = text(&stack, "/transparency/checkpoint").await;
    assert!(note.lines().nth(1) == Some("0"), "{note}");
}

/// Threat C8: a hundred orders at once are all answered, each logged exactly once at its own
/// index, and the log they leave is one consistent tree — on SQLite and on PostgreSQL.
#[tokio::test]
async fn a_hundred_orders_at_once_are_each_logged_once() {
    let mut engines = vec![None];
    if let Ok(url) = std::env::var("TEST_POSTGRES_URL") {
        engines.push(Some(url));
    }
    for url in engines {
        let stack = Stack::start_with_db(url.as_deref()).await;
        let (platform, _) = stack.platform("Example Social").await;
        let judge = judge(&stack);
        let started = std::time::Instant::now();
        let mut tasks = Vec::new();
        for i in 0..100u8 {
            let jwt = order(
                &judge,
                &platform,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([i; 32]),
            );
            let http = stack.http.clone();
            let url = format!("{}/court/orders", stack.verifier.base);
            tasks.push(tokio::spawn(async move {
                let response = http
                    .post(url)
                    .header("content-type", "application/jwt")
                    .body(jwt)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                let answer: Value = response.json().await.unwrap();
                answer["log"]["index"].as_u64().unwrap()
            }));
        }
        let mut indices = Vec::new();
        for task in tasks {
            indices.push(task.await.unwrap());
        }
        eprintln!(
            "100 concurrent orders answered in {:.0} ms ({})",
            started.elapsed().as_secs_f64() * 1000.0,
            if url.is_some() {
                "PostgreSQL"
            } else {
                "SQLite"
            }
        );
        indices.sort_unstable();
        assert_eq!(indices, (0..100).collect::<Vec<u64>>());
        let note = text(&stack, "/transparency/checkpoint").await;
        assert_eq!(note.lines().nth(1), Some("100"), "{note}");
    }
}
