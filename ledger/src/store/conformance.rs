//! The conformance suite of [`LedgerStore`]: the same checks against every engine — SQLite
//! always, PostgreSQL when `TEST_POSTGRES_URL` is set (a fresh schema per run). Every test
//! ends by checking the ledger's invariants.

use std::sync::Arc;

use credential_formats::crypto::{AwsLc, CryptoProvider, PublicKey, SecretKey, SignatureAlgorithm};
use credential_formats::time::FixedClock;
use service_kit::Db;

use super::*;
use crate::{Ledger, ReceiptSigner, verify_receipt};

pub(crate) const NOW: i64 = 1_800_000_000;
pub(crate) const ISSUER: &str = "https://ledger.training.example";

pub(crate) struct Fixture {
    pub(crate) ledger: Ledger,
    pub(crate) db: Db,
    pub(crate) key: PublicKey,
    pub(crate) _dir: Option<tempfile::TempDir>,
}

pub(crate) fn signer() -> (Arc<ReceiptSigner>, PublicKey) {
    let key = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let signer = ReceiptSigner::new(ISSUER, Some("ledger-1".into()), AwsLc.signer(&key).unwrap());
    let public = signer.public_key();
    (Arc::new(signer), public)
}

pub(crate) async fn ledger_on(db: Db) -> (Ledger, PublicKey) {
    let store = SqlStore::open(db).await.unwrap();
    let (signer, key) = signer();
    (
        Ledger::new(Arc::new(store), Arc::new(FixedClock(NOW)), signer),
        key,
    )
}

pub(crate) fn pg_schema(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        credential_formats::crypto::random_token(9)
            .unwrap()
            .to_ascii_lowercase()
            .replace('-', "_")
    )
}

pub(crate) async fn engines() -> Vec<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(dir.path().join("ledger.db").to_str().unwrap())
        .await
        .unwrap();
    let (ledger, key) = ledger_on(db.clone()).await;
    let mut out = vec![Fixture {
        ledger,
        db,
        key,
        _dir: Some(dir),
    }];
    if let Ok(url) = std::env::var("TEST_POSTGRES_URL") {
        let db = Db::connect_in_schema(&url, Some(&pg_schema("ledger")))
            .await
            .unwrap();
        let (ledger, key) = ledger_on(db.clone()).await;
        out.push(Fixture {
            ledger,
            db,
            key,
            _dir: None,
        });
    }
    out
}

pub(crate) async fn assert_invariants(ledger: &Ledger) -> InvariantReport {
    let report = ledger.check_invariants().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.violations);
    report
}

fn amount(v: u64) -> Amount {
    Amount::new(v).unwrap()
}

pub(crate) fn spend_request(txn: &str, account: &AccountRef, amt: u64, tag: u8) -> SpendRequest {
    SpendRequest {
        transaction_id: txn.into(),
        account: account.clone(),
        provider: "provider-1".into(),
        course: "course-7".into(),
        amount: amount(amt),
        price: amount(amt),
        body_digest: [tag; 32],
    }
}

async fn funded(ledger: &Ledger, credits: u64) -> AccountRef {
    let account = ledger.open_account().await.unwrap();
    ledger
        .grant(
            &account,
            &format!("g-{account}"),
            amount(credits),
            "initial",
        )
        .await
        .unwrap();
    account
}

#[tokio::test]
async fn accounts_open_close_and_report_their_balance() {
    for f in engines().await {
        let l = &f.ledger;
        let a = l.open_account().await.unwrap();
        let b = l.balance(&a).await.unwrap();
        assert!(b.open);
        assert_eq!(b.balance, Credits::ZERO);
        assert!(l.history(&a).await.unwrap().is_empty());
        l.close_account(&a).await.unwrap();
        l.close_account(&a).await.unwrap();
        assert!(!l.balance(&a).await.unwrap().open);
        let unknown = AccountRef::generate().unwrap();
        assert!(matches!(
            l.close_account(&unknown).await,
            Err(Error::UnknownAccount)
        ));
        assert!(matches!(
            l.balance(&unknown).await,
            Err(Error::UnknownAccount)
        ));
        assert!(matches!(
            l.history(&unknown).await,
            Err(Error::UnknownAccount)
        ));
        let open = l.open_account().await.unwrap();
        assert_eq!(f.ledger.store.open_accounts().await.unwrap(), vec![open]);
        assert_invariants(l).await;
    }
}

#[tokio::test]
async fn a_grant_applies_once_per_id() {
    for f in engines().await {
        let l = &f.ledger;
        let a = l.open_account().await.unwrap();
        let other = l.open_account().await.unwrap();
        let first = l.grant(&a, "g1", amount(100), "welcome").await.unwrap();
        assert_eq!(
            first,
            GrantOutcome {
                applied: Credits::new(100),
                replayed: false
            }
        );
        let again = l.grant(&a, "g1", amount(100), "welcome").await.unwrap();
        assert_eq!(
            again,
            GrantOutcome {
                applied: Credits::new(100),
                replayed: true
            }
        );
        assert!(matches!(
            l.grant(&a, "g1", amount(101), "x").await,
            Err(Error::Conflict)
        ));
        assert!(matches!(
            l.grant(&other, "g1", amount(100), "x").await,
            Err(Error::Conflict)
        ));
        assert_eq!(l.balance(&a).await.unwrap().balance, Credits::new(100));
        assert_eq!(l.balance(&a).await.unwrap().granted, Credits::new(100));
        assert_eq!(l.balance(&other).await.unwrap().balance, Credits::ZERO);
        let unknown = AccountRef::generate().unwrap();
        assert!(matches!(
            l.grant(&unknown, "g2", amount(1), "x").await,
            Err(Error::UnknownAccount)
        ));
        for bad in ["", "has space", "topup/x/2027"] {
            assert_eq!(
                l.grant(&a, bad, amount(1), "x").await.unwrap_err().code(),
                "invalid_identifier"
            );
        }
        l.close_account(&other).await.unwrap();
        assert!(matches!(
            l.grant(&other, "g3", amount(1), "x").await,
            Err(Error::AccountClosed)
        ));
        // A replay is answered even once the account is closed: it changes nothing.
        l.close_account(&a).await.unwrap();
        assert!(
            l.grant(&a, "g1", amount(100), "welcome")
                .await
                .unwrap()
                .replayed
        );
        let h = l.history(&a).await.unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(
            (h[0].kind, h[0].amount, h[0].reference.as_str()),
            (EntryKind::Grant, Credits::new(100), "g1")
        );
        assert_invariants(l).await;
    }
}

#[tokio::test]
async fn a_yearly_topup_fills_up_to_its_cap_once_per_year() {
    for f in engines().await {
        let l = &f.ledger;
        let a = l.open_account().await.unwrap();
        let t = l
            .yearly_topup(&a, 2027, amount(500), amount(800))
            .await
            .unwrap();
        assert_eq!(
            t,
            GrantOutcome {
                applied: Credits::new(500),
                replayed: false
            }
        );
        assert!(
            l.yearly_topup(&a, 2027, amount(500), amount(800))
                .await
                .unwrap()
                .replayed
        );
        assert!(matches!(
            l.yearly_topup(&a, 2027, amount(600), amount(800)).await,
            Err(Error::Conflict)
        ));
        assert!(matches!(
            l.yearly_topup(&a, 2027, amount(500), amount(900)).await,
            Err(Error::Conflict)
        ));
        let t = l
            .yearly_topup(&a, 2028, amount(500), amount(800))
            .await
            .unwrap();
        assert_eq!(t.applied, Credits::new(300));
        // At the cap: 0 applied, still recorded, so a second run is a replay.
        let t = l
            .yearly_topup(&a, 2029, amount(500), amount(800))
            .await
            .unwrap();
        assert_eq!(
            t,
            GrantOutcome {
                applied: Credits::ZERO,
                replayed: false
            }
        );
        assert!(
            l.yearly_topup(&a, 2029, amount(500), amount(800))
                .await
                .unwrap()
                .replayed
        );
        assert_eq!(l.balance(&a).await.unwrap().balance, Credits::new(800));
        let kinds: Vec<_> = l
            .history(&a)
            .await
            .unwrap()
            .iter()
            .map(|e| (e.kind, e.amount.get()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (EntryKind::Topup, 500),
                (EntryKind::Topup, 300),
                (EntryKind::Topup, 0)
            ]
        );
        assert!(matches!(
            l.yearly_topup(&a, 1969, amount(1), amount(1)).await,
            Err(Error::InvalidIdentifier(_))
        ));

        // The batch: every open account once, rerunnable.
        let b = l.open_account().await.unwrap();
        let c = l.open_account().await.unwrap();
        l.close_account(&c).await.unwrap();
        let s = l
            .yearly_topup_all(2030, amount(100), amount(850))
            .await
            .unwrap();
        assert_eq!((s.accounts, s.replayed, s.applied.get()), (2, 0, 150));
        let s = l
            .yearly_topup_all(2030, amount(100), amount(850))
            .await
            .unwrap();
        assert_eq!((s.accounts, s.replayed, s.applied.get()), (2, 2, 0));
        assert_eq!(l.balance(&b).await.unwrap().balance, Credits::new(100));
        assert_eq!(l.balance(&c).await.unwrap().balance, Credits::ZERO);
        assert_invariants(l).await;
    }
}

#[tokio::test]
async fn a_spend_debits_once_and_answers_with_a_signed_receipt() {
    for f in engines().await {
        let l = &f.ledger;
        let a = funded(l, 100).await;
        let req = spend_request("txn-1", &a, 30, 1);
        let SpendOutcome::Captured(receipt) = l.spend(&req).await.unwrap() else {
            panic!("not captured");
        };
        let claims = verify_receipt(&receipt, &AwsLc, &f.key).unwrap();
        assert_eq!(
            claims,
            crate::ReceiptClaims {
                iss: ISSUER.into(),
                jti: "txn-1".into(),
                provider: "provider-1".into(),
                course: "course-7".into(),
                amount: amount(30),
                iat: NOW,
                txn: crate::txn_claim(&[1; 32]),
            }
        );
        // No account reference and no balance in the receipt.
        let payload = credential_formats::jose::DecodedJws::decode(&receipt.0).unwrap();
        let text = String::from_utf8(payload.unverified_payload().to_vec()).unwrap();
        assert!(
            !text.contains(a.as_str()) && !text.contains("balance"),
            "{text}"
        );
        assert_eq!(payload.header().typ(), Some("credits-receipt+jwt"));

        // The same request again: the stored receipt, no second debit.
        assert_eq!(
            l.spend(&req).await.unwrap(),
            SpendOutcome::Replayed(receipt.clone())
        );
        // The same id with another body: a conflict.
        let mut other = req.clone();
        other.body_digest = [2; 32];
        assert!(matches!(l.spend(&other).await, Err(Error::Conflict)));
        assert_eq!(l.balance(&a).await.unwrap().balance, Credits::new(70));

        // Refusals write nothing.
        assert!(matches!(
            l.spend(&spend_request("txn-2", &a, 71, 3)).await,
            Err(Error::InsufficientCredits)
        ));
        let unknown = AccountRef::generate().unwrap();
        assert!(matches!(
            l.spend(&spend_request("txn-3", &unknown, 1, 3)).await,
            Err(Error::UnknownAccount)
        ));
        let mut above = spend_request("txn-4", &a, 10, 3);
        above.price = amount(9);
        assert_eq!(l.spend(&above).await.unwrap_err().code(), "invalid_amount");
        for (field, value) in [("txn", ""), ("provider", "a b"), ("course", "\n")] {
            let mut bad = spend_request("txn-5", &a, 1, 3);
            match field {
                "txn" => bad.transaction_id = value.into(),
                "provider" => bad.provider = value.into(),
                _ => bad.course = value.into(),
            }
            assert_eq!(
                l.spend(&bad).await.unwrap_err().code(),
                "invalid_identifier"
            );
        }
        // A refused id is not burnt: the same id works once the balance covers it.
        l.grant(&a, "g-more", amount(1), "top").await.unwrap();
        assert!(matches!(
            l.spend(&spend_request("txn-2", &a, 71, 3)).await,
            Ok(SpendOutcome::Captured(_))
        ));
        assert_eq!(l.balance(&a).await.unwrap().balance, Credits::ZERO);

        let closed = funded(l, 10).await;
        l.close_account(&closed).await.unwrap();
        assert!(matches!(
            l.spend(&spend_request("txn-6", &closed, 1, 3)).await,
            Err(Error::AccountClosed)
        ));
        // A replay of a spend on a since-closed account still answers with its receipt.
        assert!(matches!(l.spend(&req).await, Ok(SpendOutcome::Replayed(_))));

        let h: Vec<_> = l
            .history(&a)
            .await
            .unwrap()
            .iter()
            .map(|e| (e.kind, e.amount.get(), e.reference.clone()))
            .collect();
        assert_eq!(h[1], (EntryKind::Spend, 30, "txn-1".to_owned()));
        assert_eq!(h.len(), 4);
        let r = assert_invariants(l).await;
        assert_eq!(
            (r.granted.get(), r.spent.get(), r.balances.get()),
            (111, 101, 10)
        );
    }
}

#[tokio::test]
async fn refunds_and_cancellations_happen_once() {
    for f in engines().await {
        let l = &f.ledger;
        let a = funded(l, 100).await;
        for (i, amt) in [(1, 10), (2, 20), (3, 30)] {
            l.spend(&spend_request(&format!("t{i}"), &a, amt, i as u8))
                .await
                .unwrap();
        }
        assert_eq!(l.balance(&a).await.unwrap().balance, Credits::new(40));

        // Cancel: whole amount back, once; a retry answers the same.
        let c = l.cancel("t1").await.unwrap();
        assert_eq!(
            c,
            TransitionOutcome {
                state: SpendState::Cancelled,
                returned: Credits::new(10),
                replayed: false
            }
        );
        assert_eq!(
            l.cancel("t1").await.unwrap(),
            TransitionOutcome {
                replayed: true,
                ..c
            }
        );
        assert!(matches!(
            l.refund("t1", amount(1)).await,
            Err(Error::IllegalTransition {
                from: SpendState::Cancelled,
                to: SpendState::Refunded
            })
        ));

        // Refund: at most the captured amount, once; same amount again → same outcome.
        assert_eq!(
            l.refund("t2", amount(21)).await.unwrap_err().code(),
            "invalid_amount"
        );
        let r = l.refund("t2", amount(15)).await.unwrap();
        assert_eq!(
            r,
            TransitionOutcome {
                state: SpendState::Refunded,
                returned: Credits::new(15),
                replayed: false
            }
        );
        assert_eq!(
            l.refund("t2", amount(15)).await.unwrap(),
            TransitionOutcome {
                replayed: true,
                ..r
            }
        );
        assert!(matches!(
            l.refund("t2", amount(5)).await,
            Err(Error::Conflict)
        ));
        assert!(matches!(
            l.cancel("t2").await,
            Err(Error::IllegalTransition {
                from: SpendState::Refunded,
                to: SpendState::Cancelled
            })
        ));
        // A full refund is allowed.
        assert_eq!(
            l.refund("t3", amount(30)).await.unwrap().returned,
            Credits::new(30)
        );

        assert!(matches!(
            l.cancel("nope").await,
            Err(Error::UnknownTransaction)
        ));
        assert!(matches!(
            l.refund("nope", amount(1)).await,
            Err(Error::UnknownTransaction)
        ));
        // A cancelled spend's id stays used: replaying the spend gives its receipt, no debit.
        assert!(matches!(
            l.spend(&spend_request("t1", &a, 10, 1)).await,
            Ok(SpendOutcome::Replayed(_))
        ));

        let b = l.balance(&a).await.unwrap();
        assert_eq!(
            (b.balance.get(), b.spent.get(), b.refunded.get()),
            (95, 60, 55)
        );
        let kinds: Vec<_> = l
            .history(&a)
            .await
            .unwrap()
            .iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                EntryKind::Grant,
                EntryKind::Spend,
                EntryKind::Spend,
                EntryKind::Spend,
                EntryKind::Cancel,
                EntryKind::Refund,
                EntryKind::Refund
            ]
        );
        assert_invariants(l).await;
    }
}

#[tokio::test]
async fn amounts_outside_the_rules_are_refused_before_anything_is_written() {
    for f in engines().await {
        let l = &f.ledger;
        let a = funded(l, 100).await;
        for text in [
            "0",
            "-1",
            "1.5",
            "1e3",
            "9223372036854775807",
            "18446744073709551615",
            "\"10\"",
            "1000000001",
        ] {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                Amount::from_json(&v).unwrap_err().code(),
                "invalid_amount",
                "{text}"
            );
            assert!(serde_json::from_str::<Amount>(text).is_err(), "{text}");
        }
        let mut above_price = spend_request("t", &a, 50, 1);
        above_price.price = amount(49);
        assert_eq!(
            l.spend(&above_price).await.unwrap_err().code(),
            "invalid_amount"
        );
        assert_eq!(l.balance(&a).await.unwrap().balance, Credits::new(100));
        assert_eq!(l.history(&a).await.unwrap().len(), 1);
        assert_invariants(l).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_spends_of_one_balance_succeed_once() {
    for f in engines().await {
        let l = Arc::new(f.ledger.clone());
        let a = funded(&l, 10).await;
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let (l, a) = (l.clone(), a.clone());
                tokio::spawn(
                    async move { l.spend(&spend_request(&format!("c{i}"), &a, 10, i)).await },
                )
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(SpendOutcome::Captured(_)) => ok += 1,
                Err(Error::InsufficientCredits) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(ok, 1);
        assert_eq!(l.balance(&a).await.unwrap().balance, Credits::ZERO);
        let spends = l
            .history(&a)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.kind == EntryKind::Spend)
            .count();
        assert_eq!(spends, 1);
        assert_invariants(&l).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_retries_of_one_spend_have_one_effect() {
    for f in engines().await {
        let l = Arc::new(f.ledger.clone());
        let a = funded(&l, 1000).await;
        let req = spend_request("same", &a, 10, 9);
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (l, req) = (l.clone(), req.clone());
                tokio::spawn(async move { l.spend(&req).await })
            })
            .collect();
        let mut receipts = Vec::new();
        let mut captured = 0;
        for t in tasks {
            let outcome = t.await.unwrap().unwrap();
            captured += usize::from(matches!(outcome, SpendOutcome::Captured(_)));
            receipts.push(outcome.receipt().clone());
        }
        assert_eq!(captured, 1);
        assert!(receipts.iter().all(|r| *r == receipts[0]));
        assert_eq!(l.balance(&a).await.unwrap().balance, Credits::new(990));
        // Concurrent cancels and grants with one id: one effect each.
        let cancels: Vec<_> = (0..16)
            .map(|_| {
                let l = l.clone();
                tokio::spawn(async move { l.cancel("same").await })
            })
            .collect();
        let mut fresh = 0;
        for t in cancels {
            fresh += usize::from(!t.await.unwrap().unwrap().replayed);
        }
        assert_eq!(fresh, 1);
        let grants: Vec<_> = (0..16)
            .map(|_| {
                let (l, a) = (l.clone(), a.clone());
                tokio::spawn(async move { l.grant(&a, "bonus", amount(5), "x").await })
            })
            .collect();
        let mut fresh = 0;
        for t in grants {
            fresh += usize::from(!t.await.unwrap().unwrap().replayed);
        }
        assert_eq!(fresh, 1);
        assert_eq!(l.balance(&a).await.unwrap().balance, Credits::new(1005));
        assert_invariants(&l).await;
    }
}

#[tokio::test]
async fn the_history_refuses_update_and_delete_and_tampering_is_detected() {
    for f in engines().await {
        let l = &f.ledger;
        let a = funded(l, 100).await;
        l.spend(&spend_request("t", &a, 5, 1)).await.unwrap();
        assert!(
            f.db.execute("UPDATE entries SET amount = 1", &[])
                .await
                .is_err()
        );
        assert!(f.db.execute("DELETE FROM entries", &[]).await.is_err());
        if f.db.engine() == Engine::Postgres {
            assert!(f.db.execute("TRUNCATE entries CASCADE", &[]).await.is_err());
        }
        assert_eq!(l.history(&a).await.unwrap().len(), 2);
        assert_invariants(l).await;

        // With the guard removed (an administrator with DDL rights), a changed amount is
        // caught by the invariants: the totals and the hash chain disagree.
        let drop = match f.db.engine() {
            Engine::Sqlite => "DROP TRIGGER entries_no_update",
            Engine::Postgres => "ALTER TABLE entries DISABLE TRIGGER entries_no_update_delete",
        };
        f.db.execute(drop, &[]).await.unwrap();
        f.db.execute("UPDATE entries SET amount = 4 WHERE kind = 'spend'", &[])
            .await
            .unwrap();
        let report = l.check_invariants().await.unwrap();
        assert!(
            report
                .violations
                .iter()
                .any(|v| v.contains("hash mismatch")),
            "{report:?}"
        );
        assert!(
            report
                .violations
                .iter()
                .any(|v| v.contains("totals differ")),
            "{report:?}"
        );
    }
}

#[tokio::test]
async fn a_full_disk_refuses_whole_operations_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(dir.path().join("full.db").to_str().unwrap())
        .await
        .unwrap();
    let (l, _) = ledger_on(db.clone()).await;
    let a = funded(&l, 1_000_000).await;
    let pages = db.query("PRAGMA page_count", &[]).await.unwrap()[0]
        .int(0)
        .unwrap();
    db.query(&format!("PRAGMA max_page_count = {}", pages + 3), &[])
        .await
        .unwrap();
    let mut done = 0u64;
    let mut full = false;
    for i in 0..10_000u32 {
        // Long ids fill pages quickly.
        let txn = format!("{i:06}-{}", "x".repeat(200));
        match l.spend(&spend_request(&txn, &a, 1, 1)).await {
            Ok(_) => done += 1,
            Err(Error::StorageFull) => {
                full = true;
                break;
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert!(full, "the disk never filled");
    let report = assert_invariants(&l).await;
    assert_eq!(report.spent.get(), done);
    let rows = db
        .query("SELECT COUNT(*) FROM spends s WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.ref = s.transaction_id)", &[])
        .await
        .unwrap();
    assert_eq!(rows[0].int(0).unwrap(), 0);
    assert_eq!(l.balance(&a).await.unwrap().balance.get(), 1_000_000 - done);
    assert_eq!(Error::StorageFull.code(), "storage_full");

    db.query("PRAGMA max_page_count = 1073741823", &[])
        .await
        .unwrap();
    l.spend(&spend_request(
        &format!("after-{}", "x".repeat(200)),
        &a,
        1,
        1,
    ))
    .await
    .unwrap();
    assert_eq!(assert_invariants(&l).await.spent.get(), done + 1);
}
