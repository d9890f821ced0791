//! OpenID4VCI 1.0: the offer by reference, Token, Nonce and Credential Endpoints.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use service_kit::http::{NO_STORE, body, require_content_type};
use service_kit::{ApiError, bearer_token};

use super::AppState;

/// `GET /credential-offer/{id}`: the offer behind a `credential_offer_uri` (§4.1.3).
pub(super) async fn credential_offer(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let offer = state
        .issuer
        .offer_body(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("no open credential offer with this id"))?;
    Ok((
        [
            NO_STORE,
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        offer,
    )
        .into_response())
}

/// `POST /token` (§6), form-encoded.
pub(super) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require_content_type(&headers, "application/x-www-form-urlencoded")?;
    let raw = body(raw)?;
    let form = std::str::from_utf8(&raw)
        .map_err(|_| ApiError::bad_request("invalid_request", "body is not UTF-8"))?;
    let response = state.issuer.token(form).await?;
    Ok(json_no_store(response.to_json()))
}

/// `POST /nonce` (§7).
pub(super) async fn nonce(State(state): State<AppState>) -> Result<Response, ApiError> {
    let response = state.issuer.nonce().await?;
    Ok(json_no_store(response.to_json()))
}

/// `POST /credential` (§8), JSON, with the access token as a Bearer header only.
pub(super) async fn credential(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // RFC 6750 §2.3 lets a token ride in the URI; that leaks it into logs and histories,
    // so it is refused outright, whatever the header says.
    if query.is_some_and(|q| {
        q.split('&')
            .any(|p| p.split('=').next() == Some("access_token"))
    }) {
        return Err(ApiError::bad_request(
            "invalid_request",
            "access tokens are accepted in the Authorization header only",
        ));
    }
    let token = bearer_token(&headers).ok_or_else(|| {
        if headers.contains_key(axum::http::header::AUTHORIZATION) {
            ApiError::unauthorized()
        } else {
            ApiError::authentication_required()
        }
    })?;
    require_content_type(&headers, "application/json").map_err(|_| {
        ApiError::bad_request(
            "invalid_credential_request",
            "Content-Type must be application/json",
        )
    })?;
    let raw = body(raw)?;
    let response = state.issuer.credential(&token, &raw).await?;
    Ok(json_no_store(response.to_json()))
}

fn json_no_store(json: String) -> Response {
    (
        [
            NO_STORE,
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        json,
    )
        .into_response()
}
