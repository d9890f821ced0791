//! `vc`: inspect and verify SD-JWT (VC) credentials and Token Status Lists, for issuers,
//! platforms and support staff. Runs exactly the checks the services run, from
//! `credential-formats`.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use credential_formats::crypto::{CryptoProvider, PublicKey, RustCrypto};
use credential_formats::jose::{DecodedJws, Jwk};
use credential_formats::sd_jwt::{
    KeyBindingPolicy, KeyBindingRequirements, SdJwt, Verification, VerifiedSdJwt,
};
use credential_formats::sd_jwt_vc::{self, VcVerification, VerifiedSdJwtVc};
use credential_formats::status_list::{
    DecodeLimits, StatusList, StatusListToken, StatusListValidation, StatusType,
};
use credential_formats::time::{Clock, FixedClock, SystemClock, UnixTime};
use credential_formats::trust_list::TrustList;
use serde_json::{Map, Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Inspect and verify SD-JWT (VC) credentials and Token Status Lists.
#[derive(Debug, Parser)]
#[command(name = "vc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode an SD-JWT (VC), its disclosures and Key Binding JWT, or a plain JWT, without
    /// verifying anything, and print it as JSON.
    Inspect {
        /// The file to read (`-` for standard input).
        file: PathBuf,
    },
    /// Verify an SD-JWT (VC) as a verifier would and print the processed claims as JSON.
    /// Exit status 0 when valid, 1 with the specific error when not.
    Verify {
        /// The file to read (`-` for standard input).
        file: PathBuf,
        /// The issuer's public key (a JWK file).
        #[arg(long, value_name = "JWK_FILE")]
        issuer_jwk: PathBuf,
        /// A signed trust list: the issuer key must be allowed to issue this `vct` at the
        /// verification time.
        #[arg(long, value_name = "FILE", requires = "trust_authority_jwk")]
        trust_list: Option<PathBuf>,
        /// The trust-list authority's public key (a JWK file), to verify `--trust-list`.
        #[arg(long, value_name = "JWK_FILE", requires = "trust_list")]
        trust_authority_jwk: Option<PathBuf>,
        /// Require key binding to this audience (with `--nonce`).
        #[arg(long, requires = "nonce")]
        aud: Option<String>,
        /// Require key binding to this nonce (with `--aud`).
        #[arg(long, requires = "aud")]
        nonce: Option<String>,
        /// Verify as of this time (seconds since the Unix epoch) instead of now.
        #[arg(long, value_name = "UNIX_TIME")]
        at: Option<UnixTime>,
        /// The Status List Token the credential's `status` points to (signed by the issuer).
        #[arg(long, value_name = "FILE")]
        status_list: Option<PathBuf>,
        /// The expected `typ` of a plain (non-VC) SD-JWT; defaults to the token's own.
        #[arg(long)]
        typ: Option<String>,
    },
    /// Read one status from a Status List Token.
    Status {
        /// The Status List Token file (`-` for standard input).
        file: PathBuf,
        /// The index to read.
        #[arg(long)]
        index: u64,
        /// Verify the token with this key (a JWK file) before reading it.
        #[arg(long, value_name = "JWK_FILE")]
        issuer_jwk: Option<PathBuf>,
        /// Verify as of this time (seconds since the Unix epoch) instead of now.
        #[arg(long, value_name = "UNIX_TIME")]
        at: Option<UnixTime>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Inspect { file } => inspect(&file),
        Command::Verify {
            file,
            issuer_jwk,
            trust_list,
            trust_authority_jwk,
            aud,
            nonce,
            at,
            status_list,
            typ,
        } => verify(&VerifyArgs {
            file,
            issuer_jwk,
            trust: trust_list.zip(trust_authority_jwk),
            key_binding: aud.zip(nonce),
            at,
            status_list,
            typ,
        }),
        Command::Status {
            file,
            index,
            issuer_jwk,
            at,
        } => status(&file, index, issuer_jwk.as_deref(), at),
    };
    match outcome.and_then(|value| print_json(&value)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn print_json(value: &Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Reads a file, or standard input for `-`, trimmed of surrounding white space.
fn read_input(path: &Path) -> Result<String> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
    } else {
        text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(text.trim().to_owned())
}

fn read_jwk(path: &Path) -> Result<PublicKey> {
    let text = read_input(path)?;
    let value = credential_formats::json::parse(text.as_bytes(), 64 * 1024)
        .with_context(|| format!("{} is not a JWK", path.display()))?;
    let jwk =
        Jwk::from_value(&value).with_context(|| format!("{} is not a JWK", path.display()))?;
    Ok(jwk.key().clone())
}

fn clock(at: Option<UnixTime>) -> Box<dyn Clock> {
    match at {
        Some(t) => Box::new(FixedClock(t)),
        None => Box::new(SystemClock),
    }
}

fn provider() -> &'static dyn CryptoProvider {
    &RustCrypto
}

fn decode_jwt_parts(jwt: &str) -> Result<Value> {
    let decoded = DecodedJws::decode(jwt)?;
    let header = decoded.header();
    let mut header_json = Map::new();
    if let Some(alg) = header.alg() {
        header_json.insert("alg".into(), json!(alg.name()));
    }
    if let Some(typ) = header.typ() {
        header_json.insert("typ".into(), json!(typ));
    }
    if let Some(kid) = header.kid() {
        header_json.insert("kid".into(), json!(kid));
    }
    if let Some(jwk) = header.jwk() {
        header_json.insert("jwk".into(), jwk.to_value());
    }
    if let Some(x5c) = header.x5c() {
        header_json.insert("x5c".into(), json!(x5c));
    }
    let payload = credential_formats::json::parse(decoded.unverified_payload(), 1 << 20)
        .unwrap_or_else(|_| json!({"unreadable": "payload is not JSON"}));
    Ok(json!({"header": header_json, "payload": payload}))
}

fn inspect(path: &Path) -> Result<Value> {
    let text = read_input(path)?;
    if !text.contains('~') {
        let jwt = decode_jwt_parts(&text).context("not an SD-JWT, nor a JWT")?;
        return Ok(json!({"format": "jwt", "jwt": jwt, "verified": false}));
    }
    let sd_jwt = SdJwt::parse(&text)?;
    let alg = credential_formats::sd_jwt::HashAlgorithm::from_name(
        sd_jwt
            .unverified_payload()
            .get("_sd_alg")
            .and_then(Value::as_str)
            .unwrap_or("sha-256"),
    )?;
    let disclosures: Vec<Value> = sd_jwt
        .disclosures()
        .iter()
        .map(|d| {
            json!({
                "digest": d.digest(alg),
                "salt": d.salt(),
                "name": d.claim_name(),
                "value": d.claim_value(),
                "array_element": d.is_array_element(),
            })
        })
        .collect();
    let key_binding = sd_jwt.key_binding_jwt().map(decode_jwt_parts).transpose()?;
    let format = match sd_jwt.unverified_header().typ() {
        Some(typ) if typ.eq_ignore_ascii_case("dc+sd-jwt") => "sd-jwt-vc",
        Some(typ) if typ.eq_ignore_ascii_case("vc+sd-jwt") => "sd-jwt-vc (legacy typ)",
        _ => "sd-jwt",
    };
    Ok(json!({
        "format": format,
        "issuer_jwt": decode_jwt_parts(sd_jwt.issuer_jwt())?,
        "disclosures": disclosures,
        "key_binding_jwt": key_binding,
        "verified": false,
    }))
}

struct VerifyArgs {
    file: PathBuf,
    issuer_jwk: PathBuf,
    trust: Option<(PathBuf, PathBuf)>,
    key_binding: Option<(String, String)>,
    at: Option<UnixTime>,
    status_list: Option<PathBuf>,
    typ: Option<String>,
}

fn verify(args: &VerifyArgs) -> Result<Value> {
    let text = read_input(&args.file)?;
    let issuer_key = read_jwk(&args.issuer_jwk)?;
    let clock = clock(args.at);
    let now = clock.now();
    let policy = match &args.key_binding {
        Some((aud, nonce)) => {
            KeyBindingPolicy::Required(KeyBindingRequirements::new(aud.clone(), nonce.clone()))
        }
        None => KeyBindingPolicy::NotRequired,
    };
    let sd_jwt = SdJwt::parse(&text)?;
    let is_vc = sd_jwt.unverified_header().typ().is_some_and(|t| {
        t.eq_ignore_ascii_case("dc+sd-jwt") || t.eq_ignore_ascii_case("vc+sd-jwt")
    });
    if !is_vc {
        let typ: &'static str = match (&args.typ, sd_jwt.unverified_header().typ()) {
            (Some(typ), _) => Box::leak(typ.clone().into_boxed_str()),
            (None, Some(typ)) => Box::leak(typ.to_owned().into_boxed_str()),
            (None, None) => bail!("the issuer JWT has no typ: give the expected one with --typ"),
        };
        let verified = sd_jwt.verify(
            &issuer_key,
            provider(),
            &Verification::new(typ, policy, &*clock),
        )?;
        return Ok(plain_report(&verified));
    }
    let verified = sd_jwt_vc::verify(
        &sd_jwt,
        &issuer_key,
        provider(),
        &VcVerification::new(policy, &*clock),
    )?;
    let mut report = vc_report(&verified);
    if let Some((list_path, authority_path)) = &args.trust {
        let authority = read_jwk(authority_path)?;
        let list = TrustList::verify(&read_input(list_path)?, provider(), &authority, now, None)
            .context("trust list")?;
        let entity = list
            .issuer_for_vct(&issuer_key, verified.vct(), now)
            .context("trust list: the issuer key may not issue this vct")?;
        report.insert("trusted_issuer".into(), json!(entity.id()));
    }
    if let Some(path) = &args.status_list {
        let reference = verified
            .status_reference()
            .context("--status-list given but the credential has no status")?;
        let validation = StatusListValidation::new(reference.uri(), now);
        let token =
            StatusListToken::verify(&read_input(path)?, provider(), &issuer_key, &validation)
                .context("status list")?;
        let status = token.status_of(reference).context("status list")?;
        if status != StatusType::Valid {
            bail!("credential status is {status:?}, not VALID");
        }
        report.insert("status".into(), json!("VALID"));
    }
    Ok(Value::Object(report))
}

fn paths(paths: &[credential_formats::claims_path::ClaimsPath]) -> Value {
    Value::Array(paths.iter().map(|p| json!(p)).collect())
}

fn plain_report(verified: &VerifiedSdJwt) -> Value {
    json!({
        "valid": true,
        "format": "sd-jwt",
        "claims": verified.claims(),
        "disclosed": paths(verified.disclosed_paths()),
        "key_binding": verified.key_binding(),
    })
}

fn vc_report(verified: &VerifiedSdJwtVc) -> Map<String, Value> {
    let report = json!({
        "valid": true,
        "format": "sd-jwt-vc",
        "vct": verified.vct(),
        "iss": verified.iss(),
        "claims": verified.claims(),
        "disclosed": paths(verified.disclosed_paths()),
        "key_binding": verified.key_binding(),
    });
    match report {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn status(
    path: &Path,
    index: u64,
    issuer_jwk: Option<&Path>,
    at: Option<UnixTime>,
) -> Result<Value> {
    let text = read_input(path)?;
    let decoded = DecodedJws::decode(&text)?;
    let sub = credential_formats::json::parse(decoded.unverified_payload(), 1 << 20)?
        .get("sub")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("the status list token has no sub")?;
    let (list, verified) = match issuer_jwk {
        Some(jwk) => {
            let key = read_jwk(jwk)?;
            let validation = StatusListValidation::new(&sub, clock(at).now());
            let token = StatusListToken::verify(&text, provider(), &key, &validation)?;
            (token.into_status_list(), true)
        }
        // Without a key the list is read as it is, and the output says it is unverified.
        None => {
            let claims = credential_formats::json::parse(decoded.unverified_payload(), 1 << 20)?;
            let list = claims
                .get("status_list")
                .context("the token has no status_list claim")?;
            (
                StatusList::from_json(list, &DecodeLimits::default())?,
                false,
            )
        }
    };
    let status = list.status(index)?;
    Ok(json!({
        "sub": sub,
        "index": index,
        "status": format!("{status:?}"),
        "value": status.value(),
        "verified": verified,
    }))
}
