//! The wallet presenting to a test verifier over TLS on loopback, with credentials it received
//! from the real issuer. The verifier side is the one of credential-formats' `formats` tests:
//! a request object signed under `x509_hash`, `direct_post.jwt` decrypted and every
//! presentation verified against the trust list, Key Binding and the verifier's own query.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use credential_formats::credentials::CredentialType;
use credential_formats::crypto::{RustCrypto, SecretKey, SignatureAlgorithm, random_token};
use credential_formats::dcql::{CredentialView, DcqlQuery, FORMAT_DC_SD_JWT, PresentedCredentials};
use credential_formats::jose::{
    ContentEncryption, Jwk, PrivateJwk, X509Certificate, X509Chain, decrypt_compact,
};
use credential_formats::oid4vp::{
    AuthorizationErrorCode, AuthorizationRequestUri, ClientId, ClientMetadata, DirectPostBody,
    OPENID4VP_SCHEME, RequestObject, RequestUriMethod, ResponseMode, SELF_ISSUED_AUDIENCE,
    TransactionData, VerifierInfo, check_transaction_data_hashes, sign_request_object,
};
use credential_formats::sd_jwt::{KeyBindingPolicy, KeyBindingRequirements, SdJwt};
use credential_formats::sd_jwt_vc::{self, VcVerification, VerifiedSdJwtVc};
use credential_formats::time::{Clock, SystemClock};
use credential_formats::trust_list::TrustList;
use issuer::issuance::OfferPayload;
use issuer::register::Enrolment;
use issuer::{LocalIssuer, OfferRequest};
use serde_json::{Value, json};
use tempfile::TempDir;
use wallet_core::{DefaultTransport, Error, Wallet, WalletConfig};
use zeroize::Zeroizing;

const PERSON: &str = "urn:be:identity:person-attestation:1";

/// A request signer: a key and its self-signed certificate.
struct Party {
    secret: SecretKey,
    certificate: X509Certificate,
}

impl Party {
    fn new(host: &str) -> Party {
        let secret = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let now = SystemClock.now();
        let certificate =
            X509Certificate::self_signed(&secret, host, &[host], now - 3600, now + 86_400).unwrap();
        Party {
            secret,
            certificate,
        }
    }
}

#[derive(Default)]
struct Served {
    trust_list: String,
    requests: HashMap<String, String>,
    responses: HashMap<String, String>,
}

type Shared = Arc<Mutex<Served>>;

/// One request the verifier made, and what it needs to read the answer.
struct Session {
    id: String,
    uri: String,
    request: RequestObject,
    decryption_key: SecretKey,
}

struct Verifier {
    base: String,
    shared: Shared,
    listed: Party,
    trust: TrustList,
}

struct Presented {
    verified: VerifiedSdJwtVc,
    claims: Value,
    issuer_jwt: String,
}

impl CredentialView for Presented {
    fn format(&self) -> &str {
        FORMAT_DC_SD_JWT
    }
    fn vct(&self) -> Option<&str> {
        Some(self.verified.vct())
    }
    fn doctype(&self) -> Option<&str> {
        None
    }
    fn claims(&self) -> &Value {
        &self.claims
    }
    fn supports_holder_binding(&self) -> bool {
        self.verified.key_binding().is_some()
    }
}

async fn trust_list(State(shared): State<Shared>) -> String {
    shared.lock().unwrap().trust_list.clone()
}

async fn request(State(shared): State<Shared>, Path(id): Path<String>) -> impl IntoResponse {
    let jwt = shared.lock().unwrap().requests.get(&id).cloned().unwrap();
    (
        [(header::CONTENT_TYPE, "application/oauth-authz-req+jwt")],
        jwt,
    )
}

async fn response(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    body: String,
) -> impl IntoResponse {
    let is_error = body.starts_with("error=");
    shared.lock().unwrap().responses.insert(id.clone(), body);
    let answer = if is_error {
        json!({})
    } else {
        json!({"redirect_uri": format!("https://verifier.example/done?response_code={id}")})
    };
    (
        [(header::CONTENT_TYPE, "application/json")],
        answer.to_string(),
    )
}

impl Verifier {
    /// Starts the verifier with the LocalIssuer's TLS PKI, serving a trust list signed by the
    /// same authority that lists the issuer and this verifier's certificate.
    async fn start(dir: &std::path::Path) -> Verifier {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!(
            "https://localhost:{}",
            listener.local_addr().unwrap().port()
        );
        let listed = Party::new("shop.localhost");
        let description = std::fs::read_to_string(dir.join("trust/description.toml")).unwrap();
        // A verifier entity needs a key of its own besides its certificate's hash.
        let jwk = Jwk::new(listed.secret.public_key()).to_value();
        let description = format!(
            "{description}\n[[entity]]\nid = \"https://shop.localhost\"\nname = \"Shop (test)\"\n\
             roles = [\"verifier\"]\nx509_hash = \"{}\"\n\
             keys = [{{ kty = \"EC\", crv = \"P-256\", x = \"{}\", y = \"{}\", kid = \"shop-1\" }}]\n",
            listed.certificate.x509_hash(),
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap(),
        );
        let trust =
            issuer::trust::build(&description, &dir.join("trust"), SystemClock.now()).unwrap();
        let authority = PrivateJwk::from_json(
            &std::fs::read_to_string(dir.join("trust/authority.jwk")).unwrap(),
        )
        .unwrap();
        let signer =
            credential_formats::crypto::CryptoProvider::signer(&RustCrypto, authority.secret())
                .unwrap();
        let shared: Shared = Arc::new(Mutex::new(Served {
            trust_list: issuer::trust::sign(&trust, &*signer).unwrap(),
            ..Served::default()
        }));
        let app = Router::new()
            .route("/trust-list", get(trust_list))
            .route("/request/{id}", get(request))
            .route("/response/{id}", axum::routing::post(response))
            .with_state(shared.clone());
        let tls = service_kit::tls::dev_pki(&dir.join("tls"))
            .unwrap()
            .server_config()
            .unwrap();
        tokio::spawn(service_kit::http::serve_tls(
            listener,
            app,
            tls,
            std::future::pending(),
        ));
        Verifier {
            base,
            shared,
            listed,
            trust,
        }
    }

    /// A request for `query`, signed by `signer`, with an ephemeral ECDH-ES key.
    fn request(&self, query: Value, signer: &Party, mode: ResponseMode) -> Session {
        self.request_with(query, signer, mode, None)
    }

    fn request_with(
        &self,
        query: Value,
        signer: &Party,
        mode: ResponseMode,
        transaction_data: Option<Vec<TransactionData>>,
    ) -> Session {
        let id = random_token(8).unwrap();
        let decryption_key = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let now = SystemClock.now();
        let mut request = RequestObject::new(
            ClientId::x509_hash(&signer.certificate.x509_hash()).unwrap(),
            mode,
            format!("{}/response/{id}", self.base),
            random_token(16).unwrap(),
            DcqlQuery::from_json(query).unwrap(),
        )
        .unwrap();
        request.state = Some(random_token(16).unwrap());
        request.aud = Some(SELF_ISSUED_AUDIENCE.into());
        request.iat = Some(now);
        request.exp = Some(now + 300);
        request.transaction_data = transaction_data;
        request.verifier_info = Some(vec![VerifierInfo {
            format: "registration_cert".into(),
            data: json!({"purpose": "Age check", "platform": "Example Market"}),
            credential_ids: None,
        }]);
        request.client_metadata = Some(ClientMetadata {
            jwks: Some(vec![
                Jwk::new(decryption_key.public_key())
                    .with_kid("response-enc")
                    .with_alg("ECDH-ES")
                    .with_use("enc"),
            ]),
            encrypted_response_enc_values_supported: Some(vec!["A128GCM".into()]),
            ..ClientMetadata::default()
        });
        let x5c = X509Chain::new(vec![signer.certificate.clone()])
            .unwrap()
            .to_x5c();
        let key = credential_formats::crypto::CryptoProvider::signer(&RustCrypto, &signer.secret)
            .unwrap();
        let signed = sign_request_object(&request, &*key, x5c).unwrap();
        self.publish(&id, signed);
        let uri = AuthorizationRequestUri {
            client_id: request.client_id.clone(),
            request_uri: format!("{}/request/{id}", self.base),
            request_uri_method: Some(RequestUriMethod::Get),
        }
        .to_uri(&format!("{OPENID4VP_SCHEME}://"));
        Session {
            id,
            uri,
            request,
            decryption_key,
        }
    }

    fn publish(&self, id: &str, jwt: String) {
        self.shared
            .lock()
            .unwrap()
            .requests
            .insert(id.to_owned(), jwt);
    }

    fn signed(&self, id: &str) -> String {
        self.shared.lock().unwrap().requests[id].clone()
    }

    fn received(&self, session: &Session) -> DirectPostBody {
        let body = self.shared.lock().unwrap().responses[&session.id].clone();
        DirectPostBody::parse_form(&body).unwrap()
    }

    /// The verifier's response endpoint: decrypt, verify each presentation (issuer key from
    /// the trust list, Key Binding to this client_id and nonce), then its own DCQL query.
    fn verify(&self, session: &Session) -> Vec<(String, Presented)> {
        let vp_token = match self.received(session) {
            DirectPostBody::Encrypted { response } => {
                let (_, plaintext) = decrypt_compact(
                    &RustCrypto,
                    &response,
                    &session.decryption_key,
                    &[ContentEncryption::A128Gcm],
                )
                .unwrap();
                let DirectPostBody::VpToken { vp_token, state } =
                    DirectPostBody::parse_decrypted_response(&plaintext).unwrap()
                else {
                    panic!("no vp_token")
                };
                assert_eq!(state, session.request.state);
                vp_token
            }
            DirectPostBody::VpToken { vp_token, state } => {
                assert_eq!(state, session.request.state);
                vp_token
            }
            DirectPostBody::Error(e) => panic!("an error response: {:?}", e.error()),
        };
        let request = &session.request;
        let mut presented = Vec::new();
        for (query_id, presentations) in vp_token.entries() {
            for presentation in presentations {
                let sd_jwt = SdJwt::parse(presentation).unwrap();
                let iss = sd_jwt.unverified_issuer().unwrap().to_owned();
                let kid = sd_jwt.unverified_kid().unwrap().to_owned();
                let key = self.trust.resolve_key(&iss, &kid).unwrap().clone();
                let requirements =
                    KeyBindingRequirements::new(request.client_id.as_str(), request.nonce.clone());
                let verified = sd_jwt_vc::verify(
                    &sd_jwt,
                    &key,
                    &RustCrypto,
                    &VcVerification::new(KeyBindingPolicy::Required(requirements), &SystemClock),
                )
                .unwrap();
                self.trust
                    .issuer_for_vct(&key, verified.vct(), SystemClock.now())
                    .unwrap();
                let entries: Vec<TransactionData> = request
                    .transaction_data
                    .iter()
                    .flatten()
                    .filter(|t| t.credential_ids().contains(query_id))
                    .cloned()
                    .collect();
                if !entries.is_empty() {
                    let binding = verified.key_binding().unwrap();
                    let hashes: Vec<String> =
                        serde_json::from_value(binding["transaction_data_hashes"].clone()).unwrap();
                    let alg = binding
                        .get("transaction_data_hashes_alg")
                        .and_then(Value::as_str);
                    check_transaction_data_hashes(&entries, &hashes, alg).unwrap();
                }
                let claims = Value::Object(verified.claims().clone());
                presented.push((
                    query_id.clone(),
                    Presented {
                        verified,
                        claims,
                        issuer_jwt: presentation.split('~').next().unwrap().to_owned(),
                    },
                ));
            }
        }
        let mut by_query: PresentedCredentials<'_> = std::collections::BTreeMap::new();
        for (query_id, p) in &presented {
            by_query.entry(query_id.clone()).or_default().push(p as _);
        }
        request.dcql_query.check_presented(&by_query).unwrap();
        presented
    }
}

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
        let enrolment: Enrolment = serde_json::from_value(json!({
            "family_name": "Peeters", "given_name": "An", "birthdate": "1990-05-01",
            "nationalities": ["BE"], "personal_administrative_number": "90050112345"
        }))
        .unwrap();
        let person = issuer.issuer.enrol(enrolment).await.unwrap();
        let offer = issuer
            .issuer
            .create_offer(OfferRequest {
                person_id: Some(person.person_id),
                credential_configuration_ids: vec![
                    "pid_sd_jwt".into(),
                    "person_attestation_sd_jwt".into(),
                ],
                payload: OfferPayload::default(),
                by_value: false,
            })
            .await
            .unwrap();
        wallet
            .receive_offer(&offer.offer_uri)
            .await
            .unwrap()
            .accept(Some(&offer.tx_code))
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

fn training_spend() -> TransactionData {
    let Value::Object(members) = json!({
        "course": "WELD-101",
        "amount": {"value": "250.00", "currency": "EUR"},
        "transaction_id": "8d1e62a4-training-spend",
    }) else {
        unreachable!()
    };
    TransactionData::new("training_spend", vec!["person".into()], members).unwrap()
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
async fn an_accountable_check_with_transaction_data_discloses_the_handle_and_the_age_over_direct_post()
 {
    let stack = Stack::start().await;
    let verifier = &stack.verifier;
    let session = verifier.request_with(
        accountable_query(),
        &verifier.listed,
        ResponseMode::DirectPost,
        Some(vec![training_spend()]),
    );
    let pending = stack.wallet.receive_request(&session.uri).await.unwrap();
    assert_eq!(
        pending.summary().credentials[0].claims,
        ["person_handle", "age_over_18"]
    );
    assert_eq!(pending.summary().transaction_data, ["training_spend"]);
    pending.accept().await.unwrap();
    // verify() checks the KB-JWT's transaction_data_hashes against the request's.
    let presented = verifier.verify(&session);
    let person = &presented[0].1;
    assert_eq!(person.verified.disclosed_paths().len(), 2);
    assert_eq!(
        person.verified.key_binding().unwrap()["transaction_data_hashes"],
        json!([training_spend().hash()])
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
