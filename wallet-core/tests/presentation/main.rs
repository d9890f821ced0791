//! The wallet presenting to a test verifier over TLS on loopback, with credentials it received
//! from the real issuer. The verifier side is the one of credential-formats' `formats` tests:
//! a request object signed under `x509_hash`, `direct_post.jwt` decrypted and every
//! presentation verified against the trust list, Key Binding and the verifier's own query.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::sync::Arc;

use credential_formats::credentials::CredentialType;
use credential_formats::oid4vp::{
    AuthorizationErrorCode, DirectPostBody, ResponseMode, TransactionData,
};
use credential_formats::time::SystemClock;
use issuer::LocalIssuer;
use serde_json::{Value, json};
use tempfile::TempDir;
use wallet_core::{DefaultTransport, Error, Wallet, WalletConfig};
use zeroize::Zeroizing;

const PERSON: &str = "urn:be:identity:person-attestation:1";

mod spend;
mod verifier;

use verifier::*;

struct Stack {
    issuer: LocalIssuer,
    verifier: Verifier,
    wallet: Wallet,
    _dir: TempDir,
}

impl Stack {
    /// The issuer, the verifier, and a wallet holding a PID and a batch of 10 person
    /// attestations.
    async fn start() -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let issuer = LocalIssuer::start(dir.path()).await.unwrap();
        let verifier = Verifier::start(dir.path()).await;
        let anchor = issuer::trust::public_jwk_from_file(&issuer.anchor).unwrap();
        let wallet = Wallet::open(
            &dir.path().join("wallet.db"),
            Zeroizing::new([7u8; 32]),
            None,
            Arc::new(DefaultTransport::trusting_only(issuer.ca_pem.as_bytes()).unwrap()),
            WalletConfig::new(format!("{}/trust-list", verifier.base), anchor),
            Arc::new(SystemClock),
        )
        .unwrap();
        let (offer_uri, tx_code) = issuer
            .offer_to_demo_citizen(&["pid_sd_jwt", "person_attestation_sd_jwt"])
            .await
            .unwrap();
        wallet
            .receive_offer(&offer_uri)
            .await
            .unwrap()
            .accept(Some(&tx_code))
            .await
            .unwrap();
        Stack {
            issuer,
            verifier,
            wallet,
            _dir: dir,
        }
    }

    fn batch(&self) -> String {
        self.wallet
            .credentials()
            .unwrap()
            .into_iter()
            .find(|c| c.vct == PERSON)
            .unwrap()
            .batch_id
    }
}

fn age_query() -> Value {
    json!({"credentials": [{
        "id": "person",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [PERSON]},
        "claims": [{"path": ["age_over_18"], "values": [true]}]
    }]})
}

fn accountable_query() -> Value {
    json!({"credentials": [{
        "id": "person",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [PERSON]},
        "claims": [{"path": ["person_handle"]}, {"path": ["age_over_18"]}]
    }]})
}

#[tokio::test]
async fn an_anonymous_age_check_discloses_only_age_over_18_with_a_fresh_copy_each_time() {
    let stack = Stack::start().await;
    let batch = stack.batch();
    assert_eq!(stack.wallet.unused_copies(&batch).unwrap(), 10);
    let verifier = &stack.verifier;

    let session = verifier.request(age_query(), &verifier.listed, ResponseMode::DirectPostJwt);
    let pending = stack.wallet.receive_request(&session.uri).await.unwrap();
    let summary = pending.summary().clone();
    assert_eq!(summary.verifier_name, "Shop (test)");
    assert_eq!(summary.verifier_id, "https://shop.localhost");
    assert_eq!(summary.client_id, session.request.client_id.as_str());
    assert_eq!(summary.purpose.as_deref(), Some("Age check"));
    assert_eq!(summary.platform.as_deref(), Some("Example Market"));
    assert!(summary.satisfiable);
    assert_eq!(summary.credentials.len(), 1);
    assert_eq!(
        summary.credentials[0].labels.as_ref().unwrap()[0],
        CredentialType::PersonAttestation.labels()[0]
    );
    assert_eq!(summary.credentials[0].claims, ["age_over_18"]);
    let outcome = pending.accept().await.unwrap();
    assert_eq!(
        outcome.redirect_uri.as_deref(),
        Some(format!("https://verifier.example/done?response_code={}", session.id).as_str())
    );

    let presented = verifier.verify(&session);
    assert_eq!(presented.len(), 1);
    let first = &presented[0].1;
    assert_eq!(first.verified.disclosed_paths().len(), 1);
    assert_eq!(first.claims["age_over_18"], true);
    for hidden in [
        "person_handle",
        "age_over_16",
        "age_over_21",
        "level_of_assurance",
    ] {
        assert!(first.claims.get(hidden).is_none(), "{hidden} was disclosed");
    }
    // The copy shown is now used, and it was not used before (10 were unused).
    assert_eq!(stack.wallet.unused_copies(&batch).unwrap(), 9);
    let stored = stack.wallet.credentials().unwrap();
    let shown = stored
        .iter()
        .find(|c| c.compact.split('~').next() == Some(first.issuer_jwt.as_str()))
        .unwrap();
    assert!(shown.used && shown.single_use);

    // A second check uses another copy, bound to another holder key.
    let again = verifier.request(age_query(), &verifier.listed, ResponseMode::DirectPostJwt);
    stack
        .wallet
        .receive_request(&again.uri)
        .await
        .unwrap()
        .accept()
        .await
        .unwrap();
    let second = &verifier.verify(&again)[0].1;
    assert_ne!(second.issuer_jwt, first.issuer_jwt);
    assert_ne!(
        second.verified.cnf_jwk().unwrap().thumbprint(),
        first.verified.cnf_jwk().unwrap().thumbprint()
    );
    assert_eq!(stack.wallet.unused_copies(&batch).unwrap(), 8);

    // The log: who asked, for which claims, by name only.
    let log = stack.wallet.log().unwrap();
    let entry = &log.last().unwrap().1;
    assert_eq!(entry["kind"], "presentation");
    assert_eq!(entry["outcome"], "presented");
    assert_eq!(entry["counterparty"]["name"], "Shop (test)");
    assert_eq!(entry["platform"], "Example Market");
    assert_eq!(entry["credentials"][0]["vct"], PERSON);
    assert_eq!(entry["credentials"][0]["claims"], json!(["age_over_18"]));
    let text = entry.to_string();
    assert!(!text.contains("true"), "{text}");
    assert!(!text.contains("Peeters"), "{text}");
    drop(stack.issuer);
}

#[tokio::test]
async fn an_accountable_check_discloses_the_handle_and_the_age_over_direct_post() {
    let stack = Stack::start().await;
    let verifier = &stack.verifier;
    let session = verifier.request(
        accountable_query(),
        &verifier.listed,
        ResponseMode::DirectPost,
    );
    let pending = stack.wallet.receive_request(&session.uri).await.unwrap();
    assert_eq!(
        pending.summary().credentials[0].claims,
        ["person_handle", "age_over_18"]
    );
    assert!(pending.summary().transaction_data.is_empty());
    assert!(pending.summary().spends.is_empty());
    pending.accept().await.unwrap();
    let presented = verifier.verify(&session);
    let person = &presented[0].1;
    assert_eq!(person.verified.disclosed_paths().len(), 2);
    // Without transaction data, the Key Binding JWT carries no hashes.
    assert!(
        person
            .verified
            .key_binding()
            .unwrap()
            .get("transaction_data_hashes")
            .is_none()
    );
    let stored = stack.wallet.credentials().unwrap();
    let handle = stored.iter().find(|c| c.vct == PERSON).unwrap().claims["person_handle"].clone();
    assert_eq!(person.claims["person_handle"], handle);
    assert!(person.claims.get("age_over_21").is_none());
    // The handle is disclosed to the verifier, never written to the log.
    let text = stack.wallet.log().unwrap().last().unwrap().1.to_string();
    assert!(text.contains("person_handle"));
    assert!(!text.contains(handle.as_str().unwrap()), "{text}");
}

#[tokio::test]
async fn a_verifier_outside_the_trust_list_or_a_tampered_request_is_refused() {
    let stack = Stack::start().await;
    let verifier = &stack.verifier;
    let batch = stack.batch();

    let stranger = Party::new("other.localhost");
    let session = verifier.request(age_query(), &stranger, ResponseMode::DirectPostJwt);
    let err = stack
        .wallet
        .receive_request(&session.uri)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Untrusted(_)), "{err:?}");

    // The payload of one genuine request under the signature of another.
    let one = verifier.request(age_query(), &verifier.listed, ResponseMode::DirectPostJwt);
    let other = verifier.request(
        accountable_query(),
        &verifier.listed,
        ResponseMode::DirectPostJwt,
    );
    let (a, b) = (verifier.signed(&one.id), verifier.signed(&other.id));
    let a: Vec<&str> = a.split('.').collect();
    let b: Vec<&str> = b.split('.').collect();
    verifier.publish(&one.id, format!("{}.{}.{}", a[0], b[1], a[2]));
    let err = stack.wallet.receive_request(&one.uri).await.unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");

    // Nothing was shown: every copy is still unused.
    assert_eq!(stack.wallet.unused_copies(&batch).unwrap(), 10);
}

/// Re-signs a request object after `change`, with the listed verifier's key and certificate.
fn resign(verifier: &Verifier, session: &Session, change: impl FnOnce(&mut Value)) -> String {
    let signed = verifier.signed(&session.id);
    let decoded = credential_formats::jose::DecodedJws::decode(&signed).unwrap();
    let mut claims: Value = serde_json::from_slice(decoded.unverified_payload()).unwrap();
    change(&mut claims);
    let x5c = credential_formats::jose::X509Chain::new(vec![verifier.listed.certificate.clone()])
        .unwrap()
        .to_x5c();
    let signer = credential_formats::crypto::CryptoProvider::signer(
        &credential_formats::crypto::RustCrypto,
        &verifier.listed.secret,
    )
    .unwrap();
    credential_formats::jose::sign_compact(
        &credential_formats::jose::JwsHeader::new("oauth-authz-req+jwt").with_x5c(x5c),
        claims.to_string().as_bytes(),
        &*signer,
    )
    .unwrap()
}

#[tokio::test]
async fn unsigned_mismatched_nonce_less_or_misdirected_requests_are_refused() {
    let stack = Stack::start().await;
    let verifier = &stack.verifier;
    let batch = stack.batch();

    // Control: re-signing an unchanged request is accepted, so each refusal below is due to
    // its one change.
    let control = verifier.request(age_query(), &verifier.listed, ResponseMode::DirectPostJwt);
    verifier.publish(&control.id, resign(verifier, &control, |_| {}));
    stack.wallet.receive_request(&control.uri).await.unwrap();

    // Unsigned (`alg: none`).
    let session = verifier.request(age_query(), &verifier.listed, ResponseMode::DirectPostJwt);
    let payload = verifier
        .signed(&session.id)
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    verifier.publish(
        &session.id,
        format!("eyJhbGciOiJub25lIiwidHlwIjoib2F1dGgtYXV0aHotcmVxK2p3dCJ9.{payload}."),
    );
    let err = stack
        .wallet
        .receive_request(&session.uri)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "unsigned: {err:?}");

    // The link's client_id is not the request's.
    let session = verifier.request(age_query(), &verifier.listed, ResponseMode::DirectPostJwt);
    let stranger = Party::new("other.localhost");
    let other_id = format!("x509_hash:{}", stranger.certificate.x509_hash());
    let uri = session.uri.replace(
        &urlencode(session.request.client_id.as_str()),
        &urlencode(&other_id),
    );
    assert_ne!(uri, session.uri);
    let err = stack.wallet.receive_request(&uri).await.unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "client_id: {err:?}");

    // No nonce.
    let session = verifier.request(age_query(), &verifier.listed, ResponseMode::DirectPostJwt);
    verifier.publish(
        &session.id,
        resign(verifier, &session, |c| {
            c.as_object_mut().unwrap().remove("nonce");
        }),
    );
    let err = stack
        .wallet
        .receive_request(&session.uri)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "nonce: {err:?}");

    // The answer would go to another host.
    let session = verifier.request(age_query(), &verifier.listed, ResponseMode::DirectPostJwt);
    verifier.publish(
        &session.id,
        resign(verifier, &session, |c| {
            c["response_uri"] = "https://collector.example/response".into();
        }),
    );
    let err = stack
        .wallet
        .receive_request(&session.uri)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Untrusted(_)), "response_uri: {err:?}");

    assert_eq!(stack.wallet.unused_copies(&batch).unwrap(), 10);
}

/// Form-encoding as the URI builder does it (enough for `x509_hash:` identifiers).
fn urlencode(text: &str) -> String {
    text.replace(':', "%3A")
}

#[tokio::test]
async fn declining_and_having_nothing_look_the_same_to_the_verifier() {
    let stack = Stack::start().await;
    let verifier = &stack.verifier;
    let batch = stack.batch();

    let session = verifier.request(age_query(), &verifier.listed, ResponseMode::DirectPostJwt);
    stack
        .wallet
        .receive_request(&session.uri)
        .await
        .unwrap()
        .decline()
        .await
        .unwrap();
    let DirectPostBody::Error(declined) = verifier.received(&session) else {
        panic!("not an error response")
    };
    assert_eq!(declined.error(), &AuthorizationErrorCode::AccessDenied);
    assert_eq!(declined.state(), session.request.state.as_deref());
    assert_eq!(stack.wallet.unused_copies(&batch).unwrap(), 10);

    // A type the wallet does not hold.
    let query = json!({"credentials": [{
        "id": "qualification",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [CredentialType::Qualification.vct()]},
        "claims": [{"path": ["course_reference"]}]
    }]});
    let nothing = verifier.request(query, &verifier.listed, ResponseMode::DirectPostJwt);
    let pending = stack.wallet.receive_request(&nothing.uri).await.unwrap();
    assert!(!pending.summary().satisfiable);
    assert!(!pending.summary().credentials[0].available);
    assert_eq!(pending.accept().await.unwrap_err(), Error::NothingToPresent);
    let DirectPostBody::Error(empty) = verifier.received(&nothing) else {
        panic!("not an error response")
    };
    assert_eq!(empty.error(), declined.error());
    assert_eq!(empty.error_description(), declined.error_description());

    let log = stack.wallet.log().unwrap();
    let outcomes: Vec<&Value> = log.iter().map(|(_, e)| &e["outcome"]).collect();
    assert_eq!(
        outcomes[outcomes.len() - 2..],
        [&json!("declined"), &json!("no_match")]
    );
}
