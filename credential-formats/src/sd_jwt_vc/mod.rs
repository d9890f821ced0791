//! SD-JWT VC (draft-ietf-oauth-sd-jwt-vc-13).

use thiserror::Error;

/// Why SD-JWT VC (draft-ietf-oauth-sd-jwt-vc-13) input was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdJwtVcError {}
