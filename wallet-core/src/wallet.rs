//! The wallet: its store, its keys, its transport, and the trust list it checks issuers
//! and verifiers against.

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::json;
use zeroize::Zeroizing;

use credential_formats::crypto::RustCrypto;
use credential_formats::jose::Jwk;
use credential_formats::time::Clock;
use credential_formats::trust_list::TrustList;

use crate::Error;
use crate::issuance::{DEFAULT_COPIES, OfferSession, OfferSummary};
use crate::keys::{KeyStore, SoftwareKeyStore};
use crate::presentation::PresentationSession;
use crate::store::{NewCredential, Store, StoredCredential};
use crate::transport::{HttpRequest, HttpResponse, Transport};

/// Below this many unused copies, a single-use credential is running low.
pub const LOW_COPIES: usize = 3;

/// The store setting holding the newest trust-list sequence accepted.
const TRUST_SEQUENCE: &str = "trust_list_sequence";
/// The store settings holding the last trust list accepted, and when it was fetched.
const TRUST_LIST_JWT: &str = "trust_list_jwt";
const TRUST_FETCHED_AT: &str = "trust_list_fetched_at";

/// How long a fetched trust list is used before a fresher one is asked for (seconds). A
/// verifier or issuer struck from the list stops being trusted within this delay, not at the
/// list's expiry.
pub const TRUST_REFRESH: i64 = 3600;

/// Where the wallet finds the trust list, and the key that must have signed it.
#[derive(Debug, Clone)]
pub struct WalletConfig {
    /// An `https` URL serving the signed trust list.
    pub trust_list_url: String,
    /// The trust-list authority's public key: the wallet's root of trust.
    pub trust_anchor: Jwk,
    /// How many single-use copies to ask for at once (capped by the issuer's batch size).
    pub copies: u32,
}

impl WalletConfig {
    /// A configuration with the default number of copies.
    pub fn new(trust_list_url: impl Into<String>, trust_anchor: Jwk) -> WalletConfig {
        WalletConfig {
            trust_list_url: trust_list_url.into(),
            trust_anchor,
            copies: DEFAULT_COPIES,
        }
    }
}

/// The citizen's wallet.
#[derive(Debug)]
pub struct Wallet {
    store: Arc<Mutex<Store>>,
    keys: Arc<dyn KeyStore>,
    transport: Arc<dyn Transport>,
    config: WalletConfig,
    clock: Arc<dyn Clock>,
    // The newest trust list accepted, so an older one is never accepted after it.
    trust: Mutex<Option<(TrustList, i64)>>,
}

impl Wallet {
    /// Opens (or creates) the wallet at `path` with the platform's storage key. Without a
    /// `keys` store, holder keys are kept sealed in the wallet's own store (tests, the
    /// command-line wallet).
    pub fn open(
        path: &Path,
        storage_key: Zeroizing<[u8; 32]>,
        keys: Option<Arc<dyn KeyStore>>,
        transport: Arc<dyn Transport>,
        config: WalletConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Wallet, Error> {
        let store = Arc::new(Mutex::new(Store::open(path, storage_key)?));
        let keys = keys.unwrap_or_else(|| Arc::new(SoftwareKeyStore::new(store.clone())));
        Ok(Wallet {
            store,
            keys,
            transport,
            config,
            clock,
            trust: Mutex::new(None),
        })
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Sends a request; a redirect is refused, not followed (whatever the transport does),
    /// so a counterparty cannot bounce the wallet to a host it did not check.
    pub(crate) async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let response = self.transport.send(request).await?;
        if (300..400).contains(&response.status) {
            return Err(Error::Protocol("the server answered with a redirect"));
        }
        Ok(response)
    }

    pub(crate) fn keys(&self) -> Arc<dyn KeyStore> {
        self.keys.clone()
    }

    pub(crate) fn copies(&self) -> u32 {
        self.config.copies
    }

    pub(crate) fn store(&self) -> Result<std::sync::MutexGuard<'_, Store>, Error> {
        self.store.lock().map_err(|_| Error::Corrupt("store lock"))
    }

    /// The trust list. A list fetched less than [`TRUST_REFRESH`] ago is used as it is;
    /// otherwise a fresh one is fetched and verified against the anchor (never older than
    /// one accepted before) and kept in the store. When the network fails, the kept list
    /// serves while it is valid, so the wallet works offline; a list that fails to verify
    /// is never replaced by the kept one silently: that is an error.
    pub async fn trust_list(&self) -> Result<TrustList, Error> {
        let now = self.now();
        let known = self.known_trust_list(now)?;
        if let Some((list, fetched_at)) = &known
            && now.saturating_sub(*fetched_at) < TRUST_REFRESH
        {
            return Ok(list.clone());
        }
        let jwt = match self.fetch_trust_list().await {
            Ok(jwt) => jwt,
            Err(unreachable) => {
                return match known {
                    Some((list, _)) => Ok(list),
                    None => Err(unreachable),
                };
            }
        };
        // The newest sequence ever accepted is kept in the store: a rollback to an older list
        // (by whoever serves it) is refused even after the wallet was closed and reopened.
        let kept: Option<u64> = self
            .store()?
            .setting(TRUST_SEQUENCE)?
            .and_then(|v| std::str::from_utf8(&v).ok().and_then(|s| s.parse().ok()));
        let min_sequence = kept.max(known.as_ref().map(|(list, _)| list.sequence()));
        let list = self.verify_trust_list(&jwt, now, min_sequence)?;
        {
            let mut store = self.store()?;
            store.put_setting(TRUST_SEQUENCE, list.sequence().to_string().as_bytes())?;
            store.put_setting(TRUST_LIST_JWT, jwt.as_bytes())?;
            store.put_setting(TRUST_FETCHED_AT, now.to_string().as_bytes())?;
        }
        *self
            .trust
            .lock()
            .map_err(|_| Error::Corrupt("trust lock"))? = Some((list.clone(), now));
        Ok(list)
    }

    fn verify_trust_list(
        &self,
        jwt: &str,
        now: i64,
        min_sequence: Option<u64>,
    ) -> Result<TrustList, Error> {
        TrustList::verify(
            jwt,
            &RustCrypto,
            self.config.trust_anchor.key(),
            now,
            min_sequence,
        )
        .map_err(|_| {
            Error::Untrusted(
                "the trust list does not verify against the anchor, or is older than one accepted before",
            )
        })
    }

    /// The list in memory, else the one kept in the store, if still valid at `now`, with
    /// when it was fetched.
    fn known_trust_list(&self, now: i64) -> Result<Option<(TrustList, i64)>, Error> {
        let in_memory = self
            .trust
            .lock()
            .map_err(|_| Error::Corrupt("trust lock"))?
            .clone();
        if let Some((list, fetched_at)) = in_memory {
            return Ok((list.exp() > now).then_some((list, fetched_at)));
        }
        let store = self.store()?;
        let (Some(jwt), Some(fetched_at)) = (
            store.setting(TRUST_LIST_JWT)?,
            store.setting(TRUST_FETCHED_AT)?,
        ) else {
            return Ok(None);
        };
        drop(store);
        let fetched_at: i64 = std::str::from_utf8(&fetched_at)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(Error::Corrupt("trust list time"))?;
        let jwt = std::str::from_utf8(&jwt).map_err(|_| Error::Corrupt("kept trust list"))?;
        // Kept lists were verified when fetched; verifying again checks they are still valid
        // now (and that the store gave back what was put in).
        match self.verify_trust_list(jwt, now, None) {
            Ok(list) => {
                *self
                    .trust
                    .lock()
                    .map_err(|_| Error::Corrupt("trust lock"))? = Some((list.clone(), fetched_at));
                Ok(Some((list, fetched_at)))
            }
            Err(_) => Ok(None),
        }
    }

    /// The signed trust list as served, or why it could not be had.
    async fn fetch_trust_list(&self) -> Result<String, Error> {
        let response = self
            .send(HttpRequest::get(&self.config.trust_list_url))
            .await?;
        if response.status != 200 {
            return Err(Error::Untrusted("the trust list could not be fetched"));
        }
        Ok(std::str::from_utf8(&response.body)
            .map_err(|_| Error::Untrusted("the trust list is not text"))?
            .trim()
            .to_owned())
    }

    /// Resolves an offer link and checks its issuer; the session shows what is offered and
    /// is accepted (or dropped) by the person.
    pub async fn receive_offer(&self, uri: &str) -> Result<OfferSession<'_>, Error> {
        OfferSession::resolve(self, uri).await
    }

    /// Reads a presentation request (`openid4vp://…`), fetches and verifies its signed
    /// Request Object, checks its verifier against the trust list and matches its query
    /// against the stored credentials; the session shows what is asked and is accepted or
    /// declined by the person.
    pub async fn receive_request(&self, uri: &str) -> Result<PresentationSession<'_>, Error> {
        PresentationSession::resolve(self, uri).await
    }

    /// Takes a copy of a batch to present (a single-use copy is marked used, and the mark
    /// committed, first).
    pub(crate) fn take_unused_copy(
        &self,
        batch_id: &str,
    ) -> Result<Option<StoredCredential>, Error> {
        self.store()?.take_unused_copy(batch_id)
    }

    pub(crate) fn append_log(&self, entry: &serde_json::Value) -> Result<(), Error> {
        let now = self.now();
        self.store()?.append_log(entry, now)
    }

    pub(crate) fn save_batch(&self, batch: &[NewCredential]) -> Result<Vec<String>, Error> {
        let now = self.now();
        self.store()?.save_batch(batch, now)
    }

    pub(crate) fn log_issuance(&self, summary: &OfferSummary, count: usize) -> Result<(), Error> {
        let entry = json!({
            "kind": "issuance",
            "counterparty": {"issuer": summary.issuer, "name": summary.issuer_name},
            "credentials": summary.credentials.iter().map(|(vct, _)| vct).collect::<Vec<_>>(),
            "count": count,
            "outcome": "received",
        });
        let now = self.now();
        self.store()?.append_log(&entry, now)
    }

    /// Every stored credential.
    pub fn credentials(&self) -> Result<Vec<StoredCredential>, Error> {
        self.store()?.credentials()
    }

    /// One entry per credential the person holds (a batch of single-use copies is one), with
    /// the copies left: what a list shows.
    pub fn batches(&self) -> Result<Vec<(StoredCredential, usize)>, Error> {
        self.store()?.batches()
    }

    /// The single-use credentials with fewer than [`LOW_COPIES`] unused copies left (none
    /// left included): the app tells the person, who asks the issuer for a new offer.
    pub fn running_low(&self) -> Result<Vec<(StoredCredential, usize)>, Error> {
        Ok(self
            .batches()?
            .into_iter()
            .filter(|(c, left)| c.single_use && *left < LOW_COPIES)
            .collect())
    }

    /// Unused single-use copies left in a batch.
    pub fn unused_copies(&self, batch_id: &str) -> Result<usize, Error> {
        self.store()?.unused_copies(batch_id)
    }

    /// The copy of a credential kept for one service (`setting` maps each service's URL to
    /// its copy's id): the copy kept before, while it is unexpired and still `fits`; else
    /// one unused copy of the longest-lasting batch that `fits`, taken (marked used, so it
    /// never leaves for anyone else) and kept for `service`. `corrupt` names the setting in
    /// the error when it cannot be read.
    pub(crate) fn service_copy(
        &self,
        setting: &str,
        corrupt: &'static str,
        service: &str,
        fits: impl Fn(&StoredCredential) -> bool,
    ) -> Result<StoredCredential, Error> {
        let now = self.now();
        let unexpired = |c: &StoredCredential| c.expires_at.is_none_or(|exp| exp > now);
        let mut kept = match self.store()?.setting(setting)? {
            None => serde_json::Map::new(),
            Some(bytes) => match serde_json::from_slice(&bytes) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => return Err(Error::Corrupt(corrupt)),
            },
        };
        if let Some(id) = kept.get(service).and_then(serde_json::Value::as_str) {
            let copy = self.store()?.credential(id)?;
            if let Some(copy) = copy.filter(|c| unexpired(c) && fits(c)) {
                return Ok(copy);
            }
        }
        // The batch that lasts longest, with a copy left.
        let batch = self
            .batches()?
            .into_iter()
            .filter(|(c, left)| *left > 0 && unexpired(c) && fits(c))
            .max_by_key(|(c, _)| c.expires_at.unwrap_or(i64::MAX))
            .map(|(c, _)| c.batch_id)
            .ok_or(Error::NothingToPresent)?;
        let copy = self
            .take_unused_copy(&batch)?
            .ok_or(Error::NothingToPresent)?;
        kept.insert(service.to_owned(), serde_json::Value::from(copy.id.clone()));
        let text = serde_json::Value::Object(kept).to_string();
        self.store()?.put_setting(setting, text.as_bytes())?;
        Ok(copy)
    }

    /// The transaction log, oldest first: `(time, entry)`.
    pub fn log(&self) -> Result<Vec<(i64, serde_json::Value)>, Error> {
        self.store()?.log()
    }
}
