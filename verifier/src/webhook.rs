//! Webhook delivery: the outbox written when a check settles, delivered by a worker with
//! retries and backoff, signed the Standard Webhooks way (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `id.timestamp.body`). Receivers deduplicate on `webhook-id`: a delivery whose answer
//! was lost is sent again with the same id.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::store::DueEvent;
use crate::{Error, Verifier};

/// Seconds to wait after the n-th failed delivery; after the last, the event is parked.
const BACKOFF: [i64; 8] = [5, 30, 120, 600, 1800, 3600, 7200, 21_600];

/// The signature header value for one delivery.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, Error> {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|b64| STANDARD.decode(b64).ok())
        .ok_or_else(|| Error::Config("a webhook secret is whsec_<base64>".into()))?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key)
        .map_err(|_| Error::Config("webhook secret".into()))?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Delivers due webhook events.
#[derive(Debug, Clone)]
pub struct Deliverer {
    verifier: Arc<Verifier>,
    client: reqwest::Client,
}

impl Deliverer {
    /// A deliverer trusting the platform's roots, plus `extra_ca` (PEM) when given.
    pub fn new(verifier: Arc<Verifier>, extra_ca: Option<&[u8]>) -> Result<Deliverer, Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10));
        if let Some(pem) = extra_ca {
            for cert in reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|_| Error::Config("the webhook CA file is not PEM".into()))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| Error::Config(format!("webhook client: {e}")))?;
        Ok(Deliverer { verifier, client })
    }

    /// Delivers what is due now; returns how many were delivered.
    pub async fn run_once(&self) -> Result<usize, Error> {
        let now = self.verifier.now();
        let due = self.verifier.store().due_events(now, 32).await?;
        let mut delivered = 0;
        for event in due {
            match self.deliver(&event).await {
                Ok(()) => {
                    self.verifier
                        .store()
                        .event_delivered(&event.event.id, self.verifier.now())
                        .await?;
                    delivered += 1;
                }
                Err(reason) => {
                    let attempt = usize::try_from(event.attempts).unwrap_or(usize::MAX);
                    let next = BACKOFF.get(attempt).map(|wait| self.verifier.now() + wait);
                    tracing::warn!(
                        event = %event.event.id, attempt = attempt + 1, %reason,
                        gives_up = next.is_none(), "webhook delivery failed"
                    );
                    self.verifier
                        .store()
                        .event_failed(&event.event.id, &reason, next)
                        .await?;
                }
            }
        }
        Ok(delivered)
    }

    async fn deliver(&self, due: &DueEvent) -> Result<(), String> {
        let timestamp = self.verifier.now();
        let secret = self.verifier.webhook_secret(&due.event.platform_id);
        let signature = signature(&secret, &due.event.id, timestamp, &due.event.payload)
            .map_err(|e| e.to_string())?;
        let response = self
            .client
            .post(&due.url)
            .header("content-type", "application/json")
            .header("webhook-id", &due.event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(due.event.payload.clone())
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    "timed out".to_owned()
                } else if e.is_connect() {
                    "could not connect".to_owned()
                } else {
                    "request failed".to_owned()
                }
            })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}", response.status().as_u16()))
        }
    }

    /// Delivers forever, every `period` (the service runs it beside the server).
    pub async fn run(self, period: Duration) {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.run_once().await {
                tracing::warn!(error = %e, "webhook delivery round failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks reference example (standard-webhooks spec, "Signature
    /// scheme"): secret, id, timestamp and body give this signature.
    #[test]
    fn standard_webhooks_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let sig = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn malformed_secret() {
        assert!(signature("MfKQ", "id", 1, "{}").is_err());
    }
}
