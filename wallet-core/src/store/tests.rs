use std::collections::HashSet;

use serde_json::json;

use super::*;

fn key() -> Zeroizing<[u8; 32]> {
    Zeroizing::new([7u8; 32])
}

fn store() -> Store {
    Store::open_in_memory(key()).unwrap()
}

fn copy(batch: &str, vct: &str, n: usize) -> NewCredential {
    NewCredential {
        batch_id: batch.into(),
        vct: vct.into(),
        issuer: "https://issuer.example".into(),
        compact: format!("eyJhbGciOiJFUzI1NiJ9.payload-{n}.sig~WyJzYWx0IiwiYWdlIix0cnVlXQ~"),
        key_alias: format!("{batch}-key-{n}"),
        claims: json!({"age_over_18": true, "n": n})
            .as_object()
            .cloned()
            .unwrap(),
        issued_at: Some(1_700_000_000),
        expires_at: Some(1_700_086_400),
        single_use: true,
        status: Some(("https://issuer.example/status/1".into(), n as u64)),
    }
}

fn batch(batch: &str, vct: &str, copies: usize) -> Vec<NewCredential> {
    (0..copies).map(|n| copy(batch, vct, n)).collect()
}

fn as_new(s: &StoredCredential) -> NewCredential {
    NewCredential {
        batch_id: s.batch_id.clone(),
        vct: s.vct.clone(),
        issuer: s.issuer.clone(),
        compact: s.compact.clone(),
        key_alias: s.key_alias.clone(),
        claims: s.claims.clone(),
        issued_at: s.issued_at,
        expires_at: s.expires_at,
        single_use: s.single_use,
        status: s.status.clone(),
    }
}

#[test]
fn a_batch_round_trips() {
    let mut store = store();
    let saved = batch("b1", "urn:example:age", 3);
    let ids = store.save_batch(&saved, 100).unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 3);

    let all = store.credentials().unwrap();
    assert_eq!(all.len(), 3);
    for ((stored, new), id) in all.iter().zip(&saved).zip(&ids) {
        assert_eq!(&stored.id, id);
        assert!(!stored.used);
        assert_eq!(stored.received_at, 100);
        assert_eq!(&as_new(stored), new);
    }
    assert_eq!(store.credential(&ids[1]).unwrap().as_ref(), Some(&all[1]));
    assert_eq!(store.credential("no-such-id").unwrap(), None);
    assert_eq!(store.unused_copies("b1").unwrap(), 3);
    assert_eq!(store.unused_copies("b2").unwrap(), 0);
    assert!(store.integrity_check().unwrap());
}

#[test]
fn an_empty_batch_saves_nothing() {
    let mut store = store();
    assert!(store.save_batch(&[], 1).unwrap().is_empty());
    assert!(store.credentials().unwrap().is_empty());
}

#[test]
fn by_vct_finds_that_type_only() {
    let mut store = store();
    store
        .save_batch(&batch("b1", "urn:example:age", 2), 1)
        .unwrap();
    store
        .save_batch(&batch("b2", "urn:example:pid", 1), 2)
        .unwrap();
    store
        .save_batch(&batch("b3", "urn:example:age", 1), 3)
        .unwrap();
    let age = store.by_vct("urn:example:age").unwrap();
    assert_eq!(age.len(), 3);
    assert!(age.iter().all(|c| c.vct == "urn:example:age"));
    assert_eq!(
        age.iter().map(|c| c.batch_id.as_str()).collect::<Vec<_>>(),
        ["b1", "b1", "b3"]
    );
    assert_eq!(store.by_vct("urn:example:pid").unwrap().len(), 1);
    assert!(store.by_vct("urn:example:none").unwrap().is_empty());
}

#[test]
fn take_unused_copy_gives_each_copy_once_then_none() {
    let mut store = store();
    let ids = store
        .save_batch(&batch("b1", "urn:example:age", 4), 1)
        .unwrap();
    store
        .save_batch(&batch("other", "urn:example:age", 2), 1)
        .unwrap();
    let mut taken = HashSet::new();
    for left in (0..4).rev() {
        let c = store.take_unused_copy("b1").unwrap().unwrap();
        assert!(c.used);
        assert_eq!(c.batch_id, "b1");
        assert!(taken.insert(c.id.clone()), "the same copy was taken twice");
        assert_eq!(store.unused_copies("b1").unwrap(), left);
        assert!(store.credential(&c.id).unwrap().unwrap().used);
    }
    assert_eq!(taken, ids.into_iter().collect());
    assert_eq!(store.take_unused_copy("b1").unwrap(), None);
    assert_eq!(store.take_unused_copy("b1").unwrap(), None);
    assert_eq!(store.take_unused_copy("no-such-batch").unwrap(), None);
    // Another batch is untouched.
    assert_eq!(store.unused_copies("other").unwrap(), 2);
}

#[test]
fn a_credential_that_is_not_single_use_is_taken_without_a_mark() {
    let mut store = store();
    let mut c = copy("q1", "urn:example:qualification", 0);
    c.single_use = false;
    let ids = store.save_batch(&[c], 1).unwrap();
    for _ in 0..3 {
        let taken = store.take_unused_copy("q1").unwrap().unwrap();
        assert_eq!(taken.id, ids[0]);
        assert!(!taken.used);
    }
    assert_eq!(store.unused_copies("q1").unwrap(), 1);
}

#[test]
fn deletes() {
    let mut store = store();
    let ids = store
        .save_batch(&batch("b1", "urn:example:age", 3), 1)
        .unwrap();
    store
        .save_batch(&batch("b2", "urn:example:age", 2), 1)
        .unwrap();
    store.delete_credential(&ids[0]).unwrap();
    assert_eq!(store.delete_credential(&ids[0]), Err(Error::NotFound));
    assert_eq!(store.credential(&ids[0]).unwrap(), None);
    assert_eq!(store.delete_batch("b1").unwrap(), 2);
    assert_eq!(store.delete_batch("b1").unwrap(), 0);
    assert_eq!(store.credentials().unwrap().len(), 2);
}

#[test]
fn the_log_keeps_entries_in_order() {
    let mut store = store();
    assert!(store.log().unwrap().is_empty());
    let entries = [
        json!({"event": "presented", "verifier": "v1", "claims": ["age_over_18"]}),
        json!({"event": "received", "vct": "urn:example:age"}),
        json!({"event": "presented", "verifier": "v2"}),
    ];
    // Times need not grow: the order is the order of appending.
    for (at, entry) in [30, 10, 20].into_iter().zip(&entries) {
        store.append_log(entry, at).unwrap();
    }
    let log = store.log().unwrap();
    assert_eq!(
        log,
        vec![
            (30, entries[0].clone()),
            (10, entries[1].clone()),
            (20, entries[2].clone())
        ]
    );
}

#[test]
fn keys_are_stored_once_per_alias() {
    let mut store = store();
    store.put_key("k1", b"secret one").unwrap();
    assert_eq!(
        store.get_key("k1").unwrap().as_deref().map(|v| &v[..]),
        Some(&b"secret one"[..])
    );
    assert_eq!(store.put_key("k1", b"other"), Err(Error::AlreadyExists));
    assert_eq!(&store.get_key("k1").unwrap().unwrap()[..], b"secret one");
    assert_eq!(store.get_key("k2").unwrap(), None);
    store.delete_key("k1").unwrap();
    assert_eq!(store.get_key("k1").unwrap(), None);
    assert_eq!(store.delete_key("k1"), Err(Error::NotFound));
}

#[test]
fn a_changed_clear_column_is_refused() {
    let mut store = store();
    let ids = store
        .save_batch(&batch("b1", "urn:example:age", 1), 1)
        .unwrap();
    store
        .conn
        .execute("UPDATE credentials SET batch_id = 'b2'", [])
        .unwrap();
    assert!(matches!(store.credential(&ids[0]), Err(Error::Corrupt(_))));
    store
        .conn
        .execute(
            "UPDATE credentials SET batch_id = 'b1', received_at = 2",
            [],
        )
        .unwrap();
    assert!(matches!(store.credential(&ids[0]), Err(Error::Corrupt(_))));
    store
        .conn
        .execute(
            "UPDATE credentials SET received_at = 1, vct_lookup = x'00'",
            [],
        )
        .unwrap();
    assert!(matches!(store.credential(&ids[0]), Err(Error::Corrupt(_))));
    store
        .conn
        .execute(
            "UPDATE credentials SET vct_lookup = ?1",
            [&store.sealer.lookup(VCT_DOMAIN, "urn:example:age")[..]],
        )
        .unwrap();
    assert!(store.credential(&ids[0]).unwrap().is_some());
}

#[test]
fn a_moved_log_entry_or_key_does_not_open() {
    let mut store = store();
    store.append_log(&json!({"n": 1}), 1).unwrap();
    store.append_log(&json!({"n": 2}), 2).unwrap();
    store
        .conn
        .execute(
            "UPDATE log SET sealed = (SELECT sealed FROM log WHERE seq = 1) WHERE seq = 2",
            [],
        )
        .unwrap();
    assert!(matches!(store.log(), Err(Error::Corrupt(_))));

    store.put_key("a", b"key a").unwrap();
    store.put_key("b", b"key b").unwrap();
    store
        .conn
        .execute(
            "UPDATE keys SET sealed = (SELECT sealed FROM keys WHERE alias = 'a') WHERE alias = 'b'",
            [],
        )
        .unwrap();
    assert!(matches!(store.get_key("b"), Err(Error::Corrupt(_))));
    assert_eq!(&store.get_key("a").unwrap().unwrap()[..], b"key a");
}

#[test]
fn a_full_store_says_so_rolls_back_and_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("wallet.db"), key()).unwrap();
    let before = store
        .save_batch(&batch("small", "urn:example:age", 2), 1)
        .unwrap();
    let pages: i64 = store
        .conn
        .pragma_query_value(None, "page_count", |r| r.get(0))
        .unwrap();
    store
        .conn
        .pragma_update(None, "max_page_count", pages + 2)
        .unwrap();

    // ~300 copies of 4 KiB each cannot fit in two more pages.
    let mut big = batch("big", "urn:example:age", 300);
    for c in &mut big {
        c.compact.push_str(&"x".repeat(4096));
    }
    let err = store.save_batch(&big, 2).unwrap_err();
    assert_eq!(err, Error::Full);
    assert!(err.to_string().contains("full"), "{err}");

    // Nothing of the big batch, everything from before.
    assert_eq!(store.unused_copies("big").unwrap(), 0);
    let ids: Vec<_> = store
        .credentials()
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, before);
    assert!(store.integrity_check().unwrap());

    // Still usable: a take (a write) works at once, and a save once there is room.
    assert!(store.take_unused_copy("small").unwrap().is_some());
    store
        .conn
        .pragma_update(None, "max_page_count", 1_073_741_823)
        .unwrap();
    assert_eq!(store.save_batch(&big[..3], 3).unwrap().len(), 3);
}

#[test]
fn batches_list_one_credential_each_with_the_copies_left() {
    let mut store = store();
    store
        .save_batch(&batch("b1", "urn:example:age", 3), 100)
        .unwrap();
    store
        .save_batch(&batch("b2", "urn:example:pid", 1), 101)
        .unwrap();
    store.take_unused_copy("b1").unwrap().unwrap();
    let listed = store.batches().unwrap();
    let summary: Vec<(&str, &str, usize)> = listed
        .iter()
        .map(|(c, n)| (c.batch_id.as_str(), c.vct.as_str(), *n))
        .collect();
    assert_eq!(
        summary,
        [("b1", "urn:example:age", 2), ("b2", "urn:example:pid", 1)]
    );
}

#[test]
fn settings_are_sealed_replaced_and_never_the_canary() {
    let mut store = store();
    assert_eq!(store.setting("trust_list").unwrap(), None);
    store.put_setting("trust_list", b"first").unwrap();
    store.put_setting("trust_list", b"second").unwrap();
    assert_eq!(
        &store.setting("trust_list").unwrap().unwrap()[..],
        b"second"
    );
    assert_eq!(
        store.put_setting(CANARY_KEY, b"x"),
        Err(Error::AlreadyExists)
    );
}
