//! Token Status List (draft-ietf-oauth-status-list-14).

use thiserror::Error;

/// Why Token Status List (draft-ietf-oauth-status-list-14) input was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusListError {}
