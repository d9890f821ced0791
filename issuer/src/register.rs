//! The person register: PID attributes in, `person_handle` out.
//!
//! `person_handle = HMAC-SHA256(K_reg, national number)`, base64url: a stable, opaque 256-bit
//! value that means nothing without `K_reg` and the register. It is what accountable checks
//! disclose to the verifier, and what a court order resolves back to a person.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::Sha256;
use zeroize::Zeroizing;

use credential_formats::credentials::CredentialType;

use crate::Error;
use crate::store::NewPerson;

/// The register key `K_reg`.
#[derive(Clone)]
pub struct RegisterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for RegisterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegisterKey(..)")
    }
}

impl RegisterKey {
    /// Wraps the key bytes.
    pub fn new(key: Zeroizing<[u8; 32]>) -> RegisterKey {
        RegisterKey(key)
    }

    /// The person handle of a (normalised) national number.
    pub fn person_handle(&self, national_number: &str) -> Result<String, Error> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0[..])
            .map_err(|_| Error::Config("register key".into()))?;
        mac.update(b"person_handle/v1\0");
        mac.update(national_number.as_bytes());
        Ok(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }
}

/// Digits and letters only: `85.07.30-033.61` and `85073003361` are one number.
pub fn normalise_national_number(raw: &str) -> Result<String, Error> {
    let normalised: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '/'))
        .collect();
    if normalised.is_empty()
        || normalised.len() > 32
        || !normalised.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(Error::Invalid(
            "personal_administrative_number must be 1 to 32 letters or digits".into(),
        ));
    }
    Ok(normalised.to_ascii_uppercase())
}

/// An enrolment, as the admin API and `issuer enrol` take it: the PID attributes of the EU
/// PID rulebook (the identity check itself happens outside this system).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    /// `family_name`.
    pub family_name: String,
    /// `given_name`.
    pub given_name: String,
    /// `birthdate`, `YYYY-MM-DD`.
    pub birthdate: String,
    /// `nationalities`: ISO 3166-1 alpha-2 codes.
    pub nationalities: Vec<String>,
    /// `personal_administrative_number`: the national register number.
    pub personal_administrative_number: String,
    /// `place_of_birth`: `locality`, `region`, `country`.
    #[serde(default)]
    pub place_of_birth: Option<Map<String, Value>>,
    /// `address`: `street_address`, `locality`, `postal_code`, `country`, …
    #[serde(default)]
    pub address: Option<Map<String, Value>>,
    /// The level of assurance of the identity check (`high` unless said otherwise).
    #[serde(default)]
    pub level_of_assurance: Option<String>,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment").finish_non_exhaustive()
    }
}

/// Levels of assurance of eIDAS (Regulation 910/2014, art. 8).
const LEVELS: [&str; 3] = ["low", "substantial", "high"];

impl Enrolment {
    /// Checks the attributes against the PID schema and computes the handle.
    pub fn into_person(
        self,
        key: &RegisterKey,
        issuing_authority: &str,
        issuing_country: &str,
    ) -> Result<NewPerson, Error> {
        let number = normalise_national_number(&self.personal_administrative_number)?;
        let level = self.level_of_assurance.unwrap_or_else(|| "high".into());
        if !LEVELS.contains(&level.as_str()) {
            return Err(Error::Invalid(
                "level_of_assurance must be low, substantial or high".into(),
            ));
        }
        if self
            .nationalities
            .iter()
            .any(|n| n.len() != 2 || !n.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(Error::Invalid(
                "nationalities are ISO 3166-1 alpha-2 codes".into(),
            ));
        }
        civil_date(&self.birthdate)?;
        let mut attributes = Map::new();
        attributes.insert("family_name".into(), self.family_name.into());
        attributes.insert("given_name".into(), self.given_name.into());
        attributes.insert("birthdate".into(), self.birthdate.into());
        if let Some(place) = self.place_of_birth {
            attributes.insert("place_of_birth".into(), Value::Object(place));
        }
        attributes.insert("nationalities".into(), self.nationalities.into());
        if let Some(address) = self.address {
            attributes.insert("address".into(), Value::Object(address));
        }
        attributes.insert(
            "personal_administrative_number".into(),
            number.clone().into(),
        );
        attributes.insert("issuing_authority".into(), issuing_authority.into());
        attributes.insert("issuing_country".into(), issuing_country.into());
        CredentialType::Pid.validate_claims(&attributes)?;
        Ok(NewPerson {
            person_handle: key.person_handle(&number)?,
            attributes,
            level_of_assurance: level,
        })
    }
}

/// A date `YYYY-MM-DD` as (year, month, day), checked against the calendar.
pub fn civil_date(text: &str) -> Result<(i64, u32, u32), Error> {
    let bad = || Error::Invalid("birthdate must be a date YYYY-MM-DD".into());
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(bad());
    }
    let year: i64 = text[..4].parse().map_err(|_| bad())?;
    let month: u32 = text[5..7].parse().map_err(|_| bad())?;
    let day: u32 = text[8..].parse().map_err(|_| bad())?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(bad());
    }
    Ok((year, month, day))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The UTC calendar date of a Unix time (H. Hinnant's `civil_from_days`).
pub fn date_of(unix: i64) -> (i64, u32, u32) {
    let z = unix.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Whether someone born on `birth` has had their `years`-th birthday on `today`. Someone
/// born on 29 February comes of age on 1 March in common years.
pub fn age_over(birth: (i64, u32, u32), today: (i64, u32, u32), years: i64) -> bool {
    let age = today.0 - birth.0 - i64::from((today.1, today.2) < (birth.1, birth.2));
    age >= years
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RegisterKey {
        RegisterKey::new(Zeroizing::new([7u8; 32]))
    }

    #[test]
    fn handles_are_stable_opaque_and_keyed() {
        let a = key().person_handle("85073003361").unwrap();
        assert_eq!(a, key().person_handle("85073003361").unwrap());
        assert_eq!(a.len(), 43);
        assert_ne!(a, key().person_handle("85073003362").unwrap());
        let other = RegisterKey::new(Zeroizing::new([8u8; 32]));
        assert_ne!(a, other.person_handle("85073003361").unwrap());
    }

    #[test]
    fn national_numbers_are_normalised() {
        assert_eq!(
            normalise_national_number("85.07.30-033.61").unwrap(),
            "85073003361"
        );
        assert!(normalise_national_number(" .- ").is_err());
        assert!(normalise_national_number("85073003361'; DROP").is_err());
    }

    #[test]
    fn calendar_dates_are_checked() {
        assert_eq!(civil_date("2000-02-29").unwrap(), (2000, 2, 29));
        for bad in [
            "1900-02-29",
            "2001-04-31",
            "2001-13-01",
            "2001-1-01",
            "20010101",
            "2001-00-10",
        ] {
            assert!(civil_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unix_times_map_to_utc_dates() {
        assert_eq!(date_of(0), (1970, 1, 1));
        assert_eq!(date_of(951_782_400), (2000, 2, 29));
        assert_eq!(date_of(1_795_996_799), (2026, 11, 29));
        assert_eq!(date_of(-1), (1969, 12, 31));
    }

    #[test]
    fn ages_turn_on_the_birthday() {
        let birth = (2008, 11, 29);
        assert!(!age_over(birth, (2026, 11, 28), 18));
        assert!(age_over(birth, (2026, 11, 29), 18));
        assert!(!age_over(birth, (2026, 11, 29), 21));
        let leap = (2008, 2, 29);
        assert!(!age_over(leap, (2026, 2, 28), 18));
        assert!(age_over(leap, (2026, 3, 1), 18));
    }

    #[test]
    fn enrolment_checks_the_pid_schema() {
        let json = serde_json::json!({
            "family_name": "Peeters", "given_name": "An", "birthdate": "1985-07-30",
            "nationalities": ["BE"], "personal_administrative_number": "85.07.30-033.61"
        });
        let e: Enrolment = serde_json::from_value(json.clone()).unwrap();
        let p = e.into_person(&key(), "BE-RRN", "BE").unwrap();
        assert_eq!(
            p.attributes["personal_administrative_number"],
            "85073003361"
        );
        assert_eq!(p.level_of_assurance, "high");
        let mut bad = json.clone();
        bad["birthdate"] = "1985-02-30".into();
        let e: Enrolment = serde_json::from_value(bad).unwrap();
        assert!(e.into_person(&key(), "BE-RRN", "BE").is_err());
        let mut bad = json;
        bad["nationalities"] = serde_json::json!(["Belgian"]);
        let e: Enrolment = serde_json::from_value(bad).unwrap();
        assert!(e.into_person(&key(), "BE-RRN", "BE").is_err());
    }
}
