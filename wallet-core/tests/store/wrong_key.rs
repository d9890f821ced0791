//! A wrong storage key: refused by the canary, and nothing in the file changes.

use wallet_core::{Error, Store};
use zeroize::Zeroizing;

use crate::{batch, open};

#[test]
fn a_wrong_key_is_refused_and_the_data_is_intact() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wallet.db");
    let mut store = open(&db);
    let ids = store.save_batch(&batch("b1", 3), 1).unwrap();
    store.put_key("k", b"secret").unwrap();
    store.take_unused_copy("b1").unwrap().unwrap();
    drop(store);
    let before = std::fs::read(&db).unwrap();

    for wrong in [[0u8; 32], [43u8; 32]] {
        let err = Store::open(&db, Zeroizing::new(wrong)).unwrap_err();
        assert_eq!(err, Error::WrongKey);
        assert!(!err.to_string().contains("42"), "{err}");
    }
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "a wrong key modified the file"
    );

    let store = open(&db);
    let all = store.credentials().unwrap();
    assert_eq!(all.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(store.unused_copies("b1").unwrap(), 2);
    assert_eq!(&store.get_key("k").unwrap().unwrap()[..], b"secret");
    assert!(store.integrity_check().unwrap());
}

#[test]
fn a_file_that_is_not_a_wallet_store_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();

    let other = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
        .unwrap();
    drop(conn);
    let before = std::fs::read(&other).unwrap();
    assert!(matches!(
        Store::open(&other, crate::key()),
        Err(Error::Corrupt(_))
    ));
    assert_eq!(std::fs::read(&other).unwrap(), before);

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    assert!(matches!(
        Store::open(&garbage, crate::key()),
        Err(Error::Corrupt(_))
    ));
}

#[test]
fn a_store_from_a_newer_wallet_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wallet.db");
    drop(open(&db));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    assert_eq!(
        Store::open(&db, crate::key()).unwrap_err(),
        Error::TooNew(99)
    );
}
