//! Presentation (RFC 9901 §4.3, §5.2): the holder selects Disclosures and, when the verifier
//! asks for it, adds a Key Binding JWT.

use super::process::process;
use super::{HashAlgorithm, KB_JWT_TYP, SdJwt, SdJwtError};
use crate::claims_path::{ClaimsPath, PathElement};
use crate::crypto::Signer;
use crate::jose::{JwsHeader, sign_compact};
use crate::time::UnixTime;
use serde_json::{Map, Value};
use std::fmt;

/// What the holder signs in a Key Binding JWT (RFC 9901 §4.3): `iat`, `aud`, `nonce`, and any
/// extra claims the protocol adds (OpenID4VP's `transaction_data_hashes` and
/// `transaction_data_hashes_alg`). `sd_hash` is computed when binding.
#[derive(Clone, PartialEq)]
pub struct KeyBinding {
    audience: String,
    nonce: String,
    issued_at: UnixTime,
    extra: Map<String, Value>,
}

/// Claims [`KeyBinding`] sets itself and [`KeyBinding::with_claim`] cannot override.
const MANAGED: [&str; 4] = ["iat", "aud", "nonce", "sd_hash"];

impl KeyBinding {
    /// Key binding to the verifier `audience` (`aud`) for its `nonce`, issued at `issued_at`.
    pub fn new(
        audience: impl Into<String>,
        nonce: impl Into<String>,
        issued_at: UnixTime,
    ) -> KeyBinding {
        KeyBinding {
            audience: audience.into(),
            nonce: nonce.into(),
            issued_at,
            extra: Map::new(),
        }
    }

    /// Adds a claim (e.g. `transaction_data_hashes`). `iat`, `aud`, `nonce` and `sd_hash` are
    /// managed by this type and cannot be set this way.
    #[must_use]
    pub fn with_claim(mut self, name: impl Into<String>, value: Value) -> KeyBinding {
        let name = name.into();
        if !MANAGED.contains(&name.as_str()) {
            self.extra.insert(name, value);
        }
        self
    }
}

impl fmt::Debug for KeyBinding {
    // The nonce is a secret of the transaction.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyBinding")
            .field("issued_at", &self.issued_at)
            .field("extra_claims", &self.extra.len())
            .finish_non_exhaustive()
    }
}

impl SdJwt {
    /// The presentation that reveals exactly the claims at `paths` (paths into the fully
    /// disclosed credential): the Disclosures of those claims, of everything inside them, and
    /// of the claims that contain them (a nested claim needs its parents, RFC 9901 §7.1), and
    /// no other. Always-visible claims are always visible. Any KB-JWT is dropped.
    ///
    /// A path that selects nothing, or does not fit the claims' structure (OpenID4VP 1.0 §7.1
    /// aborts), is [`SdJwtError::ClaimNotFound`].
    pub fn present(&self, paths: &[ClaimsPath]) -> Result<SdJwt, SdJwtError> {
        let processed = process(self.unverified_payload(), self.disclosures())?;
        let root = Value::Object(processed.claims);
        let mut keep = vec![false; processed.disclosed.len()];
        for path in paths {
            if path.select(&root).is_err() {
                return Err(SdJwtError::ClaimNotFound);
            }
            for (index, at) in processed.disclosed.iter().enumerate() {
                if !overlap(at.path.elements(), path.elements()) {
                    continue;
                }
                // Mark the Disclosure and every Disclosure it is nested in.
                let mut next = Some(index);
                while let Some(current) = next {
                    match keep.get_mut(current) {
                        Some(slot) if !*slot => *slot = true,
                        _ => break,
                    }
                    next = processed.disclosed.get(current).and_then(|at| at.parent);
                }
            }
        }
        let disclosures = self
            .disclosures()
            .iter()
            .zip(keep)
            .filter(|&(_disclosure, keep)| keep)
            .map(|(disclosure, _keep)| disclosure.clone())
            .collect();
        Ok(self.with_parts(disclosures, None))
    }

    /// Adds a Key Binding JWT signed by the holder's key (`typ: kb+jwt`, `alg` of the
    /// signer), whose `sd_hash` covers this presentation as serialized (RFC 9901 §4.3.1).
    /// Replaces any KB-JWT already present.
    pub fn bind(&self, key_binding: &KeyBinding, signer: &dyn Signer) -> Result<SdJwt, SdJwtError> {
        let alg = HashAlgorithm::from_payload(self.unverified_payload())?;
        let sd_hash = alg.digest(&self.presentation_without_key_binding());
        let mut claims = Map::new();
        claims.insert("iat".into(), Value::from(key_binding.issued_at));
        claims.insert("aud".into(), Value::from(key_binding.audience.clone()));
        claims.insert("nonce".into(), Value::from(key_binding.nonce.clone()));
        claims.insert("sd_hash".into(), Value::from(sd_hash));
        for (name, value) in &key_binding.extra {
            claims.insert(name.clone(), value.clone());
        }
        let payload =
            serde_json::to_vec(&claims).map_err(|_| SdJwtError::KeyBindingClaim("payload"))?;
        let kb = sign_compact(&JwsHeader::new(KB_JWT_TYP), &payload, signer)
            .map_err(SdJwtError::Signing)?;
        Ok(self.with_parts(self.disclosures().to_vec(), Some(kb)))
    }
}

/// Whether one path leads to the other (or they are equal), `AllElements` matching any index.
fn overlap(a: &[PathElement], b: &[PathElement]) -> bool {
    a.iter().zip(b).all(|pair| match pair {
        (PathElement::AllElements, PathElement::Index(_) | PathElement::AllElements)
        | (PathElement::Index(_), PathElement::AllElements) => true,
        (x, y) => x == y,
    })
}
