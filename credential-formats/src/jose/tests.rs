//! JOSE specification vectors (RFC 7515, 7516, 7518, 7520, 7638, 8037) and the negative cases
//! every verifier must refuse, each over every crypto provider.

use super::jwe::{ContentEncryption, concat_kdf, decrypt_content, encrypt_content};
use super::*;
use crate::b64;
use crate::crypto::{CryptoProvider, PublicKey, RustCrypto, SecretKey, SignatureAlgorithm};
use serde_json::{Value, json};

const RFC7515_A3: &str = include_str!("../../../spec/vectors/rfc7515-a3-es256.json");
const RFC7516_A1: &str =
    include_str!("../../../spec/vectors/rfc7516-a1-rsaes-oaep-aes-256-gcm.json");
const RFC7518_C: &str = include_str!("../../../spec/vectors/rfc7518-appendix-c-ecdh-es.txt");
const RFC7520_5_5: &str =
    include_str!("../../../spec/vectors/rfc7520-5.5-ecdh-es-aes-cbc-hmac-sha2.json");
const RFC7520_5_6: &str =
    include_str!("../../../spec/vectors/rfc7520-5.6-direct-encryption-aes-gcm.json");
const RFC8037_A: &str = include_str!("../../../spec/vectors/rfc8037-a-ed25519.json");
const RFC7638_P256: &str =
    include_str!("../../../spec/vectors/rfc7638-p256-thumbprint-rfc9449-example.json");

pub(crate) fn providers() -> Vec<&'static dyn CryptoProvider> {
    #[allow(unused_mut)]
    let mut out: Vec<&'static dyn CryptoProvider> = vec![&RustCrypto];
    #[cfg(feature = "aws-lc")]
    out.push(&crate::crypto::AwsLc);
    out
}

fn vector(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap()
}

fn bytes_at(value: &Value, pointer: &str) -> Vec<u8> {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|b| u8::try_from(b.as_u64().unwrap()).unwrap())
        .collect()
}

fn b64_at(value: &Value, pointer: &str) -> Vec<u8> {
    b64::decode(str_at(value, pointer)).unwrap()
}

fn p256_secret(jwk: &Value) -> SecretKey {
    let d: [u8; 32] = b64::decode(str_at(jwk, "/d")).unwrap().try_into().unwrap();
    let secret = SecretKey::p256(&d).unwrap();
    let mut public = jwk.clone();
    public.as_object_mut().unwrap().remove("d");
    assert_eq!(
        &secret.public_key(),
        Jwk::from_value(&public).unwrap().key()
    );
    secret
}

/// The octet sequences printed in RFC 7518 Appendix C (Z, OtherInfo, the round 1 hash input,
/// the derived key), read from the vector text; the short length prefixes are skipped.
fn rfc7518_c_arrays() -> Vec<Vec<u8>> {
    let mut arrays = Vec::new();
    let mut rest = RFC7518_C;
    while let Some(start) = rest.find('[') {
        let end = start + rest[start..].find(']').unwrap();
        let inner = &rest[start + 1..end];
        if inner
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace() || c == ',')
            && inner.split(',').count() >= 16
        {
            arrays.push(
                inner
                    .split(',')
                    .map(|n| n.trim().parse::<u8>().unwrap())
                    .collect(),
            );
        }
        rest = &rest[end + 1..];
    }
    arrays
}

fn rfc7518_c_jwk(label: &str) -> Value {
    let at = RFC7518_C.find(label).unwrap();
    let start = at + RFC7518_C[at..].find('{').unwrap();
    let end = start + RFC7518_C[start..].find('}').unwrap() + 1;
    serde_json::from_str(&RFC7518_C[start..end]).unwrap()
}

#[test]
fn rfc7518_appendix_c_ecdh_es_key_agreement() {
    let alice = p256_secret(&rfc7518_c_jwk("Alice's ephemeral key"));
    let bob = p256_secret(&rfc7518_c_jwk("The consumer's (Bob's) key"));
    let arrays = rfc7518_c_arrays();
    let (z_printed, other_info, round1, derived) = (&arrays[0], &arrays[1], &arrays[2], &arrays[3]);
    assert_eq!(z_printed.len(), 32);
    for provider in providers() {
        // Both sides agree on the printed Z.
        let z = provider.ecdh_p256(&alice, &bob.public_key()).unwrap();
        assert_eq!(&z[..], &z_printed[..], "{}", provider.name());
        let z = provider.ecdh_p256(&bob, &alice.public_key()).unwrap();
        assert_eq!(&z[..], &z_printed[..], "{}", provider.name());
        let key = concat_kdf(&z[..], b"A128GCM", b"Alice", b"Bob", 16).unwrap();
        assert_eq!(&key[..], &derived[..]);
        assert_eq!(b64::encode(&key[..]), "VqqN6vgjbSBcIijNcacQGg");
    }
    // The printed round-1 hash input is 1 ‖ Z ‖ OtherInfo, and its SHA-256 starts with the key.
    let mut input = vec![0, 0, 0, 1];
    input.extend_from_slice(z_printed);
    input.extend_from_slice(other_info);
    assert_eq!(&input, round1);
    use sha2::Digest as _;
    assert_eq!(&sha2::Sha256::digest(&input)[..16], &derived[..]);
}

#[test]
fn rfc7518_appendix_c_header_epk_decodes_as_the_ephemeral_key() {
    let at = RFC7518_C.find("{\"alg\":\"ECDH-ES\"").unwrap();
    let end = at + RFC7518_C[at..].find("}\n     }").unwrap() + 8;
    let header: Value = serde_json::from_str(&RFC7518_C[at..end]).unwrap();
    let epk = Jwk::from_value(&header["epk"]).unwrap();
    let alice = p256_secret(&rfc7518_c_jwk("Alice's ephemeral key"));
    assert_eq!(epk.key(), &alice.public_key());
    assert_eq!(b64::decode(str_at(&header, "/apu")).unwrap(), b"Alice");
    assert_eq!(b64::decode(str_at(&header, "/apv")).unwrap(), b"Bob");
}

#[test]
fn rfc7520_5_5_ecdh_es_derives_the_printed_256_bit_cek() {
    // The content encryption (A128CBC-HS256) is not ours, but the key agreement and the
    // 256-bit Concat KDF output are, with an AlgorithmID other than ours and no apu/apv.
    let v = vector(RFC7520_5_5);
    let recipient = p256_secret(&v["input"]["key"]);
    let ephemeral = p256_secret(&v["encrypting_key"]["epk"]);
    for provider in providers() {
        let z = provider
            .ecdh_p256(&recipient, &ephemeral.public_key())
            .unwrap();
        let cek = concat_kdf(&z[..], b"A128CBC-HS256", b"", b"", 32).unwrap();
        assert_eq!(&cek[..], &b64_at(&v, "/encrypting_key/cek")[..]);
    }
    // Our decrypter reads the header, then refuses the content encryption algorithm.
    assert_eq!(
        decrypt_compact(
            &RustCrypto,
            str_at(&v, "/output/compact"),
            &recipient,
            &[ContentEncryption::A128Gcm, ContentEncryption::A256Gcm],
        )
        .unwrap_err(),
        JoseError::EncryptionNotAllowed
    );
}

#[test]
fn rfc7520_5_6_a128gcm_content_encryption_byte_for_byte() {
    let v = vector(RFC7520_5_6);
    let cek = b64_at(&v, "/input/key/k");
    let iv: [u8; 12] = b64_at(&v, "/generated/iv").try_into().unwrap();
    let aad = str_at(&v, "/encrypting_content/protected_b64u");
    let mut buffer = str_at(&v, "/input/plaintext").as_bytes().to_vec();
    let tag = encrypt_content(
        ContentEncryption::A128Gcm,
        &cek,
        &iv,
        aad.as_bytes(),
        &mut buffer,
    )
    .unwrap();
    assert_eq!(buffer, b64_at(&v, "/encrypting_content/ciphertext"));
    assert_eq!(tag.to_vec(), b64_at(&v, "/encrypting_content/tag"));
    let compact = format!(
        "{aad}..{}.{}.{}",
        b64::encode(iv),
        b64::encode(&buffer),
        b64::encode(tag)
    );
    assert_eq!(compact, str_at(&v, "/output/compact"));
    decrypt_content(
        ContentEncryption::A128Gcm,
        &cek,
        &iv,
        aad.as_bytes(),
        &mut buffer,
        &tag,
    )
    .unwrap();
    assert_eq!(buffer, str_at(&v, "/input/plaintext").as_bytes());
}

#[test]
fn rfc7516_a1_a256gcm_content_encryption_byte_for_byte() {
    let v = vector(RFC7516_A1);
    let iv: [u8; 12] = bytes_at(&v, "/iv").try_into().unwrap();
    let aad = bytes_at(&v, "/aad");
    assert_eq!(aad, str_at(&v, "/protected_b64u").as_bytes());
    let mut buffer = str_at(&v, "/plaintext").as_bytes().to_vec();
    let tag = encrypt_content(
        ContentEncryption::A256Gcm,
        &bytes_at(&v, "/cek"),
        &iv,
        &aad,
        &mut buffer,
    )
    .unwrap();
    assert_eq!(buffer, bytes_at(&v, "/ciphertext"));
    assert_eq!(tag.to_vec(), bytes_at(&v, "/tag"));
    let compact = str_at(&v, "/compact");
    assert!(compact.ends_with(&format!(
        ".{}.{}.{}",
        b64::encode(iv),
        b64::encode(&buffer),
        b64::encode(tag)
    )));
    // The whole JWE is refused for its RSA key management before anything else.
    let anyone = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    assert_eq!(
        decrypt_compact(&RustCrypto, compact, &anyone, &[ContentEncryption::A256Gcm]).unwrap_err(),
        JoseError::AlgorithmNotAllowed
    );
}

#[test]
fn rfc7515_a3_es256_verifies_and_our_signatures_verify_with_the_same_key() {
    let v = vector(RFC7515_A3);
    let secret = p256_secret(&v["key"]);
    let key = secret.public_key();
    let compact = str_at(&v, "/compact");
    for provider in providers() {
        let verified = DecodedJws::decode(compact)
            .unwrap()
            .verify_any_typ(provider, &key)
            .unwrap();
        assert_eq!(
            verified,
            b64::decode(str_at(&v, "/payload_b64u")).unwrap(),
            "{}",
            provider.name()
        );
        // Our own ES256 signatures with the printed private key verify under every provider.
        let signer = provider.signer(&secret).unwrap();
        let ours = sign_compact(&JwsHeader::new("JWT"), b"{\"iss\":\"joe\"}", &*signer).unwrap();
        for verifier in providers() {
            DecodedJws::decode(&ours)
                .unwrap()
                .verify(verifier, &key, "JWT")
                .unwrap();
        }
        // Any change to the payload breaks the signature.
        let parts: Vec<&str> = compact.split('.').collect();
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            b64::encode(b"{\"iss\":\"eve\"}"),
            parts[2]
        );
        assert_eq!(
            DecodedJws::decode(&tampered)
                .unwrap()
                .verify_any_typ(provider, &key)
                .unwrap_err(),
            JoseError::InvalidSignature
        );
    }
}

/// RFC 7515's A.3 example has no `typ`; our `verify` insists on one, so vectors are checked
/// by comparing the signature verdict alone.
trait VerifyAnyTyp {
    fn verify_any_typ(
        self,
        provider: &dyn CryptoProvider,
        key: &PublicKey,
    ) -> Result<Vec<u8>, JoseError>;
}

impl VerifyAnyTyp for DecodedJws {
    fn verify_any_typ(
        self,
        provider: &dyn CryptoProvider,
        key: &PublicKey,
    ) -> Result<Vec<u8>, JoseError> {
        let payload = self.unverified_payload().to_vec();
        match self.verify(provider, key, "no-typ-expected") {
            Ok(_) | Err(JoseError::UnexpectedType { .. }) => Ok(payload),
            Err(other) => Err(other),
        }
    }
}

#[test]
fn rfc8037_a1_a2_keys_and_a3_thumbprint() {
    let v = vector(RFC8037_A);
    let private = PrivateJwk::from_json(&v["private_key"].to_string()).unwrap();
    let public = Jwk::from_value(&v["public_key"]).unwrap();
    assert_eq!(private.public().key(), public.key());
    assert_eq!(public.thumbprint(), str_at(&v, "/thumbprint"));
    assert_eq!(
        public.thumbprint(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
    // The public JWK refuses the private one.
    assert_eq!(
        Jwk::from_value(&v["private_key"]).unwrap_err(),
        JoseError::PrivateKeyMaterial
    );
}

#[test]
fn rfc8037_a4_ed25519_signature_byte_for_byte_and_a5_verification() {
    let v = vector(RFC8037_A);
    let private = PrivateJwk::from_json(&v["private_key"].to_string()).unwrap();
    let public = Jwk::from_value(&v["public_key"]).unwrap();
    for provider in providers() {
        let signer = provider.signer(private.secret()).unwrap();
        let signature = signer
            .sign(str_at(&v, "/signing_input").as_bytes())
            .unwrap();
        assert_eq!(
            b64::encode(&signature),
            str_at(&v, "/signature"),
            "{}",
            provider.name()
        );
        let payload = DecodedJws::decode(str_at(&v, "/compact"))
            .unwrap()
            .verify_any_typ(provider, public.key())
            .unwrap();
        assert_eq!(payload, str_at(&v, "/payload").as_bytes());
    }
}

#[test]
fn rfc7638_p256_thumbprint_from_rfc9449_example() {
    let v = vector(RFC7638_P256);
    let jwk = Jwk::from_value(&v["public_key"]).unwrap();
    assert_eq!(jwk.thumbprint(), str_at(&v, "/thumbprint"));
    // Optional members do not change the thumbprint (RFC 7638 §3.2).
    let with_extras = jwk.clone().with_kid("k1").with_use("sig").with_alg("ES256");
    assert_eq!(with_extras.thumbprint(), jwk.thumbprint());
    // The RFC 9449 example proof is an ES256 JWS signed by that key.
    for provider in providers() {
        DecodedJws::decode(str_at(&v, "/dpop_proof"))
            .unwrap()
            .verify(provider, jwk.key(), "dpop+jwt")
            .unwrap();
    }
}

// --- Negative JWS cases -----------------------------------------------------------------

fn es256_key() -> (SecretKey, PublicKey) {
    let v = vector(RFC7515_A3);
    let secret = p256_secret(&v["key"]);
    let public = secret.public_key();
    (secret, public)
}

fn ed25519_key() -> (SecretKey, PublicKey) {
    let v = vector(RFC8037_A);
    let private = PrivateJwk::from_json(&v["private_key"].to_string()).unwrap();
    let secret = private.secret().clone();
    let public = secret.public_key();
    (secret, public)
}

fn token(header: &Value, payload: &[u8], signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64::encode(header.to_string()),
        b64::encode(payload),
        b64::encode(signature)
    )
}

fn signed(header: &Value, payload: &[u8], secret: &SecretKey) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(header.to_string()),
        b64::encode(payload)
    );
    let signature = RustCrypto
        .signer(secret)
        .unwrap()
        .sign(input.as_bytes())
        .unwrap();
    format!("{input}.{}", b64::encode(signature))
}

fn verify_err(compact: &str, provider: &dyn CryptoProvider, key: &PublicKey) -> JoseError {
    match DecodedJws::decode(compact) {
        Err(err) => err,
        Ok(jws) => jws.verify(provider, key, "JWT").unwrap_err(),
    }
}

#[test]
fn rfc8725_3_1_alg_none_hmac_rsa_and_es384_are_refused() {
    let (_, key) = es256_key();
    let payload = br#"{"iss":"x"}"#;
    for provider in providers() {
        for alg in ["none", "HS256", "RS256", "ES384", "PS256", "ES256K"] {
            let jws = token(&json!({"alg": alg, "typ": "JWT"}), payload, b"");
            assert_eq!(
                verify_err(&jws, provider, &key),
                JoseError::AlgorithmNotAllowed,
                "{alg}"
            );
        }
        // HS256 with the public key bytes as the MAC secret (CVE-2016-10555): refused by name
        // before any MAC could be computed.
        let jws = token(&json!({"alg": "HS256", "typ": "JWT"}), payload, &[0u8; 32]);
        assert_eq!(
            verify_err(&jws, provider, &key),
            JoseError::AlgorithmNotAllowed
        );
        let jws = token(&json!({"typ": "JWT"}), payload, b"");
        assert_eq!(
            verify_err(&jws, provider, &key),
            JoseError::MissingAlgorithm
        );
        let jws = token(&json!({"alg": 7, "typ": "JWT"}), payload, b"");
        assert_eq!(
            verify_err(&jws, provider, &key),
            JoseError::InvalidHeader("alg")
        );
    }
}

#[test]
fn rfc7515_4_1_1_algorithm_must_match_the_key_type() {
    let (es_secret, es_public) = es256_key();
    let (ed_secret, ed_public) = ed25519_key();
    let payload = br#"{"iss":"x"}"#;
    for provider in providers() {
        // An ES256 header with an Ed25519 key and the other way round.
        let jws = signed(&json!({"alg": "ES256", "typ": "JWT"}), payload, &es_secret);
        assert_eq!(
            verify_err(&jws, provider, &ed_public),
            JoseError::AlgorithmKeyMismatch
        );
        let jws = signed(&json!({"alg": "EdDSA", "typ": "JWT"}), payload, &ed_secret);
        assert_eq!(
            verify_err(&jws, provider, &es_public),
            JoseError::AlgorithmKeyMismatch
        );
        // An Ed25519 signature under a header lying that it is ES256.
        let jws = signed(&json!({"alg": "ES256", "typ": "JWT"}), payload, &ed_secret);
        assert_eq!(
            verify_err(&jws, provider, &es_public),
            JoseError::InvalidSignature
        );
    }
}

#[test]
fn rfc7515_4_1_11_crit_is_refused_whether_unknown_or_empty() {
    let (secret, key) = es256_key();
    for provider in providers() {
        for crit in [json!(["exp"]), json!([]), json!("b64"), json!(null)] {
            let jws = signed(
                &json!({"alg": "ES256", "typ": "JWT", "crit": crit}),
                b"{}",
                &secret,
            );
            assert_eq!(
                verify_err(&jws, provider, &key),
                JoseError::UnsupportedCritical,
                "{crit}"
            );
        }
    }
}

#[test]
fn rfc7515_4_1_9_typ_is_compared_case_insensitively_with_optional_application_prefix() {
    let (secret, key) = es256_key();
    for provider in providers() {
        for typ in [
            "dc+sd-jwt",
            "DC+SD-JWT",
            "application/dc+sd-jwt",
            "Application/DC+SD-JWT",
        ] {
            let jws = signed(&json!({"alg": "ES256", "typ": typ}), b"{}", &secret);
            DecodedJws::decode(&jws)
                .unwrap()
                .verify(provider, &key, "dc+sd-jwt")
                .unwrap();
        }
        for typ in [
            json!("JWT"),
            json!("vc+sd-jwt"),
            json!("application/x/dc+sd-jwt"),
        ] {
            let jws = signed(&json!({"alg": "ES256", "typ": typ}), b"{}", &secret);
            assert_eq!(
                DecodedJws::decode(&jws)
                    .unwrap()
                    .verify(provider, &key, "dc+sd-jwt")
                    .unwrap_err(),
                JoseError::UnexpectedType {
                    expected: "dc+sd-jwt"
                }
            );
        }
        let jws = signed(&json!({"alg": "ES256"}), b"{}", &secret);
        assert!(matches!(
            DecodedJws::decode(&jws)
                .unwrap()
                .verify(provider, &key, "dc+sd-jwt"),
            Err(JoseError::UnexpectedType { .. })
        ));
    }
}

#[test]
fn cve_2022_21449_zero_and_out_of_range_ecdsa_signatures_are_refused() {
    let (_, key) = es256_key();
    // The P-256 group order n.
    let n = hex32("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let one = {
        let mut b = [0u8; 32];
        b[31] = 1;
        b
    };
    let header = json!({"alg": "ES256", "typ": "JWT"});
    for provider in providers() {
        let cases: [(&str, Vec<u8>); 6] = [
            ("r = s = 0", [[0u8; 32], [0u8; 32]].concat()),
            ("r = n", [n, one].concat()),
            ("s = n", [one, n].concat()),
            ("r = s = n", [n, n].concat()),
            ("r, s = 0xff..", vec![0xff; 64]),
            ("truncated", vec![1u8; 63]),
        ];
        for (name, signature) in cases {
            let jws = token(&header, b"{}", &signature);
            assert_eq!(
                verify_err(&jws, provider, &key),
                JoseError::InvalidSignature,
                "{name} with {}",
                provider.name()
            );
        }
        // A valid signature cut short, and one with a byte appended.
        let (secret, _) = es256_key();
        let good = signed(&header, b"{}", &secret);
        let (input, sig) = good.rsplit_once('.').unwrap();
        let mut sig = b64::decode(sig).unwrap();
        sig.pop();
        let short = format!("{input}.{}", b64::encode(&sig));
        assert_eq!(
            verify_err(&short, provider, &key),
            JoseError::InvalidSignature
        );
        sig.extend([0, 0]);
        let long = format!("{input}.{}", b64::encode(&sig));
        assert_eq!(
            verify_err(&long, provider, &key),
            JoseError::InvalidSignature
        );
    }
}

fn hex32(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

#[test]
fn rfc7515_7_1_compact_serialization_is_parsed_strictly() {
    let (secret, key) = es256_key();
    let good = signed(&json!({"alg": "ES256", "typ": "JWT"}), b"{}", &secret);
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    for provider in providers() {
        // 2 and 4 parts.
        assert_eq!(
            verify_err(&format!("{h}.{p}"), provider, &key),
            JoseError::WrongPartCount { expected: 3 }
        );
        assert_eq!(
            verify_err(&format!("{good}.{s}"), provider, &key),
            JoseError::WrongPartCount { expected: 3 }
        );
        // Padding, the standard alphabet, and characters outside any alphabet.
        assert_eq!(
            verify_err(&format!("{h}=.{p}.{s}"), provider, &key),
            JoseError::Base64("JWS header")
        );
        assert_eq!(
            verify_err(&format!("{h}.{p}==.{s}"), provider, &key),
            JoseError::Base64("JWS payload")
        );
        assert_eq!(
            verify_err(&format!("{h}.e30+.{s}"), provider, &key),
            JoseError::Base64("JWS payload")
        );
        assert_eq!(
            verify_err(&format!("{h}.{p}.{s}="), provider, &key),
            JoseError::Base64("JWS signature")
        );
        assert_eq!(
            verify_err(&format!("{h}.{p}.!{s}"), provider, &key),
            JoseError::Base64("JWS signature")
        );
        // Duplicate member names in the header, a header that is not an object, not JSON.
        let dup = format!(
            "{}.{p}.{s}",
            b64::encode(r#"{"alg":"ES256","alg":"none","typ":"JWT"}"#)
        );
        assert_eq!(
            verify_err(&dup, provider, &key),
            JoseError::Json {
                part: "JWS header",
                source: crate::json::JsonError::DuplicateMember
            }
        );
        let array = format!("{}.{p}.{s}", b64::encode(r#"["ES256"]"#));
        assert_eq!(
            verify_err(&array, provider, &key),
            JoseError::InvalidHeader("header is not an object")
        );
        let not_json = format!("{}.{p}.{s}", b64::encode("alg=ES256"));
        assert!(matches!(
            verify_err(&not_json, provider, &key),
            JoseError::Json {
                part: "JWS header",
                ..
            }
        ));
        // Over the size limit, refused before decoding.
        let huge = "a".repeat(MAX_COMPACT_LEN + 1);
        assert!(matches!(
            verify_err(&huge, provider, &key),
            JoseError::TooLarge { .. }
        ));
    }
}

#[test]
fn rfc7517_public_jwks_are_validated_on_decode() {
    let (_, key) = es256_key();
    let PublicKey::P256 { x, y } = key else {
        unreachable!()
    };
    let good = json!({"kty": "EC", "crv": "P-256", "x": b64::encode(x), "y": b64::encode(y)});
    assert!(Jwk::from_value(&good).is_ok());
    let with = |name: &str, value: Value| {
        let mut jwk = good.clone();
        jwk[name] = value;
        Jwk::from_value(&jwk).unwrap_err()
    };
    // Private key material where only a public key may be.
    assert_eq!(
        with("d", json!(b64::encode([1u8; 32]))),
        JoseError::PrivateKeyMaterial
    );
    // Wrong curve, wrong key types.
    assert_eq!(
        with("crv", json!("P-384")),
        JoseError::InvalidKey("unsupported curve")
    );
    assert_eq!(
        with("crv", json!("secp256k1")),
        JoseError::InvalidKey("unsupported curve")
    );
    assert_eq!(
        with("kty", json!("RSA")),
        JoseError::InvalidKey("unsupported key type")
    );
    assert_eq!(
        Jwk::from_value(&json!({"kty": "oct", "k": "c2VjcmV0"})).unwrap_err(),
        JoseError::PrivateKeyMaterial
    );
    assert_eq!(
        Jwk::from_value(&json!({"kty": "oct"})).unwrap_err(),
        JoseError::InvalidKey("unsupported key type")
    );
    // A point off the curve (y + 1), and coordinates of the wrong length.
    let mut off = y;
    off[31] ^= 1;
    assert_eq!(
        with("y", json!(b64::encode(off))),
        JoseError::InvalidKey("P-256 point")
    );
    assert_eq!(
        with("x", json!(b64::encode([7u8; 31]))),
        JoseError::InvalidKey("JWK x")
    );
    assert_eq!(
        with("y", json!(b64::encode([7u8; 33]))),
        JoseError::InvalidKey("JWK y")
    );
    assert_eq!(with("x", json!("AQ==")), JoseError::Base64("JWK x"));
    // An `alg` for another key type.
    assert_eq!(with("alg", json!("EdDSA")), JoseError::AlgorithmKeyMismatch);
}

#[test]
fn rfc8037_2_okp_jwks_are_validated_on_decode() {
    let (_, key) = ed25519_key();
    let PublicKey::Ed25519(x) = key else {
        unreachable!()
    };
    let good = json!({"kty": "OKP", "crv": "Ed25519", "x": b64::encode(x)});
    assert!(Jwk::from_value(&good).is_ok());
    let mut with_y = good.clone();
    with_y["y"] = json!(b64::encode(x));
    assert_eq!(
        Jwk::from_value(&with_y).unwrap_err(),
        JoseError::InvalidKey("OKP JWK with y")
    );
    let mut x448 = good.clone();
    x448["crv"] = json!("X25519");
    assert_eq!(
        Jwk::from_value(&x448).unwrap_err(),
        JoseError::InvalidKey("unsupported curve")
    );
    // The identity point is a small-order key.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut weak = good.clone();
    weak["x"] = json!(b64::encode(identity));
    assert!(matches!(
        Jwk::from_value(&weak).unwrap_err(),
        JoseError::InvalidKey(_)
    ));
}
