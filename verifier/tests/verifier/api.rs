//! The platform API's edges: keys, other platforms' checks, bodies, the OpenAPI document,
//! webhooks.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};

use crate::Stack;

#[tokio::test]
async fn keys_are_checked_rotated_and_revoked() {
    let stack = Stack::start().await;
    let (platform, key) = stack.platform("Example Social").await;
    let body = json!({"checks": ["age_over_18"]});
    assert_eq!(stack.create_check(&key, body.clone()).await.0, 201);

    // Wrong, malformed, missing.
    // The same key with its last character changed.
    let last = if key.ends_with('A') { 'B' } else { 'A' };
    let wrong = format!("{}{last}", &key[..key.len() - 1]);
    for bad in [wrong.as_str(), "vk_nothing", "Bearer", ""] {
        let response = stack
            .http
            .post(format!("{}/v1/checks", stack.verifier.base))
            .header("authorization", format!("Bearer {bad}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{bad}");
        assert!(response.headers().contains_key("www-authenticate"));
    }

    // Rotation: the old key keeps working through the grace period; revoked, it stops.
    let rotated: Value = stack
        .http
        .post(format!(
            "{}/admin/platforms/{platform}/keys",
            stack.verifier.base
        ))
        .bearer_auth(stack.verifier.admin_token.as_str())
        .json(&json!({"grace_seconds": 3600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_key = rotated["api_key"].as_str().unwrap();
    assert_eq!(stack.create_check(new_key, body.clone()).await.0, 201);
    assert_eq!(stack.create_check(&key, body.clone()).await.0, 201);
    let old_id = key.strip_prefix("vk_").unwrap().split('_').next().unwrap();
    let revoked = stack
        .http
        .post(format!(
            "{}/admin/keys/{old_id}/revoke",
            stack.verifier.base
        ))
        .bearer_auth(stack.verifier.admin_token.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 204);
    assert_eq!(stack.create_check(&key, body.clone()).await.0, 401);
    assert_eq!(stack.create_check(new_key, body.clone()).await.0, 201);

    // The admin API wants its own token.
    let response = stack
        .http
        .post(format!("{}/admin/platforms", stack.verifier.base))
        .bearer_auth(new_key)
        .json(&json!({"name": "Intruder"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn another_platforms_check_is_not_found_like_an_unknown_one() {
    let stack = Stack::start().await;
    let (_, social) = stack.platform("Example Social").await;
    let (_, market) = stack.platform("Example Market").await;
    let (_, created) = stack
        .create_check(&social, json!({"checks": ["age_over_18"]}))
        .await;
    let id = created["id"].as_str().unwrap();
    let (status, foreign) = stack.get_check(&market, id).await;
    let (unknown_status, unknown) = stack
        .get_check(&market, "00000000000000000000000000000000")
        .await;
    assert_eq!((status, unknown_status), (404, 404));
    assert_eq!(foreign, unknown);
    let (status, mine) = stack.get_check(&social, id).await;
    assert_eq!(status, 200);
    assert_eq!(mine["status"], "pending");
    assert!(mine.get("result").is_none());
}

#[tokio::test]
async fn bad_requests_get_specific_errors() {
    let stack = Stack::start().await;
    let (_, key) = stack.platform("Example Social").await;
    let url = format!("{}/v1/checks", stack.verifier.base);
    for (body, what) in [
        (json!({"checks": []}), "no check"),
        (json!({"checks": ["date_of_birth"]}), "unknown check"),
        (
            json!({"checks": ["age_over_18"], "return_url": "http://platform.example/back"}),
            "http",
        ),
        (
            json!({"checks": ["age_over_18"], "colour": "blue"}),
            "unknown field",
        ),
        (
            json!({"checks": ["age_over_18"], "account_reference": ""}),
            "empty reference",
        ),
    ] {
        let (status, error) = stack.create_check(&key, body).await;
        assert_eq!(status, 400, "{what}: {error}");
        assert_eq!(error["error"], "invalid_request", "{what}");
    }
    // Oversized.
    let huge = json!({"checks": ["age_over_18"], "account_reference": "x".repeat(200_000)});
    let response = stack
        .http
        .post(&url)
        .bearer_auth(&key)
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    // Not JSON (the OAuth-style 400 the other services give).
    let response = stack
        .http
        .post(&url)
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body("checks=age_over_18")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    // A wallet's oversized answer.
    let (_, created) = stack
        .create_check(&key, json!({"checks": ["age_over_18"]}))
        .await;
    let response = stack
        .http
        .post(format!(
            "{}/wallet/responses/{}",
            stack.verifier.base,
            created["id"].as_str().unwrap()
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("response={}", "a".repeat(100_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
}

#[tokio::test]
async fn the_openapi_document_describes_the_platform_api() {
    let stack = Stack::start().await;
    let doc: Value = stack
        .http
        .get(format!("{}/openapi.json", stack.verifier.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/v1/checks"]["post"].is_object());
    assert!(doc["paths"]["/v1/checks/{id}"]["get"].is_object());
    assert!(doc["components"]["schemas"]["CheckResult"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn responses_are_never_cached() {
    let stack = Stack::start().await;
    let (_, key) = stack.platform("Example Social").await;
    let response = stack
        .http
        .post(format!("{}/v1/checks", stack.verifier.base))
        .bearer_auth(&key)
        .json(&json!({"checks": ["age_over_18"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
}

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

#[tokio::test]
async fn a_settled_check_is_announced_by_a_signed_webhook() {
    let stack = Stack::start().await;
    // The platform's webhook receiver, over TLS with the development certificate.
    let received: Received = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route(
            "/hook",
            post(
                |axum::extract::State(r): axum::extract::State<Received>,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    // The first delivery is answered with an error: the verifier retries.
                    let mut received = r.lock().unwrap();
                    received.push((headers, body));
                    if received.len() == 1 {
                        axum::http::StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        axum::http::StatusCode::OK
                    }
                },
            ),
        )
        .with_state(received.clone());
    let tls = service_kit::tls::dev_pki(&stack.dir.path().join("tls"))
        .unwrap()
        .server_config()
        .unwrap();
    tokio::spawn(service_kit::http::serve_tls(
        listener,
        app,
        tls,
        std::future::pending(),
    ));
    let registered: Value = stack
        .http
        .post(format!("{}/admin/platforms", stack.verifier.base))
        .bearer_auth(stack.verifier.admin_token.as_str())
        .json(&json!({"name": "Hooked", "webhook_url": format!("https://localhost:{port}/hook")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = registered["api_key"].as_str().unwrap();
    let secret = registered["webhook_secret"].as_str().unwrap();
    let result = stack.verified(key, &["age_over_18"]).await;

    // Refused once, delivered again after the first backoff (5 s), with the same id.
    let mut delivered = Vec::new();
    for _ in 0..200 {
        delivered = received.lock().unwrap().clone();
        if delivered.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(delivered.len(), 2, "a retry after the refusal");
    assert_eq!(
        delivered[0].0["webhook-id"], delivered[1].0["webhook-id"],
        "receivers deduplicate on the id"
    );
    assert_eq!(delivered[0].1, delivered[1].1);
    let (headers, body) = &delivered[1];
    let id = headers["webhook-id"].to_str().unwrap();
    let timestamp: i64 = headers["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let expected =
        verifier::webhook::signature(secret, id, timestamp, std::str::from_utf8(body).unwrap())
            .unwrap();
    assert_eq!(headers["webhook-signature"].to_str().unwrap(), expected);
    let event: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(event["type"], "check.completed");
    assert_eq!(event["data"]["check_id"], result["id"]);
    assert_eq!(event["data"]["attestation"], result["attestation"]);
}

#[tokio::test]
async fn a_flood_from_one_address_is_slowed_down() {
    let stack = Stack::start().await;
    let (_, key) = stack.platform("Example Social").await;
    let (_, created) = stack
        .create_check(&key, json!({"checks": ["age_over_18"]}))
        .await;
    let url = format!(
        "{}/wallet/requests/{}",
        stack.verifier.base,
        created["id"].as_str().unwrap()
    );
    let mut statuses = Vec::new();
    for _ in 0..120 {
        statuses.push(stack.http.get(&url).send().await.unwrap().status().as_u16());
    }
    // The request may be fetched again; a flood is cut to the address's rate.
    assert_eq!(statuses[0], 200);
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429));
}
