//! What `POST /credits/spend` checks before a debit: the provider's signed submission and,
//! inside it, the wallet's presentation of the training-account credential with the
//! `training_spend` authorisation the person consented to.
//!
//! The submission is a compact JWS (ES256) of `typ: credits-spend+jwt`, signed with a key the
//! trust list gives the provider, with the claims:
//!
//! | claim | what |
//! |---|---|
//! | `iss` | the provider's entity id (role `training_provider`) |
//! | `iat` | when it was signed (±300 s of the ledger's clock) |
//! | `client_id` | the OpenID4VP client id the provider asked with: `x509_hash:<its request certificate>` |
//! | `nonce` | the request's nonce |
//! | `transaction_data` | the `training_spend` entry, the base64url string exactly as in the request |
//! | `vp_token` | the wallet's presentation (SD-JWT VC + KB-JWT) |
//!
//! In order: the submission's signature by a key of an entity that is a training provider
//! valid now; the `transaction_data` a `training_spend` naming that same provider, for a
//! course the trust list accredits it for; `client_id` the provider's own (the trust list's
//! `x509_hash` of the same entity); the presentation: a training-account credential of an
//! issuer the trust list allows for that type, unexpired, key-bound to `client_id` and
//! `nonce`, recent, with `transaction_data_hashes` holding the entry's hash, disclosing the
//! account reference. The ledger's clock decides every time (threat L8).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential_formats::credentials::CredentialType;
use credential_formats::credits::TrainingSpend;
use credential_formats::crypto::CryptoProvider;
use credential_formats::jose::DecodedJws;
use credential_formats::oid4vp::{TransactionData, check_transaction_data_hashes};
use credential_formats::sd_jwt::{
    DEFAULT_KB_MAX_AGE, DEFAULT_SKEW, KeyBindingPolicy, KeyBindingRequirements, SdJwt,
};
use credential_formats::sd_jwt_vc::{self, VcVerification, VerifiedSdJwtVc};
use credential_formats::time::Clock;
use credential_formats::trust_list::{Role, TrustList};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::{AccountRef, Amount, SpendRequest};

/// The `typ` of a provider's spend submission.
pub const SUBMISSION_TYP: &str = "credits-spend+jwt";

/// The largest submission accepted (a presentation of one credential is a few KiB).
pub const MAX_SUBMISSION: usize = 64 * 1024;

/// How far `iat` of the submission may be from the ledger's clock.
const IAT_WINDOW: i64 = 300;

/// Why a submission was refused: a stable code and a reason that names the check, never a
/// value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {reason}")]
pub struct SpendRefusal {
    /// `invalid_submission`, `untrusted_provider`, `not_accredited`,
    /// `invalid_transaction_data` or `invalid_presentation`.
    pub code: &'static str,
    /// Which check failed.
    pub reason: &'static str,
}

fn refuse(code: &'static str, reason: &'static str) -> SpendRefusal {
    SpendRefusal { code, reason }
}

fn submission(reason: &'static str) -> SpendRefusal {
    refuse("invalid_submission", reason)
}

fn presentation(reason: &'static str) -> SpendRefusal {
    refuse("invalid_presentation", reason)
}

/// A submission that passed every check: the debit to make.
#[derive(Debug, Clone)]
pub struct VerifiedSpend {
    /// The authorisation the person signed.
    pub spend: TrainingSpend,
    /// The request for [`crate::Ledger::spend`].
    pub request: SpendRequest,
}

fn text<'a>(claims: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, SpendRefusal> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| submission(name))
}

/// Verifies a provider's submission (see the module documentation) as of `clock`.
pub fn verify_submission(
    compact: &str,
    trust: &TrustList,
    provider: &dyn CryptoProvider,
    clock: &dyn Clock,
) -> Result<VerifiedSpend, SpendRefusal> {
    let now = clock.now();
    if compact.len() > MAX_SUBMISSION {
        return Err(submission("too large"));
    }
    // 1. The provider: `iss` and `kid` (unverified) only choose the key, from the trust list.
    let decoded = DecodedJws::decode(compact).map_err(|_| submission("not a compact JWS"))?;
    let unverified: Map<String, Value> = serde_json::from_slice(decoded.unverified_payload())
        .map_err(|_| submission("claims are not a JSON object"))?;
    let iss = text(&unverified, "iss")?;
    let kid = decoded
        .header()
        .kid()
        .ok_or_else(|| submission("the header has no kid"))?;
    let entity = trust
        .entity(iss)
        .filter(|e| e.has_role(Role::TrainingProvider))
        .ok_or_else(|| {
            refuse(
                "untrusted_provider",
                "not a training provider of the trust list",
            )
        })?;
    entity
        .check_valid_at(now)
        .map_err(|_| refuse("untrusted_provider", "the provider is not valid now"))?;
    let key = entity
        .key_by_kid(kid)
        .ok_or_else(|| refuse("untrusted_provider", "no key of the provider has this kid"))?
        .key()
        .clone();
    let claims = decoded
        .verify(provider, &key, SUBMISSION_TYP)
        .map_err(|_| refuse("untrusted_provider", "the signature does not verify"))?
        .claims(MAX_SUBMISSION)
        .map_err(|_| submission("claims are not a JSON object"))?;
    for name in claims.keys() {
        if !matches!(
            name.as_str(),
            "iss" | "iat" | "client_id" | "nonce" | "transaction_data" | "vp_token"
        ) {
            return Err(submission("an unknown claim"));
        }
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| submission("iat"))?;
    if (iat - now).abs() > IAT_WINDOW {
        return Err(submission("iat is not within 300 s of the ledger's clock"));
    }

    // 2. The authorisation: for this provider, for a course it is accredited for.
    let encoded = text(&claims, "transaction_data")?;
    let entry = TransactionData::decode(encoded)
        .map_err(|_| refuse("invalid_transaction_data", "not a transaction_data entry"))?;
    let spend = TrainingSpend::from_transaction_data(&entry)
        .map_err(|_| refuse("invalid_transaction_data", "not a valid training_spend"))?;
    if spend.provider != entity.id() {
        return Err(refuse(
            "invalid_transaction_data",
            "the authorisation names another provider",
        ));
    }
    if !entity.courses().iter().any(|c| c == &spend.course) {
        return Err(refuse(
            "not_accredited",
            "the provider is not accredited for this course",
        ));
    }
    let amount =
        Amount::new(spend.amount).map_err(|_| refuse("invalid_transaction_data", "amount"))?;

    // 3. The client id the wallet bound its answer to is the provider's own.
    let client_id = text(&claims, "client_id")?;
    let ours = entity.x509_hash().map(|hash| format!("x509_hash:{hash}"));
    if ours.as_deref() != Some(client_id) {
        return Err(refuse(
            "untrusted_provider",
            "client_id is not the provider's request certificate",
        ));
    }
    let nonce = text(&claims, "nonce")?;

    // 4. The presentation.
    let vp_token = text(&claims, "vp_token")?;
    let sd_jwt = SdJwt::parse(vp_token).map_err(|_| presentation("not an SD-JWT"))?;
    let requirements =
        KeyBindingRequirements::new(client_id, nonce).with_max_age(DEFAULT_KB_MAX_AGE);
    let verified =
        verify_training_account(&sd_jwt, trust, provider, requirements, DEFAULT_SKEW, clock)
            .map_err(|e| {
                presentation(match e {
                    AccountPresentationError::UnknownIssuer => {
                        "the credential's issuer is not in the trust list"
                    }
                    AccountPresentationError::UnknownKid => "no key of the issuer has this kid",
                    AccountPresentationError::Verify(_) => {
                        "the credential or its key binding does not verify"
                    }
                    AccountPresentationError::IssuerNotAllowed => {
                        "the issuer may not issue training accounts"
                    }
                })
            })?;
    let key_binding = verified
        .key_binding()
        .ok_or_else(|| presentation("no key binding"))?;
    let hashes: Vec<String> = match key_binding.get("transaction_data_hashes") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|h| h.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| presentation("transaction_data_hashes"))?,
        _ => return Err(presentation("the key binding signs no transaction_data")),
    };
    let alg = match key_binding.get("transaction_data_hashes_alg") {
        None => None,
        Some(Value::String(alg)) => Some(alg.as_str()),
        Some(_) => return Err(presentation("transaction_data_hashes_alg")),
    };
    check_transaction_data_hashes(std::slice::from_ref(&entry), &hashes, alg)
        .map_err(|_| presentation("the key binding does not sign this transaction_data"))?;
    let account = disclosed_account(&verified)
        .ok_or_else(|| presentation("the account reference is not disclosed"))?;

    // The same authorisation of the same account is the same request: a retry gets the
    // stored receipt, and the id with anything else is a conflict.
    let mut digest = Sha256::new();
    digest.update(b"credits-spend/v1\0");
    digest.update(encoded.as_bytes());
    digest.update(b"\0");
    digest.update(account.as_str().as_bytes());
    let request = SpendRequest {
        transaction_id: spend.transaction_id.clone(),
        account,
        provider: spend.provider.clone(),
        course: spend.course.clone(),
        amount,
        price: amount,
        body_digest: digest.finalize().into(),
    };
    Ok(VerifiedSpend { spend, request })
}

/// Why a training-account presentation does not verify, before the caller words it: the
/// spend endpoint and the account endpoint (`crate::account_api`) say it differently.
#[derive(Debug)]
pub(crate) enum AccountPresentationError {
    /// The credential's `iss` is not an entity of the trust list.
    UnknownIssuer,
    /// No key of that entity has the credential's `kid`.
    UnknownKid,
    /// The credential, its type or its key binding does not verify.
    Verify(credential_formats::Error),
    /// The issuer is listed but may not issue training accounts (now).
    IssuerNotAllowed,
}

/// A training-account presentation verified against the trust list: the issuer's key
/// chosen by the (unverified) `iss` and `kid` from the list, then signature, validity (with
/// `skew`), `vct`, key binding per `requirements`, and the issuer allowed for the type at the
/// ledger's time. Shared by `POST /credits/spend` and `GET /credits/account`.
pub(crate) fn verify_training_account(
    sd_jwt: &SdJwt,
    trust: &TrustList,
    provider: &dyn CryptoProvider,
    requirements: KeyBindingRequirements,
    skew: i64,
    clock: &dyn Clock,
) -> Result<VerifiedSdJwtVc, AccountPresentationError> {
    let issuer = sd_jwt
        .unverified_issuer()
        .and_then(|iss| trust.entity(iss))
        .ok_or(AccountPresentationError::UnknownIssuer)?;
    let issuer_key = sd_jwt
        .unverified_kid()
        .and_then(|kid| issuer.key_by_kid(kid))
        .ok_or(AccountPresentationError::UnknownKid)?
        .key()
        .clone();
    let verification = VcVerification::new(KeyBindingPolicy::Required(requirements), clock)
        .with_skew(skew)
        .with_expected_vct(CredentialType::TrainingAccount.vct())
        .reject_legacy_typ();
    let verified = sd_jwt_vc::verify(sd_jwt, &issuer_key, provider, &verification)
        .map_err(AccountPresentationError::Verify)?;
    trust
        .issuer_for_vct(&issuer_key, verified.vct(), clock.now())
        .map_err(|_| AccountPresentationError::IssuerNotAllowed)?;
    Ok(verified)
}

/// The account reference a verified training-account credential discloses, if well-formed.
pub(crate) fn disclosed_account(verified: &VerifiedSdJwtVc) -> Option<AccountRef> {
    verified
        .claims()
        .get("account_reference")
        .and_then(Value::as_str)
        .and_then(|a| AccountRef::parse(a).ok())
}

/// The base64url SHA-256 of a `transaction_data` string, as a KB-JWT lists it.
pub fn transaction_data_hash(encoded: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(encoded.as_bytes()))
}
