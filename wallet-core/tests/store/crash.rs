//! Crashes: a child process (this test binary, run again with `CRASH_CHILD` set) works on
//! the store and is killed with SIGKILL; the parent reopens the file and checks it.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use crate::{batch, open};

/// Tells a run of this binary that it is the child, and what to do.
const CHILD_MODE: &str = "WALLET_CORE_CRASH_CHILD";
const CHILD_DB: &str = "WALLET_CORE_CRASH_DB";
const COPIES: usize = 5;

/// The child's side. In an ordinary test run (no `CRASH_CHILD`) it does nothing.
#[test]
fn crash_child() {
    let (Ok(mode), Ok(db)) = (std::env::var(CHILD_MODE), std::env::var(CHILD_DB)) else {
        return;
    };
    let mut store = open(Path::new(&db));
    match mode.as_str() {
        // Save batches forever, saying which were committed.
        "save" => {
            for i in 0.. {
                let id = format!("{}-{i}", std::process::id());
                store.save_batch(&batch(&id, COPIES), i).unwrap();
                say(&format!("SAVED {id}"));
            }
        }
        // Take one copy, say which, then "send" it: the parent kills us meanwhile.
        "take" => {
            let copy = store.take_unused_copy("b1").unwrap().unwrap();
            say(&format!("TOOK {}", copy.id));
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
        other => panic!("unknown child mode {other}"),
    }
}

/// Writes a line to the parent at once (stdout to a pipe may be block-buffered).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

/// A child process, killed with SIGKILL when dropped, so that a failing test leaves none
/// behind (`Child::kill` is SIGKILL on Unix: no destructor, rollback or checkpoint runs).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Killed {
    /// Kills the child now and checks that it did not finish on its own.
    fn kill(mut self) {
        self.0.kill().unwrap();
        assert!(!self.0.wait().unwrap().success());
    }
}

fn spawn(mode: &str, db: &Path) -> (Killed, BufReader<ChildStdout>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash::crash_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_MODE, mode)
        .env(CHILD_DB, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    (Killed(child), out)
}

/// Reads the child's lines until `want` of them hold `prefix`; returns what follows it.
fn read_until(out: &mut BufReader<ChildStdout>, prefix: &str, want: usize) -> Vec<String> {
    let mut found = Vec::new();
    let mut line = String::new();
    while found.len() < want {
        line.clear();
        assert_ne!(
            out.read_line(&mut line).unwrap(),
            0,
            "the child ended early"
        );
        // libtest may have written "test crash::crash_child ... " before it on the line.
        if let Some(at) = line.find(prefix) {
            found.push(line[at + prefix.len()..].trim_end().to_string());
        }
    }
    found
}

#[test]
fn a_killed_writer_leaves_every_batch_complete_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wallet.db");
    drop(open(&db));
    let mut committed = HashSet::new();
    // Several rounds, killed after different numbers of commits and a different delay
    // after the last one, so that the kill lands at different points of a transaction.
    for (want, delay_ms) in [
        (3, 0),
        (2, 1),
        (5, 2),
        (1, 3),
        (4, 5),
        (2, 8),
        (6, 13),
        (3, 21),
    ] {
        let (child, mut out) = spawn("save", &db);
        committed.extend(read_until(&mut out, "SAVED ", want));
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill();

        let store = open(&db);
        assert!(store.integrity_check().unwrap());
        let mut per_batch: HashMap<String, usize> = HashMap::new();
        for c in store.credentials().unwrap() {
            *per_batch.entry(c.batch_id).or_default() += 1;
        }
        for (batch, n) in &per_batch {
            assert_eq!(*n, COPIES, "batch {batch} is partial");
        }
        for batch in &committed {
            assert_eq!(
                per_batch.get(batch),
                Some(&COPIES),
                "committed {batch} is lost"
            );
        }
    }
}

#[test]
fn a_copy_taken_before_a_crash_is_never_available_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wallet.db");
    open(&db).save_batch(&batch("b1", 3), 1).unwrap();

    let mut taken = HashSet::new();
    for left in (0..3).rev() {
        let (child, mut out) = spawn("take", &db);
        let id = read_until(&mut out, "TOOK ", 1).remove(0);
        // Killed while "sending" the copy.
        child.kill();
        assert!(taken.insert(id.clone()), "a copy was handed out twice");

        let store = open(&db);
        assert!(store.credential(&id).unwrap().unwrap().used);
        assert_eq!(store.unused_copies("b1").unwrap(), left);
    }
    assert!(open(&db).take_unused_copy("b1").unwrap().is_none());
}
