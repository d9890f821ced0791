//! The State issuer: the person register, OpenID4VCI 1.0 issuance of SD-JWT VC credentials,
//! Token Status Lists, the trust list, and — run with a provider's key — the issuance of
//! qualifications by an accredited training provider.
//!
//! ```text
//!  admin ──POST /admin/persons──► register (persons: PID attributes, person_handle)
//!        ──POST /admin/offers───► offer: pre-authorized code + tx_code ──QR──► citizen
//!  wallet ─GET /credential-offer/{id} → POST /token (tx_code) → POST /nonce
//!         ─POST /credential (proofs.jwt × n) ──► n SD-JWT VCs, each with its own holder
//!          key, salts and random status index; the issuer keeps none of them
//!  anyone ─GET /status/{list} (statuslist+jwt) · /.well-known/* · /trust-list
//! ```
//!
//! [`app`] builds the router over an [`AppState`]; [`serve`] runs it from a [`Config`].

mod config;
pub mod court;
mod error;
pub mod issuance;
mod local;
pub mod notices;
pub mod register;
mod routes;
mod schema;
mod service;
pub mod store;
pub mod trust;

// The public interface is:
pub use config::{Config, Opened, admin_token_from_dir, open, open_with_clock, run, serve};
pub use error::Error;
pub use local::LocalIssuer;
pub use routes::{AppState, MAX_BODY, app};
pub use service::{
    CreatedOffer, Enrolled, Issuer, Keys, OfferRequest, PublishedTrustList, Settings, Validity,
};
