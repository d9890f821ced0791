//! `court`: the court's tool. Makes the threshold escrow key and the judges' keys, signs and
//! checks court orders, and opens escrow records with k of n judges' shares.

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use court::audit::{
    AuditError, AuditState, History, VerifiedLog, check_history, consistency_needed, openings,
    short, verify_log,
};
use court::case::{
    Party, case_dir_name, checkpoint_origin, hours_minutes, log_key, verify_register_answer,
    verify_verifier_answer,
};
use court::client::Client;
use court::escrow::{self, CeremonyRecord, Opening, ShareFile};
use court::files::{read_text, write_private, write_public};
use court::judge::{JudgeKeyFile, judge_keygen};
use court::sealing::KdfParams;
use court::trust;
use credential_formats::court_order::{CourtOrder, OrderRequest, verify_order};
use credential_formats::crypto::{PublicKey, RustCrypto};
use credential_formats::escrow::SealedRecord;
use credential_formats::jose::Jwk;
use credential_formats::time::{Clock, SystemClock};
use credential_formats::trust_list::TrustList;
use serde_json::json;
use std::collections::VecDeque;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use zeroize::Zeroizing;

/// The shortest passphrase accepted for a new key or share file.
const MIN_PASSPHRASE_CHARS: usize = 12;

/// The court's tool: escrow key ceremony, judges' keys, court orders, opening records.
#[derive(Debug, Parser)]
#[command(name = "court", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make the escrow key pair and split its private key among the judges (k of n).
    EscrowKeygen(EscrowKeygen),
    /// Make a judge's signing key (ES256), sealed under the judge's passphrase.
    JudgeKeygen(JudgeKeygen),
    /// Court orders: sign one, or check one against the trust list.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Rebuild the escrow key from k judges' shares and open an account's sealed records.
    Open(Open),
    /// Send an order and a person handle to the State register; check its logged answer.
    Resolve(Resolve),
    /// Check the verifier's and the register's transparency logs and report every opening.
    Audit(Audit),
}

/// The trust list every check starts from.
#[derive(Debug, Args)]
struct TrustArgs {
    /// The signed trust list (compact JWS).
    #[arg(long)]
    trust_list: PathBuf,
    /// The trust-list authority's public key (a JWK file).
    #[arg(long)]
    authority_key: PathBuf,
    /// Check as of this Unix time instead of now.
    #[arg(long, hide = true)]
    now: Option<i64>,
}

impl TrustArgs {
    fn now(&self) -> i64 {
        self.now.unwrap_or_else(|| SystemClock.now())
    }

    fn list(&self) -> Result<TrustList> {
        load_trust_list(&self.trust_list, &self.authority_key, self.now())
    }
}

#[derive(Debug, Args)]
struct OrderSubmit {
    /// The verifier's base URL (e.g. https://verifier.example.be).
    #[arg(long)]
    verifier: String,
    /// The compact order.
    #[arg(long)]
    order: PathBuf,
    /// The case directory (default: `case-<case number>` next to the order).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The verifier's entity id in the trust list (default: the one whose log the answer's
    /// checkpoint names).
    #[arg(long)]
    verifier_id: Option<String>,
    /// Also trust these PEM root certificates (e.g. the development CA).
    #[arg(long)]
    ca: Option<PathBuf>,
    #[command(flatten)]
    trust: TrustArgs,
}

#[derive(Debug, Args)]
struct Resolve {
    /// The register's base URL.
    #[arg(long)]
    register: String,
    /// The compact order.
    #[arg(long)]
    order: PathBuf,
    /// The person handle opened from the records.
    #[arg(long)]
    handle: String,
    /// The verifier's answer (`verifier-answer.json` of the case directory, where the
    /// register's answer is written too).
    #[arg(long)]
    verifier_answer: PathBuf,
    /// The verifier's entity id in the trust list.
    #[arg(long)]
    verifier_id: Option<String>,
    /// The register's entity id in the trust list.
    #[arg(long)]
    register_id: Option<String>,
    /// Also trust these PEM root certificates.
    #[arg(long)]
    ca: Option<PathBuf>,
    #[command(flatten)]
    trust: TrustArgs,
}

#[derive(Debug, Args)]
struct Audit {
    /// The verifier's base URL.
    #[arg(long)]
    verifier: String,
    /// The register's base URL.
    #[arg(long)]
    register: String,
    /// The checkpoints seen at the previous audit (read, then updated).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Warn of an unresolved order this many hours before its deadline.
    #[arg(long, default_value_t = 4)]
    warn_hours: i64,
    /// The report as JSON.
    #[arg(long)]
    json: bool,
    /// Exit non-zero when an order is overdue.
    #[arg(long)]
    fail_on_overdue: bool,
    /// The verifier's entity id in the trust list.
    #[arg(long)]
    verifier_id: Option<String>,
    /// The register's entity id in the trust list.
    #[arg(long)]
    register_id: Option<String>,
    /// Also trust these PEM root certificates.
    #[arg(long)]
    ca: Option<PathBuf>,
    #[command(flatten)]
    trust: TrustArgs,
}

#[derive(Debug, Args)]
struct Kdf {
    /// argon2id memory cost of the sealed files, in KiB (default 64 MiB).
    #[arg(long, default_value_t = KdfParams::DEFAULT.memory_kib())]
    kdf_memory_kib: u32,
    /// argon2id passes.
    #[arg(long, default_value_t = KdfParams::DEFAULT.passes())]
    kdf_passes: u32,
}

impl Kdf {
    fn params(&self) -> Result<KdfParams> {
        let params = KdfParams::new(self.kdf_memory_kib, self.kdf_passes, 1)?;
        if params.is_below_default() {
            eprintln!("warning: KDF cost below the default (64 MiB, 3 passes): for tests only");
        }
        Ok(params)
    }
}

#[derive(Debug, Args)]
struct EscrowKeygen {
    /// Number of judges (n); when given, as many --judge names must follow, or none (then
    /// they are named judge-1 … judge-n).
    #[arg(long)]
    judges: Option<u32>,
    /// A judge's name or id, once per judge, in the order of their shares (x = 1, 2, …).
    #[arg(long = "judge")]
    judge_names: Vec<String>,
    /// Shares needed to open (k).
    #[arg(long)]
    threshold: u32,
    /// The court's entity id in the trust list (an https URL).
    #[arg(long)]
    court_id: String,
    /// The court's name in the trust list.
    #[arg(long, default_value = "Court")]
    court_name: String,
    /// The escrow key's `kid` (default: `escrow-` and the first 16 characters of the
    /// base64url public key).
    #[arg(long)]
    kid: Option<String>,
    /// Directory for the outputs (created if missing; existing files are never overwritten).
    #[arg(long)]
    out: PathBuf,
    /// Read each judge's passphrase from a file, one per judge, in order (instead of the
    /// terminal).
    #[arg(long = "passphrase-file")]
    passphrase_files: Vec<PathBuf>,
    #[command(flatten)]
    kdf: Kdf,
}

#[derive(Debug, Args)]
struct JudgeKeygen {
    /// The judge's entity id in the trust list (an https URL).
    #[arg(long)]
    id: String,
    /// The judge's name.
    #[arg(long)]
    name: String,
    /// The key's `kid` (default: its RFC 7638 thumbprint).
    #[arg(long)]
    kid: Option<String>,
    /// Directory for the outputs (created if missing; existing files are never overwritten).
    #[arg(long)]
    out: PathBuf,
    /// Read the passphrase from this file (instead of the terminal).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
    #[command(flatten)]
    kdf: Kdf,
}

#[derive(Debug, Subcommand)]
enum OrderCommand {
    /// Sign an order naming exactly one account; the compact order goes to standard output.
    New(OrderNew),
    /// Check an order against a signed trust list, as the verifier and the register do.
    Verify(OrderVerify),
    /// Send an order to the verifier; check that its answer is what it logged, and keep it
    /// in the case directory.
    Submit(OrderSubmit),
}

#[derive(Debug, Args)]
struct OrderNew {
    /// The judge's key file.
    #[arg(long)]
    judge_key: PathBuf,
    /// The case number.
    #[arg(long)]
    case: String,
    /// The legal ground.
    #[arg(long)]
    ground: String,
    /// The platform's id.
    #[arg(long)]
    platform: String,
    /// The account's pseudonym on that platform.
    #[arg(long)]
    pseudonym: String,
    /// When the order must be answered by: Unix seconds, or from now as +24h, +90m, +2d.
    #[arg(long)]
    deadline: String,
    /// Until when the person may not be told: Unix seconds, or from now as +30d.
    #[arg(long)]
    embargo_until: Option<String>,
    /// Read the passphrase from this file (instead of the terminal).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
    /// Also write the order to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Sign as of this Unix time instead of now.
    #[arg(long, hide = true)]
    now: Option<i64>,
}

#[derive(Debug, Args)]
struct OrderVerify {
    /// The order (a file, or - for standard input).
    #[arg(long)]
    order: String,
    /// The signed trust list (compact JWS).
    #[arg(long)]
    trust_list: PathBuf,
    /// The trust-list authority's public key (a JWK file).
    #[arg(long)]
    authority_key: PathBuf,
    /// Verify as of this Unix time instead of now.
    #[arg(long)]
    at: Option<i64>,
}

#[derive(Debug, Args)]
struct Open {
    /// The ceremony record (public: escrow key, commitments, holders).
    #[arg(long)]
    ceremony: PathBuf,
    /// A judge's share file; at least the threshold of them.
    #[arg(long = "share", required = true)]
    shares: Vec<PathBuf>,
    /// Read each share's passphrase from a file, one per --share, in order (instead of the
    /// terminal).
    #[arg(long = "passphrase-file")]
    passphrase_files: Vec<PathBuf>,
    /// The order the records answer (with --answer).
    #[arg(long, requires = "answer")]
    order: Option<PathBuf>,
    /// The verifier's answer to it (`verifier-answer.json` of the case): its records are
    /// opened only if it shows them logged for this order in the verifier's signed log.
    #[arg(long, requires_all = ["order", "trust_list", "authority_key"], conflicts_with = "record")]
    answer: Option<PathBuf>,
    /// The signed trust list (with --answer).
    #[arg(long)]
    trust_list: Option<PathBuf>,
    /// The trust-list authority's public key (with --answer).
    #[arg(long)]
    authority_key: Option<PathBuf>,
    /// Check the trust list as of this Unix time instead of now.
    #[arg(long, hide = true)]
    now: Option<i64>,
    /// Sealed records, one per line (a file, or - for standard input), with no proof that
    /// the verifier logged an order for them: refused unless --unlogged is given too.
    #[arg(long, requires_all = ["platform", "pseudonym"])]
    record: Option<String>,
    /// Open --record records without a logged order (tests, or records the court already
    /// holds from a verified case).
    #[arg(long, requires = "record")]
    unlogged: bool,
    /// The platform the records are sealed for (with --record).
    #[arg(long)]
    platform: Option<String>,
    /// The pseudonym they are sealed for (with --record).
    #[arg(long)]
    pseudonym: Option<String>,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("court: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::EscrowKeygen(args) => escrow_keygen(args),
        Command::JudgeKeygen(args) => judge_keygen_command(args),
        Command::Order(OrderCommand::New(args)) => order_new(args),
        Command::Order(OrderCommand::Verify(args)) => order_verify(args),
        Command::Open(args) => open(args),
        Command::Order(OrderCommand::Submit(args)) => order_submit(args),
        Command::Resolve(args) => resolve(args),
        Command::Audit(args) => audit(args),
    }
}

/// Where passphrases come from: files given in order, or the terminal.
struct Passphrases {
    files: VecDeque<PathBuf>,
}

impl Passphrases {
    fn new(files: Vec<PathBuf>, needed: usize) -> Result<Passphrases> {
        if !files.is_empty() && files.len() != needed {
            bail!(
                "{} passphrase files for {needed} passphrases: give one each, or none to be asked",
                files.len()
            );
        }
        Ok(Passphrases {
            files: files.into(),
        })
    }

    /// The next passphrase, for `who`. A new one (`confirm`) is asked twice and must be
    /// long enough.
    fn next(&mut self, who: &str, confirm: bool) -> Result<Zeroizing<String>> {
        let passphrase = match self.files.pop_front() {
            Some(path) => {
                let mut text = Zeroizing::new(read_text(&path)?);
                let trimmed = text.trim_end_matches(['\n', '\r']).len();
                text.truncate(trimmed);
                text
            }
            None => {
                let first = Zeroizing::new(
                    rpassword::prompt_password(format!("Passphrase for {who}: "))
                        .context("reading the passphrase from the terminal")?,
                );
                if confirm {
                    let again = Zeroizing::new(
                        rpassword::prompt_password(format!("Passphrase for {who} (again): "))
                            .context("reading the passphrase from the terminal")?,
                    );
                    if *again != *first {
                        bail!("the two passphrases for {who} differ");
                    }
                }
                first
            }
        };
        if passphrase.is_empty() {
            bail!("empty passphrase for {who}");
        }
        if confirm && passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            bail!("the passphrase for {who} is shorter than {MIN_PASSPHRASE_CHARS} characters");
        }
        Ok(passphrase)
    }
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

fn escrow_keygen(args: EscrowKeygen) -> Result<()> {
    let names = match (args.judges, args.judge_names.is_empty()) {
        (Some(n), true) => (1..=n).map(|i| format!("judge-{i}")).collect(),
        (Some(n), false) if n as usize != args.judge_names.len() => {
            bail!("--judges {n} but {} --judge names", args.judge_names.len())
        }
        (None, true) => bail!("name the judges with --judge, or give their number with --judges"),
        _ => args.judge_names.clone(),
    };
    let kdf = args.kdf.params()?;
    let mut passphrases = Passphrases::new(args.passphrase_files, names.len())?;
    let mut judges = Vec::with_capacity(names.len());
    for name in names {
        let passphrase = passphrases.next(&name, true)?;
        judges.push((name, passphrase));
    }
    let now = SystemClock.now();
    let started = Instant::now();
    let ceremony = escrow::keygen(args.kid, &judges, args.threshold, kdf, now)?;
    drop(judges);
    let elapsed = started.elapsed();
    create_dir(&args.out)?;
    let key = ceremony.record.escrow_key();
    write_public(
        &args.out.join("escrow-key.jwk"),
        format!("{}\n", key.to_jwk()).as_bytes(),
    )?;
    write_public(
        &args.out.join("escrow-key.trust.toml"),
        trust::escrow_entity(&args.court_id, &args.court_name, key)?.as_bytes(),
    )?;
    write_public(
        &args.out.join("ceremony.json"),
        format!("{}\n", ceremony.record.to_json()?).as_bytes(),
    )?;
    println!(
        "escrow key {} split {} of {} ({:.2} s):",
        key.kid().unwrap_or("(no kid)"),
        ceremony.record.threshold(),
        ceremony.shares.len(),
        elapsed.as_secs_f64()
    );
    for share in &ceremony.shares {
        let path = args.out.join(format!("share-{}.json", share.x()));
        write_private(&path, format!("{}\n", share.to_json()?).as_bytes())?;
        println!(
            "  x = {}  {}  {}",
            share.x(),
            share.holder(),
            path.display()
        );
    }
    println!(
        "public key:      {}",
        args.out.join("escrow-key.jwk").display()
    );
    println!(
        "trust list:      {}",
        args.out.join("escrow-key.trust.toml").display()
    );
    println!(
        "ceremony record: {}",
        args.out.join("ceremony.json").display()
    );
    Ok(())
}

fn judge_keygen_command(args: JudgeKeygen) -> Result<()> {
    let kdf = args.kdf.params()?;
    let mut passphrases = Passphrases::new(args.passphrase_file.into_iter().collect(), 1)?;
    let passphrase = passphrases.next(&args.name, true)?;
    let file = judge_keygen(&args.id, &args.name, args.kid, passphrase.as_bytes(), kdf)?;
    let jwk = file.public_jwk()?;
    create_dir(&args.out)?;
    write_private(
        &args.out.join("judge-key.json"),
        format!("{}\n", file.to_json()?).as_bytes(),
    )?;
    write_public(
        &args.out.join("judge.jwk"),
        format!("{}\n", jwk.to_value()).as_bytes(),
    )?;
    write_public(
        &args.out.join("judge.trust.toml"),
        trust::judge_entity(&args.id, &args.name, &jwk)?.as_bytes(),
    )?;
    println!("judge {} key {}", args.id, file.kid());
    println!(
        "key file (private): {}",
        args.out.join("judge-key.json").display()
    );
    println!(
        "public key:         {}",
        args.out.join("judge.jwk").display()
    );
    println!(
        "trust list:         {}",
        args.out.join("judge.trust.toml").display()
    );
    Ok(())
}

/// Unix seconds, or `+<n><s|m|h|d>` from `now`.
fn parse_time(text: &str, now: i64) -> Result<i64> {
    if let Some(relative) = text.strip_prefix('+') {
        let split = relative.len().saturating_sub(1);
        let (number, unit) = relative.split_at(split);
        let number: i64 = number
            .parse()
            .map_err(|_| anyhow!("{text}: expected +<number><s|m|h|d>"))?;
        let unit = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => bail!("{text}: the unit is s, m, h or d"),
        };
        number
            .checked_mul(unit)
            .and_then(|d| now.checked_add(d))
            .ok_or_else(|| anyhow!("{text}: out of range"))
    } else {
        text.parse()
            .map_err(|_| anyhow!("{text}: expected Unix seconds or +<number><s|m|h|d>"))
    }
}

fn order_new(args: OrderNew) -> Result<()> {
    let now = args.now.unwrap_or_else(|| SystemClock.now());
    let file = JudgeKeyFile::from_json(&read_text(&args.judge_key)?)?;
    let request = OrderRequest {
        case: args.case,
        ground: args.ground,
        platform: args.platform,
        pseudonym: args.pseudonym,
        deadline: parse_time(&args.deadline, now)?,
        embargo_until: args
            .embargo_until
            .as_deref()
            .map(|t| parse_time(t, now))
            .transpose()?,
    };
    let mut passphrases = Passphrases::new(args.passphrase_file.into_iter().collect(), 1)?;
    let key = file.unlock(passphrases.next(file.name(), false)?.as_bytes())?;
    let order = key.sign_order(&request, now)?;
    if let Some(out) = &args.out {
        write_public(out, format!("{order}\n").as_bytes())?;
    }
    println!("{order}");
    Ok(())
}

fn read_input(source: &str) -> Result<String> {
    if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        Ok(text)
    } else {
        Ok(read_text(Path::new(source))?)
    }
}

fn load_trust_list(trust_list: &Path, authority_key: &Path, now: i64) -> Result<TrustList> {
    let authority: serde_json::Value = serde_json::from_str(&read_text(authority_key)?)
        .context("the authority key is not JSON")?;
    let authority: PublicKey = Jwk::from_value(&authority)
        .map_err(|_| anyhow!("the authority key is not a public JWK"))?
        .key()
        .clone();
    TrustList::verify(
        read_text(trust_list)?.trim(),
        &RustCrypto,
        &authority,
        now,
        None,
    )
    .map_err(|e| anyhow!("trust list refused: {e}"))
}

fn order_verify(args: OrderVerify) -> Result<()> {
    let now = args.at.unwrap_or_else(|| SystemClock.now());
    let order = read_input(&args.order)?;
    let list = load_trust_list(&args.trust_list, &args.authority_key, now)?;
    let order = verify_order(order.trim(), &list, &RustCrypto, now).map_err(court::Error::from)?;
    let digest: String = order.digest().iter().map(|b| format!("{b:02x}")).collect();
    let mut out = order.claims();
    out["kid"] = json!(order.kid());
    out["digest"] = json!(digest);
    println!("{out:#}");
    Ok(())
}

/// The records to open, one per line, and the account they are sealed for: from a verifier's
/// answer that shows them logged for the order (the normal way: no key is rebuilt for records
/// without a log entry), or, with `--unlogged`, from a file.
fn records_to_open(args: &Open) -> Result<(String, String, String)> {
    if let (Some(answer), Some(order), Some(list), Some(authority)) = (
        &args.answer,
        &args.order,
        &args.trust_list,
        &args.authority_key,
    ) {
        let body = std::fs::read(answer).with_context(|| format!("{}", answer.display()))?;
        let now = args.now.unwrap_or_else(|| SystemClock.now());
        let list = load_trust_list(list, authority, now)?;
        let compact = read_text(order)?.trim().to_owned();
        // The order was valid when the verifier received it; it may have expired since.
        let received: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|_| anyhow!("{}: not a verifier's answer", answer.display()))?;
        let at = received["received_at"]
            .as_i64()
            .ok_or_else(|| anyhow!("{}: not a verifier's answer", answer.display()))?;
        let order = verify_order(&compact, &list, &RustCrypto, at).map_err(court::Error::from)?;
        let verified = verify_verifier_answer(&order, &body, &list, None, now)
            .map_err(|e| anyhow!("not opening: {e}"))?;
        let text: Vec<&str> = verified.records.iter().map(|r| r.sealed.as_str()).collect();
        return Ok((
            text.join("\n"),
            order.platform().to_owned(),
            order.pseudonym().to_owned(),
        ));
    }
    match (&args.record, args.unlogged, &args.platform, &args.pseudonym) {
        (Some(record), true, Some(platform), Some(pseudonym)) => {
            eprintln!("warning: opening records with no proof that the verifier logged an order");
            Ok((read_input(record)?, platform.clone(), pseudonym.clone()))
        }
        (Some(_), false, _, _) => bail!(
            "not opening records with no proof they were logged: give the order and the \
             verifier's answer (--order, --answer, --trust-list, --authority-key), or --unlogged"
        ),
        _ => bail!("give --answer with --order and the trust list, or --record with --unlogged"),
    }
}

fn open(args: Open) -> Result<()> {
    let started = Instant::now();
    let record = CeremonyRecord::from_json(&read_text(&args.ceremony)?)?;
    let (text, platform, pseudonym) = records_to_open(&args)?;
    let mut sealed = Vec::new();
    for (line, text) in text.lines().enumerate() {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        sealed.push(
            SealedRecord::from_compact(text)
                .map_err(|e| anyhow!("record on line {}: {e}", line + 1))?,
        );
    }
    if sealed.is_empty() {
        bail!("no sealed record given");
    }
    let mut passphrases = Passphrases::new(args.passphrase_files, args.shares.len())?;
    let mut opening = Opening::new(&record);
    for path in &args.shares {
        let file = ShareFile::from_json(&read_text(path)?)
            .with_context(|| format!("{}", path.display()))?;
        // Refuse what the header already shows before asking the judge for anything; the
        // file's passphrase, if given, is skipped with it.
        if let Err(refusal) = opening.admit(&file) {
            eprintln!("refused: {refusal}");
            if !passphrases.files.is_empty() {
                passphrases.files.pop_front();
            }
            continue;
        }
        let passphrase = passphrases.next(file.holder(), false)?;
        match opening.add(&file, passphrase.as_bytes()) {
            Ok(()) => eprintln!("accepted: share of {} (x = {})", file.holder(), file.x()),
            Err(refusal) => eprintln!("refused: {refusal}"),
        }
    }
    let key = opening.rebuild()?;
    for (index, sealed) in sealed.iter().enumerate() {
        let opened = key.open(index + 1, sealed, &platform, &pseudonym)?;
        println!("{}", serde_json::to_string(&opened)?);
    }
    drop(key);
    eprintln!(
        "opened {} record(s) in {:.2} s",
        sealed.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A current-thread runtime for the HTTP requests of one command: the tool is otherwise
/// synchronous, and does one request at a time.
fn block_on<F: std::future::Future>(future: F) -> Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the HTTP runtime")?;
    Ok(runtime.block_on(future))
}

/// Reads and verifies the order of a case file.
fn load_order(path: &Path, list: &TrustList, now: i64) -> Result<(String, CourtOrder)> {
    let compact = read_text(path)?.trim().to_owned();
    let order = verify_order(&compact, list, &RustCrypto, now).map_err(court::Error::from)?;
    Ok((compact, order))
}

/// A Unix time as the court reads it: UTC, to the second (RFC 3339).
fn utc(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

fn show_time(t: i64, now: i64) -> String {
    format!("{} ({} from now)", utc(t), hours_minutes(t - now))
}

fn order_submit(args: OrderSubmit) -> Result<()> {
    let now = args.trust.now();
    let list = args.trust.list()?;
    let (compact, order) = load_order(&args.order, &list, now)?;
    let dir = match &args.out {
        Some(dir) => dir.clone(),
        None => args
            .order
            .parent()
            .unwrap_or(Path::new("."))
            .join(case_dir_name(order.case())),
    };
    let answer_path = dir.join("verifier-answer.json");
    let records_path = dir.join("records.txt");
    // Refuse before sending: the order is single-use, and its answer must not be lost to a
    // file that cannot be written.
    for path in [&answer_path, &records_path] {
        if path.exists() {
            bail!("{} exists: this case was submitted already", path.display());
        }
    }
    create_dir(&dir)?;
    let client = Client::new(args.ca.as_deref())?;
    let answer = block_on(client.submit_order(&args.verifier, &compact))??;
    let url = format!("{}/court/orders", args.verifier.trim_end_matches('/'));
    court::client::refused(&url, &answer)?;
    // Kept as received, verified or not: it is the evidence of what the verifier said.
    write_public(&answer_path, &answer.body)?;
    let verified = verify_verifier_answer(
        &order,
        &answer.body,
        &list,
        args.verifier_id.as_deref(),
        now,
    )?;
    let mut records = String::new();
    for record in &verified.records {
        records.push_str(&record.sealed);
        records.push('\n');
    }
    write_public(&records_path, records.as_bytes())?;
    println!(
        "{} record(s), logged at index {} of {} (tree size {})",
        verified.records.len(),
        verified.log.index,
        verified.checkpoint.origin,
        verified.checkpoint.size
    );
    println!("received at {}", utc(verified.received_at));
    println!(
        "answered at {} ({} s later)",
        utc(verified.answered_at),
        verified.answered_at - verified.received_at
    );
    println!("deadline    {}", show_time(verified.deadline, now));
    println!("answer:  {}", answer_path.display());
    println!("records: {}", records_path.display());
    Ok(())
}

fn resolve(args: Resolve) -> Result<()> {
    let now = args.trust.now();
    let list = args.trust.list()?;
    let (compact, order) = load_order(&args.order, &list, now)?;
    let verifier_body = std::fs::read(&args.verifier_answer)
        .with_context(|| format!("{}", args.verifier_answer.display()))?;
    let verifier = verify_verifier_answer(
        &order,
        &verifier_body,
        &list,
        args.verifier_id.as_deref(),
        now,
    )?;
    let dir = args.verifier_answer.parent().unwrap_or(Path::new("."));
    let answer_path = dir.join("register-answer.json");
    if answer_path.exists() {
        bail!(
            "{} exists: this handle was resolved already",
            answer_path.display()
        );
    }
    let client = Client::new(args.ca.as_deref())?;
    let answer =
        block_on(client.resolve(&args.register, &compact, &args.handle, &verifier.log_json))??;
    let url = format!("{}/register/resolve", args.register.trim_end_matches('/'));
    if answer.status == 404 {
        eprintln!("the register found no person for this handle (the resolution is logged)");
    }
    court::client::refused(&url, &answer)?;
    write_public(&answer_path, &answer.body)?;
    let register = verify_register_answer(
        &order,
        &args.handle,
        &verifier,
        &answer.body,
        &list,
        args.register_id.as_deref(),
        now,
    )?;
    println!("{:#}", register.person);
    let elapsed = register.answered_at - verifier.received_at;
    eprintln!(
        "logged at index {} of {}; {} from the verifier's reception to the register's answer \
         (limit 24 h){}",
        register.log.index,
        register.checkpoint.origin,
        hours_minutes(elapsed),
        if elapsed > 86_400 { ": OVER 24 h" } else { "" }
    );
    eprintln!(
        "deadline {}{}",
        show_time(order.deadline(), now),
        if register.answered_at > order.deadline() {
            ": answered AFTER the deadline"
        } else {
            ": answered within it"
        }
    );
    eprintln!("answer: {}", answer_path.display());
    Ok(())
}

/// One log audited: what was verified, or why not.
struct AuditedLog {
    log: VerifiedLog,
    history: History,
}

async fn audit_one(
    client: &Client,
    base: &str,
    party: Party,
    id: Option<&str>,
    list: &TrustList,
    state: &AuditState,
    now: i64,
) -> Result<AuditedLog> {
    let note = client.checkpoint(base).await?;
    let origin = checkpoint_origin(&note).to_owned();
    let failed = |source| court::Error::Audit {
        origin: origin.clone(),
        source,
    };
    let key =
        log_key(list, party, &origin, id, now).ok_or_else(|| failed(AuditError::UnknownLog))?;
    // The size is read from the verified checkpoint before the entries are fetched.
    let size = key
        .verify_checkpoint(&note, &RustCrypto)
        .map_err(|e| failed(AuditError::Checkpoint(e)))?
        .size;
    let entries = client.entries(base, size).await?;
    let log = verify_log(key, &note, entries).map_err(failed)?;
    let previous = state.logs.get(&origin);
    let proof = match consistency_needed(&log, previous) {
        Some((first, second)) => Some(client.consistency_proof(base, first, second).await?),
        None => None,
    };
    let history = check_history(&log, previous, proof.as_deref()).map_err(failed)?;
    Ok(AuditedLog { log, history })
}

fn audit(args: Audit) -> Result<()> {
    let now = args.trust.now();
    let list = args.trust.list()?;
    let mut state = match &args.state {
        Some(path) => AuditState::load(path)?,
        None => AuditState::default(),
    };
    let client = Client::new(args.ca.as_deref())?;
    let (verifier, register) = block_on(async {
        let verifier = audit_one(
            &client,
            &args.verifier,
            Party::Verifier,
            args.verifier_id.as_deref(),
            &list,
            &state,
            now,
        )
        .await;
        let register = audit_one(
            &client,
            &args.register,
            Party::Register,
            args.register_id.as_deref(),
            &list,
            &state,
            now,
        )
        .await;
        (verifier, register)
    })?;
    let mut failures = Vec::new();
    let mut logs = Vec::new();
    for (name, base, result) in [
        ("verifier", &args.verifier, &verifier),
        ("register", &args.register, &register),
    ] {
        match result {
            Ok(audited) => {
                state.remember(&audited.log);
                logs.push(json!({
                    "log": name,
                    "origin": audited.log.checkpoint.origin,
                    "size": audited.log.checkpoint.size,
                    "history": audited.history,
                }));
            }
            Err(e) => {
                failures.push(format!("{name} log ({base}): {e}"));
                logs.push(json!({"log": name, "url": base, "failure": format!("{e}")}));
            }
        }
    }
    let report = match (&verifier, &register) {
        (Ok(v), r) => Some(openings(
            &v.log.checkpoint.origin,
            &v.log.entries,
            r.as_ref()
                .map(|r| r.log.entries.as_slice())
                .unwrap_or_default(),
            now,
            args.warn_hours.saturating_mul(3600),
        )),
        (Err(_), _) => None,
    };
    if args.json {
        println!(
            "{:#}",
            json!({"logs": logs, "report": report, "integrity": failures.is_empty()})
        );
    } else {
        print_audit(&verifier, &register, report.as_ref());
    }
    // The state moves forward only past logs that verified; a failed log keeps its old
    // checkpoint, so the next audit compares against what was last seen good.
    if let Some(path) = &args.state {
        state.save(path)?;
    }
    if !failures.is_empty() {
        bail!("integrity failure:\n  {}", failures.join("\n  "));
    }
    if let Some(report) = &report
        && report.has_overdue()
    {
        eprintln!("warning: overdue orders (deadline passed, no resolution logged)");
        if args.fail_on_overdue {
            bail!("overdue orders");
        }
    }
    Ok(())
}

fn print_audit(
    verifier: &Result<AuditedLog>,
    register: &Result<AuditedLog>,
    report: Option<&court::audit::Report>,
) {
    for (name, result) in [("verifier", verifier), ("register", register)] {
        match result {
            Ok(a) => {
                let history = match a.history {
                    History::FirstSeen => "first audit of this log".to_owned(),
                    History::Unchanged => "unchanged since the last audit".to_owned(),
                    History::Grew { from } => format!("grew consistently from {from}"),
                };
                println!(
                    "{name} log {}: {} entries, checkpoint and entries verified; {history}",
                    a.log.checkpoint.origin, a.log.checkpoint.size
                );
            }
            Err(e) => println!("{name} log: FAILED: {e}"),
        }
    }
    let Some(report) = report else { return };
    for o in &report.openings {
        println!(
            "order #{} {}  received {}  deadline {}  {} record(s)  {}",
            o.index,
            short(&o.order_sha256),
            utc(o.received_at),
            utc(o.deadline),
            o.records,
            o.status_text()
        );
        for r in &o.resolutions {
            println!(
                "    resolution #{}  received {}  {}  {} after the order",
                r.index,
                utc(r.received_at),
                if r.found { "found" } else { "not found" },
                hours_minutes(r.elapsed)
            );
        }
    }
    for anomaly in &report.anomalies {
        println!("anomaly: {anomaly}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_unix_seconds_or_relative() {
        assert_eq!(parse_time("1800000000", 5).unwrap(), 1_800_000_000);
        assert_eq!(parse_time("+24h", 100).unwrap(), 100 + 86_400);
        assert_eq!(parse_time("+90m", 0).unwrap(), 5400);
        assert_eq!(parse_time("+2d", 0).unwrap(), 172_800);
        assert_eq!(parse_time("+30s", 0).unwrap(), 30);
        for bad in ["", "+", "+h", "+5y", "tomorrow", "+99999999999999999d"] {
            assert!(parse_time(bad, 0).is_err(), "{bad}");
        }
    }
}
