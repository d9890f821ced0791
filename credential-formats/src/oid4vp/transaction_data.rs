//! Transaction data (OpenID4VP 1.0 §5.1, §8.4) and its SD-JWT VC binding (Appendix B.3.3).

use super::SHA_256;
use crate::messages::{MessageError, check_non_empty_str, check_unique_non_empty};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Size limit of one decoded `transaction_data` object.
const MAX_TRANSACTION_DATA_LEN: usize = 64 * 1024;

/// One `transaction_data` entry: the base64url string exactly as received (the hash is over
/// it), and its decoded object.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionData {
    encoded: String,
    data_type: String,
    credential_ids: Vec<String>,
    transaction_data_hashes_alg: Option<Vec<String>>,
    members: Map<String, Value>,
}

impl TransactionData {
    /// Decodes one entry: base64url of a JSON object with `type` (string), `credential_ids`
    /// (non-empty array of strings) and, optionally, `transaction_data_hashes_alg`; the other
    /// members are the type's and are kept. Only `sha-256` is supported as hash algorithm, so
    /// an entry that does not allow it is refused.
    pub fn decode(encoded: &str) -> crate::Result<TransactionData> {
        let bytes = crate::b64::decode(encoded)
            .ok_or(MessageError::InvalidParameter("transaction_data"))?;
        let value = crate::json::parse(&bytes, MAX_TRANSACTION_DATA_LEN)?;
        let Value::Object(mut members) = value else {
            return Err(MessageError::InvalidParameter("transaction_data").into());
        };
        let data_type = match members.remove("type") {
            Some(Value::String(t)) if !t.is_empty() => t,
            Some(_) => return Err(MessageError::InvalidParameter("transaction_data.type").into()),
            None => return Err(MessageError::MissingParameter("transaction_data.type").into()),
        };
        let credential_ids = match members.remove("credential_ids") {
            Some(value) => string_array(value, "transaction_data.credential_ids")?,
            None => {
                return Err(
                    MessageError::MissingParameter("transaction_data.credential_ids").into(),
                );
            }
        };
        let transaction_data_hashes_alg = match members.remove("transaction_data_hashes_alg") {
            Some(value) => {
                let algs = string_array(value, "transaction_data_hashes_alg")?;
                if !algs.iter().any(|alg| alg == SHA_256) {
                    return Err(MessageError::UnsupportedHashAlgorithm.into());
                }
                Some(algs)
            }
            None => None,
        };
        Ok(TransactionData {
            encoded: encoded.to_owned(),
            data_type,
            credential_ids,
            transaction_data_hashes_alg,
            members,
        })
    }

    /// Builds and encodes an entry of type `data_type` for the credential queries
    /// `credential_ids`, with the type's own `members`.
    pub fn new(
        data_type: &str,
        credential_ids: Vec<String>,
        members: Map<String, Value>,
    ) -> crate::Result<TransactionData> {
        check_non_empty_str(data_type, "transaction_data.type")?;
        check_unique_non_empty(&credential_ids, "transaction_data.credential_ids")?;
        let mut object = Map::new();
        object.insert("type".into(), Value::from(data_type));
        object.insert(
            "credential_ids".into(),
            Value::Array(credential_ids.iter().cloned().map(Value::String).collect()),
        );
        for (name, value) in members {
            if !matches!(
                name.as_str(),
                "type" | "credential_ids" | "transaction_data_hashes_alg"
            ) {
                object.insert(name, value);
            }
        }
        let json = serde_json::to_vec(&Value::Object(object))
            .map_err(|_| MessageError::InvalidParameter("transaction_data"))?;
        TransactionData::decode(&crate::b64::encode(json))
    }

    /// The base64url string, as received or built.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }
    /// `type`.
    pub fn data_type(&self) -> &str {
        &self.data_type
    }
    /// `credential_ids`.
    pub fn credential_ids(&self) -> &[String] {
        &self.credential_ids
    }
    /// `transaction_data_hashes_alg` (absent means `sha-256`).
    pub fn transaction_data_hashes_alg(&self) -> Option<&[String]> {
        self.transaction_data_hashes_alg.as_deref()
    }
    /// The type-specific members.
    pub fn members(&self) -> &Map<String, Value> {
        &self.members
    }

    /// The entry's hash for `transaction_data_hashes`: base64url(SHA-256(the base64url
    /// string as received)) — no base64url decoding before hashing (Appendix B.3.3.1).
    pub fn hash(&self) -> String {
        crate::b64::encode(Sha256::digest(self.encoded.as_bytes()))
    }
}

/// Checks a Key Binding JWT's `transaction_data_hashes` and `transaction_data_hashes_alg`
/// against the entries the presented credential was asked to authorise, in request order
/// (Appendix B.3.3.1): the algorithm must be `sha-256` (named explicitly when any entry listed
/// algorithms) and each hash must be that of the entry at the same position.
pub fn check_transaction_data_hashes(
    entries: &[TransactionData],
    transaction_data_hashes: &[String],
    transaction_data_hashes_alg: Option<&str>,
) -> Result<(), MessageError> {
    let alg_required = entries
        .iter()
        .any(|e| e.transaction_data_hashes_alg.is_some());
    match transaction_data_hashes_alg {
        None if alg_required => {
            return Err(MessageError::MissingParameter(
                "transaction_data_hashes_alg",
            ));
        }
        Some(alg) if alg != SHA_256 => return Err(MessageError::UnsupportedHashAlgorithm),
        _ => {}
    }
    if entries.is_empty() || transaction_data_hashes.len() != entries.len() {
        return Err(MessageError::TransactionDataHashMismatch);
    }
    let all_match = entries
        .iter()
        .zip(transaction_data_hashes)
        .all(|(entry, hash)| entry.hash() == *hash);
    if all_match {
        Ok(())
    } else {
        Err(MessageError::TransactionDataHashMismatch)
    }
}

fn string_array(value: Value, field: &'static str) -> Result<Vec<String>, MessageError> {
    let Value::Array(items) = value else {
        return Err(MessageError::InvalidParameter(field));
    };
    let strings = items
        .into_iter()
        .map(|item| match item {
            Value::String(s) if !s.is_empty() => Ok(s),
            _ => Err(MessageError::InvalidParameter(field)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_unique_non_empty(&strings, field)?;
    Ok(strings)
}
