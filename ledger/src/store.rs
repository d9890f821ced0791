//! The ledger's storage: one trait, [`LedgerStore`], and its SQL implementation, which runs
//! the same statements on SQLite and PostgreSQL (see `service_kit::db`).
//!
//! Every operation is one database transaction. A debit never reads the balance to decide:
//! it is one conditional `UPDATE … WHERE balance >= amount`, so concurrent debits (tasks,
//! replicas sharing PostgreSQL) cannot overdraw, and the `CHECK (balance >= 0)` of the schema
//! backs it up. Idempotency keys (transaction ids, grant ids) are primary keys inserted with
//! `ON CONFLICT DO NOTHING` first in the transaction: on PostgreSQL a second request with the
//! same key waits for the first to commit or roll back, then sees its row.

use std::collections::HashMap;

use async_trait::async_trait;
use service_kit::db::{Db, Engine, Row, Tx};
use service_kit::params;

use crate::schema::migrations;
use crate::types::entry_hash;
use crate::{
    AccountBalance, AccountRef, Amount, Credits, Entry, EntryKind, Error, GrantOutcome,
    InvariantReport, Receipt, SpendOutcome, SpendRequest, SpendState, TransitionOutcome,
};

/// The bound on every running total (2^62), as the schema's `CHECK`s also state.
pub(crate) const TOTAL_LIMIT: u64 = 1 << 62;

/// A grant or a yearly top-up, as the store applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    /// The idempotency key (`topup/<account>/<year>` for a top-up).
    pub id: String,
    /// The account credited.
    pub account: AccountRef,
    /// One-off or top-up.
    pub kind: GrantKind,
    /// Credits asked for.
    pub amount: Amount,
    /// Why (shown to administrators; never personal data).
    pub reason: String,
}

/// The two kinds of grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    /// Adds the whole amount.
    OneOff,
    /// Adds `min(amount, cap − balance)`, possibly 0.
    Topup {
        /// The balance a top-up fills up to.
        cap: Amount,
    },
}

/// The ledger's storage. Implementations keep each operation atomic and each idempotency
/// key to one effect; the conformance suite (`store/conformance.rs`) states the contract.
#[async_trait]
pub trait LedgerStore: Send + Sync + std::fmt::Debug {
    /// Records a new open account with a zero balance.
    async fn open_account(&self, account: &AccountRef, now: i64) -> Result<(), Error>;

    /// Closes an account (idempotent): no more debits, grants or top-ups.
    async fn close_account(&self, account: &AccountRef) -> Result<(), Error>;

    /// Applies a grant or top-up once per grant id.
    async fn grant(&self, grant: &NewGrant, now: i64) -> Result<GrantOutcome, Error>;

    /// Debits once per transaction id, storing `receipt` with the spend.
    async fn spend(
        &self,
        spend: &SpendRequest,
        receipt: &Receipt,
        now: i64,
    ) -> Result<SpendOutcome, Error>;

    /// captured → cancelled, the whole amount back, once.
    async fn cancel(&self, transaction_id: &str, now: i64) -> Result<TransitionOutcome, Error>;

    /// captured → refunded, `amount` (≤ the captured amount) back, once.
    async fn refund(
        &self,
        transaction_id: &str,
        amount: Amount,
        now: i64,
    ) -> Result<TransitionOutcome, Error>;

    /// An account's balance and totals.
    async fn balance(&self, account: &AccountRef) -> Result<AccountBalance, Error>;

    /// An account's history, oldest first.
    async fn history(&self, account: &AccountRef) -> Result<Vec<Entry>, Error>;

    /// The open accounts (for the yearly top-up batch).
    async fn open_accounts(&self) -> Result<Vec<AccountRef>, Error>;

    /// Checks every invariant over the whole ledger, in one consistent snapshot.
    async fn check_invariants(&self) -> Result<InvariantReport, Error>;

    /// The spends of an account, each as (transaction id, provider, course): what the
    /// holder's view of the history names beside its spend, refund and cancel entries.
    async fn spends_of(&self, account: &AccountRef)
    -> Result<Vec<(String, String, String)>, Error>;

    /// Records the use of a nonce (by its hash) until `expires_at`: `false` if it was used
    /// before.
    async fn use_nonce(&self, nonce_hash: &[u8; 32], expires_at: i64) -> Result<bool, Error>;

    /// Forgets the nonces expired at `now` (their MAC refuses them from then on); returns
    /// how many went.
    async fn purge_nonces(&self, now: i64) -> Result<u64, Error>;
}

/// [`LedgerStore`] on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    db: Db,
}

impl SqlStore {
    /// Opens the store, bringing the schema up to date.
    pub async fn open(db: Db) -> Result<SqlStore, Error> {
        db.migrate(&migrations()).await?;
        Ok(SqlStore { db })
    }

    /// The grant, inside `tx` (not committed): split out so tests can abandon it.
    pub(crate) async fn grant_in(
        tx: &mut Tx,
        grant: &NewGrant,
        now: i64,
    ) -> Result<GrantOutcome, Error> {
        // A committed grant row is final (it is written with its applied amount in the
        // transaction that applies it), so a replay is answered from it alone.
        if let Some(outcome) = Self::existing_grant(tx, grant).await? {
            return Ok(outcome);
        }
        // Lock the account row (a no-op update; SQLite's IMMEDIATE transaction already holds
        // the database) so the balance read for the cap stays true until commit.
        let row = tx
            .query_opt(
                "UPDATE accounts SET status = status WHERE id = $1 RETURNING status, balance, granted",
                params![grant.account.as_str()],
            )
            .await?
            .ok_or(Error::UnknownAccount)?;
        if row.text(0)? != "open" {
            return Err(Error::AccountClosed);
        }
        let balance = Credits::from_db(row.int(1)?)?;
        let granted = Credits::from_db(row.int(2)?)?;
        let (kind, cap) = match grant.kind {
            GrantKind::OneOff => (EntryKind::Grant, None),
            GrantKind::Topup { cap } => (EntryKind::Topup, Some(cap)),
        };
        let applied = match cap {
            None => Credits::from(grant.amount),
            Some(cap) => {
                let room = Credits::from(cap)
                    .checked_sub(balance)
                    .unwrap_or(Credits::ZERO);
                room.min(Credits::from(grant.amount))
            }
        };
        let limit = Credits::new(TOTAL_LIMIT);
        if granted.checked_add(applied)? > limit || balance.checked_add(applied)? > limit {
            return Err(Error::LimitExceeded);
        }
        let inserted = tx
            .execute(
                "INSERT INTO grants (id, account_id, kind, amount_requested, cap, reason,
                    amount_applied, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
                params![
                    grant.id.as_str(),
                    grant.account.as_str(),
                    kind.name(),
                    grant.amount.as_i64(),
                    cap.map(Amount::as_i64),
                    grant.reason.as_str(),
                    applied.as_i64()?,
                    now
                ],
            )
            .await?;
        if inserted == 0 {
            // A concurrent request with this id committed first (PostgreSQL waited for it).
            return Self::existing_grant(tx, grant)
                .await?
                .ok_or(Error::Corrupt("grant vanished"));
        }
        tx.execute(
            "UPDATE accounts SET balance = balance + $2, granted = granted + $2 WHERE id = $1",
            params![grant.account.as_str(), applied.as_i64()?],
        )
        .await?;
        append_entry(tx, &grant.account, kind, applied, &grant.id, now).await?;
        Ok(GrantOutcome {
            applied,
            replayed: false,
        })
    }

    async fn existing_grant(tx: &mut Tx, grant: &NewGrant) -> Result<Option<GrantOutcome>, Error> {
        let Some(row) = tx
            .query_opt(
                "SELECT account_id, kind, amount_requested, cap, amount_applied
                 FROM grants WHERE id = $1",
                params![grant.id.as_str()],
            )
            .await?
        else {
            return Ok(None);
        };
        let (kind, cap) = match grant.kind {
            GrantKind::OneOff => ("grant", None),
            GrantKind::Topup { cap } => ("topup", Some(cap.as_i64())),
        };
        if row.text(0)? != grant.account.as_str()
            || row.text(1)? != kind
            || row.int(2)? != grant.amount.as_i64()
            || row.opt_int(3)? != cap
        {
            return Err(Error::Conflict);
        }
        Ok(Some(GrantOutcome {
            applied: Credits::from_db(row.int(4)?)?,
            replayed: true,
        }))
    }

    /// The debit, inside `tx` (not committed): split out so tests can abandon it.
    pub(crate) async fn spend_in(
        tx: &mut Tx,
        spend: &SpendRequest,
        receipt: &Receipt,
        now: i64,
    ) -> Result<SpendOutcome, Error> {
        let account = spend.account.as_str();
        let amount = spend.amount.as_i64();
        // The idempotency key first: a retry never reaches the debit.
        let inserted = tx
            .execute(
                "INSERT INTO spends (transaction_id, account_id, provider, course, amount,
                    body_digest, state, refunded_amount, receipt, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'captured', 0, $7, $8, $8)
                 ON CONFLICT (transaction_id) DO NOTHING",
                params![
                    spend.transaction_id.as_str(),
                    account,
                    spend.provider.as_str(),
                    spend.course.as_str(),
                    amount,
                    spend.body_digest,
                    receipt.0.as_str(),
                    now
                ],
            )
            .await?;
        if inserted == 0 {
            let row = tx
                .query_opt(
                    "SELECT body_digest, receipt FROM spends WHERE transaction_id = $1",
                    params![spend.transaction_id.as_str()],
                )
                .await?
                .ok_or(Error::Corrupt("spend vanished"))?;
            if row.bytes(0)? != spend.body_digest.as_slice() {
                return Err(Error::Conflict);
            }
            return Ok(SpendOutcome::Replayed(Receipt(row.text(1)?.to_owned())));
        }
        // The debit itself: conditional, never read-then-write.
        let debited = tx
            .execute(
                "UPDATE accounts SET balance = balance - $2, spent = spent + $2
                 WHERE id = $1 AND status = 'open' AND balance >= $2",
                params![account, amount],
            )
            .await?;
        if debited == 0 {
            // Why not, for the error only; the caller drops the transaction, so the spend
            // row inserted above is rolled back.
            let status = tx
                .query_opt(
                    "SELECT status FROM accounts WHERE id = $1",
                    params![account],
                )
                .await?;
            return Err(match status {
                None => Error::UnknownAccount,
                Some(row) if row.text(0)? != "open" => Error::AccountClosed,
                Some(_) => Error::InsufficientCredits,
            });
        }
        append_entry(
            tx,
            &spend.account,
            EntryKind::Spend,
            Credits::from(spend.amount),
            &spend.transaction_id,
            now,
        )
        .await?;
        Ok(SpendOutcome::Captured(receipt.clone()))
    }

    /// A refund (`Some(amount)`) or cancellation (`None`), inside `tx` (not committed).
    pub(crate) async fn transition_in(
        tx: &mut Tx,
        transaction_id: &str,
        refund: Option<Amount>,
        now: i64,
    ) -> Result<TransitionOutcome, Error> {
        let (to, row) = match refund {
            None => (
                SpendState::Cancelled,
                tx.query_opt(
                    "UPDATE spends SET state = 'cancelled', refunded_amount = amount, updated_at = $2
                     WHERE transaction_id = $1 AND state = 'captured'
                     RETURNING account_id, refunded_amount",
                    params![transaction_id, now],
                )
                .await?,
            ),
            Some(amount) => (
                SpendState::Refunded,
                tx.query_opt(
                    "UPDATE spends SET state = 'refunded', refunded_amount = $3, updated_at = $2
                     WHERE transaction_id = $1 AND state = 'captured' AND amount >= $3
                     RETURNING account_id, refunded_amount",
                    params![transaction_id, now, amount.as_i64()],
                )
                .await?,
            ),
        };
        let Some(row) = row else {
            return Self::refused_transition(tx, transaction_id, refund).await;
        };
        let account = AccountRef::parse(row.text(0)?)?;
        let returned = Credits::from_db(row.int(1)?)?;
        let changed = tx
            .execute(
                "UPDATE accounts SET balance = balance + $2, refunded = refunded + $2 WHERE id = $1",
                params![account.as_str(), returned.as_i64()?],
            )
            .await?;
        if changed != 1 {
            return Err(Error::Corrupt("spend without its account"));
        }
        let kind = match to {
            SpendState::Cancelled => EntryKind::Cancel,
            _ => EntryKind::Refund,
        };
        append_entry(tx, &account, kind, returned, transaction_id, now).await?;
        Ok(TransitionOutcome {
            state: to,
            returned,
            replayed: false,
        })
    }

    /// Why a refund or cancellation did not apply: a replay, a conflict or an illegal step.
    async fn refused_transition(
        tx: &mut Tx,
        transaction_id: &str,
        refund: Option<Amount>,
    ) -> Result<TransitionOutcome, Error> {
        let row = tx
            .query_opt(
                "SELECT state, refunded_amount FROM spends WHERE transaction_id = $1",
                params![transaction_id],
            )
            .await?
            .ok_or(Error::UnknownTransaction)?;
        let state = SpendState::from_name(row.text(0)?)?;
        let returned = Credits::from_db(row.int(1)?)?;
        let replay = TransitionOutcome {
            state,
            returned,
            replayed: true,
        };
        match (refund, state) {
            (None, SpendState::Cancelled) => Ok(replay),
            (Some(amount), SpendState::Refunded) if Credits::from(amount) == returned => Ok(replay),
            (Some(_), SpendState::Refunded) => Err(Error::Conflict),
            (Some(_), SpendState::Captured) => {
                Err(Error::InvalidAmount("refund above the captured amount"))
            }
            (None, SpendState::Captured) => Err(Error::Corrupt("spend changed during cancel")),
            (None, from) => Err(Error::IllegalTransition {
                from,
                to: SpendState::Cancelled,
            }),
            (Some(_), from) => Err(Error::IllegalTransition {
                from,
                to: SpendState::Refunded,
            }),
        }
    }
}

/// Appends one entry to an account's hash chain. Callers have locked the account row in
/// this transaction (by updating it), so no other writer appends to the chain meanwhile.
async fn append_entry(
    tx: &mut Tx,
    account: &AccountRef,
    kind: EntryKind,
    amount: Credits,
    reference: &str,
    now: i64,
) -> Result<(), Error> {
    let last = tx
        .query_opt(
            "SELECT seq, hash FROM entries WHERE account_id = $1 ORDER BY seq DESC LIMIT 1",
            params![account.as_str()],
        )
        .await?;
    let (prev_seq, prev_hash) = match last {
        None => (0u64, [0u8; 32]),
        Some(row) => (
            u64::try_from(row.int(0)?).map_err(|_| Error::Corrupt("entry seq"))?,
            <[u8; 32]>::try_from(row.bytes(1)?).map_err(|_| Error::Corrupt("entry hash"))?,
        ),
    };
    let seq = prev_seq + 1;
    let hash = entry_hash(
        &prev_hash,
        account.as_str(),
        seq,
        kind,
        amount,
        reference,
        now,
    );
    tx.execute(
        "INSERT INTO entries (account_id, seq, kind, amount, ref, created_at, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![
            account.as_str(),
            i64::try_from(seq).map_err(|_| Error::LimitExceeded)?,
            kind.name(),
            amount.as_i64()?,
            reference,
            now,
            prev_hash,
            hash
        ],
    )
    .await?;
    Ok(())
}

fn entry_from_row(row: &Row) -> Result<Entry, Error> {
    Ok(Entry {
        seq: u64::try_from(row.int(0)?).map_err(|_| Error::Corrupt("entry seq"))?,
        kind: EntryKind::from_name(row.text(1)?)?,
        amount: Credits::from_db(row.int(2)?)?,
        reference: row.text(3)?.to_owned(),
        created_at: row.int(4)?,
        prev_hash: <[u8; 32]>::try_from(row.bytes(5)?).map_err(|_| Error::Corrupt("hash"))?,
        hash: <[u8; 32]>::try_from(row.bytes(6)?).map_err(|_| Error::Corrupt("hash"))?,
    })
}

#[async_trait]
impl LedgerStore for SqlStore {
    async fn open_account(&self, account: &AccountRef, now: i64) -> Result<(), Error> {
        self.db
            .execute(
                "INSERT INTO accounts (id, status, balance, granted, spent, refunded, created_at)
                 VALUES ($1, 'open', 0, 0, 0, 0, $2)",
                params![account.as_str(), now],
            )
            .await?;
        Ok(())
    }

    async fn close_account(&self, account: &AccountRef) -> Result<(), Error> {
        let n = self
            .db
            .execute(
                "UPDATE accounts SET status = 'closed' WHERE id = $1",
                params![account.as_str()],
            )
            .await?;
        if n == 0 {
            return Err(Error::UnknownAccount);
        }
        Ok(())
    }

    async fn grant(&self, grant: &NewGrant, now: i64) -> Result<GrantOutcome, Error> {
        let mut tx = self.db.begin().await?;
        let outcome = Self::grant_in(&mut tx, grant, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn spend(
        &self,
        spend: &SpendRequest,
        receipt: &Receipt,
        now: i64,
    ) -> Result<SpendOutcome, Error> {
        let mut tx = self.db.begin().await?;
        let outcome = Self::spend_in(&mut tx, spend, receipt, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn cancel(&self, transaction_id: &str, now: i64) -> Result<TransitionOutcome, Error> {
        let mut tx = self.db.begin().await?;
        let outcome = Self::transition_in(&mut tx, transaction_id, None, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn refund(
        &self,
        transaction_id: &str,
        amount: Amount,
        now: i64,
    ) -> Result<TransitionOutcome, Error> {
        let mut tx = self.db.begin().await?;
        let outcome = Self::transition_in(&mut tx, transaction_id, Some(amount), now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn balance(&self, account: &AccountRef) -> Result<AccountBalance, Error> {
        let row = self
            .db
            .query_opt(
                "SELECT status, balance, granted, spent, refunded FROM accounts WHERE id = $1",
                params![account.as_str()],
            )
            .await?
            .ok_or(Error::UnknownAccount)?;
        Ok(AccountBalance {
            open: row.text(0)? == "open",
            balance: Credits::from_db(row.int(1)?)?,
            granted: Credits::from_db(row.int(2)?)?,
            spent: Credits::from_db(row.int(3)?)?,
            refunded: Credits::from_db(row.int(4)?)?,
        })
    }

    async fn history(&self, account: &AccountRef) -> Result<Vec<Entry>, Error> {
        let mut tx = self.db.begin().await?;
        if tx
            .query_opt(
                "SELECT 1 FROM accounts WHERE id = $1",
                params![account.as_str()],
            )
            .await?
            .is_none()
        {
            return Err(Error::UnknownAccount);
        }
        let rows = tx
            .query(
                "SELECT seq, kind, amount, ref, created_at, prev_hash, hash
                 FROM entries WHERE account_id = $1 ORDER BY seq",
                params![account.as_str()],
            )
            .await?;
        tx.commit().await?;
        rows.iter().map(entry_from_row).collect()
    }

    async fn open_accounts(&self) -> Result<Vec<AccountRef>, Error> {
        let rows = self
            .db
            .query(
                "SELECT id FROM accounts WHERE status = 'open' ORDER BY id",
                params![],
            )
            .await?;
        rows.iter().map(|r| AccountRef::parse(r.text(0)?)).collect()
    }

    async fn check_invariants(&self) -> Result<InvariantReport, Error> {
        let mut tx = self.db.begin().await?;
        if self.db.engine() == Engine::Postgres {
            // One snapshot for all the reads below (SQLite's IMMEDIATE transaction is one).
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", params![])
                .await?;
        }
        let accounts = tx
            .query(
                "SELECT id, balance, granted, spent, refunded FROM accounts ORDER BY id",
                params![],
            )
            .await?;
        let entries = tx
            .query(
                "SELECT seq, kind, amount, ref, created_at, prev_hash, hash, account_id
                 FROM entries ORDER BY account_id, seq",
                params![],
            )
            .await?;
        let spends = tx
            .query(
                "SELECT transaction_id, account_id, amount, state, refunded_amount FROM spends",
                params![],
            )
            .await?;
        let grants = tx
            .query(
                "SELECT id, account_id, kind, amount_applied FROM grants",
                params![],
            )
            .await?;
        tx.commit().await?;
        invariants::check(&accounts, &entries, &spends, &grants)
    }

    async fn spends_of(
        &self,
        account: &AccountRef,
    ) -> Result<Vec<(String, String, String)>, Error> {
        let rows = self
            .db
            .query(
                "SELECT transaction_id, provider, course FROM spends WHERE account_id = $1",
                params![account.as_str()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.text(0)?.to_owned(),
                    r.text(1)?.to_owned(),
                    r.text(2)?.to_owned(),
                ))
            })
            .collect()
    }

    async fn use_nonce(&self, nonce_hash: &[u8; 32], expires_at: i64) -> Result<bool, Error> {
        let n = self
            .db
            .execute(
                "INSERT INTO used_nonces (nonce_hash, expires_at) VALUES ($1, $2)
                 ON CONFLICT (nonce_hash) DO NOTHING",
                params![*nonce_hash, expires_at],
            )
            .await?;
        Ok(n == 1)
    }

    async fn purge_nonces(&self, now: i64) -> Result<u64, Error> {
        let n = self
            .db
            .execute(
                "DELETE FROM used_nonces WHERE expires_at <= $1",
                params![now],
            )
            .await?;
        Ok(n)
    }
}

/// The whole-ledger checks, over rows read in one snapshot.
mod invariants {
    use super::*;

    /// An entry naming a reference: (account, kind, amount).
    type Named = (String, EntryKind, Credits);

    #[derive(Default)]
    struct Sums {
        granted: Credits,
        spent: Credits,
        refunded: Credits,
    }

    pub(super) fn check(
        accounts: &[Row],
        entries: &[Row],
        spends: &[Row],
        grants: &[Row],
    ) -> Result<InvariantReport, Error> {
        let mut report = InvariantReport::default();
        let mut v = Vec::new();
        // Per account: the chain, and the sums of its entries by kind.
        let mut sums: HashMap<String, Sums> = HashMap::new();
        // (reference, family) → the entries naming it: (account, kind, amount).
        let mut by_ref: HashMap<(String, bool), Vec<Named>> = HashMap::new();
        let mut last: Option<(String, u64, [u8; 32])> = None;
        for row in entries {
            let e = entry_from_row(row)?;
            let account = row.text(7)?.to_owned();
            let (expected_seq, expected_prev) = match &last {
                Some((a, seq, hash)) if *a == account => (seq + 1, *hash),
                _ => (1, [0u8; 32]),
            };
            if e.seq != expected_seq || e.prev_hash != expected_prev {
                v.push(format!(
                    "account {account}: chain broken at entry {}",
                    e.seq
                ));
            }
            let recomputed = entry_hash(
                &e.prev_hash,
                &account,
                e.seq,
                e.kind,
                e.amount,
                &e.reference,
                e.created_at,
            );
            if recomputed != e.hash {
                v.push(format!("account {account}: entry {} hash mismatch", e.seq));
            }
            last = Some((account.clone(), e.seq, e.hash));
            let s = sums.entry(account.clone()).or_default();
            match e.kind {
                EntryKind::Grant | EntryKind::Topup => {
                    s.granted = s.granted.checked_add(e.amount)?
                }
                EntryKind::Spend => s.spent = s.spent.checked_add(e.amount)?,
                EntryKind::Refund | EntryKind::Cancel => {
                    s.refunded = s.refunded.checked_add(e.amount)?
                }
            }
            let is_grant = matches!(e.kind, EntryKind::Grant | EntryKind::Topup);
            by_ref
                .entry((e.reference.clone(), is_grant))
                .or_default()
                .push((account, e.kind, e.amount));
        }
        for row in accounts {
            let id = row.text(0)?;
            let balance = Credits::from_db(row.int(1)?)?;
            let granted = Credits::from_db(row.int(2)?)?;
            let spent = Credits::from_db(row.int(3)?)?;
            let refunded = Credits::from_db(row.int(4)?)?;
            report.accounts += 1;
            report.balances = report.balances.checked_add(balance)?;
            report.granted = report.granted.checked_add(granted)?;
            report.spent = report.spent.checked_add(spent)?;
            report.refunded = report.refunded.checked_add(refunded)?;
            let expected = granted
                .checked_add(refunded)
                .and_then(|g| g.checked_sub(spent));
            if expected.ok() != Some(balance) {
                v.push(format!(
                    "account {id}: balance is not granted - spent + refunded"
                ));
            }
            let s = sums.remove(id).unwrap_or_default();
            if s.granted != granted || s.spent != spent || s.refunded != refunded {
                v.push(format!("account {id}: totals differ from its entries"));
            }
        }
        for account in sums.keys() {
            v.push(format!("entries of an unknown account {account}"));
        }
        // Each spend: one debit entry on its account for its amount, and one refund or
        // cancel entry exactly when it left `captured`.
        for row in spends {
            let txn = row.text(0)?.to_owned();
            let account = row.text(1)?;
            let amount = Credits::from_db(row.int(2)?)?;
            let state = SpendState::from_name(row.text(3)?)?;
            let returned = Credits::from_db(row.int(4)?)?;
            let found = by_ref.remove(&(txn.clone(), false)).unwrap_or_default();
            let debits: Vec<_> = found.iter().filter(|e| e.1 == EntryKind::Spend).collect();
            let backs: Vec<_> = found.iter().filter(|e| e.1 != EntryKind::Spend).collect();
            if debits.len() != 1 || debits[0].0 != account || debits[0].2 != amount {
                v.push(format!(
                    "transaction {txn}: not exactly one matching debit entry"
                ));
            }
            let back_kind = match state {
                SpendState::Captured => None,
                SpendState::Refunded => Some(EntryKind::Refund),
                SpendState::Cancelled => Some(EntryKind::Cancel),
            };
            match back_kind {
                None if backs.is_empty() => {}
                Some(kind)
                    if backs.len() == 1
                        && backs[0].0 == account
                        && backs[0].1 == kind
                        && backs[0].2 == returned => {}
                _ => v.push(format!(
                    "transaction {txn}: refund entries do not match its state"
                )),
            }
        }
        for row in grants {
            let id = row.text(0)?.to_owned();
            let account = row.text(1)?;
            let kind = EntryKind::from_name(row.text(2)?)?;
            let applied = Credits::from_db(row.int(3)?)?;
            let found = by_ref.remove(&(id.clone(), true)).unwrap_or_default();
            if found.len() != 1 || found[0] != (account.to_owned(), kind, applied) {
                v.push(format!("grant {id}: not exactly one matching entry"));
            }
        }
        for (reference, _) in by_ref.keys() {
            v.push(format!(
                "entries for {reference} without their spend or grant"
            ));
        }
        let expected = report
            .granted
            .checked_add(report.refunded)
            .and_then(|g| g.checked_sub(report.spent));
        if expected.ok() != Some(report.balances) {
            v.push("sum of balances is not granted - spent + refunded".to_owned());
        }
        report.violations = v;
        Ok(report)
    }
}

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod model;
