//! The ledger service on a loopback port over TLS (the development PKI): the admin API as
//! the training agency uses it, and the `ledger` command on the same database.

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::process::Command;

use serde_json::{Value, json};
use tempfile::TempDir;

use ledger::service::{AppState, Config, app, open};

mod account;
mod local;
mod spend;

struct Service {
    state: AppState,
    base: String,
    http: reqwest::Client,
    token: String,
    // Kept for the service's lifetime: its database, keys and TLS files.
    _dir: TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Service {
    async fn start() -> Service {
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        service_kit::tls::dev_pki(&tls).unwrap();
        let config = config(&dir);
        let state = open(&config).await.unwrap();
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

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url),
        }
        .bearer_auth(&self.token);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        assert_eq!(
            response.headers()["cache-control"],
            "no-store",
            "{method} {path}"
        );
        (status, response.json().await.unwrap())
    }
}

fn config(dir: &TempDir) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: "https://ledger.localhost".into(),
        database_url: dir.path().join("ledger.db").display().to_string(),
        database_schema: None,
        key_dir: dir.path().join("keys"),
        admin_token: None,
        tls: None,
        trust: None,
    }
}

#[tokio::test]
async fn the_agency_opens_accounts_grants_and_tops_up_once() {
    let service = Service::start().await;
    let (status, opened) = service.call("POST", "/admin/accounts", None).await;
    assert_eq!(status, 201, "{opened}");
    let account = opened["account"].as_str().unwrap().to_owned();
    assert_eq!(account.len(), 22);

    let grant = json!({"grant_id": "welcome-2026", "amount": 100, "reason": "welcome"});
    let path = format!("/admin/accounts/{account}/grants");
    let (status, granted) = service.call("POST", &path, Some(grant.clone())).await;
    assert_eq!(
        (status, &granted["applied"]),
        (201, &json!(100)),
        "{granted}"
    );
    // The same grant again: nothing more. The same id with another amount: a conflict.
    let (status, again) = service.call("POST", &path, Some(grant)).await;
    assert_eq!((status, &again["replayed"]), (200, &json!(true)), "{again}");
    let (status, conflict) = service
        .call(
            "POST",
            &path,
            Some(json!({"grant_id": "welcome-2026", "amount": 99})),
        )
        .await;
    assert_eq!((status, &conflict["error"]), (409, &json!("conflict")));

    // The yearly top-up, capped at 120: 20 added; run again, nothing.
    let topup = json!({"year": 2026, "amount": 50, "cap": 120});
    let (status, summary) = service
        .call("POST", "/admin/topups", Some(topup.clone()))
        .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["applied"], 20);
    let (_, summary) = service.call("POST", "/admin/topups", Some(topup)).await;
    assert_eq!(
        (&summary["applied"], &summary["replayed"]),
        (&json!(0), &json!(1))
    );

    let (status, shown) = service
        .call("GET", &format!("/admin/accounts/{account}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(shown["balance"], 120);
    assert_eq!(shown["granted"], 120);
    let history = shown["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["kind"], "grant");
    assert_eq!(history[1]["kind"], "topup");

    // Closed: nothing more is granted.
    let (status, _) = service
        .call("POST", &format!("/admin/accounts/{account}/close"), None)
        .await;
    assert_eq!(status, 200);
    let (status, closed) = service
        .call(
            "POST",
            &path,
            Some(json!({"grant_id": "late", "amount": 5})),
        )
        .await;
    assert_eq!((status, &closed["error"]), (409, &json!("account_closed")));
}

#[tokio::test]
async fn bad_amounts_accounts_and_tokens_are_refused() {
    let service = Service::start().await;
    let (_, opened) = service.call("POST", "/admin/accounts", None).await;
    let account = opened["account"].as_str().unwrap().to_owned();
    let path = format!("/admin/accounts/{account}/grants");
    for amount in [
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e3),
        json!("10"),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1_000_000_001),
    ] {
        let (status, error) = service
            .call(
                "POST",
                &path,
                Some(json!({"grant_id": "g-1", "amount": amount})),
            )
            .await;
        assert_eq!(status, 400, "{amount}: {error}");
    }
    let (_, shown) = service
        .call("GET", &format!("/admin/accounts/{account}"), None)
        .await;
    assert_eq!(shown["balance"], 0, "nothing was granted");

    let (status, error) = service
        .call("GET", "/admin/accounts/AAAAAAAAAAAAAAAAAAAAAA", None)
        .await;
    assert_eq!((status, &error["error"]), (404, &json!("unknown_account")));
    let (status, error) = service.call("GET", "/admin/accounts/not-one", None).await;
    assert_eq!(
        (status, &error["error"]),
        (400, &json!("invalid_identifier"))
    );
    let (status, error) = service
        .call("POST", "/admin/spends/tx-unknown-000001/cancel", None)
        .await;
    assert_eq!(
        (status, &error["error"]),
        (404, &json!("unknown_transaction"))
    );

    // No token, a wrong token: 401, and nothing opened.
    let response = service
        .http
        .post(format!("{}/admin/accounts", service.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = service
        .http
        .post(format!("{}/admin/accounts", service.base))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // The receipt key is published.
    let jwks: Value = service
        .http
        .get(format!("{}/.well-known/jwks.json", service.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"]),
        (&json!("EC"), &json!("P-256"), &json!("ES256"))
    );
    assert!(key["d"].is_null());
}

#[tokio::test]
async fn the_command_works_on_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir);
    let ledger = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ledger"))
            .args(args)
            .args([
                "--database-url",
                &config.database_url,
                "--key-dir",
                config.key_dir.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (ok, account, err) = ledger(&["open-account"]);
    assert!(ok, "{err}");
    let account = account.trim().to_owned();
    let (ok, out, err) = ledger(&[
        "grant",
        &account,
        "--amount",
        "40",
        "--grant-id",
        "g-2026-1",
    ]);
    assert!(ok && out.contains("granted 40"), "{out}{err}");
    let (ok, out, _) = ledger(&[
        "grant",
        &account,
        "--amount",
        "40",
        "--grant-id",
        "g-2026-1",
    ]);
    assert!(ok && out.contains("granted before"), "{out}");
    let (ok, _, err) = ledger(&["grant", &account, "--amount", "1.5", "--grant-id", "g-2"]);
    assert!(!ok && err.contains("invalid amount"), "{err}");
    let (ok, out, _) = ledger(&["topup", "--year", "2027", "--amount", "100", "--cap", "100"]);
    assert!(ok && out.contains("60 credits added"), "{out}");
    let (ok, out, _) = ledger(&["show", &account]);
    assert!(ok && out.contains("balance 100"), "{out}");
    let (ok, out, err) = ledger(&["check"]);
    assert!(ok && out.contains("1 accounts"), "{out}{err}");

    // The service opened on the same files sees the same account.
    let state = open(&config).await.unwrap();
    let balance = state
        .ledger
        .balance(&ledger::AccountRef::parse(&account).unwrap())
        .await
        .unwrap();
    assert_eq!(balance.balance.get(), 100);
}
