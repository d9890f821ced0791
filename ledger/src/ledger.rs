//! [`Ledger`]: the operations the HTTP service and the admin command call — validation,
//! the clock and receipt signing over a [`LedgerStore`].

use std::sync::Arc;

use credential_formats::time::Clock;

use crate::receipt::{ReceiptClaims, txn_claim};
use crate::store::{GrantKind, NewGrant};
use crate::types::check_id;
use crate::{
    AccountBalance, AccountRef, Amount, Credits, Entry, Error, GrantOutcome, InvariantReport,
    LedgerStore, ReceiptSigner, SpendOutcome, SpendRequest, TransitionOutcome,
};

/// What a yearly top-up of every open account did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TopupSummary {
    /// Open accounts visited.
    pub accounts: u64,
    /// Of which topped up before (by an earlier, perhaps interrupted, run).
    pub replayed: u64,
    /// Credits added by this run.
    pub applied: Credits,
}

/// The training-credits ledger.
#[derive(Debug, Clone)]
pub struct Ledger {
    pub(crate) store: Arc<dyn LedgerStore>,
    clock: Arc<dyn Clock>,
    receipts: Arc<ReceiptSigner>,
}

impl Ledger {
    /// A ledger over `store`, taking time from `clock` and signing receipts with `receipts`.
    pub fn new(
        store: Arc<dyn LedgerStore>,
        clock: Arc<dyn Clock>,
        receipts: Arc<ReceiptSigner>,
    ) -> Ledger {
        Ledger {
            store,
            clock,
            receipts,
        }
    }

    /// Opens a new account with a fresh random reference and a zero balance.
    pub async fn open_account(&self) -> Result<AccountRef, Error> {
        let account = AccountRef::generate()?;
        self.store.open_account(&account, self.clock.now()).await?;
        Ok(account)
    }

    /// Closes an account: its balance stays on record, nothing more is debited or granted.
    pub async fn close_account(&self, account: &AccountRef) -> Result<(), Error> {
        self.store.close_account(account).await
    }

    /// A one-off grant, once per `grant_id` (the same id and amount again → the same
    /// outcome, `replayed`; another amount or account → [`Error::Conflict`]).
    pub async fn grant(
        &self,
        account: &AccountRef,
        grant_id: &str,
        amount: Amount,
        reason: &str,
    ) -> Result<GrantOutcome, Error> {
        check_id(grant_id, "grant id")?;
        if grant_id.starts_with("topup/") {
            return Err(Error::InvalidIdentifier("grant id (topup/ is reserved)"));
        }
        if reason.len() > 1024 || reason.chars().any(char::is_control) {
            return Err(Error::InvalidIdentifier("reason"));
        }
        let grant = NewGrant {
            id: grant_id.to_owned(),
            account: account.clone(),
            kind: GrantKind::OneOff,
            amount,
            reason: reason.to_owned(),
        };
        self.store.grant(&grant, self.clock.now()).await
    }

    /// The yearly top-up of one account, once per (account, year): adds
    /// `min(amount, cap − balance)`, possibly 0 (still recorded, so it stays once).
    pub async fn yearly_topup(
        &self,
        account: &AccountRef,
        year: u16,
        amount: Amount,
        cap: Amount,
    ) -> Result<GrantOutcome, Error> {
        if !(1970..=9999).contains(&year) {
            return Err(Error::InvalidIdentifier("year"));
        }
        let grant = NewGrant {
            id: format!("topup/{account}/{year}"),
            account: account.clone(),
            kind: GrantKind::Topup { cap },
            amount,
            reason: format!("yearly top-up {year}"),
        };
        self.store.grant(&grant, self.clock.now()).await
    }

    /// The yearly top-up of every open account. Safe to run again after an interruption:
    /// accounts already topped up are `replayed`, not credited twice.
    pub async fn yearly_topup_all(
        &self,
        year: u16,
        amount: Amount,
        cap: Amount,
    ) -> Result<TopupSummary, Error> {
        let mut summary = TopupSummary::default();
        for account in self.store.open_accounts().await? {
            let outcome = match self.yearly_topup(&account, year, amount, cap).await {
                Ok(outcome) => outcome,
                // Closed between the listing and the top-up: nothing to do.
                Err(Error::AccountClosed) => continue,
                Err(e) => return Err(e),
            };
            summary.accounts += 1;
            if outcome.replayed {
                summary.replayed += 1;
            } else {
                summary.applied = summary.applied.checked_add(outcome.applied)?;
            }
        }
        Ok(summary)
    }

    /// Debits an account once per transaction id and returns the signed receipt (the
    /// stored one for a retry with the same body).
    ///
    /// The receipt is signed before the database transaction, so the signature is not made
    /// while the SQLite write lock or the PostgreSQL row lock is held; a refused debit
    /// wastes one signature, which is cheaper than a longer critical section for everyone.
    pub async fn spend(&self, request: &SpendRequest) -> Result<SpendOutcome, Error> {
        check_id(&request.transaction_id, "transaction id")?;
        check_id(&request.provider, "provider")?;
        check_id(&request.course, "course")?;
        if request.amount > request.price {
            return Err(Error::InvalidAmount("above the authorised price"));
        }
        let now = self.clock.now();
        let receipt = self.receipts.sign(&ReceiptClaims {
            iss: self.receipts.issuer().to_owned(),
            jti: request.transaction_id.clone(),
            provider: request.provider.clone(),
            course: request.course.clone(),
            amount: request.amount,
            iat: now,
            txn: txn_claim(&request.body_digest),
        })?;
        self.store.spend(request, &receipt, now).await
    }

    /// captured → cancelled: the whole amount back, once (a retry → the same outcome).
    pub async fn cancel(&self, transaction_id: &str) -> Result<TransitionOutcome, Error> {
        check_id(transaction_id, "transaction id")?;
        self.store.cancel(transaction_id, self.clock.now()).await
    }

    /// captured → refunded: `amount` (at most the captured amount) back, once (a retry with
    /// the same amount → the same outcome; another amount → [`Error::Conflict`]).
    pub async fn refund(
        &self,
        transaction_id: &str,
        amount: Amount,
    ) -> Result<TransitionOutcome, Error> {
        check_id(transaction_id, "transaction id")?;
        self.store
            .refund(transaction_id, amount, self.clock.now())
            .await
    }

    /// An account's balance and totals.
    pub async fn balance(&self, account: &AccountRef) -> Result<AccountBalance, Error> {
        self.store.balance(account).await
    }

    /// An account's history, oldest first.
    pub async fn history(&self, account: &AccountRef) -> Result<Vec<Entry>, Error> {
        self.store.history(account).await
    }

    /// Checks every invariant of the whole ledger.
    pub async fn check_invariants(&self) -> Result<InvariantReport, Error> {
        self.store.check_invariants().await
    }
}
