#![no_main]
//! Trust list: `TrustList::verify` on arbitrary text with the fixed authority key, and on
//! arbitrary claims signed with that key (so the structural and uniqueness rules are reached).
//! An accepted list must be internally consistent.

mod common;

use credential_formats::jose::JwsHeader;
use credential_formats::trust_list::{TRUST_LIST_JWT_TYP, TrustList};
use libfuzzer_sys::fuzz_target;

fn check(list: &TrustList) {
    assert!(list.iat() <= common::NOW + 60 && common::NOW - 60 < list.exp());
    for entity in list.entities() {
        assert!(
            list.entity(entity.id())
                .is_some_and(|e| e.id() == entity.id())
        );
        for key in entity.keys() {
            if let Some(kid) = key.kid() {
                let _ = list.resolve_key(entity.id(), kid);
            }
            let _ = list.entity_by_key(key.key());
            let _ = list.verifier_by_key(key.key(), common::NOW);
            for vct in entity.vct() {
                let _ = list.issuer_for_vct(key.key(), vct, common::NOW);
            }
            for course in entity.courses() {
                let _ = list.provider_for_course(key.key(), course, common::NOW);
            }
        }
        if let Some(hash) = entity.x509_hash() {
            let _ = list.verifier_by_x509_hash(hash, common::NOW);
        }
        let _ = entity.check_valid_at(common::NOW);
    }
    // What verified re-signs and verifies again to the same list.
    if let Ok(compact) = list.sign(common::issuer_signer()) {
        let again = TrustList::verify(
            &compact,
            common::provider(),
            &common::issuer_public(),
            common::NOW,
            None,
        );
        assert!(again.is_ok_and(|l| &l == list), "trust list round trip");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((selector, text)) = common::selector_and_text(data) else {
        return;
    };
    let key = common::issuer_public();
    let min_sequence = (selector & 2 != 0).then_some(5);
    let compact = if selector & 1 == 0 {
        text.to_owned()
    } else {
        match common::resign(&JwsHeader::new(TRUST_LIST_JWT_TYP), text.as_bytes()) {
            Some(compact) => compact,
            None => return,
        }
    };
    if let Ok(list) = TrustList::verify(
        &compact,
        common::provider(),
        &key,
        common::NOW,
        min_sequence,
    ) {
        assert!(min_sequence.is_none_or(|min| list.sequence() >= min));
        check(&list);
    }
});
