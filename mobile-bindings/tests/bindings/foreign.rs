//! Python and Kotlin programs driving the generated bindings over this build's cdylib,
//! against the running issuer and test verifier: open a wallet, receive an offer (typing
//! the transaction code), list, present (accepting), read the log. The Rust side then
//! checks what the verifier received and reopens the wallet the program left.
//!
//! Python: the interpreter on the PATH (`python3`). Kotlin: `kotlinc` from the npm package
//! `kotlin-compiler` 2.4, installed once under `<target>/tools/kotlin`, JNA from Debian's
//! `libjna-java`, installed with apt-get when missing; both need the package registries,
//! and fail with a message saying so when they cannot be reached.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Instant;

use mobile_bindings::WalletSettings;

use crate::bindgen;
use crate::support::*;

/// The npm package providing `kotlinc`, and the major.minor the tests pin.
const KOTLIN_COMPILER: &str = "kotlin-compiler@2.4";
const JNA_JAR: &str = "/usr/share/java/jna.jar";

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bindings")
        .join(name)
}

/// Runs `command` off the async runtime (the issuer and verifier serve meanwhile).
async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the foreign program needs to know, as environment variables.
struct Scenario {
    storage_key: [u8; 32],
    db_path: PathBuf,
    tx_code: String,
    offer_uri: String,
    session: crate::verifier::Session,
}

impl Scenario {
    async fn new(stack: &Stack, name: &str) -> Scenario {
        let mut storage_key = [0u8; 32];
        credential_formats::crypto::fill_random(&mut storage_key).unwrap();
        let (offer_uri, tx_code) = stack.offer().await;
        Scenario {
            storage_key,
            db_path: stack.dir.path().join(name),
            tx_code,
            offer_uri,
            session: stack.age_check(),
        }
    }

    fn apply(&self, stack: &Stack, command: &mut Command) {
        command
            .env("WALLET_DB", &self.db_path)
            .env("WALLET_STORAGE_KEY", hex(&self.storage_key))
            .env("TRUST_LIST_URL", stack.trust_list_url())
            .env("ANCHOR_FILE", stack.anchor_file())
            .env("CA_FILE", &stack.issuer.ca_file)
            .env("OFFER_URI", &self.offer_uri)
            .env("TX_CODE", &self.tx_code)
            .env("REQUEST_URI", &self.session.uri);
    }

    /// What the program must have left: the verifier got an age check it verifies, and the
    /// wallet file, reopened from Rust with the same key, holds 9 unused copies and the log
    /// of one issuance and one presentation.
    async fn check(&self, stack: &Stack) {
        assert_age_presented(&stack.verifier, &self.session);
        let wallet = mobile_bindings::Wallet::new(
            WalletSettings {
                db_path: self.db_path.display().to_string(),
                trust_list_url: stack.trust_list_url(),
                trust_anchor_jwk: stack.anchor_jwk(),
                ca_pem: Some(stack.issuer.ca_pem.clone()),
            },
            Arc::new(FixedKey(self.storage_key.to_vec())),
            None,
            None,
        )
        .unwrap();
        let credentials = wallet.credentials().await.unwrap();
        assert_eq!(credentials.len(), 2);
        assert_eq!(credentials[1].unused_copies, 9);
        let log = wallet.log().await.unwrap();
        let outcomes: Vec<_> = log.iter().map(|e| e.outcome.as_str()).collect();
        assert_eq!(outcomes, ["received", "presented"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_program_receives_lists_presents_and_reads_the_log() {
    let started = Instant::now();
    let out = tempfile::tempdir().unwrap();
    bindgen::generate("python", out.path());
    // The Python bindings load the library from their own directory.
    std::os::unix::fs::symlink(
        bindgen::cdylib(),
        out.path().join(bindgen::cdylib().file_name().unwrap()),
    )
    .unwrap();

    let stack = Stack::start().await;
    let scenario = Scenario::new(&stack, "python.db").await;
    let mut command = Command::new("python3");
    command
        .arg(program("flow.py"))
        .env("PYTHONPATH", out.path());
    scenario.apply(&stack, &mut command);
    let output = run(command).await;
    assert!(
        output.status.success(),
        "the Python program failed:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(text(&output.stdout).contains("flow complete"));
    scenario.check(&stack).await;
    eprintln!("python flow: {:.1} s", started.elapsed().as_secs_f64());
}

/// `<target>/tools`, kept between runs.
fn tools() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("tools")
}

/// `kotlinc` and the lib directory of its distribution (the Kotlin standard library and
/// kotlinx-coroutines, which the generated bindings use).
fn kotlin() -> (PathBuf, PathBuf) {
    let home = tools().join("kotlin/node_modules/kotlin-compiler");
    let kotlinc = home.join("bin/kotlinc");
    if !kotlinc.is_file() {
        // Installed beside, then moved in whole, so a run that is interrupted (or a
        // concurrent one) never sees half a compiler.
        let staging = tools().join(format!("kotlin.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        let output = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&staging)
            .arg(KOTLIN_COMPILER)
            .output()
            .unwrap_or_else(|e| panic!("npm is needed to install {KOTLIN_COMPILER}: {e}"));
        assert!(
            output.status.success(),
            "could not install {KOTLIN_COMPILER} from the npm registry (is it reachable?):\n{}",
            text(&output.stderr)
        );
        if std::fs::rename(&staging, tools().join("kotlin")).is_err() {
            // Another run installed it first.
            let _ = std::fs::remove_dir_all(&staging);
        }
        assert!(kotlinc.is_file(), "{KOTLIN_COMPILER} has no bin/kotlinc");
    }
    (kotlinc, home.join("lib"))
}

/// Debian's JNA, installed when missing (the tests run as root on the project's machines).
fn jna() -> PathBuf {
    if !Path::new(JNA_JAR).is_file() {
        let install = || {
            Command::new("apt-get")
                .args(["install", "-y", "-q", "libjna-java"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .output()
                .unwrap_or_else(|e| panic!("apt-get is needed to install libjna-java: {e}"))
        };
        let mut output = install();
        if !output.status.success() {
            // A fresh machine may not have the package lists yet.
            let update = Command::new("apt-get")
                .args(["update", "-q"])
                .output()
                .unwrap();
            assert!(
                update.status.success(),
                "apt-get update failed (are Debian's package registries reachable?):\n{}",
                text(&update.stderr)
            );
            output = install();
        }
        assert!(
            output.status.success(),
            "could not install libjna-java with apt-get (registry reachable? running as root?):\n{}",
            text(&output.stderr)
        );
    }
    PathBuf::from(JNA_JAR)
}

fn classpath(entries: &[&Path]) -> String {
    entries
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kotlin_program_on_the_jvm_receives_lists_presents_and_reads_the_log() {
    let started = Instant::now();
    let (kotlinc, lib) = kotlin();
    let jna = jna();
    let coroutines = lib.join("kotlinx-coroutines-core-jvm.jar");
    let stdlib = lib.join("kotlin-stdlib.jar");
    let out = tempfile::tempdir().unwrap();
    let sources = out.path().join("src");
    bindgen::generate("kotlin", &sources);

    // One compilation per run: the bindings and the program together.
    let compiling = Instant::now();
    let jar = out.path().join("flow.jar");
    let output = Command::new(&kotlinc)
        .arg(sources.join("uniffi/mobile_bindings/mobile_bindings.kt"))
        .arg(program("Flow.kt"))
        .args(["-jvm-target", "17", "-nowarn", "-cp"])
        .arg(classpath(&[&jna, &coroutines]))
        .arg("-d")
        .arg(&jar)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kotlinc failed:\n{}",
        text(&output.stderr)
    );
    let compile_time = compiling.elapsed();

    let stack = Stack::start().await;
    let scenario = Scenario::new(&stack, "kotlin.db").await;
    let mut command = Command::new("java");
    command
        .arg(format!(
            "-Duniffi.component.mobile_bindings.libraryOverride={}",
            bindgen::cdylib().display()
        ))
        .arg("-cp")
        .arg(classpath(&[&jar, &jna, &coroutines, &stdlib]))
        .arg("FlowKt");
    scenario.apply(&stack, &mut command);
    let output = run(command).await;
    assert!(
        output.status.success(),
        "the Kotlin program failed:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(text(&output.stdout).contains("flow complete"));
    scenario.check(&stack).await;
    eprintln!(
        "kotlin flow: {:.1} s, of which kotlinc {:.1} s",
        started.elapsed().as_secs_f64(),
        compile_time.as_secs_f64()
    );
}
