//! The HTTP surface: the platform API (`/v1`, described at `/openapi.json`), the wallet's
//! OpenID4VP endpoints (`/wallet`), the admin API (`/admin`) and what is published.

mod admin;
mod court;
mod platform;
mod wallet;

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use service_kit::{ApiError, BearerSecret};

use crate::Verifier;

pub use platform::ApiDoc;

/// Largest request body any endpoint reads: an encrypted presentation of a few credentials
/// fits with room to spare.
pub const MAX_BODY: usize = 64 * 1024;

/// Requests per second (sustained, burst twice that) a platform and an address may make.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Per platform, on `/v1`.
    pub per_platform: NonZeroU32,
    /// Per client address, on `/wallet`.
    pub per_address: NonZeroU32,
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits {
            per_platform: NonZeroU32::new(200).unwrap_or(NonZeroU32::MIN),
            per_address: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
        }
    }
}

/// The limiters, one state per key, in this process (a replica limits its own share).
#[derive(Debug, Clone)]
pub struct Limiters {
    platforms: Arc<DefaultKeyedRateLimiter<String>>,
    addresses: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl Limiters {
    /// Limiters for `limits`.
    pub fn new(limits: RateLimits) -> Limiters {
        let quota = |rate: NonZeroU32| {
            Quota::per_second(rate)
                .allow_burst(rate.saturating_mul(NonZeroU32::MIN.saturating_add(1)))
        };
        Limiters {
            platforms: Arc::new(RateLimiter::keyed(quota(limits.per_platform))),
            addresses: Arc::new(RateLimiter::keyed(quota(limits.per_address))),
        }
    }

    fn platform(&self, id: &str) -> Result<(), ApiError> {
        self.platforms
            .check_key(&id.to_owned())
            .map_err(|_| too_many())
    }

    fn address(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.addresses.check_key(&ip).map_err(|_| too_many())
    }

    /// Forgets keys that are back to a full bucket (the janitor calls it).
    pub fn shrink(&self) {
        self.platforms.retain_recent();
        self.addresses.retain_recent();
        self.platforms.shrink_to_fit();
        self.addresses.shrink_to_fit();
    }
}

fn too_many() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "too many requests; slow down",
    )
}

/// What every handler gets.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The verifier.
    pub verifier: Arc<Verifier>,
    /// The admin API's bearer token.
    pub admin: BearerSecret,
    /// Rate limiters.
    pub limiters: Limiters,
}

/// Limits wallet-facing requests per client address (where the server knows it).
async fn limit_by_address(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>()
        && let Err(e) = state.limiters.address(peer.ip())
    {
        return e.into_response();
    }
    next.run(request).await
}

/// The verifier's routes.
pub fn app(state: AppState) -> Router {
    let wallet = Router::new()
        .route("/wallet/requests/{id}", get(wallet::request_object))
        .route("/wallet/responses/{id}", post(wallet::response))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit_by_address,
        ));
    Router::new()
        .route("/v1/checks", post(platform::create_check))
        .route("/v1/checks/{id}", get(platform::get_check))
        .route("/openapi.json", get(platform::openapi))
        .route("/.well-known/jwks.json", get(platform::jwks))
        .route("/health", get(|| async { "ok" }))
        .route(
            "/admin/platforms",
            post(admin::add_platform).get(admin::platforms),
        )
        .route("/admin/platforms/{id}/keys", post(admin::rotate_key))
        .route(
            "/admin/platforms/{id}/disable",
            post(admin::disable_platform),
        )
        .route("/admin/keys/{id}/revoke", post(admin::revoke_key))
        .route("/court/orders", post(court::order))
        .merge(wallet)
        .with_state(state.clone())
        .nest(
            "/transparency",
            service_kit::translog::router(state.verifier.log().clone()),
        )
        .layer(axum::middleware::map_response(no_store))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(service_kit::http::trace_layer())
}

/// Nothing the verifier answers may be cached: results, attestations, request objects.
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, service_kit::http::NO_STORE.1.clone());
    response
}
