//! `issuer`: run the State issuer (or a provider's), and administer it from the command line.
//!
//! The administrative commands (`enrol`, `offer`, `revoke`, …) work on the same database and
//! keys as `serve`, so they work with the service stopped, or beside it.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use credential_formats::crypto::{AwsLc, CryptoProvider};
use credential_formats::time::{Clock, SystemClock};
use issuer::issuance::{OfferPayload, Profile, Qualification, TrainingAccount};
use issuer::register::Enrolment;
use issuer::store::{CredentialStatus, Transition};
use issuer::{Config, OfferRequest, Settings};
use zeroize::Zeroizing;

#[derive(Parser)]
#[command(
    name = "issuer",
    version,
    about = "The State issuer: register, OpenID4VCI, status lists, trust list"
)]
struct Cli {
    /// Log as JSON lines (for log collectors).
    #[arg(long, global = true, env = "ISSUER_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service.
    Serve(ServeArgs),
    /// Record a person in the register (PID attributes as JSON, from a file or stdin).
    Enrol {
        #[command(flatten)]
        common: Common,
        /// A JSON file of PID attributes (`-` for stdin).
        #[arg(long, default_value = "-")]
        file: String,
    },
    /// Make a credential offer; prints the link and the tx_code.
    Offer {
        #[command(flatten)]
        common: Common,
        /// The person (from `enrol`).
        #[arg(long)]
        person: Option<String>,
        /// A credential configuration to offer (repeat for several).
        #[arg(long = "credential", required = true)]
        credentials: Vec<String>,
        /// The training account reference (for `training_account_sd_jwt`).
        #[arg(long)]
        training_account: Option<String>,
        /// A JSON file with the qualification (for `qualification_sd_jwt`).
        #[arg(long)]
        qualification: Option<PathBuf>,
        /// Put the offer itself in the link instead of a `credential_offer_uri`.
        #[arg(long)]
        by_value: bool,
        /// Write the QR code as PNG here.
        #[arg(long)]
        qr_png: Option<PathBuf>,
        /// Write the QR code as SVG here.
        #[arg(long)]
        qr_svg: Option<PathBuf>,
    },
    /// Revoke a credential (final).
    Revoke(StatusArgs),
    /// Suspend a credential.
    Suspend(StatusArgs),
    /// Lift a suspension.
    Unsuspend(StatusArgs),
    /// List a person's credentials (ids, types, status).
    Credentials {
        #[command(flatten)]
        common: Common,
        /// The person.
        #[arg(long)]
        person: String,
    },
    /// Print the admin API token (from the key directory).
    AdminToken {
        #[command(flatten)]
        common: Common,
    },
    /// Trust-list authority tools.
    #[command(subcommand)]
    TrustList(TrustListCommand),
    /// Make development keys, a TLS PKI and a signed trust list (State issuer and a demo
    /// provider), and print how to run them.
    DevSetup {
        /// Where to put everything.
        #[arg(long, default_value = "dev-data")]
        dir: PathBuf,
        /// The State issuer's public URL.
        #[arg(long, default_value = "https://localhost:8443")]
        issuer_url: String,
        /// The demo provider's public URL.
        #[arg(long, default_value = "https://localhost:8444")]
        provider_url: String,
    },
}

#[derive(Subcommand)]
enum TrustListCommand {
    /// Build and sign the trust list a TOML description describes.
    Sign {
        /// The description (see `spec/trust-list.md`).
        description: PathBuf,
        /// The authority's private JWK (made on first use; its public half is written
        /// beside it as `<name>.pub.jwk`, the anchor everyone verifies with).
        #[arg(long)]
        authority_key: PathBuf,
        /// Where to write the signed list (stdout if absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
struct StatusArgs {
    #[command(flatten)]
    common: Common,
    /// The credential's id (see `credentials`).
    id: String,
}

#[derive(Args, Clone)]
struct Common {
    /// The public base URL: the Credential Issuer Identifier (https, no path).
    #[arg(
        long,
        env = "ISSUER_PUBLIC_URL",
        default_value = "https://localhost:8443"
    )]
    public_url: String,
    /// A SQLite file path, or a postgres:// URL.
    #[arg(
        long,
        env = "ISSUER_DATABASE_URL",
        default_value = "issuer-data/issuer.db"
    )]
    database_url: String,
    /// The PostgreSQL schema to work in.
    #[arg(long, env = "ISSUER_DATABASE_SCHEMA")]
    database_schema: Option<String>,
    /// Where the keys live (made on first run).
    #[arg(long, env = "ISSUER_KEY_DIR", default_value = "issuer-data/keys")]
    key_dir: PathBuf,
    /// Run as an accredited training provider of this name (qualifications only).
    #[arg(long, env = "ISSUER_PROVIDER_NAME")]
    provider_name: Option<String>,
    /// `issuing_authority` of PIDs (State profile).
    #[arg(long, env = "ISSUER_ISSUING_AUTHORITY", default_value = "BE-RRN")]
    issuing_authority: String,
    /// `issuing_country` of PIDs (State profile).
    #[arg(long, env = "ISSUER_ISSUING_COUNTRY", default_value = "BE")]
    issuing_country: String,
    /// The credits ledger's URL, written into training-account credentials.
    #[arg(
        long,
        env = "ISSUER_LEDGER_URL",
        default_value = "https://localhost:8445"
    )]
    ledger_url: String,
    /// Most credentials per request (`batch_credential_issuance.batch_size`).
    #[arg(long, env = "ISSUER_BATCH_SIZE", default_value_t = 50)]
    batch_size: u32,
    /// Days a person attestation is valid.
    #[arg(long, env = "ISSUER_ATTESTATION_DAYS", default_value_t = 30)]
    attestation_days: i64,
    /// Seconds an offer's pre-authorized code stays usable.
    #[arg(long, env = "ISSUER_OFFER_TTL", default_value_t = 900)]
    offer_ttl: i64,
    /// `ttl` of status list tokens, in seconds.
    #[arg(long, env = "ISSUER_STATUS_TTL", default_value_t = 300)]
    status_ttl: u64,
    /// A signed trust list to serve (and, for a provider, to be accredited by).
    #[arg(long, env = "ISSUER_TRUST_LIST")]
    trust_list: Option<PathBuf>,
    /// The trust-list authority's public JWK.
    #[arg(long, env = "ISSUER_TRUST_ANCHOR")]
    trust_anchor: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    common: Common,
    /// Address to listen on.
    #[arg(long, env = "ISSUER_LISTEN", default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// The admin API token (default: `<key-dir>/admin.token`, made on first run).
    #[arg(long, env = "ISSUER_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// TLS certificate chain (PEM).
    #[arg(long, env = "ISSUER_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "ISSUER_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve TLS with the development PKI in `<key-dir>/tls` (made on first run; clients
    /// trust its `ca.pem`).
    #[arg(long, conflicts_with = "tls_cert")]
    dev_tls: bool,
}

impl Common {
    fn config(&self) -> Config {
        let profile = match &self.provider_name {
            Some(name) => Profile::Provider { name: name.clone() },
            None => Profile::State {
                issuing_authority: self.issuing_authority.clone(),
                issuing_country: self.issuing_country.clone(),
                ledger: self.ledger_url.clone(),
            },
        };
        let mut settings = Settings::new(self.public_url.trim_end_matches('/'), profile);
        settings.batch_size = self.batch_size;
        settings.validity.person_attestation = self.attestation_days * 86_400;
        settings.offer_ttl = self.offer_ttl;
        settings.status_ttl = self.status_ttl;
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            settings,
            database_url: self.database_url.clone(),
            database_schema: self.database_schema.clone(),
            key_dir: self.key_dir.clone(),
            admin_token: None,
            trust_list: self.trust_list.clone(),
            trust_anchor: self.trust_anchor.clone(),
            tls: None,
        }
    }
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
            config.tls = match (args.tls_cert, args.tls_key) {
                (Some(cert), Some(key)) => Some((cert, key)),
                _ if args.dev_tls => {
                    let dir = config.key_dir.join("tls");
                    service_kit::tls::dev_pki(&dir)?;
                    tracing::info!(ca = %dir.join("ca.pem").display(), "development TLS");
                    Some((dir.join("server.pem"), dir.join("server.key")))
                }
                _ => None,
            };
            issuer::serve(config, service_kit::http::shutdown_signal()).await?;
        }
        Command::Enrol { common, file } => {
            let text = if file == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file).with_context(|| format!("reading {file}"))?
            };
            // The strict parser's errors name the field and type, never the value.
            let enrolment: Enrolment =
                credential_formats::json::parse_as(text.as_bytes(), 64 * 1024)
                    .map_err(|e| anyhow::anyhow!("the enrolment is not valid: {e}"))?;
            let opened = issuer::open(&common.config()).await?;
            let enrolled = opened.state.issuer.enrol(enrolment).await?;
            println!("{}", serde_json::to_string_pretty(&enrolled)?);
        }
        Command::Offer {
            common,
            person,
            credentials,
            training_account,
            qualification,
            by_value,
            qr_png,
            qr_svg,
        } => {
            let qualification: Option<Qualification> = match qualification {
                Some(path) => Some(
                    credential_formats::json::parse_as(
                        std::fs::read_to_string(&path)?.as_bytes(),
                        64 * 1024,
                    )
                    .map_err(|e| anyhow::anyhow!("the qualification file is not valid: {e}"))?,
                ),
                None => None,
            };
            let request = OfferRequest {
                person_id: person,
                credential_configuration_ids: credentials,
                payload: OfferPayload {
                    training_account: training_account
                        .map(|account_reference| TrainingAccount { account_reference }),
                    qualification,
                },
                by_value,
            };
            let opened = issuer::open(&common.config()).await?;
            let offer = opened.state.issuer.create_offer(request).await?;
            println!("offer:     {}", offer.offer_uri);
            println!(
                "tx_code:   {}  (give it to the person separately)",
                offer.tx_code
            );
            println!("offer id:  {}", offer.offer_id);
            println!("expires:   {} (Unix time)", offer.expires_at);
            if let Some(path) = qr_png {
                std::fs::write(&path, service_kit::qr::png(&offer.offer_uri)?)?;
                println!("QR (PNG):  {}", path.display());
            }
            if let Some(path) = qr_svg {
                std::fs::write(&path, service_kit::qr::svg(&offer.offer_uri)?)?;
                println!("QR (SVG):  {}", path.display());
            }
        }
        Command::Revoke(args) => set_status(args, CredentialStatus::Revoked).await?,
        Command::Suspend(args) => set_status(args, CredentialStatus::Suspended).await?,
        Command::Unsuspend(args) => set_status(args, CredentialStatus::Valid).await?,
        Command::Credentials { common, person } => {
            let opened = issuer::open(&common.config()).await?;
            for c in opened.state.issuer.credentials_of(&person).await? {
                println!(
                    "{}  {:<10} {}  list {} expires {}",
                    c.id,
                    c.status.name(),
                    c.vct,
                    c.list_id,
                    c.expires_at
                );
            }
        }
        Command::AdminToken { common } => {
            println!("{}", *issuer::admin_token_from_dir(&common.key_dir)?);
        }
        Command::TrustList(TrustListCommand::Sign {
            description,
            authority_key,
            out,
        }) => {
            let text = std::fs::read_to_string(&description)
                .with_context(|| format!("reading {}", description.display()))?;
            let base = description.parent().unwrap_or(std::path::Path::new("."));
            let list = issuer::trust::build(&text, base, SystemClock.now())?;
            let (key, _) = service_kit::keys::load_or_generate_signing_key(&authority_key)?;
            let public = authority_key.with_extension("pub.jwk");
            if !public.exists() {
                let mut jwk = key.public();
                if let Some(kid) = key.kid() {
                    jwk = jwk.with_kid(kid);
                }
                std::fs::write(&public, jwk.to_value().to_string())?;
            }
            let jwt = issuer::trust::sign(&list, &*AwsLc.signer(key.secret())?)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &jwt)?;
                    eprintln!(
                        "trust list (sequence {}, {} entities) written to {}; anchor: {}",
                        list.sequence(),
                        list.entities().len(),
                        path.display(),
                        public.display()
                    );
                }
                None => println!("{jwt}"),
            }
        }
        Command::DevSetup {
            dir,
            issuer_url,
            provider_url,
        } => {
            let setup =
                issuer::trust::dev_setup(&dir, &issuer_url, &provider_url, SystemClock.now())?;
            let d = dir.display();
            println!("Development set-up in {d}:");
            println!("  trust list  {}", setup.trust_list.display());
            println!("  anchor      {}", setup.anchor.display());
            println!(
                "  TLS CA      {}  (clients trust this)",
                setup.tls.join("ca.pem").display()
            );
            println!();
            println!("State issuer:");
            println!(
                "  issuer serve --public-url {issuer_url} --listen 127.0.0.1:8443 \\\n    --database-url {d}/issuer/issuer.db --key-dir {} \\\n    --trust-list {} --trust-anchor {} \\\n    --tls-cert {d}/tls/server.pem --tls-key {d}/tls/server.key",
                setup.issuer_keys.display(),
                setup.trust_list.display(),
                setup.anchor.display()
            );
            println!("Training provider ({}):", issuer::trust::DEV_COURSE);
            println!(
                "  issuer serve --provider-name 'Welding Academy' --public-url {provider_url} --listen 127.0.0.1:8444 \\\n    --database-url {d}/provider/provider.db --key-dir {} \\\n    --trust-list {} --trust-anchor {} \\\n    --tls-cert {d}/tls/server.pem --tls-key {d}/tls/server.key",
                setup.provider_keys.display(),
                setup.trust_list.display(),
                setup.anchor.display()
            );
        }
    }
    Ok(())
}

async fn set_status(args: StatusArgs, to: CredentialStatus) -> Result<()> {
    let opened = issuer::open(&args.common.config()).await?;
    match opened.state.issuer.set_status(&args.id, to).await? {
        Transition::Changed => println!("{} is now {}", args.id, to.name()),
        Transition::Unchanged => println!("{} was already {}", args.id, to.name()),
        Transition::Refused(from) => {
            bail!("a {} credential cannot become {}", from.name(), to.name())
        }
        Transition::Unknown => bail!("no credential {}", args.id),
    }
    Ok(())
}
