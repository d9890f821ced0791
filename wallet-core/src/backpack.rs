//! The digital backpack: every qualification the person holds — certified trainings and
//! diplomas — with what the trust list says of its issuer today. Showing one to an
//! employer is an ordinary presentation: the employer's verifier asks for the
//! qualification type in its DCQL query and the person consents as for any request.

use serde_json::Value;

use credential_formats::credentials::CredentialType;
use credential_formats::trust_list::{Role, TrustList};

use crate::Error;
use crate::store::StoredCredential;
use crate::wallet::Wallet;

/// One qualification in the backpack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualification {
    /// The stored credential's id.
    pub credential_id: String,
    /// `course_reference`: the course or programme.
    pub course_reference: String,
    /// `title`.
    pub title: String,
    /// `eqf_level`, 1 to 8, when given.
    pub eqf_level: Option<u8>,
    /// `hours`, when given.
    pub hours: Option<u64>,
    /// `credits`, when given.
    pub credits: Option<u64>,
    /// `completion_date`, `YYYY-MM-DD`.
    pub completion_date: String,
    /// `result`.
    pub result: String,
    /// The issuer's entity id.
    pub issuer_id: String,
    /// The issuer's name in the trust list, when it is there.
    pub issuer_name: Option<String>,
    /// Whether the trust list, today, names the issuer as accredited for this course (a
    /// training provider listing it) or as the State issuer of qualifications (diplomas).
    pub accredited: bool,
}

fn text(claims: &serde_json::Map<String, Value>, name: &str) -> String {
    claims
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn qualification(credential: &StoredCredential, trust: &TrustList, now: i64) -> Qualification {
    let claims = &credential.claims;
    let course_reference = text(claims, "course_reference");
    let entity = trust
        .entity(&credential.issuer)
        .filter(|e| e.check_valid_at(now).is_ok());
    let accredited = entity.is_some_and(|e| {
        (e.has_role(Role::TrainingProvider) && e.courses().contains(&course_reference))
            || ((e.has_role(Role::PidIssuer) || e.has_role(Role::PersonAttestationIssuer))
                && e.vct()
                    .iter()
                    .any(|v| v == CredentialType::Qualification.vct()))
    });
    Qualification {
        credential_id: credential.id.clone(),
        title: text(claims, "title"),
        eqf_level: claims
            .get("eqf_level")
            .and_then(Value::as_u64)
            .and_then(|l| u8::try_from(l).ok()),
        hours: claims.get("hours").and_then(Value::as_u64),
        credits: claims.get("credits").and_then(Value::as_u64),
        completion_date: text(claims, "completion_date"),
        result: text(claims, "result"),
        issuer_id: credential.issuer.clone(),
        issuer_name: entity.map(|e| e.name().to_owned()),
        accredited,
        course_reference,
    }
}

impl Wallet {
    /// The backpack: one entry per qualification held, the most recently completed first.
    pub async fn backpack(&self) -> Result<Vec<Qualification>, Error> {
        let trust = self.trust_list().await?;
        let now = self.now();
        let mut entries: Vec<Qualification> = self
            .batches()?
            .into_iter()
            .filter(|(c, _)| c.vct == CredentialType::Qualification.vct())
            .map(|(c, _)| qualification(&c, &trust, now))
            .collect();
        entries.sort_by(|a, b| {
            b.completion_date
                .cmp(&a.completion_date)
                .then_with(|| a.title.cmp(&b.title))
        });
        Ok(entries)
    }
}
