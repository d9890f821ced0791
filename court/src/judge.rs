//! A judge's signing key (ES256), kept in a file sealed under the judge's passphrase; its
//! public half goes into the trust list with the role `court_judge`, and it signs court
//! orders ([`credential_formats::court_order`]).

use crate::error::{Error, Result};
use crate::sealing::{self, KdfParams, OpenError, Sealed};
use credential_formats::court_order::{OrderRequest, sign_order};
use credential_formats::crypto::{CryptoProvider, RustCrypto, SecretKey, SignatureAlgorithm};
use credential_formats::jose::Jwk;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

/// `format` of a judge's key file.
pub const JUDGE_KEY_FORMAT: &str = "court-judge-key/v1";

/// A judge's key file: who (entity id and name, as in the trust list), the public key and
/// its `kid`, and the private key sealed under the judge's passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeKeyFile {
    format: String,
    judge: String,
    name: String,
    kid: String,
    public_key: Value,
    sealed: Sealed,
}

#[derive(Serialize)]
struct Header<'a> {
    format: &'a str,
    judge: &'a str,
    name: &'a str,
    kid: &'a str,
    public_key: &'a Value,
}

impl Header<'_> {
    fn aad(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|_| Error::Crypto("serialising the key header"))
    }
}

/// Makes a judge's ES256 key for the entity `judge_id` (an https URL, as the trust list
/// names it), sealed under `passphrase`. `kid` defaults to the key's RFC 7638 thumbprint.
pub fn judge_keygen(
    judge_id: &str,
    name: &str,
    kid: Option<String>,
    passphrase: &[u8],
    kdf: KdfParams,
) -> Result<JudgeKeyFile> {
    if judge_id.trim().is_empty() || judge_id.chars().any(char::is_control) {
        return Err(Error::Invalid("judge id".into()));
    }
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err(Error::Invalid("judge name".into()));
    }
    let secret =
        SecretKey::generate(SignatureAlgorithm::Es256).map_err(|_| Error::Crypto("ES256 key"))?;
    let public = Jwk::new(secret.public_key());
    let kid = kid.unwrap_or_else(|| public.thumbprint());
    if kid.is_empty() || kid.chars().any(char::is_control) {
        return Err(Error::Invalid("kid".into()));
    }
    let public_key = public.with_kid(kid.clone()).to_value();
    let aad = Header {
        format: JUDGE_KEY_FORMAT,
        judge: judge_id,
        name,
        kid: &kid,
        public_key: &public_key,
    }
    .aad()?;
    let sealed = sealing::seal(passphrase, kdf, &aad, &secret.to_bytes()[..])?;
    Ok(JudgeKeyFile {
        format: JUDGE_KEY_FORMAT.into(),
        judge: judge_id.to_owned(),
        name: name.to_owned(),
        kid,
        public_key,
        sealed,
    })
}

impl JudgeKeyFile {
    /// The judge's entity id.
    pub fn judge(&self) -> &str {
        &self.judge
    }
    /// The judge's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// The public key, with its `kid`.
    pub fn public_jwk(&self) -> Result<Jwk> {
        Jwk::from_value(&self.public_key)
            .map_err(|_| Error::format("judge key file", "public_key is not a public JWK"))
    }

    /// The file as JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|_| Error::Crypto("serialising the key file"))
    }

    /// Reads a key file.
    pub fn from_json(text: &str) -> Result<JudgeKeyFile> {
        let file: JudgeKeyFile = serde_json::from_str(text)
            .map_err(|_| Error::format("judge key file", "not a judge key file"))?;
        if file.format != JUDGE_KEY_FORMAT {
            return Err(Error::format("judge key file", "unknown format"));
        }
        file.public_jwk()?;
        Ok(file)
    }

    /// Unseals the key with the judge's passphrase, and checks it is the file's public key.
    pub fn unlock(&self, passphrase: &[u8]) -> Result<JudgeKey> {
        let aad = Header {
            format: &self.format,
            judge: &self.judge,
            name: &self.name,
            kid: &self.kid,
            public_key: &self.public_key,
        }
        .aad()?;
        let bytes = sealing::open(passphrase, &self.sealed, &aad).map_err(|e| match e {
            OpenError::WrongPassphrase => Error::WrongPassphrase {
                holder: self.name.clone(),
            },
            OpenError::Format(reason) => Error::format("judge key file", reason),
        })?;
        let scalar: Zeroizing<[u8; 32]> = Zeroizing::new(
            bytes[..]
                .try_into()
                .map_err(|_| Error::format("judge key file", "sealed key length"))?,
        );
        let secret = SecretKey::p256(&scalar)
            .map_err(|_| Error::format("judge key file", "sealed key is not a P-256 key"))?;
        if &secret.public_key() != self.public_jwk()?.key() {
            return Err(Error::format(
                "judge key file",
                "sealed key does not match the public key",
            ));
        }
        Ok(JudgeKey {
            judge: self.judge.clone(),
            kid: self.kid.clone(),
            secret,
        })
    }
}

/// A judge's unsealed signing key (zeroized on drop).
#[derive(Debug)]
pub struct JudgeKey {
    judge: String,
    kid: String,
    secret: SecretKey,
}

impl JudgeKey {
    /// Signs an order naming one account, issued at `now`.
    pub fn sign_order(&self, request: &OrderRequest, now: i64) -> Result<String> {
        let signer = RustCrypto
            .signer(&self.secret)
            .map_err(|_| Error::Crypto("ES256 signer"))?;
        Ok(sign_order(request, &self.judge, &self.kid, &*signer, now)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealing::test_params;
    use credential_formats::court_order::verify_order;
    use credential_formats::trust_list::{Role, TrustListBuilder, TrustedEntity};

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_judge_key_signs_orders_the_trust_list_accepts() {
        let file = judge_keygen(
            "https://court.example.be/judges/a",
            "Judge A",
            None,
            b"judge a passphrase",
            test_params(),
        )
        .unwrap();
        let file = JudgeKeyFile::from_json(&file.to_json().unwrap()).unwrap();
        assert_eq!(file.kid(), file.public_jwk().unwrap().thumbprint());
        let list = TrustListBuilder::new("https://trust.example", NOW - 10, NOW + 3600, 1)
            .entity(
                TrustedEntity::new(file.judge(), file.name(), NOW - 10, NOW + 3600)
                    .with_key(file.public_jwk().unwrap())
                    .with_role(Role::CourtJudge),
            )
            .build()
            .unwrap();
        let key = file.unlock(b"judge a passphrase").unwrap();
        let order = key
            .sign_order(
                &OrderRequest {
                    case: "2026/CH-1".into(),
                    ground: "scam".into(),
                    platform: "https://platform.example".into(),
                    pseudonym: "q2FfZ3JvdXAtcHNldWRvbnltLWZvci10ZXN0czAwMDA".into(),
                    deadline: NOW + 86_400,
                    embargo_until: None,
                },
                NOW,
            )
            .unwrap();
        let verified = verify_order(&order, &list, &RustCrypto, NOW).unwrap();
        assert_eq!(verified.judge(), "https://court.example.be/judges/a");
    }

    #[test]
    fn a_wrong_passphrase_or_an_altered_file_does_not_unlock() {
        let file = judge_keygen(
            "https://court.example.be/judges/a",
            "Judge A",
            Some("a-1".into()),
            b"judge a passphrase",
            test_params(),
        )
        .unwrap();
        assert!(matches!(
            file.unlock(b"judge b passphrase"),
            Err(Error::WrongPassphrase { holder }) if holder == "Judge A"
        ));
        // Another judge's id on the same sealed key: it does not open.
        let mut renamed = file.clone();
        renamed.judge = "https://court.example.be/judges/b".into();
        assert!(renamed.unlock(b"judge a passphrase").is_err());
        // Another public key in the header: it does not open either.
        let other = judge_keygen(
            "https://x.example",
            "X",
            Some("a-1".into()),
            b"p",
            test_params(),
        )
        .unwrap();
        let mut swapped = file.clone();
        swapped.public_key = other.public_key;
        assert!(swapped.unlock(b"judge a passphrase").is_err());
        assert!(file.unlock(b"judge a passphrase").is_ok());
    }
}
