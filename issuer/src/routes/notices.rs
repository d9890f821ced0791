//! The person's notices of court openings: `GET /register/notices`, authenticated by a
//! presentation of this register's person attestation (`crate::notices`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use service_kit::ApiError;
use service_kit::http::NO_STORE;

use super::AppState;
use crate::Error;

/// `GET /register/notices`.
pub(super) async fn notices(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let authorization = match headers.get(header::AUTHORIZATION) {
        None => None,
        // A header that is not visible ASCII cannot be an SD-JWT presentation.
        Some(value) => Some(value.to_str().map_err(|_| {
            presentation_refused("the Authorization header is not an SD-JWT presentation")
        })?),
    };
    match state.issuer.notices_for(authorization).await {
        Ok(notices) => Ok(([NO_STORE], Json(json!({ "notices": notices }))).into_response()),
        Err(Error::InvalidPresentation(why)) => Err(presentation_refused(why)),
        Err(other) => Err(other.into()),
    }
}

/// `401 invalid_presentation` with an `SD-JWT` challenge.
fn presentation_refused(why: impl Into<std::borrow::Cow<'static, str>>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_presentation", why)
        .with_challenge(crate::notices::SCHEME)
}
