#![allow(clippy::unwrap_used)] // A benchmark fixture: a failure is a broken benchmark.
//! What one presentation check costs: an SD-JWT VC with 10 disclosures and its KB-JWT,
//! verified as the verifier does, beside bare ES256 verifications by the same provider in the
//! same run. The goal (spec/performance.md): with the fast provider, the whole check costs at
//! most 1.15 × two ES256 verifications.

use credential_formats::claims_path::ClaimsPath;
use credential_formats::crypto::{
    AwsLc, CryptoProvider, RustCrypto, SecretKey, SignatureAlgorithm,
};
use credential_formats::jose::Jwk;
use credential_formats::sd_jwt::{KeyBinding, KeyBindingPolicy, KeyBindingRequirements, SdJwt};
use credential_formats::sd_jwt_vc::{self, SdJwtVcBuilder, VcVerification};
use credential_formats::status_list::StatusReference;
use credential_formats::time::FixedClock;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use std::hint::black_box;

const NOW: i64 = 1_790_000_000;

struct Fixture {
    presentation: String,
    issuer_key: credential_formats::crypto::PublicKey,
    holder_key: credential_formats::crypto::PublicKey,
    message: Vec<u8>,
    signature: Vec<u8>,
    /// The issuer JWT's and the KB-JWT's signing inputs and signatures: the two ES256
    /// verifications the check itself contains, on the same bytes.
    issuer_jws: (Vec<u8>, Vec<u8>),
    kb_jws: (Vec<u8>, Vec<u8>),
}

/// Splits a compact JWS into its signing input and decoded signature.
fn signing_parts(jws: &str) -> (Vec<u8>, Vec<u8>) {
    use base64::Engine as _;
    let (input, signature) = jws.rsplit_once('.').unwrap();
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap();
    (input.as_bytes().to_vec(), signature)
}

fn fixture() -> Fixture {
    let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let holder = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let issuer_signer = RustCrypto.signer(&issuer).unwrap();
    let holder_signer = RustCrypto.signer(&holder).unwrap();
    let mut builder = SdJwtVcBuilder::new("https://issuer.example.be", "urn:eudi:pid:1")
        .issued_at(NOW - 60)
        .expires_at(NOW + 86_400)
        .holder_key(Jwk::new(holder.public_key()))
        .status(StatusReference::new(4711, "https://issuer.example.be/status/1").unwrap());
    let claims = [
        ("family_name", json!("Peeters")),
        ("given_name", json!("Marie")),
        ("birthdate", json!("1990-04-01")),
        ("nationalities", json!(["BE"])),
        ("personal_administrative_number", json!("90040112345")),
        ("issuing_authority", json!("BE")),
        ("issuing_country", json!("BE")),
        ("place_of_birth", json!({"locality": "Namur"})),
        (
            "address",
            json!({"locality": "Liège", "postal_code": "4000"}),
        ),
        ("age_over_18", json!(true)),
    ];
    let mut paths = Vec::new();
    for (name, value) in claims {
        builder = builder.claim(name, value).unwrap();
        let path = ClaimsPath::keys([name]).unwrap();
        builder = builder.disclosable(path.clone()).unwrap();
        paths.push(path);
    }
    let issued = builder.decoys(4).issue(&*issuer_signer).unwrap();
    let presentation = issued
        .present(&paths)
        .unwrap()
        .bind(
            &KeyBinding::new("x509_hash:verifier", "nonce-0123456789abcdef", NOW),
            &*holder_signer,
        )
        .unwrap()
        .serialize();
    let message = b"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIn0".to_vec();
    let signature = issuer_signer.sign(&message).unwrap();
    let parsed = SdJwt::parse(&presentation).unwrap();
    let issuer_jws = signing_parts(parsed.issuer_jwt());
    let kb_jws = signing_parts(parsed.key_binding_jwt().unwrap());
    Fixture {
        presentation,
        issuer_key: issuer.public_key(),
        holder_key: holder.public_key(),
        message,
        signature,
        issuer_jws,
        kb_jws,
    }
}

fn check(fixture: &Fixture, provider: &dyn CryptoProvider) {
    let clock = FixedClock(NOW);
    let policy = KeyBindingPolicy::Required(KeyBindingRequirements::new(
        "x509_hash:verifier",
        "nonce-0123456789abcdef",
    ));
    let sd_jwt = SdJwt::parse(black_box(&fixture.presentation)).unwrap();
    let verified = sd_jwt_vc::verify(
        &sd_jwt,
        &fixture.issuer_key,
        provider,
        &VcVerification::new(policy, &clock),
    )
    .unwrap();
    assert_eq!(verified.disclosed_paths().len(), 10);
    black_box(verified);
}

fn bench(c: &mut Criterion) {
    let fixture = fixture();
    let providers: [&dyn CryptoProvider; 2] = [&AwsLc, &RustCrypto];
    for provider in providers {
        let mut group = c.benchmark_group(provider.name());
        group.bench_function("es256_verify", |b| {
            b.iter(|| {
                provider
                    .verify(
                        &fixture.issuer_key,
                        black_box(&fixture.message),
                        black_box(&fixture.signature),
                    )
                    .unwrap()
            })
        });
        group.bench_function("its_two_es256_verifications", |b| {
            b.iter(|| {
                let (input, sig) = &fixture.issuer_jws;
                provider
                    .verify(&fixture.issuer_key, black_box(input), sig)
                    .unwrap();
                let (input, sig) = &fixture.kb_jws;
                provider
                    .verify(&fixture.holder_key, black_box(input), sig)
                    .unwrap();
            })
        });
        group.bench_function("sd_jwt_vc_10_disclosures_with_kb", |b| {
            b.iter(|| check(&fixture, provider))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
