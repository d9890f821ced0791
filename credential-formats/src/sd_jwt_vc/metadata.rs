//! JWT VC Issuer Metadata, served at `/.well-known/jwt-vc-issuer` (draft-13 §4).

use super::SdJwtVcError;
use crate::jose::Jwk;
use serde::{Deserialize, Serialize};

/// Where the issuer's keys are: inline (`jwks`) or by reference (`jwks_uri`), exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerKeys {
    /// `jwks`: the JWK Set inline.
    Jwks(Vec<Jwk>),
    /// `jwks_uri`: an `https` URL of the JWK Set.
    JwksUri(String),
}

/// JWT VC Issuer Metadata (draft-13 §4.2): `issuer` and exactly one of `jwks` or `jwks_uri`,
/// validated when decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawMetadata", into = "RawMetadata")]
pub struct JwtVcIssuerMetadata {
    issuer: String,
    keys: IssuerKeys,
}

impl JwtVcIssuerMetadata {
    /// Metadata for `issuer` (an `https` URL) with `keys`.
    pub fn new(issuer: impl Into<String>, keys: IssuerKeys) -> Result<Self, SdJwtVcError> {
        JwtVcIssuerMetadata::try_from(RawMetadata::from(JwtVcIssuerMetadata {
            issuer: issuer.into(),
            keys,
        }))
    }

    /// Parses the metadata document (strict JSON, 64 KiB at most).
    pub fn parse(json: &[u8]) -> crate::Result<JwtVcIssuerMetadata> {
        Ok(crate::json::parse_as(json, 64 * 1024)?)
    }

    /// `issuer`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `jwks` or `jwks_uri`.
    pub fn keys(&self) -> &IssuerKeys {
        &self.keys
    }

    /// Checks that this metadata is the one for a credential with `iss` (draft-13 §4.3: the
    /// `issuer` MUST be identical to `iss`).
    pub fn check_issuer(&self, iss: &str) -> Result<(), SdJwtVcError> {
        if self.issuer == iss {
            Ok(())
        } else {
            Err(SdJwtVcError::MetadataIssuerMismatch)
        }
    }
}

#[derive(Serialize, Deserialize)]
struct RawMetadata {
    issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks: Option<RawJwks>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks_uri: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct RawJwks {
    keys: Vec<Jwk>,
}

fn is_https_url(url: &str) -> bool {
    url.strip_prefix("https://")
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
}

impl TryFrom<RawMetadata> for JwtVcIssuerMetadata {
    type Error = SdJwtVcError;

    fn try_from(raw: RawMetadata) -> Result<Self, SdJwtVcError> {
        if !is_https_url(&raw.issuer) {
            return Err(SdJwtVcError::InvalidMetadata("issuer is not an https URL"));
        }
        let keys = match (raw.jwks, raw.jwks_uri) {
            (Some(jwks), None) => {
                if jwks.keys.is_empty() {
                    return Err(SdJwtVcError::InvalidMetadata("jwks has no keys"));
                }
                IssuerKeys::Jwks(jwks.keys)
            }
            (None, Some(uri)) => {
                if !is_https_url(&uri) {
                    return Err(SdJwtVcError::InvalidMetadata(
                        "jwks_uri is not an https URL",
                    ));
                }
                IssuerKeys::JwksUri(uri)
            }
            _ => {
                return Err(SdJwtVcError::InvalidMetadata(
                    "not exactly one of jwks and jwks_uri",
                ));
            }
        };
        Ok(JwtVcIssuerMetadata {
            issuer: raw.issuer,
            keys,
        })
    }
}

impl From<JwtVcIssuerMetadata> for RawMetadata {
    fn from(metadata: JwtVcIssuerMetadata) -> RawMetadata {
        let (jwks, jwks_uri) = match metadata.keys {
            IssuerKeys::Jwks(keys) => (Some(RawJwks { keys }), None),
            IssuerKeys::JwksUri(uri) => (None, Some(uri)),
        };
        RawMetadata {
            issuer: metadata.issuer,
            jwks,
            jwks_uri,
        }
    }
}
