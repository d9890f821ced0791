//! The compact serialization `<Issuer-signed JWT>~<Disclosure 1>~…~<Disclosure N>~[<KB-JWT>]`
//! (RFC 9901 §4).

use super::jws_json::JsonExtras;
use super::{
    Disclosure, MAX_DISCLOSURES, MAX_ISSUER_JWT_LEN, MAX_KB_JWT_LEN, MAX_SD_JWT_LEN, SdJwtError,
};
use crate::jose::{DecodedJws, JoseError, JwsHeader};
use serde_json::{Map, Value};

/// An SD-JWT or SD-JWT+KB whose structure has been checked — the issuer JWT decodes with an
/// allowed `alg`, every Disclosure has a valid shape — but whose signatures and digests have
/// *not* been verified. Call [`SdJwt::verify`] before acting on any claim.
#[derive(Clone)]
pub struct SdJwt {
    issuer_jwt: String,
    decoded: DecodedJws,
    payload: Map<String, Value>,
    disclosures: Vec<Disclosure>,
    key_binding_jwt: Option<String>,
    json: JsonExtras,
}

impl SdJwt {
    /// Parses the compact form. Refuses input over [`MAX_SD_JWT_LEN`], an issuer JWT over
    /// [`MAX_ISSUER_JWT_LEN`], more than [`MAX_DISCLOSURES`] Disclosures, empty Disclosures
    /// (`~~`), and anything that is not an SD-JWT (no `~`).
    pub fn parse(compact: &str) -> Result<SdJwt, SdJwtError> {
        if compact.len() > MAX_SD_JWT_LEN {
            return Err(SdJwtError::TooLarge {
                len: compact.len(),
                limit: MAX_SD_JWT_LEN,
            });
        }
        let (issuer_jwt, rest) = compact
            .split_once('~')
            .ok_or(SdJwtError::MissingSeparator)?;
        // Everything after the last `~` is the KB-JWT (empty when there is none).
        let (middle, kb) = rest.rsplit_once('~').unwrap_or(("", rest));
        let mut disclosures = Vec::new();
        if rest.contains('~') {
            for part in middle.split('~') {
                if disclosures.len() >= MAX_DISCLOSURES {
                    return Err(SdJwtError::TooManyDisclosures(MAX_DISCLOSURES));
                }
                disclosures.push(Disclosure::parse(part)?);
            }
        }
        let key_binding_jwt = (!kb.is_empty()).then(|| kb.to_owned());
        SdJwt::from_parts(issuer_jwt, disclosures, key_binding_jwt)
    }

    /// Assembles an SD-JWT from its parts, with the checks of [`SdJwt::parse`].
    pub(crate) fn from_parts(
        issuer_jwt: &str,
        disclosures: Vec<Disclosure>,
        key_binding_jwt: Option<String>,
    ) -> Result<SdJwt, SdJwtError> {
        if issuer_jwt.len() > MAX_ISSUER_JWT_LEN {
            return Err(SdJwtError::TooLarge {
                len: issuer_jwt.len(),
                limit: MAX_ISSUER_JWT_LEN,
            });
        }
        if disclosures.len() > MAX_DISCLOSURES {
            return Err(SdJwtError::TooManyDisclosures(MAX_DISCLOSURES));
        }
        if let Some(kb) = &key_binding_jwt
            && kb.len() > MAX_KB_JWT_LEN
        {
            return Err(SdJwtError::TooLarge {
                len: kb.len(),
                limit: MAX_KB_JWT_LEN,
            });
        }
        let decoded = DecodedJws::decode(issuer_jwt).map_err(SdJwtError::IssuerJwt)?;
        let payload = match crate::json::parse(decoded.unverified_payload(), MAX_ISSUER_JWT_LEN) {
            Ok(Value::Object(payload)) => payload,
            Ok(_) => {
                return Err(SdJwtError::InvalidPayload(crate::json::JsonError::Schema(
                    "not a JSON object".into(),
                )));
            }
            Err(err) => return Err(SdJwtError::InvalidPayload(err)),
        };
        Ok(SdJwt {
            issuer_jwt: issuer_jwt.to_owned(),
            decoded,
            payload,
            disclosures,
            key_binding_jwt,
            json: JsonExtras::default(),
        })
    }

    /// The compact form: `<JWT>~<D1>~…~<Dn>~` followed by the KB-JWT if there is one. For a
    /// parsed SD-JWT this is byte for byte the text that was parsed.
    pub fn serialize(&self) -> String {
        let mut out = self.presentation_without_key_binding();
        if let Some(kb) = &self.key_binding_jwt {
            out.push_str(kb);
        }
        out
    }

    /// `<JWT>~<D1>~…~<Dn>~`, the text the KB-JWT's `sd_hash` covers (RFC 9901 §4.3.1).
    pub fn presentation_without_key_binding(&self) -> String {
        let mut out = String::with_capacity(
            self.issuer_jwt.len()
                + self
                    .disclosures
                    .iter()
                    .map(|d| d.as_str().len() + 1)
                    .sum::<usize>()
                + 1,
        );
        out.push_str(&self.issuer_jwt);
        out.push('~');
        for disclosure in &self.disclosures {
            out.push_str(disclosure.as_str());
            out.push('~');
        }
        out
    }

    /// The Issuer-signed JWT, in compact JWS form.
    pub fn issuer_jwt(&self) -> &str {
        &self.issuer_jwt
    }

    /// The Disclosures, in the order they appear.
    pub fn disclosures(&self) -> &[Disclosure] {
        &self.disclosures
    }

    /// The Key Binding JWT, if any, in compact JWS form.
    pub fn key_binding_jwt(&self) -> Option<&str> {
        self.key_binding_jwt.as_deref()
    }

    /// The issuer JWT's protected header, *unverified*: for finding the issuer key (`kid`,
    /// `x5c`) before verifying.
    pub fn unverified_header(&self) -> &JwsHeader {
        self.decoded.header()
    }

    /// The issuer JWT's `kid` header, *unverified*.
    pub fn unverified_kid(&self) -> Option<&str> {
        self.decoded.header().kid()
    }

    /// The payload's `iss`, *unverified*: for finding the issuer key before verifying, never
    /// for decisions.
    pub fn unverified_issuer(&self) -> Option<&str> {
        self.payload.get("iss").and_then(Value::as_str)
    }

    /// The issuer JWT's payload, *unverified* and unprocessed (digests, not claims).
    pub fn unverified_payload(&self) -> &Map<String, Value> {
        &self.payload
    }

    pub(crate) fn decoded_issuer_jwt(&self) -> &DecodedJws {
        &self.decoded
    }

    /// This SD-JWT with other Disclosures and KB-JWT (same issuer JWT).
    pub(crate) fn with_parts(
        &self,
        disclosures: Vec<Disclosure>,
        key_binding_jwt: Option<String>,
    ) -> SdJwt {
        SdJwt {
            issuer_jwt: self.issuer_jwt.clone(),
            decoded: self.decoded.clone(),
            payload: self.payload.clone(),
            disclosures,
            key_binding_jwt,
            json: self.json.clone(),
        }
    }

    /// What the JWS JSON Serialization carried besides the SD-JWT itself.
    pub(crate) fn json_extras(&self) -> &JsonExtras {
        &self.json
    }

    /// This SD-JWT with the given JWS JSON Serialization extras.
    pub(crate) fn with_json_extras(mut self, json: JsonExtras) -> SdJwt {
        self.json = json;
        self
    }
}

impl std::fmt::Debug for SdJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::fmt::Display for SdJwt {
    // The compact form is the credential itself: Display shows its shape only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SD-JWT with {} disclosures{}",
            self.disclosures.len(),
            if self.key_binding_jwt.is_some() {
                " and a KB-JWT"
            } else {
                ""
            }
        )
    }
}

/// Maps an error verifying a JWS to the KB-JWT family.
pub(crate) fn kb_error(err: JoseError) -> SdJwtError {
    match err {
        JoseError::UnexpectedType { .. } => SdJwtError::KeyBindingType,
        other => SdJwtError::KeyBindingJwt(other),
    }
}
