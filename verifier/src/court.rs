//! Court orders at the verifier: `POST /court/orders`. A judge-signed order naming one
//! account is verified against the trust list, recorded once (by `jti`) and **appended to
//! the transparency log first**, in the same transaction; only then are that account's
//! sealed escrow records returned, with the log entry, a signed checkpoint and the entry's
//! inclusion proof. The verifier cannot read the records: they open with the court's
//! threshold key only.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use credential_formats::court_order::{CourtOrder, verify_order};
use credential_formats::crypto::AwsLc;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::store::{ReceivedOrder, SealedRecordRow};
use crate::{Error, Verifier};

/// What the court receives for an order.
#[derive(Debug, Clone)]
pub struct CourtAnswer {
    /// The order, as verified.
    pub order: CourtOrder,
    /// The account's sealed escrow records (none if the account never verified).
    pub records: Vec<SealedRecordRow>,
    /// The transparency log entry written for the order.
    pub entry: Vec<u8>,
    /// Its index in the log.
    pub index: u64,
    /// A signed checkpoint that includes it.
    pub checkpoint: String,
    /// The checkpoint's tree size.
    pub tree_size: u64,
    /// The entry's inclusion proof in that checkpoint.
    pub inclusion_proof: Vec<[u8; 32]>,
    /// When the order was received.
    pub received_at: i64,
    /// When it was answered.
    pub answered_at: i64,
}

/// SHA-256 over the sealed records returned, each followed by a newline: what the log
/// entry commits to, so the court can show later exactly what it was given.
pub fn records_commitment(records: &[SealedRecordRow]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for record in records {
        hash.update(record.sealed.as_bytes());
        hash.update(b"\n");
    }
    hash.finalize().into()
}

impl Verifier {
    /// Answers a court order (see the module documentation).
    pub async fn court_order(&self, compact: &str) -> Result<CourtAnswer, Error> {
        let received_at = self.now();
        let order = verify_order(compact, &self.trust_list(), &AwsLc, received_at)?;
        self.store()
            .platform(order.platform())
            .await?
            .ok_or(Error::NotFound)?;
        let records = self
            .store()
            .escrow_records(order.platform(), order.pseudonym())
            .await?;
        // No personal data: the order's digest, times and a commitment to the answer.
        let entry = json!({
            "type": "court_order",
            "order_sha256": URL_SAFE_NO_PAD.encode(order.digest()),
            "received_at": received_at,
            "deadline": order.deadline(),
            "records": records.len(),
            "returned_sha256": URL_SAFE_NO_PAD.encode(records_commitment(&records)),
        })
        .to_string()
        .into_bytes();
        let received = ReceivedOrder {
            jti: order.jti().to_owned(),
            digest: *order.digest(),
            platform_id: order.platform().to_owned(),
            received_at,
            deadline: order.deadline(),
            records: i64::try_from(records.len()).map_err(|_| Error::Corrupt("record count"))?,
        };
        let index = self
            .store()
            .log_order(&received, &entry, self.log())
            .await?
            .ok_or(Error::OrderReplayed)?;
        let (checkpoint, tree_size, inclusion_proof) = self
            .log()
            .checkpoint_with_proof(index)
            .await
            .map_err(|e| Error::Log(e.to_string()))?;
        let answered_at = self.now();
        self.store()
            .order_answered(order.jti(), answered_at)
            .await?;
        tracing::info!(
            log_index = index,
            records = records.len(),
            elapsed = answered_at - received_at,
            "court order answered"
        );
        Ok(CourtAnswer {
            order,
            records,
            entry,
            index,
            checkpoint,
            tree_size,
            inclusion_proof,
            received_at,
            answered_at,
        })
    }
}

impl CourtAnswer {
    /// The JSON answer of `POST /court/orders`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "platform": self.order.platform(),
            "pseudonym": self.order.pseudonym(),
            "records": self.records.iter().map(|r| json!({
                "id": r.id, "check_id": r.check_id, "created_at": r.created_at, "sealed": r.sealed,
            })).collect::<Vec<_>>(),
            "log": {
                "index": self.index,
                "entry": STANDARD.encode(&self.entry),
                "tree_size": self.tree_size,
                "checkpoint": self.checkpoint,
                "inclusion_proof": self.inclusion_proof.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
            },
            "received_at": self.received_at,
            "answered_at": self.answered_at,
            "deadline": self.order.deadline(),
        })
    }
}
