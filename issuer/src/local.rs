//! A State issuer on a loopback port with development keys, TLS and trust list: what the
//! wallet's tests, the command-line wallet's tests and the local stack start.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use credential_formats::time::{Clock, SystemClock};
use zeroize::Zeroizing;

use crate::issuance::Profile;
use crate::service::{Issuer, Settings};
use crate::{Config, Error};

/// A running issuer (stopped when dropped).
#[derive(Debug)]
pub struct LocalIssuer {
    /// Its public URL, `https://localhost:<port>`.
    pub base: String,
    /// The issuer itself, for enrolling and making offers in-process.
    pub issuer: Arc<Issuer>,
    /// The development CA (PEM) clients must trust.
    pub ca_pem: String,
    /// The file of the CA.
    pub ca_file: PathBuf,
    /// The trust-list authority's public JWK file: the anchor.
    pub anchor: PathBuf,
    /// The URL of its trust list.
    pub trust_list_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl LocalIssuer {
    /// Starts the State issuer on `127.0.0.1:0`, its keys, trust list, TLS PKI and SQLite
    /// database under `dir` (see [`crate::trust::dev_setup`]).
    pub async fn start(dir: &Path) -> Result<LocalIssuer, Error> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::Config(format!("cannot listen: {e}")))?;
        LocalIssuer::start_on(dir, listener).await
    }

    /// [`LocalIssuer::start`] on a listener already bound (the local stack's fixed port).
    pub async fn start_on(
        dir: &Path,
        listener: tokio::net::TcpListener,
    ) -> Result<LocalIssuer, Error> {
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Config(format!("no address: {e}")))?;
        let base = format!("https://localhost:{}", addr.port());
        let setup =
            crate::trust::dev_setup(dir, &base, "https://localhost:8444", SystemClock.now())?;
        let config = Config {
            listen: addr,
            settings: Settings::new(
                base.clone(),
                Profile::State {
                    issuing_authority: "BE-RRN".into(),
                    issuing_country: "BE".into(),
                    ledger: "https://localhost:8445".into(),
                },
            ),
            database_url: dir.join("issuer/issuer.db").display().to_string(),
            database_schema: None,
            key_dir: setup.issuer_keys.clone(),
            admin_token: Some(Zeroizing::new(credential_formats::crypto::random_token(
                32,
            )?)),
            trust_list: Some(setup.trust_list.clone()),
            trust_anchor: Some(setup.anchor.clone()),
            tls: None,
        };
        let opened = crate::open(&config).await?;
        let issuer = opened.state.issuer.clone();
        let tls = (setup.tls.join("server.pem"), setup.tls.join("server.key"));
        let ca_file = setup.tls.join("ca.pem");
        let ca_pem = std::fs::read_to_string(&ca_file)
            .map_err(|e| Error::Config(format!("{}: {e}", ca_file.display())))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let served = crate::run(opened, listener, Some(&tls), async {
                let _ = stopped.await;
            })
            .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "local issuer stopped");
            }
        });
        Ok(LocalIssuer {
            trust_list_url: format!("{base}/trust-list"),
            base,
            issuer,
            ca_pem,
            ca_file,
            anchor: setup.anchor,
            stop: Some(stop),
        })
    }
}

impl LocalIssuer {
    /// Enrols the demo citizen An Peeters (born 1990-05-01, an adult; enrolling again
    /// finds the same person) and makes them an offer of `configurations`: the offer link
    /// and its `tx_code`.
    pub async fn offer_to_demo_citizen(
        &self,
        configurations: &[&str],
    ) -> Result<(String, String), Error> {
        let enrolment: crate::register::Enrolment = serde_json::from_value(serde_json::json!({
            "family_name": "Peeters", "given_name": "An", "birthdate": "1990-05-01",
            "nationalities": ["BE"], "personal_administrative_number": "90050112345",
            "address": {"street_address": "Veldstraat 1", "locality": "Gent", "country": "BE"}
        }))
        .map_err(|_| Error::Corrupt("demo enrolment"))?;
        let person = self.issuer.enrol(enrolment).await?;
        let offer = self
            .issuer
            .create_offer(crate::OfferRequest {
                person_id: Some(person.person_id),
                credential_configuration_ids: configurations
                    .iter()
                    .map(|c| (*c).to_owned())
                    .collect(),
                payload: crate::issuance::OfferPayload::default(),
                by_value: false,
            })
            .await?;
        Ok((offer.offer_uri, offer.tx_code))
    }
}

impl Drop for LocalIssuer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
