//! The versions of the standards this crate implements, as constants so that logs, metadata
//! and the `vc` tool can say exactly what they speak.

/// Selective Disclosure for JWTs.
pub const SD_JWT: &str = "RFC 9901";
/// SD-JWT-based Verifiable Credentials, the draft HAIP 1.0 pins.
pub const SD_JWT_VC: &str = "draft-ietf-oauth-sd-jwt-vc-13";
/// Token Status List, the draft HAIP 1.0 pins.
pub const TOKEN_STATUS_LIST: &str = "draft-ietf-oauth-status-list-14";
/// OpenID for Verifiable Credential Issuance.
pub const OPENID4VCI: &str = "OpenID4VCI 1.0 Final";
/// OpenID for Verifiable Presentations (with DCQL).
pub const OPENID4VP: &str = "OpenID4VP 1.0 Final";
/// OpenID4VC High Assurance Interoperability Profile.
pub const HAIP: &str = "OpenID4VC HAIP 1.0 Final";
