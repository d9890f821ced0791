//! The trust list: the system's root of trust, our own format (specified in
//! `spec/trust-list.md`).
//!
//! A JWT with `typ: trust-list+jwt`, signed by the trust-list authority, that lists the
//! entities every actor may trust — issuers and the credential types (`vct`) they may issue,
//! accredited training providers and their courses, the credits ledger, registered verifiers
//! (by the `x509_hash` of their request-signing certificate), the court's judges and its
//! escrow key — each with its public keys and a validity period. A `sequence` number that
//! only grows lets a holder of the list detect a rollback to an older one.
//!
//! Keys are indexed by their RFC 7638 thumbprint, so "which entity holds this key" is an exact
//! lookup, and no key may belong to two entities.

mod escrow;

use crate::crypto::{CryptoProvider, PublicKey, Signer};
use crate::jose::{DecodedJws, Jwk, JwsHeader, sign_compact};
use crate::json::JsonError;
use crate::time::UnixTime;
use crate::translog::LogKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use thiserror::Error;

pub use escrow::EscrowKey;

/// The JWT `typ` of a trust list. A format change that old verifiers must not misread gets a
/// new `typ`.
pub const TRUST_LIST_JWT_TYP: &str = "trust-list+jwt";

/// Clock skew allowed on the list's `iat` and `exp`, in seconds.
pub const CLOCK_SKEW: i64 = 60;

/// Why the trust list input was refused, or why an entity is not trusted for what it does.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustListError {
    /// The claims set is not a trust list (missing or mistyped member, unknown member).
    #[error("malformed trust list: {0}")]
    Json(JsonError),
    /// A member has an invalid value.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// A role-specific member is missing for a role the entity holds, or present without it.
    #[error("{0} does not match the entity's roles")]
    InconsistentRole(&'static str),
    /// Two entities have the same `id`.
    #[error("duplicate entity id")]
    DuplicateEntity,
    /// The same key (by JWK thumbprint), `kid` within an entity, `x509_hash` or escrow key
    /// appears twice.
    #[error("duplicate key")]
    DuplicateKey,
    /// The list's `exp` has passed.
    #[error("trust list expired")]
    ListExpired,
    /// The list's `iat` is in the future.
    #[error("trust list issued in the future")]
    ListIssuedInFuture,
    /// The list's `sequence` is lower than one already seen: a rollback.
    #[error("trust list sequence is lower than the last one seen")]
    Rollback,
    /// No entity holds this key.
    #[error("unknown key")]
    UnknownKey,
    /// No entity has this `id`, or it has no key with this `kid`.
    #[error("unknown entity or kid")]
    UnknownEntity,
    /// No verifier is registered with this `x509_hash`.
    #[error("unknown verifier")]
    UnknownVerifier,
    /// The entity does not hold the role the operation needs.
    #[error("entity does not hold the role {0}")]
    RoleNotHeld(Role),
    /// The issuer may not issue this `vct`.
    #[error("vct not allowed for this issuer")]
    VctNotAllowed,
    /// The provider may not certify this course.
    #[error("course not allowed for this provider")]
    CourseNotAllowed,
    /// The entity's `valid_from` is after the time asked about.
    #[error("entity not yet valid")]
    EntityNotYetValid,
    /// The entity's `valid_until` is at or before the time asked about.
    #[error("entity no longer valid")]
    EntityExpired,
    /// No court escrow key is valid at the time asked about.
    #[error("no court escrow key valid at that time")]
    NoEscrowKey,
    /// An escrow key is not an acceptable X25519 OKP JWK.
    #[error("invalid escrow key")]
    InvalidEscrowKey,
}

/// What an entity is trusted to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// Issues PID credentials (of the `vct`s listed).
    PidIssuer,
    /// Issues person attestations (of the `vct`s listed).
    PersonAttestationIssuer,
    /// Runs the training credits ledger and signs its receipts.
    CreditsLedger,
    /// An accredited training provider (for the `courses` listed).
    TrainingProvider,
    /// A registered verifier: `x509_hash` of its request-signing certificate; `keys` sign its
    /// attestations to platforms.
    Verifier,
    /// A judge whose `keys` sign court orders.
    CourtJudge,
    /// The court, holding the escrow decryption key whose public half is `escrow_key`.
    CourtEscrow,
}

impl Role {
    /// The name used in the list.
    pub fn name(self) -> &'static str {
        match self {
            Role::PidIssuer => "pid_issuer",
            Role::PersonAttestationIssuer => "person_attestation_issuer",
            Role::CreditsLedger => "credits_ledger",
            Role::TrainingProvider => "training_provider",
            Role::Verifier => "verifier",
            Role::CourtJudge => "court_judge",
            Role::CourtEscrow => "court_escrow",
        }
    }

    fn issues_credentials(self) -> bool {
        matches!(self, Role::PidIssuer | Role::PersonAttestationIssuer)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One entity of the trust list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawEntity", into = "RawEntity")]
pub struct TrustedEntity {
    id: String,
    name: String,
    roles: BTreeSet<Role>,
    keys: Vec<Jwk>,
    vct: Vec<String>,
    courses: Vec<String>,
    x509_hash: Option<String>,
    escrow_key: Option<EscrowKey>,
    transparency_log: Option<LogKey>,
    valid_from: UnixTime,
    valid_until: UnixTime,
}

impl TrustedEntity {
    /// An entity valid from `valid_from` (inclusive) until `valid_until` (exclusive), with no
    /// role yet. Add roles and keys with the `with_…` methods, then put it in a
    /// [`TrustListBuilder`], which checks it.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        valid_from: UnixTime,
        valid_until: UnixTime,
    ) -> TrustedEntity {
        TrustedEntity {
            id: id.into(),
            name: name.into(),
            roles: BTreeSet::new(),
            keys: Vec::new(),
            vct: Vec::new(),
            courses: Vec::new(),
            x509_hash: None,
            escrow_key: None,
            transparency_log: None,
            valid_from,
            valid_until,
        }
    }

    /// Adds a public key; it must have a `kid`.
    #[must_use]
    pub fn with_key(mut self, key: Jwk) -> TrustedEntity {
        self.keys.push(key);
        self
    }

    /// Adds a role that needs no parameter (`credits_ledger`, `court_judge`).
    #[must_use]
    pub fn with_role(mut self, role: Role) -> TrustedEntity {
        self.roles.insert(role);
        self
    }

    /// Makes the entity an issuer (`pid_issuer` or `person_attestation_issuer`) of these `vct`s.
    #[must_use]
    pub fn with_issuer_role(
        mut self,
        role: Role,
        vct: impl IntoIterator<Item = impl Into<String>>,
    ) -> TrustedEntity {
        self.roles.insert(role);
        self.vct.extend(vct.into_iter().map(Into::into));
        self
    }

    /// Makes the entity a training provider for these course codes.
    #[must_use]
    pub fn with_training_provider_role(
        mut self,
        courses: impl IntoIterator<Item = impl Into<String>>,
    ) -> TrustedEntity {
        self.roles.insert(Role::TrainingProvider);
        self.courses.extend(courses.into_iter().map(Into::into));
        self
    }

    /// Makes the entity a verifier whose request-signing certificate has this `x509_hash`
    /// (base64url SHA-256 of the DER certificate, as OpenID4VP's `x509_hash` prefix).
    #[must_use]
    pub fn with_verifier_role(mut self, x509_hash: impl Into<String>) -> TrustedEntity {
        self.roles.insert(Role::Verifier);
        self.x509_hash = Some(x509_hash.into());
        self
    }

    /// Makes the entity the court holding the escrow key.
    #[must_use]
    pub fn with_court_escrow_role(mut self, key: EscrowKey) -> TrustedEntity {
        self.roles.insert(Role::CourtEscrow);
        self.escrow_key = Some(key);
        self
    }

    /// Names the transparency log the entity keeps of court orders (a verifier, or an issuer
    /// that is the State register).
    #[must_use]
    pub fn with_transparency_log(mut self, log: LogKey) -> TrustedEntity {
        self.transparency_log = Some(log);
        self
    }

    /// `transparency_log`: the entity's log of court orders, its origin and checkpoint key.
    pub fn transparency_log(&self) -> Option<&LogKey> {
        self.transparency_log.as_ref()
    }

    /// `id`: the entity's stable identifier (an https URL).
    pub fn id(&self) -> &str {
        &self.id
    }
    /// `name`: for display.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The roles held.
    pub fn roles(&self) -> impl Iterator<Item = Role> + '_ {
        self.roles.iter().copied()
    }
    /// Whether the entity holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
    /// The entity's public keys.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }
    /// The `vct`s it may issue.
    pub fn vct(&self) -> &[String] {
        &self.vct
    }
    /// The courses it may certify.
    pub fn courses(&self) -> &[String] {
        &self.courses
    }
    /// `x509_hash` of its request-signing certificate (verifiers).
    pub fn x509_hash(&self) -> Option<&str> {
        self.x509_hash.as_deref()
    }
    /// The escrow key (the court).
    pub fn escrow_key(&self) -> Option<&EscrowKey> {
        self.escrow_key.as_ref()
    }
    /// Start of validity (inclusive).
    pub fn valid_from(&self) -> UnixTime {
        self.valid_from
    }
    /// End of validity (exclusive).
    pub fn valid_until(&self) -> UnixTime {
        self.valid_until
    }

    /// Whether the entity is valid at `t`: `valid_from <= t < valid_until`.
    pub fn check_valid_at(&self, t: UnixTime) -> Result<(), TrustListError> {
        if t < self.valid_from {
            Err(TrustListError::EntityNotYetValid)
        } else if t >= self.valid_until {
            Err(TrustListError::EntityExpired)
        } else {
            Ok(())
        }
    }

    /// The key with this `kid`.
    pub fn key_by_kid(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid() == Some(kid))
    }

    /// The checks every entity passes, at build and at parse time.
    fn check(&self) -> Result<(), TrustListError> {
        if self.id.is_empty() {
            return Err(TrustListError::Invalid("id"));
        }
        if self.name.is_empty() {
            return Err(TrustListError::Invalid("name"));
        }
        if self.roles.is_empty() {
            return Err(TrustListError::Invalid("roles"));
        }
        if self.valid_from >= self.valid_until {
            return Err(TrustListError::Invalid("valid_from/valid_until"));
        }
        let mut kids = HashSet::new();
        for key in &self.keys {
            let kid = key.kid().ok_or(TrustListError::Invalid("keys (kid)"))?;
            if !kids.insert(kid) {
                return Err(TrustListError::DuplicateKey);
            }
        }
        // Every role but court_escrow acts by signing, so needs a key.
        let signs = self.roles.iter().any(|r| *r != Role::CourtEscrow);
        if signs && self.keys.is_empty() {
            return Err(TrustListError::InconsistentRole("keys"));
        }
        let issuer = self.roles.iter().any(|r| r.issues_credentials());
        check_list_member(&self.vct, issuer, "vct")?;
        check_list_member(
            &self.courses,
            self.has_role(Role::TrainingProvider),
            "courses",
        )?;
        match (&self.x509_hash, self.has_role(Role::Verifier)) {
            (Some(hash), true) => {
                let digest =
                    crate::b64::decode(hash).ok_or(TrustListError::Invalid("x509_hash"))?;
                if digest.len() != 32 {
                    return Err(TrustListError::Invalid("x509_hash"));
                }
            }
            (None, false) => {}
            _ => return Err(TrustListError::InconsistentRole("x509_hash")),
        }
        if self.escrow_key.is_some() != self.has_role(Role::CourtEscrow) {
            return Err(TrustListError::InconsistentRole("escrow_key"));
        }
        // Court orders reach the verifier and the register only.
        if self.transparency_log.is_some() && !self.has_role(Role::Verifier) && !issuer {
            return Err(TrustListError::InconsistentRole("transparency_log"));
        }
        Ok(())
    }
}

/// A role-specific list (`vct`, `courses`): non-empty, without duplicates or empty strings,
/// exactly when the role is held.
fn check_list_member(
    values: &[String],
    required: bool,
    name: &'static str,
) -> Result<(), TrustListError> {
    if values.is_empty() == required {
        return Err(TrustListError::InconsistentRole(name));
    }
    let mut seen = HashSet::new();
    if values.iter().any(|v| v.is_empty() || !seen.insert(v)) {
        return Err(TrustListError::Invalid(name));
    }
    Ok(())
}

/// The wire form of an entity (see `spec/trust-list.md`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    id: String,
    name: String,
    roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    keys: Vec<Jwk>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    vct: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    courses: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x509_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    escrow_key: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transparency_log: Option<RawLog>,
    valid_from: UnixTime,
    valid_until: UnixTime,
}

/// The wire form of a log: `{"origin": …, "key": <C2SP verifier key>}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    origin: String,
    key: String,
}

impl TryFrom<RawEntity> for TrustedEntity {
    type Error = TrustListError;

    fn try_from(raw: RawEntity) -> Result<TrustedEntity, TrustListError> {
        let role_count = raw.roles.len();
        let roles: BTreeSet<Role> = raw.roles.into_iter().collect();
        if roles.len() != role_count {
            return Err(TrustListError::Invalid("roles"));
        }
        let escrow_key = raw
            .escrow_key
            .as_ref()
            .map(EscrowKey::from_jwk)
            .transpose()?;
        let transparency_log = raw
            .transparency_log
            .map(|log| LogKey::new(&log.origin, &log.key))
            .transpose()
            .map_err(|_| TrustListError::Invalid("transparency_log"))?;
        let entity = TrustedEntity {
            id: raw.id,
            name: raw.name,
            roles,
            keys: raw.keys,
            vct: raw.vct,
            courses: raw.courses,
            x509_hash: raw.x509_hash,
            escrow_key,
            transparency_log,
            valid_from: raw.valid_from,
            valid_until: raw.valid_until,
        };
        entity.check()?;
        Ok(entity)
    }
}

impl From<TrustedEntity> for RawEntity {
    fn from(entity: TrustedEntity) -> RawEntity {
        RawEntity {
            id: entity.id,
            name: entity.name,
            roles: entity.roles.into_iter().collect(),
            keys: entity.keys,
            vct: entity.vct,
            courses: entity.courses,
            x509_hash: entity.x509_hash,
            escrow_key: entity.escrow_key.as_ref().map(EscrowKey::to_jwk),
            transparency_log: entity.transparency_log.as_ref().map(|log| RawLog {
                origin: log.origin().to_owned(),
                key: log.verifier_key(),
            }),
            valid_from: entity.valid_from,
            valid_until: entity.valid_until,
        }
    }
}

/// The wire form of the claims set.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrustList {
    iss: String,
    iat: UnixTime,
    exp: UnixTime,
    sequence: u64,
    entities: Vec<RawEntity>,
}

/// A trust list whose structure, uniqueness rules and (when it came from
/// [`TrustList::verify`]) signature and validity period have been checked.
#[derive(Clone, PartialEq, Eq)]
pub struct TrustList {
    iss: String,
    iat: UnixTime,
    exp: UnixTime,
    sequence: u64,
    entities: Vec<TrustedEntity>,
    by_id: HashMap<String, usize>,
    by_thumbprint: HashMap<String, usize>,
    by_x509_hash: HashMap<String, usize>,
}

impl fmt::Debug for TrustList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustList")
            .field("iss", &self.iss)
            .field("sequence", &self.sequence)
            .field("entities", &self.entities.len())
            .finish_non_exhaustive()
    }
}

/// Builds a [`TrustList`] for the authority to sign.
#[derive(Debug, Clone)]
pub struct TrustListBuilder {
    iss: String,
    iat: UnixTime,
    exp: UnixTime,
    sequence: u64,
    entities: Vec<TrustedEntity>,
}

impl TrustListBuilder {
    /// A list by authority `iss`, issued at `iat`, expiring at `exp`, with `sequence` (which
    /// must be higher than every list published before).
    pub fn new(iss: impl Into<String>, iat: UnixTime, exp: UnixTime, sequence: u64) -> Self {
        TrustListBuilder {
            iss: iss.into(),
            iat,
            exp,
            sequence,
            entities: Vec::new(),
        }
    }

    /// Adds an entity.
    #[must_use]
    pub fn entity(mut self, entity: TrustedEntity) -> Self {
        self.entities.push(entity);
        self
    }

    /// Checks every entity and the uniqueness rules, and indexes the keys.
    pub fn build(self) -> Result<TrustList, TrustListError> {
        TrustList::new(self.iss, self.iat, self.exp, self.sequence, self.entities)
    }
}

impl TrustList {
    fn new(
        iss: String,
        iat: UnixTime,
        exp: UnixTime,
        sequence: u64,
        entities: Vec<TrustedEntity>,
    ) -> Result<TrustList, TrustListError> {
        if iss.is_empty() {
            return Err(TrustListError::Invalid("iss"));
        }
        if exp <= iat {
            return Err(TrustListError::Invalid("exp"));
        }
        let mut by_id = HashMap::new();
        let mut by_thumbprint = HashMap::new();
        let mut by_x509_hash = HashMap::new();
        let mut escrow_keys = HashSet::new();
        for (index, entity) in entities.iter().enumerate() {
            // Entities built in code reach here unchecked; parsed ones were checked already.
            entity.check()?;
            if by_id.insert(entity.id.clone(), index).is_some() {
                return Err(TrustListError::DuplicateEntity);
            }
            for key in &entity.keys {
                if by_thumbprint.insert(key.thumbprint(), index).is_some() {
                    return Err(TrustListError::DuplicateKey);
                }
            }
            if let Some(hash) = &entity.x509_hash
                && by_x509_hash.insert(hash.clone(), index).is_some()
            {
                return Err(TrustListError::DuplicateKey);
            }
            if let Some(key) = &entity.escrow_key
                && !escrow_keys.insert(*key.public_bytes())
            {
                return Err(TrustListError::DuplicateKey);
            }
        }
        Ok(TrustList {
            iss,
            iat,
            exp,
            sequence,
            entities,
            by_id,
            by_thumbprint,
            by_x509_hash,
        })
    }

    /// `iss`: the trust-list authority.
    pub fn iss(&self) -> &str {
        &self.iss
    }
    /// `iat`.
    pub fn iat(&self) -> UnixTime {
        self.iat
    }
    /// `exp`.
    pub fn exp(&self) -> UnixTime {
        self.exp
    }
    /// `sequence`: remember the highest seen and pass it to the next [`TrustList::verify`].
    pub fn sequence(&self) -> u64 {
        self.sequence
    }
    /// Every entity, in list order.
    pub fn entities(&self) -> &[TrustedEntity] {
        &self.entities
    }

    /// The JWT Claims Set.
    pub fn claims(&self) -> crate::Result<Value> {
        let raw = RawTrustList {
            iss: self.iss.clone(),
            iat: self.iat,
            exp: self.exp,
            sequence: self.sequence,
            entities: self.entities.iter().cloned().map(RawEntity::from).collect(),
        };
        serde_json::to_value(raw)
            .map_err(|_| TrustListError::Json(JsonError::Schema("unserialisable".into())).into())
    }

    /// Signs the list with the authority's key: a compact JWS with `typ: trust-list+jwt`.
    pub fn sign(&self, signer: &dyn Signer) -> crate::Result<String> {
        let payload = serde_json::to_vec(&self.claims()?)
            .map_err(|_| TrustListError::Json(JsonError::Schema("unserialisable".into())))?;
        Ok(sign_compact(
            &JwsHeader::new(TRUST_LIST_JWT_TYP),
            &payload,
            signer,
        )?)
    }

    /// Verifies a signed trust list: signature by `authority_key` (pinned by the caller),
    /// `typ`, the validity period at `now` (with [`CLOCK_SKEW`]), and, if `min_sequence` is
    /// given, that `sequence` is not lower (a rollback). Then every structural and uniqueness
    /// rule of `spec/trust-list.md`.
    pub fn verify(
        compact: &str,
        provider: &dyn CryptoProvider,
        authority_key: &PublicKey,
        now: UnixTime,
        min_sequence: Option<u64>,
    ) -> crate::Result<TrustList> {
        let verified =
            DecodedJws::decode(compact)?.verify(provider, authority_key, TRUST_LIST_JWT_TYP)?;
        let raw: RawTrustList =
            crate::json::parse_as(verified.payload(), crate::jose::MAX_COMPACT_LEN)
                .map_err(TrustListError::Json)?;
        if raw.iat > now.saturating_add(CLOCK_SKEW) {
            return Err(TrustListError::ListIssuedInFuture.into());
        }
        if now.saturating_sub(CLOCK_SKEW) >= raw.exp {
            return Err(TrustListError::ListExpired.into());
        }
        if min_sequence.is_some_and(|seen| raw.sequence < seen) {
            return Err(TrustListError::Rollback.into());
        }
        let entities = raw
            .entities
            .into_iter()
            .map(TrustedEntity::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustList::new(
            raw.iss,
            raw.iat,
            raw.exp,
            raw.sequence,
            entities,
        )?)
    }

    /// The entity with this `id`.
    pub fn entity(&self, id: &str) -> Option<&TrustedEntity> {
        self.by_id.get(id).and_then(|&i| self.entities.get(i))
    }

    /// The entity holding `key` (by JWK thumbprint), whatever its roles and validity.
    pub fn entity_by_key(&self, key: &PublicKey) -> Result<&TrustedEntity, TrustListError> {
        let thumbprint = Jwk::new(key.clone()).thumbprint();
        self.by_thumbprint
            .get(&thumbprint)
            .and_then(|&i| self.entities.get(i))
            .ok_or(TrustListError::UnknownKey)
    }

    /// The public key with `kid` of the entity `id` — for tokens that name their signer by
    /// `iss` and `kid`; pass the result to the role query.
    pub fn resolve_key(&self, id: &str, kid: &str) -> Result<&PublicKey, TrustListError> {
        self.entity(id)
            .and_then(|entity| entity.key_by_kid(kid))
            .map(Jwk::key)
            .ok_or(TrustListError::UnknownEntity)
    }

    /// The entity holding `key`, if it holds `role` and is valid at `t`.
    pub fn authorised(
        &self,
        key: &PublicKey,
        role: Role,
        t: UnixTime,
    ) -> Result<&TrustedEntity, TrustListError> {
        let entity = self.entity_by_key(key)?;
        if !entity.has_role(role) {
            return Err(TrustListError::RoleNotHeld(role));
        }
        entity.check_valid_at(t)?;
        Ok(entity)
    }

    /// May `key` issue credentials of type `vct` at time `t`? The entity must hold
    /// `pid_issuer` or `person_attestation_issuer`, list `vct`, and be valid at `t`.
    pub fn issuer_for_vct(
        &self,
        key: &PublicKey,
        vct: &str,
        t: UnixTime,
    ) -> Result<&TrustedEntity, TrustListError> {
        let entity = self.entity_by_key(key)?;
        if !entity.roles.iter().any(|r| r.issues_credentials()) {
            return Err(TrustListError::RoleNotHeld(Role::PidIssuer));
        }
        if !entity.vct.iter().any(|v| v == vct) {
            return Err(TrustListError::VctNotAllowed);
        }
        entity.check_valid_at(t)?;
        Ok(entity)
    }

    /// The verifier whose request-signing certificate has this `x509_hash`, valid at `t`.
    pub fn verifier_by_x509_hash(
        &self,
        x509_hash: &str,
        t: UnixTime,
    ) -> Result<&TrustedEntity, TrustListError> {
        let entity = self
            .by_x509_hash
            .get(x509_hash)
            .and_then(|&i| self.entities.get(i))
            .ok_or(TrustListError::UnknownVerifier)?;
        entity.check_valid_at(t)?;
        Ok(entity)
    }

    /// The verifier whose attestation-signing key is `key`, valid at `t`.
    pub fn verifier_by_key(
        &self,
        key: &PublicKey,
        t: UnixTime,
    ) -> Result<&TrustedEntity, TrustListError> {
        self.authorised(key, Role::Verifier, t)
    }

    /// May `key` certify `course` at time `t`?
    pub fn provider_for_course(
        &self,
        key: &PublicKey,
        course: &str,
        t: UnixTime,
    ) -> Result<&TrustedEntity, TrustListError> {
        let entity = self.entity_by_key(key)?;
        if !entity.has_role(Role::TrainingProvider) {
            return Err(TrustListError::RoleNotHeld(Role::TrainingProvider));
        }
        if !entity.courses.iter().any(|c| c == course) {
            return Err(TrustListError::CourseNotAllowed);
        }
        entity.check_valid_at(t)?;
        Ok(entity)
    }

    /// May `key` issue a qualification credential (`vct`) for `course` at time `t`? Either a
    /// training provider accredited for the course — providers issue qualifications and
    /// nothing else, so they list no `vct` — or an issuer listing `vct` (the State, for
    /// diplomas). This is the check a verifier of a qualification makes.
    pub fn qualification_issuer(
        &self,
        key: &PublicKey,
        vct: &str,
        course: &str,
        t: UnixTime,
    ) -> Result<&TrustedEntity, TrustListError> {
        let entity = self.entity_by_key(key)?;
        if entity.has_role(Role::TrainingProvider) {
            self.provider_for_course(key, course, t)
        } else {
            self.issuer_for_vct(key, vct, t)
        }
    }

    /// Is `key` a judge's signing key at time `t`?
    pub fn court_judge(
        &self,
        key: &PublicKey,
        t: UnixTime,
    ) -> Result<&TrustedEntity, TrustListError> {
        self.authorised(key, Role::CourtJudge, t)
    }

    /// Is `key` the credits ledger's signing key at time `t`?
    pub fn credits_ledger(
        &self,
        key: &PublicKey,
        t: UnixTime,
    ) -> Result<&TrustedEntity, TrustListError> {
        self.authorised(key, Role::CreditsLedger, t)
    }

    /// The court escrow key to seal to at time `t`. During a key rotation two may be valid:
    /// the one with the latest `valid_from` is the current one (the court keeps the older
    /// private key to open records sealed before).
    pub fn court_escrow_key(&self, t: UnixTime) -> Result<&EscrowKey, TrustListError> {
        self.entities
            .iter()
            .filter(|e| e.check_valid_at(t).is_ok())
            .filter_map(|e| e.escrow_key.as_ref().map(|key| (e.valid_from, key)))
            .max_by_key(|(valid_from, _)| *valid_from)
            .map(|(_, key)| key)
            .ok_or(TrustListError::NoEscrowKey)
    }
}

#[cfg(test)]
mod tests;
