#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a failure is a failed test.
//! Crash test with a real process (threat catalogue L3): `ledger-crash-worker` runs a stream
//! of grants, spends and cancellations on a SQLite file and is SIGKILLed at random moments,
//! hundreds of times. After each kill the file is reopened and checked: every invariant
//! holds (granted = balances + spent − refunded exactly, hash chains, one entry per spend
//! and grant), and every acknowledged id has exactly one effect. Each round restarts a
//! little before the last acknowledged operation, so ids are retried across crashes.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ledger::{LedgerStore, SqlStore};
use service_kit::Db;
use service_kit::params;

const ROUNDS: u32 = 200;

fn random_below(n: u64) -> u64 {
    let mut b = [0u8; 8];
    credential_formats::crypto::fill_random(&mut b).unwrap();
    u64::from_le_bytes(b) % n
}

#[tokio::test]
async fn a_ledger_killed_at_random_moments_loses_nothing_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let path = path.to_str().unwrap();
    let started = Instant::now();
    let mut next = 0u64;
    let mut acked_total = 0usize;
    let mut captured_total = 0usize;
    for round in 0..ROUNDS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ledger-crash-worker"))
            .args([path, &next.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Random moments: before the schema exists, mid-stream, between commit and reply.
        std::thread::sleep(Duration::from_micros(random_below(150_000)));
        child.kill().unwrap();
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        child.wait().unwrap();

        let db = Db::connect(path).await.unwrap();
        let store = SqlStore::open(db.clone()).await.unwrap();
        let report = store.check_invariants().await.unwrap();
        assert!(report.is_ok(), "round {round}: {:?}", report.violations);
        assert_eq!(
            report.granted.get(),
            report.balances.get() + report.spent.get() - report.refunded.get(),
            "round {round}"
        );
        let mut last = None;
        for line in out.lines() {
            let mut parts = line.split(' ');
            let n: u64 = parts.next().unwrap().parse().unwrap();
            last = Some(n);
            let (ack, kind, id) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            if ack != "ack" {
                continue;
            }
            acked_total += 1;
            let rows = match kind {
                "spend" => {
                    captured_total += usize::from(line.ends_with("captured"));
                    db.query(
                        "SELECT COUNT(*) FROM entries WHERE ref = $1 AND kind = 'spend'",
                        params![id],
                    )
                    .await
                }
                "grant" => {
                    db.query(
                        "SELECT COUNT(*) FROM entries WHERE ref = $1 AND kind = 'grant'",
                        params![id],
                    )
                    .await
                }
                _ => {
                    db.query(
                        "SELECT COUNT(*) FROM entries WHERE ref = $1 AND kind = 'cancel'",
                        params![id],
                    )
                    .await
                }
            }
            .unwrap();
            assert_eq!(rows[0].int(0).unwrap(), 1, "round {round}: {line}");
        }
        // No id ever has two effects of one kind, acknowledged or not.
        let doubled = db
            .query(
                "SELECT COUNT(*) FROM (SELECT ref, kind FROM entries GROUP BY ref, kind HAVING COUNT(*) > 1) d",
                params![],
            )
            .await
            .unwrap();
        assert_eq!(doubled[0].int(0).unwrap(), 0, "round {round}");
        drop(store);
        drop(db);
        // Retry the last two acknowledged operations and the unacknowledged one.
        if let Some(n) = last {
            next = n.saturating_sub(1).max(next);
        }
    }
    assert!(
        captured_total > 100,
        "too few spends reached the ledger: {captured_total}"
    );
    eprintln!(
        "{ROUNDS} kills in {:?}: {acked_total} acknowledged operations, {captured_total} debits",
        started.elapsed()
    );
}
