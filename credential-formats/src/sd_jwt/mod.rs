//! SD-JWT (RFC 9901).

use thiserror::Error;

/// Why SD-JWT (RFC 9901) input was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdJwtError {}
