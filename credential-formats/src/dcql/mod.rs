//! DCQL (OpenID4VP 1.0 §6).

use thiserror::Error;

/// Why DCQL (OpenID4VP 1.0 §6) input was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DcqlError {}
