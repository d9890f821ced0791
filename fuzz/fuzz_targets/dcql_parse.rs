#![no_main]
//! DCQL: `DcqlQuery::parse` on arbitrary bytes, then `evaluate` against a small fixed set of
//! credentials (SD-JWT VC PID, an mdoc, one without holder binding) and `check_presented`.
//! Every candidate must point at a real credential, and every path it discloses must exist.

use credential_formats::dcql::{CredentialView, DcqlQuery, PresentedCredentials};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use std::sync::OnceLock;

#[derive(Debug)]
struct Credential {
    format: &'static str,
    vct: Option<&'static str>,
    doctype: Option<&'static str>,
    claims: Value,
    holder_binding: bool,
}

impl CredentialView for Credential {
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
        self.holder_binding
    }
}

fn credentials() -> &'static [Credential] {
    static CREDENTIALS: OnceLock<Vec<Credential>> = OnceLock::new();
    CREDENTIALS.get_or_init(|| {
        vec![
            Credential {
                format: "dc+sd-jwt",
                vct: Some("https://credentials.example.com/identity_credential"),
                doctype: None,
                claims: json!({
                    "given_name": "Erika",
                    "family_name": "Mustermann",
                    "age_over_18": true,
                    "birth_year": 1984,
                    "address": {"street_address": "Heidestraße 17", "locality": "Köln",
                                "postal_code": "51147", "country": "DE"},
                    "nationalities": ["DE", "FR"],
                    "degrees": [{"type": "Bachelor", "year": 2005}, {"type": "Master"}]
                }),
                holder_binding: true,
            },
            Credential {
                format: "mso_mdoc",
                vct: None,
                doctype: Some("org.iso.18013.5.1.mDL"),
                claims: json!({
                    "org.iso.18013.5.1": {"given_name": "Erika", "family_name": "Mustermann",
                                          "age_over_21": true, "portrait": "AAAA"}
                }),
                holder_binding: true,
            },
            Credential {
                format: "dc+sd-jwt",
                vct: Some("https://example.org/membership"),
                doctype: None,
                claims: json!({"member_id": 42, "level": "gold", "tags": [null, 1, "x"]}),
                holder_binding: false,
            },
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(query) = DcqlQuery::parse(data) else {
        return;
    };
    // The parsed query survives its own serialisation.
    if let Ok(json) = serde_json::to_vec(&query) {
        assert!(
            DcqlQuery::parse(&json).is_ok_and(|again| again == query),
            "DCQL round trip"
        );
    }
    let _ = query.credential_sets();
    for cq in query.credentials() {
        let _ = (cq.vct_values(), cq.doctype_value(), cq.type_values());
        assert!(query.credential(&cq.id).is_some());
    }
    let all = credentials();
    let views: Vec<&dyn CredentialView> = all.iter().map(|c| c as &dyn CredentialView).collect();
    let result = query.evaluate(&views);
    assert_eq!(result.credential_queries.len(), query.credentials().len());
    for m in &result.credential_queries {
        for candidate in &m.candidates {
            let Some(credential) = all.get(candidate.credential) else {
                panic!("candidate index out of range");
            };
            for path in &candidate.disclose {
                assert!(
                    path.select(&credential.claims).is_ok_and(|v| !v.is_empty()),
                    "candidate discloses an absent claim"
                );
            }
        }
    }
    // Present the preselection (or every first candidate) and check it against the query.
    let mut presented: PresentedCredentials<'_> = Default::default();
    for m in &result.credential_queries {
        if let Some(candidate) = m.candidates.first()
            && let Some(view) = views.get(candidate.credential)
        {
            presented.entry(m.id.clone()).or_default().push(*view);
        }
    }
    let checked = query.check_presented(&presented);
    if result.satisfiable && result.credential_sets.is_empty() {
        assert!(
            checked.is_ok(),
            "a satisfiable query refused its own candidates"
        );
    }
});
