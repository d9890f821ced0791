//! The same checks against SQLite and, when `TEST_POSTGRES_URL` is set, PostgreSQL.

use super::*;

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "items",
        sqlite: "CREATE TABLE items (id TEXT PRIMARY KEY, n INTEGER NOT NULL, data BLOB, note TEXT)",
        postgres: "CREATE TABLE items (id TEXT PRIMARY KEY, n BIGINT NOT NULL, data BYTEA, note TEXT)",
    },
    Migration {
        version: 2,
        description: "items.flag",
        sqlite: "ALTER TABLE items ADD COLUMN flag INTEGER NOT NULL DEFAULT 0",
        postgres: "ALTER TABLE items ADD COLUMN flag BIGINT NOT NULL DEFAULT 0",
    },
];

/// A fresh database of each engine available here.
pub(crate) async fn engines() -> Vec<(Db, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/test.db");
    let mut dbs = vec![(
        Db::connect(path.to_str().unwrap()).await.unwrap(),
        Some(dir),
    )];
    if let Ok(url) = std::env::var("TEST_POSTGRES_URL") {
        let schema = format!(
            "t_{}",
            credential_formats::crypto::random_token(9)
                .unwrap()
                .to_ascii_lowercase()
                .replace('-', "_")
        );
        dbs.push((
            Db::connect_in_schema(&url, Some(&schema)).await.unwrap(),
            None,
        ));
    }
    dbs
}

#[tokio::test]
async fn migrations_apply_once_and_in_order() {
    for (db, _dir) in engines().await {
        assert_eq!(db.migrate(&MIGRATIONS[..1]).await.unwrap(), 1);
        assert_eq!(db.migrate(MIGRATIONS).await.unwrap(), 2);
        assert_eq!(db.migrate(MIGRATIONS).await.unwrap(), 2);
        db.execute(
            "INSERT INTO items (id, n, flag) VALUES ($1, $2, $3)",
            params!["a", 1i64, true],
        )
        .await
        .unwrap();
        // An older program refuses a newer schema instead of writing into it.
        let err = db.migrate(&MIGRATIONS[..1]).await.unwrap_err();
        assert!(
            matches!(err, DbError::SchemaTooNew { found: 2, known: 1 }),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn values_round_trip() {
    for (db, _dir) in engines().await {
        db.migrate(MIGRATIONS).await.unwrap();
        db.execute(
            "INSERT INTO items (id, n, data, note) VALUES ($1, $2, $3, $4)",
            params!["x", -7i64, vec![0u8, 255, 1], None::<String>],
        )
        .await
        .unwrap();
        let row = db
            .query_opt(
                "SELECT id, n, data, note, flag FROM items WHERE id = $1",
                params!["x"],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.text(0).unwrap(), "x");
        assert_eq!(row.int(1).unwrap(), -7);
        assert_eq!(row.bytes(2).unwrap(), &[0, 255, 1]);
        assert_eq!(row.opt_text(3).unwrap(), None);
        assert_eq!(row.int(4).unwrap(), 0);
        assert!(matches!(row.text(1), Err(DbError::ColumnType(1))));
        assert!(
            db.query_opt("SELECT id FROM items WHERE id = $1", params!["nope"])
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn unique_violations_are_recognised() {
    for (db, _dir) in engines().await {
        db.migrate(MIGRATIONS).await.unwrap();
        db.execute("INSERT INTO items (id, n) VALUES ($1, 1)", params!["k"])
            .await
            .unwrap();
        let err = db
            .execute("INSERT INTO items (id, n) VALUES ($1, 2)", params!["k"])
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::UniqueViolation), "{err:?}");
        // The failed statement left the handle usable.
        assert_eq!(
            db.execute("UPDATE items SET n = n + 1 WHERE id = $1", params!["k"])
                .await
                .unwrap(),
            1
        );
    }
}

#[tokio::test]
async fn a_dropped_transaction_rolls_back() {
    for (db, _dir) in engines().await {
        db.migrate(MIGRATIONS).await.unwrap();
        {
            let mut tx = db.begin().await.unwrap();
            tx.execute("INSERT INTO items (id, n) VALUES ($1, 1)", params!["gone"])
                .await
                .unwrap();
            // Dropped: as when a handler fails half-way with `?`.
        }
        let mut tx = db.begin().await.unwrap();
        tx.execute("INSERT INTO items (id, n) VALUES ($1, 1)", params!["kept"])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let rows = db
            .query("SELECT id FROM items ORDER BY id", params![])
            .await
            .unwrap();
        let ids: Vec<&str> = rows.iter().map(|r| r.text(0).unwrap()).collect();
        assert_eq!(ids, ["kept"]);
    }
}

#[tokio::test]
async fn conditional_updates_and_returning_agree_across_engines() {
    for (db, _dir) in engines().await {
        db.migrate(MIGRATIONS).await.unwrap();
        db.execute(
            "INSERT INTO items (id, n) VALUES ($1, $2)",
            params!["acct", 10i64],
        )
        .await
        .unwrap();
        let debit = "UPDATE items SET n = n - $2 WHERE id = $1 AND n >= $2 RETURNING n";
        let left = db
            .query_opt(debit, params!["acct", 7i64])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(left.int(0).unwrap(), 3);
        assert!(
            db.query_opt(debit, params!["acct", 7i64])
                .await
                .unwrap()
                .is_none()
        );
        let upsert = "INSERT INTO items (id, n) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING";
        assert_eq!(db.execute(upsert, params!["acct", 99i64]).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn concurrent_debits_never_overdraw() {
    for (db, _dir) in engines().await {
        db.migrate(MIGRATIONS).await.unwrap();
        db.execute(
            "INSERT INTO items (id, n) VALUES ($1, $2)",
            params!["acct", 5i64],
        )
        .await
        .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                db.execute(
                    "UPDATE items SET n = n - 1 WHERE id = $1 AND n >= 1",
                    params!["acct"],
                )
                .await
                .unwrap()
            }));
        }
        let mut done = 0;
        for t in tasks {
            done += t.await.unwrap();
        }
        assert_eq!(done, 5);
        let row = db
            .query_opt("SELECT n FROM items WHERE id = $1", params!["acct"])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.int(0).unwrap(), 0);
    }
}

#[tokio::test]
async fn urls_choose_the_engine() {
    assert_eq!(
        Db::connect("sqlite::memory:").await.unwrap().engine(),
        Engine::Sqlite
    );
    assert!(matches!(
        Db::connect("sqlite:").await,
        Err(DbError::InvalidUrl(_))
    ));
    assert!(matches!(
        Db::connect_in_schema("postgres://localhost/x", Some("Bad-Name")).await,
        Err(DbError::InvalidUrl(_))
    ));
}
