//! The running stack the tests share: the State issuer and the test verifier on loopback,
//! and what a wallet needs to trust them.

use std::path::PathBuf;
use std::sync::Arc;

use credential_formats::oid4vp::ResponseMode;
use issuer::LocalIssuer;
use mobile_bindings::{
    KeyStore, StorageKeyProvider, Transport, Wallet, WalletError, WalletSettings,
};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::verifier::{Session, Verifier};

pub const PERSON: &str = "urn:be:identity:person-attestation:1";

pub struct Stack {
    pub issuer: LocalIssuer,
    pub verifier: Verifier,
    pub dir: TempDir,
}

impl Stack {
    pub async fn start() -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let stack = dir.path().join("stack");
        let issuer = LocalIssuer::start(&stack).await.unwrap();
        let verifier = Verifier::start(&stack).await;
        Stack {
            issuer,
            verifier,
            dir,
        }
    }

    /// The trust list the verifier serves: the issuer and the verifier, signed by the
    /// authority whose key is the anchor.
    pub fn trust_list_url(&self) -> String {
        format!("{}/trust-list", self.verifier.base)
    }

    #[cfg_attr(not(feature = "cli"), allow(dead_code))]
    pub fn anchor_file(&self) -> PathBuf {
        self.issuer.anchor.clone()
    }

    pub fn anchor_jwk(&self) -> String {
        std::fs::read_to_string(&self.issuer.anchor).unwrap()
    }

    /// Settings for a wallet in `name` using the built-in transport (development CA).
    pub fn settings(&self, name: &str) -> WalletSettings {
        WalletSettings {
            db_path: self.dir.path().join(name).display().to_string(),
            trust_list_url: self.trust_list_url(),
            trust_anchor_jwk: self.anchor_jwk(),
            ca_pem: Some(self.issuer.ca_pem.clone()),
        }
    }

    /// An offer of a PID and a batch of person attestations to the demo citizen: the link
    /// and its transaction code.
    pub async fn offer(&self) -> (String, String) {
        self.issuer
            .offer_to_demo_citizen(&["pid_sd_jwt", "person_attestation_sd_jwt"])
            .await
            .unwrap()
    }

    /// An anonymous age check, signed by the listed verifier, `direct_post.jwt`.
    pub fn age_check(&self) -> Session {
        self.verifier.request(
            age_query(),
            &self.verifier.listed,
            ResponseMode::DirectPostJwt,
        )
    }
}

pub fn age_query() -> Value {
    json!({"credentials": [{
        "id": "person", "format": "dc+sd-jwt",
        "meta": {"vct_values": [PERSON]},
        "claims": [{"path": ["age_over_18"], "values": [true]}]
    }]})
}

/// A transaction code that is not `right`.
pub fn wrong_code(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// A storage key the app keeps.
#[derive(Debug)]
pub struct FixedKey(pub Vec<u8>);

impl StorageKeyProvider for FixedKey {
    fn storage_key(&self) -> Result<Vec<u8>, WalletError> {
        Ok(self.0.clone())
    }
}

pub fn open(
    settings: WalletSettings,
    key: &[u8],
    keys: Option<Arc<dyn KeyStore>>,
    transport: Option<Arc<dyn Transport>>,
) -> Result<Arc<Wallet>, WalletError> {
    Wallet::new(settings, Arc::new(FixedKey(key.to_vec())), keys, transport)
}

/// The verifier's checks on what the wallet sent for `session`: the one presentation
/// discloses `age_over_18` and nothing identifying.
pub fn assert_age_presented(verifier: &Verifier, session: &Session) {
    let presented = verifier.verify(session);
    assert_eq!(presented.len(), 1);
    assert_eq!(presented[0].0, "person");
    assert_eq!(presented[0].1.claims["age_over_18"], true);
    assert!(presented[0].1.claims.get("person_handle").is_none());
    assert!(presented[0].1.claims.get("family_name").is_none());
}
