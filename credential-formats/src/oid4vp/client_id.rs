//! Client Identifier Prefixes (OpenID4VP 1.0 §5.9).

use crate::messages::MessageError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A Client Identifier Prefix defined by §5.9.3, or none (a pre-registered client, §5.9.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientIdPrefix {
    /// No prefix: a client known to the Wallet in advance.
    PreRegistered,
    /// `redirect_uri:` (requests cannot be signed).
    RedirectUri,
    /// `x509_san_dns:`: a DNS name in the leaf certificate's SAN.
    X509SanDns,
    /// `x509_hash:`: base64url SHA-256 of the DER leaf certificate (HAIP).
    X509Hash,
    /// `decentralized_identifier:`.
    DecentralizedIdentifier,
    /// `verifier_attestation:`.
    VerifierAttestation,
    /// `openid_federation:`.
    OpenidFederation,
}

impl ClientIdPrefix {
    /// The prefix as written before the `:` (empty for pre-registered clients).
    pub fn as_str(self) -> &'static str {
        match self {
            ClientIdPrefix::PreRegistered => "",
            ClientIdPrefix::RedirectUri => "redirect_uri",
            ClientIdPrefix::X509SanDns => "x509_san_dns",
            ClientIdPrefix::X509Hash => "x509_hash",
            ClientIdPrefix::DecentralizedIdentifier => "decentralized_identifier",
            ClientIdPrefix::VerifierAttestation => "verifier_attestation",
            ClientIdPrefix::OpenidFederation => "openid_federation",
        }
    }
}

/// A `client_id`, split into its prefix and the original Client Identifier. The full string
/// (prefix included) is what audiences are compared with (§13.8).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId {
    full: String,
    prefix: ClientIdPrefix,
}

impl ClientId {
    /// Parses a `client_id`. The prefix is what precedes the first `:`; `origin:` is reserved
    /// and refused in requests (§5.9.3); an unknown prefix is refused rather than read as a
    /// pre-registered client, as §5.9.2 allows. An `x509_hash` value must be a base64url
    /// SHA-256 hash.
    pub fn parse(client_id: &str) -> Result<ClientId, MessageError> {
        if client_id.is_empty() || client_id.chars().any(char::is_control) {
            return Err(MessageError::InvalidParameter("client_id"));
        }
        let prefix = match client_id.split_once(':') {
            None => ClientIdPrefix::PreRegistered,
            Some((prefix, value)) => {
                let prefix = match prefix {
                    "redirect_uri" => ClientIdPrefix::RedirectUri,
                    "x509_san_dns" => ClientIdPrefix::X509SanDns,
                    "x509_hash" => ClientIdPrefix::X509Hash,
                    "decentralized_identifier" => ClientIdPrefix::DecentralizedIdentifier,
                    "verifier_attestation" => ClientIdPrefix::VerifierAttestation,
                    "openid_federation" => ClientIdPrefix::OpenidFederation,
                    "origin" => return Err(MessageError::OriginPrefixNotAllowed),
                    _ => return Err(MessageError::UnsupportedClientIdPrefix),
                };
                if value.is_empty() {
                    return Err(MessageError::InvalidParameter("client_id"));
                }
                if prefix == ClientIdPrefix::X509Hash
                    && crate::b64::decode(value).is_none_or(|hash| hash.len() != 32)
                {
                    return Err(MessageError::InvalidParameter("client_id"));
                }
                prefix
            }
        };
        Ok(ClientId {
            full: client_id.to_owned(),
            prefix,
        })
    }

    /// An `x509_hash:` client identifier for the base64url SHA-256 hash of a leaf certificate.
    pub fn x509_hash(hash: &str) -> Result<ClientId, MessageError> {
        ClientId::parse(&format!("x509_hash:{hash}"))
    }

    /// The prefix.
    pub fn prefix(&self) -> ClientIdPrefix {
        self.prefix
    }

    /// The original Client Identifier, without the prefix.
    pub fn value(&self) -> &str {
        match self.prefix {
            ClientIdPrefix::PreRegistered => &self.full,
            _ => self
                .full
                .split_once(':')
                .map_or(self.full.as_str(), |(_, value)| value),
        }
    }

    /// The full Client Identifier, prefix included.
    pub fn as_str(&self) -> &str {
        &self.full
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl TryFrom<String> for ClientId {
    type Error = MessageError;
    fn try_from(value: String) -> Result<ClientId, MessageError> {
        ClientId::parse(&value)
    }
}

impl From<ClientId> for String {
    fn from(client_id: ClientId) -> String {
        client_id.full
    }
}
