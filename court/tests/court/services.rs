//! `court order submit` and `court audit` against the real verifier and State register on
//! loopback, over TLS with the development PKI.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use credential_formats::court_order::{OrderRequest, sign_order};
use credential_formats::crypto::{CryptoProvider as _, RustCrypto};
use credential_formats::jose::PrivateJwk;
use issuer::LocalIssuer;
use serde_json::{Value, json};
use verifier::{DEV_JUDGE_ID, LocalOptions, LocalVerifier};

use crate::{court, failure, now, read_json, s, stderr, stdout};

struct Services {
    issuer: LocalIssuer,
    verifier: LocalVerifier,
    dir: tempfile::TempDir,
}

impl Services {
    async fn start() -> Services {
        let dir = tempfile::tempdir().unwrap();
        verifier::dev_entities(dir.path()).unwrap();
        let issuer = LocalIssuer::start(dir.path()).await.unwrap();
        let verifier = LocalVerifier::start(dir.path(), &LocalOptions::default())
            .await
            .unwrap();
        Services {
            issuer,
            verifier,
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `--trust-list`, `--authority-key` and `--ca` as the court gives them.
    fn trust_args(&self) -> Vec<String> {
        vec![
            "--trust-list".into(),
            s(&self.path("trust/trust-list.jwt")).into(),
            "--authority-key".into(),
            s(&self.issuer.anchor).into(),
            "--ca".into(),
            s(&self.issuer.ca_file).into(),
        ]
    }

    /// A platform registered through the verifier's admin API.
    async fn platform(&self) -> String {
        let http = reqwest::Client::builder()
            .tls_certs_only(
                reqwest::Certificate::from_pem_bundle(self.issuer.ca_pem.as_bytes()).unwrap(),
            )
            .build()
            .unwrap();
        let answer: Value = http
            .post(format!("{}/admin/platforms", self.verifier.base))
            .bearer_auth(self.verifier.admin_token.as_str())
            .json(&json!({ "name": "Example Social" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["platform_id"].as_str().unwrap().to_owned()
    }

    /// An order by the development judge for an account that never verified (no records),
    /// written to `file`.
    fn order(&self, platform: &str, case: &str, pseudonym_byte: u8, file: &Path) -> String {
        let text = std::fs::read_to_string(self.path("court/judge-1.jwk")).unwrap();
        let judge = PrivateJwk::from_json(&text).unwrap();
        let now = now();
        let order = sign_order(
            &OrderRequest {
                case: case.into(),
                ground: "Art. 442bis harassment".into(),
                platform: platform.into(),
                pseudonym: base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode([pseudonym_byte; 32]),
                deadline: now + 86_400,
                embargo_until: None,
            },
            DEV_JUDGE_ID,
            judge.kid().unwrap(),
            &*RustCrypto.signer(judge.secret()).unwrap(),
            now,
        )
        .unwrap();
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, format!("{order}\n")).unwrap();
        order
    }

    fn submit(&self, order: &Path, out: Option<&Path>) -> std::process::Output {
        let mut args: Vec<String> = vec![
            "order".into(),
            "submit".into(),
            "--verifier".into(),
            self.verifier.base.clone(),
            "--order".into(),
            s(order).into(),
        ];
        if let Some(out) = out {
            args.extend(["--out".into(), s(out).into()]);
        }
        args.extend(self.trust_args());
        court(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    fn audit(&self, state: &Path, extra: &[&str]) -> std::process::Output {
        let mut args: Vec<String> = vec![
            "audit".into(),
            "--verifier".into(),
            self.verifier.base.clone(),
            "--register".into(),
            self.issuer.base.clone(),
            "--state".into(),
            s(state).into(),
        ];
        args.extend(self.trust_args());
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        court(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_submitted_verified_kept_and_audited() {
    let services = Services::start().await;
    let platform = services.platform().await;
    let orders = services.path("orders");
    let order_file = orders.join("order-1.jwt");
    let compact = services.order(&platform, "2026/CT 7", 1, &order_file);

    // Submitted: the answer is checked against the verifier's log and kept in the case
    // directory next to the order.
    let out = services.submit(&order_file, None);
    let printed = stdout(&out);
    assert!(
        printed.contains("0 record(s), logged at index 0"),
        "{printed}"
    );
    assert!(printed.contains("localhost/court-orders"), "{printed}");
    let case = orders.join("case-2026_CT_7");
    let answer = read_json(&case.join("verifier-answer.json"));
    assert_eq!(answer["records"], json!([]));
    assert_eq!(answer["log"]["index"], 0);
    assert_eq!(
        std::fs::read_to_string(case.join("records.txt")).unwrap(),
        ""
    );
    let entry: Value = serde_json::from_slice(
        &STANDARD
            .decode(answer["log"]["entry"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(entry["type"], "court_order");
    assert_eq!(entry["records"], 0);
    // The entry names the order by its digest only.
    let digest = {
        use sha2::Digest as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(compact.as_bytes()))
    };
    assert_eq!(entry["order_sha256"], digest);

    // The same case again is refused before anything is sent; the same order elsewhere is
    // refused by the verifier as a replay.
    let again = failure(&services.submit(&order_file, None));
    assert!(again.contains("submitted already"), "{again}");
    let replay = failure(&services.submit(&order_file, Some(&services.path("elsewhere"))));
    assert!(replay.contains("order_replayed"), "{replay}");
    assert!(replay.contains("409"), "{replay}");

    // A first audit: both logs verify, the order is open and within its deadline.
    let state = services.path("audit-state.json");
    let out = services.audit(&state, &[]);
    let report = stdout(&out);
    assert!(
        report.contains("verifier log localhost/court-orders: 1 entries"),
        "{report}"
    );
    assert!(
        report.contains("register log localhost/register-resolutions: 0 entries"),
        "{report}"
    );
    assert!(report.contains("first audit of this log"), "{report}");
    assert!(report.contains("order #0"), "{report}");
    assert!(report.contains("within deadline"), "{report}");
    let saved = read_json(&state);
    assert_eq!(saved["logs"]["localhost/court-orders"]["size"], 1);
    assert_eq!(saved["logs"]["localhost/register-resolutions"]["size"], 0);

    // A second order grows the log: the next audit checks its consistency proof.
    let second = orders.join("order-2.jwt");
    services.order(&platform, "2026/CT 8", 2, &second);
    stdout(&services.submit(&second, None));
    let out = services.audit(&state, &["--json"]);
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["integrity"], true);
    assert_eq!(report["logs"][0]["size"], 2);
    assert_eq!(
        report["logs"][0]["history"],
        json!({"history": "grew", "from": 1})
    );
    assert_eq!(
        report["logs"][1]["history"],
        json!({"history": "unchanged"})
    );
    assert_eq!(report["report"]["openings"].as_array().unwrap().len(), 2);
    assert_eq!(report["report"]["openings"][1]["status"], "within_deadline");
    // And once more with nothing new: unchanged.
    let report = stdout(&services.audit(&state, &[]));
    assert!(
        report.contains("unchanged since the last audit"),
        "{report}"
    );

    // The state file remembers another root at this size: a split view, and a failure.
    let good = std::fs::read_to_string(&state).unwrap();
    let mut forked: Value = serde_json::from_str(&good).unwrap();
    forked["logs"]["localhost/court-orders"]["root"] = json!(STANDARD.encode([7u8; 32]));
    std::fs::write(&state, forked.to_string()).unwrap();
    let err = failure(&services.audit(&state, &[]));
    assert!(err.contains("split view"), "{err}");
    // It remembers a longer log: this one shrank.
    let mut longer: Value = serde_json::from_str(&good).unwrap();
    longer["logs"]["localhost/court-orders"]["size"] = json!(5);
    std::fs::write(&state, longer.to_string()).unwrap();
    let out = services.audit(&state, &[]);
    let err = failure(&out);
    assert!(err.contains("shrank (truncated)"), "{err}");
    // The failed log's entry in the state is not moved forward.
    assert_eq!(
        read_json(&state)["logs"]["localhost/court-orders"]["size"],
        5,
        "{}",
        stderr(&out)
    );
}
