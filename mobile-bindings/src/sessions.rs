//! `wallet-core`'s typestate sessions, held for the app.
//!
//! `OfferSession<'w>` and `PresentationSession<'w>` borrow the wallet, and a borrow cannot
//! cross the FFI. Each session therefore lives in a task of its own that owns an `Arc` of
//! the wallet: the task resolves the session, sends its summary out, and waits for the one
//! decision the app may send; then it calls `accept` or `decline` — consuming the session,
//! exactly as in the core — and sends the result back. No lifetime is extended and nothing
//! is re-fetched: the session answered is the session shown. When the app lets go of the
//! object without answering, the task's channel closes and the session is dropped
//! unanswered, as a core session dropped unanswered.
//!
//! An `accept` whose caller stops waiting (a cancelled coroutine) still runs to its end in
//! the task: a half-done issuance or presentation would be worse than an unread result.

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::WalletError;
use crate::views::{OfferSummary, PresentationOutcome, RequestSummary};

type Reply<T> = oneshot::Sender<Result<T, wallet_core::Error>>;
/// What accepting an offer sends its task: the transaction code, and where to answer.
type OfferDecision = (Option<String>, Reply<Vec<String>>);

/// The result of a task's step, or `Internal` if the task is gone (it panicked).
async fn answer<T>(
    receiver: oneshot::Receiver<Result<T, wallet_core::Error>>,
) -> Result<T, WalletError> {
    receiver
        .await
        .map_err(|_| WalletError::internal("the session's task ended"))?
        .map_err(WalletError::from)
}

/// Takes the one decision a session may receive; a second is `AlreadyAnswered`.
fn take<T>(slot: &Mutex<Option<T>>) -> Result<T, WalletError> {
    slot.lock()
        .map_err(|_| WalletError::internal("a session lock was poisoned"))?
        .take()
        .ok_or(WalletError::AlreadyAnswered)
}

/// A credential offer, resolved and checked against the trust list, waiting for the
/// person: show [`summary`](Self::summary), then [`accept`](Self::accept) with the
/// transaction code the person typed, or [`decline`](Self::decline).
#[derive(uniffi::Object)]
pub struct CredentialOffer {
    summary: OfferSummary,
    decision: Mutex<Option<oneshot::Sender<OfferDecision>>>,
}

impl std::fmt::Debug for CredentialOffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialOffer")
            .field("issuer", &self.summary.issuer)
            .finish_non_exhaustive()
    }
}

impl CredentialOffer {
    pub(crate) async fn resolve(
        wallet: Arc<wallet_core::Wallet>,
        uri: String,
    ) -> Result<CredentialOffer, WalletError> {
        let (ready, summary) = oneshot::channel();
        let (decide, decision) = oneshot::channel::<OfferDecision>();
        tokio::spawn(async move {
            let session = match wallet.receive_offer(&uri).await {
                Ok(session) => session,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            if ready.send(Ok(session.summary().clone())).is_err() {
                return;
            }
            if let Ok((tx_code, reply)) = decision.await {
                let _ = reply.send(session.accept(tx_code.as_deref()).await);
            }
        });
        let summary = answer(summary).await?;
        Ok(CredentialOffer {
            summary: summary.into(),
            decision: Mutex::new(Some(decide)),
        })
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl CredentialOffer {
    /// Who offers what, and whether a transaction code is needed.
    pub fn summary(&self) -> OfferSummary {
        self.summary.clone()
    }

    /// Redeems the offer with the code the person typed (`None` when none is asked),
    /// verifies every credential against the trust list and stores them all, or none.
    /// Returns the stored copies' ids. A wrong code is `Refused { code: "invalid_grant" }`;
    /// the offer is used up either way (receive it again to retry).
    pub async fn accept(&self, tx_code: Option<String>) -> Result<Vec<String>, WalletError> {
        let decide = take(&self.decision)?;
        let (reply, result) = oneshot::channel();
        decide
            .send((tx_code, reply))
            .map_err(|_| WalletError::internal("the session's task ended"))?;
        answer(result).await
    }

    /// Lets the offer go: nothing is sent (OpenID4VCI has no refusal) and nothing stored.
    pub fn decline(&self) -> Result<(), WalletError> {
        drop(take(&self.decision)?);
        Ok(())
    }
}

/// What the app may decide about a presentation request.
enum Answer {
    Accept(Reply<wallet_core::Outcome>),
    Decline(Reply<()>),
}

/// A presentation request, verified (signature, verifier in the trust list) and matched
/// against the stored credentials, waiting for the person: show
/// [`summary`](Self::summary), then [`accept`](Self::accept) or [`decline`](Self::decline).
#[derive(uniffi::Object)]
pub struct PresentationRequest {
    summary: RequestSummary,
    decision: Mutex<Option<oneshot::Sender<Answer>>>,
}

impl std::fmt::Debug for PresentationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentationRequest")
            .field("client_id", &self.summary.client_id)
            .field("satisfiable", &self.summary.satisfiable)
            .finish_non_exhaustive()
    }
}

impl PresentationRequest {
    pub(crate) async fn resolve(
        wallet: Arc<wallet_core::Wallet>,
        uri: String,
    ) -> Result<PresentationRequest, WalletError> {
        let (ready, summary) = oneshot::channel();
        let (decide, decision) = oneshot::channel::<Answer>();
        tokio::spawn(async move {
            let session = match wallet.receive_request(&uri).await {
                Ok(session) => session,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            if ready.send(Ok(session.summary().clone())).is_err() {
                return;
            }
            match decision.await {
                Ok(Answer::Accept(reply)) => {
                    let _ = reply.send(session.accept().await);
                }
                Ok(Answer::Decline(reply)) => {
                    let _ = reply.send(session.decline().await);
                }
                // Let go unanswered: nothing is sent, as for a dropped core session.
                Err(_) => {}
            }
        });
        let summary = answer(summary).await?;
        Ok(PresentationRequest {
            summary: summary.into(),
            decision: Mutex::new(Some(decide)),
        })
    }

    fn decide(&self, answer: Answer) -> Result<(), WalletError> {
        take(&self.decision)?
            .send(answer)
            .map_err(|_| WalletError::internal("the session's task ended"))
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl PresentationRequest {
    /// Who asks, on whose behalf, what for, and which claims would be disclosed.
    pub fn summary(&self) -> RequestSummary {
        self.summary.clone()
    }

    /// Presents, with the person's consent: one unused copy per credential asked for
    /// (single-use copies marked used before anything is sent), disclosing only the claims
    /// the request needs, bound to this verifier. When nothing answers, the verifier gets
    /// the same refusal as for [`decline`](Self::decline) and this fails with
    /// `NothingToPresent`.
    pub async fn accept(&self) -> Result<PresentationOutcome, WalletError> {
        let (reply, result) = oneshot::channel();
        self.decide(Answer::Accept(reply))?;
        let outcome = answer(result).await?;
        Ok(PresentationOutcome {
            redirect_uri: outcome.redirect_uri,
        })
    }

    /// Declines: the verifier gets `access_denied`, exactly as when the wallet holds
    /// nothing that answers.
    pub async fn decline(&self) -> Result<(), WalletError> {
        let (reply, result) = oneshot::channel();
        self.decide(Answer::Decline(reply))?;
        answer(result).await
    }
}
