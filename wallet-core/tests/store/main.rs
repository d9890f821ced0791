//! The store on real files: what reaches the disk, wrong keys, tampered rows, several
//! handles at once, and crashes (a child process killed with SIGKILL).
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod at_rest;
mod concurrency;
mod crash;
mod tamper;
mod wrong_key;

use std::path::Path;

use serde_json::json;
use wallet_core::{NewCredential, Store};
use zeroize::Zeroizing;

/// A claim value that must never reach the disk in clear.
pub const MARKER: &str = "MARKER-9f3c";

pub fn key() -> Zeroizing<[u8; 32]> {
    Zeroizing::new([42u8; 32])
}

pub fn open(path: &Path) -> Store {
    Store::open(path, key()).unwrap()
}

/// Copy `n` of a batch.
pub fn copy(batch: &str, n: usize) -> NewCredential {
    NewCredential {
        batch_id: batch.into(),
        vct: "urn:example:person-attestation".into(),
        issuer: "https://issuer.example".into(),
        compact: format!("eyJhbGciOiJFUzI1NiJ9.copy-{n}.sig~WyJzIiwiYWdlX292ZXJfMTgiLHRydWVd~"),
        key_alias: format!("{batch}/{n}"),
        claims: json!({"age_over_18": true}).as_object().cloned().unwrap(),
        issued_at: Some(1_700_000_000),
        expires_at: Some(1_700_086_400),
        single_use: true,
        status: None,
    }
}

pub fn batch(batch: &str, copies: usize) -> Vec<NewCredential> {
    (0..copies).map(|n| copy(batch, n)).collect()
}
