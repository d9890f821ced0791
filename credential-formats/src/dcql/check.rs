//! The Verifier's side: do the verified presentations satisfy the query it sent?
//!
//! §6.4 lets the Wallet deviate (value matching is best effort, a Wallet may ignore it) and
//! SECURITY-CATALOGUE V7 says the Verifier never relies on the Wallet enforcing the query, so
//! the Verifier checks the answer against its own query with [`DcqlQuery::check_presented`].

use super::evaluate::{CredentialView, claim_present, credential_type_matches};
use super::{CredentialQuery, DcqlError, DcqlQuery};
use std::collections::BTreeMap;

/// The verified presentations of a VP Token, by Credential Query `id` (the VP Token's keys,
/// §8.1): what each presentation's signature, Key Binding and disclosures established.
pub type PresentedCredentials<'a> = BTreeMap<String, Vec<&'a dyn CredentialView>>;

impl DcqlQuery {
    /// Checks that verified presentations answer this query (§6.4, §8.1): every key is one of
    /// the query's Credential Query ids; each entry has at least one presentation and only one
    /// unless `multiple`; each presentation has the requested format and type, Cryptographic
    /// Holder Binding when required, and the requested claims (all of `claims`, or one option
    /// of `claim_sets`) with the requested `values`; and the Credential Queries answered
    /// satisfy every required Credential Set Query (or, without `credential_sets`, all
    /// Credential Queries are answered).
    ///
    /// Issuer trust, validity and status are checked elsewhere, before this.
    pub fn check_presented(&self, presented: &PresentedCredentials<'_>) -> Result<(), DcqlError> {
        for (id, presentations) in presented {
            let query = self
                .credential(id)
                .ok_or_else(|| DcqlError::UnexpectedCredentialQueryId(id.clone()))?;
            if presentations.is_empty() {
                return Err(DcqlError::NoPresentation(id.clone()));
            }
            if presentations.len() > 1 && !query.multiple {
                return Err(DcqlError::TooManyPresentations(id.clone()));
            }
            for presentation in presentations {
                check_one(query, *presentation)?;
            }
        }
        let answered = |id: &String| presented.contains_key(id);
        match &self.credential_sets {
            None => {
                if let Some(missing) = self.credentials.iter().find(|c| !answered(&c.id)) {
                    return Err(DcqlError::MissingPresentation(missing.id.clone()));
                }
            }
            Some(sets) => {
                for (index, set) in sets.iter().enumerate() {
                    let satisfied = set.options.iter().any(|o| o.iter().all(answered));
                    if set.required && !satisfied {
                        return Err(DcqlError::CredentialSetNotSatisfied(index));
                    }
                }
            }
        }
        Ok(())
    }
}

fn check_one(query: &CredentialQuery, presentation: &dyn CredentialView) -> Result<(), DcqlError> {
    let id = || query.id.clone();
    if presentation.format() != query.format {
        return Err(DcqlError::FormatMismatch(id()));
    }
    if !credential_type_matches(query, presentation) {
        return Err(DcqlError::CredentialTypeMismatch(id()));
    }
    if query.require_cryptographic_holder_binding && !presentation.supports_holder_binding() {
        return Err(DcqlError::HolderBindingMissing(id()));
    }
    let Some(claims) = &query.claims else {
        return Ok(());
    };
    let disclosed = presentation.claims();
    let check = |claim: &super::ClaimsQuery| {
        if claim.path.select(disclosed).is_err() {
            Err(DcqlError::RequestedClaimMissing {
                credential_query: id(),
                path: claim.path.clone(),
            })
        } else if !claim_present(claim, disclosed) {
            Err(DcqlError::ClaimValueMismatch {
                credential_query: id(),
                path: claim.path.clone(),
            })
        } else {
            Ok(())
        }
    };
    match &query.claim_sets {
        None => claims.iter().try_for_each(check),
        Some(sets) => {
            let satisfied = sets.iter().any(|set| {
                set.iter().all(|claim_id| {
                    claims
                        .iter()
                        .find(|c| c.id.as_deref() == Some(claim_id.as_str()))
                        .is_some_and(|c| check(c).is_ok())
                })
            });
            if satisfied {
                Ok(())
            } else {
                Err(DcqlError::NoClaimSetSatisfied(id()))
            }
        }
    }
}
