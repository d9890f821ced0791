//! The PostgreSQL engine: a deadpool connection pool over tokio-postgres.

use std::error::Error as StdError;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Config, NoTls};

use super::{DbError, Migration, Row, Value};

/// One advisory-lock key for schema changes, so replicas starting together migrate once.
const MIGRATION_LOCK: i64 = 0x6964_656e_7469_7479;

/// Connections per process: enough for the services' short transactions on two cores.
const POOL_SIZE: usize = 16;

pub(super) struct PgDb {
    pool: Pool,
}

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgDb")
    }
}

fn pool_err(e: impl std::fmt::Display) -> DbError {
    DbError::Pool(e.to_string())
}

impl PgDb {
    pub(super) async fn connect(url: &str, schema: Option<&str>) -> Result<PgDb, DbError> {
        let mut config: Config = url
            .parse()
            .map_err(|_| DbError::InvalidUrl("not a PostgreSQL connection URL"))?;
        if let Some(schema) = schema {
            if schema.is_empty()
                || !schema
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(DbError::InvalidUrl(
                    "schema names are lower-case letters, digits and _",
                ));
            }
            config.options(format!("-c search_path={schema}"));
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(pool_err)?;
        // Connect now, so that a wrong URL fails at start rather than at the first request.
        let client = pool.get().await.map_err(pool_err)?;
        if let Some(schema) = schema {
            // Two first starts may race on the catalog; the loser finds the schema there.
            let create = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
            if client.batch_execute(&create).await.is_err() {
                client.batch_execute(&create).await?;
            }
        }
        Ok(PgDb { pool })
    }

    pub(super) async fn begin(&self) -> Result<PgTx, DbError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client.batch_execute("BEGIN").await?;
        Ok(PgTx {
            client: Some(client),
        })
    }

    pub(super) async fn migrate(&self, migrations: &[Migration]) -> Result<i64, DbError> {
        let mut tx = self.begin().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[Value::Int(MIGRATION_LOCK)],
        )
        .await?;
        tx.client()?
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    description TEXT NOT NULL,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            )
            .await?;
        let rows = tx
            .query(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
                &[],
            )
            .await?;
        let mut current = rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0);
        for m in super::pending(migrations, current)? {
            tx.client()?.batch_execute(m.postgres).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, description) VALUES ($1, $2)",
                &[Value::Int(m.version), Value::from(m.description)],
            )
            .await?;
            tracing::info!(version = m.version, step = m.description, "schema migrated");
            current = m.version;
        }
        tx.commit().await?;
        Ok(current)
    }
}

pub(super) struct PgTx {
    // `None` once committed.
    client: Option<Object>,
}

impl PgTx {
    fn client(&self) -> Result<&Object, DbError> {
        self.client
            .as_ref()
            .ok_or_else(|| pool_err("transaction already finished"))
    }

    pub(super) async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let client = self.client()?;
        let stmt = client.prepare_cached(sql).await.map_err(map_err)?;
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        client.execute(&stmt, &refs).await.map_err(map_err)
    }

    pub(super) async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let client = self.client()?;
        let stmt = client.prepare_cached(sql).await.map_err(map_err)?;
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let rows = client.query(&stmt, &refs).await.map_err(map_err)?;
        rows.iter().map(convert_row).collect()
    }

    pub(super) async fn commit(mut self) -> Result<(), DbError> {
        let client = self.client()?;
        client.batch_execute("COMMIT").await.map_err(map_err)?;
        // Back to the pool, clean.
        self.client = None;
        Ok(())
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // An abandoned transaction: detach the connection from the pool and drop it, so
            // the server rolls the transaction back and no one reuses it half-done.
            drop(Object::take(client));
        }
    }
}

fn convert_row(row: &tokio_postgres::Row) -> Result<Row, DbError> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let value = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(i64::from(v)))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(i64::from(v)))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?
                .map(|v| Value::Int(i64::from(v)))
        } else if *ty == Type::TEXT || *ty == Type::VARCHAR || *ty == Type::BPCHAR {
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Bytes)
        } else {
            return Err(DbError::ColumnType(i));
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row::new(values))
}

fn map_err(e: tokio_postgres::Error) -> DbError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        DbError::UniqueViolation
    } else {
        DbError::Postgres(e)
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => {
                if *ty == Type::INT8 {
                    v.to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    i32::try_from(*v)?.to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(*v)?.to_sql(ty, out)
                } else if *ty == Type::BOOL {
                    (*v != 0).to_sql(ty, out)
                } else {
                    Err("an integer bound to a non-integer column".into())
                }
            }
            Value::Text(t) => t.as_str().to_sql(ty, out),
            Value::Bytes(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in `to_sql`, where the column type is known.
        true
    }

    to_sql_checked!();
}
