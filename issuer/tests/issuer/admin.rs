//! The admin API refusing what it must: no bearer token, bad enrolments (without echoing
//! what was sent), unknown persons, credentials and actions.

use serde_json::{Value, json};

use crate::harness::{TestIssuer, error_described, error_of, person};

#[tokio::test]
async fn every_admin_call_needs_the_admin_bearer_token() {
    let issuer = TestIssuer::start().await;
    let calls = [
        ("POST", "/admin/persons"),
        ("POST", "/admin/offers"),
        ("GET", "/admin/persons/someone/credentials"),
        ("POST", "/admin/credentials/something/revoke"),
    ];
    for (method, path) in calls {
        for token in [None, Some("not-the-admin-token"), Some("")] {
            let mut request = match method {
                "GET" => issuer.client.get(issuer.url(path)),
                _ => issuer
                    .client
                    .post(issuer.url(path))
                    .json(&person("1990-05-01", "90050112345")),
            };
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            let response = request.send().await.unwrap();
            let challenge = response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_owned();
            // RFC 6750 §3.1: no credentials → a bare challenge; wrong ones → invalid_token.
            let expected = if token.is_none() {
                assert_eq!(challenge, "Bearer");
                "invalid_request"
            } else {
                assert_eq!(challenge, "Bearer error=\"invalid_token\"");
                "invalid_token"
            };
            assert_eq!(
                error_of(response).await,
                (401, expected.into()),
                "{method} {path} with {token:?}"
            );
        }
    }
    // Nobody was enrolled on the way.
    let response = issuer
        .admin_post("/admin/persons", person("1990-05-01", "90050112345"))
        .await;
    assert_eq!(response.status(), 201);
    issuer.stop().await;
}

#[tokio::test]
async fn bad_enrolments_are_refused_without_echoing_the_values() {
    let issuer = TestIssuer::start().await;
    let with = |field: &str, value: Value| {
        let mut body = person("1990-05-01", "90050112345");
        body[field] = value;
        (body, field.to_owned())
    };
    let cases: Vec<((Value, String), &str)> = vec![
        (with("birthdate", json!("1990-02-30")), "1990-02-30"),
        (with("birthdate", json!("30/05/1990")), "30/05/1990"),
        (with("birthdate", json!(19_900_530)), "19900530"),
        (
            with("shoe_size", json!("Secret-Shoe-Size-43")),
            "Secret-Shoe-Size-43",
        ),
        (with("nationalities", json!(["Belgian"])), "Belgian"),
        (
            with("nationalities", json!("Belgium-Secret")),
            "Belgium-Secret",
        ),
        (with("nationalities", json!([7_654_321])), "7654321"),
        (
            with("family_name", json!(["Peeters-Secret"])),
            "Peeters-Secret",
        ),
        (
            with(
                "personal_administrative_number",
                json!("85.07.30-033.61; DROP"),
            ),
            "85.07.30-033.61",
        ),
        (
            with("personal_administrative_number", json!(85_073_003_361_u64)),
            "85073003361",
        ),
        (
            with("level_of_assurance", json!("very-secret-loa")),
            "very-secret-loa",
        ),
    ];
    for ((body, field), value) in cases {
        let response = issuer.admin_post("/admin/persons", body).await;
        let (status, error, description) = error_described(response).await;
        assert_eq!(
            (status, error.as_str()),
            (400, "invalid_request"),
            "{field}"
        );
        assert!(
            !description.contains(value),
            "the description of a bad {field} echoes the value: {description}"
        );
    }
    issuer.stop().await;
}

#[tokio::test]
async fn re_enrolling_a_national_number_written_differently_updates_the_same_person() {
    let issuer = TestIssuer::start().await;
    let first = issuer.enrol("1990-05-01", "90.05.01-123.45").await;
    let response = issuer
        .admin_post("/admin/persons", person("1990-05-01", "90050112345"))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"person_id": first, "created": false}));
    issuer.stop().await;
}

#[tokio::test]
async fn offers_need_a_known_person_and_the_claims_the_register_lacks() {
    let issuer = TestIssuer::start().await;
    let response = issuer
        .admin_post(
            "/admin/offers",
            json!({"person_id": "no-such-person", "credential_configuration_ids": ["pid_sd_jwt"]}),
        )
        .await;
    assert_eq!(error_of(response).await, (404, "not_found".into()));

    let person = issuer.enrol("1990-05-01", "90050112345").await;
    let response = issuer
        .admin_post(
            "/admin/offers",
            json!({"person_id": person, "credential_configuration_ids": ["training_account_sd_jwt"]}),
        )
        .await;
    assert_eq!(error_of(response).await, (400, "invalid_request".into()));

    for ids in [
        json!([]),
        json!(["pid_sd_jwt", "pid_sd_jwt"]),
        json!(["mdl"]),
    ] {
        let response = issuer
            .admin_post(
                "/admin/offers",
                json!({"person_id": person, "credential_configuration_ids": ids}),
            )
            .await;
        assert_eq!(
            error_of(response).await,
            (400, "invalid_request".into()),
            "{ids}"
        );
    }
    issuer.stop().await;
}

#[tokio::test]
async fn status_changes_need_a_known_credential_and_action() {
    let issuer = TestIssuer::start().await;
    let response = issuer
        .admin_post("/admin/credentials/no-such-credential/revoke", json!({}))
        .await;
    assert_eq!(error_of(response).await, (404, "not_found".into()));

    let person = issuer.enrol("1990-05-01", "90050112345").await;
    let (created, code) = issuer
        .offer(json!({"person_id": person, "credential_configuration_ids": ["pid_sd_jwt"]}))
        .await;
    issuer
        .issue(&code, created["tx_code"].as_str().unwrap(), "pid_sd_jwt", 1)
        .await;
    let listed: Value = issuer
        .admin_get(&format!("/admin/persons/{person}/credentials"))
        .await
        .json()
        .await
        .unwrap();
    let id = listed["credentials"][0]["id"].as_str().unwrap().to_owned();
    for action in ["delete", "REVOKE", "valid"] {
        let response = issuer
            .admin_post(&format!("/admin/credentials/{id}/{action}"), json!({}))
            .await;
        assert_eq!(
            error_of(response).await,
            (404, "not_found".into()),
            "{action}"
        );
    }
    let listed: Value = issuer
        .admin_get(&format!("/admin/persons/{person}/credentials"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["credentials"][0]["status"], "valid");
    issuer.stop().await;
}
