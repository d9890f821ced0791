//! Our `transaction_data` type for spending training credits (`spec/credits.md`, "The spend
//! authorisation"): a training provider asks the holder to authorise a debit of `amount`
//! credits for `course`, and the holder's wallet signs the entry's hash in the Key Binding JWT
//! of the training-account credential (OpenID4VP 1.0 §5.1, §8.4, Appendix B.3.3).
//!
//! Parsing is strict: the members are exactly the ones below (plus the standard
//! `transaction_data_hashes_alg`), and `amount` follows the ledger's amount rules (an integer
//! in `1 ..= 1 000 000 000`, never a fraction, an exponent or a string), so that what the person
//! consents to is exactly what the ledger will debit.

use serde_json::{Map, Value};

use crate::messages::MessageError;
use crate::oid4vp::TransactionData;

/// The `type` of a training-credits spend authorisation.
pub const TRAINING_SPEND: &str = "training_spend";

/// The largest amount of one spend: the ledger's per-operation maximum (10^9 credits).
pub const MAX_SPEND_AMOUNT: u64 = 1_000_000_000;

/// Length bounds of `transaction_id`, in base64url characters.
const TRANSACTION_ID_LEN: std::ops::RangeInclusive<usize> = 16..=128;
/// Upper bound, in characters, of `provider` and `course`.
const MAX_NAME_LEN: usize = 256;
/// Upper bound, in characters, of `course_title`.
const MAX_TITLE_LEN: usize = 200;

/// A decoded `training_spend` entry. Its fields are checked: a value of this type always
/// encodes to an entry [`TrainingSpend::from_transaction_data`] accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingSpend {
    /// The provider's unique id for this spend (16–128 base64url characters); the ledger
    /// debits once per id.
    pub transaction_id: String,
    /// The provider's entity id in the trust list.
    pub provider: String,
    /// The course code, as the trust list lists it for the provider.
    pub course: String,
    /// Display text for the course (the provider's word, up to 200 characters).
    pub course_title: Option<String>,
    /// The credits to debit, `1 ..= MAX_SPEND_AMOUNT`.
    pub amount: u64,
}

impl TrainingSpend {
    /// Reads a `training_spend` entry. Refused, each naming the member at fault (all map to
    /// `invalid_transaction_data`): another `type`; `credential_ids` of other than one
    /// entry; a missing member; an unknown member; a `transaction_id` that is not 16–128
    /// base64url characters; an empty, over-long or control-character `provider`, `course`
    /// or `course_title`; an `amount` that is not a plain integer in `1 ..= 10^9`.
    pub fn from_transaction_data(entry: &TransactionData) -> Result<TrainingSpend, MessageError> {
        if entry.data_type() != TRAINING_SPEND {
            return Err(MessageError::InvalidParameter("transaction_data.type"));
        }
        // One training account pays: the entry names exactly the query that asks for it.
        let [_] = entry.credential_ids() else {
            return Err(MessageError::InvalidParameter(
                "transaction_data.credential_ids",
            ));
        };
        let members = entry.members();
        // `transaction_data_hashes_alg`, `type` and `credential_ids` are not among the
        // members (TransactionData takes them out); anything else unknown is refused, so a
        // verifier cannot slip in terms the wallet would not show.
        if members.keys().any(|name| {
            !matches!(
                name.as_str(),
                "transaction_id" | "provider" | "course" | "course_title" | "amount"
            )
        }) {
            return Err(MessageError::InvalidParameter(
                "transaction_data (unknown member)",
            ));
        }
        let transaction_id =
            required_str(members, "transaction_id", "transaction_data.transaction_id")?;
        check_transaction_id(&transaction_id)?;
        let provider = required_str(members, "provider", "transaction_data.provider")?;
        check_text(&provider, MAX_NAME_LEN, "transaction_data.provider")?;
        let course = required_str(members, "course", "transaction_data.course")?;
        check_text(&course, MAX_NAME_LEN, "transaction_data.course")?;
        let course_title = match members.get("course_title") {
            None => None,
            Some(Value::String(title)) => {
                check_text(title, MAX_TITLE_LEN, "transaction_data.course_title")?;
                Some(title.clone())
            }
            Some(_) => {
                return Err(MessageError::InvalidParameter(
                    "transaction_data.course_title",
                ));
            }
        };
        let amount = match members.get("amount") {
            None => return Err(MessageError::MissingParameter("transaction_data.amount")),
            Some(value) => amount(value)?,
        };
        Ok(TrainingSpend {
            transaction_id,
            provider,
            course,
            course_title,
            amount,
        })
    }

    /// Encodes the spend as a `transaction_data` entry naming the credential query
    /// `credential_id`. The fields are checked as [`Self::from_transaction_data`] checks them.
    pub fn to_transaction_data(&self, credential_id: &str) -> crate::Result<TransactionData> {
        let mut members = Map::new();
        members.insert("transaction_id".into(), self.transaction_id.clone().into());
        members.insert("provider".into(), self.provider.clone().into());
        members.insert("course".into(), self.course.clone().into());
        if let Some(title) = &self.course_title {
            members.insert("course_title".into(), title.clone().into());
        }
        members.insert("amount".into(), self.amount.into());
        let entry = TransactionData::new(TRAINING_SPEND, vec![credential_id.to_owned()], members)?;
        // Refuse to build what a wallet would refuse to read.
        TrainingSpend::from_transaction_data(&entry)?;
        Ok(entry)
    }
}

/// The string member `name`; errors name it as `field`.
fn required_str(
    members: &Map<String, Value>,
    name: &str,
    field: &'static str,
) -> Result<String, MessageError> {
    match members.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(MessageError::InvalidParameter(field)),
        None => Err(MessageError::MissingParameter(field)),
    }
}

fn check_transaction_id(id: &str) -> Result<(), MessageError> {
    let base64url = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if base64url && TRANSACTION_ID_LEN.contains(&id.len()) {
        Ok(())
    } else {
        Err(MessageError::InvalidParameter(
            "transaction_data.transaction_id",
        ))
    }
}

/// Display text: non-empty, at most `max` characters, no control characters (they could
/// reorder or hide what the person reads).
fn check_text(text: &str, max: usize, field: &'static str) -> Result<(), MessageError> {
    let count = text.chars().count();
    if count == 0 || count > max || text.chars().any(is_disallowed) {
        return Err(MessageError::InvalidParameter(field));
    }
    Ok(())
}

/// Control characters, and the bidirectional overrides and isolates, which can make text
/// read differently from what it is.
fn is_disallowed(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The ledger's amount rule: a JSON number written as a plain positive integer up to 10^9.
/// serde_json reads `1e3` and `1.0` as floats, so `as_u64` refuses them.
fn amount(value: &Value) -> Result<u64, MessageError> {
    match value {
        Value::Number(n) => match n.as_u64() {
            Some(v) if (1..=MAX_SPEND_AMOUNT).contains(&v) => Ok(v),
            _ => Err(MessageError::InvalidParameter("transaction_data.amount")),
        },
        _ => Err(MessageError::InvalidParameter("transaction_data.amount")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::Endpoint;
    use serde_json::json;

    fn spend() -> TrainingSpend {
        TrainingSpend {
            transaction_id: "tx-0123456789abcdef".into(),
            provider: "https://academy.example".into(),
            course: "WELD-101".into(),
            course_title: Some("Welding, level 1".into()),
            amount: 120,
        }
    }

    /// An entry from raw JSON text (so that `1e3` and `1.0` reach the parser as written).
    fn entry(json: &str) -> TransactionData {
        TransactionData::decode(&crate::b64::encode(json.as_bytes())).unwrap()
    }

    fn good_members() -> Map<String, Value> {
        let Value::Object(members) = json!({
            "type": "training_spend", "credential_ids": ["account"],
            "transaction_id": "tx-0123456789abcdef", "provider": "https://academy.example",
            "course": "WELD-101", "course_title": "Welding, level 1", "amount": 120
        }) else {
            unreachable!()
        };
        members
    }

    fn with(change: impl FnOnce(&mut Map<String, Value>)) -> TransactionData {
        let mut members = good_members();
        change(&mut members);
        entry(&Value::Object(members).to_string())
    }

    fn refused(entry: &TransactionData) -> MessageError {
        let e = TrainingSpend::from_transaction_data(entry).unwrap_err();
        assert_eq!(
            e.error_code(Endpoint::Authorization),
            "invalid_transaction_data",
            "{e}"
        );
        e
    }

    #[test]
    fn a_spend_round_trips() {
        let s = spend();
        let encoded = s.to_transaction_data("account").unwrap();
        assert_eq!(encoded.data_type(), TRAINING_SPEND);
        assert_eq!(encoded.credential_ids(), ["account"]);
        let decoded = TransactionData::decode(encoded.encoded()).unwrap();
        assert_eq!(TrainingSpend::from_transaction_data(&decoded).unwrap(), s);
        let no_title = TrainingSpend {
            course_title: None,
            ..spend()
        };
        let encoded = no_title.to_transaction_data("account").unwrap();
        assert!(!encoded.members().contains_key("course_title"));
        assert_eq!(
            TrainingSpend::from_transaction_data(&encoded).unwrap(),
            no_title
        );
        // The standard hash algorithm member is allowed.
        let with_alg = with(|m| {
            m.insert("transaction_data_hashes_alg".into(), json!(["sha-256"]));
        });
        assert_eq!(TrainingSpend::from_transaction_data(&with_alg).unwrap(), s);
        // Bounds are inclusive.
        for amount in ["1", "1000000000"] {
            let json = Value::Object(good_members())
                .to_string()
                .replace("\"amount\":120", &format!("\"amount\":{amount}"));
            assert!(json.contains(amount));
            TrainingSpend::from_transaction_data(&entry(&json)).unwrap();
        }
    }

    #[test]
    fn amounts_outside_the_ledgers_rule_are_refused() {
        for amount in [
            "0",
            "-1",
            "1.5",
            "1.0",
            "1e3",
            "\"10\"",
            "null",
            "1000000001",
            "9223372036854775807",
            "18446744073709551615",
            "-9223372036854775808",
            "[1]",
        ] {
            let json = Value::Object(good_members())
                .to_string()
                .replace("\"amount\":120", &format!("\"amount\":{amount}"));
            assert!(json.contains(&format!("\"amount\":{amount}")));
            let e = refused(&entry(&json));
            assert_eq!(
                e,
                MessageError::InvalidParameter("transaction_data.amount"),
                "{amount}"
            );
        }
        // Built directly, an invalid amount is not encoded either.
        let bad = TrainingSpend {
            amount: 0,
            ..spend()
        };
        assert!(bad.to_transaction_data("account").is_err());
    }

    #[test]
    fn malformed_transaction_ids_are_refused() {
        for id in [
            json!("short"),
            json!("fifteen-chars-x"),
            json!("a".repeat(129)),
            json!("has space inside ok"),
            json!("padded+base64/char="),
            json!(""),
            json!(1234567890123456789u64),
        ] {
            let e = refused(&with(|m| {
                m.insert("transaction_id".into(), id.clone());
            }));
            assert_eq!(
                e,
                MessageError::InvalidParameter("transaction_data.transaction_id"),
                "{id}"
            );
        }
        // Exactly 16 and 128 are fine.
        for len in [16, 128] {
            let ok = with(|m| {
                m.insert("transaction_id".into(), json!("A".repeat(len)));
            });
            TrainingSpend::from_transaction_data(&ok).unwrap();
        }
    }

    #[test]
    fn texts_must_be_short_and_free_of_control_characters() {
        for (member, value, field) in [
            (
                "course_title",
                json!("a".repeat(201)),
                "transaction_data.course_title",
            ),
            (
                "course_title",
                json!("Weld\ning"),
                "transaction_data.course_title",
            ),
            (
                "course_title",
                json!("Weld\u{202E}gni"),
                "transaction_data.course_title",
            ),
            ("course_title", json!(""), "transaction_data.course_title"),
            ("course_title", json!(7), "transaction_data.course_title"),
            ("course", json!(""), "transaction_data.course"),
            ("course", json!("WELD\u{0}101"), "transaction_data.course"),
            ("course", json!(["WELD-101"]), "transaction_data.course"),
            (
                "provider",
                json!("a".repeat(257)),
                "transaction_data.provider",
            ),
            ("provider", json!(null), "transaction_data.provider"),
        ] {
            let e = refused(&with(|m| {
                m.insert(member.into(), value.clone());
            }));
            assert_eq!(e, MessageError::InvalidParameter(field), "{member} {value}");
        }
        let ok = with(|m| {
            m.insert("course_title".into(), json!("é".repeat(200)));
        });
        TrainingSpend::from_transaction_data(&ok).unwrap();
    }

    #[test]
    fn unknown_and_missing_members_and_other_types_are_refused() {
        let e = refused(&with(|m| {
            m.insert("currency".into(), json!("EUR"));
        }));
        assert_eq!(
            e,
            MessageError::InvalidParameter("transaction_data (unknown member)")
        );
        for (member, field) in [
            ("transaction_id", "transaction_data.transaction_id"),
            ("provider", "transaction_data.provider"),
            ("course", "transaction_data.course"),
            ("amount", "transaction_data.amount"),
        ] {
            let e = refused(&with(|m| {
                m.remove(member);
            }));
            assert_eq!(e, MessageError::MissingParameter(field), "{member}");
        }
        let e = refused(&with(|m| {
            m.insert("type".into(), json!("payment"));
        }));
        assert_eq!(e, MessageError::InvalidParameter("transaction_data.type"));
        let e = refused(&with(|m| {
            m.insert("credential_ids".into(), json!(["account", "other"]));
        }));
        assert_eq!(
            e,
            MessageError::InvalidParameter("transaction_data.credential_ids")
        );
    }
}
