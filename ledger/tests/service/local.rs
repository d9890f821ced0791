//! The development ledger: listed in the trust list the issuer's development setup signs,
//! started on loopback with that list in force.

use credential_formats::jose::Jwk;
use credential_formats::trust_list::Role;
use serde_json::Value;

#[tokio::test]
async fn the_development_ledger_is_in_the_trust_list_it_serves_with() {
    let dir = tempfile::tempdir().unwrap();
    ledger::local::dev_entities(dir.path()).unwrap();
    let issuer = issuer::LocalIssuer::start(dir.path()).await.unwrap();
    let ledger = ledger::local::LocalLedger::start(dir.path()).await.unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(issuer.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let jwks: Value = http
        .get(format!("{}/.well-known/jwks.json", ledger.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let published = Jwk::from_value(&jwks["keys"][0]).unwrap();
    let list = ledger.state.trust.read().unwrap().clone().unwrap();
    let entity = list.entity(ledger::local::DEV_LEDGER_ID).unwrap();
    assert!(entity.has_role(Role::CreditsLedger));
    assert_eq!(entity.keys()[0].key(), published.key());
    // The admin API answers with the token it was started with.
    let response = http
        .post(format!("{}/admin/accounts", ledger.base))
        .bearer_auth(ledger.admin_token.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}
