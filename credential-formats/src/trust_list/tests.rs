use super::*;
use crate::crypto::{RustCrypto, SecretKey, SignatureAlgorithm, default_provider};
use serde_json::json;

const T0: UnixTime = 1_767_225_600; // 2026-01-01
const DAY: UnixTime = 86_400;
const YEAR: UnixTime = 365 * DAY;
const PID_VCT: &str = "https://pid.example.gov/vct/pid/1";
const ATTESTATION_VCT: &str = "https://pid.example.gov/vct/person-attestation/1";

struct Keys {
    authority: SecretKey,
    issuer: SecretKey,
    provider: SecretKey,
    ledger: SecretKey,
    verifier: SecretKey,
    judge: SecretKey,
}

fn keys() -> Keys {
    let k = || SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    Keys {
        authority: k(),
        issuer: k(),
        provider: SecretKey::generate(SignatureAlgorithm::EdDsa).unwrap(),
        ledger: k(),
        verifier: k(),
        judge: k(),
    }
}

fn jwk(key: &SecretKey, kid: &str) -> Jwk {
    Jwk::new(key.public_key()).with_kid(kid)
}

fn x509_hash() -> String {
    crate::b64::encode([7u8; 32])
}

fn escrow(byte: u8) -> EscrowKey {
    EscrowKey::new([byte; 32], Some(format!("escrow-{byte}"))).unwrap()
}

fn builder(k: &Keys) -> TrustListBuilder {
    TrustListBuilder::new("https://trust.example.gov", T0, T0 + 7 * DAY, 42)
        .entity(
            TrustedEntity::new("https://pid.example.gov", "State PID issuer", T0, T0 + YEAR)
                .with_key(jwk(&k.issuer, "pid-1"))
                .with_issuer_role(Role::PidIssuer, [PID_VCT])
                .with_issuer_role(Role::PersonAttestationIssuer, [ATTESTATION_VCT]),
        )
        .entity(
            TrustedEntity::new("https://academy.example", "Academy", T0 + DAY, T0 + YEAR)
                .with_key(jwk(&k.provider, "academy-1"))
                .with_training_provider_role(["C-101", "C-202"]),
        )
        .entity(
            TrustedEntity::new(
                "https://credits.example.gov",
                "Credits ledger",
                T0,
                T0 + YEAR,
            )
            .with_key(jwk(&k.ledger, "ledger-1"))
            .with_role(Role::CreditsLedger),
        )
        .entity(
            TrustedEntity::new("https://verifier.example", "Age verifier", T0, T0 + YEAR)
                .with_key(jwk(&k.verifier, "att-1"))
                .with_verifier_role(x509_hash()),
        )
        .entity(
            TrustedEntity::new("https://court.example/judges/1", "Judge 1", T0, T0 + YEAR)
                .with_key(jwk(&k.judge, "judge-1"))
                .with_role(Role::CourtJudge),
        )
        .entity(
            TrustedEntity::new("https://court.example", "Court", T0, T0 + YEAR)
                .with_court_escrow_role(escrow(9)),
        )
}

fn sign(list: &TrustList, key: &SecretKey) -> String {
    list.sign(RustCrypto.signer(key).unwrap().as_ref()).unwrap()
}

fn sign_claims(claims: &Value, typ: &str, key: &SecretKey) -> String {
    crate::jose::sign_compact(
        &JwsHeader::new(typ),
        &serde_json::to_vec(claims).unwrap(),
        RustCrypto.signer(key).unwrap().as_ref(),
    )
    .unwrap()
}

fn verify(compact: &str, k: &Keys, now: UnixTime, min: Option<u64>) -> crate::Result<TrustList> {
    TrustList::verify(
        compact,
        default_provider(),
        &k.authority.public_key(),
        now,
        min,
    )
}

#[test]
fn sign_verify_round_trip() {
    let k = keys();
    let list = builder(&k).build().unwrap();
    let compact = sign(&list, &k.authority);
    let header = DecodedJws::decode(&compact).unwrap();
    assert_eq!(header.header().typ(), Some(TRUST_LIST_JWT_TYP));
    let verified = verify(&compact, &k, T0 + DAY, Some(42)).unwrap();
    assert_eq!(verified, list);
    assert_eq!(verified.sequence(), 42);
    assert_eq!(verified.entities().len(), 6);
    // The wire form is the one spec/trust-list.md documents.
    let claims = list.claims().unwrap();
    assert_eq!(
        claims["entities"][0]["roles"],
        json!(["pid_issuer", "person_attestation_issuer"])
    );
    assert_eq!(claims["entities"][5]["escrow_key"]["crv"], json!("X25519"));
    assert!(claims["entities"][5].get("keys").is_none());
}

#[test]
fn tampered_list_or_wrong_authority_is_refused() {
    let k = keys();
    let compact = sign(&builder(&k).build().unwrap(), &k.authority);
    // Replace the payload with one adding an entity: the signature no longer matches.
    let mut claims = builder(&k).build().unwrap().claims().unwrap();
    claims["entities"][3]["x509_hash"] = json!(crate::b64::encode([8u8; 32]));
    let parts: Vec<&str> = compact.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        crate::b64::encode(serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    assert!(matches!(
        verify(&forged, &k, T0 + DAY, None),
        Err(crate::Error::Jose(_))
    ));
    // Signed by someone else (a listed issuer, even).
    let by_issuer = sign(&builder(&k).build().unwrap(), &k.issuer);
    assert!(matches!(
        verify(&by_issuer, &k, T0 + DAY, None),
        Err(crate::Error::Jose(_))
    ));
}

#[test]
fn wrong_typ_is_refused() {
    let k = keys();
    let claims = builder(&k).build().unwrap().claims().unwrap();
    for typ in ["jwt", "statuslist+jwt"] {
        assert!(matches!(
            verify(&sign_claims(&claims, typ, &k.authority), &k, T0 + DAY, None),
            Err(crate::Error::Jose(
                crate::jose::JoseError::UnexpectedType { .. }
            ))
        ));
    }
}

#[test]
fn expired_or_future_list_is_refused() {
    let k = keys();
    let compact = sign(&builder(&k).build().unwrap(), &k.authority);
    let exp = T0 + 7 * DAY;
    assert!(verify(&compact, &k, exp + CLOCK_SKEW - 1, None).is_ok());
    assert_eq!(
        verify(&compact, &k, exp + CLOCK_SKEW, None),
        Err(TrustListError::ListExpired.into())
    );
    assert!(verify(&compact, &k, T0 - CLOCK_SKEW, None).is_ok());
    assert_eq!(
        verify(&compact, &k, T0 - CLOCK_SKEW - 1, None),
        Err(TrustListError::ListIssuedInFuture.into())
    );
}

#[test]
fn rollback_to_a_lower_sequence_is_refused() {
    let k = keys();
    let compact = sign(&builder(&k).build().unwrap(), &k.authority);
    assert!(verify(&compact, &k, T0, Some(41)).is_ok());
    assert!(
        verify(&compact, &k, T0, Some(42)).is_ok(),
        "the same list again"
    );
    assert_eq!(
        verify(&compact, &k, T0, Some(43)),
        Err(TrustListError::Rollback.into())
    );
}

#[test]
fn issuer_for_vct_positive_and_negative() {
    let k = keys();
    let list = builder(&k).build().unwrap();
    let issuer = k.issuer.public_key();
    let t = T0 + DAY;
    assert_eq!(
        list.issuer_for_vct(&issuer, PID_VCT, t).unwrap().id(),
        "https://pid.example.gov"
    );
    assert!(list.issuer_for_vct(&issuer, ATTESTATION_VCT, t).is_ok());
    assert_eq!(
        list.issuer_for_vct(&issuer, "https://other.example/vct", t),
        Err(TrustListError::VctNotAllowed)
    );
    assert_eq!(
        list.issuer_for_vct(&k.provider.public_key(), PID_VCT, t),
        Err(TrustListError::RoleNotHeld(Role::PidIssuer))
    );
    let stranger = SecretKey::generate(SignatureAlgorithm::Es256)
        .unwrap()
        .public_key();
    assert_eq!(
        list.issuer_for_vct(&stranger, PID_VCT, t),
        Err(TrustListError::UnknownKey)
    );
    // Time boundaries: valid_from inclusive, valid_until exclusive.
    assert!(list.issuer_for_vct(&issuer, PID_VCT, T0).is_ok());
    assert_eq!(
        list.issuer_for_vct(&issuer, PID_VCT, T0 - 1),
        Err(TrustListError::EntityNotYetValid)
    );
    assert!(list.issuer_for_vct(&issuer, PID_VCT, T0 + YEAR - 1).is_ok());
    assert_eq!(
        list.issuer_for_vct(&issuer, PID_VCT, T0 + YEAR),
        Err(TrustListError::EntityExpired)
    );
    // By iss + kid.
    let key = list
        .resolve_key("https://pid.example.gov", "pid-1")
        .unwrap();
    assert!(list.issuer_for_vct(key, PID_VCT, t).is_ok());
    assert_eq!(
        list.resolve_key("https://pid.example.gov", "nope"),
        Err(TrustListError::UnknownEntity)
    );
    assert_eq!(
        list.resolve_key("https://nope.example", "pid-1"),
        Err(TrustListError::UnknownEntity)
    );
}

#[test]
fn provider_for_course_positive_and_negative() {
    let k = keys();
    let list = builder(&k).build().unwrap();
    let provider = k.provider.public_key();
    assert!(
        list.provider_for_course(&provider, "C-101", T0 + DAY)
            .is_ok()
    );
    assert_eq!(
        list.provider_for_course(&provider, "C-999", T0 + DAY),
        Err(TrustListError::CourseNotAllowed)
    );
    assert_eq!(
        list.provider_for_course(&provider, "C-101", T0 + DAY - 1),
        Err(TrustListError::EntityNotYetValid)
    );
    assert_eq!(
        list.provider_for_course(&k.issuer.public_key(), "C-101", T0 + DAY),
        Err(TrustListError::RoleNotHeld(Role::TrainingProvider))
    );
}

#[test]
fn qualification_issuers_are_accredited_providers_or_listed_issuers() {
    let k = keys();
    let list = builder(&k).build().unwrap();
    let qualification = "urn:be:identity:qualification:1";
    let t = T0 + DAY;
    let provider = k.provider.public_key();
    assert!(
        list.qualification_issuer(&provider, qualification, "C-101", t)
            .is_ok()
    );
    assert_eq!(
        list.qualification_issuer(&provider, qualification, "C-999", t),
        Err(TrustListError::CourseNotAllowed)
    );
    // The State issuer of this list does not list the qualification type.
    assert_eq!(
        list.qualification_issuer(&k.issuer.public_key(), qualification, "C-101", t),
        Err(TrustListError::VctNotAllowed)
    );
    assert_eq!(
        list.qualification_issuer(&k.ledger.public_key(), qualification, "C-101", t),
        Err(TrustListError::RoleNotHeld(Role::PidIssuer))
    );
}

#[test]
fn verifier_queries() {
    let k = keys();
    let list = builder(&k).build().unwrap();
    let t = T0 + DAY;
    assert_eq!(
        list.verifier_by_x509_hash(&x509_hash(), t).unwrap().id(),
        "https://verifier.example"
    );
    assert_eq!(
        list.verifier_by_x509_hash(&crate::b64::encode([8u8; 32]), t),
        Err(TrustListError::UnknownVerifier)
    );
    assert_eq!(
        list.verifier_by_x509_hash(&x509_hash(), T0 + YEAR),
        Err(TrustListError::EntityExpired)
    );
    assert!(list.verifier_by_key(&k.verifier.public_key(), t).is_ok());
    assert_eq!(
        list.verifier_by_key(&k.judge.public_key(), t),
        Err(TrustListError::RoleNotHeld(Role::Verifier))
    );
}

#[test]
fn court_and_ledger_queries() {
    let k = keys();
    let list = builder(&k).build().unwrap();
    let t = T0 + DAY;
    assert!(list.court_judge(&k.judge.public_key(), t).is_ok());
    assert_eq!(
        list.court_judge(&k.verifier.public_key(), t),
        Err(TrustListError::RoleNotHeld(Role::CourtJudge))
    );
    assert_eq!(
        list.court_judge(&k.judge.public_key(), T0 + YEAR),
        Err(TrustListError::EntityExpired)
    );
    assert!(list.credits_ledger(&k.ledger.public_key(), t).is_ok());
    assert_eq!(
        list.credits_ledger(&k.issuer.public_key(), t),
        Err(TrustListError::RoleNotHeld(Role::CreditsLedger))
    );
    assert_eq!(list.court_escrow_key(t).unwrap(), &escrow(9));
    assert_eq!(
        list.court_escrow_key(T0 - 1),
        Err(TrustListError::NoEscrowKey)
    );
    assert_eq!(
        list.entity("https://court.example").unwrap().name(),
        "Court"
    );
    assert!(list.entity("https://nobody.example").is_none());
}

#[test]
fn court_escrow_key_rotation_picks_the_newest() {
    let k = keys();
    let list = builder(&k)
        .entity(
            TrustedEntity::new(
                "https://court.example/2027",
                "Court (2027 key)",
                T0 + 100 * DAY,
                T0 + 2 * YEAR,
            )
            .with_court_escrow_role(escrow(10)),
        )
        .build()
        .unwrap();
    assert_eq!(list.court_escrow_key(T0 + 99 * DAY).unwrap(), &escrow(9));
    assert_eq!(list.court_escrow_key(T0 + 100 * DAY).unwrap(), &escrow(10));
    assert_eq!(list.court_escrow_key(T0 + YEAR).unwrap(), &escrow(10));
}

#[test]
fn duplicates_are_refused_at_build_time() {
    let k = keys();
    let dup_id = builder(&k).entity(
        TrustedEntity::new("https://pid.example.gov", "Again", T0, T0 + YEAR)
            .with_key(jwk(
                &SecretKey::generate(SignatureAlgorithm::Es256).unwrap(),
                "x",
            ))
            .with_role(Role::CourtJudge),
    );
    assert_eq!(dup_id.build(), Err(TrustListError::DuplicateEntity));
    // The issuer's key again, under another kid, in another entity.
    let dup_key = builder(&k).entity(
        TrustedEntity::new("https://judge2.example", "Judge 2", T0, T0 + YEAR)
            .with_key(jwk(&k.issuer, "other-kid"))
            .with_role(Role::CourtJudge),
    );
    assert_eq!(dup_key.build(), Err(TrustListError::DuplicateKey));
    let dup_hash = builder(&k).entity(
        TrustedEntity::new("https://v2.example", "Verifier 2", T0, T0 + YEAR)
            .with_key(jwk(
                &SecretKey::generate(SignatureAlgorithm::Es256).unwrap(),
                "a",
            ))
            .with_verifier_role(x509_hash()),
    );
    assert_eq!(dup_hash.build(), Err(TrustListError::DuplicateKey));
    let dup_escrow = builder(&k).entity(
        TrustedEntity::new("https://court2.example", "Court 2", T0, T0 + YEAR)
            .with_court_escrow_role(escrow(9)),
    );
    assert_eq!(dup_escrow.build(), Err(TrustListError::DuplicateKey));
    let dup_kid = TrustListBuilder::new("https://trust.example.gov", T0, T0 + DAY, 1).entity(
        TrustedEntity::new("https://judge.example", "Judge", T0, T0 + YEAR)
            .with_key(jwk(&k.judge, "same"))
            .with_key(jwk(&k.ledger, "same"))
            .with_role(Role::CourtJudge),
    );
    assert_eq!(dup_kid.build(), Err(TrustListError::DuplicateKey));
}

#[test]
fn duplicates_are_refused_at_parse_time() {
    let k = keys();
    let mut claims = builder(&k).build().unwrap().claims().unwrap();
    let mut copy = claims["entities"][4].clone();
    copy["name"] = json!("Judge 1 again");
    claims["entities"]
        .as_array_mut()
        .unwrap()
        .push(copy.clone());
    assert_eq!(
        verify(
            &sign_claims(&claims, TRUST_LIST_JWT_TYP, &k.authority),
            &k,
            T0,
            None
        ),
        Err(TrustListError::DuplicateEntity.into())
    );
    copy["id"] = json!("https://court.example/judges/2");
    let last = claims["entities"].as_array().unwrap().len() - 1;
    claims["entities"][last] = copy;
    assert_eq!(
        verify(
            &sign_claims(&claims, TRUST_LIST_JWT_TYP, &k.authority),
            &k,
            T0,
            None
        ),
        Err(TrustListError::DuplicateKey.into())
    );
}

#[test]
fn role_members_must_match_roles() {
    let k = keys();
    let entity = |e: TrustedEntity| {
        TrustListBuilder::new("https://trust.example.gov", T0, T0 + DAY, 1)
            .entity(e)
            .build()
    };
    let base = || TrustedEntity::new("https://e.example", "E", T0, T0 + YEAR);
    // An issuer without vct; vct without an issuer role.
    assert_eq!(
        entity(
            base()
                .with_key(jwk(&k.issuer, "a"))
                .with_issuer_role(Role::PidIssuer, Vec::<String>::new())
        ),
        Err(TrustListError::InconsistentRole("vct"))
    );
    assert_eq!(
        entity(
            base()
                .with_key(jwk(&k.issuer, "a"))
                .with_issuer_role(Role::CourtJudge, [PID_VCT])
        ),
        Err(TrustListError::InconsistentRole("vct"))
    );
    // A signing role without keys; a key without kid; no role at all.
    assert_eq!(
        entity(base().with_role(Role::CourtJudge)),
        Err(TrustListError::InconsistentRole("keys"))
    );
    assert_eq!(
        entity(
            base()
                .with_key(Jwk::new(k.judge.public_key()))
                .with_role(Role::CourtJudge)
        ),
        Err(TrustListError::Invalid("keys (kid)"))
    );
    assert_eq!(
        entity(base().with_key(jwk(&k.judge, "a"))),
        Err(TrustListError::Invalid("roles"))
    );
    // x509_hash must be 32 bytes of base64url.
    assert_eq!(
        entity(
            base()
                .with_key(jwk(&k.verifier, "a"))
                .with_verifier_role("abc")
        ),
        Err(TrustListError::Invalid("x509_hash"))
    );
    // Validity period must not be empty.
    assert_eq!(
        entity(
            TrustedEntity::new("https://e.example", "E", T0, T0)
                .with_key(jwk(&k.judge, "a"))
                .with_role(Role::CourtJudge)
        ),
        Err(TrustListError::Invalid("valid_from/valid_until"))
    );
    assert_eq!(
        TrustListBuilder::new("https://trust.example.gov", T0, T0, 1).build(),
        Err(TrustListError::Invalid("exp"))
    );
}

#[test]
fn malformed_claims_are_refused() {
    let k = keys();
    let good = builder(&k).build().unwrap().claims().unwrap();
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "unknown top-level member",
            Box::new(|c| c["extra"] = json!(1)),
        ),
        (
            "sequence as string",
            Box::new(|c| c["sequence"] = json!("42")),
        ),
        (
            "exp as string",
            Box::new(|c| c["exp"] = json!("1767830400")),
        ),
        ("negative sequence", Box::new(|c| c["sequence"] = json!(-1))),
        (
            "unknown role",
            Box::new(|c| c["entities"][0]["roles"] = json!(["pid_issuer", "king"])),
        ),
        (
            "unknown entity member",
            Box::new(|c| c["entities"][0]["admin"] = json!(true)),
        ),
        (
            "private key",
            Box::new(|c| c["entities"][0]["keys"][0]["d"] = json!("AAAA")),
        ),
        (
            "escrow key Ed25519",
            Box::new(|c| c["entities"][5]["escrow_key"]["crv"] = json!("Ed25519")),
        ),
        (
            "missing iss",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("iss");
            }),
        ),
        (
            "repeated role",
            Box::new(|c| c["entities"][2]["roles"] = json!(["credits_ledger", "credits_ledger"])),
        ),
    ];
    for (what, mutate) in cases {
        let mut claims = good.clone();
        mutate(&mut claims);
        let result = verify(
            &sign_claims(&claims, TRUST_LIST_JWT_TYP, &k.authority),
            &k,
            T0,
            None,
        );
        assert!(
            matches!(result, Err(crate::Error::TrustList(_))),
            "{what}: {result:?}"
        );
    }
}

#[test]
fn errors_and_debug_do_not_leak_keys() {
    let k = keys();
    let list = builder(&k).build().unwrap();
    let shown = format!("{list:?}");
    assert!(!shown.contains(&Jwk::new(k.issuer.public_key()).thumbprint()));
    assert!(!format!("{:?}", escrow(9)).contains(&crate::b64::encode([9u8; 32])));
}
