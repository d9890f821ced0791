#![doc = include_str!("../README.md")]

pub mod account_api;
mod amount;
mod error;
mod ledger;
pub mod local;
mod receipt;
mod schema;
pub mod service;
pub mod spend;
mod store;
mod types;

// The public interface is:
pub use amount::{Amount, Credits, MAX_AMOUNT};
pub use error::Error;
pub use ledger::{Ledger, TopupSummary};
pub use receipt::{RECEIPT_TYP, ReceiptClaims, ReceiptSigner, txn_claim, verify_receipt};
pub use store::{GrantKind, LedgerStore, NewGrant, SqlStore};
pub use types::{
    AccountBalance, AccountRef, Entry, EntryKind, GrantOutcome, InvariantReport, MAX_ID_LEN,
    Receipt, SpendOutcome, SpendRequest, SpendState, TransitionOutcome, entry_hash,
};
