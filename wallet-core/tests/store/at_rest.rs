//! What reaches the disk: nothing personal in clear, in the database file or its WAL.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::{MARKER, copy, open};

/// The store's files that exist now: the database, its WAL and the WAL index.
fn files(db: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{}{suffix}", db.display())))
        .filter(|p| p.exists())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_claim_sd_jwt_type_issuer_key_or_log_entry_reaches_the_disk_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wallet.db");
    let vct = "urn:example:marker-vct-51d7";
    let issuer = "https://issuer-marker-0c2e.example";
    let compact = "eyJhbGciOiJFUzI1NiJ9.COMPACT-MARKER-77aa.sig~WyJzYWx0IiwibmFtZSJd~";
    let key_secret = b"KEY-MARKER-e41b-secret-bytes";
    let alias_marker = "alias-marker-3a90";

    let mut store = open(&db);
    let mut c = copy("b1", 0);
    c.vct = vct.into();
    c.issuer = issuer.into();
    c.compact = compact.into();
    c.key_alias = alias_marker.into();
    c.claims.insert("given_name".into(), json!(MARKER));
    c.status = Some(("https://status-marker-92c1.example/1".into(), 7));
    store.save_batch(&[c.clone(), c], 1).unwrap();
    store.put_key("k1", key_secret).unwrap();
    store
        .append_log(
            &json!({"verifier": "LOG-MARKER-5b3e", "claims": [MARKER]}),
            2,
        )
        .unwrap();
    // A deleted credential's too.
    let mut gone = copy("b2", 0);
    gone.claims
        .insert("family_name".into(), json!("DELETED-MARKER-1f0d"));
    store.save_batch(&[gone], 3).unwrap();
    assert_eq!(store.delete_batch("b2").unwrap(), 1);

    let needles: [&[u8]; 9] = [
        MARKER.as_bytes(),
        vct.as_bytes(),
        issuer.as_bytes(),
        b"COMPACT-MARKER-77aa",
        key_secret,
        alias_marker.as_bytes(),
        b"status-marker-92c1",
        b"LOG-MARKER-5b3e",
        b"DELETED-MARKER-1f0d",
    ];
    let check = |when: &str| {
        for (path, bytes) in files(&db) {
            for needle in needles {
                assert!(
                    !contains(&bytes, needle),
                    "{} found in {} ({when})",
                    String::from_utf8_lossy(needle),
                    path.display()
                );
            }
        }
    };
    // While the store is open, the changes sit in the WAL (checked to be there); after
    // closing, they are checkpointed into the database file.
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    check("open");
    drop(store);
    check("closed");

    // The positive control: the batch id is in clear, by design, and is found.
    let db_bytes = std::fs::read(&db).unwrap();
    assert!(contains(&db_bytes, b"b1"));
    // And everything opens again.
    let store = open(&db);
    assert_eq!(store.credentials().unwrap()[0].claims["given_name"], MARKER);
}
