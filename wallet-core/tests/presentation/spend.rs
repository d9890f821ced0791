//! `training_spend` transaction data: a spend the wallet can show is shown and signed; one it
//! cannot show, or that the requester may not ask for, is refused at request time with
//! `invalid_transaction_data`, before the person is asked anything.

use super::*;

use credential_formats::credits::TrainingSpend;
use credential_formats::oid4vp::Endpoint;
use serde_json::Map;
use wallet_core::SpendSummary;

const ACCOUNT: &str = "urn:be:identity:training-account:1";

impl Stack {
    /// Adds a training account to the wallet (the demo citizen's, reference `A-test`).
    async fn add_training_account(&self) {
        let enrolment: issuer::register::Enrolment = serde_json::from_value(json!({
            "family_name": "Peeters", "given_name": "An", "birthdate": "1990-05-01",
            "nationalities": ["BE"], "personal_administrative_number": "90050112345",
            "address": {"street_address": "Veldstraat 1", "locality": "Gent", "country": "BE"}
        }))
        .unwrap();
        let person = self.issuer.issuer.enrol(enrolment).await.unwrap();
        let offer = self
            .issuer
            .issuer
            .create_offer(issuer::OfferRequest {
                person_id: Some(person.person_id),
                credential_configuration_ids: vec!["training_account_sd_jwt".into()],
                payload: issuer::issuance::OfferPayload {
                    training_account: Some(issuer::issuance::TrainingAccount {
                        account_reference: "A-test".into(),
                    }),
                    qualification: None,
                },
                by_value: false,
            })
            .await
            .unwrap();
        self.wallet
            .receive_offer(&offer.offer_uri)
            .await
            .unwrap()
            .accept(Some(&offer.tx_code))
            .await
            .unwrap();
    }

    fn unused_accounts(&self) -> usize {
        let batch = self
            .wallet
            .credentials()
            .unwrap()
            .into_iter()
            .find(|c| c.vct == ACCOUNT)
            .unwrap()
            .batch_id;
        self.wallet.unused_copies(&batch).unwrap()
    }
}

/// A query for the training account (and, as `person`, the age over 18).
fn account_query() -> Value {
    json!({"credentials": [
        {"id": "account", "format": "dc+sd-jwt", "meta": {"vct_values": [ACCOUNT]},
         "claims": [{"path": ["account_reference"]}]},
        {"id": "person", "format": "dc+sd-jwt", "meta": {"vct_values": [PERSON]},
         "claims": [{"path": ["age_over_18"]}]}
    ]})
}

fn spend() -> TrainingSpend {
    TrainingSpend {
        transaction_id: "spend-0001-abcdefgh".into(),
        provider: "https://shop.localhost".into(),
        course: TRAINING_COURSE.into(),
        course_title: Some("Welding, level 1".into()),
        amount: 120,
    }
}

#[tokio::test]
async fn a_spend_the_provider_may_ask_for_is_shown_signed_and_logged() {
    let stack = Stack::start().await;
    stack.add_training_account().await;
    let verifier = &stack.verifier;
    let entry = spend().to_transaction_data("account").unwrap();
    let session = verifier.request_with(
        account_query(),
        &verifier.listed,
        ResponseMode::DirectPostJwt,
        Some(vec![entry.clone()]),
    );
    let pending = stack.wallet.receive_request(&session.uri).await.unwrap();
    let summary = pending.summary().clone();
    assert!(summary.satisfiable);
    assert_eq!(summary.transaction_data, ["training_spend"]);
    assert_eq!(
        summary.spends,
        [SpendSummary {
            provider_name: "Shop (test)".into(),
            provider_id: "https://shop.localhost".into(),
            course: TRAINING_COURSE.into(),
            course_title: Some("Welding, level 1".into()),
            amount: 120,
            transaction_id: "spend-0001-abcdefgh".into(),
        }]
    );
    pending.accept().await.unwrap();

    // verify() checks each KB-JWT's hashes with check_transaction_data_hashes.
    let presented = verifier.verify(&session);
    let (_, account) = presented.iter().find(|(id, _)| id == "account").unwrap();
    let binding = account.verified.key_binding().unwrap();
    assert_eq!(binding["transaction_data_hashes"], json!([entry.hash()]));
    assert_eq!(binding["transaction_data_hashes_alg"], "sha-256");
    assert_eq!(account.claims["account_reference"], "A-test");
    // The spend names only the account query: the person attestation signs no hash.
    let (_, person) = presented.iter().find(|(id, _)| id == "person").unwrap();
    assert!(
        person
            .verified
            .key_binding()
            .unwrap()
            .get("transaction_data_hashes")
            .is_none()
    );

    let log = stack.wallet.log().unwrap();
    let logged = &log.last().unwrap().1;
    assert_eq!(logged["outcome"], "presented");
    assert_eq!(
        logged["spends"],
        json!([{"provider": "https://shop.localhost", "provider_name": "Shop (test)",
                "course": TRAINING_COURSE, "amount": 120,
                "transaction_id": "spend-0001-abcdefgh"}])
    );
}

/// Asks for `account_query()` with `transaction_data`, and checks the wallet refused it at
/// once with `invalid_transaction_data` — to the verifier too, with `description_part` in
/// the description — and spent no copy.
async fn assert_refused(
    stack: &Stack,
    query: Value,
    entries: Vec<TransactionData>,
    description_part: &str,
) {
    let verifier = &stack.verifier;
    let before = stack.unused_accounts();
    let session = verifier.request_with(
        query,
        &verifier.listed,
        ResponseMode::DirectPostJwt,
        Some(entries),
    );
    let err = stack
        .wallet
        .receive_request(&session.uri)
        .await
        .unwrap_err();
    let Error::Invalid(e) = &err else {
        panic!("{description_part}: {err:?}")
    };
    assert_eq!(
        e.error_code(Endpoint::Authorization),
        "invalid_transaction_data",
        "{description_part}: {e}"
    );
    let DirectPostBody::Error(sent) = verifier.received(&session) else {
        panic!("{description_part}: not an error response")
    };
    assert_eq!(
        sent.error(),
        &AuthorizationErrorCode::InvalidTransactionData
    );
    assert_eq!(sent.state(), session.request.state.as_deref());
    let description = sent.error_description().unwrap();
    assert!(
        description.contains(description_part),
        "{description} lacks {description_part}"
    );
    assert_eq!(stack.unused_accounts(), before, "{description_part}");
    let log = stack.wallet.log().unwrap();
    assert_eq!(
        log.last().unwrap().1["outcome"],
        "refused_invalid_transaction_data"
    );
}

fn raw(data_type: &str, credential_ids: &[&str], members: Value) -> TransactionData {
    let Value::Object(members) = members else {
        unreachable!()
    };
    TransactionData::new(
        data_type,
        credential_ids.iter().map(|s| (*s).to_owned()).collect(),
        members,
    )
    .unwrap()
}

fn spend_members() -> Map<String, Value> {
    let entry = spend().to_transaction_data("account").unwrap();
    entry.members().clone()
}

#[tokio::test]
async fn spends_the_wallet_cannot_show_or_the_requester_may_not_ask_for_are_refused() {
    let stack = Stack::start().await;
    stack.add_training_account().await;

    // Control: the same request with the well-formed spend is accepted for showing.
    let verifier = &stack.verifier;
    let control = verifier.request_with(
        account_query(),
        &verifier.listed,
        ResponseMode::DirectPostJwt,
        Some(vec![spend().to_transaction_data("account").unwrap()]),
    );
    stack.wallet.receive_request(&control.uri).await.unwrap();

    // A type the wallet does not know, alone or next to a good spend.
    let payment = raw("payment", &["account"], json!({"amount": 5}));
    assert_refused(&stack, account_query(), vec![payment.clone()], "unknown").await;
    assert_refused(
        &stack,
        account_query(),
        vec![spend().to_transaction_data("account").unwrap(), payment],
        "unknown",
    )
    .await;

    // The provider named is not the verifier asking.
    let other = TrainingSpend {
        provider: "https://academy.example".into(),
        ..spend()
    };
    assert_refused(
        &stack,
        account_query(),
        vec![other.to_transaction_data("account").unwrap()],
        "provider is not the requesting verifier",
    )
    .await;

    // A course the provider is not accredited for.
    let course = TrainingSpend {
        course: "COOK-201".into(),
        ..spend()
    };
    assert_refused(
        &stack,
        account_query(),
        vec![course.to_transaction_data("account").unwrap()],
        "not accredited for the training_spend course",
    )
    .await;

    // Bound to a query that does not ask for the training account.
    assert_refused(
        &stack,
        account_query(),
        vec![spend().to_transaction_data("person").unwrap()],
        "training account query",
    )
    .await;
    // ... or to a query that also accepts another type.
    let mixed = json!({"credentials": [
        {"id": "account", "format": "dc+sd-jwt", "meta": {"vct_values": [ACCOUNT, PERSON]}}
    ]});
    assert_refused(
        &stack,
        mixed,
        vec![spend().to_transaction_data("account").unwrap()],
        "training account query",
    )
    .await;

    // Malformed amounts (0 and a fraction), and an extra member.
    for amount in [json!(0), json!(1.5), json!("120")] {
        let mut members = spend_members();
        members.insert("amount".into(), amount);
        assert_refused(
            &stack,
            account_query(),
            vec![raw("training_spend", &["account"], Value::Object(members))],
            "transaction_data.amount",
        )
        .await;
    }
    let mut members = spend_members();
    members.insert("currency".into(), json!("EUR"));
    assert_refused(
        &stack,
        account_query(),
        vec![raw("training_spend", &["account"], Value::Object(members))],
        "unknown member",
    )
    .await;
}
