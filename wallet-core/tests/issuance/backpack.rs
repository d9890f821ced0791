//! The backpack: the qualifications the wallet holds, with what the trust list says of their
//! issuer, the most recent first.

use issuer::OfferRequest;
use issuer::issuance::{OfferPayload, Qualification};

use super::Stack;

async fn diploma(stack: &Stack, course: &str, title: &str, completed: &str) -> (String, String) {
    let offer = stack
        .issuer
        .create_offer(OfferRequest {
            person_id: None,
            credential_configuration_ids: vec!["qualification_sd_jwt".into()],
            payload: OfferPayload {
                training_account: None,
                qualification: Some(Qualification {
                    course_reference: course.into(),
                    title: title.into(),
                    eqf_level: Some(4),
                    hours: Some(120),
                    credits: None,
                    completion_date: completed.into(),
                    result: "passed".into(),
                }),
            },
            by_value: false,
        })
        .await
        .unwrap();
    (offer.offer_uri, offer.tx_code)
}

#[tokio::test]
async fn the_backpack_lists_every_qualification_most_recent_first() {
    let stack = Stack::start().await;
    let wallet = stack.wallet("wallet.db");
    assert!(wallet.backpack().await.unwrap().is_empty());
    for (course, title, date) in [
        ("WELD-101", "Welding, level 1", "2025-06-30"),
        ("SAFE-2", "Safety at work", "2026-03-15"),
    ] {
        let (uri, tx_code) = diploma(&stack, course, title, date).await;
        wallet
            .receive_offer(&uri)
            .await
            .unwrap()
            .accept(Some(&tx_code))
            .await
            .unwrap();
    }
    // A PID is not a qualification.
    let (uri, tx_code) = stack.offer(&["pid_sd_jwt"]).await;
    wallet
        .receive_offer(&uri)
        .await
        .unwrap()
        .accept(Some(&tx_code))
        .await
        .unwrap();

    let backpack = wallet.backpack().await.unwrap();
    assert_eq!(backpack.len(), 2);
    assert_eq!(
        (
            backpack[0].title.as_str(),
            backpack[0].completion_date.as_str()
        ),
        ("Safety at work", "2026-03-15")
    );
    assert_eq!(backpack[1].course_reference, "WELD-101");
    assert_eq!(backpack[1].eqf_level, Some(4));
    assert_eq!(backpack[1].hours, Some(120));
    assert_eq!(backpack[1].result, "passed");
    // Issued by the State issuer, which the trust list allows for qualifications.
    assert!(backpack.iter().all(|q| q.accredited), "{backpack:?}");
    assert_eq!(backpack[0].issuer_id, stack.base);
    assert_eq!(
        backpack[0].issuer_name.as_deref(),
        Some("State issuer (development)")
    );
}
