//! JSON Web Keys (RFC 7517) for the two key types we accept — EC P-256 and OKP Ed25519
//! (RFC 8037) — and their thumbprints (RFC 7638).

use super::JoseError;
use crate::b64;
use crate::crypto::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A public JWK: a validated [`PublicKey`] and the optional `kid`, `alg` and `use` members.
/// Unknown members are ignored on input (RFC 7517 §4) and not written back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawJwk", into = "RawJwk")]
pub struct Jwk {
    key: PublicKey,
    kid: Option<String>,
    alg: Option<String>,
    key_use: Option<String>,
}

impl Jwk {
    /// A JWK for `key`, without `kid`, `alg` or `use`.
    pub fn new(key: PublicKey) -> Jwk {
        Jwk {
            key,
            kid: None,
            alg: None,
            key_use: None,
        }
    }

    /// Sets `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Jwk {
        self.kid = Some(kid.into());
        self
    }

    /// Sets `alg` (for example `ES256`, or `ECDH-ES` for an encryption key).
    #[must_use]
    pub fn with_alg(mut self, alg: impl Into<String>) -> Jwk {
        self.alg = Some(alg.into());
        self
    }

    /// Sets `use` (`sig` or `enc`).
    #[must_use]
    pub fn with_use(mut self, key_use: impl Into<String>) -> Jwk {
        self.key_use = Some(key_use.into());
        self
    }

    /// The key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// `alg`, if any.
    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }

    /// `use`, if any.
    pub fn key_use(&self) -> Option<&str> {
        self.key_use.as_deref()
    }

    /// Reads a JWK from a JSON value (for example `cnf.jwk`), refusing private key material.
    pub fn from_value(value: &Value) -> Result<Jwk, JoseError> {
        let raw: RawJwk = serde_json::from_value(value.clone())
            .map_err(|_| JoseError::InvalidKey("JWK members"))?;
        Jwk::try_from(raw)
    }

    /// The JWK as a JSON object.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(RawJwk::from(self.clone())).unwrap_or(Value::Null)
    }

    /// The RFC 7638 thumbprint: base64url(SHA-256(the required members in lexicographic order,
    /// without white space)).
    pub fn thumbprint(&self) -> String {
        b64::encode(Sha256::digest(self.thumbprint_input().as_bytes()))
    }

    fn thumbprint_input(&self) -> String {
        // Members in lexicographic order, no white space (RFC 7638 §3.2); base64url strings
        // need no JSON escaping.
        match &self.key {
            PublicKey::P256 { x, y } => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                b64::encode(x),
                b64::encode(y)
            ),
            PublicKey::Ed25519(x) => {
                format!(
                    r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                    b64::encode(x)
                )
            }
        }
    }
}

/// A private JWK (with `d`), as our services keep their keys in files. The JSON text is
/// zeroized on drop and never logged.
#[derive(Debug, Clone)]
pub struct PrivateJwk {
    secret: SecretKey,
    kid: Option<String>,
}

impl PrivateJwk {
    /// Wraps a secret key.
    pub fn new(secret: SecretKey, kid: Option<String>) -> PrivateJwk {
        PrivateJwk { secret, kid }
    }

    /// The secret key.
    pub fn secret(&self) -> &SecretKey {
        &self.secret
    }

    /// `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The public half, with the same `kid`.
    pub fn public(&self) -> Jwk {
        let jwk = Jwk::new(self.secret.public_key());
        match &self.kid {
            Some(kid) => jwk.with_kid(kid.clone()),
            None => jwk,
        }
    }

    /// Reads a private JWK, checking that `d` matches the public members.
    pub fn from_json(text: &str) -> Result<PrivateJwk, JoseError> {
        let value =
            crate::json::parse(text.as_bytes(), 16 * 1024).map_err(|source| JoseError::Json {
                part: "private JWK",
                source,
            })?;
        let d = value
            .get("d")
            .and_then(Value::as_str)
            .ok_or(JoseError::InvalidKey("private JWK without d"))?;
        let d = Zeroizing::new(b64::decode(d).ok_or(JoseError::Base64("JWK d"))?);
        let d: &[u8; 32] = d
            .as_slice()
            .try_into()
            .map_err(|_| JoseError::InvalidKey("JWK d length"))?;
        let mut public = value.clone();
        if let Some(object) = public.as_object_mut() {
            object.remove("d");
        }
        let public = Jwk::from_value(&public)?;
        let secret = match public.key() {
            PublicKey::P256 { .. } => SecretKey::p256(d)?,
            PublicKey::Ed25519(_) => SecretKey::ed25519(d),
        };
        if &secret.public_key() != public.key() {
            return Err(JoseError::InvalidKey("JWK d does not match x/y"));
        }
        Ok(PrivateJwk {
            secret,
            kid: public.kid,
        })
    }

    /// Writes the private JWK as JSON.
    pub fn to_json(&self) -> Zeroizing<String> {
        let mut raw = RawJwk::from(self.public());
        raw.d = Some(Zeroizing::new(b64::encode(*self.secret.to_bytes())));
        Zeroizing::new(serde_json::to_string_pretty(&raw).unwrap_or_default())
    }
}

#[derive(Serialize, Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    d: Option<Zeroizing<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alg: Option<String>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    key_use: Option<String>,
    // Any other member is accepted and dropped (RFC 7517 §4); private RSA/EC parts other
    // than `d` are caught below.
    #[serde(flatten, skip_serializing)]
    other: Map<String, Value>,
}

fn coordinate(value: Option<&str>, name: &'static str) -> Result<[u8; 32], JoseError> {
    let text = value.ok_or(JoseError::InvalidKey(name))?;
    let bytes = b64::decode(text).ok_or(JoseError::Base64(name))?;
    bytes.try_into().map_err(|_| JoseError::InvalidKey(name))
}

impl TryFrom<RawJwk> for Jwk {
    type Error = JoseError;

    fn try_from(raw: RawJwk) -> Result<Jwk, JoseError> {
        const PRIVATE_MEMBERS: [&str; 6] = ["p", "q", "dp", "dq", "qi", "k"];
        if raw.d.is_some() || PRIVATE_MEMBERS.iter().any(|m| raw.other.contains_key(*m)) {
            return Err(JoseError::PrivateKeyMaterial);
        }
        let key = match (raw.kty.as_str(), raw.crv.as_deref()) {
            ("EC", Some("P-256")) => PublicKey::p256(
                coordinate(raw.x.as_deref(), "JWK x")?,
                coordinate(raw.y.as_deref(), "JWK y")?,
            )?,
            ("OKP", Some("Ed25519")) => {
                if raw.y.is_some() {
                    return Err(JoseError::InvalidKey("OKP JWK with y"));
                }
                PublicKey::ed25519(coordinate(raw.x.as_deref(), "JWK x")?)?
            }
            ("EC", _) | ("OKP", _) => return Err(JoseError::InvalidKey("unsupported curve")),
            _ => return Err(JoseError::InvalidKey("unsupported key type")),
        };
        if let Some(alg) = raw.alg.as_deref() {
            let fits = match key {
                PublicKey::P256 { .. } => matches!(alg, "ES256" | "ECDH-ES"),
                PublicKey::Ed25519(_) => matches!(alg, "EdDSA" | "Ed25519"),
            };
            if !fits {
                return Err(JoseError::AlgorithmKeyMismatch);
            }
        }
        Ok(Jwk {
            key,
            kid: raw.kid,
            alg: raw.alg,
            key_use: raw.key_use,
        })
    }
}

impl From<Jwk> for RawJwk {
    fn from(jwk: Jwk) -> RawJwk {
        let (kty, crv, x, y) = match &jwk.key {
            PublicKey::P256 { x, y } => ("EC", "P-256", b64::encode(x), Some(b64::encode(y))),
            PublicKey::Ed25519(x) => ("OKP", "Ed25519", b64::encode(x), None),
        };
        RawJwk {
            kty: kty.to_owned(),
            crv: Some(crv.to_owned()),
            x: Some(x),
            y,
            d: None,
            kid: jwk.kid,
            alg: jwk.alg,
            key_use: jwk.key_use,
            other: Map::new(),
        }
    }
}
