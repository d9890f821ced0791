//! DCQL, the Digital Credentials Query Language (OpenID4VP 1.0 §6).
//!
//! A [`DcqlQuery`] is valid by construction: [`DcqlQuery::parse`], serde deserialisation and
//! [`DcqlQuery::new`] all run every rule of §6 (and the format rules of Appendix B for
//! `dc+sd-jwt`, `mso_mdoc` and the W3C formats) and refuse a query with a specific
//! [`DcqlError`]. The component types ([`CredentialQuery`], [`ClaimsQuery`], …) are plain data
//! that can only be decoded as part of a query, so no unchecked component comes from input.
//!
//! ```text
//!   verifier                        wallet                              verifier
//!   DcqlQuery ──(request)──▶ DcqlQuery::evaluate(stored) ──▶ presentations ──▶ check_presented
//!                             candidates, claims to disclose,            (does not trust the
//!                             credential sets, pre-selection              wallet, §6.4 / V7)
//! ```
//!
//! As §6 requires, unknown members are ignored everywhere ("Implementations MUST ignore any
//! unknown properties"), so the types are not `deny_unknown_fields`; unknown members are
//! dropped on decode and do not survive re-serialisation.

mod check;
mod evaluate;

#[cfg(test)]
mod tests;

pub use check::PresentedCredentials;
pub use evaluate::{
    Candidate, CredentialQueryMatch, CredentialSetMatch, CredentialView, DcqlResult, Preselected,
};

use crate::claims_path::{ClaimsPath, PathElement};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use std::collections::BTreeSet;
use thiserror::Error;

/// Credential Format Identifier of IETF SD-JWT VC (OpenID4VP 1.0 Appendix B.3).
pub const FORMAT_DC_SD_JWT: &str = "dc+sd-jwt";
/// Credential Format Identifier of ISO mdoc (OpenID4VP 1.0 Appendix B.2).
pub const FORMAT_MSO_MDOC: &str = "mso_mdoc";
/// Credential Format Identifier of a W3C VC signed as a JWT (OpenID4VP 1.0 Appendix B.1.3.1).
pub const FORMAT_JWT_VC_JSON: &str = "jwt_vc_json";
/// Credential Format Identifier of a W3C VC secured with Data Integrity (Appendix B.1.3.2).
pub const FORMAT_LDP_VC: &str = "ldp_vc";

/// Largest DCQL query text [`DcqlQuery::parse`] accepts. Real queries are a few kilobytes;
/// the bound keeps a hostile request from costing more than that.
pub const MAX_DCQL_QUERY_BYTES: usize = 64 * 1024;

/// Why a DCQL query was refused, or why presentations do not satisfy it.
///
/// Messages name the rule that was broken and, where useful, the verifier-chosen query or
/// claim identifier; never a claim value.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DcqlError {
    /// A claims path pointer (OpenID4VP 1.0 §7) is malformed.
    #[error("invalid claims path: {0}")]
    InvalidClaimsPath(&'static str),
    /// Processing a claims path pointer aborted (OpenID4VP 1.0 §7.1): a string component met
    /// an element that is not an object, or an integer or `null` component met one that is
    /// not an array.
    #[error("claims path does not fit the credential's structure")]
    ClaimsPathMismatch,
    /// Processing a claims path pointer selected no element (OpenID4VP 1.0 §7.1).
    #[error("claims path selects nothing")]
    ClaimsPathSelectsNothing,
    /// A member the specification marks REQUIRED is absent (its name).
    #[error("required member `{0}` is missing")]
    MissingMember(&'static str),
    /// An array the specification requires to be non-empty is empty (its name).
    #[error("`{0}` must be a non-empty array")]
    EmptyArray(&'static str),
    /// A Credential Query `id` is empty or has a character other than alphanumeric, `_`, `-`
    /// (§6.1).
    #[error("a credential query id is empty or has a character other than A-Z a-z 0-9 _ -")]
    InvalidCredentialQueryId,
    /// Two Credential Queries have the same `id` (§6.1).
    #[error("credential query id `{0}` is used more than once")]
    DuplicateCredentialQueryId(String),
    /// A Claims Query `id` is empty or has a character other than alphanumeric, `_`, `-`
    /// (§6.3).
    #[error("a claims query id is empty or has a character other than A-Z a-z 0-9 _ -")]
    InvalidClaimId,
    /// Two Claims Queries of one Credential Query have the same `id` (§6.3).
    #[error(
        "claims query id `{claim}` is used more than once in credential query `{credential_query}`"
    )]
    DuplicateClaimId {
        /// The Credential Query.
        credential_query: String,
        /// The repeated claims query id.
        claim: String,
    },
    /// `claim_sets` is present but a Claims Query has no `id` (§6.3).
    #[error("credential query `{0}` has claim_sets but a claims query without an id")]
    MissingClaimId(String),
    /// `claim_sets` is present without `claims` (§6.4.1).
    #[error("credential query `{0}` has claim_sets without claims")]
    ClaimSetsWithoutClaims(String),
    /// A claim set names a Claims Query `id` that is not in `claims` (§6.1).
    #[error(
        "a claim set of credential query `{credential_query}` names unknown claim id `{claim}`"
    )]
    UnknownClaimId {
        /// The Credential Query.
        credential_query: String,
        /// The unknown claims query id.
        claim: String,
    },
    /// A Credential Set Query option names a Credential Query `id` not in `credentials` (§6.2).
    #[error("a credential set option names unknown credential query id `{0}`")]
    UnknownCredentialQueryId(String),
    /// An element of `values` is not a string, an integer or a boolean (§6.3).
    #[error("a claims query `values` element is not a string, integer or boolean")]
    InvalidClaimValue,
    /// `meta` is not a JSON object (§6.1).
    #[error("`meta` must be an object")]
    MetaNotObject,
    /// `meta` lacks a format-specific member or has it in the wrong shape (Appendix B).
    #[error("`meta` for format `{format}`: {problem}")]
    InvalidMeta {
        /// The Credential Format Identifier.
        format: &'static str,
        /// What is wrong.
        problem: &'static str,
    },
    /// An mdoc claims path is not exactly `[namespace, data element identifier]` (§7.2).
    #[error("an mso_mdoc claims path must be two strings: namespace and data element")]
    InvalidMdocClaimsPath,

    // Checks of presentations against the query (verifier side, §6.4 and §8.1).
    /// The VP Token has an entry for a Credential Query id the query does not have.
    #[error("presentation for unknown credential query id `{0}`")]
    UnexpectedCredentialQueryId(String),
    /// The VP Token has an empty array for a Credential Query (§8.1: one or more).
    #[error("no presentation in the entry for credential query `{0}`")]
    NoPresentation(String),
    /// More than one presentation for a Credential Query without `multiple` (§8.1).
    #[error("several presentations for credential query `{0}`, which does not allow multiple")]
    TooManyPresentations(String),
    /// A presentation's format is not the one the Credential Query asks for.
    #[error("presentation for credential query `{0}` has the wrong format")]
    FormatMismatch(String),
    /// A presentation's credential type (`vct`, doctype, W3C type) is not one the query allows.
    #[error("presentation for credential query `{0}` has a credential type that was not requested")]
    CredentialTypeMismatch(String),
    /// Cryptographic Holder Binding was required but the presentation has none.
    #[error("presentation for credential query `{0}` lacks cryptographic holder binding")]
    HolderBindingMissing(String),
    /// A requested claim is absent from a presentation.
    #[error("presentation for credential query `{credential_query}` lacks claim {path}")]
    RequestedClaimMissing {
        /// The Credential Query.
        credential_query: String,
        /// The claims path pointer of the missing claim.
        path: ClaimsPath,
    },
    /// A claim with `values` is present but matches none of them.
    #[error(
        "presentation for credential query `{credential_query}`: claim {path} does not match the requested values"
    )]
    ClaimValueMismatch {
        /// The Credential Query.
        credential_query: String,
        /// The claims path pointer of the claim.
        path: ClaimsPath,
    },
    /// No option of `claim_sets` is satisfied by a presentation.
    #[error("presentation for credential query `{0}` satisfies none of its claim sets")]
    NoClaimSetSatisfied(String),
    /// Without `credential_sets`, every Credential Query must be answered.
    #[error("no presentation for required credential query `{0}`")]
    MissingPresentation(String),
    /// A required Credential Set Query (by index) has no option fully presented.
    #[error("required credential set {0} is not satisfied")]
    CredentialSetNotSatisfied(usize),
}

/// A DCQL query (OpenID4VP 1.0 §6): the Credentials a Verifier requests and, optionally,
/// which combinations of them satisfy its use case. Always valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "repr::DcqlQuery")]
pub struct DcqlQuery {
    credentials: Vec<CredentialQuery>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_sets: Option<Vec<CredentialSetQuery>>,
}

/// A Credential Query (§6.1): a request for a presentation of one or more matching Credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialQuery {
    /// Identifies the Credential in the response and in `credential_sets`.
    pub id: String,
    /// The Credential Format Identifier (Appendix B), e.g. [`FORMAT_DC_SD_JWT`].
    pub format: String,
    /// Whether several Credentials may be returned for this query (default `false`).
    #[serde(skip_serializing_if = "is_false")]
    pub multiple: bool,
    /// Format-specific constraints on the Credential's metadata (Appendix B); an empty object
    /// places none. For `dc+sd-jwt` it holds `vct_values`, for `mso_mdoc` `doctype_value`.
    pub meta: Map<String, Value>,
    /// Authorities or trust frameworks the Verifier accepts for the Issuer (§6.1.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_authorities: Option<Vec<TrustedAuthoritiesQuery>>,
    /// Whether a presentation with Cryptographic Holder Binding is required (default `true`).
    #[serde(skip_serializing_if = "is_true")]
    pub require_cryptographic_holder_binding: bool,
    /// The requested claims (§6.3); absent means only the mandatory ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimsQuery>>,
    /// Acceptable combinations of claim ids, most preferred first (§6.4.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_sets: Option<Vec<Vec<String>>>,
}

/// A Trusted Authorities Query (§6.1.1), kept as data: `type` and its `values`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedAuthoritiesQuery {
    /// The type of information, e.g. `aki`, `etsi_tl`, `openid_federation`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Type-specific values identifying an issuer, trust framework or federation.
    pub values: Vec<String>,
}

/// A Claims Query (§6.3): one claim requested from a Credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimsQuery {
    /// Identifies the claim in `claim_sets`; required when the Credential Query has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where the claim is in the Credential (§7).
    pub path: ClaimsPath,
    /// The expected values; the claim matches if its type and value equal one of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<ClaimValue>>,
    /// mdoc only (Appendix B.2.4): ISO 18013-5 `IntentToRetain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent_to_retain: Option<bool>,
}

/// An expected claim value in a Claims Query (§6.3): a string, an integer or a boolean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ClaimValue {
    /// A string.
    String(String),
    /// An integer (any JSON integer, never a fraction).
    Integer(Number),
    /// A boolean.
    Boolean(bool),
}

/// A Credential Set Query (§6.2): alternative sets of Credential Queries for one use case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialSetQuery {
    /// Each option is a list of Credential Query ids that together satisfy the use case.
    pub options: Vec<Vec<String>>,
    /// Whether the use case requires this set (default `true`).
    #[serde(skip_serializing_if = "is_true")]
    pub required: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_true(b: &bool) -> bool {
    *b
}

impl ClaimValue {
    /// Whether `value` (from a Credential) has this type and value exactly (§6.3).
    pub fn matches(&self, value: &Value) -> bool {
        match (self, value) {
            (ClaimValue::String(a), Value::String(b)) => a == b,
            (ClaimValue::Boolean(a), Value::Bool(b)) => a == b,
            // A float such as 1.0 is a different type from the integer 1.
            (ClaimValue::Integer(a), Value::Number(b)) => {
                (a.as_i64().is_some() && a.as_i64() == b.as_i64())
                    || (a.as_u64().is_some() && a.as_u64() == b.as_u64())
            }
            _ => false,
        }
    }
}

impl From<&str> for ClaimValue {
    fn from(s: &str) -> ClaimValue {
        ClaimValue::String(s.to_owned())
    }
}

impl From<i64> for ClaimValue {
    fn from(i: i64) -> ClaimValue {
        ClaimValue::Integer(Number::from(i))
    }
}

impl From<bool> for ClaimValue {
    fn from(b: bool) -> ClaimValue {
        ClaimValue::Boolean(b)
    }
}

impl TryFrom<Value> for ClaimValue {
    type Error = DcqlError;

    fn try_from(value: Value) -> Result<ClaimValue, DcqlError> {
        match value {
            Value::String(s) => Ok(ClaimValue::String(s)),
            Value::Bool(b) => Ok(ClaimValue::Boolean(b)),
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(ClaimValue::Integer(n)),
            _ => Err(DcqlError::InvalidClaimValue),
        }
    }
}

impl CredentialQuery {
    /// The `meta.vct_values` of a `dc+sd-jwt` query (Appendix B.3.5).
    pub fn vct_values(&self) -> Option<Vec<&str>> {
        string_array(self.meta.get("vct_values")?)
    }

    /// The `meta.doctype_value` of an `mso_mdoc` query (Appendix B.2.3).
    pub fn doctype_value(&self) -> Option<&str> {
        self.meta.get("doctype_value")?.as_str()
    }

    /// The `meta.type_values` of a W3C VC query (Appendix B.1.1).
    pub fn type_values(&self) -> Option<Vec<Vec<&str>>> {
        match self.meta.get("type_values")? {
            Value::Array(alternatives) => alternatives.iter().map(string_array).collect(),
            _ => None,
        }
    }

    /// Checks the rules of §6.1 and §6.3 that concern this query alone.
    fn validate(&self) -> Result<(), DcqlError> {
        if !is_valid_id(&self.id) {
            return Err(DcqlError::InvalidCredentialQueryId);
        }
        validate_meta(&self.format, &self.meta)?;
        if let Some(authorities) = &self.trusted_authorities {
            if authorities.is_empty() {
                return Err(DcqlError::EmptyArray("trusted_authorities"));
            }
            if authorities.iter().any(|a| a.values.is_empty()) {
                return Err(DcqlError::EmptyArray("trusted_authorities values"));
            }
        }
        let claims = match &self.claims {
            Some(claims) => claims,
            None if self.claim_sets.is_some() => {
                return Err(DcqlError::ClaimSetsWithoutClaims(self.id.clone()));
            }
            None => return Ok(()),
        };
        if claims.is_empty() {
            return Err(DcqlError::EmptyArray("claims"));
        }
        let mut ids = BTreeSet::new();
        for claim in claims {
            if claim.values.as_ref().is_some_and(Vec::is_empty) {
                return Err(DcqlError::EmptyArray("values"));
            }
            if self.format == FORMAT_MSO_MDOC && !is_mdoc_path(&claim.path) {
                return Err(DcqlError::InvalidMdocClaimsPath);
            }
            match &claim.id {
                Some(id) if !is_valid_id(id) => return Err(DcqlError::InvalidClaimId),
                Some(id) if !ids.insert(id.as_str()) => {
                    return Err(DcqlError::DuplicateClaimId {
                        credential_query: self.id.clone(),
                        claim: id.clone(),
                    });
                }
                Some(_) => {}
                None if self.claim_sets.is_some() => {
                    return Err(DcqlError::MissingClaimId(self.id.clone()));
                }
                None => {}
            }
        }
        if let Some(claim_sets) = &self.claim_sets {
            if claim_sets.is_empty() {
                return Err(DcqlError::EmptyArray("claim_sets"));
            }
            for set in claim_sets {
                if set.is_empty() {
                    return Err(DcqlError::EmptyArray("claim_sets element"));
                }
                if let Some(unknown) = set.iter().find(|id| !ids.contains(id.as_str())) {
                    return Err(DcqlError::UnknownClaimId {
                        credential_query: self.id.clone(),
                        claim: unknown.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

impl DcqlQuery {
    /// Builds a query from its parts, checking every rule of §6.
    pub fn new(
        credentials: Vec<CredentialQuery>,
        credential_sets: Option<Vec<CredentialSetQuery>>,
    ) -> Result<DcqlQuery, DcqlError> {
        let query = DcqlQuery {
            credentials,
            credential_sets,
        };
        query.validate()?;
        Ok(query)
    }

    /// Decodes and validates an untrusted DCQL query (the JSON of the `dcql_query`
    /// parameter), through [`crate::json::parse`]: size, depth and duplicate member names are
    /// checked first, then the structure, then every rule of §6.
    pub fn parse(bytes: &[u8]) -> crate::Result<DcqlQuery> {
        let value = crate::json::parse(bytes, MAX_DCQL_QUERY_BYTES)?;
        DcqlQuery::from_json(value)
    }

    /// Validates a DCQL query already decoded with [`crate::json::parse`] (for example the
    /// `dcql_query` member of a Request Object).
    pub fn from_json(value: Value) -> crate::Result<DcqlQuery> {
        let repr: repr::DcqlQuery = crate::json::from_value(value)?;
        Ok(DcqlQuery::try_from(repr)?)
    }

    /// The Credential Queries, in the Verifier's order.
    pub fn credentials(&self) -> &[CredentialQuery] {
        &self.credentials
    }

    /// The Credential Set Queries, if any.
    pub fn credential_sets(&self) -> Option<&[CredentialSetQuery]> {
        self.credential_sets.as_deref()
    }

    /// The Credential Query with this `id`.
    pub fn credential(&self, id: &str) -> Option<&CredentialQuery> {
        self.credentials.iter().find(|c| c.id == id)
    }

    fn validate(&self) -> Result<(), DcqlError> {
        if self.credentials.is_empty() {
            return Err(DcqlError::EmptyArray("credentials"));
        }
        let mut ids = BTreeSet::new();
        for credential in &self.credentials {
            credential.validate()?;
            if !ids.insert(credential.id.as_str()) {
                return Err(DcqlError::DuplicateCredentialQueryId(credential.id.clone()));
            }
        }
        if let Some(sets) = &self.credential_sets {
            if sets.is_empty() {
                return Err(DcqlError::EmptyArray("credential_sets"));
            }
            for set in sets {
                if set.options.is_empty() {
                    return Err(DcqlError::EmptyArray("options"));
                }
                for option in &set.options {
                    if option.is_empty() {
                        return Err(DcqlError::EmptyArray("options element"));
                    }
                    if let Some(unknown) = option.iter().find(|id| !ids.contains(id.as_str())) {
                        return Err(DcqlError::UnknownCredentialQueryId(unknown.clone()));
                    }
                }
            }
        }
        Ok(())
    }
}

/// §6.1 and §6.3: "a non-empty string consisting of alphanumeric, underscore (`_`), or hyphen
/// (`-`) characters". Alphanumeric is read as ASCII, as identifiers travel as JSON keys of the
/// VP Token and in `credential_sets`, where Unicode look-alikes would only cause confusion.
fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_mdoc_path(path: &ClaimsPath) -> bool {
    matches!(path.elements(), [PathElement::Key(_), PathElement::Key(_)])
}

fn string_array(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// The `meta` rules of Appendix B for the formats it defines; other formats' `meta` is
/// defined elsewhere and is taken as it is.
fn validate_meta(format: &str, meta: &Map<String, Value>) -> Result<(), DcqlError> {
    match format {
        FORMAT_DC_SD_JWT => {
            let format = FORMAT_DC_SD_JWT;
            let values = meta.get("vct_values").ok_or(DcqlError::InvalidMeta {
                format,
                problem: "`vct_values` is missing",
            })?;
            match string_array(values) {
                Some(v) if !v.is_empty() => Ok(()),
                _ => Err(DcqlError::InvalidMeta {
                    format,
                    problem: "`vct_values` must be a non-empty array of strings",
                }),
            }
        }
        FORMAT_MSO_MDOC => {
            let format = FORMAT_MSO_MDOC;
            match meta.get("doctype_value") {
                None => Err(DcqlError::InvalidMeta {
                    format,
                    problem: "`doctype_value` is missing",
                }),
                Some(Value::String(_)) => Ok(()),
                Some(_) => Err(DcqlError::InvalidMeta {
                    format,
                    problem: "`doctype_value` must be a string",
                }),
            }
        }
        FORMAT_JWT_VC_JSON | FORMAT_LDP_VC => {
            let format = if format == FORMAT_LDP_VC {
                FORMAT_LDP_VC
            } else {
                FORMAT_JWT_VC_JSON
            };
            let values = meta.get("type_values").ok_or(DcqlError::InvalidMeta {
                format,
                problem: "`type_values` is missing",
            })?;
            let ok = match values {
                Value::Array(alternatives) => {
                    !alternatives.is_empty()
                        && alternatives
                            .iter()
                            .all(|a| string_array(a).is_some_and(|types| !types.is_empty()))
                }
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                Err(DcqlError::InvalidMeta {
                    format,
                    problem: "`type_values` must be a non-empty array of non-empty string arrays",
                })
            }
        }
        _ => Ok(()),
    }
}

/// The wire shapes, lenient about what the typed model is strict about, so that each broken
/// rule surfaces as its own [`DcqlError`] instead of a generic JSON schema error.
mod repr {
    use super::{DcqlError, Value};
    use serde::Deserialize;

    fn yes() -> bool {
        true
    }

    #[derive(Deserialize)]
    pub(super) struct DcqlQuery {
        pub(super) credentials: Option<Vec<CredentialQuery>>,
        pub(super) credential_sets: Option<Vec<CredentialSetQuery>>,
    }

    #[derive(Deserialize)]
    pub(super) struct CredentialQuery {
        pub(super) id: Option<String>,
        pub(super) format: Option<String>,
        #[serde(default)]
        pub(super) multiple: bool,
        pub(super) meta: Option<Value>,
        pub(super) trusted_authorities: Option<Vec<TrustedAuthoritiesQuery>>,
        #[serde(default = "yes")]
        pub(super) require_cryptographic_holder_binding: bool,
        pub(super) claims: Option<Vec<ClaimsQuery>>,
        pub(super) claim_sets: Option<Vec<Vec<String>>>,
    }

    #[derive(Deserialize)]
    pub(super) struct TrustedAuthoritiesQuery {
        #[serde(rename = "type")]
        pub(super) kind: Option<String>,
        pub(super) values: Option<Vec<String>>,
    }

    #[derive(Deserialize)]
    pub(super) struct ClaimsQuery {
        pub(super) id: Option<String>,
        pub(super) path: Option<Vec<Value>>,
        pub(super) values: Option<Vec<Value>>,
        pub(super) intent_to_retain: Option<bool>,
    }

    #[derive(Deserialize)]
    pub(super) struct CredentialSetQuery {
        pub(super) options: Option<Vec<Vec<String>>>,
        #[serde(default = "yes")]
        pub(super) required: bool,
    }

    impl TryFrom<DcqlQuery> for super::DcqlQuery {
        type Error = DcqlError;

        fn try_from(raw: DcqlQuery) -> Result<super::DcqlQuery, DcqlError> {
            let credentials = raw
                .credentials
                .ok_or(DcqlError::MissingMember("credentials"))?
                .into_iter()
                .map(credential)
                .collect::<Result<_, _>>()?;
            let credential_sets = raw
                .credential_sets
                .map(|sets| {
                    sets.into_iter()
                        .map(|set| {
                            Ok(super::CredentialSetQuery {
                                options: set.options.ok_or(DcqlError::MissingMember("options"))?,
                                required: set.required,
                            })
                        })
                        .collect::<Result<_, DcqlError>>()
                })
                .transpose()?;
            super::DcqlQuery::new(credentials, credential_sets)
        }
    }

    fn credential(raw: CredentialQuery) -> Result<super::CredentialQuery, DcqlError> {
        let meta = match raw.meta.ok_or(DcqlError::MissingMember("meta"))? {
            Value::Object(map) => map,
            _ => return Err(DcqlError::MetaNotObject),
        };
        let trusted_authorities = raw
            .trusted_authorities
            .map(|list| {
                list.into_iter()
                    .map(|a| {
                        Ok(super::TrustedAuthoritiesQuery {
                            kind: a.kind.ok_or(DcqlError::MissingMember("type"))?,
                            values: a.values.ok_or(DcqlError::MissingMember("values"))?,
                        })
                    })
                    .collect::<Result<_, DcqlError>>()
            })
            .transpose()?;
        let claims = raw
            .claims
            .map(|claims| claims.into_iter().map(claim).collect::<Result<_, _>>())
            .transpose()?;
        Ok(super::CredentialQuery {
            id: raw.id.ok_or(DcqlError::MissingMember("id"))?,
            format: raw.format.ok_or(DcqlError::MissingMember("format"))?,
            multiple: raw.multiple,
            meta,
            trusted_authorities,
            require_cryptographic_holder_binding: raw.require_cryptographic_holder_binding,
            claims,
            claim_sets: raw.claim_sets,
        })
    }

    fn claim(raw: ClaimsQuery) -> Result<super::ClaimsQuery, DcqlError> {
        let path = raw.path.ok_or(DcqlError::MissingMember("path"))?;
        Ok(super::ClaimsQuery {
            id: raw.id,
            path: super::ClaimsPath::try_from(path)?,
            values: raw
                .values
                .map(|values| {
                    values
                        .into_iter()
                        .map(super::ClaimValue::try_from)
                        .collect::<Result<_, _>>()
                })
                .transpose()?,
            intent_to_retain: raw.intent_to_retain,
        })
    }
}
