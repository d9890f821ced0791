//! Opening a wallet store holding 10,000 credentials and listing them (goal: ≤ 50 ms).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use wallet_core::{NewCredential, Store};
use zeroize::Zeroizing;

const CREDENTIALS: usize = 10_000;
const BATCH: usize = 10;

fn credential(batch: usize, n: usize) -> NewCredential {
    // About the size of a real person attestation: a 1.1 KB issuer JWT and five disclosures.
    let compact = format!("{}~{}~", "e".repeat(1_100), "d".repeat(60 * 5));
    NewCredential {
        batch_id: format!("batch-{batch}"),
        vct: "urn:be:identity:person-attestation:1".into(),
        issuer: "https://issuer.example".into(),
        compact,
        key_alias: format!("holder-{batch}-{n}"),
        claims: json!({
            "person_handle": "MgRabVtlyMVkk_089mdNmhFYwa9Rskus2VFpp_Wqbr8",
            "age_over_16": true, "age_over_18": true, "age_over_21": false,
            "level_of_assurance": "high"
        })
        .as_object()
        .unwrap()
        .clone(),
        issued_at: Some(1_795_910_400),
        expires_at: Some(1_798_502_400),
        single_use: true,
        status: Some(("https://issuer.example/status/1".into(), 4_242)),
    }
}

fn open_and_list(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.db");
    let key = || Zeroizing::new([5u8; 32]);
    {
        let mut store = Store::open(&path, key()).unwrap();
        for batch in 0..CREDENTIALS / BATCH {
            let copies: Vec<_> = (0..BATCH).map(|n| credential(batch, n)).collect();
            store.save_batch(&copies, 1_795_950_000).unwrap();
        }
    }
    let mut group = c.benchmark_group("wallet store");
    group.sample_size(20);
    group.bench_function("open + list 10,000 credentials", |b| {
        b.iter(|| {
            let store = Store::open(&path, key()).unwrap();
            let all = store.credentials().unwrap();
            assert_eq!(all.len(), CREDENTIALS);
            all
        });
    });
    group.bench_function("open + list 10,000 copies as 1,000 credentials", |b| {
        b.iter(|| {
            let store = Store::open(&path, key()).unwrap();
            let batches = store.batches().unwrap();
            assert_eq!(batches.len(), CREDENTIALS / BATCH);
            batches
        });
    });
    group.bench_function("open only", |b| {
        b.iter(|| Store::open(&path, key()).unwrap());
    });
    group.finish();
}

criterion_group!(benches, open_and_list);
criterion_main!(benches);
