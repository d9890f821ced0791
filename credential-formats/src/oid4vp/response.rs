//! The Authorization Response (OpenID4VP 1.0 §8): the VP Token, the `direct_post` and
//! `direct_post.jwt` form bodies, the Response URI's answer and error responses.

use crate::messages::{
    FormParams, MessageError, check_error_chars, check_non_empty_str, check_url_safe, form_encode,
    parse_json, to_json,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A `vp_token` (§8.1): for each Credential Query `id`, one or more presentations. Only
/// SD-JWT VC presentations (strings) are used by this profile. Its `Debug` shows the query ids
/// and how many presentations each has, never the presentations (they carry claims).
#[derive(Clone, PartialEq, Eq)]
pub struct VpToken(Vec<(String, Vec<String>)>);

impl std::fmt::Debug for VpToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.0
                    .iter()
                    .map(|(id, presentations)| (id, presentations.len())),
            )
            .finish()
    }
}

impl VpToken {
    /// A VP Token from `(credential query id, presentations)` pairs; ids unique and
    /// non-empty, each with at least one presentation.
    pub fn new(entries: Vec<(String, Vec<String>)>) -> Result<VpToken, MessageError> {
        if entries.is_empty() {
            return Err(MessageError::EmptyArray("vp_token"));
        }
        for (i, (id, presentations)) in entries.iter().enumerate() {
            check_non_empty_str(id, "vp_token")?;
            if entries.iter().skip(i + 1).any(|(other, _)| other == id) {
                return Err(MessageError::DuplicateEntry("vp_token"));
            }
            if presentations.is_empty() {
                return Err(MessageError::EmptyArray("vp_token presentations"));
            }
            if presentations.iter().any(String::is_empty) {
                return Err(MessageError::InvalidParameter("vp_token presentations"));
            }
        }
        Ok(VpToken(entries))
    }

    /// Decodes the JSON-encoded `vp_token`.
    pub fn parse(json: &[u8]) -> crate::Result<VpToken> {
        let value: Value = parse_json(json)?;
        Ok(VpToken::from_value(value)?)
    }

    fn from_value(value: Value) -> Result<VpToken, MessageError> {
        let Value::Object(map) = value else {
            return Err(MessageError::InvalidParameter("vp_token"));
        };
        let entries = map
            .into_iter()
            .map(|(id, presentations)| {
                let Value::Array(items) = presentations else {
                    return Err(MessageError::InvalidParameter("vp_token"));
                };
                let items = items
                    .into_iter()
                    .map(|item| match item {
                        Value::String(p) => Ok(p),
                        _ => Err(MessageError::UnsupportedPresentation),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((id, items))
            })
            .collect::<Result<Vec<_>, _>>()?;
        VpToken::new(entries)
    }

    /// The VP Token as JSON.
    pub fn to_json(&self) -> String {
        let mut map = Map::new();
        for (id, presentations) in &self.0 {
            map.insert(id.clone(), Value::from(presentations.clone()));
        }
        to_json(&Value::Object(map))
    }

    /// The presentations for the Credential Query `id`.
    pub fn presentations(&self, id: &str) -> Option<&[String]> {
        self.0
            .iter()
            .find(|(query, _)| query == id)
            .map(|(_, p)| p.as_slice())
    }

    /// All entries, in order.
    pub fn entries(&self) -> &[(String, Vec<String>)] {
        &self.0
    }
}

/// The body the Wallet POSTs to the `response_uri` (§8.2, §8.3.1), form-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectPostBody {
    /// `direct_post`: `vp_token` (JSON) and `state`.
    VpToken {
        /// `vp_token`.
        vp_token: VpToken,
        /// `state`, if the request had one.
        state: Option<String>,
    },
    /// `direct_post.jwt`: `response`, a compact JWE whose payload holds the response
    /// parameters (decrypted by `crate::jose`).
    Encrypted {
        /// `response`.
        response: String,
    },
    /// An error response (sent unencrypted even under `direct_post.jwt`).
    Error(AuthorizationErrorResponse),
}

impl DirectPostBody {
    /// Decodes a form body. Exactly one of `vp_token`, `response` and `error` decides the
    /// kind; unknown parameters are ignored (§8.1).
    pub fn parse_form(body: &str) -> crate::Result<DirectPostBody> {
        let mut params = FormParams::parse(body)?;
        let state = params.take("state");
        if let Some(state) = &state {
            check_url_safe(state, "state")?;
        }
        match (
            params.take("vp_token"),
            params.take("response"),
            params.take("error"),
        ) {
            (Some(vp_token), None, None) => Ok(DirectPostBody::VpToken {
                vp_token: VpToken::parse(vp_token.as_bytes())?,
                state,
            }),
            (None, Some(response), None) => {
                if state.is_some() {
                    return Err(MessageError::Conflict("response", "state").into());
                }
                if response.split('.').count() != 5 {
                    return Err(MessageError::InvalidParameter("response").into());
                }
                Ok(DirectPostBody::Encrypted { response })
            }
            (None, None, Some(error)) => {
                Ok(DirectPostBody::Error(AuthorizationErrorResponse::new(
                    AuthorizationErrorCode::from_code(error),
                    params.take("error_description"),
                    state,
                )?))
            }
            (None, None, None) => Err(MessageError::MissingParameter("vp_token").into()),
            _ => Err(MessageError::Conflict("vp_token", "response").into()),
        }
    }

    /// The JWE plaintext of a `direct_post.jwt` response (§8.3): the response parameters
    /// `vp_token` and, if the request had one, `state`, as a JSON object. The Wallet encrypts
    /// it to the Verifier's key from `client_metadata.jwks` and sends
    /// [`DirectPostBody::Encrypted`].
    pub fn encrypted_response_payload(vp_token: &VpToken, state: Option<&str>) -> String {
        let mut object = Map::new();
        let mut tokens = Map::new();
        for (id, presentations) in &vp_token.0 {
            tokens.insert(id.clone(), Value::from(presentations.clone()));
        }
        object.insert("vp_token".into(), Value::Object(tokens));
        if let Some(state) = state {
            object.insert("state".into(), Value::from(state));
        }
        to_json(&Value::Object(object))
    }

    /// Decodes the decrypted payload of a `direct_post.jwt` response (§8.3) into the
    /// [`DirectPostBody::VpToken`] it carries: a JSON object with `vp_token` (an object, not
    /// a string as in a form body) and optionally `state`.
    pub fn parse_decrypted_response(plaintext: &[u8]) -> crate::Result<DirectPostBody> {
        let mut object: Map<String, Value> = parse_json(plaintext)?;
        let state = match object.remove("state") {
            None => None,
            Some(Value::String(state)) => {
                check_url_safe(&state, "state")?;
                Some(state)
            }
            Some(_) => return Err(MessageError::InvalidParameter("state").into()),
        };
        let vp_token = object
            .remove("vp_token")
            .ok_or(MessageError::MissingParameter("vp_token"))?;
        Ok(DirectPostBody::VpToken {
            vp_token: VpToken::from_value(vp_token)?,
            state,
        })
    }

    /// Encodes the body.
    pub fn to_form(&self) -> String {
        match self {
            DirectPostBody::VpToken { vp_token, state } => {
                let json = vp_token.to_json();
                let mut pairs = vec![("vp_token", json.as_str())];
                if let Some(state) = state {
                    pairs.push(("state", state));
                }
                form_encode(pairs)
            }
            DirectPostBody::Encrypted { response } => {
                form_encode([("response", response.as_str())])
            }
            DirectPostBody::Error(error) => {
                let mut pairs = vec![("error", error.error.as_str())];
                if let Some(description) = &error.error_description {
                    pairs.push(("error_description", description));
                }
                if let Some(state) = &error.state {
                    pairs.push(("state", state));
                }
                form_encode(pairs)
            }
        }
    }
}

/// What the Response URI answers to the Wallet's POST (§8.2): optionally a `redirect_uri`
/// the Wallet must send the user agent to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseUriResponse {
    /// `redirect_uri`, carrying a fresh `response_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

impl ResponseUriResponse {
    /// Decodes the JSON answer; unknown members are ignored. A `redirect_uri` must be an
    /// absolute URI (RFC 3986 §4.3), which for us means `https`.
    pub fn parse(json: &[u8]) -> crate::Result<ResponseUriResponse> {
        let response: ResponseUriResponse = parse_json(json)?;
        if let Some(uri) = &response.redirect_uri {
            crate::messages::check_https_url(
                uri.split('#').next().unwrap_or_default(),
                crate::messages::UrlKind::Endpoint,
                "redirect_uri",
            )?;
        }
        Ok(response)
    }

    /// The answer as JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

/// Error codes of the Authorization Error Response (§8.5, RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationErrorCode {
    /// `invalid_request`.
    InvalidRequest,
    /// `invalid_client`.
    InvalidClient,
    /// `invalid_scope`.
    InvalidScope,
    /// `access_denied`: no matching credential, no consent, or authentication failed.
    AccessDenied,
    /// `vp_formats_not_supported`.
    VpFormatsNotSupported,
    /// `invalid_request_uri_method`.
    InvalidRequestUriMethod,
    /// `invalid_transaction_data`.
    InvalidTransactionData,
    /// `wallet_unavailable`.
    WalletUnavailable,
    /// Another (extension) error code.
    Other(String),
}

impl AuthorizationErrorCode {
    /// The code as written in `error`.
    pub fn as_str(&self) -> &str {
        match self {
            AuthorizationErrorCode::InvalidRequest => "invalid_request",
            AuthorizationErrorCode::InvalidClient => "invalid_client",
            AuthorizationErrorCode::InvalidScope => "invalid_scope",
            AuthorizationErrorCode::AccessDenied => "access_denied",
            AuthorizationErrorCode::VpFormatsNotSupported => "vp_formats_not_supported",
            AuthorizationErrorCode::InvalidRequestUriMethod => "invalid_request_uri_method",
            AuthorizationErrorCode::InvalidTransactionData => "invalid_transaction_data",
            AuthorizationErrorCode::WalletUnavailable => "wallet_unavailable",
            AuthorizationErrorCode::Other(code) => code,
        }
    }

    fn from_code(code: String) -> AuthorizationErrorCode {
        match code.as_str() {
            "invalid_request" => AuthorizationErrorCode::InvalidRequest,
            "invalid_client" => AuthorizationErrorCode::InvalidClient,
            "invalid_scope" => AuthorizationErrorCode::InvalidScope,
            "access_denied" => AuthorizationErrorCode::AccessDenied,
            "vp_formats_not_supported" => AuthorizationErrorCode::VpFormatsNotSupported,
            "invalid_request_uri_method" => AuthorizationErrorCode::InvalidRequestUriMethod,
            "invalid_transaction_data" => AuthorizationErrorCode::InvalidTransactionData,
            "wallet_unavailable" => AuthorizationErrorCode::WalletUnavailable,
            _ => AuthorizationErrorCode::Other(code),
        }
    }
}

/// An Authorization Error Response (§8.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationErrorResponse {
    error: AuthorizationErrorCode,
    error_description: Option<String>,
    state: Option<String>,
}

impl AuthorizationErrorResponse {
    /// An error response; `error` and `error_description` use the RFC 6749 character set.
    pub fn new(
        error: AuthorizationErrorCode,
        error_description: Option<String>,
        state: Option<String>,
    ) -> Result<AuthorizationErrorResponse, MessageError> {
        check_non_empty_str(error.as_str(), "error")?;
        check_error_chars(error.as_str(), "error")?;
        if let Some(description) = &error_description {
            check_error_chars(description, "error_description")?;
        }
        Ok(AuthorizationErrorResponse {
            error,
            error_description,
            state,
        })
    }
    /// `error`.
    pub fn error(&self) -> &AuthorizationErrorCode {
        &self.error
    }
    /// `error_description`.
    pub fn error_description(&self) -> Option<&str> {
        self.error_description.as_deref()
    }
    /// `state`.
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }
}
