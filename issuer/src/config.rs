//! Configuration, and opening and serving the issuer from it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential_formats::crypto::AwsLc;
use credential_formats::time::{Clock, SystemClock};
use credential_formats::trust_list::TrustList;
use service_kit::keys::{KeyOrigin, load_or_generate_secret, load_or_generate_signing_key};
use service_kit::translog::TransparencyLog;
use service_kit::{BearerSecret, Db};
use zeroize::Zeroizing;

use crate::Error;
use crate::issuance::Profile;
use crate::register::RegisterKey;
use crate::routes::{AppState, app};
use crate::service::{Issuer, Keys, PublishedTrustList, Settings};
use crate::store::SqlStore;

/// Everything `issuer serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Policy and identity (the public URL is `settings.credential_issuer`).
    pub settings: Settings,
    /// A SQLite path (the default: `issuer-data/issuer.db`) or a `postgres://` URL.
    pub database_url: String,
    /// On PostgreSQL, the schema to work in.
    pub database_schema: Option<String>,
    /// Where keys live: `signing.jwk`, `register.key`, `mac.key`, `admin.token`; made on
    /// first run.
    pub key_dir: PathBuf,
    /// The admin API's bearer token; read from (or made into) `key_dir/admin.token` if
    /// absent.
    pub admin_token: Option<Zeroizing<String>>,
    /// A signed trust list to serve (and, for a provider, to be accredited by).
    pub trust_list: Option<PathBuf>,
    /// The trust-list authority's public JWK, to verify `trust_list` with.
    pub trust_anchor: Option<PathBuf>,
    /// TLS certificate chain and key (PEM); without them the service speaks plain HTTP
    /// (behind a TLS-terminating proxy).
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// An opened issuer: what `serve` runs and what the commands act on.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The router's state.
    pub state: AppState,
}

fn announce(what: &str, path: &std::path::Path, origin: KeyOrigin) {
    match origin {
        KeyOrigin::Generated => {
            tracing::warn!(file = %path.display(), "{what} generated (first run); keep it safe");
        }
        KeyOrigin::Loaded => tracing::info!(file = %path.display(), "{what} loaded"),
    }
}

/// Opens the database and keys (making them on first run) and builds the issuer.
pub async fn open(config: &Config) -> Result<Opened, Error> {
    open_with_clock(config, Arc::new(SystemClock)).await
}

/// [`open`], with the clock injected (tests move time forward).
pub async fn open_with_clock(config: &Config, clock: Arc<dyn Clock>) -> Result<Opened, Error> {
    let db = Db::connect_in_schema(&config.database_url, config.database_schema.as_deref()).await?;
    let store = SqlStore::open(db).await?;

    let signing_path = config.key_dir.join("signing.jwk");
    let (signing, origin) = load_or_generate_signing_key(&signing_path)?;
    announce("signing key", &signing_path, origin);
    let register = if matches!(config.settings.profile, Profile::State { .. }) {
        let path = config.key_dir.join("register.key");
        let (key, origin) = load_or_generate_secret(&path)?;
        announce("register key K_reg", &path, origin);
        Some(RegisterKey::new(key))
    } else {
        None
    };
    let mac_path = config.key_dir.join("mac.key");
    let (mac, origin) = load_or_generate_secret(&mac_path)?;
    announce("server MAC key", &mac_path, origin);
    let admin = match &config.admin_token {
        Some(token) => BearerSecret::new(token),
        None => {
            let path = config.key_dir.join("admin.token");
            let (secret, origin) = load_or_generate_secret(&path)?;
            announce("admin token", &path, origin);
            BearerSecret::new(&URL_SAFE_NO_PAD.encode(&secret[..]))
        }
    };
    let trust_list = match (&config.trust_list, &config.trust_anchor) {
        (None, None) => None,
        (Some(list), Some(anchor)) => {
            let jwt = std::fs::read_to_string(list)
                .map_err(|e| Error::Config(format!("{}: {e}", list.display())))?
                .trim()
                .to_owned();
            let anchor = crate::trust::public_jwk_from_file(anchor)?;
            let verified = TrustList::verify(&jwt, &AwsLc, anchor.key(), clock.now(), None)
                .map_err(|e| Error::Config(format!("the trust list does not verify: {e}")))?;
            Some(PublishedTrustList {
                jwt,
                list: verified,
            })
        }
        _ => {
            return Err(Error::Config(
                "a trust list and its anchor go together".into(),
            ));
        }
    };
    // The register's log of court-order resolutions: origin and key name are the public
    // URL's host, as the trust list names them (`transparency_log`).
    let register_log = if matches!(config.settings.profile, Profile::State { .. }) {
        let path = config.key_dir.join("register-log.key");
        let (seed, origin) = load_or_generate_secret(&path)?;
        announce("register transparency log key", &path, origin);
        let host = public_host(&config.settings.credential_issuer)?;
        Some(Arc::new(
            TransparencyLog::new(
                store.db().clone(),
                "register-resolutions",
                format!("{host}/register-resolutions"),
                host,
                &seed,
                &AwsLc,
            )
            .map_err(|e| Error::Log(e.to_string()))?,
        ))
    } else {
        None
    };
    let issuer = Issuer::new(
        config.settings.clone(),
        Arc::new(store),
        Keys {
            signing,
            register,
            mac,
        },
        trust_list,
        clock,
    )?;
    let issuer = match register_log {
        Some(log) => issuer.with_register_log(log),
        None => issuer,
    };
    Ok(Opened {
        state: AppState {
            issuer: Arc::new(issuer),
            admin,
        },
    })
}

/// The host of a public `https://host[:port]` URL: the register log's origin and key name.
pub(crate) fn public_host(url: &str) -> Result<String, Error> {
    url.strip_prefix("https://")
        .and_then(|rest| rest.split([':', '/']).next())
        .filter(|host| !host.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Error::Config("the public URL has no host".into()))
}

/// The admin token as written in `key_dir/admin.token`, for the local tools.
pub fn admin_token_from_dir(key_dir: &std::path::Path) -> Result<Zeroizing<String>, Error> {
    let (secret, _) = load_or_generate_secret(&key_dir.join("admin.token"))?;
    Ok(Zeroizing::new(URL_SAFE_NO_PAD.encode(&secret[..])))
}

/// Runs the issuer until `shutdown` resolves: binds, purges expired rows every minute,
/// serves (TLS when configured), and lets requests in flight finish.
pub async fn serve(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let opened = open(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| Error::Config(format!("cannot listen on {}: {e}", config.listen)))?;
    run(opened, listener, config.tls.as_ref(), shutdown).await
}

/// Serves an opened issuer on a bound listener (tests bind port 0 themselves).
pub async fn run(
    opened: Opened,
    listener: tokio::net::TcpListener,
    tls: Option<&(PathBuf, PathBuf)>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let issuer = opened.state.issuer.clone();
    let janitor = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            match issuer.purge_expired().await {
                Ok(n) if n > 0 => tracing::debug!(rows = n, "expired rows purged"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge failed"),
            }
        }
    });
    let addr = listener.local_addr().ok();
    tracing::info!(
        listen = ?addr,
        public_url = %opened.state.issuer.settings().credential_issuer,
        tls = tls.is_some(),
        "issuer serving"
    );
    let router = app(opened.state);
    let served = match tls {
        Some((chain, key)) => {
            let tls = service_kit::tls::load_server_config(chain, key)?;
            service_kit::http::serve_tls(listener, router, tls, shutdown).await
        }
        None => service_kit::http::serve(listener, router, shutdown).await,
    };
    janitor.abort();
    served.map_err(|e| Error::Config(format!("server stopped: {e}")))
}
