//! The issuer's storage: one trait, [`IssuerStore`], and its SQL implementation, which runs
//! the same statements on SQLite and PostgreSQL (see `service_kit::db`).
//!
//! Every operation that must not happen twice — redeeming a code, using a nonce,
//! issuing a configuration of an offer, taking a status-list index, changing a status — is
//! one conditional statement or one transaction, so concurrent requests and replicas sharing
//! a PostgreSQL database cannot double it.

use async_trait::async_trait;
use serde_json::{Map, Value};
use service_kit::db::{Db, Row, Tx, Value as Sql};
use service_kit::params;
use subtle::ConstantTimeEq;

use crate::Error;
use crate::schema::migrations;

/// A 256-bit digest (of a code, token or nonce: the store never holds those in clear).
pub type Digest = [u8; 32];

/// A person to record in the register.
#[derive(Clone)]
pub struct NewPerson {
    /// `HMAC(K_reg, national number)`, base64url.
    pub person_handle: String,
    /// The PID attributes.
    pub attributes: Map<String, Value>,
    /// The level of assurance of the identity check at enrolment.
    pub level_of_assurance: String,
}

/// A person of the register.
#[derive(Clone)]
pub struct PersonRecord {
    /// The register's identifier of the person (random, not derived from any attribute).
    pub id: String,
    /// `HMAC(K_reg, national number)`, base64url.
    pub person_handle: String,
    /// The PID attributes.
    pub attributes: Map<String, Value>,
    /// The level of assurance of the identity check at enrolment.
    pub level_of_assurance: String,
}

// Personal data: Debug shows the identifier only.
impl std::fmt::Debug for NewPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPerson").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PersonRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonRecord")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A credential offer to record.
#[derive(Debug, Clone)]
pub struct NewOffer {
    /// The offer's identifier (also its `credential_offer_uri` path).
    pub id: String,
    /// SHA-256 of the pre-authorized code.
    pub code_hash: Digest,
    /// SHA-256 of the pre-authorized code and the `tx_code`, when one is required.
    pub tx_code_check: Option<Digest>,
    /// The person the credentials are about (absent for a provider's qualification).
    pub person_id: Option<String>,
    /// The `credential_configuration_id`s offered.
    pub configuration_ids: Vec<String>,
    /// Claims given with the offer (training account reference, qualification details).
    pub payload: Option<Value>,
    /// Whether the offer may be fetched at its `credential_offer_uri`.
    pub by_reference: bool,
    /// When it was made.
    pub created_at: i64,
    /// When the pre-authorized code stops working.
    pub expires_at: i64,
}

/// What a redeemed pre-authorized code grants.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// The offer.
    pub offer_id: String,
    /// The person the credentials are about.
    pub person_id: Option<String>,
    /// The configurations that may be requested.
    pub configuration_ids: Vec<String>,
    /// Claims given with the offer.
    pub payload: Option<Value>,
}

/// The outcome of presenting a pre-authorized code.
#[derive(Debug, Clone, PartialEq)]
pub enum Redemption {
    /// Redeemed now; the access token was recorded.
    Redeemed(Grant),
    /// The offer requires a `tx_code` and none was sent (the code stays usable).
    TxCodeMissing,
    /// The `tx_code` was wrong; `remaining` more tries before the code is dead.
    WrongTxCode {
        /// Tries left.
        remaining: u32,
    },
    /// Unknown, expired, already redeemed or dead. A reused code also revokes the access
    /// tokens it granted (RFC 6749 §4.1.2).
    Invalid,
}

/// The status of an issued credential, as its status list carries it (2-bit list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialStatus {
    /// 0x00 VALID.
    Valid,
    /// 0x01 INVALID: revoked, for good.
    Revoked,
    /// 0x02 SUSPENDED.
    Suspended,
}

impl CredentialStatus {
    /// The value in the status list.
    pub fn value(self) -> u8 {
        match self {
            CredentialStatus::Valid => 0,
            CredentialStatus::Revoked => 1,
            CredentialStatus::Suspended => 2,
        }
    }

    fn from_value(v: i64) -> Result<CredentialStatus, Error> {
        match v {
            0 => Ok(CredentialStatus::Valid),
            1 => Ok(CredentialStatus::Revoked),
            2 => Ok(CredentialStatus::Suspended),
            _ => Err(Error::Corrupt("credential status")),
        }
    }

    /// The name used in the admin API.
    pub fn name(self) -> &'static str {
        match self {
            CredentialStatus::Valid => "valid",
            CredentialStatus::Revoked => "revoked",
            CredentialStatus::Suspended => "suspended",
        }
    }

    /// May a credential go from `self` to `to`? Revocation is final; suspension is undone
    /// only by unsuspending.
    pub fn may_become(self, to: CredentialStatus) -> bool {
        use CredentialStatus as S;
        matches!(
            (self, to),
            (S::Valid, S::Revoked)
                | (S::Valid, S::Suspended)
                | (S::Suspended, S::Revoked)
                | (S::Suspended, S::Valid)
        )
    }
}

/// A credential about to be issued: what the status record keeps.
#[derive(Debug, Clone)]
pub struct NewCredential {
    /// Random identifier, for the admin API.
    pub id: String,
    /// Its type.
    pub vct: String,
    /// The person it is about.
    pub person_id: Option<String>,
    /// `iat`.
    pub issued_at: i64,
    /// `exp`.
    pub expires_at: i64,
}

/// A credential's status record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    /// Its identifier.
    pub id: String,
    /// Its type.
    pub vct: String,
    /// Its status list.
    pub list_id: i64,
    /// Its index in that list.
    pub idx: i64,
    /// `iat`.
    pub issued_at: i64,
    /// `exp`.
    pub expires_at: i64,
    /// Its status now.
    pub status: CredentialStatus,
}

/// A place in a status list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusSlot {
    /// The list.
    pub list_id: i64,
    /// The index.
    pub idx: u32,
}

/// The outcome of reserving status slots for one configuration of an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// One slot per credential, in order.
    Reserved(Vec<StatusSlot>),
    /// This configuration of this offer was issued already.
    AlreadyIssued,
}

/// How status lists are sized and filled.
#[derive(Debug, Clone, Copy)]
pub struct ListPolicy {
    /// Entries per list (a power of two).
    pub capacity: u32,
    /// Entries a list takes before a new one is opened: random indices need free room, and a
    /// fuller list would make the next index easier to guess.
    pub max_allocated: u32,
}

impl Default for ListPolicy {
    /// 2^17 entries of 2 bits (32 KiB before compression), filled to three quarters.
    fn default() -> ListPolicy {
        ListPolicy {
            capacity: 1 << 17,
            max_allocated: 3 << 15,
        }
    }
}

/// The outcome of a status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Changed; the list's revision moved on.
    Changed,
    /// Already in that status.
    Unchanged,
    /// Not allowed from the current status (revocation is final).
    Refused(CredentialStatus),
    /// No such credential.
    Unknown,
}

/// A status list as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSnapshot {
    /// Entries.
    pub capacity: u32,
    /// Bumped at every status change.
    pub revision: i64,
    /// `(index, status)` of every credential not VALID.
    pub entries: Vec<(u32, u8)>,
}

/// A court order the register resolves: what is kept of it.
#[derive(Debug, Clone)]
pub struct NewResolution {
    /// The order's `jti` (seen once).
    pub jti: String,
    /// SHA-256 of the compact order.
    pub order_digest: Digest,
    /// The person found for the handle, if any.
    pub person_id: Option<String>,
    /// For the person's notice: `case`, `ground`, `platform`, the judge (`iss`).
    pub case_number: String,
    /// The legal ground.
    pub ground: String,
    /// The platform whose account was opened.
    pub platform_id: String,
    /// The judge who signed.
    pub judge: String,
    /// When the register received the order.
    pub received_at: i64,
    /// The order's deadline.
    pub deadline: i64,
    /// Until when the person may not be told (none: as soon as it is resolved).
    pub embargo_until: Option<i64>,
}

/// A notice of an opening, for the person concerned once its embargo is over.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Notice {
    /// The case number.
    pub case: String,
    /// The legal ground.
    pub ground: String,
    /// The platform whose account was linked to the person.
    pub platform: String,
    /// The judge who signed the order.
    pub judge: String,
    /// When the register answered the court.
    pub resolved_at: i64,
    /// The place of the resolution in the register's transparency log.
    pub log_index: i64,
}

/// Everything the issuer stores.
#[async_trait]
pub trait IssuerStore: Send + Sync + std::fmt::Debug {
    /// Records a person, or updates the attributes of the person with the same handle.
    /// Returns the person's id and whether the person is new.
    async fn enrol(&self, person: &NewPerson, now: i64) -> Result<(String, bool), Error>;
    /// The person with this id.
    async fn person(&self, id: &str) -> Result<Option<PersonRecord>, Error>;
    /// The person with this handle.
    async fn person_by_handle(&self, handle: &str) -> Result<Option<PersonRecord>, Error>;

    /// Records an offer.
    async fn insert_offer(&self, offer: &NewOffer) -> Result<(), Error>;
    /// The configurations of an open (unredeemed, unexpired) by-reference offer.
    async fn open_offer_by_reference(
        &self,
        id: &str,
        now: i64,
    ) -> Result<Option<Vec<String>>, Error>;
    /// Presents a pre-authorized code (and `tx_code` check): on success the code is spent,
    /// the access token `token_hash` recorded until `token_expires_at`. A wrong `tx_code`
    /// counts; at `max_tx_failures` the code is dead.
    async fn redeem(
        &self,
        code_hash: &Digest,
        tx_code_check: Option<&Digest>,
        token_hash: &Digest,
        token_expires_at: i64,
        max_tx_failures: u32,
        now: i64,
    ) -> Result<Redemption, Error>;
    /// What an unexpired access token grants.
    async fn grant(&self, token_hash: &Digest, now: i64) -> Result<Option<Grant>, Error>;

    /// Records that a (valid, unexpired) `c_nonce` was used: `true` the first time, `false`
    /// for a replay. Kept until `expires_at`, after which the nonce is refused anyway.
    async fn use_nonce(&self, nonce_hash: &Digest, expires_at: i64) -> Result<bool, Error>;

    /// Marks `configuration_id` of `offer_id` issued and records `credentials`, each with a
    /// random, never reused status-list index — or reports that it was issued already.
    async fn reserve(
        &self,
        offer_id: &str,
        configuration_id: &str,
        credentials: &[NewCredential],
        policy: ListPolicy,
        now: i64,
    ) -> Result<Reservation, Error>;

    /// Moves a credential to `to`, bumping its list's revision.
    async fn set_status(&self, id: &str, to: CredentialStatus) -> Result<Transition, Error>;
    /// A person's credentials, newest first.
    async fn credentials_of(&self, person_id: &str) -> Result<Vec<CredentialRecord>, Error>;
    /// One credential.
    async fn credential(&self, id: &str) -> Result<Option<CredentialRecord>, Error>;
    /// A status list's current revision.
    async fn list_revision(&self, list_id: i64) -> Result<Option<i64>, Error>;
    /// A status list's entries.
    async fn status_list(&self, list_id: i64) -> Result<Option<ListSnapshot>, Error>;

    /// Deletes expired nonces, access tokens and offers; returns how many rows went.
    async fn purge_expired(&self, now: i64) -> Result<u64, Error>;

    /// Records a court order's resolution and appends `entry` to the register's transparency
    /// log, in one transaction: its index, or `None` if the order's `jti` was seen before.
    async fn log_resolution(
        &self,
        resolution: &NewResolution,
        entry: &[u8],
        log: &service_kit::translog::TransparencyLog,
    ) -> Result<Option<u64>, Error>;
    /// Records when a resolution was answered.
    async fn resolution_answered(&self, jti: &str, at: i64) -> Result<(), Error>;
    /// The notices of openings of this person whose embargo is over at `now`, oldest first.
    async fn notices(&self, person_id: &str, now: i64) -> Result<Vec<Notice>, Error>;
}

/// [`IssuerStore`] over a [`Db`]: SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    db: Db,
}

impl SqlStore {
    /// The database (the register's transparency log shares it, so a resolution and its
    /// entry are written in one transaction).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Opens the store and brings its schema up to date.
    pub async fn open(db: Db) -> Result<SqlStore, Error> {
        db.migrate(&migrations()).await?;
        Ok(SqlStore { db })
    }
}

const OFFER_OPEN: &str = "open";
const OFFER_REDEEMED: &str = "redeemed";
const OFFER_DEAD: &str = "dead";

fn random_id() -> Result<String, Error> {
    Ok(credential_formats::crypto::random_hex(16)?)
}

fn parse_object(text: &str, what: &'static str) -> Result<Map<String, Value>, Error> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::Corrupt(what)),
    }
}

fn person_from_row(row: &Row) -> Result<PersonRecord, Error> {
    Ok(PersonRecord {
        id: row.text(0)?.to_owned(),
        person_handle: row.text(1)?.to_owned(),
        attributes: parse_object(row.text(2)?, "person attributes")?,
        level_of_assurance: row.text(3)?.to_owned(),
    })
}

fn credential_from_row(row: &Row) -> Result<CredentialRecord, Error> {
    Ok(CredentialRecord {
        id: row.text(0)?.to_owned(),
        vct: row.text(1)?.to_owned(),
        list_id: row.int(2)?,
        idx: row.int(3)?,
        issued_at: row.int(4)?,
        expires_at: row.int(5)?,
        status: CredentialStatus::from_value(row.int(6)?)?,
    })
}

fn grant_from_row(row: &Row) -> Result<Grant, Error> {
    let configuration_ids: Vec<String> = serde_json::from_str(row.text(2)?)
        .map_err(|_| Error::Corrupt("offer configuration ids"))?;
    let payload = match row.opt_text(3)? {
        None => None,
        Some(text) => {
            Some(serde_json::from_str(text).map_err(|_| Error::Corrupt("offer payload"))?)
        }
    };
    Ok(Grant {
        offer_id: row.text(0)?.to_owned(),
        person_id: row.opt_text(1)?.map(str::to_owned),
        configuration_ids,
        payload,
    })
}

const PERSON_COLUMNS: &str = "id, person_handle, attributes, level_of_assurance";
const CREDENTIAL_COLUMNS: &str = "id, vct, list_id, idx, issued_at, expires_at, status";

/// A random index below `capacity` (a power of two, so masking keeps it uniform).
fn random_index(capacity: u32) -> Result<u32, Error> {
    let mut bytes = [0u8; 4];
    credential_formats::crypto::fill_random(&mut bytes)?;
    Ok(u32::from_le_bytes(bytes) & (capacity - 1))
}

/// Takes room for `n` entries in the newest status list, opening the next list when it is
/// full. The `UPDATE` is one statement, so concurrent takers (a row lock on PostgreSQL, the
/// write lock on SQLite) can neither overfill a list nor both open the same next one.
async fn take_room(tx: &mut Tx, n: u32, policy: ListPolicy, now: i64) -> Result<i64, Error> {
    for _ in 0..8 {
        let taken = tx
            .query_opt(
                "UPDATE status_lists SET allocated = allocated + $1
                 WHERE id = (SELECT MAX(id) FROM status_lists) AND allocated + $1 <= $2
                 RETURNING id",
                params![n, policy.max_allocated],
            )
            .await?;
        if let Some(row) = taken {
            return Ok(row.int(0)?);
        }
        // `WHERE true` keeps SQLite's parser from reading ON CONFLICT as a join.
        tx.execute(
            "INSERT INTO status_lists (id, bits, capacity, allocated, revision, created_at)
             SELECT COALESCE(MAX(id), 0) + 1, 2, CAST($1 AS BIGINT), 0, 0, CAST($2 AS BIGINT)
             FROM status_lists WHERE true
             ON CONFLICT (id) DO NOTHING",
            params![policy.capacity, now],
        )
        .await?;
    }
    Err(Error::Corrupt("no status list takes this batch"))
}

/// Inserts the credentials' status rows at random free indices of `list_id`: one
/// multi-row statement per round, `ON CONFLICT DO NOTHING` skipping taken indices (a failed
/// statement would abort a PostgreSQL transaction), the skipped ones retried.
async fn place(
    tx: &mut Tx,
    list_id: i64,
    credentials: &[NewCredential],
    capacity: u32,
) -> Result<Vec<StatusSlot>, Error> {
    let mut placed: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for _ in 0..32 {
        let pending: Vec<&NewCredential> = credentials
            .iter()
            .filter(|c| !placed.contains_key(&c.id))
            .collect();
        if pending.is_empty() {
            break;
        }
        let mut chosen = std::collections::HashSet::new();
        let mut rows = Vec::with_capacity(pending.len());
        let mut values = Vec::with_capacity(pending.len() * 7);
        for credential in pending {
            let idx = loop {
                let idx = random_index(capacity)?;
                if chosen.insert(idx) {
                    break idx;
                }
            };
            let at = values.len();
            rows.push(format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 0)",
                at + 1,
                at + 2,
                at + 3,
                at + 4,
                at + 5,
                at + 6,
                at + 7
            ));
            values.extend([
                Sql::from(&credential.id),
                Sql::from(&credential.vct),
                Sql::from(credential.person_id.clone()),
                Sql::from(list_id),
                Sql::from(idx),
                Sql::from(credential.issued_at),
                Sql::from(credential.expires_at),
            ]);
        }
        let sql = format!(
            "INSERT INTO credentials
             (id, vct, person_id, list_id, idx, issued_at, expires_at, status)
             VALUES {} ON CONFLICT (list_id, idx) DO NOTHING RETURNING id, idx",
            rows.join(", ")
        );
        for row in tx.query(&sql, &values).await? {
            let idx = u32::try_from(row.int(1)?).map_err(|_| Error::Corrupt("index"))?;
            placed.insert(row.text(0)?.to_owned(), idx);
        }
    }
    credentials
        .iter()
        .map(|c| {
            placed
                .get(&c.id)
                .map(|&idx| StatusSlot { list_id, idx })
                .ok_or(Error::Corrupt("status list has no free index"))
        })
        .collect()
}

#[async_trait]
impl IssuerStore for SqlStore {
    async fn enrol(&self, person: &NewPerson, now: i64) -> Result<(String, bool), Error> {
        let attributes = Value::Object(person.attributes.clone()).to_string();
        let mut tx = self.db.begin().await?;
        let existing = tx
            .query_opt(
                "UPDATE persons SET attributes = $2, level_of_assurance = $3, updated_at = $4
                 WHERE person_handle = $1 RETURNING id",
                params![
                    &person.person_handle,
                    attributes.as_str(),
                    &person.level_of_assurance,
                    now
                ],
            )
            .await?;
        let outcome = match existing {
            Some(row) => (row.text(0)?.to_owned(), false),
            None => {
                let id = random_id()?;
                tx.execute(
                    "INSERT INTO persons
                     (id, person_handle, attributes, level_of_assurance, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $5)",
                    params![
                        id.as_str(),
                        &person.person_handle,
                        attributes,
                        &person.level_of_assurance,
                        now
                    ],
                )
                .await?;
                (id, true)
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn person(&self, id: &str) -> Result<Option<PersonRecord>, Error> {
        self.db
            .query_opt(
                &format!("SELECT {PERSON_COLUMNS} FROM persons WHERE id = $1"),
                params![id],
            )
            .await?
            .as_ref()
            .map(person_from_row)
            .transpose()
    }

    async fn person_by_handle(&self, handle: &str) -> Result<Option<PersonRecord>, Error> {
        self.db
            .query_opt(
                &format!("SELECT {PERSON_COLUMNS} FROM persons WHERE person_handle = $1"),
                params![handle],
            )
            .await?
            .as_ref()
            .map(person_from_row)
            .transpose()
    }

    async fn insert_offer(&self, offer: &NewOffer) -> Result<(), Error> {
        let ids = serde_json::to_string(&offer.configuration_ids)
            .map_err(|_| Error::Corrupt("offer configuration ids"))?;
        self.db
            .execute(
                "INSERT INTO offers (id, code_hash, tx_code_check, person_id, configuration_ids,
                     payload, by_reference, created_at, expires_at, tx_failures, state)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10)",
                params![
                    &offer.id,
                    offer.code_hash,
                    offer.tx_code_check,
                    offer.person_id.clone(),
                    ids,
                    offer.payload.as_ref().map(Value::to_string),
                    offer.by_reference,
                    offer.created_at,
                    offer.expires_at,
                    OFFER_OPEN
                ],
            )
            .await?;
        Ok(())
    }

    async fn open_offer_by_reference(
        &self,
        id: &str,
        now: i64,
    ) -> Result<Option<Vec<String>>, Error> {
        let row = self
            .db
            .query_opt(
                "SELECT configuration_ids FROM offers
                 WHERE id = $1 AND state = $2 AND expires_at > $3 AND by_reference = 1",
                params![id, OFFER_OPEN, now],
            )
            .await?;
        row.map(|row| {
            serde_json::from_str(row.text(0)?)
                .map_err(|_| Error::Corrupt("offer configuration ids"))
        })
        .transpose()
    }

    async fn redeem(
        &self,
        code_hash: &Digest,
        tx_code_check: Option<&Digest>,
        token_hash: &Digest,
        token_expires_at: i64,
        max_tx_failures: u32,
        now: i64,
    ) -> Result<Redemption, Error> {
        let mut tx = self.db.begin().await?;
        let Some(row) = tx
            .query_opt(
                "SELECT id, person_id, configuration_ids, payload, tx_code_check, state,
                        expires_at, tx_failures
                 FROM offers WHERE code_hash = $1",
                params![*code_hash],
            )
            .await?
        else {
            return Ok(Redemption::Invalid);
        };
        let grant = grant_from_row(&row)?;
        let expected = row.opt_bytes(4)?.map(<[u8]>::to_vec);
        let state = row.text(5)?.to_owned();
        if state == OFFER_REDEEMED {
            // A code presented twice: whoever holds it, the tokens it bought are withdrawn.
            tx.execute(
                "DELETE FROM access_tokens WHERE offer_id = $1",
                params![&grant.offer_id],
            )
            .await?;
            tx.commit().await?;
            return Ok(Redemption::Invalid);
        }
        if state != OFFER_OPEN || row.int(6)? <= now {
            return Ok(Redemption::Invalid);
        }
        if let Some(expected) = expected {
            let Some(presented) = tx_code_check else {
                return Ok(Redemption::TxCodeMissing);
            };
            if !bool::from(presented.as_slice().ct_eq(&expected)) {
                // Counted in SQL, so concurrent wrong guesses cannot overwrite each other.
                let counted = tx
                    .query_opt(
                        "UPDATE offers SET tx_failures = tx_failures + 1,
                             state = CASE WHEN tx_failures + 1 >= $2 THEN $3 ELSE state END
                         WHERE id = $1 AND state = $4 RETURNING tx_failures",
                        params![&grant.offer_id, max_tx_failures, OFFER_DEAD, OFFER_OPEN],
                    )
                    .await?;
                tx.commit().await?;
                let failures = match counted {
                    Some(row) => row.int(0)?,
                    None => return Ok(Redemption::Invalid),
                };
                let remaining = i64::from(max_tx_failures).saturating_sub(failures);
                return Ok(Redemption::WrongTxCode {
                    remaining: u32::try_from(remaining).unwrap_or(0),
                });
            }
        }
        // The conditional update is what makes the code single-use under concurrency.
        let spent = tx
            .execute(
                "UPDATE offers SET state = $2,
                     expires_at = CASE WHEN expires_at > $3 THEN expires_at ELSE $3 END
                 WHERE id = $1 AND state = $4",
                params![
                    &grant.offer_id,
                    OFFER_REDEEMED,
                    token_expires_at,
                    OFFER_OPEN
                ],
            )
            .await?;
        if spent != 1 {
            return Ok(Redemption::Invalid);
        }
        tx.execute(
            "INSERT INTO access_tokens (token_hash, offer_id, expires_at) VALUES ($1, $2, $3)",
            params![*token_hash, &grant.offer_id, token_expires_at],
        )
        .await?;
        tx.commit().await?;
        Ok(Redemption::Redeemed(grant))
    }

    async fn grant(&self, token_hash: &Digest, now: i64) -> Result<Option<Grant>, Error> {
        self.db
            .query_opt(
                "SELECT o.id, o.person_id, o.configuration_ids, o.payload
                 FROM access_tokens t JOIN offers o ON o.id = t.offer_id
                 WHERE t.token_hash = $1 AND t.expires_at > $2",
                params![*token_hash, now],
            )
            .await?
            .as_ref()
            .map(grant_from_row)
            .transpose()
    }

    async fn use_nonce(&self, nonce_hash: &Digest, expires_at: i64) -> Result<bool, Error> {
        let n = self
            .db
            .execute(
                "INSERT INTO nonces (nonce_hash, expires_at) VALUES ($1, $2)
                 ON CONFLICT (nonce_hash) DO NOTHING",
                params![*nonce_hash, expires_at],
            )
            .await?;
        Ok(n == 1)
    }

    async fn reserve(
        &self,
        offer_id: &str,
        configuration_id: &str,
        credentials: &[NewCredential],
        policy: ListPolicy,
        now: i64,
    ) -> Result<Reservation, Error> {
        let n = u32::try_from(credentials.len()).map_err(|_| Error::Corrupt("batch size"))?;
        let mut tx = self.db.begin().await?;
        let claimed = tx
            .execute(
                "INSERT INTO offer_issuance (offer_id, configuration_id, issued_at)
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                params![offer_id, configuration_id, now],
            )
            .await?;
        if claimed != 1 {
            return Ok(Reservation::AlreadyIssued);
        }
        let list_id = take_room(&mut tx, n, policy, now).await?;
        let slots = place(&mut tx, list_id, credentials, policy.capacity).await?;
        tx.commit().await?;
        Ok(Reservation::Reserved(slots))
    }

    async fn set_status(&self, id: &str, to: CredentialStatus) -> Result<Transition, Error> {
        let mut tx = self.db.begin().await?;
        let Some(row) = tx
            .query_opt(
                "SELECT list_id, status FROM credentials WHERE id = $1",
                params![id],
            )
            .await?
        else {
            return Ok(Transition::Unknown);
        };
        let list_id = row.int(0)?;
        let from = CredentialStatus::from_value(row.int(1)?)?;
        if from == to {
            return Ok(Transition::Unchanged);
        }
        if !from.may_become(to) {
            return Ok(Transition::Refused(from));
        }
        let changed = tx
            .execute(
                "UPDATE credentials SET status = $2 WHERE id = $1 AND status = $3",
                params![id, i64::from(to.value()), i64::from(from.value())],
            )
            .await?;
        if changed != 1 {
            // Changed by someone else since the read: report what is there now.
            return Ok(Transition::Unchanged);
        }
        tx.execute(
            "UPDATE status_lists SET revision = revision + 1 WHERE id = $1",
            params![list_id],
        )
        .await?;
        tx.commit().await?;
        Ok(Transition::Changed)
    }

    async fn credentials_of(&self, person_id: &str) -> Result<Vec<CredentialRecord>, Error> {
        self.db
            .query(
                &format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE person_id = $1
                     ORDER BY issued_at DESC, id"
                ),
                params![person_id],
            )
            .await?
            .iter()
            .map(credential_from_row)
            .collect()
    }

    async fn credential(&self, id: &str) -> Result<Option<CredentialRecord>, Error> {
        self.db
            .query_opt(
                &format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE id = $1"),
                params![id],
            )
            .await?
            .as_ref()
            .map(credential_from_row)
            .transpose()
    }

    async fn list_revision(&self, list_id: i64) -> Result<Option<i64>, Error> {
        Ok(self
            .db
            .query_opt(
                "SELECT revision FROM status_lists WHERE id = $1",
                params![list_id],
            )
            .await?
            .map(|row| row.int(0))
            .transpose()?)
    }

    async fn status_list(&self, list_id: i64) -> Result<Option<ListSnapshot>, Error> {
        let mut tx = self.db.begin().await?;
        let Some(list) = tx
            .query_opt(
                "SELECT capacity, revision FROM status_lists WHERE id = $1",
                params![list_id],
            )
            .await?
        else {
            return Ok(None);
        };
        let capacity = u32::try_from(list.int(0)?).map_err(|_| Error::Corrupt("capacity"))?;
        let revision = list.int(1)?;
        let rows = tx
            .query(
                "SELECT idx, status FROM credentials WHERE list_id = $1 AND status <> 0",
                params![list_id],
            )
            .await?;
        tx.commit().await?;
        let entries = rows
            .iter()
            .map(|row| {
                let idx = u32::try_from(row.int(0)?).map_err(|_| Error::Corrupt("index"))?;
                let status = CredentialStatus::from_value(row.int(1)?)?.value();
                Ok((idx, status))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Some(ListSnapshot {
            capacity,
            revision,
            entries,
        }))
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, Error> {
        let mut tx = self.db.begin().await?;
        let mut n = tx
            .execute("DELETE FROM nonces WHERE expires_at <= $1", params![now])
            .await?;
        n += tx
            .execute(
                "DELETE FROM access_tokens WHERE expires_at <= $1",
                params![now],
            )
            .await?;
        // An offer goes once its code has expired and no live token refers to it.
        let gone = "SELECT id FROM offers WHERE expires_at <= $1
                    AND id NOT IN (SELECT offer_id FROM access_tokens)";
        n += tx
            .execute(
                &format!("DELETE FROM offer_issuance WHERE offer_id IN ({gone})"),
                params![now],
            )
            .await?;
        n += tx
            .execute(
                &format!("DELETE FROM offers WHERE id IN ({gone})"),
                params![now],
            )
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn log_resolution(
        &self,
        r: &NewResolution,
        entry: &[u8],
        log: &service_kit::translog::TransparencyLog,
    ) -> Result<Option<u64>, Error> {
        let mut tx = self.db.begin().await?;
        let fresh = tx
            .execute(
                "INSERT INTO court_resolutions (jti, order_digest, person_id, case_number, ground,
                     platform_id, judge, received_at, deadline, embargo_until)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (jti) DO NOTHING",
                params![
                    &r.jti,
                    r.order_digest,
                    r.person_id.clone(),
                    &r.case_number,
                    &r.ground,
                    &r.platform_id,
                    &r.judge,
                    r.received_at,
                    r.deadline,
                    r.embargo_until
                ],
            )
            .await?;
        if fresh != 1 {
            return Ok(None);
        }
        let index = log
            .append_in(&mut tx, entry, r.received_at)
            .await
            .map_err(|e| Error::Log(e.to_string()))?;
        tx.execute(
            "UPDATE court_resolutions SET log_index = $2 WHERE jti = $1",
            params![
                &r.jti,
                i64::try_from(index).map_err(|_| Error::Corrupt("log index"))?
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(index))
    }

    async fn resolution_answered(&self, jti: &str, at: i64) -> Result<(), Error> {
        self.db
            .execute(
                "UPDATE court_resolutions SET answered_at = $2 WHERE jti = $1",
                params![jti, at],
            )
            .await?;
        Ok(())
    }

    async fn notices(&self, person_id: &str, now: i64) -> Result<Vec<Notice>, Error> {
        let rows = self
            .db
            .query(
                "SELECT case_number, ground, platform_id, judge, answered_at, log_index
                 FROM court_resolutions
                 WHERE person_id = $1 AND answered_at IS NOT NULL AND log_index IS NOT NULL
                   AND (embargo_until IS NULL OR embargo_until <= $2)
                 ORDER BY received_at, jti",
                params![person_id, now],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Notice {
                    case: row.text(0)?.to_owned(),
                    ground: row.text(1)?.to_owned(),
                    platform: row.text(2)?.to_owned(),
                    judge: row.text(3)?.to_owned(),
                    resolved_at: row.int(4)?,
                    log_index: row.int(5)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod conformance;
