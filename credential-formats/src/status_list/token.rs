//! The Status List Token in JWT format (§5.1), and the client-side caching bounds of §11.5
//! and §13.7.

use super::{DecodeLimits, StatusList, StatusListError};
use crate::crypto::{CryptoProvider, PublicKey, Signer};
use crate::jose::{DecodedJws, JwsHeader, sign_compact};
use crate::time::UnixTime;
use serde_json::{Map, Value};

/// The JWT `typ` of a Status List Token (§5.1).
pub const STATUS_LIST_JWT_TYP: &str = "statuslist+jwt";

/// Size limit for the claims of a Status List Token: the JWS itself is bounded by
/// [`crate::jose::MAX_COMPACT_LEN`], and its payload cannot be longer.
const MAX_CLAIMS_LEN: usize = crate::jose::MAX_COMPACT_LEN;

/// A Status List Token (§5.1): who says which list, when, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListToken {
    sub: String,
    iat: UnixTime,
    exp: Option<UnixTime>,
    ttl: Option<u64>,
    status_list: StatusList,
}

/// What a Relying Party checks a Status List Token against (§8.3 steps 3 and 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusListValidation<'a> {
    /// The `uri` of the Referenced Token's `status_list`; `sub` must equal it (§8.3 4a).
    pub expected_sub: &'a str,
    /// The current time.
    pub now: UnixTime,
    /// Clock skew allowed on `iat`, `nbf` and `exp`, in seconds.
    pub leeway: u32,
    /// The Relying Party's freshness policy (§8.3 4b): refuse a token issued more than this
    /// many seconds ago, even if it has not expired.
    pub max_age: Option<u32>,
    /// Bounds on the Status List itself.
    pub limits: DecodeLimits,
}

impl<'a> StatusListValidation<'a> {
    /// Checks for a token about `expected_sub` at time `now`, with 60 seconds of clock skew
    /// and the default decoding limits.
    pub fn new(expected_sub: &'a str, now: UnixTime) -> StatusListValidation<'a> {
        StatusListValidation {
            expected_sub,
            now,
            leeway: 60,
            max_age: None,
            limits: DecodeLimits::DEFAULT,
        }
    }

    /// Checks for the token that `reference` points to, at time `now`.
    pub fn for_reference(
        reference: &'a super::StatusReference,
        now: UnixTime,
    ) -> StatusListValidation<'a> {
        StatusListValidation::new(reference.uri(), now)
    }
}

/// The client's lower and upper bounds on how long a fetched Status List Token is cached
/// before a fresh one is fetched (§11.5: a Status Issuer could otherwise make clients hammer
/// the Status Provider with a tiny `ttl`, or never refresh with a huge one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlBounds {
    /// Never fetch again sooner than this many seconds after a fetch.
    pub min: u64,
    /// Always fetch again after at most this many seconds.
    pub max: u64,
}

impl TtlBounds {
    /// One minute to one day.
    pub const DEFAULT: TtlBounds = TtlBounds {
        min: 60,
        max: 24 * 60 * 60,
    };
}

impl Default for TtlBounds {
    fn default() -> TtlBounds {
        TtlBounds::DEFAULT
    }
}

impl StatusListToken {
    /// A token for the list at `sub`, issued at `iat`. `sub` may be `http` to a loopback
    /// host: the issuer chooses its own URI, and local walk-throughs serve lists on loopback;
    /// it is the Relying Party that holds the `uri` to https ([`super::UriPolicy`]).
    pub fn new(
        sub: impl Into<String>,
        iat: UnixTime,
        status_list: StatusList,
    ) -> Result<StatusListToken, StatusListError> {
        let sub = sub.into();
        super::reference::check_uri(&sub, super::UriPolicy::AllowLoopbackHttp, "sub")?;
        Ok(StatusListToken {
            sub,
            iat,
            exp: None,
            ttl: None,
            status_list,
        })
    }

    /// Sets `exp` (RECOMMENDED, §5.1); it must be after `iat`.
    pub fn with_exp(mut self, exp: UnixTime) -> Result<StatusListToken, StatusListError> {
        if exp <= self.iat {
            return Err(StatusListError::Invalid("exp"));
        }
        self.exp = Some(exp);
        Ok(self)
    }

    /// Sets `ttl` in seconds (RECOMMENDED, §5.1); it must be positive.
    pub fn with_ttl(mut self, ttl: u64) -> Result<StatusListToken, StatusListError> {
        if ttl == 0 || i64::try_from(ttl).is_err() {
            return Err(StatusListError::Invalid("ttl"));
        }
        self.ttl = Some(ttl);
        Ok(self)
    }

    /// `sub`: the URI of this Status List Token.
    pub fn sub(&self) -> &str {
        &self.sub
    }
    /// `iat`.
    pub fn iat(&self) -> UnixTime {
        self.iat
    }
    /// `exp`, if any.
    pub fn exp(&self) -> Option<UnixTime> {
        self.exp
    }
    /// `ttl`, if any.
    pub fn ttl(&self) -> Option<u64> {
        self.ttl
    }
    /// The Status List.
    pub fn status_list(&self) -> &StatusList {
        &self.status_list
    }
    /// The status of the Referenced Token that `reference` came from (§8.3 steps 4a and 6):
    /// `reference.uri` must be this token's `sub`, and `idx` inside the list.
    pub fn status_of(
        &self,
        reference: &super::StatusReference,
    ) -> Result<super::StatusType, StatusListError> {
        if reference.uri() != self.sub {
            return Err(StatusListError::SubjectMismatch);
        }
        self.status_list.status(reference.idx())
    }

    /// Takes the Status List out.
    pub fn into_status_list(self) -> StatusList {
        self.status_list
    }

    /// The JWT Claims Set.
    pub fn claims(&self) -> Value {
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::from(self.sub.clone()));
        claims.insert("iat".into(), Value::from(self.iat));
        if let Some(exp) = self.exp {
            claims.insert("exp".into(), Value::from(exp));
        }
        if let Some(ttl) = self.ttl {
            claims.insert("ttl".into(), Value::from(ttl));
        }
        claims.insert("status_list".into(), self.status_list.to_json());
        Value::Object(claims)
    }

    /// Signs the token as a compact JWS with `typ: statuslist+jwt` and, if given, `kid`.
    pub fn sign(&self, signer: &dyn Signer, kid: Option<&str>) -> crate::Result<String> {
        let mut header = JwsHeader::new(STATUS_LIST_JWT_TYP);
        if let Some(kid) = kid {
            header = header.with_kid(kid);
        }
        let payload =
            serde_json::to_vec(&self.claims()).map_err(|_| StatusListError::Invalid("claims"))?;
        Ok(sign_compact(&header, &payload, signer)?)
    }

    /// Verifies a Status List Token: signature by `issuer_key` (which the caller resolved —
    /// never a key from the header), `typ`, then the claims of §5.1 under `validation`.
    pub fn verify(
        compact: &str,
        provider: &dyn CryptoProvider,
        issuer_key: &PublicKey,
        validation: &StatusListValidation<'_>,
    ) -> crate::Result<StatusListToken> {
        let verified =
            DecodedJws::decode(compact)?.verify(provider, issuer_key, STATUS_LIST_JWT_TYP)?;
        let claims = verified.claims(MAX_CLAIMS_LEN)?;
        Ok(StatusListToken::from_claims(&claims, validation)?)
    }

    /// Checks an authenticated claims set (§5.1, §8.3 step 4).
    pub(super) fn from_claims(
        claims: &Map<String, Value>,
        validation: &StatusListValidation<'_>,
    ) -> Result<StatusListToken, StatusListError> {
        let leeway = i64::from(validation.leeway);
        let now = validation.now;
        let sub = match claims.get("sub") {
            None => return Err(StatusListError::Missing("sub")),
            Some(Value::String(sub)) => sub,
            Some(_) => return Err(StatusListError::Invalid("sub")),
        };
        // Simple string comparison, as for every URI we match (RFC 3986 §6.2.1).
        if sub != validation.expected_sub {
            return Err(StatusListError::SubjectMismatch);
        }
        let iat = numeric_date(claims, "iat")?.ok_or(StatusListError::Missing("iat"))?;
        if iat > now.saturating_add(leeway) {
            return Err(StatusListError::IssuedInFuture);
        }
        if let Some(max_age) = validation.max_age
            && now.saturating_sub(iat) > i64::from(max_age).saturating_add(leeway)
        {
            return Err(StatusListError::TooOld);
        }
        if let Some(nbf) = numeric_date(claims, "nbf")?
            && nbf > now.saturating_add(leeway)
        {
            return Err(StatusListError::NotYetValid);
        }
        let exp = numeric_date(claims, "exp")?;
        if let Some(exp) = exp
            && now.saturating_sub(leeway) >= exp
        {
            return Err(StatusListError::Expired);
        }
        let ttl = match claims.get("ttl") {
            None => None,
            // A positive JSON integer: `0`, `-5`, `1.5` and `"3600"` are all refused.
            Some(v) => match v.as_u64() {
                Some(ttl) if ttl > 0 => Some(ttl),
                _ => return Err(StatusListError::Invalid("ttl")),
            },
        };
        let status_list = StatusList::from_json(
            claims
                .get("status_list")
                .ok_or(StatusListError::Missing("status_list"))?,
            &validation.limits,
        )?;
        Ok(StatusListToken {
            sub: sub.clone(),
            iat,
            exp,
            ttl,
            status_list,
        })
    }

    /// When a client that fetched this token at `fetched_at` should fetch a fresh one
    /// (§8.3 4d, §13.7): `fetched_at + ttl`, or at `exp` if that is sooner (without `ttl`,
    /// `exp` alone decides), with the delay clamped to `bounds` (§11.5).
    ///
    /// A clamped delay may run past `exp`; the token must not be used after `exp` anyway —
    /// [`StatusListToken::verify`] refuses it and the verifier fails closed.
    pub fn refresh_after(&self, fetched_at: UnixTime, bounds: TtlBounds) -> UnixTime {
        let to_secs = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let by_ttl = self.ttl.map(|ttl| fetched_at.saturating_add(to_secs(ttl)));
        let wanted = match (by_ttl, self.exp) {
            (Some(t), Some(exp)) => t.min(exp),
            (Some(t), None) => t,
            (None, Some(exp)) => exp,
            (None, None) => fetched_at.saturating_add(to_secs(bounds.max)),
        };
        let earliest = fetched_at.saturating_add(to_secs(bounds.min));
        let latest = fetched_at.saturating_add(to_secs(bounds.max.max(bounds.min)));
        wanted.clamp(earliest, latest)
    }
}

/// Reads a NumericDate claim: a JSON integer (RFC 7519 §2 allows fractions; we issue and
/// accept whole seconds only, and never a string).
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<UnixTime>, StatusListError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or(StatusListError::Invalid(name)),
    }
}
