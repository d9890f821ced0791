#![no_main]
//! X.509: `X509Chain::from_x5c` on arbitrary strings (one certificate per line) and
//! `X509Certificate::from_der` on arbitrary bytes, then every accessor and `verify` against
//! fixed trust anchors (a CA made with the fixed issuer key, and the OpenSSL P-256 vector).

mod common;

use credential_formats::crypto::RustCrypto;
use credential_formats::jose::{X509Certificate, X509Chain};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const OPENSSL_P256: &str = include_str!("../../spec/vectors/openssl-x509-p256-self-signed.pem");

fn anchors() -> &'static [X509Certificate] {
    static ANCHORS: OnceLock<Vec<X509Certificate>> = OnceLock::new();
    ANCHORS.get_or_init(|| {
        let mut anchors = Vec::new();
        if let Ok(ca) = X509Certificate::self_signed(
            common::issuer_secret(),
            "Fuzz CA",
            &["ca.example"],
            1_700_000_000,
            1_900_000_000,
        ) {
            anchors.push(ca);
        }
        let body: String = OPENSSL_P256
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        if let Ok(chain) = X509Chain::from_x5c(&[body]) {
            anchors.push(chain.leaf().clone());
        }
        assert_eq!(anchors.len(), 2, "fixed anchors load");
        anchors
    })
}

fn exercise(chain: &X509Chain) {
    for cert in chain.certificates() {
        let _ = cert.public_key();
        let _ = cert.subject_common_name();
        let _ = cert.dns_names();
        let _ = cert.is_ca();
        let _ = (cert.not_before(), cert.not_after());
        let back = X509Certificate::from_der(cert.der());
        assert!(back.is_ok_and(|c| c.der() == cert.der()), "DER round trip");
    }
    let x5c = chain.to_x5c();
    assert!(
        X509Chain::from_x5c(&x5c).is_ok_and(|c| c.to_x5c() == x5c),
        "x5c round trip"
    );
    let _ = chain.verify(&RustCrypto, anchors(), common::NOW);
    let _ = chain.verify(&RustCrypto, &[], common::NOW);
    let _ = chain.verify_pinned_leaf(&chain.leaf().x509_hash(), common::NOW);
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if selector & 1 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        let x5c: Vec<String> = text.lines().map(str::to_owned).collect();
        if let Ok(chain) = X509Chain::from_x5c(&x5c) {
            exercise(&chain);
        }
    } else if let Ok(cert) = X509Certificate::from_der(rest)
        && let Ok(chain) = X509Chain::new(vec![cert])
    {
        exercise(&chain);
    }
});
