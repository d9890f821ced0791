//! `[[entity]]` tables for the trust-list authority's TOML description (the format
//! `issuer trust-list sign` reads, `spec/trust-list.md`): the court hands these over with
//! its public keys; the authority adds validity and signs.

use crate::error::{Error, Result};
use credential_formats::jose::Jwk;
use credential_formats::trust_list::EscrowKey;
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
struct Description {
    entity: Vec<Entity>,
}

#[derive(Serialize)]
struct Entity {
    id: String,
    name: String,
    roles: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    escrow_key: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    keys: Vec<Value>,
}

fn to_toml(entity: Entity) -> Result<String> {
    toml::to_string(&Description {
        entity: vec![entity],
    })
    .map_err(|_| Error::Crypto("writing the TOML entity"))
}

/// The judge `id` with the role `court_judge` and its public key.
pub fn judge_entity(id: &str, name: &str, key: &Jwk) -> Result<String> {
    to_toml(Entity {
        id: id.to_owned(),
        name: name.to_owned(),
        roles: vec!["court_judge"],
        escrow_key: None,
        keys: vec![key.to_value()],
    })
}

/// The court `id` with the role `court_escrow` and its escrow public key.
pub fn escrow_entity(id: &str, name: &str, key: &EscrowKey) -> Result<String> {
    to_toml(Entity {
        id: id.to_owned(),
        name: name.to_owned(),
        roles: vec!["court_escrow"],
        escrow_key: Some(key.to_jwk()),
        keys: Vec::new(),
    })
}
