//! JWS compact serialization (RFC 7515 §7.1) with ES256 and EdDSA.

use super::{JoseError, Jwk, MAX_COMPACT_LEN};
use crate::b64;
use crate::crypto::{CryptoProvider, PublicKey, SignatureAlgorithm, Signer};
use serde_json::{Map, Value};

/// Size limit for a protected header (16 KiB leaves room for an `x5c` chain of a few
/// certificates).
const MAX_HEADER_LEN: usize = 16 * 1024;

/// A JWS protected header. `alg` is set from the signer when signing and checked against the
/// key when verifying; the other members are informative until a caller decides to use them.
#[derive(Debug, Clone, PartialEq)]
pub struct JwsHeader {
    alg: Option<SignatureAlgorithm>,
    typ: Option<String>,
    kid: Option<String>,
    jwk: Option<Jwk>,
    x5c: Option<Vec<String>>,
    members: Map<String, Value>,
}

impl JwsHeader {
    /// A header with `typ` set (every token we make is explicitly typed, RFC 8725 §3.11).
    pub fn new(typ: impl Into<String>) -> JwsHeader {
        JwsHeader {
            alg: None,
            typ: Some(typ.into()),
            kid: None,
            jwk: None,
            x5c: None,
            members: Map::new(),
        }
    }

    /// Sets `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> JwsHeader {
        self.kid = Some(kid.into());
        self
    }

    /// Sets `jwk` (a holder's key in an OpenID4VCI proof).
    #[must_use]
    pub fn with_jwk(mut self, jwk: Jwk) -> JwsHeader {
        self.jwk = Some(jwk);
        self
    }

    /// Sets `x5c`: base64 (not base64url) DER certificates, leaf first.
    #[must_use]
    pub fn with_x5c(mut self, chain: Vec<String>) -> JwsHeader {
        self.x5c = Some(chain);
        self
    }

    /// Adds another header member. `alg`, `typ`, `kid`, `jwk`, `x5c` and `crit` are managed by
    /// this type and cannot be set this way.
    #[must_use]
    pub fn with_member(mut self, name: impl Into<String>, value: Value) -> JwsHeader {
        let name = name.into();
        if !MANAGED.contains(&name.as_str()) {
            self.members.insert(name, value);
        }
        self
    }

    /// `alg` (always present on a decoded header).
    pub fn alg(&self) -> Option<SignatureAlgorithm> {
        self.alg
    }
    /// `typ`, as written.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }
    /// `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
    /// `jwk`: never used for verification unless the caller passes it back explicitly.
    pub fn jwk(&self) -> Option<&Jwk> {
        self.jwk.as_ref()
    }
    /// `x5c`: never trusted until the caller validates the chain.
    pub fn x5c(&self) -> Option<&[String]> {
        self.x5c.as_deref()
    }
    /// Any other member.
    pub fn member(&self, name: &str) -> Option<&Value> {
        self.members.get(name)
    }

    fn to_json(&self, alg: SignatureAlgorithm) -> Value {
        let mut out = Map::new();
        out.insert("alg".into(), Value::from(alg.name()));
        if let Some(typ) = &self.typ {
            out.insert("typ".into(), Value::from(typ.clone()));
        }
        if let Some(kid) = &self.kid {
            out.insert("kid".into(), Value::from(kid.clone()));
        }
        if let Some(jwk) = &self.jwk {
            out.insert("jwk".into(), jwk.to_value());
        }
        if let Some(x5c) = &self.x5c {
            out.insert("x5c".into(), Value::from(x5c.clone()));
        }
        for (name, value) in &self.members {
            out.insert(name.clone(), value.clone());
        }
        Value::Object(out)
    }

    fn from_json(value: Value) -> Result<JwsHeader, JoseError> {
        let Value::Object(mut members) = value else {
            return Err(JoseError::InvalidHeader("header is not an object"));
        };
        // We implement no extension, so any `crit` names one we do not understand
        // (RFC 7515 §4.1.11).
        if members.contains_key("crit") {
            return Err(JoseError::UnsupportedCritical);
        }
        let alg = match members.remove("alg") {
            None => return Err(JoseError::MissingAlgorithm),
            Some(Value::String(name)) => {
                SignatureAlgorithm::from_name(&name).ok_or(JoseError::AlgorithmNotAllowed)?
            }
            Some(_) => return Err(JoseError::InvalidHeader("alg")),
        };
        let typ = take_string(&mut members, "typ")?;
        let kid = take_string(&mut members, "kid")?;
        let jwk = match members.remove("jwk") {
            None => None,
            Some(value) => Some(Jwk::from_value(&value)?),
        };
        let x5c = match members.remove("x5c") {
            None => None,
            Some(Value::Array(items)) if !items.is_empty() => Some(
                items
                    .into_iter()
                    .map(|item| match item {
                        Value::String(s) => Ok(s),
                        _ => Err(JoseError::InvalidHeader("x5c")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => return Err(JoseError::InvalidHeader("x5c")),
        };
        Ok(JwsHeader {
            alg: Some(alg),
            typ,
            kid,
            jwk,
            x5c,
            members,
        })
    }
}

const MANAGED: [&str; 6] = ["alg", "typ", "kid", "jwk", "x5c", "crit"];

fn take_string(
    members: &mut Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, JoseError> {
    match members.remove(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(JoseError::InvalidHeader(name)),
    }
}

/// Signs `payload` under `header` and returns the compact serialization
/// `BASE64URL(header).BASE64URL(payload).BASE64URL(signature)`.
pub fn sign_compact(
    header: &JwsHeader,
    payload: &[u8],
    signer: &dyn Signer,
) -> Result<String, JoseError> {
    let header_json = serde_json::to_vec(&header.to_json(signer.algorithm()))
        .map_err(|_| JoseError::InvalidHeader("unserialisable header"))?;
    let mut out = b64::encode(header_json);
    out.push('.');
    out.push_str(&b64::encode(payload));
    let signature = signer.sign(out.as_bytes())?;
    out.push('.');
    out.push_str(&b64::encode(signature));
    Ok(out)
}

/// A compact JWS whose structure and header have been checked, but whose signature has not.
/// Only [`DecodedJws::verify`] gives access to a payload a program may act on. Its `Debug`
/// shows the header only: the payload may be personal data.
#[derive(Clone)]
pub struct DecodedJws {
    header: JwsHeader,
    signing_input_len: usize,
    compact: String,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl DecodedJws {
    /// Decodes a compact JWS: three base64url parts, a strict JSON header with an allowed `alg`
    /// and no `crit`.
    pub fn decode(compact: &str) -> Result<DecodedJws, JoseError> {
        if compact.len() > MAX_COMPACT_LEN {
            return Err(JoseError::TooLarge {
                len: compact.len(),
                limit: MAX_COMPACT_LEN,
            });
        }
        let mut parts = compact.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JoseError::WrongPartCount { expected: 3 });
        };
        let header_bytes = b64::decode(header_b64).ok_or(JoseError::Base64("JWS header"))?;
        let header_value = crate::json::parse(&header_bytes, MAX_HEADER_LEN).map_err(|source| {
            JoseError::Json {
                part: "JWS header",
                source,
            }
        })?;
        let header = JwsHeader::from_json(header_value)?;
        let payload = b64::decode(payload_b64).ok_or(JoseError::Base64("JWS payload"))?;
        let signature = b64::decode(signature_b64).ok_or(JoseError::Base64("JWS signature"))?;
        Ok(DecodedJws {
            header,
            signing_input_len: header_b64.len() + 1 + payload_b64.len(),
            compact: compact.to_owned(),
            payload,
            signature,
        })
    }

    /// The protected header (not yet authenticated).
    pub fn header(&self) -> &JwsHeader {
        &self.header
    }

    /// The payload *before* verification: for display and for finding the verification key
    /// (`iss`), never for decisions.
    pub fn unverified_payload(&self) -> &[u8] {
        &self.payload
    }

    /// Verifies the signature with `key` — which the caller chose, never the header — then
    /// checks that `typ` is `expected_typ` (compared as RFC 7515 §4.1.9 says: case-insensitive,
    /// `application/` optional).
    pub fn verify(
        self,
        provider: &dyn CryptoProvider,
        key: &PublicKey,
        expected_typ: &'static str,
    ) -> Result<VerifiedJws, JoseError> {
        self.check(provider, key, expected_typ)?;
        Ok(VerifiedJws {
            header: self.header,
            payload: self.payload,
        })
    }

    /// The checks of [`DecodedJws::verify`] without giving up the decoded JWS: for callers
    /// that keep it (an SD-JWT holds its issuer JWT) and must not copy it on a hot path.
    /// Only after `Ok` may the caller act on [`DecodedJws::unverified_payload`].
    pub fn check(
        &self,
        provider: &dyn CryptoProvider,
        key: &PublicKey,
        expected_typ: &'static str,
    ) -> Result<(), JoseError> {
        if self.header.alg != Some(key.algorithm()) {
            return Err(JoseError::AlgorithmKeyMismatch);
        }
        let signing_input = &self.compact.as_bytes()[..self.signing_input_len];
        provider.verify(key, signing_input, &self.signature)?;
        if !typ_matches(self.header.typ.as_deref(), expected_typ) {
            return Err(JoseError::UnexpectedType {
                expected: expected_typ,
            });
        }
        Ok(())
    }
}

/// A JWS whose signature verified under the caller's key and whose `typ` is the expected one.
/// Its `Debug` shows the header only.
#[derive(Clone)]
pub struct VerifiedJws {
    header: JwsHeader,
    payload: Vec<u8>,
}

impl VerifiedJws {
    /// The authenticated header.
    pub fn header(&self) -> &JwsHeader {
        &self.header
    }
    /// The authenticated payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
    /// The payload as strict JSON (a JWT claims set), at most `limit` bytes.
    pub fn claims(&self, limit: usize) -> Result<Map<String, Value>, JoseError> {
        match crate::json::parse(&self.payload, limit) {
            Ok(Value::Object(claims)) => Ok(claims),
            Ok(_) => Err(JoseError::Json {
                part: "JWS payload",
                source: crate::json::JsonError::Schema("not a JSON object".into()),
            }),
            Err(source) => Err(JoseError::Json {
                part: "JWS payload",
                source,
            }),
        }
    }
}

impl std::fmt::Debug for DecodedJws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedJws")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for VerifiedJws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedJws")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

/// Compares media types as `typ` allows: ASCII case-insensitively, with or without the
/// `application/` prefix.
pub(crate) fn typ_matches(actual: Option<&str>, expected: &str) -> bool {
    let Some(actual) = actual else { return false };
    let strip = |s: &str| -> String {
        let lower = s.to_ascii_lowercase();
        match lower.strip_prefix("application/") {
            Some(rest) if !rest.contains('/') => rest.to_owned(),
            _ => lower,
        }
    };
    strip(actual) == strip(expected)
}
