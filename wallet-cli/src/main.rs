//! `wallet`: the command-line wallet. Keys are software keys sealed in the wallet's store;
//! the storage key is a 0600 file beside it. Everything else is `wallet-core`, exactly as a
//! phone app uses it.
//!
//! Exit codes scripts can rely on: 0 done; 1 usage or local error; 2 refused by the server
//! (a wrong `tx_code`, an expired offer); 3 not trusted (trust list, issuer, certificate
//! chain of the trust list); 4 network; 5 the person declined; 6 nothing in the wallet
//! answers the request (the verifier is told no more than for a refusal).

use std::io::{BufRead, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::{Parser, Subcommand};
use credential_formats::time::SystemClock;
use serde::{Deserialize, Serialize};
use wallet_core::{DefaultTransport, Error, Wallet, WalletConfig};
use zeroize::Zeroizing;

#[derive(Parser)]
#[command(name = "wallet", version, about = "The command-line wallet")]
struct Cli {
    /// The wallet's directory.
    #[arg(long, env = "WALLET_DIR", default_value = "wallet-data", global = true)]
    dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a wallet: its store, its storage key, and whom it trusts.
    Init {
        /// The URL of the signed trust list.
        #[arg(long)]
        trust_list: String,
        /// The trust-list authority's public JWK (file): the wallet's root of trust.
        #[arg(long)]
        anchor: PathBuf,
        /// Trust only this CA for TLS (the local stack's development CA).
        #[arg(long)]
        ca_cert: Option<PathBuf>,
    },
    /// Receive the credentials of an offer (`openid-credential-offer://…`).
    Receive {
        /// The offer link.
        offer: String,
        /// The transaction code (asked for when absent).
        #[arg(long)]
        tx_code: Option<String>,
        /// Accept without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Answer a presentation request (`openid4vp://…`): shows who asks what, on whose behalf,
    /// and asks before sharing.
    Present {
        /// The request link.
        request: String,
        /// Share without asking.
        #[arg(long)]
        yes: bool,
    },
    /// List the stored credentials.
    List,
    /// Show one credential's claims.
    Show {
        /// The credential's id (from `list`).
        id: String,
    },
    /// Fetch the notices of court openings concerning you from the State register, once
    /// their embargo is over (the register sees your person handle only).
    Notices {
        /// The register's URL: the issuer of your person attestation (`https://host[:port]`).
        #[arg(long)]
        register: String,
    },
    /// The backpack: every qualification you hold, the most recent first (showing one to an
    /// employer is `present` with the employer's request).
    Backpack,
    /// Show your training account's balance and history at the credits ledger (the ledger
    /// sees your account reference only).
    Credits {
        /// The ledger's URL (`https://host[:port]`).
        #[arg(long)]
        ledger: String,
    },
    /// Show the transaction log.
    Log,
    /// Write the transaction log as JSON to standard output.
    ExportLog,
}

/// `wallet.toml`.
#[derive(Serialize, Deserialize)]
struct Settings {
    trust_list_url: String,
    /// Relative to the wallet's directory.
    anchor: String,
    ca_cert: Option<String>,
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

fn storage_key(dir: &Path) -> Result<Zeroizing<[u8; 32]>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(dir.join("storage.key"))
            .context("no wallet here: run `wallet init` first")?,
    );
    let bytes = Zeroizing::new(
        URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| anyhow!("storage.key is damaged"))?,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        bail!("storage.key is damaged");
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

fn open(dir: &Path) -> Result<Wallet> {
    let settings: Settings = toml::from_str(
        &std::fs::read_to_string(dir.join("wallet.toml"))
            .context("no wallet here: run `wallet init` first")?,
    )
    .context("wallet.toml is damaged")?;
    let anchor = std::fs::read_to_string(dir.join(&settings.anchor))?;
    let anchor = credential_formats::jose::Jwk::from_value(
        &serde_json::from_str(&anchor).context("the anchor is not JSON")?,
    )
    .map_err(|_| anyhow!("the anchor is not a public JWK"))?;
    let transport = match &settings.ca_cert {
        Some(ca) => DefaultTransport::trusting_only(&std::fs::read(dir.join(ca))?)?,
        None => DefaultTransport::new()?,
    };
    Ok(Wallet::open(
        &dir.join("wallet.db"),
        storage_key(dir)?,
        None,
        Arc::new(transport),
        WalletConfig::new(settings.trust_list_url, anchor),
        Arc::new(SystemClock),
    )?)
}

fn progress(text: &str) {
    eprintln!("… {text}");
}

fn ask(prompt: &str) -> Result<String> {
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

/// The exit code for an error, so scripts can tell a refusal from a network failure.
fn exit_code(e: &anyhow::Error) -> u8 {
    match e.downcast_ref::<Error>() {
        Some(Error::Refused(_)) => 2,
        Some(Error::Untrusted(_)) => 3,
        Some(Error::Transport(_)) => 4,
        Some(Error::NothingToPresent) => 6,
        _ if e.to_string() == DECLINED => 5,
        _ => 1,
    }
}

const DECLINED: &str = "declined";

/// How a training-credits spend reads before consent: "Spend N training credits on <course>
/// (<title>) at <provider name> — transaction <id>".
fn spend_line(spend: &wallet_core::SpendSummary) -> String {
    let title = spend
        .course_title
        .as_ref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    let unit = if spend.amount == 1 {
        "credit"
    } else {
        "credits"
    };
    format!(
        "Spend {} training {unit} on {}{title} at {} \u{2014} transaction {}",
        spend.amount, spend.course, spend.provider_name, spend.transaction_id
    )
}

async fn run(cli: Cli) -> Result<()> {
    let dir = &cli.dir;
    match cli.command {
        Command::Init {
            trust_list,
            anchor,
            ca_cert,
        } => {
            if dir.join("wallet.toml").exists() {
                bail!("a wallet already exists in {}", dir.display());
            }
            std::fs::create_dir_all(dir)?;
            std::fs::copy(&anchor, dir.join("anchor.jwk"))
                .with_context(|| format!("reading {}", anchor.display()))?;
            let ca = match ca_cert {
                Some(path) => {
                    std::fs::copy(&path, dir.join("ca.pem"))
                        .with_context(|| format!("reading {}", path.display()))?;
                    Some("ca.pem".to_owned())
                }
                None => None,
            };
            let mut key = Zeroizing::new([0u8; 32]);
            credential_formats::crypto::fill_random(&mut key[..])
                .map_err(|_| anyhow!("no randomness available"))?;
            write_private(
                &dir.join("storage.key"),
                URL_SAFE_NO_PAD.encode(&key[..]).as_bytes(),
            )?;
            let settings = Settings {
                trust_list_url: trust_list,
                anchor: "anchor.jwk".into(),
                ca_cert: ca,
            };
            std::fs::write(dir.join("wallet.toml"), toml::to_string(&settings)?)?;
            // The store file is made 0600 before SQLite opens it (SQLite gives its -wal and
            // -shm the same mode); its contents are sealed anyway, but its size and times
            // are nobody else's business.
            write_private(&dir.join("wallet.db"), b"")?;
            std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
            // Create the store now, so a wrong directory shows at once.
            open(dir)?;
            println!("wallet created in {}", dir.display());
        }
        Command::Receive {
            offer,
            tx_code,
            yes,
        } => {
            let wallet = open(dir)?;
            progress("fetching the offer, the issuer's metadata and the trust list");
            let session = wallet.receive_offer(&offer).await?;
            let summary = session.summary().clone();
            println!("{} ({}) offers:", summary.issuer_name, summary.issuer);
            for (_, labels) in &summary.credentials {
                println!("  - {}", labels[0]);
            }
            if !yes && !ask("Accept? [y/N] ")?.eq_ignore_ascii_case("y") {
                bail!(DECLINED);
            }
            let tx_code = match (tx_code, &summary.tx_code) {
                (Some(code), _) => Some(code),
                (None, Some((length, description))) => {
                    if let Some(d) = description {
                        eprintln!("{d}");
                    }
                    let prompt = match length {
                        Some(n) => format!("Transaction code ({n} digits): "),
                        None => "Transaction code: ".to_owned(),
                    };
                    Some(ask(&prompt)?)
                }
                (None, None) => None,
            };
            progress("receiving and verifying the credentials");
            let ids = session.accept(tx_code.as_deref()).await?;
            println!("{} credential(s) received and verified.", ids.len());
        }
        Command::Present { request, yes } => {
            let wallet = open(dir)?;
            progress("fetching and checking the request");
            let session = wallet.receive_request(&request).await?;
            let summary = session.summary().clone();
            println!("{} asks", summary.verifier_name);
            if let Some(platform) = &summary.platform {
                println!("  on behalf of: {platform}");
            }
            if let Some(purpose) = &summary.purpose {
                println!("  purpose:      {purpose}");
            }
            for query in &summary.credentials {
                let what = query
                    .labels
                    .as_ref()
                    .map(|l| l[0].clone())
                    .or_else(|| query.vct.clone())
                    .unwrap_or_else(|| query.id.clone());
                let missing = if query.available {
                    ""
                } else {
                    "  (you hold none)"
                };
                println!("  from your {what}: {}{missing}", query.claims.join(", "));
            }
            // Spends are shown from the checked summary: the provider's name comes from the
            // trust list. Any other type was refused by the wallet before we got here.
            for spend in &summary.spends {
                println!("  {}", spend_line(spend));
            }
            for kind in summary
                .transaction_data
                .iter()
                .filter(|k| *k != credential_formats::credits::TRAINING_SPEND)
            {
                println!("  and to sign a transaction: {kind}");
            }
            if !summary.satisfiable {
                println!("Nothing in this wallet answers the request.");
            }
            if summary.satisfiable && !yes && !ask("Share? [y/N] ")?.eq_ignore_ascii_case("y") {
                session.decline().await?;
                bail!(DECLINED);
            }
            progress("sending");
            let outcome = session.accept().await?;
            println!("Shared.");
            if let Some(next) = outcome.redirect_uri {
                println!("Continue at {next}");
            }
        }
        Command::List => {
            let wallet = open(dir)?;
            let batches = wallet.batches()?;
            if batches.is_empty() {
                println!("no credentials");
            }
            // One line per credential: single-use copies are counted, not listed one by one.
            for (c, left) in &batches {
                let label = credential_formats::credentials::CredentialType::from_vct(&c.vct)
                    .map_or(c.vct.clone(), |t| t.labels()[0].to_owned());
                if c.single_use {
                    println!(
                        "{}  {label}  ({left} unused copies)  from {}",
                        c.id, c.issuer
                    );
                } else {
                    println!("{}  {label}  from {}", c.id, c.issuer);
                }
            }
        }
        Command::Show { id } => {
            let wallet = open(dir)?;
            let credential = wallet
                .credentials()?
                .into_iter()
                .find(|c| c.id == id)
                .ok_or_else(|| anyhow!("no credential {id}"))?;
            println!("type:    {}", credential.vct);
            println!("issuer:  {}", credential.issuer);
            if let Some(exp) = credential.expires_at {
                println!("expires: {exp} (Unix time)");
            }
            // The subject's claims; the JWT's own (iss, cnf, status, …) are shown above or
            // are the wallet's business.
            const REGISTERED: [&str; 9] = [
                "iss",
                "iat",
                "nbf",
                "exp",
                "vct",
                "vct#integrity",
                "cnf",
                "status",
                "sub",
            ];
            for (name, value) in &credential.claims {
                if !REGISTERED.contains(&name.as_str()) {
                    println!("  {name}: {value}");
                }
            }
        }
        Command::Notices { register } => {
            let wallet = open(dir)?;
            progress("presenting your person handle to the register");
            let notices = wallet.court_notices(&register).await?;
            if notices.is_empty() {
                println!("no notices");
            }
            for n in &notices {
                println!("case {}  ({})", n.case, n.ground);
                println!("  platform: {}", n.platform);
                println!("  judge:    {}", n.judge);
                println!("  resolved: {} (Unix time)", n.resolved_at);
                println!("  register log entry: {}", n.log_index);
            }
        }
        Command::Backpack => {
            let wallet = open(dir)?;
            let backpack = wallet.backpack().await?;
            if backpack.is_empty() {
                println!("no qualifications");
            }
            for q in &backpack {
                println!(
                    "{}  {} ({})",
                    q.completion_date, q.title, q.course_reference
                );
                let mut facts = vec![format!("result: {}", q.result)];
                if let Some(level) = q.eqf_level {
                    facts.push(format!("EQF level {level}"));
                }
                if let Some(hours) = q.hours {
                    facts.push(format!("{hours} h"));
                }
                if let Some(credits) = q.credits {
                    facts.push(format!("{credits} credits"));
                }
                println!("  {}", facts.join(", "));
                println!(
                    "  issued by {}{}",
                    q.issuer_name.as_deref().unwrap_or(&q.issuer_id),
                    if q.accredited {
                        ""
                    } else {
                        " — NOT accredited for this course in today's trust list"
                    }
                );
                println!("  id: {}", q.credential_id);
            }
        }
        Command::Credits { ledger } => {
            let wallet = open(dir)?;
            progress("presenting your training account to the ledger");
            let account = wallet.credits_account(&ledger).await?;
            let status = match account.status {
                wallet_core::AccountStatus::Open => "open",
                wallet_core::AccountStatus::Closed => "closed",
            };
            println!("balance {} credits ({status})", account.balance);
            println!(
                "  granted {}, spent {}, refunded {}",
                account.granted, account.spent, account.refunded
            );
            for e in &account.history {
                let kind = match e.kind {
                    wallet_core::CreditsEntryKind::Grant => "grant",
                    wallet_core::CreditsEntryKind::Topup => "top-up",
                    wallet_core::CreditsEntryKind::Spend => "spend",
                    wallet_core::CreditsEntryKind::Refund => "refund",
                    wallet_core::CreditsEntryKind::Cancel => "cancel",
                };
                print!(
                    "{:>4}  {} (Unix time)  {kind} {}",
                    e.seq, e.created_at, e.amount
                );
                if let (Some(provider), Some(course)) = (&e.provider, &e.course) {
                    print!("  {course} at {provider}");
                }
                if let Some(id) = &e.transaction_id {
                    print!("  [{id}]");
                }
                println!();
            }
        }
        Command::Log => {
            let wallet = open(dir)?;
            for (at, entry) in wallet.log()? {
                println!("{at}  {entry}");
            }
        }
        Command::ExportLog => {
            let wallet = open(dir)?;
            let entries: Vec<_> = wallet
                .log()?
                .into_iter()
                .map(|(at, entry)| serde_json::json!({"at": at, "entry": entry}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&entries)?);
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wallet: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spend(title: Option<&str>, amount: u64) -> wallet_core::SpendSummary {
        wallet_core::SpendSummary {
            provider_name: "Welding Academy".into(),
            provider_id: "https://academy.example".into(),
            course: "WELD-101".into(),
            course_title: title.map(str::to_owned),
            amount,
            transaction_id: "spend-0001-abcdefgh".into(),
        }
    }

    #[test]
    fn a_spend_reads_as_what_will_be_debited_where() {
        assert_eq!(
            spend_line(&spend(Some("Welding, level 1"), 120)),
            "Spend 120 training credits on WELD-101 (Welding, level 1) at Welding Academy \u{2014} \
             transaction spend-0001-abcdefgh"
        );
        assert_eq!(
            spend_line(&spend(None, 1)),
            "Spend 1 training credit on WELD-101 at Welding Academy \u{2014} transaction \
             spend-0001-abcdefgh"
        );
    }
}
