//! The actors and their state: the trust authority, the State issuer (with its nonce store,
//! status list and index allocator), a verifier with its request-signing certificate, a
//! training provider, and the wallet's stored credentials.

use credential_formats::claims_path::ClaimsPath;
use credential_formats::credentials::CredentialType;
use credential_formats::crypto::{
    CryptoProvider, SecretKey, SignatureAlgorithm, Signer, default_provider, random_token,
};
use credential_formats::dcql::{CredentialView, FORMAT_DC_SD_JWT};
use credential_formats::jose::{Jwk, X509Certificate};
use credential_formats::sd_jwt::{KeyBindingPolicy, SdJwt};
use credential_formats::sd_jwt_vc::{self, VcVerification, VerifiedSdJwtVc};
use credential_formats::status_list::{
    IndexAllocator, StatusBits, StatusList, StatusListToken, StatusReference, StatusType,
};
use credential_formats::time::{FixedClock, UnixTime};
use credential_formats::trust_list::{Role, TrustList, TrustListBuilder, TrustedEntity};
use serde_json::{Value, json};

/// The fixed "now" of every step.
pub(crate) const NOW: UnixTime = 1_800_000_000;
pub(crate) const YEAR: UnixTime = 365 * 24 * 3600;

pub(crate) const AUTHORITY_ID: &str = "https://trust.example.be";
pub(crate) const ISSUER_ID: &str = "https://issuer.example.be";
pub(crate) const ISSUER_KID: &str = "issuer-2026";
pub(crate) const STATUS_URI: &str = "https://issuer.example.be/status/1";
pub(crate) const VERIFIER_ID: &str = "https://shop.example.be";
pub(crate) const PROVIDER_ID: &str = "https://training.example.be";

pub(crate) fn provider() -> &'static dyn CryptoProvider {
    default_provider()
}

pub(crate) fn es256() -> SecretKey {
    SecretKey::generate(SignatureAlgorithm::Es256).unwrap()
}

pub(crate) fn signer(secret: &SecretKey) -> Box<dyn Signer> {
    provider().signer(secret).unwrap()
}

/// The State issuer: person attestations and PIDs, their status list, and the `c_nonce`
/// store of its Nonce Endpoint (each nonce usable once).
#[derive(Debug)]
pub(crate) struct Issuer {
    pub(crate) secret: SecretKey,
    pub(crate) allocator: IndexAllocator,
    pub(crate) status_list: StatusList,
    pub(crate) nonces: Vec<String>,
    pub(crate) pre_authorized: Vec<(String, String)>,
}

impl Issuer {
    fn new() -> Issuer {
        Issuer {
            secret: es256(),
            allocator: IndexAllocator::new(1024).unwrap(),
            status_list: StatusList::with_capacity(StatusBits::One, 1024).unwrap(),
            nonces: Vec::new(),
            pre_authorized: Vec::new(),
        }
    }

    pub(crate) fn signer(&self) -> Box<dyn Signer> {
        signer(&self.secret)
    }

    pub(crate) fn jwk(&self) -> Jwk {
        Jwk::new(self.secret.public_key()).with_kid(ISSUER_KID)
    }

    /// Nonce Endpoint: a fresh `c_nonce`, remembered until used.
    pub(crate) fn fresh_nonce(&mut self) -> String {
        let nonce = random_token(16).unwrap();
        self.nonces.push(nonce.clone());
        nonce
    }

    /// Consumes a `c_nonce`: true once per nonce handed out.
    pub(crate) fn consume_nonce(&mut self, nonce: &str) -> bool {
        match self.nonces.iter().position(|n| n == nonce) {
            Some(at) => {
                self.nonces.remove(at);
                true
            }
            None => false,
        }
    }

    /// The signed Status List Token the Status Provider serves now.
    pub(crate) fn status_list_token(&self) -> String {
        StatusListToken::new(STATUS_URI, NOW, self.status_list.clone())
            .unwrap()
            .with_exp(NOW + 3600)
            .unwrap()
            .sign(&*self.signer(), Some(ISSUER_KID))
            .unwrap()
    }

    pub(crate) fn revoke(&mut self, reference: &StatusReference) {
        self.status_list
            .set(reference.idx(), StatusType::Invalid.value())
            .unwrap();
    }
}

/// A verifier: its request-signing key and self-signed certificate (pinned by `x509_hash`
/// in the trust list).
#[derive(Debug)]
pub(crate) struct Verifier {
    pub(crate) secret: SecretKey,
    pub(crate) certificate: X509Certificate,
}

impl Verifier {
    pub(crate) fn new(host: &str) -> Verifier {
        let secret = es256();
        let certificate =
            X509Certificate::self_signed(&secret, host, &[host], NOW - YEAR, NOW + YEAR).unwrap();
        Verifier {
            secret,
            certificate,
        }
    }

    pub(crate) fn signer(&self) -> Box<dyn Signer> {
        signer(&self.secret)
    }

    pub(crate) fn x509_hash(&self) -> String {
        self.certificate.x509_hash()
    }
}

/// Everyone, set up: the authority signed a trust list listing the issuer, one verifier and
/// a training provider; the wallet holds the verified list.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) issuer: Issuer,
    pub(crate) verifier: Verifier,
    /// A verifier that is *not* in the trust list.
    pub(crate) stranger: Verifier,
    pub(crate) trust_list: TrustList,
}

impl World {
    pub(crate) fn new() -> World {
        let authority = es256();
        let issuer = Issuer::new();
        let verifier = Verifier::new("shop.example.be");
        let stranger = Verifier::new("other.example.be");
        let provider_key = es256();
        let list = TrustListBuilder::new(AUTHORITY_ID, NOW - 60, NOW + 30 * 24 * 3600, 7)
            .entity(
                TrustedEntity::new(ISSUER_ID, "State issuer", NOW - YEAR, NOW + YEAR)
                    .with_key(issuer.jwk())
                    .with_issuer_role(
                        Role::PersonAttestationIssuer,
                        [CredentialType::PersonAttestation.vct()],
                    )
                    .with_issuer_role(Role::PidIssuer, [CredentialType::Pid.vct()]),
            )
            .entity(
                TrustedEntity::new(VERIFIER_ID, "Shop", NOW - YEAR, NOW + YEAR)
                    .with_key(Jwk::new(verifier.secret.public_key()).with_kid("shop-1"))
                    .with_verifier_role(verifier.x509_hash()),
            )
            .entity(
                TrustedEntity::new(PROVIDER_ID, "Training provider", NOW - YEAR, NOW + YEAR)
                    .with_key(Jwk::new(provider_key.public_key()).with_kid("training-1"))
                    .with_training_provider_role(["COURSE-42"]),
            )
            .build()
            .unwrap();
        let signed = list.sign(&*signer(&authority)).unwrap();
        // The wallet (and every verifier) pins the authority key and verifies the list.
        let trust_list =
            TrustList::verify(&signed, provider(), &authority.public_key(), NOW, Some(7)).unwrap();
        World {
            issuer,
            verifier,
            stranger,
            trust_list,
        }
    }
}

/// A credential the wallet holds: the issued SD-JWT VC, the holder key it is bound to, and
/// what verifying it established.
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) sd_jwt: SdJwt,
    pub(crate) holder: SecretKey,
    pub(crate) vct: String,
    pub(crate) claims: Value,
    pub(crate) status: StatusReference,
}

impl Held {
    /// The wallet's check of an issued credential: issuer key from the trust list (by `iss`
    /// and `kid`), allowed to issue this `vct`, signature and SD-JWT VC rules, `cnf` is the
    /// key the wallet proved.
    pub(crate) fn accept(
        credential: &str,
        holder: SecretKey,
        trust_list: &TrustList,
    ) -> credential_formats::Result<Held> {
        let sd_jwt = SdJwt::parse(credential)?;
        let iss = sd_jwt.unverified_issuer().unwrap_or_default().to_owned();
        let kid = sd_jwt.unverified_kid().unwrap_or_default().to_owned();
        let key = trust_list.resolve_key(&iss, &kid)?.clone();
        let clock = FixedClock(NOW);
        let verified = sd_jwt_vc::verify(
            &sd_jwt,
            &key,
            provider(),
            &VcVerification::new(KeyBindingPolicy::NotRequired, &clock),
        )?;
        trust_list.issuer_for_vct(&key, verified.vct(), NOW)?;
        assert_eq!(
            verified.cnf_jwk().map(Jwk::thumbprint),
            Some(Jwk::new(holder.public_key()).thumbprint())
        );
        Ok(Held {
            vct: verified.vct().to_owned(),
            claims: Value::Object(verified.claims().clone()),
            status: verified.status_reference().unwrap().clone(),
            sd_jwt,
            holder,
        })
    }
}

impl CredentialView for Held {
    fn format(&self) -> &str {
        FORMAT_DC_SD_JWT
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

/// What the verifier learnt from one verified presentation, for `check_presented`.
#[derive(Debug)]
pub(crate) struct Presented {
    pub(crate) verified: VerifiedSdJwtVc,
    pub(crate) claims: Value,
}

impl CredentialView for Presented {
    fn format(&self) -> &str {
        FORMAT_DC_SD_JWT
    }
    fn vct(&self) -> Option<&str> {
        Some(self.verified.vct())
    }
    fn doctype(&self) -> Option<&str> {
        None
    }
    fn claims(&self) -> &Value {
        &self.claims
    }
    fn supports_holder_binding(&self) -> bool {
        self.verified.key_binding().is_some()
    }
}

/// The person attestation claims of one person.
pub(crate) fn person_claims() -> serde_json::Map<String, Value> {
    let handle = random_token(32).unwrap();
    let Value::Object(claims) = json!({
        "person_handle": handle,
        "age_over_16": true,
        "age_over_18": true,
        "age_over_21": false,
        "level_of_assurance": "high",
    }) else {
        unreachable!()
    };
    CredentialType::PersonAttestation
        .validate_claims(&claims)
        .unwrap();
    claims
}

pub(crate) fn path(name: &str) -> ClaimsPath {
    ClaimsPath::keys([name]).unwrap()
}
