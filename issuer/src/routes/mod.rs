//! The HTTP surface: one file per group of endpoints.

mod admin;
mod notices;
mod oid4vci;
mod publication;
mod register;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use service_kit::BearerSecret;

use crate::Issuer;

/// Largest request body any endpoint reads: a batch of key proofs fits with room to spare.
pub const MAX_BODY: usize = 256 * 1024;

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The issuer.
    pub issuer: Arc<Issuer>,
    /// The admin API's bearer token.
    pub admin: BearerSecret,
}

/// The issuer's routes.
pub fn app(state: AppState) -> Router {
    let router = Router::new()
        .route(
            "/.well-known/openid-credential-issuer",
            get(publication::credential_issuer_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(publication::authorization_server_metadata),
        )
        .route(
            "/.well-known/jwt-vc-issuer",
            get(publication::jwt_vc_issuer_metadata),
        )
        .route("/status/{list}", get(publication::status_list))
        .route("/trust-list", get(publication::trust_list))
        .route("/health", get(publication::health))
        .route("/credential-offer/{id}", get(oid4vci::credential_offer))
        .route("/token", post(oid4vci::token))
        .route("/nonce", post(oid4vci::nonce))
        .route("/credential", post(oid4vci::credential))
        .route("/admin/persons", post(admin::enrol))
        .route(
            "/admin/persons/{id}/credentials",
            get(admin::credentials_of),
        )
        .route("/admin/offers", post(admin::create_offer))
        .route("/admin/credentials/{id}/{action}", post(admin::set_status));
    // The State register answers courts and publishes its log of their orders.
    let router = match state.issuer.register_log().cloned() {
        Some(log) => router
            .route("/register/resolve", post(register::resolve))
            .route("/register/notices", get(notices::notices))
            .with_state(state)
            .nest("/transparency", service_kit::translog::router(log)),
        None => router.with_state(state),
    };
    router
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(service_kit::http::trace_layer())
}
