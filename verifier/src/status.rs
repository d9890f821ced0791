//! Credential status: is a presented credential still VALID on its issuer's Token Status List
//! (draft-ietf-oauth-status-list-14)?
//!
//! [`StatusSource`] is the seam the pipeline asks; [`StatusLists`] is the production source:
//! it fetches the Status List Token from the credential's `status.status_list.uri` over
//! `https` (no redirects, bounded time and size, `application/statuslist+jwt` only), verifies
//! it with the *credential issuer's* key (`typ` `statuslist+jwt`, `sub` equal to the
//! referenced `uri`, `iat`/`nbf`/`exp`, `ttl`), and caches the decoded list:
//!
//! ```text
//!  fetched_at ──── refresh_at ─────────── usable_until
//!     │ served from cache │ refetch; if that fails │ refetch; if that fails:
//!     │                   │ the cached list serves │ status_unavailable
//! ```
//!
//! `refresh_at` = `fetched_at + ttl` or `exp` if sooner (clamped to the configured bounds,
//! §11.5); `usable_until` = `exp` or `fetched_at + max_age` if sooner. A list is never used at
//! or after its `exp`: past it the source fails closed. Requests for one list wait for one
//! fetch (a per-list lock), a failed refresh is not retried before `retry_after`, and the
//! number of fetches in flight and of lists held are bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use credential_formats::crypto::{CryptoProvider, PublicKey};
use credential_formats::status_list::{
    DecodeLimits, StatusList, StatusListToken, StatusListValidation, StatusReference, StatusType,
    TtlBounds,
};
use credential_formats::time::UnixTime;

/// The media type of a Status List Token in JWT format (§5.1, §14.7).
pub const STATUS_LIST_MEDIA_TYPE: &str = "application/statuslist+jwt";

/// Where a credential's status comes from.
#[async_trait]
pub trait StatusSource: Send + Sync + std::fmt::Debug {
    /// The status at `reference` in the list signed by `issuer_key` (the key that signed the
    /// credential), at time `now`. An error means no trustworthy answer: the caller fails
    /// closed.
    async fn status(
        &self,
        reference: &StatusReference,
        issuer_key: &PublicKey,
        now: UnixTime,
    ) -> Result<StatusType, StatusError>;
}

/// Why no status could be given. Messages name the failure, never the URI (it can carry a
/// list identifier) or an index.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusError {
    /// The URI is not `https`: never fetched.
    #[error("status list URI is not https")]
    NotHttps,
    /// The connection or the request failed (refused, TLS, reset).
    #[error("status list could not be fetched: {0}")]
    Unreachable(&'static str),
    /// Connecting or the whole exchange took longer than the limits allow.
    #[error("status list fetch timed out")]
    Timeout,
    /// The server answered with a status other than 200 (redirects are not followed).
    #[error("status list server answered HTTP {0}")]
    HttpStatus(u16),
    /// The response is not `application/statuslist+jwt`.
    #[error("status list response is not application/statuslist+jwt")]
    ContentType,
    /// The response body is larger than the limit.
    #[error("status list response is over {0} bytes")]
    TooLarge(usize),
    /// The body is not text.
    #[error("status list response is not a JWT")]
    Malformed,
    /// The Status List Token does not verify, is not about the referenced list, is expired,
    /// or does not hold the index.
    #[error("status list token refused: {0}")]
    Token(credential_formats::Error),
    /// More distinct lists are in use than the cache may hold.
    #[error("too many status lists in use")]
    CacheFull,
}

/// The bounds [`StatusLists`] works within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusLimits {
    /// Time to establish the connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time for the whole exchange, body included.
    pub timeout: Duration,
    /// Largest response body read; reading stops as soon as it is exceeded.
    pub max_body: usize,
    /// Never fetch one list again sooner than this (seconds), whatever its `ttl` (§11.5).
    pub min_refresh: u64,
    /// Never use a fetched list longer than this (seconds), whatever its `exp`.
    pub max_age: u64,
    /// After a failed refresh, answer from what is known (the cached list while usable, or
    /// the failure) for this long (seconds) before trying again.
    pub retry_after: u64,
    /// Clock skew allowed on the token's `iat` and `nbf` (seconds).
    pub leeway: u32,
    /// Most distinct lists held at once.
    pub max_lists: usize,
    /// Most fetches in flight at once, all lists together.
    pub max_concurrent_fetches: usize,
}

impl Default for StatusLimits {
    /// 3 s to connect, 5 s in all, 1 MiB, refreshed at most once a minute, used at most an
    /// hour after its fetch, retried after 10 s, 60 s of skew, 1024 lists, 16 fetches.
    fn default() -> StatusLimits {
        StatusLimits {
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(5),
            max_body: 1 << 20,
            min_refresh: 60,
            max_age: 3600,
            retry_after: 10,
            leeway: 60,
            max_lists: 1024,
            max_concurrent_fetches: 16,
        }
    }
}

/// A verified list and how long it may serve.
#[derive(Debug)]
struct Cached {
    list: StatusList,
    refresh_at: UnixTime,
    usable_until: UnixTime,
}

/// One list's cache slot; its lock is what coalesces concurrent fetches of that list.
#[derive(Debug, Default)]
struct Slot {
    cached: Option<Cached>,
    /// The last refresh failure and until when it stands.
    failed: Option<(UnixTime, StatusError)>,
}

/// Lists are cached per (uri, issuer key): a list verified with one issuer's key never
/// answers for a credential of another issuer that points at the same URI.
type Key = (String, PublicKey);

/// The production [`StatusSource`]: fetches, verifies and caches Status List Tokens.
pub struct StatusLists {
    client: reqwest::Client,
    provider: Arc<dyn CryptoProvider>,
    limits: StatusLimits,
    slots: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<Slot>>>>,
    fetches: tokio::sync::Semaphore,
}

impl std::fmt::Debug for StatusLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusLists")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl StatusLists {
    /// A source that trusts the platform's certificate roots plus the CA certificates in
    /// `extra_roots_pem` (the local stack's development CA), and verifies tokens with
    /// `provider`.
    pub fn new(
        extra_roots_pem: Option<&[u8]>,
        limits: StatusLimits,
        provider: Arc<dyn CryptoProvider>,
    ) -> Result<StatusLists, crate::Error> {
        let mut builder = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.timeout);
        if let Some(pem) = extra_roots_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|_| crate::Error::Config("the extra CA file is not PEM".into()))?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder.build().map_err(|_| {
            crate::Error::Config("the status list HTTP client could not be set up".into())
        })?;
        Ok(StatusLists {
            client,
            provider,
            limits,
            slots: Mutex::new(HashMap::new()),
            fetches: tokio::sync::Semaphore::new(limits.max_concurrent_fetches.max(1)),
        })
    }

    /// Verifies a Status List Token obtained some other way (pushed by the issuer, or built by
    /// a test or benchmark) exactly as a fetched one, and caches it for `uri` as if it had
    /// been fetched at `now`.
    pub async fn preload(
        &self,
        compact: &str,
        uri: &str,
        issuer_key: &PublicKey,
        now: UnixTime,
    ) -> Result<(), StatusError> {
        let cached = self.verify(compact, uri, issuer_key, now)?;
        let slot = self.slot(uri, issuer_key, now)?;
        let mut slot = slot.lock().await;
        slot.cached = Some(cached);
        slot.failed = None;
        Ok(())
    }

    /// The slot of (uri, key), made if new; when the cache is full, slots no one is using
    /// whose list is no longer usable are dropped first.
    fn slot(
        &self,
        uri: &str,
        issuer_key: &PublicKey,
        now: UnixTime,
    ) -> Result<Arc<tokio::sync::Mutex<Slot>>, StatusError> {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (uri.to_owned(), issuer_key.clone());
        if let Some(slot) = slots.get(&key) {
            return Ok(slot.clone());
        }
        if slots.len() >= self.limits.max_lists {
            slots.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot.try_lock().map_or(true, |s| {
                        s.cached.as_ref().is_some_and(|c| now < c.usable_until)
                    })
            });
            if slots.len() >= self.limits.max_lists {
                return Err(StatusError::CacheFull);
            }
        }
        let slot = Arc::new(tokio::sync::Mutex::new(Slot::default()));
        slots.insert(key, slot.clone());
        Ok(slot)
    }

    fn verify(
        &self,
        compact: &str,
        uri: &str,
        issuer_key: &PublicKey,
        now: UnixTime,
    ) -> Result<Cached, StatusError> {
        let validation = StatusListValidation {
            expected_sub: uri,
            now,
            leeway: self.limits.leeway,
            max_age: None,
            limits: DecodeLimits::DEFAULT,
        };
        let token = StatusListToken::verify(compact, &*self.provider, issuer_key, &validation)
            .map_err(StatusError::Token)?;
        let max_age = i64::try_from(self.limits.max_age).unwrap_or(i64::MAX);
        let usable_until = token
            .exp()
            .unwrap_or(i64::MAX)
            .min(now.saturating_add(max_age));
        let bounds = TtlBounds {
            min: self.limits.min_refresh,
            max: self.limits.max_age,
        };
        let refresh_at = token.refresh_after(now, bounds).min(usable_until);
        Ok(Cached {
            list: token.into_status_list(),
            refresh_at,
            usable_until,
        })
    }

    async fn fetch(
        &self,
        uri: &str,
        issuer_key: &PublicKey,
        now: UnixTime,
    ) -> Result<Cached, StatusError> {
        let _permit = self
            .fetches
            .acquire()
            .await
            .map_err(|_| StatusError::Unreachable("shutting down"))?;
        let mut response = self
            .client
            .get(uri)
            .header(reqwest::header::ACCEPT, STATUS_LIST_MEDIA_TYPE)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(StatusError::HttpStatus(response.status().as_u16()));
        }
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim);
        if !media_type.is_some_and(|t| t.eq_ignore_ascii_case(STATUS_LIST_MEDIA_TYPE)) {
            return Err(StatusError::ContentType);
        }
        let limit = self.limits.max_body;
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(StatusError::TooLarge(limit));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            if body.len().saturating_add(chunk.len()) > limit {
                return Err(StatusError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        let text = std::str::from_utf8(&body).map_err(|_| StatusError::Malformed)?;
        self.verify(text.trim_ascii(), uri, issuer_key, now)
    }
}

#[async_trait]
impl StatusSource for StatusLists {
    async fn status(
        &self,
        reference: &StatusReference,
        issuer_key: &PublicKey,
        now: UnixTime,
    ) -> Result<StatusType, StatusError> {
        let uri = reference.uri();
        if !uri.starts_with("https://") {
            return Err(StatusError::NotHttps);
        }
        let slot = self.slot(uri, issuer_key, now)?;
        let mut slot = slot.lock().await;
        let lookup = |cached: &Cached| {
            cached
                .list
                .status(reference.idx())
                .map_err(|e| StatusError::Token(e.into()))
        };
        let fresh = slot.cached.as_ref().filter(|c| now < c.refresh_at);
        if let Some(cached) = fresh {
            return lookup(cached);
        }
        let usable = |slot: &Slot| {
            slot.cached
                .as_ref()
                .filter(|c| now < c.usable_until)
                .map(lookup)
        };
        if let Some((until, error)) = &slot.failed
            && now < *until
        {
            return usable(&slot).unwrap_or_else(|| Err(error.clone()));
        }
        match self.fetch(uri, issuer_key, now).await {
            Ok(cached) => {
                let status = lookup(&cached);
                slot.cached = Some(cached);
                slot.failed = None;
                status
            }
            Err(error) => {
                tracing::warn!(%error, "status list refresh failed");
                let retry = i64::try_from(self.limits.retry_after).unwrap_or(i64::MAX);
                slot.failed = Some((now.saturating_add(retry), error.clone()));
                if slot.cached.as_ref().is_some_and(|c| now >= c.usable_until) {
                    // Past its validity: gone for good, never to be served again.
                    slot.cached = None;
                }
                usable(&slot).unwrap_or(Err(error))
            }
        }
    }
}

/// What went wrong, without the URL (reqwest's own message includes it).
fn describe(error: &reqwest::Error) -> StatusError {
    if error.is_timeout() {
        StatusError::Timeout
    } else if error.is_connect() {
        StatusError::Unreachable("could not connect (or the certificate is not trusted)")
    } else if error.is_body() || error.is_decode() {
        StatusError::Unreachable("the response could not be read")
    } else if error.is_builder() {
        StatusError::NotHttps
    } else {
        StatusError::Unreachable("request failed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::header;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use credential_formats::crypto::{AwsLc, SecretKey, SignatureAlgorithm};
    use credential_formats::status_list::StatusBits;
    use credential_formats::{JoseError, StatusListError};
    use std::sync::atomic::{AtomicUsize, Ordering};

    const NOW: UnixTime = 1_800_000_000;
    const TTL: u64 = 300;
    const EXP: UnixTime = NOW + 3600;

    /// The issuer's side: a 2-bit list with index 1 revoked and 2 suspended.
    fn token(issuer: &SecretKey, sub: &str) -> String {
        let mut list = StatusList::with_capacity(StatusBits::Two, 64).unwrap();
        list.set(1, StatusType::Invalid.value()).unwrap();
        list.set(2, StatusType::Suspended.value()).unwrap();
        StatusListToken::new(sub, NOW, list)
            .unwrap()
            .with_exp(EXP)
            .unwrap()
            .with_ttl(TTL)
            .unwrap()
            .sign(&*AwsLc.signer(issuer).unwrap(), Some("issuer-1"))
            .unwrap()
    }

    fn jwt_response(body: impl Into<Body>) -> axum::response::Response {
        (
            [(header::CONTENT_TYPE, STATUS_LIST_MEDIA_TYPE)],
            body.into(),
        )
            .into_response()
    }

    struct Server {
        base: String,
        ca_pem: String,
        hits: Arc<AtomicUsize>,
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        task: tokio::task::JoinHandle<std::io::Result<()>>,
        _dir: tempfile::TempDir,
    }

    impl Server {
        async fn stop(mut self) {
            if let Some(stop) = self.stop.take() {
                stop.send(()).unwrap();
            }
            self.task.await.unwrap().unwrap();
        }
    }

    /// A status list server over TLS on loopback (development PKI), with a few misbehaving
    /// routes. `/lists/1` counts its hits.
    async fn serve(issuer: &SecretKey) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let pki = service_kit::tls::dev_pki(dir.path()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!(
            "https://localhost:{}",
            listener.local_addr().unwrap().port()
        );
        let hits = Arc::new(AtomicUsize::new(0));
        let good = token(issuer, &format!("{base}/lists/1"));
        let other_sub = token(issuer, &format!("{base}/lists/2"));
        let stranger = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let forged = token(&stranger, &format!("{base}/lists/forged"));
        let redirect_to = format!("{base}/lists/1");
        let counter = hits.clone();
        let app = Router::new()
            .route(
                "/lists/1",
                get(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let good = good.clone();
                    async move { jwt_response(good) }
                }),
            )
            .route(
                "/lists/wrong-sub",
                get(move || async move { jwt_response(other_sub) }),
            )
            .route(
                "/lists/forged",
                get(move || async move { jwt_response(forged) }),
            )
            .route(
                "/lists/json",
                get(|| async { ([(header::CONTENT_TYPE, "application/json")], "{}") }),
            )
            .route(
                "/lists/big",
                get(|| async { jwt_response(vec![b'a'; 64 * 1024]) }),
            )
            .route(
                "/lists/big-chunked",
                // No Content-Length: the client must stop reading by itself.
                get(|| async {
                    let stream = Body::from(vec![b'a'; 4 << 20]).into_data_stream();
                    jwt_response(Body::from_stream(stream))
                }),
            )
            .route(
                "/lists/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    jwt_response("")
                }),
            )
            .route(
                "/lists/moved",
                get(move || async move {
                    (
                        axum::http::StatusCode::FOUND,
                        [(header::LOCATION, redirect_to)],
                    )
                }),
            );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(service_kit::http::serve_tls(
            listener,
            app,
            pki.server_config().unwrap(),
            async move {
                let _ = stopped.await;
            },
        ));
        Server {
            base,
            ca_pem: pki.ca_pem.clone(),
            hits,
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    fn limits() -> StatusLimits {
        StatusLimits {
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(1),
            max_body: 16 * 1024,
            ..StatusLimits::default()
        }
    }

    fn source(server: &Server) -> StatusLists {
        StatusLists::new(Some(server.ca_pem.as_bytes()), limits(), Arc::new(AwsLc)).unwrap()
    }

    fn at(server: &Server, path: &str, idx: u64) -> StatusReference {
        StatusReference::new(idx, format!("{}{path}", server.base)).unwrap()
    }

    #[tokio::test]
    async fn valid_revoked_and_suspended_from_one_fetch() {
        let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let server = serve(&issuer).await;
        let lists = source(&server);
        let key = issuer.public_key();
        let status = |idx, now| {
            let reference = at(&server, "/lists/1", idx);
            let lists = &lists;
            let key = &key;
            async move { lists.status(&reference, key, now).await }
        };
        assert_eq!(status(0, NOW).await, Ok(StatusType::Valid));
        assert_eq!(status(1, NOW + 1).await, Ok(StatusType::Invalid));
        assert_eq!(status(2, NOW + 2).await, Ok(StatusType::Suspended));
        assert!(matches!(
            status(1000, NOW + 3).await,
            Err(StatusError::Token(credential_formats::Error::StatusList(
                StatusListError::IndexOutOfRange
            )))
        ));
        assert_eq!(server.hits.load(Ordering::SeqCst), 1, "served from cache");
        // After the ttl, a fresh fetch.
        assert_eq!(status(0, NOW + TTL as i64).await, Ok(StatusType::Valid));
        assert_eq!(server.hits.load(Ordering::SeqCst), 2);
        server.stop().await;
    }

    #[tokio::test]
    async fn concurrent_requests_for_one_list_share_one_fetch() {
        let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let server = serve(&issuer).await;
        let lists = Arc::new(source(&server));
        let mut tasks = Vec::new();
        for i in 0..8 {
            let lists = lists.clone();
            let reference = at(&server, "/lists/1", i % 3);
            let key = issuer.public_key();
            tasks.push(tokio::spawn(async move {
                lists.status(&reference, &key, NOW).await
            }));
        }
        for task in tasks {
            assert!(task.await.unwrap().is_ok());
        }
        assert_eq!(server.hits.load(Ordering::SeqCst), 1);
        server.stop().await;
    }

    #[tokio::test]
    async fn a_cached_list_serves_within_its_validity_and_never_after() {
        let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let server = serve(&issuer).await;
        let lists = source(&server);
        let key = issuer.public_key();
        let reference = at(&server, "/lists/1", 1);
        assert_eq!(
            lists.status(&reference, &key, NOW).await,
            Ok(StatusType::Invalid)
        );
        server.stop().await;
        // Fresh: from the cache without asking.
        assert_eq!(
            lists.status(&reference, &key, NOW + 10).await,
            Ok(StatusType::Invalid)
        );
        // Due for refresh, the server gone: the list is still within its exp and serves.
        assert_eq!(
            lists.status(&reference, &key, NOW + TTL as i64 + 1).await,
            Ok(StatusType::Invalid)
        );
        // At its exp it is over: fail closed (retry_after has passed, so a refetch is tried).
        let late = lists.status(&reference, &key, EXP).await;
        assert!(matches!(late, Err(StatusError::Unreachable(_))), "{late:?}");
        // And it never comes back, even within the retry delay.
        assert!(lists.status(&reference, &key, EXP + 1).await.is_err());
    }

    #[tokio::test]
    async fn the_configured_max_age_caps_a_long_exp() {
        let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let server = serve(&issuer).await;
        let lists = StatusLists::new(
            Some(server.ca_pem.as_bytes()),
            StatusLimits {
                max_age: 600,
                ..limits()
            },
            Arc::new(AwsLc),
        )
        .unwrap();
        let key = issuer.public_key();
        let reference = at(&server, "/lists/1", 0);
        assert!(lists.status(&reference, &key, NOW).await.is_ok());
        server.stop().await;
        assert!(lists.status(&reference, &key, NOW + 599).await.is_ok());
        assert!(lists.status(&reference, &key, NOW + 600).await.is_err());
    }

    #[tokio::test]
    async fn a_failed_refresh_is_not_retried_at_once() {
        let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let server = serve(&issuer).await;
        let lists = source(&server);
        let key = issuer.public_key();
        // A list this source never fetched, on a server that is not there.
        let gone = StatusReference::new(0, "https://127.0.0.1:9/lists/1").unwrap();
        assert!(matches!(
            lists.status(&gone, &key, NOW).await,
            Err(StatusError::Unreachable(_))
        ));
        // Within retry_after the recorded failure answers (no second connection attempt).
        let started = std::time::Instant::now();
        assert!(lists.status(&gone, &key, NOW + 1).await.is_err());
        assert!(started.elapsed() < Duration::from_millis(50));
        server.stop().await;
    }

    #[tokio::test]
    async fn oversized_slow_misdirected_and_mistyped_responses_are_refused() {
        let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let server = serve(&issuer).await;
        let lists = source(&server);
        let key = issuer.public_key();
        let limit = limits().max_body;
        let cases = [
            ("/lists/big", StatusError::TooLarge(limit)),
            ("/lists/big-chunked", StatusError::TooLarge(limit)),
            ("/lists/slow", StatusError::Timeout),
            ("/lists/moved", StatusError::HttpStatus(302)),
            ("/lists/json", StatusError::ContentType),
            ("/lists/none", StatusError::HttpStatus(404)),
        ];
        for (path, expected) in cases {
            let started = std::time::Instant::now();
            assert_eq!(
                lists.status(&at(&server, path, 0), &key, NOW).await,
                Err(expected),
                "{path}"
            );
            assert!(started.elapsed() < Duration::from_secs(3), "{path}");
        }
        server.stop().await;
    }

    #[tokio::test]
    async fn a_token_about_another_list_or_by_another_key_is_refused() {
        let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let server = serve(&issuer).await;
        let lists = source(&server);
        let key = issuer.public_key();
        assert_eq!(
            lists
                .status(&at(&server, "/lists/wrong-sub", 0), &key, NOW)
                .await,
            Err(StatusError::Token(StatusListError::SubjectMismatch.into()))
        );
        assert_eq!(
            lists
                .status(&at(&server, "/lists/forged", 0), &key, NOW)
                .await,
            Err(StatusError::Token(JoseError::InvalidSignature.into()))
        );
        // The good list, but the credential's issuer is someone else.
        let other = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        assert_eq!(
            lists
                .status(&at(&server, "/lists/1", 0), &other.public_key(), NOW)
                .await,
            Err(StatusError::Token(JoseError::InvalidSignature.into()))
        );
        // An expired token.
        assert_eq!(
            lists
                .status(&at(&server, "/lists/1", 0), &key, EXP + 61)
                .await,
            Err(StatusError::Token(StatusListError::Expired.into()))
        );
        server.stop().await;
    }

    #[tokio::test]
    async fn an_untrusted_certificate_is_refused() {
        let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let server = serve(&issuer).await;
        // Without the development CA.
        let lists = StatusLists::new(None, limits(), Arc::new(AwsLc)).unwrap();
        assert!(matches!(
            lists
                .status(&at(&server, "/lists/1", 0), &issuer.public_key(), NOW)
                .await,
            Err(StatusError::Unreachable(_))
        ));
        server.stop().await;
    }

    #[tokio::test]
    async fn preloaded_lists_are_verified_like_fetched_ones() {
        let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let lists = StatusLists::new(None, limits(), Arc::new(AwsLc)).unwrap();
        let uri = "https://issuer.example/lists/7";
        let key = issuer.public_key();
        let other = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        assert!(
            lists
                .preload(&token(&issuer, uri), uri, &other.public_key(), NOW)
                .await
                .is_err()
        );
        assert!(
            lists
                .preload(
                    &token(&issuer, uri),
                    "https://issuer.example/lists/8",
                    &key,
                    NOW
                )
                .await
                .is_err()
        );
        lists
            .preload(&token(&issuer, uri), uri, &key, NOW)
            .await
            .unwrap();
        let reference = StatusReference::new(2, uri).unwrap();
        assert_eq!(
            lists.status(&reference, &key, NOW + 5).await,
            Ok(StatusType::Suspended)
        );
    }

    #[tokio::test]
    async fn the_cache_holds_a_bounded_number_of_lists() {
        let issuer = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let lists = StatusLists::new(
            None,
            StatusLimits {
                max_lists: 2,
                max_age: 600,
                ..limits()
            },
            Arc::new(AwsLc),
        )
        .unwrap();
        let key = issuer.public_key();
        for n in 0..2 {
            let uri = format!("https://issuer.example/lists/{n}");
            lists
                .preload(&token(&issuer, &uri), &uri, &key, NOW)
                .await
                .unwrap();
        }
        let third = "https://issuer.example/lists/2";
        assert_eq!(
            lists
                .preload(&token(&issuer, third), third, &key, NOW)
                .await,
            Err(StatusError::CacheFull)
        );
        // Once the others are past their usable life, they make room.
        assert_eq!(
            lists
                .preload(&token(&issuer, third), third, &key, NOW + 600)
                .await,
            Ok(())
        );
    }

    #[test]
    fn plain_http_is_never_fetched() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let lists = StatusLists::new(None, limits(), Arc::new(AwsLc)).unwrap();
        let reference = StatusReference::new_with(
            0,
            "http://127.0.0.1:9/lists/1",
            credential_formats::status_list::UriPolicy::AllowLoopbackHttp,
        )
        .unwrap();
        let key = SecretKey::generate(SignatureAlgorithm::Es256)
            .unwrap()
            .public_key();
        assert_eq!(
            runtime.block_on(lists.status(&reference, &key, NOW)),
            Err(StatusError::NotHttps)
        );
    }
}
