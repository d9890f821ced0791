//! X.509 certificate chains (`x5c`, RFC 7515 §4.1.6) and the OpenID4VP 1.0 §5.9.3 `x509_hash`
//! client identifier: base64url(SHA-256(DER of the leaf certificate)).
//!
//! Parsing is `x509-cert`'s; path validation here is the small subset of RFC 5280 §6 our
//! profile needs: ECDSA P-256 with SHA-256 and Ed25519 signatures only, validity at an
//! injected time, issuer/subject name chaining, `basicConstraints` (CA flag and path length),
//! `keyUsage` `keyCertSign` for issuers, no unknown critical extension, and a chain that ends
//! at (or under) a trust anchor the caller chose. No revocation, no policies, no name
//! constraints: certificates that need them are refused by the critical-extension rule.

use super::JoseError;
use crate::b64;
use crate::crypto::{CryptoProvider, PublicKey, RustCrypto, SecretKey, SignatureAlgorithm};
use crate::time::UnixTime;
use der::asn1::{Any, BitString, ContextSpecific, Ia5String, ObjectIdentifier, OctetString};
use der::asn1::{UtcTime, Utf8StringRef};
use der::{Decode, Encode, SliceReader, Tag, TagMode, TagNumber};
use sha2::{Digest, Sha256};
use std::time::Duration;
use subtle::ConstantTimeEq;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectAltName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

/// Most certificates an `x5c` may carry (leaf, intermediates, optionally the root).
pub const MAX_CHAIN_LEN: usize = 5;

/// Largest DER certificate we decode (16 KiB).
pub const MAX_CERT_LEN: usize = 16 * 1024;

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const ID_CE_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const ID_CE_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const ID_CE_SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const ID_CE_SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const ID_CE_AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");

/// Critical extensions we process; any other critical extension makes a certificate unusable
/// (RFC 5280 §4.2).
const UNDERSTOOD_CRITICAL: [ObjectIdentifier; 5] = [
    ID_CE_BASIC_CONSTRAINTS,
    ID_CE_KEY_USAGE,
    ID_CE_SUBJECT_ALT_NAME,
    ID_CE_SUBJECT_KEY_IDENTIFIER,
    ID_CE_AUTHORITY_KEY_IDENTIFIER,
];

/// The OpenID4VP 1.0 §5.9.3 `x509_hash` of a DER certificate: base64url (no padding) of its
/// SHA-256 hash.
pub fn x509_hash(der: &[u8]) -> String {
    b64::encode(Sha256::digest(der))
}

/// A parsed X.509 certificate, with its exact DER kept for hashing and for signature checks.
#[derive(Clone, PartialEq, Eq)]
pub struct X509Certificate {
    der: Vec<u8>,
    tbs_range: (usize, usize),
    cert: Certificate,
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<KeyUsage>,
}

impl std::fmt::Debug for X509Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash identifies the certificate without printing names that may be personal.
        write!(f, "X509Certificate(x509_hash={})", self.x509_hash())
    }
}

impl X509Certificate {
    /// Decodes a DER certificate (at most [`MAX_CERT_LEN`] bytes), refusing duplicate
    /// extensions, malformed `basicConstraints`/`keyUsage`/`subjectAltName`, and a
    /// `signatureAlgorithm` that differs from the TBSCertificate's `signature` (RFC 5280
    /// §4.1.1.2).
    pub fn from_der(der: &[u8]) -> Result<X509Certificate, JoseError> {
        if der.len() > MAX_CERT_LEN {
            return Err(JoseError::TooLarge {
                len: der.len(),
                limit: MAX_CERT_LEN,
            });
        }
        let cert =
            Certificate::from_der(der).map_err(|_| JoseError::InvalidCertificate("not DER"))?;
        let tbs_range = tbs_range(der)?;
        let tbs = cert.tbs_certificate();
        if cert.signature_algorithm() != tbs.signature() {
            return Err(JoseError::InvalidCertificate(
                "signatureAlgorithm differs from TBSCertificate signature",
            ));
        }
        let extensions = tbs.extensions().map(Vec::as_slice).unwrap_or_default();
        for (i, ext) in extensions.iter().enumerate() {
            if extensions
                .get(i + 1..)
                .unwrap_or_default()
                .iter()
                .any(|other| other.extn_id == ext.extn_id)
            {
                return Err(JoseError::InvalidCertificate("duplicate extension"));
            }
        }
        let basic_constraints = tbs
            .get_extension::<BasicConstraints>()
            .map_err(|_| JoseError::InvalidCertificate("basicConstraints"))?
            .map(|(_, bc)| bc);
        let key_usage = tbs
            .get_extension::<KeyUsage>()
            .map_err(|_| JoseError::InvalidCertificate("keyUsage"))?
            .map(|(_, ku)| ku);
        tbs.get_extension::<SubjectAltName>()
            .map_err(|_| JoseError::InvalidCertificate("subjectAltName"))?;
        Ok(X509Certificate {
            der: der.to_vec(),
            tbs_range,
            cert,
            basic_constraints,
            key_usage,
        })
    }

    /// The DER encoding, exactly as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// This certificate's `x509_hash` (OpenID4VP 1.0 §5.9.3).
    pub fn x509_hash(&self) -> String {
        x509_hash(&self.der)
    }

    /// The subject public key: P-256 (`id-ecPublicKey` with `secp256r1`, uncompressed point)
    /// or Ed25519 (RFC 8410); any other key type is refused.
    pub fn public_key(&self) -> Result<PublicKey, JoseError> {
        let spki = self.cert.tbs_certificate().subject_public_key_info();
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or(JoseError::InvalidCertificate("public key bit string"))?;
        if spki.algorithm.oid == ID_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            if curve != Some(SECP256R1) {
                return Err(JoseError::InvalidCertificate("EC curve is not P-256"));
            }
            let (Some(0x04), Some(x), Some(y), 65) =
                (bits.first(), bits.get(1..33), bits.get(33..65), bits.len())
            else {
                return Err(JoseError::InvalidCertificate(
                    "P-256 key is not an uncompressed point",
                ));
            };
            let x: [u8; 32] = x
                .try_into()
                .map_err(|_| JoseError::InvalidCertificate("P-256 key"))?;
            let y: [u8; 32] = y
                .try_into()
                .map_err(|_| JoseError::InvalidCertificate("P-256 key"))?;
            PublicKey::p256(x, y)
        } else if spki.algorithm.oid == ED25519 {
            if spki.algorithm.parameters.is_some() {
                return Err(JoseError::InvalidCertificate("Ed25519 key with parameters"));
            }
            let key: [u8; 32] = bits
                .try_into()
                .map_err(|_| JoseError::InvalidCertificate("Ed25519 key length"))?;
            PublicKey::ed25519(key)
        } else {
            Err(JoseError::InvalidCertificate("unsupported public key type"))
        }
    }

    /// `notBefore`, in seconds since the epoch.
    pub fn not_before(&self) -> UnixTime {
        unix(self.cert.tbs_certificate().validity().not_before)
    }

    /// `notAfter`, in seconds since the epoch.
    pub fn not_after(&self) -> UnixTime {
        unix(self.cert.tbs_certificate().validity().not_after)
    }

    /// The subject's common name, if it has exactly one readable one.
    pub fn subject_common_name(&self) -> Option<String> {
        self.cert
            .tbs_certificate()
            .subject()
            .common_name()
            .ok()
            .flatten()
            .map(|cn| cn.value().into_owned())
    }

    /// The `dNSName` entries of the `subjectAltName` extension (what `x509_san_dns` matches).
    pub fn dns_names(&self) -> Vec<String> {
        let Ok(Some((_, san))) = self
            .cert
            .tbs_certificate()
            .get_extension::<SubjectAltName>()
        else {
            return Vec::new();
        };
        san.0
            .iter()
            .filter_map(|name| match name {
                GeneralName::DnsName(dns) => Some(dns.as_str().to_owned()),
                _ => None,
            })
            .collect()
    }

    /// Whether `basicConstraints` says this is a CA certificate.
    pub fn is_ca(&self) -> bool {
        self.basic_constraints.as_ref().is_some_and(|bc| bc.ca)
    }

    fn tbs_der(&self) -> &[u8] {
        self.der
            .get(self.tbs_range.0..self.tbs_range.1)
            .unwrap_or_default()
    }

    fn check_validity(&self, now: UnixTime) -> Result<(), JoseError> {
        if now < self.not_before() {
            return Err(JoseError::UntrustedCertificate("certificate not yet valid"));
        }
        if now > self.not_after() {
            return Err(JoseError::UntrustedCertificate("certificate expired"));
        }
        Ok(())
    }

    fn check_critical_extensions(&self) -> Result<(), JoseError> {
        let extensions = self.cert.tbs_certificate().extensions();
        let unknown = extensions
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .any(|ext| ext.critical && !UNDERSTOOD_CRITICAL.contains(&ext.extn_id));
        if unknown {
            return Err(JoseError::UntrustedCertificate(
                "unsupported critical extension",
            ));
        }
        Ok(())
    }

    /// Checks that `self` was issued by `issuer`, where `depth` intermediates sit between
    /// `issuer` and the leaf (for `pathLenConstraint`).
    fn check_issued_by(
        &self,
        issuer: &X509Certificate,
        provider: &dyn CryptoProvider,
        depth: usize,
    ) -> Result<(), JoseError> {
        if self.cert.tbs_certificate().issuer() != issuer.cert.tbs_certificate().subject() {
            return Err(JoseError::UntrustedCertificate(
                "issuer name does not match the issuer's subject",
            ));
        }
        let Some(constraints) = issuer.basic_constraints.as_ref().filter(|bc| bc.ca) else {
            return Err(JoseError::UntrustedCertificate("issuer is not a CA"));
        };
        if constraints
            .path_len_constraint
            .is_some_and(|max| depth > usize::from(max))
        {
            return Err(JoseError::UntrustedCertificate(
                "path length constraint exceeded",
            ));
        }
        if issuer.key_usage.is_some_and(|ku| !ku.key_cert_sign()) {
            return Err(JoseError::UntrustedCertificate(
                "issuer key usage lacks keyCertSign",
            ));
        }
        self.check_signature(&issuer.public_key()?, provider)
    }

    fn check_signature(
        &self,
        issuer_key: &PublicKey,
        provider: &dyn CryptoProvider,
    ) -> Result<(), JoseError> {
        let algorithm = self.cert.signature_algorithm();
        // Both algorithms' identifiers have absent parameters (RFC 5758 §3.2, RFC 8410 §3).
        if algorithm.parameters.is_some() {
            return Err(JoseError::UntrustedCertificate(
                "signature algorithm parameters",
            ));
        }
        let signature = self
            .cert
            .signature()
            .as_bytes()
            .ok_or(JoseError::UntrustedCertificate("signature bit string"))?;
        let fixed = match (algorithm.oid, issuer_key) {
            (oid, PublicKey::P256 { .. }) if oid == ECDSA_WITH_SHA256 => {
                // Certificates carry ECDSA-Sig-Value in DER; the provider takes JWS's `r ‖ s`.
                p256::ecdsa::Signature::from_der(signature)
                    .map_err(|_| JoseError::UntrustedCertificate("certificate signature"))?
                    .to_bytes()
                    .to_vec()
            }
            (oid, PublicKey::Ed25519(_)) if oid == ED25519 => signature.to_vec(),
            (oid, _) if oid == ECDSA_WITH_SHA256 || oid == ED25519 => {
                return Err(JoseError::UntrustedCertificate(
                    "signature algorithm does not match the issuer key",
                ));
            }
            _ => {
                return Err(JoseError::UntrustedCertificate(
                    "signature algorithm not allowed",
                ));
            }
        };
        provider
            .verify(issuer_key, self.tbs_der(), &fixed)
            .map_err(|_| JoseError::UntrustedCertificate("certificate signature"))
    }

    /// A self-signed CA certificate for `secret` (P-256 or Ed25519), valid from `not_before`
    /// to `not_after`, with `basicConstraints` CA, `keyUsage` keyCertSign, cRLSign and
    /// digitalSignature, and `dns_names` as `subjectAltName` dNSNames.
    pub fn self_signed(
        secret: &SecretKey,
        common_name: &str,
        dns_names: &[&str],
        not_before: UnixTime,
        not_after: UnixTime,
    ) -> Result<X509Certificate, JoseError> {
        let subject = name_der(common_name)?;
        build(&CertificateParams {
            issuer_secret: secret,
            issuer_name: &subject,
            subject_name: &subject,
            subject_key: &secret.public_key(),
            dns_names,
            not_before,
            not_after,
            ca: Some(None),
        })
    }

    /// An end-entity certificate for `leaf_public`, issued by `ca_cert` with `ca_secret`
    /// (`basicConstraints` not CA, `keyUsage` digitalSignature).
    pub fn issue_leaf(
        ca_secret: &SecretKey,
        ca_cert: &X509Certificate,
        leaf_public: &PublicKey,
        common_name: &str,
        dns_names: &[&str],
        not_before: UnixTime,
        not_after: UnixTime,
    ) -> Result<X509Certificate, JoseError> {
        ca_cert.issue(
            ca_secret,
            leaf_public,
            common_name,
            dns_names,
            not_before,
            not_after,
            None,
        )
    }

    /// An intermediate CA certificate for `public`, issued by `ca_cert` with `ca_secret`, with
    /// an optional `pathLenConstraint`.
    pub fn issue_intermediate(
        ca_secret: &SecretKey,
        ca_cert: &X509Certificate,
        public: &PublicKey,
        common_name: &str,
        not_before: UnixTime,
        not_after: UnixTime,
        path_len: Option<u8>,
    ) -> Result<X509Certificate, JoseError> {
        ca_cert.issue(
            ca_secret,
            public,
            common_name,
            &[],
            not_before,
            not_after,
            Some(path_len),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn issue(
        &self,
        ca_secret: &SecretKey,
        subject_key: &PublicKey,
        common_name: &str,
        dns_names: &[&str],
        not_before: UnixTime,
        not_after: UnixTime,
        ca: Option<Option<u8>>,
    ) -> Result<X509Certificate, JoseError> {
        if ca_secret.public_key() != self.public_key()? {
            return Err(JoseError::InvalidKey(
                "CA secret key does not match the CA certificate",
            ));
        }
        let issuer = self
            .cert
            .tbs_certificate()
            .subject()
            .to_der()
            .map_err(|_| JoseError::InvalidCertificate("issuer name"))?;
        build(&CertificateParams {
            issuer_secret: ca_secret,
            issuer_name: &issuer,
            subject_name: &name_der(common_name)?,
            subject_key,
            dns_names,
            not_before,
            not_after,
            ca,
        })
    }
}

/// A certificate chain, leaf first, each certificate issued by the next (RFC 7515 §4.1.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X509Chain {
    leaf: X509Certificate,
    issuers: Vec<X509Certificate>,
}

impl X509Chain {
    /// Decodes an `x5c` value: standard base64 (with padding) DER certificates, leaf first, at
    /// most [`MAX_CHAIN_LEN`] of them.
    pub fn from_x5c(x5c: &[String]) -> Result<X509Chain, JoseError> {
        if x5c.len() > MAX_CHAIN_LEN {
            return Err(JoseError::InvalidCertificate("x5c chain too long"));
        }
        let certificates = x5c
            .iter()
            .map(|text| {
                // base64 of MAX_CERT_LEN bytes is 4/3 as long; refuse before decoding.
                if text.len() > MAX_CERT_LEN / 3 * 4 + 4 {
                    return Err(JoseError::TooLarge {
                        len: text.len(),
                        limit: MAX_CERT_LEN / 3 * 4 + 4,
                    });
                }
                let der = b64::decode_standard(text).ok_or(JoseError::Base64("x5c certificate"))?;
                X509Certificate::from_der(&der)
            })
            .collect::<Result<Vec<_>, _>>()?;
        X509Chain::new(certificates)
    }

    /// A chain from certificates, leaf first.
    pub fn new(certificates: Vec<X509Certificate>) -> Result<X509Chain, JoseError> {
        if certificates.len() > MAX_CHAIN_LEN {
            return Err(JoseError::InvalidCertificate("x5c chain too long"));
        }
        let mut certificates = certificates.into_iter();
        let leaf = certificates
            .next()
            .ok_or(JoseError::InvalidCertificate("empty certificate chain"))?;
        Ok(X509Chain {
            leaf,
            issuers: certificates.collect(),
        })
    }

    /// The `x5c` header value for this chain.
    pub fn to_x5c(&self) -> Vec<String> {
        self.certificates()
            .map(|cert| b64::encode_standard(cert.der()))
            .collect()
    }

    /// The leaf (end-entity) certificate: the one whose key signs.
    pub fn leaf(&self) -> &X509Certificate {
        &self.leaf
    }

    /// All certificates, leaf first.
    pub fn certificates(&self) -> impl Iterator<Item = &X509Certificate> {
        std::iter::once(&self.leaf).chain(&self.issuers)
    }

    /// Validates the chain at `now` against `trust_anchors`: every certificate (and the anchor
    /// used) is within its validity period and has no unknown critical extension; each is
    /// signed by the next, whose subject is its issuer and which is a CA allowed to sign
    /// certificates; the last one is an anchor or is signed by one.
    pub fn verify(
        &self,
        provider: &dyn CryptoProvider,
        trust_anchors: &[X509Certificate],
        now: UnixTime,
    ) -> Result<(), JoseError> {
        if trust_anchors.is_empty() {
            return Err(JoseError::UntrustedCertificate("no trust anchor"));
        }
        let chain: Vec<&X509Certificate> = self.certificates().collect();
        for cert in &chain {
            cert.check_validity(now)?;
            cert.check_critical_extensions()?;
        }
        for (depth, pair) in chain.windows(2).enumerate() {
            if let [child, issuer] = pair {
                child.check_issued_by(issuer, provider, depth)?;
            }
        }
        let last = self.issuers.last().unwrap_or(&self.leaf);
        if trust_anchors.iter().any(|anchor| anchor.der == last.der) {
            return Ok(());
        }
        let depth = self.issuers.len();
        let mut outcome = Err(JoseError::UntrustedCertificate(
            "not issued by a trust anchor",
        ));
        for anchor in trust_anchors.iter().filter(|anchor| {
            last.cert.tbs_certificate().issuer() == anchor.cert.tbs_certificate().subject()
        }) {
            outcome = anchor
                .check_validity(now)
                .and_then(|()| last.check_issued_by(anchor, provider, depth));
            if outcome.is_ok() {
                break;
            }
        }
        outcome
    }

    /// Accepts a chain whose leaf is pinned by its `x509_hash` (OpenID4VP 1.0 §5.9.3) rather
    /// than by a trust anchor: the leaf's hash must equal `expected_x509_hash` and the leaf
    /// must be within its validity period at `now`. The other certificates are not used.
    ///
    /// This is a separate method so that an empty anchor list can never mean "trust anything".
    pub fn verify_pinned_leaf(
        &self,
        expected_x509_hash: &str,
        now: UnixTime,
    ) -> Result<(), JoseError> {
        let leaf = self.leaf();
        let actual = leaf.x509_hash();
        if !bool::from(actual.as_bytes().ct_eq(expected_x509_hash.as_bytes())) {
            return Err(JoseError::UntrustedCertificate(
                "leaf does not match the x509_hash",
            ));
        }
        leaf.check_validity(now)?;
        leaf.check_critical_extensions()
    }
}

/// Where the TBSCertificate's full encoding sits in the certificate's DER, so the signature is checked over the bytes received, not a re-encoding.
fn tbs_range(der: &[u8]) -> Result<(usize, usize), JoseError> {
    let malformed = |_| JoseError::InvalidCertificate("not DER");
    let outer = der::asn1::AnyRef::from_der(der).map_err(malformed)?;
    let content = outer.value();
    let mut reader = SliceReader::new(content).map_err(malformed)?;
    let tbs = der::asn1::AnyRef::decode(&mut reader).map_err(malformed)?;
    let len = tbs.encoded_len().map_err(malformed)?;
    let len =
        usize::try_from(u32::from(len)).map_err(|_| JoseError::InvalidCertificate("not DER"))?;
    let start = der
        .len()
        .checked_sub(content.len())
        .ok_or(JoseError::InvalidCertificate("not DER"))?;
    Ok((start, start.saturating_add(len)))
}

fn unix(time: Time) -> UnixTime {
    i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

fn x509_time(time: UnixTime) -> Result<Time, JoseError> {
    let secs = u64::try_from(time).map_err(|_| JoseError::InvalidCertificate("validity"))?;
    let date = der::DateTime::from_unix_duration(Duration::from_secs(secs))
        .map_err(|_| JoseError::InvalidCertificate("validity"))?;
    // UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
    Ok(match UtcTime::from_date_time(date) {
        Ok(utc) => Time::UtcTime(utc),
        Err(_) => Time::from(date),
    })
}

fn encoding(_: der::Error) -> JoseError {
    JoseError::InvalidCertificate("encoding")
}

/// A Name with one RDN holding one `commonName` as a UTF8String.
fn name_der(common_name: &str) -> Result<Vec<u8>, JoseError> {
    let mut atv = COMMON_NAME.to_der().map_err(encoding)?;
    atv.extend(
        Utf8StringRef::new(common_name)
            .map_err(encoding)?
            .to_der()
            .map_err(encoding)?,
    );
    let atv = Any::new(Tag::Sequence, atv).map_err(encoding)?;
    let rdn = Any::new(Tag::Set, atv.to_der().map_err(encoding)?).map_err(encoding)?;
    Any::new(Tag::Sequence, rdn.to_der().map_err(encoding)?)
        .map_err(encoding)?
        .to_der()
        .map_err(encoding)
}

fn spki(key: &PublicKey) -> Result<SubjectPublicKeyInfoOwned, JoseError> {
    Ok(match key {
        PublicKey::P256 { x, y } => SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: ID_EC_PUBLIC_KEY,
                parameters: Some(Any::encode_from(&SECP256R1).map_err(encoding)?),
            },
            subject_public_key: BitString::from_bytes(&PublicKey::sec1_uncompressed(x, y))
                .map_err(encoding)?,
        },
        PublicKey::Ed25519(bytes) => SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: ED25519,
                parameters: None,
            },
            subject_public_key: BitString::from_bytes(bytes).map_err(encoding)?,
        },
    })
}

fn extension(
    oid: ObjectIdentifier,
    critical: bool,
    value: &impl Encode,
) -> Result<Extension, JoseError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(encoding)?).map_err(encoding)?,
    })
}

struct CertificateParams<'a> {
    issuer_secret: &'a SecretKey,
    issuer_name: &'a [u8],
    subject_name: &'a [u8],
    subject_key: &'a PublicKey,
    dns_names: &'a [&'a str],
    not_before: UnixTime,
    not_after: UnixTime,
    /// `None` for an end entity, `Some(pathLenConstraint)` for a CA.
    ca: Option<Option<u8>>,
}

/// Builds and signs a v3 certificate. The TBSCertificate is assembled from `x509-cert`'s
/// field types (whose own structs cannot be built outside that crate without its `builder`
/// feature, which would add `sha1` to the build) and signed with the pure-Rust provider.
fn build(params: &CertificateParams<'_>) -> Result<X509Certificate, JoseError> {
    if params.not_after < params.not_before {
        return Err(JoseError::InvalidCertificate("notAfter before notBefore"));
    }
    let signature_algorithm = AlgorithmIdentifierOwned {
        oid: match params.issuer_secret.algorithm() {
            SignatureAlgorithm::Es256 => ECDSA_WITH_SHA256,
            SignatureAlgorithm::EdDsa => ED25519,
        },
        parameters: None,
    };
    // A positive serial of 127 random bits at most 20 octets long (RFC 5280 §4.1.2.2).
    let mut serial = [0u8; 16];
    crate::crypto::fill_random(&mut serial)?;
    if let Some(first) = serial.first_mut() {
        *first = (*first & 0x7f) | 0x01;
    }
    let serial = SerialNumber::<x509_cert::certificate::Rfc5280>::new(&serial).map_err(encoding)?;
    let validity = Validity::<x509_cert::certificate::Rfc5280>::new(
        x509_time(params.not_before)?,
        x509_time(params.not_after)?,
    );

    let mut extensions = Vec::new();
    let (basic, usage) = match params.ca {
        Some(path_len) => (
            BasicConstraints {
                ca: true,
                path_len_constraint: path_len,
            },
            KeyUsages::KeyCertSign | KeyUsages::CRLSign | KeyUsages::DigitalSignature,
        ),
        None => (
            BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
            KeyUsages::DigitalSignature.into(),
        ),
    };
    extensions.push(extension(ID_CE_BASIC_CONSTRAINTS, true, &basic)?);
    extensions.push(extension(ID_CE_KEY_USAGE, true, &KeyUsage(usage))?);
    if !params.dns_names.is_empty() {
        let names = params
            .dns_names
            .iter()
            .map(|name| {
                Ia5String::new(name)
                    .map(GeneralName::DnsName)
                    .map_err(|_| JoseError::InvalidCertificate("DNS name is not IA5"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        extensions.push(extension(
            ID_CE_SUBJECT_ALT_NAME,
            false,
            &SubjectAltName(names),
        )?);
    }

    let mut tbs = ContextSpecific {
        tag_number: TagNumber(0),
        tag_mode: TagMode::Explicit,
        value: x509_cert::Version::V3,
    }
    .to_der()
    .map_err(encoding)?;
    tbs.extend(serial.to_der().map_err(encoding)?);
    tbs.extend(signature_algorithm.to_der().map_err(encoding)?);
    tbs.extend_from_slice(params.issuer_name);
    tbs.extend(validity.to_der().map_err(encoding)?);
    tbs.extend_from_slice(params.subject_name);
    tbs.extend(spki(params.subject_key)?.to_der().map_err(encoding)?);
    tbs.extend(
        ContextSpecific {
            tag_number: TagNumber(3),
            tag_mode: TagMode::Explicit,
            value: extensions,
        }
        .to_der()
        .map_err(encoding)?,
    );
    let tbs = Any::new(Tag::Sequence, tbs)
        .map_err(encoding)?
        .to_der()
        .map_err(encoding)?;

    let signature = RustCrypto.signer(params.issuer_secret)?.sign(&tbs)?;
    let signature = match params.issuer_secret.algorithm() {
        SignatureAlgorithm::Es256 => p256::ecdsa::Signature::from_slice(&signature)
            .map_err(|_| JoseError::SigningFailed)?
            .to_der()
            .as_bytes()
            .to_vec(),
        SignatureAlgorithm::EdDsa => signature,
    };
    let mut certificate = tbs;
    certificate.extend(signature_algorithm.to_der().map_err(encoding)?);
    certificate.extend(
        BitString::from_bytes(&signature)
            .map_err(encoding)?
            .to_der()
            .map_err(encoding)?,
    );
    let certificate = Any::new(Tag::Sequence, certificate)
        .map_err(encoding)?
        .to_der()
        .map_err(encoding)?;
    X509Certificate::from_der(&certificate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::tests::providers;

    const OPENSSL_P256: &str =
        include_str!("../../../spec/vectors/openssl-x509-p256-self-signed.pem");
    const OPENSSL_P256_HASH: &str =
        include_str!("../../../spec/vectors/openssl-x509-p256-self-signed.x509_hash.txt");
    const OPENSSL_ED25519: &str =
        include_str!("../../../spec/vectors/openssl-x509-ed25519-self-signed.pem");
    const OPENSSL_ED25519_HASH: &str =
        include_str!("../../../spec/vectors/openssl-x509-ed25519-self-signed.x509_hash.txt");

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_900_000_000;

    fn pem_to_der(pem: &str) -> Vec<u8> {
        let body: String = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        b64::decode_standard(&body).unwrap()
    }

    struct Pki {
        root_key: SecretKey,
        root: X509Certificate,
        intermediate_key: SecretKey,
        intermediate: X509Certificate,
        leaf_key: SecretKey,
        leaf: X509Certificate,
    }

    fn pki(algorithm: SignatureAlgorithm) -> Pki {
        let root_key = SecretKey::generate(algorithm).unwrap();
        let root = X509Certificate::self_signed(
            &root_key,
            "Test Root CA",
            &[],
            NOW - DAY,
            NOW + 365 * DAY,
        )
        .unwrap();
        let intermediate_key = SecretKey::generate(algorithm).unwrap();
        let intermediate = X509Certificate::issue_intermediate(
            &root_key,
            &root,
            &intermediate_key.public_key(),
            "Test Issuing CA",
            NOW - DAY,
            NOW + 180 * DAY,
            Some(0),
        )
        .unwrap();
        let leaf_key = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let leaf = X509Certificate::issue_leaf(
            &intermediate_key,
            &intermediate,
            &leaf_key.public_key(),
            "verifier.example",
            &["verifier.example", "rp.verifier.example"],
            NOW - DAY,
            NOW + 30 * DAY,
        )
        .unwrap();
        Pki {
            root_key,
            root,
            intermediate_key,
            intermediate,
            leaf_key,
            leaf,
        }
    }

    fn chain(certs: &[&X509Certificate]) -> X509Chain {
        X509Chain::from_x5c(
            &X509Chain::new(certs.iter().map(|c| (*c).clone()).collect())
                .unwrap()
                .to_x5c(),
        )
        .unwrap()
    }

    #[test]
    fn openid4vp_5_9_3_x509_hash_matches_openssl() {
        for (pem, hash) in [
            (OPENSSL_P256, OPENSSL_P256_HASH),
            (OPENSSL_ED25519, OPENSSL_ED25519_HASH),
        ] {
            let der = pem_to_der(pem);
            assert_eq!(x509_hash(&der), hash.trim());
            let cert = X509Certificate::from_der(&der).unwrap();
            assert_eq!(cert.x509_hash(), hash.trim());
            assert_eq!(cert.der(), &der[..]);
            assert!(cert.is_ca());
            let chain = X509Chain::from_x5c(&[b64::encode_standard(&der)]).unwrap();
            chain
                .verify_pinned_leaf(hash.trim(), cert.not_before() + 1)
                .unwrap();
            // openssl's own self-signature verifies with our code, under every provider.
            for provider in providers() {
                cert.check_issued_by(&cert, provider, 0).unwrap();
            }
        }
        let cert = X509Certificate::from_der(&pem_to_der(OPENSSL_P256)).unwrap();
        assert_eq!(
            cert.subject_common_name().as_deref(),
            Some("verifier.example")
        );
        assert_eq!(
            cert.dns_names(),
            ["verifier.example", "www.verifier.example"]
        );
        assert!(matches!(cert.public_key().unwrap(), PublicKey::P256 { .. }));
        let ed = X509Certificate::from_der(&pem_to_der(OPENSSL_ED25519)).unwrap();
        assert!(matches!(ed.public_key().unwrap(), PublicKey::Ed25519(_)));
    }

    #[test]
    fn rfc5280_6_ca_intermediate_leaf_chain_verifies() {
        for algorithm in [SignatureAlgorithm::Es256, SignatureAlgorithm::EdDsa] {
            let pki = pki(algorithm);
            for provider in providers() {
                chain(&[&pki.leaf, &pki.intermediate])
                    .verify(provider, std::slice::from_ref(&pki.root), NOW)
                    .unwrap();
                // With the root included, and with the root as the only anchor of several.
                chain(&[&pki.leaf, &pki.intermediate, &pki.root])
                    .verify(provider, std::slice::from_ref(&pki.root), NOW)
                    .unwrap();
                let other = X509Certificate::self_signed(
                    &SecretKey::generate(algorithm).unwrap(),
                    "Other Root",
                    &[],
                    NOW - DAY,
                    NOW + DAY,
                )
                .unwrap();
                chain(&[&pki.leaf, &pki.intermediate])
                    .verify(provider, &[other, pki.root.clone()], NOW)
                    .unwrap();
            }
            let leaf = &pki.leaf;
            assert_eq!(leaf.public_key().unwrap(), pki.leaf_key.public_key());
            assert_eq!(
                leaf.subject_common_name().as_deref(),
                Some("verifier.example")
            );
            assert_eq!(
                leaf.dns_names(),
                ["verifier.example", "rp.verifier.example"]
            );
            assert!(!leaf.is_ca());
            assert!(pki.intermediate.is_ca());
            assert_eq!(leaf.not_before(), NOW - DAY);
            assert_eq!(leaf.not_after(), NOW + 30 * DAY);
        }
    }

    #[test]
    fn rfc5280_6_1_3_validity_period_is_checked_at_now() {
        let pki = pki(SignatureAlgorithm::Es256);
        let c = chain(&[&pki.leaf, &pki.intermediate]);
        let anchors = [pki.root.clone()];
        assert_eq!(
            c.verify(&RustCrypto, &anchors, NOW + 31 * DAY),
            Err(JoseError::UntrustedCertificate("certificate expired"))
        );
        assert_eq!(
            c.verify(&RustCrypto, &anchors, NOW - 2 * DAY),
            Err(JoseError::UntrustedCertificate("certificate not yet valid"))
        );
        // Boundaries are inclusive (RFC 5280 §4.1.2.5).
        c.verify(&RustCrypto, &anchors, NOW + 30 * DAY).unwrap();
        c.verify(&RustCrypto, &anchors, NOW - DAY).unwrap();
        // An expired intermediate.
        let old = X509Certificate::issue_intermediate(
            &pki.root_key,
            &pki.root,
            &pki.intermediate_key.public_key(),
            "Test Issuing CA",
            NOW - 10 * DAY,
            NOW - 5 * DAY,
            None,
        )
        .unwrap();
        assert_eq!(
            chain(&[&pki.leaf, &old]).verify(&RustCrypto, &anchors, NOW),
            Err(JoseError::UntrustedCertificate("certificate expired"))
        );
        // Far-future dates use GeneralizedTime and still read back.
        let late =
            X509Certificate::self_signed(&pki.root_key, "Late", &[], 2_600_000_000, 4_102_444_800)
                .unwrap();
        assert_eq!(late.not_after(), 4_102_444_800);
    }

    #[test]
    fn rfc5280_6_1_anchor_order_signature_and_ca_flag_are_enforced() {
        let pki = pki(SignatureAlgorithm::Es256);
        let anchors = [pki.root.clone()];
        for provider in providers() {
            // Wrong anchor.
            let stranger = X509Certificate::self_signed(
                &SecretKey::generate(SignatureAlgorithm::Es256).unwrap(),
                "Test Root CA",
                &[],
                NOW - DAY,
                NOW + DAY,
            )
            .unwrap();
            assert_eq!(
                chain(&[&pki.leaf, &pki.intermediate]).verify(provider, &[stranger], NOW),
                Err(JoseError::UntrustedCertificate("certificate signature"))
            );
            let unrelated = X509Certificate::self_signed(
                &SecretKey::generate(SignatureAlgorithm::Es256).unwrap(),
                "Unrelated",
                &[],
                NOW - DAY,
                NOW + DAY,
            )
            .unwrap();
            assert_eq!(
                chain(&[&pki.leaf, &pki.intermediate]).verify(provider, &[unrelated], NOW),
                Err(JoseError::UntrustedCertificate(
                    "not issued by a trust anchor"
                ))
            );
            assert_eq!(
                chain(&[&pki.leaf, &pki.intermediate]).verify(provider, &[], NOW),
                Err(JoseError::UntrustedCertificate("no trust anchor"))
            );
            // Swapped order.
            assert_eq!(
                chain(&[&pki.intermediate, &pki.leaf]).verify(provider, &anchors, NOW),
                Err(JoseError::UntrustedCertificate(
                    "issuer name does not match the issuer's subject"
                ))
            );
            // Missing intermediate.
            assert_eq!(
                chain(&[&pki.leaf]).verify(provider, &anchors, NOW),
                Err(JoseError::UntrustedCertificate(
                    "not issued by a trust anchor"
                ))
            );
            // A broken signature: flip a bit in the signature's last byte.
            let mut der = pki.leaf.der().to_vec();
            let last = der.len() - 1;
            der[last] ^= 1;
            let broken = X509Certificate::from_der(&der).unwrap();
            assert_eq!(
                chain(&[&broken, &pki.intermediate]).verify(provider, &anchors, NOW),
                Err(JoseError::UntrustedCertificate("certificate signature"))
            );
            // A non-CA "intermediate": the leaf issuing another certificate.
            let victim = X509Certificate::issue_leaf(
                &pki.leaf_key,
                &pki.leaf,
                &SecretKey::generate(SignatureAlgorithm::Es256)
                    .unwrap()
                    .public_key(),
                "victim.example",
                &[],
                NOW - DAY,
                NOW + DAY,
            )
            .unwrap();
            assert_eq!(
                chain(&[&victim, &pki.leaf, &pki.intermediate]).verify(provider, &anchors, NOW),
                Err(JoseError::UntrustedCertificate("issuer is not a CA"))
            );
            // pathLenConstraint 0 on the intermediate: it may not sign another CA.
            let sub = X509Certificate::issue_intermediate(
                &pki.intermediate_key,
                &pki.intermediate,
                &pki.leaf_key.public_key(),
                "Sub CA",
                NOW - DAY,
                NOW + DAY,
                None,
            )
            .unwrap();
            let below = X509Certificate::issue_leaf(
                &pki.leaf_key,
                &sub,
                &pki.leaf_key.public_key(),
                "deep.example",
                &[],
                NOW - DAY,
                NOW + DAY,
            )
            .unwrap();
            assert_eq!(
                chain(&[&below, &sub, &pki.intermediate]).verify(provider, &anchors, NOW),
                Err(JoseError::UntrustedCertificate(
                    "path length constraint exceeded"
                ))
            );
        }
    }

    #[test]
    fn rfc5280_4_1_2_9_unknown_critical_extensions_and_duplicates_are_refused() {
        let pki = pki(SignatureAlgorithm::Es256);
        // Re-sign the leaf's TBS with an added critical extension of an unknown type.
        let cert = X509Certificate::from_der(pki.leaf.der()).unwrap();
        let mut extensions = cert.cert.tbs_certificate().extensions().unwrap().clone();
        extensions.push(Extension {
            extn_id: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1"),
            critical: true,
            extn_value: OctetString::new(vec![5, 0]).unwrap(),
        });
        let leaf = rebuild(&pki, &cert, extensions.clone());
        assert_eq!(
            chain(&[&leaf, &pki.intermediate]).verify(
                &RustCrypto,
                std::slice::from_ref(&pki.root),
                NOW
            ),
            Err(JoseError::UntrustedCertificate(
                "unsupported critical extension"
            ))
        );
        let mut dup = cert.cert.tbs_certificate().extensions().unwrap().clone();
        dup.push(dup[0].clone());
        let der = rebuild_der(&pki, &cert, dup);
        assert_eq!(
            X509Certificate::from_der(&der),
            Err(JoseError::InvalidCertificate("duplicate extension"))
        );
    }

    /// The leaf's TBSCertificate with other extensions, signed again by the intermediate.
    fn rebuild_der(pki: &Pki, cert: &X509Certificate, extensions: Vec<Extension>) -> Vec<u8> {
        let tbs = cert.cert.tbs_certificate();
        let mut body = ContextSpecific {
            tag_number: TagNumber(0),
            tag_mode: TagMode::Explicit,
            value: x509_cert::Version::V3,
        }
        .to_der()
        .unwrap();
        body.extend(tbs.serial_number().to_der().unwrap());
        body.extend(tbs.signature().to_der().unwrap());
        body.extend(tbs.issuer().to_der().unwrap());
        body.extend(tbs.validity().to_der().unwrap());
        body.extend(tbs.subject().to_der().unwrap());
        body.extend(tbs.subject_public_key_info().to_der().unwrap());
        body.extend(
            ContextSpecific {
                tag_number: TagNumber(3),
                tag_mode: TagMode::Explicit,
                value: extensions,
            }
            .to_der()
            .unwrap(),
        );
        let tbs = Any::new(Tag::Sequence, body).unwrap().to_der().unwrap();
        let rs = RustCrypto
            .signer(&pki.intermediate_key)
            .unwrap()
            .sign(&tbs)
            .unwrap();
        let sig = p256::ecdsa::Signature::from_slice(&rs)
            .unwrap()
            .to_der()
            .as_bytes()
            .to_vec();
        let mut out = tbs;
        out.extend(cert.cert.signature_algorithm().to_der().unwrap());
        out.extend(BitString::from_bytes(&sig).unwrap().to_der().unwrap());
        Any::new(Tag::Sequence, out).unwrap().to_der().unwrap()
    }

    fn rebuild(pki: &Pki, cert: &X509Certificate, extensions: Vec<Extension>) -> X509Certificate {
        X509Certificate::from_der(&rebuild_der(pki, cert, extensions)).unwrap()
    }

    #[test]
    fn openid4vp_5_9_3_pinned_leaf_needs_the_exact_hash_and_validity() {
        let pki = pki(SignatureAlgorithm::Es256);
        let c = chain(&[&pki.leaf, &pki.intermediate]);
        c.verify_pinned_leaf(&pki.leaf.x509_hash(), NOW).unwrap();
        assert_eq!(
            c.verify_pinned_leaf(&pki.intermediate.x509_hash(), NOW),
            Err(JoseError::UntrustedCertificate(
                "leaf does not match the x509_hash"
            ))
        );
        assert_eq!(
            c.verify_pinned_leaf("", NOW),
            Err(JoseError::UntrustedCertificate(
                "leaf does not match the x509_hash"
            ))
        );
        assert_eq!(
            c.verify_pinned_leaf(&pki.leaf.x509_hash(), NOW + 31 * DAY),
            Err(JoseError::UntrustedCertificate("certificate expired"))
        );
    }

    #[test]
    fn rfc7515_4_1_6_x5c_decoding_is_bounded_and_strict() {
        let pki = pki(SignatureAlgorithm::Es256);
        let x5c = chain(&[&pki.leaf, &pki.intermediate, &pki.root]).to_x5c();
        assert_eq!(
            X509Chain::from_x5c(&[]),
            Err(JoseError::InvalidCertificate("empty certificate chain"))
        );
        let six: Vec<String> = std::iter::repeat_n(x5c[0].clone(), MAX_CHAIN_LEN + 1).collect();
        assert_eq!(
            X509Chain::from_x5c(&six),
            Err(JoseError::InvalidCertificate("x5c chain too long"))
        );
        // base64url instead of base64, missing padding, garbage.
        let url = b64::encode(pki.leaf.der());
        if url.contains(['-', '_']) || !url.len().is_multiple_of(4) {
            assert_eq!(
                X509Chain::from_x5c(&[url]),
                Err(JoseError::Base64("x5c certificate"))
            );
        }
        assert_eq!(
            X509Chain::from_x5c(&["not base64!".into()]),
            Err(JoseError::Base64("x5c certificate"))
        );
        assert_eq!(
            X509Chain::from_x5c(&[b64::encode_standard(b"not DER")]),
            Err(JoseError::InvalidCertificate("not DER"))
        );
        let huge = b64::encode_standard(vec![0u8; MAX_CERT_LEN + 1]);
        assert!(matches!(
            X509Chain::from_x5c(&[huge]),
            Err(JoseError::TooLarge { .. })
        ));
        // Trailing bytes after the certificate.
        let mut der = pki.leaf.der().to_vec();
        der.push(0);
        assert_eq!(
            X509Certificate::from_der(&der),
            Err(JoseError::InvalidCertificate("not DER"))
        );
        assert_eq!(X509Chain::from_x5c(&x5c).unwrap().leaf(), &pki.leaf);
    }

    #[test]
    fn issuing_needs_the_ca_key_and_sane_dates() {
        let pki = pki(SignatureAlgorithm::Es256);
        let other = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        assert!(matches!(
            X509Certificate::issue_leaf(
                &other,
                &pki.root,
                &other.public_key(),
                "x",
                &[],
                NOW,
                NOW + DAY
            ),
            Err(JoseError::InvalidKey(_))
        ));
        assert!(matches!(
            X509Certificate::self_signed(&other, "x", &[], NOW, NOW - 1),
            Err(JoseError::InvalidCertificate(_))
        ));
        assert!(matches!(
            X509Certificate::self_signed(&other, "x", &["bücher.example"], NOW, NOW + 1),
            Err(JoseError::InvalidCertificate(_))
        ));
        let _ = &pki.root_key;
    }

    #[test]
    fn debug_shows_only_the_hash() {
        let pki = pki(SignatureAlgorithm::Es256);
        let text = format!("{:?}", pki.leaf);
        assert!(text.contains(&pki.leaf.x509_hash()));
        assert!(!text.contains("verifier.example"));
    }
}
