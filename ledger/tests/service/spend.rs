//! `POST /credits/spend` over TLS: a provider submits the wallet's presentation of the
//! training-account credential with the `training_spend` the person signed. The credential,
//! the holder's key binding and the provider's submission are made here with the formats
//! library, as the issuer, the wallet and the provider make them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential_formats::claims_path::{ClaimsPath, PathElement};
use credential_formats::credentials::CredentialType;
use credential_formats::credits::TrainingSpend;
use credential_formats::crypto::{CryptoProvider as _, RustCrypto, SecretKey, SignatureAlgorithm};
use credential_formats::jose::{Jwk, JwsHeader, sign_compact};
use credential_formats::oid4vp::SHA_256;
use credential_formats::sd_jwt::{KeyBinding, SdJwt};
use credential_formats::sd_jwt_vc::SdJwtVcBuilder;
use credential_formats::trust_list::{Role, TrustList, TrustListBuilder, TrustedEntity};
use ledger::spend::{SUBMISSION_TYP, transaction_data_hash};
use serde_json::{Value, json};

use crate::Service;

const ISSUER: &str = "https://issuer.localhost";
const ACADEMY: &str = "https://academy.localhost";
const KITCHEN: &str = "https://kitchen.localhost";
const COURSE: &str = "WELD-101";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Party {
    id: &'static str,
    secret: SecretKey,
    kid: String,
    x509_hash: String,
}

impl Party {
    fn new(id: &'static str, tag: u8) -> Party {
        let secret = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        Party {
            id,
            kid: format!("key-{tag}"),
            secret,
            x509_hash: URL_SAFE_NO_PAD.encode([tag; 32]),
        }
    }

    fn jwk(&self) -> Jwk {
        Jwk::new(self.secret.public_key()).with_kid(self.kid.clone())
    }

    fn client_id(&self) -> String {
        format!("x509_hash:{}", self.x509_hash)
    }
}

struct World {
    issuer: Party,
    academy: Party,
    kitchen: Party,
    holder: SecretKey,
}

impl World {
    fn new() -> World {
        World {
            issuer: Party::new(ISSUER, 1),
            academy: Party::new(ACADEMY, 2),
            kitchen: Party::new(KITCHEN, 3),
            holder: SecretKey::generate(SignatureAlgorithm::Es256).unwrap(),
        }
    }

    /// The trust list: the State issuer of training accounts, and the providers given (each
    /// also a registered verifier, whose request certificate is its client id).
    fn trust_list(&self, providers: &[(&Party, &[&str])]) -> TrustList {
        let t = now();
        let mut builder = TrustListBuilder::new("https://trust.localhost", t - 60, t + 86_400, 1)
            .entity(
                TrustedEntity::new(ISSUER, "State issuer", t - 60, t + 86_400)
                    .with_key(self.issuer.jwk())
                    .with_issuer_role(
                        Role::PersonAttestationIssuer,
                        [CredentialType::TrainingAccount.vct()],
                    ),
            );
        for (party, courses) in providers {
            builder = builder.entity(
                TrustedEntity::new(party.id, party.id, t - 60, t + 86_400)
                    .with_key(party.jwk())
                    .with_training_provider_role(courses.iter().copied())
                    .with_verifier_role(party.x509_hash.clone()),
            );
        }
        builder.build().unwrap()
    }

    fn credential(&self, account: &str) -> SdJwt {
        let t = now();
        SdJwtVcBuilder::new(ISSUER, CredentialType::TrainingAccount.vct())
            .issued_at(t - 10)
            .expires_at(t + 86_400)
            .kid(self.issuer.kid.clone())
            .holder_key(Jwk::new(self.holder.public_key()))
            .claim("account_reference", json!(account))
            .unwrap()
            .disclosable(
                ClaimsPath::new(vec![PathElement::Key("account_reference".into())]).unwrap(),
            )
            .unwrap()
            .issue(&*RustCrypto.signer(&self.issuer.secret).unwrap())
            .unwrap()
    }

    /// The wallet's answer: the account reference disclosed, bound to `client_id` and
    /// `nonce`, signing the hashes of `signed`.
    fn presentation(&self, account: &str, client_id: &str, nonce: &str, signed: &[&str]) -> String {
        let binding = KeyBinding::new(client_id, nonce, now())
            .with_claim(
                "transaction_data_hashes",
                Value::Array(
                    signed
                        .iter()
                        .map(|t| json!(transaction_data_hash(t)))
                        .collect(),
                ),
            )
            .with_claim("transaction_data_hashes_alg", json!(SHA_256));
        self.credential(account)
            .present(&[
                ClaimsPath::new(vec![PathElement::Key("account_reference".into())]).unwrap(),
            ])
            .unwrap()
            .bind(&binding, &*RustCrypto.signer(&self.holder).unwrap())
            .unwrap()
            .serialize()
    }
}

fn authorisation(provider: &str, course: &str, amount: u64, transaction_id: &str) -> String {
    TrainingSpend {
        transaction_id: transaction_id.into(),
        provider: provider.into(),
        course: course.into(),
        course_title: Some("Welding, level 1".into()),
        amount,
    }
    .to_transaction_data("training_account")
    .unwrap()
    .encoded()
    .to_owned()
}

/// The provider's signed submission.
fn submission(
    by: &Party,
    client_id: &str,
    nonce: &str,
    transaction_data: &str,
    vp: &str,
) -> String {
    let claims = json!({
        "iss": by.id, "iat": now(), "client_id": client_id, "nonce": nonce,
        "transaction_data": transaction_data, "vp_token": vp,
    });
    sign_compact(
        &JwsHeader::new(SUBMISSION_TYP).with_kid(by.kid.clone()),
        claims.to_string().as_bytes(),
        &*RustCrypto.signer(&by.secret).unwrap(),
    )
    .unwrap()
}

impl Service {
    async fn submit(&self, jwt: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/credits/spend", self.base))
            .header("content-type", "application/jwt")
            .body(jwt.to_owned())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn funded_account(&self, credits: u64) -> String {
        let (_, opened) = self.call("POST", "/admin/accounts", None).await;
        let account = opened["account"].as_str().unwrap().to_owned();
        let (status, _) = self
            .call(
                "POST",
                &format!("/admin/accounts/{account}/grants"),
                Some(json!({"grant_id": format!("g-{account}"), "amount": credits})),
            )
            .await;
        assert_eq!(status, 201);
        account
    }

    async fn balance(&self, account: &str) -> u64 {
        let (_, shown) = self
            .call("GET", &format!("/admin/accounts/{account}"), None)
            .await;
        shown["balance"].as_u64().unwrap()
    }
}

fn spend_by(world: &World, by: &Party, account: &str, transaction_data: &str) -> String {
    let nonce = format!("nonce-{}", transaction_data.len());
    let vp = world.presentation(account, &by.client_id(), &nonce, &[transaction_data]);
    submission(by, &by.client_id(), &nonce, transaction_data, &vp)
}

#[tokio::test]
async fn a_consented_spend_is_debited_once_with_a_receipt() {
    let service = Service::start().await;
    let world = World::new();
    service
        .state
        .replace_trust_list(world.trust_list(&[(&world.academy, &[COURSE])]));
    let account = service.funded_account(100).await;

    let tx = authorisation(ACADEMY, COURSE, 60, "enrol-0001-aaaaaaaa");
    let jwt = spend_by(&world, &world.academy, &account, &tx);
    let (status, paid) = service.submit(&jwt).await;
    assert_eq!(status, 201, "{paid}");
    assert_eq!(service.balance(&account).await, 40);
    // The receipt verifies with the published key and says what was debited, nothing more.
    let jwks: Value = service
        .http
        .get(format!("{}/.well-known/jwks.json", service.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = Jwk::from_value(&jwks["keys"][0]).unwrap();
    let receipt = ledger::Receipt(paid["receipt"].as_str().unwrap().to_owned());
    let claims = ledger::verify_receipt(&receipt, &RustCrypto, key.key()).unwrap();
    assert_eq!(
        (
            claims.jti.as_str(),
            claims.provider.as_str(),
            claims.course.as_str(),
            claims.amount.get()
        ),
        ("enrol-0001-aaaaaaaa", ACADEMY, COURSE, 60)
    );
    assert!(!receipt.0.contains(&account) && !paid.to_string().contains(&account));

    // The provider retries (a lost answer): the same receipt, no second debit.
    let (status, again) = service.submit(&jwt).await;
    assert_eq!((status, &again["replayed"]), (200, &json!(true)), "{again}");
    assert_eq!(again["receipt"], paid["receipt"]);
    assert_eq!(service.balance(&account).await, 40);
    // The same id for another amount: a conflict, nothing debited.
    let other = authorisation(ACADEMY, COURSE, 10, "enrol-0001-aaaaaaaa");
    let (status, error) = service
        .submit(&spend_by(&world, &world.academy, &account, &other))
        .await;
    assert_eq!((status, &error["error"]), (409, &json!("conflict")));
    // More than is left: refused, nothing debited.
    let big = authorisation(ACADEMY, COURSE, 41, "enrol-0002-aaaaaaaa");
    let (status, error) = service
        .submit(&spend_by(&world, &world.academy, &account, &big))
        .await;
    assert_eq!(
        (status, &error["error"]),
        (409, &json!("insufficient_credits"))
    );
    assert_eq!(service.balance(&account).await, 40);
}

#[tokio::test]
async fn an_authorisation_spends_only_at_its_provider_for_its_course() {
    let service = Service::start().await;
    let world = World::new();
    service.state.replace_trust_list(world.trust_list(&[
        (&world.academy, &[COURSE]),
        (&world.kitchen, &[COURSE, "COOK-1"]),
    ]));
    let account = service.funded_account(100).await;
    let tx = authorisation(ACADEMY, COURSE, 30, "enrol-0003-aaaaaaaa");

    // Another provider submits the academy's authorisation (it saw the wallet's answer).
    let vp = world.presentation(&account, &world.academy.client_id(), "n-1", &[&tx]);
    let (status, error) = service
        .submit(&submission(
            &world.kitchen,
            &world.kitchen.client_id(),
            "n-1",
            &tx,
            &vp,
        ))
        .await;
    assert_eq!(
        (status, &error["error"]),
        (400, &json!("invalid_transaction_data")),
        "{error}"
    );
    // …or claims to be the academy with its own key.
    let mut forged = Party::new(ACADEMY, 2);
    forged.kid = world.academy.kid.clone();
    let (status, error) = service
        .submit(&submission(
            &forged,
            &world.academy.client_id(),
            "n-1",
            &tx,
            &vp,
        ))
        .await;
    assert_eq!(
        (status, &error["error"]),
        (403, &json!("untrusted_provider")),
        "{error}"
    );
    // A course the academy is not accredited for.
    let cooking = authorisation(ACADEMY, "COOK-1", 30, "enrol-0004-aaaaaaaa");
    let (status, error) = service
        .submit(&spend_by(&world, &world.academy, &account, &cooking))
        .await;
    assert_eq!(
        (status, &error["error"]),
        (403, &json!("not_accredited")),
        "{error}"
    );
    // The wallet signed another spend than the one submitted.
    let signed = authorisation(ACADEMY, COURSE, 5, "enrol-0005-aaaaaaaa");
    let vp = world.presentation(&account, &world.academy.client_id(), "n-2", &[&signed]);
    let (status, error) = service
        .submit(&submission(
            &world.academy,
            &world.academy.client_id(),
            "n-2",
            &tx,
            &vp,
        ))
        .await;
    assert_eq!(
        (status, &error["error"]),
        (400, &json!("invalid_presentation")),
        "{error}"
    );
    // Bound to another client, or to another nonce than submitted.
    let vp = world.presentation(&account, &world.kitchen.client_id(), "n-3", &[&tx]);
    let (status, error) = service
        .submit(&submission(
            &world.academy,
            &world.academy.client_id(),
            "n-3",
            &tx,
            &vp,
        ))
        .await;
    assert_eq!(
        (status, &error["error"]),
        (400, &json!("invalid_presentation")),
        "{error}"
    );
    let vp = world.presentation(&account, &world.academy.client_id(), "n-4", &[&tx]);
    let (status, error) = service
        .submit(&submission(
            &world.academy,
            &world.academy.client_id(),
            "n-5",
            &tx,
            &vp,
        ))
        .await;
    assert_eq!(
        (status, &error["error"]),
        (400, &json!("invalid_presentation")),
        "{error}"
    );
    // A client id that is not the academy's own certificate.
    let (status, error) = service
        .submit(&submission(
            &world.academy,
            &world.kitchen.client_id(),
            "n-4",
            &tx,
            &vp,
        ))
        .await;
    assert_eq!(
        (status, &error["error"]),
        (403, &json!("untrusted_provider")),
        "{error}"
    );
    assert_eq!(service.balance(&account).await, 100, "nothing was debited");

    // Removed from the trust list mid-flight: the wallet answered, the list changed.
    let jwt = spend_by(&world, &world.academy, &account, &tx);
    service
        .state
        .replace_trust_list(world.trust_list(&[(&world.kitchen, &[COURSE])]));
    let (status, error) = service.submit(&jwt).await;
    assert_eq!(
        (status, &error["error"]),
        (403, &json!("untrusted_provider")),
        "{error}"
    );
    assert_eq!(service.balance(&account).await, 100);
}

/// Threat L1 over HTTP: 64 providers' consented spends of one balance that covers one.
#[tokio::test]
async fn sixty_four_concurrent_spends_of_a_balance_for_one_debit_once() {
    let service = std::sync::Arc::new(Service::start().await);
    let world = std::sync::Arc::new(World::new());
    service
        .state
        .replace_trust_list(world.trust_list(&[(&world.academy, &[COURSE])]));
    let account = service.funded_account(100).await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let tx = authorisation(ACADEMY, COURSE, 100, &format!("burst-{i:04}-aaaaaaaaaa"));
        let jwt = spend_by(&world, &world.academy, &account, &tx);
        let service = service.clone();
        tasks.push(tokio::spawn(async move { service.submit(&jwt).await }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        let (status, answer) = task.await.unwrap();
        if status != 201 {
            assert_eq!(answer["error"], "insufficient_credits", "{answer}");
        }
        statuses.push(status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1);
    assert_eq!(service.balance(&account).await, 0);
    let report = service.state.ledger.check_invariants().await.unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
}
