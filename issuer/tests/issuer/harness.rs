//! A real issuer on a loopback port, over TLS with a development CA, and a client for it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use credential_formats::crypto::{CryptoProvider, RustCrypto, SecretKey, SignatureAlgorithm};
use credential_formats::oid4vci::create_proof;
use credential_formats::time::{Clock, SystemClock};
use issuer::issuance::Profile;
use issuer::{AppState, Config, Settings};
use serde_json::{Value, json};
use tempfile::TempDir;

/// A clock the test moves.
#[derive(Debug)]
pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// How to start the issuer.
#[derive(Default)]
pub struct Options {
    /// A PostgreSQL URL (a fresh schema is made); SQLite in the temp dir otherwise.
    pub postgres: Option<String>,
    /// Run as a provider of this name.
    pub provider: Option<String>,
    /// A trust-list description (TOML) to sign and serve; `{key_file}` is replaced by the
    /// path of the issuer's signing key.
    pub trust_description: Option<String>,
    /// Most proofs per request.
    pub batch_size: Option<u32>,
}

pub struct TestIssuer {
    pub base: String,
    pub client: reqwest::Client,
    pub admin_token: String,
    pub clock: Arc<TestClock>,
    pub state: AppState,
    pub dir: TempDir,
    pub db_path: PathBuf,
    pub anchor: Option<SecretKey>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<Result<(), issuer::Error>>>,
}

pub const ADMIN: &str = "test-admin-token-0123456789";

impl TestIssuer {
    pub async fn start() -> TestIssuer {
        TestIssuer::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> TestIssuer {
        let dir = tempfile::tempdir().unwrap();
        let pki = service_kit::tls::dev_pki(&dir.path().join("tls")).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("https://localhost:{port}");
        let profile = match &options.provider {
            Some(name) => Profile::Provider { name: name.clone() },
            None => Profile::State {
                issuing_authority: "BE-RRN".into(),
                issuing_country: "BE".into(),
                ledger: "https://ledger.example".into(),
            },
        };
        let mut settings = Settings::new(base.clone(), profile);
        if let Some(n) = options.batch_size {
            settings.batch_size = n;
        }
        let db_path = dir.path().join("issuer.db");
        let (database_url, database_schema) = match &options.postgres {
            Some(url) => (url.clone(), Some(fresh_schema())),
            None => (db_path.display().to_string(), None),
        };
        let key_dir = dir.path().join("keys");
        let clock = Arc::new(TestClock(AtomicI64::new(SystemClock.now())));
        let mut anchor = None;
        let mut trust = (None, None);
        if let Some(description) = &options.trust_description {
            // The signing key must exist before the list that names it is signed.
            let key_file = key_dir.join("signing.jwk");
            service_kit::keys::load_or_generate_signing_key(&key_file).unwrap();
            let text = description
                .replace("{key_file}", &key_file.display().to_string())
                .replace("__BASE__", &base);
            let list = issuer::trust::build(&text, dir.path(), clock.now()).unwrap();
            let authority = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
            let jwt = issuer::trust::sign(&list, &*RustCrypto.signer(&authority).unwrap()).unwrap();
            let list_path = dir.path().join("trust-list.jwt");
            std::fs::write(&list_path, jwt).unwrap();
            let anchor_path = dir.path().join("anchor.jwk");
            let anchor_jwk = credential_formats::jose::Jwk::new(authority.public_key());
            std::fs::write(&anchor_path, anchor_jwk.to_value().to_string()).unwrap();
            trust = (Some(list_path), Some(anchor_path));
            anchor = Some(authority);
        }
        let config = Config {
            listen: listener.local_addr().unwrap(),
            settings,
            database_url,
            database_schema,
            key_dir,
            admin_token: Some(zeroize::Zeroizing::new(ADMIN.to_owned())),
            trust_list: trust.0,
            trust_anchor: trust.1,
            tls: None,
        };
        let opened = issuer::open_with_clock(&config, clock.clone())
            .await
            .unwrap();
        let state = opened.state.clone();
        let tls_files = (
            dir.path().join("tls/server.pem"),
            dir.path().join("tls/server.key"),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            issuer::run(opened, listener, Some(&tls_files), async {
                let _ = stopped.await;
            })
            .await
        });
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap()])
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestIssuer {
            base,
            client,
            admin_token: ADMIN.to_owned(),
            clock,
            state,
            dir,
            db_path,
            anchor,
            stop: Some(stop),
            server: Some(server),
        }
    }

    pub fn clock_now(&self) -> i64 {
        self.clock.now()
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }

    /// Stops the server and lets go of the database (its last handle is dropped, so SQLite
    /// checkpoints its WAL and closes), keeping the files: the temp dir is handed back.
    pub async fn stop_keeping_files(self) -> TempDir {
        let TestIssuer {
            dir,
            state,
            mut stop,
            mut server,
            ..
        } = self;
        if let Some(stop) = stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = server.take() {
            server.await.unwrap().unwrap();
        }
        // The purge task is aborted when the server stops; it lets go of the issuer once the
        // runtime gets to it.
        for _ in 0..500 {
            if Arc::strong_count(&state.issuer) == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(
            Arc::strong_count(&state.issuer),
            1,
            "the issuer is still held"
        );
        drop(state);
        dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn admin_get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .unwrap()
    }

    pub async fn enrol(&self, birthdate: &str, number: &str) -> String {
        let response = self
            .admin_post("/admin/persons", person(birthdate, number))
            .await;
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
        response.json::<Value>().await.unwrap()["person_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// An offer: (the admin API's answer, the pre-authorized code).
    pub async fn offer(&self, body: Value) -> (Value, String) {
        let response = self.admin_post("/admin/offers", body).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let created: Value = response.json().await.unwrap();
        let code = created["credential_offer"]["grants"]
            ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
            .as_str()
            .unwrap()
            .to_owned();
        (created, code)
    }

    pub async fn token_response(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url("/token"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// An enrolled person and an offer of `configurations` for them: (code, tx_code).
    pub async fn person_offer(&self, configurations: &[&str]) -> (String, String) {
        let person = self.enrol("1990-05-01", "90.05.01-123.45").await;
        let (created, code) = self
            .offer(json!({"person_id": person, "credential_configuration_ids": configurations}))
            .await;
        (code, created["tx_code"].as_str().unwrap().to_owned())
    }

    /// The Token Request of the pre-authorized code flow.
    pub async fn redeem(&self, code: &str, tx_code: &str) -> reqwest::Response {
        self.token_response(&[
            ("grant_type", PRE_AUTHORIZED_CODE_GRANT),
            ("pre-authorized_code", code),
            ("tx_code", tx_code),
        ])
        .await
    }

    pub async fn token(&self, code: &str, tx_code: &str) -> String {
        let response = self.redeem(code, tx_code).await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        response.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn nonce(&self) -> String {
        let response = self.client.post(self.url("/nonce")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        response.json::<Value>().await.unwrap()["c_nonce"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `n` fresh holder keys and their key proofs for `nonce`.
    pub fn proofs(&self, n: usize, nonce: &str) -> (Vec<SecretKey>, Vec<String>) {
        let mut keys = Vec::new();
        let mut jwts = Vec::new();
        for _ in 0..n {
            let key = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
            let signer = RustCrypto.signer(&key).unwrap();
            jwts.push(create_proof(&*signer, &self.base, nonce, self.clock.now(), None).unwrap());
            keys.push(key);
        }
        (keys, jwts)
    }

    pub async fn credential_response(&self, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/credential"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Redeems an offer and fetches `n` credentials of `configuration`.
    pub async fn issue(
        &self,
        code: &str,
        tx_code: &str,
        configuration: &str,
        n: usize,
    ) -> (Vec<SecretKey>, Vec<String>) {
        let token = self.token(code, tx_code).await;
        let nonce = self.nonce().await;
        let (keys, proofs) = self.proofs(n, &nonce);
        let response = self
            .credential_response(
                &token,
                &json!({"credential_configuration_id": configuration, "proofs": {"jwt": proofs}}),
            )
            .await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        let body: Value = response.json().await.unwrap();
        let credentials = body["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["credential"].as_str().unwrap().to_owned())
            .collect();
        (keys, credentials)
    }
}

pub const PRE_AUTHORIZED_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// An enrolment of the register (the PID attributes of one person).
pub fn person(birthdate: &str, number: &str) -> Value {
    json!({
        "family_name": "Peeters", "given_name": "An", "birthdate": birthdate,
        "nationalities": ["BE"], "personal_administrative_number": number,
        "address": {"street_address": "Veldstraat 1", "locality": "Gent", "country": "BE"}
    })
}

/// The body of a Credential Request for `configuration` with these key proofs.
pub fn credential_request(configuration: &str, proofs: &[String]) -> Value {
    json!({"credential_configuration_id": configuration, "proofs": {"jwt": proofs}})
}

/// A fresh PostgreSQL schema name.
pub fn fresh_schema() -> String {
    format!(
        "issuer_{}",
        credential_formats::crypto::random_token(9)
            .unwrap()
            .to_ascii_lowercase()
            .replace('-', "_")
    )
}

/// The error code of an error response, checking its shape.
pub async fn error_of(response: reqwest::Response) -> (u16, String) {
    let (status, error, _) = error_described(response).await;
    (status, error)
}

/// The status, error code and description of an error response, checking its shape.
pub async fn error_described(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let description = body["error_description"]
        .as_str()
        .unwrap_or_else(|| panic!("no error_description: {body}"))
        .to_owned();
    (
        status,
        body["error"].as_str().unwrap().to_owned(),
        description,
    )
}
