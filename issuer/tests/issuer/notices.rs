//! `GET /register/notices`: the person's notices of court openings, once the order's embargo
//! is over, for a key-bound presentation of this register's person attestation. The
//! resolutions are recorded through the store (the court's path needs a verifier's log).

use std::sync::Arc;

use credential_formats::claims_path::ClaimsPath;
use credential_formats::crypto::{CryptoProvider, RustCrypto, SecretKey, SignatureAlgorithm};
use credential_formats::sd_jwt::{KeyBinding, SdJwt};
use issuer::store::NewResolution;
use serde_json::{Value, json};

use crate::harness::{Options, TestIssuer, error_described};

const PA: &str = "person_attestation_sd_jwt";
const PID: &str = "pid_sd_jwt";
const HOUR: i64 = 3600;
/// A trust list accrediting the provider (as `provider.rs`).
const PROVIDER_TRUST: &str = r#"
iss = "https://trust.example"
sequence = 1
[[entity]]
id = "__BASE__"
name = "Welding Academy"
key_files = ["{key_file}"]
roles = ["training_provider"]
courses = ["WELD-101"]
"#;

/// A person of the register with a person attestation (and, if asked, a PID).
struct Holder {
    person_id: String,
    key: SecretKey,
    credential: String,
}

/// Enrols a person, offers them `configurations` and fetches one copy of each: the holders,
/// in the order of `configurations`.
async fn holder_of(issuer: &TestIssuer, number: &str, configurations: &[&str]) -> Vec<Holder> {
    let person_id = issuer.enrol("1990-05-01", number).await;
    let (created, code) = issuer
        .offer(json!({"person_id": person_id, "credential_configuration_ids": configurations}))
        .await;
    let token = issuer
        .token(&code, created["tx_code"].as_str().unwrap())
        .await;
    let mut holders = Vec::new();
    for configuration in configurations {
        let nonce = issuer.nonce().await;
        let (mut keys, proofs) = issuer.proofs(1, &nonce);
        let response = issuer
            .credential_response(
                &token,
                &json!({"credential_configuration_id": configuration, "proofs": {"jwt": proofs}}),
            )
            .await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        let body: Value = response.json().await.unwrap();
        holders.push(Holder {
            person_id: person_id.clone(),
            key: keys.remove(0),
            credential: body["credentials"][0]["credential"]
                .as_str()
                .unwrap()
                .to_owned(),
        });
    }
    holders
}

async fn attestation_holder(issuer: &TestIssuer, number: &str) -> Holder {
    holder_of(issuer, number, &[PA]).await.remove(0)
}

/// The presentation disclosing `claims`, bound to `aud`, `nonce` and `iat`.
fn present(holder: &Holder, claims: &[&str], aud: &str, nonce: &str, iat: i64) -> String {
    let paths: Vec<ClaimsPath> = claims
        .iter()
        .map(|c| ClaimsPath::keys([*c]).unwrap())
        .collect();
    let signer = RustCrypto.signer(&holder.key).unwrap();
    SdJwt::parse(&holder.credential)
        .unwrap()
        .present(&paths)
        .unwrap()
        .bind(&KeyBinding::new(aud, nonce, iat), &*signer)
        .unwrap()
        .serialize()
}

/// A fresh, correct presentation of `holder`'s person handle to `issuer`.
async fn presentation(issuer: &TestIssuer, holder: &Holder) -> String {
    let nonce = issuer.nonce().await;
    present(
        holder,
        &["person_handle"],
        &issuer.base,
        &nonce,
        issuer.clock_now(),
    )
}

async fn get(issuer: &TestIssuer, authorization: Option<&str>) -> reqwest::Response {
    let mut request = issuer.client.get(issuer.url("/register/notices"));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    request.send().await.unwrap()
}

/// The notices answered to `presentation` (asserting 200 and `no-store`).
async fn notices(issuer: &TestIssuer, presentation: &str) -> Vec<Value> {
    let response = get(issuer, Some(&format!("SD-JWT {presentation}"))).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body["notices"].as_array().unwrap().clone()
}

/// The description of the 401 answered to `authorization` (asserting its code and challenge).
async fn refusal(issuer: &TestIssuer, authorization: Option<&str>) -> String {
    let response = get(issuer, authorization).await;
    assert_eq!(response.headers()["www-authenticate"], "SD-JWT");
    let (status, error, description) = error_described(response).await;
    assert_eq!((status, error.as_str()), (401, "invalid_presentation"));
    description
}

async fn refusal_of(issuer: &TestIssuer, presentation: &str) -> String {
    refusal(issuer, Some(&format!("SD-JWT {presentation}"))).await
}

/// Records a resolved court order of `person_id` as `POST /register/resolve` does: logged,
/// then answered. Returns its log index.
async fn resolve(
    issuer: &TestIssuer,
    person_id: &str,
    case: &str,
    embargo_until: Option<i64>,
) -> u64 {
    let app = &issuer.state.issuer;
    let now = issuer.clock_now();
    let jti = credential_formats::crypto::random_hex(16).unwrap();
    let resolution = NewResolution {
        jti: jti.clone(),
        order_digest: [7; 32],
        person_id: Some(person_id.to_owned()),
        case_number: case.to_owned(),
        ground: "art. 46bis Sv".to_owned(),
        platform_id: "https://platform.example".to_owned(),
        judge: "https://judge.example/1".to_owned(),
        received_at: now,
        deadline: now + 24 * HOUR,
        embargo_until,
    };
    let entry = json!({"type": "register_resolution", "jti": jti}).to_string();
    let log: Arc<_> = app.register_log().unwrap().clone();
    let index = app
        .store()
        .log_resolution(&resolution, entry.as_bytes(), &log)
        .await
        .unwrap()
        .unwrap();
    app.store().resolution_answered(&jti, now).await.unwrap();
    index
}

#[tokio::test]
async fn a_notice_is_given_once_its_embargo_is_over_and_only_to_its_person() {
    let issuer = TestIssuer::start().await;
    let ann = attestation_holder(&issuer, "90.05.01-123.45").await;
    let bob = attestation_holder(&issuer, "85.01.02-111.22").await;

    // Nothing resolved yet: an empty list, not an error.
    assert!(
        notices(&issuer, &presentation(&issuer, &ann).await)
            .await
            .is_empty()
    );

    let embargoed = resolve(
        &issuer,
        &ann.person_id,
        "2026/ANN/1",
        Some(issuer.clock_now() + 2 * HOUR),
    )
    .await;
    let bobs = resolve(&issuer, &bob.person_id, "2026/BOB/1", None).await;
    assert!(
        notices(&issuer, &presentation(&issuer, &ann).await)
            .await
            .is_empty(),
        "embargoed"
    );
    let resolved_at = issuer.clock_now();
    let for_bob = notices(&issuer, &presentation(&issuer, &bob).await).await;
    assert_eq!(for_bob.len(), 1);
    assert_eq!(for_bob[0]["case"], "2026/BOB/1");
    assert_eq!(for_bob[0]["log_index"], bobs);

    issuer.clock.advance(2 * HOUR);
    let for_ann = notices(&issuer, &presentation(&issuer, &ann).await).await;
    assert_eq!(
        for_ann,
        vec![json!({
            "case": "2026/ANN/1",
            "ground": "art. 46bis Sv",
            "platform": "https://platform.example",
            "judge": "https://judge.example/1",
            "resolved_at": resolved_at,
            "log_index": embargoed,
        })]
    );
    // Bob still sees only his.
    let for_bob = notices(&issuer, &presentation(&issuer, &bob).await).await;
    assert_eq!(for_bob.len(), 1);
    assert_eq!(for_bob[0]["case"], "2026/BOB/1");
    issuer.stop().await;
}

#[tokio::test]
async fn the_authorization_header_must_be_an_sd_jwt_presentation() {
    let issuer = TestIssuer::start().await;
    let ann = attestation_holder(&issuer, "90.05.01-123.45").await;
    assert_eq!(
        refusal(&issuer, None).await,
        "the Authorization header is missing"
    );
    let good = presentation(&issuer, &ann).await;
    assert_eq!(
        refusal(&issuer, Some(&format!("Bearer {good}"))).await,
        "the Authorization scheme is not SD-JWT"
    );
    assert_eq!(
        refusal(&issuer, Some(&good)).await,
        "the Authorization scheme is not SD-JWT"
    );
    assert_eq!(
        refusal_of(&issuer, "not-an-sd-jwt").await,
        "the presentation is not an SD-JWT"
    );
    let huge = format!("{good}{}", "A".repeat(16 * 1024));
    assert_eq!(
        refusal_of(&issuer, &huge).await,
        "the Authorization header is over 16 KiB"
    );
    // Without its KB-JWT.
    let unbound = good.rsplit_once('~').unwrap().0.to_owned() + "~";
    assert_eq!(
        refusal_of(&issuer, &unbound).await,
        "the presentation has no key binding JWT"
    );
    // The same presentation is accepted: none of the above spent its nonce.
    assert!(notices(&issuer, &good).await.is_empty());
    issuer.stop().await;
}

#[tokio::test]
async fn only_this_registers_valid_person_attestation_is_accepted() {
    let issuer = TestIssuer::start().await;
    let mut both = holder_of(&issuer, "90.05.01-123.45", &[PA, PID]).await;
    let pid = both.pop().unwrap();
    let ann = both.pop().unwrap();
    let now = issuer.clock_now();

    // A signature that is not the register's (the issuer JWT's signature altered).
    let good = presentation(&issuer, &ann).await;
    let (jwt, rest) = good.split_once('~').unwrap();
    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    let mut forged: Vec<u8> = signature.as_bytes().to_vec();
    forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
    let forged = format!("{signed}.{}~{rest}", String::from_utf8(forged).unwrap());
    assert_eq!(
        refusal_of(&issuer, &forged).await,
        "the credential's signature does not verify with its issuer's key"
    );

    // Another issuer's person attestation, bound to this register.
    let other = TestIssuer::start().await;
    let stranger = attestation_holder(&other, "90.05.01-123.45").await;
    let nonce = issuer.nonce().await;
    assert_eq!(
        refusal_of(
            &issuer,
            &present(&stranger, &["person_handle"], &issuer.base, &nonce, now)
        )
        .await,
        "the credential was not issued by this register"
    );
    other.stop().await;

    // This register's PID is not a person attestation.
    let nonce = issuer.nonce().await;
    assert_eq!(
        refusal_of(
            &issuer,
            &present(&pid, &["given_name"], &issuer.base, &nonce, now)
        )
        .await,
        "the credential is not a person attestation"
    );

    // A person attestation that does not disclose the handle.
    let nonce = issuer.nonce().await;
    assert_eq!(
        refusal_of(
            &issuer,
            &present(&ann, &["age_over_18"], &issuer.base, &nonce, now)
        )
        .await,
        "person_handle is not disclosed"
    );

    // Revoked, then suspended: refused; valid again: accepted.
    let records = issuer
        .admin_get(&format!("/admin/persons/{}/credentials", ann.person_id))
        .await
        .json::<Value>()
        .await
        .unwrap();
    let id = records["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["vct"].as_str().unwrap().contains("person"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let suspended = issuer
        .admin_post(&format!("/admin/credentials/{id}/suspend"), json!({}))
        .await;
    assert!(
        suspended.status().is_success(),
        "{}",
        suspended.text().await.unwrap()
    );
    assert_eq!(
        refusal_of(&issuer, &presentation(&issuer, &ann).await).await,
        "the credential is revoked or suspended"
    );
    let back = issuer
        .admin_post(&format!("/admin/credentials/{id}/unsuspend"), json!({}))
        .await;
    assert!(back.status().is_success(), "{}", back.text().await.unwrap());
    assert!(
        notices(&issuer, &presentation(&issuer, &ann).await)
            .await
            .is_empty()
    );
    issuer.stop().await;
}

#[tokio::test]
async fn the_key_binding_must_name_this_register_a_fresh_nonce_and_now() {
    let issuer = TestIssuer::start().await;
    let ann = attestation_holder(&issuer, "90.05.01-123.45").await;
    let now = issuer.clock_now();

    let nonce = issuer.nonce().await;
    assert_eq!(
        refusal_of(
            &issuer,
            &present(
                &ann,
                &["person_handle"],
                "https://elsewhere.example",
                &nonce,
                now
            )
        )
        .await,
        "the key binding JWT's aud is not this register"
    );
    assert_eq!(
        refusal_of(
            &issuer,
            &present(
                &ann,
                &["person_handle"],
                &issuer.base,
                "a-nonce-of-my-own",
                now
            )
        )
        .await,
        "the nonce was not given by this register, or has expired"
    );
    for iat in [now - 301, now + 301] {
        let nonce = issuer.nonce().await;
        assert_eq!(
            refusal_of(
                &issuer,
                &present(&ann, &["person_handle"], &issuer.base, &nonce, iat)
            )
            .await,
            "the key binding JWT's iat is more than 300 s from the register's time"
        );
    }
    // Within the window either way: accepted.
    for iat in [now - 299, now + 299] {
        let nonce = issuer.nonce().await;
        notices(
            &issuer,
            &present(&ann, &["person_handle"], &issuer.base, &nonce, iat),
        )
        .await;
    }

    // sd_hash over another presentation: a disclosure dropped after binding.
    let nonce = issuer.nonce().await;
    let two = present(
        &ann,
        &["person_handle", "age_over_18"],
        &issuer.base,
        &nonce,
        now,
    );
    let parts: Vec<&str> = two.split('~').collect();
    assert_eq!(parts.len(), 4);
    let one = [parts[0], parts[1], parts[3]].join("~");
    let dropped_first = [parts[0], parts[2], parts[3]].join("~");
    let expected = "the key binding JWT's sd_hash does not match the presentation";
    assert_eq!(refusal_of(&issuer, &one).await, expected);
    assert_eq!(refusal_of(&issuer, &dropped_first).await, expected);

    // A nonce serves once: the same presentation, or another with the same nonce, is refused.
    let nonce = issuer.nonce().await;
    let first = present(&ann, &["person_handle"], &issuer.base, &nonce, now);
    notices(&issuer, &first).await;
    assert_eq!(
        refusal_of(&issuer, &first).await,
        "the nonce was used before"
    );
    let again = present(&ann, &["person_handle"], &issuer.base, &nonce, now + 1);
    assert_eq!(
        refusal_of(&issuer, &again).await,
        "the nonce was used before"
    );

    // An expired nonce (its 300 s are over) is not this register's any more.
    let nonce = issuer.nonce().await;
    issuer.clock.advance(301);
    let late = present(
        &ann,
        &["person_handle"],
        &issuer.base,
        &nonce,
        issuer.clock_now(),
    );
    assert_eq!(
        refusal_of(&issuer, &late).await,
        "the nonce was not given by this register, or has expired"
    );
    issuer.stop().await;
}

#[tokio::test]
async fn only_the_state_register_has_notices() {
    let provider = TestIssuer::start_with(Options {
        provider: Some("Welding Academy".to_owned()),
        trust_description: Some(PROVIDER_TRUST.to_owned()),
        ..Options::default()
    })
    .await;
    let response = get(&provider, Some("SD-JWT x~")).await;
    assert_eq!(response.status(), 404);
    provider.stop().await;
}

#[tokio::test]
async fn a_signature_by_another_key_under_this_registers_name_is_refused() {
    // A credential built by hand, claiming this register as `iss`, signed by another key.
    let issuer = TestIssuer::start().await;
    let ann = attestation_holder(&issuer, "90.05.01-123.45").await;
    let sd_jwt = SdJwt::parse(&ann.credential).unwrap();
    let payload = sd_jwt.unverified_payload().clone();
    let header = sd_jwt.unverified_header().clone();
    let other = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let jwt = credential_formats::jose::sign_compact(
        &header,
        Value::Object(payload).to_string().as_bytes(),
        &*RustCrypto.signer(&other).unwrap(),
    )
    .unwrap();
    let rest = ann.credential.split_once('~').unwrap().1;
    let forged = Holder {
        person_id: ann.person_id.clone(),
        key: ann.key,
        credential: format!("{jwt}~{rest}"),
    };
    let nonce = issuer.nonce().await;
    let presentation = present(
        &forged,
        &["person_handle"],
        &issuer.base,
        &nonce,
        issuer.clock_now(),
    );
    assert_eq!(
        refusal_of(&issuer, &presentation).await,
        "the credential's signature does not verify with its issuer's key"
    );
    issuer.stop().await;
}
