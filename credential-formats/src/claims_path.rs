//! Claims path pointers (OpenID4VP 1.0 §7): the one way this project names a claim inside a
//! credential — in DCQL queries, in SD-JWT presentation choices and in the wallet's consent
//! screen.
//!
//! A path is a non-empty array whose elements are a string (an object member), a non-negative
//! integer (an array index) or `null` (every element of an array).

use crate::dcql::DcqlError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// One step of a [`ClaimsPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElement {
    /// An object member, by name.
    Key(String),
    /// An array element, by index.
    Index(usize),
    /// Every element of an array (`null` in JSON).
    AllElements,
}

/// A claims path pointer (OpenID4VP 1.0 §7), never empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "Vec<Value>", into = "Vec<Value>")]
pub struct ClaimsPath(Vec<PathElement>);

impl ClaimsPath {
    /// Builds a path from its elements; `None` when empty.
    pub fn new(elements: Vec<PathElement>) -> Option<ClaimsPath> {
        (!elements.is_empty()).then_some(ClaimsPath(elements))
    }

    /// A path of object member names only, such as `["address", "locality"]`.
    pub fn keys<I, S>(names: I) -> Option<ClaimsPath>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ClaimsPath::new(
            names
                .into_iter()
                .map(|n| PathElement::Key(n.into()))
                .collect(),
        )
    }

    /// The elements, first to last.
    pub fn elements(&self) -> &[PathElement] {
        &self.0
    }

    /// Whether `self` is `other` or leads to it (`["a"]` is a prefix of `["a", "b"]`).
    pub fn is_prefix_of(&self, other: &ClaimsPath) -> bool {
        self.0.len() <= other.0.len()
            && self.0.iter().zip(&other.0).all(|(a, b)| match (a, b) {
                (PathElement::AllElements, PathElement::Index(_) | PathElement::AllElements) => {
                    true
                }
                _ => a == b,
            })
    }

    /// Selects the values the path points to in `root`, following the processing rules of
    /// OpenID4VP 1.0 §7.1 exactly: a string component selects that member of every selected
    /// element, dropping elements without it; an integer selects that index, dropping arrays
    /// too short; `null` selects every element. Processing aborts with
    /// [`DcqlError::ClaimsPathMismatch`] when a string component meets a selected element that
    /// is not an object, or an integer or `null` component one that is not an array, and with
    /// [`DcqlError::ClaimsPathSelectsNothing`] when the selection becomes empty.
    pub fn select<'a>(&self, root: &'a Value) -> Result<Vec<&'a Value>, DcqlError> {
        let mut current = vec![root];
        for element in &self.0 {
            let mut next = Vec::new();
            for value in current {
                match (element, value) {
                    (PathElement::Key(name), Value::Object(map)) => next.extend(map.get(name)),
                    (PathElement::Index(i), Value::Array(items)) => next.extend(items.get(*i)),
                    (PathElement::AllElements, Value::Array(items)) => next.extend(items.iter()),
                    _ => return Err(DcqlError::ClaimsPathMismatch),
                }
            }
            if next.is_empty() {
                return Err(DcqlError::ClaimsPathSelectsNothing);
            }
            current = next;
        }
        Ok(current)
    }
}

impl fmt::Display for ClaimsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json: Vec<Value> = self.clone().into();
        write!(f, "{}", Value::Array(json))
    }
}

impl TryFrom<Vec<Value>> for ClaimsPath {
    type Error = DcqlError;

    fn try_from(values: Vec<Value>) -> Result<ClaimsPath, DcqlError> {
        let elements = values
            .into_iter()
            .map(|value| match value {
                Value::String(name) => Ok(PathElement::Key(name)),
                Value::Null => Ok(PathElement::AllElements),
                Value::Number(n) => n
                    .as_u64()
                    .and_then(|i| usize::try_from(i).ok())
                    .map(PathElement::Index)
                    .ok_or(DcqlError::InvalidClaimsPath(
                        "index is not a non-negative integer",
                    )),
                _ => Err(DcqlError::InvalidClaimsPath(
                    "element is not a string, integer or null",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        ClaimsPath::new(elements).ok_or(DcqlError::InvalidClaimsPath("empty path"))
    }
}

impl From<ClaimsPath> for Vec<Value> {
    fn from(path: ClaimsPath) -> Vec<Value> {
        path.0
            .into_iter()
            .map(|element| match element {
                PathElement::Key(name) => Value::String(name),
                PathElement::Index(i) => Value::from(i),
                PathElement::AllElements => Value::Null,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // The example credential of OpenID4VP 1.0 §7.4.
    fn credential() -> Value {
        json!({
            "name": "Arthur Dent",
            "address": {"street_address": "42 Market Street", "locality": "Milliways", "postal_code": "12345"},
            "degrees": [
                {"type": "Bachelor of Science", "university": "University of Betelgeuse"},
                {"type": "Master of Science", "university": "University of Betelgeuse"}
            ],
            "nationalities": ["British", "Betelgeusian"]
        })
    }

    fn path(v: Value) -> ClaimsPath {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn openid4vp_7_4_examples() {
        let c = credential();
        let select = |p: Value| path(p).select(&c).unwrap();
        assert_eq!(select(json!(["name"])), vec![&json!("Arthur Dent")]);
        assert_eq!(select(json!(["address"])), vec![&c["address"]]);
        assert_eq!(
            select(json!(["address", "street_address"])),
            vec![&json!("42 Market Street")]
        );
        assert_eq!(
            select(json!(["degrees", null, "type"])),
            vec![&json!("Bachelor of Science"), &json!("Master of Science")]
        );
        assert_eq!(
            select(json!(["nationalities", 1])),
            vec![&json!("Betelgeusian")]
        );
    }

    #[test]
    fn openid4vp_7_1_type_mismatch_aborts_with_an_error() {
        let c = credential();
        for p in [
            json!(["name", "x"]),           // string component, element is a string
            json!(["address", 0]),          // integer component, element is an object
            json!(["address", null]),       // null component, element is an object
            json!(["degrees", "type"]),     // string component, element is an array
            json!(["nationalities", 0, 0]), // integer component, element is a string
        ] {
            assert_eq!(
                path(p.clone()).select(&c),
                Err(DcqlError::ClaimsPathMismatch),
                "{p}"
            );
        }
        // One non-object among the selected elements aborts, even if others fit.
        let mixed = json!({"a": [{"b": 1}, "not an object"]});
        assert_eq!(
            path(json!(["a", null, "b"])).select(&mixed),
            Err(DcqlError::ClaimsPathMismatch)
        );
        // The root is an element too.
        assert_eq!(
            path(json!([0])).select(&c),
            Err(DcqlError::ClaimsPathMismatch)
        );
    }

    #[test]
    fn openid4vp_7_1_empty_selection_aborts_with_an_error() {
        let c = credential();
        for p in [
            json!(["missing"]),
            json!(["address", "missing"]),
            json!(["nationalities", 2]),
            json!(["degrees", null, "missing"]),
        ] {
            assert_eq!(
                path(p.clone()).select(&c),
                Err(DcqlError::ClaimsPathSelectsNothing),
                "{p}"
            );
        }
        assert_eq!(
            path(json!(["a", null])).select(&json!({"a": []})),
            Err(DcqlError::ClaimsPathSelectsNothing)
        );
        // Elements without the member are dropped; the others stay selected.
        let partial = json!({"a": [{"b": 1}, {"c": 2}]});
        assert_eq!(
            path(json!(["a", null, "b"])).select(&partial),
            Ok(vec![&json!(1)])
        );
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in [
            json!([]),
            json!([-1]),
            json!([1.5]),
            json!([true]),
            json!([{}]),
        ] {
            assert!(serde_json::from_value::<ClaimsPath>(bad).is_err());
        }
        assert!(serde_json::from_value::<ClaimsPath>(json!("name")).is_err());
    }

    #[test]
    fn prefixes() {
        let a = path(json!(["address"]));
        let b = path(json!(["address", "locality"]));
        assert!(a.is_prefix_of(&b) && !b.is_prefix_of(&a) && a.is_prefix_of(&a));
        assert!(path(json!(["degrees", null])).is_prefix_of(&path(json!(["degrees", 1, "type"]))));
    }
}
