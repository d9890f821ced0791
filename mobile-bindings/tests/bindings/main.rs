//! The bindings as the apps use them, against the real issuer and the test verifier over
//! TLS on loopback: the Rust API of the binding layer directly (`rust_api`), and — with the
//! `cli` feature that builds the pinned bindgen — Python and Kotlin programs driving the
//! generated bindings over the cdylib cargo built (`foreign`), and the committed Kotlin and
//! Swift sources checked against what this build generates (`generated`).
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

// The test verifier of wallet-core's presentation tests, until the verifier service exists.
// Shared test support: not every user needs every item.
#[allow(dead_code)]
#[path = "../../../wallet-core/tests/presentation/verifier.rs"]
mod verifier;

mod support;

mod rust_api;

#[cfg(feature = "cli")]
mod bindgen;
#[cfg(feature = "cli")]
mod foreign;
#[cfg(feature = "cli")]
mod generated;
