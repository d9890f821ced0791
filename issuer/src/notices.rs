//! The person's notices of court openings: `GET /register/notices`.
//!
//! When a court has the register resolve a person handle, the resolution is kept with the
//! order's case, ground, platform, judge and embargo (`court_resolutions`). Once the embargo
//! is over, the person may fetch the notice with their wallet. They authenticate with a
//! presentation of a person attestation this register issued, disclosing `person_handle` only,
//! bound (KB-JWT) to the register's URL and to a `c_nonce` from `POST /nonce`:
//!
//! ```text
//! Authorization: SD-JWT <issuer-jwt>~<disclosure>~<kb-jwt>
//! ```
//!
//! Every check that fails is an [`Error::InvalidPresentation`] naming the check; no claim
//! value is ever echoed.

use credential_formats::credentials::CredentialType;
use credential_formats::crypto::AwsLc;
use credential_formats::sd_jwt::{
    DEFAULT_SKEW, KeyBindingPolicy, KeyBindingRequirements, SdJwt, presentation_refusal,
    unverified_kb_nonce,
};
use credential_formats::sd_jwt_vc::{self, VcVerification, VerifiedSdJwtVc};
use credential_formats::time::FixedClock;
use serde_json::Value;

use crate::store::{CredentialStatus, Notice};
use crate::{Error, Issuer};

/// The `Authorization` scheme.
pub const SCHEME: &str = "SD-JWT";

/// Longest `Authorization` header value accepted: a person attestation with one Disclosure
/// and a KB-JWT is under 2 KiB.
pub const MAX_AUTHORIZATION: usize = 16 * 1024;

/// How far the KB-JWT's `iat` may be from the register's clock, either way (seconds).
pub const IAT_WINDOW: i64 = 300;

/// The claim the presentation must disclose, and the only one the register needs.
const HANDLE: &str = "person_handle";

fn refused(why: &'static str) -> Error {
    Error::InvalidPresentation(why.into())
}

/// The reason for a refused verification, for the caller.
fn verify_refusal(error: credential_formats::Error) -> Error {
    Error::InvalidPresentation(
        presentation_refusal(&error, "register", "a person attestation").into(),
    )
}

impl Issuer {
    /// The presentation in an `Authorization` header value, checked up to (not including) its
    /// nonce's use and the credential's status: scheme, size, issuer, signature, validity,
    /// type, key binding (`aud` this register, `iat` within [`IAT_WINDOW`], `sd_hash`), the
    /// nonce one of ours and unexpired, `person_handle` disclosed. Returns the verified
    /// credential, the nonce and its expiry.
    fn check_presentation(
        &self,
        authorization: Option<&str>,
        now: i64,
    ) -> Result<(VerifiedSdJwtVc, String, i64), Error> {
        let value = authorization.ok_or(refused("the Authorization header is missing"))?;
        if value.len() > MAX_AUTHORIZATION {
            return Err(refused("the Authorization header is over 16 KiB"));
        }
        let (scheme, presentation) = value
            .split_once(' ')
            .ok_or(refused("the Authorization scheme is not SD-JWT"))?;
        if !scheme.eq_ignore_ascii_case(SCHEME) {
            return Err(refused("the Authorization scheme is not SD-JWT"));
        }
        let sd_jwt = SdJwt::parse(presentation.trim())
            .map_err(|_| refused("the presentation is not an SD-JWT"))?;
        let own = self.settings().credential_issuer.as_str();
        // Unverified: it only decides which message the refusal carries; the signature check
        // with this register's own key decides.
        if sd_jwt.unverified_issuer() != Some(own) {
            return Err(refused("the credential was not issued by this register"));
        }
        let kb_jwt = sd_jwt
            .key_binding_jwt()
            .ok_or(refused("the presentation has no key binding JWT"))?;
        let nonce = unverified_kb_nonce(kb_jwt).map_err(refused)?;
        // `iat` within ±IAT_WINDOW: the skew is the window and the maximum age nothing more.
        let clock = FixedClock(now);
        let requirements = KeyBindingRequirements::new(own, nonce.as_str()).with_max_age(0);
        let verification = VcVerification::new(KeyBindingPolicy::Required(requirements), &clock)
            .with_expected_vct(CredentialType::PersonAttestation.vct())
            .with_skew(IAT_WINDOW)
            .reject_legacy_typ();
        let verified = sd_jwt_vc::verify(&sd_jwt, self.public_jwk().key(), &AwsLc, &verification)
            .map_err(verify_refusal)?;
        // The wide skew above is for the KB-JWT's `iat`; the credential's own validity keeps
        // the usual one.
        if verified
            .exp()
            .is_some_and(|exp| now > exp.saturating_add(DEFAULT_SKEW))
        {
            return Err(refused("the credential has expired"));
        }
        let expires_at = self.c_nonce_expiry(&nonce, now).ok_or(refused(
            "the nonce was not given by this register, or has expired",
        ))?;
        if !verified.claims().get(HANDLE).is_some_and(Value::is_string) {
            return Err(refused("person_handle is not disclosed"));
        }
        Ok((verified, nonce, expires_at))
    }

    /// The notices of openings, whose embargo is over, of the person who presents: the
    /// handler of `GET /register/notices` (see the module documentation). Only the State
    /// register answers ([`Error::NotFound`] elsewhere).
    pub async fn notices_for(&self, authorization: Option<&str>) -> Result<Vec<Notice>, Error> {
        if self.register_log().is_none() {
            return Err(Error::NotFound("register"));
        }
        let now = self.now();
        let (verified, nonce, expires_at) = self.check_presentation(authorization, now)?;
        // Spent only once everything else about the presentation holds; a replay of a
        // presentation that was accepted fails here.
        if !self.use_c_nonce(&nonce, expires_at).await? {
            return Err(refused("the nonce was used before"));
        }
        let handle = verified
            .claims()
            .get(HANDLE)
            .and_then(Value::as_str)
            .ok_or(refused("person_handle is not disclosed"))?;
        let person = self
            .store()
            .person_by_handle(handle)
            .await?
            .ok_or(refused("the register holds no person with this handle"))?;
        // The credential's own status: its status list reference names the list and index,
        // which the store's record of this person's credentials holds. One query per person,
        // not per list.
        let status = verified
            .status_reference()
            .ok_or(refused("the credential has no status"))?;
        let list_id = status
            .uri()
            .strip_prefix(&format!("{}/status/", self.settings().credential_issuer))
            .and_then(|id| id.parse::<i64>().ok())
            .ok_or(refused(
                "the credential's status list is not this register's",
            ))?;
        let idx = i64::try_from(status.idx())
            .map_err(|_| refused("the register has no record of this credential"))?;
        let record = self
            .store()
            .credentials_of(&person.id)
            .await?
            .into_iter()
            .find(|c| c.list_id == list_id && c.idx == idx)
            .ok_or(refused("the register has no record of this credential"))?;
        if record.status != CredentialStatus::Valid {
            return Err(refused("the credential is revoked or suspended"));
        }
        let notices = self.store().notices(&person.id, now).await?;
        tracing::info!(count = notices.len(), "notices fetched by their person");
        Ok(notices)
    }
}
