//! A test verifier: the verifier side of credential-formats' `formats` tests, served over
//! TLS on loopback (the `LocalIssuer`'s development PKI). It serves its own trust list —
//! the `LocalIssuer`'s description plus this verifier, signed by the same authority —,
//! signed request objects under `x509_hash`, and receives, decrypts and verifies the
//! answers. Shared by the wallet-core and wallet-cli tests until the verifier service
//! exists.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use credential_formats::crypto::{RustCrypto, SecretKey, SignatureAlgorithm, random_token};
use credential_formats::dcql::{CredentialView, DcqlQuery, FORMAT_DC_SD_JWT, PresentedCredentials};
use credential_formats::jose::{
    ContentEncryption, Jwk, PrivateJwk, X509Certificate, X509Chain, decrypt_compact,
};
use credential_formats::oid4vp::{
    AuthorizationRequestUri, ClientId, ClientMetadata, DirectPostBody, OPENID4VP_SCHEME,
    RequestObject, RequestUriMethod, ResponseMode, SELF_ISSUED_AUDIENCE, TransactionData,
    VerifierInfo, check_transaction_data_hashes, sign_request_object,
};
use credential_formats::sd_jwt::{KeyBindingPolicy, KeyBindingRequirements, SdJwt};
use credential_formats::sd_jwt_vc::{self, VcVerification, VerifiedSdJwtVc};
use credential_formats::time::{Clock, SystemClock};
use credential_formats::trust_list::TrustList;
use serde_json::{Value, json};

/// The one course the test verifier, also a training provider, is accredited for.
pub const TRAINING_COURSE: &str = "WELD-101";

/// A request signer: a key and its self-signed certificate.
pub struct Party {
    pub secret: SecretKey,
    pub certificate: X509Certificate,
}

impl Party {
    pub fn new(host: &str) -> Party {
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
pub struct Served {
    pub trust_list: String,
    pub requests: HashMap<String, String>,
    pub responses: HashMap<String, String>,
}

pub type Shared = Arc<Mutex<Served>>;

/// One request the verifier made, and what it needs to read the answer.
pub struct Session {
    pub id: String,
    pub uri: String,
    pub request: RequestObject,
    pub decryption_key: SecretKey,
}

pub struct Verifier {
    pub base: String,
    pub shared: Shared,
    pub listed: Party,
    pub trust: TrustList,
}

pub struct Presented {
    pub verified: VerifiedSdJwtVc,
    pub claims: Value,
    pub issuer_jwt: String,
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
    /// same authority that lists the issuer and this verifier's certificate. The verifier is
    /// also a training provider accredited for [`TRAINING_COURSE`], so it may ask for spends.
    pub async fn start(dir: &std::path::Path) -> Verifier {
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
             roles = [\"verifier\", \"training_provider\"]\ncourses = [\"{TRAINING_COURSE}\"]\n\
             x509_hash = \"{}\"\n\
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
    pub fn request(&self, query: Value, signer: &Party, mode: ResponseMode) -> Session {
        self.request_with(query, signer, mode, None)
    }

    pub fn request_with(
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

    pub fn publish(&self, id: &str, jwt: String) {
        self.shared
            .lock()
            .unwrap()
            .requests
            .insert(id.to_owned(), jwt);
    }

    pub fn signed(&self, id: &str) -> String {
        self.shared.lock().unwrap().requests[id].clone()
    }

    pub fn received(&self, session: &Session) -> DirectPostBody {
        let body = self.shared.lock().unwrap().responses[&session.id].clone();
        DirectPostBody::parse_form(&body).unwrap()
    }

    /// The verifier's response endpoint: decrypt, verify each presentation (issuer key from
    /// the trust list, Key Binding to this client_id and nonce), then its own DCQL query.
    pub fn verify(&self, session: &Session) -> Vec<(String, Presented)> {
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
