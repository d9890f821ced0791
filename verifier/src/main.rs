//! `verifier`: run the third-party verifier, and administer its platforms from the command
//! line. The administrative commands work on the same database and keys as `serve`, so
//! they work with the service stopped, or beside it.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use verifier::{Config, RateLimits, Settings};
use zeroize::Zeroizing;

#[derive(Parser)]
#[command(
    name = "verifier",
    version,
    about = "The third-party verifier: platform API, OpenID4VP verifier, pseudonyms, escrow"
)]
struct Cli {
    /// Log as JSON lines (for log collectors).
    #[arg(long, global = true, env = "VERIFIER_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service.
    Serve(ServeArgs),
    /// Platforms and their API keys.
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// Print the client id wallets see (`x509_hash:…`): list the hash in the trust list.
    ClientId {
        #[command(flatten)]
        common: Common,
    },
    /// Print the admin API's bearer token.
    AdminToken {
        #[command(flatten)]
        common: Common,
    },
    /// Development: make the verifier's keys and a development court escrow key under
    /// DIR and list both for `issuer dev-setup --dir DIR`, which signs the trust list.
    DevSetup {
        /// The development directory shared with `issuer dev-setup`.
        #[arg(long, default_value = "dev-data")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum PlatformCommand {
    /// Register a platform; prints its API key and webhook secret, once.
    Add {
        #[command(flatten)]
        common: Common,
        /// The name citizens see in their wallet.
        #[arg(long)]
        name: String,
        /// Where check results are announced (https).
        #[arg(long)]
        webhook: Option<String>,
    },
    /// List the platforms.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Issue a new API key; the platform's other keys keep working for the grace period.
    RotateKey {
        #[command(flatten)]
        common: Common,
        /// The platform id.
        platform: String,
        /// Seconds the other keys keep working.
        #[arg(long, default_value_t = 86_400)]
        grace: i64,
    },
    /// Revoke one API key at once.
    RevokeKey {
        #[command(flatten)]
        common: Common,
        /// The key id (the part after `vk_`, before the next `_`).
        key: String,
    },
    /// Disable a platform: its keys stop working.
    Disable {
        #[command(flatten)]
        common: Common,
        /// The platform id.
        platform: String,
    },
}

#[derive(Args, Clone)]
struct Common {
    /// The public base URL wallets and platforms reach.
    #[arg(
        long,
        env = "VERIFIER_PUBLIC_URL",
        default_value = "https://localhost:8446"
    )]
    public_url: String,
    /// A SQLite file or a postgres:// URL.
    #[arg(
        long,
        env = "VERIFIER_DATABASE_URL",
        default_value = "verifier-data/verifier.db"
    )]
    database_url: String,
    /// The PostgreSQL schema to work in.
    #[arg(long, env = "VERIFIER_DATABASE_SCHEMA")]
    database_schema: Option<String>,
    /// Where keys live (made on first run).
    #[arg(long, env = "VERIFIER_KEY_DIR", default_value = "verifier-data/keys")]
    key_dir: PathBuf,
    /// The signed trust list.
    #[arg(
        long,
        env = "VERIFIER_TRUST_LIST",
        default_value = "dev-data/trust/trust-list.jwt"
    )]
    trust_list: PathBuf,
    /// The trust-list authority's public JWK.
    #[arg(
        long,
        env = "VERIFIER_TRUST_ANCHOR",
        default_value = "dev-data/trust/authority.pub.jwk"
    )]
    trust_anchor: PathBuf,
    /// Extra CA certificates (PEM) for status lists and webhooks.
    #[arg(long, env = "VERIFIER_EXTRA_CA")]
    extra_ca: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    common: Common,
    /// Where to listen.
    #[arg(long, env = "VERIFIER_LISTEN", default_value = "127.0.0.1:8446")]
    listen: SocketAddr,
    /// The verifier's name, as wallets show it.
    #[arg(long, env = "VERIFIER_NAME", default_value = "Verifier")]
    name: String,
    /// TLS certificate chain (PEM).
    #[arg(long, env = "VERIFIER_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "VERIFIER_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Seconds a wallet has to answer a check.
    #[arg(long, env = "VERIFIER_CHECK_TTL", default_value_t = 300)]
    check_ttl: i64,
    /// Requests per second per platform on /v1.
    #[arg(long, env = "VERIFIER_RATE_PER_PLATFORM", default_value = "200")]
    rate_per_platform: NonZeroU32,
    /// Requests per second per client address on /wallet.
    #[arg(long, env = "VERIFIER_RATE_PER_ADDRESS", default_value = "20")]
    rate_per_address: NonZeroU32,
}

impl Common {
    fn config(&self) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            settings: Settings::new(self.public_url.clone()),
            database_url: self.database_url.clone(),
            database_schema: self.database_schema.clone(),
            key_dir: self.key_dir.clone(),
            admin_token: None,
            trust_list: self.trust_list.clone(),
            trust_anchor: self.trust_anchor.clone(),
            tls: None,
            extra_ca: self.extra_ca.clone(),
            rate_limits: RateLimits::default(),
        }
    }

    async fn open(&self) -> Result<verifier::Opened> {
        verifier::open(&self.config())
            .await
            .context("cannot open the verifier")
    }
}

fn print_key(key: &verifier::IssuedKey) {
    println!("platform id:    {}", key.platform.id);
    println!("name:           {}", key.platform.name);
    println!("key id:         {}", key.key_id);
    println!("API key:        {}", key.api_key.as_str());
    println!("webhook secret: {}", key.webhook_secret.as_str());
    println!("(the API key is shown once: only its digest is kept)");
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    service_kit::telemetry::init(cli.log_json);
    match cli.command {
        Command::Serve(args) => {
            let mut config = args.common.config();
            config.listen = args.listen;
            config.settings.name = args.name;
            config.settings.check_ttl = args.check_ttl;
            config.tls = args.tls_cert.zip(args.tls_key);
            config.rate_limits = RateLimits {
                per_platform: args.rate_per_platform,
                per_address: args.rate_per_address,
            };
            verifier::serve(config, service_kit::http::shutdown_signal()).await?;
        }
        Command::Platform(command) => platform(command).await?,
        Command::ClientId { common } => {
            let opened = common.open().await?;
            println!("{}", opened.state.verifier.client_id().as_str());
        }
        Command::AdminToken { common } => {
            let token: Zeroizing<String> = verifier::admin_token_from_dir(&common.key_dir)?;
            println!("{}", token.as_str());
        }
        Command::DevSetup { dir } => {
            let made = verifier::dev_entities(&dir)?;
            println!("verifier keys:      {}", made.verifier_keys.display());
            println!("court escrow key:   {}", made.escrow_secret.display());
            println!(
                "listed in {}; now run `issuer dev-setup --dir {}` to sign the trust list",
                dir.join("trust/entities.d/verifier.toml").display(),
                dir.display()
            );
        }
    }
    Ok(())
}

async fn platform(command: PlatformCommand) -> Result<()> {
    match command {
        PlatformCommand::Add {
            common,
            name,
            webhook,
        } => {
            let opened = common.open().await?;
            let key = opened
                .state
                .verifier
                .add_platform(&name, webhook.as_deref())
                .await?;
            print_key(&key);
        }
        PlatformCommand::List { common } => {
            let opened = common.open().await?;
            for p in opened.state.verifier.store().platforms().await? {
                let state = if p.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                println!(
                    "{}  {:8}  {}  {}",
                    p.id,
                    state,
                    p.name,
                    p.webhook_url.as_deref().unwrap_or("-")
                );
            }
        }
        PlatformCommand::RotateKey {
            common,
            platform,
            grace,
        } => {
            let opened = common.open().await?;
            let key = opened.state.verifier.rotate_key(&platform, grace).await?;
            print_key(&key);
        }
        PlatformCommand::RevokeKey { common, key } => {
            let opened = common.open().await?;
            opened.state.verifier.revoke_key(&key).await?;
            println!("key {key} revoked");
        }
        PlatformCommand::Disable { common, platform } => {
            let opened = common.open().await?;
            opened.state.verifier.disable_platform(&platform).await?;
            println!("platform {platform} disabled");
        }
    }
    Ok(())
}
