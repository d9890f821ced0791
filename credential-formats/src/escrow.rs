//! Escrow records: the account ↔ person link, sealed to the court so that only the court can
//! read it.
//!
//! A record is sealed with HPKE (RFC 9180) in base mode, suite DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256, ChaCha20-Poly1305 (KEM 0x0020, KDF 0x0001, AEAD 0x0003), to the court's
//! [`EscrowKey`] from the trust list:
//!
//! * `info` = `escrow-record/v1`;
//! * `aad` = `escrow-record/v1` ‖ 0x00 ‖ u32be(len(platform_id)) ‖ platform_id ‖ pseudonym,
//!   so a sealed record copied to another account's row does not open there;
//! * plaintext = the record as a JSON object with exactly the members of [`EscrowRecord`].
//!
//! The verifier stores only the [`SealedRecord`]; a court order names one (platform,
//! pseudonym), the verifier hands over that account's sealed records, and the court opens
//! them with [`open`].

use crate::trust_list::EscrowKey;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

type Kem = X25519HkdfSha256;

/// The HPKE `info` of version 1 records, and the prefix of their `aad`.
const INFO: &[u8] = b"escrow-record/v1";

/// The version tag of the compact serialization.
const VERSION: &str = "v1";

/// Why a record could not be sealed or opened. Messages name the step, never a value.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EscrowError {
    /// HPKE refused the recipient key or could not seal.
    #[error("the escrow record could not be sealed")]
    Seal,
    /// The sealed record does not open with this key for this (platform, pseudonym): wrong
    /// key, a record moved from another account, or a changed byte.
    #[error("the sealed escrow record does not open")]
    Open,
    /// The compact serialization is malformed.
    #[error("malformed sealed escrow record: {0}")]
    Malformed(&'static str),
    /// The plaintext is not a version 1 record, or names another platform or pseudonym
    /// than its `aad`.
    #[error("the opened escrow record is not a valid record")]
    Record,
    /// The operating system's random number generator failed.
    #[error("the system random number generator is unavailable")]
    Random,
}

/// What the court may learn about one check of one account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct EscrowRecord {
    /// The person handle the credential disclosed (meaningless without the State register).
    pub person_handle: String,
    /// The platform's canonical id.
    pub platform_id: String,
    /// The pairwise pseudonym the platform got.
    pub pseudonym: String,
    /// The platform's own account reference, if it gave one.
    pub account_reference: Option<String>,
    /// The check this record comes from.
    pub check_id: String,
    /// When the check completed (Unix seconds).
    pub time: i64,
    /// Hex SHA-256 of the presentation that proved it (see `pipeline`).
    pub evidence_digest: String,
}

impl std::fmt::Debug for EscrowRecord {
    // The handle is what the whole design keeps from the platform: never in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EscrowRecord")
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

/// A sealed escrow record: the recipient key's `kid`, the HPKE encapsulated key and the
/// ciphertext (with its 16-byte tag).
///
/// Its stable text form ([`SealedRecord::to_compact`], [`SealedRecord::from_compact`]) is
/// `v1.<kid>.<enc>.<ct>`, each part base64url without padding (RFC 4648 §5), `kid` the UTF-8
/// bytes of the key id (empty when the key has none).
#[derive(Clone, PartialEq, Eq)]
pub struct SealedRecord {
    /// The `kid` of the court's escrow key it was sealed to.
    pub kid: Option<String>,
    /// The HPKE encapsulated key (32 bytes for X25519).
    pub enc: Vec<u8>,
    /// The AEAD ciphertext.
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for SealedRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedRecord")
            .field("kid", &self.kid)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

impl SealedRecord {
    /// `v1.<kid>.<enc>.<ct>`.
    pub fn to_compact(&self) -> String {
        let kid = self.kid.as_deref().unwrap_or_default();
        format!(
            "{VERSION}.{}.{}.{}",
            URL_SAFE_NO_PAD.encode(kid),
            URL_SAFE_NO_PAD.encode(&self.enc),
            URL_SAFE_NO_PAD.encode(&self.ciphertext)
        )
    }

    /// Reads `v1.<kid>.<enc>.<ct>`.
    pub fn from_compact(text: &str) -> Result<SealedRecord, EscrowError> {
        let mut parts = text.split('.');
        let (Some(version), Some(kid), Some(enc), Some(ct), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(EscrowError::Malformed("expected four parts"));
        };
        if version != VERSION {
            return Err(EscrowError::Malformed("unknown version"));
        }
        let decode = |part: &str, what| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| EscrowError::Malformed(what))
        };
        let kid = String::from_utf8(decode(kid, "kid is not base64url")?)
            .map_err(|_| EscrowError::Malformed("kid is not UTF-8"))?;
        Ok(SealedRecord {
            kid: (!kid.is_empty()).then_some(kid),
            enc: decode(enc, "enc is not base64url")?,
            ciphertext: decode(ct, "ciphertext is not base64url")?,
        })
    }
}

/// The court's X25519 private key (32 bytes, RFC 7748), zeroized on drop.
#[derive(Clone)]
pub struct EscrowSecret(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for EscrowSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EscrowSecret(..)")
    }
}

impl EscrowSecret {
    /// The private key bytes, for [`open`] and for writing a key file. They are clamped
    /// (RFC 7748 §5), as RFC 9180 §7.1.2 serializes X25519 private keys.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Wraps private key bytes: the court's tool, once k judges have rebuilt them.
    pub fn from_bytes(bytes: Zeroizing<[u8; 32]>) -> EscrowSecret {
        EscrowSecret(bytes)
    }

    /// The public key of this private key, with `kid`: what the court's tool compares with
    /// the trust list's key before it opens anything.
    pub fn public_key(&self, kid: Option<String>) -> Result<EscrowKey, EscrowError> {
        let secret = <Kem as hpke::Kem>::PrivateKey::from_bytes(&self.0[..])
            .map_err(|_| EscrowError::Open)?;
        let mut public = [0u8; 32];
        public.copy_from_slice(&Kem::sk_to_pk(&secret).to_bytes());
        EscrowKey::new(public, kid).map_err(|_| EscrowError::Open)
    }
}

/// A fresh escrow key pair (tests and development; the real court key is made and split by
/// the court's tool): the public half as the trust list carries it, and the private half.
pub fn generate_escrow_key(kid: Option<String>) -> Result<(EscrowKey, EscrowSecret), EscrowError> {
    let mut ikm = Zeroizing::new([0u8; 32]);
    crate::crypto::fill_random(&mut ikm[..]).map_err(|_| EscrowError::Random)?;
    // DeriveKeyPair (RFC 9180 §7.1.3) from fresh randomness is GenerateKeyPair.
    let (secret, public) = Kem::derive_keypair(&ikm[..]);
    let mut secret_bytes = Zeroizing::new([0u8; 32]);
    secret_bytes.copy_from_slice(&secret.to_bytes());
    let mut public_bytes = [0u8; 32];
    public_bytes.copy_from_slice(&public.to_bytes());
    let key = EscrowKey::new(public_bytes, kid).map_err(|_| EscrowError::Seal)?;
    Ok((key, EscrowSecret(secret_bytes)))
}

/// The `aad` binding a record to its account.
fn aad(platform_id: &str, pseudonym: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(INFO.len() + 5 + platform_id.len() + pseudonym.len());
    out.extend_from_slice(INFO);
    out.push(0);
    // Platform ids are short; saturating keeps this total (see `pseudonym`).
    let len = u32::try_from(platform_id.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(platform_id.as_bytes());
    out.extend_from_slice(pseudonym.as_bytes());
    out
}

/// Seals `record` to the court's escrow key. Each call uses a fresh HPKE ephemeral key, so
/// two seals of one record differ.
pub fn seal(key: &EscrowKey, record: &EscrowRecord) -> Result<SealedRecord, EscrowError> {
    let recipient = <Kem as hpke::Kem>::PublicKey::from_bytes(key.public_bytes())
        .map_err(|_| EscrowError::Seal)?;
    let plaintext = Zeroizing::new(serde_json::to_vec(record).map_err(|_| EscrowError::Seal)?);
    let (encapped, ciphertext) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeS::Base,
        &recipient,
        INFO,
        &plaintext,
        &aad(&record.platform_id, &record.pseudonym),
    )
    .map_err(|_| EscrowError::Seal)?;
    Ok(SealedRecord {
        kid: key.kid().map(str::to_owned),
        enc: encapped.to_bytes().to_vec(),
        ciphertext,
    })
}

/// Opens a record sealed for the account (`platform_id`, `pseudonym`) with the court's X25519
/// private key (what the court's tool does once k of n judges have rebuilt it).
pub fn open(
    secret: &[u8; 32],
    platform_id: &str,
    pseudonym: &str,
    sealed: &SealedRecord,
) -> Result<EscrowRecord, EscrowError> {
    let secret =
        <Kem as hpke::Kem>::PrivateKey::from_bytes(secret).map_err(|_| EscrowError::Open)?;
    let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(&sealed.enc)
        .map_err(|_| EscrowError::Malformed("enc is not an X25519 public key"))?;
    let plaintext = Zeroizing::new(
        hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeR::Base,
            &secret,
            &encapped,
            INFO,
            &sealed.ciphertext,
            &aad(platform_id, pseudonym),
        )
        .map_err(|_| EscrowError::Open)?,
    );
    let record: EscrowRecord =
        serde_json::from_slice(&plaintext).map_err(|_| EscrowError::Record)?;
    // The aad already binds both; a record whose content disagrees with its binding was
    // sealed wrongly, and the court should not act on it.
    if record.platform_id != platform_id || record.pseudonym != pseudonym {
        return Err(EscrowError::Record);
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> EscrowRecord {
        EscrowRecord {
            person_handle: "handle-ZQk2".into(),
            platform_id: "https://platform.example".into(),
            pseudonym: "pseudonym-1".into(),
            account_reference: Some("account-42".into()),
            check_id: "check-1".into(),
            time: 1_800_000_000,
            evidence_digest: "00".repeat(32),
        }
    }

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 9180 Appendix A.2.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305,
    /// base mode), sequence number 0: the suite sealed to here is the RFC's, so any RFC 9180
    /// implementation the court uses opens our records.
    #[test]
    fn rfc9180_a_2_1_base_vector_opens_with_our_suite() {
        let secret = <Kem as hpke::Kem>::PrivateKey::from_bytes(&unhex(
            "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb",
        ))
        .unwrap();
        let public = <Kem as hpke::Kem>::sk_to_pk(&secret);
        assert_eq!(
            public.to_bytes().to_vec(),
            unhex("4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a")
        );
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&unhex(
            "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
        ))
        .unwrap();
        let plaintext = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeR::Base,
            &secret,
            &enc,
            b"Ode on a Grecian Urn",
            &unhex(concat!(
                "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db",
                "21993c62ce81883d2dd1b51a28"
            )),
            b"Count-0",
        )
        .unwrap();
        assert_eq!(plaintext, b"Beauty is truth, truth beauty");
    }

    #[test]
    fn rfc9180_base_mode_round_trip() {
        let (key, secret) = generate_escrow_key(Some("court-2026".into())).unwrap();
        let sealed = seal(&key, &record()).unwrap();
        assert_eq!(sealed.kid.as_deref(), Some("court-2026"));
        assert_eq!(sealed.enc.len(), 32);
        let text = sealed.to_compact();
        let parsed = SealedRecord::from_compact(&text).unwrap();
        assert_eq!(parsed, sealed);
        let opened = open(
            secret.as_bytes(),
            "https://platform.example",
            "pseudonym-1",
            &parsed,
        )
        .unwrap();
        assert_eq!(opened, record());
        // Nothing of the record is readable in the stored form.
        assert!(!text.contains("handle"));
    }

    #[test]
    fn a_secret_gives_back_its_public_key() {
        let (key, secret) = generate_escrow_key(Some("court-2026".into())).unwrap();
        let bytes = *secret.as_bytes();
        // Clamped: the low three bits clear, bit 255 clear, bit 254 set.
        assert_eq!(bytes[0] & 7, 0);
        assert_eq!(bytes[31] & 0xc0, 0x40);
        let rebuilt = EscrowSecret::from_bytes(Zeroizing::new(bytes));
        assert_eq!(rebuilt.public_key(Some("court-2026".into())).unwrap(), key);
        let (other, _) = generate_escrow_key(Some("court-2026".into())).unwrap();
        assert_ne!(
            rebuilt.public_key(Some("court-2026".into())).unwrap(),
            other
        );
    }

    #[test]
    fn the_wrong_key_does_not_open() {
        let (key, _) = generate_escrow_key(None).unwrap();
        let (_, other) = generate_escrow_key(None).unwrap();
        let sealed = seal(&key, &record()).unwrap();
        assert_eq!(sealed.kid, None);
        assert_eq!(
            open(
                other.as_bytes(),
                "https://platform.example",
                "pseudonym-1",
                &sealed
            ),
            Err(EscrowError::Open)
        );
    }

    #[test]
    fn a_record_moved_to_another_account_does_not_open() {
        let (key, secret) = generate_escrow_key(None).unwrap();
        let sealed = seal(&key, &record()).unwrap();
        for (platform, pseudonym) in [
            ("https://other.example", "pseudonym-1"),
            ("https://platform.example", "pseudonym-2"),
            // The same bytes split differently between the two.
            ("https://platform.exampl", "epseudonym-1"),
        ] {
            assert_eq!(
                open(secret.as_bytes(), platform, pseudonym, &sealed),
                Err(EscrowError::Open),
                "{platform} {pseudonym}"
            );
        }
    }

    #[test]
    fn a_changed_byte_does_not_open() {
        let (key, secret) = generate_escrow_key(None).unwrap();
        let sealed = seal(&key, &record()).unwrap();
        for at in [0, sealed.ciphertext.len() / 2, sealed.ciphertext.len() - 1] {
            let mut tampered = sealed.clone();
            tampered.ciphertext[at] ^= 1;
            assert_eq!(
                open(
                    secret.as_bytes(),
                    "https://platform.example",
                    "pseudonym-1",
                    &tampered
                ),
                Err(EscrowError::Open)
            );
        }
        let mut tampered = sealed.clone();
        tampered.enc[3] ^= 1;
        assert!(
            open(
                secret.as_bytes(),
                "https://platform.example",
                "pseudonym-1",
                &tampered
            )
            .is_err()
        );
    }

    #[test]
    fn two_seals_of_one_record_differ() {
        let (key, _) = generate_escrow_key(None).unwrap();
        let a = seal(&key, &record()).unwrap();
        let b = seal(&key, &record()).unwrap();
        assert_ne!(a.enc, b.enc);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn a_record_sealed_inconsistently_with_its_binding_is_refused() {
        // Sealed by hand with the aad of another account than the one it names.
        let (key, secret) = generate_escrow_key(None).unwrap();
        let recipient = <Kem as hpke::Kem>::PublicKey::from_bytes(key.public_bytes()).unwrap();
        let plaintext = serde_json::to_vec(&record()).unwrap();
        let (enc, ciphertext) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeS::Base,
            &recipient,
            INFO,
            &plaintext,
            &aad("https://elsewhere.example", "p"),
        )
        .unwrap();
        let sealed = SealedRecord {
            kid: None,
            enc: enc.to_bytes().to_vec(),
            ciphertext,
        };
        assert_eq!(
            open(secret.as_bytes(), "https://elsewhere.example", "p", &sealed),
            Err(EscrowError::Record)
        );
    }

    #[test]
    fn compact_form_is_strict() {
        for bad in [
            "",
            "v1.a.b",
            "v1.a.b.c.d",
            "v2.AA.AA.AA",
            "v1.a=.AA.AA",
            "v1..AA+.AA",
        ] {
            assert!(
                matches!(
                    SealedRecord::from_compact(bad),
                    Err(EscrowError::Malformed(_))
                ),
                "{bad}"
            );
        }
        let no_kid = SealedRecord::from_compact("v1..AAAA.AAAA").unwrap();
        assert_eq!(no_kid.kid, None);
        assert_eq!(no_kid.to_compact(), "v1..AAAA.AAAA");
        // A kid with dots survives.
        let sealed = SealedRecord {
            kid: Some("court.2026.1".into()),
            enc: vec![1; 32],
            ciphertext: vec![2; 40],
        };
        assert_eq!(
            SealedRecord::from_compact(&sealed.to_compact()).unwrap(),
            sealed
        );
    }

    #[test]
    fn debug_output_hides_the_handle() {
        let text = format!("{:?}", record());
        assert!(!text.contains("handle-ZQk2"));
        assert!(!text.contains("pseudonym-1"));
        let (_, secret) = generate_escrow_key(None).unwrap();
        assert_eq!(format!("{secret:?}"), "EscrowSecret(..)");
    }
}
