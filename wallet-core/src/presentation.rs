//! The holder side of OpenID4VP 1.0 (HAIP profile), as a typestate: [`PresentationSession`]
//! (request fetched, its signature and `x509_hash` client id verified, the verifier found in
//! the trust list, the DCQL query evaluated against the stored credentials, shown to the
//! person) → [`PresentationSession::accept`] (presented) or [`PresentationSession::decline`].
//! Both consume the session, so a request is answered once.

use serde_json::{Value, json};

use credential_formats::MessageError;
use credential_formats::claims_path::{ClaimsPath, PathElement};
use credential_formats::credentials::CredentialType;
use credential_formats::credits::{TRAINING_SPEND, TrainingSpend};
use credential_formats::crypto::RustCrypto;
use credential_formats::dcql::{CredentialView, DcqlResult, FORMAT_DC_SD_JWT};
use credential_formats::jose::{ContentEncryption, JweHeader, Jwk, encrypt_compact};
use credential_formats::oid4vp::{
    AuthorizationErrorCode, AuthorizationErrorResponse, AuthorizationRequestUri, DirectPostBody,
    RequestObject, ResponseMode, ResponseUriResponse, SHA_256, VerifierInfo, VpToken,
    verify_request_object,
};
use credential_formats::sd_jwt::{KeyBinding, SdJwt};
use credential_formats::trust_list::{Role, TrustedEntity};

use crate::Error;
use crate::keys::AliasSigner;
use crate::store::StoredCredential;
use crate::transport::HttpRequest;
use crate::wallet::Wallet;

/// The media type of a signed Request Object (RFC 9101 §10.2).
const REQUEST_OBJECT_MEDIA_TYPE: &str = "application/oauth-authz-req+jwt";
const FORM: &str = "application/x-www-form-urlencoded";

/// What one credential query of the request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRequestSummary {
    /// The credential query `id`.
    pub id: String,
    /// The credential type asked for (`vct`), when the query names one.
    pub vct: Option<String>,
    /// Its English, French and Dutch names, when it is a type we know.
    pub labels: Option<[String; 3]>,
    /// The claims that would be disclosed (names such as `age_over_18`; nested claims as
    /// `address.locality`, array elements as `nationalities[0]` or `nationalities[]`).
    pub claims: Vec<String>,
    /// Whether a stored credential answers this query (and would be presented on accept).
    pub available: bool,
}

/// A `training_spend` the person would authorise by presenting their training account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendSummary {
    /// The provider's name, from the trust list (never from the request).
    pub provider_name: String,
    /// The provider's identifier in the trust list (the verifier asking).
    pub provider_id: String,
    /// The course code the provider is accredited for.
    pub course: String,
    /// The course's title, as the provider gives it (display text, unverified).
    pub course_title: Option<String>,
    /// The credits to be debited.
    pub amount: u64,
    /// The provider's id for this spend.
    pub transaction_id: String,
}

/// What the person sees before answering a presentation request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSummary {
    /// The verifier's name, from the trust list (never from the request).
    pub verifier_name: String,
    /// The verifier's identifier in the trust list.
    pub verifier_id: String,
    /// The request's `client_id` (`x509_hash:…`).
    pub client_id: String,
    /// `purpose`, when a `verifier_info` entry's data carries one.
    pub purpose: Option<String>,
    /// `platform`, when a `verifier_info` entry's data names one (the verifier asking on a
    /// platform's behalf).
    pub platform: Option<String>,
    /// The request's `verifier_info` entries, as sent (unverified: the verifier's word).
    pub verifier_info: Vec<VerifierInfo>,
    /// Per credential query, in query order.
    pub credentials: Vec<CredentialRequestSummary>,
    /// The types of the `transaction_data` entries, if any.
    pub transaction_data: Vec<String>,
    /// The `training_spend` entries, checked against the trust list, in request order.
    pub spends: Vec<SpendSummary>,
    /// Whether the wallet can answer: when `false`, accepting sends the same refusal as
    /// declining.
    pub satisfiable: bool,
}

/// What the verifier answered to a presentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Where to send the person's browser next, if the verifier asked.
    pub redirect_uri: Option<String>,
}

/// A stored credential as DCQL sees it: one per batch, its claims as a JSON object.
struct Candidate {
    credential: StoredCredential,
    claims: Value,
}

impl CredentialView for Candidate {
    fn format(&self) -> &str {
        FORMAT_DC_SD_JWT
    }
    fn vct(&self) -> Option<&str> {
        Some(&self.credential.vct)
    }
    fn doctype(&self) -> Option<&str> {
        None
    }
    fn claims(&self) -> &Value {
        &self.claims
    }
    fn supports_holder_binding(&self) -> bool {
        // Every credential the wallet stores was checked to be bound to one of its keys.
        true
    }
}

/// A presentation request verified and evaluated, waiting for the person's decision.
pub struct PresentationSession<'w> {
    wallet: &'w Wallet,
    request: RequestObject,
    candidates: Vec<Candidate>,
    result: DcqlResult,
    summary: RequestSummary,
}

impl std::fmt::Debug for PresentationSession<'_> {
    // The nonce and the candidates' claims stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentationSession")
            .field("client_id", &self.summary.client_id)
            .field("satisfiable", &self.summary.satisfiable)
            .finish_non_exhaustive()
    }
}

/// A readable name for a claims path: `age_over_18`, `address.locality`, `nationalities[0]`.
fn claim_name(path: &ClaimsPath) -> String {
    let mut name = String::new();
    for element in path.elements() {
        match element {
            PathElement::Key(key) => {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(key);
            }
            PathElement::Index(i) => name.push_str(&format!("[{i}]")),
            PathElement::AllElements => name.push_str("[]"),
        }
    }
    name
}

/// The authority (host and port) of an `https` URL, lower-cased.
fn host_of(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(authority.to_ascii_lowercase())
}

/// The first string member `name` of a `verifier_info` entry's data object.
fn info_field(info: &[VerifierInfo], name: &str) -> Option<String> {
    info.iter()
        .find_map(|i| i.data.get(name).and_then(Value::as_str).map(str::to_owned))
}

impl<'w> PresentationSession<'w> {
    /// Reads `openid4vp://?client_id=…&request_uri=…`, fetches and verifies the Request
    /// Object, finds its verifier in the trust list and evaluates its query.
    pub(crate) async fn resolve(
        wallet: &'w Wallet,
        uri: &str,
    ) -> Result<PresentationSession<'w>, Error> {
        let invocation = AuthorizationRequestUri::parse(uri)?;
        // Always GET: a wallet that does not POST to the request_uri must GET it (§5.10).
        let response = wallet
            .send(
                HttpRequest::get(&invocation.request_uri)
                    .header("Accept", REQUEST_OBJECT_MEDIA_TYPE),
            )
            .await?;
        if response.status != 200 {
            return Err(Error::Protocol("the verifier did not serve its request"));
        }
        let signed = std::str::from_utf8(&response.body)
            .map_err(|_| Error::Protocol("the request object is not text"))?
            .trim();
        let now = wallet.now();
        let request = verify_request_object(&RustCrypto, signed, None, now)?;
        request.check_client_id(&invocation)?;
        // The answer goes back to the host the request came from. OpenID4VP leaves the
        // `x509_hash` prefix without such a binding; we add it, so a request relayed from a
        // registered verifier's host cannot send the person's answer somewhere else.
        if host_of(&request.response_uri) != host_of(&invocation.request_uri) {
            return Err(Error::Untrusted(
                "the request sends the answer to another host than the one it came from",
            ));
        }
        let x509_hash = request
            .x509_hash()
            .ok_or(Error::Protocol("the request is not signed under x509_hash"))?;
        let trust = wallet.trust_list().await?;
        let verifier = trust
            .verifier_by_x509_hash(x509_hash, now)
            .map_err(|_| Error::Untrusted("the verifier is not in the trust list"))?;
        let (verifier_name, verifier_id) = (verifier.name().to_owned(), verifier.id().to_owned());
        // Before anything is shown: a request whose transaction data the wallet cannot
        // show, or that the verifier may not ask for, is refused outright, so the person is
        // never asked to consent to terms they cannot read.
        let spends = match check_transaction_data(&request, verifier, now) {
            Ok(spends) => spends,
            Err(refusal) => {
                refuse_transaction_data(wallet, &request, &verifier_id, &verifier_name, &refusal)
                    .await;
                return Err(Error::Invalid(refusal.error.into()));
            }
        };

        let candidates = candidates(wallet.batches()?, now);
        let views: Vec<&dyn CredentialView> = candidates.iter().map(|c| c as _).collect();
        let result = request.dcql_query.evaluate(&views);

        let credentials = request
            .dcql_query
            .credentials()
            .iter()
            .map(|query| {
                let chosen = result
                    .preselection
                    .iter()
                    .find(|p| p.credential_query_id == query.id);
                let vct = match chosen {
                    Some(p) => candidates
                        .get(p.candidate.credential)
                        .map(|c| c.credential.vct.clone()),
                    None => query
                        .vct_values()
                        .and_then(|v| v.first().map(|s| (*s).to_owned())),
                };
                let claims: Vec<String> = match chosen {
                    Some(p) => p.candidate.disclose.iter().map(claim_name).collect(),
                    // Not answerable: what was asked, for the person to see why.
                    None => query
                        .claims
                        .iter()
                        .flatten()
                        .map(|c| claim_name(&c.path))
                        .collect(),
                };
                CredentialRequestSummary {
                    id: query.id.clone(),
                    labels: vct
                        .as_deref()
                        .and_then(|v| CredentialType::from_vct(v).ok())
                        .map(|t| t.labels().map(str::to_owned)),
                    vct,
                    claims,
                    available: chosen.is_some(),
                }
            })
            .collect();
        let verifier_info = request.verifier_info.clone().unwrap_or_default();
        let summary = RequestSummary {
            verifier_name,
            verifier_id,
            client_id: request.client_id.as_str().to_owned(),
            purpose: info_field(&verifier_info, "purpose"),
            platform: info_field(&verifier_info, "platform"),
            verifier_info,
            credentials,
            transaction_data: request
                .transaction_data
                .iter()
                .flatten()
                .map(|t| t.data_type().to_owned())
                .collect(),
            spends,
            satisfiable: result.satisfiable,
        };
        Ok(PresentationSession {
            wallet,
            request,
            candidates,
            result,
            summary,
        })
    }

    /// What to show the person.
    pub fn summary(&self) -> &RequestSummary {
        &self.summary
    }

    /// Presents: for each preselected credential query a copy (single-use copies taken, and
    /// marked used, before anything is sent), disclosing only the claims the query needs,
    /// bound to this verifier and nonce; then sends the response. When nothing answers the
    /// request, sends the same refusal as [`decline`](Self::decline) and returns
    /// [`Error::NothingToPresent`].
    pub async fn accept(self) -> Result<Outcome, Error> {
        if !self.result.satisfiable || self.result.preselection.is_empty() {
            self.refuse("no_match").await?;
            return Err(Error::NothingToPresent);
        }
        let now = self.wallet.now();
        let transaction_data = self.request.transaction_data.as_deref().unwrap_or_default();
        let mut entries = Vec::new();
        let mut disclosed = Vec::new();
        for chosen in &self.result.preselection {
            let candidate = self
                .candidates
                .get(chosen.candidate.credential)
                .ok_or(Error::Corrupt("a DCQL candidate is out of range"))?;
            // Committed as used before it leaves the wallet: a crash loses a copy, never
            // shows one twice.
            let copy = self
                .wallet
                .take_unused_copy(&candidate.credential.batch_id)?
                .ok_or(Error::NothingToPresent)?;
            let hashes: Vec<Value> = transaction_data
                .iter()
                .filter(|t| t.credential_ids().contains(&chosen.credential_query_id))
                .map(|t| Value::from(t.hash()))
                .collect();
            let mut binding =
                KeyBinding::new(self.request.client_id.as_str(), &self.request.nonce, now);
            if !hashes.is_empty() {
                binding = binding
                    .with_claim("transaction_data_hashes", Value::Array(hashes))
                    .with_claim("transaction_data_hashes_alg", Value::from(SHA_256));
            }
            let signer = AliasSigner::new(self.wallet.keys(), copy.key_alias.clone())?;
            let presentation = SdJwt::parse(&copy.compact)?
                .present(&chosen.candidate.disclose)?
                .bind(&binding, &signer)?
                .serialize();
            entries.push((chosen.credential_query_id.clone(), vec![presentation]));
            disclosed.push(json!({
                "vct": copy.vct,
                "claims": chosen.candidate.disclose.iter().map(claim_name).collect::<Vec<_>>(),
            }));
        }
        let vp_token = VpToken::new(entries)?;
        let state = self.request.state.as_deref();
        let body = match self.request.response_mode {
            ResponseMode::DirectPostJwt => {
                let (key, enc) = self.encryption()?;
                let payload = DirectPostBody::encrypted_response_payload(&vp_token, state);
                let response =
                    encrypt_compact(&RustCrypto, key, enc, payload.as_bytes(), JweHeader::new())
                        .map_err(|e| Error::Invalid(e.into()))?;
                DirectPostBody::Encrypted { response }.to_form()
            }
            ResponseMode::DirectPost => DirectPostBody::VpToken {
                vp_token,
                state: state.map(str::to_owned),
            }
            .to_form(),
        };
        let sent = self.post(body).await;
        let outcome = match &sent {
            Ok(_) => "presented",
            Err(Error::Refused(_)) => "refused_by_verifier",
            Err(_) => "not_delivered",
        };
        self.log(outcome, &disclosed)?;
        sent
    }

    /// Declines: the verifier gets `access_denied`, exactly as when the wallet holds nothing
    /// that answers, so it cannot tell the two apart.
    pub async fn decline(self) -> Result<(), Error> {
        self.refuse("declined").await
    }

    async fn refuse(&self, outcome: &str) -> Result<(), Error> {
        let error = AuthorizationErrorResponse::new(
            AuthorizationErrorCode::AccessDenied,
            None,
            self.request.state.clone(),
        )?;
        // Error responses go unencrypted, even under direct_post.jwt (§8.3).
        let sent = self.post(DirectPostBody::Error(error).to_form()).await;
        self.log(
            if sent.is_ok() {
                outcome
            } else {
                "refusal_not_delivered"
            },
            &[],
        )?;
        sent.map(|_| ())
    }

    /// The verifier's encryption key from `client_metadata.jwks` (the first usable for
    /// ECDH-ES on P-256) and the first content encryption it lists that we support (A128GCM
    /// when it lists none).
    fn encryption(&self) -> Result<(&Jwk, ContentEncryption), Error> {
        let metadata = self
            .request
            .client_metadata
            .as_ref()
            .ok_or(Error::Protocol("the request has no encryption key"))?;
        let key = metadata
            .jwks
            .iter()
            .flatten()
            .find(|k| {
                matches!(k.key(), credential_formats::crypto::PublicKey::P256 { .. })
                    && k.key_use().is_none_or(|u| u == "enc")
                    && k.alg().is_none_or(|a| a == "ECDH-ES")
            })
            .ok_or(Error::Protocol("the request has no ECDH-ES encryption key"))?;
        let enc = match &metadata.encrypted_response_enc_values_supported {
            None => ContentEncryption::A128Gcm,
            Some(values) => values
                .iter()
                .find_map(|v| ContentEncryption::from_name(v))
                .ok_or(Error::Protocol(
                    "the verifier lists no content encryption we support",
                ))?,
        };
        Ok((key, enc))
    }

    async fn post(&self, body: String) -> Result<Outcome, Error> {
        post(self.wallet, &self.request.response_uri, body).await
    }

    /// The log entry: who asked, on whose behalf, which claims (names, never values), and
    /// how it ended.
    fn log(&self, outcome: &str, disclosed: &[Value]) -> Result<(), Error> {
        let s = &self.summary;
        self.wallet.append_log(&json!({
            "kind": "presentation",
            "counterparty": {
                "verifier": s.verifier_id,
                "name": s.verifier_name,
                "client_id": s.client_id,
            },
            "platform": s.platform,
            "purpose": s.purpose,
            "credentials": disclosed,
            "transaction_data": s.transaction_data,
            "spends": s.spends.iter().map(spend_log).collect::<Vec<_>>(),
            "outcome": outcome,
        }))
    }
}

/// How a spend is recorded in the log: what was authorised, and to whom.
fn spend_log(spend: &SpendSummary) -> Value {
    json!({
        "provider": spend.provider_id,
        "provider_name": spend.provider_name,
        "course": spend.course,
        "amount": spend.amount,
        "transaction_id": spend.transaction_id,
    })
}

/// Sends a form to the verifier's `response_uri` and reads its answer.
async fn post(wallet: &Wallet, response_uri: &str, body: String) -> Result<Outcome, Error> {
    let response = wallet
        .send(
            HttpRequest::post(response_uri, FORM, body.into_bytes())
                .header("Accept", "application/json"),
        )
        .await?;
    if response.status != 200 {
        return Err(Error::Refused(crate::issuance::error_code(&response.body)));
    }
    let redirect_uri = if response.body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        ResponseUriResponse::parse(&response.body)?.redirect_uri
    };
    Ok(Outcome { redirect_uri })
}

/// Why a request's `transaction_data` was refused: the rule, and what the verifier is told.
struct TransactionDataRefusal {
    error: MessageError,
    description: String,
}

fn refusal(error: MessageError, description: &str) -> TransactionDataRefusal {
    TransactionDataRefusal {
        error,
        description: description.to_owned(),
    }
}

/// Checks every `transaction_data` entry of a verified request from `verifier` (its
/// trust-list entity): a type the wallet knows (only `training_spend`), well formed, bound to
/// training-account queries only, and asked for by the provider it names, accredited for its
/// course. Returns the spends to show.
fn check_transaction_data(
    request: &RequestObject,
    verifier: &TrustedEntity,
    now: i64,
) -> Result<Vec<SpendSummary>, TransactionDataRefusal> {
    let mut spends = Vec::new();
    for entry in request.transaction_data.iter().flatten() {
        if entry.data_type() != TRAINING_SPEND {
            return Err(refusal(
                MessageError::InvalidParameter("transaction_data.type"),
                "unknown transaction_data type",
            ));
        }
        let spend = TrainingSpend::from_transaction_data(entry).map_err(|e| {
            let description = format!("malformed training_spend: {e}");
            TransactionDataRefusal {
                error: e,
                description,
            }
        })?;
        // The hash is signed in the Key Binding JWT of the credential answering each named
        // query: only a training account may authorise a spend.
        let account = CredentialType::TrainingAccount.vct();
        for id in entry.credential_ids() {
            let query = request
                .dcql_query
                .credentials()
                .iter()
                .find(|q| q.id == *id)
                .ok_or_else(|| {
                    refusal(
                        MessageError::UnknownCredentialQuery,
                        "training_spend names an unknown credential query",
                    )
                })?;
            let asks_for_account = query
                .vct_values()
                .is_some_and(|values| !values.is_empty() && values.iter().all(|v| *v == account));
            if !asks_for_account {
                return Err(refusal(
                    MessageError::InvalidParameter("transaction_data.credential_ids"),
                    "training_spend must name a training account query",
                ));
            }
        }
        if spend.provider != verifier.id() {
            return Err(refusal(
                MessageError::InvalidParameter("transaction_data.provider"),
                "the training_spend provider is not the requesting verifier",
            ));
        }
        if !verifier.has_role(Role::TrainingProvider) {
            return Err(refusal(
                MessageError::InvalidParameter("transaction_data.provider"),
                "the requesting verifier is not an accredited training provider",
            ));
        }
        if !verifier.courses().contains(&spend.course) {
            return Err(refusal(
                MessageError::InvalidParameter("transaction_data.course"),
                "the provider is not accredited for the training_spend course",
            ));
        }
        if verifier.check_valid_at(now).is_err() {
            return Err(refusal(
                MessageError::InvalidParameter("transaction_data.provider"),
                "the provider accreditation is not valid now",
            ));
        }
        spends.push(SpendSummary {
            provider_name: verifier.name().to_owned(),
            provider_id: verifier.id().to_owned(),
            course: spend.course,
            course_title: spend.course_title,
            amount: spend.amount,
            transaction_id: spend.transaction_id,
        });
    }
    Ok(spends)
}

/// Tells the verifier `invalid_transaction_data` (§8.5) and logs the refusal. Best effort:
/// the request is refused whether or not the answer arrives, so failures here are only
/// logged.
async fn refuse_transaction_data(
    wallet: &Wallet,
    request: &RequestObject,
    verifier_id: &str,
    verifier_name: &str,
    refusal: &TransactionDataRefusal,
) {
    let sent = match AuthorizationErrorResponse::new(
        AuthorizationErrorCode::InvalidTransactionData,
        Some(refusal.description.clone()),
        request.state.clone(),
    ) {
        Ok(error) => post(
            wallet,
            &request.response_uri,
            DirectPostBody::Error(error).to_form(),
        )
        .await
        .is_ok(),
        Err(_) => false,
    };
    // The log cannot fail the refusal: the error the caller gets says why it was refused.
    let _ = wallet.append_log(&json!({
        "kind": "presentation",
        "counterparty": {
            "verifier": verifier_id,
            "name": verifier_name,
            "client_id": request.client_id.as_str(),
        },
        "transaction_data": request
            .transaction_data
            .iter()
            .flatten()
            .map(|t| t.data_type())
            .collect::<Vec<_>>(),
        "refusal": refusal.description,
        "outcome": if sent { "refused_invalid_transaction_data" } else { "refusal_not_delivered" },
    }));
}

/// The stored credentials DCQL may pick from: one per batch (two copies of a batch are the
/// same credential to the person and to the verifier), only batches with a copy left, and
/// none that has expired (a verifier would refuse it anyway).
/// One candidate per batch with a copy left, unexpired. The batch's first copy stands for
/// all (its copies carry the same claims); `accept` then takes an unused one. Only one
/// record per batch is opened, not every copy.
fn candidates(batches: Vec<(StoredCredential, usize)>, now: i64) -> Vec<Candidate> {
    batches
        .into_iter()
        .filter(|(credential, unused)| {
            *unused > 0 && credential.expires_at.is_none_or(|exp| exp > now)
        })
        .map(|(credential, _)| Candidate {
            claims: Value::Object(credential.claims.clone()),
            credential,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_names_read_like_the_paths() {
        let path = ClaimsPath::new(vec![
            PathElement::Key("address".into()),
            PathElement::Key("locality".into()),
        ])
        .unwrap();
        assert_eq!(claim_name(&path), "address.locality");
        let path = ClaimsPath::new(vec![
            PathElement::Key("nationalities".into()),
            PathElement::AllElements,
        ])
        .unwrap();
        assert_eq!(claim_name(&path), "nationalities[]");
    }
}
