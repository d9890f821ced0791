//! The JWS JSON Serialization of an SD-JWT or SD-JWT+KB (RFC 9901 §8): the Issuer-signed JWT
//! as a Flattened or General JWS JSON Serialization (RFC 7515 §7.2), with the Disclosures and
//! the KB-JWT in the unprotected header members `disclosures` and `kb_jwt`.
//!
//! Parsing rebuilds the compact form's parts, so verification is the compact form's: in
//! particular the KB-JWT's `sd_hash` is checked against the compact serialization
//! `<protected>.<payload>.<signature>~<D1>~…~<Dn>~` assembled from the first signature and the
//! `disclosures` member (RFC 9901 §8.1, §8.4) — never against the JSON text, and never
//! skipped, so a Disclosure added to or removed from the unprotected header breaks it.

use super::{Disclosure, MAX_DISCLOSURES, MAX_SD_JWT_LEN, SdJwt, SdJwtError};
use serde_json::{Map, Value};

/// Unprotected header member holding the Disclosures (RFC 9901 §8.1).
const DISCLOSURES: &str = "disclosures";
/// Unprotected header member holding the KB-JWT (RFC 9901 §8.1).
const KB_JWT: &str = "kb_jwt";

/// What a JWS JSON Serialization carries besides the SD-JWT: the first signature's other
/// unprotected header members (such as `kid`) and any further signatures. None of it is
/// covered by the issuer's signature or by `sd_hash`; it is kept only so that re-serializing
/// gives back what was received.
#[derive(Clone, Default, PartialEq)]
pub(crate) struct JsonExtras {
    unprotected: Map<String, Value>,
    other_signatures: Vec<Map<String, Value>>,
}

impl SdJwt {
    /// Parses an SD-JWT or SD-JWT+KB in the JWS JSON Serialization (RFC 9901 §8), Flattened or
    /// General, with the checks of [`SdJwt::parse`] on the rebuilt parts.
    ///
    /// In the General form, the SD-JWT is the first signature: its protected header, the
    /// payload and its signature make the Issuer-signed JWT, and its unprotected header holds
    /// `disclosures` and `kb_jwt`, which no later signature may carry (RFC 9901 §8.3,
    /// [`SdJwtError::MisplacedDisclosures`]). Later signatures are kept for re-serialization
    /// but never verified: [`SdJwt::verify`] checks the first signature with the caller's
    /// issuer key, and the KB-JWT's `sd_hash` binds exactly that signature.
    ///
    /// `disclosures` is required (an empty array when nothing is disclosed): without it the
    /// input is a plain JWS, not an SD-JWT. Members this specification does not define are
    /// ignored at the top level and in signature objects (RFC 7515 §7.2.1).
    pub fn parse_json(input: &[u8]) -> Result<SdJwt, SdJwtError> {
        let value =
            crate::json::parse(input, MAX_SD_JWT_LEN).map_err(SdJwtError::JsonSerialization)?;
        let Value::Object(mut top) = value else {
            return Err(SdJwtError::JsonSerializationMember("top level"));
        };
        let payload = take_string(&mut top, "payload")?;
        let (first, other_signatures) = match top.remove("signatures") {
            Some(signatures) => {
                if ["protected", "header", "signature"]
                    .iter()
                    .any(|name| top.contains_key(*name))
                {
                    return Err(SdJwtError::MixedJsonSerialization);
                }
                let Value::Array(signatures) = signatures else {
                    return Err(SdJwtError::JsonSerializationMember("signatures"));
                };
                let mut signatures = signatures.into_iter();
                let first = signatures.next().ok_or(SdJwtError::NoSignature)?;
                let Value::Object(first) = first else {
                    return Err(SdJwtError::JsonSerializationMember("signatures"));
                };
                let others = signatures
                    .map(other_signature)
                    .collect::<Result<Vec<_>, _>>()?;
                (first, others)
            }
            None => (top, Vec::new()),
        };
        let mut first = signature_object(first)?;
        let disclosures = match first.header.remove(DISCLOSURES) {
            Some(Value::Array(items)) => {
                if items.len() > MAX_DISCLOSURES {
                    return Err(SdJwtError::TooManyDisclosures(MAX_DISCLOSURES));
                }
                items
                    .iter()
                    .map(|item| match item {
                        Value::String(text) => Disclosure::parse(text),
                        _ => Err(SdJwtError::JsonSerializationMember(DISCLOSURES)),
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
            _ => return Err(SdJwtError::JsonSerializationMember(DISCLOSURES)),
        };
        let key_binding_jwt = match first.header.remove(KB_JWT) {
            None => None,
            // Any `~` would make the compact form of this SD-JWT+KB ambiguous.
            Some(Value::String(kb)) if !kb.is_empty() && !kb.contains('~') => Some(kb),
            Some(_) => return Err(SdJwtError::JsonSerializationMember(KB_JWT)),
        };
        let issuer_jwt = format!("{}.{payload}.{}", first.protected, first.signature);
        let sd_jwt = SdJwt::from_parts(&issuer_jwt, disclosures, key_binding_jwt)?;
        Ok(sd_jwt.with_json_extras(JsonExtras {
            unprotected: first.header,
            other_signatures,
        }))
    }

    /// The Flattened JWS JSON Serialization (RFC 9901 §8.2): `header` (with `disclosures` and,
    /// for an SD-JWT+KB, `kb_jwt`), `payload`, `protected` and `signature`. Only the first
    /// signature of a General serialization fits this form; others are left out.
    pub fn to_json_flattened(&self) -> Value {
        let (protected, payload, signature) = self.issuer_jwt_parts();
        let mut out = Map::new();
        out.insert("header".into(), Value::Object(self.unprotected_header()));
        out.insert("payload".into(), Value::from(payload));
        out.insert("protected".into(), Value::from(protected));
        out.insert("signature".into(), Value::from(signature));
        Value::Object(out)
    }

    /// The General JWS JSON Serialization (RFC 9901 §8.3): `payload` and `signatures`, the
    /// first of which carries `disclosures` and `kb_jwt`; any further signatures received
    /// with a parsed General serialization follow unchanged.
    pub fn to_json_general(&self) -> Value {
        let (protected, payload, signature) = self.issuer_jwt_parts();
        let mut first = Map::new();
        first.insert("header".into(), Value::Object(self.unprotected_header()));
        first.insert("protected".into(), Value::from(protected));
        first.insert("signature".into(), Value::from(signature));
        let mut signatures = vec![Value::Object(first)];
        signatures.extend(
            self.json_extras()
                .other_signatures
                .iter()
                .cloned()
                .map(Value::Object),
        );
        let mut out = Map::new();
        out.insert("payload".into(), Value::from(payload));
        out.insert("signatures".into(), Value::Array(signatures));
        Value::Object(out)
    }

    /// The members of the first unprotected header other than `disclosures` and `kb_jwt`
    /// (such as `kid`), as received in a JWS JSON Serialization; empty for the compact form.
    /// *Unverified*: nothing signs them (RFC 9901 §8.1).
    pub fn unverified_unprotected_header(&self) -> &Map<String, Value> {
        &self.json_extras().unprotected
    }

    fn unprotected_header(&self) -> Map<String, Value> {
        let mut header = Map::new();
        header.insert(
            DISCLOSURES.into(),
            Value::Array(
                self.disclosures()
                    .iter()
                    .map(|d| Value::from(d.as_str()))
                    .collect(),
            ),
        );
        for (name, value) in &self.json_extras().unprotected {
            header.insert(name.clone(), value.clone());
        }
        if let Some(kb) = self.key_binding_jwt() {
            header.insert(KB_JWT.into(), Value::from(kb));
        }
        header
    }

    /// `(protected, payload, signature)` of the Issuer-signed JWT, which parsing has checked
    /// to have exactly three parts.
    fn issuer_jwt_parts(&self) -> (&str, &str, &str) {
        let mut parts = self.issuer_jwt().splitn(3, '.');
        let protected = parts.next().unwrap_or_default();
        let payload = parts.next().unwrap_or_default();
        let signature = parts.next().unwrap_or_default();
        (protected, payload, signature)
    }
}

/// One signature object of RFC 7515 §7.2.1: `protected`, `signature`, and the unprotected
/// `header`, whose members must not repeat a protected one.
struct SignatureObject {
    protected: String,
    signature: String,
    header: Map<String, Value>,
}

fn signature_object(mut object: Map<String, Value>) -> Result<SignatureObject, SdJwtError> {
    // An SD-JWT's `alg` and `typ` must be integrity protected, so `protected` is required.
    let protected = take_string(&mut object, "protected")?;
    let signature = take_string(&mut object, "signature")?;
    let header = match object.remove("header") {
        None => Map::new(),
        Some(Value::Object(header)) => header,
        Some(_) => return Err(SdJwtError::JsonSerializationMember("header")),
    };
    if header.contains_key("crit") {
        return Err(SdJwtError::UnprotectedHeaderConflict);
    }
    let protected_names = crate::b64::decode(&protected)
        .and_then(|bytes| crate::json::parse(&bytes, MAX_SD_JWT_LEN).ok())
        .and_then(|value| match value {
            Value::Object(members) => Some(members),
            _ => None,
        })
        .ok_or(SdJwtError::JsonSerializationMember("protected"))?;
    if header.keys().any(|name| protected_names.contains_key(name)) {
        return Err(SdJwtError::UnprotectedHeaderConflict);
    }
    Ok(SignatureObject {
        protected,
        signature,
        header,
    })
}

/// A signature after the first: well formed, without `disclosures` or `kb_jwt`, kept as
/// received.
fn other_signature(value: Value) -> Result<Map<String, Value>, SdJwtError> {
    let Value::Object(object) = value else {
        return Err(SdJwtError::JsonSerializationMember("signatures"));
    };
    let checked = signature_object(object.clone())?;
    if checked.header.contains_key(DISCLOSURES) || checked.header.contains_key(KB_JWT) {
        return Err(SdJwtError::MisplacedDisclosures);
    }
    Ok(object)
}

fn take_string(object: &mut Map<String, Value>, name: &'static str) -> Result<String, SdJwtError> {
    match object.remove(name) {
        Some(Value::String(text)) => Ok(text),
        _ => Err(SdJwtError::JsonSerializationMember(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const S82: &str = include_str!("../../../spec/vectors/rfc9901-8.2-flattened-presentation.json");
    const S83: &str = include_str!("../../../spec/vectors/rfc9901-8.3-general-presentation.json");

    fn parse(value: &Value) -> Result<SdJwt, SdJwtError> {
        SdJwt::parse_json(value.to_string().as_bytes())
    }

    fn flattened() -> Value {
        serde_json::from_str(S82).unwrap()
    }

    fn general() -> Value {
        serde_json::from_str(S83).unwrap()
    }

    #[test]
    fn rfc9901_8_1_members_must_have_their_types() {
        for (member, bad) in [
            ("payload", json!(1)),
            ("protected", json!(null)),
            ("signature", json!([])),
            ("header", json!("x")),
        ] {
            let mut v = flattened();
            v[member] = bad;
            assert!(
                matches!(parse(&v), Err(SdJwtError::JsonSerializationMember(_))),
                "{member}"
            );
        }
        for (member, bad) in [
            ("disclosures", json!("WyJh")),
            ("disclosures", json!([1])),
            ("kb_jwt", json!(1)),
            ("kb_jwt", json!("")),
            ("kb_jwt", json!("a.b.c~")),
        ] {
            let mut v = flattened();
            v["header"][member] = bad;
            assert!(
                matches!(parse(&v), Err(SdJwtError::JsonSerializationMember(_))),
                "{member}"
            );
        }
        // Without `disclosures` it is a plain JWS, not an SD-JWT.
        let mut v = flattened();
        v["header"].as_object_mut().unwrap().remove("disclosures");
        assert_eq!(
            parse(&v).unwrap_err(),
            SdJwtError::JsonSerializationMember("disclosures")
        );
        let mut v = flattened();
        v.as_object_mut().unwrap().remove("header");
        assert_eq!(
            parse(&v).unwrap_err(),
            SdJwtError::JsonSerializationMember("disclosures")
        );
        // A malformed Disclosure gets the compact form's error.
        let mut v = flattened();
        v["header"]["disclosures"] = json!(["!!"]);
        assert_eq!(parse(&v).unwrap_err(), SdJwtError::DisclosureBase64);
        assert!(matches!(
            parse(&json!([])),
            Err(SdJwtError::JsonSerializationMember(_))
        ));
    }

    #[test]
    fn rfc9901_8_bad_json_and_limits() {
        assert!(matches!(
            SdJwt::parse_json(b"{\"payload\":\"a\",\"payload\":\"b\"}"),
            Err(SdJwtError::JsonSerialization(
                crate::json::JsonError::DuplicateMember
            ))
        ));
        assert!(matches!(
            SdJwt::parse_json(b"{"),
            Err(SdJwtError::JsonSerialization(_))
        ));
        assert!(matches!(
            SdJwt::parse_json(&vec![b' '; MAX_SD_JWT_LEN + 1]),
            Err(SdJwtError::JsonSerialization(
                crate::json::JsonError::TooLarge { .. }
            ))
        ));
        let mut v = flattened();
        v["header"]["disclosures"] = Value::Array(vec![json!("WyJhIiwgMV0"); MAX_DISCLOSURES + 1]);
        assert_eq!(
            parse(&v).unwrap_err(),
            SdJwtError::TooManyDisclosures(MAX_DISCLOSURES)
        );
        // A payload with a `.` or `~` does not smuggle extra parts into the compact form.
        for bad in [".", "~"] {
            let mut v = flattened();
            v["payload"] = json!(format!("{}{bad}", v["payload"].as_str().unwrap()));
            assert!(matches!(parse(&v), Err(SdJwtError::IssuerJwt(_))), "{bad}");
        }
    }

    #[test]
    fn rfc9901_8_3_general_form_rules() {
        let mut v = general();
        v["signatures"] = json!([]);
        assert_eq!(parse(&v).unwrap_err(), SdJwtError::NoSignature);
        let mut v = general();
        v["signatures"] = json!({});
        assert_eq!(
            parse(&v).unwrap_err(),
            SdJwtError::JsonSerializationMember("signatures")
        );
        for member in ["disclosures", "kb_jwt"] {
            let mut v = general();
            let value = v["signatures"][0]["header"][member].clone();
            v["signatures"][1]["header"][member] = value;
            assert_eq!(parse(&v).unwrap_err(), SdJwtError::MisplacedDisclosures);
        }
        let mut v = general();
        v["signature"] = json!("x");
        assert_eq!(parse(&v).unwrap_err(), SdJwtError::MixedJsonSerialization);
        // Re-serialized as flattened, only the first signature remains, and it verifies alike.
        let sd_jwt = parse(&general()).unwrap();
        let flat = sd_jwt.to_json_flattened();
        assert!(flat.get("signatures").is_none());
        let again = parse(&flat).unwrap();
        assert_eq!(again.serialize(), sd_jwt.serialize());
    }

    #[test]
    fn rfc7515_7_2_1_unprotected_header_must_not_repeat_or_hold_crit() {
        for name in ["alg", "typ", "crit"] {
            let mut v = flattened();
            v["header"][name] = json!("ES256");
            assert_eq!(
                parse(&v).unwrap_err(),
                SdJwtError::UnprotectedHeaderConflict,
                "{name}"
            );
            let mut v = general();
            v["signatures"][1]["header"][name] = json!("ES256");
            assert_eq!(
                parse(&v).unwrap_err(),
                SdJwtError::UnprotectedHeaderConflict,
                "{name}"
            );
        }
    }

    #[test]
    fn rfc9901_8_compact_and_json_forms_convert_both_ways() {
        let sd_jwt = parse(&flattened()).unwrap();
        for json in [sd_jwt.to_json_flattened(), sd_jwt.to_json_general()] {
            let again = parse(&json).unwrap();
            assert_eq!(again.serialize(), sd_jwt.serialize());
            assert_eq!(
                again.presentation_without_key_binding(),
                sd_jwt.presentation_without_key_binding()
            );
        }
    }
}
