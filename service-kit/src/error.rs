//! The crate's error, and the JSON error every endpoint answers with.

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::db::DbError;

/// Why a piece of service plumbing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A key file exists but cannot be used.
    #[error("key file {path}: {reason}")]
    KeyFile {
        /// The file.
        path: String,
        /// What is wrong with it (never its content).
        reason: &'static str,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The system's error.
        source: std::io::Error,
    },
    /// Key generation or a cryptographic operation failed.
    #[error(transparent)]
    Crypto(#[from] credential_formats::Error),
    /// TLS set-up failed.
    #[error("TLS: {0}")]
    Tls(&'static str),
    /// A QR code could not be made (the data is too long for any QR version).
    #[error("QR code: {0}")]
    Qr(&'static str),
}

impl From<credential_formats::JoseError> for Error {
    fn from(e: credential_formats::JoseError) -> Error {
        Error::Crypto(e.into())
    }
}

/// An error response: `{"error": "…", "error_description": "…"}`, the shape of RFC 6749
/// §5.2 that OpenID4VCI and OpenID4VP reuse, with `Cache-Control: no-store`.
///
/// Descriptions say what was wrong with the request, never echo its values; a server-side
/// failure is logged in full and answered with a bare `server_error`.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    error: Cow<'static, str>,
    description: Cow<'static, str>,
    challenge: Option<&'static str>,
}

impl ApiError {
    /// An error with this status, code and description.
    pub fn new(
        status: StatusCode,
        error: impl Into<Cow<'static, str>>,
        description: impl Into<Cow<'static, str>>,
    ) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            description: description.into(),
            challenge: None,
        }
    }

    /// `400` with this code.
    pub fn bad_request(
        error: impl Into<Cow<'static, str>>,
        description: impl Into<Cow<'static, str>>,
    ) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, error, description)
    }

    /// `401 invalid_token` with a Bearer challenge (RFC 6750 §3.1).
    pub fn unauthorized() -> ApiError {
        ApiError {
            challenge: Some("Bearer error=\"invalid_token\""),
            ..ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "a valid bearer token is required",
            )
        }
    }

    /// `401` for a request without credentials: a bare `Bearer` challenge, without an error
    /// code, as RFC 6750 §3.1 asks when the request carries no authentication.
    pub fn authentication_required() -> ApiError {
        ApiError {
            challenge: Some("Bearer"),
            ..ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "a bearer token is required",
            )
        }
    }

    /// `404 not_found`.
    pub fn not_found(description: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", description)
    }

    /// `413 invalid_request`: the body is over the endpoint's limit.
    pub fn too_large() -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "request body too large",
        )
    }

    /// `500 server_error`; `detail` goes to the log only.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "request failed on the server side");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "internal error",
        )
    }

    /// Adds a `WWW-Authenticate` challenge.
    pub fn with_challenge(mut self, challenge: &'static str) -> ApiError {
        self.challenge = Some(challenge);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error code.
    pub fn error(&self) -> &str {
        &self.error
    }

    /// The description.
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        ApiError::internal(e)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": self.error,
            "error_description": self.description,
        });
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(challenge) = self.challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}
