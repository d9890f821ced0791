use super::*;
use crate::case::tests::test_log;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential_formats::translog::consistency_proof;
use serde_json::json;

const ORIGIN: &str = "verifier.example.be/court-orders";
const R_ORIGIN: &str = "register.example.be/court-orders";
const T0: i64 = 1_800_000_000;
const HOUR: i64 = 3600;

fn digest(n: u8) -> String {
    URL_SAFE_NO_PAD.encode([n; 32])
}

fn order(n: u8, received_at: i64, deadline: i64) -> Vec<u8> {
    json!({
        "type": "court_order", "order_sha256": digest(n), "received_at": received_at,
        "deadline": deadline, "records": 1, "returned_sha256": digest(0),
    })
    .to_string()
    .into_bytes()
}

fn resolution(n: u8, index: u64, received_at: i64) -> Vec<u8> {
    json!({
        "type": "register_resolution", "order_sha256": digest(n),
        "verifier_log": {"origin": ORIGIN, "index": index, "tree_size": index + 1},
        "received_at": received_at, "deadline": T0 + 48 * HOUR, "found": true,
        "returned_sha256": digest(0),
    })
    .to_string()
    .into_bytes()
}

fn entries(n: u8) -> Vec<Vec<u8>> {
    (0..n).map(|i| order(i, T0, T0 + 24 * HOUR)).collect()
}

fn indexed(entries: &[Vec<u8>]) -> Vec<(u64, Vec<u8>)> {
    (0u64..).zip(entries.iter().cloned()).collect()
}

fn leaves(entries: &[Vec<u8>]) -> Vec<Hash> {
    entries.iter().map(|e| leaf_hash(e)).collect()
}

#[test]
fn a_good_log_audits_clean() {
    let log = test_log(ORIGIN, 1);
    for n in [0u8, 1, 5, 17] {
        let all = entries(n);
        let verified = verify_log(&log.key, &log.note(ORIGIN, &all), indexed(&all)).unwrap();
        assert_eq!(verified.checkpoint.size, u64::from(n));
        assert_eq!(verified.entries, all);
        assert_eq!(check_history(&verified, None, None), Ok(History::FirstSeen));
    }
}

#[test]
fn an_entry_served_differently_from_what_was_signed_is_a_root_mismatch() {
    let log = test_log(ORIGIN, 1);
    let all = entries(6);
    let note = log.note(ORIGIN, &all);
    let mut served = indexed(&all);
    served[3].1 = order(3, T0, T0 + 99 * HOUR);
    assert_eq!(
        verify_log(&log.key, &note, served).unwrap_err(),
        AuditError::RootMismatch
    );
    // One held back, or served out of order.
    let mut short = indexed(&all);
    short.pop();
    assert!(matches!(
        verify_log(&log.key, &note, short),
        Err(AuditError::Entries { .. })
    ));
    let mut swapped = indexed(&all);
    swapped.swap(1, 2);
    assert!(matches!(
        verify_log(&log.key, &note, swapped),
        Err(AuditError::Entries { .. })
    ));
}

#[test]
fn a_checkpoint_by_another_key_or_of_another_origin_fails() {
    let log = test_log(ORIGIN, 1);
    let all = entries(3);
    let impostor = test_log(ORIGIN, 2);
    assert_eq!(
        verify_log(&log.key, &impostor.note(ORIGIN, &all), indexed(&all)).unwrap_err(),
        AuditError::Checkpoint(TranslogError::BadSignature)
    );
    let other = log.note("verifier.example.be/other", &all);
    assert!(matches!(
        verify_log(&log.key, &other, indexed(&all)),
        Err(AuditError::Checkpoint(_))
    ));
}

fn state_of(log: &VerifiedLog) -> LogState {
    let mut state = AuditState::default();
    state.remember(log);
    state.logs.remove(&log.checkpoint.origin).unwrap()
}

#[test]
fn a_truncated_log_is_detected_against_the_stored_state() {
    let log = test_log(ORIGIN, 1);
    let all = entries(8);
    let before = verify_log(&log.key, &log.note(ORIGIN, &all), indexed(&all)).unwrap();
    let state = state_of(&before);
    let cut = &all[..5];
    let now = verify_log(&log.key, &log.note(ORIGIN, cut), indexed(cut)).unwrap();
    assert_eq!(consistency_needed(&now, Some(&state)), None);
    let err = check_history(&now, Some(&state), None).unwrap_err();
    assert_eq!(err, AuditError::Shrank { before: 8, now: 5 });
    assert!(err.to_string().contains("shrank (truncated)"));
}

#[test]
fn the_same_size_with_another_root_is_a_split_view() {
    let log = test_log(ORIGIN, 1);
    let all = entries(4);
    let seen = verify_log(&log.key, &log.note(ORIGIN, &all), indexed(&all)).unwrap();
    let state = state_of(&seen);
    assert_eq!(
        check_history(&seen, Some(&state), None),
        Ok(History::Unchanged)
    );
    let mut other = all.clone();
    other[2] = order(42, T0, T0 + HOUR);
    let forked = verify_log(&log.key, &log.note(ORIGIN, &other), indexed(&other)).unwrap();
    let err = check_history(&forked, Some(&state), None).unwrap_err();
    assert_eq!(err, AuditError::SplitView { size: 4 });
    assert!(err.to_string().contains("split view"));
}

#[test]
fn a_grown_log_needs_a_good_consistency_proof() {
    let log = test_log(ORIGIN, 1);
    let all = entries(11);
    let old = verify_log(&log.key, &log.note(ORIGIN, &all[..6]), indexed(&all[..6])).unwrap();
    let state = state_of(&old);
    let new = verify_log(&log.key, &log.note(ORIGIN, &all), indexed(&all)).unwrap();
    assert_eq!(consistency_needed(&new, Some(&state)), Some((6, 11)));
    let proof = consistency_proof(6, &leaves(&all)).unwrap();
    assert_eq!(
        check_history(&new, Some(&state), Some(&proof)),
        Ok(History::Grew { from: 6 })
    );
    // A proof that was tampered with, a missing proof, a proof for other sizes.
    let mut bad = proof.clone();
    bad[0][0] ^= 1;
    assert!(matches!(
        check_history(&new, Some(&state), Some(&bad)),
        Err(AuditError::Inconsistent { .. })
    ));
    assert!(matches!(
        check_history(&new, Some(&state), None),
        Err(AuditError::Inconsistent { .. })
    ));
    let other = consistency_proof(5, &leaves(&all)).unwrap();
    assert!(check_history(&new, Some(&state), Some(&other)).is_err());
    // A rewritten history that grew: the old checkpoint is not a prefix of it.
    let mut rewritten = all.clone();
    rewritten[1] = order(77, T0, T0 + HOUR);
    let new = verify_log(&log.key, &log.note(ORIGIN, &rewritten), indexed(&rewritten)).unwrap();
    let proof = consistency_proof(6, &leaves(&rewritten)).unwrap();
    assert!(matches!(
        check_history(&new, Some(&state), Some(&proof)),
        Err(AuditError::Inconsistent { .. })
    ));
    // From an empty log, anything is an extension.
    let empty = verify_log(&log.key, &log.note(ORIGIN, &[]), Vec::new()).unwrap();
    assert_eq!(consistency_needed(&new, Some(&state_of(&empty))), None);
    assert_eq!(
        check_history(&new, Some(&state_of(&empty)), None),
        Ok(History::Grew { from: 0 })
    );
}

#[test]
fn the_state_file_is_written_then_renamed_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit-state.json");
    assert_eq!(AuditState::load(&path).unwrap(), AuditState::default());
    let log = test_log(ORIGIN, 1);
    let all = entries(3);
    let verified = verify_log(&log.key, &log.note(ORIGIN, &all), indexed(&all)).unwrap();
    let mut state = AuditState::default();
    state.remember(&verified);
    state.save(&path).unwrap();
    state.save(&path).unwrap();
    assert_eq!(AuditState::load(&path).unwrap(), state);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("audit-state.json")]);
    std::fs::write(&path, "{\"logs\": 3}").unwrap();
    assert!(AuditState::load(&path).is_err());
    // A root that is not a hash is refused when compared, not ignored.
    let mut broken = state.logs[ORIGIN].clone();
    broken.root = "not base64".into();
    assert_eq!(
        check_history(&verified, Some(&broken), None),
        Err(AuditError::BadState)
    );
}

#[test]
fn openings_are_matched_with_resolutions_and_given_a_deadline_status() {
    let now = T0 + 30 * HOUR;
    let verifier = vec![
        // 0: resolved after 3 h 12 min.
        order(0, T0, T0 + 48 * HOUR),
        // 1: resolved after 26 h, after its deadline of 25 h.
        order(1, T0, T0 + 25 * HOUR),
        // 2: unresolved, deadline passed.
        order(2, T0, T0 + 29 * HOUR),
        // 3: unresolved, deadline in 2 h.
        order(3, T0 + 20 * HOUR, T0 + 32 * HOUR),
        // 4: unresolved, deadline in 10 h.
        order(4, T0 + 25 * HOUR, T0 + 40 * HOUR),
        b"not json".to_vec(),
    ];
    let register = vec![
        resolution(0, 0, T0 + 3 * HOUR + 12 * 60),
        resolution(1, 1, T0 + 26 * HOUR),
        // An order the verifier never logged.
        resolution(9, 7, T0 + HOUR),
        // A resolution that names the wrong verifier entry for its order.
        resolution(0, 3, T0 + 4 * HOUR),
    ];
    let report = openings(ORIGIN, &verifier, &register, now, 4 * HOUR);
    let texts: Vec<String> = report.openings.iter().map(|o| o.status_text()).collect();
    assert_eq!(
        texts,
        vec![
            "resolved in 3 h 12 min",
            "resolved in 26 h 0 min, over 24 h, after the deadline",
            "overdue, over 24 h",
            "due soon",
            "within deadline",
        ]
    );
    assert_eq!(report.openings[0].resolutions.len(), 2);
    assert!(report.has_overdue());
    assert_eq!(
        report.anomalies,
        vec![
            Anomaly::UnreadableEntry {
                log: "verifier",
                index: 5
            },
            Anomaly::ResolutionWithoutOrder {
                index: 2,
                order_sha256: digest(9)
            },
            Anomaly::WrongVerifierReference { index: 3 },
        ]
    );
    // Verifier entries of another log origin in the register's references are anomalies too.
    let report = openings(R_ORIGIN, &verifier[..1], &register[..1], now, 4 * HOUR);
    assert_eq!(
        report.anomalies,
        vec![Anomaly::WrongVerifierReference { index: 0 }]
    );
    // The report serialises for --json.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["openings"][0]["status"], "resolved");
}

#[test]
fn a_replayed_order_in_the_log_is_an_anomaly() {
    let verifier = vec![order(0, T0, T0 + HOUR), order(0, T0 + 5, T0 + HOUR)];
    let report = openings(ORIGIN, &verifier, &[], T0, HOUR);
    assert_eq!(report.openings.len(), 1);
    assert_eq!(report.anomalies, vec![Anomaly::DuplicateOrder { index: 1 }]);
}
