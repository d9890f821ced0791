//! OpenID for Verifiable Credential Issuance 1.0 (Final) messages.
//!
//! Every type decodes through a strict parser ([`crate::json::parse`] for JSON, a strict
//! `application/x-www-form-urlencoded` decoder for form bodies and query strings) and
//! validates the rules of the specification on the way in, so a value of these types is always
//! one the specification allows. Parameter names are the specification's, verbatim.
//!
//! | message | clause |
//! |---|---|
//! | [`CredentialOffer`], [`CredentialOfferUri`] | §4.1 |
//! | [`TokenRequest`], [`TokenResponse`], [`OAuthErrorResponse`] | §6 |
//! | [`NonceResponse`] | §7.2 |
//! | [`CredentialRequest`], [`CredentialResponse`], [`CredentialErrorResponse`] | §8 |
//! | [`CredentialIssuerMetadata`] | §12.2, Appendix A.3 |
//! | [`AuthorizationServerMetadata`] | §12.3, RFC 8414 |
//! | key proof JWT: [`create_proof`], [`verify_proof`] | Appendix F.1, F.4 |

mod metadata;
mod offer;
mod proof;
mod token;

#[cfg(test)]
pub(crate) mod tests;

pub use crate::messages::Endpoint;
pub use metadata::{
    AuthorizationServerMetadata, BackgroundImage, BatchCredentialIssuance, ClaimDescription,
    ClaimDisplay, CredentialConfiguration, CredentialDisplay, CredentialIssuerMetadata,
    CredentialMetadata, CredentialResponseEncryptionMetadata, IssuerDisplay,
    KeyAttestationsRequired, Logo, ProofTypeMetadata,
};
pub use offer::{
    AuthorizationCodeGrant, CredentialOffer, CredentialOfferUri, Grants, InputMode,
    PreAuthorizedCodeGrant, TxCode,
};
pub use proof::{ProofTimePolicy, VerifiedProof, create_proof, verify_proof};
pub use token::{
    AuthorizationDetail, CredentialErrorCode, CredentialErrorResponse, CredentialRequest,
    CredentialRequestTarget, CredentialResponse, CredentialResponseEncryption, IssuedCredential,
    NonceResponse, OAuthErrorResponse, Proofs, TokenErrorCode, TokenRequest, TokenResponse,
};

/// The Grant Type identifier of the Pre-Authorized Code Flow (§4.1.1, §6.1).
pub const PRE_AUTHORIZED_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// The Grant Type identifier of the Authorization Code Flow (RFC 6749 §4.1.3).
pub const AUTHORIZATION_CODE_GRANT: &str = "authorization_code";

/// The custom URI scheme a Credential Offer is sent with when the Wallet's Credential Offer
/// Endpoint is unknown (§12.1).
pub const CREDENTIAL_OFFER_SCHEME: &str = "openid-credential-offer";

/// The Credential Format Identifier of IETF SD-JWT VC (Appendix A.3.1).
pub const FORMAT_DC_SD_JWT: &str = "dc+sd-jwt";

/// The `typ` of a key proof JWT (Appendix F.1).
pub const PROOF_JWT_TYP: &str = "openid4vci-proof+jwt";

/// The well-known path suffix of Credential Issuer Metadata (§12.2.2).
pub const WELL_KNOWN_CREDENTIAL_ISSUER: &str = "/.well-known/openid-credential-issuer";
