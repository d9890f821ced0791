//! The issuer's error.

use thiserror::Error;

/// Why an issuer operation failed. Messages name fields and steps, never personal data.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] service_kit::DbError),
    /// Service plumbing (key files, QR codes) failed.
    #[error(transparent)]
    Kit(#[from] service_kit::Error),
    /// A format operation (signing, encoding, a message rule) failed.
    #[error(transparent)]
    Formats(#[from] credential_formats::Error),
    /// The database holds something this program cannot read.
    #[error("stored data is corrupt: {0}")]
    Corrupt(&'static str),
    /// The configuration cannot work.
    #[error("configuration: {0}")]
    Config(String),
    /// An administrative request is invalid.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The thing asked for does not exist.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The request conflicts with the current state (a final status, a profile's limits).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A court order was refused (`spec/escrow-and-court.md`).
    #[error(transparent)]
    Order(#[from] credential_formats::court_order::CourtOrderError),
    /// A court order is not shown to be in the verifier's transparency log.
    #[error("the order is not shown to be in the verifier's log: {0}")]
    NotLogged(&'static str),
    /// A court order's `jti` was seen before.
    #[error("this court order was received before")]
    OrderReplayed,
    /// The register's transparency log failed.
    #[error("transparency log: {0}")]
    Log(String),
    /// A presentation offered as authentication (`GET /register/notices`) was refused; the
    /// reason is for the caller, and names no claim value.
    #[error("invalid presentation: {0}")]
    InvalidPresentation(std::borrow::Cow<'static, str>),
}

macro_rules! via_formats {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::Formats(e.into())
            }
        }
    )*};
}

via_formats!(
    credential_formats::JoseError,
    credential_formats::MessageError,
    credential_formats::SdJwtVcError,
    credential_formats::StatusListError
);

impl From<credential_formats::credentials::CredentialError> for Error {
    fn from(e: credential_formats::credentials::CredentialError) -> Error {
        Error::Invalid(e.to_string())
    }
}
