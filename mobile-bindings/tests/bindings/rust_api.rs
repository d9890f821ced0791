//! The binding layer's own API, called from Rust as the generated code calls it: the error
//! families, the storage key, and a full flow through app-provided key store and transport.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use credential_formats::crypto::{CryptoProvider, RustCrypto, SecretKey, SignatureAlgorithm};
use credential_formats::oid4vp::{DirectPostBody, ResponseMode};
use mobile_bindings::{
    HttpHeader, HttpMethod, HttpRequest, HttpResponse, KeyStore, StorageKeyProvider, Transport,
    Wallet, WalletError,
};
use serde_json::{Value, json};
use wallet_core::Transport as _;

use crate::support::*;

/// Holder keys in memory, answering as a platform keystore does: uncompressed SEC1 public
/// keys, DER signatures.
#[derive(Debug, Default)]
struct AppKeys {
    keys: Mutex<HashMap<String, SecretKey>>,
}

fn sec1(secret: &SecretKey) -> Vec<u8> {
    let credential_formats::crypto::PublicKey::P256 { x, y } = secret.public_key() else {
        panic!("P-256")
    };
    [&[0x04][..], &x, &y].concat()
}

fn app_error(reason: &str) -> WalletError {
    WalletError::KeyStore {
        reason: reason.into(),
    }
}

impl KeyStore for AppKeys {
    fn generate(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        let secret = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let public = sec1(&secret);
        let mut keys = self.keys.lock().unwrap();
        if keys.insert(alias, secret).is_some() {
            return Err(app_error("alias taken"));
        }
        Ok(public)
    }

    fn public_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
        let keys = self.keys.lock().unwrap();
        keys.get(&alias).map(sec1).ok_or(app_error("no such key"))
    }

    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, WalletError> {
        let keys = self.keys.lock().unwrap();
        let secret = keys.get(&alias).ok_or(app_error("no such key"))?;
        let raw = RustCrypto.signer(secret).unwrap().sign(&message).unwrap();
        let signature = p256::ecdsa::Signature::from_slice(&raw).unwrap();
        Ok(signature.to_der().as_bytes().to_vec())
    }

    fn delete(&self, alias: String) -> Result<(), WalletError> {
        self.keys.lock().unwrap().remove(&alias);
        Ok(())
    }
}

/// The app's HTTP: here wallet-core's own client underneath, counting what goes through.
#[derive(Debug)]
struct AppTransport {
    inner: wallet_core::DefaultTransport,
    sent: AtomicUsize,
}

#[async_trait::async_trait]
impl Transport for AppTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, WalletError> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        let mut core = match request.method {
            HttpMethod::Get => wallet_core::HttpRequest::get(request.url),
            HttpMethod::Post => wallet_core::HttpRequest {
                method: wallet_core::HttpMethod::Post,
                url: request.url,
                headers: Vec::new(),
                body: request.body,
            },
        };
        for HttpHeader { name, value } in request.headers {
            core = core.header(&name, value);
        }
        let response = self.inner.send(core).await.map_err(WalletError::from)?;
        Ok(HttpResponse {
            status: response.status,
            content_type: response.content_type,
            body: response.body,
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_storage_key_is_wrong_key_and_bad_input_is_named() {
    let stack = Stack::start().await;
    let settings = stack.settings("wallet.db");
    let wallet = open(settings.clone(), &[7; 32], None, None).unwrap();
    assert!(wallet.credentials().await.unwrap().is_empty());
    drop(wallet);

    assert!(matches!(
        open(settings.clone(), &[8; 32], None, None),
        Err(WalletError::WrongKey)
    ));
    // The refused key changed nothing: the right one still opens the store.
    open(settings.clone(), &[7; 32], None, None).unwrap();

    let input = |r: Result<Arc<Wallet>, WalletError>| match r {
        Err(WalletError::InvalidInput { reason }) => reason,
        other => panic!("expected InvalidInput, got {:?}", other.map(|_| ())),
    };
    assert!(input(open(settings.clone(), &[7; 31], None, None)).contains("32 bytes"));
    let mut no_anchor = settings.clone();
    no_anchor.trust_anchor_jwk = json!({"kty": "oct", "k": "AAAA"}).to_string();
    assert!(input(open(no_anchor, &[7; 32], None, None)).contains("JWK"));
    let transport: Arc<dyn Transport> = Arc::new(AppTransport {
        inner: wallet_core::DefaultTransport::new().unwrap(),
        sent: AtomicUsize::new(0),
    });
    assert!(input(open(settings.clone(), &[7; 32], None, Some(transport))).contains("ca_pem"));

    // What the app's own storage key provider throws comes back as it was thrown.
    #[derive(Debug)]
    struct Locked;
    impl StorageKeyProvider for Locked {
        fn storage_key(&self) -> Result<Vec<u8>, WalletError> {
            Err(WalletError::KeyStore {
                reason: "the device is locked".into(),
            })
        }
    }
    assert!(matches!(
        Wallet::new(settings, Arc::new(Locked), None, None),
        Err(WalletError::KeyStore { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_and_unreachable_counterparties_have_their_own_families() {
    let stack = Stack::start().await;
    let (uri, _) = stack.offer().await;

    // A wallet anchored in another authority trusts nothing this stack says.
    let stranger = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let mut settings = stack.settings("stranger.db");
    settings.trust_anchor_jwk = credential_formats::jose::Jwk::new(stranger.public_key())
        .to_value()
        .to_string();
    let wallet = open(settings, &[1; 32], None, None).unwrap();
    assert!(matches!(
        wallet.receive_offer(uri.clone()).await,
        Err(WalletError::Untrusted { .. })
    ));

    let wallet = open(stack.settings("wallet.db"), &[1; 32], None, None).unwrap();
    let closed =
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Flocalhost%3A1%2Foffer";
    match wallet.receive_offer(closed.into()).await {
        Err(WalletError::Network { reason }) => assert!(reason.contains("localhost:1")),
        other => panic!("expected Network, got {:?}", other.map(|_| ())),
    }
    assert!(matches!(
        wallet.receive_offer("https://not-an-offer".into()).await,
        Err(WalletError::Invalid { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_keys_and_app_transport_receive_list_present_decline_and_log() {
    let stack = Stack::start().await;
    let keys = Arc::new(AppKeys::default());
    let transport = Arc::new(AppTransport {
        inner: wallet_core::DefaultTransport::trusting_only(stack.issuer.ca_pem.as_bytes())
            .unwrap(),
        sent: AtomicUsize::new(0),
    });
    let mut settings = stack.settings("wallet.db");
    settings.ca_pem = None;
    let wallet = open(
        settings,
        &[9; 32],
        Some(keys.clone()),
        Some(transport.clone()),
    )
    .unwrap();

    // Receive: the summary, a wrong code refused, an answered offer answered once.
    let (uri, tx_code) = stack.offer().await;
    let offer = wallet.receive_offer(uri.clone()).await.unwrap();
    let summary = offer.summary();
    assert_eq!(summary.issuer_name, "State issuer (development)");
    let labels: Vec<_> = summary
        .credentials
        .iter()
        .map(|c| c.labels.en.as_str())
        .collect();
    assert_eq!(labels, ["Identity (PID)", "Person attestation"]);
    assert_eq!(summary.tx_code.unwrap().length, Some(6));
    match offer.accept(Some(wrong_code(&tx_code).into())).await {
        Err(WalletError::Refused { code }) => assert_eq!(code, "invalid_grant"),
        other => panic!("expected Refused, got {other:?}"),
    }
    assert!(matches!(
        offer.accept(Some(tx_code.clone())).await,
        Err(WalletError::AlreadyAnswered)
    ));
    assert!(matches!(offer.decline(), Err(WalletError::AlreadyAnswered)));
    // Declined offers store nothing, and an offer let go of can be received again.
    let declined = wallet.receive_offer(uri.clone()).await.unwrap();
    declined.decline().unwrap();
    assert!(matches!(
        declined.accept(Some(tx_code.clone())).await,
        Err(WalletError::AlreadyAnswered)
    ));
    assert!(wallet.credentials().await.unwrap().is_empty());
    let offer = wallet.receive_offer(uri).await.unwrap();
    let ids = offer.accept(Some(tx_code)).await.unwrap();
    assert_eq!(ids.len(), 11);
    assert_eq!(keys.keys.lock().unwrap().len(), 11, "one app key per copy");

    // List: one entry per batch, claims labelled, values as text.
    let credentials = wallet.credentials().await.unwrap();
    assert_eq!(credentials.len(), 2);
    let pid = &credentials[0];
    assert_eq!(pid.labels.as_ref().unwrap().en, "Identity (PID)");
    assert!(!pid.single_use);
    let claim = |name: &str| pid.claims.iter().find(|c| c.name == name).unwrap();
    assert_eq!(claim("family_name").value, "Peeters");
    assert_eq!(claim("family_name").label.nl, "Familienaam");
    assert_eq!(claim("nationalities").value, "BE");
    // An object reads as its values, in the credential's order.
    let mut address: Vec<_> = claim("address")
        .value
        .split(", ")
        .map(str::to_owned)
        .collect();
    address.sort();
    assert_eq!(address, ["BE", "Gent", "Veldstraat 1"]);
    assert!(
        pid.claims
            .iter()
            .all(|c| !["iss", "cnf", "vct"].contains(&c.name.as_str()))
    );
    let attestation = &credentials[1];
    assert_eq!(attestation.vct, PERSON);
    assert!(attestation.single_use);
    assert_eq!(attestation.unused_copies, 10);
    assert!(wallet.running_low().await.unwrap().is_empty());

    // Present: who asks what; the verifier checks what arrived.
    let session = stack.age_check();
    let request = wallet.receive_request(session.uri.clone()).await.unwrap();
    let summary = request.summary();
    assert_eq!(summary.verifier_name, "Shop (test)");
    assert_eq!(summary.platform.as_deref(), Some("Example Market"));
    assert_eq!(summary.purpose.as_deref(), Some("Age check"));
    assert_eq!(summary.credentials[0].claims, ["age_over_18"]);
    assert!(summary.satisfiable);
    let outcome = request.accept().await.unwrap();
    assert!(
        outcome
            .redirect_uri
            .unwrap()
            .starts_with("https://verifier.example/done")
    );
    assert_age_presented(&stack.verifier, &session);
    assert!(matches!(
        request.decline().await,
        Err(WalletError::AlreadyAnswered)
    ));

    // Decline: the verifier is told access_denied; no copy is used.
    let session = stack.age_check();
    let request = wallet.receive_request(session.uri.clone()).await.unwrap();
    request.decline().await.unwrap();
    assert!(matches!(
        stack.verifier.received(&session),
        DirectPostBody::Error(_)
    ));
    // Nothing answers a query for a type the wallet does not hold.
    let qualification = json!({"credentials": [{
        "id": "diploma", "format": "dc+sd-jwt",
        "meta": {"vct_values": ["urn:be:education:qualification:1"]},
        "claims": [{"path": ["title"]}]
    }]});
    let session = stack.verifier.request(
        qualification,
        &stack.verifier.listed,
        ResponseMode::DirectPostJwt,
    );
    let request = wallet.receive_request(session.uri.clone()).await.unwrap();
    assert!(!request.summary().satisfiable);
    assert!(matches!(
        request.accept().await,
        Err(WalletError::NothingToPresent)
    ));
    assert!(matches!(
        stack.verifier.received(&session),
        DirectPostBody::Error(_)
    ));
    assert_eq!(wallet.credentials().await.unwrap()[1].unused_copies, 9);

    // The log: who, what, how it ended — and no claim value anywhere.
    let log = wallet.log().await.unwrap();
    let outcomes: Vec<_> = log
        .iter()
        .map(|e| (e.kind.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("issuance", "received"),
            ("presentation", "presented"),
            ("presentation", "declined"),
            ("presentation", "no_match"),
        ]
    );
    assert_eq!(log[0].counterparty, "State issuer (development)");
    assert_eq!(log[1].counterparty, "Shop (test)");
    assert_eq!(log[1].claims, ["age_over_18"]);
    assert_eq!(log[1].credential_types, [PERSON]);
    let exported = wallet.export_log().await.unwrap();
    let entries: Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 4);
    assert_eq!(entries[1]["entry"]["outcome"], "presented");
    for value in ["Peeters", "Veldstraat", "90050112345"] {
        assert!(!exported.contains(value), "{value} in the exported log");
    }
    assert!(
        transport.sent.load(Ordering::SeqCst) > 0,
        "the app's transport carried it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_store_answering_in_the_wrong_encoding_fails_as_a_key_store_error() {
    /// Returns compressed points: a platform store misused.
    #[derive(Debug, Default)]
    struct Compressed(AppKeys);
    impl KeyStore for Compressed {
        fn generate(&self, alias: String) -> Result<Vec<u8>, WalletError> {
            let mut point = self.0.generate(alias)?;
            point.truncate(33);
            point[0] = 0x02;
            Ok(point)
        }
        fn public_key(&self, alias: String) -> Result<Vec<u8>, WalletError> {
            self.0.public_key(alias)
        }
        fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, WalletError> {
            self.0.sign(alias, message)
        }
        fn delete(&self, alias: String) -> Result<(), WalletError> {
            self.0.delete(alias)
        }
    }
    let stack = Stack::start().await;
    let keys = Arc::new(Compressed::default());
    let wallet = open(
        stack.settings("wallet.db"),
        &[2; 32],
        Some(keys.clone()),
        None,
    )
    .unwrap();
    let (uri, tx_code) = stack.offer().await;
    let offer = wallet.receive_offer(uri).await.unwrap();
    assert!(matches!(
        offer.accept(Some(tx_code)).await,
        Err(WalletError::KeyStore { .. })
    ));
    assert!(wallet.credentials().await.unwrap().is_empty());
    assert!(
        keys.0.keys.lock().unwrap().is_empty(),
        "keys made for a failed issuance are deleted"
    );
}

#[tokio::test]
async fn court_notices_come_from_the_register_as_records_and_are_logged() {
    let stack = Stack::start().await;
    let wallet = open(stack.settings("wallet.db"), &[5; 32], None, None).unwrap();
    // Without a person attestation, nothing is asked of the register.
    assert!(matches!(
        wallet.court_notices(stack.issuer.base.clone()).await,
        Err(WalletError::NothingToPresent)
    ));
    let (uri, tx_code) = stack.offer().await;
    let offer = wallet.receive_offer(uri).await.unwrap();
    offer.accept(Some(tx_code)).await.unwrap();

    // A resolution of the demo citizen, recorded as `POST /register/resolve` does.
    let register = &stack.issuer.issuer;
    let credentials = wallet.credentials().await.unwrap();
    let handle = credentials
        .iter()
        .flat_map(|c| c.claims.iter())
        .find(|c| c.name == "person_handle")
        .map(|c| c.value.clone())
        .unwrap();
    let person = register
        .store()
        .person_by_handle(&handle)
        .await
        .unwrap()
        .unwrap();
    let now = credential_formats::time::Clock::now(&credential_formats::time::SystemClock);
    let log = register.register_log().unwrap().clone();
    let resolution = issuer::store::NewResolution {
        jti: "order-1".into(),
        order_digest: [3; 32],
        person_id: Some(person.id.clone()),
        case_number: "2026/AN/7".into(),
        ground: "art. 46bis Sv".into(),
        platform_id: "https://platform.example".into(),
        judge: "https://judge.example/1".into(),
        received_at: now,
        deadline: now + 86_400,
        embargo_until: None,
    };
    let index = register
        .store()
        .log_resolution(&resolution, b"{\"type\":\"register_resolution\"}", &log)
        .await
        .unwrap()
        .unwrap();
    register
        .store()
        .resolution_answered("order-1", now)
        .await
        .unwrap();

    let notices = wallet
        .court_notices(stack.issuer.base.clone())
        .await
        .unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].case, "2026/AN/7");
    assert_eq!(notices[0].platform, "https://platform.example");
    assert_eq!(notices[0].log_index, index);
    let entry = wallet.log().await.unwrap().pop().unwrap();
    assert_eq!(entry.kind, "court_notices");
    assert_eq!(entry.counterparty, stack.issuer.base);
    assert_eq!(entry.claims, ["person_handle"]);
    assert_eq!(entry.outcome, "fetched");
}
