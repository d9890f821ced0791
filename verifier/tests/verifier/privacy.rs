//! The privacy invariants, as tests: what the platform receives, and what the verifier
//! keeps, hold no identity attribute and no person handle.

use serde_json::json;

use crate::Stack;

/// What must never reach a platform or the verifier's disk.
fn identity_markers(stack: &Stack) -> Vec<String> {
    vec![
        stack.person_handle(),
        "Peeters".into(),
        "1990-05-01".into(),
        "90050112345".into(),
        "Veldstraat".into(),
    ]
}

#[tokio::test]
async fn the_platform_receives_no_identity_attribute() {
    let stack = Stack::start().await;
    let (_, key) = stack.platform("Example Social").await;
    let age = stack.verified(&key, &["age_over_18"]).await;
    let person = stack
        .verified(&key, &["verified_person", "age_over_18"])
        .await;
    for result in [&age, &person] {
        let attestation = result["attestation"].as_str().unwrap();
        let payload = attestation.split('.').nth(1).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap(),
        )
        .unwrap();
        let names: Vec<&str> = claims
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for name in &names {
            assert!(
                [
                    "iss", "aud", "sub", "checks", "result", "iat", "exp", "jti", "check_id"
                ]
                .contains(name),
                "unexpected claim {name}"
            );
        }
        let text = format!("{result}{claims}");
        for marker in identity_markers(&stack) {
            assert!(
                !text.contains(&marker),
                "identity data reached the platform"
            );
        }
    }
}

#[tokio::test]
async fn the_verifier_database_holds_no_identity_attribute_and_no_handle() {
    let stack = Stack::start().await;
    let (_, key) = stack.platform("Example Social").await;
    for _ in 0..3 {
        let result = stack
            .verified(&key, &["verified_person", "age_over_18"])
            .await;
        assert_eq!(result["result"], "verified");
    }
    let _ = stack
        .create_check(
            &key,
            json!({"checks": ["verified_person"], "account_reference": "acct-42"}),
        )
        .await;
    let dir = stack.dir.path().join("verifier");
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(bytes.len() > 4096, "the database and its WAL were read");
    let haystack = String::from_utf8_lossy(&bytes);
    for marker in identity_markers(&stack) {
        assert!(
            !haystack.contains(&marker),
            "identity data in the verifier's files"
        );
    }
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

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

/// The binary's log capture, installed as the global subscriber on first use (a
/// thread-local one races with the other tests over tracing's callsite cache). It then
/// holds every test's logs, which must not carry this test's secrets either.
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

#[tokio::test]
async fn the_logs_carry_no_handle_key_token_or_attestation() {
    let logs = captured_logs();
    let stack = Stack::start().await;
    let (_, key) = stack.platform("Example Social").await;
    let person = stack
        .verified(&key, &["verified_person", "age_over_18"])
        .await;
    let (_, created) = stack
        .create_check(&key, json!({"checks": ["age_over_18"]}))
        .await;
    let request = stack
        .http
        .get(format!(
            "{}/wallet/requests/{}",
            stack.verifier.base,
            created["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    stack
        .wallet
        .receive_request(created["wallet_link"].as_str().unwrap())
        .await
        .unwrap()
        .decline()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(text.contains("verifier serving"), "the logs were captured");
    let mut secrets = identity_markers(&stack);
    secrets.push(key.clone());
    secrets.push(person["attestation"].as_str().unwrap().to_owned());
    secrets.push(person["pseudonym"]["sub"].as_str().unwrap().to_owned());
    secrets.push(request.clone());
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret reached the logs");
    }
    // No JWT or JWE of any kind, and not the request object's signature.
    assert!(!text.contains("eyJ"), "a token reached the logs");
    let signature = request.rsplit('.').next().unwrap();
    assert!(!text.contains(signature));
}
