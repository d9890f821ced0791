//! OpenID4VCI 1.0, Pre-Authorized Code Flow with a Transaction Code, and a batch of three
//! person attestations, each bound to its own holder key (SECURITY-CATALOGUE I1, I2, I6).

use crate::actors::{
    Held, ISSUER_ID, ISSUER_KID, NOW, STATUS_URI, World, YEAR, es256, path, person_claims,
    provider, signer,
};
use credential_formats::credentials::CredentialType;
use credential_formats::oid4vci::{
    CredentialOffer, CredentialOfferUri, CredentialRequest, CredentialRequestTarget,
    CredentialResponse, Endpoint, Grants, InputMode, IssuedCredential, NonceResponse,
    PreAuthorizedCodeGrant, ProofTimePolicy, Proofs, TokenRequest, TokenResponse, TxCode,
    create_proof, verify_proof,
};
use credential_formats::sd_jwt_vc::SdJwtVcBuilder;
use credential_formats::status_list::StatusReference;
use credential_formats::{Error, MessageError, TrustListError};
use std::collections::BTreeSet;

const BATCH: usize = 3;
const TX_CODE: &str = "493536";

/// The issuer's Token Endpoint: the Pre-Authorized Code and Transaction Code must match an
/// offer it made; each code is good once.
fn token_endpoint(world: &mut World, body: &str) -> Result<String, Error> {
    let TokenRequest::PreAuthorizedCode {
        pre_authorized_code,
        tx_code,
        ..
    } = TokenRequest::parse_form(body)?
    else {
        return Err(MessageError::UnsupportedGrantType.into());
    };
    let offered = &mut world.issuer.pre_authorized;
    let at = offered
        .iter()
        .position(|(code, tx)| *code == pre_authorized_code && Some(tx) == tx_code.as_ref())
        .ok_or(MessageError::InvalidGrant)?;
    offered.remove(at);
    let access_token = credential_formats::crypto::random_token(32)?;
    Ok(TokenResponse::new(access_token, "Bearer", Some(300), None)?.to_json())
}

/// The issuer's Credential Endpoint: every key proof verified (signature, `typ`, `aud`,
/// `iat`) and carrying a `c_nonce` the Nonce Endpoint handed out, which is then used up; one
/// person attestation per proof, each with its own salts and a random status index.
fn credential_endpoint(world: &mut World, body: &str) -> Result<String, Error> {
    let request = CredentialRequest::parse(body.as_bytes())?;
    let CredentialRequestTarget::CredentialConfigurationId(id) = request.target() else {
        return Err(MessageError::InvalidParameter("credential_identifier").into());
    };
    let credential_type = CredentialType::ALL
        .into_iter()
        .find(|t| t.configuration_id() == id)
        .ok_or(MessageError::InvalidParameter(
            "credential_configuration_id",
        ))?;
    let Some(Proofs::Jwt(proofs)) = request.proofs() else {
        return Err(MessageError::MissingParameter("proofs").into());
    };
    let issuer = &mut world.issuer;
    let mut keys = Vec::new();
    for proof in proofs {
        let verified = verify_proof(
            provider(),
            proof,
            ISSUER_ID,
            NOW,
            ProofTimePolicy::default(),
        )?;
        verified.check_nonce(|nonce| issuer.nonces.iter().any(|n| n == nonce))?;
        keys.push(verified);
    }
    // All proofs of one request answer the same c_nonce (§8.2); it is now spent.
    for key in &keys {
        issuer.consume_nonce(&key.nonce);
    }
    let claims = person_claims();
    let signer = issuer.signer();
    let mut credentials = Vec::new();
    for key in keys {
        let index = issuer.allocator.allocate()?;
        let mut builder = SdJwtVcBuilder::new(ISSUER_ID, credential_type.vct())
            .kid(ISSUER_KID)
            .issued_at(NOW)
            .expires_at(NOW + YEAR)
            .holder_key(key.jwk)
            .status(StatusReference::new(u64::from(index), STATUS_URI)?);
        for (name, value) in &claims {
            builder = builder
                .claim(name.clone(), value.clone())?
                .disclosable(path(name))?;
        }
        credentials.push(IssuedCredential {
            credential: builder.issue(&*signer)?.serialize(),
        });
    }
    Ok(CredentialResponse::Immediate {
        credentials,
        notification_id: None,
    }
    .to_json())
}

/// The issuer's offer as a QR code: a Pre-Authorized Code (remembered with its Transaction
/// Code, sent out of band) for one person attestation.
fn offer(world: &mut World) -> String {
    let code = credential_formats::crypto::random_token(16).unwrap();
    world
        .issuer
        .pre_authorized
        .push((code.clone(), TX_CODE.to_owned()));
    let tx_code = TxCode::new(
        Some(InputMode::Numeric),
        Some(6),
        Some("The code in the letter".into()),
    )
    .unwrap();
    let grants = Grants {
        authorization_code: None,
        pre_authorized_code: Some(PreAuthorizedCodeGrant::new(code, Some(tx_code), None).unwrap()),
    };
    let offer = CredentialOffer::new(
        ISSUER_ID,
        vec![CredentialType::PersonAttestation.configuration_id().into()],
        Some(grants),
    )
    .unwrap();
    CredentialOfferUri::ByValue(offer).to_uri()
}

/// Runs the whole issuance; returns what the wallet stored.
pub(crate) fn issue_batch(world: &mut World) -> Vec<Held> {
    // Wallet: scan the offer.
    let uri = offer(world);
    let CredentialOfferUri::ByValue(offer) = CredentialOfferUri::parse(&uri).unwrap() else {
        panic!("offer by value expected");
    };
    assert_eq!(offer.credential_issuer(), ISSUER_ID);
    let grant = offer
        .grants()
        .and_then(|g| g.pre_authorized_code.clone())
        .unwrap();
    let tx_code = grant.tx_code().unwrap();
    assert_eq!(tx_code.length(), Some(6));

    // Token Request with the code the person typed.
    let body = TokenRequest::PreAuthorizedCode {
        pre_authorized_code: grant.pre_authorized_code().to_owned(),
        tx_code: Some(TX_CODE.to_owned()),
        client_id: None,
    }
    .to_form();
    let token = TokenResponse::parse(token_endpoint(world, &body).unwrap().as_bytes()).unwrap();
    assert_eq!(token.token_type(), "Bearer");
    // The code is good once (SECURITY-CATALOGUE I4).
    let replay = token_endpoint(world, &body).unwrap_err();
    assert_eq!(replay, Error::Message(MessageError::InvalidGrant));
    assert_eq!(replay.error_code(Endpoint::Token), "invalid_grant");

    // Nonce Endpoint.
    let nonce = NonceResponse::new(world.issuer.fresh_nonce())
        .unwrap()
        .to_json();
    let c_nonce = NonceResponse::parse(nonce.as_bytes())
        .unwrap()
        .c_nonce()
        .to_owned();

    // A batch of key proofs from fresh holder keys.
    let holders: Vec<_> = (0..BATCH).map(|_| es256()).collect();
    let proofs = holders
        .iter()
        .map(|key| create_proof(&*signer(key), ISSUER_ID, &c_nonce, NOW, None).unwrap())
        .collect();
    let request = CredentialRequest::new(
        CredentialRequestTarget::CredentialConfigurationId(
            offer.credential_configuration_ids()[0].clone(),
        ),
        Some(Proofs::Jwt(proofs)),
        None,
    )
    .unwrap()
    .to_json();
    let response = credential_endpoint(world, &request).unwrap();

    // The same proofs again: the c_nonce is spent (SECURITY-CATALOGUE I1).
    let replay = credential_endpoint(world, &request).unwrap_err();
    assert_eq!(replay, Error::Message(MessageError::InvalidNonce));
    assert_eq!(replay.error_code(Endpoint::Credential), "invalid_nonce");

    // Wallet: check every credential against the trust list and its own key.
    let CredentialResponse::Immediate { credentials, .. } =
        CredentialResponse::parse(response.as_bytes()).unwrap()
    else {
        panic!("immediate issuance expected");
    };
    assert_eq!(credentials.len(), BATCH);
    credentials
        .iter()
        .zip(holders)
        .map(|(issued, holder)| {
            Held::accept(&issued.credential, holder, &world.trust_list).unwrap()
        })
        .collect()
}

#[test]
fn openid4vci_pre_authorized_batch_issuance_is_unlinkable() {
    let mut world = World::new();
    let held = issue_batch(&mut world);
    // SECURITY-CATALOGUE I6: nothing repeats across the batch but the claims themselves.
    let salts: Vec<&str> = held
        .iter()
        .flat_map(|h| h.sd_jwt.disclosures().iter().map(|d| d.salt()))
        .collect();
    assert_eq!(salts.len(), BATCH * 5);
    assert_eq!(salts.iter().collect::<BTreeSet<_>>().len(), salts.len());
    let cnf: BTreeSet<String> = held
        .iter()
        .map(|h| credential_formats::jose::Jwk::new(h.holder.public_key()).thumbprint())
        .collect();
    assert_eq!(cnf.len(), BATCH);
    let indices: BTreeSet<u64> = held.iter().map(|h| h.status.idx()).collect();
    assert_eq!(indices.len(), BATCH);
    // Same person in every credential.
    assert!(
        held.iter()
            .all(|h| h.claims["person_handle"] == held[0].claims["person_handle"])
    );
}

#[test]
fn openid4vci_key_proof_for_another_issuer_is_invalid_proof() {
    let mut world = World::new();
    let c_nonce = world.issuer.fresh_nonce();
    let proof = create_proof(
        &*signer(&es256()),
        "https://evil.example",
        &c_nonce,
        NOW,
        None,
    )
    .unwrap();
    let request = CredentialRequest::new(
        CredentialRequestTarget::CredentialConfigurationId(
            CredentialType::PersonAttestation.configuration_id().into(),
        ),
        Some(Proofs::Jwt(vec![proof])),
        None,
    )
    .unwrap()
    .to_json();
    let err = credential_endpoint(&mut world, &request).unwrap_err();
    assert_eq!(err, Error::Message(MessageError::WrongAudience));
    assert_eq!(err.error_code(Endpoint::Credential), "invalid_proof");
}

#[test]
fn sd_jwt_vc_issuer_not_in_trust_list_for_vct_is_refused() {
    let world = World::new();
    let holder = es256();
    // The State issuer is listed for person attestations and PIDs, not qualifications.
    let mut builder = SdJwtVcBuilder::new(ISSUER_ID, CredentialType::Qualification.vct())
        .kid(ISSUER_KID)
        .issued_at(NOW)
        .expires_at(NOW + YEAR)
        .holder_key(credential_formats::jose::Jwk::new(holder.public_key()))
        .status(StatusReference::new(1, STATUS_URI).unwrap());
    for (name, value) in person_claims() {
        builder = builder.claim(name, value).unwrap();
    }
    let credential = builder.issue(&*world.issuer.signer()).unwrap().serialize();
    assert_eq!(
        Held::accept(&credential, holder, &world.trust_list).unwrap_err(),
        Error::TrustList(TrustListError::VctNotAllowed)
    );
}
