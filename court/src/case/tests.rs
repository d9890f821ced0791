use super::*;
use credential_formats::court_order::{OrderRequest, sign_order, verify_order};
use credential_formats::crypto::{
    CryptoProvider, PublicKey, SecretKey, SignatureAlgorithm, Signer,
};
use credential_formats::jose::Jwk;
use credential_formats::translog::{inclusion_proof, root, verifier_key};
use credential_formats::trust_list::{TrustListBuilder, TrustedEntity};
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const JUDGE: &str = "https://court.example.be/judges/a";
const VERIFIER: &str = "https://verifier.example.be";
const REGISTER: &str = "https://register.example.be";
const V_ORIGIN: &str = "verifier.example.be/court-orders";
const R_ORIGIN: &str = "register.example.be/court-orders";
const PLATFORM: &str = "https://platform.example";
const PSEUDONYM: &str = "q2FfZ3JvdXAtcHNldWRvbnltLWZvci10ZXN0czAwMDA";

/// An Ed25519 checkpoint signer and the log key naming it.
pub(crate) struct TestLog {
    pub(crate) signer: Box<dyn Signer>,
    pub(crate) key: LogKey,
    pub(crate) name: String,
}

pub(crate) fn test_log(origin: &str, seed: u8) -> TestLog {
    let signer = RustCrypto.signer(&SecretKey::ed25519(&[seed; 32])).unwrap();
    let PublicKey::Ed25519(public) = signer.public_key() else {
        panic!("not Ed25519")
    };
    let name = origin.split('/').next().unwrap().to_owned();
    let key = LogKey::new(origin, &verifier_key(&name, &public)).unwrap();
    TestLog { signer, key, name }
}

impl TestLog {
    /// The signed checkpoint of `entries` under `origin`.
    pub(crate) fn note(&self, origin: &str, entries: &[Vec<u8>]) -> String {
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        Checkpoint {
            origin: origin.into(),
            size: entries.len() as u64,
            root: root(&leaves),
        }
        .sign(&self.name, &*self.signer)
        .unwrap()
    }

    /// The `log` member for entry `index` of `entries`.
    fn log_member(&self, origin: &str, entries: &[Vec<u8>], index: usize) -> Value {
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        let proof = inclusion_proof(index, &leaves).unwrap();
        json!({
            "index": index,
            "entry": STANDARD.encode(&entries[index]),
            "tree_size": entries.len(),
            "checkpoint": self.note(origin, entries),
            "inclusion_proof": proof.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
        })
    }
}

struct Fixture {
    list: TrustList,
    judge: SecretKey,
    verifier: TestLog,
    register: TestLog,
}

fn fixture() -> Fixture {
    let judge = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let verifier = test_log(V_ORIGIN, 1);
    let register = test_log(R_ORIGIN, 2);
    let entity_key = |k: &SecretKey, kid: &str| Jwk::new(k.public_key()).with_kid(kid);
    let vkey = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let rkey = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let list = TrustListBuilder::new("https://trust.example", NOW - 100, NOW + 86_400, 1)
        .entity(
            TrustedEntity::new(JUDGE, "Judge A", NOW - 86_400, NOW + 86_400)
                .with_key(entity_key(&judge, "judge-1"))
                .with_role(Role::CourtJudge),
        )
        .entity(
            TrustedEntity::new(VERIFIER, "Verifier", NOW - 86_400, NOW + 86_400)
                .with_key(entity_key(&vkey, "v-1"))
                .with_verifier_role(URL_SAFE_NO_PAD.encode([3u8; 32]))
                .with_transparency_log(verifier.key.clone()),
        )
        .entity(
            TrustedEntity::new(REGISTER, "Register", NOW - 86_400, NOW + 86_400)
                .with_key(entity_key(&rkey, "r-1"))
                .with_issuer_role(Role::PidIssuer, ["urn:eudi:pid:1"])
                .with_transparency_log(register.key.clone()),
        )
        .build()
        .unwrap();
    Fixture {
        list,
        judge,
        verifier,
        register,
    }
}

impl Fixture {
    fn order(&self) -> (String, CourtOrder) {
        let compact = sign_order(
            &OrderRequest {
                case: "2026/CH-1".into(),
                ground: "Art. 442bis".into(),
                platform: PLATFORM.into(),
                pseudonym: PSEUDONYM.into(),
                deadline: NOW + 86_400,
                embargo_until: None,
            },
            JUDGE,
            "judge-1",
            &*RustCrypto.signer(&self.judge).unwrap(),
            NOW,
        )
        .unwrap();
        let order = verify_order(&compact, &self.list, &RustCrypto, NOW).unwrap();
        (compact, order)
    }
}

fn records() -> Vec<Value> {
    vec![
        json!({"id": "r1", "check_id": "c1", "created_at": NOW - 500, "sealed": "v1.a.b.c"}),
        json!({"id": "r2", "check_id": "c2", "created_at": NOW - 400, "sealed": "v1.d.e.f"}),
    ]
}

fn order_entry(digest: &[u8; 32], records: &[Value]) -> Vec<u8> {
    let sealed = records.iter().map(|r| r["sealed"].as_str().unwrap());
    json!({
        "type": "court_order",
        "order_sha256": URL_SAFE_NO_PAD.encode(digest),
        "received_at": NOW + 10,
        "deadline": NOW + 86_400,
        "records": records.len(),
        "returned_sha256": URL_SAFE_NO_PAD.encode(records_commitment(sealed)),
    })
    .to_string()
    .into_bytes()
}

/// A verifier's answer whose entry is the last of a log of `others` + it.
fn verifier_answer(f: &Fixture, order: &CourtOrder, entry: Vec<u8>, records: Vec<Value>) -> Value {
    let mut entries: Vec<Vec<u8>> = (0..4).map(|i| format!("other {i}").into_bytes()).collect();
    entries.push(entry);
    json!({
        "platform": order.platform(),
        "pseudonym": order.pseudonym(),
        "records": records,
        "log": f.verifier.log_member(V_ORIGIN, &entries, 4),
        "received_at": NOW + 10,
        "answered_at": NOW + 11,
        "deadline": NOW + 86_400,
    })
}

fn check(f: &Fixture, order: &CourtOrder, answer: &Value) -> Result<(), AnswerCheck> {
    verify_verifier_answer(
        order,
        answer.to_string().as_bytes(),
        &f.list,
        None,
        NOW + 20,
    )
    .map(|_| ())
    .map_err(|e| {
        assert_eq!(e.party, Party::Verifier);
        e.check
    })
}

#[test]
fn a_good_verifier_answer_is_accepted() {
    let f = fixture();
    let (_, order) = f.order();
    let answer = verifier_answer(
        &f,
        &order,
        order_entry(order.digest(), &records()),
        records(),
    );
    let verified = verify_verifier_answer(
        &order,
        answer.to_string().as_bytes(),
        &f.list,
        None,
        NOW + 20,
    )
    .unwrap();
    assert_eq!(verified.records.len(), 2);
    assert_eq!(verified.log.index, 4);
    assert_eq!(verified.checkpoint.origin, V_ORIGIN);
    // Named explicitly, the same entity; another entity has no such log.
    assert!(
        verify_verifier_answer(
            &order,
            answer.to_string().as_bytes(),
            &f.list,
            Some(VERIFIER),
            NOW + 20
        )
        .is_ok()
    );
    let err = verify_verifier_answer(
        &order,
        answer.to_string().as_bytes(),
        &f.list,
        Some(REGISTER),
        NOW + 20,
    )
    .unwrap_err();
    assert_eq!(err.check, AnswerCheck::UnknownLog);
}

#[test]
fn an_entry_of_another_order_is_refused() {
    let f = fixture();
    let (_, order) = f.order();
    let (_, other) = f.order();
    let answer = verifier_answer(
        &f,
        &order,
        order_entry(other.digest(), &records()),
        records(),
    );
    assert_eq!(check(&f, &order, &answer), Err(AnswerCheck::OtherOrder));
}

#[test]
fn records_changed_after_logging_are_refused() {
    let f = fixture();
    let (_, order) = f.order();
    let entry = order_entry(order.digest(), &records());
    // One record swapped for another.
    let mut changed = records();
    changed[1]["sealed"] = json!("v1.x.y.z");
    let answer = verifier_answer(&f, &order, entry.clone(), changed);
    assert!(matches!(
        check(&f, &order, &answer),
        Err(AnswerCheck::EntryMismatch(_))
    ));
    // One record held back.
    let answer = verifier_answer(&f, &order, entry, records()[..1].to_vec());
    let err = check(&f, &order, &answer).unwrap_err();
    assert!(
        err.to_string().contains("does not match its log entry"),
        "{err}"
    );
}

#[test]
fn a_changed_proof_or_entry_is_not_included() {
    let f = fixture();
    let (_, order) = f.order();
    let mut answer = verifier_answer(
        &f,
        &order,
        order_entry(order.digest(), &records()),
        records(),
    );
    answer["log"]["inclusion_proof"][0] = json!(STANDARD.encode([9u8; 32]));
    let err = check(&f, &order, &answer).unwrap_err();
    assert_eq!(err, AnswerCheck::NotIncluded);
    assert_eq!(
        AnswerError {
            party: Party::Verifier,
            check: err
        }
        .to_string(),
        "the verifier's answer is not in its log: inclusion proof does not match the signed checkpoint"
    );
    // Another index for the same entry.
    let mut answer = verifier_answer(
        &f,
        &order,
        order_entry(order.digest(), &records()),
        records(),
    );
    answer["log"]["index"] = json!(3);
    assert_eq!(check(&f, &order, &answer), Err(AnswerCheck::NotIncluded));
    // A tree size other than the checkpoint's.
    let mut answer = verifier_answer(
        &f,
        &order,
        order_entry(order.digest(), &records()),
        records(),
    );
    answer["log"]["tree_size"] = json!(6);
    assert_eq!(check(&f, &order, &answer), Err(AnswerCheck::TreeSize));
}

#[test]
fn a_checkpoint_signed_by_another_key_is_refused() {
    let f = fixture();
    let (_, order) = f.order();
    let mut answer = verifier_answer(
        &f,
        &order,
        order_entry(order.digest(), &records()),
        records(),
    );
    // The same origin and key name, another key.
    let impostor = test_log(V_ORIGIN, 99);
    let mut entries: Vec<Vec<u8>> = (0..4).map(|i| format!("other {i}").into_bytes()).collect();
    entries.push(order_entry(order.digest(), &records()));
    answer["log"]["checkpoint"] = json!(impostor.note(V_ORIGIN, &entries));
    assert_eq!(
        check(&f, &order, &answer),
        Err(AnswerCheck::Checkpoint(TranslogError::BadSignature))
    );
}

#[test]
fn a_checkpoint_of_another_origin_is_refused() {
    let f = fixture();
    let (_, order) = f.order();
    let mut entries: Vec<Vec<u8>> = (0..4).map(|i| format!("other {i}").into_bytes()).collect();
    entries.push(order_entry(order.digest(), &records()));
    let mut answer = verifier_answer(
        &f,
        &order,
        order_entry(order.digest(), &records()),
        records(),
    );
    // Signed by the verifier's key, but for another log: no verifier lists that origin.
    answer["log"]["checkpoint"] = json!(f.verifier.note("verifier.example.be/other", &entries));
    assert_eq!(check(&f, &order, &answer), Err(AnswerCheck::UnknownLog));
    // The register's log (a listed origin, but not a verifier's).
    answer["log"]["checkpoint"] = json!(f.register.note(R_ORIGIN, &entries));
    assert_eq!(check(&f, &order, &answer), Err(AnswerCheck::UnknownLog));
    // Named explicitly: the verifier's key, the wrong origin.
    let err = verify_verifier_answer(
        &order,
        {
            answer["log"]["checkpoint"] =
                json!(f.verifier.note("verifier.example.be/other", &entries));
            answer.to_string()
        }
        .as_bytes(),
        &f.list,
        Some(VERIFIER),
        NOW + 20,
    )
    .unwrap_err();
    assert_eq!(err.check, AnswerCheck::UnknownLog);
}

#[test]
fn an_entry_of_another_type_or_account_is_refused() {
    let f = fixture();
    let (_, order) = f.order();
    let mut entry: Value =
        serde_json::from_slice(&order_entry(order.digest(), &records())).unwrap();
    entry["type"] = json!("register_resolution");
    let answer = verifier_answer(&f, &order, entry.to_string().into_bytes(), records());
    assert_eq!(check(&f, &order, &answer), Err(AnswerCheck::WrongEntryType));
    let mut answer = verifier_answer(
        &f,
        &order,
        order_entry(order.digest(), &records()),
        records(),
    );
    answer["pseudonym"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert!(matches!(
        check(&f, &order, &answer),
        Err(AnswerCheck::NotAsked(_))
    ));
}

fn register_answer(
    f: &Fixture,
    order: &CourtOrder,
    verifier: &VerifiedVerifierAnswer,
    person: &Value,
) -> Value {
    let entry = json!({
        "type": "register_resolution",
        "order_sha256": URL_SAFE_NO_PAD.encode(order.digest()),
        "verifier_log": {"origin": V_ORIGIN, "index": verifier.log.index, "tree_size": verifier.log.tree_size},
        "received_at": NOW + 3600,
        "deadline": NOW + 86_400,
        "found": true,
        "returned_sha256": URL_SAFE_NO_PAD.encode(Sha256::digest(credential_formats::json::canonical(person))),
    })
    .to_string()
    .into_bytes();
    let entries = vec![b"earlier".to_vec(), entry];
    json!({
        "person_handle": "handle-1",
        "person": person,
        "log": f.register.log_member(R_ORIGIN, &entries, 1),
        "received_at": NOW + 3600,
        "answered_at": NOW + 3601,
        "deadline": NOW + 86_400,
    })
}

#[test]
fn the_register_answer_is_checked_against_its_log_and_the_verifier_entry() {
    let f = fixture();
    let (_, order) = f.order();
    let vanswer = verifier_answer(
        &f,
        &order,
        order_entry(order.digest(), &records()),
        records(),
    );
    let verifier = verify_verifier_answer(
        &order,
        vanswer.to_string().as_bytes(),
        &f.list,
        None,
        NOW + 20,
    )
    .unwrap();
    let person = json!({"given_name": "Ada", "family_name": "Lovelace", "birthdate": "1815-12-10"});
    let resolve = |answer: &Value, handle: &str| {
        verify_register_answer(
            &order,
            handle,
            &verifier,
            answer.to_string().as_bytes(),
            &f.list,
            None,
            NOW + 3700,
        )
        .map_err(|e| {
            assert_eq!(e.party, Party::Register);
            e.check
        })
    };
    let good = register_answer(&f, &order, &verifier, &person);
    let verified = resolve(&good, "handle-1").unwrap();
    assert_eq!(verified.person, person);
    assert_eq!(verified.log.index, 1);
    // Another handle than asked.
    assert!(matches!(
        resolve(&good, "handle-2"),
        Err(AnswerCheck::NotAsked(_))
    ));
    // The person changed after logging.
    let mut changed = good.clone();
    changed["person"]["family_name"] = json!("Byron");
    assert!(matches!(
        resolve(&changed, "handle-1"),
        Err(AnswerCheck::EntryMismatch(_))
    ));
    // Logged as the resolution of another verifier entry.
    let mut other = verifier.clone();
    other.log.index = 3;
    let answer = register_answer(&f, &order, &other, &person);
    assert!(matches!(
        resolve(&answer, "handle-1"),
        Err(AnswerCheck::NotAsked(_))
    ));
    // A checkpoint of the verifier's log passed off as the register's.
    let mut swapped = good.clone();
    swapped["log"]["checkpoint"] = json!(f.verifier.note(V_ORIGIN, &[b"x".to_vec()]));
    assert_eq!(
        resolve(&swapped, "handle-1").unwrap_err(),
        AnswerCheck::UnknownLog
    );
    // A verifier-type entry in the register's answer.
    let wrong = register_answer(&f, &order, &verifier, &person);
    let mut wrong = wrong;
    let entries = vec![order_entry(order.digest(), &records())];
    wrong["log"] = f.register.log_member(R_ORIGIN, &entries, 0);
    assert_eq!(
        resolve(&wrong, "handle-1").unwrap_err(),
        AnswerCheck::WrongEntryType
    );
}

#[test]
fn the_person_commitment_is_over_canonical_json_whatever_the_member_order() {
    let person: Value =
        serde_json::from_str(r#"{"b": 1, "a": {"d": 2, "c": [ {"f": 3, "e": 4} ]}}"#).unwrap();
    let canonical = br#"{"a":{"c":[{"e":4,"f":3}],"d":2},"b":1}"#;
    assert_eq!(
        person_commitment(&person),
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical))
    );
}

#[test]
fn case_directories_and_durations() {
    assert_eq!(case_dir_name("2026/ABC 123"), "case-2026_ABC_123");
    assert_eq!(case_dir_name(".."), "case-..");
    assert_eq!(hours_minutes(3 * 3600 + 12 * 60 + 59), "3 h 12 min");
    assert_eq!(hours_minutes(-90 * 60), "-1 h 30 min");
}
