//! The admin API: platforms and their keys. Every call needs the admin bearer token.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use service_kit::ApiError;
use service_kit::http::{body, require_content_type};

use super::AppState;
use crate::service::IssuedKey;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPlatform {
    name: String,
    #[serde(default)]
    webhook_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotation {
    /// How long the platform's other keys keep working (seconds; default a day).
    #[serde(default = "default_grace")]
    grace_seconds: i64,
}

fn default_grace() -> i64 {
    86_400
}

fn issued(key: &IssuedKey) -> serde_json::Value {
    json!({
        "platform_id": key.platform.id,
        "name": key.platform.name,
        "webhook_url": key.platform.webhook_url,
        "key_id": key.key_id,
        "api_key": key.api_key.as_str(),
        "webhook_secret": key.webhook_secret.as_str(),
    })
}

fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    require_content_type(headers, "application/json")?;
    let raw = body(raw)?;
    credential_formats::json::parse_as(&raw, super::MAX_BODY)
        .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))
}

/// `POST /admin/platforms` `{name, webhook_url?}`: registers a platform; its API key and
/// webhook secret are in this answer and nowhere else.
pub(super) async fn add_platform(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    state.admin.check(&headers)?;
    let request: NewPlatform = json_body(&headers, raw)?;
    let key = state
        .verifier
        .add_platform(&request.name, request.webhook_url.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(issued(&key))).into_response())
}

/// `GET /admin/platforms`.
pub(super) async fn platforms(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.admin.check(&headers)?;
    let platforms = state.verifier.store().platforms().await?;
    let list: Vec<_> = platforms
        .iter()
        .map(|p| {
            json!({
                "id": p.id, "name": p.name, "webhook_url": p.webhook_url,
                "created_at": p.created_at, "disabled_at": p.disabled_at,
            })
        })
        .collect();
    Ok(Json(json!({ "platforms": list })).into_response())
}

/// `POST /admin/platforms/{id}/keys` `{grace_seconds?}`: a new key; the others keep working
/// for the grace period.
pub(super) async fn rotate_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    state.admin.check(&headers)?;
    let rotation: Rotation = json_body(&headers, raw)?;
    let key = state
        .verifier
        .rotate_key(&id, rotation.grace_seconds)
        .await?;
    Ok((StatusCode::CREATED, Json(issued(&key))).into_response())
}

/// `POST /admin/keys/{id}/revoke`.
pub(super) async fn revoke_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.admin.check(&headers)?;
    state.verifier.revoke_key(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /admin/platforms/{id}/disable`.
pub(super) async fn disable_platform(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.admin.check(&headers)?;
    state.verifier.disable_platform(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
