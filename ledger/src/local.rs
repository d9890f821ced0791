//! A ledger on a loopback port with development keys, TLS and trust list — what the
//! end-to-end tests and the local stack start — and its entry in the development trust list.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::Error;
use crate::service::{AppState, Config, open, run};

/// The development ledger's entity id in the trust list.
pub const DEV_LEDGER_ID: &str = "https://ledger.localhost";

/// Makes the development ledger's receipt key under `dir/ledger/keys` and lists it (role
/// `credits_ledger`) in `dir/trust/entities.d/ledger.toml`, which the issuer's development
/// setup signs into the trust list. Run it before that; running it again keeps the key.
pub fn dev_entities(dir: &Path) -> Result<PathBuf, Error> {
    let keys = dir.join("ledger/keys");
    service_kit::keys::load_or_generate_signing_key(&keys.join("receipt.jwk"))?;
    let path = dir.join("trust/entities.d/ledger.toml");
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::Config(format!("{}: {e}", parent.display())))?;
    }
    let entity = format!(
        r#"# Written by the ledger's development setup.
[[entity]]
id = "{DEV_LEDGER_ID}"
name = "Training credits ledger (development)"
key_files = ["../ledger/keys/receipt.jwk"]
roles = ["credits_ledger"]
"#
    );
    std::fs::write(&path, entity).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    Ok(keys)
}

/// A running ledger (stopped when dropped).
#[derive(Debug)]
pub struct LocalLedger {
    /// Its public URL, `https://localhost:<port>`.
    pub base: String,
    /// The service's state: the ledger, and the trust list in force.
    pub state: AppState,
    /// The admin API's token.
    pub admin_token: Zeroizing<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl LocalLedger {
    /// Starts the ledger of the development directory `dir` (after `dev_entities` and the
    /// issuer's development setup) on a free loopback port, over TLS, SQLite under `dir`.
    pub async fn start(dir: &Path) -> Result<LocalLedger, Error> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::Config(format!("cannot bind: {e}")))?;
        LocalLedger::start_on(dir, listener).await
    }

    /// [`LocalLedger::start`] on a listener already bound (the local stack's fixed port).
    pub async fn start_on(
        dir: &Path,
        listener: tokio::net::TcpListener,
    ) -> Result<LocalLedger, Error> {
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Config(format!("no address: {e}")))?;
        let base = format!("https://localhost:{}", addr.port());
        let admin_token = Zeroizing::new(
            credential_formats::crypto::random_token(32)
                .map_err(|_| Error::Config("no randomness for the admin token".into()))?,
        );
        let config = Config {
            listen: addr,
            public_url: base.clone(),
            database_url: dir.join("ledger/ledger.db").display().to_string(),
            database_schema: None,
            key_dir: dir.join("ledger/keys"),
            admin_token: Some(admin_token.clone()),
            tls: None,
            trust: Some((
                dir.join("trust/trust-list.jwt"),
                dir.join("trust/authority.pub.jwk"),
            )),
        };
        let state = open(&config).await?;
        let tls = (dir.join("tls/server.pem"), dir.join("tls/server.key"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = state.clone();
        tokio::spawn(async move {
            let result = run(served, listener, Some(&tls), async {
                let _ = stopped.await;
            })
            .await;
            if let Err(e) = result {
                tracing::error!(error = %e, "local ledger stopped");
            }
        });
        Ok(LocalLedger {
            base,
            state,
            admin_token,
            stop: Some(stop),
        })
    }

    /// Stops serving (requests in flight finish).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for LocalLedger {
    fn drop(&mut self) {
        self.stop();
    }
}
