//! Disclosures (RFC 9901 §4.2.1, §4.2.2) and their digests (§4.2.3).

use super::SdJwtError;
use crate::b64;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;

/// Size limit for one decoded Disclosure (64 KiB).
const MAX_DISCLOSURE_LEN: usize = 64 * 1024;

/// The hash algorithms for digests (`_sd_alg`, RFC 9901 §4.1.1). Only `sha-256` is supported:
/// it is the default and what every profile we follow requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// `sha-256` (the IANA Named Information Hash Algorithm name).
    #[default]
    Sha256,
}

impl HashAlgorithm {
    /// The `_sd_alg` value.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha-256",
        }
    }

    /// Reads an `_sd_alg` value; anything but `sha-256` is
    /// [`SdJwtError::UnsupportedHashAlgorithm`].
    pub fn from_name(name: &str) -> Result<HashAlgorithm, SdJwtError> {
        match name {
            "sha-256" => Ok(HashAlgorithm::Sha256),
            _ => Err(SdJwtError::UnsupportedHashAlgorithm),
        }
    }

    /// Reads the `_sd_alg` member of a payload: absent means `sha-256` (RFC 9901 §4.1.1).
    pub(crate) fn from_payload(
        payload: &serde_json::Map<String, Value>,
    ) -> Result<HashAlgorithm, SdJwtError> {
        match payload.get("_sd_alg") {
            None => Ok(HashAlgorithm::Sha256),
            Some(Value::String(name)) => HashAlgorithm::from_name(name),
            Some(_) => Err(SdJwtError::UnsupportedHashAlgorithm),
        }
    }

    /// base64url(hash(ASCII bytes of `text`)): the digest of a Disclosure and the `sd_hash`.
    pub fn digest(self, text: &str) -> String {
        match self {
            HashAlgorithm::Sha256 => b64::encode(Sha256::digest(text.as_bytes())),
        }
    }
}

/// A Disclosure: a salted claim, `[salt, name, value]` for an object property or
/// `[salt, value]` for an array element. Keeps the exact base64url text it was read from,
/// because the digest is computed over that text (RFC 9901 §4.2.3).
#[derive(Clone, PartialEq, Eq)]
pub struct Disclosure {
    encoded: String,
    salt: String,
    name: Option<String>,
    value: Value,
}

impl Disclosure {
    /// Parses a Disclosure from its base64url text, checking the shape of RFC 9901 §4.2.1 and
    /// §4.2.2: a JSON array of 3 (`[salt, name, value]`) or 2 (`[salt, value]`) elements, the
    /// salt a string, the name a string other than `_sd` and `...`.
    pub fn parse(encoded: &str) -> Result<Disclosure, SdJwtError> {
        if encoded.is_empty() {
            return Err(SdJwtError::EmptyDisclosure);
        }
        let bytes = b64::decode(encoded).ok_or(SdJwtError::DisclosureBase64)?;
        let value =
            crate::json::parse(&bytes, MAX_DISCLOSURE_LEN).map_err(SdJwtError::DisclosureJson)?;
        let Value::Array(items) = value else {
            return Err(SdJwtError::DisclosureNotArray);
        };
        let len = items.len();
        let mut items = items.into_iter();
        let (salt, name, value) = match (items.next(), items.next(), items.next(), len) {
            (Some(salt), Some(name), Some(value), 3) => (salt, Some(name), value),
            (Some(salt), Some(value), None, 2) => (salt, None, value),
            _ => return Err(SdJwtError::DisclosureWrongLength(len)),
        };
        let Value::String(salt) = salt else {
            return Err(SdJwtError::SaltNotString);
        };
        let name = match name {
            None => None,
            Some(Value::String(name)) => {
                check_claim_name(&name)?;
                Some(name)
            }
            Some(_) => return Err(SdJwtError::ClaimNameNotString),
        };
        Ok(Disclosure {
            encoded: encoded.to_owned(),
            salt,
            name,
            value,
        })
    }

    /// A Disclosure for an object property. The JSON is written as RFC 9901's examples are
    /// (`", "` and `": "` separators, non-ASCII characters unescaped), so the examples can be
    /// reproduced; any encoding would verify.
    pub fn object_property(
        salt: impl Into<String>,
        name: impl Into<String>,
        value: Value,
    ) -> Result<Disclosure, SdJwtError> {
        let salt = salt.into();
        let name = name.into();
        check_claim_name(&name)?;
        let json = Value::Array(vec![
            Value::String(salt.clone()),
            Value::String(name.clone()),
            value.clone(),
        ]);
        Ok(Disclosure {
            encoded: b64::encode(spaced_json(&json)),
            salt,
            name: Some(name),
            value,
        })
    }

    /// A Disclosure for an array element (`[salt, value]`).
    pub fn array_element(salt: impl Into<String>, value: Value) -> Disclosure {
        let salt = salt.into();
        let json = Value::Array(vec![Value::String(salt.clone()), value.clone()]);
        Disclosure {
            encoded: b64::encode(spaced_json(&json)),
            salt,
            name: None,
            value,
        }
    }

    /// The base64url text, exactly as received or created.
    pub fn as_str(&self) -> &str {
        &self.encoded
    }

    /// The salt.
    pub fn salt(&self) -> &str {
        &self.salt
    }

    /// The claim name; `None` for an array element Disclosure.
    pub fn claim_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The claim value (before any nested digests in it are processed).
    pub fn claim_value(&self) -> &Value {
        &self.value
    }

    /// Whether this is an array element Disclosure (2 elements).
    pub fn is_array_element(&self) -> bool {
        self.name.is_none()
    }

    /// The digest of the Disclosure's text with `alg` (RFC 9901 §4.2.3).
    pub fn digest(&self, alg: HashAlgorithm) -> String {
        alg.digest(&self.encoded)
    }
}

impl fmt::Debug for Disclosure {
    // Salts and values are secrets of the holder: only the kind is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_some() {
            f.write_str("Disclosure(object property, …)")
        } else {
            f.write_str("Disclosure(array element, …)")
        }
    }
}

pub(crate) fn check_claim_name(name: &str) -> Result<(), SdJwtError> {
    match name {
        "_sd" => Err(SdJwtError::ReservedClaimName("_sd")),
        "..." => Err(SdJwtError::ReservedClaimName("...")),
        _ => Ok(()),
    }
}

/// JSON with the separators Python's `json.dumps` uses by default (`", "`, `": "`), which is
/// how RFC 9901's examples were generated.
fn spaced_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, SpacedFormatter);
    // Writing a `Value` into a `Vec` cannot fail: no I/O error, no non-string keys.
    let _ = serde::Serialize::serialize(value, &mut serializer);
    out
}

struct SpacedFormatter;

impl serde_json::ser::Formatter for SpacedFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}
