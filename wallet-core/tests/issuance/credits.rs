//! `Wallet::credits_account` against the real ledger service: the State issuer issues the
//! training account (with the reference the ledger opened), the ledger on its own loopback
//! port checks the wallet's presentation against the same development trust list.

use credential_formats::time::{Clock, SystemClock};
use ledger::service::{Config, open, run};
use ledger::{AccountRef, Amount, SpendRequest};
use serde_json::json;
use wallet_core::{AccountStatus, CreditsEntryKind, Error, Wallet};

use super::Stack;

const ACCOUNT: &str = "urn:be:identity:training-account:1";
const ACADEMY: &str = "https://academy.localhost";

/// A ledger served over TLS (the issuer's development certificate for `localhost`), trusting
/// the stack's trust list. Stops when dropped.
struct LocalLedger {
    base: String,
    state: ledger::service::AppState,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start_ledger(stack: &Stack) -> LocalLedger {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let root = stack.dir.path();
    let tls_dir = stack.ca_file.parent().unwrap().to_owned();
    let tls = (tls_dir.join("server.pem"), tls_dir.join("server.key"));
    let config = Config {
        listen: listener.local_addr().unwrap(),
        public_url: base.clone(),
        database_url: root.join("ledger.db").display().to_string(),
        database_schema: None,
        key_dir: root.join("ledger-keys"),
        admin_token: None,
        tls: Some(tls.clone()),
        trust: Some((root.join("trust/trust-list.jwt"), stack.anchor.clone())),
    };
    let state = open(&config).await.unwrap();
    let served = state.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        run(served, listener, Some(&tls), async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    LocalLedger {
        base,
        state,
        _stop: stop,
    }
}

impl Stack {
    /// Issues the demo citizen a training account with `reference` into `wallet`.
    async fn issue_training_account(&self, wallet: &Wallet, reference: &str) {
        let enrolment: issuer::register::Enrolment = serde_json::from_value(json!({
            "family_name": "Peeters", "given_name": "An", "birthdate": "1990-05-01",
            "nationalities": ["BE"], "personal_administrative_number": "90050112345",
            "address": {"street_address": "Veldstraat 1", "locality": "Gent", "country": "BE"}
        }))
        .unwrap();
        let person = self.issuer.enrol(enrolment).await.unwrap();
        let offer = self
            .issuer
            .create_offer(issuer::OfferRequest {
                person_id: Some(person.person_id),
                credential_configuration_ids: vec!["training_account_sd_jwt".into()],
                payload: issuer::issuance::OfferPayload {
                    training_account: Some(issuer::issuance::TrainingAccount {
                        account_reference: reference.into(),
                    }),
                    qualification: None,
                },
                by_value: false,
            })
            .await
            .unwrap();
        wallet
            .receive_offer(&offer.offer_uri)
            .await
            .unwrap()
            .accept(Some(&offer.tx_code))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_wallet_reads_its_balance_and_history_with_one_kept_copy() {
    let stack = Stack::start().await;
    let ledger = start_ledger(&stack).await;
    let wallet = stack.wallet("wallet.db");

    // No training account: nothing goes out.
    assert_eq!(
        wallet.credits_account(&ledger.base).await.unwrap_err(),
        Error::NothingToPresent
    );

    let account = ledger.state.ledger.open_account().await.unwrap();
    ledger
        .state
        .ledger
        .grant(
            &account,
            "welcome-2026",
            Amount::new(100).unwrap(),
            "welcome",
        )
        .await
        .unwrap();
    ledger
        .state
        .ledger
        .spend(&SpendRequest {
            transaction_id: "enrol-0001-aaaaaaaa".into(),
            account: account.clone(),
            provider: ACADEMY.into(),
            course: "WELD-101".into(),
            amount: Amount::new(60).unwrap(),
            price: Amount::new(60).unwrap(),
            body_digest: [7; 32],
        })
        .await
        .unwrap();
    stack
        .issue_training_account(&wallet, account.as_str())
        .await;
    let batch = wallet
        .credentials()
        .unwrap()
        .into_iter()
        .find(|c| c.vct == ACCOUNT)
        .unwrap()
        .batch_id;
    let before = wallet.unused_copies(&batch).unwrap();

    let shown = wallet
        .credits_account(&format!("{}/", ledger.base))
        .await
        .unwrap();
    assert_eq!(shown.account, account.as_str());
    assert_eq!(shown.status, AccountStatus::Open);
    assert_eq!(
        (shown.balance, shown.granted, shown.spent, shown.refunded),
        (40, 100, 60, 0)
    );
    assert_eq!(shown.history.len(), 2);
    assert_eq!(shown.history[0].kind, CreditsEntryKind::Grant);
    assert_eq!(shown.history[0].transaction_id, None);
    let spend = &shown.history[1];
    assert_eq!(
        (
            spend.kind,
            spend.amount,
            spend.transaction_id.as_deref(),
            spend.provider.as_deref(),
            spend.course.as_deref()
        ),
        (
            CreditsEntryKind::Spend,
            60,
            Some("enrol-0001-aaaaaaaa"),
            Some(ACADEMY),
            Some("WELD-101")
        )
    );
    let now = SystemClock.now();
    assert!((now - 30..=now).contains(&spend.created_at));

    // A second fetch (a fresh nonce) answers the same; the account is one reusable
    // credential, kept for the ledger and never used up.
    let again = wallet.credits_account(&ledger.base).await.unwrap();
    assert_eq!(again, shown);
    assert_eq!(wallet.unused_copies(&batch).unwrap(), before);

    // The log says what went to whom: the claim's name, never the reference.
    let log = wallet.log().unwrap();
    let fetches: Vec<_> = log
        .iter()
        .filter(|(_, e)| e["kind"] == "credits_account")
        .map(|(_, e)| e.clone())
        .collect();
    assert_eq!(fetches.len(), 2);
    assert_eq!(
        fetches[1],
        json!({
            "kind": "credits_account",
            "counterparty": {"ledger": ledger.base},
            "credentials": [{"vct": ACCOUNT, "claims": ["account_reference"]}],
            "outcome": "fetched",
        })
    );
    assert!(
        !log.iter()
            .any(|(_, e)| e.to_string().contains(account.as_str()))
    );
}

#[tokio::test]
async fn an_account_the_ledger_does_not_know_is_refused_and_logged() {
    let stack = Stack::start().await;
    let ledger = start_ledger(&stack).await;
    let wallet = stack.wallet("wallet.db");
    let unknown = AccountRef::generate().unwrap();
    stack
        .issue_training_account(&wallet, unknown.as_str())
        .await;
    assert_eq!(
        wallet.credits_account(&ledger.base).await.unwrap_err(),
        Error::Refused("unknown_account".into())
    );
    let (_, last) = wallet.log().unwrap().pop().unwrap();
    assert_eq!(last["outcome"], "refused_by_ledger");
    // Not https: refused before anything goes out.
    assert!(matches!(
        wallet.credits_account("http://localhost:1").await,
        Err(Error::Protocol(_))
    ));
}
