//! The conformance suite of [`VerifierStore`]: the same checks against every engine —
//! SQLite always, PostgreSQL when `TEST_POSTGRES_URL` is set.

use std::sync::Arc;

use service_kit::Db;

use super::*;

async fn engines() -> Vec<(Arc<dyn VerifierStore>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("verifier.db");
    let sqlite = SqlStore::open(Db::connect(path.to_str().unwrap()).await.unwrap())
        .await
        .unwrap();
    let mut stores: Vec<(Arc<dyn VerifierStore>, Option<tempfile::TempDir>)> =
        vec![(Arc::new(sqlite), Some(dir))];
    if let Ok(url) = std::env::var("TEST_POSTGRES_URL") {
        let schema = format!(
            "vconf_{}",
            credential_formats::crypto::random_hex(8).unwrap()
        );
        let db = Db::connect_in_schema(&url, Some(&schema)).await.unwrap();
        stores.push((Arc::new(SqlStore::open(db).await.unwrap()), None));
    }
    stores
}

const NOW: i64 = 1_795_953_600;

fn platform(id: &str) -> (Platform, ApiKeyRecord) {
    (
        Platform {
            id: id.into(),
            name: format!("Platform {id}"),
            webhook_url: Some(format!("https://{id}.example/hook")),
            created_at: NOW,
            disabled_at: None,
        },
        key(&format!("{id}-k1"), id),
    )
}

fn key(id: &str, platform_id: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        platform_id: platform_id.into(),
        digest: [id.len() as u8; 32],
        created_at: NOW,
        expires_at: None,
        revoked_at: None,
    }
}

fn check(id: &str, platform_id: &str) -> NewCheck {
    NewCheck {
        id: id.into(),
        platform_id: platform_id.into(),
        checks: vec![Check::AgeOver18, Check::VerifiedPerson],
        account_reference: Some("account-7".into()),
        return_url: None,
        nonce: format!("nonce-{id}"),
        state: format!("state-{id}"),
        created_at: NOW,
        expires_at: NOW + 300,
    }
}

fn completion(check_id: &str, copy: u8, pseudonym: &str) -> Completion {
    Completion {
        check_id: check_id.into(),
        now: NOW + 10,
        copies: vec![PresentedCopy {
            digest: [copy; 32],
            expires_at: NOW + 86_400,
        }],
        account: Some(AccountEntry {
            pseudonym: pseudonym.into(),
            record_id: format!("rec-{check_id}"),
            sealed: format!("sealed-{check_id}"),
        }),
        attestation: format!("jwt-{check_id}"),
        response_code_hash: None,
        event: Some(WebhookEvent {
            id: format!("evt-{check_id}"),
            platform_id: "p1".into(),
            check_id: check_id.into(),
            payload: "{}".into(),
        }),
    }
}

#[tokio::test]
async fn platforms_and_keys() {
    for (store, _dir) in engines().await {
        let (p, k) = platform("p1");
        store.add_platform(&p, &k).await.unwrap();
        assert_eq!(store.platform("p1").await.unwrap(), Some(p.clone()));
        assert_eq!(store.platforms().await.unwrap(), vec![p]);
        assert!(store.platform("p2").await.unwrap().is_none());
        // A rotation gives the old key a grace period.
        let k2 = key("p1-k2", "p1");
        store.add_api_key(&k2, NOW + 3600).await.unwrap();
        let keys = store.api_keys("p1").await.unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].expires_at, Some(NOW + 3600));
        assert_eq!(keys[1].expires_at, None);
        assert!(store.revoke_api_key("p1-k1", NOW + 1).await.unwrap());
        assert!(!store.revoke_api_key("p1-k1", NOW + 2).await.unwrap());
        assert_eq!(
            store.api_key("p1-k1").await.unwrap().unwrap().revoked_at,
            Some(NOW + 1)
        );
        assert!(store.disable_platform("p1", NOW + 5).await.unwrap());
        assert!(!store.disable_platform("p1", NOW + 6).await.unwrap());
        assert_eq!(
            store.platform("p1").await.unwrap().unwrap().disabled_at,
            Some(NOW + 5)
        );
    }
}

#[tokio::test]
async fn a_check_is_settled_once() {
    for (store, _dir) in engines().await {
        let (p, k) = platform("p1");
        store.add_platform(&p, &k).await.unwrap();
        store.create_check(&check("c1", "p1")).await.unwrap();
        let stored = store.check("c1").await.unwrap().unwrap();
        assert_eq!(stored.status, CheckStatus::Pending);
        assert_eq!(stored.status_at(NOW + 300), CheckStatus::Expired);
        assert_eq!(stored.check.checks.len(), 2);

        let done = completion("c1", 1, "pseudo-a");
        assert_eq!(store.complete(&done).await.unwrap(), Settlement::Settled);
        assert_eq!(store.complete(&done).await.unwrap(), Settlement::NotPending);
        let failure = Failure {
            check_id: "c1".into(),
            now: NOW + 11,
            refusal: "declined".into(),
            attestation: "x".into(),
            response_code_hash: None,
            event: None,
        };
        assert_eq!(store.fail(&failure).await.unwrap(), Settlement::NotPending);
        let stored = store.check("c1").await.unwrap().unwrap();
        assert_eq!(stored.status, CheckStatus::Completed);
        assert_eq!(stored.attestation.as_deref(), Some("jwt-c1"));
        assert_eq!(stored.pseudonym.as_deref(), Some("pseudo-a"));
        assert_eq!(
            store.account("p1", "pseudo-a").await.unwrap(),
            Some(AccountStats {
                first_seen: NOW + 10,
                last_seen: NOW + 10,
                verifications: 1
            })
        );
        assert_eq!(
            store.escrow_records("p1", "pseudo-a").await.unwrap().len(),
            1
        );
        assert_eq!(
            store.complete(&completion("nope", 2, "x")).await.unwrap(),
            Settlement::NotPending
        );
    }
}

#[tokio::test]
async fn a_reused_copy_settles_nothing() {
    for (store, _dir) in engines().await {
        let (p, k) = platform("p1");
        store.add_platform(&p, &k).await.unwrap();
        store.create_check(&check("c1", "p1")).await.unwrap();
        store.create_check(&check("c2", "p1")).await.unwrap();
        store
            .complete(&completion("c1", 9, "pseudo-a"))
            .await
            .unwrap();
        assert_eq!(
            store
                .complete(&completion("c2", 9, "pseudo-a"))
                .await
                .unwrap(),
            Settlement::CopyReused
        );
        // Nothing of the second completion was written.
        let c2 = store.check("c2").await.unwrap().unwrap();
        assert_eq!(c2.status, CheckStatus::Pending);
        assert_eq!(
            store
                .account("p1", "pseudo-a")
                .await
                .unwrap()
                .unwrap()
                .verifications,
            1
        );
        assert_eq!(
            store.escrow_records("p1", "pseudo-a").await.unwrap().len(),
            1
        );
        assert_eq!(store.due_events(NOW + 20, 10).await.unwrap().len(), 1);
        // A fresh copy completes it, and the account counts two verifications.
        store
            .complete(&completion("c2", 10, "pseudo-a"))
            .await
            .unwrap();
        let stats = store.account("p1", "pseudo-a").await.unwrap().unwrap();
        assert_eq!((stats.first_seen, stats.verifications), (NOW + 10, 2));
        assert_eq!(
            store.escrow_records("p1", "pseudo-a").await.unwrap().len(),
            2
        );
        assert!(
            store
                .escrow_records("p1", "pseudo-b")
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn an_expired_check_cannot_be_settled() {
    for (store, _dir) in engines().await {
        let (p, k) = platform("p1");
        store.add_platform(&p, &k).await.unwrap();
        store.create_check(&check("c1", "p1")).await.unwrap();
        let mut late = completion("c1", 1, "pseudo-a");
        late.now = NOW + 300;
        assert_eq!(store.complete(&late).await.unwrap(), Settlement::Expired);
        assert!(store.account("p1", "pseudo-a").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn concurrent_answers_settle_once() {
    for (store, _dir) in engines().await {
        let (p, k) = platform("p1");
        store.add_platform(&p, &k).await.unwrap();
        store.create_check(&check("c1", "p1")).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..16u8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .complete(&completion("c1", 100 + i, "pseudo-a"))
                    .await
                    .unwrap()
            }));
        }
        let mut settled = 0;
        for task in tasks {
            if task.await.unwrap() == Settlement::Settled {
                settled += 1;
            }
        }
        assert_eq!(settled, 1);
        assert_eq!(
            store
                .account("p1", "pseudo-a")
                .await
                .unwrap()
                .unwrap()
                .verifications,
            1
        );
    }
}

#[tokio::test]
async fn webhook_outbox() {
    for (store, _dir) in engines().await {
        let (p, k) = platform("p1");
        store.add_platform(&p, &k).await.unwrap();
        store.create_check(&check("c1", "p1")).await.unwrap();
        store
            .complete(&completion("c1", 1, "pseudo-a"))
            .await
            .unwrap();
        let due = store.due_events(NOW + 10, 10).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].url, "https://p1.example/hook");
        store
            .event_failed("evt-c1", "connection refused", Some(NOW + 40))
            .await
            .unwrap();
        assert!(store.due_events(NOW + 20, 10).await.unwrap().is_empty());
        let due = store.due_events(NOW + 40, 10).await.unwrap();
        assert_eq!(due[0].attempts, 1);
        store.event_delivered("evt-c1", NOW + 41).await.unwrap();
        assert!(store.due_events(NOW + 1000, 10).await.unwrap().is_empty());
        // Purging forgets delivered events, expired copies and old checks.
        let purged = store.purge(NOW + 100_000, 3600).await.unwrap();
        assert!(purged >= 3, "{purged}");
        assert!(store.check("c1").await.unwrap().is_none());
        // The account and its sealed record stay: the court may ask for them.
        assert_eq!(
            store.escrow_records("p1", "pseudo-a").await.unwrap().len(),
            1
        );
    }
}
