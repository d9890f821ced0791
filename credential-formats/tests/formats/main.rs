//! The whole protocol at message level, as the State issuer, the wallet and a verifier run it:
//! OpenID4VCI issuance of a batch of person attestations, then OpenID4VP presentations with
//! DCQL, `direct_post.jwt`, status lists and the trust list. Public API only, no I/O, and a
//! fixed clock.

// An integration test: a failed step is a failed test, and the panic names it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod actors;
mod issuance;
mod presentation;
mod redaction;
