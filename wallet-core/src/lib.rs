#![doc = include_str!("../README.md")]

// Private plumbing.
mod backpack;
mod credits;
mod error;
mod issuance;
mod keys;
mod notices;
mod presentation;
mod store;
mod transport;
mod wallet;

// The public interface is:
pub use crate::backpack::Qualification;
pub use crate::credits::{AccountStatus, CreditsAccount, CreditsEntry, CreditsEntryKind};
pub use crate::error::Error;
pub use crate::issuance::{DEFAULT_COPIES, OfferSession, OfferSummary};
pub use crate::keys::{AliasSigner, KeyStore, SoftwareKeyStore};
pub use crate::notices::CourtNotice;
pub use crate::presentation::{
    CredentialRequestSummary, Outcome, PresentationSession, RequestSummary, SpendSummary,
};
pub use crate::store::{NewCredential, Store, StoredCredential};
pub use crate::transport::{
    DefaultTransport, HttpMethod, HttpRequest, HttpResponse, MAX_RESPONSE, Transport,
};
pub use crate::wallet::{LOW_COPIES, TRUST_REFRESH, Wallet, WalletConfig};
