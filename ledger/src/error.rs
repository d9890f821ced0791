//! The ledger's one error type.

use service_kit::DbError;
use thiserror::Error;

use crate::SpendState;

/// Why a ledger operation was refused or failed. Messages name the rule, never an account
/// reference or an amount; [`Error::code`] is the stable name the HTTP service will send.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// An amount is not an integer in `1 ..= MAX_AMOUNT`, or is above the authorised price,
    /// or a refund is above what was captured.
    #[error("invalid amount: {0}")]
    InvalidAmount(&'static str),
    /// The account's balance does not cover the debit (nothing was debited).
    #[error("insufficient credits")]
    InsufficientCredits,
    /// The idempotency key (transaction id or grant id) was used before with other
    /// arguments.
    #[error("idempotency key reused with different arguments")]
    Conflict,
    /// No account has this reference.
    #[error("unknown account")]
    UnknownAccount,
    /// The account is closed: no debit, grant or top-up.
    #[error("account closed")]
    AccountClosed,
    /// No spend has this transaction id.
    #[error("unknown transaction")]
    UnknownTransaction,
    /// The spend is not in a state this transition starts from (each transition happens once).
    #[error("illegal transition from {from} to {to}")]
    IllegalTransition {
        /// The spend's state.
        from: SpendState,
        /// The state asked for.
        to: SpendState,
    },
    /// An identifier (account reference, transaction id, grant id, provider, course) is
    /// malformed.
    #[error("invalid identifier: {0}")]
    InvalidIdentifier(&'static str),
    /// A total would pass the ledger's limit (far above any real use; refused, not wrapped).
    #[error("ledger limit exceeded")]
    LimitExceeded,
    /// The database is full (SQLite `SQLITE_FULL`): the operation was rolled back whole.
    #[error("storage full")]
    StorageFull,
    /// The receipt could not be signed.
    #[error("receipt signing failed: {0}")]
    Receipt(#[from] credential_formats::jose::JoseError),
    /// A stored row does not have the shape the ledger writes.
    #[error("corrupt ledger data: {0}")]
    Corrupt(&'static str),
    /// The database failed.
    #[error("storage: {0}")]
    Storage(DbError),
    /// The service's configuration cannot work.
    #[error("configuration: {0}")]
    Config(String),
    /// Service plumbing (key files, TLS) failed.
    #[error(transparent)]
    Kit(service_kit::Error),
}

impl From<service_kit::Error> for Error {
    fn from(e: service_kit::Error) -> Error {
        match e {
            service_kit::Error::Db(db) => Error::from(db),
            other => Error::Kit(other),
        }
    }
}

impl Error {
    /// The stable, machine-readable name of the error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidAmount(_) => "invalid_amount",
            Error::InsufficientCredits => "insufficient_credits",
            Error::Conflict => "conflict",
            Error::UnknownAccount => "unknown_account",
            Error::AccountClosed => "account_closed",
            Error::UnknownTransaction => "unknown_transaction",
            Error::IllegalTransition { .. } => "illegal_transition",
            Error::InvalidIdentifier(_) => "invalid_identifier",
            Error::LimitExceeded => "limit_exceeded",
            Error::StorageFull => "storage_full",
            Error::Receipt(_) => "receipt_failed",
            Error::Corrupt(_) => "corrupt",
            Error::Storage(_) => "storage_error",
            Error::Config(_) => "configuration",
            Error::Kit(_) => "service_error",
        }
    }
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Error {
        // service-kit keeps rusqlite's error whole, so SQLITE_FULL (also raised by
        // `PRAGMA max_page_count`) is recognised by its primary code.
        if let DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) = &e
            && f.code == rusqlite::ErrorCode::DiskFull
        {
            return Error::StorageFull;
        }
        Error::Storage(e)
    }
}
