//! Pairwise pseudonyms: what a platform learns instead of the person.
//!
//! `pseudonym = base64url(HMAC-SHA256(K_ps, "pseudonym/v1" ‖ 0x00 ‖ u32be(len(platform_id)) ‖
//! platform_id ‖ person_handle))`. The same person on the same platform always gets the same
//! pseudonym (so a ban sticks); two platforms get values that cannot be linked without `K_ps`.
//!
//! The length prefix makes the input unambiguous: without it, `("ab", "c…")` and `("a",
//! "bc…")` would hash the same bytes. The label and its terminating zero byte keep these MACs
//! apart from any other use of the key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The domain-separation label of version 1 of the derivation.
const LABEL: &[u8] = b"pseudonym/v1";

/// The pseudonym key `K_ps`: 256 bits, zeroized on drop, never printed.
#[derive(Clone)]
pub struct PseudonymKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(..)")
    }
}

impl PseudonymKey {
    /// Wraps the key bytes (from a key file: `service_kit::keys`).
    pub fn new(key: Zeroizing<[u8; 32]>) -> PseudonymKey {
        PseudonymKey(key)
    }

    /// The pseudonym of `person_handle` on the platform `platform_id` (its canonical id):
    /// 43 characters of base64url.
    pub fn pseudonym(&self, platform_id: &str, person_handle: &str) -> String {
        // RFC 2104: a key shorter than the block is padded with zeros, so the padded 64-byte
        // block *is* the key; this spares a fallible `new_from_slice` that cannot fail.
        let mut block = Zeroizing::new([0u8; 64]);
        block[..32].copy_from_slice(&self.0[..]);
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&(*block).into());
        mac.update(LABEL);
        mac.update(&[0]);
        // Platform ids are short identifiers the service validates; a length beyond u32 is
        // not a platform id, and saturating keeps this total rather than panicking.
        let len = u32::try_from(platform_id.len()).unwrap_or(u32::MAX);
        mac.update(&len.to_be_bytes());
        mac.update(platform_id.as_bytes());
        mac.update(person_handle.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> PseudonymKey {
        PseudonymKey::new(Zeroizing::new([byte; 32]))
    }

    #[test]
    fn same_inputs_give_the_same_pseudonym() {
        let k = key(7);
        let a = k.pseudonym("https://platform.example", "handle-1");
        assert_eq!(a, k.pseudonym("https://platform.example", "handle-1"));
        assert_eq!(a.len(), 43);
        assert!(URL_SAFE_NO_PAD.decode(&a).is_ok());
    }

    #[test]
    fn the_padded_key_is_the_rfc2104_key() {
        // The same MAC as HMAC keyed with the 32 bytes themselves.
        let k = key(9);
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&[9u8; 32]).unwrap();
        mac.update(b"pseudonym/v1\0");
        mac.update(&3u32.to_be_bytes());
        mac.update(b"abc");
        mac.update(b"person");
        let expected = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        assert_eq!(k.pseudonym("abc", "person"), expected);
    }

    #[test]
    fn different_platforms_and_people_get_different_pseudonyms() {
        let k = key(7);
        let p1 = k.pseudonym("https://one.example", "handle-1");
        let p2 = k.pseudonym("https://two.example", "handle-1");
        let p3 = k.pseudonym("https://one.example", "handle-2");
        assert_ne!(p1, p2);
        assert_ne!(p1, p3);
        assert_ne!(p2, p3);
        // Another key gives another pseudonym for the same inputs.
        assert_ne!(p1, key(8).pseudonym("https://one.example", "handle-1"));
    }

    #[test]
    fn shifting_the_boundary_changes_the_pseudonym() {
        let k = key(7);
        assert_ne!(k.pseudonym("ab", "cd"), k.pseudonym("a", "bcd"));
        assert_ne!(k.pseudonym("ab", "cd"), k.pseudonym("abc", "d"));
        assert_ne!(k.pseudonym("", "abcd"), k.pseudonym("abcd", ""));
    }

    #[test]
    fn debug_shows_no_key() {
        let text = format!("{:?}", key(0xab));
        assert_eq!(text, "PseudonymKey(..)");
    }
}
