//! What the issuer publishes: metadata, keys, status lists, the trust list.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use service_kit::ApiError;

use super::AppState;

/// Metadata changes rarely; caches may keep it for five minutes.
const METADATA_CACHE: &str = "public, max-age=300";

fn cached_json(value: Value) -> Response {
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static(METADATA_CACHE),
        )],
        Json(value),
    )
        .into_response()
}

pub(super) async fn credential_issuer_metadata(State(state): State<AppState>) -> Response {
    cached_json(state.issuer.credential_issuer_metadata())
}

pub(super) async fn authorization_server_metadata(State(state): State<AppState>) -> Response {
    cached_json(state.issuer.authorization_server_metadata())
}

pub(super) async fn jwt_vc_issuer_metadata(State(state): State<AppState>) -> Response {
    cached_json(state.issuer.jwt_vc_issuer_metadata())
}

/// `GET /status/{list}`: the Status List Token (draft-14 §8), cacheable for its `ttl`.
pub(super) async fn status_list(
    State(state): State<AppState>,
    Path(list): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found("no such status list");
    let list_id: i64 = list.parse().map_err(|_| not_found())?;
    let jwt = state
        .issuer
        .status_list_token(list_id)
        .await?
        .ok_or_else(not_found)?;
    let cache = format!("public, max-age={}", state.issuer.settings().status_ttl);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/statuslist+jwt"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_str(&cache).map_err(ApiError::internal)?,
            ),
        ],
        jwt.to_string(),
    )
        .into_response())
}

/// `GET /trust-list`: the signed trust list, as the authority signed it.
pub(super) async fn trust_list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let published = state
        .issuer
        .trust_list()
        .ok_or_else(|| ApiError::not_found("this issuer publishes no trust list"))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/trust-list+jwt"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(METADATA_CACHE),
            ),
        ],
        published.jwt.clone(),
    )
        .into_response())
}

pub(super) async fn health() -> &'static str {
    "ok"
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> ApiError {
        use crate::Error as E;
        match e {
            E::Invalid(d) => ApiError::bad_request("invalid_request", d),
            E::NotFound(what) => ApiError::not_found(format!("no such {what}")),
            E::Conflict(d) => ApiError::new(axum::http::StatusCode::CONFLICT, "conflict", d),
            E::Order(refusal) => {
                ApiError::bad_request("invalid_order", format!("{}: {refusal}", refusal.code()))
            }
            E::NotLogged(why) => ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "order_not_logged",
                format!("the order is not shown to be in the verifier's log: {why}"),
            ),
            E::OrderReplayed => ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "order_replayed",
                "replayed: this court order was received before",
            ),
            other => ApiError::internal(other),
        }
    }
}
