//! Court orders: a judge's signed instruction to lift the pseudonym of exactly one account
//! (ours: `spec/escrow-and-court.md`).
//!
//! An order is a compact JWS signed with a judge's key from the trust list (role
//! `court_judge`), header `typ: court-order+jwt` and `kid`, whose claims are exactly:
//!
//! | claim | value |
//! |---|---|
//! | `iss` | the judge's entity id in the trust list |
//! | `jti` | a random id (≥ 128 bits), what single use is enforced on |
//! | `iat`, `exp` | NumericDate; `iat < exp ≤ deadline`, `exp − iat ≤` [`MAX_LIFETIME`] |
//! | `case` | the case number |
//! | `ground` | the legal ground, as text |
//! | `platform` | one platform id |
//! | `pseudonym` | one pseudonym: 43 characters of base64url (a 256-bit value) |
//! | `deadline` | NumericDate by which the order must be answered |
//! | `embargo_until` | optional NumericDate before which the person may not be told |
//!
//! One order names one account: a list, a wildcard or a date range is refused by
//! [`verify_order`] ([`CourtOrderError::Bulk`], [`CourtOrderError::Wildcard`]) even when a
//! judge signed it, and [`sign_order`] refuses to make one. Single use (the `jti` seen
//! once) is the verifier's to enforce: this module has no state.
//!
//! The verifier (`POST /court/orders`), the register (`POST /register/resolve`) and the
//! court's tool all call [`verify_order`], so they agree on what a valid order is.

use crate::crypto::{CryptoProvider, Signer};
use crate::jose::{DecodedJws, JoseError, JwsHeader, sign_compact};
use crate::time::UnixTime;
use crate::trust_list::{TrustList, TrustListError};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

/// The JWT `typ` of a court order.
pub const COURT_ORDER_JWT_TYP: &str = "court-order+jwt";

/// Clock skew allowed on `iat` and `exp`, in seconds.
pub const CLOCK_SKEW: i64 = 60;

/// The longest an order may be valid (`exp − iat`): seven days. The chamber's summary
/// procedure answers within 24 hours; a week leaves room for a weekend, and an order past
/// that is stale and must be signed anew.
pub const MAX_LIFETIME: i64 = 7 * 86_400;

/// Size limit of a compact order (a few hundred bytes in practice).
pub const MAX_ORDER_LEN: usize = 16 * 1024;

/// Longest `case`, in characters.
const MAX_CASE_LEN: usize = 64;
/// Longest `ground`, in characters.
const MAX_GROUND_LEN: usize = 500;
/// Longest `platform`, in characters.
const MAX_PLATFORM_LEN: usize = 255;
/// A pseudonym is base64url of 32 bytes.
const PSEUDONYM_LEN: usize = 43;

/// The claims an order has; any other is refused.
const KNOWN_CLAIMS: [&str; 10] = [
    "iss",
    "jti",
    "iat",
    "exp",
    "case",
    "ground",
    "platform",
    "pseudonym",
    "deadline",
    "embargo_until",
];

/// Claim names that would widen an order beyond one account or one point in time: their
/// presence is [`CourtOrderError::Bulk`], not merely an unknown claim.
const BULK_CLAIMS: [&str; 12] = [
    "platforms",
    "pseudonyms",
    "accounts",
    "subjects",
    "from",
    "to",
    "since",
    "until",
    "before",
    "after",
    "date_range",
    "period",
];

/// Why an order was refused. [`CourtOrderError::code`] is the stable identifier services
/// answer with and log; messages name the rule, never a value of the order.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CourtOrderError {
    /// Not a compact JWS, or a claim is missing, mistyped, unknown or out of range.
    #[error("malformed court order: {0}")]
    Malformed(&'static str),
    /// No signature: `alg` missing or `none`, or an empty signature.
    #[error("the court order is not signed")]
    Unsigned,
    /// The `typ` is not `court-order+jwt`: another kind of token.
    #[error("not a court order (typ)")]
    WrongType,
    /// `iss`/`kid` name no key of the trust list, or its holder is not a judge.
    #[error("the court order is not signed by a judge")]
    NotAJudge,
    /// The judge's entry in the trust list has ended (now, or when the order was signed).
    #[error("the judge's key is no longer valid")]
    JudgeExpired,
    /// The judge's entry in the trust list has not started yet.
    #[error("the judge's key is not yet valid")]
    JudgeNotYetValid,
    /// The signature does not verify with the judge's key: the order was altered, or signed
    /// with another key.
    #[error("the court order's signature does not verify")]
    BadSignature,
    /// The order's `exp` has passed.
    #[error("the court order has expired")]
    Expired,
    /// The order's `iat` is in the future.
    #[error("the court order is issued in the future")]
    IssuedInFuture,
    /// `platform` or `pseudonym` is a wildcard (`*`, `%`, `?`, `all`, …) or empty.
    #[error("the court order names a wildcard instead of one account")]
    Wildcard,
    /// The order names several accounts or platforms, or a range of them (a list, a
    /// separator inside a value, a date range).
    #[error("the court order names more than one account")]
    Bulk,
    /// The operating system's random number generator failed (signing only).
    #[error("the system random number generator is unavailable")]
    Random,
    /// The judge's key could not sign (signing only).
    #[error("the court order could not be signed")]
    Signing,
}

impl CourtOrderError {
    /// The stable code of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            CourtOrderError::Malformed(_) => "malformed",
            CourtOrderError::Unsigned => "unsigned",
            CourtOrderError::WrongType => "wrong_type",
            CourtOrderError::NotAJudge => "not_a_judge",
            CourtOrderError::JudgeExpired => "judge_expired",
            CourtOrderError::JudgeNotYetValid => "judge_not_yet_valid",
            CourtOrderError::BadSignature => "bad_signature",
            CourtOrderError::Expired => "expired",
            CourtOrderError::IssuedInFuture => "issued_in_future",
            CourtOrderError::Wildcard => "wildcard",
            CourtOrderError::Bulk => "bulk",
            CourtOrderError::Random => "random_unavailable",
            CourtOrderError::Signing => "signing_failed",
        }
    }
}

/// What a judge orders: the input of [`sign_order`].
#[derive(Clone, PartialEq, Eq)]
pub struct OrderRequest {
    /// The case number.
    pub case: String,
    /// The legal ground.
    pub ground: String,
    /// The platform's id (as the verifier knows it).
    pub platform: String,
    /// The account's pseudonym on that platform.
    pub pseudonym: String,
    /// When the order must be answered by; also the order's `exp`.
    pub deadline: UnixTime,
    /// Until when the person may not be told of the opening, if the judge so orders.
    pub embargo_until: Option<UnixTime>,
}

impl std::fmt::Debug for OrderRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderRequest")
            .field("deadline", &self.deadline)
            .field("embargo_until", &self.embargo_until)
            .finish_non_exhaustive()
    }
}

/// Signs an order as the judge `judge_id` with the key `kid` (both as the trust list has
/// them), issued at `now`, `exp` = the deadline, with a fresh random `jti`. Refuses what
/// [`verify_order`] would refuse for its shape (a wildcard, a list, a deadline too far or
/// in the past), so the court never sends an order the verifier turns down for its form.
pub fn sign_order(
    request: &OrderRequest,
    judge_id: &str,
    kid: &str,
    signer: &dyn Signer,
    now: UnixTime,
) -> Result<String, CourtOrderError> {
    let jti = crate::crypto::random_token(16).map_err(|_| CourtOrderError::Random)?;
    let order = CourtOrder {
        judge: judge_id.to_owned(),
        kid: kid.to_owned(),
        jti,
        iat: now,
        exp: request.deadline,
        case: request.case.clone(),
        ground: request.ground.clone(),
        platform: request.platform.clone(),
        pseudonym: request.pseudonym.clone(),
        deadline: request.deadline,
        embargo_until: request.embargo_until,
        digest: [0; 32],
    };
    if kid.is_empty() {
        return Err(CourtOrderError::Malformed("kid"));
    }
    order.check_values()?;
    let payload = serde_json::to_vec(&order.claims())
        .map_err(|_| CourtOrderError::Malformed("unserialisable"))?;
    let header = JwsHeader::new(COURT_ORDER_JWT_TYP).with_kid(kid);
    sign_compact(&header, &payload, signer).map_err(|e| match e {
        JoseError::RandomUnavailable => CourtOrderError::Random,
        _ => CourtOrderError::Signing,
    })
}

/// A court order whose signature, signer, type, shape and validity at a given time have been
/// checked by [`verify_order`]. Its `Debug` shows times only.
#[derive(Clone, PartialEq, Eq)]
pub struct CourtOrder {
    judge: String,
    kid: String,
    jti: String,
    iat: UnixTime,
    exp: UnixTime,
    case: String,
    ground: String,
    platform: String,
    pseudonym: String,
    deadline: UnixTime,
    embargo_until: Option<UnixTime>,
    digest: [u8; 32],
}

impl std::fmt::Debug for CourtOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CourtOrder")
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl CourtOrder {
    /// `iss`: the judge's entity id.
    pub fn judge(&self) -> &str {
        &self.judge
    }
    /// The `kid` of the judge's key that signed.
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// `jti`: the order's id, to be seen once.
    pub fn jti(&self) -> &str {
        &self.jti
    }
    /// `iat`.
    pub fn iat(&self) -> UnixTime {
        self.iat
    }
    /// `exp`.
    pub fn exp(&self) -> UnixTime {
        self.exp
    }
    /// `case`.
    pub fn case(&self) -> &str {
        &self.case
    }
    /// `ground`.
    pub fn ground(&self) -> &str {
        &self.ground
    }
    /// `platform`: the one platform.
    pub fn platform(&self) -> &str {
        &self.platform
    }
    /// `pseudonym`: the one account on it.
    pub fn pseudonym(&self) -> &str {
        &self.pseudonym
    }
    /// `deadline`.
    pub fn deadline(&self) -> UnixTime {
        self.deadline
    }
    /// `embargo_until`, if any.
    pub fn embargo_until(&self) -> Option<UnixTime> {
        self.embargo_until
    }
    /// SHA-256 of the compact order as received (its ASCII bytes): what a transparency log
    /// entry records instead of the order.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// The claims set, as signed.
    pub fn claims(&self) -> Value {
        let mut claims = Map::new();
        claims.insert("iss".into(), Value::from(self.judge.clone()));
        claims.insert("jti".into(), Value::from(self.jti.clone()));
        claims.insert("iat".into(), Value::from(self.iat));
        claims.insert("exp".into(), Value::from(self.exp));
        claims.insert("case".into(), Value::from(self.case.clone()));
        claims.insert("ground".into(), Value::from(self.ground.clone()));
        claims.insert("platform".into(), Value::from(self.platform.clone()));
        claims.insert("pseudonym".into(), Value::from(self.pseudonym.clone()));
        claims.insert("deadline".into(), Value::from(self.deadline));
        if let Some(embargo) = self.embargo_until {
            claims.insert("embargo_until".into(), Value::from(embargo));
        }
        Value::Object(claims)
    }

    /// Every rule on the values, independent of the time of verification.
    fn check_values(&self) -> Result<(), CourtOrderError> {
        check_one_account(&self.platform)?;
        check_one_account(&self.pseudonym)?;
        if self.judge.is_empty() {
            return Err(CourtOrderError::Malformed("iss"));
        }
        let jti_ok = (16..=128).contains(&self.jti.len())
            && self
                .jti
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !jti_ok {
            return Err(CourtOrderError::Malformed("jti"));
        }
        let case_ok = (1..=MAX_CASE_LEN).contains(&self.case.len())
            && self.case.starts_with(|c: char| c.is_ascii_alphanumeric())
            && self
                .case
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " ./_:-".contains(c));
        if !case_ok {
            return Err(CourtOrderError::Malformed("case"));
        }
        let ground_ok = !self.ground.trim().is_empty()
            && self.ground.chars().count() <= MAX_GROUND_LEN
            && !self.ground.chars().any(char::is_control);
        if !ground_ok {
            return Err(CourtOrderError::Malformed("ground"));
        }
        let platform_ok = self.platform.len() <= MAX_PLATFORM_LEN
            && self
                .platform
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._~:/-".contains(c));
        if !platform_ok {
            return Err(CourtOrderError::Malformed("platform"));
        }
        let pseudonym_ok = self.pseudonym.len() == PSEUDONYM_LEN
            && crate::b64::decode(&self.pseudonym).is_some_and(|bytes| bytes.len() == 32);
        if !pseudonym_ok {
            return Err(CourtOrderError::Malformed("pseudonym"));
        }
        if self.exp <= self.iat {
            return Err(CourtOrderError::Malformed("exp not after iat"));
        }
        if self.exp > self.deadline {
            return Err(CourtOrderError::Malformed("exp after deadline"));
        }
        if self.exp - self.iat > MAX_LIFETIME {
            return Err(CourtOrderError::Malformed("valid for too long"));
        }
        if self.embargo_until.is_some_and(|embargo| embargo < self.iat) {
            return Err(CourtOrderError::Malformed("embargo_until before iat"));
        }
        Ok(())
    }
}

/// Refuses a `platform` or `pseudonym` value that stands for more than one account.
fn check_one_account(value: &str) -> Result<(), CourtOrderError> {
    let trimmed = value.trim();
    let lower = trimmed.to_ascii_lowercase();
    if trimmed.is_empty()
        || trimmed.contains(['*', '%', '?'])
        || ["all", "any", "every", "everyone", "none"].contains(&lower.as_str())
    {
        return Err(CourtOrderError::Wildcard);
    }
    if value.contains([',', ';', '|', '[', ']', '{', '}']) || value.contains(char::is_whitespace) {
        return Err(CourtOrderError::Bulk);
    }
    Ok(())
}

/// Verifies a court order at `now` against the trust list:
///
/// 1. a compact JWS (at most [`MAX_ORDER_LEN`]) with a signature (`unsigned` otherwise);
/// 2. `iss` and `kid` name a key of the trust list held by an entity with role
///    `court_judge`, valid at `now` (`not_a_judge`, `judge_expired`, `judge_not_yet_valid`);
/// 3. the signature verifies with that key, chosen from the trust list, never from the
///    token (`bad_signature`), and `typ` is `court-order+jwt` (`wrong_type`);
/// 4. exactly the known claims, one platform and one pseudonym (`bulk`, `wildcard`,
///    `malformed`), well-formed values;
/// 5. the judge was valid when the order was signed too, `iat` is not in the future and
///    `exp` has not passed, each with [`CLOCK_SKEW`] (`issued_in_future`, `expired`).
pub fn verify_order(
    compact: &str,
    trust_list: &TrustList,
    provider: &dyn CryptoProvider,
    now: UnixTime,
) -> Result<CourtOrder, CourtOrderError> {
    if compact.len() > MAX_ORDER_LEN {
        return Err(CourtOrderError::Malformed("too large"));
    }
    let decoded = DecodedJws::decode(compact).map_err(|e| match e {
        JoseError::MissingAlgorithm | JoseError::AlgorithmNotAllowed => CourtOrderError::Unsigned,
        _ => CourtOrderError::Malformed("not a compact JWS"),
    })?;
    if compact.ends_with('.') {
        return Err(CourtOrderError::Unsigned);
    }
    let kid = decoded
        .header()
        .kid()
        .ok_or(CourtOrderError::Malformed("kid missing"))?
        .to_owned();
    // The unverified `iss` only finds the key; the claims are read after verification.
    let unverified = crate::json::parse(decoded.unverified_payload(), MAX_ORDER_LEN)
        .map_err(|_| CourtOrderError::Malformed("payload is not JSON"))?;
    let iss = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or(CourtOrderError::Malformed("iss"))?
        .to_owned();
    let key = trust_list
        .resolve_key(&iss, &kid)
        .map_err(|_| CourtOrderError::NotAJudge)?
        .clone();
    let judge = trust_list.court_judge(&key, now).map_err(judge_error)?;
    let verified = decoded
        .verify(provider, &key, COURT_ORDER_JWT_TYP)
        .map_err(|e| match e {
            JoseError::UnexpectedType { .. } => CourtOrderError::WrongType,
            _ => CourtOrderError::BadSignature,
        })?;
    let claims = verified
        .claims(MAX_ORDER_LEN)
        .map_err(|_| CourtOrderError::Malformed("claims are not a JSON object"))?;
    let order = parse_claims(&claims, kid, Sha256::digest(compact.as_bytes()).into())?;
    judge.check_valid_at(order.iat).map_err(judge_error)?;
    if order.iat > now.saturating_add(CLOCK_SKEW) {
        return Err(CourtOrderError::IssuedInFuture);
    }
    if now.saturating_sub(CLOCK_SKEW) >= order.exp {
        return Err(CourtOrderError::Expired);
    }
    Ok(order)
}

fn judge_error(error: TrustListError) -> CourtOrderError {
    match error {
        TrustListError::EntityExpired => CourtOrderError::JudgeExpired,
        TrustListError::EntityNotYetValid => CourtOrderError::JudgeNotYetValid,
        _ => CourtOrderError::NotAJudge,
    }
}

/// Reads the claims set: the shape first (so a list or a range is named as such), then
/// each value.
fn parse_claims(
    claims: &Map<String, Value>,
    kid: String,
    digest: [u8; 32],
) -> Result<CourtOrder, CourtOrderError> {
    for name in claims.keys() {
        if BULK_CLAIMS.contains(&name.as_str()) {
            return Err(CourtOrderError::Bulk);
        }
        if !KNOWN_CLAIMS.contains(&name.as_str()) {
            return Err(CourtOrderError::Malformed("unknown claim"));
        }
    }
    for name in ["platform", "pseudonym"] {
        match claims.get(name) {
            Some(Value::Array(_) | Value::Object(_)) => return Err(CourtOrderError::Bulk),
            Some(Value::String(value)) => check_one_account(value)?,
            Some(Value::Null) | None => return Err(CourtOrderError::Wildcard),
            Some(_) => return Err(CourtOrderError::Malformed(name)),
        }
    }
    let text = |name: &'static str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(CourtOrderError::Malformed(name))
    };
    let time = |name: &'static str| {
        claims
            .get(name)
            .and_then(Value::as_i64)
            .ok_or(CourtOrderError::Malformed(name))
    };
    let embargo_until = match claims.get("embargo_until") {
        None => None,
        Some(value) => Some(
            value
                .as_i64()
                .ok_or(CourtOrderError::Malformed("embargo_until"))?,
        ),
    };
    let order = CourtOrder {
        judge: text("iss")?,
        kid,
        jti: text("jti")?,
        iat: time("iat")?,
        exp: time("exp")?,
        case: text("case")?,
        ground: text("ground")?,
        platform: text("platform")?,
        pseudonym: text("pseudonym")?,
        deadline: time("deadline")?,
        embargo_until,
        digest,
    };
    order.check_values()?;
    Ok(order)
}

#[cfg(test)]
mod tests;
