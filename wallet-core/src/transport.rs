//! HTTP, through a trait: the wallet core speaks HTTP only through [`Transport`], so a mobile
//! app may route it through its own stack (and its certificate pinning, proxies, metering).
//! [`DefaultTransport`] is a rustls client with the rules every implementation must keep:
//! `https` only, no redirects followed, bounded bodies and times.

use std::time::Duration;

use async_trait::async_trait;

use crate::Error;

/// Largest response body the wallet reads (a batch of 50 credentials is ~150 KiB).
pub const MAX_RESPONSE: usize = 1024 * 1024;

/// An HTTP method the wallet uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

/// A request the wallet makes. Its `Debug` shows the method and URL only.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: HttpMethod,
    /// An `https` URL.
    pub url: String,
    /// Header names and values (`Content-Type`, `Authorization`, …).
    pub headers: Vec<(String, String)>,
    /// The body (empty for `GET`).
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl HttpRequest {
    /// A `GET`.
    pub fn get(url: impl Into<String>) -> HttpRequest {
        HttpRequest {
            method: HttpMethod::Get,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `POST` with a body of this content type.
    pub fn post(url: impl Into<String>, content_type: &str, body: Vec<u8>) -> HttpRequest {
        HttpRequest {
            method: HttpMethod::Post,
            url: url.into(),
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> HttpRequest {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A response. Its `Debug` shows the status only.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body, at most [`MAX_RESPONSE`] bytes.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The wallet's HTTP. Implementations must refuse non-`https` URLs, must not follow
/// redirects (a redirect is returned as the 3xx response it is), and should bound bodies
/// and time.
#[async_trait]
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Sends one request.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error>;
}

/// The default [`Transport`]: reqwest on rustls (aws-lc-rs), the platform's roots or an
/// explicit set, no redirects, 10 s to connect, 30 s in all, bodies up to
/// [`MAX_RESPONSE`].
#[derive(Debug, Clone)]
pub struct DefaultTransport {
    client: reqwest::Client,
}

impl DefaultTransport {
    /// A client trusting the platform's certificate roots.
    pub fn new() -> Result<DefaultTransport, Error> {
        DefaultTransport::build(reqwest::Client::builder())
    }

    /// A client trusting only the CA certificates in `pem` (the local stack's development
    /// CA; never a production default).
    pub fn trusting_only(pem: &[u8]) -> Result<DefaultTransport, Error> {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|_| Error::Transport("the CA file is not PEM".into()))?;
        DefaultTransport::build(reqwest::Client::builder().tls_certs_only(certs))
    }

    fn build(builder: reqwest::ClientBuilder) -> Result<DefaultTransport, Error> {
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .https_only(true)
            .build()
            .map_err(|_| Error::Transport("the HTTP client could not be set up".into()))?;
        Ok(DefaultTransport { client })
    }
}

#[async_trait]
impl Transport for DefaultTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        if !request.url.starts_with("https://") {
            return Err(Error::Transport("only https URLs are fetched".into()));
        }
        let mut builder = match request.method {
            HttpMethod::Get => self.client.get(&request.url),
            HttpMethod::Post => self.client.post(&request.url).body(request.body),
        };
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        // The host is named, never the path or query: they may carry codes.
        let host = request.url.split('/').nth(2).unwrap_or_default().to_owned();
        let mut response = builder
            .send()
            .await
            .map_err(|e| Error::Transport(format!("{host}: {}", describe(&e))))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Error::Transport(format!("{host}: {}", describe(&e))))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE {
                return Err(Error::Transport(format!("{host}: response too large")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            content_type,
            body,
        })
    }
}

fn describe(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect (or the certificate is not trusted)"
    } else if e.is_body() || e.is_decode() {
        "the response could not be read"
    } else {
        "request failed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn plain_http_is_never_fetched() {
        let transport = DefaultTransport::new().unwrap();
        let err = transport
            .send(HttpRequest::get("http://127.0.0.1:9/secret?code=abc"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Transport(_)));
        // The message names neither path nor query.
        assert!(!err.to_string().contains("code=abc"));
    }

    #[test]
    fn debug_output_hides_bodies_and_headers() {
        let request = HttpRequest::post(
            "https://issuer.example/token",
            "application/x-www-form-urlencoded",
            b"pre-authorized_code=SECRET".to_vec(),
        )
        .header("Authorization", "Bearer SECRET");
        assert!(!format!("{request:?}").contains("SECRET"));
        let response = HttpResponse {
            status: 200,
            content_type: None,
            body: b"SECRET".to_vec(),
        };
        assert!(!format!("{response:?}").contains("SECRET"));
    }
}
