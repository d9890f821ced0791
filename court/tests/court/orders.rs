//! `court judge-keygen`, `court order new` and `court order verify`: an order signed by a
//! judge of a signed trust list verifies, and each refusal has its code.

use crate::{SpecSeal, TEST_KDF, court, failure, now, read_json, s, stdout, write};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential_formats::court_order::COURT_ORDER_JWT_TYP;
use credential_formats::crypto::{CryptoProvider, RustCrypto, SecretKey, SignatureAlgorithm};
use credential_formats::jose::{Jwk, JwsHeader, sign_compact};
use credential_formats::trust_list::{Role, TrustListBuilder, TrustedEntity};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const JUDGE: &str = "https://court.example.be/judges/a";
const PLATFORM: &str = "https://platform.example";
const PSEUDONYM: &str = "q2FfZ3JvdXAtcHNldWRvbnltLWZvci10ZXN0czAwMDA";
const PASSPHRASE: &str = "judge a's long passphrase";

struct Bench {
    _temp: tempfile::TempDir,
    dir: PathBuf,
    key_file: PathBuf,
    passphrase: PathBuf,
    authority: SecretKey,
    now: i64,
}

impl Bench {
    /// A signed trust list with these entities, and the authority's public key, on disk.
    fn trust_list(&self, name: &str, entities: Vec<TrustedEntity>) -> PathBuf {
        let mut builder = TrustListBuilder::new(
            "https://trust.example.be",
            self.now - 60,
            self.now + 30 * 86_400,
            1,
        );
        for entity in entities {
            builder = builder.entity(entity);
        }
        let jwt = builder
            .build()
            .unwrap()
            .sign(&*RustCrypto.signer(&self.authority).unwrap())
            .unwrap();
        write(&self.dir, name, &jwt)
    }

    fn authority_jwk(&self) -> PathBuf {
        write(
            &self.dir,
            "authority.jwk",
            &Jwk::new(self.authority.public_key()).to_value().to_string(),
        )
    }

    fn judge_jwk(&self) -> Jwk {
        Jwk::from_value(&read_json(&self.dir.join("judge/judge.jwk"))).unwrap()
    }

    /// The judge as the trust list lists them, valid from `from` until `until`.
    fn judge_entity(&self, from: i64, until: i64) -> TrustedEntity {
        TrustedEntity::new(JUDGE, "Judge A", from, until)
            .with_key(self.judge_jwk())
            .with_role(Role::CourtJudge)
    }

    fn list(&self) -> PathBuf {
        self.trust_list(
            "trust-list.jwt",
            vec![self.judge_entity(self.now - 86_400, self.now + 365 * 86_400)],
        )
    }

    fn new_order(&self, extra: &[&str]) -> std::process::Output {
        let mut args = vec![
            "order",
            "new",
            "--judge-key",
            s(&self.key_file),
            "--passphrase-file",
            s(&self.passphrase),
            "--case",
            "2026/CH-0042",
            "--ground",
            "Art. 145bis: harassment by electronic means",
            "--platform",
            PLATFORM,
        ];
        if !extra.contains(&"--pseudonym") {
            args.extend(["--pseudonym", PSEUDONYM]);
        }
        if !extra.contains(&"--deadline") {
            args.extend(["--deadline", "+24h"]);
        }
        args.extend(extra);
        court(&args)
    }

    fn verify(&self, order: &str, list: &Path, at: Option<i64>) -> std::process::Output {
        let order_file = write(&self.dir, "order.jwt", order);
        let authority = self.authority_jwk();
        let at = at.map(|t| t.to_string());
        let mut args = vec![
            "order",
            "verify",
            "--order",
            s(&order_file),
            "--trust-list",
            s(list),
            "--authority-key",
            s(&authority),
        ];
        if let Some(at) = &at {
            args.extend(["--at", at]);
        }
        court(&args)
    }

    fn refusal(&self, order: &str, list: &Path, at: Option<i64>) -> String {
        failure(&self.verify(order, list, at))
    }

    /// The judge's bare key, unsealed from the key file as the spec describes it: to sign
    /// orders the tool refuses to make.
    fn judge_secret(&self) -> SecretKey {
        let file = read_json(&self.key_file);
        let (_, scalar) = SpecSeal::open(
            &file,
            &["format", "judge", "name", "kid", "public_key"],
            PASSPHRASE,
        );
        let key = SecretKey::p256(&scalar.try_into().unwrap()).unwrap();
        assert_eq!(&key.public_key(), self.judge_jwk().key());
        key
    }
}

fn bench() -> Bench {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().to_path_buf();
    let passphrase = write(&dir, "pass", &format!("{PASSPHRASE}\n"));
    let out_dir = dir.join("judge");
    let mut args = vec![
        "judge-keygen",
        "--id",
        JUDGE,
        "--name",
        "Judge A",
        "--kid",
        "judge-a-2026",
        "--out",
        s(&out_dir),
        "--passphrase-file",
        s(&passphrase),
    ];
    args.extend(TEST_KDF);
    let text = stdout(&court(&args));
    assert!(text.contains("judge-a-2026"), "{text}");
    Bench {
        _temp: temp,
        key_file: out_dir.join("judge-key.json"),
        dir,
        passphrase,
        authority: SecretKey::generate(SignatureAlgorithm::Es256).unwrap(),
        now: now(),
    }
}

fn claims(now: i64) -> Value {
    json!({
        "iss": JUDGE,
        "jti": "b3JkZXItaWQtMDAwMDAwMQ",
        "iat": now,
        "exp": now + 86_400,
        "case": "2026/CH-0042",
        "ground": "harassment",
        "platform": PLATFORM,
        "pseudonym": PSEUDONYM,
        "deadline": now + 86_400,
    })
}

fn sign_with(key: &SecretKey, kid: &str, claims: &Value) -> String {
    sign_compact(
        &JwsHeader::new(COURT_ORDER_JWT_TYP).with_kid(kid),
        &serde_json::to_vec(claims).unwrap(),
        &*RustCrypto.signer(key).unwrap(),
    )
    .unwrap()
}

#[test]
fn judge_keygen_writes_a_sealed_key_and_its_public_half() {
    let b = bench();
    let file = read_json(&b.key_file);
    assert_eq!(file["format"], "court-judge-key/v1");
    assert_eq!(file["judge"], JUDGE);
    assert_eq!(file["kid"], "judge-a-2026");
    assert_eq!(file["sealed"]["kdf"]["alg"], "argon2id");
    #[cfg(unix)]
    assert_eq!(crate::mode(&b.key_file), 0o600);
    let jwk = read_json(&b.dir.join("judge/judge.jwk"));
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert_eq!(jwk["kid"], "judge-a-2026");
    assert!(jwk.get("d").is_none());
    // The authority's reader accepts the entity as written.
    let snippet = std::fs::read_to_string(b.dir.join("judge/judge.trust.toml")).unwrap();
    let description = format!("iss = \"https://trust.example.be\"\nsequence = 1\n{snippet}");
    let list = issuer::trust::build(&description, &b.dir, b.now).unwrap();
    let entity = list.court_judge(b.judge_jwk().key(), b.now).unwrap();
    assert_eq!(entity.id(), JUDGE);
}

#[test]
fn a_judges_order_verifies_against_the_trust_list() {
    let b = bench();
    let out = b.new_order(&["--embargo-until", "+30d"]);
    let order = stdout(&out).trim().to_owned();
    assert_eq!(order.split('.').count(), 3);
    let list = b.list();
    let verified: Value = serde_json::from_str(&stdout(&b.verify(&order, &list, None))).unwrap();
    assert_eq!(verified["iss"], JUDGE);
    assert_eq!(verified["kid"], "judge-a-2026");
    assert_eq!(verified["platform"], PLATFORM);
    assert_eq!(verified["pseudonym"], PSEUDONYM);
    assert_eq!(verified["case"], "2026/CH-0042");
    let iat = verified["iat"].as_i64().unwrap();
    assert!((iat - b.now).abs() < 120);
    assert_eq!(verified["exp"].as_i64().unwrap(), iat + 86_400);
    assert_eq!(verified["deadline"], verified["exp"]);
    assert_eq!(
        verified["embargo_until"].as_i64().unwrap(),
        iat + 30 * 86_400
    );
    assert_eq!(verified["digest"].as_str().unwrap().len(), 64);
    // Unix seconds work as well as durations, and --out keeps a copy.
    let copy = b.dir.join("order-copy.jwt");
    let deadline = (b.now + 3600).to_string();
    let order = stdout(&b.new_order(&["--deadline", &deadline, "--out", s(&copy)]));
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), order);
}

#[test]
fn a_wrong_passphrase_signs_nothing() {
    let b = bench();
    let wrong = write(&b.dir, "wrong", "not the passphrase at all\n");
    let out = court(&[
        "order",
        "new",
        "--judge-key",
        s(&b.key_file),
        "--passphrase-file",
        s(&wrong),
        "--case",
        "2026/CH-1",
        "--ground",
        "scam",
        "--platform",
        PLATFORM,
        "--pseudonym",
        PSEUDONYM,
        "--deadline",
        "+1h",
    ]);
    let error = failure(&out);
    assert!(
        error.contains("the passphrase does not open the key file of Judge A"),
        "{error}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn the_tool_refuses_to_sign_a_wildcard_or_a_list() {
    let b = bench();
    for (pseudonym, code) in [
        ("*", "wildcard"),
        ("%", "wildcard"),
        ("all", "wildcard"),
        (&format!("{PSEUDONYM},{PSEUDONYM}") as &str, "bulk"),
        ("too-short", "malformed"),
    ] {
        let error = failure(&b.new_order(&["--pseudonym", pseudonym]));
        assert!(error.contains(&format!("[{code}]")), "{pseudonym}: {error}");
    }
    let error = failure(&b.new_order(&["--deadline", "+8d"]));
    assert!(error.contains("valid for too long"), "{error}");
}

#[test]
fn every_refusal_has_its_code() {
    let b = bench();
    let list = b.list();
    let good = stdout(&b.new_order(&[])).trim().to_owned();
    let judge = b.judge_secret();

    // unsigned: alg none, and a stripped signature.
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(b.now)).unwrap());
    let none = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"court-order+jwt","kid":"judge-a-2026"}"#)
    );
    assert!(b.refusal(&none, &list, None).contains("[unsigned]"));
    let stripped = &good[..=good.rfind('.').unwrap()];
    assert!(b.refusal(stripped, &list, None).contains("[unsigned]"));

    // not_a_judge: the ledger's key, listed, but not a judge's.
    let ledger = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let with_ledger = b.trust_list(
        "with-ledger.jwt",
        vec![
            b.judge_entity(b.now - 86_400, b.now + 86_400),
            TrustedEntity::new(
                "https://ledger.example.be",
                "Ledger",
                b.now - 86_400,
                b.now + 86_400,
            )
            .with_key(Jwk::new(ledger.public_key()).with_kid("ledger-1"))
            .with_role(Role::CreditsLedger),
        ],
    );
    let mut by_ledger = claims(b.now);
    by_ledger["iss"] = json!("https://ledger.example.be");
    let by_ledger = sign_with(&ledger, "ledger-1", &by_ledger);
    assert!(
        b.refusal(&by_ledger, &with_ledger, None)
            .contains("[not_a_judge]")
    );
    // A trust list without the judge at all.
    let without_judge = b.trust_list(
        "without-judge.jwt",
        vec![
            TrustedEntity::new(
                "https://ledger.example.be",
                "Ledger",
                b.now - 86_400,
                b.now + 86_400,
            )
            .with_key(Jwk::new(ledger.public_key()).with_kid("ledger-1"))
            .with_role(Role::CreditsLedger),
        ],
    );
    assert!(
        b.refusal(&good, &without_judge, None)
            .contains("[not_a_judge]")
    );

    // judge_expired: the judge's entry ended before now.
    let expired = b.trust_list(
        "expired.jwt",
        vec![b.judge_entity(b.now - 86_400, b.now - 10)],
    );
    assert!(b.refusal(&good, &expired, None).contains("[judge_expired]"));

    // bad_signature: a claim changed after signing.
    let parts: Vec<&str> = good.split('.').collect();
    let mut altered: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    altered["pseudonym"] = json!("AAAAZ3JvdXAtcHNldWRvbnltLWZvci10ZXN0czAwMDA");
    let altered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&altered).unwrap()),
        parts[2]
    );
    assert!(b.refusal(&altered, &list, None).contains("[bad_signature]"));

    // expired: two days later (the trust list is still valid then).
    assert!(
        b.refusal(&good, &list, Some(b.now + 2 * 86_400))
            .contains("[expired]")
    );

    // malformed: not a JWS at all.
    assert!(
        b.refusal("not an order", &list, None)
            .contains("[malformed]")
    );

    // A valid order written outside the tool, as a control for the cases below.
    let control = sign_with(&judge, "judge-a-2026", &claims(b.now));
    stdout(&b.verify(&control, &list, None));

    // wildcard and bulk, signed by the judge's own key: refused all the same.
    for (name, value, code) in [
        ("pseudonym", json!("*"), "wildcard"),
        ("pseudonym", json!([PSEUDONYM, PSEUDONYM]), "bulk"),
        (
            "platform",
            json!(["https://a.example", "https://b.example"]),
            "bulk",
        ),
        ("date_range", json!([b.now - 86_400, b.now]), "bulk"),
    ] {
        let mut claims = claims(b.now);
        claims[name] = value;
        let order = sign_with(&judge, "judge-a-2026", &claims);
        assert!(
            b.refusal(&order, &list, None)
                .contains(&format!("[{code}]")),
            "{name}"
        );
    }
}
