//! Why a presented SD-JWT was refused, worded for the party that sent it — for the services
//! that authenticate a holder with a key-bound presentation (the register's notices, the
//! ledger's account): which check failed, never a value.

use super::SdJwtError;
use crate::jose::{DecodedJws, JoseError};
use crate::{Error, SdJwtVcError};

/// The refusal of `error` from verifying a presentation at a service whose role the sentence
/// names (`"register"`, `"ledger"`) and which expected a credential described as `expected`
/// (`"a person attestation"`).
pub fn presentation_refusal(error: &Error, service: &str, expected: &str) -> String {
    match error {
        Error::SdJwt(e) => sd_jwt_refusal(e, service),
        Error::SdJwtVc(SdJwtVcError::UnexpectedVct) => format!("the credential is not {expected}"),
        Error::SdJwtVc(SdJwtVcError::MissingHolderKey) => {
            "the credential has no holder key to bind the presentation to".into()
        }
        _ => "the credential is malformed".into(),
    }
}

fn sd_jwt_refusal(error: &SdJwtError, service: &str) -> String {
    use SdJwtError as E;
    match error {
        E::IssuerJwt(JoseError::UnexpectedType { .. }) => "the credential is not an SD-JWT VC",
        E::IssuerJwt(_) => "the credential's signature does not verify with its issuer's key",
        E::UnreferencedDisclosure
        | E::DuplicateDigest
        | E::ClaimNameCollision
        | E::ArrayElementDisclosureInObject
        | E::ObjectPropertyDisclosureInArray
        | E::AmbiguousArrayElement
        | E::DisclosureBase64
        | E::DisclosureJson(_)
        | E::DisclosureNotArray
        | E::DisclosureWrongLength(_) => "a disclosure does not belong to the credential",
        E::Expired => "the credential has expired",
        E::NotYetValid => "the credential is not yet valid",
        E::MissingKeyBinding | E::MissingHolderKey => "the presentation has no key binding JWT",
        E::KeyBindingJwt(
            JoseError::InvalidSignature
            | JoseError::AlgorithmKeyMismatch
            | JoseError::InvalidKey(_),
        ) => "the key binding JWT's signature does not verify with the credential's holder key",
        E::KeyBindingJwt(_)
        | E::KeyBindingType
        | E::KeyBindingPayload(_)
        | E::KeyBindingClaim(_) => "the key binding JWT is malformed",
        E::AudienceMismatch => return format!("the key binding JWT's aud is not this {service}"),
        E::NonceMismatch => "the key binding JWT's nonce does not match",
        E::KeyBindingIssuedInFuture | E::KeyBindingTooOld => {
            return format!(
                "the key binding JWT's iat is more than 300 s from the {service}'s time"
            );
        }
        E::SdHashMismatch => "the key binding JWT's sd_hash does not match the presentation",
        _ => "the presentation is malformed",
    }
    .to_owned()
}

/// The `nonce` of a Key Binding JWT, read *unverified*: only to know which nonce to require
/// when verifying, which then covers it. `Err` names what is wrong.
pub fn unverified_kb_nonce(kb_jwt: &str) -> Result<String, &'static str> {
    let decoded = DecodedJws::decode(kb_jwt).map_err(|_| "the key binding JWT is malformed")?;
    let payload: serde_json::Value = serde_json::from_slice(decoded.unverified_payload())
        .map_err(|_| "the key binding JWT is malformed")?;
    payload
        .get("nonce")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or("the key binding JWT has no nonce")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_check_and_the_service_never_a_value() {
        let aud = Error::SdJwt(SdJwtError::AudienceMismatch);
        assert_eq!(
            presentation_refusal(&aud, "ledger", "a training account"),
            "the key binding JWT's aud is not this ledger"
        );
        let vct = Error::SdJwtVc(SdJwtVcError::UnexpectedVct);
        assert_eq!(
            presentation_refusal(&vct, "register", "a person attestation"),
            "the credential is not a person attestation"
        );
        let old = Error::SdJwt(SdJwtError::KeyBindingTooOld);
        assert_eq!(
            presentation_refusal(&old, "register", "x"),
            "the key binding JWT's iat is more than 300 s from the register's time"
        );
        assert_eq!(
            unverified_kb_nonce("a.b"),
            Err("the key binding JWT is malformed")
        );
    }
}
