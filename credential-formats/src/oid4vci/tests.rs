//! Tests of the OpenID4VCI messages against the specification's examples and rules.

use super::*;
use crate::crypto::{SecretKey, SignatureAlgorithm, default_provider};
use crate::messages::MessageError;
use crate::{Error, JoseError};
use serde_json::Value;

/// Removes the line breaks the specification adds inside JSON string values "for display
/// purposes only" (a newline and the indentation after it).
pub(crate) fn unwrap_json_strings(text: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string && c == '\n' {
            while chars.peek().is_some_and(|c| *c == ' ') {
                chars.next();
            }
            continue;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
    }
    out
}

/// Joins a URI or form body printed over several lines "for display purposes only".
pub(crate) fn unwrap_lines(text: &str) -> String {
    text.lines().map(str::trim).collect()
}

fn json_eq(a: &str, b: &str) {
    let a: Value = serde_json::from_str(a).unwrap();
    let b: Value = serde_json::from_str(b).unwrap();
    assert_eq!(a, b);
}

fn message_error(err: Error) -> MessageError {
    match err {
        Error::Message(e) => e,
        other => panic!("expected a message error, got {other:?}"),
    }
}

const OFFER_MULTIPLE: &str = include_str!(
    "../../../spec/vectors/openid4vci-1.0-4.1.1-credential-offer-multiple-credentials.json"
);
const OFFER_BY_REFERENCE: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-4.1.3-credential-offer-by-reference.json");
const OFFER_AUTHZ_CODE: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-4.1.3-credential-offer-authz-code.txt");
const OFFER_BY_VALUE_GET: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-4.1.2-credential-offer-by-value-get.txt");
const OFFER_BY_VALUE_NATIVE: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-4.1.2-credential-offer-by-value-native.txt");
const OFFER_URI: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-4.1.3-credential-offer-uri.txt");
const ISSUER_METADATA: &str = include_str!(
    "../../../spec/vectors/openid4vci-1.0-appendix-credential-issuer-metadata-sd-jwt-long.json"
);
const TOKEN_REQUEST_PRE_AUTH: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-6.1-token-request-pre-authorized.txt");
const TOKEN_REQUEST_CODE: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-6.1-token-request-authorization-code.txt");
const TOKEN_RESPONSE: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-6.2-token-response.json");
const TOKEN_ERROR: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-6.3-token-error-response.json");
const NONCE_RESPONSE: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-7.2-nonce-response.json");
const CREDENTIAL_REQUEST_MDL: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-8.2-credential-request-mdl.json");
const CREDENTIAL_REQUEST_SD_JWT: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-8.2-credential-request-sd-jwt-vc.json");
const CREDENTIAL_REQUEST_DI_VP: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-8.2-credential-request-di-vp.json");
const CREDENTIAL_RESPONSE: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-8.3-credential-response.json");
const CREDENTIAL_RESPONSE_MULTIPLE: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-8.3-credential-response-multiple.json");
const CREDENTIAL_RESPONSE_DEFERRED: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-8.3-credential-response-deferred.json");
const CREDENTIAL_ERROR: &str =
    include_str!("../../../spec/vectors/openid4vci-1.0-8.3.1.2-credential-error-response.json");
const PROOFS_JWT: &str = include_str!("../../../spec/vectors/openid4vci-1.0-f.1-proofs-jwt.json");

#[test]
fn openid4vci_4_1_1_credential_offer_example_parses_and_ignores_unknown() {
    let offer = CredentialOffer::parse(OFFER_MULTIPLE.as_bytes()).unwrap();
    assert_eq!(
        offer.credential_issuer(),
        "https://credential-issuer.example.com"
    );
    assert_eq!(
        offer.credential_configuration_ids(),
        ["UniversityDegreeCredential", "org.iso.18013.5.1.mDL"]
    );
    let grant = offer
        .grants()
        .and_then(|g| g.pre_authorized_code.as_ref())
        .unwrap();
    assert_eq!(grant.pre_authorized_code(), "oaKazRN8I0IbtZ0C7JuMn5");
    let tx = grant.tx_code().unwrap();
    assert_eq!(tx.length(), Some(4));
    assert_eq!(tx.input_mode(), Some(InputMode::Numeric));
    // Re-serialised: everything but the unknown `issuer_redirect_uri`.
    let mut expected: Value = serde_json::from_str(OFFER_MULTIPLE).unwrap();
    expected
        .as_object_mut()
        .unwrap()
        .remove("issuer_redirect_uri");
    assert_eq!(
        serde_json::from_str::<Value>(&offer.to_json()).unwrap(),
        expected
    );
}

#[test]
fn openid4vci_4_1_3_offer_examples_parse() {
    let offer = CredentialOffer::parse(OFFER_BY_REFERENCE.as_bytes()).unwrap();
    let tx = offer
        .grants()
        .and_then(|g| g.pre_authorized_code.as_ref())
        .and_then(|g| g.tx_code())
        .unwrap();
    // An empty tx_code object still means a Transaction Code is required.
    assert_eq!(tx, &TxCode::default());
    assert_eq!(tx.effective_input_mode(), InputMode::Numeric);
    json_eq(&offer.to_json(), OFFER_BY_REFERENCE);

    let body = OFFER_AUTHZ_CODE.split_once("\n\n").unwrap().1;
    let offer = CredentialOffer::parse(body.as_bytes()).unwrap();
    let grant = offer
        .grants()
        .and_then(|g| g.authorization_code.as_ref())
        .unwrap();
    assert_eq!(
        grant.issuer_state.as_deref(),
        Some("eyJhbGciOiJSU0Et...FYUaBy")
    );
    json_eq(&offer.to_json(), body);
}

#[test]
fn openid4vci_4_1_2_offer_by_value_uris_parse_and_round_trip() {
    let native = unwrap_lines(OFFER_BY_VALUE_NATIVE);
    let CredentialOfferUri::ByValue(offer) = CredentialOfferUri::parse(&native).unwrap() else {
        panic!("by value expected");
    };
    let tx = offer
        .grants()
        .and_then(|g| g.pre_authorized_code.as_ref())
        .and_then(|g| g.tx_code())
        .unwrap();
    assert_eq!(tx.input_mode(), Some(InputMode::Text));
    assert_eq!(
        tx.description(),
        Some("Please enter the serial number of your physical drivers license")
    );
    let built = CredentialOfferUri::ByValue(offer.clone()).to_uri();
    assert!(built.starts_with("openid-credential-offer://?credential_offer=%7B"));
    assert_eq!(
        CredentialOfferUri::parse(&built).unwrap(),
        CredentialOfferUri::ByValue(offer)
    );

    // The request line has no scheme or host; the query is what the Wallet reads.
    let get = unwrap_lines(OFFER_BY_VALUE_GET);
    let query = get.split_once('?').unwrap().1;
    let uri = format!("https://wallet.example.org/credential_offer?{query}");
    let CredentialOfferUri::ByValue(offer) = CredentialOfferUri::parse(&uri).unwrap() else {
        panic!("by value expected");
    };
    assert_eq!(
        offer.credential_configuration_ids(),
        ["UniversityDegree_JWT", "org.iso.18013.5.1.mDL"]
    );
}

#[test]
fn openid4vci_4_1_3_offer_by_reference_uri() {
    let uri = unwrap_lines(OFFER_URI);
    let parsed = CredentialOfferUri::parse(&uri).unwrap();
    assert_eq!(
        parsed,
        CredentialOfferUri::ByReference(
            "https://server.example.com/credential-offer/GkurKxf5T0Y-mnPFCHqWOMiZi4VS138cQO_V7PZHAdM"
                .into()
        )
    );
    assert_eq!(CredentialOfferUri::parse(&parsed.to_uri()).unwrap(), parsed);
}

#[test]
fn openid4vci_4_1_offer_uri_needs_exactly_one_parameter() {
    let both = "openid-credential-offer://?credential_offer=%7B%7D&credential_offer_uri=https%3A%2F%2Fa.example";
    assert_eq!(
        message_error(CredentialOfferUri::parse(both).unwrap_err()),
        MessageError::Conflict("credential_offer", "credential_offer_uri")
    );
    assert_eq!(
        message_error(CredentialOfferUri::parse("openid-credential-offer://?x=1").unwrap_err()),
        MessageError::OneOfRequired("credential_offer", "credential_offer_uri")
    );
    assert_eq!(
        message_error(
            CredentialOfferUri::parse(
                "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fa.example"
            )
            .unwrap_err()
        ),
        MessageError::NotHttpsUrl("credential_offer_uri")
    );
    assert_eq!(
        message_error(
            CredentialOfferUri::parse("openid-credential-offer://?credential_offer=%7")
                .unwrap_err()
        ),
        MessageError::MalformedEncoding
    );
    assert!(matches!(
        CredentialOfferUri::parse(
            "openid-credential-offer://?credential_offer=%7B%22a%22%3A1%2C%22a%22%3A2%7D"
        )
        .unwrap_err(),
        Error::Json(crate::JsonError::DuplicateMember)
    ));
}

#[test]
fn openid4vci_4_1_1_offer_rules() {
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        CredentialOffer::new("https://i.example", ids(&[]), None).unwrap_err(),
        MessageError::EmptyArray("credential_configuration_ids")
    );
    assert_eq!(
        CredentialOffer::new("https://i.example", ids(&["a", "a"]), None).unwrap_err(),
        MessageError::DuplicateEntry("credential_configuration_ids")
    );
    assert_eq!(
        CredentialOffer::new("http://i.example", ids(&["a"]), None).unwrap_err(),
        MessageError::NotHttpsUrl("credential_issuer")
    );
    assert_eq!(
        CredentialOffer::new("https://i.example?x=1", ids(&["a"]), None).unwrap_err(),
        MessageError::NotHttpsUrl("credential_issuer")
    );
    assert_eq!(
        TxCode::new(None, None, Some("x".repeat(301))).unwrap_err(),
        MessageError::TxCodeDescriptionTooLong
    );
    assert!(TxCode::new(None, None, Some("é".repeat(300))).is_ok());
    assert_eq!(
        PreAuthorizedCodeGrant::new("", None, None).unwrap_err(),
        MessageError::InvalidParameter("pre-authorized_code")
    );
    let bad_mode =
        br#"{"credential_issuer":"https://i.example","credential_configuration_ids":["a"],
        "grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":
        {"pre-authorized_code":"c","tx_code":{"input_mode":"emoji"}}}}"#;
    assert!(matches!(
        CredentialOffer::parse(bad_mode).unwrap_err(),
        Error::Json(_)
    ));
}

#[test]
fn openid4vci_12_2_4_issuer_metadata_example_parses() {
    let metadata = CredentialIssuerMetadata::parse(ISSUER_METADATA.as_bytes()).unwrap();
    metadata
        .check_issuer("https://credential-issuer.example.com")
        .unwrap();
    assert!(
        metadata
            .check_issuer("https://credential-issuer.example.com/")
            .is_err()
    );
    assert_eq!(
        metadata.nonce_endpoint(),
        Some("https://credential-issuer.example.com/nonce")
    );
    assert_eq!(metadata.batch_credential_issuance().unwrap().batch_size, 10);
    let configuration = metadata
        .credential_configuration("SD_JWT_VC_example_in_OpenID4VCI")
        .unwrap();
    // Appendix A.3.2: `vct` is a member of the configuration itself.
    assert_eq!(configuration.vct(), "SD_JWT_VC_example_in_OpenID4VCI");
    assert_eq!(configuration.format(), FORMAT_DC_SD_JWT);
    let jwt = &configuration.proof_types_supported().unwrap()["jwt"];
    assert_eq!(jwt.proof_signing_alg_values_supported, ["ES256"]);
    let claims = configuration
        .credential_metadata()
        .and_then(|m| m.claims.as_ref())
        .unwrap();
    assert_eq!(claims.len(), 13);
    json_eq(&metadata.to_json(), ISSUER_METADATA);
}

fn metadata_with(edit: impl FnOnce(&mut Value)) -> crate::Result<CredentialIssuerMetadata> {
    let mut value: Value = serde_json::from_str(ISSUER_METADATA).unwrap();
    edit(&mut value);
    CredentialIssuerMetadata::parse(value.to_string().as_bytes())
}

fn configuration(value: &mut Value) -> &mut Value {
    &mut value["credential_configurations_supported"]["SD_JWT_VC_example_in_OpenID4VCI"]
}

#[test]
fn openid4vci_12_2_4_issuer_metadata_rules() {
    type Edit = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(Edit, MessageError)> = vec![
        (
            Box::new(|v| v["batch_credential_issuance"]["batch_size"] = 1.into()),
            MessageError::BatchSizeTooSmall,
        ),
        (
            Box::new(|v| v["credential_endpoint"] = "http://e.example/c".into()),
            MessageError::NotHttpsUrl("credential_endpoint"),
        ),
        (
            Box::new(|v| v["authorization_servers"] = Value::Array(vec![])),
            MessageError::EmptyArray("authorization_servers"),
        ),
        (
            Box::new(|v| configuration(v)["format"] = "mso_mdoc".into()),
            MessageError::UnsupportedFormat,
        ),
        (
            Box::new(|v| {
                configuration(v).as_object_mut().unwrap().remove("vct");
            }),
            MessageError::MissingParameter("vct"),
        ),
        (
            Box::new(|v| {
                configuration(v)
                    .as_object_mut()
                    .unwrap()
                    .remove("proof_types_supported");
            }),
            MessageError::MissingParameter("proof_types_supported"),
        ),
        (
            Box::new(|v| {
                v["display"][1]["locale"] = "en-US".into();
            }),
            MessageError::DuplicateEntry("display locale"),
        ),
        (
            Box::new(|v| {
                configuration(v)["credential_metadata"]["claims"][3]["path"] =
                    serde_json::json!(["email"]);
            }),
            MessageError::ContradictoryClaims,
        ),
        (
            Box::new(|v| {
                configuration(v)["credential_metadata"]["claims"][3]["path"] =
                    serde_json::json!(["address", 0]);
            }),
            MessageError::ContradictoryClaims,
        ),
        (
            Box::new(|v| v["credential_configurations_supported"] = serde_json::json!({})),
            MessageError::EmptyArray("credential_configurations_supported"),
        ),
    ];
    for (edit, expected) in cases {
        assert_eq!(message_error(metadata_with(edit).unwrap_err()), expected);
    }
    assert_eq!(
        message_error(
            metadata_with(|v| configuration(v)["proof_types_supported"]["jwt"]
                ["proof_signing_alg_values_supported"] = Value::Array(vec![]))
            .unwrap_err()
        ),
        MessageError::EmptyArray("proof_signing_alg_values_supported")
    );
}

#[test]
fn rfc8414_authorization_server_metadata() {
    let json = br#"{"issuer":"https://server.example.com","token_endpoint":"https://server.example.com/token",
        "pre-authorized_grant_anonymous_access_supported":true,
        "grant_types_supported":["urn:ietf:params:oauth:grant-type:pre-authorized_code"],
        "dpop_signing_alg_values_supported":["ES256"],"response_types_supported":["code"]}"#;
    let metadata = AuthorizationServerMetadata::parse(json).unwrap();
    assert!(metadata.pre_authorized_grant_anonymous_access_supported());
    assert_eq!(
        AuthorizationServerMetadata::parse(&metadata.to_json().into_bytes()).unwrap(),
        metadata
    );
    let anonymous_default =
        br#"{"issuer":"https://s.example","token_endpoint":"https://s.example/token"}"#;
    assert!(
        !AuthorizationServerMetadata::parse(anonymous_default)
            .unwrap()
            .pre_authorized_grant_anonymous_access_supported()
    );
    assert_eq!(
        AuthorizationServerMetadata::new(
            "https://s.example",
            "http://s.example/t",
            false,
            None,
            None
        )
        .unwrap_err(),
        MessageError::NotHttpsUrl("token_endpoint")
    );
}

#[test]
fn openid4vci_6_1_token_request_examples() {
    let body = unwrap_lines(TOKEN_REQUEST_PRE_AUTH);
    let request = TokenRequest::parse_form(&body).unwrap();
    assert_eq!(
        request,
        TokenRequest::PreAuthorizedCode {
            pre_authorized_code: "SplxlOBeZQQYbYS6WxSbIA".into(),
            tx_code: Some("493536".into()),
            client_id: None,
        }
    );
    assert_eq!(
        TokenRequest::parse_form(&request.to_form()).unwrap(),
        request
    );

    let body = unwrap_lines(TOKEN_REQUEST_CODE);
    let TokenRequest::AuthorizationCode {
        code, redirect_uri, ..
    } = TokenRequest::parse_form(&body).unwrap()
    else {
        panic!("authorization code expected");
    };
    assert_eq!(code, "SplxlOBeZQQYbYS6WxSbIA");
    assert_eq!(
        redirect_uri.as_deref(),
        Some("https://wallet.example.org/cb")
    );
}

#[test]
fn openid4vci_6_1_token_request_rules() {
    let err = |body: &str| message_error(TokenRequest::parse_form(body).unwrap_err());
    assert_eq!(
        err("pre-authorized_code=x"),
        MessageError::MissingParameter("grant_type")
    );
    assert_eq!(
        err("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code"),
        MessageError::MissingParameter("pre-authorized_code")
    );
    assert_eq!(
        err("grant_type=password&username=a"),
        MessageError::UnsupportedGrantType
    );
    assert_eq!(
        err("grant_type=authorization_code&code=c&tx_code=1"),
        MessageError::InvalidParameter("tx_code")
    );
    assert_eq!(
        err("grant_type=authorization_code&code=c&code=d"),
        MessageError::DuplicateParameter
    );
    assert_eq!(err("grant_type"), MessageError::MalformedEncoding);
}

#[test]
fn openid4vci_6_2_token_response_and_errors() {
    let response = TokenResponse::parse(TOKEN_RESPONSE.as_bytes()).unwrap();
    assert_eq!(response.expires_in(), Some(86400));
    assert_eq!(
        response.authorization_details().unwrap()[0].credential_identifiers,
        [
            "CivilEngineeringDegree-2023",
            "ElectricalEngineeringDegree-2023"
        ]
    );
    json_eq(&response.to_json(), TOKEN_RESPONSE);

    let error = OAuthErrorResponse::parse(TOKEN_ERROR.as_bytes()).unwrap();
    assert_eq!(error.error(), &TokenErrorCode::InvalidRequest);
    json_eq(&error.to_json(), TOKEN_ERROR);
    assert_eq!(
        OAuthErrorResponse::new(TokenErrorCode::InvalidGrant, Some("bad \"code\"".into()))
            .unwrap_err(),
        MessageError::InvalidCharacters("error_description")
    );
    assert_eq!(
        message_error(
            TokenResponse::parse(
                br#"{"access_token":"a","token_type":"Bearer","authorization_details":[
                {"type":"openid_credential","credential_configuration_id":"x","credential_identifiers":[]}]}"#
            )
            .unwrap_err()
        ),
        MessageError::EmptyArray("credential_identifiers")
    );
}

#[test]
fn openid4vci_7_2_nonce_response() {
    let response = NonceResponse::parse(NONCE_RESPONSE.as_bytes()).unwrap();
    assert_eq!(response.c_nonce(), "wKI4LT17ac15ES9bw8ac4");
    json_eq(&response.to_json(), NONCE_RESPONSE);
    assert_eq!(
        message_error(NonceResponse::parse(br#"{"c_nonce":""}"#).unwrap_err()),
        MessageError::InvalidParameter("c_nonce")
    );
}

#[test]
fn openid4vci_8_2_credential_request_examples() {
    let request =
        CredentialRequest::parse(unwrap_json_strings(CREDENTIAL_REQUEST_MDL).as_bytes()).unwrap();
    assert_eq!(
        request.target(),
        &CredentialRequestTarget::CredentialConfigurationId("org.iso.18013.5.1.mDL".into())
    );
    let request =
        CredentialRequest::parse(unwrap_json_strings(CREDENTIAL_REQUEST_SD_JWT).as_bytes())
            .unwrap();
    let Some(Proofs::Jwt(jwts)) = request.proofs() else {
        panic!("jwt proofs expected");
    };
    assert_eq!(jwts.len(), 2);
    json_eq(
        &request.to_json(),
        &unwrap_json_strings(CREDENTIAL_REQUEST_SD_JWT),
    );
    // The di_vp example uses a proof type this profile does not accept.
    assert_eq!(
        message_error(
            CredentialRequest::parse(unwrap_json_strings(CREDENTIAL_REQUEST_DI_VP).as_bytes())
                .unwrap_err()
        ),
        MessageError::UnsupportedProofType
    );
}

#[test]
fn openid4vci_8_2_credential_request_rules() {
    let err = |json: &str| message_error(CredentialRequest::parse(json.as_bytes()).unwrap_err());
    assert_eq!(
        err(r#"{"credential_identifier":"a","credential_configuration_id":"b"}"#),
        MessageError::Conflict("credential_identifier", "credential_configuration_id")
    );
    assert_eq!(
        err(r#"{"proofs":{"jwt":["x"]}}"#),
        MessageError::OneOfRequired("credential_identifier", "credential_configuration_id")
    );
    assert_eq!(
        err(r#"{"credential_identifier":"a","proofs":{"jwt":[]}}"#),
        MessageError::EmptyArray("proofs.jwt")
    );
    assert_eq!(
        err(r#"{"credential_identifier":"a","proofs":{"jwt":["x"],"attestation":["y"]}}"#),
        MessageError::ProofTypeCount
    );
    assert_eq!(
        err(r#"{"credential_identifier":"a","proofs":{}}"#),
        MessageError::ProofTypeCount
    );
    assert_eq!(
        err(r#"{"credential_identifier":"a","proofs":{"jwt":[1]}}"#),
        MessageError::InvalidParameter("proofs.jwt")
    );
    assert!(matches!(
        CredentialRequest::parse(br#"{"credential_identifier":"a","credential_identifier":"b"}"#)
            .unwrap_err(),
        Error::Json(crate::JsonError::DuplicateMember)
    ));
}

#[test]
fn openid4vci_8_3_credential_response_examples() {
    for example in [CREDENTIAL_RESPONSE, CREDENTIAL_RESPONSE_MULTIPLE] {
        let response = CredentialResponse::parse(example.as_bytes()).unwrap();
        assert!(matches!(response, CredentialResponse::Immediate { .. }));
        json_eq(&response.to_json(), example);
    }
    let deferred = CredentialResponse::parse(CREDENTIAL_RESPONSE_DEFERRED.as_bytes()).unwrap();
    assert_eq!(
        deferred,
        CredentialResponse::Deferred {
            transaction_id: "8xLOxBtZp8".into(),
            interval: 3600
        }
    );
    json_eq(&deferred.to_json(), CREDENTIAL_RESPONSE_DEFERRED);

    let err = |json: &str| message_error(CredentialResponse::parse(json.as_bytes()).unwrap_err());
    assert_eq!(
        err(r#"{"credentials":[{"credential":"a"}],"transaction_id":"t"}"#),
        MessageError::Conflict("credentials", "transaction_id")
    );
    assert_eq!(
        err(r#"{"transaction_id":"t"}"#),
        MessageError::MissingParameter("interval")
    );
    assert_eq!(
        err(r#"{"transaction_id":"t","interval":5,"notification_id":"n"}"#),
        MessageError::InvalidParameter("notification_id")
    );
    assert_eq!(
        err(r#"{"credentials":[]}"#),
        MessageError::EmptyArray("credentials")
    );
    assert_eq!(
        err(r#"{}"#),
        MessageError::OneOfRequired("credentials", "transaction_id")
    );
}

#[test]
fn openid4vci_8_3_1_2_credential_error_response() {
    let error = CredentialErrorResponse::parse(CREDENTIAL_ERROR.as_bytes()).unwrap();
    assert_eq!(
        error.error(),
        &CredentialErrorCode::UnknownCredentialConfiguration
    );
    json_eq(&error.to_json(), CREDENTIAL_ERROR);
    for code in [
        CredentialErrorCode::InvalidCredentialRequest,
        CredentialErrorCode::UnknownCredentialIdentifier,
        CredentialErrorCode::InvalidProof,
        CredentialErrorCode::InvalidNonce,
        CredentialErrorCode::InvalidEncryptionParameters,
        CredentialErrorCode::CredentialRequestDenied,
    ] {
        let response =
            CredentialErrorResponse::new(code.clone(), Some("try again".into())).unwrap();
        let back = CredentialErrorResponse::parse(response.to_json().as_bytes()).unwrap();
        assert_eq!(back.error(), &code);
    }
    assert_eq!(
        message_error(CredentialErrorResponse::parse(br#"{"error":"a\\b"}"#).unwrap_err()),
        MessageError::InvalidCharacters("error")
    );
}

#[test]
fn openid4vci_f_1_proof_example_verifies() {
    let proofs: Value = serde_json::from_str(&unwrap_json_strings(PROOFS_JWT)).unwrap();
    let jwt = proofs["jwt"][0].as_str().unwrap();
    let verified = verify_proof(
        default_provider(),
        jwt,
        "https://credential-issuer.example.com",
        1701960444,
        ProofTimePolicy::default(),
    )
    .unwrap();
    assert_eq!(verified.nonce, "LarRGSbmUPYtRYO6BQ4yn8");
    assert_eq!(verified.iat, 1701960444);
    assert_eq!(verified.iss, None);
    assert_eq!(
        crate::b64::encode(match verified.jwk.key() {
            crate::crypto::PublicKey::P256 { x, .. } => x.to_vec(),
            _ => panic!("P-256 expected"),
        }),
        "nUWAoAv3XZith8E7i19OdaxOLYFOwM-Z2EuM02TirT4"
    );
}

fn holder() -> Box<dyn crate::crypto::Signer> {
    let key = SecretKey::generate(SignatureAlgorithm::Es256).unwrap();
    default_provider().signer(&key).unwrap()
}

const AUD: &str = "https://credential-issuer.example.com";

#[test]
fn openid4vci_f_1_proof_round_trip() {
    let signer = holder();
    let jwt = create_proof(&*signer, AUD, "c-nonce-1", 1000, Some("client-1")).unwrap();
    let verified = verify_proof(
        default_provider(),
        &jwt,
        AUD,
        1010,
        ProofTimePolicy::default(),
    )
    .unwrap();
    assert_eq!(verified.nonce, "c-nonce-1");
    assert_eq!(verified.iss.as_deref(), Some("client-1"));
    assert_eq!(verified.jwk.key(), &signer.public_key());
    // §7.2, §8.3.1.2: the nonce must be one the issuer handed out (and is then used up).
    let mut issued = vec!["c-nonce-1".to_owned()];
    let mut consume = |nonce: &str| match issued.iter().position(|n| n == nonce) {
        Some(at) => {
            issued.remove(at);
            true
        }
        None => false,
    };
    verified.check_nonce(&mut consume).unwrap();
    assert_eq!(
        verified.check_nonce(&mut consume).unwrap_err(),
        MessageError::InvalidNonce
    );
    assert_eq!(
        MessageError::InvalidNonce.error_code(crate::messages::Endpoint::Credential),
        "invalid_nonce"
    );
}

/// Signs a proof with hand-made header and claims.
fn forged(header: Value, claims: Value) -> String {
    let signer = holder();
    let mut header = header;
    if header.get("jwk").is_some_and(|j| j == "SIGNER") {
        header["jwk"] = crate::jose::Jwk::new(signer.public_key()).to_value();
    }
    let input = format!(
        "{}.{}",
        crate::b64::encode(header.to_string()),
        crate::b64::encode(claims.to_string())
    );
    let signature = signer.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", crate::b64::encode(signature))
}

#[test]
fn openid4vci_f_4_proof_failures_each_have_their_variant() {
    use serde_json::json;
    let good_header = json!({"typ": PROOF_JWT_TYP, "alg": "ES256", "jwk": "SIGNER"});
    let good_claims = json!({"aud": AUD, "iat": 1000, "nonce": "n"});
    let check = |jwt: String| {
        verify_proof(
            default_provider(),
            &jwt,
            AUD,
            1000,
            ProofTimePolicy::default(),
        )
        .unwrap_err()
    };
    assert!(
        verify_proof(
            default_provider(),
            &forged(good_header.clone(), good_claims.clone()),
            AUD,
            1000,
            ProofTimePolicy::default()
        )
        .is_ok()
    );
    let cases: Vec<(Value, Value, MessageError)> = vec![
        (
            json!({"typ": "JWT", "alg": "ES256", "jwk": "SIGNER"}),
            good_claims.clone(),
            MessageError::WrongProofType,
        ),
        (
            json!({"alg": "ES256", "jwk": "SIGNER"}),
            good_claims.clone(),
            MessageError::WrongProofType,
        ),
        (
            json!({"typ": PROOF_JWT_TYP, "alg": "ES256", "jwk": "SIGNER", "kid": "k"}),
            good_claims.clone(),
            MessageError::ProofKeyConflict,
        ),
        (
            json!({"typ": PROOF_JWT_TYP, "alg": "ES256", "kid": "did:example:ebfeb1f712ebc6f1c276e12ec21#keys-1"}),
            good_claims.clone(),
            MessageError::ProofKeyNotJwk,
        ),
        (
            json!({"typ": PROOF_JWT_TYP, "alg": "ES256", "x5c": ["MIIB"]}),
            good_claims.clone(),
            MessageError::ProofKeyNotJwk,
        ),
        (
            json!({"typ": PROOF_JWT_TYP, "alg": "ES256"}),
            good_claims.clone(),
            MessageError::MissingProofKey,
        ),
        (
            good_header.clone(),
            json!({"aud": AUD, "iat": 1000}),
            MessageError::MissingNonce,
        ),
        (
            good_header.clone(),
            json!({"aud": "https://other.example.com", "iat": 1000, "nonce": "n"}),
            MessageError::WrongAudience,
        ),
        (
            good_header.clone(),
            json!({"iat": 1000, "nonce": "n"}),
            MessageError::InvalidProofClaim("aud"),
        ),
        (
            good_header.clone(),
            json!({"aud": AUD, "iat": 1061, "nonce": "n"}),
            MessageError::IssuedInFuture,
        ),
        (
            good_header.clone(),
            json!({"aud": AUD, "iat": 699, "nonce": "n"}),
            MessageError::ProofTooOld,
        ),
        (
            good_header.clone(),
            json!({"aud": AUD, "iat": "1000", "nonce": "n"}),
            MessageError::InvalidProofClaim("iat"),
        ),
        (
            good_header.clone(),
            json!({"aud": AUD, "iat": 1000.5, "nonce": "n"}),
            MessageError::InvalidProofClaim("iat"),
        ),
        (
            good_header.clone(),
            json!({"aud": AUD, "nonce": "n"}),
            MessageError::InvalidProofClaim("iat"),
        ),
        (
            good_header.clone(),
            json!({"aud": AUD, "iat": 1000, "nonce": 7}),
            MessageError::InvalidProofClaim("nonce"),
        ),
        (
            good_header.clone(),
            json!({"aud": AUD, "iat": 1000, "nonce": "n", "iss": ""}),
            MessageError::InvalidProofClaim("iss"),
        ),
        (
            good_header.clone(),
            json!({"aud": ["x"], "iat": 1000, "nonce": "n"}),
            MessageError::InvalidProofClaim("aud"),
        ),
    ];
    for (header, claims, expected) in cases {
        let error = message_error(check(forged(header, claims)));
        // Every key proof failure is reported as invalid_proof (§8.3.1.2).
        assert_eq!(
            error.error_code(crate::messages::Endpoint::Credential),
            "invalid_proof",
            "{error:?}"
        );
        assert_eq!(error, expected);
    }
    // alg none and HMAC cannot even be named; EdDSA is named but not accepted here.
    for alg in ["none", "HS256"] {
        let jwt = forged(
            json!({"typ": PROOF_JWT_TYP, "alg": alg, "jwk": "SIGNER"}),
            good_claims.clone(),
        );
        assert_eq!(check(jwt), Error::Jose(JoseError::AlgorithmNotAllowed));
    }
    let jwt = forged(
        json!({"typ": PROOF_JWT_TYP, "alg": "EdDSA", "jwk": "SIGNER"}),
        good_claims.clone(),
    );
    assert_eq!(
        message_error(check(jwt)),
        MessageError::ProofAlgorithmNotAccepted
    );
    // A private key in the header is refused outright.
    let mut with_d = crate::jose::Jwk::new(holder().public_key()).to_value();
    with_d["d"] = "AAAA".into();
    let jwt = forged(
        json!({"typ": PROOF_JWT_TYP, "alg": "ES256", "jwk": with_d}),
        good_claims.clone(),
    );
    assert_eq!(check(jwt), Error::Jose(JoseError::PrivateKeyMaterial));
    // Signed by another key than the header's.
    let other = crate::jose::Jwk::new(holder().public_key()).to_value();
    let jwt = forged(
        json!({"typ": PROOF_JWT_TYP, "alg": "ES256", "jwk": other}),
        good_claims,
    );
    assert_eq!(check(jwt), Error::Jose(JoseError::InvalidSignature));
}
