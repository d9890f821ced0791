//! The attestation a platform receives: a short-lived JWT signed by the verifier.
//!
//! A compact JWS, `alg` ES256, header `typ: verifier-attestation+jwt` (explicit typing,
//! RFC 8725 §3.11, so it cannot be mistaken for any other JWT the verifier signs) and `kid`
//! (a key of the verifier's published JWKS). The claims are exactly:
//!
//! | claim | value |
//! |---|---|
//! | `iss` | the verifier's URL |
//! | `aud` | the platform's id |
//! | `sub` | the pairwise pseudonym — only when `verified_person` passed |
//! | `checks` | the checks that passed: `age_over_18`, `verified_person` |
//! | `result` | `verified` or `not_verified` |
//! | `iat`, `exp` | issued at, and a short expiry (default `iat` + 300 s) |
//! | `jti` | 128 random bits, base64url |
//! | `check_id` | the platform API's check id |
//!
//! A failed check is `result: not_verified`, `checks: []` and no `sub`, whatever the reason
//! (declined, no credential, under age, refused presentation): the platform learns nothing
//! more. Nothing else is ever in the claims — no name, birth date or handle — and [`verify`]
//! refuses any other member, so nothing can be smuggled through.

use credential_formats::crypto::{CryptoProvider, SignatureAlgorithm, Signer, random_token};
use credential_formats::jose::{DecodedJws, JoseError, Jwk, JwsHeader, sign_compact};
use serde::{Deserialize, Serialize};

/// The `typ` of an attestation.
pub const ATTESTATION_TYP: &str = "verifier-attestation+jwt";

/// Default lifetime of an attestation, in seconds.
pub const DEFAULT_LIFETIME: i64 = 300;

/// Clock skew [`verify`] allows on `iat` and `exp`, in seconds.
pub const VERIFY_LEEWAY: i64 = 60;

/// Size limit of an attestation's claims (they are a few hundred bytes).
const MAX_CLAIMS_LEN: usize = 4096;

/// Why an attestation could not be made or was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttestationError {
    /// The claims break the attestation's rules: `sub` exactly when `verified_person` passed,
    /// at least one check when verified, none when not, no check twice.
    #[error("inconsistent attestation: {0}")]
    Inconsistent(&'static str),
    /// The signing key is not an ES256 key.
    #[error("attestations are signed with ES256 only")]
    AlgorithmNotAllowed,
    /// Signing failed, or the random number generator did.
    #[error("signing failed: {0}")]
    Signing(JoseError),
    /// The token is not a well-formed compact JWS.
    #[error("malformed attestation: {0}")]
    Malformed(JoseError),
    /// The header has no `kid`, or it names no key of the verifier's JWKS.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify with the named key, or `typ` is not
    /// `verifier-attestation+jwt`.
    #[error("attestation does not verify: {0}")]
    Signature(JoseError),
    /// The claims are not exactly the attestation's (missing, mistyped or extra members).
    #[error("attestation claims are malformed")]
    Claims,
    /// `iss` is not the verifier the platform uses.
    #[error("attestation from another issuer")]
    WrongIssuer,
    /// `aud` is not this platform.
    #[error("attestation for another platform")]
    WrongAudience,
    /// `exp` has passed (beyond [`VERIFY_LEEWAY`]).
    #[error("attestation expired")]
    Expired,
    /// `iat` is in the future (beyond [`VERIFY_LEEWAY`]), or not before `exp`.
    #[error("attestation issued in the future")]
    IssuedInFuture,
}

/// A check a platform can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Check {
    /// The person is 18 or older (anonymous).
    #[serde(rename = "age_over_18")]
    AgeOver18,
    /// The account belongs to a verified person (accountable: a pseudonym and an escrow
    /// record).
    #[serde(rename = "verified_person")]
    VerifiedPerson,
}

impl Check {
    /// The name used in the API and in `checks`.
    pub fn name(self) -> &'static str {
        match self {
            Check::AgeOver18 => "age_over_18",
            Check::VerifiedPerson => "verified_person",
        }
    }
}

/// `result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every check asked for passed.
    Verified,
    /// Whatever went wrong.
    NotVerified,
}

/// An attestation's claims, always consistent: built by [`Attestation::verified`] or
/// [`Attestation::not_verified`], or read back by [`verify`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    iss: String,
    aud: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    checks: Vec<Check>,
    result: Outcome,
    iat: i64,
    exp: i64,
    jti: String,
    check_id: String,
}

impl std::fmt::Debug for Attestation {
    // The pseudonym is the platform's, not the log's.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attestation")
            .field("result", &self.result)
            .field("checks", &self.checks)
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

impl Attestation {
    /// A passed check: `checks` (at least one), and the pseudonym exactly when
    /// `verified_person` is among them; `exp` = `iat` + `lifetime`; a fresh `jti`.
    pub fn verified(
        iss: impl Into<String>,
        aud: impl Into<String>,
        check_id: impl Into<String>,
        checks: &[Check],
        pseudonym: Option<String>,
        iat: i64,
        lifetime: i64,
    ) -> Result<Attestation, AttestationError> {
        let mut checks = checks.to_vec();
        checks.sort_unstable();
        checks.dedup();
        let attestation = Attestation {
            iss: iss.into(),
            aud: aud.into(),
            sub: pseudonym,
            checks,
            result: Outcome::Verified,
            iat,
            exp: iat.saturating_add(lifetime),
            jti: random_token(16).map_err(AttestationError::Signing)?,
            check_id: check_id.into(),
        };
        attestation.check_consistent()?;
        Ok(attestation)
    }

    /// A failed check, whatever the reason: no checks, no `sub`.
    pub fn not_verified(
        iss: impl Into<String>,
        aud: impl Into<String>,
        check_id: impl Into<String>,
        iat: i64,
        lifetime: i64,
    ) -> Result<Attestation, AttestationError> {
        let attestation = Attestation {
            iss: iss.into(),
            aud: aud.into(),
            sub: None,
            checks: Vec::new(),
            result: Outcome::NotVerified,
            iat,
            exp: iat.saturating_add(lifetime),
            jti: random_token(16).map_err(AttestationError::Signing)?,
            check_id: check_id.into(),
        };
        attestation.check_consistent()?;
        Ok(attestation)
    }

    fn check_consistent(&self) -> Result<(), AttestationError> {
        let person = self.checks.contains(&Check::VerifiedPerson);
        match self.result {
            Outcome::NotVerified if !self.checks.is_empty() => {
                return Err(AttestationError::Inconsistent("not_verified with checks"));
            }
            Outcome::NotVerified if self.sub.is_some() => {
                return Err(AttestationError::Inconsistent("not_verified with sub"));
            }
            Outcome::Verified if self.checks.is_empty() => {
                return Err(AttestationError::Inconsistent("verified without checks"));
            }
            _ => {}
        }
        if person != self.sub.is_some() {
            return Err(AttestationError::Inconsistent(
                "sub exactly when verified_person passed",
            ));
        }
        if self.sub.as_deref() == Some("") {
            return Err(AttestationError::Inconsistent("empty sub"));
        }
        let mut sorted = self.checks.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != self.checks.len() {
            return Err(AttestationError::Inconsistent("a check appears twice"));
        }
        if self.exp <= self.iat {
            return Err(AttestationError::Inconsistent("exp not after iat"));
        }
        Ok(())
    }

    /// Signs the attestation: ES256 by `signer`, `kid` in the header.
    pub fn sign(&self, signer: &dyn Signer, kid: &str) -> Result<String, AttestationError> {
        if signer.algorithm() != SignatureAlgorithm::Es256 {
            return Err(AttestationError::AlgorithmNotAllowed);
        }
        let payload = serde_json::to_vec(self)
            .map_err(|_| AttestationError::Inconsistent("unserialisable"))?;
        sign_compact(
            &JwsHeader::new(ATTESTATION_TYP).with_kid(kid),
            &payload,
            signer,
        )
        .map_err(AttestationError::Signing)
    }

    /// `iss`: the verifier.
    pub fn iss(&self) -> &str {
        &self.iss
    }
    /// `aud`: the platform.
    pub fn aud(&self) -> &str {
        &self.aud
    }
    /// `sub`: the pairwise pseudonym, when `verified_person` passed.
    pub fn sub(&self) -> Option<&str> {
        self.sub.as_deref()
    }
    /// The checks that passed.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }
    /// `result`.
    pub fn result(&self) -> Outcome {
        self.result
    }
    /// `iat`.
    pub fn iat(&self) -> i64 {
        self.iat
    }
    /// `exp`.
    pub fn exp(&self) -> i64 {
        self.exp
    }
    /// `jti`.
    pub fn jti(&self) -> &str {
        &self.jti
    }
    /// `check_id`.
    pub fn check_id(&self) -> &str {
        &self.check_id
    }
}

/// What a platform does with an attestation: the `kid` picks an ES256 key of the verifier's
/// JWKS (`keys`), the signature and `typ` verify, the claims are exactly the attestation's
/// and consistent, `iss` and `aud` are the expected ones, and at `now` it is neither expired
/// nor issued in the future.
pub fn verify(
    token: &str,
    keys: &[Jwk],
    expected_iss: &str,
    expected_aud: &str,
    now: i64,
    provider: &dyn CryptoProvider,
) -> Result<Attestation, AttestationError> {
    let decoded = DecodedJws::decode(token).map_err(AttestationError::Malformed)?;
    if decoded.header().alg() != Some(SignatureAlgorithm::Es256) {
        return Err(AttestationError::AlgorithmNotAllowed);
    }
    let kid = decoded.header().kid().ok_or(AttestationError::UnknownKey)?;
    let key = keys
        .iter()
        .find(|k| k.kid() == Some(kid) && k.key().algorithm() == SignatureAlgorithm::Es256)
        .ok_or(AttestationError::UnknownKey)?;
    let verified = decoded
        .verify(provider, key.key(), ATTESTATION_TYP)
        .map_err(AttestationError::Signature)?;
    let attestation: Attestation =
        credential_formats::json::parse_as(verified.payload(), MAX_CLAIMS_LEN)
            .map_err(|_| AttestationError::Claims)?;
    attestation
        .check_consistent()
        .map_err(|_| AttestationError::Claims)?;
    if attestation.iss != expected_iss {
        return Err(AttestationError::WrongIssuer);
    }
    if attestation.aud != expected_aud {
        return Err(AttestationError::WrongAudience);
    }
    if attestation.iat > now.saturating_add(VERIFY_LEEWAY) {
        return Err(AttestationError::IssuedInFuture);
    }
    if now.saturating_sub(VERIFY_LEEWAY) >= attestation.exp {
        return Err(AttestationError::Expired);
    }
    if attestation.jti.len() < 22 {
        return Err(AttestationError::Claims);
    }
    Ok(attestation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use credential_formats::crypto::{AwsLc, RustCrypto, SecretKey};
    use serde_json::{Value, json};

    const ISS: &str = "https://verifier.example";
    const AUD: &str = "platform-1";
    const NOW: i64 = 1_800_000_000;

    struct Keys {
        secret: SecretKey,
        jwks: Vec<Jwk>,
    }

    fn keys() -> Keys {
        let secret = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let jwks = vec![Jwk::new(secret.public_key()).with_kid("att-1")];
        Keys { secret, jwks }
    }

    fn signed(keys: &Keys, attestation: &Attestation) -> String {
        attestation
            .sign(&*AwsLc.signer(&keys.secret).unwrap(), "att-1")
            .unwrap()
    }

    fn claims_of(token: &str) -> serde_json::Map<String, Value> {
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    fn header_of(token: &str) -> Value {
        let header = token.split('.').next().unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
    }

    /// Re-signs `claims` as is, with `header`: what an attacker with the key, or a buggy
    /// verifier, could produce.
    fn forge(keys: &Keys, header: &JwsHeader, claims: &Value) -> String {
        let payload = serde_json::to_vec(claims).unwrap();
        sign_compact(header, &payload, &*RustCrypto.signer(&keys.secret).unwrap()).unwrap()
    }

    fn person() -> Attestation {
        Attestation::verified(
            ISS,
            AUD,
            "check-1",
            &[Check::VerifiedPerson, Check::AgeOver18],
            Some("pseudonym-abc".into()),
            NOW,
            DEFAULT_LIFETIME,
        )
        .unwrap()
    }

    #[test]
    fn a_verified_person_attestation_has_exactly_the_listed_claims() {
        let keys = keys();
        let token = signed(&keys, &person());
        let header = header_of(&token);
        assert_eq!(header["typ"], ATTESTATION_TYP);
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], "att-1");
        let claims = claims_of(&token);
        let names: Vec<&str> = claims.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "iss", "aud", "sub", "checks", "result", "iat", "exp", "jti", "check_id"
            ]
        );
        assert_eq!(claims["checks"], json!(["age_over_18", "verified_person"]));
        assert_eq!(claims["result"], "verified");
        assert_eq!(claims["sub"], "pseudonym-abc");
        assert_eq!(claims["exp"], NOW + DEFAULT_LIFETIME);
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(claims["jti"].as_str().unwrap())
                .unwrap()
                .len(),
            16
        );
        let back = verify(&token, &keys.jwks, ISS, AUD, NOW + 10, &AwsLc).unwrap();
        assert_eq!(back, person().clone_with_jti(back.jti()));
        assert_eq!(back.sub(), Some("pseudonym-abc"));
    }

    impl Attestation {
        fn clone_with_jti(&self, jti: &str) -> Attestation {
            let mut copy = self.clone();
            copy.jti = jti.to_owned();
            copy
        }
    }

    #[test]
    fn an_age_check_has_no_sub_and_a_failed_check_says_nothing() {
        let keys = keys();
        let age = Attestation::verified(
            ISS,
            AUD,
            "c",
            &[Check::AgeOver18],
            None,
            NOW,
            DEFAULT_LIFETIME,
        )
        .unwrap();
        let claims = claims_of(&signed(&keys, &age));
        assert!(!claims.contains_key("sub"));
        assert_eq!(claims["checks"], json!(["age_over_18"]));

        let failed = Attestation::not_verified(ISS, AUD, "c", NOW, DEFAULT_LIFETIME).unwrap();
        let token = signed(&keys, &failed);
        let claims = claims_of(&token);
        let names: Vec<&str> = claims.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "iss", "aud", "checks", "result", "iat", "exp", "jti", "check_id"
            ]
        );
        assert_eq!(claims["checks"], json!([]));
        assert_eq!(claims["result"], "not_verified");
        let back = verify(&token, &keys.jwks, ISS, AUD, NOW, &AwsLc).unwrap();
        assert_eq!(back.result(), Outcome::NotVerified);
        assert!(back.checks().is_empty());
    }

    #[test]
    fn inconsistent_attestations_cannot_be_made() {
        let make = |checks: &[Check], sub: Option<&str>| {
            Attestation::verified(
                ISS,
                AUD,
                "c",
                checks,
                sub.map(str::to_owned),
                NOW,
                DEFAULT_LIFETIME,
            )
        };
        assert!(make(&[Check::VerifiedPerson], None).is_err());
        assert!(make(&[Check::AgeOver18], Some("p")).is_err());
        assert!(make(&[], None).is_err());
        assert!(make(&[Check::VerifiedPerson], Some("")).is_err());
        assert!(Attestation::not_verified(ISS, AUD, "c", NOW, 0).is_err());
        // Duplicates are folded, not refused.
        let twice = make(&[Check::AgeOver18, Check::AgeOver18], None).unwrap();
        assert_eq!(twice.checks(), [Check::AgeOver18]);
    }

    #[test]
    fn verification_is_strict() {
        let keys = keys();
        let token = signed(&keys, &person());
        assert_eq!(
            verify(&token, &keys.jwks, ISS, "platform-2", NOW, &AwsLc).unwrap_err(),
            AttestationError::WrongAudience
        );
        assert_eq!(
            verify(&token, &keys.jwks, "https://other", AUD, NOW, &AwsLc).unwrap_err(),
            AttestationError::WrongIssuer
        );
        let late = NOW + DEFAULT_LIFETIME + VERIFY_LEEWAY;
        assert_eq!(
            verify(&token, &keys.jwks, ISS, AUD, late, &AwsLc).unwrap_err(),
            AttestationError::Expired
        );
        assert!(verify(&token, &keys.jwks, ISS, AUD, late - 1, &AwsLc).is_ok());
        assert_eq!(
            verify(&token, &keys.jwks, ISS, AUD, NOW - 61, &AwsLc).unwrap_err(),
            AttestationError::IssuedInFuture
        );
        // Another key under the same kid.
        let other = self::keys();
        assert!(matches!(
            verify(&token, &other.jwks, ISS, AUD, NOW, &AwsLc).unwrap_err(),
            AttestationError::Signature(JoseError::InvalidSignature)
        ));
        // An unknown kid.
        let renamed = vec![Jwk::new(keys.secret.public_key()).with_kid("att-2")];
        assert_eq!(
            verify(&token, &renamed, ISS, AUD, NOW, &AwsLc).unwrap_err(),
            AttestationError::UnknownKey
        );
        // A changed payload character.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut payload = URL_SAFE_NO_PAD.decode(&parts[1]).unwrap();
        let at = payload.len() - 3;
        payload[at] ^= 1;
        parts[1] = URL_SAFE_NO_PAD.encode(payload);
        assert!(verify(&parts.join("."), &keys.jwks, ISS, AUD, NOW, &AwsLc).is_err());
    }

    #[test]
    fn wrong_typ_alg_or_kid_header_is_refused() {
        let keys = keys();
        let claims = serde_json::to_value(person()).unwrap();
        let wrong_typ = forge(&keys, &JwsHeader::new("JWT").with_kid("att-1"), &claims);
        assert!(matches!(
            verify(&wrong_typ, &keys.jwks, ISS, AUD, NOW, &AwsLc).unwrap_err(),
            AttestationError::Signature(JoseError::UnexpectedType { .. })
        ));
        let no_kid = forge(&keys, &JwsHeader::new(ATTESTATION_TYP), &claims);
        assert_eq!(
            verify(&no_kid, &keys.jwks, ISS, AUD, NOW, &AwsLc).unwrap_err(),
            AttestationError::UnknownKey
        );
        // An EdDSA key under the attestation kid: the algorithm is refused before any key.
        let ed = SecretKey::generate(SignatureAlgorithm::EdDsa).unwrap();
        let ed_token = sign_compact(
            &JwsHeader::new(ATTESTATION_TYP).with_kid("att-1"),
            &serde_json::to_vec(&claims).unwrap(),
            &*RustCrypto.signer(&ed).unwrap(),
        )
        .unwrap();
        let ed_jwks = vec![Jwk::new(ed.public_key()).with_kid("att-1")];
        assert_eq!(
            verify(&ed_token, &ed_jwks, ISS, AUD, NOW, &AwsLc).unwrap_err(),
            AttestationError::AlgorithmNotAllowed
        );
        assert_eq!(
            person().sign(&*RustCrypto.signer(&ed).unwrap(), "x"),
            Err(AttestationError::AlgorithmNotAllowed)
        );
        assert!(matches!(
            verify("not.a.jwt", &keys.jwks, ISS, AUD, NOW, &AwsLc).unwrap_err(),
            AttestationError::Malformed(_)
        ));
    }

    #[test]
    fn smuggled_or_inconsistent_claims_are_refused() {
        let keys = keys();
        let header = JwsHeader::new(ATTESTATION_TYP).with_kid("att-1");
        let base = serde_json::to_value(person()).unwrap();
        let with = |name: &str, value: Value| {
            let mut claims = base.clone();
            claims[name] = value;
            forge(&keys, &header, &claims)
        };
        let without = |name: &str| {
            let mut claims = base.clone();
            claims.as_object_mut().unwrap().remove(name);
            forge(&keys, &header, &claims)
        };
        let refused = [
            // Identity smuggled in an extra claim.
            with("birthdate", json!("1990-01-01")),
            with("person_handle", json!("h")),
            // Failed with a sub, or with checks.
            with("result", json!("not_verified")),
            // A check nobody defined.
            with("checks", json!(["age_over_18", "verified_person", "rich"])),
            // A check twice.
            with(
                "checks",
                json!(["age_over_18", "verified_person", "age_over_18"]),
            ),
            // sub without verified_person.
            with("checks", json!(["age_over_18"])),
            // aud as an array, iat as a string, a short jti.
            with("aud", json!([AUD])),
            with("iat", json!("1800000000")),
            with("jti", json!("short")),
            without("sub"),
            without("jti"),
            without("check_id"),
            without("exp"),
        ];
        for (i, token) in refused.iter().enumerate() {
            assert_eq!(
                verify(token, &keys.jwks, ISS, AUD, NOW, &AwsLc).unwrap_err(),
                AttestationError::Claims,
                "case {i}"
            );
        }
    }

    #[test]
    fn debug_output_hides_the_pseudonym() {
        let attestation = person();
        let text = format!("{attestation:?}");
        assert!(!text.contains("pseudonym-abc"));
        assert!(!text.contains(attestation.jti()));
        // The names Check::name gives are the ones serialised.
        for check in [Check::AgeOver18, Check::VerifiedPerson] {
            assert_eq!(serde_json::to_value(check).unwrap(), check.name());
        }
    }
}
