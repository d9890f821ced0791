//! HTTP to the verifier and the register: the order, the resolution and the transparency
//! log endpoints. Every request times out after 10 s and no body is read past 16 MiB. This
//! module fetches; [`crate::case`] and [`crate::audit`] decide what to trust.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use credential_formats::translog::Hash;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Per request.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest body read.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// The most entries a log serves per call.
const PAGE: u64 = 256;

/// An HTTPS client for the court's requests.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
}

/// An answer: its status and body as received.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Client {
    /// A client trusting the system's roots and, if given, the PEM certificates of `ca`
    /// (the development CA, `dev-data/tls/ca.pem`).
    pub fn new(ca: Option<&Path>) -> Result<Client> {
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(ca) = ca {
            let pem = std::fs::read(ca).map_err(|e| Error::io(ca, &e))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|_| Error::format(ca.display().to_string(), "not PEM certificates"))?;
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| Error::Http {
            url: String::new(),
            message: e.to_string(),
        })?;
        Ok(Client { http })
    }

    async fn send(&self, request: reqwest::RequestBuilder, url: &str) -> Result<Answer> {
        let failed = |e: reqwest::Error| Error::Http {
            url: url.to_owned(),
            message: without_url(e),
        };
        let mut response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY as u64)
        {
            return Err(Error::Http {
                url: url.to_owned(),
                message: "answer larger than 16 MiB".into(),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(Error::Http {
                    url: url.to_owned(),
                    message: "answer larger than 16 MiB".into(),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { status, body })
    }

    /// An answer that must be 200; a service's refusal becomes [`Error::Refused`].
    async fn ok(&self, request: reqwest::RequestBuilder, url: &str) -> Result<Vec<u8>> {
        let answer = self.send(request, url).await?;
        refused(url, &answer)?;
        Ok(answer.body)
    }

    /// `POST {verifier}/court/orders` with the compact order: the answer as received
    /// (a refusal is [`Error::Refused`]).
    pub async fn submit_order(&self, verifier: &str, order: &str) -> Result<Answer> {
        let url = format!("{}/court/orders", verifier.trim_end_matches('/'));
        let request = self
            .http
            .post(&url)
            .header("content-type", "application/jwt")
            .body(order.to_owned());
        self.send(request, &url).await
    }

    /// `POST {register}/register/resolve`: the answer as received.
    pub async fn resolve(
        &self,
        register: &str,
        order: &str,
        handle: &str,
        verifier_log: &Value,
    ) -> Result<Answer> {
        let url = format!("{}/register/resolve", register.trim_end_matches('/'));
        let body = serde_json::json!({
            "order": order,
            "person_handle": handle,
            "verifier_log": verifier_log,
        });
        let request = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string());
        self.send(request, &url).await
    }

    /// `GET {base}/transparency/checkpoint`: the signed note.
    pub async fn checkpoint(&self, base: &str) -> Result<String> {
        let url = format!("{}/transparency/checkpoint", base.trim_end_matches('/'));
        let body = self.ok(self.http.get(&url), &url).await?;
        String::from_utf8(body).map_err(|_| Error::format(url, "the checkpoint is not text"))
    }

    /// Entries `0..size` of the log at `base`, fetched page by page.
    pub async fn entries(&self, base: &str, size: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        #[derive(Deserialize)]
        struct Page {
            entries: Vec<Item>,
        }
        #[derive(Deserialize)]
        struct Item {
            index: u64,
            entry: String,
        }
        let mut entries = Vec::new();
        let mut start = 0;
        while start < size {
            let end = size.min(start + PAGE);
            let url = format!(
                "{}/transparency/entries?start={start}&end={end}",
                base.trim_end_matches('/')
            );
            let body = self.ok(self.http.get(&url), &url).await?;
            let page: Page = serde_json::from_slice(&body)
                .map_err(|_| Error::format(url.clone(), "not a page of log entries"))?;
            if page.entries.is_empty() {
                // A log serving fewer entries than it signed: the audit reports the count.
                break;
            }
            for item in page.entries {
                let entry = STANDARD
                    .decode(&item.entry)
                    .map_err(|_| Error::format(url.clone(), "an entry is not base64"))?;
                entries.push((item.index, entry));
            }
            start = entries.len() as u64;
        }
        Ok(entries)
    }

    /// `GET {base}/transparency/proof/consistency?first=&second=`.
    pub async fn consistency_proof(
        &self,
        base: &str,
        first: u64,
        second: u64,
    ) -> Result<Vec<Hash>> {
        #[derive(Deserialize)]
        struct Proof {
            proof: Vec<String>,
        }
        let url = format!(
            "{}/transparency/proof/consistency?first={first}&second={second}",
            base.trim_end_matches('/')
        );
        let body = self.ok(self.http.get(&url), &url).await?;
        let proof: Proof =
            serde_json::from_slice(&body).map_err(|_| Error::format(url.clone(), "not a proof"))?;
        proof
            .proof
            .iter()
            .map(|h| STANDARD.decode(h).ok().and_then(|h| Hash::try_from(h).ok()))
            .collect::<Option<Vec<Hash>>>()
            .ok_or_else(|| Error::format(url, "a proof hash is not 32 bytes of base64"))
    }
}

/// A non-200 answer as [`Error::Refused`], with the service's `error` code and description.
pub fn refused(url: &str, answer: &Answer) -> Result<()> {
    if answer.status == 200 {
        return Ok(());
    }
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    let text = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(|s| s.chars().filter(|c| !c.is_control()).take(300).collect())
            .unwrap_or_default()
    };
    Err(Error::Refused {
        url: url.to_owned(),
        status: answer.status,
        code: text("error"),
        description: text("error_description"),
    })
}

/// reqwest's message without the URL it appends (the caller names it once).
fn without_url(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut message = kind.to_owned();
    let mut source = std::error::Error::source(&error);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}
