//! SD-JWT (RFC 9901): selective disclosure for JWTs.
//!
//! The life of an SD-JWT, each step a type:
//!
//! ```text
//!  issuer: SdJwtBuilder ──issue──▶ SdJwt (JWT~D1~…~Dn~)
//!  holder: SdJwt ──present(paths)──▶ SdJwt (JWT~Di~…~Dj~) ──bind(KeyBinding)──▶ SdJwt (…~KB-JWT)
//!  verifier: SdJwt::parse ──verify(issuer key, Verification)──▶ VerifiedSdJwt
//! ```
//!
//! The rules this module guarantees:
//!
//! * a [`Disclosure`] keeps the exact base64url text it was received as, because digests are
//!   computed over that text and not over a re-encoding (RFC 9901 §4.2.3);
//! * verification performs every check of RFC 9901 §7.1 and §7.3, each failure a distinct
//!   [`SdJwtError`] variant; decoy digests are ignored;
//! * whether a Key Binding JWT is required is fixed by the caller *before* anything is parsed
//!   ([`KeyBindingPolicy`]), so stripping the KB-JWT from a presentation cannot downgrade it;
//! * the issuer key always comes from the caller, never from the token.

mod compact;
mod disclosure;
mod issue;
mod jws_json;
mod present;
mod process;
mod refusal;
mod verify;

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod vectors;

use crate::jose::JoseError;
use crate::json::JsonError;
use thiserror::Error;

// The public interface is:
pub use compact::SdJwt;
pub use disclosure::{Disclosure, HashAlgorithm};
pub use issue::SdJwtBuilder;
pub use present::KeyBinding;
pub use refusal::{presentation_refusal, unverified_kb_nonce};
pub use verify::{
    DEFAULT_KB_MAX_AGE, DEFAULT_SKEW, KeyBindingPolicy, KeyBindingRequirements, Verification,
    VerifiedSdJwt,
};

/// Size limit for a whole SD-JWT or SD-JWT+KB in compact form (1 MiB).
pub const MAX_SD_JWT_LEN: usize = 1 << 20;

/// Size limit for the issuer-signed JWT (64 KiB).
pub const MAX_ISSUER_JWT_LEN: usize = 64 * 1024;

/// Size limit for a Key Binding JWT (8 KiB: a few claims and transaction data hashes).
pub const MAX_KB_JWT_LEN: usize = 8 * 1024;

/// Most Disclosures accepted in one SD-JWT.
pub const MAX_DISCLOSURES: usize = 1024;

/// Deepest nesting of the processed payload (objects and arrays, including those brought in by
/// recursive Disclosures). Bounds recursion, so a chain of Disclosures cannot exhaust the stack.
pub const MAX_PROCESSED_DEPTH: usize = 64;

/// The `typ` of a Key Binding JWT (RFC 9901 §4.3).
pub const KB_JWT_TYP: &str = "kb+jwt";

/// Why SD-JWT (RFC 9901) input was refused. No variant carries a claim value, a salt, a key or
/// a token.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdJwtError {
    /// The SD-JWT is longer than the limit for its kind.
    #[error("SD-JWT of {len} bytes is over the limit of {limit}")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The limit that applied.
        limit: usize,
    },
    /// The compact form has no `~` separator: it is a bare JWT, not an SD-JWT (RFC 9901 §4).
    #[error("no ~ separator")]
    MissingSeparator,
    /// More Disclosures than [`MAX_DISCLOSURES`].
    #[error("more than {0} disclosures")]
    TooManyDisclosures(usize),
    /// A Disclosure between two `~` separators is empty (RFC 9901 §4 allows no empty part).
    #[error("empty disclosure")]
    EmptyDisclosure,
    /// The JWS JSON Serialization (RFC 9901 §8) is not acceptable JSON.
    #[error("JWS JSON serialization is not acceptable JSON: {0}")]
    JsonSerialization(JsonError),
    /// A member of the JWS JSON Serialization (RFC 7515 §7.2, RFC 9901 §8.1) is missing or of
    /// the wrong type; the name is the member's.
    #[error("JWS JSON serialization member {0} missing or malformed")]
    JsonSerializationMember(&'static str),
    /// Both General (`signatures`) and Flattened (`protected`, `header`, `signature`) members
    /// are present (RFC 7515 §7.2.2 forbids mixing them).
    #[error("JWS JSON serialization mixes the general and flattened syntax")]
    MixedJsonSerialization,
    /// The General JSON Serialization has an empty `signatures` array.
    #[error("JWS JSON serialization has no signature")]
    NoSignature,
    /// `disclosures` or `kb_jwt` is in the unprotected header of a signature other than the
    /// first (RFC 9901 §8.3).
    #[error("disclosures or kb_jwt outside the first unprotected header")]
    MisplacedDisclosures,
    /// A header parameter is in both the protected and the unprotected header (RFC 7515 §7.2.1
    /// requires them disjoint), or `crit` is unprotected (RFC 7515 §4.1.11).
    #[error("header parameter in both the protected and the unprotected header")]
    UnprotectedHeaderConflict,
    /// The issuer-signed JWT is malformed or does not verify.
    #[error("issuer-signed JWT: {0}")]
    IssuerJwt(JoseError),
    /// The issuer-signed JWT's payload is not a JSON object or not acceptable JSON.
    #[error("issuer-signed JWT payload: {0}")]
    InvalidPayload(JsonError),
    /// A Disclosure is not base64url.
    #[error("disclosure is not base64url")]
    DisclosureBase64,
    /// A Disclosure is not acceptable JSON (including not UTF-8, too deep, duplicate names).
    #[error("disclosure is not acceptable JSON: {0}")]
    DisclosureJson(JsonError),
    /// A Disclosure is not a JSON array.
    #[error("disclosure is not a JSON array")]
    DisclosureNotArray,
    /// A Disclosure array has neither 3 (object property) nor 2 (array element) elements.
    #[error("disclosure has {0} elements, not 2 or 3")]
    DisclosureWrongLength(usize),
    /// The salt of a Disclosure is not a string.
    #[error("disclosure salt is not a string")]
    SaltNotString,
    /// The claim name of a Disclosure is not a string.
    #[error("disclosure claim name is not a string")]
    ClaimNameNotString,
    /// A claim name is `_sd` or `...`, which RFC 9901 §4.2.1 reserves.
    #[error("reserved claim name {0}")]
    ReservedClaimName(&'static str),
    /// `_sd_alg` names a hash algorithm we do not support (only `sha-256`), or is not a string.
    #[error("unsupported _sd_alg")]
    UnsupportedHashAlgorithm,
    /// An `_sd` member is not an array of strings.
    #[error("_sd is not an array of digest strings")]
    InvalidSdArray,
    /// An array element `{"...": …}` does not hold a digest string.
    #[error("array element digest is not a string")]
    InvalidArrayDigest,
    /// An array element comes out of processing as an object with the single member `...`
    /// (a disclosed `{"...": …}`, or an object whose only other member was `_sd`): it could not
    /// be told from an undisclosed element. Our issuer never writes `...` (it is reserved); a
    /// verifier refuses the ambiguity rather than pass it on.
    #[error("disclosed array element shaped like a digest placeholder")]
    AmbiguousArrayElement,
    /// `_sd_alg` appears somewhere other than the top level of the payload.
    #[error("_sd_alg below the top level")]
    MisplacedSdAlg,
    /// A digest appears more than once in the payload and the Disclosures (RFC 9901 §7.1 step 4).
    #[error("digest appears more than once")]
    DuplicateDigest,
    /// A Disclosure's digest is not referenced by the payload or another Disclosure
    /// (RFC 9901 §7.1 step 5).
    #[error("disclosure not referenced by any digest")]
    UnreferencedDisclosure,
    /// A disclosed claim name is already present at the same level (RFC 9901 §7.1 step 3.3.2.3).
    #[error("disclosed claim name collides with an existing claim")]
    ClaimNameCollision,
    /// A 2-element (array element) Disclosure is referenced from an `_sd` array.
    #[error("array element disclosure referenced from an _sd array")]
    ArrayElementDisclosureInObject,
    /// A 3-element (object property) Disclosure is referenced from an array element `...`.
    #[error("object property disclosure referenced from an array element")]
    ObjectPropertyDisclosureInArray,
    /// The processed payload nests deeper than [`MAX_PROCESSED_DEPTH`].
    #[error("processed payload nests deeper than {0}")]
    TooDeep(usize),
    /// A time claim (`exp`, `nbf`, `iat`) is present but not an integer NumericDate.
    #[error("{0} is not an integer NumericDate")]
    InvalidTimeClaim(&'static str),
    /// `exp` is in the past (beyond the allowed clock skew).
    #[error("expired")]
    Expired,
    /// `nbf` is in the future (beyond the allowed clock skew).
    #[error("not yet valid")]
    NotYetValid,
    /// Key Binding is required and the presentation carries no KB-JWT (stripping attack,
    /// RFC 9901 §7.3 step 2).
    #[error("key binding required but no KB-JWT")]
    MissingKeyBinding,
    /// The payload has no usable holder key (`cnf.jwk`) to verify the KB-JWT with.
    #[error("no holder key in cnf.jwk")]
    MissingHolderKey,
    /// `cnf.jwk` is present but is not a usable public key (wrong type, off the curve,
    /// private members): refused rather than treated as absent.
    #[error("cnf.jwk is not a valid public key")]
    InvalidHolderKey(JoseError),
    /// The KB-JWT is malformed or its signature does not verify with the `cnf.jwk` key.
    #[error("key binding JWT: {0}")]
    KeyBindingJwt(JoseError),
    /// The KB-JWT's `typ` is not `kb+jwt`.
    #[error("key binding JWT typ is not kb+jwt")]
    KeyBindingType,
    /// The KB-JWT payload is not a JSON object or not acceptable JSON.
    #[error("key binding JWT payload: {0}")]
    KeyBindingPayload(JsonError),
    /// A claim the KB-JWT must have is missing or of the wrong type.
    #[error("key binding JWT claim {0} missing or malformed")]
    KeyBindingClaim(&'static str),
    /// The KB-JWT's `aud` is not the expected audience.
    #[error("key binding JWT aud mismatch")]
    AudienceMismatch,
    /// The KB-JWT's `nonce` is not the expected nonce.
    #[error("key binding JWT nonce mismatch")]
    NonceMismatch,
    /// The KB-JWT's `sd_hash` does not match the presentation as received.
    #[error("key binding JWT sd_hash mismatch")]
    SdHashMismatch,
    /// The KB-JWT's `iat` is in the future (beyond the allowed clock skew).
    #[error("key binding JWT issued in the future")]
    KeyBindingIssuedInFuture,
    /// The KB-JWT's `iat` is older than the allowed maximum age.
    #[error("key binding JWT too old")]
    KeyBindingTooOld,
    /// A path given to the builder or to `present` selects no claim.
    #[error("claims path selects nothing")]
    ClaimNotFound,
    /// A path given to the builder cannot be made selectively disclosable (it names the whole
    /// payload, or a claim the SD-JWT machinery owns such as `_sd_alg` or `cnf`).
    #[error("claim cannot be made selectively disclosable")]
    NotDisclosable,
    /// Deterministic issuance ran out of caller-given salts.
    #[error("not enough salts given")]
    SaltsExhausted,
    /// Signing or the random number generator failed.
    #[error("signing: {0}")]
    Signing(JoseError),
}
