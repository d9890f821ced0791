//! OpenID for Verifiable Presentations 1.0 (Final) messages, in the HAIP 1.0 profile: a
//! signed Request Object (`x509_hash` client identifier) passed by reference, a DCQL query,
//! and `direct_post` / `direct_post.jwt` responses.
//!
//! | message | clause |
//! |---|---|
//! | [`AuthorizationRequestUri`] | §5, §5.10 |
//! | [`ClientId`] | §5.9 |
//! | [`RequestObject`], [`sign_request_object`], [`verify_request_object`] | §5, §5.8, §5.9.3, §8.2 |
//! | [`TransactionData`] | §5.1, §8.4, Appendix B.3.3 |
//! | [`VerifierInfo`] | §5.1, §5.11 |
//! | [`VpToken`], [`DirectPostBody`], [`ResponseUriResponse`], [`AuthorizationErrorResponse`] | §8 |

mod client_id;
mod request;
mod response;
mod transaction_data;

#[cfg(test)]
mod tests;

pub use crate::messages::Endpoint;
pub use client_id::{ClientId, ClientIdPrefix};
pub use request::{
    AuthorizationRequestUri, ClientMetadata, RequestObject, RequestUriMethod, ResponseMode,
    SdJwtVcFormatParameters, VerifierInfo, sign_request_object, verify_request_object,
    verify_request_object_with_leaf_key,
};
pub use response::{
    AuthorizationErrorCode, AuthorizationErrorResponse, DirectPostBody, ResponseUriResponse,
    VpToken,
};
pub use transaction_data::{TransactionData, check_transaction_data_hashes};

/// The `typ` of a Request Object (RFC 9101 §10.8, OpenID4VP §5).
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";

/// The custom scheme of the static Wallet configuration (§13.1.2).
pub const OPENID4VP_SCHEME: &str = "openid4vp";

/// The `aud` of a Request Object under static discovery (§5.8).
pub const SELF_ISSUED_AUDIENCE: &str = "https://self-issued.me/v2";

/// The hash algorithm `transaction_data_hashes` use by default (Appendix B.3.3.1).
pub const SHA_256: &str = "sha-256";
