//! The Wallet's side: which stored Credentials can answer a query, and with which claims
//! (OpenID4VP 1.0 §6.4).

use super::{ClaimsQuery, CredentialQuery, DcqlQuery, FORMAT_DC_SD_JWT, FORMAT_MSO_MDOC};
use crate::claims_path::ClaimsPath;
use serde_json::Value;

/// What the DCQL evaluation needs to know about a Credential. The Wallet implements it for its
/// stored Credentials; the Verifier for the presentations it has verified.
pub trait CredentialView {
    /// The Credential Format Identifier, e.g. `dc+sd-jwt`.
    fn format(&self) -> &str;
    /// The SD-JWT VC type (`vct`), for `dc+sd-jwt`.
    fn vct(&self) -> Option<&str>;
    /// The mdoc doctype, for `mso_mdoc`.
    fn doctype(&self) -> Option<&str>;
    /// The claims as JSON. For SD-JWT VC the fully disclosed claim set (what the Wallet holds,
    /// or what a presentation disclosed); for mdoc `{namespace: {data element: value}}`.
    fn claims(&self) -> &Value;
    /// Whether the Credential supports (Wallet) or the presentation carries (Verifier)
    /// Cryptographic Holder Binding, e.g. an SD-JWT with `cnf` / a verified Key Binding JWT.
    fn supports_holder_binding(&self) -> bool;
}

/// One stored Credential that can answer a Credential Query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Index of the Credential in the slice given to [`DcqlQuery::evaluate`].
    pub credential: usize,
    /// Index in `claim_sets` of the option used: the first one this Credential satisfies.
    pub claim_set: Option<usize>,
    /// Exactly the claims to disclose, in query order (empty: only the mandatory ones).
    pub disclose: Vec<ClaimsPath>,
}

/// The candidates for one Credential Query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialQueryMatch {
    /// The Credential Query `id`.
    pub id: String,
    /// Every stored Credential that matches, in the order they were given.
    pub candidates: Vec<Candidate>,
}

/// How far the Wallet can satisfy one Credential Set Query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSetMatch {
    /// Whether the set is required.
    pub required: bool,
    /// Indices of the `options` whose every Credential Query has a candidate, in order.
    pub satisfiable_options: Vec<usize>,
}

/// A Credential the Wallet may pre-select for one Credential Query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preselected {
    /// The Credential Query `id` (the key in the VP Token).
    pub credential_query_id: String,
    /// Its first candidate.
    pub candidate: Candidate,
}

/// The outcome of evaluating a query against the Wallet's Credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcqlResult {
    /// Per Credential Query, in query order, all candidates (for the consent screen).
    pub credential_queries: Vec<CredentialQueryMatch>,
    /// Per Credential Set Query, in query order; empty when the query has none.
    pub credential_sets: Vec<CredentialSetMatch>,
    /// Whether every required Credential can be delivered (§6.4.2). When `false` the Wallet
    /// MUST NOT return any Credential.
    pub satisfiable: bool,
    /// A deterministic default the Wallet may pre-select: for each required Credential Set
    /// Query its first satisfiable option (or every Credential Query when there are no sets),
    /// and for each Credential Query its first candidate. Optional sets are left for the
    /// End-User to add, to disclose no more than required. Empty when not satisfiable.
    pub preselection: Vec<Preselected>,
}

impl DcqlResult {
    /// The candidates for the Credential Query with this `id`.
    pub fn candidates(&self, id: &str) -> Option<&[Candidate]> {
        self.credential_queries
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.candidates.as_slice())
    }
}

impl DcqlQuery {
    /// Evaluates the query against the Wallet's Credentials (§6.4).
    ///
    /// A Credential is a candidate for a Credential Query when its format is the requested
    /// one, its type is allowed by `meta` (`vct_values` for `dc+sd-jwt`, `doctype_value` for
    /// `mso_mdoc`; other formats match only with an empty `meta`, as this crate cannot see
    /// their types), it supports Cryptographic Holder Binding if required, and it holds the
    /// requested claims: all of `claims`, or the first option of `claim_sets` it satisfies.
    /// A claim with `values` counts as present only if a selected value has the type and value
    /// of one of them.
    ///
    /// Not evaluated: `trusted_authorities` (kept as data; the Wallet's own policy, and the
    /// Verifier checks trust itself), and SD-JWT VC type inheritance (`vct` must be listed).
    pub fn evaluate(&self, credentials: &[&dyn CredentialView]) -> DcqlResult {
        let credential_queries: Vec<CredentialQueryMatch> = self
            .credentials
            .iter()
            .map(|query| CredentialQueryMatch {
                id: query.id.clone(),
                candidates: credentials
                    .iter()
                    .enumerate()
                    .filter_map(|(index, credential)| match_credential(query, *credential, index))
                    .collect(),
            })
            .collect();
        let has_candidate = |id: &str| {
            credential_queries
                .iter()
                .any(|m| m.id == id && !m.candidates.is_empty())
        };

        let (credential_sets, chosen_ids): (Vec<CredentialSetMatch>, Option<Vec<&str>>) =
            match &self.credential_sets {
                None => {
                    let all = self.credentials.iter().map(|c| c.id.as_str()).collect();
                    let ok = self.credentials.iter().all(|c| has_candidate(&c.id));
                    (Vec::new(), ok.then_some(all))
                }
                Some(sets) => {
                    let matches: Vec<CredentialSetMatch> = sets
                        .iter()
                        .map(|set| CredentialSetMatch {
                            required: set.required,
                            satisfiable_options: set
                                .options
                                .iter()
                                .enumerate()
                                .filter(|(_, option)| option.iter().all(|id| has_candidate(id)))
                                .map(|(index, _)| index)
                                .collect(),
                        })
                        .collect();
                    let mut chosen: Option<Vec<&str>> = Some(Vec::new());
                    for (set, found) in sets.iter().zip(&matches) {
                        if !set.required {
                            continue;
                        }
                        let first = found
                            .satisfiable_options
                            .first()
                            .and_then(|&i| set.options.get(i));
                        match (first, chosen.as_mut()) {
                            (Some(option), Some(ids)) => {
                                ids.extend(option.iter().map(String::as_str))
                            }
                            _ => chosen = None,
                        }
                    }
                    (matches, chosen)
                }
            };

        let satisfiable = chosen_ids.is_some();
        // In query order and once each, whichever sets named them.
        let preselection = match chosen_ids {
            None => Vec::new(),
            Some(ids) => credential_queries
                .iter()
                .filter(|m| ids.contains(&m.id.as_str()))
                .filter_map(|m| {
                    m.candidates.first().map(|candidate| Preselected {
                        credential_query_id: m.id.clone(),
                        candidate: candidate.clone(),
                    })
                })
                .collect(),
        };
        DcqlResult {
            credential_queries,
            credential_sets,
            satisfiable,
            preselection,
        }
    }
}

fn match_credential(
    query: &CredentialQuery,
    credential: &dyn CredentialView,
    index: usize,
) -> Option<Candidate> {
    if !credential_type_matches(query, credential) {
        return None;
    }
    if query.require_cryptographic_holder_binding && !credential.supports_holder_binding() {
        return None;
    }
    let (claim_set, disclose) = select_claims(query, credential.claims())?;
    Some(Candidate {
        credential: index,
        claim_set,
        disclose,
    })
}

/// Format and `meta` (Appendix B): the parts of a match that do not look at claims.
pub(super) fn credential_type_matches(
    query: &CredentialQuery,
    credential: &dyn CredentialView,
) -> bool {
    if credential.format() != query.format {
        return false;
    }
    match query.format.as_str() {
        FORMAT_DC_SD_JWT => match (query.vct_values(), credential.vct()) {
            (Some(allowed), Some(vct)) => allowed.contains(&vct),
            _ => false,
        },
        FORMAT_MSO_MDOC => {
            query.doctype_value().is_some() && query.doctype_value() == credential.doctype()
        }
        _ => query.meta.is_empty(),
    }
}

/// The claims to disclose for `query` from `claims` (§6.4.1), with the claim set used; `None`
/// when the Credential cannot deliver what is asked.
pub(super) fn select_claims(
    query: &CredentialQuery,
    claims: &Value,
) -> Option<(Option<usize>, Vec<ClaimsPath>)> {
    let Some(requested) = &query.claims else {
        return Some((None, Vec::new()));
    };
    match &query.claim_sets {
        None => requested
            .iter()
            .all(|c| claim_present(c, claims))
            .then(|| (None, unique_paths(requested.iter()))),
        Some(sets) => sets.iter().enumerate().find_map(|(index, set)| {
            let members: Vec<&ClaimsQuery> = set
                .iter()
                .filter_map(|id| requested.iter().find(|c| c.id.as_deref() == Some(id)))
                .collect();
            members
                .iter()
                .all(|c| claim_present(c, claims))
                .then(|| (Some(index), unique_paths(members.into_iter())))
        }),
    }
}

/// Whether the claim exists and, with `values`, has one of them (§6.3, §7.1).
pub(super) fn claim_present(claim: &ClaimsQuery, claims: &Value) -> bool {
    // A path that aborts (§7.1) means the claim is not there: the credential does not match.
    let Ok(selected) = claim.path.select(claims) else {
        return false;
    };
    match &claim.values {
        None => true,
        Some(values) => selected
            .iter()
            .any(|v| values.iter().any(|expected| expected.matches(v))),
    }
}

/// Paths in order without repeats: §6.1 says Wallets SHOULD ignore duplicate claim queries.
fn unique_paths<'a>(claims: impl Iterator<Item = &'a ClaimsQuery>) -> Vec<ClaimsPath> {
    let mut paths: Vec<ClaimsPath> = Vec::new();
    for claim in claims {
        if !paths.contains(&claim.path) {
            paths.push(claim.path.clone());
        }
    }
    paths
}
