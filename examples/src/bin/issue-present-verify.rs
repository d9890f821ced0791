//! Issue, present and verify a person attestation, end to end, printing each step.
//!
//! Every actor's work is done with `credential-formats` exactly as the services will do it —
//! only the transport (HTTP) is missing: the trust-list authority signs a trust list, the State
//! issuer signs an SD-JWT VC bound to the wallet's key and publishes a status list, a verifier
//! asks (DCQL) for `age_over_18` only, the wallet discloses just that with a Key Binding JWT,
//! and the verifier checks everything. Then the attacks a verifier must refuse, and a
//! revocation.

use anyhow::{Context, Result, bail};
use credential_formats::claims_path::ClaimsPath;
use credential_formats::credentials::CredentialType;
use credential_formats::crypto::{
    CryptoProvider, RustCrypto, SecretKey, SignatureAlgorithm, random_token,
};
use credential_formats::dcql::{CredentialView, DcqlQuery, PresentedCredentials};
use credential_formats::jose::Jwk;
use credential_formats::sd_jwt::{KeyBinding, KeyBindingPolicy, KeyBindingRequirements, SdJwt};
use credential_formats::sd_jwt_vc::{self, SdJwtVcBuilder, VcVerification, VerifiedSdJwtVc};
use credential_formats::status_list::{
    IndexAllocator, StatusBits, StatusList, StatusListToken, StatusListValidation, StatusReference,
    StatusType,
};
use credential_formats::time::{Clock, FixedClock, SystemClock};
use credential_formats::trust_list::{Role, TrustList, TrustListBuilder, TrustedEntity};
use serde_json::{Value, json};

const ISSUER: &str = "https://issuer.identity.example.be";
const STATUS_URI: &str = "https://issuer.identity.example.be/status/1";
const VERIFIER: &str = "x509_hash:verifier-example";
const LIST_SIZE: u32 = 1 << 17;

fn step(n: u32, text: &str) {
    println!("\n[{n}] {text}");
}

fn show(label: &str, value: impl std::fmt::Display) {
    println!("    {label:<30} {value}");
}

/// What the wallet keeps of a verified credential, and what DCQL matches against.
struct Stored {
    vct: String,
    claims: Value,
    compact: String,
}

impl CredentialView for Stored {
    fn format(&self) -> &str {
        "dc+sd-jwt"
    }
    fn vct(&self) -> Option<&str> {
        Some(&self.vct)
    }
    fn doctype(&self) -> Option<&str> {
        None
    }
    fn claims(&self) -> &Value {
        &self.claims
    }
    fn supports_holder_binding(&self) -> bool {
        true
    }
}

/// What the verifier learned from a presentation, checked against its own query.
struct Presented(VerifiedSdJwtVc, Value);

impl CredentialView for Presented {
    fn format(&self) -> &str {
        "dc+sd-jwt"
    }
    fn vct(&self) -> Option<&str> {
        Some(self.0.vct())
    }
    fn doctype(&self) -> Option<&str> {
        None
    }
    fn claims(&self) -> &Value {
        &self.1
    }
    fn supports_holder_binding(&self) -> bool {
        self.0.key_binding().is_some()
    }
}

fn main() -> Result<()> {
    let crypto: &dyn CryptoProvider = &RustCrypto;
    let now = SystemClock.now();
    let clock = FixedClock(now);
    let vct = CredentialType::PersonAttestation.vct();
    println!("Issue → present → verify a person attestation (SD-JWT VC, OpenID4VP DCQL)");

    step(
        1,
        "The trust-list authority lists the State issuer and signs the list",
    );
    let authority = SecretKey::generate(SignatureAlgorithm::Es256)?;
    let issuer_key = SecretKey::generate(SignatureAlgorithm::Es256)?;
    let issuer_jwk = Jwk::new(issuer_key.public_key()).with_kid("issuer-2026-1");
    let trust_list =
        TrustListBuilder::new("https://trust.identity.example.be", now, now + 86_400, 1)
            .entity(
                TrustedEntity::new(ISSUER, "State issuer", now - 60, now + 365 * 86_400)
                    .with_key(issuer_jwk.clone())
                    .with_issuer_role(Role::PersonAttestationIssuer, [vct]),
            )
            .build()?
            .sign(&*crypto.signer(&authority)?)?;
    show("trust list (JWT)", format!("{} bytes", trust_list.len()));

    step(
        2,
        "The wallet creates a holder key (on a phone: in the secure element)",
    );
    let holder = SecretKey::generate(SignatureAlgorithm::Es256)?;
    let holder_jwk = Jwk::new(holder.public_key());
    show("holder key thumbprint", holder_jwk.thumbprint());

    step(
        3,
        "The issuer signs a person attestation, every claim selectively disclosable",
    );
    let mut allocator = IndexAllocator::new(LIST_SIZE)?;
    let index = allocator.allocate()?;
    let claims = json!({
        "person_handle": credential_formats::crypto::random_token(32)?,
        "age_over_16": true, "age_over_18": true, "age_over_21": false,
        "level_of_assurance": "high"
    });
    let claims = claims.as_object().context("claims are an object")?;
    CredentialType::PersonAttestation.validate_claims(claims)?;
    let mut builder = SdJwtVcBuilder::new(ISSUER, vct)
        .issued_at(now)
        .expires_at(now + 7 * 86_400)
        .holder_key(holder_jwk)
        .kid("issuer-2026-1")
        .status(StatusReference::new(u64::from(index), STATUS_URI)?)
        .decoys(3);
    for (name, value) in claims {
        builder = builder
            .claim(name.clone(), value.clone())?
            .disclosable(ClaimsPath::keys([name.clone()]).context("non-empty path")?)?;
    }
    let issued = builder.issue(&*crypto.signer(&issuer_key)?)?;
    show("credential", format!("{} bytes", issued.serialize().len()));
    show("disclosures", issued.disclosures().len());
    show("status list index", "random, never reused");

    step(
        4,
        "The issuer publishes its status list (1 bit per credential)",
    );
    let mut list = StatusList::with_capacity(StatusBits::One, LIST_SIZE as usize)?;
    let status_token = |list: &StatusList| -> Result<String> {
        Ok(StatusListToken::new(STATUS_URI, now, list.clone())?
            .with_exp(now + 3_600)?
            .with_ttl(300)?
            .sign(&*crypto.signer(&issuer_key)?, Some("issuer-2026-1"))?)
    };
    let published = status_token(&list)?;
    show("status list token", format!("{} bytes", published.len()));

    step(5, "The wallet checks what it received before storing it");
    let trusted = TrustList::verify(&trust_list, crypto, &authority.public_key(), now, None)?;
    let key = trusted.resolve_key(ISSUER, "issuer-2026-1")?.clone();
    let received = SdJwt::parse(&issued.serialize())?;
    let checked = sd_jwt_vc::verify(
        &received,
        &key,
        crypto,
        &VcVerification::new(KeyBindingPolicy::NotRequired, &clock).with_expected_vct(vct),
    )?;
    trusted.issuer_for_vct(&key, checked.vct(), now)?;
    let stored = Stored {
        vct: checked.vct().to_owned(),
        claims: Value::Object(checked.claims().clone()),
        compact: issued.serialize(),
    };
    show("issuer in trust list", ISSUER);
    show(
        "stored claims",
        stored.claims.as_object().map_or(0, |c| c.len()),
    );

    step(
        6,
        "A verifier asks, on behalf of a platform, for age_over_18 and nothing else",
    );
    let nonce = random_token(16)?;
    let query = DcqlQuery::parse(
        json!({"credentials": [{
            "id": "age", "format": "dc+sd-jwt",
            "meta": {"vct_values": [vct]},
            "claims": [{"path": ["age_over_18"], "values": [true]}]
        }]})
        .to_string()
        .as_bytes(),
    )?;
    show("nonce", "128 bits from the OS CSPRNG");

    step(
        7,
        "The wallet matches the query, discloses only what it asks, and binds the key",
    );
    let result = query.evaluate(&[&stored]);
    if !result.satisfiable {
        bail!("the wallet has no credential for this query");
    }
    let chosen = &result.preselection[0].candidate;
    show(
        "claims disclosed",
        chosen
            .disclose
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    );
    let presentation = SdJwt::parse(&stored.compact)?
        .present(&chosen.disclose)?
        .bind(
            &KeyBinding::new(VERIFIER, nonce.clone(), now),
            &*crypto.signer(&holder)?,
        )?
        .serialize();
    show("presentation", format!("{} bytes", presentation.len()));

    step(
        8,
        "The verifier checks issuer, disclosures, key binding, status and its own query",
    );
    let verify = |presentation: &str, nonce: &str, aud: &str, status: &str| -> Result<Presented> {
        let sd_jwt = SdJwt::parse(presentation)?;
        let policy = KeyBindingPolicy::Required(KeyBindingRequirements::new(aud, nonce));
        let verified = sd_jwt_vc::verify(
            &sd_jwt,
            &key,
            crypto,
            &VcVerification::new(policy, &clock).with_expected_vct(vct),
        )?;
        trusted.issuer_for_vct(&key, verified.vct(), now)?;
        let reference = verified.status_reference().context("no status")?.clone();
        let token = StatusListToken::verify(
            status,
            crypto,
            &key,
            &StatusListValidation::new(reference.uri(), now),
        )?;
        let state = token.status_of(&reference)?;
        if state != StatusType::Valid {
            bail!("credential status is {state:?}");
        }
        let claims = Value::Object(verified.claims().clone());
        Ok(Presented(verified, claims))
    };
    let presented = verify(&presentation, &nonce, VERIFIER, &published)?;
    let mut by_query = PresentedCredentials::new();
    by_query.insert("age".to_owned(), vec![&presented as &dyn CredentialView]);
    query.check_presented(&by_query)?;
    show(
        "verified disclosed claims",
        presented
            .0
            .disclosed_paths()
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    );
    show(
        "person_handle seen",
        presented.0.claims().contains_key("person_handle"),
    );

    step(9, "What the verifier refuses");
    let refusals = [
        (
            "replayed for another nonce",
            verify(&presentation, "another-nonce", VERIFIER, &published),
        ),
        (
            "presented to another verifier",
            verify(&presentation, &nonce, "x509_hash:other", &published),
        ),
        (
            "key binding stripped",
            verify(
                &format!("{}~", presentation.rsplit_once('~').map_or("", |p| p.0)),
                &nonce,
                VERIFIER,
                &published,
            ),
        ),
    ];
    for (what, outcome) in refusals {
        match outcome {
            Ok(_) => bail!("{what}: accepted, which is a bug"),
            Err(err) => show(what, format!("refused: {err}")),
        }
    }

    step(
        10,
        "The issuer revokes the credential; the next check fails",
    );
    list.set(u64::from(index), StatusType::Invalid.value())?;
    let republished = status_token(&list)?;
    match verify(&presentation, &nonce, VERIFIER, &republished) {
        Ok(_) => bail!("a revoked credential was accepted"),
        Err(err) => show("after revocation", format!("refused: {err}")),
    }

    println!("\nDone: the verifier learned that the holder is over 18, and nothing else.");
    Ok(())
}
