//! The answers of the verifier (`POST /court/orders`) and of the State register
//! (`POST /register/resolve`) to a court order, and their verification before the court
//! trusts them: each answer must be what its party's transparency log says was returned,
//! and that log entry must be in a checkpoint signed by the key the trust list names.
//!
//! ```text
//!   order ──► verifier answer: records + log {entry, index, checkpoint, inclusion proof}
//!                 │ entry = {court_order, order digest, records n, SHA-256 of the records}
//!                 ▼
//!   order + handle + verifier log ──► register answer: person + log {…}
//!                 entry = {register_resolution, order digest, verifier log ref, SHA-256 of person}
//! ```
//!
//! Nothing here does I/O: the tool fetches, this module checks.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use credential_formats::court_order::CourtOrder;
use credential_formats::crypto::RustCrypto;
use credential_formats::time::UnixTime;
use credential_formats::translog::{
    Checkpoint, Hash, LogKey, TranslogError, leaf_hash, verify_inclusion,
};
use credential_formats::trust_list::{Role, TrustList};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Whose answer or log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Party {
    /// The verifier that sealed the records.
    Verifier,
    /// The State register that resolves person handles.
    Register,
}

impl Party {
    /// The role an entity must hold to speak for this party: the register is the State's
    /// PID issuer.
    fn role(self) -> Role {
        match self {
            Party::Verifier => Role::Verifier,
            Party::Register => Role::PidIssuer,
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Party::Verifier => "the verifier",
            Party::Register => "the register",
        })
    }
}

/// Which check an answer failed. Messages name the check, never a record or an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnswerCheck {
    /// The answer is not the JSON the wire format fixes.
    Malformed(&'static str),
    /// The log entry is not JSON of the expected shape.
    EntryMalformed,
    /// The log entry is of another type than this answer's.
    WrongEntryType,
    /// The log entry records another order.
    OtherOrder,
    /// The log entry does not commit to what the answer returns.
    EntryMismatch(&'static str),
    /// The answer is for another account, handle or verifier log entry than asked.
    NotAsked(&'static str),
    /// The trust list names no log of this party with the checkpoint's origin.
    UnknownLog,
    /// The checkpoint does not verify with the trust list's log key.
    Checkpoint(TranslogError),
    /// The answer's tree size is not the checkpoint's.
    TreeSize,
    /// The inclusion proof does not lead from the entry to the checkpoint's root.
    NotIncluded,
}

impl fmt::Display for AnswerCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerCheck::Malformed(what) => write!(f, "is malformed: {what}"),
            AnswerCheck::EntryMalformed => f.write_str("has a log entry that cannot be read"),
            AnswerCheck::WrongEntryType => f.write_str("has a log entry of another type"),
            AnswerCheck::OtherOrder => {
                f.write_str("has a log entry of another order (its order digest differs)")
            }
            AnswerCheck::EntryMismatch(what) => {
                write!(f, "does not match its log entry: {what}")
            }
            AnswerCheck::NotAsked(what) => write!(f, "is not for what was asked: {what}"),
            AnswerCheck::UnknownLog => f.write_str(
                "names a log the trust list does not list for it (checkpoint origin unknown)",
            ),
            AnswerCheck::Checkpoint(TranslogError::WrongOrigin) => {
                f.write_str("has a checkpoint of another log (origin differs)")
            }
            AnswerCheck::Checkpoint(e) => write!(
                f,
                "has a checkpoint that does not verify with the log key of the trust list: {e}"
            ),
            AnswerCheck::TreeSize => f.write_str("claims a tree size other than its checkpoint's"),
            AnswerCheck::NotIncluded => f.write_str(
                "is not in its log: inclusion proof does not match the signed checkpoint",
            ),
        }
    }
}

/// An answer that fails a check: whose, and which check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{party}'s answer {check}")]
pub struct AnswerError {
    /// Whose answer.
    pub party: Party,
    /// Which check.
    pub check: AnswerCheck,
}

fn refuse(party: Party) -> impl Fn(AnswerCheck) -> AnswerError {
    move |check| AnswerError { party, check }
}

/// The `log` member of an answer: the entry, where it is, and the proof that it is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogProof {
    /// The entry's index in the log.
    pub index: u64,
    /// The entry as logged.
    pub entry: Vec<u8>,
    /// The checkpoint's tree size.
    pub tree_size: u64,
    /// The C2SP signed note of the checkpoint.
    pub checkpoint: String,
    /// The entry's inclusion proof in the checkpoint's tree.
    pub inclusion_proof: Vec<Hash>,
}

#[derive(Deserialize)]
struct RawLogProof {
    index: u64,
    entry: String,
    tree_size: u64,
    checkpoint: String,
    inclusion_proof: Vec<String>,
}

impl LogProof {
    /// Reads the `log` member of an answer.
    pub fn from_json(value: &Value) -> Result<LogProof, &'static str> {
        let raw = RawLogProof::deserialize(value).map_err(|_| "the log member")?;
        let entry = STANDARD
            .decode(&raw.entry)
            .map_err(|_| "the log entry's base64")?;
        let inclusion_proof = raw
            .inclusion_proof
            .iter()
            .map(|h| STANDARD.decode(h).ok().and_then(|h| Hash::try_from(h).ok()))
            .collect::<Option<Vec<Hash>>>()
            .ok_or("an inclusion proof hash")?;
        Ok(LogProof {
            index: raw.index,
            entry,
            tree_size: raw.tree_size,
            checkpoint: raw.checkpoint,
            inclusion_proof,
        })
    }

    /// The origin line of the checkpoint, read without verifying it (to choose the key).
    pub fn claimed_origin(&self) -> &str {
        checkpoint_origin(&self.checkpoint)
    }

    /// Verifies the checkpoint with `key`, the tree size, and the entry's inclusion.
    fn verify(&self, key: &LogKey) -> Result<Checkpoint, AnswerCheck> {
        let checkpoint = key
            .verify_checkpoint(&self.checkpoint, &RustCrypto)
            .map_err(AnswerCheck::Checkpoint)?;
        if checkpoint.size != self.tree_size {
            return Err(AnswerCheck::TreeSize);
        }
        verify_inclusion(
            self.index,
            checkpoint.size,
            &leaf_hash(&self.entry),
            &self.inclusion_proof,
            &checkpoint.root,
        )
        .map_err(|_| AnswerCheck::NotIncluded)?;
        Ok(checkpoint)
    }
}

/// The first line of a checkpoint note: its log's origin (unverified).
pub fn checkpoint_origin(note: &str) -> &str {
    note.split('\n').next().unwrap_or_default()
}

/// The log key of `party` for a checkpoint whose origin is `origin`: the entity `id` if
/// given, else the entity of the party's role whose log has that origin. The entity must be
/// valid at `now`.
pub fn log_key<'a>(
    list: &'a TrustList,
    party: Party,
    origin: &str,
    id: Option<&str>,
    now: UnixTime,
) -> Option<&'a LogKey> {
    list.entities()
        .iter()
        .filter(|e| id.is_none_or(|id| e.id() == id))
        .filter(|e| e.has_role(party.role()))
        .filter(|e| e.check_valid_at(now).is_ok())
        .filter_map(|e| e.transparency_log())
        .find(|log| log.origin() == origin)
}

/// SHA-256 over the sealed records, each followed by a newline: the verifier's
/// `returned_sha256`.
pub fn records_commitment<'a>(sealed: impl IntoIterator<Item = &'a str>) -> [u8; 32] {
    let mut hash = Sha256::new();
    for record in sealed {
        hash.update(record.as_bytes());
        hash.update(b"\n");
    }
    hash.finalize().into()
}

/// One sealed record of the verifier's answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AnswerRecord {
    /// The record's id at the verifier.
    pub id: String,
    /// The check that made it.
    pub check_id: String,
    /// When it was made.
    pub created_at: i64,
    /// The sealed record (`v1.<kid>.<enc>.<ciphertext>`), what `court open` reads.
    pub sealed: String,
}

#[derive(Deserialize)]
struct RawVerifierAnswer {
    platform: String,
    pseudonym: String,
    records: Vec<AnswerRecord>,
    log: Value,
    received_at: i64,
    answered_at: i64,
    deadline: i64,
}

/// The verifier's log entry for an order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CourtOrderEntry {
    /// b64url SHA-256 of the compact order.
    pub order_sha256: String,
    /// When the verifier received the order.
    pub received_at: i64,
    /// The order's deadline.
    pub deadline: i64,
    /// How many records were returned.
    pub records: u64,
    /// b64url of [`records_commitment`] over them.
    pub returned_sha256: String,
}

/// Where the register's entry says the order was logged at the verifier.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct VerifierLogRef {
    /// The verifier log's origin.
    pub origin: String,
    /// The order's entry index there.
    pub index: u64,
    /// The tree size of the checkpoint the court showed.
    pub tree_size: u64,
}

/// The register's log entry for a resolution.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ResolutionEntry {
    /// b64url SHA-256 of the compact order.
    pub order_sha256: String,
    /// The order's entry in the verifier's log.
    pub verifier_log: VerifierLogRef,
    /// When the register received the request.
    pub received_at: i64,
    /// The order's deadline.
    pub deadline: i64,
    /// Whether the handle named a person.
    pub found: bool,
    /// b64url SHA-256 of the canonical JSON of the person returned (`null` when not found).
    pub returned_sha256: String,
}

/// A transparency log entry of either kind, by its `type`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogEntry {
    /// The verifier answered an order.
    CourtOrder(CourtOrderEntry),
    /// The register resolved a handle.
    RegisterResolution(ResolutionEntry),
}

impl LogEntry {
    /// Reads a log entry; `None` when it is not one of these.
    pub fn parse(entry: &[u8]) -> Option<LogEntry> {
        serde_json::from_slice(entry).ok()
    }
}

/// The verifier's answer, checked: records that are what the verifier logged for this order.
#[derive(Debug, Clone)]
pub struct VerifiedVerifierAnswer {
    /// The records, in the answer's order.
    pub records: Vec<AnswerRecord>,
    /// The log entry.
    pub entry: CourtOrderEntry,
    /// The `log` member as received (what the register is sent).
    pub log_json: Value,
    /// The entry, index and proof.
    pub log: LogProof,
    /// The verified checkpoint.
    pub checkpoint: Checkpoint,
    /// When the verifier received the order.
    pub received_at: i64,
    /// When it answered.
    pub answered_at: i64,
    /// The order's deadline.
    pub deadline: i64,
}

/// Verifies the verifier's answer `body` to `order`, with the log key the trust list names
/// for the checkpoint's origin (or for the entity `verifier_id`).
pub fn verify_verifier_answer(
    order: &CourtOrder,
    body: &[u8],
    list: &TrustList,
    verifier_id: Option<&str>,
    now: UnixTime,
) -> Result<VerifiedVerifierAnswer, AnswerError> {
    let no = refuse(Party::Verifier);
    let raw: RawVerifierAnswer = serde_json::from_slice(body)
        .map_err(|_| no(AnswerCheck::Malformed("not the JSON of an order's answer")))?;
    let log = LogProof::from_json(&raw.log).map_err(|w| no(AnswerCheck::Malformed(w)))?;
    if raw.platform != order.platform() || raw.pseudonym != order.pseudonym() {
        return Err(no(AnswerCheck::NotAsked(
            "another account than the order's",
        )));
    }
    let entry = match LogEntry::parse(&log.entry) {
        Some(LogEntry::CourtOrder(entry)) => entry,
        Some(_) => return Err(no(AnswerCheck::WrongEntryType)),
        None if entry_type(&log.entry).is_some_and(|t| t != "court_order") => {
            return Err(no(AnswerCheck::WrongEntryType));
        }
        None => return Err(no(AnswerCheck::EntryMalformed)),
    };
    if entry.order_sha256 != URL_SAFE_NO_PAD.encode(order.digest()) {
        return Err(no(AnswerCheck::OtherOrder));
    }
    let commitment = records_commitment(raw.records.iter().map(|r| r.sealed.as_str()));
    if entry.returned_sha256 != URL_SAFE_NO_PAD.encode(commitment) {
        return Err(no(AnswerCheck::EntryMismatch(
            "the records returned are not those the entry commits to",
        )));
    }
    if entry.records != raw.records.len() as u64 {
        return Err(no(AnswerCheck::EntryMismatch(
            "the entry counts another number of records",
        )));
    }
    if entry.received_at != raw.received_at || entry.deadline != raw.deadline {
        return Err(no(AnswerCheck::EntryMismatch(
            "the reception time or deadline differs",
        )));
    }
    if entry.deadline != order.deadline() {
        return Err(no(AnswerCheck::EntryMismatch(
            "the entry's deadline is not the order's",
        )));
    }
    let key = log_key(
        list,
        Party::Verifier,
        log.claimed_origin(),
        verifier_id,
        now,
    )
    .ok_or_else(|| no(AnswerCheck::UnknownLog))?;
    let checkpoint = log.verify(key).map_err(&no)?;
    Ok(VerifiedVerifierAnswer {
        records: raw.records,
        entry,
        log_json: raw.log,
        log,
        checkpoint,
        received_at: raw.received_at,
        answered_at: raw.answered_at,
        deadline: raw.deadline,
    })
}

fn entry_type(entry: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(entry).ok()?;
    value.get("type")?.as_str().map(str::to_owned)
}

#[derive(Deserialize)]
struct RawRegisterAnswer {
    person_handle: String,
    person: Value,
    log: Value,
    received_at: i64,
    answered_at: i64,
    deadline: i64,
}

/// The register's answer, checked.
#[derive(Debug, Clone)]
pub struct VerifiedRegisterAnswer {
    /// The person's attributes.
    pub person: Value,
    /// The log entry.
    pub entry: ResolutionEntry,
    /// The entry, index and proof.
    pub log: LogProof,
    /// The verified checkpoint.
    pub checkpoint: Checkpoint,
    /// When the register received the request.
    pub received_at: i64,
    /// When it answered.
    pub answered_at: i64,
    /// The order's deadline.
    pub deadline: i64,
}

/// `returned_sha256` over `person` as the register computes it: SHA-256 of its canonical
/// JSON text (members sorted at every depth, no white space), so the digest does not depend
/// on the order the members came in.
fn person_commitment(person: &Value) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(credential_formats::json::canonical(person)))
}

/// Verifies the register's answer `body` to `order` for `handle`, given the verifier's
/// verified answer the court sent along, with the register's log key from the trust list
/// (by the checkpoint's origin, or the entity `register_id`).
pub fn verify_register_answer(
    order: &CourtOrder,
    handle: &str,
    verifier: &VerifiedVerifierAnswer,
    body: &[u8],
    list: &TrustList,
    register_id: Option<&str>,
    now: UnixTime,
) -> Result<VerifiedRegisterAnswer, AnswerError> {
    let no = refuse(Party::Register);
    let raw: RawRegisterAnswer = serde_json::from_slice(body)
        .map_err(|_| no(AnswerCheck::Malformed("not the JSON of a resolution")))?;
    let log = LogProof::from_json(&raw.log).map_err(|w| no(AnswerCheck::Malformed(w)))?;
    if raw.person_handle != handle {
        return Err(no(AnswerCheck::NotAsked("another person handle")));
    }
    let entry = match LogEntry::parse(&log.entry) {
        Some(LogEntry::RegisterResolution(entry)) => entry,
        Some(_) => return Err(no(AnswerCheck::WrongEntryType)),
        None if entry_type(&log.entry).is_some_and(|t| t != "register_resolution") => {
            return Err(no(AnswerCheck::WrongEntryType));
        }
        None => return Err(no(AnswerCheck::EntryMalformed)),
    };
    if entry.order_sha256 != URL_SAFE_NO_PAD.encode(order.digest()) {
        return Err(no(AnswerCheck::OtherOrder));
    }
    if !entry.found || raw.person.is_null() {
        return Err(no(AnswerCheck::EntryMismatch(
            "a person returned for a resolution not logged as found",
        )));
    }
    if person_commitment(&raw.person) != entry.returned_sha256 {
        return Err(no(AnswerCheck::EntryMismatch(
            "the person returned is not the one the entry commits to",
        )));
    }
    let expected = VerifierLogRef {
        origin: verifier.checkpoint.origin.clone(),
        index: verifier.log.index,
        tree_size: verifier.log.tree_size,
    };
    if entry.verifier_log != expected {
        return Err(no(AnswerCheck::NotAsked(
            "another verifier log entry than the court's order",
        )));
    }
    if entry.received_at != raw.received_at || entry.deadline != raw.deadline {
        return Err(no(AnswerCheck::EntryMismatch(
            "the reception time or deadline differs",
        )));
    }
    if entry.deadline != order.deadline() {
        return Err(no(AnswerCheck::EntryMismatch(
            "the entry's deadline is not the order's",
        )));
    }
    let key = log_key(
        list,
        Party::Register,
        log.claimed_origin(),
        register_id,
        now,
    )
    .ok_or_else(|| no(AnswerCheck::UnknownLog))?;
    let checkpoint = log.verify(key).map_err(&no)?;
    Ok(VerifiedRegisterAnswer {
        person: raw.person,
        entry,
        log,
        checkpoint,
        received_at: raw.received_at,
        answered_at: raw.answered_at,
        deadline: raw.deadline,
    })
}

/// A case number made safe as a directory name: ASCII letters, digits, `.`, `_` and `-`
/// kept, anything else `_`; never `.` or `..` alone.
pub fn case_dir_name(case: &str) -> String {
    let name: String = case
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("case-{name}")
}

/// A duration in seconds as `H h M min` (negative: `-H h M min`).
pub fn hours_minutes(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    format!("{sign}{} h {} min", s / 3600, (s % 3600) / 60)
}

#[cfg(test)]
pub(crate) mod tests;
