//! Shared plumbing of the identity services (issuer, verifier, ledger).
//!
//! ```text
//!  service (axum) ──► db::Db ──► SQLite file (default) | PostgreSQL (postgres:// URL)
//!        │      └──► keys: signing keys and secrets in 0600 files, made on first run
//!        └──► ApiError: {"error", "error_description"}, no-store, details only in the log
//! ```
//!
//! Nothing here knows a protocol: the services own their endpoints and schemas.

mod auth;
pub mod db;
mod error;
pub mod http;
pub mod keys;
pub mod nonce;
pub mod qr;
pub mod telemetry;
pub mod tls;
pub mod translog;

// The public interface is:
pub use auth::{BearerSecret, bearer_token};
pub use db::{Db, DbError};
pub use error::{ApiError, Error};
