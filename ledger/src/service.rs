//! The ledger as an HTTP service: configuration, opening (database, receipt key, admin
//! token) and the routes. The admin API is the training agency's: accounts, one-off grants,
//! the yearly top-up, balances and histories, cancellations and refunds. Every admin call
//! needs the bearer token; every answer is `no-store`.
//!
//! The provider's `POST /credits/spend` carries the wallet's presentation with the
//! `training_spend` authorisation the person signed, in a JWS of the provider's
//! (`crate::spend`); the debit is [`Ledger::spend`]: once per transaction id, never below
//! zero, with a signed receipt.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential_formats::crypto::{AwsLc, CryptoProvider as _};
use credential_formats::time::{Clock, SystemClock};
use credential_formats::trust_list::TrustList;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use service_kit::http::{NO_STORE, body, require_content_type};
use service_kit::keys::{load_or_generate_secret, load_or_generate_signing_key};
use service_kit::{ApiError, BearerSecret, Db};
use zeroize::Zeroizing;

use crate::account_api::{self, AccountApi};
use crate::spend::{MAX_SUBMISSION, SpendRefusal, verify_submission};
use crate::{AccountRef, Amount, Entry, Error, Ledger, ReceiptSigner, SpendOutcome, SqlStore};

/// Largest request body: a spend submission (admin requests are a few hundred bytes).
pub const MAX_BODY: usize = MAX_SUBMISSION;

/// Everything `ledger serve` and the admin commands need.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The ledger's public URL (`https://host[:port]`): its `iss` in receipts and its entity
    /// id in the trust list.
    pub public_url: String,
    /// A SQLite path (the default: `ledger-data/ledger.db`) or a `postgres://` URL.
    pub database_url: String,
    /// On PostgreSQL, the schema to work in.
    pub database_schema: Option<String>,
    /// Where keys live: `receipt.jwk` (the `credits_ledger` key of the trust list) and
    /// `admin.token`; made on first run.
    pub key_dir: PathBuf,
    /// The admin API's bearer token (default: `key_dir/admin.token`).
    pub admin_token: Option<Zeroizing<String>>,
    /// TLS certificate chain and key (PEM); without them, plain HTTP behind a proxy.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The signed trust list and the authority's public JWK: who is an accredited provider
    /// and which issuer may issue training accounts. Re-read every minute; without it,
    /// spends are refused (503).
    pub trust: Option<(PathBuf, PathBuf)>,
}

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The ledger.
    pub ledger: Arc<Ledger>,
    /// The admin API's token.
    pub admin: BearerSecret,
    /// The receipt key as a JWK Set (`/.well-known/jwks.json`).
    pub jwks: Arc<Value>,
    /// The trust list in force (replaced when a newer one verifies).
    pub trust: Arc<RwLock<Option<TrustList>>>,
    trust_source: Option<(PathBuf, PathBuf)>,
    clock: Arc<dyn Clock>,
    /// The holder's account endpoints: nonce key (`key_dir/mac.key`) and audience.
    pub(crate) account_api: Arc<AccountApi>,
}

impl AppState {
    /// Puts `list` in force (a reload, or a test moving the world on).
    pub fn replace_trust_list(&self, list: TrustList) {
        if let Ok(mut slot) = self.trust.write() {
            *slot = Some(list);
        }
    }

    pub(crate) fn trust_list(&self) -> Option<TrustList> {
        self.trust.read().ok().and_then(|slot| slot.clone())
    }
}

/// Reads and verifies the trust list at `paths` (list, authority JWK) as of `now`.
pub fn load_trust_list(paths: &(PathBuf, PathBuf), now: i64) -> Result<TrustList, Error> {
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p).map_err(|e| Error::Config(format!("{}: {e}", p.display())))
    };
    let anchor: Value = serde_json::from_str(&read(&paths.1)?)
        .map_err(|_| Error::Config("the trust anchor is not JSON".into()))?;
    let anchor = credential_formats::jose::Jwk::from_value(&anchor)
        .map_err(|_| Error::Config("the trust anchor is not a public JWK".into()))?;
    TrustList::verify(read(&paths.0)?.trim(), &AwsLc, anchor.key(), now, None)
        .map_err(|e| Error::Config(format!("the trust list does not verify: {e}")))
}

/// The admin token as kept in `key_dir/admin.token` (made on first use).
pub fn admin_token_from_dir(key_dir: &std::path::Path) -> Result<Zeroizing<String>, Error> {
    let (secret, _) = load_or_generate_secret(&key_dir.join("admin.token"))?;
    Ok(Zeroizing::new(URL_SAFE_NO_PAD.encode(&secret[..])))
}

/// Opens the database and keys (making them on first run) and builds the service state.
pub async fn open(config: &Config) -> Result<AppState, Error> {
    open_with_clock(config, Arc::new(SystemClock)).await
}

/// [`open`] with the clock injected.
pub async fn open_with_clock(config: &Config, clock: Arc<dyn Clock>) -> Result<AppState, Error> {
    let host = config
        .public_url
        .strip_prefix("https://")
        .filter(|rest| !rest.is_empty() && !rest.contains(['/', '?', '#', '@']));
    if host.is_none() {
        return Err(Error::Config(
            "the public URL is https://host[:port], without a path".into(),
        ));
    }
    let db = Db::connect_in_schema(&config.database_url, config.database_schema.as_deref()).await?;
    let store = SqlStore::open(db).await?;
    let (key, _) = load_or_generate_signing_key(&config.key_dir.join("receipt.jwk"))?;
    let kid = key
        .kid()
        .map(str::to_owned)
        .unwrap_or_else(|| key.public().thumbprint());
    let public = key
        .public()
        .with_kid(kid.clone())
        .with_alg("ES256")
        .with_use("sig");
    let signer = AwsLc.signer(key.secret())?;
    let receipts = ReceiptSigner::new(config.public_url.clone(), Some(kid), signer);
    let admin = match &config.admin_token {
        Some(token) => BearerSecret::new(token),
        None => BearerSecret::new(&admin_token_from_dir(&config.key_dir)?),
    };
    let trust = config
        .trust
        .as_ref()
        .map(|paths| load_trust_list(paths, clock.now()))
        .transpose()?;
    let (mac, _) = load_or_generate_secret(&config.key_dir.join("mac.key"))?;
    let account_api = AccountApi::new(mac, config.public_url.clone(), clock.clone());
    Ok(AppState {
        ledger: Arc::new(Ledger::new(
            Arc::new(store),
            clock.clone(),
            Arc::new(receipts),
        )),
        admin,
        jwks: Arc::new(json!({ "keys": [public.to_value()] })),
        trust: Arc::new(RwLock::new(trust)),
        trust_source: config.trust.clone(),
        clock,
        account_api: Arc::new(account_api),
    })
}

/// Runs the service until `shutdown` resolves.
pub async fn serve(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let state = open(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| Error::Config(format!("cannot listen on {}: {e}", config.listen)))?;
    run(state, listener, config.tls.as_ref(), shutdown).await
}

/// Serves an opened ledger on a bound listener (tests bind port 0 themselves).
pub async fn run(
    state: AppState,
    listener: tokio::net::TcpListener,
    tls: Option<&(PathBuf, PathBuf)>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    tracing::info!(listen = ?listener.local_addr().ok(), tls = tls.is_some(), "ledger serving");
    // A provider removed from the list stops being able to spend within a minute.
    let reload = state.trust_source.clone().map(|paths| {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            tick.tick().await;
            loop {
                tick.tick().await;
                match load_trust_list(&paths, state.clock.now()) {
                    Ok(list) => state.replace_trust_list(list),
                    Err(e) => tracing::warn!(error = %e, "trust list not reloaded"),
                }
            }
        })
    });
    let router = app(state);
    let served = match tls {
        Some((chain, key)) => {
            let tls = service_kit::tls::load_server_config(chain, key)?;
            service_kit::http::serve_tls(listener, router, tls, shutdown).await
        }
        None => service_kit::http::serve(listener, router, shutdown).await,
    };
    if let Some(task) = reload {
        task.abort();
    }
    served.map_err(|e| Error::Config(format!("server stopped: {e}")))
}

/// The routes.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/admin/accounts", post(open_account))
        .route("/admin/accounts/{id}", get(account))
        .route("/admin/accounts/{id}/grants", post(grant))
        .route("/admin/accounts/{id}/close", post(close_account))
        .route("/admin/topups", post(topup_all))
        .route("/admin/spends/{id}/cancel", post(cancel))
        .route("/admin/spends/{id}/refund", post(refund))
        .route("/credits/spend", post(spend))
        // The holder's own view of the account (`crate::account_api`).
        .route("/credits/nonce", post(account_api::nonce))
        .route("/credits/account", get(account_api::account))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(service_kit::http::trace_layer())
        .with_state(state)
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let status = match &e {
            Error::InvalidAmount(_) | Error::InvalidIdentifier(_) => StatusCode::BAD_REQUEST,
            Error::UnknownAccount | Error::UnknownTransaction => StatusCode::NOT_FOUND,
            Error::InsufficientCredits
            | Error::Conflict
            | Error::AccountClosed
            | Error::IllegalTransition { .. } => StatusCode::CONFLICT,
            Error::StorageFull => StatusCode::SERVICE_UNAVAILABLE,
            _ => return ApiError::internal(e),
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

fn answer(status: StatusCode, value: Value) -> Response {
    (status, [NO_STORE], Json(value)).into_response()
}

fn admin_json<T: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    state.admin.check(headers)?;
    require_content_type(headers, "application/json")?;
    let raw = body(raw)?;
    credential_formats::json::parse_as(&raw, MAX_BODY)
        .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))
}

fn account_ref(id: &str) -> Result<AccountRef, ApiError> {
    Ok(AccountRef::parse(id)?)
}

async fn jwks(State(state): State<AppState>) -> Response {
    Json(state.jwks.as_ref().clone()).into_response()
}

async fn open_account(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.admin.check(&headers)?;
    let account = state.ledger.open_account().await?;
    Ok(answer(
        StatusCode::CREATED,
        json!({ "account": account.as_str() }),
    ))
}

fn entry_json(entry: &Entry) -> Value {
    json!({
        "seq": entry.seq,
        "kind": entry.kind.name(),
        "amount": entry.amount.get(),
        "reference": entry.reference,
        "created_at": entry.created_at,
        "hash": URL_SAFE_NO_PAD.encode(entry.hash),
    })
}

async fn account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.admin.check(&headers)?;
    let account = account_ref(&id)?;
    let balance = state.ledger.balance(&account).await?;
    let history = state.ledger.history(&account).await?;
    Ok(answer(
        StatusCode::OK,
        json!({
            "account": account.as_str(),
            "status": if balance.open { "open" } else { "closed" },
            "balance": balance.balance.get(),
            "granted": balance.granted.get(),
            "spent": balance.spent.get(),
            "refunded": balance.refunded.get(),
            "history": history.iter().map(entry_json).collect::<Vec<_>>(),
        }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantBody {
    grant_id: String,
    amount: Amount,
    #[serde(default)]
    reason: String,
}

async fn grant(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: GrantBody = admin_json(&state, &headers, raw)?;
    let account = account_ref(&id)?;
    let outcome = state
        .ledger
        .grant(&account, &request.grant_id, request.amount, &request.reason)
        .await?;
    Ok(answer(
        if outcome.replayed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        json!({ "applied": outcome.applied.get(), "replayed": outcome.replayed }),
    ))
}

async fn close_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.admin.check(&headers)?;
    state.ledger.close_account(&account_ref(&id)?).await?;
    Ok(answer(StatusCode::OK, json!({ "status": "closed" })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopupBody {
    year: u16,
    amount: Amount,
    cap: Amount,
}

async fn topup_all(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: TopupBody = admin_json(&state, &headers, raw)?;
    let summary = state
        .ledger
        .yearly_topup_all(request.year, request.amount, request.cap)
        .await?;
    Ok(answer(
        StatusCode::OK,
        json!({
            "accounts": summary.accounts,
            "replayed": summary.replayed,
            "applied": summary.applied.get(),
        }),
    ))
}

fn transition_json(outcome: &crate::TransitionOutcome) -> Value {
    json!({
        "state": outcome.state.name(),
        "returned": outcome.returned.get(),
        "replayed": outcome.replayed,
    })
}

async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.admin.check(&headers)?;
    let outcome = state.ledger.cancel(&id).await?;
    Ok(answer(StatusCode::OK, transition_json(&outcome)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundBody {
    amount: Amount,
}

async fn refund(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: RefundBody = admin_json(&state, &headers, raw)?;
    let outcome = state.ledger.refund(&id, request.amount).await?;
    Ok(answer(StatusCode::OK, transition_json(&outcome)))
}

impl From<SpendRefusal> for ApiError {
    fn from(refusal: SpendRefusal) -> ApiError {
        let status = match refusal.code {
            "untrusted_provider" | "not_accredited" => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, refusal.code, refusal.to_string())
    }
}

/// `POST /credits/spend`: the provider's signed submission (`application/jwt`).
async fn spend(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_content_type(&headers, "application/jwt")?;
    let raw = body(raw)?;
    let compact = std::str::from_utf8(&raw)
        .map_err(|_| ApiError::bad_request("invalid_submission", "not text"))?
        .trim()
        .to_owned();
    let trust = state.trust_list().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the ledger has no trust list: spends are refused",
        )
    })?;
    let clock = state.clock.clone();
    // Three signature checks: off the async workers.
    let verified = tokio::task::spawn_blocking(move || {
        verify_submission(&compact, &trust, &AwsLc, clock.as_ref())
    })
    .await
    .map_err(ApiError::internal)??;
    let outcome = state.ledger.spend(&verified.request).await?;
    let (status, replayed) = match &outcome {
        SpendOutcome::Captured(_) => (StatusCode::CREATED, false),
        SpendOutcome::Replayed(_) => (StatusCode::OK, true),
    };
    Ok(answer(
        status,
        json!({
            "transaction_id": verified.spend.transaction_id,
            "amount": verified.spend.amount,
            "receipt": outcome.receipt().0,
            "replayed": replayed,
        }),
    ))
}
