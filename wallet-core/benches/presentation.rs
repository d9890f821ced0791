//! Building a presentation, network excluded: find the credential (store), evaluate the
//! DCQL query, keep only the disclosures asked for, sign the KB-JWT with a key from the key
//! store, and encrypt the response for `direct_post.jwt`. Goal: ≤ 2 ms.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::{Arc, Mutex};

use credential_formats::claims_path::ClaimsPath;
use credential_formats::crypto::{CryptoProvider, RustCrypto, SecretKey, SignatureAlgorithm};
use credential_formats::dcql::{CredentialView, DcqlQuery};
use credential_formats::jose::{ContentEncryption, JweHeader, Jwk, encrypt_compact};
use credential_formats::oid4vp::{DirectPostBody, VpToken};
use credential_formats::sd_jwt::{KeyBinding, SdJwt};
use credential_formats::sd_jwt_vc::SdJwtVcBuilder;
use credential_formats::status_list::StatusReference;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use wallet_core::{AliasSigner, KeyStore, NewCredential, SoftwareKeyStore, Store};
use zeroize::Zeroizing;

const NOW: i64 = 1_795_953_600;
const VCT: &str = "urn:be:identity:person-attestation:1";

struct View {
    vct: String,
    claims: Value,
}

impl CredentialView for View {
    fn format(&self) -> &str {
        "dc+sd-jwt"
    }
    fn vct(&self) -> Option<&str> {
        Some(&self.vct)
    }
    fn doctype(&self) -> Option<&str> {
        None
    }
    fn claims(&self) -> &Value {
        &self.claims
    }
    fn supports_holder_binding(&self) -> bool {
        true
    }
}

fn presentation(c: &mut Criterion) {
    let store = Arc::new(Mutex::new(
        Store::open_in_memory(Zeroizing::new([1u8; 32])).unwrap(),
    ));
    let keys: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::new(store.clone()));
    // A person attestation issued to a key of the wallet, as the issuer makes them.
    let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let holder = keys.generate("holder-1").unwrap();
    let claims = json!({
        "person_handle": "MgRabVtlyMVkk_089mdNmhFYwa9Rskus2VFpp_Wqbr8",
        "age_over_16": true, "age_over_18": true, "age_over_21": false,
        "level_of_assurance": "high"
    });
    let mut builder = SdJwtVcBuilder::new("https://issuer.example", VCT)
        .issued_at(NOW)
        .expires_at(NOW + 86_400)
        .holder_key(Jwk::new(holder))
        .kid("k1")
        .status(StatusReference::new(7, "https://issuer.example/status/1").unwrap())
        .decoys(3);
    for (name, value) in claims.as_object().unwrap() {
        builder = builder
            .claim(name.clone(), value.clone())
            .unwrap()
            .disclosable(ClaimsPath::keys([name.clone()]).unwrap())
            .unwrap();
    }
    let compact = builder
        .issue(&*RustCrypto.signer(&issuer).unwrap())
        .unwrap()
        .serialize();
    let batch: Vec<NewCredential> = (0..10)
        .map(|_| NewCredential {
            batch_id: "batch-1".into(),
            vct: VCT.into(),
            issuer: "https://issuer.example".into(),
            compact: compact.clone(),
            key_alias: "holder-1".into(),
            claims: claims.as_object().unwrap().clone(),
            issued_at: Some(NOW),
            expires_at: Some(NOW + 86_400),
            single_use: true,
            status: None,
        })
        .collect();
    store.lock().unwrap().save_batch(&batch, NOW).unwrap();
    let query = DcqlQuery::parse(
        json!({"credentials": [{"id": "age", "format": "dc+sd-jwt",
            "meta": {"vct_values": [VCT]},
            "claims": [{"path": ["age_over_18"], "values": [true]}]}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let verifier_key = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let verifier_jwk = Jwk::new(verifier_key.public_key())
        .with_use("enc")
        .with_alg("ECDH-ES");

    c.bench_function(
        "build an age_over_18 presentation for direct_post.jwt",
        |b| {
            b.iter(|| {
                // The wallet's steps, in the order `PresentationSession` takes them.
                let listed = store.lock().unwrap().batches().unwrap();
                let views: Vec<View> = listed
                    .iter()
                    .map(|(c, _)| View {
                        vct: c.vct.clone(),
                        claims: Value::Object(c.claims.clone()),
                    })
                    .collect();
                let refs: Vec<&dyn CredentialView> = views.iter().map(|v| v as _).collect();
                let result = query.evaluate(&refs);
                let chosen = &result.preselection[0];
                let copy = store
                    .lock()
                    .unwrap()
                    .credential(&listed[chosen.candidate.credential].0.id)
                    .unwrap()
                    .unwrap();
                let signer = AliasSigner::new(keys.clone(), copy.key_alias.clone()).unwrap();
                let presented = SdJwt::parse(&copy.compact)
                    .unwrap()
                    .present(&chosen.candidate.disclose)
                    .unwrap()
                    .bind(
                        &KeyBinding::new("x509_hash:verifier", "n-0S6_WzA2Mj", NOW),
                        &signer,
                    )
                    .unwrap()
                    .serialize();
                let vp_token = VpToken::new(vec![("age".into(), vec![presented])]).unwrap();
                let payload =
                    DirectPostBody::encrypted_response_payload(&vp_token, Some("state-1"));
                encrypt_compact(
                    &RustCrypto,
                    &verifier_jwk,
                    ContentEncryption::A128Gcm,
                    payload.as_bytes(),
                    JweHeader::new(),
                )
                .unwrap()
            });
        },
    );
}

criterion_group!(benches, presentation);
criterion_main!(benches);
