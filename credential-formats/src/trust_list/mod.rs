//! the trust list.

use thiserror::Error;

/// Why the trust list input was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustListError {}
