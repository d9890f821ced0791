//! The `wallet` binary, run as a person runs it, against the real issuer over TLS.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use issuer::LocalIssuer;
use serde_json::Value;

/// Runs `wallet --dir <dir> args…`, feeding `stdin`, off the async runtime (the issuer runs
/// on it meanwhile).
async fn wallet(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let dir = dir.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wallet"))
            .arg("--dir")
            .arg(&dir)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn offer(local: &LocalIssuer, configurations: &[&str]) -> (String, String) {
    local.offer_to_demo_citizen(configurations).await.unwrap()
}

async fn init(local: &LocalIssuer, dir: &Path) {
    let out = wallet(
        dir,
        &[
            "init",
            "--trust-list",
            &local.trust_list_url,
            "--anchor",
            local.anchor.to_str().unwrap(),
            "--ca-cert",
            local.ca_file.to_str().unwrap(),
        ],
        "",
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.join("storage.key"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_list_show_and_log() {
    let tmp = tempfile::tempdir().unwrap();
    let local = LocalIssuer::start(&tmp.path().join("stack")).await.unwrap();
    let dir = tmp.path().join("wallet");
    init(&local, &dir).await;

    let (uri, tx_code) = offer(&local, &["pid_sd_jwt", "person_attestation_sd_jwt"]).await;
    // Asked interactively: consent, then the transaction code.
    let out = wallet(&dir, &["receive", &uri], &format!("y\n{tx_code}\n")).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("State issuer (development)"), "{stdout}");
    assert!(
        stdout.contains("11 credential(s) received and verified."),
        "{stdout}"
    );
    assert!(text(&out.stderr).contains("Transaction code (6 digits)"));

    let out = wallet(&dir, &["list"], "").await;
    let list = text(&out.stdout);
    assert!(list.contains("Identity (PID)"), "{list}");
    assert!(
        list.contains("Person attestation  (10 unused copies)"),
        "{list}"
    );
    let pid_id = list
        .lines()
        .find(|l| l.contains("Identity (PID)"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();
    let out = wallet(&dir, &["show", &pid_id], "").await;
    assert!(text(&out.stdout).contains("family_name: \"Peeters\""));

    let out = wallet(&dir, &["export-log"], "").await;
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log[0]["entry"]["kind"], "issuance");
    assert_eq!(log[0]["entry"]["count"], 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_tell_refusal_distrust_decline_and_missing_wallet_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let local = LocalIssuer::start(&tmp.path().join("stack")).await.unwrap();
    let dir = tmp.path().join("wallet");

    let out = wallet(&dir, &["list"], "").await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("wallet init"));

    init(&local, &dir).await;
    let (uri, tx_code) = offer(&local, &["person_attestation_sd_jwt"]).await;
    let out = wallet(&dir, &["receive", &uri], "n\n").await;
    assert_eq!(out.status.code(), Some(5), "declined");
    let wrong = if tx_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    let out = wallet(&dir, &["receive", &uri, "--yes", "--tx-code", wrong], "").await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("invalid_grant"));

    // A wallet anchored in another authority trusts nothing this stack says.
    let other = tmp.path().join("other");
    let stranger = credential_formats::crypto::SecretKey::generate(
        credential_formats::crypto::SignatureAlgorithm::Es256,
    )
    .unwrap();
    let anchor = tmp.path().join("stranger.jwk");
    std::fs::write(
        &anchor,
        credential_formats::jose::Jwk::new(stranger.public_key())
            .to_value()
            .to_string(),
    )
    .unwrap();
    let out = wallet(
        &other,
        &[
            "init",
            "--trust-list",
            &local.trust_list_url,
            "--anchor",
            anchor.to_str().unwrap(),
            "--ca-cert",
            local.ca_file.to_str().unwrap(),
        ],
        "",
    )
    .await;
    assert!(out.status.success());
    let out = wallet(
        &other,
        &["receive", &uri, "--yes", "--tx-code", &tx_code],
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn present_shows_who_asks_what_shares_on_yes_and_declines_on_no() {
    use verifier::store::{Check, CheckStatus};
    let tmp = tempfile::tempdir().unwrap();
    let stack = tmp.path().join("stack");
    // The real verifier, listed in the trust list the issuer signs and serves.
    verifier::dev_entities(&stack).unwrap();
    let local = LocalIssuer::start(&stack).await.unwrap();
    let service = verifier::LocalVerifier::start(&stack, &verifier::LocalOptions::default())
        .await
        .unwrap();
    let platform = service
        .verifier
        .add_platform("Example Social", None)
        .await
        .unwrap()
        .platform;
    let dir = tmp.path().join("wallet");
    init(&local, &dir).await;
    let (uri, tx_code) = offer(&local, &["person_attestation_sd_jwt"]).await;
    let out = wallet(&dir, &["receive", &uri, "--yes", "--tx-code", &tx_code], "").await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    let check = |checks: Vec<Check>| {
        let (service, platform) = (&service, &platform);
        async move {
            service
                .verifier
                .create_check(
                    platform,
                    verifier::CheckRequest {
                        checks,
                        account_reference: None,
                        return_url: None,
                    },
                )
                .await
                .unwrap()
        }
    };
    let created = check(vec![Check::AgeOver18]).await;
    let out = wallet(&dir, &["present", &created.wallet_link], "y\n").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("Verifier (development) asks"), "{shown}");
    assert!(shown.contains("Example Social"), "{shown}");
    assert!(
        shown.contains("from your Person attestation: age_over_18"),
        "{shown}"
    );
    let view = service
        .verifier
        .check_for(&platform, &created.id, None)
        .await
        .unwrap();
    assert_eq!(view.status, CheckStatus::Completed);
    assert!(
        view.record.pseudonym.is_none(),
        "an age check has no pseudonym"
    );
    let out = wallet(&dir, &["list"], "").await;
    assert!(text(&out.stdout).contains("(9 unused copies)"));

    let created = check(vec![Check::AgeOver18]).await;
    let out = wallet(&dir, &["present", &created.wallet_link], "n\n").await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let view = service
        .verifier
        .check_for(&platform, &created.id, None)
        .await
        .unwrap();
    assert_eq!(view.status, CheckStatus::Failed);
    let out = wallet(&dir, &["list"], "").await;
    assert!(
        text(&out.stdout).contains("(9 unused copies)"),
        "declining uses no copy"
    );

    let out = wallet(&dir, &["export-log"], "").await;
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log.as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_prints_the_registers_notices_of_openings() {
    let tmp = tempfile::tempdir().unwrap();
    let local = LocalIssuer::start(&tmp.path().join("stack")).await.unwrap();
    let dir = tmp.path().join("wallet");
    init(&local, &dir).await;
    // No attestation yet: nothing to present (exit code 6), the register not asked.
    let out = wallet(&dir, &["notices", "--register", &local.base], "").await;
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));

    let (uri, tx_code) = offer(&local, &["person_attestation_sd_jwt"]).await;
    let out = wallet(&dir, &["receive", &uri, "--yes", "--tx-code", &tx_code], "").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = wallet(&dir, &["notices", "--register", &local.base], "").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "no notices\n");

    // The demo citizen (enrolling again finds them), resolved by a court without embargo.
    let enrolment: issuer::register::Enrolment = serde_json::from_value(serde_json::json!({
        "family_name": "Peeters", "given_name": "An", "birthdate": "1990-05-01",
        "nationalities": ["BE"], "personal_administrative_number": "90050112345",
        "address": {"street_address": "Veldstraat 1", "locality": "Gent", "country": "BE"}
    }))
    .unwrap();
    let person = local.issuer.enrol(enrolment).await.unwrap().person_id;
    let now = credential_formats::time::Clock::now(&credential_formats::time::SystemClock);
    let resolution = issuer::store::NewResolution {
        jti: "order-cli".into(),
        order_digest: [4; 32],
        person_id: Some(person),
        case_number: "2026/AN/9".into(),
        ground: "art. 46bis Sv".into(),
        platform_id: "https://platform.example".into(),
        judge: "https://judge.example/1".into(),
        received_at: now,
        deadline: now + 86_400,
        embargo_until: Some(now - 1),
    };
    let log = local.issuer.register_log().unwrap().clone();
    let index = local
        .issuer
        .store()
        .log_resolution(&resolution, b"{}", &log)
        .await
        .unwrap()
        .unwrap();
    local
        .issuer
        .store()
        .resolution_answered("order-cli", now)
        .await
        .unwrap();

    let out = wallet(&dir, &["notices", "--register", &local.base], "").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("case 2026/AN/9  (art. 46bis Sv)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("platform: https://platform.example"),
        "{stdout}"
    );
    assert!(
        stdout.contains("judge:    https://judge.example/1"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("register log entry: {index}")),
        "{stdout}"
    );
    let out = wallet(&dir, &["export-log"], "").await;
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let last = &log.as_array().unwrap().last().unwrap()["entry"];
    assert_eq!(last["kind"], "court_notices");
    assert_eq!(last["outcome"], "fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credits_prints_the_balance_and_history_from_the_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = tmp.path().join("stack");
    let local = LocalIssuer::start(&stack).await.unwrap();
    let dir = tmp.path().join("wallet");
    init(&local, &dir).await;

    // The ledger on its own port, with the stack's TLS certificate and trust list.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ledger_url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let tls_dir = local.ca_file.parent().unwrap().to_owned();
    let tls = (tls_dir.join("server.pem"), tls_dir.join("server.key"));
    let config = ledger::service::Config {
        listen: listener.local_addr().unwrap(),
        public_url: ledger_url.clone(),
        database_url: tmp.path().join("ledger.db").display().to_string(),
        database_schema: None,
        key_dir: tmp.path().join("ledger-keys"),
        admin_token: None,
        tls: Some(tls.clone()),
        trust: Some((stack.join("trust/trust-list.jwt"), local.anchor.clone())),
    };
    let state = ledger::service::open(&config).await.unwrap();
    let served = state.clone();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = ledger::service::run(served, listener, Some(&tls), async move {
            let _ = stopped.await;
        })
        .await;
    });

    // No training account yet: nothing to present (exit code 6).
    let out = wallet(&dir, &["credits", "--ledger", &ledger_url], "").await;
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));

    let account = state.ledger.open_account().await.unwrap();
    state
        .ledger
        .grant(&account, "welcome", ledger::Amount::new(100).unwrap(), "")
        .await
        .unwrap();
    state
        .ledger
        .spend(&ledger::SpendRequest {
            transaction_id: "enrol-0001-aaaaaaaa".into(),
            account: account.clone(),
            provider: "https://academy.localhost".into(),
            course: "WELD-101".into(),
            amount: ledger::Amount::new(60).unwrap(),
            price: ledger::Amount::new(60).unwrap(),
            body_digest: [7; 32],
        })
        .await
        .unwrap();
    let enrolment: issuer::register::Enrolment = serde_json::from_value(serde_json::json!({
        "family_name": "Peeters", "given_name": "An", "birthdate": "1990-05-01",
        "nationalities": ["BE"], "personal_administrative_number": "90050112345",
        "address": {"street_address": "Veldstraat 1", "locality": "Gent", "country": "BE"}
    }))
    .unwrap();
    let person = local.issuer.enrol(enrolment).await.unwrap();
    let offer = local
        .issuer
        .create_offer(issuer::OfferRequest {
            person_id: Some(person.person_id),
            credential_configuration_ids: vec!["training_account_sd_jwt".into()],
            payload: issuer::issuance::OfferPayload {
                training_account: Some(issuer::issuance::TrainingAccount {
                    account_reference: account.as_str().into(),
                }),
                qualification: None,
            },
            by_value: false,
        })
        .await
        .unwrap();
    let out = wallet(
        &dir,
        &[
            "receive",
            &offer.offer_uri,
            "--yes",
            "--tx-code",
            &offer.tx_code,
        ],
        "",
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = wallet(&dir, &["credits", "--ledger", &ledger_url], "").await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines[0], "balance 40 credits (open)", "{shown}");
    assert_eq!(lines[1], "  granted 100, spent 60, refunded 0");
    assert!(lines[2].contains("grant 100"), "{shown}");
    assert!(
        lines[3].contains("spend 60  WELD-101 at https://academy.localhost  [enrol-0001-aaaaaaaa]"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backpack_lists_the_qualifications_received() {
    let tmp = tempfile::tempdir().unwrap();
    let local = LocalIssuer::start(&tmp.path().join("stack")).await.unwrap();
    let dir = tmp.path().join("wallet");
    init(&local, &dir).await;
    let out = wallet(&dir, &["backpack"], "").await;
    assert_eq!(text(&out.stdout), "no qualifications\n");

    let offer = local
        .issuer
        .create_offer(issuer::OfferRequest {
            person_id: None,
            credential_configuration_ids: vec!["qualification_sd_jwt".into()],
            payload: issuer::issuance::OfferPayload {
                training_account: None,
                qualification: Some(issuer::issuance::Qualification {
                    course_reference: "WELD-101".into(),
                    title: "Welding, level 1".into(),
                    eqf_level: Some(3),
                    hours: Some(80),
                    credits: None,
                    completion_date: "2026-06-30".into(),
                    result: "passed".into(),
                }),
            },
            by_value: false,
        })
        .await
        .unwrap();
    let out = wallet(
        &dir,
        &["receive", &offer.offer_uri],
        &format!("y\n{}\n", offer.tx_code),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = wallet(&dir, &["backpack"], "").await;
    let shown = text(&out.stdout);
    assert!(
        shown.starts_with("2026-06-30  Welding, level 1 (WELD-101)\n"),
        "{shown}"
    );
    assert!(
        shown.contains("result: passed, EQF level 3, 80 h"),
        "{shown}"
    );
    assert!(
        shown.contains("issued by State issuer (development)\n"),
        "{shown}"
    );
}
