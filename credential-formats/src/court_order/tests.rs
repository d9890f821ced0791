use super::*;
use crate::crypto::{RustCrypto, SecretKey, SignatureAlgorithm};
use crate::jose::Jwk;
use crate::trust_list::{Role, TrustListBuilder, TrustedEntity};
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const JUDGE: &str = "https://court.example.be/judges/a";
const KID: &str = "judge-a-1";
const PLATFORM: &str = "https://platform.example";
// 43 characters of base64url: a 256-bit pseudonym, as the verifier derives them.
const PSEUDONYM: &str = "q2FfZ3JvdXAtcHNldWRvbnltLWZvci10ZXN0czAwMDA";

struct Fixture {
    list: TrustList,
    judge: SecretKey,
    ledger: SecretKey,
    expired: SecretKey,
    future: SecretKey,
}

fn es256() -> SecretKey {
    SecretKey::generate(SignatureAlgorithm::Es256).unwrap()
}

fn fixture() -> Fixture {
    let judge = es256();
    let ledger = es256();
    let expired = es256();
    let future = es256();
    let list = TrustListBuilder::new("https://trust.example", NOW - 100, NOW + 86_400, 1)
        .entity(
            TrustedEntity::new(JUDGE, "Judge A", NOW - 86_400, NOW + 365 * 86_400)
                .with_key(Jwk::new(judge.public_key()).with_kid(KID))
                .with_role(Role::CourtJudge),
        )
        .entity(
            TrustedEntity::new(
                "https://ledger.example",
                "Ledger",
                NOW - 86_400,
                NOW + 86_400,
            )
            .with_key(Jwk::new(ledger.public_key()).with_kid("ledger-1"))
            .with_role(Role::CreditsLedger),
        )
        .entity(
            TrustedEntity::new(
                "https://court.example.be/judges/old",
                "Judge Old",
                0,
                NOW - 10,
            )
            .with_key(Jwk::new(expired.public_key()).with_kid("old-1"))
            .with_role(Role::CourtJudge),
        )
        .entity(
            TrustedEntity::new(
                "https://court.example.be/judges/new",
                "Judge New",
                NOW + 3600,
                NOW + 86_400,
            )
            .with_key(Jwk::new(future.public_key()).with_kid("new-1"))
            .with_role(Role::CourtJudge),
        )
        .build()
        .unwrap();
    Fixture {
        list,
        judge,
        ledger,
        expired,
        future,
    }
}

fn request() -> OrderRequest {
    OrderRequest {
        case: "2026/CH-0042".into(),
        ground: "Art. 145bis: harassment by electronic means".into(),
        platform: PLATFORM.into(),
        pseudonym: PSEUDONYM.into(),
        deadline: NOW + 86_400,
        embargo_until: Some(NOW + 30 * 86_400),
    }
}

fn sign(request: &OrderRequest, key: &SecretKey) -> String {
    sign_order(request, JUDGE, KID, &*RustCrypto.signer(key).unwrap(), NOW).unwrap()
}

/// A well-formed claims set, for orders written by hand.
fn claims() -> Value {
    json!({
        "iss": JUDGE,
        "jti": "b3JkZXItaWQtMDAwMDAwMQ",
        "iat": NOW,
        "exp": NOW + 86_400,
        "case": "2026/CH-0042",
        "ground": "harassment",
        "platform": PLATFORM,
        "pseudonym": PSEUDONYM,
        "deadline": NOW + 86_400,
    })
}

fn sign_claims(claims: &Value, typ: &str, kid: &str, key: &SecretKey) -> String {
    sign_compact(
        &JwsHeader::new(typ).with_kid(kid),
        &serde_json::to_vec(claims).unwrap(),
        &*RustCrypto.signer(key).unwrap(),
    )
    .unwrap()
}

fn verify(compact: &str, list: &TrustList, now: i64) -> Result<CourtOrder, CourtOrderError> {
    let result = verify_order(compact, list, &RustCrypto, now);
    // Both providers give the same verdict (ARCHITECTURE.md).
    #[cfg(feature = "aws-lc")]
    assert_eq!(
        verify_order(compact, list, &crate::crypto::AwsLc, now),
        result
    );
    result
}

fn code(compact: &str, f: &Fixture) -> &'static str {
    verify(compact, &f.list, NOW).unwrap_err().code()
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

#[test]
fn a_signed_order_verifies_and_names_one_account() {
    let f = fixture();
    let compact = sign(&request(), &f.judge);
    let order = verify(&compact, &f.list, NOW + 10).unwrap();
    assert_eq!(order.judge(), JUDGE);
    assert_eq!(order.kid(), KID);
    assert_eq!(order.platform(), PLATFORM);
    assert_eq!(order.pseudonym(), PSEUDONYM);
    assert_eq!(order.case(), "2026/CH-0042");
    assert_eq!(order.iat(), NOW);
    assert_eq!(order.exp(), NOW + 86_400);
    assert_eq!(order.deadline(), NOW + 86_400);
    assert_eq!(order.embargo_until(), Some(NOW + 30 * 86_400));
    assert!(order.jti().len() >= 22);
    let digest: [u8; 32] = Sha256::digest(compact.as_bytes()).into();
    assert_eq!(order.digest(), &digest);
    // The header is the one the spec gives.
    let decoded = DecodedJws::decode(&compact).unwrap();
    assert_eq!(decoded.header().typ(), Some(COURT_ORDER_JWT_TYP));
    assert_eq!(decoded.header().kid(), Some(KID));
    assert_eq!(decoded.header().alg(), Some(SignatureAlgorithm::Es256));
    // Exactly the claims of the spec.
    let claims = order.claims();
    let mut names: Vec<_> = claims.as_object().unwrap().keys().cloned().collect();
    names.sort();
    let mut known: Vec<_> = KNOWN_CLAIMS.iter().map(|s| s.to_string()).collect();
    known.sort();
    assert_eq!(names, known);
}

#[test]
fn two_orders_get_distinct_ids() {
    let f = fixture();
    let a = verify(&sign(&request(), &f.judge), &f.list, NOW).unwrap();
    let b = verify(&sign(&request(), &f.judge), &f.list, NOW).unwrap();
    assert_ne!(a.jti(), b.jti());
    assert_ne!(a.digest(), b.digest());
}

#[test]
fn an_unsigned_order_is_refused() {
    let f = fixture();
    let payload = crate::b64::encode(serde_json::to_vec(&claims()).unwrap());
    let none = format!(
        "{}.{payload}.",
        crate::b64::encode(br#"{"alg":"none","typ":"court-order+jwt","kid":"judge-a-1"}"#)
    );
    assert_eq!(code(&none, &f), "unsigned");
    let no_alg = format!(
        "{}.{payload}.",
        crate::b64::encode(br#"{"typ":"court-order+jwt","kid":"judge-a-1"}"#)
    );
    assert_eq!(code(&no_alg, &f), "unsigned");
    // ES256 named, signature stripped.
    let signed = sign_claims(&claims(), COURT_ORDER_JWT_TYP, KID, &f.judge);
    let stripped = &signed[..=signed.rfind('.').unwrap()];
    assert_eq!(code(stripped, &f), "unsigned");
    // HMAC cannot even be named.
    let hs256 = format!(
        "{}.{payload}.c2lnbmF0dXJl",
        crate::b64::encode(br#"{"alg":"HS256","typ":"court-order+jwt","kid":"judge-a-1"}"#)
    );
    assert_eq!(code(&hs256, &f), "unsigned");
}

#[test]
fn an_order_signed_by_a_key_that_is_not_a_judges_is_refused() {
    let f = fixture();
    // The ledger's key, under the ledger's own name: a trusted entity, but not a judge.
    let by_ledger = sign_claims(
        &with(claims(), "iss", json!("https://ledger.example")),
        COURT_ORDER_JWT_TYP,
        "ledger-1",
        &f.ledger,
    );
    assert_eq!(code(&by_ledger, &f), "not_a_judge");
    // A key nobody listed, claiming to be an unknown judge or a known judge's unknown kid.
    let stranger = es256();
    let unknown = sign_claims(
        &with(claims(), "iss", json!("https://court.example.be/judges/x")),
        COURT_ORDER_JWT_TYP,
        KID,
        &stranger,
    );
    assert_eq!(code(&unknown, &f), "not_a_judge");
    let unknown_kid = sign_claims(&claims(), COURT_ORDER_JWT_TYP, "judge-a-2", &stranger);
    assert_eq!(code(&unknown_kid, &f), "not_a_judge");
}

#[test]
fn a_judge_out_of_office_cannot_order() {
    let f = fixture();
    let expired = sign_claims(
        &with(
            claims(),
            "iss",
            json!("https://court.example.be/judges/old"),
        ),
        COURT_ORDER_JWT_TYP,
        "old-1",
        &f.expired,
    );
    assert_eq!(code(&expired, &f), "judge_expired");
    let early = sign_claims(
        &with(
            claims(),
            "iss",
            json!("https://court.example.be/judges/new"),
        ),
        COURT_ORDER_JWT_TYP,
        "new-1",
        &f.future,
    );
    assert_eq!(code(&early, &f), "judge_not_yet_valid");
    // Valid now, but the order was signed before the judge took office.
    let backdated = sign_claims(
        &with(
            with(
                claims(),
                "iss",
                json!("https://court.example.be/judges/new"),
            ),
            "iat",
            json!(NOW),
        ),
        COURT_ORDER_JWT_TYP,
        "new-1",
        &f.future,
    );
    assert_eq!(
        verify(&backdated, &f.list, NOW + 3700).unwrap_err(),
        CourtOrderError::JudgeNotYetValid
    );
}

#[test]
fn an_altered_order_is_refused() {
    let f = fixture();
    let compact = sign(&request(), &f.judge);
    let parts: Vec<&str> = compact.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&crate::b64::decode(parts[1]).unwrap()).unwrap();
    claims["pseudonym"] = json!("AAAAZ3JvdXAtcHNldWRvbnltLWZvci10ZXN0czAwMDA");
    let altered = format!(
        "{}.{}.{}",
        parts[0],
        crate::b64::encode(serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    assert_eq!(code(&altered, &f), "bad_signature");
    // Another key under the judge's name and kid.
    let forged = sign_claims(&self::claims(), COURT_ORDER_JWT_TYP, KID, &es256());
    assert_eq!(code(&forged, &f), "bad_signature");
    // A flipped signature bit.
    let mut bytes = crate::b64::decode(parts[2]).unwrap();
    bytes[10] ^= 1;
    let flipped = format!("{}.{}.{}", parts[0], parts[1], crate::b64::encode(bytes));
    assert_eq!(code(&flipped, &f), "bad_signature");
}

#[test]
fn another_kind_of_token_is_not_an_order() {
    let f = fixture();
    for typ in ["JWT", "trust-list+jwt", "dc+sd-jwt"] {
        let token = sign_claims(&claims(), typ, KID, &f.judge);
        assert_eq!(code(&token, &f), "wrong_type", "{typ}");
    }
    // `typ` compares as RFC 7515 says.
    let token = sign_claims(&claims(), "application/Court-Order+JWT", KID, &f.judge);
    assert!(verify(&token, &f.list, NOW).is_ok());
}

#[test]
fn an_order_is_valid_from_iat_to_exp_only() {
    let f = fixture();
    let compact = sign(&request(), &f.judge);
    assert!(verify(&compact, &f.list, NOW + 86_400 + CLOCK_SKEW - 1).is_ok());
    assert_eq!(
        verify(&compact, &f.list, NOW + 86_400 + CLOCK_SKEW).unwrap_err(),
        CourtOrderError::Expired
    );
    assert!(verify(&compact, &f.list, NOW - CLOCK_SKEW).is_ok());
    assert_eq!(
        verify(&compact, &f.list, NOW - CLOCK_SKEW - 1).unwrap_err(),
        CourtOrderError::IssuedInFuture
    );
}

#[test]
fn a_wildcard_is_refused_even_when_a_judge_signed_it() {
    let f = fixture();
    for (name, value) in [
        ("pseudonym", json!("*")),
        ("pseudonym", json!("")),
        ("pseudonym", json!("%")),
        (
            "pseudonym",
            json!("q2FfZ3JvdXAtcHNldWRvbnltLWZvci10ZXN0czAw*"),
        ),
        ("pseudonym", json!("ALL")),
        ("pseudonym", Value::Null),
        ("platform", json!("*")),
        ("platform", json!("https://platform.example/?")),
        ("platform", json!("any")),
    ] {
        let token = sign_claims(
            &with(claims(), name, value.clone()),
            COURT_ORDER_JWT_TYP,
            KID,
            &f.judge,
        );
        assert_eq!(code(&token, &f), "wildcard", "{name} = {value}");
    }
    for name in ["pseudonym", "platform"] {
        let token = sign_claims(&without(claims(), name), COURT_ORDER_JWT_TYP, KID, &f.judge);
        assert_eq!(code(&token, &f), "wildcard", "no {name}");
    }
}

#[test]
fn a_list_or_a_range_of_accounts_is_refused() {
    let f = fixture();
    let other = "AAAAZ3JvdXAtcHNldWRvbnltLWZvci10ZXN0czAwMDA";
    let cases = [
        with(claims(), "pseudonym", json!([PSEUDONYM, other])),
        with(claims(), "pseudonym", json!([PSEUDONYM])),
        with(claims(), "pseudonym", json!({"in": [PSEUDONYM]})),
        with(claims(), "pseudonym", json!(format!("{PSEUDONYM},{other}"))),
        with(claims(), "pseudonym", json!(format!("{PSEUDONYM} {other}"))),
        with(
            claims(),
            "platform",
            json!(["https://a.example", "https://b.example"]),
        ),
        with(
            claims(),
            "platform",
            json!("https://a.example;https://b.example"),
        ),
        with(claims(), "pseudonyms", json!([PSEUDONYM, other])),
        with(
            with(claims(), "from", json!(NOW - 86_400)),
            "to",
            json!(NOW),
        ),
        with(claims(), "date_range", json!([NOW - 86_400, NOW])),
        with(claims(), "accounts", json!("all")),
    ];
    for claims in cases {
        let token = sign_claims(&claims, COURT_ORDER_JWT_TYP, KID, &f.judge);
        assert_eq!(code(&token, &f), "bulk", "{claims}");
    }
}

#[test]
fn malformed_orders_are_refused() {
    let f = fixture();
    let cases = [
        with(claims(), "nbf", json!(NOW)),
        with(claims(), "case", json!("")),
        with(claims(), "case", json!("-x")),
        with(claims(), "case", json!("a\nb")),
        with(claims(), "case", json!("x".repeat(65))),
        with(claims(), "ground", json!("  ")),
        with(claims(), "ground", json!("a\u{0}b")),
        with(claims(), "ground", json!("g".repeat(501))),
        with(claims(), "pseudonym", json!("too-short")),
        with(claims(), "pseudonym", json!(format!("{PSEUDONYM}A"))),
        with(claims(), "pseudonym", json!(42)),
        with(claims(), "platform", json!("https://platform.example/<x>")),
        with(claims(), "jti", json!("short")),
        with(claims(), "jti", json!("not base64url but long enough")),
        with(claims(), "iat", json!(1.5)),
        with(claims(), "iat", json!("1800000000")),
        with(claims(), "exp", json!(NOW)),
        with(claims(), "exp", json!(NOW + 86_401)),
        with(
            with(claims(), "exp", json!(NOW + MAX_LIFETIME + 1)),
            "deadline",
            json!(NOW + MAX_LIFETIME + 1),
        ),
        with(claims(), "embargo_until", json!(NOW - 1)),
        with(claims(), "embargo_until", json!("later")),
        without(claims(), "jti"),
        without(claims(), "case"),
        without(claims(), "ground"),
        without(claims(), "deadline"),
        without(claims(), "exp"),
    ];
    for claims in cases {
        let token = sign_claims(&claims, COURT_ORDER_JWT_TYP, KID, &f.judge);
        assert_eq!(code(&token, &f), "malformed", "{claims}");
    }
    for text in [
        "",
        "a.b",
        "a.b.c.d",
        "not a jws",
        &"a".repeat(MAX_ORDER_LEN + 1),
    ] {
        assert_eq!(code(text, &f), "malformed");
    }
    // No kid: the key cannot be found.
    let no_kid = sign_compact(
        &JwsHeader::new(COURT_ORDER_JWT_TYP),
        &serde_json::to_vec(&claims()).unwrap(),
        &*RustCrypto.signer(&f.judge).unwrap(),
    )
    .unwrap();
    assert_eq!(code(&no_kid, &f), "malformed");
}

#[test]
fn the_tool_refuses_to_sign_what_the_verifier_would_refuse() {
    let f = fixture();
    let signer = RustCrypto.signer(&f.judge).unwrap();
    let refused = |request: OrderRequest| {
        sign_order(&request, JUDGE, KID, &*signer, NOW)
            .unwrap_err()
            .code()
    };
    assert_eq!(
        refused(OrderRequest {
            pseudonym: "*".into(),
            ..request()
        }),
        "wildcard"
    );
    assert_eq!(
        refused(OrderRequest {
            pseudonym: format!("{PSEUDONYM},{PSEUDONYM}"),
            ..request()
        }),
        "bulk"
    );
    assert_eq!(
        refused(OrderRequest {
            deadline: NOW - 1,
            ..request()
        }),
        "malformed"
    );
    assert_eq!(
        refused(OrderRequest {
            deadline: NOW + MAX_LIFETIME + 1,
            ..request()
        }),
        "malformed"
    );
    let no_embargo = OrderRequest {
        embargo_until: None,
        ..request()
    };
    let order = verify(&sign(&no_embargo, &f.judge), &f.list, NOW).unwrap();
    assert_eq!(order.embargo_until(), None);
    assert!(order.claims().get("embargo_until").is_none());
}

#[test]
fn an_ed25519_judge_key_decides_its_own_algorithm() {
    // The key type decides: an EdDSA judge signs EdDSA orders, and an ES256 header under
    // that judge's kid does not verify.
    let judge = SecretKey::generate(SignatureAlgorithm::EdDsa).unwrap();
    let list = TrustListBuilder::new("https://trust.example", NOW - 100, NOW + 86_400, 1)
        .entity(
            TrustedEntity::new(JUDGE, "Judge A", NOW - 86_400, NOW + 86_400)
                .with_key(Jwk::new(judge.public_key()).with_kid(KID))
                .with_role(Role::CourtJudge),
        )
        .build()
        .unwrap();
    let compact = sign(&request(), &judge);
    assert!(verify(&compact, &list, NOW).is_ok());
    let es = sign_claims(&claims(), COURT_ORDER_JWT_TYP, KID, &es256());
    assert_eq!(
        verify(&es, &list, NOW).unwrap_err(),
        CourtOrderError::BadSignature
    );
}

#[test]
fn debug_output_shows_no_claim_value() {
    let f = fixture();
    let order = verify(&sign(&request(), &f.judge), &f.list, NOW).unwrap();
    let text = format!("{order:?} {:?}", request());
    for secret in [
        PSEUDONYM,
        PLATFORM,
        "2026/CH-0042",
        "harassment",
        order.jti(),
        JUDGE,
    ] {
        assert!(!text.contains(secret), "{text}");
    }
    // Messages name the rule only.
    assert_eq!(
        CourtOrderError::Malformed("case").to_string(),
        "malformed court order: case"
    );
}
