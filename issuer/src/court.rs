//! The State register's side of a court order: `POST /register/resolve`.
//!
//! The court sends the judge-signed order, the person handle it opened from the verifier's
//! escrow record, and the verifier's log proof (the `log` object of the verifier's answer).
//! The register resolves the handle only when all of this holds:
//! 1. the order verifies against the trust list (a judge's key, valid, fresh, one account);
//! 2. the order is in the verifier's transparency log: the verifier's checkpoint verifies with
//!    the log key the trust list gives that verifier, and the inclusion proof of the logged
//!    entry — which names this order's digest — leads to its root;
//! 3. the order's `jti` was never resolved here before.
//!
//! The resolution is appended to the register's own log in the transaction that records it,
//! before anything is returned; the entry holds digests and times, no personal data. The
//! register never sees the account: it learns which platform the order concerns (the order
//! names it), never the pseudonym's owner until the court hands it the handle.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use credential_formats::court_order::{CourtOrder, verify_order};
use credential_formats::crypto::AwsLc;
use credential_formats::translog::{self, Hash};
use credential_formats::trust_list::Role;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::store::NewResolution;
use crate::{Error, Issuer};

/// The largest log proof accepted: 64 hashes cover a log of 2^64 entries.
const MAX_PROOF: usize = 64;

/// The verifier's proof that an order is in its log: the `log` object of its answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogProof {
    /// The entry's index.
    pub index: u64,
    /// The entry, base64.
    pub entry: String,
    /// The size of the tree the checkpoint signs.
    pub tree_size: u64,
    /// The signed checkpoint (C2SP signed note).
    pub checkpoint: String,
    /// The inclusion proof, base64 hashes.
    pub inclusion_proof: Vec<String>,
}

/// The body of `POST /register/resolve`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// The compact, judge-signed order.
    pub order: String,
    /// The person handle the court opened from the escrow record.
    pub person_handle: String,
    /// The verifier's log proof of the order.
    pub verifier_log: LogProof,
}

/// What the court receives.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// The handle resolved.
    pub person_handle: String,
    /// The person's attributes, or `Value::Null` when the register holds no such handle.
    pub person: Value,
    /// The register's log entry for the resolution.
    pub entry: Vec<u8>,
    /// Its index.
    pub index: u64,
    /// A signed checkpoint that includes it.
    pub checkpoint: String,
    /// That checkpoint's tree size.
    pub tree_size: u64,
    /// The entry's inclusion proof.
    pub inclusion_proof: Vec<Hash>,
    /// When the order was received.
    pub received_at: i64,
    /// When it was answered.
    pub answered_at: i64,
    /// The order's deadline.
    pub deadline: i64,
}

impl Resolution {
    /// Whether the handle named a person of the register.
    pub fn found(&self) -> bool {
        !self.person.is_null()
    }

    /// The JSON answer.
    pub fn to_json(&self) -> Value {
        json!({
            "person_handle": self.person_handle,
            "person": self.person,
            "log": {
                "index": self.index,
                "entry": STANDARD.encode(&self.entry),
                "tree_size": self.tree_size,
                "checkpoint": self.checkpoint,
                "inclusion_proof": self.inclusion_proof.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
            },
            "received_at": self.received_at,
            "answered_at": self.answered_at,
            "deadline": self.deadline,
        })
    }
}

/// SHA-256 of the canonical JSON text of what is returned (members sorted by name, no white
/// space: `credential_formats::json::canonical`): the log entry's commitment to the answer.
pub fn returned_commitment(person: &Value) -> [u8; 32] {
    Sha256::digest(credential_formats::json::canonical(person)).into()
}

fn valid_handle(handle: &str) -> bool {
    handle.len() == 43
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Issuer {
    /// Checks that `proof` shows `order` in the log of a verifier of the trust list; the log's
    /// origin.
    fn check_logged(
        &self,
        order: &CourtOrder,
        proof: &LogProof,
        now: i64,
    ) -> Result<String, Error> {
        let list = &self
            .trust_list()
            .ok_or_else(|| Error::Config("the register needs the trust list".into()))?
            .list;
        let origin = proof
            .checkpoint
            .split('\n')
            .next()
            .ok_or(Error::NotLogged("the checkpoint is malformed"))?;
        let log = list
            .entities()
            .iter()
            .filter(|e| e.has_role(Role::Verifier) && e.check_valid_at(now).is_ok())
            .filter_map(|e| e.transparency_log())
            .find(|log| log.origin() == origin)
            .ok_or(Error::NotLogged(
                "the checkpoint is of no verifier's log in the trust list",
            ))?;
        let checkpoint = log
            .verify_checkpoint(&proof.checkpoint, &AwsLc)
            .map_err(|_| Error::NotLogged("the checkpoint's signature does not verify"))?;
        if checkpoint.size != proof.tree_size {
            return Err(Error::NotLogged("tree_size is not the checkpoint's"));
        }
        if proof.inclusion_proof.len() > MAX_PROOF {
            return Err(Error::NotLogged("the inclusion proof is too long"));
        }
        let hashes = proof
            .inclusion_proof
            .iter()
            .map(|h| STANDARD.decode(h).ok().and_then(|h| Hash::try_from(h).ok()))
            .collect::<Option<Vec<Hash>>>()
            .ok_or(Error::NotLogged("the inclusion proof is malformed"))?;
        let entry = STANDARD
            .decode(&proof.entry)
            .map_err(|_| Error::NotLogged("the entry is not base64"))?;
        translog::verify_inclusion(
            proof.index,
            proof.tree_size,
            &translog::leaf_hash(&entry),
            &hashes,
            &checkpoint.root,
        )
        .map_err(|_| Error::NotLogged("the inclusion proof does not lead to the checkpoint"))?;
        let entry: Value = serde_json::from_slice(&entry)
            .map_err(|_| Error::NotLogged("the entry is not JSON"))?;
        if entry["type"] != "court_order" {
            return Err(Error::NotLogged("the entry is not a court order's"));
        }
        if entry["order_sha256"] != URL_SAFE_NO_PAD.encode(order.digest()) {
            return Err(Error::NotLogged("the entry is another order's"));
        }
        Ok(log.origin().to_owned())
    }

    /// Resolves a court order's person handle (see the module documentation).
    pub async fn resolve(&self, request: &ResolveRequest) -> Result<Resolution, Error> {
        let log = self
            .register_log()
            .ok_or(Error::NotFound("register"))?
            .clone();
        let received_at = self.now();
        let list = &self
            .trust_list()
            .ok_or_else(|| Error::Config("the register needs the trust list".into()))?
            .list;
        let order = verify_order(request.order.trim(), list, &AwsLc, received_at)?;
        if !valid_handle(&request.person_handle) {
            return Err(Error::Invalid(
                "person_handle: 43 base64url characters".into(),
            ));
        }
        let origin = self.check_logged(&order, &request.verifier_log, received_at)?;
        let person = self
            .store()
            .person_by_handle(&request.person_handle)
            .await?;
        let (person_id, attributes) = match person {
            Some(p) => (Some(p.id), Value::Object(p.attributes)),
            None => (None, Value::Null),
        };
        // No personal data: digests, the verifier log's place, times, whether found.
        let entry = json!({
            "type": "register_resolution",
            "order_sha256": URL_SAFE_NO_PAD.encode(order.digest()),
            "verifier_log": {
                "origin": origin,
                "index": request.verifier_log.index,
                "tree_size": request.verifier_log.tree_size,
            },
            "received_at": received_at,
            "deadline": order.deadline(),
            "found": person_id.is_some(),
            "returned_sha256": URL_SAFE_NO_PAD.encode(returned_commitment(&attributes)),
        })
        .to_string()
        .into_bytes();
        let resolution = NewResolution {
            jti: order.jti().to_owned(),
            order_digest: *order.digest(),
            person_id,
            case_number: order.case().to_owned(),
            ground: order.ground().to_owned(),
            platform_id: order.platform().to_owned(),
            judge: order.judge().to_owned(),
            received_at,
            deadline: order.deadline(),
            embargo_until: order.embargo_until(),
        };
        let index = self
            .store()
            .log_resolution(&resolution, &entry, &log)
            .await?
            .ok_or(Error::OrderReplayed)?;
        let (checkpoint, tree_size, inclusion_proof) = log
            .checkpoint_with_proof(index)
            .await
            .map_err(|e| Error::Log(e.to_string()))?;
        let answered_at = self.now();
        self.store()
            .resolution_answered(order.jti(), answered_at)
            .await?;
        tracing::info!(
            log_index = index,
            found = !attributes.is_null(),
            elapsed = answered_at - received_at,
            "court order resolved"
        );
        Ok(Resolution {
            person_handle: request.person_handle.clone(),
            person: attributes,
            entry,
            index,
            checkpoint,
            tree_size,
            inclusion_proof,
            received_at,
            answered_at,
            deadline: order.deadline(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commitment_is_over_sorted_compact_json() {
        let person = json!({"given_name": "Ada", "family_name": "Lovelace"});
        let text = br#"{"family_name":"Lovelace","given_name":"Ada"}"#;
        let expected: [u8; 32] = Sha256::digest(text).into();
        assert_eq!(returned_commitment(&person), expected);
        let none: [u8; 32] = Sha256::digest(b"null").into();
        assert_eq!(returned_commitment(&Value::Null), none);
    }

    #[test]
    fn handles_are_43_base64url_characters() {
        assert!(valid_handle(&"A".repeat(43)));
        assert!(valid_handle(
            &"-_".repeat(21).chars().chain(['x']).collect::<String>()
        ));
        for bad in [
            "",
            &"A".repeat(42),
            &"A".repeat(44),
            &format!("{}=", "A".repeat(42)),
        ] {
            assert!(!valid_handle(bad), "{bad}");
        }
    }
}
