#![no_main]
//! Court orders: `court_order::verify_order` against a fixed trust list in which the fixed
//! key is a judge's (`kid` `judge-1`), on arbitrary text (selector bit 0 clear) and on
//! arbitrary claims signed with the judge's key (bit 0 set, so the shape and value rules
//! are reached). An accepted order must name exactly one account, hold its time rules, and
//! verify again to the same order when its claims are re-signed.

mod common;

use credential_formats::court_order::{
    CLOCK_SKEW, COURT_ORDER_JWT_TYP, CourtOrder, MAX_LIFETIME, verify_order,
};
use credential_formats::jose::{Jwk, JwsHeader};
use credential_formats::trust_list::{Role, TrustList, TrustListBuilder, TrustedEntity};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const JUDGE: &str = "https://court.example/judges/1";
const KID: &str = "judge-1";

fn list() -> &'static TrustList {
    static LIST: OnceLock<TrustList> = OnceLock::new();
    LIST.get_or_init(|| {
        match TrustListBuilder::new("https://trust.example", common::NOW - 100, common::NOW + 86_400, 1)
            .entity(
                TrustedEntity::new(JUDGE, "Judge", common::NOW - 86_400, common::NOW + 86_400)
                    .with_key(Jwk::new(common::issuer_public()).with_kid(KID))
                    .with_role(Role::CourtJudge),
            )
            .build()
        {
            Ok(list) => list,
            Err(err) => panic!("fixed trust list: {err}"),
        }
    })
}

fn check(order: &CourtOrder) {
    for value in [order.platform(), order.pseudonym()] {
        assert!(!value.is_empty());
        assert!(!value.contains(['*', '%', '?', ',', ';', '[', ']', '{', '}']));
        assert!(!value.contains(char::is_whitespace));
    }
    assert_eq!(order.pseudonym().len(), 43);
    assert_eq!(order.judge(), JUDGE);
    assert!(order.iat() < order.exp() && order.exp() <= order.deadline());
    assert!(order.exp() - order.iat() <= MAX_LIFETIME);
    assert!(order.iat() <= common::NOW + CLOCK_SKEW && common::NOW - CLOCK_SKEW < order.exp());
    assert!(order.embargo_until().is_none_or(|e| e >= order.iat()));
    // What verified re-signs and verifies again to the same claims.
    let header = JwsHeader::new(COURT_ORDER_JWT_TYP).with_kid(order.kid());
    if let Ok(payload) = serde_json::to_vec(&order.claims())
        && let Some(compact) = common::resign(&header, &payload)
    {
        let again = verify_order(&compact, list(), common::provider(), common::NOW);
        assert!(
            again.is_ok_and(|o| o.claims() == order.claims() && o.jti() == order.jti()),
            "court order round trip"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((selector, text)) = common::selector_and_text(data) else {
        return;
    };
    let compact = if selector & 1 == 0 {
        text.to_owned()
    } else {
        match common::resign(
            &JwsHeader::new(COURT_ORDER_JWT_TYP).with_kid(KID),
            text.as_bytes(),
        ) {
            Some(compact) => compact,
            None => return,
        }
    };
    match verify_order(&compact, list(), common::provider(), common::NOW) {
        Ok(order) => check(&order),
        // Every refusal has a code.
        Err(err) => assert!(!err.code().is_empty()),
    }
});
