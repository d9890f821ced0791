//! Issuance (RFC 9901 §4.2): a builder that turns a claims object and a choice of
//! selectively disclosable claims into a signed SD-JWT with its Disclosures.

use super::{Disclosure, HashAlgorithm, MAX_PROCESSED_DEPTH, SdJwt, SdJwtError};
use crate::claims_path::{ClaimsPath, PathElement};
use crate::crypto::{Signer, fill_random, random_token};
use crate::jose::{Jwk, JwsHeader, sign_compact};
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::fmt;

/// Salt length in bytes: 128 bits, as RFC 9901 §9.3 recommends.
const SALT_BYTES: usize = 16;

/// Builds and signs an SD-JWT.
///
/// ```
/// use credential_formats::claims_path::ClaimsPath;
/// use credential_formats::crypto::{default_provider, SecretKey, SignatureAlgorithm};
/// use credential_formats::jose::JwsHeader;
/// use credential_formats::sd_jwt::SdJwtBuilder;
/// use serde_json::json;
///
/// let key = SecretKey::generate(SignatureAlgorithm::Es256)?;
/// let signer = default_provider().signer(&key)?;
/// let claims = json!({"iss": "https://issuer.example", "given_name": "Erika"});
/// let sd_jwt = SdJwtBuilder::new(claims.as_object().cloned().unwrap_or_default(), JwsHeader::new("example+sd-jwt"))
///     .disclosable(ClaimsPath::keys(["given_name"]).ok_or("path")?)
///     .decoys(2)
///     .issue(&*signer)?;
/// assert_eq!(sd_jwt.disclosures().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SdJwtBuilder {
    claims: Map<String, Value>,
    disclosable: Vec<ClaimsPath>,
    decoys: usize,
    holder_key: Option<Jwk>,
    header: JwsHeader,
}

impl SdJwtBuilder {
    /// A builder over `claims` (the JWT claims set, every claim always disclosed until made
    /// selectively disclosable), signed under `header` (choose `typ`, e.g. `example+sd-jwt`
    /// or `dc+sd-jwt`; `alg` comes from the signer).
    pub fn new(claims: Map<String, Value>, header: JwsHeader) -> SdJwtBuilder {
        SdJwtBuilder {
            claims,
            disclosable: Vec::new(),
            decoys: 0,
            holder_key: None,
            header,
        }
    }

    /// Makes the claim at `path` selectively disclosable: an object property (any depth), an
    /// array element (`Index`) or every element of an array (`AllElements`). A disclosable
    /// object may itself have disclosable members (recursive disclosure, RFC 9901 §4.2.6).
    #[must_use]
    pub fn disclosable(mut self, path: ClaimsPath) -> SdJwtBuilder {
        if !self.disclosable.contains(&path) {
            self.disclosable.push(path);
        }
        self
    }

    /// Adds `count` decoy digests to every `_sd` array (RFC 9901 §4.2.5), so the number of
    /// digests does not reveal the number of claims.
    #[must_use]
    pub fn decoys(mut self, count: usize) -> SdJwtBuilder {
        self.decoys = count;
        self
    }

    /// Binds the SD-JWT to the holder's key: `cnf: {"jwk": …}` (RFC 7800).
    #[must_use]
    pub fn holder_key(mut self, jwk: Jwk) -> SdJwtBuilder {
        self.holder_key = Some(jwk);
        self
    }

    /// The claims paths made selectively disclosable so far.
    pub fn disclosable_paths(&self) -> &[ClaimsPath] {
        &self.disclosable
    }

    /// Issues the SD-JWT with fresh 128-bit salts from the operating system's CSPRNG.
    pub fn issue(&self, signer: &dyn Signer) -> Result<SdJwt, SdJwtError> {
        self.build(signer, Salts::Random)
    }

    /// Issues with caller-given salts, used in order of Disclosure creation (depth first,
    /// members before their parent, object members and array elements in order). For
    /// reproducing specification examples in tests; never use fixed salts in production.
    pub fn issue_with_salts<I>(&self, signer: &dyn Signer, salts: I) -> Result<SdJwt, SdJwtError>
    where
        I: IntoIterator<Item = String>,
    {
        self.build(signer, Salts::Given(salts.into_iter().collect()))
    }

    fn build(&self, signer: &dyn Signer, salts: Salts) -> Result<SdJwt, SdJwtError> {
        check_input(&Value::Object(self.claims.clone()), 0)?;
        let root = Value::Object(self.claims.clone());
        for path in &self.disclosable {
            if let Some(PathElement::Key(name)) = path.elements().first()
                && path.elements().len() == 1
                && matches!(name.as_str(), "_sd_alg" | "cnf")
            {
                return Err(SdJwtError::NotDisclosable);
            }
            if path.select(&root).is_err() {
                return Err(SdJwtError::ClaimNotFound);
            }
        }
        if self.holder_key.is_some() && self.claims.contains_key("cnf") {
            return Err(SdJwtError::ClaimNameCollision);
        }
        let mut encoder = Encoder {
            disclosable: &self.disclosable,
            decoys: self.decoys,
            salts,
            disclosures: Vec::new(),
            path: Vec::new(),
        };
        let mut payload = encoder.object(self.claims.clone())?;
        payload.insert("_sd_alg".into(), Value::from(HashAlgorithm::Sha256.name()));
        if let Some(jwk) = &self.holder_key {
            let mut cnf = Map::new();
            cnf.insert("jwk".into(), jwk.to_value());
            payload.insert("cnf".into(), Value::Object(cnf));
        }
        let payload = serde_json::to_vec(&payload).map_err(|_| SdJwtError::NotDisclosable)?;
        let jwt = sign_compact(&self.header, &payload, signer).map_err(SdJwtError::Signing)?;
        SdJwt::from_parts(&jwt, encoder.disclosures, None)
    }
}

impl fmt::Debug for SdJwtBuilder {
    // The claims are personal data: show the shape only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdJwtBuilder")
            .field("claims", &self.claims.len())
            .field("disclosable", &self.disclosable.len())
            .field("decoys", &self.decoys)
            .field("holder_key", &self.holder_key.is_some())
            .finish()
    }
}

/// Refuses the reserved names anywhere in the input, and input nested too deep to verify.
fn check_input(value: &Value, depth: usize) -> Result<(), SdJwtError> {
    if depth > MAX_PROCESSED_DEPTH {
        return Err(SdJwtError::TooDeep(MAX_PROCESSED_DEPTH));
    }
    match value {
        Value::Object(object) => {
            for (name, member) in object {
                super::disclosure::check_claim_name(name)?;
                if name == "_sd_alg" {
                    return Err(SdJwtError::ReservedClaimName("_sd_alg"));
                }
                check_input(member, depth + 1)?;
            }
        }
        Value::Array(items) => {
            for item in items {
                check_input(item, depth + 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

enum Salts {
    Random,
    Given(VecDeque<String>),
}

impl Salts {
    fn next(&mut self) -> Result<String, SdJwtError> {
        match self {
            Salts::Random => random_token(SALT_BYTES).map_err(SdJwtError::Signing),
            Salts::Given(salts) => salts.pop_front().ok_or(SdJwtError::SaltsExhausted),
        }
    }
}

struct Encoder<'a> {
    disclosable: &'a [ClaimsPath],
    decoys: usize,
    salts: Salts,
    disclosures: Vec<Disclosure>,
    path: Vec<PathElement>,
}

impl Encoder<'_> {
    fn is_disclosable(&self) -> bool {
        self.disclosable.iter().any(|path| {
            path.elements().len() == self.path.len()
                && path
                    .elements()
                    .iter()
                    .zip(&self.path)
                    .all(|(wanted, here)| match (wanted, here) {
                        (PathElement::AllElements, PathElement::Index(_)) => true,
                        _ => wanted == here,
                    })
        })
    }

    fn value(&mut self, value: Value) -> Result<Value, SdJwtError> {
        Ok(match value {
            Value::Object(object) => Value::Object(self.object(object)?),
            Value::Array(items) => Value::Array(self.array(items)?),
            other => other,
        })
    }

    fn object(&mut self, object: Map<String, Value>) -> Result<Map<String, Value>, SdJwtError> {
        let mut plain = Map::new();
        let mut digests = Vec::new();
        for (name, value) in object {
            self.path.push(PathElement::Key(name.clone()));
            let result = self.member(name, value);
            self.path.pop();
            match result? {
                Member::Plain(name, value) => {
                    plain.insert(name, value);
                }
                Member::Digest(digest) => digests.push(digest),
            }
        }
        if digests.is_empty() {
            return Ok(plain);
        }
        for _ in 0..self.decoys {
            digests.push(decoy()?);
        }
        // Sorted, so the order of digests reveals nothing about the claims (RFC 9901 §4.2.5).
        digests.sort_unstable();
        let mut out = Map::with_capacity(plain.len() + 1);
        out.insert(
            "_sd".into(),
            Value::Array(digests.into_iter().map(Value::String).collect()),
        );
        out.extend(plain);
        Ok(out)
    }

    fn member(&mut self, name: String, value: Value) -> Result<Member, SdJwtError> {
        let value = self.value(value)?;
        if !self.is_disclosable() {
            return Ok(Member::Plain(name, value));
        }
        let disclosure = Disclosure::object_property(self.salts.next()?, name, value)?;
        let digest = disclosure.digest(HashAlgorithm::Sha256);
        self.disclosures.push(disclosure);
        Ok(Member::Digest(digest))
    }

    fn array(&mut self, items: Vec<Value>) -> Result<Vec<Value>, SdJwtError> {
        let mut out = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            self.path.push(PathElement::Index(index));
            let result = self.element(item);
            self.path.pop();
            out.push(result?);
        }
        Ok(out)
    }

    fn element(&mut self, item: Value) -> Result<Value, SdJwtError> {
        let item = self.value(item)?;
        if !self.is_disclosable() {
            return Ok(item);
        }
        let disclosure = Disclosure::array_element(self.salts.next()?, item);
        let mut digest = Map::new();
        digest.insert(
            "...".into(),
            Value::String(disclosure.digest(HashAlgorithm::Sha256)),
        );
        self.disclosures.push(disclosure);
        Ok(Value::Object(digest))
    }
}

enum Member {
    Plain(String, Value),
    Digest(String),
}

/// A decoy digest: the digest of a random value, indistinguishable from a real one.
fn decoy() -> Result<String, SdJwtError> {
    let mut random = [0u8; 32];
    fill_random(&mut random).map_err(SdJwtError::Signing)?;
    Ok(HashAlgorithm::Sha256.digest(&crate::b64::encode(random)))
}
