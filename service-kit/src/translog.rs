//! A transparency log kept in the service's database: append-only entries, their RFC 9162
//! Merkle tree, proofs, and checkpoints signed as C2SP signed notes (the format and the
//! proof checks are `credential_formats::translog`; this is the storage and the signing).
//!
//! The verifier and the State register each keep one for court orders. An entry is appended
//! in the caller's transaction ([`TransparencyLog::append_in`]), so "logged first, then
//! answered" holds: if the answer's transaction fails, so does the entry, and an entry can
//! never be dropped afterwards without every later checkpoint's consistency proof failing.

use credential_formats::crypto::{CryptoProvider, PublicKey, SecretKey, Signer};
use credential_formats::translog::{self, Checkpoint, Hash, LogKey};

use crate::db::{Db, Engine, Migration, Tx};
use crate::{DbError, params};

/// The table, for a service's migrations: one table holds every log of the service, keyed by
/// log name and index.
pub fn migration(version: i64) -> Migration {
    Migration {
        version,
        description: "transparency log entries",
        sqlite: "
            CREATE TABLE translog_entries (
                log TEXT NOT NULL,
                idx INTEGER NOT NULL,
                entry BLOB NOT NULL,
                leaf_hash BLOB NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (log, idx)
            );
        ",
        postgres: "
            CREATE TABLE translog_entries (
                log TEXT NOT NULL,
                idx BIGINT NOT NULL,
                entry BYTEA NOT NULL,
                leaf_hash BYTEA NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (log, idx)
            );
        ",
    }
}

/// Why a log operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TranslogStoreError {
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A proof was asked for sizes or an index the log does not have.
    #[error(transparent)]
    Proof(#[from] translog::TranslogError),
    /// A stored row is not what this program wrote.
    #[error("stored log entry is corrupt")]
    Corrupt,
    /// The checkpoint could not be signed.
    #[error("checkpoint signing failed")]
    Signing,
}

/// The [`LogKey`] of the log whose checkpoints carry `origin` and are signed under `key_name`
/// by the Ed25519 key made from `seed`: what the trust list names (without a database, so a
/// development setup can list a log before its service first starts).
pub fn log_key(
    origin: &str,
    key_name: &str,
    seed: &[u8; 32],
    provider: &dyn CryptoProvider,
) -> Result<LogKey, TranslogStoreError> {
    let signer = provider
        .signer(&SecretKey::ed25519(seed))
        .map_err(|_| TranslogStoreError::Signing)?;
    let PublicKey::Ed25519(public) = signer.public_key() else {
        return Err(TranslogStoreError::Signing);
    };
    LogKey::new(origin, &translog::verifier_key(key_name, &public))
        .map_err(|_| TranslogStoreError::Signing)
}

/// One log: its name in the table, its origin line, and the key that signs its checkpoints.
pub struct TransparencyLog {
    db: Db,
    name: String,
    origin: String,
    key_name: String,
    signer: Box<dyn Signer>,
}

impl std::fmt::Debug for TransparencyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransparencyLog")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl TransparencyLog {
    /// The log `name` of `db` (whose schema includes [`migration`]), with checkpoints for
    /// `origin` signed by the Ed25519 key made from `seed` under `key_name`.
    pub fn new(
        db: Db,
        name: impl Into<String>,
        origin: impl Into<String>,
        key_name: impl Into<String>,
        seed: &[u8; 32],
        provider: &dyn CryptoProvider,
    ) -> Result<TransparencyLog, TranslogStoreError> {
        let signer = provider
            .signer(&SecretKey::ed25519(seed))
            .map_err(|_| TranslogStoreError::Signing)?;
        Ok(TransparencyLog {
            db,
            name: name.into(),
            origin: origin.into(),
            key_name: key_name.into(),
            signer,
        })
    }

    /// The checkpoint key: the name and the Ed25519 public key auditors verify with.
    pub fn public_key(&self) -> (&str, PublicKey) {
        (&self.key_name, self.signer.public_key())
    }

    /// The origin line of the checkpoints.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Appends `entry` in the caller's transaction; its index.
    pub async fn append_in(
        &self,
        tx: &mut Tx,
        entry: &[u8],
        now: i64,
    ) -> Result<u64, TranslogStoreError> {
        if self.db.engine() == Engine::Postgres {
            // Appends to one log are serialised: the next index is read and written in one
            // critical section (SQLite's writer lock gives that by itself).
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1))",
                params![format!("translog/{}", self.name)],
            )
            .await?;
        }
        let row = tx
            .query_opt(
                "SELECT COALESCE(MAX(idx) + 1, 0) FROM translog_entries WHERE log = $1",
                params![&self.name],
            )
            .await?
            .ok_or(TranslogStoreError::Corrupt)?;
        let index = row.int(0)?;
        tx.execute(
            "INSERT INTO translog_entries (log, idx, entry, leaf_hash, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            params![
                &self.name,
                index,
                entry.to_vec(),
                translog::leaf_hash(entry),
                now
            ],
        )
        .await?;
        u64::try_from(index).map_err(|_| TranslogStoreError::Corrupt)
    }

    /// Appends `entry` in a transaction of its own; its index.
    pub async fn append(&self, entry: &[u8], now: i64) -> Result<u64, TranslogStoreError> {
        let mut tx = self.db.begin().await?;
        let index = self.append_in(&mut tx, entry, now).await?;
        tx.commit().await?;
        Ok(index)
    }

    /// How many entries the log holds.
    pub async fn size(&self) -> Result<u64, TranslogStoreError> {
        let row = self
            .db
            .query_opt(
                "SELECT COUNT(*) FROM translog_entries WHERE log = $1",
                params![&self.name],
            )
            .await?
            .ok_or(TranslogStoreError::Corrupt)?;
        u64::try_from(row.int(0)?).map_err(|_| TranslogStoreError::Corrupt)
    }

    /// The leaf hashes of the first `size` entries (checked against the entries: a row
    /// altered in the database gives another root, not a silently different proof).
    async fn leaves(&self, size: u64) -> Result<Vec<Hash>, TranslogStoreError> {
        let rows = self
            .db
            .query(
                "SELECT idx, entry, leaf_hash FROM translog_entries
                 WHERE log = $1 AND idx < $2 ORDER BY idx",
                params![
                    &self.name,
                    i64::try_from(size).map_err(|_| TranslogStoreError::Corrupt)?
                ],
            )
            .await?;
        let mut leaves = Vec::with_capacity(rows.len());
        for (expected, row) in rows.iter().enumerate() {
            if usize::try_from(row.int(0)?).ok() != Some(expected) {
                return Err(TranslogStoreError::Corrupt);
            }
            let hash = translog::leaf_hash(row.bytes(1)?);
            if row.bytes(2)? != hash {
                return Err(TranslogStoreError::Corrupt);
            }
            leaves.push(hash);
        }
        if leaves.len() as u64 != size {
            return Err(TranslogStoreError::Proof(
                translog::TranslogError::OutOfRange,
            ));
        }
        Ok(leaves)
    }

    /// The signed checkpoint of the log as it is now.
    pub async fn checkpoint(&self) -> Result<String, TranslogStoreError> {
        let size = self.size().await?;
        let leaves = self.leaves(size).await?;
        Checkpoint {
            origin: self.origin.clone(),
            size,
            root: translog::root(&leaves),
        }
        .sign(&self.key_name, &*self.signer)
        .map_err(|_| TranslogStoreError::Signing)
    }

    /// The signed checkpoint of the log as it is now, and the inclusion proof of entry
    /// `index` in it: what the court keeps to show later that its order was logged.
    pub async fn checkpoint_with_proof(
        &self,
        index: u64,
    ) -> Result<(String, u64, Vec<Hash>), TranslogStoreError> {
        let size = self.size().await?;
        let leaves = self.leaves(size).await?;
        let position = usize::try_from(index).map_err(|_| TranslogStoreError::Corrupt)?;
        let proof = translog::inclusion_proof(position, &leaves)?;
        let note = Checkpoint {
            origin: self.origin.clone(),
            size,
            root: translog::root(&leaves),
        }
        .sign(&self.key_name, &*self.signer)
        .map_err(|_| TranslogStoreError::Signing)?;
        Ok((note, size, proof))
    }

    /// The C2SP verifier key of the checkpoints: `<name>+<key id hex>+<base64(0x01 ‖ key)>`.
    pub fn verifier_key(&self) -> String {
        let PublicKey::Ed25519(public) = self.signer.public_key() else {
            return String::new();
        };
        translog::verifier_key(&self.key_name, &public)
    }

    /// Entries `start..end` (at most `limit` of them), with their indices.
    pub async fn entries(
        &self,
        start: u64,
        end: u64,
        limit: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, TranslogStoreError> {
        let end = end.min(start.saturating_add(limit));
        let to_i64 = |v: u64| i64::try_from(v).map_err(|_| TranslogStoreError::Corrupt);
        let rows = self
            .db
            .query(
                "SELECT idx, entry FROM translog_entries
                 WHERE log = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
                params![&self.name, to_i64(start)?, to_i64(end)?],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    u64::try_from(row.int(0)?).map_err(|_| TranslogStoreError::Corrupt)?,
                    row.bytes(1)?.to_vec(),
                ))
            })
            .collect()
    }

    /// The inclusion proof of entry `index` in the tree of the first `size` entries.
    pub async fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>, TranslogStoreError> {
        let leaves = self.leaves(size).await?;
        let index = usize::try_from(index).map_err(|_| TranslogStoreError::Corrupt)?;
        Ok(translog::inclusion_proof(index, &leaves)?)
    }

    /// The consistency proof between the first `first` and the first `second` entries.
    pub async fn consistency_proof(
        &self,
        first: u64,
        second: u64,
    ) -> Result<Vec<Hash>, TranslogStoreError> {
        let leaves = self.leaves(second).await?;
        let first = usize::try_from(first).map_err(|_| TranslogStoreError::Corrupt)?;
        Ok(translog::consistency_proof(first, &leaves)?)
    }
}

/// The public endpoints of a log, to nest under a path of the service:
/// `GET /checkpoint` (the signed note, `text/plain`), `GET /key` (the C2SP verifier key),
/// `GET /entries?start=&end=` (base64 entries, at most 256), `GET /proof/inclusion?index=&size=`
/// and `GET /proof/consistency?first=&second=` (base64 hashes).
pub fn router(log: std::sync::Arc<TransparencyLog>) -> axum::Router {
    use axum::extract::{Query, State};
    use axum::http::header;
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde_json::json;
    use std::collections::HashMap;
    use std::sync::Arc;

    type Params = Query<HashMap<String, String>>;

    fn number(params: &HashMap<String, String>, name: &str) -> Result<u64, crate::ApiError> {
        params
            .get(name)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                crate::ApiError::bad_request("invalid_request", format!("{name} is a number"))
            })
    }

    fn failed(e: TranslogStoreError) -> crate::ApiError {
        match e {
            TranslogStoreError::Proof(_) => {
                crate::ApiError::bad_request("invalid_request", "no such index or size")
            }
            other => crate::ApiError::internal(other),
        }
    }

    fn hashes(proof: &[Hash]) -> Vec<String> {
        proof.iter().map(|h| STANDARD.encode(h)).collect()
    }

    async fn checkpoint(
        State(log): State<Arc<TransparencyLog>>,
    ) -> Result<Response, crate::ApiError> {
        let note = log.checkpoint().await.map_err(failed)?;
        Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
    }

    async fn key(State(log): State<Arc<TransparencyLog>>) -> Response {
        (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            log.verifier_key(),
        )
            .into_response()
    }

    async fn entries(
        State(log): State<Arc<TransparencyLog>>,
        Query(p): Params,
    ) -> Result<Response, crate::ApiError> {
        let (start, end) = (number(&p, "start")?, number(&p, "end")?);
        if start > end {
            return Err(crate::ApiError::bad_request(
                "invalid_request",
                "start > end",
            ));
        }
        let list = log.entries(start, end, 256).await.map_err(failed)?;
        let list: Vec<_> = list
            .iter()
            .map(|(i, e)| json!({"index": i, "entry": STANDARD.encode(e)}))
            .collect();
        Ok(axum::Json(json!({ "entries": list })).into_response())
    }

    async fn inclusion(
        State(log): State<Arc<TransparencyLog>>,
        Query(p): Params,
    ) -> Result<Response, crate::ApiError> {
        let (index, size) = (number(&p, "index")?, number(&p, "size")?);
        let proof = log.inclusion_proof(index, size).await.map_err(failed)?;
        Ok(
            axum::Json(json!({"index": index, "size": size, "proof": hashes(&proof)}))
                .into_response(),
        )
    }

    async fn consistency(
        State(log): State<Arc<TransparencyLog>>,
        Query(p): Params,
    ) -> Result<Response, crate::ApiError> {
        let (first, second) = (number(&p, "first")?, number(&p, "second")?);
        let proof = log.consistency_proof(first, second).await.map_err(failed)?;
        Ok(
            axum::Json(json!({"first": first, "second": second, "proof": hashes(&proof)}))
                .into_response(),
        )
    }

    axum::Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/key", get(key))
        .route("/entries", get(entries))
        .route("/proof/inclusion", get(inclusion))
        .route("/proof/consistency", get(consistency))
        .with_state(log)
}

#[cfg(test)]
mod tests {
    use credential_formats::crypto::RustCrypto;
    use credential_formats::translog::{verify_consistency, verify_inclusion};

    use super::*;

    async fn logs() -> Vec<(TransparencyLog, Option<tempfile::TempDir>)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.db");
        let db = Db::connect(path.to_str().unwrap()).await.unwrap();
        db.migrate(&[migration(1)]).await.unwrap();
        let open = |db: Db| {
            TransparencyLog::new(
                db,
                "orders",
                "test.localhost/orders",
                "test.localhost",
                &[9u8; 32],
                &RustCrypto,
            )
            .unwrap()
        };
        let mut logs = vec![(open(db), Some(dir))];
        if let Ok(url) = std::env::var("TEST_POSTGRES_URL") {
            let schema = format!(
                "tlog_{}",
                credential_formats::crypto::random_hex(6).unwrap()
            );
            let db = Db::connect_in_schema(&url, Some(&schema)).await.unwrap();
            db.migrate(&[migration(1)]).await.unwrap();
            logs.push((open(db), None));
        }
        logs
    }

    #[tokio::test]
    async fn appended_entries_are_proven_and_checkpointed() {
        for (log, _dir) in logs().await {
            let (name, key) = log.public_key();
            let (name, key) = (name.to_owned(), key);
            let first =
                Checkpoint::verify(&log.checkpoint().await.unwrap(), &name, &key, &RustCrypto)
                    .unwrap();
            assert_eq!(first.size, 0);
            for i in 0..5u8 {
                assert_eq!(log.append(&[i; 3], 1000).await.unwrap(), u64::from(i));
            }
            let at5 =
                Checkpoint::verify(&log.checkpoint().await.unwrap(), &name, &key, &RustCrypto)
                    .unwrap();
            for i in 5..11u8 {
                log.append(&[i; 3], 1001).await.unwrap();
            }
            let at11 =
                Checkpoint::verify(&log.checkpoint().await.unwrap(), &name, &key, &RustCrypto)
                    .unwrap();
            assert_eq!((at5.size, at11.size), (5, 11));
            let proof = log.inclusion_proof(3, 11).await.unwrap();
            verify_inclusion(3, 11, &translog::leaf_hash(&[3; 3]), &proof, &at11.root).unwrap();
            let proof = log.consistency_proof(5, 11).await.unwrap();
            verify_consistency(5, 11, &at5.root, &at11.root, &proof).unwrap();
            let entries = log.entries(9, 100, 10).await.unwrap();
            assert_eq!(entries, vec![(9, vec![9; 3]), (10, vec![10; 3])]);
            assert!(log.inclusion_proof(11, 11).await.is_err());
        }
    }

    #[tokio::test]
    async fn concurrent_appends_get_distinct_indices() {
        for (log, _dir) in logs().await {
            let log = std::sync::Arc::new(log);
            let mut tasks = Vec::new();
            for i in 0..16u8 {
                let log = log.clone();
                tasks.push(tokio::spawn(
                    async move { log.append(&[i], 1).await.unwrap() },
                ));
            }
            let mut indices = Vec::new();
            for task in tasks {
                indices.push(task.await.unwrap());
            }
            indices.sort_unstable();
            assert_eq!(indices, (0..16).collect::<Vec<u64>>());
        }
    }

    #[tokio::test]
    async fn an_entry_altered_in_the_database_is_detected() {
        let (log, dir) = logs().await.remove(0);
        for i in 0..4u8 {
            log.append(&[i], 1).await.unwrap();
        }
        let path = dir.as_ref().unwrap().path().join("log.db");
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute(
            "UPDATE translog_entries SET entry = x'ff' WHERE idx = 2",
            [],
        )
        .unwrap();
        drop(raw);
        assert!(matches!(
            log.checkpoint().await,
            Err(TranslogStoreError::Corrupt)
        ));
    }

    #[tokio::test]
    async fn the_public_endpoints_serve_checkpoints_entries_and_proofs() {
        use tower::ServiceExt as _;
        let (log, _dir) = logs().await.remove(0);
        for i in 0..3u8 {
            log.append(&[i], 1).await.unwrap();
        }
        let app = router(std::sync::Arc::new(log));
        let get = |uri: &str| {
            let app = app.clone();
            let request = axum::http::Request::get(uri)
                .body(axum::body::Body::empty())
                .unwrap();
            async move {
                let response = app.oneshot(request).await.unwrap();
                let status = response.status().as_u16();
                let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                    .await
                    .unwrap();
                (status, String::from_utf8(body.to_vec()).unwrap())
            }
        };
        let (status, note) = get("/checkpoint").await;
        assert_eq!(status, 200);
        assert!(note.starts_with("test.localhost/orders\n3\n"), "{note}");
        let (_, key) = get("/key").await;
        assert!(key.starts_with("test.localhost+"), "{key}");
        let (status, proof) = get("/proof/inclusion?index=1&size=3").await;
        assert_eq!(status, 200);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&proof).unwrap()["proof"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let (status, _) = get("/proof/consistency?first=1&second=3").await;
        assert_eq!(status, 200);
        let (status, entries) = get("/entries?start=0&end=9").await;
        assert_eq!(status, 200);
        assert!(entries.contains("\"index\":2"), "{entries}");
        assert_eq!(get("/proof/inclusion?index=3&size=3").await.0, 400);
        assert_eq!(get("/proof/inclusion?index=x&size=3").await.0, 400);
    }
}
