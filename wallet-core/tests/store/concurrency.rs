//! Several handles on one file: concurrent takers never get the same copy.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use crate::{batch, open};

#[test]
fn concurrent_takers_never_get_the_same_copy() {
    const COPIES: usize = 60;
    const TAKERS: usize = 3;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wallet.db");
    let ids: HashSet<String> = open(&db)
        .save_batch(&batch("b1", COPIES), 1)
        .unwrap()
        .into_iter()
        .collect();

    let barrier = Arc::new(Barrier::new(TAKERS));
    let takers: Vec<_> = (0..TAKERS)
        .map(|_| {
            let db = db.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let mut store = open(&db);
                barrier.wait();
                let mut taken = Vec::new();
                while let Some(c) = store.take_unused_copy("b1").unwrap() {
                    assert!(c.used);
                    taken.push(c.id);
                }
                taken
            })
        })
        .collect();
    let taken: Vec<Vec<String>> = takers.into_iter().map(|t| t.join().unwrap()).collect();

    let all: Vec<&String> = taken.iter().flatten().collect();
    assert_eq!(all.len(), COPIES, "every copy taken exactly once");
    let distinct: HashSet<String> = all.into_iter().cloned().collect();
    assert_eq!(distinct, ids);
    let store = open(&db);
    assert_eq!(store.unused_copies("b1").unwrap(), 0);
    assert!(store.credentials().unwrap().iter().all(|c| c.used));
}
