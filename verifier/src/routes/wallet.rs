//! The wallet's side, OpenID4VP 1.0: the request object by reference (§5.7) and the
//! response endpoint of `direct_post.jwt` (§8.3).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use service_kit::ApiError;
use service_kit::http::{body, require_content_type};

use super::AppState;
use crate::Error;
use crate::pipeline::Refusal;

/// `GET /wallet/requests/{id}`: the signed request object (`oauth-authz-req+jwt`). It may
/// be fetched again while the check is pending.
pub(super) async fn request_object(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let jwt = state.verifier.request_object(&id).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/oauth-authz-req+jwt")],
        jwt,
    )
        .into_response())
}

/// `POST /wallet/responses/{id}`: the wallet's answer, accepted once. A wallet's error
/// response (declined, nothing to present) is acknowledged with `200`, as §8.2 says, and
/// fails the check like any refusal.
pub(super) async fn response(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_content_type(&headers, "application/x-www-form-urlencoded")?;
    let raw = body(raw)?;
    match state.verifier.receive_response(&id, &raw).await {
        Ok(answer) => Ok(Json(match answer.redirect_uri {
            Some(uri) => json!({ "redirect_uri": uri }),
            None => json!({}),
        })
        .into_response()),
        Err(Error::Refused(Refusal::WalletError(_))) => Ok(Json(json!({})).into_response()),
        Err(e) => Err(e.into()),
    }
}
