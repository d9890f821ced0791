//! The verifier's one error type.

/// What can go wrong in the verifier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A message or credential format refused.
    #[error(transparent)]
    Format(#[from] credential_formats::Error),
    /// The database, a key file or TLS.
    #[error(transparent)]
    Service(#[from] service_kit::Error),
    /// Configuration that cannot work.
    #[error("configuration: {0}")]
    Config(String),
}
