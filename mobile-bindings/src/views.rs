//! What the app shows: `wallet-core`'s summaries, stored credentials and log entries as
//! records the foreign languages can hold. Conversions only; the decisions stay in the core.

use credential_formats::credentials::CredentialType;
use serde_json::Value;

/// A name in the three languages of the system.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Labels {
    /// English.
    pub en: String,
    /// French.
    pub fr: String,
    /// Dutch.
    pub nl: String,
}

impl Labels {
    fn from_array([en, fr, nl]: [String; 3]) -> Labels {
        Labels { en, fr, nl }
    }

    fn from_static(labels: [&'static str; 3]) -> Labels {
        Labels::from_array(labels.map(str::to_owned))
    }

    /// The type's names, when `vct` is one of ours.
    fn of_type(vct: &str) -> Option<Labels> {
        CredentialType::from_vct(vct)
            .ok()
            .map(|t| Labels::from_static(t.labels()))
    }
}

/// A credential type offered.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OfferedCredential {
    /// Its `vct`.
    pub vct: String,
    /// Its names.
    pub labels: Labels,
}

/// The transaction code an offer asks for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TxCodeInfo {
    /// How many characters, if the issuer said.
    pub length: Option<u32>,
    /// The issuer's hint to the person (where the code was sent), if any.
    pub description: Option<String>,
}

/// What the person sees before accepting an offer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OfferSummary {
    /// The issuer's name, from the trust list (never from the offer).
    pub issuer_name: String,
    /// The Credential Issuer Identifier.
    pub issuer: String,
    /// The credential types offered.
    pub credentials: Vec<OfferedCredential>,
    /// Whether a transaction code must be typed, and its shape.
    pub tx_code: Option<TxCodeInfo>,
}

impl From<wallet_core::OfferSummary> for OfferSummary {
    fn from(s: wallet_core::OfferSummary) -> OfferSummary {
        OfferSummary {
            issuer_name: s.issuer_name,
            issuer: s.issuer,
            credentials: s
                .credentials
                .into_iter()
                .map(|(vct, labels)| OfferedCredential {
                    vct,
                    labels: Labels::from_array(labels),
                })
                .collect(),
            tx_code: s.tx_code.map(|(length, description)| TxCodeInfo {
                length,
                description,
            }),
        }
    }
}

/// What one credential query of a presentation request asks for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialQuerySummary {
    /// The credential query `id`.
    pub id: String,
    /// The credential type asked for, when the query names one.
    pub vct: Option<String>,
    /// Its names, when it is a type we know.
    pub labels: Option<Labels>,
    /// The claims that would be disclosed: names such as `age_over_18`, nested claims as
    /// `address.locality`, array elements as `nationalities[]`.
    pub claims: Vec<String>,
    /// Whether a stored credential answers this query.
    pub available: bool,
}

/// A spend of training credits the person would authorise by presenting their training
/// account (a `training_spend` transaction data entry the wallet checked against the trust
/// list: the provider is the verifier asking, accredited for the course).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SpendSummary {
    /// The provider's name, from the trust list (never from the request).
    pub provider_name: String,
    /// The provider's identifier in the trust list.
    pub provider_id: String,
    /// The course code.
    pub course: String,
    /// The course's title, as the provider gives it (its word).
    pub course_title: Option<String>,
    /// The credits to be debited.
    pub amount: u64,
    /// The provider's id for this spend.
    pub transaction_id: String,
}

impl From<wallet_core::SpendSummary> for SpendSummary {
    fn from(s: wallet_core::SpendSummary) -> SpendSummary {
        SpendSummary {
            provider_name: s.provider_name,
            provider_id: s.provider_id,
            course: s.course,
            course_title: s.course_title,
            amount: s.amount,
            transaction_id: s.transaction_id,
        }
    }
}

/// What the person sees before answering a presentation request: who asks, on whose
/// behalf, what for, which claims.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestSummary {
    /// The verifier's name, from the trust list (never from the request).
    pub verifier_name: String,
    /// The verifier's identifier in the trust list.
    pub verifier_id: String,
    /// The request's `client_id` (`x509_hash:…`).
    pub client_id: String,
    /// The platform the verifier asks for, when the request names one (its word).
    pub platform: Option<String>,
    /// The purpose, when the request gives one (its word).
    pub purpose: Option<String>,
    /// Per credential query, in query order.
    pub credentials: Vec<CredentialQuerySummary>,
    /// The types of the `transaction_data` entries the person would sign, if any.
    pub transaction_data: Vec<String>,
    /// The training-credit spends the person would authorise, in request order.
    pub spends: Vec<SpendSummary>,
    /// Whether the wallet can answer; when not, accepting sends the same refusal as
    /// declining and fails with `NothingToPresent`.
    pub satisfiable: bool,
}

impl From<wallet_core::RequestSummary> for RequestSummary {
    fn from(s: wallet_core::RequestSummary) -> RequestSummary {
        RequestSummary {
            verifier_name: s.verifier_name,
            verifier_id: s.verifier_id,
            client_id: s.client_id,
            platform: s.platform,
            purpose: s.purpose,
            credentials: s
                .credentials
                .into_iter()
                .map(|c| CredentialQuerySummary {
                    id: c.id,
                    vct: c.vct,
                    labels: c.labels.map(Labels::from_array),
                    claims: c.claims,
                    available: c.available,
                })
                .collect(),
            transaction_data: s.transaction_data,
            spends: s.spends.into_iter().map(SpendSummary::from).collect(),
            satisfiable: s.satisfiable,
        }
    }
}

/// What the verifier answered to a presentation.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PresentationOutcome {
    /// Where to send the person's browser next, if the verifier asked.
    pub redirect_uri: Option<String>,
}

/// One claim of a stored credential, for display.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClaimView {
    /// The claim name (`family_name`).
    pub name: String,
    /// Its label for a person.
    pub label: Labels,
    /// The value as text: strings as they are, booleans `true`/`false`, lists joined with
    /// `, `, objects (an address) as their values joined with `, ` in the credential's
    /// order.
    pub value: String,
}

/// A credential the person holds: one per batch (single-use copies are counted, not
/// listed).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialSummary {
    /// The id of the batch's first copy.
    pub id: String,
    /// Its type `vct`.
    pub vct: String,
    /// The type's names.
    pub labels: Option<Labels>,
    /// Its issuer `iss`.
    pub issuer: String,
    /// When the wallet received it (seconds since the epoch).
    pub received_at: i64,
    /// `iat`, if any.
    pub issued_at: Option<i64>,
    /// `exp`, if any.
    pub expires_at: Option<i64>,
    /// Whether each copy is presented once only.
    pub single_use: bool,
    /// Copies not yet presented (1 or 0 for a credential that is not single-use).
    pub unused_copies: u32,
    /// The subject's claims, in the order of the type's schema.
    pub claims: Vec<ClaimView>,
}

// Personal data: Debug shows what identifies the record, never a claim value.
impl std::fmt::Debug for ClaimView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimView")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for CredentialSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSummary")
            .field("id", &self.id)
            .field("vct", &self.vct)
            .field("unused_copies", &self.unused_copies)
            .finish_non_exhaustive()
    }
}

/// A claim value as a person reads it.
fn display(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        Value::Object(members) => members.values().map(display).collect::<Vec<_>>().join(", "),
    }
}

impl CredentialSummary {
    pub(crate) fn new(c: wallet_core::StoredCredential, unused: usize) -> CredentialSummary {
        let schema = CredentialType::from_vct(&c.vct).map(|t| t.claims());
        // The type's schema decides what a person sees and in which order; the JWT's own
        // claims (iss, cnf, status, …) are the wallet's business. A type we do not know
        // cannot be stored (issuance refuses it), so its claims are simply not shown.
        let claims = schema
            .unwrap_or_default()
            .iter()
            .filter_map(|spec| {
                c.claims.get(spec.name).map(|value| ClaimView {
                    name: spec.name.to_owned(),
                    label: Labels::from_static(spec.labels),
                    value: display(value),
                })
            })
            .collect();
        CredentialSummary {
            labels: Labels::of_type(&c.vct),
            id: c.id,
            vct: c.vct,
            issuer: c.issuer,
            received_at: c.received_at,
            issued_at: c.issued_at,
            expires_at: c.expires_at,
            single_use: c.single_use,
            unused_copies: u32::try_from(unused).unwrap_or(u32::MAX),
            claims,
        }
    }
}

/// A qualification in the backpack (a certified training or a diploma), with what the trust
/// list says of its issuer today.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Qualification {
    /// The stored credential's id.
    pub credential_id: String,
    /// The course or programme.
    pub course_reference: String,
    /// Its title.
    pub title: String,
    /// The EQF level, 1 to 8, when given.
    pub eqf_level: Option<u8>,
    /// Hours, when given.
    pub hours: Option<u64>,
    /// Credits, when given.
    pub credits: Option<u64>,
    /// `YYYY-MM-DD`.
    pub completion_date: String,
    /// The result.
    pub result: String,
    /// The issuer's entity id.
    pub issuer_id: String,
    /// The issuer's name in the trust list, when it is there.
    pub issuer_name: Option<String>,
    /// Whether the trust list names the issuer as accredited for this course today.
    pub accredited: bool,
}

impl From<wallet_core::Qualification> for Qualification {
    fn from(q: wallet_core::Qualification) -> Qualification {
        Qualification {
            credential_id: q.credential_id,
            course_reference: q.course_reference,
            title: q.title,
            eqf_level: q.eqf_level,
            hours: q.hours,
            credits: q.credits,
            completion_date: q.completion_date,
            result: q.result,
            issuer_id: q.issuer_id,
            issuer_name: q.issuer_name,
            accredited: q.accredited,
        }
    }
}

/// A notice that a court had the State register link a pseudonym of the person to them,
/// given once the order's embargo is over.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CourtNotice {
    /// The court's case number.
    pub case: String,
    /// The legal ground of the order.
    pub ground: String,
    /// The platform whose account was linked to the person.
    pub platform: String,
    /// The judge who signed the order (their identifier in the trust list).
    pub judge: String,
    /// When the register answered the court (seconds since the epoch).
    pub resolved_at: i64,
    /// The resolution's index in the register's transparency log.
    pub log_index: u64,
}

impl From<wallet_core::CourtNotice> for CourtNotice {
    fn from(n: wallet_core::CourtNotice) -> CourtNotice {
        CourtNotice {
            case: n.case,
            ground: n.ground,
            platform: n.platform,
            judge: n.judge,
            resolved_at: n.resolved_at,
            log_index: n.log_index,
        }
    }
}

/// The person's training account as the credits ledger shows it to them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CreditsAccount {
    /// The account reference.
    pub account: String,
    /// `open` or `closed`.
    pub open: bool,
    /// Credits available.
    pub balance: u64,
    /// Credits granted and topped up, ever.
    pub granted: u64,
    /// Credits spent, ever.
    pub spent: u64,
    /// Credits given back by refunds and cancellations, ever.
    pub refunded: u64,
    /// Every entry, oldest first.
    pub history: Vec<CreditsEntry>,
}

/// What an entry of the credits history did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CreditsEntryKind {
    /// A one-off grant by the agency.
    Grant,
    /// A yearly top-up (possibly of 0 credits).
    Topup,
    /// A debit for a course.
    Spend,
    /// Part or all of a debit given back.
    Refund,
    /// A debit cancelled, given back whole.
    Cancel,
}

/// One entry of the credits history.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CreditsEntry {
    /// Its place in the history, from 1.
    pub seq: u64,
    /// What it did.
    pub kind: CreditsEntryKind,
    /// Credits moved.
    pub amount: u64,
    /// When (seconds since the epoch).
    pub created_at: i64,
    /// For a spend, refund or cancellation: the transaction id the person signed.
    pub transaction_id: Option<String>,
    /// For a spend, refund or cancellation: the training provider.
    pub provider: Option<String>,
    /// For a spend, refund or cancellation: the course.
    pub course: Option<String>,
}

impl From<wallet_core::CreditsAccount> for CreditsAccount {
    fn from(a: wallet_core::CreditsAccount) -> CreditsAccount {
        use wallet_core::CreditsEntryKind as K;
        CreditsAccount {
            account: a.account,
            open: a.status == wallet_core::AccountStatus::Open,
            balance: a.balance,
            granted: a.granted,
            spent: a.spent,
            refunded: a.refunded,
            history: a
                .history
                .into_iter()
                .map(|e| CreditsEntry {
                    seq: e.seq,
                    kind: match e.kind {
                        K::Grant => CreditsEntryKind::Grant,
                        K::Topup => CreditsEntryKind::Topup,
                        K::Spend => CreditsEntryKind::Spend,
                        K::Refund => CreditsEntryKind::Refund,
                        K::Cancel => CreditsEntryKind::Cancel,
                    },
                    amount: e.amount,
                    created_at: e.created_at,
                    transaction_id: e.transaction_id,
                    provider: e.provider,
                    course: e.course,
                })
                .collect(),
        }
    }
}

/// One entry of the transaction log: who, what, when, how it ended — never claim values.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogEntry {
    /// When (seconds since the epoch).
    pub at: i64,
    /// `issuance`, `presentation`, `court_notices` or `credits_account`.
    pub kind: String,
    /// The issuer's or verifier's name, from the trust list; the register's URL for
    /// `court_notices`, the ledger's for `credits_account`.
    pub counterparty: String,
    /// The platform a verifier asked for, if it named one.
    pub platform: Option<String>,
    /// The purpose a verifier gave, if any.
    pub purpose: Option<String>,
    /// The credential types received or presented.
    pub credential_types: Vec<String>,
    /// The names of the claims disclosed (presentations).
    pub claims: Vec<String>,
    /// `received`, `presented`, `declined`, `no_match`, `refused_by_verifier`,
    /// `not_delivered`, `refusal_not_delivered`; for `court_notices`: `fetched`,
    /// `refused_by_register`, `malformed_answer`, `not_delivered`; for `credits_account`:
    /// `fetched`, `refused_by_ledger`, `malformed_answer`, `not_delivered`.
    pub outcome: String,
    /// The entry as the wallet keeps it (JSON), for the details a list does not show.
    pub json: String,
}

impl std::fmt::Debug for LogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogEntry")
            .field("at", &self.at)
            .field("kind", &self.kind)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

impl LogEntry {
    /// Reads an entry of `wallet-core`'s log (its shapes are in `wallet-core`'s README:
    /// `credentials` is a list of types for an issuance, of `{vct, claims}` for a
    /// presentation).
    pub(crate) fn new(at: i64, entry: &Value) -> LogEntry {
        let credentials = entry
            .get("credentials")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let credential_types = credentials
            .iter()
            .filter_map(|c| c.as_str().or_else(|| c.get("vct").and_then(Value::as_str)))
            .map(str::to_owned)
            .collect();
        let claims = credentials
            .iter()
            .filter_map(|c| c.get("claims").and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        LogEntry {
            at,
            kind: text(entry, "/kind").unwrap_or_default(),
            counterparty: text(entry, "/counterparty/name")
                .or_else(|| text(entry, "/counterparty/register"))
                .or_else(|| text(entry, "/counterparty/ledger"))
                .unwrap_or_default(),
            platform: text(entry, "/platform"),
            purpose: text(entry, "/purpose"),
            credential_types,
            claims,
            outcome: text(entry, "/outcome").unwrap_or_default(),
            json: entry.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_credits_account_reaches_the_app_with_its_spends_named() {
        let core: wallet_core::CreditsAccount = serde_json::from_value(json!({
            "account": "AAAAAAAAAAAAAAAAAAAAAA", "status": "closed",
            "balance": 40, "granted": 100, "spent": 60, "refunded": 0,
            "history": [
                {"seq": 1, "kind": "topup", "amount": 100, "created_at": 10},
                {"seq": 2, "kind": "spend", "amount": 60, "created_at": 20,
                 "transaction_id": "enrol-1", "provider": "https://academy.example",
                 "course": "WELD-101"}
            ]
        }))
        .unwrap();
        let app = CreditsAccount::from(core);
        assert!(!app.open);
        assert_eq!(app.balance, 40);
        assert_eq!(app.history[0].kind, CreditsEntryKind::Topup);
        assert_eq!(app.history[0].provider, None);
        assert_eq!(app.history[1].kind, CreditsEntryKind::Spend);
        assert_eq!(app.history[1].course.as_deref(), Some("WELD-101"));
    }

    #[test]
    fn spends_reach_the_app_as_the_core_checked_them() {
        let spend = wallet_core::SpendSummary {
            provider_name: "Welding Academy".into(),
            provider_id: "https://academy.example".into(),
            course: "WELD-101".into(),
            course_title: Some("Welding, level 1".into()),
            amount: 120,
            transaction_id: "spend-0001-abcdefgh".into(),
        };
        let core = wallet_core::RequestSummary {
            verifier_name: "Welding Academy".into(),
            verifier_id: "https://academy.example".into(),
            client_id: "x509_hash:abc".into(),
            purpose: None,
            platform: None,
            verifier_info: Vec::new(),
            credentials: Vec::new(),
            transaction_data: vec!["training_spend".into()],
            spends: vec![spend.clone(), spend],
            satisfiable: true,
        };
        let app = RequestSummary::from(core);
        assert_eq!(app.transaction_data, ["training_spend"]);
        assert_eq!(app.spends.len(), 2);
        let first = &app.spends[0];
        assert_eq!(first.provider_name, "Welding Academy");
        assert_eq!(first.provider_id, "https://academy.example");
        assert_eq!(first.course, "WELD-101");
        assert_eq!(first.course_title.as_deref(), Some("Welding, level 1"));
        assert_eq!(first.amount, 120);
        assert_eq!(first.transaction_id, "spend-0001-abcdefgh");
    }

    #[test]
    fn values_read_as_text() {
        assert_eq!(display(&json!("Gent")), "Gent");
        assert_eq!(display(&json!(true)), "true");
        assert_eq!(display(&json!(6)), "6");
        assert_eq!(display(&json!(["BE", "NL"])), "BE, NL");
        assert_eq!(
            display(&json!({"street_address": "Veldstraat 1", "locality": "Gent"})),
            "Veldstraat 1, Gent"
        );
    }

    #[test]
    fn log_entries_of_both_kinds_are_read() {
        let issuance = LogEntry::new(
            5,
            &json!({"kind": "issuance", "counterparty": {"issuer": "https://i", "name": "State"},
                    "credentials": ["urn:a", "urn:b"], "count": 11, "outcome": "received"}),
        );
        assert_eq!(issuance.counterparty, "State");
        assert_eq!(issuance.credential_types, ["urn:a", "urn:b"]);
        assert!(issuance.claims.is_empty() && issuance.platform.is_none());
        let presentation = LogEntry::new(
            6,
            &json!({"kind": "presentation", "counterparty": {"verifier": "v", "name": "Shop"},
                    "platform": "Market", "purpose": null,
                    "credentials": [{"vct": "urn:a", "claims": ["age_over_18"]}],
                    "transaction_data": [], "outcome": "presented"}),
        );
        assert_eq!(presentation.credential_types, ["urn:a"]);
        assert_eq!(presentation.claims, ["age_over_18"]);
        assert_eq!(presentation.platform.as_deref(), Some("Market"));
        assert_eq!(presentation.purpose, None);
        assert_eq!(presentation.outcome, "presented");
    }

    #[test]
    fn debug_shows_no_claim_value() {
        let claim = ClaimView {
            name: "family_name".into(),
            label: Labels::from_static(["Family name", "Nom", "Familienaam"]),
            value: "Peeters".into(),
        };
        let text = format!("{claim:?}");
        assert!(text.contains("family_name") && !text.contains("Peeters"));
    }
}
