//! The verifier end to end on loopback: the real issuer, the real verifier and wallet-core,
//! all over TLS with the development PKI. A platform creates a check over the platform API,
//! the wallet fetches the request and answers, and the platform reads a signed attestation
//! it verifies with the published keys.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use credential_formats::time::SystemClock;
use issuer::LocalIssuer;
use serde_json::{Value, json};
use tempfile::TempDir;
use verifier::LocalVerifier;
use wallet_core::{
    DefaultTransport, HttpMethod, HttpRequest, HttpResponse, Transport, Wallet, WalletConfig,
};
use zeroize::Zeroizing;

mod api;
mod court;
mod flow;
mod privacy;
mod register;

const PERSON: &str = "urn:be:identity:person-attestation:1";

/// A transport that keeps a copy of what the wallet posts to a response endpoint, so a
/// test can replay it.
#[derive(Debug)]
pub struct Recording {
    inner: DefaultTransport,
    pub posted: Mutex<Vec<(String, Vec<u8>)>>,
}

#[async_trait]
impl Transport for Recording {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, wallet_core::Error> {
        if request.method == HttpMethod::Post && request.url.contains("/wallet/responses/") {
            self.posted
                .lock()
                .unwrap()
                .push((request.url.clone(), request.body.clone()));
        }
        self.inner.send(request).await
    }
}

/// The issuer, the verifier, a wallet holding a batch of person attestations, and an HTTP
/// client trusting the development CA.
#[derive(Debug)]
pub struct Stack {
    pub issuer: LocalIssuer,
    pub verifier: LocalVerifier,
    pub wallet: Wallet,
    pub transport: Arc<Recording>,
    pub http: reqwest::Client,
    pub dir: TempDir,
}

impl Stack {
    pub async fn start() -> Stack {
        Stack::start_with_db(None).await
    }

    /// With the verifier on PostgreSQL (`url`, in a fresh schema), or SQLite (`None`).
    pub async fn start_with_db(database_url: Option<&str>) -> Stack {
        Stack::start_with(database_url, None).await
    }

    /// With the verifier on PostgreSQL or SQLite, and checks that expire after `check_ttl`.
    pub async fn start_with(database_url: Option<&str>, check_ttl: Option<i64>) -> Stack {
        let schema = database_url.map(|_| {
            format!(
                "verifier_e2e_{}",
                credential_formats::crypto::random_hex(6).unwrap()
            )
        });
        let dir = tempfile::tempdir().unwrap();
        verifier::dev_entities(dir.path()).unwrap();
        let issuer = LocalIssuer::start(dir.path()).await.unwrap();
        let options = verifier::LocalOptions {
            database_url: database_url.map(str::to_owned),
            database_schema: schema,
            rate_limits: None,
            check_ttl,
        };
        let verifier = LocalVerifier::start(dir.path(), &options).await.unwrap();
        let anchor = issuer::trust::public_jwk_from_file(&issuer.anchor).unwrap();
        let transport = Arc::new(Recording {
            inner: DefaultTransport::trusting_only(issuer.ca_pem.as_bytes()).unwrap(),
            posted: Mutex::new(Vec::new()),
        });
        let wallet = Wallet::open(
            &dir.path().join("wallet.db"),
            Zeroizing::new([7u8; 32]),
            None,
            transport.clone(),
            WalletConfig::new(issuer.trust_list_url.clone(), anchor),
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
        let http = reqwest::Client::builder()
            .tls_certs_only(
                reqwest::Certificate::from_pem_bundle(issuer.ca_pem.as_bytes()).unwrap(),
            )
            .build()
            .unwrap();
        Stack {
            issuer,
            verifier,
            wallet,
            transport,
            http,
            dir,
        }
    }

    /// Registers a platform through the admin API: (platform id, API key).
    pub async fn platform(&self, name: &str) -> (String, String) {
        let answer: Value = self
            .http
            .post(format!("{}/admin/platforms", self.verifier.base))
            .bearer_auth(self.verifier.admin_token.as_str())
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            answer["platform_id"].as_str().unwrap().to_owned(),
            answer["api_key"].as_str().unwrap().to_owned(),
        )
    }

    /// `POST /v1/checks`: the answer's status and body.
    pub async fn create_check(&self, api_key: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/v1/checks", self.verifier.base))
            .bearer_auth(api_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// `GET /v1/checks/{id}`.
    pub async fn get_check(&self, api_key: &str, id: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}/v1/checks/{id}", self.verifier.base))
            .bearer_auth(api_key)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// A check answered by the wallet with consent: the platform's view of it.
    pub async fn verified(&self, api_key: &str, checks: &[&str]) -> Value {
        let (status, created) = self
            .create_check(api_key, json!({ "checks": checks }))
            .await;
        assert_eq!(status, 201, "{created}");
        let session = self
            .wallet
            .receive_request(created["wallet_link"].as_str().unwrap())
            .await
            .unwrap();
        session.accept().await.unwrap();
        let (status, result) = self
            .get_check(api_key, created["id"].as_str().unwrap())
            .await;
        assert_eq!(status, 200);
        result
    }

    /// The published attestation keys.
    pub async fn jwks(&self) -> Value {
        self.http
            .get(format!("{}/.well-known/jwks.json", self.verifier.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The person handle the wallet holds (to look for it where it must not be).
    pub fn person_handle(&self) -> String {
        self.wallet
            .credentials()
            .unwrap()
            .into_iter()
            .find(|c| c.vct == PERSON)
            .unwrap()
            .claims["person_handle"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}
