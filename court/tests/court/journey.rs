//! The whole path, on loopback, with the real services and the court's tool as the court
//! runs it: a citizen verifies at a platform; a judge signs an order for that pseudonym; the
//! verifier logs it and returns the sealed record; two of three judges open it; the register
//! resolves the handle; the identity is the citizen's; the audit of both logs shows the
//! opening. Then the audit catches an altered and a truncated log.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use issuer::LocalIssuer;
use serde_json::{Value, json};
use verifier::{LocalOptions, LocalVerifier};
use wallet_core::{DefaultTransport, Wallet, WalletConfig};
use zeroize::Zeroizing;

use crate::{TEST_KDF, court, failure, read_json, s, stdout, write};

struct Court {
    dir: PathBuf,
}

impl Court {
    fn ceremony(&self) -> PathBuf {
        self.dir.join("ceremony")
    }
    fn judge(&self) -> PathBuf {
        self.dir.join("judge")
    }
    fn passphrase(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.pass"))
    }
}

/// The court's ceremony (2 of 3) and a judge's key, made with the tool before the trust list
/// is signed; their public parts handed to the authority as the tool writes them.
fn court_setup(root: &Path) -> Court {
    let c = Court {
        dir: root.join("court-office"),
    };
    std::fs::create_dir_all(&c.dir).unwrap();
    let mut args = vec![
        "escrow-keygen",
        "--threshold",
        "2",
        "--court-id",
        "https://court.localhost",
        "--out",
    ];
    let out = c.ceremony();
    args.push(s(&out));
    let names = ["Judge A", "Judge B", "Judge C"];
    let files: Vec<PathBuf> = names
        .iter()
        .map(|n| {
            write(
                &c.dir,
                &format!("{n}.pass"),
                &format!("passphrase of {n}, long"),
            )
        })
        .collect();
    for (name, file) in names.iter().zip(&files) {
        args.extend(["--judge", name, "--passphrase-file", s(file)]);
    }
    args.extend(TEST_KDF);
    stdout(&court(&args));
    let pass = write(&c.dir, "judge.pass", "the presiding judge's passphrase");
    let judge_out = c.judge();
    let mut args = vec![
        "judge-keygen",
        "--id",
        "https://court.localhost/judges/a",
        "--name",
        "Judge A",
        "--out",
        s(&judge_out),
        "--passphrase-file",
        s(&pass),
    ];
    args.extend(TEST_KDF);
    stdout(&court(&args));
    // To the trust-list authority: the judge's key; the escrow public key goes where the
    // development setup lists the court (it keeps a public key it did not make).
    let entities = root.join("trust/entities.d");
    std::fs::create_dir_all(&entities).unwrap();
    std::fs::copy(
        judge_out.join("judge.trust.toml"),
        entities.join("court-judge.toml"),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("court")).unwrap();
    std::fs::copy(
        c.ceremony().join("escrow-key.jwk"),
        root.join("court/escrow.pub.jwk"),
    )
    .unwrap();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_court_lifts_one_pseudonym_and_the_logs_show_it() {
    let root = tempfile::tempdir().unwrap();
    let court_office = court_setup(root.path());
    verifier::dev_entities(root.path()).unwrap();
    let issuer = LocalIssuer::start(root.path()).await.unwrap();
    let mut verifier = LocalVerifier::start(root.path(), &LocalOptions::default())
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(issuer.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();

    // The citizen: credentials in the wallet, an accountable check at a platform.
    let anchor = issuer::trust::public_jwk_from_file(&issuer.anchor).unwrap();
    let wallet = Wallet::open(
        &root.path().join("wallet.db"),
        Zeroizing::new([3u8; 32]),
        None,
        Arc::new(DefaultTransport::trusting_only(issuer.ca_pem.as_bytes()).unwrap()),
        WalletConfig::new(issuer.trust_list_url.clone(), anchor),
        Arc::new(credential_formats::time::SystemClock),
    )
    .unwrap();
    let (offer, tx_code) = issuer
        .offer_to_demo_citizen(&["pid_sd_jwt", "person_attestation_sd_jwt"])
        .await
        .unwrap();
    wallet
        .receive_offer(&offer)
        .await
        .unwrap()
        .accept(Some(&tx_code))
        .await
        .unwrap();
    let platform: Value = http
        .post(format!("{}/admin/platforms", verifier.base))
        .bearer_auth(verifier.admin_token.as_str())
        .json(&json!({"name": "Example Social"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (platform_id, api_key) = (
        platform["platform_id"].as_str().unwrap().to_owned(),
        platform["api_key"].as_str().unwrap().to_owned(),
    );
    let check: Value = http
        .post(format!("{}/v1/checks", verifier.base))
        .bearer_auth(&api_key)
        .json(&json!({"checks": ["verified_person"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    wallet
        .receive_request(check["wallet_link"].as_str().unwrap())
        .await
        .unwrap()
        .accept()
        .await
        .unwrap();
    let result: Value = http
        .get(format!(
            "{}/v1/checks/{}",
            verifier.base,
            check["id"].as_str().unwrap()
        ))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pseudonym = result["pseudonym"]["sub"].as_str().unwrap().to_owned();

    // The court, with the tool: order, records, opening, resolution, audit.
    let trust_list = root.path().join("trust/trust-list.jwt");
    let trust = [
        "--trust-list",
        s(&trust_list),
        "--authority-key",
        s(&issuer.anchor),
        "--ca",
        s(&issuer.ca_file),
    ];
    let started = Instant::now();
    let order_file = court_office.dir.join("order.jwt");
    stdout(&court(&[
        "order",
        "new",
        "--judge-key",
        s(&court_office.judge().join("judge-key.json")),
        "--case",
        "2026/HARASS/42",
        "--ground",
        "Art. 442bis Criminal Code: harassment",
        "--platform",
        &platform_id,
        "--pseudonym",
        &pseudonym,
        "--deadline",
        "+24h",
        "--passphrase-file",
        s(&court_office.passphrase("judge")),
        "--out",
        s(&order_file),
    ]));
    let case = court_office.dir.join("case");
    let mut args = vec![
        "order",
        "submit",
        "--verifier",
        &verifier.base,
        "--order",
        s(&order_file),
        "--out",
        s(&case),
    ];
    args.extend(trust);
    let submitted = tokio::task::spawn_blocking({
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        move || court(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    stdout(&submitted);
    // Records with no logged order are not opened, even with every share.
    let paths = [
        court_office.ceremony().join("ceremony.json"),
        court_office.ceremony().join("share-1.json"),
        court_office.ceremony().join("share-3.json"),
        court_office.passphrase("Judge A"),
        court_office.passphrase("Judge C"),
        case.join("records.txt"),
        case.join("verifier-answer.json"),
    ];
    let share_args = [
        "--ceremony",
        s(&paths[0]),
        "--share",
        s(&paths[1]),
        "--share",
        s(&paths[2]),
        "--passphrase-file",
        s(&paths[3]),
        "--passphrase-file",
        s(&paths[4]),
    ];
    let mut args = vec!["open"];
    args.extend(share_args);
    args.extend([
        "--record",
        s(&paths[5]),
        "--platform",
        &platform_id,
        "--pseudonym",
        &pseudonym,
    ]);
    assert!(failure(&court(&args)).contains("no proof they were logged"));
    // The verifier's answer, checked again against its signed log: then 2 of 3 judges open.
    let mut args = vec!["open"];
    args.extend(share_args);
    args.extend([
        "--order",
        s(&order_file),
        "--answer",
        s(&paths[6]),
        "--trust-list",
        s(&trust_list),
        "--authority-key",
        s(&issuer.anchor),
    ]);
    let opened = court(&args);
    let record: Value = serde_json::from_str(stdout(&opened).lines().next().unwrap()).unwrap();
    let handle = record["person_handle"].as_str().unwrap().to_owned();
    let mut args = vec![
        "resolve".to_owned(),
        "--register".into(),
        issuer.base.clone(),
        "--order".into(),
        s(&order_file).into(),
        "--handle".into(),
        handle.clone(),
        "--verifier-answer".into(),
        s(&case.join("verifier-answer.json")).into(),
    ];
    args.extend(trust.iter().map(|a| a.to_string()));
    let resolved = tokio::task::spawn_blocking(move || {
        court(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    let elapsed = started.elapsed();
    let printed = stdout(&resolved);
    // The identity is the citizen's.
    let answer = read_json(&case.join("register-answer.json"));
    assert_eq!(answer["person"]["family_name"], "Peeters", "{printed}");
    assert_eq!(
        answer["person"]["personal_administrative_number"],
        "90050112345"
    );
    eprintln!(
        "order signed → records → opened (2 of 3) → resolved in {:.2} s (limit: 24 h)",
        elapsed.as_secs_f64()
    );

    // The audit sees the opening in both logs, and stores what it saw.
    let state = court_office.dir.join("audit-state.json");
    let audit = |root: &Path, verifier: &str, register: &str| {
        let mut args = vec![
            "audit".to_owned(),
            "--verifier".into(),
            verifier.into(),
            "--register".into(),
            register.into(),
            "--state".into(),
            s(&state).into(),
        ];
        let _ = root;
        args.extend(trust.iter().map(|a| a.to_string()));
        async move {
            tokio::task::spawn_blocking(move || {
                court(&args.iter().map(String::as_str).collect::<Vec<_>>())
            })
            .await
            .unwrap()
        }
    };
    let report = stdout(&audit(root.path(), &verifier.base, &issuer.base).await);
    eprintln!("{report}");
    assert!(report.contains("resolved"), "{report}");

    // An insider alters the verifier's log entry (and its stored leaf hash, to be thorough):
    // the next audit sees a log that no longer extends what it saw.
    let db = rusqlite::Connection::open(root.path().join("verifier/verifier.db")).unwrap();
    let forged = br#"{"type":"court_order","order_sha256":"forged"}"#;
    db.execute(
        "UPDATE translog_entries SET entry = ?1, leaf_hash = ?2 WHERE log = 'court-orders' AND idx = 0",
        rusqlite::params![
            forged.to_vec(),
            credential_formats::translog::leaf_hash(forged).to_vec()
        ],
    )
    .unwrap();
    let refused = audit(root.path(), &verifier.base, &issuer.base).await;
    let message = failure(&refused);
    eprintln!("altered: {message}");
    assert!(
        message.contains("split view") || message.contains("consistency"),
        "{message}"
    );
    // Truncated: the register's only entry deleted.
    let _ = db;
    let reg = rusqlite::Connection::open(root.path().join("issuer/issuer.db")).unwrap();
    reg.execute("DELETE FROM translog_entries", []).unwrap();
    let refused = audit(root.path(), &verifier.base, &issuer.base).await;
    let message = failure(&refused);
    eprintln!("truncated: {message}");
    assert!(
        message.contains("shr") || message.contains("truncat"),
        "{message}"
    );
    verifier.stop();
}
