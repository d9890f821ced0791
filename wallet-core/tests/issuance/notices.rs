//! `Wallet::court_notices` against the real State register: a resolution recorded through
//! the register's store (the court's path needs a verifier's log), then fetched.

use issuer::store::{CredentialStatus, NewResolution};
use serde_json::json;
use wallet_core::{CourtNotice, Error};

use super::Stack;

const PERSON: &str = "urn:be:identity:person-attestation:1";

/// Records a resolved order of the demo citizen, as `POST /register/resolve` does.
async fn resolve(stack: &Stack, person_id: &str, case: &str, embargo_until: Option<i64>) -> u64 {
    let issuer = &stack.issuer;
    let now = credential_formats::time::Clock::now(&credential_formats::time::SystemClock);
    let jti = credential_formats::crypto::random_hex(16).unwrap();
    let resolution = NewResolution {
        jti: jti.clone(),
        order_digest: [9; 32],
        person_id: Some(person_id.to_owned()),
        case_number: case.to_owned(),
        ground: "art. 46bis Sv".to_owned(),
        platform_id: "https://platform.example".to_owned(),
        judge: "https://judge.example/1".to_owned(),
        received_at: now,
        deadline: now + 86_400,
        embargo_until,
    };
    let entry = json!({"type": "register_resolution", "jti": jti}).to_string();
    let log = issuer.register_log().unwrap().clone();
    let index = issuer
        .store()
        .log_resolution(&resolution, entry.as_bytes(), &log)
        .await
        .unwrap()
        .unwrap();
    issuer.store().resolution_answered(&jti, now).await.unwrap();
    index
}

#[tokio::test]
async fn the_wallet_fetches_its_notices_with_one_dedicated_copy_of_its_attestation() {
    let stack = Stack::start().await;
    let wallet = stack.wallet("wallet.db");
    let (uri, tx_code) = stack.offer(&["person_attestation_sd_jwt"]).await;
    wallet
        .receive_offer(&uri)
        .await
        .unwrap()
        .accept(Some(&tx_code))
        .await
        .unwrap();
    let copies = wallet.credentials().unwrap();
    let batch = copies[0].batch_id.clone();
    let handle = copies[0].claims["person_handle"]
        .as_str()
        .unwrap()
        .to_owned();
    let person = stack
        .issuer
        .store()
        .person_by_handle(&handle)
        .await
        .unwrap()
        .unwrap();

    // Nothing yet: an empty list; one copy is taken for the register (never for a verifier).
    assert_eq!(wallet.court_notices(&stack.base).await.unwrap(), vec![]);
    assert_eq!(wallet.unused_copies(&batch).unwrap(), 9);

    let now = credential_formats::time::Clock::now(&credential_formats::time::SystemClock);
    let index = resolve(&stack, &person.id, "2026/AN/1", Some(now - 1)).await;
    resolve(&stack, &person.id, "2026/AN/2", Some(now + 86_400)).await;
    let notices = wallet
        .court_notices(&format!("{}/", stack.base))
        .await
        .unwrap();
    let resolved_at = notices.first().map(|n| n.resolved_at).unwrap();
    assert!((now - 5..=now + 5).contains(&resolved_at));
    assert_eq!(
        notices,
        vec![CourtNotice {
            case: "2026/AN/1".into(),
            ground: "art. 46bis Sv".into(),
            platform: "https://platform.example".into(),
            judge: "https://judge.example/1".into(),
            resolved_at,
            log_index: index,
        }]
    );
    // The same copy again: no further copy spent.
    assert_eq!(wallet.unused_copies(&batch).unwrap(), 9);

    // The log says what went to whom: the handle's name, never its value.
    let log = wallet.log().unwrap();
    let fetches: Vec<_> = log
        .iter()
        .filter(|(_, e)| e["kind"] == "court_notices")
        .map(|(_, e)| e.clone())
        .collect();
    assert_eq!(fetches.len(), 2);
    assert_eq!(
        fetches[1],
        json!({
            "kind": "court_notices",
            "counterparty": {"register": stack.base},
            "credentials": [{"vct": PERSON, "claims": ["person_handle"]}],
            "count": 1,
            "outcome": "fetched",
        })
    );
    assert!(!log.iter().any(|(_, e)| e.to_string().contains(&handle)));

    // The register refuses a suspended attestation; the wallet says so and logs it.
    let used = wallet
        .credentials()
        .unwrap()
        .into_iter()
        .find(|c| c.used)
        .unwrap();
    let (_, idx) = used.status.clone().unwrap();
    let record = stack
        .issuer
        .credentials_of(&person.id)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.idx == i64::try_from(idx).unwrap())
        .unwrap();
    stack
        .issuer
        .set_status(&record.id, CredentialStatus::Suspended)
        .await
        .unwrap();
    assert_eq!(
        wallet.court_notices(&stack.base).await.unwrap_err(),
        Error::Refused("invalid_presentation".into())
    );
    let (_, last) = wallet.log().unwrap().pop().unwrap();
    assert_eq!(last["outcome"], "refused_by_register");
}

#[tokio::test]
async fn no_register_is_contacted_without_its_attestation() {
    let stack = Stack::start().await;
    let wallet = stack.wallet("wallet.db");
    // No credential at all; then a PID only.
    assert_eq!(
        wallet.court_notices(&stack.base).await.unwrap_err(),
        Error::NothingToPresent
    );
    let (uri, tx_code) = stack.offer(&["pid_sd_jwt"]).await;
    wallet
        .receive_offer(&uri)
        .await
        .unwrap()
        .accept(Some(&tx_code))
        .await
        .unwrap();
    assert_eq!(
        wallet.court_notices(&stack.base).await.unwrap_err(),
        Error::NothingToPresent
    );
    // Another register than the attestation's issuer: not contacted either (port 9 would
    // fail to connect, a transport error).
    let (uri, tx_code) = stack.offer(&["person_attestation_sd_jwt"]).await;
    wallet
        .receive_offer(&uri)
        .await
        .unwrap()
        .accept(Some(&tx_code))
        .await
        .unwrap();
    assert_eq!(
        wallet
            .court_notices("https://localhost:9")
            .await
            .unwrap_err(),
        Error::NothingToPresent
    );
    assert!(
        !wallet
            .log()
            .unwrap()
            .iter()
            .any(|(_, e)| e["kind"] == "court_notices")
    );
}
