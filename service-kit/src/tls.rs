//! TLS for the services' own listeners, and the development PKI of the local stack.
//!
//! In production a service may sit behind a TLS-terminating proxy (its public URL is still
//! `https`), or serve TLS itself from certificate files. For the local stack and the tests,
//! [`dev_pki`] makes a private CA and a `localhost`/`127.0.0.1` server certificate once; the
//! CA's key is never written anywhere, so nothing else can ever be signed by it. Clients
//! (the command-line wallet, the tests) trust that CA explicitly — every protocol URL stays
//! `https`, exactly as in production.

use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroizing;

use crate::Error;
use crate::keys::write_private;

/// The development PKI: a CA certificate to trust, and a server certificate chain and key.
pub struct DevPki {
    /// The CA certificate (PEM), for clients to trust.
    pub ca_pem: String,
    /// The server certificate followed by the CA certificate (PEM).
    pub chain_pem: String,
    key_pem: Zeroizing<String>,
}

impl std::fmt::Debug for DevPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevPki").finish_non_exhaustive()
    }
}

impl DevPki {
    /// The server's TLS configuration.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, Error> {
        server_config(self.chain_pem.as_bytes(), self.key_pem.as_bytes())
    }
}

fn tls_err(what: &'static str) -> impl Fn(rcgen::Error) -> Error {
    move |_| Error::Tls(what)
}

/// Loads the development PKI from `dir` (`ca.pem`, `server.pem`, `server.key`), or makes
/// one: a CA valid ten years, and a server certificate for `localhost`, `127.0.0.1` and
/// `::1` signed by it.
pub fn dev_pki(dir: &Path) -> Result<DevPki, Error> {
    let (ca, chain, key) = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| Error::Io {
            path: p.display().to_string(),
            source: e,
        })
    };
    if ca.exists() && chain.exists() && key.exists() {
        return Ok(DevPki {
            ca_pem: read(&ca)?,
            chain_pem: read(&chain)?,
            key_pem: Zeroizing::new(read(&key)?),
        });
    }
    let ca_key = KeyPair::generate().map_err(tls_err("CA key generation"))?;
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).map_err(tls_err("CA parameters"))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "identity-wallet development CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    // Valid from yesterday (clocks drift) for ten years.
    let not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let not_after = not_before + time::Duration::days(3_650);
    ca_params.not_before = not_before;
    ca_params.not_after = not_after;
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(tls_err("CA certificate"))?;

    let server_key = KeyPair::generate().map_err(tls_err("server key generation"))?;
    let mut params = CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])
    .map_err(tls_err("server parameters"))?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = not_before;
    params.not_after = not_after;
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let server_cert = params
        .signed_by(&server_key, &issuer)
        .map_err(tls_err("server certificate"))?;

    let pki = DevPki {
        ca_pem: ca_cert.pem(),
        chain_pem: format!("{}{}", server_cert.pem(), ca_cert.pem()),
        key_pem: Zeroizing::new(server_key.serialize_pem()),
    };
    write_private(&key, pki.key_pem.as_bytes())?;
    write_private(&chain, pki.chain_pem.as_bytes())?;
    write_private(&ca, pki.ca_pem.as_bytes())?;
    Ok(pki)
}

/// A TLS server configuration from a PEM certificate chain and private key (TLS 1.2 and
/// 1.3, aws-lc-rs, HTTP/1.1).
pub fn server_config(chain_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>, Error> {
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Error::Tls("certificate chain is not PEM"))?;
    if chain.is_empty() {
        return Err(Error::Tls("no certificate in the chain file"));
    }
    let key =
        PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| Error::Tls("private key is not PEM"))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|_| Error::Tls("protocol versions"))?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|_| Error::Tls("certificate and key do not match"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A TLS server configuration from certificate and key files.
pub fn load_server_config(chain: &Path, key: &Path) -> Result<Arc<ServerConfig>, Error> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| Error::Io {
            path: p.display().to_string(),
            source: e,
        })
    };
    let key = Zeroizing::new(read(key)?);
    server_config(&read(chain)?, &key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;

    #[tokio::test]
    async fn a_client_trusting_the_dev_ca_talks_https_to_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let pki = dev_pki(dir.path()).unwrap();
        // A second call loads the same PKI rather than making a new one.
        assert_eq!(dev_pki(dir.path()).unwrap().ca_pem, pki.ca_pem);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = Router::new().route("/", get(|| async { "hello over TLS" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(crate::http::serve_tls(
            listener,
            app,
            pki.server_config().unwrap(),
            async {
                let _ = stopped.await;
            },
        ));
        let ca = reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();
        let client = reqwest::Client::builder()
            .tls_certs_only([ca])
            .build()
            .unwrap();
        for host in ["localhost", "127.0.0.1"] {
            let body = client
                .get(format!("https://{host}:{port}/"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(body, "hello over TLS");
        }
        // A client that does not trust the dev CA is refused.
        let stranger = reqwest::Client::builder()
            .tls_certs_only(Vec::<reqwest::Certificate>::new())
            .build()
            .unwrap();
        assert!(
            stranger
                .get(format!("https://localhost:{port}/"))
                .send()
                .await
                .is_err()
        );
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        let key_mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join("server.key"))
                .unwrap()
                .permissions(),
        );
        assert_eq!(key_mode & 0o777, 0o600);
    }
}
