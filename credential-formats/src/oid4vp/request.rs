//! The Authorization Request by reference and its signed Request Object (OpenID4VP 1.0 §5,
//! RFC 9101).

use super::{ClientId, ClientIdPrefix, REQUEST_OBJECT_TYP, SELF_ISSUED_AUDIENCE, TransactionData};
use crate::crypto::{CryptoProvider, PublicKey, Signer};
use crate::dcql::DcqlQuery;
use crate::jose::{DecodedJws, Jwk, JwsHeader, X509Certificate, X509Chain, sign_compact};
use crate::messages::{
    FormParams, MessageError, UrlKind, check_https_url, check_non_empty, check_unique_non_empty,
    check_url_safe, form_encode, split_uri,
};
use crate::time::UnixTime;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Size limit of a Request Object's claims.
const MAX_REQUEST_OBJECT_LEN: usize = 256 * 1024;

/// Clock skew allowed on a Request Object's `iat`.
const MAX_SKEW: i64 = 60;

/// `request_uri_method` (§5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestUriMethod {
    /// `get`: fetch the Request Object as RFC 9101 says.
    Get,
    /// `post`: POST `wallet_metadata` and `wallet_nonce` to the Request URI (§5.10).
    Post,
}

impl RequestUriMethod {
    /// The value as written.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestUriMethod::Get => "get",
            RequestUriMethod::Post => "post",
        }
    }
}

/// An Authorization Request passing its Request Object by reference:
/// `openid4vp://?client_id=…&request_uri=…[&request_uri_method=get|post]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequestUri {
    /// `client_id`; must equal the Request Object's (§5.10.1).
    pub client_id: ClientId,
    /// `request_uri`: where the Request Object is fetched from (`https`).
    pub request_uri: String,
    /// `request_uri_method`, if given.
    pub request_uri_method: Option<RequestUriMethod>,
}

impl AuthorizationRequestUri {
    /// Reads the query of the Wallet invocation URI. A request passed by value (`request`) or
    /// as plain parameters is refused: this profile uses signed requests by reference only.
    pub fn parse(uri: &str) -> crate::Result<AuthorizationRequestUri> {
        let (_scheme, query) = split_uri(uri)?;
        let mut params = FormParams::parse(query)?;
        if params.contains("request") {
            return Err(MessageError::Conflict("request", "request_uri").into());
        }
        let client_id = params
            .take("client_id")
            .ok_or(MessageError::MissingParameter("client_id"))?;
        let client_id = ClientId::parse(&client_id)?;
        let request_uri = params
            .take("request_uri")
            .ok_or(MessageError::MissingParameter("request_uri"))?;
        check_https_url(&request_uri, UrlKind::Endpoint, "request_uri")?;
        let request_uri_method = match params.take("request_uri_method").as_deref() {
            None => None,
            Some("get") => Some(RequestUriMethod::Get),
            Some("post") => Some(RequestUriMethod::Post),
            Some(_) => return Err(MessageError::InvalidRequestUriMethod.into()),
        };
        Ok(AuthorizationRequestUri {
            client_id,
            request_uri,
            request_uri_method,
        })
    }

    /// Builds the URI against the Wallet's authorization endpoint (for example
    /// `openid4vp://`).
    pub fn to_uri(&self, authorization_endpoint: &str) -> String {
        let mut pairs = vec![
            ("client_id", self.client_id.as_str()),
            ("request_uri", self.request_uri.as_str()),
        ];
        if let Some(method) = self.request_uri_method {
            pairs.push(("request_uri_method", method.as_str()));
        }
        format!("{authorization_endpoint}?{}", form_encode(pairs))
    }
}

/// `response_mode` values this profile accepts (§8.2, §8.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// `direct_post`: the response is POSTed as a form.
    DirectPost,
    /// `direct_post.jwt`: the response is POSTed encrypted (`response` = a JWE).
    DirectPostJwt,
}

impl ResponseMode {
    /// The value as written.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::DirectPost => "direct_post",
            ResponseMode::DirectPostJwt => "direct_post.jwt",
        }
    }
}

/// The `dc+sd-jwt` entry of `vp_formats_supported` (Appendix B.3.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdJwtVcFormatParameters {
    /// `sd-jwt_alg_values`.
    #[serde(
        rename = "sd-jwt_alg_values",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sd_jwt_alg_values: Option<Vec<String>>,
    /// `kb-jwt_alg_values`.
    #[serde(
        rename = "kb-jwt_alg_values",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub kb_jwt_alg_values: Option<Vec<String>>,
}

/// `client_metadata` (§5.1): encryption keys and supported formats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientMetadata {
    /// `jwks.keys`: public encryption keys, each with a unique `kid` and an `alg`.
    pub jwks: Option<Vec<Jwk>>,
    /// `encrypted_response_enc_values_supported` (default `A128GCM`).
    pub encrypted_response_enc_values_supported: Option<Vec<String>>,
    /// `vp_formats_supported["dc+sd-jwt"]`.
    pub vp_formats_supported_sd_jwt: Option<SdJwtVcFormatParameters>,
}

impl ClientMetadata {
    fn from_value(value: Value) -> crate::Result<ClientMetadata> {
        let Value::Object(mut members) = value else {
            return Err(MessageError::InvalidParameter("client_metadata").into());
        };
        let jwks = match members.remove("jwks") {
            None => None,
            Some(jwks) => {
                let keys = match jwks {
                    Value::Object(mut set) => set.remove("keys"),
                    _ => None,
                };
                let Some(Value::Array(keys)) = keys else {
                    return Err(MessageError::InvalidParameter("jwks").into());
                };
                let keys = keys
                    .iter()
                    .map(Jwk::from_value)
                    .collect::<Result<Vec<_>, _>>()?;
                check_non_empty(&keys, "jwks.keys")?;
                let mut kids = Vec::new();
                for key in &keys {
                    // §5.1: each key has a unique kid; §8.3: alg MUST be present.
                    let kid = key.kid().ok_or(MessageError::MissingParameter("kid"))?;
                    if key.alg().is_none() {
                        return Err(MessageError::MissingParameter("alg").into());
                    }
                    if key.key_use().is_some_and(|u| u != "enc") {
                        return Err(MessageError::InvalidParameter("use").into());
                    }
                    kids.push(kid.to_owned());
                }
                check_unique_non_empty(&kids, "jwks kid")?;
                Some(keys)
            }
        };
        let encrypted_response_enc_values_supported =
            match members.remove("encrypted_response_enc_values_supported") {
                None => None,
                Some(value) => {
                    let values: Vec<String> = serde_json::from_value(value).map_err(|_| {
                        MessageError::InvalidParameter("encrypted_response_enc_values_supported")
                    })?;
                    check_non_empty(&values, "encrypted_response_enc_values_supported")?;
                    Some(values)
                }
            };
        let vp_formats_supported_sd_jwt = match members.remove("vp_formats_supported") {
            None => None,
            Some(Value::Object(mut formats)) => match formats.remove("dc+sd-jwt") {
                None => None,
                Some(value) => Some(
                    serde_json::from_value::<SdJwtVcFormatParameters>(value)
                        .map_err(|_| MessageError::InvalidParameter("vp_formats_supported"))?,
                ),
            },
            Some(_) => return Err(MessageError::InvalidParameter("vp_formats_supported").into()),
        };
        Ok(ClientMetadata {
            jwks,
            encrypted_response_enc_values_supported,
            vp_formats_supported_sd_jwt,
        })
    }

    fn to_value(&self) -> Value {
        let mut out = Map::new();
        if let Some(keys) = &self.jwks {
            let keys = keys.iter().map(Jwk::to_value).collect::<Vec<_>>();
            let mut set = Map::new();
            set.insert("keys".into(), Value::Array(keys));
            out.insert("jwks".into(), Value::Object(set));
        }
        if let Some(values) = &self.encrypted_response_enc_values_supported {
            out.insert(
                "encrypted_response_enc_values_supported".into(),
                Value::from(values.clone()),
            );
        }
        if let Some(sd_jwt) = &self.vp_formats_supported_sd_jwt {
            let mut formats = Map::new();
            formats.insert(
                "dc+sd-jwt".into(),
                serde_json::to_value(sd_jwt).unwrap_or(Value::Null),
            );
            out.insert("vp_formats_supported".into(), Value::Object(formats));
        }
        Value::Object(out)
    }
}

/// A `verifier_info` entry (§5.1, §5.11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifierInfo {
    /// `format`: the attestation's format.
    pub format: String,
    /// `data`: the attestation, an object or a string (a JWT, for example).
    pub data: Value,
    /// `credential_ids`: the credential queries it concerns (all, when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_ids: Option<Vec<String>>,
}

/// A Request Object (§5, RFC 9101) as this profile accepts it: `response_type` `vp_token`,
/// `response_mode` `direct_post` or `direct_post.jwt` with a `response_uri` (and no
/// `redirect_uri`), a `nonce`, and a `dcql_query` (never `scope`).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestObject {
    /// `client_id`.
    pub client_id: ClientId,
    /// `response_mode`.
    pub response_mode: ResponseMode,
    /// `response_uri`.
    pub response_uri: String,
    /// `nonce`: fresh, ≥ 128 bits, URL-safe characters.
    pub nonce: String,
    /// `state`.
    pub state: Option<String>,
    /// `dcql_query`: validated on decode by [`DcqlQuery::from_json`].
    pub dcql_query: DcqlQuery,
    /// `client_metadata`.
    pub client_metadata: Option<ClientMetadata>,
    /// `transaction_data`.
    pub transaction_data: Option<Vec<TransactionData>>,
    /// `verifier_info`.
    pub verifier_info: Option<Vec<VerifierInfo>>,
    /// `aud` (`https://self-issued.me/v2` under static discovery).
    pub aud: Option<String>,
    /// `iat`.
    pub iat: Option<UnixTime>,
    /// `exp`.
    pub exp: Option<UnixTime>,
    /// `wallet_nonce`, echoed from the Request URI POST (§5.10).
    pub wallet_nonce: Option<String>,
    /// `expected_origins` (Digital Credentials API only).
    pub expected_origins: Option<Vec<String>>,
}

impl RequestObject {
    /// A request for the DCQL query `dcql_query`, answered at `response_uri`.
    pub fn new(
        client_id: ClientId,
        response_mode: ResponseMode,
        response_uri: impl Into<String>,
        nonce: impl Into<String>,
        dcql_query: DcqlQuery,
    ) -> crate::Result<RequestObject> {
        let mut claims = Map::new();
        claims.insert("client_id".into(), Value::from(client_id.as_str()));
        claims.insert("response_type".into(), Value::from("vp_token"));
        claims.insert("response_mode".into(), Value::from(response_mode.as_str()));
        claims.insert("response_uri".into(), Value::from(response_uri.into()));
        claims.insert("nonce".into(), Value::from(nonce.into()));
        claims.insert("dcql_query".into(), dcql_query_value(&dcql_query)?);
        if response_mode == ResponseMode::DirectPostJwt {
            // Keys are added by the caller before signing; validate what we can now.
            let request = RequestObject::from_claims_unchecked_keys(claims)?;
            return Ok(request);
        }
        RequestObject::from_claims(claims)
    }

    /// Decodes a Request Object's claims from JSON.
    pub fn parse(json: &[u8]) -> crate::Result<RequestObject> {
        match crate::json::parse(json, MAX_REQUEST_OBJECT_LEN)? {
            Value::Object(claims) => RequestObject::from_claims(claims),
            _ => Err(MessageError::InvalidParameter("request object").into()),
        }
    }

    /// Validates a Request Object's claims: every combination rule of §5, §5.1, §5.9 and
    /// §8.2 this profile relies on. Unknown claims (and `iss`, §5) are ignored.
    pub fn from_claims(claims: Map<String, Value>) -> crate::Result<RequestObject> {
        let request = RequestObject::from_claims_unchecked_keys(claims)?;
        if request.response_mode == ResponseMode::DirectPostJwt
            && request
                .client_metadata
                .as_ref()
                .and_then(|m| m.jwks.as_ref())
                .is_none()
        {
            return Err(MessageError::MissingEncryptionKey.into());
        }
        Ok(request)
    }

    fn from_claims_unchecked_keys(mut claims: Map<String, Value>) -> crate::Result<RequestObject> {
        let client_id = ClientId::parse(&take_string(&mut claims, "client_id")?)?;
        if take_string(&mut claims, "response_type")? != "vp_token" {
            return Err(MessageError::UnsupportedResponseType.into());
        }
        let response_mode = match take_string(&mut claims, "response_mode")?.as_str() {
            "direct_post" => ResponseMode::DirectPost,
            "direct_post.jwt" => ResponseMode::DirectPostJwt,
            _ => return Err(MessageError::UnsupportedResponseMode.into()),
        };
        // §8.2: with response_uri, redirect_uri MUST NOT be present.
        if claims.contains_key("redirect_uri") {
            return Err(MessageError::Conflict("redirect_uri", "response_uri").into());
        }
        let response_uri = take_string(&mut claims, "response_uri")?;
        check_https_url(&response_uri, UrlKind::Endpoint, "response_uri")?;
        let nonce = take_string(&mut claims, "nonce")?;
        check_url_safe(&nonce, "nonce")?;
        let state = take_optional_string(&mut claims, "state")?;
        if let Some(state) = &state {
            check_url_safe(state, "state")?;
        }
        let dcql_query = match (claims.remove("dcql_query"), claims.contains_key("scope")) {
            (Some(_), true) => return Err(MessageError::Conflict("dcql_query", "scope").into()),
            (None, true) => return Err(MessageError::ScopeNotSupported.into()),
            (None, false) => return Err(MessageError::MissingParameter("dcql_query").into()),
            (Some(query @ Value::Object(_)), false) => DcqlQuery::from_json(query)?,
            (Some(_), false) => return Err(MessageError::InvalidParameter("dcql_query").into()),
        };
        let query_ids = credential_query_ids(&dcql_query);
        let client_metadata = claims
            .remove("client_metadata")
            .map(ClientMetadata::from_value)
            .transpose()?;
        let transaction_data = match claims.remove("transaction_data") {
            None => None,
            Some(Value::Array(items)) => {
                let entries = items
                    .iter()
                    .map(|item| match item {
                        Value::String(encoded) => TransactionData::decode(encoded),
                        _ => Err(MessageError::InvalidParameter("transaction_data").into()),
                    })
                    .collect::<crate::Result<Vec<_>>>()?;
                check_non_empty(&entries, "transaction_data")?;
                for entry in &entries {
                    check_known_ids(entry.credential_ids(), &query_ids)?;
                }
                Some(entries)
            }
            Some(_) => return Err(MessageError::InvalidParameter("transaction_data").into()),
        };
        let verifier_info = match claims.remove("verifier_info") {
            None => None,
            Some(value) => {
                let infos: Vec<VerifierInfo> = serde_json::from_value(value)
                    .map_err(|_| MessageError::InvalidParameter("verifier_info"))?;
                check_non_empty(&infos, "verifier_info")?;
                for info in &infos {
                    if info.format.is_empty() || !(info.data.is_object() || info.data.is_string()) {
                        return Err(MessageError::InvalidParameter("verifier_info").into());
                    }
                    if let Some(ids) = &info.credential_ids {
                        check_unique_non_empty(ids, "verifier_info.credential_ids")?;
                        check_known_ids(ids, &query_ids)?;
                    }
                }
                Some(infos)
            }
        };
        let aud = take_optional_string(&mut claims, "aud")?;
        let iat = take_optional_time(&mut claims, "iat")?;
        let exp = take_optional_time(&mut claims, "exp")?;
        let wallet_nonce = take_optional_string(&mut claims, "wallet_nonce")?;
        let expected_origins = match claims.remove("expected_origins") {
            None => None,
            Some(value) => {
                let origins: Vec<String> = serde_json::from_value(value)
                    .map_err(|_| MessageError::InvalidParameter("expected_origins"))?;
                check_non_empty(&origins, "expected_origins")?;
                Some(origins)
            }
        };
        Ok(RequestObject {
            client_id,
            response_mode,
            response_uri,
            nonce,
            state,
            dcql_query,
            client_metadata,
            transaction_data,
            verifier_info,
            aud,
            iat,
            exp,
            wallet_nonce,
            expected_origins,
        })
    }

    /// The claims of the Request Object.
    pub fn to_claims(&self) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("client_id".into(), Value::from(self.client_id.as_str()));
        out.insert("response_type".into(), Value::from("vp_token"));
        out.insert(
            "response_mode".into(),
            Value::from(self.response_mode.as_str()),
        );
        out.insert(
            "response_uri".into(),
            Value::from(self.response_uri.clone()),
        );
        out.insert("nonce".into(), Value::from(self.nonce.clone()));
        if let Some(state) = &self.state {
            out.insert("state".into(), Value::from(state.clone()));
        }
        // A DcqlQuery always serialises; Null would be refused by from_claims before signing.
        out.insert(
            "dcql_query".into(),
            dcql_query_value(&self.dcql_query).unwrap_or(Value::Null),
        );
        if let Some(metadata) = &self.client_metadata {
            out.insert("client_metadata".into(), metadata.to_value());
        }
        if let Some(entries) = &self.transaction_data {
            out.insert(
                "transaction_data".into(),
                Value::Array(
                    entries
                        .iter()
                        .map(|e| Value::from(e.encoded().to_owned()))
                        .collect(),
                ),
            );
        }
        if let Some(infos) = &self.verifier_info {
            out.insert(
                "verifier_info".into(),
                serde_json::to_value(infos).unwrap_or(Value::Null),
            );
        }
        for (name, value) in [("aud", &self.aud), ("wallet_nonce", &self.wallet_nonce)] {
            if let Some(value) = value {
                out.insert(name.into(), Value::from(value.clone()));
            }
        }
        for (name, value) in [("iat", self.iat), ("exp", self.exp)] {
            if let Some(value) = value {
                out.insert(name.into(), Value::from(value));
            }
        }
        if let Some(origins) = &self.expected_origins {
            out.insert("expected_origins".into(), Value::from(origins.clone()));
        }
        out
    }

    /// The base64url SHA-256 hash of the Verifier's leaf certificate, when `client_id` uses
    /// the `x509_hash` prefix: the key under which the trust list lists the Verifier.
    pub fn x509_hash(&self) -> Option<&str> {
        (self.client_id.prefix() == ClientIdPrefix::X509Hash).then(|| self.client_id.value())
    }

    /// §5.10.1: the `client_id` of the invocation URI and of the Request Object must be
    /// identical, prefix included.
    pub fn check_client_id(&self, uri: &AuthorizationRequestUri) -> Result<(), MessageError> {
        if self.client_id == uri.client_id {
            Ok(())
        } else {
            Err(MessageError::ClientIdMismatch)
        }
    }

    /// §5.10.1: when the Wallet POSTed a `wallet_nonce`, the Request Object must carry it.
    pub fn check_wallet_nonce(&self, sent: Option<&str>) -> Result<(), MessageError> {
        match sent {
            None => Ok(()),
            Some(sent) if self.wallet_nonce.as_deref() == Some(sent) => Ok(()),
            Some(_) => Err(MessageError::WalletNonceMismatch),
        }
    }
}

/// Signs a Request Object: header `typ: oauth-authz-req+jwt` and the `x5c` chain (base64 DER,
/// leaf first) whose leaf key is `signer`'s.
pub fn sign_request_object(
    request: &RequestObject,
    signer: &dyn Signer,
    x5c: Vec<String>,
) -> crate::Result<String> {
    check_non_empty(&x5c, "x5c")?;
    // Fields are public for building; what is signed must still be a valid request.
    RequestObject::from_claims(request.to_claims())?;
    let header = JwsHeader::new(REQUEST_OBJECT_TYP).with_x5c(x5c);
    let payload = serde_json::to_vec(&Value::Object(request.to_claims()))
        .map_err(|_| MessageError::InvalidParameter("request object"))?;
    Ok(sign_compact(&header, &payload, signer)?)
}

/// Verifies a Request Object signed under the `x509_hash` Client Identifier Prefix (HAIP 1.0,
/// OpenID4VP 1.0 §5.9.3): what the Wallet calls on the Request Object it fetched. The
/// certificate comes from the JWS header, never from the caller. Checks, in order:
///
/// 1. the header has `x5c` ([`MessageError::MissingCertificateChain`]), which decodes as a
///    certificate chain, leaf first;
/// 2. the signature verifies with the leaf certificate's public key
///    ([`JoseError::InvalidSignature`](crate::JoseError::InvalidSignature)) and `typ` is
///    `oauth-authz-req+jwt` ([`JoseError::UnexpectedType`](crate::JoseError::UnexpectedType));
/// 3. the claims are a valid Request Object (its DCQL query included);
/// 4. `client_id` has the `x509_hash` prefix ([`MessageError::WrongClientIdPrefix`]) and its
///    value is the base64url SHA-256 hash of the DER leaf, `x5c[0]`
///    ([`MessageError::X509HashMismatch`]);
/// 5. the leaf is within its validity period at `now`
///    ([`MessageError::CertificateNotValid`]) and has no unknown critical extension;
/// 6. when `trust_anchors` is given, the whole chain validates to one of them at `now`;
/// 7. `aud`, if present, is `https://self-issued.me/v2`; `exp` has not passed and `iat` is
///    not in the future.
///
/// Whether the Verifier may ask at all is the Wallet's next step: look up
/// [`RequestObject::x509_hash`] in the trust list
/// ([`TrustList::verifier_by_x509_hash`](crate::trust_list::TrustList::verifier_by_x509_hash)).
pub fn verify_request_object(
    provider: &dyn CryptoProvider,
    compact: &str,
    trust_anchors: Option<&[X509Certificate]>,
    now: UnixTime,
) -> crate::Result<RequestObject> {
    let decoded = DecodedJws::decode(compact)?;
    let chain = match decoded.header().x5c() {
        Some(x5c) if !x5c.is_empty() => X509Chain::from_x5c(x5c)?,
        _ => return Err(MessageError::MissingCertificateChain.into()),
    };
    let leaf = chain.leaf();
    let leaf_hash = leaf.x509_hash();
    let verified = decoded.verify(provider, &leaf.public_key()?, REQUEST_OBJECT_TYP)?;
    let request = RequestObject::from_claims(verified.claims(MAX_REQUEST_OBJECT_LEN)?)?;
    check_x509_hash_client_id(&request, &leaf_hash)?;
    if now < leaf.not_before() || now > leaf.not_after() {
        return Err(MessageError::CertificateNotValid.into());
    }
    chain.verify_pinned_leaf(&leaf_hash, now)?;
    if let Some(anchors) = trust_anchors {
        chain.verify(provider, anchors, now)?;
    }
    check_request_times(request, now)
}

/// The lower-level check behind [`verify_request_object`], for a caller that has already
/// taken the leaf certificate from the `x5c` header and validated it: verifies with
/// `leaf_public_key` and requires `client_id` to be `x509_hash:<leaf_x509_hash>`. The header
/// must still carry `x5c`; `aud`, `exp` and `iat` are checked as there.
pub fn verify_request_object_with_leaf_key(
    provider: &dyn CryptoProvider,
    compact: &str,
    leaf_public_key: &PublicKey,
    leaf_x509_hash: &str,
    now: UnixTime,
) -> crate::Result<RequestObject> {
    let decoded = DecodedJws::decode(compact)?;
    if decoded.header().x5c().is_none() {
        return Err(MessageError::MissingCertificateChain.into());
    }
    let verified = decoded.verify(provider, leaf_public_key, REQUEST_OBJECT_TYP)?;
    let claims = verified.claims(MAX_REQUEST_OBJECT_LEN)?;
    let request = RequestObject::from_claims(claims)?;
    check_x509_hash_client_id(&request, leaf_x509_hash)?;
    check_request_times(request, now)
}

fn check_x509_hash_client_id(request: &RequestObject, leaf_hash: &str) -> Result<(), MessageError> {
    if request.client_id.prefix() != ClientIdPrefix::X509Hash {
        return Err(MessageError::WrongClientIdPrefix);
    }
    // A public value: no need for a constant-time comparison.
    if request.client_id.value() != leaf_hash {
        return Err(MessageError::X509HashMismatch);
    }
    Ok(())
}

fn check_request_times(request: RequestObject, now: UnixTime) -> crate::Result<RequestObject> {
    if request
        .aud
        .as_deref()
        .is_some_and(|aud| aud != SELF_ISSUED_AUDIENCE)
    {
        return Err(MessageError::WrongRequestAudience.into());
    }
    if request.exp.is_some_and(|exp| now >= exp) {
        return Err(MessageError::Expired.into());
    }
    if request
        .iat
        .is_some_and(|iat| iat > now.saturating_add(MAX_SKEW))
    {
        return Err(MessageError::IssuedInFuture.into());
    }
    Ok(request)
}

/// The Credential Query ids `transaction_data` and `verifier_info` may name; unique and
/// non-empty because [`DcqlQuery`] is valid by construction (§6.1).
fn credential_query_ids(dcql_query: &DcqlQuery) -> Vec<&str> {
    dcql_query
        .credentials()
        .iter()
        .map(|c| c.id.as_str())
        .collect()
}

fn dcql_query_value(dcql_query: &DcqlQuery) -> Result<Value, MessageError> {
    serde_json::to_value(dcql_query).map_err(|_| MessageError::InvalidParameter("dcql_query"))
}

fn check_known_ids(ids: &[String], known: &[&str]) -> Result<(), MessageError> {
    if ids.iter().all(|id| known.contains(&id.as_str())) {
        Ok(())
    } else {
        Err(MessageError::UnknownCredentialQuery)
    }
}

fn take_string(claims: &mut Map<String, Value>, name: &'static str) -> crate::Result<String> {
    take_optional_string(claims, name)?.ok_or_else(|| MessageError::MissingParameter(name).into())
}

fn take_optional_string(
    claims: &mut Map<String, Value>,
    name: &'static str,
) -> crate::Result<Option<String>> {
    match claims.remove(name) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(MessageError::InvalidParameter(name).into()),
    }
}

fn take_optional_time(
    claims: &mut Map<String, Value>,
    name: &'static str,
) -> crate::Result<Option<UnixTime>> {
    match claims.remove(name) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(
            n.as_i64().ok_or(MessageError::InvalidParameter(name))?,
        )),
        Some(_) => Err(MessageError::InvalidParameter(name).into()),
    }
}
