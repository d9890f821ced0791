//! `stack`: the issuer, the verifier and the credits ledger on localhost, with development
//! keys, trust list and demo data, until Ctrl-C. A second run reuses the data of the first.

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use stack::{Ports, Stack};

#[derive(Parser)]
#[command(name = "stack", version, about = "The whole system on localhost")]
struct Cli {
    /// The development directory (keys, trust list, TLS, databases).
    #[arg(long, default_value = "dev-data")]
    dir: PathBuf,
    /// The State issuer's port.
    #[arg(long, default_value_t = Ports::default().issuer)]
    issuer_port: u16,
    /// The ledger's port.
    #[arg(long, default_value_t = Ports::default().ledger)]
    ledger_port: u16,
    /// The verifier's port.
    #[arg(long, default_value_t = Ports::default().verifier)]
    verifier_port: u16,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    service_kit::telemetry::init(false);
    let ports = Ports {
        issuer: cli.issuer_port,
        ledger: cli.ledger_port,
        verifier: cli.verifier_port,
    };
    let mut stack = Stack::start(&cli.dir, ports).await?;
    let (offer, tx_code) = stack.demo_offer().await?;
    let dir = cli.dir.display();
    let ca = stack.issuer.ca_file.display();
    println!(
        r#"
The system is running on localhost (TLS with the development CA {ca}):

  State issuer and register  {issuer}      trust list: {issuer}/trust-list
  Verifier                   {verifier}    OpenAPI: {verifier}/openapi.json
  Credits ledger             {ledger}

Demo platform "Example Social (demo)": id {platform}, API key {api_key}
Demo citizen An Peeters: training account {account} at the ledger.

Try it with the command-line wallet:

  cargo run -p wallet-cli -- --dir {dir}/wallet init --trust-list {issuer}/trust-list \
      --anchor {anchor} --ca-cert {ca}
  cargo run -p wallet-cli -- --dir {dir}/wallet receive '{offer}'
      # transaction code: {tx_code}
  curl --cacert {ca} -H 'Authorization: Bearer {api_key}' -H 'content-type: application/json' \
      -d '{{"checks":["age_over_18"]}}' {verifier}/v1/checks       # → wallet_link
  cargo run -p wallet-cli -- --dir {dir}/wallet present '<wallet_link>'
  curl --cacert {ca} -H 'Authorization: Bearer {api_key}' {verifier}/v1/checks/<id>
  cargo run -p wallet-cli -- --dir {dir}/wallet credits --ledger {ledger}
      # the training account's balance and history, read with a fresh presentation

Stop with Ctrl-C; the next run reuses {dir}.
"#,
        issuer = stack.issuer.base,
        verifier = stack.verifier.base,
        ledger = stack.ledger.base,
        platform = stack.demo.platform_id,
        api_key = stack.demo.api_key,
        account = stack.demo.account,
        anchor = stack.issuer.anchor.display(),
    );
    service_kit::http::shutdown_signal().await;
    println!("stopping");
    stack.stop();
    Ok(())
}
