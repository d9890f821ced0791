//! Processing the payload against the Disclosures (RFC 9901 §7.1 step 3 onwards): the one
//! place digests are matched, shared by the verifier and the holder's `present`.

use super::{Disclosure, HashAlgorithm, MAX_PROCESSED_DEPTH, SdJwtError};
use crate::claims_path::{ClaimsPath, PathElement};
use serde_json::{Map, Value};
// Ordered collections: no per-process hashing of attacker-chosen digests (no HashDoS surface,
// and faster than SipHash for the few dozen digests an SD-JWT carries).
use std::collections::{BTreeMap, BTreeSet};

/// Where a Disclosure's claim landed in the processed payload.
#[derive(Debug, Clone)]
pub(crate) struct DisclosedAt {
    /// The claim's path in the processed payload.
    pub(crate) path: ClaimsPath,
    /// The Disclosure whose value contained the digest of this one (recursive disclosure).
    pub(crate) parent: Option<usize>,
}

/// The processed payload: claims with Disclosures in place, `_sd` and `_sd_alg` removed.
#[derive(Debug, Clone)]
pub(crate) struct Processed {
    pub(crate) claims: Map<String, Value>,
    /// For each Disclosure, by index, where it landed (all `Some` after a successful run).
    pub(crate) disclosed: Vec<DisclosedAt>,
}

/// Runs RFC 9901 §7.1 steps 3–5 over an (already signature-checked, or the holder's own)
/// payload.
pub(crate) fn process(
    payload: &Map<String, Value>,
    disclosures: &[Disclosure],
) -> Result<Processed, SdJwtError> {
    let alg = HashAlgorithm::from_payload(payload)?;
    let mut by_digest = BTreeMap::new();
    for (index, disclosure) in disclosures.iter().enumerate() {
        // The same Disclosure sent twice would otherwise be a second claim from one digest.
        if by_digest.insert(disclosure.digest(alg), index).is_some() {
            return Err(SdJwtError::DuplicateDigest);
        }
    }
    let mut walk = Walk {
        disclosures,
        by_digest,
        seen: BTreeSet::new(),
        used: vec![None; disclosures.len()],
        path: Vec::new(),
    };
    let mut top = payload.clone();
    top.remove("_sd_alg");
    let claims = walk.object(top, None, 0)?;
    let disclosed = walk
        .used
        .into_iter()
        .map(|at| at.ok_or(SdJwtError::UnreferencedDisclosure))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Processed { claims, disclosed })
}

struct Walk<'a> {
    disclosures: &'a [Disclosure],
    by_digest: BTreeMap<String, usize>,
    seen: BTreeSet<String>,
    used: Vec<Option<DisclosedAt>>,
    path: Vec<PathElement>,
}

impl Walk<'_> {
    fn value(
        &mut self,
        value: Value,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Value, SdJwtError> {
        Ok(match value {
            Value::Object(object) => Value::Object(self.object(object, parent, depth)?),
            Value::Array(items) => Value::Array(self.array(items, parent, depth)?),
            other => other,
        })
    }

    fn object(
        &mut self,
        mut object: Map<String, Value>,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Map<String, Value>, SdJwtError> {
        if depth > MAX_PROCESSED_DEPTH {
            return Err(SdJwtError::TooDeep(MAX_PROCESSED_DEPTH));
        }
        if depth > 0 && object.contains_key("_sd_alg") {
            return Err(SdJwtError::MisplacedSdAlg);
        }
        let digests = match object.remove("_sd") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(digest) => Ok(digest),
                    _ => Err(SdJwtError::InvalidSdArray),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(SdJwtError::InvalidSdArray),
        };
        let mut out = Map::with_capacity(object.len() + digests.len());
        for (name, value) in object {
            self.path.push(PathElement::Key(name.clone()));
            let value = self.value(value, parent, depth + 1);
            self.path.pop();
            out.insert(name, value?);
        }
        for digest in digests {
            let Some(index) = self.reference(digest)? else {
                continue; // a decoy, or a claim the holder did not disclose
            };
            let disclosure = self.disclosure(index)?;
            let Some(name) = disclosure.claim_name() else {
                return Err(SdJwtError::ArrayElementDisclosureInObject);
            };
            // `_sd_alg` belongs to the issuer-signed top level only, and was taken off it
            // before the walk (RFC 9901 §7.1 step 6): a Disclosure of that name would neither
            // collide with it nor be removed, and would come out as an `_sd_alg` claim.
            if name == "_sd_alg" {
                return Err(SdJwtError::MisplacedSdAlg);
            }
            if out.contains_key(name) {
                return Err(SdJwtError::ClaimNameCollision);
            }
            let name = name.to_owned();
            let value = disclosure.claim_value().clone();
            self.path.push(PathElement::Key(name.clone()));
            let result = self.disclose(index, value, parent, depth);
            self.path.pop();
            out.insert(name, result?);
        }
        Ok(out)
    }

    fn array(
        &mut self,
        items: Vec<Value>,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Vec<Value>, SdJwtError> {
        if depth > MAX_PROCESSED_DEPTH {
            return Err(SdJwtError::TooDeep(MAX_PROCESSED_DEPTH));
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            // The index in the *processed* array: undisclosed elements and decoys disappear.
            self.path.push(PathElement::Index(out.len()));
            let result = match array_digest(&item) {
                Some(Err(err)) => Err(err),
                Some(Ok(digest)) => match self.reference(digest.to_owned()) {
                    Err(err) => Err(err),
                    Ok(None) => {
                        self.path.pop();
                        continue;
                    }
                    Ok(Some(index)) => match self.disclosure(index) {
                        Err(err) => Err(err),
                        Ok(disclosure) if !disclosure.is_array_element() => {
                            Err(SdJwtError::ObjectPropertyDisclosureInArray)
                        }
                        Ok(disclosure) => {
                            let value = disclosure.claim_value().clone();
                            self.disclose(index, value, parent, depth)
                        }
                    },
                },
                None => self.value(item, parent, depth + 1),
            };
            self.path.pop();
            let value = result?;
            // A processed element shaped like a digest placeholder (a disclosed `{"...": …}`,
            // or `{"...": …, "_sd": […]}` once its `_sd` is gone) would sit in the array
            // indistinguishable from an undisclosed element: refuse the ambiguity.
            if array_digest(&value).is_some() {
                return Err(SdJwtError::AmbiguousArrayElement);
            }
            out.push(value);
        }
        Ok(out)
    }

    /// Records that `digest` was met; the Disclosure it refers to, if any.
    fn reference(&mut self, digest: String) -> Result<Option<usize>, SdJwtError> {
        let index = self.by_digest.get(&digest).copied();
        if !self.seen.insert(digest) {
            return Err(SdJwtError::DuplicateDigest);
        }
        Ok(index)
    }

    fn disclosure(&self, index: usize) -> Result<&Disclosure, SdJwtError> {
        // `by_digest` only holds indices of `disclosures`; a miss would be a bug, not input.
        self.disclosures
            .get(index)
            .ok_or(SdJwtError::UnreferencedDisclosure)
    }

    /// Puts Disclosure `index` in place at the current path and processes its value.
    fn disclose(
        &mut self,
        index: usize,
        value: Value,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Value, SdJwtError> {
        if let (Some(slot), Some(path)) =
            (self.used.get_mut(index), ClaimsPath::new(self.path.clone()))
        {
            *slot = Some(DisclosedAt { path, parent });
        }
        self.value(value, Some(index), depth + 1)
    }
}

/// `Some` when `item` is an array element digest `{"...": "<digest>"}` (RFC 9901 §4.2.4.2).
fn array_digest(item: &Value) -> Option<Result<&str, SdJwtError>> {
    let Value::Object(object) = item else {
        return None;
    };
    if object.len() != 1 {
        return None;
    }
    let digest = object.get("...")?;
    Some(digest.as_str().ok_or(SdJwtError::InvalidArrayDigest))
}
