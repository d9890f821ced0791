//! The whole system on localhost: the State issuer (with the person register and the trust
//! list), the third-party verifier and the training-credits ledger, over TLS with the
//! development PKI, on embedded SQLite under one directory, with demo data — a demo citizen's
//! offers, a demo platform at the verifier, a funded training account. A second start on the
//! same directory reuses everything: keys, databases, the platform and the account.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

use issuer::LocalIssuer;
use ledger::local::LocalLedger;
use verifier::{LocalOptions, LocalVerifier};

/// Where the services listen (port 0: any free port, for tests).
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// The State issuer (default 8443).
    pub issuer: u16,
    /// The credits ledger (default 8445, as the issuer's training accounts name it).
    pub ledger: u16,
    /// The verifier (default 8446).
    pub verifier: u16,
}

impl Default for Ports {
    fn default() -> Ports {
        Ports {
            issuer: 8443,
            ledger: 8445,
            verifier: 8446,
        }
    }
}

/// What the stack keeps between runs (`<dir>/stack/demo.json`, mode 0600: it holds the demo
/// platform's API key, shown once by the verifier).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Demo {
    /// The demo platform's id at the verifier.
    pub platform_id: String,
    /// Its API key.
    pub api_key: String,
    /// The demo citizen's training account at the ledger.
    pub account: String,
}

/// The running stack.
pub struct Stack {
    /// The development directory.
    pub dir: PathBuf,
    /// The State issuer.
    pub issuer: LocalIssuer,
    /// The verifier.
    pub verifier: LocalVerifier,
    /// The ledger.
    pub ledger: LocalLedger,
    /// The demo data.
    pub demo: Demo,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("dir", &self.dir)
            .field("issuer", &self.issuer.base)
            .field("verifier", &self.verifier.base)
            .field("ledger", &self.ledger.base)
            .finish_non_exhaustive()
    }
}

async fn bind(port: u16) -> Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port} (is a stack running?)"))?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// The demo citizen's credits at the first start.
pub const DEMO_CREDITS: u64 = 500;

impl Stack {
    /// Sets up `dir` (or reuses it) and starts the three services.
    pub async fn start(dir: &Path, ports: Ports) -> Result<Stack> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        // The verifier and the ledger list themselves before the issuer signs the list.
        verifier::dev_entities(dir)?;
        ledger::local::dev_entities(dir)?;
        let (listener, _) = bind(ports.issuer).await?;
        let issuer = LocalIssuer::start_on(dir, listener).await?;
        let (listener, _) = bind(ports.ledger).await?;
        let ledger = LocalLedger::start_on(dir, listener).await?;
        let (listener, addr) = bind(ports.verifier).await?;
        let verifier =
            LocalVerifier::start_on(dir, &LocalOptions::default(), listener, addr).await?;
        let demo = demo(dir, &verifier, &ledger).await?;
        Ok(Stack {
            dir: dir.to_owned(),
            issuer,
            verifier,
            ledger,
            demo,
        })
    }

    /// A fresh offer of the demo citizen's PID, person attestations and training account
    /// (the offer link and its transaction code).
    pub async fn demo_offer(&self) -> Result<(String, String)> {
        let enrolled = self
            .issuer
            .issuer
            .enrol(serde_json::from_value(demo_citizen())?)
            .await?;
        let offer = self
            .issuer
            .issuer
            .create_offer(issuer::OfferRequest {
                person_id: Some(enrolled.person_id),
                credential_configuration_ids: vec![
                    "pid_sd_jwt".into(),
                    "person_attestation_sd_jwt".into(),
                    "training_account_sd_jwt".into(),
                ],
                payload: issuer::issuance::OfferPayload {
                    training_account: Some(issuer::issuance::TrainingAccount {
                        account_reference: self.demo.account.clone(),
                    }),
                    qualification: None,
                },
                by_value: false,
            })
            .await?;
        Ok((offer.offer_uri, offer.tx_code))
    }

    /// Stops the three services.
    pub fn stop(&mut self) {
        self.verifier.stop();
        self.ledger.stop();
    }
}

fn demo_citizen() -> serde_json::Value {
    json!({
        "family_name": "Peeters", "given_name": "An", "birthdate": "1990-05-01",
        "nationalities": ["BE"], "personal_administrative_number": "90050112345",
        "address": {"street_address": "Veldstraat 1", "locality": "Gent", "country": "BE"}
    })
}

/// The demo platform and the funded account: made at the first start, read after.
async fn demo(dir: &Path, verifier: &LocalVerifier, ledger: &LocalLedger) -> Result<Demo> {
    let path = dir.join("stack/demo.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return serde_json::from_str(&text)
            .with_context(|| format!("{} is not the stack's demo data", path.display()));
    }
    let registered = verifier
        .verifier
        .add_platform("Example Social (demo)", None)
        .await?;
    let account = ledger.state.ledger.open_account().await?;
    ledger
        .state
        .ledger
        .grant(
            &account,
            "demo-welcome",
            ledger::Amount::new(DEMO_CREDITS)?,
            "demo citizen's first credits",
        )
        .await?;
    let demo = Demo {
        platform_id: registered.platform.id.clone(),
        api_key: registered.api_key.to_string(),
        account: account.to_string(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    service_kit::keys::write_private(&path, serde_json::to_string_pretty(&demo)?.as_bytes())?;
    Ok(demo)
}
