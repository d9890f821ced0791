//! What goes into each credential, and the signing of one SD-JWT VC.

use serde::Deserialize;
use serde_json::{Map, Value};

use credential_formats::claims_path::ClaimsPath;
use credential_formats::credentials::CredentialType;
use credential_formats::crypto::Signer;
use credential_formats::jose::Jwk;
use credential_formats::sd_jwt_vc::SdJwtVcBuilder;
use credential_formats::status_list::StatusReference;

use crate::Error;
use crate::register::{age_over, civil_date, date_of};
use crate::store::PersonRecord;

/// Decoy digests per credential (RFC 9901 §4.2.5): the same number in every credential, so
/// that the count of digests tells nothing about how many claims a credential has.
const DECOYS: usize = 3;

/// What this issuer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Profile {
    /// The State issuer: PID, person attestations, training accounts, diplomas.
    State {
        /// `issuing_authority` of the PID, and `provider` of diplomas.
        issuing_authority: String,
        /// `issuing_country` of the PID (ISO 3166-1 alpha-2).
        issuing_country: String,
        /// The credits ledger training accounts live at.
        ledger: String,
    },
    /// An accredited training provider: qualifications for the courses the trust list grants
    /// it, nothing else.
    Provider {
        /// The `provider` claim of its qualifications.
        name: String,
    },
}

impl Profile {
    /// The credential types this profile issues.
    pub fn types(&self) -> &'static [CredentialType] {
        match self {
            Profile::State { .. } => &CredentialType::ALL,
            Profile::Provider { .. } => &[CredentialType::Qualification],
        }
    }

    /// Whether it issues `t`.
    pub fn issues(&self, t: CredentialType) -> bool {
        self.types().contains(&t)
    }
}

/// Claims an offer carries for the types that do not come from the register.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfferPayload {
    /// For a training account: `{"account_reference": "…"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_account: Option<TrainingAccount>,
    /// For a qualification: the course and its outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualification: Option<Qualification>,
}

/// A training account's reference at the ledger.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingAccount {
    /// The account reference.
    pub account_reference: String,
}

/// A qualification's content (`spec/credentials.md`).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Qualification {
    /// The course or programme reference (as the trust list names it for providers).
    pub course_reference: String,
    /// The title.
    pub title: String,
    /// The EQF level, 1 to 8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eqf_level: Option<u8>,
    /// Hours followed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<u32>,
    /// Credits (ECTS or the programme's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<u32>,
    /// `YYYY-MM-DD`.
    pub completion_date: String,
    /// The result (`passed`, a grade, …).
    pub result: String,
}

/// The subject claims of a credential of type `t`, checked against the type's schema.
pub fn claims_for(
    t: CredentialType,
    profile: &Profile,
    person: Option<&PersonRecord>,
    payload: &OfferPayload,
    now: i64,
) -> Result<Map<String, Value>, Error> {
    let need_person = || person.ok_or(Error::Invalid("this credential needs a person".into()));
    let mut claims = Map::new();
    match t {
        CredentialType::Pid => claims = need_person()?.attributes.clone(),
        CredentialType::PersonAttestation => {
            let person = need_person()?;
            let birthdate = person
                .attributes
                .get("birthdate")
                .and_then(Value::as_str)
                .ok_or(Error::Corrupt("person without birthdate"))?;
            let birth = civil_date(birthdate)?;
            let today = date_of(now);
            claims.insert("person_handle".into(), person.person_handle.clone().into());
            for years in [16, 18, 21] {
                claims.insert(
                    format!("age_over_{years}"),
                    age_over(birth, today, years).into(),
                );
            }
            claims.insert(
                "level_of_assurance".into(),
                person.level_of_assurance.clone().into(),
            );
        }
        CredentialType::TrainingAccount => {
            let Profile::State { ledger, .. } = profile else {
                return Err(Error::Conflict(
                    "only the State issues training accounts".into(),
                ));
            };
            let account = payload
                .training_account
                .as_ref()
                .ok_or(Error::Invalid("training_account is required".into()))?;
            claims.insert(
                "account_reference".into(),
                account.account_reference.clone().into(),
            );
            claims.insert("ledger".into(), ledger.clone().into());
        }
        CredentialType::Qualification => {
            let q = payload
                .qualification
                .as_ref()
                .ok_or(Error::Invalid("qualification is required".into()))?;
            let provider = match profile {
                Profile::State {
                    issuing_authority, ..
                } => issuing_authority,
                Profile::Provider { name } => name,
            };
            claims.insert("course_reference".into(), q.course_reference.clone().into());
            claims.insert("title".into(), q.title.clone().into());
            if let Some(level) = q.eqf_level {
                claims.insert("eqf_level".into(), level.into());
            }
            if let Some(hours) = q.hours {
                claims.insert("hours".into(), hours.into());
            }
            if let Some(credits) = q.credits {
                claims.insert("credits".into(), credits.into());
            }
            claims.insert("completion_date".into(), q.completion_date.clone().into());
            claims.insert("result".into(), q.result.clone().into());
            claims.insert("provider".into(), provider.clone().into());
        }
        _ => return Err(Error::Invalid("unknown credential type".into())),
    }
    t.validate_claims(&claims)?;
    Ok(claims)
}

/// One credential to sign.
#[derive(Debug)]
pub struct ToSign<'a> {
    /// `iss`: the Credential Issuer Identifier.
    pub issuer: &'a str,
    /// The signing key's `kid`.
    pub kid: &'a str,
    /// `vct`.
    pub vct: &'a str,
    /// The subject claims, every one selectively disclosable.
    pub claims: &'a Map<String, Value>,
    /// `cnf.jwk`: the holder key from the key proof.
    pub holder: Jwk,
    /// `status.status_list`.
    pub status: StatusReference,
    /// `iat`.
    pub iat: i64,
    /// `exp`.
    pub exp: i64,
}

/// Signs one SD-JWT VC: every claim disclosable (and each member of an object claim, so an
/// address can be shared down to its locality), fresh 128-bit salts, fixed decoys. Returns
/// the compact serialization; nothing of it is kept.
pub fn sign(signer: &dyn Signer, c: ToSign<'_>) -> Result<String, Error> {
    let mut builder = SdJwtVcBuilder::new(c.issuer, c.vct)
        .issued_at(c.iat)
        .expires_at(c.exp)
        .holder_key(c.holder)
        .kid(c.kid)
        .status(c.status)
        .decoys(DECOYS);
    for (name, value) in c.claims {
        builder = builder.claim(name.clone(), value.clone())?;
        if let Value::Object(members) = value {
            for member in members.keys() {
                builder = builder.disclosable(path([name.as_str(), member.as_str()])?)?;
            }
        }
        builder = builder.disclosable(path([name.as_str()])?)?;
    }
    Ok(builder.issue(signer)?.serialize())
}

fn path<const N: usize>(names: [&str; N]) -> Result<ClaimsPath, Error> {
    ClaimsPath::keys(names).ok_or(Error::Corrupt("empty claims path"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use credential_formats::crypto::CryptoProvider;
    use credential_formats::crypto::{RustCrypto, SecretKey, SignatureAlgorithm};
    use credential_formats::sd_jwt::{KeyBindingPolicy, SdJwt};
    use credential_formats::sd_jwt_vc::{self, VcVerification};
    use credential_formats::status_list::UriPolicy;
    use credential_formats::time::FixedClock;

    fn person() -> PersonRecord {
        let attributes = serde_json::json!({
            "family_name": "Peeters", "given_name": "An", "birthdate": "2008-11-30",
            "nationalities": ["BE"], "personal_administrative_number": "08113003361",
            "address": {"locality": "Gent", "country": "BE"},
            "issuing_authority": "BE-RRN", "issuing_country": "BE"
        });
        PersonRecord {
            id: "p1".into(),
            person_handle: "A".repeat(43),
            attributes: attributes.as_object().unwrap().clone(),
            level_of_assurance: "high".into(),
        }
    }

    fn state() -> Profile {
        Profile::State {
            issuing_authority: "BE-RRN".into(),
            issuing_country: "BE".into(),
            ledger: "https://ledger.example".into(),
        }
    }

    // 2026-11-29T12:00:00Z: the person turns 18 tomorrow.
    const NOW: i64 = 1_795_953_600;

    #[test]
    fn person_attestations_carry_handle_and_ages_only() {
        let c = claims_for(
            CredentialType::PersonAttestation,
            &state(),
            Some(&person()),
            &OfferPayload::default(),
            NOW,
        )
        .unwrap();
        let names: Vec<&str> = c.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "person_handle",
                "age_over_16",
                "age_over_18",
                "age_over_21",
                "level_of_assurance"
            ]
        );
        assert_eq!(c["age_over_16"], true);
        assert_eq!(c["age_over_18"], false);
        let tomorrow = claims_for(
            CredentialType::PersonAttestation,
            &state(),
            Some(&person()),
            &OfferPayload::default(),
            NOW + 86_400,
        )
        .unwrap();
        assert_eq!(tomorrow["age_over_18"], true);
    }

    #[test]
    fn providers_issue_qualifications_only() {
        let provider = Profile::Provider {
            name: "Academy".into(),
        };
        assert!(!provider.issues(CredentialType::Pid));
        let err = claims_for(
            CredentialType::TrainingAccount,
            &provider,
            None,
            &OfferPayload {
                training_account: Some(TrainingAccount {
                    account_reference: "acct".into(),
                }),
                qualification: None,
            },
            NOW,
        )
        .unwrap_err();
        assert!(matches!(err, Error::Conflict(_)));
        let payload: OfferPayload = serde_json::from_value(serde_json::json!({
            "qualification": {"course_reference": "WELD-101", "title": "Welding",
                "eqf_level": 4, "hours": 120, "completion_date": "2026-11-20", "result": "passed"}
        }))
        .unwrap();
        let c = claims_for(
            CredentialType::Qualification,
            &provider,
            None,
            &payload,
            NOW,
        )
        .unwrap();
        assert_eq!(c["provider"], "Academy");
        let mut bad = payload.clone();
        if let Some(q) = bad.qualification.as_mut() {
            q.eqf_level = Some(9);
        }
        assert!(claims_for(CredentialType::Qualification, &provider, None, &bad, NOW).is_err());
    }

    #[test]
    fn signed_credentials_verify_and_disclose_address_members() {
        let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let holder = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let claims = claims_for(
            CredentialType::Pid,
            &state(),
            Some(&person()),
            &OfferPayload::default(),
            NOW,
        )
        .unwrap();
        let compact = sign(
            &*RustCrypto.signer(&issuer).unwrap(),
            ToSign {
                issuer: "https://issuer.example",
                kid: "k1",
                vct: CredentialType::Pid.vct(),
                claims: &claims,
                holder: Jwk::new(holder.public_key()),
                status: StatusReference::new_with(
                    5,
                    "https://issuer.example/status/1",
                    UriPolicy::HttpsOnly,
                )
                .unwrap(),
                iat: NOW,
                exp: NOW + 86_400,
            },
        )
        .unwrap();
        let sd = SdJwt::parse(&compact).unwrap();
        // Top-level claims plus the address's two members.
        assert_eq!(sd.disclosures().len(), claims.len() + 2);
        let clock = FixedClock(NOW);
        let verified = sd_jwt_vc::verify(
            &sd,
            &issuer.public_key(),
            &RustCrypto,
            &VcVerification::new(KeyBindingPolicy::NotRequired, &clock),
        )
        .unwrap();
        assert_eq!(verified.claims()["address"]["locality"], "Gent");
        assert_eq!(verified.status_reference().unwrap().idx(), 5);
    }
}
