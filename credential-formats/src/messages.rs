//! The error family shared by the OpenID4VCI and OpenID4VP message types.

use thiserror::Error;

/// Why an OpenID4VCI or OpenID4VP message was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError {}
