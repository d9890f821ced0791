//! The person's training account as the ledger keeps it: balance, totals and history,
//! fetched from `GET /credits/account` with a fresh presentation of the training-account
//! credential — `account_reference` only, bound to the ledger's URL and a `c_nonce` from
//! `POST /credits/nonce`.

use serde::Deserialize;
use serde_json::{Value, json};

use credential_formats::claims_path::ClaimsPath;
use credential_formats::credentials::CredentialType;
use credential_formats::oid4vci::NonceResponse;
use credential_formats::sd_jwt::{KeyBinding, SdJwt};

use crate::Error;
use crate::keys::AliasSigner;
use crate::store::StoredCredential;
use crate::transport::HttpRequest;
use crate::wallet::Wallet;

/// The store setting naming, per ledger, the copy kept for it (JSON: URL → copy id).
const LEDGER_COPIES: &str = "ledger_account_copies";

/// The one claim shown to the ledger.
const ACCOUNT_REFERENCE: &str = "account_reference";

/// Most history entries accepted in one answer (decades of monthly activity fit many times).
const MAX_ENTRIES: usize = 100_000;

/// Whether the account can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Grants, top-ups and spends are possible.
    Open,
    /// Closed by the agency: the balance stays on record, nothing more moves.
    Closed,
}

/// What an entry of the history did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditsEntryKind {
    /// A one-off grant by the agency.
    Grant,
    /// A yearly top-up (possibly of 0 credits, when the balance was at the cap).
    Topup,
    /// A debit for a course.
    Spend,
    /// Part or all of a debit given back.
    Refund,
    /// A debit cancelled, given back whole.
    Cancel,
}

/// One entry of the account's history.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreditsEntry {
    /// Its place in the account's history, from 1.
    pub seq: u64,
    /// What it did.
    pub kind: CreditsEntryKind,
    /// Credits moved.
    pub amount: u64,
    /// When (seconds since the epoch).
    pub created_at: i64,
    /// For a spend, refund or cancellation: the transaction (the id the person signed).
    #[serde(default)]
    pub transaction_id: Option<String>,
    /// For a spend, refund or cancellation: the training provider.
    #[serde(default)]
    pub provider: Option<String>,
    /// For a spend, refund or cancellation: the course.
    #[serde(default)]
    pub course: Option<String>,
}

/// The account as the ledger shows it to its holder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreditsAccount {
    /// The account reference.
    pub account: String,
    /// Open or closed.
    pub status: AccountStatus,
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

impl Wallet {
    /// Fetches the training account from the credits ledger at `ledger_url`
    /// (`https://host[:port]`, the ledger's public URL).
    ///
    /// A nonce is asked at `{ledger_url}/credits/nonce`; a copy of the training-account
    /// credential is presented disclosing `account_reference` only, key-bound to
    /// `ledger_url`, that nonce and now, in `Authorization: SD-JWT …` of
    /// `GET {ledger_url}/credits/account`. The fetch goes into the transaction log (to whom,
    /// which claim, how it ended). [`Error::NothingToPresent`] when the wallet holds no valid
    /// training account; [`Error::Refused`] with the ledger's error code when it refuses.
    pub async fn credits_account(&self, ledger_url: &str) -> Result<CreditsAccount, Error> {
        let ledger = ledger_url.trim_end_matches('/');
        if !ledger.starts_with("https://") {
            return Err(Error::Protocol("the ledger's URL must be https"));
        }
        // Chosen before anything goes out: without a training account the ledger is never
        // contacted.
        let copy = self.ledger_copy(ledger)?;
        let response = self
            .send(HttpRequest::post(
                format!("{ledger}/credits/nonce"),
                "application/json",
                Vec::new(),
            ))
            .await?;
        if response.status != 200 {
            return Err(Error::Protocol("the ledger gave no nonce"));
        }
        // The ledger's answer also carries `expires_in`, which the parse ignores.
        let nonce = nonce_of(&response.body)?;
        let path = ClaimsPath::keys([ACCOUNT_REFERENCE]).ok_or(Error::Corrupt("claims path"))?;
        let signer = AliasSigner::new(self.keys(), copy.key_alias.clone())?;
        let presentation = SdJwt::parse(&copy.compact)?
            .present(&[path])?
            .bind(
                &KeyBinding::new(ledger, nonce.c_nonce(), self.now()),
                &signer,
            )?
            .serialize();
        let sent = self
            .send(
                HttpRequest::get(format!("{ledger}/credits/account"))
                    .header("Authorization", format!("SD-JWT {presentation}"))
                    .header("Accept", "application/json"),
            )
            .await;
        let answer = match sent {
            Ok(response) if response.status == 200 => parse_account(&response.body),
            Ok(response) => Err(Error::Refused(crate::issuance::error_code(&response.body))),
            Err(e) => Err(e),
        };
        let outcome = match &answer {
            Ok(_) => "fetched",
            Err(Error::Refused(_)) => "refused_by_ledger",
            Err(Error::Protocol(_)) => "malformed_answer",
            Err(_) => "not_delivered",
        };
        self.append_log(&json!({
            "kind": "credits_account",
            "counterparty": {"ledger": ledger},
            "credentials": [{"vct": copy.vct, "claims": [ACCOUNT_REFERENCE]}],
            "outcome": outcome,
        }))?;
        answer
    }

    /// The copy of the training-account credential to present to the ledger.
    ///
    /// Unlike a person attestation, a training account is issued as one reusable credential
    /// (`CredentialType::single_use` is false): its `account_reference` is a stable
    /// identifier that every provider and the ledger see at each spend — each spend's
    /// submission carries the presentation the provider received — so a copy shown to the
    /// ledger here tells it nothing it could not link already. The notices' reasoning (a copy
    /// kept for that one service, never shown to anyone else) is still followed, because it
    /// costs nothing for a reusable credential (it is the same credential every time) and, if
    /// accounts were ever issued in single-use batches, balance checks — frequent — would
    /// then cost one copy in all instead of draining the batch that spends need, and no copy
    /// the ledger saw outside a spend would reach a provider.
    fn ledger_copy(&self, ledger: &str) -> Result<StoredCredential, Error> {
        self.service_copy(
            LEDGER_COPIES,
            "the ledger copies setting",
            ledger,
            is_training_account,
        )
    }
}

fn is_training_account(copy: &StoredCredential) -> bool {
    copy.vct == CredentialType::TrainingAccount.vct()
}

/// The `c_nonce` of the ledger's nonce answer (`{"c_nonce": …, "expires_in": 300}`).
fn nonce_of(body: &[u8]) -> Result<NonceResponse, Error> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| Error::Protocol("the ledger's nonce answer is malformed"))?;
    let c_nonce = value
        .get("c_nonce")
        .and_then(Value::as_str)
        .ok_or(Error::Protocol("the ledger's nonce answer is malformed"))?;
    NonceResponse::new(c_nonce).map_err(|_| Error::Protocol("the ledger's nonce is malformed"))
}

fn parse_account(body: &[u8]) -> Result<CreditsAccount, Error> {
    let account: CreditsAccount = serde_json::from_slice(body)
        .map_err(|_| Error::Protocol("the ledger's account answer is malformed"))?;
    if account.history.len() > MAX_ENTRIES {
        return Err(Error::Protocol("the ledger sent too many entries"));
    }
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_answer_parses_with_spends_named_and_grants_bare() {
        let body = json!({
            "account": "AAAAAAAAAAAAAAAAAAAAAA", "status": "open",
            "balance": 40, "granted": 100, "spent": 60, "refunded": 0,
            "history": [
                {"seq": 1, "kind": "grant", "amount": 100, "created_at": 10},
                {"seq": 2, "kind": "spend", "amount": 60, "created_at": 20,
                 "transaction_id": "enrol-1", "provider": "https://academy.example",
                 "course": "WELD-101"}
            ]
        });
        let account = parse_account(body.to_string().as_bytes()).unwrap();
        assert_eq!(account.status, AccountStatus::Open);
        assert_eq!(account.history[0].kind, CreditsEntryKind::Grant);
        assert_eq!(account.history[0].provider, None);
        assert_eq!(account.history[1].course.as_deref(), Some("WELD-101"));
    }

    #[test]
    fn an_answer_of_another_shape_is_a_protocol_error() {
        for body in [
            json!({"account": "A", "status": "frozen", "balance": 0, "granted": 0,
                   "spent": 0, "refunded": 0, "history": []}),
            json!({"account": "A", "status": "open", "balance": -1, "granted": 0,
                   "spent": 0, "refunded": 0, "history": []}),
            json!({"account": "A", "status": "open", "balance": 0, "granted": 0,
                   "spent": 0, "refunded": 0,
                   "history": [{"seq": 1, "kind": "gift", "amount": 1, "created_at": 0}]}),
        ] {
            assert!(matches!(
                parse_account(body.to_string().as_bytes()),
                Err(Error::Protocol(_))
            ));
        }
        assert!(matches!(nonce_of(b"{}"), Err(Error::Protocol(_))));
        assert_eq!(
            nonce_of(br#"{"c_nonce": "n-1", "expires_in": 300}"#)
                .unwrap()
                .c_nonce(),
            "n-1"
        );
    }
}
