//! Verifying an SD-JWT VC: RFC 9901 verification, then the checks of draft-13 §3.

use super::{LEGACY_TYP, SdJwtVcError, TYP};
use crate::claims_path::ClaimsPath;
use crate::crypto::{CryptoProvider, PublicKey};
use crate::jose::{Jwk, JwsHeader};
use crate::sd_jwt::{KeyBindingPolicy, SdJwt, Verification, VerifiedSdJwt};
use crate::status_list::{StatusReference, UriPolicy};
use crate::time::{Clock, UnixTime};
use serde_json::{Map, Value};
use std::fmt;

/// The verifier's settings for an SD-JWT VC.
#[derive(Debug, Clone)]
pub struct VcVerification<'a> {
    sd_jwt: Verification<'a>,
    expected_vct: Option<String>,
    require_exp: bool,
    accept_legacy_typ: bool,
    status_uri_policy: UriPolicy,
}

impl<'a> VcVerification<'a> {
    /// Verification under `key_binding` at the time `clock` gives; `exp` required, any `vct`,
    /// legacy `vc+sd-jwt` accepted.
    pub fn new(key_binding: KeyBindingPolicy, clock: &'a dyn Clock) -> VcVerification<'a> {
        VcVerification {
            sd_jwt: Verification::new(TYP, key_binding, clock),
            expected_vct: None,
            require_exp: true,
            accept_legacy_typ: true,
            status_uri_policy: UriPolicy::HttpsOnly,
        }
    }

    /// Requires `vct` to be exactly `vct`.
    #[must_use]
    pub fn with_expected_vct(mut self, vct: impl Into<String>) -> VcVerification<'a> {
        self.expected_vct = Some(vct.into());
        self
    }

    /// Accepts credentials without `exp` (ours always have one; others' may not).
    #[must_use]
    pub fn exp_optional(mut self) -> VcVerification<'a> {
        self.require_exp = false;
        self
    }

    /// Accepts a `status.status_list.uri` over plain `http` to a loopback host (tests and the
    /// local stack only; production status lists are `https`).
    #[must_use]
    pub fn allow_loopback_status_uri(mut self) -> VcVerification<'a> {
        self.status_uri_policy = UriPolicy::AllowLoopbackHttp;
        self
    }

    /// Refuses the legacy `typ` `vc+sd-jwt`.
    #[must_use]
    pub fn reject_legacy_typ(mut self) -> VcVerification<'a> {
        self.accept_legacy_typ = false;
        self
    }

    /// Sets the allowed clock skew in seconds (default 60).
    #[must_use]
    pub fn with_skew(mut self, seconds: i64) -> VcVerification<'a> {
        self.sd_jwt = self.sd_jwt.with_skew(seconds);
        self
    }
}

/// An SD-JWT VC that passed RFC 9901 verification and the profile's checks.
#[derive(Clone, PartialEq)]
pub struct VerifiedSdJwtVc {
    inner: VerifiedSdJwt,
    vct: String,
    iss: String,
    iat: Option<UnixTime>,
    exp: Option<UnixTime>,
    nbf: Option<UnixTime>,
    status: Option<StatusReference>,
}

impl VerifiedSdJwtVc {
    /// `vct`.
    pub fn vct(&self) -> &str {
        &self.vct
    }
    /// `iss`.
    pub fn iss(&self) -> &str {
        &self.iss
    }
    /// `iat`, if present.
    pub fn iat(&self) -> Option<UnixTime> {
        self.iat
    }
    /// `exp`, if present.
    pub fn exp(&self) -> Option<UnixTime> {
        self.exp
    }
    /// `nbf`, if present.
    pub fn nbf(&self) -> Option<UnixTime> {
        self.nbf
    }
    /// The holder key `cnf.jwk`, if present.
    pub fn cnf_jwk(&self) -> Option<&Jwk> {
        self.inner.holder_key()
    }
    /// The status list reference, if the credential has one.
    pub fn status_reference(&self) -> Option<&StatusReference> {
        self.status.as_ref()
    }
    /// The processed claims.
    pub fn claims(&self) -> &Map<String, Value> {
        self.inner.claims()
    }
    /// The paths of the claims revealed by Disclosures.
    pub fn disclosed_paths(&self) -> &[ClaimsPath] {
        self.inner.disclosed_paths()
    }
    /// The verified KB-JWT claims, if any.
    pub fn key_binding(&self) -> Option<&Map<String, Value>> {
        self.inner.key_binding()
    }
    /// The issuer JWT's header.
    pub fn header(&self) -> &JwsHeader {
        self.inner.header()
    }
    /// The underlying verified SD-JWT.
    pub fn sd_jwt(&self) -> &VerifiedSdJwt {
        &self.inner
    }
}

impl fmt::Debug for VerifiedSdJwtVc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedSdJwtVc")
            .field("vct", &self.vct)
            .field("iss", &self.iss)
            .field("sd_jwt", &self.inner)
            .finish_non_exhaustive()
    }
}

/// Verifies an SD-JWT VC: the SD-JWT (RFC 9901 §7, including `exp`/`nbf`/`iat` as integers
/// and in range, and key binding per policy) with `issuer_key`, then `typ` (`dc+sd-jwt`, or
/// the legacy `vc+sd-jwt` unless refused), `vct` (and its expected value), `iss`, `exp` when
/// required, `cnf.jwk` when key binding is required, and the shape of `status`,
/// `vct#integrity` and `sub`.
pub fn verify(
    sd_jwt: &SdJwt,
    issuer_key: &PublicKey,
    provider: &dyn CryptoProvider,
    verification: &VcVerification<'_>,
) -> crate::Result<VerifiedSdJwtVc> {
    let legacy = verification.accept_legacy_typ
        && sd_jwt.unverified_header().typ().is_some_and(|typ| {
            let typ = typ.to_ascii_lowercase();
            typ == LEGACY_TYP || typ.strip_prefix("application/") == Some(LEGACY_TYP)
        });
    let expected_typ = if legacy { LEGACY_TYP } else { TYP };
    let inner = sd_jwt.verify(
        issuer_key,
        provider,
        &verification.sd_jwt.clone().with_expected_typ(expected_typ),
    )?;
    let claims = inner.claims();
    let vct = claims
        .get("vct")
        .and_then(Value::as_str)
        .ok_or(SdJwtVcError::MissingVct)?
        .to_owned();
    if let Some(expected) = &verification.expected_vct
        && *expected != vct
    {
        return Err(SdJwtVcError::UnexpectedVct.into());
    }
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or(SdJwtVcError::MissingIssuer)?
        .to_owned();
    // The SD-JWT layer has already refused non-integer time claims.
    let time = |name: &str| claims.get(name).and_then(Value::as_i64);
    let (iat, exp, nbf) = (time("iat"), time("exp"), time("nbf"));
    if verification.require_exp && exp.is_none() {
        return Err(SdJwtVcError::MissingExpiry.into());
    }
    if matches!(
        verification.sd_jwt.key_binding(),
        KeyBindingPolicy::Required(_)
    ) && inner.holder_key().is_none()
    {
        return Err(SdJwtVcError::MissingHolderKey.into());
    }
    if claims.get("vct#integrity").is_some_and(|v| !v.is_string()) {
        return Err(SdJwtVcError::InvalidClaim("vct#integrity").into());
    }
    if claims.get("sub").is_some_and(|v| !v.is_string()) {
        return Err(SdJwtVcError::InvalidClaim("sub").into());
    }
    let status = match claims.get("status") {
        None => None,
        // A `status` with another mechanism than `status_list` is allowed (§6.1 of the status
        // list draft); ours always carry `status_list`, and then it must be well formed.
        Some(status) if status.get("status_list").is_none() => {
            if !status.is_object() {
                return Err(SdJwtVcError::InvalidClaim("status").into());
            }
            None
        }
        Some(status) => Some(StatusReference::from_status_claim_with(
            status,
            verification.status_uri_policy,
        )?),
    };
    Ok(VerifiedSdJwtVc {
        inner,
        vct,
        iss,
        iat,
        exp,
        nbf,
        status,
    })
}
