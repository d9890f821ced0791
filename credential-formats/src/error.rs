//! The crate's one error type, with a nested family per format.
//!
//! Every variant names *what* was wrong, never a claim value, a key or a token: messages are
//! safe to log and to show. Callers match on the family and variant (`Error::SdJwt(SdJwtError::
//! UnreferencedDisclosure)`) and map them to protocol error codes.

use thiserror::Error as ThisError;

pub use crate::court_order::CourtOrderError;
pub use crate::credentials::CredentialError;
pub use crate::dcql::DcqlError;
pub use crate::jose::JoseError;
pub use crate::json::JsonError;
pub use crate::messages::MessageError;
pub use crate::sd_jwt::SdJwtError;
pub use crate::sd_jwt_vc::SdJwtVcError;
pub use crate::status_list::StatusListError;
pub use crate::trust_list::TrustListError;

/// Everything that can go wrong while encoding, decoding or verifying a credential format.
#[derive(Debug, ThisError, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input is not acceptable JSON (syntax, size, depth, duplicate member names).
    #[error("invalid JSON: {0}")]
    Json(#[from] JsonError),
    /// A JOSE object (JWK, JWS, JWE, X.509 chain) is malformed or fails verification.
    #[error("JOSE: {0}")]
    Jose(#[from] JoseError),
    /// An SD-JWT (RFC 9901) is malformed or fails one of the checks of §7.
    #[error("SD-JWT: {0}")]
    SdJwt(#[from] SdJwtError),
    /// An SD-JWT VC (draft-ietf-oauth-sd-jwt-vc-13) breaks a rule of that profile.
    #[error("SD-JWT VC: {0}")]
    SdJwtVc(#[from] SdJwtVcError),
    /// A Token Status List (draft-ietf-oauth-status-list-14) is malformed or out of range.
    #[error("status list: {0}")]
    StatusList(#[from] StatusListError),
    /// The trust list is malformed, or an entity is not trusted for what it does.
    #[error("trust list: {0}")]
    TrustList(#[from] TrustListError),
    /// A DCQL query (OpenID4VP 1.0 §6) is malformed.
    #[error("DCQL: {0}")]
    Dcql(#[from] DcqlError),
    /// A claim set does not fit its credential type's schema.
    #[error("credential: {0}")]
    Credential(#[from] CredentialError),
    /// An OpenID4VCI or OpenID4VP protocol message is malformed.
    #[error("protocol message: {0}")]
    Message(#[from] MessageError),
    /// A court order is malformed, not signed by a judge, or out of its validity.
    #[error("court order: {0}")]
    CourtOrder(#[from] CourtOrderError),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
