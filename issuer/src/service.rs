//! The issuer's operations, shared by the HTTP routes and the command line.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use credential_formats::credentials::CredentialType;
use credential_formats::crypto::{AwsLc, CryptoProvider, Signer};
use credential_formats::jose::{Jwk, PrivateJwk};
use credential_formats::oid4vci::{
    CredentialOffer, CredentialOfferUri, CredentialRequest, CredentialRequestTarget,
    CredentialResponse, Endpoint, Grants, InputMode, IssuedCredential, NonceResponse,
    PRE_AUTHORIZED_CODE_GRANT, PreAuthorizedCodeGrant, ProofTimePolicy, Proofs, TokenRequest,
    TokenResponse, TxCode, verify_proof,
};
use credential_formats::status_list::{
    StatusBits, StatusList, StatusListToken, StatusReference, UriPolicy,
};
use credential_formats::time::Clock;
use credential_formats::trust_list::TrustList;
use service_kit::ApiError;
use service_kit::translog::TransparencyLog;

use crate::Error;
use crate::issuance::{self, OfferPayload, Profile, ToSign};
use crate::register::{Enrolment, RegisterKey};
use crate::store::{
    CredentialRecord, CredentialStatus, Digest, IssuerStore, ListPolicy, NewCredential, NewOffer,
    Redemption, Reservation, Transition,
};

/// How long things live, how big batches are: the issuer's policy.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The Credential Issuer Identifier: the public `https` base URL, without a path.
    pub credential_issuer: String,
    /// State or provider.
    pub profile: Profile,
    /// `batch_credential_issuance.batch_size`: most credentials per request.
    pub batch_size: u32,
    /// Seconds a pre-authorized code stays usable.
    pub offer_ttl: i64,
    /// Seconds an access token lives.
    pub token_ttl: i64,
    /// Seconds a `c_nonce` lives.
    pub nonce_ttl: i64,
    /// Wrong `tx_code`s after which the code is dead.
    pub max_tx_failures: u32,
    /// Digits of the `tx_code`.
    pub tx_code_length: u32,
    /// Seconds each type is valid for.
    pub validity: Validity,
    /// Person attestations' `iat` is rounded down to this many seconds, so copies from
    /// different batches of a day look alike.
    pub time_granularity: i64,
    /// `ttl` of status list tokens (seconds), and their cache lifetime.
    pub status_ttl: u64,
    /// Seconds a status list token is valid (`exp - iat`).
    pub status_validity: i64,
    /// Status list sizing.
    pub list_policy: ListPolicy,
    /// How old or early a key proof may be.
    pub proof_policy: ProofTimePolicy,
}

/// Validity per credential type, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Validity {
    /// PID: a year.
    pub pid: i64,
    /// Person attestations: 30 days by default (short-lived single-use copies).
    pub person_attestation: i64,
    /// Training account: a year.
    pub training_account: i64,
    /// Qualifications: ten years (the status list is what withdraws one).
    pub qualification: i64,
}

impl Default for Validity {
    fn default() -> Validity {
        Validity {
            pid: 365 * DAY,
            person_attestation: 30 * DAY,
            training_account: 365 * DAY,
            qualification: 3_650 * DAY,
        }
    }
}

const DAY: i64 = 86_400;

impl Settings {
    /// Defaults for an issuer at `credential_issuer`.
    pub fn new(credential_issuer: impl Into<String>, profile: Profile) -> Settings {
        Settings {
            credential_issuer: credential_issuer.into(),
            profile,
            batch_size: 50,
            offer_ttl: 900,
            token_ttl: 300,
            nonce_ttl: 300,
            max_tx_failures: 5,
            tx_code_length: 6,
            validity: Validity::default(),
            time_granularity: DAY,
            status_ttl: 300,
            status_validity: DAY,
            list_policy: ListPolicy::default(),
            proof_policy: ProofTimePolicy::default(),
        }
    }

    fn validity_of(&self, t: CredentialType) -> i64 {
        match t {
            CredentialType::Pid => self.validity.pid,
            CredentialType::PersonAttestation => self.validity.person_attestation,
            CredentialType::TrainingAccount => self.validity.training_account,
            _ => self.validity.qualification,
        }
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.credential_issuer)
    }
}

/// The keys and lists the issuer works with.
#[derive(Debug)]
pub struct Keys {
    /// The credential (and status list) signing key, with its `kid`.
    pub signing: PrivateJwk,
    /// `K_reg`: only the State profile has one.
    pub register: Option<RegisterKey>,
    /// The server MAC key (shared by replicas, never in the database): it makes the
    /// stateless `c_nonce`s, derives pre-authorized codes from offer ids, and keys the
    /// `tx_code` checks, so a copy of the database alone can neither show an open offer's
    /// code nor test `tx_code` guesses offline.
    pub mac: Zeroizing<[u8; 32]>,
}

/// The server MAC key, with a label per use.
struct MacKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey(..)")
    }
}

impl MacKey {
    /// HMAC-SHA256 over `label` and the length-prefixed `parts`.
    fn mac(&self, label: &[u8], parts: &[&[u8]]) -> Result<[u8; 32], Error> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0[..])
            .map_err(|_| Error::Config("MAC key".into()))?;
        mac.update(label);
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        Ok(mac.finalize().into_bytes().into())
    }

    /// The pre-authorized code of an offer: never stored, re-derived when the offer is
    /// fetched by reference.
    fn pre_authorized_code(&self, offer_id: &str) -> Result<String, Error> {
        Ok(URL_SAFE_NO_PAD.encode(self.mac(b"pre-authorized_code/v1", &[offer_id.as_bytes()])?))
    }

    /// What the store keeps to check a `tx_code` against.
    fn tx_code_check(&self, code: &str, tx_code: &str) -> Result<Digest, Error> {
        self.mac(b"tx_code/v1", &[code.as_bytes(), tx_code.as_bytes()])
    }

    /// A stateless `c_nonce` (`service_kit::nonce`, label `c_nonce/v1`).
    fn make(&self, expires_at: i64) -> Result<String, Error> {
        Ok(service_kit::nonce::make(&self.0, NONCE_LABEL, expires_at)?)
    }

    /// The nonce's expiry, if it is one of ours and has not expired.
    fn check(&self, nonce: &str, now: i64) -> Option<i64> {
        service_kit::nonce::check(&self.0, NONCE_LABEL, nonce, now)
    }
}

/// The MAC label of the issuer's `c_nonce`s.
const NONCE_LABEL: &[u8] = b"c_nonce/v1";

/// A signed trust list the issuer serves, and checks its own authorisation against.
#[derive(Debug, Clone)]
pub struct PublishedTrustList {
    /// The `trust-list+jwt` as signed by the authority.
    pub jwt: String,
    /// Its verified content.
    pub list: TrustList,
}

/// The issuer.
#[derive(Debug)]
pub struct Issuer {
    settings: Settings,
    store: Arc<dyn IssuerStore>,
    // Shared with the blocking pool, where the signing happens.
    signer: Arc<dyn Signer>,
    public_jwk: Jwk,
    kid: String,
    register: Option<RegisterKey>,
    mac: MacKey,
    trust_list: Option<PublishedTrustList>,
    clock: Arc<dyn Clock>,
    status_cache: Mutex<HashMap<i64, Published>>,
    register_log: Option<Arc<TransparencyLog>>,
}

#[derive(Debug, Clone)]
struct Published {
    revision: i64,
    iat: i64,
    jwt: Arc<str>,
}

/// A new person of the register.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Enrolled {
    /// The register's id of the person.
    pub person_id: String,
    /// `false` when the national number was enrolled already (its attributes were updated).
    pub created: bool,
}

/// What the admin asks an offer for.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferRequest {
    /// The person, for PID, person attestations and training accounts.
    #[serde(default)]
    pub person_id: Option<String>,
    /// `credential_configuration_id`s.
    pub credential_configuration_ids: Vec<String>,
    /// Claims that do not come from the register.
    #[serde(default, flatten)]
    pub payload: OfferPayload,
    /// Offer by value (`credential_offer`) instead of by reference (`credential_offer_uri`,
    /// the default: shorter QR codes, and nothing secret in the link).
    #[serde(default)]
    pub by_value: bool,
}

/// An offer, ready to hand to the person.
#[derive(Clone, serde::Serialize)]
pub struct CreatedOffer {
    /// Its id.
    pub offer_id: String,
    /// `openid-credential-offer://?…`: the link and QR code content.
    pub offer_uri: String,
    /// The offer object.
    pub credential_offer: Value,
    /// The transaction code, to give the person out of band (never inside the QR code).
    pub tx_code: String,
    /// When the pre-authorized code stops working.
    pub expires_at: i64,
}

impl std::fmt::Debug for CreatedOffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedOffer")
            .field("offer_id", &self.offer_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

fn sha256(parts: &[&[u8]]) -> Digest {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

fn code_hash(code: &str) -> Digest {
    sha256(&[b"pre-authorized_code", code.as_bytes()])
}

fn token_hash(token: &str) -> Digest {
    sha256(&[b"access_token", token.as_bytes()])
}

fn nonce_hash(nonce: &str) -> Digest {
    sha256(&[b"c_nonce", nonce.as_bytes()])
}

/// A numeric `tx_code` of `len` digits, uniform (rejection sampling on random bytes).
fn numeric_code(len: u32) -> Result<String, Error> {
    let mut out = String::with_capacity(len as usize);
    while out.len() < len as usize {
        let mut bytes = [0u8; 16];
        credential_formats::crypto::fill_random(&mut bytes)?;
        for b in bytes {
            if b < 250 && out.len() < len as usize {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    Ok(out)
}

fn credential_error(error: &'static str, description: impl Into<String>) -> ApiError {
    ApiError::bad_request(error, description.into())
}

fn format_error(e: &credential_formats::Error, endpoint: Endpoint) -> ApiError {
    ApiError::bad_request(e.error_code(endpoint), e.to_string())
}

impl Issuer {
    /// An issuer over `store`, signing with `keys`, serving `trust_list` if given.
    pub fn new(
        settings: Settings,
        store: Arc<dyn IssuerStore>,
        keys: Keys,
        trust_list: Option<PublishedTrustList>,
        clock: Arc<dyn Clock>,
    ) -> Result<Issuer, Error> {
        let url = &settings.credential_issuer;
        let rest = url
            .strip_prefix("https://")
            .ok_or_else(|| Error::Config("the public URL must be https://".into()))?;
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(Error::Config(
                "the public URL is scheme and host[:port] only, without a path".into(),
            ));
        }
        if settings.batch_size == 0 || settings.tx_code_length < 4 {
            return Err(Error::Config(
                "batch size must be positive, tx_code at least 4 digits".into(),
            ));
        }
        if !settings.list_policy.capacity.is_power_of_two()
            || settings.list_policy.max_allocated >= settings.list_policy.capacity
        {
            return Err(Error::Config(
                "status list capacity must be a power of two".into(),
            ));
        }
        if matches!(settings.profile, Profile::State { .. }) && keys.register.is_none() {
            return Err(Error::Config(
                "the State profile needs the register key".into(),
            ));
        }
        let kid = keys
            .signing
            .kid()
            .map(str::to_owned)
            .unwrap_or_else(|| keys.signing.public().thumbprint());
        let signer: Arc<dyn Signer> = Arc::from(AwsLc.signer(keys.signing.secret())?);
        let public_jwk = keys
            .signing
            .public()
            .with_kid(kid.clone())
            .with_alg("ES256")
            .with_use("sig");
        if let Some(trust) = &trust_list {
            if let Profile::Provider { .. } = settings.profile {
                // A provider must be in the list, under its own identifier, with this key.
                trust.list.entity_by_key(public_jwk.key()).map_err(|_| {
                    Error::Config("this provider's key is not in the trust list".into())
                })?;
            }
        } else if let Profile::Provider { .. } = settings.profile {
            return Err(Error::Config(
                "a provider needs the trust list that accredits it".into(),
            ));
        }
        Ok(Issuer {
            settings,
            store,
            signer,
            public_jwk,
            kid,
            register: keys.register,
            mac: MacKey(keys.mac),
            trust_list,
            clock,
            status_cache: Mutex::new(HashMap::new()),
            register_log: None,
        })
    }

    /// Gives the register its transparency log of court-order resolutions (the State
    /// profile; without one, `/register/resolve` does not exist).
    #[must_use]
    pub fn with_register_log(mut self, log: Arc<TransparencyLog>) -> Issuer {
        self.register_log = Some(log);
        self
    }

    /// The register's transparency log, if this is the State register.
    pub fn register_log(&self) -> Option<&Arc<TransparencyLog>> {
        self.register_log.as_ref()
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn IssuerStore> {
        &self.store
    }

    /// The public signing key, with `kid`.
    pub fn public_jwk(&self) -> &Jwk {
        &self.public_jwk
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    // ---------------------------------------------------------------- register and offers

    /// Records a person in the register (State profile).
    pub async fn enrol(&self, enrolment: Enrolment) -> Result<Enrolled, Error> {
        let Profile::State {
            issuing_authority,
            issuing_country,
            ..
        } = &self.settings.profile
        else {
            return Err(Error::Conflict("providers keep no register".into()));
        };
        let key = self
            .register
            .as_ref()
            .ok_or_else(|| Error::Config("no register key".into()))?;
        let person = enrolment.into_person(key, issuing_authority, issuing_country)?;
        let (person_id, created) = self.store.enrol(&person, self.now()).await?;
        tracing::info!(%person_id, created, "person enrolled");
        Ok(Enrolled { person_id, created })
    }

    /// Makes a credential offer with a pre-authorized code and a `tx_code`.
    pub async fn create_offer(&self, request: OfferRequest) -> Result<CreatedOffer, Error> {
        let now = self.now();
        let ids: BTreeSet<&str> = request
            .credential_configuration_ids
            .iter()
            .map(String::as_str)
            .collect();
        if ids.is_empty() || ids.len() != request.credential_configuration_ids.len() {
            return Err(Error::Invalid(
                "credential_configuration_ids must be non-empty and unique".into(),
            ));
        }
        let mut types = Vec::new();
        for id in &request.credential_configuration_ids {
            let t = CredentialType::ALL
                .into_iter()
                .find(|t| t.configuration_id() == id)
                .filter(|t| self.settings.profile.issues(*t))
                .ok_or_else(|| Error::Invalid(format!("{id} is not offered by this issuer")))?;
            types.push(t);
        }
        let person = match &request.person_id {
            Some(id) => Some(
                self.store
                    .person(id)
                    .await?
                    .ok_or(Error::NotFound("person"))?,
            ),
            None => None,
        };
        // Build every credential's claims now, so a bad offer fails here and not in the
        // wallet's hands.
        for t in &types {
            issuance::claims_for(
                *t,
                &self.settings.profile,
                person.as_ref(),
                &request.payload,
                now,
            )?;
            if *t == CredentialType::Qualification {
                self.check_accreditation(&request.payload, now)?;
            }
        }

        let offer_id = credential_formats::crypto::random_hex(16)?;
        let code = self.mac.pre_authorized_code(&offer_id)?;
        let tx_code = numeric_code(self.settings.tx_code_length)?;
        let offer = self.offer_object(&offer_id, &request.credential_configuration_ids)?;
        let offer_json = offer.to_json();
        let link = if request.by_value {
            CredentialOfferUri::ByValue(offer.clone())
        } else {
            CredentialOfferUri::ByReference(
                self.settings
                    .endpoint(&format!("/credential-offer/{offer_id}")),
            )
        };
        let expires_at = now + self.settings.offer_ttl;
        let payload = if request.payload.training_account.is_some()
            || request.payload.qualification.is_some()
        {
            Some(serde_json::to_value(&request.payload).map_err(|_| Error::Corrupt("payload"))?)
        } else {
            None
        };
        self.store
            .insert_offer(&NewOffer {
                id: offer_id.clone(),
                code_hash: code_hash(&code),
                tx_code_check: Some(self.mac.tx_code_check(&code, &tx_code)?),
                person_id: request.person_id.clone(),
                configuration_ids: request.credential_configuration_ids.clone(),
                payload,
                by_reference: !request.by_value,
                created_at: now,
                expires_at,
            })
            .await?;
        tracing::info!(%offer_id, configurations = ids.len(), "credential offer made");
        Ok(CreatedOffer {
            offer_id,
            offer_uri: link.to_uri(),
            credential_offer: serde_json::from_str(&offer_json)
                .map_err(|_| Error::Corrupt("offer"))?,
            tx_code,
            expires_at,
        })
    }

    fn check_accreditation(&self, payload: &OfferPayload, now: i64) -> Result<(), Error> {
        let Profile::Provider { .. } = self.settings.profile else {
            return Ok(());
        };
        let course = payload
            .qualification
            .as_ref()
            .map(|q| q.course_reference.as_str())
            .ok_or(Error::Invalid("qualification is required".into()))?;
        let trust = self
            .trust_list
            .as_ref()
            .ok_or_else(|| Error::Config("no trust list".into()))?;
        trust
            .list
            .provider_for_course(self.public_jwk.key(), course, now)
            .map_err(|_| {
                Error::Conflict("this provider is not accredited for that course".into())
            })?;
        Ok(())
    }

    /// The offer object, its code derived from the offer id.
    fn offer_object(
        &self,
        offer_id: &str,
        configuration_ids: &[String],
    ) -> Result<CredentialOffer, Error> {
        let tx = TxCode::new(
            Some(InputMode::Numeric),
            Some(self.settings.tx_code_length),
            Some("The code you were given at the desk".into()),
        )?;
        let grant =
            PreAuthorizedCodeGrant::new(self.mac.pre_authorized_code(offer_id)?, Some(tx), None)?;
        Ok(CredentialOffer::new(
            self.settings.credential_issuer.clone(),
            configuration_ids.to_vec(),
            Some(Grants {
                authorization_code: None,
                pre_authorized_code: Some(grant),
            }),
        )?)
    }

    /// The body of an open by-reference offer (`GET credential_offer_uri`), rebuilt from the
    /// offer id: the pre-authorized code is never stored.
    pub async fn offer_body(&self, id: &str) -> Result<Option<String>, Error> {
        match self.store.open_offer_by_reference(id, self.now()).await? {
            Some(configuration_ids) => {
                Ok(Some(self.offer_object(id, &configuration_ids)?.to_json()))
            }
            None => Ok(None),
        }
    }

    // ---------------------------------------------------------------- OpenID4VCI endpoints

    /// The Token Endpoint (§6): redeems a pre-authorized code with its `tx_code`.
    pub async fn token(&self, form: &str) -> Result<TokenResponse, ApiError> {
        let request =
            TokenRequest::parse_form(form).map_err(|e| format_error(&e, Endpoint::Token))?;
        let TokenRequest::PreAuthorizedCode {
            pre_authorized_code,
            tx_code,
            ..
        } = request
        else {
            return Err(ApiError::bad_request(
                "unsupported_grant_type",
                format!("only {PRE_AUTHORIZED_CODE_GRANT} is supported"),
            ));
        };
        let now = self.now();
        let token = credential_formats::crypto::random_token(32).map_err(ApiError::internal)?;
        let check = tx_code
            .as_deref()
            .map(|t| self.mac.tx_code_check(&pre_authorized_code, t))
            .transpose()
            .map_err(ApiError::internal)?;
        let outcome = self
            .store
            .redeem(
                &code_hash(&pre_authorized_code),
                check.as_ref(),
                &token_hash(&token),
                now + self.settings.token_ttl,
                self.settings.max_tx_failures,
                now,
            )
            .await
            .map_err(ApiError::internal)?;
        match outcome {
            Redemption::Redeemed(grant) => {
                tracing::info!(offer_id = %grant.offer_id, "pre-authorized code redeemed");
                TokenResponse::new(
                    token,
                    "Bearer",
                    u64::try_from(self.settings.token_ttl).ok(),
                    None,
                )
                .map_err(ApiError::internal)
            }
            Redemption::TxCodeMissing => Err(ApiError::bad_request(
                "invalid_request",
                "this offer requires a tx_code",
            )),
            Redemption::WrongTxCode { remaining } => {
                tracing::warn!(remaining, "wrong tx_code");
                Err(ApiError::bad_request(
                    "invalid_grant",
                    if remaining == 0 {
                        "wrong tx_code; the pre-authorized code is now invalid".to_owned()
                    } else {
                        format!("wrong tx_code; {remaining} tries left")
                    },
                ))
            }
            Redemption::Invalid => Err(ApiError::bad_request(
                "invalid_grant",
                "the pre-authorized code is invalid, expired or already used",
            )),
        }
    }

    /// The Nonce Endpoint (§7): a fresh `c_nonce`, valid once. Stateless — 128 random bits
    /// and the expiry under a MAC — so this unauthenticated endpoint writes nothing; what is
    /// recorded is each nonce's use, by an authenticated credential request.
    pub async fn nonce(&self) -> Result<NonceResponse, ApiError> {
        let nonce = self
            .mac
            .make(self.now() + self.settings.nonce_ttl)
            .map_err(ApiError::internal)?;
        NonceResponse::new(nonce).map_err(ApiError::internal)
    }

    /// The expiry of a `c_nonce` this issuer gave at the Nonce Endpoint, if it is one of
    /// ours and has not expired (the stateless check; its use is recorded by
    /// [`Issuer::use_c_nonce`]).
    pub(crate) fn c_nonce_expiry(&self, nonce: &str, now: i64) -> Option<i64> {
        self.mac.check(nonce, now)
    }

    /// Records the use of a checked `c_nonce` in the same single-use record the Credential
    /// Endpoint keeps: `true` the first time, `false` for a replay (whatever it served).
    pub(crate) async fn use_c_nonce(&self, nonce: &str, expires_at: i64) -> Result<bool, Error> {
        self.store.use_nonce(&nonce_hash(nonce), expires_at).await
    }

    /// The Credential Endpoint (§8): one credential per key proof.
    pub async fn credential(
        &self,
        access_token: &str,
        body: &[u8],
    ) -> Result<CredentialResponse, ApiError> {
        let now = self.now();
        let grant = self
            .store
            .grant(&token_hash(access_token), now)
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(ApiError::unauthorized)?;
        let request =
            CredentialRequest::parse(body).map_err(|e| format_error(&e, Endpoint::Credential))?;
        if request.credential_response_encryption().is_some() {
            return Err(credential_error(
                "invalid_encryption_parameters",
                "this issuer does not encrypt credential responses",
            ));
        }
        let configuration_id = match request.target() {
            CredentialRequestTarget::CredentialConfigurationId(id) => id.as_str(),
            CredentialRequestTarget::CredentialIdentifier(_) => {
                return Err(credential_error(
                    "unknown_credential_identifier",
                    "this issuer issues no credential identifiers",
                ));
            }
        };
        let Some(t) = CredentialType::ALL
            .into_iter()
            .find(|t| t.configuration_id() == configuration_id)
            .filter(|t| self.settings.profile.issues(*t))
        else {
            return Err(credential_error(
                "unknown_credential_configuration",
                "unknown credential_configuration_id",
            ));
        };
        if !grant
            .configuration_ids
            .iter()
            .any(|c| c == configuration_id)
        {
            // RFC 6750 §3: a token that does not enable the access gets a challenge too.
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "the access token does not cover this credential configuration",
            )
            .with_challenge("Bearer error=\"insufficient_scope\""));
        }
        let proofs = match request.proofs() {
            Some(Proofs::Jwt(jwts)) => jwts,
            None => {
                return Err(credential_error("invalid_proof", "proofs are required"));
            }
        };
        if proofs.is_empty() {
            return Err(credential_error("invalid_proof", "proofs.jwt is empty"));
        }
        if proofs.len() > self.settings.batch_size as usize {
            return Err(credential_error(
                "invalid_credential_request",
                format!("at most {} proofs per request", self.settings.batch_size),
            ));
        }

        // Thirty signature checks take about a millisecond: on the blocking pool, so they do
        // not hold up the other requests of this worker thread.
        let verified = {
            let jwts = proofs.clone();
            let aud = self.settings.credential_issuer.clone();
            let policy = self.settings.proof_policy;
            tokio::task::spawn_blocking(move || {
                jwts.iter()
                    .map(|jwt| {
                        verify_proof(&AwsLc, jwt, &aud, now, policy)
                            .map_err(|e| format_error(&e, Endpoint::Credential))
                    })
                    .collect::<Result<Vec<_>, ApiError>>()
            })
            .await
            .map_err(ApiError::internal)??
        };
        let mut holders = Vec::with_capacity(verified.len());
        let mut thumbprints = BTreeSet::new();
        let mut nonces = BTreeSet::new();
        for proof in verified {
            if !thumbprints.insert(proof.jwk.thumbprint()) {
                return Err(credential_error(
                    "invalid_proof",
                    "each proof must be made with a distinct key",
                ));
            }
            nonces.insert(proof.nonce.clone());
            holders.push(proof.jwk);
        }
        for nonce in &nonces {
            let fresh = match self.mac.check(nonce, now) {
                Some(expires_at) => self
                    .store
                    .use_nonce(&nonce_hash(nonce), expires_at)
                    .await
                    .map_err(ApiError::internal)?,
                None => false,
            };
            if !fresh {
                return Err(credential_error(
                    "invalid_nonce",
                    "c_nonce unknown, expired or used; fetch a new one",
                ));
            }
        }

        let person = match &grant.person_id {
            Some(id) => Some(
                self.store
                    .person(id)
                    .await
                    .map_err(ApiError::internal)?
                    .ok_or_else(|| ApiError::internal("offer of a person no longer enrolled"))?,
            ),
            None => None,
        };
        let payload: OfferPayload = match &grant.payload {
            Some(v) => serde_json::from_value(v.clone()).map_err(ApiError::internal)?,
            None => OfferPayload::default(),
        };
        if t == CredentialType::Qualification {
            self.check_accreditation(&payload, now)
                .map_err(|e| credential_error("credential_request_denied", e.to_string()))?;
        }
        let claims =
            issuance::claims_for(t, &self.settings.profile, person.as_ref(), &payload, now)
                .map_err(|e| credential_error("credential_request_denied", e.to_string()))?;

        let iat = if t.single_use() {
            now - now.rem_euclid(self.settings.time_granularity.max(1))
        } else {
            now
        };
        let exp = iat + self.settings.validity_of(t);
        let mut records = Vec::with_capacity(holders.len());
        for _ in &holders {
            records.push(NewCredential {
                id: credential_formats::crypto::random_hex(16).map_err(ApiError::internal)?,
                vct: t.vct().to_owned(),
                person_id: grant.person_id.clone(),
                issued_at: iat,
                expires_at: exp,
            });
        }
        let slots = match self
            .store
            .reserve(
                &grant.offer_id,
                configuration_id,
                &records,
                self.settings.list_policy,
                now,
            )
            .await
            .map_err(ApiError::internal)?
        {
            Reservation::Reserved(slots) => slots,
            Reservation::AlreadyIssued => {
                return Err(credential_error(
                    "credential_request_denied",
                    "this credential configuration of the offer was issued already",
                ));
            }
        };

        let mut jobs = Vec::with_capacity(holders.len());
        for (holder, slot) in holders.into_iter().zip(slots) {
            let status = StatusReference::new_with(
                u64::from(slot.idx),
                self.status_uri(slot.list_id),
                UriPolicy::HttpsOnly,
            )
            .map_err(|e| ApiError::internal(credential_formats::Error::from(e)))?;
            jobs.push((holder, status));
        }
        // Building and signing the batch: on the blocking pool too.
        let credentials = {
            let signer = self.signer.clone();
            let issuer = self.settings.credential_issuer.clone();
            let kid = self.kid.clone();
            tokio::task::spawn_blocking(move || {
                jobs.into_iter()
                    .map(|(holder, status)| {
                        issuance::sign(
                            &*signer,
                            ToSign {
                                issuer: &issuer,
                                kid: &kid,
                                vct: t.vct(),
                                claims: &claims,
                                holder,
                                status,
                                iat,
                                exp,
                            },
                        )
                        .map(|credential| IssuedCredential { credential })
                    })
                    .collect::<Result<Vec<_>, Error>>()
            })
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?
        };
        tracing::info!(
            offer_id = %grant.offer_id,
            configuration = configuration_id,
            count = credentials.len(),
            "credentials issued"
        );
        Ok(CredentialResponse::Immediate {
            credentials,
            notification_id: None,
        })
    }

    fn status_uri(&self, list_id: i64) -> String {
        self.settings.endpoint(&format!("/status/{list_id}"))
    }

    // ---------------------------------------------------------------- status management

    /// Moves a credential to `to`; visible in its list's next publication.
    pub async fn set_status(&self, id: &str, to: CredentialStatus) -> Result<Transition, Error> {
        let outcome = self.store.set_status(id, to).await?;
        if outcome == Transition::Changed {
            tracing::info!(
                credential_id = id,
                status = to.name(),
                "credential status changed"
            );
        }
        Ok(outcome)
    }

    /// A person's credentials.
    pub async fn credentials_of(&self, person_id: &str) -> Result<Vec<CredentialRecord>, Error> {
        self.store.credentials_of(person_id).await
    }

    /// The signed Status List Token of a list, re-signed when its content changed or half
    /// its `ttl` has passed; `None` for an unknown list.
    pub async fn status_list_token(&self, list_id: i64) -> Result<Option<Arc<str>>, Error> {
        let now = self.now();
        let Some(revision) = self.store.list_revision(list_id).await? else {
            return Ok(None);
        };
        let half_ttl = i64::try_from(self.settings.status_ttl / 2).unwrap_or(i64::MAX);
        if let Ok(cache) = self.status_cache.lock()
            && let Some(p) = cache.get(&list_id)
            && p.revision == revision
            && now - p.iat < half_ttl
        {
            return Ok(Some(p.jwt.clone()));
        }
        let Some(snapshot) = self.store.status_list(list_id).await? else {
            return Ok(None);
        };
        let mut list = StatusList::with_capacity(StatusBits::Two, snapshot.capacity as usize)
            .map_err(credential_formats::Error::from)?;
        for (idx, status) in &snapshot.entries {
            list.set(u64::from(*idx), *status)
                .map_err(credential_formats::Error::from)?;
        }
        let jwt: Arc<str> = StatusListToken::new(self.status_uri(list_id), now, list)
            .and_then(|t| t.with_exp(now + self.settings.status_validity))
            .and_then(|t| t.with_ttl(self.settings.status_ttl))
            .map_err(credential_formats::Error::from)?
            .sign(&*self.signer, Some(&self.kid))?
            .into();
        if let Ok(mut cache) = self.status_cache.lock() {
            cache.insert(
                list_id,
                Published {
                    revision: snapshot.revision,
                    iat: now,
                    jwt: jwt.clone(),
                },
            );
        }
        Ok(Some(jwt))
    }

    /// The trust list this issuer serves, if any.
    pub fn trust_list(&self) -> Option<&PublishedTrustList> {
        self.trust_list.as_ref()
    }

    /// Deletes expired nonces, tokens and offers.
    pub async fn purge_expired(&self) -> Result<u64, Error> {
        self.store.purge_expired(self.now()).await
    }

    // ---------------------------------------------------------------- metadata

    /// Credential Issuer Metadata (§12.2).
    pub fn credential_issuer_metadata(&self) -> Value {
        let locales = ["en", "fr", "nl"];
        let display = |labels: [&str; 3]| -> Value {
            Value::Array(
                labels
                    .iter()
                    .zip(locales)
                    .map(|(name, locale)| json!({"name": name, "locale": locale}))
                    .collect(),
            )
        };
        let mut configurations = serde_json::Map::new();
        for t in self.settings.profile.types() {
            let claims: Vec<Value> = t
                .claims()
                .iter()
                .map(|c| {
                    json!({
                        "path": [c.name],
                        "mandatory": c.mandatory,
                        "display": display(c.labels),
                    })
                })
                .collect();
            configurations.insert(
                t.configuration_id().to_owned(),
                json!({
                    "format": "dc+sd-jwt",
                    "vct": t.vct(),
                    "scope": t.configuration_id(),
                    "credential_signing_alg_values_supported": ["ES256"],
                    "cryptographic_binding_methods_supported": ["jwk"],
                    "proof_types_supported": {
                        "jwt": {"proof_signing_alg_values_supported": ["ES256"]}
                    },
                    "credential_metadata": {
                        "display": display(t.labels()),
                        "claims": claims,
                    },
                }),
            );
        }
        let issuer_names = match &self.settings.profile {
            Profile::State { .. } => [
                "State credential issuer",
                "Émetteur d'attestations de l'État",
                "Uitgever van attesten van de Staat",
            ],
            Profile::Provider { .. } => [
                "Accredited training provider",
                "Opérateur de formation agréé",
                "Erkende opleidingsverstrekker",
            ],
        };
        json!({
            "credential_issuer": self.settings.credential_issuer,
            "credential_endpoint": self.settings.endpoint("/credential"),
            "nonce_endpoint": self.settings.endpoint("/nonce"),
            "batch_credential_issuance": {"batch_size": self.settings.batch_size},
            "display": display(issuer_names),
            "credential_configurations_supported": configurations,
        })
    }

    /// OAuth Authorization Server Metadata (RFC 8414; the issuer is its own server).
    pub fn authorization_server_metadata(&self) -> Value {
        json!({
            "issuer": self.settings.credential_issuer,
            "token_endpoint": self.settings.endpoint("/token"),
            "grant_types_supported": [PRE_AUTHORIZED_CODE_GRANT],
            "pre-authorized_grant_anonymous_access_supported": true,
            "response_types_supported": [],
        })
    }

    /// JWT VC Issuer Metadata (SD-JWT VC draft-13 §4): the keys credentials verify with.
    pub fn jwt_vc_issuer_metadata(&self) -> Value {
        json!({
            "issuer": self.settings.credential_issuer,
            "jwks": {"keys": [self.public_jwk.to_value()]},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MacKey {
        MacKey(Zeroizing::new([byte; 32]))
    }

    #[test]
    fn codes_and_tx_checks_are_keyed_and_distinct_per_offer() {
        let (a, b) = (key(1), key(2));
        let code = a.pre_authorized_code("offer-1").unwrap();
        assert_eq!(code, a.pre_authorized_code("offer-1").unwrap());
        assert_ne!(code, a.pre_authorized_code("offer-2").unwrap());
        assert_ne!(code, b.pre_authorized_code("offer-1").unwrap());
        assert_eq!(code.len(), 43);
        assert_ne!(
            a.tx_code_check(&code, "123456").unwrap(),
            b.tx_code_check(&code, "123456").unwrap()
        );
        // Length prefixes: moving a character between the parts changes the check.
        assert_ne!(
            a.tx_code_check("ab", "c").unwrap(),
            a.tx_code_check("a", "bc").unwrap()
        );
    }

    #[test]
    fn tx_codes_are_digits_of_the_asked_length() {
        for len in [4, 6, 8] {
            let code = numeric_code(len).unwrap();
            assert_eq!(code.len(), len as usize);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
