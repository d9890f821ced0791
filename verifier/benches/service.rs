#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark fixture: a failure is a broken benchmark.
//! The verifier service under load, end to end on loopback over TLS (spec/performance.md,
//! "Verifier: checks per second").
//!
//! The issuer and the verifier run in-process on their own tokio runtime (threads
//! `verifier-srv`), the load generator on another (`bench-client`). The wallet's work is
//! done before the timed runs: for every check, the platform creates it over the platform
//! API, a wallet-core wallet fetches and verifies the request object and builds its answer
//! (select, disclose, KB-JWT, encrypt), which a capturing transport keeps instead of sending.
//! The timed runs then post those answers to the verifier — the part of a check that costs:
//! decrypt, verify, status, pseudonym, seal, sign, settle in one transaction.
//!
//! 1. **Capacity**: every answer posted by `BENCH_CLIENTS` connections at once (closed
//!    loop): completed checks per second.
//! 2. **Latency**: a fresh set posted at a fixed offered rate (open loop; `BENCH_RATE`, by
//!    default half the capacity): p50 / p99 / max.
//!
//! Knobs: `BENCH_CHECKS` (answers per run, 1000), `BENCH_CLIENTS` (8), `BENCH_RATE`,
//! `BENCH_DB_DIR` (where the temporary directory goes), `--postgres` or `BENCH_POSTGRES=1`
//! (PostgreSQL at `TEST_POSTGRES_URL`, in a fresh schema). Without `--bench`
//! (`cargo test --benches`) it shrinks to a smoke run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use credential_formats::time::SystemClock;
use serde_json::{Value, json};
use wallet_core::{
    DefaultTransport, HttpMethod, HttpRequest, HttpResponse, Transport, Wallet, WalletConfig,
};
use zeroize::Zeroizing;

/// Forwards the wallet's requests, or — when capturing — keeps its answers to the
/// verifier and tells the wallet they were received.
#[derive(Debug)]
struct Capturing {
    inner: DefaultTransport,
    capture: AtomicBool,
    captured: Mutex<Vec<(String, Vec<u8>)>>,
}

#[async_trait]
impl Transport for Capturing {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, wallet_core::Error> {
        if self.capture.load(Ordering::Relaxed)
            && request.method == HttpMethod::Post
            && request.url.contains("/wallet/responses/")
        {
            self.captured
                .lock()
                .unwrap()
                .push((request.url, request.body));
            return Ok(HttpResponse {
                status: 200,
                content_type: Some("application/json".into()),
                body: b"{}".to_vec(),
            });
        }
        self.inner.send(request).await
    }
}

struct Options {
    checks: usize,
    clients: usize,
    rate: Option<f64>,
    postgres: Option<String>,
    db_dir: Option<String>,
}

impl Options {
    fn read() -> Options {
        let bench = std::env::args().any(|a| a == "--bench");
        let number = |name: &str, default: usize, smoke: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(if bench { default } else { smoke })
        };
        let postgres = (std::env::args().any(|a| a == "--postgres")
            || std::env::var("BENCH_POSTGRES").is_ok_and(|v| v == "1"))
        .then(|| std::env::var("TEST_POSTGRES_URL").expect("--postgres needs TEST_POSTGRES_URL"));
        Options {
            checks: number("BENCH_CHECKS", 1000, 20),
            clients: number("BENCH_CLIENTS", 8, 4),
            rate: std::env::var("BENCH_RATE")
                .ok()
                .and_then(|v| v.parse().ok()),
            postgres,
            db_dir: std::env::var("BENCH_DB_DIR").ok(),
        }
    }
}

fn runtime(name: &str, threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name(name)
        .enable_all()
        .build()
        .unwrap()
}

struct Fixture {
    issuer: issuer::LocalIssuer,
    verifier: verifier::LocalVerifier,
    wallet: Wallet,
    transport: Arc<Capturing>,
    http: reqwest::Client,
    api_key: String,
    _dir: tempfile::TempDir,
}

async fn start(options: &Options) -> Fixture {
    let dir = match &options.db_dir {
        Some(base) => tempfile::tempdir_in(base).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    verifier::dev_entities(dir.path()).unwrap();
    let issuer = issuer::LocalIssuer::start(dir.path()).await.unwrap();
    let schema = options.postgres.as_ref().map(|_| {
        format!(
            "verifier_bench_{}",
            credential_formats::crypto::random_hex(6).unwrap()
        )
    });
    let unlimited = std::num::NonZeroU32::new(1_000_000).unwrap();
    let local = verifier::LocalOptions {
        database_url: options.postgres.clone(),
        database_schema: schema,
        rate_limits: Some(verifier::RateLimits {
            per_platform: unlimited,
            per_address: unlimited,
        }),
        check_ttl: None,
    };
    let verifier = verifier::LocalVerifier::start(dir.path(), &local)
        .await
        .unwrap();
    let transport = Arc::new(Capturing {
        inner: DefaultTransport::trusting_only(issuer.ca_pem.as_bytes()).unwrap(),
        capture: AtomicBool::new(false),
        captured: Mutex::new(Vec::new()),
    });
    let mut config = WalletConfig::new(
        issuer.trust_list_url.clone(),
        issuer::trust::public_jwk_from_file(&issuer.anchor).unwrap(),
    );
    config.copies = 50;
    let wallet = Wallet::open(
        &dir.path().join("wallet.db"),
        Zeroizing::new([7u8; 32]),
        None,
        transport.clone(),
        config,
        Arc::new(SystemClock),
    )
    .unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(issuer.ca_pem.as_bytes()).unwrap())
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let registered: Value = http
        .post(format!("{}/admin/platforms", verifier.base))
        .bearer_auth(verifier.admin_token.as_str())
        .json(&json!({"name": "Bench Social"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Fixture {
        api_key: registered["api_key"].as_str().unwrap().to_owned(),
        issuer,
        verifier,
        wallet,
        transport,
        http,
        _dir: dir,
    }
}

impl Fixture {
    /// `n` checks created and answered by the wallet, the answers captured: (url, body).
    async fn prepare(&self, n: usize) -> Vec<(String, Vec<u8>)> {
        self.transport.capture.store(true, Ordering::Relaxed);
        for i in 0..n {
            let checks = if i % 2 == 0 {
                json!(["verified_person", "age_over_18"])
            } else {
                json!(["age_over_18"])
            };
            let created: Value = self
                .http
                .post(format!("{}/v1/checks", self.verifier.base))
                .bearer_auth(&self.api_key)
                .json(&json!({ "checks": checks }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let session = self
                .wallet
                .receive_request(created["wallet_link"].as_str().unwrap())
                .await
                .unwrap();
            session.accept().await.unwrap();
        }
        self.transport.capture.store(false, Ordering::Relaxed);
        std::mem::take(&mut *self.transport.captured.lock().unwrap())
    }

    async fn post(&self, url: &str, body: &[u8]) -> Duration {
        let start = Instant::now();
        let response = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{status}: {text}");
        start.elapsed()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn main() {
    let options = Options::read();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let server = runtime("verifier-srv", cores);
    let client = runtime("bench-client", cores);
    let fixture = server.block_on(start(&options));
    println!(
        "Verifier service benchmark: {} answers per run, {} clients, database {}",
        options.checks,
        options.clients,
        if options.postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    let fixture = Arc::new(fixture);

    // Copies: 50 per offer, one offer at a time.
    let needed = options.checks * 2 + 10;
    server.block_on(async {
        let mut held = 0;
        while held < needed {
            let (uri, tx_code) = fixture
                .issuer
                .offer_to_demo_citizen(&["person_attestation_sd_jwt"])
                .await
                .unwrap();
            fixture
                .wallet
                .receive_offer(&uri)
                .await
                .unwrap()
                .accept(Some(&tx_code))
                .await
                .unwrap();
            held += 50;
        }
    });

    // 1. Capacity.
    let started = Instant::now();
    let answers = client.block_on(fixture.prepare(options.checks));
    let prepared = started.elapsed();
    println!(
        "prepared {} answers in {:.1} s ({:.2} ms each: create check, fetch and verify the request, build the answer)",
        answers.len(),
        prepared.as_secs_f64(),
        prepared.as_secs_f64() * 1000.0 / answers.len() as f64
    );
    let queue = Arc::new(Mutex::new(answers));
    let started = Instant::now();
    let latencies: Vec<Duration> = client.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..options.clients {
            let (fixture, queue) = (fixture.clone(), queue.clone());
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some((url, body)) = next else { break };
                    mine.push(fixture.post(&url, &body).await);
                }
                mine
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all
    });
    let elapsed = started.elapsed();
    let capacity = latencies.len() as f64 / elapsed.as_secs_f64();
    let mut sorted = latencies;
    sorted.sort();
    println!(
        "capacity: {capacity:.0} completed checks/s ({} in {:.2} s; latency under saturation p50 {:.1} ms, p99 {:.1} ms)",
        sorted.len(),
        elapsed.as_secs_f64(),
        percentile(&sorted, 0.5).as_secs_f64() * 1000.0,
        percentile(&sorted, 0.99).as_secs_f64() * 1000.0
    );

    // 2. Latency at a fixed offered rate.
    let rate = options.rate.unwrap_or((capacity / 2.0).max(1.0));
    let answers = client.block_on(fixture.prepare(options.checks));
    let started = Instant::now();
    let latencies: Vec<Duration> = client.block_on(async {
        let period = Duration::from_secs_f64(1.0 / rate);
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut tasks = Vec::new();
        for (url, body) in answers {
            tick.tick().await;
            let fixture = fixture.clone();
            tasks.push(tokio::spawn(async move { fixture.post(&url, &body).await }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.push(task.await.unwrap());
        }
        all
    });
    let elapsed = started.elapsed();
    let mut sorted = latencies;
    sorted.sort();
    println!(
        "at {rate:.0}/s offered ({:.0}/s achieved): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        sorted.len() as f64 / elapsed.as_secs_f64(),
        percentile(&sorted, 0.5).as_secs_f64() * 1000.0,
        percentile(&sorted, 0.99).as_secs_f64() * 1000.0,
        sorted.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
    drop(fixture);
}
