//! The life of a credential in the store: a [`NewCredential`] comes in (plaintext), is kept
//! as a row whose sensitive part is a sealed [`Record`], and comes out as a
//! [`StoredCredential`] (with its id and the store's metadata).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A credential to save: one copy of an issued SD-JWT VC, with what the wallet verified in
/// it. Everything but `batch_id` is sealed in the store.
#[derive(Clone, PartialEq)]
pub struct NewCredential {
    /// Groups the copies issued together (one credential, several single-use copies). Kept
    /// in clear to find the copies, so it must be random, never derived from a claim.
    pub batch_id: String,
    /// The credential type `vct` (sealed; looked up through a keyed hash).
    pub vct: String,
    /// The issuer `iss`.
    pub issuer: String,
    /// The SD-JWT in compact serialization, with all its Disclosures.
    pub compact: String,
    /// The alias of this copy's holder key in the key store (the key itself is never here).
    pub key_alias: String,
    /// The verified, disclosed claims, for display and for matching DCQL queries.
    pub claims: Map<String, Value>,
    /// `iat`, if the credential has one (seconds since the epoch).
    pub issued_at: Option<i64>,
    /// `exp`, if the credential has one (seconds since the epoch).
    pub expires_at: Option<i64>,
    /// Whether each copy may be presented once only (a person attestation's copies are).
    pub single_use: bool,
    /// The Token Status List reference `(uri, idx)`, if the credential has one.
    pub status: Option<(String, u64)>,
}

/// A credential copy as the store holds it.
#[derive(Clone, PartialEq)]
pub struct StoredCredential {
    /// The store's random id of this copy.
    pub id: String,
    /// Whether this single-use copy was taken for a presentation (never set for a credential
    /// that is not single-use).
    pub used: bool,
    /// When the store saved it (seconds since the epoch).
    pub received_at: i64,
    /// Groups the copies issued together.
    pub batch_id: String,
    /// The credential type `vct`.
    pub vct: String,
    /// The issuer `iss`.
    pub issuer: String,
    /// The SD-JWT in compact serialization, with all its Disclosures.
    pub compact: String,
    /// The alias of this copy's holder key.
    pub key_alias: String,
    /// The verified, disclosed claims.
    pub claims: Map<String, Value>,
    /// `iat`, if present.
    pub issued_at: Option<i64>,
    /// `exp`, if present.
    pub expires_at: Option<i64>,
    /// Whether each copy may be presented once only.
    pub single_use: bool,
    /// The Token Status List reference `(uri, idx)`, if present.
    pub status: Option<(String, u64)>,
}

// Personal data: Debug shows what identifies the copy, never the SD-JWT, claims, issuer or
// key alias.
impl std::fmt::Debug for NewCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCredential")
            .field("vct", &self.vct)
            .field("batch_id", &self.batch_id)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredential")
            .field("id", &self.id)
            .field("vct", &self.vct)
            .field("batch_id", &self.batch_id)
            .finish_non_exhaustive()
    }
}

/// The sealed part of a credential row. The clear columns the store selects on (`batch_id`,
/// `received_at`) are repeated here and compared on reading, so a row whose clear columns
/// were changed behind the store's back is refused rather than trusted.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Record {
    pub(crate) batch_id: String,
    pub(crate) received_at: i64,
    pub(crate) vct: String,
    pub(crate) issuer: String,
    pub(crate) compact: String,
    pub(crate) key_alias: String,
    pub(crate) claims: Map<String, Value>,
    pub(crate) issued_at: Option<i64>,
    pub(crate) expires_at: Option<i64>,
    pub(crate) single_use: bool,
    pub(crate) status: Option<(String, u64)>,
}

impl Record {
    /// The record of `c`, received at `received_at`.
    pub(crate) fn new(c: &NewCredential, received_at: i64) -> Record {
        Record {
            batch_id: c.batch_id.clone(),
            received_at,
            vct: c.vct.clone(),
            issuer: c.issuer.clone(),
            compact: c.compact.clone(),
            key_alias: c.key_alias.clone(),
            claims: c.claims.clone(),
            issued_at: c.issued_at,
            expires_at: c.expires_at,
            single_use: c.single_use,
            status: c.status.clone(),
        }
    }

    /// The stored credential of this record, in row `id`.
    pub(crate) fn into_stored(self, id: String, used: bool) -> StoredCredential {
        StoredCredential {
            id,
            used,
            received_at: self.received_at,
            batch_id: self.batch_id,
            vct: self.vct,
            issuer: self.issuer,
            compact: self.compact,
            key_alias: self.key_alias,
            claims: self.claims,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            single_use: self.single_use,
            status: self.status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn debug_shows_no_sd_jwt_claim_issuer_or_key() {
        let c = NewCredential {
            batch_id: "b1".into(),
            vct: "urn:example:pid".into(),
            issuer: "https://issuer.example".into(),
            compact: "eyJhbGciOi.SECRET~disclosure~".into(),
            key_alias: "key-7".into(),
            claims: json!({"given_name": "Erika"}).as_object().cloned().unwrap(),
            issued_at: Some(1),
            expires_at: None,
            single_use: true,
            status: Some(("https://s.example/1".into(), 42)),
        };
        let stored = Record::new(&c, 5).into_stored("id-1".into(), false);
        for text in [format!("{c:?}"), format!("{stored:?}")] {
            assert!(
                text.contains("urn:example:pid") && text.contains("b1"),
                "{text}"
            );
            for secret in ["SECRET", "Erika", "issuer.example", "key-7", "s.example"] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
        assert!(format!("{stored:?}").contains("id-1"));
    }
}
