//! `court escrow-keygen` and `court open`: a 3-of-5 ceremony, records sealed by the
//! verifier's code (`credential_formats::escrow::seal`), opened with 3 shares, and every
//! way a share can be refused.

use crate::SpecSeal;
use crate::{TEST_KDF, court, court_with_stdin, failure, now, read_json, s, stderr, stdout, write};
use credential_formats::escrow::{EscrowRecord, seal};
use credential_formats::trust_list::EscrowKey;
use serde_json::Value;
use std::path::{Path, PathBuf};

const PLATFORM: &str = "https://platform.example";
const PSEUDONYM: &str = "q2FfZ3JvdXAtcHNldWRvbnltLWZvci10ZXN0czAwMDA";
const JUDGES: [&str; 5] = ["Judge A", "Judge B", "Judge C", "Judge D", "Judge E"];

struct Ceremony {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    key: EscrowKey,
}

impl Ceremony {
    fn share(&self, x: usize) -> PathBuf {
        self.dir.join(format!("share-{x}.json"))
    }
    fn passphrase(&self, x: usize) -> PathBuf {
        self.dir.join(format!("pass-{x}"))
    }
    fn ceremony(&self) -> PathBuf {
        self.dir.join("out/ceremony.json")
    }
}

fn passphrase_of(x: usize) -> String {
    format!("the passphrase of judge number {x}")
}

/// A 3-of-5 ceremony through the binary.
fn ceremony() -> Ceremony {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().to_path_buf();
    let mut args = vec![
        "escrow-keygen".to_string(),
        "--judges".into(),
        "5".into(),
        "--threshold".into(),
        "3".into(),
        "--court-id".into(),
        "https://court.example.be".into(),
        "--court-name".into(),
        "Chamber for online harassment".into(),
        "--kid".into(),
        "escrow-2026".into(),
        "--out".into(),
        dir.join("out").display().to_string(),
    ];
    for (i, judge) in JUDGES.iter().enumerate() {
        let x = i + 1;
        let pass = write(
            &dir,
            &format!("pass-{x}"),
            &format!("{}\n", passphrase_of(x)),
        );
        args.extend(["--judge".into(), judge.to_string()]);
        args.extend(["--passphrase-file".into(), s(&pass).to_string()]);
    }
    args.extend(TEST_KDF.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = court(&args);
    let text = stdout(&out);
    assert!(text.contains("split 3 of 5"), "{text}");
    assert!(stderr(&out).contains("KDF cost below the default"));
    // Share files stay where the ceremony wrote them; copy them where the tests expect.
    for x in 1..=5 {
        std::fs::copy(
            dir.join(format!("out/share-{x}.json")),
            dir.join(format!("share-{x}.json")),
        )
        .unwrap();
    }
    let key = EscrowKey::from_jwk(&read_json(&dir.join("out/escrow-key.jwk"))).unwrap();
    Ceremony {
        _dir: temp,
        dir,
        key,
    }
}

fn record(handle: &str, check: &str) -> EscrowRecord {
    EscrowRecord {
        person_handle: handle.into(),
        platform_id: PLATFORM.into(),
        pseudonym: PSEUDONYM.into(),
        account_reference: Some("account-42".into()),
        check_id: check.into(),
        time: 1_800_000_000,
        evidence_digest: "ab".repeat(32),
    }
}

/// Two checks of the account, sealed as the verifier seals them.
fn records(c: &Ceremony) -> PathBuf {
    let lines: Vec<String> = [
        record("handle-7Hq", "check-1"),
        record("handle-7Hq", "check-2"),
    ]
    .iter()
    .map(|r| seal(&c.key, r).unwrap().to_compact())
    .collect();
    write(&c.dir, "records.txt", &format!("{}\n", lines.join("\n")))
}

/// `court open` with these share files and passphrase files.
fn open(
    c: &Ceremony,
    shares: &[PathBuf],
    passphrases: &[PathBuf],
    records: &Path,
) -> std::process::Output {
    let mut args = vec![
        "open".to_string(),
        "--ceremony".into(),
        s(&c.ceremony()).into(),
        "--record".into(),
        s(records).into(),
        "--unlogged".into(),
        "--platform".into(),
        PLATFORM.into(),
        "--pseudonym".into(),
        PSEUDONYM.into(),
    ];
    for share in shares {
        args.extend(["--share".into(), s(share).into()]);
    }
    for pass in passphrases {
        args.extend(["--passphrase-file".into(), s(pass).into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    court(&args)
}

fn open_with(c: &Ceremony, xs: &[usize], records: &Path) -> std::process::Output {
    let shares: Vec<_> = xs.iter().map(|&x| c.share(x)).collect();
    let passes: Vec<_> = xs.iter().map(|&x| c.passphrase(x)).collect();
    open(c, &shares, &passes, records)
}

/// Judge `x` re-seals a different share value under their own passphrase, following
/// `spec/escrow-and-court.md` (this also checks the file format from outside the tool).
fn corrupt(c: &Ceremony, x: usize) -> PathBuf {
    let mut file = read_json(&c.share(x));
    let (seal, mut y) = SpecSeal::open(
        &file,
        &["format", "escrow_key", "holder", "x", "threshold"],
        &passphrase_of(x),
    );
    assert_eq!(y.len(), 32);
    y[31] ^= 0x01;
    file["sealed"]["ciphertext"] = Value::from(seal.seal(&y));
    write(
        &c.dir,
        &format!("share-{x}-corrupted.json"),
        &file.to_string(),
    )
}

#[test]
fn three_of_five_judges_open_the_records_the_verifier_sealed() {
    let c = ceremony();
    let out_dir = c.dir.join("out");
    // What the ceremony wrote, and how.
    for x in 1..=5 {
        let share = read_json(&out_dir.join(format!("share-{x}.json")));
        assert_eq!(share["format"], "court-escrow-share/v1");
        assert_eq!(share["x"], x);
        assert_eq!(share["holder"], JUDGES[x - 1]);
        assert_eq!(share["sealed"]["kdf"]["alg"], "argon2id");
        assert_eq!(share["sealed"]["aead"], "XChaCha20-Poly1305");
        #[cfg(unix)]
        assert_eq!(crate::mode(&out_dir.join(format!("share-{x}.json"))), 0o600);
    }
    let jwk = read_json(&out_dir.join("escrow-key.jwk"));
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "X25519");
    assert_eq!(jwk["kid"], "escrow-2026");
    assert!(jwk.get("d").is_none());
    let record = read_json(&c.ceremony());
    assert_eq!(record["threshold"], 3);
    assert_eq!(record["group"], "P-256");
    assert_eq!(record["commitments"].as_array().unwrap().len(), 3);
    assert_eq!(record["holders"][4]["name"], "Judge E");
    // No file of the ceremony holds the private key or a share in clear.
    for entry in std::fs::read_dir(&out_dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains("\"d\""));
    }

    let records = records(&c);
    let out = open_with(&c, &[2, 4, 5], &records);
    let text = stdout(&out);
    let opened: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(opened.len(), 2);
    assert_eq!(opened[0]["person_handle"], "handle-7Hq");
    assert_eq!(opened[0]["check_id"], "check-1");
    assert_eq!(opened[1]["check_id"], "check-2");
    assert_eq!(opened[1]["platform_id"], PLATFORM);
    assert_eq!(opened[1]["pseudonym"], PSEUDONYM);
    let log = stderr(&out);
    assert_eq!(log.matches("accepted: share of").count(), 3, "{log}");
    // The progress lines never show the handle.
    assert!(!log.contains("handle-7Hq"));

    // Records from standard input, and another triple of judges.
    let out = court_with_stdin(
        &[
            "open",
            "--ceremony",
            s(&c.ceremony()),
            "--record",
            "-",
            "--unlogged",
            "--platform",
            PLATFORM,
            "--pseudonym",
            PSEUDONYM,
            "--share",
            s(&c.share(1)),
            "--share",
            s(&c.share(3)),
            "--share",
            s(&c.share(5)),
            "--passphrase-file",
            s(&c.passphrase(1)),
            "--passphrase-file",
            s(&c.passphrase(3)),
            "--passphrase-file",
            s(&c.passphrase(5)),
        ],
        &std::fs::read_to_string(&records).unwrap(),
    );
    assert_eq!(stdout(&out).lines().count(), 2);
}

#[test]
fn the_key_opens_only_the_account_the_records_were_sealed_for() {
    let c = ceremony();
    let records = records(&c);
    let mut args: Vec<String> = [
        "open",
        "--ceremony",
        s(&c.ceremony()),
        "--record",
        s(&records),
        "--unlogged",
        "--platform",
        "https://other.example",
        "--pseudonym",
        PSEUDONYM,
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    for x in [1, 2, 3] {
        args.extend(["--share".into(), s(&c.share(x)).into()]);
        args.extend(["--passphrase-file".into(), s(&c.passphrase(x)).into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let error = failure(&court(&args));
    assert!(
        error.contains("record 1: the sealed escrow record does not open"),
        "{error}"
    );
}

#[test]
fn two_shares_of_three_needed_do_not_open() {
    let c = ceremony();
    let records = records(&c);
    let out = open_with(&c, &[1, 4], &records);
    let error = failure(&out);
    assert!(
        error.contains("not enough good shares: 2 of the 3 needed"),
        "{error}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_corrupted_share_is_detected_and_its_holder_named() {
    let c = ceremony();
    let records = records(&c);
    let bad = corrupt(&c, 2);
    // With only two good shares left, the opening fails and names Judge B.
    let out = open(
        &c,
        &[c.share(1), bad.clone(), c.share(3)],
        &[c.passphrase(1), c.passphrase(2), c.passphrase(3)],
        &records,
    );
    let error = failure(&out);
    assert!(
        error.contains("refused: share of Judge B (x = 2): the share fails the Feldman check"),
        "{error}"
    );
    assert!(error.contains("not enough good shares: 2 of the 3 needed; share of Judge B"));
    // With three good shares besides it, the opening goes on without it.
    let out = open(
        &c,
        &[c.share(1), bad, c.share(3), c.share(4)],
        &[
            c.passphrase(1),
            c.passphrase(2),
            c.passphrase(3),
            c.passphrase(4),
        ],
        &records,
    );
    assert_eq!(stdout(&out).lines().count(), 2);
    assert!(stderr(&out).contains(
        "Judge B (x = 2): the share fails the Feldman check: corrupted [corrupted_share]"
    ));
}

#[test]
fn a_wrong_passphrase_is_refused_and_named() {
    let c = ceremony();
    let records = records(&c);
    let wrong = write(&c.dir, "wrong", "the passphrase of judge number 9\n");
    let out = open(
        &c,
        &[c.share(1), c.share(2), c.share(3)],
        &[c.passphrase(1), wrong.clone(), c.passphrase(3)],
        &records,
    );
    let error = failure(&out);
    assert!(
        error.contains("share of Judge B (x = 2): the passphrase does not open the share file [wrong_passphrase]"),
        "{error}"
    );
    // The same passphrase of another judge is no better.
    let out = open(
        &c,
        &[c.share(1), c.share(2), c.share(3)],
        &[c.passphrase(1), c.passphrase(1), c.passphrase(3)],
        &records,
    );
    assert!(failure(&out).contains("Judge B (x = 2): the passphrase does not open"));
    // A fourth judge makes up for it.
    let out = open(
        &c,
        &[c.share(1), c.share(2), c.share(3), c.share(5)],
        &[c.passphrase(1), wrong, c.passphrase(3), c.passphrase(5)],
        &records,
    );
    assert_eq!(stdout(&out).lines().count(), 2);
}

#[test]
fn a_share_at_zero_or_a_duplicated_x_is_refused() {
    let c = ceremony();
    let records = records(&c);
    let mut zero = read_json(&c.share(3));
    zero["x"] = Value::from(0);
    let zero = write(&c.dir, "share-zero.json", &zero.to_string());
    let out = open(
        &c,
        &[c.share(1), c.share(2), zero],
        &[c.passphrase(1), c.passphrase(2), c.passphrase(3)],
        &records,
    );
    let error = failure(&out);
    assert!(
        error.contains("share of Judge C (x = 0): share at x = 0 refused [share_at_zero]"),
        "{error}"
    );
    assert!(error.contains("not enough good shares: 2 of the 3 needed"));

    // The same share twice counts once.
    let out = open(
        &c,
        &[c.share(1), c.share(2), c.share(2)],
        &[c.passphrase(1), c.passphrase(2), c.passphrase(2)],
        &records,
    );
    let error = failure(&out);
    assert!(
        error.contains("share of Judge B (x = 2): another share has the same x [duplicate_share]"),
        "{error}"
    );

    // Judge D relabels their share as x = 1 to pass for Judge A: refused either way.
    let mut relabelled = read_json(&c.share(4));
    relabelled["x"] = Value::from(1);
    let relabelled = write(&c.dir, "share-relabelled.json", &relabelled.to_string());
    let out = open(
        &c,
        &[c.share(1), relabelled.clone(), c.share(2)],
        &[c.passphrase(1), c.passphrase(4), c.passphrase(2)],
        &records,
    );
    assert!(failure(&out).contains("share of Judge D (x = 1): another share has the same x"));
    let out = open(
        &c,
        &[relabelled, c.share(2), c.share(3)],
        &[c.passphrase(4), c.passphrase(2), c.passphrase(3)],
        &records,
    );
    assert!(
        failure(&out).contains("share of Judge D (x = 1): the ceremony record has no such holder")
    );
}

#[test]
fn the_ceremony_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let pass = write(dir.path(), "p", "a long enough passphrase\n");
    let short = write(dir.path(), "short", "short\n");
    let base = |out: &str| -> Vec<String> {
        [
            "escrow-keygen",
            "--court-id",
            "https://court.example.be",
            "--out",
            out,
            "--kdf-memory-kib",
            "64",
            "--kdf-passes",
            "1",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };
    let run = |extra: &[&str]| {
        let out_dir = dir.path().join("out");
        let mut args = base(s(&out_dir));
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        court(&args)
    };
    let p = s(&pass);
    // Threshold above the number of judges, or 1.
    let error = failure(&run(&[
        "--judges",
        "2",
        "--threshold",
        "3",
        "--passphrase-file",
        p,
        "--passphrase-file",
        p,
    ]));
    assert!(
        error.contains("invalid fewer holders than the threshold"),
        "{error}"
    );
    let error = failure(&run(&[
        "--judges",
        "2",
        "--threshold",
        "1",
        "--passphrase-file",
        p,
        "--passphrase-file",
        p,
    ]));
    assert!(error.contains("threshold 1 of 2"), "{error}");
    // A count that does not match the names, or the passphrases.
    let error = failure(&run(&["--judges", "3", "--judge", "A", "--threshold", "2"]));
    assert!(error.contains("--judges 3 but 1 --judge names"), "{error}");
    let error = failure(&run(&[
        "--judges",
        "2",
        "--threshold",
        "2",
        "--passphrase-file",
        p,
    ]));
    assert!(
        error.contains("1 passphrase files for 2 passphrases"),
        "{error}"
    );
    // A short passphrase.
    let error = failure(&run(&[
        "--judges",
        "2",
        "--threshold",
        "2",
        "--passphrase-file",
        p,
        "--passphrase-file",
        s(&short),
    ]));
    assert!(error.contains("shorter than 12 characters"), "{error}");
    assert!(!dir.path().join("out/ceremony.json").exists());
    // An existing output is never overwritten.
    stdout(&run(&[
        "--judges",
        "2",
        "--threshold",
        "2",
        "--passphrase-file",
        p,
        "--passphrase-file",
        p,
    ]));
    let error = failure(&run(&[
        "--judges",
        "2",
        "--threshold",
        "2",
        "--passphrase-file",
        p,
        "--passphrase-file",
        p,
    ]));
    assert!(error.contains("escrow-key.jwk"), "{error}");
}

#[test]
fn the_trust_list_authority_reads_the_ceremony_entity() {
    let c = ceremony();
    let snippet = std::fs::read_to_string(c.dir.join("out/escrow-key.trust.toml")).unwrap();
    let description = format!("iss = \"https://trust.example.be\"\nsequence = 1\n{snippet}");
    let now = now();
    let list = issuer::trust::build(&description, &c.dir, now).unwrap();
    let entity = list.entity("https://court.example.be").unwrap();
    assert_eq!(entity.name(), "Chamber for online harassment");
    assert_eq!(list.court_escrow_key(now).unwrap(), &c.key);
}
