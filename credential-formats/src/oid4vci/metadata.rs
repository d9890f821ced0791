//! Credential Issuer Metadata (OpenID4VCI 1.0 §12.2, Appendix A.3) and the subset of OAuth
//! Authorization Server Metadata (RFC 8414, §12.3) the Wallet uses.

use super::FORMAT_DC_SD_JWT;
use crate::claims_path::{ClaimsPath, PathElement};
use crate::messages::{
    MessageError, UrlKind, check_https_url, check_non_empty, check_unique_non_empty, parse_json,
    to_json,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Credential Issuer Metadata (§12.2.4), for an issuer of SD-JWT VCs (`dc+sd-jwt`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    try_from = "RawIssuerMetadata<RawConfiguration>",
    into = "RawIssuerMetadata<CredentialConfiguration>"
)]
pub struct CredentialIssuerMetadata(RawIssuerMetadata<CredentialConfiguration>);

// Generic over the configuration type so that decoding sees raw configurations and each of
// their rules keeps its own error variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RawIssuerMetadata<C> {
    credential_issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorization_servers: Option<Vec<String>>,
    credential_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deferred_credential_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notification_endpoint: Option<String>,
    // Request encryption is not used by this profile; kept opaque so metadata that offers it
    // still reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credential_request_encryption: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credential_response_encryption: Option<CredentialResponseEncryptionMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    batch_credential_issuance: Option<BatchCredentialIssuance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display: Option<Vec<IssuerDisplay>>,
    credential_configurations_supported: BTreeMap<String, C>,
}

/// `credential_response_encryption` in Credential Issuer Metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialResponseEncryptionMetadata {
    /// JWE `alg` values supported (non-empty).
    pub alg_values_supported: Vec<String>,
    /// JWE `enc` values supported (non-empty).
    pub enc_values_supported: Vec<String>,
    /// JWE `zip` values supported (non-empty if present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_values_supported: Option<Vec<String>>,
    /// Whether every Credential Response is encrypted.
    pub encryption_required: bool,
}

/// `batch_credential_issuance`: the issuer accepts up to `batch_size` (≥ 2) proofs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchCredentialIssuance {
    /// The maximum number of proofs in one Credential Request.
    pub batch_size: u32,
}

/// A `display` entry of the Credential Issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerDisplay {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// BCP 47 language tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Logo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Logo>,
}

/// A logo (`uri` required; any scheme, the Wallet decides which to fetch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logo {
    /// Where the logo is.
    pub uri: String,
    /// Alternative text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<String>,
}

/// A background image (`uri` required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackgroundImage {
    /// Where the image is.
    pub uri: String,
}

/// One entry of `credential_configurations_supported`, in the SD-JWT VC profile
/// (Appendix A.3.2: `format` is `dc+sd-jwt` and `vct` is a member of the configuration itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawConfiguration", into = "RawConfiguration")]
pub struct CredentialConfiguration(RawConfiguration);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RawConfiguration {
    format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vct: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credential_signing_alg_values_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cryptographic_binding_methods_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    proof_types_supported: Option<BTreeMap<String, ProofTypeMetadata>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credential_metadata: Option<CredentialMetadata>,
}

/// Metadata of one proof type in `proof_types_supported`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofTypeMetadata {
    /// Algorithms the issuer accepts for this proof type (non-empty).
    pub proof_signing_alg_values_supported: Vec<String>,
    /// Present when the issuer requires key attestations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_attestations_required: Option<KeyAttestationsRequired>,
}

/// `key_attestations_required` (§12.2.4, Appendix D.2 values).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttestationsRequired {
    /// Accepted `key_storage` levels (non-empty if present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_storage: Option<Vec<String>>,
    /// Accepted `user_authentication` levels (non-empty if present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_authentication: Option<Vec<String>>,
}

/// `credential_metadata`: display and claims information of a configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialMetadata {
    /// Display properties per language (non-empty if present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Vec<CredentialDisplay>>,
    /// Claims description objects (non-empty if present; Appendix E.2, E.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimDescription>>,
}

/// A `display` entry of a Credential Configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialDisplay {
    /// Display name (required).
    pub name: String,
    /// BCP 47 language tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Logo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Logo>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// CSS colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// Background image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_image: Option<BackgroundImage>,
    /// CSS colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_color: Option<String>,
}

/// A claims description object for Issuer Metadata (Appendix E.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimDescription {
    /// The claim's path (a non-empty claims path pointer).
    pub path: ClaimsPath,
    /// Whether the issuer always includes the claim (absent means `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandatory: Option<bool>,
    /// Display properties per language (non-empty if present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Vec<ClaimDisplay>>,
}

/// A `display` entry of a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimDisplay {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// BCP 47 language tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

impl CredentialIssuerMetadata {
    /// Decodes Credential Issuer Metadata (the unsigned `application/json` form) and checks the
    /// rules of §12.2.4 and Appendix A.3.2.
    pub fn parse(json: &[u8]) -> crate::Result<CredentialIssuerMetadata> {
        let raw: RawIssuerMetadata<RawConfiguration> = parse_json(json)?;
        Ok(CredentialIssuerMetadata::try_from(raw)?)
    }

    /// The metadata as JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// Checks `credential_issuer` against the identifier the metadata was fetched for, by
    /// simple string comparison (§12.2.4): otherwise the metadata must not be used.
    pub fn check_issuer(&self, expected: &str) -> Result<(), MessageError> {
        if self.0.credential_issuer == expected {
            Ok(())
        } else {
            Err(MessageError::InvalidParameter("credential_issuer"))
        }
    }

    /// `credential_issuer`.
    pub fn credential_issuer(&self) -> &str {
        &self.0.credential_issuer
    }
    /// `authorization_servers`.
    pub fn authorization_servers(&self) -> Option<&[String]> {
        self.0.authorization_servers.as_deref()
    }
    /// `credential_endpoint`.
    pub fn credential_endpoint(&self) -> &str {
        &self.0.credential_endpoint
    }
    /// `nonce_endpoint`.
    pub fn nonce_endpoint(&self) -> Option<&str> {
        self.0.nonce_endpoint.as_deref()
    }
    /// `deferred_credential_endpoint`.
    pub fn deferred_credential_endpoint(&self) -> Option<&str> {
        self.0.deferred_credential_endpoint.as_deref()
    }
    /// `notification_endpoint`.
    pub fn notification_endpoint(&self) -> Option<&str> {
        self.0.notification_endpoint.as_deref()
    }
    /// `credential_response_encryption`.
    pub fn credential_response_encryption(&self) -> Option<&CredentialResponseEncryptionMetadata> {
        self.0.credential_response_encryption.as_ref()
    }
    /// `batch_credential_issuance`.
    pub fn batch_credential_issuance(&self) -> Option<BatchCredentialIssuance> {
        self.0.batch_credential_issuance
    }
    /// `display`.
    pub fn display(&self) -> Option<&[IssuerDisplay]> {
        self.0.display.as_deref()
    }
    /// `credential_configurations_supported`, by Credential Configuration Identifier.
    pub fn credential_configurations_supported(
        &self,
    ) -> &BTreeMap<String, CredentialConfiguration> {
        &self.0.credential_configurations_supported
    }
    /// The configuration with identifier `id`.
    pub fn credential_configuration(&self, id: &str) -> Option<&CredentialConfiguration> {
        self.0.credential_configurations_supported.get(id)
    }
}

impl CredentialConfiguration {
    /// `format` (always `dc+sd-jwt`).
    pub fn format(&self) -> &str {
        &self.0.format
    }
    /// `vct`.
    pub fn vct(&self) -> &str {
        self.0.vct.as_deref().unwrap_or_default()
    }
    /// `scope`.
    pub fn scope(&self) -> Option<&str> {
        self.0.scope.as_deref()
    }
    /// `credential_signing_alg_values_supported`.
    pub fn credential_signing_alg_values_supported(&self) -> Option<&[String]> {
        self.0.credential_signing_alg_values_supported.as_deref()
    }
    /// `cryptographic_binding_methods_supported` (absent: no key binding).
    pub fn cryptographic_binding_methods_supported(&self) -> Option<&[String]> {
        self.0.cryptographic_binding_methods_supported.as_deref()
    }
    /// `proof_types_supported`.
    pub fn proof_types_supported(&self) -> Option<&BTreeMap<String, ProofTypeMetadata>> {
        self.0.proof_types_supported.as_ref()
    }
    /// `credential_metadata`.
    pub fn credential_metadata(&self) -> Option<&CredentialMetadata> {
        self.0.credential_metadata.as_ref()
    }
}

impl TryFrom<RawIssuerMetadata<RawConfiguration>> for CredentialIssuerMetadata {
    type Error = MessageError;
    fn try_from(
        raw: RawIssuerMetadata<RawConfiguration>,
    ) -> Result<CredentialIssuerMetadata, MessageError> {
        check_https_url(
            &raw.credential_issuer,
            UrlKind::Identifier,
            "credential_issuer",
        )?;
        if let Some(servers) = &raw.authorization_servers {
            check_unique_non_empty(servers, "authorization_servers")?;
            for server in servers {
                check_https_url(server, UrlKind::Identifier, "authorization_servers")?;
            }
        }
        check_https_url(
            &raw.credential_endpoint,
            UrlKind::Endpoint,
            "credential_endpoint",
        )?;
        for (url, field) in [
            (&raw.nonce_endpoint, "nonce_endpoint"),
            (
                &raw.deferred_credential_endpoint,
                "deferred_credential_endpoint",
            ),
            (&raw.notification_endpoint, "notification_endpoint"),
        ] {
            if let Some(url) = url {
                check_https_url(url, UrlKind::Endpoint, field)?;
            }
        }
        if let Some(enc) = &raw.credential_response_encryption {
            check_non_empty(&enc.alg_values_supported, "alg_values_supported")?;
            check_non_empty(&enc.enc_values_supported, "enc_values_supported")?;
            if let Some(zip) = &enc.zip_values_supported {
                check_non_empty(zip, "zip_values_supported")?;
            }
        }
        if raw
            .batch_credential_issuance
            .is_some_and(|batch| batch.batch_size < 2)
        {
            return Err(MessageError::BatchSizeTooSmall);
        }
        if let Some(display) = &raw.display {
            check_non_empty(display, "display")?;
            check_unique_locales(display.iter().map(|d| d.locale.as_deref()))?;
        }
        if raw.credential_configurations_supported.is_empty() {
            return Err(MessageError::EmptyArray(
                "credential_configurations_supported",
            ));
        }
        let configurations = raw
            .credential_configurations_supported
            .into_iter()
            .map(|(id, configuration)| Ok((id, CredentialConfiguration::try_from(configuration)?)))
            .collect::<Result<BTreeMap<_, _>, MessageError>>()?;
        Ok(CredentialIssuerMetadata(RawIssuerMetadata {
            credential_issuer: raw.credential_issuer,
            authorization_servers: raw.authorization_servers,
            credential_endpoint: raw.credential_endpoint,
            nonce_endpoint: raw.nonce_endpoint,
            deferred_credential_endpoint: raw.deferred_credential_endpoint,
            notification_endpoint: raw.notification_endpoint,
            credential_request_encryption: raw.credential_request_encryption,
            credential_response_encryption: raw.credential_response_encryption,
            batch_credential_issuance: raw.batch_credential_issuance,
            display: raw.display,
            credential_configurations_supported: configurations,
        }))
    }
}

impl From<CredentialIssuerMetadata> for RawIssuerMetadata<CredentialConfiguration> {
    fn from(metadata: CredentialIssuerMetadata) -> RawIssuerMetadata<CredentialConfiguration> {
        metadata.0
    }
}

impl TryFrom<RawConfiguration> for CredentialConfiguration {
    type Error = MessageError;
    fn try_from(raw: RawConfiguration) -> Result<CredentialConfiguration, MessageError> {
        if raw.format != FORMAT_DC_SD_JWT {
            return Err(MessageError::UnsupportedFormat);
        }
        match &raw.vct {
            None => return Err(MessageError::MissingParameter("vct")),
            Some(vct) if vct.is_empty() => return Err(MessageError::InvalidParameter("vct")),
            Some(_) => {}
        }
        if let Some(algs) = &raw.credential_signing_alg_values_supported {
            check_non_empty(algs, "credential_signing_alg_values_supported")?;
        }
        if let Some(methods) = &raw.cryptographic_binding_methods_supported {
            check_non_empty(methods, "cryptographic_binding_methods_supported")?;
        }
        // §12.2.4: proof_types_supported MUST be present iff binding methods are.
        match (
            &raw.cryptographic_binding_methods_supported,
            &raw.proof_types_supported,
        ) {
            (Some(_), None) => return Err(MessageError::MissingParameter("proof_types_supported")),
            (None, Some(_)) => {
                return Err(MessageError::MissingParameter(
                    "cryptographic_binding_methods_supported",
                ));
            }
            _ => {}
        }
        if let Some(types) = &raw.proof_types_supported {
            if types.is_empty() {
                return Err(MessageError::EmptyArray("proof_types_supported"));
            }
            for proof_type in types.values() {
                check_non_empty(
                    &proof_type.proof_signing_alg_values_supported,
                    "proof_signing_alg_values_supported",
                )?;
                if let Some(required) = &proof_type.key_attestations_required {
                    if let Some(levels) = &required.key_storage {
                        check_non_empty(levels, "key_storage")?;
                    }
                    if let Some(levels) = &required.user_authentication {
                        check_non_empty(levels, "user_authentication")?;
                    }
                }
            }
        }
        if let Some(metadata) = &raw.credential_metadata {
            if let Some(display) = &metadata.display {
                check_non_empty(display, "display")?;
                check_unique_locales(display.iter().map(|d| d.locale.as_deref()))?;
            }
            if let Some(claims) = &metadata.claims {
                check_non_empty(claims, "claims")?;
                check_claims_descriptions(claims)?;
            }
        }
        Ok(CredentialConfiguration(raw))
    }
}

impl From<CredentialConfiguration> for RawConfiguration {
    fn from(configuration: CredentialConfiguration) -> RawConfiguration {
        configuration.0
    }
}

fn check_unique_locales<'a>(
    locales: impl Iterator<Item = Option<&'a str>>,
) -> Result<(), MessageError> {
    let mut seen: Vec<Option<&str>> = Vec::new();
    for locale in locales {
        if seen.contains(&locale) {
            return Err(MessageError::DuplicateEntry("display locale"));
        }
        seen.push(locale);
    }
    Ok(())
}

/// Appendix E.3: processing aborts when two claims description objects address the same
/// claim, when one addresses all elements of an array (`null`) and another one element of it,
/// or when one treats a claim as an array and another as an object.
fn check_claims_descriptions(claims: &[ClaimDescription]) -> Result<(), MessageError> {
    for (i, a) in claims.iter().enumerate() {
        if let Some(display) = &a.display {
            check_non_empty(display, "claims display")?;
            check_unique_locales(display.iter().map(|d| d.locale.as_deref()))?;
        }
        for b in claims.iter().skip(i + 1) {
            if a.path == b.path || paths_conflict(a.path.elements(), b.path.elements()) {
                return Err(MessageError::ContradictoryClaims);
            }
        }
    }
    Ok(())
}

fn paths_conflict(a: &[PathElement], b: &[PathElement]) -> bool {
    for (x, y) in a.iter().zip(b) {
        match (x, y) {
            (PathElement::Key(p), PathElement::Key(q)) if p == q => continue,
            (PathElement::Index(p), PathElement::Index(q)) if p == q => continue,
            (PathElement::AllElements, PathElement::AllElements) => continue,
            // Two different members or two different indexes: separate claims.
            (PathElement::Key(_), PathElement::Key(_))
            | (PathElement::Index(_), PathElement::Index(_)) => return false,
            // `null` against an index into the same array; or array against object.
            _ => return true,
        }
    }
    false
}

/// The OAuth 2.0 Authorization Server Metadata the Wallet uses (RFC 8414 §2 subset, and
/// OpenID4VCI §12.3). Other members are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawAsMetadata", into = "RawAsMetadata")]
pub struct AuthorizationServerMetadata(RawAsMetadata);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct RawAsMetadata {
    issuer: String,
    token_endpoint: String,
    #[serde(
        rename = "pre-authorized_grant_anonymous_access_supported",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pre_authorized_grant_anonymous_access_supported: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    grant_types_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_signing_alg_values_supported: Option<Vec<String>>,
}

impl AuthorizationServerMetadata {
    /// Decodes Authorization Server Metadata.
    pub fn parse(json: &[u8]) -> crate::Result<AuthorizationServerMetadata> {
        let raw: RawAsMetadata = parse_json(json)?;
        Ok(AuthorizationServerMetadata::try_from(raw)?)
    }

    /// Metadata for an Authorization Server at `issuer` with the given Token Endpoint.
    pub fn new(
        issuer: impl Into<String>,
        token_endpoint: impl Into<String>,
        pre_authorized_grant_anonymous_access_supported: bool,
        grant_types_supported: Option<Vec<String>>,
        dpop_signing_alg_values_supported: Option<Vec<String>>,
    ) -> Result<AuthorizationServerMetadata, MessageError> {
        AuthorizationServerMetadata::try_from(RawAsMetadata {
            issuer: issuer.into(),
            token_endpoint: token_endpoint.into(),
            pre_authorized_grant_anonymous_access_supported: Some(
                pre_authorized_grant_anonymous_access_supported,
            ),
            grant_types_supported,
            dpop_signing_alg_values_supported,
        })
    }

    /// The metadata as JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
    /// `issuer`.
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }
    /// `token_endpoint`.
    pub fn token_endpoint(&self) -> &str {
        &self.0.token_endpoint
    }
    /// `pre-authorized_grant_anonymous_access_supported` (default `false`).
    pub fn pre_authorized_grant_anonymous_access_supported(&self) -> bool {
        self.0
            .pre_authorized_grant_anonymous_access_supported
            .unwrap_or(false)
    }
    /// `grant_types_supported` (RFC 8414 default: `authorization_code`, `implicit`).
    pub fn grant_types_supported(&self) -> Option<&[String]> {
        self.0.grant_types_supported.as_deref()
    }
    /// `dpop_signing_alg_values_supported` (RFC 9449 §5.1).
    pub fn dpop_signing_alg_values_supported(&self) -> Option<&[String]> {
        self.0.dpop_signing_alg_values_supported.as_deref()
    }
}

impl TryFrom<RawAsMetadata> for AuthorizationServerMetadata {
    type Error = MessageError;
    fn try_from(raw: RawAsMetadata) -> Result<AuthorizationServerMetadata, MessageError> {
        check_https_url(&raw.issuer, UrlKind::Identifier, "issuer")?;
        check_https_url(&raw.token_endpoint, UrlKind::Endpoint, "token_endpoint")?;
        if let Some(grants) = &raw.grant_types_supported {
            check_non_empty(grants, "grant_types_supported")?;
        }
        if let Some(algs) = &raw.dpop_signing_alg_values_supported {
            check_non_empty(algs, "dpop_signing_alg_values_supported")?;
        }
        Ok(AuthorizationServerMetadata(raw))
    }
}

impl From<AuthorizationServerMetadata> for RawAsMetadata {
    fn from(metadata: AuthorizationServerMetadata) -> RawAsMetadata {
        metadata.0
    }
}
