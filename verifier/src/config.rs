//! Configuration, and opening and serving the verifier from it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use credential_formats::crypto::AwsLc;
use credential_formats::jose::{Jwk, X509Certificate, X509Chain};
use credential_formats::time::{Clock, SystemClock};
use credential_formats::trust_list::TrustList;
use service_kit::keys::{KeyOrigin, load_or_generate_secret, load_or_generate_signing_key};
use service_kit::translog::TransparencyLog;
use service_kit::{BearerSecret, Db};
use zeroize::Zeroizing;

use crate::Error;
use crate::pseudonym::PseudonymKey;
use crate::routes::{AppState, Limiters, RateLimits, app};
use crate::service::{Keys, Settings, Verifier};
use crate::status::StatusLists;
use crate::store::SqlStore;
use crate::webhook::Deliverer;

/// Everything `verifier serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Policy and identity (the public URL is `settings.public_url`).
    pub settings: Settings,
    /// A SQLite path (the default: `verifier-data/verifier.db`) or a `postgres://` URL.
    pub database_url: String,
    /// On PostgreSQL, the schema to work in.
    pub database_schema: Option<String>,
    /// Where keys live: `request.jwk`, `request-chain.pem`, `attestation.jwk`,
    /// `pseudonym.key`, `mac.key`, `admin.token`; made on first run (the certificate
    /// self-signed, for development).
    pub key_dir: PathBuf,
    /// The admin API's bearer token; read from (or made into) `key_dir/admin.token` if
    /// absent.
    pub admin_token: Option<Zeroizing<String>>,
    /// The signed trust list (re-read every minute: a newer sequence replaces it).
    pub trust_list: PathBuf,
    /// The trust-list authority's public JWK.
    pub trust_anchor: PathBuf,
    /// TLS certificate chain and key (PEM); without them the service speaks plain HTTP
    /// (behind a TLS-terminating proxy).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Extra CA certificates (PEM) trusted when fetching status lists and delivering
    /// webhooks (the local stack's development CA).
    pub extra_ca: Option<PathBuf>,
    /// Rate limits.
    pub rate_limits: RateLimits,
}

/// An opened verifier: what `serve` runs and what the commands act on.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The router's state.
    pub state: AppState,
    trust_list: PathBuf,
    anchor: Jwk,
    extra_ca: Option<Vec<u8>>,
}

fn announce(what: &str, path: &Path, origin: KeyOrigin) {
    match origin {
        KeyOrigin::Generated => {
            tracing::warn!(file = %path.display(), "{what} generated (first run); keep it safe");
        }
        KeyOrigin::Loaded => tracing::info!(file = %path.display(), "{what} loaded"),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
}

/// The certificates of a PEM file, in order.
fn pem_certificates(text: &str) -> Result<Vec<X509Certificate>, Error> {
    let mut certificates = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines().map(str::trim) {
        match (line, &mut body) {
            ("-----BEGIN CERTIFICATE-----", None) => body = Some(String::new()),
            ("-----END CERTIFICATE-----", Some(b64)) => {
                let der = STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|_| Error::Config("a certificate is not base64".into()))?;
                certificates.push(X509Certificate::from_der(&der)?);
                body = None;
            }
            (line, Some(b64)) => b64.push_str(line),
            _ => {}
        }
    }
    if certificates.is_empty() {
        return Err(Error::Config("no certificate in the PEM file".into()));
    }
    Ok(certificates)
}

fn pem_encode(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// The request signing certificate chain in `path`, or — on first run — a self-signed
/// development certificate for the key, written there. A production verifier's chain comes
/// from its CA; either way its leaf's hash goes into the trust list.
pub fn load_or_make_request_chain(
    path: &Path,
    key: &credential_formats::jose::PrivateJwk,
    host: &str,
    now: i64,
) -> Result<X509Chain, Error> {
    if path.exists() {
        let text = String::from_utf8(read(path)?)
            .map_err(|_| Error::Config(format!("{} is not PEM", path.display())))?;
        return Ok(X509Chain::new(pem_certificates(&text)?)?);
    }
    let certificate =
        X509Certificate::self_signed(key.secret(), host, &[host], now - 3600, now + 365 * 86_400)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::Config(format!("{}: {e}", parent.display())))?;
    }
    std::fs::write(path, pem_encode(certificate.der()))
        .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    tracing::warn!(
        file = %path.display(), x509_hash = %certificate.x509_hash(),
        "self-signed request certificate generated (development); list its x509_hash in the trust list"
    );
    Ok(X509Chain::new(vec![certificate])?)
}

fn load_trust_list(path: &Path, anchor: &Jwk, now: i64) -> Result<TrustList, Error> {
    let jwt = String::from_utf8(read(path)?)
        .map_err(|_| Error::Config(format!("{} is not a JWT", path.display())))?;
    TrustList::verify(jwt.trim(), &AwsLc, anchor.key(), now, None)
        .map_err(|e| Error::Config(format!("the trust list does not verify: {e}")))
}

fn public_jwk_from_file(path: &Path) -> Result<Jwk, Error> {
    let text = String::from_utf8(read(path)?)
        .map_err(|_| Error::Config(format!("{} is not a JWK", path.display())))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|_| Error::Config(format!("{} is not a JWK", path.display())))?;
    Jwk::from_value(&value)
        .map_err(|_| Error::Config(format!("{} is not a public JWK", path.display())))
}

/// Opens the database and keys (making them on first run) and builds the verifier.
pub async fn open(config: &Config) -> Result<Opened, Error> {
    open_with_clock(config, Arc::new(SystemClock)).await
}

/// [`open`], with the clock injected (tests move time forward).
pub async fn open_with_clock(config: &Config, clock: Arc<dyn Clock>) -> Result<Opened, Error> {
    let db = Db::connect_in_schema(&config.database_url, config.database_schema.as_deref()).await?;
    let store = SqlStore::open(db).await?;
    let dir = &config.key_dir;
    let log_path = dir.join("log.key");
    let (log_seed, origin) = load_or_generate_secret(&log_path)?;
    announce("transparency log key", &log_path, origin);

    let request_path = dir.join("request.jwk");
    let (request, origin) = load_or_generate_signing_key(&request_path)?;
    announce("request signing key", &request_path, origin);
    let host = reqwest::Url::parse(&config.settings.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .ok_or_else(|| Error::Config("the public URL has no host".into()))?;
    let request_chain =
        load_or_make_request_chain(&dir.join("request-chain.pem"), &request, &host, clock.now())?;
    let attestation_path = dir.join("attestation.jwk");
    let (attestation, origin) = load_or_generate_signing_key(&attestation_path)?;
    announce("attestation signing key", &attestation_path, origin);
    let pseudonym_path = dir.join("pseudonym.key");
    let (pseudonym, origin) = load_or_generate_secret(&pseudonym_path)?;
    announce("pseudonym key K_ps", &pseudonym_path, origin);
    let mac_path = dir.join("mac.key");
    let (mac, origin) = load_or_generate_secret(&mac_path)?;
    announce("server MAC key", &mac_path, origin);
    let admin = match &config.admin_token {
        Some(token) => BearerSecret::new(token),
        None => BearerSecret::new(&admin_token_from_dir(dir)?),
    };

    let anchor = public_jwk_from_file(&config.trust_anchor)?;
    let trust = load_trust_list(&config.trust_list, &anchor, clock.now())?;
    let extra_ca = config.extra_ca.as_deref().map(read).transpose()?;
    let status = StatusLists::new(
        extra_ca.as_deref(),
        crate::status::StatusLimits::default(),
        Arc::new(AwsLc),
    )?;
    // The log's origin and key name are the verifier's host: auditors pin both.
    let log = TransparencyLog::new(
        store.db().clone(),
        "court-orders",
        format!("{host}/court-orders"),
        host.clone(),
        &log_seed,
        &AwsLc,
    )
    .map_err(|e| Error::Log(e.to_string()))?;
    let verifier = Verifier::new(
        config.settings.clone(),
        Arc::new(store),
        Keys {
            request,
            request_chain,
            attestation,
            pseudonym: PseudonymKey::new(pseudonym),
            mac,
        },
        trust,
        Arc::new(status),
        clock,
        Arc::new(log),
    )?;
    Ok(Opened {
        state: AppState {
            verifier: Arc::new(verifier),
            admin,
            limiters: Limiters::new(config.rate_limits),
        },
        trust_list: config.trust_list.clone(),
        anchor,
        extra_ca,
    })
}

/// The admin token as written in `key_dir/admin.token` (made on first use).
pub fn admin_token_from_dir(key_dir: &Path) -> Result<Zeroizing<String>, Error> {
    let path = key_dir.join("admin.token");
    let (secret, origin) = load_or_generate_secret(&path)?;
    announce("admin token", &path, origin);
    Ok(Zeroizing::new(URL_SAFE_NO_PAD.encode(&secret[..])))
}

/// Runs the verifier until `shutdown` resolves.
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

/// Serves an opened verifier on a bound listener (tests bind port 0 themselves), with its
/// webhook deliverer and its janitor (purges, trust-list reloads, limiter upkeep).
pub async fn run(
    opened: Opened,
    listener: tokio::net::TcpListener,
    tls: Option<&(PathBuf, PathBuf)>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let verifier = opened.state.verifier.clone();
    let limiters = opened.state.limiters.clone();
    let (list_path, anchor) = (opened.trust_list.clone(), opened.anchor.clone());
    let janitor = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            match verifier.purge().await {
                Ok(n) if n > 0 => tracing::debug!(rows = n, "expired rows purged"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge failed"),
            }
            match load_trust_list(&list_path, &anchor, verifier.now()) {
                Ok(list) if list.sequence() > verifier.trust_list().sequence() => {
                    let sequence = list.sequence();
                    if verifier.replace_trust_list(list).is_ok() {
                        tracing::info!(sequence, "newer trust list in force");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "trust list not reloaded"),
            }
            limiters.shrink();
        }
    });
    let deliverer = Deliverer::new(opened.state.verifier.clone(), opened.extra_ca.as_deref())?;
    let webhooks = tokio::spawn(deliverer.run(Duration::from_secs(1)));
    let addr = listener.local_addr().ok();
    tracing::info!(
        listen = ?addr,
        public_url = %opened.state.verifier.settings().public_url,
        client_id = %opened.state.verifier.client_id().as_str(),
        tls = tls.is_some(),
        "verifier serving"
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
    webhooks.abort();
    served.map_err(|e| Error::Config(format!("server stopped: {e}")))
}
