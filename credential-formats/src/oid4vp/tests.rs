//! Tests of the OpenID4VP messages against the specification's examples and rules.

use super::*;
use crate::crypto::{SecretKey, SignatureAlgorithm, default_provider};
use crate::jose::Jwk;
use crate::messages::MessageError;
use crate::oid4vci::tests::{unwrap_json_strings, unwrap_lines};
use crate::{Error, JoseError};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

fn message_error(err: Error) -> MessageError {
    match err {
        Error::Message(e) => e,
        other => panic!("expected a message error, got {other:?}"),
    }
}

const TRANSACTION_DATA: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-5.1-transaction-data.txt");
const VERIFIER_INFO: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-5.1-verifier-info.json");
const REQUEST_BY_VALUE: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-5.3-request-object-by-value.json");
const REQUEST_BY_REFERENCE: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-5.3-request-by-reference.txt");
const REQUEST_URI_POST_BODY: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-5.10-request-uri-post-body.txt");
const REQUEST_OBJECT_PAYLOAD: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-5.10.1-request-object-payload.json");
const VP_TOKEN: &str = include_str!("../../../spec/vectors/openid4vp-1.0-8.1-vp-token.json");
const DIRECT_POST_ERROR: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-8.2-direct-post-error.txt");
const RESPONSE_URI_RESPONSE: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-8.2-response-uri-response.json");
const ENCRYPTED_REQUEST: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-8.3-encrypted-request.json");
const ENCRYPTED_RESPONSE: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-8.3-encrypted-response.json");
const CLIENT_METADATA: &str =
    include_str!("../../../spec/vectors/openid4vp-1.0-b.3.4-client-metadata-sd-jwt-vc.json");

/// The DCQL query of the §5.3 example, used where an example elides its query as `{...}`.
fn dcql_json() -> Value {
    let example: Value = serde_json::from_str(REQUEST_BY_VALUE).unwrap();
    example["dcql_query"].clone()
}

fn dcql() -> crate::dcql::DcqlQuery {
    crate::dcql::DcqlQuery::from_json(dcql_json()).unwrap()
}

fn request_claims() -> Map<String, Value> {
    let text = REQUEST_OBJECT_PAYLOAD.replace("{...}", &dcql_json().to_string());
    let Value::Object(claims) = serde_json::from_str(&text).unwrap() else {
        panic!("object expected");
    };
    claims
}

#[test]
fn openid4vp_5_9_3_client_identifier_prefixes() {
    let cases = [
        (
            "example-client",
            ClientIdPrefix::PreRegistered,
            "example-client",
        ),
        (
            "redirect_uri:https://client.example.org/cb",
            ClientIdPrefix::RedirectUri,
            "https://client.example.org/cb",
        ),
        (
            "x509_san_dns:client.example.org",
            ClientIdPrefix::X509SanDns,
            "client.example.org",
        ),
        (
            "x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk",
            ClientIdPrefix::X509Hash,
            "Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk",
        ),
        (
            "decentralized_identifier:did:example:123",
            ClientIdPrefix::DecentralizedIdentifier,
            "did:example:123",
        ),
        (
            "verifier_attestation:verifier.example",
            ClientIdPrefix::VerifierAttestation,
            "verifier.example",
        ),
        (
            "openid_federation:https://federation-verifier.example.com",
            ClientIdPrefix::OpenidFederation,
            "https://federation-verifier.example.com",
        ),
    ];
    for (full, prefix, value) in cases {
        let id = ClientId::parse(full).unwrap();
        assert_eq!(id.prefix(), prefix, "{full}");
        assert_eq!(id.value(), value);
        assert_eq!(id.as_str(), full);
    }
    assert_eq!(
        ClientId::parse("origin:https://verifier.example.com/").unwrap_err(),
        MessageError::OriginPrefixNotAllowed
    );
    assert_eq!(
        ClientId::parse("https://client.example.org/cb").unwrap_err(),
        MessageError::UnsupportedClientIdPrefix
    );
    assert_eq!(
        ClientId::parse("x509_hash:not-a-hash").unwrap_err(),
        MessageError::InvalidParameter("client_id")
    );
    assert_eq!(
        ClientId::parse("x509_san_dns:").unwrap_err(),
        MessageError::InvalidParameter("client_id")
    );
    assert_eq!(
        ClientId::parse("").unwrap_err(),
        MessageError::InvalidParameter("client_id")
    );
}

#[test]
fn openid4vp_5_3_request_by_reference_uri() {
    let line = unwrap_lines(REQUEST_BY_REFERENCE);
    let target = line
        .strip_prefix("GET ")
        .and_then(|l| l.strip_suffix(" HTTP/1.1"))
        .unwrap();
    // The request line has no scheme; the Wallet reads the query.
    let uri = format!("openid4vp://{}", target.trim_start_matches("/authorize"));
    let request = AuthorizationRequestUri::parse(&uri).unwrap();
    assert_eq!(request.client_id.prefix(), ClientIdPrefix::X509SanDns);
    assert_eq!(
        request.request_uri,
        "https://client.example.org/request/vapof4ql2i7m41m68uep"
    );
    assert_eq!(request.request_uri_method, Some(RequestUriMethod::Post));
    let built = request.to_uri("openid4vp://");
    assert_eq!(AuthorizationRequestUri::parse(&built).unwrap(), request);
}

#[test]
fn openid4vp_5_1_request_uri_rules() {
    let err = |uri: &str| message_error(AuthorizationRequestUri::parse(uri).unwrap_err());
    assert_eq!(
        err(
            "openid4vp://?client_id=a&request_uri=https%3A%2F%2Fv.example%2Fr&request_uri_method=put"
        ),
        MessageError::InvalidRequestUriMethod
    );
    assert_eq!(
        err("openid4vp://?client_id=a"),
        MessageError::MissingParameter("request_uri")
    );
    assert_eq!(
        err("openid4vp://?request_uri=https%3A%2F%2Fv.example%2Fr"),
        MessageError::MissingParameter("client_id")
    );
    assert_eq!(
        err("openid4vp://?client_id=a&request_uri=http%3A%2F%2Fv.example%2Fr"),
        MessageError::NotHttpsUrl("request_uri")
    );
    assert_eq!(
        err("openid4vp://?client_id=a&request=eyJ&request_uri=https%3A%2F%2Fv.example%2Fr"),
        MessageError::Conflict("request", "request_uri")
    );
    assert_eq!(
        err(
            "openid4vp://?client_id=origin%3Ahttps%3A%2F%2Fv.example&request_uri=https%3A%2F%2Fv.example%2Fr"
        ),
        MessageError::OriginPrefixNotAllowed
    );
    assert_eq!(
        err("openid4vp://?client_id=a&client_id=b&request_uri=https%3A%2F%2Fv.example%2Fr"),
        MessageError::DuplicateParameter
    );
}

#[test]
fn openid4vp_5_10_request_uri_post_body_and_wallet_nonce() {
    let body = unwrap_lines(REQUEST_URI_POST_BODY);
    let mut params = crate::messages::FormParams::parse(&body).unwrap();
    let wallet_nonce = params.take("wallet_nonce").unwrap();
    assert_eq!(wallet_nonce, "qPmxiNFCR3QTm19POc8u");
    let metadata: Value = serde_json::from_str(&params.take("wallet_metadata").unwrap()).unwrap();
    assert_eq!(
        metadata["vp_formats_supported"]["dc+sd-jwt"]["kb-jwt_alg_values"],
        json!(["ES256"])
    );

    let request = RequestObject::from_claims(request_claims()).unwrap();
    assert_eq!(request.response_mode, ResponseMode::DirectPost);
    assert_eq!(request.state.as_deref(), Some("eyJhb...6-sVA"));
    request.check_wallet_nonce(Some(&wallet_nonce)).unwrap();
    request.check_wallet_nonce(None).unwrap();
    assert_eq!(
        request.check_wallet_nonce(Some("other")).unwrap_err(),
        MessageError::WalletNonceMismatch
    );
    let mut claims = request_claims();
    claims.remove("wallet_nonce");
    let request = RequestObject::from_claims(claims).unwrap();
    assert_eq!(
        request.check_wallet_nonce(Some(&wallet_nonce)).unwrap_err(),
        MessageError::WalletNonceMismatch
    );
}

#[test]
fn openid4vp_5_3_request_object_by_value_example_is_refused() {
    // The example uses the default response mode with a redirect_uri; this profile requires
    // direct_post or direct_post.jwt.
    assert_eq!(
        message_error(RequestObject::parse(REQUEST_BY_VALUE.as_bytes()).unwrap_err()),
        MessageError::MissingParameter("response_mode")
    );
}

#[test]
fn openid4vp_8_3_dc_api_request_example_is_refused() {
    // The example is a DC API request: no client_id, response_mode dc_api.jwt.
    assert_eq!(
        message_error(RequestObject::parse(ENCRYPTED_REQUEST.as_bytes()).unwrap_err()),
        MessageError::MissingParameter("client_id")
    );
    let mut value: Value = serde_json::from_str(ENCRYPTED_REQUEST).unwrap();
    value["client_id"] = "x509_san_dns:client.example.org".into();
    assert_eq!(
        message_error(RequestObject::parse(value.to_string().as_bytes()).unwrap_err()),
        MessageError::UnsupportedResponseMode
    );
    value["response_mode"] = "direct_post.jwt".into();
    value["response_uri"] = "https://client.example.org/post".into();
    // Its X25519, P-384 and X448 keys are outside the key types we accept.
    assert_eq!(
        RequestObject::parse(value.to_string().as_bytes()).unwrap_err(),
        Error::Jose(JoseError::InvalidKey("unsupported curve"))
    );
    let keys = value["client_metadata"]["jwks"]["keys"]
        .as_array_mut()
        .unwrap();
    keys.truncate(1);
    let request = RequestObject::parse(value.to_string().as_bytes()).unwrap();
    let metadata = request.client_metadata.as_ref().unwrap();
    assert_eq!(metadata.jwks.as_ref().unwrap()[0].kid(), Some("ac"));
    assert_eq!(
        metadata.encrypted_response_enc_values_supported.as_deref(),
        Some(&["A128GCM".to_owned(), "A128CBC-HS256".to_owned()][..])
    );
}

#[test]
fn openid4vp_b_3_4_client_metadata_example() {
    let mut claims = request_claims();
    claims.insert(
        "client_metadata".into(),
        serde_json::from_str(CLIENT_METADATA).unwrap(),
    );
    let request = RequestObject::from_claims(claims).unwrap();
    let sd_jwt = request
        .client_metadata
        .as_ref()
        .and_then(|m| m.vp_formats_supported_sd_jwt.as_ref())
        .unwrap();
    assert_eq!(
        sd_jwt.kb_jwt_alg_values.as_deref(),
        Some(&["ES256".to_owned(), "ES384".to_owned()][..])
    );
    assert_eq!(
        request.to_claims()["client_metadata"],
        serde_json::from_str::<Value>(CLIENT_METADATA).unwrap()
    );
}

#[test]
fn openid4vp_5_request_object_rules() {
    let err = |edit: &dyn Fn(&mut Map<String, Value>)| {
        let mut claims = request_claims();
        edit(&mut claims);
        message_error(RequestObject::from_claims(claims).unwrap_err())
    };
    assert_eq!(
        err(&|c| {
            c.insert("response_type".into(), "code".into());
        }),
        MessageError::UnsupportedResponseType
    );
    assert_eq!(
        err(&|c| {
            c.insert("response_mode".into(), "fragment".into());
        }),
        MessageError::UnsupportedResponseMode
    );
    assert_eq!(
        err(&|c| {
            c.insert(
                "redirect_uri".into(),
                "https://client.example.org/cb".into(),
            );
        }),
        MessageError::Conflict("redirect_uri", "response_uri")
    );
    assert_eq!(
        err(&|c| {
            c.remove("response_uri");
        }),
        MessageError::MissingParameter("response_uri")
    );
    assert_eq!(
        err(&|c| {
            c.remove("nonce");
        }),
        MessageError::MissingParameter("nonce")
    );
    assert_eq!(
        err(&|c| {
            c.insert("nonce".into(), "not url safe!".into());
        }),
        MessageError::InvalidCharacters("nonce")
    );
    assert_eq!(
        err(&|c| {
            c.remove("dcql_query");
            c.insert(
                "scope".into(),
                "com.example.healthCardCredential_presentation".into(),
            );
        }),
        MessageError::ScopeNotSupported
    );
    assert_eq!(
        err(&|c| {
            c.insert("scope".into(), "x".into());
        }),
        MessageError::Conflict("dcql_query", "scope")
    );
    assert_eq!(
        err(&|c| {
            c.remove("dcql_query");
        }),
        MessageError::MissingParameter("dcql_query")
    );
    assert_eq!(
        err(&|c| {
            c.insert("response_mode".into(), "direct_post.jwt".into());
        }),
        MessageError::MissingEncryptionKey
    );
    assert_eq!(
        err(&|c| {
            c.insert("client_id".into(), "origin:https://v.example".into());
        }),
        MessageError::OriginPrefixNotAllowed
    );
    assert_eq!(
        err(&|c| {
            c.insert("iat".into(), "1700000000".into());
        }),
        MessageError::InvalidParameter("iat")
    );
    assert_eq!(
        err(&|c| {
            c.insert("transaction_data".into(), json!([]));
        }),
        MessageError::EmptyArray("transaction_data")
    );
    let unknown_query = TransactionData::new("payment", vec!["other".into()], Map::new()).unwrap();
    assert_eq!(
        err(&|c| {
            c.insert("transaction_data".into(), json!([unknown_query.encoded()]));
        }),
        MessageError::UnknownCredentialQuery
    );
    assert_eq!(
        err(&|c| {
            c.insert(
                "verifier_info".into(),
                json!([{"format": "jwt", "data": "x", "credential_ids": ["nope"]}]),
            );
        }),
        MessageError::UnknownCredentialQuery
    );
    assert_eq!(
        err(&|c| {
            c.insert(
                "verifier_info".into(),
                json!([{"format": "jwt", "data": 5}]),
            );
        }),
        MessageError::InvalidParameter("verifier_info")
    );
    // Keys in client_metadata: kid and alg required, public only.
    let key = Jwk::new(
        SecretKey::generate(SignatureAlgorithm::Es256)
            .unwrap()
            .public_key(),
    );
    let no_kid = key.clone().with_alg("ECDH-ES").to_value();
    assert_eq!(
        err(&|c| {
            c.insert(
                "client_metadata".into(),
                json!({"jwks": {"keys": [no_kid]}}),
            );
        }),
        MessageError::MissingParameter("kid")
    );
    let no_alg = key.clone().with_kid("k").to_value();
    assert_eq!(
        err(&|c| {
            c.insert(
                "client_metadata".into(),
                json!({"jwks": {"keys": [no_alg]}}),
            );
        }),
        MessageError::MissingParameter("alg")
    );
}

#[test]
fn openid4vp_5_1_dcql_query_is_validated_on_decode() {
    let claims = request_claims();
    let request = RequestObject::from_claims(claims.clone()).unwrap();
    assert_eq!(request.dcql_query, dcql());
    assert_eq!(
        request.dcql_query.credentials()[0].id,
        "some_identity_credential"
    );
    // The query survives re-serialisation unchanged (the example has no unknown members).
    assert_eq!(request.to_claims()["dcql_query"], dcql_json());
    let with_query = |query: Value| {
        let mut claims = claims.clone();
        claims.insert("dcql_query".into(), query);
        RequestObject::from_claims(claims).unwrap_err()
    };
    // §6: credentials is REQUIRED and non-empty; ids are unique.
    assert_eq!(
        with_query(json!({"credentials": []})),
        Error::Dcql(crate::DcqlError::EmptyArray("credentials"))
    );
    let mut twice = dcql_json();
    let first = twice["credentials"][0].clone();
    twice["credentials"].as_array_mut().unwrap().push(first);
    assert_eq!(
        with_query(twice),
        Error::Dcql(crate::DcqlError::DuplicateCredentialQueryId(
            "some_identity_credential".into()
        ))
    );
    assert_eq!(
        message_error(with_query(json!("credentials"))),
        MessageError::InvalidParameter("dcql_query")
    );
}

#[test]
fn openid4vp_5_1_verifier_info_example() {
    let mut claims = request_claims();
    let mut info: Value = serde_json::from_str(VERIFIER_INFO).unwrap();
    // The example names a query `id_card`; point it at the query of the request.
    info["credential_ids"] = json!(["some_identity_credential"]);
    claims.insert("verifier_info".into(), json!([info]));
    let request = RequestObject::from_claims(claims).unwrap();
    assert_eq!(request.verifier_info.as_ref().unwrap()[0].format, "jwt");
    let mut claims = request_claims();
    claims.insert(
        "verifier_info".into(),
        json!([serde_json::from_str::<Value>(VERIFIER_INFO).unwrap()]),
    );
    assert_eq!(
        message_error(RequestObject::from_claims(claims).unwrap_err()),
        MessageError::UnknownCredentialQuery
    );
}

#[test]
fn openid4vp_8_4_transaction_data_example_and_hash() {
    // The example carries a comment line in place of type-specific parameters; without it
    // (and the comma before it) it is the JSON object the Wallet receives.
    let json: String = TRANSACTION_DATA
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("],\n}", "]\n}");
    let encoded = crate::b64::encode(json.as_bytes());
    let entry = TransactionData::decode(&encoded).unwrap();
    assert_eq!(entry.data_type(), "example_type");
    assert_eq!(entry.credential_ids(), ["id_card_credential"]);
    // B.3.3.1: the hash is over the base64url string as received, not the decoded JSON.
    assert_eq!(
        entry.hash(),
        crate::b64::encode(Sha256::digest(encoded.as_bytes()))
    );
    assert_ne!(
        entry.hash(),
        crate::b64::encode(Sha256::digest(json.as_bytes()))
    );
    check_transaction_data_hashes(std::slice::from_ref(&entry), &[entry.hash()], None).unwrap();
    check_transaction_data_hashes(
        std::slice::from_ref(&entry),
        &[entry.hash()],
        Some("sha-256"),
    )
    .unwrap();
}

#[test]
fn openid4vp_b_3_3_transaction_data_rules() {
    let mut members = Map::new();
    members.insert("amount".into(), json!("10.00"));
    let a = TransactionData::new("payment", vec!["q1".into()], members).unwrap();
    let b = TransactionData::new("payment", vec!["q1".into()], Map::new()).unwrap();
    assert_eq!(a.members()["amount"], json!("10.00"));
    let both = [a.clone(), b.clone()];
    check_transaction_data_hashes(&both, &[a.hash(), b.hash()], None).unwrap();
    assert_eq!(
        check_transaction_data_hashes(&both, &[b.hash(), a.hash()], None).unwrap_err(),
        MessageError::TransactionDataHashMismatch
    );
    assert_eq!(
        check_transaction_data_hashes(&both, &[a.hash()], None).unwrap_err(),
        MessageError::TransactionDataHashMismatch
    );
    assert_eq!(
        check_transaction_data_hashes(&both, &[a.hash(), b.hash()], Some("sha-512")).unwrap_err(),
        MessageError::UnsupportedHashAlgorithm
    );
    let with_alg = crate::b64::encode(
        json!({"type": "t", "credential_ids": ["q1"], "transaction_data_hashes_alg": ["sha-256"]})
            .to_string(),
    );
    let with_alg = TransactionData::decode(&with_alg).unwrap();
    assert_eq!(
        check_transaction_data_hashes(std::slice::from_ref(&with_alg), &[with_alg.hash()], None)
            .unwrap_err(),
        MessageError::MissingParameter("transaction_data_hashes_alg")
    );
    let decode_err = |v: Value| {
        message_error(TransactionData::decode(&crate::b64::encode(v.to_string())).unwrap_err())
    };
    assert_eq!(
        decode_err(json!({"credential_ids": ["q1"]})),
        MessageError::MissingParameter("transaction_data.type")
    );
    assert_eq!(
        decode_err(json!({"type": "t", "credential_ids": []})),
        MessageError::EmptyArray("transaction_data.credential_ids")
    );
    assert_eq!(
        decode_err(json!({"type": "t", "credential_ids": [1]})),
        MessageError::InvalidParameter("transaction_data.credential_ids")
    );
    assert_eq!(
        decode_err(
            json!({"type": "t", "credential_ids": ["q"], "transaction_data_hashes_alg": ["sha-512"]})
        ),
        MessageError::UnsupportedHashAlgorithm
    );
    assert_eq!(
        decode_err(json!(["not", "an", "object"])),
        MessageError::InvalidParameter("transaction_data")
    );
    assert_eq!(
        message_error(TransactionData::decode("e30=").unwrap_err()),
        MessageError::InvalidParameter("transaction_data")
    );
    assert!(matches!(
        TransactionData::decode(&crate::b64::encode(r#"{"type":"a","type":"b"}"#)).unwrap_err(),
        Error::Json(crate::JsonError::DuplicateMember)
    ));
}

#[test]
fn openid4vp_8_1_vp_token_example() {
    let token = VpToken::parse(VP_TOKEN.as_bytes()).unwrap();
    assert_eq!(
        token.presentations("my_credential"),
        Some(&["eyJhbGci...QMA".to_owned()][..])
    );
    assert_eq!(
        serde_json::from_str::<Value>(&token.to_json()).unwrap(),
        serde_json::from_str::<Value>(VP_TOKEN).unwrap()
    );
    let err = |json: &str| message_error(VpToken::parse(json.as_bytes()).unwrap_err());
    assert_eq!(
        err(r#"{"q":[]}"#),
        MessageError::EmptyArray("vp_token presentations")
    );
    assert_eq!(err(r#"{}"#), MessageError::EmptyArray("vp_token"));
    assert_eq!(
        err(r#"{"q":[{"a":1}]}"#),
        MessageError::UnsupportedPresentation
    );
    assert_eq!(
        err(r#"{"q":"x"}"#),
        MessageError::InvalidParameter("vp_token")
    );
}

#[test]
fn openid4vp_8_2_direct_post_bodies() {
    let body = unwrap_lines(DIRECT_POST_ERROR);
    let DirectPostBody::Error(error) = DirectPostBody::parse_form(&body).unwrap() else {
        panic!("error expected");
    };
    assert_eq!(error.error(), &AuthorizationErrorCode::InvalidRequest);
    assert_eq!(
        error.error_description(),
        Some("unsupported client_id_prefix")
    );
    assert_eq!(error.state(), Some("eyJhb...6-sVA"));

    let token = VpToken::parse(VP_TOKEN.as_bytes()).unwrap();
    let body = DirectPostBody::VpToken {
        vp_token: token,
        state: Some("eyJhb...6-sVA".into()),
    };
    assert_eq!(DirectPostBody::parse_form(&body.to_form()).unwrap(), body);
    let error_body = DirectPostBody::Error(error);
    assert_eq!(
        DirectPostBody::parse_form(&error_body.to_form()).unwrap(),
        error_body
    );

    let err = |form: &str| message_error(DirectPostBody::parse_form(form).unwrap_err());
    assert_eq!(err("state=abc"), MessageError::MissingParameter("vp_token"));
    assert_eq!(
        err("vp_token=%7B%7D&response=a.b.c.d.e"),
        MessageError::Conflict("vp_token", "response")
    );
    assert_eq!(
        err("response=a.b.c"),
        MessageError::InvalidParameter("response")
    );
    assert_eq!(
        err("error=access_denied&error_description=%22quoted%22"),
        MessageError::InvalidCharacters("error_description")
    );
    assert_eq!(
        err("vp_token=%7B%22q%22%3A%5B%22x%22%5D%7D&state=a%20b"),
        MessageError::InvalidCharacters("state")
    );
}

#[test]
fn openid4vp_8_3_1_direct_post_jwt_body() {
    let example: Value = serde_json::from_str(&unwrap_json_strings(ENCRYPTED_RESPONSE)).unwrap();
    let response = example["response"].as_str().unwrap().to_owned();
    let body = DirectPostBody::Encrypted {
        response: response.clone(),
    };
    let form = body.to_form();
    assert_eq!(DirectPostBody::parse_form(&form).unwrap(), body);
    assert_eq!(
        form,
        format!("response={response}"),
        "a compact JWE needs no escaping"
    );
}

#[test]
fn openid4vp_8_3_direct_post_jwt_payload_round_trip_and_rules() {
    let vp_token = VpToken::parse(VP_TOKEN.as_bytes()).unwrap();
    let payload = DirectPostBody::encrypted_response_payload(&vp_token, Some("xyz-1"));
    let parsed: Value = serde_json::from_str(&payload).unwrap();
    // In the JWE payload vp_token is a JSON object, not a JSON string as in a form body.
    assert!(parsed["vp_token"].is_object());
    assert_eq!(
        DirectPostBody::parse_decrypted_response(payload.as_bytes()).unwrap(),
        DirectPostBody::VpToken {
            vp_token: vp_token.clone(),
            state: Some("xyz-1".into()),
        }
    );
    let without_state = DirectPostBody::encrypted_response_payload(&vp_token, None);
    assert!(matches!(
        DirectPostBody::parse_decrypted_response(without_state.as_bytes()).unwrap(),
        DirectPostBody::VpToken { state: None, .. }
    ));
    let err = |json: &str| {
        message_error(DirectPostBody::parse_decrypted_response(json.as_bytes()).unwrap_err())
    };
    assert_eq!(
        err(r#"{"state": "abc"}"#),
        MessageError::MissingParameter("vp_token")
    );
    assert_eq!(
        err(r#"{"vp_token": "{}"}"#),
        MessageError::InvalidParameter("vp_token")
    );
    assert_eq!(
        err(r#"{"vp_token": {"q": ["x"]}, "state": 7}"#),
        MessageError::InvalidParameter("state")
    );
    assert_eq!(
        err(r#"{"vp_token": {"q": ["x"]}, "state": "a b"}"#),
        MessageError::InvalidCharacters("state")
    );
    assert_eq!(
        err(r#"{"vp_token": {"q": [{"x": 1}]}}"#),
        MessageError::UnsupportedPresentation
    );
    assert!(matches!(
        DirectPostBody::parse_decrypted_response(br#"{"vp_token": {}, "vp_token": {}}"#)
            .unwrap_err(),
        Error::Json(_)
    ));
}

#[test]
fn openid4vp_8_2_response_uri_response_example() {
    let response = ResponseUriResponse::parse(RESPONSE_URI_RESPONSE.as_bytes()).unwrap();
    assert_eq!(
        response.redirect_uri.as_deref(),
        Some("https://client.example.org/cb#response_code=091535f699ea575c7937fa5f0f454aee")
    );
    assert_eq!(
        ResponseUriResponse::parse(response.to_json().as_bytes()).unwrap(),
        response
    );
    assert_eq!(
        ResponseUriResponse::parse(b"{}").unwrap().redirect_uri,
        None
    );
    assert_eq!(
        message_error(
            ResponseUriResponse::parse(br#"{"redirect_uri":"javascript:alert(1)"}"#).unwrap_err()
        ),
        MessageError::NotHttpsUrl("redirect_uri")
    );
}

#[test]
fn openid4vp_8_5_error_codes_round_trip() {
    for code in [
        AuthorizationErrorCode::InvalidRequest,
        AuthorizationErrorCode::InvalidClient,
        AuthorizationErrorCode::InvalidScope,
        AuthorizationErrorCode::AccessDenied,
        AuthorizationErrorCode::VpFormatsNotSupported,
        AuthorizationErrorCode::InvalidRequestUriMethod,
        AuthorizationErrorCode::InvalidTransactionData,
        AuthorizationErrorCode::WalletUnavailable,
    ] {
        let body = DirectPostBody::Error(
            AuthorizationErrorResponse::new(code.clone(), None, None).unwrap(),
        );
        let DirectPostBody::Error(back) = DirectPostBody::parse_form(&body.to_form()).unwrap()
        else {
            panic!("error expected");
        };
        assert_eq!(back.error(), &code);
    }
}

/// A verifier key and a stand-in for its leaf certificate: `x509_hash` is computed over the
/// DER bytes, whatever they are, so any bytes serve for these tests.
struct Verifier {
    signer: Box<dyn crate::crypto::Signer>,
    der: Vec<u8>,
}

impl Verifier {
    fn new() -> Verifier {
        let key = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        Verifier {
            signer: default_provider().signer(&key).unwrap(),
            der: b"not really a certificate".to_vec(),
        }
    }
    fn hash(&self) -> String {
        crate::b64::encode(Sha256::digest(&self.der))
    }
    fn x5c(&self) -> Vec<String> {
        vec![crate::b64::encode_standard(&self.der)]
    }
    fn request(&self) -> RequestObject {
        let mut request = RequestObject::new(
            ClientId::x509_hash(&self.hash()).unwrap(),
            ResponseMode::DirectPostJwt,
            "https://verifier.example.org/post",
            crate::crypto::random_token(16).unwrap(),
            dcql(),
        )
        .unwrap();
        let enc = Jwk::new(
            SecretKey::generate(SignatureAlgorithm::Es256)
                .unwrap()
                .public_key(),
        )
        .with_kid("enc-1")
        .with_alg("ECDH-ES")
        .with_use("enc");
        request.client_metadata = Some(ClientMetadata {
            jwks: Some(vec![enc]),
            ..ClientMetadata::default()
        });
        request.state = Some(crate::crypto::random_token(16).unwrap());
        request.aud = Some(SELF_ISSUED_AUDIENCE.into());
        request.iat = Some(1000);
        request.exp = Some(1300);
        request.transaction_data = Some(vec![
            TransactionData::new(
                "payment",
                vec!["some_identity_credential".into()],
                Map::new(),
            )
            .unwrap(),
        ]);
        request
    }
}

#[test]
fn haip_x509_hash_request_object_sign_verify_round_trip() {
    let verifier = Verifier::new();
    let request = verifier.request();
    let jwt = sign_request_object(&request, &*verifier.signer, verifier.x5c()).unwrap();
    let decoded = crate::jose::DecodedJws::decode(&jwt).unwrap();
    assert_eq!(decoded.header().typ(), Some(REQUEST_OBJECT_TYP));
    let verified = verify_request_object_with_leaf_key(
        default_provider(),
        &jwt,
        &verifier.signer.public_key(),
        &verifier.hash(),
        1100,
    )
    .unwrap();
    assert_eq!(verified, request);
    let uri = AuthorizationRequestUri {
        client_id: request.client_id.clone(),
        request_uri: "https://verifier.example.org/request/1".into(),
        request_uri_method: Some(RequestUriMethod::Get),
    };
    verified.check_client_id(&uri).unwrap();
    let other = AuthorizationRequestUri {
        client_id: ClientId::parse("x509_san_dns:verifier.example.org").unwrap(),
        ..uri
    };
    assert_eq!(
        verified.check_client_id(&other).unwrap_err(),
        MessageError::ClientIdMismatch
    );
}

#[test]
fn haip_x509_hash_request_object_failures() {
    let verifier = Verifier::new();
    let key = verifier.signer.public_key();
    let verify = |jwt: &str, hash: &str, now: i64| {
        verify_request_object_with_leaf_key(default_provider(), jwt, &key, hash, now).unwrap_err()
    };
    let jwt = sign_request_object(&verifier.request(), &*verifier.signer, verifier.x5c()).unwrap();
    // The certificate the caller extracted is not the one the client_id names.
    let other_hash = crate::b64::encode(Sha256::digest(b"another certificate"));
    assert_eq!(
        message_error(verify(&jwt, &other_hash, 1100)),
        MessageError::X509HashMismatch
    );
    assert_eq!(
        message_error(verify(&jwt, &verifier.hash(), 1300)),
        MessageError::Expired
    );
    assert_eq!(
        message_error(verify(&jwt, &verifier.hash(), 900)),
        MessageError::IssuedInFuture
    );
    // Signed by another key.
    let intruder = Verifier::new();
    let forged =
        sign_request_object(&verifier.request(), &*intruder.signer, verifier.x5c()).unwrap();
    assert_eq!(
        verify(&forged, &verifier.hash(), 1100),
        Error::Jose(JoseError::InvalidSignature)
    );
    // Wrong aud.
    let mut request = verifier.request();
    request.aud = Some("https://wallet.example.org".into());
    let jwt = sign_request_object(&request, &*verifier.signer, verifier.x5c()).unwrap();
    assert_eq!(
        message_error(verify(&jwt, &verifier.hash(), 1100)),
        MessageError::WrongRequestAudience
    );
    // Not an x509_hash client.
    let mut request = verifier.request();
    request.client_id = ClientId::parse("x509_san_dns:verifier.example.org").unwrap();
    let jwt = sign_request_object(&request, &*verifier.signer, verifier.x5c()).unwrap();
    assert_eq!(
        message_error(verify(&jwt, &verifier.hash(), 1100)),
        MessageError::WrongClientIdPrefix
    );
    // Missing x5c, and wrong or missing typ.
    let payload = serde_json::to_vec(&Value::Object(verifier.request().to_claims())).unwrap();
    let no_x5c = crate::jose::sign_compact(
        &crate::jose::JwsHeader::new(REQUEST_OBJECT_TYP),
        &payload,
        &*verifier.signer,
    )
    .unwrap();
    assert_eq!(
        message_error(verify(&no_x5c, &verifier.hash(), 1100)),
        MessageError::MissingCertificateChain
    );
    let wrong_typ = crate::jose::sign_compact(
        &crate::jose::JwsHeader::new("JWT").with_x5c(verifier.x5c()),
        &payload,
        &*verifier.signer,
    )
    .unwrap();
    assert_eq!(
        verify(&wrong_typ, &verifier.hash(), 1100),
        Error::Jose(JoseError::UnexpectedType {
            expected: REQUEST_OBJECT_TYP
        })
    );
    // Building an invalid request is caught before signing.
    let mut request = verifier.request();
    request.client_metadata = None;
    assert_eq!(
        message_error(
            sign_request_object(&request, &*verifier.signer, verifier.x5c()).unwrap_err()
        ),
        MessageError::MissingEncryptionKey
    );
}

/// A Verifier with a real self-signed request-signing certificate (valid 0..=10_000).
struct CertifiedVerifier {
    secret: SecretKey,
    signer: Box<dyn crate::crypto::Signer>,
    cert: crate::jose::X509Certificate,
}

impl CertifiedVerifier {
    fn new() -> CertifiedVerifier {
        let secret = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
        let cert = crate::jose::X509Certificate::self_signed(
            &secret,
            "verifier.example.org",
            &["verifier.example.org"],
            0,
            10_000,
        )
        .unwrap();
        CertifiedVerifier {
            signer: default_provider().signer(&secret).unwrap(),
            secret,
            cert,
        }
    }
    fn x5c(&self) -> Vec<String> {
        vec![crate::b64::encode_standard(self.cert.der())]
    }
    fn request(&self) -> RequestObject {
        let stand_in = Verifier::new();
        let mut request = stand_in.request();
        request.client_id = ClientId::x509_hash(&self.cert.x509_hash()).unwrap();
        request
    }
    fn sign(&self, request: &RequestObject) -> String {
        sign_request_object(request, &*self.signer, self.x5c()).unwrap()
    }
}

#[test]
fn haip_5_9_3_x509_hash_request_object_from_x5c_header() {
    let verifier = CertifiedVerifier::new();
    let request = verifier.request();
    let jwt = verifier.sign(&request);
    let verified = verify_request_object(default_provider(), &jwt, None, 1100).unwrap();
    assert_eq!(verified, request);
    assert_eq!(
        verified.x509_hash(),
        Some(verifier.cert.x509_hash().as_str())
    );
    assert_eq!(
        verified.x509_hash(),
        Some(crate::b64::encode(Sha256::digest(verifier.cert.der())).as_str())
    );
    // With the self-signed certificate as trust anchor the chain validates too.
    let anchors = [verifier.cert.clone()];
    verify_request_object(default_provider(), &jwt, Some(&anchors[..]), 1100).unwrap();
    // A Verifier anchored elsewhere does not.
    let other = CertifiedVerifier::new();
    assert!(matches!(
        verify_request_object(
            default_provider(),
            &jwt,
            Some(&[other.cert.clone()][..]),
            1100
        )
        .unwrap_err(),
        Error::Jose(JoseError::UntrustedCertificate(_))
    ));
    assert!(matches!(
        verify_request_object(default_provider(), &jwt, Some(&[][..]), 1100).unwrap_err(),
        Error::Jose(JoseError::UntrustedCertificate(_))
    ));
}

#[test]
fn haip_5_9_3_x509_hash_request_object_with_ca_issued_leaf() {
    // A leaf issued by a CA, sent as x5c [leaf, CA]: client_id pins the leaf; the chain is
    // checked against the CA when the caller gives it as anchor.
    let ca_secret = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let ca = crate::jose::X509Certificate::self_signed(&ca_secret, "Verifier CA", &[], 0, 20_000)
        .unwrap();
    let leaf_secret = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    let leaf = crate::jose::X509Certificate::issue_leaf(
        &ca_secret,
        &ca,
        &leaf_secret.public_key(),
        "verifier.example.org",
        &["verifier.example.org"],
        0,
        10_000,
    )
    .unwrap();
    let mut request = Verifier::new().request();
    request.client_id = ClientId::x509_hash(&leaf.x509_hash()).unwrap();
    let x5c = crate::jose::X509Chain::new(vec![leaf.clone(), ca.clone()])
        .unwrap()
        .to_x5c();
    let signer = default_provider().signer(&leaf_secret).unwrap();
    let jwt = sign_request_object(&request, &*signer, x5c).unwrap();
    let anchors = [ca];
    assert_eq!(
        verify_request_object(default_provider(), &jwt, Some(&anchors[..]), 1100).unwrap(),
        request
    );
    assert_eq!(
        verify_request_object(default_provider(), &jwt, None, 1100).unwrap(),
        request
    );
    // The CA's hash is not the client identifier: only the leaf is pinned.
    let mut by_ca = request.clone();
    by_ca.client_id = ClientId::x509_hash(&anchors[0].x509_hash()).unwrap();
    let x5c = crate::jose::X509Chain::new(vec![leaf, anchors[0].clone()])
        .unwrap()
        .to_x5c();
    let jwt = sign_request_object(&by_ca, &*signer, x5c).unwrap();
    assert_eq!(
        message_error(verify_request_object(default_provider(), &jwt, None, 1100).unwrap_err()),
        MessageError::X509HashMismatch
    );
}

#[test]
fn haip_5_9_3_x509_hash_request_object_failures() {
    let verifier = CertifiedVerifier::new();
    let verify = |jwt: &str, now: i64| {
        verify_request_object(default_provider(), jwt, None, now).unwrap_err()
    };
    let payload =
        |request: &RequestObject| serde_json::to_vec(&Value::Object(request.to_claims())).unwrap();
    // No x5c header; an empty one is already refused as a header (RFC 7515 §4.1.6).
    let sign_with = |header: crate::jose::JwsHeader| {
        crate::jose::sign_compact(&header, &payload(&verifier.request()), &*verifier.signer)
            .unwrap()
    };
    assert_eq!(
        message_error(verify(
            &sign_with(crate::jose::JwsHeader::new(REQUEST_OBJECT_TYP)),
            1100
        )),
        MessageError::MissingCertificateChain
    );
    assert_eq!(
        verify(
            &sign_with(crate::jose::JwsHeader::new(REQUEST_OBJECT_TYP).with_x5c(vec![])),
            1100
        ),
        Error::Jose(JoseError::InvalidHeader("x5c"))
    );
    // x5c that is not a certificate.
    let jwt = crate::jose::sign_compact(
        &crate::jose::JwsHeader::new(REQUEST_OBJECT_TYP).with_x5c(vec!["AAAA".into()]),
        &payload(&verifier.request()),
        &*verifier.signer,
    )
    .unwrap();
    assert!(matches!(
        verify(&jwt, 1100),
        Error::Jose(JoseError::InvalidCertificate(_))
    ));
    // Signed by a key other than the certificate's.
    let intruder = CertifiedVerifier::new();
    let forged =
        sign_request_object(&verifier.request(), &*intruder.signer, verifier.x5c()).unwrap();
    assert_eq!(
        verify(&forged, 1100),
        Error::Jose(JoseError::InvalidSignature)
    );
    // An intruder's own certificate, but the legitimate Verifier's client_id.
    let impersonating = intruder.sign(&verifier.request());
    assert_eq!(
        message_error(verify(&impersonating, 1100)),
        MessageError::X509HashMismatch
    );
    // Wrong prefix.
    let mut request = verifier.request();
    request.client_id = ClientId::parse("x509_san_dns:verifier.example.org").unwrap();
    assert_eq!(
        message_error(verify(&verifier.sign(&request), 1100)),
        MessageError::WrongClientIdPrefix
    );
    // Wrong typ.
    let wrong_typ = crate::jose::sign_compact(
        &crate::jose::JwsHeader::new("JWT").with_x5c(verifier.x5c()),
        &payload(&verifier.request()),
        &*verifier.signer,
    )
    .unwrap();
    assert_eq!(
        verify(&wrong_typ, 1100),
        Error::Jose(JoseError::UnexpectedType {
            expected: REQUEST_OBJECT_TYP
        })
    );
    // A leaf outside its validity period (the request itself has no exp here).
    let mut request = verifier.request();
    request.exp = None;
    request.iat = None;
    let jwt = verifier.sign(&request);
    assert_eq!(
        message_error(verify(&jwt, 10_001)),
        MessageError::CertificateNotValid
    );
    let late = CertifiedVerifier {
        cert: crate::jose::X509Certificate::self_signed(
            &verifier.secret,
            "verifier.example.org",
            &[],
            5_000,
            10_000,
        )
        .unwrap(),
        signer: default_provider().signer(&verifier.secret).unwrap(),
        secret: verifier.secret.clone(),
    };
    let mut request = late.request();
    request.exp = None;
    request.iat = None;
    assert_eq!(
        message_error(verify(&late.sign(&request), 1100)),
        MessageError::CertificateNotValid
    );
    // Request times are still checked.
    assert_eq!(
        message_error(verify(&verifier.sign(&verifier.request()), 1300)),
        MessageError::Expired
    );
}
