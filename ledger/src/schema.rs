//! The ledger's schema, as code: one [`Migration`] per version, for both engines.
//!
//! - `accounts`: one row per training account (reference only, never an identity) with its
//!   balance and running totals; `balance >= 0` is a `CHECK`, so even a faulty statement
//!   cannot overdraw.
//! - `entries`: the append-only history, hash-chained per account; triggers refuse
//!   `UPDATE` and `DELETE` (and `TRUNCATE` on PostgreSQL) — threat catalogue L10.
//! - `grants`: one row per grant id (the idempotency key of a grant or yearly top-up).
//! - `spends`: one row per transaction id (the idempotency key of a debit), its receipt and
//!   its state (captured → refunded | cancelled).
//!
//! - `used_nonces` (v2): the SHA-256 of each `c_nonce` used at `GET /credits/account`,
//!   until it expires (the nonces are stateless MACs; only their use is state).
//!
//! Totals are bounded by `CHECK`s at 2^62 so SQLite's integer arithmetic (which turns to
//! floating point on overflow) can never be reached.

use service_kit::db::Migration;

/// Every version of the schema, oldest first.
pub(crate) fn migrations() -> Vec<Migration> {
    vec![V1, V2]
}

const V1: Migration = Migration {
    version: 1,
    description: "credits ledger: accounts, entries, grants, spends",
    sqlite: "
        CREATE TABLE accounts (
            id TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
            balance INTEGER NOT NULL CHECK (balance >= 0 AND balance <= 4611686018427387904),
            granted INTEGER NOT NULL CHECK (granted >= 0 AND granted <= 4611686018427387904),
            spent INTEGER NOT NULL CHECK (spent >= 0 AND spent <= 4611686018427387904),
            refunded INTEGER NOT NULL CHECK (refunded >= 0 AND refunded <= 4611686018427387904),
            created_at INTEGER NOT NULL
        );
        CREATE TABLE entries (
            account_id TEXT NOT NULL REFERENCES accounts(id),
            seq INTEGER NOT NULL CHECK (seq >= 1),
            kind TEXT NOT NULL CHECK (kind IN ('grant', 'topup', 'spend', 'refund', 'cancel')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            ref TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL,
            PRIMARY KEY (account_id, seq)
        );
        CREATE INDEX entries_ref ON entries (ref);
        CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
            BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
        CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
            BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
        CREATE TABLE grants (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id),
            kind TEXT NOT NULL CHECK (kind IN ('grant', 'topup')),
            amount_requested INTEGER NOT NULL,
            cap INTEGER,
            reason TEXT NOT NULL,
            amount_applied INTEGER NOT NULL CHECK (amount_applied >= 0),
            created_at INTEGER NOT NULL
        );
        CREATE TABLE spends (
            transaction_id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            provider TEXT NOT NULL,
            course TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount >= 1),
            body_digest BLOB NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('captured', 'refunded', 'cancelled')),
            refunded_amount INTEGER NOT NULL CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
            receipt TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX spends_account ON spends (account_id);
    ",
    postgres: "
        CREATE TABLE accounts (
            id TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
            balance BIGINT NOT NULL CHECK (balance >= 0 AND balance <= 4611686018427387904),
            granted BIGINT NOT NULL CHECK (granted >= 0 AND granted <= 4611686018427387904),
            spent BIGINT NOT NULL CHECK (spent >= 0 AND spent <= 4611686018427387904),
            refunded BIGINT NOT NULL CHECK (refunded >= 0 AND refunded <= 4611686018427387904),
            created_at BIGINT NOT NULL
        );
        CREATE TABLE entries (
            account_id TEXT NOT NULL REFERENCES accounts(id),
            seq BIGINT NOT NULL CHECK (seq >= 1),
            kind TEXT NOT NULL CHECK (kind IN ('grant', 'topup', 'spend', 'refund', 'cancel')),
            amount BIGINT NOT NULL CHECK (amount >= 0),
            ref TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            prev_hash BYTEA NOT NULL,
            hash BYTEA NOT NULL,
            PRIMARY KEY (account_id, seq)
        );
        CREATE INDEX entries_ref ON entries (ref);
        CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'ledger entries are append-only'; END
        $$;
        CREATE TRIGGER entries_no_update_delete BEFORE UPDATE OR DELETE ON entries
            FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();
        CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
            FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only();
        CREATE TABLE grants (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id),
            kind TEXT NOT NULL CHECK (kind IN ('grant', 'topup')),
            amount_requested BIGINT NOT NULL,
            cap BIGINT,
            reason TEXT NOT NULL,
            amount_applied BIGINT NOT NULL CHECK (amount_applied >= 0),
            created_at BIGINT NOT NULL
        );
        CREATE TABLE spends (
            transaction_id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            provider TEXT NOT NULL,
            course TEXT NOT NULL,
            amount BIGINT NOT NULL CHECK (amount >= 1),
            body_digest BYTEA NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('captured', 'refunded', 'cancelled')),
            refunded_amount BIGINT NOT NULL CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
            receipt TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE INDEX spends_account ON spends (account_id);
    ",
};

const V2: Migration = Migration {
    version: 2,
    description: "used c_nonces of the account endpoint",
    sqlite: "
        CREATE TABLE used_nonces (
            nonce_hash BLOB PRIMARY KEY,
            expires_at INTEGER NOT NULL
        );
        CREATE INDEX used_nonces_expires ON used_nonces (expires_at);
    ",
    postgres: "
        CREATE TABLE used_nonces (
            nonce_hash BYTEA PRIMARY KEY,
            expires_at BIGINT NOT NULL
        );
        CREATE INDEX used_nonces_expires ON used_nonces (expires_at);
    ",
};
