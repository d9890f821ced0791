//! What the issuer keeps, and logs, after a full issuance: none of the credentials, their
//! salts and disclosures, nor any code, token or nonce of the flow.

use std::sync::{Arc, Mutex};

use credential_formats::sd_jwt::SdJwt;
use serde_json::{Value, json};

use crate::harness::{TestIssuer, credential_request};

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// The binary's log capture, installed as the global subscriber on first use.
fn captured_logs() -> Captured {
    static CAPTURE: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let captured = Captured::default();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(captured.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            captured
        })
        .clone()
}

/// The byte ranges of `haystack` where one of `allowed` occurs.
fn covered(haystack: &[u8], allowed: &[String]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    for a in allowed.iter().filter(|a| !a.is_empty()) {
        let a = a.as_bytes();
        for (at, window) in haystack.windows(a.len()).enumerate() {
            if window == a {
                ranges.push((at, at + a.len()));
            }
        }
    }
    ranges
}

/// Where `needle` occurs in `haystack` other than inside one of the `allowed` ranges (a
/// six-digit `tx_code` may by chance be part of a random identifier the issuer does keep).
fn found(haystack: &[u8], needle: &str, allowed: &[(usize, usize)]) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(at, _)| at)
        .find(|at| {
            !allowed
                .iter()
                .any(|(from, to)| *from <= *at && at + needle.len() <= *to)
        })
}

#[tokio::test]
async fn the_database_and_the_logs_keep_no_credential_code_token_or_nonce() {
    // One global subscriber for the whole test binary: a thread-local one (`set_default`)
    // races with the other tests' threads over tracing's per-callsite interest cache and
    // can miss events (seen once in CI). The buffer then holds every test's logs, which
    // must not contain this test's secrets either.
    let logs = captured_logs();
    let start = logs.0.lock().unwrap().len();

    let issuer = TestIssuer::start().await;
    let person = issuer.enrol("1990-05-01", "90.05.01-123.45").await;
    let (created, code) = issuer
        .offer(json!({
            "person_id": person,
            "credential_configuration_ids": ["pid_sd_jwt", "person_attestation_sd_jwt"],
        }))
        .await;
    let tx_code = created["tx_code"].as_str().unwrap().to_owned();
    let offer_id = created["offer_id"].as_str().unwrap().to_owned();
    // The wallet fetches the offer by reference, as it would.
    let fetched = issuer
        .client
        .get(issuer.url(&format!("/credential-offer/{offer_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);

    let token = issuer.token(&code, &tx_code).await;
    let mut nonces = Vec::new();
    let mut credentials = Vec::new();
    for (configuration, n) in [("pid_sd_jwt", 1), ("person_attestation_sd_jwt", 30)] {
        let nonce = issuer.nonce().await;
        let (_, proofs) = issuer.proofs(n, &nonce);
        let response = issuer
            .credential_response(&token, &credential_request(configuration, &proofs))
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        for c in body["credentials"].as_array().unwrap() {
            credentials.push(c["credential"].as_str().unwrap().to_owned());
        }
        nonces.push(nonce);
    }
    assert_eq!(credentials.len(), 31);

    // What the issuer does keep, and may: identifiers and the person handle.
    let listed: Value = issuer
        .admin_get(&format!("/admin/persons/{person}/credentials"))
        .await
        .json()
        .await
        .unwrap();
    let mut kept: Vec<String> = listed["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kept.len(), 31);
    kept.push(person.clone());
    kept.push(offer_id.clone());

    // What it must not keep.
    let mut secrets: Vec<(&str, String)> = vec![
        ("pre-authorized code", code.clone()),
        ("tx_code", tx_code.clone()),
        ("access token", token.clone()),
    ];
    for nonce in &nonces {
        secrets.push(("c_nonce", nonce.clone()));
    }
    for credential in &credentials {
        let sd = SdJwt::parse(credential).unwrap();
        secrets.push(("issuer-signed JWT", sd.issuer_jwt().to_owned()));
        // Its signature alone: the header and much of the payload are alike in every copy.
        let signature = sd.issuer_jwt().rsplit('.').next().unwrap().to_owned();
        secrets.push(("credential signature", signature));
        for d in sd.disclosures() {
            secrets.push(("disclosure", d.as_str().to_owned()));
            secrets.push(("salt", d.salt().to_owned()));
            if d.claim_name() == Some("person_handle") {
                kept.push(d.claim_value().as_str().unwrap().to_owned());
            }
        }
    }
    assert!(secrets.len() > 31 * 10);

    let db_path = issuer.db_path.clone();
    let _dir = issuer.stop_keeping_files().await;
    let mut bytes = std::fs::read(&db_path).unwrap();
    let mut files = vec![db_path.display().to_string()];
    for suffix in ["-wal", "-journal", "-shm"] {
        let path = db_path.with_file_name(format!("issuer.db{suffix}"));
        if let Ok(more) = std::fs::read(&path) {
            bytes.extend_from_slice(&more);
            files.push(path.display().to_string());
        }
    }
    assert!(bytes.len() > 4096, "{files:?}");
    // The register is there, as it should be: the search would find a secret.
    assert!(found(&bytes, "Veldstraat 1", &[]).is_some());
    let allowed = covered(&bytes, &kept);
    for (what, secret) in &secrets {
        assert!(
            found(&bytes, secret, &allowed).is_none(),
            "a {what} is in the database files {files:?}"
        );
    }

    // The logs: none of the secrets, and none of the person's attributes either.
    let logs = logs.0.lock().unwrap()[start..].to_vec();
    assert!(
        String::from_utf8_lossy(&logs).contains("credentials issued"),
        "the logs were not captured"
    );
    let allowed = covered(&logs, &kept);
    let personal = [
        ("family name", "Peeters"),
        ("birthdate", "1990-05-01"),
        ("national number", "90050112345"),
        ("address", "Veldstraat"),
    ];
    for (what, value) in personal
        .iter()
        .map(|(w, v)| (*w, (*v).to_owned()))
        .chain(secrets.iter().map(|(w, s)| (*w, s.clone())))
    {
        assert!(
            found(&logs, &value, &allowed).is_none(),
            "a {what} is in the logs"
        );
    }
}

/// While an offer is open, a copy of the database must not be enough to take it: the code
/// is derived from the offer id under the server's MAC key and never written, and the
/// `tx_code` check is keyed, so it cannot be brute-forced offline.
#[tokio::test]
async fn an_open_offer_cannot_be_taken_from_a_copy_of_the_database() {
    let issuer = TestIssuer::start().await;
    let person = issuer.enrol("1990-05-01", "90.05.01-123.45").await;
    let (created, code) = issuer
        .offer(json!({"person_id": person, "credential_configuration_ids": ["pid_sd_jwt"]}))
        .await;
    let offer_id = created["offer_id"].as_str().unwrap().to_owned();
    let db_path = issuer.db_path.clone();
    // Read while the server runs and the offer is open (the WAL holds the newest pages).
    let mut bytes = std::fs::read(&db_path).unwrap();
    if let Ok(wal) = std::fs::read(db_path.with_file_name("issuer.db-wal")) {
        bytes.extend_from_slice(&wal);
    }
    assert!(
        found(&bytes, &offer_id, &[]).is_some(),
        "the offer is stored"
    );
    assert!(found(&bytes, &code, &[]).is_none(), "its code is not");
    // The offer still works through the service.
    let fetched: Value = issuer
        .client
        .get(issuer.url(&format!("/credential-offer/{offer_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        fetched["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"],
        code.as_str()
    );
    issuer
        .token(&code, created["tx_code"].as_str().unwrap())
        .await;
    issuer.stop().await;
}
