//! The State issuer.
