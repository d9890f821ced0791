//! OpenID4VP 1.0 in the HAIP profile: a signed Request Object (`x509_hash`), a DCQL query,
//! Key Binding to `client_id` and `nonce`, `direct_post.jwt`, and the verifier's checks:
//! trust list, SD-JWT VC, status, transaction data, DCQL (SECURITY-CATALOGUE V1, V7).

use crate::actors::{
    Held, NOW, Presented, VERIFIER_ID, Verifier, World, YEAR, es256, path, provider, signer,
};
use crate::issuance::issue_batch;
use credential_formats::crypto::{SecretKey, random_token};
use credential_formats::dcql::{DcqlQuery, PresentedCredentials};
use credential_formats::jose::{
    ContentEncryption, JweHeader, Jwk, X509Chain, decrypt_compact, encrypt_compact,
};
use credential_formats::oid4vp::{
    AuthorizationRequestUri, ClientId, ClientMetadata, DirectPostBody, Endpoint, OPENID4VP_SCHEME,
    RequestObject, RequestUriMethod, ResponseMode, SELF_ISSUED_AUDIENCE, SHA_256, TransactionData,
    VpToken, check_transaction_data_hashes, sign_request_object, verify_request_object,
};
use credential_formats::sd_jwt::{KeyBinding, KeyBindingPolicy, KeyBindingRequirements, SdJwt};
use credential_formats::sd_jwt_vc::{self, VcVerification};
use credential_formats::status_list::{StatusListToken, StatusListValidation, StatusType};
use credential_formats::time::FixedClock;
use credential_formats::{
    Error, JoseError, MessageError, SdJwtError, TrustListError, credentials::CredentialType,
};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const RESPONSE_URI: &str = "https://shop.example.be/openid4vp/response";

/// What the verifier keeps of one transaction: the request it signed and the decryption
/// key of its ephemeral encryption key.
#[derive(Debug)]
struct Session {
    request: RequestObject,
    signed: String,
    /// The QR code or link: `openid4vp://?client_id=…&request_uri=…`.
    uri: String,
    decryption_key: SecretKey,
}

/// Why the verifier refused a response.
#[derive(Debug, PartialEq)]
enum Refusal {
    Format(Error),
    Revoked,
}

macro_rules! refusal_from {
    ($($family:ty),*) => {$(
        impl From<$family> for Refusal {
            fn from(error: $family) -> Refusal {
                Refusal::Format(error.into())
            }
        }
    )*};
}

refusal_from!(
    Error,
    MessageError,
    JoseError,
    SdJwtError,
    TrustListError,
    credential_formats::DcqlError,
    credential_formats::StatusListError
);

fn age_query() -> Value {
    json!({"credentials": [{
        "id": "person",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [CredentialType::PersonAttestation.vct()]},
        "claims": [{"path": ["age_over_18"], "values": [true]}]
    }]})
}

fn accountable_query() -> Value {
    json!({"credentials": [{
        "id": "person",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [CredentialType::PersonAttestation.vct()]},
        "claims": [{"path": ["age_over_18"]}, {"path": ["person_handle"]}]
    }]})
}

fn training_spend() -> TransactionData {
    let Value::Object(members) = json!({
        "course": "COURSE-42",
        "amount": {"value": "250.00", "currency": "EUR"},
        "transaction_id": "8d1e62a4-training-spend",
    }) else {
        unreachable!()
    };
    TransactionData::new("training_spend", vec!["person".into()], members).unwrap()
}

/// The verifier's request: DCQL, `direct_post.jwt` with a fresh ephemeral key, fresh nonce
/// and state, signed with its certificate in `x5c`.
fn verifier_request(
    verifier: &Verifier,
    query: Value,
    transaction_data: Option<Vec<TransactionData>>,
) -> Session {
    let decryption_key = es256();
    let mut request = RequestObject::new(
        ClientId::x509_hash(&verifier.x509_hash()).unwrap(),
        ResponseMode::DirectPostJwt,
        RESPONSE_URI,
        random_token(16).unwrap(),
        DcqlQuery::from_json(query).unwrap(),
    )
    .unwrap();
    request.state = Some(random_token(16).unwrap());
    request.aud = Some(SELF_ISSUED_AUDIENCE.into());
    request.iat = Some(NOW);
    request.exp = Some(NOW + 300);
    request.transaction_data = transaction_data;
    request.client_metadata = Some(ClientMetadata {
        jwks: Some(vec![
            Jwk::new(decryption_key.public_key())
                .with_kid("response-enc")
                .with_alg("ECDH-ES")
                .with_use("enc"),
        ]),
        encrypted_response_enc_values_supported: Some(vec!["A128GCM".into()]),
        ..ClientMetadata::default()
    });
    let x5c = X509Chain::new(vec![verifier.certificate.clone()])
        .unwrap()
        .to_x5c();
    let signed = sign_request_object(&request, &*verifier.signer(), x5c).unwrap();
    let uri = AuthorizationRequestUri {
        client_id: request.client_id.clone(),
        request_uri: format!(
            "https://shop.example.be/openid4vp/request/{}",
            random_token(8).unwrap()
        ),
        request_uri_method: Some(RequestUriMethod::Get),
    }
    .to_uri(&format!("{OPENID4VP_SCHEME}://"));
    Session {
        request,
        signed,
        uri,
        decryption_key,
    }
}

/// The wallet's presentations for a query it has decided to answer: DCQL picks the
/// credentials and exactly the claims to disclose; each presentation is bound to `aud` and
/// `nonce`, and to the hashes of the `transaction_data` entries naming its credential query.
fn wallet_present(
    held: &[Held],
    query: &DcqlQuery,
    aud: &str,
    nonce: &str,
    transaction_data: &[TransactionData],
) -> VpToken {
    let views: Vec<&dyn credential_formats::dcql::CredentialView> =
        held.iter().map(|h| h as _).collect();
    let result = query.evaluate(&views);
    assert!(result.satisfiable);
    let mut entries: Vec<(String, Vec<String>)> = Vec::new();
    for chosen in &result.preselection {
        let credential = &held[chosen.candidate.credential];
        let hashes: Vec<Value> = transaction_data
            .iter()
            .filter(|t| t.credential_ids().contains(&chosen.credential_query_id))
            .map(|t| Value::from(t.hash()))
            .collect();
        let mut binding = KeyBinding::new(aud, nonce, NOW);
        if !hashes.is_empty() {
            binding = binding
                .with_claim("transaction_data_hashes", Value::Array(hashes))
                .with_claim("transaction_data_hashes_alg", Value::from(SHA_256));
        }
        let presentation = credential
            .sd_jwt
            .present(&chosen.candidate.disclose)
            .unwrap()
            .bind(&binding, &*signer(&credential.holder))
            .unwrap()
            .serialize();
        entries.push((chosen.credential_query_id.clone(), vec![presentation]));
    }
    VpToken::new(entries).unwrap()
}

/// The whole wallet side: read the invocation URI, verify the Request Object fetched from its
/// `request_uri` from its `x5c`, check both name the same `client_id`, find the verifier in
/// the trust list, present, encrypt to the verifier's key, and build the `direct_post.jwt`
/// body.
fn wallet_respond(
    world: &World,
    held: &[Held],
    uri: &str,
    signed_request: &str,
) -> Result<String, Error> {
    let invocation = AuthorizationRequestUri::parse(uri)?;
    let request = verify_request_object(provider(), signed_request, None, NOW)?;
    request.check_client_id(&invocation)?;
    let x509_hash = request
        .x509_hash()
        .ok_or(MessageError::WrongClientIdPrefix)?;
    let verifier = world.trust_list.verifier_by_x509_hash(x509_hash, NOW)?;
    assert_eq!(verifier.id(), VERIFIER_ID);
    let vp_token = wallet_present(
        held,
        &request.dcql_query,
        request.client_id.as_str(),
        &request.nonce,
        request.transaction_data.as_deref().unwrap_or_default(),
    );
    let key = request
        .client_metadata
        .as_ref()
        .and_then(|m| m.jwks.as_ref())
        .and_then(|keys| keys.first())
        .ok_or(MessageError::MissingEncryptionKey)?;
    Ok(encrypted_body(&vp_token, request.state.as_deref(), key))
}

fn encrypted_body(vp_token: &VpToken, state: Option<&str>, key: &Jwk) -> String {
    let payload = DirectPostBody::encrypted_response_payload(vp_token, state);
    let response = encrypt_compact(
        provider(),
        key,
        ContentEncryption::A128Gcm,
        payload.as_bytes(),
        JweHeader::new(),
    )
    .unwrap();
    DirectPostBody::Encrypted { response }.to_form()
}

/// The verifier's Response Endpoint: decrypt, parse, and for every presentation verify the
/// SD-JWT VC with the issuer key the trust list gives for its `iss` and `kid` (and allows
/// for its `vct`), Key Binding to this `client_id` and `nonce`, the status list, and the
/// `transaction_data` hashes; then the answer against its own DCQL query.
fn verifier_receive(
    world: &World,
    session: &Session,
    body: &str,
    status_list_token: &str,
) -> Result<Vec<(String, Presented)>, Refusal> {
    let DirectPostBody::Encrypted { response } = DirectPostBody::parse_form(body)? else {
        return Err(MessageError::InvalidParameter("response").into());
    };
    let (_header, plaintext) = decrypt_compact(
        provider(),
        &response,
        &session.decryption_key,
        &[ContentEncryption::A128Gcm],
    )?;
    let DirectPostBody::VpToken { vp_token, state } =
        DirectPostBody::parse_decrypted_response(&plaintext)?
    else {
        return Err(MessageError::MissingParameter("vp_token").into());
    };
    if state != session.request.state {
        return Err(MessageError::InvalidParameter("state").into());
    }
    let request = &session.request;
    let clock = FixedClock(NOW);
    let mut presented = Vec::new();
    for (query_id, presentations) in vp_token.entries() {
        for presentation in presentations {
            let sd_jwt = SdJwt::parse(presentation)?;
            let iss = sd_jwt.unverified_issuer().unwrap_or_default().to_owned();
            let kid = sd_jwt.unverified_kid().unwrap_or_default().to_owned();
            let key = world.trust_list.resolve_key(&iss, &kid)?.clone();
            let requirements =
                KeyBindingRequirements::new(request.client_id.as_str(), request.nonce.clone());
            let verified = sd_jwt_vc::verify(
                &sd_jwt,
                &key,
                provider(),
                &VcVerification::new(KeyBindingPolicy::Required(requirements), &clock),
            )?;
            world.trust_list.issuer_for_vct(&key, verified.vct(), NOW)?;
            let reference = verified
                .status_reference()
                .ok_or(MessageError::MissingParameter("status"))?;
            let token = StatusListToken::verify(
                status_list_token,
                provider(),
                &key,
                &StatusListValidation::for_reference(reference, NOW),
            )?;
            if token.status_of(reference)? != StatusType::Valid {
                return Err(Refusal::Revoked);
            }
            let entries: Vec<TransactionData> = request
                .transaction_data
                .iter()
                .flatten()
                .filter(|t| t.credential_ids().contains(query_id))
                .cloned()
                .collect();
            if !entries.is_empty() {
                let binding = verified.key_binding().cloned().unwrap_or_default();
                let hashes: Vec<String> = binding
                    .get("transaction_data_hashes")
                    .and_then(|h| serde_json::from_value(h.clone()).ok())
                    .ok_or(MessageError::MissingParameter("transaction_data_hashes"))?;
                let alg = binding
                    .get("transaction_data_hashes_alg")
                    .and_then(Value::as_str);
                check_transaction_data_hashes(&entries, &hashes, alg)?;
            }
            let claims = Value::Object(verified.claims().clone());
            presented.push((query_id.clone(), Presented { verified, claims }));
        }
    }
    let mut by_query: PresentedCredentials<'_> = BTreeMap::new();
    for (query_id, presentation) in &presented {
        by_query
            .entry(query_id.clone())
            .or_default()
            .push(presentation as _);
    }
    request.dcql_query.check_presented(&by_query)?;
    Ok(presented)
}

#[test]
fn openid4vp_direct_post_jwt_discloses_only_what_dcql_asked() {
    let mut world = World::new();
    let held = issue_batch(&mut world);
    let session = verifier_request(&world.verifier, age_query(), None);
    let body = wallet_respond(&world, &held, &session.uri, &session.signed).unwrap();
    let status = world.issuer.status_list_token();
    let presented = verifier_receive(&world, &session, &body, &status).unwrap();
    assert_eq!(presented.len(), 1);
    let (query_id, person) = &presented[0];
    assert_eq!(query_id, "person");
    assert_eq!(person.verified.disclosed_paths(), &[path("age_over_18")]);
    assert_eq!(person.claims["age_over_18"], Value::Bool(true));
    for hidden in [
        "person_handle",
        "age_over_16",
        "age_over_21",
        "level_of_assurance",
    ] {
        assert!(
            person.claims.get(hidden).is_none(),
            "{hidden} was disclosed"
        );
    }
}

#[test]
fn openid4vp_accountable_presentation_with_transaction_data() {
    let mut world = World::new();
    let held = issue_batch(&mut world);
    let session = verifier_request(
        &world.verifier,
        accountable_query(),
        Some(vec![training_spend()]),
    );
    let body = wallet_respond(&world, &held, &session.uri, &session.signed).unwrap();
    let status = world.issuer.status_list_token();
    let presented = verifier_receive(&world, &session, &body, &status).unwrap();
    let (_, person) = &presented[0];
    assert_eq!(
        person.claims["person_handle"],
        held[0].claims["person_handle"]
    );
    let binding = person.verified.key_binding().unwrap();
    assert_eq!(
        binding["transaction_data_hashes"],
        json!([training_spend().hash()])
    );

    // The same presentation without the hashes is refused.
    let query = &session.request.dcql_query;
    let aud = session.request.client_id.as_str();
    let unbound = wallet_present(&held, query, aud, &session.request.nonce, &[]);
    let body = encrypted_body(
        &unbound,
        session.request.state.as_deref(),
        &enc_key(&session),
    );
    assert_eq!(
        verifier_receive(&world, &session, &body, &status).unwrap_err(),
        Refusal::Format(MessageError::MissingParameter("transaction_data_hashes").into())
    );
    // Hashes of other transaction data are refused.
    let mut other = Map::new();
    other.insert(
        "amount".into(),
        json!({"value": "9999.00", "currency": "EUR"}),
    );
    let forged = TransactionData::new("training_spend", vec!["person".into()], other).unwrap();
    let wrong = wallet_present(&held, query, aud, &session.request.nonce, &[forged]);
    let body = encrypted_body(&wrong, session.request.state.as_deref(), &enc_key(&session));
    let err = verifier_receive(&world, &session, &body, &status).unwrap_err();
    assert_eq!(
        err,
        Refusal::Format(MessageError::TransactionDataHashMismatch.into())
    );
}

fn enc_key(session: &Session) -> Jwk {
    session
        .request
        .client_metadata
        .as_ref()
        .unwrap()
        .jwks
        .as_ref()
        .unwrap()[0]
        .clone()
}

#[test]
fn openid4vp_replayed_presentation_fails_the_nonce() {
    let mut world = World::new();
    let held = issue_batch(&mut world);
    let status = world.issuer.status_list_token();
    let first = verifier_request(&world.verifier, age_query(), None);
    let request = &first.request;
    let vp_token = wallet_present(
        &held,
        &request.dcql_query,
        request.client_id.as_str(),
        &request.nonce,
        &[],
    );
    // Whoever holds the vp_token of the first session re-encrypts it for a second one.
    let second = verifier_request(&world.verifier, age_query(), None);
    let body = encrypted_body(
        &vp_token,
        second.request.state.as_deref(),
        &enc_key(&second),
    );
    assert_eq!(
        verifier_receive(&world, &second, &body, &status).unwrap_err(),
        Refusal::Format(SdJwtError::NonceMismatch.into())
    );
}

#[test]
fn openid4vp_presentation_for_another_verifier_fails_the_audience() {
    let mut world = World::new();
    let held = issue_batch(&mut world);
    let status = world.issuer.status_list_token();
    let session = verifier_request(&world.verifier, age_query(), None);
    // A presentation made for the stranger's client_id, relayed with this session's nonce.
    let stranger = ClientId::x509_hash(&world.stranger.x509_hash()).unwrap();
    let vp_token = wallet_present(
        &held,
        &session.request.dcql_query,
        stranger.as_str(),
        &session.request.nonce,
        &[],
    );
    let body = encrypted_body(
        &vp_token,
        session.request.state.as_deref(),
        &enc_key(&session),
    );
    assert_eq!(
        verifier_receive(&world, &session, &body, &status).unwrap_err(),
        Refusal::Format(SdJwtError::AudienceMismatch.into())
    );
}

#[test]
fn token_status_list_revoked_credential_is_refused() {
    let mut world = World::new();
    let held = issue_batch(&mut world);
    let session = verifier_request(&world.verifier, age_query(), None);
    let body = wallet_respond(&world, &held, &session.uri, &session.signed).unwrap();
    // DCQL preselects the first credential; the issuer revokes it.
    let revoked = held[0].status.clone();
    world.issuer.revoke(&revoked);
    let status = world.issuer.status_list_token();
    assert_eq!(
        verifier_receive(&world, &session, &body, &status).unwrap_err(),
        Refusal::Revoked
    );
}

#[test]
fn openid4vp_request_signed_with_another_certificate_is_refused() {
    let mut world = World::new();
    let held = issue_batch(&mut world);
    // The stranger signs a request claiming the listed verifier's client_id, with its own
    // certificate in x5c.
    let session = verifier_request(&world.verifier, age_query(), None);
    let impostor_x5c = X509Chain::new(vec![world.stranger.certificate.clone()])
        .unwrap()
        .to_x5c();
    let forged =
        sign_request_object(&session.request, &*world.stranger.signer(), impostor_x5c).unwrap();
    let err = wallet_respond(&world, &held, &session.uri, &forged).unwrap_err();
    assert_eq!(err, Error::Message(MessageError::X509HashMismatch));
    assert_eq!(err.error_code(Endpoint::Authorization), "invalid_request");
    // With the listed verifier's certificate but the stranger's key, the signature fails.
    let listed_x5c = X509Chain::new(vec![world.verifier.certificate.clone()])
        .unwrap()
        .to_x5c();
    let forged =
        sign_request_object(&session.request, &*world.stranger.signer(), listed_x5c).unwrap();
    assert_eq!(
        wallet_respond(&world, &held, &session.uri, &forged).unwrap_err(),
        Error::Jose(JoseError::InvalidSignature)
    );
    // A genuine Request Object behind an invocation URI naming another client (§5.10.1).
    let unknown = verifier_request(&world.stranger, age_query(), None);
    assert_eq!(
        wallet_respond(&world, &held, &unknown.uri, &session.signed).unwrap_err(),
        Error::Message(MessageError::ClientIdMismatch)
    );
    // A correctly signed request from a verifier the trust list does not know.
    let err = wallet_respond(&world, &held, &unknown.uri, &unknown.signed).unwrap_err();
    assert_eq!(err, Error::TrustList(TrustListError::UnknownVerifier));
    assert_eq!(err.error_code(Endpoint::Authorization), "access_denied");
    // The listed verifier's certificate outside its validity period.
    let late = verify_request_object(provider(), &session.signed, None, NOW + 2 * YEAR);
    assert_eq!(
        late.unwrap_err(),
        Error::Message(MessageError::CertificateNotValid)
    );
}

#[test]
fn openid4vp_response_encrypted_to_the_wrong_key_is_refused() {
    let mut world = World::new();
    let held = issue_batch(&mut world);
    let status = world.issuer.status_list_token();
    let session = verifier_request(&world.verifier, age_query(), None);
    let request = &session.request;
    let vp_token = wallet_present(
        &held,
        &request.dcql_query,
        request.client_id.as_str(),
        &request.nonce,
        &[],
    );
    let wrong = Jwk::new(es256().public_key())
        .with_kid("response-enc")
        .with_alg("ECDH-ES")
        .with_use("enc");
    let body = encrypted_body(&vp_token, request.state.as_deref(), &wrong);
    assert_eq!(
        verifier_receive(&world, &session, &body, &status).unwrap_err(),
        Refusal::Format(JoseError::DecryptionFailed.into())
    );
}
