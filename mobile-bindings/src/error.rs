//! The one error the apps see.

use thiserror::Error;

/// Why a wallet call failed, in families an app can act on.
///
/// Messages name what went wrong, never a claim value, a credential, a key, a code or an
/// id: they may reach logs and crash reports. The `reason`s come from `wallet-core`'s own
/// (value-free) messages.
#[derive(Debug, Error, uniffi::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// The storage key does not open this wallet's store. Nothing was modified: try the
    /// right key, or start a new wallet.
    #[error("the storage key does not open this wallet")]
    WrongKey,
    /// The issuer, verifier or trust list is not trusted: show a warning, never proceed.
    #[error("not trusted: {reason}")]
    Untrusted {
        /// What was not trusted.
        reason: String,
    },
    /// The server refused, with this OAuth error code: `invalid_grant` after a wrong
    /// transaction code (receive the offer again and ask for the code again), …
    #[error("refused by the server: {code}")]
    Refused {
        /// The OAuth / OpenID4VC error code (`invalid_grant`, `access_denied`, …).
        code: String,
    },
    /// No connection, a timeout, an untrusted certificate: try again later.
    #[error("network: {reason}")]
    Network {
        /// What failed, naming the host at most.
        reason: String,
    },
    /// Nothing in the wallet answers the presentation request. The verifier was told no
    /// more than for a refusal.
    #[error("no stored credential answers the request")]
    NothingToPresent,
    /// This offer or request was already accepted or declined: each is answered once.
    #[error("this offer or request was already answered")]
    AlreadyAnswered,
    /// A link or a counterparty's message did not pass the checks (signature, structure,
    /// validity), or a counterparty broke the protocol.
    #[error("invalid: {reason}")]
    Invalid {
        /// Which check failed.
        reason: String,
    },
    /// The app passed something unusable: a storage key that is not 32 bytes, an anchor
    /// that is not a public JWK, a public key that is not a P-256 point.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What was wrong with it.
        reason: String,
    },
    /// The wallet's store failed: the disk is full, the file is damaged or was written by
    /// a newer wallet.
    #[error("storage: {reason}")]
    Storage {
        /// SQLite's or the store's description, without data.
        reason: String,
    },
    /// The key store failed to make, find or use a holder key.
    #[error("key store: {reason}")]
    KeyStore {
        /// What failed.
        reason: String,
    },
    /// A bug, or the system failed (no randomness, a task lost).
    #[error("internal error: {reason}")]
    Internal {
        /// What failed.
        reason: String,
    },
}

impl WalletError {
    pub(crate) fn internal(reason: &str) -> WalletError {
        WalletError::Internal {
            reason: reason.to_owned(),
        }
    }

    pub(crate) fn input(reason: &str) -> WalletError {
        WalletError::InvalidInput {
            reason: reason.to_owned(),
        }
    }
}

impl From<wallet_core::Error> for WalletError {
    fn from(e: wallet_core::Error) -> WalletError {
        use wallet_core::Error as E;
        // wallet-core's messages carry no personal data (its Architecture Invariant), so
        // they are passed on: the inner message where the variant already names the
        // family, the whole message where several of the core's variants meet.
        match e {
            E::WrongKey => WalletError::WrongKey,
            E::Untrusted(reason) => WalletError::Untrusted {
                reason: reason.to_owned(),
            },
            E::Refused(code) => WalletError::Refused { code },
            E::Transport(reason) => WalletError::Network { reason },
            E::NothingToPresent => WalletError::NothingToPresent,
            E::Protocol(reason) => WalletError::Invalid {
                reason: reason.to_owned(),
            },
            E::Invalid(e) => WalletError::Invalid {
                reason: e.to_string(),
            },
            E::Crypto(reason) => WalletError::KeyStore {
                reason: reason.to_owned(),
            },
            e @ (E::Full
            | E::Storage(_)
            | E::Corrupt(_)
            | E::TooNew(_)
            | E::NotFound
            | E::AlreadyExists) => WalletError::Storage {
                reason: e.to_string(),
            },
            e => WalletError::Internal {
                reason: e.to_string(),
            },
        }
    }
}

// What a foreign callback (key store, storage key, transport) threw that was not a
// `WalletError`. Its message is the app's and is not passed on.
impl From<uniffi::UnexpectedUniFFICallbackError> for WalletError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> WalletError {
        WalletError::internal("an app callback failed unexpectedly")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_core::Error as E;

    #[test]
    fn each_core_error_lands_in_the_family_an_app_acts_on() {
        let cases = [
            (E::WrongKey, "WrongKey"),
            (
                E::Untrusted("the issuer is not in the trust list"),
                "Untrusted",
            ),
            (E::Refused("invalid_grant".into()), "Refused"),
            (E::Transport("localhost:1: timed out".into()), "Network"),
            (E::NothingToPresent, "NothingToPresent"),
            (E::Protocol("deferred issuance is not supported"), "Invalid"),
            (
                E::Invalid(credential_formats::Error::from(
                    credential_formats::JoseError::SigningFailed,
                )),
                "Invalid",
            ),
            (E::Full, "Storage"),
            (E::Corrupt("a credential record is malformed"), "Storage"),
            (E::TooNew(9), "Storage"),
            (E::NotFound, "Storage"),
            (E::Crypto("signing failed"), "KeyStore"),
            (E::RandomUnavailable, "Internal"),
        ];
        for (core, family) in cases {
            let mapped = WalletError::from(core.clone());
            let name = format!("{mapped:?}");
            assert!(name.starts_with(family), "{core:?} became {name}");
        }
        let WalletError::Refused { code } = WalletError::from(E::Refused("invalid_grant".into()))
        else {
            panic!("refused")
        };
        assert_eq!(code, "invalid_grant");
        // The family is named once, not twice ("network: network: …").
        assert_eq!(
            WalletError::from(E::Transport("localhost:1: timed out".into())).to_string(),
            "network: localhost:1: timed out"
        );
    }
}
