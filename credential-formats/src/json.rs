//! Strict JSON decoding for attacker-supplied input.
//!
//! `serde_json` alone keeps the *last* of duplicate member names and reports errors that may
//! quote the offending value. JOSE (RFC 7515 §4) and SD-JWT (RFC 9901 §4.1) require duplicate
//! names to be rejected, and our errors must never echo a claim value, so every untrusted JSON
//! text goes through [`parse`]: bounded size, bounded nesting, no duplicate member names, and
//! errors that carry positions and categories only.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;
use thiserror::Error;

/// Nesting depth accepted in any JSON text we decode (objects and arrays count alike).
pub const MAX_DEPTH: usize = 32;

/// Why a JSON text was refused. Never carries a value from the input.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// The bytes are not UTF-8.
    #[error("not UTF-8")]
    NotUtf8,
    /// The text is longer than the limit for this kind of input.
    #[error("input of {len} bytes is over the limit of {limit}")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The limit that applied.
        limit: usize,
    },
    /// Objects and arrays nest deeper than [`MAX_DEPTH`].
    #[error("nesting deeper than {0}")]
    TooDeep(usize),
    /// An object has the same member name twice.
    #[error("duplicate member name in an object")]
    DuplicateMember,
    /// The text is not JSON (line and column of the first error).
    #[error("syntax error at line {line}, column {column}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The JSON is well formed but does not have the expected shape.
    #[error("unexpected structure: {0}")]
    Schema(String),
}

/// Parses untrusted JSON text into a [`Value`], refusing anything over `limit` bytes, nested
/// deeper than [`MAX_DEPTH`], or with a duplicate member name.
pub fn parse(bytes: &[u8], limit: usize) -> Result<Value, JsonError> {
    if bytes.len() > limit {
        return Err(JsonError::TooLarge {
            len: bytes.len(),
            limit,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| JsonError::NotUtf8)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = StrictValue { depth: 0 }
        .deserialize(&mut de)
        .map_err(from_serde)?;
    de.end().map_err(from_serde)?;
    Ok(value)
}

/// Parses untrusted JSON text straight into a typed value (same limits as [`parse`]).
pub fn parse_as<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    limit: usize,
) -> Result<T, JsonError> {
    from_value(parse(bytes, limit)?)
}

/// Converts an already strictly parsed [`Value`] into a typed value, with a value-free error.
pub fn from_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, JsonError> {
    serde_json::from_value(value).map_err(from_serde)
}

/// The JSON text of `value` with every object's members sorted by name (byte order of their
/// UTF-8, which is RFC 8785's order for the ASCII names used here) and no white space: the
/// form a digest of a JSON answer is taken over, whatever order the members came in.
pub fn canonical(value: &Value) -> Vec<u8> {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut members: Vec<_> = map.iter().collect();
                members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                Value::Object(
                    members
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    // Writing a `Value` to a `Vec` cannot fail: its keys are strings.
    serde_json::to_vec(&sorted(value)).unwrap_or_default()
}

/// Maps a `serde_json` error to a [`JsonError`] without the input's values.
pub(crate) fn from_serde(err: serde_json::Error) -> JsonError {
    let message = err.to_string();
    if message.starts_with(DUPLICATE) {
        return JsonError::DuplicateMember;
    }
    if let Some(rest) = message.strip_prefix(TOO_DEEP) {
        let _ = rest;
        return JsonError::TooDeep(MAX_DEPTH);
    }
    match err.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            JsonError::Syntax {
                line: err.line(),
                column: err.column(),
            }
        }
        serde_json::error::Category::Io => JsonError::Schema("I/O".to_owned()),
        serde_json::error::Category::Data => JsonError::Schema(sanitise(&message)),
    }
}

/// Keeps serde's description of *what* was expected and drops the quoted input.
fn sanitise(message: &str) -> String {
    // serde's data errors read "invalid type: string \"value\", expected u64 at line …",
    // "unknown variant `value`, expected one of …", "unknown field `name`, expected …" or
    // "missing field `vct`". All but the last quote input (a value, or a name the sender
    // chose).
    let message = message.split(" at line ").next().unwrap_or(message);
    for prefix in [
        "invalid type",
        "invalid value",
        "invalid length",
        "unknown variant",
        "unknown field",
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return match rest.rfind(", expected ") {
                Some(at) => format!("{prefix}{}", &rest[at..]),
                None => prefix.to_owned(),
            };
        }
    }
    // Custom messages from our own `TryFrom` conversions never quote input.
    message.to_owned()
}

const DUPLICATE: &str = "duplicate member name";
const TOO_DEEP: &str = "nesting deeper than the limit";

struct StrictValue {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl StrictValue {
    fn child<E: de::Error>(&self) -> Result<StrictValue, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(TOO_DEEP));
        }
        Ok(StrictValue {
            depth: self.depth + 1,
        })
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child()?)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self.child()?)?;
            if object.insert(key, value).is_some() {
                return Err(de::Error::custom(DUPLICATE));
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_sorts_members_at_every_depth_whatever_their_order() {
        let a = parse(
            br#"{"b": 1, "a": {"z": [ {"y": 2, "x": "\u00e9"} ], "c": null}}"#,
            1024,
        )
        .unwrap();
        let b = parse(
            br#"{"a":{"c":null,"z":[{"x":"\u00e9","y":2}]},"b":1}"#,
            1024,
        )
        .unwrap();
        let expected = "{\"a\":{\"c\":null,\"z\":[{\"x\":\"\u{e9}\",\"y\":2}]},\"b\":1}";
        assert_eq!(String::from_utf8(canonical(&a)).unwrap(), expected);
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(canonical(&Value::Null), b"null");
    }

    #[test]
    fn duplicate_member_names_are_refused_at_any_depth() {
        assert_eq!(
            parse(br#"{"a":1,"a":2}"#, 100),
            Err(JsonError::DuplicateMember)
        );
        assert_eq!(
            parse(br#"{"x":[{"b":1,"b":1}]}"#, 100),
            Err(JsonError::DuplicateMember)
        );
    }

    #[test]
    fn schema_errors_never_quote_the_input() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            kind: Kind,
            n: u8,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Kind {
            Alpha,
        }
        for input in [
            r#"{"kind":"secret-variant","n":1}"#,
            r#"{"kind":"alpha","n":"secret-string"}"#,
            r#"{"kind":"alpha","n":1,"secret-field":1}"#,
        ] {
            let err = parse_as::<T>(input.as_bytes(), 1000)
                .unwrap_err()
                .to_string();
            assert!(!err.contains("secret"), "{input}: {err}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes(), 10_000).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            parse(deep.as_bytes(), 10_000),
            Err(JsonError::TooDeep(MAX_DEPTH))
        );
        // Far past serde_json's own recursion limit: still our error, no stack overflow.
        let deeper = "[".repeat(100_000);
        assert!(parse(deeper.as_bytes(), 1_000_000).is_err());
    }

    #[test]
    fn size_and_encoding_are_checked_before_parsing() {
        assert_eq!(
            parse(b"[1,2,3]", 3),
            Err(JsonError::TooLarge { len: 7, limit: 3 })
        );
        assert_eq!(parse(b"\"\xff\"", 100), Err(JsonError::NotUtf8));
        assert!(matches!(parse(b"{", 100), Err(JsonError::Syntax { .. })));
        assert!(matches!(parse(b"1 2", 100), Err(JsonError::Syntax { .. })));
        assert!(parse(b"1e400", 100).is_err());
    }

    #[test]
    fn schema_errors_do_not_quote_input() {
        #[derive(serde::Deserialize, Debug)]
        struct T {
            #[allow(dead_code)]
            n: u64,
        }
        let err = parse_as::<T>(br#"{"n":"secret-value"}"#, 100).unwrap_err();
        assert!(!err.to_string().contains("secret-value"), "{err}");
        let err = parse_as::<T>(br#"{}"#, 100).unwrap_err();
        assert!(err.to_string().contains("missing field `n`"), "{err}");
    }
}
