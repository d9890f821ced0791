#![doc = include_str!("../README.md")]

// Private plumbing shared by the formats.
mod b64;
mod error;
mod messages;

// The formats, one public module each, named after the specification they implement.
pub mod claims_path;
pub mod court_order;
pub mod credentials;
pub mod credits;
pub mod crypto;
pub mod dcql;
#[cfg(feature = "escrow")]
pub mod escrow;
pub mod jose;
pub mod json;
pub mod oid4vci;
pub mod oid4vp;
pub mod sd_jwt;
pub mod sd_jwt_vc;
pub mod spec;
pub mod status_list;
pub mod time;
pub mod translog;
pub mod trust_list;

// The public interface is:
pub use crate::error::{
    CourtOrderError, CredentialError, DcqlError, Error, JoseError, JsonError, MessageError, Result,
    SdJwtError, SdJwtVcError, StatusListError, TrustListError,
};
