#![doc = include_str!("../README.md")]

pub mod audit;
pub mod case;
pub mod client;
mod error;
pub mod escrow;
pub mod files;
pub mod judge;
pub mod sealing;
pub mod trust;
pub mod vss;

pub use error::{Error, Refusal, Result, ShareProblem};
