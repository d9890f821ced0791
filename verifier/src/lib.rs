//! The third-party verifier: platforms ask it whether an account belongs to a verified
//! (adult) person; it asks the citizen's wallet over OpenID4VP 1.0, verifies the
//! presentation, and answers with a signed, pseudonymous attestation.

mod error;

// The public interface is:
pub use error::Error;
