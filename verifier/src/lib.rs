//! The third-party verifier: platforms ask it whether an account belongs to a verified
//! (adult) person; it asks the citizen's wallet over OpenID4VP 1.0, verifies the
//! presentation, and answers with a signed, pseudonymous attestation.
//!
//! ```text
//!  platform ─POST /v1/checks (API key)──► check: nonce, state, expiry ──► wallet link + QR
//!  wallet ───GET /wallet/requests/{id}──► signed request object (x509_hash, DCQL,
//!                                         direct_post.jwt key, verifier_info: platform)
//!         ──POST /wallet/responses/{id}─► pipeline: decrypt, SD-JWT VC + KB-JWT, status,
//!                                         DCQL ──► pseudonym = HMAC(K_ps, platform ‖ handle)
//!                                         ──► escrow record sealed to the court (HPKE)
//!                                         ──► attestation JWT; settled once, in one transaction
//!  platform ─GET /v1/checks/{id}─────────► status + attestation (or a signed webhook)
//! ```
//!
//! [`app`] builds the router over an [`AppState`]; [`serve`] runs it from a [`Config`].

pub mod attestation;
mod config;
pub mod court;
mod error;
mod local;
pub mod pipeline;
pub mod pseudonym;
mod routes;
mod schema;
mod service;
pub mod status;
pub mod store;
pub mod webhook;

// The escrow record format lives with the formats the court shares.
pub use credential_formats::escrow;

// The public interface is:
pub use config::{
    Config, Opened, admin_token_from_dir, load_or_make_request_chain, open, open_with_clock, run,
    serve,
};
pub use error::Error;
pub use local::{DEV_JUDGE_ID, LocalOptions, LocalVerifier, dev_entities};
pub use routes::{ApiDoc, AppState, Limiters, MAX_BODY, RateLimits, app};
pub use service::{
    CheckRequest, CheckView, CreatedCheck, IssuedKey, Keys, Settings, Verifier, WalletAnswer,
    dcql_query,
};
