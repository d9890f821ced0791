//! Issuing an SD-JWT VC on top of [`SdJwtBuilder`].

use super::{NON_DISCLOSABLE_CLAIMS, SdJwtVcError, TYP};
use crate::claims_path::{ClaimsPath, PathElement};
use crate::crypto::Signer;
use crate::jose::{Jwk, JwsHeader};
use crate::sd_jwt::{SdJwt, SdJwtBuilder};
use crate::status_list::StatusReference;
use crate::time::UnixTime;
use serde_json::{Map, Value};
use std::fmt;

/// Builds an SD-JWT VC: `typ: dc+sd-jwt`, `iss` and `vct` required, the profile's claims
/// always in the clear.
#[derive(Clone)]
pub struct SdJwtVcBuilder {
    issuer: String,
    vct: String,
    vct_integrity: Option<String>,
    issued_at: Option<UnixTime>,
    not_before: Option<UnixTime>,
    expires_at: Option<UnixTime>,
    subject: Option<String>,
    status: Option<StatusReference>,
    holder_key: Option<Jwk>,
    kid: Option<String>,
    x5c: Option<Vec<String>>,
    claims: Map<String, Value>,
    disclosable: Vec<ClaimsPath>,
    decoys: usize,
}

impl SdJwtVcBuilder {
    /// A credential of type `vct` from `issuer` (its `iss`).
    pub fn new(issuer: impl Into<String>, vct: impl Into<String>) -> SdJwtVcBuilder {
        SdJwtVcBuilder {
            issuer: issuer.into(),
            vct: vct.into(),
            vct_integrity: None,
            issued_at: None,
            not_before: None,
            expires_at: None,
            subject: None,
            status: None,
            holder_key: None,
            kid: None,
            x5c: None,
            claims: Map::new(),
            disclosable: Vec::new(),
            decoys: 0,
        }
    }

    /// Sets `iat`.
    #[must_use]
    pub fn issued_at(mut self, time: UnixTime) -> SdJwtVcBuilder {
        self.issued_at = Some(time);
        self
    }

    /// Sets `nbf`.
    #[must_use]
    pub fn not_before(mut self, time: UnixTime) -> SdJwtVcBuilder {
        self.not_before = Some(time);
        self
    }

    /// Sets `exp`.
    #[must_use]
    pub fn expires_at(mut self, time: UnixTime) -> SdJwtVcBuilder {
        self.expires_at = Some(time);
        self
    }

    /// Sets `sub` (in the clear unless made disclosable).
    #[must_use]
    pub fn subject(mut self, sub: impl Into<String>) -> SdJwtVcBuilder {
        self.subject = Some(sub.into());
        self
    }

    /// Sets `vct#integrity` (draft-13 §3.2.2.2).
    #[must_use]
    pub fn vct_integrity(mut self, integrity: impl Into<String>) -> SdJwtVcBuilder {
        self.vct_integrity = Some(integrity.into());
        self
    }

    /// Sets `status: {"status_list": {"idx": …, "uri": …}}`.
    #[must_use]
    pub fn status(mut self, status: StatusReference) -> SdJwtVcBuilder {
        self.status = Some(status);
        self
    }

    /// Binds the credential to the holder's key (`cnf.jwk`).
    #[must_use]
    pub fn holder_key(mut self, jwk: Jwk) -> SdJwtVcBuilder {
        self.holder_key = Some(jwk);
        self
    }

    /// Sets the `kid` header.
    #[must_use]
    pub fn kid(mut self, kid: impl Into<String>) -> SdJwtVcBuilder {
        self.kid = Some(kid.into());
        self
    }

    /// Sets the `x5c` header (base64 DER certificates, leaf first).
    #[must_use]
    pub fn x5c(mut self, chain: Vec<String>) -> SdJwtVcBuilder {
        self.x5c = Some(chain);
        self
    }

    /// Adds a claim about the subject. The profile's own claims (`iss`, `vct`, …, `sub`) are
    /// refused with [`SdJwtVcError::ManagedClaim`]: use their methods.
    pub fn claim(
        mut self,
        name: impl Into<String>,
        value: Value,
    ) -> Result<SdJwtVcBuilder, SdJwtVcError> {
        let name = name.into();
        if let Some(managed) = NON_DISCLOSABLE_CLAIMS
            .iter()
            .chain(&["sub"])
            .find(|managed| **managed == name)
        {
            return Err(SdJwtVcError::ManagedClaim(managed));
        }
        self.claims.insert(name, value);
        Ok(self)
    }

    /// Makes the claim at `path` selectively disclosable; the profile's in-the-clear claims
    /// are refused with [`SdJwtVcError::NotDisclosable`].
    pub fn disclosable(mut self, path: ClaimsPath) -> Result<SdJwtVcBuilder, SdJwtVcError> {
        check_disclosable(&path)?;
        if !self.disclosable.contains(&path) {
            self.disclosable.push(path);
        }
        Ok(self)
    }

    /// Adds `count` decoy digests to every `_sd` array.
    #[must_use]
    pub fn decoys(mut self, count: usize) -> SdJwtVcBuilder {
        self.decoys = count;
        self
    }

    /// Issues with fresh random salts.
    pub fn issue(&self, signer: &dyn Signer) -> crate::Result<SdJwt> {
        Ok(self.sd_jwt_builder()?.issue(signer)?)
    }

    /// Issues with caller-given salts (tests only; see [`SdJwtBuilder::issue_with_salts`]).
    pub fn issue_with_salts<I>(&self, signer: &dyn Signer, salts: I) -> crate::Result<SdJwt>
    where
        I: IntoIterator<Item = String>,
    {
        Ok(self.sd_jwt_builder()?.issue_with_salts(signer, salts)?)
    }

    fn sd_jwt_builder(&self) -> Result<SdJwtBuilder, SdJwtVcError> {
        let mut claims = Map::new();
        claims.insert("iss".into(), Value::from(self.issuer.clone()));
        if let Some(iat) = self.issued_at {
            claims.insert("iat".into(), Value::from(iat));
        }
        if let Some(nbf) = self.not_before {
            claims.insert("nbf".into(), Value::from(nbf));
        }
        if let Some(exp) = self.expires_at {
            claims.insert("exp".into(), Value::from(exp));
        }
        claims.insert("vct".into(), Value::from(self.vct.clone()));
        if let Some(integrity) = &self.vct_integrity {
            claims.insert("vct#integrity".into(), Value::from(integrity.clone()));
        }
        if let Some(sub) = &self.subject {
            claims.insert("sub".into(), Value::from(sub.clone()));
        }
        if let Some(status) = &self.status {
            claims.insert("status".into(), status.to_status_claim());
        }
        for (name, value) in &self.claims {
            claims.insert(name.clone(), value.clone());
        }
        let mut header = JwsHeader::new(TYP);
        if let Some(kid) = &self.kid {
            header = header.with_kid(kid.clone());
        }
        if let Some(x5c) = &self.x5c {
            header = header.with_x5c(x5c.clone());
        }
        let mut builder = SdJwtBuilder::new(claims, header).decoys(self.decoys);
        for path in &self.disclosable {
            check_disclosable(path)?;
            builder = builder.disclosable(path.clone());
        }
        if let Some(jwk) = &self.holder_key {
            builder = builder.holder_key(jwk.clone());
        }
        Ok(builder)
    }
}

impl fmt::Debug for SdJwtVcBuilder {
    // Claims are personal data: show the shape only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdJwtVcBuilder")
            .field("vct", &self.vct)
            .field("claims", &self.claims.len())
            .field("disclosable", &self.disclosable.len())
            .finish_non_exhaustive()
    }
}

fn check_disclosable(path: &ClaimsPath) -> Result<(), SdJwtVcError> {
    if let Some(PathElement::Key(name)) = path.elements().first()
        && let Some(claim) = NON_DISCLOSABLE_CLAIMS.iter().find(|claim| **claim == name)
    {
        // The claim itself, or anything inside it (`cnf.jwk`, `status.status_list`).
        return Err(SdJwtVcError::NotDisclosable(claim));
    }
    Ok(())
}
