//! The store's schema, as code. The version is SQLite's `PRAGMA user_version`; each entry
//! of [`MIGRATIONS`] brings the schema from the previous version to its own. A released
//! migration is never edited: a test keeps a frozen copy of version 1, migrates it, and
//! compares the result with a fresh database.
//!
//! What is kept, and in what form (see the crate's README):
//! - `meta`: the canary, sealed, which tells a wrong storage key from a damaged value.
//! - `credentials`: one row per credential copy. In clear only what the store must select
//!   or count on: a random id, the batch id, `used`, the time received; the `vct` only as a
//!   keyed hash. Everything else — the SD-JWT, claims, issuer, key alias — is in `sealed`.
//! - `keys`: the software key store's secrets, sealed, by alias.
//! - `log`: the transaction log, one sealed entry per event, in order.

use rusqlite::Connection;

use crate::Error;

/// Every version of the schema, oldest first: `(version, SQL)`.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );
    CREATE TABLE credentials (
        id TEXT PRIMARY KEY,
        batch_id TEXT NOT NULL,
        vct_lookup BLOB NOT NULL,
        used INTEGER NOT NULL DEFAULT 0,
        received_at INTEGER NOT NULL,
        sealed BLOB NOT NULL
    );
    CREATE INDEX credentials_batch ON credentials (batch_id);
    CREATE INDEX credentials_vct ON credentials (vct_lookup);
    CREATE TABLE keys (
        alias TEXT PRIMARY KEY,
        sealed BLOB NOT NULL
    );
    CREATE TABLE log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        sealed BLOB NOT NULL
    );
    ",
)];

/// The version this code writes: the last of [`MIGRATIONS`].
pub(crate) const CURRENT: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// The schema version of the database (`0` for a new, empty one).
pub(crate) fn version(conn: &Connection) -> Result<i64, Error> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Applies every migration after `version` and records the new version. Call it inside a
/// write transaction, in which `version` was read, so that two processes opening the same
/// file cannot both migrate it.
pub(crate) fn upgrade_from(conn: &Connection, version: i64) -> Result<(), Error> {
    if version > CURRENT {
        return Err(Error::TooNew(version));
    }
    for (to, sql) in MIGRATIONS.iter().filter(|(to, _)| *to > version) {
        conn.execute_batch(sql)?;
        // A PRAGMA takes no parameters; `to` is an integer of ours.
        conn.execute_batch(&format!("PRAGMA user_version = {to}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Version 1 as released, frozen: never edit it, add a migration instead.
    const FROZEN_V1: &str = "
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );
    CREATE TABLE credentials (
        id TEXT PRIMARY KEY,
        batch_id TEXT NOT NULL,
        vct_lookup BLOB NOT NULL,
        used INTEGER NOT NULL DEFAULT 0,
        received_at INTEGER NOT NULL,
        sealed BLOB NOT NULL
    );
    CREATE INDEX credentials_batch ON credentials (batch_id);
    CREATE INDEX credentials_vct ON credentials (vct_lookup);
    CREATE TABLE keys (
        alias TEXT PRIMARY KEY,
        sealed BLOB NOT NULL
    );
    CREATE TABLE log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        sealed BLOB NOT NULL
    );
    ";

    /// Every schema object, with its SQL normalised to single spaces.
    fn schema_of(conn: &Connection) -> Vec<(String, String, String, Option<String>)> {
        let mut stmt = conn
            .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |row| {
            let sql: Option<String> = row.get(3)?;
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                sql.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")),
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    fn fresh() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        let v = version(&conn).unwrap();
        assert_eq!(v, 0);
        upgrade_from(&conn, v).unwrap();
        conn
    }

    #[test]
    fn a_frozen_v1_database_migrates_to_the_fresh_schema() {
        let old = Connection::open_in_memory().unwrap();
        old.execute_batch(FROZEN_V1).unwrap();
        old.execute_batch("PRAGMA user_version = 1").unwrap();
        let v = version(&old).unwrap();
        upgrade_from(&old, v).unwrap();
        assert_eq!(version(&old).unwrap(), CURRENT);

        let new = fresh();
        assert_eq!(version(&new).unwrap(), CURRENT);
        assert_eq!(schema_of(&old), schema_of(&new));
        // The comparison is not vacuous.
        assert!(schema_of(&new).len() >= 6, "{:?}", schema_of(&new));
    }

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        for (i, (version, _)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*version, i as i64 + 1);
        }
    }

    #[test]
    fn upgrading_a_current_database_changes_nothing() {
        let conn = fresh();
        let before = schema_of(&conn);
        upgrade_from(&conn, CURRENT).unwrap();
        assert_eq!(schema_of(&conn), before);
    }

    #[test]
    fn a_newer_database_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(
            upgrade_from(&conn, CURRENT + 1),
            Err(Error::TooNew(CURRENT + 1))
        );
    }
}
