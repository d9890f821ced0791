//! The verifier's schema, as code: one [`Migration`] per version, for both engines.
//!
//! What is kept, and why. No identity attribute and no person handle is ever written:
//! - `platforms`, `api_keys`: the platforms and SHA-256 digests of their API keys.
//! - `checks`: every session's state (so any replica can serve any step): what was asked,
//!   the request's `nonce` and `state` (public once sent), the outcome, the attestation.
//!   `refusal` is our internal reason for a failure, never shown to the platform.
//! - `presented_copies`: digests of the single-use copies seen, until they expire.
//! - `accounts`: per (platform, pseudonym) first and last seen and a count, so a platform
//!   can rate-limit or ban.
//! - `escrow_records`: the account↔person link, sealed to the court's key (HPKE); one
//!   account's records are found by (platform, pseudonym) and nothing else.
//! - `webhook_events`: an outbox written in the transaction that settles a check, delivered
//!   (and retried) afterwards.
//! - `court_orders`: each court order received (by `jti`, once), its digest, times and its
//!   place in the transparency log `translog_entries` (entries: the order's digest, times and
//!   a commitment to what was returned — no personal data).

use service_kit::db::Migration;

/// Every version of the schema, oldest first.
pub(crate) fn migrations() -> Vec<Migration> {
    vec![
        V1,
        Migration {
            version: 2,
            description: "court orders",
            sqlite: "
                CREATE TABLE court_orders (
                    jti TEXT PRIMARY KEY,
                    order_digest BLOB NOT NULL,
                    platform_id TEXT NOT NULL,
                    received_at INTEGER NOT NULL,
                    deadline INTEGER NOT NULL,
                    answered_at INTEGER,
                    log_index INTEGER,
                    records INTEGER NOT NULL
                );
            ",
            postgres: "
                CREATE TABLE court_orders (
                    jti TEXT PRIMARY KEY,
                    order_digest BYTEA NOT NULL,
                    platform_id TEXT NOT NULL,
                    received_at BIGINT NOT NULL,
                    deadline BIGINT NOT NULL,
                    answered_at BIGINT,
                    log_index BIGINT,
                    records INTEGER NOT NULL
                );
            ",
        },
        service_kit::translog::migration(3),
    ]
}

const V1: Migration = Migration {
    version: 1,
    description: "platforms, keys, checks, copies, accounts, escrow, webhooks",
    sqlite: "
        CREATE TABLE platforms (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            webhook_url TEXT,
            created_at INTEGER NOT NULL,
            disabled_at INTEGER
        );
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            platform_id TEXT NOT NULL REFERENCES platforms(id),
            digest BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER,
            revoked_at INTEGER
        );
        CREATE INDEX api_keys_platform ON api_keys (platform_id);
        CREATE TABLE checks (
            id TEXT PRIMARY KEY,
            platform_id TEXT NOT NULL REFERENCES platforms(id),
            checks TEXT NOT NULL,
            account_reference TEXT,
            return_url TEXT,
            nonce TEXT NOT NULL,
            state TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            status TEXT NOT NULL,
            refusal TEXT,
            settled_at INTEGER,
            attestation TEXT,
            response_code_hash BLOB,
            pseudonym TEXT
        );
        CREATE INDEX checks_platform ON checks (platform_id);
        CREATE INDEX checks_expires ON checks (expires_at);
        CREATE TABLE presented_copies (
            digest BLOB PRIMARY KEY,
            expires_at INTEGER NOT NULL
        );
        CREATE INDEX presented_copies_expires ON presented_copies (expires_at);
        CREATE TABLE accounts (
            platform_id TEXT NOT NULL REFERENCES platforms(id),
            pseudonym TEXT NOT NULL,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            verifications INTEGER NOT NULL,
            PRIMARY KEY (platform_id, pseudonym)
        );
        CREATE TABLE escrow_records (
            id TEXT PRIMARY KEY,
            platform_id TEXT NOT NULL,
            pseudonym TEXT NOT NULL,
            check_id TEXT NOT NULL,
            sealed TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            FOREIGN KEY (platform_id, pseudonym) REFERENCES accounts(platform_id, pseudonym)
        );
        CREATE INDEX escrow_records_account ON escrow_records (platform_id, pseudonym);
        CREATE TABLE webhook_events (
            id TEXT PRIMARY KEY,
            platform_id TEXT NOT NULL REFERENCES platforms(id),
            check_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            delivered_at INTEGER,
            last_error TEXT
        );
        CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at);
    ",
    postgres: "
        CREATE TABLE platforms (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            webhook_url TEXT,
            created_at BIGINT NOT NULL,
            disabled_at BIGINT
        );
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            platform_id TEXT NOT NULL REFERENCES platforms(id),
            digest BYTEA NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT,
            revoked_at BIGINT
        );
        CREATE INDEX api_keys_platform ON api_keys (platform_id);
        CREATE TABLE checks (
            id TEXT PRIMARY KEY,
            platform_id TEXT NOT NULL REFERENCES platforms(id),
            checks TEXT NOT NULL,
            account_reference TEXT,
            return_url TEXT,
            nonce TEXT NOT NULL,
            state TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            status TEXT NOT NULL,
            refusal TEXT,
            settled_at BIGINT,
            attestation TEXT,
            response_code_hash BYTEA,
            pseudonym TEXT
        );
        CREATE INDEX checks_platform ON checks (platform_id);
        CREATE INDEX checks_expires ON checks (expires_at);
        CREATE TABLE presented_copies (
            digest BYTEA PRIMARY KEY,
            expires_at BIGINT NOT NULL
        );
        CREATE INDEX presented_copies_expires ON presented_copies (expires_at);
        CREATE TABLE accounts (
            platform_id TEXT NOT NULL REFERENCES platforms(id),
            pseudonym TEXT NOT NULL,
            first_seen BIGINT NOT NULL,
            last_seen BIGINT NOT NULL,
            verifications BIGINT NOT NULL,
            PRIMARY KEY (platform_id, pseudonym)
        );
        CREATE TABLE escrow_records (
            id TEXT PRIMARY KEY,
            platform_id TEXT NOT NULL,
            pseudonym TEXT NOT NULL,
            check_id TEXT NOT NULL,
            sealed TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            FOREIGN KEY (platform_id, pseudonym) REFERENCES accounts(platform_id, pseudonym)
        );
        CREATE INDEX escrow_records_account ON escrow_records (platform_id, pseudonym);
        CREATE TABLE webhook_events (
            id TEXT PRIMARY KEY,
            platform_id TEXT NOT NULL REFERENCES platforms(id),
            check_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL,
            delivered_at BIGINT,
            last_error TEXT
        );
        CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at);
    ",
};
