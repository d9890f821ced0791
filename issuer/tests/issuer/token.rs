//! The Token Endpoint (OpenID4VCI 1.0 §6, RFC 6749 §5.2) refusing what it must refuse.

use serde_json::json;

use crate::harness::{
    PRE_AUTHORIZED_CODE_GRANT, TestIssuer, credential_request, error_described, error_of,
};

const PA: &str = "person_attestation_sd_jwt";

/// A `tx_code` of the same length that is certainly wrong: every digit moved on by one.
fn wrong(tx_code: &str) -> String {
    tx_code
        .chars()
        .map(|c| char::from(b'0' + (c as u8 - b'0' + 1) % 10))
        .collect()
}

#[tokio::test]
async fn a_reused_code_is_refused_and_withdraws_the_token_it_bought() {
    let issuer = TestIssuer::start().await;
    let (code, tx_code) = issuer.person_offer(&[PA]).await;
    let token = issuer.token(&code, &tx_code).await;

    let again = issuer.redeem(&code, &tx_code).await;
    assert_eq!(error_of(again).await, (400, "invalid_grant".into()));

    // RFC 6749 §4.1.2: the tokens granted by a code presented twice are revoked.
    let nonce = issuer.nonce().await;
    let (_, proofs) = issuer.proofs(1, &nonce);
    let response = issuer
        .credential_response(&token, &credential_request(PA, &proofs))
        .await;
    assert_eq!(error_of(response).await, (401, "invalid_token".into()));
    issuer.stop().await;
}

#[tokio::test]
async fn a_wrong_tx_code_says_how_many_tries_are_left_and_the_right_one_still_works() {
    let issuer = TestIssuer::start().await;
    let (code, tx_code) = issuer.person_offer(&[PA]).await;
    let response = issuer.redeem(&code, &wrong(&tx_code)).await;
    let (status, error, description) = error_described(response).await;
    assert_eq!((status, error.as_str()), (400, "invalid_grant"));
    assert!(description.contains("4 tries left"), "{description}");
    assert!(!description.contains(&tx_code), "{description}");
    issuer.token(&code, &tx_code).await;
    issuer.stop().await;
}

#[tokio::test]
async fn five_wrong_tx_codes_kill_the_code() {
    let issuer = TestIssuer::start().await;
    let (code, tx_code) = issuer.person_offer(&[PA]).await;
    for left in (0..5).rev() {
        let response = issuer.redeem(&code, &wrong(&tx_code)).await;
        let (status, error, description) = error_described(response).await;
        assert_eq!((status, error.as_str()), (400, "invalid_grant"));
        if left > 0 {
            assert!(
                description.contains(&format!("{left} tries left")),
                "{description}"
            );
        } else {
            assert!(description.contains("now invalid"), "{description}");
        }
    }
    let response = issuer.redeem(&code, &tx_code).await;
    assert_eq!(error_of(response).await, (400, "invalid_grant".into()));
    issuer.stop().await;
}

#[tokio::test]
async fn a_missing_tx_code_is_an_invalid_request_and_costs_no_try() {
    let issuer = TestIssuer::start().await;
    let (code, tx_code) = issuer.person_offer(&[PA]).await;
    let response = issuer
        .token_response(&[
            ("grant_type", PRE_AUTHORIZED_CODE_GRANT),
            ("pre-authorized_code", &code),
        ])
        .await;
    assert_eq!(error_of(response).await, (400, "invalid_request".into()));
    let response = issuer.redeem(&code, &wrong(&tx_code)).await;
    let (_, _, description) = error_described(response).await;
    assert!(description.contains("4 tries left"), "{description}");
    issuer.stop().await;
}

#[tokio::test]
async fn an_expired_code_is_an_invalid_grant() {
    let issuer = TestIssuer::start().await;
    let (code, tx_code) = issuer.person_offer(&[PA]).await;
    // offer_ttl is 900 s.
    issuer.clock.advance(901);
    let response = issuer.redeem(&code, &tx_code).await;
    assert_eq!(error_of(response).await, (400, "invalid_grant".into()));
    issuer.stop().await;
}

#[tokio::test]
async fn other_grant_types_are_unsupported() {
    let issuer = TestIssuer::start().await;
    let (code, _) = issuer.person_offer(&[PA]).await;
    let response = issuer
        .token_response(&[
            ("grant_type", "password"),
            ("username", "an"),
            ("password", "x"),
        ])
        .await;
    assert_eq!(
        error_of(response).await,
        (400, "unsupported_grant_type".into())
    );
    let response = issuer
        .token_response(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://wallet.example/cb"),
        ])
        .await;
    assert_eq!(
        error_of(response).await,
        (400, "unsupported_grant_type".into())
    );
    issuer.stop().await;
}

#[tokio::test]
async fn the_token_request_must_be_a_form_without_repeats_within_the_size_limit() {
    let issuer = TestIssuer::start().await;
    let (code, tx_code) = issuer.person_offer(&[PA]).await;

    let json_body = issuer
        .client
        .post(issuer.url("/token"))
        .json(&json!({
            "grant_type": PRE_AUTHORIZED_CODE_GRANT,
            "pre-authorized_code": code,
            "tx_code": tx_code,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(json_body).await, (400, "invalid_request".into()));

    let form = |body: String| {
        issuer
            .client
            .post(issuer.url("/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let repeated = form(format!(
        "grant_type={}&pre-authorized_code={code}&tx_code={tx_code}&tx_code={tx_code}",
        PRE_AUTHORIZED_CODE_GRANT.replace(':', "%3A")
    ))
    .await
    .unwrap();
    assert_eq!(error_of(repeated).await, (400, "invalid_request".into()));

    // Over the 256 KiB every endpoint reads.
    let padding = "a".repeat(300 * 1024);
    let huge = form(format!(
        "grant_type={}&pre-authorized_code={code}&tx_code={tx_code}&padding={padding}",
        PRE_AUTHORIZED_CODE_GRANT.replace(':', "%3A")
    ))
    .await
    .unwrap();
    assert_eq!(error_of(huge).await, (413, "invalid_request".into()));

    // None of this spent the code.
    issuer.token(&code, &tx_code).await;
    issuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_redemptions_of_one_code_yield_one_token() {
    let issuer = TestIssuer::start().await;
    let (code, tx_code) = issuer.person_offer(&[PA]).await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let client = issuer.client.clone();
        let url = issuer.url("/token");
        let (code, tx_code) = (code.clone(), tx_code.clone());
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .form(&[
                    ("grant_type", PRE_AUTHORIZED_CODE_GRANT),
                    ("pre-authorized_code", &code),
                    ("tx_code", &tx_code),
                ])
                .send()
                .await
                .unwrap();
            if response.status() == 200 {
                None
            } else {
                Some(error_of(response).await)
            }
        }));
    }
    let mut granted = 0;
    for task in tasks {
        match task.await.unwrap() {
            None => granted += 1,
            Some(error) => assert_eq!(error, (400, "invalid_grant".into())),
        }
    }
    assert_eq!(granted, 1);
    issuer.stop().await;
}
