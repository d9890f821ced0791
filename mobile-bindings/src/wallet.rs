//! The wallet object the apps hold.

use std::path::Path;
use std::sync::Arc;

use credential_formats::jose::Jwk;
use credential_formats::time::SystemClock;

use crate::WalletError;
use crate::platform::{
    KeyStore, PlatformKeys, PlatformTransport, StorageKeyProvider, Transport, storage_key,
};
use crate::sessions::{CredentialOffer, PresentationRequest};
use crate::views::{CourtNotice, CredentialSummary, CreditsAccount, LogEntry, Qualification};

/// Where the wallet keeps its store and whom it trusts.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct WalletSettings {
    /// The store's file (created on first use), in the app's private storage.
    pub db_path: String,
    /// An `https` URL serving the signed trust list.
    pub trust_list_url: String,
    /// The trust-list authority's public key, a JWK as JSON: the wallet's root of trust.
    pub trust_anchor_jwk: String,
    /// For the built-in transport only: trust only the CA certificates in this PEM (the
    /// local stack's development CA), instead of the platform's roots. Never in production.
    #[uniffi(default = None)]
    pub ca_pem: Option<String>,
}

impl std::fmt::Debug for WalletSettings {
    // The file path may name the device's user.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalletSettings")
            .field("trust_list_url", &self.trust_list_url)
            .field("ca_pem", &self.ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

/// The citizen's wallet: `wallet_core::Wallet`, shared with the sessions it starts.
#[derive(Debug, uniffi::Object)]
pub struct Wallet {
    inner: Arc<wallet_core::Wallet>,
}

impl Wallet {
    /// Runs a store operation off the caller's thread (SQLite blocks).
    async fn blocking<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&wallet_core::Wallet) -> Result<T, wallet_core::Error> + Send + 'static,
    ) -> Result<T, WalletError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || operation(&inner))
            .await
            .map_err(|_| WalletError::internal("a store task ended"))?
            .map_err(WalletError::from)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Wallet {
    /// Opens the wallet (creating its store on first use) with the storage key the platform
    /// keystore gives. `key_store`: the platform's holder keys; without one, keys are kept
    /// sealed in the wallet's own store (tests, demos). `transport`: the app's HTTP stack;
    /// without one, the wallet's own rustls client (`settings.ca_pem` applies to it only).
    ///
    /// A storage key that does not open an existing store is `WrongKey`, and the file is
    /// left as it was.
    #[uniffi::constructor]
    pub fn new(
        settings: WalletSettings,
        storage_key_provider: Arc<dyn StorageKeyProvider>,
        key_store: Option<Arc<dyn KeyStore>>,
        transport: Option<Arc<dyn Transport>>,
    ) -> Result<Arc<Wallet>, WalletError> {
        let anchor: serde_json::Value = serde_json::from_str(&settings.trust_anchor_jwk)
            .map_err(|_| WalletError::input("the trust anchor is not JSON"))?;
        let anchor = Jwk::from_value(&anchor)
            .map_err(|_| WalletError::input("the trust anchor is not a public JWK"))?;
        let transport: Arc<dyn wallet_core::Transport> = match (transport, &settings.ca_pem) {
            (Some(_), Some(_)) => {
                return Err(WalletError::input(
                    "ca_pem applies to the built-in transport, not to the app's",
                ));
            }
            (Some(app), None) => Arc::new(PlatformTransport(app)),
            (None, Some(pem)) => Arc::new(wallet_core::DefaultTransport::trusting_only(
                pem.as_bytes(),
            )?),
            (None, None) => Arc::new(wallet_core::DefaultTransport::new()?),
        };
        let keys = key_store.map(|k| Arc::new(PlatformKeys(k)) as Arc<dyn wallet_core::KeyStore>);
        let inner = wallet_core::Wallet::open(
            Path::new(&settings.db_path),
            storage_key(storage_key_provider.as_ref())?,
            keys,
            transport,
            wallet_core::WalletConfig::new(settings.trust_list_url, anchor),
            Arc::new(SystemClock),
        )?;
        Ok(Arc::new(Wallet {
            inner: Arc::new(inner),
        }))
    }

    /// Reads an offer link (`openid-credential-offer://…`), fetches what it refers to and
    /// checks its issuer against the trust list; the offer shows what is offered.
    pub async fn receive_offer(&self, uri: String) -> Result<Arc<CredentialOffer>, WalletError> {
        Ok(Arc::new(
            CredentialOffer::resolve(self.inner.clone(), uri).await?,
        ))
    }

    /// Reads a presentation request link (`openid4vp://…`), fetches and verifies its signed
    /// request, checks the verifier against the trust list and matches the query against
    /// the stored credentials; the request shows who asks what.
    pub async fn receive_request(
        &self,
        uri: String,
    ) -> Result<Arc<PresentationRequest>, WalletError> {
        Ok(Arc::new(
            PresentationRequest::resolve(self.inner.clone(), uri).await?,
        ))
    }

    /// The credentials the person holds, one per batch, in the order received.
    pub async fn credentials(&self) -> Result<Vec<CredentialSummary>, WalletError> {
        self.blocking(|w| {
            Ok(w.batches()?
                .into_iter()
                .map(|(c, unused)| CredentialSummary::new(c, unused))
                .collect())
        })
        .await
    }

    /// The single-use credentials with fewer than three unused copies left (none left
    /// included): tell the person, who asks the issuer for a new offer.
    pub async fn running_low(&self) -> Result<Vec<CredentialSummary>, WalletError> {
        self.blocking(|w| {
            Ok(w.running_low()?
                .into_iter()
                .map(|(c, unused)| CredentialSummary::new(c, unused))
                .collect())
        })
        .await
    }

    /// The notices of court openings concerning the person, from the State register at
    /// `register_url` (the issuer of their person attestation), whose embargo is over. The
    /// register sees one copy of the attestation, kept for it, disclosing only the person
    /// handle; the fetch goes into the log. `NothingToPresent` when the wallet holds no
    /// valid person attestation of that register.
    pub async fn court_notices(
        &self,
        register_url: String,
    ) -> Result<Vec<CourtNotice>, WalletError> {
        Ok(self
            .inner
            .court_notices(&register_url)
            .await?
            .into_iter()
            .map(CourtNotice::from)
            .collect())
    }

    /// The backpack: every qualification held, the most recently completed first. Showing
    /// one to an employer is an ordinary presentation request.
    pub async fn backpack(&self) -> Result<Vec<Qualification>, WalletError> {
        Ok(self
            .inner
            .backpack()
            .await?
            .into_iter()
            .map(Qualification::from)
            .collect())
    }

    /// The training account's balance and history from the credits ledger at `ledger_url`
    /// (its public URL). The ledger sees the training-account credential disclosing only the
    /// account reference, bound to its URL and a fresh nonce; the fetch goes into the log.
    /// `NothingToPresent` when the wallet holds no valid training account.
    pub async fn credits_account(&self, ledger_url: String) -> Result<CreditsAccount, WalletError> {
        Ok(self.inner.credits_account(&ledger_url).await?.into())
    }

    /// The transaction log, oldest first.
    pub async fn log(&self) -> Result<Vec<LogEntry>, WalletError> {
        self.blocking(|w| {
            Ok(w.log()?
                .iter()
                .map(|(at, entry)| LogEntry::new(*at, entry))
                .collect())
        })
        .await
    }

    /// The transaction log as JSON, `[{"at": …, "entry": {…}}, …]` (the command-line
    /// wallet's `export-log`), for the person to keep or send.
    pub async fn export_log(&self) -> Result<String, WalletError> {
        let log = self.blocking(|w| w.log()).await?;
        let entries: Vec<serde_json::Value> = log
            .into_iter()
            .map(|(at, entry)| serde_json::json!({"at": at, "entry": entry}))
            .collect();
        serde_json::to_string_pretty(&entries)
            .map_err(|_| WalletError::internal("the log could not be written as JSON"))
    }
}
