//! `POST /court/orders`: a judge-signed order (`application/jwt`) for one account's sealed
//! escrow records. The order's signature by a judge of the trust list is the authentication.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use service_kit::ApiError;
use service_kit::http::{body, require_content_type};

use super::AppState;

/// `POST /court/orders`.
pub(super) async fn order(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_content_type(&headers, "application/jwt")?;
    let raw = body(raw)?;
    let compact = std::str::from_utf8(&raw)
        .map_err(|_| ApiError::bad_request("invalid_order", "malformed: not text"))?
        .trim();
    let answer = state.verifier.court_order(compact).await?;
    Ok(Json(answer.to_json()).into_response())
}
