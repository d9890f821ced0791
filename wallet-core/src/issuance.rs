//! The holder side of OpenID4VCI 1.0 (pre-authorized code flow), as a typestate:
//! [`OfferSession`] (offer resolved, issuer checked against the trust list, shown to the
//! person) → [`OfferSession::accept`] with the `tx_code` the person types → credentials
//! verified and stored. Each step consumes the previous one, so an out-of-order call does not
//! compile.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use credential_formats::credentials::CredentialType;
use credential_formats::crypto::RustCrypto;
use credential_formats::oid4vci::{
    AuthorizationServerMetadata, CredentialIssuerMetadata, CredentialOffer, CredentialOfferUri,
    CredentialRequest, CredentialRequestTarget, CredentialResponse, NonceResponse, Proofs,
    TokenRequest, TokenResponse, TxCode, create_proof,
};
use credential_formats::sd_jwt::{KeyBindingPolicy, SdJwt};
use credential_formats::sd_jwt_vc::{self, VcVerification};
use credential_formats::time::FixedClock;
use credential_formats::trust_list::{Role, TrustList};

use crate::Error;
use crate::keys::{AliasSigner, KeyStore};
use crate::store::NewCredential;
use crate::transport::HttpRequest;
use crate::wallet::Wallet;

/// Largest number of single-use copies asked for in one request.
pub const DEFAULT_COPIES: u32 = 10;

/// What the person sees before accepting an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferSummary {
    /// The issuer's name, from the trust list (not from the offer or its metadata).
    pub issuer_name: String,
    /// The Credential Issuer Identifier.
    pub issuer: String,
    /// The credential types offered, with their English, French and Dutch names.
    pub credentials: Vec<(String, [String; 3])>,
    /// Whether a transaction code is asked for, and its length if known.
    pub tx_code: Option<(Option<u32>, Option<String>)>,
}

/// An offer resolved and checked, waiting for the person's decision.
#[derive(Debug)]
pub struct OfferSession<'w> {
    wallet: &'w Wallet,
    offer: CredentialOffer,
    metadata: CredentialIssuerMetadata,
    token_endpoint: String,
    trust: TrustList,
    summary: OfferSummary,
}

async fn get_json(wallet: &Wallet, url: &str) -> Result<Vec<u8>, Error> {
    let response = wallet
        .send(HttpRequest::get(url).header("Accept", "application/json"))
        .await?;
    if response.status != 200 {
        return Err(Error::Protocol(
            "the issuer did not answer a metadata request",
        ));
    }
    Ok(response.body)
}

/// The `error` of an OAuth-style error body, for the message shown to the person.
pub(crate) fn error_code(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
        .filter(|e| e.len() < 64 && e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or_else(|| "unknown_error".to_owned())
}

impl<'w> OfferSession<'w> {
    /// Resolves an offer link (`openid-credential-offer://?…`): the offer by value or fetched
    /// by reference, the issuer's metadata, the token endpoint; and checks that the trust list
    /// names the issuer.
    pub(crate) async fn resolve(wallet: &'w Wallet, uri: &str) -> Result<OfferSession<'w>, Error> {
        let offer = match CredentialOfferUri::parse(uri)? {
            CredentialOfferUri::ByValue(offer) => offer,
            CredentialOfferUri::ByReference(url) => {
                CredentialOffer::parse(&get_json(wallet, &url).await?)?
            }
        };
        let issuer = offer.credential_issuer().to_owned();
        let metadata = CredentialIssuerMetadata::parse(
            &get_json(
                wallet,
                &format!("{issuer}/.well-known/openid-credential-issuer"),
            )
            .await?,
        )?;
        metadata.check_issuer(&issuer)?;
        let server = match metadata.authorization_servers() {
            None => issuer.clone(),
            Some([one]) => one.clone(),
            Some(_) => {
                return Err(Error::Protocol(
                    "several authorization servers: not supported",
                ));
            }
        };
        let as_metadata = AuthorizationServerMetadata::parse(
            &get_json(
                wallet,
                &format!("{server}/.well-known/oauth-authorization-server"),
            )
            .await?,
        )?;
        if as_metadata.issuer() != server {
            return Err(Error::Protocol(
                "authorization server metadata names another issuer",
            ));
        }
        let trust = wallet.trust_list().await?;
        let entity = trust
            .entity(&issuer)
            .ok_or(Error::Untrusted("the issuer is not in the trust list"))?;
        let allowed = [
            Role::PidIssuer,
            Role::PersonAttestationIssuer,
            Role::TrainingProvider,
        ];
        if !allowed.iter().any(|r| entity.has_role(*r)) {
            return Err(Error::Untrusted(
                "the trust list does not let this entity issue credentials",
            ));
        }
        entity.check_valid_at(wallet.now()).map_err(|_| {
            Error::Untrusted("the issuer's entry in the trust list is not valid now")
        })?;
        let mut credentials = Vec::new();
        for id in offer.credential_configuration_ids() {
            let configuration = metadata
                .credential_configuration(id)
                .ok_or(Error::Protocol(
                    "the offer names a configuration the issuer does not describe",
                ))?;
            if configuration.format() != "dc+sd-jwt" {
                return Err(Error::Protocol("only dc+sd-jwt credentials are accepted"));
            }
            let t = CredentialType::from_vct(configuration.vct())
                .map_err(|_| Error::Protocol("an offered credential type is not one we know"))?;
            credentials.push((t.vct().to_owned(), t.labels().map(str::to_owned)));
        }
        let grant = offer
            .grants()
            .and_then(|g| g.pre_authorized_code.as_ref())
            .ok_or(Error::Protocol("only pre-authorized offers are supported"))?;
        let tx_code = grant
            .tx_code()
            .map(|t: &TxCode| (t.length(), t.description().map(str::to_owned)));
        let summary = OfferSummary {
            issuer_name: entity.name().to_owned(),
            issuer,
            credentials,
            tx_code,
        };
        Ok(OfferSession {
            wallet,
            offer,
            metadata,
            token_endpoint: as_metadata.token_endpoint().to_owned(),
            trust,
            summary,
        })
    }

    /// What to show the person.
    pub fn summary(&self) -> &OfferSummary {
        &self.summary
    }

    /// Redeems the offer with the `tx_code` the person typed, fetches every offered
    /// configuration (single-use types as a batch of fresh keys), verifies each credential
    /// against the trust list, and stores them. Returns the stored credentials' ids. Nothing is
    /// stored unless every credential verifies.
    pub async fn accept(self, tx_code: Option<&str>) -> Result<Vec<String>, Error> {
        let grant = self
            .offer
            .grants()
            .and_then(|g| g.pre_authorized_code.as_ref())
            .ok_or(Error::Protocol("only pre-authorized offers are supported"))?;
        let form = TokenRequest::PreAuthorizedCode {
            pre_authorized_code: grant.pre_authorized_code().to_owned(),
            tx_code: tx_code.map(str::to_owned),
            client_id: None,
        }
        .to_form();
        let response = self
            .wallet
            .send(HttpRequest::post(
                &self.token_endpoint,
                "application/x-www-form-urlencoded",
                form.into_bytes(),
            ))
            .await?;
        if response.status != 200 {
            return Err(Error::Refused(error_code(&response.body)));
        }
        let token = TokenResponse::parse(&response.body)?;
        let mut ids = Vec::new();
        for configuration_id in self.offer.credential_configuration_ids() {
            ids.extend(self.fetch_configuration(&token, configuration_id).await?);
        }
        self.wallet.log_issuance(&self.summary, ids.len())?;
        Ok(ids)
    }

    async fn fetch_configuration(
        &self,
        token: &TokenResponse,
        configuration_id: &str,
    ) -> Result<Vec<String>, Error> {
        let keys = self.wallet.keys();
        let configuration = self
            .metadata
            .credential_configuration(configuration_id)
            .ok_or(Error::Protocol("unknown configuration"))?;
        let t = CredentialType::from_vct(configuration.vct())
            .map_err(|_| Error::Protocol("unknown credential type"))?;
        let copies = if t.single_use() {
            let batch = self
                .metadata
                .batch_credential_issuance()
                .map_or(1, |b| b.batch_size);
            batch.min(self.wallet.copies()).max(1)
        } else {
            1
        };
        // Never send a proof without a server nonce.
        let nonce_endpoint = self
            .metadata
            .nonce_endpoint()
            .ok_or(Error::Protocol("the issuer has no nonce endpoint"))?;
        let response = self
            .wallet
            .send(HttpRequest::post(
                nonce_endpoint,
                "application/json",
                Vec::new(),
            ))
            .await?;
        if response.status != 200 {
            return Err(Error::Protocol("the issuer gave no nonce"));
        }
        let nonce = NonceResponse::parse(&response.body)?;

        let batch_id =
            credential_formats::crypto::random_hex(16).map_err(|_| Error::Crypto("randomness"))?;
        let mut aliases = Vec::new();
        let result = self
            .request_batch(
                token,
                configuration_id,
                t,
                copies,
                nonce.c_nonce(),
                &batch_id,
                &keys,
                &mut aliases,
            )
            .await;
        if result.is_err() {
            // Keys made for credentials that never arrived go again.
            for alias in &aliases {
                let _ = keys.delete(alias);
            }
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn request_batch(
        &self,
        token: &TokenResponse,
        configuration_id: &str,
        t: CredentialType,
        copies: u32,
        c_nonce: &str,
        batch_id: &str,
        keys: &Arc<dyn KeyStore>,
        aliases: &mut Vec<String>,
    ) -> Result<Vec<String>, Error> {
        let issuer = self.offer.credential_issuer();
        let now = self.wallet.now();
        let mut proofs = Vec::new();
        let mut alias_of: HashMap<String, String> = HashMap::new();
        for _ in 0..copies {
            let alias = format!(
                "holder-{}",
                credential_formats::crypto::random_token(16)
                    .map_err(|_| Error::Crypto("randomness"))?
            );
            keys.generate(&alias)?;
            aliases.push(alias.clone());
            let signer = AliasSigner::new(keys.clone(), alias.clone())?;
            proofs.push(create_proof(&signer, issuer, c_nonce, now, None)?);
            let jwk = credential_formats::jose::Jwk::new(
                credential_formats::crypto::Signer::public_key(&signer),
            );
            alias_of.insert(jwk.thumbprint(), alias);
        }
        let request = CredentialRequest::new(
            CredentialRequestTarget::CredentialConfigurationId(configuration_id.to_owned()),
            Some(Proofs::Jwt(proofs)),
            None,
        )?;
        let response = self
            .wallet
            .send(
                HttpRequest::post(
                    self.metadata.credential_endpoint(),
                    "application/json",
                    request.to_json().into_bytes(),
                )
                .header("Authorization", format!("Bearer {}", token.access_token())),
            )
            .await?;
        if response.status != 200 {
            return Err(Error::Refused(error_code(&response.body)));
        }
        let CredentialResponse::Immediate { credentials, .. } =
            CredentialResponse::parse(&response.body)?
        else {
            return Err(Error::Protocol("deferred issuance is not supported"));
        };
        if credentials.len() != copies as usize {
            return Err(Error::Protocol(
                "the issuer sent another number of credentials than asked",
            ));
        }
        let clock = FixedClock(now);
        let mut batch = Vec::with_capacity(credentials.len());
        for issued in credentials {
            let sd = SdJwt::parse(&issued.credential)?;
            // Find the issuer key the trust list gives for the header's kid.
            let header = credential_formats::jose::DecodedJws::decode(sd.issuer_jwt())?;
            let kid = header
                .header()
                .kid()
                .ok_or(Error::Untrusted("the credential names no key"))?
                .to_owned();
            let key = self
                .trust
                .resolve_key(issuer, &kid)
                .map_err(|_| Error::Untrusted("the credential's key is not in the trust list"))?
                .clone();
            let verified = sd_jwt_vc::verify(
                &sd,
                &key,
                &RustCrypto,
                &VcVerification::new(KeyBindingPolicy::NotRequired, &clock)
                    .with_expected_vct(t.vct()),
            )?;
            if verified.iss() != issuer {
                return Err(Error::Untrusted(
                    "the credential's issuer is not the offer's",
                ));
            }
            let allowed = if t == CredentialType::Qualification {
                let course = verified
                    .claims()
                    .get("course_reference")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.trust
                    .qualification_issuer(&key, t.vct(), course, now)
                    .is_ok()
            } else {
                self.trust.issuer_for_vct(&key, t.vct(), now).is_ok()
            };
            if !allowed {
                return Err(Error::Untrusted(
                    "the trust list does not let this issuer issue this credential",
                ));
            }
            let holder = verified
                .cnf_jwk()
                .ok_or(Error::Protocol("the credential is not bound to a key"))?;
            let alias = alias_of
                .remove(&holder.thumbprint())
                .ok_or(Error::Protocol(
                    "a credential is bound to a key we did not send",
                ))?;
            batch.push(NewCredential {
                batch_id: batch_id.to_owned(),
                vct: t.vct().to_owned(),
                issuer: issuer.to_owned(),
                compact: issued.credential.clone(),
                key_alias: alias,
                claims: verified.claims().clone(),
                issued_at: verified.iat(),
                expires_at: verified.exp(),
                single_use: t.single_use(),
                status: verified
                    .status_reference()
                    .map(|s| (s.uri().to_owned(), s.idx())),
            });
        }
        self.wallet.save_batch(&batch)
    }
}
