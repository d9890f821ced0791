//! Our credential types: their `vct` values and claim schemas (documented in
//! `spec/credentials.md`).
//!
//! The issuer validates a claim set against its schema before signing, and the wallet and
//! verifier use the same table to know which claims exist, which are mandatory and how to
//! name them to a person in English, French and Dutch.

use serde_json::{Map, Value};
use thiserror::Error;

/// Why a claim set does not fit its credential type.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    /// The `vct` is not one of ours.
    #[error("unknown credential type")]
    UnknownType,
    /// A mandatory claim is missing.
    #[error("missing mandatory claim {0}")]
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type or an invalid value.
    #[error("claim {0} has an invalid value")]
    InvalidClaim(&'static str),
    /// A claim is not part of the type's schema (data minimisation: nothing extra is signed).
    #[error("claim not in the schema of this credential type")]
    UnexpectedClaim,
}

/// The kinds of credential the system issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialType {
    /// Person identification data, with the claim names of the EU PID rulebook.
    Pid,
    /// What platforms' checks need and nothing more: the person handle and age booleans.
    /// Issued in batches of single-use copies.
    PersonAttestation,
    /// The reference of a training account at the credits ledger (the balance lives there).
    TrainingAccount,
    /// A qualification: a certified training or a diploma.
    Qualification,
}

/// The JSON type a claim must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimKind {
    /// A non-empty string.
    String,
    /// A full date `YYYY-MM-DD` (ISO 8601).
    Date,
    /// `true` or `false`.
    Boolean,
    /// A non-negative integer.
    Count,
    /// A non-empty array of non-empty strings.
    StringList,
    /// A JSON object whose members are strings.
    Object,
    /// 32 bytes, base64url without padding (43 characters).
    Handle,
    /// A European Qualifications Framework level, 1 to 8.
    EqfLevel,
}

/// One claim of a credential type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimSpec {
    /// The claim name, top level of the credential.
    pub name: &'static str,
    /// Its JSON type.
    pub kind: ClaimKind,
    /// Whether every credential of the type carries it.
    pub mandatory: bool,
    /// Labels for a person: English, French, Dutch.
    pub labels: [&'static str; 3],
}

const fn claim(
    name: &'static str,
    kind: ClaimKind,
    mandatory: bool,
    labels: [&'static str; 3],
) -> ClaimSpec {
    ClaimSpec {
        name,
        kind,
        mandatory,
        labels,
    }
}

use ClaimKind as K;

const PID_CLAIMS: &[ClaimSpec] = &[
    claim(
        "family_name",
        K::String,
        true,
        ["Family name", "Nom", "Familienaam"],
    ),
    claim(
        "given_name",
        K::String,
        true,
        ["Given names", "Prénoms", "Voornamen"],
    ),
    claim(
        "birthdate",
        K::Date,
        true,
        ["Date of birth", "Date de naissance", "Geboortedatum"],
    ),
    claim(
        "place_of_birth",
        K::Object,
        false,
        ["Place of birth", "Lieu de naissance", "Geboorteplaats"],
    ),
    claim(
        "nationalities",
        K::StringList,
        true,
        ["Nationalities", "Nationalités", "Nationaliteiten"],
    ),
    claim("address", K::Object, false, ["Address", "Adresse", "Adres"]),
    claim(
        "personal_administrative_number",
        K::String,
        true,
        [
            "National number",
            "Numéro de registre national",
            "Rijksregisternummer",
        ],
    ),
    claim(
        "issuing_authority",
        K::String,
        true,
        [
            "Issuing authority",
            "Autorité de délivrance",
            "Uitgevende instantie",
        ],
    ),
    claim(
        "issuing_country",
        K::String,
        true,
        ["Issuing country", "Pays de délivrance", "Land van afgifte"],
    ),
];

const PERSON_ATTESTATION_CLAIMS: &[ClaimSpec] = &[
    claim(
        "person_handle",
        K::Handle,
        true,
        [
            "Person handle",
            "Identifiant de personne",
            "Persoonshandvat",
        ],
    ),
    claim(
        "age_over_16",
        K::Boolean,
        true,
        ["Over 16", "Plus de 16 ans", "Ouder dan 16"],
    ),
    claim(
        "age_over_18",
        K::Boolean,
        true,
        ["Over 18", "Plus de 18 ans", "Ouder dan 18"],
    ),
    claim(
        "age_over_21",
        K::Boolean,
        true,
        ["Over 21", "Plus de 21 ans", "Ouder dan 21"],
    ),
    claim(
        "level_of_assurance",
        K::String,
        true,
        [
            "Level of assurance",
            "Niveau de garantie",
            "Betrouwbaarheidsniveau",
        ],
    ),
];

const TRAINING_ACCOUNT_CLAIMS: &[ClaimSpec] = &[
    claim(
        "account_reference",
        K::String,
        true,
        ["Training account", "Compte formation", "Opleidingsrekening"],
    ),
    claim(
        "ledger",
        K::String,
        true,
        ["Credits ledger", "Registre des crédits", "Kredietregister"],
    ),
];

const QUALIFICATION_CLAIMS: &[ClaimSpec] = &[
    claim(
        "course_reference",
        K::String,
        true,
        ["Course", "Formation", "Opleiding"],
    ),
    claim("title", K::String, true, ["Title", "Intitulé", "Titel"]),
    claim(
        "eqf_level",
        K::EqfLevel,
        false,
        ["EQF level", "Niveau CEC", "EKK-niveau"],
    ),
    claim("hours", K::Count, false, ["Hours", "Heures", "Uren"]),
    claim(
        "credits",
        K::Count,
        false,
        ["Credits", "Crédits", "Studiepunten"],
    ),
    claim(
        "completion_date",
        K::Date,
        true,
        ["Completed on", "Terminée le", "Voltooid op"],
    ),
    claim(
        "result",
        K::String,
        true,
        ["Result", "Résultat", "Resultaat"],
    ),
    claim(
        "provider",
        K::String,
        true,
        [
            "Training provider",
            "Opérateur de formation",
            "Opleidingsverstrekker",
        ],
    ),
];

impl CredentialType {
    /// Every type, in a fixed order.
    pub const ALL: [CredentialType; 4] = [
        CredentialType::Pid,
        CredentialType::PersonAttestation,
        CredentialType::TrainingAccount,
        CredentialType::Qualification,
    ];

    /// The `vct` value (SD-JWT VC draft-13 §3.2.2.1.1). The PID uses the EU PID rulebook's
    /// type so that other Member States' verifiers recognise it; the others are ours.
    pub fn vct(self) -> &'static str {
        match self {
            CredentialType::Pid => "urn:eudi:pid:1",
            CredentialType::PersonAttestation => "urn:be:identity:person-attestation:1",
            CredentialType::TrainingAccount => "urn:be:identity:training-account:1",
            CredentialType::Qualification => "urn:be:identity:qualification:1",
        }
    }

    /// The type a `vct` names.
    pub fn from_vct(vct: &str) -> Result<CredentialType, CredentialError> {
        CredentialType::ALL
            .into_iter()
            .find(|t| t.vct() == vct)
            .ok_or(CredentialError::UnknownType)
    }

    /// The OpenID4VCI `credential_configuration_id` the issuer offers it under.
    pub fn configuration_id(self) -> &'static str {
        match self {
            CredentialType::Pid => "pid_sd_jwt",
            CredentialType::PersonAttestation => "person_attestation_sd_jwt",
            CredentialType::TrainingAccount => "training_account_sd_jwt",
            CredentialType::Qualification => "qualification_sd_jwt",
        }
    }

    /// Display names: English, French, Dutch.
    pub fn labels(self) -> [&'static str; 3] {
        match self {
            CredentialType::Pid => ["Identity (PID)", "Identité (PID)", "Identiteit (PID)"],
            CredentialType::PersonAttestation => [
                "Person attestation",
                "Attestation de personne",
                "Persoonsattest",
            ],
            CredentialType::TrainingAccount => {
                ["Training account", "Compte formation", "Opleidingsrekening"]
            }
            CredentialType::Qualification => ["Qualification", "Qualification", "Kwalificatie"],
        }
    }

    /// The claim schema.
    pub fn claims(self) -> &'static [ClaimSpec] {
        match self {
            CredentialType::Pid => PID_CLAIMS,
            CredentialType::PersonAttestation => PERSON_ATTESTATION_CLAIMS,
            CredentialType::TrainingAccount => TRAINING_ACCOUNT_CLAIMS,
            CredentialType::Qualification => QUALIFICATION_CLAIMS,
        }
    }

    /// Whether this type is issued in batches of single-use copies (each with its own holder
    /// key and salts, so two presentations cannot be linked by signature or key).
    pub fn single_use(self) -> bool {
        matches!(self, CredentialType::PersonAttestation)
    }

    /// Checks the subject claims an issuer is about to sign (not the JWT registered claims
    /// such as `iss` or `exp`, which the SD-JWT VC builder sets): mandatory claims present,
    /// every claim of the right type, no claim outside the schema.
    pub fn validate_claims(self, claims: &Map<String, Value>) -> Result<(), CredentialError> {
        let schema = self.claims();
        if claims
            .keys()
            .any(|name| !schema.iter().any(|c| c.name == name))
        {
            return Err(CredentialError::UnexpectedClaim);
        }
        for spec in schema {
            match claims.get(spec.name) {
                None if spec.mandatory => return Err(CredentialError::MissingClaim(spec.name)),
                None => {}
                Some(value) if !kind_fits(spec.kind, value) => {
                    return Err(CredentialError::InvalidClaim(spec.name));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

fn kind_fits(kind: ClaimKind, value: &Value) -> bool {
    match (kind, value) {
        (ClaimKind::String, Value::String(s)) => !s.is_empty(),
        (ClaimKind::Date, Value::String(s)) => is_date(s),
        (ClaimKind::Boolean, Value::Bool(_)) => true,
        (ClaimKind::Count, Value::Number(n)) => n.is_u64(),
        (ClaimKind::StringList, Value::Array(items)) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.as_str().is_some_and(|s| !s.is_empty()))
        }
        (ClaimKind::Object, Value::Object(members)) => {
            !members.is_empty() && members.values().all(Value::is_string)
        }
        (ClaimKind::EqfLevel, Value::Number(n)) => n.as_u64().is_some_and(|l| (1..=8).contains(&l)),
        (ClaimKind::Handle, Value::String(s)) => {
            s.len() == 43 && crate::b64::decode(s).is_some_and(|b| b.len() == 32)
        }
        _ => false,
    }
}

/// `YYYY-MM-DD` with a month 01–12 and a day valid for that month (leap years included).
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        s.get(range)
            .filter(|p| p.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|p| p.parse().ok())
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn vct_round_trips_and_ids_are_distinct() {
        for t in CredentialType::ALL {
            assert_eq!(CredentialType::from_vct(t.vct()), Ok(t));
        }
        let ids: std::collections::HashSet<_> = CredentialType::ALL
            .iter()
            .map(|t| t.configuration_id())
            .collect();
        assert_eq!(ids.len(), 4);
        assert_eq!(
            CredentialType::from_vct("urn:x"),
            Err(CredentialError::UnknownType)
        );
    }

    #[test]
    fn person_attestation_schema() {
        let good = object(json!({
            "person_handle": crate::b64::encode([7u8; 32]),
            "age_over_16": true, "age_over_18": true, "age_over_21": false,
            "level_of_assurance": "high"
        }));
        assert_eq!(
            CredentialType::PersonAttestation.validate_claims(&good),
            Ok(())
        );

        let mut extra = good.clone();
        extra.insert("family_name".into(), json!("Doe"));
        assert_eq!(
            CredentialType::PersonAttestation.validate_claims(&extra),
            Err(CredentialError::UnexpectedClaim)
        );
        let mut short = good.clone();
        short.insert("person_handle".into(), json!(crate::b64::encode([7u8; 16])));
        assert_eq!(
            CredentialType::PersonAttestation.validate_claims(&short),
            Err(CredentialError::InvalidClaim("person_handle"))
        );
        let mut missing = good;
        missing.remove("age_over_18");
        assert_eq!(
            CredentialType::PersonAttestation.validate_claims(&missing),
            Err(CredentialError::MissingClaim("age_over_18"))
        );
    }

    #[test]
    fn dates_are_checked_for_real() {
        for good in ["2000-02-29", "1999-12-31", "2024-01-01"] {
            assert!(is_date(good), "{good}");
        }
        for bad in [
            "1900-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-01",
            "20240101",
            "２０２４-01-01",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn qualification_counts_are_non_negative_integers() {
        let base = json!({
            "course_reference": "BE-CRS-0001", "title": "Welding", "completion_date": "2026-06-30",
            "result": "passed", "provider": "https://provider.example"
        });
        let mut claims = object(base);
        claims.insert("hours".into(), json!(-3));
        assert_eq!(
            CredentialType::Qualification.validate_claims(&claims),
            Err(CredentialError::InvalidClaim("hours"))
        );
        claims.insert("hours".into(), json!(35));
        claims.insert("eqf_level".into(), json!(9));
        assert_eq!(
            CredentialType::Qualification.validate_claims(&claims),
            Err(CredentialError::InvalidClaim("eqf_level"))
        );
        claims.insert("eqf_level".into(), json!(4));
        assert_eq!(
            CredentialType::Qualification.validate_claims(&claims),
            Ok(())
        );
    }
}
