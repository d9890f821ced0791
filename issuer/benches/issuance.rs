#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark fixture: a failure is a broken benchmark.
//! The issuer's issuance rate: batches of 30 person attestations over HTTPS on loopback, and
//! where the time goes (spec/performance.md, "Issuer: issuance rate").
//!
//! The issuer runs in-process on its own tokio runtime (threads `issuer-server`), with TLS
//! from the development PKI and its database in a temporary directory (SQLite), or in a fresh
//! PostgreSQL schema with `--postgres` or `BENCH_POSTGRES=1` and `TEST_POSTGRES_URL`. The load
//! generator runs on a second runtime (threads `bench-client`), so that the CPU time of each
//! side can be read per thread from `/proc`: both share the machine's cores.
//!
//! Each client task loops over the wallet's whole pre-authorized flow: an offer from the admin
//! API, the token (with `tx_code`), a fresh `c_nonce`, 30 key proofs on that nonce, and one
//! credential request for 30 `person_attestation_sd_jwt`. Holder keys are made before the
//! timed run (the proofs are not: each batch signs its own on its own nonce).
//!
//! Beside the HTTP run, the costs it is made of are measured in-process on one thread, against
//! the unit everything is compared with: 30 ES256 signatures by the issuer's signer; and
//! `Issuer::credential` from one task per core at once, to see how far it scales without HTTP.
//!
//! Knobs (environment): `BENCH_CLIENTS` (4), `BENCH_SECONDS` (10), `BENCH_WARMUP` (2),
//! `BENCH_PERSONS` (50), `BENCH_ROUNDS` (in-process rounds, 60), `BENCH_SERIAL` (batches of
//! the one-client latency run, 40), `BENCH_DB_DIR` (where the temporary directory with the
//! SQLite file, keys and TLS files goes: `/dev/shm` takes the disk's `fsync` out),
//! `BENCH_SERVER_THREADS` (the server runtime's workers, one per core). Without `--bench`
//! (`cargo test --benches`) the defaults shrink to a one-second smoke run.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use credential_formats::credentials::CredentialType;
use credential_formats::crypto::{AwsLc, CryptoProvider, SecretKey, SignatureAlgorithm, Signer};
use credential_formats::jose::Jwk;
use credential_formats::oid4vci::{ProofTimePolicy, create_proof, verify_proof};
use credential_formats::status_list::{StatusReference, UriPolicy};
use credential_formats::time::{Clock, SystemClock};
use issuer::issuance::{self, OfferPayload, Profile, ToSign};
use issuer::{AppState, Config, OfferRequest, Settings};
use serde_json::{Value, json};

const BATCH: usize = 30;
const CONFIGURATION: &str = "person_attestation_sd_jwt";
const ADMIN: &str = "bench-admin-token-0123456789";
// Thread names, at most 15 bytes (Linux truncates `comm`).
const SERVER_THREADS: &str = "issuer-server";
const CLIENT_THREADS: &str = "bench-client";
const DAY: i64 = 86_400;

fn main() {
    let options = Options::read();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let server_rt = runtime(SERVER_THREADS, options.server_threads.unwrap_or(cores));
    let client_rt = runtime(CLIENT_THREADS, cores);

    println!("Issuer issuance benchmark: batches of {BATCH} person attestations ({CONFIGURATION})");
    println!(
        "machine: {cores} cores; load average before the run: {}",
        load_average()
    );
    let server = server_rt.block_on(Server::start(
        options.postgres.as_deref(),
        options.db_dir.as_deref(),
    ));
    println!("database: {}", server.database);
    let client = Client::new(&server);

    let persons: Vec<String> = client_rt.block_on(async {
        let mut ids = Vec::with_capacity(options.persons);
        for i in 0..options.persons {
            ids.push(client.enrol(i).await);
        }
        ids
    });
    println!("{} persons enrolled through the admin API", persons.len());

    let unit = in_process(&server, &server_rt, &persons[0], options.rounds, cores);
    let serial = client_rt.block_on(serial_run(&client, &persons, options.serial));
    serial.print(&unit);
    let load = run_load(&client_rt, &client, &persons, &options);
    load.print(&unit, &serial, cores, options.postgres.is_none());

    drop(client);
    server_rt.block_on(server.stop());
}

// ------------------------------------------------------------------------------- options

struct Options {
    clients: usize,
    seconds: f64,
    warmup: f64,
    persons: usize,
    rounds: usize,
    serial: usize,
    postgres: Option<String>,
    db_dir: Option<std::path::PathBuf>,
    server_threads: Option<usize>,
}

fn env_or<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number")),
        Err(_) => default,
    }
}

impl Options {
    fn read() -> Options {
        // `cargo bench` passes `--bench`; anything else but `--postgres` is ignored.
        let postgres_asked = std::env::args().any(|a| a == "--postgres")
            || std::env::var("BENCH_POSTGRES").is_ok_and(|v| v == "1");
        let postgres = if postgres_asked {
            Some(std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| {
                panic!("--postgres needs TEST_POSTGRES_URL (postgres://user@host:port/db)")
            }))
        } else {
            None
        };
        // `cargo test --benches` runs this without `--bench`: a short smoke run then.
        let full = std::env::args().any(|a| a == "--bench");
        let pick = |bench: f64, smoke: f64| if full { bench } else { smoke };
        let options = Options {
            clients: env_or("BENCH_CLIENTS", 4),
            seconds: env_or("BENCH_SECONDS", pick(10.0, 1.0)),
            warmup: env_or("BENCH_WARMUP", pick(2.0, 0.2)),
            persons: env_or("BENCH_PERSONS", if full { 50 } else { 4 }),
            rounds: env_or("BENCH_ROUNDS", if full { 60 } else { 5 }),
            serial: env_or("BENCH_SERIAL", if full { 40 } else { 3 }),
            postgres,
            db_dir: std::env::var_os("BENCH_DB_DIR").map(Into::into),
            server_threads: std::env::var("BENCH_SERVER_THREADS")
                .ok()
                .map(|_| env_or("BENCH_SERVER_THREADS", 1)),
        };
        assert!(
            options.clients > 0 && options.persons > 0 && options.rounds > 0,
            "BENCH_CLIENTS, BENCH_PERSONS and BENCH_ROUNDS must be positive"
        );
        assert!(options.seconds > 0.0 && options.warmup >= 0.0);
        options
    }
}

fn runtime(name: &'static str, cores: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.max(1))
        .thread_name(name)
        .enable_all()
        .build()
        .unwrap()
}

// -------------------------------------------------------------------------------- server

/// The issuer on a loopback port, as the integration tests start it (harness.rs).
struct Server {
    base: String,
    addr: SocketAddr,
    ca_pem: String,
    state: AppState,
    database: String,
    // Holds the keys, the TLS files and the SQLite file until the end.
    dir: tempfile::TempDir,
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<Result<(), issuer::Error>>,
}

impl Server {
    async fn start(postgres: Option<&str>, db_dir: Option<&std::path::Path>) -> Server {
        let dir = match db_dir {
            Some(parent) => tempfile::tempdir_in(parent).unwrap(),
            None => tempfile::tempdir().unwrap(),
        };
        let pki = service_kit::tls::dev_pki(&dir.path().join("tls")).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The development certificate names `localhost`.
        let base = format!("https://localhost:{}", addr.port());
        let settings = Settings::new(base.clone(), state_profile());
        let (database_url, database_schema, database) = match postgres {
            Some(url) => {
                let schema = format!(
                    "issuer_bench_{}",
                    credential_formats::crypto::random_token(9)
                        .unwrap()
                        .to_ascii_lowercase()
                        .replace('-', "_")
                );
                let shown = format!("PostgreSQL (fresh schema {schema})");
                (url.to_owned(), Some(schema), shown)
            }
            None => {
                let path = dir.path().join("issuer.db");
                (
                    path.display().to_string(),
                    None,
                    format!(
                        "SQLite (WAL, synchronous = FULL) in {}",
                        dir.path().display()
                    ),
                )
            }
        };
        let config = Config {
            listen: addr,
            settings,
            database_url,
            database_schema,
            key_dir: dir.path().join("keys"),
            admin_token: Some(zeroize::Zeroizing::new(ADMIN.to_owned())),
            trust_list: None,
            trust_anchor: None,
            tls: None,
        };
        let opened = issuer::open_with_clock(&config, Arc::new(SystemClock))
            .await
            .unwrap();
        let state = opened.state.clone();
        let tls_files = (
            dir.path().join("tls/server.pem"),
            dir.path().join("tls/server.key"),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            issuer::run(opened, listener, Some(&tls_files), async {
                let _ = stopped.await;
            })
            .await
        });
        Server {
            base,
            addr,
            ca_pem: pki.ca_pem,
            state,
            database,
            dir,
            stop,
            handle,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .expect("the server stops within 10 s")
            .unwrap()
            .unwrap();
    }

    /// The issuer's signing key, read from its key directory as `open` left it.
    fn signing_key(&self) -> SecretKey {
        let path = self.dir.path().join("keys/signing.jwk");
        let (jwk, _) = service_kit::keys::load_or_generate_signing_key(&path).unwrap();
        jwk.secret().clone()
    }
}

fn state_profile() -> Profile {
    Profile::State {
        issuing_authority: "BE-RRN".into(),
        issuing_country: "BE".into(),
        ledger: "https://ledger.example".into(),
    }
}

// -------------------------------------------------------------------------------- client

/// The load generator's side of the protocol, over one pooled HTTPS client.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
}

/// The pre-authorized code and its `tx_code`.
struct Offer {
    code: String,
    tx_code: String,
}

fn offer_of(created: &Value) -> Offer {
    let code = created["credential_offer"]["grants"]
        ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let tx_code = created["tx_code"].as_str().unwrap().to_owned();
    Offer { code, tx_code }
}

impl Client {
    fn new(server: &Server) -> Client {
        let http = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(server.ca_pem.as_bytes()).unwrap()])
            // `localhost` straight to the bound address: no resolver thread in the way.
            .resolve("localhost", server.addr)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Client {
            http,
            base: server.base.clone(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn enrol(&self, i: usize) -> String {
        let response = self
            .http
            .post(self.url("/admin/persons"))
            .bearer_auth(ADMIN)
            .json(&json!({
                "family_name": "Peeters", "given_name": "An", "birthdate": "1990-05-01",
                "nationalities": ["BE"], "personal_administrative_number": format!("{:011}", 90_050_100_000 + i),
                "address": {"street_address": "Veldstraat 1", "locality": "Gent", "country": "BE"}
            }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "enrolment failed");
        response.json::<Value>().await.unwrap()["person_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn offer(&self, person: &str) -> Offer {
        let response = self
            .http
            .post(self.url("/admin/offers"))
            .bearer_auth(ADMIN)
            .json(&json!({"person_id": person, "credential_configuration_ids": [CONFIGURATION]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "offer refused");
        offer_of(&response.json::<Value>().await.unwrap())
    }

    async fn token(&self, offer: &Offer) -> String {
        let response = self
            .http
            .post(self.url("/token"))
            .form(&[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                ),
                ("pre-authorized_code", &offer.code),
                ("tx_code", &offer.tx_code),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "token refused");
        response.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn nonce(&self) -> String {
        let response = self.http.post(self.url("/nonce")).send().await.unwrap();
        assert_eq!(response.status(), 200, "nonce refused");
        response.json::<Value>().await.unwrap()["c_nonce"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The credential request; returns how many credentials came back.
    async fn credential(&self, token: &str, proofs: &[String]) -> usize {
        let response = self
            .http
            .post(self.url("/credential"))
            .bearer_auth(token)
            .json(&json!({"credential_configuration_id": CONFIGURATION, "proofs": {"jwt": proofs}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "credential request refused");
        let body: Value = response.json().await.unwrap();
        let credentials = body["credentials"].as_array().unwrap();
        assert!(
            credentials
                .iter()
                .all(|c| c["credential"].as_str().is_some_and(|s| s.contains('~'))),
            "a credential is not an SD-JWT"
        );
        credentials.len()
    }
}

/// Holder keys, made once: one signer per proof of a batch.
fn holder_signers(n: usize) -> Vec<Box<dyn Signer>> {
    (0..n)
        .map(|_| {
            AwsLc
                .signer(&SecretKey::generate(SignatureAlgorithm::Es256).unwrap())
                .unwrap()
        })
        .collect()
}

fn proofs_for(holders: &[Box<dyn Signer>], aud: &str, nonce: &str) -> Vec<String> {
    let now = SystemClock.now();
    holders
        .iter()
        .map(|signer| create_proof(&**signer, aud, nonce, now, None).unwrap())
        .collect()
}

/// The time each step of one batch took, as the client saw it.
#[derive(Clone, Copy)]
struct BatchTimes {
    offer: Duration,
    token: Duration,
    nonce: Duration,
    proofs: Duration,
    credential: Duration,
    total: Duration,
}

async fn batch(client: &Client, person: &str, holders: &[Box<dyn Signer>]) -> BatchTimes {
    let start = Instant::now();
    let offer = client.offer(person).await;
    let t_offer = Instant::now();
    let token = client.token(&offer).await;
    let t_token = Instant::now();
    let nonce = client.nonce().await;
    let t_nonce = Instant::now();
    let proofs = proofs_for(holders, &client.base, &nonce);
    let t_proofs = Instant::now();
    let issued = client.credential(&token, &proofs).await;
    let end = Instant::now();
    assert_eq!(issued, BATCH, "a batch came back short");
    BatchTimes {
        offer: t_offer - start,
        token: t_token - t_offer,
        nonce: t_nonce - t_token,
        proofs: t_proofs - t_nonce,
        credential: end - t_proofs,
        total: end - start,
    }
}

// ---------------------------------------------------------------------------- statistics

/// Order statistics of a sample of durations.
#[derive(Clone, Copy)]
struct Stats {
    median: Duration,
    p95: Duration,
    min: Duration,
    n: usize,
}

impl Stats {
    fn of(mut sample: Vec<Duration>) -> Stats {
        assert!(!sample.is_empty(), "an empty sample");
        sample.sort_unstable();
        let at = |q: f64| sample[((sample.len() - 1) as f64 * q).round() as usize];
        Stats {
            median: at(0.5),
            p95: at(0.95),
            min: sample[0],
            n: sample.len(),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// Times `rounds` calls of `f` after a few unmeasured ones.
fn time_rounds(rounds: usize, mut f: impl FnMut()) -> Stats {
    for _ in 0..rounds.div_ceil(10) {
        f();
    }
    Stats::of(
        (0..rounds)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------- in-process

/// A call that touches the store: wall time per call, and the CPU time it used (mean over the
/// loop: Linux accounts a running thread's CPU time only at scheduler ticks, so one call is
/// too short to read on its own).
#[derive(Clone, Copy)]
struct StoreCost {
    wall: Stats,
    cpu: Duration,
}

/// The in-process costs, each for one batch of 30 (or one call); `sign30` is the unit.
struct Unit {
    sign30: Stats,
    issue30: Stats,
    verify30: Stats,
    prove30: Stats,
    qr: Stats,
    offer: StoreCost,
    token: StoreCost,
    nonce: StoreCost,
    credential: StoreCost,
    /// Issuer::credential from one task per core at once: calls/s and cores used.
    parallel: Option<(f64, f64)>,
}

/// CPU seconds so far of the threads that run the issuer here: this one and the server
/// runtime's (PostgreSQL's connection tasks live there).
fn issuer_cpu() -> f64 {
    thread_cpu().map_or(f64::NAN, |t| t.server + t.other)
}

/// Runs `call` on each input in turn, timing each call after `warmup` and the CPU of the
/// whole timed loop; returns every output.
async fn store_loop<I, F, Fut, O>(inputs: Vec<I>, warmup: usize, mut call: F) -> (StoreCost, Vec<O>)
where
    F: FnMut(I) -> Fut,
    Fut: std::future::Future<Output = O>,
{
    let mut outputs = Vec::with_capacity(inputs.len());
    let mut inputs = inputs.into_iter();
    for input in inputs.by_ref().take(warmup) {
        outputs.push(call(input).await);
    }
    let mut wall = Vec::new();
    let cpu0 = issuer_cpu();
    for input in inputs {
        let start = Instant::now();
        let output = call(input).await;
        wall.push(start.elapsed());
        outputs.push(output);
    }
    let cpu = (issuer_cpu() - cpu0) / wall.len() as f64;
    let cost = StoreCost {
        wall: Stats::of(wall),
        cpu: Duration::try_from_secs_f64(cpu).unwrap_or_default(),
    };
    (cost, outputs)
}

fn token_form(offer: &Offer) -> String {
    format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code\
         &pre-authorized_code={}&tx_code={}",
        offer.code, offer.tx_code
    )
}

fn in_process(
    server: &Server,
    server_rt: &tokio::runtime::Runtime,
    person_id: &str,
    rounds: usize,
    cores: usize,
) -> Unit {
    let issuer = &server.state.issuer;
    let base = server.base.as_str();
    let signer = AwsLc.signer(&server.signing_key()).unwrap();
    let kid = issuer.public_jwk().kid().unwrap().to_owned();
    let person = server_rt
        .block_on(issuer.store().person(person_id))
        .unwrap()
        .unwrap();
    let now = SystemClock.now();
    let claims = issuance::claims_for(
        CredentialType::PersonAttestation,
        &state_profile(),
        Some(&person),
        &OfferPayload::default(),
        now,
    )
    .unwrap();
    let holders = holder_signers(BATCH);
    let holder_jwks: Vec<Jwk> = holders.iter().map(|h| Jwk::new(h.public_key())).collect();
    let iat = now - now.rem_euclid(DAY);
    let status_uri = format!("{base}/status/1");
    let sign_one = |i: usize| {
        issuance::sign(
            &*signer,
            ToSign {
                issuer: base,
                kid: &kid,
                vct: CredentialType::PersonAttestation.vct(),
                claims: &claims,
                holder: holder_jwks[i].clone(),
                status: StatusReference::new_with(
                    (i as u64) * 4_099 % (1 << 17),
                    status_uri.clone(),
                    UriPolicy::HttpsOnly,
                )
                .unwrap(),
                iat,
                exp: iat + 30 * DAY,
            },
        )
        .unwrap()
    };

    // (a) The unit: 30 ES256 signatures over the signing input of a real person attestation.
    let sample = sign_one(0);
    let issuer_jwt = sample.split('~').next().unwrap();
    let (signing_input, _) = issuer_jwt.rsplit_once('.').unwrap();
    let signing_input = signing_input.as_bytes().to_vec();
    let sign30 = time_rounds(rounds, || {
        for _ in 0..BATCH {
            std::hint::black_box(signer.sign(std::hint::black_box(&signing_input)).unwrap());
        }
    });
    // (b) 30 × issuance::sign: claims to disclosures (salts, digests, decoys), the JWT, its
    // signature, the compact serialization.
    let issue30 = time_rounds(rounds, || {
        for i in 0..BATCH {
            std::hint::black_box(sign_one(i));
        }
    });
    // (c) 30 key proofs verified as the credential endpoint does.
    let proofs = proofs_for(&holders, base, "bench-nonce-0123456789");
    let verify30 = time_rounds(rounds, || {
        for jwt in &proofs {
            std::hint::black_box(
                verify_proof(
                    &AwsLc,
                    jwt,
                    base,
                    SystemClock.now(),
                    ProofTimePolicy::default(),
                )
                .unwrap(),
            );
        }
    });
    // (e) The client's part: 30 proofs signed with AwsLc.
    let prove30 = time_rounds(rounds, || {
        std::hint::black_box(proofs_for(&holders, base, "bench-nonce-0123456789"));
    });

    // The calls that touch the store, each in its own loop on inputs made beforehand.
    let warmup = rounds.div_ceil(10);
    let n = rounds + warmup;
    // The small calls run five times as often, so that their loop lasts many scheduler ticks.
    let n_small = 5 * rounds + warmup;
    let request = || OfferRequest {
        person_id: Some(person_id.to_owned()),
        credential_configuration_ids: vec![CONFIGURATION.to_owned()],
        ..OfferRequest::default()
    };
    let (offer, token, nonce, credential, offer_uri) = server_rt.block_on(async {
        let (offer, created) = store_loop(vec![(); n_small], warmup, |()| {
            issuer.create_offer(request())
        })
        .await;
        let offer_uri = created[0].as_ref().unwrap().offer_uri.clone();
        let forms: Vec<String> = created
            .iter()
            .map(|c| {
                token_form(&offer_of(
                    &serde_json::to_value(c.as_ref().unwrap()).unwrap(),
                ))
            })
            .collect();
        let (token, tokens) = store_loop(forms, warmup, |form| async move {
            issuer.token(&form).await.unwrap().access_token().to_owned()
        })
        .await;
        let (nonce, nonces) = store_loop(vec![(); n_small], warmup, |()| async {
            issuer.nonce().await.unwrap().c_nonce().to_owned()
        })
        .await;
        let requests: Vec<(String, String)> = tokens
            .into_iter()
            .zip(nonces)
            .take(n)
            .map(|(token, nonce)| {
                let body = json!({
                    "credential_configuration_id": CONFIGURATION,
                    "proofs": {"jwt": proofs_for(&holders, base, &nonce)}
                });
                (token, body.to_string())
            })
            .collect();
        let (credential, _) = store_loop(requests, warmup, |(token, body)| async move {
            issuer.credential(&token, body.as_bytes()).await.unwrap()
        })
        .await;
        (offer, token, nonce, credential, offer_uri)
    });
    let parallel = parallel_credentials(server, server_rt, person_id, &holders, rounds, cores);
    // The admin route draws the offer link as an SVG and a PNG QR code.
    let qr = time_rounds(rounds, || {
        std::hint::black_box(service_kit::qr::svg(&offer_uri).unwrap());
        std::hint::black_box(service_kit::qr::png(&offer_uri).unwrap());
    });

    let unit = Unit {
        sign30,
        issue30,
        verify30,
        prove30,
        qr,
        offer,
        token,
        nonce,
        credential,
        parallel,
    };
    unit.print(rounds, signing_input.len(), cores);
    unit
}

/// `Issuer::credential` from one task per core on the server runtime, without HTTP: how far
/// the endpoint's own work scales over the cores. Inputs are made beforehand.
fn parallel_credentials(
    server: &Server,
    rt: &tokio::runtime::Runtime,
    person_id: &str,
    holders: &[Box<dyn Signer>],
    rounds: usize,
    tasks: usize,
) -> Option<(f64, f64)> {
    let issuer = &server.state.issuer;
    let per_task = 2 * rounds;
    let inputs: Vec<Vec<(String, String)>> = rt.block_on(async {
        let mut all = Vec::with_capacity(tasks);
        for _ in 0..tasks {
            let mut requests = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                let created = issuer
                    .create_offer(OfferRequest {
                        person_id: Some(person_id.to_owned()),
                        credential_configuration_ids: vec![CONFIGURATION.to_owned()],
                        ..OfferRequest::default()
                    })
                    .await
                    .unwrap();
                let offer = offer_of(&serde_json::to_value(&created).unwrap());
                let token = issuer.token(&token_form(&offer)).await.unwrap();
                let nonce = issuer.nonce().await.unwrap();
                let body = json!({
                    "credential_configuration_id": CONFIGURATION,
                    "proofs": {"jwt": proofs_for(holders, &server.base, nonce.c_nonce())}
                });
                requests.push((token.access_token().to_owned(), body.to_string()));
            }
            all.push(requests);
        }
        all
    });
    let cpu0 = thread_cpu()?;
    let start = Instant::now();
    rt.block_on(async {
        let handles: Vec<_> = inputs
            .into_iter()
            .map(|requests| {
                let issuer = server.state.issuer.clone();
                tokio::spawn(async move {
                    for (token, body) in requests {
                        issuer.credential(&token, body.as_bytes()).await.unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let cpu1 = thread_cpu()?;
    Some((
        (tasks * per_task) as f64 / elapsed,
        (cpu1.server - cpu0.server) / elapsed,
    ))
}

impl Unit {
    fn print(&self, rounds: usize, input_len: usize, cores: usize) {
        let a = self.sign30.median;
        println!();
        println!(
            "In-process, one thread, wall time (ms; {rounds} rounds; the issuer JWT's signing input is {input_len} bytes)"
        );
        println!(
            "  {:<58} {:>8} {:>8} {:>8} {:>7}",
            "", "median", "p95", "min", "÷ (a)"
        );
        let row = |name: &str, s: &Stats| {
            println!(
                "  {:<58} {:>8.3} {:>8.3} {:>8.3} {:>7.2}",
                name,
                ms(s.median),
                ms(s.p95),
                ms(s.min),
                ratio(s.median, a)
            );
        };
        row(
            "(a) 30 ES256 signatures, issuer's AwsLc signer",
            &self.sign30,
        );
        row(
            "(b) 30 × issuance::sign (SD-JWT VC built and signed)",
            &self.issue30,
        );
        row("(c) 30 × verify_proof (AwsLc)", &self.verify30);
        row("(e) client: 30 × create_proof (AwsLc)", &self.prove30);
        row("    QR codes of one offer (SVG + PNG)", &self.qr);
        println!();
        println!(
            "In-process calls that touch the store (ms; wall per call; CPU = mean over the loop)"
        );
        println!(
            "  {:<58} {:>8} {:>8} {:>8} {:>7}",
            "", "wall p50", "wall p95", "CPU", "CPU÷(a)"
        );
        let row = |name: &str, c: &StoreCost| {
            println!(
                "  {:<58} {:>8.3} {:>8.3} {:>8.3} {:>7.2}",
                name,
                ms(c.wall.median),
                ms(c.wall.p95),
                ms(c.cpu),
                ratio(c.cpu, a)
            );
        };
        row("    Issuer::create_offer (no QR)", &self.offer);
        row("    Issuer::token", &self.token);
        row("    Issuer::nonce", &self.nonce);
        row(
            "(d) Issuer::credential, 30 proofs → 30 credentials",
            &self.credential,
        );
        if let Some((rate, used)) = self.parallel {
            println!(
                "  (d) from {cores} tasks at once on the server runtime: {rate:.0} calls/s = {:.0} credentials/s, {used:.2} cores busy",
                rate * BATCH as f64
            );
        }
        let d = self.credential.cpu;
        println!(
            "  (b) ÷ (a) = {:.2}.  Of (d)'s CPU: (b) {:.0} %, (c) {:.0} %, the rest (store, parsing) {:.0} %; \
             (d) wall − CPU = {:.2} ms waiting (commits)",
            ratio(self.issue30.median, a),
            100.0 * ratio(self.issue30.median, d),
            100.0 * ratio(self.verify30.median, d),
            100.0 * (1.0 - ratio(self.issue30.median + self.verify30.median, d)),
            ms(self.credential.wall.median) - ms(d)
        );
    }
}

// ------------------------------------------------------------------------ serial HTTP run

struct Serial {
    steps: Vec<(&'static str, Stats)>,
    credential: Stats,
}

impl Serial {
    fn print(&self, unit: &Unit) {
        println!();
        println!(
            "HTTPS on loopback, one client, one batch at a time (ms; {} batches): client-observed",
            self.credential.n
        );
        println!(
            "  {:<58} {:>8} {:>8} {:>8} {:>7}",
            "", "median", "p95", "min", "÷ (a)"
        );
        for (name, s) in &self.steps {
            println!(
                "  {:<58} {:>8.2} {:>8.2} {:>8.2} {:>7.2}",
                name,
                ms(s.median),
                ms(s.p95),
                ms(s.min),
                ratio(s.median, unit.sign30.median)
            );
        }
    }
}

async fn serial_run(client: &Client, persons: &[String], batches: usize) -> Serial {
    let holders = holder_signers(BATCH);
    let batches = batches.max(1);
    let mut times = Vec::with_capacity(batches);
    for i in 0..batches + batches.div_ceil(10) {
        let t = batch(client, &persons[i % persons.len()], &holders).await;
        if i >= batches.div_ceil(10) {
            times.push(t);
        }
    }
    let of = |f: fn(&BatchTimes) -> Duration| Stats::of(times.iter().map(f).collect());
    let credential = of(|t| t.credential);
    Serial {
        steps: vec![
            ("POST /admin/offers (with its QR codes)", of(|t| t.offer)),
            ("POST /token (tx_code)", of(|t| t.token)),
            ("POST /nonce", of(|t| t.nonce)),
            ("client: 30 key proofs", of(|t| t.proofs)),
            ("POST /credential (30 proofs → 30 credentials)", credential),
            ("the whole batch", of(|t| t.total)),
        ],
        credential,
    }
}

// -------------------------------------------------------------------------- the load run

struct Load {
    clients: usize,
    window: Duration,
    warmup: f64,
    batches: usize,
    credential: Option<Stats>,
    total: Option<Stats>,
    /// Median of each step: offer, token, nonce, credential.
    steps: Option<[Duration; 4]>,
    cpu: Option<Cpu>,
}

/// CPU seconds over the timed window, per side.
struct Cpu {
    server: f64,
    client: f64,
    other: f64,
    /// Everyone's busy CPU on the machine (`/proc/stat`), to see others' load.
    machine: Option<f64>,
}

fn run_load(
    rt: &tokio::runtime::Runtime,
    client: &Client,
    persons: &[String],
    options: &Options,
) -> Load {
    let persons = Arc::new(persons.to_vec());
    let begin = Instant::now();
    let t0 = begin + Duration::from_secs_f64(options.warmup);
    let planned_end = t0 + Duration::from_secs_f64(options.seconds);
    let stride = options.clients;
    let tasks: Vec<_> = (0..options.clients)
        .map(|c| {
            let client = client.clone();
            let persons = persons.clone();
            let holders = holder_signers(BATCH);
            rt.spawn(async move {
                // (completion instant, times) of every batch.
                let mut done = Vec::new();
                let mut i = c;
                while Instant::now() < planned_end {
                    let t = batch(&client, &persons[i % persons.len()], &holders).await;
                    done.push((Instant::now(), t));
                    // The tasks walk the persons apart: no two batches in flight share one.
                    i += stride;
                }
                done
            })
        })
        .collect();
    // The window is read on this thread, which sleeps, rather than on a busy worker.
    std::thread::sleep(t0.saturating_duration_since(Instant::now()));
    let cpu0 = (thread_cpu(), machine_busy());
    let start = Instant::now();
    std::thread::sleep(planned_end.saturating_duration_since(Instant::now()));
    let cpu1 = (thread_cpu(), machine_busy());
    let end = Instant::now();
    let done: Vec<(Instant, BatchTimes)> = rt.block_on(async {
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all
    });
    let in_window: Vec<BatchTimes> = done
        .into_iter()
        .filter(|(at, _)| *at >= start && *at <= end)
        .map(|(_, t)| t)
        .collect();
    let cpu = match (cpu0, cpu1) {
        ((Some(a), ma), (Some(b), mb)) => Some(Cpu {
            server: b.server - a.server,
            client: b.client - a.client,
            other: b.other - a.other,
            machine: ma.zip(mb).map(|(x, y)| y - x),
        }),
        _ => None,
    };
    let stats = |f: fn(&BatchTimes) -> Duration| {
        (!in_window.is_empty()).then(|| Stats::of(in_window.iter().map(f).collect()))
    };
    let steps = (!in_window.is_empty()).then(|| {
        let median =
            |f: fn(&BatchTimes) -> Duration| Stats::of(in_window.iter().map(f).collect()).median;
        [
            median(|t| t.offer),
            median(|t| t.token),
            median(|t| t.nonce),
            median(|t| t.credential),
        ]
    });
    Load {
        clients: options.clients,
        steps,
        window: end - start,
        warmup: options.warmup,
        batches: in_window.len(),
        credential: stats(|t| t.credential),
        total: stats(|t| t.total),
        cpu,
    }
}

impl Load {
    fn print(&self, unit: &Unit, serial: &Serial, cores: usize, sqlite: bool) {
        let secs = self.window.as_secs_f64();
        let rate = self.batches as f64 / secs;
        let a = unit.sign30.median;
        println!();
        println!(
            "HTTPS on loopback, {} concurrent clients, {:.1} s timed after {:.1} s of warm-up",
            self.clients, secs, self.warmup
        );
        println!(
            "  RATE: {rate:.1} batches/s = {:.0} credentials/s ({} batches of {BATCH} in the window)",
            rate * BATCH as f64,
            self.batches,
        );
        if let (Some(c), Some(t)) = (&self.credential, &self.total) {
            println!(
                "  POST /credential latency p50 {:.2} ms, p95 {:.2} ms; whole batch p50 {:.2} ms, p95 {:.2} ms",
                ms(c.median),
                ms(c.p95),
                ms(t.median),
                ms(t.p95)
            );
        }
        if let Some([offer, token, nonce, credential]) = self.steps {
            println!(
                "  step medians: offer {:.2} ms, token {:.2} ms, nonce {:.2} ms, credential {:.2} ms",
                ms(offer),
                ms(token),
                ms(nonce),
                ms(credential)
            );
        }
        // SQLite: one connection behind a lock, held for each call's whole transaction,
        // commit included. Everything else of the credential call runs outside it.
        let locked = unit.offer.wall.median
            + unit.token.wall.median
            + unit.nonce.wall.median
            + unit
                .credential
                .wall
                .median
                .saturating_sub(unit.issue30.median + unit.verify30.median);
        if sqlite {
            println!(
                "  store time per batch (in-process walls: offer + token + nonce + (d) − (b) − (c)) \
                 {:.2} ms: SQLite's one connection allows ≈ {:.0} batches/s",
                ms(locked),
                1.0 / locked.as_secs_f64()
            );
        }
        let Some(cpu) = &self.cpu else {
            println!("  (per-thread CPU time is not available on this system)");
            return;
        };
        let ours = cpu.server + cpu.client + cpu.other;
        println!(
            "  CPU: server {:.2} cores, client {:.2} cores, rest of the process {:.2}; the client's share {:.0} %",
            cpu.server / secs,
            cpu.client / secs,
            cpu.other / secs,
            100.0 * cpu.client / ours
        );
        if let Some(machine) = cpu.machine {
            println!(
                "  the machine: {:.2} of {cores} cores busy, {:.2} of them outside this process{}",
                machine / secs,
                (machine - ours).max(0.0) / secs,
                if sqlite {
                    " (other users of the machine)"
                } else {
                    " (PostgreSQL's, and other users of the machine)"
                }
            );
        }
        if self.batches > 0 {
            let per_batch = |cpu_seconds: f64| {
                Duration::try_from_secs_f64(cpu_seconds / self.batches as f64).unwrap_or_default()
            };
            let server = per_batch(cpu.server);
            println!(
                "  server CPU per batch {:.2} ms = {:.2} × (a){}; client CPU per batch {:.2} ms",
                ms(server),
                ratio(server, a),
                if sqlite {
                    ""
                } else {
                    " (without PostgreSQL's own)"
                },
                ms(per_batch(cpu.client)),
            );
            // On PostgreSQL the in-process CPU figures also count the runtime's wake-ups for
            // each round trip (workers spin before they park), which load hides: no breakdown.
            if sqlite {
                println!(
                    "  of the server's CPU per batch: the 30 signatures (a) {:.0} %, the rest of (d) Issuer::credential {:.0} %, \
                 the offer's QR codes {:.0} %, offer + token + nonce {:.0} %; HTTP, TLS and JSON the rest",
                    100.0 * ratio(a, server),
                    100.0 * ratio(unit.credential.cpu.saturating_sub(a), server),
                    100.0 * ratio(unit.qr.median, server),
                    100.0 * ratio(unit.offer.cpu + unit.token.cpu + unit.nonce.cpu, server),
                );
            }
            println!(
                "  CPU-bound ceiling, the server alone on {cores} cores: ≈ {:.0} batches/s = ≈ {:.0} credentials/s",
                cores as f64 / server.as_secs_f64(),
                cores as f64 * BATCH as f64 / server.as_secs_f64()
            );
        }
        println!();
        println!(
            "Ratios to (a), 30 ES256 signatures by the issuer's signer ({:.3} ms):",
            ms(a)
        );
        println!(
            "  POST /credential, one client, client-observed median: {:.2}",
            ratio(serial.credential.median, a)
        );
        println!(
            "  (d) Issuer::credential in-process: wall {:.2}, CPU {:.2}",
            ratio(unit.credential.wall.median, a),
            ratio(unit.credential.cpu, a),
        );
        println!(
            "  (b) issuance::sign × 30: {:.2}",
            ratio(unit.issue30.median, a)
        );
        if self.batches > 0 {
            println!(
                "  server CPU per batch under load (offer with QR codes, token, nonce, credential): {:.2}",
                cpu.server / self.batches as f64 / a.as_secs_f64()
            );
        }
    }
}

// ------------------------------------------------------------------------ CPU accounting

struct ThreadCpu {
    server: f64,
    client: f64,
    other: f64,
}

/// CPU seconds so far of this process's threads, by runtime (Linux `/proc`).
fn thread_cpu() -> Option<ThreadCpu> {
    let mut out = ThreadCpu {
        server: 0.0,
        client: 0.0,
        other: 0.0,
    };
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let path = entry.ok()?.path();
        // A thread may end between the listing and the reads: skip it.
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        let Some(seconds) = task_seconds(&path) else {
            continue;
        };
        let comm = comm.trim_end();
        if comm.starts_with(SERVER_THREADS) {
            out.server += seconds;
        } else if comm.starts_with(CLIENT_THREADS) {
            out.client += seconds;
        } else {
            out.other += seconds;
        }
    }
    Some(out)
}

fn task_seconds(task: &std::path::Path) -> Option<f64> {
    // `schedstat` counts nanoseconds on the CPU; `stat` only clock ticks (assumed 100 Hz).
    if let Ok(text) = std::fs::read_to_string(task.join("schedstat"))
        && let Some(ns) = text
            .split_whitespace()
            .next()
            .and_then(|s| s.parse::<u64>().ok())
    {
        return Some(ns as f64 / 1e9);
    }
    let stat = std::fs::read_to_string(task.join("stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// Busy CPU seconds of the whole machine so far (`/proc/stat`, 100 Hz ticks).
fn machine_busy() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal …: busy is all but idle and iowait.
    let busy: u64 = ticks
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, t)| t)
        .sum();
    Some(busy as f64 / 100.0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}
