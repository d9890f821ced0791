//! Rows changed behind the store's back, with SQLite directly.

use wallet_core::Error;

use crate::{batch, open};

#[test]
fn a_sealed_value_copied_into_another_row_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wallet.db");
    let mut store = open(&db);
    let ids = store.save_batch(&batch("b1", 2), 1).unwrap();
    store.put_key("k", b"secret").unwrap();
    drop(store);

    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE credentials SET sealed = (SELECT sealed FROM credentials WHERE id = ?1)
         WHERE id = ?2",
        [&ids[0], &ids[1]],
    )
    .unwrap();
    drop(conn);
    let store = open(&db);
    assert!(store.credential(&ids[0]).unwrap().is_some());
    assert_eq!(
        store.credential(&ids[1]),
        Err(Error::Corrupt("a sealed value does not open"))
    );
    assert!(matches!(store.credentials(), Err(Error::Corrupt(_))));
    drop(store);

    // From another table: a key's sealed secret put into a credential row.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE credentials SET sealed = (SELECT sealed FROM keys WHERE alias = 'k')
         WHERE id = ?1",
        [&ids[0]],
    )
    .unwrap();
    drop(conn);
    let store = open(&db);
    assert!(matches!(store.credential(&ids[0]), Err(Error::Corrupt(_))));
    // The error says what, never which value.
    let text = store.credential(&ids[0]).unwrap_err().to_string();
    assert!(!text.contains(&ids[0]), "{text}");
}

#[test]
fn a_removed_canary_is_corruption_not_a_fresh_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wallet.db");
    drop(open(&db));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("DELETE FROM meta", []).unwrap();
    drop(conn);
    assert!(matches!(
        wallet_core::Store::open(&db, crate::key()),
        Err(Error::Corrupt(_))
    ));
}
