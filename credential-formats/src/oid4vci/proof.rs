//! The `jwt` key proof type (OpenID4VCI 1.0 Appendix F.1) and its verification (F.4).

use super::PROOF_JWT_TYP;
use crate::crypto::{CryptoProvider, SignatureAlgorithm, Signer};
use crate::jose::{DecodedJws, Jwk, JwsHeader, sign_compact};
use crate::messages::MessageError;
use crate::time::UnixTime;
use serde_json::{Map, Value};

/// Size limit for a key proof's claims.
const MAX_PROOF_CLAIMS_LEN: usize = 16 * 1024;

/// How far a key proof's `iat` may lie from the issuer's clock (Appendix F.4, §13.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofTimePolicy {
    /// How old a proof may be, in seconds.
    pub max_age: i64,
    /// How far in the future `iat` may lie, in seconds (clock skew).
    pub max_skew: i64,
}

impl Default for ProofTimePolicy {
    /// Five minutes old, one minute ahead.
    fn default() -> ProofTimePolicy {
        ProofTimePolicy {
            max_age: 300,
            max_skew: 60,
        }
    }
}

/// A key proof whose signature, type, audience and time verified. The caller still checks
/// `nonce` against the `c_nonce` values it issued (and consumes it: single use). Its `Debug`
/// hides the nonce.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The key the Credential is to be bound to (`jwk` header).
    pub jwk: Jwk,
    /// `nonce`: the `c_nonce` this proof answers.
    pub nonce: String,
    /// `iat`.
    pub iat: UnixTime,
    /// `iss`: the Client's `client_id`, absent for anonymous Pre-Authorized Code access.
    pub iss: Option<String>,
}

impl std::fmt::Debug for VerifiedProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedProof")
            .field("jwk_thumbprint", &self.jwk.thumbprint())
            .field("iat", &self.iat)
            .finish_non_exhaustive()
    }
}

impl VerifiedProof {
    /// Checks `nonce` with the Credential Issuer's store: `is_valid_c_nonce` answers whether it
    /// is a `c_nonce` the issuer handed out, unexpired and unused (and should consume it). A
    /// refusal is [`MessageError::InvalidNonce`], reported as `invalid_nonce` (§8.3.1.2) so the
    /// Wallet fetches a fresh one.
    pub fn check_nonce(
        &self,
        is_valid_c_nonce: impl FnOnce(&str) -> bool,
    ) -> Result<(), MessageError> {
        if is_valid_c_nonce(&self.nonce) {
            Ok(())
        } else {
            Err(MessageError::InvalidNonce)
        }
    }
}

/// Creates a key proof JWT (Appendix F.1): header `typ: openid4vci-proof+jwt`, `alg` from the
/// signer and `jwk` its public key; claims `aud`, `iat`, `nonce` and, unless the access was
/// anonymous, `iss`.
pub fn create_proof(
    signer: &dyn Signer,
    aud: &str,
    nonce: &str,
    iat: UnixTime,
    iss: Option<&str>,
) -> crate::Result<String> {
    if signer.algorithm() != SignatureAlgorithm::Es256 {
        return Err(MessageError::ProofAlgorithmNotAccepted.into());
    }
    let header = JwsHeader::new(PROOF_JWT_TYP).with_jwk(Jwk::new(signer.public_key()));
    let mut claims = Map::new();
    if let Some(iss) = iss {
        claims.insert("iss".into(), Value::from(iss));
    }
    claims.insert("aud".into(), Value::from(aud));
    claims.insert("iat".into(), Value::from(iat));
    claims.insert("nonce".into(), Value::from(nonce));
    let payload = serde_json::to_vec(&Value::Object(claims))
        .map_err(|_| MessageError::InvalidParameter("key proof claims"))?;
    Ok(sign_compact(&header, &payload, signer)?)
}

/// Verifies a key proof JWT as Appendix F.4 requires: explicitly typed
/// `openid4vci-proof+jwt`; ES256 (never `none` or a MAC); the key in exactly one header
/// parameter — and for this profile that is `jwk` (a `kid` naming a DID, or `x5c`, is refused);
/// no private key in the header; the signature verifies with that key; `aud` is
/// `expected_aud`; `iat` is an integer within `policy` of `now`; `nonce` is present.
pub fn verify_proof(
    provider: &dyn CryptoProvider,
    compact: &str,
    expected_aud: &str,
    now: UnixTime,
    policy: ProofTimePolicy,
) -> crate::Result<VerifiedProof> {
    // A `jwk` header with private members is refused by the JWK decoder inside `decode`
    // (JoseError::PrivateKeyMaterial).
    let decoded = DecodedJws::decode(compact)?;
    let header = decoded.header();
    if !typ_is_proof(header.typ()) {
        return Err(MessageError::WrongProofType.into());
    }
    if header.alg() != Some(SignatureAlgorithm::Es256) {
        return Err(MessageError::ProofAlgorithmNotAccepted.into());
    }
    let named = [
        header.kid().is_some(),
        header.jwk().is_some(),
        header.x5c().is_some(),
    ];
    let jwk = match named.iter().filter(|n| **n).count() {
        0 => return Err(MessageError::MissingProofKey.into()),
        1 => header.jwk().cloned().ok_or(MessageError::ProofKeyNotJwk)?,
        _ => return Err(MessageError::ProofKeyConflict.into()),
    };
    let verified = decoded.verify(provider, jwk.key(), PROOF_JWT_TYP)?;
    let claims = verified.claims(MAX_PROOF_CLAIMS_LEN)?;

    match claims.get("aud") {
        None => return Err(MessageError::InvalidProofClaim("aud").into()),
        Some(Value::String(aud)) if aud == expected_aud => {}
        Some(Value::String(_)) => return Err(MessageError::WrongAudience.into()),
        Some(_) => return Err(MessageError::InvalidProofClaim("aud").into()),
    }
    let iat = match claims.get("iat") {
        None => return Err(MessageError::InvalidProofClaim("iat").into()),
        Some(Value::Number(n)) => n.as_i64().ok_or(MessageError::InvalidProofClaim("iat"))?,
        Some(_) => return Err(MessageError::InvalidProofClaim("iat").into()),
    };
    if iat > now.saturating_add(policy.max_skew) {
        return Err(MessageError::IssuedInFuture.into());
    }
    if iat < now.saturating_sub(policy.max_age) {
        return Err(MessageError::ProofTooOld.into());
    }
    let nonce = match claims.get("nonce") {
        None => return Err(MessageError::MissingNonce.into()),
        Some(Value::String(nonce)) if !nonce.is_empty() => nonce.clone(),
        Some(_) => return Err(MessageError::InvalidProofClaim("nonce").into()),
    };
    let iss = match claims.get("iss") {
        None => None,
        Some(Value::String(iss)) if !iss.is_empty() => Some(iss.clone()),
        Some(_) => return Err(MessageError::InvalidProofClaim("iss").into()),
    };
    Ok(VerifiedProof {
        jwk,
        nonce,
        iat,
        iss,
    })
}

/// `typ` compared as RFC 7515 §4.1.9 allows: ASCII case-insensitively, `application/`
/// optional.
fn typ_is_proof(typ: Option<&str>) -> bool {
    let Some(typ) = typ else { return false };
    let lower = typ.to_ascii_lowercase();
    let bare = lower.strip_prefix("application/").unwrap_or(&lower);
    bare == PROOF_JWT_TYP
}
