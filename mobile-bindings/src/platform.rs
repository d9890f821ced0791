//! What the app provides: the storage key, holder keys (the platform keystore) and,
//! optionally, HTTP. Each foreign trait has an adapter to the `wallet-core` trait it feeds.

use std::sync::Arc;

use credential_formats::crypto::PublicKey;
use zeroize::Zeroizing;

use crate::WalletError;

/// Gives the wallet its 32-byte storage key, kept by the platform keystore (Android
/// Keystore, iOS Keychain). Asked once, when the wallet opens.
#[uniffi::export(foreign)]
pub trait StorageKeyProvider: Send + Sync {
    /// The storage key: exactly 32 bytes, the same every time for the same wallet.
    fn storage_key(&self) -> Result<Vec<u8>, WalletError>;
}

/// The platform's store of P-256 holder keys (Android Keystore, Secure Enclave), by alias.
/// The wallet never sees a private key.
///
/// Encodings: a public key is the uncompressed SEC1 point `04 ‖ x ‖ y` (65 bytes; iOS's
/// `SecKeyCopyExternalRepresentation`, the last 65 bytes of a JCA `ECPublicKey.encoded`); a
/// signature is ES256 over the message (SHA-256 inside) in ASN.1 DER, as
/// `Signature("SHA256withECDSA")` and `SecKeyCreateSignature(.ecdsaSignatureMessageX962SHA256)`
/// give it.
#[uniffi::export(foreign)]
pub trait KeyStore: Send + Sync {
    /// Makes a new P-256 key under `alias` (never used before) and returns its public key.
    fn generate(&self, alias: String) -> Result<Vec<u8>, WalletError>;
    /// The public key under `alias`.
    fn public_key(&self, alias: String) -> Result<Vec<u8>, WalletError>;
    /// Signs `message` (ES256: SHA-256, then ECDSA) with the key under `alias`; DER.
    fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, WalletError>;
    /// Deletes the key under `alias` (nothing if there is none).
    fn delete(&self, alias: String) -> Result<(), WalletError>;
}

/// An HTTP method the wallet uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HttpMethod {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

/// One header.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// A request the wallet makes through an app's [`Transport`].
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// The method.
    pub method: HttpMethod,
    /// An `https` URL.
    pub url: String,
    /// Headers to send (`Content-Type`, `Accept`, `Authorization`).
    pub headers: Vec<HttpHeader>,
    /// The body (empty for `GET`).
    pub body: Vec<u8>,
}

/// The answer to an [`HttpRequest`].
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    /// The status code; a redirect is returned as the 3xx it is, never followed.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body, at most 1 MiB.
    pub body: Vec<u8>,
}

// Headers and bodies carry codes, tokens and credentials: Debug shows the shape only.
impl std::fmt::Debug for HttpHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpHeader")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The app's HTTP stack (its certificate pinning, proxies, metering). It must refuse
/// non-`https` URLs, must not follow redirects, and should bound times and bodies. Without
/// one, the wallet uses its own rustls client.
#[uniffi::export(foreign)]
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    /// Sends one request.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, WalletError>;
}

/// The 32-byte storage key of `provider`, copied into memory that is zeroized on drop.
pub(crate) fn storage_key(
    provider: &dyn StorageKeyProvider,
) -> Result<Zeroizing<[u8; 32]>, WalletError> {
    let given = Zeroizing::new(provider.storage_key()?);
    let mut key = Zeroizing::new([0u8; 32]);
    if given.len() != key.len() {
        return Err(WalletError::input("the storage key is not 32 bytes"));
    }
    key.copy_from_slice(&given);
    Ok(key)
}

/// A foreign [`KeyStore`] as `wallet-core` uses it.
pub(crate) struct PlatformKeys(pub(crate) Arc<dyn KeyStore>);

impl std::fmt::Debug for PlatformKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlatformKeys")
    }
}

/// A P-256 key from its uncompressed SEC1 encoding, the point checked on the curve.
fn sec1_public_key(bytes: &[u8]) -> Result<PublicKey, wallet_core::Error> {
    let malformed = wallet_core::Error::Crypto(
        "the key store gave a public key that is not an uncompressed P-256 point",
    );
    let [0x04, point @ ..] = bytes else {
        return Err(malformed);
    };
    let (x, y) = point.split_at_checked(32).ok_or(malformed.clone())?;
    let x: [u8; 32] = x.try_into().map_err(|_| malformed.clone())?;
    let y: [u8; 32] = y.try_into().map_err(|_| malformed.clone())?;
    PublicKey::p256(x, y).map_err(|_| malformed)
}

// The app's own error is not passed on (it may say anything); the operation is named.
impl wallet_core::KeyStore for PlatformKeys {
    fn generate(&self, alias: &str) -> Result<PublicKey, wallet_core::Error> {
        let public = self
            .0
            .generate(alias.to_owned())
            .map_err(|_| wallet_core::Error::Crypto("the key store could not make a key"))?;
        sec1_public_key(&public).inspect_err(|_| {
            // The core never learns of a key it cannot use, so it would never delete it.
            let _ = self.0.delete(alias.to_owned());
        })
    }

    fn public_key(&self, alias: &str) -> Result<PublicKey, wallet_core::Error> {
        let public = self
            .0
            .public_key(alias.to_owned())
            .map_err(|_| wallet_core::Error::Crypto("the key store has no such key"))?;
        sec1_public_key(&public)
    }

    fn sign(&self, alias: &str, message: &[u8]) -> Result<Vec<u8>, wallet_core::Error> {
        let der = self
            .0
            .sign(alias.to_owned(), message.to_vec())
            .map_err(|_| wallet_core::Error::Crypto("the key store could not sign"))?;
        // The formats take r ‖ s (JWS, RFC 7518 §3.4); platforms give DER.
        let signature = p256::ecdsa::Signature::from_der(&der).map_err(|_| {
            wallet_core::Error::Crypto("the key store gave a signature that is not DER ECDSA")
        })?;
        Ok(signature.to_bytes().to_vec())
    }

    fn delete(&self, alias: &str) -> Result<(), wallet_core::Error> {
        self.0
            .delete(alias.to_owned())
            .map_err(|_| wallet_core::Error::Crypto("the key store could not delete a key"))
    }
}

/// A foreign [`Transport`] as `wallet-core` uses it, with the rules every transport keeps
/// checked here as well, whatever the app's stack does.
pub(crate) struct PlatformTransport(pub(crate) Arc<dyn Transport>);

impl std::fmt::Debug for PlatformTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlatformTransport")
    }
}

#[async_trait::async_trait]
impl wallet_core::Transport for PlatformTransport {
    async fn send(
        &self,
        request: wallet_core::HttpRequest,
    ) -> Result<wallet_core::HttpResponse, wallet_core::Error> {
        if !request.url.starts_with("https://") {
            return Err(wallet_core::Error::Transport(
                "only https URLs are fetched".into(),
            ));
        }
        // The host is named, never the path or query: they may carry codes.
        let host = request.url.split('/').nth(2).unwrap_or_default().to_owned();
        let request = HttpRequest {
            method: match request.method {
                wallet_core::HttpMethod::Get => HttpMethod::Get,
                wallet_core::HttpMethod::Post => HttpMethod::Post,
            },
            url: request.url,
            headers: request
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            body: request.body,
        };
        let response = self.0.send(request).await.map_err(|_| {
            wallet_core::Error::Transport(format!("{host}: the app's transport failed"))
        })?;
        if response.body.len() > wallet_core::MAX_RESPONSE {
            return Err(wallet_core::Error::Transport(format!(
                "{host}: response too large"
            )));
        }
        Ok(wallet_core::HttpResponse {
            status: response.status,
            content_type: response.content_type,
            body: response.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_must_be_uncompressed_points_on_the_curve() {
        let secret = credential_formats::crypto::SecretKey::generate(
            credential_formats::crypto::SignatureAlgorithm::Es256,
        )
        .unwrap();
        let PublicKey::P256 { x, y } = secret.public_key() else {
            panic!("a P-256 key")
        };
        let mut sec1 = vec![0x04];
        sec1.extend_from_slice(&x);
        sec1.extend_from_slice(&y);
        assert_eq!(sec1_public_key(&sec1).unwrap(), secret.public_key());
        // Compressed, truncated, off the curve.
        let mut compressed = vec![0x02 | (y[31] & 1)];
        compressed.extend_from_slice(&x);
        assert!(sec1_public_key(&compressed).is_err());
        assert!(sec1_public_key(&sec1[..64]).is_err());
        let mut off = sec1.clone();
        off[64] ^= 1;
        assert!(sec1_public_key(&off).is_err());
    }
}
