//! One database layer over embedded SQLite (the default) and PostgreSQL (when configured).
//!
//! Services write each statement once, in the dialect both engines share — `$1`-style
//! placeholders, `INSERT … ON CONFLICT`, `RETURNING`, conditional `UPDATE`s — and bind
//! [`Value`]s; only the schema (column types) differs per engine, in each [`Migration`].
//! Integers are always 64-bit (`BIGINT` in PostgreSQL), booleans are integers 0/1.
//!
//! SQLite runs on one connection in WAL mode with `synchronous = FULL` (a crash loses no
//! committed transaction) behind an async mutex: statements are short and local, so they run
//! on the calling task. PostgreSQL runs on a connection pool; a dropped, uncommitted
//! transaction discards its connection, so the server rolls it back.

mod postgres;
mod sqlite;

use std::fmt;
use std::sync::Arc;

use thiserror::Error;

/// Why a database operation failed. The messages name the operation, never the data.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DbError {
    /// The database URL is neither a `postgres://` URL nor a SQLite path.
    #[error("database URL not understood: {0}")]
    InvalidUrl(&'static str),
    /// A row would break a `UNIQUE` or `PRIMARY KEY` constraint.
    #[error("unique constraint violated")]
    UniqueViolation,
    /// A row read back has a column of another type than the code expects.
    #[error("column {0} has an unexpected type")]
    ColumnType(usize),
    /// The database holds a schema newer than this program knows.
    #[error("database schema version {found} is newer than this program's {known}")]
    SchemaTooNew {
        /// The version found.
        found: i64,
        /// The newest version this program knows.
        known: i64,
    },
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL reported an error.
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had from the pool.
    #[error("postgres pool: {0}")]
    Pool(String),
    /// The database file or its directory could not be created.
    #[error("database file: {0}")]
    Io(#[from] std::io::Error),
}

/// A value bound to a placeholder or read from a column.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A 64-bit integer (also booleans, as 0/1).
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes (`BLOB` / `BYTEA`).
    Bytes(Vec<u8>),
}

impl fmt::Debug for Value {
    // Values may be personal data: Debug shows their kind and size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Int(_) => f.write_str("Int(..)"),
            Value::Text(t) => write!(f, "Text({} bytes)", t.len()),
            Value::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Bytes(v)
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Bytes(v.to_vec())
    }
}

impl<const N: usize> From<[u8; N]> for Value {
    fn from(v: [u8; N]) -> Value {
        Value::Bytes(v.to_vec())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// Binds values to `$1`, `$2`, …: `params![a, b]`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[$crate::db::Value] };
    ($($v:expr),+ $(,)?) => { &[$($crate::db::Value::from($v)),+] as &[$crate::db::Value] };
}

/// A row read back: its columns in `SELECT` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row(Vec<Value>);

impl Row {
    pub(crate) fn new(values: Vec<Value>) -> Row {
        Row(values)
    }

    fn value(&self, i: usize) -> Result<&Value, DbError> {
        self.0.get(i).ok_or(DbError::ColumnType(i))
    }

    /// Column `i` as an integer.
    pub fn int(&self, i: usize) -> Result<i64, DbError> {
        match self.value(i)? {
            Value::Int(v) => Ok(*v),
            _ => Err(DbError::ColumnType(i)),
        }
    }

    /// Column `i` as an integer, or `None` for `NULL`.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, DbError> {
        match self.value(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            _ => Err(DbError::ColumnType(i)),
        }
    }

    /// Column `i` as text.
    pub fn text(&self, i: usize) -> Result<&str, DbError> {
        match self.value(i)? {
            Value::Text(v) => Ok(v),
            _ => Err(DbError::ColumnType(i)),
        }
    }

    /// Column `i` as text, or `None` for `NULL`.
    pub fn opt_text(&self, i: usize) -> Result<Option<&str>, DbError> {
        match self.value(i)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v)),
            _ => Err(DbError::ColumnType(i)),
        }
    }

    /// Column `i` as bytes.
    pub fn bytes(&self, i: usize) -> Result<&[u8], DbError> {
        match self.value(i)? {
            Value::Bytes(v) => Ok(v),
            _ => Err(DbError::ColumnType(i)),
        }
    }

    /// Column `i` as bytes, or `None` for `NULL`.
    pub fn opt_bytes(&self, i: usize) -> Result<Option<&[u8]>, DbError> {
        match self.value(i)? {
            Value::Null => Ok(None),
            Value::Bytes(v) => Ok(Some(v)),
            _ => Err(DbError::ColumnType(i)),
        }
    }
}

/// One step of a schema: the same change written for each engine.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// 1, 2, 3, … in order, never reused.
    pub version: i64,
    /// What it does, for the log.
    pub description: &'static str,
    /// The statements for SQLite (`;`-separated).
    pub sqlite: &'static str,
    /// The statements for PostgreSQL (`;`-separated).
    pub postgres: &'static str,
}

/// The migrations newer than `current`, oldest first; a database newer than every
/// migration is refused.
fn pending(migrations: &[Migration], current: i64) -> Result<Vec<&Migration>, DbError> {
    let known = migrations.iter().map(|m| m.version).max().unwrap_or(0);
    if current > known {
        return Err(DbError::SchemaTooNew {
            found: current,
            known,
        });
    }
    let mut pending: Vec<&Migration> = migrations.iter().filter(|m| m.version > current).collect();
    pending.sort_by_key(|m| m.version);
    Ok(pending)
}

/// Which engine a [`Db`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL over the network.
    Postgres,
}

#[derive(Debug)]
enum Inner {
    Sqlite(sqlite::SqliteDb),
    Postgres(postgres::PgDb),
}

/// A database handle, cheap to clone.
#[derive(Debug, Clone)]
pub struct Db(Arc<Inner>);

impl Db {
    /// Opens the database a URL names: `postgres://…` or `postgresql://…` for PostgreSQL,
    /// otherwise a SQLite file path (optionally prefixed `sqlite://` or `sqlite:`; the file
    /// and its directory are created on first use), or `sqlite::memory:` for a private
    /// in-memory database.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        Db::connect_in_schema(url, None).await
    }

    /// As [`Db::connect`]; on PostgreSQL, every connection works in `schema` (created if
    /// missing), so several services — or several test runs — share one database apart.
    /// Ignored for SQLite, where each service has its own file.
    pub async fn connect_in_schema(url: &str, schema: Option<&str>) -> Result<Db, DbError> {
        let inner = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Inner::Postgres(postgres::PgDb::connect(url, schema).await?)
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            if path.is_empty() {
                return Err(DbError::InvalidUrl("empty SQLite path"));
            }
            Inner::Sqlite(sqlite::SqliteDb::open(path)?)
        };
        Ok(Db(Arc::new(inner)))
    }

    /// The engine behind this handle.
    pub fn engine(&self) -> Engine {
        match &*self.0 {
            Inner::Sqlite(_) => Engine::Sqlite,
            Inner::Postgres(_) => Engine::Postgres,
        }
    }

    /// Brings the schema up to the newest of `migrations`, each step in its own transaction
    /// (SQLite records the version in `PRAGMA user_version`, PostgreSQL in a
    /// `schema_migrations` table under an advisory lock, so replicas starting together apply
    /// each step once). A database newer than `migrations` is refused.
    pub async fn migrate(&self, migrations: &[Migration]) -> Result<i64, DbError> {
        match &*self.0 {
            Inner::Sqlite(db) => db.migrate(migrations).await,
            Inner::Postgres(db) => db.migrate(migrations).await,
        }
    }

    /// Starts a transaction. Dropping it without [`Tx::commit`] rolls it back.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        Ok(Tx(match &*self.0 {
            Inner::Sqlite(db) => TxInner::Sqlite(db.begin().await?),
            Inner::Postgres(db) => TxInner::Postgres(Box::new(db.begin().await?)),
        }))
    }

    /// Runs one statement in its own transaction; returns the number of rows changed.
    pub async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let mut tx = self.begin().await?;
        let n = tx.execute(sql, params).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Runs one query in its own transaction.
    pub async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut tx = self.begin().await?;
        let rows = tx.query(sql, params).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Runs one query expected to return at most one row.
    pub async fn query_opt(&self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }
}

enum TxInner {
    Sqlite(sqlite::SqliteTx),
    // Boxed: a pooled PostgreSQL connection handle is much larger than a SQLite guard.
    Postgres(Box<postgres::PgTx>),
}

/// An open transaction.
pub struct Tx(TxInner);

impl fmt::Debug for Tx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tx")
    }
}

impl Tx {
    /// Runs one statement; returns the number of rows changed.
    pub async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        match &mut self.0 {
            TxInner::Sqlite(tx) => tx.execute(sql, params),
            TxInner::Postgres(tx) => tx.execute(sql, params).await,
        }
    }

    /// Runs one query and returns its rows.
    pub async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        match &mut self.0 {
            TxInner::Sqlite(tx) => tx.query(sql, params),
            TxInner::Postgres(tx) => tx.query(sql, params).await,
        }
    }

    /// Runs one query expected to return at most one row.
    pub async fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), DbError> {
        match self.0 {
            TxInner::Sqlite(tx) => tx.commit(),
            TxInner::Postgres(tx) => tx.commit().await,
        }
    }
}

#[cfg(test)]
mod tests;
