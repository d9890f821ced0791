//! `POST /credits/nonce` and `GET /credits/account` over TLS: the holder reads their own
//! account with a fresh presentation of the training-account credential. The credential and
//! the key binding are made here with the formats library, as the issuer and the wallet make
//! them; the service runs on a clock the test can move.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use credential_formats::claims_path::{ClaimsPath, PathElement};
use credential_formats::credentials::CredentialType;
use credential_formats::crypto::{CryptoProvider as _, RustCrypto, SecretKey, SignatureAlgorithm};
use credential_formats::jose::Jwk;
use credential_formats::sd_jwt::KeyBinding;
use credential_formats::sd_jwt_vc::SdJwtVcBuilder;
use credential_formats::time::Clock;
use credential_formats::trust_list::{Role, TrustList, TrustListBuilder, TrustedEntity};
use ledger::service::{app, open_with_clock};
use ledger::{AccountRef, Amount, SpendRequest};
use serde_json::{Value, json};

use crate::{Service, config};

const ISSUER: &str = "https://issuer.localhost";
const OTHER: &str = "https://other-issuer.localhost";
const LEDGER: &str = "https://ledger.localhost";
const ACADEMY: &str = "https://academy.localhost";

/// The system clock moved by an offset the test sets.
#[derive(Debug, Default)]
struct ShiftedClock(AtomicI64);

impl Clock for ShiftedClock {
    fn now(&self) -> i64 {
        credential_formats::time::SystemClock.now() + self.0.load(Ordering::SeqCst)
    }
}

impl Service {
    /// The service on a clock the test holds.
    async fn start_with_clock(clock: Arc<ShiftedClock>) -> Service {
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        service_kit::tls::dev_pki(&tls).unwrap();
        let config = config(&dir);
        let state = open_with_clock(&config, clock).await.unwrap();
        let served = state.clone();
        let token = ledger::service::admin_token_from_dir(&config.key_dir)
            .unwrap()
            .to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let chain = (tls.join("server.pem"), tls.join("server.key"));
        tokio::spawn(async move {
            let tls = service_kit::tls::load_server_config(&chain.0, &chain.1).unwrap();
            service_kit::http::serve_tls(listener, app(served), tls, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let ca = std::fs::read(tls.join("ca.pem")).unwrap();
        let http = reqwest::Client::builder()
            .tls_certs_only(reqwest::Certificate::from_pem_bundle(&ca).unwrap())
            .build()
            .unwrap();
        Service {
            state,
            base: format!("https://localhost:{port}"),
            http,
            token,
            _dir: dir,
            stop: Some(stop),
        }
    }

    async fn open_funded(&self, credits: u64) -> String {
        let (_, opened) = self.call("POST", "/admin/accounts", None).await;
        let account = opened["account"].as_str().unwrap().to_owned();
        let (status, _) = self
            .call(
                "POST",
                &format!("/admin/accounts/{account}/grants"),
                Some(json!({"grant_id": format!("g-{account}"), "amount": credits})),
            )
            .await;
        assert_eq!(status, 201);
        account
    }

    async fn c_nonce(&self) -> String {
        let response = self
            .http
            .post(format!("{}/credits/nonce", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["expires_in"], 300);
        body["c_nonce"].as_str().unwrap().to_owned()
    }

    /// `GET /credits/account` with `authorization`: status, body and challenge.
    async fn account_with(&self, authorization: Option<&str>) -> (u16, Value, Option<String>) {
        let mut request = self.http.get(format!("{}/credits/account", self.base));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.headers()["cache-control"], "no-store");
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        (
            response.status().as_u16(),
            response.json().await.unwrap(),
            challenge,
        )
    }

    /// Expects a `401 invalid_presentation` whose description contains `why`.
    async fn refused(&self, authorization: Option<&str>, why: &str) {
        let (status, body, challenge) = self.account_with(authorization).await;
        assert_eq!(
            (status, body["error"].as_str(), challenge.as_deref()),
            (401, Some("invalid_presentation"), Some("SD-JWT")),
            "{why}: {body}"
        );
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains(why), "{why}: {description}");
    }
}

struct Keys {
    issuer: SecretKey,
    other: SecretKey,
    holder: SecretKey,
}

/// How a presentation is made (each test changes one thing).
struct Presented<'a> {
    issuer: &'a str,
    issuer_key: &'a SecretKey,
    vct: &'a str,
    account: &'a str,
    disclose: bool,
    holder: &'a SecretKey,
    aud: &'a str,
    nonce: &'a str,
    iat: i64,
}

impl Keys {
    fn new() -> Keys {
        let key = || SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        Keys {
            issuer: key(),
            other: key(),
            holder: key(),
        }
    }

    /// The State issuer of training accounts; and another issuer listed for person
    /// attestations only.
    fn trust_list(&self, now: i64) -> TrustList {
        TrustListBuilder::new("https://trust.localhost", now - 60, now + 86_400, 1)
            .entity(
                TrustedEntity::new(ISSUER, "State issuer", now - 60, now + 86_400)
                    .with_key(Jwk::new(self.issuer.public_key()).with_kid("issuer-1"))
                    .with_issuer_role(
                        Role::PersonAttestationIssuer,
                        [
                            CredentialType::TrainingAccount.vct(),
                            CredentialType::PersonAttestation.vct(),
                        ],
                    ),
            )
            .entity(
                TrustedEntity::new(OTHER, "Another issuer", now - 60, now + 86_400)
                    .with_key(Jwk::new(self.other.public_key()).with_kid("other-1"))
                    .with_issuer_role(
                        Role::PersonAttestationIssuer,
                        [CredentialType::PersonAttestation.vct()],
                    ),
            )
            .build()
            .unwrap()
    }

    fn good<'a>(&'a self, account: &'a str, nonce: &'a str, now: i64) -> Presented<'a> {
        Presented {
            issuer: ISSUER,
            issuer_key: &self.issuer,
            vct: CredentialType::TrainingAccount.vct(),
            account,
            disclose: true,
            holder: &self.holder,
            aud: LEDGER,
            nonce,
            iat: now,
        }
    }
}

impl Presented<'_> {
    fn header(&self) -> String {
        let kid = if self.issuer == OTHER {
            "other-1"
        } else {
            "issuer-1"
        };
        let path = ClaimsPath::new(vec![PathElement::Key("account_reference".into())]).unwrap();
        let credential = SdJwtVcBuilder::new(self.issuer, self.vct)
            .issued_at(self.iat - 10)
            .expires_at(self.iat + 86_400)
            .kid(kid)
            .holder_key(Jwk::new(self.holder.public_key()))
            .claim("account_reference", json!(self.account))
            .unwrap()
            .disclosable(path.clone())
            .unwrap()
            .issue(&*RustCrypto.signer(self.issuer_key).unwrap())
            .unwrap();
        let shown = if self.disclose { vec![path] } else { vec![] };
        let presentation = credential
            .present(&shown)
            .unwrap()
            .bind(
                &KeyBinding::new(self.aud, self.nonce, self.iat),
                &*RustCrypto.signer(self.holder).unwrap(),
            )
            .unwrap()
            .serialize();
        format!("SD-JWT {presentation}")
    }
}

async fn started() -> (Service, Arc<ShiftedClock>, Keys) {
    let clock = Arc::new(ShiftedClock::default());
    let service = Service::start_with_clock(clock.clone()).await;
    let keys = Keys::new();
    service
        .state
        .replace_trust_list(keys.trust_list(clock.now()));
    (service, clock, keys)
}

#[tokio::test]
async fn the_holder_sees_balance_and_history_with_provider_and_course() {
    let (service, clock, keys) = started().await;
    let account = service.open_funded(100).await;
    let (status, _) = service
        .call(
            "POST",
            "/admin/topups",
            Some(json!({"year": 2026, "amount": 50, "cap": 120})),
        )
        .await;
    assert_eq!(status, 200);
    service
        .state
        .ledger
        .spend(&SpendRequest {
            transaction_id: "enrol-0001-aaaaaaaa".into(),
            account: AccountRef::parse(&account).unwrap(),
            provider: ACADEMY.into(),
            course: "WELD-101".into(),
            amount: Amount::new(60).unwrap(),
            price: Amount::new(60).unwrap(),
            body_digest: [7; 32],
        })
        .await
        .unwrap();
    service
        .state
        .ledger
        .refund("enrol-0001-aaaaaaaa", Amount::new(10).unwrap())
        .await
        .unwrap();

    let nonce = service.c_nonce().await;
    let header = keys.good(&account, &nonce, clock.now()).header();
    let (status, shown, _) = service.account_with(Some(&header)).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["account"], account.as_str());
    assert_eq!(shown["status"], "open");
    assert_eq!(
        (
            &shown["balance"],
            &shown["granted"],
            &shown["spent"],
            &shown["refunded"]
        ),
        (&json!(70), &json!(120), &json!(60), &json!(10))
    );
    let history = shown["history"].as_array().unwrap();
    let kinds: Vec<&str> = history
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["grant", "topup", "spend", "refund"]);
    // Grants and top-ups: their kind and amount only — the grant id is the agency's.
    for entry in &history[..2] {
        let mut keys: Vec<&String> = entry.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["amount", "created_at", "kind", "seq"]);
    }
    assert_eq!(
        (&history[0]["amount"], &history[1]["amount"]),
        (&json!(100), &json!(20))
    );
    assert!(!shown.to_string().contains(&format!("g-{account}")));
    for entry in &history[2..] {
        assert_eq!(entry["transaction_id"], "enrol-0001-aaaaaaaa");
        assert_eq!(entry["provider"], ACADEMY);
        assert_eq!(entry["course"], "WELD-101");
    }
    assert_eq!(
        (
            &history[2]["amount"],
            &history[3]["amount"],
            &history[3]["seq"]
        ),
        (&json!(60), &json!(10), &json!(4))
    );
}

#[tokio::test]
async fn every_failed_check_is_a_401_naming_it() {
    let (service, clock, keys) = started().await;
    let account = service.open_funded(5).await;
    let now = clock.now();
    let nonce = service.c_nonce().await;

    service
        .refused(None, "the Authorization header is missing")
        .await;
    service
        .refused(Some("Bearer abc"), "the Authorization scheme is not SD-JWT")
        .await;
    service
        .refused(Some("SD-JWT not-a-presentation"), "not an SD-JWT")
        .await;

    // The credential signed by another key under the issuer's kid.
    let forged = Presented {
        issuer_key: &keys.other,
        ..keys.good(&account, &nonce, now)
    };
    service
        .refused(
            Some(&forged.header()),
            "signature does not verify with its issuer's key",
        )
        .await;
    // The key binding signed by another key than the credential's holder key.
    let mut header = keys.good(&account, &nonce, now).header();
    let stolen = Presented {
        holder: &keys.other,
        ..keys.good(&account, &nonce, now)
    }
    .header();
    let kb = stolen.rsplit('~').next().unwrap();
    let cut = header.rfind('~').unwrap();
    header.truncate(cut + 1);
    header.push_str(kb);
    service
        .refused(
            Some(&header),
            "the key binding JWT's signature does not verify",
        )
        .await;
    // An issuer not in the trust list; one listed but not for training accounts.
    let unlisted = Presented {
        issuer: "https://nobody.localhost",
        ..keys.good(&account, &nonce, now)
    };
    service
        .refused(Some(&unlisted.header()), "not in the trust list")
        .await;
    let not_allowed = Presented {
        issuer: OTHER,
        issuer_key: &keys.other,
        ..keys.good(&account, &nonce, now)
    };
    service
        .refused(
            Some(&not_allowed.header()),
            "the issuer may not issue training accounts",
        )
        .await;
    let wrong_vct = Presented {
        vct: CredentialType::PersonAttestation.vct(),
        ..keys.good(&account, &nonce, now)
    };
    service
        .refused(
            Some(&wrong_vct.header()),
            "the credential is not a training account",
        )
        .await;
    let wrong_aud = Presented {
        aud: "https://academy.localhost",
        ..keys.good(&account, &nonce, now)
    };
    service
        .refused(Some(&wrong_aud.header()), "aud is not this ledger")
        .await;
    let stale = Presented {
        iat: now - 400,
        ..keys.good(&account, &nonce, now)
    };
    service
        .refused(Some(&stale.header()), "iat is more than 300 s")
        .await;
    let made_up = keys.good(&account, "made-up-nonce", now).header();
    service
        .refused(Some(&made_up), "the nonce was not given by this ledger")
        .await;
    let hidden = Presented {
        disclose: false,
        ..keys.good(&account, &nonce, now)
    };
    service
        .refused(Some(&hidden.header()), "account_reference is not disclosed")
        .await;

    // None of the refusals spent the nonce: it opens the account once, then never again.
    let good = keys.good(&account, &nonce, now).header();
    let (status, shown, _) = service.account_with(Some(&good)).await;
    assert_eq!((status, &shown["balance"]), (200, &json!(5)), "{shown}");
    service
        .refused(Some(&good), "the nonce was used before")
        .await;

    // A nonce past its 300 s, with a key binding made at that time.
    let nonce = service.c_nonce().await;
    clock.0.store(301, Ordering::SeqCst);
    let late = keys.good(&account, &nonce, clock.now()).header();
    service
        .refused(
            Some(&late),
            "the nonce was not given by this ledger, or has expired",
        )
        .await;
}

#[tokio::test]
async fn an_unknown_account_is_404_and_no_trust_list_is_503() {
    let (service, clock, keys) = started().await;
    let nonce = service.c_nonce().await;
    let unknown = keys
        .good("AAAAAAAAAAAAAAAAAAAAAA", &nonce, clock.now())
        .header();
    let (status, body, _) = service.account_with(Some(&unknown)).await;
    assert_eq!(
        (status, &body["error"]),
        (404, &json!("unknown_account")),
        "{body}"
    );

    let plain = Service::start().await;
    let nonce = plain.c_nonce().await;
    let header = keys
        .good("AAAAAAAAAAAAAAAAAAAAAA", &nonce, clock.now())
        .header();
    let (status, body, _) = plain.account_with(Some(&header)).await;
    assert_eq!(
        (status, &body["error"]),
        (503, &json!("unavailable")),
        "{body}"
    );
}
