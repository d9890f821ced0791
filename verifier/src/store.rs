//! The verifier's storage: one trait, [`VerifierStore`], and its SQL implementation, which
//! runs the same statements on SQLite and PostgreSQL (see `service_kit::db`).
//!
//! A check is settled once: [`VerifierStore::complete`] and [`VerifierStore::fail`] are
//! conditional on the check being pending and unexpired, and completing also records the
//! presented copies (each once, ever), the account, the sealed escrow record and the
//! webhook event in the same transaction — so a retried, replayed or concurrent response,
//! on any replica, settles nothing twice.

use async_trait::async_trait;
use service_kit::db::{Db, Row, Tx};
use service_kit::params;

use crate::Error;
pub use crate::attestation::Check;
use crate::schema::migrations;

/// A 256-bit digest (of an API key, a copy, a response code).
pub type Digest = [u8; 32];

/// A platform, as the admin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// The canonical platform id: random, never reused, never changed (pseudonyms depend on
    /// it).
    pub id: String,
    /// Its display name (shown to citizens in the wallet).
    pub name: String,
    /// Where check results are announced, if anywhere.
    pub webhook_url: Option<String>,
    /// When it was registered.
    pub created_at: i64,
    /// When it was disabled, if it was (its keys then no longer work).
    pub disabled_at: Option<i64>,
}

/// An API key's record: only its digest is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The public part of the key, which finds the record.
    pub id: String,
    /// The platform it acts for.
    pub platform_id: String,
    /// SHA-256 of the whole key.
    pub digest: Digest,
    /// When it was made.
    pub created_at: i64,
    /// When it stops working by itself (set when a rotation gives it a grace period).
    pub expires_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// The name of a check, as the API and the attestation write it.
pub fn check_from_name(name: &str) -> Option<Check> {
    match name {
        "age_over_18" => Some(Check::AgeOver18),
        "verified_person" => Some(Check::VerifiedPerson),
        _ => None,
    }
}

/// Where a check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// Waiting for the wallet.
    Pending,
    /// Answered and verified: an attestation is there.
    Completed,
    /// Answered and not verified (declined, nothing to present, refused).
    Failed,
    /// Not answered in time.
    Expired,
}

impl CheckStatus {
    /// The name in the API.
    pub fn name(self) -> &'static str {
        match self {
            CheckStatus::Pending => "pending",
            CheckStatus::Completed => "completed",
            CheckStatus::Failed => "failed",
            CheckStatus::Expired => "expired",
        }
    }
}

/// A check to record.
#[derive(Debug, Clone)]
pub struct NewCheck {
    /// Its id (random, 128 bits; also in the wallet's `request_uri`).
    pub id: String,
    /// The platform that asked.
    pub platform_id: String,
    /// What it asked for (sorted, without duplicates).
    pub checks: Vec<Check>,
    /// The platform's own reference of the account, sealed into the escrow record.
    pub account_reference: Option<String>,
    /// Where the citizen's browser goes back to after a same-device flow.
    pub return_url: Option<String>,
    /// The request's `nonce`.
    pub nonce: String,
    /// The request's `state`.
    pub state: String,
    /// When it was made.
    pub created_at: i64,
    /// When the wallet's answer stops being accepted.
    pub expires_at: i64,
}

/// A check as stored.
#[derive(Debug, Clone)]
pub struct CheckRecord {
    /// What was asked.
    pub check: NewCheck,
    /// Where it stands, as stored: a pending check past `expires_at` reads as
    /// [`CheckStatus::Expired`] through [`CheckRecord::status_at`].
    pub status: CheckStatus,
    /// Our reason for a failure (never shown to the platform).
    pub refusal: Option<String>,
    /// When it was settled.
    pub settled_at: Option<i64>,
    /// The signed attestation, once settled.
    pub attestation: Option<String>,
    /// SHA-256 of the same-device `response_code`, when one was given.
    pub response_code_hash: Option<Digest>,
    /// The pairwise pseudonym, when `verified_person` passed.
    pub pseudonym: Option<String>,
}

impl CheckRecord {
    /// The status at `now`.
    pub fn status_at(&self, now: i64) -> CheckStatus {
        match self.status {
            CheckStatus::Pending if now >= self.check.expires_at => CheckStatus::Expired,
            other => other,
        }
    }
}

/// A single-use copy presented: never accepted again while it could still verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedCopy {
    /// SHA-256 of the issuer-signed part.
    pub digest: Digest,
    /// Until when it must be remembered (the credential's `exp`, or a bound).
    pub expires_at: i64,
}

/// An announcement to a platform, written with the settlement it announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The event id (receivers deduplicate on it).
    pub id: String,
    /// The platform to tell.
    pub platform_id: String,
    /// The check it is about.
    pub check_id: String,
    /// The JSON body.
    pub payload: String,
}

/// The account side of a completed `verified_person` check.
#[derive(Clone)]
pub struct AccountEntry {
    /// The pairwise pseudonym.
    pub pseudonym: String,
    /// The escrow record's id.
    pub record_id: String,
    /// The escrow record, sealed to the court's key.
    pub sealed: String,
}

impl std::fmt::Debug for AccountEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountEntry")
            .field("record_id", &self.record_id)
            .finish_non_exhaustive()
    }
}

/// Everything that settles a check as completed, written in one transaction.
#[derive(Debug, Clone)]
pub struct Completion {
    /// The check.
    pub check_id: String,
    /// Now.
    pub now: i64,
    /// The copies presented.
    pub copies: Vec<PresentedCopy>,
    /// For `verified_person`: the pseudonym and the sealed record.
    pub account: Option<AccountEntry>,
    /// The signed attestation.
    pub attestation: String,
    /// SHA-256 of the same-device `response_code`, if one is handed out.
    pub response_code_hash: Option<Digest>,
    /// The event to deliver, when the platform has a webhook.
    pub event: Option<WebhookEvent>,
}

/// Everything that settles a check as failed.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The check.
    pub check_id: String,
    /// Now.
    pub now: i64,
    /// Our reason (a stable code; never shown to the platform).
    pub refusal: String,
    /// The signed `not_verified` attestation.
    pub attestation: String,
    /// SHA-256 of the same-device `response_code`, if one is handed out.
    pub response_code_hash: Option<Digest>,
    /// The event to deliver, when the platform has a webhook.
    pub event: Option<WebhookEvent>,
}

/// The outcome of trying to settle a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// Settled now.
    Settled,
    /// Not found, or settled already (a response is accepted once).
    NotPending,
    /// Past its expiry.
    Expired,
    /// One of the copies was presented before (nothing was written).
    CopyReused,
}

/// What the verifier knows of one account at a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountStats {
    /// First verification.
    pub first_seen: i64,
    /// Latest verification.
    pub last_seen: i64,
    /// How many verifications.
    pub verifications: i64,
}

/// A sealed escrow record of one account.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedRecordRow {
    /// The record's id.
    pub id: String,
    /// The check that made it.
    pub check_id: String,
    /// The sealed record.
    pub sealed: String,
    /// When it was made.
    pub created_at: i64,
}

impl std::fmt::Debug for SealedRecordRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedRecordRow")
            .field("id", &self.id)
            .field("check_id", &self.check_id)
            .finish_non_exhaustive()
    }
}

/// A webhook delivery due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueEvent {
    /// The event.
    pub event: WebhookEvent,
    /// Where to deliver it.
    pub url: String,
    /// Deliveries tried so far.
    pub attempts: i64,
    /// When it was written (the signature's timestamp is the delivery time).
    pub created_at: i64,
}

/// A court order as received: what is recorded (by `jti`, once) beside its log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedOrder {
    /// The order's `jti`.
    pub jti: String,
    /// SHA-256 of the order as received.
    pub digest: Digest,
    /// The platform it names.
    pub platform_id: String,
    /// When it was received.
    pub received_at: i64,
    /// When it must be answered by.
    pub deadline: i64,
    /// How many sealed records it is answered with.
    pub records: i64,
}

/// The verifier's storage seam; `store/conformance.rs` runs the same suite on every engine.
#[async_trait]
pub trait VerifierStore: Send + Sync + std::fmt::Debug {
    /// Records a platform and its first API key.
    async fn add_platform(&self, platform: &Platform, key: &ApiKeyRecord) -> Result<(), Error>;
    /// A platform by id.
    async fn platform(&self, id: &str) -> Result<Option<Platform>, Error>;
    /// Every platform, oldest first.
    async fn platforms(&self) -> Result<Vec<Platform>, Error>;
    /// Disables a platform (its keys stop working); false if there is no such platform.
    async fn disable_platform(&self, id: &str, now: i64) -> Result<bool, Error>;
    /// Records a new key; the platform's other live keys expire at `others_expire_at`
    /// (a rotation's grace period) unless they expire sooner.
    async fn add_api_key(&self, key: &ApiKeyRecord, others_expire_at: i64) -> Result<(), Error>;
    /// A key by its public id.
    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, Error>;
    /// A platform's keys.
    async fn api_keys(&self, platform_id: &str) -> Result<Vec<ApiKeyRecord>, Error>;
    /// Revokes a key now; false if there is no such live key.
    async fn revoke_api_key(&self, id: &str, now: i64) -> Result<bool, Error>;

    /// Records a new check.
    async fn create_check(&self, check: &NewCheck) -> Result<(), Error>;
    /// A check by id.
    async fn check(&self, id: &str) -> Result<Option<CheckRecord>, Error>;
    /// Settles a pending check as completed, with everything that goes with it, or nothing.
    async fn complete(&self, completion: &Completion) -> Result<Settlement, Error>;
    /// Settles a pending check as failed.
    async fn fail(&self, failure: &Failure) -> Result<Settlement, Error>;

    /// What is known of an account.
    async fn account(
        &self,
        platform_id: &str,
        pseudonym: &str,
    ) -> Result<Option<AccountStats>, Error>;
    /// The sealed escrow records of exactly one account (the court's order names one).
    async fn escrow_records(
        &self,
        platform_id: &str,
        pseudonym: &str,
    ) -> Result<Vec<SealedRecordRow>, Error>;

    /// Records a court order and appends `entry` to the transparency log `log`, in one
    /// transaction: the entry's index, or `None` when an order with this `jti` was
    /// received before (nothing is written then).
    async fn log_order(
        &self,
        order: &ReceivedOrder,
        entry: &[u8],
        log: &service_kit::translog::TransparencyLog,
    ) -> Result<Option<u64>, Error>;
    /// Records when a court order was answered.
    async fn order_answered(&self, jti: &str, at: i64) -> Result<(), Error>;

    /// Webhook deliveries due at `now`, oldest first.
    async fn due_events(&self, now: i64, limit: u32) -> Result<Vec<DueEvent>, Error>;
    /// Marks an event delivered.
    async fn event_delivered(&self, id: &str, now: i64) -> Result<(), Error>;
    /// Records a failed delivery and when to try again (`None`: give up).
    async fn event_failed(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: Option<i64>,
    ) -> Result<(), Error>;

    /// Forgets what is no longer needed at `now`: copies past their expiry, checks settled
    /// or expired more than `retention` seconds ago, delivered events. Returns the rows
    /// deleted.
    async fn purge(&self, now: i64, retention: i64) -> Result<u64, Error>;
}

/// [`VerifierStore`] over SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    db: Db,
}

impl SqlStore {
    /// The database (the transparency log shares it, so an order and its entry are written
    /// in one transaction).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Opens the store and brings its schema up to date.
    pub async fn open(db: Db) -> Result<SqlStore, Error> {
        db.migrate(&migrations()).await?;
        Ok(SqlStore { db })
    }
}

fn digest(row: &Row, i: usize) -> Result<Digest, Error> {
    <[u8; 32]>::try_from(row.bytes(i)?).map_err(|_| Error::Corrupt("a digest"))
}

fn platform_from(row: &Row) -> Result<Platform, Error> {
    Ok(Platform {
        id: row.text(0)?.to_owned(),
        name: row.text(1)?.to_owned(),
        webhook_url: row.opt_text(2)?.map(str::to_owned),
        created_at: row.int(3)?,
        disabled_at: row.opt_int(4)?,
    })
}

fn key_from(row: &Row) -> Result<ApiKeyRecord, Error> {
    Ok(ApiKeyRecord {
        id: row.text(0)?.to_owned(),
        platform_id: row.text(1)?.to_owned(),
        digest: digest(row, 2)?,
        created_at: row.int(3)?,
        expires_at: row.opt_int(4)?,
        revoked_at: row.opt_int(5)?,
    })
}

const CHECK_COLUMNS: &str = "id, platform_id, checks, account_reference, return_url, nonce, \
     state, created_at, expires_at, status, refusal, settled_at, attestation, \
     response_code_hash, pseudonym";

fn check_from(row: &Row) -> Result<CheckRecord, Error> {
    let checks = row
        .text(2)?
        .split(',')
        .map(|name| check_from_name(name).ok_or(Error::Corrupt("a check kind")))
        .collect::<Result<Vec<_>, _>>()?;
    let status = match row.text(9)? {
        "pending" => CheckStatus::Pending,
        "completed" => CheckStatus::Completed,
        "failed" => CheckStatus::Failed,
        _ => return Err(Error::Corrupt("a check status")),
    };
    Ok(CheckRecord {
        check: NewCheck {
            id: row.text(0)?.to_owned(),
            platform_id: row.text(1)?.to_owned(),
            checks,
            account_reference: row.opt_text(3)?.map(str::to_owned),
            return_url: row.opt_text(4)?.map(str::to_owned),
            nonce: row.text(5)?.to_owned(),
            state: row.text(6)?.to_owned(),
            created_at: row.int(7)?,
            expires_at: row.int(8)?,
        },
        status,
        refusal: row.opt_text(10)?.map(str::to_owned),
        settled_at: row.opt_int(11)?,
        attestation: row.opt_text(12)?.map(str::to_owned),
        response_code_hash: match row.opt_bytes(13)? {
            Some(bytes) => {
                Some(<[u8; 32]>::try_from(bytes).map_err(|_| Error::Corrupt("a digest"))?)
            }
            None => None,
        },
        pseudonym: row.opt_text(14)?.map(str::to_owned),
    })
}

async fn insert_event(tx: &mut Tx, event: &WebhookEvent, now: i64) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO webhook_events (id, platform_id, check_id, payload, created_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
        params![&event.id, &event.platform_id, &event.check_id, &event.payload, now],
    )
    .await?;
    Ok(())
}

/// Why a pending check could not be settled: gone, settled, or expired.
async fn not_settled(tx: &mut Tx, check_id: &str) -> Result<Settlement, Error> {
    let row = tx
        .query_opt("SELECT status FROM checks WHERE id = $1", params![check_id])
        .await?;
    Ok(match row {
        Some(row) if row.text(0)? == "pending" => Settlement::Expired,
        _ => Settlement::NotPending,
    })
}

#[async_trait]
impl VerifierStore for SqlStore {
    async fn add_platform(&self, platform: &Platform, key: &ApiKeyRecord) -> Result<(), Error> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            "INSERT INTO platforms (id, name, webhook_url, created_at, disabled_at)
             VALUES ($1, $2, $3, $4, $5)",
            params![
                &platform.id,
                &platform.name,
                platform.webhook_url.clone(),
                platform.created_at,
                platform.disabled_at
            ],
        )
        .await?;
        tx.execute(
            "INSERT INTO api_keys (id, platform_id, digest, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            params![
                &key.id,
                &key.platform_id,
                key.digest,
                key.created_at,
                key.expires_at,
                key.revoked_at
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn platform(&self, id: &str) -> Result<Option<Platform>, Error> {
        self.db
            .query_opt(
                "SELECT id, name, webhook_url, created_at, disabled_at FROM platforms WHERE id = $1",
                params![id],
            )
            .await?
            .map(|row| platform_from(&row))
            .transpose()
    }

    async fn platforms(&self) -> Result<Vec<Platform>, Error> {
        self.db
            .query(
                "SELECT id, name, webhook_url, created_at, disabled_at FROM platforms
                 ORDER BY created_at, id",
                params![],
            )
            .await?
            .iter()
            .map(platform_from)
            .collect()
    }

    async fn disable_platform(&self, id: &str, now: i64) -> Result<bool, Error> {
        let n = self
            .db
            .execute(
                "UPDATE platforms SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL",
                params![id, now],
            )
            .await?;
        Ok(n == 1)
    }

    async fn add_api_key(&self, key: &ApiKeyRecord, others_expire_at: i64) -> Result<(), Error> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            "UPDATE api_keys SET expires_at = $2
             WHERE platform_id = $1 AND revoked_at IS NULL
               AND (expires_at IS NULL OR expires_at > $2)",
            params![&key.platform_id, others_expire_at],
        )
        .await?;
        tx.execute(
            "INSERT INTO api_keys (id, platform_id, digest, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            params![
                &key.id,
                &key.platform_id,
                key.digest,
                key.created_at,
                key.expires_at,
                key.revoked_at
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, Error> {
        self.db
            .query_opt(
                "SELECT id, platform_id, digest, created_at, expires_at, revoked_at
                 FROM api_keys WHERE id = $1",
                params![id],
            )
            .await?
            .map(|row| key_from(&row))
            .transpose()
    }

    async fn api_keys(&self, platform_id: &str) -> Result<Vec<ApiKeyRecord>, Error> {
        self.db
            .query(
                "SELECT id, platform_id, digest, created_at, expires_at, revoked_at
                 FROM api_keys WHERE platform_id = $1 ORDER BY created_at, id",
                params![platform_id],
            )
            .await?
            .iter()
            .map(key_from)
            .collect()
    }

    async fn revoke_api_key(&self, id: &str, now: i64) -> Result<bool, Error> {
        let n = self
            .db
            .execute(
                "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                params![id, now],
            )
            .await?;
        Ok(n == 1)
    }

    async fn create_check(&self, check: &NewCheck) -> Result<(), Error> {
        let kinds: Vec<&str> = check.checks.iter().map(|k| k.name()).collect();
        self.db
            .execute(
                "INSERT INTO checks (id, platform_id, checks, account_reference, return_url,
                     nonce, state, created_at, expires_at, status)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending')",
                params![
                    &check.id,
                    &check.platform_id,
                    kinds.join(","),
                    check.account_reference.clone(),
                    check.return_url.clone(),
                    &check.nonce,
                    &check.state,
                    check.created_at,
                    check.expires_at
                ],
            )
            .await?;
        Ok(())
    }

    async fn check(&self, id: &str) -> Result<Option<CheckRecord>, Error> {
        self.db
            .query_opt(
                &format!("SELECT {CHECK_COLUMNS} FROM checks WHERE id = $1"),
                params![id],
            )
            .await?
            .map(|row| check_from(&row))
            .transpose()
    }

    async fn complete(&self, c: &Completion) -> Result<Settlement, Error> {
        let mut tx = self.db.begin().await?;
        let settled = tx
            .execute(
                "UPDATE checks SET status = 'completed', settled_at = $2, attestation = $3,
                     response_code_hash = $4, pseudonym = $5
                 WHERE id = $1 AND status = 'pending' AND expires_at > $2",
                params![
                    &c.check_id,
                    c.now,
                    &c.attestation,
                    c.response_code_hash,
                    c.account.as_ref().map(|a| a.pseudonym.clone())
                ],
            )
            .await?;
        if settled != 1 {
            return not_settled(&mut tx, &c.check_id).await;
        }
        for copy in &c.copies {
            let fresh = tx
                .execute(
                    "INSERT INTO presented_copies (digest, expires_at) VALUES ($1, $2)
                     ON CONFLICT (digest) DO NOTHING",
                    params![copy.digest, copy.expires_at],
                )
                .await?;
            if fresh != 1 {
                // Dropping the transaction rolls the settlement back: the service then
                // fails the check in a transaction of its own.
                return Ok(Settlement::CopyReused);
            }
        }
        if let Some(account) = &c.account {
            let platform = tx
                .query_opt(
                    "SELECT platform_id FROM checks WHERE id = $1",
                    params![&c.check_id],
                )
                .await?
                .ok_or(Error::Corrupt("a settled check"))?;
            let platform_id = platform.text(0)?.to_owned();
            tx.execute(
                "INSERT INTO accounts (platform_id, pseudonym, first_seen, last_seen, verifications)
                 VALUES ($1, $2, $3, $3, 1)
                 ON CONFLICT (platform_id, pseudonym)
                 DO UPDATE SET last_seen = $3, verifications = accounts.verifications + 1",
                params![&platform_id, &account.pseudonym, c.now],
            )
            .await?;
            tx.execute(
                "INSERT INTO escrow_records (id, platform_id, pseudonym, check_id, sealed, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                params![
                    &account.record_id,
                    &platform_id,
                    &account.pseudonym,
                    &c.check_id,
                    &account.sealed,
                    c.now
                ],
            )
            .await?;
        }
        if let Some(event) = &c.event {
            insert_event(&mut tx, event, c.now).await?;
        }
        tx.commit().await?;
        Ok(Settlement::Settled)
    }

    async fn fail(&self, f: &Failure) -> Result<Settlement, Error> {
        let mut tx = self.db.begin().await?;
        let settled = tx
            .execute(
                "UPDATE checks SET status = 'failed', settled_at = $2, attestation = $3,
                     refusal = $4, response_code_hash = $5
                 WHERE id = $1 AND status = 'pending' AND expires_at > $2",
                params![
                    &f.check_id,
                    f.now,
                    &f.attestation,
                    &f.refusal,
                    f.response_code_hash
                ],
            )
            .await?;
        if settled != 1 {
            return not_settled(&mut tx, &f.check_id).await;
        }
        if let Some(event) = &f.event {
            insert_event(&mut tx, event, f.now).await?;
        }
        tx.commit().await?;
        Ok(Settlement::Settled)
    }

    async fn account(
        &self,
        platform_id: &str,
        pseudonym: &str,
    ) -> Result<Option<AccountStats>, Error> {
        let row = self
            .db
            .query_opt(
                "SELECT first_seen, last_seen, verifications FROM accounts
                 WHERE platform_id = $1 AND pseudonym = $2",
                params![platform_id, pseudonym],
            )
            .await?;
        row.map(|row| {
            Ok(AccountStats {
                first_seen: row.int(0)?,
                last_seen: row.int(1)?,
                verifications: row.int(2)?,
            })
        })
        .transpose()
    }

    async fn escrow_records(
        &self,
        platform_id: &str,
        pseudonym: &str,
    ) -> Result<Vec<SealedRecordRow>, Error> {
        self.db
            .query(
                "SELECT id, check_id, sealed, created_at FROM escrow_records
                 WHERE platform_id = $1 AND pseudonym = $2 ORDER BY created_at, id",
                params![platform_id, pseudonym],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(SealedRecordRow {
                    id: row.text(0)?.to_owned(),
                    check_id: row.text(1)?.to_owned(),
                    sealed: row.text(2)?.to_owned(),
                    created_at: row.int(3)?,
                })
            })
            .collect()
    }

    async fn log_order(
        &self,
        order: &ReceivedOrder,
        entry: &[u8],
        log: &service_kit::translog::TransparencyLog,
    ) -> Result<Option<u64>, Error> {
        let mut tx = self.db.begin().await?;
        let fresh = tx
            .execute(
                "INSERT INTO court_orders (jti, order_digest, platform_id, received_at, deadline,
                     records)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (jti) DO NOTHING",
                params![
                    &order.jti,
                    order.digest,
                    &order.platform_id,
                    order.received_at,
                    order.deadline,
                    order.records
                ],
            )
            .await?;
        if fresh != 1 {
            return Ok(None);
        }
        let index = log
            .append_in(&mut tx, entry, order.received_at)
            .await
            .map_err(|e| Error::Log(e.to_string()))?;
        tx.execute(
            "UPDATE court_orders SET log_index = $2 WHERE jti = $1",
            params![
                &order.jti,
                i64::try_from(index).map_err(|_| Error::Corrupt("log index"))?
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(index))
    }

    async fn order_answered(&self, jti: &str, at: i64) -> Result<(), Error> {
        self.db
            .execute(
                "UPDATE court_orders SET answered_at = $2 WHERE jti = $1",
                params![jti, at],
            )
            .await?;
        Ok(())
    }

    async fn due_events(&self, now: i64, limit: u32) -> Result<Vec<DueEvent>, Error> {
        self.db
            .query(
                "SELECT e.id, e.platform_id, e.check_id, e.payload, p.webhook_url, e.attempts,
                        e.created_at
                 FROM webhook_events e JOIN platforms p ON p.id = e.platform_id
                 WHERE e.delivered_at IS NULL AND e.next_attempt_at <= $1
                   AND p.webhook_url IS NOT NULL AND p.disabled_at IS NULL
                 ORDER BY e.next_attempt_at, e.id LIMIT $2",
                params![now, i64::from(limit)],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(DueEvent {
                    event: WebhookEvent {
                        id: row.text(0)?.to_owned(),
                        platform_id: row.text(1)?.to_owned(),
                        check_id: row.text(2)?.to_owned(),
                        payload: row.text(3)?.to_owned(),
                    },
                    url: row.text(4)?.to_owned(),
                    attempts: row.int(5)?,
                    created_at: row.int(6)?,
                })
            })
            .collect()
    }

    async fn event_delivered(&self, id: &str, now: i64) -> Result<(), Error> {
        self.db
            .execute(
                "UPDATE webhook_events SET delivered_at = $2, attempts = attempts + 1,
                     last_error = NULL
                 WHERE id = $1 AND delivered_at IS NULL",
                params![id, now],
            )
            .await?;
        Ok(())
    }

    async fn event_failed(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: Option<i64>,
    ) -> Result<(), Error> {
        // Giving up parks the event far in the future rather than deleting it, so an
        // operator can see what was never delivered.
        let next = next_attempt_at.unwrap_or(i64::MAX);
        self.db
            .execute(
                "UPDATE webhook_events SET attempts = attempts + 1, last_error = $2,
                     next_attempt_at = $3
                 WHERE id = $1 AND delivered_at IS NULL",
                params![id, error, next],
            )
            .await?;
        Ok(())
    }

    async fn purge(&self, now: i64, retention: i64) -> Result<u64, Error> {
        let horizon = now.saturating_sub(retention);
        let mut n = self
            .db
            .execute(
                "DELETE FROM presented_copies WHERE expires_at <= $1",
                params![now],
            )
            .await?;
        n += self
            .db
            .execute(
                "DELETE FROM webhook_events WHERE delivered_at IS NOT NULL AND delivered_at <= $1",
                params![horizon],
            )
            .await?;
        n += self
            .db
            .execute(
                "DELETE FROM checks WHERE expires_at <= $1
                   AND (settled_at IS NULL OR settled_at <= $1)
                   AND id NOT IN (SELECT check_id FROM webhook_events WHERE delivered_at IS NULL)",
                params![horizon],
            )
            .await?;
        Ok(n)
    }
}

#[cfg(test)]
mod conformance;
