//! The platform API, `/v1`: create a check, read it. Authenticated by the platform's API key
//! (`Authorization: Bearer vk_…`); described by the OpenAPI document at `/openapi.json`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use service_kit::http::{body, require_content_type};
use service_kit::{ApiError, bearer_token, qr};
use utoipa::{OpenApi, ToSchema};

use super::AppState;
use crate::service::CheckRequest;
use crate::store::{CheckStatus, Platform, check_from_name};

/// `POST /v1/checks` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateCheck {
    /// The checks wanted: `age_over_18` (anonymous), `verified_person` (accountable: gives
    /// the account's pairwise pseudonym), or both.
    #[schema(example = json!(["age_over_18"]))]
    pub(super) checks: Vec<String>,
    /// The platform's own reference of the account (1–256 characters). It is sealed into
    /// the escrow record, for a court; the verifier never shows it to anyone else.
    #[serde(default)]
    pub(super) account_reference: Option<String>,
    /// Where the citizen's browser returns after a same-device flow (https). The redirect
    /// carries a `response_code`; pass it to `GET /v1/checks/{id}` to bind the result to
    /// the browser that came back.
    #[serde(default)]
    pub(super) return_url: Option<String>,
    /// Also return the QR code as a PNG (base64).
    #[serde(default)]
    pub(super) qr_png: bool,
}

/// `201` answer to `POST /v1/checks`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CreatedCheck {
    /// The check id.
    pub(super) id: String,
    /// Always `pending`.
    pub(super) status: String,
    /// The link a wallet opens (same device) or scans (the QR code).
    pub(super) wallet_link: String,
    /// The wallet link as an SVG QR code.
    pub(super) qr_svg: String,
    /// The wallet link as a PNG QR code, base64, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) qr_png: Option<String>,
    /// When the wallet's answer stops being accepted (Unix seconds).
    pub(super) expires_at: i64,
}

/// `GET /v1/checks/{id}` answer.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CheckResult {
    /// The check id.
    pub(super) id: String,
    /// `pending`, `completed`, `failed` or `expired`.
    pub(super) status: String,
    /// What was asked.
    pub(super) checks: Vec<String>,
    /// `verified` or `not_verified`, once settled. A failure says `not_verified` whatever
    /// the reason (declined, nothing to present, under age, refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) result: Option<String>,
    /// The signed attestation (JWT, keys at `/.well-known/jwks.json`), once settled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) attestation: Option<String>,
    /// For a completed `verified_person` check: the account's pseudonym history, so a
    /// platform can rate-limit or ban.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) pseudonym: Option<PseudonymHistory>,
    /// When the check was created (Unix seconds).
    pub(super) created_at: i64,
    /// When the wallet's answer stops being accepted (Unix seconds).
    pub(super) expires_at: i64,
}

/// What the verifier knows of a pseudonym at this platform.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PseudonymHistory {
    /// The pairwise pseudonym (also the attestation's `sub`).
    pub(super) sub: String,
    /// First verification (Unix seconds).
    pub(super) first_seen: i64,
    /// Latest verification (Unix seconds).
    pub(super) last_seen: i64,
    /// How many verifications.
    pub(super) verifications: i64,
}

/// `GET /v1/checks/{id}` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckQuery {
    /// The `response_code` of a same-device redirect: when given, it must match.
    pub(super) response_code: Option<String>,
}

/// An error: `{"error", "error_description"}` (RFC 6749 shape).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ErrorBody {
    /// A stable code: `invalid_request`, `invalid_token`, `not_found`, `rate_limited`, …
    pub(super) error: String,
    /// What went wrong, for a developer.
    pub(super) error_description: String,
}

/// The OpenAPI description of the platform API.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Verifier platform API",
        description = "Ask whether an account belongs to a verified (adult) person. \
            Authenticate with `Authorization: Bearer <API key>`. Results carry a signed \
            attestation; verify it with the keys at `/.well-known/jwks.json`."
    ),
    paths(create_check, get_check, jwks),
    components(schemas(CreateCheck, CreatedCheck, CheckResult, PseudonymHistory, ErrorBody)),
    modifiers(&BearerAuth),
    security(("api_key" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Platform, ApiError> {
    let token = bearer_token(headers).ok_or_else(ApiError::authentication_required)?;
    let platform = state.verifier.authenticate(&token).await?;
    state.limiters.platform(&platform.id)?;
    Ok(platform)
}

/// Create a check.
#[utoipa::path(
    post, path = "/v1/checks", request_body = CreateCheck,
    responses(
        (status = 201, description = "The check, its wallet link and QR code", body = CreatedCheck),
        (status = 400, description = "The request is invalid", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 409, description = "Accountable checks are not available", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub(super) async fn create_check(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let platform = authenticate(&state, &headers).await?;
    require_content_type(&headers, "application/json")?;
    let raw = body(raw)?;
    let request: CreateCheck = credential_formats::json::parse_as(&raw, super::MAX_BODY)
        .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))?;
    let checks = request
        .checks
        .iter()
        .map(|name| {
            check_from_name(name).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_request",
                    "checks are age_over_18 and verified_person",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let created = state
        .verifier
        .create_check(
            &platform,
            CheckRequest {
                checks,
                account_reference: request.account_reference,
                return_url: request.return_url,
            },
        )
        .await?;
    let qr_png = if request.qr_png {
        Some(STANDARD.encode(qr::png(&created.wallet_link)?))
    } else {
        None
    };
    let answer = CreatedCheck {
        qr_svg: qr::svg(&created.wallet_link)?,
        qr_png,
        id: created.id,
        status: CheckStatus::Pending.name().into(),
        wallet_link: created.wallet_link,
        expires_at: created.expires_at,
    };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// Read a check. Another platform's check is `404`, as an unknown one is.
#[utoipa::path(
    get, path = "/v1/checks/{id}",
    params(("id" = String, Path, description = "The check id"), CheckQuery),
    responses(
        (status = 200, description = "The check", body = CheckResult),
        (status = 400, description = "The response code does not match", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "No such check", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    )
)]
pub(super) async fn get_check(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<CheckQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let platform = authenticate(&state, &headers).await?;
    let Query(query) = query
        .map_err(|_| ApiError::bad_request("invalid_request", "the query is not understood"))?;
    let view = state
        .verifier
        .check_for(&platform, &id, query.response_code.as_deref())
        .await?;
    let record = &view.record;
    let result = match view.status {
        CheckStatus::Completed => Some("verified"),
        CheckStatus::Failed | CheckStatus::Expired => Some("not_verified"),
        CheckStatus::Pending => None,
    };
    let pseudonym = match (&record.pseudonym, view.account) {
        (Some(sub), Some(stats)) => Some(PseudonymHistory {
            sub: sub.clone(),
            first_seen: stats.first_seen,
            last_seen: stats.last_seen,
            verifications: stats.verifications,
        }),
        _ => None,
    };
    Ok(Json(CheckResult {
        id: record.check.id.clone(),
        status: view.status.name().into(),
        checks: record
            .check
            .checks
            .iter()
            .map(|k| k.name().into())
            .collect(),
        result: result.map(str::to_owned),
        attestation: record.attestation.clone(),
        pseudonym,
        created_at: record.check.created_at,
        expires_at: record.check.expires_at,
    })
    .into_response())
}

/// The attestation signing keys (JWK Set, RFC 7517).
#[utoipa::path(
    get, path = "/.well-known/jwks.json", security(()),
    responses((status = 200, description = "JWK Set", content_type = "application/json"))
)]
pub(super) async fn jwks(State(state): State<AppState>) -> Response {
    Json(state.verifier.jwks()).into_response()
}

/// `GET /openapi.json`.
pub(super) async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}
