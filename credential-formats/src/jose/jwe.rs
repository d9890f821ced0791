//! JWE compact serialization (RFC 7516 §7.1) with ECDH-ES direct key agreement (RFC 7518 §4.6)
//! and AES-GCM content encryption (RFC 7518 §5.3): what OpenID4VP `direct_post.jwt` needs and
//! HAIP 1.0 requires (P-256, `A128GCM`, `A256GCM`).
//!
//! Only one key management mode exists here, so there is no key wrapping and no RSA: the
//! JWE Encrypted Key is always empty, and the Content Encryption Key is the Concat KDF output.

use super::{JoseError, Jwk, MAX_COMPACT_LEN};
use crate::b64;
use crate::crypto::{CryptoProvider, PublicKey, SecretKey, SignatureAlgorithm};
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The only `alg` we produce and accept.
const ECDH_ES: &str = "ECDH-ES";

/// Size limit for a JWE protected header: an `epk` and a few short members fit many times.
const MAX_HEADER_LEN: usize = 16 * 1024;

/// AES-GCM Initialization Vector length: 96 bits (RFC 7518 §5.3).
const IV_LEN: usize = 12;

/// AES-GCM Authentication Tag length: 128 bits (RFC 7518 §5.3).
const TAG_LEN: usize = 16;

/// Header members this module writes and reads itself.
const MANAGED: [&str; 10] = [
    "alg", "enc", "epk", "kid", "apu", "apv", "typ", "cty", "crit", "zip",
];

/// The content encryption algorithms we accept (`enc`, RFC 7518 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentEncryption {
    /// AES GCM with a 128-bit key.
    A128Gcm,
    /// AES GCM with a 256-bit key.
    A256Gcm,
}

impl ContentEncryption {
    /// The `enc` value.
    pub fn name(self) -> &'static str {
        match self {
            ContentEncryption::A128Gcm => "A128GCM",
            ContentEncryption::A256Gcm => "A256GCM",
        }
    }

    /// Reads an `enc` value; anything but `A128GCM` and `A256GCM` is `None`.
    pub fn from_name(name: &str) -> Option<ContentEncryption> {
        match name {
            "A128GCM" => Some(ContentEncryption::A128Gcm),
            "A256GCM" => Some(ContentEncryption::A256Gcm),
            _ => None,
        }
    }

    /// The CEK length in bytes (the Concat KDF `keydatalen` is eight times this).
    pub fn key_len(self) -> usize {
        match self {
            ContentEncryption::A128Gcm => 16,
            ContentEncryption::A256Gcm => 32,
        }
    }
}

impl std::fmt::Display for ContentEncryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A JWE protected header for ECDH-ES. When encrypting, `alg`, `enc` and `epk` are set by
/// [`encrypt_compact`]; the caller sets the rest. A decoded header always has `enc` and `epk`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JweHeader {
    enc: Option<ContentEncryption>,
    epk: Option<Jwk>,
    kid: Option<String>,
    apu: Option<Vec<u8>>,
    apv: Option<Vec<u8>>,
    typ: Option<String>,
    cty: Option<String>,
    members: Map<String, Value>,
}

impl JweHeader {
    /// An empty header.
    pub fn new() -> JweHeader {
        JweHeader::default()
    }

    /// Sets `kid` (by default the recipient JWK's `kid` is copied).
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> JweHeader {
        self.kid = Some(kid.into());
        self
    }

    /// Sets `apu` (Agreement PartyUInfo), given as raw bytes; it is written base64url-encoded.
    #[must_use]
    pub fn with_apu(mut self, apu: impl Into<Vec<u8>>) -> JweHeader {
        self.apu = Some(apu.into());
        self
    }

    /// Sets `apv` (Agreement PartyVInfo), given as raw bytes; it is written base64url-encoded.
    #[must_use]
    pub fn with_apv(mut self, apv: impl Into<Vec<u8>>) -> JweHeader {
        self.apv = Some(apv.into());
        self
    }

    /// Sets `typ`.
    #[must_use]
    pub fn with_typ(mut self, typ: impl Into<String>) -> JweHeader {
        self.typ = Some(typ.into());
        self
    }

    /// Sets `cty` (`JWT` for a nested signed JWT).
    #[must_use]
    pub fn with_cty(mut self, cty: impl Into<String>) -> JweHeader {
        self.cty = Some(cty.into());
        self
    }

    /// Adds another header member. The members this type manages (`alg`, `enc`, `epk`, `kid`,
    /// `apu`, `apv`, `typ`, `cty`, `crit`, `zip`) cannot be set this way.
    #[must_use]
    pub fn with_member(mut self, name: impl Into<String>, value: Value) -> JweHeader {
        let name = name.into();
        if !MANAGED.contains(&name.as_str()) {
            self.members.insert(name, value);
        }
        self
    }

    /// `enc` (always present on a decoded header).
    pub fn enc(&self) -> Option<ContentEncryption> {
        self.enc
    }
    /// `epk`: the sender's ephemeral public key (always present on a decoded header).
    pub fn epk(&self) -> Option<&Jwk> {
        self.epk.as_ref()
    }
    /// `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
    /// `apu`, base64url-decoded.
    pub fn apu(&self) -> Option<&[u8]> {
        self.apu.as_deref()
    }
    /// `apv`, base64url-decoded.
    pub fn apv(&self) -> Option<&[u8]> {
        self.apv.as_deref()
    }
    /// `typ`, as written.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }
    /// `cty`, as written.
    pub fn cty(&self) -> Option<&str> {
        self.cty.as_deref()
    }
    /// Any other member.
    pub fn member(&self, name: &str) -> Option<&Value> {
        self.members.get(name)
    }

    fn to_json(&self, enc: ContentEncryption, epk: &Jwk) -> Value {
        let mut out = Map::new();
        out.insert("alg".into(), Value::from(ECDH_ES));
        out.insert("enc".into(), Value::from(enc.name()));
        if let Some(kid) = &self.kid {
            out.insert("kid".into(), Value::from(kid.clone()));
        }
        out.insert("epk".into(), epk.to_value());
        if let Some(apu) = &self.apu {
            out.insert("apu".into(), Value::from(b64::encode(apu)));
        }
        if let Some(apv) = &self.apv {
            out.insert("apv".into(), Value::from(b64::encode(apv)));
        }
        if let Some(typ) = &self.typ {
            out.insert("typ".into(), Value::from(typ.clone()));
        }
        if let Some(cty) = &self.cty {
            out.insert("cty".into(), Value::from(cty.clone()));
        }
        for (name, value) in &self.members {
            out.insert(name.clone(), value.clone());
        }
        Value::Object(out)
    }

    /// Reads a decoded protected header, in the order that gives the most useful error: the
    /// key management algorithm first, then the content encryption, then the ephemeral key.
    fn from_json(value: Value, allowed: &[ContentEncryption]) -> Result<JweHeader, JoseError> {
        let Value::Object(mut members) = value else {
            return Err(JoseError::InvalidHeader("header is not an object"));
        };
        match members.remove("alg") {
            None => return Err(JoseError::MissingAlgorithm),
            Some(Value::String(alg)) if alg == ECDH_ES => {}
            Some(Value::String(_)) => return Err(JoseError::AlgorithmNotAllowed),
            Some(_) => return Err(JoseError::InvalidHeader("alg")),
        }
        // We implement no extension (RFC 7516 §4.1.13 defers to RFC 7515 §4.1.11).
        if members.contains_key("crit") {
            return Err(JoseError::UnsupportedCritical);
        }
        // Compression before encryption leaks plaintext length patterns (CRIME-style), and
        // nothing we exchange asks for it.
        if members.contains_key("zip") {
            return Err(JoseError::InvalidHeader("zip"));
        }
        let enc = match members.remove("enc") {
            None => return Err(JoseError::EncryptionNotAllowed),
            Some(Value::String(name)) => ContentEncryption::from_name(&name)
                .filter(|enc| allowed.contains(enc))
                .ok_or(JoseError::EncryptionNotAllowed)?,
            Some(_) => return Err(JoseError::InvalidHeader("enc")),
        };
        let epk = match members.remove("epk") {
            None => return Err(JoseError::InvalidHeader("epk")),
            // `Jwk::from_value` refuses private members and points off the curve (the
            // invalid-curve attack on ECDH).
            Some(value) => Jwk::from_value(&value)?,
        };
        if !matches!(epk.key(), PublicKey::P256 { .. }) {
            return Err(JoseError::InvalidKey("epk is not a P-256 key"));
        }
        let kid = take_string(&mut members, "kid")?;
        let apu = take_b64(&mut members, "apu")?;
        let apv = take_b64(&mut members, "apv")?;
        let typ = take_string(&mut members, "typ")?;
        let cty = take_string(&mut members, "cty")?;
        Ok(JweHeader {
            enc: Some(enc),
            epk: Some(epk),
            kid,
            apu,
            apv,
            typ,
            cty,
            members,
        })
    }
}

fn take_string(
    members: &mut Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, JoseError> {
    match members.remove(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(JoseError::InvalidHeader(name)),
    }
}

fn take_b64(
    members: &mut Map<String, Value>,
    name: &'static str,
) -> Result<Option<Vec<u8>>, JoseError> {
    match take_string(members, name)? {
        None => Ok(None),
        Some(text) => b64::decode(&text).map(Some).ok_or(JoseError::Base64(name)),
    }
}

/// Encrypts `plaintext` to `recipient` (a P-256 public key, typically from the verifier's
/// `client_metadata.jwks`) and returns the compact serialization
/// `BASE64URL(header)..BASE64URL(IV).BASE64URL(ciphertext).BASE64URL(tag)`.
///
/// A fresh ephemeral key is generated for every call, so two encryptions of the same plaintext
/// share nothing. `kid` is copied from the recipient JWK unless the header sets one.
pub fn encrypt_compact(
    provider: &dyn CryptoProvider,
    recipient: &Jwk,
    enc: ContentEncryption,
    plaintext: &[u8],
    header: JweHeader,
) -> Result<String, JoseError> {
    if !matches!(recipient.key(), PublicKey::P256 { .. }) {
        return Err(JoseError::InvalidKey("ECDH-ES needs a P-256 recipient key"));
    }
    // A key published for signatures, or for another algorithm, is not ours to encrypt to
    // (RFC 7517 §4.2, §4.4).
    if recipient.key_use().is_some_and(|u| u != "enc")
        || recipient.alg().is_some_and(|alg| alg != ECDH_ES)
    {
        return Err(JoseError::InvalidKey("recipient JWK is not for ECDH-ES"));
    }
    let ephemeral = SecretKey::generate(SignatureAlgorithm::Es256)?;
    let z = provider.ecdh_p256(&ephemeral, recipient.key())?;
    let epk = Jwk::new(ephemeral.public_key());
    drop(ephemeral);

    let mut header = header;
    if header.kid.is_none() {
        header.kid = recipient.kid().map(str::to_owned);
    }
    let header_json = serde_json::to_vec(&header.to_json(enc, &epk))
        .map_err(|_| JoseError::InvalidHeader("unserialisable header"))?;
    let header_b64 = b64::encode(header_json);

    let cek = concat_kdf(
        &z[..],
        enc.name().as_bytes(),
        header.apu().unwrap_or_default(),
        header.apv().unwrap_or_default(),
        enc.key_len(),
    )?;
    let mut iv = [0u8; IV_LEN];
    crate::crypto::fill_random(&mut iv)?;
    let mut ciphertext = plaintext.to_vec();
    let tag = encrypt_content(enc, &cek, &iv, header_b64.as_bytes(), &mut ciphertext)?;

    let mut out = header_b64;
    out.push_str("..");
    out.push_str(&b64::encode(iv));
    out.push('.');
    out.push_str(&b64::encode(&ciphertext));
    out.push('.');
    out.push_str(&b64::encode(tag));
    Ok(out)
}

/// Decrypts a compact JWE made with ECDH-ES to `recipient`, accepting only the content
/// encryption algorithms in `allowed`. Returns the authenticated header and the plaintext.
///
/// Every structural fault has its own error; every cryptographic one (wrong key, any part
/// altered) is [`JoseError::DecryptionFailed`], so a caller cannot be used as an oracle.
pub fn decrypt_compact(
    provider: &dyn CryptoProvider,
    compact: &str,
    recipient: &SecretKey,
    allowed: &[ContentEncryption],
) -> Result<(JweHeader, Vec<u8>), JoseError> {
    if compact.len() > MAX_COMPACT_LEN {
        return Err(JoseError::TooLarge {
            len: compact.len(),
            limit: MAX_COMPACT_LEN,
        });
    }
    let mut parts = compact.split('.');
    let (Some(header_b64), Some(encrypted_key), Some(iv_b64), Some(ct_b64), Some(tag_b64), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(JoseError::WrongPartCount { expected: 5 });
    };
    let header_bytes = b64::decode(header_b64).ok_or(JoseError::Base64("JWE protected header"))?;
    let header_value =
        crate::json::parse(&header_bytes, MAX_HEADER_LEN).map_err(|source| JoseError::Json {
            part: "JWE protected header",
            source,
        })?;
    let header = JweHeader::from_json(header_value, allowed)?;
    // Direct key agreement: the JWE Encrypted Key MUST be empty (RFC 7518 §4.6).
    if !encrypted_key.is_empty() {
        return Err(JoseError::EncryptedKeyNotEmpty);
    }
    let iv = b64::decode(iv_b64).ok_or(JoseError::Base64("JWE initialization vector"))?;
    if iv.len() != IV_LEN {
        return Err(JoseError::InvalidLength("JWE initialization vector"));
    }
    let mut plaintext = b64::decode(ct_b64).ok_or(JoseError::Base64("JWE ciphertext"))?;
    let tag = b64::decode(tag_b64).ok_or(JoseError::Base64("JWE authentication tag"))?;
    if tag.len() != TAG_LEN {
        return Err(JoseError::InvalidLength("JWE authentication tag"));
    }
    let (Some(enc), Some(epk)) = (header.enc, header.epk.as_ref()) else {
        return Err(JoseError::InvalidHeader("enc"));
    };
    if recipient.algorithm() != SignatureAlgorithm::Es256 {
        return Err(JoseError::InvalidKey("ECDH-ES needs a P-256 recipient key"));
    }
    let z = provider.ecdh_p256(recipient, epk.key())?;
    let cek = concat_kdf(
        &z[..],
        enc.name().as_bytes(),
        header.apu().unwrap_or_default(),
        header.apv().unwrap_or_default(),
        enc.key_len(),
    )?;
    decrypt_content(enc, &cek, &iv, header_b64.as_bytes(), &mut plaintext, &tag)?;
    Ok((header, plaintext))
}

/// The Concat KDF of NIST SP 800-56A §5.8.1 with SHA-256, formatted as RFC 7518 §4.6.2
/// specifies: `OtherInfo = AlgorithmID ‖ PartyUInfo ‖ PartyVInfo ‖ SuppPubInfo`, each of the
/// first three as a 32-bit big-endian length followed by the data, SuppPubInfo the key length
/// in bits (32-bit big-endian), SuppPrivInfo empty.
///
/// Only the hashing is ours; `sha2` does the SHA-256. Keys of up to 256 bits need one round.
pub(super) fn concat_kdf(
    z: &[u8],
    algorithm_id: &[u8],
    party_u_info: &[u8],
    party_v_info: &[u8],
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let digest_len = 32;
    if key_len == 0 || key_len > digest_len {
        return Err(JoseError::InvalidKey("Concat KDF output length"));
    }
    let keydatalen_bits =
        u32::try_from(key_len * 8).map_err(|_| JoseError::InvalidKey("Concat KDF length"))?;
    let prefixed = |data: &[u8], name: &'static str| -> Result<[u8; 4], JoseError> {
        u32::try_from(data.len())
            .map(u32::to_be_bytes)
            .map_err(|_| JoseError::InvalidHeader(name))
    };
    let mut hash = Sha256::new();
    hash.update(1u32.to_be_bytes()); // round 1
    hash.update(z);
    hash.update(prefixed(algorithm_id, "enc")?);
    hash.update(algorithm_id);
    hash.update(prefixed(party_u_info, "apu")?);
    hash.update(party_u_info);
    hash.update(prefixed(party_v_info, "apv")?);
    hash.update(party_v_info);
    hash.update(keydatalen_bits.to_be_bytes());
    let digest = Zeroizing::new(hash.finalize());
    let key = digest
        .get(..key_len)
        .ok_or(JoseError::InvalidKey("Concat KDF output length"))?;
    Ok(Zeroizing::new(key.to_vec()))
}

/// AES-GCM encryption in place; returns the 128-bit tag (RFC 7518 §5.3).
pub(super) fn encrypt_content(
    enc: ContentEncryption,
    cek: &[u8],
    iv: &[u8; IV_LEN],
    aad: &[u8],
    buffer: &mut [u8],
) -> Result<[u8; TAG_LEN], JoseError> {
    fn run<A: AeadInOut + KeyInit>(
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        buffer: &mut [u8],
    ) -> Result<[u8; TAG_LEN], JoseError> {
        let cipher = A::new_from_slice(cek).map_err(|_| JoseError::InvalidKey("CEK length"))?;
        let nonce = aes_gcm::aead::Nonce::<A>::try_from(iv)
            .map_err(|_| JoseError::InvalidLength("JWE initialization vector"))?;
        let tag = cipher
            .encrypt_inout_detached(&nonce, aad, buffer.into())
            .map_err(|_| JoseError::InvalidLength("JWE plaintext"))?;
        let mut out = [0u8; TAG_LEN];
        if tag.len() != TAG_LEN {
            return Err(JoseError::InvalidLength("JWE authentication tag"));
        }
        out.copy_from_slice(&tag);
        Ok(out)
    }
    match enc {
        ContentEncryption::A128Gcm => run::<Aes128Gcm>(cek, iv, aad, buffer),
        ContentEncryption::A256Gcm => run::<Aes256Gcm>(cek, iv, aad, buffer),
    }
}

/// AES-GCM decryption in place; any failure is [`JoseError::DecryptionFailed`].
pub(super) fn decrypt_content(
    enc: ContentEncryption,
    cek: &[u8],
    iv: &[u8],
    aad: &[u8],
    buffer: &mut [u8],
    tag: &[u8],
) -> Result<(), JoseError> {
    fn run<A: AeadInOut + KeyInit>(
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        buffer: &mut [u8],
        tag: &[u8],
    ) -> Result<(), JoseError> {
        let cipher = A::new_from_slice(cek).map_err(|_| JoseError::DecryptionFailed)?;
        let nonce =
            aes_gcm::aead::Nonce::<A>::try_from(iv).map_err(|_| JoseError::DecryptionFailed)?;
        let tag =
            aes_gcm::aead::Tag::<A>::try_from(tag).map_err(|_| JoseError::DecryptionFailed)?;
        cipher
            .decrypt_inout_detached(&nonce, aad, buffer.into(), &tag)
            .map_err(|_| JoseError::DecryptionFailed)
    }
    let result = match enc {
        ContentEncryption::A128Gcm => run::<Aes128Gcm>(cek, iv, aad, buffer, tag),
        ContentEncryption::A256Gcm => run::<Aes256Gcm>(cek, iv, aad, buffer, tag),
    };
    if result.is_err() {
        // Never hand back a partially decrypted buffer.
        buffer.iter_mut().for_each(|b| *b = 0);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::tests::providers;

    const BOTH: [ContentEncryption; 2] = [ContentEncryption::A128Gcm, ContentEncryption::A256Gcm];

    fn recipient() -> (SecretKey, Jwk) {
        let secret = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let jwk = Jwk::new(secret.public_key())
            .with_kid("verifier-enc-1")
            .with_use("enc")
            .with_alg("ECDH-ES");
        (secret, jwk)
    }

    fn parts(compact: &str) -> Vec<String> {
        compact.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn rfc7516_round_trip_both_enc_across_providers() {
        let (secret, jwk) = recipient();
        let plaintext = br#"{"vp_token":{"pid":["eyJ..."]},"state":"s"}"#;
        for enc in BOTH {
            for sender in providers() {
                let header = JweHeader::new()
                    .with_apu(b"wallet-nonce".to_vec())
                    .with_apv(b"verifier-nonce".to_vec())
                    .with_typ("oauth-authz-resp+jwt")
                    .with_cty("json")
                    .with_member("x-extra", Value::from(1));
                let compact = encrypt_compact(sender, &jwk, enc, plaintext, header).unwrap();
                assert_eq!(parts(&compact)[1], "", "empty JWE Encrypted Key");
                for receiver in providers() {
                    let (header, decrypted) =
                        decrypt_compact(receiver, &compact, &secret, &[enc]).unwrap();
                    assert_eq!(decrypted, plaintext);
                    assert_eq!(header.enc(), Some(enc));
                    assert_eq!(header.kid(), Some("verifier-enc-1"));
                    assert_eq!(header.apu(), Some(&b"wallet-nonce"[..]));
                    assert_eq!(header.apv(), Some(&b"verifier-nonce"[..]));
                    assert_eq!(header.typ(), Some("oauth-authz-resp+jwt"));
                    assert_eq!(header.cty(), Some("json"));
                    assert_eq!(header.member("x-extra"), Some(&Value::from(1)));
                    assert!(header.epk().is_some());
                }
            }
        }
    }

    #[test]
    fn rfc7518_4_6_each_encryption_uses_a_fresh_ephemeral_key_and_iv() {
        let (secret, jwk) = recipient();
        let a = encrypt_compact(
            &crate::crypto::RustCrypto,
            &jwk,
            ContentEncryption::A128Gcm,
            b"x",
            JweHeader::new(),
        )
        .unwrap();
        let b = encrypt_compact(
            &crate::crypto::RustCrypto,
            &jwk,
            ContentEncryption::A128Gcm,
            b"x",
            JweHeader::new(),
        )
        .unwrap();
        let (ha, _) = decrypt_compact(&crate::crypto::RustCrypto, &a, &secret, &BOTH).unwrap();
        let (hb, _) = decrypt_compact(&crate::crypto::RustCrypto, &b, &secret, &BOTH).unwrap();
        assert_ne!(ha.epk(), hb.epk());
        assert_ne!(parts(&a)[2], parts(&b)[2]);
    }

    #[test]
    fn rfc7516_5_2_tampering_with_any_part_fails() {
        let (secret, jwk) = recipient();
        for provider in providers() {
            let compact = encrypt_compact(
                provider,
                &jwk,
                ContentEncryption::A256Gcm,
                b"secret payload",
                JweHeader::new(),
            )
            .unwrap();
            let original = parts(&compact);
            // Header: re-encode with an added member, so it still parses but the AAD differs.
            let mut header: Value =
                serde_json::from_slice(&b64::decode(&original[0]).unwrap()).unwrap();
            header["x"] = Value::from("y");
            let mut p = original.clone();
            p[0] = b64::encode(header.to_string());
            assert_eq!(
                decrypt_compact(provider, &p.join("."), &secret, &BOTH).unwrap_err(),
                JoseError::DecryptionFailed
            );
            // Encrypted key: must stay empty.
            let mut p = original.clone();
            p[1] = b64::encode([0u8; 16]);
            assert_eq!(
                decrypt_compact(provider, &p.join("."), &secret, &BOTH).unwrap_err(),
                JoseError::EncryptedKeyNotEmpty
            );
            // IV, ciphertext and tag: flip one bit of each.
            for index in 2..5 {
                let mut bytes = b64::decode(&original[index]).unwrap();
                bytes[0] ^= 1;
                let mut p = original.clone();
                p[index] = b64::encode(bytes);
                assert_eq!(
                    decrypt_compact(provider, &p.join("."), &secret, &BOTH).unwrap_err(),
                    JoseError::DecryptionFailed,
                    "part {index}"
                );
            }
        }
    }

    #[test]
    fn rfc7518_4_6_wrong_recipient_key_fails() {
        let (_, jwk) = recipient();
        let (other, _) = recipient();
        for provider in providers() {
            let compact = encrypt_compact(
                provider,
                &jwk,
                ContentEncryption::A128Gcm,
                b"x",
                JweHeader::new(),
            )
            .unwrap();
            assert_eq!(
                decrypt_compact(provider, &compact, &other, &BOTH).unwrap_err(),
                JoseError::DecryptionFailed
            );
            let ed = SecretKey::generate(SignatureAlgorithm::EdDsa).unwrap();
            assert!(matches!(
                decrypt_compact(provider, &compact, &ed, &BOTH).unwrap_err(),
                JoseError::InvalidKey(_)
            ));
        }
    }

    /// Builds a JWE whose header is `header` and whose other parts are well formed.
    fn with_header(header: &Value) -> String {
        format!(
            "{}..{}.{}.{}",
            b64::encode(header.to_string()),
            b64::encode([0u8; 12]),
            b64::encode(b"ct"),
            b64::encode([0u8; 16])
        )
    }

    fn epk_value() -> Value {
        Jwk::new(
            SecretKey::generate(SignatureAlgorithm::Es256)
                .unwrap()
                .public_key(),
        )
        .to_value()
    }

    #[test]
    fn rfc7518_4_1_only_ecdh_es_key_management_is_accepted() {
        let (secret, _) = recipient();
        for alg in [
            "RSA-OAEP",
            "RSA-OAEP-256",
            "RSA1_5",
            "dir",
            "ECDH-ES+A128KW",
            "ECDH-ES+A256KW",
            "A128KW",
            "ecdh-es",
            "none",
        ] {
            let jwe =
                with_header(&serde_json::json!({"alg": alg, "enc": "A128GCM", "epk": epk_value()}));
            assert_eq!(
                decrypt_compact(&crate::crypto::RustCrypto, &jwe, &secret, &BOTH).unwrap_err(),
                JoseError::AlgorithmNotAllowed,
                "{alg}"
            );
        }
        let jwe = with_header(&serde_json::json!({"enc": "A128GCM", "epk": epk_value()}));
        assert_eq!(
            decrypt_compact(&crate::crypto::RustCrypto, &jwe, &secret, &BOTH).unwrap_err(),
            JoseError::MissingAlgorithm
        );
    }

    #[test]
    fn rfc7518_5_1_only_allowed_gcm_content_encryption_is_accepted() {
        let (secret, _) = recipient();
        for enc in ["A128CBC-HS256", "A256CBC-HS512", "A192GCM", "a128gcm"] {
            let jwe =
                with_header(&serde_json::json!({"alg": "ECDH-ES", "enc": enc, "epk": epk_value()}));
            assert_eq!(
                decrypt_compact(&crate::crypto::RustCrypto, &jwe, &secret, &BOTH).unwrap_err(),
                JoseError::EncryptionNotAllowed,
                "{enc}"
            );
        }
        // Allowed by us, but not by this caller.
        let jwe = with_header(
            &serde_json::json!({"alg": "ECDH-ES", "enc": "A128GCM", "epk": epk_value()}),
        );
        assert_eq!(
            decrypt_compact(
                &crate::crypto::RustCrypto,
                &jwe,
                &secret,
                &[ContentEncryption::A256Gcm]
            )
            .unwrap_err(),
            JoseError::EncryptionNotAllowed
        );
        let jwe = with_header(&serde_json::json!({"alg": "ECDH-ES", "epk": epk_value()}));
        assert_eq!(
            decrypt_compact(&crate::crypto::RustCrypto, &jwe, &secret, &BOTH).unwrap_err(),
            JoseError::EncryptionNotAllowed
        );
    }

    #[test]
    fn rfc7518_4_6_1_1_epk_must_be_a_public_p256_point_on_the_curve() {
        let (secret, _) = recipient();
        let epk = epk_value();
        let header =
            |epk: Value| serde_json::json!({"alg": "ECDH-ES", "enc": "A128GCM", "epk": epk});
        let decrypt = |header: Value| {
            decrypt_compact(
                &crate::crypto::RustCrypto,
                &with_header(&header),
                &secret,
                &BOTH,
            )
            .unwrap_err()
        };
        // Invalid-curve attack: a point not on P-256.
        let mut off = epk.clone();
        let mut y = b64::decode(off["y"].as_str().unwrap()).unwrap();
        y[31] ^= 1;
        off["y"] = Value::from(b64::encode(y));
        assert_eq!(decrypt(header(off)), JoseError::InvalidKey("P-256 point"));
        // The all-zero point, another curve, a private key, an Ed25519 key, no epk.
        let mut zero = epk.clone();
        zero["x"] = Value::from(b64::encode([0u8; 32]));
        zero["y"] = Value::from(b64::encode([0u8; 32]));
        assert_eq!(decrypt(header(zero)), JoseError::InvalidKey("P-256 point"));
        let mut p384 = epk.clone();
        p384["crv"] = Value::from("P-384");
        assert_eq!(
            decrypt(header(p384)),
            JoseError::InvalidKey("unsupported curve")
        );
        let mut private = epk.clone();
        private["d"] = Value::from(b64::encode([1u8; 32]));
        assert_eq!(decrypt(header(private)), JoseError::PrivateKeyMaterial);
        let ed = Jwk::new(
            SecretKey::generate(SignatureAlgorithm::EdDsa)
                .unwrap()
                .public_key(),
        )
        .to_value();
        assert_eq!(
            decrypt(header(ed)),
            JoseError::InvalidKey("epk is not a P-256 key")
        );
        assert_eq!(
            decrypt(serde_json::json!({"alg": "ECDH-ES", "enc": "A128GCM"})),
            JoseError::InvalidHeader("epk")
        );
    }

    #[test]
    fn rfc7516_4_1_zip_crit_and_bad_members_are_refused() {
        let (secret, _) = recipient();
        let decrypt = |header: Value| {
            decrypt_compact(
                &crate::crypto::RustCrypto,
                &with_header(&header),
                &secret,
                &BOTH,
            )
            .unwrap_err()
        };
        let base = || serde_json::json!({"alg": "ECDH-ES", "enc": "A128GCM", "epk": epk_value()});
        let mut h = base();
        h["zip"] = Value::from("DEF");
        assert_eq!(decrypt(h), JoseError::InvalidHeader("zip"));
        for crit in [serde_json::json!(["exp"]), serde_json::json!([])] {
            let mut h = base();
            h["crit"] = crit;
            assert_eq!(decrypt(h), JoseError::UnsupportedCritical);
        }
        let mut h = base();
        h["apu"] = Value::from("QWxpY2U=");
        assert_eq!(decrypt(h), JoseError::Base64("apu"));
        let mut h = base();
        h["kid"] = Value::from(5);
        assert_eq!(decrypt(h), JoseError::InvalidHeader("kid"));
        assert_eq!(
            decrypt(Value::from("ECDH-ES")),
            JoseError::InvalidHeader("header is not an object")
        );
        let dup = format!(
            "{}..{}.{}.{}",
            b64::encode(r#"{"alg":"ECDH-ES","alg":"dir"}"#),
            b64::encode([0u8; 12]),
            "Y3Q",
            b64::encode([0u8; 16])
        );
        assert!(matches!(
            decrypt_compact(&crate::crypto::RustCrypto, &dup, &secret, &BOTH).unwrap_err(),
            JoseError::Json { .. }
        ));
    }

    #[test]
    fn rfc7516_7_1_compact_structure_is_strict() {
        let (secret, jwk) = recipient();
        let compact = encrypt_compact(
            &crate::crypto::RustCrypto,
            &jwk,
            ContentEncryption::A128Gcm,
            b"x",
            JweHeader::new(),
        )
        .unwrap();
        let p = parts(&compact);
        let decrypt = |text: &str| {
            decrypt_compact(&crate::crypto::RustCrypto, text, &secret, &BOTH).unwrap_err()
        };
        assert_eq!(
            decrypt(&p[..4].join(".")),
            JoseError::WrongPartCount { expected: 5 }
        );
        assert_eq!(
            decrypt(&format!("{compact}.")),
            JoseError::WrongPartCount { expected: 5 }
        );
        let mut q = p.clone();
        q[2] = b64::encode([0u8; 16]);
        assert_eq!(
            decrypt(&q.join(".")),
            JoseError::InvalidLength("JWE initialization vector")
        );
        let mut q = p.clone();
        q[4] = b64::encode([0u8; 12]);
        assert_eq!(
            decrypt(&q.join(".")),
            JoseError::InvalidLength("JWE authentication tag")
        );
        let mut q = p.clone();
        q[3].push('=');
        assert_eq!(decrypt(&q.join(".")), JoseError::Base64("JWE ciphertext"));
        let mut q = p.clone();
        q[0].push('=');
        assert_eq!(
            decrypt(&q.join(".")),
            JoseError::Base64("JWE protected header")
        );
        assert!(matches!(
            decrypt(&"a".repeat(MAX_COMPACT_LEN + 1)),
            JoseError::TooLarge { .. }
        ));
    }

    #[test]
    fn rfc7517_4_2_signing_keys_are_not_encryption_keys() {
        let secret = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let sig = Jwk::new(secret.public_key()).with_use("sig");
        assert!(matches!(
            encrypt_compact(
                &crate::crypto::RustCrypto,
                &sig,
                ContentEncryption::A128Gcm,
                b"x",
                JweHeader::new()
            ),
            Err(JoseError::InvalidKey(_))
        ));
        let es = Jwk::new(secret.public_key()).with_alg("ES256");
        assert!(matches!(
            encrypt_compact(
                &crate::crypto::RustCrypto,
                &es,
                ContentEncryption::A128Gcm,
                b"x",
                JweHeader::new()
            ),
            Err(JoseError::InvalidKey(_))
        ));
        let ed = Jwk::new(
            SecretKey::generate(SignatureAlgorithm::EdDsa)
                .unwrap()
                .public_key(),
        );
        assert!(matches!(
            encrypt_compact(
                &crate::crypto::RustCrypto,
                &ed,
                ContentEncryption::A128Gcm,
                b"x",
                JweHeader::new()
            ),
            Err(JoseError::InvalidKey(_))
        ));
    }

    #[test]
    fn managed_members_cannot_be_overridden() {
        let (secret, jwk) = recipient();
        let header = JweHeader::new()
            .with_member("alg", Value::from("dir"))
            .with_member("enc", Value::from("A128CBC-HS256"))
            .with_member("zip", Value::from("DEF"));
        let compact = encrypt_compact(
            &crate::crypto::RustCrypto,
            &jwk,
            ContentEncryption::A256Gcm,
            b"x",
            header,
        )
        .unwrap();
        let (header, _) =
            decrypt_compact(&crate::crypto::RustCrypto, &compact, &secret, &BOTH).unwrap();
        assert_eq!(header.enc(), Some(ContentEncryption::A256Gcm));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        #[test]
        fn rfc7516_round_trip_and_any_flipped_bit_fails(
            plaintext in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            flip in proptest::prelude::any::<usize>(),
            bit in 0u8..8,
        ) {
            let (secret, jwk) = recipient();
            let compact = encrypt_compact(&crate::crypto::RustCrypto, &jwk, ContentEncryption::A128Gcm, &plaintext, JweHeader::new()).unwrap();
            let (_, back) = decrypt_compact(&crate::crypto::RustCrypto, &compact, &secret, &BOTH).unwrap();
            proptest::prop_assert_eq!(&back, &plaintext);
            // Flip one bit of the decoded IV, ciphertext or tag: never accepted.
            let mut p = parts(&compact);
            let candidates: Vec<usize> = (2..5).filter(|i| !p[*i].is_empty()).collect();
            let index = candidates[flip % candidates.len()];
            let mut bytes = b64::decode(&p[index]).unwrap();
            let at = (flip / 3) % bytes.len();
            bytes[at] ^= 1 << bit;
            p[index] = b64::encode(bytes);
            proptest::prop_assert_eq!(
                decrypt_compact(&crate::crypto::RustCrypto, &p.join("."), &secret, &BOTH).unwrap_err(),
                JoseError::DecryptionFailed
            );
        }
    }

    #[test]
    fn content_encryption_names_round_trip() {
        for enc in BOTH {
            assert_eq!(ContentEncryption::from_name(enc.name()), Some(enc));
            assert_eq!(enc.to_string(), enc.name());
        }
        assert_eq!(ContentEncryption::from_name("A128CBC-HS256"), None);
    }
}
