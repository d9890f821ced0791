//! Bearer secrets (admin tokens, API keys): compared in constant time.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::ApiError;

/// A bearer secret a request must present in `Authorization: Bearer …`.
#[derive(Clone)]
pub struct BearerSecret {
    // Only the digest is kept: comparing digests in constant time hides both the content
    // and the length of the secret from timing.
    digest: [u8; 32],
}

impl std::fmt::Debug for BearerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerSecret(..)")
    }
}

impl BearerSecret {
    /// The secret to expect.
    pub fn new(secret: &str) -> BearerSecret {
        BearerSecret {
            digest: Sha256::digest(secret.as_bytes()).into(),
        }
    }

    /// Does `presented` match?
    pub fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        bool::from(digest.ct_eq(&self.digest))
    }

    /// Checks the request's `Authorization` header (RFC 6750 §3): `401` with a bare
    /// `Bearer` challenge when there is none, `401 invalid_token` when it is wrong.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        match bearer_token(headers) {
            Some(token) if self.matches(&token) => Ok(()),
            Some(_) => Err(ApiError::unauthorized()),
            None if headers.contains_key(AUTHORIZATION) => Err(ApiError::unauthorized()),
            None => Err(ApiError::authentication_required()),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), if well formed.
pub fn bearer_token(headers: &HeaderMap) -> Option<Zeroizing<String>> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return None;
    }
    Some(Zeroizing::new(token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn only_the_right_bearer_token_passes() {
        let secret = BearerSecret::new("s3cret-admin-token");
        assert!(secret.check(&headers("Bearer s3cret-admin-token")).is_ok());
        assert!(secret.check(&headers("bearer s3cret-admin-token")).is_ok());
        assert!(secret.check(&headers("Bearer s3cret-admin-toke")).is_err());
        assert!(secret.check(&headers("Basic s3cret-admin-token")).is_err());
        assert!(
            secret
                .check(&headers("Bearer  s3cret-admin-token"))
                .is_err()
        );
        let missing = secret.check(&HeaderMap::new()).unwrap_err();
        assert_eq!(missing.status(), axum::http::StatusCode::UNAUTHORIZED);
        assert_eq!(missing.error(), "invalid_request");
        assert_eq!(format!("{secret:?}"), "BearerSecret(..)");
    }
}
