//! The verifier's one error type, and what each variant answers over HTTP.

use axum::http::StatusCode;
use service_kit::ApiError;

use crate::pipeline::Refusal;

/// What can go wrong in the verifier. Messages name what failed, never a claim value,
/// a handle, a key or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A message or credential format refused.
    #[error(transparent)]
    Format(#[from] credential_formats::Error),
    /// A key file, TLS or another piece of service plumbing.
    #[error(transparent)]
    Service(#[from] service_kit::Error),
    /// The database.
    #[error(transparent)]
    Db(#[from] service_kit::DbError),
    /// Something stored is not what this program wrote.
    #[error("stored data is corrupt: {0}")]
    Corrupt(&'static str),
    /// Configuration that cannot work.
    #[error("configuration: {0}")]
    Config(String),
    /// A request the caller must fix (the message says what).
    #[error("{0}")]
    Invalid(String),
    /// No such thing (or not the caller's: the same answer either way).
    #[error("not found")]
    NotFound,
    /// An API key that is unknown, malformed, revoked or expired.
    #[error("the API key is not valid")]
    Unauthorized,
    /// The check is past its expiry.
    #[error("the check has expired")]
    Expired,
    /// The check was answered already: a response is accepted once.
    #[error("the check was answered already")]
    AlreadyAnswered,
    /// The same-device `response_code` does not match.
    #[error("the response code does not match")]
    WrongResponseCode,
    /// Something the verifier cannot do as configured.
    #[error("{0}")]
    Unavailable(&'static str),
    /// A single-use copy presented before (the check failed).
    #[error("this single-use credential copy was presented before")]
    CopyReused,
    /// An escrow record could not be sealed.
    #[error(transparent)]
    Escrow(#[from] credential_formats::escrow::EscrowError),
    /// An attestation could not be made.
    #[error(transparent)]
    Attestation(#[from] crate::attestation::AttestationError),
    /// A court order was refused.
    #[error("{0}")]
    Order(#[from] credential_formats::court_order::CourtOrderError),
    /// A court order with this `jti` was received before.
    #[error("this court order was received before")]
    OrderReplayed,
    /// The transparency log.
    #[error("transparency log: {0}")]
    Log(String),
    /// The wallet's answer was refused (the check failed).
    #[error("{0}")]
    Refused(#[from] Refusal),
}

macro_rules! via_formats {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error::Format(e.into())
            }
        }
    )*};
}

via_formats!(
    credential_formats::JoseError,
    credential_formats::MessageError,
    credential_formats::DcqlError
);

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        match e {
            Error::Invalid(message) => ApiError::bad_request("invalid_request", message),
            Error::NotFound => ApiError::not_found("no such check"),
            Error::Unauthorized => ApiError::unauthorized(),
            Error::Expired => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "expired: the check has expired",
            ),
            Error::AlreadyAnswered => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "already_answered: the check was answered already",
            ),
            Error::WrongResponseCode => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "response_code: the response code does not match",
            ),
            Error::Unavailable(message) => {
                ApiError::new(StatusCode::CONFLICT, "unavailable", message)
            }
            Error::Order(refusal) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_order",
                format!("{}: {refusal}", refusal.code()),
            ),
            Error::OrderReplayed => ApiError::new(
                StatusCode::CONFLICT,
                "order_replayed",
                "replayed: this court order was received before",
            ),
            Error::CopyReused => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "copy_reused: this single-use credential copy was presented before",
            ),
            Error::Refused(refusal) => ApiError::new(
                StatusCode::BAD_REQUEST,
                refusal.oauth_error().unwrap_or("invalid_request"),
                format!("{}: {refusal}", refusal.code()),
            ),
            other => ApiError::internal(other),
        }
    }
}
