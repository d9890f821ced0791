//! `ledger`: run the training-credits ledger, and administer it from the command line. The
//! commands work on the same database and keys as `serve`, with the service stopped or
//! beside it.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use ledger::service::{Config, admin_token_from_dir, open};
use ledger::{AccountRef, Amount};
use zeroize::Zeroizing;

#[derive(Parser)]
#[command(
    name = "ledger",
    version,
    about = "The training-credits ledger: accounts, grants, top-ups, debits with receipts"
)]
struct Cli {
    /// Log as JSON lines (for log collectors).
    #[arg(long, global = true, env = "LEDGER_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service.
    Serve(ServeArgs),
    /// Open a training account; prints its reference (what the training-account credential
    /// carries).
    OpenAccount {
        #[command(flatten)]
        common: Common,
    },
    /// A one-off grant, once per grant id.
    Grant {
        #[command(flatten)]
        common: Common,
        /// The account reference.
        account: String,
        /// Credits to add.
        #[arg(long)]
        amount: String,
        /// The grant's idempotency key (the same id again does nothing more).
        #[arg(long)]
        grant_id: String,
        /// Why (kept in the history).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// The yearly top-up of every open account, up to the cap; safe to run again.
    Topup {
        #[command(flatten)]
        common: Common,
        /// The year.
        #[arg(long)]
        year: u16,
        /// Credits added to each account.
        #[arg(long)]
        amount: String,
        /// No account goes above this balance by a top-up.
        #[arg(long)]
        cap: String,
    },
    /// An account's balance and history.
    Show {
        #[command(flatten)]
        common: Common,
        /// The account reference.
        account: String,
    },
    /// Check every invariant: balances against the history, the hash chains.
    Check {
        #[command(flatten)]
        common: Common,
    },
    /// Print the admin API's bearer token.
    AdminToken {
        #[command(flatten)]
        common: Common,
    },
    /// Development: make the ledger's receipt key under DIR and list it for `issuer
    /// dev-setup --dir DIR`, which signs the trust list.
    DevSetup {
        /// The development directory shared with `issuer dev-setup`.
        #[arg(long, default_value = "dev-data")]
        dir: PathBuf,
    },
}

#[derive(Args)]
struct Common {
    /// SQLite path or postgres:// URL.
    #[arg(
        long,
        env = "LEDGER_DATABASE_URL",
        default_value = "ledger-data/ledger.db"
    )]
    database_url: String,
    /// On PostgreSQL, the schema to work in.
    #[arg(long, env = "LEDGER_DATABASE_SCHEMA")]
    database_schema: Option<String>,
    /// Where keys live (`receipt.jwk`, `admin.token`; made on first run).
    #[arg(long, env = "LEDGER_KEY_DIR", default_value = "ledger-data/keys")]
    key_dir: PathBuf,
    /// The ledger's public URL: `iss` of its receipts, its id in the trust list.
    #[arg(
        long,
        env = "LEDGER_PUBLIC_URL",
        default_value = "https://localhost:8447"
    )]
    public_url: String,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    common: Common,
    /// Where to listen.
    #[arg(long, env = "LEDGER_LISTEN", default_value = "127.0.0.1:8447")]
    listen: SocketAddr,
    /// TLS certificate chain (PEM); with --tls-key.
    #[arg(long, env = "LEDGER_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "LEDGER_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The signed trust list (who is an accredited provider); with --trust-anchor.
    #[arg(long, env = "LEDGER_TRUST_LIST", requires = "trust_anchor")]
    trust_list: Option<PathBuf>,
    /// The trust-list authority's public JWK.
    #[arg(long, env = "LEDGER_TRUST_ANCHOR", requires = "trust_list")]
    trust_anchor: Option<PathBuf>,
    /// The admin token (default: the key directory's `admin.token`).
    #[arg(long, env = "LEDGER_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
}

impl Common {
    fn config(&self) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: self.public_url.clone(),
            database_url: self.database_url.clone(),
            database_schema: self.database_schema.clone(),
            key_dir: self.key_dir.clone(),
            admin_token: None,
            tls: None,
            trust: None,
        }
    }
}

fn amount(text: &str) -> Result<Amount> {
    Ok(Amount::parse(text)?)
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    service_kit::telemetry::init(cli.log_json);
    match cli.command {
        Command::Serve(args) => {
            let mut config = args.common.config();
            config.listen = args.listen;
            config.admin_token = args.admin_token.map(Zeroizing::new);
            config.tls = args.tls_cert.zip(args.tls_key);
            config.trust = args.trust_list.zip(args.trust_anchor);
            ledger::service::serve(config, service_kit::http::shutdown_signal()).await?;
        }
        Command::OpenAccount { common } => {
            let state = open(&common.config()).await?;
            println!("{}", state.ledger.open_account().await?);
        }
        Command::Grant {
            common,
            account,
            amount: credits,
            grant_id,
            reason,
        } => {
            let state = open(&common.config()).await?;
            let account = AccountRef::parse(&account)?;
            let outcome = state
                .ledger
                .grant(&account, &grant_id, amount(&credits)?, &reason)
                .await?;
            if outcome.replayed {
                println!(
                    "granted before: {} credits (nothing added now)",
                    outcome.applied
                );
            } else {
                println!("granted {} credits", outcome.applied);
            }
        }
        Command::Topup {
            common,
            year,
            amount: credits,
            cap,
        } => {
            let state = open(&common.config()).await?;
            let summary = state
                .ledger
                .yearly_topup_all(year, amount(&credits)?, amount(&cap)?)
                .await?;
            println!(
                "{year}: {} open accounts, {} topped up before, {} credits added",
                summary.accounts, summary.replayed, summary.applied
            );
        }
        Command::Show { common, account } => {
            let state = open(&common.config()).await?;
            let account = AccountRef::parse(&account)?;
            let balance = state.ledger.balance(&account).await?;
            println!(
                "{account}: {} — balance {} (granted {}, spent {}, refunded {})",
                if balance.open { "open" } else { "closed" },
                balance.balance,
                balance.granted,
                balance.spent,
                balance.refunded
            );
            for entry in state.ledger.history(&account).await? {
                println!(
                    "  #{:<4} {:<7} {:>10}  {}  {}",
                    entry.seq,
                    entry.kind.name(),
                    entry.amount,
                    entry.created_at,
                    entry.reference
                );
            }
        }
        Command::Check { common } => {
            let state = open(&common.config()).await?;
            let report = state.ledger.check_invariants().await?;
            println!(
                "{} accounts: balances {}, granted {}, spent {}, refunded {}",
                report.accounts, report.balances, report.granted, report.spent, report.refunded
            );
            if !report.violations.is_empty() {
                for violation in &report.violations {
                    eprintln!("violation: {violation}");
                }
                anyhow::bail!("{} invariant violation(s)", report.violations.len());
            }
        }
        Command::DevSetup { dir } => {
            let keys = ledger::local::dev_entities(&dir)?;
            println!("receipt key: {}", keys.join("receipt.jwk").display());
            println!(
                "listed in {}; now run `issuer dev-setup --dir {}` to sign the trust list",
                dir.join("trust/entities.d/ledger.toml").display(),
                dir.display()
            );
        }
        Command::AdminToken { common } => {
            let token = admin_token_from_dir(&common.key_dir).context("reading the admin token")?;
            println!("{}", token.as_str());
        }
    }
    Ok(())
}
