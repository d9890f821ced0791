#![no_main]
//! OpenID4VP messages: `AuthorizationRequestUri::parse`, `ClientId::parse`,
//! `RequestObject::parse`, `TransactionData::decode`, `DirectPostBody::parse_form`, and
//! `verify_request_object` with a fixed leaf key (on arbitrary text, and on arbitrary claims
//! signed with that key). What parses must survive its own serialisation.

mod common;

use credential_formats::jose::JwsHeader;
use credential_formats::oid4vp::{
    AuthorizationRequestUri, ClientId, DirectPostBody, RequestObject, TransactionData,
    verify_request_object, verify_request_object_with_leaf_key,
};
use libfuzzer_sys::fuzz_target;

/// A syntactically valid `x509_hash` (base64url SHA-256) for the fixed leaf.
const LEAF_HASH: &str = "Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk";

fuzz_target!(|data: &[u8]| {
    let Some((selector, text)) = common::selector_and_text(data) else {
        return;
    };
    match selector % 7 {
        0 => {
            if let Ok(uri) = AuthorizationRequestUri::parse(text) {
                let again = AuthorizationRequestUri::parse(&uri.to_uri("openid4vp://"));
                assert!(again.is_ok_and(|u| u == uri), "request URI round trip");
            }
        }
        1 => {
            if let Ok(client_id) = ClientId::parse(text) {
                assert_eq!(client_id.as_str(), text);
                let again = ClientId::parse(client_id.as_str());
                assert!(again.is_ok_and(|c| c == client_id));
            }
        }
        2 => {
            if let Ok(request) = RequestObject::parse(text.as_bytes()) {
                let again = RequestObject::from_claims(request.to_claims());
                assert!(
                    again.is_ok_and(|r| r == request),
                    "request object round trip"
                );
            }
        }
        3 => {
            if let Ok(td) = TransactionData::decode(text) {
                assert_eq!(td.encoded(), text);
                let _ = (td.data_type(), td.credential_ids(), td.hash());
            }
        }
        4 => {
            if let Ok(body) = DirectPostBody::parse_form(text) {
                let again = DirectPostBody::parse_form(&body.to_form());
                assert!(
                    again.is_ok_and(|b| b == body),
                    "direct_post body round trip"
                );
            }
        }
        5 => {
            // The wallet's call: x5c from the header, x509_hash client id, leaf key.
            let _ = verify_request_object(common::provider(), text, None, common::NOW);
            let _ = verify_request_object_with_leaf_key(
                common::provider(),
                text,
                &common::issuer_public(),
                LEAF_HASH,
                common::NOW,
            );
        }
        _ => {
            let header = JwsHeader::new("oauth-authz-req+jwt").with_x5c(vec!["AAAA".to_owned()]);
            let Some(compact) = common::resign(&header, text.as_bytes()) else {
                return;
            };
            if let Ok(request) = verify_request_object_with_leaf_key(
                common::provider(),
                &compact,
                &common::issuer_public(),
                LEAF_HASH,
                common::NOW,
            ) {
                assert_eq!(request.client_id.value(), LEAF_HASH);
            }
        }
    }
});
