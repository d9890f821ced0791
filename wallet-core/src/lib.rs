#![doc = include_str!("../README.md")]

// Private plumbing.
mod error;
mod store;

// The public interface is:
pub use crate::error::Error;
pub use crate::store::{NewCredential, Store, StoredCredential};
