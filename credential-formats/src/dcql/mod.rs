//! DCQL (OpenID4VP 1.0 §6).

use thiserror::Error;

/// Why a DCQL query was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DcqlError {
    /// A claims path pointer (OpenID4VP 1.0 §7) is malformed.
    #[error("invalid claims path: {0}")]
    InvalidClaimsPath(&'static str),
}
