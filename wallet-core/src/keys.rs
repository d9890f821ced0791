//! Holder keys, by alias: the core never sees a device private key.
//!
//! Android Keystore and the iOS Secure Enclave implement [`KeyStore`] through the bindings;
//! [`SoftwareKeyStore`] (keys sealed in the wallet's own store) serves tests and the
//! command-line wallet. [`AliasSigner`] adapts a key of a store to the formats' `Signer`.

use std::sync::{Arc, Mutex};

use credential_formats::JoseError;
use credential_formats::crypto::{
    CryptoProvider, PublicKey, RustCrypto, SecretKey, SignatureAlgorithm, Signer,
};

use crate::Error;
use crate::store::Store;

/// A store of P-256 holder keys, addressed by alias. Signatures are ES256: `r ‖ s`, 64 bytes.
pub trait KeyStore: Send + Sync + std::fmt::Debug {
    /// Makes a new P-256 key under `alias` (which must be new) and returns its public key.
    fn generate(&self, alias: &str) -> Result<PublicKey, Error>;
    /// The public key under `alias`.
    fn public_key(&self, alias: &str) -> Result<PublicKey, Error>;
    /// Signs `message` (ES256) with the key under `alias`.
    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, Error>;
    /// Deletes the key under `alias` (nothing if there is none).
    fn delete(&self, alias: &str) -> Result<(), Error>;
}

/// Keys sealed in the wallet's store, for tests and the command-line wallet. A phone uses
/// its hardware-backed store instead.
#[derive(Debug, Clone)]
pub struct SoftwareKeyStore {
    store: Arc<Mutex<Store>>,
}

impl SoftwareKeyStore {
    /// Keys kept in `store`.
    pub fn new(store: Arc<Mutex<Store>>) -> SoftwareKeyStore {
        SoftwareKeyStore { store }
    }

    fn secret(&self, alias: &str) -> Result<SecretKey, Error> {
        let store = self
            .store
            .lock()
            .map_err(|_| Error::Corrupt("store lock"))?;
        let bytes = store.get_key(alias)?.ok_or(Error::NotFound)?;
        let scalar: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Error::Corrupt("software key"))?;
        SecretKey::p256(&scalar).map_err(|_| Error::Corrupt("software key"))
    }
}

impl KeyStore for SoftwareKeyStore {
    fn generate(&self, alias: &str) -> Result<PublicKey, Error> {
        let secret = SecretKey::generate(SignatureAlgorithm::Es256)
            .map_err(|_| Error::Crypto("key generation failed"))?;
        let mut store = self
            .store
            .lock()
            .map_err(|_| Error::Corrupt("store lock"))?;
        if store.get_key(alias)?.is_some() {
            return Err(Error::Corrupt("a key with this alias exists"));
        }
        store.put_key(alias, &secret.to_bytes()[..])?;
        Ok(secret.public_key())
    }

    fn public_key(&self, alias: &str) -> Result<PublicKey, Error> {
        Ok(self.secret(alias)?.public_key())
    }

    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, Error> {
        let secret = self.secret(alias)?;
        let signer = RustCrypto
            .signer(&secret)
            .map_err(|_| Error::Crypto("signing failed"))?;
        signer
            .sign(message)
            .map_err(|_| Error::Crypto("signing failed"))
    }

    fn delete(&self, alias: &str) -> Result<(), Error> {
        let mut store = self
            .store
            .lock()
            .map_err(|_| Error::Corrupt("store lock"))?;
        store.delete_key(alias)
    }
}

/// One key of a [`KeyStore`], as the formats' [`Signer`].
#[derive(Debug, Clone)]
pub struct AliasSigner {
    keys: Arc<dyn KeyStore>,
    alias: String,
    public: PublicKey,
}

impl AliasSigner {
    /// The key under `alias`.
    pub fn new(keys: Arc<dyn KeyStore>, alias: impl Into<String>) -> Result<AliasSigner, Error> {
        let alias = alias.into();
        let public = keys.public_key(&alias)?;
        if public.algorithm() != SignatureAlgorithm::Es256 {
            return Err(Error::Crypto("holder keys are P-256"));
        }
        Ok(AliasSigner {
            keys,
            alias,
            public,
        })
    }
}

impl Signer for AliasSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::Es256
    }

    fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let signature = self
            .keys
            .sign(&self.alias, message)
            .map_err(|_| JoseError::SigningFailed)?;
        // The formats' verifiers take r ‖ s; a platform store answering DER would be caught
        // here rather than producing tokens nobody can verify.
        if signature.len() != 64 {
            return Err(JoseError::SigningFailed);
        }
        Ok(signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credential_formats::jose::{DecodedJws, Jwk, JwsHeader, sign_compact};
    use zeroize::Zeroizing;

    fn keys() -> Arc<dyn KeyStore> {
        let store = Store::open_in_memory(Zeroizing::new([3u8; 32])).unwrap();
        Arc::new(SoftwareKeyStore::new(Arc::new(Mutex::new(store))))
    }

    #[test]
    fn a_software_key_signs_what_its_public_key_verifies() {
        let keys = keys();
        let public = keys.generate("holder-1").unwrap();
        assert_eq!(keys.public_key("holder-1").unwrap(), public);
        let signer = AliasSigner::new(keys.clone(), "holder-1").unwrap();
        let jws = sign_compact(&JwsHeader::new("test+jwt"), b"{\"a\":1}", &signer).unwrap();
        DecodedJws::decode(&jws)
            .unwrap()
            .verify(&RustCrypto, &public, "test+jwt")
            .unwrap();
        assert_eq!(Jwk::new(signer.public_key()).key(), &public);
    }

    #[test]
    fn aliases_are_never_reused_and_deleted_keys_are_gone() {
        let keys = keys();
        keys.generate("a").unwrap();
        assert!(keys.generate("a").is_err());
        keys.delete("a").unwrap();
        assert_eq!(keys.sign("a", b"x"), Err(Error::NotFound));
        assert!(AliasSigner::new(keys, "a").is_err());
    }
}
