//! The ledger's vocabulary: account references, spend states, history entries, requests and
//! outcomes.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use crate::{Amount, Credits, Error};

/// A training account's reference: 128 random bits, base64url (22 characters). The ledger
/// knows accounts by this reference only, never by an identity.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountRef(String);

impl AccountRef {
    /// A fresh random reference.
    pub fn generate() -> Result<AccountRef, Error> {
        Ok(AccountRef(credential_formats::crypto::random_token(16)?))
    }

    /// Parses a reference: exactly 22 base64url characters encoding 16 bytes.
    pub fn parse(text: &str) -> Result<AccountRef, Error> {
        match URL_SAFE_NO_PAD.decode(text) {
            Ok(bytes) if bytes.len() == 16 && text.len() == 22 => Ok(AccountRef(text.to_owned())),
            _ => Err(Error::InvalidIdentifier("account reference")),
        }
    }

    /// The reference as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountRef({})", self.0)
    }
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest identifier (transaction id, grant id, provider, course) the ledger keeps.
pub const MAX_ID_LEN: usize = 256;

/// Checks an identifier: 1 ..= [`MAX_ID_LEN`] bytes of printable ASCII without spaces, so it
/// reads unambiguously in logs, receipts and the history.
pub(crate) fn check_id(text: &str, what: &'static str) -> Result<(), Error> {
    if text.is_empty() || text.len() > MAX_ID_LEN || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::InvalidIdentifier(what));
    }
    Ok(())
}

/// The life of a spend: captured when debited; then at most one of refunded or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpendState {
    /// Debited; the receipt was issued.
    Captured,
    /// Part or all of the amount was given back (once).
    Refunded,
    /// The whole amount was given back (once).
    Cancelled,
}

impl SpendState {
    /// The name stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            SpendState::Captured => "captured",
            SpendState::Refunded => "refunded",
            SpendState::Cancelled => "cancelled",
        }
    }

    pub(crate) fn from_name(name: &str) -> Result<SpendState, Error> {
        match name {
            "captured" => Ok(SpendState::Captured),
            "refunded" => Ok(SpendState::Refunded),
            "cancelled" => Ok(SpendState::Cancelled),
            _ => Err(Error::Corrupt("spend state")),
        }
    }
}

impl fmt::Display for SpendState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A one-off grant (`ref` = grant id).
    Grant,
    /// A yearly top-up (`ref` = `topup/<account>/<year>`), possibly of 0 credits.
    Topup,
    /// A debit (`ref` = transaction id).
    Spend,
    /// A partial or full refund of a debit (`ref` = transaction id).
    Refund,
    /// A cancelled debit, given back whole (`ref` = transaction id).
    Cancel,
}

impl EntryKind {
    /// The name stored and hashed.
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Grant => "grant",
            EntryKind::Topup => "topup",
            EntryKind::Spend => "spend",
            EntryKind::Refund => "refund",
            EntryKind::Cancel => "cancel",
        }
    }

    pub(crate) fn from_name(name: &str) -> Result<EntryKind, Error> {
        match name {
            "grant" => Ok(EntryKind::Grant),
            "topup" => Ok(EntryKind::Topup),
            "spend" => Ok(EntryKind::Spend),
            "refund" => Ok(EntryKind::Refund),
            "cancel" => Ok(EntryKind::Cancel),
            _ => Err(Error::Corrupt("entry kind")),
        }
    }
}

/// One line of an account's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1, 2, 3, … per account.
    pub seq: u64,
    /// What happened.
    pub kind: EntryKind,
    /// How many credits moved (0 only for a top-up that found the balance at its cap).
    pub amount: Credits,
    /// The grant id or transaction id.
    pub reference: String,
    /// When.
    pub created_at: i64,
    /// The previous entry's hash (32 zero bytes for the first).
    pub prev_hash: [u8; 32],
    /// This entry's hash (see [`entry_hash`]).
    pub hash: [u8; 32],
}

/// The hash of a history entry: SHA-256 over a domain tag, the previous hash and the
/// entry's fields, each length-prefixed so no two entries encode alike.
pub fn entry_hash(
    prev_hash: &[u8; 32],
    account: &str,
    seq: u64,
    kind: EntryKind,
    amount: Credits,
    reference: &str,
    created_at: i64,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"credits-ledger-entry-v1\0");
    h.update(prev_hash);
    for field in [
        account.as_bytes(),
        kind.name().as_bytes(),
        reference.as_bytes(),
    ] {
        // Identifiers are at most MAX_ID_LEN bytes; u32 is ample.
        h.update(u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
        h.update(field);
    }
    h.update(seq.to_be_bytes());
    h.update(amount.get().to_be_bytes());
    h.update(created_at.to_be_bytes());
    h.finalize().into()
}

/// An account's balance and running totals: `balance = granted − spent + refunded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountBalance {
    /// Open or closed.
    pub open: bool,
    /// What can be spent now.
    pub balance: Credits,
    /// All grants and top-ups applied.
    pub granted: Credits,
    /// All debits.
    pub spent: Credits,
    /// All refunds and cancellations.
    pub refunded: Credits,
}

/// A debit, as the provider asks for it (the HTTP service builds it from a verified
/// presentation and its `transaction_data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendRequest {
    /// The idempotency key: the same id retried gives the same receipt.
    pub transaction_id: String,
    /// The account debited.
    pub account: AccountRef,
    /// The provider's identifier (from its certificate / the trust list).
    pub provider: String,
    /// The course.
    pub course: String,
    /// The credits to debit.
    pub amount: Amount,
    /// The price the holder authorised (in the signed `transaction_data`); `amount` may not
    /// exceed it.
    pub price: Amount,
    /// SHA-256 of the request body the provider sent: the same transaction id with another
    /// body is a conflict.
    pub body_digest: [u8; 32],
}

/// A signed receipt of a debit: a compact JWS (`typ: credits-receipt+jwt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt(pub String);

/// The outcome of a debit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpendOutcome {
    /// Debited now.
    Captured(Receipt),
    /// This transaction id was debited before with the same body: its stored receipt, and no
    /// second debit.
    Replayed(Receipt),
}

impl SpendOutcome {
    /// The receipt, new or replayed.
    pub fn receipt(&self) -> &Receipt {
        match self {
            SpendOutcome::Captured(r) | SpendOutcome::Replayed(r) => r,
        }
    }
}

/// The outcome of a grant or top-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantOutcome {
    /// Credits added (a top-up adds at most up to its cap, possibly 0).
    pub applied: Credits,
    /// Whether this grant id had already been applied (nothing was added now).
    pub replayed: bool,
}

/// The outcome of a refund or cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionOutcome {
    /// The spend's state now.
    pub state: SpendState,
    /// Credits given back.
    pub returned: Credits,
    /// Whether the transition had already happened (nothing was given back now).
    pub replayed: bool,
}

/// What [`crate::LedgerStore::check_invariants`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvariantReport {
    /// Accounts checked.
    pub accounts: u64,
    /// Sum of balances.
    pub balances: Credits,
    /// Sum of grants and top-ups applied.
    pub granted: Credits,
    /// Sum of debits.
    pub spent: Credits,
    /// Sum of refunds and cancellations.
    pub refunded: Credits,
    /// Each broken invariant, described (account references only, no amounts).
    pub violations: Vec<String>,
}

impl InvariantReport {
    /// No invariant is broken.
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_references_are_128_bit_base64url() {
        let a = AccountRef::generate().unwrap();
        assert_eq!(a.as_str().len(), 22);
        assert_eq!(AccountRef::parse(a.as_str()).unwrap(), a);
        for bad in [
            "",
            "abc",
            "AAAAAAAAAAAAAAAAAAAAAA==",
            "AAAAAAAAAAAAAAAAAAAAA+",
            "AAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(AccountRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn entry_hashes_bind_every_field() {
        let base = entry_hash(&[0; 32], "a", 1, EntryKind::Spend, Credits::new(5), "t", 10);
        assert_ne!(
            base,
            entry_hash(&[1; 32], "a", 1, EntryKind::Spend, Credits::new(5), "t", 10)
        );
        assert_ne!(
            base,
            entry_hash(&[0; 32], "b", 1, EntryKind::Spend, Credits::new(5), "t", 10)
        );
        assert_ne!(
            base,
            entry_hash(&[0; 32], "a", 2, EntryKind::Spend, Credits::new(5), "t", 10)
        );
        assert_ne!(
            base,
            entry_hash(
                &[0; 32],
                "a",
                1,
                EntryKind::Refund,
                Credits::new(5),
                "t",
                10
            )
        );
        assert_ne!(
            base,
            entry_hash(&[0; 32], "a", 1, EntryKind::Spend, Credits::new(6), "t", 10)
        );
        assert_ne!(
            base,
            entry_hash(&[0; 32], "a", 1, EntryKind::Spend, Credits::new(5), "u", 10)
        );
        assert_ne!(
            base,
            entry_hash(&[0; 32], "a", 1, EntryKind::Spend, Credits::new(5), "t", 11)
        );
        // Length prefixes: moving a byte between fields changes the hash.
        assert_ne!(
            entry_hash(
                &[0; 32],
                "ab",
                1,
                EntryKind::Spend,
                Credits::new(5),
                "t",
                10
            ),
            entry_hash(
                &[0; 32],
                "a",
                1,
                EntryKind::Spend,
                Credits::new(5),
                "bt",
                10
            )
        );
    }
}
