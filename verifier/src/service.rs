//! The verifier's operations, shared by the HTTP API and the `verifier` commands.
//!
//! A check, end to end:
//! 1. [`Verifier::create_check`]: a platform asks; the check (nonce, state, expiry) is stored.
//! 2. [`Verifier::request_object`]: the wallet fetches the signed request object, rebuilt
//!    from the stored check on every fetch (any replica can serve it).
//! 3. [`Verifier::receive_response`]: the wallet answers; [`crate::pipeline`] verifies,
//!    then the pseudonym is derived, the escrow record sealed, the attestation signed, and
//!    the check settled with all of it in one transaction. The person handle goes no
//!    further than this function's stack.
//! 4. [`Verifier::check_for`]: the platform reads the result.

use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential_formats::credentials::CredentialType;
use credential_formats::crypto::{AwsLc, CryptoProvider, SecretKey, Signer, random_hex};
use credential_formats::dcql::{DcqlError, DcqlQuery};
use credential_formats::jose::{Jwk, PrivateJwk, X509Chain};
use credential_formats::oid4vp::{
    AuthorizationRequestUri, ClientId, ClientMetadata, OPENID4VP_SCHEME, RequestObject,
    RequestUriMethod, ResponseMode, SELF_ISSUED_AUDIENCE, VerifierInfo, sign_request_object,
};
use credential_formats::time::Clock;
use credential_formats::trust_list::{EscrowKey, Role, TrustList};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::Error;
use crate::attestation::Attestation;
use crate::pipeline::{self, Expectation, IatWindow, Refusal, VerifiedResponse};
use crate::pseudonym::PseudonymKey;
use crate::status::StatusSource;
use crate::store::{
    AccountEntry, AccountStats, ApiKeyRecord, Check, CheckRecord, CheckStatus, Completion, Digest,
    Failure, NewCheck, Platform, PresentedCopy, Settlement, VerifierStore, WebhookEvent,
};
use credential_formats::escrow::{self, EscrowRecord};

/// The prefix of every API key: `vk_<key id>_<secret>`.
const API_KEY_PREFIX: &str = "vk_";

/// How long a presented copy is remembered when its credential carries no `exp`.
const COPY_MEMORY: i64 = 400 * 86_400;

/// Policy.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The verifier's public base URL (`https://…`, no trailing slash): the attestation's
    /// `iss`, and the base of `request_uri` and `response_uri`.
    pub public_url: String,
    /// The verifier's name, as wallets show it under the trust list's name.
    pub name: String,
    /// How long a wallet has to answer (seconds; 300 by default).
    pub check_ttl: i64,
    /// How long an attestation is valid (seconds; 300 by default).
    pub attestation_ttl: i64,
    /// How long settled checks are kept for the platform to read (seconds; a day).
    pub retention: i64,
}

impl Settings {
    /// Defaults for a verifier at `public_url`.
    pub fn new(public_url: impl Into<String>) -> Settings {
        Settings {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            name: "Verifier".into(),
            check_ttl: 300,
            attestation_ttl: 300,
            retention: 86_400,
        }
    }
}

/// The verifier's keys.
pub struct Keys {
    /// Signs request objects; its certificate chain's leaf gives the `x509_hash` client id.
    pub request: PrivateJwk,
    /// The request signing key's certificate chain, leaf first.
    pub request_chain: X509Chain,
    /// Signs attestations; published at `/.well-known/jwks.json`.
    pub attestation: PrivateJwk,
    /// `K_ps`: pairwise pseudonyms.
    pub pseudonym: PseudonymKey,
    /// Derives each check's response decryption key and each platform's webhook secret.
    pub mac: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").finish_non_exhaustive()
    }
}

/// A platform just registered, or a key just issued: the key is shown once.
#[derive(Debug)]
pub struct IssuedKey {
    /// The platform.
    pub platform: Platform,
    /// The key's public id (for revoking it).
    pub key_id: String,
    /// The whole API key. Shown once; only its digest is kept.
    pub api_key: Zeroizing<String>,
    /// The secret that signs this platform's webhooks (`whsec_…`).
    pub webhook_secret: Zeroizing<String>,
}

/// What a platform asks for.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    /// The checks wanted.
    pub checks: Vec<Check>,
    /// The platform's reference of the account (sealed into the escrow record).
    pub account_reference: Option<String>,
    /// Where to send the citizen's browser back after a same-device flow.
    pub return_url: Option<String>,
}

/// A check just created.
#[derive(Debug, Clone)]
pub struct CreatedCheck {
    /// Its id.
    pub id: String,
    /// The wallet link: `openid4vp://?client_id=…&request_uri=…`.
    pub wallet_link: String,
    /// When the wallet's answer stops being accepted.
    pub expires_at: i64,
}

/// What the wallet is told after answering (OpenID4VP 1.0 §8.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletAnswer {
    /// For a same-device flow: where the browser goes, with a fresh `response_code`.
    pub redirect_uri: Option<String>,
}

/// A check as the platform sees it.
#[derive(Debug, Clone)]
pub struct CheckView {
    /// The stored check.
    pub record: CheckRecord,
    /// Its status now.
    pub status: CheckStatus,
    /// What the verifier knows of the account, for a completed `verified_person` check.
    pub account: Option<AccountStats>,
}

/// Why an API key was not accepted (all the same to the caller: 401).
fn unauthorized() -> Error {
    Error::Unauthorized
}

/// The verifier.
pub struct Verifier {
    settings: Settings,
    store: Arc<dyn VerifierStore>,
    keys: Keys,
    trust: RwLock<Arc<TrustList>>,
    status: Arc<dyn StatusSource>,
    clock: Arc<dyn Clock>,
    client_id: ClientId,
    request_signer: Box<dyn Signer>,
    attestation_signer: Box<dyn Signer>,
    attestation_kid: String,
    log: Arc<service_kit::translog::TransparencyLog>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("public_url", &self.settings.public_url)
            .finish_non_exhaustive()
    }
}

fn sha256(bytes: &[u8]) -> Digest {
    Sha256::digest(bytes).into()
}

impl Verifier {
    /// A verifier over `store`, trusting `trust`.
    pub fn new(
        settings: Settings,
        store: Arc<dyn VerifierStore>,
        keys: Keys,
        trust: TrustList,
        status: Arc<dyn StatusSource>,
        clock: Arc<dyn Clock>,
        log: Arc<service_kit::translog::TransparencyLog>,
    ) -> Result<Verifier, Error> {
        if !settings.public_url.starts_with("https://") {
            return Err(Error::Config("the public URL must be https".into()));
        }
        let client_id = ClientId::x509_hash(&keys.request_chain.leaf().x509_hash())?;
        let leaf_key = keys.request_chain.leaf().public_key()?;
        if leaf_key != keys.request.secret().public_key() {
            return Err(Error::Config(
                "the request certificate is not for the request signing key".into(),
            ));
        }
        let request_signer = AwsLc.signer(keys.request.secret())?;
        let attestation_signer = AwsLc.signer(keys.attestation.secret())?;
        // The JWKS names the key by `kid`; a key file without one is named by its
        // thumbprint (RFC 7638).
        let attestation_kid = keys
            .attestation
            .kid()
            .map_or_else(|| keys.attestation.public().thumbprint(), str::to_owned);
        Ok(Verifier {
            settings,
            store,
            keys,
            trust: RwLock::new(Arc::new(trust)),
            status,
            clock,
            client_id,
            request_signer,
            attestation_signer,
            attestation_kid,
            log,
        })
    }

    /// The policy.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The transparency log of court orders.
    pub fn log(&self) -> &Arc<service_kit::translog::TransparencyLog> {
        &self.log
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn VerifierStore> {
        &self.store
    }

    /// The clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Our client id: `x509_hash:<hash of the request certificate>`.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The trust list in force.
    pub fn trust_list(&self) -> Arc<TrustList> {
        match self.trust.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts a newer trust list in force (an older or equal sequence is refused).
    pub fn replace_trust_list(&self, list: TrustList) -> Result<(), Error> {
        let mut guard = match self.trust.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if list.sequence() <= guard.sequence() {
            return Err(Error::Invalid(format!(
                "trust list sequence {} is not newer than {}",
                list.sequence(),
                guard.sequence()
            )));
        }
        *guard = Arc::new(list);
        Ok(())
    }

    /// The attestation key set, as published at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> Value {
        let jwk = self
            .keys
            .attestation
            .public()
            .with_alg("ES256")
            .with_use("sig")
            .with_kid(self.attestation_kid.clone());
        json!({"keys": [jwk.to_value()]})
    }

    fn mac(&self, label: &str, parts: &[&str]) -> Zeroizing<[u8; 32]> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.keys.mac[..])
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(label.as_bytes());
        for part in parts {
            mac.update(&[0]);
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        Zeroizing::new(mac.finalize().into_bytes().into())
    }

    /// The check's response decryption key, derived rather than stored: every replica can
    /// read an answer, and the database holds nothing that decrypts one.
    fn decryption_key(&self, check_id: &str) -> Result<SecretKey, Error> {
        // A P-256 scalar must be below the group order; an HMAC output is not with
        // probability ~2⁻³², so a counter picks the next candidate.
        for counter in 0..8u8 {
            let scalar = self.mac("response-enc/v1", &[check_id, &counter.to_string()]);
            if let Ok(key) = SecretKey::p256(&scalar) {
                return Ok(key);
            }
        }
        Err(Error::Config("no response key could be derived".into()))
    }

    /// The secret that signs `platform_id`'s webhooks (Standard Webhooks `whsec_` form).
    pub fn webhook_secret(&self, platform_id: &str) -> Zeroizing<String> {
        let key = self.mac("webhook/v1", &[platform_id]);
        Zeroizing::new(format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(&key[..])
        ))
    }

    // ---- platforms and their keys -------------------------------------------------------

    fn new_key(&self, platform_id: &str) -> Result<(ApiKeyRecord, Zeroizing<String>), Error> {
        let key_id = random_hex(8)?;
        let secret = credential_formats::crypto::random_token(32)?;
        let api_key = Zeroizing::new(format!("{API_KEY_PREFIX}{key_id}_{secret}"));
        Ok((
            ApiKeyRecord {
                id: key_id,
                platform_id: platform_id.to_owned(),
                digest: sha256(api_key.as_bytes()),
                created_at: self.now(),
                expires_at: None,
                revoked_at: None,
            },
            api_key,
        ))
    }

    /// Registers a platform and issues its first API key.
    pub async fn add_platform(
        &self,
        name: &str,
        webhook_url: Option<&str>,
    ) -> Result<IssuedKey, Error> {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            return Err(Error::Invalid(
                "a platform name is 1 to 200 printable characters".into(),
            ));
        }
        if let Some(url) = webhook_url {
            check_https_url(url, "webhook")?;
        }
        let platform = Platform {
            id: random_hex(16)?,
            name: name.to_owned(),
            webhook_url: webhook_url.map(str::to_owned),
            created_at: self.now(),
            disabled_at: None,
        };
        let (record, api_key) = self.new_key(&platform.id)?;
        self.store.add_platform(&platform, &record).await?;
        Ok(IssuedKey {
            webhook_secret: self.webhook_secret(&platform.id),
            platform,
            key_id: record.id,
            api_key,
        })
    }

    /// Issues a new key for a platform; its other keys keep working for `grace` seconds.
    pub async fn rotate_key(&self, platform_id: &str, grace: i64) -> Result<IssuedKey, Error> {
        let platform = self
            .store
            .platform(platform_id)
            .await?
            .filter(|p| p.disabled_at.is_none())
            .ok_or(Error::NotFound)?;
        let (record, api_key) = self.new_key(&platform.id)?;
        self.store
            .add_api_key(&record, self.now().saturating_add(grace.max(0)))
            .await?;
        Ok(IssuedKey {
            webhook_secret: self.webhook_secret(&platform.id),
            platform,
            key_id: record.id,
            api_key,
        })
    }

    /// Revokes one key at once.
    pub async fn revoke_key(&self, key_id: &str) -> Result<(), Error> {
        if self.store.revoke_api_key(key_id, self.now()).await? {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    /// Disables a platform: its keys stop working, its checks are no longer served.
    pub async fn disable_platform(&self, platform_id: &str) -> Result<(), Error> {
        if self.store.disable_platform(platform_id, self.now()).await? {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    /// The platform an API key acts for. Unknown, malformed, revoked and expired keys,
    /// and keys of disabled platforms, all give [`Error::Unauthorized`]; the digest is
    /// compared in constant time.
    pub async fn authenticate(&self, api_key: &str) -> Result<Platform, Error> {
        let rest = api_key
            .strip_prefix(API_KEY_PREFIX)
            .ok_or_else(unauthorized)?;
        let (key_id, _) = rest.split_once('_').ok_or_else(unauthorized)?;
        if key_id.len() != 16 || !key_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(unauthorized());
        }
        let record = self.store.api_key(key_id).await?.ok_or_else(unauthorized)?;
        let presented = sha256(api_key.as_bytes());
        if !bool::from(presented.ct_eq(&record.digest)) {
            return Err(unauthorized());
        }
        let now = self.now();
        if record.revoked_at.is_some() || record.expires_at.is_some_and(|t| t <= now) {
            return Err(unauthorized());
        }
        self.store
            .platform(&record.platform_id)
            .await?
            .filter(|p| p.disabled_at.is_none())
            .ok_or_else(unauthorized)
    }

    // ---- checks --------------------------------------------------------------------------

    fn escrow_key(&self) -> Result<EscrowKey, Error> {
        let trust = self.trust_list();
        let now = self.now();
        trust
            .entities()
            .iter()
            .filter(|e| e.has_role(Role::CourtEscrow) && e.check_valid_at(now).is_ok())
            .find_map(|e| e.escrow_key().cloned())
            .ok_or(Error::Unavailable(
                "accountable checks are unavailable: the trust list names no court escrow key",
            ))
    }

    /// Creates a check for `platform`.
    pub async fn create_check(
        &self,
        platform: &Platform,
        request: CheckRequest,
    ) -> Result<CreatedCheck, Error> {
        let mut checks = request.checks;
        checks.sort();
        checks.dedup();
        if checks.is_empty() {
            return Err(Error::Invalid("ask for at least one check".into()));
        }
        if checks.contains(&Check::VerifiedPerson) {
            self.escrow_key()?;
        }
        if let Some(reference) = &request.account_reference
            && (reference.is_empty()
                || reference.len() > 256
                || reference.chars().any(char::is_control))
        {
            return Err(Error::Invalid(
                "account_reference is 1 to 256 printable characters".into(),
            ));
        }
        if let Some(url) = &request.return_url {
            check_https_url(url, "return_url")?;
        }
        let now = self.now();
        let check = NewCheck {
            id: random_hex(16)?,
            platform_id: platform.id.clone(),
            checks,
            account_reference: request.account_reference,
            return_url: request.return_url,
            nonce: credential_formats::crypto::random_token(32)?,
            state: credential_formats::crypto::random_token(16)?,
            created_at: now,
            expires_at: now + self.settings.check_ttl,
        };
        self.store.create_check(&check).await?;
        let wallet_link = AuthorizationRequestUri {
            client_id: self.client_id.clone(),
            request_uri: self.request_uri(&check.id),
            request_uri_method: Some(RequestUriMethod::Get),
        }
        .to_uri(&format!("{OPENID4VP_SCHEME}://"));
        Ok(CreatedCheck {
            id: check.id,
            wallet_link,
            expires_at: check.expires_at,
        })
    }

    fn request_uri(&self, check_id: &str) -> String {
        format!("{}/wallet/requests/{check_id}", self.settings.public_url)
    }

    fn response_uri(&self, check_id: &str) -> String {
        format!("{}/wallet/responses/{check_id}", self.settings.public_url)
    }

    async fn pending_check(&self, check_id: &str) -> Result<(CheckRecord, Platform), Error> {
        let record = self.store.check(check_id).await?.ok_or(Error::NotFound)?;
        match record.status_at(self.now()) {
            CheckStatus::Pending => {}
            CheckStatus::Expired => return Err(Error::Expired),
            CheckStatus::Completed | CheckStatus::Failed => return Err(Error::AlreadyAnswered),
        }
        let platform = self
            .store
            .platform(&record.check.platform_id)
            .await?
            .filter(|p| p.disabled_at.is_none())
            .ok_or(Error::NotFound)?;
        Ok((record, platform))
    }

    /// The request object of a pending check, signed. The same check always gives the
    /// same request (but for `iat`), so a wallet may fetch it again.
    pub async fn request_object(&self, check_id: &str) -> Result<String, Error> {
        let (record, platform) = self.pending_check(check_id).await?;
        let request = self.build_request(&record, &platform)?;
        Ok(sign_request_object(
            &request,
            &*self.request_signer,
            self.keys.request_chain.to_x5c(),
        )?)
    }

    fn build_request(
        &self,
        record: &CheckRecord,
        platform: &Platform,
    ) -> Result<RequestObject, Error> {
        let check = &record.check;
        let mut request = RequestObject::new(
            self.client_id.clone(),
            ResponseMode::DirectPostJwt,
            self.response_uri(&check.id),
            check.nonce.clone(),
            dcql_query(&check.checks)?,
        )?;
        request.state = Some(check.state.clone());
        request.aud = Some(SELF_ISSUED_AUDIENCE.into());
        request.iat = Some(self.now());
        request.exp = Some(check.expires_at);
        let purpose = purpose(&check.checks);
        request.verifier_info = Some(vec![VerifierInfo {
            format: "registration_cert".into(),
            data: json!({
                "purpose": purpose,
                "platform": platform.name,
                "verifier": self.settings.name,
            }),
            credential_ids: None,
        }]);
        let key = self.decryption_key(&check.id)?;
        request.client_metadata = Some(ClientMetadata {
            jwks: Some(vec![
                Jwk::new(key.public_key())
                    .with_kid("response-enc")
                    .with_alg("ECDH-ES")
                    .with_use("enc"),
            ]),
            encrypted_response_enc_values_supported: Some(vec!["A128GCM".into(), "A256GCM".into()]),
            ..ClientMetadata::default()
        });
        Ok(request)
    }

    /// Receives the wallet's answer to a check: verifies it and settles the check, once.
    /// A refusal settles the check as failed (the platform learns only `not_verified`)
    /// and is returned for the wallet.
    pub async fn receive_response(
        &self,
        check_id: &str,
        body: &[u8],
    ) -> Result<WalletAnswer, Error> {
        let (record, platform) = self.pending_check(check_id).await?;
        let check = &record.check;
        let query = dcql_query(&check.checks)?;
        let key = self.decryption_key(&check.id)?;
        let trust = self.trust_list();
        let expectation = Expectation {
            client_id: self.client_id.as_str(),
            nonce: &check.nonce,
            state: Some(&check.state),
            query: &query,
            decryption_key: Some(&key),
            transaction_data: &[],
            iat_window: IatWindow::default(),
        };
        let verified = pipeline::verify_response(
            body,
            &expectation,
            &trust,
            &*self.status,
            &AwsLc,
            &*self.clock,
        )
        .await;
        let judged = match &verified {
            Ok(verified) => self.judge(&record, verified),
            Err(refusal) => Err(refusal.clone()),
        };
        match judged {
            Ok(passed) => self.complete(&record, &platform, passed).await,
            Err(refusal) => {
                self.settle_failed(&record, refusal.code()).await?;
                Err(Error::Refused(refusal))
            }
        }
    }

    /// What the verified presentation proves, against what was asked.
    fn judge<'v>(
        &self,
        record: &CheckRecord,
        verified: &'v VerifiedResponse,
    ) -> Result<Passed<'v>, Refusal> {
        // The pipeline has enforced our DCQL query already; these are the same rules, read
        // where they are acted on.
        let unsatisfied = || Refusal::QueryNotSatisfied(DcqlError::ClaimsPathSelectsNothing);
        let credential = verified
            .credential(PERSON_QUERY)
            .filter(|c| c.vct == CredentialType::PersonAttestation.vct())
            .ok_or_else(unsatisfied)?;
        let mut passed = Passed {
            checks: Vec::new(),
            handle: None,
            copies: verified
                .credentials
                .iter()
                .map(|c| PresentedCopy {
                    digest: c.copy_digest,
                    expires_at: c.expires_at.unwrap_or(self.now() + COPY_MEMORY),
                })
                .collect(),
            evidence: credential.evidence_digest,
        };
        for kind in &record.check.checks {
            match kind {
                Check::AgeOver18 => {
                    if credential.claims.get("age_over_18") != Some(&Value::Bool(true)) {
                        return Err(unsatisfied());
                    }
                }
                Check::VerifiedPerson => {
                    let handle = credential
                        .claims
                        .get("person_handle")
                        .and_then(Value::as_str)
                        .filter(|h| !h.is_empty())
                        .ok_or_else(unsatisfied)?;
                    passed.handle = Some(handle);
                }
            }
            passed.checks.push(*kind);
        }
        Ok(passed)
    }

    fn response_code(
        &self,
        record: &CheckRecord,
    ) -> Result<(Option<String>, Option<Digest>), Error> {
        match &record.check.return_url {
            Some(url) => {
                let code = credential_formats::crypto::random_token(16)?;
                let separator = if url.contains('?') { '&' } else { '?' };
                let digest = sha256(code.as_bytes());
                Ok((
                    Some(format!("{url}{separator}response_code={code}")),
                    Some(digest),
                ))
            }
            None => Ok((None, None)),
        }
    }

    async fn complete(
        &self,
        record: &CheckRecord,
        platform: &Platform,
        passed: Passed<'_>,
    ) -> Result<WalletAnswer, Error> {
        let now = self.now();
        let check = &record.check;
        let account = match passed.handle {
            Some(handle) => {
                let pseudonym = self.keys.pseudonym.pseudonym(&platform.id, handle);
                let escrow_key = self.escrow_key()?;
                let sealed = escrow::seal(
                    &escrow_key,
                    &EscrowRecord {
                        person_handle: handle.to_owned(),
                        platform_id: platform.id.clone(),
                        pseudonym: pseudonym.clone(),
                        account_reference: check.account_reference.clone(),
                        check_id: check.id.clone(),
                        time: now,
                        evidence_digest: URL_SAFE_NO_PAD.encode(passed.evidence),
                    },
                )?;
                Some(AccountEntry {
                    pseudonym,
                    record_id: random_hex(16)?,
                    sealed: sealed.to_compact(),
                })
            }
            None => None,
        };
        let attestation = self.sign_attestation(
            check,
            &passed.checks,
            account.as_ref().map(|a| a.pseudonym.clone()),
            now,
        )?;
        let (redirect_uri, response_code_hash) = self.response_code(record)?;
        let completion = Completion {
            check_id: check.id.clone(),
            now,
            copies: passed.copies,
            account,
            event: self.event(platform, check, "check.completed", &attestation)?,
            attestation,
            response_code_hash,
        };
        match self.store.complete(&completion).await? {
            Settlement::Settled => Ok(WalletAnswer { redirect_uri }),
            Settlement::CopyReused => {
                self.settle_failed(record, "copy_reused").await?;
                Err(Error::CopyReused)
            }
            Settlement::Expired => Err(Error::Expired),
            Settlement::NotPending => Err(Error::AlreadyAnswered),
        }
    }

    async fn settle_failed(&self, record: &CheckRecord, refusal: &str) -> Result<(), Error> {
        let now = self.now();
        let check = &record.check;
        let platform = self
            .store
            .platform(&check.platform_id)
            .await?
            .ok_or(Error::NotFound)?;
        let attestation = self.sign_attestation(check, &[], None, now)?;
        let (_, response_code_hash) = self.response_code(record)?;
        let failure = Failure {
            check_id: check.id.clone(),
            now,
            refusal: refusal.to_owned(),
            event: self.event(&platform, check, "check.failed", &attestation)?,
            attestation,
            response_code_hash,
        };
        match self.store.fail(&failure).await? {
            Settlement::Settled => {
                tracing::info!(refusal, "check failed");
                Ok(())
            }
            Settlement::Expired => Err(Error::Expired),
            Settlement::NotPending | Settlement::CopyReused => Err(Error::AlreadyAnswered),
        }
    }

    fn sign_attestation(
        &self,
        check: &NewCheck,
        passed: &[Check],
        pseudonym: Option<String>,
        now: i64,
    ) -> Result<String, Error> {
        let attestation = if passed.is_empty() {
            Attestation::not_verified(
                &self.settings.public_url,
                &check.platform_id,
                &check.id,
                now,
                self.settings.attestation_ttl,
            )?
        } else {
            Attestation::verified(
                &self.settings.public_url,
                &check.platform_id,
                &check.id,
                passed,
                pseudonym,
                now,
                self.settings.attestation_ttl,
            )?
        };
        Ok(attestation.sign(&*self.attestation_signer, &self.attestation_kid)?)
    }

    fn event(
        &self,
        platform: &Platform,
        check: &NewCheck,
        kind: &str,
        attestation: &str,
    ) -> Result<Option<WebhookEvent>, Error> {
        if platform.webhook_url.is_none() {
            return Ok(None);
        }
        let id = format!("evt_{}", random_hex(16)?);
        let payload = json!({
            "type": kind,
            "timestamp": self.now(),
            "data": {"check_id": check.id, "attestation": attestation},
        });
        Ok(Some(WebhookEvent {
            id,
            platform_id: platform.id.clone(),
            check_id: check.id.clone(),
            payload: payload.to_string(),
        }))
    }

    /// Records the wallet's error response (`access_denied` when the citizen declined or
    /// has nothing to present): the check fails, as any refusal does.
    pub async fn fail_check(&self, check_id: &str, refusal: &str) -> Result<(), Error> {
        let (record, _) = self.pending_check(check_id).await?;
        self.settle_failed(&record, refusal).await
    }

    /// A check of `platform`'s. Another platform's check is [`Error::NotFound`], as an
    /// unknown one is. With `response_code` (from a same-device redirect), the code must
    /// be the one handed out.
    pub async fn check_for(
        &self,
        platform: &Platform,
        check_id: &str,
        response_code: Option<&str>,
    ) -> Result<CheckView, Error> {
        let record = self
            .store
            .check(check_id)
            .await?
            .filter(|r| r.check.platform_id == platform.id)
            .ok_or(Error::NotFound)?;
        if let Some(code) = response_code {
            let expected = record.response_code_hash.ok_or(Error::WrongResponseCode)?;
            if !bool::from(sha256(code.as_bytes()).ct_eq(&expected)) {
                return Err(Error::WrongResponseCode);
            }
        }
        let account = match &record.pseudonym {
            Some(pseudonym) => self.store.account(&platform.id, pseudonym).await?,
            None => None,
        };
        Ok(CheckView {
            status: record.status_at(self.now()),
            record,
            account,
        })
    }

    /// Forgets what is no longer needed.
    pub async fn purge(&self) -> Result<u64, Error> {
        self.store.purge(self.now(), self.settings.retention).await
    }
}

/// What a verified presentation passed, before it is settled.
struct Passed<'v> {
    checks: Vec<Check>,
    handle: Option<&'v str>,
    copies: Vec<PresentedCopy>,
    evidence: [u8; 32],
}

/// The DCQL query id of the person attestation.
const PERSON_QUERY: &str = "person";

/// The DCQL query for `checks`: one person attestation, disclosing `age_over_18` only if it
/// is `true` (a minor's wallet finds no match, and says nothing) and `person_handle` only for
/// an accountable check.
pub fn dcql_query(checks: &[Check]) -> Result<DcqlQuery, Error> {
    let mut claims = Vec::new();
    if checks.contains(&Check::AgeOver18) {
        claims.push(json!({"id": "age", "path": ["age_over_18"], "values": [true]}));
    }
    if checks.contains(&Check::VerifiedPerson) {
        claims.push(json!({"id": "handle", "path": ["person_handle"]}));
    }
    Ok(DcqlQuery::from_json(json!({
        "credentials": [{
            "id": PERSON_QUERY,
            "format": "dc+sd-jwt",
            "meta": {"vct_values": [CredentialType::PersonAttestation.vct()]},
            "claims": claims,
        }]
    }))?)
}

fn purpose(checks: &[Check]) -> &'static str {
    match (
        checks.contains(&Check::AgeOver18),
        checks.contains(&Check::VerifiedPerson),
    ) {
        (true, true) => "Confirm that this account belongs to a verified adult",
        (false, true) => "Confirm that this account belongs to a verified person",
        _ => "Confirm that you are over 18, anonymously",
    }
}

fn check_https_url(url: &str, what: &str) -> Result<(), Error> {
    let parsed =
        reqwest::Url::parse(url).map_err(|_| Error::Invalid(format!("{what} is not a URL")))?;
    if parsed.scheme() != "https" || parsed.host_str().is_none() || url.len() > 2048 {
        return Err(Error::Invalid(format!("{what} must be an https URL")));
    }
    if parsed.username() != "" || parsed.password().is_some() || parsed.fragment().is_some() {
        return Err(Error::Invalid(format!(
            "{what} must not carry credentials or a fragment"
        )));
    }
    Ok(())
}
