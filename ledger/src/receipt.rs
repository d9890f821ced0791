//! Signed receipts of debits: compact JWS ES256, `typ: credits-receipt+jwt`.
//!
//! Claims: `iss` (the ledger), `jti` (the transaction id), `provider`, `course`, `amount`,
//! `iat`, `txn` (base64url SHA-256 of the request's body digest). No balance and no account
//! reference: the provider already holds the transaction id, course, amount and its own
//! request, so the receipt tells it nothing new beyond "debited"; a receipt shown onward
//! (to an auditor, a funder) carries no handle that links the learner's other courses.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential_formats::crypto::{CryptoProvider, PublicKey, Signer};
use credential_formats::jose::{DecodedJws, JoseError, JwsHeader, sign_compact};
use credential_formats::json::JsonError;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::{Amount, Receipt};

/// The `typ` of a receipt.
pub const RECEIPT_TYP: &str = "credits-receipt+jwt";

/// What a receipt says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptClaims {
    /// The ledger's identifier.
    pub iss: String,
    /// The transaction id.
    pub jti: String,
    /// The provider.
    pub provider: String,
    /// The course.
    pub course: String,
    /// Credits debited.
    pub amount: Amount,
    /// When it was debited.
    pub iat: i64,
    /// base64url(SHA-256(body digest)).
    pub txn: String,
}

/// `txn` for a body digest.
pub fn txn_claim(body_digest: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(body_digest))
}

/// The ledger's receipt key and name. The key is the `credits_ledger` role's key in the
/// trust list; it is held by the signer (software key or HSM), never by this type's callers.
#[derive(Debug)]
pub struct ReceiptSigner {
    issuer: String,
    kid: Option<String>,
    signer: Box<dyn Signer>,
}

impl ReceiptSigner {
    /// A signer issuing as `issuer`, naming `kid` in the header when given.
    pub fn new(issuer: impl Into<String>, kid: Option<String>, signer: Box<dyn Signer>) -> Self {
        ReceiptSigner {
            issuer: issuer.into(),
            kid,
            signer,
        }
    }

    /// The ledger's identifier (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key receipts verify with.
    pub fn public_key(&self) -> PublicKey {
        self.signer.public_key()
    }

    /// Signs a receipt.
    pub(crate) fn sign(&self, claims: &ReceiptClaims) -> Result<Receipt, JoseError> {
        let mut header = JwsHeader::new(RECEIPT_TYP);
        if let Some(kid) = &self.kid {
            header = header.with_kid(kid.clone());
        }
        let payload = json!({
            "iss": claims.iss,
            "jti": claims.jti,
            "provider": claims.provider,
            "course": claims.course,
            "amount": claims.amount.get(),
            "iat": claims.iat,
            "txn": claims.txn,
        });
        let bytes =
            serde_json::to_vec(&payload).map_err(|_| JoseError::InvalidHeader("payload"))?;
        Ok(Receipt(sign_compact(
            &header,
            &bytes,
            self.signer.as_ref(),
        )?))
    }
}

/// Verifies a receipt with the ledger's key and returns its claims.
pub fn verify_receipt(
    receipt: &Receipt,
    provider: &dyn CryptoProvider,
    key: &PublicKey,
) -> Result<ReceiptClaims, JoseError> {
    let verified = DecodedJws::decode(&receipt.0)?.verify(provider, key, RECEIPT_TYP)?;
    let claims = verified.claims(16 * 1024)?;
    let text = |name: &'static str| {
        claims
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| claim_error(name))
    };
    let amount = claims
        .get("amount")
        .and_then(|v| Amount::from_json(v).ok())
        .ok_or_else(|| claim_error("amount"))?;
    let iat = claims
        .get("iat")
        .and_then(|v| v.as_i64())
        .ok_or_else(|| claim_error("iat"))?;
    Ok(ReceiptClaims {
        iss: text("iss")?,
        jti: text("jti")?,
        provider: text("provider")?,
        course: text("course")?,
        amount,
        iat,
        txn: text("txn")?,
    })
}

fn claim_error(name: &str) -> JoseError {
    JoseError::Json {
        part: "receipt claims",
        source: JsonError::Schema(format!("missing or invalid `{name}`")),
    }
}
