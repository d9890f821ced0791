//! Token Endpoint (OpenID4VCI 1.0 §6), Nonce Endpoint (§7) and Credential Endpoint (§8)
//! messages.

use super::{AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_CODE_GRANT};
use crate::jose::Jwk;
use crate::messages::{
    FormParams, MessageError, check_error_chars, check_non_empty, check_non_empty_str,
    check_unique_non_empty, form_encode, parse_json, to_json,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A Token Request (§6.1, RFC 6749 §4.1.3), sent as `application/x-www-form-urlencoded`.
/// Its `Debug` names the grant only: codes, `tx_code` and PKCE verifiers are secrets.
#[derive(Clone, PartialEq, Eq)]
pub enum TokenRequest {
    /// `grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code`.
    PreAuthorizedCode {
        /// `pre-authorized_code`.
        pre_authorized_code: String,
        /// `tx_code`: required when the offer had a `tx_code` object.
        tx_code: Option<String>,
        /// `client_id`, absent for anonymous access.
        client_id: Option<String>,
    },
    /// `grant_type=authorization_code`.
    AuthorizationCode {
        /// `code`.
        code: String,
        /// `redirect_uri`, when the Authorization Request had one.
        redirect_uri: Option<String>,
        /// `code_verifier` (PKCE, RFC 7636).
        code_verifier: Option<String>,
        /// `client_id`.
        client_id: Option<String>,
    },
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenRequest::PreAuthorizedCode { tx_code, .. } => f
                .debug_struct("TokenRequest::PreAuthorizedCode")
                .field("has_tx_code", &tx_code.is_some())
                .finish_non_exhaustive(),
            TokenRequest::AuthorizationCode { .. } => f
                .debug_struct("TokenRequest::AuthorizationCode")
                .finish_non_exhaustive(),
        }
    }
}

impl TokenRequest {
    /// Decodes a form-encoded Token Request body. Unknown parameters are ignored (§6.1);
    /// repeated ones are refused (RFC 6749 §3.2).
    pub fn parse_form(body: &str) -> crate::Result<TokenRequest> {
        let mut params = FormParams::parse(body)?;
        let grant_type = params
            .take("grant_type")
            .ok_or(MessageError::MissingParameter("grant_type"))?;
        let client_id = params.take("client_id");
        if client_id.as_deref() == Some("") {
            return Err(MessageError::InvalidParameter("client_id").into());
        }
        match grant_type.as_str() {
            PRE_AUTHORIZED_CODE_GRANT => {
                let pre_authorized_code = params
                    .take("pre-authorized_code")
                    .ok_or(MessageError::MissingParameter("pre-authorized_code"))?;
                check_non_empty_str(&pre_authorized_code, "pre-authorized_code")?;
                Ok(TokenRequest::PreAuthorizedCode {
                    pre_authorized_code,
                    tx_code: params.take("tx_code"),
                    client_id,
                })
            }
            AUTHORIZATION_CODE_GRANT => {
                // §6.1: tx_code MUST only be used with the Pre-Authorized Code grant.
                if params.contains("tx_code") {
                    return Err(MessageError::InvalidParameter("tx_code").into());
                }
                let code = params
                    .take("code")
                    .ok_or(MessageError::MissingParameter("code"))?;
                check_non_empty_str(&code, "code")?;
                Ok(TokenRequest::AuthorizationCode {
                    code,
                    redirect_uri: params.take("redirect_uri"),
                    code_verifier: params.take("code_verifier"),
                    client_id,
                })
            }
            _ => Err(MessageError::UnsupportedGrantType.into()),
        }
    }

    /// Encodes the request as a form body.
    pub fn to_form(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        match self {
            TokenRequest::PreAuthorizedCode {
                pre_authorized_code,
                tx_code,
                client_id,
            } => {
                pairs.push(("grant_type", PRE_AUTHORIZED_CODE_GRANT));
                pairs.push(("pre-authorized_code", pre_authorized_code));
                if let Some(tx_code) = tx_code {
                    pairs.push(("tx_code", tx_code));
                }
                if let Some(client_id) = client_id {
                    pairs.push(("client_id", client_id));
                }
            }
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
                client_id,
            } => {
                pairs.push(("grant_type", AUTHORIZATION_CODE_GRANT));
                pairs.push(("code", code));
                if let Some(redirect_uri) = redirect_uri {
                    pairs.push(("redirect_uri", redirect_uri));
                }
                if let Some(code_verifier) = code_verifier {
                    pairs.push(("code_verifier", code_verifier));
                }
                if let Some(client_id) = client_id {
                    pairs.push(("client_id", client_id));
                }
            }
        }
        form_encode(pairs)
    }
}

/// A successful Token Response (§6.2, RFC 6749 §5.1). Its `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawTokenResponse", into = "RawTokenResponse")]
pub struct TokenResponse(RawTokenResponse);

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.0.token_type)
            .field("expires_in", &self.0.expires_in)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
struct RawTokenResponse {
    access_token: String,
    token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorization_details: Option<Vec<AuthorizationDetail>>,
}

/// An `authorization_details` entry of type `openid_credential` in a Token Response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationDetail {
    /// Always `openid_credential`.
    #[serde(rename = "type")]
    pub detail_type: String,
    /// The configuration the identifiers belong to.
    pub credential_configuration_id: String,
    /// The Credential Dataset identifiers to use in Credential Requests (non-empty).
    pub credential_identifiers: Vec<String>,
}

impl TokenResponse {
    /// A Token Response.
    pub fn new(
        access_token: impl Into<String>,
        token_type: impl Into<String>,
        expires_in: Option<u64>,
        authorization_details: Option<Vec<AuthorizationDetail>>,
    ) -> Result<TokenResponse, MessageError> {
        TokenResponse::try_from(RawTokenResponse {
            access_token: access_token.into(),
            token_type: token_type.into(),
            expires_in,
            authorization_details,
        })
    }
    /// Decodes a Token Response. Unknown parameters are ignored.
    pub fn parse(json: &[u8]) -> crate::Result<TokenResponse> {
        let raw: RawTokenResponse = parse_json(json)?;
        Ok(TokenResponse::try_from(raw)?)
    }
    /// The response as JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
    /// `access_token`.
    pub fn access_token(&self) -> &str {
        &self.0.access_token
    }
    /// `token_type` (`Bearer` or `DPoP`).
    pub fn token_type(&self) -> &str {
        &self.0.token_type
    }
    /// `expires_in`, in seconds.
    pub fn expires_in(&self) -> Option<u64> {
        self.0.expires_in
    }
    /// `authorization_details`.
    pub fn authorization_details(&self) -> Option<&[AuthorizationDetail]> {
        self.0.authorization_details.as_deref()
    }
}

impl TryFrom<RawTokenResponse> for TokenResponse {
    type Error = MessageError;
    fn try_from(raw: RawTokenResponse) -> Result<TokenResponse, MessageError> {
        check_non_empty_str(&raw.access_token, "access_token")?;
        check_non_empty_str(&raw.token_type, "token_type")?;
        if let Some(details) = &raw.authorization_details {
            check_non_empty(details, "authorization_details")?;
            for detail in details {
                if detail.detail_type != "openid_credential" {
                    return Err(MessageError::InvalidParameter("authorization_details.type"));
                }
                check_unique_non_empty(&detail.credential_identifiers, "credential_identifiers")?;
            }
        }
        Ok(TokenResponse(raw))
    }
}

impl From<TokenResponse> for RawTokenResponse {
    fn from(response: TokenResponse) -> RawTokenResponse {
        response.0
    }
}

/// Error codes of the Token Endpoint (RFC 6749 §5.2, clarified in §6.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenErrorCode {
    /// `invalid_request` (for example a missing or unexpected `tx_code`).
    InvalidRequest,
    /// `invalid_client` (for example anonymous access not supported).
    InvalidClient,
    /// `invalid_grant` (wrong `tx_code`, wrong or expired Pre-Authorized Code).
    InvalidGrant,
    /// `unauthorized_client`.
    UnauthorizedClient,
    /// `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `invalid_scope`.
    InvalidScope,
    /// Another (extension) error code.
    Other(String),
}

impl TokenErrorCode {
    /// The code as written in `error`.
    pub fn as_str(&self) -> &str {
        match self {
            TokenErrorCode::InvalidRequest => "invalid_request",
            TokenErrorCode::InvalidClient => "invalid_client",
            TokenErrorCode::InvalidGrant => "invalid_grant",
            TokenErrorCode::UnauthorizedClient => "unauthorized_client",
            TokenErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            TokenErrorCode::InvalidScope => "invalid_scope",
            TokenErrorCode::Other(code) => code,
        }
    }

    fn from_code(code: String) -> TokenErrorCode {
        match code.as_str() {
            "invalid_request" => TokenErrorCode::InvalidRequest,
            "invalid_client" => TokenErrorCode::InvalidClient,
            "invalid_grant" => TokenErrorCode::InvalidGrant,
            "unauthorized_client" => TokenErrorCode::UnauthorizedClient,
            "unsupported_grant_type" => TokenErrorCode::UnsupportedGrantType,
            "invalid_scope" => TokenErrorCode::InvalidScope,
            _ => TokenErrorCode::Other(code),
        }
    }
}

/// A Token Error Response (§6.3, RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawError", into = "RawError")]
pub struct OAuthErrorResponse {
    error: TokenErrorCode,
    error_description: Option<String>,
}

impl OAuthErrorResponse {
    /// An error response; `error_description` must use the RFC 6749 character set.
    pub fn new(
        error: TokenErrorCode,
        error_description: Option<String>,
    ) -> Result<OAuthErrorResponse, MessageError> {
        OAuthErrorResponse::try_from(RawError {
            error: error.as_str().to_owned(),
            error_description,
        })
    }
    /// Decodes a Token Error Response.
    pub fn parse(json: &[u8]) -> crate::Result<OAuthErrorResponse> {
        let raw: RawError = parse_json(json)?;
        Ok(OAuthErrorResponse::try_from(raw)?)
    }
    /// The response as JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
    /// `error`.
    pub fn error(&self) -> &TokenErrorCode {
        &self.error
    }
    /// `error_description`.
    pub fn error_description(&self) -> Option<&str> {
        self.error_description.as_deref()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RawError {
    pub(crate) error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error_description: Option<String>,
}

impl RawError {
    /// RFC 6749 §5.2: `error` and `error_description` are limited to `%x20-21 / %x23-5B /
    /// %x5D-7E`; `error` must not be empty.
    pub(crate) fn check(&self) -> Result<(), MessageError> {
        check_non_empty_str(&self.error, "error")?;
        check_error_chars(&self.error, "error")?;
        if let Some(description) = &self.error_description {
            check_error_chars(description, "error_description")?;
        }
        Ok(())
    }
}

impl TryFrom<RawError> for OAuthErrorResponse {
    type Error = MessageError;
    fn try_from(raw: RawError) -> Result<OAuthErrorResponse, MessageError> {
        raw.check()?;
        Ok(OAuthErrorResponse {
            error: TokenErrorCode::from_code(raw.error),
            error_description: raw.error_description,
        })
    }
}

impl From<OAuthErrorResponse> for RawError {
    fn from(response: OAuthErrorResponse) -> RawError {
        RawError {
            error: response.error.as_str().to_owned(),
            error_description: response.error_description,
        }
    }
}

/// A Nonce Response (§7.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawNonce", into = "RawNonce")]
pub struct NonceResponse {
    c_nonce: String,
}

#[derive(Serialize, Deserialize)]
struct RawNonce {
    c_nonce: String,
}

impl NonceResponse {
    /// A response carrying `c_nonce` (which must be unpredictable: use
    /// [`crate::crypto::random_token`]).
    pub fn new(c_nonce: impl Into<String>) -> Result<NonceResponse, MessageError> {
        NonceResponse::try_from(RawNonce {
            c_nonce: c_nonce.into(),
        })
    }
    /// Decodes a Nonce Response.
    pub fn parse(json: &[u8]) -> crate::Result<NonceResponse> {
        let raw: RawNonce = parse_json(json)?;
        Ok(NonceResponse::try_from(raw)?)
    }
    /// The response as JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
    /// `c_nonce`.
    pub fn c_nonce(&self) -> &str {
        &self.c_nonce
    }
}

impl TryFrom<RawNonce> for NonceResponse {
    type Error = MessageError;
    fn try_from(raw: RawNonce) -> Result<NonceResponse, MessageError> {
        check_non_empty_str(&raw.c_nonce, "c_nonce")?;
        Ok(NonceResponse {
            c_nonce: raw.c_nonce,
        })
    }
}

impl From<NonceResponse> for RawNonce {
    fn from(response: NonceResponse) -> RawNonce {
        RawNonce {
            c_nonce: response.c_nonce,
        }
    }
}

/// Which Credential a Credential Request asks for: exactly one of the two (§8.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialRequestTarget {
    /// `credential_configuration_id` (no `credential_identifiers` in the Token Response).
    CredentialConfigurationId(String),
    /// `credential_identifier` (from the Token Response's `authorization_details`).
    CredentialIdentifier(String),
}

/// The `proofs` of a Credential Request: exactly one proof type, a non-empty array. Only the
/// `jwt` proof type (Appendix F.1) is used by this profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proofs {
    /// `jwt`: key proof JWTs.
    Jwt(Vec<String>),
}

/// `credential_response_encryption` in a Credential Request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialResponseEncryption {
    /// The public key to encrypt the response to.
    pub jwk: Jwk,
    /// The JWE `enc` algorithm.
    pub enc: String,
    /// The JWE `zip` algorithm (absent: no compression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
}

/// A Credential Request (§8.2), unencrypted (`application/json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawCredentialRequest", into = "RawCredentialRequest")]
pub struct CredentialRequest {
    target: CredentialRequestTarget,
    proofs: Option<Proofs>,
    credential_response_encryption: Option<CredentialResponseEncryption>,
}

#[derive(Serialize, Deserialize)]
struct RawCredentialRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credential_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credential_configuration_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    proofs: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credential_response_encryption: Option<CredentialResponseEncryption>,
}

impl CredentialRequest {
    /// A Credential Request.
    pub fn new(
        target: CredentialRequestTarget,
        proofs: Option<Proofs>,
        credential_response_encryption: Option<CredentialResponseEncryption>,
    ) -> Result<CredentialRequest, MessageError> {
        if let Some(Proofs::Jwt(jwts)) = &proofs {
            check_non_empty(jwts, "proofs.jwt")?;
        }
        match &target {
            CredentialRequestTarget::CredentialConfigurationId(id) => {
                check_non_empty_str(id, "credential_configuration_id")?;
            }
            CredentialRequestTarget::CredentialIdentifier(id) => {
                check_non_empty_str(id, "credential_identifier")?;
            }
        }
        Ok(CredentialRequest {
            target,
            proofs,
            credential_response_encryption,
        })
    }
    /// Decodes a Credential Request. Unknown parameters are ignored (§8.2).
    pub fn parse(json: &[u8]) -> crate::Result<CredentialRequest> {
        let raw: RawCredentialRequest = parse_json(json)?;
        Ok(CredentialRequest::try_from(raw)?)
    }
    /// The request as JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
    /// Which Credential is requested.
    pub fn target(&self) -> &CredentialRequestTarget {
        &self.target
    }
    /// `proofs`.
    pub fn proofs(&self) -> Option<&Proofs> {
        self.proofs.as_ref()
    }
    /// `credential_response_encryption`.
    pub fn credential_response_encryption(&self) -> Option<&CredentialResponseEncryption> {
        self.credential_response_encryption.as_ref()
    }
}

impl TryFrom<RawCredentialRequest> for CredentialRequest {
    type Error = MessageError;
    fn try_from(raw: RawCredentialRequest) -> Result<CredentialRequest, MessageError> {
        let target = match (raw.credential_identifier, raw.credential_configuration_id) {
            (Some(_), Some(_)) => {
                return Err(MessageError::Conflict(
                    "credential_identifier",
                    "credential_configuration_id",
                ));
            }
            (None, None) => {
                return Err(MessageError::OneOfRequired(
                    "credential_identifier",
                    "credential_configuration_id",
                ));
            }
            (Some(id), None) => CredentialRequestTarget::CredentialIdentifier(id),
            (None, Some(id)) => CredentialRequestTarget::CredentialConfigurationId(id),
        };
        let proofs = match raw.proofs {
            None => None,
            Some(map) => {
                let mut entries = map.into_iter();
                let (Some((proof_type, value)), None) = (entries.next(), entries.next()) else {
                    return Err(MessageError::ProofTypeCount);
                };
                if proof_type != "jwt" {
                    return Err(MessageError::UnsupportedProofType);
                }
                let Value::Array(items) = value else {
                    return Err(MessageError::InvalidParameter("proofs.jwt"));
                };
                let jwts = items
                    .into_iter()
                    .map(|item| match item {
                        Value::String(jwt) if !jwt.is_empty() => Ok(jwt),
                        _ => Err(MessageError::InvalidParameter("proofs.jwt")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Some(Proofs::Jwt(jwts))
            }
        };
        CredentialRequest::new(target, proofs, raw.credential_response_encryption)
    }
}

impl From<CredentialRequest> for RawCredentialRequest {
    fn from(request: CredentialRequest) -> RawCredentialRequest {
        let (credential_identifier, credential_configuration_id) = match request.target {
            CredentialRequestTarget::CredentialIdentifier(id) => (Some(id), None),
            CredentialRequestTarget::CredentialConfigurationId(id) => (None, Some(id)),
        };
        let proofs = request.proofs.map(|Proofs::Jwt(jwts)| {
            let mut map = Map::new();
            map.insert(
                "jwt".to_owned(),
                Value::Array(jwts.into_iter().map(Value::String).collect()),
            );
            map
        });
        RawCredentialRequest {
            credential_identifier,
            credential_configuration_id,
            proofs,
            credential_response_encryption: request.credential_response_encryption,
        }
    }
}

/// One issued Credential: for SD-JWT VC, the string as issued (Appendix A.3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCredential {
    /// `credential`.
    pub credential: String,
}

/// A Credential Response (§8.3), or a Deferred Credential Response (§9.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawCredentialResponse", into = "RawCredentialResponse")]
pub enum CredentialResponse {
    /// Issued now (HTTP 200).
    Immediate {
        /// `credentials`: one or more.
        credentials: Vec<IssuedCredential>,
        /// `notification_id`.
        notification_id: Option<String>,
    },
    /// Issued later (HTTP 202).
    Deferred {
        /// `transaction_id`.
        transaction_id: String,
        /// `interval`: seconds to wait before asking the Deferred Credential Endpoint.
        interval: u64,
    },
}

#[derive(Serialize, Deserialize)]
struct RawCredentialResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credentials: Option<Vec<IssuedCredential>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    interval: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notification_id: Option<String>,
}

impl CredentialResponse {
    /// Decodes a Credential Response. Unknown parameters are ignored (§8.3).
    pub fn parse(json: &[u8]) -> crate::Result<CredentialResponse> {
        let raw: RawCredentialResponse = parse_json(json)?;
        Ok(CredentialResponse::try_from(raw)?)
    }
    /// The response as JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

impl TryFrom<RawCredentialResponse> for CredentialResponse {
    type Error = MessageError;
    fn try_from(raw: RawCredentialResponse) -> Result<CredentialResponse, MessageError> {
        match (raw.credentials, raw.transaction_id) {
            (Some(_), Some(_)) => Err(MessageError::Conflict("credentials", "transaction_id")),
            (None, None) => Err(MessageError::OneOfRequired("credentials", "transaction_id")),
            (Some(credentials), None) => {
                if raw.interval.is_some() {
                    return Err(MessageError::Conflict("credentials", "interval"));
                }
                check_non_empty(&credentials, "credentials")?;
                if credentials.iter().any(|c| c.credential.is_empty()) {
                    return Err(MessageError::InvalidParameter("credential"));
                }
                Ok(CredentialResponse::Immediate {
                    credentials,
                    notification_id: raw.notification_id,
                })
            }
            (None, Some(transaction_id)) => {
                check_non_empty_str(&transaction_id, "transaction_id")?;
                let interval = raw
                    .interval
                    .ok_or(MessageError::MissingParameter("interval"))?;
                if interval == 0 {
                    return Err(MessageError::InvalidParameter("interval"));
                }
                // §8.3: notification_id MUST NOT be used without credentials.
                if raw.notification_id.is_some() {
                    return Err(MessageError::InvalidParameter("notification_id"));
                }
                Ok(CredentialResponse::Deferred {
                    transaction_id,
                    interval,
                })
            }
        }
    }
}

impl From<CredentialResponse> for RawCredentialResponse {
    fn from(response: CredentialResponse) -> RawCredentialResponse {
        match response {
            CredentialResponse::Immediate {
                credentials,
                notification_id,
            } => RawCredentialResponse {
                credentials: Some(credentials),
                transaction_id: None,
                interval: None,
                notification_id,
            },
            CredentialResponse::Deferred {
                transaction_id,
                interval,
            } => RawCredentialResponse {
                credentials: None,
                transaction_id: Some(transaction_id),
                interval: Some(interval),
                notification_id: None,
            },
        }
    }
}

/// Error codes of the Credential Endpoint (§8.3.1.2) and Deferred Credential Endpoint (§9.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialErrorCode {
    /// `invalid_credential_request`.
    InvalidCredentialRequest,
    /// `unknown_credential_configuration`.
    UnknownCredentialConfiguration,
    /// `unknown_credential_identifier`.
    UnknownCredentialIdentifier,
    /// `invalid_proof`: missing, invalid, or without `c_nonce`.
    InvalidProof,
    /// `invalid_nonce`: a proof's `c_nonce` is invalid; fetch a new one.
    InvalidNonce,
    /// `invalid_encryption_parameters`.
    InvalidEncryptionParameters,
    /// `credential_request_denied`: unrecoverable.
    CredentialRequestDenied,
    /// `invalid_transaction_id` (Deferred Credential Endpoint).
    InvalidTransactionId,
    /// Another (extension) error code.
    Other(String),
}

impl CredentialErrorCode {
    /// The code as written in `error`.
    pub fn as_str(&self) -> &str {
        match self {
            CredentialErrorCode::InvalidCredentialRequest => "invalid_credential_request",
            CredentialErrorCode::UnknownCredentialConfiguration => {
                "unknown_credential_configuration"
            }
            CredentialErrorCode::UnknownCredentialIdentifier => "unknown_credential_identifier",
            CredentialErrorCode::InvalidProof => "invalid_proof",
            CredentialErrorCode::InvalidNonce => "invalid_nonce",
            CredentialErrorCode::InvalidEncryptionParameters => "invalid_encryption_parameters",
            CredentialErrorCode::CredentialRequestDenied => "credential_request_denied",
            CredentialErrorCode::InvalidTransactionId => "invalid_transaction_id",
            CredentialErrorCode::Other(code) => code,
        }
    }

    fn from_code(code: String) -> CredentialErrorCode {
        match code.as_str() {
            "invalid_credential_request" => CredentialErrorCode::InvalidCredentialRequest,
            "unknown_credential_configuration" => {
                CredentialErrorCode::UnknownCredentialConfiguration
            }
            "unknown_credential_identifier" => CredentialErrorCode::UnknownCredentialIdentifier,
            "invalid_proof" => CredentialErrorCode::InvalidProof,
            "invalid_nonce" => CredentialErrorCode::InvalidNonce,
            "invalid_encryption_parameters" => CredentialErrorCode::InvalidEncryptionParameters,
            "credential_request_denied" => CredentialErrorCode::CredentialRequestDenied,
            "invalid_transaction_id" => CredentialErrorCode::InvalidTransactionId,
            _ => CredentialErrorCode::Other(code),
        }
    }
}

/// A Credential Error Response (§8.3.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawError", into = "RawError")]
pub struct CredentialErrorResponse {
    error: CredentialErrorCode,
    error_description: Option<String>,
}

impl CredentialErrorResponse {
    /// An error response; `error_description` must use the allowed ASCII set.
    pub fn new(
        error: CredentialErrorCode,
        error_description: Option<String>,
    ) -> Result<CredentialErrorResponse, MessageError> {
        CredentialErrorResponse::try_from(RawError {
            error: error.as_str().to_owned(),
            error_description,
        })
    }
    /// Decodes a Credential Error Response.
    pub fn parse(json: &[u8]) -> crate::Result<CredentialErrorResponse> {
        let raw: RawError = parse_json(json)?;
        Ok(CredentialErrorResponse::try_from(raw)?)
    }
    /// The response as JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
    /// `error`.
    pub fn error(&self) -> &CredentialErrorCode {
        &self.error
    }
    /// `error_description`.
    pub fn error_description(&self) -> Option<&str> {
        self.error_description.as_deref()
    }
}

impl TryFrom<RawError> for CredentialErrorResponse {
    type Error = MessageError;
    fn try_from(raw: RawError) -> Result<CredentialErrorResponse, MessageError> {
        raw.check()?;
        Ok(CredentialErrorResponse {
            error: CredentialErrorCode::from_code(raw.error),
            error_description: raw.error_description,
        })
    }
}

impl From<CredentialErrorResponse> for RawError {
    fn from(response: CredentialErrorResponse) -> RawError {
        RawError {
            error: response.error.as_str().to_owned(),
            error_description: response.error_description,
        }
    }
}
