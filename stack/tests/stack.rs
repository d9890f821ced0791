//! The local stack starts the three services on loopback with demo data, and a second start
//! on the same directory reuses it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use stack::{DEMO_CREDITS, Ports, Stack};

fn any_ports() -> Ports {
    Ports {
        issuer: 0,
        ledger: 0,
        verifier: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stack_starts_with_demo_data_and_restarts_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = Stack::start(dir.path(), any_ports()).await.unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only(
            reqwest::Certificate::from_pem_bundle(first.issuer.ca_pem.as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    for base in [&first.issuer.base, &first.verifier.base, &first.ledger.base] {
        let health = http.get(format!("{base}/health")).send().await.unwrap();
        assert_eq!(health.status(), 200, "{base}");
    }
    // The demo platform's key works at the verifier.
    let check = http
        .post(format!("{}/v1/checks", first.verifier.base))
        .bearer_auth(&first.demo.api_key)
        .json(&serde_json::json!({"checks": ["age_over_18"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 201);
    // The demo account is funded, and an offer of the citizen's credentials is made.
    let account = ledger::AccountRef::parse(&first.demo.account).unwrap();
    let balance = first.ledger.state.ledger.balance(&account).await.unwrap();
    assert_eq!(balance.balance.get(), DEMO_CREDITS);
    let (offer, tx_code) = first.demo_offer().await.unwrap();
    assert!(offer.starts_with("openid-credential-offer://"), "{offer}");
    assert_eq!(tx_code.len(), 6);
    let demo = first.demo.clone();
    first.stop();
    drop(first);

    // Again, on the same directory: the same platform and account, not funded twice.
    let second = Stack::start(dir.path(), any_ports()).await.unwrap();
    assert_eq!(second.demo.platform_id, demo.platform_id);
    assert_eq!(second.demo.account, demo.account);
    let balance = second.ledger.state.ledger.balance(&account).await.unwrap();
    assert_eq!(balance.balance.get(), DEMO_CREDITS);
    let check = http
        .post(format!("{}/v1/checks", second.verifier.base))
        .bearer_auth(&demo.api_key)
        .json(&serde_json::json!({"checks": ["age_over_18"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 201);
}
