//! The admin API: enrolment, offers, status changes. Every call needs the admin bearer token.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;
use serde_json::json;
use service_kit::http::{NO_STORE, body, require_content_type};
use service_kit::{ApiError, qr};

use super::AppState;
use crate::register::Enrolment;
use crate::service::OfferRequest;
use crate::store::{CredentialStatus, Transition};

/// Largest admin request.
const MAX_ADMIN_BODY: usize = 64 * 1024;

fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    require_content_type(headers, "application/json")?;
    let raw = body(raw)?;
    if raw.len() > MAX_ADMIN_BODY {
        return Err(ApiError::too_large());
    }
    // Not `serde_json::from_value`: its messages quote the value of a field of the wrong type
    // ("invalid type: integer `19900530`, expected a string"), which here is personal data.
    // The formats' parser keeps the expected type and drops the value.
    credential_formats::json::parse_as(&raw, MAX_ADMIN_BODY)
        .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))
}

/// `POST /admin/persons`: records a person's PID attributes.
pub(super) async fn enrol(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    state.admin.check(&headers)?;
    let enrolment: Enrolment = json_body(&headers, raw)?;
    let enrolled = state.issuer.enrol(enrolment).await?;
    let status = if enrolled.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(enrolled)).into_response())
}

/// `GET /admin/persons/{id}/credentials`: what was issued to a person, for status changes.
pub(super) async fn credentials_of(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.admin.check(&headers)?;
    let records = state.issuer.credentials_of(&id).await?;
    let list: Vec<_> = records
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "vct": r.vct, "status": r.status.name(),
                "status_list": r.list_id, "issued_at": r.issued_at, "expires_at": r.expires_at,
            })
        })
        .collect();
    Ok(Json(json!({ "credentials": list })).into_response())
}

/// `POST /admin/offers`: a credential offer, its QR code, and the `tx_code`.
pub(super) async fn create_offer(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    state.admin.check(&headers)?;
    let request: OfferRequest = json_body(&headers, raw)?;
    let offer = state.issuer.create_offer(request).await?;
    // Rendering both images takes a few milliseconds of CPU: off the async workers.
    let uri = offer.offer_uri.clone();
    let (svg, png) = tokio::task::spawn_blocking(move || {
        Ok::<_, service_kit::Error>((qr::svg(&uri)?, qr::png(&uri)?))
    })
    .await
    .map_err(ApiError::internal)??;
    let mut body = serde_json::to_value(&offer).map_err(ApiError::internal)?;
    body["qr_svg"] = svg.into();
    body["qr_png_base64"] = STANDARD.encode(png).into();
    Ok((StatusCode::CREATED, [NO_STORE], Json(body)).into_response())
}

/// `POST /admin/credentials/{id}/{revoke|suspend|unsuspend}`.
pub(super) async fn set_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    state.admin.check(&headers)?;
    let to = match action.as_str() {
        "revoke" => CredentialStatus::Revoked,
        "suspend" => CredentialStatus::Suspended,
        "unsuspend" => CredentialStatus::Valid,
        _ => {
            return Err(ApiError::not_found(
                "actions are revoke, suspend, unsuspend",
            ));
        }
    };
    match state.issuer.set_status(&id, to).await? {
        Transition::Changed | Transition::Unchanged => {
            Ok(Json(json!({"id": id, "status": to.name()})).into_response())
        }
        Transition::Refused(from) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("a {} credential cannot become {}", from.name(), to.name()),
        )),
        Transition::Unknown => Err(ApiError::not_found("no such credential")),
    }
}
