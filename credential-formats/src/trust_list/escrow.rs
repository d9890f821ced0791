//! The court's escrow public key: an X25519 key for HPKE (RFC 9180), written in the trust
//! list as an OKP JWK with `crv: X25519` (RFC 8037 §2). [`crate::jose::Jwk`] holds signing
//! keys only, so this small type carries it.

use super::TrustListError;
use serde_json::{Map, Value};

/// An X25519 public key for sealing escrow records to the court.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EscrowKey {
    x: [u8; 32],
    kid: Option<String>,
}

impl std::fmt::Debug for EscrowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EscrowKey(X25519, kid={:?})", self.kid)
    }
}

impl EscrowKey {
    /// An escrow key from its 32-byte public value (RFC 7748 encoding). The all-zero value is
    /// refused: it is a low-order point whose shared secret is zero (HPKE implementations
    /// must also refuse that, RFC 9180 §7.1.4; this catches a blanked key early).
    pub fn new(x: [u8; 32], kid: Option<String>) -> Result<EscrowKey, TrustListError> {
        if x == [0u8; 32] {
            return Err(TrustListError::InvalidEscrowKey);
        }
        Ok(EscrowKey { x, kid })
    }

    /// The 32-byte X25519 public key.
    pub fn public_bytes(&self) -> &[u8; 32] {
        &self.x
    }

    /// `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Reads `{"kty": "OKP", "crv": "X25519", "x": …}`. `kid` is kept; `use` and `alg` are
    /// allowed; a private `d` is refused; other members are ignored (RFC 7517 §4).
    pub fn from_jwk(value: &Value) -> Result<EscrowKey, TrustListError> {
        let object = value.as_object().ok_or(TrustListError::InvalidEscrowKey)?;
        if object.contains_key("d") {
            return Err(TrustListError::InvalidEscrowKey);
        }
        let text = |name: &str| object.get(name).and_then(Value::as_str);
        if text("kty") != Some("OKP") || text("crv") != Some("X25519") {
            return Err(TrustListError::InvalidEscrowKey);
        }
        let x = text("x")
            .and_then(crate::b64::decode)
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or(TrustListError::InvalidEscrowKey)?;
        let kid = match object.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(TrustListError::InvalidEscrowKey),
        };
        EscrowKey::new(x, kid)
    }

    /// The key as an OKP JWK.
    pub fn to_jwk(&self) -> Value {
        let mut object = Map::new();
        object.insert("kty".into(), Value::from("OKP"));
        object.insert("crv".into(), Value::from("X25519"));
        object.insert("x".into(), Value::from(crate::b64::encode(self.x)));
        if let Some(kid) = &self.kid {
            object.insert("kid".into(), Value::from(kid.clone()));
        }
        Value::Object(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc8037_okp_x25519_jwk_round_trips() {
        // The X25519 public key of RFC 8037 Appendix A.6 (Bob's key of RFC 7748 §6.1).
        let jwk = json!({"kty": "OKP", "crv": "X25519", "kid": "court-2026",
                         "x": "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"});
        let key = EscrowKey::from_jwk(&jwk).unwrap();
        assert_eq!(key.public_bytes()[0], 0xde);
        assert_eq!(key.kid(), Some("court-2026"));
        assert_eq!(key.to_jwk(), jwk);
    }

    #[test]
    fn non_x25519_or_private_or_zero_keys_are_refused() {
        let x = "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08";
        for jwk in [
            json!({"kty": "OKP", "crv": "Ed25519", "x": x}),
            json!({"kty": "EC", "crv": "X25519", "x": x}),
            json!({"kty": "OKP", "crv": "X25519"}),
            json!({"kty": "OKP", "crv": "X25519", "x": "AAEC"}),
            json!({"kty": "OKP", "crv": "X25519", "x": x, "d": x}),
            json!({"kty": "OKP", "crv": "X25519", "x": x, "kid": 5}),
            json!({"kty": "OKP", "crv": "X25519", "x": crate::b64::encode([0u8; 32])}),
            json!("key"),
        ] {
            assert_eq!(
                EscrowKey::from_jwk(&jwk),
                Err(TrustListError::InvalidEscrowKey),
                "{jwk}"
            );
        }
    }
}
