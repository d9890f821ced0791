//! The wallet's encrypted store: one SQLite file whose sensitive columns are sealed under the
//! storage key (see `seal`), whose lookup columns are keyed hashes, and whose canary tells a
//! wrong key apart before anything is touched.
//!
//! Every change is one transaction, begun `IMMEDIATE` so that two handles on the same file
//! (the app and a background task, say) queue rather than fail; SQLite runs in WAL mode with
//! `synchronous = FULL`, so a committed change survives a crash or a power cut.

mod credential;
mod schema;
mod seal;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::Error;
use credential::Record;
use seal::{Sealer, aad};

pub use credential::{NewCredential, StoredCredential};

/// The `meta` row that holds the canary.
const CANARY_KEY: &str = "canary";
/// What the canary seals. Its content matters little: only a value sealed under the right
/// key and for the canary's row opens.
const CANARY: &[u8] = b"wallet-core store canary v1";
/// How long a change waits for another handle's transaction on the same file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// The domain of the keyed hash in `credentials.vct_lookup`.
const VCT_DOMAIN: &str = "vct";

/// The wallet's store of credentials, software keys and the transaction log, encrypted
/// under a 32-byte storage key that the platform keystore keeps.
///
/// One `Store` is one SQLite connection: it is `Send` but not `Sync`; open one per thread
/// (they may share the file).
pub struct Store {
    conn: Connection,
    sealer: Sealer,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// A credential row as read, before its record is opened.
struct Row {
    id: String,
    batch_id: String,
    vct_lookup: Vec<u8>,
    used: bool,
    received_at: i64,
    sealed: Vec<u8>,
}

const ROW_COLUMNS: &str = "id, batch_id, vct_lookup, used, received_at, sealed";

impl Row {
    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
        Ok(Row {
            id: row.get(0)?,
            batch_id: row.get(1)?,
            vct_lookup: row.get(2)?,
            used: row.get(3)?,
            received_at: row.get(4)?,
            sealed: row.get(5)?,
        })
    }

    /// Opens the row's record and checks that its clear columns match it.
    fn open(self, sealer: &Sealer) -> Result<StoredCredential, Error> {
        let plaintext = sealer.open(&aad("credentials", &self.id), &self.sealed)?;
        let record: Record = serde_json::from_slice(&plaintext)
            .map_err(|_| Error::Corrupt("a credential record is malformed"))?;
        if record.batch_id != self.batch_id
            || record.received_at != self.received_at
            || sealer.lookup(VCT_DOMAIN, &record.vct)[..] != self.vct_lookup[..]
        {
            return Err(Error::Corrupt(
                "a credential row's columns do not match its sealed record",
            ));
        }
        Ok(record.into_stored(self.id, self.used))
    }
}

/// The sealed part of a log row: the time is repeated inside, as for credentials.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LogRecord {
    at: i64,
    entry: Value,
}

impl Store {
    /// Opens the store at `path`, creating it (and its canary) on first use.
    ///
    /// On an existing store, a key that does not open the canary is [`Error::WrongKey`],
    /// and nothing in the file is modified. A store written by a newer wallet is
    /// [`Error::TooNew`]; an older one is migrated.
    pub fn open(path: &Path, key: Zeroizing<[u8; 32]>) -> Result<Store, Error> {
        Store::init(Connection::open(path)?, &key)
    }

    /// A new store in memory, gone when dropped (for tests and throwaway wallets).
    pub fn open_in_memory(key: Zeroizing<[u8; 32]>) -> Result<Store, Error> {
        Store::init(Connection::open_in_memory()?, &key)
    }

    fn init(mut conn: Connection, key: &Zeroizing<[u8; 32]>) -> Result<Store, Error> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Settings of this connection only; none is written to the file. FULL: the WAL is
        // synced at every commit, so a committed change (a copy marked used) survives a
        // power cut, not only a crash. secure_delete: deleted rows are overwritten, not left
        // in free pages.
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA secure_delete = ON;",
        )?;
        let sealer = Sealer::new(key);

        // Check the file before writing anything to it, even its journal mode: a wrong key
        // or someone else's database is refused as it was found.
        check(&conn, &sealer)?;
        // WAL: readers never block the writer, and a commit is one append to the log. It
        // cannot be set inside a transaction; an in-memory database ignores it.
        conn.execute_batch("PRAGMA journal_mode = WAL")?;

        // Checked again inside the write transaction: another handle may have created or
        // upgraded the store in between.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        match check(&tx, &sealer)? {
            0 => {
                schema::upgrade_from(&tx, 0)?;
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    params![CANARY_KEY, sealer.seal(&aad("meta", CANARY_KEY), CANARY)?],
                )?;
            }
            version => schema::upgrade_from(&tx, version)?,
        }
        tx.commit()?;
        Ok(Store { conn, sealer })
    }

    /// Saves `credentials` — typically the copies of one issued batch — in one
    /// transaction: all of them or, on any error, none. `now` is the time received
    /// (seconds since the epoch). Returns the new ids, in the order given.
    pub fn save_batch(
        &mut self,
        credentials: &[NewCredential],
        now: i64,
    ) -> Result<Vec<String>, Error> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut ids = Vec::with_capacity(credentials.len());
        {
            let mut insert = tx.prepare(
                "INSERT INTO credentials (id, batch_id, vct_lookup, used, received_at, sealed)
                 VALUES (?1, ?2, ?3, 0, ?4, ?5)",
            )?;
            for c in credentials {
                let id = credential_formats::crypto::random_hex(16)?;
                let plaintext = Zeroizing::new(
                    serde_json::to_vec(&Record::new(c, now))
                        .map_err(|_| Error::Storage("a credential could not be encoded".into()))?,
                );
                let sealed = self.sealer.seal(&aad("credentials", &id), &plaintext)?;
                let vct_lookup = self.sealer.lookup(VCT_DOMAIN, &c.vct);
                insert.execute(params![id, c.batch_id, &vct_lookup[..], now, sealed])?;
                ids.push(id);
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    /// Every credential copy, opened, in the order saved.
    pub fn credentials(&self) -> Result<Vec<StoredCredential>, Error> {
        self.select("ORDER BY received_at, rowid", [])
    }

    /// The copy `id`, if the store has it.
    pub fn credential(&self, id: &str) -> Result<Option<StoredCredential>, Error> {
        Ok(self.select("WHERE id = ?1", [id])?.pop())
    }

    /// Every copy of type `vct`, in the order saved (found by its keyed hash).
    pub fn by_vct(&self, vct: &str) -> Result<Vec<StoredCredential>, Error> {
        let lookup = self.sealer.lookup(VCT_DOMAIN, vct);
        self.select(
            "WHERE vct_lookup = ?1 ORDER BY received_at, rowid",
            [&lookup[..]],
        )
    }

    /// What a list shows: one credential per batch (the first copy saved) with the number of
    /// its copies not yet taken, in the order received. Only one record per batch is opened,
    /// so listing costs one decryption per credential the person has, not per copy.
    pub fn batches(&self) -> Result<Vec<(StoredCredential, usize)>, Error> {
        let firsts = self.select(
            "WHERE rowid IN (SELECT MIN(rowid) FROM credentials GROUP BY batch_id)
             ORDER BY received_at, rowid",
            [],
        )?;
        let mut unused = std::collections::HashMap::new();
        let mut stmt = self.conn.prepare(
            "SELECT batch_id, SUM(CASE WHEN used = 0 THEN 1 ELSE 0 END)
             FROM credentials GROUP BY batch_id",
        )?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (batch, n) = row?;
            unused.insert(
                batch,
                usize::try_from(n).map_err(|_| Error::Corrupt("a negative count"))?,
            );
        }
        Ok(firsts
            .into_iter()
            .map(|c| {
                let n = unused.get(&c.batch_id).copied().unwrap_or(0);
                (c, n)
            })
            .collect())
    }

    /// How many copies of batch `batch_id` have not been taken.
    pub fn unused_copies(&self, batch_id: &str) -> Result<usize, Error> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM credentials WHERE batch_id = ?1 AND used = 0",
            [batch_id],
            |r| r.get(0),
        )?;
        usize::try_from(n).map_err(|_| Error::Corrupt("a negative count"))
    }

    /// Takes a copy of batch `batch_id` to present: `None` when every copy was used.
    ///
    /// A single-use copy is marked used and the mark committed (and synced) before this
    /// returns, so the caller presents it only afterwards: a crash at any point can lose a
    /// copy, never show one twice. Two handles taking from the same batch at once get
    /// different copies. A credential that is not single-use is returned without a mark.
    pub fn take_unused_copy(&mut self, batch_id: &str) -> Result<Option<StoredCredential>, Error> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row = tx
            .query_row(
                &format!(
                    "SELECT {ROW_COLUMNS} FROM credentials
                     WHERE batch_id = ?1 AND used = 0 ORDER BY rowid LIMIT 1"
                ),
                [batch_id],
                Row::read,
            )
            .optional()?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut credential = row.open(&self.sealer)?;
        if credential.single_use {
            tx.execute(
                "UPDATE credentials SET used = 1 WHERE id = ?1 AND used = 0",
                [&credential.id],
            )?;
            credential.used = true;
        }
        tx.commit()?;
        Ok(Some(credential))
    }

    /// Deletes the copy `id`; [`Error::NotFound`] if there is none.
    pub fn delete_credential(&mut self, id: &str) -> Result<(), Error> {
        match self
            .conn
            .execute("DELETE FROM credentials WHERE id = ?1", [id])?
        {
            0 => Err(Error::NotFound),
            _ => Ok(()),
        }
    }

    /// Deletes every copy of batch `batch_id`, used or not; returns how many there were.
    pub fn delete_batch(&mut self, batch_id: &str) -> Result<usize, Error> {
        Ok(self
            .conn
            .execute("DELETE FROM credentials WHERE batch_id = ?1", [batch_id])?)
    }

    /// Appends `entry` to the transaction log, at time `at` (seconds since the epoch).
    pub fn append_log(&mut self, entry: &Value, at: i64) -> Result<(), Error> {
        let plaintext = Zeroizing::new(
            serde_json::to_vec(&LogRecord {
                at,
                entry: entry.clone(),
            })
            .map_err(|_| Error::Storage("a log entry could not be encoded".into()))?,
        );
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The sequence number is the row's id, bound into the seal, and SQLite assigns it:
        // insert an empty value, then seal for the number given, in one transaction.
        tx.execute("INSERT INTO log (at, sealed) VALUES (?1, x'')", params![at])?;
        let seq = tx.last_insert_rowid();
        let sealed = self
            .sealer
            .seal(&aad("log", &seq.to_string()), &plaintext)?;
        tx.execute(
            "UPDATE log SET sealed = ?1 WHERE seq = ?2",
            params![sealed, seq],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The transaction log, oldest first: `(at, entry)`.
    pub fn log(&self) -> Result<Vec<(i64, Value)>, Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, at, sealed FROM log ORDER BY seq")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(seq, at, sealed)| {
                let plaintext = self.sealer.open(&aad("log", &seq.to_string()), &sealed)?;
                let record: LogRecord = serde_json::from_slice(&plaintext)
                    .map_err(|_| Error::Corrupt("a log record is malformed"))?;
                if record.at != at {
                    return Err(Error::Corrupt("a log row's time does not match its record"));
                }
                Ok((at, record.entry))
            })
            .collect()
    }

    /// Stores a software key's `secret` under `alias`, sealed. An alias is never reused:
    /// one already taken is [`Error::AlreadyExists`] and the stored key stays.
    pub fn put_key(&mut self, alias: &str, secret: &[u8]) -> Result<(), Error> {
        let sealed = self.sealer.seal(&aad("keys", alias), secret)?;
        self.conn.execute(
            "INSERT INTO keys (alias, sealed) VALUES (?1, ?2)",
            params![alias, sealed],
        )?;
        Ok(())
    }

    /// Keeps a sealed setting (`name` other than the canary), replacing any earlier value.
    pub fn put_setting(&mut self, name: &str, value: &[u8]) -> Result<(), Error> {
        if name == CANARY_KEY {
            return Err(Error::AlreadyExists);
        }
        let sealed = self.sealer.seal(&aad("meta", name), value)?;
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![name, sealed],
        )?;
        Ok(())
    }

    /// A sealed setting, if kept.
    pub fn setting(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        let sealed: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?;
        sealed
            .map(|sealed| self.sealer.open(&aad("meta", name), &sealed))
            .transpose()
    }

    /// The secret stored under `alias`, if any.
    pub fn get_key(&self, alias: &str) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        let sealed: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT sealed FROM keys WHERE alias = ?1", [alias], |r| {
                r.get(0)
            })
            .optional()?;
        sealed
            .map(|sealed| self.sealer.open(&aad("keys", alias), &sealed))
            .transpose()
    }

    /// Deletes the key `alias`; [`Error::NotFound`] if there is none.
    pub fn delete_key(&mut self, alias: &str) -> Result<(), Error> {
        match self
            .conn
            .execute("DELETE FROM keys WHERE alias = ?1", [alias])?
        {
            0 => Err(Error::NotFound),
            _ => Ok(()),
        }
    }

    /// Whether SQLite finds the file sound (`PRAGMA integrity_check` answers `ok`).
    pub fn integrity_check(&self) -> Result<bool, Error> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let answers = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(answers == ["ok"])
    }

    /// The credential rows that `clause` selects, opened.
    fn select<P: rusqlite::Params>(
        &self,
        clause: &str,
        params: P,
    ) -> Result<Vec<StoredCredential>, Error> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {ROW_COLUMNS} FROM credentials {clause}"))?;
        let rows = stmt
            .query_map(params, Row::read)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(|row| row.open(&self.sealer)).collect()
    }
}

/// Reads the schema version of the database and, on an existing store, opens its canary:
/// `0` for an empty database, [`Error::WrongKey`] if the key does not open the canary,
/// [`Error::Corrupt`] for a database that is not a wallet store. Writes nothing.
fn check(conn: &Connection, sealer: &Sealer) -> Result<i64, Error> {
    let version = schema::version(conn)?;
    if version == 0 {
        let objects: i64 =
            conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))?;
        return match objects {
            0 => Ok(0),
            _ => Err(Error::Corrupt("the file is not a wallet store")),
        };
    }
    if version > schema::CURRENT {
        return Err(Error::TooNew(version));
    }
    // Every version has the `meta` table and its canary.
    let canary: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [CANARY_KEY], |r| {
            r.get(0)
        })
        .optional()?;
    let canary = canary.ok_or(Error::Corrupt("the canary is missing"))?;
    match sealer.open(&aad("meta", CANARY_KEY), &canary) {
        Ok(opened) if opened[..] == *CANARY => Ok(version),
        _ => Err(Error::WrongKey),
    }
}

#[cfg(test)]
mod tests;
