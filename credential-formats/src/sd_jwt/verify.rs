//! Verification by the verifier (RFC 9901 §7.1 and §7.3).

use super::compact::kb_error;
use super::process::process;
use super::{HashAlgorithm, KB_JWT_TYP, MAX_KB_JWT_LEN, SdJwt, SdJwtError};
use crate::claims_path::ClaimsPath;
use crate::crypto::{CryptoProvider, PublicKey};
use crate::jose::{DecodedJws, Jwk, JwsHeader};
use crate::json::JsonError;
use crate::time::{Clock, UnixTime};
use serde_json::{Map, Value};
use std::fmt;

/// Default allowed clock skew, in seconds, for `exp`, `nbf` and the KB-JWT's `iat`.
pub const DEFAULT_SKEW: i64 = 60;

/// Default maximum age of a KB-JWT, in seconds.
pub const DEFAULT_KB_MAX_AGE: i64 = 300;

/// What the verifier requires of the Key Binding JWT in this transaction.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyBindingRequirements {
    audience: String,
    nonce: String,
    max_age: i64,
}

impl KeyBindingRequirements {
    /// Key binding to this verifier (`aud`) for this transaction's `nonce`, with a maximum age
    /// of [`DEFAULT_KB_MAX_AGE`].
    pub fn new(audience: impl Into<String>, nonce: impl Into<String>) -> KeyBindingRequirements {
        KeyBindingRequirements {
            audience: audience.into(),
            nonce: nonce.into(),
            max_age: DEFAULT_KB_MAX_AGE,
        }
    }

    /// Sets how old (seconds, by its `iat`) a KB-JWT may be.
    #[must_use]
    pub fn with_max_age(mut self, seconds: i64) -> KeyBindingRequirements {
        self.max_age = seconds;
        self
    }
}

impl fmt::Debug for KeyBindingRequirements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyBindingRequirements")
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

/// Whether a Key Binding JWT is required, decided by the verifier's policy *before* the
/// presentation is parsed (RFC 9901 §7.3), never inferred from the presentation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyBindingPolicy {
    /// A KB-JWT must be present and satisfy these requirements; a presentation without one is
    /// [`SdJwtError::MissingKeyBinding`].
    Required(KeyBindingRequirements),
    /// No KB-JWT is required. If one is present anyway, it is still checked as far as possible
    /// without a transaction — `typ`, signature by `cnf.jwk`, `sd_hash`, `iat` an integer — and
    /// rejected if it fails: a KB-JWT that does not verify is never silently ignored. Its
    /// `aud`, `nonce` and age are not checked, as there is nothing to check them against.
    NotRequired,
}

/// The verifier's settings for one verification.
#[derive(Debug, Clone)]
pub struct Verification<'a> {
    expected_typ: &'static str,
    key_binding: KeyBindingPolicy,
    clock: &'a dyn Clock,
    skew: i64,
}

impl<'a> Verification<'a> {
    /// Verify an issuer JWT of type `expected_typ` (e.g. `example+sd-jwt`, `dc+sd-jwt`) under
    /// `key_binding`, at the time `clock` gives, with a skew of [`DEFAULT_SKEW`].
    pub fn new(
        expected_typ: &'static str,
        key_binding: KeyBindingPolicy,
        clock: &'a dyn Clock,
    ) -> Verification<'a> {
        Verification {
            expected_typ,
            key_binding,
            clock,
            skew: DEFAULT_SKEW,
        }
    }

    /// Sets the allowed clock skew in seconds.
    #[must_use]
    pub fn with_skew(mut self, seconds: i64) -> Verification<'a> {
        self.skew = seconds.max(0);
        self
    }

    /// The expected issuer JWT `typ`.
    pub fn expected_typ(&self) -> &'static str {
        self.expected_typ
    }

    /// The key binding policy.
    pub fn key_binding(&self) -> &KeyBindingPolicy {
        &self.key_binding
    }

    /// The current time, by the configured clock.
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// The allowed clock skew in seconds.
    pub fn skew(&self) -> i64 {
        self.skew
    }

    /// The same settings with another expected `typ`.
    #[must_use]
    pub fn with_expected_typ(mut self, expected_typ: &'static str) -> Verification<'a> {
        self.expected_typ = expected_typ;
        self
    }
}

/// An SD-JWT that passed every check of RFC 9901 §7.1 (and §7.3 when it has a KB-JWT).
#[derive(Clone, PartialEq)]
pub struct VerifiedSdJwt {
    header: JwsHeader,
    claims: Map<String, Value>,
    disclosed_paths: Vec<ClaimsPath>,
    holder_key: Option<Jwk>,
    key_binding: Option<Map<String, Value>>,
}

impl VerifiedSdJwt {
    /// The issuer JWT's protected header.
    pub fn header(&self) -> &JwsHeader {
        &self.header
    }

    /// The processed payload: always-visible claims and disclosed claims in place, without
    /// `_sd`, `_sd_alg` or digests.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The paths (into [`VerifiedSdJwt::claims`]) of the claims revealed by Disclosures.
    pub fn disclosed_paths(&self) -> &[ClaimsPath] {
        &self.disclosed_paths
    }

    /// The holder key from `cnf.jwk`, if the SD-JWT has one.
    pub fn holder_key(&self) -> Option<&Jwk> {
        self.holder_key.as_ref()
    }

    /// The verified KB-JWT claims (`iat`, `aud`, `nonce`, `sd_hash` and any others, such as
    /// `transaction_data_hashes`), if the presentation had a KB-JWT.
    pub fn key_binding(&self) -> Option<&Map<String, Value>> {
        self.key_binding.as_ref()
    }
}

impl fmt::Debug for VerifiedSdJwt {
    // Claims are personal data: show the shape only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedSdJwt")
            .field("typ", &self.header.typ())
            .field("claims", &self.claims.len())
            .field("disclosed", &self.disclosed_paths.len())
            .field("key_binding", &self.key_binding.is_some())
            .finish()
    }
}

impl SdJwt {
    /// Verifies the SD-JWT (RFC 9901 §7.1) and, per `verification`'s policy, its KB-JWT
    /// (§7.3): the issuer JWT's signature with `issuer_key` (never a key from the token) and
    /// its `typ`; `_sd_alg`; every Disclosure referenced exactly once, in a place fitting its
    /// kind, without name collisions; `exp` and `nbf` when present (integers, in range).
    pub fn verify(
        &self,
        issuer_key: &PublicKey,
        provider: &dyn CryptoProvider,
        verification: &Verification<'_>,
    ) -> Result<VerifiedSdJwt, SdJwtError> {
        if matches!(verification.key_binding, KeyBindingPolicy::Required(_))
            && self.key_binding_jwt().is_none()
        {
            return Err(SdJwtError::MissingKeyBinding);
        }
        let issuer_jwt = self.decoded_issuer_jwt();
        issuer_jwt
            .check(provider, issuer_key, verification.expected_typ)
            .map_err(SdJwtError::IssuerJwt)?;
        // `unverified_payload` was parsed from exactly the bytes just verified.
        let payload = self.unverified_payload();
        let processed = process(payload, self.disclosures())?;
        let now = verification.now();
        let skew = verification.skew;
        if let Some(exp) = numeric_date(&processed.claims, "exp")?
            && now > exp.saturating_add(skew)
        {
            return Err(SdJwtError::Expired);
        }
        if let Some(nbf) = numeric_date(&processed.claims, "nbf")?
            && nbf > now.saturating_add(skew)
        {
            return Err(SdJwtError::NotYetValid);
        }
        numeric_date(&processed.claims, "iat")?;
        let holder_key = holder_key(&processed.claims)?;
        let key_binding = match self.key_binding_jwt() {
            None => None,
            Some(kb) => {
                let key = holder_key.as_ref().ok_or(SdJwtError::MissingHolderKey)?;
                Some(self.verify_key_binding(kb, key.key(), provider, verification)?)
            }
        };
        Ok(VerifiedSdJwt {
            header: issuer_jwt.header().clone(),
            claims: processed.claims,
            disclosed_paths: processed.disclosed.into_iter().map(|at| at.path).collect(),
            holder_key,
            key_binding,
        })
    }

    fn verify_key_binding(
        &self,
        kb: &str,
        holder_key: &PublicKey,
        provider: &dyn CryptoProvider,
        verification: &Verification<'_>,
    ) -> Result<Map<String, Value>, SdJwtError> {
        let decoded = DecodedJws::decode(kb).map_err(kb_error)?;
        let verified = decoded
            .verify(provider, holder_key, KB_JWT_TYP)
            .map_err(kb_error)?;
        let claims = match crate::json::parse(verified.payload(), MAX_KB_JWT_LEN) {
            Ok(Value::Object(claims)) => claims,
            Ok(_) => {
                return Err(SdJwtError::KeyBindingPayload(JsonError::Schema(
                    "not a JSON object".into(),
                )));
            }
            Err(err) => return Err(SdJwtError::KeyBindingPayload(err)),
        };
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or(SdJwtError::KeyBindingClaim("iat"))?;
        let aud = string_claim(&claims, "aud")?;
        let nonce = string_claim(&claims, "nonce")?;
        let sd_hash = string_claim(&claims, "sd_hash")?;
        if let KeyBindingPolicy::Required(required) = &verification.key_binding {
            let now = verification.now();
            if iat > now.saturating_add(verification.skew) {
                return Err(SdJwtError::KeyBindingIssuedInFuture);
            }
            if now.saturating_sub(iat) > required.max_age.saturating_add(verification.skew) {
                return Err(SdJwtError::KeyBindingTooOld);
            }
            if aud != required.audience {
                return Err(SdJwtError::AudienceMismatch);
            }
            if nonce != required.nonce {
                return Err(SdJwtError::NonceMismatch);
            }
        }
        let alg = HashAlgorithm::from_payload(self.unverified_payload())?;
        if sd_hash != alg.digest(&self.presentation_without_key_binding()) {
            return Err(SdJwtError::SdHashMismatch);
        }
        Ok(claims)
    }
}

fn string_claim<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, SdJwtError> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .ok_or(SdJwtError::KeyBindingClaim(name))
}

/// A NumericDate claim: absent is `None`; present, it must be a JSON integer — a string, a
/// float or a boolean is an error, never "absent" (the CVE-2026-25537 lesson).
pub(crate) fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<UnixTime>, SdJwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or(SdJwtError::InvalidTimeClaim(name)),
    }
}

/// `cnf.jwk`: `None` when the credential has no holder key; an error when it has one that is
/// not a usable public key, so a broken key is never mistaken for "no key binding".
fn holder_key(claims: &Map<String, Value>) -> Result<Option<Jwk>, SdJwtError> {
    let Some(jwk) = claims.get("cnf").and_then(|cnf| cnf.get("jwk")) else {
        return Ok(None);
    };
    Jwk::from_value(jwk)
        .map(Some)
        .map_err(SdJwtError::InvalidHolderKey)
}
