//! The SQLite engine: one connection, WAL, `synchronous = FULL`, behind an async mutex.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{DbError, Migration, Row, Value};

pub(super) struct SqliteDb {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteDb")
    }
}

impl SqliteDb {
    pub(super) fn open(path: &str) -> Result<SqliteDb, DbError> {
        let conn = if path == ":memory:" {
            Connection::open_in_memory()?
        } else {
            if let Some(parent) = Path::new(path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)?;
            }
            Connection::open(path)?
        };
        conn.busy_timeout(Duration::from_secs(5))?;
        // `journal_mode` answers with the mode now in force; an in-memory database stays
        // in `memory` mode, which is fine.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        Ok(SqliteDb {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    pub(super) async fn begin(&self) -> Result<SqliteTx, DbError> {
        let conn = self.conn.clone().lock_owned().await;
        // IMMEDIATE takes the write lock now, so a transaction never fails half-way on an
        // upgrade from a read lock (another process on the same file would wait instead).
        conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err)?;
        Ok(SqliteTx { conn, open: true })
    }

    pub(super) async fn migrate(&self, migrations: &[Migration]) -> Result<i64, DbError> {
        let tx = self.begin().await?;
        let mut current: i64 = tx
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(map_err)?;
        for m in super::pending(migrations, current)? {
            tx.conn.execute_batch(m.sqlite).map_err(map_err)?;
            // `PRAGMA` takes no bound parameters; the version is an integer we own.
            tx.conn
                .execute_batch(&format!("PRAGMA user_version = {}", m.version))
                .map_err(map_err)?;
            tracing::info!(version = m.version, step = m.description, "schema migrated");
            current = m.version;
        }
        tx.commit()?;
        Ok(current)
    }
}

pub(super) struct SqliteTx {
    conn: OwnedMutexGuard<Connection>,
    open: bool,
}

impl SqliteTx {
    pub(super) fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let mut stmt = self.conn.prepare_cached(&translate(sql)).map_err(map_err)?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter()))
            .map_err(map_err)?;
        Ok(n as u64)
    }

    pub(super) fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut stmt = self.conn.prepare_cached(&translate(sql)).map_err(map_err)?;
        let columns = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(map_err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(map_err)? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Text(t) => Value::Text(
                        std::str::from_utf8(t)
                            .map_err(|_| DbError::ColumnType(i))?
                            .to_owned(),
                    ),
                    ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                    ValueRef::Real(_) => return Err(DbError::ColumnType(i)),
                });
            }
            out.push(Row::new(values));
        }
        Ok(out)
    }

    pub(super) fn commit(mut self) -> Result<(), DbError> {
        self.conn.execute_batch("COMMIT").map_err(map_err)?;
        self.open = false;
        Ok(())
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if self.open {
            // Nothing more can be done if ROLLBACK fails: SQLite then rolls back when the
            // next BEGIN finds the transaction abandoned, or at close.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

/// `$1` → `?1`: SQLite's numbered parameters mean the same as PostgreSQL's. Our statements
/// are constants without `$` inside string literals.
fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn map_err(e: rusqlite::Error) -> DbError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    {
        return DbError::UniqueViolation;
    }
    DbError::Sqlite(e)
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn placeholders_are_numbered_alike() {
        assert_eq!(
            translate("UPDATE t SET a = $1 WHERE b = $12 AND c = '$x'"),
            "UPDATE t SET a = ?1 WHERE b = ?12 AND c = '$x'"
        );
    }
}
