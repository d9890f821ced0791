//! SD-JWT VC (draft-ietf-oauth-sd-jwt-vc-13): the SD-JWT profile every credential of this
//! project uses.
//!
//! * Issuance: [`SdJwtVcBuilder`] requires `iss` and `vct`, always writes `typ: dc+sd-jwt`,
//!   and refuses to make the claims the profile needs in the clear (`iss`, `nbf`, `exp`,
//!   `cnf`, `vct`, `vct#integrity`, `status`, `iat`) selectively disclosable (§3.2.2.2).
//! * Verification: [`verify`] runs the SD-JWT verification of RFC 9901 and then the profile's
//!   checks, giving a [`VerifiedSdJwtVc`] with typed accessors.
//! * Issuer metadata: [`JwtVcIssuerMetadata`], the `/.well-known/jwt-vc-issuer` document
//!   (§4).
//!
//! `typ`: draft-13 §3.2.1 says the issuer MUST use `dc+sd-jwt`, and RECOMMENDS that verifiers
//! accept the earlier `vc+sd-jwt` for a transitional period. We issue `dc+sd-jwt` only; on
//! verification `vc+sd-jwt` is accepted unless [`VcVerification::reject_legacy_typ`] is set.

mod issue;
mod metadata;
mod verify;

#[cfg(test)]
mod tests;

use thiserror::Error;

// The public interface is:
pub use issue::SdJwtVcBuilder;
pub use metadata::{IssuerKeys, JwtVcIssuerMetadata};
pub use verify::{VcVerification, VerifiedSdJwtVc, verify};

/// The `typ` of an SD-JWT VC (draft-13 §3.2.1).
pub const TYP: &str = "dc+sd-jwt";

/// The `typ` used before November 2024, still accepted on verification by default.
pub const LEGACY_TYP: &str = "vc+sd-jwt";

/// Claims that must stay in the clear (draft-13 §3.2.2.2 and our profile).
pub const NON_DISCLOSABLE_CLAIMS: [&str; 8] = [
    "iss",
    "nbf",
    "exp",
    "cnf",
    "vct",
    "vct#integrity",
    "status",
    "iat",
];

/// Why SD-JWT VC (draft-ietf-oauth-sd-jwt-vc-13) input was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdJwtVcError {
    /// A claim the profile requires to be in the clear was asked to be selectively disclosable.
    #[error("claim {0} must not be selectively disclosable")]
    NotDisclosable(&'static str),
    /// `vct` is missing or not a string.
    #[error("vct missing or not a string")]
    MissingVct,
    /// `vct` is not the value the verifier expects.
    #[error("unexpected vct")]
    UnexpectedVct,
    /// `iss` is missing or not a string.
    #[error("iss missing or not a string")]
    MissingIssuer,
    /// `exp` is missing and the verification policy requires it.
    #[error("exp missing")]
    MissingExpiry,
    /// `cnf.jwk` is missing or unusable while key binding is required.
    #[error("cnf.jwk missing while key binding is required")]
    MissingHolderKey,
    /// A claim of the profile has the wrong JSON type (`vct#integrity`, `sub`, `status`).
    #[error("claim {0} is malformed")]
    InvalidClaim(&'static str),
    /// The builder was given a claim the profile sets through its own method.
    #[error("claim {0} is set through its own builder method")]
    ManagedClaim(&'static str),
    /// The issuer metadata document is malformed: `issuer` not an `https` URL, or not exactly
    /// one of `jwks` and `jwks_uri`, or a key not acceptable.
    #[error("invalid issuer metadata: {0}")]
    InvalidMetadata(&'static str),
    /// The issuer metadata's `issuer` is not the credential's `iss`.
    #[error("issuer metadata is for another issuer")]
    MetadataIssuerMismatch,
}
