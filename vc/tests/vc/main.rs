//! The `vc` binary, run as a user runs it: files on disk, arguments, exit status, output.

// Test code: a failed setup step should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use credential_formats::claims_path::ClaimsPath;
use credential_formats::crypto::{CryptoProvider, RustCrypto, SecretKey, SignatureAlgorithm};
use credential_formats::jose::Jwk;
use credential_formats::sd_jwt::KeyBinding;
use credential_formats::sd_jwt_vc::SdJwtVcBuilder;
use credential_formats::status_list::{
    StatusBits, StatusList, StatusListToken, StatusReference, StatusType,
};
use credential_formats::trust_list::{Role, TrustListBuilder, TrustedEntity};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const NOW: i64 = 1_790_000_000;
const ISSUER: &str = "https://issuer.example.be";
const VCT: &str = "urn:be:identity:person-attestation:1";
const STATUS_URI: &str = "https://issuer.example.be/status/7";
const AUD: &str = "x509_hash:verifier";
const NONCE: &str = "n-0S6_WzA2Mj";

/// A fresh directory per test under the system temp dir.
fn scratch() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "vc-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn vc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vc"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "vc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn fails_with(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(1), "expected exit 1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(needle),
        "stderr {stderr:?} lacks {needle:?}"
    );
    assert!(out.stdout.is_empty());
}

struct World {
    dir: PathBuf,
    issuer_jwk: PathBuf,
    authority_jwk: PathBuf,
    trust_list: PathBuf,
    presentation: PathBuf,
    status_valid: PathBuf,
    status_revoked: PathBuf,
}

fn world() -> World {
    let dir = scratch();
    let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let authority = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let holder = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let jwk = |k: &SecretKey| Jwk::new(k.public_key()).to_value().to_string();

    let list = TrustListBuilder::new("https://trust.example.be", NOW - 10, NOW + 3600, 1)
        .entity(
            TrustedEntity::new(ISSUER, "Issuer", NOW - 100, NOW + 3600)
                .with_key(Jwk::new(issuer.public_key()).with_kid("k1"))
                .with_issuer_role(Role::PersonAttestationIssuer, [VCT]),
        )
        .build()
        .unwrap()
        .sign(&*RustCrypto.signer(&authority).unwrap())
        .unwrap();

    let signer = RustCrypto.signer(&issuer).unwrap();
    let mut builder = SdJwtVcBuilder::new(ISSUER, VCT)
        .issued_at(NOW - 60)
        .expires_at(NOW + 3600)
        .holder_key(Jwk::new(holder.public_key()))
        .status(StatusReference::new(3, STATUS_URI).unwrap());
    for (name, value) in [
        ("age_over_18", json!(true)),
        (
            "person_handle",
            json!("aGFuZGxlLWhhbmRsZS1oYW5kbGUtaGFuZGxlLWhhbmQ"),
        ),
    ] {
        builder = builder
            .claim(name, value)
            .unwrap()
            .disclosable(ClaimsPath::keys([name]).unwrap())
            .unwrap();
    }
    let presentation = builder
        .issue(&*signer)
        .unwrap()
        .present(&[ClaimsPath::keys(["age_over_18"]).unwrap()])
        .unwrap()
        .bind(
            &KeyBinding::new(AUD, NONCE, NOW),
            &*RustCrypto.signer(&holder).unwrap(),
        )
        .unwrap()
        .serialize();

    let mut statuses = StatusList::with_capacity(StatusBits::One, 64).unwrap();
    let token = |list: &StatusList| {
        StatusListToken::new(STATUS_URI, NOW - 5, list.clone())
            .unwrap()
            .sign(&*signer, Some("k1"))
            .unwrap()
    };
    let status_valid = token(&statuses);
    statuses.set(3, StatusType::Invalid.value()).unwrap();
    let status_revoked = token(&statuses);

    World {
        issuer_jwk: write(&dir, "issuer.jwk", &jwk(&issuer)),
        authority_jwk: write(&dir, "authority.jwk", &jwk(&authority)),
        trust_list: write(&dir, "trust-list.jwt", &list),
        presentation: write(&dir, "presentation.txt", &format!("{presentation}\n")),
        status_valid: write(&dir, "status-valid.jwt", &status_valid),
        status_revoked: write(&dir, "status-revoked.jwt", &status_revoked),
        dir,
    }
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn verify_prints_only_the_disclosed_claims_with_key_binding_trust_and_status() {
    let w = world();
    let out = vc(&[
        "verify",
        s(&w.presentation),
        "--issuer-jwk",
        s(&w.issuer_jwk),
        "--trust-list",
        s(&w.trust_list),
        "--trust-authority-jwk",
        s(&w.authority_jwk),
        "--aud",
        AUD,
        "--nonce",
        NONCE,
        "--at",
        &NOW.to_string(),
        "--status-list",
        s(&w.status_valid),
    ]);
    let report = stdout_json(&out);
    assert_eq!(report["valid"], json!(true));
    assert_eq!(report["format"], json!("sd-jwt-vc"));
    assert_eq!(report["vct"], json!(VCT));
    assert_eq!(report["claims"]["age_over_18"], json!(true));
    assert!(report["claims"].get("person_handle").is_none());
    assert_eq!(report["disclosed"], json!([["age_over_18"]]));
    assert_eq!(report["key_binding"]["nonce"], json!(NONCE));
    assert_eq!(report["trusted_issuer"], json!(ISSUER));
    assert_eq!(report["status"], json!("VALID"));
}

#[test]
fn verify_refuses_with_the_specific_error() {
    let w = world();
    let at = NOW.to_string();
    let base = [
        "verify",
        s(&w.presentation),
        "--issuer-jwk",
        s(&w.issuer_jwk),
        "--at",
        &at,
    ];
    let with = |extra: &[&str]| vc(&[&base[..], extra].concat());

    fails_with(&with(&["--aud", AUD, "--nonce", "other"]), "nonce mismatch");
    fails_with(
        &with(&["--aud", "x509_hash:other", "--nonce", NONCE]),
        "aud mismatch",
    );
    fails_with(&with(&["--status-list", s(&w.status_revoked)]), "not VALID");
    fails_with(
        &vc(&[
            "verify",
            s(&w.presentation),
            "--issuer-jwk",
            s(&w.authority_jwk),
            "--at",
            &at,
        ]),
        "signature verification failed",
    );
    fails_with(
        &vc(&[
            "verify",
            s(&w.presentation),
            "--issuer-jwk",
            s(&w.issuer_jwk),
            "--at",
            &(NOW + 7200).to_string(),
        ]),
        "expired",
    );
    // A trust list that does not name this issuer for this vct.
    fails_with(
        &with(&[
            "--trust-list",
            s(&w.trust_list),
            "--trust-authority-jwk",
            s(&w.issuer_jwk),
        ]),
        "trust list",
    );
    let garbage = write(&w.dir, "garbage.txt", "eyJ~~~\u{7f}");
    fails_with(
        &vc(&["verify", s(&garbage), "--issuer-jwk", s(&w.issuer_jwk)]),
        "error:",
    );
}

#[test]
fn key_binding_flags_come_together() {
    let w = world();
    let out = vc(&[
        "verify",
        s(&w.presentation),
        "--issuer-jwk",
        s(&w.issuer_jwk),
        "--aud",
        AUD,
    ]);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
}

#[test]
fn inspect_shows_disclosures_and_key_binding_from_standard_input() {
    let w = world();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vc"))
        .args(["inspect", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let text = std::fs::read_to_string(&w.presentation).unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let report = stdout_json(&child.wait_with_output().unwrap());
    assert_eq!(report["format"], json!("sd-jwt-vc"));
    assert_eq!(report["verified"], json!(false));
    let disclosures = report["disclosures"].as_array().unwrap();
    assert_eq!(disclosures.len(), 1);
    assert_eq!(disclosures[0]["name"], json!("age_over_18"));
    assert_eq!(report["key_binding_jwt"]["header"]["typ"], json!("kb+jwt"));
    assert_eq!(report["issuer_jwt"]["payload"]["iss"], json!(ISSUER));
}

#[test]
fn status_reads_one_entry_verified_or_marked_unverified() {
    let w = world();
    let at = NOW.to_string();
    let out = vc(&[
        "status",
        s(&w.status_revoked),
        "--index",
        "3",
        "--issuer-jwk",
        s(&w.issuer_jwk),
        "--at",
        &at,
    ]);
    let report = stdout_json(&out);
    assert_eq!(report["value"], json!(1));
    assert_eq!(report["verified"], json!(true));
    let report = stdout_json(&vc(&["status", s(&w.status_revoked), "--index", "2"]));
    assert_eq!(report["value"], json!(0));
    assert_eq!(report["verified"], json!(false));
    fails_with(
        &vc(&["status", s(&w.status_revoked), "--index", "64"]),
        "error:",
    );
    fails_with(
        &vc(&[
            "status",
            s(&w.status_revoked),
            "--index",
            "3",
            "--issuer-jwk",
            s(&w.authority_jwk),
            "--at",
            &at,
        ]),
        "signature verification failed",
    );
}

/// RFC 9901 §5.2: an SD-JWT+KB from the specification, verified by our tool with the
/// specification's issuer key, `aud`, `nonce` and time.
#[test]
fn verifies_the_rfc9901_5_2_example() {
    let dir = scratch();
    let keys: Value =
        serde_json::from_str(include_str!("../../../spec/vectors/rfc9901-a5-keys.json")).unwrap();
    let mut issuer = keys["issuer_key"].clone();
    issuer.as_object_mut().unwrap().remove("d");
    let jwk = write(&dir, "issuer.jwk", &issuer.to_string());
    let file = write(
        &dir,
        "presentation.txt",
        include_str!("../../../spec/vectors/rfc9901-5.2-presentation.txt"),
    );
    let out = vc(&[
        "verify",
        s(&file),
        "--issuer-jwk",
        s(&jwk),
        "--aud",
        "https://verifier.example.org",
        "--nonce",
        "1234567890",
        "--at",
        "1748537244",
    ]);
    let report = stdout_json(&out);
    let expected: Value = serde_json::from_str(include_str!(
        "../../../spec/vectors/rfc9901-5.2-processed.json"
    ))
    .unwrap();
    assert_eq!(report["format"], json!("sd-jwt"));
    assert_eq!(report["claims"], expected);
}
