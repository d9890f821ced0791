//! The wallet core's error.

use rusqlite::{ErrorCode, ffi};
use thiserror::Error;

/// Why a wallet operation failed.
///
/// Messages say what happened and where, never a claim value, a credential, a key or an id:
/// they may reach logs and crash reports.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The storage key does not open this store (its canary does not decrypt). Nothing was
    /// modified.
    #[error("the storage key does not open this wallet store")]
    WrongKey,
    /// The disk, or the store's page limit, is full (SQLITE_FULL). The operation was rolled
    /// back; what was stored before is intact.
    #[error("the wallet store is full: the operation was rolled back and nothing was saved")]
    Full,
    /// SQLite failed. The message is SQLite's description of the error code, never the
    /// data involved.
    #[error("wallet storage failed: {0}")]
    Storage(String),
    /// The store holds something this code cannot read: a value that does not open (moved
    /// to another row, altered), a malformed record, a damaged file.
    #[error("the wallet store is corrupt: {0}")]
    Corrupt(&'static str),
    /// The store was written by a newer version of the wallet (its schema version is
    /// higher than this code knows).
    #[error("the wallet store has schema version {0}, newer than this wallet understands")]
    TooNew(i64),
    /// The thing to change or delete does not exist.
    #[error("not found in the wallet store")]
    NotFound,
    /// Something is already stored under that name (a key alias is never overwritten).
    #[error("already in the wallet store")]
    AlreadyExists,
    /// The system's random number generator failed.
    #[error("no randomness available")]
    RandomUnavailable,
    /// The network failed: no connection, an untrusted certificate, a timeout, a body too
    /// large. The message names the host, never the path or query (they may carry codes).
    #[error("network: {0}")]
    Transport(String),
    /// A counterparty broke the protocol (a missing endpoint, a redirect, an answer of the
    /// wrong shape).
    #[error("protocol: {0}")]
    Protocol(&'static str),
    /// A message did not pass the formats' checks (signature, structure, validity).
    #[error("invalid message: {0}")]
    Invalid(credential_formats::Error),
    /// The counterparty is not one the trust list lets do this.
    #[error("not trusted: {0}")]
    Untrusted(&'static str),
    /// The counterparty refused, with this OAuth error code (`invalid_grant` for a wrong
    /// transaction code, …).
    #[error("refused by the server: {0}")]
    Refused(String),
    /// Nothing in the wallet answers the presentation request (or the copies ran out). The
    /// verifier was sent `access_denied`, as for a refusal.
    #[error("no stored credential answers the request")]
    NothingToPresent,
    /// A key operation failed.
    #[error("key store: {0}")]
    Crypto(&'static str),
}

impl From<credential_formats::Error> for Error {
    fn from(e: credential_formats::Error) -> Error {
        Error::Invalid(e)
    }
}

macro_rules! invalid {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::Invalid(e.into())
            }
        }
    )*};
}

invalid!(
    credential_formats::MessageError,
    credential_formats::SdJwtError
);

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        match e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::DiskFull => Error::Full,
                ErrorCode::NotADatabase => Error::Corrupt("the file is not a wallet store"),
                ErrorCode::DatabaseCorrupt => Error::Corrupt("the database file is damaged"),
                ErrorCode::ConstraintViolation
                    if f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                        || f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE =>
                {
                    Error::AlreadyExists
                }
                // SQLite's text for the code only: the second field, the statement's own
                // message, can name columns and is not needed by anyone.
                _ => Error::Storage(f.to_string()),
            },
            // Only a column type mismatch can reach here (every statement is ours), which
            // means a row was written by someone else.
            rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => {
                Error::Corrupt("a column has an unexpected type")
            }
            _ => Error::Storage("unexpected answer from SQLite".into()),
        }
    }
}

impl From<credential_formats::JoseError> for Error {
    // The only JOSE error the store can meet is from the random number generator.
    fn from(_: credential_formats::JoseError) -> Error {
        Error::RandomUnavailable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_full_is_full_and_says_what_happened() {
        let e = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some("database or disk is full".into()),
        );
        let e = Error::from(e);
        assert_eq!(e, Error::Full);
        assert!(e.to_string().contains("full"));
        assert!(e.to_string().contains("nothing was saved"));
    }

    #[test]
    fn storage_messages_leave_out_sqlites_statement_message() {
        let e = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some("secret-ish detail".into()),
        );
        let text = Error::from(e).to_string();
        assert!(!text.contains("secret-ish"), "{text}");
        assert!(text.contains("locked"), "{text}");
    }
}
