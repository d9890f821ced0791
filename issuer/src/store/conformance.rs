//! The conformance suite of [`IssuerStore`]: the same checks against every engine — SQLite
//! always, PostgreSQL when `TEST_POSTGRES_URL` is set.

use std::sync::Arc;

use serde_json::json;
use service_kit::Db;

use super::*;

async fn engines() -> Vec<(Arc<dyn IssuerStore>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("issuer.db");
    let sqlite = SqlStore::open(Db::connect(path.to_str().unwrap()).await.unwrap())
        .await
        .unwrap();
    let mut stores: Vec<(Arc<dyn IssuerStore>, Option<tempfile::TempDir>)> =
        vec![(Arc::new(sqlite), Some(dir))];
    if let Ok(url) = std::env::var("TEST_POSTGRES_URL") {
        let schema = format!(
            "conf_{}",
            credential_formats::crypto::random_token(9)
                .unwrap()
                .to_ascii_lowercase()
                .replace('-', "_")
        );
        let db = Db::connect_in_schema(&url, Some(&schema)).await.unwrap();
        stores.push((Arc::new(SqlStore::open(db).await.unwrap()), None));
    }
    stores
}

const NOW: i64 = 1_795_953_600;

fn person(handle: &str, name: &str) -> NewPerson {
    NewPerson {
        person_handle: handle.into(),
        attributes: json!({"family_name": name}).as_object().unwrap().clone(),
        level_of_assurance: "high".into(),
    }
}

fn digest(tag: u8) -> Digest {
    [tag; 32]
}

fn offer(id: &str, code: u8, person_id: Option<String>) -> NewOffer {
    NewOffer {
        id: id.into(),
        code_hash: digest(code),
        tx_code_check: Some(digest(code.wrapping_add(100))),
        person_id,
        configuration_ids: vec!["pid_sd_jwt".into(), "person_attestation_sd_jwt".into()],
        payload: Some(json!({"training_account": {"account_reference": "A-1"}})),
        by_reference: true,
        created_at: NOW,
        expires_at: NOW + 900,
    }
}

fn new_credentials(n: usize) -> Vec<NewCredential> {
    (0..n)
        .map(|i| NewCredential {
            id: format!(
                "cred-{i}-{}",
                credential_formats::crypto::random_token(6).unwrap()
            ),
            vct: "urn:be:identity:person-attestation:1".into(),
            person_id: None,
            issued_at: NOW,
            expires_at: NOW + 86_400,
        })
        .collect()
}

#[tokio::test]
async fn the_register_records_a_person_once_per_handle() {
    for (store, _dir) in engines().await {
        let (id, created) = store.enrol(&person("h1", "Peeters"), NOW).await.unwrap();
        assert!(created);
        let (again, created) = store
            .enrol(&person("h1", "Janssens"), NOW + 1)
            .await
            .unwrap();
        assert_eq!((again.as_str(), created), (id.as_str(), false));
        let record = store.person(&id).await.unwrap().unwrap();
        assert_eq!(record.attributes["family_name"], "Janssens");
        assert_eq!(record.person_handle, "h1");
        let by_handle = store.person_by_handle("h1").await.unwrap().unwrap();
        assert_eq!(by_handle.id, id);
        assert!(store.person("nobody").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_code_is_redeemed_once_and_wrong_tx_codes_kill_it() {
    for (store, _dir) in engines().await {
        let (pid, _) = store.enrol(&person("h2", "P"), NOW).await.unwrap();
        store
            .insert_offer(&offer("o1", 1, Some(pid.clone())))
            .await
            .unwrap();
        let configurations = store
            .open_offer_by_reference("o1", NOW)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(configurations, ["pid_sd_jwt", "person_attestation_sd_jwt"]);
        assert_eq!(
            store
                .open_offer_by_reference("o1", NOW + 900)
                .await
                .unwrap(),
            None
        );
        let redeem = |tx: Option<Digest>, token: u8| {
            let store = store.clone();
            async move {
                store
                    .redeem(&digest(1), tx.as_ref(), &digest(token), NOW + 300, 3, NOW)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(redeem(None, 50).await, Redemption::TxCodeMissing);
        assert_eq!(
            redeem(Some(digest(0)), 50).await,
            Redemption::WrongTxCode { remaining: 2 }
        );
        let Redemption::Redeemed(grant) = redeem(Some(digest(101)), 50).await else {
            panic!("the right tx_code redeems");
        };
        assert_eq!(grant.person_id.as_deref(), Some(pid.as_str()));
        assert_eq!(grant.configuration_ids.len(), 2);
        assert_eq!(
            grant.payload.as_ref().unwrap()["training_account"]["account_reference"],
            "A-1"
        );
        assert_eq!(store.grant(&digest(50), NOW).await.unwrap(), Some(grant));
        assert_eq!(store.grant(&digest(50), NOW + 300).await.unwrap(), None);
        // A redeemed offer can no longer be fetched.
        assert_eq!(
            store.open_offer_by_reference("o1", NOW).await.unwrap(),
            None
        );
        // Reuse fails and withdraws the token bought with the code.
        assert_eq!(redeem(Some(digest(101)), 51).await, Redemption::Invalid);
        assert_eq!(store.grant(&digest(50), NOW).await.unwrap(), None);

        store.insert_offer(&offer("o2", 2, None)).await.unwrap();
        let wrong = |n: u8| {
            let store = store.clone();
            async move {
                store
                    .redeem(&digest(2), Some(&digest(n)), &digest(60), NOW + 300, 3, NOW)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(wrong(7).await, Redemption::WrongTxCode { remaining: 2 });
        assert_eq!(wrong(8).await, Redemption::WrongTxCode { remaining: 1 });
        assert_eq!(wrong(9).await, Redemption::WrongTxCode { remaining: 0 });
        assert_eq!(wrong(102).await, Redemption::Invalid, "dead after the cap");
    }
}

#[tokio::test]
async fn concurrent_redemptions_of_one_code_give_one_token() {
    for (store, _dir) in engines().await {
        store.insert_offer(&offer("race", 3, None)).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..16u8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .redeem(
                        &digest(3),
                        Some(&digest(103)),
                        &digest(200 + i),
                        NOW + 300,
                        5,
                        NOW,
                    )
                    .await
                    .unwrap()
            }));
        }
        let mut redeemed = 0;
        for t in tasks {
            if matches!(t.await.unwrap(), Redemption::Redeemed(_)) {
                redeemed += 1;
            }
        }
        assert_eq!(redeemed, 1);
    }
}

#[tokio::test]
async fn a_nonce_is_used_once() {
    for (store, _dir) in engines().await {
        assert!(store.use_nonce(&digest(9), NOW + 300).await.unwrap());
        assert!(!store.use_nonce(&digest(9), NOW + 300).await.unwrap());
        assert!(store.use_nonce(&digest(10), NOW + 300).await.unwrap());
    }
}

#[tokio::test]
async fn reservations_take_distinct_random_indices_and_open_new_lists() {
    let small = ListPolicy {
        capacity: 16,
        max_allocated: 12,
    };
    for (store, _dir) in engines().await {
        store.insert_offer(&offer("r1", 4, None)).await.unwrap();
        store.insert_offer(&offer("r2", 5, None)).await.unwrap();
        let Reservation::Reserved(first) = store
            .reserve("r1", "pid_sd_jwt", &new_credentials(10), small, NOW)
            .await
            .unwrap()
        else {
            panic!("first reservation");
        };
        assert_eq!(
            store
                .reserve("r1", "pid_sd_jwt", &new_credentials(1), small, NOW)
                .await
                .unwrap(),
            Reservation::AlreadyIssued
        );
        let mut indices: Vec<u32> = first.iter().map(|s| s.idx).collect();
        indices.sort_unstable();
        indices.dedup();
        assert_eq!(indices.len(), 10);
        assert!(
            first
                .iter()
                .all(|s| s.list_id == first[0].list_id && s.idx < 16)
        );
        // Ten more do not fit in a list filled to 12 of 16: a second list opens.
        let Reservation::Reserved(second) = store
            .reserve(
                "r1",
                "person_attestation_sd_jwt",
                &new_credentials(10),
                small,
                NOW,
            )
            .await
            .unwrap()
        else {
            panic!("second reservation");
        };
        assert!(second.iter().all(|s| s.list_id == first[0].list_id + 1));
        // Two still fit in the first.
        let Reservation::Reserved(third) = store
            .reserve("r2", "pid_sd_jwt", &new_credentials(2), small, NOW)
            .await
            .unwrap()
        else {
            panic!("third reservation");
        };
        assert!(third.iter().all(|s| {
            !first
                .iter()
                .any(|f| f.list_id == s.list_id && f.idx == s.idx)
        }));
    }
}

#[tokio::test]
async fn status_changes_follow_the_rules_and_move_the_revision() {
    for (store, _dir) in engines().await {
        let (pid, _) = store.enrol(&person("h3", "P"), NOW).await.unwrap();
        store
            .insert_offer(&offer("s1", 6, Some(pid.clone())))
            .await
            .unwrap();
        let mut creds = new_credentials(2);
        for c in &mut creds {
            c.person_id = Some(pid.clone());
        }
        let Reservation::Reserved(slots) = store
            .reserve("s1", "pid_sd_jwt", &creds, ListPolicy::default(), NOW)
            .await
            .unwrap()
        else {
            panic!("reservation");
        };
        let list = slots[0].list_id;
        let rev0 = store.list_revision(list).await.unwrap().unwrap();
        let (a, b) = (&creds[0].id, &creds[1].id);
        use CredentialStatus as S;
        assert_eq!(
            store.set_status(a, S::Suspended).await.unwrap(),
            Transition::Changed
        );
        assert_eq!(
            store.set_status(a, S::Suspended).await.unwrap(),
            Transition::Unchanged
        );
        assert_eq!(
            store.set_status(b, S::Revoked).await.unwrap(),
            Transition::Changed
        );
        assert_eq!(
            store.set_status(b, S::Valid).await.unwrap(),
            Transition::Refused(S::Revoked)
        );
        assert_eq!(
            store.set_status("none", S::Revoked).await.unwrap(),
            Transition::Unknown
        );
        assert_eq!(store.list_revision(list).await.unwrap(), Some(rev0 + 2));
        let snapshot = store.status_list(list).await.unwrap().unwrap();
        let mut entries = snapshot.entries.clone();
        entries.sort_unstable();
        let mut expected = vec![(slots[0].idx, 2), (slots[1].idx, 1)];
        expected.sort_unstable();
        assert_eq!(entries, expected);
        assert_eq!(store.credentials_of(&pid).await.unwrap().len(), 2);
        assert_eq!(
            store.credential(a).await.unwrap().unwrap().status,
            S::Suspended
        );
        assert!(store.status_list(list + 100).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn expired_rows_are_purged_and_live_ones_kept() {
    for (store, _dir) in engines().await {
        assert!(store.use_nonce(&digest(20), NOW + 10).await.unwrap());
        assert!(store.use_nonce(&digest(21), NOW + 1_000).await.unwrap());
        store.insert_offer(&offer("p1", 22, None)).await.unwrap();
        store.insert_offer(&offer("p2", 23, None)).await.unwrap();
        let Redemption::Redeemed(_) = store
            .redeem(
                &digest(23),
                Some(&digest(123)),
                &digest(24),
                NOW + 2_000,
                5,
                NOW,
            )
            .await
            .unwrap()
        else {
            panic!("redeemed");
        };
        assert!(store.purge_expired(NOW + 901).await.unwrap() >= 2);
        // The expired one is gone (usable again, but its MAC'd expiry refuses it first);
        // the live one is still remembered.
        assert!(store.use_nonce(&digest(20), NOW + 10).await.unwrap());
        assert!(!store.use_nonce(&digest(21), NOW + 1_000).await.unwrap());
        // The redeemed offer lives as long as its token.
        assert!(store.grant(&digest(24), NOW + 901).await.unwrap().is_some());
        store.purge_expired(NOW + 2_001).await.unwrap();
        assert!(
            store
                .grant(&digest(24), NOW + 1_000)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn concurrent_reservations_across_a_full_list_all_succeed_without_overfilling() {
    let small = ListPolicy {
        capacity: 64,
        max_allocated: 48,
    };
    for (store, _dir) in engines().await {
        let mut tasks = Vec::new();
        for i in 0..16u8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let id = format!("c{i}");
                store
                    .insert_offer(&offer(&id, 150 + i, None))
                    .await
                    .unwrap();
                store
                    .reserve(&id, "pid_sd_jwt", &new_credentials(5), small, NOW)
                    .await
                    .unwrap()
            }));
        }
        let mut slots = Vec::new();
        for t in tasks {
            let Reservation::Reserved(s) = t.await.unwrap() else {
                panic!("each offer reserves once");
            };
            slots.extend(s);
        }
        assert_eq!(slots.len(), 80);
        let distinct: std::collections::BTreeSet<(i64, u32)> =
            slots.iter().map(|s| (s.list_id, s.idx)).collect();
        assert_eq!(distinct.len(), 80);
        for list in distinct
            .iter()
            .map(|(l, _)| *l)
            .collect::<std::collections::BTreeSet<_>>()
        {
            let in_list = slots.iter().filter(|s| s.list_id == list).count();
            assert!(in_list <= 48, "list {list} holds {in_list}");
        }
    }
}

/// Each engine's store with the register's log on the same database.
async fn stores_with_log() -> Vec<(
    SqlStore,
    service_kit::translog::TransparencyLog,
    Option<tempfile::TempDir>,
)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("issuer.db");
    let mut dbs = vec![(
        Db::connect(path.to_str().unwrap()).await.unwrap(),
        Some(dir),
    )];
    if let Ok(url) = std::env::var("TEST_POSTGRES_URL") {
        let schema = format!(
            "conf_{}",
            credential_formats::crypto::random_hex(6).unwrap()
        );
        dbs.push((
            Db::connect_in_schema(&url, Some(&schema)).await.unwrap(),
            None,
        ));
    }
    let mut out = Vec::new();
    for (db, dir) in dbs {
        let store = SqlStore::open(db.clone()).await.unwrap();
        let log = service_kit::translog::TransparencyLog::new(
            db,
            "register-resolutions",
            "register.test/register-resolutions",
            "register.test",
            &[5; 32],
            &credential_formats::crypto::RustCrypto,
        )
        .unwrap();
        out.push((store, log, dir));
    }
    out
}

fn resolution(jti: &str, person_id: Option<String>, embargo_until: Option<i64>) -> NewResolution {
    NewResolution {
        jti: jti.into(),
        order_digest: digest(jti.len() as u8),
        person_id,
        case_number: format!("2026/{jti}"),
        ground: "harassment".into(),
        platform_id: "platform-1".into(),
        judge: "https://court.test/judges/1".into(),
        received_at: NOW,
        deadline: NOW + 86_400,
        embargo_until,
    }
}

#[tokio::test]
async fn a_resolution_is_logged_once_and_its_notice_waits_for_the_embargo() {
    for (store, log, _dir) in stores_with_log().await {
        let (alice, _) = store.enrol(&person("h-alice", "A"), NOW).await.unwrap();
        let (bob, _) = store.enrol(&person("h-bob", "B"), NOW).await.unwrap();
        let first = store
            .log_resolution(
                &resolution("order-one-aaaaaaaa", Some(alice.clone()), Some(NOW + 100)),
                b"entry one",
                &log,
            )
            .await
            .unwrap();
        assert_eq!(first, Some(0));
        // The same order again: refused, and nothing appended.
        assert_eq!(
            store
                .log_resolution(
                    &resolution("order-one-aaaaaaaa", Some(bob.clone()), None),
                    b"entry again",
                    &log,
                )
                .await
                .unwrap(),
            None
        );
        assert_eq!(log.size().await.unwrap(), 1);
        // A handle the register does not hold is logged too.
        let unknown = store
            .log_resolution(
                &resolution("order-two-bbbbbbbb", None, None),
                b"entry two",
                &log,
            )
            .await
            .unwrap();
        assert_eq!(unknown, Some(1));

        // Not answered yet: no notice. Answered, under embargo: none. After it: one.
        assert!(store.notices(&alice, NOW + 200).await.unwrap().is_empty());
        store
            .resolution_answered("order-one-aaaaaaaa", NOW + 5)
            .await
            .unwrap();
        assert!(store.notices(&alice, NOW + 99).await.unwrap().is_empty());
        let notices = store.notices(&alice, NOW + 100).await.unwrap();
        assert_eq!(
            notices,
            vec![Notice {
                case: "2026/order-one-aaaaaaaa".into(),
                ground: "harassment".into(),
                platform: "platform-1".into(),
                judge: "https://court.test/judges/1".into(),
                resolved_at: NOW + 5,
                log_index: 0,
            }]
        );
        // Nobody else's.
        assert!(store.notices(&bob, NOW + 200).await.unwrap().is_empty());
    }
}
