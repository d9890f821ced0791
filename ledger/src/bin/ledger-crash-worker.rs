//! Test tool (feature `test-tools`): runs a stream of grants, spends and cancellations with
//! known ids against a SQLite ledger file, printing each acknowledged one, until killed.
//! `ledger/tests/crash` SIGKILLs it at random moments and checks the file after each kill.
//!
//! Usage: `ledger-crash-worker <sqlite file> <first operation number>`.
//! Operation `n`: every 5th a grant `g<n>`; every 7th (n % 7 == 3) a cancellation of
//! `t<n-1>`; otherwise a spend `t<n>` of `1 + n % 5` credits from account `n % 4`.

use std::io::Write as _;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use credential_formats::crypto::{AwsLc, CryptoProvider, SecretKey, SignatureAlgorithm};
use credential_formats::time::SystemClock;
use ledger::{Amount, Ledger, ReceiptSigner, SpendOutcome, SpendRequest, SqlStore};

const ACCOUNTS: usize = 4;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, start] = args.as_slice() else {
        bail!("usage: ledger-crash-worker <sqlite file> <first operation number>");
    };
    let start: u64 = start.parse().context("operation number")?;
    let db = service_kit::Db::connect(path).await?;
    let store = Arc::new(SqlStore::open(db).await?);
    let key = SecretKey::generate(SignatureAlgorithm::Es256)?;
    let signer = ReceiptSigner::new("crash-worker", None, AwsLc.signer(&key)?);
    let ledger = Ledger::new(store.clone(), Arc::new(SystemClock), Arc::new(signer));
    let mut accounts = ledger::LedgerStore::open_accounts(store.as_ref()).await?;
    while accounts.len() < ACCOUNTS {
        ledger.open_account().await?;
        accounts = ledger::LedgerStore::open_accounts(store.as_ref()).await?;
    }
    let mut out = std::io::stdout().lock();
    for n in start.. {
        let account = &accounts[usize::try_from(n % 4)?];
        let line = if n % 5 == 0 {
            let g = ledger
                .grant(account, &format!("g{n}"), Amount::new(20)?, "crash test")
                .await?;
            format!("ack grant g{n} {}", g.applied)
        } else if n % 7 == 3 {
            match ledger.cancel(&format!("t{}", n - 1)).await {
                Ok(t) => format!("ack cancel t{} {}", n - 1, t.returned),
                Err(e) => format!("nak cancel t{} {}", n - 1, e.code()),
            }
        } else {
            let request = SpendRequest {
                transaction_id: format!("t{n}"),
                account: account.clone(),
                provider: "provider-1".into(),
                course: "course-1".into(),
                amount: Amount::new(1 + n % 5)?,
                price: Amount::new(5)?,
                body_digest: [7; 32],
            };
            match ledger.spend(&request).await {
                Ok(SpendOutcome::Captured(_)) => format!("ack spend t{n} captured"),
                Ok(SpendOutcome::Replayed(_)) => format!("ack spend t{n} replayed"),
                Err(e) => format!("nak spend t{n} {}", e.code()),
            }
        };
        writeln!(out, "{n} {line}")?;
        out.flush()?;
    }
    Ok(())
}
