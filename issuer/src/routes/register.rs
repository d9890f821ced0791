//! The register's endpoints for courts: `POST /register/resolve`. The judge-signed order and
//! its proof in the verifier's log are the authentication (`crate::court`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use service_kit::ApiError;
use service_kit::http::{NO_STORE, body, require_content_type};

use super::AppState;
use crate::court::ResolveRequest;

/// Largest resolution request: an order (16 KiB at most), a handle and a log proof.
const MAX_RESOLVE_BODY: usize = 64 * 1024;

/// `POST /register/resolve`.
pub(super) async fn resolve(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_content_type(&headers, "application/json")?;
    let raw = body(raw)?;
    if raw.len() > MAX_RESOLVE_BODY {
        return Err(ApiError::too_large());
    }
    let request: ResolveRequest = credential_formats::json::parse_as(&raw, MAX_RESOLVE_BODY)
        .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))?;
    let resolution = state.issuer.resolve(&request).await?;
    let mut answer = resolution.to_json();
    if !resolution.found() {
        // Logged all the same: the court's attempt is part of the record.
        answer["error"] = json!("unknown_person");
        answer["error_description"] = json!("the register holds no person with this handle");
        return Ok((StatusCode::NOT_FOUND, [NO_STORE], Json(answer)).into_response());
    }
    Ok(([NO_STORE], Json(answer)).into_response())
}
