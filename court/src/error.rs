//! The crate's one error type. Messages name files, judges (by the name the ceremony gave
//! them) and rules; never a passphrase, a share, a key or a record's content.

use crate::audit::AuditError;
use crate::case::AnswerError;
use credential_formats::CourtOrderError;
use credential_formats::escrow::EscrowError;
use std::fmt;

/// Why a judge's share was set aside during an opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShareProblem {
    /// The share is at x = 0, where a share would be the secret itself.
    AtZero,
    /// Another share given has the same x.
    DuplicateX,
    /// The ceremony record lists no holder at this x, or under another name.
    UnknownHolder,
    /// The share belongs to another escrow key.
    OtherKey,
    /// The passphrase does not open the share file (or the file was altered).
    WrongPassphrase,
    /// The share file's sealed part breaks its format (KDF, AEAD, lengths).
    Unreadable,
    /// The share opened but fails the Feldman check against the public commitments: its
    /// holder gave a share that is not theirs, or it was corrupted.
    Corrupted,
}

impl ShareProblem {
    /// A stable code, for scripts and tests.
    pub fn code(self) -> &'static str {
        match self {
            ShareProblem::AtZero => "share_at_zero",
            ShareProblem::DuplicateX => "duplicate_share",
            ShareProblem::UnknownHolder => "unknown_holder",
            ShareProblem::OtherKey => "other_escrow_key",
            ShareProblem::WrongPassphrase => "wrong_passphrase",
            ShareProblem::Unreadable => "unreadable_share_file",
            ShareProblem::Corrupted => "corrupted_share",
        }
    }
}

impl fmt::Display for ShareProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShareProblem::AtZero => "share at x = 0 refused",
            ShareProblem::DuplicateX => "another share has the same x",
            ShareProblem::UnknownHolder => "the ceremony record has no such holder at this x",
            ShareProblem::OtherKey => "the share belongs to another escrow key",
            ShareProblem::WrongPassphrase => "the passphrase does not open the share file",
            ShareProblem::Unreadable => "the share file breaks its format",
            ShareProblem::Corrupted => "the share fails the Feldman check: corrupted",
        })
    }
}

/// A share set aside, and whose it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The holder named in the share file.
    pub holder: String,
    /// The share's x.
    pub x: u32,
    /// Why.
    pub problem: ShareProblem,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "share of {} (x = {}): {} [{}]",
            self.holder,
            self.x,
            self.problem,
            self.problem.code()
        )
    }
}

/// Everything that can go wrong in the court's tool.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's reason.
        message: String,
    },
    /// A file is not what it should be (format, version, a field out of range).
    #[error("{what}: {reason}")]
    Format {
        /// Which file or input.
        what: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// An argument is out of range.
    #[error("invalid {0}")]
    Invalid(String),
    /// A passphrase does not open a judge's key file.
    #[error("the passphrase does not open the key file of {holder}")]
    WrongPassphrase {
        /// Whose file.
        holder: String,
    },
    /// Fewer than the threshold of shares are good.
    #[error(
        "not enough good shares: {usable} of the {needed} needed{}",
        refusals_suffix(.refused)
    )]
    NotEnoughShares {
        /// The threshold.
        needed: usize,
        /// Good shares given.
        usable: usize,
        /// Shares set aside, each with its holder.
        refused: Vec<Refusal>,
    },
    /// The key rebuilt from verified shares is not the escrow key of the ceremony record.
    #[error("the rebuilt key does not match the escrow public key")]
    KeyMismatch,
    /// A record was sealed to another escrow key (by `kid`).
    #[error("record {index}: sealed to another escrow key")]
    OtherEscrowKey {
        /// Its position in the input (1-based).
        index: usize,
    },
    /// A record does not open, or is not a valid record for the account.
    #[error("record {index}: {source}")]
    Record {
        /// Its position in the input (1-based).
        index: usize,
        /// Why.
        source: EscrowError,
    },
    /// A court order was refused, or could not be made.
    #[error("court order refused: {0} [{code}]", code = .0.code())]
    Order(#[from] CourtOrderError),
    /// A cryptographic operation failed (key generation, signing).
    #[error("cryptography: {0}")]
    Crypto(&'static str),
    /// The operating system's random number generator failed.
    #[error("the system random number generator is unavailable")]
    Random,
    /// A request could not be made or its answer read.
    #[error("{url}: {message}")]
    Http {
        /// Where to.
        url: String,
        /// What failed.
        message: String,
    },
    /// A service refused the request (a 4xx or 5xx answer).
    #[error("{url} refused: {status} {code}{}", description_suffix(.description))]
    Refused {
        /// Where to.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The `error` code of the answer (empty if none).
        code: String,
        /// Its `error_description`.
        description: String,
    },
    /// The verifier's or the register's answer fails a check.
    #[error(transparent)]
    Answer(#[from] AnswerError),
    /// A transparency log fails its audit.
    #[error("log {origin}: {source}")]
    Audit {
        /// The log's origin (or its URL before the checkpoint was read).
        origin: String,
        /// Which check.
        source: AuditError,
    },
}

fn description_suffix(description: &str) -> String {
    if description.is_empty() {
        String::new()
    } else {
        format!(" ({description})")
    }
}

fn refusals_suffix(refused: &[Refusal]) -> String {
    refused.iter().map(|r| format!("; {r}")).collect()
}

impl Error {
    pub(crate) fn io(path: &std::path::Path, error: &std::io::Error) -> Error {
        Error::Io {
            path: path.display().to_string(),
            message: error.to_string(),
        }
    }

    pub(crate) fn format(what: impl Into<String>, reason: &'static str) -> Error {
        Error::Format {
            what: what.into(),
            reason,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
