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
