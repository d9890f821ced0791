//! Sealing of stored values, and keyed hashes for lookup columns.
//!
//! The storage key (from the platform keystore) is never used directly: two subkeys are
//! derived from it with HMAC-SHA256, one per purpose, so a lookup hash can never be
//! confused with, or help to break, a ciphertext.
//!
//! A sealed value is `nonce (24 bytes) ‖ XChaCha20-Poly1305 ciphertext and tag`. The nonce
//! is random: XChaCha's 192-bit nonces make collisions negligible however many values a
//! wallet seals, so no counter has to survive crashes or restores. The associated data is
//! `table ‖ 0 ‖ row id` ([`aad`]), so a sealed value copied to another row or table does not
//! open there.

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit as _, Payload};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::Error;

/// The label of the subkey that seals values.
const SEAL_LABEL: &[u8] = b"wallet/seal/v1";
/// The label of the subkey of the keyed hashes in lookup columns.
const LOOKUP_LABEL: &[u8] = b"wallet/lookup/v1";

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Seals and opens values under subkeys of one storage key.
pub(crate) struct Sealer {
    // Zeroizes its key on drop (chacha20poly1305's `zeroize` feature).
    cipher: XChaCha20Poly1305,
    lookup_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer").finish_non_exhaustive()
    }
}

impl Sealer {
    /// A sealer for the 32-byte storage key `key`.
    pub(crate) fn new(key: &Zeroizing<[u8; 32]>) -> Sealer {
        let seal_key = derive(key, SEAL_LABEL);
        let lookup_key = derive(key, LOOKUP_LABEL);
        Sealer {
            cipher: XChaCha20Poly1305::new((&*seal_key).into()),
            lookup_key,
        }
    }

    /// Seals `plaintext`, bound to `aad` (see [`aad`]).
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        credential_formats::crypto::fill_random(&mut nonce)?;
        let ciphertext = self
            .cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            // Only a message longer than XChaCha20's 256 GiB limit fails.
            .map_err(|_| Error::Storage("a value is too large to seal".into()))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Opens a value sealed with [`Sealer::seal`] under the same `aad`. A value sealed for
    /// another row, altered, or sealed under another key is [`Error::Corrupt`] (the store
    /// tells a wrong key apart by its canary first).
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::Corrupt("a sealed value is truncated"));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: &[u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| Error::Corrupt("a sealed value is truncated"))?;
        self.cipher
            .decrypt(
                nonce.into(),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| Error::Corrupt("a sealed value does not open"))
    }

    /// The keyed hash of `value` for a lookup column of `domain` (say `"vct"`): equal values
    /// of one domain hash alike, and without the storage key nothing can be learnt from the
    /// hash, not even by hashing guesses.
    pub(crate) fn lookup(&self, domain: &str, value: &str) -> [u8; 32] {
        let mut mac = hmac_sha256(&self.lookup_key);
        // Each part prefixed by its length, so that no two (domain, value) pairs hash alike.
        for part in [domain.as_bytes(), value.as_bytes()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

/// The associated data of the value sealed in row `row` of `table`: `table ‖ 0 ‖ row`. A
/// table name never holds a 0 byte, so no two (table, row) pairs give the same bytes.
pub(crate) fn aad(table: &str, row: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(table.len() + 1 + row.len());
    aad.extend_from_slice(table.as_bytes());
    aad.push(0);
    aad.extend_from_slice(row.as_bytes());
    aad
}

/// The subkey `HMAC-SHA256(key, label)`.
fn derive(key: &[u8; 32], label: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut mac = hmac_sha256(key);
    mac.update(label);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// HMAC-SHA256 keyed with `key`.
fn hmac_sha256(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC pads a key shorter than the hash's block (64 bytes) with zeros (RFC 2104 §2), so
    // the key padded here gives the same MAC as the 32-byte key, through the infallible
    // constructor rather than `new_from_slice` and an error that cannot happen.
    let mut block = Zeroizing::new([0u8; 64]);
    block[..32].copy_from_slice(key);
    <Hmac<Sha256>>::new((&*block).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> Sealer {
        Sealer::new(&Zeroizing::new([byte; 32]))
    }

    #[test]
    fn a_sealed_value_opens_under_its_aad_only() {
        let s = sealer(1);
        let sealed = s.seal(&aad("credentials", "a"), b"hello").unwrap();
        assert_eq!(sealed.len(), NONCE_LEN + 5 + TAG_LEN);
        assert_eq!(
            &**s.open(&aad("credentials", "a"), &sealed).unwrap(),
            b"hello"
        );
        for other in [
            aad("credentials", "b"),
            aad("keys", "a"),
            aad("credentials", "a\0"),
        ] {
            assert_eq!(
                s.open(&other, &sealed),
                Err(Error::Corrupt("a sealed value does not open"))
            );
        }
    }

    #[test]
    fn another_key_does_not_open() {
        let sealed = sealer(1).seal(b"meta\0canary", b"x").unwrap();
        assert!(sealer(2).open(b"meta\0canary", &sealed).is_err());
    }

    #[test]
    fn altered_or_truncated_values_do_not_open() {
        let s = sealer(1);
        let sealed = s.seal(b"t\0r", b"some plaintext").unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(s.open(b"t\0r", &bad).is_err(), "bit flip at {i} opened");
        }
        for len in 0..sealed.len() {
            assert!(s.open(b"t\0r", &sealed[..len]).is_err());
        }
    }

    #[test]
    fn nonces_are_fresh() {
        let s = sealer(1);
        let a = s.seal(b"t\0r", b"same").unwrap();
        let b = s.seal(b"t\0r", b"same").unwrap();
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn lookups_are_keyed_and_separated_by_domain() {
        let (s1, s2) = (sealer(1), sealer(2));
        assert_eq!(s1.lookup("vct", "urn:x"), s1.lookup("vct", "urn:x"));
        assert_ne!(s1.lookup("vct", "urn:x"), s2.lookup("vct", "urn:x"));
        assert_ne!(s1.lookup("vct", "urn:x"), s1.lookup("vct", "urn:y"));
        assert_ne!(s1.lookup("vct", "urn:x"), s1.lookup("iss", "urn:x"));
        // Length prefixes: moving bytes between domain and value changes the hash.
        assert_ne!(s1.lookup("ab", "c"), s1.lookup("a", "bc"));
    }

    #[test]
    fn subkeys_are_hmac_sha256_of_the_labels() {
        // RFC 4231 test case 2 checks the padded-key construction against a known vector:
        // key "Jefe" (padded to 32 bytes with zeros is the same HMAC key, RFC 2104 §2).
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mut mac = hmac_sha256(&key);
        mac.update(b"what do ya want for nothing?");
        let expected = [
            0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
            0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9,
            0x64, 0xec, 0x38, 0x43,
        ];
        assert_eq!(<[u8; 32]>::from(mac.finalize().into_bytes()), expected);
        // And the seal subkey is the plain HMAC of its label under the storage key.
        let storage = Zeroizing::new([7u8; 32]);
        let mut plain = <Hmac<Sha256>>::new_from_slice(&storage[..]).unwrap();
        plain.update(SEAL_LABEL);
        assert_eq!(
            *derive(&storage, SEAL_LABEL),
            <[u8; 32]>::from(plain.finalize().into_bytes())
        );
    }
}
