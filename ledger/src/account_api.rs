//! The holder's view of their training account: `POST /credits/nonce` and
//! `GET /credits/account`.
//!
//! The wallet authenticates with a presentation of its training-account credential,
//! disclosing `account_reference` only, key-bound (KB-JWT) to the ledger's public URL and to a
//! `c_nonce` from `POST /credits/nonce`:
//!
//! ```text
//! Authorization: SD-JWT <issuer-jwt>~<disclosure>~<kb-jwt>
//! ```
//!
//! The credential's issuer must be allowed for the training-account type by the trust list in
//! force (the same check as a spend, `crate::spend::verify_training_account`). The nonce is
//! stateless (`service_kit::nonce` under `mac.key`, label `credits c_nonce/v1`) — and its use is recorded (`used_nonces`) only once every
//! other check has passed, so each nonce opens the account once. Every refusal is a `401
//! invalid_presentation` naming the check, with `WWW-Authenticate: SD-JWT`; no claim value is
//! ever echoed.
//!
//! The answer shows the balance, totals and history; spends, refunds and cancellations carry
//! their transaction id, provider and course, grants and top-ups their kind only (grant ids
//! are the agency's).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use credential_formats::crypto::AwsLc;
use credential_formats::sd_jwt::{DEFAULT_SKEW, KeyBindingRequirements, SdJwt};
use credential_formats::time::Clock;
use serde_json::{Value, json};
use service_kit::ApiError;
use service_kit::http::NO_STORE;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::service::AppState;
use crate::spend::{AccountPresentationError, disclosed_account, verify_training_account};
use crate::{AccountRef, EntryKind, Error};

/// The `Authorization` scheme.
pub const SCHEME: &str = "SD-JWT";

/// Longest `Authorization` header value accepted: a training-account credential with one
/// Disclosure and a KB-JWT is about 2 KiB.
pub const MAX_AUTHORIZATION: usize = 16 * 1024;

/// How far the KB-JWT's `iat` may be from the ledger's clock, either way (seconds); also how
/// long a `c_nonce` lives.
pub const IAT_WINDOW: i64 = 300;

/// What the account endpoints need beside the ledger: the nonce key, the audience and the
/// clock.
#[derive(Debug)]
pub(crate) struct AccountApi {
    mac: NonceKey,
    /// The ledger's public URL: the KB-JWT's `aud`.
    audience: String,
    clock: Arc<dyn Clock>,
}

impl AccountApi {
    pub(crate) fn new(
        mac: Zeroizing<[u8; 32]>,
        audience: String,
        clock: Arc<dyn Clock>,
    ) -> AccountApi {
        AccountApi {
            mac: NonceKey(mac),
            audience,
            clock,
        }
    }
}

/// The server MAC key of `key_dir/mac.key` (never in the database, never logged).
struct NonceKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceKey(..)")
    }
}

impl NonceKey {
    fn make(&self, expires_at: i64) -> Result<String, Error> {
        service_kit::nonce::make(&self.0, NONCE_LABEL, expires_at)
            .map_err(|e| Error::Config(format!("no nonce: {e}")))
    }

    /// The nonce's expiry, if it is one of ours and has not expired at `now`.
    fn check(&self, nonce: &str, now: i64) -> Option<i64> {
        service_kit::nonce::check(&self.0, NONCE_LABEL, nonce, now)
    }
}

/// The MAC label of the ledger's nonces (`service_kit::nonce`).
const NONCE_LABEL: &[u8] = b"credits c_nonce/v1";

/// `401 invalid_presentation` with an `SD-JWT` challenge.
fn refused(why: impl Into<std::borrow::Cow<'static, str>>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_presentation", why).with_challenge(SCHEME)
}

fn presentation_refusal(error: AccountPresentationError) -> ApiError {
    match error {
        AccountPresentationError::UnknownIssuer => {
            refused("the credential's issuer is not in the trust list")
        }
        AccountPresentationError::UnknownKid => refused("no key of the issuer has this kid"),
        AccountPresentationError::IssuerNotAllowed => {
            refused("the issuer may not issue training accounts")
        }
        AccountPresentationError::Verify(e) => verify_refusal(e),
    }
}

fn verify_refusal(error: credential_formats::Error) -> ApiError {
    refused(credential_formats::sd_jwt::presentation_refusal(
        &error,
        "ledger",
        "a training account",
    ))
}

/// The presentation of an `Authorization` header checked up to (not including) the nonce's
/// use: scheme, size, issuer and key from the trust list, signature, validity, type, key
/// binding (`aud` this ledger, `iat` within [`IAT_WINDOW`], `sd_hash`), the nonce one of ours
/// and unexpired, the account reference disclosed. Returns the account, the nonce and its
/// expiry.
fn check_presentation(
    headers: &HeaderMap,
    state: &AppState,
    now: i64,
) -> Result<(AccountRef, String, i64), ApiError> {
    let api = &state.account_api;
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| refused("the Authorization header is missing"))?
        .to_str()
        // A header that is not visible ASCII cannot be an SD-JWT presentation.
        .map_err(|_| refused("the Authorization header is not an SD-JWT presentation"))?;
    if value.len() > MAX_AUTHORIZATION {
        return Err(refused("the Authorization header is over 16 KiB"));
    }
    let (scheme, presentation) = value
        .split_once(' ')
        .ok_or_else(|| refused("the Authorization scheme is not SD-JWT"))?;
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Err(refused("the Authorization scheme is not SD-JWT"));
    }
    let trust = state.trust_list().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the ledger has no trust list: accounts cannot be shown",
        )
    })?;
    let sd_jwt = SdJwt::parse(presentation.trim())
        .map_err(|_| refused("the presentation is not an SD-JWT"))?;
    let kb_jwt = sd_jwt
        .key_binding_jwt()
        .ok_or_else(|| refused("the presentation has no key binding JWT"))?;
    let nonce = credential_formats::sd_jwt::unverified_kb_nonce(kb_jwt).map_err(refused)?;
    // `iat` within ±IAT_WINDOW: the skew is the window and the maximum age nothing more.
    let requirements =
        KeyBindingRequirements::new(api.audience.as_str(), nonce.as_str()).with_max_age(0);
    let clock = credential_formats::time::FixedClock(now);
    let verified =
        verify_training_account(&sd_jwt, &trust, &AwsLc, requirements, IAT_WINDOW, &clock)
            .map_err(presentation_refusal)?;
    // The wide skew above is for the KB-JWT's `iat`; the credential's own validity keeps the
    // usual one.
    if verified
        .exp()
        .is_some_and(|exp| now > exp.saturating_add(DEFAULT_SKEW))
    {
        return Err(refused("the credential has expired"));
    }
    let expires_at = api
        .mac
        .check(&nonce, now)
        .ok_or_else(|| refused("the nonce was not given by this ledger, or has expired"))?;
    let account = disclosed_account(&verified)
        .ok_or_else(|| refused("account_reference is not disclosed"))?;
    Ok((account, nonce, expires_at))
}

/// `POST /credits/nonce`: a fresh `c_nonce`, valid once, for [`IAT_WINDOW`] seconds.
pub(crate) async fn nonce(State(state): State<AppState>) -> Result<Response, ApiError> {
    let api = &state.account_api;
    let c_nonce = api
        .mac
        .make(api.clock.now().saturating_add(IAT_WINDOW))
        .map_err(ApiError::internal)?;
    Ok((
        [NO_STORE],
        Json(json!({ "c_nonce": c_nonce, "expires_in": IAT_WINDOW })),
    )
        .into_response())
}

/// `GET /credits/account` (see the module documentation).
pub(crate) async fn account(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let now = state.account_api.clock.now();
    // Two signature checks: off the async workers.
    let checked = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || check_presentation(&headers, &state, now))
            .await
            .map_err(ApiError::internal)??
    };
    let (account, nonce, expires_at) = checked;
    let store = &state.ledger.store;
    // Spent only once everything else about the presentation holds; a replay of a
    // presentation that was accepted fails here.
    let hash: [u8; 32] =
        Sha256::digest([b"credits c_nonce\0".as_slice(), nonce.as_bytes()].concat()).into();
    if !store.use_nonce(&hash, expires_at).await? {
        return Err(refused("the nonce was used before"));
    }
    // Expired nonces need no record (their MAC refuses them): forgotten here, as a side
    // effect of use, so the table stays the size of five minutes of traffic.
    if let Err(e) = store.purge_nonces(now).await {
        tracing::warn!(error = %e, "used nonces not purged");
    }
    let balance = state.ledger.balance(&account).await?;
    let history = state.ledger.history(&account).await?;
    let spends: HashMap<String, (String, String)> = store
        .spends_of(&account)
        .await?
        .into_iter()
        .map(|(id, provider, course)| (id, (provider, course)))
        .collect();
    let history: Vec<Value> = history
        .iter()
        .map(|entry| {
            let mut item = json!({
                "seq": entry.seq,
                "kind": entry.kind.name(),
                "amount": entry.amount.get(),
                "created_at": entry.created_at,
            });
            if matches!(
                entry.kind,
                EntryKind::Spend | EntryKind::Refund | EntryKind::Cancel
            ) {
                item["transaction_id"] = json!(entry.reference);
                if let Some((provider, course)) = spends.get(&entry.reference) {
                    item["provider"] = json!(provider);
                    item["course"] = json!(course);
                }
            }
            item
        })
        .collect();
    tracing::info!(entries = history.len(), "account shown to its holder");
    Ok((
        StatusCode::OK,
        [NO_STORE],
        Json(json!({
            "account": account.as_str(),
            "status": if balance.open { "open" } else { "closed" },
            "balance": balance.balance.get(),
            "granted": balance.granted.get(),
            "spent": balance.spent.get(),
            "refunded": balance.refunded.get(),
            "history": history,
        })),
    )
        .into_response())
}
