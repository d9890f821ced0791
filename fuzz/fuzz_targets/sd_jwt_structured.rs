#![no_main]
//! Structure-aware SD-JWT target. From an `arbitrary` claim tree and choice of disclosable
//! claims, issue a *validly signed* SD-JWT with the fixed issuer key, then apply mutations to
//! the Disclosures and to the issuer payload (digests moved, duplicated, dropped; Disclosures
//! rewritten with their digests updated), re-sign the issuer JWT so the signature holds, and
//! verify. `verify` must never panic, and every accepted result must satisfy the processing
//! invariants (`common::check_processed`). An unmutated SD-JWT must verify.

mod common;

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential_formats::claims_path::{ClaimsPath, PathElement};
use credential_formats::jose::{Jwk, JwsHeader};
use credential_formats::sd_jwt::{
    HashAlgorithm, KeyBinding, KeyBindingPolicy, KeyBindingRequirements, SdJwt, SdJwtBuilder,
    Verification,
};
use credential_formats::time::FixedClock;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

/// Claim names from a small set, so that collisions (and the reserved names) come up often.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Name {
    A,
    B,
    C,
    GivenName,
    Address,
    Sd,
    SdAlg,
    Ellipsis,
    Cnf,
    Iss,
    Exp,
}

impl Name {
    fn as_str(self) -> &'static str {
        match self {
            Name::A => "a",
            Name::B => "b",
            Name::C => "c",
            Name::GivenName => "given_name",
            Name::Address => "address",
            Name::Sd => "_sd",
            Name::SdAlg => "_sd_alg",
            Name::Ellipsis => "...",
            Name::Cnf => "cnf",
            Name::Iss => "iss",
            Name::Exp => "exp",
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Object(Vec<(Name, Node, bool)>),
    Array(Vec<(Node, bool)>),
}

const MAX_DEPTH: usize = 6;

/// Converts the tree to JSON, collecting the paths chosen to be selectively disclosable.
fn to_json(
    node: &Node,
    path: &mut Vec<PathElement>,
    out: &mut Vec<ClaimsPath>,
    depth: usize,
) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Int(i) => Value::from(*i),
        Node::Str(s) => Value::from(s.clone()),
        Node::Object(members) => {
            let mut map = Map::new();
            for (name, child, disclosable) in members {
                path.push(PathElement::Key(name.as_str().to_owned()));
                let value = to_json(child, path, out, depth + 1);
                if *disclosable && !map.contains_key(name.as_str()) {
                    out.extend(ClaimsPath::new(path.clone()));
                }
                path.pop();
                map.insert(name.as_str().to_owned(), value);
            }
            Value::Object(map)
        }
        Node::Array(items) => {
            let mut array = Vec::new();
            for (i, (child, disclosable)) in items.iter().enumerate() {
                path.push(PathElement::Index(i));
                array.push(to_json(child, path, out, depth + 1));
                if *disclosable {
                    out.extend(ClaimsPath::new(path.clone()));
                }
                path.pop();
            }
            Value::Array(array)
        }
    }
}

#[derive(Arbitrary, Debug)]
enum SdAlg {
    Sha256,
    Sha384,
    Sha512,
    Upper,
    Number,
    Missing,
}

#[derive(Arbitrary, Debug)]
enum Mutation {
    /// Removes a Disclosure from the presentation.
    DropDisclosure(u8),
    /// Sends a Disclosure twice.
    DuplicateDisclosure(u8),
    /// Reorders two Disclosures.
    SwapDisclosures(u8, u8),
    /// Rewrites a Disclosure's JSON array (digest in the payload updated).
    RewriteDisclosure(u8, DisclosureShape),
    /// Adds a Disclosure's digest in another place in the payload (object `_sd` or array
    /// `{"...": digest}`), making it referenced twice or in the wrong kind of place.
    AddDigestAt(u8, u8),
    /// Removes a digest from the payload.
    RemoveDigest(u8),
    /// Puts a Disclosure's digest into another Disclosure's value (nested reference).
    NestDigest(u8, u8),
    /// Sets `_sd_alg`.
    SetSdAlg(SdAlg),
    /// Replaces a container's `_sd` member with a non-array or an array of non-strings.
    CorruptSd(u8, Node),
    /// Replaces a value in the payload.
    ReplaceValue(u8, Node),
}

#[derive(Arbitrary, Debug)]
enum DisclosureShape {
    /// `[salt, name, value]` with a new name.
    Rename(Name),
    /// `[salt, value]`: an object property turned into an array element.
    DropName,
    /// A new value.
    Value(Node),
    /// A non-string salt.
    SaltNumber(i64),
    /// Too many elements.
    Extra(Node),
    /// A digest-bearing value: `{"_sd": [digest of another]}`.
    SdObject(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    claims: Vec<(Name, Node, bool)>,
    decoys: u8,
    holder: bool,
    mutations: Vec<Mutation>,
}

fn digest(encoded: &str) -> String {
    HashAlgorithm::Sha256.digest(encoded)
}

fn encode(json: &Value) -> String {
    URL_SAFE_NO_PAD.encode(json.to_string())
}

fn decode(encoded: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).ok()?).ok()
}

/// Replaces every string equal to `old` by `new`, in values and in `_sd` arrays alike.
fn replace_string(value: &mut Value, old: &str, new: &str) {
    match value {
        Value::String(s) if s == old => *s = new.to_owned(),
        Value::Object(map) => map.values_mut().for_each(|v| replace_string(v, old, new)),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_string(v, old, new)),
        _ => {}
    }
}

/// JSON pointers of every object and array in `value`.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            out.push(at.clone());
            for (k, v) in map {
                let k = k.replace('~', "~0").replace('/', "~1");
                pointers(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            out.push(at.clone());
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn pick<T>(items: &[T], i: u8) -> Option<&T> {
    if items.is_empty() {
        None
    } else {
        items.get(usize::from(i) % items.len())
    }
}

fn insert_digest(target: &mut Value, digest: String) {
    match target {
        Value::Object(map) => {
            let sd = map.entry("_sd").or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = sd {
                items.push(Value::String(digest));
            }
        }
        Value::Array(items) => items.push(json!({ "...": digest })),
        _ => {}
    }
}

fn apply(mutation: &Mutation, payload: &mut Value, disclosures: &mut Vec<String>) {
    let n = disclosures.len();
    let index = |i: u8| {
        if n == 0 {
            None
        } else {
            Some(usize::from(i) % n)
        }
    };
    match mutation {
        Mutation::DropDisclosure(i) => {
            if let Some(i) = index(*i) {
                disclosures.remove(i);
            }
        }
        Mutation::DuplicateDisclosure(i) => {
            if let Some(i) = index(*i) {
                let d = disclosures[i].clone();
                disclosures.push(d);
            }
        }
        Mutation::SwapDisclosures(i, j) => {
            if let (Some(i), Some(j)) = (index(*i), index(*j)) {
                disclosures.swap(i, j);
            }
        }
        Mutation::RewriteDisclosure(i, shape) => {
            let Some(i) = index(*i) else { return };
            let old = disclosures[i].clone();
            let Some(Value::Array(mut items)) = decode(&old) else {
                return;
            };
            match shape {
                DisclosureShape::Rename(name) => {
                    if items.len() == 3 {
                        items[1] = Value::from(name.as_str());
                    } else {
                        items.insert(1, Value::from(name.as_str()));
                    }
                }
                DisclosureShape::DropName => {
                    if items.len() == 3 {
                        items.remove(1);
                    }
                }
                DisclosureShape::Value(node) => {
                    if let Some(last) = items.last_mut() {
                        *last = to_json(node, &mut Vec::new(), &mut Vec::new(), 0);
                    }
                }
                DisclosureShape::SaltNumber(x) => {
                    if let Some(first) = items.first_mut() {
                        *first = Value::from(*x);
                    }
                }
                DisclosureShape::Extra(node) => {
                    items.push(to_json(node, &mut Vec::new(), &mut Vec::new(), 0));
                }
                DisclosureShape::SdObject(j) => {
                    let Some(j) = index(*j) else { return };
                    let other = digest(&disclosures[j]);
                    if let Some(last) = items.last_mut() {
                        *last = json!({ "_sd": [other], "x": 1 });
                    }
                }
            }
            let new = encode(&Value::Array(items));
            replace_string(payload, &digest(&old), &digest(&new));
            for d in disclosures.iter_mut() {
                if *d == old {
                    *d = new.clone();
                }
            }
        }
        Mutation::AddDigestAt(i, at) => {
            let Some(i) = index(*i) else { return };
            let d = digest(&disclosures[i]);
            let mut ptrs = Vec::new();
            pointers(payload, String::new(), &mut ptrs);
            if let Some(ptr) = pick(&ptrs, *at)
                && let Some(target) = payload.pointer_mut(ptr)
            {
                insert_digest(target, d);
            }
        }
        Mutation::RemoveDigest(i) => {
            let Some(i) = index(*i) else { return };
            replace_string(payload, &digest(&disclosures[i]), "removed");
        }
        Mutation::NestDigest(i, j) => {
            let (Some(i), Some(j)) = (index(*i), index(*j)) else {
                return;
            };
            let inner = digest(&disclosures[j]);
            let old = disclosures[i].clone();
            let Some(Value::Array(mut items)) = decode(&old) else {
                return;
            };
            if let Some(last) = items.last_mut() {
                if !matches!(last, Value::Object(_) | Value::Array(_)) {
                    *last = json!({});
                }
                insert_digest(last, inner);
            }
            let new = encode(&Value::Array(items));
            replace_string(payload, &digest(&old), &digest(&new));
            for d in disclosures.iter_mut() {
                if *d == old {
                    *d = new.clone();
                }
            }
        }
        Mutation::SetSdAlg(alg) => {
            let Value::Object(map) = payload else { return };
            let value = match alg {
                SdAlg::Sha256 => Value::from("sha-256"),
                SdAlg::Sha384 => Value::from("sha-384"),
                SdAlg::Sha512 => Value::from("sha-512"),
                SdAlg::Upper => Value::from("SHA-256"),
                SdAlg::Number => Value::from(256),
                SdAlg::Missing => {
                    map.remove("_sd_alg");
                    return;
                }
            };
            map.insert("_sd_alg".into(), value);
        }
        Mutation::CorruptSd(at, node) => {
            let mut ptrs = Vec::new();
            pointers(payload, String::new(), &mut ptrs);
            if let Some(ptr) = pick(&ptrs, *at)
                && let Some(Value::Object(map)) = payload.pointer_mut(ptr)
            {
                map.insert(
                    "_sd".into(),
                    to_json(node, &mut Vec::new(), &mut Vec::new(), 0),
                );
            }
        }
        Mutation::ReplaceValue(at, node) => {
            let mut ptrs = Vec::new();
            pointers(payload, String::new(), &mut ptrs);
            if let Some(ptr) = pick(&ptrs, *at)
                && !ptr.is_empty()
                && let Some(target) = payload.pointer_mut(ptr)
            {
                *target = to_json(node, &mut Vec::new(), &mut Vec::new(), 0);
            }
        }
    }
}

fuzz_target!(|input: Input| {
    let mut disclosable = Vec::new();
    let Value::Object(claims) = to_json(
        &Node::Object(input.claims.clone()),
        &mut Vec::new(),
        &mut disclosable,
        0,
    ) else {
        return;
    };
    let header = JwsHeader::new(common::EXAMPLE_TYP);
    let mut builder =
        SdJwtBuilder::new(claims, header.clone()).decoys(usize::from(input.decoys % 4));
    for path in disclosable {
        builder = builder.disclosable(path);
    }
    if input.holder {
        builder = builder.holder_key(Jwk::new(common::holder_secret().public_key()));
    }
    let salts = (0..256).map(|i| format!("salt-{i}"));
    let Ok(issued) = builder.issue_with_salts(common::issuer_signer(), salts) else {
        return;
    };

    let clock = FixedClock(common::NOW);
    let key = common::issuer_public();
    let provider = common::provider();
    let not_required =
        Verification::new(common::EXAMPLE_TYP, KeyBindingPolicy::NotRequired, &clock);
    let required = Verification::new(
        common::EXAMPLE_TYP,
        KeyBindingPolicy::Required(KeyBindingRequirements::new(common::AUD, common::NONCE)),
        &clock,
    );

    // What the builder issued verifies, and discloses at least what was asked.
    if input.mutations.is_empty() {
        // `exp` and `cnf` are checked by the verifier, and the tree may give them any value.
        let registered = input
            .claims
            .iter()
            .any(|(name, _, _)| matches!(name, Name::Exp | Name::Cnf));
        match issued.verify(&key, provider, &not_required) {
            Ok(v) => common::check_processed(&v),
            Err(err) if !registered => panic!("freshly issued SD-JWT refused: {err}"),
            Err(_) => {}
        }
        return;
    }

    let mut payload = Value::Object(issued.unverified_payload().clone());
    let mut disclosures: Vec<String> = issued
        .disclosures()
        .iter()
        .map(|d| d.as_str().to_owned())
        .collect();
    for mutation in input.mutations.iter().take(8) {
        apply(mutation, &mut payload, &mut disclosures);
    }
    let Ok(payload_bytes) = serde_json::to_vec(&payload) else {
        return;
    };
    let Some(jwt) = common::resign(issued.unverified_header(), &payload_bytes) else {
        return;
    };
    let mut compact = jwt;
    compact.push('~');
    for d in &disclosures {
        compact.push_str(d);
        compact.push('~');
    }
    let Ok(sd_jwt) = SdJwt::parse(&compact) else {
        return;
    };
    if let Ok(v) = sd_jwt.verify(&key, provider, &not_required) {
        common::check_processed(&v);
    }
    if input.holder
        && let Ok(bound) = sd_jwt.bind(
            &KeyBinding::new(common::AUD, common::NONCE, common::NOW),
            common::holder_signer(),
        )
        && let Ok(v) = bound.verify(&key, provider, &required)
    {
        common::check_processed(&v);
        assert!(v.key_binding().is_some());
    }
});
