use super::*;
use crate::{Error, JsonError};
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

// The DCQL examples of OpenID4VP 1.0 (§7.4, Appendix B.1.3.1 and Appendix D), verbatim.
const SIMPLE: &str = include_str!("../../../spec/vectors/openid4vp-1.0-7.4-dcql-simple.json");
const JWT_VC: &str = include_str!("../../../spec/vectors/openid4vp-1.0-b.1.3.1-dcql-jwt-vc.json");
const SIMPLE_MDOC: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-d-dcql-simple-mdoc.json");
const MULTI: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-d-dcql-multi-credentials.json");
const CREDENTIALS_ALTERNATIVES: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-d-dcql-credentials-alternatives.json");
const COMPLEX_MDOC: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-d-dcql-complex-mdoc.json");
const CLAIMS_ALTERNATIVES: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-d-dcql-claims-alternatives.json");
const VALUE_MATCHING: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-d-dcql-value-matching-simple.json");

const ALL_EXAMPLES: [&str; 8] = [
    SIMPLE,
    JWT_VC,
    SIMPLE_MDOC,
    MULTI,
    CREDENTIALS_ALTERNATIVES,
    COMPLEX_MDOC,
    CLAIMS_ALTERNATIVES,
    VALUE_MATCHING,
];

const IDENTITY: &str = "https://credentials.example.com/identity_credential";

/// A stored Credential (or a verified presentation) for the tests.
#[derive(Debug, Clone)]
struct Cred {
    format: &'static str,
    vct: Option<&'static str>,
    doctype: Option<&'static str>,
    claims: Value,
    binding: bool,
}

impl CredentialView for Cred {
    fn format(&self) -> &str {
        self.format
    }
    fn vct(&self) -> Option<&str> {
        self.vct
    }
    fn doctype(&self) -> Option<&str> {
        self.doctype
    }
    fn claims(&self) -> &Value {
        &self.claims
    }
    fn supports_holder_binding(&self) -> bool {
        self.binding
    }
}

fn sd_jwt(vct: &'static str, claims: Value) -> Cred {
    Cred {
        format: FORMAT_DC_SD_JWT,
        vct: Some(vct),
        doctype: None,
        claims,
        binding: true,
    }
}

fn mdoc(doctype: &'static str, claims: Value) -> Cred {
    Cred {
        format: FORMAT_MSO_MDOC,
        vct: None,
        doctype: Some(doctype),
        claims,
        binding: true,
    }
}

fn parse(text: &str) -> DcqlQuery {
    DcqlQuery::parse(text.as_bytes()).unwrap()
}

fn parse_err(value: Value) -> Error {
    DcqlQuery::parse(value.to_string().as_bytes()).unwrap_err()
}

fn dcql_err(value: Value) -> DcqlError {
    match parse_err(value) {
        Error::Dcql(e) => e,
        other => panic!("expected a DCQL error, got {other:?}"),
    }
}

fn paths(list: &[&[&str]]) -> Vec<ClaimsPath> {
    list.iter()
        .map(|p| ClaimsPath::keys(p.iter().copied()).unwrap())
        .collect()
}

fn views(creds: &[Cred]) -> Vec<&dyn CredentialView> {
    creds.iter().map(|c| c as &dyn CredentialView).collect()
}

fn arthur() -> Value {
    json!({
        "last_name": "Dent", "first_name": "Arthur",
        "address": {"street_address": "42 Market Street", "locality": "Milliways"},
        "postal_code": "90210", "birthdate": "1940-01-01"
    })
}

#[test]
fn openid4vp_1_0_examples_parse_validate_and_round_trip() {
    for text in ALL_EXAMPLES {
        let query = parse(text);
        let again = DcqlQuery::parse(serde_json::to_string(&query).unwrap().as_bytes()).unwrap();
        assert_eq!(query, again);
        // The serde path (a DCQL query embedded in a Request Object) agrees.
        let via_serde: DcqlQuery = serde_json::from_str(text).unwrap();
        assert_eq!(query, via_serde);
    }
}

#[test]
fn openid4vp_1_0_7_4_simple_query_asks_for_three_claims() {
    let query = parse(SIMPLE);
    let creds = [
        sd_jwt(IDENTITY, arthur()),
        sd_jwt("https://other.example/vct", arthur()),
        sd_jwt(
            IDENTITY,
            json!({"last_name": "Dent", "first_name": "Arthur"}),
        ),
    ];
    let result = query.evaluate(&views(&creds));
    assert!(result.satisfiable);
    let candidates = result.candidates("my_credential").unwrap();
    // The wrong type and the credential without an address do not match.
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0].credential, 0);
    assert_eq!(
        candidates[0].disclose,
        paths(&[
            &["last_name"],
            &["first_name"],
            &["address", "street_address"]
        ])
    );
    assert_eq!(result.preselection.len(), 1);
    assert_eq!(result.preselection[0].credential_query_id, "my_credential");
}

#[test]
fn openid4vp_1_0_6_1_holder_binding_is_required_by_default() {
    let query = parse(SIMPLE);
    let mut unbound = sd_jwt(IDENTITY, arthur());
    unbound.binding = false;
    let result = query.evaluate(&views(&[unbound.clone()]));
    assert!(!result.satisfiable);
    assert!(result.preselection.is_empty());

    let mut text: Value = serde_json::from_str(SIMPLE).unwrap();
    text["credentials"][0]["require_cryptographic_holder_binding"] = json!(false);
    let relaxed = DcqlQuery::parse(text.to_string().as_bytes()).unwrap();
    assert!(relaxed.evaluate(&views(&[unbound])).satisfiable);
}

#[test]
fn openid4vp_1_0_d_simple_mdoc_uses_namespace_and_element() {
    let query = parse(SIMPLE_MDOC);
    let mvrc = mdoc(
        "org.iso.7367.1.mVRC",
        json!({"org.iso.7367.1": {"vehicle_holder": "Arthur Dent"},
               "org.iso.18013.5.1": {"given_name": "Arthur", "family_name": "Dent"}}),
    );
    let mdl = mdoc("org.iso.18013.5.1.mDL", mvrc.claims.clone());
    let result = query.evaluate(&views(&[mdl, mvrc]));
    let candidates = result.candidates("my_credential").unwrap();
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0].credential, 1);
    assert_eq!(
        candidates[0].disclose,
        paths(&[
            &["org.iso.7367.1", "vehicle_holder"],
            &["org.iso.18013.5.1", "given_name"]
        ])
    );
}

#[test]
fn openid4vp_1_0_d_multi_credentials_all_must_be_returned() {
    let query = parse(MULTI);
    let pid = sd_jwt(
        IDENTITY,
        json!({"given_name": "A", "family_name": "D", "address": {"street_address": "S"}}),
    );
    let mvrc = mdoc(
        "org.iso.7367.1.mVRC",
        json!({"org.iso.7367.1": {"vehicle_holder": "A D"},
               "org.iso.18013.5.1": {"first_name": "A"}}),
    );
    let only_pid = query.evaluate(&views(std::slice::from_ref(&pid)));
    assert!(
        !only_pid.satisfiable,
        "without credential_sets every query is required"
    );
    let both = query.evaluate(&views(&[pid, mvrc]));
    assert!(both.satisfiable);
    let chosen: Vec<_> = both
        .preselection
        .iter()
        .map(|p| (p.credential_query_id.as_str(), p.candidate.credential))
        .collect();
    assert_eq!(chosen, [("pid", 0), ("mdl", 1)]);
}

fn alternatives_wallet() -> Vec<Cred> {
    let names = json!({"given_name": "A", "family_name": "D", "address": {"street_address": "S"}});
    vec![
        sd_jwt("https://othercredentials.example/pid", names.clone()), // 0: other_pid
        sd_jwt(
            "https://credentials.example.com/reduced_identity_credential",
            names,
        ), // 1
        sd_jwt(
            "https://cred.example/residence_credential",
            json!({"postal_code": "1", "locality": "L", "region": "R"}),
        ), // 2
        sd_jwt(
            "https://company.example/company_rewards",
            json!({"rewards_number": "7"}),
        ), // 3
    ]
}

#[test]
fn openid4vp_1_0_d_credentials_alternatives() {
    // "pid, or other_pid, or both pid_reduced_cred_1 and pid_reduced_cred_2; nice_to_have
    // may optionally be delivered."
    let query = parse(CREDENTIALS_ALTERNATIVES);
    let wallet = alternatives_wallet();
    let result = query.evaluate(&views(&wallet));
    assert!(result.satisfiable);
    assert_eq!(
        result.credential_sets,
        vec![
            CredentialSetMatch {
                required: true,
                satisfiable_options: vec![1, 2]
            },
            CredentialSetMatch {
                required: false,
                satisfiable_options: vec![0]
            },
        ]
    );
    // The first satisfiable option (other_pid) is pre-selected; the optional set is not.
    let chosen: Vec<_> = result
        .preselection
        .iter()
        .map(|p| p.credential_query_id.as_str())
        .collect();
    assert_eq!(chosen, ["other_pid"]);

    // Without other_pid the two reduced credentials are needed together.
    let without_other = &wallet[1..];
    let result = query.evaluate(&views(without_other));
    assert!(result.satisfiable);
    let chosen: Vec<_> = result
        .preselection
        .iter()
        .map(|p| p.credential_query_id.as_str())
        .collect();
    assert_eq!(chosen, ["pid_reduced_cred_1", "pid_reduced_cred_2"]);

    // One of the pair alone satisfies nothing required; the optional set does not help.
    let result = query.evaluate(&views(&[wallet[1].clone(), wallet[3].clone()]));
    assert!(!result.satisfiable);
    assert!(result.preselection.is_empty());
    assert_eq!(result.credential_sets[1].satisfiable_options, vec![0]);
}

#[test]
fn openid4vp_1_0_d_complex_mdoc_id_and_optional_address() {
    // "An ID and an address are requested; either can come from an mDL or a photoid."
    let query = parse(COMPLEX_MDOC);
    let person = json!({"org.iso.18013.5.1": {
        "given_name": "A", "family_name": "D", "portrait": "p",
        "resident_address": "x", "resident_country": "y"}});
    let photo = mdoc("org.iso.23220.photoid.1", person.clone());
    let result = query.evaluate(&views(&[photo]));
    assert!(result.satisfiable);
    assert_eq!(result.credential_sets[0].satisfiable_options, vec![1]);
    assert_eq!(result.credential_sets[1].satisfiable_options, vec![1]);
    let chosen: Vec<_> = result
        .preselection
        .iter()
        .map(|p| p.credential_query_id.as_str())
        .collect();
    assert_eq!(chosen, ["photo_card-id"]);

    let mdl = mdoc("org.iso.18013.5.1.mDL", person);
    let result = query.evaluate(&views(&[mdl]));
    assert_eq!(result.credential_sets[0].satisfiable_options, vec![0]);
}

#[test]
fn openid4vp_1_0_6_4_1_claims_alternatives_first_satisfiable_set() {
    // "last_name and date_of_birth, and either postal_code or, if that is not available,
    // both locality and region" — the Verifier listed locality+region first.
    let query = parse(CLAIMS_ALTERNATIVES);
    let full = sd_jwt(
        IDENTITY,
        json!({"last_name": "D", "postal_code": "1", "locality": "L", "region": "R",
               "date_of_birth": "1940-01-01"}),
    );
    let postal_only = sd_jwt(
        IDENTITY,
        json!({"last_name": "D", "postal_code": "1", "date_of_birth": "1940-01-01"}),
    );
    let no_birth = sd_jwt(IDENTITY, json!({"last_name": "D", "postal_code": "1"}));
    let result = query.evaluate(&views(&[full, postal_only, no_birth]));
    let candidates = result.candidates("pid").unwrap();
    assert_eq!(candidates.len(), 2);
    assert_eq!(candidates[0].claim_set, Some(0));
    assert_eq!(
        candidates[0].disclose,
        paths(&[
            &["last_name"],
            &["locality"],
            &["region"],
            &["date_of_birth"]
        ])
    );
    assert_eq!(candidates[1].claim_set, Some(1));
    assert_eq!(
        candidates[1].disclose,
        paths(&[&["last_name"], &["postal_code"], &["date_of_birth"]])
    );
}

#[test]
fn openid4vp_1_0_6_3_value_matching() {
    let query = parse(VALUE_MATCHING);
    let base = json!({"last_name": "Doe", "first_name": "J",
                      "address": {"street_address": "S"}, "postal_code": "90211"});
    let mut wrong_postcode = base.clone();
    wrong_postcode["postal_code"] = json!("12345");
    let mut wrong_type = base.clone();
    wrong_type["postal_code"] = json!(90210);
    let result = query.evaluate(&views(&[
        sd_jwt(IDENTITY, wrong_postcode),
        sd_jwt(IDENTITY, wrong_type),
        sd_jwt(IDENTITY, base),
    ]));
    let candidates = result.candidates("my_credential").unwrap();
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0].credential, 2);
}

#[test]
fn openid4vp_1_0_6_3_value_types_match_exactly() {
    assert!(ClaimValue::from(18).matches(&json!(18)));
    assert!(!ClaimValue::from(18).matches(&json!(18.0)));
    assert!(!ClaimValue::from(18).matches(&json!("18")));
    assert!(ClaimValue::from(true).matches(&json!(true)));
    assert!(!ClaimValue::from(true).matches(&json!("true")));
    assert!(ClaimValue::from("a").matches(&json!("a")));
    let big = ClaimValue::try_from(json!(u64::MAX)).unwrap();
    assert!(big.matches(&json!(u64::MAX)));
    assert!(!big.matches(&json!(-1)));
}

#[test]
fn openid4vp_1_0_6_4_1_without_claims_only_mandatory_claims() {
    let query = DcqlQuery::parse(
        json!({"credentials": [{"id": "age", "format": "dc+sd-jwt",
                                "meta": {"vct_values": [IDENTITY]}}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let result = query.evaluate(&views(&[sd_jwt(IDENTITY, arthur())]));
    assert!(result.satisfiable);
    assert!(result.preselection[0].candidate.disclose.is_empty());
}

#[test]
fn openid4vp_1_0_6_1_duplicate_claim_queries_are_disclosed_once() {
    let query = DcqlQuery::parse(
        json!({"credentials": [{"id": "c", "format": "dc+sd-jwt",
            "meta": {"vct_values": [IDENTITY]},
            "claims": [{"path": ["last_name"]}, {"path": ["last_name"]}]}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let result = query.evaluate(&views(&[sd_jwt(IDENTITY, arthur())]));
    assert_eq!(
        result.preselection[0].candidate.disclose,
        paths(&[&["last_name"]])
    );
}

#[test]
fn openid4vp_1_0_6_unknown_properties_are_ignored() {
    let query = DcqlQuery::parse(
        json!({"future": 1, "credentials": [{"id": "c", "format": "dc+sd-jwt", "x": {},
            "meta": {"vct_values": [IDENTITY], "y": 2},
            "claims": [{"path": ["a"], "z": null}]}],
            "credential_sets": [{"options": [["c"]], "purpose": "legacy"}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(query.credentials()[0].id, "c");
}

#[test]
fn openid4vp_1_0_6_trusted_authorities_are_kept_as_data() {
    let query = DcqlQuery::parse(
        json!({"credentials": [{"id": "c", "format": "dc+sd-jwt",
            "meta": {"vct_values": [IDENTITY]},
            "trusted_authorities": [{"type": "aki", "values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}]}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let authorities = query.credentials()[0].trusted_authorities.as_ref().unwrap();
    assert_eq!(authorities[0].kind, "aki");
    assert_eq!(authorities[0].values, ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]);
}

// ---- Validation rules, one variant each. ----

fn base() -> Value {
    json!({"credentials": [{"id": "c", "format": "dc+sd-jwt", "meta": {"vct_values": [IDENTITY]},
                            "claims": [{"id": "a", "path": ["a"]}]}]})
}

#[test]
fn openid4vp_1_0_6_rejects_missing_or_empty_credentials() {
    assert_eq!(dcql_err(json!({})), DcqlError::MissingMember("credentials"));
    assert_eq!(
        dcql_err(json!({"credentials": []})),
        DcqlError::EmptyArray("credentials")
    );
    let mut q = base();
    q["credential_sets"] = json!([]);
    assert_eq!(dcql_err(q), DcqlError::EmptyArray("credential_sets"));
}

#[test]
fn openid4vp_1_0_6_1_rejects_bad_credential_query_ids() {
    for bad in ["", "a b", "a.b", "ä", "a/b", "a\u{0}"] {
        let mut q = base();
        q["credentials"][0]["id"] = json!(bad);
        assert_eq!(dcql_err(q), DcqlError::InvalidCredentialQueryId, "{bad:?}");
    }
    let mut q = base();
    q["credentials"][0]["id"] = json!("Az09_-");
    assert!(DcqlQuery::parse(q.to_string().as_bytes()).is_ok());

    let mut q = base();
    q["credentials"][0].as_object_mut().unwrap().remove("id");
    assert_eq!(dcql_err(q), DcqlError::MissingMember("id"));
}

#[test]
fn openid4vp_1_0_6_1_rejects_duplicate_credential_query_id() {
    let mut q = base();
    let first = q["credentials"][0].clone();
    q["credentials"].as_array_mut().unwrap().push(first);
    assert_eq!(
        dcql_err(q),
        DcqlError::DuplicateCredentialQueryId("c".to_owned())
    );
}

#[test]
fn openid4vp_1_0_6_1_rejects_missing_format_and_meta() {
    let mut q = base();
    q["credentials"][0]
        .as_object_mut()
        .unwrap()
        .remove("format");
    assert_eq!(dcql_err(q), DcqlError::MissingMember("format"));
    let mut q = base();
    q["credentials"][0].as_object_mut().unwrap().remove("meta");
    assert_eq!(dcql_err(q), DcqlError::MissingMember("meta"));
    let mut q = base();
    q["credentials"][0]["meta"] = json!(["x"]);
    assert_eq!(dcql_err(q), DcqlError::MetaNotObject);
}

#[test]
fn openid4vp_1_0_b_3_5_rejects_bad_vct_values() {
    for meta in [
        json!({}),
        json!({"vct_values": []}),
        json!({"vct_values": "x"}),
        json!({"vct_values": [1]}),
    ] {
        let mut q = base();
        q["credentials"][0]["meta"] = meta;
        assert!(
            matches!(
                dcql_err(q),
                DcqlError::InvalidMeta {
                    format: "dc+sd-jwt",
                    ..
                }
            ),
            "meta"
        );
    }
}

#[test]
fn openid4vp_1_0_b_2_3_rejects_bad_doctype_value_and_mdoc_paths() {
    let mdoc_query = |meta: Value, path: Value| {
        json!({"credentials": [{"id": "m", "format": "mso_mdoc", "meta": meta,
                                "claims": [{"path": path, "intent_to_retain": true}]}]})
    };
    assert!(matches!(
        dcql_err(mdoc_query(json!({}), json!(["ns", "e"]))),
        DcqlError::InvalidMeta {
            format: "mso_mdoc",
            ..
        }
    ));
    assert!(matches!(
        dcql_err(mdoc_query(
            json!({"doctype_value": ["x"]}),
            json!(["ns", "e"])
        )),
        DcqlError::InvalidMeta {
            format: "mso_mdoc",
            ..
        }
    ));
    for path in [
        json!(["ns"]),
        json!(["ns", "e", "x"]),
        json!(["ns", 0]),
        json!(["ns", null]),
    ] {
        assert_eq!(
            dcql_err(mdoc_query(json!({"doctype_value": "d"}), path)),
            DcqlError::InvalidMdocClaimsPath
        );
    }
    let ok = DcqlQuery::parse(
        mdoc_query(json!({"doctype_value": "d"}), json!(["ns", "e"]))
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        ok.credentials()[0].claims.as_ref().unwrap()[0].intent_to_retain,
        Some(true)
    );
}

#[test]
fn openid4vp_1_0_b_1_1_rejects_bad_type_values() {
    for meta in [
        json!({}),
        json!({"type_values": []}),
        json!({"type_values": [[]]}),
        json!({"type_values": ["a"]}),
    ] {
        let q = json!({"credentials": [{"id": "w", "format": "jwt_vc_json", "meta": meta}]});
        assert!(matches!(
            dcql_err(q),
            DcqlError::InvalidMeta {
                format: "jwt_vc_json",
                ..
            }
        ));
    }
}

#[test]
fn openid4vp_1_0_6_1_1_rejects_bad_trusted_authorities() {
    let mut q = base();
    q["credentials"][0]["trusted_authorities"] = json!([]);
    assert_eq!(dcql_err(q), DcqlError::EmptyArray("trusted_authorities"));
    let mut q = base();
    q["credentials"][0]["trusted_authorities"] = json!([{"type": "aki", "values": []}]);
    assert_eq!(
        dcql_err(q),
        DcqlError::EmptyArray("trusted_authorities values")
    );
    let mut q = base();
    q["credentials"][0]["trusted_authorities"] = json!([{"values": ["x"]}]);
    assert_eq!(dcql_err(q), DcqlError::MissingMember("type"));
}

#[test]
fn openid4vp_1_0_6_3_rejects_bad_claims() {
    let mut q = base();
    q["credentials"][0]["claims"] = json!([]);
    assert_eq!(dcql_err(q), DcqlError::EmptyArray("claims"));

    let mut q = base();
    q["credentials"][0]["claims"] = json!([{"id": "a"}]);
    assert_eq!(dcql_err(q), DcqlError::MissingMember("path"));

    let mut q = base();
    q["credentials"][0]["claims"] = json!([{"path": []}]);
    assert_eq!(dcql_err(q), DcqlError::InvalidClaimsPath("empty path"));

    let mut q = base();
    q["credentials"][0]["claims"] = json!([{"path": ["a", -1]}]);
    assert!(matches!(dcql_err(q), DcqlError::InvalidClaimsPath(_)));

    let mut q = base();
    q["credentials"][0]["claims"] = json!([{"id": "a b", "path": ["a"]}]);
    assert_eq!(dcql_err(q), DcqlError::InvalidClaimId);

    let mut q = base();
    q["credentials"][0]["claims"] = json!([{"id": "a", "path": ["a"]}, {"id": "a", "path": ["b"]}]);
    assert_eq!(
        dcql_err(q),
        DcqlError::DuplicateClaimId {
            credential_query: "c".to_owned(),
            claim: "a".to_owned()
        }
    );
}

#[test]
fn openid4vp_1_0_6_3_rejects_bad_values() {
    let mut q = base();
    q["credentials"][0]["claims"][0]["values"] = json!([]);
    assert_eq!(dcql_err(q), DcqlError::EmptyArray("values"));
    for bad in [json!(1.5), json!(null), json!([]), json!({})] {
        let mut q = base();
        q["credentials"][0]["claims"][0]["values"] = json!(["ok", bad]);
        assert_eq!(dcql_err(q), DcqlError::InvalidClaimValue);
    }
    let mut q = base();
    q["credentials"][0]["claims"][0]["values"] = json!(["s", 1, -2, true]);
    assert!(DcqlQuery::parse(q.to_string().as_bytes()).is_ok());
}

#[test]
fn openid4vp_1_0_6_4_1_rejects_bad_claim_sets() {
    let mut q = base();
    q["credentials"][0]
        .as_object_mut()
        .unwrap()
        .remove("claims");
    q["credentials"][0]["claim_sets"] = json!([["a"]]);
    assert_eq!(
        dcql_err(q),
        DcqlError::ClaimSetsWithoutClaims("c".to_owned())
    );

    let mut q = base();
    q["credentials"][0]["claim_sets"] = json!([]);
    assert_eq!(dcql_err(q), DcqlError::EmptyArray("claim_sets"));

    let mut q = base();
    q["credentials"][0]["claim_sets"] = json!([[]]);
    assert_eq!(dcql_err(q), DcqlError::EmptyArray("claim_sets element"));

    let mut q = base();
    q["credentials"][0]["claim_sets"] = json!([["a", "zz"]]);
    assert_eq!(
        dcql_err(q),
        DcqlError::UnknownClaimId {
            credential_query: "c".to_owned(),
            claim: "zz".to_owned()
        }
    );

    let mut q = base();
    q["credentials"][0]["claims"] = json!([{"id": "a", "path": ["a"]}, {"path": ["b"]}]);
    q["credentials"][0]["claim_sets"] = json!([["a"]]);
    assert_eq!(dcql_err(q), DcqlError::MissingClaimId("c".to_owned()));
}

#[test]
fn openid4vp_1_0_6_2_rejects_bad_credential_sets() {
    let with_sets = |sets: Value| {
        let mut q = base();
        q["credential_sets"] = sets;
        q
    };
    assert_eq!(
        dcql_err(with_sets(json!([{"required": true}]))),
        DcqlError::MissingMember("options")
    );
    assert_eq!(
        dcql_err(with_sets(json!([{"options": []}]))),
        DcqlError::EmptyArray("options")
    );
    assert_eq!(
        dcql_err(with_sets(json!([{"options": [[]]}]))),
        DcqlError::EmptyArray("options element")
    );
    assert_eq!(
        dcql_err(with_sets(json!([{"options": [["c"], ["nope"]]}]))),
        DcqlError::UnknownCredentialQueryId("nope".to_owned())
    );
}

#[test]
fn wrong_member_types_are_json_schema_errors_without_values() {
    let mut q = base();
    q["credentials"][0]["multiple"] = json!("secret-value");
    let err = parse_err(q);
    assert!(matches!(err, Error::Json(JsonError::Schema(_))), "{err:?}");
    assert!(!err.to_string().contains("secret-value"));
}

#[test]
fn malformed_deep_and_duplicate_json_is_refused() {
    assert!(matches!(
        DcqlQuery::parse(b"{\"credentials\": ["),
        Err(Error::Json(JsonError::Syntax { .. }))
    ));
    assert!(matches!(
        DcqlQuery::parse(br#"{"credentials": [], "credentials": []}"#),
        Err(Error::Json(JsonError::DuplicateMember))
    ));
    let deep = format!("{{\"credentials\": {}{}}}", "[".repeat(40), "]".repeat(40));
    assert!(matches!(
        DcqlQuery::parse(deep.as_bytes()),
        Err(Error::Json(JsonError::TooDeep(_)))
    ));
    let big = vec![b' '; MAX_DCQL_QUERY_BYTES + 1];
    assert!(matches!(
        DcqlQuery::parse(&big),
        Err(Error::Json(JsonError::TooLarge { .. }))
    ));
}

#[test]
fn errors_never_quote_claim_values() {
    let mut q = base();
    q["credentials"][0]["claims"][0]["values"] = json!(["secret-value", 1.5]);
    let err = parse_err(q);
    assert!(!format!("{err} {err:?}").contains("secret-value"));
}

// ---- Verifier side (SECURITY-CATALOGUE V7). ----

fn presented<'a>(entries: &[(&str, Vec<&'a Cred>)]) -> PresentedCredentials<'a> {
    entries
        .iter()
        .map(|(id, list)| {
            (
                (*id).to_owned(),
                list.iter().map(|c| *c as &dyn CredentialView).collect(),
            )
        })
        .collect::<BTreeMap<_, _>>()
}

#[test]
fn v7_verifier_accepts_a_matching_presentation() {
    let query = parse(VALUE_MATCHING);
    let p = sd_jwt(
        IDENTITY,
        json!({"last_name": "Doe", "first_name": "J", "address": {"street_address": "S"},
               "postal_code": "90210"}),
    );
    assert_eq!(
        query.check_presented(&presented(&[("my_credential", vec![&p])])),
        Ok(())
    );
}

#[test]
fn v7_verifier_refuses_what_the_query_did_not_ask_for() {
    let query = parse(VALUE_MATCHING);
    let good = json!({"last_name": "Doe", "first_name": "J",
                      "address": {"street_address": "S"}, "postal_code": "90210"});
    let id = || "my_credential".to_owned();
    let p = sd_jwt(IDENTITY, good.clone());

    let other = sd_jwt(IDENTITY, good.clone());
    assert_eq!(
        query.check_presented(&presented(&[
            ("my_credential", vec![&p]),
            ("extra", vec![&other])
        ])),
        Err(DcqlError::UnexpectedCredentialQueryId("extra".to_owned()))
    );
    assert_eq!(
        query.check_presented(&presented(&[("my_credential", vec![])])),
        Err(DcqlError::NoPresentation(id()))
    );
    assert_eq!(
        query.check_presented(&presented(&[("my_credential", vec![&p, &other])])),
        Err(DcqlError::TooManyPresentations(id()))
    );
    assert_eq!(
        query.check_presented(&presented(&[])),
        Err(DcqlError::MissingPresentation(id()))
    );

    let wrong_vct = sd_jwt("https://credits.example/training_account", good.clone());
    assert_eq!(
        query.check_presented(&presented(&[("my_credential", vec![&wrong_vct])])),
        Err(DcqlError::CredentialTypeMismatch(id()))
    );
    let mut wrong_format = p.clone();
    wrong_format.format = FORMAT_MSO_MDOC;
    assert_eq!(
        query.check_presented(&presented(&[("my_credential", vec![&wrong_format])])),
        Err(DcqlError::FormatMismatch(id()))
    );
    let mut unbound = p.clone();
    unbound.binding = false;
    assert_eq!(
        query.check_presented(&presented(&[("my_credential", vec![&unbound])])),
        Err(DcqlError::HolderBindingMissing(id()))
    );
    let mut missing = good.clone();
    missing["address"] = json!({});
    let missing = sd_jwt(IDENTITY, missing);
    assert_eq!(
        query.check_presented(&presented(&[("my_credential", vec![&missing])])),
        Err(DcqlError::RequestedClaimMissing {
            credential_query: id(),
            path: paths(&[&["address", "street_address"]]).remove(0)
        })
    );
    let mut mismatch = good;
    mismatch["last_name"] = json!("Smith");
    let mismatch = sd_jwt(IDENTITY, mismatch);
    assert_eq!(
        query.check_presented(&presented(&[("my_credential", vec![&mismatch])])),
        Err(DcqlError::ClaimValueMismatch {
            credential_query: id(),
            path: paths(&[&["last_name"]]).remove(0)
        })
    );
}

#[test]
fn v7_verifier_checks_claim_sets_and_multiple() {
    let query = parse(CLAIMS_ALTERNATIVES);
    let partial = sd_jwt(
        IDENTITY,
        json!({"last_name": "D", "locality": "L", "date_of_birth": "x"}),
    );
    assert_eq!(
        query.check_presented(&presented(&[("pid", vec![&partial])])),
        Err(DcqlError::NoClaimSetSatisfied("pid".to_owned()))
    );
    let second = sd_jwt(
        IDENTITY,
        json!({"last_name": "D", "postal_code": "1", "date_of_birth": "x"}),
    );
    assert_eq!(
        query.check_presented(&presented(&[("pid", vec![&second])])),
        Ok(())
    );

    let mut text: Value = serde_json::from_str(CLAIMS_ALTERNATIVES).unwrap();
    text["credentials"][0]["multiple"] = json!(true);
    let multiple = DcqlQuery::parse(text.to_string().as_bytes()).unwrap();
    assert_eq!(
        multiple.check_presented(&presented(&[("pid", vec![&second, &second])])),
        Ok(())
    );
}

#[test]
fn v7_verifier_checks_credential_sets() {
    let query = parse(CREDENTIALS_ALTERNATIVES);
    let wallet = alternatives_wallet();
    // Only half of the reduced pair, plus the optional credential: not enough.
    assert_eq!(
        query.check_presented(&presented(&[
            ("pid_reduced_cred_1", vec![&wallet[1]]),
            ("nice_to_have", vec![&wallet[3]]),
        ])),
        Err(DcqlError::CredentialSetNotSatisfied(0))
    );
    assert_eq!(
        query.check_presented(&presented(&[
            ("pid_reduced_cred_1", vec![&wallet[1]]),
            ("pid_reduced_cred_2", vec![&wallet[2]]),
        ])),
        Ok(())
    );
    // A credential answering the wrong query id is caught by its type.
    assert_eq!(
        query.check_presented(&presented(&[("pid", vec![&wallet[0]])])),
        Err(DcqlError::CredentialTypeMismatch("pid".to_owned()))
    );
}

// ---- Property tests. ----

fn id_strategy() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,8}"
}

fn claim_value_strategy() -> impl Strategy<Value = ClaimValue> {
    prop_oneof![
        "[a-z]{0,6}".prop_map(ClaimValue::String),
        any::<i64>().prop_map(ClaimValue::from),
        any::<bool>().prop_map(ClaimValue::Boolean),
    ]
}

fn path_strategy() -> impl Strategy<Value = ClaimsPath> {
    prop::collection::vec(
        prop_oneof![
            "[a-z_]{1,6}".prop_map(PathElement::Key),
            (0usize..4).prop_map(PathElement::Index),
            Just(PathElement::AllElements),
        ],
        1..4,
    )
    .prop_filter_map("non-empty", ClaimsPath::new)
}

fn credential_strategy() -> impl Strategy<Value = CredentialQuery> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(
            (
                path_strategy(),
                prop::option::of(prop::collection::vec(claim_value_strategy(), 1..3)),
            ),
            0..4,
        ),
        any::<bool>(),
        prop::collection::vec("[a-z.:/]{1,12}", 1..3),
        prop::option::of(prop::collection::vec("[a-zA-Z0-9]{1,8}", 1..2)),
    )
        .prop_map(|(multiple, binding, claims, use_sets, vcts, aki)| {
            let with_ids = use_sets && !claims.is_empty();
            let claims: Vec<ClaimsQuery> = claims
                .into_iter()
                .enumerate()
                .map(|(i, (path, values))| ClaimsQuery {
                    id: with_ids.then(|| format!("c{i}")),
                    path,
                    values,
                    intent_to_retain: None,
                })
                .collect();
            let claim_sets = with_ids.then(|| {
                let ids: Vec<String> = (0..claims.len()).map(|i| format!("c{i}")).collect();
                vec![ids.clone(), ids.into_iter().take(1).collect()]
            });
            let mut meta = Map::new();
            meta.insert("vct_values".to_owned(), json!(vcts));
            CredentialQuery {
                id: String::new(),
                format: FORMAT_DC_SD_JWT.to_owned(),
                multiple,
                meta,
                trusted_authorities: aki.map(|values| {
                    vec![TrustedAuthoritiesQuery {
                        kind: "aki".to_owned(),
                        values,
                    }]
                }),
                require_cryptographic_holder_binding: binding,
                claims: (!claims.is_empty()).then_some(claims),
                claim_sets,
            }
        })
}

fn query_strategy() -> impl Strategy<Value = DcqlQuery> {
    (
        prop::collection::btree_set(id_strategy(), 1..4),
        prop::collection::vec(credential_strategy(), 4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(ids, templates, with_sets, required)| {
            let ids: Vec<String> = ids.into_iter().collect();
            let credentials: Vec<CredentialQuery> = ids
                .iter()
                .zip(templates)
                .map(|(id, mut c)| {
                    c.id = id.clone();
                    c
                })
                .collect();
            let sets = with_sets.then(|| {
                vec![CredentialSetQuery {
                    options: ids.iter().map(|id| vec![id.clone()]).collect(),
                    required,
                }]
            });
            match DcqlQuery::new(credentials, sets) {
                Ok(q) => q,
                Err(e) => panic!("generated query invalid: {e}"),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn generated_queries_validate_and_round_trip(query in query_strategy()) {
        let text = serde_json::to_vec(&query).unwrap();
        let again = DcqlQuery::parse(&text).unwrap();
        prop_assert_eq!(query, again);
    }

    #[test]
    fn evaluation_never_panics_and_candidates_satisfy_the_verifier(
        query in query_strategy(),
        claims in prop::collection::vec(
            prop::collection::btree_map("[a-z_]{1,6}", prop_oneof![
                "[a-z]{0,3}".prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<bool>().prop_map(Value::from),
            ], 0..6),
            0..4),
    ) {
        let vcts: Vec<&'static str> = query
            .credentials()
            .iter()
            .filter_map(|c| c.vct_values())
            .flatten()
            .map(|v| &*Box::leak(v.to_owned().into_boxed_str()))
            .collect();
        let creds: Vec<Cred> = claims
            .into_iter()
            .enumerate()
            .map(|(i, map)| sd_jwt(
                vcts.get(i % vcts.len().max(1)).copied().unwrap_or("x"),
                Value::Object(map.into_iter().collect()),
            ))
            .collect();
        let result = query.evaluate(&views(&creds));
        // Whatever the Wallet pre-selects, the Verifier's own check accepts.
        if result.satisfiable {
            let mut vp: PresentedCredentials<'_> = BTreeMap::new();
            for p in &result.preselection {
                vp.insert(
                    p.credential_query_id.clone(),
                    vec![&creds[p.candidate.credential] as &dyn CredentialView],
                );
            }
            prop_assert_eq!(query.check_presented(&vp), Ok(()));
        }
    }
}
