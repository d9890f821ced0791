//! Auditing the two court-order transparency logs (the verifier's and the State register's)
//! from data already fetched: the checkpoint is verified with the trust list's log key, the
//! root is recomputed from every entry served, the log is compared with the checkpoint seen
//! at the previous audit (same size → same root, never smaller, larger → a consistency
//! proof), and every opening is reported with its resolution and deadline.
//!
//! ```text
//!   checkpoint ──verify (key, origin)──► size, root ◄──recompute── entries 0..size
//!        │
//!        └── vs state: size₀ = size → root₀ = root   (else split view)
//!                      size₀ > size              (the log shrank)
//!                      size₀ < size → consistency proof(size₀, size)
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use credential_formats::crypto::RustCrypto;
use credential_formats::translog::{
    Checkpoint, Hash, LogKey, TranslogError, leaf_hash, root, verify_consistency,
};
use serde::{Deserialize, Serialize};

use crate::case::{CourtOrderEntry, LogEntry, ResolutionEntry, hours_minutes};
use crate::error::{Error, Result};

/// Why a log fails its audit: each is an integrity failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The trust list names no log with the checkpoint's origin.
    #[error("the trust list names no log with the origin of the checkpoint served")]
    UnknownLog,
    /// The checkpoint's signature or origin does not verify.
    #[error("the checkpoint does not verify with the trust list's log key: {0}")]
    Checkpoint(TranslogError),
    /// The entries served are not entries 0..size.
    #[error("the entries served are not the checkpoint's {expected}: {problem}")]
    Entries {
        /// The checkpoint's size.
        expected: u64,
        /// What is wrong.
        problem: &'static str,
    },
    /// The entries served give another root than the signed one: an entry was altered.
    #[error("root mismatch: the entries served are not those the checkpoint signs")]
    RootMismatch,
    /// Same size as the checkpoint seen before, another root: two views of one log.
    #[error("split view: size {size} was seen before with another root")]
    SplitView {
        /// The size both checkpoints claim.
        size: u64,
    },
    /// Fewer entries than the checkpoint seen before.
    #[error("the log shrank (truncated): {before} entries seen before, {now} now")]
    Shrank {
        /// The size seen before.
        before: u64,
        /// The size now.
        now: u64,
    },
    /// The consistency proof from the size seen before does not verify.
    #[error("the log of {now} entries is not consistent with the {before} seen before: {error}")]
    Inconsistent {
        /// The size seen before.
        before: u64,
        /// The size now.
        now: u64,
        /// Why the proof failed.
        error: TranslogError,
    },
    /// The state file's entry for this log is unreadable.
    #[error("the state file's root for this log is not a base64 hash")]
    BadState,
}

/// What the auditor remembers of a log: the last checkpoint it verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogState {
    /// The tree size.
    pub size: u64,
    /// The root hash, standard base64.
    pub root: String,
    /// The signed checkpoint note, as evidence.
    pub note: String,
}

impl LogState {
    fn root_hash(&self) -> std::result::Result<Hash, AuditError> {
        STANDARD
            .decode(&self.root)
            .ok()
            .and_then(|r| Hash::try_from(r).ok())
            .ok_or(AuditError::BadState)
    }
}

/// The state file: origin → last verified checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditState {
    /// By log origin.
    pub logs: BTreeMap<String, LogState>,
}

impl AuditState {
    /// Reads the state file; a missing file is an empty state (a first audit).
    pub fn load(path: &Path) -> Result<AuditState> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|_| Error::format(path.display().to_string(), "not an audit state file")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AuditState::default()),
            Err(e) => Err(Error::io(path, &e)),
        }
    }

    /// Writes the state file: to a temporary file beside it, then renamed over it, so a
    /// crash leaves the old state or the new one, never half of one.
    pub fn save(&self, path: &Path) -> Result<()> {
        use std::io::Write as _;
        let json = serde_json::to_string_pretty(self)
            .map_err(|_| Error::format("the audit state", "cannot be written"))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state".into());
        let temporary = path.with_file_name(format!(".{name}.tmp"));
        let mut file = std::fs::File::create(&temporary).map_err(|e| Error::io(&temporary, &e))?;
        file.write_all(json.as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(&temporary, &e))?;
        std::fs::rename(&temporary, path).map_err(|e| Error::io(path, &e))
    }

    /// Records `log`'s checkpoint as the last one seen for its origin.
    pub fn remember(&mut self, log: &VerifiedLog) {
        self.logs.insert(
            log.checkpoint.origin.clone(),
            LogState {
                size: log.checkpoint.size,
                root: STANDARD.encode(log.checkpoint.root),
                note: log.note.clone(),
            },
        );
    }
}

/// A log whose checkpoint verifies and whose entries give its root.
#[derive(Debug, Clone)]
pub struct VerifiedLog {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Its signed note.
    pub note: String,
    /// Entries 0..size.
    pub entries: Vec<Vec<u8>>,
}

/// Verifies `note` with `key` and recomputes its root from `entries` (index, entry), which
/// must be exactly entries 0..size in order.
pub fn verify_log(
    key: &LogKey,
    note: &str,
    entries: Vec<(u64, Vec<u8>)>,
) -> std::result::Result<VerifiedLog, AuditError> {
    let checkpoint = key
        .verify_checkpoint(note, &RustCrypto)
        .map_err(AuditError::Checkpoint)?;
    let expected = checkpoint.size;
    if entries.len() as u64 != expected {
        return Err(AuditError::Entries {
            expected,
            problem: "another number of entries",
        });
    }
    let mut leaves = Vec::with_capacity(entries.len());
    let mut kept = Vec::with_capacity(entries.len());
    for (position, (index, entry)) in entries.into_iter().enumerate() {
        if index != position as u64 {
            return Err(AuditError::Entries {
                expected,
                problem: "indices out of order",
            });
        }
        leaves.push(leaf_hash(&entry));
        kept.push(entry);
    }
    if root(&leaves) != checkpoint.root {
        return Err(AuditError::RootMismatch);
    }
    Ok(VerifiedLog {
        checkpoint,
        note: note.to_owned(),
        entries: kept,
    })
}

/// How the log compares with the checkpoint seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "history")]
pub enum History {
    /// No checkpoint of this log was seen before.
    FirstSeen,
    /// The same size and root as before.
    Unchanged,
    /// Grown from `from` entries, consistently.
    Grew {
        /// The size seen before.
        from: u64,
    },
}

/// The sizes a consistency proof is needed for, when the log grew since `previous`
/// (`None`: no proof needed).
pub fn consistency_needed(log: &VerifiedLog, previous: Option<&LogState>) -> Option<(u64, u64)> {
    let previous = previous?;
    (previous.size > 0 && previous.size < log.checkpoint.size)
        .then_some((previous.size, log.checkpoint.size))
}

/// Compares `log` with the checkpoint seen before; `proof` is the consistency proof for the
/// sizes [`consistency_needed`] named.
pub fn check_history(
    log: &VerifiedLog,
    previous: Option<&LogState>,
    proof: Option<&[Hash]>,
) -> std::result::Result<History, AuditError> {
    let Some(previous) = previous else {
        return Ok(History::FirstSeen);
    };
    let before = previous.root_hash()?;
    let now = &log.checkpoint;
    if previous.size == now.size {
        return if before == now.root {
            Ok(History::Unchanged)
        } else {
            Err(AuditError::SplitView { size: now.size })
        };
    }
    if previous.size > now.size {
        return Err(AuditError::Shrank {
            before: previous.size,
            now: now.size,
        });
    }
    // The empty tree is a prefix of every tree: RFC 9162 defines no proof from size 0.
    if previous.size > 0 {
        verify_consistency(
            previous.size,
            now.size,
            &before,
            &now.root,
            proof.unwrap_or_default(),
        )
        .map_err(|error| AuditError::Inconsistent {
            before: previous.size,
            now: now.size,
            error,
        })?;
    }
    Ok(History::Grew {
        from: previous.size,
    })
}

/// Where an opening stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Status {
    /// The register resolved it, `elapsed` seconds after the verifier received the order.
    Resolved {
        /// Seconds from the verifier's reception to the register's.
        elapsed: i64,
    },
    /// Not resolved, and the deadline is further away than the warning window.
    WithinDeadline,
    /// Not resolved, the deadline within the warning window.
    DueSoon,
    /// Not resolved, and the deadline passed.
    Overdue,
}

/// One resolution at the register for an opening.
#[derive(Debug, Clone, Serialize)]
pub struct Resolution {
    /// Its index in the register's log.
    pub index: u64,
    /// When the register received it.
    pub received_at: i64,
    /// Whether the handle named a person.
    pub found: bool,
    /// Seconds since the verifier received the order.
    pub elapsed: i64,
}

/// One order the verifier answered, and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct OpeningReport {
    /// The order's entry index in the verifier's log.
    pub index: u64,
    /// b64url SHA-256 of the order.
    pub order_sha256: String,
    /// When the verifier received it.
    pub received_at: i64,
    /// Its deadline.
    pub deadline: i64,
    /// How many sealed records were returned.
    pub records: u64,
    /// The register's resolutions of it, in log order.
    pub resolutions: Vec<Resolution>,
    /// Where it stands.
    #[serde(flatten)]
    pub status: Status,
    /// Resolved more than 24 h after reception, or unresolved 24 h after it.
    pub over_24h: bool,
    /// Resolved after its deadline.
    pub late: bool,
}

impl OpeningReport {
    /// The status as a person reads it.
    pub fn status_text(&self) -> String {
        let mut text = match self.status {
            Status::Resolved { elapsed } => format!("resolved in {}", hours_minutes(elapsed)),
            Status::WithinDeadline => "within deadline".into(),
            Status::DueSoon => "due soon".into(),
            Status::Overdue => "overdue".into(),
        };
        if self.over_24h {
            text.push_str(", over 24 h");
        }
        if self.late {
            text.push_str(", after the deadline");
        }
        text
    }
}

/// Something in the logs that should not be there; not an integrity failure of a log, but a
/// matter for whoever audits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "anomaly")]
pub enum Anomaly {
    /// A resolution at the register with no order in the verifier's log.
    ResolutionWithoutOrder {
        /// Its index in the register's log.
        index: u64,
        /// The order digest it names.
        order_sha256: String,
    },
    /// A resolution naming another verifier log entry than the one of its order.
    WrongVerifierReference {
        /// Its index in the register's log.
        index: u64,
    },
    /// An entry that is not of the kind its log keeps, or not readable.
    UnreadableEntry {
        /// `verifier` or `register`.
        log: &'static str,
        /// Its index.
        index: u64,
    },
    /// The same order logged twice by the verifier (it must refuse a replay).
    DuplicateOrder {
        /// The later entry's index.
        index: u64,
    },
}

impl std::fmt::Display for Anomaly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Anomaly::ResolutionWithoutOrder {
                index,
                order_sha256,
            } => write!(
                f,
                "register entry {index}: resolution without a logged order ({})",
                short(order_sha256)
            ),
            Anomaly::WrongVerifierReference { index } => write!(
                f,
                "register entry {index}: names another verifier log entry than its order's"
            ),
            Anomaly::UnreadableEntry { log, index } => {
                write!(f, "{log} entry {index}: not an entry this log keeps")
            }
            Anomaly::DuplicateOrder { index } => {
                write!(f, "verifier entry {index}: the same order logged again")
            }
        }
    }
}

/// The first 12 characters of a digest, for reading.
pub fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// Every opening and anomaly.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// One per order in the verifier's log.
    pub openings: Vec<OpeningReport>,
    /// What does not fit.
    pub anomalies: Vec<Anomaly>,
}

impl Report {
    /// Whether any order is overdue.
    pub fn has_overdue(&self) -> bool {
        self.openings.iter().any(|o| o.status == Status::Overdue)
    }
}

/// Matches the verifier's orders (log `verifier_origin`) with the register's resolutions and
/// says where each stands at `now`, warning `warn` seconds before a deadline.
pub fn openings(
    verifier_origin: &str,
    verifier_entries: &[Vec<u8>],
    register_entries: &[Vec<u8>],
    now: i64,
    warn: i64,
) -> Report {
    let mut anomalies = Vec::new();
    let mut orders: Vec<(u64, CourtOrderEntry)> = Vec::new();
    let mut by_digest: BTreeMap<String, usize> = BTreeMap::new();
    for (index, entry) in (0u64..).zip(verifier_entries) {
        match LogEntry::parse(entry) {
            Some(LogEntry::CourtOrder(order)) => {
                if by_digest.contains_key(&order.order_sha256) {
                    anomalies.push(Anomaly::DuplicateOrder { index });
                    continue;
                }
                by_digest.insert(order.order_sha256.clone(), orders.len());
                orders.push((index, order));
            }
            _ => anomalies.push(Anomaly::UnreadableEntry {
                log: "verifier",
                index,
            }),
        }
    }
    let mut resolutions: Vec<Vec<(u64, ResolutionEntry)>> = vec![Vec::new(); orders.len()];
    for (index, entry) in (0u64..).zip(register_entries) {
        let Some(LogEntry::RegisterResolution(resolution)) = LogEntry::parse(entry) else {
            anomalies.push(Anomaly::UnreadableEntry {
                log: "register",
                index,
            });
            continue;
        };
        let Some(&position) = by_digest.get(&resolution.order_sha256) else {
            anomalies.push(Anomaly::ResolutionWithoutOrder {
                index,
                order_sha256: resolution.order_sha256,
            });
            continue;
        };
        if resolution.verifier_log.origin != verifier_origin
            || resolution.verifier_log.index != orders[position].0
        {
            anomalies.push(Anomaly::WrongVerifierReference { index });
        }
        resolutions[position].push((index, resolution));
    }
    let openings = orders
        .into_iter()
        .zip(resolutions)
        .map(|((index, order), resolved)| opening(index, order, resolved, now, warn))
        .collect();
    Report {
        openings,
        anomalies,
    }
}

const DAY: i64 = 86_400;

fn opening(
    index: u64,
    order: CourtOrderEntry,
    resolved: Vec<(u64, ResolutionEntry)>,
    now: i64,
    warn: i64,
) -> OpeningReport {
    let resolutions: Vec<Resolution> = resolved
        .iter()
        .map(|(i, r)| Resolution {
            index: *i,
            received_at: r.received_at,
            found: r.found,
            elapsed: r.received_at - order.received_at,
        })
        .collect();
    let first = resolutions.iter().min_by_key(|r| r.received_at);
    let (status, over_24h, late) = match first {
        Some(r) => (
            Status::Resolved { elapsed: r.elapsed },
            r.elapsed > DAY,
            r.received_at > order.deadline,
        ),
        None => {
            let status = if now >= order.deadline {
                Status::Overdue
            } else if order.deadline - now <= warn {
                Status::DueSoon
            } else {
                Status::WithinDeadline
            };
            (status, now - order.received_at > DAY, false)
        }
    };
    OpeningReport {
        index,
        order_sha256: order.order_sha256,
        received_at: order.received_at,
        deadline: order.deadline,
        records: order.records,
        resolutions,
        status,
        over_24h,
        late,
    }
}

#[cfg(test)]
mod tests;
