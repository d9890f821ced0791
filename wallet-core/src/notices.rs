//! The person's notices of court openings, fetched from the State register
//! (`GET /register/notices`) with a presentation of the person attestation it issued:
//! `person_handle` only, bound to the register's URL and a `c_nonce` it gave.

use serde::Deserialize;
use serde_json::json;

use credential_formats::claims_path::ClaimsPath;
use credential_formats::credentials::CredentialType;
use credential_formats::oid4vci::NonceResponse;
use credential_formats::sd_jwt::{KeyBinding, SdJwt};

use crate::Error;
use crate::keys::AliasSigner;
use crate::store::StoredCredential;
use crate::transport::HttpRequest;
use crate::wallet::Wallet;

/// The store setting naming, per register, the copy kept for it (JSON: URL → copy id).
const NOTICE_COPIES: &str = "register_notice_copies";

/// The one claim shown to the register.
const HANDLE: &str = "person_handle";

/// Most notices accepted in one answer (a person's lifetime of openings fits many times).
const MAX_NOTICES: usize = 1000;

/// A notice that a court had the register resolve the person's handle: a pseudonym of theirs
/// on `platform` was linked to them. Given once the order's embargo is over.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CourtNotice {
    /// The court's case number.
    pub case: String,
    /// The legal ground of the order.
    pub ground: String,
    /// The platform whose account was linked to the person.
    pub platform: String,
    /// The judge who signed the order (their identifier in the trust list).
    pub judge: String,
    /// When the register answered the court (seconds since the epoch).
    pub resolved_at: i64,
    /// The resolution's index in the register's transparency log, to check it there.
    pub log_index: u64,
}

#[derive(Deserialize)]
struct NoticesResponse {
    notices: Vec<CourtNotice>,
}

impl Wallet {
    /// Fetches the notices of court openings concerning the person from the State register at
    /// `register_url` (the issuer of their person attestation; `https://host[:port]`).
    ///
    /// A nonce is asked at `{register_url}/nonce`; a copy of the person attestation the
    /// register issued is presented disclosing `person_handle` only, key-bound to
    /// `register_url`, that nonce and now, in `Authorization: SD-JWT …` of
    /// `GET {register_url}/register/notices`. The fetch goes into the transaction log (to
    /// whom, which claim, how it ended). [`Error::NothingToPresent`] when the wallet holds no
    /// valid person attestation of that register; [`Error::Refused`] with the register's
    /// error code when it refuses.
    pub async fn court_notices(&self, register_url: &str) -> Result<Vec<CourtNotice>, Error> {
        let register = register_url.trim_end_matches('/');
        if !register.starts_with("https://") {
            return Err(Error::Protocol("the register's URL must be https"));
        }
        // Chosen before anything goes out: a register whose attestation the wallet does not
        // hold is never contacted.
        let copy = self.register_copy(register)?;
        let response = self
            .send(HttpRequest::post(
                format!("{register}/nonce"),
                "application/json",
                Vec::new(),
            ))
            .await?;
        if response.status != 200 {
            return Err(Error::Protocol("the register gave no nonce"));
        }
        let nonce = NonceResponse::parse(&response.body)?;
        let path = ClaimsPath::keys([HANDLE]).ok_or(Error::Corrupt("claims path"))?;
        let signer = AliasSigner::new(self.keys(), copy.key_alias.clone())?;
        let presentation = SdJwt::parse(&copy.compact)?
            .present(&[path])?
            .bind(
                &KeyBinding::new(register, nonce.c_nonce(), self.now()),
                &signer,
            )?
            .serialize();
        let sent = self
            .send(
                HttpRequest::get(format!("{register}/register/notices"))
                    .header("Authorization", format!("SD-JWT {presentation}"))
                    .header("Accept", "application/json"),
            )
            .await;
        let answer = match sent {
            Ok(response) if response.status == 200 => {
                serde_json::from_slice::<NoticesResponse>(&response.body)
                    .map_err(|_| Error::Protocol("the register's notices are malformed"))
                    .and_then(|r| {
                        if r.notices.len() > MAX_NOTICES {
                            Err(Error::Protocol("the register sent too many notices"))
                        } else {
                            Ok(r.notices)
                        }
                    })
            }
            Ok(response) => Err(Error::Refused(crate::issuance::error_code(&response.body))),
            Err(e) => Err(e),
        };
        let outcome = match &answer {
            Ok(_) => "fetched",
            Err(Error::Refused(_)) => "refused_by_register",
            Err(Error::Protocol(_)) => "malformed_answer",
            Err(_) => "not_delivered",
        };
        self.append_log(&json!({
            "kind": "court_notices",
            "counterparty": {"register": register},
            "credentials": [{"vct": copy.vct, "claims": [HANDLE]}],
            "count": answer.as_ref().map(Vec::len).ok(),
            "outcome": outcome,
        }))?;
        answer
    }

    /// The copy of the register's person attestation to present to it.
    ///
    /// Person attestations are single-use so that two verifiers cannot link their
    /// presentations by the issuer's signature. The register issued every copy and knows
    /// whose handle it carries, so showing it a copy tells it nothing new — but a copy the
    /// register has seen must never reach a verifier afterwards: the register and that
    /// verifier could then link the verifier's pseudonym to the person without a court. Nor
    /// may a copy already shown to a verifier go to the register, for the same reason. So
    /// one unused copy is taken (marked used, exactly as for a verifier, so it never leaves
    /// again for anyone else) and kept for this register: later fetches present that same
    /// copy until it expires, and cost no further copy.
    fn register_copy(&self, register: &str) -> Result<StoredCredential, Error> {
        self.service_copy(
            NOTICE_COPIES,
            "the register copies setting",
            register,
            |c| self.is_attestation_of(c, register),
        )
    }

    fn is_attestation_of(&self, copy: &StoredCredential, register: &str) -> bool {
        copy.vct == CredentialType::PersonAttestation.vct()
            && copy.issuer.trim_end_matches('/') == register
    }
}
