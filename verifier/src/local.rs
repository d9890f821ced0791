//! A verifier on a loopback port with development keys, TLS and trust list — what the
//! end-to-end tests, the bindings' tests and the local stack start — and the development
//! court escrow key it seals to.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential_formats::time::{Clock, SystemClock};
use credential_formats::trust_list::EscrowKey;
use zeroize::Zeroizing;

use crate::{Config, Error, RateLimits, Settings, Verifier};

/// The development verifier's entity id in the trust list.
const DEV_VERIFIER_ID: &str = "https://verifier.localhost";

/// What [`dev_entities`] made.
#[derive(Debug, Clone)]
pub struct DevEntities {
    /// The verifier's key directory.
    pub verifier_keys: PathBuf,
    /// The development court's X25519 escrow private key (32 bytes, mode 0600), when this
    /// setup made the key. A real court never has it in one piece: it is split among judges
    /// (the court tool), and only its public key is put in `court/escrow.pub.jwk`.
    pub escrow_secret: PathBuf,
    /// A development judge's signing key (listed with role `court_judge`).
    pub judge_key: PathBuf,
}

/// The development judge's entity id in the trust list.
pub const DEV_JUDGE_ID: &str = "https://court.localhost/judges/1";

/// Makes the development verifier's keys and request certificate and a development court
/// escrow key under `dir`, and lists both in `dir/trust/entities.d/verifier.toml`, which
/// the issuer's development setup (`issuer dev-setup`, `LocalIssuer::start`) signs into
/// the trust list. Run it before those; running it again keeps the keys.
pub fn dev_entities(dir: &Path) -> Result<DevEntities, Error> {
    let now = SystemClock.now();
    let keys = dir.join("verifier/keys");
    let (request, _) = service_kit::keys::load_or_generate_signing_key(&keys.join("request.jwk"))?;
    let chain = crate::load_or_make_request_chain(
        &keys.join("request-chain.pem"),
        &request,
        "localhost",
        now,
    )?;
    let escrow_secret = dir.join("court/escrow.key");
    let escrow_public = dir.join("court/escrow.pub.jwk");
    // A public key already there is kept, with or without its secret: a court's key from a
    // real ceremony (`court escrow-keygen`) has no secret in one piece anywhere.
    let public = if escrow_public.exists() {
        let text = std::fs::read_to_string(&escrow_public)
            .map_err(|e| Error::Config(format!("{}: {e}", escrow_public.display())))?;
        let jwk: serde_json::Value = serde_json::from_str(&text)
            .map_err(|_| Error::Config("the escrow public key is not JSON".into()))?;
        EscrowKey::from_jwk(&jwk)
            .map_err(|_| Error::Config("the escrow public key is not an X25519 JWK".into()))?
    } else {
        let (public, secret) =
            credential_formats::escrow::generate_escrow_key(Some("dev-escrow-1".into()))?;
        service_kit::keys::write_private(&escrow_secret, secret.as_bytes())?;
        let jwk = serde_json::json!({
            "kty": "OKP", "crv": "X25519", "kid": "dev-escrow-1",
            "x": URL_SAFE_NO_PAD.encode(public.public_bytes()),
        });
        std::fs::write(&escrow_public, jwk.to_string())
            .map_err(|e| Error::Config(format!("{}: {e}", escrow_public.display())))?;
        public
    };
    // The log as `open` names it: origin and key name are the public URL's host.
    let (log_seed, _) = service_kit::keys::load_or_generate_secret(&keys.join("log.key"))?;
    let log = service_kit::translog::log_key(
        "localhost/court-orders",
        "localhost",
        &log_seed,
        &credential_formats::crypto::AwsLc,
    )
    .map_err(|e| Error::Log(e.to_string()))?;
    let judge_key = dir.join("court/judge-1.jwk");
    service_kit::keys::load_or_generate_signing_key(&judge_key)?;
    let entities = format!(
        r#"# Written by the verifier's development setup.
[[entity]]
id = "{DEV_VERIFIER_ID}"
name = "Verifier (development)"
key_files = ["../verifier/keys/request.jwk"]
roles = ["verifier"]
x509_hash = "{hash}"
transparency_log = {{ origin = "{origin}", key = "{log_key}" }}

[[entity]]
id = "https://court.localhost"
name = "Court chamber (development)"
roles = ["court_escrow"]
escrow_key = {{ x = "{x}", kid = "{escrow_kid}" }}

[[entity]]
id = "{DEV_JUDGE_ID}"
name = "Judge of the chamber (development)"
key_files = ["../court/judge-1.jwk"]
roles = ["court_judge"]
"#,
        hash = chain.leaf().x509_hash(),
        origin = log.origin(),
        log_key = log.verifier_key(),
        x = URL_SAFE_NO_PAD.encode(public.public_bytes()),
        escrow_kid = public.kid().unwrap_or("dev-escrow-1"),
    );
    let path = dir.join("trust/entities.d/verifier.toml");
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::Config(format!("{}: {e}", parent.display())))?;
    }
    std::fs::write(&path, entities)
        .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    Ok(DevEntities {
        verifier_keys: keys,
        escrow_secret,
        judge_key,
    })
}

/// How a [`LocalVerifier`] runs: SQLite under its directory by default.
#[derive(Debug, Clone, Default)]
pub struct LocalOptions {
    /// A `postgres://` URL instead of the SQLite file.
    pub database_url: Option<String>,
    /// The PostgreSQL schema to work in.
    pub database_schema: Option<String>,
    /// Rate limits (a load generator on loopback is one address).
    pub rate_limits: Option<RateLimits>,
    /// Seconds a wallet has to answer (the default: 300).
    pub check_ttl: Option<i64>,
}

/// A running verifier (stopped when dropped).
#[derive(Debug)]
pub struct LocalVerifier {
    /// Its public URL, `https://localhost:<port>`.
    pub base: String,
    /// The verifier itself.
    pub verifier: Arc<Verifier>,
    /// The admin API's token.
    pub admin_token: Zeroizing<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl LocalVerifier {
    /// Starts the verifier on `127.0.0.1:0` with what [`dev_entities`] and the issuer's
    /// development setup made under `dir` (keys, trust list, TLS), and a SQLite database
    /// there (or what `options` say).
    pub async fn start(dir: &Path, options: &LocalOptions) -> Result<LocalVerifier, Error> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::Config(format!("cannot listen: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Config(format!("no address: {e}")))?;
        LocalVerifier::start_on(dir, options, listener, addr).await
    }

    /// [`LocalVerifier::start`] on a listener already bound (a restart keeps the port).
    pub async fn start_on(
        dir: &Path,
        options: &LocalOptions,
        listener: tokio::net::TcpListener,
        addr: std::net::SocketAddr,
    ) -> Result<LocalVerifier, Error> {
        let base = format!("https://localhost:{}", addr.port());
        let mut settings = Settings::new(base.clone());
        settings.name = "Verifier (development)".into();
        if let Some(ttl) = options.check_ttl {
            settings.check_ttl = ttl;
        }
        let admin_token = Zeroizing::new(credential_formats::crypto::random_token(32)?);
        let config = Config {
            listen: addr,
            settings,
            database_url: options
                .database_url
                .clone()
                .unwrap_or_else(|| dir.join("verifier/verifier.db").display().to_string()),
            database_schema: options.database_schema.clone(),
            key_dir: dir.join("verifier/keys"),
            admin_token: Some(admin_token.clone()),
            trust_list: dir.join("trust/trust-list.jwt"),
            trust_anchor: dir.join("trust/authority.pub.jwk"),
            tls: None,
            extra_ca: Some(dir.join("tls/ca.pem")),
            rate_limits: options.rate_limits.unwrap_or_default(),
        };
        let opened = crate::open(&config).await?;
        let verifier = opened.state.verifier.clone();
        let tls = (dir.join("tls/server.pem"), dir.join("tls/server.key"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let served = crate::run(opened, listener, Some(&tls), async {
                let _ = stopped.await;
            })
            .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "local verifier stopped");
            }
        });
        Ok(LocalVerifier {
            base,
            verifier,
            admin_token,
            stop: Some(stop),
        })
    }
}

impl LocalVerifier {
    /// Stops serving (requests in flight finish); the port is released soon after.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for LocalVerifier {
    fn drop(&mut self) {
        self.stop();
    }
}
