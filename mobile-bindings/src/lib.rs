#![doc = include_str!("../README.md")]

uniffi::setup_scaffolding!();

// Private plumbing.
mod error;
mod platform;
mod sessions;
mod views;
mod wallet;

// The public interface is:
pub use crate::error::WalletError;
pub use crate::platform::{
    HttpHeader, HttpMethod, HttpRequest, HttpResponse, KeyStore, StorageKeyProvider, Transport,
};
pub use crate::sessions::{CredentialOffer, PresentationRequest};
pub use crate::views::{
    ClaimView, CourtNotice, CredentialQuerySummary, CredentialSummary, CreditsAccount,
    CreditsEntry, CreditsEntryKind, Labels, LogEntry, OfferSummary, OfferedCredential,
    PresentationOutcome, Qualification, RequestSummary, SpendSummary, TxCodeInfo,
};
pub use crate::wallet::{Wallet, WalletSettings};
