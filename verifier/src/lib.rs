//! The third-party verifier: platforms ask it whether an account belongs to a verified
//! (adult) person; it asks the citizen's wallet over OpenID4VP 1.0, verifies the
//! presentation, and answers with a signed, pseudonymous attestation.
//!
//! ```text
//!  wallet ──POST response_uri──▶ pipeline::verify_response ──▶ VerifiedResponse
//!                                  (status::StatusSource: the issuer's status list)
//!  verified_person: pseudonym::PseudonymKey ──▶ pseudonym
//!                   escrow::seal(court key, record) ──▶ SealedRecord (stored)
//!  platform ◀── attestation::Attestation::sign ── {iss, aud, sub?, checks, result, …}
//! ```

mod attestation;
mod error;
mod escrow;
mod pipeline;
mod pseudonym;
mod status;

// The public interface is:
pub use attestation::{
    ATTESTATION_TYP, Attestation, AttestationError, Check, DEFAULT_LIFETIME, Outcome,
    VERIFY_LEEWAY, verify as verify_attestation,
};
pub use error::Error;
pub use escrow::{
    EscrowError, EscrowRecord, EscrowSecret, SealedRecord, generate_escrow_key,
    open as open_escrow, seal as seal_escrow,
};
pub use pipeline::{
    Expectation, IatWindow, PresentedCredential, Refusal, VerifiedResponse, verify_response,
};
pub use pseudonym::PseudonymKey;
pub use status::{STATUS_LIST_MEDIA_TYPE, StatusError, StatusLimits, StatusLists, StatusSource};
