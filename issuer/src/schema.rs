//! The issuer's schema, as code: one [`Migration`] per version, for both engines.
//!
//! What is kept, and why (the issuer keeps no salt, disclosure or issued SD-JWT):
//! - `persons`: the register — PID attributes and the `person_handle`.
//! - `offers`: credential offers; a digest of the pre-authorized code (itself derived from
//!   the offer id under the server MAC key, never stored) and a keyed check of the `tx_code`.
//! - `access_tokens`: hashes and expiry, purged when expired.
//! - `nonces`: hashes of the `c_nonce`s used, until they expire (the nonces themselves are
//!   stateless: MACed with their expiry, so the unauthenticated Nonce Endpoint writes nothing).
//! - `offer_issuance`: which configuration of an offer was issued (each once).
//! - `credentials`: what status management needs — id, type, person, status list and index,
//!   validity, status.
//! - `status_lists`: one row per list, with a revision bumped at every status change.
//! - `court_resolutions` (v2): each court order the register resolved (by `jti`, once): its
//!   digest, the person found, what the person's notice says (case, ground, platform, court)
//!   and when it may be told (`embargo_until`), times, and its place in the register's
//!   transparency log `translog_entries` (v3; entries hold digests and times only).

use service_kit::db::Migration;

/// Every version of the schema, oldest first.
pub(crate) fn migrations() -> Vec<Migration> {
    vec![
        V1,
        Migration {
            version: 2,
            description: "court resolutions and notices",
            sqlite: "
                CREATE TABLE court_resolutions (
                    jti TEXT PRIMARY KEY,
                    order_digest BLOB NOT NULL,
                    person_id TEXT REFERENCES persons(id),
                    case_number TEXT NOT NULL,
                    ground TEXT NOT NULL,
                    platform_id TEXT NOT NULL,
                    judge TEXT NOT NULL,
                    received_at INTEGER NOT NULL,
                    deadline INTEGER NOT NULL,
                    embargo_until INTEGER,
                    answered_at INTEGER,
                    log_index INTEGER
                );
                CREATE INDEX court_resolutions_person ON court_resolutions (person_id);
            ",
            postgres: "
                CREATE TABLE court_resolutions (
                    jti TEXT PRIMARY KEY,
                    order_digest BYTEA NOT NULL,
                    person_id TEXT REFERENCES persons(id),
                    case_number TEXT NOT NULL,
                    ground TEXT NOT NULL,
                    platform_id TEXT NOT NULL,
                    judge TEXT NOT NULL,
                    received_at BIGINT NOT NULL,
                    deadline BIGINT NOT NULL,
                    embargo_until BIGINT,
                    answered_at BIGINT,
                    log_index BIGINT
                );
                CREATE INDEX court_resolutions_person ON court_resolutions (person_id);
            ",
        },
        service_kit::translog::migration(3),
    ]
}

const V1: Migration = Migration {
    version: 1,
    description: "register, offers, tokens, nonces, credentials, status lists",
    sqlite: "
        CREATE TABLE persons (
            id TEXT PRIMARY KEY,
            person_handle TEXT NOT NULL UNIQUE,
            attributes TEXT NOT NULL,
            level_of_assurance TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE offers (
            id TEXT PRIMARY KEY,
            code_hash BLOB NOT NULL UNIQUE,
            tx_code_check BLOB,
            person_id TEXT REFERENCES persons(id),
            configuration_ids TEXT NOT NULL,
            payload TEXT,
            by_reference INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            tx_failures INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL
        );
        CREATE INDEX offers_expires ON offers (expires_at);
        CREATE TABLE access_tokens (
            token_hash BLOB PRIMARY KEY,
            offer_id TEXT NOT NULL REFERENCES offers(id),
            expires_at INTEGER NOT NULL
        );
        CREATE INDEX access_tokens_expires ON access_tokens (expires_at);
        CREATE TABLE nonces (
            nonce_hash BLOB PRIMARY KEY,
            expires_at INTEGER NOT NULL
        );
        CREATE INDEX nonces_expires ON nonces (expires_at);
        CREATE TABLE offer_issuance (
            offer_id TEXT NOT NULL REFERENCES offers(id),
            configuration_id TEXT NOT NULL,
            issued_at INTEGER NOT NULL,
            PRIMARY KEY (offer_id, configuration_id)
        );
        CREATE TABLE status_lists (
            id INTEGER PRIMARY KEY,
            bits INTEGER NOT NULL,
            capacity INTEGER NOT NULL,
            allocated INTEGER NOT NULL,
            revision INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE credentials (
            id TEXT PRIMARY KEY,
            vct TEXT NOT NULL,
            person_id TEXT REFERENCES persons(id),
            offer_id TEXT REFERENCES offers(id),
            list_id INTEGER NOT NULL REFERENCES status_lists(id),
            idx INTEGER NOT NULL,
            issued_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            status INTEGER NOT NULL,
            UNIQUE (list_id, idx)
        );
        CREATE INDEX credentials_person ON credentials (person_id);
        CREATE INDEX credentials_list_status ON credentials (list_id, status);
    ",
    postgres: "
        CREATE TABLE persons (
            id TEXT PRIMARY KEY,
            person_handle TEXT NOT NULL UNIQUE,
            attributes TEXT NOT NULL,
            level_of_assurance TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE TABLE offers (
            id TEXT PRIMARY KEY,
            code_hash BYTEA NOT NULL UNIQUE,
            tx_code_check BYTEA,
            person_id TEXT REFERENCES persons(id),
            configuration_ids TEXT NOT NULL,
            payload TEXT,
            by_reference BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            tx_failures BIGINT NOT NULL DEFAULT 0,
            state TEXT NOT NULL
        );
        CREATE INDEX offers_expires ON offers (expires_at);
        CREATE TABLE access_tokens (
            token_hash BYTEA PRIMARY KEY,
            offer_id TEXT NOT NULL REFERENCES offers(id),
            expires_at BIGINT NOT NULL
        );
        CREATE INDEX access_tokens_expires ON access_tokens (expires_at);
        CREATE TABLE nonces (
            nonce_hash BYTEA PRIMARY KEY,
            expires_at BIGINT NOT NULL
        );
        CREATE INDEX nonces_expires ON nonces (expires_at);
        CREATE TABLE offer_issuance (
            offer_id TEXT NOT NULL REFERENCES offers(id),
            configuration_id TEXT NOT NULL,
            issued_at BIGINT NOT NULL,
            PRIMARY KEY (offer_id, configuration_id)
        );
        CREATE TABLE status_lists (
            id BIGINT PRIMARY KEY,
            bits BIGINT NOT NULL,
            capacity BIGINT NOT NULL,
            allocated BIGINT NOT NULL,
            revision BIGINT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE TABLE credentials (
            id TEXT PRIMARY KEY,
            vct TEXT NOT NULL,
            person_id TEXT REFERENCES persons(id),
            offer_id TEXT REFERENCES offers(id),
            list_id BIGINT NOT NULL REFERENCES status_lists(id),
            idx BIGINT NOT NULL,
            issued_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            status BIGINT NOT NULL,
            UNIQUE (list_id, idx)
        );
        CREATE INDEX credentials_person ON credentials (person_id);
        CREATE INDEX credentials_list_status ON credentials (list_id, status);
    ",
};
