//! Credential Offer (OpenID4VCI 1.0 §4.1).

use super::CREDENTIAL_OFFER_SCHEME;
use crate::messages::{
    FormParams, MessageError, UrlKind, check_https_url, check_non_empty_str,
    check_unique_non_empty, form_encode, parse_json, split_uri, to_json,
};
use serde::{Deserialize, Serialize};

/// A Credential Offer object (§4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawOffer", into = "RawOffer")]
pub struct CredentialOffer {
    credential_issuer: String,
    credential_configuration_ids: Vec<String>,
    grants: Option<Grants>,
}

/// The `grants` of a Credential Offer: the two Grant Types this specification defines. Other
/// grant types are ignored, as the Wallet must ignore what it does not recognise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// Grant Type `authorization_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_code: Option<AuthorizationCodeGrant>,
    /// Grant Type `urn:ietf:params:oauth:grant-type:pre-authorized_code`.
    #[serde(
        rename = "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_code: Option<PreAuthorizedCodeGrant>,
}

/// Parameters of the `authorization_code` grant in an offer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCodeGrant {
    /// Opaque state to send back as `issuer_state` in the Authorization Request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_state: Option<String>,
    /// Which of the issuer's `authorization_servers` to use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<String>,
}

/// Parameters of the Pre-Authorized Code grant in an offer. Its `Debug` hides the code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawPreAuthorized", into = "RawPreAuthorized")]
pub struct PreAuthorizedCodeGrant {
    pre_authorized_code: String,
    tx_code: Option<TxCode>,
    authorization_server: Option<String>,
}

impl std::fmt::Debug for PreAuthorizedCodeGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreAuthorizedCodeGrant")
            .field("tx_code", &self.tx_code)
            .field("authorization_server", &self.authorization_server)
            .finish_non_exhaustive()
    }
}

/// The `tx_code` object: present (even empty) means a Transaction Code is required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawTxCode", into = "RawTxCode")]
pub struct TxCode {
    input_mode: Option<InputMode>,
    length: Option<u32>,
    description: Option<String>,
}

/// The input character set of a Transaction Code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputMode {
    /// Digits only (the default).
    Numeric,
    /// Any characters.
    Text,
}

/// How a Credential Offer reaches the Wallet (§4.1): by value in `credential_offer`, or by
/// reference in `credential_offer_uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialOfferUri {
    /// `credential_offer`: the offer itself, JSON in the query.
    ByValue(CredentialOffer),
    /// `credential_offer_uri`: an `https` URL the Wallet fetches the offer from.
    ByReference(String),
}

impl CredentialOffer {
    /// An offer of `credential_configuration_ids` (non-empty, unique) by `credential_issuer`
    /// (an `https` URL without query or fragment).
    pub fn new(
        credential_issuer: impl Into<String>,
        credential_configuration_ids: Vec<String>,
        grants: Option<Grants>,
    ) -> Result<CredentialOffer, MessageError> {
        CredentialOffer::try_from(RawOffer {
            credential_issuer: credential_issuer.into(),
            credential_configuration_ids,
            grants,
        })
    }

    /// Decodes an offer from JSON (the `credential_offer` value, or the body fetched from
    /// `credential_offer_uri`). Unknown members are ignored (§4.1.1).
    pub fn parse(json: &[u8]) -> crate::Result<CredentialOffer> {
        let raw: RawOffer = parse_json(json)?;
        Ok(CredentialOffer::try_from(raw)?)
    }

    /// The offer as JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// `credential_issuer`: the Credential Issuer Identifier.
    pub fn credential_issuer(&self) -> &str {
        &self.credential_issuer
    }

    /// `credential_configuration_ids`.
    pub fn credential_configuration_ids(&self) -> &[String] {
        &self.credential_configuration_ids
    }

    /// `grants`, if any.
    pub fn grants(&self) -> Option<&Grants> {
        self.grants.as_ref()
    }
}

impl PreAuthorizedCodeGrant {
    /// A Pre-Authorized Code grant; `tx_code` set means a Transaction Code will be asked for.
    pub fn new(
        pre_authorized_code: impl Into<String>,
        tx_code: Option<TxCode>,
        authorization_server: Option<String>,
    ) -> Result<PreAuthorizedCodeGrant, MessageError> {
        PreAuthorizedCodeGrant::try_from(RawPreAuthorized {
            pre_authorized_code: pre_authorized_code.into(),
            tx_code,
            authorization_server,
        })
    }
    /// `pre-authorized_code`.
    pub fn pre_authorized_code(&self) -> &str {
        &self.pre_authorized_code
    }
    /// `tx_code`: `Some` when the Token Request must carry a Transaction Code.
    pub fn tx_code(&self) -> Option<&TxCode> {
        self.tx_code.as_ref()
    }
    /// `authorization_server`.
    pub fn authorization_server(&self) -> Option<&str> {
        self.authorization_server.as_deref()
    }
}

impl TxCode {
    /// A Transaction Code description; `description` must not exceed 300 characters.
    pub fn new(
        input_mode: Option<InputMode>,
        length: Option<u32>,
        description: Option<String>,
    ) -> Result<TxCode, MessageError> {
        TxCode::try_from(RawTxCode {
            input_mode,
            length,
            description,
        })
    }
    /// `input_mode` as given (absent means `numeric`).
    pub fn input_mode(&self) -> Option<InputMode> {
        self.input_mode
    }
    /// `input_mode`, with the default applied.
    pub fn effective_input_mode(&self) -> InputMode {
        self.input_mode.unwrap_or(InputMode::Numeric)
    }
    /// `length`.
    pub fn length(&self) -> Option<u32> {
        self.length
    }
    /// `description`.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
}

impl CredentialOfferUri {
    /// Reads the query of a Credential Offer URI (`openid-credential-offer://?…`, or the
    /// Wallet's own https Credential Offer Endpoint): exactly one of `credential_offer` and
    /// `credential_offer_uri`. Other query parameters are ignored.
    pub fn parse(uri: &str) -> crate::Result<CredentialOfferUri> {
        let (_scheme, query) = split_uri(uri)?;
        let mut params = FormParams::parse(query)?;
        match (
            params.take("credential_offer"),
            params.take("credential_offer_uri"),
        ) {
            (Some(_), Some(_)) => {
                Err(MessageError::Conflict("credential_offer", "credential_offer_uri").into())
            }
            (None, None) => {
                Err(MessageError::OneOfRequired("credential_offer", "credential_offer_uri").into())
            }
            (Some(json), None) => Ok(CredentialOfferUri::ByValue(CredentialOffer::parse(
                json.as_bytes(),
            )?)),
            (None, Some(url)) => {
                check_https_url(&url, UrlKind::Endpoint, "credential_offer_uri")?;
                Ok(CredentialOfferUri::ByReference(url))
            }
        }
    }

    /// Builds an `openid-credential-offer://?…` URI.
    pub fn to_uri(&self) -> String {
        self.to_uri_at(&format!("{CREDENTIAL_OFFER_SCHEME}://"))
    }

    /// Builds the URI against a Wallet's Credential Offer Endpoint (`endpoint` without query).
    pub fn to_uri_at(&self, endpoint: &str) -> String {
        let query = match self {
            CredentialOfferUri::ByValue(offer) => {
                form_encode([("credential_offer", offer.to_json().as_str())])
            }
            CredentialOfferUri::ByReference(url) => {
                form_encode([("credential_offer_uri", url.as_str())])
            }
        };
        format!("{endpoint}?{query}")
    }
}

#[derive(Serialize, Deserialize)]
struct RawOffer {
    credential_issuer: String,
    credential_configuration_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    grants: Option<Grants>,
}

impl TryFrom<RawOffer> for CredentialOffer {
    type Error = MessageError;
    fn try_from(raw: RawOffer) -> Result<CredentialOffer, MessageError> {
        check_https_url(
            &raw.credential_issuer,
            UrlKind::Identifier,
            "credential_issuer",
        )?;
        check_unique_non_empty(
            &raw.credential_configuration_ids,
            "credential_configuration_ids",
        )?;
        for id in &raw.credential_configuration_ids {
            check_non_empty_str(id, "credential_configuration_ids")?;
        }
        Ok(CredentialOffer {
            credential_issuer: raw.credential_issuer,
            credential_configuration_ids: raw.credential_configuration_ids,
            grants: raw.grants,
        })
    }
}

impl From<CredentialOffer> for RawOffer {
    fn from(offer: CredentialOffer) -> RawOffer {
        RawOffer {
            credential_issuer: offer.credential_issuer,
            credential_configuration_ids: offer.credential_configuration_ids,
            grants: offer.grants,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct RawPreAuthorized {
    #[serde(rename = "pre-authorized_code")]
    pre_authorized_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tx_code: Option<TxCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorization_server: Option<String>,
}

impl TryFrom<RawPreAuthorized> for PreAuthorizedCodeGrant {
    type Error = MessageError;
    fn try_from(raw: RawPreAuthorized) -> Result<PreAuthorizedCodeGrant, MessageError> {
        check_non_empty_str(&raw.pre_authorized_code, "pre-authorized_code")?;
        Ok(PreAuthorizedCodeGrant {
            pre_authorized_code: raw.pre_authorized_code,
            tx_code: raw.tx_code,
            authorization_server: raw.authorization_server,
        })
    }
}

impl From<PreAuthorizedCodeGrant> for RawPreAuthorized {
    fn from(grant: PreAuthorizedCodeGrant) -> RawPreAuthorized {
        RawPreAuthorized {
            pre_authorized_code: grant.pre_authorized_code,
            tx_code: grant.tx_code,
            authorization_server: grant.authorization_server,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct RawTxCode {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input_mode: Option<InputMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

impl TryFrom<RawTxCode> for TxCode {
    type Error = MessageError;
    fn try_from(raw: RawTxCode) -> Result<TxCode, MessageError> {
        if raw
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 300)
        {
            return Err(MessageError::TxCodeDescriptionTooLong);
        }
        if raw.length == Some(0) {
            return Err(MessageError::InvalidParameter("tx_code.length"));
        }
        Ok(TxCode {
            input_mode: raw.input_mode,
            length: raw.length,
            description: raw.description,
        })
    }
}

impl From<TxCode> for RawTxCode {
    fn from(tx: TxCode) -> RawTxCode {
        RawTxCode {
            input_mode: tx.input_mode,
            length: tx.length,
            description: tx.description,
        }
    }
}
