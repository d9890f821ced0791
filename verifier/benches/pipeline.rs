#![allow(clippy::unwrap_used)] // A benchmark fixture: a failure is a broken benchmark.
//! One accountable check in process — the wallet's `direct_post.jwt` body decrypted, the
//! SD-JWT VC and its KB-JWT verified, our DCQL query checked, the status read from a cached
//! list (`verify_response`), then the pseudonym, the escrow record sealed to the court and
//! the attestation signed — beside its cryptographic floor, measured in the same run with the
//! same provider (`AwsLc`): one P-256 ECDH (the JWE's key agreement), two ES256
//! verifications (issuer JWT and KB-JWT, on their real signing inputs), one HPKE seal
//! (X25519, of the same record) and one ES256 signature (of an attestation's signing input).
//!
//! Goal (issue 5): the pipeline within 1.3 × its floor.

use std::hint::black_box;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential_formats::claims_path::ClaimsPath;
use credential_formats::credentials::CredentialType;
use credential_formats::crypto::{
    AwsLc, CryptoProvider, PublicKey, SecretKey, SignatureAlgorithm, Signer,
};
use credential_formats::dcql::DcqlQuery;
use credential_formats::jose::{
    ContentEncryption, JweHeader, Jwk, decrypt_compact, encrypt_compact,
};
use credential_formats::oid4vp::{DirectPostBody, VpToken};
use credential_formats::sd_jwt::{KeyBinding, SdJwt};
use credential_formats::sd_jwt_vc::SdJwtVcBuilder;
use credential_formats::status_list::{StatusBits, StatusList, StatusListToken, StatusReference};
use credential_formats::time::FixedClock;
use credential_formats::trust_list::{EscrowKey, Role, TrustList, TrustListBuilder, TrustedEntity};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use verifier::attestation::{Attestation, Check, DEFAULT_LIFETIME};
use verifier::escrow::{EscrowRecord, generate_escrow_key, seal as seal_escrow};
use verifier::pipeline::{Expectation, IatWindow, VerifiedResponse, verify_response};
use verifier::pseudonym::PseudonymKey;
use verifier::status::{StatusLimits, StatusLists};
use zeroize::Zeroizing;

const NOW: i64 = 1_800_000_000;
const ISSUER_ID: &str = "https://issuer.example.be";
const STATUS_URI: &str = "https://issuer.example.be/status/1";
const CLIENT_ID: &str = "x509_hash:dGVzdC12ZXJpZmllci1jZXJ0aWZpY2F0ZS1oYXNo";
const NONCE: &str = "bm9uY2UtMDEyMzQ1Njc4OWFiY2RlZg";
const STATE: &str = "c3RhdGUtMDEyMzQ1Njc4OWFiY2RlZg";
const PLATFORM: &str = "https://platform.example";
const VERIFIER_URL: &str = "https://verifier.example.be";

struct Fixture {
    body: String,
    trust: TrustList,
    status: StatusLists,
    query: DcqlQuery,
    decryption_key: SecretKey,
    pseudonym_key: PseudonymKey,
    escrow_key: EscrowKey,
    attestation_signer: Box<dyn Signer>,
    // The floor's inputs.
    epk: PublicKey,
    issuer_key: PublicKey,
    holder_key: PublicKey,
    issuer_jws: (Vec<u8>, Vec<u8>),
    kb_jws: (Vec<u8>, Vec<u8>),
    record_plaintext: Vec<u8>,
    attestation_input: Vec<u8>,
}

/// Splits a compact JWS into its signing input and decoded signature.
fn signing_parts(jws: &str) -> (Vec<u8>, Vec<u8>) {
    let (input, signature) = jws.rsplit_once('.').unwrap();
    (
        input.as_bytes().to_vec(),
        URL_SAFE_NO_PAD.decode(signature).unwrap(),
    )
}

fn es256() -> SecretKey {
    SecretKey::generate(SignatureAlgorithm::Es256).unwrap()
}

fn record(handle: &str, pseudonym: &str, evidence_digest: String) -> EscrowRecord {
    EscrowRecord {
        person_handle: handle.to_owned(),
        platform_id: PLATFORM.to_owned(),
        pseudonym: pseudonym.to_owned(),
        account_reference: Some("account-4711".to_owned()),
        check_id: "check-0123456789abcdef".to_owned(),
        time: NOW,
        evidence_digest,
    }
}

fn fixture(runtime: &tokio::runtime::Runtime) -> Fixture {
    let person_vct = CredentialType::PersonAttestation.vct();
    let issuer = es256();
    let holder = es256();
    let (escrow_key, _escrow_secret) = generate_escrow_key(Some("court-1".into())).unwrap();
    let trust = TrustListBuilder::new("https://trust.example.be", NOW - 60, NOW + 86_400, 1)
        .entity(
            TrustedEntity::new(ISSUER_ID, "State", NOW - 86_400, NOW + 86_400)
                .with_key(Jwk::new(issuer.public_key()).with_kid("issuer-1"))
                .with_issuer_role(Role::PersonAttestationIssuer, [person_vct]),
        )
        .entity(
            TrustedEntity::new(
                "https://court.example.be",
                "Court",
                NOW - 86_400,
                NOW + 86_400,
            )
            .with_court_escrow_role(escrow_key.clone()),
        )
        .build()
        .unwrap();
    let issuer_signer = AwsLc.signer(&issuer).unwrap();

    // The person attestation as the issuer makes it: five disclosable claims, three decoys.
    let handle = "cGVyc29uLWhhbmRsZS0wMTIzNDU2Nzg5YWJjZGVmMDEy";
    let mut builder = SdJwtVcBuilder::new(ISSUER_ID, person_vct)
        .kid("issuer-1")
        .issued_at(NOW - 3600)
        .expires_at(NOW + 30 * 86_400)
        .holder_key(Jwk::new(holder.public_key()))
        .status(StatusReference::new(4711, STATUS_URI).unwrap())
        .decoys(3);
    let claims = [
        ("person_handle", json!(handle)),
        ("age_over_16", json!(true)),
        ("age_over_18", json!(true)),
        ("age_over_21", json!(true)),
        ("level_of_assurance", json!("high")),
    ];
    for (name, value) in claims {
        builder = builder
            .claim(name, value)
            .unwrap()
            .disclosable(ClaimsPath::keys([name]).unwrap())
            .unwrap();
    }
    let credential = builder.issue(&*issuer_signer).unwrap();

    // The status list, verified and cached as after a fetch.
    let list = StatusList::with_capacity(StatusBits::One, 1 << 17).unwrap();
    let token = StatusListToken::new(STATUS_URI, NOW - 10, list)
        .unwrap()
        .with_exp(NOW + 86_400)
        .unwrap()
        .with_ttl(3600)
        .unwrap()
        .sign(&*issuer_signer, Some("issuer-1"))
        .unwrap();
    let status = StatusLists::new(None, StatusLimits::default(), Arc::new(AwsLc)).unwrap();
    runtime
        .block_on(status.preload(&token, STATUS_URI, &issuer.public_key(), NOW - 10))
        .unwrap();

    // The wallet's answer to an accountable query.
    let query = DcqlQuery::from_json(json!({"credentials": [{
        "id": "person",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [person_vct]},
        "claims": [{"path": ["age_over_18"], "values": [true]}, {"path": ["person_handle"]}]
    }]}))
    .unwrap();
    let presentation = credential
        .present(&[
            ClaimsPath::keys(["age_over_18"]).unwrap(),
            ClaimsPath::keys(["person_handle"]).unwrap(),
        ])
        .unwrap()
        .bind(
            &KeyBinding::new(CLIENT_ID, NONCE, NOW),
            &*AwsLc.signer(&holder).unwrap(),
        )
        .unwrap()
        .serialize();
    let parsed = SdJwt::parse(&presentation).unwrap();
    let issuer_jws = signing_parts(parsed.issuer_jwt());
    let kb_jws = signing_parts(parsed.key_binding_jwt().unwrap());
    let vp_token = VpToken::new(vec![("person".into(), vec![presentation])]).unwrap();
    let decryption_key = es256();
    let payload = DirectPostBody::encrypted_response_payload(&vp_token, Some(STATE));
    let response = encrypt_compact(
        &AwsLc,
        &Jwk::new(decryption_key.public_key()),
        ContentEncryption::A128Gcm,
        payload.as_bytes(),
        JweHeader::new(),
    )
    .unwrap();
    let (header, _) = decrypt_compact(
        &AwsLc,
        &response,
        &decryption_key,
        &[ContentEncryption::A128Gcm],
    )
    .unwrap();
    let epk = header.epk().unwrap().key().clone();
    let body = DirectPostBody::Encrypted { response }.to_form();

    let pseudonym_key = PseudonymKey::new(Zeroizing::new([7u8; 32]));
    let pseudonym = pseudonym_key.pseudonym(PLATFORM, handle);
    let record_plaintext =
        serde_json::to_vec(&record(handle, &pseudonym, hex(&[0xab; 32]))).unwrap();
    let attestation_signer = AwsLc.signer(&es256()).unwrap();
    let attestation = Attestation::verified(
        VERIFIER_URL,
        PLATFORM,
        "check-0123456789abcdef",
        &[Check::VerifiedPerson, Check::AgeOver18],
        Some(pseudonym),
        NOW,
        DEFAULT_LIFETIME,
    )
    .unwrap()
    .sign(&*attestation_signer, "attestation-1")
    .unwrap();
    let attestation_input = signing_parts(&attestation).0;
    Fixture {
        body,
        trust,
        status,
        query,
        decryption_key,
        pseudonym_key,
        escrow_key,
        attestation_signer,
        epk,
        issuer_key: issuer.public_key(),
        holder_key: holder.public_key(),
        issuer_jws,
        kb_jws,
        record_plaintext,
        attestation_input,
    }
}

impl Fixture {
    fn expectation(&self) -> Expectation<'_> {
        Expectation {
            client_id: CLIENT_ID,
            nonce: NONCE,
            state: Some(STATE),
            query: &self.query,
            decryption_key: Some(&self.decryption_key),
            transaction_data: &[],
            iat_window: IatWindow::default(),
        }
    }

    /// Decrypt, verify, DCQL, status.
    fn verify(&self, runtime: &tokio::runtime::Runtime) -> VerifiedResponse {
        runtime
            .block_on(verify_response(
                black_box(self.body.as_bytes()),
                &self.expectation(),
                &self.trust,
                &self.status,
                &AwsLc,
                &FixedClock(NOW),
            ))
            .unwrap()
    }

    /// The whole accountable check.
    fn check(&self, runtime: &tokio::runtime::Runtime) -> String {
        let verified = self.verify(runtime);
        let person = &verified.credentials[0];
        let handle = person.claims["person_handle"].as_str().unwrap();
        let pseudonym = self.pseudonym_key.pseudonym(PLATFORM, handle);
        let record = record(handle, &pseudonym, hex(&person.evidence_digest));
        let sealed = seal_escrow(&self.escrow_key, &record).unwrap();
        black_box(sealed.to_compact());
        Attestation::verified(
            VERIFIER_URL,
            PLATFORM,
            "check-0123456789abcdef",
            &[Check::VerifiedPerson, Check::AgeOver18],
            Some(pseudonym),
            NOW,
            DEFAULT_LIFETIME,
        )
        .unwrap()
        .sign(&*self.attestation_signer, "attestation-1")
        .unwrap()
    }

    /// The cryptographic floor: the operations no implementation of the check can avoid.
    fn floor(&self) {
        let z = AwsLc.ecdh_p256(&self.decryption_key, &self.epk).unwrap();
        black_box(z);
        let (input, sig) = &self.issuer_jws;
        AwsLc
            .verify(&self.issuer_key, black_box(input), sig)
            .unwrap();
        let (input, sig) = &self.kb_jws;
        AwsLc
            .verify(&self.holder_key, black_box(input), sig)
            .unwrap();
        black_box(hpke_seal(&self.escrow_key, &self.record_plaintext));
        black_box(
            self.attestation_signer
                .sign(black_box(&self.attestation_input))
                .unwrap(),
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// One HPKE base-mode seal with the escrow suite, nothing around it.
fn hpke_seal(key: &EscrowKey, plaintext: &[u8]) -> Vec<u8> {
    use hpke::{Deserializable, aead::ChaCha20Poly1305, kdf::HkdfSha256, kem::X25519HkdfSha256};
    let recipient =
        <X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(key.public_bytes()).unwrap();
    let (_enc, ciphertext) =
        hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
            &hpke::OpModeS::Base,
            &recipient,
            b"escrow-record/v1",
            black_box(plaintext),
            b"aad",
        )
        .unwrap();
    ciphertext
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let fixture = fixture(&runtime);
    // The fixture must pass before it is timed.
    let token = fixture.check(&runtime);
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["result"], "verified");

    let mut group = c.benchmark_group("accountable_check");
    group.bench_function("floor", |b| b.iter(|| fixture.floor()));
    group.bench_function("pipeline", |b| {
        b.iter(|| black_box(fixture.check(&runtime)))
    });
    group.finish();

    // Where the pipeline's time goes, part by part.
    let mut group = c.benchmark_group("parts");
    group.bench_function("verify_response", |b| {
        b.iter(|| black_box(fixture.verify(&runtime)))
    });
    group.bench_function("ecdh_p256", |b| {
        b.iter(|| {
            black_box(
                AwsLc
                    .ecdh_p256(&fixture.decryption_key, &fixture.epk)
                    .unwrap(),
            )
        })
    });
    group.bench_function("two_es256_verifications", |b| {
        b.iter(|| {
            let (input, sig) = &fixture.issuer_jws;
            AwsLc
                .verify(&fixture.issuer_key, black_box(input), sig)
                .unwrap();
            let (input, sig) = &fixture.kb_jws;
            AwsLc
                .verify(&fixture.holder_key, black_box(input), sig)
                .unwrap();
        })
    });
    group.bench_function("pseudonym", |b| {
        b.iter(|| {
            black_box(
                fixture
                    .pseudonym_key
                    .pseudonym(PLATFORM, black_box("handle")),
            )
        })
    });
    group.bench_function("hpke_seal", |b| {
        b.iter(|| black_box(hpke_seal(&fixture.escrow_key, &fixture.record_plaintext)))
    });
    let escrow_record = record("handle", "pseudonym", hex(&[0xab; 32]));
    group.bench_function("seal_escrow", |b| {
        b.iter(|| black_box(seal_escrow(&fixture.escrow_key, &escrow_record).unwrap()))
    });
    group.bench_function("es256_sign", |b| {
        b.iter(|| {
            black_box(
                fixture
                    .attestation_signer
                    .sign(&fixture.attestation_input)
                    .unwrap(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
