//! The issuer service over real HTTP (TLS on loopback) against SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod admin;
mod credential;
mod flow;
mod harness;
mod notices;
mod postgres;
mod privacy;
mod provider;
mod token;
