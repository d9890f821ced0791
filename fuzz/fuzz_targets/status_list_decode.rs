#![no_main]
//! Token Status List: `StatusList::decode` for each width and `get` at indices around the
//! capacity; `StatusList::from_json`; `StatusListToken::verify` on arbitrary text and on
//! arbitrary claims signed with the fixed key (so the claim checks are reached).

mod common;

use credential_formats::jose::JwsHeader;
use credential_formats::status_list::{
    DecodeLimits, STATUS_LIST_JWT_TYP, StatusBits, StatusList, StatusListToken,
    StatusListValidation,
};
use libfuzzer_sys::fuzz_target;

const SUB: &str = "https://example.com/statuslists/1";
/// Small enough that the fuzzer reaches the limit quickly.
const LIMITS: DecodeLimits = DecodeLimits {
    max_compressed: 64 * 1024,
    max_decompressed: 1 << 20,
};

fn check_list(list: &StatusList) {
    let capacity = list.capacity();
    assert_eq!(
        capacity,
        list.as_bytes().len() * 8 / usize::from(list.bits().get())
    );
    let capacity = capacity as u64;
    for index in [
        0,
        1,
        capacity / 2,
        capacity.saturating_sub(1),
        capacity,
        u64::MAX,
    ] {
        let got = list.get(index);
        if index < capacity {
            assert!(got.is_ok_and(|status| status <= list.bits().max_status()));
        } else {
            assert!(got.is_err());
        }
        let _ = list.status(index);
    }
    let again = StatusList::decode(list.bits(), &list.encode_lst(), &DecodeLimits::DEFAULT);
    assert!(
        again.is_ok_and(|l| l.as_bytes() == list.as_bytes()),
        "lst round trip"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((selector, text)) = common::selector_and_text(data) else {
        return;
    };
    let validation = StatusListValidation::new(SUB, common::NOW);
    let key = common::issuer_public();
    match selector % 4 {
        0 => {
            for bits in [
                StatusBits::One,
                StatusBits::Two,
                StatusBits::Four,
                StatusBits::Eight,
            ] {
                if let Ok(list) = StatusList::decode(bits, text, &LIMITS) {
                    check_list(&list);
                }
            }
        }
        1 => {
            if let Ok(value) = credential_formats::json::parse(text.as_bytes(), 64 * 1024)
                && let Ok(list) = StatusList::from_json(&value, &LIMITS)
            {
                check_list(&list);
            }
        }
        2 => {
            let _ = StatusListToken::verify(text, common::provider(), &key, &validation);
        }
        _ => {
            // Arbitrary claims, validly signed: reaches the §5.1 / §8.3 claim checks.
            let Some(compact) =
                common::resign(&JwsHeader::new(STATUS_LIST_JWT_TYP), text.as_bytes())
            else {
                return;
            };
            if let Ok(token) =
                StatusListToken::verify(&compact, common::provider(), &key, &validation)
            {
                assert_eq!(token.sub(), SUB);
                check_list(token.status_list());
                let _ = token.refresh_after(common::NOW, Default::default());
            }
        }
    }
});
