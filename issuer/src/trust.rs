//! The trust list, from a TOML description: `issuer trust-list sign <description.toml>`.
//!
//! ```toml
//! iss = "https://trust.identity.example.be"   # the trust-list authority
//! sequence = 7                                 # strictly increasing between publications
//! valid_days = 30                              # exp = now + 30 days
//!
//! [[entity]]
//! id = "https://issuer.identity.example.be"
//! name = "State issuer"
//! valid_days = 365
//! key_files = ["issuer-keys/signing.jwk"]      # JWK files; only public halves are used
//! roles = ["pid_issuer", "person_attestation_issuer"]
//! vct = ["urn:eudi:pid:1", "urn:be:identity:person-attestation:1"]
//!
//! [[entity]]
//! id = "https://academy.example.be"
//! name = "Welding Academy"
//! keys = [{ kty = "EC", crv = "P-256", x = "…", y = "…", kid = "…" }]
//! roles = ["training_provider"]
//! courses = ["WELD-101"]
//! ```
//!
//! Roles are those of `spec/trust-list.md`: `pid_issuer` and `person_attestation_issuer`
//! (with `vct`), `training_provider` (with `courses`), `verifier` (with `x509_hash`),
//! `court_escrow` (with `escrow_key = { x = "…", kid = "…" }`), `credits_ledger`,
//! `court_judge`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use credential_formats::crypto::{CryptoProvider, Signer};
use credential_formats::jose::{Jwk, PrivateJwk};
use credential_formats::translog::LogKey;
use credential_formats::trust_list::{EscrowKey, Role, TrustList, TrustListBuilder, TrustedEntity};

use crate::Error;

/// Seconds of slack before `iat`, so a list is valid at once on clocks slightly behind.
const BACKDATE: i64 = 60;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Description {
    iss: String,
    sequence: u64,
    #[serde(default = "default_list_days")]
    valid_days: i64,
    #[serde(default)]
    entity: Vec<EntityDescription>,
}

fn default_list_days() -> i64 {
    30
}

fn default_entity_days() -> i64 {
    365
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntityDescription {
    id: String,
    name: String,
    #[serde(default = "default_entity_days")]
    valid_days: i64,
    #[serde(default)]
    key_files: Vec<String>,
    #[serde(default)]
    keys: Vec<toml::Value>,
    roles: Vec<Role>,
    #[serde(default)]
    vct: Vec<String>,
    #[serde(default)]
    courses: Vec<String>,
    #[serde(default)]
    x509_hash: Option<String>,
    #[serde(default)]
    escrow_key: Option<toml::Value>,
    #[serde(default)]
    transparency_log: Option<LogDescription>,
}

/// `transparency_log = { origin = "…", key = "<C2SP verifier key>" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogDescription {
    origin: String,
    key: String,
}

fn toml_to_json(value: &toml::Value) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|_| Error::Invalid("a key is not a JWK".into()))
}

/// Reads a JWK file: a private JWK (as `issuer serve` writes them) gives its public half.
pub fn public_jwk_from_file(path: &Path) -> Result<Jwk, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
    if let Ok(private) = PrivateJwk::from_json(&text) {
        let public = private.public();
        return Ok(match private.kid() {
            Some(kid) => public.with_kid(kid),
            None => public,
        });
    }
    let value: Value = serde_json::from_str(&text)
        .map_err(|_| Error::Invalid(format!("{} is not a JWK", path.display())))?;
    Jwk::from_value(&value).map_err(|_| Error::Invalid(format!("{} is not a JWK", path.display())))
}

/// Builds the trust list a description describes, as of `now`. Relative `key_files` are
/// read from `base_dir`.
pub fn build(description: &str, base_dir: &Path, now: i64) -> Result<TrustList, Error> {
    let d: Description = toml::from_str(description)
        .map_err(|e| Error::Invalid(format!("trust-list description: {}", e.message())))?;
    if d.valid_days <= 0 {
        return Err(Error::Invalid("valid_days must be positive".into()));
    }
    let mut builder = TrustListBuilder::new(
        d.iss,
        now - BACKDATE,
        now + d.valid_days * 86_400,
        d.sequence,
    );
    for e in d.entity {
        let mut entity = TrustedEntity::new(
            e.id.clone(),
            e.name,
            now - BACKDATE,
            now + e.valid_days * 86_400,
        );
        for file in &e.key_files {
            entity = entity.with_key(public_jwk_from_file(&base_dir.join(file))?);
        }
        for key in &e.keys {
            let jwk = Jwk::from_value(&toml_to_json(key)?).map_err(|_| {
                Error::Invalid(format!("entity {}: a key is not a public JWK", e.id))
            })?;
            entity = entity.with_key(jwk);
        }
        if let Some(log) = &e.transparency_log {
            let key = LogKey::new(&log.origin, &log.key).map_err(|_| {
                Error::Invalid(format!(
                    "entity {}: transparency_log needs an origin and a C2SP verifier key",
                    e.id
                ))
            })?;
            entity = entity.with_transparency_log(key);
        }
        // The `vct` list belongs to the entity, not to each issuing role: add it once.
        let mut vct = Some(e.vct.clone());
        for role in e.roles {
            entity = match role {
                Role::PidIssuer | Role::PersonAttestationIssuer => {
                    entity.with_issuer_role(role, vct.take().unwrap_or_default())
                }
                Role::TrainingProvider => {
                    entity.with_training_provider_role(e.courses.iter().cloned())
                }
                Role::Verifier => {
                    let hash = e.x509_hash.clone().ok_or_else(|| {
                        Error::Invalid(format!("entity {}: a verifier needs x509_hash", e.id))
                    })?;
                    entity.with_verifier_role(hash)
                }
                Role::CourtEscrow => {
                    let key = e.escrow_key.as_ref().ok_or_else(|| {
                        Error::Invalid(format!("entity {}: court_escrow needs escrow_key", e.id))
                    })?;
                    let mut jwk = toml_to_json(key)?;
                    if let Value::Object(map) = &mut jwk {
                        map.entry("kty").or_insert_with(|| "OKP".into());
                        map.entry("crv").or_insert_with(|| "X25519".into());
                    }
                    let key = EscrowKey::from_jwk(&jwk).map_err(|_| {
                        Error::Invalid(format!("entity {}: escrow_key is not an X25519 key", e.id))
                    })?;
                    entity.with_court_escrow_role(key)
                }
                other => entity.with_role(other),
            };
        }
        builder = builder.entity(entity);
    }
    builder
        .build()
        .map_err(|e| Error::Invalid(format!("trust list: {e}")))
}

/// The `[[entity]]` tables other development services put in `dir` (`*.toml`, in name
/// order): the verifier lists itself and the development court there before the list is
/// signed.
fn extra_entities(dir: &Path) -> Result<String, Error> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(Error::Config(format!("{}: {e}", dir.display()))),
    };
    files.sort();
    let mut text = String::new();
    for file in files {
        let part = std::fs::read_to_string(&file)
            .map_err(|e| Error::Config(format!("{}: {e}", file.display())))?;
        text.push('\n');
        text.push_str(&part);
    }
    Ok(text)
}

/// Signs a trust list with the authority's key.
pub fn sign(list: &TrustList, authority: &dyn Signer) -> Result<String, Error> {
    Ok(list.sign(authority)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use credential_formats::crypto::{RustCrypto, SecretKey, SignatureAlgorithm};

    const NOW: i64 = 1_795_953_600;

    #[test]
    fn a_description_becomes_a_signed_list_the_authority_key_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let issuer_key = PrivateJwk::new(
            SecretKey::generate(SignatureAlgorithm::Es256).unwrap(),
            Some("iss-1".into()),
        );
        std::fs::write(
            dir.path().join("issuer.jwk"),
            issuer_key.to_json().as_bytes(),
        )
        .unwrap();
        let provider = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let provider_jwk = Jwk::new(provider.public_key()).with_kid("p-1").to_value();
        let description = format!(
            r#"
            iss = "https://trust.example"
            sequence = 3
            [[entity]]
            id = "https://issuer.example"
            name = "State issuer"
            key_files = ["issuer.jwk"]
            roles = ["pid_issuer", "person_attestation_issuer"]
            vct = ["urn:eudi:pid:1", "urn:be:identity:person-attestation:1"]
            [[entity]]
            id = "https://academy.example"
            name = "Academy"
            keys = [{{ kty = "EC", crv = "P-256", x = "{x}", y = "{y}", kid = "p-1" }}]
            roles = ["training_provider"]
            courses = ["WELD-101"]
            "#,
            x = provider_jwk["x"].as_str().unwrap(),
            y = provider_jwk["y"].as_str().unwrap(),
        );
        let list = build(&description, dir.path(), NOW).unwrap();
        let authority = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let jwt = sign(&list, &*RustCrypto.signer(&authority).unwrap()).unwrap();
        let verified =
            TrustList::verify(&jwt, &RustCrypto, &authority.public_key(), NOW, Some(3)).unwrap();
        assert_eq!(verified.sequence(), 3);
        let issuer_public = issuer_key.secret().public_key();
        verified
            .issuer_for_vct(&issuer_public, "urn:eudi:pid:1", NOW)
            .unwrap();
        assert_eq!(
            verified
                .resolve_key("https://issuer.example", "iss-1")
                .unwrap(),
            &issuer_public
        );
        verified
            .provider_for_course(&provider.public_key(), "WELD-101", NOW)
            .unwrap();
        assert!(
            verified
                .provider_for_course(&provider.public_key(), "COOK-1", NOW)
                .is_err()
        );
    }

    #[test]
    fn dev_setup_makes_a_list_naming_issuer_and_provider_and_reruns_with_a_newer_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let first = dev_setup(
            dir.path(),
            "https://localhost:8443",
            "https://localhost:8444",
            NOW,
        )
        .unwrap();
        let anchor = public_jwk_from_file(&first.anchor).unwrap();
        let jwt = std::fs::read_to_string(&first.trust_list).unwrap();
        let list = TrustList::verify(&jwt, &RustCrypto, anchor.key(), NOW, None).unwrap();
        assert_eq!(list.sequence(), 1);
        let provider = public_jwk_from_file(&first.provider_keys.join("signing.jwk")).unwrap();
        list.provider_for_course(provider.key(), DEV_COURSE, NOW)
            .unwrap();
        let issuer = public_jwk_from_file(&first.issuer_keys.join("signing.jwk")).unwrap();
        list.issuer_for_vct(issuer.key(), "urn:eudi:pid:1", NOW)
            .unwrap();
        let second = dev_setup(
            dir.path(),
            "https://localhost:8443",
            "https://localhost:8444",
            NOW,
        )
        .unwrap();
        let jwt = std::fs::read_to_string(&second.trust_list).unwrap();
        let list = TrustList::verify(&jwt, &RustCrypto, anchor.key(), NOW, Some(2)).unwrap();
        assert_eq!(list.sequence(), 2);
        // Keys were kept.
        assert_eq!(
            public_jwk_from_file(&second.issuer_keys.join("signing.jwk")).unwrap(),
            issuer
        );
    }

    #[test]
    fn bad_descriptions_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        for (text, expected) in [
            ("iss = 1", "trust-list description"),
            (
                "iss = \"https://t\"\nsequence = 1\nsurprise = true",
                "unknown field",
            ),
            (
                "iss = \"https://t\"\nsequence = 1\n[[entity]]\nid = \"v\"\nname = \"V\"\nroles = [\"verifier\"]",
                "x509_hash",
            ),
            (
                "iss = \"https://t\"\nsequence = 1\n[[entity]]\nid = \"x\"\nname = \"X\"\nroles = [\"wizard\"]",
                "trust-list description",
            ),
        ] {
            let err = build(text, dir.path(), NOW).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}

/// What [`dev_setup`] made, for printing and for the local stack.
#[derive(Debug, Clone)]
pub struct DevSetup {
    /// The State issuer's key directory (`signing.jwk`; `serve` adds the rest).
    pub issuer_keys: std::path::PathBuf,
    /// The demo provider's key directory.
    pub provider_keys: std::path::PathBuf,
    /// The trust-list authority's private key.
    pub authority_key: std::path::PathBuf,
    /// Its public JWK: the trust anchor.
    pub anchor: std::path::PathBuf,
    /// The description the list was built from (edit and re-sign with `trust-list sign`).
    pub description: std::path::PathBuf,
    /// The signed trust list.
    pub trust_list: std::path::PathBuf,
    /// The development TLS PKI (`ca.pem`, `server.pem`, `server.key`).
    pub tls: std::path::PathBuf,
}

/// The course the development provider is accredited for.
pub const DEV_COURSE: &str = "WELD-101";

/// Makes (or reuses) development keys, TLS PKI and a signed trust list under `dir`: the
/// State issuer at `issuer_url` and a demo training provider at `provider_url`, accredited for
/// [`DEV_COURSE`]. Keys already there are kept; the list is re-signed with the next sequence.
pub fn dev_setup(
    dir: &Path,
    issuer_url: &str,
    provider_url: &str,
    now: i64,
) -> Result<DevSetup, Error> {
    use service_kit::keys::load_or_generate_signing_key;
    let setup = DevSetup {
        issuer_keys: dir.join("issuer/keys"),
        provider_keys: dir.join("provider/keys"),
        authority_key: dir.join("trust/authority.jwk"),
        anchor: dir.join("trust/authority.pub.jwk"),
        description: dir.join("trust/description.toml"),
        trust_list: dir.join("trust/trust-list.jwt"),
        tls: dir.join("tls"),
    };
    load_or_generate_signing_key(&setup.issuer_keys.join("signing.jwk"))?;
    load_or_generate_signing_key(&setup.provider_keys.join("signing.jwk"))?;
    // The register's log, as `open` will name it from the same key file.
    let (log_seed, _) =
        service_kit::keys::load_or_generate_secret(&setup.issuer_keys.join("register-log.key"))?;
    let host = crate::config::public_host(issuer_url)?;
    let register_log = service_kit::translog::log_key(
        &format!("{host}/register-resolutions"),
        &host,
        &log_seed,
        &credential_formats::crypto::AwsLc,
    )
    .map_err(|e| Error::Log(e.to_string()))?;
    let (authority, _) = load_or_generate_signing_key(&setup.authority_key)?;
    service_kit::tls::dev_pki(&setup.tls)?;
    let mut anchor = authority.public();
    if let Some(kid) = authority.kid() {
        anchor = anchor.with_kid(kid);
    }
    std::fs::write(&setup.anchor, anchor.to_value().to_string())
        .map_err(|e| Error::Config(format!("{}: {e}", setup.anchor.display())))?;
    // Each re-run publishes a newer list, as a real authority would.
    let sequence = std::fs::read_to_string(&setup.description)
        .ok()
        .and_then(|text| toml::from_str::<Description>(&text).ok())
        .map_or(1, |d| d.sequence + 1);
    let vct: Vec<String> = credential_formats::credentials::CredentialType::ALL
        .iter()
        .map(|t| format!("\"{}\"", t.vct()))
        .collect();
    let description = format!(
        r#"# Development trust list, made by `issuer dev-setup`. Edit, then re-sign with
# `issuer trust-list sign {desc} --authority-key {auth} --out {out}`.
iss = "https://trust.localhost"
sequence = {sequence}
valid_days = 30

[[entity]]
id = "{issuer_url}"
name = "State issuer (development)"
key_files = ["../issuer/keys/signing.jwk"]
roles = ["pid_issuer", "person_attestation_issuer"]
vct = [{vct}]
transparency_log = {{ origin = "{log_origin}", key = "{log_key}" }}

[[entity]]
id = "{provider_url}"
name = "Welding Academy (development)"
key_files = ["../provider/keys/signing.jwk"]
roles = ["training_provider"]
courses = ["{DEV_COURSE}"]
"#,
        desc = setup.description.display(),
        auth = setup.authority_key.display(),
        out = setup.trust_list.display(),
        vct = vct.join(", "),
        log_origin = register_log.origin(),
        log_key = register_log.verifier_key(),
    );
    let description = description + &extra_entities(&dir.join("trust/entities.d"))?;
    std::fs::write(&setup.description, &description)
        .map_err(|e| Error::Config(format!("{}: {e}", setup.description.display())))?;
    let base = dir.join("trust");
    let list = build(&description, &base, now)?;
    let signer = credential_formats::crypto::AwsLc.signer(authority.secret())?;
    let jwt = sign(&list, &*signer)?;
    std::fs::write(&setup.trust_list, jwt)
        .map_err(|e| Error::Config(format!("{}: {e}", setup.trust_list.display())))?;
    Ok(setup)
}
