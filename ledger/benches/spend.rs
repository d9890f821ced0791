#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark fixture: a failure is a broken benchmark.
//! Spends per second on SQLite and (with `TEST_POSTGRES_URL`) PostgreSQL, with contention
//! (64 concurrent providers on 8 accounts) and without (one account per provider). After
//! each run the ledger's invariants are checked and every spend must have succeeded: the
//! figures count only anomaly-free runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use credential_formats::crypto::{AwsLc, CryptoProvider, SecretKey, SignatureAlgorithm};
use credential_formats::time::SystemClock;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ledger::{AccountRef, Amount, Ledger, MAX_AMOUNT, ReceiptSigner, SpendRequest, SqlStore};
use service_kit::Db;

const PROVIDERS: u64 = 64;

struct Setup {
    ledger: Arc<Ledger>,
    accounts: Vec<AccountRef>,
    counter: Arc<AtomicU64>,
    _dir: Option<tempfile::TempDir>,
}

async fn setup(postgres: Option<&str>, accounts: usize) -> Setup {
    let (db, dir) = match postgres {
        Some(url) => {
            let schema = format!(
                "bench_{}",
                credential_formats::crypto::random_hex(6).unwrap()
            );
            (
                Db::connect_in_schema(url, Some(&schema)).await.unwrap(),
                None,
            )
        }
        None => {
            let dir = tempfile::tempdir().unwrap();
            let db = Db::connect(dir.path().join("bench.db").to_str().unwrap())
                .await
                .unwrap();
            (db, Some(dir))
        }
    };
    let store = Arc::new(SqlStore::open(db).await.unwrap());
    let key = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let signer = ReceiptSigner::new("bench", None, AwsLc.signer(&key).unwrap());
    let ledger = Arc::new(Ledger::new(store, Arc::new(SystemClock), Arc::new(signer)));
    let mut refs = Vec::new();
    for i in 0..accounts {
        let a = ledger.open_account().await.unwrap();
        ledger
            .grant(
                &a,
                &format!("g{i}"),
                Amount::new(MAX_AMOUNT).unwrap(),
                "bench",
            )
            .await
            .unwrap();
        refs.push(a);
    }
    Setup {
        ledger,
        accounts: refs,
        counter: Arc::new(AtomicU64::new(0)),
        _dir: dir,
    }
}

/// Runs `total` spends from 64 concurrent providers; returns the elapsed time.
async fn run(s: &Setup, total: u64) -> Duration {
    let per_task = total.div_ceil(PROVIDERS);
    let start = Instant::now();
    let tasks: Vec<_> = (0..PROVIDERS)
        .map(|p| {
            let ledger = s.ledger.clone();
            let account = s.accounts[usize::try_from(p).unwrap() % s.accounts.len()].clone();
            let counter = s.counter.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let req = SpendRequest {
                        transaction_id: format!("t{n}"),
                        account: account.clone(),
                        provider: format!("provider-{p}"),
                        course: "course".into(),
                        amount: Amount::new(1).unwrap(),
                        price: Amount::new(1).unwrap(),
                        body_digest: [1; 32],
                    };
                    ledger.spend(&req).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    start
        .elapsed()
        .mul_f64(total as f64 / (per_task * PROVIDERS) as f64)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pg = std::env::var("TEST_POSTGRES_URL").ok();
    let mut group = c.benchmark_group("spend");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    let mut engines = vec![("sqlite", None)];
    if let Some(url) = pg.as_deref() {
        engines.push(("postgres", Some(url)));
    }
    for (engine, url) in engines {
        for (mode, accounts) in [("contended_8_accounts", 8), ("uncontended_64_accounts", 64)] {
            let s = rt.block_on(setup(url, accounts));
            group.bench_function(format!("{engine}/{mode}"), |b| {
                b.iter_custom(|iters| rt.block_on(run(&s, iters.max(PROVIDERS))))
            });
            let report = rt.block_on(s.ledger.check_invariants()).unwrap();
            assert!(report.is_ok(), "anomalies: {:?}", report.violations);
            assert_eq!(report.spent.get(), s.counter.load(Ordering::Relaxed));
            eprintln!(
                "{engine}/{mode}: {} spends, zero anomalies (invariants hold, every spend succeeded)",
                report.spent
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
