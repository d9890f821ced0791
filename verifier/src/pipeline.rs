//! The verifier's Response Endpoint logic: from the form body a wallet POSTs to the
//! `response_uri` to the verified, disclosed claims — or one precise [`Refusal`].
//!
//! ```text
//!  body ─form─▶ direct_post.jwt: JWE ─ECDH-ES, AES-GCM─▶ {vp_token, state}   (state checked)
//!                 for each presentation:
//!                   SdJwt::parse ─iss, kid─▶ trust list key (entity valid now)
//!                   sd_jwt_vc::verify: issuer signature, digests, exp/nbf, KB-JWT (cnf.jwk,
//!                     aud = our client_id, nonce, iat window, sd_hash)
//!                   trust list: this issuer may issue this vct
//!                   transaction_data_hashes, when the request had transaction_data
//!                 our own DCQL query over what was disclosed
//!                 status list of each credential (the only I/O, last)
//! ```
//!
//! Everything here is I/O-free except the [`StatusSource`], asked last so that nothing is
//! fetched for a presentation that fails any other check. Whether this single-use copy was
//! presented before is the service's decision (its database, keyed by
//! [`PresentedCredential::copy_digest`]), as is what to do with the claims.

use std::collections::BTreeMap;

use credential_formats::crypto::{CryptoProvider, PublicKey, SecretKey};
use credential_formats::dcql::{
    CredentialView, DcqlError, DcqlQuery, FORMAT_DC_SD_JWT, PresentedCredentials,
};
use credential_formats::jose::{ContentEncryption, JoseError, decrypt_compact};
use credential_formats::oid4vp::{
    AuthorizationErrorCode, DirectPostBody, TransactionData, VpToken, check_transaction_data_hashes,
};
use credential_formats::sd_jwt::{
    DEFAULT_KB_MAX_AGE, DEFAULT_SKEW, KeyBindingPolicy, KeyBindingRequirements, SdJwt,
};
use credential_formats::sd_jwt_vc::{self, VcVerification};
use credential_formats::status_list::{StatusReference, StatusType};
use credential_formats::time::{Clock, UnixTime};
use credential_formats::trust_list::{TrustList, TrustListError};
use credential_formats::{Error as FormatError, MessageError, SdJwtError, SdJwtVcError};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::status::{StatusError, StatusSource};

/// The content encryptions accepted for `direct_post.jwt` (HAIP 1.0: A128GCM and A256GCM).
const ALLOWED_ENC: [ContentEncryption; 2] =
    [ContentEncryption::A128Gcm, ContentEncryption::A256Gcm];

/// How far the Key Binding JWT's `iat` may be from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IatWindow {
    /// Oldest accepted `iat`, in seconds before now.
    pub max_age: i64,
    /// Clock skew, in seconds: `iat` may be this far in the future (and the credential's
    /// `exp`/`nbf` this far off).
    pub skew: i64,
}

impl Default for IatWindow {
    /// Five minutes old at most, one minute of skew.
    fn default() -> IatWindow {
        IatWindow {
            max_age: DEFAULT_KB_MAX_AGE,
            skew: DEFAULT_SKEW,
        }
    }
}

/// What this session's request asked, and so what the response must match.
#[derive(Clone, Copy)]
pub struct Expectation<'a> {
    /// Our `client_id` (with its `x509_hash:` prefix): the KB-JWT's `aud`.
    pub client_id: &'a str,
    /// The request's `nonce`: the KB-JWT's `nonce`.
    pub nonce: &'a str,
    /// The request's `state`, if it had one.
    pub state: Option<&'a str>,
    /// The DCQL query of the request; the answer must satisfy it.
    pub query: &'a DcqlQuery,
    /// The ephemeral ECDH-ES key of the request: `Some` means `direct_post.jwt`, and a
    /// plaintext `vp_token` is refused; `None` means plain `direct_post`.
    pub decryption_key: Option<&'a SecretKey>,
    /// The request's `transaction_data` (may be empty): each presentation for a credential
    /// query they name must carry their hashes.
    pub transaction_data: &'a [TransactionData],
    /// The accepted KB-JWT `iat` window.
    pub iat_window: IatWindow,
}

impl std::fmt::Debug for Expectation<'_> {
    // The nonce and state are the session's secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expectation")
            .field("client_id", &self.client_id)
            .field("encrypted", &self.decryption_key.is_some())
            .field("transaction_data", &self.transaction_data.len())
            .field("iat_window", &self.iat_window)
            .finish_non_exhaustive()
    }
}

/// A response that passed every check.
pub struct VerifiedResponse {
    /// The verified presentations, in the order of the `vp_token`.
    pub credentials: Vec<PresentedCredential>,
}

impl VerifiedResponse {
    /// The first presentation answering the credential query `query_id`.
    pub fn credential(&self, query_id: &str) -> Option<&PresentedCredential> {
        self.credentials.iter().find(|c| c.query_id == query_id)
    }
}

impl std::fmt::Debug for VerifiedResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedResponse")
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// One verified presentation.
pub struct PresentedCredential {
    /// The DCQL credential query it answers.
    pub query_id: String,
    /// Its `vct`.
    pub vct: String,
    /// The trust list entity that issued it (its `iss`).
    pub issuer: String,
    /// The claims: those disclosed, and those always visible (`iss`, `vct`, `iat`, `exp`,
    /// `cnf`, `status`).
    pub claims: Map<String, Value>,
    /// SHA-256 of the issuer-signed JWT alone: the same for every presentation of this
    /// single-use copy, whatever was disclosed and however it was bound.
    pub copy_digest: [u8; 32],
    /// The credential's `exp`.
    pub expires_at: Option<UnixTime>,
    /// SHA-256 of the whole presentation as received (`JWT~D…~KB-JWT`), for the escrow
    /// record.
    pub evidence_digest: [u8; 32],
}

impl std::fmt::Debug for PresentedCredential {
    // Claims are personal data; the digests identify a copy: neither is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedCredential")
            .field("query_id", &self.query_id)
            .field("vct", &self.vct)
            .field("issuer", &self.issuer)
            .field("claims", &self.claims.len())
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why a response was refused: one variant per reason, each with a stable [`Refusal::code`]
/// for the service's records and tests, and the OAuth `error` the Response Endpoint answers
/// ([`Refusal::oauth_error`]). Messages and `Debug` carry no personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The body is not an acceptable form (encoding, duplicate or missing parameters, both
    /// `vp_token` and `response`, an encrypted response where plain `direct_post` was asked).
    #[error("malformed response body: {0}")]
    MalformedBody(FormatError),
    /// A plaintext `vp_token` where the request asked for `direct_post.jwt`.
    #[error("the response must be encrypted")]
    EncryptionRequired,
    /// The JWE does not decrypt with this session's key (or is not an acceptable JWE).
    #[error("the response does not decrypt: {0}")]
    DecryptionFailed(JoseError),
    /// `state` is not this session's.
    #[error("state does not match the request")]
    WrongState,
    /// The wallet answered with an error response (`access_denied`: declined, or nothing to
    /// present) — not a fault, a "no".
    #[error("the wallet answered with an error")]
    WalletError(AuthorizationErrorCode),
    /// The `vp_token` (or the decrypted response) is malformed, or a presentation is not a
    /// well-formed SD-JWT.
    #[error("malformed vp_token: {0}")]
    VpTokenMalformed(FormatError),
    /// A presentation or query in a format other than `dc+sd-jwt`.
    #[error("credential format not supported")]
    FormatNotSupported,
    /// The credential's `iss`/`kid` name no key of the trust list, or the entity is not
    /// valid now.
    #[error("the issuer is not trusted")]
    UntrustedIssuer,
    /// The issuer is trusted, but not for this credential type.
    #[error("the issuer may not issue this credential type")]
    VctNotAllowed,
    /// The issuer's signature does not verify.
    #[error("the issuer signature does not verify")]
    SignatureInvalid,
    /// The issuer-signed credential breaks RFC 9901 or the SD-JWT VC profile (mistyped
    /// claims, no `exp`, no `status`, an unusable `cnf`).
    #[error("malformed credential: {0}")]
    CredentialMalformed(FormatError),
    /// A Disclosure is not referenced by the signed digests, or is used twice or in the wrong
    /// place: the presentation was altered.
    #[error("a disclosure was tampered with")]
    TamperedDisclosure,
    /// The credential's `exp` has passed.
    #[error("the credential has expired")]
    CredentialExpired,
    /// The credential's `nbf` is in the future.
    #[error("the credential is not yet valid")]
    CredentialNotYetValid,
    /// The status list says INVALID (or a status this verifier does not know: fail closed).
    #[error("the credential is revoked")]
    Revoked,
    /// The status list says SUSPENDED.
    #[error("the credential is suspended")]
    Suspended,
    /// No trustworthy status could be had: fail closed.
    #[error("the credential status is unavailable: {0}")]
    StatusUnavailable(StatusError),
    /// No Key Binding JWT, or no holder key to check one with.
    #[error("key binding is missing")]
    KeyBindingMissing,
    /// The KB-JWT is not a well-formed `kb+jwt` with the required claims.
    #[error("the key binding JWT is malformed")]
    KeyBindingMalformed,
    /// The KB-JWT's signature does not verify with the credential's `cnf.jwk`.
    #[error("the key binding signature does not verify")]
    KeyBindingSignature,
    /// The KB-JWT's `nonce` is not this session's.
    #[error("the nonce does not match")]
    WrongNonce,
    /// The KB-JWT's `aud` is not our client id.
    #[error("the audience does not match")]
    WrongAudience,
    /// The KB-JWT's `iat` is too old or in the future.
    #[error("the key binding JWT is not fresh")]
    IatOutOfWindow,
    /// The KB-JWT's `sd_hash` is not the hash of the presentation it came with.
    #[error("sd_hash does not match the presentation")]
    SdHashMismatch,
    /// The KB-JWT does not carry the hashes of the request's `transaction_data`.
    #[error("transaction data hashes do not match")]
    TransactionDataMismatch,
    /// The presentations do not satisfy our DCQL query.
    #[error("the DCQL query is not satisfied: {0}")]
    QueryNotSatisfied(DcqlError),
}

impl Refusal {
    /// A stable identifier of the reason, for records, metrics and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::MalformedBody(_) => "malformed_body",
            Refusal::EncryptionRequired => "encryption_required",
            Refusal::DecryptionFailed(_) => "decryption_failed",
            Refusal::WrongState => "wrong_state",
            Refusal::WalletError(_) => "wallet_error",
            Refusal::VpTokenMalformed(_) => "vp_token_malformed",
            Refusal::FormatNotSupported => "format_not_supported",
            Refusal::UntrustedIssuer => "untrusted_issuer",
            Refusal::VctNotAllowed => "vct_not_allowed",
            Refusal::SignatureInvalid => "signature_invalid",
            Refusal::CredentialMalformed(_) => "credential_malformed",
            Refusal::TamperedDisclosure => "tampered_disclosure",
            Refusal::CredentialExpired => "credential_expired",
            Refusal::CredentialNotYetValid => "credential_not_yet_valid",
            Refusal::Revoked => "revoked",
            Refusal::Suspended => "suspended",
            Refusal::StatusUnavailable(_) => "status_unavailable",
            Refusal::KeyBindingMissing => "key_binding_missing",
            Refusal::KeyBindingMalformed => "key_binding_malformed",
            Refusal::KeyBindingSignature => "key_binding_signature",
            Refusal::WrongNonce => "wrong_nonce",
            Refusal::WrongAudience => "wrong_audience",
            Refusal::IatOutOfWindow => "iat_out_of_window",
            Refusal::SdHashMismatch => "sd_hash_mismatch",
            Refusal::TransactionDataMismatch => "transaction_data_mismatch",
            Refusal::QueryNotSatisfied(_) => "query_not_satisfied",
        }
    }

    /// The OAuth `error` the Response Endpoint answers with: `invalid_request` for every
    /// refused response (OpenID4VP 1.0 §8.2, RFC 6749 §5.2; the same code
    /// `credential_formats::Error::error_code(Endpoint::Response)` gives), and `None` for a
    /// wallet's error response, which was received as sent and is answered with 200.
    pub fn oauth_error(&self) -> Option<&'static str> {
        match self {
            Refusal::WalletError(_) => None,
            _ => Some("invalid_request"),
        }
    }
}

/// What one presentation established, until the response as a whole is accepted.
struct Checked {
    query_id: String,
    vct: String,
    issuer: String,
    claims: Value,
    copy_digest: [u8; 32],
    evidence_digest: [u8; 32],
    expires_at: Option<UnixTime>,
    issuer_key: PublicKey,
    status: StatusReference,
}

impl CredentialView for Checked {
    fn format(&self) -> &str {
        FORMAT_DC_SD_JWT
    }
    fn vct(&self) -> Option<&str> {
        Some(&self.vct)
    }
    fn doctype(&self) -> Option<&str> {
        None
    }
    fn claims(&self) -> &Value {
        &self.claims
    }
    fn supports_holder_binding(&self) -> bool {
        // Key binding is required of every presentation; one without never gets here.
        true
    }
}

/// Verifies a response POSTed to the `response_uri` against what this session asked: see
/// the module documentation for the steps, [`Refusal`] for the outcomes.
pub async fn verify_response(
    body: &[u8],
    expect: &Expectation<'_>,
    trust: &TrustList,
    status: &dyn StatusSource,
    provider: &dyn CryptoProvider,
    clock: &dyn Clock,
) -> Result<VerifiedResponse, Refusal> {
    let now = clock.now();
    let vp_token = read_body(body, expect, provider)?;
    let mut checked = Vec::new();
    for (query_id, presentations) in vp_token.entries() {
        let query = expect.query.credential(query_id).ok_or_else(|| {
            Refusal::QueryNotSatisfied(DcqlError::UnexpectedCredentialQueryId(query_id.clone()))
        })?;
        if query.format != FORMAT_DC_SD_JWT {
            return Err(Refusal::FormatNotSupported);
        }
        // Refused before any signature is checked: a body full of presentations must not
        // cost a verification each.
        if presentations.len() > 1 && !query.multiple {
            return Err(Refusal::QueryNotSatisfied(DcqlError::TooManyPresentations(
                query_id.clone(),
            )));
        }
        for presentation in presentations {
            checked.push(check_presentation(
                query_id,
                presentation,
                expect,
                trust,
                provider,
                clock,
                now,
            )?);
        }
    }
    {
        // A scope of its own: `dyn CredentialView` is not `Sync`, and the future must stay
        // `Send` (axum handlers) across the status fetches below.
        let mut by_query: PresentedCredentials<'_> = BTreeMap::new();
        for presented in &checked {
            by_query
                .entry(presented.query_id.clone())
                .or_default()
                .push(presented as &dyn CredentialView);
        }
        expect
            .query
            .check_presented(&by_query)
            .map_err(Refusal::QueryNotSatisfied)?;
    }
    for presented in &checked {
        match status
            .status(&presented.status, &presented.issuer_key, now)
            .await
        {
            Ok(StatusType::Valid) => {}
            Ok(StatusType::Suspended) => return Err(Refusal::Suspended),
            // INVALID, and values we cannot interpret (§7.1: no statement can be made).
            Ok(_) => return Err(Refusal::Revoked),
            Err(error) => return Err(Refusal::StatusUnavailable(error)),
        }
    }
    let credentials = checked
        .into_iter()
        .map(|c| PresentedCredential {
            query_id: c.query_id,
            vct: c.vct,
            issuer: c.issuer,
            // Always an object: `Checked` is built from one.
            claims: match c.claims {
                Value::Object(claims) => claims,
                _ => Map::new(),
            },
            copy_digest: c.copy_digest,
            expires_at: c.expires_at,
            evidence_digest: c.evidence_digest,
        })
        .collect();
    Ok(VerifiedResponse { credentials })
}

/// The `vp_token` of the body, decrypted when the session requires it, `state` checked.
fn read_body(
    body: &[u8],
    expect: &Expectation<'_>,
    provider: &dyn CryptoProvider,
) -> Result<VpToken, Refusal> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Refusal::MalformedBody(MessageError::NotUtf8.into()))?;
    let parsed = DirectPostBody::parse_form(text).map_err(|e| form_refusal(e, expect))?;
    let (vp_token, state) = match parsed {
        DirectPostBody::Error(error) => {
            check_state(expect.state, error.state())?;
            return Err(Refusal::WalletError(error.error().clone()));
        }
        DirectPostBody::VpToken { .. } if expect.decryption_key.is_some() => {
            return Err(Refusal::EncryptionRequired);
        }
        DirectPostBody::VpToken { vp_token, state } => (vp_token, state),
        DirectPostBody::Encrypted { response } => {
            let Some(key) = expect.decryption_key else {
                return Err(Refusal::MalformedBody(
                    MessageError::UnsupportedResponseMode.into(),
                ));
            };
            let (_header, plaintext) = decrypt_compact(provider, &response, key, &ALLOWED_ENC)
                .map_err(Refusal::DecryptionFailed)?;
            // The plaintext holds every disclosed claim.
            let plaintext = Zeroizing::new(plaintext);
            match DirectPostBody::parse_decrypted_response(&plaintext).map_err(payload_refusal)? {
                DirectPostBody::VpToken { vp_token, state } => (vp_token, state),
                _ => {
                    return Err(Refusal::VpTokenMalformed(
                        MessageError::MissingParameter("vp_token").into(),
                    ));
                }
            }
        }
    };
    check_state(expect.state, state.as_deref())?;
    Ok(vp_token)
}

fn check_state(expected: Option<&str>, received: Option<&str>) -> Result<(), Refusal> {
    let same = match (expected, received) {
        (None, None) => true,
        (Some(expected), Some(received)) => {
            bool::from(expected.as_bytes().ct_eq(received.as_bytes()))
        }
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(Refusal::WrongState)
    }
}

/// Whether a form or payload error is about the `vp_token` rather than the envelope.
fn is_vp_token_error(error: &FormatError) -> bool {
    match error {
        FormatError::Json(_) => true,
        FormatError::Message(e) => matches!(
            e,
            MessageError::InvalidParameter(name)
            | MessageError::EmptyArray(name)
            | MessageError::DuplicateEntry(name)
                if name.starts_with("vp_token")
        ),
        _ => false,
    }
}

fn is_state_error(error: &FormatError) -> bool {
    matches!(
        error,
        FormatError::Message(
            MessageError::InvalidCharacters("state") | MessageError::InvalidParameter("state")
        )
    )
}

fn form_refusal(error: FormatError, expect: &Expectation<'_>) -> Refusal {
    if is_state_error(&error) {
        Refusal::WrongState
    } else if matches!(
        error,
        FormatError::Message(MessageError::UnsupportedPresentation)
    ) {
        Refusal::FormatNotSupported
    } else if is_vp_token_error(&error) {
        // A `vp_token` in the clear, and broken too: the first fault is that it is clear.
        if expect.decryption_key.is_some() {
            Refusal::EncryptionRequired
        } else {
            Refusal::VpTokenMalformed(error)
        }
    } else {
        Refusal::MalformedBody(error)
    }
}

fn payload_refusal(error: FormatError) -> Refusal {
    if is_state_error(&error) {
        Refusal::WrongState
    } else if matches!(
        error,
        FormatError::Message(MessageError::UnsupportedPresentation)
    ) {
        Refusal::FormatNotSupported
    } else {
        Refusal::VpTokenMalformed(error)
    }
}

/// Verifies one presentation answering `query_id`, up to (not including) its status.
fn check_presentation(
    query_id: &str,
    presentation: &str,
    expect: &Expectation<'_>,
    trust: &TrustList,
    provider: &dyn CryptoProvider,
    clock: &dyn Clock,
    now: UnixTime,
) -> Result<Checked, Refusal> {
    let sd_jwt = SdJwt::parse(presentation).map_err(|e| Refusal::VpTokenMalformed(e.into()))?;
    // `iss` and `kid` are unverified here: they only choose the key, which the trust list
    // owns; the signature check then decides.
    let iss = sd_jwt.unverified_issuer().ok_or(Refusal::UntrustedIssuer)?;
    let kid = sd_jwt.unverified_kid().ok_or(Refusal::UntrustedIssuer)?;
    let entity = trust.entity(iss).ok_or(Refusal::UntrustedIssuer)?;
    let issuer_key = entity
        .key_by_kid(kid)
        .ok_or(Refusal::UntrustedIssuer)?
        .key()
        .clone();
    entity
        .check_valid_at(now)
        .map_err(|_| Refusal::UntrustedIssuer)?;
    let requirements = KeyBindingRequirements::new(expect.client_id, expect.nonce)
        .with_max_age(expect.iat_window.max_age);
    let verification = VcVerification::new(KeyBindingPolicy::Required(requirements), clock)
        .with_skew(expect.iat_window.skew)
        .reject_legacy_typ();
    let verified =
        sd_jwt_vc::verify(&sd_jwt, &issuer_key, provider, &verification).map_err(verify_refusal)?;
    trust
        .issuer_for_vct(&issuer_key, verified.vct(), now)
        .map_err(|e| match e {
            TrustListError::VctNotAllowed | TrustListError::RoleNotHeld(_) => {
                Refusal::VctNotAllowed
            }
            _ => Refusal::UntrustedIssuer,
        })?;
    let key_binding = verified.key_binding().ok_or(Refusal::KeyBindingMissing)?;
    check_transaction_data(query_id, key_binding, expect.transaction_data)?;
    let status = verified
        .status_reference()
        .ok_or_else(|| {
            Refusal::CredentialMalformed(
                credential_formats::StatusListError::Missing("status_list").into(),
            )
        })?
        .clone();
    Ok(Checked {
        query_id: query_id.to_owned(),
        vct: verified.vct().to_owned(),
        issuer: entity.id().to_owned(),
        claims: Value::Object(verified.claims().clone()),
        copy_digest: Sha256::digest(sd_jwt.issuer_jwt().as_bytes()).into(),
        evidence_digest: Sha256::digest(presentation.as_bytes()).into(),
        expires_at: verified.exp(),
        issuer_key,
        status,
    })
}

/// The KB-JWT must carry the hashes of exactly the `transaction_data` entries naming this
/// credential query, in request order (OpenID4VP 1.0 Appendix B.3.3.1).
fn check_transaction_data(
    query_id: &str,
    key_binding: &Map<String, Value>,
    transaction_data: &[TransactionData],
) -> Result<(), Refusal> {
    let entries: Vec<TransactionData> = transaction_data
        .iter()
        .filter(|t| t.credential_ids().iter().any(|id| id == query_id))
        .cloned()
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    let hashes: Vec<String> = match key_binding.get("transaction_data_hashes") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|h| h.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or(Refusal::TransactionDataMismatch)?,
        _ => return Err(Refusal::TransactionDataMismatch),
    };
    let alg = match key_binding.get("transaction_data_hashes_alg") {
        None => None,
        Some(Value::String(alg)) => Some(alg.as_str()),
        Some(_) => return Err(Refusal::TransactionDataMismatch),
    };
    check_transaction_data_hashes(&entries, &hashes, alg)
        .map_err(|_| Refusal::TransactionDataMismatch)
}

/// Maps an SD-JWT VC verification failure to its reason.
fn verify_refusal(error: FormatError) -> Refusal {
    match error {
        FormatError::SdJwt(e) => sd_jwt_refusal(e),
        FormatError::SdJwtVc(SdJwtVcError::MissingHolderKey) => Refusal::KeyBindingMissing,
        other => Refusal::CredentialMalformed(other),
    }
}

fn sd_jwt_refusal(error: SdJwtError) -> Refusal {
    use SdJwtError as E;
    match error {
        E::IssuerJwt(JoseError::UnexpectedType { .. }) => Refusal::FormatNotSupported,
        E::IssuerJwt(_) => Refusal::SignatureInvalid,
        E::UnreferencedDisclosure
        | E::DuplicateDigest
        | E::ClaimNameCollision
        | E::ArrayElementDisclosureInObject
        | E::ObjectPropertyDisclosureInArray
        | E::AmbiguousArrayElement => Refusal::TamperedDisclosure,
        E::Expired => Refusal::CredentialExpired,
        E::NotYetValid => Refusal::CredentialNotYetValid,
        E::MissingKeyBinding | E::MissingHolderKey => Refusal::KeyBindingMissing,
        E::KeyBindingJwt(
            JoseError::InvalidSignature
            | JoseError::AlgorithmKeyMismatch
            | JoseError::InvalidKey(_),
        ) => Refusal::KeyBindingSignature,
        E::KeyBindingJwt(_)
        | E::KeyBindingType
        | E::KeyBindingPayload(_)
        | E::KeyBindingClaim(_) => Refusal::KeyBindingMalformed,
        E::AudienceMismatch => Refusal::WrongAudience,
        E::NonceMismatch => Refusal::WrongNonce,
        E::SdHashMismatch => Refusal::SdHashMismatch,
        E::KeyBindingIssuedInFuture | E::KeyBindingTooOld => Refusal::IatOutOfWindow,
        other => Refusal::CredentialMalformed(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{StatusLimits, StatusLists};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use credential_formats::claims_path::ClaimsPath;
    use credential_formats::credentials::CredentialType;
    use credential_formats::crypto::{AwsLc, SignatureAlgorithm};
    use credential_formats::jose::{JweHeader, Jwk, JwsHeader, encrypt_compact, sign_compact};
    use credential_formats::sd_jwt::KeyBinding;
    use credential_formats::sd_jwt_vc::SdJwtVcBuilder;
    use credential_formats::status_list::{StatusBits, StatusList, StatusListToken};
    use credential_formats::time::FixedClock;
    use credential_formats::trust_list::{Role, TrustListBuilder, TrustedEntity};
    use serde_json::json;
    use std::sync::Arc;

    const NOW: UnixTime = 1_800_000_000;
    const YEAR: UnixTime = 365 * 24 * 3600;
    const ISSUER_ID: &str = "https://issuer.example.be";
    const ISSUER_KID: &str = "issuer-1";
    const STATUS_URI: &str = "https://issuer.example.be/status/1";
    const CLIENT_ID: &str = "x509_hash:dGVzdC12ZXJpZmllci1jZXJ0aWZpY2F0ZS1oYXNo";
    const NONCE: &str = "n-0S6_WzA2Mj";
    const STATE: &str = "st-8a1c3d";
    /// Status list indices of the fixture's credentials.
    const VALID: u64 = 3;
    const REVOKED: u64 = 4;
    const SUSPENDED: u64 = 5;

    fn es256() -> SecretKey {
        SecretKey::generate(SignatureAlgorithm::Es256).unwrap()
    }

    fn person_vct() -> &'static str {
        CredentialType::PersonAttestation.vct()
    }

    fn path(name: &str) -> ClaimsPath {
        ClaimsPath::keys([name]).unwrap()
    }

    fn accountable_query() -> DcqlQuery {
        DcqlQuery::from_json(json!({"credentials": [{
            "id": "person",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [person_vct()]},
            "claims": [{"path": ["age_over_18"], "values": [true]}, {"path": ["person_handle"]}]
        }]}))
        .unwrap()
    }

    fn age_query() -> DcqlQuery {
        DcqlQuery::from_json(json!({"credentials": [{
            "id": "person",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [person_vct()]},
            "claims": [{"path": ["age_over_18"], "values": [true]}]
        }]}))
        .unwrap()
    }

    /// The issuer, listed in a trust list (with an expired second issuer and a PID-only
    /// issuer), its status list, and a verifier session's keys.
    struct World {
        issuer: SecretKey,
        expired_issuer: SecretKey,
        pid_issuer: SecretKey,
        trust: TrustList,
        status: StatusLists,
        decryption_key: SecretKey,
        query: DcqlQuery,
        transaction_data: Vec<TransactionData>,
    }

    impl World {
        async fn new() -> World {
            let issuer = es256();
            let expired_issuer = es256();
            let pid_issuer = es256();
            let trust = TrustListBuilder::new("https://trust.example.be", NOW - 60, NOW + YEAR, 1)
                .entity(
                    TrustedEntity::new(ISSUER_ID, "State", NOW - YEAR, NOW + YEAR)
                        .with_key(Jwk::new(issuer.public_key()).with_kid(ISSUER_KID))
                        .with_issuer_role(Role::PersonAttestationIssuer, [person_vct()]),
                )
                .entity(
                    TrustedEntity::new("https://old.example.be", "Old", NOW - YEAR, NOW - 1)
                        .with_key(Jwk::new(expired_issuer.public_key()).with_kid("old-1"))
                        .with_issuer_role(Role::PersonAttestationIssuer, [person_vct()]),
                )
                .entity(
                    TrustedEntity::new("https://pid.example.be", "PID", NOW - YEAR, NOW + YEAR)
                        .with_key(Jwk::new(pid_issuer.public_key()).with_kid("pid-1"))
                        .with_issuer_role(Role::PidIssuer, [CredentialType::Pid.vct()]),
                )
                .build()
                .unwrap();
            let mut list = StatusList::with_capacity(StatusBits::Two, 64).unwrap();
            list.set(REVOKED, StatusType::Invalid.value()).unwrap();
            list.set(SUSPENDED, StatusType::Suspended.value()).unwrap();
            let token = StatusListToken::new(STATUS_URI, NOW - 10, list)
                .unwrap()
                .with_exp(NOW + 3600)
                .unwrap()
                .with_ttl(600)
                .unwrap()
                .sign(&*AwsLc.signer(&issuer).unwrap(), Some(ISSUER_KID))
                .unwrap();
            let status = StatusLists::new(None, StatusLimits::default(), Arc::new(AwsLc)).unwrap();
            status
                .preload(&token, STATUS_URI, &issuer.public_key(), NOW - 10)
                .await
                .unwrap();
            World {
                issuer,
                expired_issuer,
                pid_issuer,
                trust,
                status,
                decryption_key: es256(),
                query: accountable_query(),
                transaction_data: Vec::new(),
            }
        }

        fn expect(&self) -> Expectation<'_> {
            Expectation {
                client_id: CLIENT_ID,
                nonce: NONCE,
                state: Some(STATE),
                query: &self.query,
                decryption_key: Some(&self.decryption_key),
                transaction_data: &self.transaction_data,
                iat_window: IatWindow::default(),
            }
        }

        async fn verify(&self, body: &str) -> Result<VerifiedResponse, Refusal> {
            self.verify_with(body, &self.expect()).await
        }

        async fn verify_with(
            &self,
            body: &str,
            expect: &Expectation<'_>,
        ) -> Result<VerifiedResponse, Refusal> {
            verify_response(
                body.as_bytes(),
                expect,
                &self.trust,
                &self.status,
                &AwsLc,
                &FixedClock(NOW),
            )
            .await
        }

        /// The `direct_post.jwt` body carrying `vp_token` and `state`.
        fn encrypted(&self, vp_token: &VpToken, state: Option<&str>) -> String {
            encrypt_to(&self.decryption_key.public_key(), vp_token, state)
        }
    }

    fn encrypt_to(key: &PublicKey, vp_token: &VpToken, state: Option<&str>) -> String {
        let payload = DirectPostBody::encrypted_response_payload(vp_token, state);
        let response = encrypt_compact(
            &AwsLc,
            &Jwk::new(key.clone()),
            ContentEncryption::A128Gcm,
            payload.as_bytes(),
            JweHeader::new(),
        )
        .unwrap();
        DirectPostBody::Encrypted { response }.to_form()
    }

    fn vp_token(presentation: String) -> VpToken {
        VpToken::new(vec![("person".into(), vec![presentation])]).unwrap()
    }

    /// A credential of `iss`/`kid`/`vct` with `claims` (each disclosable), bound to
    /// `holder`, as the State issues person attestations.
    fn builder(
        holder: &SecretKey,
        iss: &str,
        kid: &str,
        vct: &str,
        claims: Value,
    ) -> SdJwtVcBuilder {
        let mut builder = SdJwtVcBuilder::new(iss, vct)
            .kid(kid)
            .issued_at(NOW - 3600)
            .expires_at(NOW + 30 * 24 * 3600)
            .holder_key(Jwk::new(holder.public_key()))
            .status(StatusReference::new(VALID, STATUS_URI).unwrap())
            .decoys(3);
        let Value::Object(claims) = claims else {
            unreachable!()
        };
        for (name, value) in claims {
            builder = builder
                .claim(name.clone(), value)
                .unwrap()
                .disclosable(path(&name))
                .unwrap();
        }
        builder
    }

    fn person_claims() -> Value {
        json!({
            "person_handle": "ph-Ukx0c3RhdGUtcmVnaXN0ZXI",
            "age_over_16": true,
            "age_over_18": true,
            "age_over_21": false,
            "level_of_assurance": "high",
        })
    }

    struct Holder {
        key: SecretKey,
        credential: SdJwt,
    }

    /// A holder of one credential signed by `signer` as `iss`/`kid`, edited by `edit`.
    fn issue_as(
        signer: &SecretKey,
        iss: &str,
        kid: &str,
        vct: &str,
        claims: Value,
        edit: impl FnOnce(SdJwtVcBuilder) -> SdJwtVcBuilder,
    ) -> Holder {
        let key = es256();
        let credential = edit(builder(&key, iss, kid, vct, claims))
            .issue(&*AwsLc.signer(signer).unwrap())
            .unwrap();
        Holder { key, credential }
    }

    fn holder_with(
        issuer: &SecretKey,
        edit: impl FnOnce(SdJwtVcBuilder) -> SdJwtVcBuilder,
    ) -> Holder {
        issue_as(
            issuer,
            ISSUER_ID,
            ISSUER_KID,
            person_vct(),
            person_claims(),
            edit,
        )
    }

    fn holder(world: &World) -> Holder {
        holder_with(&world.issuer, |b| b)
    }

    impl Holder {
        fn disclose(&self, names: &[&str]) -> SdJwt {
            let paths: Vec<ClaimsPath> = names.iter().map(|n| path(n)).collect();
            self.credential.present(&paths).unwrap()
        }

        fn present_with(&self, names: &[&str], binding: KeyBinding) -> String {
            self.disclose(names)
                .bind(&binding, &*AwsLc.signer(&self.key).unwrap())
                .unwrap()
                .serialize()
        }

        fn present(&self, names: &[&str]) -> String {
            self.present_with(names, KeyBinding::new(CLIENT_ID, NONCE, NOW))
        }
    }

    const ACCOUNTABLE: &[&str] = &["age_over_18", "person_handle"];

    async fn refusal(world: &World, presentation: String) -> Refusal {
        world
            .verify(&world.encrypted(&vp_token(presentation), Some(STATE)))
            .await
            .unwrap_err()
    }

    #[tokio::test]
    async fn an_accountable_presentation_is_verified() {
        let world = World::new().await;
        let holder = holder(&world);
        let presentation = holder.present(ACCOUNTABLE);
        let body = world.encrypted(&vp_token(presentation.clone()), Some(STATE));
        let verified = world.verify(&body).await.unwrap();
        assert_eq!(verified.credentials.len(), 1);
        let person = verified.credential("person").unwrap();
        assert_eq!(person.vct, person_vct());
        assert_eq!(person.issuer, ISSUER_ID);
        assert_eq!(
            person.claims["person_handle"],
            person_claims()["person_handle"]
        );
        assert_eq!(person.claims["age_over_18"], true);
        for hidden in ["age_over_16", "age_over_21", "level_of_assurance"] {
            assert!(!person.claims.contains_key(hidden), "{hidden}");
        }
        assert_eq!(person.expires_at, Some(NOW + 30 * 24 * 3600));
        let issuer_jwt = presentation.split('~').next().unwrap();
        let copy: [u8; 32] = Sha256::digest(issuer_jwt.as_bytes()).into();
        assert_eq!(person.copy_digest, copy);
        let evidence: [u8; 32] = Sha256::digest(presentation.as_bytes()).into();
        assert_eq!(person.evidence_digest, evidence);
    }

    #[tokio::test]
    async fn the_copy_digest_identifies_the_copy_whatever_is_disclosed() {
        let world = World::new().await;
        let holder = holder(&world);
        let mut world = world;
        world.query = age_query();
        let first = holder.present(&["age_over_18"]);
        let second = holder.present_with(
            &["age_over_18", "age_over_16"],
            KeyBinding::new(CLIENT_ID, NONCE, NOW - 5),
        );
        let a = world
            .verify(&world.encrypted(&vp_token(first), Some(STATE)))
            .await
            .unwrap();
        let b = world
            .verify(&world.encrypted(&vp_token(second), Some(STATE)))
            .await
            .unwrap();
        let (a, b) = (&a.credentials[0], &b.credentials[0]);
        assert_eq!(a.copy_digest, b.copy_digest);
        assert_ne!(a.evidence_digest, b.evidence_digest);
        // Another copy of the same person is another copy.
        let other = self::holder(&world).present(&["age_over_18"]);
        let c = world
            .verify(&world.encrypted(&vp_token(other), Some(STATE)))
            .await
            .unwrap();
        assert_ne!(c.credentials[0].copy_digest, a.copy_digest);
    }

    #[tokio::test]
    async fn an_age_check_discloses_only_age_over_18() {
        let mut world = World::new().await;
        world.query = age_query();
        let holder = holder(&world);
        let verified = world
            .verify(&world.encrypted(&vp_token(holder.present(&["age_over_18"])), Some(STATE)))
            .await
            .unwrap();
        let claims = &verified.credentials[0].claims;
        let disclosed: Vec<&str> = claims
            .keys()
            .map(String::as_str)
            .filter(|k| !["iss", "iat", "exp", "vct", "cnf", "status"].contains(k))
            .collect();
        assert_eq!(disclosed, ["age_over_18"]);
    }

    #[tokio::test]
    async fn plain_direct_post_is_accepted_when_the_session_asked_for_it() {
        let world = World::new().await;
        let holder = holder(&world);
        let body = DirectPostBody::VpToken {
            vp_token: vp_token(holder.present(ACCOUNTABLE)),
            state: Some(STATE.into()),
        }
        .to_form();
        let expect = Expectation {
            decryption_key: None,
            ..world.expect()
        };
        assert!(world.verify_with(&body, &expect).await.is_ok());
        // The same body where encryption is required.
        assert_eq!(
            world.verify(&body).await.unwrap_err(),
            Refusal::EncryptionRequired
        );
        // And an encrypted body where it was not asked for.
        let encrypted = world.encrypted(&vp_token(holder.present(ACCOUNTABLE)), Some(STATE));
        assert_eq!(
            world
                .verify_with(&encrypted, &expect)
                .await
                .unwrap_err()
                .code(),
            "malformed_body"
        );
    }

    #[tokio::test]
    async fn malformed_bodies_are_refused() {
        let world = World::new().await;
        for body in [
            "response=%zz",
            "nothing=here",
            "vp_token=%7B%7D&response=a.b.c.d.e",
            "response=not-a-jwe",
            "response=a.b.c.d.e&state=x",
        ] {
            let refusal = world.verify(body).await.unwrap_err();
            assert_eq!(refusal.code(), "malformed_body", "{body}");
            assert_eq!(refusal.oauth_error(), Some("invalid_request"));
        }
        let refusal = verify_response(
            b"\xff\xfe",
            &world.expect(),
            &world.trust,
            &world.status,
            &AwsLc,
            &FixedClock(NOW),
        )
        .await
        .unwrap_err();
        assert_eq!(refusal.code(), "malformed_body");
        // A broken vp_token in the clear is refused for being in the clear.
        assert_eq!(
            world.verify("vp_token=%5B%5D").await.unwrap_err(),
            Refusal::EncryptionRequired
        );
    }

    #[tokio::test]
    async fn a_response_encrypted_to_another_key_does_not_decrypt() {
        let world = World::new().await;
        let holder = holder(&world);
        let body = encrypt_to(
            &es256().public_key(),
            &vp_token(holder.present(ACCOUNTABLE)),
            Some(STATE),
        );
        assert_eq!(
            world.verify(&body).await.unwrap_err(),
            Refusal::DecryptionFailed(JoseError::DecryptionFailed)
        );
        let garbage = DirectPostBody::Encrypted {
            response: "eyJhbGciOiJub25lIn0..AAAA.AAAA.AAAA".into(),
        }
        .to_form();
        assert_eq!(
            world.verify(&garbage).await.unwrap_err().code(),
            "decryption_failed"
        );
    }

    #[tokio::test]
    async fn another_sessions_state_is_refused() {
        let world = World::new().await;
        let holder = holder(&world);
        for state in [Some("st-other"), None] {
            let body = world.encrypted(&vp_token(holder.present(ACCOUNTABLE)), state);
            assert_eq!(
                world.verify(&body).await.unwrap_err(),
                Refusal::WrongState,
                "{state:?}"
            );
        }
        // A wallet error response for another session, too.
        let body = "error=access_denied&state=st-other";
        assert_eq!(world.verify(body).await.unwrap_err(), Refusal::WrongState);
    }

    #[tokio::test]
    async fn a_wallet_error_response_is_its_own_outcome() {
        let world = World::new().await;
        let body = format!("error=access_denied&state={STATE}");
        let refusal = world.verify(&body).await.unwrap_err();
        assert_eq!(
            refusal,
            Refusal::WalletError(AuthorizationErrorCode::AccessDenied)
        );
        assert_eq!(refusal.code(), "wallet_error");
        assert_eq!(refusal.oauth_error(), None);
    }

    #[tokio::test]
    async fn malformed_vp_tokens_are_refused() {
        let world = World::new().await;
        let encrypted_payload = |payload: &str| {
            let response = encrypt_compact(
                &AwsLc,
                &Jwk::new(world.decryption_key.public_key()),
                ContentEncryption::A256Gcm,
                payload.as_bytes(),
                JweHeader::new(),
            )
            .unwrap();
            DirectPostBody::Encrypted { response }.to_form()
        };
        for payload in [
            format!(r#"{{"state": "{STATE}"}}"#),
            format!(r#"{{"vp_token": [], "state": "{STATE}"}}"#),
            format!(r#"{{"vp_token": {{"person": []}}, "state": "{STATE}"}}"#),
            "not json".to_owned(),
        ] {
            assert_eq!(
                world
                    .verify(&encrypted_payload(&payload))
                    .await
                    .unwrap_err()
                    .code(),
                "vp_token_malformed",
                "{payload}"
            );
        }
        // A presentation that is not an SD-JWT.
        assert_eq!(
            refusal(&world, "eyJhbGciOiJFUzI1NiJ9.e30.AAAA".into())
                .await
                .code(),
            "vp_token_malformed"
        );
        // A non-string presentation (an mdoc would be a string; an object is no format of
        // ours at all).
        let payload = format!(r#"{{"vp_token": {{"person": [{{"a": 1}}]}}, "state": "{STATE}"}}"#);
        assert_eq!(
            world
                .verify(&encrypted_payload(&payload))
                .await
                .unwrap_err(),
            Refusal::FormatNotSupported
        );
    }

    #[tokio::test]
    async fn a_query_in_another_format_is_not_supported() {
        let mut world = World::new().await;
        world.query = DcqlQuery::from_json(json!({"credentials": [{
            "id": "person",
            "format": "mso_mdoc",
            "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
        }]}))
        .unwrap();
        let holder = holder(&world);
        assert_eq!(
            refusal(&world, holder.present(ACCOUNTABLE)).await,
            Refusal::FormatNotSupported
        );
    }

    #[tokio::test]
    async fn untrusted_issuers_are_refused() {
        let world = World::new().await;
        // A key the trust list does not list, under the listed issuer's kid: the signature
        // is checked with the listed key and fails.
        let stranger = holder_with(&es256(), |b| b);
        assert_eq!(
            refusal(&world, stranger.present(ACCOUNTABLE)).await,
            Refusal::SignatureInvalid
        );
        // An unknown kid, an unknown iss, no kid.
        let unknown_kid = holder_with(&world.issuer, |b| b.kid("issuer-2"));
        assert_eq!(
            refusal(&world, unknown_kid.present(ACCOUNTABLE)).await,
            Refusal::UntrustedIssuer
        );
        let unknown_iss = issue_as(
            &world.issuer,
            "https://evil.example",
            ISSUER_KID,
            person_vct(),
            person_claims(),
            |b| b,
        );
        assert_eq!(
            refusal(&world, unknown_iss.present(ACCOUNTABLE)).await,
            Refusal::UntrustedIssuer
        );
        let no_kid = issue_as(
            &world.issuer,
            ISSUER_ID,
            "",
            person_vct(),
            person_claims(),
            |b| b,
        );
        assert_eq!(
            refusal(&world, no_kid.present(ACCOUNTABLE)).await,
            Refusal::UntrustedIssuer
        );
        // An issuer whose entry has expired.
        let old = issue_as(
            &world.expired_issuer,
            "https://old.example.be",
            "old-1",
            person_vct(),
            person_claims(),
            |b| b,
        );
        assert_eq!(
            refusal(&world, old.present(ACCOUNTABLE)).await,
            Refusal::UntrustedIssuer
        );
    }

    #[tokio::test]
    async fn an_issuer_not_entitled_to_the_vct_is_refused() {
        let world = World::new().await;
        // The PID issuer signing a person attestation.
        let pid = issue_as(
            &world.pid_issuer,
            "https://pid.example.be",
            "pid-1",
            person_vct(),
            person_claims(),
            |b| b,
        );
        assert_eq!(
            refusal(&world, pid.present(ACCOUNTABLE)).await,
            Refusal::VctNotAllowed
        );
        // The State issuer signing a type the trust list does not give it.
        let other = issue_as(
            &world.issuer,
            ISSUER_ID,
            ISSUER_KID,
            "urn:example:other:1",
            person_claims(),
            |b| b,
        );
        assert_eq!(
            refusal(&world, other.present(ACCOUNTABLE)).await,
            Refusal::VctNotAllowed
        );
    }

    #[tokio::test]
    async fn a_changed_issuer_jwt_fails_the_signature() {
        let world = World::new().await;
        let presentation = holder(&world).present(ACCOUNTABLE);
        let (jwt, rest) = presentation.split_once('~').unwrap();
        let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
        let mut payload = URL_SAFE_NO_PAD.decode(&parts[1]).unwrap();
        let text = String::from_utf8(payload.clone()).unwrap();
        let later = text.replace(
            &format!("\"exp\":{}", NOW + 30 * 24 * 3600),
            &format!("\"exp\":{}", NOW + 90 * 24 * 3600),
        );
        assert_ne!(text, later);
        payload = later.into_bytes();
        parts[1] = URL_SAFE_NO_PAD.encode(payload);
        let forged = format!("{}~{rest}", parts.join("."));
        assert_eq!(refusal(&world, forged).await, Refusal::SignatureInvalid);
    }

    #[tokio::test]
    async fn a_tampered_or_foreign_disclosure_is_refused() {
        let world = World::new().await;
        let holder = holder(&world);
        let presentation = holder.present(ACCOUNTABLE);
        let (body, kb) = presentation.rsplit_once('~').unwrap();
        // A disclosure the issuer never signed: age_over_18 = true in a credential of someone
        // under age would be exactly this.
        let forged = URL_SAFE_NO_PAD.encode(br#"["c2FsdHNhbHRzYWx0","age_over_21",true]"#);
        let tampered = format!("{body}~{forged}~{kb}");
        assert_eq!(refusal(&world, tampered).await, Refusal::TamperedDisclosure);
        // A disclosure from another credential.
        let other = self::holder(&world).present(&["level_of_assurance"]);
        let foreign = other.split('~').nth(1).unwrap();
        let tampered = format!("{body}~{foreign}~{kb}");
        assert_eq!(refusal(&world, tampered).await, Refusal::TamperedDisclosure);
        // The same disclosure twice.
        let first = presentation.split('~').nth(1).unwrap();
        let doubled = format!("{body}~{first}~{kb}");
        assert_eq!(refusal(&world, doubled).await, Refusal::TamperedDisclosure);
    }

    #[tokio::test]
    async fn expired_and_not_yet_valid_credentials_are_refused() {
        let world = World::new().await;
        let expired = holder_with(&world.issuer, |b| b.expires_at(NOW - 3600));
        assert_eq!(
            refusal(&world, expired.present(ACCOUNTABLE)).await,
            Refusal::CredentialExpired
        );
        let early = holder_with(&world.issuer, |b| b.not_before(NOW + 3600));
        assert_eq!(
            refusal(&world, early.present(ACCOUNTABLE)).await,
            Refusal::CredentialNotYetValid
        );
    }

    #[tokio::test]
    async fn revoked_suspended_and_unknown_statuses_are_refused() {
        let world = World::new().await;
        let revoked = holder_with(&world.issuer, |b| {
            b.status(StatusReference::new(REVOKED, STATUS_URI).unwrap())
        });
        assert_eq!(
            refusal(&world, revoked.present(ACCOUNTABLE)).await,
            Refusal::Revoked
        );
        let suspended = holder_with(&world.issuer, |b| {
            b.status(StatusReference::new(SUSPENDED, STATUS_URI).unwrap())
        });
        assert_eq!(
            refusal(&world, suspended.present(ACCOUNTABLE)).await,
            Refusal::Suspended
        );
        // An index beyond the list: no statement, so no acceptance.
        let beyond = holder_with(&world.issuer, |b| {
            b.status(StatusReference::new(100_000, STATUS_URI).unwrap())
        });
        assert_eq!(
            refusal(&world, beyond.present(ACCOUNTABLE)).await.code(),
            "status_unavailable"
        );
    }

    #[tokio::test]
    async fn an_unreachable_status_list_fails_closed() {
        let world = World::new().await;
        let unreachable = holder_with(&world.issuer, |b| {
            b.status(StatusReference::new(VALID, "https://127.0.0.1:9/status/1").unwrap())
        });
        let refusal = refusal(&world, unreachable.present(ACCOUNTABLE)).await;
        assert!(
            matches!(
                refusal,
                Refusal::StatusUnavailable(StatusError::Unreachable(_))
            ),
            "{refusal:?}"
        );
    }

    #[tokio::test]
    async fn nothing_is_fetched_for_a_presentation_that_fails_another_check() {
        let world = World::new().await;
        // Status on an unreachable host, and a wrong nonce: the nonce decides, no fetch.
        let holder = holder_with(&world.issuer, |b| {
            b.status(StatusReference::new(VALID, "https://127.0.0.1:9/status/1").unwrap())
        });
        let presentation =
            holder.present_with(ACCOUNTABLE, KeyBinding::new(CLIENT_ID, "n-other", NOW));
        assert_eq!(refusal(&world, presentation).await, Refusal::WrongNonce);
        // And a query that is not satisfied.
        let presentation = holder.present(&["age_over_18"]);
        assert_eq!(
            refusal(&world, presentation).await.code(),
            "query_not_satisfied"
        );
    }

    #[tokio::test]
    async fn a_credential_without_status_exp_or_holder_key_is_refused() {
        let world = World::new().await;
        let key = es256();
        let issuer = AwsLc.signer(&world.issuer).unwrap();
        let bare = |b: SdJwtVcBuilder| Holder {
            key: key.clone(),
            credential: b.issue(&*issuer).unwrap(),
        };
        let base = || {
            SdJwtVcBuilder::new(ISSUER_ID, person_vct())
                .kid(ISSUER_KID)
                .issued_at(NOW)
                .claim("age_over_18", json!(true))
                .unwrap()
                .disclosable(path("age_over_18"))
                .unwrap()
                .claim("person_handle", json!("ph"))
                .unwrap()
                .disclosable(path("person_handle"))
                .unwrap()
        };
        let status = || StatusReference::new(VALID, STATUS_URI).unwrap();
        let jwk = || Jwk::new(key.public_key());
        let no_status = bare(base().expires_at(NOW + 60).holder_key(jwk()));
        assert_eq!(
            refusal(&world, no_status.present(ACCOUNTABLE)).await.code(),
            "credential_malformed"
        );
        let no_exp = bare(base().status(status()).holder_key(jwk()));
        assert_eq!(
            refusal(&world, no_exp.present(ACCOUNTABLE)).await.code(),
            "credential_malformed"
        );
        // No cnf: nothing to bind to. (The wallet could only present it without a KB-JWT.)
        let unbound = bare(base().status(status()).expires_at(NOW + 60));
        let presentation = unbound.disclose(ACCOUNTABLE).serialize();
        assert_eq!(
            refusal(&world, presentation).await,
            Refusal::KeyBindingMissing
        );
    }

    #[tokio::test]
    async fn key_binding_is_required_and_checked() {
        let world = World::new().await;
        let holder = holder(&world);
        // Stripped.
        let stripped = holder.disclose(ACCOUNTABLE).serialize();
        assert_eq!(refusal(&world, stripped).await, Refusal::KeyBindingMissing);
        // Signed by another key than cnf.
        let thief = es256();
        let stolen = holder
            .disclose(ACCOUNTABLE)
            .bind(
                &KeyBinding::new(CLIENT_ID, NONCE, NOW),
                &*AwsLc.signer(&thief).unwrap(),
            )
            .unwrap()
            .serialize();
        assert_eq!(refusal(&world, stolen).await, Refusal::KeyBindingSignature);
        // Not a kb+jwt.
        let presented = holder.disclose(ACCOUNTABLE);
        let without_kb = presented.presentation_without_key_binding();
        let sd_hash = URL_SAFE_NO_PAD.encode(Sha256::digest(without_kb.as_bytes()));
        let claims = json!({"iat": NOW, "aud": CLIENT_ID, "nonce": NONCE, "sd_hash": sd_hash});
        let sign = |typ: &str, claims: &Value| {
            sign_compact(
                &JwsHeader::new(typ),
                &serde_json::to_vec(claims).unwrap(),
                &*AwsLc.signer(&holder.key).unwrap(),
            )
            .unwrap()
        };
        let wrong_typ = format!("{without_kb}{}", sign("JWT", &claims));
        assert_eq!(
            refusal(&world, wrong_typ).await,
            Refusal::KeyBindingMalformed
        );
        let mut no_nonce = claims.clone();
        no_nonce.as_object_mut().unwrap().remove("nonce");
        let no_nonce = format!("{without_kb}{}", sign("kb+jwt", &no_nonce));
        assert_eq!(
            refusal(&world, no_nonce).await,
            Refusal::KeyBindingMalformed
        );
        // The hand-made KB-JWT itself is good: the refusals above are about typ and nonce.
        let good = format!("{without_kb}{}", sign("kb+jwt", &claims));
        assert!(
            world
                .verify(&world.encrypted(&vp_token(good), Some(STATE)))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn nonce_audience_and_freshness_are_checked() {
        let world = World::new().await;
        let holder = holder(&world);
        let cases = [
            (
                KeyBinding::new(CLIENT_ID, "n-another-session", NOW),
                Refusal::WrongNonce,
            ),
            (
                KeyBinding::new("x509_hash:another-verifier", NONCE, NOW),
                Refusal::WrongAudience,
            ),
            (
                KeyBinding::new(CLIENT_ID, NONCE, NOW - 301 - 60),
                Refusal::IatOutOfWindow,
            ),
            (
                KeyBinding::new(CLIENT_ID, NONCE, NOW + 61),
                Refusal::IatOutOfWindow,
            ),
        ];
        for (binding, expected) in cases {
            assert_eq!(
                refusal(&world, holder.present_with(ACCOUNTABLE, binding)).await,
                expected
            );
        }
        // Within the window (skew included) it passes.
        for iat in [NOW - 300 - 60, NOW + 60] {
            let presentation =
                holder.present_with(ACCOUNTABLE, KeyBinding::new(CLIENT_ID, NONCE, iat));
            assert!(
                world
                    .verify(&world.encrypted(&vp_token(presentation), Some(STATE)))
                    .await
                    .is_ok(),
                "{iat}"
            );
        }
    }

    #[tokio::test]
    async fn a_key_binding_jwt_moved_to_another_presentation_fails_sd_hash() {
        let world = World::new().await;
        let holder = holder(&world);
        // Bound over the age disclosure only, then sent with the handle disclosed as well.
        let bound = holder.present(&["age_over_18"]);
        let kb = bound.rsplit('~').next().unwrap();
        let moved = format!(
            "{}{kb}",
            holder
                .disclose(ACCOUNTABLE)
                .presentation_without_key_binding()
        );
        assert_eq!(refusal(&world, moved).await, Refusal::SdHashMismatch);
    }

    fn training_spend(amount: &str) -> TransactionData {
        let Value::Object(members) = json!({
            "course": "COURSE-42",
            "amount": {"value": amount, "currency": "EUR"},
        }) else {
            unreachable!()
        };
        TransactionData::new("training_spend", vec!["person".into()], members).unwrap()
    }

    #[tokio::test]
    async fn transaction_data_hashes_must_match_the_request() {
        let mut world = World::new().await;
        world.transaction_data = vec![training_spend("250.00")];
        let holder = holder(&world);
        let bound = |data: &TransactionData| {
            KeyBinding::new(CLIENT_ID, NONCE, NOW)
                .with_claim("transaction_data_hashes", json!([data.hash()]))
                .with_claim("transaction_data_hashes_alg", json!("sha-256"))
        };
        let good = holder.present_with(ACCOUNTABLE, bound(&training_spend("250.00")));
        assert!(
            world
                .verify(&world.encrypted(&vp_token(good), Some(STATE)))
                .await
                .is_ok()
        );
        for presentation in [
            holder.present(ACCOUNTABLE),
            holder.present_with(ACCOUNTABLE, bound(&training_spend("9999.00"))),
            holder.present_with(
                ACCOUNTABLE,
                KeyBinding::new(CLIENT_ID, NONCE, NOW)
                    .with_claim("transaction_data_hashes", json!("not-an-array")),
            ),
        ] {
            assert_eq!(
                refusal(&world, presentation).await,
                Refusal::TransactionDataMismatch
            );
        }
    }

    #[tokio::test]
    async fn our_own_query_is_enforced() {
        let world = World::new().await;
        let holder = holder(&world);
        // The handle withheld from an accountable check.
        let refusal_of = |r: Refusal| match r {
            Refusal::QueryNotSatisfied(e) => e,
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            refusal_of(refusal(&world, holder.present(&["age_over_18"])).await),
            DcqlError::RequestedClaimMissing { .. }
        ));
        // Under 18.
        let minor = issue_as(
            &world.issuer,
            ISSUER_ID,
            ISSUER_KID,
            person_vct(),
            json!({"person_handle": "ph-minor", "age_over_18": false}),
            |b| b,
        );
        assert!(matches!(
            refusal_of(refusal(&world, minor.present(ACCOUNTABLE)).await),
            DcqlError::ClaimValueMismatch { .. }
        ));
        // An answer to a query we did not ask.
        let body = world.encrypted(
            &VpToken::new(vec![("other".into(), vec![holder.present(ACCOUNTABLE)])]).unwrap(),
            Some(STATE),
        );
        assert!(matches!(
            refusal_of(world.verify(&body).await.unwrap_err()),
            DcqlError::UnexpectedCredentialQueryId(_)
        ));
        // Two presentations where one is allowed.
        let body = world.encrypted(
            &VpToken::new(vec![(
                "person".into(),
                vec![holder.present(ACCOUNTABLE), holder.present(ACCOUNTABLE)],
            )])
            .unwrap(),
            Some(STATE),
        );
        assert!(matches!(
            refusal_of(world.verify(&body).await.unwrap_err()),
            DcqlError::TooManyPresentations(_)
        ));
    }

    #[test]
    fn codes_are_distinct_and_only_wallet_errors_are_not_invalid_request() {
        let all = [
            Refusal::MalformedBody(MessageError::NotUtf8.into()),
            Refusal::EncryptionRequired,
            Refusal::DecryptionFailed(JoseError::DecryptionFailed),
            Refusal::WrongState,
            Refusal::WalletError(AuthorizationErrorCode::AccessDenied),
            Refusal::VpTokenMalformed(MessageError::NotUtf8.into()),
            Refusal::FormatNotSupported,
            Refusal::UntrustedIssuer,
            Refusal::VctNotAllowed,
            Refusal::SignatureInvalid,
            Refusal::CredentialMalformed(MessageError::NotUtf8.into()),
            Refusal::TamperedDisclosure,
            Refusal::CredentialExpired,
            Refusal::CredentialNotYetValid,
            Refusal::Revoked,
            Refusal::Suspended,
            Refusal::StatusUnavailable(StatusError::Timeout),
            Refusal::KeyBindingMissing,
            Refusal::KeyBindingMalformed,
            Refusal::KeyBindingSignature,
            Refusal::WrongNonce,
            Refusal::WrongAudience,
            Refusal::IatOutOfWindow,
            Refusal::SdHashMismatch,
            Refusal::TransactionDataMismatch,
            Refusal::QueryNotSatisfied(DcqlError::MissingPresentation("person".into())),
        ];
        let mut codes: Vec<&str> = all.iter().map(Refusal::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for refusal in &all {
            let expected = match refusal {
                Refusal::WalletError(_) => None,
                _ => Some("invalid_request"),
            };
            assert_eq!(refusal.oauth_error(), expected);
        }
    }

    #[tokio::test]
    async fn debug_and_messages_show_no_claim_value() {
        let world = World::new().await;
        let holder = holder(&world);
        let verified = world
            .verify(&world.encrypted(&vp_token(holder.present(ACCOUNTABLE)), Some(STATE)))
            .await
            .unwrap();
        let text = format!("{verified:?} {:?}", world.expect());
        for secret in ["ph-Ukx0c3RhdGUtcmVnaXN0ZXI", NONCE, STATE, "high"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let minor = issue_as(
            &world.issuer,
            ISSUER_ID,
            ISSUER_KID,
            person_vct(),
            json!({"person_handle": "ph-minor-handle", "age_over_18": false}),
            |b| b,
        );
        let refused = refusal(&world, minor.present(ACCOUNTABLE)).await;
        let text = format!("{refused} {refused:?}");
        assert!(!text.contains("ph-minor-handle"), "{text}");
        assert!(!text.contains("false"), "{text}");
    }
}
